//! Rule files: promtool's test data loads or is refused as promtool would, and every
//! kube-prometheus rule pack (the `spec` of each PrometheusRule) loads.

use std::path::PathBuf;

use rules::{LoadOptions, load_rule_file, parse_rule_file};

/// The conformance data folder; the tests fail (never skip) when it is missing.
fn conformance() -> PathBuf {
    let dir = std::env::var_os("FLEETWATCH_CONFORMANCE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance")
        });
    assert!(
        dir.is_dir(),
        "conformance data not found at {} (set FLEETWATCH_CONFORMANCE)",
        dir.display()
    );
    dir
}

fn promtool_testdata(name: &str) -> PathBuf {
    conformance()
        .join("prometheus/cmd/promtool/testdata")
        .join(name)
}

#[test]
fn promtool_good_rule_files_load() {
    for (name, rules) in [
        ("rules.yml", 5),
        ("rules_duplicates.yml", 5),
        ("bad-rules-error.yml", 1),
    ] {
        let path = promtool_testdata(name);
        match load_rule_file(&path, LoadOptions::default()) {
            Ok(f) => {
                assert_eq!(f.rule_count(), rules, "{name}");
            }
            Err(e) => panic!("{name}: {e}"),
        }
    }
}

#[test]
fn large_rule_file_loads() {
    let f = load_rule_file(promtool_testdata("rules_large.yml"), LoadOptions::default())
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(f.rule_count() > 1000, "{}", f.rule_count());
}

#[test]
fn promtool_bad_rule_files_are_refused() {
    let e = load_rule_file(
        promtool_testdata("bad-rules-syntax.yml"),
        LoadOptions::default(),
    )
    .expect_err("bad syntax accepted");
    let msg = e.to_string();
    assert!(msg.contains("could not parse expression"), "{msg}");
    assert!(msg.contains("group \"bad-syntax\", rule 1, \"x\""), "{msg}");
    assert!(msg.contains("bad-rules-syntax.yml:7:"), "{msg}");
}

#[test]
fn unknown_fields_are_refused_unless_ignored() {
    let path = promtool_testdata("rules_extrafields.yml");
    let e = load_rule_file(&path, LoadOptions::default()).expect_err("extra fields accepted");
    let msg = e.to_string();
    assert!(msg.contains("rules_extrafields.yml:7:"), "{msg}");
    assert!(
        msg.contains("groups[0]: unknown field `namespace`"),
        "{msg}"
    );
    let lenient = LoadOptions {
        ignore_unknown_fields: true,
        ..LoadOptions::default()
    };
    let f = load_rule_file(&path, lenient).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(f.rule_count(), 5);
}

/// The `spec` of every PrometheusRule object in a manifest, as rule-file YAML text.
fn specs(manifest: &str) -> Vec<String> {
    #[derive(serde::Deserialize)]
    struct Object {
        kind: String,
        spec: serde_json::Value,
    }
    let objs: Vec<Object> = serde_saphyr::from_multiple(manifest).expect("manifest parses");
    objs.into_iter()
        .filter(|o| o.kind == "PrometheusRule")
        .map(|o| serde_json::to_string(&o.spec).expect("spec serialises"))
        .collect()
}

#[test]
fn kube_prometheus_rule_packs_load() {
    let dir = conformance().join("kube-prometheus/manifests");
    let mut files = 0;
    let mut rules = 0;
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .expect("manifests folder")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with("-prometheusRule.yaml"))
        })
        .collect();
    entries.sort();
    for path in entries {
        let text = std::fs::read_to_string(&path).expect("readable manifest");
        for spec in specs(&text) {
            // JSON is YAML: the spec goes through the same parser as a file would.
            let name = path.display().to_string();
            let f = parse_rule_file(&spec, &name, LoadOptions::default())
                .unwrap_or_else(|e| panic!("{e}"));
            files += 1;
            rules += f.rule_count();
        }
    }
    assert!(files >= 8, "only {files} rule packs found");
    assert!(rules > 200, "only {rules} rules found");
}

/// Runs `check rules` on promtool test files: (stdout, stderr, exit code).
fn check(names: &[&str], lint_fatal: bool) -> (String, String, i32) {
    let paths: Vec<String> = names
        .iter()
        .map(|n| promtool_testdata(n).display().to_string())
        .collect();
    let inputs: Vec<rules::CheckInput<'_>> =
        paths.iter().map(|p| rules::CheckInput::File(p)).collect();
    let opts = rules::CheckOptions {
        lint_fatal,
        ..rules::CheckOptions::default()
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = rules::check_rules(&inputs, &opts, &mut out, &mut err);
    (
        String::from_utf8_lossy(&out).into_owned(),
        String::from_utf8_lossy(&err).into_owned(),
        code,
    )
}

#[test]
fn check_rules_reports_like_promtool() {
    let path = |n: &str| promtool_testdata(n).display().to_string();
    let (out, err, code) = check(&["rules.yml"], false);
    assert_eq!(
        out,
        format!(
            "Checking {}\n  SUCCESS: 5 rules found\n\n",
            path("rules.yml")
        )
    );
    assert_eq!((err.as_str(), code), ("", 0));

    let (out, err, code) = check(&["rules_duplicates.yml"], false);
    assert_eq!(
        out,
        format!("Checking {}\n\n", path("rules_duplicates.yml"))
    );
    assert_eq!(
        err,
        "  FAILED:\nlint error 1 duplicate rule(s) found.\nMetric: job:test:count_over_time1m\nLabel(s):\nMight cause inconsistency while recording expressions\n"
    );
    assert_eq!(code, 0);
    assert_eq!(check(&["rules_duplicates.yml"], true).2, 3);

    let (out, err, code) = check(&["bad-rules-syntax.yml", "rules.yml"], false);
    assert!(
        out.starts_with(&format!(
            "Checking {}\nChecking ",
            path("bad-rules-syntax.yml")
        )),
        "{out}"
    );
    assert!(err.starts_with("  FAILED:\n"), "{err}");
    assert_eq!(code, 1);
}

#[test]
fn check_rules_refuses_bad_templates() {
    let (_, err, code) = check(&["rules-bad.yml"], false);
    assert_eq!(code, 1);
    assert!(
        err.contains("group \"alerts\", rule 1, \"InstanceDown\": annotation \"summary\":"),
        "{err}"
    );
}
