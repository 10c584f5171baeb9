//! An in-memory store and request helpers shared by the behaviour tests.

#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use model::{Labels, Matcher, MetricMetadata, Sample, SeriesRef, Timestamp, stale_nan};
use parking_lot::Mutex;
use server::ApiState;
use storage::{
    Appendable, Appender, Querier, Queryable, SelectHints, Series, StorageError, WriteIdentity,
};
use tower::ServiceExt;

/// Series kept in memory, sorted by labels, samples in time order.
#[derive(Clone, Default)]
pub struct MemStore {
    pub series: Arc<Mutex<Vec<Series>>>,
    pub metadata: Arc<Mutex<std::collections::BTreeMap<String, MetricMetadata>>>,
}

impl MemStore {
    /// A store holding `series` (sorted here).
    pub fn new(mut series: Vec<Series>) -> Self {
        series.sort_by(|a, b| a.labels.cmp(&b.labels));
        MemStore {
            series: Arc::new(Mutex::new(series)),
            metadata: Arc::default(),
        }
    }

    fn add(&self, labels: &Labels, t: Timestamp, v: f64) {
        let mut all = self.series.lock();
        match all.iter_mut().find(|s| &s.labels == labels) {
            Some(s) => s.samples.push(Sample::new(t, v)),
            None => {
                all.push(Series::floats(labels.clone(), vec![Sample::new(t, v)]));
                all.sort_by(|a, b| a.labels.cmp(&b.labels));
            }
        }
    }
}

struct MemQuerier {
    series: Vec<Series>,
    metadata: std::collections::BTreeMap<String, MetricMetadata>,
}

fn matches(labels: &Labels, ms: &[Matcher]) -> bool {
    ms.iter().all(|m| m.matches(labels.get_or_empty(&m.name)))
}

impl MemQuerier {
    fn in_range(&self, hints: &SelectHints, ms: &[Matcher]) -> Vec<Series> {
        self.series
            .iter()
            .filter(|s| matches(&s.labels, ms))
            .map(|s| Series {
                labels: s.labels.clone(),
                samples: s
                    .samples
                    .iter()
                    .filter(|p| p.t >= hints.start && p.t <= hints.end)
                    .copied()
                    .collect(),
                histograms: s
                    .histograms
                    .iter()
                    .filter(|p| p.t >= hints.start && p.t <= hints.end)
                    .cloned()
                    .collect(),
            })
            .filter(|s| !s.is_empty())
            .collect()
    }
}

impl Querier for MemQuerier {
    fn select(&self, hints: &SelectHints, ms: &[Matcher]) -> Result<Vec<Series>, StorageError> {
        Ok(self.in_range(hints, ms))
    }

    fn series(&self, hints: &SelectHints, ms: &[Matcher]) -> Result<Vec<Labels>, StorageError> {
        let mut out: Vec<Labels> = self
            .in_range(hints, ms)
            .into_iter()
            .map(|s| s.labels)
            .collect();
        if hints.limit > 0 {
            out.truncate(hints.limit);
        }
        Ok(out)
    }

    fn label_names(
        &self,
        hints: &SelectHints,
        ms: &[Matcher],
    ) -> Result<Vec<String>, StorageError> {
        let mut out: Vec<String> = self
            .in_range(hints, ms)
            .iter()
            .flat_map(|s| {
                s.labels
                    .iter()
                    .map(|l| l.name.to_string())
                    .collect::<Vec<_>>()
            })
            .collect();
        out.sort();
        out.dedup();
        Ok(out)
    }

    fn label_values(
        &self,
        hints: &SelectHints,
        name: &str,
        ms: &[Matcher],
    ) -> Result<Vec<String>, StorageError> {
        let mut out: Vec<String> = self
            .in_range(hints, ms)
            .iter()
            .filter_map(|s| s.labels.get(name).map(str::to_owned))
            .collect();
        out.sort();
        out.dedup();
        Ok(out)
    }

    fn metadata(&self, metric: Option<&str>, _limit: usize) -> Vec<(String, MetricMetadata)> {
        self.metadata
            .iter()
            .filter(|(k, _)| metric.is_none_or(|m| m == k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

impl Queryable for MemStore {
    fn querier(
        &self,
        _mint: Timestamp,
        _maxt: Timestamp,
    ) -> Result<Box<dyn Querier>, StorageError> {
        Ok(Box::new(MemQuerier {
            series: self.series.lock().clone(),
            metadata: self.metadata.lock().clone(),
        }))
    }
}

struct MemAppender {
    store: MemStore,
    pending: Vec<(Labels, Timestamp, f64)>,
}

impl Appender for MemAppender {
    fn append(&mut self, labels: &Labels, t: Timestamp, v: f64) -> Result<SeriesRef, StorageError> {
        self.pending.push((labels.clone(), t, v));
        Ok(SeriesRef(0))
    }

    fn update_metadata(&mut self, metric: &str, meta: &MetricMetadata) -> Result<(), StorageError> {
        self.store
            .metadata
            .lock()
            .insert(metric.to_string(), meta.clone());
        Ok(())
    }

    fn commit(self: Box<Self>) -> Result<(), StorageError> {
        for (l, t, v) in &self.pending {
            self.store.add(l, *t, *v);
        }
        Ok(())
    }

    fn rollback(self: Box<Self>) {}
}

impl Appendable for MemStore {
    fn appender(&self, _identity: &WriteIdentity) -> Box<dyn Appender> {
        Box::new(MemAppender {
            store: self.clone(),
            pending: Vec::new(),
        })
    }
}

/// A series from a label list and `(seconds, value)` samples.
pub fn series(labels: &[(&str, &str)], samples: &[(f64, f64)]) -> Series {
    Series::floats(
        Labels::from_pairs(labels.iter().copied()),
        samples
            .iter()
            .map(|(s, v)| Sample::new((s * 1000.0).round() as i64, *v))
            .collect(),
    )
}

/// The fixture most tests query:
/// - `up{instance="a:9100",job="node"}`: 100s=1, 115s=1, 130s=0
/// - `up{instance="b:9100",job="node"}`: 100s=1, 115s=stale
/// - `http_requests_total{code="200",job="api"}`: 60s=10, 90s=20.5, 120s=1e21
pub fn fixture() -> MemStore {
    MemStore::new(vec![
        series(
            &[("__name__", "up"), ("instance", "a:9100"), ("job", "node")],
            &[(100.0, 1.0), (115.0, 1.0), (130.0, 0.0)],
        ),
        series(
            &[("__name__", "up"), ("instance", "b:9100"), ("job", "node")],
            &[(100.0, 1.0), (115.0, stale_nan())],
        ),
        series(
            &[
                ("__name__", "http_requests_total"),
                ("code", "200"),
                ("job", "api"),
            ],
            &[(60.0, 10.0), (90.0, 20.5), (120.0, 1e21)],
        ),
    ])
}

/// A state over `store` (both read and write side), ready flag given.
pub fn state(store: MemStore, ready: bool) -> ApiState {
    let store = Arc::new(store);
    let mut st = ApiState::new(
        store.clone(),
        store,
        Arc::new(|| "fleetwatch_up 1\n".to_string()),
        Arc::new(AtomicBool::new(ready)),
    );
    // "Now" is fixed so that a query without `time` is reproducible.
    st.now_ms = Arc::new(|| 120_000);
    st
}

/// The fixture's router.
pub fn app() -> Router {
    server::router(state(fixture(), true))
}

/// A finished response: status, content type, body.
pub struct Reply {
    pub status: StatusCode,
    pub content_type: String,
    pub body: String,
}

/// Sends one request through the router.
pub async fn send(app: Router, req: Request<Body>) -> Reply {
    let resp = app.oneshot(req).await.expect("router answers");
    let status = resp.status();
    let content_type = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let bytes = resp
        .into_body()
        .collect()
        .await
        .expect("body reads")
        .to_bytes();
    Reply {
        status,
        content_type,
        body: String::from_utf8(bytes.to_vec()).expect("utf-8 body"),
    }
}

/// GET `uri` on the fixture.
pub async fn get(uri: &str) -> Reply {
    send(
        app(),
        Request::get(uri).body(Body::empty()).expect("request"),
    )
    .await
}

/// POST a form body to `uri` on the fixture.
pub async fn post_form(uri: &str, form: &str) -> Reply {
    let req = Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form.to_string()))
        .expect("request");
    send(app(), req).await
}

/// Percent-encodes a query parameter value.
pub fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
