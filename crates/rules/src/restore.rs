//! Restoring alerts' `for` state after a restart from the `ALERTS_FOR_STATE` series, as
//! Prometheus's `RestoreForState` does: an alert that was pending keeps the time it had
//! already spent pending, minus the outage, and never fires sooner than a grace period.

use std::collections::HashMap;
use std::time::Duration;

use model::{Labels, Matcher, Timestamp, is_stale_nan};
use storage::{Queryable, SelectHints};

use crate::alerting::ms;
use crate::group::{Group, Rule};

/// How long before a restart `ALERTS_FOR_STATE` is looked for, and how soon after it a
/// restored alert may fire at the earliest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestoreOptions {
    /// Longest outage restored across (`--rules.alert.for-outage-tolerance`, 1h).
    pub outage_tolerance: Duration,
    /// Least time between restoring and firing (`--rules.alert.for-grace-period`, 10m).
    pub for_grace_period: Duration,
}

impl Default for RestoreOptions {
    fn default() -> Self {
        RestoreOptions {
            outage_tolerance: Duration::from_secs(3600),
            for_grace_period: Duration::from_secs(600),
        }
    }
}

impl Group {
    /// Restores the `activeAt` of the group's pending and firing alerts from the store, as
    /// of `ts` (ms, normally now). Marks every alerting rule restored, so that from then on
    /// its `ALERTS` series are written.
    pub fn restore_for_state(
        &mut self,
        queryable: &dyn Queryable,
        ts: Timestamp,
        opts: &RestoreOptions,
    ) {
        self.should_restore = false;
        let mint = ts - ms(opts.outage_tolerance);
        let querier = match queryable.querier(mint, ts) {
            Ok(q) => q,
            Err(e) => {
                tracing::error!(file = %self.file, group = %self.desc.name, error = %e, "failed to get querier to restore 'for' state");
                return;
            }
        };
        let hints = SelectHints {
            start: mint,
            end: ts,
            limit: 0,
        };
        let grace = ms(opts.for_grace_period);
        for rule in &mut self.rules {
            let Rule::Alerting(rule) = rule else {
                continue;
            };
            let hold = ms(rule.hold);
            if hold < grace {
                // It would wait the whole grace period otherwise: let it wait `for` only.
                rule.restored = true;
                continue;
            }
            let matchers: Vec<Matcher> = rule
                .for_state_matchers_labels()
                .iter()
                // Templated labels differ per alert: they cannot narrow the search.
                .filter(|l| !l.value.contains("{{"))
                .map(|l| Matcher::equal(l.name.as_str(), l.value.as_str()))
                .collect();
            let series = match querier.select(&hints, &matchers) {
                Ok(s) => s,
                Err(e) => {
                    tracing::error!(alertname = %rule.name, stage = "select", error = %e, "failed to restore 'for' state");
                    rule.restored = true;
                    continue;
                }
            };
            let last: HashMap<Labels, (Timestamp, f64)> = series
                .into_iter()
                .filter_map(|s| {
                    let p = s.samples.last()?;
                    Some((s.labels.without_metric_name(), (p.t, p.v)))
                })
                .collect();
            if last.is_empty() {
                tracing::debug!(alertname = %rule.name, "no series found to restore the 'for' state");
                rule.restored = true;
                continue;
            }
            for a in rule.active.values_mut() {
                let Some(&(t, v)) = last.get(&a.labels) else {
                    continue;
                };
                if is_stale_nan(v) {
                    // The alert was not active when the process went down.
                    continue;
                }
                // Both are whole seconds in Prometheus.
                let down_at = t.div_euclid(1000) * 1000;
                let mut active_at = (v as i64) * 1000;
                let remaining = hold - (down_at - active_at);
                if remaining <= 0 {
                    // It was firing: the next evaluation fires it again if still active.
                } else if remaining < grace {
                    active_at = ts + grace - hold;
                } else {
                    // Pending time does not count the outage.
                    active_at += ts - down_at;
                }
                a.active_at = active_at;
                tracing::debug!(alertname = %rule.name, labels = %a.labels, active_at, "'for' state restored");
            }
            rule.restored = true;
        }
    }
}
