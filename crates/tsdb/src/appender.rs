//! The write path: an appender buffers samples and metadata; `commit` writes them to the
//! WAL and only then makes them visible.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use model::{Label, Labels, MetricMetadata, Sample, SeriesRef, Timestamp};
use storage::{Appendable, Appender, StorageError, WriteIdentity};

use crate::FsyncPolicy;
use crate::db::{Db, Inner};
use crate::head::series::{Fit, InsertOutcome, MemSeries};
use crate::head::symbols::Symbols;
use crate::head::u64map::U64Map;
use crate::wal::record::{self, SAMPLES_PER_RECORD, SOFT_RECORD_BYTES, SampleRecord};
use crate::wal::{checkpoint, frame_series, frame_with};

impl Appendable for Db {
    /// An appender; the identity is not used by the TSDB yet.
    fn appender(&self, _identity: &WriteIdentity) -> Box<dyn Appender> {
        Box::new(DbAppender {
            inner: Arc::clone(&self.inner),
            groups: Vec::new(),
            slots: U64Map::default(),
            metadata: Vec::new(),
            last: None,
        })
    }
}

/// A batch of samples for the TSDB.
struct DbAppender {
    inner: Arc<Inner>,
    // Pending samples grouped per series, so commit locks each series once.
    groups: Vec<(Arc<MemSeries>, Pending)>,
    slots: U64Map<usize>,
    metadata: Vec<(String, MetricMetadata)>,
    // The series of the latest `append_pairs` and its label hash: a remote-write series
    // sends its samples one after another, so its later samples end here.
    last: Option<(u64, Arc<MemSeries>)>,
}

impl DbAppender {
    /// Refuses `t` when it is older than the out-of-order window allows; checked before
    /// the series is looked up so that refused samples create no series.
    fn check_open_and_bounds(
        &self,
        t: Timestamp,
        series: impl FnOnce() -> String,
    ) -> Result<(), StorageError> {
        if self.inner.closed.load(Ordering::Acquire) {
            return Err(StorageError::Closed);
        }
        if let Some(max) = self.inner.max_time()
            && t < max.saturating_sub(self.inner.opts.out_of_order_window_ms)
        {
            return Err(StorageError::OutOfBounds {
                series: series(),
                t,
            });
        }
        Ok(())
    }

    /// Adds a sample of a series already looked up.
    fn add(
        &mut self,
        series: Arc<MemSeries>,
        t: Timestamp,
        v: f64,
        describe: impl Fn() -> String,
    ) -> Result<SeriesRef, StorageError> {
        let slot = self.slot_for(series);
        self.add_at(slot, t, v, |_, _| describe())
    }

    /// The group of `series` in this batch, made if new.
    fn slot_for(&mut self, series: Arc<MemSeries>) -> usize {
        match self.slots.get(&series.id) {
            Some(&slot) => slot,
            None => {
                self.slots.insert(series.id, self.groups.len());
                self.groups.push((series, Pending::None));
                self.groups.len() - 1
            }
        }
    }

    /// Adds a sample to the series of group `slot`; `describe` names the series (from
    /// itself and the head's strings) in an error.
    fn add_at(
        &mut self,
        slot: usize,
        t: Timestamp,
        v: f64,
        describe: impl Fn(&MemSeries, &Symbols) -> String,
    ) -> Result<SeriesRef, StorageError> {
        let (series, pending) = &mut self.groups[slot];
        let sref = SeriesRef(series.id);
        let duplicate = || StorageError::DuplicateSampleForTimestamp {
            series: describe(series, self.inner.head.symbols()),
            t,
        };
        let mut fit = series.fit(t, v);
        // A time blocks may already hold (late samples, or after a restart): ask them too,
        // so duplicates stay idempotent and conflicts are reported wherever the first
        // value lives. Rare: in-order samples are newer than anything persisted.
        if fit == Fit::New && t < self.inner.compacted_until.load(Ordering::Acquire) {
            let head = &self.inner.head;
            fit =
                self.inner
                    .persisted()
                    .fit(|| series.to_labels(head.symbols()), series.id, t, v)?;
        }
        match fit {
            Fit::Same => Ok(sref),
            Fit::Conflict => Err(duplicate()),
            Fit::New if pending.add(Sample::new(t, v)) => Ok(sref),
            Fit::New => Err(duplicate()),
        }
    }
}

impl DbAppender {
    /// The existing series with exactly `pairs`: the last one appended to, else found by
    /// hash in the head; `Err(hash)` when there is none, for the caller that creates it.
    /// The hash is compared before the last series' labels: a remote-write request sends
    /// one sample per series, so the last series is rarely the one, and the hash is
    /// needed for the head anyway.
    fn find(&mut self, pairs: &[(&str, &str)]) -> Result<Arc<MemSeries>, u64> {
        let head = &self.inner.head;
        let hash = head.hash_pairs(pairs.iter().copied());
        if let Some((h, s)) = &self.last
            && *h == hash
            && s.has_pairs(head.symbols(), pairs)
        {
            return Ok(Arc::clone(s));
        }
        let s = head.get_by_pairs(hash, pairs).ok_or(hash)?;
        self.last = Some((hash, Arc::clone(&s)));
        Ok(s)
    }
}

/// The labels of borrowed pairs, for error messages and new series.
fn pairs_labels(pairs: &[(&str, &str)]) -> Labels {
    Labels::from_sorted(pairs.iter().map(|&(n, v)| Label::new(n, v)).collect())
}

/// The samples one batch holds for one series, sorted by time. A remote-write request
/// usually carries one sample per series, so the first is kept inline: no allocation
/// per series per request.
enum Pending {
    /// Nothing yet (just created).
    None,
    /// One sample.
    One(Sample),
    /// Two or more.
    Many(Vec<Sample>),
}

impl Pending {
    /// The samples, oldest first.
    fn as_slice(&self) -> &[Sample] {
        match self {
            Pending::None => &[],
            Pending::One(s) => std::slice::from_ref(s),
            Pending::Many(v) => v,
        }
    }

    /// Adds a sample in time order (an out-of-order one in place). False when the batch
    /// already holds a different value at that time; the same value is a no-op.
    fn add(&mut self, s: Sample) -> bool {
        match self {
            Pending::None => *self = Pending::One(s),
            Pending::One(first) => {
                let first = *first;
                if first.t == s.t {
                    return first.v.to_bits() == s.v.to_bits();
                }
                let pair = if first.t < s.t {
                    [first, s]
                } else {
                    [s, first]
                };
                *self = Pending::Many(pair.to_vec());
            }
            // The last sample is the newest, so an in-order append needs no search.
            Pending::Many(v) if v.last().is_none_or(|l| l.t < s.t) => v.push(s),
            Pending::Many(v) => match v.binary_search_by_key(&s.t, |x| x.t) {
                Ok(i) => return v[i].v.to_bits() == s.v.to_bits(),
                Err(i) => v.insert(i, s),
            },
        }
        true
    }
}

impl Appender for DbAppender {
    fn append(&mut self, labels: &Labels, t: Timestamp, v: f64) -> Result<SeriesRef, StorageError> {
        self.check_open_and_bounds(t, || labels.to_string())?;
        let series = self.inner.head.get_or_create(labels)?;
        self.add(series, t, v, || labels.to_string())
    }

    /// As `append`, but an existing series is found from the borrowed pairs (the last
    /// one appended to, else by hash in the head): only a new series builds a `Labels`.
    fn append_pairs(
        &mut self,
        pairs: &[(&str, &str)],
        t: Timestamp,
        v: f64,
    ) -> Result<SeriesRef, StorageError> {
        self.check_open_and_bounds(t, || pairs_labels(pairs).to_string())?;
        let series = match self.find(pairs) {
            Ok(s) => s,
            Err(hash) => {
                let s = self
                    .inner
                    .head
                    .get_or_create_hashed(hash, &pairs_labels(pairs))?;
                self.last = Some((hash, Arc::clone(&s)));
                s
            }
        };
        self.add(series, t, v, || pairs_labels(pairs).to_string())
    }

    /// Looks the whole batch up in the head at once (see [`Head::find_many_encoded`]);
    /// each series found gets its group in this batch now, so `append_found` needs no
    /// second lookup.
    ///
    /// [`Head::find_many_encoded`]: crate::head::Head::find_many_encoded
    fn find_encoded(&mut self, sets: &[&[u8]], out: &mut Vec<Option<SeriesRef>>) {
        out.clear();
        let mut found = Vec::with_capacity(sets.len());
        self.inner.head.find_many_encoded(sets, &mut found);
        for s in found {
            out.push(s.map(|s| {
                let id = SeriesRef(s.id);
                self.slot_for(s);
                id
            }));
        }
    }

    fn append_found(
        &mut self,
        series: SeriesRef,
        t: Timestamp,
        v: f64,
    ) -> Result<SeriesRef, StorageError> {
        let Some(&slot) = self.slots.get(&series.0) else {
            return Err(StorageError::not_found_here(series));
        };
        let describe = |s: &MemSeries, symbols: &Symbols| s.to_labels(symbols).to_string();
        self.check_open_and_bounds(t, || {
            describe(&self.groups[slot].0, self.inner.head.symbols())
        })?;
        self.add_at(slot, t, v, describe)
    }

    fn reserve(&mut self, series: usize) {
        // Bounded: the hint comes from a request's length.
        let n = series.min(1 << 20);
        self.groups.reserve(n);
        self.slots.reserve(n);
    }

    fn update_metadata(&mut self, metric: &str, meta: &MetricMetadata) -> Result<(), StorageError> {
        if self.inner.closed.load(Ordering::Acquire) {
            return Err(StorageError::Closed);
        }
        self.metadata.push((metric.to_string(), meta.clone()));
        Ok(())
    }

    fn commit(mut self: Box<Self>) -> Result<(), StorageError> {
        // Scrapes report every family's metadata each time: log only what changed.
        let head = &self.inner.head;
        let mut seen = std::collections::HashSet::new();
        let mut metadata = std::mem::take(&mut self.metadata);
        metadata.reverse();
        metadata.retain(|(m, meta)| seen.insert(m.clone()) && head.metadata_differs(m, meta));
        self.metadata = metadata;
        // Series looked up in advance (`find_encoded`) have a group before any sample is
        // accepted: a batch whose samples were all refused or already present (a retried
        // request) writes nothing.
        self.groups.retain(|(_, p)| !p.as_slice().is_empty());
        if self.groups.is_empty() && self.metadata.is_empty() {
            return Ok(());
        }
        let unlogged: Vec<&Arc<MemSeries>> = self
            .groups
            .iter()
            .map(|(s, _)| s)
            .filter(|s| !s.is_logged())
            .collect();
        let buf = encode(
            self.inner.head.symbols(),
            &unlogged,
            &self.groups,
            &self.metadata,
        );

        let inner = &self.inner;
        let (ticket, pos) = {
            let mut wal = inner.wal.lock();
            if inner.closed.load(Ordering::Acquire) {
                return Err(StorageError::Closed);
            }
            wal.write(&buf)?;
            for s in &unlogged {
                s.set_logged();
            }
            let samples: usize = self.groups.iter().map(|(_, g)| g.as_slice().len()).sum();
            inner.logged_work.fetch_add(
                samples as u64 + unlogged.len() as u64 * checkpoint::SERIES_WORK,
                Ordering::Relaxed,
            );
            (inner.tickets.fetch_add(1, Ordering::AcqRel), wal.position())
        };
        // Durable before visible; concurrent commits share fsyncs.
        let synced = match inner.opts.fsync {
            FsyncPolicy::Always => inner.sync_to(pos),
            FsyncPolicy::Interval(_) => Ok(()),
        };
        // Visible in WAL order, so replay resolves conflicting values as live did.
        let _turn = inner.turnstile.enter(ticket);
        synced?;
        let mut applied = InsertOutcome::default();
        for (series, samples) in &self.groups {
            applied.merge(inner.head.insert(series, samples.as_slice()));
        }
        inner.head.account(applied);
        for (metric, meta) in self.metadata.drain(..) {
            inner.head.set_metadata(metric, meta);
        }
        Ok(())
    }

    fn rollback(self: Box<Self>) {}
}

/// The framed WAL records of one commit: series first, then samples, then metadata.
fn encode(
    symbols: &crate::head::symbols::Symbols,
    unlogged: &[&Arc<MemSeries>],
    groups: &[(Arc<MemSeries>, Pending)],
    metadata: &[(String, MetricMetadata)],
) -> Vec<u8> {
    let n: usize = groups.iter().map(|(_, s)| s.as_slice().len()).sum();
    let mut buf = Vec::with_capacity(n * 24 + 64);
    let unlogged: Vec<&MemSeries> = unlogged.iter().map(|s| &***s).collect();
    frame_series(&mut buf, symbols, &unlogged);
    let mut all = groups
        .iter()
        .flat_map(|(s, samples)| {
            samples.as_slice().iter().map(|x| SampleRecord {
                id: s.id,
                t: x.t,
                v: x.v,
            })
        })
        .peekable();
    while all.peek().is_some() {
        frame_with(&mut buf, |b| {
            record::encode_samples(b, all.by_ref().take(SAMPLES_PER_RECORD))
        });
    }
    let mut rest = metadata;
    while !rest.is_empty() {
        let mut size = 0;
        let mut take = 0;
        while take < rest.len() && size <= SOFT_RECORD_BYTES {
            let (m, meta) = &rest[take];
            size += 13 + m.len() + meta.help.len() + meta.unit.len();
            take += 1;
        }
        let (chunk, tail) = rest.split_at(take);
        frame_with(&mut buf, |b| record::encode_metadata(b, chunk));
        rest = tail;
    }
    buf
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Options;

    #[test]
    fn pairs_and_labels_reach_the_same_series() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = Db::open(dir.path(), Options::default()).expect("open");
        let pairs = [("__name__", "up"), ("job", "a")];
        let labels = Labels::from_pairs(pairs);
        let mut app = db.appender(&WriteIdentity::Anonymous);
        let a = app.append_pairs(&pairs, 1, 1.0).expect("new series");
        let b = app.append(&labels, 2, 1.0).expect("same series");
        let c = app
            .append_pairs(&[("__name__", "up")], 3, 1.0)
            .expect("other");
        let d = app.append_pairs(&pairs, 3, 2.0).expect("back to the first");
        assert_eq!((a, b, d), (a, a, a));
        assert_ne!(a, c);
        let e = app.append_pairs(&pairs, 3, 5.0).expect_err("conflict");
        assert!(e.to_string().contains(r#"up{job="a"}"#), "{e}");
        app.commit().expect("commit");
        // A new appender finds the committed series by its pairs.
        let mut app = db.appender(&WriteIdentity::Anonymous);
        assert_eq!(app.append_pairs(&pairs, 4, 1.0).expect("existing"), a);
        assert!(app.append_pairs(&[], 4, 1.0).is_err());
        app.commit().expect("commit");
        assert_eq!(db.inner.head.stats().series, 2);
    }

    fn encoded(pairs: &[(&str, &str)]) -> Vec<u8> {
        let mut out = Vec::new();
        model::encode_label_pairs(pairs.iter().copied(), &mut out);
        out
    }

    #[test]
    fn find_encoded_finds_only_series_with_exactly_these_labels() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = Db::open(dir.path(), Options::default()).expect("open");
        let pairs = [("__name__", "up"), ("job", "a")];
        let enc = encoded(&pairs);
        let mut found = Vec::new();
        let mut app = db.appender(&WriteIdentity::Anonymous);
        app.find_encoded(&[&enc], &mut found);
        assert_eq!(found, vec![None], "not created");
        let a = app.append_pairs(&pairs, 1, 1.0).expect("new");
        app.commit().expect("commit");
        let mut app = db.appender(&WriteIdentity::Anonymous);
        // Not as stored: other order, an extra label, another value, the bytes cut short;
        // and the stored one, twice in one batch.
        let others = [
            encoded(&[("job", "a"), ("__name__", "up")]),
            encoded(&[("__name__", "up"), ("job", "a"), ("x", "1")]),
            encoded(&[("__name__", "up"), ("job", "b")]),
            enc[..enc.len() - 1].to_vec(),
        ];
        let sets: Vec<&[u8]> = others
            .iter()
            .map(Vec::as_slice)
            .chain([enc.as_slice(), enc.as_slice()])
            .collect();
        app.find_encoded(&sets, &mut found);
        assert_eq!(found, vec![None, None, None, None, Some(a), Some(a)]);
        assert_eq!(app.append_found(a, 2, 1.0).expect("appended"), a);
        // A conflicting value is reported as from `append_pairs`, naming the series.
        let e = app.append_found(a, 2, 7.0).expect_err("conflict");
        assert!(matches!(
            e,
            StorageError::DuplicateSampleForTimestamp { .. }
        ));
        assert!(e.to_string().contains(r#"up{job="a"}"#), "{e}");
        // A handle this appender did not return is refused.
        assert!(app.append_found(SeriesRef(a.0 + 100), 2, 1.0).is_err());
        app.commit().expect("commit");
        assert_eq!(db.inner.head.stats().series, 1);
        assert_eq!(db.inner.head.stats().samples, 2);
        // A retried request: found again, every sample already there. Nothing is written.
        let tickets = db.inner.tickets.load(Ordering::Acquire);
        let mut app = db.appender(&WriteIdentity::Anonymous);
        app.find_encoded(&[&enc], &mut found);
        assert_eq!(found, vec![Some(a)]);
        assert_eq!(app.append_found(a, 2, 1.0).expect("same value"), a);
        app.commit().expect("commit");
        assert_eq!(db.inner.tickets.load(Ordering::Acquire), tickets);
    }
}
