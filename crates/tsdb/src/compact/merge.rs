//! Merging blocks: blocks that lie in one window of a larger range (or in one block
//! range window, after a restart or late samples) become one block. Series are merged in
//! label order from every source at once; samples at one timestamp in several sources
//! are kept once.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use model::Labels;

use super::encode;
use crate::Error;
use crate::block::{Block, BlockSeries, BlockWriter};
use crate::db::Inner;

/// Merges one group of blocks if one is due; returns whether it did. A group whose merge
/// finds damage is reported and not planned again until restart.
pub(crate) fn merge_one(inner: &Inner) -> Result<bool, Error> {
    let blocks = inner.persisted().blocks.clone();
    let ranges = super::ranges(inner.opts.block_range_ms, inner.opts.retention_ms);
    let until = inner.compacted_until.load(Ordering::Acquire);
    let skip = inner.unmergeable.lock().clone();
    let Some(group) = plan(&blocks, &ranges, until, |b| skip.contains(&b.meta().id)) else {
        return Ok(false);
    };
    let merged = match merge(inner, &group) {
        Ok(merged) => merged,
        Err(e) => {
            if matches!(e, Error::Corrupt { .. }) {
                let ids = group.iter().map(|b| b.meta().id.clone());
                inner.unmergeable.lock().extend(ids);
            }
            return Err(e);
        }
    };
    let m = merged.meta();
    tracing::info!(
        block = %m.id,
        level = m.level,
        sources = group.len(),
        min_t = m.min_t,
        max_t = m.max_t,
        series = m.stats.series,
        samples = m.stats.samples,
        bytes = merged.size_bytes(),
        "merged blocks"
    );
    inner.publish(vec![merged], &group, None);
    Ok(true)
}

/// The first group of two or more blocks that fit in one window of some range and whose
/// window ends at or before `until` (no more in-order data can arrive for it), and none
/// of which is to be `skip`ped.
pub(crate) fn plan(
    blocks: &[Arc<Block>],
    ranges: &[i64],
    until: i64,
    skip: impl Fn(&Block) -> bool,
) -> Option<Vec<Arc<Block>>> {
    let due = |group: &[Arc<Block>], window, w| {
        group.len() >= 2 && done(window, w, until) && !group.iter().any(|b| skip(b))
    };
    for &w in ranges {
        let mut group: Vec<Arc<Block>> = Vec::new();
        let mut window = None;
        // Blocks are sorted by min_t, so a window's blocks are adjacent.
        for b in blocks {
            let m = b.meta();
            let (lo, hi) = (m.min_t.div_euclid(w), m.max_t.div_euclid(w));
            if lo != hi {
                // Wider than this range: not part of any of its windows.
                continue;
            }
            if window != Some(lo) {
                if due(&group, window, w) {
                    return Some(group);
                }
                group.clear();
                window = Some(lo);
            }
            group.push(Arc::clone(b));
        }
        if due(&group, window, w) {
            return Some(group);
        }
    }
    None
}

fn done(window: Option<i64>, w: i64, until: i64) -> bool {
    window.is_some_and(|k| (k + 1).saturating_mul(w) <= until)
}

/// Writes the union of `group` as one block and opens it.
fn merge(inner: &Inner, group: &[Arc<Block>]) -> Result<Arc<Block>, Error> {
    let level = group.iter().map(|b| b.meta().level).max().unwrap_or(0) + 1;
    let mut sources: Vec<String> = group
        .iter()
        .flat_map(|b| b.meta().sources.iter().cloned())
        .collect();
    sources.sort();
    sources.dedup();
    let mut writer = BlockWriter::create(&inner.blocks_dir, level, sources)?;
    let mut iters: Vec<_> = group.iter().map(|b| b.series_iter().peekable()).collect();
    loop {
        // The smallest label set at the front of any source.
        let mut next: Option<Labels> = None;
        for it in iters.iter_mut() {
            match it.peek() {
                Some(Ok(s)) if next.as_ref().is_none_or(|n| s.labels < *n) => {
                    next = Some(s.labels.clone());
                }
                Some(Err(_)) => {
                    if let Some(Err(e)) = it.next() {
                        return Err(e);
                    }
                }
                _ => {}
            }
        }
        let Some(labels) = next else { break };
        let mut runs = Vec::new();
        for (b, it) in group.iter().zip(iters.iter_mut()) {
            if it
                .peek()
                .is_some_and(|s| s.as_ref().is_ok_and(|s| s.labels == labels))
                && let Some(Ok(s)) = it.next()
            {
                runs.push(samples_of(b, &s)?);
            }
        }
        let samples = encode::merge(runs);
        if samples.is_empty() {
            continue;
        }
        let chunks = encode::encode(&samples);
        let inputs: Vec<_> = chunks.iter().map(encode::EncodedChunk::input).collect();
        writer.add_series(&labels, &inputs)?;
    }
    let meta = writer
        .finish()?
        .ok_or_else(|| Error::corrupt(&inner.blocks_dir, 0, "merged blocks hold no series"))?;
    Ok(Arc::new(Block::open(&inner.blocks_dir.join(&meta.id))?))
}

/// Every sample of `series` in block `b`.
fn samples_of(b: &Block, series: &BlockSeries) -> Result<Vec<model::Sample>, Error> {
    let mut out = Vec::new();
    for c in &series.chunks {
        b.decode_chunk(c, &mut out)?;
    }
    // Chunks are sorted and disjoint; a merge keeps duplicates out of later blocks.
    Ok(out)
}
