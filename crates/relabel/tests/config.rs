//! YAML deserialization and validation, including Prometheus's own bad configs.

use std::path::PathBuf;

use relabel::{Action, NameValidationScheme, RelabelConfig, RelabelConfigError};
use serde::Deserialize;

fn parse(yaml: &str) -> Result<RelabelConfig, String> {
    serde_saphyr::from_str::<RelabelConfig>(yaml).map_err(|e| e.to_string())
}

fn load(yaml: &str, scheme: NameValidationScheme) -> Result<RelabelConfig, String> {
    let mut c = parse(yaml)?;
    c.validate(scheme).map_err(|e| e.to_string())?;
    Ok(c)
}

#[test]
fn defaults_when_keys_are_absent() {
    let c = parse("target_label: x").expect("parses");
    assert_eq!(c.action, Action::Replace);
    assert_eq!(c.separator, ";");
    assert_eq!(c.replacement, "$1");
    assert_eq!(c.regex().as_str(), "(.*)");
    assert!(c.regex.is_none());
    assert_eq!(c.source_labels, None);
    assert_eq!(c.modulus, 0);
}

#[test]
fn all_keys() {
    let c = parse(
        "source_labels: [a, b]\nseparator: '/'\nregex: 'x(.*)'\nmodulus: 7\ntarget_label: t\nreplacement: '${1}'\naction: hashmod\n",
    )
    .expect("parses");
    assert_eq!(c.source_labels(), ["a", "b"]);
    assert_eq!(c.separator, "/");
    assert_eq!(c.regex().as_str(), "x(.*)");
    assert_eq!(c.modulus, 7);
    assert_eq!(c.target_label, "t");
    assert_eq!(c.replacement, "${1}");
    assert_eq!(c.action, Action::HashMod);
}

#[test]
fn null_values_are_go_zero_values() {
    // Go's YAML decoder stores null as the zero value: "" strings, an empty regex.
    let c = parse("separator:\nreplacement:\nregex:\ntarget_label: t\n").expect("parses");
    assert_eq!(c.separator, "");
    assert_eq!(c.replacement, "");
    assert_eq!(c.regex.as_ref().map(|r| r.as_str()), Some(""));
    let c = parse("source_labels:\ntarget_label: t").expect("parses");
    assert_eq!(c.source_labels, None);
    let e = parse("action:\n").expect_err("null action");
    assert!(e.contains("relabel action cannot be empty"), "{e}");
}

#[test]
fn scalars_of_any_type_are_text() {
    let c = parse("replacement: 1\nseparator: true\ntarget_label: t\nregex: 42").expect("parses");
    assert_eq!(c.replacement, "1");
    assert_eq!(c.separator, "true");
    assert_eq!(c.regex().as_str(), "42");
}

#[test]
fn action_is_case_insensitive() {
    for (text, want) in [
        ("Replace", Action::Replace),
        ("KEEP", Action::Keep),
        ("LabelMap", Action::LabelMap),
        ("dropEqual", Action::DropEqual),
        ("HashMod", Action::HashMod),
    ] {
        let c = parse(&format!("action: {text}")).expect("parses");
        assert_eq!(c.action, want, "{text}");
    }
    for a in Action::ALL {
        assert_eq!(Action::parse(a.as_str()), Some(a));
    }
    let e = parse("action: explode").expect_err("unknown action");
    assert!(e.contains("unknown relabel action \"explode\""), "{e}");
}

#[test]
fn unknown_keys_and_bad_regex_are_refused() {
    let e = parse("target_label: t\ntarget: x").expect_err("unknown key");
    assert!(e.contains("target"), "{e}");
    let e = parse("regex: abc(def").expect_err("bad regex");
    assert!(
        e.contains("error parsing regexp") && e.contains("abc(def"),
        "{e}"
    );
    let e = parse("source_labels: ['']").expect_err("empty source label");
    assert!(e.contains("source_labels"), "{e}");
}

#[test]
fn a_chain_from_a_prometheus_config() {
    let yaml = r#"
- source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_scrape]
  action: keep
  regex: true
- source_labels: [__address__, __meta_kubernetes_pod_annotation_prometheus_io_port]
  action: replace
  regex: ([^:]+)(?::\d+)?;(\d+)
  replacement: $1:$2
  target_label: __address__
- action: labelmap
  regex: __meta_kubernetes_pod_label_(.+)
- regex:
  replacement: static
  target_label: abc
"#;
    let mut rules: Vec<RelabelConfig> = serde_saphyr::from_str(yaml).expect("parses");
    for r in &mut rules {
        r.validate(NameValidationScheme::Legacy).expect("valid");
    }
    let input = model::Labels::from_pairs([
        ("__address__", "10.0.0.1:80"),
        (
            "__meta_kubernetes_pod_annotation_prometheus_io_scrape",
            "true",
        ),
        (
            "__meta_kubernetes_pod_annotation_prometheus_io_port",
            "9100",
        ),
        ("__meta_kubernetes_pod_label_app", "web"),
    ]);
    let out = relabel::process(&input, &rules).expect("kept");
    assert_eq!(out.get("__address__"), Some("10.0.0.1:9100"));
    assert_eq!(out.get("app"), Some("web"));
    // An explicit null regex is the empty pattern: the empty source value matches.
    assert_eq!(out.get("abc"), Some("static"));
}

#[test]
fn serialize_round_trips_through_yaml() {
    let c = parse("source_labels: [a]\nseparator: ''\nregex: ''\ntarget_label: t\nreplacement: ''")
        .expect("parses");
    let text = serde_saphyr::to_string(&c).expect("serializes");
    let back = parse(&text).expect("re-parses");
    assert_eq!(back.separator, "");
    assert_eq!(back.replacement, "");
    assert_eq!(back.regex().as_str(), "");
    assert_eq!(back.source_labels(), ["a"]);
}

/// Each rule that Prometheus refuses, with the message fragment it gives and the field we name.
#[test]
fn validation_errors_name_field_and_value() {
    use NameValidationScheme::{Legacy, Utf8};
    let cases: &[(&str, NameValidationScheme, &str)] = &[
        (
            "action: hashmod\ntarget_label: t",
            Utf8,
            "hashmod requires non-zero modulus (field 'modulus' is 0)",
        ),
        (
            "action: replace",
            Utf8,
            "replace action requires 'target_label' value",
        ),
        (
            "action: hashmod\nmodulus: 2",
            Utf8,
            "hashmod action requires 'target_label' value",
        ),
        (
            "action: lowercase",
            Utf8,
            "lowercase action requires 'target_label' value",
        ),
        (
            "action: uppercase",
            Utf8,
            "uppercase action requires 'target_label' value",
        ),
        (
            "action: keepequal",
            Utf8,
            "keepequal action requires 'target_label' value",
        ),
        (
            "action: dropequal",
            Utf8,
            "dropequal action requires 'target_label' value",
        ),
        (
            "target_label: 'a-b'",
            Legacy,
            "\"a-b\" is invalid 'target_label' for replace action",
        ),
        (
            "target_label: '-${1}'",
            Legacy,
            "\"-${1}\" is invalid 'target_label' for replace action",
        ),
        (
            "target_label: '${'",
            Legacy,
            "\"${\" is invalid 'target_label' for replace action",
        ),
        (
            "action: lowercase\ntarget_label: '${3}'",
            Legacy,
            "\"${3}\" is invalid 'target_label' for lowercase action",
        ),
        (
            "action: hashmod\nmodulus: 2\ntarget_label: 'a.b'",
            Legacy,
            "\"a.b\" is invalid 'target_label' for hashmod action",
        ),
        (
            "action: uppercase\ntarget_label: t\nreplacement: bar",
            Utf8,
            "'replacement' can not be set for uppercase action (got \"bar\")",
        ),
        (
            "action: keepequal\ntarget_label: t\nreplacement: bar",
            Utf8,
            "'replacement' can not be set for keepequal action",
        ),
        (
            "action: labelmap\nreplacement: 'a-$1'",
            Legacy,
            "\"a-$1\" is invalid 'replacement' for labelmap action",
        ),
        (
            "action: labelmap\nreplacement: ''",
            Utf8,
            "\"\" is invalid 'replacement' for labelmap action",
        ),
        (
            "action: keepequal\ntarget_label: t\nregex: foo",
            Utf8,
            "keepequal action requires only 'source_labels' and `target_label`, and no other fields (got 'regex': \"foo\")",
        ),
        (
            "action: dropequal\ntarget_label: t\nregex: (.*)",
            Utf8,
            "(got 'regex': \"(.*)\")",
        ),
        (
            "action: dropequal\ntarget_label: t\nseparator: ','",
            Utf8,
            "(got 'separator': \",\")",
        ),
        (
            "action: dropequal\ntarget_label: t\nmodulus: 3",
            Utf8,
            "(got 'modulus': 3)",
        ),
        (
            "action: labeldrop\nsource_labels: [a]",
            Utf8,
            "labeldrop action requires only 'regex', and no other fields (got 'source_labels': [\"a\"])",
        ),
        (
            "action: labeldrop\nsource_labels: []",
            Utf8,
            "(got 'source_labels': [])",
        ),
        (
            "action: labelkeep\ntarget_label: x",
            Utf8,
            "labelkeep action requires only 'regex', and no other fields (got 'target_label': \"x\")",
        ),
        ("action: labelkeep\nmodulus: 8", Utf8, "(got 'modulus': 8)"),
        (
            "action: labelkeep\nseparator: ','",
            Utf8,
            "(got 'separator': \",\")",
        ),
        (
            "action: labelkeep\nreplacement: yolo",
            Utf8,
            "(got 'replacement': \"yolo\")",
        ),
    ];
    for (yaml, scheme, want) in cases {
        let e = load(yaml, *scheme).expect_err(yaml);
        assert!(e.contains(want), "{yaml:?}: {e:?} should contain {want:?}");
    }
}

#[test]
fn valid_rules_pass() {
    use NameValidationScheme::{Legacy, Utf8};
    let cases: &[(&str, NameValidationScheme)] = &[
        ("action: lowercase\ntarget_label: '${3}'", Utf8),
        (
            "source_labels: [a]\nregex: 'some-([^-]+)-([^,]+)'\ntarget_label: '${3}'",
            Utf8,
        ),
        ("source_labels: [a]\ntarget_label: '0${3}'", Utf8),
        ("source_labels: [a]\ntarget_label: '-${3}'", Utf8),
        (
            "action: labelmap\nregex: '__meta_kubernetes_pod_label_(strimzi_io_.+)'\nreplacement: $1",
            Legacy,
        ),
        (
            "action: labelmap\nregex: '__meta_(.+)'\nreplacement: '${1}'",
            Legacy,
        ),
        ("target_label: 'utf-8.label'", Utf8),
        (
            "action: keepequal\nsource_labels: [a]\ntarget_label: b\nseparator: ';'\nreplacement: $1",
            Utf8,
        ),
        ("action: labeldrop\nregex: 'tmp_.*'", Legacy),
        ("action: keep\nsource_labels: [a]\nregex: x", Legacy),
        (
            "action: drop\nsource_labels: [a]\ntarget_label: 'ignored-by-drop'",
            Legacy,
        ),
    ];
    for (yaml, scheme) in cases {
        load(yaml, *scheme).unwrap_or_else(|e| panic!("{yaml:?} should be valid: {e}"));
    }
}

#[test]
fn legacy_target_templates() {
    // Which targets the legacy scheme accepts when they contain `$` references.
    for (target, valid) in [
        ("label${1}", true),
        ("${1}label", true),
        ("${1}", true),
        ("$1", true),
        ("asd$2asd", true),
        ("_${1}_", true),
        ("foo${bar}foo", true),
        ("${", false),
        ("$", false),
        ("${}", false),
        ("foo${", false),
        ("-foo${1}bar-", false),
        ("bar.foo${1}bar", false),
    ] {
        let mut c = RelabelConfig::new(Action::Replace);
        c.target_label = target.to_string();
        let r = c.validate(NameValidationScheme::Legacy);
        assert_eq!(r.is_ok(), valid, "{target:?}: {r:?}");
        if !valid {
            assert!(matches!(
                r,
                Err(RelabelConfigError::InvalidTargetLabel { .. })
            ));
        }
    }
}

#[test]
fn validate_keeps_explicit_scheme_and_inherits_global() {
    let mut c = RelabelConfig::new(Action::Replace);
    c.target_label = "a.b".into();
    c.validate(NameValidationScheme::Utf8)
        .expect("utf8 accepts dots");
    assert_eq!(c.name_validation_scheme, Some(NameValidationScheme::Utf8));
    let mut c = RelabelConfig::new(Action::Replace);
    c.target_label = "a.b".into();
    c.name_validation_scheme = Some(NameValidationScheme::Legacy);
    assert!(c.validate(NameValidationScheme::Utf8).is_err());
}

fn conformance_dir() -> PathBuf {
    let dir = std::env::var_os("FLEETWATCH_CONFORMANCE").map_or_else(
        || {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../../shared/conformance"
            ))
        },
        PathBuf::from,
    );
    assert!(
        dir.is_dir(),
        "conformance data not found at {}: set FLEETWATCH_CONFORMANCE to /work/shared/conformance",
        dir.display()
    );
    dir
}

/// Just enough of a Prometheus config to reach its relabel rules.
#[derive(Deserialize)]
struct PromConfig {
    #[serde(default)]
    global: Global,
    scrape_configs: Vec<ScrapeConfig>,
}

#[derive(Deserialize, Default)]
struct Global {
    metric_name_validation_scheme: Option<NameValidationScheme>,
}

#[derive(Deserialize)]
struct ScrapeConfig {
    #[serde(default)]
    relabel_configs: Vec<RelabelConfig>,
}

/// Prometheus's own refused configs whose fault is one relabel rule, with the
/// message Prometheus's config tests expect.
#[test]
fn prometheus_bad_configs_are_refused_with_its_messages() {
    let dir = conformance_dir().join("prometheus/config/testdata");
    let cases = [
        ("regex.bad.yml", "error parsing regexp"),
        (
            "modulus_missing.bad.yml",
            "relabel configuration for hashmod requires non-zero modulus",
        ),
        (
            "labelkeep.bad.yml",
            "labelkeep action requires only 'regex', and no other fields",
        ),
        (
            "labelkeep2.bad.yml",
            "labelkeep action requires only 'regex', and no other fields",
        ),
        (
            "labelkeep3.bad.yml",
            "labelkeep action requires only 'regex', and no other fields",
        ),
        (
            "labelkeep4.bad.yml",
            "labelkeep action requires only 'regex', and no other fields",
        ),
        (
            "labelkeep5.bad.yml",
            "labelkeep action requires only 'regex', and no other fields",
        ),
        (
            "labeldrop.bad.yml",
            "labeldrop action requires only 'regex', and no other fields",
        ),
        (
            "labeldrop2.bad.yml",
            "labeldrop action requires only 'regex', and no other fields",
        ),
        (
            "labeldrop3.bad.yml",
            "labeldrop action requires only 'regex', and no other fields",
        ),
        (
            "labeldrop4.bad.yml",
            "labeldrop action requires only 'regex', and no other fields",
        ),
        (
            "labeldrop5.bad.yml",
            "labeldrop action requires only 'regex', and no other fields",
        ),
        (
            "dropequal.bad.yml",
            "relabel configuration for dropequal action requires 'target_label' value",
        ),
        (
            "dropequal1.bad.yml",
            "dropequal action requires only 'source_labels' and `target_label`, and no other fields",
        ),
        (
            "keepequal.bad.yml",
            "relabel configuration for keepequal action requires 'target_label' value",
        ),
        (
            "keepequal1.bad.yml",
            "keepequal action requires only 'source_labels' and `target_label`, and no other fields",
        ),
        (
            "lowercase.bad.yml",
            "relabel configuration for lowercase action requires 'target_label' value",
        ),
        (
            "lowercase3.bad.yml",
            "'replacement' can not be set for lowercase action",
        ),
        (
            "uppercase.bad.yml",
            "relabel configuration for uppercase action requires 'target_label' value",
        ),
        (
            "uppercase3.bad.yml",
            "'replacement' can not be set for uppercase action",
        ),
        (
            "target_label_missing.bad.yml",
            "relabel configuration for replace action requires 'target_label' value",
        ),
        (
            "target_label_hashmod_missing.bad.yml",
            "relabel configuration for hashmod action requires 'target_label' value",
        ),
    ];
    for (file, want) in cases {
        let path = dir.join(file);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        let err = match serde_saphyr::from_str::<PromConfig>(&text) {
            Err(e) => e.to_string(),
            Ok(cfg) => {
                let scheme = cfg.global.metric_name_validation_scheme.unwrap_or_default();
                let mut errs = Vec::new();
                for mut r in cfg
                    .scrape_configs
                    .into_iter()
                    .flat_map(|s| s.relabel_configs)
                {
                    if let Err(e) = r.validate(scheme) {
                        errs.push(e.to_string());
                    }
                }
                assert!(!errs.is_empty(), "{file}: accepted, Prometheus refuses it");
                errs.join("; ")
            }
        };
        assert!(
            err.contains(want),
            "{file}: {err:?} should contain {want:?}"
        );
    }
}
