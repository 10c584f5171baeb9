//! Problems in rule files, each naming file, line, group and rule.

use std::fmt;

/// One problem found while reading or validating a rule file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleFileError {
    /// The file, as given to the loader.
    pub file: String,
    /// 1-based line of the offending node, 0 when unknown.
    pub line: u64,
    /// The group's name, when the problem is inside a group.
    pub group: Option<String>,
    /// The rule's 1-based index in its group and its name (record or alert), when inside a rule.
    pub rule: Option<(usize, String)>,
    /// What is wrong, on one line.
    pub message: String,
}

impl RuleFileError {
    /// A problem about the file as a whole (I/O, YAML syntax).
    pub fn file(file: &str, line: u64, message: impl Into<String>) -> Self {
        RuleFileError {
            file: file.to_string(),
            line,
            group: None,
            rule: None,
            message: single_line(&message.into()),
        }
    }
}

impl fmt::Display for RuleFileError {
    /// `FILE:LINE: group "g", rule 2, "name": message`, as Prometheus's rulefmt words it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
        }
        f.write_str(": ")?;
        if let Some(g) = &self.group {
            write!(f, "group {g:?}")?;
            if let Some((i, name)) = &self.rule {
                write!(f, ", rule {i}, {name:?}")?;
            }
            f.write_str(": ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for RuleFileError {}

/// Rule files that cannot be loaded: every problem found, in file order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", join(.0))]
pub struct RuleFileErrors(pub Vec<RuleFileError>);

fn join(errs: &[RuleFileError]) -> String {
    errs.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

pub(crate) use config::yaml_error::single_line;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_file_line_group_and_rule() {
        let e = RuleFileError {
            file: "r.yml".into(),
            line: 7,
            group: Some("g".into()),
            rule: Some((2, "up:sum".into())),
            message: "invalid field 'for' in recording rule".into(),
        };
        assert_eq!(
            e.to_string(),
            "r.yml:7: group \"g\", rule 2, \"up:sum\": invalid field 'for' in recording rule"
        );
        assert_eq!(
            RuleFileError::file("r.yml", 0, "cannot read\nfile").to_string(),
            "r.yml: cannot read; file"
        );
    }
}
