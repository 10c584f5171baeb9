//! `quantile(φ, v)`: per group and step, the φ-quantile of the values by
//! linear interpolation between the closest ranks; NaN sorts lowest.

use model::Sample;
use promql_parser::parser::Expr;

use super::{Groups, ParamRange};
use crate::annotations::invalid_quantile;
use crate::error::EvalResult;
use crate::eval::Evaluator;
use crate::grouping::ByStep;
use crate::stats::quantile;
use crate::value::Series;

/// Evaluates `quantile` with `q` per step; `param` is the φ node (for warnings).
pub(super) fn eval(
    ev: &Evaluator<'_>,
    input: &[Series],
    groups: &Groups<'_>,
    q: &[f64],
    param: &Expr,
) -> EvalResult<Vec<Series>> {
    let r = ParamRange::of(q);
    if r.any_nan {
        ev.warn(&invalid_quantile(f64::NAN), param);
    }
    if r.max > 1.0 {
        ev.warn(&invalid_quantile(r.max), param);
    }
    if r.min < 0.0 {
        ev.warn(&invalid_quantile(r.min), param);
    }
    let steps = ev.steps;
    let ng = groups.len();
    let by_step = ByStep::new(input, &steps);
    let mut values: Vec<Vec<f64>> = vec![Vec::new(); ng];
    let mut drop_step = vec![false; ng];
    let mut touched: Vec<usize> = Vec::new();
    let mut out: Vec<Vec<Sample>> = vec![Vec::new(); ng];
    let mut drop_last = vec![false; ng];
    for i in 0..steps.len() {
        if i % 256 == 0 {
            ev.check_deadline()?;
        }
        for a in by_step.at(i) {
            let s = &input[a.series as usize];
            let g = groups.ids[a.series as usize] as usize;
            if values[g].is_empty() {
                touched.push(g);
                drop_step[g] = false;
            }
            values[g].push(s.samples[a.sample as usize].v);
            drop_step[g] |= s.drop_name;
        }
        let phi = q.get(i).copied().unwrap_or(f64::NAN);
        for &g in &touched {
            out[g].push(Sample::new(steps.at(i), quantile(phi, &mut values[g])));
            drop_last[g] = drop_step[g];
            values[g].clear();
        }
        touched.clear();
    }
    Ok(groups.series(out, drop_last))
}
