//! Binary operators: arithmetic, comparison (with `bool`), set operators, and
//! vector matching (`on`, `ignoring`, `group_left`, `group_right`).

use promql_parser::parser::BinaryExpr;

use crate::error::{EvalError, EvalResult};
use crate::eval::Evaluator;
use crate::value::Value;

/// Evaluates a binary expression over all steps.
pub fn eval(ev: &Evaluator<'_>, b: &BinaryExpr) -> EvalResult<Value> {
    let _ = (ev, b);
    Err(EvalError::exec("binary operators: in progress"))
}
