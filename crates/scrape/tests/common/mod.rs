//! Test helpers: a recording store, an in-process HTTP target, configs from YAML.

#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::IntoResponse;
use model::{Labels, MetricMetadata, SeriesRef, Timestamp};
use parking_lot::Mutex;
use storage::{Appendable, Appender, StorageError, WriteIdentity};

/// One committed sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Rec {
    pub labels: Labels,
    pub t: Timestamp,
    pub v: f64,
}

#[derive(Default)]
struct Store {
    samples: Vec<Rec>,
    metadata: Vec<(String, MetricMetadata)>,
    identities: Vec<WriteIdentity>,
}

/// An `Appendable` that keeps every committed sample in order.
#[derive(Clone, Default)]
pub struct Recorder(Arc<Mutex<Store>>);

struct RecAppender {
    store: Arc<Mutex<Store>>,
    samples: Vec<Rec>,
    metadata: Vec<(String, MetricMetadata)>,
}

impl Appendable for Recorder {
    fn appender(&self, identity: &WriteIdentity) -> Box<dyn Appender> {
        self.0.lock().identities.push(identity.clone());
        Box::new(RecAppender {
            store: self.0.clone(),
            samples: Vec::new(),
            metadata: Vec::new(),
        })
    }
}

impl Appender for RecAppender {
    fn append(&mut self, labels: &Labels, t: Timestamp, v: f64) -> Result<SeriesRef, StorageError> {
        self.samples.push(Rec {
            labels: labels.clone(),
            t,
            v,
        });
        Ok(SeriesRef(0))
    }
    fn update_metadata(&mut self, metric: &str, meta: &MetricMetadata) -> Result<(), StorageError> {
        self.metadata.push((metric.to_string(), meta.clone()));
        Ok(())
    }
    fn commit(self: Box<Self>) -> Result<(), StorageError> {
        let mut s = self.store.lock();
        s.samples.extend(self.samples);
        s.metadata.extend(self.metadata);
        Ok(())
    }
    fn rollback(self: Box<Self>) {}
}

impl Recorder {
    /// Every committed sample so far.
    pub fn samples(&self) -> Vec<Rec> {
        self.0.lock().samples.clone()
    }
    /// Samples of metric `name`.
    pub fn of(&self, name: &str) -> Vec<Rec> {
        self.samples()
            .into_iter()
            .filter(|r| r.labels.metric_name() == Some(name))
            .collect()
    }
    /// Every metadata update.
    pub fn metadata(&self) -> Vec<(String, MetricMetadata)> {
        self.0.lock().metadata.clone()
    }
    /// Identities appenders were asked for.
    pub fn identities(&self) -> Vec<WriteIdentity> {
        self.0.lock().identities.clone()
    }
}

/// What the test target answers, and what it was asked.
#[derive(Clone)]
pub struct Page {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
    /// When set, the request must carry this `Authorization` header or get a 401.
    pub require_auth: Option<String>,
    pub gzip: bool,
}

impl Page {
    pub fn text(body: &str) -> Self {
        Page {
            status: 200,
            content_type: "text/plain; version=0.0.4".into(),
            body: body.as_bytes().to_vec(),
            require_auth: None,
            gzip: false,
        }
    }
}

/// A request as the target saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub uri: Uri,
    pub headers: HeaderMap,
}

/// An in-process HTTP target.
#[derive(Clone)]
pub struct TestTarget {
    pub addr: SocketAddr,
    page: Arc<Mutex<Page>>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl TestTarget {
    pub async fn start(page: Page) -> Self {
        let page = Arc::new(Mutex::new(page));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (p, s) = (page.clone(), seen.clone());
        let app = axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap| {
            let (p, s) = (p.clone(), s.clone());
            async move { respond(&p, &s, uri, headers) }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        TestTarget { addr, page, seen }
    }

    pub fn set(&self, page: Page) {
        *self.page.lock() = page;
    }

    pub fn set_body(&self, body: &str) {
        self.page.lock().body = body.as_bytes().to_vec();
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().clone()
    }
}

fn respond(
    page: &Mutex<Page>,
    seen: &Mutex<Vec<Seen>>,
    uri: Uri,
    headers: HeaderMap,
) -> axum::response::Response {
    seen.lock().push(Seen {
        uri,
        headers: headers.clone(),
    });
    let p = page.lock().clone();
    if let Some(want) = &p.require_auth {
        let got = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if got != want {
            return (StatusCode::UNAUTHORIZED, "no").into_response();
        }
    }
    let status = StatusCode::from_u16(p.status).expect("status");
    let mut body = p.body.clone();
    let mut resp_headers = vec![("content-type", p.content_type.clone())];
    if p.gzip {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(&body).expect("gzip");
        body = enc.finish().expect("gzip");
        resp_headers.push(("content-encoding", "gzip".into()));
    }
    let mut r = (status, body).into_response();
    for (k, v) in resp_headers {
        r.headers_mut().insert(k, v.parse().expect("header"));
    }
    r
}

/// The scrape configs of a YAML text.
pub fn scrape_configs(yaml: &str) -> Vec<config::ScrapeConfig> {
    config::Config::load_str(yaml, "test.yml", std::path::Path::new("/"))
        .expect("config loads")
        .config
        .scrape_configs
}

/// Target sets of the static configs of `configs`.
pub fn static_sets(
    configs: &[config::ScrapeConfig],
) -> HashMap<String, Vec<discovery::TargetGroup>> {
    configs
        .iter()
        .map(|c| {
            (
                c.job_name.clone(),
                discovery::static_groups(&c.static_configs),
            )
        })
        .collect()
}

/// Polls `cond` until it holds, failing the test after 10 seconds.
pub async fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A job scraping `addr` every 100ms, with extra YAML lines for the job.
pub fn job_yaml(job: &str, addr: SocketAddr, extra: &str) -> String {
    format!(
        "scrape_configs:\n  - job_name: {job}\n    scrape_interval: 100ms\n    scrape_timeout: 100ms\n    static_configs:\n      - targets: ['{addr}']\n{extra}"
    )
}

/// Starts a manager over `yaml`'s jobs and their static targets.
pub fn start(yaml: &str, cluster: scrape::ClusterLabel) -> (scrape::ScrapeManager, Recorder) {
    let rec = Recorder::default();
    let m = scrape::ScrapeManager::new(Arc::new(rec.clone()), cluster, WriteIdentity::Local);
    let cfgs = scrape_configs(yaml);
    m.apply_config(&cfgs);
    m.sync(static_sets(&cfgs));
    (m, rec)
}
