//! The `global:` section: defaults for every scrape job, evaluation interval, external labels.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use model::{Labels, PromDuration};
use relabel::NameValidationScheme;
use serde::Deserialize;

use crate::de::{byte_size, scalar_string, string_map};
use crate::http::join_dir;

/// An exposition format a scrape may ask for, in `Accept` order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScrapeProtocol {
    /// Prometheus protobuf (`PrometheusProto`).
    PrometheusProto,
    /// Prometheus text 0.0.4.
    PrometheusText0_0_4,
    /// Prometheus text 1.0.0.
    PrometheusText1_0_0,
    /// OpenMetrics 0.0.1.
    OpenMetricsText0_0_1,
    /// OpenMetrics 1.0.0.
    OpenMetricsText1_0_0,
}

impl ScrapeProtocol {
    /// Every protocol, sorted by name (the order Prometheus lists them in errors).
    pub const ALL: [ScrapeProtocol; 5] = [
        ScrapeProtocol::OpenMetricsText0_0_1,
        ScrapeProtocol::OpenMetricsText1_0_0,
        ScrapeProtocol::PrometheusProto,
        ScrapeProtocol::PrometheusText0_0_4,
        ScrapeProtocol::PrometheusText1_0_0,
    ];

    /// Prometheus's default preference when native histograms are off.
    pub const DEFAULT: [ScrapeProtocol; 4] = [
        ScrapeProtocol::OpenMetricsText1_0_0,
        ScrapeProtocol::OpenMetricsText0_0_1,
        ScrapeProtocol::PrometheusText1_0_0,
        ScrapeProtocol::PrometheusText0_0_4,
    ];

    /// Prometheus's default preference when native histograms are scraped.
    pub const DEFAULT_PROTO_FIRST: [ScrapeProtocol; 5] = [
        ScrapeProtocol::PrometheusProto,
        ScrapeProtocol::OpenMetricsText1_0_0,
        ScrapeProtocol::OpenMetricsText0_0_1,
        ScrapeProtocol::PrometheusText1_0_0,
        ScrapeProtocol::PrometheusText0_0_4,
    ];

    /// The name used in configuration files.
    pub fn as_str(self) -> &'static str {
        match self {
            ScrapeProtocol::PrometheusProto => "PrometheusProto",
            ScrapeProtocol::PrometheusText0_0_4 => "PrometheusText0.0.4",
            ScrapeProtocol::PrometheusText1_0_0 => "PrometheusText1.0.0",
            ScrapeProtocol::OpenMetricsText0_0_1 => "OpenMetricsText0.0.1",
            ScrapeProtocol::OpenMetricsText1_0_0 => "OpenMetricsText1.0.0",
        }
    }

    /// The media type with parameters, as sent in `Accept`.
    pub fn header_value(self) -> &'static str {
        match self {
            ScrapeProtocol::PrometheusProto => {
                "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited"
            }
            ScrapeProtocol::PrometheusText0_0_4 => "text/plain;version=0.0.4",
            ScrapeProtocol::PrometheusText1_0_0 => "text/plain;version=1.0.0",
            ScrapeProtocol::OpenMetricsText0_0_1 => "application/openmetrics-text;version=0.0.1",
            ScrapeProtocol::OpenMetricsText1_0_0 => "application/openmetrics-text;version=1.0.0",
        }
    }

    /// Parses a configuration name (exact, case-sensitive, as Prometheus does).
    pub fn parse(s: &str) -> Result<ScrapeProtocol, String> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|p| p.as_str()).collect();
                format!(
                    "unknown scrape protocol {s}, supported: [{}]",
                    names.join(" ")
                )
            })
    }
}

impl fmt::Display for ScrapeProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Checks a `scrape_protocols` list as Prometheus does: non-empty, known, no duplicates.
pub(crate) fn parse_scrape_protocols(raw: &[String]) -> Result<Vec<ScrapeProtocol>, String> {
    if raw.is_empty() {
        return Err("scrape_protocols cannot be empty".into());
    }
    let mut out: Vec<ScrapeProtocol> = Vec::with_capacity(raw.len());
    for s in raw {
        if raw.iter().filter(|o| o.eq_ignore_ascii_case(s)).count() > 1 {
            return Err(format!(
                "duplicated protocol in scrape_protocols, got [{}]",
                raw.join(" ")
            ));
        }
        out.push(ScrapeProtocol::parse(s).map_err(|e| format!("scrape_protocols: {e}"))?);
    }
    Ok(out)
}

/// Parses `metric_name_validation_scheme`; `None` when unset (empty).
pub(crate) fn parse_validation_scheme(s: &str) -> Result<Option<NameValidationScheme>, String> {
    match s {
        "" => Ok(None),
        "utf8" => Ok(Some(NameValidationScheme::Utf8)),
        "legacy" => Ok(Some(NameValidationScheme::Legacy)),
        _ => Err(format!("unrecognized ValidationScheme: {s:?}")),
    }
}

/// The metric-name escaping schemes Prometheus knows.
pub(crate) const ESCAPING_SCHEMES: [&str; 4] = ["allow-utf-8", "underscores", "dots", "values"];

/// The `global:` section after defaults are applied.
#[derive(Debug, Clone, PartialEq)]
pub struct GlobalConfig {
    /// Default scrape interval (1m).
    pub scrape_interval: PromDuration,
    /// Default scrape timeout (10s, capped at the interval).
    pub scrape_timeout: PromDuration,
    /// Default protocols; `None` lets each job choose from its native-histogram setting.
    pub scrape_protocols: Option<Vec<ScrapeProtocol>>,
    /// Rule evaluation interval (1m).
    pub evaluation_interval: PromDuration,
    /// Offset applied to rule queries (0s).
    pub rule_query_offset: PromDuration,
    /// PromQL query log file (resolved against the config directory; empty = none).
    pub query_log_file: String,
    /// Scrape failure log file (resolved; empty = none).
    pub scrape_failure_log_file: String,
    /// Labels added to every series and alert leaving this server.
    pub external_labels: Labels,
    /// Largest accepted scrape body in bytes (0 = no limit).
    pub body_size_limit: u64,
    /// Per-scrape sample limit (0 = none).
    pub sample_limit: u64,
    /// Per-job target limit (0 = none).
    pub target_limit: u64,
    /// Per-sample label count limit (0 = none).
    pub label_limit: u64,
    /// Label name length limit (0 = none).
    pub label_name_length_limit: u64,
    /// Label value length limit (0 = none).
    pub label_value_length_limit: u64,
    /// How many dropped targets to keep for display (0 = all).
    pub keep_dropped_targets: u64,
    /// Which metric and label names are valid (utf8 by default).
    pub metric_name_validation_scheme: NameValidationScheme,
    /// How names are escaped for scrapers that cannot take UTF-8 (`allow-utf-8` by default).
    pub metric_name_escaping_scheme: String,
    /// Ask for native histograms (false).
    pub scrape_native_histograms: bool,
    /// Convert classic histograms to native ones with custom buckets (false).
    pub convert_classic_histograms_to_nhcb: bool,
    /// Keep classic histograms alongside native ones (false).
    pub always_scrape_classic_histograms: bool,
    /// Extra `scrape_*` series (false).
    pub extra_scrape_metrics: bool,
}

impl Default for GlobalConfig {
    /// Prometheus's `DefaultGlobalConfig`.
    fn default() -> Self {
        GlobalConfig {
            scrape_interval: PromDuration::from_millis(60_000),
            scrape_timeout: PromDuration::from_millis(10_000),
            scrape_protocols: None,
            evaluation_interval: PromDuration::from_millis(60_000),
            rule_query_offset: PromDuration::default(),
            query_log_file: String::new(),
            scrape_failure_log_file: String::new(),
            external_labels: Labels::empty(),
            body_size_limit: 0,
            sample_limit: 0,
            target_limit: 0,
            label_limit: 0,
            label_name_length_limit: 0,
            label_value_length_limit: 0,
            keep_dropped_targets: 0,
            metric_name_validation_scheme: NameValidationScheme::Utf8,
            metric_name_escaping_scheme: "allow-utf-8".into(),
            scrape_native_histograms: false,
            convert_classic_histograms_to_nhcb: false,
            always_scrape_classic_histograms: false,
            extra_scrape_metrics: false,
        }
    }
}

/// `global:` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RawGlobal {
    scrape_interval: Option<PromDuration>,
    scrape_timeout: Option<PromDuration>,
    scrape_protocols: Option<Vec<String>>,
    evaluation_interval: Option<PromDuration>,
    rule_query_offset: Option<PromDuration>,
    #[serde(deserialize_with = "scalar_string")]
    query_log_file: String,
    #[serde(deserialize_with = "scalar_string")]
    scrape_failure_log_file: String,
    #[serde(deserialize_with = "string_map")]
    external_labels: BTreeMap<String, String>,
    #[serde(deserialize_with = "byte_size")]
    body_size_limit: Option<i64>,
    sample_limit: Option<u64>,
    target_limit: Option<u64>,
    label_limit: Option<u64>,
    label_name_length_limit: Option<u64>,
    label_value_length_limit: Option<u64>,
    keep_dropped_targets: Option<u64>,
    #[serde(deserialize_with = "scalar_string")]
    metric_name_validation_scheme: String,
    #[serde(deserialize_with = "scalar_string")]
    metric_name_escaping_scheme: String,
    scrape_native_histograms: Option<bool>,
    convert_classic_histograms_to_nhcb: Option<bool>,
    always_scrape_classic_histograms: Option<bool>,
    extra_scrape_metrics: Option<bool>,
}

impl RawGlobal {
    /// Keys whose effect Fleetwatch does not implement, and whether each is set.
    pub(crate) fn unimplemented(&self) -> [(&'static str, bool); 4] {
        [
            ("query_log_file", !self.query_log_file.is_empty()),
            (
                "scrape_failure_log_file",
                !self.scrape_failure_log_file.is_empty(),
            ),
            (
                "scrape_native_histograms",
                self.scrape_native_histograms == Some(true),
            ),
            (
                "convert_classic_histograms_to_nhcb",
                self.convert_classic_histograms_to_nhcb == Some(true),
            ),
        ]
    }

    /// Applies defaults and Prometheus's checks; errors name the offending key.
    pub(crate) fn resolve(self, dir: &Path) -> Result<GlobalConfig, (String, String)> {
        let d = GlobalConfig::default();
        let e = |k: &str, m: String| Err((k.to_string(), m));
        // An invalid scheme falls back to the default in Prometheus's global section,
        // after the scheme itself failed to parse, which is an error there too.
        let scheme = match parse_validation_scheme(&self.metric_name_validation_scheme) {
            Ok(s) => s.unwrap_or(NameValidationScheme::Utf8),
            Err(m) => return e("metric_name_validation_scheme", m),
        };
        for (name, value) in &self.external_labels {
            if !scheme.is_valid_label_name(name) {
                return e(
                    "external_labels",
                    format!("{name:?} is not a valid label name"),
                );
            }
            // Values are Rust strings, hence valid UTF-8, which is Prometheus's only rule.
            let _ = value;
        }
        let interval = self
            .scrape_interval
            .filter(|d| d.as_millis() != 0)
            .unwrap_or(d.scrape_interval);
        let timeout = self.scrape_timeout.unwrap_or_default();
        if timeout > interval {
            return e(
                "scrape_timeout",
                "global scrape timeout greater than scrape interval".into(),
            );
        }
        let timeout = if timeout.as_millis() == 0 {
            d.scrape_timeout.min(interval)
        } else {
            timeout
        };
        let scrape_protocols = match &self.scrape_protocols {
            None => None,
            Some(p) => Some(parse_scrape_protocols(p).map_err(|m| {
                (
                    "scrape_protocols".to_string(),
                    format!("{m} for global config"),
                )
            })?),
        };
        let escaping = self.metric_name_escaping_scheme;
        if !escaping.is_empty() && !ESCAPING_SCHEMES.contains(&escaping.as_str()) {
            return e(
                "metric_name_escaping_scheme",
                format!(
                    "unknown global name escaping method specified, must be one of 'allow-utf-8', 'underscores', 'dots', or 'values', got {escaping:?}"
                ),
            );
        }
        let escaping = if !escaping.is_empty() {
            escaping
        } else if scheme == NameValidationScheme::Legacy {
            "underscores".to_string()
        } else {
            "allow-utf-8".to_string()
        };
        let body = self.body_size_limit.unwrap_or(0);
        let mut query_log_file = self.query_log_file;
        join_dir(dir, &mut query_log_file);
        let mut scrape_failure_log_file = self.scrape_failure_log_file;
        join_dir(dir, &mut scrape_failure_log_file);
        Ok(GlobalConfig {
            scrape_interval: interval,
            scrape_timeout: timeout,
            scrape_protocols,
            evaluation_interval: self
                .evaluation_interval
                .filter(|d| d.as_millis() != 0)
                .unwrap_or(d.evaluation_interval),
            rule_query_offset: self.rule_query_offset.unwrap_or_default(),
            query_log_file,
            scrape_failure_log_file,
            external_labels: Labels::from_pairs(self.external_labels),
            // A negative size means no limit, as in Prometheus's scrape loop.
            body_size_limit: u64::try_from(body).unwrap_or(0),
            sample_limit: self.sample_limit.unwrap_or(0),
            target_limit: self.target_limit.unwrap_or(0),
            label_limit: self.label_limit.unwrap_or(0),
            label_name_length_limit: self.label_name_length_limit.unwrap_or(0),
            label_value_length_limit: self.label_value_length_limit.unwrap_or(0),
            keep_dropped_targets: self.keep_dropped_targets.unwrap_or(0),
            metric_name_validation_scheme: scheme,
            metric_name_escaping_scheme: escaping,
            scrape_native_histograms: self.scrape_native_histograms.unwrap_or(false),
            convert_classic_histograms_to_nhcb: self
                .convert_classic_histograms_to_nhcb
                .unwrap_or(false),
            always_scrape_classic_histograms: self
                .always_scrape_classic_histograms
                .unwrap_or(false),
            extra_scrape_metrics: self.extra_scrape_metrics.unwrap_or(false),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocols_are_checked() {
        assert_eq!(
            parse_scrape_protocols(&["PrometheusText0.0.4".into()]).expect("valid"),
            vec![ScrapeProtocol::PrometheusText0_0_4]
        );
        assert!(parse_scrape_protocols(&[]).is_err());
        let dup = parse_scrape_protocols(&["PrometheusProto".into(), "prometheusproto".into()])
            .expect_err("dup");
        assert!(dup.starts_with("duplicated protocol"), "{dup}");
        let bad = parse_scrape_protocols(&["Text".into()]).expect_err("unknown");
        assert!(bad.contains("unknown scrape protocol Text"), "{bad}");
    }

    #[test]
    fn timeout_defaults_to_min_of_10s_and_interval() {
        let raw = RawGlobal {
            scrape_interval: Some("5s".parse().expect("duration")),
            ..RawGlobal::default()
        };
        let g = raw.resolve(Path::new("/")).expect("valid");
        assert_eq!(g.scrape_timeout.as_millis(), 5_000);
        let raw = RawGlobal {
            scrape_interval: Some("5s".parse().expect("duration")),
            scrape_timeout: Some("6s".parse().expect("duration")),
            ..RawGlobal::default()
        };
        assert!(raw.resolve(Path::new("/")).is_err());
    }
}
