//! Go's `fmt` over template values: `Sprint`, `Sprintln`, `Sprintf` with
//! flags, width, precision, argument indexes, and Go's `%!verb(...)` error
//! forms. This module parses formats and walks values; `verbs` formats
//! integers, floats and strings.

mod verbs;

use crate::value::Value;
use ::gofmt::duration_string;

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
    ::gofmt::go_g_prec(v, 4)
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
