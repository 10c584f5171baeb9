//! The remote-write endpoint, health, readiness and the process's own metrics.

mod common;

use std::sync::atomic::Ordering;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use common::{MemStore, send, state};
use remote::codec::{Label, Sample, TimeSeries, WriteRequest, encode};

fn write_body() -> Vec<u8> {
    encode(&WriteRequest {
        timeseries: vec![TimeSeries {
            labels: vec![
                Label {
                    name: "__name__".into(),
                    value: "pushed".into(),
                },
                Label {
                    name: "cluster".into(),
                    value: "c1".into(),
                },
            ],
            samples: vec![Sample {
                value: 4.5,
                timestamp: 100_000,
            }],
            exemplars: vec![],
        }],
        metadata: vec![],
    })
}

fn write_request(body: Vec<u8>) -> Request<Body> {
    Request::builder()
        .method(Method::POST)
        .uri("/api/v1/write")
        .header(header::CONTENT_TYPE, "application/x-protobuf")
        .header(header::CONTENT_ENCODING, "snappy")
        .header("X-Prometheus-Remote-Write-Version", "0.1.0")
        .body(Body::from(body))
        .expect("request")
}

#[tokio::test]
async fn remote_write_then_query() {
    let store = MemStore::default();
    let app = server::router(state(store.clone(), true));
    let r = send(app.clone(), write_request(write_body())).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert_eq!(store.series.lock().len(), 1);
    let r = send(
        app,
        Request::get("/api/v1/query?query=pushed&time=100")
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(
        r.body,
        r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"pushed","cluster":"c1"},"value":[100,"4.5"]}]}}"#
    );
}

#[tokio::test]
async fn remote_write_is_counted_on_metrics() {
    let store = MemStore::default();
    let app = server::router(state(store.clone(), true));
    let r = send(app.clone(), write_request(write_body())).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = send(app.clone(), write_request(b"not snappy".to_vec())).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = send(
        app,
        Request::get("/metrics")
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    for line in [
        "fleetwatch_remote_write_requests_total{code=\"2xx\"} 1",
        "fleetwatch_remote_write_requests_total{code=\"4xx\"} 1",
        "fleetwatch_remote_write_samples_total 1",
    ] {
        assert!(r.body.contains(line), "missing {line:?} in:\n{}", r.body);
    }
}

#[tokio::test]
async fn remote_write_errors_are_plain_text() {
    let store = MemStore::default();
    let mut st = state(store.clone(), true);
    st.receive_limits.max_compressed_bytes = 16;
    let app = server::router(st);
    let r = send(app.clone(), write_request(write_body())).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(r.body.contains("16 bytes"), "{}", r.body);

    let app = server::router(state(store.clone(), true));
    let r = send(app, write_request(b"not snappy at all".to_vec())).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.content_type.starts_with("text/plain"),
        "{}",
        r.content_type
    );
    assert!(!r.body.is_empty());
    assert!(store.series.lock().is_empty());
}

#[tokio::test]
async fn health_and_readiness() {
    let st = state(MemStore::default(), false);
    let ready = st.ready.clone();
    let app = server::router(st);
    let get = |uri: &str| Request::get(uri).body(Body::empty()).expect("request");
    let r = send(app.clone(), get("/-/healthy")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, "Fleetwatch is Healthy.\n");
    let r = send(app.clone(), get("/-/ready")).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    ready.store(true, Ordering::Release);
    let r = send(app.clone(), get("/-/ready")).await;
    assert_eq!(r.status, StatusCode::OK);
    let r = send(app, get("/metrics")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.content_type, "text/plain; version=0.0.4; charset=utf-8");
    // The process's own metrics first, then the write endpoint's counters.
    assert!(r.body.starts_with("fleetwatch_up 1\n"), "{}", r.body);
    assert!(
        r.body.contains("fleetwatch_remote_write_samples_total 0\n"),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn metadata_sent_by_remote_write_is_served() {
    use remote::codec::{MetricMetadata, MetricTypeProto};
    let store = MemStore::default();
    let app = server::router(state(store.clone(), true));
    let meta = |name: &str, typ: MetricTypeProto, help: &str| MetricMetadata {
        r#type: typ as i32,
        metric_family_name: name.into(),
        help: help.into(),
        unit: String::new(),
    };
    let body = encode(&WriteRequest {
        timeseries: vec![],
        metadata: vec![
            meta("up", MetricTypeProto::Gauge, "Target \"up\"."),
            meta("http_requests_total", MetricTypeProto::Counter, "Requests."),
        ],
    });
    let r = send(app.clone(), write_request(body)).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let get = |uri: &'static str| Request::get(uri).body(Body::empty()).expect("request");
    let r = send(app.clone(), get("/api/v1/metadata")).await;
    assert_eq!(
        r.body,
        r#"{"status":"success","data":{"http_requests_total":[{"type":"counter","help":"Requests.","unit":""}],"up":[{"type":"gauge","help":"Target \"up\".","unit":""}]}}"#
    );
    let r = send(app.clone(), get("/api/v1/metadata?metric=up")).await;
    assert!(
        r.body.contains("\"up\"") && !r.body.contains("http_requests_total"),
        "{}",
        r.body
    );
    let r = send(app.clone(), get("/api/v1/metadata?limit=1")).await;
    assert_eq!(r.body.matches("\"type\"").count(), 1, "{}", r.body);
    let r = send(app, get("/api/v1/metadata?limit=x")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("limit must be a number"), "{}", r.body);
}

#[tokio::test]
async fn tsdb_status_needs_a_store_that_keeps_statistics() {
    let app = server::router(state(MemStore::default(), true));
    let get = |uri: &'static str| Request::get(uri).body(Body::empty()).expect("request");
    let r = send(app.clone(), get("/api/v1/status/tsdb")).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        r.body.contains("\"errorType\":\"unavailable\""),
        "{}",
        r.body
    );
    let r = send(app, get("/api/v1/status/tsdb?limit=0")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.body.contains("limit must be a positive number"),
        "{}",
        r.body
    );
}
