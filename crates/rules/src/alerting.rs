//! Alerting rules: the alert state machine (inactive → pending → firing → resolved, with
//! `for` and `keep_firing_for`), templated labels and annotations, and the `ALERTS` /
//! `ALERTS_FOR_STATE` series, following Prometheus's `rules/alerting.go`.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use model::{ALERT_NAME_LABEL, Labels, LabelsBuilder, METRIC_NAME_LABEL, Timestamp};

use crate::expand::{EngineQuery, expand};
use crate::rule::{EvalRecord, ResultSample, RuleQuery, labels_of};

/// Metric name of the series that shows each alert's state.
pub const ALERT_METRIC_NAME: &str = "ALERTS";
/// Metric name of the series that keeps each alert's `activeAt` for restarts.
pub const ALERT_FOR_STATE_METRIC_NAME: &str = "ALERTS_FOR_STATE";
/// Label holding the alert state in `ALERTS`.
pub const ALERT_STATE_LABEL: &str = "alertstate";
/// How long a resolved alert is kept (and re-sent) after it resolves.
pub const RESOLVED_RETENTION: Duration = Duration::from_secs(15 * 60);

/// State of one alert (or, for a rule, the highest state of its alerts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum AlertState {
    /// The rule has not been evaluated yet.
    #[default]
    Unknown,
    /// Neither pending nor firing (a resolved alert).
    Inactive,
    /// Active for less than `for`.
    Pending,
    /// Active for at least `for`.
    Firing,
}

impl AlertState {
    /// `unknown`, `inactive`, `pending`, `firing`.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Unknown => "unknown",
            AlertState::Inactive => "inactive",
            AlertState::Pending => "pending",
            AlertState::Firing => "firing",
        }
    }
}

/// One alert: an element of an alerting rule's result, and its history. Times are ms.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// Current state.
    pub state: AlertState,
    /// Identity: the result's labels (without name), the rule's labels, `alertname`.
    pub labels: Labels,
    /// Expanded annotations.
    pub annotations: Labels,
    /// Value at the last evaluation.
    pub value: f64,
    /// When the condition started to hold.
    pub active_at: Timestamp,
    /// When the alert started firing.
    pub fired_at: Option<Timestamp>,
    /// When the alert resolved; `None` while active.
    pub resolved_at: Option<Timestamp>,
    /// When the alert was last sent to Alertmanager.
    pub last_sent_at: Option<Timestamp>,
    /// Until when the last sent copy is valid (its `endsAt` while firing).
    pub valid_until: Option<Timestamp>,
    /// When the condition went away while `keep_firing_for` keeps it firing.
    pub keep_firing_since: Option<Timestamp>,
}

impl Alert {
    /// True when the alert is due to be (re)sent at `ts` (Prometheus's `needsSending`).
    pub(crate) fn needs_sending(&self, ts: Timestamp, resend_delay: Duration) -> bool {
        if self.state == AlertState::Pending {
            return false;
        }
        // Resolved since last sent: send the resolution now.
        if let Some(r) = self.resolved_at
            && self.last_sent_at.is_none_or(|s| r > s)
        {
            return true;
        }
        self.last_sent_at.is_none_or(|s| s + ms(resend_delay) < ts)
    }
}

/// Whole milliseconds of a duration.
pub(crate) fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// What templates may read besides the alert: the process's external labels and URL.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlertContext {
    /// `global.external_labels` (`$externalLabels`).
    pub external_labels: Labels,
    /// The hub's external URL (`$externalURL`).
    pub external_url: String,
}

/// An alerting rule, its active alerts and the outcome of its last evaluation.
#[derive(Debug, Clone)]
pub struct AlertingRule {
    pub(crate) name: String,
    pub(crate) query: RuleQuery,
    pub(crate) hold: Duration,
    pub(crate) keep_firing_for: Duration,
    pub(crate) labels: BTreeMap<String, String>,
    pub(crate) annotations: BTreeMap<String, String>,
    pub(crate) context: AlertContext,
    /// False until the `for` state has been restored from storage; `ALERTS` series are
    /// written only after that.
    pub(crate) restored: bool,
    /// Alerts by their label set: pending, firing, and resolved ones kept for resending.
    pub(crate) active: BTreeMap<Labels, Alert>,
    pub(crate) record: EvalRecord,
}

/// Settings of an alerting rule, as its file gives them.
#[derive(Debug, Clone, Default)]
pub struct AlertingRuleSpec {
    /// `alert`.
    pub name: String,
    /// `expr`.
    pub expr: String,
    /// `for`.
    pub hold: Duration,
    /// `keep_firing_for`.
    pub keep_firing_for: Duration,
    /// Labels (templates), group labels merged in.
    pub labels: BTreeMap<String, String>,
    /// Annotations (templates).
    pub annotations: BTreeMap<String, String>,
}

impl AlertingRule {
    /// A rule; `restored` says whether its `for` state needs no restoring from storage.
    pub fn new(
        spec: AlertingRuleSpec,
        context: AlertContext,
        restored: bool,
    ) -> Result<Self, String> {
        Ok(AlertingRule {
            query: RuleQuery::new(&spec.expr)?,
            name: spec.name,
            hold: spec.hold,
            keep_firing_for: spec.keep_firing_for,
            labels: spec.labels,
            annotations: spec.annotations,
            context,
            restored,
            active: BTreeMap::new(),
            record: EvalRecord::default(),
        })
    }

    /// The alert name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The expression as Prometheus prints it.
    pub fn query(&self) -> &str {
        &self.query.text
    }

    /// `for`.
    pub fn hold_duration(&self) -> Duration {
        self.hold
    }

    /// `keep_firing_for`.
    pub fn keep_firing_for(&self) -> Duration {
        self.keep_firing_for
    }

    /// The rule's labels, as written.
    pub fn labels(&self) -> &BTreeMap<String, String> {
        &self.labels
    }

    /// The rule's annotations, as written.
    pub fn annotations(&self) -> &BTreeMap<String, String> {
        &self.annotations
    }

    /// Health and timing of the last evaluation.
    pub fn eval_record(&self) -> &EvalRecord {
        &self.record
    }

    /// True once the `for` state has been restored (or needed no restoring).
    pub fn restored(&self) -> bool {
        self.restored
    }

    /// Every alert held, resolved ones included, ordered by labels.
    pub fn current_alerts(&self) -> impl Iterator<Item = &Alert> {
        self.active.values()
    }

    /// Pending and firing alerts (not the resolved ones kept for resending).
    pub fn active_alerts(&self) -> impl Iterator<Item = &Alert> {
        self.active.values().filter(|a| a.resolved_at.is_none())
    }

    /// The highest state among the rule's alerts; `Unknown` before the first evaluation.
    pub fn state(&self) -> AlertState {
        if self.record.timestamp.is_none() {
            return AlertState::Unknown;
        }
        self.active
            .values()
            .map(|a| a.state)
            .max()
            .unwrap_or(AlertState::Inactive)
            .max(AlertState::Inactive)
    }

    /// Evaluates at `q.t` (querying at `q.t - query_offset`), updates the alerts and
    /// returns the `ALERTS` and `ALERTS_FOR_STATE` samples to write.
    pub(crate) fn eval(
        &mut self,
        q: &EngineQuery<'_>,
        query_offset: i64,
        limit: usize,
    ) -> Result<Vec<ResultSample>, String> {
        let ts = q.t;
        let res = self.query.run(q.engine, q.queryable, ts - query_offset)?;
        let mut fresh: BTreeMap<Labels, Alert> = BTreeMap::new();
        for s in res {
            let (labels, annotations) = self.expand_for(&s, q);
            if fresh.contains_key(&labels) {
                return Err(
                    "vector contains metrics with the same labelset after applying alert labels"
                        .to_string(),
                );
            }
            fresh.insert(
                labels.clone(),
                Alert {
                    state: AlertState::Pending,
                    labels,
                    annotations,
                    value: s.v,
                    active_at: ts,
                    fired_at: None,
                    resolved_at: None,
                    last_sent_at: None,
                    valid_until: None,
                    keep_firing_since: None,
                },
            );
        }
        let in_result: HashSet<Labels> = fresh.keys().cloned().collect();
        for (k, a) in fresh {
            match self.active.get_mut(&k) {
                Some(old) if old.state != AlertState::Inactive => {
                    old.value = a.value;
                    old.annotations = a.annotations;
                }
                _ => {
                    self.active.insert(k, a);
                }
            }
        }

        let hold = ms(self.hold);
        let keep_firing_for = ms(self.keep_firing_for);
        let retention = ms(RESOLVED_RETENTION);
        let mut out = Vec::new();
        let mut remove = Vec::new();
        let mut active_or_pending = 0usize;
        // The rule's own labels, shared by every alert's two series.
        let rule_labels = labels_of(&self.labels);
        for (k, a) in self.active.iter_mut() {
            if !in_result.contains(k) {
                let mut keep_firing = false;
                if a.state == AlertState::Firing && keep_firing_for > 0 {
                    let since = *a.keep_firing_since.get_or_insert(ts);
                    keep_firing = ts - since < keep_firing_for;
                }
                // Resolved alerts stay for a while so that their resolution is re-sent.
                if a.state == AlertState::Pending
                    || a.resolved_at.is_some_and(|r| ts - r > retention)
                {
                    remove.push(k.clone());
                }
                if a.state != AlertState::Inactive && !keep_firing {
                    a.state = AlertState::Inactive;
                    a.resolved_at = Some(ts);
                }
                if !keep_firing {
                    continue;
                }
            } else {
                a.keep_firing_since = None;
            }
            active_or_pending += 1;
            if a.state == AlertState::Pending && ts - a.active_at >= hold {
                a.state = AlertState::Firing;
                a.fired_at = Some(ts);
            }
            // A longer `for` after a reload sends a firing alert back to pending.
            if a.state == AlertState::Firing && ts - a.active_at < hold {
                a.state = AlertState::Pending;
                a.fired_at = None;
                a.last_sent_at = None;
                a.keep_firing_since = None;
            }
            if self.restored {
                let t = ts - query_offset;
                out.push(ResultSample {
                    labels: alerts_series(&self.name, &rule_labels, a),
                    t,
                    v: 1.0,
                    h: None,
                });
                out.push(ResultSample {
                    labels: for_state_series(&self.name, &rule_labels, Some(&a.labels)),
                    t,
                    v: a.active_at.div_euclid(1000) as f64,
                    h: None,
                });
            }
        }
        for k in remove {
            self.active.remove(&k);
        }
        if limit > 0 && active_or_pending > limit {
            self.active.clear();
            return Err(format!(
                "exceeded limit of {limit} with {active_or_pending} alerts"
            ));
        }
        Ok(out)
    }

    /// The alert's labels and annotations for one result sample, templates expanded.
    fn expand_for(&self, s: &ResultSample, q: &EngineQuery<'_>) -> (Labels, Labels) {
        let expand_one = |text: &str| -> String {
            if !text.contains("{{") {
                return text.to_string();
            }
            expand(&self.name, text, &s.labels, &self.context, s.v, q)
        };
        let mut b = LabelsBuilder::new(s.labels.clone());
        b.del(METRIC_NAME_LABEL);
        for (k, v) in &self.labels {
            b.set(k.as_str(), expand_one(v));
        }
        b.set(ALERT_NAME_LABEL, self.name.as_str());
        let annotations = Labels::from_pairs(
            self.annotations
                .iter()
                .map(|(k, v)| (k.clone(), expand_one(v))),
        );
        (b.build(), annotations)
    }

    /// The rule's part of its `ALERTS_FOR_STATE` series (what restoring searches by).
    pub(crate) fn for_state_matchers_labels(&self) -> Labels {
        for_state_series(&self.name, &labels_of(&self.labels), None)
    }

    /// Alerts due to be sent at `ts`, marked as sent (Prometheus's `sendAlerts`).
    pub(crate) fn alerts_to_send(
        &mut self,
        ts: Timestamp,
        resend_delay: Duration,
        interval: Duration,
    ) -> Vec<Alert> {
        let mut out = Vec::new();
        // Valid for four intervals: two evaluations or sends may fail in between.
        let valid = 4 * ms(resend_delay.max(interval));
        for a in self.active.values_mut() {
            if a.needs_sending(ts, resend_delay) {
                a.last_sent_at = Some(ts);
                a.valid_until = Some(ts + valid);
                out.push(a.clone());
            }
        }
        out
    }
}

/// `ALERTS{alertname, alertstate, ...}` for an alert of rule `name`.
fn alerts_series(name: &str, rule_labels: &Labels, a: &Alert) -> Labels {
    let mut b = LabelsBuilder::new(rule_labels.clone());
    for l in &a.labels {
        b.set(l.name.clone(), l.value.clone());
    }
    b.set(METRIC_NAME_LABEL, ALERT_METRIC_NAME);
    b.set(ALERT_NAME_LABEL, name);
    b.set(ALERT_STATE_LABEL, a.state.as_str());
    b.build()
}

/// `ALERTS_FOR_STATE{alertname, ...}` for an alert of rule `name`, or the rule's own part.
fn for_state_series(name: &str, rule_labels: &Labels, alert: Option<&Labels>) -> Labels {
    let mut b = LabelsBuilder::new(rule_labels.clone());
    for l in alert.into_iter().flatten() {
        b.set(l.name.clone(), l.value.clone());
    }
    b.set(METRIC_NAME_LABEL, ALERT_FOR_STATE_METRIC_NAME);
    b.set(ALERT_NAME_LABEL, name);
    b.build()
}
