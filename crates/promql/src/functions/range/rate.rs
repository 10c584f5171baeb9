//! `rate`, `increase`, `delta` (Prometheus's extrapolated rate) and `irate`,
//! `idelta` (the last two samples only), for float samples.

use model::{Sample, Timestamp};

/// How far to extrapolate past the samples: up to 10% more than the average
/// gap counts as "the series covers the window up to its edge".
const EXTRAPOLATION_SLACK: f64 = 1.1;

/// The increase (or per-second rate when `per_second`) over the window
/// `(range_start, range_end]` holding `samples`, extrapolated towards the
/// window's edges as Prometheus does. Counters (`is_counter`) add back the
/// value before each reset and are not extrapolated below zero. `None` with
/// fewer than two samples.
pub(super) fn extrapolated_rate(
    samples: &[Sample],
    range_start: Timestamp,
    range_end: Timestamp,
    range_secs: f64,
    is_counter: bool,
    per_second: bool,
) -> Option<f64> {
    let (first, last) = match samples {
        [first, .., last] => (*first, *last),
        _ => return None,
    };
    let mut result = last.v - first.v;
    if is_counter {
        for pair in samples.windows(2) {
            if pair[1].v < pair[0].v {
                result += pair[0].v;
            }
        }
    }

    let mut to_start = (first.t - range_start) as f64 / 1000.0;
    let mut to_end = (range_end - last.t) as f64 / 1000.0;
    let sampled = (last.t - first.t) as f64 / 1000.0;
    let avg_gap = sampled / (samples.len() - 1) as f64;
    let threshold = avg_gap * EXTRAPOLATION_SLACK;

    // A sample missing where one was due means the series starts (or ends)
    // inside the window: extrapolate only half a gap there.
    if to_start >= threshold {
        to_start = avg_gap / 2.0;
    }
    if is_counter {
        // A counter cannot go below zero: stop extrapolating where the
        // slope would reach it.
        let mut to_zero = to_start;
        if result > 0.0 && first.v >= 0.0 {
            to_zero = sampled * (first.v / result);
        }
        if to_zero < to_start {
            to_start = to_zero;
        }
    }
    if to_end >= threshold {
        to_end = avg_gap / 2.0;
    }

    let mut factor = 1.0;
    if sampled != 0.0 {
        factor = (sampled + to_start + to_end) / sampled;
    }
    if per_second {
        factor /= range_secs;
    }
    Some(result * factor)
}

/// `irate` (`per_second`) or `idelta`: from the last two samples. A counter
/// that went down counts from zero. `None` with fewer than two samples.
pub(super) fn instant_value(samples: &[Sample], per_second: bool) -> Option<f64> {
    let (prev, last) = match samples {
        [.., prev, last] => (*prev, *last),
        _ => return None,
    };
    let interval = last.t - prev.t;
    if interval == 0 {
        return None;
    }
    // Written so that NaN takes the difference branch, as Prometheus does.
    let value = if per_second && last.v < prev.v {
        last.v
    } else {
        last.v - prev.v
    };
    if per_second {
        Some(value / (interval as f64 / 1000.0))
    } else {
        Some(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::functions::range::test_samples::at as s;

    #[test]
    fn needs_two_samples() {
        assert_eq!(
            extrapolated_rate(&s(&[(10, 1.0)]), 0, 100, 0.1, true, true),
            None
        );
        assert_eq!(extrapolated_rate(&[], 0, 100, 0.1, true, true), None);
        assert_eq!(instant_value(&s(&[(10, 1.0)]), true), None);
    }

    #[test]
    fn full_coverage_extrapolates_to_edges() {
        // Samples every 10s at 10..=50 in (0, 60]: 1s-per-sample slope. The
        // window edges are within 1.1 gaps, so extrapolate all the way.
        let v = s(&[
            (10_000, 10.0),
            (20_000, 20.0),
            (30_000, 30.0),
            (40_000, 40.0),
            (50_000, 50.0),
        ]);
        let inc = extrapolated_rate(&v, 0, 60_000, 60.0, false, false);
        assert_eq!(inc, Some(60.0));
        let rate = extrapolated_rate(&v, 0, 60_000, 60.0, false, true);
        assert_eq!(rate, Some(1.0));
    }

    #[test]
    fn gap_at_edge_extrapolates_half_a_gap() {
        // Series starts at 40s in (0, 60]; gap 10s: extend 5s left, 10s right (< 11s).
        let v = s(&[(40_000, 4.0), (50_000, 5.0)]);
        let delta = extrapolated_rate(&v, 0, 60_000, 60.0, false, false);
        // sampled 10s, plus 5 + 10 -> factor 2.5
        assert_eq!(delta, Some(2.5));
    }

    #[test]
    fn counter_not_extrapolated_below_zero() {
        // Counter 1 -> 3 over 10s; to zero is 5s back, less than 10s to the start.
        let v = s(&[(10_000, 1.0), (20_000, 3.0)]);
        let inc = extrapolated_rate(&v, 0, 20_000, 20.0, true, false);
        // (10 + 5 + 0) / 10 * 2
        assert_eq!(inc, Some(3.0));
        // As a gauge it extrapolates the full 10s.
        let delta = extrapolated_rate(&v, 0, 20_000, 20.0, false, false);
        assert_eq!(delta, Some(4.0));
    }

    #[test]
    fn counter_resets_add_back() {
        let v = s(&[(10_000, 5.0), (20_000, 8.0), (30_000, 2.0), (40_000, 4.0)]);
        // 4 - 5 + 8 = 7 over 30s, window (10, 40] exactly: factor 1.
        let inc = extrapolated_rate(&v, 10_000 - 1, 40_000, 30.0, true, false);
        assert!((inc.unwrap_or(0.0) - 7.0 * (30.001 / 30.0)).abs() < 1e-12);
        let delta = extrapolated_rate(&v, 9_999, 40_000, 30.0, false, false);
        assert!((delta.unwrap_or(0.0) + 1.0 * (30.001 / 30.0)).abs() < 1e-12);
    }

    #[test]
    fn nan_propagates() {
        let v = s(&[(10_000, 1.0), (20_000, f64::NAN), (30_000, 3.0)]);
        let r = extrapolated_rate(&v, 0, 30_000, 30.0, true, true);
        assert_eq!(r.map(f64::is_nan), Some(false));
        let v = s(&[(10_000, 1.0), (20_000, f64::NAN)]);
        let r = extrapolated_rate(&v, 0, 30_000, 30.0, true, true);
        assert_eq!(r.map(f64::is_nan), Some(true));
    }

    #[test]
    fn irate_and_idelta() {
        let v = s(&[(0, 1.0), (10_000, 5.0), (20_000, 2.0)]);
        // Reset: irate counts from zero.
        assert_eq!(instant_value(&v, true), Some(0.2));
        assert_eq!(instant_value(&v, false), Some(-3.0));
        let v = s(&[(0, 1.0), (5_000, 11.0)]);
        assert_eq!(instant_value(&v, true), Some(2.0));
        let v = s(&[(0, 1.0), (5_000, f64::NAN)]);
        assert_eq!(instant_value(&v, true).map(f64::is_nan), Some(true));
    }
}
