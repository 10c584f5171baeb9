//! Runs every job's discovery and publishes the full set of target groups per job.

use std::collections::HashMap;
use std::time::Duration;

use config::{FileSdConfig, ScrapeConfig, StaticConfig};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::file::FileDiscovery;
use crate::group::{TargetGroup, static_groups};

/// Every job's current target groups, keyed by job name.
pub type TargetSets = HashMap<String, Vec<TargetGroup>>;

/// What one job discovers targets from.
#[derive(Debug, Clone, PartialEq)]
pub struct JobDiscoveryConfig {
    /// The job name.
    pub job_name: String,
    /// Groups written in the configuration.
    pub static_configs: Vec<StaticConfig>,
    /// Target files to read and watch.
    pub file_sd_configs: Vec<FileSdConfig>,
}

impl From<&ScrapeConfig> for JobDiscoveryConfig {
    fn from(sc: &ScrapeConfig) -> Self {
        JobDiscoveryConfig {
            job_name: sc.job_name.clone(),
            static_configs: sc.static_configs.clone(),
            file_sd_configs: sc.file_sd_configs.clone(),
        }
    }
}

impl From<(String, Vec<StaticConfig>, Vec<FileSdConfig>)> for JobDiscoveryConfig {
    fn from(
        (job_name, static_configs, file_sd_configs): (String, Vec<StaticConfig>, Vec<FileSdConfig>),
    ) -> Self {
        JobDiscoveryConfig {
            job_name,
            static_configs,
            file_sd_configs,
        }
    }
}

/// An update from one provider: (config generation, job, provider index, its groups).
type Update = (u64, String, usize, Vec<TargetGroup>);

/// One job's providers' latest groups: index 0 is the static groups, then one per file config.
type JobState = Vec<Vec<TargetGroup>>;

/// Runs discovery for every job and publishes [`TargetSets`] on a watch channel, at most
/// once per `update_delay` (Prometheus throttles the same way, every 5s).
pub struct DiscoveryManager {
    tx: watch::Sender<TargetSets>,
    cmd: mpsc::UnboundedSender<Vec<JobDiscoveryConfig>>,
    task: JoinHandle<()>,
}

impl DiscoveryManager {
    /// Starts discovery for `jobs`; must be called inside a tokio runtime.
    pub fn start(jobs: Vec<JobDiscoveryConfig>, update_delay: Duration) -> Self {
        let (tx, _) = watch::channel(TargetSets::new());
        let (cmd, cmd_rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(run(tx.clone(), cmd_rx, update_delay));
        // The receiver cannot be gone: the task holds it until the manager drops `cmd`.
        let _ = cmd.send(jobs);
        DiscoveryManager { tx, cmd, task }
    }

    /// A receiver of the full current set per job.
    pub fn subscribe(&self) -> watch::Receiver<TargetSets> {
        self.tx.subscribe()
    }

    /// Replaces the jobs: providers of the old configuration stop, new ones start.
    pub fn apply_config(&self, jobs: Vec<JobDiscoveryConfig>) {
        let _ = self.cmd.send(jobs);
    }

    /// Stops every provider.
    pub fn shutdown(self) {
        self.task.abort();
    }
}

impl Drop for DiscoveryManager {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Stops provider tasks when the set is replaced or the manager goes away.
struct Providers(Vec<JoinHandle<()>>);

impl Drop for Providers {
    fn drop(&mut self) {
        for h in &self.0 {
            h.abort();
        }
    }
}

async fn run(
    tx: watch::Sender<TargetSets>,
    mut cmd: mpsc::UnboundedReceiver<Vec<JobDiscoveryConfig>>,
    delay: Duration,
) {
    let (up_tx, mut up_rx) = mpsc::unbounded_channel::<Update>();
    let mut state: HashMap<String, JobState> = HashMap::new();
    let mut generation = 0u64;
    let mut _providers = Providers(Vec::new());
    let mut due: Option<Instant> = None;
    loop {
        tokio::select! {
            jobs = cmd.recv() => {
                let Some(jobs) = jobs else { return };
                generation += 1;
                _providers = Providers(Vec::new());
                state = start_jobs(jobs, generation, &up_tx, &mut _providers);
                due.get_or_insert_with(|| Instant::now() + delay);
            }
            Some((g, job, idx, groups)) = up_rx.recv() => {
                if g != generation {
                    continue;
                }
                if let Some(slot) = state.get_mut(&job).and_then(|s| s.get_mut(idx)) {
                    *slot = groups;
                    due.get_or_insert_with(|| Instant::now() + delay);
                }
            }
            _ = sleep_until(due) => {
                due = None;
                let sets: TargetSets = state
                    .iter()
                    .map(|(job, s)| (job.clone(), s.iter().flatten().cloned().collect()))
                    .collect();
                tx.send_replace(sets);
            }
        }
    }
}

async fn sleep_until(due: Option<Instant>) {
    match due {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}

fn start_jobs(
    jobs: Vec<JobDiscoveryConfig>,
    generation: u64,
    up_tx: &mpsc::UnboundedSender<Update>,
    providers: &mut Providers,
) -> HashMap<String, JobState> {
    let mut state = HashMap::new();
    for job in jobs {
        let mut s: JobState = vec![static_groups(&job.static_configs)];
        for (i, fc) in job.file_sd_configs.iter().enumerate() {
            s.push(Vec::new());
            let fd = FileDiscovery::new(fc);
            let tx = up_tx.clone();
            let name = job.job_name.clone();
            providers.0.push(tokio::spawn(fd.run(move |groups| {
                tx.send((generation, name.clone(), i + 1, groups)).is_ok()
            })));
        }
        state.insert(job.job_name, s);
    }
    state
}
