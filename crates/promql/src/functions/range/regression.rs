//! `deriv` and `predict_linear`: least-squares linear regression over a
//! window's float samples.

use model::{Sample, Timestamp};

use crate::stats::kahan_inc;

/// Slope (per second) and the value at `intercept_time` of the least-squares
/// line through `samples` (at least one). Times are taken relative to
/// `intercept_time` to keep the sums small and precise. A constant series has
/// slope 0, unless it is constantly ±Inf, which has no line at all (NaN).
pub(super) fn linear_regression(samples: &[Sample], intercept_time: Timestamp) -> (f64, f64) {
    let Some(first) = samples.first() else {
        return (f64::NAN, f64::NAN);
    };
    let init_y = first.v;
    // NaN != NaN, so a NaN anywhere after the first makes this false.
    let const_y = samples[1..].iter().all(|p| p.v == init_y);
    if const_y {
        if init_y.is_infinite() {
            return (f64::NAN, f64::NAN);
        }
        return (0.0, init_y);
    }
    let mut n = 0.0;
    let (mut sum_x, mut c_x) = (0.0, 0.0);
    let (mut sum_y, mut c_y) = (0.0, 0.0);
    let (mut sum_xy, mut c_xy) = (0.0, 0.0);
    let (mut sum_x2, mut c_x2) = (0.0, 0.0);
    for p in samples {
        n += 1.0;
        let x = (p.t - intercept_time) as f64 / 1e3;
        (sum_x, c_x) = kahan_inc(x, sum_x, c_x);
        (sum_y, c_y) = kahan_inc(p.v, sum_y, c_y);
        (sum_xy, c_xy) = kahan_inc(x * p.v, sum_xy, c_xy);
        (sum_x2, c_x2) = kahan_inc(x * x, sum_x2, c_x2);
    }
    sum_x += c_x;
    sum_y += c_y;
    sum_xy += c_xy;
    sum_x2 += c_x2;

    let cov_xy = sum_xy - sum_x * sum_y / n;
    let var_x = sum_x2 - sum_x * sum_x / n;
    let slope = cov_xy / var_x;
    let intercept = sum_y / n - slope * sum_x / n;
    (slope, intercept)
}

/// `deriv`: the per-second slope; `None` with fewer than two samples.
pub(super) fn deriv(samples: &[Sample]) -> Option<f64> {
    if samples.len() < 2 {
        return None;
    }
    // Relative to the first sample's time, for precision.
    Some(linear_regression(samples, samples[0].t).0)
}

/// `predict_linear`: the line's value `duration` seconds after `t` (the
/// evaluation time); `None` with fewer than two samples.
pub(super) fn predict_linear(samples: &[Sample], t: Timestamp, duration: f64) -> Option<f64> {
    if samples.len() < 2 {
        return None;
    }
    let (slope, intercept) = linear_regression(samples, t);
    Some(slope * duration + intercept)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::functions::range::test_samples::at as s;

    #[test]
    fn slope_and_prediction() {
        let v = s(&[(0, 0.0), (10_000, 20.0), (20_000, 40.0)]);
        assert_eq!(deriv(&v), Some(2.0));
        // At t = 20s the line is at 40; 5s later at 50.
        assert_eq!(predict_linear(&v, 20_000, 5.0), Some(50.0));
        assert_eq!(deriv(&v[..1]), None);
    }

    #[test]
    fn constant_series() {
        let v = s(&[(0, 3.0), (10_000, 3.0)]);
        assert_eq!(deriv(&v), Some(0.0));
        assert_eq!(predict_linear(&v, 60_000, 100.0), Some(3.0));
        let inf = s(&[(0, f64::INFINITY), (10_000, f64::INFINITY)]);
        assert!(deriv(&inf).is_some_and(f64::is_nan));
        assert!(predict_linear(&inf, 0, 1.0).is_some_and(f64::is_nan));
    }

    #[test]
    fn nan_and_inf_values() {
        let v = s(&[(0, 1.0), (10_000, f64::NAN)]);
        assert!(deriv(&v).is_some_and(f64::is_nan));
        let v = s(&[(0, 1.0), (10_000, f64::INFINITY)]);
        assert!(deriv(&v).is_some_and(f64::is_nan));
    }

    #[test]
    fn large_timestamps_stay_precise() {
        let base = 1_700_000_000_000;
        let v = s(&[(base, 1.0), (base + 15_000, 2.5), (base + 30_000, 4.0)]);
        assert_eq!(deriv(&v), Some(0.1));
    }
}
