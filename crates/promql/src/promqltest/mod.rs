//! A runner for Prometheus's PromQL test scripts (`promqltest` format).
//!
//! - [`script`]: lines, blocks, `clear` and `load`;
//! - [`case`]: `eval` commands and their expectations;
//! - [`series`]: series descriptions, numbers and durations;
//! - [`store`]: the in-memory store scripts load into;
//! - [`compare`]: errors, annotations and values against expectations;
//! - [`rewrite`]: the AST walks (`@` pinning, selected metrics);
//! - [`run`]: executing a script.
//!
//! [`run_files`] runs scripts and prints one line per failing or skipped
//! case (`FILE:LINE: QUERY: what differs`), the skip counts and a total.

pub mod case;
pub mod compare;
pub mod rewrite;
pub mod run;
pub mod script;
pub mod series;
pub mod store;

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

pub use run::{
    CaseResult, Outcome, RunOptions, ScriptResult, SkipReason, run_script, test_engine_options,
};
pub use store::MemStore;

/// Totals over the files run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Cases that passed.
    pub passed: usize,
    /// Cases that failed, plus scripts that could not be read.
    pub failed: usize,
    /// Skipped cases by reason.
    pub skipped: BTreeMap<SkipReason, usize>,
}

impl Summary {
    /// All skipped cases.
    pub fn skipped_total(&self) -> usize {
        self.skipped.values().sum()
    }

    fn add(&mut self, other: &Summary) {
        self.passed += other.passed;
        self.failed += other.failed;
        for (r, n) in &other.skipped {
            *self.skipped.entry(*r).or_default() += n;
        }
    }
}

/// What to print besides failures and totals.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReportOptions {
    /// Print a line per skipped case.
    pub skipped_cases: bool,
    /// Print a total line per file.
    pub per_file: bool,
}

/// Runs each file, writing the report to `out`; returns the totals.
pub fn run_files(
    paths: &[PathBuf],
    opts: RunOptions,
    report: ReportOptions,
    out: &mut dyn Write,
) -> io::Result<Summary> {
    let mut total = Summary::default();
    for path in paths {
        let file = run_file(path, opts, report, out)?;
        if report.per_file {
            writeln!(out, "{}: {}", path.display(), totals_line(&file))?;
        }
        total.add(&file);
    }
    for reason in [
        SkipReason::NativeHistogram,
        SkipReason::Unparsed,
        SkipReason::StartTimestamps,
    ] {
        let n = total.skipped.get(&reason).copied().unwrap_or(0);
        writeln!(out, "skipped {}: {n}", reason.as_str())?;
    }
    writeln!(out, "{}", totals_line(&total))?;
    Ok(total)
}

/// `N passed, M failed, K skipped`.
pub fn totals_line(s: &Summary) -> String {
    format!(
        "{} passed, {} failed, {} skipped",
        s.passed,
        s.failed,
        s.skipped_total()
    )
}

fn run_file(
    path: &Path,
    opts: RunOptions,
    report: ReportOptions,
    out: &mut dyn Write,
) -> io::Result<Summary> {
    let mut sum = Summary::default();
    let shown = path.display();
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            writeln!(out, "{shown}: cannot read: {e}")?;
            sum.failed += 1;
            return Ok(sum);
        }
    };
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let result = run_script(name, &text, opts);
    for c in &result.cases {
        match &c.outcome {
            Outcome::Pass => sum.passed += 1,
            Outcome::Fail(msg) => {
                sum.failed += 1;
                writeln!(out, "{shown}:{}: {}: {}", c.line, c.query, one_line(msg))?;
            }
            Outcome::Skip(r) => {
                *sum.skipped.entry(*r).or_default() += 1;
                if report.skipped_cases {
                    writeln!(
                        out,
                        "{shown}:{}: skipped {}: {}",
                        c.line,
                        r.as_str(),
                        c.query
                    )?;
                }
            }
        }
    }
    if let Some((line, msg)) = &result.error {
        sum.failed += 1;
        writeln!(out, "{shown}:{line}: script error: {}", one_line(msg))?;
    }
    Ok(sum)
}

fn one_line(s: &str) -> String {
    s.replace('\n', "\\n")
}

/// Command-line entry shared by the example and the `fleetwatch promqltest`
/// subcommand: `[--no-extra-checks] [--per-file] [--no-skipped-cases] FILE...`.
/// Returns the process exit code: 0 exactly when nothing failed.
pub fn cli_main(args: impl IntoIterator<Item = String>) -> i32 {
    let mut opts = RunOptions::default();
    let mut report = ReportOptions {
        skipped_cases: true,
        per_file: false,
    };
    let mut files = Vec::new();
    for a in args {
        match a.as_str() {
            "--no-extra-checks" => opts.extra_checks = false,
            "--per-file" => report.per_file = true,
            "--no-skipped-cases" => report.skipped_cases = false,
            "-h" | "--help" => {
                println!(
                    "usage: promqltest [--no-extra-checks] [--per-file] [--no-skipped-cases] FILE..."
                );
                return 0;
            }
            s if s.starts_with("--") => {
                eprintln!("error: unknown option {s}");
                return 2;
            }
            _ => files.push(PathBuf::from(a)),
        }
    }
    if files.is_empty() {
        eprintln!(
            "usage: promqltest [--no-extra-checks] [--per-file] [--no-skipped-cases] FILE..."
        );
        return 2;
    }
    let stdout = io::stdout();
    let mut out = stdout.lock();
    match run_files(&files, opts, report, &mut out) {
        Ok(s) if s.failed == 0 => 0,
        Ok(_) => 1,
        Err(e) => {
            eprintln!("error: writing the report: {e}");
            1
        }
    }
}
