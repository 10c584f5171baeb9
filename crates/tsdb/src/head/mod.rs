//! The head: every series in memory, its samples, the inverted index and metadata.

mod byid;
pub(crate) mod chunkfile;
mod closed;
pub(crate) mod idlist;
pub(crate) mod index;
pub(crate) mod labelhash;
pub(crate) mod labelpairs;
pub(crate) mod series;
pub(crate) mod symbols;
pub(crate) mod u64map;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use model::{Labels, Matcher, MetricMetadata, Sample, Timestamp};
use parking_lot::RwLock;
use storage::StorageError;

use self::byid::ById;
use self::chunkfile::ChunkFiles;
use self::idlist::IdList;
use self::index::Index;
use self::series::{InsertOutcome, LabelPairs, MemSeries};
use self::symbols::Symbols;
use self::u64map::U64Map;

/// Label sets [`Head::find_many_encoded`] looks up per hold of the table lock.
const FIND_BATCH: usize = 1024;

/// Largest total size of one series' label names and values; keeps WAL records bounded.
pub(crate) const MAX_LABELS_BYTES: usize = 16 << 20;

/// Series, samples and metadata in memory.
pub(crate) struct Head {
    table: RwLock<Table>,
    min_t: AtomicI64,
    max_t: AtomicI64,
    // The time range of what commits accounted since the running head compaction began
    // (`begin_removal`): that compaction's scan may have missed those samples.
    during_min: AtomicI64,
    during_max: AtomicI64,
    num_samples: AtomicU64,
    metadata: RwLock<BTreeMap<String, MetricMetadata>>,
    // Per-process random seed of the label-set hash: keyed, so that label sets chosen to
    // collide cannot be planned from outside.
    seed: u64,
    // The string table series' symbol ids refer to (the index's, shared): read without
    // the table lock.
    symbols: Arc<Symbols>,
    // Where closed chunks' bytes go (none: the heap).
    files: Option<Box<ChunkFiles>>,
}

#[derive(Default)]
struct Table {
    // Label-set hash -> the first series with that hash; labels are always compared.
    by_hash: U64Map<Arc<MemSeries>>,
    // Further series whose labels hash to a value already taken (rare).
    collisions: U64Map<Vec<Arc<MemSeries>>>,
    by_id: ById,
    index: Index,
    next_id: u64,
}

/// Counts for monitoring.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// Series in the head.
    pub series: u64,
    /// Samples in the head.
    pub samples: u64,
    /// Oldest sample time, if any sample exists.
    pub min_time: Option<Timestamp>,
    /// Newest sample time, if any sample exists.
    pub max_time: Option<Timestamp>,
}

impl Head {
    /// An empty head keeping closed chunks on the heap.
    #[cfg(test)]
    pub(crate) fn new() -> Self {
        Self::with_chunk_files(None)
    }

    /// A head that keeps closed chunks' bytes in `files` instead of on the heap.
    pub(crate) fn with_chunk_files(files: Option<ChunkFiles>) -> Self {
        let table = Table::default();
        let symbols = Arc::clone(table.index.symbols());
        Head {
            files: files.map(Box::new),
            symbols,
            table: RwLock::new(table),
            min_t: AtomicI64::new(Timestamp::MAX),
            max_t: AtomicI64::new(Timestamp::MIN),
            during_min: AtomicI64::new(Timestamp::MAX),
            during_max: AtomicI64::new(Timestamp::MIN),
            num_samples: AtomicU64::new(0),
            metadata: RwLock::new(BTreeMap::new()),
            seed: random_seed(),
        }
    }

    /// The series with `labels`, created (not yet logged) if new.
    pub(crate) fn get_or_create(&self, labels: &Labels) -> Result<Arc<MemSeries>, StorageError> {
        self.get_or_create_hashed(self.hash_labels(labels), labels)
    }

    /// As `get_or_create`, for a caller that already has the labels' hash (from
    /// [`Head::hash_pairs`] over the same pairs).
    pub(crate) fn get_or_create_hashed(
        &self,
        hash: u64,
        labels: &Labels,
    ) -> Result<Arc<MemSeries>, StorageError> {
        if let Some(s) = self.table.read().find(hash, labels) {
            return Ok(s);
        }
        validate(labels)?;
        let mut t = self.table.write();
        if let Some(s) = t.find(hash, labels) {
            return Ok(s);
        }
        let id = t.next_id;
        t.next_id += 1;
        Ok(t.insert(hash, id, pairs_of(labels), false))
    }

    /// The existing series with exactly these (name, value) pairs, sorted by name, whose
    /// hash (from [`Head::hash_pairs`]) is `hash`, found without building a `Labels`.
    pub(crate) fn get_by_pairs(&self, hash: u64, pairs: &[(&str, &str)]) -> Option<Arc<MemSeries>> {
        self.table
            .read()
            .find_by(hash, |s| s.has_pairs(&self.symbols, pairs))
    }

    /// For each of `sets`, a label set as remote write encodes it
    /// ([`model::encode_label_pairs`]), the existing series with exactly those labels, in
    /// order, appended to `out`. In phases: first every hash, then every map probe (which
    /// starts fetching the series found), then the comparisons. Each probe is a likely
    /// cache miss and a request's probes are independent, so the CPU overlaps them, which
    /// it cannot do while each is followed by its own comparison. The table lock is taken
    /// once per [`FIND_BATCH`] sets, so a large request does not hold back series
    /// creation (a waiting writer also stops new readers) for long.
    pub(crate) fn find_many_encoded(&self, sets: &[&[u8]], out: &mut Vec<Option<Arc<MemSeries>>>) {
        out.reserve(sets.len());
        let mut hashes = Vec::with_capacity(FIND_BATCH.min(sets.len()));
        for sets in sets.chunks(FIND_BATCH) {
            hashes.clear();
            hashes.extend(sets.iter().map(|b| labelhash::hash_encoded(self.seed, b)));
            let t = self.table.read();
            // Each found series' labels are fetched as it is found: they are inline in
            // most series, so the comparison below finds them in cache.
            let first: Vec<Option<&Arc<MemSeries>>> = hashes
                .iter()
                .map(|h| {
                    let s = t.by_hash.get(h);
                    if let Some(s) = s {
                        // First and last byte: the field may straddle two lines.
                        let labels = std::ptr::from_ref(&s.labels).cast::<u8>();
                        crate::prefetch::prefetch(labels);
                        crate::prefetch::prefetch(
                            labels.wrapping_add(std::mem::size_of::<LabelPairs>() - 1),
                        );
                    }
                    s
                })
                .collect();
            for ((first, &hash), encoded) in first.into_iter().zip(&hashes).zip(sets) {
                let same = |s: &MemSeries| s.has_encoded(&self.symbols, encoded);
                out.push(match first {
                    Some(s) if same(s) => Some(Arc::clone(s)),
                    // Another series with the same hash, or none.
                    Some(_) => t.find_collision(hash, same),
                    None => None,
                });
            }
        }
    }

    /// Where closed chunks' bytes go, if not the heap.
    pub(crate) fn chunk_files(&self) -> Option<&ChunkFiles> {
        self.files.as_deref()
    }

    /// The string table the series' labels are read from.
    pub(crate) fn symbols(&self) -> &Symbols {
        &self.symbols
    }

    /// The keyed hash of a label set given as pairs; `get_or_create` and `get_by_pairs`
    /// agree on it.
    pub(crate) fn hash_pairs<'a>(&self, pairs: impl Iterator<Item = (&'a str, &'a str)>) -> u64 {
        labelhash::hash_pairs(self.seed, pairs)
    }

    fn hash_labels(&self, labels: &Labels) -> u64 {
        self.hash_pairs(pairs_of(labels))
    }

    /// Recreates a series from the WAL with its logged id and (name, value) pairs. An id
    /// already bound to other labels is refused (the record is inconsistent) and described.
    pub(crate) fn restore_series(&self, id: u64, pairs: &[(&str, &str)]) -> Result<(), String> {
        let hash = self.hash_pairs(pairs.iter().copied());
        let mut t = self.table.write();
        if let Some(s) = t.by_id.get(id) {
            return if s.has_pairs(&self.symbols, pairs) {
                Ok(())
            } else {
                Err(format!(
                    "series id {id} is logged for {} but already holds {}",
                    describe(pairs),
                    s.to_labels(&self.symbols)
                ))
            };
        }
        if let Some(s) = t.find_by(hash, |s| s.has_pairs(&self.symbols, pairs)) {
            return Err(format!(
                "series {} is logged as id {id} but already has id {}",
                describe(pairs),
                s.id
            ));
        }
        if let Some(reason) = invalid_reason(pairs.iter().copied()) {
            return Err(format!("series {}: {reason}", describe(pairs)));
        }
        t.next_id = t.next_id.max(id.saturating_add(1));
        t.insert(hash, id, pairs.iter().copied(), true);
        Ok(())
    }

    /// The series with WAL id `id`.
    pub(crate) fn series_by_id(&self, id: u64) -> Option<Arc<MemSeries>> {
        self.table.read().by_id.get(id).cloned()
    }

    /// Looks up many series under one acquisition of the table lock (replay's lookups are
    /// frequent enough for the lock's cache line to matter between workers).
    pub(crate) fn series_by_ids(
        &self,
        ids: impl IntoIterator<Item = u64>,
        out: &mut Vec<Option<Arc<MemSeries>>>,
    ) {
        let t = self.table.read();
        out.extend(ids.into_iter().map(|id| t.by_id.get(id).cloned()));
    }

    /// Makes samples of `series` visible; returns samples dropped as conflicting.
    pub(crate) fn apply(&self, series: &MemSeries, samples: &[Sample]) -> u64 {
        let o = self.insert(series, samples);
        self.account(o);
        o.conflicts
    }

    /// Makes samples of `series` visible, leaving the head's totals to [`Head::account`]:
    /// a batch updates those shared counters once, not once per series (each update is
    /// an atomic write to a line every core reads).
    pub(crate) fn insert(&self, series: &MemSeries, samples: &[Sample]) -> InsertOutcome {
        series.insert(samples, self.files.as_deref())
    }

    /// Adds inserted samples (outcomes of [`Head::insert`], merged) to the head's totals.
    pub(crate) fn account(&self, o: InsertOutcome) {
        if o.added > 0 {
            self.num_samples.fetch_add(o.added, Ordering::Relaxed);
            // The compaction's copy first: `samples_removed` relies on this order.
            self.during_min.fetch_min(o.min_t, Ordering::AcqRel);
            self.during_max.fetch_max(o.max_t, Ordering::AcqRel);
            self.min_t.fetch_min(o.min_t, Ordering::AcqRel);
            self.max_t.fetch_max(o.max_t, Ordering::AcqRel);
        }
    }

    /// Every series, sorted by labels.
    pub(crate) fn series_by_labels(&self) -> Vec<Arc<MemSeries>> {
        let mut all: Vec<Arc<MemSeries>> = self.table.read().by_id.values().cloned().collect();
        let sym = &*self.symbols;
        all.sort_by(|a, b| a.labels.iter(sym).cmp(b.labels.iter(sym)));
        all
    }

    /// Every series, in no particular order.
    pub(crate) fn all_series(&self) -> Vec<Arc<MemSeries>> {
        self.table.read().by_id.values().cloned().collect()
    }

    /// Marks the start of a head compaction's scan, before it reads any series: what
    /// commits account from here on is kept apart for [`Head::samples_removed`].
    pub(crate) fn begin_removal(&self) {
        self.during_min.store(Timestamp::MAX, Ordering::Release);
        self.during_max.store(Timestamp::MIN, Ordering::Release);
    }

    /// Accounts for `removed` samples moved out of the head by the scan that
    /// [`Head::begin_removal`] began; `oldest_left` is the oldest sample time the scan
    /// left. Commits accounted during the scan may hold samples it did not see (a series
    /// created or appended to after it was read), so their range is kept too.
    pub(crate) fn samples_removed(&self, removed: u64, oldest_left: Option<Timestamp>) {
        self.num_samples.fetch_sub(removed, Ordering::Relaxed);
        let during_min = self.during_min.load(Ordering::Acquire);
        let min = oldest_left.unwrap_or(Timestamp::MAX).min(during_min);
        // A commit may account between the load above and the swap. If its `min_t` update
        // came first, the swap (a read-modify-write) synchronises with it, so the reload
        // sees its `during_min` update, made before (`account`'s order); if it came after,
        // it lowers `min_t` itself.
        self.min_t.swap(min, Ordering::AcqRel);
        self.min_t
            .fetch_min(self.during_min.load(Ordering::Acquire), Ordering::AcqRel);
        if min == Timestamp::MAX && self.during_max.load(Ordering::Acquire) == Timestamp::MIN {
            // Nothing left and nothing new: the range starts again with the next sample.
            // The same reasoning holds for a commit racing this swap.
            self.max_t.swap(Timestamp::MIN, Ordering::AcqRel);
            self.max_t
                .fetch_max(self.during_max.load(Ordering::Acquire), Ordering::AcqRel);
        }
    }

    /// Drops series that hold no sample and that no appender or reader holds. Returns
    /// how many went.
    pub(crate) fn gc(&self) -> usize {
        let mut t = self.table.write();
        // Two references are the table's own (by hash and by id); any other is an appender
        // or a reader that may still use the series.
        let idle: Vec<Arc<MemSeries>> = t
            .by_id
            .values()
            .filter(|s| Arc::strong_count(s) == 2 && s.is_empty())
            .cloned()
            .collect();
        let mut gone = Vec::with_capacity(idle.len());
        for s in &idle {
            let pairs: Vec<(Arc<str>, Arc<str>)> = s
                .labels
                .iter(&self.symbols)
                .map(|(n, v)| (Arc::clone(n), Arc::clone(v)))
                .collect();
            let hash = self.hash_pairs(pairs.iter().map(|(n, v)| (&**n, &**v)));
            t.remove_from_maps(hash, s);
            gone.push((s.id, pairs));
        }
        t.index.remove_many(&gone);
        idle.len()
    }

    /// Puts back chunks of `series` read from a checkpoint; returns the samples added.
    pub(crate) fn restore_chunks(
        &self,
        series: &MemSeries,
        chunks: Vec<crate::chunk::XorChunk>,
    ) -> u64 {
        let o = series.restore(chunks, self.files.as_deref());
        self.account(o);
        o.added
    }

    /// The newest sample time, if any.
    pub(crate) fn max_time(&self) -> Option<Timestamp> {
        let m = self.max_t.load(Ordering::Acquire);
        (m != Timestamp::MIN).then_some(m)
    }

    /// Series matching all matchers, in id order.
    pub(crate) fn select(&self, matchers: &[Matcher]) -> Vec<Arc<MemSeries>> {
        let t = self.table.read();
        let ids = t.index.resolve(matchers);
        ids.iter()
            .filter_map(|id| t.by_id.get(*id).cloned())
            .collect()
    }

    /// Sorted label names held by at least one series for which `keep` is true.
    /// Stops at the first such series per name, under the table's read lock.
    pub(crate) fn names_where(&self, keep: impl Fn(&MemSeries) -> bool) -> Vec<String> {
        let t = self.table.read();
        t.index
            .names()
            .filter(|n| t.index.values(n).any(|(_, p)| t.any_series(p, &keep)))
            .map(|n| n.to_string())
            .collect()
    }

    /// Sorted values of `name` held by at least one series for which `keep` is true.
    pub(crate) fn values_where(
        &self,
        name: &str,
        keep: impl Fn(&MemSeries) -> bool,
    ) -> Vec<String> {
        let t = self.table.read();
        t.index
            .values(name)
            .filter(|(_, p)| t.any_series(p, &keep))
            .map(|(v, _)| v.to_string())
            .collect()
    }

    /// True when `meta` is not what the head already holds for `metric`.
    pub(crate) fn metadata_differs(&self, metric: &str, meta: &MetricMetadata) -> bool {
        self.metadata.read().get(metric) != Some(meta)
    }

    /// Records metadata of a metric family.
    pub(crate) fn set_metadata(&self, metric: String, meta: MetricMetadata) {
        self.metadata.write().insert(metric, meta);
    }

    /// Metadata, sorted by metric name; `metric` narrows to one, `limit` caps entries (0 = all).
    pub(crate) fn metadata(
        &self,
        metric: Option<&str>,
        limit: usize,
    ) -> Vec<(String, MetricMetadata)> {
        let m = self.metadata.read();
        let take = if limit == 0 { usize::MAX } else { limit };
        match metric {
            Some(name) => m
                .get(name)
                .map(|v| (name.to_string(), v.clone()))
                .into_iter()
                .collect(),
            None => m
                .iter()
                .take(take)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        }
    }

    /// Cardinality statistics for `/api/v1/status/tsdb`.
    pub(crate) fn status(&self, limit: usize) -> storage::TsdbStatus {
        let stats = self.stats();
        let table = self.table.read();
        let mut status = storage::TsdbStatus {
            num_series: stats.series,
            chunk_count: table.by_id.values().map(|s| s.chunk_count()).sum(),
            min_time: stats.min_time,
            max_time: stats.max_time,
            ..Default::default()
        };
        table.index.cardinality(limit, &mut status);
        status
    }

    /// Counts for monitoring.
    pub(crate) fn stats(&self) -> Stats {
        let min = self.min_t.load(Ordering::Acquire);
        let max = self.max_t.load(Ordering::Acquire);
        Stats {
            series: self.table.read().by_id.len() as u64,
            // A compaction may subtract samples a racing commit has inserted but not yet
            // added: the count (wrapping) is briefly below zero, never reported as such.
            samples: (self.num_samples.load(Ordering::Relaxed) as i64).max(0) as u64,
            min_time: (min != Timestamp::MAX).then_some(min),
            max_time: (max != Timestamp::MIN).then_some(max),
        }
    }
}

impl Table {
    fn any_series(&self, ids: &IdList, keep: &impl Fn(&MemSeries) -> bool) -> bool {
        ids.iter()
            .any(|id| self.by_id.get(id).is_some_and(|s| keep(s)))
    }

    fn find(&self, hash: u64, labels: &Labels) -> Option<Arc<MemSeries>> {
        let symbols = self.index.symbols();
        self.find_by(hash, |s| s.has_labels(symbols, labels))
    }

    fn find_by(&self, hash: u64, same: impl Fn(&MemSeries) -> bool) -> Option<Arc<MemSeries>> {
        let first = self.by_hash.get(&hash)?;
        if same(first) {
            return Some(Arc::clone(first));
        }
        self.find_collision(hash, same)
    }

    /// The series with this hash after the first (rare), for which `same` holds.
    fn find_collision(
        &self,
        hash: u64,
        same: impl Fn(&MemSeries) -> bool,
    ) -> Option<Arc<MemSeries>> {
        self.collisions
            .get(&hash)?
            .iter()
            .find(|s| same(s))
            .cloned()
    }

    /// Removes series `s` (whose label hash is `hash`) from the maps by hash and id; the
    /// caller removes it from the index.
    fn remove_from_maps(&mut self, hash: u64, s: &Arc<MemSeries>) {
        self.by_id.remove(s.id);
        if self.by_hash.get(&hash).is_some_and(|f| f.id == s.id) {
            self.by_hash.remove(&hash);
            if let Some(others) = self.collisions.get_mut(&hash) {
                if let Some(next) = others.pop() {
                    self.by_hash.insert(hash, next);
                }
                if others.is_empty() {
                    self.collisions.remove(&hash);
                }
            }
        } else if let Some(others) = self.collisions.get_mut(&hash) {
            others.retain(|o| o.id != s.id);
            if others.is_empty() {
                self.collisions.remove(&hash);
            }
        }
    }

    fn insert<'a>(
        &mut self,
        hash: u64,
        id: u64,
        labels: impl ExactSizeIterator<Item = (&'a str, &'a str)>,
        logged: bool,
    ) -> Arc<MemSeries> {
        let mut pairs = Vec::with_capacity(labels.len());
        let mut ids = Vec::with_capacity(labels.len());
        for (name, value) in labels {
            let (ni, n) = self.index.intern_symbol(name);
            let (vi, v) = self.index.intern_symbol(value);
            pairs.push((n, v));
            ids.push((ni, vi));
        }
        self.index.add(id, &pairs);
        let labels = LabelPairs::new(&ids);
        let s = Arc::new(MemSeries::new(id, labels, logged));
        match self.by_hash.entry(hash) {
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(Arc::clone(&s));
            }
            std::collections::hash_map::Entry::Occupied(_) => {
                self.collisions
                    .entry(hash)
                    .or_default()
                    .push(Arc::clone(&s));
            }
        }
        self.by_id.insert(Arc::clone(&s));
        s
    }
}

/// 64 bits from the OS's random source, through std's randomly keyed hasher state.
pub(crate) fn random_seed() -> u64 {
    use std::hash::BuildHasher;
    std::collections::hash_map::RandomState::new().hash_one(0x5eed_u64)
}

/// Pairs as Prometheus writes a label set, in their order (they may be invalid).
fn describe(pairs: &[(&str, &str)]) -> String {
    model::go_labels_string(pairs.iter().copied())
}

/// A label set's (name, value) pairs.
fn pairs_of(labels: &Labels) -> impl ExactSizeIterator<Item = (&str, &str)> + Clone {
    labels.iter().map(|l| (l.name.as_str(), l.value.as_str()))
}

/// Refuses label sets the head cannot hold: empty, unsorted or repeated names, empty
/// names or values, or too large.
fn validate(labels: &Labels) -> Result<(), StorageError> {
    match invalid_reason(pairs_of(labels)) {
        None => Ok(()),
        Some(reason) => Err(StorageError::InvalidSeries {
            series: labels.to_string(),
            reason,
        }),
    }
}

/// Why the head cannot hold a label set given as (name, value) pairs, if it cannot.
fn invalid_reason<'a>(
    pairs: impl ExactSizeIterator<Item = (&'a str, &'a str)> + Clone,
) -> Option<String> {
    if pairs.len() == 0 {
        return Some("empty label set".to_string());
    }
    let mut names = pairs.clone().map(|(n, _)| n);
    let mut prev = names.next();
    for n in names {
        if prev.is_some_and(|p| p >= n) {
            return Some("duplicate or unsorted label names".to_string());
        }
        prev = Some(n);
    }
    if pairs.clone().any(|(n, v)| n.is_empty() || v.is_empty()) {
        return Some("empty label name or value".to_string());
    }
    let bytes: usize = pairs.map(|(n, v)| n.len() + v.len()).sum();
    if bytes > MAX_LABELS_BYTES {
        return Some(format!(
            "labels take {bytes} bytes, more than {MAX_LABELS_BYTES}"
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn by_pairs(h: &Head, pairs: &[(&str, &str)]) -> Option<Arc<MemSeries>> {
        h.get_by_pairs(h.hash_pairs(pairs.iter().copied()), pairs)
    }

    #[test]
    fn same_labels_same_series() {
        let h = Head::new();
        let a = h
            .get_or_create(&Labels::from_pairs([("a", "1")]))
            .expect("ok");
        let b = h
            .get_or_create(&Labels::from_pairs([("a", "1")]))
            .expect("ok");
        let c = h
            .get_or_create(&Labels::from_pairs([("a", "2")]))
            .expect("ok");
        assert_eq!(a.id, b.id);
        assert_ne!(a.id, c.id);
        assert_eq!(h.stats().series, 2);
    }

    #[test]
    fn pairs_find_the_series_labels_created() {
        let h = Head::new();
        let a = h
            .get_or_create(&Labels::from_pairs([("__name__", "up"), ("job", "x")]))
            .expect("ok");
        let b = by_pairs(&h, &[("__name__", "up"), ("job", "x")]).expect("found");
        assert_eq!(a.id, b.id);
        assert!(by_pairs(&h, &[("__name__", "up"), ("job", "y")]).is_none());
        assert!(by_pairs(&h, &[("__name__", "up")]).is_none());
        assert!(by_pairs(&h, &[("__name__", "upjob"), ("x", "")]).is_none());
    }

    #[test]
    fn hash_collisions_keep_series_apart() {
        let mut t = Table::default();
        let a = Labels::from_pairs([("a", "1")]);
        let b = Labels::from_pairs([("a", "2")]);
        // Force both label sets onto one hash.
        t.insert(42, 0, pairs_of(&a), false);
        t.insert(42, 1, pairs_of(&b), false);
        assert_eq!(t.find(42, &a).map(|s| s.id), Some(0));
        assert_eq!(t.find(42, &b).map(|s| s.id), Some(1));
        assert!(t.find(42, &Labels::from_pairs([("a", "3")])).is_none());
    }

    #[test]
    fn gc_drops_empty_unreferenced_series_only() {
        let h = Head::new();
        let a = h
            .get_or_create(&Labels::from_pairs([("a", "1")]))
            .expect("ok");
        let b = h
            .get_or_create(&Labels::from_pairs([("a", "2")]))
            .expect("ok");
        h.apply(&a, &[Sample::new(10, 1.0)]);
        let held = h
            .get_or_create(&Labels::from_pairs([("a", "3")]))
            .expect("ok");
        drop(b);
        assert_eq!(h.gc(), 1, "only the empty series nobody holds");
        assert!(by_pairs(&h, &[("a", "2")]).is_none());
        assert!(by_pairs(&h, &[("a", "3")]).is_some());
        assert_eq!(h.select(&[]).len(), 2);
        // A new series with the dropped labels gets a new id.
        let b2 = h
            .get_or_create(&Labels::from_pairs([("a", "2")]))
            .expect("ok");
        assert!(b2.id > held.id);
    }

    #[test]
    fn gc_keeps_collision_chains_whole() {
        let mut t = Table::default();
        let a = Labels::from_pairs([("a", "1")]);
        let b = Labels::from_pairs([("a", "2")]);
        let sa = t.insert(42, 0, pairs_of(&a), false);
        t.insert(42, 1, pairs_of(&b), false);
        t.remove_from_maps(42, &sa);
        assert!(t.find(42, &a).is_none());
        assert_eq!(t.find(42, &b).map(|s| s.id), Some(1));
    }

    #[test]
    fn encoded_lookups_follow_collision_chains_and_compare_every_byte() {
        let h = Head::new();
        let a = Labels::from_pairs([("__name__", "up"), ("job", "a")]);
        let b = Labels::from_pairs([("__name__", "up"), ("job", "b")]);
        let enc = |l: &Labels| {
            let mut out = Vec::new();
            model::encode_label_pairs(pairs_of(l), &mut out);
            out
        };
        let (ea, eb) = (enc(&a), enc(&b));
        // `a` filed under `b`'s hash first, so `b` lands in the collision chain.
        let hb = labelhash::hash_encoded(h.seed, &eb);
        {
            let mut t = h.table.write();
            t.insert(hb, 0, pairs_of(&a), false);
            t.insert(hb, 1, pairs_of(&b), false);
        }
        let mut cut = eb.clone();
        cut.pop();
        let mut out = Vec::new();
        h.find_many_encoded(&[&eb, &ea, &cut, &[]], &mut out);
        let ids: Vec<Option<u64>> = out.iter().map(|s| s.as_ref().map(|s| s.id)).collect();
        // `b` through the chain; `a` is not under its own hash; a cut or empty set matches
        // nothing.
        assert_eq!(ids, vec![Some(1), None, None, None]);
    }

    #[test]
    fn empty_labels_are_invalid() {
        let h = Head::new();
        let e = h.get_or_create(&Labels::empty()).err().expect("refused");
        assert!(matches!(e, StorageError::InvalidSeries { .. }));
    }

    #[test]
    fn restore_keeps_ids_and_refuses_conflicts() {
        let h = Head::new();
        let l = [("a", "1")];
        h.restore_series(5, &l).expect("ok");
        h.restore_series(5, &l).expect("idempotent");
        assert!(h.restore_series(5, &[("a", "2")]).is_err());
        assert!(h.restore_series(6, &l).is_err());
        let e = h
            .restore_series(7, &[("b", "1"), ("a", "2")])
            .expect_err("unsorted");
        assert!(e.contains("unsorted"), "{e}");
        let n = h
            .get_or_create(&Labels::from_pairs([("b", "1")]))
            .expect("ok");
        assert_eq!(n.id, 6);
    }

    #[test]
    fn apply_tracks_stats() {
        let h = Head::new();
        let s = h
            .get_or_create(&Labels::from_pairs([("a", "1")]))
            .expect("ok");
        assert_eq!(
            h.apply(&s, &[Sample::new(20, 1.0), Sample::new(10, 1.0)]),
            0
        );
        assert_eq!(h.apply(&s, &[Sample::new(10, 2.0)]), 1);
        let st = h.stats();
        assert_eq!(
            (st.samples, st.min_time, st.max_time),
            (2, Some(10), Some(20))
        );
    }

    #[test]
    fn removal_keeps_the_range_of_commits_accounted_during_its_scan() {
        let h = Head::new();
        let o = |min_t, max_t| InsertOutcome {
            added: 1,
            conflicts: 0,
            min_t,
            max_t,
        };
        let range = |h: &Head| {
            let st = h.stats();
            (st.min_time, st.max_time)
        };
        h.account(o(10, 20));
        // The scan removed everything it saw, but a commit accounted while it ran.
        h.begin_removal();
        h.account(o(5, 30));
        h.samples_removed(1, None);
        assert_eq!(range(&h), (Some(5), Some(30)));
        // Without a commit during the scan, what the scan left is the range.
        h.begin_removal();
        h.samples_removed(0, Some(25));
        assert_eq!(range(&h), (Some(25), Some(30)));
        h.begin_removal();
        h.samples_removed(1, None);
        assert_eq!(range(&h), (None, None));
        assert_eq!(h.stats().samples, 0);
        // Removals counted before the racing commits that added them: never below zero,
        // and right once the commits are counted.
        h.samples_removed(2, None);
        assert_eq!(h.stats().samples, 0);
        h.account(o(1, 1));
        h.account(o(2, 2));
        h.account(o(3, 3));
        assert_eq!(h.stats().samples, 1);
    }

    #[test]
    fn a_commit_racing_the_end_of_a_removal_keeps_its_range() {
        // Stress: in each round one commit's accounting and one compaction's end start
        // together; once both are done the head's range must hold the commit's sample.
        use std::sync::atomic::AtomicUsize;
        const ROUNDS: usize = 20_000;
        let h = Head::new();
        h.begin_removal();
        // Round r starts when `go` reaches 2r+1; each side adds 1 to `done` when finished.
        let go = AtomicUsize::new(0);
        let done = AtomicUsize::new(0);
        let wait = |a: &AtomicUsize, at_least: usize| {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
            while a.load(Ordering::SeqCst) < at_least {
                assert!(std::time::Instant::now() < deadline, "stress round stalled");
                std::hint::spin_loop();
                std::thread::yield_now();
            }
        };
        std::thread::scope(|sc| {
            sc.spawn(|| {
                for r in 0..ROUNDS {
                    wait(&go, 2 * r + 1);
                    h.samples_removed(0, None);
                    done.fetch_add(1, Ordering::SeqCst);
                    wait(&go, 2 * r + 2);
                }
            });
            for r in 0..ROUNDS {
                let t = (ROUNDS - r) as i64;
                go.fetch_add(1, Ordering::SeqCst);
                h.account(InsertOutcome {
                    added: 1,
                    conflicts: 0,
                    min_t: t,
                    max_t: t,
                });
                done.fetch_add(1, Ordering::SeqCst);
                wait(&done, 2 * r + 2);
                let st = h.stats();
                assert!(
                    st.min_time.is_some_and(|m| m <= t) && st.max_time.is_some_and(|m| m >= t),
                    "round {r}: range {:?}..{:?} lost the sample at {t}",
                    st.min_time,
                    st.max_time
                );
                go.fetch_add(1, Ordering::SeqCst);
            }
        });
    }
}
