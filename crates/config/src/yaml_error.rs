//! Parse errors of serde-saphyr reworded for people writing YAML: one line, the
//! location printed separately, without the library's hints for programmers. Shared by
//! the configuration and the rule-file loaders.

/// Folds a multi-line message onto one line, so that every error is one line.
pub fn single_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, part) in s
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .enumerate()
    {
        if i > 0 {
            out.push_str("; ");
        }
        out.push_str(part);
    }
    out
}

/// serde_path_to_error writes `.` for the root and `?` for unknown positions; `Spanned`
/// wrappers add nothing users wrote.
pub fn clean_path(p: &str) -> String {
    if p == "." || p == "?" {
        return String::new();
    }
    p.replace(".value", "").replace(".?", "")
}

/// The bare message of a parse error, without the location (printed separately) and without
/// serde's long list of expected fields.
pub fn saphyr_message(e: &serde_saphyr::Error) -> String {
    let full = single_line(&e.without_snippet().to_string());
    let mut msg = match full.find(" at line ") {
        Some(i) => full[..i].to_string(),
        None => full,
    };
    if let Some(i) = msg.find(", expected one of") {
        msg.truncate(i);
    }
    if let Some(i) = msg.find(", expected nothing") {
        msg.truncate(i);
    }
    // Hints meant for programmers using the YAML library, not for people writing configs.
    for hint in [", set DuplicateKeyPolicy", ". If you just use !!binary"] {
        if let Some(i) = msg.find(hint) {
            msg.truncate(i);
        }
    }
    msg
}
