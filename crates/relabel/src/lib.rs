//! Prometheus `relabel_config` semantics, exactly.
//!
//! - [`RelabelConfig`] and [`Action`]: one rule as written in YAML, with
//!   Prometheus's defaults, and [`RelabelConfig::validate`] with its rules.
//! - [`process`] and [`process_builder`]: apply a chain of rules to a label set.
//! - [`expand`]: Go's `regexp.Expand` template language (`$1`, `${name}`, `$$`).

mod case;
mod config;
mod expand;
mod process;
mod validate;

pub use config::{Action, NameValidationScheme, RelabelConfig};
pub use expand::expand;
pub use process::{process, process_builder};
pub use validate::RelabelConfigError;
