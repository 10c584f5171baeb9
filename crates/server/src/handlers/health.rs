//! `/-/healthy`, `/-/ready` and the process's own `/metrics`.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::state::ApiState;

/// The text exposition format's content type.
pub const METRICS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Always 200 while the process serves HTTP.
pub async fn healthy() -> Response {
    (StatusCode::OK, "Fleetwatch is Healthy.\n").into_response()
}

/// 200 once the ready flag is set, 503 before.
pub async fn ready(State(st): State<Arc<ApiState>>) -> Response {
    if st.ready.load(Ordering::Acquire) {
        (StatusCode::OK, "Fleetwatch is Ready.\n").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable").into_response()
    }
}

/// The metrics closure's text.
pub async fn metrics(State(st): State<Arc<ApiState>>) -> Response {
    let mut body = (st.metrics)();
    st.write_metrics.render(&mut body);
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, METRICS_CONTENT_TYPE)],
        body,
    )
        .into_response()
}
