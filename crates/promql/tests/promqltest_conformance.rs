//! Runs every Prometheus PromQL test script in
//! `$FLEETWATCH_CONFORMANCE/prometheus/promql/promqltest/testdata` (default:
//! `/work/shared/conformance`, found relative to this crate) and asserts that
//! no case fails. A missing directory is a failure, not a skip: a silently
//! empty run would look like a pass.

use std::path::PathBuf;

use promql::promqltest::{ReportOptions, RunOptions, run_files, totals_line};

fn testdata_dir() -> PathBuf {
    let root = std::env::var_os("FLEETWATCH_CONFORMANCE").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance"),
        PathBuf::from,
    );
    root.join("prometheus/promql/promqltest/testdata")
}

#[test]
fn every_script_passes() {
    let dir = testdata_dir();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "test"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no .test files in {}", dir.display());
    let mut report = Vec::new();
    let summary = run_files(
        &files,
        RunOptions::default(),
        ReportOptions {
            skipped_cases: false,
            per_file: true,
        },
        &mut report,
    )
    .expect("writing to memory");
    let report = String::from_utf8_lossy(&report);
    assert_eq!(summary.failed, 0, "{report}\n{}", totals_line(&summary));
    // Skips are allowed for three reasons only; a runner that skipped far more
    // would pass vacuously. 1,107 cases ran at v3.14.0.
    assert!(summary.passed >= 1_100, "{}", totals_line(&summary));
}
