//! Go's quoting: `strconv.Quote`, `QuoteRune`, `CanBackquote`, `Unquote`
//! (for template string literals) and `unicode.IsPrint`.

/// Go's `unicode.IsPrint`, approximated without Unicode category tables:
/// controls, non-ASCII spaces, format characters, private use and
/// non-characters are not printable.
pub(crate) fn is_print(c: char) -> bool {
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

/// Go's `strconv.Quote`.
pub(crate) fn quote(s: &str) -> String {
    quote_with(s, false)
}

/// `strconv.Quote`, or `strconv.QuoteToASCII` when `ascii_only`.
pub(crate) fn quote_with(s: &str, ascii_only: bool) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        push_escaped(&mut out, c, '"', ascii_only);
    }
    out.push('"');
    out
}

/// Go's `strconv.QuoteRune` (or `QuoteRuneToASCII`).
pub(crate) fn quote_rune(c: char, ascii_only: bool) -> String {
    let mut out = String::from("'");
    push_escaped(&mut out, c, '\'', ascii_only);
    out.push('\'');
    out
}

/// Go's `strconv.CanBackquote`.
pub(crate) fn can_backquote(s: &str) -> bool {
    s.chars()
        .all(|c| c != '`' && c != '\u{feff}' && (c == '\t' || !((c as u32) < 0x20 || c == '\x7f')))
}

/// Go's `strconv.Unquote` for the string literals of templates: `"..."` with
/// escapes, or `` `...` `` raw (carriage returns dropped). Escapes that make
/// bytes which are not UTF-8 become U+FFFD.
pub(crate) fn unquote(s: &str) -> Result<String, ()> {
    if s.len() >= 2 && s.starts_with('`') && s.ends_with('`') {
        let body = &s[1..s.len() - 1];
        if body.contains('`') {
            return Err(());
        }
        return Ok(body.chars().filter(|c| *c != '\r').collect());
    }
    if s.len() < 2 || !s.starts_with('"') || !s.ends_with('"') {
        return Err(());
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
pub(crate) enum Unquoted {
    /// A character.
    Char(char),
    /// A raw byte from `\x` or octal escapes.
    Byte(u8),
}

/// Go's `strconv.UnquoteChar`: decodes the first character or escape of `s`
/// inside a literal quoted with `quote`.
pub(crate) fn unquote_char(s: &str, quote: u8) -> Result<(Unquoted, &str), ()> {
    let mut chars = s.chars();
    let c = chars.next().ok_or(())?;
    if c as u32 == quote as u32 && (quote == b'\'' || quote == b'"') {
        return Err(());
    }
    if c != '\\' {
        if c == '\n' {
            return Err(());
        }
        return Ok((Unquoted::Char(c), chars.as_str()));
    }
    let rest = chars.as_str();
    let e = *rest.as_bytes().first().ok_or(())?;
    if !e.is_ascii() {
        return Err(());
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
            let hex = after.get(..n).ok_or(())?;
            if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(());
            }
            let v = u32::from_str_radix(hex, 16).map_err(|_| ())?;
            let tail = &after[n..];
            if e == b'x' {
                return Ok((Unquoted::Byte(v as u8), tail));
            }
            let c = char::from_u32(v).ok_or(())?;
            Ok((Unquoted::Char(c), tail))
        }
        b'0'..=b'7' => {
            let oct = rest.get(..3).ok_or(())?;
            if !oct.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
                return Err(());
            }
            let v = u32::from_str_radix(oct, 8).map_err(|_| ())?;
            if v > 255 {
                return Err(());
            }
            Ok((Unquoted::Byte(v as u8), &rest[3..]))
        }
        _ => Err(()),
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
    }
}
