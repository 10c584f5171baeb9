//! Retention: blocks whose data is older than the time limit, and the oldest blocks while
//! the database takes more than the size limit, are deleted.

use std::sync::Arc;

use crate::Error;
use crate::block::Block;
use crate::db::Inner;

/// Deletes expired blocks; returns how many.
pub(crate) fn apply(inner: &Inner) -> Result<usize, Error> {
    let persisted = inner.persisted();
    let newest = persisted
        .max_time()
        .max(inner.head.stats().max_time)
        .unwrap_or(i64::MIN);
    let other = inner.wal_bytes();
    let doomed = expired(
        &persisted.blocks,
        newest,
        inner.opts.retention_ms,
        inner.opts.retention_bytes,
        other,
    );
    drop(persisted);
    if doomed.is_empty() {
        return Ok(0);
    }
    for b in &doomed {
        tracing::info!(
            block = %b.meta().id,
            min_t = b.meta().min_t,
            max_t = b.meta().max_t,
            bytes = b.size_bytes(),
            "deleting block past retention"
        );
    }
    inner.publish(Vec::new(), &doomed, None);
    Ok(doomed.len())
}

/// Blocks past `retention_ms` behind `newest` (0 = no time limit), then the oldest of the
/// rest while they and `other_bytes` exceed `retention_bytes` (0 = no size limit).
/// `blocks` is sorted by oldest sample.
pub(crate) fn expired(
    blocks: &[Arc<Block>],
    newest: i64,
    retention_ms: i64,
    retention_bytes: u64,
    other_bytes: u64,
) -> Vec<Arc<Block>> {
    let mut out = Vec::new();
    let mut kept = Vec::new();
    for b in blocks {
        if retention_ms > 0 && b.meta().max_t < newest.saturating_sub(retention_ms) {
            out.push(Arc::clone(b));
        } else {
            kept.push(b);
        }
    }
    if retention_bytes > 0 {
        let mut total: u64 = other_bytes + kept.iter().map(|b| b.size_bytes()).sum::<u64>();
        for b in kept {
            if total <= retention_bytes {
                break;
            }
            total = total.saturating_sub(b.size_bytes());
            out.push(Arc::clone(b));
        }
    }
    out
}
