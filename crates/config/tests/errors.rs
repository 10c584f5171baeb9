//! Every refusal is one line naming file, line and field; every warning is one line.

use std::path::Path;

use config::{Config, ConfigError};

fn load(text: &str) -> Result<config::Loaded, ConfigError> {
    Config::load_str(text, "prom.yml", Path::new("/etc/prometheus"))
}

fn invalid(text: &str) -> (u64, String, String) {
    match load(text) {
        Err(ConfigError::Invalid {
            pos,
            field,
            message,
        }) => {
            assert_eq!(pos.file, "prom.yml");
            (pos.line, field, message)
        }
        other => panic!("expected an invalid-config error, got {other:?}"),
    }
}

const HEAD: &str = "global:\n  scrape_interval: 15s\nscrape_configs:\n  - job_name: a\n";

#[test]
fn misspelled_key_names_file_line_and_field() {
    let text = format!("{HEAD}    scrape_intervall: 5s\n");
    let (line, field, msg) = invalid(&text);
    assert_eq!(line, 5);
    assert_eq!(field, "scrape_configs[0].scrape_intervall");
    assert!(msg.contains("unknown field"), "{msg}");
    let rendered = load(&text).expect_err("invalid").to_string();
    assert!(
        rendered.starts_with("prom.yml:5: scrape_configs[0].scrape_intervall: unknown field"),
        "{rendered}"
    );
}

#[test]
fn wrong_value_names_file_line_and_field() {
    let text = format!("{HEAD}    scrape_interval: 5x\n");
    let e = load(&text).expect_err("invalid").to_string();
    assert_eq!(
        e,
        "prom.yml:5: scrape_configs[0].scrape_interval: not a valid duration string: \"5x\""
    );
}

#[test]
fn validation_errors_point_at_the_key() {
    let text = format!("{HEAD}    scrape_interval: 5s\n    scrape_timeout: 6s\n");
    let (line, field, msg) = invalid(&text);
    assert_eq!(
        (line, field.as_str()),
        (6, "scrape_configs[0].scrape_timeout")
    );
    assert!(
        msg.starts_with("scrape timeout greater than scrape interval"),
        "{msg}"
    );

    let text = format!("{HEAD}  - job_name: b\n  - job_name: a\n");
    let (line, field, msg) = invalid(&text);
    assert_eq!((line, field.as_str()), (6, "scrape_configs[2].job_name"));
    assert_eq!(msg, "found multiple scrape configs with job name \"a\"");

    let text = format!("{HEAD}    bearer_token: x\n    bearer_token_file: y\n");
    let (line, field, _) = invalid(&text);
    assert_eq!(
        (line, field.as_str()),
        (5, "scrape_configs[0].bearer_token")
    );

    let text = format!(
        "{HEAD}    basic_auth:\n      username: u\n      password: p\n      password_file: f\n"
    );
    let (_, field, msg) = invalid(&text);
    assert_eq!(field, "scrape_configs[0].basic_auth");
    assert!(msg.contains("password, password_file"), "{msg}");

    let text = format!(
        "{HEAD}    static_configs:\n      - targets: [a:1]\n        labels:\n          \"\": x\n"
    );
    let (_, field, msg) = invalid(&text);
    assert_eq!(field, "scrape_configs[0].static_configs");
    assert!(msg.contains("is not a valid label name"), "{msg}");

    let text = format!("{HEAD}    file_sd_configs:\n      - files: [targets.txt]\n");
    let (_, _, msg) = invalid(&text);
    assert_eq!(
        msg,
        "path name \"targets.txt\" is not valid for file discovery"
    );

    let text = format!("{HEAD}    scheme: ftp\n");
    let (line, field, _) = invalid(&text);
    assert_eq!((line, field.as_str()), (5, "scrape_configs[0].scheme"));

    let (line, field, _) = invalid(
        "global:\n  external_labels:\n    cluster: a\n  metric_name_validation_scheme: legacy\n  nope: 1\n",
    );
    assert_eq!((line, field.as_str()), (5, "global.nope"));

    let (_, field, msg) = invalid(
        "global:\n  metric_name_validation_scheme: legacy\n  external_labels:\n    a.b: x\n",
    );
    assert_eq!(field, "global.external_labels");
    assert_eq!(msg, "\"a.b\" is not a valid label name");
}

#[test]
fn remote_write_checks() {
    let (line, field, msg) = invalid(
        "remote_write:\n  - name: q\n    url: http://a/\n  - name: q\n    url: http://b/\n",
    );
    assert_eq!((line, field.as_str()), (4, "remote_write[1].name"));
    assert!(
        msg.starts_with("found multiple remote write configs"),
        "{msg}"
    );
    let (_, field, msg) = invalid("remote_write:\n  - url: \"http://host:port/\"\n");
    assert_eq!(field, "remote_write[0].url");
    assert!(msg.contains("invalid port"), "{msg}");
}

#[test]
fn unsupported_sections_warn_in_the_required_form() {
    // rule_files, alerting and rule_query_offset are supported: no warning for them.
    let l = load("global:\n  rule_query_offset: 1m\nrule_files:\n  - a.rules\nalerting:\n  alertmanagers: []\nscrape_configs:\n  - job_name: k\n    kubernetes_sd_configs:\n      - role: pod\n    oauth2:\n      client_id: x\n      token_url: http://t/\n").expect("loads");
    let w: Vec<String> = l.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        w,
        vec![
            "prom.yml:9: scrape_configs[0].kubernetes_sd_configs is not supported yet",
            "prom.yml:11: scrape_configs[0].oauth2 is not supported yet",
        ]
    );
    assert_eq!(l.config.rule_files, vec!["/etc/prometheus/a.rules"]);
}

#[test]
fn alertmanager_checks_name_file_line_and_field() {
    const AM: &str =
        "alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: [am:9093]\n";
    let (line, field, msg) = invalid(&format!("{AM}    - api_version: v1\n"));
    assert_eq!(
        (line, field.as_str()),
        (5, "alerting.alertmanagers[1].api_version")
    );
    assert_eq!(
        msg,
        "expected Alertmanager api version to be one of [v2] but got v1"
    );

    let (line, field, msg) = invalid(&format!(
        "{AM}    - scheme: https\n      relabel_configs:\n        -\n"
    ));
    assert_eq!(
        (line, field.as_str()),
        (6, "alerting.alertmanagers[1].relabel_configs")
    );
    assert_eq!(msg, "empty or null Alertmanager target relabeling rule");

    let (line, field, msg) = invalid(
        "alerting:\n  alertmanagers:\n    - timeout: 5s\n      static_configs:\n        - targets: [\"http://am:9093/\"]\n",
    );
    assert_eq!(
        (line, field.as_str()),
        (4, "alerting.alertmanagers[0].static_configs")
    );
    assert_eq!(msg, "\"http://am:9093/\" is not a valid hostname");

    let (line, field, msg) = invalid(&format!(
        "{AM}      alert_relabel_configs:\n        - action: replace\n          target_label: \"\"\n"
    ));
    assert_eq!(
        (line, field.as_str()),
        (5, "alerting.alertmanagers[0].alert_relabel_configs[0]")
    );
    assert!(msg.contains("target_label"), "{msg}");

    let (line, field, _) = invalid(&format!("{AM}      timeout: 5x\n"));
    assert_eq!(
        (line, field.as_str()),
        (5, "alerting.alertmanagers[0].timeout")
    );

    let (line, field, msg) = invalid(&format!(
        "{AM}      bearer_token: a\n      bearer_token_file: b\n"
    ));
    assert_eq!(
        (line, field.as_str()),
        (5, "alerting.alertmanagers[0].bearer_token")
    );
    assert!(msg.starts_with("at most one of bearer_token"), "{msg}");

    let (line, field, _) = invalid(&format!("{AM}      scheme: ftp\n"));
    assert_eq!(
        (line, field.as_str()),
        (5, "alerting.alertmanagers[0].scheme")
    );

    let (line, field, _) = invalid(&format!("{AM}      timeuot: 5s\n"));
    assert_eq!(
        (line, field.as_str()),
        (5, "alerting.alertmanagers[0].timeuot")
    );
}

#[test]
fn alertmanager_settings_resolve() {
    let l = load(
        "alerting:\n  alertmanagers:\n    - scheme: https\n      path_prefix: /am\n      timeout: 3s\n      basic_auth:\n        username: u\n        password_file: pw\n      tls_config:\n        ca_file: ca.pem\n      static_configs:\n        - targets: [am:9093]\n          labels: {dc: a}\n      kubernetes_sd_configs:\n        - role: pod\n",
    )
    .expect("loads");
    let am = &l.config.alerting.alertmanagers[0];
    assert_eq!(am.scheme, "https");
    assert_eq!(am.path_prefix, "/am");
    assert_eq!(am.timeout.to_string(), "3s");
    let ba = am.http_client.basic_auth.as_ref().expect("basic_auth");
    assert_eq!(ba.password_file, "/etc/prometheus/pw");
    assert_eq!(am.http_client.tls_config.ca_file, "/etc/prometheus/ca.pem");
    assert_eq!(
        am.static_configs[0].labels.get("dc").map(String::as_str),
        Some("a")
    );
    assert_eq!(am.unsupported_sd_configs[0].key, "kubernetes_sd_configs");
    let w: Vec<String> = l.warnings.iter().map(ToString::to_string).collect();
    assert!(
        w.contains(
            &"prom.yml:14: alerting.alertmanagers[0].kubernetes_sd_configs is not supported yet"
                .to_string()
        ),
        "{w:?}"
    );
}

#[test]
fn fleet_section_is_strict() {
    assert!(load("fleet: {}\n").is_ok());
    let (line, field, _) = invalid("fleet:\n  clusters: []\n");
    assert_eq!((line, field.as_str()), (2, "fleet.clusters"));
}

#[test]
fn hostile_yaml_is_refused_not_expanded() {
    // A billion-laughs style alias bomb must hit the parser's budget.
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let prev = i - 1;
        text.push_str(&format!(
            "a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
        ));
    }
    assert!(load(&text).is_err());
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    assert!(load(&format!("rule_files: {deep}\n")).is_err());
}

#[test]
fn external_labels_expand_environment() {
    // PATH is set in every test environment; `$$` stays a literal dollar.
    let path = std::env::var("PATH").expect("PATH set");
    let l = load("global:\n  external_labels:\n    p: $PATH\n    d: a$$b\n").expect("loads");
    assert_eq!(
        l.config.global.external_labels.get("p"),
        Some(path.as_str())
    );
    assert_eq!(l.config.global.external_labels.get("d"), Some("a$b"));
}

#[test]
fn check_config_reports_missing_file() {
    let e = config::check_config("/nonexistent/prom.yml").expect_err("missing");
    assert!(
        e.to_string()
            .starts_with("/nonexistent/prom.yml: cannot read configuration")
    );
}
