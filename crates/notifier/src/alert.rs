//! An alert as sent to Alertmanager, and the relabelling applied before it is queued.

use std::sync::Arc;

use model::{ALERT_NAME_LABEL, Labels, LabelsBuilder};
use relabel::RelabelConfig;

/// One alert notification: what the rules manager hands over, what Alertmanager receives.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Alert {
    /// Identity: matching, grouping and routing in Alertmanager (should hold `alertname`).
    pub labels: Labels,
    /// Extra information that is not part of the identity.
    pub annotations: Labels,
    /// When the alert started firing, ms since the Unix epoch.
    pub starts_at: i64,
    /// When it ends or ended, ms since the Unix epoch; `None` leaves it to Alertmanager.
    pub ends_at: Option<i64>,
    /// Link back to the rule's expression (omitted from the JSON when empty).
    pub generator_url: String,
}

impl Alert {
    /// The `alertname` label, empty when absent.
    pub fn name(&self) -> &str {
        self.labels.get_or_empty(ALERT_NAME_LABEL)
    }

    /// Whether the alert ended at or before `now_ms` (Prometheus's `ResolvedAt`).
    pub fn resolved_at(&self, now_ms: i64) -> bool {
        self.ends_at.is_some_and(|end| end <= now_ms)
    }
}

/// Adds `external` labels the alert lacks, applies `rules`, and shares the survivors.
///
/// An alert a rule drops is left out, as in Prometheus. So is one whose labels end up
/// empty, which Prometheus would send: Alertmanager refuses it, and with it every other
/// alert of the same request.
pub(crate) fn relabel_alerts(
    alerts: Vec<Alert>,
    external: &Labels,
    rules: &[RelabelConfig],
) -> Vec<Arc<Alert>> {
    let mut out = Vec::with_capacity(alerts.len());
    for mut a in alerts {
        if let Some(labels) = relabel_one(&a.labels, external, rules) {
            a.labels = labels;
            out.push(Arc::new(a));
        }
    }
    out
}

/// Applies a set's own `alert_relabel_configs` (no external labels) to shared alerts,
/// copying only the alerts whose labels change.
pub(crate) fn relabel_shared(alerts: &[Arc<Alert>], rules: &[RelabelConfig]) -> Vec<Arc<Alert>> {
    if rules.is_empty() {
        return alerts.to_vec();
    }
    let empty = Labels::empty();
    alerts
        .iter()
        .filter_map(|a| {
            let labels = relabel_one(&a.labels, &empty, rules)?;
            Some(if labels == a.labels {
                a.clone()
            } else {
                Arc::new(Alert {
                    labels,
                    ..(**a).clone()
                })
            })
        })
        .collect()
}

fn relabel_one(labels: &Labels, external: &Labels, rules: &[RelabelConfig]) -> Option<Labels> {
    let mut lb = LabelsBuilder::new(labels.clone());
    for l in external {
        if !labels.has(&l.name) {
            lb.set(l.name.clone(), l.value.clone());
        }
    }
    if !relabel::process_builder(&mut lb, rules) {
        return None;
    }
    let out = lb.build();
    if out.is_empty() {
        tracing::debug!("dropping an alert whose labels were all relabelled away");
        return None;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use relabel::Action;

    fn alert(pairs: &[(&str, &str)]) -> Alert {
        Alert {
            labels: Labels::from_pairs(pairs.iter().copied()),
            ..Alert::default()
        }
    }

    #[test]
    fn external_labels_fill_gaps_only() {
        let ext = Labels::from_pairs([("cluster", "c1"), ("region", "eu")]);
        let out = relabel_alerts(
            vec![alert(&[("alertname", "A"), ("cluster", "own")])],
            &ext,
            &[],
        );
        assert_eq!(
            out[0].labels,
            Labels::from_pairs([("alertname", "A"), ("cluster", "own"), ("region", "eu")])
        );
        assert_eq!(out[0].name(), "A");
    }

    #[test]
    fn dropped_and_emptied_alerts_are_left_out() {
        let mut drop = RelabelConfig::new(Action::Drop);
        drop.source_labels = Some(vec!["alertname".into()]);
        drop.regex = Some(model::PromRegex::new("B").expect("regex"));
        let mut keep_none = RelabelConfig::new(Action::LabelDrop);
        keep_none.regex = Some(model::PromRegex::new(".*").expect("regex"));
        let alerts = vec![alert(&[("alertname", "A")]), alert(&[("alertname", "B")])];
        let out = relabel_alerts(alerts.clone(), &Labels::empty(), &[drop]);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].name(), "A");
        assert!(relabel_alerts(alerts, &Labels::empty(), &[keep_none]).is_empty());
    }

    #[test]
    fn shared_alerts_are_copied_only_when_changed() {
        let a = relabel_alerts(vec![alert(&[("alertname", "A")])], &Labels::empty(), &[]);
        let same = relabel_shared(&a, &[]);
        assert!(Arc::ptr_eq(&a[0], &same[0]));
        let mut add = RelabelConfig::new(Action::Replace);
        add.target_label = "team".into();
        add.replacement = "x".into();
        let changed = relabel_shared(&a, &[add]);
        assert_eq!(changed[0].labels.get("team"), Some("x"));
        assert_eq!(a[0].labels.get("team"), None);
    }

    #[test]
    fn resolution_is_inclusive() {
        let mut a = alert(&[("alertname", "A")]);
        assert!(!a.resolved_at(10));
        a.ends_at = Some(10);
        assert!(a.resolved_at(10));
        assert!(!a.resolved_at(9));
    }
}
