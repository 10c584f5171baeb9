//! Native histograms with float counts, as Prometheus's `histogram.FloatHistogram`:
//! exponential bucket schemas (-4..=8) and custom buckets (schema -53), bucket
//! layout in spans, absolute bucket counts.
//!
//! - this file: the types, bucket boundaries and bucket iteration;
//! - `arith`: addition, subtraction, scaling, compaction, equality and the
//!   counter-reset hint a stored sample reads back with;
//! - `text`: the `{{...}}` notation of test files (parse and Prometheus's
//!   `TestExpression`).

mod arith;
mod text;

use std::sync::Arc;

use crate::sample::{Timestamp, is_stale_nan};

pub use arith::stored_counter_reset_hint;
pub use text::{HistogramParseError, ParsedHistogram, parse_histogram};

/// The schema of histograms with custom bucket boundaries (`custom_values`).
pub const CUSTOM_BUCKETS_SCHEMA: i32 = -53;
/// Lowest exponential schema.
pub const EXPONENTIAL_SCHEMA_MIN: i32 = -4;
/// Highest exponential schema.
pub const EXPONENTIAL_SCHEMA_MAX: i32 = 8;

/// What is known about a counter reset between this histogram and the one before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CounterResetHint {
    /// Nothing is known (the default).
    #[default]
    Unknown,
    /// The counter was reset.
    Reset,
    /// The counter was not reset.
    NotReset,
    /// A gauge histogram: resets do not apply.
    Gauge,
}

impl CounterResetHint {
    /// The name the test notation uses (`unknown`, `reset`, `not_reset`, `gauge`).
    pub fn as_str(self) -> &'static str {
        match self {
            CounterResetHint::Unknown => "unknown",
            CounterResetHint::Reset => "reset",
            CounterResetHint::NotReset => "not_reset",
            CounterResetHint::Gauge => "gauge",
        }
    }
}

/// A run of consecutive buckets: `offset` buckets after the previous span's end
/// (from index 0 for the first span), `length` buckets long.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// Gap to the previous span (or the first bucket index for the first span).
    pub offset: i32,
    /// Number of buckets in the span.
    pub length: u32,
}

/// Errors of histogram arithmetic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HistogramError {
    /// One histogram has exponential buckets, the other custom ones.
    #[error(
        "cannot apply this operation on histograms with a mix of exponential and custom bucket schemas"
    )]
    IncompatibleSchema,
    /// Two custom-bucket histograms with different boundaries.
    #[error("adding histograms with different custom bucket boundaries is not supported yet")]
    CustomBoundsMismatch,
}

/// A native histogram with float counts.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FloatHistogram {
    /// Counter reset information.
    pub counter_reset_hint: CounterResetHint,
    /// Bucket schema: -4..=8 (exponential) or -53 (custom buckets).
    pub schema: i32,
    /// Half-width of the zero bucket.
    pub zero_threshold: f64,
    /// Observations in the zero bucket.
    pub zero_count: f64,
    /// Total number of observations.
    pub count: f64,
    /// Sum of observations (the staleness marker when a stale sample).
    pub sum: f64,
    /// Layout of the positive buckets.
    pub positive_spans: Vec<Span>,
    /// Layout of the negative buckets.
    pub negative_spans: Vec<Span>,
    /// Absolute counts of the positive buckets, in span order.
    pub positive_buckets: Vec<f64>,
    /// Absolute counts of the negative buckets, in span order.
    pub negative_buckets: Vec<f64>,
    /// Upper bucket boundaries for the custom-buckets schema (empty otherwise).
    pub custom_values: Vec<f64>,
}

/// One bucket with its boundaries.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    /// Lower boundary.
    pub lower: f64,
    /// Upper boundary.
    pub upper: f64,
    /// The lower boundary belongs to the bucket.
    pub lower_inclusive: bool,
    /// The upper boundary belongs to the bucket.
    pub upper_inclusive: bool,
    /// Observations in the bucket.
    pub count: f64,
    /// The bucket's index in its schema.
    pub index: i32,
}

/// One histogram sample of a series.
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramSample {
    /// When, in milliseconds since the epoch.
    pub t: Timestamp,
    /// The histogram, shared: selectors and steps hand the same one around.
    pub h: Arc<FloatHistogram>,
}

impl HistogramSample {
    /// A sample at `t`.
    pub fn new(t: Timestamp, h: Arc<FloatHistogram>) -> Self {
        HistogramSample { t, h }
    }
}

impl FloatHistogram {
    /// True for the custom-buckets schema.
    pub fn uses_custom_buckets(&self) -> bool {
        self.schema == CUSTOM_BUCKETS_SCHEMA
    }

    /// True when this is a staleness marker (its sum is the stale NaN).
    pub fn is_stale(&self) -> bool {
        is_stale_nan(self.sum)
    }

    /// The upper boundary of positive bucket `idx` in this histogram's schema.
    pub fn bound(&self, idx: i32) -> f64 {
        if self.uses_custom_buckets() {
            let len = self.custom_values.len() as i64;
            return match i64::from(idx) {
                i if i >= len => f64::INFINITY,
                i if i < 0 => f64::NEG_INFINITY,
                i => self.custom_values[i as usize],
            };
        }
        exponential_bound(idx, self.schema)
    }

    /// The positive buckets, ascending.
    pub fn positive_bucket_iter(&self) -> impl Iterator<Item = Bucket> + '_ {
        indexed(&self.positive_spans, &self.positive_buckets).map(move |(idx, count)| {
            let (lower, upper) = (self.bound(idx - 1), self.bound(idx));
            let custom = self.uses_custom_buckets();
            Bucket {
                lower,
                upper,
                lower_inclusive: if custom { idx == 0 } else { lower < 0.0 },
                upper_inclusive: if custom { true } else { upper > 0.0 },
                count,
                index: idx,
            }
        })
    }

    /// The negative buckets, from the zero bucket downwards.
    pub fn negative_bucket_iter(&self) -> impl Iterator<Item = Bucket> + '_ {
        indexed(&self.negative_spans, &self.negative_buckets).map(move |(idx, count)| {
            let (lower, upper) = (-self.bound(idx), -self.bound(idx - 1));
            Bucket {
                lower,
                upper,
                lower_inclusive: lower < 0.0,
                upper_inclusive: upper > 0.0,
                count,
                index: idx,
            }
        })
    }

    /// The zero bucket (exponential schemas only).
    pub fn zero_bucket(&self) -> Bucket {
        Bucket {
            lower: -self.zero_threshold,
            upper: self.zero_threshold,
            lower_inclusive: true,
            upper_inclusive: true,
            count: self.zero_count,
            index: 0,
        }
    }

    /// Every bucket from the lowest up: negative ones, the zero bucket when
    /// populated, positive ones. Buckets overlapping the zero bucket are clipped
    /// to its threshold (Prometheus's `AllBucketIterator`).
    pub fn all_buckets(&self) -> Vec<Bucket> {
        let zt = self.zero_threshold;
        let clip = |mut b: Bucket| {
            if b.upper < 0.0 && b.upper > -zt {
                b.upper = -zt;
            } else if b.lower > 0.0 && b.lower < zt {
                b.lower = zt;
            }
            b
        };
        let mut out: Vec<Bucket> = self.negative_bucket_iter().map(clip).collect();
        out.reverse();
        if self.zero_count > 0.0 {
            out.push(self.zero_bucket());
        }
        out.extend(self.positive_bucket_iter().map(clip));
        out
    }
}

/// `(bucket index, count)` of every bucket a span layout describes, ascending.
/// Stops early when there are fewer counts than the spans promise.
pub(crate) fn indexed<'a>(
    spans: &'a [Span],
    buckets: &'a [f64],
) -> impl Iterator<Item = (i32, f64)> + 'a {
    let mut idx: i32 = 0;
    spans
        .iter()
        .enumerate()
        .flat_map(move |(k, s)| {
            // The first bucket of a span follows the previous span's last one by `offset + 1`.
            idx = if k == 0 {
                s.offset
            } else {
                idx.saturating_add(s.offset)
            };
            let start = idx;
            idx = idx.saturating_add(s.length as i32);
            (0..s.length as i32).map(move |i| start.saturating_add(i))
        })
        .zip(buckets.iter().copied())
}

/// The upper boundary of bucket `idx` in exponential schema `schema`:
/// 2^(idx / 2^schema). The last finite bucket ends at `f64::MAX`, as in Prometheus.
pub fn exponential_bound(idx: i32, schema: i32) -> f64 {
    // Shifts are clamped: a literal may carry any schema, and none may panic.
    let schema = i64::from(schema).clamp(-62, 62);
    if schema < 0 {
        let exp = i64::from(idx).saturating_mul(1 << -schema);
        if exp == 1024 {
            return f64::MAX;
        }
        return ldexp(1.0, exp);
    }
    let per_octave = 1i64 << schema;
    let frac_idx = i64::from(idx) & (per_octave - 1);
    // A fraction in [0.5, 1): 2^(frac_idx / 2^schema - 1).
    let frac = (frac_idx as f64 / per_octave as f64 - 1.0).exp2();
    let exp = (i64::from(idx) >> schema) + 1;
    if frac == 0.5 && exp == 1025 {
        return f64::MAX;
    }
    ldexp(frac, exp)
}

/// `frac * 2^exp` without overflowing the intermediate power.
fn ldexp(frac: f64, exp: i64) -> f64 {
    let mut v = frac;
    let mut e = exp.clamp(-2200, 2200);
    while e > 1000 {
        v *= 2f64.powi(1000);
        e -= 1000;
    }
    while e < -1000 {
        v *= 2f64.powi(-1000);
        e += 1000;
    }
    v * 2f64.powi(e as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exponential_bounds() {
        assert_eq!(exponential_bound(0, 0), 1.0);
        assert_eq!(exponential_bound(1, 0), 2.0);
        assert_eq!(exponential_bound(-1, 0), 0.5);
        assert_eq!(exponential_bound(1, 1), std::f64::consts::SQRT_2);
        assert_eq!(exponential_bound(2, 1), 2.0);
        assert_eq!(exponential_bound(1, -1), 4.0);
        assert_eq!(exponential_bound(1024, 0), f64::MAX);
        assert_eq!(exponential_bound(1025, 0), f64::INFINITY);
        assert_eq!(exponential_bound(-1074, 0), f64::from_bits(1));
        // Schemas no histogram should have still give a bound rather than a panic.
        assert_eq!(exponential_bound(i32::MAX, i32::MIN), f64::INFINITY);
        assert!(exponential_bound(i32::MIN, i32::MAX) > 0.0);
    }

    #[test]
    fn buckets_in_order_with_bounds() {
        let h = FloatHistogram {
            schema: 0,
            zero_threshold: 0.001,
            zero_count: 2.0,
            positive_spans: vec![
                Span {
                    offset: 0,
                    length: 2,
                },
                Span {
                    offset: 1,
                    length: 1,
                },
            ],
            positive_buckets: vec![1.0, 2.0, 3.0],
            negative_spans: vec![Span {
                offset: 1,
                length: 1,
            }],
            negative_buckets: vec![4.0],
            ..FloatHistogram::default()
        };
        let all: Vec<(f64, f64, f64)> = h
            .all_buckets()
            .iter()
            .map(|b| (b.lower, b.upper, b.count))
            .collect();
        assert_eq!(
            all,
            [
                (-2.0, -1.0, 4.0),
                (-0.001, 0.001, 2.0),
                (0.5, 1.0, 1.0),
                (1.0, 2.0, 2.0),
                (4.0, 8.0, 3.0),
            ]
        );
        let custom = FloatHistogram {
            schema: CUSTOM_BUCKETS_SCHEMA,
            custom_values: vec![1.0, 5.0],
            positive_spans: vec![Span {
                offset: 0,
                length: 3,
            }],
            positive_buckets: vec![1.0, 0.0, 2.0],
            ..FloatHistogram::default()
        };
        let b: Vec<(f64, f64, bool)> = custom
            .positive_bucket_iter()
            .map(|b| (b.lower, b.upper, b.lower_inclusive))
            .collect();
        assert_eq!(
            b,
            [
                (f64::NEG_INFINITY, 1.0, true),
                (1.0, 5.0, false),
                (5.0, f64::INFINITY, false)
            ]
        );
    }
}
