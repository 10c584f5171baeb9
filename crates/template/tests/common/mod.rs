//! Shared test helpers: standard alert data and render shortcuts.

#![allow(dead_code)]

use model::Labels;
use template::{Data, QueryFn, QuerySample, Template, TemplateError};

/// Prometheus's own tests fix `now` here (2012-11-24 11:14:12 UTC).
pub const NOW_MS: i64 = 1_353_755_652_000;

pub fn labels(pairs: &[(&str, &str)]) -> Labels {
    Labels::from_pairs(pairs.iter().copied())
}

/// A query function answering every query with `samples`.
pub fn answering(samples: Vec<QuerySample>) -> impl Fn(&str) -> Result<Vec<QuerySample>, String> {
    move |_q: &str| Ok(samples.clone())
}

pub fn sample(pairs: &[(&str, &str)], value: f64) -> QuerySample {
    QuerySample {
        labels: labels(pairs),
        value,
    }
}

/// Renders `text` (named "test") with the given labels, value and query.
pub fn render_with(
    text: &str,
    l: &Labels,
    value: f64,
    query: Option<&dyn QueryFn>,
) -> Result<String, TemplateError> {
    let ext = labels(&[("cluster", "eu1")]);
    let data = Data {
        labels: l,
        external_labels: &ext,
        external_url: "http://testhost:9090/path/prefix",
        value,
        query,
    };
    Template::parse("test", text)?.render_at(&data, NOW_MS)
}

/// Renders with job/instance labels and value 1.5.
pub fn render(text: &str) -> Result<String, TemplateError> {
    let l = labels(&[
        ("instance", "host:9100"),
        ("job", "node"),
        ("severity", "critical"),
    ]);
    render_with(text, &l, 1.5, None)
}

/// Renders, panicking with the error text on failure.
pub fn ok(text: &str) -> String {
    match render(text) {
        Ok(s) => s,
        Err(e) => panic!("{text:?}: {e}"),
    }
}

/// The error text of a failing render (wrapped as Prometheus's expander does).
pub fn err(text: &str) -> String {
    match render(text) {
        Ok(s) => panic!("{text:?} rendered {s:?}, expected an error"),
        Err(e) => e.expanded().to_string(),
    }
}
