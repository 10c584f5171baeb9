//! AST walks the runner needs: which metrics a query selects (to skip cases
//! on native-histogram data) and the `@ T` rewrite of the extra checks
//! (PROMQLTEST_FORMAT.md, section 4.5).

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use model::METRIC_NAME_LABEL;
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

/// True when some selector of `e` selects one of `metrics`: its metric name
/// is one of them, or all its `__name__` matchers match one.
pub fn selects_any(e: &Expr, metrics: &BTreeSet<String>) -> bool {
    if metrics.is_empty() {
        return false;
    }
    let hit = match e {
        Expr::VectorSelector(vs) => selector_selects(vs, metrics),
        Expr::MatrixSelector(ms) => selector_selects(&ms.vs, metrics),
        _ => false,
    };
    hit || children(e).into_iter().any(|c| selects_any(c, metrics))
}

fn selector_selects(vs: &VectorSelector, metrics: &BTreeSet<String>) -> bool {
    if vs.name.as_ref().is_some_and(|n| metrics.contains(n)) {
        return true;
    }
    let Ok(matchers) = selector_matchers(vs) else {
        return false;
    };
    let names: Vec<_> = matchers
        .iter()
        .filter(|m| m.name == METRIC_NAME_LABEL)
        .collect();
    !names.is_empty()
        && metrics
            .iter()
            .any(|metric| names.iter().all(|m| m.matches(metric)))
}

/// The query with every selector and subquery outside subqueries pinned
/// with `@ t` where it has no `@`, re-printed; `None` when the query calls
/// a function whose result depends on the evaluation time.
pub fn pin_at(e: &Expr, t: i64) -> Option<String> {
    let mut e = e.clone();
    let at = at_modifier(t);
    let mut unsafe_call = false;
    pin(&mut e, &at, &mut unsafe_call);
    (!unsafe_call).then(|| e.to_string())
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
        pin_at(&parse(q).expect("parses").expr, t)
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
        assert_eq!(at_rerun_times(0), [-1000, 0, 1000]);
        assert_eq!(at_rerun_times(10), [-100, 0, 2, 10, 100]);
    }

    #[test]
    fn selected_metrics() {
        let hist: BTreeSet<String> = ["h".to_string()].into();
        let sel = |q: &str| selects_any(&parse(q).expect("parses").expr, &hist);
        assert!(sel("rate(h[5m])"));
        assert!(sel(r#"sum({__name__=~"h|x"})"#));
        assert!(sel("1 + h offset 1m"));
        assert!(!sel("hh + x"));
        assert!(!sel(r#"{job="h"}"#));
        assert!(!sel(r#"{__name__=~"x.*"}"#));
    }
}
