//! `sum`, `avg`, `min`, `max`, `count`, `group`, `stddev`, `stdvar`: one
//! accumulator per (group, step), filled series by series (so each cell sees
//! its inputs in series order, as Prometheus adds them). Steps are taken in
//! chunks so the accumulators stay small when there are many groups.

use model::Sample;

use super::Groups;
use crate::error::EvalResult;
use crate::eval::Evaluator;
use crate::grouping::step_of;
use crate::stats::{Mean, kahan_inc};
use crate::value::Series;

/// Which simple aggregation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Sum,
    Avg,
    Min,
    Max,
    Count,
    Group,
    Stddev,
    Stdvar,
}

/// Most accumulator cells held at once; more steps are done in chunks.
const MAX_CELLS: usize = 1 << 22;

const SEEN: u8 = 1;
const DROP: u8 = 2;

/// Aggregates `input` into one series per group.
pub(super) fn eval(
    ev: &Evaluator<'_>,
    kind: Kind,
    input: &[Series],
    groups: &Groups<'_>,
) -> EvalResult<Vec<Series>> {
    match kind {
        Kind::Sum => run::<Sum>(ev, input, groups, |a| a.sum + a.c),
        Kind::Avg => run::<Mean>(ev, input, groups, Mean::value),
        Kind::Min => run::<Min>(ev, input, groups, |a| a.0),
        Kind::Max => run::<Max>(ev, input, groups, |a| a.0),
        Kind::Count => run::<Count>(ev, input, groups, |a| a.0),
        Kind::Group => run::<Count>(ev, input, groups, |_| 1.0),
        Kind::Stdvar => run::<Var>(ev, input, groups, |a| a.m2 / a.count),
        Kind::Stddev => run::<Var>(ev, input, groups, |a| (a.m2 / a.count).sqrt()),
    }
}

/// A per-cell accumulator.
trait Acc: Copy + Default {
    /// The state after the first value.
    fn first(v: f64) -> Self;
    /// Adds a further value.
    fn add(&mut self, v: f64);
}

fn run<A: Acc>(
    ev: &Evaluator<'_>,
    input: &[Series],
    groups: &Groups<'_>,
    finish: impl Fn(&A) -> f64,
) -> EvalResult<Vec<Series>> {
    let steps = ev.steps;
    let n = steps.len();
    let ng = groups.len();
    if ng == 0 || n == 0 {
        return Ok(Vec::new());
    }
    let chunk = (MAX_CELLS / ng).clamp(1, n);
    let mut cells = vec![A::default(); ng * chunk];
    let mut flags = vec![0u8; ng * chunk];
    let mut out: Vec<Vec<Sample>> = vec![Vec::new(); ng];
    let mut drop_last = vec![false; ng];
    // Where each series' unread samples start: chunks go forward in time.
    let mut cursor = vec![0usize; input.len()];
    let mut c0 = 0;
    while c0 < n {
        let len = chunk.min(n - c0);
        flags.fill(0);
        for (si, s) in input.iter().enumerate() {
            if si % 1024 == 0 {
                ev.check_deadline()?;
            }
            let base = groups.ids[si] as usize * chunk;
            let drop = if s.drop_name { DROP } else { 0 };
            let mut used = 0;
            for p in &s.samples[cursor[si]..] {
                let Some(i) = step_of(&steps, p.t, n) else {
                    used += 1;
                    continue;
                };
                if i >= c0 + len {
                    break;
                }
                used += 1;
                if i < c0 {
                    continue;
                }
                let k = base + (i - c0);
                if flags[k] & SEEN == 0 {
                    cells[k] = A::first(p.v);
                    flags[k] = SEEN | drop;
                } else {
                    cells[k].add(p.v);
                    flags[k] |= drop;
                }
            }
            cursor[si] += used;
        }
        for g in 0..ng {
            for j in 0..len {
                let k = g * chunk + j;
                if flags[k] & SEEN != 0 {
                    out[g].push(Sample::new(steps.at(c0 + j), finish(&cells[k])));
                    // Prometheus sets the output's flag at every step; the last one stays.
                    drop_last[g] = flags[k] & DROP != 0;
                }
            }
        }
        c0 += len;
    }
    Ok(groups.series(out, drop_last))
}

#[derive(Clone, Copy, Default)]
struct Sum {
    sum: f64,
    c: f64,
}

impl Acc for Sum {
    fn first(v: f64) -> Self {
        Sum { sum: v, c: 0.0 }
    }
    fn add(&mut self, v: f64) {
        (self.sum, self.c) = kahan_inc(v, self.sum, self.c);
    }
}

/// `avg`: Prometheus's overflow-safe mean.
impl Acc for Mean {
    fn first(v: f64) -> Self {
        Mean::first(v)
    }
    fn add(&mut self, v: f64) {
        Mean::add(self, v);
    }
}

#[derive(Clone, Copy, Default)]
struct Min(f64);

impl Acc for Min {
    fn first(v: f64) -> Self {
        Min(v)
    }
    fn add(&mut self, v: f64) {
        // NaN only wins when nothing else is there.
        if self.0 > v || self.0.is_nan() {
            self.0 = v;
        }
    }
}

#[derive(Clone, Copy, Default)]
struct Max(f64);

impl Acc for Max {
    fn first(v: f64) -> Self {
        Max(v)
    }
    fn add(&mut self, v: f64) {
        if self.0 < v || self.0.is_nan() {
            self.0 = v;
        }
    }
}

#[derive(Clone, Copy, Default)]
struct Count(f64);

impl Acc for Count {
    fn first(_: f64) -> Self {
        Count(1.0)
    }
    fn add(&mut self, _: f64) {
        self.0 += 1.0;
    }
}

/// Welford's running variance; a NaN or infinite first value poisons it.
#[derive(Clone, Copy, Default)]
struct Var {
    count: f64,
    mean: f64,
    m2: f64,
}

impl Acc for Var {
    fn first(v: f64) -> Self {
        Var {
            count: 1.0,
            mean: v,
            m2: if v.is_finite() { 0.0 } else { f64::NAN },
        }
    }
    fn add(&mut self, v: f64) {
        self.count += 1.0;
        let delta = v - self.mean;
        self.mean += delta / self.count;
        self.m2 += delta * (v - self.mean);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fold<A: Acc>(vals: &[f64]) -> A {
        let mut a = A::first(vals[0]);
        for &v in &vals[1..] {
            a.add(v);
        }
        a
    }

    #[test]
    fn kahan_sum_keeps_small_terms() {
        let s: Sum = fold(&[2.0, 8.0, 1e100, -1e100]);
        assert_eq!(s.sum + s.c, 10.0);
        let s: Sum = fold(&[f64::INFINITY, f64::NEG_INFINITY]);
        assert!((s.sum + s.c).is_nan());
    }

    #[test]
    fn min_max_skip_nan() {
        let m: Max = fold(&[f64::NAN, 1.0, 3.0]);
        assert_eq!(m.0, 3.0);
        let m: Min = fold(&[2.0, f64::NAN, 1.0]);
        assert_eq!(m.0, 1.0);
    }

    #[test]
    fn variance() {
        let v: Var = fold(&[1.0, 2.0]);
        assert_eq!(v.m2 / v.count, 0.25);
        let v: Var = fold(&[f64::INFINITY, 1.0, 2.0]);
        assert!(v.m2.is_nan());
    }
}
