//! Value-wise functions: `abs`, `ln`, trig, `round`, `clamp*`, `sgn`, ... and the
//! scalar helpers `max_of` / `min_of`. NaN and ±Inf behave as Go's `math`
//! package makes them behave in Prometheus.

use promql_parser::parser::Expr;

use super::{arg, at_step, map_samples};
use crate::error::{EvalError, EvalResult};
use crate::eval::Evaluator;
use crate::value::Value;

/// The one-argument function `name` applied to each sample.
pub(super) fn simple(ev: &Evaluator<'_>, name: &str, args: &[&Expr]) -> EvalResult<Value> {
    let f = simple_fn(name)
        .ok_or_else(|| EvalError::exec(format!("unknown function with name \"{name}\"")))?;
    let v = ev.eval_vector(arg(args, 0)?)?;
    map_samples(ev, v, |_, x| Some(f(x)))
}

/// The function behind each one-argument name.
fn simple_fn(name: &str) -> Option<fn(f64) -> f64> {
    Some(match name {
        "abs" => f64::abs,
        "ceil" => f64::ceil,
        "floor" => f64::floor,
        "exp" => f64::exp,
        "sqrt" => f64::sqrt,
        "ln" => f64::ln,
        "log2" => f64::log2,
        "log10" => f64::log10,
        "sin" => f64::sin,
        "cos" => f64::cos,
        "tan" => f64::tan,
        "asin" => f64::asin,
        "acos" => f64::acos,
        "atan" => f64::atan,
        "sinh" => f64::sinh,
        "cosh" => f64::cosh,
        "tanh" => f64::tanh,
        "asinh" => f64::asinh,
        "acosh" => f64::acosh,
        "atanh" => f64::atanh,
        // Prometheus multiplies before dividing; keep its rounding.
        "deg" => |x| x * 180.0 / std::f64::consts::PI,
        "rad" => |x| x * std::f64::consts::PI / 180.0,
        "sgn" => sgn,
        _ => return None,
    })
}

/// -1, 1, or the value itself for zeros and NaN.
fn sgn(x: f64) -> f64 {
    if x < 0.0 {
        -1.0
    } else if x > 0.0 {
        1.0
    } else {
        x
    }
}

/// `round(v, to_nearest = 1)`: ties round up, via the inverse of `to_nearest`
/// (Prometheus found that loses less precision than dividing).
pub(super) fn round(ev: &Evaluator<'_>, args: &[&Expr]) -> EvalResult<Value> {
    let v = ev.eval_vector(arg(args, 0)?)?;
    let to_nearest = match args.get(1) {
        Some(e) => ev.eval_scalar(e)?,
        None => vec![1.0; ev.steps.len()],
    };
    map_samples(ev, v, |i, x| Some(round_to(x, at_step(&to_nearest, i))))
}

fn round_to(x: f64, to_nearest: f64) -> f64 {
    let inv = 1.0 / to_nearest;
    (x * inv + 0.5).floor() / inv
}

/// `clamp(v, min, max)`, `clamp_min(v, min)`, `clamp_max(v, max)`. Where
/// `min > max` at a step the result is empty at that step.
pub(super) fn clamp(ev: &Evaluator<'_>, name: &str, args: &[&Expr]) -> EvalResult<Value> {
    let v = ev.eval_vector(arg(args, 0)?)?;
    let n = ev.steps.len();
    let (lo, hi) = match name {
        "clamp" => (
            ev.eval_scalar(arg(args, 1)?)?,
            ev.eval_scalar(arg(args, 2)?)?,
        ),
        "clamp_min" => (ev.eval_scalar(arg(args, 1)?)?, vec![f64::INFINITY; n]),
        _ => (vec![f64::NEG_INFINITY; n], ev.eval_scalar(arg(args, 1)?)?),
    };
    map_samples(ev, v, |i, x| {
        let (lo, hi) = (at_step(&lo, i), at_step(&hi, i));
        (hi >= lo || lo.is_nan() || hi.is_nan()).then(|| go_max(lo, go_min(hi, x)))
    })
}

/// `max_of(a, b)` / `min_of(a, b)` of two scalars.
pub(super) fn min_max_of(ev: &Evaluator<'_>, name: &str, args: &[&Expr]) -> EvalResult<Value> {
    let a = ev.eval_scalar(arg(args, 0)?)?;
    let b = ev.eval_scalar(arg(args, 1)?)?;
    let f = if name == "max_of" { go_max } else { go_min };
    Ok(Value::Scalar(
        a.iter().zip(&b).map(|(x, y)| f(*x, *y)).collect(),
    ))
}

/// Go's `math.Max`: +Inf wins, then NaN, and +0 beats -0.
pub(crate) fn go_max(a: f64, b: f64) -> f64 {
    if a == f64::INFINITY || b == f64::INFINITY {
        f64::INFINITY
    } else if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a == 0.0 && b == 0.0 {
        if a.is_sign_negative() { b } else { a }
    } else if a > b {
        a
    } else {
        b
    }
}

/// Go's `math.Min`: -Inf wins, then NaN, and -0 beats +0.
pub(crate) fn go_min(a: f64, b: f64) -> f64 {
    if a == f64::NEG_INFINITY || b == f64::NEG_INFINITY {
        f64::NEG_INFINITY
    } else if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a == 0.0 && b == 0.0 {
        if a.is_sign_negative() { a } else { b }
    } else if a < b {
        a
    } else {
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_min_max_nan_and_inf() {
        assert!(go_max(f64::NAN, 1.0).is_nan());
        assert_eq!(go_max(f64::NAN, f64::INFINITY), f64::INFINITY);
        assert_eq!(go_min(f64::NAN, f64::NEG_INFINITY), f64::NEG_INFINITY);
        assert!(go_min(1.0, f64::NAN).is_nan());
        assert!(go_max(-0.0, 0.0).is_sign_positive());
        assert!(go_min(0.0, -0.0).is_sign_negative());
        assert_eq!(go_max(2.0, 3.0), 3.0);
        assert_eq!(go_min(2.0, 3.0), 2.0);
    }

    #[test]
    fn rounding() {
        assert_eq!(round_to(2.5, 1.0), 3.0);
        assert_eq!(round_to(-2.5, 1.0), -2.0);
        assert_eq!(round_to(12.34, 0.1), 12.3);
        assert_eq!(round_to(17.0, 5.0), 15.0);
        assert!(round_to(f64::NAN, 1.0).is_nan());
    }

    #[test]
    fn signs() {
        assert_eq!(sgn(-3.0), -1.0);
        assert_eq!(sgn(f64::INFINITY), 1.0);
        assert!(sgn(f64::NAN).is_nan());
        assert_eq!(sgn(0.0), 0.0);
    }
}
