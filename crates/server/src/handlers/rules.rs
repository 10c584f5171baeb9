//! `/api/v1/rules`, `/api/v1/alerts` and `/api/v1/alertmanagers`, answered from the
//! process's [`crate::info::RulesInfo`]. A process without one answers empty lists in
//! Prometheus's shapes (Grafana asks for rules when a data source initialises and treats
//! a 404 as an error).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::response::Response;

use crate::error::ApiError;
use crate::handlers::{json_ok, respond};
use crate::json;
use crate::params::Params;
use crate::state::ApiState;

/// `GET /api/v1/rules`: groups, filtered by `type`, `rule_name[]`, `rule_group[]`,
/// `file[]`, `match[]`, `exclude_alerts`, paged by `group_limit` / `group_next_token`.
pub async fn rules(State(st): State<Arc<ApiState>>, req: Request) -> Response {
    respond(rules_inner(st, req).await)
}

/// `GET /api/v1/alerts`: every pending and firing alert.
pub async fn alerts(State(st): State<Arc<ApiState>>) -> Response {
    let data = match &st.rules {
        Some(r) => r.alerts_json(),
        None => r#"{"alerts":[]}"#.to_string(),
    };
    json_ok(json::success(&data, &[]))
}

/// `GET /api/v1/alertmanagers`: the Alertmanagers alerts go to, and those relabelling
/// dropped, as `{"url": ...}` objects.
pub async fn alertmanagers(State(st): State<Arc<ApiState>>) -> Response {
    let ams = st
        .rules
        .as_ref()
        .map(|r| r.alertmanagers())
        .unwrap_or_default();
    let mut data = String::from(r#"{"activeAlertmanagers":"#);
    write_urls(&mut data, &ams.active);
    data.push_str(r#","droppedAlertmanagers":"#);
    write_urls(&mut data, &ams.dropped);
    data.push('}');
    json_ok(json::success(&data, &[]))
}

fn write_urls(out: &mut String, urls: &[String]) {
    out.push('[');
    for (i, u) in urls.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(r#"{"url":"#);
        json::write_str(out, u);
        out.push('}');
    }
    out.push(']');
}

async fn rules_inner(st: Arc<ApiState>, req: Request) -> Result<Response, ApiError> {
    let p = Params::from_request(req, &st.request_limits).await?;
    let Some(info) = &st.rules else {
        let typ = p.get("type").to_ascii_lowercase();
        if !matches!(typ.as_str(), "" | "alert" | "record") {
            return Err(ApiError::invalid_param(
                "type",
                format!("not supported value {typ:?}"),
            ));
        }
        return Ok(json_ok(json::success(r#"{"groups":[]}"#, &[])));
    };
    let data = info
        .rules_json(&p.pairs())
        .map_err(|e| ApiError::invalid_param(&e.param, e.message))?;
    Ok(json_ok(json::success(&data, &[])))
}
