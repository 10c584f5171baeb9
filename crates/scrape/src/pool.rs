//! A job's scrape pool: its targets, one loop each, started and stopped as discovery changes.

use std::collections::HashMap;
use std::sync::Arc;

use config::ScrapeConfig;
use discovery::TargetGroup;
use model::Labels;
use parking_lot::Mutex;
use storage::{Appendable, WriteIdentity};

use crate::append::{SampleRules, ScrapeCache};
use crate::client::ScrapeClient;
use crate::cluster::ClusterLabel;
use crate::scrape_loop::{JobContext, LastScrape, LoopHandle};
use crate::target::{Target, targets_from_groups};

/// The state a loop leaves behind for its successor.
type State = (Arc<Mutex<ScrapeCache>>, Arc<Mutex<LastScrape>>);

/// One target of a pool and its loop.
pub(crate) struct Entry {
    pub target: Target,
    pub status: Arc<Mutex<LastScrape>>,
    cache: Arc<Mutex<ScrapeCache>>,
    handle: LoopHandle,
}

/// The targets of one job.
pub(crate) struct Pool {
    pub config: ScrapeConfig,
    ctx: Arc<JobContext>,
    cluster: ClusterLabel,
    pub entries: HashMap<u64, Entry>,
    /// Discovered labels of targets dropped by relabelling (or unusable), newest sync.
    pub dropped: Vec<Labels>,
}

fn context(
    cfg: &ScrapeConfig,
    appendable: Arc<dyn Appendable>,
    identity: WriteIdentity,
    cluster: &ClusterLabel,
) -> Arc<JobContext> {
    let client = ScrapeClient::new(&cfg.http_client, cfg.enable_compression);
    if let Err(e) = &client {
        tracing::error!(job = %cfg.job_name, error = %e, "cannot build the job's HTTP client; its scrapes will fail");
    }
    Arc::new(JobContext {
        rules: SampleRules {
            honor_labels: cfg.honor_labels,
            honor_timestamps: cfg.honor_timestamps,
            track_timestamps_staleness: cfg.track_timestamps_staleness,
            metric_relabel: cfg.metric_relabel_configs.clone(),
            sample_limit: cfg.sample_limit,
            label_limit: cfg.label_limit,
            label_name_length_limit: cfg.label_name_length_limit,
            label_value_length_limit: cfg.label_value_length_limit,
            cluster: cluster.clone(),
            fallback_format: cfg.fallback_scrape_protocol.map(|p| match p {
                config::ScrapeProtocol::OpenMetricsText0_0_1
                | config::ScrapeProtocol::OpenMetricsText1_0_0 => exposition::Format::OpenMetrics,
                // The protobuf format is not parsed; text is the closest reading.
                _ => exposition::Format::PrometheusText,
            }),
        },
        client,
        body_size_limit: cfg.body_size_limit,
        appendable,
        identity,
        forced_error: Arc::new(Mutex::new(None)),
    })
}

impl Pool {
    /// A pool for `cfg` with no targets yet.
    pub fn new(
        cfg: ScrapeConfig,
        appendable: Arc<dyn Appendable>,
        identity: WriteIdentity,
        cluster: ClusterLabel,
    ) -> Self {
        let ctx = context(&cfg, appendable, identity, &cluster);
        Pool {
            config: cfg,
            ctx,
            cluster,
            entries: HashMap::new(),
            dropped: Vec::new(),
        }
    }

    /// Replaces the targets with those of `groups`: new ones start, gone ones stop with
    /// stale markers, unchanged ones keep running.
    pub fn sync(&mut self, groups: &[TargetGroup]) {
        self.sync_inheriting(groups, &mut HashMap::new());
    }

    /// [`Pool::sync`], where a new target whose public labels are in `inherit` takes over
    /// that state (series for staleness, last scrape) from a loop stopped by a reload.
    fn sync_inheriting(&mut self, groups: &[TargetGroup], inherit: &mut HashMap<Labels, State>) {
        let derived = targets_from_groups(&self.config, groups, &self.cluster);
        for (labels, e) in &derived.errors {
            tracing::warn!(job = %self.config.job_name, target = %labels, error = %e, "target dropped");
        }
        self.dropped = derived.dropped;
        self.dropped
            .extend(derived.errors.into_iter().map(|(l, _)| l));
        let mut next: HashMap<u64, Target> = HashMap::new();
        for t in derived.targets {
            // Identical targets (same labels and URL) are scraped once.
            next.entry(t.hash()).or_insert(t);
        }
        // Over target_limit every target of the job fails its scrapes (up=0), as in Prometheus.
        let limit = self.config.target_limit;
        *self.ctx.forced_error.lock() = (limit > 0 && next.len() as u64 > limit).then_some(
            crate::error::ScrapeError::TargetLimit {
                count: next.len(),
                limit,
            },
        );
        self.entries.retain(|hash, e| {
            let keep = next.contains_key(hash);
            if !keep {
                e.handle.stop(true);
            }
            keep
        });
        for (hash, target) in next {
            if let Some(e) = self.entries.get_mut(&hash) {
                // Same identity; discovered labels may still differ (shown by the API).
                e.target = target;
                continue;
            }
            let (cache, status) = inherit.remove(&target.labels()).unwrap_or_default();
            let handle = LoopHandle::start(
                self.ctx.clone(),
                target.clone(),
                cache.clone(),
                status.clone(),
            );
            self.entries.insert(
                hash,
                Entry {
                    target,
                    status,
                    cache,
                    handle,
                },
            );
        }
    }

    /// Takes a changed configuration: every loop restarts with the new settings and keeps
    /// its staleness state, so no stale markers are written in between.
    pub fn reload(
        &mut self,
        cfg: ScrapeConfig,
        appendable: Arc<dyn Appendable>,
        identity: WriteIdentity,
        groups: &[TargetGroup],
    ) {
        self.ctx = context(&cfg, appendable, identity, &self.cluster);
        self.config = cfg;
        let old: HashMap<u64, Entry> = std::mem::take(&mut self.entries);
        let mut caches: HashMap<Labels, State> = HashMap::new();
        for (_, e) in old {
            e.handle.stop(false);
            caches.insert(e.target.labels(), (e.cache, e.status));
        }
        // Targets whose public labels are unchanged inherit the old loop's series, so that
        // the first scrape after the reload marks only really vanished series stale.
        self.sync_inheriting(groups, &mut caches);
        // Targets that vanished with the reload get their stale markers now.
        for (labels, (cache, _)) in caches {
            let mut app = self.ctx.appendable.appender(&self.ctx.identity);
            let ts = crate::now_ms();
            let r =
                crate::append::append_failure(app.as_mut(), &mut cache.lock(), ts).and_then(|()| {
                    crate::append::append_report_stale(app.as_mut(), &labels, &self.cluster, ts)
                        .map_err(|e| crate::error::ScrapeError::Storage(e.to_string()))
                });
            match r {
                Ok(()) => {
                    let _ = app.commit();
                }
                Err(_) => app.rollback(),
            }
        }
    }

    /// Stops every loop; with `stale`, each writes stale markers for its series.
    pub fn stop(&mut self, stale: bool) -> Vec<LoopHandle> {
        self.entries
            .drain()
            .map(|(_, e)| {
                e.handle.stop(stale);
                e.handle
            })
            .collect()
    }
}
