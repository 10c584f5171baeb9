//! The Prometheus text format 0.0.4 writer, as `/federate` and a `/metrics` page need it.

use model::{
    Labels, METRIC_NAME_LABEL, MetricType, Timestamp, is_valid_label_name, is_valid_metric_name,
};

use crate::float::write_go_float;

/// Writes `# HELP` (when `help` is given) and `# TYPE` lines for family `name`.
///
/// Types the 0.0.4 format lacks (gauge histogram, info, state set) are written as
/// `untyped`, so the page stays readable by every text-format parser.
pub fn write_family_header(
    out: &mut String,
    name: &str,
    help: Option<&str>,
    metric_type: MetricType,
) {
    if let Some(help) = help {
        out.push_str("# HELP ");
        write_metric_name(out, name);
        out.push(' ');
        for c in help.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                c => out.push(c),
            }
        }
        out.push('\n');
    }
    out.push_str("# TYPE ");
    write_metric_name(out, name);
    out.push(' ');
    out.push_str(match metric_type {
        MetricType::Counter => "counter",
        MetricType::Gauge => "gauge",
        MetricType::Histogram => "histogram",
        MetricType::Summary => "summary",
        MetricType::Unknown
        | MetricType::GaugeHistogram
        | MetricType::Info
        | MetricType::StateSet => "untyped",
    });
    out.push('\n');
}

/// Writes one sample line for the series `labels` (whose `__name__` is the metric name).
pub fn write_sample(out: &mut String, labels: &Labels, value: f64, timestamp: Option<Timestamp>) {
    let name = labels.metric_name().unwrap_or("");
    let rest = labels
        .iter()
        .filter(|l| l.name != METRIC_NAME_LABEL)
        .map(|l| (l.name.as_str(), l.value.as_str()));
    write_series(out, name, rest, value, timestamp);
}

/// Writes one sample line from a metric name and label pairs (written in the order given).
///
/// Names outside the legacy character set are quoted, as Prometheus 3 writes them:
/// `{"my.metric","label.name"="v"} 1`.
pub fn write_series<'l>(
    out: &mut String,
    name: &str,
    labels: impl IntoIterator<Item = (&'l str, &'l str)>,
    value: f64,
    timestamp: Option<Timestamp>,
) {
    let quoted_name = !is_valid_metric_name(name);
    let mut open = false;
    if quoted_name {
        out.push('{');
        write_quoted(out, name);
        open = true;
    } else {
        out.push_str(name);
    }
    for (n, v) in labels {
        out.push(if open { ',' } else { '{' });
        open = true;
        if is_valid_label_name(n) {
            out.push_str(n);
        } else {
            write_quoted(out, n);
        }
        out.push('=');
        write_quoted(out, v);
    }
    if open {
        out.push('}');
    }
    out.push(' ');
    write_go_float(out, value);
    if let Some(ts) = timestamp {
        out.push(' ');
        out.push_str(&ts.to_string());
    }
    out.push('\n');
}

fn write_metric_name(out: &mut String, name: &str) {
    if is_valid_metric_name(name) {
        out.push_str(name);
    } else {
        write_quoted(out, name);
    }
}

/// `"..."` with backslash, quote and newline escaped.
fn write_quoted(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_and_samples() {
        let mut out = String::new();
        write_family_header(&mut out, "up", Some("a\\b\nc"), MetricType::Gauge);
        let l = Labels::from_pairs([("__name__", "up"), ("job", "a\"b\\c\nd")]);
        write_sample(&mut out, &l, 1e6, Some(1234));
        write_sample(
            &mut out,
            &Labels::from_pairs([("__name__", "x")]),
            0.001,
            None,
        );
        assert_eq!(
            out,
            "# HELP up a\\\\b\\nc\n# TYPE up gauge\nup{job=\"a\\\"b\\\\c\\nd\"} 1e+06 1234\nx 0.001\n"
        );
    }

    #[test]
    fn utf8_names_are_quoted() {
        let mut out = String::new();
        write_family_header(&mut out, "my.metric", None, MetricType::Unknown);
        write_series(
            &mut out,
            "my.metric",
            [("label.name", "v")],
            f64::NEG_INFINITY,
            None,
        );
        assert_eq!(
            out,
            "# TYPE \"my.metric\" untyped\n{\"my.metric\",\"label.name\"=\"v\"} -Inf\n"
        );
    }
}
