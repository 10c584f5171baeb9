//! The same unit-test files through Debian's `promtool test rules` (Prometheus 2.42, at
//! `/usr/bin/promtool` or `$PROMTOOL`) and through `rules::unittest`: both must give the
//! exit code each file is written for, and for files whose messages come from the runner
//! alone (not the engine's or the series parser's wording), the same output.
//!
//! The files (tests/testdata/unittest/, see its README.md) keep to what Prometheus 2 and 3
//! agree on: evaluation times fall between samples and no sample sits on a range window's
//! start or at the lookback edge — Prometheus 3's windows are left-open, 2's closed — and
//! every test group sets `interval` (2.42 does not default it). 2.42 knows
//! `keep_firing_for`, so it is covered too; `fuzzy_compare`, `start_timestamp` and native
//! histograms are not (2.42 lacks them; promtool_testdata.rs covers the first two).

use std::path::{Path, PathBuf};
use std::process::Command;

use rules::unittest::{UnitTestOptions, run_files};

/// File, intended exit code, and whether promtool's output must match ours word for word.
const FILES: &[(&str, i32, bool)] = &[
    ("pass_alerts.yml", 0, true),
    ("pass_recording.yml", 0, true),
    ("pass_keep_firing.yml", 0, true),
    ("fail_alert.yml", 1, true),
    ("fail_expr.yml", 1, true),
    ("fail_group_order.yml", 1, true),
    // The parse error is the series parser's: promtool says "1:33: parse error: ...".
    ("fail_bad_series.yml", 1, false),
    // The engine lists the duplicate series in another order.
    ("fail_rule_error.yml", 1, false),
];

const DIR: &str = "tests/testdata/unittest";

fn promtool() -> PathBuf {
    let p = std::env::var_os("PROMTOOL")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/promtool"));
    assert!(
        p.is_file(),
        "promtool not found at {} (install Debian's prometheus package or set PROMTOOL)",
        p.display()
    );
    p
}

#[test]
fn promtool_and_runner_agree() {
    let promtool = promtool();
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    assert_eq!(
        std::env::current_dir().ok().as_deref(),
        Some(crate_dir),
        "tests run from the crate directory"
    );
    let mut wrong = Vec::new();
    for (name, want, same_output) in FILES {
        // The same relative path for both, so that `Unit Testing:  FILE` reads the same.
        let rel = format!("{DIR}/{name}");
        let theirs = Command::new(&promtool)
            .args(["test", "rules", &rel])
            .current_dir(crate_dir)
            .output()
            .unwrap_or_else(|e| panic!("running {}: {e}", promtool.display()));
        let their_code = theirs.status.code().unwrap_or(-1);
        let their_out = String::from_utf8_lossy(&theirs.stdout);
        let their_err = String::from_utf8_lossy(&theirs.stderr);

        let path = crate_dir.join(&rel);
        assert!(path.is_file(), "{} is missing", path.display());
        let (mut out, mut err) = (Vec::new(), Vec::new());
        // Cargo runs tests from the crate directory: the relative path works for us too.
        let our_code = run_files(
            std::slice::from_ref(&rel),
            &UnitTestOptions::default(),
            &mut out,
            &mut err,
        )
        .unwrap_or_else(|e| panic!("writing to memory: {e}"));
        let our_out = String::from_utf8_lossy(&out);
        let our_err = String::from_utf8_lossy(&err);

        println!("{name:<24} intended {want}  promtool 2.42 {their_code}  ours {our_code}");
        if their_code != *want {
            wrong.push(format!(
                "{name}: promtool exits {their_code}, intended {want}:\n{their_out}{their_err}"
            ));
        }
        if our_code != *want {
            wrong.push(format!(
                "{name}: we exit {our_code}, intended {want}:\n{our_out}{our_err}"
            ));
        }
        if *same_output && (their_out != our_out || their_err != our_err) {
            wrong.push(format!(
                "{name}: output differs\n--- promtool stdout\n{their_out}--- ours\n{our_out}--- promtool stderr\n{their_err}--- ours\n{our_err}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
}

#[test]
fn every_test_file_is_in_the_table() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(DIR);
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let name = entry
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .file_name()
            .to_string_lossy()
            .to_string();
        if name.starts_with("pass_") || name.starts_with("fail_") {
            assert!(
                FILES.iter().any(|(f, _, _)| *f == name),
                "{name} is not in FILES"
            );
        }
    }
}
