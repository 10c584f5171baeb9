//! Reading a file: YAML with input budgets, then resolution and validation, every problem
//! reported as `FILE:LINE: FIELD: message`, every unimplemented section as a warning.

use std::collections::HashSet;
use std::path::Path;

use model::Labels;

use crate::alerting::{AlertingConfig, resolve_alerting};
use crate::env::expand;
use crate::error::{ConfigError, Position, Warning};
use crate::global::GlobalConfig;
use crate::remote_write::{RemoteWriteConfig, is_http_url};
use crate::scrape::ScrapeConfig;
use crate::sections::{FleetConfig, RawConfig};
use crate::text::KeyFinder;
use crate::yaml_error::{clean_path, saphyr_message};

/// Largest configuration file accepted, far above any real one.
pub const MAX_CONFIG_BYTES: usize = 16 * 1024 * 1024;

/// A Prometheus configuration (plus Fleetwatch's `fleet:` section) after loading: defaults
/// applied, relative paths joined with the file's directory, everything validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `global:`.
    pub global: GlobalConfig,
    /// `scrape_configs:`.
    pub scrape_configs: Vec<ScrapeConfig>,
    /// `scrape_config_files:` patterns (resolved; not read yet).
    pub scrape_config_files: Vec<String>,
    /// `rule_files:` patterns (resolved against the file's directory; not globbed yet).
    pub rule_files: Vec<String>,
    /// `alerting:`.
    pub alerting: AlertingConfig,
    /// `remote_write:`.
    pub remote_write: Vec<RemoteWriteConfig>,
    /// `remote_read:` entries as written (not supported yet).
    pub remote_read: Vec<serde_json::Value>,
    /// `storage:` as written (not supported yet).
    pub storage: Option<serde_json::Value>,
    /// `tracing:` as written (not supported yet).
    pub tracing: Option<serde_json::Value>,
    /// `otlp:` as written (not supported yet).
    pub otlp: Option<serde_json::Value>,
    /// `runtime:` as written (not supported yet).
    pub runtime: Option<serde_json::Value>,
    /// `fleet:`.
    pub fleet: FleetConfig,
}

/// A loaded configuration and what it contains that Fleetwatch will not act upon.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    /// The configuration.
    pub config: Config,
    /// One-line warnings, in file order.
    pub warnings: Vec<Warning>,
}

impl Config {
    /// Reads and loads `path`; relative paths inside resolve against its directory.
    pub fn load_file(path: impl AsRef<Path>) -> Result<Loaded, ConfigError> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let io = |m: String| ConfigError::Io {
            file: name.clone(),
            message: m,
        };
        let meta = std::fs::metadata(path).map_err(|e| io(e.to_string()))?;
        if meta.len() > MAX_CONFIG_BYTES as u64 {
            return Err(io(format!(
                "file is {} bytes, more than the {MAX_CONFIG_BYTES} accepted",
                meta.len()
            )));
        }
        let bytes = std::fs::read(path).map_err(|e| io(e.to_string()))?;
        let text = String::from_utf8(bytes).map_err(|_| io("file is not valid UTF-8".into()))?;
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => Path::new(".").to_path_buf(),
        };
        Self::load_str(&text, &name, &dir)
    }

    /// Loads configuration text; `name` is used in messages, `base_dir` resolves relative paths.
    pub fn load_str(text: &str, name: &str, base_dir: &Path) -> Result<Loaded, ConfigError> {
        let pos = |line: u64| Position {
            file: name.to_string(),
            line,
        };
        if text.len() > MAX_CONFIG_BYTES {
            return Err(ConfigError::invalid(
                pos(0),
                "",
                format!("configuration is larger than {MAX_CONFIG_BYTES} bytes"),
            ));
        }
        let raw = parse(text, name)?;
        let keys = KeyFinder::new(text);
        let mut warnings = Vec::new();
        let mut warn = |line: u64, key: &str| warnings.push(Warning::unsupported(pos(line), key));

        // Top-level sections accepted but not implemented.
        for (key, present) in [
            ("runtime", raw.runtime.is_some()),
            ("scrape_config_files", raw.scrape_config_files.is_some()),
            ("storage", raw.storage.is_some()),
            ("tracing", raw.tracing.is_some()),
            ("remote_read", raw.remote_read.is_some()),
            ("otlp", raw.otlp.is_some()),
        ] {
            if present {
                warn(keys.top_level(key), key);
            }
        }

        let global_line = keys.top_level("global");
        let global_end = keys.section_end(global_line);
        let global_raw = raw.global.unwrap_or_default();
        for (key, set) in global_raw.unimplemented() {
            if set {
                warn(keys.find(key, global_line, global_end), key);
            }
        }
        let mut global = global_raw.resolve(base_dir).map_err(|(k, m)| {
            ConfigError::invalid(
                pos(keys.find(&k, global_line, global_end)),
                format!("global.{k}"),
                m,
            )
        })?;
        global.external_labels = Labels::from_pairs(
            global
                .external_labels
                .iter()
                .map(|l| (l.name.clone(), expand(&l.value, |v| std::env::var(v).ok())))
                .collect::<Vec<_>>(),
        );

        let rule_files = check_patterns(
            raw.rule_files.map(|s| (s.referenced.line(), s.value.0)),
            "rule_files",
            "invalid rule file path",
            base_dir,
            &pos,
        )?;
        let scrape_config_files = check_patterns(
            raw.scrape_config_files
                .map(|s| (s.referenced.line(), s.value.0)),
            "scrape_config_files",
            "invalid scrape config file path",
            base_dir,
            &pos,
        )?;

        // Scrape jobs: each entry spans from its first line to the next entry's.
        let starts: Vec<u64> = raw
            .scrape_configs
            .iter()
            .map(|s| s.referenced.line())
            .collect();
        let mut scrape_configs = Vec::with_capacity(raw.scrape_configs.len());
        let mut jobs = HashSet::new();
        for (i, item) in raw.scrape_configs.into_iter().enumerate() {
            let start = item.referenced.line();
            let end = starts.get(i + 1).copied().unwrap_or(u64::MAX);
            let field = |k: &str| format!("scrape_configs[{i}].{k}");
            let Some(sc) = item.value else {
                return Err(ConfigError::invalid(
                    pos(start),
                    format!("scrape_configs[{i}]"),
                    "empty or null scrape config section",
                ));
            };
            for (key, line) in sc.unsupported_sd_keys() {
                warnings.push(Warning::unsupported(
                    pos(keys.key_at(key, line)),
                    field(key),
                ));
            }
            for (key, line) in sc.unsupported_http_keys() {
                warnings.push(Warning::unsupported(
                    pos(keys.key_at(key, line)),
                    field(key),
                ));
            }
            for (key, set) in sc.unimplemented() {
                if set {
                    warnings.push(Warning::unsupported(
                        pos(keys.find(key, start, end)),
                        field(key),
                    ));
                }
            }
            let resolved = sc.resolve(&global, base_dir).map_err(|(k, m)| {
                let key = k.split('[').next().unwrap_or(&k).to_string();
                ConfigError::invalid(pos(keys.find(&key, start, end)), field(&k), m)
            })?;
            if !jobs.insert(resolved.job_name.clone()) {
                return Err(ConfigError::invalid(
                    pos(keys.find("job_name", start, end)),
                    field("job_name"),
                    format!(
                        "found multiple scrape configs with job name {:?}",
                        resolved.job_name
                    ),
                ));
            }
            scrape_configs.push(resolved);
        }

        let alerting = resolve_alerting(
            raw.alerting,
            global.metric_name_validation_scheme,
            base_dir,
            &keys,
            &pos,
            &mut warnings,
        )?;

        let starts: Vec<u64> = raw
            .remote_write
            .iter()
            .map(|s| s.referenced.line())
            .collect();
        let mut remote_write = Vec::with_capacity(raw.remote_write.len());
        let mut names = HashSet::new();
        for (i, item) in raw.remote_write.into_iter().enumerate() {
            let start = item.referenced.line();
            let end = starts.get(i + 1).copied().unwrap_or(u64::MAX);
            let field = |k: &str| format!("remote_write[{i}].{k}");
            let Some(rw) = item.value else {
                return Err(ConfigError::invalid(
                    pos(start),
                    format!("remote_write[{i}]"),
                    "empty or null remote write config section",
                ));
            };
            if !rw.name.is_empty() && !names.insert(rw.name.clone()) {
                return Err(ConfigError::invalid(
                    pos(keys.find("name", start, end)),
                    field("name"),
                    format!(
                        "found multiple remote write configs with job name {:?}",
                        rw.name
                    ),
                ));
            }
            for (key, line) in rw.unsupported_keys() {
                warnings.push(Warning::unsupported(
                    pos(keys.key_at(key, line)),
                    field(key),
                ));
            }
            let resolved = rw
                .resolve(global.metric_name_validation_scheme, base_dir)
                .map_err(|(k, m)| {
                    let key = k.split('[').next().unwrap_or(&k).to_string();
                    ConfigError::invalid(pos(keys.find(&key, start, end)), field(&k), m)
                })?;
            if !is_http_url(&resolved.url) {
                warnings.push(Warning {
                    pos: pos(keys.find("url", start, end)),
                    key: field("url"),
                    message: format!(
                        "{:?} is not an http or https URL: remote write to it will fail",
                        resolved.url
                    ),
                });
            }
            remote_write.push(resolved);
        }

        warnings.sort_by_key(|w| w.pos.line);
        Ok(Loaded {
            config: Config {
                global,
                scrape_configs,
                scrape_config_files,
                rule_files,
                alerting,
                remote_write,
                remote_read: raw.remote_read.map(|s| s.value).unwrap_or_default(),
                storage: raw.storage.map(|s| s.value),
                tracing: raw.tracing.map(|s| s.value),
                otlp: raw.otlp.map(|s| s.value),
                runtime: raw.runtime.map(|s| s.value),
                fleet: raw.fleet.unwrap_or_default(),
            },
            warnings,
        })
    }
}

/// `fleetwatch check config FILE`: loads the file as the server would; the warnings when it
/// is valid, the error when it is not (promtool semantics; the binary sets the exit code).
pub fn check_config(path: impl AsRef<Path>) -> Result<Vec<Warning>, ConfigError> {
    Config::load_file(path).map(|l| l.warnings)
}

/// Rule and scrape-config file patterns: `*` only in the last path element (Prometheus's
/// `patRulePath`), then joined with the config directory.
fn check_patterns(
    list: Option<(u64, Vec<String>)>,
    key: &str,
    what: &str,
    dir: &Path,
    pos: &dyn Fn(u64) -> Position,
) -> Result<Vec<String>, ConfigError> {
    let Some((line, list)) = list else {
        return Ok(Vec::new());
    };
    let mut out = Vec::with_capacity(list.len());
    for (i, mut p) in list.into_iter().enumerate() {
        let valid = match p.find('*') {
            None => true,
            Some(i) => !p[i..].contains('/'),
        };
        if !valid {
            return Err(ConfigError::invalid(
                pos(line + i as u64),
                format!("{key}[{i}]"),
                format!("{what} {p:?}"),
            ));
        }
        crate::http::join_dir(dir, &mut p);
        out.push(p);
    }
    Ok(out)
}

/// Parses the YAML under input budgets, mapping errors to `FILE:LINE: FIELD: message`.
fn parse(text: &str, name: &str) -> Result<RawConfig, ConfigError> {
    if text
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    {
        // Prometheus loads an empty file as all defaults.
        return Ok(RawConfig::default());
    }
    let options = crate::yaml_error::strict_options(2_000_000, MAX_CONFIG_BYTES);
    let mut field = String::new();
    let result = serde_saphyr::with_deserializer_from_str_with_options(text, options, |de| {
        serde_path_to_error::deserialize::<_, RawConfig>(de).map_err(|e| {
            field = clean_path(&e.path().to_string());
            e.into_inner()
        })
    });
    result.map_err(|e| {
        let line = e.location().map(|l| l.line()).unwrap_or(0);
        let message = saphyr_message(&e);
        ConfigError::invalid(
            Position {
                file: name.to_string(),
                line,
            },
            field,
            message,
        )
    })
}
