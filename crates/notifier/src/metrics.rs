//! The `prometheus_notifications_*` metrics, named, labelled and counted as Prometheus's
//! notifier counts them (alerts, not requests), rendered in the text exposition format.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use model::MetricType;
use parking_lot::Mutex;

const PREFIX: &str = "prometheus_notifications_";
/// The summary's quantiles (client_golang objectives 0.5, 0.9, 0.99).
const QUANTILES: [f64; 3] = [0.5, 0.9, 0.99];
/// The histogram's upper bounds, in seconds.
const BUCKETS: [f64; 4] = [0.01, 0.1, 1.0, 10.0];
/// How far back the summary's quantiles look (client_golang's default `MaxAge`).
const SUMMARY_MAX_AGE: Duration = Duration::from_secs(600);
/// Observations kept for the quantiles; beyond it the oldest go first.
const SUMMARY_MAX_OBSERVATIONS: usize = 10_000;

/// The counters of one Alertmanager URL, shared by every send loop posting to it.
#[derive(Debug, Default)]
pub(crate) struct AmMetrics {
    /// Alerts acknowledged with a 2xx.
    pub sent: AtomicU64,
    /// Alerts in pushes that failed.
    pub errors: AtomicU64,
    /// Alerts given up: queue overflow, failed pushes, undrained queues at shutdown.
    pub dropped: AtomicU64,
    /// Alerts waiting.
    pub queue_length: AtomicI64,
    latency: Mutex<Latency>,
}

#[derive(Debug, Default)]
struct Latency {
    window: VecDeque<(Instant, f64)>,
    sum: f64,
    count: u64,
    buckets: [u64; BUCKETS.len()],
}

impl AmMetrics {
    /// Records the duration of a successful push.
    pub(crate) fn observe_latency(&self, seconds: f64) {
        let mut l = self.latency.lock();
        let now = Instant::now();
        l.sum += seconds;
        l.count += 1;
        for (i, b) in BUCKETS.iter().enumerate() {
            if seconds <= *b {
                l.buckets[i] += 1;
            }
        }
        if l.window.len() >= SUMMARY_MAX_OBSERVATIONS {
            l.window.pop_front();
        }
        l.window.push_back((now, seconds));
        prune(&mut l.window, now);
    }

    /// Adds `n` dropped alerts.
    pub(crate) fn add_dropped(&self, n: usize) {
        self.dropped.fetch_add(n as u64, Ordering::Relaxed);
    }
}

fn prune(window: &mut VecDeque<(Instant, f64)>, now: Instant) {
    while let Some((t, _)) = window.front() {
        if now.duration_since(*t) <= SUMMARY_MAX_AGE {
            break;
        }
        window.pop_front();
    }
}

/// Every Alertmanager's counters, plus the queue capacity.
#[derive(Debug)]
pub(crate) struct Metrics {
    capacity: usize,
    /// URL → (send loops using it, counters). A URL's series go when its last loop ends.
    ams: Mutex<BTreeMap<String, (usize, Arc<AmMetrics>)>>,
}

impl Metrics {
    pub(crate) fn new(capacity: usize) -> Self {
        Metrics {
            capacity,
            ams: Mutex::new(BTreeMap::new()),
        }
    }

    /// The counters of `url`, created at zero for its first loop.
    pub(crate) fn acquire(&self, url: &str) -> Arc<AmMetrics> {
        let mut ams = self.ams.lock();
        let e = ams.entry(url.to_string()).or_default();
        e.0 += 1;
        e.1.clone()
    }

    /// A loop posting to `url` has ended; the URL's series go with its last loop.
    pub(crate) fn release(&self, url: &str) {
        let mut ams = self.ams.lock();
        if let Some(e) = ams.get_mut(url) {
            e.0 = e.0.saturating_sub(1);
            if e.0 == 0 {
                ams.remove(url);
            }
        }
    }

    /// The text exposition of every family; `discovered` is the active Alertmanager count.
    pub(crate) fn render(&self, discovered: usize) -> String {
        let ams: Vec<(String, Arc<AmMetrics>)> = self
            .ams
            .lock()
            .iter()
            .map(|(u, (_, m))| (u.clone(), m.clone()))
            .collect();
        let mut out = String::new();
        let per_am =
            |out: &mut String, name: &str, help: &str, t, get: &dyn Fn(&AmMetrics) -> f64| {
                let full = format!("{PREFIX}{name}");
                exposition::write_family_header(out, &full, Some(help), t);
                for (url, m) in &ams {
                    exposition::write_series(
                        out,
                        &full,
                        [("alertmanager", url.as_str())],
                        get(m),
                        None,
                    );
                }
            };
        let single = |out: &mut String, name: &str, help: &str, v: f64| {
            let full = format!("{PREFIX}{name}");
            exposition::write_family_header(out, &full, Some(help), MetricType::Gauge);
            exposition::write_series(out, &full, [], v, None);
        };
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed) as f64;
        single(
            &mut out,
            "alertmanagers_discovered",
            "The number of alertmanagers discovered and active.",
            discovered as f64,
        );
        per_am(
            &mut out,
            "dropped_total",
            "Total number of alerts dropped due to errors when sending to Alertmanager.",
            MetricType::Counter,
            &|m| load(&m.dropped),
        );
        per_am(
            &mut out,
            "errors_total",
            "Total number of sent alerts affected by errors.",
            MetricType::Counter,
            &|m| load(&m.errors),
        );
        self.render_latency(&mut out, &ams);
        single(
            &mut out,
            "queue_capacity",
            "The capacity of the alert notifications queue.",
            self.capacity as f64,
        );
        per_am(
            &mut out,
            "queue_length",
            "The number of alert notifications in the queue.",
            MetricType::Gauge,
            &|m| m.queue_length.load(Ordering::Relaxed).max(0) as f64,
        );
        per_am(
            &mut out,
            "sent_total",
            "Total number of alerts sent.",
            MetricType::Counter,
            &|m| load(&m.sent),
        );
        out
    }

    fn render_latency(&self, out: &mut String, ams: &[(String, Arc<AmMetrics>)]) {
        let hist = format!("{PREFIX}latency_histogram_seconds");
        exposition::write_family_header(
            out,
            &hist,
            Some("Latency histogram for sending alert notifications."),
            MetricType::Histogram,
        );
        let now = Instant::now();
        let mut summaries = Vec::with_capacity(ams.len());
        for (url, m) in ams {
            let mut l = m.latency.lock();
            prune(&mut l.window, now);
            let bucket = format!("{hist}_bucket");
            for (b, n) in BUCKETS.iter().zip(l.buckets) {
                let le = exposition::format_go_float(*b);
                exposition::write_series(
                    out,
                    &bucket,
                    [("alertmanager", url.as_str()), ("le", le.as_str())],
                    n as f64,
                    None,
                );
            }
            let am = [("alertmanager", url.as_str())];
            exposition::write_series(out, &bucket, [am[0], ("le", "+Inf")], l.count as f64, None);
            exposition::write_series(out, &format!("{hist}_sum"), am, l.sum, None);
            exposition::write_series(out, &format!("{hist}_count"), am, l.count as f64, None);
            let mut values: Vec<f64> = l.window.iter().map(|(_, v)| *v).collect();
            values.sort_by(f64::total_cmp);
            summaries.push((url, values, l.sum, l.count));
        }
        let sum = format!("{PREFIX}latency_seconds");
        exposition::write_family_header(
            out,
            &sum,
            Some("Latency quantiles for sending alert notifications."),
            MetricType::Summary,
        );
        for (url, values, total, count) in summaries {
            for q in QUANTILES {
                let qs = exposition::format_go_float(q);
                exposition::write_series(
                    out,
                    &sum,
                    [("alertmanager", url.as_str()), ("quantile", qs.as_str())],
                    quantile(&values, q),
                    None,
                );
            }
            let am = [("alertmanager", url.as_str())];
            exposition::write_series(out, &format!("{sum}_sum"), am, total, None);
            exposition::write_series(out, &format!("{sum}_count"), am, count as f64, None);
        }
    }
}

/// The `q` quantile of sorted `values` (NaN when there are none, as client_golang reports).
fn quantile(values: &[f64], q: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let rank = (q * values.len() as f64).ceil() as usize;
    values[rank.saturating_sub(1).min(values.len() - 1)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_of_sorted_values() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(quantile(&v, 0.5), 50.0);
        assert_eq!(quantile(&v, 0.99), 99.0);
        assert!(quantile(&[], 0.5).is_nan());
        assert_eq!(quantile(&[3.0], 0.9), 3.0);
    }

    #[test]
    fn series_follow_their_loops() {
        let m = Metrics::new(10);
        let a = m.acquire("http://a/api/v2/alerts");
        let _again = m.acquire("http://a/api/v2/alerts");
        a.sent.fetch_add(3, Ordering::Relaxed);
        a.observe_latency(0.05);
        let text = m.render(1);
        for want in [
            "prometheus_notifications_alertmanagers_discovered 1\n",
            "prometheus_notifications_queue_capacity 10\n",
            "prometheus_notifications_sent_total{alertmanager=\"http://a/api/v2/alerts\"} 3\n",
            "prometheus_notifications_errors_total{alertmanager=\"http://a/api/v2/alerts\"} 0\n",
            "prometheus_notifications_latency_histogram_seconds_bucket{alertmanager=\"http://a/api/v2/alerts\",le=\"0.1\"} 1\n",
            "prometheus_notifications_latency_seconds{alertmanager=\"http://a/api/v2/alerts\",quantile=\"0.5\"} 0.05\n",
            "prometheus_notifications_latency_seconds_count{alertmanager=\"http://a/api/v2/alerts\"} 1\n",
            "# TYPE prometheus_notifications_latency_seconds summary\n",
        ] {
            assert!(text.contains(want), "missing {want:?} in\n{text}");
        }
        m.release("http://a/api/v2/alerts");
        assert!(m.render(1).contains("sent_total{alertmanager"));
        m.release("http://a/api/v2/alerts");
        assert!(!m.render(0).contains("alertmanager=\""));
    }
}
