//! The bits of Go's `net` and `net/url` the template functions use:
//! `SplitHostPort`, `JoinHostPort`, `ParseIP`, `QueryEscape`, and a URL's
//! path.

use std::net::{Ipv4Addr, Ipv6Addr};

/// Go's `url.QueryEscape` (kept in `gofmt`, shared with scrape URLs).
pub use gofmt::query_escape;

/// Go's `net.SplitHostPort`: host (brackets removed) and port, or `None`
/// where Go returns an error.
pub(crate) fn split_host_port(hostport: &str) -> Option<(&str, &str)> {
    let i = hostport.rfind(':')?;
    let (host, j, k);
    if hostport.starts_with('[') {
        let end = hostport.find(']')?;
        if end + 1 == hostport.len() {
            return None; // missing port
        }
        if end + 1 != i {
            return None; // "]" not followed by the last ":"
        }
        host = &hostport[1..end];
        j = 1;
        k = end + 1;
    } else {
        host = &hostport[..i];
        if host.contains(':') {
            return None; // too many colons
        }
        j = 0;
        k = 0;
    }
    if hostport[j..].contains('[') || hostport[k..].contains(']') {
        return None;
    }
    Some((host, &hostport[i + 1..]))
}

/// Go's `net.JoinHostPort`.
pub(crate) fn join_host_port(host: &str, port: &str) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Go's `net.ParseIP(s) != nil`: dotted IPv4 (no leading zeros) or IPv6
/// (without a zone).
pub(crate) fn is_ip(s: &str) -> bool {
    s.parse::<Ipv4Addr>().is_ok() || (s.contains(':') && s.parse::<Ipv6Addr>().is_ok())
}

/// The path of a URL as Go's `url.URL.Path` holds it (percent-decoded).
pub(crate) fn url_path(u: &str) -> String {
    let u = u.split(['#', '?']).next().unwrap_or("");
    let rest = match u.find("://") {
        Some(i)
            if u[..i]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) =>
        {
            let after = &u[i + 3..];
            after.find('/').map_or("", |p| &after[p..])
        }
        _ => u,
    };
    percent_decode(rest)
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let Some(v) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_port() {
        assert_eq!(
            split_host_port("foo.example.com:12345"),
            Some(("foo.example.com", "12345"))
        );
        assert_eq!(split_host_port("foo.example.com"), None);
        assert_eq!(
            split_host_port("[2001:0DB8::1]:12345"),
            Some(("2001:0DB8::1", "12345"))
        );
        assert_eq!(split_host_port("[2001:0DB8::1]::12345"), None);
        assert_eq!(split_host_port("2001:0DB8::1"), None);
        assert_eq!(split_host_port(":80"), Some(("", "80")));
        assert!(is_ip("192.0.2.1"));
        assert!(is_ip("2001:0DB8::1"));
        assert!(!is_ip("foo"));
        assert!(!is_ip("01.2.3.4"));
    }

    #[test]
    fn urls() {
        assert_eq!(query_escape("up{a=\"b c\"}"), "up%7Ba%3D%22b+c%22%7D");
        assert_eq!(url_path("http://testhost:9090/path/prefix"), "/path/prefix");
        assert_eq!(url_path("http://h"), "");
        assert_eq!(url_path("/a%20b?x"), "/a b");
    }
}
