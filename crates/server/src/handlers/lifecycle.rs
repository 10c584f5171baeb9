//! `/-/reload`: reloads the configuration and rule files as SIGHUP does, answering as
//! Prometheus's web handler does (200 with no body; 500 with `failed to reload config: …`).

use std::sync::Arc;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::state::ApiState;

/// `POST`/`PUT /-/reload`: runs the reload and waits for its outcome.
pub async fn reload(State(st): State<Arc<ApiState>>) -> Response {
    let Some(reload) = &st.reload else {
        return (StatusCode::FORBIDDEN, "Lifecycle API is not enabled.").into_response();
    };
    match reload().await {
        Ok(()) => StatusCode::OK.into_response(),
        // Go's http.Error: plain text, newline-terminated, not sniffed.
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            [
                (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            format!("failed to reload config: {e}\n"),
        )
            .into_response(),
    }
}

/// `GET /-/reload`: refused, as Prometheus refuses it.
pub async fn reload_get() -> Response {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        "Only POST or PUT requests allowed",
    )
        .into_response()
}
