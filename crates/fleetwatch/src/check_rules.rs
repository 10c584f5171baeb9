//! `fleetwatch check rules`: validates rule files as `promtool check rules` does.

use std::io::Read;
use std::process::ExitCode;

use rules::{CheckInput, CheckOptions, LoadOptions, check_rules};

/// `check rules` arguments, promtool's.
#[derive(clap::Args)]
pub struct CheckRulesArgs {
    /// The rule files to check; standard input when none is given.
    files: Vec<String>,
    /// Linting checks to apply: all, duplicate-rules, none (comma-separated).
    #[arg(long, default_value = "duplicate-rules")]
    lint: String,
    /// Make lint errors exit with exit code 3.
    #[arg(long)]
    lint_fatal: bool,
    /// Ignore unknown fields in the rule files.
    #[arg(long)]
    ignore_unknown_fields: bool,
}

/// Checks the files (or standard input); exit 0 valid, 1 invalid, 3 lint problems with
/// `--lint-fatal`.
pub fn run(args: CheckRulesArgs) -> ExitCode {
    let mut lint_duplicates = false;
    for opt in args.lint.split(',') {
        match opt {
            "all" | "duplicate-rules" => lint_duplicates = true,
            "none" => {}
            other => println!("WARNING: unknown lint option: {other:?}"),
        }
    }
    let opts = CheckOptions {
        lint_duplicates,
        lint_fatal: args.lint_fatal,
        load: LoadOptions {
            ignore_unknown_fields: args.ignore_unknown_fields,
            ..LoadOptions::default()
        },
    };
    let mut stdin = String::new();
    let inputs: Vec<CheckInput<'_>> = if args.files.is_empty() {
        if let Err(e) = std::io::stdin().read_to_string(&mut stdin) {
            println!("Checking standard input");
            eprintln!("  FAILED: {e}");
            return ExitCode::from(1);
        }
        vec![CheckInput::Stdin(&stdin)]
    } else {
        args.files.iter().map(|f| CheckInput::File(f)).collect()
    };
    let code = check_rules(
        &inputs,
        &opts,
        &mut std::io::stdout().lock(),
        &mut std::io::stderr().lock(),
    );
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}
