//! The query engine: settings, the concurrency gate, and the two entry points
//! (instant and range queries) that turn evaluated values into API results.

use std::cell::{Cell, RefCell};
use std::time::{Duration, Instant};

use model::{Labels, Sample, Timestamp};
use parking_lot::{Condvar, Mutex};
use storage::Queryable;

use crate::annotations::Annotations;
use crate::error::{EvalError, EvalResult};
use crate::eval::{Evaluator, Shared, finish_names};
use crate::parse::{ParsedQuery, parse_shared};
use crate::value::{QueryValue, Series, Steps, Value, VectorSample};

/// Engine settings; the defaults are Prometheus's.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// How far back an instant selector looks for a sample, ms (`--query.lookback-delta`, 5m).
    pub lookback_delta_ms: i64,
    /// Most samples a query may load (`--query.max-samples`, 50,000,000).
    pub max_samples: usize,
    /// Longest a query may run (`--query.timeout`, 2m).
    pub timeout: Duration,
    /// Queries evaluated at once; more wait (`--query.max-concurrency`, 20).
    pub max_concurrency: usize,
    /// Step of a subquery that gives none, ms (the global evaluation interval, 1m).
    pub default_subquery_step_ms: i64,
    /// Keep `__name__` until the end of the query and drop it then (Prometheus's
    /// `promql-delayed-name-removal` feature; off by default, on in the test scripts).
    pub delayed_name_removal: bool,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            lookback_delta_ms: 5 * 60 * 1000,
            max_samples: 50_000_000,
            timeout: Duration::from_secs(120),
            max_concurrency: 20,
            default_subquery_step_ms: 60_000,
            delayed_name_removal: false,
        }
    }
}

/// A query's answer: its value and the warnings and infos it raised.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryResult {
    /// The result.
    pub value: QueryValue,
    /// Warnings and infos.
    pub annotations: Annotations,
    /// Samples loaded from storage.
    pub samples_loaded: usize,
}

/// Evaluates PromQL over a [`Queryable`]. Share one per process.
pub struct Engine {
    opts: EngineOptions,
    running: Mutex<usize>,
    freed: Condvar,
}

/// Longest range query accepted, in steps (Prometheus: 11,000 points per series).
pub const MAX_POINTS_PER_SERIES: i64 = 11_000;

impl Engine {
    /// An engine with these settings.
    pub fn new(opts: EngineOptions) -> Self {
        Engine {
            opts,
            running: Mutex::new(0),
            freed: Condvar::new(),
        }
    }

    /// The settings.
    pub fn options(&self) -> &EngineOptions {
        &self.opts
    }

    /// Evaluates `query` at `t` (ms). `timeout` shortens the engine's timeout.
    pub fn instant_query(
        &self,
        storage: &dyn Queryable,
        query: &str,
        t: Timestamp,
        timeout: Option<Duration>,
    ) -> EvalResult<QueryResult> {
        let parsed = parse_shared(query)?;
        self.instant_parsed(storage, &parsed, t, timeout)
    }

    /// Evaluates an already parsed query at `t`.
    pub fn instant_parsed(
        &self,
        storage: &dyn Queryable,
        parsed: &ParsedQuery,
        t: Timestamp,
        timeout: Option<Duration>,
    ) -> EvalResult<QueryResult> {
        let steps = Steps::instant(t);
        let (value, annotations, samples_loaded) = self.run(storage, parsed, steps, timeout)?;
        let value = match value {
            Value::Scalar(v) => QueryValue::Scalar(t, v.first().copied().unwrap_or(f64::NAN)),
            Value::String(s) => QueryValue::String(t, s),
            Value::Vector(v) => QueryValue::Vector(
                v.into_iter()
                    .filter_map(|s| {
                        // One step: at most one sample, of either kind.
                        if let Some(h) = s.histograms.first() {
                            return Some(VectorSample {
                                labels: s.labels,
                                t: h.t,
                                v: 0.0,
                                h: Some(h.h.clone()),
                            });
                        }
                        let p = s.samples.first()?;
                        Some(VectorSample {
                            labels: s.labels,
                            t: p.t,
                            v: p.v,
                            h: None,
                        })
                    })
                    .collect(),
            ),
            Value::Matrix(m) => QueryValue::Matrix(m),
        };
        Ok(QueryResult {
            value,
            annotations,
            samples_loaded,
        })
    }

    /// Evaluates `query` at `start, start + step, ..., end` (ms).
    pub fn range_query(
        &self,
        storage: &dyn Queryable,
        query: &str,
        start: Timestamp,
        end: Timestamp,
        step: i64,
        timeout: Option<Duration>,
    ) -> EvalResult<QueryResult> {
        let parsed = parse_shared(query)?;
        self.range_parsed(storage, &parsed, start, end, step, timeout)
    }

    /// Evaluates an already parsed range query.
    pub fn range_parsed(
        &self,
        storage: &dyn Queryable,
        parsed: &ParsedQuery,
        start: Timestamp,
        end: Timestamp,
        step: i64,
        timeout: Option<Duration>,
    ) -> EvalResult<QueryResult> {
        if step <= 0 {
            return Err(EvalError::Parse(
                "zero or negative query resolution step widths are not accepted. Try a positive integer"
                    .to_string(),
            ));
        }
        if end < start {
            return Err(EvalError::Parse(
                "end timestamp must not be before start time".to_string(),
            ));
        }
        if (end - start) / step > MAX_POINTS_PER_SERIES {
            return Err(EvalError::Parse(
                "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)"
                    .to_string(),
            ));
        }
        let steps = Steps { start, end, step };
        let (value, annotations, samples_loaded) = self.run(storage, parsed, steps, timeout)?;
        let mut series = match value {
            Value::Scalar(v) => vec![Series::new(
                Labels::empty(),
                v.iter()
                    .enumerate()
                    .map(|(i, x)| Sample::new(steps.at(i), *x))
                    .collect(),
            )],
            Value::Vector(v) => v.into_iter().filter(|s| !s.is_empty()).collect(),
            other => {
                return Err(EvalError::Parse(format!(
                    "invalid expression type \"{}\" for range query, must be Scalar or instant Vector",
                    match other {
                        Value::Matrix(_) => "range vector",
                        _ => "string",
                    }
                )));
            }
        };
        series.sort_by(|a, b| a.labels.cmp(&b.labels));
        Ok(QueryResult {
            value: QueryValue::Matrix(series),
            annotations,
            samples_loaded,
        })
    }

    fn run(
        &self,
        storage: &dyn Queryable,
        parsed: &ParsedQuery,
        steps: Steps,
        timeout: Option<Duration>,
    ) -> EvalResult<(Value, Annotations, usize)> {
        let timeout = timeout.map_or(self.opts.timeout, |t| t.min(self.opts.timeout));
        let deadline = Instant::now() + timeout;
        let _slot = self.acquire(deadline)?;
        let shared = Shared {
            storage,
            opts: &self.opts,
            query: parsed,
            deadline,
            annotations: RefCell::new(Annotations::default()),
            samples_loaded: Cell::new(0),
            query_start: steps.start,
            query_end: steps.end,
            query_step: steps.step,
        };
        let ev = Evaluator::new(&shared, steps);
        let value = match ev.eval(&parsed.expr)? {
            Value::Vector(v) => Value::Vector(finish_names(v)?),
            Value::Matrix(m) => Value::Matrix(finish_names(m)?),
            other => other,
        };
        Ok((
            value,
            shared.annotations.into_inner(),
            shared.samples_loaded.get(),
        ))
    }

    fn acquire(&self, deadline: Instant) -> EvalResult<Slot<'_>> {
        let mut running = self.running.lock();
        while *running >= self.opts.max_concurrency.max(1) {
            if self.freed.wait_until(&mut running, deadline).timed_out() {
                return Err(EvalError::Timeout("query queue"));
            }
        }
        *running += 1;
        Ok(Slot(self))
    }
}

/// A held place among the running queries; frees it when dropped.
struct Slot<'a>(&'a Engine);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        *self.0.running.lock() -= 1;
        self.0.freed.notify_one();
    }
}
