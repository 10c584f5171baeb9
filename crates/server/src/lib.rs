//! The hub's HTTP API: Prometheus API v1, remote-write endpoint, health, metrics.
//!
//! - [`state`]: [`ApiState`], what every handler shares.
//! - [`router`]: the routes; the binary serves it and may merge more.
//! - [`handlers`]: the endpoints (query, metadata, status, targets, rules and alerts,
//!   federation, write, health, reload); queries are evaluated by the `promql` engine.
//! - [`info`]: what the process tells the status and targets endpoints.
//! - [`params`] and [`parse`]: request parameters as Prometheus reads them, bounded.
//! - [`json`] and [`error`]: Prometheus's response and error shapes, byte for byte.

pub mod error;
pub mod handlers;
pub mod info;
pub mod json;
pub mod params;
pub mod parse;
pub mod state;
pub mod write_metrics;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};

pub use error::{ApiError, ErrorType};
pub use info::{NoInfo, RulesInfo, ServerInfo};
pub use params::RequestLimits;
/// The engine settings, re-exported so that the binary configures them without
/// depending on the engine crate.
pub use promql::EngineOptions;
pub use state::ApiState;
pub use write_metrics::WriteMetrics;

/// The API's routes over `state`.
pub fn router(state: ApiState) -> Router {
    use handlers::{
        federate, health, lifecycle, metadata, metric_metadata, query, query_tools, rules, status,
        targets, tsdb_status, write,
    };
    Router::new()
        .route("/api/v1/write", post(write::remote_write))
        .route(
            "/api/v1/query",
            get(query::instant_query).post(query::instant_query),
        )
        .route(
            "/api/v1/query_range",
            get(query::range_query).post(query::range_query),
        )
        .route(
            "/api/v1/query_exemplars",
            get(query_tools::query_exemplars).post(query_tools::query_exemplars),
        )
        .route(
            "/api/v1/format_query",
            get(query_tools::format_query).post(query_tools::format_query),
        )
        .route(
            "/api/v1/series",
            get(metadata::series).post(metadata::series),
        )
        .route(
            "/api/v1/labels",
            get(metadata::label_names).post(metadata::label_names),
        )
        .route(
            "/api/v1/label/{name}/values",
            get(metadata::label_values).post(metadata::label_values),
        )
        .route("/api/v1/metadata", get(metric_metadata::metadata))
        .route("/api/v1/targets", get(targets::targets))
        .route("/api/v1/scrape_pools", get(targets::scrape_pools))
        .route("/api/v1/rules", get(rules::rules))
        .route("/api/v1/alerts", get(rules::alerts))
        .route("/api/v1/alertmanagers", get(rules::alertmanagers))
        .route("/api/v1/status/tsdb", get(tsdb_status::tsdb))
        .route("/api/v1/status/buildinfo", get(status::buildinfo))
        .route("/api/v1/status/config", get(status::config))
        .route("/api/v1/status/flags", get(status::flags))
        .route("/api/v1/status/runtimeinfo", get(status::runtimeinfo))
        .route(
            "/federate",
            get(federate::federate).post(federate::federate),
        )
        .route("/-/healthy", get(health::healthy))
        .route("/-/ready", get(health::ready))
        .route(
            "/-/reload",
            post(lifecycle::reload)
                .put(lifecycle::reload)
                .get(lifecycle::reload_get),
        )
        .route("/metrics", get(health::metrics))
        .with_state(Arc::new(state))
}
