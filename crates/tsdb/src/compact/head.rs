//! Head compaction: samples older than a boundary leave the head for level-1 blocks.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use model::{Sample, Timestamp};

use super::encode;
use crate::Error;
use crate::block::{Block, BlockWriter};
use crate::db::Inner;
use crate::head::series::MemSeries;
use crate::persisted::Pending;

/// Moves every head sample older than `before` into level-1 blocks, one per block-range
/// window it falls in, and publishes them; returns how many blocks were written. The
/// caller holds the compaction lock.
///
/// Readers never miss a sample: each series hands its old chunks to a pending set while
/// locked, the pending set is visible to readers until the blocks replace it. If writing
/// fails, the samples go back into the head.
pub(crate) fn persist_head(inner: &Inner, before: Timestamp) -> Result<usize, Error> {
    let pending = Arc::new(Pending::default());
    inner.set_pending(Some(Arc::clone(&pending)));
    // From here on appends before `before` also check the persisted data for duplicates.
    let until_before = inner.compacted_until.fetch_max(before, Ordering::AcqRel);
    inner.head.begin_removal();
    let series = inner.head.series_by_labels();
    let mut removed = 0u64;
    let mut oldest_left: Option<Timestamp> = None;
    for s in &series {
        let left = s.take_before(before, inner.head.chunk_files(), |chunks| {
            if !chunks.is_empty() {
                removed += chunks.iter().map(|c| c.len() as u64).sum::<u64>();
                pending.insert(s.id, chunks);
            }
        });
        oldest_left = oldest_left.into_iter().chain(left).min();
    }
    inner.head.samples_removed(removed, oldest_left);
    let written = write_windows(inner, &series, &pending);
    // Our references would keep every series alive through the collection below.
    drop(series);
    let blocks = match written {
        Ok(blocks) => blocks,
        Err(e) => {
            // Nothing is lost: the samples return to the head (and are still in the WAL).
            let mut back = 0u64;
            for id in pending.ids() {
                if let Some(s) = inner.head.series_by_id(id) {
                    let samples = pending.all_samples(id);
                    back += samples.len() as u64;
                    inner.head.apply(&s, &samples);
                }
            }
            inner.set_pending(None);
            // No block holds those times after all (only compactions change it, one at a
            // time), so appends there need not ask the blocks.
            inner.compacted_until.store(until_before, Ordering::Release);
            tracing::error!(error = %e, samples = back, "writing a block from the head failed; samples kept in the head");
            return Err(e);
        }
    };
    let n = blocks.len();
    for b in &blocks {
        tracing::info!(
            block = %b.meta().id,
            min_t = b.meta().min_t,
            max_t = b.meta().max_t,
            series = b.meta().stats.series,
            samples = b.meta().stats.samples,
            bytes = b.size_bytes(),
            "wrote block from the head"
        );
    }
    inner.publish(blocks, &[], None);
    if inner.closed.load(Ordering::Acquire) {
        // Closing: the head goes with the process, and taking every series out of the
        // index one by one was a fifth of a graceful stop.
        return Ok(n);
    }
    let dropped = inner.head.gc();
    if dropped > 0 {
        tracing::debug!(
            series = dropped,
            "dropped series with no samples left in the head"
        );
    }
    Ok(n)
}

/// Series encoded per round; a round's series are split among the threads.
const ENCODE_BATCH: usize = 2048;

/// One series' pending samples, encoded per block window: (window, chunks).
type EncodedWindows = Vec<(i64, Vec<encode::EncodedChunk>)>;

/// Writes the pending samples of `series` (sorted by labels) into one block per window.
/// Decoding and encoding (most of the work) run on every core, writing in label order on
/// this thread.
fn write_windows(
    inner: &Inner,
    series: &[Arc<MemSeries>],
    pending: &Pending,
) -> Result<Vec<Arc<Block>>, Error> {
    let r = inner.opts.block_range_ms;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    let mut writers: BTreeMap<i64, BlockWriter> = BTreeMap::new();
    for batch in series.chunks(ENCODE_BATCH) {
        let encoded = encode_batch(batch, pending, r, threads);
        for (s, windows) in batch.iter().zip(encoded) {
            if windows.is_empty() {
                continue;
            }
            let labels = s.to_labels(inner.head.symbols());
            for (w, chunks) in windows {
                let writer = match writers.entry(w) {
                    std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
                    std::collections::btree_map::Entry::Vacant(e) => {
                        e.insert(BlockWriter::create(&inner.blocks_dir, 1, Vec::new())?)
                    }
                };
                let inputs: Vec<_> = chunks.iter().map(encode::EncodedChunk::input).collect();
                writer.add_series(&labels, &inputs)?;
            }
        }
    }
    let mut out = Vec::new();
    for (_, w) in writers {
        if let Some(meta) = w.finish()? {
            out.push(Arc::new(Block::open(&inner.blocks_dir.join(&meta.id))?));
        }
    }
    Ok(out)
}

/// Each series' pending samples cut at window edges and encoded, in `batch` order, on up
/// to `threads` threads (this one included).
fn encode_batch(
    batch: &[Arc<MemSeries>],
    pending: &Pending,
    r: i64,
    threads: usize,
) -> Vec<EncodedWindows> {
    let encode_one = |s: &Arc<MemSeries>| -> EncodedWindows {
        let samples = pending.all_samples(s.id);
        split_by_window(&samples, r)
            .into_iter()
            .map(|part| (part[0].t.div_euclid(r), encode::encode(part)))
            .collect()
    };
    let per = batch.len().div_ceil(threads.max(1)).max(64);
    let mut parts = batch.chunks(per);
    let Some(first) = parts.next() else {
        return Vec::new();
    };
    std::thread::scope(|scope| {
        let others: Vec<_> = parts
            .map(|part| scope.spawn(move || part.iter().map(encode_one).collect::<Vec<_>>()))
            .collect();
        let mut out: Vec<EncodedWindows> = first.iter().map(encode_one).collect();
        for h in others {
            // A panic in an encoder is a bug: carry it to this thread as it was.
            out.extend(h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
        }
        out
    })
}

/// Sorted samples cut where they cross a multiple of `r`.
fn split_by_window(samples: &[Sample], r: i64) -> Vec<&[Sample]> {
    let mut out = Vec::new();
    let mut rest = samples;
    while let Some(first) = rest.first() {
        let end = (first.t.div_euclid(r) + 1).saturating_mul(r);
        let cut = rest.partition_point(|s| s.t < end);
        out.push(&rest[..cut]);
        rest = &rest[cut..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_split_at_window_edges() {
        let s: Vec<Sample> = [-5, -1, 0, 9, 10, 25]
            .iter()
            .map(|&t| Sample::new(t, 0.0))
            .collect();
        let parts: Vec<Vec<i64>> = split_by_window(&s, 10)
            .iter()
            .map(|p| p.iter().map(|x| x.t).collect())
            .collect();
        assert_eq!(parts, vec![vec![-5, -1], vec![0, 9], vec![10], vec![25]]);
    }
}
