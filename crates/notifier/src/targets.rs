//! Alertmanager URLs from discovered target groups (Prometheus's `AlertmanagerFromGroup`):
//! `__scheme__`, `__address__` and `__alerts_path__` after `relabel_configs`.

use config::AlertmanagerConfig;
use discovery::{ADDRESS_LABEL, TargetGroup};
use model::{Labels, LabelsBuilder};
use scrape::target::SCHEME_LABEL;

/// The label holding the push path; relabelling may change it.
const PATH_LABEL: &str = "__alerts_path__";

/// The Alertmanagers of a set: active URLs (deduplicated, in discovery order) and the
/// URLs of targets relabelling dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Discovered {
    /// Where alerts go.
    pub active: Vec<String>,
    /// Targets dropped by `relabel_configs`, as URLs built from their labels before relabelling.
    pub dropped: Vec<String>,
}

/// Resolves `groups` under `cfg`. A group holding an address with a `/` after relabelling
/// is skipped whole (and logged), as in Prometheus.
pub(crate) fn alertmanagers(groups: &[TargetGroup], cfg: &AlertmanagerConfig) -> Discovered {
    let mut out = Discovered::default();
    let path = push_path(&cfg.path_prefix, cfg.api_version.as_str());
    for g in groups {
        let mut active = Vec::new();
        let mut dropped = Vec::new();
        let mut bad = None;
        for t in &g.targets {
            let mut lb = LabelsBuilder::new(t.clone());
            lb.set(SCHEME_LABEL, cfg.scheme.as_str());
            lb.set(PATH_LABEL, path.as_str());
            for l in &g.labels {
                if !t.has(&l.name) {
                    lb.set(l.name.clone(), l.value.clone());
                }
            }
            let before = lb.clone().build();
            if !relabel::process_builder(&mut lb, &cfg.relabel_configs) {
                dropped.push(url_of(&before));
                continue;
            }
            let labels = lb.build();
            let addr = labels.get_or_empty(ADDRESS_LABEL);
            if addr.contains('/') {
                bad = Some(addr.to_string());
                break;
            }
            active.push(url_of(&labels));
        }
        if let Some(addr) = bad {
            tracing::error!(source = %g.source, "creating discovered Alertmanagers failed: {addr:?} is not a valid hostname");
            continue;
        }
        for u in active {
            if !out.active.contains(&u) {
                out.active.push(u);
            }
        }
        out.dropped.extend(dropped);
    }
    out
}

/// `scheme://address/path` as Go's `url.URL{Scheme, Host, Path}.String()` writes it.
fn url_of(labels: &Labels) -> String {
    let scheme = labels.get_or_empty(SCHEME_LABEL);
    let host = labels.get_or_empty(ADDRESS_LABEL);
    let path = labels.get_or_empty(PATH_LABEL);
    let mut s = String::with_capacity(scheme.len() + host.len() + path.len() + 4);
    if !scheme.is_empty() {
        s.push_str(scheme);
        s.push(':');
    }
    if !host.is_empty() || !scheme.is_empty() {
        s.push_str("//");
        s.push_str(host);
    }
    if !path.is_empty() && !path.starts_with('/') && !host.is_empty() {
        s.push('/');
    }
    s.push_str(path);
    s
}

/// `path.Join("/", prefix, "/api/<version>/alerts")`.
fn push_path(prefix: &str, version: &str) -> String {
    clean_path(&format!("/{prefix}/api/{version}/alerts"))
}

/// Go's `path.Clean` for an absolute path: no empty, `.` or `..` elements, no trailing slash.
fn clean_path(p: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    format!("/{}", parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use config::Config;
    use std::path::Path;

    fn cfg(yaml: &str) -> AlertmanagerConfig {
        let text = format!("alerting:\n  alertmanagers:\n    - {yaml}\n");
        let mut l = Config::load_str(&text, "t.yml", Path::new("/")).expect("loads");
        l.config.alerting.alertmanagers.remove(0)
    }

    fn groups(c: &AlertmanagerConfig) -> Vec<TargetGroup> {
        discovery::static_groups(&c.static_configs)
    }

    #[test]
    fn urls_follow_scheme_prefix_and_version() {
        let c = cfg(
            "scheme: https\n      path_prefix: am/\n      static_configs:\n        - targets: [a:9093, b:9093, a:9093]",
        );
        let d = alertmanagers(&groups(&c), &c);
        assert_eq!(
            d.active,
            vec![
                "https://a:9093/am/api/v2/alerts",
                "https://b:9093/am/api/v2/alerts"
            ]
        );
        assert!(d.dropped.is_empty());
        assert_eq!(push_path("", "v2"), "/api/v2/alerts");
        assert_eq!(push_path("/x/../y//", "v2"), "/y/api/v2/alerts");
    }

    #[test]
    fn relabelling_drops_and_rewrites() {
        let c = cfg(concat!(
            "static_configs:\n        - targets: [a:9093, b:9093]\n          labels: {dc: x}\n",
            "      relabel_configs:\n",
            "        - {source_labels: [__address__], regex: 'b:.*', action: drop}\n",
            "        - {source_labels: [dc], target_label: __alerts_path__, replacement: '/$1/push'}",
        ));
        let d = alertmanagers(&groups(&c), &c);
        assert_eq!(d.active, vec!["http://a:9093/x/push"]);
        assert_eq!(d.dropped, vec!["http://b:9093/api/v2/alerts"]);
    }

    #[test]
    fn an_address_with_a_slash_skips_its_group() {
        let c = cfg(concat!(
            "static_configs:\n        - targets: [a:9093]\n        - targets: [b:9093]\n",
            "      relabel_configs:\n",
            "        - {source_labels: [__address__], regex: 'a:(.*)', target_label: __address__, replacement: 'a/$1'}",
        ));
        let d = alertmanagers(&groups(&c), &c);
        assert_eq!(d.active, vec!["http://b:9093/api/v2/alerts"]);
    }
}
