//! Reloading the hub's configuration, on SIGHUP and on `POST /-/reload`, as Prometheus's
//! `reloadConfig` does: the file is read again and applied to scraping, the notifier and the
//! rules; a part that fails keeps its previous state, and the reload is reported failed.

use std::path::PathBuf;
use std::sync::Arc;

use super::alerting::Alerting;
use super::info::{self, HubInfo};
use crate::scraping::{self, Scraping};

/// Everything a reload touches; reloads run one at a time.
pub struct Reloader {
    path: Option<PathBuf>,
    scraper: Option<Arc<Scraping>>,
    alerting: Arc<Alerting>,
    info: Arc<HubInfo>,
    running: tokio::sync::Mutex<()>,
}

impl Reloader {
    /// A reloader of `path` (none: the hub runs on defaults and a reload has nothing to do).
    pub fn new(
        path: Option<PathBuf>,
        scraper: Option<Arc<Scraping>>,
        alerting: Arc<Alerting>,
        info: Arc<HubInfo>,
    ) -> Reloader {
        Reloader {
            path,
            scraper,
            alerting,
            info,
            running: tokio::sync::Mutex::new(()),
        }
    }

    /// Reads the configuration file again and applies it. The error is what
    /// `/-/reload` answers after `failed to reload config: `.
    pub async fn reload(&self) -> Result<(), String> {
        let _one_at_a_time = self.running.lock().await;
        let Some(path) = &self.path else {
            tracing::info!("no --config: nothing to reload");
            return Ok(());
        };
        tracing::info!("loading configuration file {}", path.display());
        let cfg = match scraping::load_config(path) {
            Ok(cfg) => cfg,
            Err(e) => {
                self.info.reload_failed();
                tracing::error!("configuration reload failed, keeping the previous one: {e:#}");
                return Err(format!(
                    "couldn't load configuration (--config={:?}): {e:#}",
                    path.display().to_string()
                ));
            }
        };
        if let Some(s) = &self.scraper {
            s.reload(&cfg);
        }
        match self.alerting.apply(&cfg).await {
            Ok(()) => {
                self.info.reloaded(&info::read_config_text(path), &cfg);
                tracing::info!("reloaded configuration from {}", path.display());
                Ok(())
            }
            Err(e) => {
                self.info.reload_failed();
                tracing::error!("configuration reload incomplete: {e}");
                Err(format!(
                    "one or more errors occurred while applying the new configuration (--config={:?}): {e}",
                    path.display().to_string()
                ))
            }
        }
    }

    /// Reloads on every SIGHUP for as long as the process runs.
    pub fn on_sighup(self: Arc<Self>) {
        #[cfg(unix)]
        tokio::spawn(async move {
            use tokio::signal::unix::{SignalKind, signal};
            let Ok(mut hup) = signal(SignalKind::hangup()) else {
                tracing::warn!("cannot listen for SIGHUP: configuration reload disabled");
                return;
            };
            while hup.recv().await.is_some() {
                // Failures are logged and recorded for /api/v1/status/runtimeinfo.
                let _ = self.reload().await;
            }
        });
    }

    /// The `/-/reload` hook.
    pub fn hook(self: Arc<Self>) -> server::state::ReloadFn {
        Arc::new(move || {
            let me = self.clone();
            Box::pin(async move { me.reload().await })
        })
    }
}
