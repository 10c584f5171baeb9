//! Values written the way Go writes them where Prometheus's API shows Go's formatting:
//! RFC 3339 times with nanoseconds, `strconv.FormatFloat(v, 'e', -1, 64)`.

use std::time::{SystemTime, UNIX_EPOCH};

/// Go's zero `time.Time`, as JSON shows it.
pub const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// A wall-clock time as Go's `time.RFC3339Nano` in UTC (trailing zeros of the fraction
/// dropped); `None` is Go's zero time.
pub fn rfc3339_nano(t: Option<SystemTime>) -> String {
    let Some(t) = t else {
        return ZERO_TIME.to_string();
    };
    let (secs, nanos) = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => (d.as_secs() as i64, d.subsec_nanos()),
        Err(e) => {
            let d = e.duration();
            let (s, n) = (d.as_secs() as i64, d.subsec_nanos());
            if n == 0 {
                (-s, 0)
            } else {
                (-s - 1, 1_000_000_000 - n)
            }
        }
    };
    format_unix(secs, nanos)
}

/// Milliseconds since the epoch as Go's `time.RFC3339Nano` in UTC.
pub fn rfc3339_millis(ms: i64) -> String {
    format_unix(
        ms.div_euclid(1000),
        (ms.rem_euclid(1000) * 1_000_000) as u32,
    )
}

fn format_unix(secs: i64, nanos: u32) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let mut s = format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    );
    if nanos > 0 {
        let frac = format!("{nanos:09}");
        s.push('.');
        s.push_str(frac.trim_end_matches('0'));
    }
    s.push('Z');
    s
}

/// Year, month, day of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Go's `strconv.FormatFloat(v, 'e', -1, 64)`: shortest digits, exponent with a sign and at
/// least two digits (`1e+00`, `2.5e-07`), `NaN`, `+Inf`, `-Inf`.
pub fn format_float_e(v: f64) -> String {
    if v.is_nan() {
        return "NaN".to_string();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.to_string();
    }
    let s = format!("{v:e}");
    let (mantissa, exp) = s.split_once('e').unwrap_or((s.as_str(), "0"));
    let (sign, digits) = match exp.strip_prefix('-') {
        Some(d) => ('-', d),
        None => ('+', exp),
    };
    format!("{mantissa}e{sign}{digits:0>2}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn times_like_go() {
        assert_eq!(rfc3339_nano(None), ZERO_TIME);
        assert_eq!(rfc3339_millis(0), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339_millis(1_700_000_000_123),
            "2023-11-14T22:13:20.123Z"
        );
        let t = UNIX_EPOCH + Duration::new(951_782_400, 5_000);
        assert_eq!(rfc3339_nano(Some(t)), "2000-02-29T00:00:00.000005Z");
    }

    #[test]
    fn floats_like_go() {
        assert_eq!(format_float_e(1.0), "1e+00");
        assert_eq!(format_float_e(0.0), "0e+00");
        assert_eq!(format_float_e(123.456), "1.23456e+02");
        assert_eq!(format_float_e(-2.5e-7), "-2.5e-07");
        assert_eq!(format_float_e(1e100), "1e+100");
        assert_eq!(format_float_e(f64::NAN), "NaN");
        assert_eq!(format_float_e(f64::NEG_INFINITY), "-Inf");
    }
}
