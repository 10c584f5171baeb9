//! The manager on real time: groups run on their intervals, reloads keep alert state,
//! a bad file keeps the previous rules, removed groups' series go stale, stop is prompt.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{TestStore, labels};
use promql::{Engine, EngineOptions};
use rules::{Manager, ManagerOptions, RulesConfig, RulesQuery};

/// A temporary directory holding `rules.yml` with `text`; the file lasts as long as the
/// directory guard.
fn rules_file(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("rules.yml");
    std::fs::write(&path, text).expect("write rules");
    (dir, path)
}

/// Polls `cond` every 10ms until it holds or `secs` pass.
fn wait_for(secs: u64, what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if cond() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("timed out waiting for {what}");
}

fn manager(store: &TestStore) -> Manager {
    let engine = Arc::new(Engine::new(EngineOptions::default()));
    Manager::new(ManagerOptions::new(
        engine,
        Arc::new(store.clone()),
        Arc::new(store.clone()),
    ))
}

fn config(files: &[&Path]) -> RulesConfig {
    RulesConfig {
        files: files.iter().map(|p| p.display().to_string()).collect(),
        evaluation_interval: Duration::from_secs(60),
        rule_query_offset: Duration::ZERO,
        external_labels: labels(&[("cluster", "hub")]),
    }
}

const FIRING: &str = r#"
groups:
  - name: g
    interval: 50ms
    rules:
      - alert: Always
        expr: vector(1)
        labels:
          severity: info
"#;

/// The single alert's `activeAt`, when there is exactly one firing alert.
fn firing_active_at(m: &Manager) -> Option<String> {
    let data = m.alerts_data();
    match data.alerts.as_slice() {
        [a] if a.state == "firing" => Some(a.active_at.clone()),
        _ => None,
    }
}

#[test]
fn reload_keeps_a_firing_alerts_active_time() {
    let (_dir, path) = rules_file(FIRING);
    let store = TestStore::new();
    let m = manager(&store);
    m.update(&config(&[&path]))
        .unwrap_or_else(|e| panic!("{e}"));
    wait_for(10, "a firing alert", || firing_active_at(&m).is_some());
    let before = firing_active_at(&m);

    let changed = format!("{FIRING}      - record: one\n        expr: vector(1)\n");
    std::fs::write(&path, changed).expect("rewrite rules");
    m.update(&config(&[&path]))
        .unwrap_or_else(|e| panic!("{e}"));
    wait_for(10, "the reloaded group to evaluate its new rule", || {
        m.groups()
            .first()
            .is_some_and(|g| g.rules.len() == 2 && g.rules[1].record.timestamp.is_some())
    });
    assert_eq!(firing_active_at(&m), before);
    // The alert carries the rule's labels and the external labels are left to the sink.
    let alerts = m.alerts_data().alerts;
    assert_eq!(alerts[0].labels.get("severity"), Some("info"));
    m.stop();
}

#[test]
fn a_bad_file_on_reload_keeps_the_previous_rules() {
    let (_dir, path) = rules_file(FIRING);
    let store = TestStore::new();
    let m = manager(&store);
    m.update(&config(&[&path]))
        .unwrap_or_else(|e| panic!("{e}"));
    wait_for(10, "a firing alert", || firing_active_at(&m).is_some());

    let bad = format!("{FIRING}      - record: broken\n        expr: sum(\n");
    std::fs::write(&path, bad).expect("rewrite rules");
    let err = m.update(&config(&[&path])).expect_err("bad file accepted");
    let msg = err.to_string();
    assert!(msg.contains(&format!("{}:11:", path.display())), "{msg}");
    assert!(
        msg.contains("group \"g\", rule 2, \"broken\": could not parse expression"),
        "{msg}"
    );

    let evaluated = m.groups()[0].last_evaluation;
    wait_for(10, "the old group to keep evaluating", || {
        let g = &m.groups()[0];
        g.rules.len() == 1 && g.last_evaluation != evaluated
    });
    assert!(firing_active_at(&m).is_some());
}

#[test]
fn removed_groups_series_are_marked_stale() {
    let (_dir, path) = rules_file(
        "groups:\n  - name: rec\n    interval: 50ms\n    rules:\n      - record: one\n        expr: vector(1)\n",
    );
    let store = TestStore::new();
    let m = manager(&store);
    m.update(&config(&[&path]))
        .unwrap_or_else(|e| panic!("{e}"));
    let one = labels(&[("__name__", "one")]);
    wait_for(10, "recorded samples", || !store.samples(&one).is_empty());
    m.update(&config(&[])).unwrap_or_else(|e| panic!("{e}"));
    assert!(m.groups().is_empty());
    wait_for(10, "a staleness marker", || {
        store
            .samples(&one)
            .last()
            .is_some_and(|(_, v)| model::is_stale_nan(*v))
    });
}

#[test]
fn stop_is_prompt_and_rules_api_shows_groups() {
    let (_dir, path) = rules_file(
        "groups:\n  - name: slow\n    interval: 1h\n    rules:\n      - record: one\n        expr: vector(1)\n",
    );
    let store = TestStore::new();
    let m = manager(&store);
    m.update(&config(&[&path]))
        .unwrap_or_else(|e| panic!("{e}"));
    let data = m.rules_data(&RulesQuery::default()).expect("valid query");
    let json = serde_json::to_value(&data).expect("serialises");
    assert_eq!(json["groups"][0]["name"], "slow");
    assert_eq!(json["groups"][0]["interval"], 3600);
    assert_eq!(json["groups"][0]["rules"][0]["health"], "unknown");
    assert_eq!(json["groups"][0]["lastEvaluation"], "0001-01-01T00:00:00Z");
    let started = Instant::now();
    m.stop();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(m.groups().is_empty());
}

/// Counts the alerts handed over for sending.
#[derive(Default)]
struct Collect(std::sync::Mutex<Vec<rules::Alert>>);

impl rules::NotifySink for Collect {
    fn notify(&self, expr: &str, alerts: Vec<rules::Alert>) {
        assert_eq!(expr, "vector(1)");
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend(alerts);
    }
}

#[test]
fn firing_alerts_reach_the_sink() {
    let (_dir, path) = rules_file(FIRING);
    let store = TestStore::new();
    let sink = Arc::new(Collect::default());
    let engine = Arc::new(Engine::new(EngineOptions::default()));
    let mut opts = ManagerOptions::new(engine, Arc::new(store.clone()), Arc::new(store.clone()));
    opts.notify = Some(sink.clone());
    let m = Manager::new(opts);
    m.update(&config(&[&path]))
        .unwrap_or_else(|e| panic!("{e}"));
    wait_for(10, "a sent alert", || {
        !sink.0.lock().unwrap_or_else(|p| p.into_inner()).is_empty()
    });
    let sent = sink.0.lock().unwrap_or_else(|p| p.into_inner()).clone();
    assert_eq!(sent[0].state, rules::AlertState::Firing);
    assert_eq!(sent[0].labels.get("alertname"), Some("Always"));
    // Sent once: the next send waits for the resend delay (1m), over several evaluations.
    let mut seen = Vec::new();
    wait_for(10, "three more evaluations", || {
        let last = m.groups()[0].last_evaluation;
        if seen.last() != Some(&last) {
            seen.push(last);
        }
        seen.len() > 3
    });
    assert_eq!(sink.0.lock().unwrap_or_else(|p| p.into_inner()).len(), 1);
}
