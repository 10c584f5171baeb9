//! One remote-write destination of the agent, wired together: the on-disk queue, the
//! appendable the scrape engine writes into, the sender and its metrics.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use parking_lot::Mutex;
use relabel::RelabelConfig;

use crate::appender::{MetadataStore, QueueAppendable};
use crate::metrics::{self, MetricsSnapshot, SenderMetrics};
use crate::queue::{DiskQueue, QueueError, QueueOptions};
use crate::sender::{self, SenderConfig, SenderHandle};

/// The queue, appendable and counters of one destination.
pub struct RemoteWrite {
    queue: Arc<DiskQueue>,
    metrics: Arc<SenderMetrics>,
    metadata: MetadataStore,
    appendable: Arc<QueueAppendable>,
}

impl RemoteWrite {
    /// Opens the queue in `dir` (e.g. `DATA_DIR/queue`) bounded by `max_queue_bytes`;
    /// `write_relabel_configs` apply to every series before it is queued.
    pub fn open(
        dir: &Path,
        max_queue_bytes: u64,
        write_relabel_configs: Vec<RelabelConfig>,
    ) -> Result<Self, QueueError> {
        Self::open_with(
            dir,
            QueueOptions::with_max_bytes(max_queue_bytes),
            write_relabel_configs,
        )
    }

    /// As [`RemoteWrite::open`] with explicit queue options.
    pub fn open_with(
        dir: &Path,
        opts: QueueOptions,
        write_relabel_configs: Vec<RelabelConfig>,
    ) -> Result<Self, QueueError> {
        let queue = Arc::new(DiskQueue::open(dir, opts)?);
        let metrics = Arc::new(SenderMetrics::default());
        let metadata: MetadataStore = Arc::new(Mutex::new(HashMap::new()));
        let appendable = Arc::new(QueueAppendable::new(
            queue.clone(),
            metrics.clone(),
            metadata.clone(),
            write_relabel_configs,
        ));
        Ok(RemoteWrite {
            queue,
            metrics,
            metadata,
            appendable,
        })
    }

    /// What the scrape engine writes into; commit returns once the batch is on disk.
    pub fn appendable(&self) -> Arc<QueueAppendable> {
        self.appendable.clone()
    }

    /// The queue itself (for inspection and tests).
    pub fn queue(&self) -> &Arc<DiskQueue> {
        &self.queue
    }

    /// Starts sending on the current tokio runtime.
    pub fn start(&self, config: SenderConfig) -> SenderHandle {
        sender::spawn(
            config,
            self.queue.clone(),
            self.metadata.clone(),
            self.metrics.clone(),
        )
    }

    /// The current counters.
    pub fn snapshot(&self) -> MetricsSnapshot {
        let m = &self.metrics;
        let q = self.queue.stats();
        let get = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
        MetricsSnapshot {
            samples_queued: get(&m.samples_queued),
            samples_sent: get(&m.samples_sent),
            samples_failed: get(&m.samples_failed),
            samples_retried: get(&m.samples_retried),
            dropped_queue_full: q.dropped_samples,
            dropped_4xx: get(&m.dropped_4xx),
            dropped_other: get(&m.dropped_other),
            metadata_sent: get(&m.metadata_sent),
            metadata_failed: get(&m.metadata_failed),
            queue_bytes: q.bytes,
            shards: get(&m.shards),
            last_send_seconds: f64::from_bits(get(&m.last_send_seconds)),
            highest_sent_ms: i64::try_from(get(&m.highest_sent_ms)).unwrap_or(i64::MAX),
        }
    }

    /// Appends this destination's metrics in Prometheus text format.
    pub fn render(&self, remote_name: &str, url: &str, out: &mut String) {
        metrics::render(&self.snapshot(), remote_name, url, out);
    }
}
