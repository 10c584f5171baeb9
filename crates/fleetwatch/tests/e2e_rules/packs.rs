//! kube-prometheus's rule packs: every `*-prometheusRule.yaml` manifest is a
//! PrometheusRule object whose `spec` is a Prometheus rule file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// `$FLEETWATCH_CONFORMANCE/kube-prometheus/manifests`, or the workspace's
/// `../shared/conformance` when the variable is unset (as `scripts/test` sets it).
/// Panics (the test fails, it does not skip) when the folder is missing.
pub fn manifests_dir() -> PathBuf {
    let root = std::env::var_os("FLEETWATCH_CONFORMANCE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance")
        });
    let dir = root.join("kube-prometheus/manifests");
    assert!(
        dir.is_dir(),
        "{} is missing: set FLEETWATCH_CONFORMANCE to the shared conformance folder",
        dir.display()
    );
    dir
}

/// One PrometheusRule manifest.
pub struct Pack {
    /// The manifest's file name.
    pub manifest: String,
    /// `spec`: a rule file (`groups:`).
    pub spec: Value,
}

/// An alerting rule of a pack, as written.
#[derive(Debug, Clone)]
pub struct AlertRule {
    pub group: String,
    pub name: String,
    pub expr: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
}

/// Every `*-prometheusRule.yaml` in `dir`, sorted by name; panics when there is none
/// or one is not a PrometheusRule with `spec.groups`.
pub fn load(dir: &Path) -> Vec<Pack> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with("-prometheusRule.yaml"))
        .collect();
    names.sort();
    assert!(
        !names.is_empty(),
        "no *-prometheusRule.yaml in {}",
        dir.display()
    );
    names
        .into_iter()
        .map(|manifest| {
            let text = std::fs::read_to_string(dir.join(&manifest))
                .unwrap_or_else(|e| panic!("reading {manifest}: {e}"));
            let obj: Value = serde_saphyr::from_str(&text)
                .unwrap_or_else(|e| panic!("{manifest} is not YAML: {e}"));
            assert_eq!(obj["kind"], "PrometheusRule", "{manifest}");
            let spec = obj["spec"].clone();
            assert!(
                spec["groups"].as_array().is_some_and(|g| !g.is_empty()),
                "{manifest}: spec has no groups"
            );
            Pack { manifest, spec }
        })
        .collect()
}

/// Writes each pack's `spec` into `dir` as `<manifest stem>.rules.yml` and returns the
/// paths. The spec is written as JSON, which is YAML too: no YAML writer can then
/// change an expression or template on the way. A group's own `interval` (one pack
/// evaluates every 3m) becomes `interval`, so that every group is evaluated within
/// seconds; nothing else changes.
pub fn write_rule_files(packs: &[Pack], dir: &Path, interval: &str) -> Vec<PathBuf> {
    std::fs::create_dir_all(dir).expect("creating the rules folder");
    packs
        .iter()
        .map(|p| {
            let stem = p.manifest.trim_end_matches(".yaml");
            let path = dir.join(format!("{stem}.rules.yml"));
            let mut spec = p.spec.clone();
            for g in spec["groups"].as_array_mut().into_iter().flatten() {
                if g.get("interval").is_some() {
                    g["interval"] = Value::from(interval);
                }
            }
            let text = serde_json::to_string_pretty(&spec).expect("JSON");
            std::fs::write(&path, text).expect("writing a rule file");
            path
        })
        .collect()
}

/// All groups of all packs: (group name, its rules).
pub fn groups(packs: &[Pack]) -> Vec<(String, Vec<Value>)> {
    packs
        .iter()
        .flat_map(|p| p.spec["groups"].as_array().cloned().unwrap_or_default())
        .map(|g| {
            (
                g["name"].as_str().unwrap_or_default().to_string(),
                g["rules"].as_array().cloned().unwrap_or_default(),
            )
        })
        .collect()
}

fn string_map(v: &Value) -> BTreeMap<String, String> {
    v.as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// The alerting rules of all packs, in file order.
pub fn alerting_rules(packs: &[Pack]) -> Vec<AlertRule> {
    groups(packs)
        .into_iter()
        .flat_map(|(group, rules)| {
            rules.into_iter().filter_map(move |r| {
                Some(AlertRule {
                    group: group.clone(),
                    name: r["alert"].as_str()?.to_string(),
                    expr: r["expr"].as_str().unwrap_or_default().to_string(),
                    labels: string_map(&r["labels"]),
                    annotations: string_map(&r["annotations"]),
                })
            })
        })
        .collect()
}
