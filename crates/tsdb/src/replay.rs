//! Rebuilding the head on open: the newest checkpoint, then the WAL segments after it.

use std::fs::OpenOptions;
use std::path::Path;

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

/// Samples and chunks go to worker threads by series id, so one series' records stay in
/// log order (the first value written at a timestamp still wins) while series replay in
/// parallel. Series and metadata records are applied in order by the reading thread,
/// before any later record of theirs is handed out.
struct Shards<'scope> {
    senders: Vec<std::sync::mpsc::SyncSender<Vec<Work>>>,
    pending: Vec<Vec<Work>>,
    handles: Vec<std::thread::ScopedJoinHandle<'scope, ReplayCounts>>,
}

/// One series' run of samples, or its checkpointed chunks.
enum Work {
    Samples(u64, Vec<Sample>),
    Chunks(u64, Vec<Vec<u8>>),
}

/// Work items handed to a worker at once: fewer channel operations.
const BATCH: usize = 4096;

impl<'scope> Shards<'scope> {
    fn start<'env>(
        scope: &'scope std::thread::Scope<'scope, 'env>,
        head: &'env Head,
        workers: usize,
    ) -> Self {
        let mut senders = Vec::new();
        let mut handles = Vec::new();
        for _ in 0..workers {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Work>>(4);
            senders.push(tx);
            handles.push(scope.spawn(move || {
                let mut counts = ReplayCounts::default();
                for batch in rx {
                    for w in batch {
                        apply_work(head, w, &mut counts);
                    }
                }
                counts
            }));
        }
        Shards {
            pending: (0..workers).map(|_| Vec::new()).collect(),
            senders,
            handles,
        }
    }

    fn push(&mut self, id: u64, w: Work) {
        let i = (id % self.senders.len() as u64) as usize;
        self.pending[i].push(w);
        if self.pending[i].len() >= BATCH {
            self.flush(i);
        }
    }

    fn flush(&mut self, i: usize) {
        let batch = std::mem::take(&mut self.pending[i]);
        if !batch.is_empty() && self.senders[i].send(batch).is_err() {
            tracing::error!("a WAL replay worker stopped early");
        }
    }

    /// Waits until every record handed out so far is applied.
    fn finish(mut self) -> Vec<ReplayCounts> {
        for i in 0..self.senders.len() {
            self.flush(i);
        }
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
        Record::Samples(samples) => {
            // Commits write a series' samples next to each other: hand them out per run.
            let mut i = 0;
            while i < samples.len() {
                let id = samples[i].id;
                let mut run: Vec<Sample> = Vec::new();
                while i < samples.len() && samples[i].id == id {
                    run.push(Sample::new(samples[i].t, samples[i].v));
                    i += 1;
                }
                shards.push(id, Work::Samples(id, run));
            }
        }
        Record::Metadata(entries) => {
            for (metric, meta) in entries {
                head.set_metadata(metric, meta);
            }
        }
        Record::Chunks(entries) => {
            for (id, raw) in entries {
                shards.push(id, Work::Chunks(id, raw));
            }
        }
    }
}

fn apply_work(head: &Head, w: Work, counts: &mut ReplayCounts) {
    match w {
        Work::Samples(id, run) => match head.series_by_id(id) {
            Some(s) => {
                counts.conflicts += head.apply(&s, &run);
                counts.samples += run.len() as u64;
            }
            None => counts.unknown_series += run.len() as u64,
        },
        Work::Chunks(id, raw) => {
            let Some(s) = head.series_by_id(id) else {
                counts.unknown_series += 1;
                return;
            };
            let mut chunks = Vec::with_capacity(raw.len());
            for bytes in raw {
                match XorChunk::from_bytes(bytes) {
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
    }
}
