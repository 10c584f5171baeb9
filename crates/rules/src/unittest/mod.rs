//! Rule unit tests: `fleetwatch test rules`, promtool's `test rules` format and semantics
//! (Prometheus 3).
//!
//! - [`file`]: the test file format ([`parse_test_file`] → [`TestFile`] of [`TestGroup`]s).
//! - `store`: the in-memory store a test group reads and writes, input loaded lazily.
//! - `eval`: one test group — the evaluation loop, alert and expression checks.
//! - [`compare`]: expected against got, and promtool's failure messages.
//! - [`test_file`] runs one file; [`run_files`] runs several and prints as promtool does.

pub mod compare;
mod eval;
pub mod file;
#[cfg(test)]
mod histogram_tests;
mod store;

use std::collections::HashMap;
use std::io::{self, Write};
use std::path::Path;

use model::PromRegex;

use crate::file::{LoadOptions, RuleFile, load_rule_file};
pub use file::{
    AlertTestCase, ExpAlert, ExpSample, InputSeries, PromqlTestCase, TestFile, TestGroup,
    parse_test_file,
};

/// How files are run.
#[derive(Clone, Default)]
pub struct UnitTestOptions {
    /// Only test groups whose name matches (promtool's `--run`).
    pub run: Option<RunFilter>,
    /// How rule files are read (`--ignore-unknown-fields`).
    pub load: LoadOptions,
}

/// `--run` patterns: a test group runs when its name matches any of them (unanchored).
#[derive(Clone)]
pub struct RunFilter(PromRegex);

impl RunFilter {
    /// Compiles the patterns (joined with `|`, as promtool does).
    pub fn new(patterns: &[String]) -> Result<RunFilter, String> {
        let joined = patterns.join("|");
        PromRegex::new(&format!(".*(?:{joined}).*"))
            .map(RunFilter)
            .map_err(|e| format!("invalid --run pattern {joined:?}: {}", e.reason))
    }

    /// True when `name` contains a match.
    pub fn matches(&self, name: &str) -> bool {
        self.0.is_match(name)
    }
}

/// The outcome of one test file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FileReport {
    /// Warnings (rule file patterns without matches, data not loaded).
    pub warnings: Vec<String>,
    /// Failures in promtool's wording; empty when every test passed.
    pub errors: Vec<String>,
}

impl FileReport {
    /// True when every test passed.
    pub fn passed(&self) -> bool {
        self.errors.is_empty()
    }
}

/// Runs every test group of the test file at `path`.
pub fn test_file(path: &str, opts: &UnitTestOptions) -> FileReport {
    let mut report = FileReport::default();
    let text = match std::fs::read(path) {
        Ok(b) => match String::from_utf8(b) {
            Ok(t) => t,
            Err(_) => {
                report
                    .errors
                    .push(format!("{path}: file is not valid UTF-8"));
                return report;
            }
        },
        Err(e) => {
            report.errors.push(format!("{path}: {e}"));
            return report;
        }
    };
    let file = match parse_test_file(&text, path) {
        Ok(f) => f,
        Err(errs) => {
            report.errors = errs;
            return report;
        }
    };
    let dir = Path::new(path).parent().map(Path::to_path_buf);
    let mut rule_files = Vec::new();
    for pattern in &file.rule_files {
        let resolved = match &dir {
            Some(d) if !pattern.is_empty() && !Path::new(pattern).is_absolute() => {
                join(&d.to_string_lossy(), pattern)
            }
            _ => pattern.clone(),
        };
        match crate::glob::glob(&resolved) {
            Ok(m) if m.is_empty() => report
                .warnings
                .push(format!("no file match pattern {resolved}")),
            Ok(m) => rule_files.extend(m),
            Err(e) => {
                report.errors.push(format!("{path}: rule_files: {e}"));
                return report;
            }
        }
    }
    let mut group_order = HashMap::new();
    for (i, g) in file.group_eval_order.iter().enumerate() {
        if group_order.insert(g.clone(), i).is_some() {
            report
                .errors
                .push(format!("group name repeated in evaluation order: {g}"));
            return report;
        }
    }
    let rules = load_rules(&rule_files, opts.load);
    let ctx = eval::FileContext {
        name: path,
        file: &file,
        rules: &rules,
        group_order: &group_order,
    };
    for tg in &file.tests {
        if let Some(run) = &opts.run
            && !run.matches(&tg.name)
        {
            continue;
        }
        let errs = eval::run_test_group(&ctx, tg);
        report.errors.extend(errs);
    }
    report
}

/// The rule files, or the problems of the first one that does not load (as Prometheus's
/// rule manager stops at it).
fn load_rules(files: &[String], opts: LoadOptions) -> Result<Vec<RuleFile>, Vec<String>> {
    let mut out = Vec::with_capacity(files.len());
    for f in files {
        match load_rule_file(f, opts) {
            Ok(rf) => out.push(rf),
            Err(errs) => return Err(errs.0.iter().map(ToString::to_string).collect()),
        }
    }
    Ok(out)
}

/// Go's `filepath.Join(dir, name)` for a relative `name`: no `./` prefix for the current
/// directory.
fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() || dir == "." {
        name.trim_start_matches("./").to_string()
    } else {
        format!(
            "{}/{}",
            dir.trim_end_matches('/'),
            name.trim_start_matches("./")
        )
    }
}

/// Runs each file and prints as `promtool test rules` does: `Unit Testing:  FILE`, then
/// `  SUCCESS`, or `  FAILED:` and each failure (on `err`) followed by an empty line; an
/// empty line after each file. Returns the exit code: 0 when every file passed, else 1.
pub fn run_files(
    files: &[String],
    opts: &UnitTestOptions,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<i32> {
    let mut failed = false;
    for f in files {
        writeln!(out, "Unit Testing:  {f}")?;
        out.flush()?;
        let report = test_file(f, opts);
        for w in &report.warnings {
            writeln!(err, "  WARNING: {w}")?;
        }
        if report.passed() {
            writeln!(out, "  SUCCESS")?;
        } else {
            failed = true;
            writeln!(err, "  FAILED:")?;
            for e in &report.errors {
                writeln!(err, "{e}")?;
                err.flush()?;
                writeln!(out)?;
                out.flush()?;
            }
        }
        writeln!(out)?;
        out.flush()?;
    }
    Ok(if failed { 1 } else { 0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_filter_is_unanchored() {
        let r = RunFilter::new(&["correct".to_string(), "^w".to_string()]).expect("compiles");
        assert!(r.matches("correct test"));
        assert!(r.matches("wrong test"));
        assert!(!r.matches("a wrong test"));
        assert!(RunFilter::new(&["(".to_string()]).is_err());
    }

    #[test]
    fn joins_like_go() {
        assert_eq!(join("", "r.yml"), "r.yml");
        assert_eq!(join(".", "./r.yml"), "r.yml");
        assert_eq!(join("a/b/", "r.yml"), "a/b/r.yml");
    }
}
