//! `/api/v1/query` and `/api/v1/query_range`: parameters checked in Prometheus's
//! order and words, the query evaluated by the PromQL engine on a blocking
//! thread, the result in Prometheus's JSON with its warnings and infos.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::response::Response;
use model::Timestamp;
use promql::{Annotations, Engine, EngineOptions, QueryResult, QueryValue, Series};

use crate::error::ApiError;
use crate::handlers::{json_ok, respond, run_blocking, time_param};
use crate::json;
use crate::params::Params;
use crate::parse::{parse_duration, parse_limit, parse_time};
use crate::state::ApiState;

/// Most points per series a range query may produce, as Prometheus.
const MAX_POINTS_PER_SERIES: i128 = 11_000;
/// Warning added when `limit` cut the result.
pub(crate) const TRUNCATED_WARNING: &str = "results truncated due to limit";
/// Most warnings (and, separately, infos) listed; the rest are counted, as Prometheus.
const MAX_ANNOTATIONS: usize = 10;
/// Extra time the HTTP side waits past the engine's own deadline, so that the
/// engine's timeout error (which says where it ran out) is the one reported.
const DEADLINE_GRACE: Duration = Duration::from_secs(1);

/// `GET|POST /api/v1/query`.
pub async fn instant_query(State(st): State<Arc<ApiState>>, req: Request) -> Response {
    respond(instant_inner(st, req).await)
}

/// `GET|POST /api/v1/query_range`.
pub async fn range_query(State(st): State<Arc<ApiState>>, req: Request) -> Response {
    respond(range_inner(st, req).await)
}

/// What both query kinds take besides their times.
struct Common {
    query: String,
    limit: usize,
    timeout: Option<Duration>,
    stats: String,
    /// A `lookback_delta` other than the server's, ms.
    lookback_ms: Option<i64>,
}

impl Common {
    /// The server's engine, or for a query with its own `lookback_delta` one with
    /// that lookback (it has no concurrency gate of its own: such queries are rare,
    /// and still bounded by the timeout and the sample limit).
    fn engine(&self, st: &ApiState) -> Arc<Engine> {
        match self.lookback_ms {
            Some(ms) if ms != st.lookback_delta_ms() => Arc::new(Engine::new(EngineOptions {
                lookback_delta_ms: ms,
                ..st.engine_options().clone()
            })),
            _ => st.engine.clone(),
        }
    }
}

async fn instant_inner(st: Arc<ApiState>, req: Request) -> Result<Response, ApiError> {
    let p = Params::from_request(req, &st.request_limits).await?;
    let limit = parse_limit(p.get("limit")).map_err(|e| ApiError::invalid_param("limit", e))?;
    let ts = time_param(&p, "time", (st.now_ms)())?;
    let c = common(&p, limit)?;
    let (state, engine) = (st.clone(), c.engine(&st));
    let timeout = c.timeout;
    let query = c.query.clone();
    let (result, took) = run_query(&st, timeout, move || {
        engine.instant_query(state.queryable.as_ref(), &query, ts, timeout)
    })
    .await?;
    Ok(render(result, &c, took))
}

async fn range_inner(st: Arc<ApiState>, req: Request) -> Result<Response, ApiError> {
    let p = Params::from_request(req, &st.request_limits).await?;
    let limit = parse_limit(p.get("limit")).map_err(|e| ApiError::invalid_param("limit", e))?;
    let start = parse_time(p.get("start")).map_err(|e| ApiError::invalid_param("start", e))?;
    let end = parse_time(p.get("end")).map_err(|e| ApiError::invalid_param("end", e))?;
    if end < start {
        return Err(ApiError::invalid_param(
            "end",
            "end timestamp must not be before start time",
        ));
    }
    let step_ns = parse_duration(p.get("step")).map_err(|e| ApiError::invalid_param("step", e))?;
    if step_ns <= 0 {
        return Err(ApiError::invalid_param(
            "step",
            "zero or negative query resolution step widths are not accepted. Try a positive integer",
        ));
    }
    // Go's time.Duration saturates, so does this span.
    let span_ns = (i128::from(end) - i128::from(start)) * 1_000_000;
    let span_ns = span_ns.min(i128::from(i64::MAX));
    if span_ns / i128::from(step_ns) > MAX_POINTS_PER_SERIES {
        return Err(ApiError::bad_data(
            "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)",
        ));
    }
    // A step under a millisecond is a millisecond: the store's resolution.
    let step_ms = (step_ns / 1_000_000).max(1);
    let c = common(&p, limit)?;
    let (state, engine) = (st.clone(), c.engine(&st));
    let timeout = c.timeout;
    let query = c.query.clone();
    let (result, took) = run_query(&st, timeout, move || {
        engine.range_query(
            state.queryable.as_ref(),
            &query,
            start,
            end,
            step_ms,
            timeout,
        )
    })
    .await?;
    Ok(render(result, &c, took))
}

/// `timeout`, `lookback_delta`, `stats` and `query`, checked in Prometheus's order.
fn common(p: &Params, limit: usize) -> Result<Common, ApiError> {
    let timeout = match p.get("timeout") {
        "" => None,
        v => {
            let ns = parse_duration(v).map_err(|e| ApiError::invalid_param("timeout", e))?;
            // A negative timeout has already passed: the query times out at once.
            Some(Duration::from_nanos(u64::try_from(ns).unwrap_or(0)))
        }
    };
    let lookback = p.get("lookback_delta");
    let mut lookback_ms = None;
    if !lookback.is_empty() {
        let ns = parse_duration(lookback).map_err(|e| {
            ApiError::bad_data(format!("error parsing lookback delta duration: {e}"))
        })?;
        // Zero or negative means the server's, as in Prometheus.
        if ns > 0 {
            lookback_ms = Some((ns / 1_000_000).max(1));
        }
    }
    Ok(Common {
        lookback_ms,
        query: p.get("query").to_string(),
        limit,
        timeout,
        stats: p.get("stats").to_string(),
    })
}

/// Runs `f` on a blocking thread, timing it; the wait is bounded by the effective
/// timeout plus a grace period in case the engine overruns its own deadline.
async fn run_query<F>(
    st: &ApiState,
    timeout: Option<Duration>,
    f: F,
) -> Result<(QueryResult, Duration), ApiError>
where
    F: FnOnce() -> Result<QueryResult, promql::EvalError> + Send + 'static,
{
    let effective = timeout.map_or(st.query_timeout(), |t| t.min(st.query_timeout()));
    run_blocking(effective.saturating_add(DEADLINE_GRACE), move || {
        let started = Instant::now();
        let result = f().map_err(ApiError::from)?;
        Ok((result, started.elapsed()))
    })
    .await
}

/// Encodes a result as Prometheus's `QueryData`, cut to `limit` series (0 = all),
/// with `stats` when asked and the annotations as `warnings` and `infos`.
fn render(mut result: QueryResult, c: &Common, took: Duration) -> Response {
    let (mut warnings, infos) = annotation_strings(&result.annotations);
    if c.limit > 0 && result.value.truncate(c.limit) {
        warnings.push(TRUNCATED_WARNING.to_string());
    }
    if !matches!(c.stats.as_str(), "" | "true" | "all") {
        warnings.push(format!(
            "value {:?} for parameter \"stats\" is deprecated and will be rejected in the next major release, use \"true\" or \"all\"",
            c.stats
        ));
    }
    let mut data = String::new();
    data.push_str(r#"{"resultType":"#);
    json::write_str(&mut data, result.value.type_name());
    data.push_str(r#","result":"#);
    write_value(&mut data, &result.value);
    if !c.stats.is_empty() {
        write_stats(&mut data, took, result.samples_loaded);
    }
    data.push('}');
    json_ok(json::success_annotated(&data, &warnings, &infos))
}

/// Warnings and infos as strings, at most ten of each plus a count of the rest.
fn annotation_strings(a: &Annotations) -> (Vec<String>, Vec<String>) {
    let cap = |set: &std::collections::BTreeSet<String>, kind: &str| {
        let mut out: Vec<String> = set.iter().take(MAX_ANNOTATIONS).cloned().collect();
        if set.len() > MAX_ANNOTATIONS {
            out.push(format!(
                "{} more {kind} annotations omitted",
                set.len() - MAX_ANNOTATIONS
            ));
        }
        out
    };
    (cap(&a.warnings, "warning"), cap(&a.infos, "info"))
}

/// Appends the `result` of a value.
pub(crate) fn write_value(out: &mut String, v: &QueryValue) {
    match v {
        QueryValue::Scalar(t, f) => json::write_point(out, *t, *f),
        QueryValue::String(t, s) => write_string_point(out, *t, s),
        QueryValue::Vector(v) => {
            out.push('[');
            for (i, s) in v.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(r#"{"metric":"#);
                json::write_labels(out, &s.labels);
                match &s.h {
                    Some(h) => {
                        out.push_str(r#","histogram":"#);
                        json::write_histogram_point(out, s.t, h);
                    }
                    None => {
                        out.push_str(r#","value":"#);
                        json::write_point(out, s.t, s.v);
                    }
                }
                out.push('}');
            }
            out.push(']');
        }
        QueryValue::Matrix(m) => {
            out.push('[');
            for (i, s) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_series(out, s);
            }
            out.push(']');
        }
    }
}

fn write_string_point(out: &mut String, t: Timestamp, s: &str) {
    out.push('[');
    json::write_timestamp(out, t);
    out.push(',');
    json::write_str(out, s);
    out.push(']');
}

fn write_series(out: &mut String, s: &Series) {
    out.push_str(r#"{"metric":"#);
    json::write_labels(out, &s.labels);
    // Prometheus leaves "values" out of a series without float points.
    if !s.samples.is_empty() {
        out.push_str(r#","values":["#);
        for (i, p) in s.samples.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            json::write_point(out, p.t, p.v);
        }
        out.push(']');
    }
    if !s.histograms.is_empty() {
        out.push_str(r#","histograms":["#);
        for (i, p) in s.histograms.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            json::write_histogram_point(out, p.t, &p.h);
        }
        out.push(']');
    }
    out.push('}');
}

/// Prometheus's `stats` object. The engine reports samples loaded, not the peak
/// held at once, so both sample counts show that figure; timings are the wall time
/// on the evaluating thread (queue wait included).
fn write_stats(out: &mut String, took: Duration, samples: usize) {
    let secs = json::format_float(took.as_secs_f64());
    out.push_str(&format!(
        r#","stats":{{"timings":{{"evalTotalTime":{secs},"resultSortTime":0,"queryPreparationTime":0,"innerEvalTime":{secs},"execQueueTime":0,"execTotalTime":{secs}}},"samples":{{"totalQueryableSamples":{samples},"samplesRead":{samples},"peakSamples":{samples}}}}}"#
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotations_capped_at_ten() {
        let mut a = Annotations::default();
        for i in 0..12 {
            a.warn(&format!("w{i:02}"), None);
        }
        a.info("i", None);
        let (w, i) = annotation_strings(&a);
        assert_eq!(w.len(), 11);
        assert_eq!(w[10], "2 more warning annotations omitted");
        assert_eq!(i, ["PromQL info: i"]);
    }

    #[test]
    fn scalar_and_string_results() {
        let mut s = String::new();
        write_value(&mut s, &QueryValue::Scalar(1500, f64::INFINITY));
        assert_eq!(s, r#"[1.500,"+Inf"]"#);
        s.clear();
        write_value(&mut s, &QueryValue::String(2000, "a\"b".into()));
        assert_eq!(s, r#"[2,"a\"b"]"#);
    }

    #[test]
    fn histogram_results_as_prometheus_writes_them() {
        use model::{FloatHistogram, HistogramSample, Labels, Sample, Span};
        use std::sync::Arc;
        // 2 in the zero bucket, 1 in (-2,-1], 3 in (1,2]; the empty bucket (0.5,1] is left out.
        let h = Arc::new(FloatHistogram {
            count: 6.0,
            sum: 1.5,
            zero_threshold: 0.001,
            zero_count: 2.0,
            positive_spans: vec![Span {
                offset: 0,
                length: 2,
            }],
            positive_buckets: vec![0.0, 3.0],
            negative_spans: vec![Span {
                offset: 1,
                length: 1,
            }],
            negative_buckets: vec![1.0],
            ..FloatHistogram::default()
        });
        let mut s = String::new();
        write_value(
            &mut s,
            &QueryValue::Vector(vec![promql::VectorSample {
                labels: Labels::from_pairs([("__name__", "h")]),
                t: 1000,
                v: 0.0,
                h: Some(h.clone()),
            }]),
        );
        assert_eq!(
            s,
            r#"[{"metric":{"__name__":"h"},"histogram":[1,{"count":"6","sum":"1.5","buckets":[[1,"-2","-1","1"],[3,"-0.001","0.001","2"],[0,"1","2","3"]]}]}]"#
        );
        s.clear();
        write_value(
            &mut s,
            &QueryValue::Matrix(vec![Series::with_histograms(
                Labels::empty(),
                vec![Sample::new(0, 1.0)],
                vec![HistogramSample::new(
                    2000,
                    Arc::new(FloatHistogram::default()),
                )],
            )]),
        );
        assert_eq!(
            s,
            r#"[{"metric":{},"values":[[0,"1"]],"histograms":[[2,{"count":"0","sum":"0"}]]}]"#
        );
    }
}
