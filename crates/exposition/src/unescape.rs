//! Escape resolution for label values and HELP text, borrowing when nothing is escaped.

use std::borrow::Cow;

/// Resolves `\\`, `\"` and `\n` (label values, quoted names, OpenMetrics HELP); any other
/// backslash sequence is kept as written, as Prometheus does.
pub(crate) fn label_value(s: &str) -> Cow<'_, str> {
    resolve(s, true)
}

/// Resolves `\\` and `\n` only (Prometheus text format HELP).
pub(crate) fn text_help(s: &str) -> Cow<'_, str> {
    resolve(s, false)
}

fn resolve(s: &str, quote: bool) -> Cow<'_, str> {
    if !s.contains('\\') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.clone().next() {
            Some('\\') => {
                out.push('\\');
                chars.next();
            }
            Some('n') => {
                out.push('\n');
                chars.next();
            }
            Some('"') if quote => {
                out.push('"');
                chars.next();
            }
            _ => out.push('\\'),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert!(matches!(label_value("plain"), Cow::Borrowed("plain")));
        assert_eq!(label_value(r#"a\"b\\c\nd\z"#), "a\"b\\c\nd\\z");
        assert_eq!(label_value(r"\\n"), "\\n");
        assert_eq!(label_value(r"\\\n"), "\\\n");
        assert_eq!(text_help(r#"\"x\n"#), "\\\"x\n");
        assert_eq!(label_value("end\\"), "end\\");
    }
}
