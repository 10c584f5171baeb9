//! Aggregation operators (`sum`, `avg`, `topk`, ... with `by`/`without`).
//!
//! Every input series is assigned its group once (a [`KeyTable`] id, groups
//! in order of first appearance, as Prometheus orders them); the steps are
//! then walked with flat per-group accumulators.
//!
//! - [`simple`] does `sum`, `avg`, `min`, `max`, `count`, `group`, `stddev`, `stdvar`;
//! - [`quantile`] does `quantile`;
//! - [`topk`] does `topk`, `bottomk`, `limitk`, `limit_ratio`;
//! - [`count_values`] does `count_values`.

mod count_values;
mod quantile;
mod simple;
mod topk;

use model::{Labels, Sample};
use promql_parser::parser::token::{
    T_AVG, T_BOTTOMK, T_COUNT, T_COUNT_VALUES, T_GROUP, T_LIMIT_RATIO, T_LIMITK, T_MAX, T_MIN,
    T_QUANTILE, T_STDDEV, T_STDVAR, T_SUM, T_TOPK,
};
use promql_parser::parser::{AggregateExpr, Expr, LabelModifier};

use crate::error::{EvalError, EvalResult};
use crate::eval::Evaluator;
use crate::grouping::{KeyTable, LabelSubset};
use crate::value::{Series, Value};

/// Evaluates an aggregation (`node`, which is `a`) over all steps.
pub fn eval(ev: &Evaluator<'_>, node: &Expr, a: &AggregateExpr) -> EvalResult<Value> {
    let op = a.op.id();
    let subset = grouping_of(a.modifier.as_ref());
    if op == T_COUNT_VALUES {
        return count_values::eval(ev, a).map(Value::Vector);
    }
    // Prometheus evaluates the parameter before the aggregated expression.
    let param = match (&a.param, op) {
        (Some(p), T_TOPK | T_BOTTOMK | T_LIMITK | T_LIMIT_RATIO | T_QUANTILE) => {
            Some((ev.eval_scalar(p)?, p.as_ref()))
        }
        _ => None,
    };
    let mut input = ev.eval_vector(&a.expr)?;
    histogram_inputs(ev, node, a, &mut input)?;
    let groups = Groups::new(&input, subset);
    let out = match (op, param) {
        (T_TOPK | T_BOTTOMK | T_LIMITK | T_LIMIT_RATIO, Some((k, node))) => {
            let kind = match op {
                T_TOPK => topk::Kind::Top,
                T_BOTTOMK => topk::Kind::Bottom,
                T_LIMITK => topk::Kind::Limit,
                _ => topk::Kind::Ratio,
            };
            topk::eval(ev, kind, &input, &groups, &k, node)?
        }
        (T_QUANTILE, Some((q, node))) => quantile::eval(ev, &input, &groups, &q, node)?,
        (T_SUM, _) => simple::eval(ev, simple::Kind::Sum, &input, &groups)?,
        (T_AVG, _) => simple::eval(ev, simple::Kind::Avg, &input, &groups)?,
        (T_MIN, _) => simple::eval(ev, simple::Kind::Min, &input, &groups)?,
        (T_MAX, _) => simple::eval(ev, simple::Kind::Max, &input, &groups)?,
        (T_COUNT, _) => simple::eval(ev, simple::Kind::Count, &input, &groups)?,
        (T_GROUP, _) => simple::eval(ev, simple::Kind::Group, &input, &groups)?,
        (T_STDDEV, _) => simple::eval(ev, simple::Kind::Stddev, &input, &groups)?,
        (T_STDVAR, _) => simple::eval(ev, simple::Kind::Stdvar, &input, &groups)?,
        _ => {
            return Err(EvalError::exec(format!(
                "aggregation \"{}\" is not supported here",
                a.op
            )));
        }
    };
    Ok(Value::Vector(out))
}

/// Native-histogram samples in an aggregation's input, as Prometheus treats
/// them: `count` and `group` count them (as placeholders, their values unused),
/// the float-only aggregations skip them with an info, `sum`, `avg`, `limitk`
/// and `limit_ratio` (which compute or pass on histograms) are refused.
fn histogram_inputs(
    ev: &Evaluator<'_>,
    node: &Expr,
    a: &AggregateExpr,
    input: &mut Vec<Series>,
) -> EvalResult<()> {
    if !crate::histograms::any(input) {
        return Ok(());
    }
    let op = a.op.id();
    match op {
        T_COUNT | T_GROUP => {
            input
                .iter_mut()
                .for_each(crate::histograms::into_placeholders);
            Ok(())
        }
        T_MIN | T_MAX | T_STDDEV | T_STDVAR | T_QUANTILE | T_TOPK | T_BOTTOMK => {
            crate::histograms::drop_all(input);
            let text = crate::histograms::ignored_in_aggregation(&a.op.to_string());
            // Prometheus points at the aggregated expression, for topk/bottomk at the whole.
            if matches!(op, T_TOPK | T_BOTTOMK) {
                ev.info(&text, node);
            } else {
                ev.info(&text, &a.expr);
            }
            Ok(())
        }
        _ => Err(crate::histograms::unsupported(&format!("{}()", a.op))),
    }
}

/// The label subset `by (...)`/`without (...)` groups on; none means one group.
pub(crate) fn grouping_of(m: Option<&LabelModifier>) -> LabelSubset {
    match m {
        Some(LabelModifier::Include(l)) => LabelSubset::only(&l.labels),
        Some(LabelModifier::Exclude(l)) => LabelSubset::all_but(&l.labels),
        None => LabelSubset::only::<&str>(&[]),
    }
}

/// The group of every input series.
pub(crate) struct Groups<'a> {
    /// Group id of each input series.
    pub ids: Vec<u32>,
    /// The groups, in order of first appearance.
    pub table: KeyTable<'a>,
}

impl<'a> Groups<'a> {
    /// Groups `input` on `subset`.
    pub fn new(input: &'a [Series], subset: LabelSubset) -> Self {
        let mut table = KeyTable::new(subset);
        let ids = table.ids_of(input);
        Groups { ids, table }
    }

    /// Number of groups.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// The output labels of group `g`.
    pub fn labels(&self, g: usize) -> Labels {
        self.table.labels_of(g as u32)
    }

    /// The output series, in group order: per group with any samples, its
    /// labels, `samples[g]` and `drop_name[g]`.
    pub fn series(&self, samples: Vec<Vec<Sample>>, drop_name: Vec<bool>) -> Vec<Series> {
        samples
            .into_iter()
            .zip(drop_name)
            .enumerate()
            .filter(|(_, (samples, _))| !samples.is_empty())
            .map(|(g, (samples, drop_name))| Series {
                labels: self.labels(g),
                samples,
                histograms: Vec::new(),
                drop_name,
            })
            .collect()
    }
}

/// Go's `math.Max`/`math.Min` over a parameter's values (NaN wins), and
/// whether any is NaN, as Prometheus checks aggregation parameters.
pub(crate) struct ParamRange {
    pub min: f64,
    pub max: f64,
    pub any_nan: bool,
}

impl ParamRange {
    /// The range of `values`.
    pub fn of(values: &[f64]) -> Self {
        let any_nan = values.iter().any(|v| v.is_nan());
        if any_nan {
            return ParamRange {
                min: f64::NAN,
                max: f64::NAN,
                any_nan,
            };
        }
        let (min, max) = values
            .iter()
            .fold((f64::MAX, -f64::MAX), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        ParamRange { min, max, any_nan }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn param_range_is_nan_when_any_is() {
        let r = ParamRange::of(&[1.0, f64::NAN, 3.0]);
        assert!(r.any_nan && r.max.is_nan() && r.min.is_nan());
        let r = ParamRange::of(&[2.0, -1.0]);
        assert_eq!((r.min, r.max), (-1.0, 2.0));
    }
}

#[cfg(test)]
mod engine_tests;
