//! `rule_files` patterns to file names, with Go's `filepath.Glob` semantics: `*`, `?`,
//! `[...]` and `\` escapes within one path element, matches sorted, a pattern without
//! meta characters returned only when the file exists.

use std::path::{Path, PathBuf};

/// Files matching the patterns, in pattern order then name order, each once.
pub fn expand_rule_files(patterns: &[String]) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for pat in patterns {
        for f in glob(pat).map_err(|e| format!("error retrieving rule files for {pat}: {e}"))? {
            if !out.contains(&f) {
                out.push(f);
            }
        }
    }
    Ok(out)
}

fn has_meta(s: &str) -> bool {
    s.contains(['*', '?', '[', '\\'])
}

/// Go's `filepath.Glob` for one pattern.
pub fn glob(pattern: &str) -> Result<Vec<String>, String> {
    check_pattern(pattern)?;
    if !has_meta(pattern) {
        return Ok(if Path::new(pattern).symlink_metadata().is_ok() {
            vec![pattern.to_string()]
        } else {
            Vec::new()
        });
    }
    let (dir, file) = match pattern.rfind('/') {
        Some(0) => ("/", &pattern[1..]),
        Some(i) => (&pattern[..i], &pattern[i + 1..]),
        None => ("", pattern),
    };
    let dirs = if has_meta(dir) {
        glob(dir)?
    } else {
        vec![dir.to_string()]
    };
    let mut out = Vec::new();
    for d in dirs {
        let read_from = if d.is_empty() {
            PathBuf::from(".")
        } else {
            PathBuf::from(&d)
        };
        let Ok(entries) = std::fs::read_dir(&read_from) else {
            continue;
        };
        let mut names: Vec<String> = entries
            .filter_map(Result::ok)
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| matches(file, n))
            .collect();
        names.sort();
        for n in names {
            out.push(match d.as_str() {
                "" => n,
                "/" => format!("/{n}"),
                _ => format!("{d}/{n}"),
            });
        }
    }
    Ok(out)
}

/// Refuses what Go's `filepath.Match` calls a bad pattern (unclosed `[`, trailing `\`).
fn check_pattern(p: &str) -> Result<(), String> {
    let b = p.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' => {
                if i + 1 >= b.len() {
                    return Err("syntax error in pattern".into());
                }
                i += 2;
            }
            b'[' => match class_end(b, i + 1) {
                Some(end) => i = end + 1,
                None => return Err("syntax error in pattern".into()),
            },
            _ => i += 1,
        }
    }
    Ok(())
}

/// Index of the `]` closing a class whose content starts at `i`.
fn class_end(b: &[u8], mut i: usize) -> Option<usize> {
    if b.get(i) == Some(&b'^') {
        i += 1;
    }
    let start = i;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b']' if i > start => return Some(i),
            b'/' => return None,
            _ => i += 1,
        }
    }
    None
}

/// True when `name` matches the single-element pattern `pat`.
pub fn matches(pat: &str, name: &str) -> bool {
    let p: Vec<char> = pat.chars().collect();
    let n: Vec<char> = name.chars().collect();
    match_from(&p, &n)
}

fn match_from(p: &[char], n: &[char]) -> bool {
    // Iterative with one backtrack point for `*`: linear in practice, bounded by |p|·|n|.
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() {
            match p[pi] {
                '*' => {
                    star = Some((pi, ni));
                    pi += 1;
                    continue;
                }
                '?' if n[ni] != '/' => {
                    pi += 1;
                    ni += 1;
                    continue;
                }
                '[' => {
                    if let Some((ok, next)) = match_class(p, pi + 1, n[ni])
                        && ok
                    {
                        pi = next;
                        ni += 1;
                        continue;
                    }
                }
                '\\' if pi + 1 < p.len() && p[pi + 1] == n[ni] => {
                    pi += 2;
                    ni += 1;
                    continue;
                }
                c if c != '\\' && c != '?' && c == n[ni] => {
                    pi += 1;
                    ni += 1;
                    continue;
                }
                _ => {}
            }
        }
        match star {
            Some((sp, sn)) if n[sn] != '/' => {
                star = Some((sp, sn + 1));
                pi = sp + 1;
                ni = sn + 1;
            }
            _ => return false,
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Matches `c` against the class starting after `[` at `i`: (matched, index after `]`).
fn match_class(p: &[char], mut i: usize, c: char) -> Option<(bool, usize)> {
    let negated = p.get(i) == Some(&'^');
    if negated {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    while i < p.len() {
        if p[i] == ']' && !first {
            return Some((matched != negated, i + 1));
        }
        first = false;
        let mut lo = p[i];
        if lo == '\\' {
            i += 1;
            lo = *p.get(i)?;
        }
        i += 1;
        let mut hi = lo;
        if p.get(i) == Some(&'-') && p.get(i + 1).is_some_and(|&x| x != ']') {
            hi = p[i + 1];
            if hi == '\\' {
                hi = *p.get(i + 2)?;
                i += 1;
            }
            i += 2;
        }
        if lo <= c && c <= hi {
            matched = true;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_like_go() {
        assert!(matches("*.yml", "a.yml"));
        assert!(matches("*.yml", ".hidden.yml"));
        assert!(!matches("*.yml", "a.yaml"));
        assert!(matches("rules-?.y*ml", "rules-1.yaml"));
        assert!(matches("[a-c]*", "b1"));
        assert!(!matches("[^a-c]*", "b1"));
        assert!(matches("a\\*b", "a*b"));
        assert!(!matches("a\\*b", "axb"));
        assert!(matches("*a*b*", "xxaxxbxx"));
        assert!(!matches("*a*b", "xxaxxbxx"));
    }

    #[test]
    fn globs_files_in_order() {
        let dir = tempfile::tempdir().expect("temp dir");
        for n in ["b.yml", "a.yml", "c.txt"] {
            std::fs::write(dir.path().join(n), "").expect("write");
        }
        let d = dir.path().display();
        let got = expand_rule_files(&[
            format!("{d}/*.yml"),
            format!("{d}/a.yml"),
            format!("{d}/missing.yml"),
        ])
        .expect("valid patterns");
        assert_eq!(got, vec![format!("{d}/a.yml"), format!("{d}/b.yml")]);
        assert!(glob("x/[a").is_err());
    }
}
