//! The embedded time-series database, first cut: an in-memory head (series, samples,
//! inverted index, metadata) made durable by a write-ahead log.
//!
//! - [`Db`]: open (replays the WAL), [`Db::stats`], [`Db::close`]; implements
//!   [`storage::Appendable`] (in `appender`) and [`storage::Queryable`] (in `querier`).
//! - [`Options`] / [`FsyncPolicy`]: durability and out-of-order window.
//! - `head`: series keyed by labels, interned strings, postings, samples sorted by time.
//! - `turnstile`: commits become visible in WAL order while their fsyncs are grouped.
//! - `wal`: segment files of length+crc32c framed records (format in FORMAT.md).

mod appender;
mod db;
mod error;
mod head;
mod options;
mod querier;
mod turnstile;
mod wal;

pub use db::Db;
pub use error::Error;
pub use head::Stats;
pub use options::{DEFAULT_OUT_OF_ORDER_WINDOW_MS, DEFAULT_WAL_SEGMENT_SIZE, FsyncPolicy, Options};
