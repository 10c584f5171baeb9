//! Function calls, dispatched by name to the module that implements them:
//!
//! - [`range`]: functions of a range vector (`rate`, `*_over_time`, `deriv`, ...);
//! - [`instant`]: functions of instant vectors and scalars (math, clamp, time and
//!   date, `label_*`, `sort*`, `histogram_*` on classic buckets, `absent`, `info`, ...);
//! - [`absent`]: the output series `absent` and `absent_over_time` share.

mod absent;
pub mod instant;
pub mod range;

use promql_parser::parser::Call;

use crate::error::EvalResult;
use crate::eval::Evaluator;
use crate::value::Value;

/// Functions whose first (or only) vector argument is a range vector.
pub const RANGE_FUNCTIONS: &[&str] = &[
    "rate",
    "irate",
    "increase",
    "delta",
    "idelta",
    "deriv",
    "predict_linear",
    "double_exponential_smoothing",
    "changes",
    "resets",
    "avg_over_time",
    "min_over_time",
    "max_over_time",
    "sum_over_time",
    "count_over_time",
    "stddev_over_time",
    "stdvar_over_time",
    "last_over_time",
    "first_over_time",
    "present_over_time",
    "absent_over_time",
    "quantile_over_time",
    "mad_over_time",
    "ts_of_first_over_time",
    "ts_of_last_over_time",
    "ts_of_max_over_time",
    "ts_of_min_over_time",
];

/// Evaluates a function call over all steps.
pub fn call(ev: &Evaluator<'_>, c: &Call) -> EvalResult<Value> {
    if RANGE_FUNCTIONS.contains(&c.func.name) {
        range::call(ev, c)
    } else {
        instant::call(ev, c)
    }
}
