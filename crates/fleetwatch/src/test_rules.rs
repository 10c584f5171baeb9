//! `fleetwatch test rules`: runs rule unit-test files as `promtool test rules` does.

use std::process::ExitCode;

use rules::LoadOptions;
use rules::unittest::{RunFilter, UnitTestOptions, run_files};

/// `test rules` arguments, promtool's.
#[derive(clap::Args)]
pub struct TestRulesArgs {
    /// The unit test files.
    #[arg(required = true)]
    files: Vec<String>,
    /// Only run test groups whose names match this regular expression (repeatable).
    #[arg(long = "run")]
    run: Vec<String>,
    /// Ignore unknown fields in the rule files.
    #[arg(long)]
    ignore_unknown_fields: bool,
}

/// Runs the files; exit 0 when every test passes, 1 otherwise.
pub fn run(args: TestRulesArgs) -> ExitCode {
    let run = if args.run.is_empty() {
        None
    } else {
        match RunFilter::new(&args.run) {
            Ok(r) => Some(r),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(1);
            }
        }
    };
    let opts = UnitTestOptions {
        run,
        load: LoadOptions {
            ignore_unknown_fields: args.ignore_unknown_fields,
            ..LoadOptions::default()
        },
    };
    // promtool evaluates with a no-op logger: failed rules are reported once, as test
    // failures, not also as log lines.
    let result =
        tracing::subscriber::with_default(tracing::subscriber::NoSubscriber::default(), || {
            run_files(
                &args.files,
                &opts,
                &mut std::io::stdout().lock(),
                &mut std::io::stderr().lock(),
            )
        });
    match result {
        Ok(0) => ExitCode::SUCCESS,
        Ok(_) => ExitCode::from(1),
        Err(e) => {
            eprintln!("error: writing the report: {e}");
            ExitCode::from(1)
        }
    }
}
