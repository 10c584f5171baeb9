//! What `absent` and `absent_over_time` share: the output series and its
//! labels.

use std::collections::HashSet;

use model::{Labels, LabelsBuilder, METRIC_NAME_LABEL, Sample};
use promql_parser::label::MatchOp;
use promql_parser::parser::Expr;

use crate::value::{Series, Steps};

/// One series valued 1 at the steps where `present` is false, labelled by
/// [`labels`] of the argument `node`; nothing when every step has data.
pub(crate) fn series(present: &[bool], steps: &Steps, node: &Expr) -> Vec<Series> {
    let points: Vec<Sample> = present
        .iter()
        .enumerate()
        .filter(|(_, p)| !**p)
        .map(|(i, _)| Sample::new(steps.at(i), 1.0))
        .collect();
    if points.is_empty() {
        return Vec::new();
    }
    vec![Series::new(labels(node), points)]
}

/// The labels `absent`/`absent_over_time` give their output: each equality
/// matcher's value, except `__name__` and names matched more than once or by
/// other operators (as Prometheus has always done). Nothing for anything but
/// a plain selector.
pub(crate) fn labels(node: &Expr) -> Labels {
    let vs = match node {
        Expr::VectorSelector(vs) => vs,
        Expr::MatrixSelector(ms) => &ms.vs,
        _ => return Labels::empty(),
    };
    let mut b = LabelsBuilder::new(Labels::empty());
    let mut has: HashSet<&str> = HashSet::new();
    for m in &vs.matchers.matchers {
        if m.name == METRIC_NAME_LABEL {
            continue;
        }
        if matches!(m.op, MatchOp::Equal) && !has.contains(m.name.as_str()) {
            b.set(m.name.as_str(), m.value.as_str());
            has.insert(m.name.as_str());
        } else {
            b.del(&m.name);
        }
    }
    b.build()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The labels for the (first) argument of `q`'s call, or for `q` itself.
    fn labels_of(q: &str) -> Labels {
        let p = crate::parse::parse(q).expect("parses");
        match p.expr {
            Expr::Call(c) => labels(&c.args.args[0]),
            other => labels(&other),
        }
    }

    #[test]
    fn labels_from_equality_matchers() {
        assert_eq!(
            labels_of(r#"x{job="a", foo=~"b", bar="c"}"#),
            Labels::from_pairs([("bar", "c"), ("job", "a")])
        );
        assert_eq!(
            labels_of(r#"absent_over_time(foo{a="1",b=~"x",c="3"}[5m])"#),
            Labels::from_pairs([("a", "1"), ("c", "3")])
        );
        // A label matched twice is left out.
        assert_eq!(
            labels_of(r#"x{job="a", job="b", foo="bar"}"#),
            Labels::from_pairs([("foo", "bar")])
        );
        assert_eq!(
            labels_of(r#"absent_over_time(foo{a="1",a="2"}[5m])"#),
            Labels::empty()
        );
        assert_eq!(
            labels_of(r#"{__name__="x", a="1"}"#),
            Labels::from_pairs([("a", "1")])
        );
        assert_eq!(
            labels_of(r#"absent_over_time({__name__="foo",x="y"}[5m])"#),
            Labels::from_pairs([("x", "y")])
        );
        // Not a plain selector: a subquery, an aggregation.
        assert_eq!(
            labels_of(r#"absent_over_time(foo{a="1"}[5m:1m])"#),
            Labels::empty()
        );
        assert_eq!(labels_of("sum(x)"), Labels::empty());
    }
}
