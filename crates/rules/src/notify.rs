//! Where alerts go: a [`NotifySink`] receives each rule's due alerts after every evaluation;
//! [`NotifierSink`] turns them into Alertmanager notifications for the `notifier` crate, as
//! Prometheus's `SendAlerts` does.

use std::sync::Arc;

use model::{Labels, LabelsBuilder};

use crate::alerting::Alert;

/// Receives the alerts of one rule that are due to be sent (firing ones at most once per
/// resend delay, resolved ones until they are dropped).
pub trait NotifySink: Send + Sync {
    /// `expr` is the rule's expression (for the generator URL).
    fn notify(&self, expr: &str, alerts: Vec<Alert>);
}

/// Sends alerts to Alertmanager through a [`notifier::Notifier`].
pub struct NotifierSink {
    notifier: Arc<notifier::Notifier>,
    external_url: String,
    external_labels: Labels,
}

impl NotifierSink {
    /// A sink linking alerts back to `external_url` and adding `external_labels` they lack.
    pub fn new(
        notifier: Arc<notifier::Notifier>,
        external_url: &str,
        external_labels: Labels,
    ) -> Self {
        NotifierSink {
            notifier,
            external_url: external_url.trim_end_matches('/').to_string(),
            external_labels,
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
            .map(|a| to_notification(a, &url, &self.external_labels))
            .collect();
        self.notifier.send(out);
    }
}

/// The notification for an alert: it starts when it fired and ends when it resolved, or
/// else when its last send stops being valid.
pub fn to_notification(a: Alert, generator_url: &str, external_labels: &Labels) -> notifier::Alert {
    let mut b = LabelsBuilder::new(a.labels);
    for l in external_labels {
        if b.get(&l.name).is_none() {
            b.set(l.name.clone(), l.value.clone());
        }
    }
    notifier::Alert {
        labels: b.build(),
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

/// Go's `url.QueryEscape`: unreserved bytes kept, space as `+`, the rest `%XX`.
pub fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3 / 2);
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

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
