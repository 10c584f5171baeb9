//! Go's quoting: `strconv.Quote` (of strings, and of bytes that need not be
//! UTF-8), `QuoteToASCII`, `QuoteRune`, `CanBackquote`, `Unquote`,
//! `UnquoteChar` and `unicode.IsPrint`.

use std::fmt;

/// Go's `unicode.IsPrint`, approximated without Unicode category tables:
/// controls, non-ASCII spaces, format characters, private use and
/// non-characters are not printable.
pub fn is_print(c: char) -> bool {
    let u = c as u32;
    if c == ' ' {
        return true;
    }
    if u < 0x20 || (0x7f..=0x9f).contains(&u) || c.is_whitespace() {
        return false;
    }
    !matches!(u,
        0xad | 0x600..=0x605 | 0x61c | 0x6dd | 0x70f | 0x180e | 0x200b..=0x200f
        | 0x202a..=0x202e | 0x2060..=0x2064 | 0x2066..=0x206f | 0xfeff | 0xfff9..=0xfffb
        | 0xfffe | 0xffff | 0xe000..=0xf8ff | 0xf0000..=0x10ffff | 0xe0001 | 0xe0020..=0xe007f)
}

fn push_escaped(out: &mut String, c: char, quote: char, ascii_only: bool) {
    if c == quote || c == '\\' {
        out.push('\\');
        out.push(c);
        return;
    }
    if (!ascii_only || c.is_ascii()) && is_print(c) {
        out.push(c);
        return;
    }
    match c {
        '\x07' => out.push_str("\\a"),
        '\x08' => out.push_str("\\b"),
        '\x0c' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\x0b' => out.push_str("\\v"),
        c if (c as u32) < 0x20 || c == '\x7f' => out.push_str(&format!("\\x{:02x}", c as u32)),
        c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
        c => out.push_str(&format!("\\U{:08x}", c as u32)),
    }
}

/// Go's `strconv.Quote`: `"a\"b\n"`, non-printable characters escaped.
pub fn quote(s: &str) -> String {
    quote_with(s, false)
}

/// `strconv.Quote`, or `strconv.QuoteToASCII` when `ascii_only`.
pub fn quote_with(s: &str, ascii_only: bool) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        push_escaped(&mut out, c, '"', ascii_only);
    }
    out.push('"');
    out
}

/// Go's `strconv.Quote` of a string holding any bytes: bytes that are not
/// UTF-8 become `\xNN`.
pub fn quote_bytes(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len() + 2);
    out.push('"');
    for chunk in b.utf8_chunks() {
        for c in chunk.valid().chars() {
            push_escaped(&mut out, c, '"', false);
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out.push('"');
    out
}

/// Go's `strconv.QuoteRune` (or `QuoteRuneToASCII`).
pub fn quote_rune(c: char, ascii_only: bool) -> String {
    let mut out = String::from("'");
    push_escaped(&mut out, c, '\'', ascii_only);
    out.push('\'');
    out
}

/// Go's `strconv.CanBackquote`.
pub fn can_backquote(s: &str) -> bool {
    s.chars()
        .all(|c| c != '`' && c != '\u{feff}' && (c == '\t' || !((c as u32) < 0x20 || c == '\x7f')))
}

/// Go's `strconv.ErrSyntax`: the text is not a valid quoted literal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyntaxError;

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid syntax")
    }
}

impl std::error::Error for SyntaxError {}

/// Go's `strconv.Unquote` of a `"..."` literal with escapes or a `` `...` ``
/// raw one (carriage returns dropped). Escapes that make bytes which are not
/// UTF-8 become U+FFFD.
pub fn unquote(s: &str) -> Result<String, SyntaxError> {
    if s.len() >= 2 && s.starts_with('`') && s.ends_with('`') {
        let body = &s[1..s.len() - 1];
        if body.contains('`') {
            return Err(SyntaxError);
        }
        return Ok(body.chars().filter(|c| *c != '\r').collect());
    }
    if s.len() < 2 || !s.starts_with('"') || !s.ends_with('"') {
        return Err(SyntaxError);
    }
    let mut rest = &s[1..s.len() - 1];
    let mut bytes = Vec::with_capacity(rest.len());
    while !rest.is_empty() {
        let (v, tail) = unquote_char(rest, b'"')?;
        match v {
            Unquoted::Char(c) => {
                let mut buf = [0u8; 4];
                bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
            Unquoted::Byte(b) => bytes.push(b),
        }
        rest = tail;
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// One decoded element of a quoted literal.
pub enum Unquoted {
    /// A character.
    Char(char),
    /// A raw byte from `\x` or octal escapes.
    Byte(u8),
}

/// Go's `strconv.UnquoteChar`: decodes the first character or escape of `s`
/// inside a literal quoted with `quote`.
pub fn unquote_char(s: &str, quote: u8) -> Result<(Unquoted, &str), SyntaxError> {
    let mut chars = s.chars();
    let c = chars.next().ok_or(SyntaxError)?;
    if c as u32 == quote as u32 && (quote == b'\'' || quote == b'"') {
        return Err(SyntaxError);
    }
    if c != '\\' {
        if c == '\n' {
            return Err(SyntaxError);
        }
        return Ok((Unquoted::Char(c), chars.as_str()));
    }
    let rest = chars.as_str();
    let e = *rest.as_bytes().first().ok_or(SyntaxError)?;
    if !e.is_ascii() {
        return Err(SyntaxError);
    }
    let after = &rest[1..];
    let simple = |c: char| Ok((Unquoted::Char(c), after));
    match e {
        b'a' => simple('\x07'),
        b'b' => simple('\x08'),
        b'f' => simple('\x0c'),
        b'n' => simple('\n'),
        b'r' => simple('\r'),
        b't' => simple('\t'),
        b'v' => simple('\x0b'),
        b'\\' => simple('\\'),
        b'\'' | b'"' if e == quote => simple(e as char),
        b'x' | b'u' | b'U' => {
            let n = match e {
                b'x' => 2,
                b'u' => 4,
                _ => 8,
            };
            let hex = after.get(..n).ok_or(SyntaxError)?;
            if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(SyntaxError);
            }
            let v = u32::from_str_radix(hex, 16).map_err(|_| SyntaxError)?;
            let tail = &after[n..];
            if e == b'x' {
                return Ok((Unquoted::Byte(v as u8), tail));
            }
            let c = char::from_u32(v).ok_or(SyntaxError)?;
            Ok((Unquoted::Char(c), tail))
        }
        b'0'..=b'7' => {
            let oct = rest.get(..3).ok_or(SyntaxError)?;
            if !oct.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
                return Err(SyntaxError);
            }
            let v = u32::from_str_radix(oct, 8).map_err(|_| SyntaxError)?;
            if v > 255 {
                return Err(SyntaxError);
            }
            Ok((Unquoted::Byte(v as u8), &rest[3..]))
        }
        _ => Err(SyntaxError),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_like_go() {
        assert_eq!(quote("a\"b\\\n\u{7}é\u{a0}"), r#""a\"b\\\n\aé\u00a0""#);
        assert_eq!(quote_with("é", true), r#""\u00e9""#);
        assert_eq!(quote_rune('\'', false), r"'\''");
        assert_eq!(unquote(r#""a\tb\x41\u00e9\101""#), Ok("a\tbAéA".into()));
        assert_eq!(unquote("`a\\n\r`"), Ok("a\\n".into()));
        assert!(unquote(r#""\q""#).is_err());
        assert!(unquote(r#""\'""#).is_err());
        assert!(unquote("\"\\€\"").is_err());
        assert_eq!(unquote("x"), Err(SyntaxError));
    }

    #[test]
    fn quotes_what_go_does_not_print() {
        assert_eq!(quote("a\"b\n"), r#""a\"b\n""#);
        assert_eq!(quote("a\"b\\c\n"), "\"a\\\"b\\\\c\\n\"");
        assert_eq!(quote("\u{7}\u{1}\u{7f}\u{85}é"), r#""\a\x01\x7f\u0085é""#);
        // Separators, format characters and private use are not printable in Go.
        assert_eq!(
            quote("\u{2028}\u{feff}\u{200b}\u{f0000}x"),
            r#""\u2028\ufeff\u200b\U000f0000x""#
        );
    }

    #[test]
    fn quotes_bytes_that_are_not_utf8() {
        assert_eq!(quote_bytes(b"a\xc5z"), r#""a\xc5z""#);
        assert_eq!(quote_bytes("é\t".as_bytes()), quote("é\t"));
    }
}
