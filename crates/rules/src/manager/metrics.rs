//! The rule manager's `prometheus_rule_*` metrics, named, labelled (`rule_group="FILE;NAME"`)
//! and counted as Prometheus's rules package does, which Grafana's Prometheus dashboards
//! read. Counters live here, keyed by group, so that they continue across reloads of a
//! group; gauges come from each group's latest status.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;

use crate::rule::RuleHealth;
use crate::status::GroupStatus;

/// Prometheus's `GroupKey`: the `rule_group` label value.
pub(crate) fn group_key(file: &str, name: &str) -> String {
    format!("{file};{name}")
}

/// Counters of one group.
#[derive(Debug, Default, Clone, Copy)]
struct Counters {
    evaluations: u64,
    failures: u64,
    iterations: u64,
    missed: u64,
}

/// Every group's counters.
#[derive(Debug, Default)]
pub(crate) struct RuleMetrics {
    groups: Mutex<BTreeMap<String, Counters>>,
}

impl RuleMetrics {
    /// Records one evaluation of `key`'s group: `status` is its state right after, and
    /// rules whose evaluation started at or after `started` were evaluated in it.
    pub(crate) fn evaluated(&self, key: &str, status: &GroupStatus, started: SystemTime) {
        let evaluated = status
            .rules
            .iter()
            .filter(|r| r.record.timestamp.is_some_and(|t| t >= started));
        let (mut n, mut failed) = (0, 0);
        for r in evaluated {
            n += 1;
            if r.record.health == RuleHealth::Bad {
                failed += 1;
            }
        }
        let mut groups = self.groups.lock();
        let c = groups.entry(key.to_string()).or_default();
        c.evaluations += n;
        c.failures += failed;
        c.iterations += 1;
    }

    /// Records slots of `key`'s group skipped because an evaluation ran late.
    pub(crate) fn missed(&self, key: &str, n: u64) {
        let mut groups = self.groups.lock();
        let c = groups.entry(key.to_string()).or_default();
        // Prometheus counts missed slots among the scheduled iterations too.
        c.iterations += n;
        c.missed += n;
    }

    /// Forgets a group that a reload removed.
    pub(crate) fn remove(&self, key: &str) {
        self.groups.lock().remove(key);
    }

    /// The metrics of `groups` (the running ones) in the text exposition format.
    pub(crate) fn render(&self, groups: &[&GroupStatus]) -> String {
        if groups.is_empty() {
            // Families without samples would only add noise to /metrics.
            return String::new();
        }
        let counters = self.groups.lock().clone();
        let rows: Vec<(String, &GroupStatus, Counters)> = groups
            .iter()
            .map(|g| {
                let key = group_key(&g.file, &g.name);
                let c = counters.get(&key).copied().unwrap_or_default();
                (escape(&key), *g, c)
            })
            .collect();
        let mut out = String::new();
        type Value = fn(&GroupStatus, &Counters) -> f64;
        let families: [(&str, &str, &str, Value); 8] = [
            (
                "prometheus_rule_evaluations_total",
                "counter",
                "The total number of rule evaluations.",
                |_, c| c.evaluations as f64,
            ),
            (
                "prometheus_rule_evaluation_failures_total",
                "counter",
                "The total number of rule evaluation failures.",
                |_, c| c.failures as f64,
            ),
            (
                "prometheus_rule_group_interval_seconds",
                "gauge",
                "The interval of a rule group.",
                |g, _| g.interval.as_secs_f64(),
            ),
            (
                "prometheus_rule_group_iterations_missed_total",
                "counter",
                "The total number of rule group evaluations missed due to slow rule group evaluation.",
                |_, c| c.missed as f64,
            ),
            (
                "prometheus_rule_group_iterations_total",
                "counter",
                "The total number of scheduled rule group evaluations, whether executed or missed.",
                |_, c| c.iterations as f64,
            ),
            (
                "prometheus_rule_group_last_duration_seconds",
                "gauge",
                "The duration of the last rule group evaluation.",
                |g, _| g.evaluation_time.as_secs_f64(),
            ),
            (
                "prometheus_rule_group_last_evaluation_timestamp_seconds",
                "gauge",
                "The timestamp of the last rule group evaluation in seconds.",
                |g, _| {
                    g.last_evaluation
                        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                        .map_or(0.0, |d| d.as_secs_f64())
                },
            ),
            (
                "prometheus_rule_group_rules",
                "gauge",
                "The number of rules.",
                |g, _| g.rules.len() as f64,
            ),
        ];
        for (name, typ, help, value) in families {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} {typ}");
            for (key, g, c) in &rows {
                let _ = writeln!(out, "{name}{{rule_group=\"{key}\"}} {}", value(g, c));
            }
        }
        out
    }
}

/// A label value in the text format: backslash, double quote and newline escaped.
fn escape(v: &str) -> String {
    v.replace('\\', r"\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::rule::EvalRecord;
    use crate::status::{RuleStatus, RuleStatusKind};

    fn status(health: RuleHealth, at: SystemTime) -> GroupStatus {
        let rule = |h| RuleStatus {
            name: "r".into(),
            query: "up".into(),
            labels: BTreeMap::new(),
            record: EvalRecord {
                health: h,
                last_error: None,
                duration: Duration::ZERO,
                timestamp: Some(at),
            },
            kind: RuleStatusKind::Recording,
        };
        GroupStatus {
            name: "g".into(),
            file: "/r\"s.yml".into(),
            interval: Duration::from_secs(15),
            limit: 0,
            evaluation_time: Duration::from_millis(250),
            last_evaluation: Some(UNIX_EPOCH + Duration::from_secs(1_700_000_000)),
            rules: vec![rule(RuleHealth::Good), rule(health)],
        }
    }

    #[test]
    fn counts_evaluations_failures_and_missed_slots_per_group() {
        let m = RuleMetrics::default();
        let t0 = UNIX_EPOCH + Duration::from_secs(100);
        let key = group_key("/r\"s.yml", "g");
        m.evaluated(&key, &status(RuleHealth::Bad, t0), t0);
        m.evaluated(&key, &status(RuleHealth::Good, t0), t0);
        // Rules not evaluated since `started` (a stop between rules) do not count.
        m.evaluated(
            &key,
            &status(RuleHealth::Bad, t0),
            t0 + Duration::from_secs(1),
        );
        m.missed(&key, 2);
        let g = status(RuleHealth::Good, t0);
        let text = m.render(&[&g]);
        let label = r#"{rule_group="/r\"s.yml;g"}"#;
        for (name, v) in [
            ("prometheus_rule_evaluations_total", "4"),
            ("prometheus_rule_evaluation_failures_total", "1"),
            ("prometheus_rule_group_iterations_total", "5"),
            ("prometheus_rule_group_iterations_missed_total", "2"),
            ("prometheus_rule_group_rules", "2"),
            ("prometheus_rule_group_interval_seconds", "15"),
            ("prometheus_rule_group_last_duration_seconds", "0.25"),
            (
                "prometheus_rule_group_last_evaluation_timestamp_seconds",
                "1700000000",
            ),
        ] {
            let line = format!("{name}{label} {v}\n");
            assert!(text.contains(&line), "{line} missing in:\n{text}");
        }
        assert!(text.contains("# TYPE prometheus_rule_evaluations_total counter\n"));
        assert_eq!(m.render(&[]), "");
        m.remove(&key);
        assert!(
            m.render(&[&g])
                .contains(&format!("prometheus_rule_evaluations_total{label} 0\n"))
        );
    }
}
