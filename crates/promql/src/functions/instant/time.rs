//! Time functions: `time()`, `timestamp()`, the calendar functions (UTC, from
//! a value in seconds or from the step time), and the query context functions
//! `start()`, `end()`, `range()`, `step()`.

use gofmt::{Civil, days_in_month};
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
        let v = ev.select_sample_times(&matchers, offset, at, false)?;
        return map_samples(ev, v, |_, t_ms| Some(t_ms / 1000.0));
    }
    // Any other vector's samples carry the step time; histogram samples count
    // too, so they become placeholders for `map_samples`, which keeps floats.
    let mut v = ev.eval_vector(a)?;
    v.iter_mut().for_each(crate::histograms::into_placeholders);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_from_floats_as_go_converts() {
        assert_eq!(float_to_secs(f64::NAN), i64::MIN);
        assert_eq!(float_to_secs(-1.9), -1);
        assert_eq!(float_to_secs(1e300), i64::MIN);
    }
}
