//! `$VAR` / `${VAR}` expansion in external label values, with Go's `os.Expand` rules
//! (as Prometheus applies them): `$$` is a literal `$`, unset variables are empty.

fn is_special(c: u8) -> bool {
    matches!(c, b'*' | b'#' | b'$' | b'@' | b'!' | b'?' | b'-') || c.is_ascii_digit()
}

/// The name after a `$` and how many bytes it spans; an empty name with a width is bad
/// syntax (the bytes are dropped), an empty name with no width leaves the `$` as is.
fn shell_name(s: &str) -> (&str, usize) {
    let b = s.as_bytes();
    if b[0] == b'{' {
        if b.len() > 2 && is_special(b[1]) && b[2] == b'}' {
            return (&s[1..2], 3);
        }
        for i in 1..b.len() {
            if b[i] == b'}' {
                if i == 1 {
                    return ("", 2);
                }
                return (&s[1..i], i + 1);
            }
        }
        return ("", 1);
    }
    if is_special(b[0]) {
        return (&s[..1], 1);
    }
    let n = b
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
        .count();
    (&s[..n], n)
}

/// Expands variables in `s` with `lookup`; `$$` gives `$`.
pub(crate) fn expand(s: &str, lookup: impl Fn(&str) -> Option<String>) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    let mut j = 0;
    while j < b.len() {
        if b[j] == b'$' && j + 1 < b.len() {
            out.push_str(&s[i..j]);
            let (name, w) = shell_name(&s[j + 1..]);
            // A `$` not followed by a name stays; `$$` is Prometheus's escape for `$`.
            if (name.is_empty() && w == 0) || name == "$" {
                out.push('$');
            } else if !name.is_empty() {
                out.push_str(&lookup(name).unwrap_or_default());
            }
            j += w;
            i = j + 1;
        }
        j += 1;
    }
    if i < s.len() {
        out.push_str(&s[i..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "CLUSTER" => Some("eu-1".into()),
            "1" => Some("one".into()),
            _ => None,
        }
    }

    #[test]
    fn expands_like_go() {
        assert_eq!(expand("plain", env), "plain");
        assert_eq!(expand("$CLUSTER", env), "eu-1");
        assert_eq!(expand("${CLUSTER}-x", env), "eu-1-x");
        assert_eq!(expand("a$$b", env), "a$b");
        assert_eq!(expand("$UNSET!", env), "!");
        assert_eq!(expand("cost: 5$", env), "cost: 5$");
        assert_eq!(expand("$1x", env), "onex");
        assert_eq!(expand("${}", env), "");
        assert_eq!(expand("a $ b", env), "a $ b");
    }
}
