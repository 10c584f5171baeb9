//! `count_values("label", v)`: per group and step, how many samples have each
//! value; the value becomes a label (Go's shortest decimal form).

use std::collections::HashMap;

use gofmt::{format_float, quote_bytes};
use model::{LabelsBuilder, METRIC_NAME_LABEL, Sample};
use promql_parser::label::Labels as ParserLabels;
use promql_parser::parser::{AggregateExpr, Expr, LabelModifier};

use super::Groups;
use crate::error::{EvalError, EvalResult};
use crate::eval::Evaluator;
use crate::grouping::{LabelSubset, step_of};
use crate::value::Series;

/// Evaluates `count_values` over all steps.
pub(super) fn eval(ev: &Evaluator<'_>, a: &AggregateExpr) -> EvalResult<Vec<Series>> {
    let Some(param) = a.param.as_deref() else {
        return Err(EvalError::exec("count_values needs a label name"));
    };
    let label = ev.eval_string(param)?;
    // Go strings may hold bytes that are not UTF-8; the parser we use turns
    // `\xNN` into a character, so look at how the literal was written.
    let raw = literal_bytes(ev, param, &label).unwrap_or_else(|| label.as_bytes().to_vec());
    if raw.is_empty() || std::str::from_utf8(&raw).is_err() {
        return Err(EvalError::exec(format!(
            "invalid label name {}",
            quote_bytes(&raw)
        )));
    }
    let input = ev.eval_vector(&a.expr)?;
    // Prometheus counts histograms by their printed form; not done here yet.
    crate::histograms::reject(&input, "count_values()")?;

    // The value label replaces any label of that name before grouping; with
    // `without` it is dropped again when listed there (or when it is `__name__`).
    let (base, keeps_value) = match &a.modifier {
        Some(LabelModifier::Exclude(l)) => {
            let listed = l.labels.contains(&label) || label == METRIC_NAME_LABEL;
            let mut names = l.labels.clone();
            names.push(label.clone());
            (LabelSubset::all_but(&names), !listed)
        }
        Some(LabelModifier::Include(l)) => (LabelSubset::only(&without(l, &label)), true),
        None => (LabelSubset::only::<&str>(&[]), true),
    };
    let groups = Groups::new(&input, base);

    let steps = ev.steps;
    let n = steps.len();
    let mut index: HashMap<(u32, u64), usize> = HashMap::new();
    let mut outs: Vec<Series> = Vec::new();
    for (si, s) in input.iter().enumerate() {
        if si % 1024 == 0 {
            ev.check_deadline()?;
        }
        let g = groups.ids[si];
        for p in &s.samples {
            if step_of(&steps, p.t, n).is_none() {
                continue;
            }
            let key = (g, if keeps_value { value_key(p.v) } else { 0 });
            let o = *index.entry(key).or_insert_with(|| {
                let mut b = LabelsBuilder::new(groups.labels(g as usize));
                if keeps_value {
                    // Go's strconv.FormatFloat(v, 'f', -1, 64): never an exponent.
                    b.set(label.as_str(), format_float(p.v, b'f', -1));
                }
                outs.push(Series::new(b.build(), Vec::new()));
                outs.len() - 1
            });
            let samples = &mut outs[o].samples;
            // Series are read one after another, so counts at one step may
            // come in at any point of an output's samples.
            match samples.binary_search_by_key(&p.t, |x| x.t) {
                Ok(j) => samples[j].v += 1.0,
                Err(j) => samples.insert(j, Sample::new(p.t, 1.0)),
            }
        }
    }
    Ok(outs)
}

fn without(l: &ParserLabels, name: &str) -> Vec<String> {
    l.labels.iter().filter(|n| *n != name).cloned().collect()
}

/// One key per printed value: all NaNs print as `NaN`.
fn value_key(v: f64) -> u64 {
    if v.is_nan() {
        f64::NAN.to_bits()
    } else {
        v.to_bits()
    }
}

/// The bytes the string literal `node` (whose parsed value is `parsed`) stands
/// for in Go, from its text in the query: at its known position, else the
/// first literal in the text that the parser reads as `parsed`.
fn literal_bytes(ev: &Evaluator<'_>, node: &Expr, parsed: &str) -> Option<Vec<u8>> {
    let node = match node {
        Expr::Paren(p) => return literal_bytes(ev, &p.expr, parsed),
        Expr::StringLiteral(_) => node,
        _ => return None,
    };
    let q = ev.sh.query;
    let text = q.text.as_bytes();
    if let Some(pos) = q.pos(node) {
        let line_start: usize = q
            .text
            .split_inclusive('\n')
            .take(pos.line.saturating_sub(1))
            .map(str::len)
            .sum();
        return unquote_go(text.get(line_start + pos.col.checked_sub(1)?..)?, false);
    }
    let mut i = 0;
    while i < text.len() {
        if matches!(text[i], b'"' | b'\'' | b'`') {
            let (bytes, len) = unquote_go_len(&text[i..], false)?;
            let as_parsed = unquote_go(&text[i..], true)?;
            if as_parsed == parsed.as_bytes() {
                return Some(bytes);
            }
            i += len;
        } else {
            i += 1;
        }
    }
    None
}

/// Decodes the Go string literal at the start of `s` into bytes. With
/// `byte_chars`, `\xNN` and octal escapes give the character U+00NN, as the
/// PromQL parser we use reads them.
fn unquote_go(s: &[u8], byte_chars: bool) -> Option<Vec<u8>> {
    unquote_go_len(s, byte_chars).map(|(b, _)| b)
}

/// [`unquote_go`] and the length of the literal in `s`.
fn unquote_go_len(s: &[u8], byte_chars: bool) -> Option<(Vec<u8>, usize)> {
    let quote = *s.first()?;
    if quote == b'`' {
        let end = s[1..].iter().position(|&b| b == b'`')?;
        return Some((s[1..1 + end].to_vec(), end + 2));
    }
    if quote != b'"' && quote != b'\'' {
        return None;
    }
    let hex = |b: &[u8]| u32::from_str_radix(std::str::from_utf8(b).ok()?, 16).ok();
    let mut out = Vec::new();
    let push_byte = |out: &mut Vec<u8>, b: u8| {
        if byte_chars {
            out.extend_from_slice(char::from(b).encode_utf8(&mut [0; 4]).as_bytes());
        } else {
            out.push(b);
        }
    };
    let mut i = 1;
    while i < s.len() {
        let b = s[i];
        if b == quote {
            return Some((out, i + 1));
        }
        if b != b'\\' {
            out.push(b);
            i += 1;
            continue;
        }
        let e = *s.get(i + 1)?;
        i += 2;
        let simple = match e {
            b'a' => Some(7),
            b'b' => Some(8),
            b'f' => Some(12),
            b'n' => Some(b'\n'),
            b'r' => Some(b'\r'),
            b't' => Some(b'\t'),
            b'v' => Some(11),
            b'\\' | b'\'' | b'"' => Some(e),
            _ => None,
        };
        if let Some(c) = simple {
            out.push(c);
            continue;
        }
        match e {
            b'x' => {
                push_byte(&mut out, hex(s.get(i..i + 2)?)? as u8);
                i += 2;
            }
            b'0'..=b'7' => {
                let oct = std::str::from_utf8(s.get(i - 1..i + 2)?).ok()?;
                push_byte(
                    &mut out,
                    u8::try_from(u32::from_str_radix(oct, 8).ok()?).ok()?,
                );
                i += 2;
            }
            b'u' | b'U' => {
                let len = if e == b'u' { 4 } else { 8 };
                let c = char::from_u32(hex(s.get(i..i + len)?)?)?;
                out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                i += len;
            }
            _ => return None,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_nans_share_a_key() {
        assert_eq!(value_key(f64::NAN), value_key(-f64::NAN));
    }

    #[test]
    fn go_literals() {
        assert_eq!(
            unquote_go(br#""a\xc5z", x"#, false),
            Some(b"a\xc5z".to_vec())
        );
        assert_eq!(
            unquote_go(br#""a\xc5z""#, true),
            Some("aÅz".as_bytes().to_vec())
        );
        assert_eq!(
            unquote_go(br#"'\u00e5\101'"#, false),
            Some("å\x41".as_bytes().to_vec())
        );
        assert_eq!(
            unquote_go_len(b"`a\\x`, y", false),
            Some((b"a\\x".to_vec(), 5))
        );
        assert_eq!(unquote_go(b"\"open", false), None);
    }
}
