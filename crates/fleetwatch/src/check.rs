//! `fleetwatch check config`: validates configuration files as promtool does.

use std::path::PathBuf;
use std::process::ExitCode;

/// Checks each file; exit 0 when all are valid, 1 when any is not.
pub fn config(files: &[PathBuf]) -> ExitCode {
    let mut ok = true;
    for f in files {
        println!("Checking {}", f.display());
        match config::check_config(f) {
            Ok(warnings) => {
                for w in warnings {
                    eprintln!("  WARNING: {w}");
                }
                println!(
                    " SUCCESS: {} is valid prometheus config file syntax",
                    f.display()
                );
            }
            Err(e) => {
                ok = false;
                eprintln!("  FAILED: {e}");
            }
        }
        println!();
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
