//! Arithmetic on the cumulative buckets of one classic histogram at one time:
//! the φ-quantile and the fraction between two bounds, assuming observations
//! spread evenly within a bucket, with Prometheus's special cases.

use std::cmp::Ordering;

/// One cumulative bucket: the count of observations `<= upper`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Bucket {
    /// The `le` bound.
    pub upper: f64,
    /// Observations at or below it.
    pub count: f64,
}

/// Where decreasing counts were raised to make the buckets monotonic.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Forced {
    /// Lowest bound whose count was raised.
    pub min_bucket: f64,
    /// Highest bound whose count was raised.
    pub max_bucket: f64,
    /// Largest amount a count was raised by.
    pub max_diff: f64,
}

/// Relative differences between neighbouring counts below this are float
/// noise (e.g. from sharded sums) and are evened out silently.
const SMALL_DELTA_TOLERANCE: f64 = 1e-12;

/// The φ-quantile of `buckets` (sorted and merged here), and whether the
/// counts had to be forced monotonic. NaN without a `+Inf` bucket, with fewer
/// than two buckets or no observations; -Inf for φ < 0, +Inf for φ > 1.
pub(crate) fn bucket_quantile(q: f64, buckets: &mut Vec<Bucket>) -> (f64, Option<Forced>) {
    if q.is_nan() {
        return (f64::NAN, None);
    }
    if q < 0.0 {
        return (f64::NEG_INFINITY, None);
    }
    if q > 1.0 {
        return (f64::INFINITY, None);
    }
    if !prepare(buckets) {
        return (f64::NAN, None);
    }
    let forced = make_monotonic(buckets);
    let n = buckets.len();
    if n < 2 {
        return (f64::NAN, forced);
    }
    let observations = buckets[n - 1].count;
    if observations == 0.0 {
        return (f64::NAN, forced);
    }
    let mut rank = q * observations;
    // The first bucket (not counting +Inf) holding the rank.
    let b = buckets[..n - 1].partition_point(|x| x.count < rank);
    let v = if b == n - 1 {
        buckets[n - 2].upper
    } else if b == 0 && buckets[0].upper <= 0.0 {
        buckets[0].upper
    } else {
        let end = buckets[b].upper;
        let mut count = buckets[b].count;
        let mut start = 0.0;
        if b > 0 {
            start = buckets[b - 1].upper;
            count -= buckets[b - 1].count;
            rank -= buckets[b - 1].count;
        }
        start + (end - start) * (rank / count)
    };
    (v, forced)
}

/// The estimated fraction of observations in `(lower, upper]`; NaN without a
/// `+Inf` bucket, without observations or for NaN bounds.
pub(crate) fn bucket_fraction(lower: f64, upper: f64, buckets: &mut Vec<Bucket>) -> f64 {
    if !prepare(buckets) {
        return f64::NAN;
    }
    let Some(last) = buckets.last() else {
        return f64::NAN;
    };
    let total = last.count;
    if total == 0.0 || lower.is_nan() || upper.is_nan() {
        return f64::NAN;
    }
    if lower >= upper {
        return 0.0;
    }
    let mut rank = 0.0;
    let (mut lower_rank, mut upper_rank) = (None, None);
    // Positive buckets start at 0; otherwise the first bucket reaches to -Inf.
    let mut lo = if buckets[0].upper <= 0.0 {
        f64::NEG_INFINITY
    } else {
        0.0
    };
    for (i, b) in buckets.iter().enumerate() {
        if i > 0 {
            lo = buckets[i - 1].upper;
        }
        let hi = b.upper;
        // Within an infinite-width bucket nothing can be interpolated: the
        // +Inf bucket contributes nothing (the formula gives that), and the
        // -Inf-based first bucket is taken whole.
        let interpolate = |v: f64| {
            if lo == f64::NEG_INFINITY {
                b.count
            } else {
                rank + (b.count - rank) * (v - lo) / (hi - lo)
            }
        };
        if lower_rank.is_none() && lo >= lower {
            lower_rank = Some(rank);
        }
        if upper_rank.is_none() && lo >= upper {
            upper_rank = Some(rank);
        }
        if lower_rank.is_some() && upper_rank.is_some() {
            break;
        }
        if lower_rank.is_none() && lo < lower && hi > lower {
            lower_rank = Some(interpolate(lower));
        }
        if upper_rank.is_none() && lo < upper && hi > upper {
            upper_rank = Some(interpolate(upper));
        }
        if lower_rank.is_some() && upper_rank.is_some() {
            break;
        }
        rank = b.count;
    }
    let clamp = |r: Option<f64>| match r {
        Some(r) if r <= total => r,
        _ => total,
    };
    (clamp(upper_rank) - clamp(lower_rank)) / total
}

/// Sorts by bound and merges equal bounds (`le="1"` and `le="1.0"`); false
/// when the highest bound is not +Inf (or there are no buckets).
fn prepare(buckets: &mut Vec<Bucket>) -> bool {
    buckets.sort_by(|a, b| a.upper.partial_cmp(&b.upper).unwrap_or(Ordering::Equal));
    if buckets.last().is_none_or(|b| b.upper != f64::INFINITY) {
        return false;
    }
    buckets.dedup_by(|next, kept| {
        let same = next.upper == kept.upper;
        if same {
            kept.count += next.count;
        }
        same
    });
    true
}

/// Evens out float noise between neighbours, then raises any count below its
/// predecessor's to it, so the binary search for the rank is meaningful.
fn make_monotonic(buckets: &mut [Bucket]) -> Option<Forced> {
    let mut forced: Option<Forced> = None;
    let mut prev = buckets.first()?.count;
    for b in buckets.iter_mut().skip(1) {
        let curr = b.count;
        if curr == prev {
            continue;
        }
        if almost_equal(prev, curr, SMALL_DELTA_TOLERANCE) {
            b.count = prev;
            continue;
        }
        if curr < prev {
            b.count = prev;
            let diff = prev - curr;
            let f = forced.get_or_insert(Forced {
                min_bucket: f64::INFINITY,
                max_bucket: f64::NEG_INFINITY,
                max_diff: 0.0,
            });
            f.min_bucket = f.min_bucket.min(b.upper);
            f.max_bucket = f.max_bucket.max(b.upper);
            f.max_diff = f.max_diff.max(diff);
            continue;
        }
        prev = curr;
    }
    forced
}

/// Prometheus's `almost.Equal`: equal, both NaN, or within `epsilon` relative
/// to their magnitude (absolute near zero).
fn almost_equal(a: f64, b: f64, epsilon: f64) -> bool {
    if (a.is_nan() && b.is_nan()) || a == b {
        return true;
    }
    let abs_sum = a.abs() + b.abs();
    let diff = (a - b).abs();
    if a == 0.0 || b == 0.0 || abs_sum < f64::MIN_POSITIVE {
        return diff < epsilon * f64::MIN_POSITIVE;
    }
    diff / abs_sum.min(f64::MAX) < epsilon
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bs(pairs: &[(f64, f64)]) -> Vec<Bucket> {
        pairs
            .iter()
            .map(|&(upper, count)| Bucket { upper, count })
            .collect()
    }

    #[test]
    fn quantile_interpolates_and_special_cases() {
        let b = bs(&[(0.1, 1.0), (0.2, 3.0), (f64::INFINITY, 4.0)]);
        let (v, f) = bucket_quantile(0.5, &mut b.clone());
        assert!((v - 0.15).abs() < 1e-12);
        assert!(f.is_none());
        // In the +Inf bucket: the highest finite bound.
        assert_eq!(bucket_quantile(1.0, &mut b.clone()).0, 0.2);
        assert_eq!(bucket_quantile(-0.1, &mut b.clone()).0, f64::NEG_INFINITY);
        assert_eq!(bucket_quantile(1.1, &mut b.clone()).0, f64::INFINITY);
        assert!(bucket_quantile(f64::NAN, &mut b.clone()).0.is_nan());
        // No +Inf bucket, one bucket, no observations.
        assert!(bucket_quantile(0.5, &mut bs(&[(1.0, 3.0)])).0.is_nan());
        assert!(
            bucket_quantile(0.5, &mut bs(&[(f64::INFINITY, 3.0)]))
                .0
                .is_nan()
        );
        assert!(
            bucket_quantile(0.5, &mut bs(&[(1.0, 0.0), (f64::INFINITY, 0.0)]))
                .0
                .is_nan()
        );
        // A lowest bound <= 0 is returned as is.
        assert_eq!(
            bucket_quantile(0.1, &mut bs(&[(-1.0, 5.0), (f64::INFINITY, 10.0)])).0,
            -1.0
        );
    }

    #[test]
    fn monotonicity_is_forced_and_reported() {
        // histograms.test's nonmonotonic_bucket at 50m.
        let mut b = bs(&[
            (0.1, 20.0),
            (1.0, 10.0),
            (10.0, 50.0),
            (100.0, 40.0),
            (1000.0, 90.0),
            (f64::INFINITY, 80.0),
        ]);
        let (v, f) = bucket_quantile(0.5, &mut b);
        assert!((v - 8.5).abs() < 1e-9, "{v}");
        let f = f.expect("forced");
        assert_eq!(
            (f.min_bucket, f.max_bucket, f.max_diff),
            (1.0, f64::INFINITY, 10.0)
        );
    }

    #[test]
    fn equal_bounds_merge() {
        let mut b = bs(&[(1.0, 1.0), (1.0, 2.0), (f64::INFINITY, 4.0)]);
        assert!(prepare(&mut b));
        assert_eq!(b, bs(&[(1.0, 3.0), (f64::INFINITY, 4.0)]));
    }

    #[test]
    fn fractions() {
        let b = bs(&[(1.0, 2.0), (2.0, 4.0), (f64::INFINITY, 4.0)]);
        assert_eq!(bucket_fraction(f64::NEG_INFINITY, 1.0, &mut b.clone()), 0.5);
        assert_eq!(bucket_fraction(0.5, 1.5, &mut b.clone()), 0.5);
        assert_eq!(bucket_fraction(2.0, 1.0, &mut b.clone()), 0.0);
        assert_eq!(
            bucket_fraction(f64::NEG_INFINITY, f64::INFINITY, &mut b.clone()),
            1.0
        );
        assert!(bucket_fraction(f64::NAN, 1.0, &mut b.clone()).is_nan());
        assert!(bucket_fraction(0.0, 1.0, &mut bs(&[(1.0, 2.0)])).is_nan());
    }

    #[test]
    fn almost_equal_tolerates_noise() {
        assert!(almost_equal(1.0, 1.0 + 1e-14, 1e-12));
        assert!(!almost_equal(1.0, 1.0 + 1e-9, 1e-12));
        assert!(almost_equal(f64::NAN, f64::NAN, 1e-12));
        assert!(!almost_equal(0.0, 1e-300, 1e-12));
    }
}
