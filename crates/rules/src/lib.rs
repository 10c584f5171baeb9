//! Recording and alerting rules, as Prometheus's `rules/` package runs them.
//!
//! Rule files:
//! - [`file`]: the YAML format ([`load_rule_file`], [`parse_rule_file`] → [`RuleFile`] of
//!   [`GroupDesc`] / [`RuleDesc`]); `validate` holds rulefmt's checks; [`error`] the
//!   `FILE:LINE: group "g", rule N, "name": message` errors; [`glob`] expands `rule_files`.
//! - [`check`]: `fleetwatch check rules`, reporting like `promtool check rules`.
//!
//! Evaluation, drivable step by step over any store (unit tests, `test rules`):
//! - [`group`]: [`Group`] evaluates its rules in order at one timestamp ([`Group::eval`]
//!   with [`EvalDeps`]), writes results and staleness markers, keeps state across reloads.
//! - [`recording`], [`alerting`]: the two kinds of [`Rule`]; [`Alert`] and its states.
//! - [`restore`]: alerts' `for` state after a restart, from `ALERTS_FOR_STATE`.
//! - `expand`: alert templates through the `template` crate; [`rule`]: what rules share.
//! - [`notify`]: [`NotifySink`], and [`NotifierSink`] for the `notifier` crate.
//! - [`unittest`]: `fleetwatch test rules`, promtool's rule unit tests (test file format,
//!   evaluation loop over an in-memory store, alert and expression checks, output).
//!
//! Running and reading:
//! - [`manager`]: [`Manager`] runs groups on their intervals, reloads with
//!   [`Manager::update`], stops cleanly.
//! - [`status`]: per-group copies for readers; [`api`]: the `data` of `/api/v1/rules`
//!   ([`RulesQuery`] filters) and `/api/v1/alerts`, as Prometheus serialises them (Go's
//!   time and float spellings from the `gofmt` crate).

pub mod alerting;
pub mod api;
pub mod check;
pub mod error;
mod expand;
pub mod file;
pub mod glob;
pub mod group;
pub mod manager;
pub mod notify;
pub mod recording;
pub mod restore;
pub mod rule;
pub mod status;
pub mod unittest;
mod validate;

pub use alerting::{
    ALERT_FOR_STATE_METRIC_NAME, ALERT_METRIC_NAME, ALERT_STATE_LABEL, Alert, AlertContext,
    AlertState, AlertingRule, RESOLVED_RETENTION,
};
pub use api::{AlertDiscovery, ParamError, RuleDiscovery, RulesQuery, alerts_data, rules_data};
pub use check::{CheckInput, CheckOptions, check_rules};
pub use error::{RuleFileError, RuleFileErrors};
pub use file::{
    GroupDesc, LoadOptions, MAX_RULE_FILE_BYTES, RuleDesc, RuleFile, RuleKind, load_rule_file,
    parse_rule_file,
};
pub use glob::expand_rule_files;
pub use group::{EvalDeps, Group, GroupDef, GroupSettings, Rule};
pub use manager::{Manager, ManagerOptions, RulesConfig};
pub use notify::{NotifierSink, NotifySink};
pub use recording::RecordingRule;
pub use restore::RestoreOptions;
pub use rule::{EvalRecord, ResultSample, RuleHealth};
pub use status::{GroupStatus, RuleStatus, RuleStatusKind};
