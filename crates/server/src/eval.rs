//! Evaluation of selectors over storage with Prometheus 3 semantics:
//! an instant vector takes the newest sample in `(t - lookback, t]` unless it
//! is a staleness marker; a range vector takes the samples in `(t - range, t]`
//! without staleness markers; `offset` and `@` move the reference time.

use std::time::Instant;

use model::{Labels, Timestamp, is_stale_nan};
use storage::{Queryable, SelectHints, Series};

use crate::error::{ApiError, ErrorType};
use crate::selector::{QueryExpr, Selector};

/// Evaluation settings.
#[derive(Debug, Clone)]
pub struct EvalOptions {
    /// How far back an instant selector looks for a sample, ms.
    pub lookback_ms: i64,
    /// Most samples a result may hold.
    pub max_samples: usize,
    /// When to give up.
    pub deadline: Option<Instant>,
}

/// One element of an instant vector.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorSample {
    /// Series labels.
    pub labels: Labels,
    /// Evaluation timestamp, ms.
    pub t: Timestamp,
    /// Value.
    pub v: f64,
}

/// One series of a matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesPoints {
    /// Series labels.
    pub labels: Labels,
    /// `(t, v)` points, oldest first.
    pub points: Vec<(Timestamp, f64)>,
}

/// A query result.
#[derive(Debug, Clone, PartialEq)]
pub enum QueryValue {
    /// `resultType: vector`.
    Vector(Vec<VectorSample>),
    /// `resultType: matrix`.
    Matrix(Vec<SeriesPoints>),
}

impl QueryValue {
    /// Keeps the first `limit` series; true when some were dropped.
    pub fn truncate(&mut self, limit: usize) -> bool {
        match self {
            QueryValue::Vector(v) if v.len() > limit => v.truncate(limit),
            QueryValue::Matrix(m) if m.len() > limit => m.truncate(limit),
            _ => return false,
        }
        true
    }
}

fn timed_out() -> ApiError {
    ApiError::new(
        ErrorType::Timeout,
        "query timed out in expression evaluation",
    )
}

fn too_many_samples() -> ApiError {
    ApiError::execution(
        "query processing would load too many samples into memory in query execution",
    )
}

impl EvalOptions {
    fn check_deadline(&self) -> Result<(), ApiError> {
        match self.deadline {
            Some(d) if Instant::now() >= d => Err(timed_out()),
            _ => Ok(()),
        }
    }

    /// Loads the series of `sel` with samples in `[mint, maxt]`.
    fn select(
        &self,
        queryable: &dyn Queryable,
        sel: &Selector,
        mint: Timestamp,
        maxt: Timestamp,
    ) -> Result<Vec<Series>, ApiError> {
        self.check_deadline()?;
        let querier = queryable
            .querier(mint, maxt)
            .map_err(|e| ApiError::execution(e.to_string()))?;
        let hints = SelectHints {
            start: mint,
            end: maxt,
            limit: 0,
        };
        querier
            .select(&hints, &sel.matchers)
            .map_err(|e| ApiError::execution(format!("expanding series: {e}")))
    }

    /// The sample an instant selector sees at `ref_t`, if any.
    fn lookback_value(&self, series: &Series, ref_t: Timestamp) -> Option<f64> {
        let idx = series.samples.partition_point(|s| s.t <= ref_t);
        let s = series.samples.get(idx.checked_sub(1)?)?;
        (s.t > ref_t.saturating_sub(self.lookback_ms) && !is_stale_nan(s.v)).then_some(s.v)
    }
}

/// Evaluates an instant query at `ts`.
pub fn eval_instant(
    queryable: &dyn Queryable,
    opts: &EvalOptions,
    expr: &QueryExpr,
    ts: Timestamp,
) -> Result<QueryValue, ApiError> {
    match expr {
        QueryExpr::Vector(sel) => {
            let ref_t = sel.ref_time(ts, ts, ts);
            let mint = ref_t.saturating_sub(opts.lookback_ms).saturating_add(1);
            let series = opts.select(queryable, sel, mint, ref_t)?;
            let mut out = Vec::new();
            for s in &series {
                if let Some(v) = opts.lookback_value(s, ref_t) {
                    if out.len() >= opts.max_samples {
                        return Err(too_many_samples());
                    }
                    out.push(VectorSample {
                        labels: s.labels.clone(),
                        t: ts,
                        v,
                    });
                }
            }
            Ok(QueryValue::Vector(out))
        }
        QueryExpr::Matrix(sel, range) => {
            let ref_t = sel.ref_time(ts, ts, ts);
            let lo = ref_t.saturating_sub(*range);
            let series = opts.select(queryable, sel, lo.saturating_add(1), ref_t)?;
            let mut out = Vec::new();
            let mut total = 0usize;
            for s in series {
                opts.check_deadline()?;
                let points: Vec<(Timestamp, f64)> = s
                    .samples
                    .iter()
                    .filter(|p| p.t > lo && p.t <= ref_t && !is_stale_nan(p.v))
                    .map(|p| (p.t, p.v))
                    .collect();
                if points.is_empty() {
                    continue;
                }
                total += points.len();
                if total > opts.max_samples {
                    return Err(too_many_samples());
                }
                out.push(SeriesPoints {
                    labels: s.labels,
                    points,
                });
            }
            Ok(QueryValue::Matrix(out))
        }
    }
}

/// Evaluates a range query of an instant-vector selector: one point per step
/// in `[start, end]`. `step_ms` must be positive.
pub fn eval_range(
    queryable: &dyn Queryable,
    opts: &EvalOptions,
    sel: &Selector,
    start: Timestamp,
    end: Timestamp,
    step_ms: i64,
) -> Result<Vec<SeriesPoints>, ApiError> {
    let step_ms = step_ms.max(1);
    let first_ref = sel.ref_time(start, start, end);
    let last_ref = sel.ref_time(end, start, end);
    let mint = first_ref
        .min(last_ref)
        .saturating_sub(opts.lookback_ms)
        .saturating_add(1);
    let series = opts.select(queryable, sel, mint, first_ref.max(last_ref))?;
    let mut out = Vec::new();
    let mut total = 0usize;
    for s in series {
        opts.check_deadline()?;
        let mut points = Vec::new();
        let mut ts = start;
        while ts <= end {
            if let Some(v) = opts.lookback_value(&s, sel.ref_time(ts, start, end)) {
                points.push((ts, v));
            }
            ts = match ts.checked_add(step_ms) {
                Some(next) => next,
                None => break,
            };
        }
        if points.is_empty() {
            continue;
        }
        total += points.len();
        if total > opts.max_samples {
            return Err(too_many_samples());
        }
        out.push(SeriesPoints {
            labels: s.labels,
            points,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use model::{Labels, Matcher, MetricMetadata, Sample, stale_nan};
    use storage::{Querier, StorageError};

    use super::*;
    use crate::selector::parse_query;

    /// One series `x` with the given samples; select returns what is in range.
    struct One(Vec<Sample>);

    impl Querier for One {
        fn select(&self, h: &SelectHints, _: &[Matcher]) -> Result<Vec<Series>, StorageError> {
            let samples: Vec<Sample> = self
                .0
                .iter()
                .filter(|s| s.t >= h.start && s.t <= h.end)
                .copied()
                .collect();
            Ok(if samples.is_empty() {
                vec![]
            } else {
                vec![Series {
                    labels: Labels::from_pairs([("__name__", "x")]),
                    samples,
                }]
            })
        }
        fn series(&self, _: &SelectHints, _: &[Matcher]) -> Result<Vec<Labels>, StorageError> {
            Ok(vec![])
        }
        fn label_names(&self, _: &SelectHints, _: &[Matcher]) -> Result<Vec<String>, StorageError> {
            Ok(vec![])
        }
        fn label_values(
            &self,
            _: &SelectHints,
            _: &str,
            _: &[Matcher],
        ) -> Result<Vec<String>, StorageError> {
            Ok(vec![])
        }
        fn metadata(&self, _: Option<&str>, _: usize) -> Vec<(String, MetricMetadata)> {
            vec![]
        }
    }

    impl Queryable for One {
        fn querier(&self, _: Timestamp, _: Timestamp) -> Result<Box<dyn Querier>, StorageError> {
            Ok(Box::new(One(self.0.clone())))
        }
    }

    struct Broken;

    impl Queryable for Broken {
        fn querier(&self, _: Timestamp, _: Timestamp) -> Result<Box<dyn Querier>, StorageError> {
            Err(StorageError::Closed)
        }
    }

    fn opts() -> EvalOptions {
        EvalOptions {
            lookback_ms: 10,
            max_samples: 100,
            deadline: None,
        }
    }

    fn at(store: &dyn Queryable, q: &str, t: Timestamp) -> Vec<(Timestamp, f64)> {
        let expr = parse_query(q).expect("parses");
        match eval_instant(store, &opts(), &expr, t).expect("evaluates") {
            QueryValue::Vector(v) => v.iter().map(|s| (s.t, s.v)).collect(),
            QueryValue::Matrix(m) => m.into_iter().flat_map(|s| s.points).collect(),
        }
    }

    #[test]
    fn lookback_window_is_left_open() {
        let s = One(vec![Sample::new(100, 1.0), Sample::new(105, 2.0)]);
        assert_eq!(at(&s, "x", 99), vec![]);
        assert_eq!(at(&s, "x", 104), vec![(104, 1.0)]);
        assert_eq!(at(&s, "x", 114), vec![(114, 2.0)]);
        assert_eq!(at(&s, "x", 115), vec![]);
    }

    #[test]
    fn stale_marker_hides_older_samples() {
        let s = One(vec![Sample::new(100, 1.0), Sample::new(105, stale_nan())]);
        assert_eq!(at(&s, "x", 104), vec![(104, 1.0)]);
        assert_eq!(at(&s, "x", 106), vec![]);
        // A real NaN is a value, not a marker.
        let s = One(vec![Sample::new(100, f64::NAN)]);
        assert!(at(&s, "x", 100)[0].1.is_nan());
    }

    #[test]
    fn matrix_window_is_left_open() {
        let s = One(vec![
            Sample::new(90, 0.0),
            Sample::new(100, 1.0),
            Sample::new(105, stale_nan()),
            Sample::new(110, 3.0),
        ]);
        assert_eq!(at(&s, "x[20ms]", 110), vec![(100, 1.0), (110, 3.0)]);
        assert_eq!(
            at(&s, "x[20ms] offset 1ms", 111),
            vec![(100, 1.0), (110, 3.0)]
        );
    }

    #[test]
    fn range_steps() {
        let s = One(vec![Sample::new(100, 1.0), Sample::new(120, 2.0)]);
        let sel = match parse_query("x").expect("parses") {
            QueryExpr::Vector(sel) => sel,
            QueryExpr::Matrix(..) => unreachable!("a vector selector"),
        };
        let got = eval_range(&s, &opts(), &sel, 95, 135, 5).expect("evaluates");
        assert_eq!(
            got[0].points,
            vec![(100, 1.0), (105, 1.0), (120, 2.0), (125, 2.0)]
        );
    }

    #[test]
    fn limits_and_errors() {
        let s = One((0..10).map(|t| Sample::new(t, 1.0)).collect());
        let expr = parse_query("x[1s]").expect("parses");
        let small = EvalOptions {
            max_samples: 5,
            ..opts()
        };
        let e = eval_instant(&s, &small, &expr, 9).expect_err("too many");
        assert_eq!(e.kind, ErrorType::Execution);
        let past = EvalOptions {
            deadline: Instant::now().checked_sub(Duration::from_millis(1)),
            ..opts()
        };
        let e = eval_instant(&s, &past, &expr, 9).expect_err("timed out");
        assert_eq!(e.kind, ErrorType::Timeout);
        assert_eq!(e.status().as_u16(), 503);
        let e = eval_instant(&Broken, &opts(), &expr, 9).expect_err("closed");
        assert_eq!(e.message, "storage is closed");
        assert_eq!(e.status().as_u16(), 422);
    }
}
