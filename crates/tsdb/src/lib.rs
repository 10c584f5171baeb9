//! The embedded time-series database, first cut: an in-memory head (series, samples,
//! inverted index, metadata) made durable by a write-ahead log.
//!
//! - [`Db`]: open (replays the WAL), [`Db::stats`], [`Db::close`]; implements
//!   [`storage::Appendable`] (in `appender`) and [`storage::Queryable`] (in `querier`).
//! - [`Options`] / [`FsyncPolicy`]: durability and out-of-order window.
//! - [`chunk`]: compressed chunks of samples (Gorilla-style XOR encoding).
//! - `head`: series keyed by labels, interned strings, postings, samples in chunks.
//! - `turnstile`: commits become visible in WAL order while their fsyncs are grouped.
//! - `wal`: segment files of length+crc32c framed records (format in FORMAT.md).
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
mod querier;
mod replay;
mod turnstile;
mod wal;

pub use compact::MaintenanceReport;
pub use db::Db;
pub use error::Error;
pub use head::Stats;
pub use options::{
    DEFAULT_BLOCK_RANGE_MS, DEFAULT_OUT_OF_ORDER_WINDOW_MS, DEFAULT_RETENTION_MS,
    DEFAULT_WAL_SEGMENT_SIZE, FsyncPolicy, Options,
};

#[cfg(test)]
mod tests {
    #[test]
    fn db_can_be_shared_across_threads() {
        fn shared<T: Send + Sync + 'static>() {}
        shared::<crate::Db>();
    }
}
