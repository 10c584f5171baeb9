//! Label matchers: `=`, `!=`, `=~`, `!~`.

use std::fmt;

use crate::regex::{PromRegex, RegexError};

/// How a matcher compares a label value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MatchOp {
    /// `=`
    Equal,
    /// `!=`
    NotEqual,
    /// `=~`
    Regex,
    /// `!~`
    NotRegex,
}

impl MatchOp {
    /// The operator as written in PromQL.
    pub fn as_str(&self) -> &'static str {
        match self {
            MatchOp::Equal => "=",
            MatchOp::NotEqual => "!=",
            MatchOp::Regex => "=~",
            MatchOp::NotRegex => "!~",
        }
    }
}

/// A matcher that cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MatcherError {
    /// The regex did not compile.
    #[error(transparent)]
    Regex(#[from] RegexError),
}

/// One label matcher. A missing label matches as the empty string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matcher {
    /// The label name.
    pub name: String,
    /// The comparison.
    pub op: MatchOp,
    /// The value or pattern as written.
    pub value: String,
    re: Option<PromRegex>,
}

impl Matcher {
    /// Builds a matcher, compiling the pattern for regex operators.
    pub fn new(
        op: MatchOp,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> Result<Self, MatcherError> {
        let value = value.into();
        let re = match op {
            MatchOp::Regex | MatchOp::NotRegex => Some(PromRegex::new(&value)?),
            _ => None,
        };
        Ok(Matcher {
            name: name.into(),
            op,
            value,
            re,
        })
    }

    /// `name="value"`, which cannot fail.
    pub fn equal(name: impl Into<String>, value: impl Into<String>) -> Self {
        Matcher {
            name: name.into(),
            op: MatchOp::Equal,
            value: value.into(),
            re: None,
        }
    }

    /// True when a label value `v` (use "" for a missing label) satisfies the matcher.
    pub fn matches(&self, v: &str) -> bool {
        match self.op {
            MatchOp::Equal => self.value == v,
            MatchOp::NotEqual => self.value != v,
            MatchOp::Regex => self.re.as_ref().is_some_and(|r| r.is_match(v)),
            MatchOp::NotRegex => !self.re.as_ref().is_some_and(|r| r.is_match(v)),
        }
    }

    /// True when the matcher accepts the empty string (and so series lacking the label).
    pub fn matches_empty(&self) -> bool {
        self.matches("")
    }

    /// The compiled regex of a regex matcher.
    pub fn regex(&self) -> Option<&PromRegex> {
        self.re.as_ref()
    }
}

impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}{:?}", self.name, self.op.as_str(), self.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn four_kinds() {
        let eq = Matcher::equal("a", "x");
        assert!(eq.matches("x") && !eq.matches(""));
        let ne = Matcher::new(MatchOp::NotEqual, "a", "x").expect("valid");
        assert!(ne.matches("") && !ne.matches("x"));
        let re = Matcher::new(MatchOp::Regex, "a", "x|y").expect("valid");
        assert!(re.matches("y") && !re.matches("xy"));
        let nre = Matcher::new(MatchOp::NotRegex, "a", ".*").expect("valid");
        assert!(!nre.matches("") && !nre.matches("q"));
        assert!(Matcher::new(MatchOp::Regex, "a", "(").is_err());
    }
}
