//! Prometheus's alert-template expansion (rules/alerting.go): the
//! convenience variables, the `__alert_<name>` template name, and the error
//! wording.

use crate::{Data, Template, TemplateError};

/// What Prometheus prepends to every alert label and annotation template.
pub const ALERT_TEMPLATE_PREFIX: &str = "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}";

/// The name Prometheus parses an alert's templates under.
pub fn alert_template_name(alert_name: &str) -> String {
    format!("__alert_{alert_name}")
}

/// Parses an alert label or annotation template as Prometheus does (prefix
/// prepended, named `__alert_<alert_name>`). The error is Go's parse error,
/// as Prometheus reports it when it checks rule files.
pub fn parse_alert_template(alert_name: &str, text: &str) -> Result<Template, TemplateError> {
    let full = format!("{ALERT_TEMPLATE_PREFIX}{text}");
    Template::parse(&alert_template_name(alert_name), &full)
}

/// Prometheus's alert-template expansion at the current time: prefix,
/// parse, render. Errors read as Prometheus logs them
/// (`error executing template __alert_X: template: ...`);
/// [`TemplateError::annotation`] gives what it writes into the annotation.
pub fn expand_alert_template(
    alert_name: &str,
    text: &str,
    data: &Data<'_>,
) -> Result<String, TemplateError> {
    expand_alert_template_at(alert_name, text, data, crate::now_millis())
}

/// [`expand_alert_template`] with `now` (for the `now` function) at
/// `eval_time_ms`, milliseconds since the epoch: the rule's evaluation time.
pub fn expand_alert_template_at(
    alert_name: &str,
    text: &str,
    data: &Data<'_>,
    eval_time_ms: i64,
) -> Result<String, TemplateError> {
    parse_alert_template(alert_name, text)
        .map_err(TemplateError::expanded)?
        .render_at(data, eval_time_ms)
        .map_err(TemplateError::expanded)
}

/// What Prometheus puts into an alert's label or annotation: the expansion,
/// or on failure `<error expanding template: ...>`.
pub fn expand_for_alert(
    alert_name: &str,
    text: &str,
    data: &Data<'_>,
    eval_time_ms: i64,
) -> String {
    expand_alert_template_at(alert_name, text, data, eval_time_ms)
        .unwrap_or_else(|e| e.annotation())
}
