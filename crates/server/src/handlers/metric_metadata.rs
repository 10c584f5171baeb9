//! `/api/v1/metadata`: type, help and unit per metric name, as the agents and scrapes
//! reported them.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::response::Response;

use crate::error::ApiError;
use crate::handlers::{json_ok, respond, run_blocking};
use crate::json;
use crate::params::Params;
use crate::state::ApiState;

/// `GET /api/v1/metadata` with optional `metric`, `limit` and `limit_per_metric`.
pub async fn metadata(State(st): State<Arc<ApiState>>, req: Request) -> Response {
    respond(metadata_inner(st, req).await)
}

/// A count parameter as Prometheus reads it here: absent is no limit, a negative
/// number is no limit, anything that is not an integer is an error.
fn count_param(p: &Params, name: &str) -> Result<Option<usize>, ApiError> {
    let v = p.get(name);
    if v.is_empty() {
        return Ok(None);
    }
    let n: i64 = v
        .parse()
        .map_err(|_| ApiError::bad_data(format!("{name} must be a number")))?;
    Ok(usize::try_from(n).ok())
}

async fn metadata_inner(st: Arc<ApiState>, req: Request) -> Result<Response, ApiError> {
    let p = Params::from_request(req, &st.request_limits).await?;
    let limit = count_param(&p, "limit")?;
    // One entry per metric is kept, so any limit_per_metric >= 1 shows it.
    let per_metric = count_param(&p, "limit_per_metric")?;
    let metric = p.get("metric").to_string();
    let state = st.clone();
    let mut found = run_blocking(st.query_timeout(), move || {
        let q = state
            .queryable
            .querier(i64::MIN, i64::MAX)
            .map_err(|e| ApiError::execution(e.to_string()))?;
        Ok(q.metadata((!metric.is_empty()).then_some(metric.as_str()), 0))
    })
    .await?;
    found.sort_by(|a, b| a.0.cmp(&b.0));
    if let Some(l) = limit {
        found.truncate(l);
    }
    let mut data = String::from("{");
    let mut first = true;
    for (name, meta) in &found {
        if !first {
            data.push(',');
        }
        first = false;
        json::write_str(&mut data, name);
        data.push_str(":[");
        if per_metric != Some(0) {
            data.push_str("{\"type\":");
            json::write_str(&mut data, meta.metric_type.as_str());
            data.push_str(",\"help\":");
            json::write_str(&mut data, &meta.help);
            data.push_str(",\"unit\":");
            json::write_str(&mut data, &meta.unit);
            data.push('}');
        }
        data.push(']');
    }
    data.push('}');
    Ok(json_ok(json::success(&data, &[])))
}
