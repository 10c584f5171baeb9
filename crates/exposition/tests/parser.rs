//! Behaviour of the parser on hand-written pages of both formats.

use std::borrow::Cow;

use exposition::{Entry, Format, Mode, Parser};
use model::MetricType;

/// A sample flattened for comparison: name, labels, value bits, timestamp, exemplar.
type Flat = (
    String,
    Vec<(String, String)>,
    f64,
    Option<i64>,
    Option<String>,
);

fn samples(body: &str, format: Format) -> Vec<Flat> {
    let mut p = Parser::new(body.as_bytes(), format, Mode::Scrape);
    let mut out = Vec::new();
    while let Some(e) = p.next() {
        if let Entry::Sample(s) = e.unwrap_or_else(|e| panic!("{body:?}: {e}")) {
            out.push((
                s.name.to_string(),
                s.labels
                    .iter()
                    .map(|(n, v)| (n.to_string(), v.to_string()))
                    .collect(),
                s.value,
                s.timestamp,
                s.exemplar
                    .map(|x| format!("{} {} {:?}", x.to_labels(), x.value, x.timestamp)),
            ));
        }
    }
    out
}

fn error(body: &str, format: Format, mode: Mode) -> String {
    let mut p = Parser::new(body.as_bytes(), format, mode);
    while let Some(e) = p.next() {
        if let Err(e) = e {
            assert!(p.next().is_none(), "parser must stop after an error");
            return e.to_string();
        }
    }
    panic!("{body:?} parsed but should not");
}

fn lv(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn text_format_samples_metadata_and_comments() {
    let body = "# HELP a The a\\\\b\\n help \\\"q\\\".\n# TYPE a counter\n# just a comment\n\n  a{x=\"1\", y = \"2\",} 3 1000\na 4\n";
    let mut p = Parser::new(body.as_bytes(), Format::PrometheusText, Mode::Scrape);
    let mut kinds = Vec::new();
    while let Some(e) = p.next() {
        match e.expect("valid") {
            Entry::Help { name, help } => {
                assert_eq!(name, "a");
                assert_eq!(help, "The a\\b\n help \\\"q\\\".");
                kinds.push("help");
            }
            Entry::Type { metric_type, .. } => {
                assert_eq!(metric_type, MetricType::Counter);
                kinds.push("type");
            }
            Entry::Comment(c) => {
                assert_eq!(c, "just a comment");
                kinds.push("comment");
            }
            Entry::Sample(s) => {
                assert_eq!(s.metric_type, MetricType::Counter);
                kinds.push("sample");
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(kinds, ["help", "type", "comment", "sample", "sample"]);
    let s = samples(body, Format::PrometheusText);
    assert_eq!(s[0].1, lv(&[("x", "1"), ("y", "2")]));
    assert_eq!((s[0].2, s[0].3), (3.0, Some(1000)));
    assert_eq!((s[1].2, s[1].3), (4.0, None));
}

#[test]
fn text_format_quirks_prometheus_accepts() {
    // Missing comma between labels, no newline at the end, tabs, untyped.
    let s = samples(
        "# TYPE m untyped\nm{a=\"1\"b=\"2\"}\t5",
        Format::PrometheusText,
    );
    assert_eq!(s[0].1, lv(&[("a", "1"), ("b", "2")]));
    assert_eq!(s[0].2, 5.0);
    // A raw newline inside a label value is accepted by the text lexer.
    let s = samples("m{a=\"x\ny\"} 1\n", Format::PrometheusText);
    assert_eq!(s[0].1, lv(&[("a", "x\ny")]));
    // Value right after the brace, Go float spellings.
    let s = samples("m{}1e3\nn -Inf\no +inf\np .5\n", Format::PrometheusText);
    let vals: Vec<f64> = s.iter().map(|x| x.2).collect();
    assert_eq!(vals, [1000.0, f64::NEG_INFINITY, f64::INFINITY, 0.5]);
}

#[test]
fn utf8_quoted_names() {
    let s = samples(
        "# TYPE \"my.metric\" gauge\n{\"my.metric\", \"label.name\"=\"v\", plain=\"w\"} 1\n",
        Format::PrometheusText,
    );
    assert_eq!(s[0].0, "my.metric");
    assert_eq!(s[0].1, lv(&[("label.name", "v"), ("plain", "w")]));
    let s = samples("{\"a\\\"b\"} 2\n# EOF\n", Format::OpenMetrics);
    assert_eq!(s[0].0, "a\"b");
    // Quoted names are not OpenMetrics 1.0.
    error("{\"a.b\"} 1\n# EOF\n", Format::OpenMetrics, Mode::Strict);
    error("{\"a\",\"b\"} 1\n", Format::PrometheusText, Mode::Scrape);
    error("{x=\"1\"} 1\n", Format::PrometheusText, Mode::Scrape);
}

#[test]
fn labels_borrow_unless_escaped() {
    let body = b"m{a=\"plain\",b=\"esc\\\\aped\"} 1\n";
    let mut p = Parser::new(body, Format::PrometheusText, Mode::Scrape);
    let Some(Ok(Entry::Sample(s))) = p.next() else {
        panic!("expected a sample");
    };
    assert!(matches!(s.name, Cow::Borrowed(_)));
    assert!(matches!(s.labels[0].1, Cow::Borrowed("plain")));
    assert!(matches!(&s.labels[1].1, Cow::Owned(v) if v == "esc\\aped"));
}

#[test]
fn nan_is_never_the_stale_marker() {
    let s = samples("a NaN\n", Format::PrometheusText);
    assert!(s[0].2.is_nan());
    assert!(!model::is_stale_nan(s[0].2));
    assert_eq!(s[0].2.to_bits(), exposition::float::NORMAL_NAN_BITS);
}

#[test]
fn openmetrics_timestamps_exemplars_and_eof() {
    let body = "# TYPE a counter\n# UNIT a \na_total{x=\"1\"} 1 1.5 # {id=\"z\"} 0.5 2\na_created 17e8\n# EOF";
    let s = samples(body, Format::OpenMetrics);
    assert_eq!(s[0].3, Some(1500));
    assert_eq!(s[0].4.as_deref(), Some("{id=\"z\"} 0.5 Some(2000)"));
    assert_eq!(s[1].0, "a_created");
    let mut p = Parser::new(body.as_bytes(), Format::OpenMetrics, Mode::Strict);
    let mut last = None;
    while let Some(e) = p.next() {
        last = Some(format!("{:?}", e.expect("valid")));
    }
    assert_eq!(last.as_deref(), Some("Eof"));
}

#[test]
fn errors_name_line_and_column() {
    assert_eq!(
        error("a 1\nb{c=1} 2\n", Format::PrometheusText, Mode::Scrape),
        "line 2, column 5: expected label value"
    );
    assert_eq!(
        error("a 1\n", Format::OpenMetrics, Mode::Scrape),
        "line 2, column 1: data does not end with # EOF"
    );
    assert!(
        error("a 1 -5\n", Format::PrometheusText, Mode::Scrape).starts_with("line 1, column 5")
    );
    assert!(
        error(
            "# TYPE a gaugehistogram\n",
            Format::PrometheusText,
            Mode::Scrape
        )
        .contains("invalid metric type")
    );
    assert!(
        error(
            "a 1 99999999999999999999\n",
            Format::PrometheusText,
            Mode::Scrape
        )
        .contains("out of range")
    );
    assert!(
        error(
            "a{x=\"1\",x=\"2\"} 1\n",
            Format::PrometheusText,
            Mode::Scrape
        )
        .contains("duplicate label name")
    );
    assert!(error("a 1e999\n", Format::PrometheusText, Mode::Scrape).contains("invalid value"));
}

#[test]
fn labels_for_storage_are_normalised_like_prometheus() {
    let body = b"# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\",e=\"\"} 1\n";
    let mut p = Parser::new(body, Format::PrometheusText, Mode::Scrape);
    let mut got = Vec::new();
    let mut b = model::LabelsBuilder::default();
    while let Some(e) = p.next() {
        if let Entry::Sample(s) = e.expect("valid") {
            s.fill_builder(&mut b);
            got.push(std::mem::take(&mut b).build().to_string());
        }
    }
    assert_eq!(got, [r#"h_bucket{le="1.0"}"#, r#"h_bucket{le="+Inf"}"#]);
}
