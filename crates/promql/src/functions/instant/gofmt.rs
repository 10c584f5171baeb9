//! Go's formatting where it shows in results and annotation texts: `%g` and
//! `%.Ng` of floats, `%q` of strings, OpenMetrics float labels and RFC 3339
//! times.

use super::time::Civil;

/// Go's `%g` (shortest representation): `0.5`, `100000`, `1e+06`, `NaN`, `+Inf`.
pub(crate) fn go_g(v: f64) -> String {
    format_g(v, None)
}

/// Go's `%.<prec>g`.
pub(crate) fn go_g_prec(v: f64, prec: usize) -> String {
    format_g(v, Some(prec.max(1)))
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

/// Go's `%q` of a string: double quotes, with `"`, `\` and control characters escaped.
pub(crate) fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Go's `time.Unix(secs, 0).UTC().Format(time.RFC3339)`.
pub(crate) fn rfc3339(secs: i64) -> String {
    let c = Civil::of_seconds(secs);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        c.year, c.month, c.day, c.hour, c.minute, c.second
    )
}

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
    // value = 0.d1d2... * 10^dp.
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
            (-1.0, "-1"),
            (100000.0, "100000"),
            (1e6, "1e+06"),
            (1.5e-5, "1.5e-05"),
            (0.0001, "0.0001"),
            (123456789.0, "1.23456789e+08"),
            (f64::NAN, "NaN"),
            (f64::NEG_INFINITY, "-Inf"),
            (0.0, "0"),
            (1e21, "1e+21"),
            (0.01, "0.01"),
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
    fn openmetrics() {
        assert_eq!(openmetrics_float(1.0), "1.0");
        assert_eq!(openmetrics_float(0.0), "0.0");
        assert_eq!(openmetrics_float(0.99), "0.99");
        assert_eq!(openmetrics_float(5.0), "5.0");
        assert_eq!(openmetrics_float(1e6), "1e+06");
        assert_eq!(openmetrics_float(f64::INFINITY), "+Inf");
    }

    #[test]
    fn quoting_and_times() {
        assert_eq!(go_quote("a\"b\\c\n"), "\"a\\\"b\\\\c\\n\"");
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(3000), "1970-01-01T00:50:00Z");
    }
}
