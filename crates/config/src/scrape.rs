//! A `scrape_configs` entry: one job, its targets (static and file discovery), HTTP client,
//! relabelling and limits, with the global defaults already folded in.

use std::collections::BTreeMap;

use model::PromDuration;
use relabel::{NameValidationScheme, RelabelConfig};
use serde::Deserialize;

use crate::de::{scalar_string, scalar_strings, string_map};
use crate::global::ScrapeProtocol;
use crate::http::HttpClientConfig;

/// One `static_configs` entry: a target group written in the config.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StaticConfig {
    /// `host:port` addresses (become `__address__`).
    #[serde(deserialize_with = "scalar_strings")]
    pub targets: Vec<String>,
    /// Labels given to every target of the group.
    #[serde(deserialize_with = "string_map")]
    pub labels: BTreeMap<String, String>,
}

/// One `file_sd_configs` entry.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FileSdConfig {
    /// File patterns (`*` allowed in the last path element), resolved against the config
    /// file's directory.
    #[serde(deserialize_with = "scalar_strings")]
    pub files: Vec<String>,
    /// How often to re-read the files besides watching them (5m).
    pub refresh_interval: PromDuration,
}

impl Default for FileSdConfig {
    fn default() -> Self {
        FileSdConfig {
            files: Vec::new(),
            refresh_interval: PromDuration::from_millis(5 * 60 * 1000),
        }
    }
}

/// Prometheus's rule for file discovery names: a `.json`/`.yml`/`.yaml` file, with at most
/// one `*` wildcard section and none in directory names after it.
pub fn is_valid_file_sd_name(name: &str) -> bool {
    let Some(dot) = name.rfind('.') else {
        return false;
    };
    let ext = &name[dot + 1..];
    if !["json", "yml", "yaml", "JSON", "YML", "YAML"].contains(&ext) {
        return false;
    }
    let stem = &name[..dot];
    match stem.find('*') {
        None => true,
        Some(i) => !stem[i..].contains('/'),
    }
}

/// A service-discovery section Fleetwatch does not implement yet, kept as written.
#[derive(Debug, Clone, PartialEq)]
pub struct UnsupportedSdConfig {
    /// The key, e.g. `kubernetes_sd_configs`.
    pub key: String,
    /// Each entry as parsed YAML.
    pub configs: Vec<serde_json::Value>,
}

/// A scrape job after loading: every default resolved from `global` and Prometheus's
/// defaults, so that users never need to look at `global` themselves.
#[derive(Debug, Clone, PartialEq)]
pub struct ScrapeConfig {
    /// The job name (the `job` label), unique in the file.
    pub job_name: String,
    /// Keep the target's labels when they clash with the server's.
    pub honor_labels: bool,
    /// Use the timestamps the target exposes (true).
    pub honor_timestamps: bool,
    /// Mark exposed-timestamp series stale when they disappear.
    pub track_timestamps_staleness: bool,
    /// URL query parameters.
    pub params: BTreeMap<String, Vec<String>>,
    /// How often to scrape (resolved from global).
    pub scrape_interval: PromDuration,
    /// How long a scrape may take (resolved; never more than the interval).
    pub scrape_timeout: PromDuration,
    /// Protocols to ask for, in preference order (resolved).
    pub scrape_protocols: Vec<ScrapeProtocol>,
    /// Protocol to assume when the response has no or an unknown content type.
    pub fallback_scrape_protocol: Option<ScrapeProtocol>,
    /// Ask for native histograms.
    pub scrape_native_histograms: bool,
    /// Keep classic histograms alongside native ones.
    pub always_scrape_classic_histograms: bool,
    /// Convert classic histograms to native ones with custom buckets.
    pub convert_classic_histograms_to_nhcb: bool,
    /// Scrape failure log file (resolved; empty = none).
    pub scrape_failure_log_file: String,
    /// HTTP path ("/metrics").
    pub metrics_path: String,
    /// `http` or `https` ("http").
    pub scheme: String,
    /// Ask for gzip (true).
    pub enable_compression: bool,
    /// Largest accepted body in bytes (0 = no limit).
    pub body_size_limit: u64,
    /// Samples per scrape (0 = no limit).
    pub sample_limit: u64,
    /// Targets per job (0 = no limit).
    pub target_limit: u64,
    /// Labels per sample (0 = no limit).
    pub label_limit: u64,
    /// Label name length (0 = no limit).
    pub label_name_length_limit: u64,
    /// Label value length (0 = no limit).
    pub label_value_length_limit: u64,
    /// Native histogram bucket limit (0 = no limit).
    pub native_histogram_bucket_limit: u64,
    /// Native histogram minimum bucket growth factor (0 = none).
    pub native_histogram_min_bucket_factor: f64,
    /// Dropped targets kept for display (0 = all).
    pub keep_dropped_targets: u64,
    /// Name validity rules for this job (resolved from global).
    pub metric_name_validation_scheme: NameValidationScheme,
    /// Escaping asked of targets (resolved).
    pub metric_name_escaping_scheme: String,
    /// Extra `scrape_*` series.
    pub extra_scrape_metrics: bool,
    /// The HTTP client (YAML keys inline in the job).
    pub http_client: HttpClientConfig,
    /// Rules applied to discovered targets.
    pub relabel_configs: Vec<RelabelConfig>,
    /// Rules applied to scraped samples.
    pub metric_relabel_configs: Vec<RelabelConfig>,
    /// Target groups written in the config.
    pub static_configs: Vec<StaticConfig>,
    /// File-based discovery.
    pub file_sd_configs: Vec<FileSdConfig>,
    /// Every other discovery section, kept as written (warned about when loaded).
    pub unsupported_sd_configs: Vec<UnsupportedSdConfig>,
}

/// A `params` value list: any scalars.
pub(crate) fn params_map<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, Vec<String>>, D::Error> {
    #[derive(Deserialize, PartialEq, Eq, PartialOrd, Ord)]
    struct K(#[serde(deserialize_with = "scalar_string")] String);
    #[derive(Deserialize)]
    struct V(#[serde(deserialize_with = "scalar_strings")] Vec<String>);
    let m: Option<BTreeMap<K, V>> = Deserialize::deserialize(d)?;
    Ok(m.unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k.0, v.0))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_sd_names_follow_prometheus() {
        for ok in [
            "foo/*.slow.json",
            "single/file.yml",
            "bar/*.yaml",
            "a.JSON",
            "x/y*z*.yml",
        ] {
            assert!(is_valid_file_sd_name(ok), "{ok}");
        }
        for bad in [
            "foo.txt",
            "*/x.json",
            "a*/b.yml",
            "noext",
            "a.json.bak",
            "a.Json",
        ] {
            assert!(!is_valid_file_sd_name(bad), "{bad}");
        }
    }
}
