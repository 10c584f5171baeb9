//! Selectors: read storage once for all steps, then pick per step.
//!
//! An instant-vector selector at time `t` takes each series' newest sample (float
//! or histogram) in `(t - lookback, t]` unless it is a staleness marker; a
//! range-vector selector takes the samples of both kinds in `(t - range, t]`
//! without staleness markers. `offset` moves `t` back; `@` pins it.

use model::{HistogramSample, Matcher, Sample, Timestamp, is_stale_nan};
use promql_parser::parser::{MatrixSelector, VectorSelector};
use storage::SelectHints;

use super::subquery::RangeArg;
use super::{Evaluator, Picked, duration_ms, lookback_point, offset_ms};
use crate::error::{EvalError, EvalResult};
use crate::parse::selector_matchers;
use crate::value::{Series, Value};

/// The reference time of each step for a selector with `offset` and `@`.
pub(crate) fn ref_times(
    ev: &Evaluator<'_>,
    offset: i64,
    at: Option<Timestamp>,
) -> impl Iterator<Item = Timestamp> {
    let steps = ev.steps;
    (0..steps.len()).map(move |i| at.unwrap_or(steps.at(i)).saturating_sub(offset))
}

/// Loads the series matching `matchers` with samples in `[mint, maxt]`.
pub(crate) fn select(
    ev: &Evaluator<'_>,
    matchers: &[Matcher],
    mint: Timestamp,
    maxt: Timestamp,
) -> EvalResult<Vec<storage::Series>> {
    ev.check_deadline()?;
    let querier = ev
        .sh
        .storage
        .querier(mint, maxt)
        .map_err(|e| EvalError::Storage(e.to_string()))?;
    let hints = SelectHints {
        start: mint,
        end: maxt,
        limit: 0,
    };
    let series = querier
        .select(&hints, matchers)
        .map_err(|e| EvalError::Storage(format!("expanding series: {e}")))?;
    ev.add_samples(series.iter().map(storage::Series::len).sum())?;
    Ok(series)
}

pub(crate) fn eval_vector_selector(ev: &Evaluator<'_>, vs: &VectorSelector) -> EvalResult<Value> {
    let matchers = selector_matchers(vs)?;
    let offset = offset_ms(&vs.offset);
    let at = ev.at_time(&vs.at);
    let lookback = ev.opts().lookback_delta_ms;
    let (lo, hi) = bounds(ref_times(ev, offset, at));
    let raw = select(
        ev,
        &matchers,
        lo.saturating_sub(lookback).saturating_add(1),
        hi,
    )?;
    let mut out = Vec::with_capacity(raw.len());
    for s in raw {
        let mut points = Vec::new();
        let mut hists = Vec::new();
        for (i, ref_t) in ref_times(ev, offset, at).enumerate() {
            match lookback_point(&s.samples, &s.histograms, ref_t, lookback) {
                Some(Picked::Float(p)) => points.push(Sample::new(ev.steps.at(i), p.v)),
                Some(Picked::Histogram(h)) => {
                    hists.push(HistogramSample::new(ev.steps.at(i), h.h.clone()));
                }
                None => {}
            }
        }
        if !points.is_empty() || !hists.is_empty() {
            out.push(Series::with_histograms(s.labels, points, hists));
        }
    }
    Ok(Value::Vector(out))
}

/// See [`Evaluator::select_sample_times`].
pub(crate) fn select_sample_times(
    ev: &Evaluator<'_>,
    matchers: &[Matcher],
    offset: i64,
    at: Option<Timestamp>,
    floats_only: bool,
) -> EvalResult<Vec<Series>> {
    let lookback = ev.opts().lookback_delta_ms;
    let (lo, hi) = bounds(ref_times(ev, offset, at));
    let raw = select(
        ev,
        matchers,
        lo.saturating_sub(lookback).saturating_add(1),
        hi,
    )?;
    let mut out = Vec::with_capacity(raw.len());
    for s in raw {
        let mut points: Vec<Sample> = Vec::new();
        for (i, ref_t) in ref_times(ev, offset, at).enumerate() {
            let Some(p) = lookback_point(&s.samples, &s.histograms, ref_t, lookback) else {
                continue;
            };
            if floats_only && matches!(p, Picked::Histogram(_)) {
                return Err(EvalError::exec("info sample should be float"));
            }
            points.push(Sample::new(ev.steps.at(i), p.t() as f64));
        }
        if !points.is_empty() {
            out.push(Series::new(s.labels, points));
        }
    }
    Ok(out)
}

pub(crate) fn eval_matrix_selector(
    ev: &Evaluator<'_>,
    ms: &MatrixSelector,
) -> EvalResult<RangeArg> {
    let vs = &ms.vs;
    let matchers = selector_matchers(vs)?;
    let offset = offset_ms(&vs.offset);
    let at = ev.at_time(&vs.at);
    let range = duration_ms(ms.range);
    let ends: Vec<Timestamp> = ref_times(ev, offset, at).collect();
    let (lo, hi) = bounds(ends.iter().copied());
    let raw = select(
        ev,
        &matchers,
        lo.saturating_sub(range).saturating_add(1),
        hi,
    )?;
    let series = raw
        .into_iter()
        .map(|mut s| {
            s.samples.retain(|p| !is_stale_nan(p.v));
            s.histograms.retain(|h| !h.h.is_stale());
            Series::with_histograms(s.labels, s.samples, s.histograms)
        })
        .filter(|s| !s.is_empty())
        .collect();
    Ok(RangeArg {
        series,
        range,
        ends,
        steps: ev.steps,
    })
}

fn bounds(ts: impl Iterator<Item = Timestamp>) -> (Timestamp, Timestamp) {
    ts.fold((Timestamp::MAX, Timestamp::MIN), |(lo, hi), t| {
        (lo.min(t), hi.max(t))
    })
}
