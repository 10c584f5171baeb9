//! Where alerts go: a [`NotifySink`] receives each rule's due alerts after every evaluation;
//! [`NotifierSink`] turns them into Alertmanager notifications for the `notifier` crate, as
//! Prometheus's `SendAlerts` does.

use std::sync::Arc;

use crate::alerting::Alert;

/// Receives the alerts of one rule that are due to be sent (firing ones at most once per
/// resend delay, resolved ones until they are dropped).
pub trait NotifySink: Send + Sync {
    /// `expr` is the rule's expression (for the generator URL).
    fn notify(&self, expr: &str, alerts: Vec<Alert>);
}

/// Sends alerts to Alertmanager through a [`notifier::Notifier`], which adds the external
/// labels and applies `alert_relabel_configs` (as Prometheus's notifier does), so that a
/// reload of those takes effect there alone.
pub struct NotifierSink {
    notifier: Arc<notifier::Notifier>,
    external_url: String,
}

impl NotifierSink {
    /// A sink linking alerts back to rules under `external_url`.
    pub fn new(notifier: Arc<notifier::Notifier>, external_url: &str) -> Self {
        NotifierSink {
            notifier,
            external_url: external_url.trim_end_matches('/').to_string(),
        }
    }
}

impl NotifySink for NotifierSink {
    fn notify(&self, expr: &str, alerts: Vec<Alert>) {
        if alerts.is_empty() {
            return;
        }
        let url = generator_url(&self.external_url, expr);
        let out = alerts
            .into_iter()
            .map(|a| to_notification(a, &url))
            .collect();
        self.notifier.send(out);
    }
}

/// The notification for an alert: it starts when it fired and ends when it resolved, or
/// else when its last send stops being valid.
pub fn to_notification(a: Alert, generator_url: &str) -> notifier::Alert {
    notifier::Alert {
        labels: a.labels,
        annotations: a.annotations,
        starts_at: a.fired_at.unwrap_or(a.active_at),
        ends_at: a.resolved_at.or(a.valid_until),
        generator_url: generator_url.to_string(),
    }
}

/// `EXTERNAL_URL/graph?g0.expr=EXPR&g0.tab=1`, as Prometheus links alerts to their rule.
pub fn generator_url(external_url: &str, expr: &str) -> String {
    format!(
        "{external_url}/graph?g0.expr={}&g0.tab=1",
        query_escape(expr)
    )
}

/// Go's `url.QueryEscape`, the one the templates' `urlQueryEscape` uses.
pub use gofmt::query_escape;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generator_url_escapes_like_go() {
        assert_eq!(
            generator_url("http://hub:9090", "up{job=\"a b\"} == 0"),
            "http://hub:9090/graph?g0.expr=up%7Bjob%3D%22a+b%22%7D+%3D%3D+0&g0.tab=1"
        );
    }
}

#[cfg(test)]
mod notification_tests {
    use model::Labels;

    use super::*;
    use crate::alerting::AlertState;

    #[test]
    fn notifications_end_when_resolved_or_when_no_longer_valid() {
        let mut a = Alert {
            state: AlertState::Firing,
            labels: Labels::from_pairs([("alertname", "A")]),
            annotations: Labels::empty(),
            value: 1.0,
            active_at: 1_000,
            fired_at: Some(61_000),
            resolved_at: None,
            last_sent_at: Some(61_000),
            valid_until: Some(301_000),
            keep_firing_since: None,
        };
        let n = to_notification(a.clone(), "u");
        assert_eq!((n.starts_at, n.ends_at), (61_000, Some(301_000)));
        a.state = AlertState::Inactive;
        a.resolved_at = Some(121_000);
        let n = to_notification(a, "u");
        assert_eq!((n.starts_at, n.ends_at), (61_000, Some(121_000)));
        assert_eq!(n.generator_url, "u");
    }
}
