//! Prometheus's own configuration test files: good ones load, bad ones are refused unless
//! their fault lies in a section Fleetwatch does not implement (listed below with reasons).

use std::collections::BTreeSet;
use std::path::PathBuf;

use config::{Config, ProtobufMessage, ScrapeConfig};

fn testdata() -> PathBuf {
    let root = std::env::var("FLEETWATCH_CONFORMANCE").map_or_else(
        |_| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../../shared/conformance"
            ))
        },
        PathBuf::from,
    );
    let dir = root.join("prometheus/config/testdata");
    assert!(
        dir.is_dir(),
        "conformance data missing: {} does not exist (set FLEETWATCH_CONFORMANCE to the conformance folder)",
        dir.display()
    );
    dir
}

fn files_ending(suffix: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(testdata())
        .expect("read testdata")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    v.sort();
    v
}

/// Bad files whose fault is in a section Fleetwatch accepts without implementing it,
/// so they load (with a warning about that section).
const OUT_OF_SCOPE: &[(&str, &str)] = &[
    (
        "azure_bearertoken_basicauth.bad.yml",
        "azure_sd_configs not implemented",
    ),
    (
        "azure_client_id_missing.bad.yml",
        "azure_sd_configs not implemented",
    ),
    (
        "azure_client_secret_missing.bad.yml",
        "azure_sd_configs not implemented",
    ),
    (
        "azure_subscription_id_missing.bad.yml",
        "azure_sd_configs not implemented",
    ),
    (
        "azure_tenant_id_missing.bad.yml",
        "azure_sd_configs not implemented",
    ),
    (
        "ec2_filters_empty_values.bad.yml",
        "ec2_sd_configs not implemented",
    ),
    ("ec2_token_file.bad.yml", "ec2_sd_configs not implemented"),
    ("empty_rr_config.bad.yml", "remote_read not implemented"),
    (
        "eureka_invalid_server.bad.yml",
        "eureka_sd_configs not implemented",
    ),
    (
        "eureka_no_server.bad.yml",
        "eureka_sd_configs not implemented",
    ),
    ("http_token_file.bad.yml", "http_sd_configs not implemented"),
    (
        "kubernetes_api_server_with_own_namespace.bad.yml",
        "kubernetes_sd_configs not implemented",
    ),
    (
        "kubernetes_authorization_basicauth.bad.yml",
        "kubernetes_sd_configs not implemented",
    ),
    (
        "kubernetes_bearertoken.bad.yml",
        "kubernetes_sd_configs not implemented",
    ),
    (
        "kubernetes_bearertoken_basicauth.bad.yml",
        "kubernetes_sd_configs not implemented",
    ),
    (
        "kubernetes_http_config_without_api_server.bad.yml",
        "kubernetes_sd_configs not implemented",
    ),
    (
        "kubernetes_kubeconfig_with_apiserver.bad.yml",
        "kubernetes_sd_configs not implemented",
    ),
    (
        "kubernetes_kubeconfig_with_http_config.bad.yml",
        "kubernetes_sd_configs not implemented",
    ),
    (
        "kubernetes_kubeconfig_with_own_namespace.bad.yml",
        "kubernetes_sd_configs not implemented",
    ),
    (
        "kubernetes_selectors_duplicated_role.bad.yml",
        "kubernetes_sd_configs not implemented",
    ),
    (
        "kubernetes_selectors_endpoints.bad.yml",
        "kubernetes_sd_configs not implemented",
    ),
    (
        "kubernetes_selectors_incorrect_selector.bad.yml",
        "kubernetes_sd_configs not implemented",
    ),
    (
        "kubernetes_selectors_ingress.bad.yml",
        "kubernetes_sd_configs not implemented",
    ),
    (
        "kubernetes_selectors_node.bad.yml",
        "kubernetes_sd_configs not implemented",
    ),
    (
        "kubernetes_selectors_pod.bad.yml",
        "kubernetes_sd_configs not implemented",
    ),
    (
        "kubernetes_selectors_service.bad.yml",
        "kubernetes_sd_configs not implemented",
    ),
    (
        "lightsail_token_file.bad.yml",
        "lightsail_sd_configs not implemented",
    ),
    (
        "marathon_authtoken_authorization.bad.yml",
        "marathon_sd_configs not implemented",
    ),
    (
        "marathon_authtoken_authtokenfile.bad.yml",
        "marathon_sd_configs not implemented",
    ),
    (
        "marathon_authtoken_basicauth.bad.yml",
        "marathon_sd_configs not implemented",
    ),
    (
        "marathon_authtoken_bearertoken.bad.yml",
        "marathon_sd_configs not implemented",
    ),
    (
        "marathon_no_servers.bad.yml",
        "marathon_sd_configs not implemented",
    ),
    ("otlp_allow_utf8.bad.yml", "otlp not implemented"),
    (
        "otlp_ignore_resource_attributes_without_promote_all.bad.yml",
        "otlp not implemented",
    ),
    (
        "otlp_promote_all_resource_attributes.bad.yml",
        "otlp not implemented",
    ),
    (
        "otlp_sanitize_ignore_resource_attributes.bad.yml",
        "otlp not implemented",
    ),
    (
        "otlp_sanitize_promote_resource_attributes.bad.yml",
        "otlp not implemented",
    ),
    (
        "outscale_no_region.bad.yml",
        "outscale_sd_configs not implemented",
    ),
    (
        "outscale_no_secret.bad.yml",
        "outscale_sd_configs not implemented",
    ),
    (
        "outscale_two_secrets.bad.yml",
        "outscale_sd_configs not implemented",
    ),
    (
        "puppetdb_token_file.bad.yml",
        "puppetdb_sd_configs not implemented",
    ),
    ("remote_read_dup.bad.yml", "remote_read not implemented"),
    ("remote_read_header.bad.yml", "remote_read not implemented"),
    (
        "remote_read_url_missing.bad.yml",
        "remote_read not implemented",
    ),
    (
        "scrape_config_files_double_import.bad.yml",
        "scrape_config_files not read yet",
    ),
    (
        "scrape_config_files_duplicate.bad.yml",
        "scrape_config_files not read yet",
    ),
    (
        "scrape_config_files_global.bad.yml",
        "scrape_config_files not read yet",
    ),
    (
        "scrape_config_files_global_duplicate.bad.yml",
        "scrape_config_files not read yet",
    ),
    (
        "stackit_endpoint.bad.yml",
        "stackit_sd_configs not implemented",
    ),
    (
        "tracing_invalid_authorization_header.bad.yml",
        "tracing not implemented",
    ),
    (
        "tracing_invalid_compression.bad.yml",
        "tracing not implemented",
    ),
    ("tracing_invalid_header.bad.yml", "tracing not implemented"),
    (
        "tracing_missing_endpoint.bad.yml",
        "tracing not implemented",
    ),
    (
        "tsdb_chunk_encoding_floats.bad.yml",
        "storage not implemented",
    ),
    (
        "tsdb_chunk_encoding_floats_wrong_case.bad.yml",
        "storage not implemented",
    ),
    (
        "tsdb_chunk_encoding_floats_wrong_case_xor2.bad.yml",
        "storage not implemented",
    ),
    (
        "tsdb_retention_percentage.bad.yml",
        "storage not implemented",
    ),
    (
        "tsdb_retention_percentage_negative.bad.yml",
        "storage not implemented",
    ),
    ("tsdb_retention_size.bad.yml", "storage not implemented"),
    ("tsdb_retention_time.bad.yml", "storage not implemented"),
    (
        "uyuni_no_server.bad.yml",
        "uyuni_sd_configs not implemented",
    ),
    (
        "uyuni_token_file.bad.yml",
        "uyuni_sd_configs not implemented",
    ),
];

#[test]
fn every_good_file_loads() {
    let good = files_ending(".good.yml");
    assert!(good.len() > 40, "found only {} good files", good.len());
    for f in good {
        if let Err(e) = Config::load_file(&f) {
            panic!("{} must load: {e}", f.display());
        }
    }
}

#[test]
fn bad_files_are_refused_except_out_of_scope_ones() {
    let bad = files_ending(".bad.yml");
    assert!(bad.len() > 100, "found only {} bad files", bad.len());
    let mut loaded = BTreeSet::new();
    for f in &bad {
        let name = f.file_name().expect("name").to_string_lossy().into_owned();
        match Config::load_file(f) {
            Ok(l) => {
                assert!(
                    !l.warnings.is_empty(),
                    "{name} loads without a warning about the unimplemented section"
                );
                loaded.insert(name);
            }
            Err(e) => {
                let msg = e.to_string();
                assert!(!msg.contains('\n'), "{name}: multi-line error {msg:?}");
                assert!(
                    msg.contains(&name),
                    "{name}: error does not name the file: {msg}"
                );
            }
        }
    }
    let expected: BTreeSet<String> = OUT_OF_SCOPE.iter().map(|(f, _)| f.to_string()).collect();
    let unexpected_loads: Vec<_> = loaded.difference(&expected).collect();
    let unexpected_refusals: Vec<_> = expected.difference(&loaded).collect();
    assert!(
        unexpected_loads.is_empty() && unexpected_refusals.is_empty(),
        "bad files that load but are not listed out of scope: {unexpected_loads:?}; \
         listed out of scope but refused: {unexpected_refusals:?}"
    );
}

fn job<'a>(c: &'a Config, name: &str) -> &'a ScrapeConfig {
    c.scrape_configs
        .iter()
        .find(|s| s.job_name == name)
        .unwrap_or_else(|| panic!("job {name} missing"))
}

#[test]
fn conf_good_resolves_like_prometheus() {
    let dir = testdata();
    let l = Config::load_file(dir.join("conf.good.yml")).expect("conf.good.yml loads");
    let c = &l.config;
    let d = dir.to_string_lossy().into_owned();
    // Global (config_test.go's expectations).
    assert_eq!(c.global.scrape_interval.to_string(), "15s");
    assert_eq!(c.global.scrape_timeout.to_string(), "10s");
    assert_eq!(c.global.evaluation_interval.to_string(), "30s");
    assert_eq!(c.global.body_size_limit, 15 * 1024 * 1024);
    assert_eq!(c.global.sample_limit, 1500);
    assert_eq!(c.global.target_limit, 30);
    assert_eq!(c.global.label_value_length_limit, 200);
    assert_eq!(c.global.query_log_file, format!("{d}/query.log"));
    assert_eq!(c.global.external_labels.get("monitor"), Some("codelab"));
    assert_eq!(c.global.external_labels.get("foo"), Some("bar"));
    assert_eq!(
        c.rule_files,
        vec![format!("{d}/first.rules"), format!("{d}/my/*.rules")]
    );

    let p = job(c, "prometheus");
    assert!(p.honor_labels);
    assert!(p.honor_timestamps);
    assert_eq!(p.scrape_interval.to_string(), "15s");
    assert_eq!(p.scrape_timeout.to_string(), "10s");
    assert_eq!(p.metrics_path, "/metrics");
    assert_eq!(p.scheme, "http");
    assert!(p.enable_compression);
    assert_eq!(p.body_size_limit, 15 * 1024 * 1024);
    assert_eq!(p.sample_limit, 1500);
    assert_eq!(p.scrape_protocols, config::ScrapeProtocol::DEFAULT.to_vec());
    assert_eq!(
        p.fallback_scrape_protocol,
        Some(config::ScrapeProtocol::PrometheusText0_0_4)
    );
    assert_eq!(p.scrape_failure_log_file, format!("{d}/fail_prom.log"));
    assert_eq!(p.file_sd_configs.len(), 2);
    assert_eq!(
        p.file_sd_configs[0].files,
        vec![
            format!("{d}/foo/*.slow.json"),
            format!("{d}/foo/*.slow.yml"),
            format!("{d}/single/file.yml")
        ]
    );
    assert_eq!(p.file_sd_configs[0].refresh_interval.to_string(), "10m");
    assert_eq!(p.file_sd_configs[1].refresh_interval.to_string(), "5m");
    assert_eq!(
        p.static_configs[0].targets,
        vec!["localhost:9090", "localhost:9191"]
    );
    assert_eq!(
        p.static_configs[0].labels.get("my").map(String::as_str),
        Some("label")
    );
    assert_eq!(p.relabel_configs.len(), 6);
    assert_eq!(p.relabel_configs[0].replacement, "foo-${1}");
    assert_eq!(p.relabel_configs[0].target_label, "job");
    assert_eq!(p.relabel_configs[0].separator, ";");
    assert_eq!(
        p.relabel_configs[0].source_labels(),
        ["job".to_string(), "__meta_dns_name".to_string()]
    );
    let auth = p.http_client.authorization.as_ref().expect("authorization");
    assert_eq!(auth.kind, "Bearer");
    assert_eq!(auth.credentials_file, format!("{d}/valid_token_file"));
    assert!(p.http_client.follow_redirects);
    assert!(p.http_client.enable_http2);

    let x = job(c, "service-x");
    assert_eq!(x.scrape_interval.to_string(), "50s");
    assert_eq!(x.scrape_timeout.to_string(), "5s");
    assert_eq!(x.body_size_limit, 10 * 1024 * 1024);
    assert_eq!(x.sample_limit, 1000);
    assert_eq!(x.metrics_path, "/my_path");
    assert_eq!(x.scheme, "https");
    let ba = x.http_client.basic_auth.as_ref().expect("basic_auth");
    assert_eq!(ba.username, "admin_name");
    assert_eq!(ba.password.expose(), "multiline\nmysecret\ntest");
    assert_eq!(x.relabel_configs.len(), 6);
    assert_eq!(x.relabel_configs[1].modulus, 8);
    assert_eq!(x.metric_relabel_configs.len(), 1);
    assert_eq!(x.unsupported_sd_configs[0].key, "dns_sd_configs");
    assert_eq!(x.unsupported_sd_configs[0].configs.len(), 2);

    assert!(!job(c, "badfederation").honor_timestamps);
    let ns = job(c, "service-kubernetes-namespaces");
    assert_eq!(
        ns.http_client
            .basic_auth
            .as_ref()
            .expect("basic_auth")
            .password_file,
        format!("{d}/valid_password_file")
    );
    let z = job(c, "service-z");
    assert_eq!(
        z.http_client.tls_config.cert_file,
        format!("{d}/valid_cert_file")
    );

    assert_eq!(c.alerting.alertmanagers.len(), 1);
    let am = &c.alerting.alertmanagers[0];
    assert_eq!(am.scheme, "https");
    assert_eq!(am.timeout.to_string(), "10s");
    assert_eq!(am.api_version, config::AlertmanagerApiVersion::V2);
    assert_eq!(
        am.static_configs[0].targets,
        vec!["1.2.3.4:9093", "1.2.3.5:9093", "1.2.3.6:9093"]
    );
    assert!(am.http_client.follow_redirects && am.http_client.enable_http2);

    assert_eq!(c.remote_write.len(), 2);
    let rw0 = &c.remote_write[0];
    assert_eq!(rw0.url, "http://remote1/push");
    assert_eq!(rw0.name, "drop_expensive");
    assert_eq!(rw0.remote_timeout.to_string(), "30s");
    assert_eq!(rw0.write_relabel_configs.len(), 1);
    assert_eq!(rw0.queue_config.capacity, 10_000);
    assert_eq!(rw0.queue_config.max_shards, 50);
    assert_eq!(rw0.queue_config.max_samples_per_send, 2000);
    assert_eq!(rw0.queue_config.batch_send_deadline.to_string(), "5s");
    assert_eq!(rw0.queue_config.min_backoff.to_string(), "30ms");
    assert!(rw0.metadata_config.send);
    assert_eq!(rw0.metadata_config.send_interval.to_string(), "1m");
    assert!(!rw0.http_client.enable_http2);
    let rw1 = &c.remote_write[1];
    assert_eq!(rw1.protobuf_message, ProtobufMessage::V2);
    assert_eq!(rw1.headers.get("name").map(String::as_str), Some("value"));
    assert_eq!(
        rw1.http_client.tls_config.key_file,
        format!("{d}/valid_key_file")
    );

    // Unimplemented sections are named, one warning each, in the required form.
    let text: Vec<String> = l.warnings.iter().map(ToString::to_string).collect();
    for key in ["remote_read", "storage", "tracing", "otlp", "runtime"] {
        assert!(
            text.iter()
                .any(|w| w.ends_with(&format!(": {key} is not supported yet"))),
            "no warning for {key}: {text:?}"
        );
    }
    // Rules and alerting are evaluated and delivered: nothing to warn about.
    for key in ["rule_files", "alerting", "rule_query_offset"] {
        assert!(
            !text.iter().any(|w| w.contains(&format!(" {key} is not"))),
            "warning for supported {key}: {text:?}"
        );
    }
    assert!(
        text.iter()
            .any(|w| w.ends_with("].kubernetes_sd_configs is not supported yet"))
    );
    assert!(
        text.iter()
            .any(|w| w.ends_with("remote_write[0].oauth2 is not supported yet"))
    );
}

#[test]
fn retry_on_rate_limit_follows_the_file() {
    let l = Config::load_file(testdata().join("remote_write_retry_on_rate_limit.good.yml"))
        .expect("loads");
    assert!(l.config.remote_write[0].queue_config.retry_on_http_429);
    assert!(!l.config.remote_write[1].queue_config.retry_on_http_429);
}

#[test]
fn global_timeout_and_interval_files() {
    let l = Config::load_file(testdata().join("global_timeout.good.yml")).expect("loads");
    assert!(l.config.global.scrape_timeout <= l.config.global.scrape_interval);
    let l = Config::load_file(testdata().join("scrape_interval_larger.good.yml")).expect("loads");
    for s in &l.config.scrape_configs {
        assert!(s.scrape_timeout <= s.scrape_interval, "{}", s.job_name);
    }
}

#[test]
fn validation_mode_files_resolve_as_config_test_says() {
    use config::NameValidationScheme::{Legacy, Utf8};
    let cases = [
        (
            "scrape_config_default_validation_mode.yml",
            Utf8,
            "allow-utf-8",
        ),
        ("scrape_config_global_validation_mode.yml", Legacy, "dots"),
        ("scrape_config_local_validation_mode.yml", Legacy, "values"),
        (
            "scrape_config_local_global_validation_mode.yml",
            Utf8,
            "dots",
        ),
        (
            "scrape_config_local_infer_escaping.yml",
            Legacy,
            "underscores",
        ),
    ];
    for (file, scheme, escaping) in cases {
        let l = Config::load_file(testdata().join(file)).expect(file);
        let s = &l.config.scrape_configs[0];
        assert_eq!(s.metric_name_validation_scheme, scheme, "{file}");
        assert_eq!(s.metric_name_escaping_scheme, escaping, "{file}");
    }
}

#[test]
fn compression_can_be_disabled() {
    let l = Config::load_file(testdata().join("scrape_config_disable_compression.good.yml"))
        .expect("loads");
    assert!(!l.config.scrape_configs[0].enable_compression);
}

#[test]
fn empty_file_is_all_defaults() {
    let dir = std::env::temp_dir();
    let l = Config::load_str("# nothing\n", "empty.yml", &dir).expect("loads");
    assert_eq!(l.config.global, config::GlobalConfig::default());
    assert!(l.config.scrape_configs.is_empty());
}

#[test]
fn alertmanager_api_v1_is_refused_as_in_prometheus_3() {
    let f = testdata().join("config_with_deprecated_am_api_config.yml");
    let e = Config::load_file(&f).expect_err("v1 refused").to_string();
    assert!(
        e.contains(":4: alerting.alertmanagers[0].api_version: expected Alertmanager api version to be one of [v2] but got v1"),
        "{e}"
    );
}

#[test]
fn alertmanager_discovery_files_resolve_against_the_config_directory() {
    let dir = testdata();
    let l = Config::load_file(dir.join("roundtrip.good.yml")).expect("loads");
    let am = &l.config.alerting.alertmanagers[0];
    let d = dir.to_string_lossy().into_owned();
    assert_eq!(am.file_sd_configs.len(), 2);
    assert_eq!(
        am.file_sd_configs[0].files[0],
        format!("{d}/foo/*.slow.json")
    );
    assert_eq!(am.file_sd_configs[0].refresh_interval.to_string(), "10m");
    assert_eq!(am.static_configs[0].targets.len(), 3);
}
