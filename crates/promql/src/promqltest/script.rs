//! Reading a test script: lines, blocks, and the `clear`, `load` and `eval`
//! commands with their blocks (see PROMQLTEST_FORMAT.md, sections 1-4.2).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::LazyLock;

use model::Labels;
use regex::Regex;

use super::series::{SeqValue, number, parse_duration, parse_metric, parse_series_desc, unquote};

/// A script that cannot be read: 1-based line and why.
#[derive(Debug, Clone, PartialEq)]
pub struct ScriptError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub msg: String,
}

impl fmt::Display for ScriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.msg)
    }
}

fn err<T>(line: usize, msg: impl Into<String>) -> Result<T, ScriptError> {
    Err(ScriptError {
        line,
        msg: msg.into(),
    })
}

/// One command of a script.
#[derive(Debug, Clone)]
pub enum Command {
    /// `clear`: drop all data.
    Clear,
    /// `load` / `load_with_nhcb`.
    Load(Load),
    /// `eval ...` and its expectations.
    Eval(Box<EvalCase>),
}

/// A load block.
#[derive(Debug, Clone)]
pub struct Load {
    /// Line of the command.
    pub line: usize,
    /// Interval between the slots of a series, ms.
    pub interval: i64,
    /// `load_with_nhcb`: classic histograms also become native ones.
    pub with_nhcb: bool,
    /// Series and their slots; a label set set twice keeps the later line.
    pub series: BTreeMap<Labels, Vec<SeqValue>>,
}

impl Load {
    /// Metric names that get native histogram samples from this block: those
    /// with `{{...}}` values and, for `load_with_nhcb`, the base names of
    /// `_bucket`/`_sum`/`_count` series.
    pub fn histogram_metrics(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for (labels, values) in &self.series {
            let Some(name) = labels.metric_name() else {
                continue;
            };
            if values.contains(&SeqValue::Histogram) {
                out.insert(name.to_string());
            }
            if self.with_nhcb {
                for suffix in ["_bucket", "_sum", "_count"] {
                    if let Some(base) = name.strip_suffix(suffix) {
                        out.insert(base.to_string());
                    }
                }
            }
        }
        out
    }
}

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
static LOAD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^load(?:_(with_nhcb))?\s+(.+?)$").unwrap_or_else(|e| panic!("static regex: {e}"))
});
static EXPECT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^expect\s+(ordered|fail|warn|no_warn|info|no_info)(?:\s+(regex|msg):(.+))?$")
        .unwrap_or_else(|e| panic!("static regex: {e}"))
});
static EXPECT_RANGE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^expect range vector\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+)$")
        .unwrap_or_else(|e| panic!("static regex: {e}"))
});

/// Trimmed lines, comments turned into empty lines.
fn lines(text: &str) -> Vec<&str> {
    text.split('\n')
        .map(|l| {
            let l = l.trim();
            if l.starts_with('#') { "" } else { l }
        })
        .collect()
}

/// Reads a whole script.
pub fn parse_script(text: &str) -> Result<Vec<Command>, ScriptError> {
    let lines = lines(text);
    let mut cmds = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let l = lines[i];
        if l.is_empty() {
            i += 1;
            continue;
        }
        let word = l
            .split([' ', '\t'])
            .next()
            .unwrap_or_default()
            .to_lowercase();
        let end = block_end(&lines, i);
        if word == "clear" {
            cmds.push(Command::Clear);
            i += 1;
        } else if word.starts_with("load") {
            cmds.push(Command::Load(parse_load(&lines, i, end)?));
            i = end;
        } else if word.starts_with("eval") {
            let (cmd, next) = parse_eval(&lines, i, end)?;
            cmds.push(Command::Eval(Box::new(cmd)));
            i = next;
        } else {
            return err(i + 1, format!("invalid command {l:?}"));
        }
    }
    Ok(cmds)
}

/// Index of the first empty line after `i` (or the end).
fn block_end(lines: &[&str], i: usize) -> usize {
    (i + 1..lines.len())
        .find(|&j| lines[j].is_empty())
        .unwrap_or(lines.len())
}

fn parse_load(lines: &[&str], i: usize, end: usize) -> Result<Load, ScriptError> {
    let caps = LOAD.captures(lines[i]).ok_or_else(|| ScriptError {
        line: i + 1,
        msg: "invalid load command. (load[_with_nhcb] <step:duration>)".to_string(),
    })?;
    let step = caps.get(2).map_or("", |m| m.as_str());
    let interval = parse_duration(step)
        .or_else(|e| err(i + 1, format!("invalid step definition {step:?}: {e}")))?;
    let mut load = Load {
        line: i + 1,
        interval,
        with_nhcb: caps.get(1).is_some(),
        series: BTreeMap::new(),
    };
    // An `@st` line waits for the sample line of the same series.
    let mut pending: Option<(usize, Labels, usize)> = None;
    for (j, def) in lines.iter().enumerate().take(end).skip(i + 1) {
        if is_st_line(def) {
            if let Some((line, ..)) = pending {
                return err(line, "@st line has no following sample line");
            }
            let (labels, count) = parse_st_line(def).or_else(|e| err(j + 1, e))?;
            pending = Some((j + 1, labels, count));
            continue;
        }
        let desc = parse_series_desc(def).or_else(|e| err(j + 1, e))?;
        if let Some((line, labels, count)) = pending.take() {
            if labels != desc.labels {
                return err(
                    line,
                    "@st metric does not match the following sample line metric",
                );
            }
            if count != desc.values.len() {
                return err(
                    line,
                    format!(
                        "@st line has {count} values but sample line has {}",
                        desc.values.len()
                    ),
                );
            }
        }
        load.series.insert(desc.labels, desc.values);
    }
    if let Some((line, ..)) = pending {
        return err(line, "@st line has no following sample line");
    }
    Ok(load)
}

/// The first token (series, no space before `@st`) ends in `@st`.
fn is_st_line(def: &str) -> bool {
    def.find([' ', '\t'])
        .is_some_and(|sp| def[..sp].ends_with("@st"))
}

/// Reads an `@st` line far enough to check it; start timestamps themselves
/// are not used. Returns the series and the number of positions.
fn parse_st_line(def: &str) -> Result<(Labels, usize), String> {
    let sp = def.find([' ', '\t']).unwrap_or(def.len());
    let metric = def[..sp].trim_end_matches("@st");
    let (labels, rest) = parse_metric(metric)?;
    if !rest.is_empty() {
        return Err(format!("invalid @st line metric {metric:?}"));
    }
    let mut count = 0;
    for item in def[sp..].split_whitespace() {
        count += st_item_count(item).map_err(|e| format!("invalid ST item {item:?}: {e}"))?;
    }
    Ok((labels, count))
}

fn st_item_count(item: &str) -> Result<usize, String> {
    if item == "_" {
        return Ok(1);
    }
    if let Some(n) = item.strip_prefix("_x") {
        return n
            .parse::<usize>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| "invalid repeat count".to_string());
    }
    let rest = st_duration_prefix(item)?;
    if rest.is_empty() {
        return Ok(1);
    }
    let rest = match rest.strip_prefix(['+', '-']) {
        Some(r) => st_duration_prefix(r)?,
        None => rest,
    };
    let n = rest
        .strip_prefix('x')
        .and_then(|n| n.parse::<usize>().ok())
        .ok_or_else(|| "expected 'x<count>'".to_string())?;
    Ok(n + 1)
}

/// Skips `[+-]digits[unit]` and checks it is a duration; returns the rest.
fn st_duration_prefix(s: &str) -> Result<&str, String> {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let digits = body
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(body.len());
    if digits == 0 {
        return Err(format!("expected digits in duration {s:?}"));
    }
    let unit_end = body[digits..]
        .find(|c: char| !c.is_ascii_alphabetic() || c == 'x')
        .map_or(body.len(), |u| digits + u);
    parse_duration(&body[..unit_end])?;
    Ok(&body[unit_end..])
}

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
fn parse_eval(lines: &[&str], i: usize, end: usize) -> Result<(EvalCase, usize), ScriptError> {
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

    fn eval(cmds: &[Command], k: usize) -> &EvalCase {
        match &cmds[k] {
            Command::Eval(e) => e,
            other => panic!("not an eval: {other:?}"),
        }
    }

    #[test]
    fn commands_and_blocks() {
        let text = "
# comment
load 5m
    m{a=\"1\"} 0+10x2
    m{a=\"1\"} 1 2
    h {{count:1}} 3

eval instant at 10m m
    m{a=\"1\"} 2
    expect no_warn

eval_fail range from 0 to 10m step 5m rate(m[5m])
  expected_fail_message some error

eval instant at 1m30s 1 + 1
  expect info msg:  PromQL info: x (1:1)
  2

clear
";
        let cmds = parse_script(text).expect("parses");
        assert_eq!(cmds.len(), 5);
        let Command::Load(l) = &cmds[0] else {
            panic!("load")
        };
        assert_eq!((l.line, l.interval, l.series.len()), (3, 300_000, 2));
        assert_eq!(l.histogram_metrics().into_iter().collect::<Vec<_>>(), ["h"]);
        let e = eval(&cmds, 1);
        assert_eq!((e.line, e.at, e.query.as_str()), (8, 600_000, "m"));
        assert_eq!(e.expected.values().next().map(|x| x.pos), Some(1));
        assert!(e.has(ExpectKind::NoWarn));
        let e = eval(&cmds, 2);
        assert!(e.is_fail());
        assert_eq!(
            e.range,
            Some(RangeSpec {
                start: 0,
                end: 600_000,
                step: 300_000
            })
        );
        assert_eq!(e.fail_message.as_deref(), Some("some error"));
        let e = eval(&cmds, 3);
        assert_eq!(e.at, 90_000);
        assert_eq!(e.scalar, Some(SeqValue::Float(2.0)));
        let (_, m) = &e.expects[0];
        assert!(m.matches("PromQL info: x (1:1)"));
        assert!(matches!(cmds[4], Command::Clear));
    }

    #[test]
    fn expectations_and_errors() {
        let cmds = parse_script(
            "eval instant at 1m foo\n  expect range vector from 0 to 1m step 30s\n  foo 1 2 3\n  expect string \"a\\tb\"\n  expect warn regex: x+\n",
        )
        .expect("parses");
        let e = eval(&cmds, 0);
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

    #[test]
    fn st_lines() {
        let cmds = parse_script("load 1m\n  c@st _ -30s-1mx1 0\n  c 1 2 3 4\n").expect("parses");
        let Command::Load(l) = &cmds[0] else {
            panic!("load")
        };
        assert_eq!(l.series.len(), 1);
        assert!(parse_script("load 1m\n  c@st _ 0\n  c 1 2 3\n").is_err());
        assert!(parse_script("load 1m\n  c@st 1m30s\n  c 1\n").is_err());
    }
}
