//! `/api/v1/status/{buildinfo,config,flags,runtimeinfo}`: what the process is,
//! how it was started and configured, in Prometheus's shapes.

use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;

use crate::handlers::json_ok;
use crate::info::PROMETHEUS_COMPAT_VERSION;
use crate::json;
use crate::state::ApiState;

/// `GET /api/v1/status/buildinfo`. `version` is the Prometheus API level served
/// ([`PROMETHEUS_COMPAT_VERSION`]) because clients such as Grafana pick features
/// from it; Fleetwatch's own version is in `revision` (`fleetwatch-<version>`).
/// There is deliberately no `application`/`features` field: Grafana reads those
/// as Mimir/Cortex and would then look for a ruler API.
pub async fn buildinfo() -> Response {
    let mut data = String::from(r#"{"version":"#);
    json::write_str(&mut data, PROMETHEUS_COMPAT_VERSION);
    data.push_str(r#","revision":"#);
    json::write_str(&mut data, concat!("fleetwatch-", env!("CARGO_PKG_VERSION")));
    data.push_str(r#","branch":"","buildUser":"","buildDate":"","goVersion":""}"#);
    json_ok(json::success(&data, &[]))
}

/// `GET /api/v1/status/config`: `{"yaml": "..."}`.
pub async fn config(State(st): State<Arc<ApiState>>) -> Response {
    let mut data = String::from(r#"{"yaml":"#);
    json::write_str(&mut data, &st.info.config_yaml());
    data.push('}');
    json_ok(json::success(&data, &[]))
}

/// `GET /api/v1/status/flags`: every flag's value as a string, keys sorted.
pub async fn flags(State(st): State<Arc<ApiState>>) -> Response {
    let mut flags = st.info.flags();
    flags.sort();
    flags.dedup_by(|a, b| a.0 == b.0);
    let mut data = String::from("{");
    for (i, (k, v)) in flags.iter().enumerate() {
        if i > 0 {
            data.push(',');
        }
        json::write_str(&mut data, k);
        data.push(':');
        json::write_str(&mut data, v);
    }
    data.push('}');
    json_ok(json::success(&data, &[]))
}

/// `GET /api/v1/status/runtimeinfo`. Go-only fields get the nearest Rust fact:
/// `goroutineCount` is the thread count, `GOMAXPROCS` the available parallelism,
/// `GOMEMLIMIT` Go's "no limit" value, `GOGC`/`GODEBUG` empty.
pub async fn runtimeinfo(State(st): State<Arc<ApiState>>) -> Response {
    let r = st.info.runtime();
    let mut d = String::from(r#"{"startTime":"#);
    json::write_go_time(&mut d, r.start_time);
    d.push_str(r#","CWD":"#);
    json::write_str(&mut d, &r.cwd);
    d.push_str(r#","hostname":"#);
    json::write_str(&mut d, &r.hostname);
    d.push_str(r#","serverTime":"#);
    json::write_go_time(&mut d, std::time::SystemTime::now());
    d.push_str(&format!(
        r#","reloadConfigSuccess":{},"lastConfigTime":"#,
        r.reload_config_success
    ));
    json::write_go_time(&mut d, r.last_config_time);
    d.push_str(&format!(
        r#","corruptionCount":{},"goroutineCount":{},"GOMAXPROCS":{},"GOMEMLIMIT":{},"GOGC":"","GODEBUG":"","storageRetention":"#,
        r.corruption_count,
        r.thread_count,
        r.parallelism,
        i64::MAX
    ));
    json::write_str(&mut d, &r.storage_retention);
    d.push('}');
    json_ok(json::success(&d, &[]))
}
