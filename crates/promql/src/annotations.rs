//! Warnings and infos a query returns beside its result, as Prometheus words
//! them: `PromQL warning: <text> (<line>:<col>)` / `PromQL info: ...`.

use std::collections::BTreeSet;

use gofmt::go_g;

/// The annotations of one query, each text once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Annotations {
    /// `PromQL warning: ...` texts.
    pub warnings: BTreeSet<String>,
    /// `PromQL info: ...` texts.
    pub infos: BTreeSet<String>,
}

impl Annotations {
    /// Adds a warning; `text` is what follows `PromQL warning: `, `pos` the `(line:col)` suffix.
    pub fn warn(&mut self, text: &str, pos: Option<Pos>) {
        self.warnings
            .insert(format_annotation("warning", text, pos));
    }

    /// Adds an info; `text` is what follows `PromQL info: `.
    pub fn info(&mut self, text: &str, pos: Option<Pos>) {
        self.infos.insert(format_annotation("info", text, pos));
    }

    /// Adds all of `other`.
    pub fn merge(&mut self, other: Annotations) {
        self.warnings.extend(other.warnings);
        self.infos.extend(other.infos);
    }

    /// True when there is nothing to report.
    pub fn is_empty(&self) -> bool {
        self.warnings.is_empty() && self.infos.is_empty()
    }
}

/// A position in the query text: 1-based line, 1-based column (byte offset in the line + 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pos {
    /// Line, from 1.
    pub line: usize,
    /// Column, from 1.
    pub col: usize,
}

impl Pos {
    /// The position of byte `offset` in `text`.
    pub fn of_offset(text: &str, offset: usize) -> Pos {
        let before = &text.as_bytes()[..offset.min(text.len())];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        Pos {
            line,
            col: before.len() - line_start + 1,
        }
    }
}

/// The warning for a φ outside [0, 1] (or NaN), worded as Prometheus's
/// `NewInvalidQuantileWarning` for `quantile`, `quantile_over_time` and
/// `histogram_quantile(s)`.
pub(crate) fn invalid_quantile(q: f64) -> String {
    format!("quantile value should be between 0 and 1, got {}", go_g(q))
}

fn format_annotation(kind: &str, text: &str, pos: Option<Pos>) -> String {
    match pos {
        Some(p) => format!("PromQL {kind}: {text} ({}:{})", p.line, p.col),
        None => format!("PromQL {kind}: {text}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_and_dedup() {
        assert_eq!(Pos::of_offset("abc", 0), Pos { line: 1, col: 1 });
        assert_eq!(Pos::of_offset("ab\ncd", 4), Pos { line: 2, col: 2 });
        let mut a = Annotations::default();
        a.info("x", Some(Pos { line: 1, col: 6 }));
        a.info("x", Some(Pos { line: 1, col: 6 }));
        assert_eq!(a.infos.iter().collect::<Vec<_>>(), ["PromQL info: x (1:6)"]);
    }

    #[test]
    fn invalid_quantile_text() {
        assert_eq!(
            invalid_quantile(1.5),
            "quantile value should be between 0 and 1, got 1.5"
        );
        assert_eq!(
            invalid_quantile(f64::NAN),
            "quantile value should be between 0 and 1, got NaN"
        );
    }
}
