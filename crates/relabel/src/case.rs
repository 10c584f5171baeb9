//! Go's `strings.ToLower` / `strings.ToUpper`: one character in, one character out.
//!
//! Rust's `char::to_lowercase`/`to_uppercase` use Unicode's full mappings
//! (`ß` → `SS`, `İ` → `i̇`); Go uses the simple one-to-one mappings. Where the
//! full mapping has several characters, this module picks the simple mapping.

/// Lower-cases `s` exactly as Go's `strings.ToLower` does.
pub(crate) fn go_to_lower(s: &str) -> String {
    if s.is_ascii() {
        return s.to_ascii_lowercase();
    }
    s.chars().map(lower_char).collect()
}

/// Upper-cases `s` exactly as Go's `strings.ToUpper` does.
pub(crate) fn go_to_upper(s: &str) -> String {
    if s.is_ascii() {
        return s.to_ascii_uppercase();
    }
    s.chars().map(upper_char).collect()
}

fn lower_char(c: char) -> char {
    let mut it = c.to_lowercase();
    match (it.next(), it.next()) {
        (Some(l), None) => l,
        // Only U+0130 (İ) lower-cases to several characters; its simple mapping is `i`.
        _ if c == '\u{130}' => 'i',
        _ => c,
    }
}

fn upper_char(c: char) -> char {
    let mut it = c.to_uppercase();
    match (it.next(), it.next()) {
        (Some(u), None) => u,
        // Several characters: the simple mapping is the character itself, except
        // for Greek letters with ypogegrammeni, whose simple upper case is the
        // title-case letter with prosgegrammeni.
        _ => {
            let offset = match c {
                '\u{1F80}'..='\u{1F87}' | '\u{1F90}'..='\u{1F97}' | '\u{1FA0}'..='\u{1FA7}' => 8,
                '\u{1FB3}' | '\u{1FC3}' | '\u{1FF3}' => 9,
                _ => 0,
            };
            char::from_u32(c as u32 + offset).unwrap_or(c)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_and_unicode() {
        assert_eq!(go_to_lower("FooBAR_1"), "foobar_1");
        assert_eq!(go_to_upper("fooBar_1"), "FOOBAR_1");
        assert_eq!(go_to_lower("ÄÖÜ"), "äöü");
        assert_eq!(go_to_upper("äöü"), "ÄÖÜ");
    }

    #[test]
    fn simple_mappings_like_go() {
        // Go keeps ß (no simple upper case); Rust's full mapping would give "SS".
        assert_eq!(go_to_upper("straße"), "STRAßE");
        assert_eq!(go_to_lower("\u{130}"), "i");
        assert_eq!(go_to_upper("\u{1F80}"), "\u{1F88}");
        assert_eq!(go_to_upper("\u{1FB3}"), "\u{1FBC}");
        assert_eq!(go_to_upper("\u{FB00}"), "\u{FB00}");
        // Go does not apply the final-sigma rule.
        assert_eq!(go_to_lower("ΟΔΟΣ"), "οδοσ");
        // The Kelvin sign lower-cases to ASCII k.
        assert_eq!(go_to_lower("\u{212A}EEP"), "keep");
    }
}
