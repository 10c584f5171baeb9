//! One relabelling rule as Prometheus's YAML spells it, with Prometheus's defaults.

use std::fmt;
use std::sync::LazyLock;

use model::PromRegex;
use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};

use crate::case::go_to_lower;

/// The pattern a rule uses when `regex` is not given.
pub(crate) const DEFAULT_REGEX: &str = "(.*)";
/// The separator a rule uses when `separator` is not given.
pub(crate) const DEFAULT_SEPARATOR: &str = ";";
/// The replacement a rule uses when `replacement` is not given.
pub(crate) const DEFAULT_REPLACEMENT: &str = "$1";

/// What a rule does with the labels it sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Action {
    /// Writes the expanded `replacement` to the (expanded) `target_label` when `regex` matches.
    #[default]
    Replace,
    /// Drops the series unless `regex` matches the source value.
    Keep,
    /// Drops the series when `regex` matches the source value.
    Drop,
    /// Drops the series unless the source value equals the `target_label` value.
    KeepEqual,
    /// Drops the series when the source value equals the `target_label` value.
    DropEqual,
    /// Sets `target_label` to md5(source value) modulo `modulus`.
    HashMod,
    /// Copies each label whose name matches `regex` to the name `replacement` expands to.
    LabelMap,
    /// Removes each label whose name matches `regex`.
    LabelDrop,
    /// Removes each label whose name does not match `regex`.
    LabelKeep,
    /// Sets `target_label` to the source value in lower case.
    Lowercase,
    /// Sets `target_label` to the source value in upper case.
    Uppercase,
}

impl Action {
    /// Every action, in Prometheus's documentation order.
    pub const ALL: [Action; 11] = [
        Action::Replace,
        Action::Keep,
        Action::Drop,
        Action::KeepEqual,
        Action::DropEqual,
        Action::HashMod,
        Action::LabelMap,
        Action::LabelDrop,
        Action::LabelKeep,
        Action::Lowercase,
        Action::Uppercase,
    ];

    /// The name used in configuration files.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Replace => "replace",
            Action::Keep => "keep",
            Action::Drop => "drop",
            Action::KeepEqual => "keepequal",
            Action::DropEqual => "dropequal",
            Action::HashMod => "hashmod",
            Action::LabelMap => "labelmap",
            Action::LabelDrop => "labeldrop",
            Action::LabelKeep => "labelkeep",
            Action::Lowercase => "lowercase",
            Action::Uppercase => "uppercase",
        }
    }

    /// Parses an action name the way Prometheus does: case-insensitively
    /// (Go's Unicode lower-casing, so `KEEP` and `Keep` are `keep`).
    pub fn parse(s: &str) -> Option<Action> {
        let lower = go_to_lower(s);
        Action::ALL.into_iter().find(|a| a.as_str() == lower)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which label names count as valid: Prometheus 3's `metric_name_validation_scheme`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NameValidationScheme {
    /// `[a-zA-Z_][a-zA-Z0-9_]*`.
    Legacy,
    /// Any non-empty UTF-8 string (Prometheus 3's default).
    #[default]
    Utf8,
}

impl NameValidationScheme {
    /// True when `name` is a valid label name under this scheme.
    pub fn is_valid_label_name(self, name: &str) -> bool {
        match self {
            NameValidationScheme::Legacy => model::is_valid_label_name(name),
            // Rust strings are always valid UTF-8, so only emptiness is left to check.
            NameValidationScheme::Utf8 => !name.is_empty(),
        }
    }
}

/// One `relabel_config` entry.
///
/// Missing keys take Prometheus's defaults; a key given as YAML null takes the
/// Go zero value (empty string, 0, empty regex), as Prometheus's YAML decoder does.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RelabelConfig {
    /// Labels whose values are joined with `separator` to form the source value.
    /// `None` when the key is absent or null (distinct from `[]` for validation).
    #[serde(deserialize_with = "de_source_labels")]
    pub source_labels: Option<Vec<String>>,
    /// Joins the source label values.
    #[serde(deserialize_with = "de_scalar_string")]
    pub separator: String,
    /// Matched against the source value (anchored at both ends). `None` is the
    /// default `(.*)`; Prometheus tells an explicit regex from the default even
    /// when the text is the same (keepequal/dropequal refuse any explicit regex).
    #[serde(deserialize_with = "de_regex")]
    pub regex: Option<PromRegex>,
    /// Divisor for `hashmod`.
    #[serde(deserialize_with = "de_modulus")]
    pub modulus: u64,
    /// Label written by replace/hashmod/lowercase/uppercase, compared by keepequal/dropequal.
    #[serde(deserialize_with = "de_scalar_string")]
    pub target_label: String,
    /// Template expanded with the regex's capture groups.
    #[serde(deserialize_with = "de_scalar_string")]
    pub replacement: String,
    /// What the rule does.
    #[serde(deserialize_with = "de_action")]
    pub action: Action,
    /// Name validity rules; `None` takes the global scheme at [`RelabelConfig::validate`].
    #[serde(skip)]
    pub name_validation_scheme: Option<NameValidationScheme>,
}

impl Default for RelabelConfig {
    /// Prometheus's defaults: replace, separator `;`, regex `(.*)`, replacement `$1`.
    fn default() -> Self {
        RelabelConfig {
            source_labels: None,
            separator: DEFAULT_SEPARATOR.to_string(),
            regex: None,
            modulus: 0,
            target_label: String::new(),
            replacement: DEFAULT_REPLACEMENT.to_string(),
            action: Action::Replace,
            name_validation_scheme: None,
        }
    }
}

impl RelabelConfig {
    /// A rule with Prometheus's defaults and the given action.
    pub fn new(action: Action) -> Self {
        RelabelConfig {
            action,
            ..RelabelConfig::default()
        }
    }

    /// The source label names (empty when none were given).
    pub fn source_labels(&self) -> &[String] {
        self.source_labels.as_deref().unwrap_or(&[])
    }

    /// The scheme used to judge label names while processing (UTF-8 when unset).
    pub fn scheme(&self) -> NameValidationScheme {
        self.name_validation_scheme.unwrap_or_default()
    }

    /// The regex in force: the one given, or the default `(.*)`.
    pub fn regex(&self) -> &PromRegex {
        match &self.regex {
            Some(r) => r,
            None => &DEFAULT,
        }
    }
}

impl Serialize for RelabelConfig {
    /// Writes the keys Prometheus writes, so a loaded config can be shown back.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        if let Some(sl) = &self.source_labels {
            m.serialize_entry("source_labels", sl)?;
        }
        m.serialize_entry("separator", &self.separator)?;
        m.serialize_entry("regex", self.regex().as_str())?;
        if self.modulus != 0 {
            m.serialize_entry("modulus", &self.modulus)?;
        }
        if !self.target_label.is_empty() {
            m.serialize_entry("target_label", &self.target_label)?;
        }
        m.serialize_entry("replacement", &self.replacement)?;
        m.serialize_entry("action", self.action.as_str())?;
        m.end()
    }
}

/// The default regex, compiled once.
static DEFAULT: LazyLock<PromRegex> = LazyLock::new(|| {
    // A constant pattern, so failure is a programming error, not an input error.
    PromRegex::new(DEFAULT_REGEX).unwrap_or_else(|e| unreachable!("default regex: {e}"))
});

use model::goyaml::scalar_string as de_scalar_string;

fn de_regex<'de, D: Deserializer<'de>>(d: D) -> Result<Option<PromRegex>, D::Error> {
    // Null gives the empty pattern, as Prometheus does for a nil regex.
    let s = de_scalar_string(d)?;
    PromRegex::new(&s)
        .map(Some)
        .map_err(|e| de::Error::custom(format!("regex: error parsing regexp: {e}")))
}

fn de_action<'de, D: Deserializer<'de>>(d: D) -> Result<Action, D::Error> {
    let s = de_scalar_string(d)?;
    if s.is_empty() {
        return Err(de::Error::custom("relabel action cannot be empty"));
    }
    Action::parse(&s).ok_or_else(|| de::Error::custom(format!("unknown relabel action {s:?}")))
}

fn de_modulus<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    Ok(Option::<u64>::deserialize(d)?.unwrap_or(0))
}

/// One source label name: any scalar, refused when empty (every scheme rejects "").
struct SourceLabel(String);

impl<'de> Deserialize<'de> for SourceLabel {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = de_scalar_string(d)?;
        if s.is_empty() {
            return Err(de::Error::custom(
                "source_labels: \"\" is not a valid label name",
            ));
        }
        Ok(SourceLabel(s))
    }
}

fn de_source_labels<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    let v = Option::<Vec<SourceLabel>>::deserialize(d)?;
    Ok(v.map(|v| v.into_iter().map(|s| s.0).collect()))
}
