//! What can go wrong: applying a configuration, pushing one batch.

use std::time::Duration;

/// A configuration the notifier cannot use; the previous one stays in force.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotifierError {
    /// The HTTP client of an `alertmanagers` entry cannot be built (TLS files, names...).
    #[error("alerting.alertmanagers[{index}]: building the HTTP client: {message}")]
    Client {
        /// The entry's index in `alertmanagers`.
        index: usize,
        /// Why.
        message: String,
    },
}

/// Why one push to one Alertmanager failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// No answer: connection refused, reset, DNS, TLS...
    #[error("{0}")]
    Http(String),
    /// An answer other than 2xx.
    #[error("bad response status {status}: {body}")]
    Status {
        /// Code and reason, e.g. `400 Bad Request`.
        status: String,
        /// The start of the response body.
        body: String,
    },
    /// No complete answer within the set's `timeout`.
    #[error("no response within {0:?}")]
    Timeout(Duration),
    /// A credentials file could not be read.
    #[error("reading {what} file {path}: {message}")]
    CredentialsFile {
        /// Which credential.
        what: &'static str,
        /// The file.
        path: String,
        /// The operating system's reason.
        message: String,
    },
}
