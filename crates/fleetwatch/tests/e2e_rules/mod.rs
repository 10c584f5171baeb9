//! Issue 5: every kube-prometheus rule pack loads into the hub and evaluates over the
//! demo's data, and every alert template renders without a template error.
//!
//! Topology: `fleetwatch demo` serves its synthetic node_exporter, kube-state-metrics
//! and cAdvisor targets (and writes each cluster's agent configuration into its data
//! folder); a hub started with `--config` (`rule_files` + a 2 s `evaluation_interval`)
//! receives the same clusters from two agents that use the demo's own agent
//! configurations. The demo's own hub runs too, unused: the demo takes no `--config`.
//! The one group with an `interval` of its own (3m) gets the test's 2 s too.
//!
//! - [`packs`]: the manifests, their `spec`s written as rule files;
//! - [`relax`]: label sets for alerts that do not fire (filters removed);
//! - [`render`]: templates expanded through the `template` crate, `query` backed by
//!   the hub's HTTP API.

mod packs;
mod relax;
mod render;

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::common::*;

/// How often the hub evaluates the groups in this test.
const EVAL_INTERVAL: &str = "2s";
const DEADLINE: Duration = Duration::from_secs(90);
/// What Prometheus writes into a label or annotation whose template failed.
const TEMPLATE_ERROR: &str = "error expanding template";

/// `data.groups` of the hub's `/api/v1/rules`.
fn rule_groups(base: &str) -> Option<Vec<Value>> {
    let (status, body) = http_get(&format!("{base}/api/v1/rules")).ok()?;
    let v: Value = serde_json::from_str(&body).ok()?;
    (status == 200 && v["status"] == "success")
        .then(|| v["data"]["groups"].as_array().cloned())
        .flatten()
}

/// Waits until every group has been evaluated at least twice after this call: three
/// distinct `lastEvaluation`s seen (the first may predate the call). Returns the groups
/// as last read.
fn wait_two_evaluations(base: &str, groups: usize) -> Vec<Value> {
    let mut seen: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    wait_for(
        &format!("{groups} rule groups evaluated twice with data present"),
        DEADLINE,
        || {
            let gs = rule_groups(base)?;
            for g in &gs {
                let key = format!("{} {}", g["file"], g["name"]);
                let last = g["lastEvaluation"].as_str().unwrap_or_default();
                if !last.starts_with("0001-") {
                    seen.entry(key).or_default().insert(last.to_string());
                }
            }
            (gs.len() >= groups && seen.len() >= groups && seen.values().all(|s| s.len() >= 3))
                .then_some(gs)
        },
    )
}

/// `rule[field]` of a JSON map of strings, as (name, value) pairs.
fn pairs(v: &Value) -> Vec<(String, String)> {
    v.as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// Template errors in an alert's labels and annotations (from either API).
fn alert_template_errors(alert: &Value, from: &str, out: &mut Vec<String>) {
    for field in ["labels", "annotations"] {
        for (k, v) in pairs(&alert[field]) {
            if v.contains(TEMPLATE_ERROR) || v.contains("<error") {
                out.push(format!(
                    "{from}: alert {} {field}.{k} = {v}",
                    alert["labels"]["alertname"]
                ));
            }
        }
    }
}

#[test]
fn kube_prometheus_rule_packs_evaluate_and_render_over_demo_data() {
    let _g = serial();
    let packs = packs::load(&packs::manifests_dir());
    let spec_groups = packs::groups(&packs);
    let tmp = tempfile::tempdir().expect("tempdir");
    let rule_files = packs::write_rule_files(&packs, &tmp.path().join("rules"), EVAL_INTERVAL);

    // The demo, for its targets: it writes each cluster's agent configuration.
    let demo_dir = tmp.path().join("demo");
    let mut cmd = Command::new(fleetwatch_bin());
    cmd.args([
        "demo",
        "--listen",
        "127.0.0.1:0",
        "--scrape-interval",
        "1s",
        "--data",
    ])
    .arg(&demo_dir);
    let mut demo = Proc::start("demo", cmd);
    demo.wait_listening(DEADLINE);
    let agent_configs: Vec<_> = ["demo-east", "demo-west"]
        .iter()
        .map(|c| {
            let path = demo_dir.join(c).join("agent.yml");
            wait_for(
                &format!("the demo to write {c}'s agent.yml"),
                DEADLINE,
                || {
                    std::fs::read_to_string(&path)
                        .ok()
                        .filter(|t| t.contains("kube-state-metrics"))
                },
            );
            (*c, path)
        })
        .collect();

    // The hub under test, with the packs as rule files.
    let hub_cfg = write_file(
        tmp.path(),
        "hub.yml",
        &format!(
            "global:\n  evaluation_interval: {EVAL_INTERVAL}\nrule_files:\n  - '{}/*.rules.yml'\n",
            tmp.path().join("rules").display()
        ),
    );
    let (mut hub, hub_addr) = start_hub(
        &tmp.path().join("hub"),
        &["--config", hub_cfg.to_str().expect("utf-8 path")],
    );
    let base = format!("http://{hub_addr}");
    let _agents: Vec<_> = agent_configs
        .iter()
        .map(|(cluster, cfg)| {
            start_agent(
                cluster,
                &format!("{base}/api/v1/write"),
                &tmp.path().join(format!("agent-{cluster}")),
                cfg,
            )
        })
        .collect();
    for (cluster, _) in &agent_configs {
        for job in ["node-exporter", "kube-state-metrics", "kubelet"] {
            wait_for(&format!("{cluster} {job} up in the hub"), DEADLINE, || {
                instant_query(&base, &format!(r#"up{{cluster="{cluster}",job="{job}"}}"#))
                    .filter(|r| !r.is_empty() && r.iter().all(|s| s["value"][1] == "1"))
            });
        }
    }
    let groups = wait_two_evaluations(&base, spec_groups.len());
    assert!(hub.is_running(), "the hub exited");

    // 1. The hub holds every group of every pack, with the packs' rules in order.
    let mut problems = Vec::new();
    let hub_groups: BTreeMap<String, &Value> = groups
        .iter()
        .map(|g| (g["name"].as_str().unwrap_or_default().to_string(), g))
        .collect();
    for (name, rules) in &spec_groups {
        let Some(g) = hub_groups.get(name) else {
            problems.push(format!("group {name} is not loaded"));
            continue;
        };
        let want: Vec<&str> = rules
            .iter()
            .map(|r| r["alert"].as_str().or(r["record"].as_str()).unwrap_or(""))
            .collect();
        let got: Vec<&str> = g["rules"]
            .as_array()
            .map(|rs| {
                rs.iter()
                    .map(|r| r["name"].as_str().unwrap_or(""))
                    .collect()
            })
            .unwrap_or_default();
        if want != got {
            problems.push(format!("group {name}: rules {got:?}, want {want:?}"));
        }
    }
    assert!(
        problems.is_empty(),
        "rule files {rule_files:?} did not load as written:\n{}",
        problems.join("\n")
    );

    // 2. Every rule evaluated without an error.
    let mut failing = Vec::new();
    let mut alert_errors = Vec::new();
    let (mut rules, mut alerting, mut active) = (0, 0, 0);
    for g in &groups {
        for r in g["rules"].as_array().into_iter().flatten() {
            rules += 1;
            if r["health"] != "ok" {
                failing.push(format!(
                    "group {} rule {} (health {}): {}\n    query: {}",
                    g["name"],
                    r["name"],
                    r["health"],
                    r["lastError"].as_str().unwrap_or("-"),
                    r["query"].as_str().unwrap_or("-"),
                ));
            }
            if r["type"] == "alerting" {
                alerting += 1;
                for a in r["alerts"].as_array().into_iter().flatten() {
                    active += 1;
                    alert_template_errors(a, "/api/v1/rules", &mut alert_errors);
                }
            }
        }
    }
    assert!(
        failing.is_empty(),
        "{} of {rules} rules failed to evaluate:\n{}",
        failing.len(),
        failing.join("\n")
    );

    // 3. Alerts that fired or are pending carry no template error.
    let (status, body) = http_get(&format!("{base}/api/v1/alerts")).expect("GET /api/v1/alerts");
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).expect("JSON");
    let alerts = v["data"]["alerts"].as_array().cloned().unwrap_or_default();
    for a in &alerts {
        alert_template_errors(a, "/api/v1/alerts", &mut alert_errors);
    }
    assert!(
        alert_errors.is_empty(),
        "template errors in active alerts:\n{}",
        alert_errors.join("\n")
    );

    // 4. Every alerting rule's labels and annotations, rendered for the label sets its
    //    expression (or, when that returns nothing, its relaxed forms) produces.
    let hub_query = render::HubQuery { base: base.clone() };
    let external_labels = model::Labels::empty();
    let mut by_level: BTreeMap<relax::Level, usize> = BTreeMap::new();
    let (mut rendered, mut with_sets, mut label_sets) = (0, 0, 0);
    let mut failures = Vec::new();
    let mut query_errors = Vec::new();
    let mut no_sets = Vec::new();
    for rule in packs::alerting_rules(&packs) {
        let mut found = None;
        let tries = std::iter::once((relax::Level::AsWritten, rule.expr.clone()))
            .chain(relax::relaxations(&rule.expr));
        for (level, expr) in tries {
            match hub_query.samples(&expr) {
                Ok(sets) if !sets.is_empty() => {
                    found = Some((level, sets));
                    break;
                }
                Ok(_) => {}
                Err(e) => query_errors.push(format!("{} ({level:?}): {e}", rule.name)),
            }
        }
        let Some((level, sets)) = found else {
            if !no_sets.contains(&rule.name) {
                no_sets.push(rule.name.clone());
            }
            continue;
        };
        *by_level.entry(level).or_default() += 1;
        with_sets += 1;
        label_sets += sets.len();
        let (n, f) = render::render(&rule, &sets, &hub_query, &external_labels, &base);
        rendered += n;
        failures.extend(f);
    }
    assert!(
        query_errors.is_empty(),
        "alert expressions the hub could not run:\n{}",
        query_errors.join("\n")
    );
    assert!(
        failures.is_empty(),
        "{} template expansions failed:\n{}",
        failures.len(),
        failures
            .iter()
            .map(|f| format!(
                "{} (group {}) {} for {}: {}",
                f.rule, f.group, f.field, f.labels, f.error
            ))
            .collect::<Vec<_>>()
            .join("\n")
    );

    // Recording rules that produced series over the demo's data (for the summary).
    let recorded = spec_groups
        .iter()
        .flat_map(|(_, rs)| rs.iter().filter_map(|r| r["record"].as_str()))
        .collect::<BTreeSet<_>>();
    let recorded_with_data = recorded
        .iter()
        .filter(|name| instant_query(&base, name).is_some_and(|r| !r.is_empty()))
        .count();

    println!(
        "kube-prometheus rule packs over the demo's data: {} packs, {} groups, {rules} rules \
         ({alerting} alerting, {} recording), all healthy after two evaluations",
        packs.len(),
        groups.len(),
        rules - alerting,
    );
    println!(
        "  recording rules with series: {recorded_with_data} of {} distinct names",
        recorded.len()
    );
    println!(
        "  active alerts: {active} in /api/v1/rules, {} in /api/v1/alerts; no template errors",
        alerts.len()
    );
    println!(
        "  alerting rules with label sets: {with_sets} of {alerting} \
         (as written: {}, top-level filter removed: {}, all filters removed: {}, \
         and/unless right sides removed too: {}); {label_sets} label sets, \
         {rendered} label/annotation expansions, no template errors",
        by_level.get(&relax::Level::AsWritten).unwrap_or(&0),
        by_level.get(&relax::Level::Top).unwrap_or(&0),
        by_level.get(&relax::Level::All).unwrap_or(&0),
        by_level.get(&relax::Level::Sets).unwrap_or(&0),
    );
    println!(
        "  alerts without label sets (their series are not in the demo's data; \
         the template crate's tests expand these with synthetic labels) ({} names): {}",
        no_sets.len(),
        no_sets.join(", ")
    );
    assert!(
        demo.terminate(Duration::from_secs(20)),
        "the demo did not stop cleanly"
    );
}
