//! `/federate`, `/api/v1/targets` and `/api/v1/scrape_pools` over the fixture
//! ("now" is 120s).

mod common;

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{MemStore, enc, fixture, get, post_form, send, series, state};
use model::Labels;
use server::info::{ActiveTarget, DroppedTarget, ScrapeTargets, ServerInfo, TargetHealth};

struct Hub;

impl ServerInfo for Hub {
    fn external_labels(&self) -> Labels {
        Labels::from_pairs([("dc", "eu")])
    }

    fn scrape_targets(&self) -> ScrapeTargets {
        ScrapeTargets {
            active: vec![ActiveTarget {
                scrape_pool: "self".into(),
                labels: Labels::from_pairs([("instance", "localhost:9090"), ("job", "self")]),
                discovered_labels: Labels::from_pairs([("__address__", "localhost:9090")]),
                scrape_url: "http://localhost:9090/metrics".into(),
                last_error: String::new(),
                last_scrape: Some(UNIX_EPOCH + Duration::from_millis(110_500)),
                last_scrape_duration: 0.0125,
                health: TargetHealth::Up,
                scrape_interval: "15s".into(),
                scrape_timeout: "10s".into(),
            }],
            dropped: vec![DroppedTarget {
                scrape_pool: "self".into(),
                discovered_labels: Labels::from_pairs([("__address__", "gone:1")]),
            }],
            dropped_counts: vec![("self".into(), 1)],
            local_cluster: Some("hub".into()),
        }
    }
}

/// The fixture plus the hub's own `up` (which must not be listed twice) and an
/// agent's scrape duration.
fn store() -> MemStore {
    let s = fixture();
    let mut all = s.series.lock().clone();
    all.push(series(
        &[
            ("__name__", "up"),
            ("cluster", "hub"),
            ("instance", "localhost:9090"),
            ("job", "self"),
        ],
        &[(110.0, 1.0)],
    ));
    all.push(series(
        &[
            ("__name__", "scrape_duration_seconds"),
            ("instance", "a:9100"),
            ("job", "node"),
        ],
        &[(115.0, 0.25)],
    ));
    MemStore::new(all)
}

async fn hub_get(uri: &str) -> common::Reply {
    let mut st = state(store(), true);
    st.info = Arc::new(Hub);
    send(
        server::router(st),
        Request::get(uri).body(Body::empty()).expect("request"),
    )
    .await
}

#[tokio::test]
async fn federate_latest_samples_grouped_per_metric() {
    let r = get(&format!(
        "/federate?match[]=up&match[]={}",
        enc("{job=\"api\"}")
    ))
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.content_type,
        "text/plain; version=0.0.4; charset=utf-8; escaping=underscores"
    );
    // up{b} ended with a staleness marker: left out.
    assert_eq!(
        r.body,
        "# TYPE http_requests_total untyped\n\
         http_requests_total{code=\"200\",job=\"api\",instance=\"\"} 1e+21 120000\n\
         # TYPE up untyped\n\
         up{instance=\"a:9100\",job=\"node\"} 1 115000\n"
    );
}

#[tokio::test]
async fn federate_external_labels_post_and_errors() {
    let r = hub_get("/federate?match[]=http_requests_total").await;
    assert_eq!(
        r.body,
        "# TYPE http_requests_total untyped\n\
         http_requests_total{code=\"200\",job=\"api\",dc=\"eu\",instance=\"\"} 1e+21 120000\n"
    );
    let r = post_form("/federate", "match%5B%5D=up").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.starts_with("# TYPE up untyped\n"), "{}", r.body);
    // No match[]: nothing, as Prometheus.
    let r = get("/federate").await;
    assert_eq!((r.status, r.body.as_str()), (StatusCode::OK, ""));
    let r = get("/federate?match[]=up%7B").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.content_type.starts_with("text/plain"),
        "{}",
        r.content_type
    );
    assert!(r.body.contains("parse error"), "{}", r.body);
}

#[tokio::test]
async fn targets_of_agents_from_up() {
    let r = get("/api/v1/targets").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.body,
        r#"{"status":"success","data":{"activeTargets":[{"discoveredLabels":{},"labels":{"instance":"a:9100","job":"node"},"scrapePool":"node","scrapeUrl":"http://a:9100/metrics","globalUrl":"http://a:9100/metrics","lastError":"","lastScrape":"1970-01-01T00:01:55Z","lastScrapeDuration":0,"health":"up","scrapeInterval":"15s","scrapeTimeout":""}],"droppedTargets":[],"droppedTargetCounts":{}}}"#
    );
}

#[tokio::test]
async fn targets_of_the_hub_and_agents() {
    let r = hub_get("/api/v1/targets").await;
    let v: serde_json::Value = serde_json::from_str(&r.body).expect("json");
    let active = v["data"]["activeTargets"].as_array().expect("array");
    // The hub's own `up` (cluster=hub) is its own target, listed once.
    assert_eq!(active.len(), 2, "{}", r.body);
    assert_eq!(active[0]["scrapePool"], "node");
    assert_eq!(active[0]["lastScrapeDuration"], 0.25);
    assert_eq!(active[1]["scrapePool"], "self");
    assert_eq!(active[1]["lastScrape"], "1970-01-01T00:01:50.5Z");
    assert_eq!(
        active[1]["discoveredLabels"]["__address__"],
        "localhost:9090"
    );
    assert_eq!(v["data"]["droppedTargets"][0]["scrapePool"], "self");
    assert_eq!(v["data"]["droppedTargetCounts"]["self"], 1);

    let r = hub_get("/api/v1/targets?state=active&scrapePool=self").await;
    let v: serde_json::Value = serde_json::from_str(&r.body).expect("json");
    assert_eq!(v["data"]["activeTargets"].as_array().map(Vec::len), Some(1));
    assert_eq!(v["data"]["droppedTargets"], serde_json::json!([]));
    assert!(v["data"]["droppedTargetCounts"].is_null());

    let r = hub_get("/api/v1/targets?state=Dropped").await;
    let v: serde_json::Value = serde_json::from_str(&r.body).expect("json");
    assert_eq!(v["data"]["activeTargets"], serde_json::json!([]));
    assert_eq!(
        v["data"]["droppedTargets"].as_array().map(Vec::len),
        Some(1)
    );

    let r = hub_get("/api/v1/scrape_pools").await;
    assert_eq!(
        r.body,
        r#"{"status":"success","data":{"scrapePools":["node","self"]}}"#
    );
}
