//! A `remote_write` entry: where to send samples, how to queue them, which to drop.

use std::collections::BTreeMap;
use std::path::Path;

use model::PromDuration;
use relabel::{NameValidationScheme, RelabelConfig};
use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::de::{scalar_string, string_map};
use crate::http::{
    Authorization, BasicAuth, HttpClientConfig, HttpHeader, Secret, TlsConfig, take_http_client,
};
use crate::scrape_raw::KeyError;

/// Remote-write protocol message versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ProtobufMessage {
    /// Remote write 1.0: `prometheus.WriteRequest`.
    #[default]
    V1,
    /// Remote write 2.0: `io.prometheus.write.v2.Request`.
    V2,
}

impl ProtobufMessage {
    /// The name used in configuration files.
    pub fn as_str(self) -> &'static str {
        match self {
            ProtobufMessage::V1 => "prometheus.WriteRequest",
            ProtobufMessage::V2 => "io.prometheus.write.v2.Request",
        }
    }
}

/// How samples queue and shard before they are sent.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QueueConfig {
    /// Samples buffered per shard (10000).
    pub capacity: i64,
    /// Most shards (50).
    pub max_shards: i64,
    /// Fewest shards (1).
    pub min_shards: i64,
    /// Samples per request (2000).
    pub max_samples_per_send: i64,
    /// Longest a sample waits in a shard before a partial batch is sent (5s).
    pub batch_send_deadline: PromDuration,
    /// First retry delay (30ms).
    pub min_backoff: PromDuration,
    /// Largest retry delay (5s).
    pub max_backoff: PromDuration,
    /// Retry on HTTP 429 (false).
    pub retry_on_http_429: bool,
    /// Samples older than this are dropped instead of sent (0 = never).
    pub sample_age_limit: PromDuration,
}

impl Default for QueueConfig {
    /// Prometheus's `DefaultQueueConfig`.
    fn default() -> Self {
        QueueConfig {
            capacity: 10_000,
            max_shards: 50,
            min_shards: 1,
            max_samples_per_send: 2000,
            batch_send_deadline: PromDuration::from_millis(5_000),
            min_backoff: PromDuration::from_millis(30),
            max_backoff: PromDuration::from_millis(5_000),
            retry_on_http_429: false,
            sample_age_limit: PromDuration::default(),
        }
    }
}

impl QueueConfig {
    /// Prometheus's queue checks.
    pub fn validate(&self) -> Result<(), String> {
        if self.max_shards <= 0 {
            return Err("remote write queue max_shards must be positive".into());
        }
        if self.min_shards <= 0 {
            return Err("remote write queue min_shards must be positive".into());
        }
        if self.min_shards > self.max_shards {
            return Err("remote write queue min_shards must not be greater than max_shards".into());
        }
        if self.max_samples_per_send <= 0 {
            return Err("remote write queue max_samples_per_send must be positive".into());
        }
        if self.capacity <= 0 {
            return Err("remote write queue capacity must be positive".into());
        }
        if self.max_backoff < self.min_backoff {
            return Err("remote write queue max_backoff must not be less than min_backoff".into());
        }
        Ok(())
    }
}

/// Metric metadata sending.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetadataConfig {
    /// Send metadata (true).
    pub send: bool,
    /// How often (1m).
    pub send_interval: PromDuration,
    /// Metadata entries per request (2000, Prometheus's default).
    pub max_samples_per_send: i64,
}

impl Default for MetadataConfig {
    /// Prometheus's `DefaultMetadataConfig`.
    fn default() -> Self {
        MetadataConfig {
            send: true,
            send_interval: PromDuration::from_millis(60_000),
            max_samples_per_send: 2000,
        }
    }
}

/// A remote-write destination after loading.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteWriteConfig {
    /// The endpoint (an http or https URL).
    pub url: String,
    /// Request timeout (30s).
    pub remote_timeout: PromDuration,
    /// Extra request headers.
    pub headers: BTreeMap<String, String>,
    /// Rules applied to each series before it is queued.
    pub write_relabel_configs: Vec<RelabelConfig>,
    /// Queue name, unique among remote writes when set.
    pub name: String,
    /// Send exemplars.
    pub send_exemplars: bool,
    /// Send native histograms.
    pub send_native_histograms: bool,
    /// Resolve the host and spread requests over its addresses.
    pub round_robin_dns: bool,
    /// Which protocol version to send.
    pub protobuf_message: ProtobufMessage,
    /// Log failed requests.
    pub failed_request_logging: bool,
    /// The HTTP client (YAML keys inline in the entry).
    pub http_client: HttpClientConfig,
    /// Queue and shard settings.
    pub queue_config: QueueConfig,
    /// Metadata settings.
    pub metadata_config: MetadataConfig,
}

/// Header names Prometheus refuses in `headers` (lower case); `authorization` has its own message.
const RESERVED_HEADERS: [&str; 16] = [
    "host",
    "content-encoding",
    "content-length",
    "content-type",
    "user-agent",
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "www-authenticate",
    "accept-encoding",
    "x-prometheus-remote-write-version",
    "x-prometheus-remote-read-version",
    "x-amz-date",
    "x-amz-security-token",
    "x-amz-content-sha256",
];

/// A `remote_write` entry as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RawRemoteWrite {
    #[serde(deserialize_with = "scalar_string")]
    url: String,
    remote_timeout: Option<PromDuration>,
    #[serde(deserialize_with = "string_map")]
    headers: BTreeMap<String, String>,
    write_relabel_configs: Vec<Option<RelabelConfig>>,
    #[serde(deserialize_with = "scalar_string")]
    pub name: String,
    send_exemplars: bool,
    send_native_histograms: bool,
    round_robin_dns: bool,
    #[serde(deserialize_with = "scalar_string")]
    protobuf_message: String,
    failed_request_logging: bool,
    basic_auth: Option<BasicAuth>,
    authorization: Option<Authorization>,
    pub oauth2: Option<Spanned<serde_json::Value>>,
    bearer_token: Secret,
    #[serde(deserialize_with = "scalar_string")]
    bearer_token_file: String,
    tls_config: Option<TlsConfig>,
    follow_redirects: Option<bool>,
    enable_http2: Option<bool>,
    pub proxy_url: Option<Spanned<String>>,
    pub no_proxy: Option<Spanned<String>>,
    pub proxy_from_environment: Option<Spanned<bool>>,
    pub proxy_connect_header: Option<Spanned<BTreeMap<String, Vec<Secret>>>>,
    pub http_headers: Option<Spanned<BTreeMap<String, HttpHeader>>>,
    queue_config: Option<QueueConfig>,
    metadata_config: Option<MetadataConfig>,
    pub sigv4: Option<Spanned<serde_json::Value>>,
    pub azuread: Option<Spanned<serde_json::Value>>,
    pub google_iam: Option<Spanned<serde_json::Value>>,
}

/// Refuses what Go's `url.Parse` refuses (Prometheus accepts anything it parses, even
/// `localhost:9090`): control characters, a missing scheme before `:`, a bad port.
pub(crate) fn check_url(url: &str) -> Result<(), String> {
    if url.chars().any(|c| c.is_control()) {
        return Err(format!("parse {url:?}: invalid control character in URL"));
    }
    if url.starts_with(':') {
        return Err(format!("parse {url:?}: missing protocol scheme"));
    }
    if let Some((scheme, rest)) = url.split_once("://") {
        let valid_scheme = scheme
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
        if !valid_scheme {
            return Err(format!(
                "parse {url:?}: first path segment in URL cannot contain colon"
            ));
        }
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        let host_port = authority.rsplit('@').next().unwrap_or("");
        if host_port.contains(' ') {
            return Err(format!(
                "parse {url:?}: invalid character \" \" in host name"
            ));
        }
        let port = match host_port.rfind(']') {
            Some(i) => host_port[i + 1..].strip_prefix(':'),
            None => host_port.rsplit_once(':').map(|(_, p)| p),
        };
        if host_port.starts_with('[') && !host_port.contains(']') {
            return Err(format!("parse {url:?}: missing ']' in host"));
        }
        if let Some(p) = port
            && !p.chars().all(|c| c.is_ascii_digit())
        {
            return Err(format!(
                "parse {url:?}: invalid port {:?} after host",
                format!(":{p}")
            ));
        }
    }
    Ok(())
}

/// Whether `url` is an absolute http(s) URL with a host, the only kind remote write can use.
pub fn is_http_url(url: &str) -> bool {
    let Some((scheme, rest)) = url.split_once("://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit('@').next().unwrap_or("");
    (scheme == "http" || scheme == "https") && !host.is_empty() && !host.starts_with(':')
}

impl RawRemoteWrite {
    /// Keys present that Fleetwatch does not implement, with their value's line.
    pub(crate) fn unsupported_keys(&self) -> Vec<(&'static str, u64)> {
        let mut out = Vec::new();
        for (key, s) in [
            ("oauth2", &self.oauth2),
            ("sigv4", &self.sigv4),
            ("azuread", &self.azuread),
            ("google_iam", &self.google_iam),
        ] {
            if let Some(s) = s {
                out.push((key, s.referenced.line()));
            }
        }
        if let Some(s) = &self.proxy_url {
            out.push(("proxy_url", s.referenced.line()));
        }
        if let Some(s) = &self.no_proxy {
            out.push(("no_proxy", s.referenced.line()));
        }
        if let Some(s) = &self.proxy_from_environment {
            out.push(("proxy_from_environment", s.referenced.line()));
        }
        if let Some(s) = &self.proxy_connect_header {
            out.push(("proxy_connect_header", s.referenced.line()));
        }
        if let Some(s) = &self.http_headers {
            out.push(("http_headers", s.referenced.line()));
        }
        out
    }

    /// Prometheus's `RemoteWriteConfig.UnmarshalYAML` and `Validate`.
    pub(crate) fn resolve(
        self,
        scheme: NameValidationScheme,
        dir: &Path,
    ) -> Result<RemoteWriteConfig, KeyError> {
        let e =
            |k: &str, m: String| -> Result<RemoteWriteConfig, KeyError> { Err((k.to_string(), m)) };
        if self.url.is_empty() {
            return e("url", "url for remote_write is empty".into());
        }
        if let Err(m) = check_url(&self.url) {
            return e("url", m);
        }
        let mut write_relabel_configs = Vec::with_capacity(self.write_relabel_configs.len());
        for r in self.write_relabel_configs {
            match r {
                Some(r) => write_relabel_configs.push(r),
                None => {
                    return e(
                        "write_relabel_configs",
                        "empty or null relabeling rule in remote write config".into(),
                    );
                }
            }
        }
        for name in self.headers.keys() {
            let lower = name.to_ascii_lowercase();
            if lower == "authorization" {
                return e(
                    "headers",
                    "authorization header must be changed via the basic_auth, authorization, oauth2, sigv4, azuread or google_iam parameter".into(),
                );
            }
            if RESERVED_HEADERS.contains(&lower.as_str()) {
                return e(
                    "headers",
                    format!("{name} is a reserved header. It must not be changed"),
                );
            }
        }
        let protobuf_message = match self.protobuf_message.as_str() {
            "" | "prometheus.WriteRequest" => ProtobufMessage::V1,
            "io.prometheus.write.v2.Request" => ProtobufMessage::V2,
            other => {
                return e(
                    "protobuf_message",
                    format!(
                        "invalid protobuf_message value: unknown type for remote write protobuf message {other}, supported: prometheus.WriteRequest, io.prometheus.write.v2.Request"
                    ),
                );
            }
        };
        let mut auth = Vec::new();
        if self.basic_auth.is_some() {
            auth.push("basic_auth");
        }
        if self.authorization.is_some()
            || !self.bearer_token.is_empty()
            || !self.bearer_token_file.is_empty()
        {
            auth.push("authorization");
        }
        if self.oauth2.is_some() {
            auth.push("oauth2");
        }
        if self.sigv4.is_some() {
            auth.push("sigv4");
        }
        if self.azuread.is_some() {
            auth.push("azuread");
        }
        if self.google_iam.is_some() {
            auth.push("google_iam");
        }
        let http = take_http_client!(self);
        let mut http_client = http.resolve(HttpClientConfig::default_for_remote_write())?;
        http_client.set_directory(dir);
        let queue_config = self.queue_config.unwrap_or_default();
        if let Err(m) = queue_config.validate() {
            return e("queue_config", m);
        }
        if auth.len() > 1 {
            return e(
                auth[1],
                format!(
                    "at most one of basic_auth, authorization, oauth2, sigv4, azuread or google_iam must be configured. Currently configured: [{}]",
                    auth.join(" ")
                ),
            );
        }
        for (i, r) in write_relabel_configs.iter_mut().enumerate() {
            r.validate(scheme)
                .map_err(|err| (format!("write_relabel_configs[{i}]"), err.to_string()))?;
        }
        Ok(RemoteWriteConfig {
            url: self.url,
            remote_timeout: self
                .remote_timeout
                .unwrap_or(PromDuration::from_millis(30_000)),
            headers: self.headers,
            write_relabel_configs,
            name: self.name,
            send_exemplars: self.send_exemplars,
            send_native_histograms: self.send_native_histograms,
            round_robin_dns: self.round_robin_dns,
            protobuf_message,
            failed_request_logging: self.failed_request_logging,
            http_client,
            queue_config,
            metadata_config: self.metadata_config.unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked() {
        assert!(check_url("http://remote1/push").is_ok());
        assert!(check_url("https://user:pw@host:9090/api/v1/write").is_ok());
        // Go's parser takes this as scheme "localhost", and so does Prometheus.
        assert!(check_url("localhost:9090").is_ok());
        assert!(check_url("http://host:port/").is_err());
        assert!(check_url(":9090").is_err());
        assert!(check_url("http://a\nb").is_err());
        assert!(is_http_url("http://remote1/push"));
        assert!(!is_http_url("localhost:9090"));
        assert!(!is_http_url("http://"));
        assert!(!is_http_url("http://:9090/"));
    }

    #[test]
    fn queue_checks() {
        assert!(QueueConfig::default().validate().is_ok());
        let q = QueueConfig {
            min_shards: 60,
            ..QueueConfig::default()
        };
        assert_eq!(
            q.validate().expect_err("invalid"),
            "remote write queue min_shards must not be greater than max_shards"
        );
    }
}
