//! Float statistics the aggregations and the functions share, computed as
//! Prometheus computes them: Kahan–Neumaier summation, the overflow-safe mean
//! of `avg` and `avg_over_time`, the φ-quantile of `quantile` and
//! `quantile_over_time`, and the NaN-last value order of `topk`/`bottomk` and
//! `sort`/`sort_desc`.

use std::cmp::Ordering;

/// One step of Kahan–Neumaier summation (Prometheus's `kahansum.Inc`): adds
/// `inc` to `sum` with running compensation `c`, giving the new sum and
/// compensation. Once the sum overflows to ±Inf the compensation is reset, so
/// that adding it back cannot turn the Inf into NaN.
pub(crate) fn kahan_inc(inc: f64, sum: f64, c: f64) -> (f64, f64) {
    let t = sum + inc;
    let c = if t.is_infinite() {
        0.0
    } else if sum.abs() >= inc.abs() {
        c + ((sum - t) + inc)
    } else {
        c + ((inc - t) + sum)
    };
    (t, c)
}

/// A running mean: Kahan sum and division while the sum stays finite; once
/// it would overflow, an incremental mean from there on (so finite inputs
/// near the float limit still average to a finite value).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Mean {
    sum: f64,
    c: f64,
    mean: f64,
    count: f64,
    incremental: bool,
}

impl Mean {
    /// The mean of one value.
    pub(crate) fn first(v: f64) -> Mean {
        Mean {
            sum: v,
            c: 0.0,
            mean: v,
            count: 1.0,
            incremental: false,
        }
    }

    /// Adds a further value.
    pub(crate) fn add(&mut self, v: f64) {
        self.count += 1.0;
        if !self.incremental {
            let (sum, c) = kahan_inc(v, self.sum, self.c);
            if !sum.is_infinite() {
                (self.sum, self.c) = (sum, c);
                return;
            }
            self.incremental = true;
            self.mean = self.sum / (self.count - 1.0);
            self.c /= self.count - 1.0;
        }
        let q = (self.count - 1.0) / self.count;
        (self.mean, self.c) = kahan_inc(v / self.count, q * self.mean, q * self.c);
    }

    /// The mean of the values so far.
    pub(crate) fn value(&self) -> f64 {
        if self.incremental {
            self.mean + self.c
        } else {
            self.sum / self.count + self.c / self.count
        }
    }
}

/// The φ-quantile of `values` (sorted in place) as Prometheus computes it:
/// NaN for no values or NaN φ, -Inf below 0, +Inf above 1, otherwise linear
/// interpolation between the two closest ranks. NaN sorts lowest.
pub(crate) fn quantile(phi: f64, values: &mut [f64]) -> f64 {
    if values.is_empty() || phi.is_nan() {
        return f64::NAN;
    }
    if phi < 0.0 {
        return f64::NEG_INFINITY;
    }
    if phi > 1.0 {
        return f64::INFINITY;
    }
    // Unstable is enough: only 0 and -0 (or NaNs) compare equal, and their
    // order cannot change the interpolated value.
    values.sort_unstable_by(nan_lowest);
    let n = values.len() as f64;
    let rank = phi * (n - 1.0);
    let lower = rank.floor().max(0.0);
    let upper = (lower + 1.0).min(n - 1.0);
    let weight = rank - rank.floor();
    // Both indexes are in [0, n-1] by construction.
    values[lower as usize] * (1.0 - weight) + values[upper as usize] * weight
}

/// NaN lowest, otherwise by value.
fn nan_lowest(a: &f64, b: &f64) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => a.partial_cmp(b).unwrap_or(Ordering::Equal),
    }
}

/// Orders values ascending (or descending), NaN after every number either
/// way; ties are equal, so a stable sort keeps input order.
pub(crate) fn nan_last(a: f64, b: f64, descending: bool) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        _ if descending => b.partial_cmp(&a).unwrap_or(Ordering::Equal),
        _ => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kahan_sum(vals: &[f64]) -> f64 {
        let (mut sum, mut c) = (0.0, 0.0);
        for &v in vals {
            (sum, c) = kahan_inc(v, sum, c);
        }
        sum + c
    }

    #[test]
    fn kahan_keeps_small_terms_next_to_large_ones() {
        assert_eq!(kahan_sum(&[1.0, 1e100, 1.0, -1e100]), 2.0);
        assert_eq!(kahan_sum(&[2.0, 8.0, 1e100, -1e100]), 10.0);
        // Naive summation loses both ones.
        assert_eq!([1.0, 1e100, 1.0, -1e100].iter().sum::<f64>(), 0.0);
        assert!(kahan_sum(&[f64::INFINITY, f64::NEG_INFINITY]).is_nan());
    }

    #[test]
    fn kahan_overflow_stays_infinite() {
        let (sum, c) = kahan_inc(f64::MAX, f64::MAX, 0.0);
        assert_eq!(sum, f64::INFINITY);
        assert_eq!(c, 0.0);
        let (sum, c) = kahan_inc(1.0, sum, c);
        assert_eq!(sum + c, f64::INFINITY);
    }

    fn mean(vals: &[f64]) -> f64 {
        let mut m = Mean::first(vals[0]);
        for &v in &vals[1..] {
            m.add(v);
        }
        m.value()
    }

    #[test]
    fn mean_switches_to_incremental_on_overflow() {
        let big = 9.988_465_674_311_58e307;
        assert_eq!(mean(&[big, big, big, big]), big);
        assert_eq!(mean(&[-big, -big, big, big]), 0.0);
        assert_eq!(
            mean(&[0.0, f64::INFINITY, f64::INFINITY, 0.0]),
            f64::INFINITY
        );
        assert!(mean(&[f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY]).is_nan());
        assert_eq!(mean(&[52.0; 11]), 52.0);
    }

    #[test]
    fn quantile_interpolates_and_bounds() {
        let mut v = [4.0, 1.0, 3.0, 2.0];
        assert_eq!(quantile(0.5, &mut v), 2.5);
        assert_eq!(quantile(0.0, &mut v), 1.0);
        assert_eq!(quantile(1.0, &mut v), 4.0);
        assert_eq!(quantile(0.25, &mut v), 1.75);
        assert_eq!(quantile(0.8, &mut [0.0, 1.0]), 0.8);
        assert!((quantile(0.8, &mut [4.0, 0.0, 1.0]) - 2.8).abs() < 1e-12);
        assert_eq!(quantile(-0.1, &mut v), f64::NEG_INFINITY);
        assert_eq!(quantile(1.1, &mut v), f64::INFINITY);
        assert_eq!(quantile(-1.0, &mut [1.0]), f64::NEG_INFINITY);
        assert_eq!(quantile(2.0, &mut [1.0]), f64::INFINITY);
        assert!(quantile(f64::NAN, &mut v).is_nan());
        assert!(quantile(0.5, &mut []).is_nan());
        assert_eq!(quantile(0.9, &mut [7.0]), 7.0);
    }

    #[test]
    fn quantile_sorts_nan_lowest() {
        let mut v = [2.0, f64::NAN, 1.0];
        assert!(quantile(0.0, &mut v).is_nan());
        assert_eq!(quantile(1.0, &mut v), 2.0);
        // Between NaN and 1.0 the interpolation is NaN.
        assert!(quantile(0.25, &mut v).is_nan());
        assert!((quantile(0.8, &mut [0.0, 1.0, f64::NAN]) - 0.6).abs() < 1e-12);
        assert!(quantile(0.2, &mut [0.0, 1.0, f64::NAN]).is_nan());
    }

    #[test]
    fn quantile_of_signed_zeros_does_not_depend_on_their_order() {
        for phi in [0.0, 0.5, 1.0] {
            let a = quantile(phi, &mut [0.0, -0.0, 1.0]);
            let b = quantile(phi, &mut [-0.0, 0.0, 1.0]);
            assert_eq!(a.to_bits(), b.to_bits(), "{phi}");
        }
        assert!(quantile(0.5, &mut [-0.0, -0.0]).is_sign_negative());
    }

    #[test]
    fn nan_sorts_last_both_ways() {
        let mut v = [1.0, f64::NAN, 3.0, 2.0];
        v.sort_by(|a, b| nan_last(*a, *b, true));
        assert_eq!(&v[..3], [3.0, 2.0, 1.0]);
        assert!(v[3].is_nan());
        v.sort_by(|a, b| nan_last(*a, *b, false));
        assert_eq!(&v[..3], [1.0, 2.0, 3.0]);
        assert!(v[3].is_nan());
    }
}
