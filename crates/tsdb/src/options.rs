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
}

/// 24 hours in milliseconds.
pub const DEFAULT_OUT_OF_ORDER_WINDOW_MS: i64 = 24 * 60 * 60 * 1000;

/// 128 MiB.
pub const DEFAULT_WAL_SEGMENT_SIZE: u64 = 128 << 20;

impl Default for Options {
    fn default() -> Self {
        Options {
            fsync: FsyncPolicy::default(),
            wal_segment_size: DEFAULT_WAL_SEGMENT_SIZE,
            out_of_order_window_ms: DEFAULT_OUT_OF_ORDER_WINDOW_MS,
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
