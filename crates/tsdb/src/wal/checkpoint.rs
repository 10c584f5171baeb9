//! Checkpoints: the head written out as one file in the WAL's segment format, so that the
//! segments it covers can be deleted and a restart replays the checkpoint (whole chunks,
//! not sample by sample) plus only the segments written after it. Layout in FORMAT.md.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::Error;
use crate::chunk::XorChunk;
use crate::head::Head;
use crate::head::series::MemSeries;

use super::record::{self, SOFT_RECORD_BYTES};
use super::{frame_series, frame_with, segment_header, segment_name, sync_dir};

/// File-name prefix of checkpoints; the suffix is the last segment index covered.
const PREFIX: &str = "checkpoint.";

/// The file name of the checkpoint covering segments up to `n`.
pub(crate) fn name(n: u64) -> String {
    format!("{PREFIX}{n:08}")
}

/// Replay work of one series record, in samples: creating a series (labels interned,
/// postings) costs about as much as replaying this many samples.
pub(crate) const SERIES_WORK: u64 = 32;

/// Most replay work per head series the WAL past the last checkpoint may hold: with it,
/// what a crash replays on top of the checkpoint does not grow with the head's span.
const MAX_TAIL_WORK_PER_SERIES: u64 = 64;

/// Whether a checkpoint is due: the WAL past the last one holds more replay work (samples,
/// plus [`SERIES_WORK`] per series) than a quarter of the head's samples or 64 samples per
/// head series, whichever is less (and at least `min_tail`). A restart after a
/// crash then replays at most that tail on top of loading the checkpoint; a checkpoint
/// writes the head (about 5 ns per sample held), so each sample is written to at most a
/// few checkpoints over its life in a short head, and once every 64 scrapes in a long one.
/// Counted in samples, not bytes: the WAL codes a regular sample in under a byte, so a
/// byte budget let tails of hundreds of millions of samples build up.
pub(crate) fn due(tail_work: u64, head_samples: u64, head_series: u64, min_tail: u64) -> bool {
    let budget = (head_samples / 4).min(head_series.saturating_mul(MAX_TAIL_WORK_PER_SERIES));
    tail_work > budget.max(min_tail)
}

/// What a checkpoint holds, for logs.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct CheckpointStats {
    /// Series written.
    pub series: u64,
    /// Chunks written.
    pub chunks: u64,
    /// File size in bytes.
    pub bytes: u64,
}

/// The newest complete checkpoint in `dir`, as (last segment covered, path). Unfinished
/// ones (`*.tmp`, left by a crash during a write) are deleted.
pub(crate) fn latest(dir: &Path) -> Result<Option<(u64, PathBuf)>, Error> {
    let rd = std::fs::read_dir(dir).map_err(|e| Error::io("list WAL directory", dir, e))?;
    let mut best: Option<(u64, PathBuf)> = None;
    for entry in rd {
        let entry = entry.map_err(|e| Error::io("list WAL directory", dir, e))?;
        let file_name = entry.file_name();
        let Some(name) = file_name.to_str() else {
            continue;
        };
        let Some(rest) = name.strip_prefix(PREFIX) else {
            continue;
        };
        if rest.ends_with(".tmp") {
            let path = entry.path();
            std::fs::remove_file(&path).map_err(|e| Error::io("remove", &path, e))?;
            continue;
        }
        let Ok(n) = rest.parse::<u64>() else { continue };
        if best.as_ref().is_none_or(|(b, _)| n > *b) {
            best = Some((n, entry.path()));
        }
    }
    Ok(best)
}

/// Writes the head's series, chunks and metadata as the checkpoint covering segments up
/// to `n`, then deletes those segments and older checkpoints.
///
/// The caller guarantees that every record of segments `..= n` is reflected in the head
/// or in a block that is already durable.
///
/// `closing`: nothing is appended after this checkpoint, so series without samples
/// (left by the head's move into blocks at close, which skips dropping them) are not
/// written: no later WAL record can refer to them.
pub(crate) fn write(
    dir: &Path,
    n: u64,
    head: &Head,
    closing: bool,
) -> Result<CheckpointStats, Error> {
    let final_path = dir.join(name(n));
    let tmp = dir.join(format!("{}.tmp", name(n)));
    let file = OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(&tmp)
        .map_err(|e| Error::io("create checkpoint", &tmp, e))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let io = |e| Error::io("write checkpoint", &tmp, e);
    out.write_all(&segment_header()).map_err(io)?;
    let mut stats = CheckpointStats::default();
    // In id order: replay then appends each id to the end of its postings lists. In the
    // map's order every restored id was inserted mid-list (O(n) each), which made a
    // checkpointed restart quadratic in the series per label value.
    let mut series = head.all_series();
    if closing {
        series.retain(|s| !s.is_empty());
    }
    series.sort_unstable_by_key(|s| s.id);
    let mut buf = Vec::with_capacity(SOFT_RECORD_BYTES + 4096);
    // Each batch's chunks right after its series: replay knows the series a chunk belongs
    // to, and restores one batch's chunks (worker threads) while it creates the next
    // batch's series (the reading thread) instead of one after the other.
    let mut pending: Vec<(u64, Vec<XorChunk>)> = Vec::new();
    for batch in series.chunks(4096) {
        let refs: Vec<&MemSeries> = batch.iter().map(|s| &**s).collect();
        buf.clear();
        frame_series(&mut buf, head.symbols(), &refs);
        out.write_all(&buf).map_err(io)?;
        stats.series += batch.len() as u64;
        let mut size = 0;
        for s in batch {
            let chunks = s.chunk_copies();
            if chunks.is_empty() {
                continue;
            }
            stats.chunks += chunks.len() as u64;
            size += 12 + chunks.iter().map(|c| c.byte_size() + 25).sum::<usize>();
            pending.push((s.id, chunks));
            if size > SOFT_RECORD_BYTES {
                flush_chunks(&mut out, &mut buf, &mut pending, &tmp)?;
                size = 0;
            }
        }
        flush_chunks(&mut out, &mut buf, &mut pending, &tmp)?;
    }
    let metadata = head.metadata(None, 0);
    for part in metadata.chunks(4096) {
        buf.clear();
        frame_with(&mut buf, |b| record::encode_metadata(b, part));
        out.write_all(&buf).map_err(io)?;
    }
    let file = out.into_inner().map_err(|e| io(e.into_error()))?;
    file.sync_all()
        .map_err(|e| Error::io("fsync checkpoint", &tmp, e))?;
    stats.bytes = file
        .metadata()
        .map_err(|e| Error::io("stat checkpoint", &tmp, e))?
        .len();
    drop(file);
    std::fs::rename(&tmp, &final_path)
        .map_err(|e| Error::io("rename checkpoint into place", &final_path, e))?;
    sync_dir(dir).map_err(|e| Error::io("fsync directory", dir, e))?;
    remove_covered(dir, n)?;
    Ok(stats)
}

/// Deletes segments `..= n` and checkpoints older than `n`.
fn remove_covered(dir: &Path, n: u64) -> Result<(), Error> {
    for index in super::list_segments(dir)? {
        if index <= n {
            let path = dir.join(segment_name(index));
            std::fs::remove_file(&path).map_err(|e| Error::io("remove WAL segment", &path, e))?;
        }
    }
    let rd = std::fs::read_dir(dir).map_err(|e| Error::io("list WAL directory", dir, e))?;
    for entry in rd {
        let entry = entry.map_err(|e| Error::io("list WAL directory", dir, e))?;
        let file_name = entry.file_name();
        let old = file_name
            .to_str()
            .and_then(|f| f.strip_prefix(PREFIX))
            .and_then(|r| r.parse::<u64>().ok())
            .is_some_and(|c| c < n);
        if old {
            let path = entry.path();
            std::fs::remove_file(&path).map_err(|e| Error::io("remove checkpoint", &path, e))?;
        }
    }
    sync_dir(dir).map_err(|e| Error::io("fsync directory", dir, e))
}

fn flush_chunks(
    out: &mut BufWriter<File>,
    buf: &mut Vec<u8>,
    pending: &mut Vec<(u64, Vec<XorChunk>)>,
    path: &Path,
) -> Result<(), Error> {
    if pending.is_empty() {
        return Ok(());
    }
    buf.clear();
    frame_with(buf, |b| {
        record::encode_chunks(b, pending.iter().map(|(id, c)| (*id, &c[..])))
    });
    pending.clear();
    out.write_all(buf)
        .map_err(|e| Error::io("write checkpoint", path, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wal::reader::read_segment;
    use crate::wal::record::Record;
    use model::Labels;

    #[test]
    fn a_checkpoint_is_due_past_a_quarter_of_the_head_or_64_per_series_or_the_floor() {
        let floor = 8_000_000;
        assert!(!due(floor, 0, 0, floor));
        assert!(due(floor + 1, 0, 0, floor));
        // A short head (120 samples per series): a quarter of it.
        let (series, head) = (1_000_000, 120_000_000);
        assert!(!due(head / 4, head, series, floor));
        assert!(due(head / 4 + 1, head, series, floor));
        // A long one (720 per series): 64 per series.
        let head = 720_000_000;
        assert!(!due(64 * series, head, series, floor));
        assert!(due(64 * series + 1, head, series, floor));
    }

    #[test]
    fn series_are_written_in_id_order() {
        let dir = tempfile::tempdir().expect("tempdir");
        let head = Head::new();
        for i in 0..5_000 {
            let l = Labels::from_pairs([("__name__", "m".to_string()), ("i", i.to_string())]);
            head.get_or_create(&l).expect("series");
        }
        write(dir.path(), 0, &head, false).expect("checkpoint");
        let mut ids = Vec::new();
        read_segment(&dir.path().join(name(0)), |rec| {
            if let Record::Series(s) = rec {
                s.for_each(|id, _| ids.push(id));
            }
        })
        .expect("reads");
        assert_eq!(ids.len(), 5_000);
        // Replay appends each id to its postings lists instead of inserting mid-list.
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids out of order");
    }
}
