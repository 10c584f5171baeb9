//! File-based discovery (`file_sd_configs`): JSON or YAML files holding lists of
//! `{targets: [...], labels: {...}}`, found by glob patterns, re-read when they change.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use config::FileSdConfig;
use model::Labels;
use serde::Deserialize;
use tokio::sync::mpsc;

use crate::group::{ADDRESS_LABEL, TargetGroup};

/// The label naming the file a target came from.
pub const FILEPATH_LABEL: &str = "__meta_filepath";

/// Largest target file read; larger files are refused rather than loaded.
pub const MAX_FILE_BYTES: u64 = 64 << 20;

/// Why a target file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum FileSdError {
    /// The file could not be read.
    #[error("reading {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is larger than [`MAX_FILE_BYTES`].
    #[error("reading {path}: file is larger than {MAX_FILE_BYTES} bytes")]
    TooLarge {
        /// The file.
        path: String,
    },
    /// The file's name ends in neither `.json`, `.yml` nor `.yaml`.
    #[error("{path}: unknown file extension (want .json, .yml or .yaml)")]
    Extension {
        /// The file.
        path: String,
    },
    /// The content is not a valid list of target groups.
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// What was wrong.
        message: String,
    },
}

/// A group as written in a file; unknown keys are refused in JSON and YAML alike, as
/// Prometheus decodes both strictly.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileGroup {
    #[serde(default)]
    targets: Option<Vec<String>>,
    #[serde(default)]
    labels: Option<BTreeMap<String, String>>,
}

/// A group's targets and labels as read, before validation.
type RawGroup = (Option<Vec<String>>, Option<BTreeMap<String, String>>);

/// Parses the content of target file `path`; the extension picks JSON or YAML. Groups get
/// sources `"{path}:{index}"` and the `__meta_filepath` label.
pub fn parse_target_groups(path: &str, content: &[u8]) -> Result<Vec<TargetGroup>, FileSdError> {
    let invalid = |message: String| FileSdError::Invalid {
        path: path.to_string(),
        message,
    };
    let ext = Path::new(path)
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let raw: Vec<Option<RawGroup>> = match ext.as_deref() {
        Some("json") => serde_json::from_slice::<Vec<Option<FileGroup>>>(content)
            .map_err(|e| invalid(e.to_string()))?
            .into_iter()
            .map(|g| g.map(|g| (g.targets, g.labels)))
            .collect(),
        Some("yml" | "yaml") => {
            let text = std::str::from_utf8(content)
                .map_err(|_| invalid("file is not valid UTF-8".into()))?;
            // An empty YAML document is an empty list, as in Go.
            if text.trim().is_empty() {
                Vec::new()
            } else {
                serde_saphyr::from_str::<Vec<Option<FileGroup>>>(text)
                    .map_err(|e| invalid(e.to_string()))?
                    .into_iter()
                    .map(|g| g.map(|g| (g.targets, g.labels)))
                    .collect()
            }
        }
        _ => {
            return Err(FileSdError::Extension {
                path: path.to_string(),
            });
        }
    };
    let mut groups = Vec::with_capacity(raw.len());
    for (i, g) in raw.into_iter().enumerate() {
        let Some((targets, labels)) = g else {
            return Err(invalid("nil target group item found".into()));
        };
        let labels = labels.unwrap_or_default();
        for name in labels.keys() {
            // Prometheus 3 validates label names as UTF-8: any non-empty name.
            if name.is_empty() {
                return Err(invalid(format!("{name:?} is not a valid label name")));
            }
        }
        let mut lb = model::LabelsBuilder::new(Labels::from_pairs(
            labels.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        ));
        lb.set(FILEPATH_LABEL, path);
        groups.push(TargetGroup {
            source: format!("{path}:{i}"),
            targets: targets
                .unwrap_or_default()
                .iter()
                .map(|t| Labels::from_pairs([(ADDRESS_LABEL, t.as_str())]))
                .collect(),
            labels: lb.build(),
        });
    }
    Ok(groups)
}

/// Reads and parses one target file, refusing files over [`MAX_FILE_BYTES`].
pub fn read_target_file(path: &Path) -> Result<Vec<TargetGroup>, FileSdError> {
    let name = path.to_string_lossy().into_owned();
    let io = |source| FileSdError::Io {
        path: name.clone(),
        source,
    };
    let f = std::fs::File::open(path).map_err(io)?;
    let mut buf = Vec::new();
    f.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut buf)
        .map_err(io)?;
    if buf.len() as u64 > MAX_FILE_BYTES {
        return Err(FileSdError::TooLarge { path: name });
    }
    parse_target_groups(&name, &buf)
}

/// True when `name` matches `pattern`, where `*` matches any run of characters.
fn wildcard_match(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !name.starts_with(first) || name.len() < first.len() + last.len() || !name.ends_with(last) {
        return false;
    }
    let mut rest = &name[first.len()..name.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

/// The existing files matching `pattern` (`*` only in the last path element), sorted.
pub fn expand_pattern(pattern: &str) -> Vec<PathBuf> {
    let path = Path::new(pattern);
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return Vec::new();
    };
    if !name.contains('*') {
        return if path.is_file() {
            vec![path.to_path_buf()]
        } else {
            Vec::new()
        };
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| wildcard_match(name, n))
        })
        .map(|e| dir.join(e.file_name()))
        .filter(|p| p.is_file())
        .collect();
    out.sort();
    out
}

/// The state of one `file_sd_configs` entry: the groups last read from each file.
#[derive(Debug)]
pub struct FileDiscovery {
    patterns: Vec<String>,
    refresh_interval: Duration,
    groups: BTreeMap<PathBuf, Vec<TargetGroup>>,
}

impl FileDiscovery {
    /// A discovery over `cfg`'s patterns (already resolved against the config's directory).
    pub fn new(cfg: &FileSdConfig) -> Self {
        FileDiscovery {
            patterns: cfg.files.clone(),
            refresh_interval: Duration::from_millis(cfg.refresh_interval.as_millis().max(1) as u64),
            groups: BTreeMap::new(),
        }
    }

    /// Re-reads every matching file and returns the current groups. A file that fails to
    /// read keeps its previous groups (the error is logged naming the file); a file that
    /// disappeared takes its groups with it.
    pub fn refresh(&mut self) -> Vec<TargetGroup> {
        let files: BTreeSet<PathBuf> = self
            .patterns
            .iter()
            .flat_map(|p| expand_pattern(p))
            .collect();
        let mut next = BTreeMap::new();
        for f in files {
            match read_target_file(&f) {
                Ok(g) => {
                    next.insert(f, g);
                }
                Err(e) => {
                    tracing::error!(file = %f.display(), error = %e, "error reading file_sd target file; keeping its previous targets");
                    if let Some(prev) = self.groups.remove(&f) {
                        next.insert(f, prev);
                    }
                }
            }
        }
        self.groups = next;
        self.groups.values().flatten().cloned().collect()
    }

    /// The directories to watch: each pattern's parent.
    fn watch_dirs(&self) -> BTreeSet<PathBuf> {
        self.patterns
            .iter()
            .map(|p| match Path::new(p).parent() {
                Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
                _ => PathBuf::from("."),
            })
            .collect()
    }

    /// Reads the files now, then again on every change seen in their directories and every
    /// refresh interval, calling `publish` whenever the groups differ from the last call.
    /// Returns when `publish` returns false (nobody listens any more).
    pub async fn run(mut self, mut publish: impl FnMut(Vec<TargetGroup>) -> bool) {
        let (ev_tx, mut ev_rx) = mpsc::channel::<()>(1);
        let watcher = self.start_watcher(ev_tx);
        let mut last = self.refresh();
        if !publish(last.clone()) {
            return;
        }
        let mut tick = tokio::time::interval(self.refresh_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                ev = ev_rx.recv() => {
                    if ev.is_none() {
                        // The watcher is gone; the refresh interval still applies.
                        std::future::pending::<()>().await;
                    }
                }
            }
            let now = self.refresh();
            if now != last {
                last = now;
                if !publish(last.clone()) {
                    break;
                }
            }
        }
        drop(watcher);
    }

    /// Watches the pattern directories; events are coalesced into one pending wake-up.
    fn start_watcher(&self, tx: mpsc::Sender<()>) -> Option<notify::RecommendedWatcher> {
        use notify::Watcher;
        let handler = move |res: notify::Result<notify::Event>| {
            // Reads and attribute-only changes (chmod) say nothing new, as Prometheus ignores them.
            if let Ok(ev) = res
                && !matches!(
                    ev.kind,
                    notify::EventKind::Access(_)
                        | notify::EventKind::Modify(notify::event::ModifyKind::Metadata(_))
                )
            {
                // A full channel already holds a wake-up: the change will be seen.
                let _ = tx.try_send(());
            }
        };
        let mut w = match notify::recommended_watcher(handler) {
            Ok(w) => w,
            Err(e) => {
                tracing::error!(error = %e, "cannot start file watcher; relying on refresh_interval");
                return None;
            }
        };
        for dir in self.watch_dirs() {
            if let Err(e) = w.watch(&dir, notify::RecursiveMode::NonRecursive) {
                tracing::error!(dir = %dir.display(), error = %e, "cannot watch directory; relying on refresh_interval");
            }
        }
        Some(w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_groups_get_source_and_filepath() {
        let g = parse_target_groups(
            "/sd/a.json",
            br#"[{"targets": ["h1:80", "h2:80"], "labels": {"env": "x"}}, {"targets": []}]"#,
        )
        .expect("valid");
        assert_eq!(g.len(), 2);
        assert_eq!(g[0].source, "/sd/a.json:0");
        assert_eq!(g[1].source, "/sd/a.json:1");
        assert_eq!(g[0].targets[1].get(ADDRESS_LABEL), Some("h2:80"));
        assert_eq!(g[0].labels.get("env"), Some("x"));
        assert_eq!(g[1].labels.get(FILEPATH_LABEL), Some("/sd/a.json"));
    }

    #[test]
    fn yaml_is_strict_and_null_items_refused() {
        let ok =
            parse_target_groups("f.yml", b"- targets: ['a:1']\n  labels: {k: v}\n").expect("valid");
        assert_eq!(ok[0].targets[0].get(ADDRESS_LABEL), Some("a:1"));
        let e = parse_target_groups("f.yaml", b"- targets: ['a:1']\n  bogus: 1\n")
            .expect_err("unknown key");
        assert!(e.to_string().starts_with("f.yaml: "), "{e}");
        let e = parse_target_groups("f.json", br#"[{"targets": [], "extra": 1}]"#)
            .expect_err("unknown key");
        assert!(e.to_string().contains("extra"), "{e}");
        let e = parse_target_groups("f.json", b"[null]").expect_err("null item");
        assert!(e.to_string().contains("nil target group"), "{e}");
        let e = parse_target_groups("f.json", br#"[{"labels": {"": "v"}}]"#).expect_err("name");
        assert!(e.to_string().contains("not a valid label name"), "{e}");
        assert!(parse_target_groups("f.txt", b"[]").is_err());
        assert!(parse_target_groups("f.yml", b"").expect("empty").is_empty());
    }

    #[test]
    fn wildcards_match_like_go_glob_stars() {
        assert!(wildcard_match("*.json", "a.json"));
        assert!(wildcard_match("a*b*.yml", "a1b2.yml"));
        assert!(!wildcard_match("a*b*.yml", "a1c2.yml"));
        assert!(!wildcard_match("*.json", "a.yml"));
        assert!(wildcard_match("x.json", "x.json"));
    }
}
