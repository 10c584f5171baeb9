//! `alerting:`: rules applied to every alert, and the Alertmanagers alerts go to
//! (Prometheus's `AlertingConfig` and `AlertmanagerConfig`).

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use model::PromDuration;
use relabel::{NameValidationScheme, RelabelConfig};
use serde::{Deserialize, Deserializer};
use serde_saphyr::Spanned;

use crate::de::scalar_string;
use crate::error::{ConfigError, Position, Warning};
use crate::http::{
    Authorization, BasicAuth, HttpClientConfig, HttpHeader, Secret, TlsConfig, take_http_client,
};
use crate::scrape::{FileSdConfig, StaticConfig, UnsupportedSdConfig};
use crate::scrape_raw::{
    KeyError, check_static_label_names, resolve_scheme, take_file_sd_configs, take_static_configs,
    validate_relabels, with_sd_kinds,
};
use crate::text::KeyFinder;

/// `alerting:`: where alerts go.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlertingConfig {
    /// Rules applied to every alert before it is sent (after external labels are added).
    pub alert_relabel_configs: Vec<RelabelConfig>,
    /// The Alertmanager sets, in file order (Prometheus names them `config-0`, `config-1`...).
    pub alertmanagers: Vec<AlertmanagerConfig>,
}

/// The Alertmanager API alerts are posted to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AlertmanagerApiVersion {
    /// `POST /api/v2/alerts`, the only version Prometheus 3 speaks.
    #[default]
    V2,
}

impl AlertmanagerApiVersion {
    /// The version as written in the configuration and in the URL path (`v2`).
    pub fn as_str(self) -> &'static str {
        match self {
            AlertmanagerApiVersion::V2 => "v2",
        }
    }
}

impl fmt::Display for AlertmanagerApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for AlertmanagerApiVersion {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = scalar_string(d)?;
        match s.as_str() {
            "v2" => Ok(AlertmanagerApiVersion::V2),
            // Prometheus 3 dropped v1; its message, word for word.
            _ => Err(serde::de::Error::custom(format!(
                "expected Alertmanager api version to be one of [v2] but got {s}"
            ))),
        }
    }
}

/// One `alertmanagers` entry: how a set of Alertmanagers is discovered and talked to.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertmanagerConfig {
    /// `http` or `https` ("http"); relabelling may change it per target through `__scheme__`.
    pub scheme: String,
    /// Prefix of the push path (`<prefix>/api/v2/alerts`).
    pub path_prefix: String,
    /// How long one push request may take (10s).
    pub timeout: PromDuration,
    /// The API version (v2).
    pub api_version: AlertmanagerApiVersion,
    /// The HTTP client (YAML keys inline, as in Prometheus).
    pub http_client: HttpClientConfig,
    /// Rules applied to discovered Alertmanagers (`__address__`, `__scheme__`,
    /// `__alerts_path__`).
    pub relabel_configs: Vec<RelabelConfig>,
    /// Rules applied to alerts sent to this set only.
    pub alert_relabel_configs: Vec<RelabelConfig>,
    /// Alertmanagers written in the config.
    pub static_configs: Vec<StaticConfig>,
    /// File-based discovery.
    pub file_sd_configs: Vec<FileSdConfig>,
    /// Every other discovery section, kept as written (warned about when loaded).
    pub unsupported_sd_configs: Vec<UnsupportedSdConfig>,
    /// `sigv4` as written (warned about when loaded; not supported yet).
    pub sigv4: Option<serde_json::Value>,
}

/// `alerting:` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RawAlerting {
    pub alert_relabel_configs: Vec<Option<RelabelConfig>>,
    pub alertmanagers: Vec<Spanned<Option<RawAlertmanagerConfig>>>,
}

/// Defines the raw Alertmanager config with one field per discovery kind Prometheus has.
macro_rules! raw_alertmanager_config {
    ($($sd:ident),* $(,)?) => {
        /// An `alertmanagers` entry as written (HTTP client keys inline, as in Prometheus).
        #[derive(Debug, Default, Deserialize)]
        #[serde(deny_unknown_fields, default)]
        pub(crate) struct RawAlertmanagerConfig {
            #[serde(deserialize_with = "scalar_string")]
            scheme: String,
            #[serde(deserialize_with = "scalar_string")]
            path_prefix: String,
            timeout: Option<PromDuration>,
            api_version: Option<AlertmanagerApiVersion>,
            relabel_configs: Vec<Option<RelabelConfig>>,
            alert_relabel_configs: Vec<Option<RelabelConfig>>,
            static_configs: Vec<Option<StaticConfig>>,
            file_sd_configs: Vec<Option<FileSdConfig>>,
            sigv4: Option<Spanned<serde_json::Value>>,
            // The HTTP client, inline.
            basic_auth: Option<BasicAuth>,
            authorization: Option<Authorization>,
            oauth2: Option<Spanned<serde_json::Value>>,
            bearer_token: Secret,
            #[serde(deserialize_with = "scalar_string")]
            bearer_token_file: String,
            tls_config: Option<TlsConfig>,
            follow_redirects: Option<bool>,
            enable_http2: Option<bool>,
            proxy_url: Option<Spanned<String>>,
            no_proxy: Option<Spanned<String>>,
            proxy_from_environment: Option<Spanned<bool>>,
            proxy_connect_header: Option<Spanned<BTreeMap<String, Vec<Secret>>>>,
            http_headers: Option<Spanned<BTreeMap<String, HttpHeader>>>,
            $( $sd: Option<Spanned<Vec<serde_json::Value>>>, )*
        }

        impl RawAlertmanagerConfig {
            /// Keys present that Fleetwatch does not implement, with their value's line.
            pub(crate) fn unsupported_keys(&self) -> Vec<(&'static str, u64)> {
                let mut out = Vec::new();
                $(
                    if let Some(s) = &self.$sd {
                        out.push((stringify!($sd), s.referenced.line()));
                    }
                )*
                let lines = [
                    ("sigv4", self.sigv4.as_ref().map(|s| s.referenced.line())),
                    ("oauth2", self.oauth2.as_ref().map(|s| s.referenced.line())),
                    ("proxy_url", self.proxy_url.as_ref().map(|s| s.referenced.line())),
                    ("no_proxy", self.no_proxy.as_ref().map(|s| s.referenced.line())),
                    (
                        "proxy_from_environment",
                        self.proxy_from_environment.as_ref().map(|s| s.referenced.line()),
                    ),
                    (
                        "proxy_connect_header",
                        self.proxy_connect_header.as_ref().map(|s| s.referenced.line()),
                    ),
                    ("http_headers", self.http_headers.as_ref().map(|s| s.referenced.line())),
                ];
                out.extend(lines.into_iter().filter_map(|(k, l)| l.map(|l| (k, l))));
                out
            }

            /// Takes the discovery sections Fleetwatch does not implement.
            fn take_unsupported_sd(&mut self) -> Vec<(&'static str, Vec<serde_json::Value>)> {
                let mut out = Vec::new();
                $(
                    if let Some(s) = self.$sd.take() {
                        out.push((stringify!($sd), s.value));
                    }
                )*
                out
            }
        }
    };
}

with_sd_kinds!(raw_alertmanager_config);

impl RawAlertmanagerConfig {
    /// Prometheus's `AlertmanagerConfig.UnmarshalYAML` and `Validate`, in its order.
    pub(crate) fn resolve(
        mut self,
        scheme: NameValidationScheme,
        dir: &Path,
    ) -> Result<AlertmanagerConfig, KeyError> {
        let e = |k: &str, m: String| -> Result<AlertmanagerConfig, KeyError> {
            Err((k.to_string(), m))
        };
        let unsupported = self.take_unsupported_sd();
        for (key, configs) in &unsupported {
            if configs.iter().any(serde_json::Value::is_null) {
                return e(key, format!("empty or null section in {key}"));
            }
        }
        let sigv4 = self.sigv4.map(|s| s.value);
        let auth_enabled =
            self.basic_auth.is_some() || self.authorization.is_some() || self.oauth2.is_some();
        let http = take_http_client!(self);
        // Prometheus's DefaultHTTPClientConfig: follow redirects, HTTP/2 on (as for scrapes).
        let mut http_client = http.resolve(HttpClientConfig::default_for_scrape())?;
        http_client.set_directory(dir);
        if auth_enabled && sigv4.is_some() {
            return e(
                "sigv4",
                "at most one of basic_auth, authorization, oauth2, & sigv4 must be configured"
                    .into(),
            );
        }
        let static_configs = take_static_configs(self.static_configs)?;
        let file_sd_configs = take_file_sd_configs(self.file_sd_configs, dir)?;
        if self.relabel_configs.is_empty() {
            for t in static_configs.iter().flat_map(|s| &s.targets) {
                if t.contains('/') {
                    return e("static_configs", format!("{t:?} is not a valid hostname"));
                }
            }
        }
        let mut relabel_configs = Vec::with_capacity(self.relabel_configs.len());
        for r in self.relabel_configs {
            let Some(r) = r else {
                return e(
                    "relabel_configs",
                    "empty or null Alertmanager target relabeling rule".into(),
                );
            };
            relabel_configs.push(r);
        }
        let mut alert_relabel_configs = Vec::with_capacity(self.alert_relabel_configs.len());
        for r in self.alert_relabel_configs {
            let Some(r) = r else {
                return e(
                    "alert_relabel_configs",
                    "empty or null Alertmanager alert relabeling rule".into(),
                );
            };
            alert_relabel_configs.push(r);
        }
        validate_relabels(&mut alert_relabel_configs, "alert_relabel_configs", scheme)?;
        validate_relabels(&mut relabel_configs, "relabel_configs", scheme)?;
        check_static_label_names(&static_configs, scheme)?;
        let scheme_name = resolve_scheme(self.scheme)?;
        Ok(AlertmanagerConfig {
            scheme: scheme_name,
            path_prefix: self.path_prefix,
            timeout: self.timeout.unwrap_or(PromDuration::from_millis(10_000)),
            api_version: self.api_version.unwrap_or_default(),
            http_client,
            relabel_configs,
            alert_relabel_configs,
            static_configs,
            file_sd_configs,
            unsupported_sd_configs: unsupported
                .into_iter()
                .map(|(key, configs)| UnsupportedSdConfig {
                    key: key.to_string(),
                    configs,
                })
                .collect(),
            sigv4,
        })
    }
}

/// Resolves `alerting:`: relabel rules checked, each Alertmanager set resolved, errors as
/// `FILE:LINE: alerting.alertmanagers[i].KEY: message`, unimplemented keys as warnings.
pub(crate) fn resolve_alerting(
    raw: Option<Spanned<RawAlerting>>,
    scheme: NameValidationScheme,
    dir: &Path,
    keys: &KeyFinder<'_>,
    pos: &dyn Fn(u64) -> Position,
    warnings: &mut Vec<Warning>,
) -> Result<AlertingConfig, ConfigError> {
    let Some(raw) = raw else {
        return Ok(AlertingConfig::default());
    };
    let line = raw.referenced.line();
    let section_end = keys.section_end(keys.top_level("alerting"));
    let mut out = AlertingConfig::default();
    for (i, r) in raw.value.alert_relabel_configs.into_iter().enumerate() {
        let f = format!("alerting.alert_relabel_configs[{i}]");
        let Some(mut r) = r else {
            return Err(ConfigError::invalid(
                pos(line),
                f,
                "empty or null alert relabeling rule",
            ));
        };
        r.validate(scheme)
            .map_err(|e| ConfigError::invalid(pos(line), f.clone(), e.to_string()))?;
        out.alert_relabel_configs.push(r);
    }
    let starts: Vec<u64> = raw
        .value
        .alertmanagers
        .iter()
        .map(|s| s.referenced.line())
        .collect();
    for (i, item) in raw.value.alertmanagers.into_iter().enumerate() {
        let start = item.referenced.line();
        let end = starts.get(i + 1).copied().unwrap_or(section_end);
        let field = |k: &str| format!("alerting.alertmanagers[{i}].{k}");
        let Some(am) = item.value else {
            return Err(ConfigError::invalid(
                pos(start),
                format!("alerting.alertmanagers[{i}]"),
                "empty or null alertmanager config section",
            ));
        };
        for (key, l) in am.unsupported_keys() {
            warnings.push(Warning::unsupported(pos(keys.key_at(key, l)), field(key)));
        }
        let resolved = am.resolve(scheme, dir).map_err(|(k, m)| {
            let key = k.split('[').next().unwrap_or(&k).to_string();
            ConfigError::invalid(pos(keys.find(&key, start, end)), field(&k), m)
        })?;
        out.alertmanagers.push(resolved);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(yaml: &str) -> RawAlertmanagerConfig {
        serde_saphyr::from_str(yaml).expect("parses")
    }

    #[test]
    fn defaults_follow_prometheus() {
        let c = raw("static_configs:\n  - targets: ['am:9093']\n")
            .resolve(NameValidationScheme::Utf8, Path::new("/etc"))
            .expect("resolves");
        assert_eq!(c.scheme, "http");
        assert_eq!(c.path_prefix, "");
        assert_eq!(c.timeout.to_string(), "10s");
        assert_eq!(c.api_version, AlertmanagerApiVersion::V2);
        assert!(c.http_client.follow_redirects);
        assert!(c.http_client.enable_http2);
        assert_eq!(c.static_configs[0].targets, vec!["am:9093"]);
    }

    #[test]
    fn checks_follow_prometheus() {
        let err = |yaml: &str| {
            raw(yaml)
                .resolve(NameValidationScheme::Utf8, Path::new("/etc"))
                .expect_err("refused")
        };
        assert_eq!(
            err("static_configs:\n  - targets: ['http://am:9093']\n"),
            (
                "static_configs".to_string(),
                "\"http://am:9093\" is not a valid hostname".to_string()
            )
        );
        assert_eq!(
            err("relabel_configs:\n  -\n").1,
            "empty or null Alertmanager target relabeling rule"
        );
        assert_eq!(
            err("alert_relabel_configs:\n  -\n").1,
            "empty or null Alertmanager alert relabeling rule"
        );
        assert_eq!(err("scheme: ftp\n").0, "scheme");
        assert_eq!(
            err("basic_auth: {username: a}\nsigv4: {region: x}\n").0,
            "sigv4"
        );
        let e: Result<RawAlertmanagerConfig, _> = serde_saphyr::from_str("api_version: v1\n");
        let msg = e.expect_err("v1 refused").to_string();
        assert!(
            msg.contains("expected Alertmanager api version to be one of [v2] but got v1"),
            "{msg}"
        );
    }
}
