//! The float spellings of Go's `fmt` verbs and of Prometheus's
//! `FormatOpenMetricsFloat`, on top of [`format_float`].

use crate::strconv::format_float;

/// Go's `%g`/`%v` of a float64 (shortest round-trip digits): `0.5`,
/// `100000`, `1e+06`, `1e-05`, `-0`, `NaN`, `+Inf`, `-Inf`.
pub fn go_g(v: f64) -> String {
    format_float(v, b'g', -1)
}

/// Go's `%.<prec>g`; a precision of 0 counts as 1, as in Go.
pub fn go_g_prec(v: f64, prec: usize) -> String {
    format_float(v, b'g', i32::try_from(prec).unwrap_or(i32::MAX))
}

/// Go's `%f` (six decimals) of a float64.
pub fn go_f(v: f64) -> String {
    format_float(v, b'f', 6)
}

/// Prometheus's `FormatOpenMetricsFloat`: `%g`, with `.0` added to integers;
/// zeros of either sign are `0.0`.
pub fn openmetrics_float(v: f64) -> String {
    if v == 0.0 {
        return "0.0".to_string();
    }
    let s = go_g(v);
    if v.is_finite() && !s.contains(['e', '.']) {
        format!("{s}.0")
    } else {
        s
    }
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
        assert_eq!(go_g_prec(2.5, 0), "2");
        assert_eq!(go_g_prec(-0.0, 2), "-0");
    }

    #[test]
    fn fixed_f() {
        assert_eq!(go_f(0.0), "0.000000");
        assert_eq!(go_f(-0.0), "-0.000000");
        assert_eq!(go_f(1.5), "1.500000");
        assert_eq!(go_f(f64::INFINITY), "+Inf");
        assert_eq!(go_f(f64::NAN), "NaN");
    }

    #[test]
    fn openmetrics() {
        assert_eq!(openmetrics_float(1.0), "1.0");
        assert_eq!(openmetrics_float(-1.0), "-1.0");
        assert_eq!(openmetrics_float(0.0), "0.0");
        assert_eq!(openmetrics_float(-0.0), "0.0");
        assert_eq!(openmetrics_float(0.99), "0.99");
        assert_eq!(openmetrics_float(5.0), "5.0");
        assert_eq!(openmetrics_float(1e6), "1e+06");
        assert_eq!(openmetrics_float(f64::INFINITY), "+Inf");
        assert_eq!(openmetrics_float(f64::NAN), "NaN");
    }
}
