//! `sort`, `sort_desc`, `sort_by_label`, `sort_by_label_desc`: reorder the
//! vector (its order is the result's order in an instant query) and keep the
//! metric name. In a range query the result is ordered by labels anyway, so
//! Prometheus warns that sorting is ineffective there.

use std::cmp::Ordering;

use promql_parser::parser::{Call, Expr};

use super::arg;
use crate::error::EvalResult;
use crate::eval::Evaluator;
use crate::stats::nan_last;
use crate::value::{Series, Value};

/// Evaluates one of the sort functions.
pub(super) fn call(ev: &Evaluator<'_>, c: &Call, args: &[&Expr]) -> EvalResult<Value> {
    let mut v = ev.eval_vector(arg(args, 0)?)?;
    let mut keys = Vec::with_capacity(args.len().saturating_sub(1));
    for a in args.iter().skip(1) {
        keys.push(ev.eval_string(a)?);
    }
    if ev.steps.start != ev.steps.end
        && let Some(node) = call_node(&ev.sh.query.expr, c)
    {
        ev.warn(
            "sort is ineffective for range queries since results are always ordered by labels",
            node,
        );
    }
    if matches!(c.func.name, "sort" | "sort_desc") {
        // Prometheus sorts (and keeps) only the float samples.
        crate::histograms::drop_all(&mut v);
    }
    match c.func.name {
        "sort" => merge_sort(&mut v, |a, b| {
            nan_last(first_value(a), first_value(b), false)
        }),
        "sort_desc" => merge_sort(&mut v, |a, b| {
            nan_last(first_value(a), first_value(b), true)
        }),
        "sort_by_label" => merge_sort(&mut v, |a, b| by_labels(a, b, &keys)),
        _ => merge_sort(&mut v, |a, b| by_labels(b, a, &keys)),
    }
    Ok(Value::Vector(v))
}

/// The node of the call `c` inside the query's AST (annotations are placed by
/// node, and the dispatcher hands over the call without its enclosing node).
fn call_node<'q>(root: &'q Expr, c: &Call) -> Option<&'q Expr> {
    match root {
        Expr::Call(cc) if std::ptr::eq(cc, c) => Some(root),
        Expr::Call(cc) => cc.args.args.iter().find_map(|a| call_node(a, c)),
        Expr::Aggregate(a) => call_node(&a.expr, c).or_else(|| call_node(a.param.as_deref()?, c)),
        Expr::Unary(u) => call_node(&u.expr, c),
        Expr::Binary(b) => call_node(&b.lhs, c).or_else(|| call_node(&b.rhs, c)),
        Expr::Paren(p) => call_node(&p.expr, c),
        Expr::Subquery(s) => call_node(&s.expr, c),
        _ => None,
    }
}

/// The value an instant query sorts by (the first step's sample).
fn first_value(s: &Series) -> f64 {
    s.samples.first().map_or(f64::NAN, |p| p.v)
}

/// Prometheus's `sort_by_label` order: each key label in natural order, then
/// the whole label set.
fn by_labels(a: &Series, b: &Series, keys: &[String]) -> Ordering {
    for k in keys {
        let (x, y) = (a.labels.get_or_empty(k), b.labels.get_or_empty(k));
        if x == y {
            continue;
        }
        return if natural_less(x, y) {
            Ordering::Less
        } else {
            Ordering::Greater
        };
    }
    a.labels.cmp(&b.labels)
}

/// A run of ASCII digits or of other characters.
fn chunks(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut digits = None;
    for (i, ch) in s.char_indices() {
        let d = ch.is_ascii_digit();
        if digits.is_some_and(|prev| prev != d) {
            out.push(&s[start..i]);
            start = i;
        }
        digits = Some(d);
    }
    if start < s.len() {
        out.push(&s[start..]);
    }
    out
}

/// The natural order of the `natsort` package Prometheus uses, including its
/// quirks (e.g. an empty string is never less): chunk by chunk, digit runs
/// compared as numbers when they fit an int64, everything else as strings.
fn natural_less(a: &str, b: &str) -> bool {
    let (ca, cb) = (chunks(a), chunks(b));
    for (i, x) in ca.iter().enumerate() {
        let Some(y) = cb.get(i) else {
            return false;
        };
        let equal = match (x.parse::<i64>(), y.parse::<i64>()) {
            (Ok(nx), Ok(ny)) if nx != ny => return nx < ny,
            (Ok(_), Ok(_)) => true,
            _ => x == y,
        };
        if !equal {
            return x < y;
        }
        if i == ca.len() - 1 {
            return true;
        }
        if i == cb.len() - 1 {
            return false;
        }
    }
    false
}

/// A stable merge sort that tolerates inconsistent comparators (the natural
/// order above is not a total order on odd inputs; `slice::sort_by` may panic
/// on such comparators).
fn merge_sort<T: Clone>(v: &mut [T], mut cmp: impl FnMut(&T, &T) -> Ordering) {
    let n = v.len();
    if n < 2 {
        return;
    }
    let mut buf: Vec<T> = v.to_vec();
    let mut width = 1;
    // Each pass merges runs of `width` from `src` into `dst`; the roles swap.
    let mut from_v = true;
    while width < n {
        {
            let (src, dst): (&[T], &mut [T]) = if from_v {
                (&*v, &mut buf[..])
            } else {
                (&buf[..], &mut *v)
            };
            merge_pass(src, dst, width, &mut cmp);
        }
        from_v = !from_v;
        width *= 2;
    }
    if !from_v {
        v.clone_from_slice(&buf);
    }
}

fn merge_pass<T: Clone>(
    src: &[T],
    dst: &mut [T],
    width: usize,
    cmp: &mut impl FnMut(&T, &T) -> Ordering,
) {
    let n = src.len();
    let mut start = 0;
    while start < n {
        let mid = (start + width).min(n);
        let end = (start + 2 * width).min(n);
        let (mut i, mut j, mut k) = (start, mid, start);
        while i < mid && j < end {
            // Take from the right only when strictly less: stability.
            if cmp(&src[j], &src[i]) == Ordering::Less {
                dst[k] = src[j].clone();
                j += 1;
            } else {
                dst[k] = src[i].clone();
                i += 1;
            }
            k += 1;
        }
        for x in &src[i..mid] {
            dst[k] = x.clone();
            k += 1;
        }
        for x in &src[j..end] {
            dst[k] = x.clone();
            k += 1;
        }
        start = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order() {
        assert!(natural_less("2", "10"));
        assert!(!natural_less("10", "2"));
        assert!(natural_less("4m5", "4m600"));
        assert!(natural_less("4m600", "4m1000"));
        assert!(natural_less("1.2.3", "1.11.3"));
        assert!(natural_less("1.11.3", "1.111.3"));
        assert!(natural_less("abc", "abd"));
        assert!(!natural_less("", "a"));
        assert!(!natural_less("a", ""));
        assert_eq!(chunks("ab12cd3"), ["ab", "12", "cd", "3"]);
    }

    #[test]
    fn values_nan_last_both_ways() {
        let mut v = vec![3.0, f64::NAN, 1.0, 2.0];
        merge_sort(&mut v, |a, b| nan_last(*a, *b, false));
        assert_eq!(&v[..3], &[1.0, 2.0, 3.0]);
        assert!(v[3].is_nan());
        merge_sort(&mut v, |a, b| nan_last(*a, *b, true));
        assert_eq!(&v[..3], &[3.0, 2.0, 1.0]);
        assert!(v[3].is_nan());
    }

    #[test]
    fn merge_sort_is_stable_and_survives_bad_comparators() {
        let mut v: Vec<(i32, i32)> = (0..37).map(|i| (i % 3, i)).collect();
        merge_sort(&mut v, |a, b| a.0.cmp(&b.0));
        assert!(
            v.windows(2)
                .all(|w| w[0].0 < w[1].0 || (w[0].0 == w[1].0 && w[0].1 < w[1].1))
        );
        let mut w: Vec<i32> = (0..50).rev().collect();
        merge_sort(&mut w, |_, _| Ordering::Less);
        assert_eq!(w.len(), 50);
    }
}
