//! Conversions and presence: `vector`, `scalar`, `absent`, `start_timestamp`.

use model::{Labels, Sample};
use promql_parser::parser::Expr;

use super::arg;
use crate::error::EvalResult;
use crate::eval::Evaluator;
use crate::functions::absent;
use crate::value::{Series, Value};

/// `vector(s)`: the scalar as one series without labels.
pub(super) fn vector(ev: &Evaluator<'_>, args: &[&Expr]) -> EvalResult<Value> {
    let s = ev.eval_scalar(arg(args, 0)?)?;
    let samples = s
        .iter()
        .enumerate()
        .map(|(i, v)| Sample::new(ev.steps.at(i), *v))
        .collect();
    Ok(Value::Vector(vec![Series::new(Labels::empty(), samples)]))
}

/// `scalar(v)`: the value of the only float sample at each step, NaN when there
/// is none or more than one (histogram samples do not count, as in Prometheus).
pub(super) fn scalar(ev: &Evaluator<'_>, args: &[&Expr]) -> EvalResult<Value> {
    let v = ev.eval_vector(arg(args, 0)?)?;
    let n = ev.steps.len();
    let mut count = vec![0u32; n];
    let mut out = vec![f64::NAN; n];
    for p in v.iter().flat_map(|s| &s.samples) {
        if let Some(i) = ev.steps.index_of(p.t) {
            count[i] = count[i].saturating_add(1);
            out[i] = p.v;
        }
    }
    for (o, c) in out.iter_mut().zip(&count) {
        if *c != 1 {
            *o = f64::NAN;
        }
    }
    Ok(Value::Scalar(out))
}

/// `absent(v)`: 1 at the steps where `v` has no sample, labelled with the
/// selector's equality matchers (none when `v` is not a selector).
pub(super) fn absent(ev: &Evaluator<'_>, args: &[&Expr]) -> EvalResult<Value> {
    let a = arg(args, 0)?;
    let v = ev.eval_vector(a)?;
    let n = ev.steps.len();
    let mut present = vec![false; n];
    let floats = v.iter().flat_map(|s| s.samples.iter().map(|p| p.t));
    let hists = v.iter().flat_map(|s| s.histograms.iter().map(|h| h.t));
    for t in floats.chain(hists) {
        if let Some(i) = ev.steps.index_of(t) {
            present[i] = true;
        }
    }
    Ok(Value::Vector(absent::series(&present, &ev.steps, a)))
}

/// `start_timestamp(v)`: the start (created) times of `v`'s samples. The store
/// keeps none, which is Prometheus's behaviour without start timestamps: an
/// empty result.
pub(super) fn start_timestamp(ev: &Evaluator<'_>, args: &[&Expr]) -> EvalResult<Value> {
    ev.eval_vector(arg(args, 0)?)?;
    Ok(Value::Vector(Vec::new()))
}
