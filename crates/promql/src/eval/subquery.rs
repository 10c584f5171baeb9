//! Range arguments: the raw series of a matrix selector or a subquery, and the
//! `(end - range, end]` window each step of the enclosing evaluation sees.

use std::sync::Arc;

use model::{CounterResetHint, HistogramSample, Sample, Timestamp};
use promql_parser::parser::SubqueryExpr;

use super::{Evaluator, duration_ms, offset_ms};
use crate::error::EvalResult;
use crate::value::{Series, Steps, Value};

/// A range vector ready for per-step windows.
#[derive(Debug, Clone)]
pub struct RangeArg {
    /// The series, samples sorted by time, staleness markers removed.
    pub series: Vec<Series>,
    /// The range, ms.
    pub range: i64,
    /// For each step of the enclosing evaluation, the window's (inclusive) end.
    pub ends: Vec<Timestamp>,
    /// The enclosing evaluation's steps.
    pub steps: Steps,
}

/// One step's view of one series.
#[derive(Debug, Clone, Copy)]
pub struct Window<'s> {
    /// Index of the step.
    pub step: usize,
    /// Time of the step (the output sample's time).
    pub t: Timestamp,
    /// Exclusive start of the window, ms.
    pub start: Timestamp,
    /// Inclusive end of the window, ms.
    pub end: Timestamp,
    /// The float samples in `(start, end]`.
    pub samples: &'s [Sample],
    /// The histogram samples in `(start, end]`.
    pub histograms: &'s [HistogramSample],
}

impl RangeArg {
    /// The windows of `series` for every step, including empty ones.
    pub fn windows<'s>(&'s self, series: &'s Series) -> impl Iterator<Item = Window<'s>> + 's {
        let samples = &series.samples[..];
        let hists = &series.histograms[..];
        self.ends.iter().enumerate().map(move |(i, &end)| {
            let start = end.saturating_sub(self.range);
            let lo = samples.partition_point(|p| p.t <= start);
            let hi = samples.partition_point(|p| p.t <= end);
            let hlo = hists.partition_point(|p| p.t <= start);
            let hhi = hists.partition_point(|p| p.t <= end);
            Window {
                step: i,
                t: self.steps.at(i),
                start,
                end,
                samples: &samples[lo..hi.max(lo)],
                histograms: &hists[hlo..hhi.max(hlo)],
            }
        })
    }

    /// The value of an instant query of this range vector: each series' samples
    /// in the first (only) step's window.
    pub fn instant_matrix(&self) -> Vec<Series> {
        let mut out = Vec::new();
        for s in &self.series {
            if let Some(w) = self.windows(s).next()
                && (!w.samples.is_empty() || !w.histograms.is_empty())
            {
                out.push(Series::with_histograms(
                    s.labels.clone(),
                    w.samples.to_vec(),
                    w.histograms.to_vec(),
                ));
            }
        }
        out
    }
}

/// Evaluates a subquery's inner expression at its own steps, aligned to
/// multiples of its step, covering every window of the enclosing steps.
pub(crate) fn eval_subquery(ev: &Evaluator<'_>, sq: &SubqueryExpr) -> EvalResult<RangeArg> {
    let offset = offset_ms(&sq.offset);
    let range = duration_ms(sq.range);
    let step = sq
        .step
        .map(duration_ms)
        .filter(|s| *s > 0)
        .unwrap_or(ev.opts().default_subquery_step_ms)
        .max(1);
    let at = ev.at_time(&sq.at);
    let ends: Vec<Timestamp> = (0..ev.steps.len())
        .map(|i| at.unwrap_or(ev.steps.at(i)).saturating_sub(offset))
        .collect();
    let first_end = ends.iter().copied().min().unwrap_or(0);
    let last_end = ends.iter().copied().max().unwrap_or(0);
    // The first step time after `first_end - range` that is a multiple of `step`.
    let lower = first_end.saturating_sub(range);
    let mut start = step * lower.div_euclid(step);
    if start <= lower {
        start += step;
    }
    let inner = ev.with_steps(Steps {
        start,
        end: last_end,
        step,
    });
    let series = if start > last_end {
        Vec::new()
    } else {
        match inner.eval(&sq.expr)? {
            Value::Vector(mut v) => {
                for s in &mut v {
                    forget_counter_reset_hints(&mut s.histograms);
                }
                v
            }
            Value::Scalar(vals) => vec![Series::new(
                model::Labels::empty(),
                vals.iter()
                    .enumerate()
                    .map(|(i, v)| Sample::new(inner.steps.at(i), *v))
                    .collect(),
            )],
            other => {
                return Err(crate::error::EvalError::exec(format!(
                    "subquery is only allowed on instant vector, got {}",
                    other.type_name()
                )));
            }
        }
    };
    Ok(RangeArg {
        series,
        range,
        ends,
        steps: ev.steps,
    })
}

/// Prometheus sets the `reset`/`not_reset` hints of a subquery's histograms to
/// `unknown`: the subquery may skip or repeat the samples the hints relate to.
fn forget_counter_reset_hints(hists: &mut [HistogramSample]) {
    for h in hists {
        if matches!(
            h.h.counter_reset_hint,
            CounterResetHint::Reset | CounterResetHint::NotReset
        ) {
            // Copies the histogram only when it is shared.
            Arc::make_mut(&mut h.h).counter_reset_hint = CounterResetHint::Unknown;
        }
    }
}
