//! What the API handlers share: the stores, limits, and process hooks.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use model::Timestamp;
use promql::{Engine, EngineOptions};
use remote::receive::ReceiveLimits;
use storage::{Appendable, Queryable};

use crate::info::{NoInfo, RulesInfo, ServerInfo};
use crate::params::RequestLimits;

/// Renders the process's own metrics in the text exposition format.
pub type MetricsFn = Arc<dyn Fn() -> String + Send + Sync>;
/// Returns the current time in ms (replaceable so tests can fix "now").
pub type ClockFn = Arc<dyn Fn() -> Timestamp + Send + Sync>;
/// Reloads the configuration and rule files (`POST /-/reload`), as SIGHUP does; the error
/// says what could not be applied.
pub type ReloadFn =
    Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Result<(), String>> + Send>> + Send + Sync>;

/// Everything the router's handlers need. Build with [`ApiState::new`] and
/// adjust the public fields.
pub struct ApiState {
    /// Where queries read.
    pub queryable: Arc<dyn Queryable>,
    /// Where `/api/v1/write` appends.
    pub appendable: Arc<dyn Appendable>,
    /// Size bounds on remote-write bodies.
    pub receive_limits: ReceiveLimits,
    /// Remote-write requests decoded and appended at once; the rest wait for a slot
    /// without holding a thread. One per core by default (see [`write_slots_for`]).
    pub write_slots: Arc<tokio::sync::Semaphore>,
    /// Renders `/metrics`.
    pub metrics: MetricsFn,
    /// Set once the process is ready to serve (`/-/ready`).
    pub ready: Arc<AtomicBool>,
    /// The PromQL engine; its options hold the lookback delta, the timeout (also
    /// the bound on metadata lookups) and the sample limit.
    pub engine: Arc<Engine>,
    /// Configuration, flags, runtime facts and scrape targets of the process.
    pub info: Arc<dyn ServerInfo>,
    /// Size bounds on API parameters and form bodies.
    pub request_limits: RequestLimits,
    /// The clock; `time` defaults to it.
    pub now_ms: ClockFn,
    /// Counters of `/api/v1/write`, appended to `/metrics`.
    pub write_metrics: Arc<crate::WriteMetrics>,
    /// Rules, alerts and Alertmanagers; `None`: the process evaluates no rules and the
    /// endpoints answer empty lists.
    pub rules: Option<Arc<dyn RulesInfo>>,
    /// `POST /-/reload`; `None`: refused as Prometheus refuses it without
    /// `--web.enable-lifecycle`.
    pub reload: Option<ReloadFn>,
}

impl ApiState {
    /// A state with Prometheus's defaults for everything but the stores and hooks.
    pub fn new(
        queryable: Arc<dyn Queryable>,
        appendable: Arc<dyn Appendable>,
        metrics: MetricsFn,
        ready: Arc<AtomicBool>,
    ) -> Self {
        ApiState {
            queryable,
            appendable,
            receive_limits: ReceiveLimits::default(),
            write_slots: write_slots(false),
            metrics,
            ready,
            engine: Arc::new(Engine::new(EngineOptions::default())),
            info: Arc::new(NoInfo),
            request_limits: RequestLimits::default(),
            now_ms: Arc::new(system_now_ms),
            write_metrics: Arc::default(),
            rules: None,
            reload: None,
        }
    }
}

impl ApiState {
    /// Replaces the engine with one using `opts`.
    pub fn with_engine_options(mut self, opts: EngineOptions) -> Self {
        self.engine = Arc::new(Engine::new(opts));
        self
    }

    /// The engine's settings.
    pub fn engine_options(&self) -> &EngineOptions {
        self.engine.options()
    }

    /// The longest any request may take (`--query.timeout`).
    pub fn query_timeout(&self) -> Duration {
        self.engine.options().timeout
    }

    /// How far back an instant lookup reaches, ms (`--query.lookback-delta`).
    pub fn lookback_delta_ms(&self) -> i64 {
        self.engine.options().lookback_delta_ms
    }
}

/// Concurrent remote writes worth running. Decoding and appending is memory-bound CPU
/// work: more writers than cores only take turns on them, and every switch costs the
/// caches it lives on (hub CPU for the same requests tracked its involuntary context
/// switches: 7-9% less with one writer per core). A store that syncs before every
/// acknowledgement (`durable_acks`) wants many writers waiting on one sync instead.
pub fn write_slots_for(durable_acks: bool) -> usize {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    if durable_acks { cores * 16 } else { cores }
}

/// [`ApiState::write_slots`] for [`write_slots_for`]`(durable_acks)` writers.
pub fn write_slots(durable_acks: bool) -> Arc<tokio::sync::Semaphore> {
    Arc::new(tokio::sync::Semaphore::new(write_slots_for(durable_acks)))
}

/// Wall-clock time in ms since the epoch.
pub fn system_now_ms() -> Timestamp {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_millis()).unwrap_or(i64::MAX),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_write_slot_per_core_unless_acknowledgements_wait_for_syncs() {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        assert_eq!(write_slots_for(false), cores);
        assert!(write_slots_for(true) >= 16 * cores);
    }
}
