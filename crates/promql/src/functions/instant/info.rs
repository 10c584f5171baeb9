//! `info(v, {selector})` (experimental): adds to each series of `v` the data
//! labels of the info series (`target_info` unless the selector names others)
//! that share its identifying labels `instance` and `job`.
//!
//! Info series are read at the time the first selector of `v` reads its data
//! (its `@` and offset, and those of enclosing subqueries), so `info(v @ T)`
//! enriches with the info labels as of `T`. Where two info series of one
//! metric match, the one with the newer sample wins; a tie is an error.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use model::{
    INSTANCE_LABEL, JOB_LABEL, Labels, LabelsBuilder, METRIC_NAME_LABEL, MatchOp, Matcher,
    Timestamp,
};
use promql_parser::parser::{Expr, SubqueryExpr};

use super::arg;
use crate::error::{EvalError, EvalResult};
use crate::eval::{Evaluator, duplicate_labelset, offset_ms};
use crate::labels_string::go_labels;
use crate::parse::selector_matchers;
use crate::value::{Series, Value};

/// The info metric used when the selector names none.
const TARGET_INFO: &str = "target_info";

/// The labels that tie a series to its info series.
const IDENTIFYING: [&str; 2] = [INSTANCE_LABEL, JOB_LABEL];

/// Matchers of the second argument by label name (`__name__` ones choose the
/// info metrics, the others filter and choose data labels).
type DataMatchers = BTreeMap<String, Vec<Matcher>>;

/// Evaluates `info`.
pub(super) fn info(ev: &Evaluator<'_>, args: &[&Expr]) -> EvalResult<Value> {
    let base_node = arg(args, 0)?;
    // Taken before evaluating: they govern when info series are read.
    let (at, offset) = first_selector_time(ev, base_node, &mut Vec::new()).unwrap_or((None, 0));
    let base = ev.eval_vector(base_node)?;
    // Prometheus enriches histogram samples too; not done here yet.
    crate::histograms::reject(&base, "info()")?;

    let mut data: DataMatchers = BTreeMap::new();
    let mut name_matchers = Vec::new();
    match args.get(1) {
        Some(Expr::VectorSelector(vs)) => {
            for m in selector_matchers(vs)? {
                if m.name == METRIC_NAME_LABEL {
                    name_matchers.push(m.clone());
                }
                data.entry(m.name.clone()).or_default().push(m);
            }
        }
        Some(_) => return Err(EvalError::exec("info(): expected a label selector")),
        None => name_matchers.push(Matcher::equal(METRIC_NAME_LABEL, TARGET_INFO)),
    }
    let effective = effective_name_matchers(name_matchers)?;
    // Info series themselves are not enriched.
    let ignored: HashSet<usize> = base
        .iter()
        .enumerate()
        .filter(|(_, s)| {
            let name = s.labels.get_or_empty(METRIC_NAME_LABEL);
            effective.iter().all(|m| m.matches(name))
        })
        .map(|(i, _)| i)
        .collect();

    let info_series = fetch_info(ev, &base, &ignored, &mut data, at, offset)?;
    combine(ev, base, &info_series, &ignored, &data)
}

/// The `__name__` matchers that select info series: as given when one is
/// positive, `.+_info` added to only negative ones, `target_info` for none.
fn effective_name_matchers(mut ms: Vec<Matcher>) -> EvalResult<Vec<Matcher>> {
    if ms
        .iter()
        .any(|m| matches!(m.op, MatchOp::Equal | MatchOp::Regex))
    {
        return Ok(ms);
    }
    if ms.is_empty() {
        return Ok(vec![Matcher::equal(METRIC_NAME_LABEL, TARGET_INFO)]);
    }
    let any_info = Matcher::new(MatchOp::Regex, METRIC_NAME_LABEL, ".+_info")
        .map_err(|e| EvalError::exec(e.to_string()))?;
    ms.insert(0, any_info);
    Ok(ms)
}

/// The `@` time and offset of the first selector in `e` (depth first), with
/// the offsets of enclosing subqueries added until one of them has an `@`.
fn first_selector_time<'e>(
    ev: &Evaluator<'_>,
    e: &'e Expr,
    subqueries: &mut Vec<&'e SubqueryExpr>,
) -> Option<(Option<Timestamp>, i64)> {
    let vs = match e {
        Expr::VectorSelector(vs) => vs,
        Expr::MatrixSelector(ms) => &ms.vs,
        Expr::Subquery(sq) => {
            subqueries.push(sq);
            let r = first_selector_time(ev, &sq.expr, subqueries);
            subqueries.pop();
            return r;
        }
        Expr::Paren(p) => return first_selector_time(ev, &p.expr, subqueries),
        Expr::Unary(u) => return first_selector_time(ev, &u.expr, subqueries),
        Expr::Binary(b) => {
            return first_selector_time(ev, &b.lhs, subqueries)
                .or_else(|| first_selector_time(ev, &b.rhs, subqueries));
        }
        Expr::Aggregate(a) => {
            return first_selector_time(ev, &a.expr, subqueries)
                .or_else(|| first_selector_time(ev, a.param.as_deref()?, subqueries));
        }
        Expr::Call(c) => {
            return c
                .args
                .args
                .iter()
                .find_map(|a| first_selector_time(ev, a, subqueries));
        }
        _ => return None,
    };
    let mut at = ev.at_time(&vs.at);
    let mut offset = offset_ms(&vs.offset);
    for sq in subqueries.iter().rev() {
        if at.is_some() {
            break;
        }
        offset = offset.saturating_add(offset_ms(&sq.offset));
        at = ev.at_time(&sq.at);
    }
    Some((at, offset))
}

/// Reads the info series that could match the base series: those carrying
/// one of their `instance`/`job` values, the selector's data matchers, and an
/// info metric name. Each point's value is its sample's own time. Removes the
/// `__name__` matchers from `data`, which from here on chooses data labels.
fn fetch_info(
    ev: &Evaluator<'_>,
    base: &[Series],
    ignored: &HashSet<usize>,
    data: &mut DataMatchers,
    at: Option<Timestamp>,
    offset: i64,
) -> EvalResult<Vec<Series>> {
    let name_matchers = data.remove(METRIC_NAME_LABEL).unwrap_or_default();
    let mut values: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (_, s) in base
        .iter()
        .enumerate()
        .filter(|(i, _)| !ignored.contains(i))
    {
        for l in IDENTIFYING {
            if let Some(v) = s.labels.get(l).filter(|v| !v.is_empty()) {
                values.entry(l).or_default().insert(v);
            }
        }
    }
    if values.is_empty() {
        return Ok(Vec::new());
    }
    let mut matchers = Vec::new();
    for (name, vals) in &values {
        let alternatives: Vec<String> = vals.iter().map(|v| regex::escape(v)).collect();
        matchers.push(
            Matcher::new(MatchOp::Regex, *name, alternatives.join("|"))
                .map_err(|e| EvalError::exec(e.to_string()))?,
        );
    }
    matchers.extend(data.values().flatten().cloned());
    matchers.extend(effective_name_matchers(name_matchers)?);
    ev.select_sample_times(&matchers, offset, at, true)
}

/// The key joining a series to an info series of metric `name`.
fn signature<'a>(name: &'a str, labels: &'a Labels) -> (&'a str, &'a str, &'a str) {
    (
        name,
        labels.get_or_empty(INSTANCE_LABEL),
        labels.get_or_empty(JOB_LABEL),
    )
}

/// Step by step, adds the matching info series' data labels to each base series.
fn combine(
    ev: &Evaluator<'_>,
    base: Vec<Series>,
    info: &[Series],
    ignored: &HashSet<usize>,
    data: &DataMatchers,
) -> EvalResult<Value> {
    let info_names: BTreeSet<&str> = info
        .iter()
        .map(|s| s.labels.get_or_empty(METRIC_NAME_LABEL))
        .collect();
    let info_at = by_step(ev, info);
    let base_at = by_step(ev, &base);
    let need_match = data.values().flatten().any(|m| !m.matches_empty());

    let mut out: Vec<Series> = Vec::new();
    let mut index: HashMap<(Labels, bool), usize> = HashMap::new();
    let mut info_i = 0;
    for run in base_at.chunk_by(|a, b| a.0 == b.0) {
        let step = run[0].0;
        ev.check_deadline()?;
        // The newest info sample per signature at this step.
        while info_at.get(info_i).is_some_and(|p| p.0 < step) {
            info_i += 1;
        }
        let mut latest: HashMap<(&str, &str, &str), (usize, f64)> = HashMap::new();
        while let Some(&(_, idx, orig_t)) = info_at.get(info_i).filter(|p| p.0 == step) {
            info_i += 1;
            let labels = &info[idx].labels;
            let sig = signature(labels.get_or_empty(METRIC_NAME_LABEL), labels);
            match latest.get(&sig) {
                Some(&(_, t)) if t > orig_t => {}
                Some(&(other, t)) if t == orig_t => {
                    return Err(EvalError::exec(format!(
                        "found duplicate series for info metric: existing {} @ {}, new {} @ {}",
                        go_labels(&info[other].labels),
                        t as i64,
                        go_labels(labels),
                        orig_t as i64
                    )));
                }
                _ => {
                    latest.insert(sig, (idx, orig_t));
                }
            }
        }
        for &(_, bi, v) in run {
            let b = &base[bi];
            let labels = if ignored.contains(&bi) {
                b.labels.clone()
            } else {
                match enrich(&b.labels, &info_names, &latest, info, data)? {
                    Some(l) => l,
                    None if need_match => continue,
                    None => b.labels.clone(),
                }
            };
            let key = (labels, b.drop_name);
            let t = ev.steps.at(step);
            let slot = match index.get(&key) {
                Some(&i) => i,
                None => {
                    let mut s = Series::new(key.0.clone(), Vec::new());
                    s.drop_name = key.1;
                    out.push(s);
                    index.insert(key, out.len() - 1);
                    out.len() - 1
                }
            };
            let series = &mut out[slot];
            if series.samples.last().is_some_and(|p| p.t == t) {
                return Err(duplicate_labelset());
            }
            series.samples.push(model::Sample::new(t, v));
        }
    }
    Ok(Value::Vector(out))
}

/// The base labels with the data labels of the matching info series added;
/// `None` when no info series matches.
fn enrich(
    base: &Labels,
    info_names: &BTreeSet<&str>,
    latest: &HashMap<(&str, &str, &str), (usize, f64)>,
    info: &[Series],
    data: &DataMatchers,
) -> EvalResult<Option<Labels>> {
    let mut added = LabelsBuilder::new(Labels::empty());
    let mut matched = false;
    for name in info_names {
        let Some(&(idx, _)) = latest.get(&signature(name, base)) else {
            continue;
        };
        matched = true;
        for l in info[idx].labels.iter() {
            if l.name == METRIC_NAME_LABEL
                || (!data.is_empty() && !data.contains_key(l.name.as_str()))
            {
                continue;
            }
            if added
                .get(&l.name)
                .is_some_and(|v| !v.is_empty() && v != l.value)
            {
                return Err(EvalError::exec(format!("conflicting label: {}", l.name)));
            }
            if base.has(&l.name) {
                continue;
            }
            added.set(l.name.as_str(), l.value.as_str());
        }
    }
    if !matched {
        return Ok(None);
    }
    let mut b = LabelsBuilder::new(base.clone());
    for l in added.iter() {
        b.set(l.name.as_str(), l.value.as_str());
    }
    Ok(Some(b.build()))
}

/// (step index, series index, value) of every sample, in step order (series
/// order within a step).
fn by_step(ev: &Evaluator<'_>, v: &[Series]) -> Vec<(usize, usize, f64)> {
    let mut out: Vec<(usize, usize, f64)> = v
        .iter()
        .enumerate()
        .flat_map(|(si, s)| {
            s.samples
                .iter()
                .filter_map(move |p| Some((ev.steps.index_of(p.t)?, si, p.v)))
        })
        .collect();
    out.sort_by_key(|p| p.0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_matchers() {
        let ms = effective_name_matchers(Vec::new()).expect("builds");
        assert_eq!(ms, vec![Matcher::equal(METRIC_NAME_LABEL, TARGET_INFO)]);
        let neg =
            Matcher::new(MatchOp::NotEqual, METRIC_NAME_LABEL, "target_info").expect("builds");
        let ms = effective_name_matchers(vec![neg]).expect("builds");
        assert_eq!(ms.len(), 2);
        assert!(ms[0].matches("build_info") && ms[1].matches("build_info"));
        assert!(!ms[1].matches("target_info"));
        assert!(!ms[0].matches("metric"));
    }
}
