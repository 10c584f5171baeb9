//! Go `text/template` as Prometheus's rule templates use it (labels and
//! annotations of alerting rules), with Prometheus's template functions.
//!
//! - [`Template`] parses and renders a template against [`Data`];
//! - [`expand_alert_template`] is Prometheus's alert expansion (the
//!   `$labels`, `$externalLabels`, `$externalURL`, `$value` variables, the
//!   `__alert_<name>` template name, Prometheus's error wording);
//! - [`TemplateError`] words errors as Go and Prometheus do.
//!
//! Layout, one concern per module:
//! - `lex`, `parse`, `ast`: text into trees (Go's lexer, parser, nodes);
//! - `exec`: walking trees, evaluating pipelines, bounded work;
//! - `value`: the dynamically typed values standing in for Go's types;
//! - `funcs`, `builtins`, `methods`: the function table, Go's builtins,
//!   `time.Time`/`time.Duration` methods;
//! - `humanize`: Prometheus's number and time formatting functions;
//! - `gofmt`, `gonet`: the parts of Go's `fmt`, `net` and `net/url` the
//!   above need (Go's `strconv`, quoting and `time` are the `gofmt` crate's);
//! - `alert`: Prometheus's alert expansion; `error`: errors.
//!
//! Execution is bounded: output ([`MAX_OUTPUT`]), steps, nesting and
//! template recursion depth; no template text makes it panic.

#![warn(missing_docs)]

mod alert;
mod ast;
mod builtins;
mod error;
mod exec;
mod funcs;
mod gofmt;
mod gonet;
mod humanize;
mod lex;
mod methods;
mod parse;
mod value;

use std::collections::HashMap;
use std::rc::Rc;

pub use alert::{
    ALERT_TEMPLATE_PREFIX, alert_template_name, expand_alert_template, expand_alert_template_at,
    expand_for_alert, parse_alert_template,
};
pub use error::TemplateError;
pub use exec::{MAX_ALLOCATED, MAX_NESTING, MAX_OUTPUT, MAX_STEPS, MAX_TEMPLATE_DEPTH};
pub use gonet::query_escape;
pub use parse::MAX_PARSE_DEPTH;

/// A parsed template (with the templates it `define`s).
#[derive(Debug, Clone)]
pub struct Template {
    name: String,
    text: String,
    trees: HashMap<String, ast::List>,
}

impl Template {
    /// Parses `text`; `name` appears in errors (Prometheus names alert
    /// templates `__alert_<AlertName>`).
    pub fn parse(name: &str, text: &str) -> Result<Template, TemplateError> {
        let trees = parse::parse(name, text, &funcs::exists).map_err(|e| {
            let (_, col) = error::line_col(text, e.pos);
            TemplateError::Parse {
                name: name.to_string(),
                line: e.line,
                col,
                message: e.message,
            }
        })?;
        Ok(Template {
            name: name.to_string(),
            text: text.to_string(),
            trees,
        })
    }

    /// The template's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Executes with `data`; `now` is the current time.
    pub fn render(&self, data: &Data<'_>) -> Result<String, TemplateError> {
        self.render_at(data, now_millis())
    }

    /// Executes with `data`, `now` being `now_ms` (milliseconds since the
    /// epoch; Prometheus passes the rule's evaluation time).
    pub fn render_at(&self, data: &Data<'_>, now_ms: i64) -> Result<String, TemplateError> {
        let dot = value::Value::Data(Rc::new(value::DataValue {
            labels: Rc::new(data.labels.clone()),
            external_labels: Rc::new(data.external_labels.clone()),
            external_url: Rc::from(data.external_url),
            value: data.value,
        }));
        let env = funcs::Env::new(data.query, data.external_url, now_ms as f64 / 1000.0);
        exec::Exec::run(self, dot, env)
    }
}

/// What `.` holds, and the hooks functions need.
pub struct Data<'a> {
    /// `.Labels` (and `$labels` in alert templates).
    pub labels: &'a model::Labels,
    /// `.ExternalLabels`.
    pub external_labels: &'a model::Labels,
    /// `.ExternalURL`; also what `externalURL` and `pathPrefix` use.
    pub external_url: &'a str,
    /// `.Value`.
    pub value: f64,
    /// Runs the `query` function's PromQL; `None` makes `query` fail.
    pub query: Option<&'a dyn QueryFn>,
}

/// Evaluates PromQL for the `query` template function (at the rule's
/// evaluation time).
pub trait QueryFn {
    /// The instant vector `q` evaluates to, or the error's text.
    fn query(&self, q: &str) -> Result<Vec<QuerySample>, String>;
}

impl<F: Fn(&str) -> Result<Vec<QuerySample>, String>> QueryFn for F {
    fn query(&self, q: &str) -> Result<Vec<QuerySample>, String> {
        self(q)
    }
}

/// One sample of a query result.
#[derive(Debug, Clone, PartialEq)]
pub struct QuerySample {
    /// The series' labels (with `__name__` when it has one).
    pub labels: model::Labels,
    /// The sample value.
    pub value: f64,
}

pub(crate) fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
