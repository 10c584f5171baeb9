//! Functions of a range vector.
//!
//! Each function is one computation over the samples of one series in one
//! step's window `(end - range, end]`. This file walks every series' windows
//! once over all steps (two indexes per sample kind that only move forward),
//! evaluates the scalar arguments once, names the output series, and raises the
//! annotations and errors Prometheus raises. Windows holding native histograms
//! are handled here: counted, picked (`last_over_time`, `first_over_time`),
//! left out of float-only functions with Prometheus's info, or refused where
//! Prometheus computes on histograms. The float computations live in:
//!
//! - [`rate`] has `rate`, `increase`, `delta` (extrapolated), `irate`, `idelta`;
//! - [`over_time`] has the `*_over_time` aggregations, `changes`, `resets`;
//! - [`regression`] has `deriv`, `predict_linear`;
//! - [`smoothing`] has `double_exponential_smoothing`.

#[cfg(test)]
mod engine_tests;
mod over_time;
mod rate;
mod regression;
mod smoothing;

use std::collections::HashSet;

use gofmt::quote;
use model::{HistogramSample, Sample, Timestamp};
use promql_parser::parser::{Call, Expr};

use crate::annotations::invalid_quantile;
use crate::error::{EvalError, EvalResult};
use crate::eval::{Evaluator, RangeArg, duplicate_labelset};
use crate::functions::absent;
use crate::histograms;
use crate::value::{Series, Value};

/// A range-vector function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Func {
    Rate,
    Increase,
    Delta,
    Irate,
    Idelta,
    Deriv,
    PredictLinear,
    Smoothing,
    Changes,
    Resets,
    Avg,
    Min,
    Max,
    Sum,
    Count,
    Stddev,
    Stdvar,
    Last,
    First,
    Present,
    Absent,
    Quantile,
    Mad,
    TsOfFirst,
    TsOfLast,
    TsOfMax,
    TsOfMin,
}

impl Func {
    fn from_name(name: &str) -> Option<Func> {
        Some(match name {
            "rate" => Func::Rate,
            "increase" => Func::Increase,
            "delta" => Func::Delta,
            "irate" => Func::Irate,
            "idelta" => Func::Idelta,
            "deriv" => Func::Deriv,
            "predict_linear" => Func::PredictLinear,
            "double_exponential_smoothing" => Func::Smoothing,
            "changes" => Func::Changes,
            "resets" => Func::Resets,
            "avg_over_time" => Func::Avg,
            "min_over_time" => Func::Min,
            "max_over_time" => Func::Max,
            "sum_over_time" => Func::Sum,
            "count_over_time" => Func::Count,
            "stddev_over_time" => Func::Stddev,
            "stdvar_over_time" => Func::Stdvar,
            "last_over_time" => Func::Last,
            "first_over_time" => Func::First,
            "present_over_time" => Func::Present,
            "absent_over_time" => Func::Absent,
            "quantile_over_time" => Func::Quantile,
            "mad_over_time" => Func::Mad,
            "ts_of_first_over_time" => Func::TsOfFirst,
            "ts_of_last_over_time" => Func::TsOfLast,
            "ts_of_max_over_time" => Func::TsOfMax,
            "ts_of_min_over_time" => Func::TsOfMin,
            _ => return None,
        })
    }

    /// Position of the range-vector argument.
    fn matrix_index(self) -> usize {
        if self == Func::Quantile { 1 } else { 0 }
    }

    /// Number of scalar arguments besides the range vector.
    fn scalar_args(self) -> usize {
        match self {
            Func::Smoothing => 2,
            Func::PredictLinear | Func::Quantile => 1,
            _ => 0,
        }
    }

    /// `last_over_time` and `first_over_time` act like `offset` and keep the
    /// metric name; every other function drops it.
    fn keeps_name(self) -> bool {
        matches!(self, Func::Last | Func::First)
    }

    /// Whether the result depends on the step's time beyond its window.
    fn uses_step_time(self) -> bool {
        self == Func::PredictLinear
    }

    /// Functions Prometheus computes from histogram samples too, and this
    /// engine does not yet.
    fn computes_histograms(self) -> bool {
        matches!(
            self,
            Func::Rate
                | Func::Increase
                | Func::Delta
                | Func::Irate
                | Func::Idelta
                | Func::Sum
                | Func::Avg
                | Func::Changes
                | Func::Resets
        )
    }
}

/// What one step's computation sees.
struct Win<'a> {
    samples: &'a [Sample],
    /// Exclusive start of the window, ms.
    start: Timestamp,
    /// Inclusive end of the window, ms.
    end: Timestamp,
    /// The step's time, ms.
    t: Timestamp,
    /// The range in seconds, as Go's `Duration.Seconds()` gives it.
    range_secs: f64,
    /// The scalar arguments at this step.
    params: [f64; 2],
}

/// Evaluates a range-vector function over all steps.
pub fn call(ev: &Evaluator<'_>, c: &Call) -> EvalResult<Value> {
    let name = c.func.name;
    let func = Func::from_name(name)
        .ok_or_else(|| EvalError::exec(format!("unknown range function {name}")))?;
    let args = &c.args.args;
    if args.len() != func.scalar_args() + 1 {
        return Err(EvalError::exec(format!(
            "function {name} expects {} arguments, got {}",
            func.scalar_args() + 1,
            args.len()
        )));
    }
    let matrix_node: &Expr = &args[func.matrix_index()];
    let arg = ev.range_arg(matrix_node)?;
    if func == Func::Absent {
        return Ok(Value::Vector(absent_over_time(ev, matrix_node, &arg)?));
    }
    let mut params = Vec::with_capacity(func.scalar_args());
    for (i, a) in args.iter().enumerate() {
        if i != func.matrix_index() {
            params.push(ev.eval_scalar(a)?);
        }
    }
    let out = eval_windows(ev, c, func, matrix_node, arg, &params)?;
    Ok(Value::Vector(out))
}

/// Runs `func` over every window of every series of `arg`.
fn eval_windows(
    ev: &Evaluator<'_>,
    c: &Call,
    func: Func,
    matrix_node: &Expr,
    arg: RangeArg,
    params: &[Vec<f64>],
) -> EvalResult<Vec<Series>> {
    // Owned, so that each output series takes its input's labels without a copy.
    let RangeArg {
        series: input,
        range,
        ends,
        steps,
    } = arg;
    let range_secs = duration_seconds(range);
    let param_at = |k: usize, step: usize| {
        params
            .get(k)
            .and_then(|p| p.get(step))
            .copied()
            .unwrap_or(f64::NAN)
    };
    let mut scratch = Vec::new();
    // Quantile values already warned about, so the text is built once each.
    let mut warned_quantiles: Vec<u64> = Vec::new();
    let mut out = Vec::with_capacity(input.len());
    for s in input {
        ev.check_deadline()?;
        let mut points: Vec<Sample> = Vec::new();
        let mut hists: Vec<HistogramSample> = Vec::new();
        let mut walker = Walker::new(&s.samples, range);
        let mut hwalker = Walker::new(&s.histograms, range);
        // With `@` every step sees the same window: compute it once.
        let mut cache: Option<(CacheKey, Option<f64>)> = None;
        let mut mixed_noted = false;
        for (step, &end) in ends.iter().enumerate() {
            let (lo, hi) = walker.advance(end);
            let (hlo, hhi) = hwalker.advance(end);
            if hlo < hhi {
                let w = MixedWin {
                    floats: &s.samples[lo..hi.max(lo)],
                    hists: &s.histograms[hlo..hhi],
                    t: steps.at(step),
                };
                match with_histograms(func, &w, c)? {
                    Mixed::Float(v) => {
                        points.push(Sample::new(w.t, v));
                        continue;
                    }
                    Mixed::Histogram(h) => {
                        hists.push(h);
                        continue;
                    }
                    Mixed::FloatsOnly if lo < hi && !mixed_noted => {
                        // Once per series: the text names the series' metric.
                        mixed_noted = true;
                        let name = s.labels.metric_name().unwrap_or("");
                        ev.info(&histograms::ignored_in_mixed_range(name), &c.args.args[0]);
                    }
                    Mixed::FloatsOnly => {}
                }
            }
            if lo >= hi {
                continue;
            }
            let p = [param_at(0, step), param_at(1, step)];
            match func {
                Func::Smoothing => smoothing::check_factors(p[0], p[1])?,
                Func::Quantile
                    if !(0.0..=1.0).contains(&p[0])
                        && !warned_quantiles.contains(&p[0].to_bits()) =>
                {
                    // NaN is outside the range too.
                    warned_quantiles.push(p[0].to_bits());
                    ev.warn(&invalid_quantile(p[0]), &c.args.args[0]);
                }
                _ => {}
            }
            let t = steps.at(step);
            let key = CacheKey {
                lo,
                hi,
                end,
                t: if func.uses_step_time() { t } else { 0 },
                params: [p[0].to_bits(), p[1].to_bits()],
            };
            let value = match &cache {
                Some((k, v)) if *k == key => *v,
                _ => {
                    let w = Win {
                        samples: &s.samples[lo..hi],
                        start: end.saturating_sub(range),
                        end,
                        t,
                        range_secs,
                        params: p,
                    };
                    let v = compute(func, &w, &mut scratch);
                    cache = Some((key, v));
                    v
                }
            };
            if let Some(v) = value {
                // Grown as needed rather than sized for every step: a sparse
                // series in a long range query would otherwise hold a full
                // step-length buffer.
                points.push(Sample::new(t, v));
            }
        }
        if points.is_empty() && hists.is_empty() {
            continue;
        }
        if matches!(func, Func::Rate | Func::Increase) {
            note_possible_non_counter(ev, &s, matrix_node);
        }
        let mut series = Series {
            labels: s.labels,
            samples: points,
            histograms: hists,
            drop_name: s.drop_name,
        };
        if !func.keeps_name() {
            ev.drop_name(&mut series);
        }
        out.push(series);
    }
    if func.keeps_name() {
        return Ok(out);
    }
    if ev.opts().delayed_name_removal {
        return ev.dedup(out);
    }
    // Prometheus refuses a range function's output with two equal label sets
    // even when they never share a step.
    let mut seen = HashSet::with_capacity(out.len());
    if out.iter().any(|s| !seen.insert(&s.labels)) {
        return Err(duplicate_labelset());
    }
    Ok(out)
}

/// A window holding histogram samples.
struct MixedWin<'a> {
    floats: &'a [Sample],
    hists: &'a [HistogramSample],
    /// The step's time, ms.
    t: Timestamp,
}

/// What a window with histogram samples gives.
enum Mixed {
    /// This float.
    Float(f64),
    /// This histogram.
    Histogram(HistogramSample),
    /// The function's result over the floats alone (histograms ignored).
    FloatsOnly,
}

/// `name()`, for messages.
fn name_of(c: &Call) -> String {
    format!("{}()", c.func.name)
}

/// A window with histogram samples, as Prometheus treats one: counted and
/// timed with the floats, picked by `last_over_time`/`first_over_time`, left
/// out of the float-only functions, refused where Prometheus would compute on
/// them (not implemented here yet).
///
/// `c` names the function in the error; its name is formatted only then.
fn with_histograms(func: Func, w: &MixedWin<'_>, c: &Call) -> EvalResult<Mixed> {
    let (Some(hf), Some(hl)) = (w.hists.first(), w.hists.last()) else {
        return Ok(Mixed::FloatsOnly);
    };
    if func.computes_histograms() {
        return Err(histograms::unsupported(&name_of(c)));
    }
    let (ff, fl) = (w.floats.first(), w.floats.last());
    let at = |h: &HistogramSample| HistogramSample::new(w.t, h.h.clone());
    Ok(match func {
        Func::Count => Mixed::Float((w.floats.len() + w.hists.len()) as f64),
        Func::Present | Func::Absent => Mixed::Float(1.0),
        Func::TsOfFirst => Mixed::Float(ff.map_or(hf.t, |f| f.t.min(hf.t)) as f64 / 1000.0),
        Func::TsOfLast => Mixed::Float(fl.map_or(hl.t, |f| f.t.max(hl.t)) as f64 / 1000.0),
        Func::Last => match fl {
            Some(f) if f.t > hl.t => Mixed::Float(f.v),
            _ => Mixed::Histogram(at(hl)),
        },
        Func::First => match ff {
            Some(f) if f.t < hf.t => Mixed::Float(f.v),
            _ => Mixed::Histogram(at(hf)),
        },
        _ => Mixed::FloatsOnly,
    })
}

/// Identifies a computation's inputs, to reuse the result for the next step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct CacheKey {
    lo: usize,
    hi: usize,
    end: Timestamp,
    t: Timestamp,
    params: [u64; 2],
}

/// One window's result; `None` for no output sample.
fn compute(func: Func, w: &Win<'_>, scratch: &mut Vec<f64>) -> Option<f64> {
    let s = w.samples;
    let rate = |counter, per_second| {
        rate::extrapolated_rate(s, w.start, w.end, w.range_secs, counter, per_second)
    };
    let first = s.first()?;
    let last = s.last()?;
    Some(match func {
        Func::Rate => return rate(true, true),
        Func::Increase => return rate(true, false),
        Func::Delta => return rate(false, false),
        Func::Irate => return rate::instant_value(s, true),
        Func::Idelta => return rate::instant_value(s, false),
        Func::Deriv => return regression::deriv(s),
        Func::PredictLinear => return regression::predict_linear(s, w.t, w.params[0]),
        Func::Smoothing => {
            return smoothing::double_exponential_smoothing(s, w.params[0], w.params[1]);
        }
        Func::Changes => over_time::changes(s),
        Func::Resets => over_time::resets(s),
        Func::Avg => over_time::avg(s),
        Func::Min => over_time::extreme(s, false, false),
        Func::Max => over_time::extreme(s, true, false),
        Func::TsOfMin => over_time::extreme(s, false, true),
        Func::TsOfMax => over_time::extreme(s, true, true),
        Func::Sum => over_time::sum(s),
        Func::Count => s.len() as f64,
        Func::Stddev => over_time::variance(s, true),
        Func::Stdvar => over_time::variance(s, false),
        Func::Last => last.v,
        Func::First => first.v,
        Func::TsOfFirst => first.t as f64 / 1000.0,
        Func::TsOfLast => last.t as f64 / 1000.0,
        Func::Present | Func::Absent => 1.0,
        Func::Quantile => over_time::quantile_of(s, w.params[0], scratch),
        Func::Mad => over_time::mad(s, scratch),
    })
}

/// `rate`/`increase` of a named series whose name does not look like a
/// counter's: Prometheus's info annotation, raised once per such series.
fn note_possible_non_counter(ev: &Evaluator<'_>, s: &Series, node: &Expr) {
    let Some(name) = s.labels.metric_name().filter(|n| !n.is_empty()) else {
        return;
    };
    let counter_like = ["_total", "_sum", "_count", "_bucket"]
        .iter()
        .any(|suffix| name.ends_with(suffix));
    if !counter_like {
        let text = format!(
            "metric might not be a counter, name does not end in _total/_sum/_count/_bucket: {}",
            quote(name)
        );
        ev.info(&text, node);
    }
}

/// `absent_over_time`: one series, valued 1 at the steps where no series has
/// a sample in its window, labelled from the selector's equality matchers.
fn absent_over_time(ev: &Evaluator<'_>, node: &Expr, arg: &RangeArg) -> EvalResult<Vec<Series>> {
    let mut present = vec![false; arg.ends.len()];
    for s in &arg.series {
        ev.check_deadline()?;
        let mut walker = Walker::new(&s.samples, arg.range);
        let mut hwalker = Walker::new(&s.histograms, arg.range);
        for (step, &end) in arg.ends.iter().enumerate() {
            let (lo, hi) = walker.advance(end);
            let (hlo, hhi) = hwalker.advance(end);
            present[step] |= lo < hi || hlo < hhi;
        }
    }
    Ok(absent::series(&present, &arg.steps, node))
}

/// A duration in ms as Go's `Duration.Seconds()` gives it: whole seconds plus
/// the fraction, each rounded once (the result can differ from `ms / 1000` in
/// the last bit, and rates divide by it).
fn duration_seconds(ms: i64) -> f64 {
    let secs = ms / 1000;
    let nanos = (ms % 1000) * 1_000_000;
    secs as f64 + nanos as f64 / 1e9
}

/// Sample builders for the unit tests of the computations.
#[cfg(test)]
mod test_samples {
    use model::Sample;

    /// Samples valued `values`, one second apart from time 0.
    pub(super) fn every_second(values: &[f64]) -> Vec<Sample> {
        values
            .iter()
            .enumerate()
            .map(|(i, &v)| Sample::new(i as i64 * 1000, v))
            .collect()
    }

    /// Samples at `(ms, value)` points.
    pub(super) fn at(points: &[(i64, f64)]) -> Vec<Sample> {
        points.iter().map(|&(t, v)| Sample::new(t, v)).collect()
    }
}

/// A sample of either kind, by its time.
trait Timed {
    fn time(&self) -> Timestamp;
}

impl Timed for Sample {
    fn time(&self) -> Timestamp {
        self.t
    }
}

impl Timed for HistogramSample {
    fn time(&self) -> Timestamp {
        self.t
    }
}

/// The windows of one series over steps whose ends do not decrease (they are
/// step times minus a fixed offset, or one fixed time with `@`): both edges
/// only move forward, so a series costs O(samples + steps).
struct Walker<'a, T> {
    samples: &'a [T],
    range: i64,
    /// Samples at or before the current window's (exclusive) start.
    lo: usize,
    /// Samples at or before the current window's (inclusive) end.
    hi: usize,
    last_end: Timestamp,
}

impl<'a, T: Timed> Walker<'a, T> {
    fn new(samples: &'a [T], range: i64) -> Self {
        Walker {
            samples,
            range,
            lo: 0,
            hi: 0,
            last_end: Timestamp::MIN,
        }
    }

    /// The index range of the samples in `(end - range, end]`.
    fn advance(&mut self, end: Timestamp) -> (usize, usize) {
        if end < self.last_end {
            // Not expected, but stay correct: start over.
            self.lo = 0;
            self.hi = 0;
        }
        self.last_end = end;
        let start = end.saturating_sub(self.range);
        let n = self.samples.len();
        while self.hi < n && self.samples[self.hi].time() <= end {
            self.hi += 1;
        }
        while self.lo < n && self.samples[self.lo].time() <= start {
            self.lo += 1;
        }
        (self.lo.min(self.hi), self.hi)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples(ts: &[i64]) -> Vec<Sample> {
        ts.iter().map(|&t| Sample::new(t, t as f64)).collect()
    }

    #[test]
    fn go_duration_seconds() {
        assert_eq!(duration_seconds(300_000), 300.0);
        assert_eq!(duration_seconds(1_500), 1.5);
        assert_eq!(duration_seconds(100), 0.1);
    }

    #[test]
    fn walker_matches_left_open_windows() {
        let s = samples(&[10, 20, 30, 40, 50]);
        let mut w = Walker::new(&s, 20);
        assert_eq!(w.advance(5), (0, 0));
        assert_eq!(w.advance(10), (0, 1));
        // (10, 30]: 20, 30
        assert_eq!(w.advance(30), (1, 3));
        assert_eq!(w.advance(30), (1, 3));
        // (35, 55]: 40, 50
        assert_eq!(w.advance(55), (3, 5));
        assert_eq!(w.advance(100), (5, 5));
        // Going back starts over.
        assert_eq!(w.advance(20), (0, 2));
    }

    #[test]
    fn walker_zero_range_is_empty() {
        let s = samples(&[10, 20]);
        let mut w = Walker::new(&s, 0);
        let (lo, hi) = w.advance(10);
        assert!(lo >= hi);
    }

    const ALL: &[Func] = &[
        Func::Rate,
        Func::Increase,
        Func::Delta,
        Func::Irate,
        Func::Idelta,
        Func::Deriv,
        Func::PredictLinear,
        Func::Smoothing,
        Func::Changes,
        Func::Resets,
        Func::Avg,
        Func::Min,
        Func::Max,
        Func::Sum,
        Func::Count,
        Func::Stddev,
        Func::Stdvar,
        Func::Last,
        Func::First,
        Func::Present,
        Func::Quantile,
        Func::Mad,
        Func::TsOfFirst,
        Func::TsOfLast,
        Func::TsOfMax,
        Func::TsOfMin,
    ];

    fn value_strategy() -> impl proptest::strategy::Strategy<Value = f64> {
        use proptest::prelude::*;
        prop_oneof![
            -1e6..1e6f64,
            Just(f64::NAN),
            Just(f64::INFINITY),
            Just(f64::NEG_INFINITY),
            Just(f64::MAX),
            Just(0.0),
        ]
    }

    proptest::proptest! {
        #[test]
        fn walker_agrees_with_binary_search(
            gaps in proptest::collection::vec(1i64..50, 0..40),
            steps in proptest::collection::vec(0i64..60, 1..30),
            range in 0i64..200,
        ) {
            let mut t = 0;
            let ts: Vec<i64> = gaps.iter().map(|g| { t += g; t }).collect();
            let s = samples(&ts);
            let mut end = 0;
            let mut w = Walker::new(&s, range);
            for step in steps {
                end += step;
                let lo = s.partition_point(|p| p.t <= end - range);
                let hi = s.partition_point(|p| p.t <= end);
                let (a, b) = w.advance(end);
                proptest::prop_assert_eq!(&s[a..b], &s[lo.min(hi)..hi]);
            }
        }

        #[test]
        fn every_function_takes_any_window(
            values in proptest::collection::vec(value_strategy(), 1..12),
            p0 in value_strategy(),
            p1 in value_strategy(),
        ) {
            let s: Vec<Sample> = values
                .iter()
                .enumerate()
                .map(|(i, &v)| Sample::new(1000 * i as i64 + 1, v))
                .collect();
            let w = Win {
                samples: &s,
                start: 0,
                end: 20_000,
                t: 20_000,
                range_secs: 20.0,
                params: [p0, p1],
            };
            let mut scratch = Vec::new();
            for &f in ALL {
                let v = compute(f, &w, &mut scratch);
                // Only the functions that need two samples may give nothing.
                let needs_two = matches!(
                    f,
                    Func::Rate | Func::Increase | Func::Delta | Func::Irate | Func::Idelta
                        | Func::Deriv | Func::PredictLinear | Func::Smoothing
                );
                proptest::prop_assert!(v.is_some() || (needs_two && s.len() < 2), "{f:?}");
            }
        }
    }

    #[test]
    fn function_table() {
        for name in crate::functions::RANGE_FUNCTIONS {
            assert!(Func::from_name(name).is_some(), "{name}");
        }
        assert!(Func::Last.keeps_name() && !Func::Rate.keeps_name());
        assert_eq!(Func::Quantile.matrix_index(), 1);
    }
}
