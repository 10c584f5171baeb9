//! Text as Prometheus (Go) prints it in results, errors and annotations:
//! `%g`, `%.Ng` and `%f` of floats, `FormatOpenMetricsFloat`, `strconv.Quote`
//! of strings and bytes, and `labels.Labels.String()`.

use model::{Labels, is_valid_label_name};

/// Go's `%g`/`%v` of a float64 (shortest round-trip digits): `0.5`,
/// `100000`, `1e+06`, `1e-05`, `-0`, `NaN`, `+Inf`, `-Inf`.
pub(crate) fn go_g(v: f64) -> String {
    format_g(v, None)
}

/// Go's `%.<prec>g`; a precision of 0 counts as 1, as in Go.
pub(crate) fn go_g_prec(v: f64, prec: usize) -> String {
    format_g(v, Some(prec.max(1)))
}

/// Go's `%f` (six decimals) of a float64.
pub(crate) fn go_f(v: f64) -> String {
    if v.is_nan() {
        return "NaN".to_string();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.to_string();
    }
    format!("{v:.6}")
}

/// Prometheus's `FormatOpenMetricsFloat`: `%g`, with `.0` added to integers.
pub(crate) fn openmetrics_float(v: f64) -> String {
    if v == 0.0 {
        // Negative zero too.
        return "0.0".to_string();
    }
    let s = go_g(v);
    if v.is_finite() && !s.contains(['e', '.']) {
        format!("{s}.0")
    } else {
        s
    }
}

/// Bytes quoted as Go's `strconv.Quote` (`%q`) quotes them: escapes for
/// quotes, backslashes and control characters, `\xNN` for bytes that are not
/// UTF-8.
pub(crate) fn go_quote_bytes(v: &[u8]) -> String {
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
pub(crate) fn go_quote(v: &str) -> String {
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
/// `__name__` as a plain label, names that are not legacy-valid quoted.
pub(crate) fn go_labels(l: &Labels) -> String {
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

/// Go's `strconv.FormatFloat(v, 'g', prec, 64)`; `None` is the shortest
/// precision (-1), which switches to exponent form as Go does: below 1e-4 and
/// from 1e6 up.
fn format_g(v: f64, prec: Option<usize>) -> String {
    if v.is_nan() {
        return "NaN".to_string();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.to_string();
    }
    let sign = if v.is_sign_negative() { "-" } else { "" };
    if v == 0.0 {
        return format!("{sign}0");
    }
    // Decimal digits (without trailing zeros) and the decimal point position:
    // value = 0.d1d2... * 10^dp. Rust's `{:e}` gives the shortest round-trip
    // digits, or the digits rounded to a precision.
    let sci = match prec {
        None => format!("{:e}", v.abs()),
        Some(p) => format!("{:.*e}", p - 1, v.abs()),
    };
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i64 = exp.parse().unwrap_or(0);
    let mut digits: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).collect();
    while digits.len() > 1 && digits.last() == Some(&b'0') {
        digits.pop();
    }
    let nd = digits.len() as i64;
    let dp = exp + 1;
    let shortest = prec.is_none();
    let prec = prec.map_or(nd, |p| p as i64);
    let mut eprec = prec;
    if eprec > nd && nd >= dp {
        eprec = nd;
    }
    if shortest {
        eprec = 6;
    }
    let x = dp - 1;
    let digit = |i: i64| -> char {
        usize::try_from(i)
            .ok()
            .and_then(|i| digits.get(i))
            .map_or('0', |&b| b as char)
    };
    let mut out = String::from(sign);
    if x < -4 || x >= eprec {
        let decimals = prec.min(nd) - 1;
        out.push(digit(0));
        if decimals > 0 {
            out.push('.');
            (1..=decimals).for_each(|i| out.push(digit(i)));
        }
        let (es, ea) = if x < 0 { ('-', -x) } else { ('+', x) };
        out.push('e');
        out.push(es);
        out.push_str(&format!("{ea:02}"));
        return out;
    }
    let p = if prec > dp { nd } else { prec };
    let decimals = (p - dp).max(0);
    if dp <= 0 {
        out.push('0');
    } else {
        (0..dp).for_each(|i| out.push(digit(i)));
    }
    if decimals > 0 {
        out.push('.');
        (0..decimals).for_each(|i| out.push(digit(dp + i)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortest_g() {
        for (v, s) in [
            (0.5, "0.5"),
            (1.1, "1.1"),
            (1.5, "1.5"),
            (-1.0, "-1"),
            (0.01, "0.01"),
            (100000.0, "100000"),
            (123456.0, "123456"),
            (1e6, "1e+06"),
            (1234567.0, "1.234567e+06"),
            (123456789.0, "1.23456789e+08"),
            (9.223372036854776e18, "9.223372036854776e+18"),
            (1e21, "1e+21"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.5e-5, "1.5e-05"),
            (0.0, "0"),
            (-0.0, "-0"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
        ] {
            assert_eq!(go_g(v), s, "{v}");
        }
    }

    #[test]
    fn precision_g() {
        assert_eq!(go_g_prec(10.0, 2), "10");
        assert_eq!(go_g_prec(100.0, 2), "1e+02");
        assert_eq!(go_g_prec(1.0, 2), "1");
        assert_eq!(go_g_prec(0.123, 2), "0.12");
        assert_eq!(go_g_prec(12.5, 2), "12");
        assert_eq!(go_g_prec(2.25, 2), "2.2");
    }

    #[test]
    fn fixed_f() {
        assert_eq!(go_f(0.0), "0.000000");
        assert_eq!(go_f(1.5), "1.500000");
        assert_eq!(go_f(f64::INFINITY), "+Inf");
        assert_eq!(go_f(f64::NAN), "NaN");
    }

    #[test]
    fn openmetrics() {
        assert_eq!(openmetrics_float(1.0), "1.0");
        assert_eq!(openmetrics_float(0.0), "0.0");
        assert_eq!(openmetrics_float(-0.0), "0.0");
        assert_eq!(openmetrics_float(0.99), "0.99");
        assert_eq!(openmetrics_float(5.0), "5.0");
        assert_eq!(openmetrics_float(1e6), "1e+06");
        assert_eq!(openmetrics_float(f64::INFINITY), "+Inf");
    }

    #[test]
    fn quoting() {
        assert_eq!(go_quote_bytes(b"a\xc5z"), r#""a\xc5z""#);
        assert_eq!(go_quote("a\"b\n"), r#""a\"b\n""#);
        assert_eq!(go_quote("a\"b\\c\n"), "\"a\\\"b\\\\c\\n\"");
        assert_eq!(
            go_quote("\u{7}\u{1}\u{7f}\u{85}é"),
            r#""\a\x01\x7f\u0085é""#
        );
    }

    #[test]
    fn label_sets() {
        let l = Labels::from_pairs([("__name__", "up"), ("a.b", "x")]);
        assert_eq!(go_labels(&l), r#"{__name__="up", "a.b"="x"}"#);
        let l = Labels::from_pairs([("__name__", "t"), ("a", "x\"y")]);
        assert_eq!(go_labels(&l), r#"{__name__="t", a="x\"y"}"#);
    }
}
