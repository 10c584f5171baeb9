//! `fleetwatch promqltest FILE...`: runs Prometheus's PromQL test scripts
//! against the engine and reports each failing case (exit 0 only when none fails).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use promql::promqltest::{ReportOptions, RunOptions, run_files};

/// Arguments of `fleetwatch promqltest`.
#[derive(clap::Args, Debug)]
pub struct PromqltestArgs {
    /// Skip the extra checks: the `@` re-runs and the range-mode cross-check of instant cases.
    #[arg(long)]
    pub no_extra_checks: bool,
    /// Also print a total line per file.
    #[arg(long)]
    pub per_file: bool,
    /// Do not print a line per skipped case (the counts per reason are still printed).
    #[arg(long)]
    pub no_skipped_cases: bool,
    /// The `.test` scripts to run.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

/// Runs the scripts; exit 0 when no case failed, 1 otherwise.
pub fn run(args: PromqltestArgs) -> ExitCode {
    let opts = RunOptions {
        extra_checks: !args.no_extra_checks,
    };
    let report = ReportOptions {
        skipped_cases: !args.no_skipped_cases,
        per_file: args.per_file,
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let result = run_files(&args.files, opts, report, &mut out);
    let _ = out.flush();
    match result {
        Ok(summary) if summary.failed == 0 => ExitCode::SUCCESS,
        Ok(_) => ExitCode::from(1),
        Err(e) => {
            eprintln!("error: writing the report: {e}");
            ExitCode::from(1)
        }
    }
}
