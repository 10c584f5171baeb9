//! Recording and alerting rules, as Prometheus's `rules/` package runs them.
//!
//! Rule files:
//! - [`file`]: the YAML format ([`load_rule_file`], [`parse_rule_file`] → [`RuleFile`] of
//!   [`GroupDesc`] / [`RuleDesc`]); [`validate`] holds rulefmt's checks; [`error`] the
//!   `FILE:LINE: group "g", rule N, "name": message` errors.
pub mod error;
pub mod file;
mod validate;

pub use error::{RuleFileError, RuleFileErrors};
pub use file::{
    GroupDesc, LoadOptions, MAX_RULE_FILE_BYTES, RuleDesc, RuleFile, RuleKind, load_rule_file,
    parse_rule_file,
};
