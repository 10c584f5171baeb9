//! PromQL text to an AST (via the `promql-parser` crate), plus what that crate
//! does not give: where each node starts in the text (annotations print it) and
//! matchers compiled with Prometheus's regex anchoring (`^(?s:re)$`).

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use parking_lot::Mutex;

use model::{METRIC_NAME_LABEL, MatchOp, Matcher};
use promql_parser::label::{MatchOp as PMatchOp, Matchers};
use promql_parser::parser::{Expr, VectorSelector};

use crate::annotations::Pos;
use crate::error::{EvalError, EvalResult};

/// A parsed query and the start offset of its nodes in the text.
#[derive(Debug)]
pub struct ParsedQuery {
    /// The query text.
    pub text: String,
    /// The AST.
    pub expr: Expr,
    /// Node address to byte offset; filled by [`ParsedQuery::locate`].
    offsets: HashMap<usize, usize>,
    /// Offset of the root node, kept apart: the root lives inline in this
    /// struct, so its address changes whenever the query is moved.
    root: Option<usize>,
}

/// Longest query text accepted, bytes.
pub const MAX_QUERY_BYTES: usize = 256 * 1024;

/// Parses `text`; errors read like Prometheus's `parse error: ...`.
pub fn parse(text: &str) -> EvalResult<ParsedQuery> {
    if text.len() > MAX_QUERY_BYTES {
        return Err(EvalError::Parse(format!(
            "parse error: query is {} bytes, more than the limit of {MAX_QUERY_BYTES}",
            text.len()
        )));
    }
    let expr = promql_parser::parser::parse(text)
        .map_err(|e| EvalError::Parse(format!("parse error: {e}")))?;
    let mut q = ParsedQuery {
        text: text.to_string(),
        expr,
        offsets: HashMap::new(),
        root: None,
    };
    q.locate();
    Ok(q)
}

/// Parsed queries kept for reuse; emptied when full.
const CACHE_ENTRIES: usize = 512;
/// Longest query text cached.
const CACHE_MAX_TEXT: usize = 16 * 1024;

static CACHE: LazyLock<Mutex<HashMap<String, Arc<ParsedQuery>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// [`parse`], sharing the result with earlier parses of the same text: a
/// dashboard sends the same queries on every refresh, and parsing (which
/// also compiles the parser's own regexes) costs more than evaluating a
/// small query. The AST is immutable, so sharing it is safe.
pub fn parse_shared(text: &str) -> EvalResult<Arc<ParsedQuery>> {
    if let Some(hit) = CACHE.lock().get(text) {
        return Ok(Arc::clone(hit));
    }
    let parsed = Arc::new(parse(text)?);
    if text.len() <= CACHE_MAX_TEXT {
        let mut c = CACHE.lock();
        if c.len() >= CACHE_ENTRIES {
            c.clear();
        }
        c.insert(text.to_string(), Arc::clone(&parsed));
    }
    Ok(parsed)
}

impl ParsedQuery {
    /// Wraps an already-built AST (no positions known).
    pub fn from_expr(expr: Expr) -> Self {
        ParsedQuery {
            text: expr.to_string(),
            expr,
            offsets: HashMap::new(),
            root: None,
        }
    }

    /// Where `node` (a node of this query's AST) starts, if known.
    pub fn pos(&self, node: &Expr) -> Option<Pos> {
        let off = if std::ptr::eq(node, &self.expr) {
            self.root?
        } else {
            *self.offsets.get(&(node as *const Expr as usize))?
        };
        Some(Pos::of_offset(&self.text, off))
    }

    /// Walks the AST in source order, finding each node's first token in the text.
    fn locate(&mut self) {
        let mut offsets = HashMap::new();
        let mut scan = Scanner {
            text: self.text.as_bytes(),
            cursor: 0,
        };
        self.root = walk(&self.expr, &mut scan, &mut offsets);
        // The root's own entry is keyed by an address that moves with `self`.
        offsets.remove(&key(&self.expr));
        self.offsets = offsets;
    }
}

fn key(e: &Expr) -> usize {
    e as *const Expr as usize
}

fn walk(e: &Expr, s: &mut Scanner<'_>, out: &mut HashMap<usize, usize>) -> Option<usize> {
    let start = match e {
        Expr::Aggregate(a) => {
            let op = a.op.to_string();
            let at = s.find_word(&op);
            if let Some(p) = &a.param {
                walk(p, s, out);
            }
            walk(&a.expr, s, out);
            at
        }
        Expr::Unary(u) => {
            let at = s.find_byte(b'-');
            walk(&u.expr, s, out);
            at
        }
        Expr::Binary(b) => {
            let at = walk(&b.lhs, s, out);
            walk(&b.rhs, s, out);
            at
        }
        Expr::Paren(p) => {
            let at = s.find_byte(b'(');
            walk(&p.expr, s, out);
            at
        }
        Expr::Subquery(sq) => {
            let at = walk(&sq.expr, s, out);
            s.skip_past_bracket();
            s.skip_modifiers();
            at
        }
        Expr::NumberLiteral(_) => s.find_number(),
        Expr::StringLiteral(_) => s.find_string(),
        Expr::VectorSelector(vs) => {
            let at = locate_selector(vs, s);
            s.skip_modifiers();
            at
        }
        Expr::MatrixSelector(ms) => {
            let at = locate_selector(&ms.vs, s);
            s.skip_past_bracket();
            s.skip_modifiers();
            at
        }
        Expr::Call(c) => {
            let at = s.find_word(c.func.name);
            for a in &c.args.args {
                walk(a, s, out);
            }
            at
        }
        Expr::Extension(_) => None,
    };
    if let Some(off) = start {
        out.insert(key(e), off);
    }
    start
}

fn locate_selector(vs: &VectorSelector, s: &mut Scanner<'_>) -> Option<usize> {
    let at = match &vs.name {
        Some(n) if !n.is_empty() => s.find_word(n).or_else(|| s.find_byte(b'{')),
        _ => s.find_byte(b'{'),
    };
    s.skip_ws();
    if s.peek() == Some(b'{') {
        s.skip_balanced(b'{', b'}');
    }
    at
}

/// A forward-only search over the query text that steps over quoted strings.
struct Scanner<'a> {
    text: &'a [u8],
    cursor: usize,
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b':'
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.get(self.cursor).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b) = self.peek() {
            if b == b'#' {
                while self.peek().is_some_and(|b| b != b'\n') {
                    self.cursor += 1;
                }
            } else if b.is_ascii_whitespace() {
                self.cursor += 1;
            } else {
                break;
            }
        }
    }

    /// Index just past the quoted string starting at `i`.
    fn string_end(&self, i: usize) -> usize {
        let q = self.text[i];
        let mut j = i + 1;
        while j < self.text.len() {
            let b = self.text[j];
            if b == b'\\' && q != b'`' {
                j += 2;
                continue;
            }
            if b == q {
                return j + 1;
            }
            j += 1;
        }
        self.text.len()
    }

    /// Moves to the first position at or after the cursor where `pred` holds,
    /// outside strings; returns it and leaves the cursor there.
    fn seek(&mut self, mut pred: impl FnMut(&[u8], usize) -> Option<usize>) -> Option<usize> {
        let mut i = self.cursor;
        while i < self.text.len() {
            if let Some(len) = pred(self.text, i) {
                self.cursor = i + len;
                return Some(i);
            }
            let b = self.text[i];
            if b == b'"' || b == b'\'' || b == b'`' {
                i = self.string_end(i);
                continue;
            }
            i += 1;
        }
        None
    }

    fn find_byte(&mut self, want: u8) -> Option<usize> {
        self.seek(|t, i| (t[i] == want).then_some(1))
    }

    fn find_word(&mut self, word: &str) -> Option<usize> {
        let w = word.as_bytes();
        self.seek(|t, i| {
            let end = i + w.len();
            let hit = end <= t.len()
                && t[i..end].eq_ignore_ascii_case(w)
                && (i == 0 || !is_ident(t[i - 1]))
                && t.get(end).is_none_or(|&b| !is_ident(b));
            hit.then_some(w.len())
        })
    }

    fn find_string(&mut self) -> Option<usize> {
        let start = self.seek(|t, i| matches!(t[i], b'"' | b'\'' | b'`').then_some(0));
        if let Some(i) = start {
            // `seek` stops on the quote itself; step over the string.
            self.cursor = self.string_end(i);
        }
        start
    }

    fn find_number(&mut self) -> Option<usize> {
        self.seek(|t, i| {
            let prev_ok = i == 0 || !is_ident(t[i - 1]);
            if !prev_ok {
                return None;
            }
            let mut j = i;
            if matches!(t[j], b'-' | b'+') {
                j += 1;
            }
            let digits_start = j;
            let rest = &t[j..];
            for word in [&b"inf"[..], b"nan"] {
                if rest.len() >= 3
                    && rest[..3].eq_ignore_ascii_case(word)
                    && rest.get(3).is_none_or(|&b| !is_ident(b))
                {
                    return Some(j + 3 - i);
                }
            }
            while j < t.len() && (t[j].is_ascii_alphanumeric() || matches!(t[j], b'.' | b'_')) {
                j += 1;
            }
            let first = t.get(digits_start).copied();
            let numeric = first.is_some_and(|b| b.is_ascii_digit())
                || (first == Some(b'.')
                    && t.get(digits_start + 1).is_some_and(|b| b.is_ascii_digit()));
            (numeric && j > digits_start).then_some(j - i)
        })
    }

    fn skip_balanced(&mut self, open: u8, close: u8) {
        let mut depth = 0usize;
        let _ = self.seek(|t, i| {
            if t[i] == open {
                depth += 1;
            } else if t[i] == close {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(1);
                }
            }
            None
        });
    }

    fn skip_past_bracket(&mut self) {
        if self.find_byte(b'[').is_some() {
            self.cursor -= 1;
            self.skip_balanced(b'[', b']');
        }
    }

    /// Steps over `offset <duration>` and `@ <time>` that follow a selector.
    fn skip_modifiers(&mut self) {
        loop {
            self.skip_ws();
            let rest = &self.text[self.cursor.min(self.text.len())..];
            if rest.len() >= 6 && rest[..6].eq_ignore_ascii_case(b"offset") {
                self.cursor += 6;
                self.skip_ws();
                self.skip_token();
            } else if rest.first() == Some(&b'@') {
                self.cursor += 1;
                self.skip_ws();
                self.skip_token();
                if self.peek() == Some(b'(') {
                    self.skip_balanced(b'(', b')');
                }
            } else {
                return;
            }
        }
    }

    fn skip_token(&mut self) {
        if matches!(self.peek(), Some(b'-' | b'+')) {
            self.cursor += 1;
        }
        while self
            .peek()
            .is_some_and(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_'))
        {
            self.cursor += 1;
        }
    }
}

/// The matchers of a selector, `__name__` first when the selector names a metric.
/// Regexes compile with Prometheus's anchoring; `or` between matcher sets is refused.
pub fn selector_matchers(vs: &VectorSelector) -> EvalResult<Vec<Matcher>> {
    to_matchers(vs.name.as_deref(), &vs.matchers)
}

fn to_matchers(name: Option<&str>, ms: &Matchers) -> EvalResult<Vec<Matcher>> {
    if !ms.or_matchers.is_empty() {
        return Err(EvalError::Parse(
            "parse error: \"or\" between label matchers is not supported".to_string(),
        ));
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
        out.push(
            Matcher::new(op, m.name.clone(), m.value.clone())
                .map_err(|e| EvalError::Parse(format!("parse error: {e}")))?,
        );
    }
    Ok(out)
}

/// Parses one `match[]` value of the API: a bare series selector, no range, offset or `@`.
pub fn parse_metric_selector(s: &str) -> EvalResult<Vec<Matcher>> {
    let q = parse(s)?;
    match &q.expr {
        Expr::VectorSelector(vs) if vs.offset.is_none() && vs.at.is_none() => selector_matchers(vs),
        _ => Err(EvalError::Parse(
            "parse error: expected a series selector (e.g. up{job=\"x\"})".to_string(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pos_of(q: &ParsedQuery, node: &Expr) -> Option<(usize, usize)> {
        q.pos(node).map(|p| (p.line, p.col))
    }

    #[test]
    fn node_positions() {
        let q = parse("sum by (a) (rate(foo{x=\"rate(\"}[5m])) + 3 * bar").expect("parses");
        let Expr::Binary(b) = &q.expr else {
            panic!("binary")
        };
        assert_eq!(pos_of(&q, &b.lhs), Some((1, 1)));
        let Expr::Aggregate(a) = &*b.lhs else {
            panic!("aggregate")
        };
        let Expr::Paren(p) = &*a.expr else {
            // promql-parser may drop the grouping parenthesis.
            let Expr::Call(c) = &*a.expr else {
                panic!("call")
            };
            assert_eq!(q.pos(&a.expr).map(|p| p.col), Some(13));
            assert_eq!(q.pos(&c.args.args[0]).map(|p| p.col), Some(18));
            return;
        };
        assert_eq!(q.pos(&p.expr).map(|p| p.col), Some(13));
        let Expr::Binary(r) = &*b.rhs else {
            panic!("binary")
        };
        assert_eq!(pos_of(&q, &r.lhs), Some((1, 42)));
        assert_eq!(pos_of(&q, &r.rhs), Some((1, 46)));
    }

    #[test]
    fn string_literal_positions() {
        let q = parse(r#"label_replace(up, "a", "b", "c", "d")"#).expect("parses");
        let Expr::Call(c) = &q.expr else {
            panic!("call")
        };
        let cols: Vec<_> = c
            .args
            .args
            .iter()
            .map(|a| q.pos(a).map(|p| p.col))
            .collect();
        assert_eq!(cols, [Some(15), Some(19), Some(24), Some(29), Some(34)]);
    }

    #[test]
    fn number_after_range() {
        let q = parse("rate(foo[5m] offset 1m) > 3").expect("parses");
        let Expr::Binary(b) = &q.expr else {
            panic!("binary")
        };
        assert_eq!(q.pos(&b.rhs).map(|p| p.col), Some(27));
    }

    #[test]
    fn matcher_anchoring() {
        let q = parse(r#"{a=~"x.y"}"#).expect("parses");
        let Expr::VectorSelector(vs) = &q.expr else {
            panic!("selector")
        };
        let m = selector_matchers(vs).expect("compiles");
        assert!(m[0].matches("x\ny"));
        assert!(parse_metric_selector("up[5m]").is_err());
    }
}
