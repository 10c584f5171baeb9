//! Template errors, worded as Go's `text/template` and Prometheus word them.

use gofmt::quote;

/// Why a template did not parse or execute.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TemplateError {
    /// The text does not parse. Go's text names the line only:
    /// `template: NAME:LINE: MESSAGE`.
    #[error("template: {name}:{line}: {message}")]
    Parse {
        /// The template's name.
        name: String,
        /// Line (1-based) of the item the parser stopped at.
        line: usize,
        /// Byte offset of that item within its line (0-based, as Go counts).
        col: usize,
        /// Go's message.
        message: String,
    },
    /// Execution failed:
    /// `template: NAME:LINE:COL: executing "TEMPLATE" at <NODE>: MESSAGE`.
    #[error("template: {name}:{line}:{col}: executing {tq} at <{context}>: {message}", tq = quote(.template))]
    Exec {
        /// The name the text was parsed under.
        name: String,
        /// The (possibly `define`d) template that was executing.
        template: String,
        /// Line (1-based) of the node that failed.
        line: usize,
        /// Byte offset of the node within its line (0-based, as Go counts).
        col: usize,
        /// The node, as Go prints it.
        context: String,
        /// Go's message.
        message: String,
    },
    /// Prometheus's expander wrapping of a parse or execution error:
    /// `error parsing template NAME: ...` / `error executing template NAME: ...`.
    #[error("error {phase} template {name}: {source}", phase = if *.parsing { "parsing" } else { "executing" })]
    Expand {
        /// The template's name.
        name: String,
        /// Whether parsing (rather than executing) failed.
        parsing: bool,
        /// The error.
        source: Box<TemplateError>,
    },
}

impl TemplateError {
    /// What Prometheus writes into a label or annotation whose template
    /// failed: `<error expanding template: ...>`.
    pub fn annotation(&self) -> String {
        format!("<error expanding template: {self}>")
    }

    /// Wrapped as Prometheus's expander reports errors (already wrapped
    /// errors are returned as they are).
    pub fn expanded(self) -> TemplateError {
        let (name, parsing) = match &self {
            TemplateError::Parse { name, .. } => (name.clone(), true),
            TemplateError::Exec { name, .. } => (name.clone(), false),
            TemplateError::Expand { .. } => return self,
        };
        TemplateError::Expand {
            name,
            parsing,
            source: Box::new(self),
        }
    }
}

/// Line (1-based) and Go's column (byte offset within the line) of `pos`.
pub(crate) fn line_col(text: &str, pos: usize) -> (usize, usize) {
    let before = text.as_bytes().get(..pos).unwrap_or(text.as_bytes());
    let line = 1 + before.iter().filter(|b| **b == b'\n').count();
    let col = match before.iter().rposition(|b| *b == b'\n') {
        Some(nl) => before.len() - (nl + 1),
        None => before.len(),
    };
    (line, col)
}
