//! `and`, `or`, `unless`: per step, a left-hand sample is kept (`and`) or
//! dropped (`unless`) when some right-hand sample at that step has its match
//! signature; `or` adds the right-hand samples whose signature no left-hand
//! sample has at that step. Samples keep their series' labels; histogram
//! samples take part as float ones do.

use super::{Matching, Op};
use crate::error::EvalResult;
use crate::eval::Evaluator;
use crate::grouping::ByStep;
use crate::value::Series;

/// Evaluates a set operator over all steps.
pub(super) fn eval(
    ev: &Evaluator<'_>,
    op: Op,
    lhs: Vec<Series>,
    rhs: Vec<Series>,
    m: &Matching,
) -> EvalResult<Vec<Series>> {
    // Short cuts that need no matching at all.
    match op {
        Op::And if lhs.is_empty() || rhs.is_empty() => return Ok(Vec::new()),
        Op::Or if lhs.is_empty() => return Ok(rhs),
        Op::Or if rhs.is_empty() => return Ok(lhs),
        Op::Unless if lhs.is_empty() || rhs.is_empty() => return Ok(lhs),
        _ => {}
    }
    let steps = ev.steps;
    let n = steps.len();
    let (lsig, rsig, nsig) = m.signatures(&lhs, &rhs);
    let lsteps = ByStep::new_all(&lhs, &steps);
    let rsteps = ByStep::new_all(&rhs, &steps);

    // `present[sig] == stamp`: the signature occurs on the probed side at this step.
    let mut present = vec![0u32; nsig];
    // Which samples of the side being filtered survive, by series then sample.
    let (filtered, fsig, psig, fsteps, psteps) = match op {
        Op::Or => (&rhs, &rsig, &lsig, &rsteps, &lsteps),
        _ => (&lhs, &lsig, &rsig, &lsteps, &rsteps),
    };
    let mut keep: Vec<Vec<bool>> = filtered
        .iter()
        .map(|s| vec![false; s.samples.len() + s.histograms.len()])
        .collect();
    let want_present = op == Op::And;
    for i in 0..n {
        if i % 256 == 0 {
            ev.check_deadline()?;
        }
        let stamp = i as u32 + 1;
        for a in psteps.at(i) {
            present[psig[a.series as usize] as usize] = stamp;
        }
        for a in fsteps.at(i) {
            let is_present = present[fsig[a.series as usize] as usize] == stamp;
            keep[a.series as usize][a.sample as usize] = is_present == want_present;
        }
    }

    let mut filtered_out: Vec<Series> = Vec::with_capacity(keep.len());
    let (filtered_owned, other) = match op {
        Op::Or => (rhs, Some(lhs)),
        _ => (lhs, None),
    };
    for (mut s, k) in filtered_owned.into_iter().zip(keep) {
        // Floats first, then histograms: `ByStep::new_all`'s numbering.
        let mut it = k.into_iter();
        s.samples.retain(|_| it.next().unwrap_or(false));
        s.histograms.retain(|_| it.next().unwrap_or(false));
        if !s.is_empty() {
            filtered_out.push(s);
        }
    }
    match other {
        // `or`: all of the left side, then what survives of the right; the two
        // may hold equal label sets at different steps.
        Some(mut left) => {
            left.extend(filtered_out);
            ev.dedup(left)
        }
        None => Ok(filtered_out),
    }
}
