//! `/api/v1/rules` and `/api/v1/alerts`: the hub evaluates no rules yet, so both
//! answer empty lists in Prometheus's shapes (Grafana asks for rules when a data
//! source initialises and treats a 404 as an error).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::response::Response;

use crate::error::ApiError;
use crate::handlers::{json_ok, respond};
use crate::json;
use crate::params::Params;
use crate::state::ApiState;

/// `GET /api/v1/rules`: `{"groups":[]}`, after Prometheus's check of `type`.
pub async fn rules(State(st): State<Arc<ApiState>>, req: Request) -> Response {
    respond(rules_inner(st, req).await)
}

/// `GET /api/v1/alerts`: `{"alerts":[]}`.
pub async fn alerts() -> Response {
    json_ok(json::success(r#"{"alerts":[]}"#, &[]))
}

async fn rules_inner(st: Arc<ApiState>, req: Request) -> Result<Response, ApiError> {
    let p = Params::from_request(req, &st.request_limits).await?;
    let typ = p.get("type").to_ascii_lowercase();
    if !matches!(typ.as_str(), "" | "alert" | "record") {
        return Err(ApiError::invalid_param(
            "type",
            format!("not supported value {typ:?}"),
        ));
    }
    Ok(json_ok(json::success(r#"{"groups":[]}"#, &[])))
}
