//! Label sets for alerts that do not fire: an alerting rule's expression is usually a
//! filter (`x > threshold`, `a and b`), so over healthy data it returns nothing. With its
//! filtering comparisons removed it returns the series the alert would be about, with
//! the labels and (for the left-hand side of a filter) the value a firing alert's
//! templates would see.
//!
//! Three levels, tried in order after the expression itself:
//! - [`Level::Top`]: comparisons at the top of the expression only (through
//!   parentheses and the set operators `and`/`or`, and the left side of `unless`);
//!   what remains is the series before the final filter.
//! - [`Level::All`]: every filtering comparison anywhere (inside aggregations,
//!   functions and subqueries too), except on the right of `unless`, where removing a
//!   filter would drop more series, not fewer.
//! - [`Level::Sets`]: also `a and b` and `a unless b` replaced by `a` (their result is
//!   a subset of `a`'s series, with `a`'s labels and values), for when `b` has no
//!   series in the data at all.
//!
//! `bool` comparisons are arithmetic, not filters, and stay.

use promql_parser::parser::{self, Expr};

/// How an expression was relaxed to get label sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// As written.
    AsWritten,
    /// Top-level comparisons removed.
    Top,
    /// All filtering comparisons removed.
    All,
    /// All filters and the right-hand sides of `and`/`unless` removed.
    Sets,
}

/// The relaxed forms of `expr`, by level, that differ from the ones before; empty when
/// `expr` does not parse (the hub's rule evaluation reports that).
pub fn relaxations(expr: &str) -> Vec<(Level, String)> {
    let Ok(ast) = parser::parse(expr) else {
        return Vec::new();
    };
    let mut out: Vec<(Level, String)> = Vec::new();
    let written = ast.to_string();
    for level in [Level::Top, Level::All, Level::Sets] {
        let e = strip(&ast, level);
        let text = e.to_string();
        if text != written && out.iter().all(|(_, t)| *t != text) {
            out.push((level, text));
        }
    }
    out
}

fn is_filter(b: &parser::BinaryExpr) -> bool {
    b.op.is_comparison_operator() && !b.return_bool()
}

/// `e` without the filters `level` removes.
fn strip(e: &Expr, level: Level) -> Expr {
    let deep = level >= Level::All;
    match e {
        Expr::Paren(p) => Expr::Paren(parser::ParenExpr {
            expr: Box::new(strip(&p.expr, level)),
        }),
        Expr::Binary(b) if is_filter(b) => {
            // A filter keeps the vector side's series and values.
            let side = if matches!(b.lhs.value_type(), parser::value::ValueType::Scalar) {
                &b.rhs
            } else {
                &b.lhs
            };
            strip(side, level)
        }
        Expr::Binary(b)
            if level == Level::Sets && matches!(b.op.to_string().as_str(), "and" | "unless") =>
        {
            strip(&b.lhs, level)
        }
        Expr::Binary(b) if b.op.is_set_operator() || deep => {
            let unless = b.op.to_string() == "unless";
            let mut b = b.clone();
            b.lhs = Box::new(strip(&b.lhs, level));
            if !unless {
                b.rhs = Box::new(strip(&b.rhs, level));
            }
            Expr::Binary(b)
        }
        _ if !deep => e.clone(),
        Expr::Aggregate(a) => {
            let mut a = a.clone();
            a.expr = Box::new(strip(&a.expr, level));
            Expr::Aggregate(a)
        }
        Expr::Call(c) => {
            let mut c = c.clone();
            c.args.args = c
                .args
                .args
                .iter()
                .map(|a| Box::new(strip(a, level)))
                .collect();
            Expr::Call(c)
        }
        Expr::Subquery(s) => {
            let mut s = s.clone();
            s.expr = Box::new(strip(&s.expr, level));
            Expr::Subquery(s)
        }
        Expr::Unary(u) => Expr::Unary(parser::UnaryExpr {
            expr: Box::new(strip(&u.expr, level)),
        }),
        _ => e.clone(),
    }
}

#[test]
fn relaxations_remove_filters_where_they_should() {
    let r = relaxations("(a / b * 100 < 15 and predict_linear(c[6h], 86400) < 0) unless d == 1");
    assert_eq!(r[0].0, Level::Top);
    assert_eq!(
        r[0].1,
        "(a / b * 100 and predict_linear(c[6h], 86400)) unless d == 1"
    );
    assert_eq!(r[1], (Level::Sets, "(a / b * 100)".to_string()));
    assert_eq!(r.len(), 2, "{r:?}");
    let r = relaxations("sum by (x) (rate(e[5m]) > 0) > 1");
    assert_eq!(r[0].1, "sum by (x) (rate(e[5m]) > 0)");
    assert_eq!(r[1], (Level::All, "sum by (x) (rate(e[5m]))".to_string()));
    let r = relaxations("0 < f and g > bool 1");
    assert_eq!(r[0].1, "f and g > bool 1");
    assert!(relaxations("up").is_empty());
}
