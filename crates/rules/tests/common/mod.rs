//! A store for behaviour tests: the PromQL test scripts' `MemStore` for reads, shared
//! behind a lock so that rule results appended through `Appendable` become readable.

#![allow(dead_code)]

use std::sync::{Arc, Mutex, MutexGuard};

use model::{Labels, MetricMetadata, SeriesRef, Timestamp, is_stale_nan};
use promql::promqltest::MemStore;
use storage::{Appendable, Appender, Querier, Queryable, StorageError, WriteIdentity};

/// A store both readable and writable, cheap to clone (clones share the data).
#[derive(Clone, Default)]
pub struct TestStore {
    inner: Arc<Mutex<MemStore>>,
}

impl TestStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, MemStore> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds a sample directly (test input).
    pub fn add(&self, labels: &Labels, t: Timestamp, v: f64) {
        self.lock().add(labels, t, v);
    }

    /// Every sample of the series with exactly these labels, oldest first.
    pub fn samples(&self, labels: &Labels) -> Vec<(Timestamp, f64)> {
        let store = self.lock().clone();
        let Ok(q) = store.querier(i64::MIN / 2, i64::MAX / 2) else {
            return Vec::new();
        };
        let matchers: Vec<model::Matcher> = labels
            .iter()
            .map(|l| model::Matcher::equal(l.name.as_str(), l.value.as_str()))
            .collect();
        let hints = storage::SelectHints {
            start: i64::MIN / 2,
            end: i64::MAX / 2,
            limit: 0,
        };
        q.select(&hints, &matchers)
            .unwrap_or_default()
            .into_iter()
            .filter(|s| &s.labels == labels)
            .flat_map(|s| s.samples.into_iter().map(|p| (p.t, p.v)))
            .collect()
    }

    /// The sample of `labels` at exactly `t`: `Some(None)` for a staleness marker.
    pub fn at(&self, labels: &Labels, t: Timestamp) -> Option<Option<f64>> {
        self.samples(labels)
            .into_iter()
            .find(|(st, _)| *st == t)
            .map(|(_, v)| (!is_stale_nan(v)).then_some(v))
    }

    /// Label sets of every series named `name`.
    pub fn series_named(&self, name: &str) -> Vec<Labels> {
        let store = self.lock().clone();
        let Ok(q) = store.querier(i64::MIN / 2, i64::MAX / 2) else {
            return Vec::new();
        };
        let hints = storage::SelectHints {
            start: i64::MIN / 2,
            end: i64::MAX / 2,
            limit: 0,
        };
        q.series(&hints, &[model::Matcher::equal("__name__", name)])
            .unwrap_or_default()
    }
}

impl Queryable for TestStore {
    fn querier(&self, mint: Timestamp, maxt: Timestamp) -> Result<Box<dyn Querier>, StorageError> {
        // A snapshot: the data is shared copy-on-write inside MemStore.
        let snapshot = self.lock().clone();
        snapshot.querier(mint, maxt)
    }
}

impl Appendable for TestStore {
    fn appender(&self, _identity: &WriteIdentity) -> Box<dyn Appender> {
        Box::new(TestAppender {
            store: self.clone(),
            pending: Vec::new(),
        })
    }
}

struct TestAppender {
    store: TestStore,
    pending: Vec<(Labels, Timestamp, f64)>,
}

impl Appender for TestAppender {
    fn append(&mut self, labels: &Labels, t: Timestamp, v: f64) -> Result<SeriesRef, StorageError> {
        self.pending.push((labels.clone(), t, v));
        Ok(SeriesRef(0))
    }

    fn update_metadata(
        &mut self,
        _metric: &str,
        _meta: &MetricMetadata,
    ) -> Result<(), StorageError> {
        Ok(())
    }

    fn commit(self: Box<Self>) -> Result<(), StorageError> {
        let mut store = self.store.lock();
        for (l, t, v) in &self.pending {
            store.add(l, *t, *v);
        }
        Ok(())
    }

    fn rollback(self: Box<Self>) {}
}

/// Labels from pairs.
pub fn labels(pairs: &[(&str, &str)]) -> Labels {
    Labels::from_pairs(pairs.iter().copied())
}

/// Minutes as ms.
pub fn min(m: i64) -> Timestamp {
    m * 60_000
}
