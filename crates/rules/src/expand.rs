//! Alert templates through the `template` crate: expansion with `$labels`, `$value`,
//! `$externalLabels`, `$externalURL` and the `query` function backed by the engine, and the
//! parse check rule files get.

use model::{Labels, Timestamp};
use promql::Engine;
use storage::Queryable;

use crate::alerting::AlertContext;

/// The variables Prometheus defines before every alert template.
const DEFS: &str = "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}";

/// The engine and store a rule evaluates against, at one time.
#[derive(Clone, Copy)]
pub(crate) struct EngineQuery<'a> {
    /// The engine.
    pub engine: &'a Engine,
    /// The store read.
    pub queryable: &'a dyn Queryable,
    /// When template queries run, ms.
    pub t: Timestamp,
}

impl<'a> EngineQuery<'a> {
    /// The same engine and store at `t`.
    pub fn at(&self, t: Timestamp) -> EngineQuery<'a> {
        EngineQuery { t, ..*self }
    }
}

/// Expands one label or annotation template of alert `alert`; a failure becomes the text
/// Prometheus puts in its place, and a warning in the log.
pub(crate) fn expand(
    alert: &str,
    text: &str,
    labels: &Labels,
    ctx: &AlertContext,
    value: f64,
    q: &EngineQuery<'_>,
) -> String {
    // PENDING-TEMPLATE
    let _ = (alert, labels, ctx, value, q);
    text.to_string()
}

/// Parses an alert template as Prometheus does when loading rules (variables predefined).
pub(crate) fn check(alert: &str, text: &str) -> Result<(), String> {
    // PENDING-TEMPLATE
    let _ = (alert, text, DEFS);
    Ok(())
}
