//! The store a test group reads and writes: a [`MemStore`] behind a lock, appended to as a
//! TSDB head with out-of-order writes disabled would accept samples (promtool's test
//! storage), and the input series loaded lazily, up to each evaluation time, as promtool's
//! lazy loader does. Float and native-histogram samples both go in; histograms read back
//! with the counter-reset hints a TSDB chunk gives them.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use model::{FloatHistogram, Labels, MetricMetadata, SeriesRef, Timestamp};
use parking_lot::RwLock;
use promql::promqltest::MemStore;
use storage::{Appendable, Appender, Querier, Queryable, StorageError, WriteIdentity};

/// A sample value of either kind.
#[derive(Debug, Clone)]
pub(crate) enum Value {
    /// A float (maybe the staleness marker).
    Float(f64),
    /// A native histogram.
    Histogram(Arc<FloatHistogram>),
}

impl Value {
    /// The same value: floats bit for bit, histograms by Prometheus's `Equals`.
    fn same(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Float(a), Value::Float(b)) => a.to_bits() == b.to_bits(),
            (Value::Histogram(a), Value::Histogram(b)) => a.equals(b),
            _ => false,
        }
    }
}

/// What the store holds: the samples, and each series' newest sample for append checks.
#[derive(Debug, Default)]
struct Inner {
    data: MemStore,
    last: HashMap<Labels, (Timestamp, Value)>,
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
    pending: Vec<(Labels, Timestamp, Value)>,
    batch_last: HashMap<Labels, (Timestamp, Value)>,
}

impl TestAppender {
    fn add(&mut self, labels: &Labels, t: Timestamp, v: Value) -> Result<SeriesRef, StorageError> {
        if labels.is_empty() {
            return Err(StorageError::InvalidSeries {
                series: labels.to_string(),
                reason: "empty labelset".to_string(),
            });
        }
        let last = match self.batch_last.get(labels) {
            Some(l) => Some(l.clone()),
            None => self.inner.read().last.get(labels).cloned(),
        };
        if let Some((lt, lv)) = last {
            if t < lt {
                return Err(StorageError::Other("out of order sample".to_string()));
            }
            if t == lt {
                if lv.same(&v) {
                    // The same sample again: accepted, nothing to write.
                    return Ok(SeriesRef(0));
                }
                return Err(StorageError::DuplicateSampleForTimestamp {
                    series: labels.to_string(),
                    t,
                });
            }
        }
        self.batch_last.insert(labels.clone(), (t, v.clone()));
        self.pending.push((labels.clone(), t, v));
        Ok(SeriesRef(0))
    }
}

impl Appender for TestAppender {
    fn append(&mut self, labels: &Labels, t: Timestamp, v: f64) -> Result<SeriesRef, StorageError> {
        self.add(labels, t, Value::Float(v))
    }

    fn append_histogram(
        &mut self,
        labels: &Labels,
        t: Timestamp,
        h: &FloatHistogram,
    ) -> Result<SeriesRef, StorageError> {
        self.add(labels, t, Value::Histogram(Arc::new(h.clone())))
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
            match &v {
                Value::Float(f) => inner.data.add(&labels, t, *f),
                Value::Histogram(h) => inner.data.add_histogram(&labels, t, h),
            }
            inner.last.insert(labels, (t, v));
        }
        Ok(())
    }

    fn rollback(self: Box<Self>) {}
}

/// Input series waiting to be loaded: samples in time order per series.
#[derive(Debug, Default)]
pub(crate) struct LazyInput {
    series: BTreeMap<Labels, Vec<(Timestamp, Value)>>,
    /// Per series, how many samples are loaded.
    loaded: BTreeMap<Labels, usize>,
}

impl LazyInput {
    /// Defines a series; a second definition of the same labels replaces the first, as in
    /// promtool (its loader keys definitions by the labels' hash).
    pub fn define(&mut self, labels: Labels, samples: Vec<(Timestamp, Value)>) {
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
                let appended = match &samples[i] {
                    (t, Value::Float(v)) => app.append(labels, *t, *v),
                    (t, Value::Histogram(h)) => app.append_histogram(labels, *t, h),
                };
                if let Err(e) = appended {
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
    fn histograms_append_and_read_back() {
        let h = |count: f64| {
            Arc::new(FloatHistogram {
                count,
                ..FloatHistogram::default()
            })
        };
        let store = TestStore::new();
        let mut input = LazyInput::default();
        input.define(
            series("h"),
            vec![
                (0, Value::Histogram(h(1.0))),
                (60, Value::Histogram(h(2.0))),
            ],
        );
        input.load_till(&store, 60).expect("load");
        let mut app = store.appender(&WriteIdentity::Local);
        app.append_histogram(&series("h"), 60, &h(2.0))
            .expect("the same histogram again");
        assert!(matches!(
            app.append_histogram(&series("h"), 60, &h(3.0)),
            Err(StorageError::DuplicateSampleForTimestamp { .. })
        ));
        assert!(
            app.append(&series("h"), 60, 2.0).is_err(),
            "a float is not the histogram"
        );
        app.append_histogram(&series("h"), 120, &h(3.0))
            .expect("later");
        app.commit().expect("commit");
        let q = store.querier(i64::MIN, i64::MAX).expect("querier");
        let hints = SelectHints {
            start: i64::MIN,
            end: i64::MAX,
            limit: 0,
        };
        let got = q.select(&hints, &[]).expect("select");
        let counts: Vec<(Timestamp, f64, model::CounterResetHint)> = got[0]
            .histograms
            .iter()
            .map(|s| (s.t, s.h.count, s.h.counter_reset_hint))
            .collect();
        use model::CounterResetHint::{NotReset, Unknown};
        assert_eq!(
            counts,
            [(0, 1.0, Unknown), (60, 2.0, NotReset), (120, 3.0, NotReset)]
        );
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
        let f = Value::Float;
        input.define(series("a"), vec![(0, f(9.0))]);
        input.define(series("a"), vec![(0, f(1.0)), (60, f(2.0)), (120, f(3.0))]);
        input.load_till(&store, 59).expect("load");
        assert_eq!(samples(&store, "a"), [(0, 1.0)]);
        input.load_till(&store, 120).expect("load");
        input.load_till(&store, 180).expect("load");
        assert_eq!(samples(&store, "a"), [(0, 1.0), (60, 2.0), (120, 3.0)]);
    }
}
