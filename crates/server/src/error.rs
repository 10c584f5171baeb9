//! API errors in Prometheus's shape: an error type that fixes the HTTP status,
//! and a message.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::json;

/// Prometheus's error types, each with its default HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorType {
    /// `bad_data`: the request is wrong (400).
    BadData,
    /// `execution`: the query or store failed (422).
    Execution,
    /// `timeout`: the query ran out of time (503).
    Timeout,
    /// `canceled`: the client went away (499).
    Canceled,
    /// `internal`: a bug or I/O failure on our side (500).
    Internal,
    /// `unavailable`: not ready to serve (503).
    Unavailable,
    /// `not_found` (404).
    NotFound,
}

impl ErrorType {
    /// The `errorType` string.
    pub fn as_str(&self) -> &'static str {
        match self {
            ErrorType::BadData => "bad_data",
            ErrorType::Execution => "execution",
            ErrorType::Timeout => "timeout",
            ErrorType::Canceled => "canceled",
            ErrorType::Internal => "internal",
            ErrorType::Unavailable => "unavailable",
            ErrorType::NotFound => "not_found",
        }
    }

    /// The HTTP status Prometheus sends for it.
    pub fn status(&self) -> StatusCode {
        match self {
            ErrorType::BadData => StatusCode::BAD_REQUEST,
            ErrorType::Execution => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorType::Timeout | ErrorType::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            // Prometheus's "client closed connection" status.
            ErrorType::Canceled => {
                StatusCode::from_u16(499).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            }
            ErrorType::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorType::NotFound => StatusCode::NOT_FOUND,
        }
    }
}

/// An error answered as `{"status":"error","errorType":...,"error":...}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", kind.as_str())]
pub struct ApiError {
    /// The error type.
    pub kind: ErrorType,
    /// What went wrong, as the client sees it.
    pub message: String,
    /// A status other than the type's default (e.g. 413 for an oversized body).
    pub status_override: Option<StatusCode>,
}

impl ApiError {
    /// An error of a given type.
    pub fn new(kind: ErrorType, message: impl Into<String>) -> Self {
        ApiError {
            kind,
            message: message.into(),
            status_override: None,
        }
    }

    /// `bad_data`.
    pub fn bad_data(message: impl Into<String>) -> Self {
        Self::new(ErrorType::BadData, message)
    }

    /// `bad_data` naming the parameter, as Prometheus's `invalidParamError`.
    pub fn invalid_param(param: &str, err: impl std::fmt::Display) -> Self {
        Self::bad_data(format!("invalid parameter {param:?}: {err}"))
    }

    /// `execution`.
    pub fn execution(message: impl Into<String>) -> Self {
        Self::new(ErrorType::Execution, message)
    }

    /// `internal`.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorType::Internal, message)
    }

    /// The request body or a parameter is over its size bound (413).
    pub fn too_large(message: impl Into<String>) -> Self {
        ApiError {
            status_override: Some(StatusCode::PAYLOAD_TOO_LARGE),
            ..Self::bad_data(message)
        }
    }

    /// The HTTP status to send.
    pub fn status(&self) -> StatusCode {
        self.status_override.unwrap_or_else(|| self.kind.status())
    }
}

impl From<promql::EvalError> for ApiError {
    /// Prometheus's mapping: parse and type errors are `bad_data` naming the
    /// `query` parameter, timeouts `timeout`, storage failures `internal`, the
    /// rest `execution`.
    fn from(e: promql::EvalError) -> Self {
        use promql::EvalError;
        match e {
            EvalError::Parse(m) => ApiError::invalid_param("query", m),
            EvalError::Timeout(_) => ApiError::new(ErrorType::Timeout, e.to_string()),
            // The store's own sample budget is the same limit as the engine's, so it
            // reads as Prometheus's too-many-samples error: `execution`, not a fault.
            EvalError::Storage(m) if m.contains("too many samples") => ApiError::execution(m),
            EvalError::Storage(m) => ApiError::internal(m),
            EvalError::TooManySamples(_) | EvalError::Execution(_) => {
                ApiError::execution(e.to_string())
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status(),
            [(header::CONTENT_TYPE, "application/json")],
            json::error(self.kind.as_str(), &self.message),
        )
            .into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        assert_eq!(ApiError::bad_data("x").status(), StatusCode::BAD_REQUEST);
        assert_eq!(ApiError::execution("x").status().as_u16(), 422);
        assert_eq!(ErrorType::Canceled.status().as_u16(), 499);
        assert_eq!(ApiError::too_large("x").status().as_u16(), 413);
        assert_eq!(
            ApiError::invalid_param("time", "boom").message,
            r#"invalid parameter "time": boom"#
        );
    }

    #[test]
    fn engine_errors_map_as_prometheus() {
        use promql::EvalError;
        let cases = [
            (EvalError::Parse("parse error: x".into()), 400, "bad_data"),
            (EvalError::Timeout("query queue"), 503, "timeout"),
            (
                EvalError::TooManySamples("query execution"),
                422,
                "execution",
            ),
            (
                EvalError::Execution("vector cannot contain metrics with the same labelset".into()),
                422,
                "execution",
            ),
            (EvalError::Storage("disk on fire".into()), 500, "internal"),
            (
                EvalError::Storage(
                    "query processing would load too many samples into memory: more than 5".into(),
                ),
                422,
                "execution",
            ),
        ];
        for (e, status, kind) in cases {
            let a = ApiError::from(e);
            assert_eq!(
                (a.status().as_u16(), a.kind.as_str()),
                (status, kind),
                "{}",
                a.message
            );
        }
        assert_eq!(
            ApiError::from(EvalError::Parse("parse error: x".into())).message,
            r#"invalid parameter "query": parse error: x"#
        );
    }
}
