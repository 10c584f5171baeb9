//! AST walks the runner needs: which metrics a query selects (to skip cases
//! on native-histogram data) and the `@ T` rewrite of the extra checks
//! (PROMQLTEST_FORMAT.md, section 4.5).

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use model::Labels;
use promql_parser::parser::{AtModifier, Expr, VectorSelector};

use crate::parse::selector_matchers;

/// Functions whose result depends on the evaluation time even with every
/// selector pinned; the `@` re-runs skip queries calling them.
const AT_UNSAFE_FUNCTIONS: &[&str] = &[
    "time",
    "timestamp",
    "start",
    "end",
    "range",
    "step",
    "predict_linear",
    "day_of_month",
    "day_of_week",
    "day_of_year",
    "days_in_month",
    "hour",
    "minute",
    "month",
    "year",
];

/// The children of a node.
fn children(e: &Expr) -> Vec<&Expr> {
    match e {
        Expr::Aggregate(a) => a.param.iter().map(|p| &**p).chain([&*a.expr]).collect(),
        Expr::Unary(u) => vec![&u.expr],
        Expr::Binary(b) => vec![&b.lhs, &b.rhs],
        Expr::Paren(p) => vec![&p.expr],
        Expr::Subquery(s) => vec![&s.expr],
        Expr::Call(c) => c.args.args.iter().map(|a| &**a).collect(),
        Expr::NumberLiteral(_)
        | Expr::StringLiteral(_)
        | Expr::VectorSelector(_)
        | Expr::MatrixSelector(_)
        | Expr::Extension(_) => Vec::new(),
    }
}

/// True when some selector of `e` selects one of `series`: all its matchers
/// match that label set (a missing label matching as ""). Selecting by labels
/// only (`{job="x"}`) counts, since the histogram samples reach the engine.
pub fn selects_any(e: &Expr, series: &BTreeSet<Labels>) -> bool {
    if series.is_empty() {
        return false;
    }
    let hit = match e {
        Expr::VectorSelector(vs) => selector_selects(vs, series),
        Expr::MatrixSelector(ms) => selector_selects(&ms.vs, series),
        _ => false,
    };
    hit || children(e).into_iter().any(|c| selects_any(c, series))
}

fn selector_selects(vs: &VectorSelector, series: &BTreeSet<Labels>) -> bool {
    let Ok(matchers) = selector_matchers(vs) else {
        return false;
    };
    series
        .iter()
        .any(|l| matchers.iter().all(|m| m.matches(l.get_or_empty(&m.name))))
}

/// The query with every selector and subquery outside subqueries pinned
/// with `@ t` where it has no `@`, re-printed; `None` when the query calls
/// a function whose result depends on the evaluation time.
///
/// String literals written with `\x` escapes are put back as written in
/// `original`: the parser decodes `"\xff"` to U+00FF, while Go keeps the raw
/// byte, so printing the decoded text would change the query's meaning.
pub fn pin_at(e: &Expr, t: i64, original: &str) -> Option<String> {
    let mut e = e.clone();
    let at = at_modifier(t);
    let mut unsafe_call = false;
    pin(&mut e, &at, &mut unsafe_call);
    (!unsafe_call).then(|| restore_hex_escapes(&e.to_string(), original))
}

/// Byte ranges of the quoted strings of a query, in order.
fn quoted_spans(text: &str) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let q = b[i];
        if matches!(q, b'"' | b'\'' | b'`') {
            let mut j = i + 1;
            while j < b.len() && b[j] != q {
                j += if b[j] == b'\\' && q != b'`' { 2 } else { 1 };
            }
            let end = (j + 1).min(b.len());
            out.push((i, end));
            i = end;
        } else {
            i += 1;
        }
    }
    out
}

fn restore_hex_escapes(printed: &str, original: &str) -> String {
    let orig = quoted_spans(original);
    let new = quoted_spans(printed);
    if orig.len() != new.len() || !orig.iter().any(|&(a, b)| original[a..b].contains("\\x")) {
        return printed.to_string();
    }
    let mut out = String::with_capacity(printed.len());
    let mut last = 0;
    for (&(oa, ob), &(na, nb)) in orig.iter().zip(&new) {
        out.push_str(&printed[last..na]);
        let raw = &original[oa..ob];
        out.push_str(if raw.contains("\\x") {
            raw
        } else {
            &printed[na..nb]
        });
        last = nb;
    }
    out.push_str(&printed[last..]);
    out
}

fn at_modifier(t: i64) -> AtModifier {
    let d = Duration::from_millis(t.unsigned_abs());
    let time = if t >= 0 {
        UNIX_EPOCH.checked_add(d)
    } else {
        UNIX_EPOCH.checked_sub(d)
    };
    AtModifier::At(time.unwrap_or(SystemTime::UNIX_EPOCH))
}

/// Sets `@` where missing. The reference sets a subquery's `@` before
/// visiting its children and then leaves everything below any subquery
/// alone, calls included.
fn pin(e: &mut Expr, at: &AtModifier, unsafe_call: &mut bool) {
    match e {
        Expr::VectorSelector(vs) => {
            vs.at.get_or_insert_with(|| at.clone());
        }
        Expr::MatrixSelector(ms) => {
            ms.vs.at.get_or_insert_with(|| at.clone());
        }
        Expr::Subquery(sq) => {
            sq.at.get_or_insert_with(|| at.clone());
        }
        Expr::Aggregate(a) => {
            if let Some(p) = &mut a.param {
                pin(p, at, unsafe_call);
            }
            pin(&mut a.expr, at, unsafe_call);
        }
        Expr::Unary(u) => pin(&mut u.expr, at, unsafe_call),
        Expr::Binary(b) => {
            pin(&mut b.lhs, at, unsafe_call);
            pin(&mut b.rhs, at, unsafe_call);
        }
        Expr::Paren(p) => pin(&mut p.expr, at, unsafe_call),
        Expr::Call(c) => {
            *unsafe_call |= AT_UNSAFE_FUNCTIONS.contains(&c.func.name);
            for a in &mut c.args.args {
                pin(a, at, unsafe_call);
            }
        }
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::Extension(_) => {}
    }
}

/// The evaluation times of the `@` re-runs of an instant case at `t`.
pub fn at_rerun_times(t: i64) -> Vec<i64> {
    if t == 0 {
        vec![-1000, 0, 1000]
    } else {
        vec![-10 * t, 0, t / 5, t, 10 * t]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse;

    fn pinned(q: &str, t: i64) -> Option<String> {
        pin_at(&parse(q).expect("parses").expr, t, q)
    }

    #[test]
    fn pins_selectors_but_not_inside_subqueries() {
        assert_eq!(
            pinned("sum(rate(foo[5m])) + bar @ 50 offset 1m", 100_000).as_deref(),
            Some("sum(rate(foo[5m] @ 100.000)) + bar @ 50.000 offset 1m")
        );
        assert_eq!(
            pinned("max_over_time(foo[10m:1m])", 60_000).as_deref(),
            Some("max_over_time(foo[10m:1m] @ 60.000)")
        );
        // A call under a subquery is not looked at; one outside is.
        assert!(pinned("max_over_time((foo - time())[10m:1m])", 60_000).is_some());
        assert!(pinned("foo - time()", 60_000).is_none());
        // The re-printed text parses again.
        let text = pinned(r#"foo{a=~"x|y", b!="z"}[1m] offset -1m"#, 1500).expect("pinned");
        assert!(parse(&text).is_ok(), "{text}");
        let q = r#"label_replace(m, "\xff", "", "src", "(.*)")"#;
        let text = pin_at(&parse(q).expect("parses").expr, 0, q).expect("pinned");
        assert!(text.contains(r#""\xff""#), "{text}");
        assert!(parse(&text).is_ok(), "{text}");
        assert_eq!(at_rerun_times(0), [-1000, 0, 1000]);
        assert_eq!(at_rerun_times(10), [-100, 0, 2, 10, 100]);
    }

    #[test]
    fn selected_metrics() {
        let hist: BTreeSet<Labels> = [Labels::from_pairs([("__name__", "h"), ("job", "a")])].into();
        let sel = |q: &str| selects_any(&parse(q).expect("parses").expr, &hist);
        assert!(sel("rate(h[5m])"));
        assert!(sel(r#"sum({__name__=~"h|x"})"#));
        assert!(sel("1 + h offset 1m"));
        assert!(!sel("hh + x"));
        assert!(!sel(r#"{job="h"}"#));
        assert!(sel(r#"{job="a"}"#));
        assert!(!sel(r#"h{job="b"}"#));
        assert!(!sel(r#"{__name__=~"x.*"}"#));
    }
}
