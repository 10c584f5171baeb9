//! Why a query fails, worded as Prometheus words it.

/// A query that could not be answered.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EvalError {
    /// The text is not valid PromQL, or does not type-check (`bad_data`).
    #[error("{0}")]
    Parse(String),
    /// The deadline passed; the argument says where ("expression evaluation", "query queue").
    #[error("query timed out in {0}")]
    Timeout(&'static str),
    /// The query would hold more samples than `--query.max-samples` at once.
    #[error("query processing would load too many samples into memory in {0}")]
    TooManySamples(&'static str),
    /// Reading the store failed.
    #[error("{0}")]
    Storage(String),
    /// Evaluation failed: duplicate label sets, bad arguments, matching conflicts.
    #[error("{0}")]
    Execution(String),
}

impl EvalError {
    /// Prometheus's `errorType` for this error.
    pub fn error_type(&self) -> &'static str {
        match self {
            EvalError::Parse(_) => "bad_data",
            EvalError::Timeout(_) => "timeout",
            EvalError::TooManySamples(_) | EvalError::Storage(_) | EvalError::Execution(_) => {
                "execution"
            }
        }
    }

    /// Shorthand for [`EvalError::Execution`].
    pub fn exec(msg: impl Into<String>) -> Self {
        EvalError::Execution(msg.into())
    }
}

/// Result of evaluation steps.
pub type EvalResult<T> = Result<T, EvalError>;
