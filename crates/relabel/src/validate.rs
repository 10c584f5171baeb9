//! Prometheus's rules for which combinations of fields a rule may use.
//!
//! Messages keep Prometheus's wording (tools and tests grep for it) and add the
//! offending field and value where Prometheus leaves them out.

use std::sync::LazyLock;

use model::PromRegex;

use crate::config::{
    Action, DEFAULT_REPLACEMENT, DEFAULT_SEPARATOR, NameValidationScheme, RelabelConfig,
};

/// A relabel rule that Prometheus would refuse to load.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RelabelConfigError {
    /// `hashmod` without a `modulus` (or with 0).
    #[error("relabel configuration for hashmod requires non-zero modulus (field 'modulus' is 0)")]
    ModulusRequired,
    /// An action that writes or compares a label has no `target_label`.
    #[error("relabel configuration for {action} action requires 'target_label' value")]
    TargetLabelRequired {
        /// The rule's action.
        action: Action,
    },
    /// `target_label` is not a valid label name (or template, for replace).
    #[error("{value:?} is invalid 'target_label' for {action} action")]
    InvalidTargetLabel {
        /// The rule's action.
        action: Action,
        /// The offending `target_label`.
        value: String,
    },
    /// `replacement` given to an action that takes none.
    #[error("'replacement' can not be set for {action} action (got {value:?})")]
    ReplacementNotAllowed {
        /// The rule's action.
        action: Action,
        /// The offending `replacement`.
        value: String,
    },
    /// `labelmap`'s `replacement` is not a label name template.
    #[error("{value:?} is invalid 'replacement' for {action} action")]
    InvalidReplacement {
        /// The rule's action.
        action: Action,
        /// The offending `replacement`.
        value: String,
    },
    /// keepequal/dropequal with a field other than `source_labels` and `target_label`.
    #[error(
        "{action} action requires only 'source_labels' and `target_label`, and no other fields (got '{field}': {value})"
    )]
    EqualExtraField {
        /// The rule's action.
        action: Action,
        /// The field that must not be set.
        field: &'static str,
        /// Its value, as written.
        value: String,
    },
    /// labeldrop/labelkeep with a field other than `regex`.
    #[error("{action} action requires only 'regex', and no other fields (got '{field}': {value})")]
    LabelFilterExtraField {
        /// The rule's action.
        action: Action,
        /// The field that must not be set.
        field: &'static str,
        /// Its value, as written.
        value: String,
    },
}

/// Legacy label names in which `$name` / `${name}` references may stand for characters.
static LEGACY_TEMPLATE: LazyLock<PromRegex> = LazyLock::new(|| {
    // A constant pattern, so failure is a programming error, not an input error.
    PromRegex::new(r"(?:(?:[a-zA-Z_]|\$(?:\{\w+\}|\w+))+\w*)+")
        .unwrap_or_else(|e| unreachable!("legacy template regex: {e}"))
});

/// True when `s` is a valid label name once its `$` references are expanded.
fn is_valid_name_template(scheme: NameValidationScheme, s: &str) -> bool {
    match scheme {
        // Any non-empty UTF-8 string is a name, `$` included.
        NameValidationScheme::Utf8 => scheme.is_valid_label_name(s),
        NameValidationScheme::Legacy => LEGACY_TEMPLATE.is_match(s),
    }
}

impl RelabelConfig {
    /// Checks the rule as Prometheus does when loading a configuration.
    ///
    /// A rule without its own `name_validation_scheme` takes `global` (the
    /// configuration's `metric_name_validation_scheme`) and keeps it, so that
    /// processing later judges expanded target names by the same scheme.
    pub fn validate(&mut self, global: NameValidationScheme) -> Result<(), RelabelConfigError> {
        use Action::*;
        let action = self.action;
        if action == HashMod && self.modulus == 0 {
            return Err(RelabelConfigError::ModulusRequired);
        }
        let writes_target = matches!(
            action,
            Replace | HashMod | Lowercase | Uppercase | KeepEqual | DropEqual
        );
        if writes_target && self.target_label.is_empty() {
            return Err(RelabelConfigError::TargetLabelRequired { action });
        }
        let scheme = *self.name_validation_scheme.get_or_insert(global);
        let bad_target = || RelabelConfigError::InvalidTargetLabel {
            action,
            value: self.target_label.clone(),
        };
        let target_is_template = self.target_label.contains('$');
        if action == Replace {
            let ok = if target_is_template {
                is_valid_name_template(scheme, &self.target_label)
            } else {
                scheme.is_valid_label_name(&self.target_label)
            };
            if !ok {
                return Err(bad_target());
            }
        }
        let single_target = matches!(action, Lowercase | Uppercase | KeepEqual | DropEqual);
        if single_target && !scheme.is_valid_label_name(&self.target_label) {
            return Err(bad_target());
        }
        if single_target && self.replacement != DEFAULT_REPLACEMENT {
            return Err(RelabelConfigError::ReplacementNotAllowed {
                action,
                value: self.replacement.clone(),
            });
        }
        if action == LabelMap && !is_valid_name_template(scheme, &self.replacement) {
            return Err(RelabelConfigError::InvalidReplacement {
                action,
                value: self.replacement.clone(),
            });
        }
        if action == HashMod && !scheme.is_valid_label_name(&self.target_label) {
            return Err(bad_target());
        }
        if matches!(action, KeepEqual | DropEqual)
            && let Some((field, value)) = self.first_extra_field(&["regex", "modulus", "separator"])
        {
            return Err(RelabelConfigError::EqualExtraField {
                action,
                field,
                value,
            });
        }
        const FILTER_FORBIDS: [&str; 5] = [
            "source_labels",
            "target_label",
            "modulus",
            "separator",
            "replacement",
        ];
        if matches!(action, LabelDrop | LabelKeep)
            && let Some((field, value)) = self.first_extra_field(&FILTER_FORBIDS)
        {
            return Err(RelabelConfigError::LabelFilterExtraField {
                action,
                field,
                value,
            });
        }
        Ok(())
    }

    /// The first of `fields` that differs from its default, with its value quoted.
    fn first_extra_field(&self, fields: &[&'static str]) -> Option<(&'static str, String)> {
        fields.iter().find_map(|&f| {
            let value = match f {
                "source_labels" => self.source_labels.as_ref().map(|v| format!("{v:?}")),
                "target_label" => {
                    (!self.target_label.is_empty()).then(|| format!("{:?}", self.target_label))
                }
                "regex" => self.regex.as_ref().map(|r| format!("{:?}", r.as_str())),
                "modulus" => (self.modulus != 0).then(|| self.modulus.to_string()),
                "separator" => {
                    (self.separator != DEFAULT_SEPARATOR).then(|| format!("{:?}", self.separator))
                }
                "replacement" => (self.replacement != DEFAULT_REPLACEMENT)
                    .then(|| format!("{:?}", self.replacement)),
                _ => None,
            };
            value.map(|v| (f, v))
        })
    }
}
