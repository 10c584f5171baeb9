//! What operators share about native-histogram samples: finding them, dropping
//! them where Prometheus ignores them, the annotations Prometheus raises then,
//! and the error for computations on histograms this engine does not do yet.

use model::Sample;

use crate::error::EvalError;
use crate::value::Series;

/// The error for an operation Prometheus computes on histograms and this engine
/// does not implement yet (rather than an answer that leaves them out).
pub fn unsupported(what: &str) -> EvalError {
    EvalError::exec(format!("native histograms are not supported by {what} yet"))
}

/// True when any series holds a histogram sample.
pub fn any(v: &[Series]) -> bool {
    v.iter().any(|s| !s.histograms.is_empty())
}

/// Fails with [`unsupported`] when any series holds a histogram sample.
pub fn reject(v: &[Series], what: &str) -> Result<(), EvalError> {
    if any(v) {
        return Err(unsupported(what));
    }
    Ok(())
}

/// Removes every histogram sample and the series left without samples; true
/// when there was any.
pub fn drop_all(v: &mut Vec<Series>) -> bool {
    if !any(v) {
        return false;
    }
    for s in v.iter_mut() {
        s.histograms.clear();
    }
    v.retain(|s| !s.samples.is_empty());
    true
}

/// Prometheus's info when an aggregation skips histograms
/// (`NewHistogramIgnoredInAggregationInfo`).
pub fn ignored_in_aggregation(op: &str) -> String {
    format!("ignored histogram in {op} aggregation")
}

/// Prometheus's info when a range function uses only the floats of a range
/// that holds both kinds (`NewHistogramIgnoredInMixedRangeInfo`).
pub fn ignored_in_mixed_range(metric_name: &str) -> String {
    format!(
        "ignored histograms in a range containing both floats and histograms for metric name {}",
        gofmt::quote(metric_name)
    )
}

/// Prometheus's info when a binary operator meets operand types it does not
/// combine (`NewIncompatibleTypesInBinOpInfo`).
pub fn incompatible_in_binop(lhs: &str, op: &str, rhs: &str) -> String {
    format!(
        "incompatible sample types encountered for binary operator {}: {lhs} {op} {rhs}",
        gofmt::quote(op)
    )
}

/// Moves `s`'s histogram samples into its float samples as placeholders
/// (value 0, same time), for operators that only need to know where samples
/// are (`count`, `group`, `timestamp`).
pub fn into_placeholders(s: &mut Series) {
    if s.histograms.is_empty() {
        return;
    }
    let times = s.histograms.drain(..).map(|h| Sample::new(h.t, 0.0));
    s.samples.extend(times);
    s.samples.sort_by_key(|p| p.t);
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use model::{FloatHistogram, HistogramSample, Labels, Sample};

    use super::*;

    #[test]
    fn dropping_leaves_floats_and_removes_emptied_series() {
        let h = HistogramSample::new(10, Arc::new(FloatHistogram::default()));
        let mut v = vec![
            Series::with_histograms(
                Labels::from_pairs([("a", "1")]),
                vec![Sample::new(0, 1.0)],
                vec![h.clone()],
            ),
            Series::with_histograms(Labels::from_pairs([("a", "2")]), vec![], vec![h]),
        ];
        assert!(reject(&v, "sum()").is_err());
        assert!(drop_all(&mut v));
        assert_eq!(v.len(), 1);
        assert!(v[0].histograms.is_empty() && v[0].samples.len() == 1);
        assert!(!drop_all(&mut v));
        assert_eq!(
            unsupported("sum()").to_string(),
            "native histograms are not supported by sum() yet"
        );
        assert_eq!(
            incompatible_in_binop("float", "+", "histogram"),
            "incompatible sample types encountered for binary operator \"+\": float + histogram"
        );
    }
}
