//! `POST /api/v1/write`: the remote-write receiver, mounted.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use remote::receive::{ReceiveError, handle_write};
use storage::WriteIdentity;

use crate::params::read_body_limited;
use crate::state::ApiState;

/// Reads the body under the compressed-size cap, then decodes and appends it on
/// a blocking thread (the append is durable before we answer). 204 on success;
/// otherwise the receiver's status and message as plain text.
pub async fn remote_write(
    State(st): State<Arc<ApiState>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let limits = st.receive_limits;
    let bytes = match read_body_limited(body, limits.max_compressed_bytes).await {
        Ok(b) => b,
        Err(e) => {
            st.write_metrics.request(e.status().as_u16());
            return plain(e.status(), e.message);
        }
    };
    let header_str = |name| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let encoding = header_str(header::CONTENT_ENCODING);
    let content_type = header_str(header::CONTENT_TYPE);
    let appendable = st.appendable.clone();
    // Limited concurrency (`ApiState::write_slots`): the others wait here, holding no
    // thread.
    let _slot = st.write_slots.acquire().await.ok();
    let result = tokio::task::spawn_blocking(move || {
        handle_write(
            &bytes,
            encoding.as_deref(),
            content_type.as_deref(),
            appendable.as_ref(),
            &WriteIdentity::Anonymous,
            &limits,
        )
    })
    .await;
    let m = &st.write_metrics;
    match result {
        Ok(Ok(stats)) => {
            m.written(&stats);
            m.request(204);
            StatusCode::NO_CONTENT.into_response()
        }
        Ok(Err(e)) => {
            if let ReceiveError::Rejected { stats, .. } = &e {
                m.written(stats);
            }
            m.request(e.status());
            let status =
                StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            plain(status, e.to_string())
        }
        Err(join) => {
            m.request(500);
            plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("write task failed: {join}"),
            )
        }
    }
}

fn plain(status: StatusCode, msg: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        msg,
    )
        .into_response()
}
