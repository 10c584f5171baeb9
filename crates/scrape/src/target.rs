//! Scrape targets: labels derived from discovery exactly as Prometheus's `PopulateLabels`,
//! the scrape URL, and the stable offset of a target within its interval.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use config::ScrapeConfig;
use discovery::TargetGroup;
use gofmt::query_escape;
use model::{INSTANCE_LABEL, JOB_LABEL, Label, Labels, LabelsBuilder, PromDuration};

use crate::cluster::{CLUSTER_LABEL, ClusterLabel};

/// `host:port` of the target.
pub const ADDRESS_LABEL: &str = "__address__";
/// `http` or `https`.
pub const SCHEME_LABEL: &str = "__scheme__";
/// The HTTP path.
pub const METRICS_PATH_LABEL: &str = "__metrics_path__";
/// The scrape interval of the target.
pub const SCRAPE_INTERVAL_LABEL: &str = "__scrape_interval__";
/// The scrape timeout of the target.
pub const SCRAPE_TIMEOUT_LABEL: &str = "__scrape_timeout__";
/// Prefix of labels that become URL query parameters.
pub const PARAM_LABEL_PREFIX: &str = "__param_";
/// Prefix of discovery metadata labels, removed after relabelling.
pub const META_LABEL_PREFIX: &str = "__meta_";
/// Prefix of every internal label.
pub const RESERVED_LABEL_PREFIX: &str = "__";

/// Why a discovered target cannot be scraped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// `__address__` is missing or empty after relabelling.
    #[error("no address")]
    NoAddress,
    /// `__address__` is not a `host:port`.
    #[error("{0:?} is not a valid hostname")]
    InvalidAddress(String),
    /// `__scrape_interval__` or `__scrape_timeout__` does not parse.
    #[error("error parsing scrape {which}: {value:?} is not a valid duration")]
    Duration {
        /// `interval` or `timeout`.
        which: &'static str,
        /// The label value.
        value: String,
    },
    /// An interval or timeout of zero.
    #[error("scrape {0} cannot be 0")]
    Zero(&'static str),
    /// The timeout is longer than the interval.
    #[error("scrape timeout cannot be greater than scrape interval ({timeout:?} > {interval:?})")]
    TimeoutAboveInterval {
        /// The timeout label value.
        timeout: String,
        /// The interval label value.
        interval: String,
    },
}

/// One target to scrape: its labels after relabelling, and those it was discovered with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    labels: Labels,
    discovered: Labels,
    params: BTreeMap<String, Vec<String>>,
    interval: Duration,
    timeout: Duration,
}

/// The result of deriving a target from discovered labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Derived {
    /// The target is kept.
    Target(Target),
    /// Relabelling dropped it; the discovered labels are kept for display.
    Dropped(Labels),
}

/// Derives a target from one discovered target and its group's labels, as Prometheus's
/// `PopulateLabels`: target labels win over group labels, then the job's defaults fill in
/// what is missing, then `relabel_configs` run, then `__meta_*` labels go and `instance`
/// defaults to the address. `cluster` adds a `cluster` label when it is a default.
pub fn populate_labels(
    cfg: &ScrapeConfig,
    target: &Labels,
    group: &Labels,
    cluster: &ClusterLabel,
) -> Result<Derived, TargetError> {
    let mut lb = LabelsBuilder::new(group.clone());
    for l in target {
        lb.set(l.name.as_str(), l.value.as_str());
    }
    let defaults = [
        (JOB_LABEL, cfg.job_name.clone()),
        (SCRAPE_INTERVAL_LABEL, cfg.scrape_interval.to_string()),
        (SCRAPE_TIMEOUT_LABEL, cfg.scrape_timeout.to_string()),
        (METRICS_PATH_LABEL, cfg.metrics_path.clone()),
        (SCHEME_LABEL, cfg.scheme.clone()),
    ];
    for (name, value) in defaults {
        if lb.get(name).is_none() {
            lb.set(name, value);
        }
    }
    for (k, v) in &cfg.params {
        let name = format!("{PARAM_LABEL_PREFIX}{k}");
        if let Some(first) = v.first()
            && lb.get(&name).is_none()
        {
            lb.set(name, first.as_str());
        }
    }
    let discovered = lb.clone().build();
    if !relabel::process_builder(&mut lb, &cfg.relabel_configs) {
        return Ok(Derived::Dropped(discovered));
    }
    let addr = match lb.get(ADDRESS_LABEL) {
        Some(a) => a.to_string(),
        None => return Err(TargetError::NoAddress),
    };
    if addr.contains('/') {
        return Err(TargetError::InvalidAddress(addr));
    }
    let interval = parse_duration(&lb, SCRAPE_INTERVAL_LABEL, "interval")?;
    let timeout = parse_duration(&lb, SCRAPE_TIMEOUT_LABEL, "timeout")?;
    if interval.is_zero() {
        return Err(TargetError::Zero("interval"));
    }
    if timeout.is_zero() {
        return Err(TargetError::Zero("timeout"));
    }
    if timeout > interval {
        return Err(TargetError::TimeoutAboveInterval {
            timeout: lb.get(SCRAPE_TIMEOUT_LABEL).unwrap_or_default().to_string(),
            interval: lb
                .get(SCRAPE_INTERVAL_LABEL)
                .unwrap_or_default()
                .to_string(),
        });
    }
    lb.retain(|l| !l.name.starts_with(META_LABEL_PREFIX));
    if lb.get(INSTANCE_LABEL).is_none() {
        lb.set(INSTANCE_LABEL, addr);
    }
    if let ClusterLabel::Default(name) = cluster
        && lb.get(CLUSTER_LABEL).is_none()
    {
        lb.set(CLUSTER_LABEL, name.as_str());
    }
    Ok(Derived::Target(Target {
        labels: lb.build(),
        discovered,
        params: cfg.params.clone(),
        interval,
        timeout,
    }))
}

fn parse_duration(
    lb: &LabelsBuilder,
    name: &str,
    which: &'static str,
) -> Result<Duration, TargetError> {
    let value = lb.get(name).unwrap_or_default();
    value
        .parse::<PromDuration>()
        .map(|d| d.std())
        .map_err(|_| TargetError::Duration {
            which,
            value: value.to_string(),
        })
}

/// Every target and dropped target of a job's groups, with the errors of unusable targets.
#[derive(Debug, Default)]
pub struct JobTargets {
    /// Targets to scrape.
    pub targets: Vec<Target>,
    /// Discovered labels of targets relabelling dropped.
    pub dropped: Vec<Labels>,
    /// Targets that could not be derived, with their discovered labels.
    pub errors: Vec<(Labels, TargetError)>,
}

/// Derives the targets of `groups` under `cfg`.
pub fn targets_from_groups(
    cfg: &ScrapeConfig,
    groups: &[TargetGroup],
    cluster: &ClusterLabel,
) -> JobTargets {
    let mut out = JobTargets::default();
    for g in groups {
        for t in &g.targets {
            match populate_labels(cfg, t, &g.labels, cluster) {
                Ok(Derived::Target(t)) => out.targets.push(t),
                Ok(Derived::Dropped(d)) => out.dropped.push(d),
                Err(e) => out.errors.push((t.clone(), e)),
            }
        }
    }
    out
}

impl Target {
    /// All labels after relabelling, internal ones (`__address__`, `__param_*`...) included.
    pub fn all_labels(&self) -> &Labels {
        &self.labels
    }

    /// The labels the target was discovered with (before relabelling).
    pub fn discovered_labels(&self) -> &Labels {
        &self.discovered
    }

    /// The target's public labels: those not starting with `__`, given to every sample.
    pub fn labels(&self) -> Labels {
        Labels::from_sorted(
            self.labels
                .iter()
                .filter(|l| !l.name.starts_with(RESERVED_LABEL_PREFIX))
                .cloned()
                .collect::<Vec<Label>>(),
        )
    }

    /// How often to scrape.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// How long one scrape may take.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// `scheme://address/path?params`, `__param_*` labels replacing the first value of a param.
    pub fn url(&self) -> String {
        let mut params = self.params.clone();
        for l in &self.labels {
            if let Some(k) = l.name.strip_prefix(PARAM_LABEL_PREFIX) {
                match params.get_mut(k) {
                    Some(v) if !v.is_empty() => v[0] = l.value.to_string(),
                    _ => {
                        params.insert(k.to_string(), vec![l.value.to_string()]);
                    }
                }
            }
        }
        let mut url = format!(
            "{}://{}{}",
            self.labels.get_or_empty(SCHEME_LABEL),
            self.labels.get_or_empty(ADDRESS_LABEL),
            self.labels.get_or_empty(METRICS_PATH_LABEL)
        );
        let mut sep = '?';
        for (k, vs) in &params {
            for v in vs {
                let _ = write!(url, "{sep}{}={}", query_escape(k), query_escape(v));
                sep = '&';
            }
        }
        url
    }

    /// A hash identifying the target: its labels and URL, the same across restarts.
    pub fn hash(&self) -> u64 {
        let mut h = Fnv64::default();
        h.write(format!("{:016}", self.labels.stable_hash()).as_bytes());
        h.write(self.url().as_bytes());
        h.0
    }

    /// How long from `now_nanos` (Unix time) until the target's first scrape: a fixed place
    /// in the interval derived from the target's hash (and `seed`), spreading targets evenly.
    pub fn offset(&self, now_nanos: u128, seed: u64) -> Duration {
        let interval = self.interval.as_nanos().max(1);
        let base = interval - now_nanos % interval;
        let offset = u128::from(self.hash() ^ seed) % interval;
        let mut next = base + offset;
        if next > interval {
            next -= interval;
        }
        Duration::from_nanos(u64::try_from(next).unwrap_or(u64::MAX))
    }
}

/// FNV-1a, 64 bits: small, stable across versions.
struct Fnv64(u64);

impl Default for Fnv64 {
    fn default() -> Self {
        Fnv64(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv64 {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_is_fnv1a() {
        let mut h = Fnv64::default();
        h.write(b"a");
        assert_eq!(h.0, 0xaf63_dc4c_8601_ec8c);
    }
}
