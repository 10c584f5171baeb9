//! `/api/v1/format_query` and `/api/v1/query_exemplars`: endpoints about a query
//! that do not evaluate it.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::response::Response;
use promql_parser::parser::Expr;

use crate::error::ApiError;
use crate::handlers::{json_ok, respond, time_param};
use crate::json;
use crate::params::Params;
use crate::parse::{MAX_TIME, MIN_TIME};
use crate::state::ApiState;

/// `GET|POST /api/v1/format_query`: the query pretty-printed as Prometheus's
/// `promtool promql format` does (lines split past 100 characters).
pub async fn format_query(State(st): State<Arc<ApiState>>, req: Request) -> Response {
    respond(format_inner(st, req).await)
}

/// `GET|POST /api/v1/query_exemplars`: parameters validated as Prometheus does;
/// the store keeps no exemplars, so a query with selectors answers `[]`.
pub async fn query_exemplars(State(st): State<Arc<ApiState>>, req: Request) -> Response {
    respond(exemplars_inner(st, req).await)
}

async fn format_inner(st: Arc<ApiState>, req: Request) -> Result<Response, ApiError> {
    let p = Params::from_request(req, &st.request_limits).await?;
    let parsed = promql::parse(p.get("query")).map_err(|e| ApiError::invalid_param("query", e))?;
    let mut data = String::new();
    json::write_str(&mut data, &parsed.expr.prettify());
    Ok(json_ok(json::success(&data, &[])))
}

async fn exemplars_inner(st: Arc<ApiState>, req: Request) -> Result<Response, ApiError> {
    let p = Params::from_request(req, &st.request_limits).await?;
    let start = time_param(&p, "start", MIN_TIME)?;
    let end = time_param(&p, "end", MAX_TIME)?;
    if end < start {
        return Err(ApiError::bad_data(
            "end timestamp must not be before start timestamp",
        ));
    }
    // Prometheus reports this parse error as bad_data without naming the parameter.
    let parsed = promql::parse(p.get("query")).map_err(|e| ApiError::bad_data(e.to_string()))?;
    if !has_selector(&parsed.expr) {
        // Prometheus answers a query without selectors with no `data` at all.
        return Ok(json_ok(r#"{"status":"success"}"#.to_string()));
    }
    Ok(json_ok(json::success("[]", &[])))
}

/// Whether `e` selects series anywhere.
fn has_selector(e: &Expr) -> bool {
    match e {
        Expr::VectorSelector(_) | Expr::MatrixSelector(_) => true,
        Expr::Aggregate(a) => has_selector(&a.expr) || a.param.as_deref().is_some_and(has_selector),
        Expr::Unary(u) => has_selector(&u.expr),
        Expr::Binary(b) => has_selector(&b.lhs) || has_selector(&b.rhs),
        Expr::Paren(p) => has_selector(&p.expr),
        Expr::Subquery(s) => has_selector(&s.expr),
        Expr::Call(c) => c.args.args.iter().any(|a| has_selector(a)),
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::Extension(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_found_anywhere() {
        for (q, want) in [
            ("up", true),
            ("1 + 2", false),
            ("sum(rate(x[5m]))", true),
            ("time()", false),
            ("-(vector(1) + on() x)", true),
            ("topk(scalar(y), vector(1))", true),
        ] {
            let e = promql_parser::parser::parse(q).expect("parses");
            assert_eq!(has_selector(&e), want, "{q}");
        }
    }
}
