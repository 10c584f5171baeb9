//! Number literals (Go's `newNumber`): the value under every type that
//! represents it exactly, as Go's ideal constants are.

use crate::ast::Number;
use crate::lex::ItemType;
use gofmt::{Unquoted, parse_float, parse_int_base0, parse_uint_base0, quote, unquote_char};

const TWO_63: f64 = 9_223_372_036_854_775_808.0;

fn exact_int(f: f64) -> Option<i64> {
    (f.fract() == 0.0 && (-TWO_63..TWO_63).contains(&f)).then_some(f as i64)
}

fn exact_uint(f: f64) -> Option<u64> {
    (f.fract() == 0.0 && (0.0..2.0 * TWO_63).contains(&f)).then_some(f as u64)
}

fn simplify_complex(n: &mut Number) {
    let (re, im) = n.complex;
    n.is_float = im == 0.0;
    if n.is_float {
        n.float = re;
        if let Some(i) = exact_int(re) {
            n.is_int = true;
            n.int = i;
        }
        if let Some(u) = exact_uint(re) {
            n.is_uint = true;
            n.uint = u;
        }
    }
}

/// Go's `newNumber`: the value under every type that holds it exactly.
pub(super) fn new_number(text: &str, typ: ItemType) -> Result<Number, String> {
    let mut n = Number {
        text: text.to_string(),
        ..Number::default()
    };
    match typ {
        ItemType::CharConstant => {
            let inner = text.get(1..).ok_or("invalid syntax")?;
            let (v, tail) = unquote_char(inner, b'\'').map_err(|_| "invalid syntax")?;
            if tail != "'" {
                return Err(format!("malformed character constant: {text}"));
            }
            let r = match v {
                Unquoted::Char(c) => c as u32,
                Unquoted::Byte(b) => b as u32,
            };
            n.is_int = true;
            n.int = r as i64;
            n.is_uint = true;
            n.uint = r as u64;
            n.is_float = true;
            n.float = r as f64;
            return Ok(n);
        }
        ItemType::Complex => {
            let split = text
                .char_indices()
                .skip(1)
                .filter(|(i, c)| {
                    matches!(c, '+' | '-')
                        && !matches!(text.as_bytes()[i - 1], b'e' | b'E' | b'p' | b'P')
                })
                .map(|(i, _)| i)
                .last()
                .ok_or_else(|| format!("illegal number syntax: {}", quote(text)))?;
            let re = parse_float(&text[..split]);
            let im = parse_float(text[split..].trim_end_matches('i'));
            match (re, im) {
                (Ok(re), Ok(im)) => n.complex = (re, im),
                _ => return Err(format!("illegal number syntax: {}", quote(text))),
            }
            n.is_complex = true;
            simplify_complex(&mut n);
            return Ok(n);
        }
        _ => {}
    }
    if let Some(body) = text.strip_suffix('i')
        && let Ok(f) = parse_float(body)
    {
        n.is_complex = true;
        n.complex = (0.0, f);
        simplify_complex(&mut n);
        return Ok(n);
    }
    let u = parse_uint_base0(text);
    if let Some(u) = u {
        n.is_uint = true;
        n.uint = u;
    }
    if let Some(i) = parse_int_base0(text) {
        n.is_int = true;
        n.int = i;
        if i == 0 {
            n.is_uint = true;
            n.uint = u.unwrap_or(0);
        }
    }
    if n.is_int {
        n.is_float = true;
        n.float = n.int as f64;
    } else if n.is_uint {
        n.is_float = true;
        n.float = n.uint as f64;
    } else if let Ok(f) = parse_float(text) {
        if !text.contains(['.', 'e', 'E', 'p', 'P']) {
            return Err(format!("integer overflow: {}", quote(text)));
        }
        n.is_float = true;
        n.float = f;
        if let Some(i) = exact_int(f) {
            n.is_int = true;
            n.int = i;
        }
        if let Some(u) = exact_uint(f) {
            n.is_uint = true;
            n.uint = u;
        }
    }
    if !n.is_int && !n.is_uint && !n.is_float {
        return Err(format!("illegal number syntax: {}", quote(text)));
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_like_go() {
        let n = |t: &str| new_number(t, ItemType::Number);
        let hex = n("0x1F").unwrap_or_default();
        assert!(hex.is_int && hex.is_uint && hex.is_float && hex.int == 31);
        let e = n("1e3").unwrap_or_default();
        assert!(e.is_int && e.is_float && e.int == 1000);
        let f = n("1.5").unwrap_or_default();
        assert!(!f.is_int && f.is_float && f.float == 1.5);
        let big = n("18446744073709551615").unwrap_or_default();
        assert!(big.is_uint && !big.is_int);
        assert_eq!(
            n("99999999999999999999").err(),
            Some("integer overflow: \"99999999999999999999\"".into())
        );
        assert_eq!(
            n("1.2.3").err(),
            Some("illegal number syntax: \"1.2.3\"".into())
        );
        let c = new_number("'a'", ItemType::CharConstant).unwrap_or_default();
        assert!(c.is_int && c.int == 97);
        assert!(new_number("'ab'", ItemType::CharConstant).is_err());
        let z = new_number("1+2i", ItemType::Complex).unwrap_or_default();
        assert!(z.is_complex && z.complex == (1.0, 2.0) && !z.is_float);
        let r = n("0i").unwrap_or_default();
        assert!(r.is_complex && r.is_int && r.int == 0);
    }
}
