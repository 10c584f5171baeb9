//! The vocabulary every Fleetwatch crate shares: labels and series identity (and a
//! label set's bytes as remote write sends them), samples and timestamps, native
//! histograms, label matchers, metric metadata, durations.
//!
//! Nothing here does I/O.

mod duration;
pub mod goyaml;
pub mod histogram;
mod label_str;
mod labels;
mod matcher;
mod metadata;
mod regex;
mod sample;
mod wire_labels;

pub use duration::{DurationError, PromDuration};
pub use histogram::{CounterResetHint, FloatHistogram, HistogramSample, Span};
pub use label_str::LabelStr;
pub use labels::{
    ALERT_NAME_LABEL, BUCKET_LABEL, INSTANCE_LABEL, JOB_LABEL, Label, Labels, LabelsBuilder,
    METRIC_NAME_LABEL, QUANTILE_LABEL, SeriesRef, go_labels_string, hash_label_pairs,
    is_valid_label_name, is_valid_metric_name,
};
pub use matcher::{MatchOp, Matcher, MatcherError};
pub use metadata::{MetricMetadata, MetricType};
pub use regex::{PromRegex, RegexError};
pub use sample::{STALE_NAN_BITS, Sample, Timestamp, is_stale_nan, stale_nan};
pub use wire_labels::{
    encode_label_pairs, encoded_label_pairs_len, matches_label_pairs, short_bytes_eq,
};
