//! Errors and warnings, each rendered as one line `FILE:LINE: FIELD: message`.

use crate::yaml_error::single_line;
use std::fmt;

/// Where in a configuration file something was found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Position {
    /// The file name as given to the loader (used only in messages).
    pub file: String,
    /// 1-based line, 0 when unknown.
    pub line: u64,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "{}:{}", self.file, self.line)
        } else {
            f.write_str(&self.file)
        }
    }
}

/// A configuration that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{file}: cannot read configuration: {message}")]
    Io {
        /// The file that could not be read.
        file: String,
        /// The operating system's reason.
        message: String,
    },
    /// The YAML is malformed, has an unknown key, or a value of the wrong form or a wrong value.
    #[error("{pos}: {}{message}", field_prefix(.field))]
    Invalid {
        /// File and line.
        pos: Position,
        /// Dotted field path such as `scrape_configs[0].scrape_interval`, empty when unknown.
        field: String,
        /// What is wrong.
        message: String,
    },
}

fn field_prefix(field: &str) -> String {
    if field.is_empty() {
        String::new()
    } else {
        format!("{field}: ")
    }
}

impl ConfigError {
    /// Builds an [`ConfigError::Invalid`].
    pub fn invalid(pos: Position, field: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError::Invalid {
            pos,
            field: field.into(),
            message: single_line(&message.into()),
        }
    }
}

/// Something accepted but not acted upon (a section Fleetwatch does not implement yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// File and line of the key.
    pub pos: Position,
    /// The key (or field path) concerned.
    pub key: String,
    /// What is wrong, e.g. "is not supported yet".
    pub message: String,
}

impl Warning {
    /// A `KEY is not supported yet` warning.
    pub fn unsupported(pos: Position, key: impl Into<String>) -> Self {
        Warning {
            pos,
            key: key.into(),
            message: "is not supported yet".to_string(),
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} {}", self.pos, self.key, self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_one_line() {
        let e = ConfigError::invalid(
            Position {
                file: "prom.yml".into(),
                line: 12,
            },
            "scrape_configs[0].scrape_interval",
            "not a valid duration string: \"5x\"\n  more",
        );
        assert_eq!(
            e.to_string(),
            "prom.yml:12: scrape_configs[0].scrape_interval: not a valid duration string: \"5x\"; more"
        );
        let w = Warning::unsupported(
            Position {
                file: "p.yml".into(),
                line: 3,
            },
            "rule_files",
        );
        assert_eq!(w.to_string(), "p.yml:3: rule_files is not supported yet");
    }
}
