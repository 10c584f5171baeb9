//! Discovery feeding scrape pools: the part the agent and the hub share.

use std::sync::Arc;
use std::time::Duration;

use discovery::{DiscoveryManager, JobDiscoveryConfig};
use scrape::{ClusterLabel, ScrapeManager};

/// Discovery and scraping for one configuration, reloadable.
pub struct Scraping {
    discovery: DiscoveryManager,
    manager: ScrapeManager,
    task: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Scraping {
    /// Starts discovery and scrape loops for `config`'s scrape jobs, writing to `appendable`.
    pub fn start(
        config: &config::Config,
        appendable: Arc<dyn storage::Appendable>,
        cluster: ClusterLabel,
        identity: storage::WriteIdentity,
    ) -> Scraping {
        let discovery = DiscoveryManager::start(jobs(config), Duration::from_millis(200));
        let manager = ScrapeManager::new(appendable, cluster, identity);
        manager.apply_config(&config.scrape_configs);
        let rx = discovery.subscribe();
        let m = manager.clone();
        let task = tokio::spawn(async move { m.run(rx).await });
        Scraping {
            discovery,
            manager,
            task: std::sync::Mutex::new(Some(task)),
        }
    }

    /// Applies a new configuration: jobs added, changed and removed as Prometheus does on reload.
    pub fn reload(&self, config: &config::Config) {
        self.manager.apply_config(&config.scrape_configs);
        self.discovery.apply_config(jobs(config));
    }

    /// The scrape manager (target health for the API and /metrics).
    pub fn manager(&self) -> &ScrapeManager {
        &self.manager
    }

    /// Stops scraping (no stale markers, so a restart leaves no gap); discovery stops on drop.
    pub async fn shutdown(&self) {
        self.manager.shutdown().await;
        let task = self.task.lock().map(|mut t| t.take()).unwrap_or(None);
        if let Some(t) = task {
            let _ = t.await;
        }
    }
}

fn jobs(config: &config::Config) -> Vec<JobDiscoveryConfig> {
    config
        .scrape_configs
        .iter()
        .map(JobDiscoveryConfig::from)
        .collect()
}

/// Loads a configuration file, logging its warnings.
pub fn load_config(path: &std::path::Path) -> anyhow::Result<config::Config> {
    let loaded = config::Config::load_file(path).map_err(|e| anyhow::anyhow!("{e}"))?;
    for w in &loaded.warnings {
        tracing::warn!("{w}");
    }
    Ok(loaded.config)
}

/// Reloads `path` on SIGHUP and applies it; a bad file is logged and the old one kept.
pub fn reload_on_sighup(
    path: std::path::PathBuf,
    apply: impl Fn(&config::Config) + Send + 'static,
) {
    #[cfg(unix)]
    tokio::spawn(async move {
        let Ok(mut hup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        else {
            tracing::warn!("cannot listen for SIGHUP: configuration reload disabled");
            return;
        };
        while hup.recv().await.is_some() {
            match load_config(&path) {
                Ok(cfg) => {
                    apply(&cfg);
                    tracing::info!("reloaded configuration from {}", path.display());
                }
                Err(e) => {
                    tracing::error!("configuration reload failed, keeping the previous one: {e:#}")
                }
            }
        }
    });
}
