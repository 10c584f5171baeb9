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
    let mut counts = ReplayCounts::default();
    let mut next = 0;
    if let Some((n, path)) = checkpoint::latest(wal_dir)? {
        counts.checkpoint = Some(n);
        next = n + 1;
        let end = read_segment(&path, |rec| apply_record(head, rec, &mut counts))?;
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
        let end = read_segment(&path, |rec| apply_record(head, rec, &mut counts))?;
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

fn apply_record(head: &Head, rec: Record, counts: &mut ReplayCounts) {
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
            // Commits write a series' samples next to each other: apply them per run.
            let mut run: Vec<Sample> = Vec::new();
            let mut i = 0;
            while i < samples.len() {
                let id = samples[i].id;
                run.clear();
                while i < samples.len() && samples[i].id == id {
                    run.push(Sample::new(samples[i].t, samples[i].v));
                    i += 1;
                }
                match head.series_by_id(id) {
                    Some(s) => {
                        counts.conflicts += head.apply(&s, &run);
                        counts.samples += run.len() as u64;
                    }
                    None => counts.unknown_series += run.len() as u64,
                }
            }
        }
        Record::Metadata(entries) => {
            for (metric, meta) in entries {
                head.set_metadata(metric, meta);
            }
        }
        Record::Chunks(entries) => {
            for (id, raw) in entries {
                let Some(s) = head.series_by_id(id) else {
                    counts.unknown_series += 1;
                    continue;
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
                let o = head.restore_chunks(&s, chunks);
                counts.samples += o;
            }
        }
    }
}
