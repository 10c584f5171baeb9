//! `/api/v1/query` and `/api/v1/query_range` against an in-memory store: the
//! JSON is compared byte for byte with what Prometheus answers for the same data.

mod common;

use axum::http::StatusCode;
use common::{enc, get, post_form};

const UP_A: &str = r#"{"__name__":"up","instance":"a:9100","job":"node"}"#;
const UP_B: &str = r#"{"__name__":"up","instance":"b:9100","job":"node"}"#;
const HTTP: &str = r#"{"__name__":"http_requests_total","code":"200","job":"api"}"#;

async fn instant(query: &str, time: &str) -> common::Reply {
    get(&format!("/api/v1/query?query={}&time={time}", enc(query))).await
}

fn vector(items: &[(&str, &str)]) -> String {
    let result: Vec<String> = items
        .iter()
        .map(|(m, v)| format!(r#"{{"metric":{m},"value":{v}}}"#))
        .collect();
    format!(
        r#"{{"status":"success","data":{{"resultType":"vector","result":[{}]}}}}"#,
        result.join(",")
    )
}

fn matrix(items: &[(&str, &str)]) -> String {
    let result: Vec<String> = items
        .iter()
        .map(|(m, v)| format!(r#"{{"metric":{m},"values":{v}}}"#))
        .collect();
    format!(
        r#"{{"status":"success","data":{{"resultType":"matrix","result":[{}]}}}}"#,
        result.join(",")
    )
}

#[tokio::test]
async fn instant_vector_skips_stale_series() {
    let r = instant("up", "120").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.content_type, "application/json");
    // b's newest sample is a staleness marker: no value.
    assert_eq!(r.body, vector(&[(UP_A, r#"[120,"1"]"#)]));
}

#[tokio::test]
async fn instant_vector_before_stale_marker() {
    let r = instant("up", "110.5").await;
    assert_eq!(
        r.body,
        vector(&[(UP_A, r#"[110.500,"1"]"#), (UP_B, r#"[110.500,"1"]"#)])
    );
}

#[tokio::test]
async fn time_defaults_to_now_and_rfc3339_is_accepted() {
    let r = get("/api/v1/query?query=up").await;
    assert_eq!(r.body, vector(&[(UP_A, r#"[120,"1"]"#)]));
    let r = instant("up", "1970-01-01T00:02:00.001Z").await;
    assert_eq!(r.body, vector(&[(UP_A, r#"[120.001,"1"]"#)]));
}

#[tokio::test]
async fn lookback_is_five_minutes_left_open() {
    // 130s + 5m = 430s: at 429.999 the sample is in (t-5m, t], at 430 it is not.
    let r = instant("up", "429.999").await;
    assert_eq!(r.body, vector(&[(UP_A, r#"[429.999,"0"]"#)]));
    let r = instant("up", "430").await;
    assert_eq!(r.body, vector(&[]));
    // The lookback_delta parameter overrides it.
    let r = get("/api/v1/query?query=up&time=140&lookback_delta=5s").await;
    assert_eq!(r.body, vector(&[]));
}

#[tokio::test]
async fn values_formatted_like_go() {
    let r = instant("http_requests_total", "120").await;
    assert_eq!(r.body, vector(&[(HTTP, r#"[120,"1e+21"]"#)]));
    let r = instant("http_requests_total", "100").await;
    assert_eq!(r.body, vector(&[(HTTP, r#"[100,"20.5"]"#)]));
}

#[tokio::test]
async fn matchers_and_regex_anchoring() {
    let r = instant(r#"up{instance=~"a.*"}"#, "120").await;
    assert_eq!(r.body, vector(&[(UP_A, r#"[120,"1"]"#)]));
    // Anchored: "9100" alone does not match "a:9100".
    let r = instant(r#"up{instance=~"9100"}"#, "120").await;
    assert_eq!(r.body, vector(&[]));
    let r = instant(r#"{job="api"}"#, "120").await;
    assert_eq!(r.body, vector(&[(HTTP, r#"[120,"1e+21"]"#)]));
    let r = instant(r#"(up{instance!="a:9100"})"#, "110").await;
    assert_eq!(r.body, vector(&[(UP_B, r#"[110,"1"]"#)]));
}

#[tokio::test]
async fn offset_and_at() {
    let r = instant("up offset 15s", "130").await;
    assert_eq!(r.body, vector(&[(UP_A, r#"[130,"1"]"#)]));
    // `@` pins the sample; the result carries the evaluation time.
    let r = instant("up @ 100", "500").await;
    assert_eq!(
        r.body,
        vector(&[(UP_A, r#"[500,"1"]"#), (UP_B, r#"[500,"1"]"#)])
    );
    let r = instant("up @ end()", "130").await;
    assert_eq!(r.body, vector(&[(UP_A, r#"[130,"0"]"#)]));
}

#[tokio::test]
async fn range_vector_is_left_open_without_stale_markers() {
    // (60s, 120s]: the sample at 60s is out, 120s is in.
    let r = instant("http_requests_total[1m]", "120").await;
    assert_eq!(r.body, matrix(&[(HTTP, r#"[[90,"20.5"],[120,"1e+21"]]"#)]));
    let r = instant("up[1m]", "130").await;
    assert_eq!(
        r.body,
        matrix(&[
            (UP_A, r#"[[100,"1"],[115,"1"],[130,"0"]]"#),
            (UP_B, r#"[[100,"1"]]"#)
        ])
    );
    // (105s, 115s]: b has only its staleness marker there, so b is left out.
    let r = instant("up[10s] offset 15s", "130").await;
    assert_eq!(r.body, matrix(&[(UP_A, r#"[[115,"1"]]"#)]));
    let r = instant("up[10s] offset 20s", "130").await;
    assert_eq!(r.body, matrix(&[]));
}

#[tokio::test]
async fn range_query_one_point_per_step() {
    let r = get("/api/v1/query_range?query=up&start=100&end=130&step=15").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.body,
        matrix(&[
            (UP_A, r#"[[100,"1"],[115,"1"],[130,"0"]]"#),
            (UP_B, r#"[[100,"1"]]"#)
        ])
    );
    // Step as a duration, times as RFC 3339, @ start().
    let r = get(&format!(
        "/api/v1/query_range?query={}&start=1970-01-01T00:01:55Z&end=1970-01-01T00:02:10Z&step=15s",
        enc("up @ start()")
    ))
    .await;
    assert_eq!(r.body, matrix(&[(UP_A, r#"[[115,"1"],[130,"1"]]"#)]));
}

#[tokio::test]
async fn limit_truncates_with_warning() {
    let r = get("/api/v1/query?query=up&time=110&limit=1").await;
    assert_eq!(
        r.body,
        r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"up","instance":"a:9100","job":"node"},"value":[110,"1"]}]},"warnings":["results truncated due to limit"]}"#
    );
}

#[tokio::test]
async fn post_form_queries() {
    let r = post_form(
        "/api/v1/query",
        &format!("query={}&time=120", enc("up{job=\"node\"}")),
    )
    .await;
    assert_eq!(r.body, vector(&[(UP_A, r#"[120,"1"]"#)]));
    let r = post_form("/api/v1/query_range", "query=up&start=100&end=100&step=1").await;
    assert_eq!(
        r.body,
        matrix(&[(UP_A, r#"[[100,"1"]]"#), (UP_B, r#"[[100,"1"]]"#)])
    );
}

fn bad_data(msg: &str) -> String {
    let escaped = msg.replace('"', "\\\"");
    format!(r#"{{"status":"error","errorType":"bad_data","error":"{escaped}"}}"#)
}

#[tokio::test]
async fn parse_errors_are_bad_data_naming_query() {
    for q in ["up{", "", "sum(", "up[5m"] {
        let r = instant(q, "120").await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{q}");
        assert_eq!(r.content_type, "application/json");
        assert!(
            r.body.starts_with(
                r#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": "#
            ),
            "{q}: {}",
            r.body
        );
    }
}

#[tokio::test]
async fn scalar_and_string_results() {
    let r = instant("1.5", "100").await;
    assert_eq!(
        r.body,
        r#"{"status":"success","data":{"resultType":"scalar","result":[100,"1.5"]}}"#
    );
    let r = instant(r#""a<b""#, "100.5").await;
    assert_eq!(
        r.body,
        r#"{"status":"success","data":{"resultType":"string","result":[100.500,"a\u003cb"]}}"#
    );
    // A scalar over a range is one series without labels.
    let r = get(&format!(
        "/api/v1/query_range?query={}&start=0&end=2&step=1",
        enc("-1")
    ))
    .await;
    assert_eq!(
        r.body,
        r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[0,"-1"],[1,"-1"],[2,"-1"]]}]}}"#
    );
}

#[tokio::test]
async fn stats_on_request() {
    let r = get("/api/v1/query?query=up&time=120&stats=true").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.body.contains(r#","stats":{"timings":{"evalTotalTime":"#),
        "{}",
        r.body
    );
    assert!(
        r.body.contains(r#""samples":{"totalQueryableSamples":"#),
        "{}",
        r.body
    );
    assert!(!r.body.contains("warnings"), "{}", r.body);
    let r = get("/api/v1/query?query=up&time=120&stats=yes").await;
    assert!(
        r.body.ends_with(r#"}},"warnings":["value \"yes\" for parameter \"stats\" is deprecated and will be rejected in the next major release, use \"true\" or \"all\""]}"#),
        "{}",
        r.body
    );
    let r = get("/api/v1/query?query=up&time=120").await;
    assert!(!r.body.contains("stats"), "{}", r.body);
}

#[tokio::test]
async fn parameter_errors_match_prometheus() {
    let cases = [
        (
            "/api/v1/query?query=up&time=abc",
            r#"invalid parameter "time": invalid time value for 'time': cannot parse "abc" to a valid timestamp"#,
        ),
        (
            "/api/v1/query?query=up&limit=-1",
            r#"invalid parameter "limit": limit must be non-negative"#,
        ),
        (
            "/api/v1/query?query=up&timeout=x",
            r#"invalid parameter "timeout": cannot parse "x" to a valid duration"#,
        ),
        (
            "/api/v1/query_range?query=up&end=1&step=1",
            r#"invalid parameter "start": cannot parse "" to a valid timestamp"#,
        ),
        (
            "/api/v1/query_range?query=up&start=10&end=5&step=1",
            r#"invalid parameter "end": end timestamp must not be before start time"#,
        ),
        (
            "/api/v1/query_range?query=up&start=0&end=5",
            r#"invalid parameter "step": cannot parse "" to a valid duration"#,
        ),
        (
            "/api/v1/query_range?query=up&start=0&end=5&step=0",
            r#"invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer"#,
        ),
        (
            "/api/v1/query_range?query=up&start=0&end=11001&step=1",
            "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)",
        ),
        (
            "/api/v1/query_range?query=up[5m]&start=0&end=10&step=1",
            r#"invalid parameter "query": invalid expression type "range vector" for range query, must be Scalar or instant Vector"#,
        ),
    ];
    for (uri, msg) in cases {
        let r = get(uri).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{uri}");
        assert_eq!(r.body, bad_data(msg), "{uri}");
    }
    // Exactly 11,000 points is allowed.
    let r = get("/api/v1/query_range?query=up&start=0&end=11000&step=1").await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn oversized_form_body_is_refused() {
    let big = format!("query=up&pad={}", "x".repeat(2 << 20));
    let r = post_form("/api/v1/query", &big).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(r.body.contains(r#""errorType":"bad_data""#), "{}", r.body);
}

#[tokio::test]
async fn too_many_samples_is_an_execution_error() {
    let st = common::state(common::fixture(), true).with_engine_options(promql::EngineOptions {
        max_samples: 2,
        ..promql::EngineOptions::default()
    });
    let r = common::send(
        server::router(st),
        axum::http::Request::get("/api/v1/query?query=up%5B1m%5D&time=130")
            .body(axum::body::Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        r.body,
        r#"{"status":"error","errorType":"execution","error":"query processing would load too many samples into memory in query execution"}"#
    );
}

#[tokio::test]
async fn zero_timeout_times_out() {
    let r = get("/api/v1/query?query=up&time=120&timeout=0").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        r.body,
        r#"{"status":"error","errorType":"timeout","error":"query timed out in expression evaluation"}"#
    );
}
