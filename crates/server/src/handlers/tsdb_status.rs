//! `/api/v1/status/tsdb`: cardinality statistics of the head.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::response::Response;

use crate::error::{ApiError, ErrorType};
use crate::handlers::{json_ok, respond, run_blocking};
use crate::json;
use crate::params::Params;
use crate::state::ApiState;

/// Largest `limit` accepted, as Prometheus.
const MAX_TSDB_LIMIT: usize = 10_000;

/// `GET /api/v1/status/tsdb?limit=N` (default 10), in Prometheus's shape.
pub async fn tsdb(State(st): State<Arc<ApiState>>, req: Request) -> Response {
    respond(tsdb_inner(st, req).await)
}

async fn tsdb_inner(st: Arc<ApiState>, req: Request) -> Result<Response, ApiError> {
    let p = Params::from_request(req, &st.request_limits).await?;
    let limit = match p.get("limit") {
        "" => 10,
        v => v
            .parse::<usize>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| ApiError::bad_data("limit must be a positive number"))?,
    };
    if limit > MAX_TSDB_LIMIT {
        return Err(ApiError::bad_data(format!(
            "limit must not exceed {MAX_TSDB_LIMIT}"
        )));
    }
    let state = st.clone();
    let status = run_blocking(st.query_timeout(), move || {
        state.queryable.status(limit).ok_or_else(|| {
            ApiError::new(ErrorType::Unavailable, "TSDB statistics are not available")
        })
    })
    .await?;
    let list = |out: &mut String, key: &str, items: &[(String, u64)]| {
        out.push_str(",\"");
        out.push_str(key);
        out.push_str("\":[");
        for (i, (name, value)) in items.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str("{\"name\":");
            json::write_str(out, name);
            out.push_str(&format!(",\"value\":{value}}}"));
        }
        out.push(']');
    };
    // Prometheus reports an empty head's times as the extremes of int64.
    let mut data = format!(
        "{{\"headStats\":{{\"numSeries\":{},\"numLabelPairs\":{},\"chunkCount\":{},\"minTime\":{},\"maxTime\":{}}}",
        status.num_series,
        status.num_label_pairs,
        status.chunk_count,
        status.min_time.unwrap_or(i64::MAX),
        status.max_time.unwrap_or(i64::MIN),
    );
    list(
        &mut data,
        "seriesCountByMetricName",
        &status.series_count_by_metric_name,
    );
    list(
        &mut data,
        "labelValueCountByLabelName",
        &status.label_value_count_by_label_name,
    );
    list(
        &mut data,
        "memoryInBytesByLabelName",
        &status.memory_in_bytes_by_label_name,
    );
    list(
        &mut data,
        "seriesCountByLabelValuePair",
        &status.series_count_by_label_value_pair,
    );
    data.push('}');
    Ok(json_ok(json::success(&data, &[])))
}
