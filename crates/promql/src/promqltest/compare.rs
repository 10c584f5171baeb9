//! Checking one query's outcome against a case's expectations: errors,
//! annotations and values (PROMQLTEST_FORMAT.md, sections 4.3 and 4.4).

use model::is_stale_nan;

use super::case::{EvalCase, ExpectKind, RangeSpec, TextMatch};
use super::series::{HistogramValue, SeqValue};
use crate::annotations::Annotations;
use crate::error::EvalError;
use crate::value::{QueryValue, Series, VectorSample};

/// Relative tolerance of float comparisons.
pub const EPSILON: f64 = 1e-6;
const MIN_NORMAL: f64 = 2.2250738585072014e-308;

/// Float equality as the reference runner has it: relative difference below
/// `epsilon`; NaN equals NaN, but the staleness marker only equals itself.
pub fn almost_equal(a: f64, b: f64, epsilon: f64) -> bool {
    if is_stale_nan(a) || is_stale_nan(b) {
        return is_stale_nan(a) && is_stale_nan(b);
    }
    if a.is_nan() && b.is_nan() {
        return true;
    }
    if a == b {
        return true;
    }
    let abs_sum = a.abs() + b.abs();
    let diff = (a - b).abs();
    if a == 0.0 || b == 0.0 || abs_sum < MIN_NORMAL {
        return diff < epsilon * MIN_NORMAL;
    }
    diff / abs_sum.min(f64::MAX) < epsilon
}

/// Checks an error against `expect fail` / `expected_fail_*` (the case must expect failure).
pub fn check_expected_failure(case: &EvalCase, e: &EvalError) -> Result<(), String> {
    let text = e.to_string();
    if let Some(m) = &case.fail_message
        && *m != text
    {
        return Err(format!("expected error {m:?}, but got: {text}"));
    }
    if let Some(re) = &case.fail_regexp
        && !re.is_match(&text)
    {
        return Err(format!(
            "expected error matching pattern {:?}, but got: {text}",
            re.as_str()
        ));
    }
    if let Some(m) = case.expects_of(ExpectKind::Fail).next()
        && !m.matches(&text)
    {
        return Err(format!("expected error matching {m}, but got: {text}"));
    }
    Ok(())
}

/// Checks warnings and infos against the case's annotation expectations.
pub fn check_annotations(case: &EvalCase, a: &Annotations) -> Result<(), String> {
    if case.warn && a.warnings.is_empty() {
        return Err("expected warnings but got none".to_string());
    }
    if case.info && a.infos.is_empty() {
        return Err("expected info annotations but got none".to_string());
    }
    check_of_type(case, ExpectKind::Warn, &a.warnings, "warn")?;
    check_of_type(case, ExpectKind::Info, &a.infos, "info")?;
    if case.has(ExpectKind::NoWarn) && !a.warnings.is_empty() {
        return Err(format!("unexpected warning annotations: {:?}", a.warnings));
    }
    if case.has(ExpectKind::NoInfo) && !a.infos.is_empty() {
        return Err(format!("unexpected info annotations: {:?}", a.infos));
    }
    Ok(())
}

/// The text of an annotation without its trailing ` (line:col)`.
fn without_position(s: &str) -> &str {
    if let Some(open) = s.rfind(" (")
        && let Some(inner) = s[open + 2..].strip_suffix(')')
        && let Some((l, c)) = inner.split_once(':')
        && !l.is_empty()
        && !c.is_empty()
        && l.bytes().chain(c.bytes()).all(|b| b.is_ascii_digit())
    {
        return &s[..open];
    }
    s
}

/// The annotation as the reference prints it without a query: no
/// position, and for the monotonicity info none of its bucket and time details.
fn bare_form(s: &str) -> &str {
    let s = without_position(s);
    match s.find(", from buckets ") {
        Some(i) if s.contains("needed to be fixed for monotonicity") => &s[..i],
        _ => s,
    }
}

/// True when `e` matches the annotation in full or in its bare form. The
/// scripts shipped with v3.14.0 write `msg:` texts without positions; the
/// runner of that release accepted either form.
fn anno_matches(e: &TextMatch, s: &str) -> bool {
    e.matches(s) || e.matches(bare_form(s))
}

fn check_of_type<'a>(
    case: &EvalCase,
    kind: ExpectKind,
    actual: impl IntoIterator<Item = &'a String> + Copy,
    name: &str,
) -> Result<(), String> {
    if !case.has(kind) {
        return Ok(());
    }
    let all: Vec<&String> = actual.into_iter().collect();
    if all.is_empty() {
        return Err(format!("expected {name} annotations but none were found"));
    }
    for e in case.expects_of(kind) {
        if !all.iter().any(|s| anno_matches(e, s)) {
            return Err(format!(
                "expected {name} annotation matching {e} but no matching annotation was found, found: {all:?}"
            ));
        }
    }
    for s in &all {
        if !case.expects_of(kind).any(|e| anno_matches(e, s)) {
            return Err(format!("unexpected {name} annotation {s:?}"));
        }
    }
    Ok(())
}

/// Compares a result value with the case's expected values. `times` gives
/// the timestamps expected matrix points belong to: `None` for an instant
/// query without `expect range vector` (which cannot return points).
pub fn compare_result(
    case: &EvalCase,
    value: &QueryValue,
    times: Option<RangeSpec>,
) -> Result<(), String> {
    match value {
        QueryValue::Matrix(m) => compare_matrix(case, m, times),
        QueryValue::Vector(v) => compare_vector(case, v),
        QueryValue::Scalar(_, v) => {
            let Some(exp) = case.scalar.clone() else {
                return Err(format!(
                    "expected vector or matrix result, but got scalar {v}"
                ));
            };
            match exp {
                SeqValue::Histogram(_) => Err(format!("expected histogram but got scalar {v}")),
                SeqValue::Float(e) if !almost_equal(e, *v, EPSILON) => {
                    Err(format!("expected scalar {e} but got {v}"))
                }
                _ => Ok(()),
            }
        }
        QueryValue::String(_, s) => {
            let exp = case.expected_string.as_deref().unwrap_or("");
            if exp != s {
                return Err(format!("expected string {exp:?} but got {s:?}"));
            }
            Ok(())
        }
    }
}

fn compare_vector(case: &EvalCase, v: &[VectorSample]) -> Result<(), String> {
    if case.scalar.is_some() {
        return Err(format!(
            "expected scalar result, but got vector {}",
            show_vector(v)
        ));
    }
    for (pos, s) in v.iter().enumerate() {
        let Some(exp) = case.expected.get(&s.labels) else {
            return Err(format!(
                "unexpected metric {} in result, has value {}",
                s.labels, s.v
            ));
        };
        if case.is_ordered() && exp.pos != pos + 1 {
            return Err(format!(
                "expected metric {} at position {} but was at {}",
                s.labels,
                exp.pos,
                pos + 1
            ));
        }
        if let Some(h) = &s.h {
            return match exp.values.first() {
                Some(SeqValue::Histogram(e)) if histograms_match(e, h) => Ok(()),
                Some(SeqValue::Histogram(e)) => Err(format!(
                    "expected histogram {} for {} but got {}",
                    e.h.test_expression(),
                    s.labels,
                    h.test_expression()
                )),
                _ => Err(format!(
                    "expected float value for {} but got histogram {}",
                    s.labels,
                    h.test_expression()
                )),
            };
        }
        match exp.values.first() {
            Some(SeqValue::Histogram(_)) => {
                return Err(format!(
                    "expected histogram for {} but got float value {}",
                    s.labels, s.v
                ));
            }
            Some(SeqValue::Float(e)) if !almost_equal(*e, s.v, EPSILON) => {
                return Err(format!("expected {e} for {} but got {}", s.labels, s.v));
            }
            // `_` reads as 0 in the reference.
            Some(SeqValue::Omitted) if !almost_equal(0.0, s.v, EPSILON) => {
                return Err(format!("expected 0 (`_`) for {} but got {}", s.labels, s.v));
            }
            None => return Err(format!("no expected value for {}", s.labels)),
            _ => {}
        }
    }
    for labels in case.expected.keys() {
        if !v.iter().any(|s| s.labels == *labels) {
            return Err(format!("expected metric {labels} not found"));
        }
    }
    Ok(())
}

/// Errors unless `m` is sorted by labels.
pub fn assert_sorted(m: &[Series]) -> Result<(), String> {
    match m.windows(2).position(|w| w[0].labels > w[1].labels) {
        Some(i) => Err(format!(
            "matrix results should always be sorted by labels, but series {} comes before {}",
            m[i].labels,
            m[i + 1].labels
        )),
        None => Ok(()),
    }
}

fn compare_matrix(case: &EvalCase, m: &[Series], times: Option<RangeSpec>) -> Result<(), String> {
    if case.is_ordered() {
        return Err("expected ordered result, but query returned a matrix".to_string());
    }
    if case.scalar.is_some() {
        return Err("expected scalar result, but got matrix".to_string());
    }
    assert_sorted(m)?;
    for s in m {
        let Some(exp) = case.expected.get(&s.labels) else {
            return Err(format!(
                "unexpected metric {} in result, has {}",
                s.labels,
                show_points(s)
            ));
        };
        let mut want = Vec::new();
        let mut want_h = Vec::new();
        for (i, e) in exp.values.iter().enumerate() {
            let t = times
                .map(|r| r.start + i as i64 * r.step)
                .filter(|t| times.is_some_and(|r| *t <= r.end))
                .ok_or_else(|| {
                    format!(
                        "expected {} points for {}, but query time range cannot return this many points",
                        exp.values.len(),
                        s.labels
                    )
                })?;
            match e {
                SeqValue::Float(v) => want.push((t, *v)),
                SeqValue::Histogram(h) => want_h.push((t, h)),
                SeqValue::Omitted => {}
            }
        }
        if want_h.len() != s.histograms.len()
            || want_h
                .iter()
                .zip(&s.histograms)
                .any(|((t, e), got)| *t != got.t || !histograms_match(e, &got.h))
        {
            let got: Vec<String> = s
                .histograms
                .iter()
                .map(|h| format!("{} @{}", h.h.test_expression(), h.t))
                .collect();
            return Err(format!(
                "expected {} histogram points for {}, but they differ: got [{}]",
                want_h.len(),
                s.labels,
                got.join(", ")
            ));
        }
        if want.len() != s.samples.len() {
            return Err(format!(
                "expected {} float points for {}, but got {}",
                want.len(),
                s.labels,
                show_points(s)
            ));
        }
        for (i, ((t, v), got)) in want.iter().zip(&s.samples).enumerate() {
            if *t != got.t {
                return Err(format!(
                    "expected float value at index {i} for {} to have timestamp {t}, but it had timestamp {} (result has {})",
                    s.labels,
                    got.t,
                    show_points(s)
                ));
            }
            if !almost_equal(*v, got.v, EPSILON) {
                return Err(format!(
                    "expected float value at index {i} (t={t}) for {} to be {v}, but got {} (result has {})",
                    s.labels,
                    got.v,
                    show_points(s)
                ));
            }
        }
    }
    for labels in case.expected.keys() {
        if !m.iter().any(|s| s.labels == *labels) {
            return Err(format!("expected metric {labels} not found"));
        }
    }
    Ok(())
}

/// A histogram result against an expected literal: equal after compaction, the
/// counter-reset hint compared only when the literal wrote one out.
fn histograms_match(exp: &HistogramValue, got: &model::FloatHistogram) -> bool {
    let mut e = (*exp.h).clone();
    let mut g = got.clone();
    e.compact(0);
    g.compact(0);
    if !exp.hint_set {
        g.counter_reset_hint = e.counter_reset_hint;
    }
    e.counter_reset_hint == g.counter_reset_hint && e.test_expression() == g.test_expression()
}

fn show_points(s: &Series) -> String {
    let pts: Vec<String> = s
        .samples
        .iter()
        .take(12)
        .map(|p| format!("{} @{}", p.v, p.t))
        .collect();
    let more = if s.samples.len() > 12 { " ..." } else { "" };
    format!("{} points [{}{more}]", s.samples.len(), pts.join(", "))
}

fn show_vector(v: &[VectorSample]) -> String {
    let items: Vec<String> = v
        .iter()
        .take(8)
        .map(|s| format!("{} => {}", s.labels, s.v))
        .collect();
    format!("[{}]", items.join(", "))
}

/// The vector of a range result's points at exactly `t` (the range-mode cross-check).
pub fn points_at(m: &[Series], t: i64) -> Vec<VectorSample> {
    m.iter()
        .filter_map(|s| {
            if let Some(h) = s.histograms.iter().find(|h| h.t == t) {
                return Some(VectorSample {
                    labels: s.labels.clone(),
                    t,
                    v: 0.0,
                    h: Some(h.h.clone()),
                });
            }
            let p = s.samples.iter().find(|p| p.t == t)?;
            Some(VectorSample {
                labels: s.labels.clone(),
                t,
                v: p.v,
                h: None,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::promqltest::script::Command;
    use crate::promqltest::script::parse_script;
    use model::{Labels, Sample, stale_nan};

    #[test]
    fn float_equality() {
        assert!(almost_equal(1.0, 1.0 + 1e-9, EPSILON));
        assert!(!almost_equal(1.0, 1.0001, EPSILON));
        assert!(almost_equal(f64::NAN, -f64::NAN, EPSILON));
        assert!(!almost_equal(f64::NAN, stale_nan(), EPSILON));
        assert!(almost_equal(stale_nan(), stale_nan(), EPSILON));
        assert!(almost_equal(f64::INFINITY, f64::INFINITY, EPSILON));
        assert!(!almost_equal(f64::INFINITY, f64::NEG_INFINITY, EPSILON));
        // Against zero only a tiny absolute difference passes.
        assert!(!almost_equal(0.0, 1e-300, EPSILON));
        assert!(almost_equal(0.0, -0.0, EPSILON));
    }

    fn case(text: &str) -> EvalCase {
        match parse_script(text).expect("parses").pop() {
            Some(Command::Eval(e)) => *e,
            other => panic!("not an eval: {other:?}"),
        }
    }

    fn labels(job: &str) -> Labels {
        Labels::from_pairs([("__name__", "m"), ("job", job)])
    }

    #[test]
    fn vectors() {
        let c = case("eval instant at 0 m\n  m{job=\"a\"} 1\n  m{job=\"b\"} NaN\n");
        let got = |a: f64, b: f64| {
            QueryValue::Vector(vec![
                VectorSample {
                    labels: labels("b"),
                    t: 0,
                    v: b,
                    h: None,
                },
                VectorSample {
                    labels: labels("a"),
                    t: 0,
                    v: a,
                    h: None,
                },
            ])
        };
        assert!(compare_result(&c, &got(1.0, f64::NAN), None).is_ok());
        assert!(compare_result(&c, &got(1.1, f64::NAN), None).is_err());
        assert!(compare_result(&c, &got(1.0, 2.0), None).is_err());
        let missing = QueryValue::Vector(vec![VectorSample {
            labels: labels("a"),
            t: 0,
            v: 1.0,
            h: None,
        }]);
        assert!(compare_result(&c, &missing, None).is_err());
        // Order only matters with `ordered`.
        let o = case("eval_ordered instant at 0 m\n  m{job=\"a\"} 1\n  m{job=\"b\"} NaN\n");
        assert!(compare_result(&o, &got(1.0, f64::NAN), None).is_err());
        assert!(compare_result(&c, &QueryValue::Scalar(0, 1.0), None).is_err());
    }

    #[test]
    fn matrices() {
        let c = case("eval range from 0 to 2m step 1m m\n  m{job=\"a\"} 1 _ 3\n");
        let times = c.range;
        let series = |pts: &[(i64, f64)]| {
            QueryValue::Matrix(vec![Series::new(
                labels("a"),
                pts.iter().map(|&(t, v)| Sample::new(t, v)).collect(),
            )])
        };
        assert!(compare_result(&c, &series(&[(0, 1.0), (120_000, 3.0)]), times).is_ok());
        // A point where `_` expects none.
        assert!(
            compare_result(
                &c,
                &series(&[(0, 1.0), (60_000, 2.0), (120_000, 3.0)]),
                times
            )
            .is_err()
        );
        assert!(compare_result(&c, &series(&[(0, 1.0), (60_000, 3.0)]), times).is_err());
        let unsorted = QueryValue::Matrix(vec![
            Series::new(labels("b"), vec![]),
            Series::new(labels("a"), vec![]),
        ]);
        assert!(
            compare_result(&c, &unsorted, times)
                .unwrap_err()
                .contains("sorted")
        );
        // Instant query without `expect range vector`: no points can be expected.
        let i = case("eval instant at 0 m[1m]\n  m{job=\"a\"} 1\n");
        assert!(compare_result(&i, &series(&[(0, 1.0)]), None).is_err());
        let s = case("eval instant at 0 m\n  2\n");
        assert!(compare_result(&s, &QueryValue::Scalar(0, 2.0), None).is_ok());
        assert!(compare_result(&s, &QueryValue::Scalar(0, 2.1), None).is_err());
    }

    #[test]
    fn annotations_and_failures() {
        assert_eq!(
            without_position("PromQL info: x (a) (12:3)"),
            "PromQL info: x (a)"
        );
        assert_eq!(without_position("PromQL info: x (a)"), "PromQL info: x (a)");
        assert_eq!(
            bare_form(
                "PromQL info: input to histogram_quantile needed to be fixed for monotonicity (see u) for metric name \"m\", from buckets 1 to +Inf, with a max diff of 1, over 1 samples from a to b (1:25)"
            ),
            "PromQL info: input to histogram_quantile needed to be fixed for monotonicity (see u) for metric name \"m\""
        );
        let mut a = Annotations::default();
        a.info(
            "metric might not be a counter",
            Some(crate::Pos { line: 1, col: 6 }),
        );
        let c = case(
            "eval instant at 0 m\n  expect info msg: PromQL info: metric might not be a counter\n  expect no_warn\n",
        );
        assert!(check_annotations(&c, &a).is_ok());
        let full = case(
            "eval instant at 0 m\n  expect info msg: PromQL info: metric might not be a counter (1:6)\n",
        );
        assert!(check_annotations(&full, &a).is_ok());
        a.warn("w", None);
        assert!(check_annotations(&c, &a).is_err());
        let c = case("eval instant at 0 m\n  expect info regex: counter$\n");
        let mut b = Annotations::default();
        assert!(check_annotations(&c, &b).is_err());
        b.info("metric might not be a counter", None);
        b.info("other", None);
        assert!(
            check_annotations(&c, &b)
                .unwrap_err()
                .contains("unexpected")
        );
        // A plain eval ignores annotations.
        assert!(check_annotations(&case("eval instant at 0 m\n"), &b).is_ok());
        let f = case("eval instant at 0 m\n  expect fail regex: too many\n");
        assert!(check_expected_failure(&f, &EvalError::TooManySamples("x")).is_ok());
        assert!(check_expected_failure(&f, &EvalError::exec("other")).is_err());
    }
}
