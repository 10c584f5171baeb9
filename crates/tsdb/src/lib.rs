//! The embedded time-series database: an in-memory head made durable by a write-ahead
//! log, persisted blocks that old data moves into, and the maintenance that keeps both in
//! shape. Formats and the data path: FORMAT.md.
//!
//! - [`Db`]: open (blocks, checkpoint, WAL), [`Db::compact`], [`Db::close`]; implements
//!   [`storage::Appendable`] (in `appender`) and [`storage::Queryable`] (in `querier`,
//!   which reads head, in-flight chunks and blocks).
//! - [`Options`] / [`FsyncPolicy`]: durability, out-of-order window, block range,
//!   retention, query sample budget.
//! - [`chunk`]: XOR chunks (the head's) and cold chunks (the blocks').
//! - `head`: series keyed by labels, interned strings, postings, samples in chunks.
//! - `prefetch`: the cache hint the ingestion path gives ahead of its misses.
//! - `turnstile`: commits become visible in WAL order while their fsyncs are grouped.
//! - `wal`: segments of framed records, and checkpoints of the head; `replay` reads them.
//! - [`block`]: immutable block directories (meta.json, index, chunks) read through mmap.
//! - `compact`: head compaction into blocks, merges, retention; `persisted` is what
//!   readers see of the blocks.
//!
//! ```
//! use std::sync::Arc;
//! use model::{Labels, Matcher};
//! use storage::{Appendable, Queryable, SelectHints, WriteIdentity};
//!
//! let dir = tempfile::tempdir()?;
//! let db = Arc::new(tsdb::Db::open(dir.path(), tsdb::Options::default())?);
//! let mut app = db.appender(&WriteIdentity::Anonymous);
//! app.append(&Labels::from_pairs([("__name__", "up"), ("job", "node")]), 1_000, 1.0)?;
//! app.commit()?; // durable (written to the WAL) and visible from here on
//! let q = db.querier(0, 2_000)?;
//! let series = q.select(&SelectHints::default(), &[Matcher::equal("job", "node")])?;
//! assert_eq!(series[0].samples.len(), 1);
//! db.close()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod appender;
pub mod block;
pub mod chunk;
mod compact;
mod db;
mod error;
mod head;
mod options;
mod persisted;
mod postings;
mod prefetch;
mod querier;
mod replay;
mod turnstile;
mod wal;

pub use compact::MaintenanceReport;
pub use db::Db;
pub use error::Error;
pub use head::Stats;
pub use options::{
    DEFAULT_BLOCK_RANGE_MS, DEFAULT_CHECKPOINT_MIN_TAIL, DEFAULT_OUT_OF_ORDER_WINDOW_MS,
    DEFAULT_RETENTION_MS, DEFAULT_WAL_SEGMENT_SIZE, FsyncPolicy, Options,
};

#[cfg(test)]
mod tests {
    #[test]
    fn db_can_be_shared_across_threads() {
        fn shared<T: Send + Sync + 'static>() {}
        shared::<crate::Db>();
    }
}
