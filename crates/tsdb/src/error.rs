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
    /// The background fsync thread could not be started.
    #[error("tsdb: cannot start the WAL fsync thread: {0}")]
    Thread(#[source] std::io::Error),
}

impl Error {
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
