//! `topk`, `bottomk`, `limitk`, `limit_ratio`: per group and step, a subset of
//! the input samples, which keep their series' labels. An instant query lists
//! them group by group, `topk` largest first and `bottomk` smallest first (NaN
//! last in both); a range query gives each input series the samples it kept.

use gofmt::go_g;
use model::Labels;
use promql_parser::parser::Expr;
use xxhash_rust::xxh64::xxh64;

use super::{Groups, ParamRange};
use crate::error::{EvalError, EvalResult};
use crate::eval::Evaluator;
use crate::grouping::{At, ByStep};
use crate::stats::nan_last;
use crate::value::Series;

/// Which selection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `topk`: the k largest.
    Top,
    /// `bottomk`: the k smallest.
    Bottom,
    /// `limitk`: the first k.
    Limit,
    /// `limit_ratio`: a deterministic share, by label hash.
    Ratio,
}

/// `float64(math.MaxInt64)` and `float64(math.MinInt64)` (both 2^63 in size).
const MAX_INT64: f64 = i64::MAX as f64;
const MIN_INT64: f64 = i64::MIN as f64;

/// Evaluates the selection with parameter `param` (k or the ratio) per step.
pub(super) fn eval(
    ev: &Evaluator<'_>,
    kind: Kind,
    input: &[Series],
    groups: &Groups<'_>,
    param: &[f64],
    node: &Expr,
) -> EvalResult<Vec<Series>> {
    let r = ParamRange::of(param);
    if kind == Kind::Ratio {
        if r.max == 0.0 && r.min == 0.0 {
            return Ok(Vec::new());
        }
        if r.any_nan {
            return Err(EvalError::exec("Ratio value is NaN"));
        }
        if r.max > 1.0 {
            ev.warn(&invalid_ratio(r.max, 1.0), node);
        }
        if r.min < -1.0 {
            ev.warn(&invalid_ratio(r.min, -1.0), node);
        }
    } else {
        // NaN compares false, so a NaN parameter falls through to its error.
        if r.max < 1.0 {
            return Ok(Vec::new());
        }
        if r.any_nan {
            return Err(EvalError::exec("Parameter value is NaN"));
        }
        if r.min <= MIN_INT64 {
            return Err(EvalError::exec(format!(
                "Scalar value {} underflows int64",
                go_g(r.min)
            )));
        }
        if r.max >= MAX_INT64 {
            return Err(EvalError::exec(format!(
                "Scalar value {} overflows int64",
                go_g(r.max)
            )));
        }
    }
    let offsets: Vec<f64> = if kind == Kind::Ratio {
        input.iter().map(|s| sample_offset(&s.labels)).collect()
    } else {
        Vec::new()
    };

    let steps = ev.steps;
    let n = steps.len();
    let by_step = ByStep::new(input, &steps);
    let mut cands: Vec<Vec<(f64, At)>> = vec![Vec::new(); groups.len()];
    let mut touched: Vec<usize> = Vec::new();
    // Instant query: the selection in output order. Range query: kept flags.
    let mut ordered: Vec<At> = Vec::new();
    let mut keep: Vec<Vec<bool>> = if n == 1 {
        Vec::new()
    } else {
        input.iter().map(|s| vec![false; s.samples.len()]).collect()
    };
    for i in 0..n {
        if i % 256 == 0 {
            ev.check_deadline()?;
        }
        let p = param.get(i).copied().unwrap_or(0.0);
        let (k, ratio) = match kind {
            Kind::Ratio if p == 0.0 => continue,
            Kind::Ratio => (0, p.clamp(-1.0, 1.0)),
            // Go's int64(f) truncates; bounds were checked above.
            _ => ((p.trunc() as i64).min(input.len() as i64), 0.0),
        };
        if kind != Kind::Ratio && k < 1 {
            continue;
        }
        for a in by_step.at(i) {
            let g = groups.ids[a.series as usize] as usize;
            if kind == Kind::Ratio && !ratio_keeps(ratio, offsets[a.series as usize]) {
                continue;
            }
            if cands[g].is_empty() {
                touched.push(g);
            }
            let v = input[a.series as usize].samples[a.sample as usize].v;
            cands[g].push((v, *a));
        }
        // Groups in order of first appearance, as Prometheus lists them.
        touched.sort_unstable();
        let k = usize::try_from(k).unwrap_or(0);
        for &g in &touched {
            let c = &mut cands[g];
            match kind {
                Kind::Top => c.sort_by(|a, b| nan_last(a.0, b.0, true)),
                Kind::Bottom => c.sort_by(|a, b| nan_last(a.0, b.0, false)),
                Kind::Limit | Kind::Ratio => {}
            }
            if kind != Kind::Ratio {
                c.truncate(k);
            }
            for (_, a) in c.iter() {
                if n == 1 {
                    ordered.push(*a);
                } else {
                    keep[a.series as usize][a.sample as usize] = true;
                }
            }
            c.clear();
        }
        touched.clear();
    }

    if n == 1 {
        return Ok(ordered
            .into_iter()
            .map(|a| {
                let s = &input[a.series as usize];
                Series {
                    labels: s.labels.clone(),
                    samples: vec![s.samples[a.sample as usize]],
                    histograms: Vec::new(),
                    drop_name: s.drop_name,
                }
            })
            .collect());
    }
    Ok(input
        .iter()
        .zip(keep)
        .filter_map(|(s, k)| {
            let samples: Vec<_> = s
                .samples
                .iter()
                .zip(k)
                .filter_map(|(p, kept)| kept.then_some(*p))
                .collect();
            (!samples.is_empty()).then(|| Series {
                labels: s.labels.clone(),
                samples,
                histograms: Vec::new(),
                drop_name: s.drop_name,
            })
        })
        .collect())
}

fn invalid_ratio(got: f64, to: f64) -> String {
    format!(
        "ratio value should be between -1 and 1, got {}, capping to {}",
        go_g(got),
        go_g(to)
    )
}

/// Whether `limit_ratio(ratio)` keeps a series with this sample offset: the
/// lowest share for a positive ratio, the highest for a negative one.
fn ratio_keeps(ratio: f64, offset: f64) -> bool {
    (ratio >= 0.0 && offset < ratio) || (ratio < 0.0 && offset >= 1.0 + ratio)
}

/// A series' place in [0, 1] for `limit_ratio`: Prometheus's label-set hash
/// (xxHash64 of its label encoding) over the largest u64.
fn sample_offset(labels: &Labels) -> f64 {
    prometheus_labels_hash(labels) as f64 / u64::MAX as f64
}

/// `labels.Labels.Hash()` of Prometheus's default build: xxHash64 of each name
/// and value, each preceded by its length (one byte below 255, else 255 and
/// three little-endian bytes).
fn prometheus_labels_hash(labels: &Labels) -> u64 {
    let mut buf = Vec::with_capacity(128);
    let mut put = |s: &str| {
        let n = s.len();
        if n < 255 {
            buf.push(n as u8);
        } else {
            buf.extend_from_slice(&[255, n as u8, (n >> 8) as u8, (n >> 16) as u8]);
        }
        buf.extend_from_slice(s.as_bytes());
    };
    for l in labels {
        put(&l.name);
        put(&l.value);
    }
    xxh64(&buf, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratio_halves_are_complements() {
        for off in [0.0, 0.1, 0.3, 0.5, 0.79, 0.8, 0.99] {
            assert_ne!(ratio_keeps(0.2, off), ratio_keeps(-0.8, off));
            assert_ne!(ratio_keeps(0.5, off), ratio_keeps(-0.5, off));
        }
        assert!(ratio_keeps(1.0, 0.999) && ratio_keeps(-1.0, 0.0));
    }

    #[test]
    fn label_hash_encoding() {
        // {a="b"} encodes as 01 'a' 01 'b'.
        let l = Labels::from_pairs([("a", "b")]);
        assert_eq!(prometheus_labels_hash(&l), xxh64(&[1, b'a', 1, b'b'], 0));
        let long = "x".repeat(300);
        let l = Labels::from_pairs([("a", long.as_str())]);
        let mut want = vec![1, b'a', 255, 44, 1, 0];
        want.extend_from_slice(long.as_bytes());
        assert_eq!(prometheus_labels_hash(&l), xxh64(&want, 0));
    }
}
