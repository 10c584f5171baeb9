//! Go's `regexp.Expand` template language, used for `target_label` and `replacement`.
//!
//! `$$` is a literal `$`; `$name` takes the longest run of letters, digits and
//! `_` (so `$1x` names the group `1x`, which does not exist, and expands to
//! nothing); `${name}` delimits the name; a name that is a number without a
//! leading zero is a group index; a `$` that starts no valid reference is
//! copied as it is. Groups that did not take part in the match expand to "".

use std::sync::LazyLock;

use regex::Captures;

/// Letters and decimal digits as Go's `unicode.IsLetter`/`IsDigit` see them.
static NAME_RUN: LazyLock<regex::Regex> = LazyLock::new(|| {
    // A constant pattern, so failure is a programming error, not an input error.
    regex::Regex::new(r"^[\p{L}\p{Nd}_]+").unwrap_or_else(|e| unreachable!("name regex: {e}"))
});

/// Expands `template` with the groups of `caps`, as Go's `Regexp.ExpandString`.
pub fn expand(template: &str, caps: &Captures<'_>) -> String {
    let mut out = String::with_capacity(template.len());
    expand_into(&mut out, template, caps);
    out
}

/// Like [`expand`], appending to `dst`.
pub(crate) fn expand_into(dst: &mut String, template: &str, caps: &Captures<'_>) {
    let mut rest = template;
    while let Some(pos) = rest.find('$') {
        dst.push_str(&rest[..pos]);
        rest = &rest[pos + 1..];
        if let Some(after) = rest.strip_prefix('$') {
            dst.push('$');
            rest = after;
            continue;
        }
        let Some((reference, after)) = parse_reference(rest) else {
            dst.push('$');
            continue;
        };
        rest = after;
        let group = match reference {
            Reference::Index(i) => caps.get(i),
            Reference::Name(n) => caps.name(n),
        };
        if let Some(m) = group {
            dst.push_str(m.as_str());
        }
    }
    dst.push_str(rest);
}

/// What a `$` refers to.
#[derive(Debug, PartialEq, Eq)]
enum Reference<'a> {
    Index(usize),
    Name(&'a str),
}

/// Parses `name`, `{name}` at the start of `s` (the `$` already consumed);
/// returns the reference and the text after it, or None when malformed.
fn parse_reference(s: &str) -> Option<(Reference<'_>, &str)> {
    let (body, braced) = match s.strip_prefix('{') {
        Some(b) => (b, true),
        None => (s, false),
    };
    let len = name_len(body);
    if len == 0 {
        return None;
    }
    let name = &body[..len];
    let after = if braced {
        body[len..].strip_prefix('}')?
    } else {
        &body[len..]
    };
    Some((classify(name), after))
}

/// Byte length of the leading run of name characters.
fn name_len(s: &str) -> usize {
    let ascii = s
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
        .count();
    if s.as_bytes().get(ascii).is_none_or(|b| b.is_ascii()) {
        return ascii;
    }
    NAME_RUN.find(s).map_or(0, |m| m.end())
}

/// A number (below 10^8 as Go reads it, no leading zero) is a group index; anything else a name.
fn classify(name: &str) -> Reference<'_> {
    let leading_zero = name.len() > 1 && name.starts_with('0');
    let mut num: usize = 0;
    for b in name.bytes() {
        if !b.is_ascii_digit() || num >= 100_000_000 || leading_zero {
            return Reference::Name(name);
        }
        num = num * 10 + usize::from(b - b'0');
    }
    Reference::Index(num)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(re: &str, input: &str, template: &str) -> String {
        let re = regex::Regex::new(re).expect("test regex");
        let caps = re.captures(input).expect("test input matches");
        expand(template, &caps)
    }

    #[test]
    fn references() {
        let re = r"^(?P<first>a+)(b+)(?P<opt>x)?$";
        assert_eq!(ex(re, "aabb", "$1-$2"), "aa-bb");
        assert_eq!(ex(re, "aabb", "${1}x"), "aax");
        assert_eq!(ex(re, "aabb", "$1x"), "");
        assert_eq!(ex(re, "aabb", "$first/${first}"), "aa/aa");
        assert_eq!(ex(re, "aabb", "[$opt]"), "[]");
        assert_eq!(ex(re, "aabb", "$0"), "aabb");
        assert_eq!(ex(re, "aabb", "$9"), "");
        assert_eq!(ex(re, "aabb", "$01"), "");
        assert_eq!(ex(re, "aabb", "$$1 $"), "$1 $");
        assert_eq!(ex(re, "aabb", "${1"), "${1");
        assert_eq!(ex(re, "aabb", "${}"), "${}");
        assert_eq!(ex(re, "aabb", "$-"), "$-");
        assert_eq!(ex(re, "aabb", "$1.$2"), "aa.bb");
        assert_eq!(ex(re, "aabb", "$123456789012"), "");
    }

    #[test]
    fn unicode_names_run_as_in_go() {
        // A letter after $1 extends the name, so nothing is substituted.
        assert_eq!(ex("^(a)$", "a", "$1é"), "");
        assert_eq!(ex("^(a)$", "a", "${1}é"), "aé");
        // Go's IsDigit excludes superscripts, so the name stops before ².
        assert_eq!(ex("^(a)$", "a", "$1²"), "a²");
    }

    #[test]
    fn classify_numbers() {
        assert_eq!(classify("12"), Reference::Index(12));
        assert_eq!(classify("0"), Reference::Index(0));
        assert_eq!(classify("012"), Reference::Name("012"));
        assert_eq!(classify("1x"), Reference::Name("1x"));
        assert_eq!(classify("999999999"), Reference::Index(999_999_999));
        assert_eq!(classify("1000000000"), Reference::Name("1000000000"));
    }
}
