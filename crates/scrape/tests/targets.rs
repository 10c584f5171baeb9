//! Target label derivation, after the scenarios of Prometheus's `TestPopulateLabels`.

mod common;

use common::scrape_configs;
use model::Labels;
use scrape::ClusterLabel;
use scrape::target::{Derived, TargetError, populate_labels, targets_from_groups};

fn l(pairs: &[(&str, &str)]) -> Labels {
    Labels::from_pairs(pairs.iter().copied())
}

fn cfg(extra: &str) -> config::ScrapeConfig {
    let yaml = format!(
        "scrape_configs:\n  - job_name: job\n    scrape_interval: 1s\n    scrape_timeout: 1s\n{extra}"
    );
    scrape_configs(&yaml).remove(0)
}

fn derive(
    c: &config::ScrapeConfig,
    target: &Labels,
    group: &Labels,
) -> Result<Derived, TargetError> {
    populate_labels(c, target, group, &ClusterLabel::None)
}

fn kept(d: Result<Derived, TargetError>) -> scrape::target::Target {
    match d {
        Ok(Derived::Target(t)) => t,
        other => panic!("expected a target, got {other:?}"),
    }
}

#[test]
fn defaults_are_added() {
    let t = kept(derive(
        &cfg(""),
        &l(&[("__address__", "1.2.3.4:1000"), ("custom", "value")]),
        &Labels::empty(),
    ));
    assert_eq!(
        *t.all_labels(),
        l(&[
            ("__address__", "1.2.3.4:1000"),
            ("__metrics_path__", "/metrics"),
            ("__scheme__", "http"),
            ("__scrape_interval__", "1s"),
            ("__scrape_timeout__", "1s"),
            ("custom", "value"),
            ("instance", "1.2.3.4:1000"),
            ("job", "job"),
        ])
    );
    assert_eq!(
        t.labels(),
        l(&[
            ("custom", "value"),
            ("instance", "1.2.3.4:1000"),
            ("job", "job")
        ])
    );
    assert_eq!(
        *t.discovered_labels(),
        l(&[
            ("__address__", "1.2.3.4:1000"),
            ("__metrics_path__", "/metrics"),
            ("__scheme__", "http"),
            ("__scrape_interval__", "1s"),
            ("__scrape_timeout__", "1s"),
            ("custom", "value"),
            ("job", "job"),
        ])
    );
    assert_eq!(t.url(), "http://1.2.3.4:1000/metrics");
}

#[test]
fn given_values_win_over_defaults_and_target_over_group() {
    let t = kept(derive(
        &cfg(""),
        &l(&[
            ("__address__", "1.2.3.4:80"),
            ("__scheme__", "https"),
            ("__metrics_path__", "/custom"),
            ("job", "custom-job"),
            ("__scrape_interval__", "2s"),
            ("__scrape_timeout__", "2s"),
            ("instance", "custom-instance"),
            ("env", "target"),
        ]),
        &l(&[("env", "group"), ("team", "t")]),
    ));
    assert_eq!(
        t.labels(),
        l(&[
            ("env", "target"),
            ("instance", "custom-instance"),
            ("job", "custom-job"),
            ("team", "t"),
        ])
    );
    assert_eq!(t.url(), "https://1.2.3.4:80/custom");
    assert_eq!(t.interval(), std::time::Duration::from_secs(2));
}

#[test]
fn missing_or_invalid_address_is_an_error() {
    let c = cfg("");
    assert_eq!(
        derive(&c, &l(&[("custom", "value")]), &Labels::empty()),
        Err(TargetError::NoAddress)
    );
    assert_eq!(
        derive(&c, &l(&[("__address__", "a/b")]), &Labels::empty()),
        Err(TargetError::InvalidAddress("a/b".into()))
    );
    // An address added by relabelling is fine.
    let c = cfg(
        "    relabel_configs:\n      - source_labels: [custom]\n        target_label: __address__\n",
    );
    let t = kept(derive(&c, &l(&[("custom", "host:1")]), &Labels::empty()));
    assert_eq!(t.labels().get("instance"), Some("host:1"));
}

#[test]
fn relabelling_can_drop_and_meta_labels_go() {
    let c = cfg(
        "    relabel_configs:\n      - source_labels: [__meta_keep]\n        regex: 'no'\n        action: drop\n      - source_labels: [__meta_x]\n        target_label: x\n",
    );
    let group = l(&[("__meta_keep", "yes"), ("__meta_x", "from-meta")]);
    let t = kept(derive(&c, &l(&[("__address__", "h:1")]), &group));
    assert_eq!(t.labels().get("x"), Some("from-meta"));
    assert!(
        t.all_labels()
            .iter()
            .all(|l| !l.name.starts_with("__meta_"))
    );
    match derive(
        &c,
        &l(&[("__address__", "h:1"), ("__meta_keep", "no")]),
        &Labels::empty(),
    ) {
        Ok(Derived::Dropped(d)) => assert_eq!(d.get("__meta_keep"), Some("no")),
        other => panic!("expected dropped, got {other:?}"),
    }
}

#[test]
fn params_become_labels_and_labels_override_params() {
    let c = cfg("    params:\n      module: [a, b]\n      other: [x]\n");
    let t = kept(derive(&c, &l(&[("__address__", "h:1")]), &Labels::empty()));
    assert_eq!(t.all_labels().get("__param_module"), Some("a"));
    assert_eq!(t.url(), "http://h:1/metrics?module=a&module=b&other=x");
    let t = kept(derive(
        &c,
        &l(&[
            ("__address__", "h:1"),
            ("__param_module", "z"),
            ("__param_new", "n v"),
        ]),
        &Labels::empty(),
    ));
    assert_eq!(
        t.url(),
        "http://h:1/metrics?module=z&module=b&new=n+v&other=x"
    );
}

#[test]
fn interval_and_timeout_are_checked() {
    let c = cfg("");
    let bad = |extra: &[(&str, &str)]| {
        let mut pairs = vec![("__address__", "h:1")];
        pairs.extend_from_slice(extra);
        derive(&c, &l(&pairs), &Labels::empty())
            .expect_err("invalid")
            .to_string()
    };
    assert_eq!(
        bad(&[("__scrape_timeout__", "2s")]),
        r#"scrape timeout cannot be greater than scrape interval ("2s" > "1s")"#
    );
    assert_eq!(
        bad(&[("__scrape_interval__", "0s")]),
        "scrape interval cannot be 0"
    );
    assert!(bad(&[("__scrape_interval__", "soon")]).starts_with("error parsing scrape interval"));
}

#[test]
fn groups_give_targets_dropped_and_errors() {
    let c = cfg(
        "    relabel_configs:\n      - source_labels: [__address__]\n        regex: 'drop.*'\n        action: drop\n",
    );
    let groups = vec![discovery::TargetGroup {
        source: "0".into(),
        targets: vec![
            l(&[("__address__", "keep:1")]),
            l(&[("__address__", "drop:1")]),
            l(&[("x", "no-address")]),
        ],
        labels: l(&[("g", "1")]),
    }];
    let out = targets_from_groups(&c, &groups, &ClusterLabel::Default("hub".into()));
    assert_eq!(out.targets.len(), 1);
    assert_eq!(out.targets[0].labels().get("g"), Some("1"));
    assert_eq!(out.targets[0].labels().get("cluster"), Some("hub"));
    assert_eq!(out.dropped.len(), 1);
    assert_eq!(out.errors.len(), 1);
}

#[test]
fn offset_is_stable_and_within_the_interval() {
    let c = cfg("");
    let t = kept(derive(&c, &l(&[("__address__", "h:1")]), &Labels::empty()));
    let u = kept(derive(&c, &l(&[("__address__", "h:2")]), &Labels::empty()));
    let now = 1_700_000_000_123_456_789u128;
    assert_eq!(t.offset(now, 0), t.offset(now, 0));
    assert!(t.offset(now, 0) <= t.interval());
    assert_ne!(t.hash(), u.hash());
    // One interval later the target lands on the same phase.
    assert_eq!(t.offset(now, 0), t.offset(now + 1_000_000_000, 0));
}
