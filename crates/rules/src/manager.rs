//! The rule manager: loads rule files, runs each group on its own thread at its interval,
//! reloads files keeping the state of rules that remain, and gives readers a copy of
//! every group's state (Prometheus's `rules/manager.go`), with the `prometheus_rule_*`
//! metrics (`metrics`).

mod metrics;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use metrics::{RuleMetrics, group_key};

use model::{Labels, Timestamp};
use parking_lot::{Condvar, Mutex};
use promql::Engine;
use storage::{Appendable, Queryable};

use crate::alerting::{AlertContext, ms};
use crate::api::{self, AlertDiscovery, ParamError, RuleDiscovery, RulesQuery};
use crate::error::{RuleFileError, RuleFileErrors};
use crate::file::{LoadOptions, load_rule_file};
use crate::group::{EvalDeps, Group, GroupDef, GroupSettings};
use crate::notify::NotifySink;
use crate::restore::RestoreOptions;
use crate::status::GroupStatus;

/// What the manager reads, writes and notifies, and its timing settings.
#[derive(Clone)]
pub struct ManagerOptions {
    /// The query engine.
    pub engine: Arc<Engine>,
    /// Where rules read.
    pub queryable: Arc<dyn Queryable>,
    /// Where results and `ALERTS` series are written.
    pub appendable: Arc<dyn Appendable>,
    /// Where alerts go (`None`: nowhere, as with no Alertmanager configured).
    pub notify: Option<Arc<dyn NotifySink>>,
    /// The hub's external URL (`$externalURL`, generator URLs are the sink's).
    pub external_url: String,
    /// `for` state restoring after a restart.
    pub restore: RestoreOptions,
    /// Least time between two sends of an unchanged alert (`--rules.alert.resend-delay`, 1m).
    pub resend_delay: Duration,
    /// How rule files are read.
    pub load: LoadOptions,
}

impl ManagerOptions {
    /// Prometheus's defaults around the given engine and stores.
    pub fn new(
        engine: Arc<Engine>,
        queryable: Arc<dyn Queryable>,
        appendable: Arc<dyn Appendable>,
    ) -> Self {
        ManagerOptions {
            engine,
            queryable,
            appendable,
            notify: None,
            external_url: String::new(),
            restore: RestoreOptions::default(),
            resend_delay: Duration::from_secs(60),
            load: LoadOptions::default(),
        }
    }
}

/// The parts of the configuration a reload applies to rules.
#[derive(Debug, Clone)]
pub struct RulesConfig {
    /// Rule files (already globbed, see [`crate::expand_rule_files`]).
    pub files: Vec<String>,
    /// `global.evaluation_interval`.
    pub evaluation_interval: Duration,
    /// `global.rule_query_offset`.
    pub rule_query_offset: Duration,
    /// `global.external_labels`.
    pub external_labels: Labels,
}

/// A stop request that a sleeping thread notices at once.
#[derive(Default)]
struct Stop {
    stopped: Mutex<bool>,
    wake: Condvar,
    /// Read by evaluations between rules.
    flag: AtomicBool,
}

impl Stop {
    fn stop(&self) {
        *self.stopped.lock() = true;
        self.flag.store(true, Ordering::SeqCst);
        self.wake.notify_all();
    }

    /// Sleeps until wall-clock `deadline` (ms); true when stopped first.
    fn wait_until(&self, deadline: Timestamp) -> bool {
        let mut stopped = self.stopped.lock();
        // Bounded: each pass either returns or sleeps until the deadline.
        loop {
            if *stopped {
                return true;
            }
            let left = deadline - now_ms();
            if left <= 0 {
                return false;
            }
            let _ = self
                .wake
                .wait_for(&mut stopped, Duration::from_millis(left as u64));
        }
    }
}

/// Wall-clock now, ms since the epoch.
pub fn now_ms() -> Timestamp {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(ms)
        .unwrap_or(0)
}

/// A group's thread and the latest copy of its state.
struct Running {
    /// What defines the group, to compare with a reload's.
    definition: GroupDef,
    stop: Arc<Stop>,
    /// `None` only when no thread could be started.
    thread: Option<JoinHandle<Group>>,
    status: Arc<Mutex<Arc<GroupStatus>>>,
}

#[derive(Default)]
struct State {
    groups: BTreeMap<(String, String), Running>,
    /// Threads writing staleness markers for removed groups.
    cleanups: Vec<JoinHandle<()>>,
    /// A first load has happened: later groups need no `for` restoring.
    loaded: bool,
    stopped: bool,
}

/// Runs rule groups. Dropping it stops them.
pub struct Manager {
    opts: ManagerOptions,
    state: Mutex<State>,
    /// Wakes cleanup threads at shutdown.
    shutdown: Arc<Stop>,
    metrics: Arc<RuleMetrics>,
}

impl Manager {
    /// A manager with no groups; [`Manager::update`] loads them.
    pub fn new(opts: ManagerOptions) -> Self {
        Manager {
            opts,
            state: Mutex::new(State::default()),
            shutdown: Arc::new(Stop::default()),
            metrics: Arc::default(),
        }
    }

    /// Loads `cfg.files` and makes their groups the running set. Groups whose definition did
    /// not change keep running untouched; changed ones take over the alerts and series of
    /// their rules that remain; removed ones have their series marked stale. When a file is
    /// invalid, nothing changes and every problem is returned (and logged).
    pub fn update(&self, cfg: &RulesConfig) -> Result<(), RuleFileErrors> {
        let mut state = self.state.lock();
        if state.stopped {
            return Ok(());
        }
        let settings = GroupSettings {
            default_interval: cfg.evaluation_interval,
            default_query_offset: cfg.rule_query_offset,
            context: AlertContext {
                external_labels: cfg.external_labels.clone(),
                external_url: self.opts.external_url.clone(),
            },
            restore: !state.loaded,
        };
        let new_groups = match self.load_groups(&cfg.files, &settings) {
            Ok(g) => g,
            Err(e) => {
                for err in &e.0 {
                    tracing::error!(error = %err, "loading rule groups failed, previous rule set kept");
                }
                return Err(e);
            }
        };
        state.loaded = true;

        let mut old = std::mem::take(&mut state.groups);
        let mut next = BTreeMap::new();
        // Changed groups: stop all first so that they wind down together.
        let mut replacing = Vec::new();
        for (key, group) in new_groups {
            match old.remove(&key) {
                Some(running) if running.definition.same(&group.definition()) => {
                    next.insert(key, running);
                }
                Some(running) => {
                    running.stop.stop();
                    replacing.push((key, group, Some(running)));
                }
                None => replacing.push((key, group, None)),
            }
        }
        for running in old.values() {
            running.stop.stop();
        }
        for (key, mut group, previous) in replacing {
            if let Some(thread) = previous.and_then(|r| r.thread) {
                match thread.join() {
                    Ok(prev) => group.copy_state(prev),
                    Err(_) => {
                        tracing::error!(file = %key.0, group = %key.1, "rule group thread panicked; its state is lost")
                    }
                }
            }
            next.insert(key, self.spawn(group));
        }
        for ((file, name), running) in old {
            self.metrics.remove(&group_key(&file, &name));
            let Some(thread) = running.thread else {
                continue;
            };
            match thread.join() {
                Ok(group) => {
                    let handle = self.spawn_cleanup(group);
                    state.cleanups.push(handle);
                }
                Err(_) => tracing::error!(%file, group = %name, "rule group thread panicked"),
            }
        }
        state.cleanups.retain(|h| !h.is_finished());
        state.groups = next;
        Ok(())
    }

    /// Reads every file and builds its groups, or every problem of every file.
    fn load_groups(
        &self,
        files: &[String],
        settings: &GroupSettings,
    ) -> Result<BTreeMap<(String, String), Group>, RuleFileErrors> {
        let mut errs = Vec::new();
        let mut out = BTreeMap::new();
        for file in files {
            let f = match load_rule_file(file, self.opts.load) {
                Ok(f) => f,
                Err(e) => {
                    errs.extend(e.0);
                    continue;
                }
            };
            for desc in &f.groups {
                match Group::new(file, desc, settings) {
                    Ok(g) => {
                        out.insert((file.clone(), desc.name.clone()), g);
                    }
                    Err(e) => errs.push(RuleFileError {
                        file: file.clone(),
                        line: desc.line,
                        group: Some(desc.name.clone()),
                        rule: None,
                        message: e,
                    }),
                }
            }
        }
        if errs.is_empty() {
            Ok(out)
        } else {
            Err(RuleFileErrors(errs))
        }
    }

    /// Starts a group's thread.
    fn spawn(&self, group: Group) -> Running {
        let stop = Arc::new(Stop::default());
        let status = Arc::new(Mutex::new(Arc::new(group.status())));
        let definition = group.definition();
        let runner = Runner {
            opts: self.opts.clone(),
            stop: Arc::clone(&stop),
            status: Arc::clone(&status),
            metrics: Arc::clone(&self.metrics),
            key: group_key(group.file(), group.name()),
        };
        let name: String = format!("rules:{}", group.name()).chars().take(15).collect();
        let thread = std::thread::Builder::new()
            .name(name)
            .spawn(move || runner.run(group))
            .map_err(|e| tracing::error!(error = %e, "cannot start a rule group thread"))
            .ok();
        Running {
            definition,
            stop,
            thread,
            status,
        }
    }

    /// Marks a removed group's series stale after two intervals (time for a renamed rule to
    /// write its series first), unless the manager stops before.
    fn spawn_cleanup(&self, mut group: Group) -> JoinHandle<()> {
        let shutdown = Arc::clone(&self.shutdown);
        let appendable = Arc::clone(&self.opts.appendable);
        let now = now_ms();
        let wait = 2 * ms(group.interval());
        std::thread::spawn(move || {
            if !shutdown.wait_until(now + wait) {
                group.mark_all_stale(appendable.as_ref(), now);
            }
        })
    }

    /// Stops every group and waits for them.
    pub fn stop(&self) {
        let mut state = self.state.lock();
        if state.stopped {
            return;
        }
        state.stopped = true;
        tracing::info!("stopping rule manager");
        self.shutdown.stop();
        for running in state.groups.values() {
            running.stop.stop();
        }
        for (_, running) in std::mem::take(&mut state.groups) {
            if let Some(t) = running.thread {
                let _ = t.join();
            }
        }
        for h in std::mem::take(&mut state.cleanups) {
            let _ = h.join();
        }
    }

    /// The latest state of every group, ordered by file then name.
    pub fn groups(&self) -> Vec<Arc<GroupStatus>> {
        let state = self.state.lock();
        state
            .groups
            .values()
            .map(|r| Arc::clone(&r.status.lock()))
            .collect()
    }

    /// `/api/v1/rules` data.
    pub fn rules_data(&self, q: &RulesQuery) -> Result<RuleDiscovery, ParamError> {
        let groups = self.groups();
        let refs: Vec<&GroupStatus> = groups.iter().map(AsRef::as_ref).collect();
        api::rules_data(&refs, q)
    }

    /// `/api/v1/alerts` data.
    pub fn alerts_data(&self) -> AlertDiscovery {
        let groups = self.groups();
        let refs: Vec<&GroupStatus> = groups.iter().map(AsRef::as_ref).collect();
        api::alerts_data(&refs)
    }

    /// The `prometheus_rule_*` metrics of the running groups, in the text exposition format.
    pub fn metrics_text(&self) -> String {
        let groups = self.groups();
        let refs: Vec<&GroupStatus> = groups.iter().map(AsRef::as_ref).collect();
        self.metrics.render(&refs)
    }
}

impl Drop for Manager {
    fn drop(&mut self) {
        self.stop();
    }
}

/// What a group's thread holds.
struct Runner {
    opts: ManagerOptions,
    stop: Arc<Stop>,
    status: Arc<Mutex<Arc<GroupStatus>>>,
    metrics: Arc<RuleMetrics>,
    /// The group's `rule_group` label.
    key: String,
}

impl Runner {
    /// Evaluates at every slot until stopped; returns the group for a reload to take over.
    fn run(self, mut group: Group) -> Group {
        let interval = ms(group.interval()).max(1);
        // Wait for the first slot, so that evaluations keep to the group's own slots.
        let mut ts = group.eval_timestamp(now_ms()) + interval;
        if self.stop.wait_until(ts) {
            return group;
        }
        self.eval(&mut group, ts);
        if group.should_restore() {
            // Restore after a second evaluation: recording rules alerts depend on have
            // had a chance to write fresh values.
            match self.next_slot(ts, interval) {
                None => return group,
                Some(next) => ts = next,
            }
            self.eval(&mut group, ts);
            group.restore_for_state(self.opts.queryable.as_ref(), now_ms(), &self.opts.restore);
            self.publish(&group);
        }
        // Bounded by the stop signal: every pass sleeps until the next slot.
        loop {
            match self.next_slot(ts, interval) {
                None => return group,
                Some(next) => ts = next,
            }
            self.eval(&mut group, ts);
        }
    }

    /// Waits for the slot after `prev`; skips slots missed by a slow evaluation.
    fn next_slot(&self, prev: Timestamp, interval: i64) -> Option<Timestamp> {
        if self.stop.wait_until(prev + interval) {
            return None;
        }
        let missed = ((now_ms() - prev) / interval - 1).max(0);
        if missed > 0 {
            tracing::warn!(missed, "rule group evaluation missed slots");
            self.metrics.missed(&self.key, missed as u64);
        }
        Some(prev + (missed + 1) * interval)
    }

    fn eval(&self, group: &mut Group, ts: Timestamp) {
        let deps = EvalDeps {
            engine: &self.opts.engine,
            queryable: self.opts.queryable.as_ref(),
            appendable: self.opts.appendable.as_ref(),
            notify: self.opts.notify.as_deref(),
            resend_delay: self.opts.resend_delay,
            stop: Some(&self.stop.flag),
        };
        let started = SystemTime::now();
        group.eval(&deps, ts);
        self.publish(group);
        self.metrics
            .evaluated(&self.key, &self.status.lock(), started);
    }

    fn publish(&self, group: &Group) {
        *self.status.lock() = Arc::new(group.status());
    }
}
