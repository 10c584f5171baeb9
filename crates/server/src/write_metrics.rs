//! Counters of the remote-write endpoint, rendered on the hub's `/metrics`.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

/// What `/api/v1/write` has received since start.
#[derive(Debug, Default)]
pub struct WriteMetrics {
    /// Requests by outcome: 2xx, 4xx, 5xx.
    requests_2xx: AtomicU64,
    requests_4xx: AtomicU64,
    requests_5xx: AtomicU64,
    /// Samples written durably.
    samples: AtomicU64,
    /// Samples refused one by one (out of bounds, conflicting duplicates, bad series).
    rejected: AtomicU64,
    /// Metadata entries kept.
    metadata: AtomicU64,
}

impl WriteMetrics {
    /// Counts one answered request with its status code.
    pub fn request(&self, status: u16) {
        let c = match status {
            200..=299 => &self.requests_2xx,
            400..=499 => &self.requests_4xx,
            _ => &self.requests_5xx,
        };
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts what one request wrote and refused.
    pub fn written(&self, stats: &remote::WriteStats) {
        self.samples
            .fetch_add(stats.samples as u64, Ordering::Relaxed);
        self.rejected
            .fetch_add(stats.rejected_samples as u64, Ordering::Relaxed);
        self.metadata
            .fetch_add(stats.metadata as u64, Ordering::Relaxed);
    }

    /// Appends the counters in the text exposition format.
    pub fn render(&self, out: &mut String) {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "# HELP fleetwatch_remote_write_requests_total Remote-write requests answered, by status class."
        );
        let _ = writeln!(out, "# TYPE fleetwatch_remote_write_requests_total counter");
        for (class, c) in [
            ("2xx", &self.requests_2xx),
            ("4xx", &self.requests_4xx),
            ("5xx", &self.requests_5xx),
        ] {
            let _ = writeln!(
                out,
                "fleetwatch_remote_write_requests_total{{code=\"{class}\"}} {}",
                get(c)
            );
        }
        for (name, help, c) in [
            (
                "fleetwatch_remote_write_samples_total",
                "Samples received by remote write and written durably.",
                &self.samples,
            ),
            (
                "fleetwatch_remote_write_samples_rejected_total",
                "Samples refused one by one (out of bounds, conflicting duplicates, invalid series).",
                &self.rejected,
            ),
            (
                "fleetwatch_remote_write_metadata_total",
                "Metric metadata entries received by remote write.",
                &self.metadata,
            ),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} counter");
            let _ = writeln!(out, "{name} {}", get(c));
        }
    }
}
