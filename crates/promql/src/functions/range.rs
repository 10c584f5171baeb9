//! Functions of a range vector.

use promql_parser::parser::Call;

use crate::error::{EvalError, EvalResult};
use crate::eval::Evaluator;
use crate::value::Value;

/// Evaluates a range-vector function.
pub fn call(ev: &Evaluator<'_>, c: &Call) -> EvalResult<Value> {
    let _ = ev;
    Err(EvalError::exec(format!(
        "function {}: in progress",
        c.func.name
    )))
}
