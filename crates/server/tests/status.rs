//! `/api/v1/status/*`, `/api/v1/format_query`, `/api/v1/query_exemplars`: shapes
//! and errors.

mod common;

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{enc, fixture, get, post_form, send, state};
use server::info::{RuntimeInfo, ServerInfo};

struct Info;

impl ServerInfo for Info {
    fn config_yaml(&self) -> String {
        "global:\n  scrape_interval: 15s\n".to_string()
    }

    fn flags(&self) -> Vec<(String, String)> {
        vec![
            ("query.timeout".into(), "2m".into()),
            ("data".into(), "/d<x>".into()),
        ]
    }

    fn runtime(&self) -> RuntimeInfo {
        RuntimeInfo {
            start_time: UNIX_EPOCH + Duration::from_millis(1_700_000_000_250),
            cwd: "/w".into(),
            hostname: "h".into(),
            reload_config_success: false,
            last_config_time: UNIX_EPOCH + Duration::from_secs(1_700_000_001),
            corruption_count: 0,
            thread_count: 7,
            parallelism: 2,
            storage_retention: "15d or 10GiB".into(),
        }
    }
}

async fn get_with_info(uri: &str) -> common::Reply {
    let mut st = state(fixture(), true);
    st.info = Arc::new(Info);
    send(
        server::router(st),
        Request::get(uri).body(Body::empty()).expect("request"),
    )
    .await
}

#[tokio::test]
async fn buildinfo_claims_a_prometheus_3_version() {
    let r = get("/api/v1/status/buildinfo").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.content_type, "application/json");
    assert_eq!(
        r.body,
        format!(
            r#"{{"status":"success","data":{{"version":"3.0.0","revision":"fleetwatch-{}","branch":"","buildUser":"","buildDate":"","goVersion":""}}}}"#,
            env!("CARGO_PKG_VERSION")
        )
    );
}

#[tokio::test]
async fn config_and_flags() {
    let r = get_with_info("/api/v1/status/config").await;
    assert_eq!(
        r.body,
        r#"{"status":"success","data":{"yaml":"global:\n  scrape_interval: 15s\n"}}"#
    );
    let r = get_with_info("/api/v1/status/flags").await;
    assert_eq!(
        r.body,
        r#"{"status":"success","data":{"data":"/d\u003cx\u003e","query.timeout":"2m"}}"#
    );
    // Without process facts: empty, not an error.
    let r = get("/api/v1/status/flags").await;
    assert_eq!(r.body, r#"{"status":"success","data":{}}"#);
}

#[tokio::test]
async fn runtimeinfo_shape() {
    let r = get_with_info("/api/v1/status/runtimeinfo").await;
    assert_eq!(r.status, StatusCode::OK);
    let v: serde_json::Value = serde_json::from_str(&r.body).expect("json");
    let d = &v["data"];
    assert_eq!(d["startTime"], "2023-11-14T22:13:20.25Z");
    assert_eq!(d["CWD"], "/w");
    assert_eq!(d["hostname"], "h");
    assert_eq!(d["reloadConfigSuccess"], false);
    assert_eq!(d["lastConfigTime"], "2023-11-14T22:13:21Z");
    assert_eq!(d["corruptionCount"], 0);
    assert_eq!(d["goroutineCount"], 7);
    assert_eq!(d["GOMAXPROCS"], 2);
    assert_eq!(d["GOGC"], "");
    assert_eq!(d["GODEBUG"], "");
    assert_eq!(d["storageRetention"], "15d or 10GiB");
    assert!(d["serverTime"].as_str().is_some_and(|s| s.ends_with('Z')));
}

#[tokio::test]
async fn tsdb_status_limit_bounds() {
    for (q, msg) in [
        ("limit=0", "limit must be a positive number"),
        ("limit=x", "limit must be a positive number"),
        ("limit=10001", "limit must not exceed 10000"),
    ] {
        let r = get(&format!("/api/v1/status/tsdb?{q}")).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{q}");
        assert_eq!(
            r.body,
            format!(r#"{{"status":"error","errorType":"bad_data","error":"{msg}"}}"#)
        );
    }
}

#[tokio::test]
async fn format_query_pretty_prints() {
    let r = get(&format!(
        "/api/v1/format_query?query={}",
        enc("sum(rate(up{job=\"x\"}[5m]))by(a)")
    ))
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.body,
        r#"{"status":"success","data":"sum by (a) (rate(up{job=\"x\"}[5m]))"}"#
    );
    let r = post_form("/api/v1/format_query", "query=up%7B").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.body.starts_with(
            r#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": parse error"#
        ),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn exemplars_validated_and_empty() {
    let r = get("/api/v1/query_exemplars?query=up&start=0&end=10").await;
    assert_eq!(r.body, r#"{"status":"success","data":[]}"#);
    let r = post_form("/api/v1/query_exemplars", "query=1%2B1").await;
    assert_eq!(r.body, r#"{"status":"success"}"#);
    let r = get("/api/v1/query_exemplars?query=up&start=10&end=5").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.body,
        r#"{"status":"error","errorType":"bad_data","error":"end timestamp must not be before start timestamp"}"#
    );
    let r = get("/api/v1/query_exemplars?query=up&start=x").await;
    assert_eq!(
        r.body,
        r#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"start\": invalid time value for 'start': cannot parse \"x\" to a valid timestamp"}"#
    );
    let r = get("/api/v1/query_exemplars?query=up%7B").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.body
            .starts_with(r#"{"status":"error","errorType":"bad_data","error":"parse error"#),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn rules_and_alerts_are_empty() {
    let r = get("/api/v1/rules").await;
    assert_eq!(r.body, r#"{"status":"success","data":{"groups":[]}}"#);
    let r = get("/api/v1/rules?type=record").await;
    assert_eq!(r.status, StatusCode::OK);
    let r = get("/api/v1/rules?type=x").await;
    assert_eq!(
        r.body,
        r#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"type\": not supported value \"x\""}"#
    );
    let r = get("/api/v1/alerts").await;
    assert_eq!(r.body, r#"{"status":"success","data":{"alerts":[]}}"#);
}
