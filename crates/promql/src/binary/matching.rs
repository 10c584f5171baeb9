//! Vector/vector arithmetic and comparisons. At each step every sample of the
//! "many" side (the left, or the right for `group_right`) is joined with the
//! sample of the "one" side that has its match signature, or with a fill
//! value; with `fill_left`/`fill_right`, unmatched "one" samples are joined
//! with a fill value too. Signatures are interned once per series and the
//! result labels once per pair of series, so a step costs array lookups only.

use std::collections::HashMap;

use model::{Labels, LabelsBuilder, Sample, Timestamp};

use super::{Card, METADATA_LABELS, Matching, Op};
use crate::error::{EvalError, EvalResult};
use crate::eval::{Evaluator, duplicate_labelset};
use crate::grouping::ByStep;
use crate::labels_string::go_labels;
use crate::value::Series;

/// No series: the side is a fill value.
const NONE: u32 = u32::MAX;

/// Evaluates `lhs op rhs` for an arithmetic or comparison operator.
pub(super) fn eval(
    ev: &Evaluator<'_>,
    op: Op,
    lhs: Vec<Series>,
    rhs: Vec<Series>,
    m: &Matching,
    return_bool: bool,
) -> EvalResult<Vec<Series>> {
    let has_fill = m.fill_lhs.is_some() || m.fill_rhs.is_some();
    if (lhs.is_empty() && rhs.is_empty()) || ((lhs.is_empty() || rhs.is_empty()) && !has_fill) {
        return Ok(Vec::new());
    }
    let steps = ev.steps;
    let n = steps.len();
    let (lsig, rsig, nsig) = m.signatures(&lhs, &rhs);

    // One-to-many is many-to-one with the sides swapped; values are swapped
    // back before the operator applies. Fill values are not swapped: `fill_right`
    // always fills the "one" side, `fill_left` the "many" side (as Prometheus).
    let swapped = m.card == Card::OneToMany;
    let (many, one, msig, osig) = if swapped {
        (&rhs[..], &lhs[..], &rsig, &lsig)
    } else {
        (&lhs[..], &rhs[..], &lsig, &rsig)
    };
    let msteps = ByStep::new(many, &steps);
    let osteps = ByStep::new(one, &steps);
    let delayed = ev.opts().delayed_name_removal;
    let mut join = Join {
        op,
        m,
        swapped,
        return_bool,
        drops_name: op.is_arithmetic() || (return_bool && !delayed),
        many,
        one,
        matched: vec![0; nsig],
        outs: Vec::new(),
        by_labels: HashMap::new(),
        by_pair: HashMap::new(),
        last: vec![(NONE, NONE); many.len()],
    };
    let mut one_stamp = vec![0u32; nsig];
    let mut one_at = vec![(0u32, 0u32); nsig];

    for i in 0..n {
        if i % 256 == 0 {
            ev.check_deadline()?;
        }
        let (ms, os) = (msteps.at(i), osteps.at(i));
        if (ms.is_empty() && os.is_empty()) || ((ms.is_empty() || os.is_empty()) && !has_fill) {
            continue;
        }
        let stamp = i as u32 + 1;
        let t = steps.at(i);
        for a in os {
            let sig = osig[a.series as usize] as usize;
            if one_stamp[sig] == stamp {
                return Err(duplicate_on_one_side(
                    m,
                    swapped,
                    &one[a.series as usize].labels,
                    &one[one_at[sig].0 as usize].labels,
                ));
            }
            one_stamp[sig] = stamp;
            one_at[sig] = (a.series, a.sample);
        }
        for a in ms {
            let sig = msig[a.series as usize];
            let fm = many[a.series as usize].samples[a.sample as usize].v;
            let (one_key, fo) = if one_stamp[sig as usize] == stamp {
                let (s, p) = one_at[sig as usize];
                (s, one[s as usize].samples[p as usize].v)
            } else if let Some(f) = m.fill_rhs {
                (NONE, f)
            } else {
                continue;
            };
            join.apply(a.series, one_key, sig, fm, fo, stamp, t)?;
        }
        if let Some(f) = m.fill_lhs {
            for a in os {
                let sig = osig[a.series as usize];
                if join.matched[sig as usize] == stamp {
                    continue;
                }
                let fo = one[a.series as usize].samples[a.sample as usize].v;
                join.apply(NONE, a.series, sig, f, fo, stamp, t)?;
            }
        }
    }
    let drop_flag = return_bool && delayed;
    Ok(join
        .outs
        .into_iter()
        .filter(|o| !o.samples.is_empty())
        .map(|o| Series {
            labels: o.labels,
            samples: o.samples,
            histograms: Vec::new(),
            drop_name: drop_flag,
        })
        .collect())
}

/// One output series while it is being built.
struct Out {
    labels: Labels,
    samples: Vec<Sample>,
    /// Stamp of the step it last got a sample at.
    emitted: u32,
    /// Stamp of the step and signature it was last matched for (many-to-one).
    matched: u32,
    matched_sig: u32,
}

/// The state of a join over the steps.
struct Join<'a> {
    op: Op,
    m: &'a Matching,
    swapped: bool,
    return_bool: bool,
    /// Remove the metric name from result labels now.
    drops_name: bool,
    many: &'a [Series],
    one: &'a [Series],
    /// `matched[sig] == stamp`: the signature was joined at this step.
    matched: Vec<u32>,
    outs: Vec<Out>,
    by_labels: HashMap<Labels, u32>,
    by_pair: HashMap<(u32, u32), u32>,
    /// Per "many" series: the "one" key and output of its last pair, which
    /// usually is its pair at the next step too.
    last: Vec<(u32, u32)>,
}

impl Join<'_> {
    /// Joins one pair at one step (Prometheus's `doBinOp`).
    #[allow(clippy::too_many_arguments)]
    fn apply(
        &mut self,
        many_key: u32,
        one_key: u32,
        sig: u32,
        fm: f64,
        fo: f64,
        stamp: u32,
        t: Timestamp,
    ) -> EvalResult<()> {
        let (fl, fr) = if self.swapped { (fo, fm) } else { (fm, fo) };
        let (mut value, mut keep) = self.op.elem(fl, fr);
        if self.return_bool {
            value = if keep { 1.0 } else { 0.0 };
            keep = true;
        }
        let out = self.output(many_key, one_key) as usize;
        let sig_matched = &mut self.matched[sig as usize];
        if self.m.card == Card::OneToOne {
            if *sig_matched == stamp {
                return Err(EvalError::exec(
                    "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)",
                ));
            }
        } else {
            let o = &mut self.outs[out];
            if o.matched == stamp && o.matched_sig == sig {
                return Err(EvalError::exec(
                    "multiple matches for labels: grouping labels must ensure unique matches",
                ));
            }
            o.matched = stamp;
            o.matched_sig = sig;
        }
        *sig_matched = stamp;
        if !keep {
            return Ok(());
        }
        let o = &mut self.outs[out];
        if o.emitted == stamp {
            return Err(duplicate_labelset());
        }
        o.emitted = stamp;
        o.samples.push(Sample::new(t, value));
        Ok(())
    }

    /// The output series of a pair, created on first use.
    fn output(&mut self, many_key: u32, one_key: u32) -> u32 {
        if let Some(&(o, out)) = self.last.get(many_key as usize)
            && o == one_key
            && out != NONE
        {
            return out;
        }
        let out = match self.by_pair.get(&(many_key, one_key)) {
            Some(&out) => out,
            None => {
                let labels = self.result_labels(many_key, one_key);
                let next = self.outs.len() as u32;
                let out = *self.by_labels.entry(labels.clone()).or_insert(next);
                if out == next {
                    self.outs.push(Out {
                        labels,
                        samples: Vec::new(),
                        emitted: 0,
                        matched: 0,
                        matched_sig: NONE,
                    });
                }
                self.by_pair.insert((many_key, one_key), out);
                out
            }
        };
        if let Some(slot) = self.last.get_mut(many_key as usize) {
            *slot = (one_key, out);
        }
        out
    }

    /// Prometheus's `resultMetric`: the "many" side's labels, without the name
    /// for arithmetic (and `bool`), reduced to the matching labels for
    /// one-to-one, plus the `group_x` labels of the "one" side. A filled side
    /// has the matching labels of the other side.
    fn result_labels(&self, many_key: u32, one_key: u32) -> Labels {
        let subset = &self.m.subset;
        let one_labels = self.one.get(one_key as usize).map(|s| &s.labels);
        let many_labels = self.many.get(many_key as usize).map(|s| &s.labels);
        let ls = match (many_labels, one_labels) {
            (Some(l), _) => l.clone(),
            (None, Some(r)) => subset.project(r),
            (None, None) => Labels::empty(),
        };
        let filled_one;
        let rs = match (one_labels, many_labels) {
            (Some(r), _) => r,
            (None, Some(l)) => {
                filled_one = subset.project(l);
                &filled_one
            }
            (None, None) => return ls,
        };
        let mut b = LabelsBuilder::new(ls);
        if self.drops_name {
            for name in METADATA_LABELS {
                b.del(name);
            }
        }
        if self.m.card == Card::OneToOne {
            if self.m.on {
                b.retain(|l| self.m.names.iter().any(|n| *n == l.name));
            } else {
                for name in &self.m.names {
                    b.del(name);
                }
            }
        }
        for name in &self.m.include {
            match rs.get(name) {
                Some(v) => {
                    b.set(name.as_str(), v);
                }
                None => {
                    b.del(name);
                }
            }
        }
        b.build()
    }
}

/// Prometheus's error for two "one"-side samples with one signature at one step.
fn duplicate_on_one_side(m: &Matching, swapped: bool, a: &Labels, b: &Labels) -> EvalError {
    let group = go_labels(&m.subset.project(a));
    let (mut d1, mut d2) = (go_labels(a), go_labels(b));
    if d1 > d2 {
        std::mem::swap(&mut d1, &mut d2);
    }
    let side = if swapped { "left" } else { "right" };
    EvalError::exec(format!(
        "found duplicate series for the match group {group} on the {side} hand-side of the operation: [{d1}, {d2}];many-to-many matching not allowed: matching labels must be unique on one side"
    ))
}
