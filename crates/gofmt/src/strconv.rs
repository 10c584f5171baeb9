//! Go's `strconv` for numbers: float formatting (`FormatFloat`) and number
//! parsing (`ParseFloat`, `ParseInt`/`ParseUint` with base 0). Quoting is in
//! [`mod@crate::quote`].
//!
//! Digit generation leans on Rust's float formatting, which like Go's is
//! exact: shortest round-trip digits, or correctly rounded (half to even on
//! exact ties) to a number of digits. The layout around the digits is Go's.

use std::borrow::Cow;

use crate::quote::quote;

/// Decimal digits of a non-negative finite float: `0.d[0]d[1]... * 10^dp`,
/// without trailing zeros; zero has no digits and `dp == 0`.
struct Digits {
    d: Vec<u8>,
    dp: i32,
}

/// Parses Rust's `{:e}` rendering ("1.2345e6", "0e0") into digits.
fn digits_from_exp(s: &str) -> Digits {
    let (mant, exp) = s.split_once('e').unwrap_or((s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let mut d: Vec<u8> = mant.bytes().filter(u8::is_ascii_digit).collect();
    while d.last() == Some(&b'0') {
        d.pop();
    }
    if d.is_empty() {
        return Digits { d, dp: 0 };
    }
    Digits { d, dp: exp + 1 }
}

/// The shortest digits that read back as `a`.
fn shortest(a: f64) -> Digits {
    digits_from_exp(&format!("{a:e}"))
}

/// `a` rounded to `n >= 1` significant digits.
fn significant(a: f64, n: usize) -> Digits {
    digits_from_exp(&format!("{:.*e}", n.saturating_sub(1), a))
}

/// Go's `strconv.FormatFloat(v, fmt, prec, 64)` for the formats
/// `b e E f g G x X`; a negative `prec` means the shortest exact form.
pub fn format_float(v: f64, fmt: u8, prec: i32) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    let neg = v.is_sign_negative();
    let a = v.abs();
    match fmt {
        b'b' => return format_b(v),
        b'x' | b'X' => return format_x(v, fmt, prec),
        _ => {}
    }
    let shortest_mode = prec < 0;
    let mut prec = prec;
    let digs = if shortest_mode {
        let d = shortest(a);
        let nd = d.d.len() as i32;
        prec = match fmt {
            b'e' | b'E' => (nd - 1).max(0),
            b'f' => (nd - d.dp).max(0),
            _ => nd,
        };
        d
    } else if fmt == b'f' {
        let mut out = String::new();
        if neg {
            out.push('-');
        }
        out.push_str(&format!("{:.*}", prec as usize, a));
        return out;
    } else {
        let n = match fmt {
            b'e' | b'E' => prec + 1,
            _ => {
                if prec == 0 {
                    prec = 1;
                }
                prec
            }
        };
        significant(a, n.max(1) as usize)
    };
    format_digits(neg, &digs, prec, fmt, shortest_mode)
}

fn format_digits(neg: bool, digs: &Digits, prec: i32, fmt: u8, shortest_mode: bool) -> String {
    match fmt {
        b'e' | b'E' => fmt_e(neg, digs, prec, fmt),
        b'f' => fmt_f(neg, digs, prec),
        _ => {
            let nd = digs.d.len() as i32;
            let mut prec = prec;
            let mut eprec = prec;
            if eprec > nd && nd >= digs.dp {
                eprec = nd;
            }
            if shortest_mode {
                eprec = 6;
            }
            let exp = digs.dp - 1;
            if exp < -4 || exp >= eprec {
                if prec > nd {
                    prec = nd;
                }
                let efmt = if fmt == b'G' { b'E' } else { b'e' };
                return fmt_e(neg, digs, prec - 1, efmt);
            }
            if prec > digs.dp {
                prec = nd;
            }
            fmt_f(neg, digs, (prec - digs.dp).max(0))
        }
    }
}

/// `d.ddddde±dd`
fn fmt_e(neg: bool, digs: &Digits, prec: i32, fmt: u8) -> String {
    let mut s = String::new();
    if neg {
        s.push('-');
    }
    let d = &digs.d;
    s.push(d.first().map_or('0', |c| *c as char));
    if prec > 0 {
        s.push('.');
        let want = prec as usize + 1;
        let end = d.len().min(want);
        for c in d.iter().take(end).skip(1) {
            s.push(*c as char);
        }
        for _ in end.max(1)..want {
            s.push('0');
        }
    }
    s.push(fmt as char);
    push_exponent(&mut s, if d.is_empty() { 0 } else { digs.dp - 1 });
    s
}

/// An exponent as Go writes it after `e` or `p`: a sign and at least two digits.
fn push_exponent(s: &mut String, exp: i32) {
    s.push(if exp < 0 { '-' } else { '+' });
    let exp = exp.unsigned_abs();
    if exp < 10 {
        s.push('0');
    }
    s.push_str(&exp.to_string());
}

/// `ddd.ddd`
fn fmt_f(neg: bool, digs: &Digits, prec: i32) -> String {
    let mut s = String::new();
    if neg {
        s.push('-');
    }
    let d = &digs.d;
    if digs.dp > 0 {
        let dp = digs.dp as usize;
        let m = d.len().min(dp);
        s.extend(d[..m].iter().map(|c| *c as char));
        for _ in m..dp {
            s.push('0');
        }
    } else {
        s.push('0');
    }
    if prec > 0 {
        s.push('.');
        for i in 1..=prec {
            let j = digs.dp + i - 1;
            let c = if j >= 0 && (j as usize) < d.len() {
                d[j as usize] as char
            } else {
                '0'
            };
            s.push(c);
        }
    }
    s
}

/// Mantissa and binary exponent of a finite float, as Go's ftoa splits them:
/// the value is `mant * 2^(exp - 52)`.
fn split_bits(v: f64) -> (u64, i32) {
    let bits = v.to_bits();
    let mut exp = ((bits >> 52) & 0x7ff) as i32;
    let mut mant = bits & ((1u64 << 52) - 1);
    if exp == 0 {
        exp += 1;
    } else {
        mant |= 1u64 << 52;
    }
    (mant, exp - 1023)
}

/// `%b`: decimal mantissa, binary exponent ("4503599627370496p-52").
fn format_b(v: f64) -> String {
    let (mant, exp) = split_bits(v);
    let exp = exp - 52;
    let sign = if v.is_sign_negative() { "-" } else { "" };
    let esign = if exp >= 0 { "+" } else { "" };
    format!("{sign}{mant}p{esign}{exp}")
}

/// `%x`: hexadecimal mantissa, binary exponent ("0x1.8p+01").
fn format_x(v: f64, fmt: u8, prec: i32) -> String {
    let (mut mant, mut exp) = split_bits(v);
    if mant == 0 {
        exp = 0;
    }
    // Leading one at bit 60.
    mant <<= 60 - 52;
    while mant != 0 && mant & (1 << 60) == 0 {
        mant <<= 1;
        exp -= 1;
    }
    if (0..15).contains(&prec) {
        let shift = (prec * 4) as u32;
        let extra = (mant << shift) & ((1u64 << 60) - 1);
        mant >>= 60 - shift;
        if extra | (mant & 1) > 1 << 59 {
            mant += 1;
        }
        mant <<= 60 - shift;
        if mant & (1 << 61) != 0 {
            mant >>= 1;
            exp += 1;
        }
    }
    let hex: &[u8; 16] = if fmt == b'X' {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    let mut s = String::new();
    if v.is_sign_negative() {
        s.push('-');
    }
    s.push('0');
    s.push(fmt as char);
    s.push((b'0' + ((mant >> 60) & 1) as u8) as char);
    mant <<= 4;
    if prec < 0 && mant != 0 {
        s.push('.');
        while mant != 0 {
            s.push(hex[((mant >> 60) & 15) as usize] as char);
            mant <<= 4;
        }
    } else if prec > 0 {
        s.push('.');
        for _ in 0..prec {
            s.push(hex[((mant >> 60) & 15) as usize] as char);
            mant <<= 4;
        }
    }
    s.push(if fmt == b'X' { 'P' } else { 'p' });
    push_exponent(&mut s, exp);
    s
}

/// Go's `strconv.ParseFloat(s, 64)`, with its error text.
pub fn parse_float(s: &str) -> Result<f64, String> {
    let syntax = || format!("strconv.ParseFloat: parsing {}: invalid syntax", quote(s));
    let range = || {
        format!(
            "strconv.ParseFloat: parsing {}: value out of range",
            quote(s)
        )
    };
    let (neg, body) = match s.as_bytes().first() {
        Some(b'+') => (false, &s[1..]),
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    if body.eq_ignore_ascii_case("inf") || body.eq_ignore_ascii_case("infinity") {
        return Ok(if neg {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        });
    }
    if body.eq_ignore_ascii_case("nan") {
        // Go takes no sign on NaN.
        return if body.len() == s.len() {
            Ok(f64::NAN)
        } else {
            Err(syntax())
        };
    }
    // One sign only: Rust's own parser would take a second.
    if body.is_empty() || body.starts_with(['+', '-']) || !underscores_ok(s) {
        return Err(syntax());
    }
    // Separators checked above; most numbers have none to drop.
    let clean: Cow<'_, str> = if body.contains('_') {
        Cow::Owned(body.replace('_', ""))
    } else {
        Cow::Borrowed(body)
    };
    let v = if clean.len() > 2 && (clean.starts_with("0x") || clean.starts_with("0X")) {
        parse_hex_float(&clean[2..]).ok_or_else(syntax)?
    } else {
        if !clean
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
        {
            return Err(syntax());
        }
        clean.parse::<f64>().map_err(|_| syntax())?
    };
    if v.is_infinite() {
        return Err(range());
    }
    Ok(if neg { -v } else { v })
}

/// A hexadecimal float without its `0x`: mantissa digits, optional point, and
/// the `p` exponent Go requires.
fn parse_hex_float(s: &str) -> Option<f64> {
    let (mant, exp) = s.split_once(['p', 'P'])?;
    let exp: i32 = {
        let e = exp.strip_prefix('+').unwrap_or(exp);
        if e.is_empty()
            || !e
                .trim_start_matches('-')
                .bytes()
                .all(|b| b.is_ascii_digit())
        {
            return None;
        }
        e.parse::<i64>().ok()?.clamp(-10_000, 10_000) as i32
    };
    let mut m: u64 = 0;
    let mut shift: i32 = 0;
    let mut seen_point = false;
    let mut any = false;
    for c in mant.chars() {
        if c == '.' {
            if seen_point {
                return None;
            }
            seen_point = true;
            continue;
        }
        let d = c.to_digit(16)? as u64;
        any = true;
        if m < (1 << 56) {
            m = m * 16 + d;
            if seen_point {
                shift -= 4;
            }
        } else if !seen_point {
            shift += 4;
        }
    }
    if !any {
        return None;
    }
    Some(m as f64 * 2f64.powi(exp + shift))
}

/// Go's rule for `_` in number literals: only between digits, or after a
/// base prefix.
fn underscores_ok(s: &str) -> bool {
    if !s.contains('_') {
        return true;
    }
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i = 1;
    }
    let mut saw = b'^';
    let mut hex = false;
    if b.len() >= i + 2 && b[i] == b'0' && matches!(b[i + 1] | 0x20, b'b' | b'o' | b'x') {
        hex = b[i + 1] | 0x20 == b'x';
        i += 2;
        saw = b'0';
    }
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_digit() || (hex && c.is_ascii_hexdigit()) {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else {
            if saw == b'_' {
                return false;
            }
            saw = b'!';
        }
        i += 1;
    }
    saw != b'_'
}

/// Go's `strconv.ParseUint(s, 0, 64)`: base prefixes, legacy octal, `_`.
pub fn parse_uint_base0(s: &str) -> Option<u64> {
    if s.is_empty() || !underscores_ok(s) {
        return None;
    }
    let b = s.as_bytes();
    let (base, digits) = if b.len() >= 2 && b[0] == b'0' {
        match b[1] | 0x20 {
            b'x' => (16, &s[2..]),
            b'b' => (2, &s[2..]),
            b'o' => (8, &s[2..]),
            _ => (8, &s[1..]),
        }
    } else {
        (10, s)
    };
    let mut v: u64 = 0;
    let mut any = false;
    for c in digits.chars() {
        if c == '_' {
            continue;
        }
        let d = c.to_digit(base)? as u64;
        v = v.checked_mul(base as u64)?.checked_add(d)?;
        any = true;
    }
    (any || base == 8).then_some(v)
}

/// Go's `strconv.ParseInt(s, 0, 64)`.
pub fn parse_int_base0(s: &str) -> Option<i64> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'+') => (false, &s[1..]),
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    let u = parse_uint_base0(body)?;
    if neg {
        if u <= 1u64 << 63 {
            Some((u as i64).wrapping_neg())
        } else {
            None
        }
    } else {
        i64::try_from(u).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_go() {
        // Values from Go's documentation and strconv tests.
        let cases: &[(f64, u8, i32, &str)] = &[
            (1.0, b'g', -1, "1"),
            (1234567.0, b'g', -1, "1.234567e+06"),
            (123456.0, b'g', -1, "123456"),
            (1e6, b'g', -1, "1e+06"),
            (0.0001, b'g', -1, "0.0001"),
            (0.00001, b'g', -1, "1e-05"),
            (0.0, b'g', -1, "0"),
            (-0.0, b'g', -1, "-0"),
            (1e21, b'g', -1, "1e+21"),
            (100.0, b'g', -1, "100"),
            (1353755652.0, b'g', -1, "1.353755652e+09"),
            (1234567.0, b'g', 4, "1.235e+06"),
            (1.0, b'g', 4, "1"),
            (0.0, b'g', 4, "0"),
            (123.456, b'g', 4, "123.5"),
            (1000.0, b'g', 4, "1000"),
            (10000.0, b'g', 4, "1e+04"),
            (0.12, b'g', 4, "0.12"),
            (1.5, b'e', -1, "1.5e+00"),
            (0.0, b'e', 6, "0.000000e+00"),
            (123456.789, b'e', 2, "1.23e+05"),
            (1e100, b'e', 0, "1e+100"),
            // Shortest 'e', as the rules API prints alert values.
            (1.0, b'e', -1, "1e+00"),
            (0.0, b'e', -1, "0e+00"),
            (-0.0, b'e', -1, "-0e+00"),
            (123.456, b'e', -1, "1.23456e+02"),
            (-2.5e-7, b'e', -1, "-2.5e-07"),
            (1e100, b'e', -1, "1e+100"),
            (f64::NAN, b'e', -1, "NaN"),
            (f64::NEG_INFINITY, b'e', -1, "-Inf"),
            (2.5e-7, b'E', -1, "2.5E-07"),
            (f64::INFINITY, b'E', -1, "+Inf"),
            (2.5, b'f', 0, "2"),
            (1.23456, b'f', 2, "1.23"),
            (-0.001, b'f', 2, "-0.00"),
            (1e20, b'f', -1, "100000000000000000000"),
            (0.1, b'f', -1, "0.1"),
            // Shortest 'f', as count_values prints values.
            (6.0, b'f', -1, "6"),
            (1e21, b'f', -1, "1000000000000000000000"),
            (-0.0, b'f', -1, "-0"),
            (f64::NEG_INFINITY, b'f', -1, "-Inf"),
            (1.0, b'b', -1, "4503599627370496p-52"),
            (1.0, b'x', -1, "0x1p+00"),
            (3.0, b'x', -1, "0x1.8p+01"),
            (1.0, b'x', 2, "0x1.00p+00"),
            (f64::INFINITY, b'g', -1, "+Inf"),
            (f64::NAN, b'g', 4, "NaN"),
        ];
        for (v, f, p, want) in cases {
            assert_eq!(format_float(*v, *f, *p), *want, "{v} {} {p}", *f as char);
        }
    }

    #[test]
    fn parses_like_go() {
        assert_eq!(parse_float("1.5"), Ok(1.5));
        assert_eq!(parse_float(".12"), Ok(0.12));
        assert_eq!(parse_float("+Inf"), Ok(f64::INFINITY));
        assert_eq!(parse_float("-infinity"), Ok(f64::NEG_INFINITY));
        assert!(parse_float("NaN").is_ok_and(f64::is_nan));
        assert_eq!(parse_float("0x1p-2"), Ok(0.25));
        assert_eq!(parse_float("1_000.5"), Ok(1000.5));
        assert_eq!(
            parse_float("one"),
            Err(r#"strconv.ParseFloat: parsing "one": invalid syntax"#.into())
        );
        assert_eq!(
            parse_float("1e400"),
            Err(r#"strconv.ParseFloat: parsing "1e400": value out of range"#.into())
        );
        assert!(parse_float("+nan").is_err());
        assert!(parse_float("").is_err());
        assert!(parse_float("1__0").is_err());
        assert!(parse_float("+-1").is_err());
        assert!(parse_float("--1").is_err());
        assert!(parse_float("-nan").is_err());
        assert_eq!(parse_float("-0"), Ok(-0.0));
        assert_eq!(parse_float("1e-400"), Ok(0.0));
        assert_eq!(parse_float("0X1.8P1"), Ok(3.0));
        assert_eq!(parse_float("1_0"), Ok(10.0));
        assert_eq!(parse_int_base0("0x1F"), Some(31));
        assert_eq!(parse_int_base0("010"), Some(8));
        assert_eq!(parse_int_base0("0b101"), Some(5));
        assert_eq!(parse_int_base0("-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_int_base0("9223372036854775808"), None);
        assert_eq!(parse_uint_base0("18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_uint_base0("-1"), None);
        assert_eq!(parse_uint_base0("0"), Some(0));
        assert_eq!(parse_uint_base0("1.5"), None);
    }
}
