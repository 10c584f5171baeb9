//! `double_exponential_smoothing` (Holt's linear trend method) over a
//! window's float samples.

use gofmt::go_f;
use model::Sample;

use crate::error::{EvalError, EvalResult};

/// Checks the smoothing factor `sf` and trend factor `tf` are inside (0, 1),
/// with Prometheus's wording. NaN passes, as it does in Prometheus (every
/// comparison with it is false).
pub(super) fn check_factors(sf: f64, tf: f64) -> EvalResult<()> {
    if sf <= 0.0 || sf >= 1.0 {
        return Err(EvalError::exec(format!(
            "invalid smoothing factor. Expected: 0 < sf < 1, got: {}",
            go_f(sf)
        )));
    }
    if tf <= 0.0 || tf >= 1.0 {
        return Err(EvalError::exec(format!(
            "invalid trend factor. Expected: 0 < tf < 1, got: {}",
            go_f(tf)
        )));
    }
    Ok(())
}

/// The smoothed value at the last sample; `None` with fewer than two samples.
/// The trend starts as the first difference; each step blends the new sample
/// (weight `sf`) with the previous level plus trend, and the trend blends the
/// level's change (weight `tf`) with the previous trend.
pub(super) fn double_exponential_smoothing(samples: &[Sample], sf: f64, tf: f64) -> Option<f64> {
    if samples.len() < 2 {
        return None;
    }
    let mut prev_level = 0.0;
    let mut level = samples[0].v;
    let mut trend = samples[1].v - samples[0].v;
    for (i, p) in samples.iter().enumerate().skip(1) {
        // The first step keeps the initial trend; later ones update it.
        if i > 1 {
            trend = tf * (level - prev_level) + (1.0 - tf) * trend;
        }
        let next = sf * p.v + (1.0 - sf) * (level + trend);
        prev_level = level;
        level = next;
    }
    Some(level)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::functions::range::test_samples::every_second as s;

    #[test]
    fn linear_input_is_followed_exactly() {
        let v = s(&[0.0, 10.0, 20.0, 30.0, 40.0]);
        assert_eq!(double_exponential_smoothing(&v, 0.5, 0.5), Some(40.0));
        assert_eq!(double_exponential_smoothing(&v[..1], 0.5, 0.5), None);
    }

    #[test]
    fn hand_computed() {
        // level0 = 1, trend = 2; i=1: level = .5*3 + .5*(1+2) = 3;
        // i=2: trend = .5*(3-1) + .5*2 = 2; level = .5*4 + .5*(3+2) = 4.5.
        let v = s(&[1.0, 3.0, 4.0]);
        assert_eq!(double_exponential_smoothing(&v, 0.5, 0.5), Some(4.5));
    }

    #[test]
    fn factor_errors() {
        assert_eq!(
            check_factors(0.0, 0.5).map_err(|e| e.to_string()),
            Err("invalid smoothing factor. Expected: 0 < sf < 1, got: 0.000000".to_string())
        );
        assert_eq!(
            check_factors(0.5, 1.0).map_err(|e| e.to_string()),
            Err("invalid trend factor. Expected: 0 < tf < 1, got: 1.000000".to_string())
        );
        assert!(check_factors(f64::NAN, 0.5).is_ok());
        assert!(check_factors(0.1, 0.9).is_ok());
    }
}
