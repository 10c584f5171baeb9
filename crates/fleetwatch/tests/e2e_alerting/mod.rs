//! Rules and alerts end to end: the hub evaluates a rule file over series remote-written
//! for two clusters, a real Alertmanager (Debian's) receives the alert of the one cluster
//! whose condition holds and sees it resolve, recording rules' series answer queries, and
//! reloads keep alert state while a broken rule file is refused with its file and line.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::*;

const DEADLINE: Duration = Duration::from_secs(60);
/// `global.evaluation_interval` of these tests.
const EVAL: Duration = Duration::from_secs(1);

/// A rule file: per-cluster queue depth recorded, and an alert when it is high.
const RULES: &str = r#"groups:
  - name: fleet-queues
    rules:
      - record: cluster:fleet_queue_depth:sum
        expr: sum by (cluster) (fleet_queue_depth)
      - alert: QueueBacklog
        expr: cluster:fleet_queue_depth:sum > 100
        for: 2s
        labels:
          severity: page
        annotations:
          summary: "Queue backlog in {{ $labels.cluster }}: {{ $value | humanize }} items"
"#;

/// Writes the hub's configuration (rule file `rules.yml` next to it, evaluated every
/// second, alerts to `alertmanager` when given) and the rule file.
fn hub_config(dir: &Path, rules: &str, alertmanager: Option<&str>) -> std::path::PathBuf {
    write_file(dir, "rules.yml", rules);
    let alerting = alertmanager
        .map(|a| {
            format!(
                "alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: ['{a}']\n"
            )
        })
        .unwrap_or_default();
    write_file(
        dir,
        "hub.yml",
        &format!(
            "global:\n  evaluation_interval: 1s\n  external_labels:\n    hub: central\nrule_files:\n  - rules.yml\n{alerting}"
        ),
    )
}

/// Queue depths: spoke-1's two queues add up to `spoke1`, spoke-2 stays at 10.
fn write_depths(base: &str, spoke1: [f64; 2]) {
    let series: [&[(&str, &str)]; 3] = [
        &[
            ("__name__", "fleet_queue_depth"),
            ("cluster", "spoke-1"),
            ("queue", "a"),
        ],
        &[
            ("__name__", "fleet_queue_depth"),
            ("cluster", "spoke-1"),
            ("queue", "b"),
        ],
        &[
            ("__name__", "fleet_queue_depth"),
            ("cluster", "spoke-2"),
            ("queue", "a"),
        ],
    ];
    remote_write_now(
        base,
        &[
            (series[0], spoke1[0]),
            (series[1], spoke1[1]),
            (series[2], 10.0),
        ],
    );
}

/// The hub's `QueueBacklog` alert for `cluster`, if listed.
fn backlog(base: &str, cluster: &str) -> Option<Value> {
    hub_alerts(base)
        .into_iter()
        .find(|a| a["labels"]["alertname"] == "QueueBacklog" && a["labels"]["cluster"] == cluster)
}

/// The hub's rule groups (`/api/v1/rules`).
fn groups(base: &str) -> Vec<Value> {
    get_json(&format!("{base}/api/v1/rules"))
        .and_then(|v| v["data"]["groups"].as_array().cloned())
        .unwrap_or_default()
}

#[test]
fn alert_of_one_cluster_reaches_alertmanager_and_resolves() {
    let _g = serial();
    let tmp = tempfile::tempdir().expect("tempdir");
    let (_am, am_addr) = start_alertmanager(tmp.path());
    let cfg = hub_config(tmp.path(), RULES, Some(&am_addr));
    let (_hub, hub_addr) = start_hub(
        &tmp.path().join("hub"),
        &[
            "--config",
            &cfg.display().to_string(),
            "--rules.alert.resend-delay=1s",
        ],
    );
    let base = format!("http://{hub_addr}");
    let ams = get_json(&format!("{base}/api/v1/alertmanagers")).expect("alertmanagers");
    assert_eq!(
        ams["data"]["activeAlertmanagers"][0]["url"],
        format!("http://{am_addr}/api/v2/alerts")
    );

    write_depths(&base, [1000.0, 500.0]);
    let got = wait_for("QueueBacklog in Alertmanager", DEADLINE, || {
        alertmanager_alerts(&am_addr)
            .into_iter()
            .find(|a| a["labels"]["alertname"] == "QueueBacklog")
    });
    assert_eq!(got["labels"]["cluster"], "spoke-1", "{got}");
    assert_eq!(got["labels"]["severity"], "page");
    assert_eq!(
        got["labels"]["hub"], "central",
        "external label added: {got}"
    );
    assert_eq!(
        got["annotations"]["summary"], "Queue backlog in spoke-1: 1.5k items",
        "{got}"
    );
    assert_eq!(got["status"]["state"], "active", "{got}");
    let generator = got["generatorURL"].as_str().unwrap_or_default();
    assert!(
        generator.starts_with(&format!("{base}/graph?g0.expr=")),
        "generator URL {generator:?} under the hub's external URL"
    );
    // A firing alert is sent with an end a few resend delays ahead, renewed by each resend.
    assert!(
        got["endsAt"]
            .as_str()
            .is_some_and(|e| !e.starts_with("0001"))
    );
    assert!(
        alertmanager_alerts(&am_addr)
            .iter()
            .all(|a| a["labels"]["cluster"] != "spoke-2"),
        "spoke-2's queue is short: no alert for it"
    );
    let firing = backlog(&base, "spoke-1").expect("firing in the hub");
    assert_eq!(firing["state"], "firing");

    // The condition clears: the next evaluation resolves the alert and sends it with
    // endsAt = now, after which Alertmanager no longer lists it (it lists alerts that
    // have not ended, whatever the filter).
    write_depths(&base, [0.0, 0.0]);
    let cleared = Instant::now();
    wait_for(
        "QueueBacklog gone from Alertmanager",
        3 * EVAL + Duration::from_millis(500),
        || {
            alertmanager_alerts(&am_addr)
                .iter()
                .all(|a| a["labels"]["alertname"] != "QueueBacklog")
                .then_some(())
        },
    );
    eprintln!(
        "resolved in Alertmanager {:?} after the condition cleared",
        cleared.elapsed()
    );
    assert!(
        cleared.elapsed() <= 3 * EVAL + Duration::from_millis(500),
        "took {:?}",
        cleared.elapsed()
    );
    wait_for("QueueBacklog gone from the hub's alerts", DEADLINE, || {
        backlog(&base, "spoke-1").is_none().then_some(())
    });
    let sent = format!(
        "prometheus_notifications_sent_total{{alertmanager=\"http://{am_addr}/api/v2/alerts\"}}"
    );
    wait_for(
        "firing and resolved notifications counted",
        DEADLINE,
        || {
            let metrics = http_get(&format!("{base}/metrics")).ok()?.1;
            let n: f64 = metrics
                .lines()
                .find_map(|l| l.strip_prefix(&sent))
                .and_then(|v| v.trim().parse().ok())?;
            (n >= 2.0).then_some(())
        },
    );
}

#[test]
fn recording_rule_series_answer_queries() {
    let _g = serial();
    let tmp = tempfile::tempdir().expect("tempdir");
    let cfg = hub_config(tmp.path(), RULES, None);
    let (_hub, hub_addr) = start_hub(
        &tmp.path().join("hub"),
        &["--config", &cfg.display().to_string()],
    );
    let base = format!("http://{hub_addr}");
    write_depths(&base, [1000.0, 500.0]);
    let values = |want: [(&str, &str); 2]| {
        let got = instant_query(&base, "cluster:fleet_queue_depth:sum")?;
        let mut pairs: Vec<(String, String, usize)> = got
            .iter()
            .map(|s| {
                (
                    s["metric"]["cluster"].as_str().unwrap_or("").to_string(),
                    s["value"][1].as_str().unwrap_or("").to_string(),
                    s["metric"].as_object().map_or(0, |m| m.len()),
                )
            })
            .collect();
        pairs.sort();
        let expected: Vec<(String, String, usize)> = want
            .iter()
            .map(|(c, v)| (c.to_string(), v.to_string(), 2))
            .collect();
        (pairs == expected).then_some(pairs)
    };
    // Exactly __name__ and cluster: `sum by (cluster)` keeps nothing else, and the rule
    // results carry no external label (Prometheus adds those only on the way out).
    wait_for("recorded sums per cluster", DEADLINE, || {
        values([("spoke-1", "1500"), ("spoke-2", "10")])
    });
    write_depths(&base, [7.0, 5.0]);
    wait_for("recorded sums follow new samples", DEADLINE, || {
        values([("spoke-1", "12"), ("spoke-2", "10")])
    });
    let g = groups(&base);
    assert_eq!(g.len(), 1, "{g:?}");
    assert_eq!(g[0]["rules"][0]["health"], "ok", "{}", g[0]);
    assert_eq!(g[0]["interval"], 1);
    let metrics = http_get(&format!("{base}/metrics")).expect("metrics").1;
    let group = format!(
        "{{rule_group=\"{}/rules.yml;fleet-queues\"}}",
        tmp.path().display()
    );
    for name in [
        "prometheus_rule_group_rules",
        "prometheus_rule_evaluations_total",
        "prometheus_rule_evaluation_failures_total",
        "prometheus_rule_group_last_duration_seconds",
    ] {
        assert!(
            metrics.contains(&format!("{name}{group} ")),
            "{name}{group} missing in /metrics"
        );
    }
    assert!(metrics.contains(&format!("prometheus_rule_group_rules{group} 2\n")));
}

#[test]
fn reloads_keep_alert_state_and_refuse_a_broken_rule_file() {
    let _g = serial();
    let tmp = tempfile::tempdir().expect("tempdir");
    let cfg = hub_config(tmp.path(), RULES, None);
    let (hub, hub_addr) = start_hub(
        &tmp.path().join("hub"),
        &["--config", &cfg.display().to_string()],
    );
    let base = format!("http://{hub_addr}");
    write_depths(&base, [1000.0, 500.0]);
    let firing = wait_for("QueueBacklog firing in the hub", DEADLINE, || {
        backlog(&base, "spoke-1").filter(|a| a["state"] == "firing")
    });
    let active_at = firing["activeAt"].clone();

    // A changed group (a new rule, a new annotation): the alert keeps its activeAt.
    let changed = RULES.replace("items\"", "items (reloaded)\"")
        + "      - record: cluster:fleet_queue_depth:max\n        expr: max by (cluster) (fleet_queue_depth)\n";
    write_file(tmp.path(), "rules.yml", &changed);
    hub.sighup();
    let alert = wait_for("the reloaded rules in use", DEADLINE, || {
        let g = groups(&base);
        let three = g.first()?["rules"].as_array()?.len() == 3;
        let a = backlog(&base, "spoke-1")?;
        let summary = a["annotations"]["summary"].as_str()?.to_string();
        (three && summary.ends_with("(reloaded)")).then_some(a)
    });
    assert_eq!(alert["state"], "firing", "{alert}");
    assert_eq!(
        alert["activeAt"], active_at,
        "activeAt kept across the reload"
    );

    // A broken file is refused, naming file and line; the previous rules keep running.
    let broken = changed.replace(
        "max by (cluster) (fleet_queue_depth)",
        "max by (cluster) (fleet_queue_depth",
    );
    let rules_path = write_file(tmp.path(), "rules.yml", &broken);
    let line = broken
        .lines()
        .position(|l| l.ends_with("(fleet_queue_depth"))
        .expect("broken line")
        + 1;
    let (status, body) = http_post(&format!("{base}/-/reload"), &[], Vec::new()).expect("POST");
    assert_eq!(status, 500, "{body}");
    let at = format!("{}:{line}:", rules_path.display());
    assert!(body.starts_with("failed to reload config: "), "{body}");
    assert!(
        body.contains(&at) && body.contains("group \"fleet-queues\""),
        "{at} and the group in: {body}"
    );
    let runtime = get_json(&format!("{base}/api/v1/status/runtimeinfo")).expect("runtimeinfo");
    assert_eq!(runtime["data"]["reloadConfigSuccess"], false);
    let before = groups(&base)[0]["lastEvaluation"].clone();
    wait_for("the previous rules evaluated again", DEADLINE, || {
        let g = groups(&base);
        let after = g.first()?["lastEvaluation"].clone();
        (after != before && g[0]["rules"].as_array()?.len() == 3).then_some(())
    });
    let alert = backlog(&base, "spoke-1").expect("still firing");
    assert_eq!(alert["activeAt"], active_at);

    // Fixed again: the reload succeeds.
    write_file(tmp.path(), "rules.yml", &changed);
    let (status, body) = http_post(&format!("{base}/-/reload"), &[], Vec::new()).expect("POST");
    assert_eq!((status, body.as_str()), (200, ""));
    let runtime = get_json(&format!("{base}/api/v1/status/runtimeinfo")).expect("runtimeinfo");
    assert_eq!(runtime["data"]["reloadConfigSuccess"], true);
    assert_eq!(
        backlog(&base, "spoke-1").expect("firing")["activeAt"],
        active_at
    );
}
