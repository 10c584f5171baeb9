//! `quantile(φ, v)`: per group and step, the φ-quantile of the values by
//! linear interpolation between the closest ranks; NaN sorts lowest.

use std::cmp::Ordering;

use model::Sample;
use promql_parser::parser::Expr;

use super::{Groups, ParamRange};
use crate::error::EvalResult;
use crate::eval::Evaluator;
use crate::gofmt::go_g;
use crate::grouping::ByStep;
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
    Ok(out
        .into_iter()
        .zip(drop_last)
        .enumerate()
        .filter(|(_, (samples, _))| !samples.is_empty())
        .map(|(g, (samples, drop_name))| Series {
            labels: groups.labels(g),
            samples,
            drop_name,
        })
        .collect())
}

fn invalid_quantile(q: f64) -> String {
    format!("quantile value should be between 0 and 1, got {}", go_g(q))
}

/// NaN lowest, otherwise by value.
fn nan_lowest(a: &f64, b: &f64) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        _ => a.partial_cmp(b).unwrap_or(Ordering::Equal),
    }
}

/// The φ-quantile of `values` (sorted in place): NaN for no values or NaN φ,
/// -Inf below 0, +Inf above 1.
pub(crate) fn quantile(phi: f64, values: &mut [f64]) -> f64 {
    if values.is_empty() || phi.is_nan() {
        return f64::NAN;
    }
    if phi < 0.0 {
        return f64::NEG_INFINITY;
    }
    if phi > 1.0 {
        return f64::INFINITY;
    }
    values.sort_by(nan_lowest);
    let n = values.len() as f64;
    let rank = phi * (n - 1.0);
    let lower = rank.floor().max(0.0);
    let upper = (lower + 1.0).min(n - 1.0);
    let weight = rank - rank.floor();
    values[lower as usize] * (1.0 - weight) + values[upper as usize] * weight
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolates_with_nan_lowest() {
        assert_eq!(quantile(0.8, &mut [0.0, 1.0]), 0.8);
        assert!((quantile(0.8, &mut [4.0, 0.0, 1.0]) - 2.8).abs() < 1e-12);
        assert!((quantile(0.8, &mut [0.0, 1.0, f64::NAN]) - 0.6).abs() < 1e-12);
        assert!(quantile(0.2, &mut [0.0, 1.0, f64::NAN]).is_nan());
        assert_eq!(quantile(-1.0, &mut [1.0]), f64::NEG_INFINITY);
        assert_eq!(quantile(2.0, &mut [1.0]), f64::INFINITY);
        assert!(quantile(0.5, &mut []).is_nan());
    }
}
