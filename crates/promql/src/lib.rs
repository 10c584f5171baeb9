//! PromQL evaluation with Prometheus 3's semantics over the storage traits.
//!
//! Data path: text → [`parse`] (AST from `promql-parser`, node positions,
//! matchers with Prometheus's regex anchoring) → [`Engine`] (limits, steps) →
//! [`eval`] (selectors, subqueries, range windows) → the operators:
//! [`aggregate`], [`binary`], [`functions`] → [`value`] results with
//! [`annotations`]. [`grouping`] holds the label keys aggregations and vector
//! matching share; [`promqltest`] runs Prometheus's PromQL test scripts.
//!
//! Helpers the operators share (numbers, strings and times as Go prints them
//! come from the `gofmt` crate):
//! - [`labels_string`]: label sets as Prometheus (Go) prints them;
//! - `histograms`: finding, dropping and refusing native-histogram samples;
//! - [`stats`]: Kahan summation, the overflow-safe mean, the φ-quantile, NaN-last order.

pub mod aggregate;
pub mod annotations;
pub mod binary;
pub mod engine;
pub mod error;
pub mod eval;
pub mod functions;
pub mod grouping;
pub(crate) mod histograms;
pub(crate) mod labels_string;
pub mod parse;
pub mod promqltest;
pub(crate) mod stats;
pub mod value;

pub use annotations::{Annotations, Pos};
pub use engine::{Engine, EngineOptions, QueryResult};
pub use error::{EvalError, EvalResult};
pub use parse::{ParsedQuery, parse, parse_metric_selector, parse_shared};
pub use value::{QueryValue, Series, Steps, Value, VectorSample};
