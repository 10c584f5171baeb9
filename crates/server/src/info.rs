//! What the process tells the status and targets endpoints about itself: its
//! configuration, flags, runtime facts, external labels and the targets it scrapes.
//!
//! The binary implements [`ServerInfo`] and, when it evaluates rules, [`RulesInfo`]; the
//! API crate stays free of the scrape, config, rules and notifier crates. [`NoInfo`]
//! answers with empty values (tests, embedders).

use std::time::SystemTime;

use model::Labels;

/// Prometheus's API version this server claims in `/api/v1/status/buildinfo`.
///
/// Grafana reads `data.version` as a Prometheus semver to pick features (label
/// `match[]`, `limit`, ...); the crate version (0.x) would read as an ancient
/// Prometheus. The query semantics implemented are Prometheus 3's.
pub const PROMETHEUS_COMPAT_VERSION: &str = "3.0.0";

/// Runtime facts for `/api/v1/status/runtimeinfo`.
#[derive(Debug, Clone)]
pub struct RuntimeInfo {
    /// When the process started.
    pub start_time: SystemTime,
    /// The working directory.
    pub cwd: String,
    /// The host name.
    pub hostname: String,
    /// Whether the last configuration (re)load succeeded.
    pub reload_config_success: bool,
    /// When the configuration was last loaded successfully.
    pub last_config_time: SystemTime,
    /// Corrupted WAL records or blocks found (Prometheus's `corruptionCount`).
    pub corruption_count: i64,
    /// Threads of the process (Prometheus reports goroutines).
    pub thread_count: usize,
    /// Threads that can run at once (Prometheus's `GOMAXPROCS`).
    pub parallelism: usize,
    /// `storageRetention`, e.g. `15d` or `15d or 10GiB`.
    pub storage_retention: String,
}

impl Default for RuntimeInfo {
    fn default() -> Self {
        RuntimeInfo {
            start_time: SystemTime::UNIX_EPOCH,
            cwd: String::new(),
            hostname: String::new(),
            reload_config_success: true,
            last_config_time: SystemTime::UNIX_EPOCH,
            corruption_count: 0,
            thread_count: 0,
            parallelism: 0,
            storage_retention: String::new(),
        }
    }
}

/// Health of a target as the last scrape left it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetHealth {
    /// The last scrape succeeded.
    Up,
    /// The last scrape failed.
    Down,
    /// Not scraped yet.
    Unknown,
}

impl TargetHealth {
    /// The API's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            TargetHealth::Up => "up",
            TargetHealth::Down => "down",
            TargetHealth::Unknown => "unknown",
        }
    }
}

/// One active target, as `/api/v1/targets` lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct ActiveTarget {
    /// The scrape pool (job).
    pub scrape_pool: String,
    /// Labels after relabelling.
    pub labels: Labels,
    /// Labels as discovered.
    pub discovered_labels: Labels,
    /// The URL scraped.
    pub scrape_url: String,
    /// The last scrape's error; empty when it succeeded.
    pub last_error: String,
    /// When the last scrape happened; `None` before the first.
    pub last_scrape: Option<SystemTime>,
    /// How long the last scrape took, seconds.
    pub last_scrape_duration: f64,
    /// Health.
    pub health: TargetHealth,
    /// Scrape interval as a Prometheus duration (`15s`), empty when unknown.
    pub scrape_interval: String,
    /// Scrape timeout as a Prometheus duration, empty when unknown.
    pub scrape_timeout: String,
}

/// A target relabelling dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DroppedTarget {
    /// The scrape pool (job).
    pub scrape_pool: String,
    /// Labels as discovered.
    pub discovered_labels: Labels,
}

/// The targets a process scrapes itself.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScrapeTargets {
    /// Active targets.
    pub active: Vec<ActiveTarget>,
    /// Dropped targets.
    pub dropped: Vec<DroppedTarget>,
    /// Dropped targets per pool (may exceed `dropped` when only some are kept).
    pub dropped_counts: Vec<(String, usize)>,
    /// The `cluster` label the process stamps on what it scrapes: the `up` series of
    /// its own targets carry it and are not listed a second time as agents' targets.
    pub local_cluster: Option<String>,
}

/// The process-side facts the status endpoints show. Every method has an empty default.
pub trait ServerInfo: Send + Sync {
    /// The loaded configuration as YAML, secrets hidden.
    fn config_yaml(&self) -> String {
        String::new()
    }

    /// Every command-line flag and its value, as strings.
    fn flags(&self) -> Vec<(String, String)> {
        Vec::new()
    }

    /// Runtime facts.
    fn runtime(&self) -> RuntimeInfo {
        RuntimeInfo::default()
    }

    /// `global.external_labels`, attached to federated series.
    fn external_labels(&self) -> Labels {
        Labels::empty()
    }

    /// The targets this process scrapes itself.
    fn scrape_targets(&self) -> ScrapeTargets {
        ScrapeTargets::default()
    }
}

/// A [`ServerInfo`] with nothing to tell.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoInfo;

impl ServerInfo for NoInfo {}

/// A request parameter the rules endpoint refuses (`bad_data`), as Prometheus words it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedParam {
    /// The parameter.
    pub param: String,
    /// Why.
    pub message: String,
}

/// The Alertmanagers alerts are sent to, as `/api/v1/alertmanagers` lists them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Alertmanagers {
    /// Push URLs in use (`.../api/v2/alerts`).
    pub active: Vec<String>,
    /// URLs of discovered Alertmanagers that relabelling dropped.
    pub dropped: Vec<String>,
}

/// What a process that evaluates rules tells `/api/v1/rules`, `/api/v1/alerts` and
/// `/api/v1/alertmanagers`. The `data` objects are JSON already shaped as Prometheus's,
/// so that this crate needs no rule types.
pub trait RulesInfo: Send + Sync {
    /// The `data` of `/api/v1/rules` for the request's parameters (every pair, in order).
    fn rules_json(&self, params: &[(&str, &str)]) -> Result<String, RefusedParam>;

    /// The `data` of `/api/v1/alerts`.
    fn alerts_json(&self) -> String;

    /// Where alerts go.
    fn alertmanagers(&self) -> Alertmanagers;
}
