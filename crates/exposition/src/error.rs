//! The one error type of parsing: where it went wrong and why.

/// A refused exposition page: the position of the offending byte and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct ParseError {
    /// 1-based line number.
    pub line: usize,
    /// 1-based column, counted in bytes from the start of the line.
    pub column: usize,
    /// What was wrong.
    pub message: String,
}

impl ParseError {
    /// Builds an error for byte offset `pos` of `input`.
    pub(crate) fn at(input: &[u8], pos: usize, message: impl Into<String>) -> Self {
        let pos = pos.min(input.len());
        let before = &input[..pos];
        // Counted only when an error happens, so the hot path does not track lines.
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        ParseError {
            line,
            column: pos - line_start + 1,
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn position_is_one_based() {
        let e = ParseError::at(b"ab\ncd", 4, "bad");
        assert_eq!((e.line, e.column), (2, 2));
        assert_eq!(e.to_string(), "line 2, column 2: bad");
        let e = ParseError::at(b"ab", 0, "x");
        assert_eq!((e.line, e.column), (1, 1));
    }
}
