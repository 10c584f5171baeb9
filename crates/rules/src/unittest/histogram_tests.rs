//! Native histograms through a whole rule test: input series in the `{{...}}`
//! notation, a recording rule that records them, an alert on them, and
//! promtool's messages for histogram mismatches and bad expected histograms.

use super::{UnitTestOptions, test_file};

const RULES: &str = r#"
groups:
  - name: g
    rules:
      - record: recorded
        expr: h
      - alert: HistogramPresent
        expr: h
        annotations:
          value: "{{ $value }}"
"#;

const TESTS: &str = r#"
rule_files: [rules.yml]
tests:
  - interval: 1m
    input_series:
      - series: h
        values: "{{sum:3 count:2 buckets:[2]}}+{{sum:1 count:1 buckets:[1]}}x2"
    alert_rule_test:
      - eval_time: 2m
        alertname: HistogramPresent
        exp_alerts:
          - exp_annotations: {value: "0"}
    promql_expr_test:
      - expr: recorded
        eval_time: 2m
        exp_samples:
          - labels: recorded
            histogram: "{{count:4 sum:5 counter_reset_hint:not_reset buckets:[4]}}"
      - expr: h
        eval_time: 1m
        exp_samples:
          - labels: h
            histogram: "{{count:9}}"
      - expr: h
        eval_time: 1m
        exp_samples:
          - labels: h
            histogram: "1"
      - expr: h
        eval_time: 1m
        exp_samples:
          - labels: h
            histogram: "{{count:1 nope:2}}"
"#;

#[test]
fn histograms_are_recorded_alerted_on_and_compared_as_promtool_does() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("rules.yml"), RULES).expect("write rules");
    let path = dir.path().join("tests.yml");
    std::fs::write(&path, TESTS).expect("write tests");
    let report = test_file(&path.to_string_lossy(), &UnitTestOptions::default());
    assert_eq!(report.errors.len(), 3, "{:#?}", report.errors);
    assert_eq!(
        report.errors[0],
        "    expr: \"h\", time: 1m,\n        exp: {__name__=\"h\"} {{count:9}}\n        got: {__name__=\"h\"} {{count:3 sum:4 counter_reset_hint:not_reset buckets:[3]}}"
    );
    assert_eq!(
        report.errors[1],
        "    expr: \"h\", time: 1m, err: labels \"h\": expected histogram, got 1.000000"
    );
    assert!(
        report.errors[2].starts_with("    expr: \"h\", time: 1m, err: labels \"h\": bad histogram literal at character 11: bad histogram descriptor found: \"nope\""),
        "{}",
        report.errors[2]
    );
}
