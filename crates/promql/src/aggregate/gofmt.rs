//! Text as Prometheus (Go) prints it in errors and annotations: `%g` floats,
//! `strconv.Quote` strings and `labels.Labels.String()`.

use model::{Labels, is_valid_label_name};

/// A float as Go's `%g`/`%v` prints it: shortest round-trip digits, exponent
/// form below 1e-4 and from 1e6 up (`1e+06`), `NaN`, `+Inf`, `-Inf`.
pub fn go_float(v: f64) -> String {
    if v.is_nan() {
        return "NaN".to_string();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.to_string();
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0" } else { "0" }.to_string();
    }
    // Rust's `{:e}` gives the shortest round-trip digits: "1.5e-7", "1e6".
    let sci = format!("{v:e}");
    let Some((mantissa, exp)) = sci.split_once('e') else {
        return sci;
    };
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..EXP_LIMIT).contains(&exp) {
        return format!("{v}");
    }
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exp.abs())
}

/// Go switches shortest `%g` to exponent form at this decimal exponent.
const EXP_LIMIT: i32 = 6;

/// A string quoted as Go's `strconv.Quote` quotes bytes: escapes for quotes,
/// backslashes and control characters, `\xNN` for bytes that are not UTF-8.
pub fn go_quote_bytes(v: &[u8]) -> String {
    let mut s = String::with_capacity(v.len() + 2);
    s.push('"');
    for chunk in v.utf8_chunks() {
        for c in chunk.valid().chars() {
            push_char(&mut s, c);
        }
        for b in chunk.invalid() {
            s.push_str(&format!("\\x{b:02x}"));
        }
    }
    s.push('"');
    s
}

/// [`go_quote_bytes`] of a string.
pub fn go_quote(v: &str) -> String {
    go_quote_bytes(v.as_bytes())
}

fn push_char(s: &mut String, c: char) {
    match c {
        '"' => s.push_str("\\\""),
        '\\' => s.push_str("\\\\"),
        '\u{7}' => s.push_str("\\a"),
        '\u{8}' => s.push_str("\\b"),
        '\u{c}' => s.push_str("\\f"),
        '\n' => s.push_str("\\n"),
        '\r' => s.push_str("\\r"),
        '\t' => s.push_str("\\t"),
        '\u{b}' => s.push_str("\\v"),
        c if (c as u32) < 0x20 || c as u32 == 0x7f => s.push_str(&format!("\\x{:02x}", c as u32)),
        c if c.is_control() => {
            let u = c as u32;
            if u <= 0xffff {
                s.push_str(&format!("\\u{u:04x}"));
            } else {
                s.push_str(&format!("\\U{u:08x}"));
            }
        }
        c => s.push(c),
    }
}

/// Labels as Go's `labels.Labels.String()` prints them: `{a="x", b="y"}`,
/// `__name__` as a plain label, odd names quoted.
pub fn go_labels(l: &Labels) -> String {
    let mut s = String::from("{");
    for (i, label) in l.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        if is_valid_label_name(&label.name) {
            s.push_str(&label.name);
        } else {
            s.push_str(&go_quote(&label.name));
        }
        s.push('=');
        s.push_str(&go_quote(&label.value));
    }
    s.push('}');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_as_go_prints_them() {
        assert_eq!(go_float(1.1), "1.1");
        assert_eq!(go_float(-1.0), "-1");
        assert_eq!(go_float(123456.0), "123456");
        assert_eq!(go_float(1e6), "1e+06");
        assert_eq!(go_float(1e21), "1e+21");
        assert_eq!(go_float(9.223372036854776e18), "9.223372036854776e+18");
        assert_eq!(go_float(0.0001), "0.0001");
        assert_eq!(go_float(0.00001), "1e-05");
        assert_eq!(go_float(f64::NAN), "NaN");
        assert_eq!(go_float(f64::NEG_INFINITY), "-Inf");
    }

    #[test]
    fn quoting() {
        assert_eq!(go_quote_bytes(b"a\xc5z"), r#""a\xc5z""#);
        assert_eq!(go_quote("a\"b\n"), r#""a\"b\n""#);
        let l = Labels::from_pairs([("__name__", "up"), ("a.b", "x")]);
        assert_eq!(go_labels(&l), r#"{__name__="up", "a.b"="x"}"#);
    }
}
