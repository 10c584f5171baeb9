//! How the database is tuned: durability policy, WAL segment size, out-of-order window.

use std::time::Duration;

/// When the write-ahead log is flushed to stable storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FsyncPolicy {
    /// Every commit is fsynced before it returns: survives power loss, costs a disk flush per commit.
    Always,
    /// A background thread fsyncs this often. A commit is written to the kernel before it
    /// returns, so it survives the process being killed; power loss can lose the last interval.
    Interval(Duration),
}

impl Default for FsyncPolicy {
    fn default() -> Self {
        FsyncPolicy::Interval(Duration::from_secs(1))
    }
}

/// Options of [`crate::Db::open`].
#[derive(Debug, Clone)]
pub struct Options {
    /// When the WAL is fsynced. Default: every second.
    pub fsync: FsyncPolicy,
    /// A WAL segment is cut once it would grow past this many bytes. Default: 128 MiB.
    pub wal_segment_size: u64,
    /// How far behind the newest sample in the head a sample may be and still be accepted,
    /// in milliseconds. Default: 24 hours, because agents replay hours of queued data after
    /// a hub outage and those samples must not be refused as out of bounds.
    pub out_of_order_window_ms: i64,
    /// Time range of a block cut from the head, in milliseconds; the head is compacted
    /// once it spans one and a half of these. Default: 2 hours, as Prometheus.
    pub block_range_ms: i64,
    /// Blocks whose newest sample is older than this (behind the newest sample stored)
    /// are deleted; 0 keeps them forever. Default: 15 days, as Prometheus's
    /// `--storage.tsdb.retention.time`.
    pub retention_ms: i64,
    /// Oldest blocks are deleted while blocks, WAL and checkpoint together take more
    /// bytes than this; 0 = no limit (the default), as `--storage.tsdb.retention.size`.
    pub retention_bytes: u64,
    /// How often the background thread looks for head compaction, block merges,
    /// retention and checkpoints. Default: one minute; `None` runs none (tests call
    /// `Db::compact` themselves).
    pub maintenance_interval: Option<Duration>,
    /// On `close`, write the whole head into blocks so that a restart replays no WAL and
    /// the head's samples are stored in the compact block encoding. Default: true.
    pub persist_head_on_close: bool,
    /// Least replay work (samples, a series counting 32) the WAL past the last checkpoint
    /// must hold before the checkpoint policy asks for a new one. Default: 8 million,
    /// about half a second to a second of replay; below it a checkpoint is not worth its
    /// write (FORMAT.md, "Checkpoints").
    pub checkpoint_min_tail: u64,
    /// Most samples one `select` may load; a query that needs more fails instead of
    /// making the process allocate without bound. Default: 50 million, as Prometheus's
    /// `--query.max-samples`.
    pub max_samples_per_select: usize,
}

/// 2 hours in milliseconds.
pub const DEFAULT_BLOCK_RANGE_MS: i64 = 2 * 60 * 60 * 1000;

/// 15 days in milliseconds.
pub const DEFAULT_RETENTION_MS: i64 = 15 * 24 * 60 * 60 * 1000;

/// 24 hours in milliseconds.
pub const DEFAULT_OUT_OF_ORDER_WINDOW_MS: i64 = 24 * 60 * 60 * 1000;

/// 8 million samples' worth of replay.
pub const DEFAULT_CHECKPOINT_MIN_TAIL: u64 = 8_000_000;

/// 128 MiB.
pub const DEFAULT_WAL_SEGMENT_SIZE: u64 = 128 << 20;

impl Default for Options {
    fn default() -> Self {
        Options {
            fsync: FsyncPolicy::default(),
            wal_segment_size: DEFAULT_WAL_SEGMENT_SIZE,
            out_of_order_window_ms: DEFAULT_OUT_OF_ORDER_WINDOW_MS,
            block_range_ms: DEFAULT_BLOCK_RANGE_MS,
            retention_ms: DEFAULT_RETENTION_MS,
            retention_bytes: 0,
            maintenance_interval: Some(Duration::from_secs(60)),
            persist_head_on_close: true,
            checkpoint_min_tail: DEFAULT_CHECKPOINT_MIN_TAIL,
            max_samples_per_select: 50_000_000,
        }
    }
}

impl Options {
    /// Refuses options that cannot work.
    pub(crate) fn validate(&self) -> Result<(), crate::Error> {
        if self.wal_segment_size < 4096 {
            return Err(crate::Error::InvalidOption {
                name: "wal_segment_size",
                reason: format!(
                    "{} bytes is below the minimum of 4096",
                    self.wal_segment_size
                ),
            });
        }
        if self.out_of_order_window_ms < 0 {
            return Err(crate::Error::InvalidOption {
                name: "out_of_order_window_ms",
                reason: format!("{} is negative", self.out_of_order_window_ms),
            });
        }
        if self.block_range_ms < 1 {
            return Err(crate::Error::InvalidOption {
                name: "block_range_ms",
                reason: format!("{} ms is not positive", self.block_range_ms),
            });
        }
        if self.retention_ms < 0 {
            return Err(crate::Error::InvalidOption {
                name: "retention_ms",
                reason: format!("{} is negative", self.retention_ms),
            });
        }
        if self.maintenance_interval.is_some_and(|d| d.is_zero()) {
            return Err(crate::Error::InvalidOption {
                name: "maintenance_interval",
                reason: "zero; use None to run no background maintenance".to_string(),
            });
        }
        if let FsyncPolicy::Interval(d) = self.fsync
            && d.is_zero()
        {
            return Err(crate::Error::InvalidOption {
                name: "fsync",
                reason: "the fsync interval is zero; use FsyncPolicy::Always".to_string(),
            });
        }
        Ok(())
    }
}
