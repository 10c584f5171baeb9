//! End-to-end scrape behaviour against in-process HTTP targets.

mod common;

use common::*;
use model::{Labels, is_stale_nan};
use scrape::{ClusterLabel, Health};

fn up_values(rec: &Recorder) -> Vec<f64> {
    rec.of("up").iter().map(|r| r.v).collect()
}

#[tokio::test]
async fn samples_report_series_headers_and_metadata() {
    let t = TestTarget::start(Page::text(
        "# HELP foo_total Foos.\n# TYPE foo_total counter\nfoo_total{a=\"1\"} 3\nbar 2\n",
    ))
    .await;
    let (m, rec) = start(&job_yaml("j", t.addr, ""), ClusterLabel::None);
    wait_for("a scrape", || !rec.of("up").is_empty()).await;
    let inst = t.addr.to_string();
    let foo = rec.of("foo_total");
    assert_eq!(
        foo[0].labels,
        Labels::from_pairs([
            ("__name__", "foo_total"),
            ("a", "1"),
            ("job", "j"),
            ("instance", inst.as_str())
        ])
    );
    assert_eq!(foo[0].v, 3.0);
    let first = |name: &str| rec.of(name)[0].clone();
    let up = first("up");
    assert_eq!(up.v, 1.0);
    assert_eq!(
        up.labels,
        Labels::from_pairs([
            ("__name__", "up"),
            ("job", "j"),
            ("instance", inst.as_str())
        ])
    );
    assert_eq!(up.t, foo[0].t, "samples and report share the scrape time");
    assert_eq!(first("scrape_samples_scraped").v, 2.0);
    assert_eq!(first("scrape_samples_post_metric_relabeling").v, 2.0);
    assert_eq!(first("scrape_series_added").v, 2.0);
    let d = first("scrape_duration_seconds").v;
    assert!(d > 0.0 && d < 1.0, "{d}");
    wait_for("a second scrape", || rec.of("up").len() >= 2).await;
    assert_eq!(rec.of("scrape_series_added")[1].v, 0.0);

    let meta = rec.metadata();
    let foo_meta = meta
        .iter()
        .find(|(n, _)| n == "foo_total")
        .expect("metadata");
    assert_eq!(foo_meta.1.metric_type, model::MetricType::Counter);
    assert_eq!(foo_meta.1.help, "Foos.");
    assert_eq!(
        meta.iter().filter(|(n, _)| n == "foo_total").count(),
        1,
        "unchanged metadata is passed once"
    );

    let req = &t.seen()[0];
    assert_eq!(req.uri.path(), "/metrics");
    let h = |n: &str| {
        req.headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    assert_eq!(h("accept"), exposition::SCRAPE_ACCEPT_HEADER);
    assert!(
        h("user-agent").starts_with("Fleetwatch/"),
        "{}",
        h("user-agent")
    );
    assert!(
        h("accept-encoding").contains("gzip"),
        "{}",
        h("accept-encoding")
    );
    assert_eq!(h("x-prometheus-scrape-timeout-seconds"), "0.1");

    let ts = m.targets();
    assert_eq!(ts.len(), 1);
    assert_eq!(ts[0].health, Health::Up);
    assert_eq!(ts[0].scrape_url, format!("http://{inst}/metrics"));
    assert_eq!(ts[0].job, "j");
    assert!(ts[0].last_scrape.is_some());
    assert_eq!(
        ts[0].discovered_labels.get("__address__"),
        Some(inst.as_str())
    );
    m.shutdown().await;
}

#[tokio::test]
async fn gzip_bodies_are_decompressed() {
    let mut p = Page::text("g 7\n");
    p.gzip = true;
    let t = TestTarget::start(p).await;
    let (m, rec) = start(&job_yaml("j", t.addr, ""), ClusterLabel::None);
    wait_for("g", || !rec.of("g").is_empty()).await;
    assert_eq!(rec.of("g")[0].v, 7.0);
    m.shutdown().await;
}

#[tokio::test]
async fn honor_labels_off_renames_conflicts_on_keeps_them() {
    let body = "m{job=\"other\",instance=\"x\",exported_job=\"e\"} 1\n";
    let t = TestTarget::start(Page::text(body)).await;
    let (m, rec) = start(&job_yaml("j", t.addr, ""), ClusterLabel::None);
    wait_for("m", || !rec.of("m").is_empty()).await;
    let l = rec.of("m")[0].labels.clone();
    let inst = t.addr.to_string();
    assert_eq!(l.get("job"), Some("j"));
    assert_eq!(l.get("instance"), Some(inst.as_str()));
    assert_eq!(l.get("exported_instance"), Some("x"));
    assert_eq!(l.get("exported_job"), Some("e"));
    assert_eq!(l.get("exported_exported_job"), Some("other"));
    m.shutdown().await;

    let (m, rec) = start(
        &job_yaml("j", t.addr, "    honor_labels: true\n"),
        ClusterLabel::None,
    );
    wait_for("m", || !rec.of("m").is_empty()).await;
    let l = rec.of("m")[0].labels.clone();
    assert_eq!(l.get("job"), Some("other"));
    assert_eq!(l.get("instance"), Some("x"));
    assert_eq!(l.get("exported_job"), Some("e"));
    m.shutdown().await;
}

#[tokio::test]
async fn metric_relabel_drops_and_rewrites() {
    let t = TestTarget::start(Page::text("keep_me{a=\"1\"} 1\ndrop_me 2\n")).await;
    let extra = "    metric_relabel_configs:\n      - source_labels: [__name__]\n        regex: drop_.*\n        action: drop\n      - target_label: added\n        replacement: yes\n";
    let (m, rec) = start(&job_yaml("j", t.addr, extra), ClusterLabel::None);
    wait_for("a scrape", || !rec.of("up").is_empty()).await;
    assert!(rec.of("drop_me").is_empty());
    assert_eq!(rec.of("keep_me")[0].labels.get("added"), Some("yes"));
    assert_eq!(rec.of("scrape_samples_scraped")[0].v, 2.0);
    assert_eq!(rec.of("scrape_samples_post_metric_relabeling")[0].v, 1.0);
    m.shutdown().await;
}

#[tokio::test]
async fn sample_limit_exceeded_fails_the_whole_scrape() {
    let t = TestTarget::start(Page::text("a 1\nb 2\nc 3\n")).await;
    let (m, rec) = start(
        &job_yaml("j", t.addr, "    sample_limit: 2\n"),
        ClusterLabel::None,
    );
    wait_for("a scrape", || !rec.of("up").is_empty()).await;
    assert_eq!(up_values(&rec)[0], 0.0);
    for name in ["a", "b", "c"] {
        assert!(rec.of(name).is_empty(), "{name} stored");
    }
    assert_eq!(rec.of("scrape_samples_scraped")[0].v, 3.0);
    let ts = m.targets();
    assert_eq!(ts[0].health, Health::Down);
    assert!(
        ts[0].last_error.contains("sample limit exceeded"),
        "{}",
        ts[0].last_error
    );
    m.shutdown().await;
}

#[tokio::test]
async fn label_limits_fail_the_scrape() {
    let t = TestTarget::start(Page::text("a{x=\"1\",y=\"2\"} 1\n")).await;
    let (m, rec) = start(
        &job_yaml("j", t.addr, "    label_limit: 3\n"),
        ClusterLabel::None,
    );
    wait_for("a scrape", || !rec.of("up").is_empty()).await;
    assert_eq!(up_values(&rec)[0], 0.0);
    assert!(rec.of("a").is_empty());
    assert!(m.targets()[0].last_error.contains("label_limit exceeded"));
    m.shutdown().await;

    let (m, rec) = start(
        &job_yaml(
            "j",
            t.addr,
            "    label_value_length_limit: 0\n    label_name_length_limit: 1\n",
        ),
        ClusterLabel::None,
    );
    wait_for("a scrape", || !rec.of("up").is_empty()).await;
    assert_eq!(up_values(&rec)[0], 0.0);
    assert!(
        m.targets()[0]
            .last_error
            .contains("label_name_length_limit exceeded")
    );
    m.shutdown().await;
}

#[tokio::test]
async fn body_size_limit_fails_the_scrape() {
    let t = TestTarget::start(Page::text(&"x 1\n".repeat(100))).await;
    let (m, rec) = start(
        &job_yaml("j", t.addr, "    body_size_limit: 100B\n"),
        ClusterLabel::None,
    );
    wait_for("a scrape", || !rec.of("up").is_empty()).await;
    assert_eq!(up_values(&rec)[0], 0.0);
    assert!(
        m.targets()[0].last_error.contains("body size limit"),
        "{}",
        m.targets()[0].last_error
    );
    m.shutdown().await;
}

#[tokio::test]
async fn vanished_series_get_a_stale_marker() {
    let t = TestTarget::start(Page::text("a 1\nb 2\n")).await;
    let (m, rec) = start(&job_yaml("j", t.addr, ""), ClusterLabel::None);
    wait_for("b", || !rec.of("b").is_empty()).await;
    t.set_body("a 1\n");
    wait_for("stale b", || rec.of("b").iter().any(|r| is_stale_nan(r.v))).await;
    let b = rec.of("b");
    let stale = b.iter().find(|r| is_stale_nan(r.v)).expect("stale");
    // The marker carries the time of the scrape that no longer had the series.
    assert!(rec.of("up").iter().any(|u| u.t == stale.t));
    assert!(rec.of("a").iter().all(|r| !is_stale_nan(r.v)));
    m.shutdown().await;
}

#[tokio::test]
async fn failed_scrape_marks_everything_stale() {
    let t = TestTarget::start(Page::text("a 1\nb 2\n")).await;
    let (m, rec) = start(&job_yaml("j", t.addr, ""), ClusterLabel::None);
    wait_for("a", || !rec.of("a").is_empty()).await;
    let mut p = Page::text("a 1\n");
    p.status = 500;
    t.set(p);
    wait_for("up=0", || up_values(&rec).contains(&0.0)).await;
    for name in ["a", "b"] {
        assert!(rec.of(name).iter().any(|r| is_stale_nan(r.v)), "{name}");
    }
    let ts = m.targets();
    assert_eq!(ts[0].health, Health::Down);
    assert_eq!(
        ts[0].last_error,
        "server returned HTTP status 500 Internal Server Error"
    );
    m.shutdown().await;
}

#[tokio::test]
async fn removed_target_marks_its_series_and_report_stale() {
    let t = TestTarget::start(Page::text("a 1\n")).await;
    let yaml = job_yaml("j", t.addr, "");
    let (m, rec) = start(&yaml, ClusterLabel::None);
    wait_for("a", || !rec.of("a").is_empty()).await;
    m.sync(Default::default());
    wait_for("stale up", || {
        rec.of("up").iter().any(|r| is_stale_nan(r.v))
    })
    .await;
    assert!(rec.of("a").iter().any(|r| is_stale_nan(r.v)));
    for name in scrape::append::REPORT_METRICS {
        assert!(rec.of(name).iter().any(|r| is_stale_nan(r.v)), "{name}");
    }
    assert!(m.targets().is_empty());

    // A job removed from the configuration does the same.
    let (m2, rec2) = start(&yaml, ClusterLabel::None);
    wait_for("a", || !rec2.of("a").is_empty()).await;
    m2.apply_config(&[]);
    wait_for("stale a", || rec2.of("a").iter().any(|r| is_stale_nan(r.v))).await;
    m.shutdown().await;
    m2.shutdown().await;
}

#[tokio::test]
async fn forced_cluster_is_stamped_and_a_scraped_one_exported() {
    let t = TestTarget::start(Page::text("m{cluster=\"other\"} 1\nn 2\n")).await;
    let (m, rec) = start(
        &job_yaml("j", t.addr, ""),
        ClusterLabel::Force("east".into()),
    );
    wait_for("m", || !rec.of("m").is_empty()).await;
    let l = rec.of("m")[0].labels.clone();
    assert_eq!(l.get("cluster"), Some("east"));
    assert_eq!(l.get("exported_cluster"), Some("other"));
    assert_eq!(rec.of("n")[0].labels.get("cluster"), Some("east"));
    assert_eq!(rec.of("up")[0].labels.get("cluster"), Some("east"));
    m.shutdown().await;

    let (m, rec) = start(
        &job_yaml("j", t.addr, "    honor_labels: true\n"),
        ClusterLabel::Force("east".into()),
    );
    wait_for("m", || !rec.of("m").is_empty()).await;
    let l = rec.of("m")[0].labels.clone();
    assert_eq!(l.get("cluster"), Some("east"));
    assert_eq!(l.get("exported_cluster"), None);
    m.shutdown().await;
}

#[tokio::test]
async fn default_cluster_is_a_target_label() {
    let t = TestTarget::start(Page::text("m{cluster=\"spoke\"} 1\nn 2\n")).await;
    let (m, rec) = start(
        &job_yaml("j", t.addr, ""),
        ClusterLabel::Default("hub".into()),
    );
    wait_for("m", || !rec.of("m").is_empty()).await;
    let l = rec.of("m")[0].labels.clone();
    assert_eq!(l.get("cluster"), Some("hub"));
    assert_eq!(l.get("exported_cluster"), Some("spoke"));
    assert_eq!(rec.of("n")[0].labels.get("cluster"), Some("hub"));
    assert_eq!(rec.of("up")[0].labels.get("cluster"), Some("hub"));
    assert_eq!(m.targets()[0].labels.get("cluster"), Some("hub"));
    m.shutdown().await;

    // honor_labels keeps the scraped cluster; a target label set by relabelling wins the default.
    let extra = "    honor_labels: true\n    relabel_configs:\n      - target_label: cluster\n        replacement: mine\n";
    let (m, rec) = start(
        &job_yaml("j", t.addr, extra),
        ClusterLabel::Default("hub".into()),
    );
    wait_for("m", || !rec.of("m").is_empty()).await;
    assert_eq!(rec.of("m")[0].labels.get("cluster"), Some("spoke"));
    assert_eq!(rec.of("n")[0].labels.get("cluster"), Some("mine"));
    m.shutdown().await;
}

#[tokio::test]
async fn bearer_token_file_is_reread_on_every_scrape() {
    let dir = tempfile::tempdir().expect("tempdir");
    let token = dir.path().join("token");
    std::fs::write(&token, "one\n").expect("write");
    let mut p = Page::text("a 1\n");
    p.require_auth = Some("Bearer one".into());
    let t = TestTarget::start(p.clone()).await;
    let extra = format!("    bearer_token_file: {}\n", token.display());
    let (m, rec) = start(&job_yaml("j", t.addr, &extra), ClusterLabel::None);
    wait_for("up=1", || up_values(&rec).contains(&1.0)).await;
    p.require_auth = Some("Bearer two".into());
    t.set(p);
    wait_for("up=0", || up_values(&rec).contains(&0.0)).await;
    std::fs::write(&token, "two").expect("write");
    let n = rec.of("up").len();
    wait_for("up=1 again", || {
        rec.of("up")[n..].iter().any(|r| r.v == 1.0)
    })
    .await;
    std::fs::remove_file(&token).expect("rm");
    wait_for("file error", || {
        m.targets()[0]
            .last_error
            .contains(&token.display().to_string())
    })
    .await;
    m.shutdown().await;
}

#[tokio::test]
async fn basic_auth_and_authorization_are_sent() {
    let mut p = Page::text("a 1\n");
    // "user:pass" in base64.
    p.require_auth = Some("Basic dXNlcjpwYXNz".into());
    let t = TestTarget::start(p.clone()).await;
    let extra = "    basic_auth:\n      username: user\n      password: pass\n";
    let (m, rec) = start(&job_yaml("j", t.addr, extra), ClusterLabel::None);
    wait_for("up", || !rec.of("up").is_empty()).await;
    assert_eq!(up_values(&rec)[0], 1.0);
    m.shutdown().await;

    p.require_auth = Some("Custom secret".into());
    t.set(p);
    let extra = "    authorization:\n      type: Custom\n      credentials: secret\n";
    let (m, rec) = start(&job_yaml("j", t.addr, extra), ClusterLabel::None);
    wait_for("up", || !rec.of("up").is_empty()).await;
    assert_eq!(up_values(&rec)[0], 1.0);
    m.shutdown().await;
}

#[tokio::test]
async fn parse_error_position_reaches_last_error() {
    let t = TestTarget::start(Page::text("ok 1\nbroken{ 1\n")).await;
    let (m, rec) = start(&job_yaml("j", t.addr, ""), ClusterLabel::None);
    wait_for("up", || !rec.of("up").is_empty()).await;
    assert_eq!(up_values(&rec)[0], 0.0);
    assert!(
        rec.of("ok").is_empty(),
        "nothing of a refused page is stored"
    );
    let e = m.targets()[0].last_error.clone();
    assert!(e.starts_with("line 2, column "), "{e}");
    m.shutdown().await;
}

#[tokio::test]
async fn federate_job_sends_params_and_keeps_labels_and_timestamps() {
    let t = TestTarget::start(Page::text(
        "up{job=\"x\",instance=\"y\"} 1 1700000000000\nother{job=\"x\"} 5 1700000001000\n",
    ))
    .await;
    let extra = "    honor_labels: true\n    metrics_path: /federate\n    params:\n      'match[]': ['{job=\"x\"}']\n";
    let (m, rec) = start(
        &job_yaml("fed", t.addr, extra),
        ClusterLabel::Force("c".into()),
    );
    wait_for("other", || !rec.of("other").is_empty()).await;
    let req = &t.seen()[0];
    assert_eq!(req.uri.path(), "/federate");
    assert_eq!(req.uri.query(), Some("match%5B%5D=%7Bjob%3D%22x%22%7D"));
    let ups = rec.of("up");
    let fed_up = ups
        .iter()
        .find(|r| r.labels.get("job") == Some("x"))
        .expect("federated up");
    assert_eq!(fed_up.t, 1_700_000_000_000);
    assert_eq!(fed_up.labels.get("instance"), Some("y"));
    assert_eq!(fed_up.labels.get("cluster"), Some("c"));
    let other = &rec.of("other")[0];
    assert_eq!(other.t, 1_700_000_001_000);
    assert_eq!(
        other.labels.get("instance"),
        Some(t.addr.to_string().as_str())
    );
    let own_up = ups
        .iter()
        .find(|r| r.labels.get("job") == Some("fed"))
        .expect("own up");
    assert_eq!(own_up.v, 1.0);
    assert!(
        m.targets()[0]
            .scrape_url
            .ends_with("/federate?match%5B%5D=%7Bjob%3D%22x%22%7D")
    );
    m.shutdown().await;
}

#[tokio::test]
async fn manager_follows_a_discovery_channel() {
    let t = TestTarget::start(Page::text("a 1\n")).await;
    let rec = Recorder::default();
    let m = scrape::ScrapeManager::new(
        std::sync::Arc::new(rec.clone()),
        ClusterLabel::None,
        storage::WriteIdentity::Local,
    );
    let cfgs = scrape_configs(&job_yaml("j", t.addr, ""));
    m.apply_config(&cfgs);
    let (tx, rx) = tokio::sync::watch::channel(Default::default());
    let runner = {
        let m = m.clone();
        tokio::spawn(async move { m.run(rx).await })
    };
    assert!(m.targets().is_empty());
    tx.send_replace(static_sets(&cfgs));
    wait_for("a", || !rec.of("a").is_empty()).await;
    assert_eq!(rec.identities()[0], storage::WriteIdentity::Local);
    m.shutdown().await;
    runner.await.expect("run returns on shutdown");
    // After shutdown, run returns at once and new targets start nothing.
    tokio::time::timeout(std::time::Duration::from_secs(5), m.run(tx.subscribe()))
        .await
        .expect("run returns after shutdown");
    m.sync(static_sets(&cfgs));
    assert!(m.targets().is_empty());
}

#[tokio::test]
async fn target_limit_fails_every_target_of_the_job() {
    let a = TestTarget::start(Page::text("a 1\n")).await;
    let b = TestTarget::start(Page::text("b 1\n")).await;
    let yaml = format!(
        "scrape_configs:\n  - job_name: j\n    scrape_interval: 100ms\n    scrape_timeout: 100ms\n    target_limit: 1\n    static_configs:\n      - targets: ['{}', '{}']\n",
        a.addr, b.addr
    );
    let (m, rec) = start(&yaml, ClusterLabel::None);
    wait_for("both reported", || {
        let ts = m.targets();
        ts.len() == 2 && ts.iter().all(|t| t.health == Health::Down)
    })
    .await;
    assert!(rec.of("a").is_empty() && rec.of("b").is_empty());
    assert!(up_values(&rec).iter().all(|v| *v == 0.0));
    assert_eq!(
        m.targets()[0].last_error,
        "target_limit exceeded (number of targets: 2, limit: 1)"
    );
    m.shutdown().await;
}

#[tokio::test]
async fn fallback_protocol_reads_pages_without_content_type() {
    // OpenMetrics timestamps are seconds with a fraction, which the text format refuses.
    let mut p = Page::text("# TYPE a gauge\na 1 1700000000.5\n# EOF\n");
    p.content_type = String::new();
    let t = TestTarget::start(p).await;
    let (m, rec) = start(
        &job_yaml(
            "j",
            t.addr,
            "    fallback_scrape_protocol: OpenMetricsText1.0.0\n",
        ),
        ClusterLabel::None,
    );
    wait_for("a", || !rec.of("up").is_empty()).await;
    assert_eq!(up_values(&rec)[0], 1.0, "{}", m.targets()[0].last_error);
    assert_eq!(rec.of("a")[0].t, 1_700_000_000_500);
    m.shutdown().await;
}

#[tokio::test]
async fn changed_config_restarts_loops_without_spurious_stale_markers() {
    let t = TestTarget::start(Page::text("a 1\n")).await;
    let (m, rec) = start(&job_yaml("j", t.addr, ""), ClusterLabel::None);
    wait_for("a", || !rec.of("a").is_empty()).await;
    let changed = scrape_configs(&job_yaml(
        "j",
        t.addr,
        "    metric_relabel_configs:\n      - target_label: x\n        replacement: y\n",
    ));
    m.apply_config(&changed);
    wait_for("relabelled a", || {
        rec.of("a").iter().any(|r| r.labels.get("x") == Some("y"))
    })
    .await;
    // The old series of the target vanished with the new rules: marked stale once the new
    // loop scrapes; the target's report series continue without a stale marker.
    wait_for("old a stale", || {
        rec.of("a")
            .iter()
            .any(|r| r.labels.get("x").is_none() && is_stale_nan(r.v))
    })
    .await;
    assert!(rec.of("up").iter().all(|r| !is_stale_nan(r.v)));
    assert_eq!(m.targets().len(), 1);
    m.shutdown().await;
}
