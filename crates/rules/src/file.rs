//! Rule files as written: Prometheus's format (`groups:` of recording and alerting rules),
//! read from YAML with the line of every node kept for error messages.
//!
//! [`parse_rule_file`] / [`load_rule_file`] are the entry points: they parse, validate
//! ([`crate::validate`]) and give a [`RuleFile`] or every problem found.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use serde_saphyr::Spanned;

use config::yaml_error::{clean_path, saphyr_message};

use crate::error::{RuleFileError, RuleFileErrors};
use crate::validate::{ValidateOptions, validate};

/// Largest rule file accepted, far above any real one (kube-prometheus's biggest is 100 KB).
pub const MAX_RULE_FILE_BYTES: usize = 64 * 1024 * 1024;

/// A loaded, valid rule file.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleFile {
    /// The file name as given (groups are keyed by it).
    pub file: String,
    /// Its groups, in file order.
    pub groups: Vec<GroupDesc>,
}

impl RuleFile {
    /// Number of rules in all groups.
    pub fn rule_count(&self) -> usize {
        self.groups.iter().map(|g| g.rules.len()).sum()
    }
}

/// One `groups:` entry, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupDesc {
    /// `name`.
    pub name: String,
    /// `interval`; `None` takes the global evaluation interval.
    pub interval: Option<Duration>,
    /// `query_offset`; `None` takes the global `rule_query_offset`.
    pub query_offset: Option<Duration>,
    /// `limit`: most series a rule may produce, alerts a rule may hold (0 = no limit).
    pub limit: usize,
    /// `labels` (Prometheus 3): added to every rule, rule labels win.
    pub labels: BTreeMap<String, String>,
    /// `rules`, in order.
    pub rules: Vec<RuleDesc>,
    /// Line of the group in its file.
    pub line: u64,
}

/// One rule, validated; labels already merged with the group's.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleDesc {
    /// Recording or alerting, with what only that kind has.
    pub kind: RuleKind,
    /// `expr`, as written.
    pub expr: String,
    /// Group labels overridden by the rule's `labels` (an empty value removes a label).
    pub labels: BTreeMap<String, String>,
    /// Line of the rule in its file.
    pub line: u64,
}

impl RuleDesc {
    /// The record or alert name.
    pub fn name(&self) -> &str {
        match &self.kind {
            RuleKind::Recording { record } => record,
            RuleKind::Alerting { alert, .. } => alert,
        }
    }
}

/// What makes a rule a recording or an alerting rule.
#[derive(Debug, Clone, PartialEq)]
pub enum RuleKind {
    /// `record: NAME`.
    Recording {
        /// The metric name results are written under.
        record: String,
    },
    /// `alert: NAME`.
    Alerting {
        /// The alert name (`alertname` label).
        alert: String,
        /// `for`: how long a result must persist before the alert fires.
        hold: Duration,
        /// `keep_firing_for`: how long the alert keeps firing after its condition is gone.
        keep_firing_for: Duration,
        /// `annotations` (templates).
        annotations: BTreeMap<String, String>,
    },
}

/// How strictly files are read.
#[derive(Debug, Clone, Copy, Default)]
pub struct LoadOptions {
    /// Accept keys Prometheus does not know (promtool's `--ignore-unknown-fields`).
    pub ignore_unknown_fields: bool,
    /// Which label and metric names are valid (Prometheus 3 default: UTF-8).
    pub name_validation: relabel::NameValidationScheme,
}

/// Reads and validates a rule file.
pub fn load_rule_file(
    path: impl AsRef<Path>,
    opts: LoadOptions,
) -> Result<RuleFile, RuleFileErrors> {
    let path = path.as_ref();
    let name = path.display().to_string();
    let io = |m: String| RuleFileErrors(vec![RuleFileError::file(&name, 0, m)]);
    let meta = std::fs::metadata(path).map_err(|e| io(e.to_string()))?;
    if meta.len() > MAX_RULE_FILE_BYTES as u64 {
        return Err(io(format!(
            "file is {} bytes, more than the {MAX_RULE_FILE_BYTES} accepted",
            meta.len()
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| io(e.to_string()))?;
    let text = String::from_utf8(bytes).map_err(|_| io("file is not valid UTF-8".into()))?;
    parse_rule_file(&text, &name, opts)
}

/// Parses and validates rule-file text; `file` names it in messages and keys its groups.
pub fn parse_rule_file(
    text: &str,
    file: &str,
    opts: LoadOptions,
) -> Result<RuleFile, RuleFileErrors> {
    let raw =
        parse_yaml(text, file, opts.ignore_unknown_fields).map_err(|e| RuleFileErrors(vec![e]))?;
    let vopts = ValidateOptions {
        name_validation: opts.name_validation,
    };
    validate(raw, file, &vopts)
}

/// A YAML scalar as text, whatever its type (Go puts `1` or `true` into string fields).
#[derive(Debug, Default, Clone, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
pub(crate) struct Scalar(#[serde(deserialize_with = "model::goyaml::scalar_string")] pub String);

/// A string map whose entries keep their lines.
pub(crate) type RawMap = BTreeMap<Scalar, Spanned<Scalar>>;

/// Declares the raw document types once, with or without `deny_unknown_fields`: serde
/// decides that at compile time, and promtool can be asked to ignore unknown keys.
macro_rules! raw_types {
    ($(#[$extra:meta])*) => {
        use serde::Deserialize;
        use serde_saphyr::Spanned;

        use crate::file::{RawMap, Scalar};

        #[derive(Debug, Default, Deserialize)]
        #[serde(default)]
        $(#[$extra])*
        pub(crate) struct RawFile {
            pub groups: Option<Vec<Spanned<Option<RawGroup>>>>,
        }

        #[derive(Debug, Default, Deserialize)]
        #[serde(default)]
        $(#[$extra])*
        pub(crate) struct RawGroup {
            pub name: Option<Spanned<Scalar>>,
            pub interval: Option<Spanned<Scalar>>,
            pub query_offset: Option<Spanned<Scalar>>,
            pub limit: Option<Spanned<i64>>,
            pub rules: Option<Vec<Spanned<Option<RawRule>>>>,
            pub labels: Option<Spanned<RawMap>>,
        }

        #[derive(Debug, Default, Deserialize)]
        #[serde(default)]
        $(#[$extra])*
        pub(crate) struct RawRule {
            pub record: Option<Spanned<Scalar>>,
            pub alert: Option<Spanned<Scalar>>,
            pub expr: Option<Spanned<Scalar>>,
            #[serde(rename = "for")]
            pub for_: Option<Spanned<Scalar>>,
            pub keep_firing_for: Option<Spanned<Scalar>>,
            pub labels: Option<Spanned<RawMap>>,
            pub annotations: Option<Spanned<RawMap>>,
        }
    };
}

/// The document as written, unknown keys refused (Prometheus's default).
pub(crate) mod strict {
    raw_types!(#[serde(deny_unknown_fields)]);
}

/// The document as written, unknown keys ignored.
mod lenient {
    raw_types!();
}

impl From<lenient::RawFile> for strict::RawFile {
    fn from(f: lenient::RawFile) -> Self {
        strict::RawFile {
            groups: f.groups.map(|gs| {
                gs.into_iter()
                    .map(|g| Spanned::new(g.value.map(Into::into), g.referenced, g.defined))
                    .collect()
            }),
        }
    }
}

impl From<lenient::RawGroup> for strict::RawGroup {
    fn from(g: lenient::RawGroup) -> Self {
        strict::RawGroup {
            name: g.name,
            interval: g.interval,
            query_offset: g.query_offset,
            limit: g.limit,
            rules: g.rules.map(|rs| {
                rs.into_iter()
                    .map(|r| Spanned::new(r.value.map(Into::into), r.referenced, r.defined))
                    .collect()
            }),
            labels: g.labels,
        }
    }
}

impl From<lenient::RawRule> for strict::RawRule {
    fn from(r: lenient::RawRule) -> Self {
        strict::RawRule {
            record: r.record,
            alert: r.alert,
            expr: r.expr,
            for_: r.for_,
            keep_firing_for: r.keep_firing_for,
            labels: r.labels,
            annotations: r.annotations,
        }
    }
}

/// Parses the YAML under input budgets; an error names file, line and field.
fn parse_yaml(text: &str, file: &str, lenient: bool) -> Result<strict::RawFile, RuleFileError> {
    if text.len() > MAX_RULE_FILE_BYTES {
        return Err(RuleFileError::file(
            file,
            0,
            format!("rule file is larger than {MAX_RULE_FILE_BYTES} bytes"),
        ));
    }
    if text
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    {
        // Prometheus reads an empty file as no groups.
        return Ok(strict::RawFile::default());
    }
    let options = config::yaml_error::strict_options(10_000_000, MAX_RULE_FILE_BYTES);
    let mut field = String::new();
    let result = serde_saphyr::with_deserializer_from_str_with_options(text, options, |de| {
        let r = if lenient {
            serde_path_to_error::deserialize::<_, lenient::RawFile>(de).map(Into::into)
        } else {
            serde_path_to_error::deserialize::<_, strict::RawFile>(de)
        };
        r.map_err(|e| {
            field = clean_path(&e.path().to_string());
            e.into_inner()
        })
    });
    result.map_err(|e| {
        let line = e.location().map(|l| l.line()).unwrap_or(0);
        let message = saphyr_message(&e);
        if message.starts_with("unknown field") {
            // The path ends with the unknown key itself: name where it was found instead.
            field = field
                .rfind('.')
                .map(|i| field[..i].to_string())
                .unwrap_or_default();
        }
        let message = if field.is_empty() {
            message
        } else {
            format!("{field}: {message}")
        };
        RuleFileError::file(file, line, message)
    })
}
