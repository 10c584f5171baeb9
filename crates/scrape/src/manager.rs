//! The scrape manager: one pool per job, fed by discovery, with target status for the API.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use config::ScrapeConfig;
use discovery::{TargetGroup, TargetSets};
use model::Labels;
use parking_lot::Mutex;
use storage::{Appendable, WriteIdentity};
use tokio::sync::watch;

use crate::cluster::ClusterLabel;
use crate::pool::Pool;
use crate::scrape_loop::{Health, LoopHandle};

/// One active target as `/api/v1/targets` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetStatus {
    /// The job (scrape pool).
    pub job: String,
    /// Labels after relabelling, without internal `__` labels.
    pub labels: Labels,
    /// Labels as discovered, before relabelling.
    pub discovered_labels: Labels,
    /// The scrape URL.
    pub scrape_url: String,
    /// Health as of the last scrape.
    pub health: Health,
    /// The last scrape's error, empty when it succeeded.
    pub last_error: String,
    /// When the last scrape started.
    pub last_scrape: Option<SystemTime>,
    /// How long the last scrape took.
    pub last_scrape_duration: Duration,
    /// The target's scrape interval.
    pub scrape_interval: Duration,
    /// The target's scrape timeout.
    pub scrape_timeout: Duration,
}

/// A target relabelling dropped, as `/api/v1/targets` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DroppedTarget {
    /// The job.
    pub job: String,
    /// Labels as discovered.
    pub discovered_labels: Labels,
}

struct State {
    pools: HashMap<String, Pool>,
    configs: Vec<ScrapeConfig>,
    groups: TargetSets,
}

/// Runs scrape pools for the configured jobs over the targets discovery publishes.
#[derive(Clone)]
pub struct ScrapeManager {
    appendable: Arc<dyn Appendable>,
    cluster: ClusterLabel,
    identity: WriteIdentity,
    state: Arc<Mutex<State>>,
    /// True once shut down; `run` returns and no loop starts again.
    shutdown: Arc<watch::Sender<bool>>,
}

impl ScrapeManager {
    /// A manager writing through `appendable` as `identity`, stamping `cluster`.
    pub fn new(
        appendable: Arc<dyn Appendable>,
        cluster: ClusterLabel,
        identity: WriteIdentity,
    ) -> Self {
        ScrapeManager {
            appendable,
            cluster,
            identity,
            state: Arc::new(Mutex::new(State {
                pools: HashMap::new(),
                configs: Vec::new(),
                groups: TargetSets::new(),
            })),
            shutdown: Arc::new(watch::channel(false).0),
        }
    }

    /// Takes a new list of jobs: new jobs start (with the targets last discovered for them),
    /// changed jobs restart their loops, removed jobs stop and mark their series stale.
    /// Must be called within a tokio runtime.
    pub fn apply_config(&self, configs: &[ScrapeConfig]) {
        let mut st = self.state.lock();
        if *self.shutdown.borrow() {
            return;
        }
        let st = &mut *st;
        st.configs = configs.to_vec();
        let wanted: HashMap<&str, &ScrapeConfig> =
            configs.iter().map(|c| (c.job_name.as_str(), c)).collect();
        st.pools.retain(|job, pool| {
            let keep = wanted.contains_key(job.as_str());
            if !keep {
                pool.stop(true);
            }
            keep
        });
        for cfg in configs {
            let groups = st
                .groups
                .get(&cfg.job_name)
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            match st.pools.get_mut(&cfg.job_name) {
                Some(pool) if pool.config == *cfg => {}
                Some(pool) => pool.reload(
                    cfg.clone(),
                    self.appendable.clone(),
                    self.identity.clone(),
                    groups,
                ),
                None => {
                    let mut pool = Pool::new(
                        cfg.clone(),
                        self.appendable.clone(),
                        self.identity.clone(),
                        self.cluster.clone(),
                    );
                    pool.sync(groups);
                    st.pools.insert(cfg.job_name.clone(), pool);
                }
            }
        }
    }

    /// Follows discovery until [`ScrapeManager::shutdown`] or until the sender goes away:
    /// every published set replaces the targets of the jobs it names.
    pub async fn run(&self, mut targets: watch::Receiver<HashMap<String, Vec<TargetGroup>>>) {
        let mut down = self.shutdown.subscribe();
        loop {
            if *down.borrow_and_update() {
                return;
            }
            let sets = targets.borrow_and_update().clone();
            self.sync(sets);
            tokio::select! {
                changed = targets.changed() => {
                    if changed.is_err() {
                        return;
                    }
                }
                _ = down.changed() => {}
            }
        }
    }

    /// Replaces the discovered groups of every job.
    pub fn sync(&self, sets: TargetSets) {
        let mut st = self.state.lock();
        if *self.shutdown.borrow() {
            return;
        }
        for (job, pool) in st.pools.iter_mut() {
            let groups = sets.get(job).map(Vec::as_slice).unwrap_or(&[]);
            pool.sync(groups);
        }
        st.groups = sets;
    }

    /// Every active target, ordered by job then labels.
    pub fn targets(&self) -> Vec<TargetStatus> {
        let st = self.state.lock();
        let mut out: Vec<TargetStatus> = st
            .pools
            .iter()
            .flat_map(|(job, pool)| {
                pool.entries.values().map(move |e| {
                    let s = e.status.lock().clone();
                    TargetStatus {
                        job: job.clone(),
                        labels: e.target.labels(),
                        discovered_labels: e.target.discovered_labels().clone(),
                        scrape_url: e.target.url(),
                        health: s.health,
                        last_error: s.last_error,
                        last_scrape: s.last_scrape,
                        last_scrape_duration: s.last_duration,
                        scrape_interval: e.target.interval(),
                        scrape_timeout: e.target.timeout(),
                    }
                })
            })
            .collect();
        out.sort_by(|a, b| (&a.job, &a.labels).cmp(&(&b.job, &b.labels)));
        out
    }

    /// Targets dropped by relabelling (or unusable), per job as of the last sync.
    pub fn dropped_targets(&self) -> Vec<DroppedTarget> {
        let st = self.state.lock();
        let mut out: Vec<DroppedTarget> = st
            .pools
            .iter()
            .flat_map(|(job, pool)| {
                pool.dropped.iter().map(move |l| DroppedTarget {
                    job: job.clone(),
                    discovered_labels: l.clone(),
                })
            })
            .collect();
        out.sort_by(|a, b| (&a.job, &a.discovered_labels).cmp(&(&b.job, &b.discovered_labels)));
        out
    }

    /// Number of dropped targets per job.
    pub fn dropped_counts(&self) -> HashMap<String, usize> {
        let st = self.state.lock();
        st.pools
            .iter()
            .map(|(j, p)| (j.clone(), p.dropped.len()))
            .collect()
    }

    /// Stops every loop without stale markers (as Prometheus does on exit, so that a restart
    /// leaves no gap) and waits for them; `run` returns.
    pub async fn shutdown(&self) {
        let handles: Vec<LoopHandle> = {
            let mut st = self.state.lock();
            // Set under the state lock so that no sync can start a loop after this.
            self.shutdown.send_replace(true);
            st.pools.values_mut().flat_map(|p| p.stop(false)).collect()
        };
        for h in handles {
            h.join().await;
        }
    }
}
