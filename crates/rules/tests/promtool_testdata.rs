//! promtool's own rule unit-test files (`cmd/promtool/testdata` of Prometheus v3.14), each
//! run with the options promtool's tests (`cmd/promtool/unittest_test.go`) give it and
//! checked against the verdict they expect.
//!
//! The files come from `$FLEETWATCH_CONFORMANCE/prometheus/cmd/promtool/testdata/`
//! (default `../../../shared/conformance` from this crate); a missing directory fails.
//!
//! Not in the table: promtool's runs with the `@` modifier or negative offsets disabled
//! (`at-modifier-test.yml` and `negative-offset-test.yml` expecting 1): they are engine
//! options promtool's command line always enables, and our engine has no switch for them.
//! The JUnit XML run is not covered either (`--junit` is not supported).

use std::path::PathBuf;

use rules::LoadOptions;
use rules::unittest::{RunFilter, UnitTestOptions, test_file};

fn testdata() -> PathBuf {
    let root = std::env::var_os("FLEETWATCH_CONFORMANCE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance")
        });
    let dir = root.join("prometheus/cmd/promtool/testdata");
    assert!(
        dir.is_dir(),
        "promtool's testdata is missing at {} (set FLEETWATCH_CONFORMANCE)",
        dir.display()
    );
    dir
}

/// One run of promtool's test table.
struct Case {
    /// The test's name in unittest_test.go.
    name: &'static str,
    file: &'static str,
    /// `--run` patterns.
    run: &'static [&'static str],
    ignore_unknown_fields: bool,
    /// The exit code promtool's test expects.
    want: i32,
}

const fn case(name: &'static str, file: &'static str, want: i32) -> Case {
    Case {
        name,
        file,
        run: &[],
        ignore_unknown_fields: false,
        want,
    }
}

const CASES: &[Case] = &[
    // TestRulesUnitTest.
    case("Passing Unit Tests", "unittest.yml", 0),
    case("Long evaluation interval", "long-period.yml", 0),
    case("Bad input series", "bad-input-series.yml", 1),
    case("Bad PromQL", "bad-promql.yml", 1),
    case("Bad rules (syntax error)", "bad-rules-syntax-test.yml", 1),
    case(
        "Bad rules (error evaluating)",
        "bad-rules-error-test.yml",
        1,
    ),
    case("Simple failing test", "failing.yml", 1),
    case("Enabled feature (@ modifier)", "at-modifier-test.yml", 0),
    case(
        "Enabled feature (negative offset)",
        "negative-offset-test.yml",
        0,
    ),
    case("No test group interval", "no-test-group-interval.yml", 0),
    case("Start time tests", "start-time-test.yml", 0),
    // TestRulesUnitTestRun.
    case("Test all without run arg", "rules_run.yml", 1),
    Case {
        run: &["correct", "wrong"],
        ..case("Test all with run arg", "rules_run.yml", 1)
    },
    Case {
        run: &["correct"],
        ..case("Test correct", "rules_run.yml", 0)
    },
    Case {
        run: &["wrong"],
        ..case("Test wrong", "rules_run.yml", 1)
    },
    Case {
        ignore_unknown_fields: true,
        ..case("Test all with extra fields", "rules_run_extrafields.yml", 0)
    },
    case(
        "Test precise floating point comparison expected failure",
        "rules_run_no_fuzzy.yml",
        1,
    ),
    Case {
        run: &["correct"],
        ..case(
            "Test fuzzy floating point comparison correct match",
            "rules_run_fuzzy.yml",
            0,
        )
    },
    Case {
        run: &["wrong"],
        ..case(
            "Test fuzzy floating point comparison wrong match",
            "rules_run_fuzzy.yml",
            1,
        )
    },
];

#[test]
fn promtool_unit_test_files_give_promtools_verdicts() {
    let dir = testdata();
    let mut table = Vec::new();
    let mut wrong = Vec::new();
    for c in CASES {
        let path = dir.join(c.file);
        let opts = UnitTestOptions {
            run: (!c.run.is_empty()).then(|| {
                let pats: Vec<String> = c.run.iter().map(|s| s.to_string()).collect();
                RunFilter::new(&pats).unwrap_or_else(|e| panic!("{e}"))
            }),
            load: LoadOptions {
                ignore_unknown_fields: c.ignore_unknown_fields,
                ..LoadOptions::default()
            },
        };
        let report = test_file(&path.to_string_lossy(), &opts);
        let got = if report.passed() { 0 } else { 1 };
        table.push(format!(
            "{:<58} {:<28} want {} got {}",
            c.name, c.file, c.want, got
        ));
        if got != c.want {
            wrong.push(format!(
                "{} ({}): want exit {}, got {}: {:#?}",
                c.name, c.file, c.want, got, report.errors
            ));
        }
    }
    println!("{}", table.join("\n"));
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// promtool's failure messages, word for word, for the file whose failures depend on
/// nothing but the runner (v3.14's formats; promtool 2.42 prints the same).
#[test]
fn failing_yml_reports_as_promtool_does() {
    let path = testdata().join("failing.yml");
    let report = test_file(&path.to_string_lossy(), &UnitTestOptions::default());
    let want = [
        "    name: Failing test,\n    alertname: Test, time: 0s, \n        exp:[\n            0:\n              Labels:{alertname=\"Test\"}\n              Annotations:{}\n            ], \n        got:[]",
        "    expr: \"test\", time: 0s,\n        exp: {__name__=\"test\"} 1E+00\n        got: {__name__=\"test\"} 0E+00",
        "    name: Failing alert test,\n    alertname: InstanceDown, time: 5m, \n        exp:[], \n        got:[\n            0:\n              Labels:{alertname=\"InstanceDown\", job=\"test\", severity=\"page\"}\n              Annotations:{description=\" of job test has been down for more than 5 minutes.\", summary=\"Instance  down\"}\n            ]",
        "    name: Failing alert test,\n    alertname: AlwaysFiring, time: 5m, \n        exp:[], \n        got:[\n            0:\n              Labels:{alertname=\"AlwaysFiring\"}\n              Annotations:{}\n            ]",
    ];
    assert_eq!(report.errors, want);
}

#[test]
fn rule_and_query_errors_read_as_promtools() {
    let dir = testdata();
    let run = |f: &str| test_file(&dir.join(f).to_string_lossy(), &UnitTestOptions::default());
    let r = run("bad-rules-error-test.yml");
    assert_eq!(r.errors.len(), 1, "{:?}", r.errors);
    assert!(
        r.errors[0].starts_with(
            "    rule: joined, time: 0s, err: found duplicate series for the match group {a=\"1\"} on the right hand-side of the operation:"
        ),
        "{}",
        r.errors[0]
    );
    let r = run("bad-promql.yml");
    assert_eq!(r.errors.len(), 1, "{:?}", r.errors);
    assert!(
        r.errors[0].starts_with(
            "    expr: \"join_1 + on(a) join_2\", time: 0s, err: found duplicate series"
        ),
        "{}",
        r.errors[0]
    );
    let r = run("bad-input-series.yml");
    assert_eq!(r.errors.len(), 1, "{:?}", r.errors);
    assert!(
        r.errors[0].contains("bad-input-series.yml:3: input series"),
        "{}",
        r.errors[0]
    );
    let r = run("bad-rules-syntax-test.yml");
    assert_eq!(r.errors.len(), 1, "{:?}", r.errors);
    assert!(
        r.errors[0].contains("bad-rules-syntax.yml:7: group \"bad-syntax\", rule 1, \"x\""),
        "{}",
        r.errors[0]
    );
}
