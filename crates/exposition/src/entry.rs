//! What the parser yields: metadata, samples with borrowed labels, exemplars, comments.

use std::borrow::Cow;

use model::{Labels, LabelsBuilder, METRIC_NAME_LABEL, MetricType, Timestamp};

use crate::float::{format_openmetrics_float, parse_go_float};

/// A label name and value; borrowed from the page unless escapes had to be resolved.
pub type LabelPair<'a> = (Cow<'a, str>, Cow<'a, str>);

/// One entry of an exposition page.
#[derive(Debug, Clone, PartialEq)]
pub enum Entry<'a> {
    /// `# HELP name text`, text unescaped.
    Help {
        /// The metric family name.
        name: Cow<'a, str>,
        /// The help text.
        help: Cow<'a, str>,
    },
    /// `# TYPE name type` (`untyped` is reported as `Unknown`).
    Type {
        /// The metric family name.
        name: Cow<'a, str>,
        /// The declared type.
        metric_type: MetricType,
    },
    /// `# UNIT name unit` (OpenMetrics only).
    Unit {
        /// The metric family name.
        name: Cow<'a, str>,
        /// The unit, possibly empty.
        unit: Cow<'a, str>,
    },
    /// One sample line.
    Sample(SampleRef<'a>),
    /// A comment line (Prometheus text format only), without the leading `#` and blanks.
    Comment(Cow<'a, str>),
    /// `# EOF`, the end of an OpenMetrics page; nothing follows it.
    Eof,
}

/// A sample line; its slices are valid until the parser's next `next()` call.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleRef<'a> {
    /// The metric name (the series name, e.g. `http_requests_total` or `rpc_bucket`).
    pub name: Cow<'a, str>,
    /// The labels in page order, without the metric name.
    pub labels: &'a [LabelPair<'a>],
    /// The value; a NaN on the page comes back as Prometheus's normal NaN, never the stale marker.
    pub value: f64,
    /// The timestamp in milliseconds, if the line has one (OpenMetrics seconds are converted).
    pub timestamp: Option<Timestamp>,
    /// The exemplar attached to the line, if any.
    pub exemplar: Option<ExemplarRef<'a>>,
    /// The type of the most recent `# TYPE` line, as Prometheus uses it for this sample.
    pub metric_type: MetricType,
}

/// An OpenMetrics exemplar: `# {labels} value [timestamp]`.
#[derive(Debug, Clone, PartialEq)]
pub struct ExemplarRef<'a> {
    /// The exemplar's labels in page order.
    pub labels: &'a [LabelPair<'a>],
    /// The exemplar's value.
    pub value: f64,
    /// The exemplar's timestamp in milliseconds, if given.
    pub timestamp: Option<Timestamp>,
}

impl SampleRef<'_> {
    /// The value of label `name`, if the line has it.
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_ref())
    }

    /// Adds `__name__` and every label to `b`, as Prometheus builds a scraped series:
    /// empty values are absent, and `le` (histograms) and `quantile` (summaries) values
    /// are normalised (`le="1"` becomes `1.0`) so that series keep one identity.
    pub fn fill_builder(&self, b: &mut LabelsBuilder) {
        b.set(METRIC_NAME_LABEL, self.name.as_ref());
        for (n, v) in self.labels {
            match normalized_label_value(self.metric_type, n, v) {
                Some(norm) => b.set(n.as_ref(), norm),
                None => b.set(n.as_ref(), v.as_ref()),
            };
        }
    }

    /// True when a label value would be stored differently from the page (a histogram's
    /// `le` or a summary's `quantile` that Prometheus rewrites, e.g. `1` to `1.0`).
    pub fn needs_normalization(&self) -> bool {
        self.labels
            .iter()
            .any(|(n, v)| normalized_label_value(self.metric_type, n, v).is_some())
    }

    /// The series' label set (see [`SampleRef::fill_builder`]).
    pub fn to_labels(&self) -> Labels {
        let mut b = LabelsBuilder::new(Labels::empty());
        self.fill_builder(&mut b);
        b.build()
    }
}

impl ExemplarRef<'_> {
    /// The exemplar's label set.
    pub fn to_labels(&self) -> Labels {
        Labels::from_pairs(self.labels.iter().map(|(n, v)| (n.as_ref(), v.as_ref())))
    }
}

/// The value Prometheus stores for `le`/`quantile` labels, when it differs from the page.
fn normalized_label_value(t: MetricType, name: &str, value: &str) -> Option<String> {
    let applies = (t == MetricType::Histogram && name == model::BUCKET_LABEL)
        || (t == MetricType::Summary && name == model::QUANTILE_LABEL);
    if !applies {
        return None;
    }
    let f = parse_go_float(value)?;
    let norm = format_openmetrics_float(f);
    (norm != value).then_some(norm)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_normalises_bucket_bounds_only_for_histograms() {
        let labels = [
            (Cow::Borrowed("le"), Cow::Borrowed("1")),
            (Cow::Borrowed("x"), Cow::Borrowed("")),
        ];
        let mut s = SampleRef {
            name: Cow::Borrowed("h_bucket"),
            labels: &labels,
            value: 1.0,
            timestamp: None,
            exemplar: None,
            metric_type: MetricType::Histogram,
        };
        let l = s.to_labels();
        assert_eq!(l.get("le"), Some("1.0"));
        assert_eq!(l.get("__name__"), Some("h_bucket"));
        assert!(!l.has("x"));
        s.metric_type = MetricType::Gauge;
        assert_eq!(s.to_labels().get("le"), Some("1"));
        assert_eq!(s.label("le"), Some("1"));
    }
}
