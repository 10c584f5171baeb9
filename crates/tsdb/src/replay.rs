//! Rebuilding the head on open: the newest checkpoint, then the WAL segments after it.

use std::fs::OpenOptions;
use std::path::Path;
use std::sync::Arc;

use model::Sample;

use crate::Error;
use crate::chunk::XorChunk;
use crate::head::Head;
use crate::head::series::{InsertOutcome, MemSeries};
use crate::wal::reader::read_segment;
use crate::wal::record::{LoggedChunk, Record, SampleRecord};
use crate::wal::{self, checkpoint};

/// What replay found, for the log line at open.
#[derive(Debug, Default)]
pub(crate) struct ReplayCounts {
    pub series: u64,
    pub samples: u64,
    /// Samples and series replayed from segments (not the checkpoint), weighted as the
    /// checkpoint policy counts them.
    pub logged_work: u64,
    pub chunks: u64,
    pub conflicts: u64,
    pub unknown_series: u64,
    pub bad_series: u64,
    pub bad_chunks: u64,
    /// Records of optional types this build does not read (a later build's exemplars).
    pub optional_skipped: u64,
    /// Segments read.
    pub segments: usize,
    /// The last segment a checkpoint covers, if there is one.
    pub checkpoint: Option<u64>,
}

/// Replays the newest checkpoint and the segments after it into `head`, truncating a bad
/// tail of the last segment. Segments the checkpoint covers (left by a crash between
/// writing it and deleting them) are deleted. Returns the counts and the index the next
/// segment should take.
pub(crate) fn replay(head: &Head, wal_dir: &Path) -> Result<(ReplayCounts, u64), Error> {
    replay_in_windows(head, wal_dir, WINDOW_SAMPLES)
}

/// [`replay`] with windows of `window` samples.
fn replay_in_windows(
    head: &Head,
    wal_dir: &Path,
    window: usize,
) -> Result<(ReplayCounts, u64), Error> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    std::thread::scope(|scope| {
        let mut shards = Shards::start(scope, head, workers, window);
        let res = replay_with(head, wal_dir, &mut shards);
        let worker_counts = shards.finish();
        res.map(|(mut counts, next)| {
            for w in worker_counts {
                counts.samples += w.samples;
                counts.logged_work += w.logged_work;
                counts.chunks += w.chunks;
                counts.conflicts += w.conflicts;
                counts.unknown_series += w.unknown_series;
                counts.bad_chunks += w.bad_chunks;
            }
            (counts, next)
        })
    })
}

/// Samples gathered before the workers get them: enough that a series has several samples
/// in a window, so it is looked up and its chunk touched once per run instead of once per
/// sample (replay is bound by those memory accesses), and small enough not to matter next
/// to the head: 24 bytes a sample, a few windows' worth alive at once (one filling, one
/// queued and one being applied per worker, with its grouped copy at 16 bytes a sample;
/// applied windows' buffers are reused).
const WINDOW_SAMPLES: usize = 1 << 21;

/// What a worker is handed.
enum Work {
    /// Samples of the worker's shard, in log order.
    Samples(Vec<SampleRecord>),
    /// A chunks record: every worker sees it (shared) and takes its own series.
    Chunks(Arc<Record>),
}

/// Samples and chunks are applied by worker threads, each taking the series whose id
/// falls in its shard, so one series' records stay in log order (the first value written
/// at a timestamp still wins) while decoding and applying overlap and series replay in
/// parallel. Samples are gathered per shard in windows that a worker groups by series
/// (keeping log order within a series). Series and metadata records are applied
/// in order by the reading thread, before any later record is handed out.
struct Shards<'scope> {
    senders: Vec<std::sync::mpsc::SyncSender<Work>>,
    handles: Vec<std::thread::ScopedJoinHandle<'scope, ReplayCounts>>,
    pending: Vec<Vec<SampleRecord>>,
    pending_len: usize,
    window: usize,
    /// Applied windows come back emptied, so their memory is reused instead of faulted in
    /// again.
    spent: std::sync::mpsc::Receiver<Vec<SampleRecord>>,
}

impl<'scope> Shards<'scope> {
    fn start<'env>(
        scope: &'scope std::thread::Scope<'scope, 'env>,
        head: &'env Head,
        workers: usize,
        window: usize,
    ) -> Self {
        let mut senders = Vec::new();
        let mut handles = Vec::new();
        let n = workers as u64;
        let (give_back, spent) = std::sync::mpsc::channel();
        for shard in 0..n {
            // One window queued while the worker applies another.
            let (tx, rx) = std::sync::mpsc::sync_channel::<Work>(1);
            senders.push(tx);
            let give_back = give_back.clone();
            handles.push(scope.spawn(move || {
                let mut counts = ReplayCounts::default();
                let mut grouped = Grouped::default();
                for work in rx {
                    match work {
                        Work::Samples(mut window) => {
                            apply_window(head, &mut window, n, &mut grouped, &mut counts);
                            window.clear();
                            // The reader may be gone already (at the end): nothing to reuse.
                            let _ = give_back.send(window);
                        }
                        Work::Chunks(rec) => apply_chunks(head, &rec, shard, n, &mut counts),
                    }
                }
                counts
            }));
        }
        Shards {
            senders,
            handles,
            pending: (0..workers).map(|_| Vec::new()).collect(),
            pending_len: 0,
            window,
            spent,
        }
    }

    fn hand_out(&self, shard: usize, work: Work) {
        if self.senders[shard].send(work).is_err() {
            tracing::error!("a WAL replay worker stopped early");
        }
    }

    /// Gathers samples into the window, handing it out when full.
    fn add_samples(&mut self, samples: Vec<SampleRecord>) {
        let n = self.pending.len() as u64;
        self.pending_len += samples.len();
        for s in samples {
            self.pending[(s.id % n) as usize].push(s);
        }
        if self.pending_len >= self.window {
            self.flush();
        }
    }

    /// Hands out the samples gathered so far.
    fn flush(&mut self) {
        for shard in 0..self.pending.len() {
            if !self.pending[shard].is_empty() {
                let fresh = self.spent.try_recv().unwrap_or_default();
                let window = std::mem::replace(&mut self.pending[shard], fresh);
                self.hand_out(shard, Work::Samples(window));
            }
        }
        self.pending_len = 0;
    }

    /// Hands a chunks record to every worker, after the samples logged before it.
    fn add_chunks(&mut self, rec: Record) {
        self.flush();
        let rec = Arc::new(rec);
        for shard in 0..self.senders.len() {
            self.hand_out(shard, Work::Chunks(Arc::clone(&rec)));
        }
    }

    /// Waits until every record handed out so far is applied.
    fn finish(mut self) -> Vec<ReplayCounts> {
        self.flush();
        self.senders.clear();
        self.handles
            .into_iter()
            .filter_map(|h| match h.join() {
                Ok(c) => Some(c),
                Err(_) => {
                    tracing::error!("a WAL replay worker panicked");
                    None
                }
            })
            .collect()
    }
}

fn replay_with(
    head: &Head,
    wal_dir: &Path,
    shards: &mut Shards<'_>,
) -> Result<(ReplayCounts, u64), Error> {
    let mut counts = ReplayCounts::default();
    let mut next = 0;
    if let Some((n, path)) = checkpoint::latest(wal_dir)? {
        counts.checkpoint = Some(n);
        next = n + 1;
        let end = read_segment(&path, |rec| apply_record(head, rec, &mut counts, shards))?;
        if let Some(reason) = end.corruption {
            // Its segments are gone: what follows the damage cannot be recovered.
            tracing::error!(
                file = %path.display(),
                offset = end.valid_len,
                reason = %reason,
                "damaged WAL checkpoint: the records after this offset are lost"
            );
        }
    }
    let segments = wal::list_segments(wal_dir)?;
    for &index in segments.iter().filter(|&&i| i < next) {
        let path = wal_dir.join(wal::segment_name(index));
        std::fs::remove_file(&path).map_err(|e| Error::io("remove WAL segment", &path, e))?;
    }
    let live: Vec<u64> = segments.into_iter().filter(|&i| i >= next).collect();
    let series_before = counts.series;
    counts.segments = live.len();
    for (i, &index) in live.iter().enumerate() {
        let path = wal_dir.join(wal::segment_name(index));
        let end = read_segment(&path, |rec| apply_record(head, rec, &mut counts, shards))?;
        next = index + 1;
        let Some(reason) = end.corruption else {
            continue;
        };
        if i + 1 == live.len() {
            tracing::warn!(
                file = %path.display(),
                offset = end.valid_len,
                reason = %reason,
                "torn or corrupt WAL tail: truncating the segment there"
            );
            let f = OpenOptions::new()
                .write(true)
                .open(&path)
                .map_err(|e| Error::io("open WAL segment", &path, e))?;
            f.set_len(end.valid_len)
                .and_then(|()| f.sync_all())
                .map_err(|e| Error::io("truncate WAL segment", &path, e))?;
        } else {
            tracing::warn!(
                file = %path.display(),
                offset = end.valid_len,
                reason = %reason,
                "corrupt record inside an older WAL segment: skipping the rest of that segment"
            );
        }
    }
    counts.logged_work += (counts.series - series_before) * checkpoint::SERIES_WORK;
    Ok((counts, next))
}

fn apply_record(head: &Head, rec: Record, counts: &mut ReplayCounts, shards: &mut Shards<'_>) {
    match rec {
        Record::Series(series) => {
            series.for_each(|id, pairs| match head.restore_series(id, pairs) {
                Ok(()) => counts.series += 1,
                Err(reason) => {
                    counts.bad_series += 1;
                    tracing::warn!(%reason, "inconsistent WAL series record ignored");
                }
            })
        }
        Record::Metadata(entries) => {
            for (metric, meta) in entries {
                head.set_metadata(metric, meta);
            }
        }
        Record::Samples(samples) => shards.add_samples(samples),
        rec @ Record::Chunks(_) => shards.add_chunks(rec),
        Record::Optional(_) => counts.optional_skipped += 1,
    }
}

/// Series looked up per acquisition of the head's table lock.
const LOOKUP_BATCH: usize = 4096;

/// Applies a window of one shard's samples (ids `shard` mod `stride`), series by series.
fn apply_window(
    head: &Head,
    window: &mut [SampleRecord],
    stride: u64,
    grouped: &mut Grouped,
    counts: &mut ReplayCounts,
) {
    grouped.fill(window, stride);
    let mut series = Vec::with_capacity(LOOKUP_BATCH);
    let mut start = 0;
    let mut applied = InsertOutcome::default();
    for batch in grouped.runs.chunks(LOOKUP_BATCH) {
        series.clear();
        head.series_by_ids(batch.iter().map(|&(id, _)| id), &mut series);
        for (&(_, end), s) in batch.iter().zip(&series) {
            let run = &grouped.samples[start..end];
            start = end;
            let Some(s) = s else {
                counts.unknown_series += run.len() as u64;
                continue;
            };
            applied.merge(head.insert(s, run));
            counts.samples += run.len() as u64;
            counts.logged_work += run.len() as u64;
        }
    }
    counts.conflicts += applied.conflicts;
    head.account(applied);
}

/// A window's samples grouped by series, each series' samples in log order.
#[derive(Default)]
struct Grouped {
    samples: Vec<Sample>,
    /// Each series' id and where its samples end in `samples`, by id.
    runs: Vec<(u64, usize)>,
    /// Counting-sort table, kept between windows.
    slots: Vec<u32>,
}

impl Grouped {
    /// Groups `window`, whose ids are all congruent modulo `stride`: a counting sort over
    /// the ids' range (ids are handed out densely, so the table is about one slot per
    /// series), or a stable sort when the ids are too spread out for a table.
    fn fill(&mut self, window: &mut [SampleRecord], stride: u64) {
        self.samples.clear();
        self.runs.clear();
        let (Some(lo), Some(hi)) = (
            window.iter().map(|s| s.id).min(),
            window.iter().map(|s| s.id).max(),
        ) else {
            return;
        };
        let stride = stride.max(1);
        let span = (hi - lo) / stride + 1;
        if span > 2 * window.len() as u64 + 1024 {
            window.sort_by_key(|s| s.id);
            for same in window.chunk_by(|a, b| a.id == b.id) {
                self.samples
                    .extend(same.iter().map(|x| Sample::new(x.t, x.v)));
                self.runs.push((same[0].id, self.samples.len()));
            }
            return;
        }
        let slot = |id: u64| ((id - lo) / stride) as usize;
        self.slots.clear();
        self.slots.resize(span as usize, 0);
        for s in window.iter() {
            self.slots[slot(s.id)] += 1;
        }
        // Where each series' samples start (a window holds under 2^32 samples).
        let mut at = 0u32;
        for c in &mut self.slots {
            let n = *c;
            *c = at;
            at += n;
        }
        self.samples.resize(window.len(), Sample::new(0, 0.0));
        for s in window.iter() {
            let c = &mut self.slots[slot(s.id)];
            self.samples[*c as usize] = Sample::new(s.t, s.v);
            *c += 1;
        }
        // Each slot now holds where its series' samples end.
        let mut start = 0;
        for (k, &end) in self.slots.iter().enumerate() {
            let end = end as usize;
            if end > start {
                self.runs.push((lo + k as u64 * stride, end));
                start = end;
            }
        }
    }
}

/// Restores the chunks of `rec` whose series id is in shard `shard` of `n`.
fn apply_chunks(head: &Head, rec: &Record, shard: u64, n: u64, counts: &mut ReplayCounts) {
    let Record::Chunks(entries) = rec else {
        return;
    };
    let mine: Vec<&(u64, Vec<LoggedChunk>)> =
        entries.iter().filter(|(id, _)| id % n == shard).collect();
    let mut series = Vec::with_capacity(LOOKUP_BATCH.min(mine.len()));
    for batch in mine.chunks(LOOKUP_BATCH) {
        series.clear();
        // One acquisition of the table lock per batch: the reading thread creates series
        // under the write lock meanwhile.
        head.series_by_ids(batch.iter().map(|(id, _)| *id), &mut series);
        for ((id, raw), s) in batch.iter().zip(series.drain(..)) {
            match s {
                Some(s) => restore_chunks(head, &s, *id, raw, counts),
                None => {
                    counts.unknown_series += raw
                        .iter()
                        .map(|c| crate::chunk::xor::count(&c.bytes) as u64)
                        .sum::<u64>();
                }
            }
        }
    }
}

fn restore_chunks(
    head: &Head,
    s: &MemSeries,
    id: u64,
    raw: &[LoggedChunk],
    counts: &mut ReplayCounts,
) {
    let mut chunks = Vec::with_capacity(raw.len());
    for c in raw {
        let chunk = match c.range {
            // Written with its range by this crate, inside a checksummed record: taken as
            // it is, not decoded (most of a long head's restore).
            Some((min_t, max_t)) if min_t <= max_t && !c.bytes.is_empty() => {
                Ok(XorChunk::from_trusted(&c.bytes, min_t, max_t))
            }
            Some(_) => Err(crate::chunk::ChunkError::Corrupt("bad chunk time range")),
            None => XorChunk::from_bytes(c.bytes.as_slice()),
        };
        match chunk {
            Ok(c) => chunks.push(c),
            Err(e) => {
                counts.bad_chunks += 1;
                tracing::warn!(series = id, error = %e, "undecodable chunk in the WAL checkpoint skipped");
            }
        }
    }
    counts.chunks += chunks.len() as u64;
    counts.samples += head.restore_chunks(s, chunks);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wal::record::{encode_samples, encode_series};
    use crate::wal::{WalWriter, frame_with};

    fn sample(id: u64, t: i64, v: f64) -> SampleRecord {
        SampleRecord { id, t, v }
    }

    /// A series' samples spread over many windows (and the two shards of two workers) keep
    /// log order: the first value logged at a timestamp wins, later ones are conflicts,
    /// and out-of-order samples land in place.
    #[test]
    fn windows_keep_each_series_in_log_order() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut out = Vec::new();
        // Ids far apart (as after series churn) take the sorting path, close ones the
        // counting table.
        let (far, farther) = (1_000_001, 1_000_002);
        let ids = [1, 2, 3, far, farther];
        let labels: Vec<Vec<(Arc<str>, Arc<str>)>> = ids
            .iter()
            .map(|i| vec![(Arc::from("s"), Arc::from(i.to_string().as_str()))])
            .collect();
        frame_with(&mut out, |b| {
            encode_series(b, ids.iter().zip(&labels).map(|(&i, l)| (i, &l[..])))
        });
        let records: Vec<Vec<SampleRecord>> = vec![
            vec![sample(1, 10, 1.0), sample(2, 10, 5.0), sample(1, 20, 2.0)],
            vec![sample(3, 30, 7.0), sample(far, 10, 4.0), sample(1, 10, 9.0)],
            vec![sample(2, 10, 6.0), sample(1, 5, 0.5), sample(3, 30, 7.0)],
            vec![
                sample(farther, 10, 4.5),
                sample(far, 10, 4.25),
                sample(far, 5, 3.0),
            ],
            vec![sample(1, 20, 8.0), sample(2, 20, 5.5), sample(1, 30, 3.0)],
            // A conflict inside one record (one window when windows are small).
            vec![sample(2, 30, 1.0), sample(3, 40, 2.0), sample(2, 30, 1.5)],
        ];
        for r in &records {
            frame_with(&mut out, |b| encode_samples(b, r.iter().copied()));
        }
        let mut w = WalWriter::create(dir.path(), 0, 1 << 20).expect("segment");
        w.write(&out).expect("write");
        w.sync().expect("sync");
        for window in [1, 2, 3, 1000] {
            let head = Head::new();
            let (counts, next) = replay_in_windows(&head, dir.path(), window).expect("replay");
            assert_eq!(next, 1);
            assert_eq!(counts.series, 5);
            // 1@10 again with 9, 2@10 with 6, 1@20 with 8, far@10 with 4.25, 2@30 with 1.5.
            assert_eq!(counts.conflicts, 5, "window {window}");
            let got = |id: u64| -> Vec<(i64, f64)> {
                let s = head.series_by_id(id).expect("series");
                s.range(i64::MIN, i64::MAX)
                    .iter()
                    .map(|x| (x.t, x.v))
                    .collect()
            };
            assert_eq!(got(1), vec![(5, 0.5), (10, 1.0), (20, 2.0), (30, 3.0)]);
            assert_eq!(got(2), vec![(10, 5.0), (20, 5.5), (30, 1.0)]);
            assert_eq!(got(3), vec![(30, 7.0), (40, 2.0)]);
            assert_eq!(got(far), vec![(5, 3.0), (10, 4.0)]);
            assert_eq!(got(farther), vec![(10, 4.5)]);
        }
    }
}
