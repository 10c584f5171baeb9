//! An in-memory store for the test scripts: label sets to sorted float and
//! native-histogram samples.
//!
//! Queriers share a snapshot (`Arc`) of the data, so opening one is cheap and
//! a later `load` never changes what a running query sees.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use model::histogram::stored_counter_reset_hint;
use model::{FloatHistogram, HistogramSample, Labels, Matcher, MetricMetadata, Sample, Timestamp};
use storage::{Querier, Queryable, SelectHints, Series, StorageError};

/// One series' samples of both kinds, each sorted by time, never two at one time.
#[derive(Debug, Default, Clone)]
struct Samples {
    floats: Vec<Sample>,
    hists: Vec<HistogramSample>,
}

type Data = BTreeMap<Labels, Samples>;

/// Series in memory, sorted by labels; samples sorted by time.
#[derive(Debug, Default, Clone)]
pub struct MemStore {
    data: Arc<Data>,
}

impl MemStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one float sample; a sample already at `t` is replaced.
    pub fn add(&mut self, labels: &Labels, t: Timestamp, v: f64) {
        let s = Arc::make_mut(&mut self.data)
            .entry(labels.clone())
            .or_default();
        s.hists.retain(|h| h.t != t);
        let i = s.floats.partition_point(|s| s.t < t);
        match s.floats.get_mut(i) {
            Some(s) if s.t == t => s.v = v,
            _ => s.floats.insert(i, Sample::new(t, v)),
        }
    }

    /// Adds one histogram sample; a sample already at `t` is replaced. It is
    /// kept with the counter-reset hint Prometheus's TSDB would read back for
    /// it, given the sample before it.
    pub fn add_histogram(&mut self, labels: &Labels, t: Timestamp, h: &FloatHistogram) {
        let s = Arc::make_mut(&mut self.data)
            .entry(labels.clone())
            .or_default();
        s.floats.retain(|f| f.t != t);
        let i = s.hists.partition_point(|h| h.t < t);
        let prev_float = s.floats[..s.floats.partition_point(|f| f.t < t)].last();
        let prev = i
            .checked_sub(1)
            .map(|j| &s.hists[j])
            .filter(|p| prev_float.is_none_or(|f| f.t < p.t))
            .map(|p| &*p.h);
        let mut stored = h.clone();
        stored.counter_reset_hint = stored_counter_reset_hint(prev, h);
        let sample = HistogramSample::new(t, Arc::new(stored));
        match s.hists.get_mut(i) {
            Some(x) if x.t == t => *x = sample,
            _ => s.hists.insert(i, sample),
        }
    }

    /// Drops everything (`clear`).
    pub fn clear(&mut self) {
        self.data = Arc::new(Data::new());
    }

    /// Number of series held.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// True when nothing is loaded.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}

impl Queryable for MemStore {
    fn querier(&self, mint: Timestamp, maxt: Timestamp) -> Result<Box<dyn Querier>, StorageError> {
        Ok(Box::new(MemQuerier {
            data: Arc::clone(&self.data),
            mint,
            maxt,
        }))
    }
}

/// A read view of a [`MemStore`] snapshot over `[mint, maxt]`.
struct MemQuerier {
    data: Arc<Data>,
    mint: Timestamp,
    maxt: Timestamp,
}

impl MemQuerier {
    /// Matching series and their samples within both the querier's and the hints' range.
    fn matching<'a>(
        &'a self,
        hints: &SelectHints,
        matchers: &'a [Matcher],
    ) -> impl Iterator<Item = (&'a Labels, &'a [Sample], &'a [HistogramSample])> + 'a {
        let lo = self.mint.max(hints.start);
        let hi = self.maxt.min(hints.end);
        self.data.iter().filter_map(move |(labels, s)| {
            if !matchers
                .iter()
                .all(|m| m.matches(labels.get_or_empty(&m.name)))
            {
                return None;
            }
            let a = s.floats.partition_point(|s| s.t < lo);
            let b = s.floats.partition_point(|s| s.t <= hi);
            let ha = s.hists.partition_point(|s| s.t < lo);
            let hb = s.hists.partition_point(|s| s.t <= hi);
            (a < b || ha < hb).then(|| (labels, &s.floats[a..b.max(a)], &s.hists[ha..hb.max(ha)]))
        })
    }
}

impl Querier for MemQuerier {
    fn select(
        &self,
        hints: &SelectHints,
        matchers: &[Matcher],
    ) -> Result<Vec<Series>, StorageError> {
        let mut out: Vec<Series> = self
            .matching(hints, matchers)
            .map(|(labels, samples, hists)| Series {
                labels: labels.clone(),
                samples: samples.to_vec(),
                histograms: hists.to_vec(),
            })
            .collect();
        if hints.limit > 0 {
            out.truncate(hints.limit);
        }
        Ok(out)
    }

    fn series(
        &self,
        hints: &SelectHints,
        matchers: &[Matcher],
    ) -> Result<Vec<Labels>, StorageError> {
        Ok(self
            .matching(hints, matchers)
            .map(|(l, _, _)| l.clone())
            .collect())
    }

    fn label_names(
        &self,
        hints: &SelectHints,
        matchers: &[Matcher],
    ) -> Result<Vec<String>, StorageError> {
        let names: BTreeSet<String> = self
            .matching(hints, matchers)
            .flat_map(|(l, _, _)| l.iter().map(|x| x.name.to_string()))
            .collect();
        Ok(names.into_iter().collect())
    }

    fn label_values(
        &self,
        hints: &SelectHints,
        name: &str,
        matchers: &[Matcher],
    ) -> Result<Vec<String>, StorageError> {
        let values: BTreeSet<String> = self
            .matching(hints, matchers)
            .filter_map(|(l, _, _)| l.get(name).map(str::to_string))
            .collect();
        Ok(values.into_iter().collect())
    }

    fn metadata(&self, _metric: Option<&str>, _limit: usize) -> Vec<(String, MetricMetadata)> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::MatchOp;

    fn labels(name: &str, job: &str) -> Labels {
        Labels::from_pairs([("__name__", name), ("job", job)])
    }

    fn hints(start: Timestamp, end: Timestamp) -> SelectHints {
        SelectHints {
            start,
            end,
            limit: 0,
        }
    }

    #[test]
    fn select_sorted_ranged_and_replacing() {
        let mut s = MemStore::new();
        s.add(&labels("b", "x"), 20, 2.0);
        s.add(&labels("a", "y"), 10, 1.0);
        s.add(&labels("a", "y"), 0, 0.5);
        s.add(&labels("a", "y"), 10, 3.0);
        let q = s.querier(0, 100).expect("querier");
        let all = q.select(&hints(0, 100), &[]).expect("select");
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].labels, labels("a", "y"));
        assert_eq!(all[0].samples, [Sample::new(0, 0.5), Sample::new(10, 3.0)]);
        let re = Matcher::new(MatchOp::Regex, "__name__", "b|c").expect("regex");
        let some = q.select(&hints(15, 100), &[re]).expect("select");
        assert_eq!(some.len(), 1);
        // Out of range: left out entirely.
        assert!(q.select(&hints(30, 100), &[]).expect("select").is_empty());
        assert_eq!(
            q.label_values(&hints(0, 100), "job", &[]).expect("values"),
            ["x", "y"]
        );
        assert_eq!(
            q.label_names(&hints(0, 100), &[]).expect("names"),
            ["__name__", "job"]
        );
        s.clear();
        assert!(s.is_empty());
        // The old querier keeps its snapshot.
        assert_eq!(q.series(&hints(0, 100), &[]).expect("series").len(), 2);
    }

    #[test]
    fn histograms_read_back_with_tsdb_hints() {
        use model::CounterResetHint::{NotReset, Unknown};
        let parse = |s: &str| {
            model::histogram::parse_histogram(s)
                .expect("literal")
                .0
                .histogram
        };
        let mut s = MemStore::new();
        let l = labels("h", "x");
        s.add_histogram(&l, 0, &parse("{{count:2 buckets:[2]}}"));
        s.add_histogram(&l, 10, &parse("{{count:3 buckets:[3]}}"));
        s.add_histogram(&l, 20, &parse("{{count:1 buckets:[1]}}"));
        s.add(&l, 30, 5.0);
        s.add_histogram(&l, 40, &parse("{{count:1 buckets:[1]}}"));
        let q = s.querier(0, 100).expect("querier");
        let got = q.select(&hints(0, 100), &[]).expect("select");
        let hints_read: Vec<_> = got[0]
            .histograms
            .iter()
            .map(|h| h.h.counter_reset_hint)
            .collect();
        // A reset at 20 and a float at 30 start new chunks.
        assert_eq!(hints_read, [Unknown, NotReset, Unknown, Unknown]);
        assert_eq!(got[0].samples, [Sample::new(30, 5.0)]);
        // A float replaces a histogram at its time.
        s.add(&l, 40, 1.0);
        let q = s.querier(0, 100).expect("querier");
        assert_eq!(
            q.select(&hints(0, 100), &[]).expect("select")[0]
                .histograms
                .len(),
            3
        );
    }
}
