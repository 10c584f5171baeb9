//! Expected against got, and the failure messages in promtool's wording: alerts as label and
//! annotation sets, samples as labels and values, Go's formatting of labels, floats and
//! durations.

use gofmt::{duration_string, format_float, quote};
use model::Labels;

/// Label pairs sorted by name; empty values allowed (expected sets keep them).
pub type Pairs = Vec<(String, String)>;

/// A label set as pairs.
pub fn pairs_of(labels: &Labels) -> Pairs {
    labels
        .iter()
        .map(|l| (l.name.to_string(), l.value.to_string()))
        .collect()
}

/// One alert as a test sees it. Ordered by labels, then annotations (promtool's sort).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct AlertView {
    /// Labels, `alertname` included.
    pub labels: Pairs,
    /// Annotations.
    pub annotations: Pairs,
}

/// One sample of a query result or expectation.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleView {
    /// Labels.
    pub labels: Pairs,
    /// Value (0 for histograms).
    pub value: f64,
    /// Histogram literal; empty for floats.
    pub histogram: String,
}

/// Floats as promtool compares them: exactly (NaN never equals), or with `fuzzy_compare`
/// also when one is the next float up or down from the other.
pub fn floats_equal(x: f64, y: f64, fuzzy: bool) -> bool {
    x == y || (fuzzy && (x.next_down() == y || x.next_up() == y))
}

/// Sorts both sides (by labels) and compares them.
pub fn samples_equal(exp: &mut [SampleView], got: &mut [SampleView], fuzzy: bool) -> bool {
    exp.sort_by(|a, b| a.labels.cmp(&b.labels));
    got.sort_by(|a, b| a.labels.cmp(&b.labels));
    exp.len() == got.len()
        && exp.iter().zip(got.iter()).all(|(e, g)| {
            e.labels == g.labels
                && floats_equal(e.value, g.value, fuzzy)
                && e.histogram == g.histogram
        })
}

/// promtool's alert mismatch message.
pub fn alert_mismatch(
    group_name: &str,
    alertname: &str,
    eval_time_ms: i64,
    exp: &[AlertView],
    got: &[AlertView],
) -> String {
    let indent = " ".repeat(12);
    format!(
        "{}    alertname: {alertname}, time: {}, \n        exp:{}, \n        got:{}",
        test_name_line(group_name),
        prom_duration(eval_time_ms),
        indent_lines(&alerts_string(exp), &indent),
        indent_lines(&alerts_string(got), &indent),
    )
}

/// promtool's expression mismatch message.
pub fn expr_mismatch(
    expr: &str,
    eval_time_ms: i64,
    exp: &[SampleView],
    got: &[SampleView],
) -> String {
    format!(
        "    expr: {}, time: {},\n        exp: {}\n        got: {}",
        quote(expr),
        prom_duration(eval_time_ms),
        samples_string(exp),
        samples_string(got),
    )
}

/// promtool's message for an expression that fails (query error, bad expected labels).
pub fn expr_error(expr: &str, eval_time_ms: i64, err: &str) -> String {
    format!(
        "    expr: {}, time: {}, err: {err}",
        quote(expr),
        prom_duration(eval_time_ms)
    )
}

/// promtool's message for a rule whose evaluation failed at `t` (ms since the epoch).
pub fn rule_error(rule: &str, t: i64, err: &str) -> String {
    // Go's time.Duration.String() of ts.Sub(epoch), which saturates.
    let since_epoch = duration_string(t.saturating_mul(1_000_000));
    format!("    rule: {rule}, time: {since_epoch}, err: {err}")
}

fn test_name_line(group_name: &str) -> String {
    if group_name.is_empty() {
        String::new()
    } else {
        format!("    name: {group_name},\n")
    }
}

/// Prefixes every line but the first with `indent`.
fn indent_lines(s: &str, indent: &str) -> String {
    s.split('\n')
        .collect::<Vec<_>>()
        .join(&format!("\n{indent}"))
}

/// `[]`, or `[\n0:\n  Labels:{...}\n  Annotations:{...},\n1:...\n]`.
fn alerts_string(alerts: &[AlertView]) -> String {
    if alerts.is_empty() {
        return "[]".to_string();
    }
    let items: Vec<String> = alerts
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let body = format!(
                "\nLabels:{}\nAnnotations:{}",
                labels_string(&a.labels),
                labels_string(&a.annotations)
            );
            format!("{i}:{}", indent_lines(&body, "  "))
        })
        .collect();
    format!("[\n{}\n]", items.join(",\n"))
}

/// `nil`, or the samples joined by `, `, each `{labels} 1E+00` (or its histogram).
fn samples_string(samples: &[SampleView]) -> String {
    if samples.is_empty() {
        return "nil".to_string();
    }
    samples
        .iter()
        .map(|s| {
            let value = if s.histogram.is_empty() {
                // Go's strconv.FormatFloat(v, 'E', -1, 64): 1E+00, 2.5E-07.
                format_float(s.value, b'E', -1)
            } else {
                s.histogram.clone()
            };
            format!("{} {value}", labels_string(&s.labels))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Go's `labels.Labels.String()`: `{a="b", c="d"}`, names outside the legacy character set
/// quoted.
pub fn labels_string(pairs: &[(String, String)]) -> String {
    model::go_labels_string(pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())))
}

/// Prometheus's `model.Duration` form: `0s`, `5m`, `1h30m`, `1d`, `2w`.
pub fn prom_duration(ms: i64) -> String {
    if ms < 0 {
        return format!("-{}", prom_duration(ms.saturating_neg()));
    }
    model::PromDuration::from_millis(ms as u64).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(kv: &[(&str, &str)]) -> Pairs {
        kv.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn alert_message_as_promtool_prints_it() {
        let exp = [AlertView {
            labels: p(&[("alertname", "Test")]),
            annotations: vec![],
        }];
        assert_eq!(
            alert_mismatch("Failing test", "Test", 0, &exp, &[]),
            "    name: Failing test,\n    alertname: Test, time: 0s, \n        exp:[\n            0:\n              Labels:{alertname=\"Test\"}\n              Annotations:{}\n            ], \n        got:[]"
        );
        let two = [exp[0].clone(), exp[0].clone()];
        assert!(alert_mismatch("", "T", 300_000, &[], &two).starts_with(
            "    alertname: T, time: 5m, \n        exp:[], \n        got:[\n            0:\n"
        ));
        assert!(alerts_string(&two).contains("}\n  Annotations:{},\n1:\n  Labels:"));
    }

    #[test]
    fn expr_message_as_promtool_prints_it() {
        let s = |v| SampleView {
            labels: p(&[("__name__", "test")]),
            value: v,
            histogram: String::new(),
        };
        assert_eq!(
            expr_mismatch("test", 0, &[s(1.0)], &[s(0.0)]),
            "    expr: \"test\", time: 0s,\n        exp: {__name__=\"test\"} 1E+00\n        got: {__name__=\"test\"} 0E+00"
        );
        assert!(
            expr_mismatch("x", 60_000, &[], &[s(50.0), s(0.5)]).ends_with(
                "exp: nil\n        got: {__name__=\"test\"} 5E+01, {__name__=\"test\"} 5E-01"
            )
        );
    }

    #[test]
    fn go_formats() {
        assert_eq!(prom_duration(86_400_000), "1d");
        assert_eq!(prom_duration(90_000), "1m30s");
        assert_eq!(
            labels_string(&p(&[("a", "x\"y"), ("b.c", "é\n")])),
            "{a=\"x\\\"y\", \"b.c\"=\"é\\n\"}"
        );
        assert_eq!(
            rule_error("r", 86_400_000 + 61_050, "e"),
            "    rule: r, time: 24h1m1.05s, err: e"
        );
    }

    #[test]
    fn fuzzy_floats() {
        assert!(!floats_equal(2.9999999999999996, 3.0, false));
        assert!(floats_equal(2.9999999999999996, 3.0, true));
        assert!(floats_equal(3.0000000000000004, 3.0, true));
        assert!(!floats_equal(2.9999999999999987, 3.0, true));
        assert!(!floats_equal(f64::NAN, f64::NAN, true));
    }
}
