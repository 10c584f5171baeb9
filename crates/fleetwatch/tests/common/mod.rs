//! Shared helpers of the end-to-end suite: start real processes (the fleetwatch
//! binary, Debian's prometheus and node-exporter), find the ports they bound, wait on
//! conditions with deadlines, and query Prometheus-compatible HTTP APIs.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::Value;

pub mod seqtarget;

/// End-to-end tests start real processes and measure time: run them one at a time.
pub fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// The fleetwatch binary under test.
pub fn fleetwatch_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_fleetwatch"))
}

/// A Debian peer binary; the test fails (not skips) when it is missing.
pub fn peer_bin(name: &str) -> PathBuf {
    let p = PathBuf::from("/usr/bin").join(name);
    assert!(
        p.exists(),
        "{} is missing: run scripts/install-peers (Debian package providing {name})",
        p.display()
    );
    p
}

/// A free loopback port (bound and released; the race is acceptable on a test machine).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on loopback")
}

/// Polls `cond` until it returns Some or `deadline` passes; panics with `what` on timeout.
pub fn wait_for<T>(what: &str, deadline: Duration, mut cond: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = cond() {
            return v;
        }
        assert!(
            start.elapsed() < deadline,
            "timed out after {deadline:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A child process whose stderr is collected; killed on drop.
pub struct Proc {
    /// What it is, for messages.
    pub name: String,
    child: Option<Child>,
    log: Arc<Mutex<Vec<String>>>,
}

impl Proc {
    /// Starts `cmd`, collecting its stderr and stdout lines.
    pub fn start(name: &str, mut cmd: Command) -> Proc {
        cmd.stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .stdin(Stdio::null());
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        let log = Arc::new(Mutex::new(Vec::new()));
        for out in [
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let log = log.clone();
            let tag = name.to_string();
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines().map_while(Result::ok) {
                    if std::env::var_os("E2E_VERBOSE").is_some() {
                        eprintln!("[{tag}] {line}");
                    }
                    log.lock().unwrap_or_else(|e| e.into_inner()).push(line);
                }
            });
        }
        Proc {
            name: name.to_string(),
            child: Some(child),
            log,
        }
    }

    /// All output lines so far.
    pub fn lines(&self) -> Vec<String> {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Waits for the `listening on HOST:PORT` line and returns HOST:PORT.
    pub fn wait_listening(&mut self, deadline: Duration) -> String {
        let name = self.name.clone();
        wait_for(&format!("{name} to log 'listening on'"), deadline, || {
            if let Some(status) = self.try_status() {
                panic!(
                    "{name} exited with {status} before listening:\n{}",
                    self.lines().join("\n")
                );
            }
            self.lines().iter().find_map(|l| {
                l.split("listening on ")
                    .nth(1)
                    .map(|rest| rest.split_whitespace().next().unwrap_or("").to_string())
            })
        })
    }

    /// The exit status if it has exited.
    pub fn try_status(&mut self) -> Option<std::process::ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
    }

    /// True while the process runs.
    pub fn is_running(&mut self) -> bool {
        self.child.is_some() && self.try_status().is_none()
    }

    /// SIGKILL, and wait for it to be gone.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM, then wait up to `deadline` for a clean exit; returns whether it exited 0.
    pub fn terminate(&mut self, deadline: Duration) -> bool {
        let Some(mut c) = self.child.take() else {
            return false;
        };
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(c.id().to_string())
            .status();
        let start = Instant::now();
        while start.elapsed() < deadline {
            if let Ok(Some(s)) = c.try_wait() {
                return s.success();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = c.kill();
        let _ = c.wait();
        false
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Starts `fleetwatch hub` on a free port with `data`, returning it and its address.
pub fn start_hub(data: &Path, extra: &[&str]) -> (Proc, String) {
    let mut cmd = Command::new(fleetwatch_bin());
    cmd.arg("hub")
        .arg("--listen")
        .arg("127.0.0.1:0")
        .arg("--data")
        .arg(data);
    cmd.args(extra);
    let mut p = Proc::start("hub", cmd);
    let addr = p.wait_listening(Duration::from_secs(60));
    wait_for("hub ready", Duration::from_secs(30), || {
        http_get(&format!("http://{addr}/-/ready"))
            .ok()
            .filter(|(s, _)| *s == 200)
    });
    (p, addr)
}

/// Starts `fleetwatch agent` for `cluster` writing to `hub_write_url`.
pub fn start_agent(
    cluster: &str,
    hub_write_url: &str,
    data: &Path,
    config: &Path,
) -> (Proc, String) {
    let mut cmd = Command::new(fleetwatch_bin());
    cmd.args([
        "agent",
        "--cluster",
        cluster,
        "--hub",
        hub_write_url,
        "--listen",
        "127.0.0.1:0",
    ])
    .arg("--data")
    .arg(data)
    .arg("--config")
    .arg(config);
    let mut p = Proc::start(&format!("agent {cluster}"), cmd);
    let addr = p.wait_listening(Duration::from_secs(60));
    (p, addr)
}

/// A blocking HTTP client for the tests.
pub fn client() -> reqwest::blocking::Client {
    // reqwest is built without a default TLS provider (the binary picks aws-lc-rs).
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("an HTTP client")
}

/// GET `url`: status and body.
pub fn http_get(url: &str) -> Result<(u16, String), reqwest::Error> {
    let r = client().get(url).send()?;
    let s = r.status().as_u16();
    Ok((s, r.text()?))
}

/// POST raw `body` with headers: status and body.
pub fn http_post(
    url: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Result<(u16, String), reqwest::Error> {
    let mut req = client().post(url).body(body);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let r = req.send()?;
    let s = r.status().as_u16();
    Ok((s, r.text()?))
}

/// Runs an instant query against a Prometheus-compatible API at `base`
/// (`http://host:port`), returning `data.result` when the query succeeded.
pub fn instant_query(base: &str, query: &str) -> Option<Vec<Value>> {
    let r = client()
        .post(format!("{base}/api/v1/query"))
        .form(&[("query", query)])
        .send()
        .ok()?;
    let v: Value = r.json().ok()?;
    if v["status"] != "success" {
        return None;
    }
    v["data"]["result"].as_array().cloned()
}

/// The (timestamp seconds, value) pairs of a matrix result's series.
pub fn matrix_points(series: &Value) -> Vec<(f64, f64)> {
    series["values"]
        .as_array()
        .map(|vals| {
            vals.iter()
                .filter_map(|p| {
                    let t = p[0].as_f64()?;
                    let v = p[1].as_str()?.parse::<f64>().ok()?;
                    Some((t, v))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Starts Debian's node-exporter on a free loopback port, with the slow collectors off.
pub fn start_node_exporter() -> (Proc, String) {
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let mut cmd = Command::new(peer_bin("prometheus-node-exporter"));
    cmd.arg(format!("--web.listen-address={addr}"));
    let p = Proc::start("node-exporter", cmd);
    wait_for(
        "node-exporter to serve /metrics",
        Duration::from_secs(30),
        || {
            http_get(&format!("http://{addr}/metrics"))
                .ok()
                .filter(|(s, _)| *s == 200)
        },
    );
    (p, addr)
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("writing a test file");
    p
}

/// Starts Debian's Prometheus on loopback `port` with `config` (a file path), its TSDB in
/// `dir/prom`, and any `extra` flags.
pub fn start_prometheus(dir: &Path, config: &Path, port: u16, extra: &[&str]) -> Proc {
    let mut cmd = Command::new(peer_bin("prometheus"));
    cmd.arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("prom").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .args(extra);
    Proc::start("prometheus", cmd)
}

impl Proc {
    /// Sends SIGHUP (a configuration reload for the hub).
    pub fn sighup(&self) {
        let pid = self.child.as_ref().map(Child::id).expect("process running");
        let ok = Command::new("kill")
            .arg("-HUP")
            .arg(pid.to_string())
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "kill -HUP {pid} failed");
    }
}

/// GET `url` and parse the JSON body, when the request succeeded with 200.
pub fn get_json(url: &str) -> Option<Value> {
    let (status, body) = http_get(url).ok()?;
    (status == 200)
        .then(|| serde_json::from_str(&body).ok())
        .flatten()
}

/// The hub's `/api/v1/alerts` list (`data.alerts`); empty when the request fails.
pub fn hub_alerts(base: &str) -> Vec<Value> {
    get_json(&format!("{base}/api/v1/alerts"))
        .and_then(|v| v["data"]["alerts"].as_array().cloned())
        .unwrap_or_default()
}

/// Remote-writes one sample per series (labels including `__name__`) stamped now, and
/// asserts the hub acknowledged it.
pub fn remote_write_now(base: &str, series: &[(&[(&str, &str)], f64)]) {
    use prost::Message as _;
    use remote::codec::{Label, Sample, TimeSeries, WriteRequest};
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as i64;
    let timeseries = series
        .iter()
        .map(|(labels, v)| {
            let mut labels: Vec<Label> = labels
                .iter()
                .map(|(n, v)| Label {
                    name: n.to_string(),
                    value: v.to_string(),
                })
                .collect();
            labels.sort_by(|a, b| a.name.cmp(&b.name));
            TimeSeries {
                labels,
                samples: vec![Sample {
                    value: *v,
                    timestamp: now,
                }],
                exemplars: vec![],
            }
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
    let (status, text) = http_post(
        &format!("{base}/api/v1/write"),
        &[
            ("Content-Type", "application/x-protobuf"),
            ("Content-Encoding", "snappy"),
            ("X-Prometheus-Remote-Write-Version", "0.1.0"),
        ],
        body,
    )
    .expect("remote write request");
    assert_eq!(status, 204, "remote write refused: {text}");
}

/// Starts Debian's Alertmanager on a free loopback port with a null receiver, its data in
/// `dir`, gossip off; returns it and its address once it is ready.
pub fn start_alertmanager(dir: &Path) -> (Proc, String) {
    let cfg = write_file(
        dir,
        "alertmanager.yml",
        "route:\n  receiver: \"null\"\nreceivers:\n  - name: \"null\"\n",
    );
    // A port taken between picking and binding makes it exit: try another.
    for attempt in 0..3 {
        let addr = format!("127.0.0.1:{}", free_port());
        let mut cmd = Command::new(peer_bin("prometheus-alertmanager"));
        cmd.arg(format!("--config.file={}", cfg.display()))
            .arg(format!(
                "--storage.path={}",
                dir.join(format!("am-data-{attempt}")).display()
            ))
            .arg(format!("--web.listen-address={addr}"))
            .arg("--cluster.listen-address=");
        let mut p = Proc::start("alertmanager", cmd);
        let ready = wait_for("alertmanager ready", Duration::from_secs(30), || {
            if p.try_status().is_some() {
                return Some(false);
            }
            http_get(&format!("http://{addr}/-/ready"))
                .ok()
                .filter(|(s, _)| *s == 200)
                .map(|_| true)
        });
        if ready {
            return (p, addr);
        }
        eprintln!("alertmanager exited:\n{}", p.lines().join("\n"));
    }
    panic!("Alertmanager did not start in three attempts");
}

/// Alertmanager's `GET /api/v2/alerts`: the alerts it holds that have not ended.
pub fn alertmanager_alerts(addr: &str) -> Vec<Value> {
    get_json(&format!("http://{addr}/api/v2/alerts"))
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default()
}
