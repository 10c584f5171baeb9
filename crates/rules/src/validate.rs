//! Validation of a parsed rule file, with Prometheus's rulefmt messages: every problem is
//! collected (not just the first), each with its file, line, group and rule.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use model::{METRIC_NAME_LABEL, PromDuration};
use relabel::NameValidationScheme;
use serde_saphyr::Spanned;

use crate::error::{RuleFileError, RuleFileErrors};
use crate::file::strict::{RawFile, RawGroup, RawRule};
use crate::file::{GroupDesc, RawMap, RuleDesc, RuleFile, RuleKind, Scalar};

/// Settings of validation.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ValidateOptions {
    /// Which names are valid.
    pub name_validation: NameValidationScheme,
}

/// Collects problems with their position in one file.
struct Problems<'a> {
    file: &'a str,
    errs: Vec<RuleFileError>,
}

impl Problems<'_> {
    fn push(&mut self, line: u64, group: Option<&str>, rule: Option<(usize, &str)>, msg: String) {
        self.errs.push(RuleFileError {
            file: self.file.to_string(),
            line,
            group: group.map(str::to_string),
            rule: rule.map(|(i, n)| (i, n.to_string())),
            message: crate::error::single_line(&msg),
        });
    }
}

/// Checks a parsed file and turns it into descriptors, or every problem found.
pub(crate) fn validate(
    raw: RawFile,
    file: &str,
    opts: &ValidateOptions,
) -> Result<RuleFile, RuleFileErrors> {
    let mut p = Problems {
        file,
        errs: Vec::new(),
    };
    let mut names = HashSet::new();
    let mut groups = Vec::new();
    for entry in raw.groups.unwrap_or_default() {
        let line = entry.referenced.line();
        let g = entry.value.unwrap_or_default();
        if let Some(desc) = validate_group(g, line, &mut names, opts, &mut p) {
            groups.push(desc);
        }
    }
    if p.errs.is_empty() {
        Ok(RuleFile {
            file: file.to_string(),
            groups,
        })
    } else {
        Err(RuleFileErrors(p.errs))
    }
}

fn text(s: &Option<Spanned<Scalar>>) -> &str {
    s.as_ref().map(|s| s.value.0.as_str()).unwrap_or("")
}

fn line_of<T>(s: &Option<Spanned<T>>, fallback: u64) -> u64 {
    s.as_ref().map(|s| s.referenced.line()).unwrap_or(fallback)
}

/// A duration field; `None` when absent or empty, the message when it does not parse.
fn duration(s: &Option<Spanned<Scalar>>) -> Result<Option<Duration>, String> {
    match text(s) {
        "" => Ok(None),
        t => t
            .parse::<PromDuration>()
            .map(|d| Some(d.std()))
            .map_err(|e| e.to_string()),
    }
}

fn plain_map(m: Option<Spanned<RawMap>>) -> BTreeMap<String, String> {
    m.map(|m| m.value.into_iter().map(|(k, v)| (k.0, v.value.0)).collect())
        .unwrap_or_default()
}

fn validate_group(
    g: RawGroup,
    line: u64,
    names: &mut HashSet<String>,
    opts: &ValidateOptions,
    p: &mut Problems,
) -> Option<GroupDesc> {
    let before = p.errs.len();
    let name = text(&g.name).to_string();
    let gname = Some(name.as_str());
    if name.is_empty() {
        p.push(line, None, None, "Groupname must not be empty".into());
    }
    if !names.insert(name.clone()) {
        p.push(
            line,
            None,
            None,
            format!("groupname: \"{name}\" is repeated in the same file"),
        );
    }
    let interval = duration(&g.interval).unwrap_or_else(|e| {
        p.push(
            line_of(&g.interval, line),
            gname,
            None,
            format!("interval: {e}"),
        );
        None
    });
    let query_offset = match duration(&g.query_offset) {
        // Present, even as zero, it overrides the global rule_query_offset.
        Ok(None) if g.query_offset.is_some() => Some(Duration::ZERO),
        Ok(d) => d,
        Err(e) => {
            p.push(
                line_of(&g.query_offset, line),
                gname,
                None,
                format!("query_offset: {e}"),
            );
            None
        }
    };
    if let Some(labels) = &g.labels {
        for k in labels.value.keys() {
            if !opts.name_validation.is_valid_label_name(&k.0) || k.0 == METRIC_NAME_LABEL {
                p.push(
                    labels.referenced.line(),
                    gname,
                    None,
                    format!("invalid label name: {}", k.0),
                );
            }
        }
    }
    let group_labels = plain_map(g.labels);
    let mut rules = Vec::new();
    for (i, entry) in g.rules.unwrap_or_default().into_iter().enumerate() {
        let rline = entry.referenced.line();
        let r = entry.value.unwrap_or_default();
        if let Some(rule) = validate_rule(r, rline, &name, i + 1, &group_labels, opts, p) {
            rules.push(rule);
        }
    }
    (p.errs.len() == before).then(|| GroupDesc {
        name,
        interval: interval.filter(|d| !d.is_zero()),
        query_offset,
        limit: g
            .limit
            .map(|l| usize::try_from(l.value).unwrap_or(0))
            .unwrap_or(0),
        labels: group_labels,
        rules,
        line,
    })
}

fn is_valid_metric_name(scheme: NameValidationScheme, name: &str) -> bool {
    match scheme {
        NameValidationScheme::Legacy => model::is_valid_metric_name(name),
        NameValidationScheme::Utf8 => !name.is_empty(),
    }
}

fn validate_rule(
    r: RawRule,
    line: u64,
    group: &str,
    index: usize,
    group_labels: &BTreeMap<String, String>,
    opts: &ValidateOptions,
    p: &mut Problems,
) -> Option<RuleDesc> {
    let before = p.errs.len();
    let record = text(&r.record).to_string();
    let alert = text(&r.alert).to_string();
    let name = if alert.is_empty() { &record } else { &alert };
    let at = Some((index, name.as_str()));
    let g = Some(group);
    let record_line = line_of(&r.record, line_of(&r.alert, line));
    let mut push = |l: u64, msg: String| p.push(l, g, at, msg);

    if !record.is_empty() && !alert.is_empty() {
        push(
            record_line,
            "only one of 'record' and 'alert' must be set".into(),
        );
    }
    if record.is_empty() && alert.is_empty() {
        push(line, "one of 'record' or 'alert' must be set".into());
    }
    let expr = text(&r.expr).to_string();
    let expr_line = line_of(&r.expr, line);
    if expr.is_empty() {
        push(expr_line, "field 'expr' must be set in rule".into());
    } else if let Err(e) = promql::parse(&expr) {
        push(expr_line, format!("could not parse expression: {e}"));
    }
    let hold = duration(&r.for_).unwrap_or_else(|e| {
        push(line_of(&r.for_, line), format!("for: {e}"));
        None
    });
    let keep_firing_for = duration(&r.keep_firing_for).unwrap_or_else(|e| {
        push(
            line_of(&r.keep_firing_for, line),
            format!("keep_firing_for: {e}"),
        );
        None
    });
    let has_annotations = r.annotations.as_ref().is_some_and(|a| !a.value.is_empty());
    if !record.is_empty() {
        if has_annotations {
            push(
                record_line,
                "invalid field 'annotations' in recording rule".into(),
            );
        }
        if hold.is_some_and(|d| !d.is_zero()) {
            push(record_line, "invalid field 'for' in recording rule".into());
        }
        if keep_firing_for.is_some_and(|d| !d.is_zero()) {
            push(
                record_line,
                "invalid field 'keep_firing_for' in recording rule".into(),
            );
        }
        if !is_valid_metric_name(opts.name_validation, &record) {
            push(
                record_line,
                format!("invalid recording rule name: {record}"),
            );
        }
        // A valid UTF-8 name, but usually a PromQL expression put in the wrong field.
        if record.contains('{') || record.contains('}') {
            push(
                record_line,
                format!(
                    "braces present in the recording rule name; should it be in expr?: {record}"
                ),
            );
        }
    }
    if let Some(labels) = &r.labels {
        for (k, v) in &labels.value {
            if !opts.name_validation.is_valid_label_name(&k.0) || k.0 == METRIC_NAME_LABEL {
                push(v.referenced.line(), format!("invalid label name: {}", k.0));
            }
        }
    }
    if let Some(annotations) = &r.annotations {
        for (k, v) in &annotations.value {
            if !opts.name_validation.is_valid_label_name(&k.0) {
                push(
                    v.referenced.line(),
                    format!("invalid annotation name: {}", k.0),
                );
            }
        }
    }
    if !alert.is_empty() {
        // Prometheus parses alerting rules' label and annotation templates up front.
        for (what, map) in [("label", &r.labels), ("annotation", &r.annotations)] {
            for (k, v) in map.iter().flat_map(|m| m.value.iter()) {
                if let Err(e) = crate::expand::check(&alert, &v.value.0) {
                    push(v.referenced.line(), format!("{what} {:?}: {e}", k.0));
                }
            }
        }
    }
    if p.errs.len() != before {
        return None;
    }
    let mut labels = group_labels.clone();
    labels.extend(plain_map(r.labels));
    let kind = if alert.is_empty() {
        RuleKind::Recording { record }
    } else {
        RuleKind::Alerting {
            alert,
            hold: hold.unwrap_or_default(),
            keep_firing_for: keep_firing_for.unwrap_or_default(),
            annotations: plain_map(r.annotations),
        }
    };
    Some(RuleDesc {
        kind,
        expr,
        labels,
        line,
    })
}

#[cfg(test)]
mod tests {
    use crate::file::{LoadOptions, RuleKind, parse_rule_file};

    /// Every error of `yaml`, rendered.
    fn errors(yaml: &str) -> Vec<String> {
        match parse_rule_file(yaml, "r.yml", LoadOptions::default()) {
            Ok(_) => Vec::new(),
            Err(e) => e.0.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn rule_errors_name_group_rule_and_line() {
        let got = errors(
            "groups:
  - name: g
    rules:
      - record: ok
        expr: up
      - record: a
        alert: b
        expr: up
      - expr: up
      - record: no_expr
      - record: with_for
        expr: up
        for: 5m
        keep_firing_for: 1m
        annotations:
          x: y
      - record: 'x{a=\"b\"}'
        expr: up
      - alert: A
        expr: up
        labels:
          __name__: x
",
        );
        assert_eq!(
            got,
            vec![
                "r.yml:6: group \"g\", rule 2, \"b\": only one of 'record' and 'alert' must be set",
                "r.yml:9: group \"g\", rule 3, \"\": one of 'record' or 'alert' must be set",
                "r.yml:10: group \"g\", rule 4, \"no_expr\": field 'expr' must be set in rule",
                "r.yml:11: group \"g\", rule 5, \"with_for\": invalid field 'annotations' in recording rule",
                "r.yml:11: group \"g\", rule 5, \"with_for\": invalid field 'for' in recording rule",
                "r.yml:11: group \"g\", rule 5, \"with_for\": invalid field 'keep_firing_for' in recording rule",
                "r.yml:17: group \"g\", rule 6, \"x{a=\\\"b\\\"}\": braces present in the recording rule name; should it be in expr?: x{a=\"b\"}",
                "r.yml:22: group \"g\", rule 7, \"A\": invalid label name: __name__",
            ]
        );
    }

    #[test]
    fn group_errors() {
        let got = errors(
            "groups:
  - name: g
    rules: []
  - name: g
    interval: 5x
    rules: []
  - rules: []
",
        );
        assert_eq!(
            got,
            vec![
                "r.yml:4: groupname: \"g\" is repeated in the same file",
                "r.yml:5: group \"g\": interval: not a valid duration string: \"5x\"",
                "r.yml:7: Groupname must not be empty",
            ]
        );
    }

    #[test]
    fn legacy_names_refuse_utf8_record_names() {
        let yaml = "groups:\n  - name: g\n    rules:\n      - record: 'a.b'\n        expr: up\n";
        assert!(errors(yaml).is_empty(), "UTF-8 names are valid by default");
        let legacy = LoadOptions {
            name_validation: relabel::NameValidationScheme::Legacy,
            ..LoadOptions::default()
        };
        let e = parse_rule_file(yaml, "r.yml", legacy).expect_err("legacy name check");
        assert!(
            e.to_string().ends_with("invalid recording rule name: a.b"),
            "{e}"
        );
    }

    #[test]
    fn yaml_errors_name_the_line() {
        let got = errors(
            "groups:\n  - name: g\n    rules:\n      - record: a\n        expr: up\n        fro: 1m\n",
        );
        assert_eq!(got.len(), 1);
        assert!(
            got[0].starts_with("r.yml:6: groups[0].rules[0]: unknown field `fro`"),
            "{got:?}"
        );
    }

    #[test]
    fn descriptors_merge_labels_and_keep_settings() {
        let f = parse_rule_file(
            "groups:
  - name: g
    interval: 30s
    query_offset: 0s
    limit: 10
    labels:
      team: a
      tier: x
    rules:
      - alert: A
        expr: up == 0
        for: 5m
        keep_firing_for: 1m
        labels:
          tier: 1
        annotations:
          s: '{{ $value }}'
",
            "r.yml",
            LoadOptions::default(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let g = &f.groups[0];
        assert_eq!(g.interval, Some(std::time::Duration::from_secs(30)));
        assert_eq!(g.query_offset, Some(std::time::Duration::ZERO));
        assert_eq!(g.limit, 10);
        let r = &g.rules[0];
        assert_eq!(r.labels.get("team").map(String::as_str), Some("a"));
        assert_eq!(r.labels.get("tier").map(String::as_str), Some("1"));
        assert_eq!(r.line, 10);
        let RuleKind::Alerting {
            hold,
            keep_firing_for,
            ..
        } = &r.kind
        else {
            panic!("alerting rule expected");
        };
        assert_eq!(*hold, std::time::Duration::from_secs(300));
        assert_eq!(*keep_firing_for, std::time::Duration::from_secs(60));
    }

    #[test]
    fn empty_files_have_no_groups() {
        for text in ["", "# nothing\n", "groups:\n"] {
            let f = parse_rule_file(text, "r.yml", LoadOptions::default())
                .unwrap_or_else(|e| panic!("{e}"));
            assert!(f.groups.is_empty());
        }
    }
}
