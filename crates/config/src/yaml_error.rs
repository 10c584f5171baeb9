//! Parse errors of serde-saphyr reworded for people writing YAML: one line, the
//! location printed separately, without the library's hints for programmers. Shared by
//! the configuration and the rule-file loaders.

/// Strict parse options for one user-written YAML document: duplicate keys refused, no
/// source snippet in messages (locations are printed separately), and a budget bounding
/// nesting, nodes, aliases and scalar bytes.
pub fn strict_options(max_nodes: usize, max_scalar_bytes: usize) -> serde_saphyr::Options {
    let mut options = serde_saphyr::Options::default();
    options.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::Error;
    options.with_snippet = false;
    options.budget = serde_saphyr::budget! {
        max_depth: 64,
        max_nodes: max_nodes,
        max_aliases: 10_000,
        max_anchors: 10_000,
        max_total_scalar_bytes: max_scalar_bytes,
        max_documents: 1,
    };
    options
}

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
