//! Moving data out of the head and keeping the block set in shape:
//!
//! - `head`: head samples older than a boundary become level-1 blocks, one per block
//!   range window (what Prometheus calls head compaction);
//! - `merge`: blocks that share a window of a larger range are merged into one
//!   (vertical and horizontal compaction at once: overlapping samples are deduplicated);
//! - `retention`: blocks past the time or size limit are deleted;
//! - `encode`: the chunk encoding blocks use.
//!
//! [`maintain`] runs one round of all of them plus a WAL checkpoint when it pays.

pub(crate) mod encode;
mod head;
mod merge;
mod retention;

pub(crate) use head::persist_head;

use std::sync::atomic::Ordering;

use model::Timestamp;

use crate::Error;
use crate::db::Inner;
use crate::wal::checkpoint;

/// Most merges one round performs, so a round (and `close` waiting for it) stays short.
const MERGES_PER_ROUND: usize = 8;

/// What one maintenance round did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct MaintenanceReport {
    /// Level-1 blocks written from the head.
    pub head_blocks: usize,
    /// Merges of blocks into larger ones.
    pub merges: usize,
    /// Blocks deleted by retention.
    pub deleted: usize,
    /// Whether a WAL checkpoint was written.
    pub checkpointed: bool,
}

/// One round: head compaction when the head spans 1.5 block ranges, block merges,
/// retention, and a checkpoint when the head was compacted or the WAL has grown.
pub(crate) fn maintain(inner: &Inner) -> Result<MaintenanceReport, Error> {
    let _one_at_a_time = inner.compact_lock.lock();
    let mut report = MaintenanceReport::default();
    if let Some(before) = head_boundary(inner) {
        report.head_blocks = persist_head(inner, before)?;
    }
    let mut merge_failed = None;
    for _ in 0..MERGES_PER_ROUND {
        match merge::merge_one(inner) {
            Ok(true) => report.merges += 1,
            Ok(false) => break,
            Err(e) => {
                // Logged here: retention or the checkpoint below may fail too, and only
                // one error goes back.
                tracing::error!(error = %e, "merging blocks failed");
                // A damaged group is not planned again (`merge_one`): the others go on.
                let damaged = matches!(e, Error::Corrupt { .. });
                merge_failed = Some(e);
                if !damaged {
                    break;
                }
            }
        }
    }
    // Either way: a failing merge must not keep old data, or the WAL, from being cleaned.
    report.deleted = retention::apply(inner)?;
    if report.head_blocks > 0 || checkpoint_due(inner) {
        inner.checkpoint()?;
        report.checkpointed = true;
    }
    merge_failed.map_or(Ok(report), Err)
}

/// A checkpoint alone, when the WAL past the last one is due for one (checked between
/// maintenance rounds). Returns whether one was written.
pub(crate) fn checkpoint_if_due(inner: &Inner) -> Result<bool, Error> {
    if !checkpoint_due(inner) {
        return Ok(false);
    }
    let _one_at_a_time = inner.compact_lock.lock();
    // A round may have written one while this waited for the lock.
    if !checkpoint_due(inner) {
        return Ok(false);
    }
    inner.checkpoint()?;
    Ok(true)
}

/// Whether the checkpoint policy calls for a checkpoint now.
fn checkpoint_due(inner: &Inner) -> bool {
    let tail = inner.logged_work.load(Ordering::Relaxed);
    let stats = inner.head.stats();
    checkpoint::due(
        tail,
        stats.samples,
        stats.series,
        inner.opts.checkpoint_min_tail,
    )
}

/// The boundary below which head samples go to blocks: the newest block-range boundary
/// that lies half a range behind the newest sample, if the head has samples before it.
fn head_boundary(inner: &Inner) -> Option<Timestamp> {
    let stats = inner.head.stats();
    let (min, max) = (stats.min_time?, stats.max_time?);
    let r = inner.opts.block_range_ms;
    let before = (max - r / 2).div_euclid(r) * r;
    (before > min).then_some(before)
}

/// The window sizes blocks are merged into: the block range times 1, 3, 9, ... up to a
/// tenth of the retention time (at most 31 days), as Prometheus sizes its levels.
pub(crate) fn ranges(block_range_ms: i64, retention_ms: i64) -> Vec<i64> {
    const MAX_MS: i64 = 31 * 24 * 60 * 60 * 1000;
    let cap = if retention_ms > 0 {
        (retention_ms / 10).min(MAX_MS)
    } else {
        MAX_MS
    };
    let mut out = vec![block_range_ms];
    let mut w = block_range_ms;
    while let Some(next) = w.checked_mul(3) {
        if next > cap {
            break;
        }
        out.push(next);
        w = next;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_grow_by_three_up_to_a_tenth_of_retention() {
        let h = 3_600_000 * 2;
        assert_eq!(ranges(h, 15 * 24 * 3_600_000), vec![h, 3 * h, 9 * h]);
        assert_eq!(ranges(h, 0).len(), 6); // 2h .. 486h, under 31 days
        assert_eq!(ranges(h, h), vec![h]);
    }
}
