//! Errors: building a client, and why a scrape failed (shown as the target's last error).

use std::time::Duration;

/// A scrape configuration's HTTP client cannot be built.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ClientError {
    /// A file named in the configuration cannot be read or holds no usable content.
    #[error("{path}: {message}")]
    File {
        /// The file (or the inline config key).
        path: String,
        /// What was wrong.
        message: String,
    },
    /// The TLS settings cannot be used.
    #[error("tls_config: {0}")]
    Tls(String),
    /// The HTTP client library refused the settings.
    #[error("building HTTP client: {0}")]
    Build(String),
}

/// Why one scrape failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ScrapeError {
    /// The job's HTTP client could not be built.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// A credentials file could not be read at scrape time.
    #[error("unable to read {what} file {path}: {message}")]
    CredentialsFile {
        /// Which credential (`authorization credentials`, `basic auth password`...).
        what: &'static str,
        /// The file.
        path: String,
        /// The I/O error.
        message: String,
    },
    /// The request failed (connection, TLS, protocol).
    #[error("Get {url:?}: {message}")]
    Http {
        /// The scrape URL.
        url: String,
        /// What happened.
        message: String,
    },
    /// The scrape took longer than its timeout.
    #[error("Get {url:?}: context deadline exceeded (scrape timeout {timeout:?})")]
    Timeout {
        /// The scrape URL.
        url: String,
        /// The timeout.
        timeout: Duration,
    },
    /// The target answered with a non-2xx status.
    #[error("server returned HTTP status {0}")]
    Status(String),
    /// The (decompressed) body reached `body_size_limit` bytes (Prometheus's wording).
    #[error("body size limit exceeded")]
    BodySizeLimit(u64),
    /// The page does not parse.
    #[error("{0}")]
    Parse(#[from] exposition::ParseError),
    /// More samples than `sample_limit` after metric relabelling (Prometheus's wording).
    #[error("sample limit exceeded")]
    SampleLimit(u64),
    /// A series has more labels than `label_limit`.
    #[error(
        "label_limit exceeded (metric: {metric:.50}, number of labels: {count}, limit: {limit})"
    )]
    LabelLimit {
        /// The series' metric name.
        metric: String,
        /// Its number of labels.
        count: usize,
        /// The limit.
        limit: u64,
    },
    /// A label name is longer than `label_name_length_limit`.
    #[error(
        "label_name_length_limit exceeded (metric: {metric:.50}, label name: {name:.50}, length: {len}, limit: {limit})"
    )]
    LabelNameLength {
        /// The series' metric name.
        metric: String,
        /// The label name.
        name: String,
        /// Its length in bytes.
        len: usize,
        /// The limit.
        limit: u64,
    },
    /// A label value is longer than `label_value_length_limit`.
    #[error(
        "label_value_length_limit exceeded (metric: {metric:.50}, label name: {name:.50}, value: {:?}, length: {len}, limit: {limit})",
        truncate_chars(value, 50)
    )]
    LabelValueLength {
        /// The series' metric name.
        metric: String,
        /// The label name.
        name: String,
        /// The value.
        value: String,
        /// Its length in bytes.
        len: usize,
        /// The limit.
        limit: u64,
    },
    /// A series lost its metric name to relabelling.
    #[error("missing metric name (__name__ label)")]
    NameMissing,
    /// The job has more targets than `target_limit`.
    #[error("target_limit exceeded (number of targets: {count}, limit: {limit})")]
    TargetLimit {
        /// Targets of the job.
        count: usize,
        /// The limit.
        limit: u64,
    },
    /// The store refused the batch.
    #[error("storage: {0}")]
    Storage(String),
}

/// The first `n` characters of `s`, as Go's `%.50q` cuts a value before quoting it.
fn truncate_chars(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_follow_prometheus() {
        let e = ScrapeError::LabelValueLength {
            metric: "m".into(),
            name: "l".into(),
            value: "a\"b".repeat(30),
            len: 90,
            limit: 10,
        };
        let want_value = format!(
            "{:?}",
            "a\"b".repeat(30).chars().take(50).collect::<String>()
        );
        assert_eq!(
            e.to_string(),
            format!(
                "label_value_length_limit exceeded (metric: m, label name: l, value: {want_value}, length: 90, limit: 10)"
            )
        );
        assert_eq!(
            ScrapeError::SampleLimit(3).to_string(),
            "sample limit exceeded"
        );
        assert_eq!(
            ScrapeError::NameMissing.to_string(),
            "missing metric name (__name__ label)"
        );
    }
}
