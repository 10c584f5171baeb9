//! `label_replace` and `label_join`: rewrite one label of every series. They
//! change labels, not values, so the metric name stays (unless the target is
//! `__name__`, which then also survives delayed name removal).

use model::{LabelsBuilder, METRIC_NAME_LABEL};
use promql_parser::parser::Expr;
use regex::Regex;

use super::arg;
use crate::error::{EvalError, EvalResult};
use crate::eval::Evaluator;
use crate::value::{Series, Value};

/// `label_replace(v, dst, replacement, src, regex)`: where `regex` matches the
/// whole of `src`'s value, sets `dst` to the expanded replacement.
pub(super) fn replace(ev: &Evaluator<'_>, args: &[&Expr]) -> EvalResult<Value> {
    let dst = ev.eval_string(arg(args, 1)?)?;
    let repl = ev.eval_string(arg(args, 2)?)?;
    let src = ev.eval_string(arg(args, 3)?)?;
    let re_text = ev.eval_string(arg(args, 4)?)?;
    // Checked before the vector is evaluated, as Prometheus does.
    let re = Regex::new(&format!("^(?s:{re_text})$")).map_err(|_| {
        EvalError::exec(format!(
            "invalid regular expression in label_replace(): {re_text}"
        ))
    })?;
    if !valid_label_name(ev, &dst) {
        return Err(EvalError::exec(format!(
            "invalid destination label name in label_replace(): {dst}"
        )));
    }
    let v = ev.eval_vector(arg(args, 0)?)?;
    let mut out = Vec::with_capacity(v.len());
    for s in v {
        let caps = re.captures(s.labels.get(&src).unwrap_or(""));
        let Some(caps) = caps else {
            out.push(s);
            continue;
        };
        let mut value = String::new();
        caps.expand(&repl, &mut value);
        out.push(set_label(s, &dst, value));
    }
    Ok(Value::Vector(ev.dedup(out)?))
}

/// `label_join(v, dst, separator, src...)`: sets `dst` to the values of the
/// `src` labels (empty when missing) joined by `separator`.
pub(super) fn join(ev: &Evaluator<'_>, args: &[&Expr]) -> EvalResult<Value> {
    let dst = ev.eval_string(arg(args, 1)?)?;
    let sep = ev.eval_string(arg(args, 2)?)?;
    let mut srcs = Vec::with_capacity(args.len().saturating_sub(3));
    for a in args.iter().skip(3) {
        let src = ev.eval_string(a)?;
        if !valid_label_name(ev, &src) {
            return Err(EvalError::exec(format!(
                "invalid source label name in label_join(): {src}"
            )));
        }
        srcs.push(src);
    }
    if !valid_label_name(ev, &dst) {
        return Err(EvalError::exec(format!(
            "invalid destination label name in label_join(): {dst}"
        )));
    }
    let v = ev.eval_vector(arg(args, 0)?)?;
    let out: Vec<Series> = v
        .into_iter()
        .map(|s| {
            let joined = srcs
                .iter()
                .map(|src| s.labels.get(src).unwrap_or(""))
                .collect::<Vec<_>>()
                .join(&sep);
            set_label(s, &dst, joined)
        })
        .collect();
    Ok(Value::Vector(ev.dedup(out)?))
}

/// `s` with `name` set to `value` (removed when empty). A name written by the
/// user is kept even where the input's name was to be dropped.
fn set_label(mut s: Series, name: &str, value: String) -> Series {
    let mut b = LabelsBuilder::new(s.labels);
    b.set(name, value);
    s.labels = b.build();
    if name == METRIC_NAME_LABEL {
        s.drop_name = false;
    }
    s
}

/// Prometheus 3 accepts any non-empty UTF-8 label name. The parser turns a
/// `\xff` escape into the character U+00FF where Go makes it the byte 0xff, so
/// the query's literals decide whether the name Go would see is UTF-8.
fn valid_label_name(ev: &Evaluator<'_>, name: &str) -> bool {
    !name.is_empty() && !from_invalid_utf8_literal(&ev.sh.query.text, name)
}

/// True when a quoted literal in `text` reads as `value` to the parser but as
/// bytes that are not UTF-8 to Go.
fn from_invalid_utf8_literal(text: &str, value: &str) -> bool {
    let mut rest = text;
    while let Some(i) = rest.find(['"', '\'', '`']) {
        rest = &rest[i..];
        if rest.starts_with('`') {
            // Raw strings have no escapes.
            match rest[1..].find('`') {
                Some(j) => rest = &rest[j + 2..],
                None => return false,
            }
            continue;
        }
        let Some(lit) = unquote(rest) else {
            return false;
        };
        if lit.parsed == value && std::str::from_utf8(&lit.go_bytes).is_err() {
            return true;
        }
        rest = &rest[lit.len..];
    }
    false
}

/// A quoted literal read both ways.
struct Unquoted {
    /// What Go's `strconv.Unquote` gives.
    go_bytes: Vec<u8>,
    /// What the parser gives (`\xNN` and octal escapes as characters).
    parsed: String,
    /// Length of the literal in the text, quotes included.
    len: usize,
}

/// Reads the `"`- or `'`-quoted literal at the start of `text`.
fn unquote(text: &str) -> Option<Unquoted> {
    let bytes = text.as_bytes();
    let quote = *bytes.first()?;
    let mut out = Unquoted {
        go_bytes: Vec::new(),
        parsed: String::new(),
        len: 0,
    };
    let mut i = 1;
    let digits = |i: usize, n: usize, radix: u32| -> Option<u32> {
        u32::from_str_radix(text.get(i..i + n)?, radix).ok()
    };
    while let Some(ch) = text.get(i..).and_then(|t| t.chars().next()) {
        i += ch.len_utf8();
        if ch as u32 == u32::from(quote) {
            out.len = i;
            return Some(out);
        }
        if ch != '\\' {
            out.parsed.push(ch);
            out.go_bytes
                .extend_from_slice(ch.encode_utf8(&mut [0; 4]).as_bytes());
            continue;
        }
        let c = *bytes.get(i)?;
        i += 1;
        let byte = match c {
            b'x' => {
                i += 2;
                u8::try_from(digits(i - 2, 2, 16)?).ok()?
            }
            b'0'..=b'7' => {
                i += 2;
                u8::try_from(digits(i - 3, 3, 8)?).ok()?
            }
            b'u' | b'U' => {
                let n = if c == b'u' { 4 } else { 8 };
                let ch = char::from_u32(digits(i, n, 16)?)?;
                i += n;
                out.parsed.push(ch);
                out.go_bytes
                    .extend_from_slice(ch.encode_utf8(&mut [0; 4]).as_bytes());
                continue;
            }
            b'a' => 7,
            b'b' => 8,
            b'f' => 12,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'v' => 11,
            other => other,
        };
        out.parsed.push(char::from(byte));
        out.go_bytes.push(byte);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::Labels;

    #[test]
    fn set_label_sets_and_removes() {
        let s = Series::new(Labels::from_pairs([("a", "1"), ("b", "2")]), vec![]);
        let s = set_label(s, "c", "3".to_string());
        assert_eq!(s.labels.get("c"), Some("3"));
        let s = set_label(s, "a", String::new());
        assert!(!s.labels.has("a"));
        let mut s = s;
        s.drop_name = true;
        let s = set_label(s, METRIC_NAME_LABEL, "m".to_string());
        assert!(!s.drop_name);
    }

    #[test]
    fn go_unquoting() {
        let u = unquote(r#""\xff" rest"#).expect("quoted");
        assert_eq!(
            (u.go_bytes.as_slice(), u.parsed.as_str(), u.len),
            (&[0xffu8][..], "ÿ", 6)
        );
        let u = unquote(r#"'\xc3\xbf\u00e9\101\n\''"#).expect("quoted");
        assert_eq!(std::str::from_utf8(&u.go_bytes).ok(), Some("ÿéA\n'"));
        assert!(from_invalid_utf8_literal(r#"f(x, "\xff", `\xff`)"#, "ÿ"));
        assert!(!from_invalid_utf8_literal(r#"f(x, "\xc3\xbf")"#, "ÿ"));
        assert!(!from_invalid_utf8_literal(r#"f(x, `"\xff"`)"#, "ÿ"));
    }

    #[test]
    fn replacement_expansion_matches_go() {
        let re = Regex::new("^(?s:(.*)-value-(.*))$").expect("valid");
        let caps = re.captures("source-value-10").expect("matches");
        let mut out = String::new();
        caps.expand("$1x-${2}-$$", &mut out);
        // `$1x` names a group "1x", which does not exist: empty, as in Go.
        assert_eq!(out, "-10-$");
    }
}
