//! The store a test group reads and writes: a [`MemStore`] behind a lock, appended to as a
//! TSDB head with out-of-order writes disabled would accept samples (promtool's test
//! storage), and the input series loaded lazily, up to each evaluation time, as promtool's
//! lazy loader does.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use model::{Labels, MetricMetadata, SeriesRef, Timestamp};
use parking_lot::RwLock;
use promql::promqltest::MemStore;
use storage::{Appendable, Appender, Querier, Queryable, StorageError, WriteIdentity};

/// What the store holds: the samples, and each series' newest sample for append checks.
#[derive(Debug, Default)]
struct Inner {
    data: MemStore,
    last: HashMap<Labels, (Timestamp, u64)>,
}

/// An in-memory store shared by the queries, the rules' writes and the input loader.
#[derive(Debug, Clone, Default)]
pub(crate) struct TestStore {
    inner: Arc<RwLock<Inner>>,
}

impl TestStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Queryable for TestStore {
    fn querier(&self, mint: Timestamp, maxt: Timestamp) -> Result<Box<dyn Querier>, StorageError> {
        // A snapshot: writes after this do not change what the query sees.
        let snapshot = self.inner.read().data.clone();
        snapshot.querier(mint, maxt)
    }
}

impl Appendable for TestStore {
    fn appender(&self, _identity: &WriteIdentity) -> Box<dyn Appender> {
        Box::new(TestAppender {
            inner: Arc::clone(&self.inner),
            pending: Vec::new(),
            batch_last: HashMap::new(),
        })
    }
}

/// A batch of samples, visible on commit.
struct TestAppender {
    inner: Arc<RwLock<Inner>>,
    pending: Vec<(Labels, Timestamp, f64)>,
    batch_last: HashMap<Labels, (Timestamp, u64)>,
}

impl Appender for TestAppender {
    fn append(&mut self, labels: &Labels, t: Timestamp, v: f64) -> Result<SeriesRef, StorageError> {
        if labels.is_empty() {
            return Err(StorageError::InvalidSeries {
                series: labels.to_string(),
                reason: "empty labelset".to_string(),
            });
        }
        let last = match self.batch_last.get(labels) {
            Some(l) => Some(*l),
            None => self.inner.read().last.get(labels).copied(),
        };
        if let Some((lt, lv)) = last {
            if t < lt {
                return Err(StorageError::Other("out of order sample".to_string()));
            }
            if t == lt {
                if lv == v.to_bits() {
                    // The same sample again: accepted, nothing to write.
                    return Ok(SeriesRef(0));
                }
                return Err(StorageError::DuplicateSampleForTimestamp {
                    series: labels.to_string(),
                    t,
                });
            }
        }
        self.batch_last.insert(labels.clone(), (t, v.to_bits()));
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
        let mut inner = self.inner.write();
        for (labels, t, v) in self.pending {
            inner.data.add(&labels, t, v);
            inner.last.insert(labels, (t, v.to_bits()));
        }
        Ok(())
    }

    fn rollback(self: Box<Self>) {}
}

/// Input series waiting to be loaded: samples in time order per series.
#[derive(Debug, Default)]
pub(crate) struct LazyInput {
    series: BTreeMap<Labels, Vec<(Timestamp, f64)>>,
    /// Per series, how many samples are loaded.
    loaded: BTreeMap<Labels, usize>,
}

impl LazyInput {
    /// Defines a series; a second definition of the same labels replaces the first, as in
    /// promtool (its loader keys definitions by the labels' hash).
    pub fn define(&mut self, labels: Labels, samples: Vec<(Timestamp, f64)>) {
        self.loaded.insert(labels.clone(), 0);
        self.series.insert(labels, samples);
    }

    /// Appends every sample at or before `ts` not loaded yet, in one batch.
    pub fn load_till(&mut self, store: &TestStore, ts: Timestamp) -> Result<(), StorageError> {
        let mut app = store.appender(&WriteIdentity::Local);
        let mut progress = Vec::new();
        for (labels, samples) in &self.series {
            let from = self.loaded.get(labels).copied().unwrap_or(0);
            let mut i = from;
            while i < samples.len() && samples[i].0 <= ts {
                let (t, v) = samples[i];
                if let Err(e) = app.append(labels, t, v) {
                    app.rollback();
                    return Err(e);
                }
                i += 1;
            }
            if i > from {
                progress.push((labels.clone(), i));
            }
        }
        app.commit()?;
        self.loaded.extend(progress);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::stale_nan;
    use storage::SelectHints;

    fn series(name: &str) -> Labels {
        Labels::from_pairs([("__name__", name)])
    }

    fn samples(store: &TestStore, name: &str) -> Vec<(Timestamp, f64)> {
        let q = store.querier(i64::MIN, i64::MAX).expect("querier");
        let hints = SelectHints {
            start: i64::MIN,
            end: i64::MAX,
            limit: 0,
        };
        let m = model::Matcher::new(model::MatchOp::Equal, "__name__", name).expect("matcher");
        q.select(&hints, &[m])
            .expect("select")
            .into_iter()
            .flat_map(|s| s.samples)
            .map(|s| (s.t, s.v))
            .collect()
    }

    #[test]
    fn appends_like_a_head_without_out_of_order() {
        let store = TestStore::new();
        let mut app = store.appender(&WriteIdentity::Local);
        app.append(&series("a"), 10, 1.0).expect("first");
        app.append(&series("a"), 10, 1.0)
            .expect("same sample again");
        assert!(matches!(
            app.append(&series("a"), 10, 2.0),
            Err(StorageError::DuplicateSampleForTimestamp { .. })
        ));
        assert!(app.append(&series("a"), 5, 2.0).is_err());
        assert!(samples(&store, "a").is_empty(), "invisible before commit");
        app.commit().expect("commit");
        assert_eq!(samples(&store, "a"), [(10, 1.0)]);
        let mut app = store.appender(&WriteIdentity::Local);
        assert!(
            app.append(&series("a"), 10, stale_nan()).is_err(),
            "a stale marker does not overwrite a sample"
        );
        app.append(&series("a"), 20, 3.0).expect("later");
        app.commit().expect("commit");
        assert_eq!(samples(&store, "a"), [(10, 1.0), (20, 3.0)]);
    }

    #[test]
    fn input_loads_up_to_each_time() {
        let store = TestStore::new();
        let mut input = LazyInput::default();
        input.define(series("a"), vec![(0, 9.0)]);
        input.define(series("a"), vec![(0, 1.0), (60, 2.0), (120, 3.0)]);
        input.load_till(&store, 59).expect("load");
        assert_eq!(samples(&store, "a"), [(0, 1.0)]);
        input.load_till(&store, 120).expect("load");
        input.load_till(&store, 180).expect("load");
        assert_eq!(samples(&store, "a"), [(0, 1.0), (60, 2.0), (120, 3.0)]);
    }
}
