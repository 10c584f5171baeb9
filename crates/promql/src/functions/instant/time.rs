//! Time functions: `time()`, `timestamp()`, the calendar functions (UTC, from
//! a value in seconds or from the step time), and the query context functions
//! `start()`, `end()`, `range()`, `step()`.

use model::{Labels, Sample};
use promql_parser::parser::Expr;

use super::{arg, map_samples};
use crate::error::EvalResult;
use crate::eval::{Evaluator, offset_ms};
use crate::parse::selector_matchers;
use crate::value::{Series, Value};

/// `time()`: each step's time in seconds.
pub(super) fn time(ev: &Evaluator<'_>) -> Value {
    Value::Scalar(ev.steps.iter().map(|t| t as f64 / 1000.0).collect())
}

/// `start()`, `end()`, `range()`, `step()`: the outer query's bounds in seconds,
/// the same at every step (Prometheus folds them into numbers before evaluating).
pub(super) fn query_context(ev: &Evaluator<'_>, name: &str) -> Value {
    let (start, end) = ev.query_bounds();
    let v = match name {
        "start" => start as f64 / 1000.0,
        "end" => end as f64 / 1000.0,
        "range" => (end - start) as f64 / 1000.0,
        // An instant query has no step.
        _ if start == end => 0.0,
        _ => ev.query_step() as f64 / 1000.0,
    };
    Value::Scalar(vec![v; ev.steps.len()])
}

/// `timestamp(v)`: the time of each sample in seconds. For a selector that is
/// the time of the sample it picked, not the step time.
pub(super) fn timestamp(ev: &Evaluator<'_>, args: &[&Expr]) -> EvalResult<Value> {
    let a = arg(args, 0)?;
    if let Expr::VectorSelector(vs) = a {
        let matchers = selector_matchers(vs)?;
        // With `@`, Prometheus replaces the selector's offset by the distance to
        // the `@` time, so the sample is the one at exactly that time.
        let at = ev.at_time(&vs.at);
        let offset = if at.is_some() {
            0
        } else {
            offset_ms(&vs.offset)
        };
        let v = ev.select_sample_times(&matchers, offset, at)?;
        return map_samples(ev, v, |_, t_ms| Some(t_ms / 1000.0));
    }
    // Any other vector's samples carry the step time.
    let v = ev.eval_vector(a)?;
    map_samples(ev, v, |i, _| Some(ev.steps.at(i) as f64 / 1000.0))
}

/// The calendar functions: of each value read as seconds since the epoch, or,
/// without an argument, of each step's time.
pub(super) fn calendar(ev: &Evaluator<'_>, name: &str, args: &[&Expr]) -> EvalResult<Value> {
    let f = calendar_fn(name);
    match args.first() {
        None => {
            let samples = ev
                .steps
                .iter()
                .map(|t| Sample::new(t, f(Civil::of_seconds(t / 1000))))
                .collect();
            Ok(Value::Vector(vec![Series::new(Labels::empty(), samples)]))
        }
        Some(e) => {
            let v = ev.eval_vector(e)?;
            map_samples(ev, v, |_, x| Some(f(Civil::of_seconds(float_to_secs(x)))))
        }
    }
}

fn calendar_fn(name: &str) -> fn(Civil) -> f64 {
    match name {
        "day_of_month" => |c| f64::from(c.day),
        "day_of_week" => |c| f64::from(c.weekday),
        "day_of_year" => |c| f64::from(c.yday),
        "days_in_month" => |c| f64::from(days_in_month(c.year, c.month)),
        "hour" => |c| f64::from(c.hour),
        "minute" => |c| f64::from(c.minute),
        "month" => |c| f64::from(c.month),
        _ => |c| c.year as f64,
    }
}

/// Seconds from a float the way Go's `int64(f)` does on amd64: truncation,
/// and the minimum int64 for NaN and out-of-range values.
fn float_to_secs(x: f64) -> i64 {
    // ±2^63: the int64 range's float bounds.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if (-LIMIT..LIMIT).contains(&x) {
        x as i64
    } else {
        i64::MIN
    }
}

/// A UTC date and time of day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Civil {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    /// 0 = Sunday.
    pub weekday: u32,
    /// 1-based day of the year.
    pub yday: u32,
}

impl Civil {
    /// The UTC calendar time `secs` seconds after the epoch.
    pub(crate) fn of_seconds(secs: i64) -> Civil {
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        let jan1 = days_from_civil(year, 1, 1);
        Civil {
            year,
            month,
            day,
            hour: (rem / 3600) as u32,
            minute: (rem % 3600 / 60) as u32,
            second: (rem % 60) as u32,
            // 1970-01-01 was a Thursday.
            weekday: (days + 4).rem_euclid(7) as u32,
            yday: (days - jan1 + 1) as u32,
        }
    }
}

/// Go's `time.Unix(secs, 0).UTC().Format(time.RFC3339)`, as annotation texts print times.
pub(crate) fn rfc3339(secs: i64) -> String {
    let c = Civil::of_seconds(secs);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        c.year, c.month, c.day, c.hour, c.minute, c.second
    )
}

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// algorithm, in 128-bit arithmetic so extreme years cannot overflow).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = i128::from(y) - i128::from(m <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i128::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i128::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    i64::try_from(days).unwrap_or(if days < 0 { i64::MIN } else { i64::MAX })
}

/// The proleptic Gregorian (year, month, day) `days` after 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = i128::from(days) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i128::from(month <= 2);
    let year = i64::try_from(year).unwrap_or(if year < 0 { i64::MIN } else { i64::MAX });
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        // 2006-01-02T22:04:05Z, a Monday (functions.test's reference time).
        let c = Civil::of_seconds(1_136_239_445);
        assert_eq!((c.year, c.month, c.day), (2006, 1, 2));
        assert_eq!((c.hour, c.minute, c.second), (22, 4, 5));
        assert_eq!(c.weekday, 1);
        assert_eq!(c.yday, 2);
        // 2016-02-29 23:59:59 and the next second.
        let c = Civil::of_seconds(1_456_790_399);
        assert_eq!((c.month, c.day), (2, 29));
        let c = Civil::of_seconds(1_456_790_400);
        assert_eq!((c.month, c.day), (3, 1));
        // 2016-12-31 is day 366.
        assert_eq!(Civil::of_seconds(1_483_191_420).yday, 366);
        let c = Civil::of_seconds(-1);
        assert_eq!((c.year, c.month, c.day, c.hour), (1969, 12, 31, 23));
        assert_eq!(c.weekday, 3);
        assert_eq!(days_in_month(2016, 2), 29);
        assert_eq!(days_in_month(1900, 2), 28);
        assert_eq!(days_in_month(2017, 2), 28);
    }

    #[test]
    fn rfc3339_times() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(3000), "1970-01-01T00:50:00Z");
    }

    #[test]
    fn extreme_seconds_do_not_panic() {
        let _ = Civil::of_seconds(i64::MIN);
        let _ = Civil::of_seconds(i64::MAX);
        assert_eq!(float_to_secs(f64::NAN), i64::MIN);
        assert_eq!(float_to_secs(-1.9), -1);
        assert_eq!(float_to_secs(1e300), i64::MIN);
    }

    #[test]
    fn round_trip_days() {
        for d in [-800_000i64, -1, 0, 59, 60, 365, 11_016, 2_932_896] {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
    }
}
