//! Against a real Alertmanager (Debian's `prometheus-alertmanager`): delivery with external
//! labels and annotations, resolution, relabelling, an unreachable peer, queue overflow,
//! file discovery.

mod common;

use std::time::Duration;

use common::{Alertmanager, Running, am_series, metric, now_ms, poll};
use model::Labels;
use notifier::{Alert, Notifier, NotifierOptions};

fn alert(name: &str, extra: &[(&str, &str)]) -> Alert {
    let mut pairs = vec![("alertname", name)];
    pairs.extend_from_slice(extra);
    Alert {
        labels: Labels::from_pairs(pairs),
        annotations: Labels::empty(),
        starts_at: now_ms() - 60_000,
        ends_at: Some(now_ms() + 300_000),
        generator_url: String::new(),
    }
}

fn static_config(targets: &[&str], extra: &str) -> String {
    format!(
        "global:\n  external_labels:\n    cluster: c1\n    severity: none\nalerting:\n  alertmanagers:\n    - static_configs:\n        - targets: [{}]\n{extra}",
        targets.join(", ")
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alert_arrives_with_external_labels_and_annotations_then_resolves() {
    let am = Alertmanager::start().await;
    let run = Running::start(&static_config(&[&am.addr], ""), NotifierOptions::default());
    assert_eq!(run.notifier.alertmanagers(), vec![am.push_url()]);

    let mut a = alert("HighLoad", &[("severity", "page")]);
    a.annotations = Labels::from_pairs([("summary", "load is <high> & rising")]);
    a.generator_url = "http://prom.example/graph?g0.expr=up".into();
    run.notifier.send(vec![a.clone()]);

    let got = poll("the alert in Alertmanager", || am.alert("HighLoad")).await;
    assert_eq!(got["labels"]["cluster"], "c1", "external label added");
    assert_eq!(got["labels"]["severity"], "page", "own label wins");
    assert_eq!(got["annotations"]["summary"], "load is <high> & rising");
    assert_eq!(got["generatorURL"], "http://prom.example/graph?g0.expr=up");
    let sent = am_series("sent_total", &am.push_url());
    poll("sent_total", || async {
        (metric(&run.notifier.metrics_text(), &sent) == Some(1.0)).then_some(())
    })
    .await;

    // A resolved alert (ended in the past) leaves Alertmanager's list of current alerts.
    a.ends_at = Some(now_ms() - 1_000);
    run.notifier.send(vec![a]);
    poll("the alert to be resolved", || async {
        am.alert("HighLoad").await.is_none().then_some(())
    })
    .await;
    let text = run.notifier.metrics_text();
    assert_eq!(
        metric(&text, &am_series("errors_total", &am.push_url())),
        Some(0.0)
    );
    assert_eq!(
        metric(&text, "prometheus_notifications_alertmanagers_discovered"),
        Some(1.0)
    );
    run.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alert_relabel_configs_drop_and_modify() {
    let am = Alertmanager::start().await;
    let text = format!(
        "{}  alert_relabel_configs:\n    - source_labels: [alertname]\n      regex: Noise\n      action: drop\n    - target_label: team\n      replacement: ops\n",
        static_config(
            &[&am.addr],
            "      alert_relabel_configs:\n        - target_label: via\n          replacement: am1\n",
        )
    );
    let run = Running::start(&text, NotifierOptions::default());
    // Both go in one request: once Real is there, Noise would be too had it been sent.
    run.notifier
        .send(vec![alert("Noise", &[]), alert("Real", &[])]);
    let got = poll("Real in Alertmanager", || am.alert("Real")).await;
    assert_eq!(got["labels"]["team"], "ops");
    assert_eq!(got["labels"]["via"], "am1");
    assert!(am.alert("Noise").await.is_none(), "Noise was dropped");
    let sent = am_series("sent_total", &am.push_url());
    poll("sent_total", || async {
        (metric(&run.notifier.metrics_text(), &sent) == Some(1.0)).then_some(())
    })
    .await;
    run.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_and_hanging_alertmanagers_do_not_hold_up_a_live_one() {
    let am = Alertmanager::start().await;
    let refused = format!("127.0.0.1:{}", common::free_port());
    // Accepts connections and never answers: only the timeout ends a push to it.
    let hang = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let hang_addr = hang.local_addr().expect("addr").to_string();
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = hang.accept().await {
            held.push(s);
        }
    });
    let text = format!(
        "alerting:\n  alertmanagers:\n    - timeout: 2s\n      static_configs:\n        - targets: [{hang_addr}, {refused}, {}]\n",
        am.addr
    );
    let run = Running::start(&text, NotifierOptions::default());
    assert_eq!(run.notifier.alertmanagers().len(), 3);

    run.notifier.send(vec![alert("First", &[])]);
    poll("First in Alertmanager", || am.alert("First")).await;
    // The hanging push is still waiting for its timeout; the next alert is not held up.
    run.notifier.send(vec![alert("Second", &[])]);
    poll("Second in Alertmanager", || am.alert("Second")).await;

    let refused_url = format!("http://{refused}/api/v2/alerts");
    let hang_url = format!("http://{hang_addr}/api/v2/alerts");
    let text = poll("errors for both bad Alertmanagers", || async {
        let t = run.notifier.metrics_text();
        let refused_errors = metric(&t, &am_series("errors_total", &refused_url))?;
        let hang_errors = metric(&t, &am_series("errors_total", &hang_url))?;
        (refused_errors >= 2.0 && hang_errors >= 1.0).then_some(t)
    })
    .await;
    assert_eq!(
        metric(&text, &am_series("errors_total", &am.push_url())),
        Some(0.0)
    );
    assert_eq!(
        metric(&text, &am_series("sent_total", &am.push_url())),
        Some(2.0)
    );
    assert!(metric(&text, &am_series("dropped_total", &refused_url)) >= Some(2.0));
    assert_eq!(
        metric(&text, &am_series("sent_total", &refused_url)),
        Some(0.0)
    );
    run.stop().await;
    holder.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_drops_its_oldest_alerts() {
    let am = Alertmanager::start().await;
    let opts = NotifierOptions {
        queue_capacity: 5,
        ..NotifierOptions::default()
    };
    let n = Notifier::new(opts);
    common::apply(&n, &static_config(&[&am.addr], ""));
    // Not running yet: everything stays queued.
    let alerts: Vec<Alert> = (0..8).map(|i| alert(&format!("Q{i}"), &[])).collect();
    n.send(alerts);
    let text = n.metrics_text();
    assert_eq!(
        metric(&text, &am_series("dropped_total", &am.push_url())),
        Some(3.0)
    );
    assert_eq!(
        metric(&text, &am_series("queue_length", &am.push_url())),
        Some(5.0)
    );
    assert_eq!(
        metric(&text, "prometheus_notifications_queue_capacity"),
        Some(5.0)
    );
    assert_eq!(n.queue_length(), 5);

    let run = Running::run(n);
    let names = poll("the queued alerts in Alertmanager", || async {
        let mut names: Vec<String> = am
            .alerts()
            .await
            .iter()
            .filter_map(|a| a["labels"]["alertname"].as_str().map(str::to_string))
            .collect();
        names.sort();
        (!names.is_empty()).then_some(names)
    })
    .await;
    // One request carried all five, so the list is complete once it is non-empty.
    assert_eq!(names, ["Q3", "Q4", "Q5", "Q6", "Q7"]);
    run.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_discovery_finds_and_forgets_alertmanagers() {
    let am = Alertmanager::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("ams.json");
    std::fs::write(&file, format!("[{{\"targets\": [\"{}\"]}}]", am.addr)).expect("write");
    let text = format!(
        "alerting:\n  alertmanagers:\n    - file_sd_configs:\n        - files: [{}]\n          refresh_interval: 1s\n",
        file.display()
    );
    let opts = NotifierOptions {
        discovery_update_delay: Duration::from_millis(100),
        ..NotifierOptions::default()
    };
    let run = Running::start(&text, opts);
    let url = am.push_url();
    poll("the Alertmanager from the file", || async {
        (run.notifier.alertmanagers() == vec![url.clone()]).then_some(())
    })
    .await;
    run.notifier.send(vec![alert("FromFile", &[])]);
    poll("FromFile in Alertmanager", || am.alert("FromFile")).await;

    std::fs::write(&file, "[]").expect("rewrite");
    poll("the Alertmanager to go", || async {
        run.notifier.alertmanagers().is_empty().then_some(())
    })
    .await;
    run.stop().await;
}
