//! Series descriptions (`metric{l="v"} 1 2+3x4 _ stale {{...}}`), numbers and
//! durations as the test scripts write them.
//!
//! Native histogram literals (`{{...}}`, read by `model::histogram`) expand as
//! Prometheus's grammar expands them: `{{h}}xN` repeats one histogram,
//! `{{a}}+{{b}}xN` and `{{a}}-{{b}}xN` add or subtract `b` again at each slot.

use std::sync::Arc;

use gofmt::{parse_float, parse_int_base0};
use model::histogram::{ParsedHistogram, parse_histogram};
use model::{FloatHistogram, Labels, stale_nan};

/// One slot of an expanded value sequence.
#[derive(Debug, Clone, PartialEq)]
pub enum SeqValue {
    /// `_`: no sample (or no point expected) at this slot.
    Omitted,
    /// A float; may be the staleness marker.
    Float(f64),
    /// A native histogram.
    Histogram(HistogramValue),
}

/// A histogram slot of a value sequence.
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramValue {
    /// The histogram.
    pub h: Arc<FloatHistogram>,
    /// Its literal (for `{{a}}+{{b}}xN`: `b`'s) wrote `counter_reset_hint` out;
    /// the PromQL test scripts then compare the hint.
    pub hint_set: bool,
}

impl SeqValue {
    /// True for a histogram slot.
    pub fn is_histogram(&self) -> bool {
        matches!(self, SeqValue::Histogram(_))
    }
}

/// A parsed series description: labels and expanded values.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesDesc {
    /// The label set, `__name__` included.
    pub labels: Labels,
    /// The values, one per slot.
    pub values: Vec<SeqValue>,
}

/// Parses `<series> <values>`.
pub fn parse_series_desc(line: &str) -> Result<SeriesDesc, String> {
    let (labels, rest) = parse_metric(line)?;
    if !rest.is_empty() && !rest.starts_with([' ', '\t']) {
        return Err(format!(
            "unexpected {:?} after the series",
            first_char(rest)
        ));
    }
    let mut values = Vec::new();
    for item in split_items(rest)? {
        expand_item(item, &mut values)?;
    }
    Ok(SeriesDesc { labels, values })
}

fn first_char(s: &str) -> char {
    s.chars().next().unwrap_or(' ')
}

/// Splits the value part on whitespace, keeping `{{ ... }}` (which holds
/// spaces) inside its item.
fn split_items(s: &str) -> Result<Vec<&str>, String> {
    let b = s.as_bytes();
    let mut items = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b' ' || b[i] == b'\t' {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && b[i] != b' ' && b[i] != b'\t' {
            if b[i..].starts_with(b"{{") {
                let close = s[i..]
                    .find("}}")
                    .ok_or_else(|| "unclosed histogram literal \"{{\"".to_string())?;
                i += close + 2;
            } else {
                i += 1;
            }
        }
        items.push(&s[start..i]);
    }
    Ok(items)
}

/// Appends the slots of one item: `_`, `_xN`, `v`, `vxN`, `a+bxN`, `a-bxN`,
/// `stale`, or a histogram form.
fn expand_item(item: &str, out: &mut Vec<SeqValue>) -> Result<(), String> {
    if item.starts_with("{{") {
        return expand_histogram_item(item, out);
    }
    if item == "_" {
        out.push(SeqValue::Omitted);
        return Ok(());
    }
    if let Some(n) = item.strip_prefix("_x") {
        let n = parse_count(n)?;
        out.extend(std::iter::repeat_n(SeqValue::Omitted, n));
        return Ok(());
    }
    let (first, rest) = scan_value(item)?;
    if rest.is_empty() {
        out.push(SeqValue::Float(first));
        return Ok(());
    }
    let (step, rest) = match rest.as_bytes()[0] {
        op @ (b'+' | b'-') => {
            let (num, rest) = scan_unsigned(&rest[1..])?;
            let step = number(num)?;
            (if op == b'-' { -step } else { step }, rest)
        }
        _ => (0.0, rest),
    };
    let count = rest
        .strip_prefix('x')
        .ok_or_else(|| format!("unexpected {rest:?} in series value {item:?}"))?;
    let n = parse_count(count)?;
    // Repeated addition, not `a + i*b`: the rounding must match the reference.
    let mut cur = first;
    for _ in 0..=n {
        out.push(SeqValue::Float(cur));
        cur += step;
    }
    Ok(())
}

/// `{{H}}`, `{{H}}xN`, `{{A}}+{{B}}xN`, `{{A}}-{{B}}xN`.
fn expand_histogram_item(item: &str, out: &mut Vec<SeqValue>) -> Result<(), String> {
    let literal = |s| parse_histogram(s).map_err(|e| format!("{e} in series value {item:?}"));
    let (base, rest) = literal(item)?;
    let slot = |p: ParsedHistogram| {
        SeqValue::Histogram(HistogramValue {
            h: Arc::new(p.histogram),
            hint_set: p.hint_set,
        })
    };
    if rest.is_empty() {
        out.push(slot(base));
        return Ok(());
    }
    if let Some(count) = rest.strip_prefix('x') {
        let n = parse_count(count)?;
        out.extend(std::iter::repeat_n(slot(base), n + 1));
        return Ok(());
    }
    let (subtract, r) = match rest.as_bytes()[0] {
        b'+' => (false, &rest[1..]),
        b'-' => (true, &rest[1..]),
        _ => return Err(format!("unexpected {rest:?} in histogram value {item:?}")),
    };
    if !r.starts_with("{{") {
        return Err(format!(
            "expected a histogram after the operator in {item:?}"
        ));
    }
    let (inc, rest) = literal(r)?;
    let count = rest
        .strip_prefix('x')
        .ok_or_else(|| format!("expected \"x\" and a count after {item:?}"))?;
    let n = parse_count(count)?;
    // The hint flag of the series is the increment's, as Prometheus's parser has it.
    let hint_set = inc.hint_set;
    let inc = inc.histogram;
    let mut cur = Arc::new(base.histogram);
    out.push(SeqValue::Histogram(HistogramValue {
        h: cur.clone(),
        hint_set,
    }));
    for _ in 0..n {
        if cur.schema > inc.schema {
            return Err(format!(
                "error combining histograms: cannot merge from schema {} to {}",
                inc.schema, cur.schema
            ));
        }
        // Repeated addition, as Go's `Add` loop, so sums round as they do there.
        let mut next = (*cur).clone();
        let combined = if subtract {
            next.sub(&inc)
        } else {
            next.add(&inc)
        };
        combined.map_err(|e| format!("error combining histograms: {e}"))?;
        cur = Arc::new(next);
        out.push(SeqValue::Histogram(HistogramValue {
            h: cur.clone(),
            hint_set,
        }));
    }
    Ok(())
}

fn parse_count(s: &str) -> Result<usize, String> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("invalid repetition in series values: {s:?}"));
    }
    s.parse::<usize>()
        .map_err(|e| format!("invalid repetition in series values: {e}"))
}

/// Reads a signed value at the start of `s` (number, `Inf`, `NaN`, `stale`).
fn scan_value(s: &str) -> Result<(f64, &str), String> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if body.starts_with(|c: char| c.is_ascii_alphabetic()) {
        let end = body
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(body.len());
        let word = &body[..end];
        let v = if word == "stale" && s.len() == body.len() {
            stale_nan()
        } else if word.eq_ignore_ascii_case("inf") {
            f64::INFINITY
        } else if word.eq_ignore_ascii_case("nan") {
            f64::NAN
        } else {
            return Err(format!(
                "unexpected identifier {word:?} in series values, expected number or \"stale\""
            ));
        };
        return Ok((if neg { -v } else { v }, &body[end..]));
    }
    let (num, rest) = scan_unsigned(body)?;
    let v = number(num)?;
    Ok((if neg { -v } else { v }, rest))
}

/// Reads an unsigned number (`[.]digits[.digits][e[+-]digits]`, `_`
/// separators, or `Inf`/`NaN`) and returns its text and what follows.
fn scan_unsigned(s: &str) -> Result<(&str, &str), String> {
    let b = s.as_bytes();
    if b.first().is_some_and(|c| c.is_ascii_alphabetic()) {
        let end = s
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(s.len());
        return Ok(s.split_at(end));
    }
    let mut i = 0;
    let mut exp = false;
    while i < b.len() {
        match b[i] {
            b'0'..=b'9' | b'.' | b'_' => i += 1,
            b'e' | b'E' if !exp => {
                exp = true;
                i += 1;
                if matches!(b.get(i), Some(b'+' | b'-')) {
                    i += 1;
                }
            }
            _ => break,
        }
    }
    if i == 0 {
        return Err(format!("expected a number at {s:?}"));
    }
    Ok(s.split_at(i))
}

/// A number as Prometheus's test scripts read one (`parseNumber`): Go's
/// `strconv.ParseInt(s, 0, 64)` (`0x`, `0o`, `0b`, leading `0` = octal)
/// first, else `strconv.ParseFloat` (`Inf`, `NaN`, exponents, hex floats).
pub fn number(s: &str) -> Result<f64, String> {
    if let Some(i) = parse_int_base0(s) {
        return Ok(i as f64);
    }
    parse_float(s).map_err(|e| format!("error parsing number: {e}"))
}

/// A Prometheus duration (`0`, `5m`, `1h30m`, `10s53ms`), in ms.
pub fn parse_duration(s: &str) -> Result<i64, String> {
    s.parse::<model::PromDuration>()
        .map(|d| d.as_millis())
        .map_err(|e| e.to_string())
}

/// Parses `name`, `name{l="v",...}` or `{l="v",...}` at the start of `s`;
/// returns the labels and the rest of the text.
pub fn parse_metric(s: &str) -> Result<(Labels, &str), String> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b':') {
        i += 1;
    }
    let name = &s[..i];
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(format!("invalid metric name {name:?}"));
    }
    let mut pairs: Vec<(String, String)> = Vec::new();
    if !name.is_empty() {
        pairs.push((model::METRIC_NAME_LABEL.to_string(), name.to_string()));
    }
    if b.get(i) == Some(&b'{') {
        i += 1;
        loop {
            i = skip_ws(b, i);
            match b.get(i) {
                Some(b'}') => {
                    i += 1;
                    break;
                }
                None => return Err("unclosed label set, expected \"}\"".to_string()),
                _ => {}
            }
            let (lname, after) = if matches!(b[i], b'"' | b'\'' | b'`') {
                unquote(&s[i..])?
            } else {
                let start = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
                if i == start || b[start].is_ascii_digit() {
                    return Err(format!("invalid label name at {:?}", &s[start..]));
                }
                (s[start..i].to_string(), &s[i..])
            };
            i = s.len() - after.len();
            i = skip_ws(b, i);
            if b.get(i) != Some(&b'=') {
                return Err(format!(
                    "expected \"=\" after label {lname:?} (only equality matchers are allowed)"
                ));
            }
            i = skip_ws(b, i + 1);
            if !b.get(i).is_some_and(|c| matches!(c, b'"' | b'\'' | b'`')) {
                return Err(format!("expected a quoted value for label {lname:?}"));
            }
            let (value, after) = unquote(&s[i..])?;
            i = s.len() - after.len();
            pairs.push((lname, value));
            i = skip_ws(b, i);
            match b.get(i) {
                Some(b',') => i += 1,
                Some(b'}') => {}
                _ => return Err("expected \",\" or \"}\" in label set".to_string()),
            }
        }
    } else if name.is_empty() {
        return Err(format!("expected a series at {s:?}"));
    }
    if let Some(dup) = duplicate_name(&pairs) {
        return Err(format!("label {dup:?} is set twice"));
    }
    Ok((Labels::from_pairs(pairs), &s[i..]))
}

fn duplicate_name(pairs: &[(String, String)]) -> Option<&str> {
    let mut names: Vec<&str> = pairs.iter().map(|(n, _)| n.as_str()).collect();
    names.sort_unstable();
    names.windows(2).find(|w| w[0] == w[1]).map(|w| w[0])
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
        i += 1;
    }
    i
}

/// Reads a quoted string (`"`, `'` or backtick, Go escapes in the first
/// two) at the start of `s`; returns its value and the rest.
pub fn unquote(s: &str) -> Result<(String, &str), String> {
    let mut chars = s.char_indices();
    let quote = match chars.next() {
        Some((_, q @ ('"' | '\'' | '`'))) => q,
        _ => return Err(format!("expected a quoted string at {s:?}")),
    };
    let mut out = String::new();
    while let Some((i, c)) = chars.next() {
        if c == quote {
            return Ok((out, &s[i + 1..]));
        }
        if c != '\\' || quote == '`' {
            out.push(c);
            continue;
        }
        let (_, e) = chars
            .next()
            .ok_or_else(|| "unterminated escape in string".to_string())?;
        match e {
            'a' => out.push('\x07'),
            'b' => out.push('\x08'),
            'f' => out.push('\x0c'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'v' => out.push('\x0b'),
            '\\' | '"' | '\'' => out.push(e),
            'x' | 'u' | 'U' => {
                let len = match e {
                    'x' => 2,
                    'u' => 4,
                    _ => 8,
                };
                let hex: String = chars.by_ref().take(len).map(|(_, c)| c).collect();
                let code = u32::from_str_radix(&hex, 16)
                    .ok()
                    .filter(|_| hex.len() == len)
                    .ok_or_else(|| format!("invalid escape \\{e}{hex}"))?;
                out.push(
                    char::from_u32(code).ok_or_else(|| format!("invalid code point {code:#x}"))?,
                );
            }
            '0'..='7' => {
                let rest: String = chars.by_ref().take(2).map(|(_, c)| c).collect();
                let oct = format!("{e}{rest}");
                let code = u32::from_str_radix(&oct, 8)
                    .ok()
                    .filter(|c| oct.len() == 3 && *c < 256)
                    .ok_or_else(|| format!("invalid octal escape \\{oct}"))?;
                out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
            }
            other => return Err(format!("unknown escape sequence \\{other}")),
        }
    }
    Err(format!("unterminated string {s:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::is_stale_nan;

    fn floats(line: &str) -> Vec<Option<f64>> {
        parse_series_desc(line)
            .expect("parses")
            .values
            .into_iter()
            .map(|v| match v {
                SeqValue::Float(f) => Some(f),
                _ => None,
            })
            .collect()
    }

    fn histograms(line: &str) -> Vec<String> {
        parse_series_desc(line)
            .unwrap_or_else(|e| panic!("{line}: {e}"))
            .values
            .into_iter()
            .map(|v| match v {
                SeqValue::Histogram(h) => h.h.test_expression(),
                other => format!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn histogram_expansion() {
        assert_eq!(
            histograms("m {{sum:3 count:2 buckets:[2]}}x2"),
            ["{{count:2 sum:3 buckets:[2]}}"; 3]
        );
        // 3 + 1.3 + 1.3 is 5.6 in float64 arithmetic done in that order.
        assert_eq!(
            histograms("m {{sum:3 count:2 buckets:[2]}}+{{sum:1.3 count:1 buckets:[1]}}x2"),
            [
                "{{count:2 sum:3 buckets:[2]}}",
                "{{count:3 sum:4.3 buckets:[3]}}",
                "{{count:4 sum:5.6 buckets:[4]}}"
            ]
        );
        assert_eq!(
            histograms("m {{count:5 buckets:[5] offset:1}}-{{count:1 buckets:[1 1]}}x1"),
            [
                "{{count:5 offset:1 buckets:[5]}}",
                "{{count:4 buckets:[-1 4]}}"
            ]
        );
        let d = parse_series_desc(
            "m {{count:1}}+{{count:1 counter_reset_hint:gauge}}x1 {{count:1 counter_reset_hint:reset}}",
        )
        .expect("parses");
        let hint_set: Vec<bool> = d
            .values
            .iter()
            .map(|v| matches!(v, SeqValue::Histogram(h) if h.hint_set))
            .collect();
        assert_eq!(hint_set, [true, true, true]);
        assert_eq!(
            histograms("m {{count:1}}+{{count:1 counter_reset_hint:gauge}}x1")[1],
            "{{count:2 counter_reset_hint:gauge}}"
        );
    }

    #[test]
    fn histogram_errors_name_the_value() {
        let e = parse_series_desc("m {{schema:1}}+{{schema:0}}x1").expect_err("schema");
        assert_eq!(
            e,
            "error combining histograms: cannot merge from schema 0 to 1"
        );
        let e = parse_series_desc("m {{count:1 bogus:2}}").expect_err("key");
        assert!(e.contains("bogus") && e.contains("character 11"), "{e}");
        assert!(parse_series_desc("m {{count:1}}+2x1").is_err());
        assert!(parse_series_desc("m {{count:1}}+{{count:1}}").is_err());
        assert!(parse_series_desc("m {{count:1}}y").is_err());
        assert!(parse_series_desc("m {{schema:-53 custom_values:[1]}}+{{count:1}}x1").is_err());
    }

    #[test]
    fn expansion_counts() {
        assert_eq!(floats("m _x3"), [None, None, None]);
        assert_eq!(floats("m 7x2"), [Some(7.0); 3]);
        assert_eq!(
            floats("m 0+10x3"),
            [Some(0.0), Some(10.0), Some(20.0), Some(30.0)]
        );
        assert_eq!(
            floats("m -2+4x3"),
            [Some(-2.0), Some(2.0), Some(6.0), Some(10.0)]
        );
        assert_eq!(
            floats("m 10-1x2 _ 1"),
            [Some(10.0), Some(9.0), Some(8.0), None, Some(1.0)]
        );
        assert_eq!(floats("m 1+1x1 9+1x1").len(), 4);
        assert_eq!(
            floats("m 1e3 .5 1_000 -Inf"),
            [Some(1e3), Some(0.5), Some(1000.0), Some(f64::NEG_INFINITY)]
        );
        // `0x5` is 0 repeated six times, not hex.
        assert_eq!(floats("m 0x5"), [Some(0.0); 6]);
    }

    #[test]
    fn repeated_addition_rounding() {
        let v = floats("m 0+0.1x10");
        let mut cur = 0.0;
        for x in &v {
            assert_eq!(x.map(f64::to_bits), Some(f64::to_bits(cur)));
            cur += 0.1;
        }
        // Ten additions of 0.1 give 0.9999999999999999, not 10 * 0.1 = 1.
        assert_eq!(v[10], Some(0.9999999999999999));
    }

    #[test]
    fn stale_nan_and_histograms() {
        let d = parse_series_desc("m 1 stale NaN {{schema:1 sum:3 count:22 buckets:[5 10 7]}} {{}}x2 {{count:1}}+{{count:1}}x1").expect("parses");
        assert_eq!(d.values.len(), 3 + 1 + 3 + 2);
        let SeqValue::Float(s) = d.values[1] else {
            panic!("float")
        };
        assert!(is_stale_nan(s));
        let SeqValue::Float(n) = d.values[2] else {
            panic!("float")
        };
        assert!(n.is_nan() && !is_stale_nan(n));
        assert!(d.values[3].is_histogram());
        assert!(parse_series_desc("m Infx3").is_err());
        assert!(parse_series_desc("m stalex2").is_err());
        assert!(parse_series_desc("m {{count:1").is_err());
    }

    #[test]
    fn metrics_and_labels() {
        let d = parse_series_desc(r#"http:req{job="a\"b", i='0', `x`=`y\n`} 1"#).expect("parses");
        assert_eq!(d.labels.get("__name__"), Some("http:req"));
        assert_eq!(d.labels.get("job"), Some("a\"b"));
        assert_eq!(d.labels.get("i"), Some("0"));
        assert_eq!(d.labels.get("x"), Some("y\\n"));
        let d = parse_series_desc(r#"{__name__="foo", a="b",}	2"#).expect("parses");
        assert_eq!(d.labels.metric_name(), Some("foo"));
        assert!(parse_series_desc("{} 1").expect("parses").labels.is_empty());
        assert!(parse_series_desc(r#"m{a=~"b"} 1"#).is_err());
        assert!(parse_series_desc(r#"m{a="b" 1"#).is_err());
        assert!(parse_series_desc("m 1 x").is_err());
    }

    #[test]
    fn numbers_and_durations() {
        assert_eq!(number("0x10"), Ok(16.0));
        assert_eq!(number("010"), Ok(8.0));
        assert_eq!(number("09"), Ok(9.0));
        assert_eq!(number("-Inf"), Ok(f64::NEG_INFINITY));
        assert!(number("nan").is_ok_and(f64::is_nan));
        assert_eq!(number("2.5E-2"), Ok(0.025));
        assert!(number("1 2").is_err());
        assert!(number("{} 1").is_err());
        assert_eq!(number("1_000"), Ok(1000.0));
        assert_eq!(number("0x1p-2"), Ok(0.25));
        assert_eq!(
            number("x"),
            Err(r#"error parsing number: strconv.ParseFloat: parsing "x": invalid syntax"#.into())
        );
        assert_eq!(parse_duration("0"), Ok(0));
        assert_eq!(parse_duration("1h30m"), Ok(5_400_000));
        assert_eq!(parse_duration("10s53ms"), Ok(10_053));
        assert_eq!(parse_duration("1y"), Ok(365 * 86_400_000));
        assert!(parse_duration("30s1m").is_err());
        assert!(parse_duration("-5m").is_err());
        assert!(parse_duration("1.5m").is_err());
    }
}
