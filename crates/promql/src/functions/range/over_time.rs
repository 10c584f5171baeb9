//! The `*_over_time` aggregations, `changes` and `resets`, each over one
//! window's float samples (non-empty: the caller skips empty windows).

use model::Sample;

use crate::stats::{Mean, kahan_inc, quantile};

/// `sum_over_time`: Kahan–Neumaier sum; an infinite sum is returned as is so
/// the compensation cannot turn it into NaN.
pub(super) fn sum(samples: &[Sample]) -> f64 {
    let (mut sum, mut c) = (0.0, 0.0);
    for p in samples {
        (sum, c) = kahan_inc(p.v, sum, c);
    }
    if sum.is_infinite() { sum } else { sum + c }
}

/// `avg_over_time`: the compensated sum divided by the count, switching to an
/// incremental mean once the sum would overflow (so finite inputs near the
/// float limit still average to a finite value).
pub(super) fn avg(samples: &[Sample]) -> f64 {
    let Some((first, rest)) = samples.split_first() else {
        return f64::NAN;
    };
    let mut mean = Mean::first(first.v);
    for p in rest {
        mean.add(p.v);
    }
    mean.value()
}

/// `min_over_time`/`max_over_time` (`want_max`), and their `ts_of_` forms
/// (`want_ts`: the time in seconds of the last sample holding the extreme).
/// NaN loses to any number but is the result when all values are NaN.
pub(super) fn extreme(samples: &[Sample], want_max: bool, want_ts: bool) -> f64 {
    let Some(first) = samples.first() else {
        return f64::NAN;
    };
    let (mut best, mut best_t) = (first.v, first.t);
    for p in samples {
        let better = if want_max {
            if want_ts { p.v >= best } else { p.v > best }
        } else if want_ts {
            p.v <= best
        } else {
            p.v < best
        };
        if better || best.is_nan() {
            best = p.v;
            best_t = p.t;
        }
    }
    if want_ts {
        best_t as f64 / 1000.0
    } else {
        best
    }
}

/// `stdvar_over_time` (or `stddev_over_time` with `sqrt`): Welford's running
/// mean and squared deviations, both Kahan-compensated; population variance.
pub(super) fn variance(samples: &[Sample], sqrt: bool) -> f64 {
    let mut count = 0.0;
    let (mut mean, mut c_mean) = (0.0, 0.0);
    let (mut aux, mut c_aux) = (0.0, 0.0);
    for p in samples {
        count += 1.0;
        let delta = p.v - (mean + c_mean);
        (mean, c_mean) = kahan_inc(delta / count, mean, c_mean);
        (aux, c_aux) = kahan_inc(delta * (p.v - (mean + c_mean)), aux, c_aux);
    }
    let var = (aux + c_aux) / count;
    if sqrt { var.sqrt() } else { var }
}

/// `quantile_over_time`; `scratch` is reused across windows.
pub(super) fn quantile_of(samples: &[Sample], q: f64, scratch: &mut Vec<f64>) -> f64 {
    scratch.clear();
    scratch.extend(samples.iter().map(|p| p.v));
    quantile(q, scratch)
}

/// `mad_over_time`: the median of absolute deviations from the median; NaN
/// when any value is NaN (the median is then undefined).
pub(super) fn mad(samples: &[Sample], scratch: &mut Vec<f64>) -> f64 {
    if samples.iter().any(|p| p.v.is_nan()) {
        return f64::NAN;
    }
    scratch.clear();
    scratch.extend(samples.iter().map(|p| p.v));
    let median = quantile(0.5, scratch);
    for v in scratch.iter_mut() {
        *v = (*v - median).abs();
    }
    quantile(0.5, scratch)
}

/// `changes`: how often the value differs from the one before (NaN to NaN
/// is no change).
pub(super) fn changes(samples: &[Sample]) -> f64 {
    samples
        .windows(2)
        .filter(|w| w[1].v != w[0].v && !(w[1].v.is_nan() && w[0].v.is_nan()))
        .count() as f64
}

/// `resets`: how often the value went down.
pub(super) fn resets(samples: &[Sample]) -> f64 {
    samples.windows(2).filter(|w| w[1].v < w[0].v).count() as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::functions::range::test_samples::every_second as s;

    #[test]
    fn sum_is_compensated() {
        assert_eq!(sum(&s(&[1.0, 1e100, 1.0, -1e100])), 2.0);
        assert_eq!(sum(&s(&[f64::MAX, f64::MAX, -f64::MAX])), f64::INFINITY);
        assert!(sum(&s(&[f64::INFINITY, f64::NEG_INFINITY])).is_nan());
    }

    #[test]
    fn avg_direct_and_incremental() {
        assert_eq!(avg(&s(&[1.0, 2.0, 3.0, 4.0])), 2.5);
        assert_eq!(avg(&s(&[5.0])), 5.0);
        // The direct sum would overflow; the incremental mean does not.
        let big = avg(&s(&[f64::MAX, f64::MAX, f64::MAX]));
        assert!(big.is_finite() && (big / f64::MAX - 1.0).abs() < 1e-15);
        assert_eq!(avg(&s(&[1.0, 1e100, 1.0, -1e100])), 0.5);
        assert_eq!(avg(&s(&[f64::INFINITY, 1.0])), f64::INFINITY);
        assert!(avg(&s(&[f64::INFINITY, f64::NEG_INFINITY])).is_nan());
        assert!(avg(&s(&[1.0, f64::NAN])).is_nan());
    }

    #[test]
    fn extremes_and_their_times() {
        let v = s(&[f64::NAN, 3.0, 1.0, 3.0, 1.0]);
        assert_eq!(extreme(&v, true, false), 3.0);
        assert_eq!(extreme(&v, false, false), 1.0);
        // The last time the extreme was seen.
        assert_eq!(extreme(&v, true, true), 3.0);
        assert_eq!(extreme(&v, false, true), 4.0);
        assert!(extreme(&s(&[f64::NAN, f64::NAN]), true, false).is_nan());
        assert_eq!(extreme(&s(&[2.0, f64::NAN]), true, false), 2.0);
    }

    #[test]
    fn variance_population() {
        let v = s(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
        assert_eq!(variance(&v, false), 4.0);
        assert_eq!(variance(&v, true), 2.0);
        assert_eq!(variance(&s(&[3.0]), false), 0.0);
        assert!(variance(&s(&[1.0, f64::INFINITY]), false).is_nan());
    }

    #[test]
    fn quantile_and_mad() {
        let mut scratch = Vec::new();
        let v = s(&[1.0, 2.0, 3.0, 4.0, 100.0]);
        assert_eq!(quantile_of(&v, 0.5, &mut scratch), 3.0);
        assert_eq!(quantile_of(&v, 0.1, &mut scratch), 1.4);
        // Deviations from 3: 2 1 0 1 97 -> median 1.
        assert_eq!(mad(&v, &mut scratch), 1.0);
        assert!(mad(&s(&[1.0, f64::NAN]), &mut scratch).is_nan());
    }

    #[test]
    fn changes_and_resets() {
        let v = s(&[1.0, 1.0, 2.0, f64::NAN, f64::NAN, 0.0, 3.0]);
        // 1->2, 2->NaN, NaN->0, 0->3
        assert_eq!(changes(&v), 4.0);
        // Nothing goes down: comparisons with NaN are false.
        assert_eq!(resets(&v), 0.0);
        assert_eq!(resets(&s(&[5.0, 3.0, 4.0, 1.0])), 2.0);
        assert_eq!(changes(&s(&[5.0])), 0.0);
    }
}
