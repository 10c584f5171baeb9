//! One series in memory: interned labels and its samples in compressed chunks.

#[cfg(test)]
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use model::{Label, Labels, Sample, Timestamp};
use parking_lot::Mutex;

use super::chunkfile::ChunkFiles;
use super::closed::ClosedChunks;
use super::symbols::Symbols;
use crate::chunk::{XorAppender, XorChunk, XorIter};

pub(crate) use super::labelpairs::LabelPairs;

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

/// Samples per chunk before the open chunk is cut (as in Prometheus).
pub(crate) const CHUNK_SAMPLES: usize = 120;

/// A chunk that out-of-order inserts grow past this many samples is split.
const MAX_CHUNK_SAMPLES: usize = 2 * CHUNK_SAMPLES;

/// A series of the head.
pub(crate) struct MemSeries {
    /// Id in this database, also the WAL's series reference.
    pub id: u64,
    /// Its labels, interned.
    pub labels: LabelPairs,
    chunks: Mutex<Chunks>,
    // Set once a series record for it is in the WAL, so later commits need not log it again.
    logged: AtomicBool,
}

impl MemSeries {
    /// A series with no samples.
    pub(crate) fn new(id: u64, labels: LabelPairs, logged: bool) -> Self {
        MemSeries {
            id,
            labels,
            chunks: Mutex::new(Chunks::default()),
            logged: AtomicBool::new(logged),
        }
    }

    /// Closed chunks plus a non-empty open one.
    pub(crate) fn chunk_count(&self) -> u64 {
        let c = self.chunks.lock();
        c.closed.len() as u64 + u64::from(!c.open.is_empty())
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
        self.chunks.lock().fit(t, v)
    }

    /// Inserts samples in place; returns how many were added. Samples already present are
    /// skipped (same value: idempotent; different value: the first one written wins).
    /// Chunks closed on the way go to `files` when given.
    pub(crate) fn insert(&self, new: &[Sample], files: Option<&ChunkFiles>) -> InsertOutcome {
        let mut out = InsertOutcome::default();
        let mut chunks = self.chunks.lock();
        for s in new {
            match chunks.insert(*s, files) {
                Fit::New => {}
                Fit::Same => continue,
                Fit::Conflict => {
                    out.conflicts += 1;
                    continue;
                }
            }
            out.added += 1;
            out.min_t = out.min_t.min(s.t);
            out.max_t = out.max_t.max(s.t);
        }
        out
    }

    /// Moves the samples before `b` out of the series, as chunks, oldest first (a chunk
    /// that straddles `b` is split), and hands them to `keep` while the series is still
    /// locked: a reader sees them either here or wherever `keep` puts them. Returns the
    /// oldest sample time left, if any.
    pub(crate) fn take_before(
        &self,
        b: Timestamp,
        files: Option<&ChunkFiles>,
        keep: impl FnOnce(Vec<XorChunk>),
    ) -> Option<Timestamp> {
        let mut c = self.chunks.lock();
        let taken = c.take_before(b, files);
        keep(taken);
        c.min_t()
    }

    /// True when the series holds no sample.
    pub(crate) fn is_empty(&self) -> bool {
        let c = self.chunks.lock();
        c.closed.is_empty() && c.open.is_empty()
    }

    /// The oldest sample time, if any.
    #[cfg(test)]
    pub(crate) fn min_time(&self) -> Option<Timestamp> {
        self.chunks.lock().min_t()
    }

    /// Copies of the chunks, oldest first (the open one last), for a checkpoint.
    pub(crate) fn chunk_copies(&self) -> Vec<XorChunk> {
        let c = self.chunks.lock();
        let mut out: Vec<XorChunk> = c.closed.iter().map(|x| x.to_chunk()).collect();
        if !c.open.is_empty() {
            out.push(XorChunk::from_trusted(
                c.open.bytes(),
                c.open.min_t(),
                c.open.max_t(),
            ));
        }
        out
    }

    /// Puts back chunks read from a checkpoint. An empty series adopts them as they are
    /// (the newest becomes the open chunk again); otherwise their samples are inserted.
    pub(crate) fn restore(
        &self,
        chunks: Vec<XorChunk>,
        files: Option<&ChunkFiles>,
    ) -> InsertOutcome {
        let mut c = self.chunks.lock();
        let sorted = chunks.windows(2).all(|w| w[0].max_t() < w[1].min_t());
        if c.closed.is_empty() && c.open.is_empty() && sorted {
            let mut out = InsertOutcome::default();
            let mut chunks: Vec<XorChunk> = chunks.into_iter().filter(|x| !x.is_empty()).collect();
            let Some(last) = chunks.pop() else {
                return out;
            };
            for x in chunks.iter().chain(std::iter::once(&last)) {
                out.added += x.len() as u64;
                out.min_t = out.min_t.min(x.min_t());
                out.max_t = out.max_t.max(x.max_t());
            }
            c.closed = ClosedChunks::from_chunks(chunks, files);
            c.open = match XorAppender::from_bytes(last.bytes()) {
                Ok(open) => open,
                // Not a chunk an appender wrote last (no known case): re-encode it.
                Err(_) => encode(&decode(last.iter())).pop().unwrap_or_default(),
            };
            return out;
        }
        drop(c);
        let samples: Vec<Sample> = chunks.iter().flat_map(|x| decode(x.iter())).collect();
        self.insert(&samples, files)
    }

    /// Copies of the samples in `[mint, maxt]`, oldest first.
    pub(crate) fn range(&self, mint: Timestamp, maxt: Timestamp) -> Vec<Sample> {
        let mut out = Vec::new();
        self.chunks.lock().range(mint, maxt, |s| {
            out.push(s);
            true
        });
        out
    }

    /// True when the series has a sample in `[mint, maxt]`.
    pub(crate) fn has_range(&self, mint: Timestamp, maxt: Timestamp) -> bool {
        let mut found = false;
        self.chunks.lock().range(mint, maxt, |_| {
            found = true;
            false
        });
        found
    }

    /// The labels as a `Labels`.
    pub(crate) fn to_labels(&self, symbols: &Symbols) -> Labels {
        Labels::from_sorted(
            self.labels
                .iter(symbols)
                .map(|(n, v)| Label::new(n, v))
                .collect(),
        )
    }

    /// True when the series has exactly these labels.
    pub(crate) fn has_labels(&self, symbols: &Symbols, labels: &Labels) -> bool {
        self.labels.len() == labels.len()
            && self
                .labels
                .iter(symbols)
                .zip(labels.iter())
                .all(|((n, v), l)| **n == *l.name && **v == *l.value)
    }

    /// True when the series has exactly these (name, value) pairs, sorted by name.
    pub(crate) fn has_pairs(&self, symbols: &Symbols, pairs: &[(&str, &str)]) -> bool {
        self.labels.len() == pairs.len()
            && self
                .labels
                .iter(symbols)
                .zip(pairs)
                .all(|((n, v), (pn, pv))| {
                    model::short_bytes_eq(n.as_bytes(), pn.as_bytes())
                        && model::short_bytes_eq(v.as_bytes(), pv.as_bytes())
                })
    }

    /// True when `encoded` is exactly this series' labels as remote write encodes them.
    pub(crate) fn has_encoded(&self, symbols: &Symbols, encoded: &[u8]) -> bool {
        model::matches_label_pairs(
            encoded,
            self.labels
                .iter(symbols)
                .map(|(n, v)| (n.as_bytes(), v.as_bytes())),
        )
    }

    /// The value of label `name`, if present.
    #[cfg(test)]
    pub(crate) fn label<'a>(&'a self, symbols: &'a Symbols, name: &str) -> Option<&'a Arc<str>> {
        self.labels
            .iter(symbols)
            .find(|(n, _)| n.as_ref() == name)
            .map(|(_, v)| v)
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

impl InsertOutcome {
    /// Adds `other`'s counts and widens the time range to cover it.
    pub(crate) fn merge(&mut self, other: InsertOutcome) {
        self.added += other.added;
        self.conflicts += other.conflicts;
        self.min_t = self.min_t.min(other.min_t);
        self.max_t = self.max_t.max(other.max_t);
    }
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

/// A series' samples: closed chunks, then the open chunk appends go to. Chunks are sorted
/// by time and do not overlap; every closed chunk holds at least one sample.
#[derive(Default)]
struct Chunks {
    closed: ClosedChunks,
    open: XorAppender,
}

impl Chunks {
    /// The oldest time held, if any.
    fn min_t(&self) -> Option<Timestamp> {
        match self.closed.first() {
            Some(first) => Some(first.min_t()),
            None => (!self.open.is_empty()).then(|| self.open.min_t()),
        }
    }

    /// The newest time held (i64::MIN when empty).
    fn max_t(&self) -> Timestamp {
        if self.open.is_empty() {
            self.closed.last().map_or(Timestamp::MIN, |c| c.max_t())
        } else {
            self.open.max_t()
        }
    }

    /// Index of the chunk (closed ones first, then the open one at `closed.len()`) where
    /// a sample at `t <= max_t()` belongs: the first whose newest time is not before `t`.
    fn chunk_for(&self, t: Timestamp) -> usize {
        self.closed.partition_point(|c| c.max_t() < t)
    }

    fn fit(&self, t: Timestamp, v: f64) -> Fit {
        if t > self.max_t() {
            // The sample will be appended to the open chunk at commit.
            self.open.prefetch_tail();
            return Fit::New;
        }
        let i = self.chunk_for(t);
        let samples = match self.closed.get(i) {
            Some(c) if c.min_t() > t => return Fit::New,
            Some(c) => decode(c.iter()),
            None if self.open.min_t() > t => return Fit::New,
            None => decode(self.open.iter()),
        };
        fit_in(&samples, t, v)
    }

    /// Adds `s` unless a sample is already at its time; says which.
    fn insert(&mut self, s: Sample, files: Option<&ChunkFiles>) -> Fit {
        if s.t > self.max_t() {
            if self.open.len() >= CHUNK_SAMPLES {
                // Copied straight into a chunk file (or the heap): no frozen copy between.
                let full = std::mem::take(&mut self.open);
                self.closed
                    .push(full.min_t(), full.max_t(), full.bytes(), files);
            }
            if self.open.push(s.t, s.v).is_ok() {
                return Fit::New;
            }
            // Only a full chunk refuses an in-order sample, and the open one was cut.
            debug_assert!(false, "in-order push refused");
        }
        // Out of order: decode the chunk it belongs to, insert, re-encode.
        let i = self.chunk_for(s.t);
        let mut samples = match self.closed.get(i) {
            Some(c) => decode(c.iter()),
            None => decode(self.open.iter()),
        };
        match samples.binary_search_by_key(&s.t, |x| x.t) {
            Ok(j) if samples[j].v.to_bits() == s.v.to_bits() => return Fit::Same,
            Ok(_) => return Fit::Conflict,
            Err(j) => samples.insert(j, s),
        }
        let mut parts = encode(&samples);
        if i < self.closed.len() {
            self.closed.replace(i, finished(parts), files);
        } else {
            // The last part stays open; any before it are closed.
            self.open = parts.pop().unwrap_or_default();
            self.closed.extend(finished(parts), files);
        }
        Fit::New
    }

    /// Moves out every sample before `b`, splitting the chunk that straddles it.
    fn take_before(&mut self, b: Timestamp, files: Option<&ChunkFiles>) -> Vec<XorChunk> {
        let whole = self.closed.partition_point(|c| c.max_t() < b);
        let mut out: Vec<XorChunk> = self.closed.take_front(whole);
        if let Some(first) = self.closed.first() {
            if first.min_t() < b {
                let samples = decode(first.iter());
                let cut = samples.partition_point(|s| s.t < b);
                out.extend(finished(encode(&samples[..cut])));
                self.closed
                    .replace(0, finished(encode(&samples[cut..])), files);
            }
            return out;
        }
        if self.open.is_empty() || self.open.min_t() >= b {
            return out;
        }
        if self.open.max_t() < b {
            out.push(std::mem::take(&mut self.open).finish());
            return out;
        }
        let samples = decode(self.open.iter());
        let cut = samples.partition_point(|s| s.t < b);
        out.extend(finished(encode(&samples[..cut])));
        let mut rest = encode(&samples[cut..]);
        self.open = rest.pop().unwrap_or_default();
        self.closed.extend(finished(rest), files);
        out
    }

    /// Calls `f` with each sample in `[mint, maxt]`, oldest first, until it returns false.
    /// Only chunks overlapping the range are decoded.
    fn range(&self, mint: Timestamp, maxt: Timestamp, mut f: impl FnMut(Sample) -> bool) {
        if mint > maxt {
            return;
        }
        let first = self.closed.partition_point(|c| c.max_t() < mint);
        let closed = self
            .closed
            .iter()
            .skip(first)
            .take_while(|c| c.min_t() <= maxt)
            .map(|c| c.iter());
        let open =
            (!self.open.is_empty() && self.open.min_t() <= maxt && self.open.max_t() >= mint)
                .then(|| self.open.iter());
        for it in closed.chain(open) {
            for s in it {
                let s = match s {
                    Ok(s) => s,
                    Err(e) => {
                        // Head chunks are encoded in memory by this module: a bug, not data.
                        tracing::error!(error = %e, "undecodable head chunk; rest skipped");
                        break;
                    }
                };
                if s.t > maxt {
                    return;
                }
                if s.t >= mint && !f(s) {
                    return;
                }
            }
        }
    }
}

/// The samples of a head chunk, stopping at the first undecodable one.
fn decode(it: XorIter<'_>) -> Vec<Sample> {
    let mut out = Vec::with_capacity(it.size_hint().1.unwrap_or(0));
    for s in it {
        match s {
            Ok(s) => out.push(s),
            Err(e) => {
                tracing::error!(error = %e, "undecodable head chunk; rest skipped");
                break;
            }
        }
    }
    out
}

/// Sorted samples as chunk appenders: one, or pieces of `CHUNK_SAMPLES` when there are
/// more than `MAX_CHUNK_SAMPLES`.
fn encode(samples: &[Sample]) -> Vec<XorAppender> {
    let size = if samples.len() > MAX_CHUNK_SAMPLES {
        CHUNK_SAMPLES
    } else {
        MAX_CHUNK_SAMPLES
    };
    samples
        .chunks(size)
        .map(|part| {
            let mut a = XorAppender::new();
            for s in part {
                // Sorted and unique, and far fewer than a chunk's limit: cannot fail.
                let pushed = a.push(s.t, s.v);
                debug_assert!(pushed.is_ok());
            }
            a
        })
        .collect()
}

/// Appenders closed into chunks.
fn finished(parts: Vec<XorAppender>) -> Vec<XorChunk> {
    parts.into_iter().map(XorAppender::finish).collect()
}

/// How a sample fits into sorted `samples`.
fn fit_in(samples: &[Sample], t: Timestamp, v: f64) -> Fit {
    match samples.binary_search_by_key(&t, |x| x.t) {
        Ok(i) if samples[i].v.to_bits() == v.to_bits() => Fit::Same,
        Ok(_) => Fit::Conflict,
        Err(_) => Fit::New,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Chunk files shared by these tests: closed chunks go where a database puts them.
    /// Their files are unlinked as soon as made, so the directory is removed at once.
    fn files() -> Option<&'static ChunkFiles> {
        static FILES: std::sync::OnceLock<ChunkFiles> = std::sync::OnceLock::new();
        let files = FILES.get_or_init(|| {
            let dir = tempfile::tempdir().expect("tempdir");
            let files = ChunkFiles::open(dir.path()).expect("chunk files");
            // The first file is made before the directory goes: later ones fail, and the
            // chunks stay on the heap (a test never fills a 64 MiB file anyway).
            files.append(b"warm-up").expect("first file");
            files
        });
        Some(files)
    }

    fn series() -> MemSeries {
        MemSeries::new(1, LabelPairs::new(&[(0, 1)]), false)
    }

    fn symbols() -> Symbols {
        let symbols = Symbols::default();
        symbols.set(0, "a".into());
        symbols.set(1, "b".into());
        symbols
    }

    #[test]
    fn out_of_order_inserts_in_place_and_duplicates_are_idempotent() {
        let s = series();
        let o = s.insert(
            &[
                Sample::new(10, 1.0),
                Sample::new(30, 3.0),
                Sample::new(20, 2.0),
            ],
            files(),
        );
        assert_eq!(o.added, 3);
        let o = s.insert(&[Sample::new(20, 2.0), Sample::new(20, 9.0)], files());
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
        s.insert(&[Sample::new(5, model::stale_nan())], files());
        assert_eq!(s.fit(5, model::stale_nan()), Fit::Same);
        assert_eq!(s.fit(5, f64::NAN), Fit::Conflict);
        assert_eq!(s.fit(4, 1.0), Fit::New);
        assert_eq!(s.fit(6, 1.0), Fit::New);
    }

    #[test]
    fn chunks_are_cut_and_out_of_order_inserts_split_them() {
        let s = series();
        let n = 10 * CHUNK_SAMPLES as i64;
        let even: Vec<Sample> = (0..n).map(|i| Sample::new(i * 2, i as f64)).collect();
        assert_eq!(s.insert(&even, files()).added, n as u64);
        {
            let c = s.chunks.lock();
            assert_eq!(c.closed.len(), 9);
            assert!(c.closed.iter().all(|c| c.len() == CHUNK_SAMPLES));
        }
        // Fill every gap, newest first, so chunks grow past the split size.
        let odd: Vec<Sample> = (0..n).rev().map(|i| Sample::new(i * 2 + 1, -1.0)).collect();
        assert_eq!(s.insert(&odd, files()).added, n as u64);
        let all = s.range(i64::MIN, i64::MAX);
        assert_eq!(all.len(), 2 * n as usize);
        assert!(all.windows(2).all(|w| w[0].t + 1 == w[1].t));
        let c = s.chunks.lock();
        assert!(c.closed.iter().all(|c| c.len() <= MAX_CHUNK_SAMPLES));
        assert!(c.open.len() <= MAX_CHUNK_SAMPLES);
        let closed: Vec<_> = c.closed.iter().collect();
        assert!(closed.windows(2).all(|w| w[0].max_t() < w[1].min_t()));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(128))]

        /// Random inserts and range reads across many chunks agree with a sorted map.
        #[test]
        fn chunks_match_a_sorted_map(
            batches in proptest::collection::vec(
                proptest::collection::vec((0i64..1500, 0u8..4), 1..200),
                1..8,
            ),
            ranges in proptest::collection::vec((0i64..1600, 0i64..400), 1..8),
        ) {
            let s = series();
            let mut model = std::collections::BTreeMap::new();
            for batch in batches {
                let samples: Vec<Sample> = batch
                    .iter()
                    .map(|&(t, v)| Sample::new(t, if v == 0 { model::stale_nan() } else { f64::from(v) }))
                    .collect();
                // Before the batch goes in, every sample fits as the model says.
                for x in &samples {
                    let want = match model.get(&x.t) {
                        None => Fit::New,
                        Some(&b) if b == x.v.to_bits() => Fit::Same,
                        Some(_) => Fit::Conflict,
                    };
                    proptest::prop_assert_eq!(s.fit(x.t, x.v), want);
                }
                let mut added = 0;
                let mut conflicts = 0;
                for x in &samples {
                    match model.get(&x.t) {
                        None => {
                            model.insert(x.t, x.v.to_bits());
                            added += 1;
                        }
                        Some(&b) if b == x.v.to_bits() => {}
                        Some(_) => conflicts += 1,
                    }
                }
                let o = s.insert(&samples, files());
                proptest::prop_assert_eq!((o.added, o.conflicts), (added, conflicts));
                for (&t, &b) in &model {
                    proptest::prop_assert_eq!(s.fit(t, f64::from_bits(b)), Fit::Same);
                }
            }
            for (mint, len) in ranges {
                let maxt = mint + len;
                let got: Vec<(i64, u64)> =
                    s.range(mint, maxt).iter().map(|x| (x.t, x.v.to_bits())).collect();
                let want: Vec<(i64, u64)> =
                    model.range(mint..=maxt).map(|(&t, &b)| (t, b)).collect();
                proptest::prop_assert_eq!(s.has_range(mint, maxt), !want.is_empty());
                proptest::prop_assert_eq!(got, want);
            }
        }
    }

    #[test]
    fn take_before_splits_at_the_boundary_and_restore_adopts_chunks() {
        let s = series();
        let n = 3 * CHUNK_SAMPLES as i64 + 10;
        let all: Vec<Sample> = (0..n).map(|i| Sample::new(i * 10, i as f64)).collect();
        s.insert(&all, files());
        // Boundaries inside a closed chunk, inside the open chunk, and past the end.
        for b in [55, 1_305, 3_650, 100_000] {
            let s2 = series();
            s2.insert(&all, files());
            let mut chunks = Vec::new();
            s2.take_before(b, files(), |c| chunks = c);
            let taken: Vec<Sample> = chunks.iter().flat_map(|c| decode(c.iter())).collect();
            let kept = s2.range(i64::MIN, i64::MAX);
            assert!(taken.iter().all(|x| x.t < b), "b={b}");
            assert!(kept.iter().all(|x| x.t >= b), "b={b}");
            let mut joined = taken.clone();
            joined.extend(kept);
            assert_eq!(joined, all, "b={b}");
            assert_eq!(s2.is_empty(), b > (n - 1) * 10);
            // In-order appends still work after a split.
            s2.insert(&[Sample::new(n * 10, 1.0)], files());
            assert_eq!(s2.range(n * 10, n * 10).len(), 1);
        }
        let chunks = s.chunk_copies();
        let r = series();
        let o = r.restore(chunks, files());
        assert_eq!(o.added, n as u64);
        assert_eq!(r.range(i64::MIN, i64::MAX), all);
        assert_eq!(r.min_time(), Some(0));
        r.insert(&[Sample::new(n * 10, 1.0)], files());
        assert_eq!(r.chunk_count(), 4);
    }

    #[test]
    fn labels_round_trip() {
        let s = series();
        let sym = symbols();
        assert!(s.has_labels(&sym, &Labels::from_pairs([("a", "b")])));
        assert!(!s.has_labels(&sym, &Labels::from_pairs([("a", "c")])));
        assert!(s.has_pairs(&sym, &[("a", "b")]));
        assert!(!s.has_pairs(&sym, &[("a", "b"), ("c", "d")]));
        assert_eq!(s.label(&sym, "a").map(|v| v.as_ref()), Some("b"));
        assert_eq!(s.to_labels(&sym), Labels::from_pairs([("a", "b")]));
    }
}
