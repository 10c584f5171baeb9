//! Numeric building blocks the range functions share: Kahan–Neumaier
//! summation, Prometheus's quantile interpolation, and Go's `Duration.Seconds()`.

/// One step of Kahan–Neumaier summation: adds `inc` to `sum` with running
/// compensation `c`. Once the sum overflows to ±Inf the compensation is reset,
/// so that adding it back cannot turn the Inf into NaN.
pub(super) fn kahan_inc(inc: f64, sum: f64, c: f64) -> (f64, f64) {
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

/// The φ-quantile of `values` (sorted in place) as Prometheus computes it:
/// NaN for no values or NaN φ, -Inf below 0, +Inf above 1, otherwise linear
/// interpolation between the two closest ranks. NaNs sort first.
pub(super) fn quantile(q: f64, values: &mut [f64]) -> f64 {
    if values.is_empty() || q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    sort_nan_first(values);
    let n = values.len() as f64;
    let rank = q * (n - 1.0);
    let lower = rank.floor().max(0.0);
    let upper = (lower + 1.0).min(n - 1.0);
    let weight = rank - rank.floor();
    // Both indexes are in [0, n-1] by construction.
    values[lower as usize] * (1.0 - weight) + values[upper as usize] * weight
}

/// Sorts ascending with NaNs first, the order Prometheus's value heap gives.
fn sort_nan_first(values: &mut [f64]) {
    values.sort_unstable_by(|a, b| match (a.is_nan(), b.is_nan()) {
        (true, true) => std::cmp::Ordering::Equal,
        (true, false) => std::cmp::Ordering::Less,
        (false, true) => std::cmp::Ordering::Greater,
        (false, false) => a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal),
    });
}

/// A duration in ms as Go's `Duration.Seconds()` gives it: whole seconds plus
/// the fraction, each rounded once (the result can differ from `ms / 1000` in
/// the last bit, and rates divide by it).
pub(super) fn duration_seconds(ms: i64) -> f64 {
    let secs = ms / 1000;
    let nanos = (ms % 1000) * 1_000_000;
    secs as f64 + nanos as f64 / 1e9
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kahan_keeps_small_terms_next_to_large_ones() {
        let (mut sum, mut c) = (0.0, 0.0);
        for v in [1.0, 1e100, 1.0, -1e100] {
            (sum, c) = kahan_inc(v, sum, c);
        }
        assert_eq!(sum + c, 2.0);
        // Naive summation loses both ones.
        assert_eq!([1.0, 1e100, 1.0, -1e100].iter().sum::<f64>(), 0.0);
    }

    #[test]
    fn kahan_overflow_stays_infinite() {
        let (sum, c) = kahan_inc(f64::MAX, f64::MAX, 0.0);
        assert_eq!(sum, f64::INFINITY);
        assert_eq!(c, 0.0);
        let (sum, c) = kahan_inc(1.0, sum, c);
        assert_eq!(sum + c, f64::INFINITY);
    }

    #[test]
    fn quantile_interpolates_and_bounds() {
        let mut v = [4.0, 1.0, 3.0, 2.0];
        assert_eq!(quantile(0.5, &mut v), 2.5);
        assert_eq!(quantile(0.0, &mut v), 1.0);
        assert_eq!(quantile(1.0, &mut v), 4.0);
        assert_eq!(quantile(0.25, &mut v), 1.75);
        assert_eq!(quantile(-0.1, &mut v), f64::NEG_INFINITY);
        assert_eq!(quantile(1.1, &mut v), f64::INFINITY);
        assert!(quantile(f64::NAN, &mut v).is_nan());
        assert!(quantile(0.5, &mut []).is_nan());
        let mut one = [7.0];
        assert_eq!(quantile(0.9, &mut one), 7.0);
    }

    #[test]
    fn quantile_sorts_nan_first() {
        let mut v = [2.0, f64::NAN, 1.0];
        assert!(quantile(0.0, &mut v).is_nan());
        assert_eq!(quantile(1.0, &mut v), 2.0);
        // Between NaN and 1.0 the interpolation is NaN.
        assert!(quantile(0.25, &mut v).is_nan());
    }

    #[test]
    fn go_duration_seconds() {
        assert_eq!(duration_seconds(300_000), 300.0);
        assert_eq!(duration_seconds(1_500), 1.5);
        assert_eq!(duration_seconds(100), 0.1);
    }
}
