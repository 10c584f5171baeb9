//! The evaluator: walks the AST once per query, evaluating every node over all
//! steps at once (as Prometheus's range evaluation does), so that a selector is
//! read from storage once and per-series work (grouping keys, match signatures)
//! is done once, not per step.
//!
//! - this file: dispatch, literals, parentheses, unary minus, the shared state
//!   (limits, deadline, annotations) and the helpers the operator modules use;
//! - [`selector`]: instant-vector and range-vector selectors, lookback, staleness;
//! - [`subquery`]: subqueries and range arguments ([`RangeArg`]).

#[cfg(test)]
mod histogram_tests;
mod selector;
mod subquery;

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use model::{HistogramSample, Labels, METRIC_NAME_LABEL, Sample, Timestamp};
use promql_parser::parser::{AtModifier, Expr, Offset};
use storage::Queryable;

use crate::annotations::Annotations;
use crate::engine::EngineOptions;
use crate::error::{EvalError, EvalResult};
use crate::parse::ParsedQuery;
use crate::value::{Series, Steps, Value};

pub use subquery::RangeArg;

/// What every node of one query's evaluation shares.
pub(crate) struct Shared<'a> {
    pub storage: &'a dyn Queryable,
    pub opts: &'a EngineOptions,
    pub query: &'a ParsedQuery,
    pub deadline: Instant,
    pub annotations: RefCell<Annotations>,
    /// Samples loaded from storage so far (checked against `max_samples`).
    pub samples_loaded: Cell<usize>,
    /// The query's own start and end, for `@ start()` / `@ end()`.
    pub query_start: Timestamp,
    pub query_end: Timestamp,
    /// The query's step, ms (1 for an instant query), for `step()`.
    pub query_step: i64,
}

/// Evaluates nodes over a set of steps. Cheap to copy: subqueries make one
/// with their own steps.
#[derive(Clone, Copy)]
pub struct Evaluator<'a> {
    pub(crate) sh: &'a Shared<'a>,
    /// The steps this evaluation covers.
    pub steps: Steps,
}

impl<'a> Evaluator<'a> {
    pub(crate) fn new(sh: &'a Shared<'a>, steps: Steps) -> Self {
        Evaluator { sh, steps }
    }

    /// The engine's settings.
    pub fn opts(&self) -> &EngineOptions {
        self.sh.opts
    }

    /// The same evaluator over other steps.
    pub fn with_steps(&self, steps: Steps) -> Self {
        Evaluator { sh: self.sh, steps }
    }

    /// Evaluates any node.
    pub fn eval(&self, e: &Expr) -> EvalResult<Value> {
        self.check_deadline()?;
        match e {
            Expr::NumberLiteral(n) => Ok(Value::Scalar(vec![n.val; self.steps.len()])),
            Expr::StringLiteral(s) => Ok(Value::String(s.val.clone())),
            Expr::Paren(p) => self.eval(&p.expr),
            Expr::Unary(u) => self.eval_unary(&u.expr),
            Expr::VectorSelector(vs) => selector::eval_vector_selector(self, vs),
            Expr::MatrixSelector(_) | Expr::Subquery(_) => {
                // Only an instant query's top level (or a function argument,
                // which goes through `range_arg`) evaluates a range vector.
                let arg = self.range_arg(e)?;
                Ok(Value::Matrix(arg.instant_matrix()))
            }
            Expr::Aggregate(a) => crate::aggregate::eval(self, e, a),
            Expr::Binary(b) => crate::binary::eval(self, e, b),
            Expr::Call(c) => crate::functions::call(self, c),
            Expr::Extension(_) => Err(EvalError::exec("extension expressions are not supported")),
        }
    }

    /// Evaluates a node that must give an instant vector.
    pub fn eval_vector(&self, e: &Expr) -> EvalResult<Vec<Series>> {
        match self.eval(e)? {
            Value::Vector(v) => Ok(v),
            other => Err(EvalError::exec(format!(
                "expected instant vector, got {}",
                other.type_name()
            ))),
        }
    }

    /// Evaluates a node that must give a scalar: one value per step.
    pub fn eval_scalar(&self, e: &Expr) -> EvalResult<Vec<f64>> {
        match self.eval(e)? {
            Value::Scalar(v) => Ok(v),
            other => Err(EvalError::exec(format!(
                "expected scalar, got {}",
                other.type_name()
            ))),
        }
    }

    /// Evaluates a node that must give a string.
    pub fn eval_string(&self, e: &Expr) -> EvalResult<String> {
        match self.eval(e)? {
            Value::String(s) => Ok(s),
            other => Err(EvalError::exec(format!(
                "expected string, got {}",
                other.type_name()
            ))),
        }
    }

    /// The raw series of a range-vector node (matrix selector or subquery,
    /// possibly parenthesised) and the window each step sees.
    pub fn range_arg(&self, e: &Expr) -> EvalResult<RangeArg> {
        match e {
            Expr::Paren(p) => self.range_arg(&p.expr),
            Expr::MatrixSelector(ms) => selector::eval_matrix_selector(self, ms),
            Expr::Subquery(sq) => subquery::eval_subquery(self, sq),
            other => Err(EvalError::exec(format!(
                "expected range vector, got {}",
                Value::type_name(&self.eval(other)?)
            ))),
        }
    }

    fn eval_unary(&self, inner: &Expr) -> EvalResult<Value> {
        match self.eval(inner)? {
            Value::Scalar(mut v) => {
                v.iter_mut().for_each(|x| *x = -*x);
                Ok(Value::Scalar(v))
            }
            Value::Vector(mut v) => {
                for s in &mut v {
                    s.samples.iter_mut().for_each(|p| p.v = -p.v);
                    for h in &mut s.histograms {
                        // Prometheus's `Mul(-1)`: the result is a gauge histogram.
                        std::sync::Arc::make_mut(&mut h.h).mul(-1.0);
                    }
                    self.drop_name(s);
                }
                Ok(Value::Vector(self.dedup(v)?))
            }
            other => Err(EvalError::exec(format!(
                "unary expression only allowed on expressions of type scalar or instant vector, got {}",
                other.type_name()
            ))),
        }
    }

    // ---- helpers for the operator and function modules ----

    /// Fails once the query's deadline has passed.
    pub fn check_deadline(&self) -> EvalResult<()> {
        if Instant::now() >= self.sh.deadline {
            return Err(EvalError::Timeout("expression evaluation"));
        }
        Ok(())
    }

    /// Counts `n` more samples held by the query; fails past `max_samples`.
    pub fn add_samples(&self, n: usize) -> EvalResult<()> {
        let total = self.sh.samples_loaded.get().saturating_add(n);
        self.sh.samples_loaded.set(total);
        if total > self.sh.opts.max_samples {
            return Err(EvalError::TooManySamples("query execution"));
        }
        Ok(())
    }

    /// Records a warning about `node` (`text` without the `PromQL warning: ` prefix).
    pub fn warn(&self, text: &str, node: &Expr) {
        let pos = self.sh.query.pos(node);
        self.sh.annotations.borrow_mut().warn(text, pos);
    }

    /// Records an info about `node`.
    pub fn info(&self, text: &str, node: &Expr) {
        let pos = self.sh.query.pos(node);
        self.sh.annotations.borrow_mut().info(text, pos);
    }

    /// Removes `__name__` from a function's or operator's output series, now or
    /// (with delayed name removal) at the end of the query.
    pub fn drop_name(&self, s: &mut Series) {
        if self.sh.opts.delayed_name_removal {
            s.drop_name = true;
        } else {
            drop_metadata_labels(&mut s.labels);
        }
    }

    /// Merges series with equal label sets (they come from different inputs at
    /// different steps); two samples at one step is Prometheus's
    /// "vector cannot contain metrics with the same labelset".
    pub fn dedup(&self, v: Vec<Series>) -> EvalResult<Vec<Series>> {
        dedup_series(v)
    }

    /// The time a node pinned with `@` is evaluated at, if it is.
    pub fn at_time(&self, at: &Option<AtModifier>) -> Option<Timestamp> {
        at.as_ref().map(|a| match a {
            AtModifier::Start => self.sh.query_start,
            AtModifier::End => self.sh.query_end,
            AtModifier::At(t) => system_time_ms(*t),
        })
    }

    /// The query's start and end (for `start()`/`end()` style uses).
    pub fn query_bounds(&self) -> (Timestamp, Timestamp) {
        (self.sh.query_start, self.sh.query_end)
    }

    /// The query's step, ms (subqueries have their own; this is the outer one).
    pub fn query_step(&self) -> i64 {
        self.sh.query_step
    }

    /// An instant selection of `matchers` at each step's time minus `offset`
    /// (or at `at`), where each point's value is the time (ms) of the sample
    /// picked rather than its value: `timestamp(selector)` and `info()` need
    /// the samples' own times, which an evaluated vector no longer carries.
    /// With `floats_only` (info series) a histogram sample is Prometheus's error
    /// `info sample should be float`.
    pub fn select_sample_times(
        &self,
        matchers: &[model::Matcher],
        offset: i64,
        at: Option<Timestamp>,
        floats_only: bool,
    ) -> EvalResult<Vec<Series>> {
        selector::select_sample_times(self, matchers, offset, at, floats_only)
    }
}

/// `offset` in ms (negative for `offset -5m`).
pub(crate) fn offset_ms(o: &Option<Offset>) -> i64 {
    match o {
        None => 0,
        Some(Offset::Pos(d)) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Some(Offset::Neg(d)) => -i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
    }
}

/// A duration in ms.
pub(crate) fn duration_ms(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn system_time_ms(t: SystemTime) -> Timestamp {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_millis()).unwrap_or(i64::MAX),
    }
}

/// Labels that describe the metric rather than the series; dropping the name
/// drops them all, as Prometheus's `DropReserved(IsMetadataLabel)` does.
pub const METADATA_LABELS: [&str; 3] = [METRIC_NAME_LABEL, "__type__", "__unit__"];

/// Removes `__name__`, `__type__` and `__unit__`.
pub fn drop_metadata_labels(labels: &mut Labels) {
    if labels
        .iter()
        .any(|l| METADATA_LABELS.contains(&l.name.as_str()))
    {
        // In place: the remaining labels' strings are moved, not copied.
        let mut kept = std::mem::take(labels).into_vec();
        kept.retain(|l| !METADATA_LABELS.contains(&l.name.as_str()));
        *labels = Labels::from_sorted(kept);
    }
}

/// See [`Evaluator::dedup`]. With delayed name removal, series differing only
/// in a name that will be dropped are still distinct here.
pub(crate) fn dedup_series(v: Vec<Series>) -> EvalResult<Vec<Series>> {
    if v.len() < 2 {
        return Ok(v);
    }
    let mut index: HashMap<(Labels, bool), usize> = HashMap::with_capacity(v.len());
    let mut out: Vec<Series> = Vec::with_capacity(v.len());
    // Series that took in another's samples: sorted and checked once, after all merges.
    let mut merged: Vec<usize> = Vec::new();
    for s in v {
        let key = (s.labels.clone(), s.drop_name);
        match index.get(&key) {
            Some(&i) => {
                out[i].samples.extend(s.samples);
                out[i].histograms.extend(s.histograms);
                merged.push(i);
            }
            None => {
                index.insert(key, out.len());
                out.push(s);
            }
        }
    }
    merged.sort_unstable();
    merged.dedup();
    for i in merged {
        let s = &mut out[i];
        s.samples.sort_by_key(|p| p.t);
        s.histograms.sort_by_key(|h| h.t);
        if s.samples.windows(2).any(|w| w[0].t == w[1].t)
            || s.histograms.windows(2).any(|w| w[0].t == w[1].t)
            || share_a_time(&s.samples, &s.histograms)
        {
            return Err(duplicate_labelset());
        }
    }
    Ok(out)
}

/// True when a float and a histogram sample (both sorted by time) have one time.
fn share_a_time(floats: &[Sample], hists: &[HistogramSample]) -> bool {
    let (mut i, mut j) = (0, 0);
    while i < floats.len() && j < hists.len() {
        match floats[i].t.cmp(&hists[j].t) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => return true,
        }
    }
    false
}

/// Prometheus's error for two samples with one label set at one step.
pub fn duplicate_labelset() -> EvalError {
    EvalError::exec("vector cannot contain metrics with the same labelset")
}

/// Final clean-up of delayed name removal: drops `__name__` where marked and
/// checks the label sets are still unique per step.
pub(crate) fn finish_names(v: Vec<Series>) -> EvalResult<Vec<Series>> {
    if !v.iter().any(|s| s.drop_name) {
        return Ok(v);
    }
    let cleaned: Vec<Series> = v
        .into_iter()
        .map(|mut s| {
            if s.drop_name {
                drop_metadata_labels(&mut s.labels);
            }
            s.drop_name = false;
            s
        })
        .collect();
    dedup_series(cleaned)
}

/// The sample an instant selector picks.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Picked<'a> {
    /// A float sample.
    Float(Sample),
    /// A histogram sample.
    Histogram(&'a HistogramSample),
}

impl Picked<'_> {
    /// The sample's own time.
    pub fn t(&self) -> Timestamp {
        match self {
            Picked::Float(s) => s.t,
            Picked::Histogram(h) => h.t,
        }
    }
}

/// The sample an instant selector sees at `ref_t` in a series (both kinds sorted
/// by time): the newest of either kind in `(ref_t - lookback, ref_t]`, unless it
/// is a staleness marker (a stale float, or a histogram whose sum is one).
pub(crate) fn lookback_point<'a>(
    floats: &[Sample],
    hists: &'a [HistogramSample],
    ref_t: Timestamp,
    lookback: i64,
) -> Option<Picked<'a>> {
    let f = floats[..floats.partition_point(|s| s.t <= ref_t)].last();
    let h = hists[..hists.partition_point(|s| s.t <= ref_t)].last();
    let picked = match (f, h) {
        (Some(f), Some(h)) if h.t > f.t => Picked::Histogram(h),
        (Some(f), _) => Picked::Float(*f),
        (None, Some(h)) => Picked::Histogram(h),
        (None, None) => return None,
    };
    let stale = match picked {
        Picked::Float(s) => model::is_stale_nan(s.v),
        Picked::Histogram(h) => h.h.is_stale(),
    };
    (picked.t() > ref_t.saturating_sub(lookback) && !stale).then_some(picked)
}
