//! Functions of instant vectors and scalars, dispatched by name:
//!
//! - [`math`]: value-wise arithmetic (`abs`, `ln`, trig, `round`, `clamp*`, ...)
//!   and the scalar helpers `pi`, `max_of`, `min_of`;
//! - [`time`]: `time`, `timestamp`, the calendar functions, and the query
//!   context functions `start`, `end`, `range`, `step`;
//! - [`label`]: `label_replace`, `label_join`;
//! - [`sort`]: `sort`, `sort_desc`, `sort_by_label`, `sort_by_label_desc`;
//! - [`histogram`]: `histogram_quantile(s)` and `histogram_fraction` over classic
//!   `le` buckets, and the native-histogram functions (no native samples here);
//! - [`misc`]: `vector`, `scalar`, `absent`, `start_timestamp`;
//! - [`info`]: `info`, enriching series with info-metric labels.

mod histogram;
mod info;
mod label;
mod math;
mod misc;
mod sort;
mod time;

use model::Sample;
use promql_parser::parser::{Call, Expr};

use crate::error::{EvalError, EvalResult};
use crate::eval::Evaluator;
use crate::value::{Series, Value};

/// Evaluates an instant-vector or scalar function.
pub fn call(ev: &Evaluator<'_>, c: &Call) -> EvalResult<Value> {
    // Prometheus removes parentheses around arguments before evaluating, so
    // `timestamp((x))` still sees a selector and annotations point inside.
    let args: Vec<&Expr> = c.args.args.iter().map(|a| unparen(a)).collect();
    let name = c.func.name;
    match name {
        "abs" | "ceil" | "floor" | "exp" | "sqrt" | "ln" | "log2" | "log10" | "sin" | "cos"
        | "tan" | "asin" | "acos" | "atan" | "sinh" | "cosh" | "tanh" | "asinh" | "acosh"
        | "atanh" | "deg" | "rad" | "sgn" => math::simple(ev, name, &args),
        "round" => math::round(ev, &args),
        "clamp" | "clamp_min" | "clamp_max" => math::clamp(ev, name, &args),
        "pi" => Ok(Value::Scalar(vec![std::f64::consts::PI; ev.steps.len()])),
        "max_of" | "min_of" => math::min_max_of(ev, name, &args),
        "time" => Ok(time::time(ev)),
        "start" | "end" | "range" | "step" => Ok(time::query_context(ev, name)),
        "timestamp" => time::timestamp(ev, &args),
        "day_of_month" | "day_of_week" | "day_of_year" | "days_in_month" | "hour" | "minute"
        | "month" | "year" => time::calendar(ev, name, &args),
        "label_replace" => label::replace(ev, &args),
        "label_join" => label::join(ev, &args),
        "sort" | "sort_desc" | "sort_by_label" | "sort_by_label_desc" => sort::call(ev, c, &args),
        "histogram_quantile" => histogram::quantile(ev, &args),
        "histogram_quantiles" => histogram::quantiles(ev, &args),
        "histogram_fraction" => histogram::fraction(ev, &args),
        "histogram_count" | "histogram_sum" | "histogram_avg" | "histogram_stddev"
        | "histogram_stdvar" => histogram::native_only(ev, name, &args),
        "vector" => misc::vector(ev, &args),
        "scalar" => misc::scalar(ev, &args),
        "absent" => misc::absent(ev, &args),
        "start_timestamp" => misc::start_timestamp(ev, &args),
        "info" => info::info(ev, &args),
        // The parser knows functions Prometheus does not (e.g. `integral`);
        // Prometheus refuses them when parsing.
        other => Err(EvalError::Parse(format!(
            "parse error: unknown function with name \"{other}\""
        ))),
    }
}

/// `e` without enclosing parentheses.
pub(crate) fn unparen(mut e: &Expr) -> &Expr {
    while let Expr::Paren(p) = e {
        e = &p.expr;
    }
    e
}

/// Argument `i`, or an error naming the function's arity problem (the parser
/// checks arity, so this only guards against ASTs built by hand).
fn arg<'e>(args: &[&'e Expr], i: usize) -> EvalResult<&'e Expr> {
    args.get(i)
        .copied()
        .ok_or_else(|| EvalError::exec(format!("missing argument {}", i + 1)))
}

/// A scalar argument's value at step `i` (NaN past its end, which cannot happen
/// for a scalar evaluated over the same steps).
fn at_step(values: &[f64], i: usize) -> f64 {
    values.get(i).copied().unwrap_or(f64::NAN)
}

/// Applies `f(step index, value)` to every float sample of the vector argument;
/// a `None` drops the sample, and histogram samples are dropped (as Prometheus's
/// float functions skip them). The metric name is dropped, as every function
/// that computes a new value does.
fn map_samples(
    ev: &Evaluator<'_>,
    v: Vec<Series>,
    mut f: impl FnMut(usize, f64) -> Option<f64>,
) -> EvalResult<Value> {
    let mut out = Vec::with_capacity(v.len());
    for mut s in v {
        s.histograms.clear();
        s.samples = s
            .samples
            .iter()
            .filter_map(|p| {
                let i = ev.steps.index_of(p.t)?;
                Some(Sample::new(p.t, f(i, p.v)?))
            })
            .collect();
        if s.samples.is_empty() {
            continue;
        }
        ev.drop_name(&mut s);
        out.push(s);
    }
    Ok(Value::Vector(ev.dedup(out)?))
}

#[cfg(test)]
mod tests {
    use model::Labels;

    use crate::engine::{Engine, EngineOptions};
    use crate::promqltest::store::MemStore;
    use crate::value::QueryValue;

    fn store() -> MemStore {
        let mut s = MemStore::new();
        // A classic histogram whose `le="1"` count dips below `le="0.1"`.
        for (le, step) in [("0.1", 2.0), ("1", 1.0), ("+Inf", 4.0)] {
            let l = Labels::from_pairs([("__name__", "h_bucket"), ("le", le)]);
            for k in 0..=10 {
                s.add(&l, k * 60_000, step * k as f64);
            }
        }
        s
    }

    fn range(q: &str, start: i64, end: i64, step: i64) -> crate::QueryResult {
        Engine::new(EngineOptions::default())
            .range_query(&store(), q, start, end, step, None)
            .expect("query runs")
    }

    fn values(r: &crate::QueryResult) -> Vec<f64> {
        match &r.value {
            QueryValue::Matrix(m) => m
                .iter()
                .flat_map(|s| s.samples.iter().map(|p| p.v))
                .collect(),
            other => panic!("matrix expected, got {other:?}"),
        }
    }

    #[test]
    fn step_is_the_outer_query_step_inside_subqueries() {
        let r = range(
            "max_over_time(vector(step())[1m:10s])",
            60_000,
            120_000,
            30_000,
        );
        assert_eq!(values(&r), [30.0, 30.0, 30.0]);
    }

    #[test]
    fn calendar_without_argument_truncates_negative_times_like_go() {
        let r = Engine::new(EngineOptions::default())
            .instant_query(&store(), "minute() + hour() * 100", -1_500, None)
            .expect("query runs");
        let QueryValue::Vector(v) = r.value else {
            panic!("vector expected")
        };
        // Go's -1500/1000 is -1: 23:59:59 on 1969-12-31.
        assert_eq!(v[0].v, 2359.0);
    }

    #[test]
    fn monotonicity_info_is_merged_over_steps() {
        let r = range("histogram_quantile(0.5, h_bucket)", 60_000, 180_000, 60_000);
        let infos: Vec<&String> = r.annotations.infos.iter().collect();
        assert_eq!(infos.len(), 1, "{infos:?}");
        assert!(
            infos[0].contains(
                "from buckets 1 to 1, with a max diff of 3, over 3 samples from 1970-01-01T00:01:00Z to 1970-01-01T00:03:00Z"
            ),
            "{}",
            infos[0]
        );
    }

    #[test]
    fn label_replace_refuses_bad_regex_before_evaluating() {
        let err = Engine::new(EngineOptions::default())
            .instant_query(
                &store(),
                r#"label_replace(h_bucket, "a", "b", "le", "(")"#,
                0,
                None,
            )
            .expect_err("invalid regex");
        assert_eq!(
            err.to_string(),
            "invalid regular expression in label_replace(): ("
        );
    }
}
