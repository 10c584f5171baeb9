//! What the hub tells the API's status and targets endpoints: its configuration
//! (secrets hidden), flags, runtime facts, external labels and its own scrape targets.

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use model::{Labels, PromDuration};
use server::info::{
    ActiveTarget, DroppedTarget, RuntimeInfo, ScrapeTargets, ServerInfo, TargetHealth,
};

use crate::scraping::Scraping;

/// The configuration shown when the hub runs without `--config`: Prometheus's defaults.
const DEFAULT_CONFIG_YAML: &str =
    "global:\n  scrape_interval: 1m\n  scrape_timeout: 10s\n  evaluation_interval: 1m\n";

/// Keys whose scalar value is a secret in Prometheus's configuration.
const SECRET_KEYS: [&str; 6] = [
    "password",
    "credentials",
    "bearer_token",
    "key",
    "client_secret",
    "secret_key",
];
/// Keys whose every nested value is a secret (`http_headers.*.secrets`, proxy headers).
const SECRET_BLOCK_KEYS: [&str; 2] = ["secrets", "proxy_connect_header"];

/// The loaded configuration and the outcome of the last (re)load.
struct ConfigState {
    yaml: String,
    external_labels: Labels,
    reload_success: bool,
    last_success: SystemTime,
}

/// The hub's [`ServerInfo`].
pub struct HubInfo {
    started: SystemTime,
    cwd: String,
    hostname: String,
    /// Fixed at start, as Go's GOMAXPROCS (finding it reads cgroup files).
    parallelism: usize,
    flags: Vec<(String, String)>,
    retention: String,
    cluster: String,
    scraper: Option<Arc<Scraping>>,
    config: Mutex<ConfigState>,
}

impl HubInfo {
    /// Facts fixed at start; `config` is the file's text and loaded form, if any.
    pub fn new(
        flags: Vec<(String, String)>,
        retention: String,
        cluster: String,
        scraper: Option<Arc<Scraping>>,
        config: Option<(&str, &config::Config)>,
    ) -> Self {
        let now = SystemTime::now();
        let (yaml, external_labels) = match config {
            Some((text, cfg)) => (redact_secrets(text), cfg.global.external_labels.clone()),
            None => (DEFAULT_CONFIG_YAML.to_string(), Labels::empty()),
        };
        HubInfo {
            started: now,
            cwd: std::env::current_dir()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            hostname: hostname(),
            parallelism: std::thread::available_parallelism().map_or(1, |n| n.get()),
            flags,
            retention,
            cluster,
            scraper,
            config: Mutex::new(ConfigState {
                yaml,
                external_labels,
                reload_success: true,
                last_success: now,
            }),
        }
    }

    /// Records a successful reload of `text` / `cfg`.
    pub fn reloaded(&self, text: &str, cfg: &config::Config) {
        let mut st = self.state();
        st.yaml = redact_secrets(text);
        st.external_labels = cfg.global.external_labels.clone();
        st.reload_success = true;
        st.last_success = SystemTime::now();
    }

    /// Records a failed reload (the previous configuration stays in force).
    pub fn reload_failed(&self) {
        self.state().reload_success = false;
    }

    fn state(&self) -> MutexGuard<'_, ConfigState> {
        // A panic while holding the lock leaves plain data behind: keep using it.
        self.config.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl ServerInfo for HubInfo {
    fn config_yaml(&self) -> String {
        self.state().yaml.clone()
    }

    fn flags(&self) -> Vec<(String, String)> {
        self.flags.clone()
    }

    fn runtime(&self) -> RuntimeInfo {
        let st = self.state();
        RuntimeInfo {
            start_time: self.started,
            cwd: self.cwd.clone(),
            hostname: self.hostname.clone(),
            reload_config_success: st.reload_success,
            last_config_time: st.last_success,
            corruption_count: 0,
            thread_count: thread_count(),
            parallelism: self.parallelism,
            storage_retention: self.retention.clone(),
        }
    }

    fn external_labels(&self) -> Labels {
        self.state().external_labels.clone()
    }

    fn scrape_targets(&self) -> ScrapeTargets {
        let mut out = ScrapeTargets {
            local_cluster: Some(self.cluster.clone()),
            ..ScrapeTargets::default()
        };
        let Some(s) = &self.scraper else {
            return out;
        };
        let m = s.manager();
        out.active = m
            .targets()
            .into_iter()
            .map(|t| ActiveTarget {
                scrape_pool: t.job,
                labels: t.labels,
                discovered_labels: t.discovered_labels,
                scrape_url: t.scrape_url,
                last_error: t.last_error,
                last_scrape: t.last_scrape,
                last_scrape_duration: t.last_scrape_duration.as_secs_f64(),
                health: match t.health {
                    scrape::Health::Up => TargetHealth::Up,
                    scrape::Health::Down => TargetHealth::Down,
                    scrape::Health::Unknown => TargetHealth::Unknown,
                },
                scrape_interval: duration_string(t.scrape_interval),
                scrape_timeout: duration_string(t.scrape_timeout),
            })
            .collect();
        out.dropped = m
            .dropped_targets()
            .into_iter()
            .map(|t| DroppedTarget {
                scrape_pool: t.job,
                discovered_labels: t.discovered_labels,
            })
            .collect();
        out.dropped_counts = m.dropped_counts().into_iter().collect();
        out
    }
}

/// A duration as Prometheus prints one (`15s`, `1m30s`).
pub fn duration_string(d: Duration) -> String {
    PromDuration(d).to_string()
}

/// Prometheus's `storageRetention`: the time, the size, or `<time> or <size>`.
pub fn retention_string(time: Duration, bytes: u64) -> String {
    let mut parts = Vec::new();
    if !time.is_zero() {
        parts.push(duration_string(time));
    }
    if bytes > 0 {
        parts.push(bytes_string(bytes));
    }
    parts.join(" or ")
}

/// A byte count in the largest power-of-1024 unit that divides it (`10GiB`).
fn bytes_string(b: u64) -> String {
    for (unit, shift) in [
        ("EiB", 60),
        ("PiB", 50),
        ("TiB", 40),
        ("GiB", 30),
        ("MiB", 20),
        ("KiB", 10),
    ] {
        if b >= 1 << shift && b.is_multiple_of(1 << shift) {
            return format!("{}{unit}", b >> shift);
        }
    }
    format!("{b}B")
}

/// The machine's host name (empty when unknown).
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_default()
}

/// Threads of this process (Linux `/proc`; 0 where unknown).
fn thread_count() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Threads:"))
                .and_then(|n| n.trim().parse().ok())
        })
        .unwrap_or(0)
}

/// Reads a configuration file's text for display (it was just loaded, so it exists
/// and is bounded; a failure shows as empty text).
pub fn read_config_text(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// The configuration text with secret values replaced by `<secret>`, as Prometheus
/// shows them. Line-based: scalar secrets (`password: x`), and every value nested
/// under `secrets:` / `proxy_connect_header:`. Comments are dropped (they may quote
/// a secret).
pub fn redact_secrets(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    // Indentation of an open block whose nested values are all secret, and of an
    // open block scalar (`key: |`) whose lines are all secret.
    let mut block: Option<usize> = None;
    let mut scalar: Option<usize> = None;
    for line in text.lines() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        if trimmed.starts_with('#') {
            continue;
        }
        if let Some(i) = scalar {
            if trimmed.is_empty() || indent > i {
                continue;
            }
            scalar = None;
        }
        if let Some(i) = block {
            let nested = indent > i || (indent == i && trimmed.starts_with("- "));
            if trimmed.is_empty() || nested {
                out.push_str(&redact_line(line, true));
                out.push('\n');
                continue;
            }
            block = None;
        }
        // `- key: value` opens a mapping inside a list item: the key sits after "- ".
        let item = trimmed.strip_prefix("- ").unwrap_or(trimmed);
        let key_indent = indent + (trimmed.len() - item.len());
        let key = item.split(':').next().unwrap_or("").trim();
        let value = item.split_once(':').map_or("", |(_, v)| v.trim());
        if SECRET_BLOCK_KEYS.contains(&key) {
            if value.is_empty() {
                block = Some(key_indent);
                out.push_str(line);
            } else {
                out.push_str(&redact_line(line, false));
            }
        } else if SECRET_KEYS.contains(&key) && !value.is_empty() {
            if value.starts_with('|') || value.starts_with('>') {
                scalar = Some(key_indent);
            }
            out.push_str(&redact_line(line, false));
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

/// `key: value` → `key: <secret>`, `- value` → `- <secret>` (when `items`); lines
/// without a value are kept.
fn redact_line(line: &str, items: bool) -> String {
    let trimmed = line.trim_start();
    let indent = &line[..line.len() - trimmed.len()];
    let item = trimmed.strip_prefix("- ");
    let body = item.unwrap_or(trimmed);
    let dash = if item.is_some() { "- " } else { "" };
    match body.split_once(':') {
        // A key with a value; a bare key opens a nested level and is kept.
        Some((k, v)) if !v.trim().is_empty() && !k.contains(['"', '\'', ' ']) => {
            format!("{indent}{dash}{k}: <secret>")
        }
        Some(_) => line.to_string(),
        None if items && item.is_some() => format!("{indent}- <secret>"),
        None if body.is_empty() => line.to_string(),
        None => format!("{indent}<secret>"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_hidden() {
        let text = "\
global:
  scrape_interval: 15s # comment
# password: in a comment
scrape_configs:
  - job_name: a
    basic_auth:
      username: u
      password: hunter2
    authorization:
      credentials: t0k3n
    tls_config:
      key: |
        -----BEGIN KEY-----
        abc
      cert_file: c.pem
    http_headers:
      X-A:
        values: [v]
        secrets:
        - s1
        - s2
    proxy_connect_header:
      H: [p1]
    bearer_token: ''
  - job_name: b
";
        let r = redact_secrets(text);
        for hidden in [
            "hunter2",
            "t0k3n",
            "abc",
            "BEGIN",
            "s1",
            "s2",
            "p1",
            "in a comment",
        ] {
            assert!(!r.contains(hidden), "{hidden} in:\n{r}");
        }
        for kept in [
            "username: u",
            "password: <secret>",
            "credentials: <secret>",
            "key: <secret>",
            "cert_file: c.pem",
            "values: [v]",
            "        - <secret>",
            "      H: <secret>",
            "job_name: b",
            "scrape_interval: 15s",
        ] {
            assert!(r.contains(kept), "{kept} missing in:\n{r}");
        }
    }

    #[test]
    fn retention() {
        assert_eq!(retention_string(Duration::from_secs(15 * 86_400), 0), "15d");
        assert_eq!(
            retention_string(Duration::from_secs(3600), 10 << 30),
            "1h or 10GiB"
        );
        assert_eq!(retention_string(Duration::ZERO, 1500), "1500B");
    }
}
