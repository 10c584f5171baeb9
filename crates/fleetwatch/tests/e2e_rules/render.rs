//! Alert templates rendered as Prometheus renders them for a firing alert, for label
//! sets the hub's data produces: `$labels` is the sample's metric (with `__name__` when
//! the result has one), `$value` its value, `query` runs against the hub's HTTP API.

use model::Labels;
use serde_json::Value;

use super::packs::AlertRule;
use crate::common::client;

/// The `query` template function, backed by the hub's `/api/v1/query`.
pub struct HubQuery {
    pub base: String,
}

impl HubQuery {
    /// The instant vector `q` evaluates to now, or the API's error.
    pub fn samples(&self, q: &str) -> Result<Vec<(Labels, f64)>, String> {
        let resp = client()
            .post(format!("{}/api/v1/query", self.base))
            .form(&[("query", q)])
            .send()
            .map_err(|e| format!("query {q:?}: {e}"))?;
        let v: Value = resp.json().map_err(|e| format!("query {q:?}: {e}"))?;
        if v["status"] != "success" {
            return Err(format!(
                "query {q:?}: {}",
                v["error"].as_str().unwrap_or("failed")
            ));
        }
        let data = &v["data"];
        match data["resultType"].as_str() {
            Some("vector") => Ok(data["result"]
                .as_array()
                .map(|r| r.iter().map(sample).collect())
                .unwrap_or_default()),
            // Prometheus's `query` template function wraps a scalar into one sample.
            Some("scalar") => Ok(vec![(Labels::empty(), number(&data["result"][1]))]),
            other => Err(format!("query {q:?}: unexpected result type {other:?}")),
        }
    }
}

fn number(v: &Value) -> f64 {
    v.as_str()
        .and_then(|s| s.parse::<f64>().ok())
        .unwrap_or(f64::NAN)
}

fn sample(s: &Value) -> (Labels, f64) {
    let labels = s["metric"]
        .as_object()
        .map(|m| {
            Labels::from_pairs(
                m.iter()
                    .map(|(k, v)| (k.as_str(), v.as_str().unwrap_or_default())),
            )
        })
        .unwrap_or_else(Labels::empty);
    (labels, number(&s["value"][1]))
}

impl template::QueryFn for HubQuery {
    fn query(&self, q: &str) -> Result<Vec<template::QuerySample>, String> {
        Ok(self
            .samples(q)?
            .into_iter()
            .map(|(labels, value)| template::QuerySample { labels, value })
            .collect())
    }
}

/// One failed expansion.
#[derive(Debug)]
pub struct Failure {
    pub rule: String,
    pub group: String,
    /// `annotations.NAME` or `labels.NAME`.
    pub field: String,
    pub labels: String,
    pub error: String,
}

/// Renders every label and annotation template of `rule` for each label set; returns
/// how many expansions ran and the failures.
pub fn render(
    rule: &AlertRule,
    sets: &[(Labels, f64)],
    hub: &HubQuery,
    external_labels: &Labels,
    external_url: &str,
) -> (usize, Vec<Failure>) {
    let mut rendered = 0;
    let mut failures = Vec::new();
    let fields = rule
        .labels
        .iter()
        .map(|(k, v)| (format!("labels.{k}"), v))
        .chain(
            rule.annotations
                .iter()
                .map(|(k, v)| (format!("annotations.{k}"), v)),
        );
    for (field, text) in fields {
        for (labels, value) in sets {
            let data = template::Data {
                labels,
                external_labels,
                external_url,
                value: *value,
                query: Some(hub),
            };
            rendered += 1;
            match template::expand_alert_template(&rule.name, text, &data) {
                Ok(out) if out.contains("error expanding template") => failures.push(Failure {
                    rule: rule.name.clone(),
                    group: rule.group.clone(),
                    field: field.clone(),
                    labels: format!("{labels:?}"),
                    error: out,
                }),
                Ok(_) => {}
                Err(e) => failures.push(Failure {
                    rule: rule.name.clone(),
                    group: rule.group.clone(),
                    field: field.clone(),
                    labels: format!("{labels:?}"),
                    error: e.to_string(),
                }),
            }
        }
    }
    (rendered, failures)
}
