//! Histogram functions over classic histograms: series that differ only in
//! their `le` label are the cumulative buckets of one histogram.
//! `histogram_quantile`, `histogram_quantiles` and `histogram_fraction` read
//! them (see [`buckets`] for the arithmetic) and refuse native histograms (not
//! done yet); `histogram_count`, `_sum` and `_avg` read native histograms only.

mod buckets;

use std::collections::HashMap;

use gofmt::{go_g, go_g_prec, openmetrics_float, parse_float, quote, rfc3339};
use model::{BUCKET_LABEL, Labels, LabelsBuilder, Sample};
use promql_parser::parser::Expr;

use self::buckets::{Bucket, Forced, bucket_fraction, bucket_quantile};
use super::{arg, at_step};
use crate::annotations::invalid_quantile;
use crate::error::EvalResult;
use crate::eval::Evaluator;
use crate::value::{Series, Value};

/// One classic histogram: the labels without `le`, and its buckets at each step.
struct Histogram {
    labels: Labels,
    /// (step index, bucket), grouped by step in step order.
    points: Vec<(usize, Bucket)>,
}

impl Histogram {
    /// The buckets at each step that has any, in step order.
    fn steps(&self) -> impl Iterator<Item = (usize, Vec<Bucket>)> + '_ {
        self.points
            .chunk_by(|a, b| a.0 == b.0)
            .map(|run| (run[0].0, run.iter().map(|p| p.1).collect()))
    }
}

/// `histogram_quantile(φ, buckets)`.
pub(super) fn quantile(ev: &Evaluator<'_>, args: &[&Expr]) -> EvalResult<Value> {
    let (q_node, v_node) = (arg(args, 0)?, arg(args, 1)?);
    let q = ev.eval_scalar(q_node)?;
    warn_invalid_quantiles(ev, &q, q_node);
    let hists = histograms(
        ev,
        classic_only(ev, v_node, "histogram_quantile()")?,
        v_node,
    );
    let mut forced = ForcedInfo::default();
    let mut out = Vec::with_capacity(hists.len());
    for h in &hists {
        let samples = h
            .steps()
            .map(|(i, mut b)| {
                let (v, f) = bucket_quantile(at_step(&q, i), &mut b);
                forced.add(ev, &h.labels, i, f);
                Sample::new(ev.steps.at(i), v)
            })
            .collect();
        out.push(output(ev, h.labels.clone(), samples));
    }
    forced.report(ev, v_node);
    Ok(Value::Vector(ev.dedup(out)?))
}

/// `histogram_quantiles(buckets, "label", φ...)`: several quantiles, each
/// series labelled with its φ.
pub(super) fn quantiles(ev: &Evaluator<'_>, args: &[&Expr]) -> EvalResult<Value> {
    let v_node = arg(args, 0)?;
    let label = ev.eval_string(arg(args, 1)?)?;
    let mut qs = Vec::with_capacity(args.len().saturating_sub(2));
    for node in args.iter().skip(2) {
        let q = ev.eval_scalar(node)?;
        warn_invalid_quantiles(ev, &q, node);
        qs.push(q);
    }
    let hists = histograms(
        ev,
        classic_only(ev, v_node, "histogram_quantiles()")?,
        v_node,
    );
    let mut forced = ForcedInfo::default();
    let mut out = Vec::new();
    for q in &qs {
        for h in &hists {
            // φ may differ per step, and with it the label: one series per value.
            let mut by_label: Vec<(String, Vec<Sample>)> = Vec::new();
            for (i, mut b) in h.steps() {
                let qi = at_step(q, i);
                let (v, f) = bucket_quantile(qi, &mut b);
                forced.add(ev, &h.labels, i, f);
                let text = openmetrics_float(qi);
                let sample = Sample::new(ev.steps.at(i), v);
                match by_label.iter_mut().find(|(t, _)| *t == text) {
                    Some((_, s)) => s.push(sample),
                    None => by_label.push((text, vec![sample])),
                }
            }
            for (text, samples) in by_label {
                let mut b = LabelsBuilder::new(h.labels.clone());
                b.set(label.as_str(), text);
                out.push(output(ev, b.build(), samples));
            }
        }
    }
    forced.report(ev, v_node);
    Ok(Value::Vector(ev.dedup(out)?))
}

/// `histogram_fraction(lower, upper, buckets)`: the estimated share of
/// observations between `lower` and `upper`.
pub(super) fn fraction(ev: &Evaluator<'_>, args: &[&Expr]) -> EvalResult<Value> {
    let lower = ev.eval_scalar(arg(args, 0)?)?;
    let upper = ev.eval_scalar(arg(args, 1)?)?;
    let v_node = arg(args, 2)?;
    let hists = histograms(
        ev,
        classic_only(ev, v_node, "histogram_fraction()")?,
        v_node,
    );
    let mut out = Vec::with_capacity(hists.len());
    for h in &hists {
        let samples = h
            .steps()
            .map(|(i, mut b)| {
                let v = bucket_fraction(at_step(&lower, i), at_step(&upper, i), &mut b);
                Sample::new(ev.steps.at(i), v)
            })
            .collect();
        out.push(output(ev, h.labels.clone(), samples));
    }
    Ok(Value::Vector(ev.dedup(out)?))
}

/// The vector argument of a classic-histogram function; Prometheus would also
/// compute from native histograms, which this engine does not yet.
fn classic_only(ev: &Evaluator<'_>, node: &Expr, name: &str) -> EvalResult<Vec<Series>> {
    let v = ev.eval_vector(node)?;
    crate::histograms::reject(&v, name)?;
    Ok(v)
}

/// The functions of native histograms only (`histogram_count`, `_sum`, `_avg`;
/// `_stddev` and `_stdvar` are refused on histograms): float samples give
/// nothing; the name is dropped, the other metadata labels kept (Prometheus's
/// `simpleHistogramFunc`).
pub(super) fn native_only(ev: &Evaluator<'_>, name: &str, args: &[&Expr]) -> EvalResult<Value> {
    let v = ev.eval_vector(arg(args, 0)?)?;
    let f: fn(&model::FloatHistogram) -> f64 = match name {
        "histogram_count" => |h| h.count,
        "histogram_sum" => |h| h.sum,
        "histogram_avg" => |h| h.sum / h.count,
        _ => {
            crate::histograms::reject(&v, &format!("{name}()"))?;
            return Ok(Value::Vector(Vec::new()));
        }
    };
    let mut out = Vec::new();
    for mut s in v {
        if s.histograms.is_empty() {
            continue;
        }
        s.samples = s
            .histograms
            .iter()
            .map(|h| Sample::new(h.t, f(&h.h)))
            .collect();
        s.histograms.clear();
        if ev.opts().delayed_name_removal {
            s.drop_name = true;
        } else {
            let mut b = LabelsBuilder::new(s.labels);
            b.del(model::METRIC_NAME_LABEL);
            s.labels = b.build();
        }
        out.push(s);
    }
    Ok(Value::Vector(ev.dedup(out)?))
}

fn output(ev: &Evaluator<'_>, labels: Labels, samples: Vec<Sample>) -> Series {
    let mut s = Series::new(labels, samples);
    ev.drop_name(&mut s);
    s
}

/// With delayed name removal Prometheus names the metric in annotations
/// (the name is still there); without, it leaves it out.
fn metric_suffix(ev: &Evaluator<'_>, labels: &Labels) -> String {
    match labels.metric_name() {
        Some(name) if ev.opts().delayed_name_removal => {
            format!(" for metric name {}", quote(name))
        }
        _ => String::new(),
    }
}

/// Warns once per distinct φ outside [0, 1] (or NaN).
fn warn_invalid_quantiles(ev: &Evaluator<'_>, q: &[f64], node: &Expr) {
    let mut last: Option<f64> = None;
    for &x in q {
        let invalid = x.is_nan() || !(0.0..=1.0).contains(&x);
        if invalid && last.is_none_or(|l| l.to_bits() != x.to_bits()) {
            ev.warn(&invalid_quantile(x), node);
            last = Some(x);
        }
    }
}

/// Groups the vector's series into classic histograms by their labels without
/// `le`, warning about (and skipping) series whose `le` is not a number.
fn histograms(ev: &Evaluator<'_>, v: Vec<Series>, node: &Expr) -> Vec<Histogram> {
    let mut index: HashMap<Labels, usize> = HashMap::new();
    let mut out: Vec<Histogram> = Vec::new();
    for s in v {
        let le = s.labels.get_or_empty(BUCKET_LABEL);
        let Ok(upper) = parse_float(le) else {
            ev.warn(
                &format!(
                    "bucket label \"le\" is missing or has a malformed value of {}{}",
                    quote(le),
                    metric_suffix(ev, &s.labels)
                ),
                node,
            );
            continue;
        };
        let mut b = LabelsBuilder::new(s.labels);
        b.del(BUCKET_LABEL);
        let key = b.build();
        let slot = *index.entry(key.clone()).or_insert_with(|| {
            out.push(Histogram {
                labels: key,
                points: Vec::new(),
            });
            out.len() - 1
        });
        for p in &s.samples {
            if let Some(i) = ev.steps.index_of(p.t) {
                out[slot].points.push((i, Bucket { upper, count: p.v }));
            }
        }
    }
    for h in &mut out {
        // Stable: buckets keep series order within a step.
        h.points.sort_by_key(|p| p.0);
    }
    out
}

/// Prometheus's info about buckets that had to be made monotonic, merged over
/// the steps and series of one call per metric name, as its annotation set merges them.
#[derive(Default)]
struct ForcedInfo {
    by_name: Vec<(String, ForcedSummary)>,
}

struct ForcedSummary {
    min_t: i64,
    max_t: i64,
    min_bucket: f64,
    max_bucket: f64,
    max_diff: f64,
    samples: u64,
}

impl ForcedInfo {
    fn add(&mut self, ev: &Evaluator<'_>, labels: &Labels, step: usize, f: Option<Forced>) {
        let Some(f) = f else { return };
        let t = ev.steps.at(step);
        let suffix = metric_suffix(ev, labels);
        match self.by_name.iter_mut().find(|(n, _)| *n == suffix) {
            Some((_, s)) => {
                s.min_t = s.min_t.min(t);
                s.max_t = s.max_t.max(t);
                s.min_bucket = s.min_bucket.min(f.min_bucket);
                s.max_bucket = s.max_bucket.max(f.max_bucket);
                s.max_diff = s.max_diff.max(f.max_diff);
                s.samples += 1;
            }
            None => self.by_name.push((
                suffix,
                ForcedSummary {
                    min_t: t,
                    max_t: t,
                    min_bucket: f.min_bucket,
                    max_bucket: f.max_bucket,
                    max_diff: f.max_diff,
                    samples: 1,
                },
            )),
        }
    }

    fn report(&self, ev: &Evaluator<'_>, node: &Expr) {
        for (suffix, s) in &self.by_name {
            ev.info(
                &format!(
                    "input to histogram_quantile needed to be fixed for monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile){suffix}, from buckets {} to {}, with a max diff of {}, over {} samples from {} to {}",
                    go_g(s.min_bucket),
                    go_g(s.max_bucket),
                    go_g_prec(s.max_diff, 2),
                    s.samples,
                    // Go truncates to whole seconds toward zero.
                    rfc3339(s.min_t / 1000),
                    rfc3339(s.max_t / 1000),
                ),
                node,
            );
        }
    }
}
