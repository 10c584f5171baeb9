//! The unit-test file format of `promtool test rules`: `rule_files`, `evaluation_interval`,
//! `group_eval_order`, `fuzzy_compare` and `tests` (test groups of input series, alert and
//! expression tests), read strictly (unknown or repeated keys are errors), every problem
//! named by file and line.

use std::collections::BTreeMap;

use config::yaml_error::clean_path;
use gofmt::parse_float;
use model::{Labels, PromDuration, Timestamp};
use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::file::{RawMap, Scalar};

/// Largest test file read.
pub const MAX_TEST_FILE_BYTES: usize = 64 * 1024 * 1024;

/// Default `evaluation_interval`.
pub const DEFAULT_EVALUATION_INTERVAL_MS: i64 = 60_000;

/// A test file, read and checked.
#[derive(Debug, Clone, PartialEq)]
pub struct TestFile {
    /// `rule_files` as written (relative to the test file; globs allowed).
    pub rule_files: Vec<String>,
    /// `evaluation_interval`, ms (1m when absent or 0).
    pub evaluation_interval_ms: i64,
    /// `group_eval_order`.
    pub group_eval_order: Vec<String>,
    /// `fuzzy_compare`: floats equal within one ulp.
    pub fuzzy_compare: bool,
    /// `tests`.
    pub tests: Vec<TestGroup>,
}

/// One entry of `tests`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TestGroup {
    /// Line in the file.
    pub line: u64,
    /// `name` (may be empty).
    pub name: String,
    /// `interval`, ms; 0 takes the file's `evaluation_interval`.
    pub interval_ms: i64,
    /// `input_series`.
    pub input_series: Vec<InputSeries>,
    /// `alert_rule_test`.
    pub alert_rule_tests: Vec<AlertTestCase>,
    /// `promql_expr_test`.
    pub promql_expr_tests: Vec<PromqlTestCase>,
    /// `external_labels`.
    pub external_labels: Labels,
    /// `external_url`.
    pub external_url: String,
    /// `start_timestamp`, ms since the epoch; `None` is the epoch.
    pub start_timestamp_ms: Option<Timestamp>,
}

/// One `input_series` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct InputSeries {
    /// Line in the file.
    pub line: u64,
    /// `series`: `name{l="v"}`.
    pub series: String,
    /// `values`, in the expanding notation.
    pub values: String,
}

/// One `alert_rule_test` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertTestCase {
    /// Line in the file.
    pub line: u64,
    /// `eval_time`, ms after the start.
    pub eval_time_ms: i64,
    /// `alertname`.
    pub alertname: String,
    /// `exp_alerts`.
    pub exp_alerts: Vec<ExpAlert>,
}

/// One expected alert: label and annotation pairs as written (empty values kept).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ExpAlert {
    /// `exp_labels`, sorted by name.
    pub labels: Vec<(String, String)>,
    /// `exp_annotations`, sorted by name.
    pub annotations: Vec<(String, String)>,
}

/// One `promql_expr_test` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct PromqlTestCase {
    /// Line in the file.
    pub line: u64,
    /// `expr`.
    pub expr: String,
    /// `eval_time`, ms after the start.
    pub eval_time_ms: i64,
    /// `exp_samples`.
    pub exp_samples: Vec<ExpSample>,
}

/// One expected sample.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpSample {
    /// Line in the file.
    pub line: u64,
    /// `labels`, in series notation (may be empty).
    pub labels: String,
    /// `value`.
    pub value: f64,
    /// `histogram`: a native histogram literal; when set, `value` is ignored.
    pub histogram: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawFile {
    rule_files: Option<Vec<Scalar>>,
    evaluation_interval: Option<Spanned<Scalar>>,
    group_eval_order: Option<Vec<Scalar>>,
    tests: Option<Vec<Spanned<Option<RawGroup>>>>,
    fuzzy_compare: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawGroup {
    interval: Option<Spanned<Scalar>>,
    input_series: Option<Vec<Spanned<Option<RawSeries>>>>,
    alert_rule_test: Option<Vec<Spanned<Option<RawAlertTest>>>>,
    promql_expr_test: Option<Vec<Spanned<Option<RawExprTest>>>>,
    external_labels: Option<RawMap>,
    external_url: Option<Scalar>,
    name: Option<Scalar>,
    start_timestamp: Option<Spanned<Scalar>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawSeries {
    series: Option<Scalar>,
    values: Option<Scalar>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawAlertTest {
    eval_time: Option<Spanned<Scalar>>,
    alertname: Option<Scalar>,
    exp_alerts: Option<Vec<Option<RawAlert>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawAlert {
    exp_labels: Option<RawMap>,
    exp_annotations: Option<RawMap>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawExprTest {
    expr: Option<Scalar>,
    eval_time: Option<Spanned<Scalar>>,
    exp_samples: Option<Vec<Spanned<Option<RawSample>>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawSample {
    labels: Option<Scalar>,
    value: Option<f64>,
    histogram: Option<Scalar>,
}

/// Reads and checks a test file's text; `file` names it in errors (`FILE:LINE: ...`).
pub fn parse_test_file(text: &str, file: &str) -> Result<TestFile, Vec<String>> {
    let raw = parse_yaml(text, file).map_err(|e| vec![e])?;
    let mut errs = Vec::new();
    let duration = |s: &Spanned<Scalar>, what: &str, errs: &mut Vec<String>| -> i64 {
        match s.value.0.parse::<PromDuration>() {
            Ok(d) => d.as_millis(),
            Err(e) => {
                errs.push(format!("{file}:{}: {what}: {e}", s.referenced.line()));
                0
            }
        }
    };
    let mut evaluation_interval_ms = raw
        .evaluation_interval
        .as_ref()
        .map(|s| duration(s, "evaluation_interval", &mut errs))
        .unwrap_or(0);
    if evaluation_interval_ms == 0 {
        evaluation_interval_ms = DEFAULT_EVALUATION_INTERVAL_MS;
    }
    let mut tests = Vec::new();
    for g in raw.tests.unwrap_or_default() {
        let line = g.referenced.line();
        let g = g.value.unwrap_or_default();
        let mut tg = TestGroup {
            line,
            name: g.name.map(|s| s.0).unwrap_or_default(),
            interval_ms: g
                .interval
                .as_ref()
                .map(|s| duration(s, "interval", &mut errs))
                .unwrap_or(0),
            external_labels: Labels::from_pairs(
                g.external_labels
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(k, v)| (k.0, v.value.0)),
            ),
            external_url: g.external_url.map(|s| s.0).unwrap_or_default(),
            ..TestGroup::default()
        };
        if let Some(st) = &g.start_timestamp {
            match parse_start_time(&st.value.0) {
                Ok(t) => tg.start_timestamp_ms = Some(t),
                Err(e) => errs.push(format!(
                    "{file}:{}: start_timestamp: {e}",
                    st.referenced.line()
                )),
            }
        }
        for s in g.input_series.unwrap_or_default() {
            let line = s.referenced.line();
            let s = s.value.unwrap_or_default();
            tg.input_series.push(InputSeries {
                line,
                series: s.series.map(|x| x.0).unwrap_or_default(),
                values: s.values.map(|x| x.0).unwrap_or_default(),
            });
        }
        for a in g.alert_rule_test.unwrap_or_default() {
            let line = a.referenced.line();
            let a = a.value.unwrap_or_default();
            tg.alert_rule_tests.push(AlertTestCase {
                line,
                eval_time_ms: a
                    .eval_time
                    .as_ref()
                    .map(|s| duration(s, "eval_time", &mut errs))
                    .unwrap_or(0),
                alertname: a.alertname.map(|s| s.0).unwrap_or_default(),
                exp_alerts: a
                    .exp_alerts
                    .unwrap_or_default()
                    .into_iter()
                    .map(|x| {
                        let x = x.unwrap_or_default();
                        ExpAlert {
                            labels: pairs(x.exp_labels),
                            annotations: pairs(x.exp_annotations),
                        }
                    })
                    .collect(),
            });
        }
        for e in g.promql_expr_test.unwrap_or_default() {
            let line = e.referenced.line();
            let e = e.value.unwrap_or_default();
            tg.promql_expr_tests.push(PromqlTestCase {
                line,
                expr: e.expr.map(|s| s.0).unwrap_or_default(),
                eval_time_ms: e
                    .eval_time
                    .as_ref()
                    .map(|s| duration(s, "eval_time", &mut errs))
                    .unwrap_or(0),
                exp_samples: e
                    .exp_samples
                    .unwrap_or_default()
                    .into_iter()
                    .map(|s| {
                        let line = s.referenced.line();
                        let s = s.value.unwrap_or_default();
                        ExpSample {
                            line,
                            labels: s.labels.map(|x| x.0).unwrap_or_default(),
                            value: s.value.unwrap_or(0.0),
                            histogram: s.histogram.map(|x| x.0).unwrap_or_default(),
                        }
                    })
                    .collect(),
            });
        }
        tests.push(tg);
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    Ok(TestFile {
        rule_files: raw
            .rule_files
            .unwrap_or_default()
            .into_iter()
            .map(|s| s.0)
            .collect(),
        evaluation_interval_ms,
        group_eval_order: raw
            .group_eval_order
            .unwrap_or_default()
            .into_iter()
            .map(|s| s.0)
            .collect(),
        fuzzy_compare: raw.fuzzy_compare.unwrap_or(false),
        tests,
    })
}

/// A YAML string map as sorted pairs, empty values kept (Go's `labels.FromMap`).
fn pairs(m: Option<RawMap>) -> Vec<(String, String)> {
    m.unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k.0, v.value.0))
        .collect::<BTreeMap<_, _>>()
        .into_iter()
        .collect()
}

/// Parses the YAML strictly; an error names file, line and field.
fn parse_yaml(text: &str, file: &str) -> Result<RawFile, String> {
    if text.len() > MAX_TEST_FILE_BYTES {
        return Err(format!(
            "{file}: test file is larger than {MAX_TEST_FILE_BYTES} bytes"
        ));
    }
    if text
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    {
        return Ok(RawFile::default());
    }
    let options = config::yaml_error::strict_options(10_000_000, MAX_TEST_FILE_BYTES);
    let mut field = String::new();
    let result = serde_saphyr::with_deserializer_from_str_with_options(text, options, |de| {
        serde_path_to_error::deserialize::<_, RawFile>(de).map_err(|e| {
            field = clean_path(&e.path().to_string());
            e.into_inner()
        })
    });
    result.map_err(|e| {
        let line = e.location().map(|l| l.line()).unwrap_or(0);
        let full = crate::error::single_line(&e.without_snippet().to_string());
        let mut msg = match full.find(" at line ") {
            Some(i) => full[..i].to_string(),
            None => full,
        };
        for cut in [", expected one of", ", set DuplicateKeyPolicy"] {
            if let Some(i) = msg.find(cut) {
                msg.truncate(i);
            }
        }
        if msg.starts_with("unknown field") {
            // The path ends with the unknown key: name where it was found instead.
            field = field
                .rfind('.')
                .map(|i| field[..i].to_string())
                .unwrap_or_default();
        }
        let place = if line > 0 {
            format!("{file}:{line}")
        } else {
            file.to_string()
        };
        if field.is_empty() {
            format!("{place}: {msg}")
        } else {
            format!("{place}: {field}: {msg}")
        }
    })
}

/// `start_timestamp`: Unix seconds (a float) or an RFC 3339 time, as promtool reads it; ms.
pub fn parse_start_time(s: &str) -> Result<Timestamp, String> {
    let bad = || format!("cannot parse {s:?} to a valid timestamp");
    if let Ok(secs) = parse_float(s) {
        if !secs.is_finite() {
            return Err(bad());
        }
        let whole = secs.trunc();
        let frac_ns = ((secs - whole) * 1e9) as i64;
        return Ok((whole as i64)
            .saturating_mul(1000)
            .saturating_add(frac_ns.div_euclid(1_000_000)));
    }
    gofmt::parse_rfc3339(s)
        .map(|t| t.as_unix_milli())
        .ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_field() {
        let text = r#"
rule_files: [a.yml, "b/*.yml"]
evaluation_interval: 30s
group_eval_order: [g1, g2]
fuzzy_compare: true
tests:
  - interval: 1m
    name: first
    external_labels: {cluster: c1}
    external_url: http://x
    start_timestamp: 1609459200
    input_series:
      - series: 'up{job="a"}'
        values: 0+1x3
      - series: x
        values: 1
    alert_rule_test:
      - eval_time: 5m
        alertname: A
        exp_alerts:
          - exp_labels: {severity: page, empty: ""}
            exp_annotations: {summary: s}
          - {}
    promql_expr_test:
      - expr: up
        eval_time: 1m
        exp_samples:
          - labels: 'up{job="a"}'
            value: 1
          - value: .5
  - {}
"#;
        let f = parse_test_file(text, "t.yml").expect("parses");
        assert_eq!(f.rule_files, ["a.yml", "b/*.yml"]);
        assert_eq!(f.evaluation_interval_ms, 30_000);
        assert!(f.fuzzy_compare);
        assert_eq!(f.tests.len(), 2);
        let g = &f.tests[0];
        assert_eq!(g.name, "first");
        assert_eq!(g.interval_ms, 60_000);
        assert_eq!(g.start_timestamp_ms, Some(1_609_459_200_000));
        assert_eq!(g.external_labels.get("cluster"), Some("c1"));
        assert_eq!(g.input_series[1].values, "1");
        assert_eq!(g.input_series[0].line, 13);
        let a = &g.alert_rule_tests[0];
        assert_eq!(a.eval_time_ms, 300_000);
        assert_eq!(
            a.exp_alerts[0].labels,
            [
                ("empty".to_string(), String::new()),
                ("severity".to_string(), "page".to_string())
            ]
        );
        assert_eq!(a.exp_alerts[1], ExpAlert::default());
        let e = &g.promql_expr_tests[0];
        assert_eq!(e.exp_samples[1].value, 0.5);
        assert_eq!(e.exp_samples[1].labels, "");
        assert_eq!(
            f.tests[1],
            TestGroup {
                line: 31,
                ..TestGroup::default()
            }
        );
    }

    #[test]
    fn errors_name_file_and_line() {
        let e = parse_test_file("tests:\n  - interval: 1m\n    bogus: 1\n", "t.yml")
            .expect_err("unknown field");
        assert!(e[0].starts_with("t.yml:3: "), "{e:?}");
        assert!(e[0].contains("bogus"), "{e:?}");
        let e = parse_test_file(
            "tests:\n  - alert_rule_test:\n    - eval_time: 5x\n",
            "t.yml",
        )
        .expect_err("bad duration");
        assert_eq!(
            e,
            ["t.yml:3: eval_time: not a valid duration string: \"5x\""]
        );
        let e = parse_test_file("tests: []\ntests: []\n", "t.yml").expect_err("duplicate");
        assert!(e[0].starts_with("t.yml:2: "), "{e:?}");
        assert_eq!(
            parse_test_file("", "t.yml").map(|f| f.evaluation_interval_ms),
            Ok(60_000)
        );
    }

    #[test]
    fn start_times() {
        assert_eq!(parse_start_time("0"), Ok(0));
        assert_eq!(parse_start_time("1.5"), Ok(1500));
        // Go's ParseFloat forms.
        assert_eq!(parse_start_time("0x1p4"), Ok(16_000));
        assert_eq!(parse_start_time("1_000"), Ok(1_000_000));
        assert!(parse_start_time("Inf").is_err());
        assert_eq!(
            parse_start_time("2000-02-29T00:00:00Z"),
            Ok(951_782_400_000)
        );
        assert_eq!(
            parse_start_time("2024-01-01T00:00:00Z"),
            Ok(1_704_067_200_000)
        );
        assert_eq!(
            parse_start_time("2024-01-01T01:00:00.25+01:00"),
            Ok(1_704_067_200_250)
        );
        assert!(parse_start_time("yesterday").is_err());
        assert!(parse_start_time("2024-02-30T00:00:00Z").is_err());
        // Go's time.Parse cuts a fraction past nine digits; the old copy refused it.
        assert_eq!(
            parse_start_time("2024-01-01T00:00:00.1234567891Z"),
            Ok(1_704_067_200_123)
        );
    }
}
