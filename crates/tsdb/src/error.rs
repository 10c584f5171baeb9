//! Errors of opening, writing and closing the database.

use std::path::PathBuf;

/// What went wrong in the database, and on which file.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An I/O operation on a file or directory failed.
    #[error("tsdb: cannot {op} {path}: {source}")]
    Io {
        /// What was being done ("create directory", "open segment", ...).
        op: &'static str,
        /// The file or directory concerned.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The options cannot work (for example a zero segment size).
    #[error("tsdb: invalid option {name}: {reason}")]
    InvalidOption {
        /// The option's name.
        name: &'static str,
        /// Why it was refused.
        reason: String,
    },
    /// Another process (or another `Db` in this one) has the directory open.
    #[error("tsdb: {path} is locked: another database has this directory open")]
    Locked {
        /// The lock file.
        path: PathBuf,
    },
    /// A file of the database does not hold what its format says: a checksum mismatch, a
    /// truncated section, an impossible value. Names the file and the byte offset.
    #[error("tsdb: {path} is corrupt at byte {offset}: {reason}")]
    Corrupt {
        /// The damaged file.
        path: PathBuf,
        /// Where in the file the damage was found.
        offset: u64,
        /// What was wrong.
        reason: String,
    },
    /// A block writer was handed something a block cannot hold (series out of label
    /// order, chunks unsorted or overlapping); names the series.
    #[error("tsdb: cannot write block: {reason}")]
    BlockWrite {
        /// What was refused, and for which series.
        reason: String,
    },
    /// The background fsync thread could not be started.
    #[error("tsdb: cannot start the WAL fsync thread: {0}")]
    Thread(#[source] std::io::Error),
}

impl Error {
    /// Damage found in `path` at byte `offset`.
    pub(crate) fn corrupt(
        path: impl Into<PathBuf>,
        offset: u64,
        reason: impl Into<String>,
    ) -> Self {
        Error::Corrupt {
            path: path.into(),
            offset,
            reason: reason.into(),
        }
    }

    /// An I/O error on `path` while doing `op`.
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            op,
            path: path.into(),
            source,
        }
    }
}

impl From<Error> for storage::StorageError {
    fn from(e: Error) -> Self {
        match e {
            Error::Io { source, .. } => storage::StorageError::Io(source),
            other => storage::StorageError::Other(other.to_string()),
        }
    }
}
