//! Counters of one remote-write destination, rendered in Prometheus text format for the
//! agent's `/metrics`.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

/// Live counters shared by the queue appender and the sender's tasks.
#[derive(Debug, Default)]
pub struct SenderMetrics {
    /// Samples written to the on-disk queue.
    pub samples_queued: AtomicU64,
    /// Samples acknowledged by the receiver (2xx).
    pub samples_sent: AtomicU64,
    /// Samples in requests refused with a non-retryable status (counted once per sample).
    pub samples_failed: AtomicU64,
    /// Samples in requests that were retried (counted per retry).
    pub samples_retried: AtomicU64,
    /// Samples dropped because the receiver refused them with a non-retryable 4xx.
    pub dropped_4xx: AtomicU64,
    /// Samples dropped before reaching the queue (a commit larger than the queue, or a
    /// record that could not be decoded).
    pub dropped_other: AtomicU64,
    /// Metadata entries acknowledged.
    pub metadata_sent: AtomicU64,
    /// Metadata entries refused or not deliverable.
    pub metadata_failed: AtomicU64,
    /// Number of shards sending.
    pub shards: AtomicU64,
    /// Unix time (seconds, as f64 bits) of the last acknowledged request.
    pub last_send_seconds: AtomicU64,
    /// Highest sample timestamp (ms) acknowledged.
    pub highest_sent_ms: AtomicU64,
}

/// A point-in-time copy of the counters, plus the queue's own numbers.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct MetricsSnapshot {
    /// Samples written to the on-disk queue.
    pub samples_queued: u64,
    /// Samples acknowledged.
    pub samples_sent: u64,
    /// Samples refused with a non-retryable status.
    pub samples_failed: u64,
    /// Sample sends retried.
    pub samples_retried: u64,
    /// Samples dropped because the queue was full.
    pub dropped_queue_full: u64,
    /// Samples dropped after a non-retryable 4xx.
    pub dropped_4xx: u64,
    /// Samples dropped for other reasons (oversized commit, undecodable record).
    pub dropped_other: u64,
    /// Metadata entries acknowledged.
    pub metadata_sent: u64,
    /// Metadata entries not delivered.
    pub metadata_failed: u64,
    /// Bytes of the on-disk queue.
    pub queue_bytes: u64,
    /// Shards sending.
    pub shards: u64,
    /// Unix seconds of the last acknowledged request (0 = never).
    pub last_send_seconds: f64,
    /// Highest acknowledged sample timestamp, ms (0 = none).
    pub highest_sent_ms: i64,
}

impl SenderMetrics {
    /// Records an acknowledged request that carried samples up to `max_t`.
    pub(crate) fn record_success(&self, samples: u64, max_t: Option<i64>) {
        self.samples_sent.fetch_add(samples, Ordering::Relaxed);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        self.last_send_seconds
            .store(now.to_bits(), Ordering::Relaxed);
        if let Some(t) = max_t {
            // Timestamps before 1970 are not tracked as a watermark.
            self.highest_sent_ms
                .fetch_max(u64::try_from(t).unwrap_or(0), Ordering::Relaxed);
        }
    }
}

/// Renders a snapshot in Prometheus text format 0.0.4; `remote` names the destination
/// (Prometheus's `remote_name`/`url` labels) and is escaped.
pub fn render(s: &MetricsSnapshot, remote_name: &str, url: &str, out: &mut String) {
    let lbl = format!(
        "remote_name=\"{}\",url=\"{}\"",
        escape(remote_name),
        escape(url)
    );
    let mut metric = |name: &str, kind: &str, help: &str, extra: &str, v: f64| {
        if !out.contains(&format!("# TYPE {name} ")) {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} {kind}");
        }
        let _ = writeln!(out, "{name}{{{lbl}{extra}}} {v}");
    };
    let p = "fleetwatch_remote_storage_";
    metric(
        &format!("{p}samples_queued_total"),
        "counter",
        "Samples written to the on-disk queue.",
        "",
        s.samples_queued as f64,
    );
    metric(
        &format!("{p}samples_total"),
        "counter",
        "Samples acknowledged by the remote endpoint.",
        "",
        s.samples_sent as f64,
    );
    metric(
        &format!("{p}samples_failed_total"),
        "counter",
        "Samples refused with a non-retryable status.",
        "",
        s.samples_failed as f64,
    );
    metric(
        &format!("{p}samples_retried_total"),
        "counter",
        "Sample sends that failed and were retried.",
        "",
        s.samples_retried as f64,
    );
    metric(
        &format!("{p}samples_dropped_total"),
        "counter",
        "Samples dropped, by reason.",
        ",reason=\"queue_full\"",
        s.dropped_queue_full as f64,
    );
    metric(
        &format!("{p}samples_dropped_total"),
        "counter",
        "",
        ",reason=\"http_4xx\"",
        s.dropped_4xx as f64,
    );
    metric(
        &format!("{p}samples_dropped_total"),
        "counter",
        "",
        ",reason=\"invalid\"",
        s.dropped_other as f64,
    );
    metric(
        &format!("{p}metadata_total"),
        "counter",
        "Metadata entries acknowledged.",
        "",
        s.metadata_sent as f64,
    );
    metric(
        &format!("{p}metadata_failed_total"),
        "counter",
        "Metadata entries not delivered.",
        "",
        s.metadata_failed as f64,
    );
    metric(
        &format!("{p}queue_bytes"),
        "gauge",
        "Bytes of the on-disk queue.",
        "",
        s.queue_bytes as f64,
    );
    metric(
        &format!("{p}shards"),
        "gauge",
        "Shards sending in parallel.",
        "",
        s.shards as f64,
    );
    metric(
        &format!("{p}last_send_timestamp_seconds"),
        "gauge",
        "Unix time of the last acknowledged request.",
        "",
        s.last_send_seconds,
    );
    metric(
        &format!("{p}queue_highest_sent_timestamp_seconds"),
        "gauge",
        "Highest sample timestamp acknowledged, in seconds.",
        "",
        s.highest_sent_ms as f64 / 1000.0,
    );
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_each_family_once_with_labels() {
        let s = MetricsSnapshot {
            samples_sent: 7,
            dropped_4xx: 2,
            highest_sent_ms: 1500,
            ..Default::default()
        };
        let mut out = String::new();
        render(&s, "hub", "http://h\"x/", &mut out);
        assert_eq!(
            out.matches("# TYPE fleetwatch_remote_storage_samples_dropped_total counter")
                .count(),
            1
        );
        assert!(out.contains("fleetwatch_remote_storage_samples_total{remote_name=\"hub\",url=\"http://h\\\"x/\"} 7\n"), "{out}");
        assert!(out.contains("reason=\"http_4xx\"} 2\n"), "{out}");
        assert!(out.contains("queue_highest_sent_timestamp_seconds{remote_name=\"hub\",url=\"http://h\\\"x/\"} 1.5\n"), "{out}");
    }
}
