//! Target groups and the static provider.

use config::StaticConfig;
use model::Labels;

/// The label holding a target's `host:port`.
pub const ADDRESS_LABEL: &str = "__address__";

/// A set of targets sharing labels, identified by where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TargetGroup {
    /// Where the group came from: `"0"` for the first static config, `"path:0"` for a file.
    pub source: String,
    /// The targets; each has `__address__` and maybe more labels of its own.
    pub targets: Vec<Labels>,
    /// Labels given to every target of the group.
    pub labels: Labels,
}

/// The groups of a job's `static_configs`, sources named by index as Prometheus does.
pub fn static_groups(configs: &[StaticConfig]) -> Vec<TargetGroup> {
    configs
        .iter()
        .enumerate()
        .map(|(i, sc)| TargetGroup {
            source: i.to_string(),
            targets: sc
                .targets
                .iter()
                .map(|t| Labels::from_pairs([(ADDRESS_LABEL, t.as_str())]))
                .collect(),
            labels: Labels::from_pairs(sc.labels.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_configs_become_indexed_groups() {
        let cfgs = vec![
            StaticConfig {
                targets: vec!["a:9100".into(), "b:9100".into()],
                labels: [("env".to_string(), "prod".to_string())].into(),
            },
            StaticConfig {
                targets: vec!["c:80".into()],
                labels: Default::default(),
            },
        ];
        let g = static_groups(&cfgs);
        assert_eq!(g.len(), 2);
        assert_eq!(g[0].source, "0");
        assert_eq!(g[1].source, "1");
        assert_eq!(g[0].targets[1].get(ADDRESS_LABEL), Some("b:9100"));
        assert_eq!(g[0].labels.get("env"), Some("prod"));
        assert!(g[1].labels.is_empty());
    }
}
