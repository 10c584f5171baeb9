//! Rule evaluation and alert delivery in the hub, as in Prometheus: a rules manager over the
//! hub's own query engine and TSDB, a notifier sending to the Alertmanagers of `alerting:`,
//! their flags, and how a configuration (initial or reloaded) reaches both.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;
use notifier::{Notifier, NotifierOptions};
use rules::{Manager, ManagerOptions, NotifierSink, RestoreOptions, RulesConfig, RulesQuery};
use server::info::{Alertmanagers, RefusedParam, RulesInfo};
use tokio::sync::watch;

use super::parse_duration;

/// Flags of rule evaluation and alert delivery, named and defaulted as Prometheus's.
#[derive(Args, Debug, Clone, PartialEq)]
pub struct RulesArgs {
    /// The URL the hub is reached at, for alerts' generator URLs and `$externalURL`
    /// [default: http://<listen address>/].
    #[arg(long = "web.external-url")]
    pub external_url: Option<String>,
    /// Least time between two sends of a still-firing alert to Alertmanager.
    #[arg(long = "rules.alert.resend-delay", default_value = "1m", value_parser = parse_duration)]
    pub resend_delay: Duration,
    /// Longest hub outage across which alerts' `for` state is restored.
    #[arg(long = "rules.alert.for-outage-tolerance", default_value = "1h", value_parser = parse_duration)]
    pub for_outage_tolerance: Duration,
    /// Least time between restoring an alert's `for` state and firing it.
    #[arg(long = "rules.alert.for-grace-period", default_value = "10m", value_parser = parse_duration)]
    pub for_grace_period: Duration,
    /// Alerts each Alertmanager's queue holds before the oldest are dropped.
    #[arg(long = "alertmanager.notification-queue-capacity", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub queue_capacity: u64,
}

impl Default for RulesArgs {
    /// The flags' defaults (Prometheus's).
    fn default() -> Self {
        RulesArgs {
            external_url: None,
            resend_delay: Duration::from_secs(60),
            for_outage_tolerance: Duration::from_secs(3600),
            for_grace_period: Duration::from_secs(600),
            queue_capacity: 10_000,
        }
    }
}

impl RulesArgs {
    /// Every flag's value as a string, under its long name (`/api/v1/status/flags`).
    pub fn flag_values(&self) -> Vec<(&'static str, String)> {
        let dur = super::info::duration_string;
        vec![
            (
                "web.external-url",
                self.external_url.clone().unwrap_or_default(),
            ),
            ("rules.alert.resend-delay", dur(self.resend_delay)),
            (
                "rules.alert.for-outage-tolerance",
                dur(self.for_outage_tolerance),
            ),
            ("rules.alert.for-grace-period", dur(self.for_grace_period)),
            (
                "alertmanager.notification-queue-capacity",
                self.queue_capacity.to_string(),
            ),
        ]
    }

    /// The external URL as Prometheus's `computeExternalURL` makes it: the flag when given,
    /// else `http://<listen address>` (the host name when listening on every address), and
    /// the path without its trailing slash.
    pub fn external_url(&self, bound: SocketAddr) -> anyhow::Result<String> {
        let Some(given) = self.external_url.as_deref().filter(|u| !u.is_empty()) else {
            if bound.ip().is_unspecified() {
                return Ok(format!(
                    "http://{}:{}",
                    super::info::hostname(),
                    bound.port()
                ));
            }
            return Ok(format!("http://{bound}"));
        };
        if given.starts_with(['"', '\'']) || given.ends_with(['"', '\'']) {
            anyhow::bail!("--web.external-url {given:?}: URL must not begin or end with quotes");
        }
        let url = reqwest::Url::parse(given)
            .with_context(|| format!("--web.external-url {given:?} is not a URL"))?;
        let text = url.as_str();
        if url.query().is_some() || url.fragment().is_some() {
            return Ok(text.to_string());
        }
        Ok(text.trim_end_matches('/').to_string())
    }
}

/// The hub's rules manager and notifier.
pub struct Alerting {
    manager: Arc<Manager>,
    notifier: Arc<Notifier>,
    stop_notifier: watch::Sender<bool>,
    notifier_task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Alerting {
    /// Starts the notifier's task and a manager with no rules; [`Alerting::apply`] loads them.
    /// Rules query `engine` over `db` and write their results to it.
    pub fn start(
        args: &RulesArgs,
        engine: Arc<promql::Engine>,
        db: Arc<tsdb::Db>,
        external_url: &str,
    ) -> Alerting {
        let notifier = Notifier::new(NotifierOptions {
            queue_capacity: usize::try_from(args.queue_capacity).unwrap_or(usize::MAX),
            ..NotifierOptions::default()
        });
        let (stop_notifier, stopped) = watch::channel(false);
        let task = tokio::spawn(notifier.clone().run(stopped));
        let mut opts = ManagerOptions::new(engine, db.clone(), db);
        opts.notify = Some(Arc::new(NotifierSink::new(notifier.clone(), external_url)));
        opts.external_url = external_url.to_string();
        opts.resend_delay = args.resend_delay;
        opts.restore = RestoreOptions {
            outage_tolerance: args.for_outage_tolerance,
            for_grace_period: args.for_grace_period,
        };
        Alerting {
            manager: Arc::new(Manager::new(opts)),
            notifier,
            stop_notifier,
            notifier_task: Mutex::new(Some(task)),
        }
    }

    /// Applies a configuration: `alerting:` and the external labels to the notifier, the
    /// rule files to the manager (which keeps the previous rules when one is invalid). Both
    /// are tried; the error tells every part that failed.
    pub async fn apply(&self, cfg: &config::Config) -> Result<(), String> {
        let mut errors = Vec::new();
        if let Err(e) = self
            .notifier
            .apply_config(&cfg.alerting, &cfg.global.external_labels)
        {
            tracing::error!(error = %e, "applying the alerting configuration failed");
            errors.push(format!("alerting: {e}"));
        }
        match rules_config(cfg) {
            Ok(rc) => {
                let manager = self.manager.clone();
                let groups = rc.files.len();
                // update() waits for replaced groups' threads to finish their evaluation.
                match tokio::task::spawn_blocking(move || manager.update(&rc)).await {
                    Ok(Ok(())) => tracing::info!(files = groups, "rule files loaded"),
                    // The manager logged each problem.
                    Ok(Err(e)) => errors.push(format!(
                        "error loading rules, previous rule set restored: {e}"
                    )),
                    Err(e) => errors.push(format!("loading rules panicked: {e}")),
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "finding rule files failed");
                errors.push(e);
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("; "))
        }
    }

    /// Stops evaluating, then sends what the notifier still holds and stops it.
    pub async fn shutdown(&self) {
        let manager = self.manager.clone();
        if tokio::task::spawn_blocking(move || manager.stop())
            .await
            .is_err()
        {
            tracing::error!("stopping the rule manager panicked");
        }
        let _ = self.stop_notifier.send(true);
        let task = self
            .notifier_task
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(t) = task
            && t.await.is_err()
        {
            tracing::error!("the notifier task panicked");
        }
    }

    /// The `prometheus_rule_*` and `prometheus_notifications_*` metrics.
    pub fn metrics_text(&self) -> String {
        let mut out = self.manager.metrics_text();
        out.push_str(&self.notifier.metrics_text());
        out
    }
}

/// What a configuration gives the rules manager; the rule files' patterns are globbed now.
fn rules_config(cfg: &config::Config) -> Result<RulesConfig, String> {
    Ok(RulesConfig {
        files: rules::expand_rule_files(&cfg.rule_files)?,
        evaluation_interval: cfg.global.evaluation_interval.std(),
        rule_query_offset: cfg.global.rule_query_offset.std(),
        external_labels: cfg.global.external_labels.clone(),
    })
}

impl RulesInfo for Alerting {
    fn rules_json(&self, params: &[(&str, &str)]) -> Result<String, RefusedParam> {
        let refused = |e: rules::ParamError| RefusedParam {
            param: e.param.to_string(),
            message: e.message,
        };
        let q = RulesQuery::from_params(params.iter().copied()).map_err(refused)?;
        let data = self.manager.rules_data(&q).map_err(refused)?;
        Ok(json_or(serde_json::to_string(&data), r#"{"groups":[]}"#))
    }

    fn alerts_json(&self) -> String {
        json_or(
            serde_json::to_string(&self.manager.alerts_data()),
            r#"{"alerts":[]}"#,
        )
    }

    fn alertmanagers(&self) -> Alertmanagers {
        Alertmanagers {
            active: self.notifier.alertmanagers(),
            dropped: self.notifier.dropped_alertmanagers(),
        }
    }
}

/// Encoded API data; these types always encode, `empty` only guards the impossible.
fn json_or(encoded: serde_json::Result<String>, empty: &str) -> String {
    encoded.unwrap_or_else(|e| {
        tracing::error!(error = %e, "encoding rules API data failed");
        empty.to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn external_url_as_prometheus_computes_it() {
        let a = RulesArgs::default();
        let bound: SocketAddr = "127.0.0.1:9090".parse().expect("addr");
        assert_eq!(a.external_url(bound).expect("url"), "http://127.0.0.1:9090");
        let with = |u: &str| RulesArgs {
            external_url: Some(u.into()),
            ..RulesArgs::default()
        };
        assert_eq!(
            with("https://hub.example/prom/")
                .external_url(bound)
                .expect("url"),
            "https://hub.example/prom"
        );
        assert!(with("\"http://x/\"").external_url(bound).is_err());
        assert!(with("not a url").external_url(bound).is_err());
    }
}
