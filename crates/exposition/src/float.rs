//! Floats as Prometheus reads and writes them: Go's `strconv` syntax and formatting.

/// The NaN Prometheus stores for a scraped NaN, so that it never equals the staleness marker.
pub const NORMAL_NAN_BITS: u64 = 0x7ff8_0000_0000_0001;

/// Parses a float as Prometheus's exposition parsers do: Go's `strconv.ParseFloat`
/// (decimal, `Inf`/`Infinity` with optional sign and `NaN`, case-insensitive),
/// refusing `p`, `P` and `_` (so no hex floats) and out-of-range values.
pub fn parse_go_float(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    if let Some(v) = parse_special(b) {
        return Some(v);
    }
    if !is_decimal(b) {
        return None;
    }
    let v: f64 = s.parse().ok()?;
    // Go reports a range error (and Prometheus refuses the page) instead of rounding to Inf.
    if v.is_infinite() { None } else { Some(v) }
}

/// Parses a float as OpenMetrics 1.0 writes numbers: decimal, or exactly `+Inf`,
/// `-Inf`, `Inf` or `NaN` (case-sensitive).
pub fn parse_openmetrics_float(s: &str) -> Option<f64> {
    match s {
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        "NaN" => Some(f64::NAN),
        _ if is_decimal(s.as_bytes()) => s.parse().ok().filter(|v: &f64| v.is_finite()),
        _ => None,
    }
}

fn parse_special(b: &[u8]) -> Option<f64> {
    let (neg, rest) = match b.first() {
        Some(b'+') => (false, &b[1..]),
        Some(b'-') => (true, &b[1..]),
        _ => {
            if b.eq_ignore_ascii_case(b"nan") {
                return Some(f64::NAN);
            }
            (false, b)
        }
    };
    if rest.eq_ignore_ascii_case(b"inf") || rest.eq_ignore_ascii_case(b"infinity") {
        return Some(if neg {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        });
    }
    None
}

/// `[+-]? (digits [. digits*] | . digits) ([eE] [+-]? digits)?`
fn is_decimal(b: &[u8]) -> bool {
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i = 1;
    }
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let mut digits = i - int_start;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let frac_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        digits += i - frac_start;
    }
    if digits == 0 {
        return false;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        let exp_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == exp_start {
            return false;
        }
    }
    i == b.len()
}

/// Appends `v` as Go's `strconv.FormatFloat(v, 'g', -1, 64)` does, which is how
/// Prometheus writes sample values: `1e+06`, `0.001`, `123456`, `+Inf`, `-Inf`, `NaN`.
pub fn write_go_float(out: &mut String, v: f64) {
    if v.is_nan() {
        out.push_str("NaN");
        return;
    }
    if v.is_infinite() {
        out.push_str(if v > 0.0 { "+Inf" } else { "-Inf" });
        return;
    }
    if v == 0.0 {
        out.push_str(if v.is_sign_negative() { "-0" } else { "0" });
        return;
    }
    // Rust's `{:e}` gives the shortest round-tripping digits, as Go's -1 precision does.
    let sci = format!("{v:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (neg, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    if neg {
        out.push('-');
    }
    // With shortest precision Go uses exponent form below 1e-4 and from 1e6 on.
    if !(-4..6).contains(&exp) {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        let a = exp.unsigned_abs();
        if a < 10 {
            out.push('0');
        }
        out.push_str(&a.to_string());
    } else if exp < 0 {
        out.push_str("0.");
        for _ in 0..(-exp - 1) {
            out.push('0');
        }
        out.push_str(&digits);
    } else {
        let int_len = exp as usize + 1;
        if digits.len() <= int_len {
            out.push_str(&digits);
            for _ in digits.len()..int_len {
                out.push('0');
            }
        } else {
            out.push_str(&digits[..int_len]);
            out.push('.');
            out.push_str(&digits[int_len..]);
        }
    }
}

/// `v` formatted as Go's `FormatFloat(v, 'g', -1, 64)`.
pub fn format_go_float(v: f64) -> String {
    let mut s = String::new();
    write_go_float(&mut s, v);
    s
}

/// `v` as Prometheus normalises `le` and `quantile` label values: Go formatting with
/// `.0` appended to integral values (`1.0`, `0.0`, `+Inf`).
pub fn format_openmetrics_float(v: f64) -> String {
    let mut s = format_go_float(v);
    if v.is_finite() && !s.contains(['e', '.']) {
        s.push_str(".0");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_syntax() {
        assert_eq!(parse_go_float("1"), Some(1.0));
        assert_eq!(parse_go_float("-1.5e3"), Some(-1500.0));
        assert_eq!(parse_go_float(".5"), Some(0.5));
        assert_eq!(parse_go_float("5."), Some(5.0));
        assert_eq!(parse_go_float("+Inf"), Some(f64::INFINITY));
        assert_eq!(parse_go_float("-infinity"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_go_float("INF"), Some(f64::INFINITY));
        assert!(parse_go_float("NaN").is_some_and(f64::is_nan));
        assert!(parse_go_float("nan").is_some_and(f64::is_nan));
        for bad in [
            "", "+", ".", "e5", "1e", "1_0", "0x1p-3", "0x1", "0b1", "+nan", "1e400", "1 ", "infx",
            "1.1.1",
        ] {
            assert_eq!(parse_go_float(bad), None, "{bad:?}");
        }
        assert_eq!(parse_go_float("1e-400"), Some(0.0));
    }

    #[test]
    fn openmetrics_syntax_is_case_sensitive() {
        assert_eq!(parse_openmetrics_float("+Inf"), Some(f64::INFINITY));
        assert_eq!(parse_openmetrics_float("+INF"), None);
        assert_eq!(parse_openmetrics_float("1e-04"), Some(1e-4));
    }

    #[test]
    fn go_formatting() {
        let cases: &[(f64, &str)] = &[
            (1e6, "1e+06"),
            (0.001, "0.001"),
            (123456.0, "123456"),
            (1234567.0, "1.234567e+06"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (f64::NAN, "NaN"),
            (0.0, "0"),
            (-2.5, "-2.5"),
            (1e-5, "1e-05"),
            (0.0001, "0.0001"),
            (1.5e-7, "1.5e-07"),
            (1e21, "1e+21"),
            (123456789.0, "1.23456789e+08"),
            (123.456, "123.456"),
            (1e100, "1e+100"),
            (0.1 + 0.2, "0.30000000000000004"),
        ];
        for (v, want) in cases {
            assert_eq!(format_go_float(*v), *want, "{v}");
        }
    }

    #[test]
    fn openmetrics_formatting() {
        assert_eq!(format_openmetrics_float(1.0), "1.0");
        assert_eq!(format_openmetrics_float(0.5), "0.5");
        assert_eq!(format_openmetrics_float(1e6), "1e+06");
        assert_eq!(format_openmetrics_float(f64::INFINITY), "+Inf");
    }
}
