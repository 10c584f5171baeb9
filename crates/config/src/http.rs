//! HTTP client settings shared by scrape jobs and remote write (Prometheus's
//! `common/config.HTTPClientConfig`): authentication, TLS, proxies.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::Deserialize;

/// A secret value: kept out of `Debug` output so that it never lands in a log.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl Secret {
    /// The secret itself.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether no secret was given.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("Secret(\"\")")
        } else {
            f.write_str("Secret(<secret>)")
        }
    }
}

/// HTTP basic authentication.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BasicAuth {
    /// The user name.
    pub username: String,
    /// A file holding the user name (resolved against the config file's directory).
    pub username_file: String,
    /// Named secret in a secret manager (accepted, not supported).
    pub username_ref: String,
    /// The password.
    pub password: Secret,
    /// A file holding the password (resolved against the config file's directory).
    pub password_file: String,
    /// Named secret in a secret manager (accepted, not supported).
    pub password_ref: String,
}

/// The `Authorization` header: `type credentials`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Authorization {
    /// The scheme; `Bearer` after loading when left empty.
    #[serde(rename = "type")]
    pub kind: String,
    /// The credentials.
    pub credentials: Secret,
    /// A file holding the credentials (resolved against the config file's directory).
    pub credentials_file: String,
    /// Named secret in a secret manager (accepted, not supported).
    pub credentials_ref: String,
}

/// A TLS protocol version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TlsVersion {
    /// TLS 1.0.
    Tls10,
    /// TLS 1.1.
    Tls11,
    /// TLS 1.2.
    Tls12,
    /// TLS 1.3.
    Tls13,
}

impl<'de> Deserialize<'de> for TlsVersion {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        match s.as_str() {
            "TLS10" => Ok(TlsVersion::Tls10),
            "TLS11" => Ok(TlsVersion::Tls11),
            "TLS12" => Ok(TlsVersion::Tls12),
            "TLS13" => Ok(TlsVersion::Tls13),
            _ => Err(serde::de::Error::custom(format!(
                "unknown TLS version: {s}"
            ))),
        }
    }
}

/// TLS client settings.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsConfig {
    /// CA certificate(s), PEM text.
    pub ca: String,
    /// CA certificate file.
    pub ca_file: String,
    /// Named secret (accepted, not supported).
    pub ca_ref: String,
    /// Client certificate, PEM text.
    pub cert: String,
    /// Client certificate file.
    pub cert_file: String,
    /// Named secret (accepted, not supported).
    pub cert_ref: String,
    /// Client key, PEM text.
    pub key: Secret,
    /// Client key file.
    pub key_file: String,
    /// Named secret (accepted, not supported).
    pub key_ref: String,
    /// Name to verify the server certificate against (and send as SNI).
    pub server_name: String,
    /// Skip verification of the server certificate.
    pub insecure_skip_verify: bool,
    /// Lowest TLS version accepted.
    pub min_version: Option<TlsVersion>,
    /// Highest TLS version accepted.
    pub max_version: Option<TlsVersion>,
    /// Extra ALPN protocols.
    pub next_protos: Vec<String>,
}

impl TlsConfig {
    /// Prometheus's TLS checks: one source per item, a certificate and its key together.
    pub fn validate(&self) -> Result<(), String> {
        let count = |a: &str, b: &str, c: &str| [a, b, c].iter().filter(|s| !s.is_empty()).count();
        if count(&self.ca, &self.ca_file, &self.ca_ref) > 1 {
            return Err("at most one of ca, ca_file & ca_ref must be configured".into());
        }
        if count(&self.cert, &self.cert_file, &self.cert_ref) > 1 {
            return Err("at most one of cert, cert_file & cert_ref must be configured".into());
        }
        if count(self.key.expose(), &self.key_file, &self.key_ref) > 1 {
            return Err("at most one of key and key_file must be configured".into());
        }
        let cert = count(&self.cert, &self.cert_file, &self.cert_ref) > 0;
        let key = count(self.key.expose(), &self.key_file, &self.key_ref) > 0;
        if cert && !key {
            return Err(
                "exactly one of key or key_file must be configured when a client certificate is configured"
                    .into(),
            );
        }
        if key && !cert {
            return Err(
                "exactly one of cert or cert_file must be configured when a client key is configured"
                    .into(),
            );
        }
        if let (Some(min), Some(max)) = (self.min_version, self.max_version)
            && max < min
        {
            return Err("tls_config.max_version must be greater than or equal to tls_config.min_version if both are specified".into());
        }
        Ok(())
    }

    fn set_directory(&mut self, dir: &Path) {
        join_dir(dir, &mut self.ca_file);
        join_dir(dir, &mut self.cert_file);
        join_dir(dir, &mut self.key_file);
    }
}

/// One entry of `http_headers`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpHeader {
    /// Plain values.
    pub values: Vec<String>,
    /// Secret values.
    pub secrets: Vec<Secret>,
    /// Files whose content is a value.
    pub files: Vec<String>,
}

/// How to build an HTTP client (Prometheus's `HTTPClientConfig`, inlined in its parent in YAML).
#[derive(Debug, Clone, PartialEq)]
pub struct HttpClientConfig {
    /// Basic authentication.
    pub basic_auth: Option<BasicAuth>,
    /// `Authorization` header; `bearer_token`/`bearer_token_file` are folded into it on load.
    pub authorization: Option<Authorization>,
    /// OAuth 2.0 client credentials (kept as written; not supported yet).
    pub oauth2: Option<serde_json::Value>,
    /// TLS settings.
    pub tls_config: TlsConfig,
    /// Follow HTTP 3xx redirects.
    pub follow_redirects: bool,
    /// Allow HTTP/2.
    pub enable_http2: bool,
    /// Proxy URL (not supported yet).
    pub proxy_url: Option<String>,
    /// Hosts that bypass the proxy (not supported yet).
    pub no_proxy: String,
    /// Take the proxy from the environment (not supported yet).
    pub proxy_from_environment: bool,
    /// Headers sent to the proxy on CONNECT (not supported yet).
    pub proxy_connect_header: BTreeMap<String, Vec<Secret>>,
    /// Extra request headers (not supported yet).
    pub http_headers: BTreeMap<String, HttpHeader>,
}

impl HttpClientConfig {
    /// Prometheus's defaults for scrape jobs: follow redirects, HTTP/2 on.
    pub fn default_for_scrape() -> Self {
        HttpClientConfig {
            basic_auth: None,
            authorization: None,
            oauth2: None,
            tls_config: TlsConfig::default(),
            follow_redirects: true,
            enable_http2: true,
            proxy_url: None,
            no_proxy: String::new(),
            proxy_from_environment: false,
            proxy_connect_header: BTreeMap::new(),
            http_headers: BTreeMap::new(),
        }
    }

    /// Prometheus's defaults for remote write: follow redirects, HTTP/2 off.
    pub fn default_for_remote_write() -> Self {
        HttpClientConfig {
            enable_http2: false,
            ..Self::default_for_scrape()
        }
    }

    /// Joins relative file paths with `dir`, as Prometheus does with the config file's directory.
    pub fn set_directory(&mut self, dir: &Path) {
        self.tls_config.set_directory(dir);
        if let Some(b) = &mut self.basic_auth {
            join_dir(dir, &mut b.username_file);
            join_dir(dir, &mut b.password_file);
        }
        if let Some(a) = &mut self.authorization {
            join_dir(dir, &mut a.credentials_file);
        }
        for h in self.http_headers.values_mut() {
            for f in &mut h.files {
                join_dir(dir, f);
            }
        }
    }
}

/// Moves the HTTP client keys out of a raw section that repeats them inline (serde's
/// `flatten` cannot be combined with `deny_unknown_fields`, so each section lists them).
macro_rules! take_http_client {
    ($s:expr) => {
        $crate::http::RawHttpClient {
            basic_auth: $s.basic_auth,
            authorization: $s.authorization,
            oauth2: $s.oauth2.map(|s| s.value),
            bearer_token: $s.bearer_token,
            bearer_token_file: $s.bearer_token_file,
            tls_config: $s.tls_config,
            follow_redirects: $s.follow_redirects,
            enable_http2: $s.enable_http2,
            proxy_url: $s.proxy_url.map(|s| s.value),
            no_proxy: $s.no_proxy.map(|s| s.value),
            proxy_from_environment: $s.proxy_from_environment.map(|s| s.value),
            proxy_connect_header: $s.proxy_connect_header.map(|s| s.value),
            http_headers: $s.http_headers.map(|s| s.value),
        }
    };
}
pub(crate) use take_http_client;

/// The HTTP client keys as they appear inline in a scrape or remote-write section.
#[derive(Debug, Default)]
pub(crate) struct RawHttpClient {
    pub basic_auth: Option<BasicAuth>,
    pub authorization: Option<Authorization>,
    pub oauth2: Option<serde_json::Value>,
    pub bearer_token: Secret,
    pub bearer_token_file: String,
    pub tls_config: Option<TlsConfig>,
    pub follow_redirects: Option<bool>,
    pub enable_http2: Option<bool>,
    pub proxy_url: Option<String>,
    pub no_proxy: Option<String>,
    pub proxy_from_environment: Option<bool>,
    pub proxy_connect_header: Option<BTreeMap<String, Vec<Secret>>>,
    pub http_headers: Option<BTreeMap<String, HttpHeader>>,
}

impl RawHttpClient {
    /// Applies Prometheus's HTTP client validation and folds deprecated bearer fields into
    /// `authorization`; errors carry the offending key and Prometheus's message.
    pub fn resolve(self, mut base: HttpClientConfig) -> Result<HttpClientConfig, (String, String)> {
        let err = |k: &str, m: &str| Err((k.to_string(), m.to_string()));
        let has_token = !self.bearer_token.is_empty();
        let has_token_file = !self.bearer_token_file.is_empty();
        if has_token && has_token_file {
            return err(
                "bearer_token",
                "at most one of bearer_token & bearer_token_file must be configured",
            );
        }
        if (self.basic_auth.is_some() || self.oauth2.is_some()) && (has_token || has_token_file) {
            return err(
                "bearer_token",
                "at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured",
            );
        }
        if let Some(b) = &self.basic_auth {
            let n = |a: &str, b: &str, c: &str| [a, b, c].iter().filter(|s| !s.is_empty()).count();
            if n(&b.username, &b.username_file, &b.username_ref) > 1 {
                return err(
                    "basic_auth",
                    "at most one of basic_auth username, username_file & username_ref must be configured",
                );
            }
            if n(b.password.expose(), &b.password_file, &b.password_ref) > 1 {
                return err(
                    "basic_auth",
                    "at most one of basic_auth password, password_file & password_ref must be configured",
                );
            }
        }
        let mut authorization = self.authorization;
        if let Some(a) = &mut authorization {
            if has_token || has_token_file {
                return err(
                    "authorization",
                    "authorization is not compatible with bearer_token & bearer_token_file",
                );
            }
            let n = [
                a.credentials.expose(),
                &a.credentials_file,
                &a.credentials_ref,
            ]
            .iter()
            .filter(|s| !s.is_empty())
            .count();
            if n > 1 {
                return err(
                    "authorization",
                    "at most one of authorization credentials & credentials_file must be configured",
                );
            }
            a.kind = a.kind.trim().to_string();
            if a.kind.is_empty() {
                a.kind = "Bearer".to_string();
            }
            if a.kind.eq_ignore_ascii_case("basic") {
                return err(
                    "authorization",
                    "authorization type cannot be set to \"basic\", use \"basic_auth\" instead",
                );
            }
            if self.basic_auth.is_some() || self.oauth2.is_some() {
                return err(
                    "authorization",
                    "at most one of basic_auth, oauth2 & authorization must be configured",
                );
            }
        } else if has_token {
            authorization = Some(Authorization {
                kind: "Bearer".into(),
                credentials: self.bearer_token,
                ..Authorization::default()
            });
        } else if has_token_file {
            authorization = Some(Authorization {
                kind: "Bearer".into(),
                credentials_file: self.bearer_token_file,
                ..Authorization::default()
            });
        }
        if self.oauth2.is_some() && self.basic_auth.is_some() {
            return err(
                "oauth2",
                "at most one of basic_auth, oauth2 & authorization must be configured",
            );
        }
        let tls_config = self.tls_config.unwrap_or_default();
        if let Err(m) = tls_config.validate() {
            return err("tls_config", &m);
        }
        let proxy_connect_header = self.proxy_connect_header.unwrap_or_default();
        let proxy_from_environment = self.proxy_from_environment.unwrap_or(false);
        let proxy_url = self.proxy_url.filter(|u| !u.is_empty());
        let no_proxy = self.no_proxy.unwrap_or_default();
        if !proxy_connect_header.is_empty() && !proxy_from_environment && proxy_url.is_none() {
            return err(
                "proxy_connect_header",
                "if proxy_connect_header is configured, proxy_url or proxy_from_environment must also be configured",
            );
        }
        if proxy_from_environment && proxy_url.is_some() {
            return err(
                "proxy_from_environment",
                "if proxy_from_environment is configured, proxy_url must not be configured",
            );
        }
        if proxy_from_environment && !no_proxy.is_empty() {
            return err(
                "proxy_from_environment",
                "if proxy_from_environment is configured, no_proxy must not be configured",
            );
        }
        if proxy_url.is_none() && !no_proxy.is_empty() {
            return err(
                "no_proxy",
                "if no_proxy is configured, proxy_url must also be configured",
            );
        }
        base.basic_auth = self.basic_auth;
        base.authorization = authorization;
        base.oauth2 = self.oauth2;
        base.tls_config = tls_config;
        if let Some(v) = self.follow_redirects {
            base.follow_redirects = v;
        }
        if let Some(v) = self.enable_http2 {
            base.enable_http2 = v;
        }
        base.proxy_url = proxy_url;
        base.no_proxy = no_proxy;
        base.proxy_from_environment = proxy_from_environment;
        base.proxy_connect_header = proxy_connect_header;
        base.http_headers = self.http_headers.unwrap_or_default();
        Ok(base)
    }
}

/// Joins a relative, non-empty path with `dir` (Prometheus's `config.JoinDir`).
pub(crate) fn join_dir(dir: &Path, path: &mut String) {
    if path.is_empty() || Path::new(path.as_str()).is_absolute() {
        return;
    }
    *path = dir.join(path.as_str()).to_string_lossy().into_owned();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_token_becomes_authorization() {
        let raw = RawHttpClient {
            bearer_token_file: "tok".into(),
            ..RawHttpClient::default()
        };
        let c = raw
            .resolve(HttpClientConfig::default_for_scrape())
            .expect("valid");
        let a = c.authorization.expect("authorization");
        assert_eq!(a.kind, "Bearer");
        assert_eq!(a.credentials_file, "tok");
    }

    #[test]
    fn conflicting_auth_is_refused() {
        let raw = RawHttpClient {
            bearer_token: Secret("x".into()),
            basic_auth: Some(BasicAuth::default()),
            ..RawHttpClient::default()
        };
        let (key, msg) = raw
            .resolve(HttpClientConfig::default_for_scrape())
            .expect_err("invalid");
        assert_eq!(key, "bearer_token");
        assert!(msg.contains("at most one of basic_auth"));
    }

    #[test]
    fn secret_is_not_printed() {
        let s = Secret("hunter2".into());
        assert!(!format!("{s:?}").contains("hunter2"));
    }

    #[test]
    fn relative_paths_join_config_dir() {
        let mut c = HttpClientConfig::default_for_scrape();
        c.tls_config.ca_file = "ca.pem".into();
        c.tls_config.cert_file = "/abs/cert.pem".into();
        c.set_directory(Path::new("/etc/prom"));
        assert_eq!(c.tls_config.ca_file, "/etc/prom/ca.pem");
        assert_eq!(c.tls_config.cert_file, "/abs/cert.pem");
    }
}
