//! Test 1: the hub's answers are identical to Prometheus's on the same data.
//!
//! The corpus is `corpus.txt` (its header lists the Prometheus 2-vs-3 differences it
//! avoids). Every query runs as an instant query at several times and as three range
//! queries, against Debian's Prometheus 2.42 (the reference) and the hub, both loaded
//! with [`super::dataset`]'s data by remote write.
//!
//! Evaluation times: Prometheus 2 selects closed windows `[t-r, t]` and Prometheus 3
//! left-open ones `(t-r, t]`, for range selectors, lookback and subqueries alike. Samples
//! sit at a millisecond part of 100, every evaluation time (instant times, range-query
//! starts; range steps are whole seconds) at 400, and subquery steps are whole seconds
//! aligned to the epoch (millisecond part 0): no window boundary ever falls on a sample,
//! so both semantics select the same samples.

use std::collections::BTreeMap;

use super::compare::compare;
use super::dataset::LAST_STEP;
use super::{Http, secs, start_peers, truncate};
use crate::common::serial;

const CORPUS: &str = include_str!("corpus.txt");

/// Instant-query times, as sample steps (the query runs 7.3 s after the step's sample):
/// the start (little history for 5m windows), middle, the lookback edge of the batch
/// series' gap (last sample at 60: visible at 79, gone at 80), the staleness marker at
/// 81, inside the gap, the end, and 4 minutes after the last sample (still within the
/// 5m lookback).
const INSTANT_STEPS: [i64; 9] = [3, 70, 79, 80, 81, 110, 140, LAST_STEP, LAST_STEP + 16];

/// Range queries: (start step, end step, step in seconds).
const RANGES: [(i64, i64, i64); 3] = [(20, LAST_STEP, 60), (60, 130, 15), (0, LAST_STEP + 20, 137)];

/// The corpus's queries, comments and blank lines dropped.
pub fn corpus() -> Vec<&'static str> {
    CORPUS
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

struct Mismatch {
    query: String,
    at: String,
    detail: String,
}

#[test]
fn promql_answers_identical_to_prometheus_on_the_same_data() {
    let _g = serial();
    let queries = corpus();
    assert!(
        queries.len() >= 80,
        "the corpus has only {} queries",
        queries.len()
    );
    let peers = start_peers();
    let d = &peers.data;
    let http = Http::new();
    let subst = |q: &str| {
        q.replace("${T_MID}", &secs(d.eval_ms(100)))
            .replace("${T_EARLY}", &secs(d.eval_ms(30)))
    };
    let mut mismatches: Vec<Mismatch> = Vec::new();
    let mut evaluations = 0usize;
    let mut reference_non_empty = 0usize;
    let mut reference_errors = 0usize;
    // Queries Prometheus refuses (the corpus's deliberate error cases), with its error.
    let mut refused: BTreeMap<String, String> = BTreeMap::new();
    for raw in &queries {
        let q = subst(raw);
        let ordered = q.starts_with("sort(") || q.starts_with("sort_desc(");
        for k in INSTANT_STEPS {
            let time = secs(d.eval_ms(k));
            let params = [("query", q.as_str()), ("time", time.as_str())];
            let reference = http.post_form(&format!("{}/api/v1/query", peers.prom), &params);
            let hub = http.post_form(&format!("{}/api/v1/query", peers.hub), &params);
            evaluations += 1;
            if reference.ok() {
                let r = &reference.json["data"];
                if r["resultType"] == "scalar" || !reference.result().is_empty() {
                    reference_non_empty += 1;
                }
            } else {
                reference_errors += 1;
                refused
                    .entry(q.clone())
                    .or_insert_with(|| reference.error_line());
            }
            if let Err(detail) = compare(&reference, &hub, ordered) {
                mismatches.push(Mismatch {
                    query: q.clone(),
                    at: format!("instant @step {k}"),
                    detail,
                });
            }
        }
        for (from, to, step) in RANGES {
            let (start, end, step_s) =
                (secs(d.eval_ms(from)), secs(d.eval_ms(to)), step.to_string());
            let params = [
                ("query", q.as_str()),
                ("start", start.as_str()),
                ("end", end.as_str()),
                ("step", step_s.as_str()),
            ];
            let reference = http.post_form(&format!("{}/api/v1/query_range", peers.prom), &params);
            let hub = http.post_form(&format!("{}/api/v1/query_range", peers.hub), &params);
            evaluations += 1;
            if !reference.ok() {
                reference_errors += 1;
            }
            if let Err(detail) = compare(&reference, &hub, false) {
                mismatches.push(Mismatch {
                    query: q.clone(),
                    at: format!("range {from}..{to} step {step}s"),
                    detail,
                });
            }
        }
    }
    // The reference must have had something to say, or the comparison proves nothing.
    let instant_evaluations = queries.len() * INSTANT_STEPS.len();
    eprintln!(
        "{} queries, {evaluations} evaluations; Prometheus: {reference_non_empty} of {instant_evaluations} instant answers non-empty, {reference_errors} errors",
        queries.len()
    );
    for (q, e) in &refused {
        eprintln!("  Prometheus refuses {q}: {}", truncate(e, 120));
    }
    assert!(
        reference_non_empty * 10 >= instant_evaluations * 6,
        "Prometheus answered too few instant queries with data ({reference_non_empty} of {instant_evaluations}): the dataset did not load?"
    );
    assert!(
        reference_errors * 10 < evaluations,
        "Prometheus refused {reference_errors} of {evaluations} evaluations: the corpus is wrong"
    );
    if !mismatches.is_empty() {
        report(&mismatches, queries.len());
    }
    assert!(
        mismatches.is_empty(),
        "{} of {evaluations} evaluations differ from Prometheus (table above)",
        mismatches.len()
    );
}

/// Prints one line per differing query (its first differing evaluation), then the
/// differences grouped by their cause.
fn report(mismatches: &[Mismatch], total_queries: usize) {
    let mut per_query: BTreeMap<&str, Vec<&Mismatch>> = BTreeMap::new();
    for m in mismatches {
        per_query.entry(m.query.as_str()).or_default().push(m);
    }
    eprintln!(
        "\n{} of {total_queries} queries differ from Prometheus ({} evaluations):",
        per_query.len(),
        mismatches.len()
    );
    eprintln!("{:<70} | {:<24} | first difference", "query", "evaluation");
    eprintln!("{}", "-".repeat(160));
    for (q, ms) in &per_query {
        eprintln!(
            "{:<70} | {:<24} | {} (+{} more)",
            truncate(q, 70),
            ms[0].at,
            truncate(&ms[0].detail, 200),
            ms.len() - 1
        );
    }
    // Group by the difference with numbers and series names blurred, so causes stand out.
    let mut groups: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for (q, ms) in &per_query {
        groups.entry(cause(&ms[0].detail)).or_default().push(q);
    }
    eprintln!("\nby cause:");
    let mut sorted: Vec<_> = groups.into_iter().collect();
    sorted.sort_by_key(|(_, qs)| std::cmp::Reverse(qs.len()));
    for (c, qs) in sorted {
        eprintln!("  {:>3} × {}", qs.len(), truncate(&c, 150));
        for q in qs.iter().take(4) {
            eprintln!("        {}", truncate(q, 140));
        }
    }
}

/// A difference's text with the parts that vary between queries removed.
fn cause(detail: &str) -> String {
    if let Some(rest) = detail.strip_prefix("hub failed: ") {
        // Keep the error, cut positions and quoted fragments.
        let mut out = String::new();
        let mut in_quote = false;
        for c in rest.chars() {
            match c {
                '"' => {
                    in_quote = !in_quote;
                    if in_quote {
                        out.push_str("\"…\"");
                    }
                }
                _ if in_quote => {}
                '0'..='9' => {
                    if !out.ends_with('#') {
                        out.push('#');
                    }
                }
                _ => out.push(c),
            }
        }
        return format!("hub failed: {out}");
    }
    if detail.contains("missing in hub") {
        return "a series Prometheus returns is missing in the hub".into();
    }
    if detail.contains("extra series") {
        return "the hub returns a series Prometheus does not".into();
    }
    if detail.starts_with("errorType differs") {
        return "both failed, with different errorTypes".into();
    }
    if detail.starts_with("Prometheus failed") {
        return "Prometheus failed where the hub succeeded".into();
    }
    if detail.starts_with("resultType") {
        return format!("resultType differs ({})", truncate(detail, 60));
    }
    if detail.contains("points vs hub") {
        return "a series has a different number of points".into();
    }
    if detail.starts_with("order differs") {
        return "order of a sorted result differs".into();
    }
    "values differ".into()
}
