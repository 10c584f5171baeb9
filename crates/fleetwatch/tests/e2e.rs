//! End-to-end: real processes on loopback. The fleetwatch binary as hub and agent,
//! Debian's node-exporter, Prometheus and promtool as peers. Tests run one at a time
//! (`common::serial`) and wait on conditions with deadlines.

#[path = "e2e_alerting/mod.rs"]
mod alerting;
mod common;
#[path = "e2e_promql/mod.rs"]
mod promql;
#[path = "e2e_rules/mod.rs"]
mod rules;

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

use common::seqtarget::SeqTarget;
use common::*;

const DEADLINE: Duration = Duration::from_secs(60);

fn agent_config(dir: &std::path::Path, interval: &str, jobs: &str) -> std::path::PathBuf {
    write_file(
        dir,
        "agent.yml",
        &format!(
            "global:\n  scrape_interval: {interval}\n  scrape_timeout: {interval}\nscrape_configs:\n{jobs}"
        ),
    )
}

fn seq_job(addr: &str) -> String {
    format!("  - job_name: seq\n    static_configs:\n      - targets: ['{addr}']\n")
}

/// Samples of `test_seq` in the hub over the last hour, per timestamp, NaNs (staleness) left out.
fn seq_samples(base: &str) -> Vec<(f64, f64)> {
    instant_query(base, "test_seq[1h]")
        .unwrap_or_default()
        .iter()
        .flat_map(matrix_points)
        .filter(|(_, v)| !v.is_nan())
        .collect()
}

#[test]
fn agent_scrapes_node_exporter_and_hub_answers_with_cluster() {
    let _g = serial();
    let tmp = tempfile::tempdir().expect("tempdir");
    let (_ne, ne_addr) = start_node_exporter();
    let (_hub, hub_addr) = start_hub(&tmp.path().join("hub"), &[]);
    let cfg = agent_config(
        tmp.path(),
        "1s",
        &format!("  - job_name: node\n    static_configs:\n      - targets: ['{ne_addr}']\n"),
    );
    let (_agent, _) = start_agent(
        "spoke-1",
        &format!("http://{hub_addr}/api/v1/write"),
        &tmp.path().join("agent"),
        &cfg,
    );
    let base = format!("http://{hub_addr}");
    let up = wait_for("up{cluster=\"spoke-1\"} = 1 in the hub", DEADLINE, || {
        instant_query(&base, r#"up{cluster="spoke-1",job="node"}"#)
            .filter(|r| r.len() == 1 && r[0]["value"][1] == "1")
    });
    assert_eq!(up[0]["metric"]["instance"], ne_addr.as_str());
    let cpu = wait_for("node_cpu_seconds_total in the hub", DEADLINE, || {
        instant_query(&base, "node_cpu_seconds_total").filter(|r| !r.is_empty())
    });
    for s in &cpu {
        assert_eq!(
            s["metric"]["cluster"], "spoke-1",
            "series without the cluster: {s}"
        );
        assert_eq!(s["metric"]["job"], "node");
        assert!(s["metric"]["mode"].is_string() && s["metric"]["cpu"].is_string());
    }
    // The agent sends each metric's metadata and the hub keeps it.
    let meta = wait_for(
        "node_cpu_seconds_total metadata in the hub",
        DEADLINE,
        || {
            let (status, body) = http_get(&format!(
                "{base}/api/v1/metadata?metric=node_cpu_seconds_total"
            ))
            .ok()?;
            let v: serde_json::Value = serde_json::from_str(&body).ok()?;
            (status == 200)
                .then(|| v["data"]["node_cpu_seconds_total"][0].clone())
                .filter(|m| !m.is_null())
        },
    );
    assert_eq!(meta["type"], "counter");
    assert!(
        meta["help"].as_str().is_some_and(|h| h.contains("CPU")),
        "{meta}"
    );
    // Cardinality statistics in Prometheus's shape.
    let (status, body) = http_get(&format!("{base}/api/v1/status/tsdb?limit=500")).expect("GET");
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert!(
        v["data"]["headStats"]["numSeries"].as_u64().unwrap_or(0) > 100,
        "{body}"
    );
    let by_name = v["data"]["seriesCountByMetricName"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        by_name.iter().any(|e| e["name"] == "node_cpu_seconds_total"
            && e["value"].as_u64() == Some(cpu.len() as u64)),
        "node_cpu_seconds_total count missing: {by_name:?}"
    );
    // promtool, the Prometheus CLI, is a client of the same API.
    let out = Command::new(peer_bin("promtool"))
        .args(["query", "instant", &base, r#"up{cluster="spoke-1"}"#])
        .output()
        .expect("running promtool");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "promtool failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("spoke-1") && text.contains("=> 1"),
        "promtool printed: {text}"
    );
}

#[test]
fn hub_killed_with_sigkill_leaves_no_gap_wider_than_two_intervals() {
    let _g = serial();
    let tmp = tempfile::tempdir().expect("tempdir");
    let target = SeqTarget::start();
    let hub_data = tmp.path().join("hub");
    let (mut hub, hub_addr) = start_hub(&hub_data, &[]);
    let cfg = agent_config(tmp.path(), "1s", &seq_job(&target.addr));
    let (_agent, _) = start_agent(
        "spoke-1",
        &format!("http://{hub_addr}/api/v1/write"),
        &tmp.path().join("agent"),
        &cfg,
    );
    let base = format!("http://{hub_addr}");
    wait_for("some samples in the hub", DEADLINE, || {
        let n = seq_samples(&base).len();
        (n >= 3).then_some(())
    });
    let before: Vec<(f64, f64)> = seq_samples(&base);
    hub.kill9();
    // Let the agent scrape through the outage.
    let served_at_kill = target.served().len();
    wait_for("three scrapes during the outage", DEADLINE, || {
        (target.served().len() >= served_at_kill + 3).then_some(())
    });
    let mut cmd = Command::new(fleetwatch_bin());
    cmd.args(["hub", "--listen", &hub_addr, "--data"])
        .arg(&hub_data);
    let mut hub2 = Proc::start("hub (restarted)", cmd);
    hub2.wait_listening(DEADLINE);
    let served_after = target.served().len();
    let samples = wait_for(
        "the outage's samples replayed into the hub",
        DEADLINE,
        || {
            let s = seq_samples(&base);
            (s.len() >= served_after).then_some(s)
        },
    );
    // Everything acknowledged before the kill is still there.
    for p in &before {
        assert!(
            samples.contains(p),
            "sample {p:?} acknowledged before the kill is gone"
        );
    }
    let mut ts: Vec<f64> = samples.iter().map(|(t, _)| *t).collect();
    ts.sort_by(f64::total_cmp);
    let widest = ts.windows(2).map(|w| w[1] - w[0]).fold(0.0, f64::max);
    assert!(
        widest <= 2.0 + 0.5,
        "gap of {widest}s across the hub outage (interval 1s)"
    );
}

#[test]
fn agent_killed_while_hub_down_delivers_every_sequence_number_once() {
    let _g = serial();
    let tmp = tempfile::tempdir().expect("tempdir");
    let target = SeqTarget::start();
    // The hub is down: its port has no listener until later.
    let hub_port = free_port();
    let hub_addr = format!("127.0.0.1:{hub_port}");
    let write_url = format!("http://{hub_addr}/api/v1/write");
    let cfg = agent_config(tmp.path(), "500ms", &seq_job(&target.addr));
    let agent_data = tmp.path().join("agent");
    let (mut agent, _) = start_agent("spoke-1", &write_url, &agent_data, &cfg);
    wait_for("six scrapes", DEADLINE, || {
        (target.served().len() >= 6).then_some(())
    });
    // Close the gate and wait for the next scrape to reach it: scrapes of one target run
    // one after another, so the last served number is in the agent's queue by then.
    target.set_open(false);
    wait_for("a scrape after the gate closed", DEADLINE, || {
        (target.gated_requests() >= 1).then_some(())
    });
    let served_before_kill = target.served();
    agent.kill9();
    target.set_open(true);
    let (_agent2, _) = start_agent("spoke-1", &write_url, &agent_data, &cfg);
    let mut hub_cmd = Command::new(fleetwatch_bin());
    hub_cmd
        .args(["hub", "--listen", &hub_addr, "--data"])
        .arg(tmp.path().join("hub"));
    let mut hub = Proc::start("hub", hub_cmd);
    hub.wait_listening(DEADLINE);
    let base = format!("http://{hub_addr}");
    let samples = wait_for(
        "every number served before the kill in the hub",
        DEADLINE,
        || {
            let s = seq_samples(&base);
            served_before_kill
                .iter()
                .all(|n| s.iter().any(|(_, v)| *v == *n as f64))
                .then_some(s)
        },
    );
    let mut per_value: BTreeMap<u64, usize> = BTreeMap::new();
    let mut per_ts: BTreeMap<u64, usize> = BTreeMap::new();
    for (t, v) in &samples {
        *per_value.entry(*v as u64).or_default() += 1;
        *per_ts.entry((t * 1000.0).round() as u64).or_default() += 1;
    }
    for n in &served_before_kill {
        assert_eq!(
            per_value.get(n),
            Some(&1),
            "sequence number {n} is not in the hub exactly once"
        );
    }
    assert!(
        per_ts.values().all(|c| *c == 1),
        "a timestamp has two values: {per_ts:?}"
    );
}

#[test]
fn prometheus_remote_writes_into_the_hub() {
    let _g = serial();
    let tmp = tempfile::tempdir().expect("tempdir");
    let (_hub, hub_addr) = start_hub(&tmp.path().join("hub"), &[]);
    let prom_port = free_port();
    let cfg = write_file(
        tmp.path(),
        "prometheus.yml",
        &format!(
            "global:\n  scrape_interval: 1s\n  external_labels: {{cluster: prom-1}}\nscrape_configs:\n  - job_name: prometheus\n    static_configs:\n      - targets: ['127.0.0.1:{prom_port}']\nremote_write:\n  - url: http://{hub_addr}/api/v1/write\n    queue_config: {{batch_send_deadline: 1s}}\n"
        ),
    );
    let _prom = start_prometheus(tmp.path(), &cfg, prom_port, &[]);
    let base = format!("http://{hub_addr}");
    let up = wait_for("Prometheus's series in the hub", DEADLINE, || {
        instant_query(&base, r#"up{job="prometheus",cluster="prom-1"}"#).filter(|r| !r.is_empty())
    });
    assert_eq!(up[0]["value"][1], "1");
    // Metadata travels too (Prometheus sends it every minute; the first send is at start).
    let build = instant_query(&base, "prometheus_build_info").unwrap_or_default();
    assert!(!build.is_empty(), "prometheus_build_info not in the hub");
}

#[test]
fn agent_remote_writes_into_prometheus() {
    let _g = serial();
    let tmp = tempfile::tempdir().expect("tempdir");
    let target = SeqTarget::start();
    let prom_port = free_port();
    let prom_cfg = write_file(
        tmp.path(),
        "prometheus.yml",
        "global:\n  scrape_interval: 1m\n",
    );
    let _prom = start_prometheus(
        tmp.path(),
        &prom_cfg,
        prom_port,
        &["--web.enable-remote-write-receiver"],
    );
    let prom = format!("http://127.0.0.1:{prom_port}");
    wait_for("Prometheus ready", DEADLINE, || {
        http_get(&format!("{prom}/-/ready"))
            .ok()
            .filter(|(s, _)| *s == 200)
    });
    let cfg = agent_config(tmp.path(), "1s", &seq_job(&target.addr));
    let (_agent, _) = start_agent(
        "spoke-2",
        &format!("{prom}/api/v1/write"),
        &tmp.path().join("agent"),
        &cfg,
    );
    let r = wait_for("the agent's series in Prometheus", DEADLINE, || {
        instant_query(&prom, r#"test_seq{cluster="spoke-2",job="seq"}"#).filter(|r| !r.is_empty())
    });
    assert_eq!(r[0]["metric"]["instance"], target.addr.as_str());
    let up = instant_query(&prom, r#"up{cluster="spoke-2"}"#).unwrap_or_default();
    assert_eq!(
        up.len(),
        1,
        "up of the agent's target not in Prometheus: {up:?}"
    );
}

#[test]
fn malformed_inputs_get_clear_errors_and_processes_keep_running() {
    let _g = serial();
    let tmp = tempfile::tempdir().expect("tempdir");
    let (mut hub, hub_addr) = start_hub(&tmp.path().join("hub"), &[]);
    let write = format!("http://{hub_addr}/api/v1/write");
    let headers = [
        ("Content-Type", "application/x-protobuf"),
        ("Content-Encoding", "snappy"),
        ("X-Prometheus-Remote-Write-Version", "0.1.0"),
    ];
    // Not snappy at all.
    let (status, body) = http_post(&write, &headers, b"this is not snappy".to_vec()).expect("POST");
    assert_eq!(status, 400, "bad snappy: {body}");
    assert!(
        body.to_lowercase().contains("snappy"),
        "error does not say what was wrong: {body}"
    );
    // Valid snappy, not a protobuf WriteRequest.
    let garbage = snap::raw::Encoder::new()
        .compress_vec(&[0xff; 64])
        .expect("snappy");
    let (status, body) = http_post(&write, &headers, garbage).expect("POST");
    assert_eq!(status, 400, "bad protobuf: {body}");
    // Too large: over the 32 MiB bound on compressed bodies.
    let (status, _) = http_post(&write, &headers, vec![0u8; 33 << 20]).expect("POST");
    assert_eq!(status, 413);
    // A malformed query.
    let (status, body) =
        http_get(&format!("http://{hub_addr}/api/v1/query?query=up{{")).expect("GET");
    assert_eq!(status, 400);
    assert!(body.contains("bad_data"), "{body}");
    assert!(hub.is_running(), "the hub died on bad input");

    // A target with a malformed body: the scrape fails, up is 0, the agent keeps running.
    let bad_dir = tmp.path().join("bad");
    std::fs::create_dir_all(&bad_dir).expect("mkdir");
    let bad_target = BadTarget::start("metric_ok 1\nmetric_bad{a=\"b\" 1\n");
    let cfg = agent_config(
        tmp.path(),
        "1s",
        &format!(
            "  - job_name: bad\n    static_configs:\n      - targets: ['{}']\n",
            bad_target.addr
        ),
    );
    let (mut agent, _) = start_agent("spoke-1", &write, &tmp.path().join("agent"), &cfg);
    let base = format!("http://{hub_addr}");
    wait_for("up{job=\"bad\"} = 0 in the hub", DEADLINE, || {
        instant_query(&base, r#"up{job="bad",cluster="spoke-1"}"#)
            .filter(|r| r.len() == 1 && r[0]["value"][1] == "0")
    });
    assert!(
        instant_query(&base, "metric_ok")
            .unwrap_or_default()
            .is_empty(),
        "a sample from a failed scrape was stored"
    );
    assert!(agent.is_running(), "the agent died on a malformed body");

    // Bad configuration: named file, line and field; exit 1 from check, no start.
    let check = |name: &str, text: &str| {
        let path = write_file(tmp.path(), name, text);
        let out = Command::new(fleetwatch_bin())
            .args(["check", "config"])
            .arg(&path)
            .output()
            .expect("running check config");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    for (name, text, wants) in [
        (
            "bad.yml",
            "global:\n  scrape_interval: 5x\nscrape_configs: []\n",
            ["bad.yml:2", "scrape_interval"],
        ),
        (
            "typo.yml",
            "scrape_configs:\n  - job_name: a\n    scrape_intervall: 5s\n",
            ["typo.yml:3", "scrape_intervall"],
        ),
    ] {
        let (code, err) = check(name, text);
        assert_eq!(code, Some(1), "{name}: {err}");
        assert!(
            wants.iter().all(|w| err.contains(w)),
            "unclear error for {name}: {err}"
        );
    }
    let (code, err) = check(
        "good.yml",
        "scrape_configs:\n  - job_name: a\n    static_configs: [{targets: ['x:1']}]\n",
    );
    assert_eq!(code, Some(0), "{err}");
    let out = Command::new(fleetwatch_bin())
        .args(["check", "config"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2), "usage error must exit 2");
    assert!(hub.is_running() && agent.is_running());
}

#[test]
fn demo_shows_both_clusters() {
    let _g = serial();
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut cmd = Command::new(fleetwatch_bin());
    cmd.args([
        "demo",
        "--listen",
        "127.0.0.1:0",
        "--scrape-interval",
        "1s",
        "--data",
    ])
    .arg(tmp.path());
    let mut demo = Proc::start("demo", cmd);
    let addr = demo.wait_listening(DEADLINE);
    let base = format!("http://{addr}");
    // The first `listening on` line is the hub's: the demo starts it first.
    for cluster in ["demo-east", "demo-west"] {
        for job in ["node-exporter", "kube-state-metrics", "kubelet"] {
            wait_for(
                &format!("{cluster} {job} up in the hub"),
                Duration::from_secs(30),
                || {
                    instant_query(&base, &format!(r#"up{{cluster="{cluster}",job="{job}"}}"#))
                        .filter(|r| !r.is_empty() && r.iter().all(|s| s["value"][1] == "1"))
                },
            );
        }
    }
    let pods = instant_query(&base, "kube_pod_info").unwrap_or_default();
    assert!(pods.len() >= 2, "kube_pod_info missing");
    // The demo hub's own rule file: a recorded CPU ratio, and an alert firing per cluster
    // with its annotations rendered.
    let alerts = wait_for("ClusterCPUBusy firing for both clusters", DEADLINE, || {
        let firing: Vec<serde_json::Value> = hub_alerts(&base)
            .into_iter()
            .filter(|a| a["labels"]["alertname"] == "ClusterCPUBusy" && a["state"] == "firing")
            .collect();
        (firing.len() == 2).then_some(firing)
    });
    let mut clusters = Vec::new();
    for a in &alerts {
        let cluster = a["labels"]["cluster"].as_str().unwrap_or_default();
        clusters.push(cluster);
        // The simulated CPUs are 30% busy; `humanize` prints e.g. 30.03.
        let summary = a["annotations"]["summary"].as_str().unwrap_or_default();
        let busy: f64 = summary
            .strip_prefix(&format!("Cluster {cluster} CPUs are "))
            .and_then(|s| s.strip_suffix("% busy"))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("summary {summary:?}"));
        assert!((25.0..35.0).contains(&busy), "{summary}");
    }
    clusters.sort();
    assert_eq!(clusters, ["demo-east", "demo-west"]);
    let ratio = instant_query(&base, "cluster:node_cpu:ratio_rate5m").unwrap_or_default();
    assert_eq!(ratio.len(), 2, "{ratio:?}");
    assert!(
        demo.terminate(Duration::from_secs(20)),
        "demo did not stop cleanly on SIGTERM"
    );
}

/// A target that always serves the same (malformed) body.
struct BadTarget {
    addr: String,
}

impl BadTarget {
    fn start(body: &'static str) -> BadTarget {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr").to_string();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { continue };
                let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
                let mut buf = [0u8; 4096];
                let _ = conn.read(&mut buf);
                let resp = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = conn.write_all(resp.as_bytes());
            }
        });
        BadTarget { addr }
    }
}

#[test]
fn hub_scrapes_its_own_jobs_including_federate_from_prometheus() {
    let _g = serial();
    let tmp = tempfile::tempdir().expect("tempdir");
    let target = SeqTarget::start();
    // A real Prometheus scraping itself, to be federated from.
    let prom_port = free_port();
    let prom_cfg = write_file(
        tmp.path(),
        "prometheus.yml",
        &format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: prometheus\n    static_configs:\n      - targets: ['127.0.0.1:{prom_port}']\n"
        ),
    );
    let _prom = start_prometheus(tmp.path(), &prom_cfg, prom_port, &[]);
    let hub_cfg = write_file(
        tmp.path(),
        "hub.yml",
        &format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n\
             \x20 - job_name: federate\n    honor_labels: true\n    metrics_path: /federate\n\
             \x20   params:\n      'match[]': ['{{job=\"prometheus\"}}']\n\
             \x20   static_configs:\n      - targets: ['127.0.0.1:{prom_port}']\n\
             \x20 - job_name: edge-seq\n    static_configs:\n      - targets: ['{}']\n        labels: {{cluster: edge-1}}\n\
             \x20 - job_name: local-seq\n    static_configs:\n      - targets: ['{}']\n",
            target.addr, target.addr
        ),
    );
    let (_hub, hub_addr) = start_hub(
        &tmp.path().join("hub"),
        &[
            "--config",
            hub_cfg.to_str().expect("utf-8 path"),
            "--cluster",
            "central",
        ],
    );
    let base = format!("http://{hub_addr}");
    // Federated series keep their own job and instance (honor_labels) and get the hub's cluster.
    let fed = wait_for("federated series in the hub", DEADLINE, || {
        instant_query(&base, r#"prometheus_build_info{job="prometheus"}"#).filter(|r| !r.is_empty())
    });
    assert_eq!(fed[0]["metric"]["cluster"], "central", "{}", fed[0]);
    assert_eq!(
        fed[0]["metric"]["instance"],
        format!("127.0.0.1:{prom_port}").as_str()
    );
    let up = wait_for("up of the federate job", DEADLINE, || {
        instant_query(&base, r#"up{job="federate"}"#).filter(|r| r.len() == 1)
    });
    assert_eq!(up[0]["value"][1], "1");
    // A target that names its cluster keeps it; one that does not gets the hub's.
    let edge = wait_for("the edge target's series", DEADLINE, || {
        instant_query(&base, r#"test_seq{job="edge-seq"}"#).filter(|r| r.len() == 1)
    });
    assert_eq!(edge[0]["metric"]["cluster"], "edge-1");
    let local = wait_for("the local target's series", DEADLINE, || {
        instant_query(&base, r#"test_seq{job="local-seq"}"#).filter(|r| r.len() == 1)
    });
    assert_eq!(local[0]["metric"]["cluster"], "central");
}

/// Issue 3's crash test: SIGKILL the hub at pseudo-random moments while a writer pushes
/// remote-write requests as fast as it can and the store cuts blocks, merges them and
/// checkpoints its WAL several times a second; after every restart each acknowledged
/// sample is there exactly once with its exact value, and the store opens cleanly.
#[test]
fn hub_killed_repeatedly_during_heavy_ingestion_keeps_every_acknowledged_sample() {
    use prost::Message as _;
    use remote::codec::{Label, Sample, TimeSeries, WriteRequest};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};

    const SERIES: usize = 50;
    const PER_REQUEST: usize = 10;
    let _g = serial();
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("hub");
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let base_ms: i64 = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64
        - 6 * 3600 * 1000;
    // acked[s] = highest sample index k acknowledged for every series (requests carry
    // all series, so one counter describes them all).
    let acked = Arc::new(Mutex::new(0usize));
    let mut next_k = 0usize;
    let value = |s: usize, k: usize| k as f64 * 1.5 + s as f64 / 64.0;
    // A fixed seed: the kill moments differ per round but every run is the same.
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    for round in 0..5 {
        let mut cmd = Command::new(fleetwatch_bin());
        cmd.args(["hub", "--listen", &addr, "--data"]).arg(&data);
        // Tiny blocks and a busy maintenance thread: kills also land during head
        // compaction, block merges and checkpoints.
        cmd.args([
            "--storage.tsdb.min-block-duration=5m",
            "--storage.tsdb.maintenance-interval=100ms",
        ]);
        let mut hub = Proc::start(&format!("hub round {round}"), cmd);
        hub.wait_listening(DEADLINE);
        let stop = Arc::new(AtomicBool::new(false));
        let writer = {
            let (stop, acked, url) = (
                stop.clone(),
                acked.clone(),
                format!("http://{addr}/api/v1/write"),
            );
            let start_k = next_k;
            std::thread::spawn(move || {
                let mut k = start_k;
                let client = client();
                // Bounded: at most 5,000 requests a round.
                for _ in 0..5_000 {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let timeseries = (0..SERIES)
                        .map(|s| TimeSeries {
                            labels: vec![
                                Label {
                                    name: "__name__".into(),
                                    value: "crash_test".into(),
                                },
                                Label {
                                    name: "s".into(),
                                    value: format!("{s:02}"),
                                },
                            ],
                            samples: (k..k + PER_REQUEST)
                                .map(|i| Sample {
                                    value: value(s, i),
                                    timestamp: base_ms + i as i64 * 1000,
                                })
                                .collect(),
                            exemplars: vec![],
                        })
                        .collect();
                    let body = snap::raw::Encoder::new()
                        .compress_vec(
                            &WriteRequest {
                                timeseries,
                                metadata: vec![],
                            }
                            .encode_to_vec(),
                        )
                        .expect("snappy");
                    let res = client
                        .post(&url)
                        .header("Content-Type", "application/x-protobuf")
                        .header("Content-Encoding", "snappy")
                        .body(body)
                        .send();
                    match res {
                        Ok(r) if r.status().as_u16() == 204 => {
                            k += PER_REQUEST;
                            *acked.lock().unwrap_or_else(|e| e.into_inner()) = k;
                        }
                        // Killed mid-request: not acknowledged, resent next round.
                        _ => break,
                    }
                }
                k
            })
        };
        // Kill after 200-1,200 ms of ingestion.
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        std::thread::sleep(Duration::from_millis(200 + seed % 1_000));
        hub.kill9();
        stop.store(true, Ordering::SeqCst);
        let _ = writer.join();
        // Resend from the last acknowledged index: unacknowledged requests may or may not
        // have been stored, and resending them must be harmless (exact duplicates).
        let now_k = *acked.lock().unwrap_or_else(|e| e.into_inner());
        eprintln!(
            "round {round}: {} requests acknowledged before the kill",
            (now_k - next_k) / PER_REQUEST
        );
        next_k = now_k;
    }
    // The kills did hit a store that was cutting blocks and checkpointing.
    let blocks = std::fs::read_dir(data.join("blocks"))
        .map(|d| d.count())
        .unwrap_or(0);
    let checkpoints = std::fs::read_dir(data.join("wal"))
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|e| e.file_name().to_string_lossy().starts_with("checkpoint."))
                .count()
        })
        .unwrap_or(0);
    eprintln!("after the kills: {blocks} block directories, {checkpoints} checkpoints");
    assert!(blocks > 0 && checkpoints > 0, "no compaction happened");
    let (_hub, hub_addr) = start_hub(&data, &[]);
    let acked_k = *acked.lock().unwrap_or_else(|e| e.into_inner());
    assert!(
        acked_k >= 5 * PER_REQUEST,
        "the writer got too little acknowledged: {acked_k}"
    );
    let at = (base_ms + acked_k as i64 * 1000 + 500) as f64 / 1000.0;
    let result = client()
        .post(format!("http://{hub_addr}/api/v1/query"))
        .form(&[("query", "crash_test[12h]"), ("time", &format!("{at:.3}"))])
        .send()
        .and_then(|r| r.json::<serde_json::Value>())
        .expect("query");
    let series = result["data"]["result"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(series.len(), SERIES, "series lost: {}", series.len());
    for sr in &series {
        let s: usize = sr["metric"]["s"]
            .as_str()
            .and_then(|v| v.parse().ok())
            .expect("s label");
        let points = matrix_points(sr);
        let mut seen = std::collections::BTreeMap::new();
        for (t, v) in points {
            let k = ((t * 1000.0).round() as i64 - base_ms) / 1000;
            assert!(
                seen.insert(k, v).is_none(),
                "series {s}: timestamp of sample {k} twice"
            );
        }
        for k in 0..acked_k {
            let got = seen.get(&(k as i64)).copied();
            assert_eq!(
                got,
                Some(value(s, k)),
                "series {s}: acknowledged sample {k} lost or wrong"
            );
        }
    }
}
