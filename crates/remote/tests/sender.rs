//! The sender against an in-process HTTP receiver scripted to fail in various ways.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use model::{Labels, MetricMetadata, MetricType};
use parking_lot::Mutex;
use remote::codec::{self, WriteRequest};
use remote::{QueueConfig, RemoteWrite, SenderConfig};
use storage::{Appendable, WriteIdentity};

/// What the receiver answers next (then 200 forever) and what it accepted.
#[derive(Default)]
struct Receiver {
    script: Mutex<VecDeque<(u16, Option<&'static str>)>>,
    accepted: Mutex<Vec<WriteRequest>>,
    headers: Mutex<Vec<HeaderMap>>,
    attempts: Mutex<usize>,
}

async fn write(State(r): State<Arc<Receiver>>, headers: HeaderMap, body: Bytes) -> Response {
    *r.attempts.lock() += 1;
    let next = r.script.lock().pop_front();
    if let Some((code, retry_after)) = next {
        let status = StatusCode::from_u16(code).expect("status");
        let mut resp = (status, "scripted failure").into_response();
        if let Some(ra) = retry_after {
            resp.headers_mut()
                .insert("retry-after", ra.parse().expect("header"));
        }
        return resp;
    }
    match codec::decode(&body, 1 << 20, 1 << 24) {
        Ok(req) => {
            r.accepted.lock().push(req);
            r.headers.lock().push(headers);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    }
}

async fn serve_on(listener: tokio::net::TcpListener, r: Arc<Receiver>) {
    let app = Router::new().route("/write", post(write)).with_state(r);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
}

async fn serve(script: Vec<(u16, Option<&'static str>)>) -> (SocketAddr, Arc<Receiver>) {
    let r = Arc::new(Receiver::default());
    r.script.lock().extend(script);
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = l.local_addr().expect("addr");
    serve_on(l, r.clone()).await;
    (addr, r)
}

fn config(addr: SocketAddr) -> SenderConfig {
    // reqwest is built without a crypto provider; the binary installs aws-lc-rs, so do we.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let mut c = SenderConfig::new(format!("http://{addr}/write"), reqwest::Client::new());
    c.timeout = Duration::from_secs(5);
    c.queue = QueueConfig {
        batch_send_deadline: Duration::from_millis(20),
        min_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(100),
        shards: 2,
        ..QueueConfig::default()
    };
    c.metadata_interval = Duration::ZERO;
    c
}

/// Polls `cond` until it holds or 10 s pass.
async fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn append(rw: &RemoteWrite, series: &[(&str, i64, f64)]) {
    let mut app = rw.appendable().appender(&WriteIdentity::Local);
    for &(name, t, v) in series {
        let l = Labels::from_pairs([("__name__", name), ("job", "test")]);
        app.append(&l, t, v).expect("append");
    }
    app.commit().expect("commit");
}

fn delivered(r: &Receiver) -> Vec<(String, i64, f64)> {
    let mut out = vec![];
    for req in r.accepted.lock().iter() {
        for ts in &req.timeseries {
            let name = ts
                .labels
                .iter()
                .find(|l| l.name == "__name__")
                .map(|l| l.value.clone())
                .unwrap_or_default();
            for s in &ts.samples {
                out.push((name.clone(), s.timestamp, s.value));
            }
        }
    }
    out
}

#[tokio::test]
async fn server_error_is_retried_and_delivered_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (addr, r) = serve(vec![(500, None)]).await;
    let rw = RemoteWrite::open(dir.path(), 1 << 20, vec![]).expect("open");
    let h = rw.start(config(addr));
    append(&rw, &[("a", 1, 1.0), ("a", 2, 2.0), ("b", 1, 3.0)]);
    wait_for("3 samples sent", || rw.snapshot().samples_sent == 3).await;
    let mut got = delivered(&r);
    got.sort_by(|x, y| x.partial_cmp(y).expect("cmp"));
    assert_eq!(
        got,
        vec![
            ("a".into(), 1, 1.0),
            ("a".into(), 2, 2.0),
            ("b".into(), 1, 3.0)
        ]
    );
    let s = rw.snapshot();
    assert!(s.samples_retried > 0, "{s:?}");
    assert!(s.highest_sent_ms == 2 && s.last_send_seconds > 0.0, "{s:?}");
    let hdr = r.headers.lock()[0].clone();
    assert_eq!(hdr["content-encoding"], "snappy");
    assert_eq!(hdr["content-type"], "application/x-protobuf");
    assert_eq!(hdr["x-prometheus-remote-write-version"], "0.1.0");
    assert!(
        hdr["user-agent"]
            .to_str()
            .expect("ua")
            .starts_with("Fleetwatch/")
    );
    wait_for("queue drained and acknowledged", || rw.queue().is_drained()).await;
    h.shutdown().await;
    // Acknowledged data is not sent again after a restart.
    let rw2 = RemoteWrite::open(dir.path(), 1 << 20, vec![]).expect("reopen");
    assert!(rw2.queue().read(10, usize::MAX).expect("read").is_empty());
}

#[tokio::test]
async fn client_error_drops_the_batch_and_counts_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (addr, r) = serve(vec![(400, None)]).await;
    let rw = RemoteWrite::open(dir.path(), 1 << 20, vec![]).expect("open");
    let h = rw.start(config(addr));
    append(&rw, &[("a", 1, 1.0), ("a", 2, 2.0)]);
    wait_for("2 samples dropped", || rw.snapshot().dropped_4xx == 2).await;
    assert_eq!(rw.snapshot().samples_failed, 2);
    // The queue moved past the dropped batch: new data flows.
    append(&rw, &[("a", 3, 3.0)]);
    wait_for("new sample sent", || rw.snapshot().samples_sent == 1).await;
    assert_eq!(delivered(&r), vec![("a".into(), 3, 3.0)]);
    let mut text = String::new();
    rw.render("hub", "http://x/", &mut text);
    assert!(text.contains("reason=\"http_4xx\"} 2\n"), "{text}");
    h.shutdown().await;
}

#[tokio::test]
async fn too_many_requests_honours_retry_after() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (addr, r) = serve(vec![(429, Some("0")), (429, Some("0"))]).await;
    let rw = RemoteWrite::open(dir.path(), 1 << 20, vec![]).expect("open");
    let mut c = config(addr);
    // Without Retry-After the second retry would wait 20 s and the test would time out.
    c.queue.min_backoff = Duration::from_secs(20);
    c.queue.max_backoff = Duration::from_secs(20);
    let h = rw.start(c);
    append(&rw, &[("a", 1, 1.0)]);
    wait_for("sample sent", || rw.snapshot().samples_sent == 1).await;
    assert_eq!(*r.attempts.lock(), 3);
    assert_eq!(delivered(&r).len(), 1);
    h.shutdown().await;
}

#[tokio::test]
async fn outage_then_recovery_delivers_everything_in_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Reserve a port, then close it so connections are refused.
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = l.local_addr().expect("addr");
    drop(l);
    let rw = RemoteWrite::open(dir.path(), 1 << 20, vec![]).expect("open");
    let h = rw.start(config(addr));
    for t in 0..200i64 {
        append(&rw, &[("a", t, t as f64), ("b", t, -(t as f64))]);
    }
    wait_for("retries during the outage", || {
        rw.snapshot().samples_retried > 0
    })
    .await;
    assert_eq!(rw.snapshot().samples_sent, 0);
    let r = Arc::new(Receiver::default());
    let l = tokio::net::TcpListener::bind(addr).await.expect("rebind");
    serve_on(l, r.clone()).await;
    wait_for("all 400 samples sent", || rw.snapshot().samples_sent == 400).await;
    let got = delivered(&r);
    assert_eq!(got.len(), 400);
    for name in ["a", "b"] {
        let ts: Vec<i64> = got.iter().filter(|s| s.0 == name).map(|s| s.1).collect();
        assert_eq!(
            ts,
            (0..200).collect::<Vec<_>>(),
            "series {name} out of order"
        );
    }
    h.shutdown().await;
}

#[tokio::test]
async fn unacknowledged_data_survives_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (addr, r) = serve(vec![(503, None); 1000]).await;
    {
        let rw = RemoteWrite::open(dir.path(), 1 << 20, vec![]).expect("open");
        let h = rw.start(config(addr));
        append(&rw, &[("a", 1, 1.0), ("a", 2, 2.0)]);
        wait_for("a failed attempt", || *r.attempts.lock() > 1).await;
        h.shutdown().await;
    }
    r.script.lock().clear();
    let rw = RemoteWrite::open(dir.path(), 1 << 20, vec![]).expect("reopen");
    let h = rw.start(config(addr));
    wait_for("both samples sent", || rw.snapshot().samples_sent == 2).await;
    assert_eq!(
        delivered(&r),
        vec![("a".into(), 1, 1.0), ("a".into(), 2, 2.0)]
    );
    h.shutdown().await;
}

#[tokio::test]
async fn metadata_is_sent() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (addr, r) = serve(vec![]).await;
    let rw = RemoteWrite::open(dir.path(), 1 << 20, vec![]).expect("open");
    let mut app = rw.appendable().appender(&WriteIdentity::Local);
    let meta = MetricMetadata {
        metric_type: MetricType::Counter,
        help: "Requests.".into(),
        unit: String::new(),
    };
    app.update_metadata("http_requests_total", &meta)
        .expect("meta");
    app.commit().expect("commit");
    let mut c = config(addr);
    c.metadata_interval = Duration::from_secs(60);
    let h = rw.start(c);
    wait_for("metadata sent", || rw.snapshot().metadata_sent == 1).await;
    let m = r
        .accepted
        .lock()
        .iter()
        .find(|q| !q.metadata.is_empty())
        .expect("meta req")
        .metadata[0]
        .clone();
    assert_eq!(m.metric_family_name, "http_requests_total");
    assert_eq!(m.to_model(), meta);
    h.shutdown().await;
}
