//! Against a recording fake Alertmanager: request shape, batching, credentials, failures,
//! reloads and the drain at shutdown.

mod common;

use axum::http::StatusCode;
use common::{FakeAlertmanager, Running, am_series, metric, now_ms, poll};
use model::Labels;
use notifier::{Alert, Notifier, NotifierError, NotifierOptions};

fn alerts(n: usize) -> Vec<Alert> {
    (0..n)
        .map(|i| Alert {
            labels: Labels::from_pairs([("alertname", format!("A{i}"))]),
            starts_at: now_ms(),
            ..Alert::default()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_headers_credentials_and_path_prefix() {
    let fake = FakeAlertmanager::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let token = dir.path().join("token");
    std::fs::write(&token, "s3cret\n").expect("write token");
    let text = format!(
        "alerting:\n  alertmanagers:\n    - path_prefix: /am/\n      authorization:\n        credentials_file: {}\n      static_configs:\n        - targets: [{}]\n",
        token.display(),
        fake.addr
    );
    let opts = NotifierOptions {
        max_batch_size: 2,
        ..NotifierOptions::default()
    };
    let run = Running::start(&text, opts);
    run.notifier.send(alerts(5));
    poll("five alerts", || async {
        (fake.alert_count() == 5).then_some(())
    })
    .await;
    let reqs = fake.requests();
    let sizes: Vec<usize> = reqs
        .iter()
        .map(|r| r.body.as_array().map_or(0, Vec::len))
        .collect();
    assert_eq!(sizes, [2, 2, 1]);
    let r = &reqs[0];
    assert_eq!(r.path, "/am/api/v2/alerts");
    assert_eq!(r.headers["content-type"], "application/json");
    assert_eq!(r.headers["authorization"], "Bearer s3cret");
    assert!(
        r.headers["user-agent"]
            .to_str()
            .is_ok_and(|u| u.starts_with("Fleetwatch/"))
    );
    assert_eq!(r.body[0]["labels"]["alertname"], "A0");
    assert_eq!(r.body[0]["endsAt"], "0001-01-01T00:00:00.000Z");
    let url = format!("http://{}/am/api/v2/alerts", fake.addr);
    let sent = am_series("sent_total", &url);
    poll("sent_total 5", || async {
        (metric(&run.notifier.metrics_text(), &sent) == Some(5.0)).then_some(())
    })
    .await;
    let count = format!("prometheus_notifications_latency_seconds_count{{alertmanager=\"{url}\"}}");
    assert_eq!(metric(&run.notifier.metrics_text(), &count), Some(3.0));
    run.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_batches_count_as_errors_and_drops() {
    let fake = FakeAlertmanager::start().await;
    *fake.status.lock().expect("lock") = StatusCode::BAD_REQUEST;
    let text = format!(
        "alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: [{}]\n",
        fake.addr
    );
    let run = Running::start(&text, NotifierOptions::default());
    run.notifier.send(alerts(3));
    let url = format!("http://{}/api/v2/alerts", fake.addr);
    let t = poll("errors_total 3", || async {
        let t = run.notifier.metrics_text();
        (metric(&t, &am_series("errors_total", &url)) == Some(3.0)).then_some(t)
    })
    .await;
    assert_eq!(metric(&t, &am_series("dropped_total", &url)), Some(3.0));
    assert_eq!(metric(&t, &am_series("sent_total", &url)), Some(0.0));
    // Not retried: the next send is what carries alerts again.
    assert_eq!(fake.requests().len(), 1);
    run.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_drains_what_is_queued() {
    let fake = FakeAlertmanager::start().await;
    let n = Notifier::new(NotifierOptions {
        max_batch_size: 4,
        ..NotifierOptions::default()
    });
    common::apply(
        &n,
        &format!(
            "alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: [{}]\n",
            fake.addr
        ),
    );
    n.send(alerts(10));
    let (stop, rx) = tokio::sync::watch::channel(true);
    tokio::time::timeout(common::DEADLINE, n.clone().run(rx))
        .await
        .expect("run returns");
    drop(stop);
    assert_eq!(fake.alert_count(), 10);
    assert_eq!(n.queue_length(), 0);
    // Stopped: further alerts are refused.
    n.send(alerts(1));
    assert_eq!(n.queue_length(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reloads_keep_unchanged_queues_and_drain_removed_ones() {
    let a = FakeAlertmanager::start().await;
    let b = FakeAlertmanager::start().await;
    let cfg = |addr: &str| {
        format!("alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: [{addr}]\n")
    };
    let n = Notifier::new(NotifierOptions::default());
    common::apply(&n, &cfg(&a.addr));
    n.send(alerts(3));
    common::apply(&n, &cfg(&a.addr));
    assert_eq!(n.queue_length(), 3, "same configuration, same queue");
    common::apply(&n, &cfg(&b.addr));
    assert_eq!(n.queue_length(), 0, "the new set starts empty");
    assert_eq!(
        n.alertmanagers(),
        vec![format!("http://{}/api/v2/alerts", b.addr)]
    );
    // The removed Alertmanager's queue is still delivered once the notifier runs.
    let run = Running::run(n);
    poll("the old queue delivered", || async {
        (a.alert_count() == 3).then_some(())
    })
    .await;
    assert_eq!(b.alert_count(), 0);
    run.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unusable_client_config_is_refused_and_changes_nothing() {
    let fake = FakeAlertmanager::start().await;
    let n = Notifier::new(NotifierOptions::default());
    common::apply(
        &n,
        &format!(
            "alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: [{}]\n",
            fake.addr
        ),
    );
    let c = common::load(
        "alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: [x:1]\n    - tls_config:\n        ca_file: /nonexistent/ca.pem\n",
        std::path::Path::new("/"),
    );
    let e = n
        .apply_config(&c.alerting, &Labels::empty())
        .expect_err("missing CA file");
    assert!(
        matches!(&e, NotifierError::Client { index: 1, message } if message.contains("/nonexistent/ca.pem")),
        "{e}"
    );
    assert_eq!(
        n.alertmanagers(),
        vec![format!("http://{}/api/v2/alerts", fake.addr)]
    );
}
