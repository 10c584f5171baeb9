//! The demo hub's configuration and rule file: a recording rule over the simulated
//! clusters' CPUs and alerts per cluster, one of which fires for the demo's data, so that
//! `/api/v1/rules` and `/api/v1/alerts` show both clusters.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;

/// The alert that fires for both simulated clusters.
pub const FIRING_ALERT: &str = "ClusterCPUBusy";

/// Writes `hub.yml` and `demo-rules.yml` into `dir`; returns the configuration's path.
/// Rules evaluate at the scrape interval; the CPU alert fires once true for two of them.
pub fn write_hub_config(dir: &Path, interval: Duration) -> anyhow::Result<PathBuf> {
    let secs = interval.as_secs().max(1);
    let hold = 2 * secs;
    // Each simulated node's CPUs are 30% busy. The alert reads a ratio of two rates over the
    // same window, which is right from the second scrape on (a rate alone would climb for
    // five minutes while the window fills).
    let rules = format!(
        r#"# Written by `fleetwatch demo`; edit it and POST /-/reload (or SIGHUP) to try reloads.
groups:
  - name: demo-cluster-cpu
    rules:
      - record: cluster:node_cpu:rate5m
        expr: sum by (cluster) (rate(node_cpu_seconds_total{{mode!="idle"}}[5m]))
      - record: cluster:node_cpu:ratio_rate5m
        expr: cluster:node_cpu:rate5m / on (cluster) sum by (cluster) (rate(node_cpu_seconds_total[5m]))
      - alert: {FIRING_ALERT}
        expr: 100 * cluster:node_cpu:ratio_rate5m > 25
        for: {hold}s
        labels:
          severity: warning
        annotations:
          summary: "Cluster {{{{ $labels.cluster }}}} CPUs are {{{{ $value | humanize }}}}% busy"
          description: "Over 5m the nodes of {{{{ $labels.cluster }}}} spent {{{{ $value | humanize }}}}% of their CPU time outside idle (threshold 25%)."
  - name: demo-targets
    rules:
      - alert: TargetDown
        expr: up == 0
        for: 1m
        labels:
          severity: critical
        annotations:
          summary: "{{{{ $labels.job }}}} target {{{{ $labels.instance }}}} in cluster {{{{ $labels.cluster }}}} is down"
"#
    );
    let config = format!(
        "# Written by `fleetwatch demo`: the hub evaluates the demo's rules.\nglobal:\n  evaluation_interval: {secs}s\nrule_files:\n  - demo-rules.yml\n"
    );
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let rules_path = dir.join("demo-rules.yml");
    std::fs::write(&rules_path, rules)
        .with_context(|| format!("writing {}", rules_path.display()))?;
    let path = dir.join("hub.yml");
    std::fs::write(&path, config).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_rule_file_is_valid() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = write_hub_config(dir.path(), Duration::from_secs(5)).expect("written");
        let loaded = config::Config::load_file(&cfg).expect("config loads");
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
        let files = rules::expand_rule_files(&loaded.config.rule_files).expect("glob");
        assert_eq!(files.len(), 1);
        let f = rules::load_rule_file(&files[0], rules::LoadOptions::default())
            .expect("rule file loads");
        assert_eq!(f.groups.len(), 2);
    }
}
