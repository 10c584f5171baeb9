//! The notifier (Prometheus's notifier `Manager`): the configured Alertmanager sets, the
//! entry point for alerts, and the task that runs every send loop and file discovery.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use config::{AlertingConfig, AlertmanagerConfig, HttpClientConfig, RelabelConfig};
use discovery::{DiscoveryManager, JobDiscoveryConfig, TargetGroup, TargetSets};
use model::Labels;
use parking_lot::RwLock;
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

use crate::alert::{Alert, relabel_alerts, relabel_shared};
use crate::client::HttpClient;
use crate::error::NotifierError;
use crate::metrics::Metrics;
use crate::send_loop::{self, SendLoop};
use crate::targets::{self, Discovered};

/// How the notifier queues and sends (Prometheus's `--alertmanager.*` flags).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifierOptions {
    /// Alerts each Alertmanager's queue holds before dropping the oldest (10,000).
    pub queue_capacity: usize,
    /// Alerts per request at most (256, Prometheus's default since 3.4; it was 64 before).
    pub max_batch_size: usize,
    /// Send what is queued when shutting down or when an Alertmanager goes away (true).
    pub drain_on_shutdown: bool,
    /// How often file discovery results are applied at most (5s, as Prometheus throttles).
    pub discovery_update_delay: Duration,
}

impl Default for NotifierOptions {
    fn default() -> Self {
        NotifierOptions {
            queue_capacity: 10_000,
            max_batch_size: 256,
            drain_on_shutdown: true,
            discovery_update_delay: Duration::from_secs(5),
        }
    }
}

/// Delivers alerts to every configured Alertmanager; share it as `Arc<Notifier>`.
#[derive(Debug)]
pub struct Notifier {
    opts: NotifierOptions,
    metrics: Arc<Metrics>,
    state: RwLock<State>,
    /// Wakes [`Notifier::run`] when loops or discovery jobs changed.
    changed: Notify,
    stopping: AtomicBool,
}

#[derive(Debug, Default)]
struct State {
    external_labels: Labels,
    relabel: Vec<RelabelConfig>,
    sets: Vec<AmSet>,
    /// One client per distinct HTTP configuration, kept across reloads.
    clients: Vec<(HttpClientConfig, Arc<HttpClient>)>,
    /// Loops taken out of service whose task still has to drain them.
    retired: Vec<Arc<SendLoop>>,
    /// Bumped by every `apply_config`; names discovery jobs so stale results are ignored.
    generation: u64,
}

/// One `alertmanagers` entry and the Alertmanagers it currently resolves to.
#[derive(Debug)]
struct AmSet {
    cfg: Arc<AlertmanagerConfig>,
    client: Arc<HttpClient>,
    discovered: Discovered,
    /// One per URL of `discovered.active`.
    loops: Vec<Arc<SendLoop>>,
}

impl Notifier {
    /// A notifier with no Alertmanagers; [`Notifier::apply_config`] adds them.
    pub fn new(opts: NotifierOptions) -> Arc<Notifier> {
        Arc::new(Notifier {
            metrics: Arc::new(Metrics::new(opts.queue_capacity)),
            opts,
            state: RwLock::new(State::default()),
            changed: Notify::new(),
            stopping: AtomicBool::new(false),
        })
    }

    /// Takes a new `alerting:` section and the global external labels. Sets whose
    /// configuration did not change keep their queues; the others' queues are drained and
    /// their loops end. On error the previous configuration stays in force.
    pub fn apply_config(
        &self,
        alerting: &AlertingConfig,
        external_labels: &Labels,
    ) -> Result<(), NotifierError> {
        let mut st = self.state.write();
        // Everything that can fail comes first, so that an error changes nothing.
        let mut clients: Vec<(HttpClientConfig, Arc<HttpClient>)> = Vec::new();
        let mut set_clients = Vec::with_capacity(alerting.alertmanagers.len());
        for (index, cfg) in alerting.alertmanagers.iter().enumerate() {
            let known = clients
                .iter()
                .chain(st.clients.iter())
                .find(|(c, _)| *c == cfg.http_client)
                .map(|(_, h)| h.clone());
            let client = match known {
                Some(h) => h,
                None => Arc::new(
                    HttpClient::new(&cfg.http_client)
                        .map_err(|message| NotifierError::Client { index, message })?,
                ),
            };
            if !clients.iter().any(|(c, _)| *c == cfg.http_client) {
                clients.push((cfg.http_client.clone(), client.clone()));
            }
            set_clients.push(client);
        }

        let mut old: Vec<Option<AmSet>> =
            std::mem::take(&mut st.sets).into_iter().map(Some).collect();
        let mut sets = Vec::with_capacity(set_clients.len());
        for (cfg, client) in alerting.alertmanagers.iter().zip(set_clients) {
            // An unchanged entry keeps its Alertmanagers and queues, wherever it moved.
            let reuse = old
                .iter_mut()
                .find(|s| s.as_ref().is_some_and(|s| *s.cfg == *cfg))
                .and_then(Option::take);
            let set = match reuse {
                Some(s) => s,
                None => {
                    let mut s = AmSet {
                        cfg: Arc::new(cfg.clone()),
                        client,
                        discovered: Discovered::default(),
                        loops: Vec::new(),
                    };
                    let groups = discovery::static_groups(&cfg.static_configs);
                    self.sync_set(&mut s, &groups, &mut st.retired);
                    s
                }
            };
            sets.push(set);
        }
        for s in old.into_iter().flatten() {
            for l in s.loops {
                l.stop();
                st.retired.push(l);
            }
        }
        st.sets = sets;
        st.clients = clients;
        st.external_labels = external_labels.clone();
        st.relabel = alerting.alert_relabel_configs.clone();
        st.generation += 1;
        drop(st);
        self.changed.notify_one();
        Ok(())
    }

    /// Points `set` at the Alertmanagers of `groups`: loops for new URLs, loops of vanished
    /// URLs stopped (they drain), the others kept with their queues.
    fn sync_set(&self, set: &mut AmSet, groups: &[TargetGroup], retired: &mut Vec<Arc<SendLoop>>) {
        let discovered = targets::alertmanagers(groups, &set.cfg);
        let mut old = std::mem::take(&mut set.loops);
        for url in &discovered.active {
            match old.iter().position(|l| &l.url == url) {
                Some(i) => set.loops.push(old.swap_remove(i)),
                None => set.loops.push(Arc::new(SendLoop::new(
                    url.clone(),
                    set.cfg.clone(),
                    set.client.clone(),
                    self.metrics.clone(),
                    self.opts.queue_capacity,
                ))),
            }
        }
        for l in old {
            l.stop();
            retired.push(l);
        }
        set.discovered = discovered;
    }

    /// Queues `alerts` for every Alertmanager, after external labels and
    /// `alert_relabel_configs` (an alert relabelled away is dropped). Never blocks: a full
    /// queue drops its oldest alerts, counted in `prometheus_notifications_dropped_total`.
    pub fn send(&self, alerts: Vec<Alert>) {
        if self.stopping.load(Ordering::Acquire) || alerts.is_empty() {
            return;
        }
        let st = self.state.read();
        let alerts = relabel_alerts(alerts, &st.external_labels, &st.relabel);
        if alerts.is_empty() {
            return;
        }
        for set in &st.sets {
            let alerts = relabel_shared(&alerts, &set.cfg.alert_relabel_configs);
            for l in &set.loops {
                l.push(&alerts);
            }
        }
    }

    /// Runs every send loop (and file discovery) on the current tokio runtime until
    /// `shutdown` becomes true or its sender goes away; then drains the queues (when
    /// `drain_on_shutdown`) and returns. Call it once.
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let mut tasks = JoinSet::new();
        let mut discovery: Option<(DiscoveryManager, watch::Receiver<TargetSets>)> = None;
        let mut applied_generation = None;
        loop {
            self.start_loops(&mut tasks);
            self.update_discovery(&mut discovery, &mut applied_generation);
            if *shutdown.borrow_and_update() {
                break;
            }
            tokio::select! {
                () = self.changed.notified() => {}
                r = shutdown.changed() => {
                    if r.is_err() {
                        break;
                    }
                }
                sets = discovered(&mut discovery) => self.apply_discovered(&sets),
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            }
        }
        tracing::info!("stopping the notifier");
        self.stopping.store(true, Ordering::Release);
        drop(discovery);
        {
            let st = self.state.read();
            for l in st.sets.iter().flat_map(|s| &s.loops) {
                l.stop();
            }
        }
        self.start_loops(&mut tasks);
        // Each loop ends after its drain, which stops at the first failed request.
        while tasks.join_next().await.is_some() {}
    }

    /// Spawns a task for every loop that has none yet (retired ones included, to drain).
    fn start_loops(&self, tasks: &mut JoinSet<()>) {
        let mut st = self.state.write();
        let retired = std::mem::take(&mut st.retired);
        let loops = st.sets.iter().flat_map(|s| &s.loops).chain(&retired);
        for l in loops {
            if l.claim_start() {
                tasks.spawn(send_loop::run(
                    l.clone(),
                    self.opts.max_batch_size,
                    self.opts.drain_on_shutdown,
                ));
            }
        }
    }

    /// Starts file discovery when a set needs it, and gives it each new configuration.
    fn update_discovery(
        &self,
        discovery: &mut Option<(DiscoveryManager, watch::Receiver<TargetSets>)>,
        applied: &mut Option<u64>,
    ) {
        let st = self.state.read();
        if *applied == Some(st.generation) {
            return;
        }
        *applied = Some(st.generation);
        let jobs: Vec<JobDiscoveryConfig> = st
            .sets
            .iter()
            .enumerate()
            .filter(|(_, s)| !s.cfg.file_sd_configs.is_empty())
            .map(|(i, s)| JobDiscoveryConfig {
                job_name: job_name(st.generation, i),
                static_configs: s.cfg.static_configs.clone(),
                file_sd_configs: s.cfg.file_sd_configs.clone(),
            })
            .collect();
        match discovery {
            Some((dm, _)) => dm.apply_config(jobs),
            None if !jobs.is_empty() => {
                let dm = DiscoveryManager::start(jobs, self.opts.discovery_update_delay);
                let rx = dm.subscribe();
                *discovery = Some((dm, rx));
            }
            None => {}
        }
    }

    /// Applies file discovery results to the sets of the current configuration.
    fn apply_discovered(&self, sets: &TargetSets) {
        let mut guard = self.state.write();
        let st = &mut *guard;
        let mut retired = Vec::new();
        for (i, set) in st.sets.iter_mut().enumerate() {
            if let Some(groups) = sets.get(&job_name(st.generation, i)) {
                self.sync_set(set, groups, &mut retired);
            }
        }
        st.retired.extend(retired);
    }

    /// The URLs alerts are sent to, set by set (for `/api/v1/alertmanagers`).
    pub fn alertmanagers(&self) -> Vec<String> {
        let st = self.state.read();
        st.sets
            .iter()
            .flat_map(|s| s.discovered.active.iter().cloned())
            .collect()
    }

    /// The URLs of discovered Alertmanagers that `relabel_configs` dropped.
    pub fn dropped_alertmanagers(&self) -> Vec<String> {
        let st = self.state.read();
        st.sets
            .iter()
            .flat_map(|s| s.discovered.dropped.iter().cloned())
            .collect()
    }

    /// Alerts waiting, over every Alertmanager's queue.
    pub fn queue_length(&self) -> usize {
        let st = self.state.read();
        st.sets.iter().flat_map(|s| &s.loops).map(|l| l.len()).sum()
    }

    /// The `prometheus_notifications_*` metrics in the text exposition format.
    pub fn metrics_text(&self) -> String {
        self.metrics.render(self.alertmanagers().len())
    }
}

/// The discovery job of set `index` under configuration `generation`.
fn job_name(generation: u64, index: usize) -> String {
    format!("{generation}/config-{index}")
}

/// The next file discovery result; pending forever when discovery is off.
async fn discovered(
    discovery: &mut Option<(DiscoveryManager, watch::Receiver<TargetSets>)>,
) -> TargetSets {
    match discovery {
        Some((_, rx)) => match rx.changed().await {
            Ok(()) => rx.borrow_and_update().clone(),
            Err(_) => std::future::pending().await,
        },
        None => std::future::pending().await,
    }
}
