//! Group evaluation driven step by step over an in-memory store: recording rules, the
//! alert state machine, `ALERTS` / `ALERTS_FOR_STATE`, notifications, `limit`, restoring
//! `for` state after a restart, and state carried across a reload.

mod common;

use std::sync::Mutex;
use std::time::Duration;

use common::{TestStore, labels, min};
use promql::{Engine, EngineOptions};
use rules::{
    Alert, AlertState, EvalDeps, Group, GroupSettings, LoadOptions, NotifySink, RestoreOptions,
    Rule, RuleHealth, parse_rule_file,
};

fn group(yaml: &str, settings: &GroupSettings) -> Group {
    let file =
        parse_rule_file(yaml, "test.yml", LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    Group::new("test.yml", &file.groups[0], settings).unwrap_or_else(|e| panic!("{e}"))
}

/// Collects what would go to Alertmanager.
#[derive(Default)]
struct Sent(Mutex<Vec<(i64, Alert)>>);

impl NotifySink for Sent {
    fn notify(&self, _expr: &str, alerts: Vec<Alert>) {
        let mut s = self.0.lock().unwrap_or_else(|p| p.into_inner());
        for a in alerts {
            s.push((a.last_sent_at.unwrap_or(-1), a));
        }
    }
}

impl Sent {
    fn take(&self) -> Vec<(i64, Alert)> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

struct Env {
    engine: Engine,
    store: TestStore,
    sent: Sent,
}

impl Env {
    fn new() -> Self {
        Env {
            engine: Engine::new(EngineOptions::default()),
            store: TestStore::new(),
            sent: Sent::default(),
        }
    }

    fn eval(&self, g: &mut Group, t: i64) {
        let deps = EvalDeps {
            engine: &self.engine,
            queryable: &self.store,
            appendable: &self.store,
            notify: Some(&self.sent),
            resend_delay: Duration::from_secs(60),
            stop: None,
        };
        g.eval(&deps, t);
    }
}

fn only_alert(g: &Group) -> Option<Alert> {
    let rule = g.alerting_rules().next()?;
    let all: Vec<&Alert> = rule.current_alerts().collect();
    assert!(all.len() <= 1, "{all:?}");
    all.first().map(|a| (*a).clone())
}

#[test]
fn recording_rule_values_are_written_at_evaluation_times() {
    let env = Env::new();
    for m in 0..=10 {
        env.store.add(
            &labels(&[("__name__", "req"), ("job", "a"), ("i", "1")]),
            min(m),
            m as f64,
        );
        env.store.add(
            &labels(&[("__name__", "req"), ("job", "a"), ("i", "2")]),
            min(m),
            10.0,
        );
    }
    let mut g = group(
        r#"
groups:
  - name: rec
    rules:
      - record: job:req:sum
        expr: sum by (job) (req)
        labels:
          source: rules
"#,
        &GroupSettings::default(),
    );
    for m in 1..=5 {
        env.eval(&mut g, min(m));
    }
    let out = labels(&[
        ("__name__", "job:req:sum"),
        ("job", "a"),
        ("source", "rules"),
    ]);
    let got = env.store.samples(&out);
    let want: Vec<(i64, f64)> = (1..=5).map(|m| (min(m), m as f64 + 10.0)).collect();
    assert_eq!(got, want);
    let Rule::Recording(r) = &g.rules()[0] else {
        panic!("recording rule expected");
    };
    assert_eq!(r.eval_record().health, RuleHealth::Good);
    assert_eq!(g.last_eval_timestamp(), Some(min(5)));
}

#[test]
fn query_offset_shifts_query_and_sample_times() {
    let env = Env::new();
    for m in 0..=10 {
        env.store
            .add(&labels(&[("__name__", "x")]), min(m), m as f64);
    }
    let mut g = group(
        "groups:\n  - name: g\n    query_offset: 2m\n    rules:\n      - record: x:copy\n        expr: x\n",
        &GroupSettings::default(),
    );
    env.eval(&mut g, min(5));
    assert_eq!(
        env.store.samples(&labels(&[("__name__", "x:copy")])),
        vec![(min(3), 3.0)]
    );
}

#[test]
fn vanished_series_get_staleness_markers() {
    let env = Env::new();
    for m in 0..=3 {
        env.store
            .add(&labels(&[("__name__", "x"), ("k", "gone")]), min(m), 1.0);
    }
    for m in 0..=10 {
        env.store
            .add(&labels(&[("__name__", "x"), ("k", "stays")]), min(m), 1.0);
    }
    // Input staleness: the input series ends with a marker, so the rule stops seeing it.
    env.store.add(
        &labels(&[("__name__", "x"), ("k", "gone")]),
        min(3) + 1,
        model::stale_nan(),
    );
    let mut g = group(
        "groups:\n  - name: g\n    rules:\n      - record: x:copy\n        expr: x\n",
        &GroupSettings::default(),
    );
    for m in 1..=5 {
        env.eval(&mut g, min(m));
    }
    let gone = labels(&[("__name__", "x:copy"), ("k", "gone")]);
    assert_eq!(env.store.at(&gone, min(3)), Some(Some(1.0)));
    assert_eq!(
        env.store.at(&gone, min(4)),
        Some(None),
        "staleness marker expected"
    );
    assert_eq!(env.store.at(&gone, min(5)), None, "only one marker");
    let stays = labels(&[("__name__", "x:copy"), ("k", "stays")]);
    assert_eq!(env.store.at(&stays, min(5)), Some(Some(1.0)));
}

const ALERT_RULES: &str = r#"
groups:
  - name: alerts
    rules:
      - alert: InstanceDown
        expr: up == 0
        for: 2m
        keep_firing_for: 1m
        labels:
          severity: page
        annotations:
          summary: "Instance {{ $labels.instance }} down"
"#;

#[test]
fn alert_goes_pending_firing_kept_firing_resolved() {
    let env = Env::new();
    let up = labels(&[("__name__", "up"), ("job", "x"), ("instance", "h:1")]);
    for m in 0..=40 {
        env.store.add(&up, min(m), if m <= 4 { 0.0 } else { 1.0 });
    }
    let mut g = group(ALERT_RULES, &GroupSettings::default());
    let mut states = Vec::new();
    for m in 0..=6 {
        env.eval(&mut g, min(m));
        let a = only_alert(&g).expect("an alert");
        states.push(a.state);
        match m {
            0 => assert_eq!(a.active_at, 0),
            2 => assert_eq!(a.fired_at, Some(min(2))),
            5 => assert_eq!(a.keep_firing_since, Some(min(5))),
            6 => assert_eq!(a.resolved_at, Some(min(6))),
            _ => {}
        }
    }
    use AlertState::*;
    assert_eq!(
        states,
        vec![Pending, Pending, Firing, Firing, Firing, Firing, Inactive]
    );
    let a = only_alert(&g).expect("resolved alert kept");
    assert_eq!(
        a.labels,
        labels(&[
            ("alertname", "InstanceDown"),
            ("instance", "h:1"),
            ("job", "x"),
            ("severity", "page")
        ])
    );
    // Resolved alerts are kept 15 minutes for resending, then dropped.
    env.eval(&mut g, min(21));
    assert!(only_alert(&g).is_some());
    env.eval(&mut g, min(22));
    assert!(only_alert(&g).is_none());

    // ALERTS and ALERTS_FOR_STATE, with markers when the series go away.
    let base = [
        ("alertname", "InstanceDown"),
        ("instance", "h:1"),
        ("job", "x"),
        ("severity", "page"),
    ];
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut v: Vec<(&str, &str)> = base.to_vec();
        v.extend_from_slice(extra);
        labels(&v)
    };
    let pending = with(&[("__name__", "ALERTS"), ("alertstate", "pending")]);
    let firing = with(&[("__name__", "ALERTS"), ("alertstate", "firing")]);
    let for_state = with(&[("__name__", "ALERTS_FOR_STATE")]);
    assert_eq!(env.store.at(&pending, min(1)), Some(Some(1.0)));
    assert_eq!(env.store.at(&pending, min(2)), Some(None));
    assert_eq!(env.store.at(&firing, min(5)), Some(Some(1.0)));
    assert_eq!(env.store.at(&firing, min(6)), Some(None));
    assert_eq!(env.store.at(&for_state, min(4)), Some(Some(0.0)));
    assert_eq!(env.store.at(&for_state, min(6)), Some(None));
}

#[test]
fn firing_and_resolved_alerts_are_sent_with_resend_delay() {
    let env = Env::new();
    let up = labels(&[("__name__", "up"), ("job", "x"), ("instance", "h:1")]);
    for m in 0..=40 {
        env.store.add(&up, min(m), if m <= 4 { 0.0 } else { 1.0 });
    }
    let mut g = group(ALERT_RULES, &GroupSettings::default());
    let mut sends = Vec::new();
    for m in 0..=9 {
        env.eval(&mut g, min(m));
        for (t, a) in env.sent.take() {
            sends.push((t / 60_000, a.state, a.resolved_at.is_some()));
        }
    }
    use AlertState::*;
    assert_eq!(
        sends,
        vec![
            (2, Firing, false),
            // 1m after the last send is not yet past the resend delay; 2m is.
            (4, Firing, false),
            (6, Inactive, true),
            (8, Inactive, true),
        ]
    );
}

#[test]
fn limit_drops_everything_with_an_error() {
    let env = Env::new();
    for i in ["1", "2"] {
        env.store
            .add(&labels(&[("__name__", "x"), ("i", i)]), 0, 1.0);
    }
    let mut g = group(
        r#"
groups:
  - name: limited
    limit: 1
    rules:
      - record: x:copy
        expr: x
      - alert: TooMany
        expr: x > 0
"#,
        &GroupSettings::default(),
    );
    env.eval(&mut g, min(1));
    let records: Vec<_> = g.rules().iter().map(|r| r.eval_record().clone()).collect();
    assert_eq!(records[0].health, RuleHealth::Bad);
    assert_eq!(
        records[0].last_error.as_deref(),
        Some("exceeded limit of 1 with 2 series")
    );
    assert_eq!(
        records[1].last_error.as_deref(),
        Some("exceeded limit of 1 with 2 alerts")
    );
    assert!(env.store.series_named("x:copy").is_empty());
    assert!(env.store.series_named("ALERTS").is_empty());
    assert!(only_alert(&g).is_none());
}

#[test]
fn for_state_is_restored_after_a_restart() {
    let env = Env::new();
    let up = labels(&[("__name__", "up"), ("job", "x")]);
    for m in 0..=60 {
        env.store.add(&up, min(m), 0.0);
    }
    let yaml = "groups:\n  - name: g\n    rules:\n      - alert: Down\n        expr: up == 0\n        for: 30m\n";
    // First life: pending from 0 to 5m, ALERTS_FOR_STATE written.
    let mut before = group(yaml, &GroupSettings::default());
    for m in 0..=5 {
        env.eval(&mut before, min(m));
    }
    assert_eq!(
        only_alert(&before).map(|a| a.state),
        Some(AlertState::Pending)
    );

    // Restart at 10m: nothing written until restored.
    let restart = GroupSettings {
        restore: true,
        ..GroupSettings::default()
    };
    let mut after = group(yaml, &restart);
    assert!(after.should_restore());
    env.eval(&mut after, min(10));
    let alerts = labels(&[
        ("__name__", "ALERTS"),
        ("alertname", "Down"),
        ("alertstate", "pending"),
        ("job", "x"),
    ]);
    assert_eq!(env.store.at(&alerts, min(10)), None);
    after.restore_for_state(&env.store, min(10), &RestoreOptions::default());
    // 5m were spent pending; the 5m outage does not count: active since 5m.
    assert_eq!(only_alert(&after).map(|a| a.active_at), Some(min(5)));
    env.eval(&mut after, min(11));
    assert_eq!(env.store.at(&alerts, min(11)), Some(Some(1.0)));
    env.eval(&mut after, min(34));
    assert_eq!(
        only_alert(&after).map(|a| a.state),
        Some(AlertState::Pending)
    );
    env.eval(&mut after, min(35));
    assert_eq!(
        only_alert(&after).map(|a| a.state),
        Some(AlertState::Firing)
    );
}

#[test]
fn restored_alert_close_to_firing_waits_the_grace_period() {
    let env = Env::new();
    let up = labels(&[("__name__", "up"), ("job", "x")]);
    for m in 0..=60 {
        env.store.add(&up, min(m), 0.0);
    }
    let yaml = "groups:\n  - name: g\n    rules:\n      - alert: Down\n        expr: up == 0\n        for: 30m\n";
    let mut before = group(yaml, &GroupSettings::default());
    for m in 0..=25 {
        env.eval(&mut before, min(m));
    }
    let mut after = group(
        yaml,
        &GroupSettings {
            restore: true,
            ..GroupSettings::default()
        },
    );
    env.eval(&mut after, min(27));
    after.restore_for_state(&env.store, min(27), &RestoreOptions::default());
    // 5m were left: it fires no sooner than the 10m grace period, at 37m.
    assert_eq!(
        only_alert(&after).map(|a| a.active_at),
        Some(min(27) + min(10) - min(30))
    );
}

#[test]
fn reload_keeps_alerts_and_marks_removed_rules_stale() {
    let env = Env::new();
    env.store.add(&labels(&[("__name__", "x")]), 0, 1.0);
    let old_yaml = r#"
groups:
  - name: g
    rules:
      - record: x:one
        expr: x
      - record: x:two
        expr: x * 2
      - alert: Always
        expr: x > 0
"#;
    let new_yaml = r#"
groups:
  - name: g
    rules:
      - alert: Always
        expr: x > 0
        annotations:
          note: changed
      - record: x:one
        expr: x
"#;
    let mut old = group(old_yaml, &GroupSettings::default());
    env.eval(&mut old, min(1));
    env.eval(&mut old, min(2));
    let active_at = only_alert(&old).map(|a| a.active_at);
    assert_eq!(active_at, Some(min(1)));

    let mut new = group(new_yaml, &GroupSettings::default());
    new.copy_state(old);
    env.eval(&mut new, min(3));
    assert_eq!(only_alert(&new).map(|a| a.active_at), active_at);
    assert_eq!(only_alert(&new).map(|a| a.state), Some(AlertState::Firing));
    let two = labels(&[("__name__", "x:two")]);
    assert_eq!(
        env.store.at(&two, min(3)),
        Some(None),
        "removed rule's series marked stale"
    );
    assert_eq!(
        env.store.at(&labels(&[("__name__", "x:one")]), min(3)),
        Some(Some(1.0))
    );
}

#[test]
fn evaluation_slots_spread_by_group_and_align_to_interval() {
    let g = group(
        "groups:\n  - name: g\n    interval: 1m\n    rules: []\n",
        &GroupSettings::default(),
    );
    let t = g.eval_timestamp(1_000_000_000);
    assert!(t <= 1_000_000_000 && 1_000_000_000 - t < 60_000);
    assert_eq!(g.eval_timestamp(t), t);
    assert_eq!(g.eval_timestamp(t + 59_999), t);
    assert_eq!(g.eval_timestamp(t + 60_000), t + 60_000);
}

#[test]
fn alert_labels_and_annotations_are_templated() {
    let env = Env::new();
    env.store.add(
        &labels(&[("__name__", "up"), ("instance", "h:1"), ("job", "x")]),
        min(1),
        0.0,
    );
    env.store
        .add(&labels(&[("__name__", "capacity")]), min(1), 42.0);
    let settings = GroupSettings {
        context: rules::AlertContext {
            external_labels: labels(&[("cluster", "eu-1")]),
            external_url: "http://hub:9090".into(),
        },
        ..GroupSettings::default()
    };
    let mut g = group(
        r#"
groups:
  - name: t
    rules:
      - alert: Down
        expr: up == 0
        labels:
          where: '{{ $labels.instance }}@{{ $externalLabels.cluster }}'
        annotations:
          summary: '{{ $labels.job }} is {{ $value }}'
          capacity: '{{ with query "capacity" }}{{ . | first | value }}{{ end }}'
          link: '{{ $externalURL }}/alerts'
          broken: '{{ index $labels 1 }}'
"#,
        &settings,
    );
    env.eval(&mut g, min(1));
    let a = only_alert(&g).expect("an alert");
    assert_eq!(a.labels.get("where"), Some("h:1@eu-1"));
    assert_eq!(a.annotations.get("summary"), Some("x is 0"));
    assert_eq!(a.annotations.get("capacity"), Some("42"));
    assert_eq!(a.annotations.get("link"), Some("http://hub:9090/alerts"));
    let broken = a.annotations.get("broken").unwrap_or("");
    assert!(
        broken.starts_with("<error expanding template: "),
        "{broken}"
    );
}
