//! Rebuilding the head on open: the newest checkpoint, then the WAL segments after it.

use std::fs::OpenOptions;
use std::path::Path;
use std::sync::Arc;

use model::Sample;

use crate::Error;
use crate::chunk::XorChunk;
use crate::head::Head;
use crate::wal::reader::read_segment;
use crate::wal::record::Record;
use crate::wal::{self, checkpoint};

/// What replay found, for the log line at open.
#[derive(Debug, Default)]
pub(crate) struct ReplayCounts {
    pub series: u64,
    pub samples: u64,
    pub chunks: u64,
    pub conflicts: u64,
    pub unknown_series: u64,
    pub bad_series: u64,
    pub bad_chunks: u64,
    /// Segments read.
    pub segments: usize,
    /// The last segment a checkpoint covers, if there is one.
    pub checkpoint: Option<u64>,
    /// Size of that checkpoint file.
    pub checkpoint_bytes: u64,
}

/// Replays the newest checkpoint and the segments after it into `head`, truncating a bad
/// tail of the last segment. Segments the checkpoint covers (left by a crash between
/// writing it and deleting them) are deleted. Returns the counts and the index the next
/// segment should take.
pub(crate) fn replay(head: &Head, wal_dir: &Path) -> Result<(ReplayCounts, u64), Error> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    std::thread::scope(|scope| {
        let mut shards = Shards::start(scope, head, workers);
        let res = replay_with(head, wal_dir, &mut shards);
        let worker_counts = shards.finish();
        res.map(|(mut counts, next)| {
            for w in worker_counts {
                counts.samples += w.samples;
                counts.chunks += w.chunks;
                counts.conflicts += w.conflicts;
                counts.unknown_series += w.unknown_series;
                counts.bad_chunks += w.bad_chunks;
            }
            (counts, next)
        })
    })
}

/// Samples and chunks are applied by worker threads, each taking the series whose id
/// falls in its shard, so one series' records stay in log order (the first value written
/// at a timestamp still wins) while decoding and applying overlap and series replay in
/// parallel. Every worker sees every record (shared, not copied) and skips what is not
/// its own. Series and metadata records are applied in order by the reading thread,
/// before any later record is handed out.
struct Shards<'scope> {
    senders: Vec<std::sync::mpsc::SyncSender<Arc<Record>>>,
    handles: Vec<std::thread::ScopedJoinHandle<'scope, ReplayCounts>>,
}

impl<'scope> Shards<'scope> {
    fn start<'env>(
        scope: &'scope std::thread::Scope<'scope, 'env>,
        head: &'env Head,
        workers: usize,
    ) -> Self {
        let mut senders = Vec::new();
        let mut handles = Vec::new();
        let n = workers as u64;
        for shard in 0..n {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Arc<Record>>(16);
            senders.push(tx);
            handles.push(scope.spawn(move || {
                let mut counts = ReplayCounts::default();
                let mut run: Vec<Sample> = Vec::new();
                for rec in rx {
                    apply_shard(head, &rec, shard, n, &mut run, &mut counts);
                }
                counts
            }));
        }
        Shards { senders, handles }
    }

    fn send(&self, rec: Record) {
        let rec = Arc::new(rec);
        for tx in &self.senders {
            if tx.send(Arc::clone(&rec)).is_err() {
                tracing::error!("a WAL replay worker stopped early");
            }
        }
    }

    /// Waits until every record handed out so far is applied.
    fn finish(mut self) -> Vec<ReplayCounts> {
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
        counts.checkpoint_bytes = std::fs::metadata(&path).map_or(0, |m| m.len());
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
    Ok((counts, next))
}

fn apply_record(head: &Head, rec: Record, counts: &mut ReplayCounts, shards: &mut Shards<'_>) {
    match rec {
        Record::Series(series) => {
            for s in series {
                match head.restore_series(s.id, &s.labels) {
                    Ok(()) => counts.series += 1,
                    Err(reason) => {
                        counts.bad_series += 1;
                        tracing::warn!(%reason, "inconsistent WAL series record ignored");
                    }
                }
            }
        }
        Record::Metadata(entries) => {
            for (metric, meta) in entries {
                head.set_metadata(metric, meta);
            }
        }
        rec @ (Record::Samples(_) | Record::Chunks(_)) => shards.send(rec),
    }
}

/// Applies the samples and chunks of `rec` whose series id is in shard `shard` of `n`.
fn apply_shard(
    head: &Head,
    rec: &Record,
    shard: u64,
    n: u64,
    run: &mut Vec<Sample>,
    counts: &mut ReplayCounts,
) {
    match rec {
        Record::Samples(samples) => {
            // Commits write a series' samples next to each other: apply them per run.
            let mut i = 0;
            while i < samples.len() {
                let id = samples[i].id;
                let start = i;
                while i < samples.len() && samples[i].id == id {
                    i += 1;
                }
                if id % n != shard {
                    continue;
                }
                run.clear();
                run.extend(samples[start..i].iter().map(|s| Sample::new(s.t, s.v)));
                match head.series_by_id(id) {
                    Some(s) => {
                        counts.conflicts += head.apply(&s, run);
                        counts.samples += run.len() as u64;
                    }
                    None => counts.unknown_series += run.len() as u64,
                }
            }
        }
        Record::Chunks(entries) => {
            for (id, raw) in entries.iter().filter(|(id, _)| id % n == shard) {
                restore_chunks(head, *id, raw, counts);
            }
        }
        Record::Series(_) | Record::Metadata(_) => {}
    }
}

fn restore_chunks(head: &Head, id: u64, raw: &[Vec<u8>], counts: &mut ReplayCounts) {
    let Some(s) = head.series_by_id(id) else {
        counts.unknown_series += 1;
        return;
    };
    let mut chunks = Vec::with_capacity(raw.len());
    for bytes in raw {
        match XorChunk::from_bytes(bytes.as_slice()) {
            Ok(c) => chunks.push(c),
            Err(e) => {
                counts.bad_chunks += 1;
                tracing::warn!(series = id, error = %e, "undecodable chunk in the WAL checkpoint skipped");
            }
        }
    }
    counts.chunks += chunks.len() as u64;
    counts.samples += head.restore_chunks(&s, chunks);
}
