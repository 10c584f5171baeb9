//! `/api/v1/query` and `/api/v1/query_range`: parameters checked in Prometheus's
//! order and words, selectors evaluated, results in Prometheus's JSON.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::response::Response;

use crate::error::ApiError;
use crate::eval::{EvalOptions, QueryValue, SeriesPoints, eval_instant, eval_range};
use crate::handlers::{json_ok, respond, run_blocking, time_param};
use crate::json;
use crate::params::Params;
use crate::parse::{parse_duration, parse_limit, parse_time};
use crate::selector::{QueryExpr, parse_query};
use crate::state::ApiState;

/// Most points per series a range query may produce, as Prometheus.
const MAX_POINTS_PER_SERIES: i128 = 11_000;
/// Warning added when `limit` cut the result.
pub(crate) const TRUNCATED_WARNING: &str = "results truncated due to limit";

/// `GET|POST /api/v1/query`.
pub async fn instant_query(State(st): State<Arc<ApiState>>, req: Request) -> Response {
    respond(instant_inner(st, req).await)
}

/// `GET|POST /api/v1/query_range`.
pub async fn range_query(State(st): State<Arc<ApiState>>, req: Request) -> Response {
    respond(range_inner(st, req).await)
}

async fn instant_inner(st: Arc<ApiState>, req: Request) -> Result<Response, ApiError> {
    let p = Params::from_request(req, &st.request_limits).await?;
    let limit = parse_limit(p.get("limit")).map_err(|e| ApiError::invalid_param("limit", e))?;
    let ts = time_param(&p, "time", (st.now_ms)())?;
    let timeout = timeout_param(&p, &st)?;
    let opts = eval_options(&p, &st, timeout)?;
    let expr = parse_query(p.get("query")).map_err(|e| ApiError::invalid_param("query", e))?;
    let queryable = st.queryable.clone();
    let mut value = run_blocking(timeout, move || {
        eval_instant(queryable.as_ref(), &opts, &expr, ts)
    })
    .await?;
    Ok(render(&mut value, limit))
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
    let timeout = timeout_param(&p, &st)?;
    let opts = eval_options(&p, &st, timeout)?;
    let sel = match parse_query(p.get("query")).map_err(|e| ApiError::invalid_param("query", e))? {
        QueryExpr::Vector(sel) => sel,
        QueryExpr::Matrix(..) => {
            return Err(ApiError::invalid_param(
                "query",
                "invalid expression type \"range vector\" for range query, must be Scalar or instant Vector",
            ));
        }
    };
    let step_ms = step_ns / 1_000_000;
    let queryable = st.queryable.clone();
    let mut value = run_blocking(timeout, move || {
        eval_range(queryable.as_ref(), &opts, &sel, start, end, step_ms).map(QueryValue::Matrix)
    })
    .await?;
    Ok(render(&mut value, limit))
}

/// The effective timeout: the server's, shortened by a `timeout` parameter.
fn timeout_param(p: &Params, st: &ApiState) -> Result<Duration, ApiError> {
    let v = p.get("timeout");
    if v.is_empty() {
        return Ok(st.query_timeout);
    }
    let ns = parse_duration(v).map_err(|e| ApiError::invalid_param("timeout", e))?;
    let asked = Duration::from_nanos(u64::try_from(ns).unwrap_or(0));
    Ok(asked.min(st.query_timeout))
}

/// Evaluation options, honouring `lookback_delta` as Prometheus does.
fn eval_options(p: &Params, st: &ApiState, timeout: Duration) -> Result<EvalOptions, ApiError> {
    let mut lookback_ms = st.lookback_delta_ms;
    let v = p.get("lookback_delta");
    if !v.is_empty() {
        let ns = parse_duration(v).map_err(|e| {
            ApiError::bad_data(format!("error parsing lookback delta duration: {e}"))
        })?;
        if ns > 0 {
            lookback_ms = ns / 1_000_000;
        }
    }
    Ok(EvalOptions {
        lookback_ms,
        max_samples: st.max_samples,
        deadline: Instant::now().checked_add(timeout),
    })
}

/// Encodes a result, cut to `limit` series (0 = all), as Prometheus's `QueryData`.
fn render(value: &mut QueryValue, limit: usize) -> Response {
    let mut warnings = Vec::new();
    if limit > 0 && value.truncate(limit) {
        warnings.push(TRUNCATED_WARNING.to_string());
    }
    let mut data = String::new();
    match value {
        QueryValue::Vector(v) => {
            data.push_str(r#"{"resultType":"vector","result":["#);
            for (i, s) in v.iter().enumerate() {
                if i > 0 {
                    data.push(',');
                }
                data.push_str(r#"{"metric":"#);
                json::write_labels(&mut data, &s.labels);
                data.push_str(r#","value":"#);
                json::write_point(&mut data, s.t, s.v);
                data.push('}');
            }
        }
        QueryValue::Matrix(m) => {
            data.push_str(r#"{"resultType":"matrix","result":["#);
            for (i, s) in m.iter().enumerate() {
                if i > 0 {
                    data.push(',');
                }
                write_series(&mut data, s);
            }
        }
    }
    data.push_str("]}");
    json_ok(json::success(&data, &warnings))
}

fn write_series(out: &mut String, s: &SeriesPoints) {
    out.push_str(r#"{"metric":"#);
    json::write_labels(out, &s.labels);
    // Prometheus leaves "values" out of a series without float points.
    if !s.points.is_empty() {
        out.push_str(r#","values":["#);
        for (i, (t, v)) in s.points.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            json::write_point(out, *t, *v);
        }
        out.push(']');
    }
    out.push('}');
}
