//! Histogram arithmetic with Prometheus's semantics: `Add`/`Sub` (schema and
//! zero-bucket reconciliation, counter-reset hints), `Mul`/`Div`, `Compact`,
//! `Equals`, and the hint a sample reads back with from a TSDB chunk.
//!
//! Buckets are handled as `(index, count)` lists in index order rather than by
//! walking spans in place as Go does: the span layout that results may be cut
//! differently, but every bucket gets the same additions in the same order, so
//! compacted results and their printed forms agree.

use std::collections::BTreeMap;

use super::{CounterResetHint, FloatHistogram, HistogramError, Span, indexed};

/// `(bucket index, count)` pairs, index ascending.
type Pairs = Vec<(i32, f64)>;

impl FloatHistogram {
    /// Adds `other` into `self` (Go's `FloatHistogram.Add`). Returns true on a
    /// counter-reset hint collision (one side `reset`, the other `not_reset`).
    pub fn add(&mut self, other: &FloatHistogram) -> Result<bool, HistogramError> {
        self.combine(other, false)
    }

    /// Subtracts `other` from `self` (Go's `FloatHistogram.Sub`; the hint is set
    /// as for `add`, the caller marks a PromQL `-` result as a gauge).
    pub fn sub(&mut self, other: &FloatHistogram) -> Result<bool, HistogramError> {
        self.combine(other, true)
    }

    fn combine(&mut self, other: &FloatHistogram, negate: bool) -> Result<bool, HistogramError> {
        if self.uses_custom_buckets() != other.uses_custom_buckets() {
            return Err(HistogramError::IncompatibleSchema);
        }
        if self.uses_custom_buckets() && self.custom_values != other.custom_values {
            return Err(HistogramError::CustomBoundsMismatch);
        }
        let collision = self.adjust_counter_reset(other);
        let sign = if negate { -1.0 } else { 1.0 };
        if !self.uses_custom_buckets() {
            let other_zero = self.reconcile_zero_buckets(other);
            if negate {
                self.zero_count -= other_zero;
            } else {
                self.zero_count += other_zero;
            }
        }
        if negate {
            self.count -= other.count;
            self.sum -= other.sum;
        } else {
            self.count += other.count;
            self.sum += other.sum;
        }
        let mut pos_self = pairs(&self.positive_spans, &self.positive_buckets);
        let mut neg_self = pairs(&self.negative_spans, &self.negative_buckets);
        let mut pos_other = pairs(&other.positive_spans, &other.positive_buckets);
        let mut neg_other = pairs(&other.negative_spans, &other.negative_buckets);
        if !self.uses_custom_buckets() {
            if other.schema < self.schema {
                pos_self = reduce(&pos_self, self.schema, other.schema);
                neg_self = reduce(&neg_self, self.schema, other.schema);
                self.schema = other.schema;
            } else if other.schema > self.schema {
                pos_other = reduce(&pos_other, other.schema, self.schema);
                neg_other = reduce(&neg_other, other.schema, self.schema);
            }
        }
        let pos = self.add_pairs(pos_self, &pos_other, sign);
        let neg = self.add_pairs(neg_self, &neg_other, sign);
        (self.positive_spans, self.positive_buckets) = spans_of(&pos);
        (self.negative_spans, self.negative_buckets) = spans_of(&neg);
        Ok(collision)
    }

    /// Go's `addBuckets`: `b`'s leading buckets that lie inside the zero bucket
    /// are skipped (their counts are already in the zero count); existing
    /// buckets get `sign * count` added, missing ones are inserted.
    fn add_pairs(&self, a: Pairs, b: &[(i32, f64)], sign: f64) -> Pairs {
        let mut out: BTreeMap<i32, f64> = a.into_iter().collect();
        let mut leading = true;
        for &(idx, count) in b {
            if leading
                && !self.uses_custom_buckets()
                && super::exponential_bound(idx, self.schema) <= self.zero_threshold
            {
                continue;
            }
            leading = false;
            let c = count * sign;
            out.entry(idx).and_modify(|v| *v += c).or_insert(c);
        }
        out.into_iter().collect()
    }

    /// Go's `adjustCounterReset`: the hint of a sum or difference.
    fn adjust_counter_reset(&mut self, other: &FloatHistogram) -> bool {
        use CounterResetHint::*;
        let (a, b) = (self.counter_reset_hint, other.counter_reset_hint);
        // Go's order of cases: a gauge on either side wins over unknown.
        if a == b || a == Gauge {
            return false;
        }
        if b == Gauge {
            self.counter_reset_hint = Gauge;
            return false;
        }
        if a == Unknown {
            return false;
        }
        if b == Unknown {
            self.counter_reset_hint = Unknown;
            return false;
        }
        // `reset` against `not_reset`.
        self.counter_reset_hint = Unknown;
        true
    }

    /// Go's `reconcileZeroBuckets`: widens the narrower zero bucket (of `self`,
    /// or virtually of `other`) until both thresholds agree and neither falls
    /// inside a populated bucket. Returns `other`'s zero count at that threshold.
    fn reconcile_zero_buckets(&mut self, other: &FloatHistogram) -> f64 {
        let mut other_zero = other.zero_count;
        let mut other_threshold = other.zero_threshold;
        // Each round only widens a threshold to a populated bucket's edge, so it ends;
        // a NaN threshold compares with nothing, so it stops the loop instead.
        while other_threshold != self.zero_threshold {
            let mut progressed = false;
            if self.zero_threshold > other_threshold {
                (other_zero, other_threshold) = other.zero_count_for_threshold(self.zero_threshold);
                progressed = true;
            }
            if other_threshold > self.zero_threshold {
                (self.zero_count, self.zero_threshold) =
                    self.zero_count_for_threshold(other_threshold);
                self.trim_buckets_in_zero_bucket();
                progressed = true;
            }
            if !progressed {
                break;
            }
        }
        other_zero
    }

    /// Go's `zeroCountForLargerThreshold`: the zero count if the zero bucket
    /// grew to `threshold` (moved up to the end of a populated bucket it would
    /// cut), and that threshold.
    fn zero_count_for_threshold(&self, mut threshold: f64) -> (f64, f64) {
        if threshold == self.zero_threshold {
            return (self.zero_count, threshold);
        }
        'outer: loop {
            let mut zero = self.zero_count;
            for b in self.positive_bucket_iter() {
                if b.lower >= threshold {
                    break;
                }
                zero += b.count;
                if b.upper > threshold {
                    if b.count != 0.0 {
                        threshold = b.upper;
                    }
                    break;
                }
            }
            for b in self.negative_bucket_iter() {
                if b.upper <= -threshold {
                    break;
                }
                zero += b.count;
                if b.lower < -threshold {
                    if b.count != 0.0 {
                        threshold = -b.lower;
                        continue 'outer;
                    }
                    break;
                }
            }
            return (zero, threshold);
        }
    }

    /// Drops the buckets now inside the zero bucket (their counts were moved to it).
    fn trim_buckets_in_zero_bucket(&mut self) {
        let zt = self.zero_threshold;
        let pos: Pairs = self
            .positive_bucket_iter()
            .filter(|b| b.lower >= zt)
            .map(|b| (b.index, b.count))
            .collect();
        let neg: Pairs = self
            .negative_bucket_iter()
            .filter(|b| b.upper <= -zt)
            .map(|b| (b.index, b.count))
            .collect();
        (self.positive_spans, self.positive_buckets) = spans_of(&pos);
        (self.negative_spans, self.negative_buckets) = spans_of(&neg);
    }

    /// Scales every count and the sum by `factor` (Go's `Mul`); a negative
    /// factor makes the result a gauge.
    pub fn mul(&mut self, factor: f64) {
        self.zero_count *= factor;
        self.count *= factor;
        self.sum *= factor;
        self.positive_buckets.iter_mut().for_each(|b| *b *= factor);
        self.negative_buckets.iter_mut().for_each(|b| *b *= factor);
        if factor < 0.0 {
            self.counter_reset_hint = CounterResetHint::Gauge;
        }
    }

    /// Divides every count and the sum by `divisor` (Go's `Div`); dividing by
    /// zero drops the buckets.
    pub fn div(&mut self, divisor: f64) {
        self.zero_count /= divisor;
        self.count /= divisor;
        self.sum /= divisor;
        if divisor == 0.0 {
            self.positive_buckets.clear();
            self.negative_buckets.clear();
            self.positive_spans.clear();
            self.negative_spans.clear();
            return;
        }
        self.positive_buckets.iter_mut().for_each(|b| *b /= divisor);
        self.negative_buckets.iter_mut().for_each(|b| *b /= divisor);
        if divisor < 0.0 {
            self.counter_reset_hint = CounterResetHint::Gauge;
        }
    }

    /// Go's `Compact(max_empty)`: drops empty buckets and cuts spans wherever
    /// more than `max_empty` empty buckets would sit between populated ones.
    pub fn compact(&mut self, max_empty: usize) {
        (self.positive_spans, self.positive_buckets) = compact_pairs(
            &pairs(&self.positive_spans, &self.positive_buckets),
            max_empty,
        );
        (self.negative_spans, self.negative_buckets) = compact_pairs(
            &pairs(&self.negative_spans, &self.negative_buckets),
            max_empty,
        );
    }

    /// Go's `Equals`: the same data bit for bit (the hint is not compared); span
    /// layouts may differ if they describe the same buckets.
    pub fn equals(&self, other: &FloatHistogram) -> bool {
        let same_buckets = |sa: &[Span], ba: &[f64], sb: &[Span], bb: &[f64]| {
            let a = pairs(sa, ba);
            let b = pairs(sb, bb);
            a.len() == b.len()
                && a.iter()
                    .zip(&b)
                    .all(|(x, y)| x.0 == y.0 && x.1.to_bits() == y.1.to_bits())
        };
        self.schema == other.schema
            && self.count.to_bits() == other.count.to_bits()
            && self.sum.to_bits() == other.sum.to_bits()
            && (!self.uses_custom_buckets() || self.custom_values == other.custom_values)
            && self.zero_threshold == other.zero_threshold
            && self.zero_count.to_bits() == other.zero_count.to_bits()
            && same_buckets(
                &self.negative_spans,
                &self.negative_buckets,
                &other.negative_spans,
                &other.negative_buckets,
            )
            && same_buckets(
                &self.positive_spans,
                &self.positive_buckets,
                &other.positive_spans,
                &other.positive_buckets,
            )
    }

    /// Go's `DetectReset` for histograms of equal schema and zero threshold
    /// (what a TSDB chunk needs): a count, the zero count or a bucket went down,
    /// or a populated bucket disappeared.
    fn decreased_from(&self, prev: &FloatHistogram) -> bool {
        if self.count < prev.count || self.zero_count < prev.zero_count {
            return true;
        }
        let dropped = |cur: Pairs, old: Pairs| {
            let cur: BTreeMap<i32, f64> = cur.into_iter().collect();
            old.iter().any(|(i, c)| match cur.get(i) {
                Some(v) => v < c,
                None => *c != 0.0,
            })
        };
        dropped(
            pairs(&self.positive_spans, &self.positive_buckets),
            pairs(&prev.positive_spans, &prev.positive_buckets),
        ) || dropped(
            pairs(&self.negative_spans, &self.negative_buckets),
            pairs(&prev.negative_spans, &prev.negative_buckets),
        )
    }
}

/// The counter-reset hint `h` reads back with from a Prometheus TSDB after being
/// appended right after `prev` (the series' previous sample when that was a
/// histogram): a gauge stays a gauge; a histogram that starts a chunk reads as
/// `unknown` (first in its series, after a float, after an explicit or detected
/// reset, or on a schema, zero-threshold or bucket-boundary change); any other
/// reads as `not_reset`. Chunks cut for size are not modelled.
pub fn stored_counter_reset_hint(
    prev: Option<&FloatHistogram>,
    h: &FloatHistogram,
) -> CounterResetHint {
    if h.counter_reset_hint == CounterResetHint::Gauge {
        return CounterResetHint::Gauge;
    }
    let Some(prev) = prev else {
        return CounterResetHint::Unknown;
    };
    let new_chunk = prev.counter_reset_hint == CounterResetHint::Gauge
        || h.counter_reset_hint == CounterResetHint::Reset
        || prev.is_stale()
        || h.is_stale()
        || h.schema != prev.schema
        || h.zero_threshold != prev.zero_threshold
        || (h.uses_custom_buckets() && h.custom_values != prev.custom_values)
        || h.decreased_from(prev);
    if new_chunk {
        CounterResetHint::Unknown
    } else {
        CounterResetHint::NotReset
    }
}

fn pairs(spans: &[Span], buckets: &[f64]) -> Pairs {
    indexed(spans, buckets).collect()
}

/// Go's `reduceResolution` on absolute counts: buckets that fall into one
/// bucket of the lower schema are summed in index order.
fn reduce(p: &[(i32, f64)], from: i32, to: i32) -> Pairs {
    let shift = (i64::from(from) - i64::from(to)).clamp(0, 62);
    let mut out: Pairs = Vec::with_capacity(p.len());
    for &(idx, c) in p {
        // In i64: an index at the edge of i32 must not overflow.
        let t = (((i64::from(idx) - 1) >> shift) + 1) as i32;
        match out.last_mut() {
            Some(last) if last.0 == t => last.1 += c,
            _ => out.push((t, c)),
        }
    }
    out
}

/// A span layout for `(index, count)` pairs (index ascending), empty buckets kept.
fn spans_of(p: &[(i32, f64)]) -> (Vec<Span>, Vec<f64>) {
    let mut spans: Vec<Span> = Vec::new();
    let mut next = 0i32;
    for &(idx, _) in p {
        match spans.last_mut() {
            Some(s) if idx == next => s.length += 1,
            Some(_) => spans.push(Span {
                offset: idx.saturating_sub(next),
                length: 1,
            }),
            None => spans.push(Span {
                offset: idx,
                length: 1,
            }),
        }
        next = idx.saturating_add(1);
    }
    (spans, p.iter().map(|x| x.1).collect())
}

/// Go's `compactBuckets` result: populated buckets, gaps of at most `max_empty`
/// empty buckets filled with zeros, longer gaps left between spans.
fn compact_pairs(p: &[(i32, f64)], max_empty: usize) -> (Vec<Span>, Vec<f64>) {
    let mut filled: Pairs = Vec::new();
    for &(idx, c) in p.iter().filter(|x| x.1 != 0.0) {
        if let Some(&(last, _)) = filled.last() {
            let gap = i64::from(idx) - i64::from(last) - 1;
            if gap > 0 && gap as u64 <= max_empty as u64 {
                filled.extend((last + 1..idx).map(|i| (i, 0.0)));
            }
        }
        filled.push((idx, c));
    }
    spans_of(&filled)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(schema: i32, offset: i32, buckets: &[f64]) -> FloatHistogram {
        FloatHistogram {
            schema,
            count: buckets.iter().sum(),
            sum: 1.0,
            positive_spans: vec![Span {
                offset,
                length: buckets.len() as u32,
            }],
            positive_buckets: buckets.to_vec(),
            ..FloatHistogram::default()
        }
    }

    #[test]
    fn add_merges_layouts_and_sums() {
        let mut a = h(0, 0, &[1.0, 2.0]);
        let b = h(0, 3, &[5.0]);
        assert_eq!(a.add(&b), Ok(false));
        assert_eq!(
            pairs(&a.positive_spans, &a.positive_buckets),
            [(0, 1.0), (1, 2.0), (3, 5.0)]
        );
        assert_eq!(
            a.positive_spans,
            [
                Span {
                    offset: 0,
                    length: 2
                },
                Span {
                    offset: 1,
                    length: 1
                }
            ]
        );
        assert_eq!((a.count, a.sum), (8.0, 2.0));
        a.sub(&b).expect("same schema");
        assert_eq!(
            pairs(&a.positive_spans, &a.positive_buckets)[2],
            (3, 0.0),
            "subtraction keeps the emptied bucket until compacted"
        );
        a.compact(0);
        assert_eq!(a.positive_buckets, [1.0, 2.0]);
    }

    #[test]
    fn add_reduces_to_the_lower_schema() {
        // Schema 1 buckets 1..=4 are schema 0 buckets 1, 1, 2, 2.
        let mut a = h(1, 1, &[1.0, 2.0, 3.0, 4.0]);
        let b = h(0, 1, &[10.0]);
        a.add(&b).expect("exponential");
        assert_eq!(a.schema, 0);
        assert_eq!(
            pairs(&a.positive_spans, &a.positive_buckets),
            [(1, 13.0), (2, 7.0)]
        );
    }

    #[test]
    fn add_widens_the_zero_bucket() {
        let mut a = h(0, -1, &[1.0, 2.0]); // (0.25,0.5], (0.5,1]
        a.zero_threshold = 0.1;
        let mut b = h(0, 2, &[4.0]);
        b.zero_threshold = 0.5;
        b.zero_count = 3.0;
        a.add(&b).expect("exponential");
        assert_eq!(a.zero_threshold, 0.5);
        assert_eq!(a.zero_count, 4.0);
        assert_eq!(
            pairs(&a.positive_spans, &a.positive_buckets),
            [(0, 2.0), (2, 4.0)]
        );
    }

    #[test]
    fn nan_zero_threshold_does_not_hang() {
        let mut a = h(0, 0, &[1.0]);
        a.zero_threshold = f64::NAN;
        a.add(&h(0, 0, &[1.0])).expect("exponential");
        assert_eq!(a.count, 2.0);
    }

    #[test]
    fn hints_and_errors() {
        use CounterResetHint::*;
        let with = |hint| FloatHistogram {
            counter_reset_hint: hint,
            ..FloatHistogram::default()
        };
        let mut a = with(Reset);
        assert_eq!(a.add(&with(NotReset)), Ok(true));
        assert_eq!(a.counter_reset_hint, Unknown);
        let mut a = with(NotReset);
        a.add(&with(Gauge)).expect("ok");
        assert_eq!(a.counter_reset_hint, Gauge);
        let mut a = with(Unknown);
        a.add(&with(Gauge)).expect("ok");
        assert_eq!(a.counter_reset_hint, Gauge);
        let mut a = with(NotReset);
        a.add(&with(Unknown)).expect("ok");
        assert_eq!(a.counter_reset_hint, Unknown);
        let mut a = with(NotReset);
        a.add(&with(NotReset)).expect("ok");
        assert_eq!(a.counter_reset_hint, NotReset);
        let mut custom = with(Unknown);
        custom.schema = super::super::CUSTOM_BUCKETS_SCHEMA;
        assert_eq!(
            with(Unknown).add(&custom),
            Err(HistogramError::IncompatibleSchema)
        );
        let mut a = with(NotReset);
        a.mul(-1.0);
        assert_eq!(a.counter_reset_hint, Gauge);
    }

    #[test]
    fn compaction_and_equality() {
        let mut a = h(0, 0, &[0.0, 1.0, 0.0, 0.0, 2.0, 0.0]);
        let b = a.clone();
        a.compact(2);
        assert_eq!(
            (a.positive_spans.clone(), a.positive_buckets.clone()),
            (
                vec![Span {
                    offset: 1,
                    length: 4
                }],
                vec![1.0, 0.0, 0.0, 2.0]
            )
        );
        assert!(!a.equals(&b), "the empty buckets are part of the layout");
        let mut c = b.clone();
        c.compact(1);
        assert_eq!(c.positive_spans.len(), 2);
        a.compact(0);
        c.compact(0);
        assert!(a.equals(&c));
    }

    #[test]
    fn stored_hints() {
        use CounterResetHint::*;
        let a = h(0, 0, &[1.0, 2.0]);
        let grown = h(0, 0, &[2.0, 2.0, 1.0]);
        assert_eq!(stored_counter_reset_hint(None, &a), Unknown);
        assert_eq!(stored_counter_reset_hint(Some(&a), &a), NotReset);
        assert_eq!(stored_counter_reset_hint(Some(&a), &grown), NotReset);
        assert_eq!(stored_counter_reset_hint(Some(&grown), &a), Unknown);
        assert_eq!(
            stored_counter_reset_hint(Some(&a), &h(1, 0, &[1.0, 2.0])),
            Unknown
        );
        let mut gauge = a.clone();
        gauge.counter_reset_hint = Gauge;
        assert_eq!(stored_counter_reset_hint(Some(&grown), &gauge), Gauge);
    }
}
