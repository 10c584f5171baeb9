//! Aggregation operators (`sum`, `avg`, `topk`, ... with `by`/`without`).

use promql_parser::parser::AggregateExpr;

use crate::error::{EvalError, EvalResult};
use crate::eval::Evaluator;
use crate::value::Value;

/// Evaluates an aggregation over all steps.
pub fn eval(ev: &Evaluator<'_>, a: &AggregateExpr) -> EvalResult<Value> {
    let _ = (ev, a);
    Err(EvalError::exec("aggregations: in progress"))
}
