//! One series in memory: interned labels and its samples sorted by time.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use model::{Label, Labels, Sample, Timestamp};
use parking_lot::Mutex;

/// Interned label pairs, sorted by name.
pub(crate) type LabelPairs = Box<[(Arc<str>, Arc<str>)]>;

/// What the series says about a candidate sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fit {
    /// No sample at that time yet.
    New,
    /// The very same sample (time and value bits) is already there.
    Same,
    /// A different value is already there at that time.
    Conflict,
}

/// A series of the head.
pub(crate) struct MemSeries {
    /// Id in this database, also the WAL's series reference.
    pub id: u64,
    /// Its labels, interned.
    pub labels: LabelPairs,
    samples: Mutex<Vec<Sample>>,
    // Set once a series record for it is in the WAL, so later commits need not log it again.
    logged: AtomicBool,
}

impl MemSeries {
    /// A series with no samples.
    pub(crate) fn new(id: u64, labels: LabelPairs, logged: bool) -> Self {
        MemSeries {
            id,
            labels,
            samples: Mutex::new(Vec::new()),
            logged: AtomicBool::new(logged),
        }
    }

    /// True once the series record is in the WAL.
    pub(crate) fn is_logged(&self) -> bool {
        self.logged.load(Ordering::Acquire)
    }

    /// Records that the series record is in the WAL.
    pub(crate) fn set_logged(&self) {
        self.logged.store(true, Ordering::Release);
    }

    /// How a sample at `t` with value `v` would fit.
    pub(crate) fn fit(&self, t: Timestamp, v: f64) -> Fit {
        fit_in(&self.samples.lock(), t, v)
    }

    /// Inserts samples in place; returns how many were added. Samples already present are
    /// skipped (same value: idempotent; different value: the first one written wins).
    pub(crate) fn insert(&self, new: &[Sample]) -> InsertOutcome {
        let mut out = InsertOutcome::default();
        let mut samples = self.samples.lock();
        for s in new {
            // In-order appends are the common case: push without searching.
            if samples.last().is_none_or(|l| l.t < s.t) {
                samples.push(*s);
            } else {
                match samples.binary_search_by_key(&s.t, |x| x.t) {
                    Ok(i) if samples[i].v.to_bits() == s.v.to_bits() => continue,
                    Ok(_) => {
                        out.conflicts += 1;
                        continue;
                    }
                    Err(i) => samples.insert(i, *s),
                }
            }
            out.added += 1;
            out.min_t = out.min_t.min(s.t);
            out.max_t = out.max_t.max(s.t);
        }
        out
    }

    /// Copies of the samples in `[mint, maxt]`, oldest first.
    pub(crate) fn range(&self, mint: Timestamp, maxt: Timestamp) -> Vec<Sample> {
        let samples = self.samples.lock();
        let (a, b) = bounds(&samples, mint, maxt);
        samples[a..b].to_vec()
    }

    /// True when the series has a sample in `[mint, maxt]`.
    pub(crate) fn has_range(&self, mint: Timestamp, maxt: Timestamp) -> bool {
        let samples = self.samples.lock();
        let (a, b) = bounds(&samples, mint, maxt);
        a < b
    }

    /// The labels as a `Labels`.
    pub(crate) fn to_labels(&self) -> Labels {
        Labels::from_sorted(
            self.labels
                .iter()
                .map(|(n, v)| Label::new(n.as_ref(), v.as_ref()))
                .collect(),
        )
    }

    /// True when the series has exactly these labels.
    pub(crate) fn has_labels(&self, labels: &Labels) -> bool {
        self.labels.len() == labels.len()
            && self
                .labels
                .iter()
                .zip(labels.iter())
                .all(|((n, v), l)| **n == *l.name && **v == *l.value)
    }

    /// The value of label `name`, if present.
    pub(crate) fn label(&self, name: &str) -> Option<&Arc<str>> {
        self.labels
            .binary_search_by(|(n, _)| n.as_ref().cmp(name))
            .ok()
            .map(|i| &self.labels[i].1)
    }
}

/// What an insert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InsertOutcome {
    /// Samples added.
    pub added: u64,
    /// Samples dropped because another value was already at their time.
    pub conflicts: u64,
    /// Oldest time added (i64::MAX when none).
    pub min_t: Timestamp,
    /// Newest time added (i64::MIN when none).
    pub max_t: Timestamp,
}

impl Default for InsertOutcome {
    fn default() -> Self {
        InsertOutcome {
            added: 0,
            conflicts: 0,
            min_t: Timestamp::MAX,
            max_t: Timestamp::MIN,
        }
    }
}

/// How a sample fits into sorted `samples`.
fn fit_in(samples: &[Sample], t: Timestamp, v: f64) -> Fit {
    if samples.last().is_none_or(|l| l.t < t) {
        return Fit::New;
    }
    match samples.binary_search_by_key(&t, |x| x.t) {
        Ok(i) if samples[i].v.to_bits() == v.to_bits() => Fit::Same,
        Ok(_) => Fit::Conflict,
        Err(_) => Fit::New,
    }
}

/// Index range of samples within `[mint, maxt]`.
fn bounds(samples: &[Sample], mint: Timestamp, maxt: Timestamp) -> (usize, usize) {
    let a = samples.partition_point(|s| s.t < mint);
    let b = samples.partition_point(|s| s.t <= maxt);
    (a, b.max(a))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series() -> MemSeries {
        MemSeries::new(1, vec![("a".into(), "b".into())].into_boxed_slice(), false)
    }

    #[test]
    fn out_of_order_inserts_in_place_and_duplicates_are_idempotent() {
        let s = series();
        let o = s.insert(&[
            Sample::new(10, 1.0),
            Sample::new(30, 3.0),
            Sample::new(20, 2.0),
        ]);
        assert_eq!(o.added, 3);
        let o = s.insert(&[Sample::new(20, 2.0), Sample::new(20, 9.0)]);
        assert_eq!((o.added, o.conflicts), (0, 1));
        let ts: Vec<_> = s.range(i64::MIN, i64::MAX).iter().map(|x| x.t).collect();
        assert_eq!(ts, vec![10, 20, 30]);
        assert_eq!(s.range(15, 30).len(), 2);
        assert!(s.range(31, 100).is_empty());
        assert!(!s.has_range(21, 29));
        assert!(s.has_range(30, 30));
    }

    #[test]
    fn fit_compares_value_bits() {
        let s = series();
        s.insert(&[Sample::new(5, model::stale_nan())]);
        assert_eq!(s.fit(5, model::stale_nan()), Fit::Same);
        assert_eq!(s.fit(5, f64::NAN), Fit::Conflict);
        assert_eq!(s.fit(4, 1.0), Fit::New);
        assert_eq!(s.fit(6, 1.0), Fit::New);
    }

    #[test]
    fn labels_round_trip() {
        let s = series();
        assert!(s.has_labels(&Labels::from_pairs([("a", "b")])));
        assert!(!s.has_labels(&Labels::from_pairs([("a", "c")])));
        assert_eq!(s.label("a").map(|v| v.as_ref()), Some("b"));
        assert_eq!(s.to_labels(), Labels::from_pairs([("a", "b")]));
    }
}
