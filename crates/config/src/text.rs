//! Finding the line of a key in the source text, for messages about values that serde has
//! already turned into structs (the parser's spans cover values, not their keys).

/// Line lookups over one document.
pub(crate) struct KeyFinder<'a> {
    lines: Vec<&'a str>,
}

/// How far back from a value its key may be (a key's value rarely starts further down).
const LOOKBACK: u64 = 50;

impl<'a> KeyFinder<'a> {
    /// Indexes `text` by line.
    pub(crate) fn new(text: &'a str) -> Self {
        KeyFinder {
            lines: text.lines().collect(),
        }
    }

    fn line(&self, n: u64) -> Option<&'a str> {
        let idx = usize::try_from(n.checked_sub(1)?).ok()?;
        self.lines.get(idx).copied()
    }

    fn is_key(line: &str, key: &str) -> bool {
        let mut s = line.trim_start();
        while let Some(rest) = s.strip_prefix('-') {
            s = rest.trim_start();
        }
        let s = s.strip_prefix(['"', '\'']).unwrap_or(s);
        let Some(rest) = s.strip_prefix(key) else {
            return false;
        };
        let rest = rest.strip_prefix(['"', '\'']).unwrap_or(rest);
        rest.trim_start().starts_with(':')
    }

    /// The line of a top-level key (0 when absent).
    pub(crate) fn top_level(&self, key: &str) -> u64 {
        self.lines
            .iter()
            .position(|l| !l.starts_with([' ', '\t']) && Self::is_key(l, key))
            .map_or(0, |i| i as u64 + 1)
    }

    /// The first line after `start` that begins another top-level key.
    pub(crate) fn section_end(&self, start: u64) -> u64 {
        if start == 0 {
            return 0;
        }
        let from = usize::try_from(start).unwrap_or(usize::MAX);
        self.lines
            .iter()
            .enumerate()
            .skip(from)
            .find(|(_, l)| {
                !l.is_empty() && !l.starts_with([' ', '\t', '#']) && !l.starts_with("- ")
            })
            .map_or(u64::MAX, |(i, _)| i as u64 + 1)
    }

    /// The first line in `[start, end)` holding `key`, else `start`.
    pub(crate) fn find(&self, key: &str, start: u64, end: u64) -> u64 {
        let mut n = start.max(1);
        while n < end {
            let Some(l) = self.line(n) else { break };
            if Self::is_key(l, key) {
                return n;
            }
            n += 1;
        }
        start
    }

    /// The line of `key` whose value starts at `value_line` (the key is on it or above it).
    pub(crate) fn key_at(&self, key: &str, value_line: u64) -> u64 {
        let low = value_line.saturating_sub(LOOKBACK).max(1);
        let mut n = value_line;
        while n >= low {
            if let Some(l) = self.line(n)
                && Self::is_key(l, key)
            {
                return n;
            }
            n -= 1;
        }
        value_line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "global:\n  scrape_interval: 15s\n\nrule_files:\n  - a.rules\nscrape_configs:\n  - job_name: a\n    kubernetes_sd_configs:\n      - role: pod\n  - \"job_name\": b\n";

    #[test]
    fn finds_keys() {
        let k = KeyFinder::new(DOC);
        assert_eq!(k.top_level("rule_files"), 4);
        assert_eq!(k.top_level("scrape_interval"), 0);
        assert_eq!(k.section_end(1), 4);
        assert_eq!(k.find("scrape_interval", 1, 4), 2);
        assert_eq!(k.find("job_name", 8, 100), 10);
        assert_eq!(k.key_at("kubernetes_sd_configs", 9), 8);
        assert_eq!(k.key_at("absent", 9), 9);
    }
}
