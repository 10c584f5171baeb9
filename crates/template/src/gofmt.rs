//! Go's `fmt` over template values: `Sprint`, `Sprintln`, `Sprintf` with
//! flags, width, precision, argument indexes, and Go's `%!verb(...)` error
//! forms.

use crate::gotime::duration_string;
use crate::strconv::{can_backquote, format_float, is_print, quote_rune, quote_with};
use crate::value::Value;

/// Go's `fmt.Sprint`: operands joined, with spaces between two operands
/// when neither is a string.
pub(crate) fn sprint(args: &[Value]) -> String {
    let mut p = Printer::default();
    p.do_print(args, false);
    p.buf
}

/// `fmt.Sprint` over the values as templates print them (pointers
/// followed, nothing as `<no value>`), as `html`, `js` and `urlquery` do.
pub(crate) fn sprint_printable(args: &[Value]) -> String {
    if let [Value::Str(s)] = args {
        return s.to_string();
    }
    let mut p = Printer {
        printable: true,
        ..Printer::default()
    };
    p.do_print(args, false);
    p.buf
}

/// Go's `fmt.Sprintln`.
pub(crate) fn sprintln(args: &[Value]) -> String {
    let mut p = Printer::default();
    p.do_print(args, true);
    p.buf
}

/// What an action prints for a value (`{{ . }}`).
pub(crate) fn print_action(v: &Value) -> String {
    match v {
        Value::Str(s) | Value::Html(s) => s.to_string(),
        v => sprint_printable(std::slice::from_ref(v)),
    }
}

/// `%v` of one value.
pub(crate) fn sprint_v(v: &Value) -> String {
    sprint(std::slice::from_ref(v))
}

/// Go's `fmt.Sprintf`.
pub(crate) fn sprintf(format: &str, args: &[Value]) -> String {
    let mut p = Printer::default();
    p.do_printf(format, args);
    p.buf
}

/// Go's `%.4g`, as the humanize functions format.
pub(crate) fn g4(v: f64) -> String {
    sprintf("%.4g", &[Value::Float(v)])
}

#[derive(Default, Clone, Copy)]
struct Flags {
    plus: bool,
    minus: bool,
    sharp: bool,
    space: bool,
    zero: bool,
    plus_v: bool,
    sharp_v: bool,
}

#[derive(Default)]
struct Printer {
    buf: String,
    f: Flags,
    wid: Option<usize>,
    prec: Option<usize>,
    /// Print as templates do: nothing is `<no value>`, pointers followed.
    printable: bool,
    reordered: bool,
    good_arg_num: bool,
}

const TOO_LARGE: i64 = 1_000_000;

fn parse_num(s: &[u8], start: usize, end: usize) -> (Option<usize>, usize) {
    if start >= end {
        return (None, end);
    }
    let mut num: i64 = 0;
    let mut i = start;
    let mut any = false;
    while i < end && s[i].is_ascii_digit() {
        if num > TOO_LARGE {
            return (None, end);
        }
        num = num * 10 + (s[i] - b'0') as i64;
        any = true;
        i += 1;
    }
    (any.then_some(num as usize), i)
}

impl Printer {
    fn clear_flags(&mut self) {
        self.f = Flags::default();
        self.wid = None;
        self.prec = None;
    }

    fn do_print(&mut self, args: &[Value], ln: bool) {
        let mut prev_string = false;
        for (i, a) in args.iter().enumerate() {
            let is_string = matches!(a, Value::Str(_) | Value::Html(_))
                || (self.printable && matches!(a, Value::Nil));
            if i > 0 && (ln || (!is_string && !prev_string)) {
                self.buf.push(' ');
            }
            self.print_arg(a, 'v');
            prev_string = is_string;
        }
        if ln {
            self.buf.push('\n');
        }
    }

    fn arg_number(&mut self, arg_num: usize, s: &[u8], i: usize, n: usize) -> (usize, usize, bool) {
        if i >= s.len() || s[i] != b'[' {
            return (arg_num, i, false);
        }
        self.reordered = true;
        let (index, wid, ok) = parse_arg_number(&s[i..]);
        if let Some(index) = index.filter(|x| ok && *x < n) {
            return (index, i + wid, true);
        }
        self.good_arg_num = false;
        (arg_num, i + wid, ok)
    }

    fn int_from_arg(args: &[Value], arg_num: usize) -> (Option<i64>, usize) {
        match args.get(arg_num) {
            None => (None, arg_num),
            Some(v) => {
                let n = match v {
                    Value::Int(i) => Some(*i),
                    Value::Byte(b) => Some(*b as i64),
                    Value::Duration(d, false) => Some(*d),
                    _ => None,
                };
                (n.filter(|n| n.abs() <= TOO_LARGE), arg_num + 1)
            }
        }
    }

    fn do_printf(&mut self, format: &str, args: &[Value]) {
        let s = format.as_bytes();
        let end = s.len();
        let mut arg_num = 0;
        let mut i = 0;
        while i < end {
            self.good_arg_num = true;
            let last = i;
            while i < end && s[i] != b'%' {
                i += 1;
            }
            if i > last {
                self.buf.push_str(&format[last..i]);
            }
            if i >= end {
                break;
            }
            i += 1;
            self.clear_flags();
            while i < end {
                match s[i] {
                    b'#' => self.f.sharp = true,
                    b'0' => self.f.zero = !self.f.minus,
                    b'+' => self.f.plus = true,
                    b'-' => {
                        self.f.minus = true;
                        self.f.zero = false;
                    }
                    b' ' => self.f.space = true,
                    _ => break,
                }
                i += 1;
            }
            let mut after_index;
            (arg_num, i, after_index) = self.arg_number(arg_num, s, i, args.len());
            if i < end && s[i] == b'*' {
                i += 1;
                let (w, n) = Self::int_from_arg(args, arg_num);
                arg_num = n;
                match w {
                    None => self.buf.push_str("%!(BADWIDTH)"),
                    Some(w) if w < 0 => {
                        self.wid = Some(w.unsigned_abs() as usize);
                        self.f.minus = true;
                        self.f.zero = false;
                    }
                    Some(w) => self.wid = Some(w as usize),
                }
                after_index = false;
            } else {
                let (w, ni) = parse_num(s, i, end);
                self.wid = w;
                i = ni;
                if after_index && w.is_some() {
                    self.good_arg_num = false;
                }
            }
            if i + 1 < end && s[i] == b'.' {
                i += 1;
                if after_index {
                    self.good_arg_num = false;
                }
                (arg_num, i, after_index) = self.arg_number(arg_num, s, i, args.len());
                if i < end && s[i] == b'*' {
                    i += 1;
                    let (p, n) = Self::int_from_arg(args, arg_num);
                    arg_num = n;
                    match p {
                        Some(p) if p >= 0 => self.prec = Some(p as usize),
                        Some(_) => self.prec = None,
                        None => self.buf.push_str("%!(BADPREC)"),
                    }
                    after_index = false;
                } else {
                    let (p, ni) = parse_num(s, i, end);
                    self.prec = Some(p.unwrap_or(0));
                    i = ni;
                }
            }
            if !after_index {
                (arg_num, i, _) = self.arg_number(arg_num, s, i, args.len());
            }
            if i >= end {
                self.buf.push_str("%!(NOVERB)");
                break;
            }
            let verb = format[i..].chars().next().unwrap_or('%');
            i += verb.len_utf8();
            if verb == '%' {
                self.buf.push('%');
            } else if !self.good_arg_num {
                self.buf.push_str(&format!("%!{verb}(BADINDEX)"));
            } else if arg_num >= args.len() {
                self.buf.push_str(&format!("%!{verb}(MISSING)"));
            } else {
                if verb == 'v' {
                    self.f.sharp_v = self.f.sharp;
                    self.f.sharp = false;
                    self.f.plus_v = self.f.plus;
                    self.f.plus = false;
                }
                self.print_arg(&args[arg_num], verb);
                arg_num += 1;
            }
        }
        if !self.reordered && arg_num < args.len() {
            self.clear_flags();
            self.buf.push_str("%!(EXTRA ");
            for (k, a) in args[arg_num..].iter().enumerate() {
                if k > 0 {
                    self.buf.push_str(", ");
                }
                if let Value::Nil = a {
                    self.buf.push_str("<nil>");
                } else {
                    self.buf.push_str(a.type_name());
                    self.buf.push('=');
                    self.print_arg(a, 'v');
                }
            }
            self.buf.push(')');
        }
    }

    fn write_padding(&mut self, n: usize) {
        let c = if self.f.zero { '0' } else { ' ' };
        self.buf.extend(std::iter::repeat_n(c, n));
    }

    fn pad(&mut self, s: &str) {
        let Some(w) = self.wid else {
            self.buf.push_str(s);
            return;
        };
        let n = w.saturating_sub(s.chars().count());
        if self.f.minus {
            self.buf.push_str(s);
            self.write_padding(n);
        } else {
            self.write_padding(n);
            self.buf.push_str(s);
        }
    }

    fn bad_verb(&mut self, v: &Value, verb: char) {
        self.buf.push_str("%!");
        self.buf.push(verb);
        self.buf.push('(');
        if let Value::Nil = v {
            self.buf.push_str("<nil>");
        } else {
            self.buf.push_str(v.type_name());
            self.buf.push('=');
            self.print_value(v, 'v', 0);
        }
        self.buf.push(')');
    }

    fn print_arg(&mut self, v: &Value, verb: char) {
        match (v, verb) {
            (Value::Nil, 'v') if self.printable => return self.pad("<no value>"),
            (Value::Nil, 'T' | 'v') => return self.pad("<nil>"),
            (Value::Nil, _) => return self.bad_verb(v, verb),
            (_, 'T') => return self.fmt_s(v.type_name()),
            _ => {}
        }
        self.print_value(v, verb, 0);
    }

    fn print_value(&mut self, v: &Value, verb: char, depth: usize) {
        // Stringers.
        let stringer = match v {
            Value::Time(t, _) => Some(t.go_string()),
            Value::Duration(d, _) => Some(duration_string(*d)),
            _ => None,
        };
        if let Some(s) = stringer
            && matches!(verb, 'v' | 's' | 'x' | 'X' | 'q')
        {
            return self.fmt_string(v, &s, verb);
        }
        match v {
            Value::Nil if self.printable && depth == 0 => self.pad("<no value>"),
            Value::Nil if verb == 'v' => self.buf.push_str("<nil>"),
            Value::Nil => self.bad_verb(v, verb),
            Value::Bool(b) => match verb {
                't' | 'v' => self.pad(if *b { "true" } else { "false" }),
                _ => self.bad_verb(v, verb),
            },
            Value::Int(i) | Value::Duration(i, false) => self.fmt_integer(v, *i as u64, true, verb),
            Value::Byte(b) => self.fmt_integer(v, *b as u64, false, verb),
            Value::Float(f) => self.fmt_float(v, *f, verb),
            Value::Complex(re, im) => self.fmt_complex(v, *re, *im, verb),
            Value::Str(s) | Value::Html(s) => self.fmt_string(v, s, verb),
            Value::Labels(l) => {
                self.buf.push_str("map[");
                for (k, l) in l.iter().enumerate() {
                    if k > 0 {
                        self.buf.push(' ');
                    }
                    self.print_value(&Value::str(&l.name), verb, depth + 1);
                    self.buf.push(':');
                    self.print_value(&Value::str(&l.value), verb, depth + 1);
                }
                self.buf.push(']');
            }
            Value::Map(m) => {
                self.buf.push_str("map[");
                for (k, (key, val)) in m.iter().enumerate() {
                    if k > 0 {
                        self.buf.push(' ');
                    }
                    self.print_value(&Value::str(key), verb, depth + 1);
                    self.buf.push(':');
                    self.print_value(val, verb, depth + 1);
                }
                self.buf.push(']');
            }
            Value::Samples(s) => {
                self.buf.push('[');
                for (k, smp) in s.iter().enumerate() {
                    if k > 0 {
                        self.buf.push(' ');
                    }
                    self.print_value(&Value::Sample(smp.clone()), verb, depth + 1);
                }
                self.buf.push(']');
            }
            Value::Sample(s) if depth == 0 => {
                if !self.printable {
                    self.buf.push('&');
                }
                let labels = Value::Labels(std::rc::Rc::new(s.labels.clone()));
                self.print_struct(
                    &[("Labels", &labels), ("Value", &Value::Float(s.value))],
                    verb,
                );
            }
            Value::Sample(s) => self.fmt_pointer(v, std::rc::Rc::as_ptr(s) as usize, verb),
            Value::Time(..) | Value::Duration(_, true) => self.bad_verb(v, verb),
            Value::Data(d) => {
                let fields = [
                    ("Labels", &Value::Labels(d.labels.clone())),
                    ("ExternalLabels", &Value::Labels(d.external_labels.clone())),
                    ("ExternalURL", &Value::Str(d.external_url.clone())),
                    ("Value", &Value::Float(d.value)),
                ];
                self.print_struct(&fields, verb);
            }
        }
    }

    fn print_struct(&mut self, fields: &[(&str, &Value)], verb: char) {
        self.buf.push('{');
        for (k, (name, val)) in fields.iter().enumerate() {
            if k > 0 {
                self.buf.push(' ');
            }
            if self.f.plus_v {
                self.buf.push_str(name);
                self.buf.push(':');
            }
            self.print_value(val, verb, 1);
        }
        self.buf.push('}');
    }

    fn fmt_pointer(&mut self, v: &Value, addr: usize, verb: char) {
        match verb {
            'v' | 'p' => {
                let s = format!("0x{addr:x}");
                self.pad(&s);
            }
            'b' | 'o' | 'd' | 'x' | 'X' => self.fmt_integer(v, addr as u64, false, verb),
            _ => self.bad_verb(v, verb),
        }
    }

    fn fmt_s(&mut self, s: &str) {
        let s = self.truncate(s);
        self.pad(&s);
    }

    fn truncate(&self, s: &str) -> String {
        match self.prec {
            Some(p) => s.chars().take(p).collect(),
            None => s.to_string(),
        }
    }

    fn fmt_string(&mut self, v: &Value, s: &str, verb: char) {
        match verb {
            'v' if self.f.sharp_v => self.fmt_q(s),
            'v' | 's' => self.fmt_s(s),
            'x' => self.fmt_sx(s, b"0123456789abcdefx"),
            'X' => self.fmt_sx(s, b"0123456789ABCDEFX"),
            'q' => self.fmt_q(s),
            _ => self.bad_verb(v, verb),
        }
    }

    fn fmt_q(&mut self, s: &str) {
        let s = self.truncate(s);
        let q = if self.f.sharp && can_backquote(&s) {
            format!("`{s}`")
        } else {
            quote_with(&s, self.f.plus)
        };
        self.pad(&q);
    }

    fn fmt_sx(&mut self, s: &str, digits: &[u8; 17]) {
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

    fn fmt_integer(&mut self, v: &Value, u: u64, signed: bool, verb: char) {
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

    fn fmt_unicode(&mut self, u: u64) {
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

    fn fmt_float(&mut self, v: &Value, f: f64, verb: char) {
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

    fn fmt_complex(&mut self, v: &Value, re: f64, im: f64, verb: char) {
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

/// `[n]` at the start of `s`: (zero-based index, bytes used, well formed).
fn parse_arg_number(s: &[u8]) -> (Option<usize>, usize, bool) {
    if s.len() < 3 {
        return (None, 1, false);
    }
    for i in 1..s.len() {
        if s[i] == b']' {
            let (n, ni) = parse_num(s, 1, i);
            return match n {
                Some(n) if ni == i => (n.checked_sub(1), i + 1, true),
                _ => (None, i + 1, false),
            };
        }
    }
    (None, 1, false)
}
