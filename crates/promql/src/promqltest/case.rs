//! Reading an `eval` command and its block of expectations
//! (PROMQLTEST_FORMAT.md, sections 4.1 and 4.2).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::LazyLock;

use model::Labels;
use regex::Regex;

use super::script::{ScriptError, err};
use super::series::{SeqValue, number, parse_duration, parse_series_desc, unquote};

/// Times of a range evaluation, ms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RangeSpec {
    /// First step.
    pub start: i64,
    /// Last step (inclusive).
    pub end: i64,
    /// Interval.
    pub step: i64,
}

/// What an `expect` line expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectKind {
    /// `expect ordered`.
    Ordered,
    /// `expect fail`.
    Fail,
    /// `expect warn`.
    Warn,
    /// `expect no_warn`.
    NoWarn,
    /// `expect info`.
    Info,
    /// `expect no_info`.
    NoInfo,
}

/// How an expectation matches a message.
#[derive(Debug, Clone)]
pub enum TextMatch {
    /// Anything.
    Any,
    /// Exactly this text (`msg:`).
    Exact(String),
    /// An unanchored regex search (`regex:`).
    Regex(Regex),
}

impl TextMatch {
    /// True when `s` meets the expectation.
    pub fn matches(&self, s: &str) -> bool {
        match self {
            TextMatch::Any => true,
            TextMatch::Exact(m) => m == s,
            TextMatch::Regex(r) => r.is_match(s),
        }
    }
}

impl fmt::Display for TextMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TextMatch::Any => f.write_str("anything"),
            TextMatch::Exact(m) => write!(f, "message {m:?}"),
            TextMatch::Regex(r) => write!(f, "pattern {:?}", r.as_str()),
        }
    }
}

/// One expected series of a result.
#[derive(Debug, Clone)]
pub struct Expected {
    /// 1-based position among the block's lines (for `ordered`).
    pub pos: usize,
    /// One value per step (instant: exactly one).
    pub values: Vec<SeqValue>,
}

/// An `eval` command and everything its block expects.
#[derive(Debug, Clone)]
pub struct EvalCase {
    /// Line of the `eval` command.
    pub line: usize,
    /// The query text.
    pub query: String,
    /// Range evaluation times; `None` for an instant evaluation.
    pub range: Option<RangeSpec>,
    /// Instant evaluation time, ms (the end of `expect range vector` when given).
    pub at: i64,
    /// `eval_fail`.
    pub fail: bool,
    /// `eval_warn`: at least one warning.
    pub warn: bool,
    /// `eval_info`: at least one info.
    pub info: bool,
    /// `eval_ordered`.
    pub ordered: bool,
    /// `expected_fail_message`.
    pub fail_message: Option<String>,
    /// `expected_fail_regexp`.
    pub fail_regexp: Option<Regex>,
    /// `expect ...` lines.
    pub expects: Vec<(ExpectKind, TextMatch)>,
    /// `expect range vector from S to E step P`.
    pub range_vector: Option<RangeSpec>,
    /// `expect string "..."`.
    pub expected_string: Option<String>,
    /// A scalar line.
    pub scalar: Option<SeqValue>,
    /// Expected series by label set.
    pub expected: BTreeMap<Labels, Expected>,
    /// The eval line or a block line contains `{{`.
    pub mentions_histogram: bool,
    /// Not re-run as a range query (range vector or string results).
    pub exclude_from_range: bool,
}

impl EvalCase {
    /// True when the query must fail.
    pub fn is_fail(&self) -> bool {
        self.fail || self.expects_of(ExpectKind::Fail).next().is_some()
    }

    /// True when the result order is checked.
    pub fn is_ordered(&self) -> bool {
        self.ordered || self.expects_of(ExpectKind::Ordered).next().is_some()
    }

    /// The expectations of one kind.
    pub fn expects_of(&self, kind: ExpectKind) -> impl Iterator<Item = &TextMatch> + '_ {
        self.expects
            .iter()
            .filter(move |(k, _)| *k == kind)
            .map(|(_, m)| m)
    }

    /// True when any `expect` of `kind` is present.
    pub fn has(&self, kind: ExpectKind) -> bool {
        self.expects_of(kind).next().is_some()
    }
}

static EVAL_INSTANT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^eval(?:_(fail|warn|ordered|info))?\s+instant\s+(?:at\s+(.+?))?\s+(.+)$")
        .unwrap_or_else(|e| panic!("static regex: {e}"))
});
static EVAL_RANGE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^eval(?:_(fail|warn|info))?\s+range\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+?)\s+(.+)$",
    )
    .unwrap_or_else(|e| panic!("static regex: {e}"))
});
static EXPECT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^expect\s+(ordered|fail|warn|no_warn|info|no_info)(?:\s+(regex|msg):(.+))?$")
        .unwrap_or_else(|e| panic!("static regex: {e}"))
});
static EXPECT_RANGE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^expect range vector\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+)$")
        .unwrap_or_else(|e| panic!("static regex: {e}"))
});

fn parse_range_spec(
    line: usize,
    from: &str,
    to: &str,
    step: &str,
) -> Result<RangeSpec, ScriptError> {
    let start = parse_duration(from).or_else(|e| {
        err(
            line,
            format!("invalid start timestamp definition {from:?}: {e}"),
        )
    })?;
    let end = parse_duration(to).or_else(|e| {
        err(
            line,
            format!("invalid end timestamp definition {to:?}: {e}"),
        )
    })?;
    if end < start {
        return err(
            line,
            format!(
                "invalid test definition, end timestamp ({to}) is before start timestamp ({from})"
            ),
        );
    }
    let step = parse_duration(step)
        .or_else(|e| err(line, format!("invalid step definition {step:?}: {e}")))?;
    Ok(RangeSpec { start, end, step })
}

/// Reads an eval command and its block; returns it and the index to go on from.
pub(super) fn parse_eval(
    lines: &[&str],
    i: usize,
    end: usize,
) -> Result<(EvalCase, usize), ScriptError> {
    let line = i + 1;
    let header = lines[i];
    let (modifier, query, at, range) = if let Some(c) = EVAL_INSTANT.captures(header) {
        let at = c.get(2).map_or("", |m| m.as_str());
        let t = parse_duration(at)
            .or_else(|e| err(line, format!("invalid timestamp definition {at:?}: {e}")))?;
        (c.get(1), c.get(3), t, None)
    } else if let Some(c) = EVAL_RANGE.captures(header) {
        let get = |k: usize| c.get(k).map_or("", |m| m.as_str());
        let spec = parse_range_spec(line, get(2), get(3), get(4))?;
        (c.get(1), c.get(5), spec.start, Some(spec))
    } else {
        return err(
            line,
            "invalid evaluation command. Must be either 'eval[_fail|_warn|_ordered|_info] instant at <offset:duration> <query>' or 'eval[_fail|_warn|_info] range from <from> to <to> step <step> <query>'",
        );
    };
    let modifier = modifier.map_or("", |m| m.as_str());
    let mut case = EvalCase {
        line,
        query: query.map_or("", |m| m.as_str()).to_string(),
        range,
        at,
        fail: modifier == "fail",
        warn: modifier == "warn",
        info: modifier == "info",
        ordered: modifier == "ordered",
        fail_message: None,
        fail_regexp: None,
        expects: Vec::new(),
        range_vector: None,
        expected_string: None,
        scalar: None,
        expected: BTreeMap::new(),
        mentions_histogram: header.contains("{{"),
        exclude_from_range: false,
    };
    let ctx = |j: usize, msg: String| ScriptError {
        line: j + 1,
        msg: format!(
            "error in eval {} (line {line}): {msg}",
            case_query(lines[i])
        ),
    };
    // Position among the block's lines, for `ordered`; `expect` lines do not count.
    let mut pos = 0;
    let mut j = i + 1;
    while j < end {
        let def = lines[j];
        j += 1;
        pos += 1;
        case.mentions_histogram |= def.contains("{{");
        if case.fail && def.starts_with("expected_fail_message") {
            case.fail_message = Some(def["expected_fail_message".len()..].trim().to_string());
            break;
        }
        if case.fail && def.starts_with("expected_fail_regexp") {
            let pat = def["expected_fail_regexp".len()..].trim();
            let re = Regex::new(pat).map_err(|e| {
                ctx(
                    j - 1,
                    format!("invalid regexp '{pat}' for expected_fail_regexp: {e}"),
                )
            })?;
            case.fail_regexp = Some(re);
            break;
        }
        if def.starts_with("expect range vector") {
            let c = EXPECT_RANGE
                .captures(def)
                .ok_or_else(|| ctx(j - 1, format!("invalid range vector definition {def:?}")))?;
            let get = |k: usize| c.get(k).map_or("", |m| m.as_str());
            let spec = parse_range_spec(j, get(1), get(2), get(3))?;
            case.range_vector = Some(spec);
            case.at = spec.end;
            case.exclude_from_range = true;
            continue;
        }
        if def.starts_with("expect string") {
            case.expected_string = Some(parse_expected_string(def).map_err(|e| ctx(j - 1, e))?);
            case.exclude_from_range = true;
            continue;
        }
        if def.split(' ').next() == Some("expect") {
            pos -= 1;
            let e = parse_expect(def).map_err(|e| ctx(j - 1, e))?;
            case.expects.push(e);
            validate_expects(&case).map_err(|e| ctx(j - 1, e))?;
            continue;
        }
        if let Ok(v) = number(def) {
            case.scalar = Some(SeqValue::Float(v));
            break;
        }
        let desc = parse_series_desc(def).or_else(|e| err(j, e))?;
        if desc.values.len() > 1 && case.range.is_none() && case.range_vector.is_none() {
            return Err(ctx(
                j - 1,
                "expecting multiple values in instant evaluation not allowed. consider using 'expect range vector' directive to enable a range vector result for an instant query".to_string(),
            ));
        }
        case.scalar = None;
        case.expected.insert(
            desc.labels,
            Expected {
                pos,
                values: desc.values,
            },
        );
    }
    Ok((case, j))
}

/// The query part of an eval line, for error messages.
fn case_query(header: &str) -> &str {
    EVAL_INSTANT
        .captures(header)
        .and_then(|c| c.get(3))
        .or_else(|| EVAL_RANGE.captures(header).and_then(|c| c.get(5)))
        .map_or(header, |m| m.as_str())
}

fn parse_expected_string(def: &str) -> Result<String, String> {
    let bad =
        || "expected string literal not valid - a quoted string literal is required".to_string();
    let rest = def.strip_prefix("expect string ").ok_or_else(bad)?;
    if rest.is_empty() {
        return Err(bad());
    }
    match unquote(rest) {
        Ok((s, "")) if !rest.starts_with('\'') => Ok(s),
        _ => Err(
            "expected string literal not valid - check that the string is correctly quoted"
                .to_string(),
        ),
    }
}

fn parse_expect(def: &str) -> Result<(ExpectKind, TextMatch), String> {
    let c = EXPECT.captures(def.trim()).ok_or_else(|| {
        "invalid expect statement, must match `expect <type> <match_type>: <string>` format"
            .to_string()
    })?;
    let kind = match c.get(1).map_or("", |m| m.as_str()) {
        "ordered" => ExpectKind::Ordered,
        "fail" => ExpectKind::Fail,
        "warn" => ExpectKind::Warn,
        "no_warn" => ExpectKind::NoWarn,
        "info" => ExpectKind::Info,
        _ => ExpectKind::NoInfo,
    };
    let text = c.get(3).map_or("", |m| m.as_str()).trim();
    let m = match c.get(2).map(|m| m.as_str()) {
        Some("msg") => TextMatch::Exact(text.to_string()),
        Some(_) => {
            TextMatch::Regex(Regex::new(text).map_err(|e| format!("invalid regex {text}: {e}"))?)
        }
        None => TextMatch::Any,
    };
    Ok((kind, m))
}

fn validate_expects(case: &EvalCase) -> Result<(), String> {
    if case.has(ExpectKind::Info) && case.has(ExpectKind::NoInfo) {
        return Err("invalid expect lines, info and no_info cannot be used together".to_string());
    }
    if case.has(ExpectKind::Warn) && case.has(ExpectKind::NoWarn) {
        return Err("invalid expect lines, warn and no_warn cannot be used together".to_string());
    }
    if case.expects_of(ExpectKind::Fail).count() > 1 {
        return Err("invalid expect lines, multiple expect fail lines are not allowed".to_string());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::promqltest::script::parse_script;

    #[test]
    fn expectations_and_errors() {
        let cmds = parse_script(
            "eval instant at 1m foo\n  expect range vector from 0 to 1m step 30s\n  foo 1 2 3\n  expect string \"a\\tb\"\n  expect warn regex: x+\n",
        )
        .expect("parses");
        let e = cmds[0].unwrap_eval();
        assert_eq!(
            e.range_vector,
            Some(RangeSpec {
                start: 0,
                end: 60_000,
                step: 30_000
            })
        );
        assert_eq!(e.at, 60_000);
        assert!(e.exclude_from_range);
        assert_eq!(e.expected_string.as_deref(), Some("a\tb"));
        assert_eq!(e.expected.values().next().map(|x| x.values.len()), Some(3));
        let bad = |t: &str| parse_script(t).expect_err("must fail").line;
        assert_eq!(bad("\n\nfoo 1"), 3);
        assert_eq!(bad("load 5m\n  m 1\n  m{ 2"), 3);
        assert_eq!(bad("eval instant at 1m m\n  m 1 2"), 2);
        assert_eq!(
            bad("eval instant at 1m m\n  expect warn\n  expect no_warn"),
            3
        );
        assert_eq!(bad("eval range from 5m to 1m step 1m m"), 1);
        assert_eq!(bad("load 5m\n  m@st -1m 0\n"), 2);
    }
}
