//! `scrape_configs` entries as written, and their resolution against `global`.

use std::collections::BTreeMap;
use std::path::Path;

use model::PromDuration;
use relabel::{NameValidationScheme, RelabelConfig};
use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::de::{byte_size, scalar_string};
use crate::global::{
    ESCAPING_SCHEMES, GlobalConfig, ScrapeProtocol, parse_scrape_protocols, parse_validation_scheme,
};
use crate::http::{
    Authorization, BasicAuth, HttpClientConfig, HttpHeader, Secret, TlsConfig, join_dir,
    take_http_client,
};
use crate::scrape::{
    FileSdConfig, ScrapeConfig, StaticConfig, UnsupportedSdConfig, is_valid_file_sd_name,
    params_map,
};

/// An error found while resolving: the key (relative to the entry) and the message.
pub(crate) type KeyError = (String, String);

/// Defines the raw scrape config with one field per discovery kind Prometheus has,
/// so that unknown keys stay errors while every real kind is accepted.
macro_rules! raw_scrape_config {
    ($($sd:ident),* $(,)?) => {
        /// A scrape job as written (HTTP client keys inline, as in Prometheus).
        #[derive(Debug, Default, Deserialize)]
        #[serde(deny_unknown_fields, default)]
        pub(crate) struct RawScrapeConfig {
            #[serde(deserialize_with = "scalar_string")]
            pub job_name: String,
            honor_labels: Option<bool>,
            honor_timestamps: Option<bool>,
            track_timestamps_staleness: Option<bool>,
            #[serde(deserialize_with = "params_map")]
            params: BTreeMap<String, Vec<String>>,
            scrape_interval: Option<PromDuration>,
            scrape_timeout: Option<PromDuration>,
            scrape_protocols: Option<Vec<String>>,
            #[serde(deserialize_with = "scalar_string")]
            fallback_scrape_protocol: String,
            scrape_native_histograms: Option<bool>,
            always_scrape_classic_histograms: Option<bool>,
            convert_classic_histograms_to_nhcb: Option<bool>,
            #[serde(deserialize_with = "scalar_string")]
            scrape_failure_log_file: String,
            #[serde(deserialize_with = "scalar_string")]
            metrics_path: String,
            #[serde(deserialize_with = "scalar_string")]
            scheme: String,
            enable_compression: Option<bool>,
            #[serde(deserialize_with = "byte_size")]
            body_size_limit: Option<i64>,
            sample_limit: Option<u64>,
            target_limit: Option<u64>,
            label_limit: Option<u64>,
            label_name_length_limit: Option<u64>,
            label_value_length_limit: Option<u64>,
            native_histogram_bucket_limit: Option<u64>,
            native_histogram_min_bucket_factor: Option<f64>,
            keep_dropped_targets: Option<u64>,
            #[serde(deserialize_with = "scalar_string")]
            metric_name_validation_scheme: String,
            #[serde(deserialize_with = "scalar_string")]
            metric_name_escaping_scheme: String,
            extra_scrape_metrics: Option<bool>,
            // The HTTP client, inline.
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
            relabel_configs: Vec<Option<RelabelConfig>>,
            metric_relabel_configs: Vec<Option<RelabelConfig>>,
            static_configs: Vec<Option<StaticConfig>>,
            file_sd_configs: Vec<Option<FileSdConfig>>,
            $( pub $sd: Option<Spanned<Vec<serde_json::Value>>>, )*
        }

        impl RawScrapeConfig {
            /// The discovery sections present that Fleetwatch does not implement, with the
            /// line their value starts on, without taking them.
            pub(crate) fn unsupported_sd_keys(&self) -> Vec<(&'static str, u64)> {
                let mut out = Vec::new();
                $(
                    if let Some(s) = &self.$sd {
                        out.push((stringify!($sd), s.referenced.line()));
                    }
                )*
                out
            }

            /// The discovery sections present that Fleetwatch does not implement, with the
            /// line their value starts on.
            pub(crate) fn take_unsupported_sd(&mut self) -> Vec<(&'static str, u64, Vec<serde_json::Value>)> {
                let mut out = Vec::new();
                $(
                    if let Some(s) = self.$sd.take() {
                        out.push((stringify!($sd), s.referenced.line(), s.value));
                    }
                )*
                out
            }
        }
    };
}

/// Calls the macro `$m` with every service-discovery key Prometheus has, so that each
/// section that may hold discovery configs (scrape jobs, Alertmanagers) accepts them all.
macro_rules! with_sd_kinds {
    ($m:ident) => {
        $m!(
            aws_sd_configs,
            azure_sd_configs,
            consul_sd_configs,
            digitalocean_sd_configs,
            dns_sd_configs,
            docker_sd_configs,
            dockerswarm_sd_configs,
            ec2_sd_configs,
            ecs_sd_configs,
            elasticache_sd_configs,
            eureka_sd_configs,
            gce_sd_configs,
            hetzner_sd_configs,
            http_sd_configs,
            ionos_sd_configs,
            kubernetes_sd_configs,
            kuma_sd_configs,
            lightsail_sd_configs,
            linode_sd_configs,
            marathon_sd_configs,
            msk_sd_configs,
            nerve_sd_configs,
            nomad_sd_configs,
            oci_sd_configs,
            openstack_sd_configs,
            outscale_sd_configs,
            ovhcloud_sd_configs,
            puppetdb_sd_configs,
            rds_sd_configs,
            scaleway_sd_configs,
            serverset_sd_configs,
            stackit_sd_configs,
            triton_sd_configs,
            uyuni_sd_configs,
            vultr_sd_configs,
        );
    };
}
pub(crate) use with_sd_kinds;

with_sd_kinds!(raw_scrape_config);

impl RawScrapeConfig {
    /// HTTP client keys present that Fleetwatch does not implement, with their value's line.
    pub(crate) fn unsupported_http_keys(&self) -> Vec<(&'static str, u64)> {
        let mut out = Vec::new();
        if let Some(s) = &self.oauth2 {
            out.push(("oauth2", s.referenced.line()));
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

    /// Other keys whose effect Fleetwatch does not implement, and whether each is set.
    pub(crate) fn unimplemented(&self) -> [(&'static str, bool); 5] {
        [
            (
                "scrape_failure_log_file",
                !self.scrape_failure_log_file.is_empty(),
            ),
            (
                "scrape_native_histograms",
                self.scrape_native_histograms == Some(true),
            ),
            (
                "convert_classic_histograms_to_nhcb",
                self.convert_classic_histograms_to_nhcb == Some(true),
            ),
            (
                "native_histogram_bucket_limit",
                self.native_histogram_bucket_limit.is_some(),
            ),
            (
                "native_histogram_min_bucket_factor",
                self.native_histogram_min_bucket_factor.is_some(),
            ),
        ]
    }

    /// Prometheus's `ScrapeConfig.UnmarshalYAML` and `Validate`: defaults from `global`,
    /// then every check, in Prometheus's order where the order decides the message.
    pub(crate) fn resolve(
        mut self,
        global: &GlobalConfig,
        dir: &Path,
    ) -> Result<ScrapeConfig, KeyError> {
        let e = |k: &str, m: String| -> Result<ScrapeConfig, KeyError> { Err((k.to_string(), m)) };
        if self.job_name.is_empty() {
            return e("job_name", "job_name is empty".into());
        }
        let job = self.job_name.clone();
        let unsupported = self.take_unsupported_sd();
        for (key, _, configs) in &unsupported {
            if configs.iter().any(serde_json::Value::is_null) {
                return e(key, format!("empty or null section in {key}"));
            }
        }
        let http = take_http_client!(self);
        let mut http_client = http.resolve(HttpClientConfig::default_for_scrape())?;
        http_client.set_directory(dir);

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
            match r {
                Some(r) => relabel_configs.push(r),
                None => {
                    return e(
                        "relabel_configs",
                        "empty or null target relabeling rule in scrape config".into(),
                    );
                }
            }
        }
        let mut metric_relabel_configs = Vec::with_capacity(self.metric_relabel_configs.len());
        for r in self.metric_relabel_configs {
            match r {
                Some(r) => metric_relabel_configs.push(r),
                None => {
                    return e(
                        "metric_relabel_configs",
                        "empty or null metric relabeling rule in scrape config".into(),
                    );
                }
            }
        }

        // Validate(global): interval first, then the timeout against it.
        let interval = self
            .scrape_interval
            .filter(|d| d.as_millis() != 0)
            .unwrap_or(global.scrape_interval);
        let timeout = self.scrape_timeout.unwrap_or_default();
        if timeout > interval {
            return e(
                "scrape_timeout",
                format!(
                    "scrape timeout greater than scrape interval for scrape config with job name {job:?}"
                ),
            );
        }
        let timeout = if timeout.as_millis() == 0 {
            global.scrape_timeout.min(interval)
        } else {
            timeout
        };
        let nonzero = |v: Option<u64>, g: u64| v.filter(|v| *v != 0).unwrap_or(g);
        let native = self
            .scrape_native_histograms
            .unwrap_or(global.scrape_native_histograms);
        let scrape_protocols = match &self.scrape_protocols {
            Some(p) => parse_scrape_protocols(p).map_err(|m| {
                (
                    "scrape_protocols".to_string(),
                    format!("{m} for scrape config with job name {job:?}"),
                )
            })?,
            None => match &global.scrape_protocols {
                Some(g) => g.clone(),
                None if native => ScrapeProtocol::DEFAULT_PROTO_FIRST.to_vec(),
                None => ScrapeProtocol::DEFAULT.to_vec(),
            },
        };
        let fallback_scrape_protocol = if self.fallback_scrape_protocol.is_empty() {
            None
        } else {
            Some(
                ScrapeProtocol::parse(&self.fallback_scrape_protocol).map_err(|m| {
                    (
                        "fallback_scrape_protocol".to_string(),
                        format!(
                            "invalid fallback_scrape_protocol for scrape config with job name {job:?}: {m}"
                        ),
                    )
                })?,
            )
        };
        let local_scheme = parse_validation_scheme(&self.metric_name_validation_scheme).map_err(|_| {
            (
                "metric_name_validation_scheme".to_string(),
                format!(
                    "unknown scrape config name validation method specified, must be either '', 'legacy' or 'utf8', got {}",
                    self.metric_name_validation_scheme
                ),
            )
        })?;
        let scheme = local_scheme.unwrap_or(global.metric_name_validation_scheme);
        let escaping = if !self.metric_name_escaping_scheme.is_empty() {
            self.metric_name_escaping_scheme.clone()
        } else if local_scheme.is_none() {
            global.metric_name_escaping_scheme.clone()
        } else if scheme == NameValidationScheme::Legacy {
            "underscores".into()
        } else {
            "allow-utf-8".into()
        };
        if !ESCAPING_SCHEMES.contains(&escaping.as_str()) {
            return e(
                "metric_name_escaping_scheme",
                format!(
                    "unknown scrape config name escaping method specified, must be one of 'allow-utf-8', 'underscores', 'dots', or 'values', got {escaping:?}"
                ),
            );
        }
        if escaping == "allow-utf-8" && scheme != NameValidationScheme::Utf8 {
            return e(
                "metric_name_escaping_scheme",
                "utf8 metric names requested but validation scheme is not set to UTF8".into(),
            );
        }
        validate_relabels(&mut relabel_configs, "relabel_configs", scheme)?;
        validate_relabels(
            &mut metric_relabel_configs,
            "metric_relabel_configs",
            scheme,
        )?;
        check_static_label_names(&static_configs, scheme)?;
        let scheme_name = resolve_scheme(self.scheme)?;
        let mut scrape_failure_log_file = self.scrape_failure_log_file;
        join_dir(dir, &mut scrape_failure_log_file);
        if scrape_failure_log_file.is_empty() {
            scrape_failure_log_file = global.scrape_failure_log_file.clone();
        }
        let body = self
            .body_size_limit
            .filter(|b| *b != 0)
            .map(|b| u64::try_from(b).unwrap_or(0))
            .unwrap_or(global.body_size_limit);
        Ok(ScrapeConfig {
            job_name: job,
            honor_labels: self.honor_labels.unwrap_or(false),
            honor_timestamps: self.honor_timestamps.unwrap_or(true),
            track_timestamps_staleness: self.track_timestamps_staleness.unwrap_or(false),
            params: self.params,
            scrape_interval: interval,
            scrape_timeout: timeout,
            scrape_protocols,
            fallback_scrape_protocol,
            scrape_native_histograms: native,
            always_scrape_classic_histograms: self
                .always_scrape_classic_histograms
                .unwrap_or(global.always_scrape_classic_histograms),
            convert_classic_histograms_to_nhcb: self
                .convert_classic_histograms_to_nhcb
                .unwrap_or(global.convert_classic_histograms_to_nhcb),
            scrape_failure_log_file,
            metrics_path: if self.metrics_path.is_empty() {
                "/metrics".into()
            } else {
                self.metrics_path
            },
            scheme: scheme_name,
            enable_compression: self.enable_compression.unwrap_or(true),
            body_size_limit: body,
            sample_limit: nonzero(self.sample_limit, global.sample_limit),
            target_limit: nonzero(self.target_limit, global.target_limit),
            label_limit: nonzero(self.label_limit, global.label_limit),
            label_name_length_limit: nonzero(
                self.label_name_length_limit,
                global.label_name_length_limit,
            ),
            label_value_length_limit: nonzero(
                self.label_value_length_limit,
                global.label_value_length_limit,
            ),
            native_histogram_bucket_limit: self.native_histogram_bucket_limit.unwrap_or(0),
            native_histogram_min_bucket_factor: self
                .native_histogram_min_bucket_factor
                .unwrap_or(0.0),
            keep_dropped_targets: nonzero(self.keep_dropped_targets, global.keep_dropped_targets),
            metric_name_validation_scheme: scheme,
            metric_name_escaping_scheme: escaping,
            extra_scrape_metrics: self
                .extra_scrape_metrics
                .unwrap_or(global.extra_scrape_metrics),
            http_client,
            relabel_configs,
            metric_relabel_configs,
            static_configs,
            file_sd_configs,
            unsupported_sd_configs: unsupported
                .into_iter()
                .map(|(key, _, configs)| UnsupportedSdConfig {
                    key: key.to_string(),
                    configs,
                })
                .collect(),
        })
    }
}

/// Validates each rule of a relabel list, naming a failing one `field[i]`.
pub(crate) fn validate_relabels(
    rules: &mut [RelabelConfig],
    field: &str,
    scheme: NameValidationScheme,
) -> Result<(), KeyError> {
    for (i, r) in rules.iter_mut().enumerate() {
        r.validate(scheme)
            .map_err(|err| (format!("{field}[{i}]"), err.to_string()))?;
    }
    Ok(())
}

/// The label names of static targets must be valid under `scheme`.
pub(crate) fn check_static_label_names(
    configs: &[StaticConfig],
    scheme: NameValidationScheme,
) -> Result<(), KeyError> {
    for name in configs.iter().flat_map(|sc| sc.labels.keys()) {
        if !scheme.is_valid_label_name(name) {
            return Err((
                "static_configs".to_string(),
                format!("{name:?} is not a valid label name"),
            ));
        }
    }
    Ok(())
}

/// `http` when unset. Anything but `http`/`https` is refused now; Prometheus
/// only finds out when it connects.
pub(crate) fn resolve_scheme(scheme: String) -> Result<String, KeyError> {
    let scheme = if scheme.is_empty() {
        "http".to_string()
    } else {
        scheme
    };
    if scheme != "http" && scheme != "https" {
        return Err((
            "scheme".to_string(),
            format!("invalid scheme {scheme:?}: must be \"http\" or \"https\""),
        ));
    }
    Ok(scheme)
}

/// `static_configs` entries, a null entry refused as Prometheus does.
pub(crate) fn take_static_configs(
    list: Vec<Option<StaticConfig>>,
) -> Result<Vec<StaticConfig>, KeyError> {
    list.into_iter()
        .map(|sc| {
            sc.ok_or_else(|| {
                (
                    "static_configs".to_string(),
                    "empty or null section in static_configs".to_string(),
                )
            })
        })
        .collect()
}

/// `file_sd_configs` entries checked as Prometheus does, paths joined with `dir`.
pub(crate) fn take_file_sd_configs(
    list: Vec<Option<FileSdConfig>>,
    dir: &Path,
) -> Result<Vec<FileSdConfig>, KeyError> {
    let e = |m: String| Err(("file_sd_configs".to_string(), m));
    let mut out = Vec::with_capacity(list.len());
    for fc in list {
        let Some(mut fc) = fc else {
            return e("empty or null section in file_sd_configs".into());
        };
        if fc.files.is_empty() {
            return e("file service discovery config must contain at least one path name".into());
        }
        for name in &mut fc.files {
            if !is_valid_file_sd_name(name) {
                return e(format!(
                    "path name {name:?} is not valid for file discovery"
                ));
            }
            join_dir(dir, name);
        }
        out.push(fc);
    }
    Ok(out)
}
