//! Every label and annotation template of the kube-prometheus rule packs
//! parses and renders, with plausible labels and value, as Prometheus would
//! expand them for a firing alert. Fails (does not skip) when the rule
//! files are missing.

mod common;

use std::path::PathBuf;

use common::{NOW_MS, labels};
use template::{Data, expand_alert_template_at};

fn conformance_dir() -> PathBuf {
    match std::env::var_os("FLEETWATCH_CONFORMANCE") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance"),
    }
}

/// (file, rule name, field, template text) of every rule's labels and
/// annotations.
fn templates() -> Vec<(String, String, String, String)> {
    let dir = conformance_dir().join("kube-prometheus/manifests");
    let entries = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("kube-prometheus manifests at {}: {e}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with("-prometheusRule.yaml"))
        })
        .collect();
    files.sort();
    assert!(
        files.len() >= 5,
        "expected the rule packs in {}, found {files:?}",
        dir.display()
    );
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let doc: serde_json::Value =
            serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let file = f
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_string();
        let groups = doc["spec"]["groups"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(!groups.is_empty(), "{file}: no rule groups");
        for g in groups {
            for rule in g["rules"].as_array().cloned().unwrap_or_default() {
                let name = rule["alert"]
                    .as_str()
                    .or_else(|| rule["record"].as_str())
                    .unwrap_or("")
                    .to_string();
                for field in ["labels", "annotations"] {
                    if let Some(m) = rule[field].as_object() {
                        for (k, v) in m {
                            let v = match v {
                                serde_json::Value::String(s) => s.clone(),
                                other => other.to_string(),
                            };
                            out.push((file.clone(), name.clone(), format!("{field}.{k}"), v));
                        }
                    }
                }
            }
        }
    }
    out
}

fn alert_labels() -> model::Labels {
    labels(&[
        ("alertname", "Example"),
        ("cluster", "prod-eu1"),
        ("condition", "MemoryPressure"),
        ("container", "app"),
        ("controller", "kube-controller"),
        ("daemonset", "node-exporter"),
        ("deployment", "api"),
        ("device", "sda1"),
        ("handler", "/api/v1/query"),
        ("horizontalpodautoscaler", "api-hpa"),
        ("instance", "10.0.0.1:9100"),
        ("integration", "slack"),
        ("job", "node-exporter"),
        ("job_name", "backup-123"),
        ("mountpoint", "/var"),
        ("namespace", "monitoring"),
        ("node", "worker-1"),
        ("persistentvolumeclaim", "data-0"),
        ("pod", "api-7d9f"),
        ("reason", "CrashLoopBackOff"),
        ("remote_name", "thanos"),
        ("resource", "cpu"),
        ("service", "api"),
        ("severity", "warning"),
        ("statefulset", "db"),
        ("url", "http://remote/write"),
    ])
}

#[test]
fn every_kube_prometheus_template_renders() {
    let all = templates();
    assert!(all.len() >= 300, "only {} templates found", all.len());
    let l = alert_labels();
    let ext = labels(&[("prometheus", "monitoring/k8s")]);
    let queries = std::cell::RefCell::new(Vec::new());
    let query = |q: &str| {
        queries.borrow_mut().push(q.to_string());
        Ok(vec![common::sample(&[("instance", "10.0.0.1:9090")], 10.0)])
    };
    let mut with_actions = 0;
    for value in [0.4213, 12345.678, 0.0] {
        let data = Data {
            labels: &l,
            external_labels: &ext,
            external_url: "http://prometheus.example:9090",
            value,
            query: Some(&query),
        };
        for (file, rule, field, text) in &all {
            let out = expand_alert_template_at(rule, text, &data, NOW_MS)
                .unwrap_or_else(|e| panic!("{file} {rule} {field}: {text:?}: {e}"));
            assert!(
                !out.contains("{{"),
                "{file} {rule} {field}: unexpanded: {out:?}"
            );
            assert!(
                !out.contains("<no value>"),
                "{file} {rule} {field}: {out:?}"
            );
            if text.contains("{{") {
                with_actions += 1;
            }
        }
    }
    assert!(
        with_actions >= 3 * 100,
        "only {with_actions} renders had actions"
    );
    // The remote-write shards alert asks for the configured maximum.
    assert!(
        queries.borrow().iter().any(|q| q
            == r#"prometheus_remote_storage_shards_max{instance="10.0.0.1:9100",job="prometheus-k8s",namespace="monitoring"}"#),
        "{:?}",
        queries.borrow()
    );
}

#[test]
fn known_annotations_render_as_prometheus_does() {
    let all = templates();
    let find = |rule: &str, field: &str| {
        all.iter()
            .find(|t| t.1 == rule && t.2 == field)
            .map(|t| t.3.clone())
            .unwrap_or_else(|| panic!("{rule} {field} not found"))
    };
    let l = alert_labels();
    let ext = labels(&[]);
    let data = Data {
        labels: &l,
        external_labels: &ext,
        external_url: "",
        value: 0.4213,
        query: None,
    };
    let expand = |rule: &str, field: &str| {
        expand_alert_template_at(rule, &find(rule, field), &data, NOW_MS).unwrap_or_default()
    };
    assert_eq!(
        expand("AlertmanagerFailedToSendAlerts", "annotations.description"),
        "Alertmanager monitoring/api-7d9f failed to send 42.13% of notifications to slack."
    );
    assert_eq!(
        expand("AlertmanagerMembersInconsistent", "annotations.description"),
        "Alertmanager monitoring/api-7d9f has only found 0.4213 members of the node-exporter cluster."
    );
}
