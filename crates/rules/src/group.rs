//! A rule group: its rules evaluated in order at one timestamp per evaluation, results
//! written through an appender with staleness markers for series that disappear, alerts
//! handed to a sink, following Prometheus's `rules/group.go`.
//!
//! A [`Group`] is driven from outside: [`Group::eval`] at the times a scheduler (the
//! [`crate::Manager`]) or a unit-test runner picks, over any `Queryable` / `Appendable`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use model::{Labels, Timestamp, hash_label_pairs, stale_nan};
use promql::Engine;
use storage::{Appendable, Queryable, StorageError, WriteIdentity};

use crate::alerting::{AlertContext, AlertingRule, AlertingRuleSpec, ms};
use crate::expand::EngineQuery;
use crate::file::{GroupDesc, RuleKind};
use crate::notify::NotifySink;
use crate::recording::RecordingRule;
use crate::rule::{EvalRecord, ResultSample};

/// A recording or alerting rule.
#[derive(Debug, Clone)]
pub enum Rule {
    /// `record:`.
    Recording(RecordingRule),
    /// `alert:`.
    Alerting(AlertingRule),
}

impl Rule {
    /// Record or alert name.
    pub fn name(&self) -> &str {
        match self {
            Rule::Recording(r) => r.name(),
            Rule::Alerting(r) => r.name(),
        }
    }

    /// The rule's labels.
    pub fn labels(&self) -> &BTreeMap<String, String> {
        match self {
            Rule::Recording(r) => r.labels(),
            Rule::Alerting(r) => r.labels(),
        }
    }

    /// The expression as Prometheus prints it.
    pub fn query(&self) -> &str {
        match self {
            Rule::Recording(r) => r.query(),
            Rule::Alerting(r) => r.query(),
        }
    }

    /// Health and timing of the last evaluation.
    pub fn eval_record(&self) -> &EvalRecord {
        match self {
            Rule::Recording(r) => &r.record,
            Rule::Alerting(r) => &r.record,
        }
    }

    fn record_mut(&mut self) -> &mut EvalRecord {
        match self {
            Rule::Recording(r) => &mut r.record,
            Rule::Alerting(r) => &mut r.record,
        }
    }

    /// What matches a rule across reloads: its name and labels (Prometheus's `nameAndLabels`).
    fn identity(&self) -> (String, BTreeMap<String, String>) {
        (self.name().to_string(), self.labels().clone())
    }
}

/// What a group takes from the process's configuration.
#[derive(Debug, Clone)]
pub struct GroupSettings {
    /// `global.evaluation_interval`, for groups without `interval`.
    pub default_interval: Duration,
    /// `global.rule_query_offset`, for groups without `query_offset`.
    pub default_query_offset: Duration,
    /// External labels and URL templates may read.
    pub context: AlertContext,
    /// Restore alerts' `for` state from `ALERTS_FOR_STATE` before writing `ALERTS`
    /// (true on a process's first load, false for groups added by reloads).
    pub restore: bool,
}

impl Default for GroupSettings {
    fn default() -> Self {
        GroupSettings {
            default_interval: Duration::from_secs(60),
            default_query_offset: Duration::ZERO,
            context: AlertContext::default(),
            restore: false,
        }
    }
}

/// What an evaluation reads, writes and notifies.
#[derive(Clone, Copy)]
pub struct EvalDeps<'a> {
    /// The query engine.
    pub engine: &'a Engine,
    /// Where queries read.
    pub queryable: &'a dyn Queryable,
    /// Where results (and `ALERTS`) are written, as [`WriteIdentity::Local`].
    pub appendable: &'a dyn Appendable,
    /// Where firing and resolved alerts go; `None` drops them.
    pub notify: Option<&'a dyn NotifySink>,
    /// Minimum time between two sends of an unchanged alert (Prometheus: 1m).
    pub resend_delay: Duration,
    /// Set when the group is being stopped: the evaluation ends before its next rule.
    pub stop: Option<&'a AtomicBool>,
}

/// What defines a group for reloads: equal definitions keep the running group untouched.
#[derive(Debug, Clone)]
pub struct GroupDef {
    file: String,
    desc: GroupDesc,
    interval: Duration,
    query_offset: Duration,
    context: AlertContext,
}

impl GroupDef {
    /// Same file, name, settings and rules (lines in the file do not matter).
    pub fn same(&self, other: &GroupDef) -> bool {
        let (a, b) = (&self.desc, &other.desc);
        self.file == other.file
            && a.name == b.name
            && a.limit == b.limit
            && a.labels == b.labels
            && self.interval == other.interval
            && self.query_offset == other.query_offset
            && self.context == other.context
            && a.rules.len() == b.rules.len()
            && a.rules
                .iter()
                .zip(&b.rules)
                .all(|(x, y)| x.kind == y.kind && x.expr == y.expr && x.labels == y.labels)
    }
}

/// A group of rules and everything it remembers between evaluations.
#[derive(Debug, Clone)]
pub struct Group {
    pub(crate) desc: GroupDesc,
    pub(crate) file: String,
    pub(crate) interval: Duration,
    pub(crate) query_offset: Duration,
    pub(crate) context: AlertContext,
    pub(crate) rules: Vec<Rule>,
    /// Series each rule wrote at its last successful evaluation.
    series_in_previous_eval: Vec<HashSet<Labels>>,
    /// Series of rules gone in a reload, to be marked stale.
    stale_series: Vec<Labels>,
    pub(crate) evaluation_time: Duration,
    pub(crate) last_evaluation: Option<SystemTime>,
    pub(crate) last_eval_timestamp: Option<Timestamp>,
    pub(crate) should_restore: bool,
}

impl Group {
    /// Builds the group `desc` of `file`.
    pub fn new(file: &str, desc: &GroupDesc, settings: &GroupSettings) -> Result<Group, String> {
        let mut rules = Vec::with_capacity(desc.rules.len());
        for r in &desc.rules {
            let rule = match &r.kind {
                RuleKind::Recording { record } => {
                    Rule::Recording(RecordingRule::new(record, &r.expr, r.labels.clone())?)
                }
                RuleKind::Alerting {
                    alert,
                    hold,
                    keep_firing_for,
                    annotations,
                } => Rule::Alerting(AlertingRule::new(
                    AlertingRuleSpec {
                        name: alert.clone(),
                        expr: r.expr.clone(),
                        hold: *hold,
                        keep_firing_for: *keep_firing_for,
                        labels: r.labels.clone(),
                        annotations: annotations.clone(),
                    },
                    settings.context.clone(),
                    !settings.restore,
                )?),
            };
            rules.push(rule);
        }
        let n = rules.len();
        Ok(Group {
            desc: desc.clone(),
            file: file.to_string(),
            interval: desc.interval.unwrap_or(settings.default_interval),
            query_offset: desc.query_offset.unwrap_or(settings.default_query_offset),
            context: settings.context.clone(),
            rules,
            series_in_previous_eval: vec![HashSet::new(); n],
            stale_series: Vec::new(),
            evaluation_time: Duration::ZERO,
            last_evaluation: None,
            last_eval_timestamp: None,
            should_restore: settings.restore,
        })
    }

    /// The group's name.
    pub fn name(&self) -> &str {
        &self.desc.name
    }

    /// The file it came from.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// Time between evaluations.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// How far back of the evaluation time queries look.
    pub fn query_offset(&self) -> Duration {
        self.query_offset
    }

    /// `limit` (0 = none).
    pub fn limit(&self) -> usize {
        self.desc.limit
    }

    /// The rules, in order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The alerting rules, in order.
    pub fn alerting_rules(&self) -> impl Iterator<Item = &AlertingRule> {
        self.rules.iter().filter_map(|r| match r {
            Rule::Alerting(a) => Some(a),
            Rule::Recording(_) => None,
        })
    }

    /// How long the last evaluation took.
    pub fn evaluation_time(&self) -> Duration {
        self.evaluation_time
    }

    /// Wall-clock start of the last evaluation.
    pub fn last_evaluation(&self) -> Option<SystemTime> {
        self.last_evaluation
    }

    /// Evaluation time (slot) of the last evaluation, ms.
    pub fn last_eval_timestamp(&self) -> Option<Timestamp> {
        self.last_eval_timestamp
    }

    /// True while alerts' `for` state still has to be restored from storage.
    pub fn should_restore(&self) -> bool {
        self.should_restore
    }

    /// The evaluation slot at or before `now` (ms): multiples of the interval shifted by a
    /// hash of file and name, so that groups spread over the interval (Prometheus's
    /// `EvalTimestamp`).
    pub fn eval_timestamp(&self, now: Timestamp) -> Timestamp {
        let interval = ms(self.interval).max(1);
        let offset = (hash_label_pairs([("file", self.file.as_str()), ("name", self.name())])
            % interval as u64) as i64;
        let adjusted = now - offset;
        adjusted - adjusted.rem_euclid(interval) + offset
    }

    /// What defines the group, to compare with a reload's.
    pub fn definition(&self) -> GroupDef {
        GroupDef {
            file: self.file.clone(),
            desc: self.desc.clone(),
            interval: self.interval,
            query_offset: self.query_offset,
            context: self.context.clone(),
        }
    }

    /// Evaluates every rule, in order, at `ts` (ms): writes their results, marks vanished
    /// series stale, sends due alerts, and records health and timings.
    pub fn eval(&mut self, deps: &EvalDeps<'_>, ts: Timestamp) {
        let started = Instant::now();
        let wall = SystemTime::now();
        let offset = ms(self.query_offset);
        let limit = self.desc.limit;
        let q = EngineQuery {
            engine: deps.engine,
            queryable: deps.queryable,
            t: ts,
        };
        for i in 0..self.rules.len() {
            if deps.stop.is_some_and(|s| s.load(Ordering::SeqCst)) {
                return;
            }
            let rule_started = Instant::now();
            let rule_wall = SystemTime::now();
            let result = match &mut self.rules[i] {
                Rule::Recording(r) => r.eval(deps.engine, deps.queryable, ts - offset, limit),
                Rule::Alerting(r) => r.eval(&q, offset, limit),
            };
            match result {
                Err(e) => {
                    tracing::warn!(file = %self.file, group = %self.desc.name, rule = %self.rules[i].name(), index = i, error = %e, "evaluating rule failed");
                    self.rules[i].record_mut().fail(e);
                }
                Ok(samples) => {
                    self.rules[i].record_mut().ok();
                    if let Rule::Alerting(r) = &mut self.rules[i] {
                        let due = r.alerts_to_send(ts, deps.resend_delay, self.interval);
                        if let Some(sink) = deps.notify
                            && !due.is_empty()
                        {
                            sink.notify(r.query(), due);
                        }
                    }
                    self.write(i, deps.appendable, samples, ts - offset);
                }
            }
            let rec = self.rules[i].record_mut();
            rec.duration = rule_started.elapsed();
            rec.timestamp = Some(rule_wall);
        }
        self.cleanup_stale_series(deps.appendable, ts);
        self.evaluation_time = started.elapsed();
        self.last_evaluation = Some(wall);
        self.last_eval_timestamp = Some(ts);
    }

    /// Writes rule `i`'s results, and staleness markers (at `t`) for the series it wrote
    /// last time and not now.
    fn write(
        &mut self,
        i: usize,
        appendable: &dyn Appendable,
        samples: Vec<ResultSample>,
        t: Timestamp,
    ) {
        let mut app = appendable.appender(&WriteIdentity::Local);
        let mut returned = HashSet::with_capacity(samples.len());
        let mut discarded: HashMap<&'static str, usize> = HashMap::new();
        for s in samples {
            let appended = match &s.h {
                Some(h) => app.append_histogram(&s.labels, s.t, h),
                None => app.append(&s.labels, s.t, s.v),
            };
            match appended {
                Ok(_) => {
                    returned.insert(s.labels);
                }
                Err(e) => {
                    let kind = match e {
                        StorageError::OutOfBounds { .. } => "out of bounds",
                        StorageError::DuplicateSampleForTimestamp { .. } => "duplicate timestamp",
                        _ => "other",
                    };
                    if kind == "other" {
                        tracing::warn!(file = %self.file, group = %self.desc.name, rule = %self.rules[i].name(), error = %e, "rule evaluation result discarded");
                    }
                    *discarded.entry(kind).or_default() += 1;
                    self.rules[i].record_mut().fail(e.to_string());
                }
            }
        }
        for (kind, n) in discarded {
            tracing::warn!(file = %self.file, group = %self.desc.name, rule = %self.rules[i].name(), kind, num_dropped = n, "rule evaluation results discarded");
        }
        for lset in &self.series_in_previous_eval[i] {
            if !returned.contains(lset) {
                // Another rule may write the same series: sample errors are expected then.
                if let Err(e) = app.append(lset, t, stale_nan())
                    && !e.is_sample_error()
                {
                    tracing::warn!(file = %self.file, group = %self.desc.name, series = %lset, error = %e, "adding stale sample failed");
                }
            }
        }
        match app.commit() {
            Ok(()) => self.series_in_previous_eval[i] = returned,
            Err(e) => {
                tracing::warn!(file = %self.file, group = %self.desc.name, rule = %self.rules[i].name(), error = %e, "rule sample appending failed");
                self.rules[i].record_mut().fail(e.to_string());
            }
        }
    }

    /// Marks stale the series of rules removed by a reload (at `ts` minus the offset).
    fn cleanup_stale_series(&mut self, appendable: &dyn Appendable, ts: Timestamp) {
        if self.stale_series.is_empty() {
            return;
        }
        let t = ts - ms(self.query_offset);
        let mut app = appendable.appender(&WriteIdentity::Local);
        for s in &self.stale_series {
            if let Err(e) = app.append(s, t, stale_nan())
                && !e.is_sample_error()
            {
                tracing::warn!(file = %self.file, group = %self.desc.name, series = %s, error = %e, "adding stale sample for previous configuration failed");
            }
        }
        match app.commit() {
            Ok(()) => self.stale_series.clear(),
            Err(e) => {
                tracing::warn!(file = %self.file, group = %self.desc.name, error = %e, "stale sample appending for previous configuration failed")
            }
        }
    }

    /// Marks stale, at `ts`, every series the group wrote: the group is gone.
    pub fn mark_all_stale(&mut self, appendable: &dyn Appendable, ts: Timestamp) {
        for set in std::mem::take(&mut self.series_in_previous_eval) {
            self.stale_series.extend(set);
        }
        self.cleanup_stale_series(appendable, ts);
    }

    /// Takes over what `from` (the same group before a reload) knew: for each rule matched
    /// by name and labels (duplicates in order), the series it wrote and its alerts; the
    /// series of unmatched old rules are marked stale at the next evaluation.
    pub fn copy_state(&mut self, from: Group) {
        self.evaluation_time = from.evaluation_time;
        self.last_evaluation = from.last_evaluation;
        self.last_eval_timestamp = from.last_eval_timestamp;
        let mut by_identity: HashMap<_, Vec<usize>> = HashMap::new();
        for (fi, r) in from.rules.iter().enumerate() {
            by_identity.entry(r.identity()).or_default().push(fi);
        }
        let mut from_rules: Vec<Option<Rule>> = from.rules.into_iter().map(Some).collect();
        let mut from_series: Vec<Option<HashSet<Labels>>> =
            from.series_in_previous_eval.into_iter().map(Some).collect();
        for (i, rule) in self.rules.iter_mut().enumerate() {
            let Some(list) = by_identity.get_mut(&rule.identity()) else {
                continue;
            };
            if list.is_empty() {
                continue;
            }
            let fi = list.remove(0);
            if let Some(Some(series)) = from_series.get_mut(fi).map(Option::take) {
                self.series_in_previous_eval[i] = series;
            }
            if let (Rule::Alerting(new), Some(Some(Rule::Alerting(old)))) =
                (rule, from_rules.get_mut(fi).map(Option::take))
            {
                new.active.extend(old.active);
            }
        }
        self.stale_series = from.stale_series;
        for series in from_series.into_iter().flatten() {
            self.stale_series.extend(series);
        }
    }
}
