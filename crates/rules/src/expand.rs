//! Alert templates through the `template` crate: expansion with `$labels`, `$value`,
//! `$externalLabels`, `$externalURL` and the `query` function backed by the engine, and the
//! parse check rule files get.

use model::{Labels, Timestamp};
use promql::Engine;
use storage::Queryable;

use crate::alerting::AlertContext;
use crate::rule::run_query;

/// The engine and store a rule evaluates against, at one time.
#[derive(Clone, Copy)]
pub(crate) struct EngineQuery<'a> {
    /// The engine.
    pub engine: &'a Engine,
    /// The store read.
    pub queryable: &'a dyn Queryable,
    /// The evaluation time, ms: template queries and `now` use it.
    pub t: Timestamp,
}

impl template::QueryFn for EngineQuery<'_> {
    fn query(&self, q: &str) -> Result<Vec<template::QuerySample>, String> {
        let parsed = promql::parse_shared(q).map_err(|e| e.to_string())?;
        let res = run_query(self.engine, self.queryable, &parsed, self.t)?;
        Ok(res
            .into_iter()
            .map(|s| template::QuerySample {
                labels: s.labels,
                value: s.v,
            })
            .collect())
    }
}

/// Expands one label or annotation template of alert `alert` for a result sample; a
/// failure becomes the text Prometheus puts in its place, and a warning in the log.
pub(crate) fn expand(
    alert: &str,
    text: &str,
    labels: &Labels,
    ctx: &AlertContext,
    value: f64,
    q: &EngineQuery<'_>,
) -> String {
    let data = template::Data {
        labels,
        external_labels: &ctx.external_labels,
        external_url: &ctx.external_url,
        value,
        query: Some(q),
    };
    template::expand_alert_template_at(alert, text, &data, q.t).unwrap_or_else(|e| {
        tracing::warn!(alert, error = %e, labels = %labels, "expanding alert template failed");
        e.annotation()
    })
}

/// Parses an alert template as Prometheus does when loading rules (variables predefined).
pub(crate) fn check(alert: &str, text: &str) -> Result<(), String> {
    template::parse_alert_template(alert, text)
        .map(|_| ())
        .map_err(|e| e.to_string())
}
