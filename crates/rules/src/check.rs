//! `check rules`: validates rule files and reports like `promtool check rules`
//! (`Checking FILE`, `  SUCCESS: N rules found` or `  FAILED:` and the errors; the
//! duplicate-rules lint; exit code 0, 1, or 3 for lint problems with `--lint-fatal`).

use std::collections::BTreeMap;
use std::io::Write;

use crate::file::{LoadOptions, RuleFile, load_rule_file, parse_rule_file};

/// How `check rules` checks.
#[derive(Debug, Clone, Copy)]
pub struct CheckOptions {
    /// The `duplicate-rules` lint (promtool's default `--lint=duplicate-rules`).
    pub lint_duplicates: bool,
    /// Lint problems exit with 3 (`--lint-fatal`).
    pub lint_fatal: bool,
    /// How files are read (`--ignore-unknown-fields`).
    pub load: LoadOptions,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            lint_duplicates: true,
            lint_fatal: false,
            load: LoadOptions::default(),
        }
    }
}

/// What a check found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Outcome {
    failed: bool,
    has_errors: bool,
}

/// A rule to check or the text of standard input.
pub enum CheckInput<'a> {
    /// A file to read.
    File(&'a str),
    /// Text read from standard input.
    Stdin(&'a str),
}

/// Checks every input, writing promtool's report; returns the exit code.
pub fn check_rules(
    inputs: &[CheckInput<'_>],
    opts: &CheckOptions,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    let mut total = Outcome::default();
    for input in inputs {
        let o = check_one(input, opts, out, err);
        total.failed |= o.failed;
        total.has_errors |= o.has_errors;
    }
    if total.failed && total.has_errors {
        1
    } else if total.failed && opts.lint_fatal {
        3
    } else {
        0
    }
}

fn check_one(
    input: &CheckInput<'_>,
    opts: &CheckOptions,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Outcome {
    let (name, loaded) = match input {
        CheckInput::File(f) => (*f, load_rule_file(f, opts.load)),
        CheckInput::Stdin(text) => (
            "standard input",
            parse_rule_file(text, "standard input", opts.load),
        ),
    };
    // Write failures (a closed pipe) cannot be reported anywhere better: ignore them.
    let _ = writeln!(out, "Checking {name}");
    let file = match loaded {
        Ok(f) => f,
        Err(e) => {
            let _ = writeln!(err, "  FAILED:");
            for e in &e.0 {
                let _ = writeln!(err, "{e}");
            }
            // promtool moves on without the blank line here.
            return Outcome {
                failed: true,
                has_errors: true,
            };
        }
    };
    let mut outcome = Outcome::default();
    match opts
        .lint_duplicates
        .then(|| duplicates_message(&file))
        .flatten()
    {
        Some(msg) => {
            let _ = writeln!(err, "  FAILED:");
            let _ = writeln!(err, "lint error {msg}");
            outcome.failed = true;
        }
        None => {
            let _ = writeln!(out, "  SUCCESS: {} rules found", file.rule_count());
        }
    }
    let _ = writeln!(out);
    outcome
}

/// promtool's duplicate-rules lint: rules with the same name and labels, each listed once.
fn duplicates_message(file: &RuleFile) -> Option<String> {
    let mut rules: Vec<(&str, &BTreeMap<String, String>)> = file
        .groups
        .iter()
        .flat_map(|g| g.rules.iter().map(|r| (r.name(), &r.labels)))
        .collect();
    rules.sort();
    let mut dups: Vec<(&str, &BTreeMap<String, String>)> = Vec::new();
    for w in rules.windows(2) {
        if w[0] == w[1] && dups.last() != Some(&w[1]) {
            dups.push(w[1]);
        }
    }
    if dups.is_empty() {
        return None;
    }
    let mut msg = format!("{} duplicate rule(s) found.\n", dups.len());
    for (metric, labels) in dups {
        msg.push_str(&format!("Metric: {metric}\nLabel(s):\n"));
        for (k, v) in labels {
            msg.push_str(&format!("\t{k}: {v}\n"));
        }
    }
    msg.push_str("Might cause inconsistency while recording expressions");
    Some(msg)
}
