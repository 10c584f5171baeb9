//! A copy of a group's state for readers (the HTTP API), taken after each evaluation so
//! that readers never wait for an evaluation in progress.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use crate::alerting::{Alert, AlertState};
use crate::group::{Group, Rule};
use crate::rule::EvalRecord;

/// A group as last evaluated.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupStatus {
    /// Name.
    pub name: String,
    /// File it came from.
    pub file: String,
    /// Evaluation interval.
    pub interval: Duration,
    /// `limit` (0 = none).
    pub limit: usize,
    /// How long the last evaluation took.
    pub evaluation_time: Duration,
    /// Wall-clock start of the last evaluation.
    pub last_evaluation: Option<SystemTime>,
    /// Rules, in order.
    pub rules: Vec<RuleStatus>,
}

/// A rule as last evaluated.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleStatus {
    /// Record or alert name.
    pub name: String,
    /// The expression as Prometheus prints it.
    pub query: String,
    /// The rule's labels.
    pub labels: BTreeMap<String, String>,
    /// Health and timing.
    pub record: EvalRecord,
    /// What only one kind has.
    pub kind: RuleStatusKind,
}

/// Recording or alerting, with the alerting rule's settings and alerts.
#[derive(Debug, Clone, PartialEq)]
pub enum RuleStatusKind {
    /// A recording rule.
    Recording,
    /// An alerting rule.
    Alerting {
        /// Highest state among its alerts.
        state: AlertState,
        /// `for`.
        hold: Duration,
        /// `keep_firing_for`.
        keep_firing_for: Duration,
        /// Annotations as written.
        annotations: BTreeMap<String, String>,
        /// Pending and firing alerts (resolved ones are not shown).
        alerts: Vec<Alert>,
    },
}

impl Group {
    /// The group's state for readers.
    pub fn status(&self) -> GroupStatus {
        GroupStatus {
            name: self.name().to_string(),
            file: self.file().to_string(),
            interval: self.interval(),
            limit: self.limit(),
            evaluation_time: self.evaluation_time(),
            last_evaluation: self.last_evaluation(),
            rules: self.rules().iter().map(rule_status).collect(),
        }
    }
}

fn rule_status(r: &Rule) -> RuleStatus {
    let kind = match r {
        Rule::Recording(_) => RuleStatusKind::Recording,
        Rule::Alerting(a) => RuleStatusKind::Alerting {
            state: a.state(),
            hold: a.hold_duration(),
            keep_firing_for: a.keep_firing_for(),
            annotations: a.annotations().clone(),
            alerts: a.active_alerts().cloned().collect(),
        },
    };
    RuleStatus {
        name: r.name().to_string(),
        query: r.query().to_string(),
        labels: r.labels().clone(),
        record: r.eval_record().clone(),
        kind,
    }
}
