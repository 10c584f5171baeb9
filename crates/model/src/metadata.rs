//! Metric metadata: type, help and unit per metric family.

use std::fmt;
use std::str::FromStr;

/// The type of a metric family, as exposition formats and remote write name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MetricType {
    /// No type was given.
    #[default]
    Unknown,
    /// A monotonically increasing counter.
    Counter,
    /// A value that can go up and down.
    Gauge,
    /// A classic histogram (buckets, sum, count).
    Histogram,
    /// A gauge histogram (OpenMetrics).
    GaugeHistogram,
    /// A summary (quantiles, sum, count).
    Summary,
    /// An info metric (OpenMetrics).
    Info,
    /// A state set (OpenMetrics).
    StateSet,
}

impl MetricType {
    /// The lowercase name Prometheus uses in `/api/v1/metadata`.
    pub fn as_str(&self) -> &'static str {
        match self {
            MetricType::Unknown => "unknown",
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Histogram => "histogram",
            MetricType::GaugeHistogram => "gaugehistogram",
            MetricType::Summary => "summary",
            MetricType::Info => "info",
            MetricType::StateSet => "stateset",
        }
    }
}

impl fmt::Display for MetricType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for MetricType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "unknown" | "untyped" => MetricType::Unknown,
            "counter" => MetricType::Counter,
            "gauge" => MetricType::Gauge,
            "histogram" => MetricType::Histogram,
            "gaugehistogram" => MetricType::GaugeHistogram,
            "summary" => MetricType::Summary,
            "info" => MetricType::Info,
            "stateset" => MetricType::StateSet,
            other => return Err(format!("unknown metric type {other:?}")),
        })
    }
}

/// Type, help and unit of one metric family.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct MetricMetadata {
    /// The family's type.
    pub metric_type: MetricType,
    /// The HELP text, unescaped.
    pub help: String,
    /// The UNIT (OpenMetrics), empty when none.
    pub unit: String,
}
