//! The HTTP handlers, one module per group of endpoints, and what they share.

pub mod federate;
pub mod health;
pub mod lifecycle;
pub mod metadata;
pub mod metric_metadata;
pub mod query;
pub mod query_tools;
pub mod rules;
pub mod status;
pub mod targets;
pub mod tsdb_status;
pub mod write;

use std::time::Duration;

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use model::Timestamp;

use crate::error::ApiError;
use crate::params::Params;
use crate::parse::parse_time;

/// A time parameter, `default` when absent, with Prometheus's error wording.
pub(crate) fn time_param(
    p: &Params,
    name: &str,
    default: Timestamp,
) -> Result<Timestamp, ApiError> {
    let v = p.get(name);
    if v.is_empty() {
        return Ok(default);
    }
    parse_time(v)
        .map_err(|e| ApiError::invalid_param(name, format!("invalid time value for '{name}': {e}")))
}

/// Runs storage work on a blocking thread (it may do disk I/O), giving up after
/// `timeout` with Prometheus's timeout error.
pub(crate) async fn run_blocking<T, F>(timeout: Duration, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, ApiError> + Send + 'static,
{
    let task = tokio::task::spawn_blocking(f);
    match tokio::time::timeout(timeout, task).await {
        Ok(Ok(result)) => result,
        Ok(Err(join)) => Err(ApiError::internal(format!("query task failed: {join}"))),
        Err(_) => Err(ApiError::new(
            crate::error::ErrorType::Timeout,
            "query timed out in expression evaluation",
        )),
    }
}

/// A 200 response with an already-encoded JSON body.
pub(crate) fn json_ok(body: String) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}

/// Turns a handler result into a response.
pub(crate) fn respond(result: Result<Response, ApiError>) -> Response {
    result.unwrap_or_else(IntoResponse::into_response)
}
