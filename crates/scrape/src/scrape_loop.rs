//! One target's scrape loop: a tokio task scraping at a stable offset within its interval.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use model::{Labels, Timestamp};
use parking_lot::Mutex;
use storage::{Appendable, WriteIdentity};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::append::{
    Counts, SampleRules, ScrapeCache, append_failure, append_page, append_report,
    append_report_stale,
};
use crate::client::{DEFAULT_BODY_SIZE_LIMIT, ScrapeClient};
use crate::error::{ClientError, ScrapeError};
use crate::target::Target;

/// A target's health as of its last scrape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Health {
    /// Not scraped yet.
    #[default]
    Unknown,
    /// The last scrape succeeded.
    Up,
    /// The last scrape failed.
    Down,
}

impl Health {
    /// `up`, `down` or `unknown`, as Prometheus's API writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Unknown => "unknown",
            Health::Up => "up",
            Health::Down => "down",
        }
    }
}

/// The outcome of a target's last scrape.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LastScrape {
    /// Health.
    pub health: Health,
    /// The error of the last scrape, empty when it succeeded.
    pub last_error: String,
    /// When the last scrape started.
    pub last_scrape: Option<SystemTime>,
    /// How long it took.
    pub last_duration: Duration,
}

/// What every loop of a job shares.
pub(crate) struct JobContext {
    pub rules: SampleRules,
    pub client: Result<ScrapeClient, ClientError>,
    pub body_size_limit: u64,
    pub appendable: Arc<dyn Appendable>,
    pub identity: WriteIdentity,
    /// Set while the job has more targets than `target_limit`: every scrape fails with it.
    pub forced_error: Arc<Mutex<Option<ScrapeError>>>,
}

/// How a loop is told to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    /// Keep running.
    No,
    /// Stop and mark every series stale (the target went away).
    WithStaleMarkers,
    /// Stop quietly (process shutdown or a reload that restarts the loop).
    Quietly,
}

/// A running loop.
pub(crate) struct LoopHandle {
    stop: watch::Sender<Stop>,
    task: JoinHandle<()>,
}

impl LoopHandle {
    /// Starts the loop of `target`; `cache` and `status` outlive the loop across reloads.
    pub fn start(
        job: Arc<JobContext>,
        target: Target,
        cache: Arc<Mutex<ScrapeCache>>,
        status: Arc<Mutex<LastScrape>>,
    ) -> Self {
        let (stop, rx) = watch::channel(Stop::No);
        let task = tokio::spawn(run(job, target, cache, status, rx));
        LoopHandle { stop, task }
    }

    /// Asks the loop to stop; it writes stale markers first when `stale`.
    pub fn stop(&self, stale: bool) {
        self.stop.send_replace(if stale {
            Stop::WithStaleMarkers
        } else {
            Stop::Quietly
        });
    }

    /// Waits for the loop to finish.
    pub async fn join(self) {
        let _ = self.task.await;
    }
}

/// Tolerance within which a scrape time snaps to the ideal one, as Prometheus does so that
/// timestamps compress well.
const ALIGN_TOLERANCE_MS: Timestamp = 2;

/// Snaps `ts` to the ideal scrape time (the first scrape plus whole intervals) when it is
/// within the tolerance (at most 1% of the interval) after it.
fn align(aligned: &mut Option<Timestamp>, ts: Timestamp, interval_ms: Timestamp) -> Timestamp {
    let Some(a) = aligned else {
        *aligned = Some(ts);
        return ts;
    };
    if interval_ms <= 0 {
        return ts;
    }
    while ts - *a >= interval_ms {
        *a += interval_ms;
    }
    let tolerance = (interval_ms / 100).min(ALIGN_TOLERANCE_MS);
    if ts - *a <= tolerance { *a } else { ts }
}

/// The requested stop mode; a dropped sender means the owner is gone: stop quietly.
fn stop_mode(rx: &watch::Receiver<Stop>) -> Stop {
    match *rx.borrow() {
        Stop::No => Stop::Quietly,
        m => m,
    }
}

fn now_ms(t: SystemTime) -> Timestamp {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as Timestamp)
        .unwrap_or(0)
}

async fn run(
    job: Arc<JobContext>,
    target: Target,
    cache: Arc<Mutex<ScrapeCache>>,
    status: Arc<Mutex<LastScrape>>,
    mut stop: watch::Receiver<Stop>,
) {
    let labels = target.labels();
    let url = target.url();
    let now_nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let first = tokio::time::Instant::now() + target.offset(now_nanos, 0);
    let mut ticker = tokio::time::interval_at(first, target.interval());
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut last_ts: Option<Timestamp> = None;
    let interval_ms = target.interval().as_millis() as Timestamp;
    let mut aligned: Option<Timestamp> = None;
    // Pages of one target are about the same size from scrape to scrape.
    let mut size_hint = 0usize;
    let mode = loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = stop.changed() => break stop_mode(&stop),
        }
        let start = SystemTime::now();
        let ts = align(&mut aligned, now_ms(start), interval_ms);
        let started = Instant::now();
        let forced = job.forced_error.lock().clone();
        let fetched = match forced {
            Some(e) => Err(e),
            None => tokio::select! {
                r = fetch(&job, &target, &url, size_hint) => r,
                _ = stop.changed() => break stop_mode(&stop),
            },
        };
        if let Ok(page) = &fetched {
            size_hint = page.body.len() + page.body.len() / 8;
        }
        let result = store(&job, &labels, &cache, fetched, ts, started);
        last_ts = Some(ts);
        let mut st = status.lock();
        st.last_scrape = Some(start);
        st.last_duration = started.elapsed();
        match result {
            Ok(()) => {
                st.health = Health::Up;
                st.last_error.clear();
            }
            Err(e) => {
                st.health = Health::Down;
                st.last_error = e.to_string();
            }
        }
    };
    if mode == Stop::WithStaleMarkers {
        let ts = now_ms(SystemTime::now()).max(last_ts.map_or(0, |t| t + 1));
        let mut app = job.appendable.appender(&job.identity);
        let mut c = cache.lock();
        let r = append_failure(app.as_mut(), &mut c, ts).and_then(|()| {
            append_report_stale(app.as_mut(), &labels, &job.rules.cluster, ts)
                .map_err(|e| ScrapeError::Storage(e.to_string()))
        });
        drop(c);
        match r {
            Ok(()) => {
                if let Err(e) = app.commit() {
                    tracing::warn!(target = %url, error = %e, "writing stale markers failed");
                }
            }
            Err(e) => {
                app.rollback();
                tracing::warn!(target = %url, error = %e, "writing stale markers failed");
            }
        }
    }
}

async fn fetch(
    job: &JobContext,
    target: &Target,
    url: &str,
    size_hint: usize,
) -> Result<crate::client::Fetched, ScrapeError> {
    let client = job
        .client
        .as_ref()
        .map_err(|e| ScrapeError::Client(e.clone()))?;
    let limit = if job.body_size_limit == 0 {
        DEFAULT_BODY_SIZE_LIMIT
    } else {
        job.body_size_limit
    };
    client.fetch(url, target.timeout(), limit, size_hint).await
}

/// Appends a scrape's samples (or its failure's stale markers) and the report series in
/// one batch; returns the scrape's error, if any.
fn store(
    job: &JobContext,
    labels: &Labels,
    cache: &Mutex<ScrapeCache>,
    fetched: Result<crate::client::Fetched, ScrapeError>,
    ts: Timestamp,
    started: Instant,
) -> Result<(), ScrapeError> {
    let mut counts = Counts::default();
    let mut cache = cache.lock();
    let mut app = job.appendable.appender(&job.identity);
    let mut err = match &fetched {
        Ok(page) => append_page(
            app.as_mut(),
            &mut cache,
            &job.rules,
            labels,
            page,
            ts,
            &mut counts,
        )
        .err(),
        Err(e) => Some(e.clone()),
    };
    if err.is_some() {
        app.rollback();
        app = job.appendable.appender(&job.identity);
        if let Err(e) = append_failure(app.as_mut(), &mut cache, ts) {
            tracing::warn!(error = %e, "writing stale markers after a failed scrape");
        }
    }
    let duration = started.elapsed();
    let report = append_report(
        app.as_mut(),
        labels,
        &job.rules.cluster,
        ts,
        err.is_none(),
        duration,
        counts,
    );
    match report {
        Ok(()) => {
            if let Err(e) = app.commit() {
                err.get_or_insert(ScrapeError::Storage(e.to_string()));
            }
        }
        Err(e) => {
            app.rollback();
            err.get_or_insert(ScrapeError::Storage(e.to_string()));
        }
    }
    match err {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrape_times_snap_within_tolerance() {
        let mut a = None;
        assert_eq!(align(&mut a, 10_000, 1_000), 10_000);
        assert_eq!(align(&mut a, 11_002, 1_000), 11_000);
        assert_eq!(align(&mut a, 12_003, 1_000), 12_003);
        // A skipped tick still aligns to the grid.
        assert_eq!(align(&mut a, 14_001, 1_000), 14_000);
        // Short intervals get a tolerance of 1% at most.
        let mut a = None;
        align(&mut a, 0, 100);
        assert_eq!(align(&mut a, 101, 100), 100);
        assert_eq!(align(&mut a, 202, 100), 202);
    }
}
