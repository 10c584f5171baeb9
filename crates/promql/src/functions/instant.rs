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
//! - [`info`]: `info`, enriching series with info-metric labels;
//! - [`gofmt`]: Go's float and time formatting, for labels and annotation texts.

mod gofmt;
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
        | "histogram_stdvar" => histogram::native_only(ev, &args),
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

/// Applies `f(step index, value)` to every sample of the vector argument; a
/// `None` drops the sample. The metric name is dropped, as every function that
/// computes a new value does.
fn map_samples(
    ev: &Evaluator<'_>,
    v: Vec<Series>,
    mut f: impl FnMut(usize, f64) -> Option<f64>,
) -> EvalResult<Value> {
    let mut out = Vec::with_capacity(v.len());
    for mut s in v {
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
