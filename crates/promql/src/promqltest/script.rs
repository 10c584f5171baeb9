//! Reading a test script: lines, blocks, the `clear` and `load` commands
//! (PROMQLTEST_FORMAT.md, sections 1-3); [`super::case`] reads `eval` blocks.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::LazyLock;

use model::Labels;
use regex::Regex;

use super::case::{EvalCase, parse_eval};
use super::series::{SeqValue, parse_duration, parse_metric, parse_series_desc};

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

pub(super) fn err<T>(line: usize, msg: impl Into<String>) -> Result<T, ScriptError> {
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

#[cfg(test)]
impl Command {
    /// The case of an `eval` command; panics on any other command.
    pub(crate) fn unwrap_eval(&self) -> &EvalCase {
        match self {
            Command::Eval(e) => e,
            other => panic!("not an eval: {other:?}"),
        }
    }
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
    /// Label sets that get native histogram samples from this block: series
    /// with `{{...}}` values and, for `load_with_nhcb`, the series built from
    /// `_bucket`/`_sum`/`_count` (base name, no `le`).
    pub fn histogram_series(&self) -> BTreeSet<Labels> {
        let mut out = BTreeSet::new();
        for (labels, values) in &self.series {
            if values.iter().any(SeqValue::is_histogram) {
                out.insert(labels.clone());
            }
            let Some(name) = labels.metric_name() else {
                continue;
            };
            if self.with_nhcb {
                for suffix in ["_bucket", "_sum", "_count"] {
                    if let Some(base) = name.strip_suffix(suffix) {
                        let mut b = model::LabelsBuilder::new(labels.clone());
                        b.set(model::METRIC_NAME_LABEL, base).del("le");
                        out.insert(b.build());
                    }
                }
            }
        }
        out
    }
}

static LOAD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^load(?:_(with_nhcb))?\s+(.+?)$").unwrap_or_else(|e| panic!("static regex: {e}"))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::promqltest::case::{ExpectKind, RangeSpec};

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
        let hist: Vec<String> = l.histogram_series().iter().map(|l| l.to_string()).collect();
        assert_eq!(hist, ["h"]);
        let e = cmds[1].unwrap_eval();
        assert_eq!((e.line, e.at, e.query.as_str()), (8, 600_000, "m"));
        assert_eq!(e.expected.values().next().map(|x| x.pos), Some(1));
        assert!(e.has(ExpectKind::NoWarn));
        let e = cmds[2].unwrap_eval();
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
        let e = cmds[3].unwrap_eval();
        assert_eq!(e.at, 90_000);
        assert_eq!(e.scalar, Some(SeqValue::Float(2.0)));
        let (_, m) = &e.expects[0];
        assert!(m.matches("PromQL info: x (1:1)"));
        assert!(matches!(cmds[4], Command::Clear));
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
