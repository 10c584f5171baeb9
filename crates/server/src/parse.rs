//! Parameter values as Prometheus's API parses them: times (unix seconds or
//! RFC 3339), durations (float seconds or `5m`), and `limit`.

use model::{PromDuration, Timestamp};

/// The default start of optional ranges, as Prometheus's `MinTime`, in ms.
pub const MIN_TIME: Timestamp = (i64::MIN / 1000 + 62_135_596_801) * 1000;
/// The default end of optional ranges, as Prometheus's `MaxTime`, in ms.
pub const MAX_TIME: Timestamp = (i64::MAX / 1000 - 62_135_596_801) * 1000 + 999;
/// `MIN_TIME` in RFC 3339, as Go formats it (clients send it back verbatim).
const MIN_TIME_FORMATTED: &str = "-292273086-05-16T16:47:06Z";
/// `MAX_TIME` in RFC 3339, as Go formats it.
const MAX_TIME_FORMATTED: &str = "292277025-08-18T07:12:54.999999999Z";

const NANOS_PER_SEC: i128 = 1_000_000_000;
const NANOS_PER_MS: i128 = 1_000_000;

/// Parses Go's `strconv.ParseFloat` subset we accept: what Rust parses, minus
/// out-of-range values, which Go rejects instead of turning into infinities.
fn parse_go_float(s: &str) -> Option<f64> {
    let v: f64 = s.parse().ok()?;
    if v.is_infinite() {
        let unsigned = s.trim_start_matches(['+', '-']).to_ascii_lowercase();
        if !unsigned.starts_with("inf") {
            return None;
        }
    }
    Some(v)
}

/// Parses a time: unix seconds (float, rounded to ms) or RFC 3339 with nanoseconds.
pub fn parse_time(s: &str) -> Result<Timestamp, String> {
    if let Some(f) = parse_go_float(s)
        && f.is_finite()
    {
        let whole = f.trunc();
        let frac = ((f - whole) * 1000.0).round() / 1000.0;
        // Same float steps as Prometheus so that the ms agree at the edges.
        let nanos = i128::from(whole as i64) * NANOS_PER_SEC + i128::from((frac * 1e9) as i64);
        return Ok(saturate(nanos.div_euclid(NANOS_PER_MS)));
    }
    if let Some(t) = gofmt::parse_rfc3339(s) {
        return Ok(t.as_unix_milli());
    }
    match s {
        MIN_TIME_FORMATTED => Ok(MIN_TIME),
        MAX_TIME_FORMATTED => Ok(MAX_TIME),
        _ => Err(format!("cannot parse {s:?} to a valid timestamp")),
    }
}

fn saturate(v: i128) -> i64 {
    i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX })
}

/// Parses a duration into nanoseconds: float seconds or a Prometheus duration.
pub fn parse_duration(s: &str) -> Result<i64, String> {
    if let Some(d) = parse_go_float(s) {
        let ns = d * 1e9;
        if ns > i64::MAX as f64 || ns < i64::MIN as f64 {
            return Err(format!(
                "cannot parse {s:?} to a valid duration. It overflows int64"
            ));
        }
        return Ok(ns as i64);
    }
    if let Ok(d) = s.parse::<PromDuration>() {
        return Ok(i64::try_from(d.std().as_nanos()).unwrap_or(i64::MAX));
    }
    Err(format!("cannot parse {s:?} to a valid duration"))
}

/// Parses `limit`: empty means 0 (no limit); negative is refused.
pub fn parse_limit(s: &str) -> Result<usize, String> {
    if s.is_empty() {
        return Ok(0);
    }
    let v: i64 = s.parse().map_err(|_| {
        let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
        let why = if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            "value out of range"
        } else {
            "invalid syntax"
        };
        format!("strconv.Atoi: parsing {s:?}: {why}")
    })?;
    if v < 0 {
        return Err("limit must be non-negative".to_string());
    }
    Ok(usize::try_from(v).unwrap_or(usize::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_seconds() {
        assert_eq!(parse_time("1435781451.781"), Ok(1435781451781));
        assert_eq!(parse_time("1435781451"), Ok(1435781451000));
        assert_eq!(parse_time("1.0006"), Ok(1001));
        assert_eq!(parse_time("1.0004"), Ok(1000));
        assert_eq!(parse_time("-1.5"), Ok(-1500));
        assert_eq!(parse_time("1e3"), Ok(1_000_000));
        assert_eq!(parse_time(".5"), Ok(500));
    }

    #[test]
    fn rfc3339() {
        // The forms themselves are gofmt::parse_rfc3339's tests; here, the ms and errors.
        assert_eq!(
            parse_time("2015-07-01T22:10:51.7819999+02:00"),
            Ok(1435781451781)
        );
        assert_eq!(parse_time("1969-12-31T23:59:59.5Z"), Ok(-500));
        for bad in [
            "2023-02-29T00:00:00Z",
            "2015-07-01T20:10:51+2:00",
            "",
            "abc",
            "1e400",
        ] {
            assert_eq!(
                parse_time(bad),
                Err(format!("cannot parse {bad:?} to a valid timestamp"))
            );
        }
    }

    #[test]
    fn boundary_times_round_trip() {
        assert_eq!(parse_time(MIN_TIME_FORMATTED), Ok(MIN_TIME));
        assert_eq!(parse_time(MAX_TIME_FORMATTED), Ok(MAX_TIME));
        // The formatted strings name the same instants as the constants.
        let min_secs =
            gofmt::days_from_civil(-292_273_086, 5, 16) * 86_400 + 16 * 3600 + 47 * 60 + 6;
        assert_eq!(min_secs * 1000, MIN_TIME);
        let max_secs =
            gofmt::days_from_civil(292_277_025, 8, 18) * 86_400 + 7 * 3600 + 12 * 60 + 54;
        assert_eq!(max_secs * 1000 + 999, MAX_TIME);
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("15"), Ok(15_000_000_000));
        assert_eq!(parse_duration("0.5"), Ok(500_000_000));
        assert_eq!(parse_duration("1m30s"), Ok(90_000_000_000));
        assert_eq!(parse_duration("-1"), Ok(-1_000_000_000));
        assert_eq!(
            parse_duration("1x"),
            Err(r#"cannot parse "1x" to a valid duration"#.to_string())
        );
        assert_eq!(
            parse_duration("1e10"),
            Err(r#"cannot parse "1e10" to a valid duration. It overflows int64"#.to_string())
        );
    }

    #[test]
    fn limits() {
        assert_eq!(parse_limit(""), Ok(0));
        assert_eq!(parse_limit("5"), Ok(5));
        assert_eq!(
            parse_limit("-1"),
            Err("limit must be non-negative".to_string())
        );
        assert_eq!(
            parse_limit("x"),
            Err(r#"strconv.Atoi: parsing "x": invalid syntax"#.to_string())
        );
    }
}
