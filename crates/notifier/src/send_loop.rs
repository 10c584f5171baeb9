//! One Alertmanager's queue and the task that empties it (Prometheus's `sendLoop`): a
//! bounded queue that drops its oldest alerts when full, batches of at most
//! `max_batch_size`, one POST per batch within the set's timeout.
//!
//! A failed batch is not retried: its alerts are counted as errors and dropped, as in
//! Prometheus. What makes delivery reliable is the rules manager re-sending every active
//! alert (and recently resolved ones) each `resend_delay`, so the next send carries them again.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use config::AlertmanagerConfig;
use parking_lot::Mutex;
use tokio::sync::Notify;

use crate::alert::Alert;
use crate::client::HttpClient;
use crate::json::encode_alerts;
use crate::metrics::{AmMetrics, Metrics};

/// The queue of one Alertmanager URL within one `alertmanagers` set.
#[derive(Debug)]
pub(crate) struct SendLoop {
    /// Where batches are POSTed.
    pub url: String,
    cfg: Arc<AlertmanagerConfig>,
    client: Arc<HttpClient>,
    registry: Arc<Metrics>,
    metrics: Arc<AmMetrics>,
    capacity: usize,
    queue: Mutex<VecDeque<Arc<Alert>>>,
    wake: Notify,
    stopped: AtomicBool,
    started: AtomicBool,
}

impl SendLoop {
    /// An idle loop; nothing is sent until [`run`] is spawned for it.
    pub(crate) fn new(
        url: String,
        cfg: Arc<AlertmanagerConfig>,
        client: Arc<HttpClient>,
        registry: Arc<Metrics>,
        capacity: usize,
    ) -> Self {
        let metrics = registry.acquire(&url);
        SendLoop {
            url,
            cfg,
            client,
            registry,
            metrics,
            capacity: capacity.max(1),
            queue: Mutex::new(VecDeque::new()),
            wake: Notify::new(),
            stopped: AtomicBool::new(false),
            started: AtomicBool::new(false),
        }
    }

    /// Appends `alerts`, dropping the oldest queued ones (then the oldest of `alerts`) to
    /// stay within capacity. Never blocks on the network.
    pub(crate) fn push(&self, alerts: &[Arc<Alert>]) {
        if self.stopped.load(Ordering::Acquire) || alerts.is_empty() {
            return;
        }
        let mut dropped = 0;
        let alerts = if alerts.len() > self.capacity {
            dropped += alerts.len() - self.capacity;
            &alerts[alerts.len() - self.capacity..]
        } else {
            alerts
        };
        let mut q = self.queue.lock();
        let over = (q.len() + alerts.len()).saturating_sub(self.capacity);
        if over > 0 {
            q.drain(..over);
            dropped += over;
        }
        q.extend(alerts.iter().cloned());
        self.metrics
            .queue_length
            .fetch_add(alerts.len() as i64 - over as i64, Ordering::Relaxed);
        drop(q);
        if dropped > 0 {
            tracing::warn!(alertmanager = %self.url, count = dropped, "alert notification queue full, dropping alerts");
            self.metrics.add_dropped(dropped);
        }
        self.wake.notify_one();
    }

    /// Takes up to `max` alerts from the front.
    fn next_batch(&self, max: usize) -> Vec<Arc<Alert>> {
        let mut q = self.queue.lock();
        let n = q.len().min(max.max(1));
        let batch: Vec<_> = q.drain(..n).collect();
        self.metrics
            .queue_length
            .fetch_sub(n as i64, Ordering::Relaxed);
        batch
    }

    /// Alerts waiting.
    pub(crate) fn len(&self) -> usize {
        self.queue.lock().len()
    }

    /// Asks the task to finish: it drains (or drops) what is queued, then ends.
    pub(crate) fn stop(&self) {
        self.stopped.store(true, Ordering::Release);
        self.wake.notify_one();
    }

    /// True once, for whoever spawns the loop's task.
    pub(crate) fn claim_start(&self) -> bool {
        !self.started.swap(true, Ordering::AcqRel)
    }

    /// POSTs one batch; false when it failed (its alerts are then counted and dropped).
    async fn send_batch(&self, batch: &[Arc<Alert>]) -> bool {
        let begin = Instant::now();
        let body = encode_alerts(batch);
        let n = batch.len() as u64;
        match self
            .client
            .post_json(&self.url, body, self.cfg.timeout.0)
            .await
        {
            Ok(()) => {
                self.metrics.observe_latency(begin.elapsed().as_secs_f64());
                self.metrics.sent.fetch_add(n, Ordering::Relaxed);
                true
            }
            Err(e) => {
                tracing::error!(alertmanager = %self.url, count = n, error = %e, "error sending alerts");
                self.metrics.errors.fetch_add(n, Ordering::Relaxed);
                self.metrics.dropped.fetch_add(n, Ordering::Relaxed);
                false
            }
        }
    }
}

/// Sends batches until the loop is stopped, then drains the queue (when `drain`) and
/// releases the URL's metrics.
///
/// The drain stops at the first failed batch: the Alertmanager is not answering, and
/// trying every remaining batch would hold shutdown for a timeout each.
pub(crate) async fn run(l: Arc<SendLoop>, max_batch: usize, drain: bool) {
    tracing::debug!(alertmanager = %l.url, "starting send loop");
    loop {
        let woken = l.wake.notified();
        if l.stopped.load(Ordering::Acquire) {
            break;
        }
        let batch = l.next_batch(max_batch);
        if batch.is_empty() {
            woken.await;
            continue;
        }
        l.send_batch(&batch).await;
    }
    let mut left = 0;
    if drain {
        loop {
            let batch = l.next_batch(max_batch);
            if batch.is_empty() {
                break;
            }
            if !l.send_batch(&batch).await {
                left = l.next_batch(usize::MAX).len();
                break;
            }
        }
    } else {
        left = l.next_batch(usize::MAX).len();
    }
    if left > 0 {
        tracing::warn!(alertmanager = %l.url, count = left, "alert notification queue not drained, dropping alerts");
        l.metrics.add_dropped(left);
    }
    l.registry.release(&l.url);
    tracing::debug!(alertmanager = %l.url, "send loop stopped");
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::Labels;

    fn alerts(n: usize, offset: usize) -> Vec<Arc<Alert>> {
        (0..n)
            .map(|i| {
                Arc::new(Alert {
                    labels: Labels::from_pairs([("alertname", format!("a{}", i + offset))]),
                    ..Alert::default()
                })
            })
            .collect()
    }

    fn new_loop(capacity: usize, registry: &Arc<Metrics>) -> SendLoop {
        let text = "alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: [a:1]\n";
        let mut l =
            config::Config::load_str(text, "t.yml", std::path::Path::new("/")).expect("loads");
        let cfg = Arc::new(l.config.alerting.alertmanagers.remove(0));
        let client = Arc::new(HttpClient::new(&cfg.http_client).expect("client builds"));
        SendLoop::new(
            "http://a:1/api/v2/alerts".into(),
            cfg,
            client,
            registry.clone(),
            capacity,
        )
    }

    #[test]
    fn full_queue_drops_the_oldest() {
        let registry = Arc::new(Metrics::new(4));
        let l = new_loop(4, &registry);
        l.push(&alerts(3, 0));
        l.push(&alerts(3, 3));
        assert_eq!(l.len(), 4);
        assert_eq!(l.metrics.dropped.load(Ordering::Relaxed), 2);
        let names: Vec<String> = l
            .next_batch(10)
            .iter()
            .map(|a| a.name().to_string())
            .collect();
        assert_eq!(names, ["a2", "a3", "a4", "a5"]);
        // A single push larger than the queue keeps its newest alerts.
        l.push(&alerts(6, 10));
        assert_eq!(l.metrics.dropped.load(Ordering::Relaxed), 4);
        assert_eq!(l.next_batch(1)[0].name(), "a12");
        assert_eq!(l.metrics.queue_length.load(Ordering::Relaxed), 3);
    }

    #[test]
    fn batches_are_bounded_and_in_order() {
        let registry = Arc::new(Metrics::new(100));
        let l = new_loop(100, &registry);
        l.push(&alerts(5, 0));
        assert_eq!(l.next_batch(2).len(), 2);
        assert_eq!(l.next_batch(2)[0].name(), "a2");
        assert_eq!(l.next_batch(2).len(), 1);
        assert!(l.next_batch(2).is_empty());
        l.stop();
        l.push(&alerts(1, 0));
        assert_eq!(l.len(), 0, "a stopped loop takes nothing");
        assert!(l.claim_start());
        assert!(!l.claim_start());
    }
}
