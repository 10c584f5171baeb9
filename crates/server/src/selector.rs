//! From PromQL text to the selectors this API can evaluate so far: instant
//! vector selectors and range (matrix) selectors with `offset` and `@`.
//!
//! Matchers are rebuilt as `model::Matcher` so that regexes are compiled with
//! Prometheus's anchoring (`PromRegex`), not the parser's.

use std::time::{SystemTime, UNIX_EPOCH};

use model::{METRIC_NAME_LABEL, MatchOp, Matcher, Timestamp};
use promql_parser::label::{MatchOp as PMatchOp, Matchers};
use promql_parser::parser::{AtModifier, Expr, Offset, VectorSelector};

/// Where an `@` modifier pins evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum At {
    /// A fixed time, ms.
    Time(Timestamp),
    /// `@ start()`: the query's start.
    Start,
    /// `@ end()`: the query's end.
    End,
}

/// One vector selector, ready to run against a querier.
#[derive(Debug, Clone)]
pub struct Selector {
    /// All matchers, `__name__` included.
    pub matchers: Vec<Matcher>,
    /// `offset`, ms (negative for `offset -5m`).
    pub offset_ms: i64,
    /// `@`, if any.
    pub at: Option<At>,
}

impl Selector {
    /// The reference time for evaluation at `ts` of a query over `[start, end]`.
    pub fn ref_time(&self, ts: Timestamp, start: Timestamp, end: Timestamp) -> Timestamp {
        let base = match self.at {
            None => ts,
            Some(At::Time(t)) => t,
            Some(At::Start) => start,
            Some(At::End) => end,
        };
        base.saturating_sub(self.offset_ms)
    }
}

/// An expression this API can evaluate.
#[derive(Debug, Clone)]
pub enum QueryExpr {
    /// `up{job="x"}`: an instant vector.
    Vector(Selector),
    /// `up{job="x"}[5m]`: a range vector, with its range in ms.
    Matrix(Selector, i64),
}

/// Parses a query, accepting only (parenthesised) vector and matrix selectors.
/// Errors are messages for `invalid parameter "query": ...`.
pub fn parse_query(q: &str) -> Result<QueryExpr, String> {
    let expr = promql_parser::parser::parse(q).map_err(|e| format!("parse error: {e}"))?;
    to_query_expr(expr)
}

fn to_query_expr(expr: Expr) -> Result<QueryExpr, String> {
    match expr {
        Expr::Paren(p) => to_query_expr(*p.expr),
        Expr::VectorSelector(vs) => Ok(QueryExpr::Vector(to_selector(&vs)?)),
        Expr::MatrixSelector(ms) => {
            let range = i64::try_from(ms.range.as_millis()).unwrap_or(i64::MAX);
            Ok(QueryExpr::Matrix(to_selector(&ms.vs)?, range))
        }
        other => Err(format!(
            "{} expressions are not supported yet: only vector selectors (up{{job=\"x\"}}) \
             and range-vector selectors (up[5m]) can be evaluated",
            kind_name(&other)
        )),
    }
}

/// A readable name of an expression kind, for "not supported" errors.
fn kind_name(e: &Expr) -> &'static str {
    match e {
        Expr::Aggregate(_) => "aggregation",
        Expr::Unary(_) => "unary",
        Expr::Binary(_) => "binary",
        Expr::Paren(_) => "parenthesised",
        Expr::Subquery(_) => "subquery",
        Expr::NumberLiteral(_) => "number literal",
        Expr::StringLiteral(_) => "string literal",
        Expr::VectorSelector(_) => "vector selector",
        Expr::MatrixSelector(_) => "matrix selector",
        Expr::Call(_) => "function call",
        Expr::Extension(_) => "extension",
    }
}

fn to_selector(vs: &VectorSelector) -> Result<Selector, String> {
    let matchers = to_matchers(vs.name.as_deref(), &vs.matchers)?;
    let offset_ms = match &vs.offset {
        None => 0,
        Some(Offset::Pos(d)) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Some(Offset::Neg(d)) => -i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
    };
    let at = vs.at.as_ref().map(|a| match a {
        AtModifier::Start => At::Start,
        AtModifier::End => At::End,
        AtModifier::At(t) => At::Time(system_time_ms(*t)),
    });
    Ok(Selector {
        matchers,
        offset_ms,
        at,
    })
}

fn system_time_ms(t: SystemTime) -> Timestamp {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_millis()).unwrap_or(i64::MAX),
    }
}

fn to_matchers(name: Option<&str>, ms: &Matchers) -> Result<Vec<Matcher>, String> {
    if !ms.or_matchers.is_empty() {
        return Err("\"or\" between label matchers is not supported".to_string());
    }
    let mut out = Vec::with_capacity(ms.matchers.len() + 1);
    if let Some(n) = name {
        out.push(Matcher::equal(METRIC_NAME_LABEL, n));
    }
    for m in &ms.matchers {
        let op = match m.op {
            PMatchOp::Equal => MatchOp::Equal,
            PMatchOp::NotEqual => MatchOp::NotEqual,
            PMatchOp::Re(_) => MatchOp::Regex,
            PMatchOp::NotRe(_) => MatchOp::NotRegex,
        };
        out.push(Matcher::new(op, m.name.clone(), m.value.clone()).map_err(|e| e.to_string())?);
    }
    Ok(out)
}

/// Parses one `match[]` value: a bare series selector, no range, offset or `@`.
pub fn parse_metric_selector(s: &str) -> Result<Vec<Matcher>, String> {
    let expr = promql_parser::parser::parse(s).map_err(|e| format!("parse error: {e}"))?;
    match expr {
        Expr::VectorSelector(vs) if vs.offset.is_none() && vs.at.is_none() => {
            to_matchers(vs.name.as_deref(), &vs.matchers)
        }
        other => Err(format!(
            "parse error: expected a series selector, got {} expression",
            kind_name(&other)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vector(q: &str) -> Selector {
        match parse_query(q).expect("parses") {
            QueryExpr::Vector(s) => s,
            other => panic!("not a vector: {other:?}"),
        }
    }

    #[test]
    fn name_and_matchers() {
        let s = vector(r#"up{job=~"a|b",x!="y"}"#);
        let shown: Vec<String> = s.matchers.iter().map(|m| m.to_string()).collect();
        assert_eq!(shown, [r#"__name__="up""#, r#"job=~"a|b""#, r#"x!="y""#]);
        // Prometheus's anchoring: `.` matches a newline.
        let s = vector(r#"{a=~"x.y"}"#);
        assert!(s.matchers[0].matches("x\ny"));
    }

    #[test]
    fn offset_and_at() {
        let s = vector("(up offset 5m @ 100)");
        assert_eq!(s.offset_ms, 300_000);
        assert_eq!(s.at, Some(At::Time(100_000)));
        assert_eq!(s.ref_time(7, 0, 0), 100_000 - 300_000);
        let s = vector("up @ start() offset -1m");
        assert_eq!(s.ref_time(50, 10, 90), 10 + 60_000);
        let s = vector("up @ end()");
        assert_eq!(s.ref_time(50, 10, 90), 90);
        match parse_query("up[90s] offset 1s").expect("parses") {
            QueryExpr::Matrix(s, r) => assert_eq!((s.offset_ms, r), (1000, 90_000)),
            other => panic!("not a matrix: {other:?}"),
        }
    }

    #[test]
    fn unsupported_kinds() {
        for (q, kind) in [
            ("sum(up)", "aggregation"),
            ("rate(up[5m])", "function call"),
            ("up + 1", "binary"),
            ("1", "number literal"),
            ("up[5m:1m]", "subquery"),
        ] {
            let e = parse_query(q).expect_err(q);
            assert!(e.starts_with(kind), "{q}: {e}");
        }
        assert!(
            parse_query("up{")
                .expect_err("bad")
                .starts_with("parse error: ")
        );
    }

    #[test]
    fn metric_selectors() {
        assert_eq!(parse_metric_selector(r#"up{a="b"}"#).expect("ok").len(), 2);
        assert!(parse_metric_selector("up[5m]").is_err());
        assert!(parse_metric_selector("up offset 1m").is_err());
        assert!(parse_metric_selector("sum(up)").is_err());
    }
}
