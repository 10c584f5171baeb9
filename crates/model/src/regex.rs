//! Prometheus regular expressions: RE2 syntax, fully anchored, `.` matching newlines.
//!
//! Prometheus compiles every matcher and relabel regex as `^(?s:RE)$` with Go's
//! RE2. Rust's `regex` crate is close but differs in a few places; the
//! translation below closes the gaps that real configurations hit:
//! `\Q…\E` quoting, `{` that does not start a repetition (literal in Go),
//! and Perl classes (`\d`, `\w`, `\s`, `\b`) that are ASCII-only in Go.

use std::collections::HashMap;
use std::fmt;
use std::sync::{LazyLock, Mutex};

/// A regex that cannot be compiled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid regular expression {pattern:?}: {reason}")]
pub struct RegexError {
    /// The pattern as the user wrote it.
    pub pattern: String,
    /// Why it was refused.
    pub reason: String,
}

/// A compiled, anchored Prometheus regular expression.
#[derive(Clone)]
pub struct PromRegex {
    source: String,
    re: ::regex::Regex,
    // Set when the pattern is a plain alternation of literals (`a|b|c`), which
    // lets an index look values up directly instead of scanning.
    literals: Option<Vec<String>>,
}

impl PromRegex {
    /// Compiles `pattern` with Prometheus's anchoring. Compiled patterns are
    /// kept in a small process-wide cache: the same matchers arrive with every
    /// refresh of a dashboard, and building a regex costs tens of microseconds,
    /// more than evaluating a small query.
    pub fn new(pattern: &str) -> Result<Self, RegexError> {
        if let Some(hit) = cache_get(pattern) {
            return Ok(hit);
        }
        let re = Self::compile(pattern)?;
        cache_put(&re);
        Ok(re)
    }

    fn compile(pattern: &str) -> Result<Self, RegexError> {
        let translated = translate(pattern).map_err(|reason| RegexError {
            pattern: pattern.to_string(),
            reason,
        })?;
        let anchored = format!("^(?s:{translated})$");
        let re = ::regex::RegexBuilder::new(&anchored)
            .size_limit(32 << 20)
            .build()
            .map_err(|e| RegexError {
                pattern: pattern.to_string(),
                reason: e.to_string(),
            })?;
        Ok(PromRegex {
            source: pattern.to_string(),
            re,
            literals: literal_alternatives(pattern),
        })
    }

    /// True when the whole of `s` matches.
    pub fn is_match(&self, s: &str) -> bool {
        if let Some(lits) = &self.literals {
            return lits.iter().any(|l| l == s);
        }
        self.re.is_match(s)
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The compiled, anchored regex (for capture groups in relabelling).
    pub fn regex(&self) -> &::regex::Regex {
        &self.re
    }

    /// When the pattern is `lit1|lit2|…` of plain literals, those literals.
    pub fn literal_alternatives(&self) -> Option<&[String]> {
        self.literals.as_deref()
    }
}

/// Most compiled patterns kept; the cache is emptied when it fills up.
const CACHE_ENTRIES: usize = 1024;
/// Longest pattern cached (longer ones are rare and would crowd the cache).
const CACHE_MAX_PATTERN: usize = 4096;

static CACHE: LazyLock<Mutex<HashMap<String, PromRegex>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

fn cache_get(pattern: &str) -> Option<PromRegex> {
    // A poisoned lock only means another thread panicked mid-insert: skip the cache.
    CACHE.lock().ok()?.get(pattern).cloned()
}

fn cache_put(re: &PromRegex) {
    if re.source.len() > CACHE_MAX_PATTERN {
        return;
    }
    if let Ok(mut c) = CACHE.lock() {
        if c.len() >= CACHE_ENTRIES {
            c.clear();
        }
        c.insert(re.source.clone(), re.clone());
    }
}

impl fmt::Debug for PromRegex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PromRegex({:?})", self.source)
    }
}

impl PartialEq for PromRegex {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Eq for PromRegex {}

fn is_meta(c: char) -> bool {
    matches!(
        c,
        '\\' | '.' | '+' | '*' | '?' | '(' | ')' | '|' | '[' | ']' | '{' | '}' | '^' | '$'
    )
}

fn literal_alternatives(p: &str) -> Option<Vec<String>> {
    if p.chars().any(|c| is_meta(c) && c != '|') {
        return None;
    }
    Some(p.split('|').map(str::to_string).collect())
}

/// True when `s[i..]` (starting at `{`) is a valid RE2 repetition `{n}`, `{n,}` or `{n,m}`.
fn is_repetition(s: &[char], i: usize) -> bool {
    let mut j = i + 1;
    let start = j;
    while j < s.len() && s[j].is_ascii_digit() {
        j += 1;
    }
    if j == start {
        return false;
    }
    if j < s.len() && s[j] == '}' {
        return true;
    }
    if j >= s.len() || s[j] != ',' {
        return false;
    }
    j += 1;
    while j < s.len() && s[j].is_ascii_digit() {
        j += 1;
    }
    j < s.len() && s[j] == '}'
}

fn push_escaped(out: &mut String, c: char) {
    if is_meta(c) || c == '-' || c == '&' || c == '~' || c == '#' || c == ' ' {
        out.push('\\');
    }
    out.push(c);
}

fn translate(p: &str) -> Result<String, String> {
    let s: Vec<char> = p.chars().collect();
    let mut out = String::with_capacity(p.len() + 8);
    let mut i = 0;
    let mut in_class = false;
    while i < s.len() {
        let c = s[i];
        match c {
            '\\' => {
                let Some(&n) = s.get(i + 1) else {
                    return Err("trailing backslash at end of expression".into());
                };
                if n == 'Q' && !in_class {
                    // \Q...\E: everything up to \E (or the end) is literal.
                    let mut j = i + 2;
                    while j < s.len() {
                        if s[j] == '\\' && s.get(j + 1) == Some(&'E') {
                            break;
                        }
                        push_escaped(&mut out, s[j]);
                        j += 1;
                    }
                    i = if j < s.len() { j + 2 } else { j };
                    continue;
                }
                let ascii = match (n, in_class) {
                    ('d', false) => Some("[0-9]"),
                    ('D', false) => Some("[^0-9]"),
                    ('w', false) => Some("[0-9A-Za-z_]"),
                    ('W', false) => Some("[^0-9A-Za-z_]"),
                    ('s', false) => Some("[\\t\\n\\f\\r ]"),
                    ('S', false) => Some("[^\\t\\n\\f\\r ]"),
                    ('b', false) => Some("(?-u:\\b)"),
                    ('B', false) => Some("(?-u:\\B)"),
                    ('d', true) => Some("0-9"),
                    ('w', true) => Some("0-9A-Za-z_"),
                    ('s', true) => Some("\\t\\n\\f\\r "),
                    _ => None,
                };
                match ascii {
                    Some(rep) => out.push_str(rep),
                    None => {
                        out.push('\\');
                        out.push(n);
                    }
                }
                i += 2;
            }
            '[' if !in_class => {
                in_class = true;
                out.push('[');
                i += 1;
                // A leading ^ and a leading ] are part of the class syntax.
                if s.get(i) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                if s.get(i) == Some(&']') {
                    out.push_str("\\]");
                    i += 1;
                }
            }
            '[' if in_class => {
                // A '[' inside a class is literal in RE2 unless it opens [:alpha:].
                if s.get(i + 1) == Some(&':') {
                    out.push('[');
                } else {
                    out.push_str("\\[");
                }
                i += 1;
            }
            ']' if in_class => {
                in_class = false;
                out.push(']');
                i += 1;
            }
            '{' if !in_class && !is_repetition(&s, i) => {
                out.push_str("\\{");
                i += 1;
            }
            '}' if !in_class => {
                // Only reached for a '}' that closes no repetition: literal in Go.
                if out_has_open_repetition(&out) {
                    out.push('}');
                } else {
                    out.push_str("\\}");
                }
                i += 1;
            }
            '&' | '~' | '-' if in_class => {
                // Rust treats && -- ~~ in classes as set operations; RE2 as literals.
                if c == '-' && s.get(i + 1) != Some(&'-') {
                    out.push('-');
                } else {
                    out.push('\\');
                    out.push(c);
                }
                i += 1;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(out)
}

/// True when the translated output ends inside an unclosed `{n,m` repetition.
fn out_has_open_repetition(out: &str) -> bool {
    match out.rfind('{') {
        Some(pos) if pos == 0 || !out[..pos].ends_with('\\') => out[pos + 1..]
            .chars()
            .all(|c| c.is_ascii_digit() || c == ','),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, s: &str) -> bool {
        PromRegex::new(p).expect("compiles").is_match(s)
    }

    #[test]
    fn anchored_and_dot_matches_newline() {
        assert!(m("foo", "foo"));
        assert!(!m("foo", "foobar"));
        assert!(!m("foo", "afoo"));
        assert!(m("a.b", "a\nb"));
        assert!(m("foo|bar", "bar"));
        assert!(!m("foo|bar", "foobar"));
    }

    #[test]
    fn go_only_syntax_translates() {
        assert!(m(r"\Qa.b\E", "a.b"));
        assert!(!m(r"\Qa.b\E", "axb"));
        assert!(m("a{,3}", "a{,3}"));
        assert!(m("a{", "a{"));
        assert!(m("a{2}", "aa"));
        assert!(m("a{1,2}b", "aab"));
        assert!(m(r"\d+", "123"));
        assert!(!m(r"\d", "٣"));
        assert!(m(r"[\d.]+", "1.2"));
        assert!(m("[a-c]+", "abc"));
    }

    #[test]
    fn literal_alternation_fast_path() {
        let r = PromRegex::new("a|b|cc").expect("compiles");
        assert_eq!(r.literal_alternatives().map(|l| l.len()), Some(3));
        assert!(r.is_match("cc"));
        assert!(
            PromRegex::new("a.*")
                .expect("compiles")
                .literal_alternatives()
                .is_none()
        );
    }

    #[test]
    fn bad_pattern_names_itself() {
        let e = PromRegex::new("(a").unwrap_err();
        assert!(e.to_string().contains("(a"));
    }
}
