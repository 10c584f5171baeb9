//! Go's `net/url` escaping, as Prometheus builds scrape and graph URLs.

use std::fmt::Write as _;

/// Go's `url.QueryEscape`: unreserved bytes kept, space as `+`, the rest `%XX`.
pub fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_escape_matches_go() {
        assert_eq!(query_escape("match[]"), "match%5B%5D");
        assert_eq!(query_escape(r#"{job="x"}"#), "%7Bjob%3D%22x%22%7D");
        assert_eq!(query_escape("a b"), "a+b");
    }
}
