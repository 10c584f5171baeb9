//! Conversions and presence: `vector`, `scalar`, `absent`, `start_timestamp`.

use model::{Labels, LabelsBuilder, METRIC_NAME_LABEL, Sample};
use promql_parser::label::MatchOp;
use promql_parser::parser::Expr;

use super::arg;
use crate::error::EvalResult;
use crate::eval::Evaluator;
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

/// `scalar(v)`: the value of the only sample at each step, NaN when there is
/// none or more than one.
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
    for p in v.iter().flat_map(|s| &s.samples) {
        if let Some(i) = ev.steps.index_of(p.t) {
            present[i] = true;
        }
    }
    let samples: Vec<Sample> = present
        .iter()
        .enumerate()
        .filter(|(_, p)| !**p)
        .map(|(i, _)| Sample::new(ev.steps.at(i), 1.0))
        .collect();
    if samples.is_empty() {
        return Ok(Value::Vector(Vec::new()));
    }
    Ok(Value::Vector(vec![Series::new(absent_labels(a), samples)]))
}

/// The labels `absent` gives: each label matched by exactly one equality
/// matcher; a label matched any other way, or twice, is left out (Prometheus
/// keeps this historic behaviour).
fn absent_labels(e: &Expr) -> Labels {
    let matchers = match e {
        Expr::VectorSelector(vs) => &vs.matchers.matchers,
        Expr::MatrixSelector(ms) => &ms.vs.matchers.matchers,
        _ => return Labels::empty(),
    };
    let mut b = LabelsBuilder::new(Labels::empty());
    let mut seen: Vec<&str> = Vec::new();
    for m in matchers {
        if m.name == METRIC_NAME_LABEL {
            continue;
        }
        if matches!(m.op, MatchOp::Equal) && !seen.contains(&m.name.as_str()) {
            b.set(m.name.as_str(), m.value.as_str());
            seen.push(&m.name);
        } else {
            b.del(&m.name);
        }
    }
    b.build()
}

/// `start_timestamp(v)`: the start (created) times of `v`'s samples. The store
/// keeps none, which is Prometheus's behaviour without start timestamps: an
/// empty result.
pub(super) fn start_timestamp(ev: &Evaluator<'_>, args: &[&Expr]) -> EvalResult<Value> {
    ev.eval_vector(arg(args, 0)?)?;
    Ok(Value::Vector(Vec::new()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels_of(q: &str) -> Labels {
        let p = crate::parse::parse(q).expect("parses");
        absent_labels(&p.expr)
    }

    #[test]
    fn absent_labels_from_equality_matchers() {
        assert_eq!(
            labels_of(r#"x{job="a", foo=~"b", bar="c"}"#),
            Labels::from_pairs([("bar", "c"), ("job", "a")])
        );
        assert_eq!(
            labels_of(r#"x{job="a", job="b", foo="bar"}"#),
            Labels::from_pairs([("foo", "bar")])
        );
        assert_eq!(
            labels_of(r#"{__name__="x", a="1"}"#),
            Labels::from_pairs([("a", "1")])
        );
        assert_eq!(labels_of("sum(x)"), Labels::empty());
    }
}
