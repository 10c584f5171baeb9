//! Shared helpers of the behaviour tests: where the conformance data is, and running a page.

use std::path::PathBuf;

use exposition::{Format, Mode, ParseError, Parser};

/// The conformance data folder; panics with a clear message when it is missing.
pub fn conformance_dir() -> PathBuf {
    let dir = std::env::var_os("FLEETWATCH_CONFORMANCE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../../shared/conformance"
            ))
        });
    assert!(
        dir.is_dir(),
        "conformance data not found at {} (set FLEETWATCH_CONFORMANCE)",
        dir.display()
    );
    dir
}

/// Parses a whole page; returns the number of samples or the first error.
pub fn parse_all(body: &[u8], format: Format, mode: Mode) -> Result<usize, ParseError> {
    let mut p = Parser::new(body, format, mode);
    let mut samples = 0;
    while let Some(e) = p.next() {
        if let exposition::Entry::Sample(_) = e? {
            samples += 1;
        }
    }
    Ok(samples)
}
