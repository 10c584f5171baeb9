//! Formatting one integer, float, complex, string or pointer under a verb
//! and the printer's flags, width and precision (Go's `fmt/format.go`).

use super::Printer;
use crate::value::Value;
use ::gofmt::{can_backquote, format_float, is_print, quote_rune, quote_with};

impl Printer {
    pub(super) fn fmt_pointer(&mut self, v: &Value, addr: usize, verb: char) {
        match verb {
            'v' | 'p' => {
                let s = format!("0x{addr:x}");
                self.pad(&s);
            }
            'b' | 'o' | 'd' | 'x' | 'X' => self.fmt_integer(v, addr as u64, false, verb),
            _ => self.bad_verb(v, verb),
        }
    }

    pub(super) fn fmt_s(&mut self, s: &str) {
        let s = self.truncate(s);
        self.pad(&s);
    }

    pub(super) fn truncate(&self, s: &str) -> String {
        match self.prec {
            Some(p) => s.chars().take(p).collect(),
            None => s.to_string(),
        }
    }

    pub(super) fn fmt_string(&mut self, v: &Value, s: &str, verb: char) {
        match verb {
            'v' if self.f.sharp_v => self.fmt_q(s),
            'v' | 's' => self.fmt_s(s),
            'x' => self.fmt_sx(s, b"0123456789abcdefx"),
            'X' => self.fmt_sx(s, b"0123456789ABCDEFX"),
            'q' => self.fmt_q(s),
            _ => self.bad_verb(v, verb),
        }
    }

    pub(super) fn fmt_q(&mut self, s: &str) {
        let s = self.truncate(s);
        let q = if self.f.sharp && can_backquote(&s) {
            format!("`{s}`")
        } else {
            quote_with(&s, self.f.plus)
        };
        self.pad(&q);
    }

    pub(super) fn fmt_sx(&mut self, s: &str, digits: &[u8; 17]) {
        let b = s.as_bytes();
        let len = self.prec.map_or(b.len(), |p| p.min(b.len()));
        if len == 0 {
            if let Some(w) = self.wid {
                self.write_padding(w);
            }
            return;
        }
        let mut width = 2 * len;
        if self.f.space {
            if self.f.sharp {
                width *= 2;
            }
            width += len - 1;
        } else if self.f.sharp {
            width += 2;
        }
        let w = self.wid.unwrap_or(0);
        if w > width && !self.f.minus {
            self.write_padding(w - width);
        }
        if self.f.sharp {
            self.buf.push('0');
            self.buf.push(digits[16] as char);
        }
        for (k, c) in b[..len].iter().enumerate() {
            if self.f.space && k > 0 {
                self.buf.push(' ');
                if self.f.sharp {
                    self.buf.push('0');
                    self.buf.push(digits[16] as char);
                }
            }
            self.buf.push(digits[(c >> 4) as usize] as char);
            self.buf.push(digits[(c & 15) as usize] as char);
        }
        if w > width && self.f.minus {
            self.write_padding(w - width);
        }
    }

    pub(super) fn fmt_integer(&mut self, v: &Value, u: u64, signed: bool, verb: char) {
        let (base, upper) = match verb {
            'v' | 'd' => (10, false),
            'b' => (2, false),
            'o' | 'O' => (8, false),
            'x' => (16, false),
            'X' => (16, true),
            'c' => {
                let c = char::from_u32(u32::try_from(u).unwrap_or(0xfffd)).unwrap_or('\u{fffd}');
                return self.pad(&c.to_string());
            }
            'q' => {
                let c = char::from_u32(u32::try_from(u).unwrap_or(0xfffd)).unwrap_or('\u{fffd}');
                return self.pad(&quote_rune(c, self.f.plus));
            }
            'U' => return self.fmt_unicode(u),
            _ => return self.bad_verb(v, verb),
        };
        let negative = signed && (u as i64) < 0;
        let mut u = if negative {
            (u as i64).unsigned_abs()
        } else {
            u
        };
        let mut prec = 0;
        if let Some(p) = self.prec {
            prec = p;
            if p == 0 && u == 0 {
                let zero = self.f.zero;
                self.f.zero = false;
                self.write_padding(self.wid.unwrap_or(0));
                self.f.zero = zero;
                return;
            }
        } else if self.f.zero
            && !self.f.minus
            && let Some(w) = self.wid
        {
            prec = w;
            if negative || self.f.plus || self.f.space {
                prec = prec.saturating_sub(1);
            }
        }
        let digits: &[u8] = if upper {
            b"0123456789ABCDEF"
        } else {
            b"0123456789abcdef"
        };
        let mut out: Vec<u8> = Vec::new();
        loop {
            out.push(digits[(u % base) as usize]);
            u /= base;
            if u == 0 {
                break;
            }
        }
        while out.len() < prec {
            out.push(b'0');
        }
        if self.f.sharp {
            match base {
                2 => out.extend_from_slice(b"b0"),
                8 if out.last() != Some(&b'0') => out.push(b'0'),
                16 => out.extend_from_slice(if upper { b"X0" } else { b"x0" }),
                _ => {}
            }
        }
        if verb == 'O' {
            out.extend_from_slice(b"o0");
        }
        if negative {
            out.push(b'-');
        } else if self.f.plus {
            out.push(b'+');
        } else if self.f.space {
            out.push(b' ');
        }
        out.reverse();
        let s = String::from_utf8_lossy(&out).into_owned();
        let zero = self.f.zero;
        self.f.zero = false;
        self.pad(&s);
        self.f.zero = zero;
    }

    pub(super) fn fmt_unicode(&mut self, u: u64) {
        let mut s = format!("U+{u:04X}");
        if let Some(p) = self.prec
            && p > 4
        {
            s = format!("U+{u:0p$X}");
        }
        if self.f.sharp
            && let Some(c) = u32::try_from(u).ok().and_then(char::from_u32)
            && is_print(c)
        {
            s.push_str(&format!(" '{c}'"));
        }
        let zero = self.f.zero;
        self.f.zero = false;
        self.pad(&s);
        self.f.zero = zero;
    }

    pub(super) fn fmt_float(&mut self, v: &Value, f: f64, verb: char) {
        let (fmt, prec) = match verb {
            'v' => (b'g', -1),
            'b' | 'g' | 'G' | 'x' | 'X' => (verb as u8, -1),
            'f' | 'F' => (b'f', 6),
            'e' | 'E' => (verb as u8, 6),
            _ => return self.bad_verb(v, verb),
        };
        let prec = self
            .prec
            .map_or(prec, |p| i32::try_from(p).unwrap_or(i32::MAX));
        let mut num = format_float(f, fmt, prec);
        if !num.starts_with(['-', '+']) {
            num.insert(0, '+');
        }
        if self.f.space && num.starts_with('+') && !self.f.plus {
            num.replace_range(0..1, " ");
        }
        if num[1..].starts_with(['I', 'N']) {
            let zero = self.f.zero;
            self.f.zero = false;
            if num[1..].starts_with('N') && !self.f.space && !self.f.plus {
                num.remove(0);
            }
            self.pad(&num);
            self.f.zero = zero;
            return;
        }
        if self.f.sharp && fmt != b'b' {
            num = sharp_float(num, fmt, prec);
        }
        if self.f.plus || !num.starts_with('+') {
            if self.f.zero && !self.f.minus && self.wid.is_some_and(|w| w > num.len()) {
                let w = self.wid.unwrap_or(0);
                self.buf.push_str(&num[..1]);
                self.write_padding(w - num.len());
                self.buf.push_str(&num[1..]);
                return;
            }
            return self.pad(&num);
        }
        self.pad(&num[1..]);
    }

    pub(super) fn fmt_complex(&mut self, v: &Value, re: f64, im: f64, verb: char) {
        if !matches!(
            verb,
            'v' | 'b' | 'g' | 'G' | 'x' | 'X' | 'f' | 'F' | 'e' | 'E'
        ) {
            return self.bad_verb(v, verb);
        }
        let plus = self.f.plus;
        self.buf.push('(');
        self.fmt_float(v, re, verb);
        self.f.plus = true;
        self.fmt_float(v, im, verb);
        self.buf.push_str("i)");
        self.f.plus = plus;
    }
}

/// The `#` flag on floats: keep a decimal point, and for `%g` the trailing
/// zeros up to the precision.
fn sharp_float(num: String, fmt: u8, prec: i32) -> String {
    let mut digits: i32 = match fmt {
        b'g' | b'G' | b'x' | b'X' => {
            if prec == -1 {
                6
            } else {
                prec
            }
        }
        _ => 0,
    };
    let b = num.as_bytes();
    let mut head = b.len();
    let mut has_point = false;
    let mut saw_nonzero = false;
    for (i, &c) in b.iter().enumerate().skip(1) {
        match c {
            b'.' => has_point = true,
            b'p' | b'P' => {
                head = i;
                break;
            }
            b'e' | b'E' if !matches!(fmt, b'x' | b'X') => {
                head = i;
                break;
            }
            _ => {
                if c != b'0' {
                    saw_nonzero = true;
                }
                if saw_nonzero {
                    digits -= 1;
                }
            }
        }
    }
    let (mut out, tail) = (num[..head].to_string(), &num[head..]);
    if !has_point {
        if out.len() == 2 && out.ends_with('0') {
            digits -= 1;
        }
        out.push('.');
    }
    while digits > 0 {
        out.push('0');
        digits -= 1;
    }
    out.push_str(tail);
    out
}
