//! Test harness: a real Alertmanager process on 127.0.0.1, a recording fake one, polling
//! with deadlines, and metric lookups.

#![allow(dead_code)] // Each test file uses a different part.

use std::future::Future;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode};
use notifier::{Notifier, NotifierOptions};
use serde_json::Value;
use std::sync::Mutex;
use tokio::sync::watch;

/// How long any wait in these tests may take.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// Milliseconds since the epoch, now.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// An HTTP client for the tests' own requests (rustls without a process-wide provider).
pub fn http() -> reqwest::Client {
    let tls = scrape::tls::client_config(&config::TlsConfig::default(), false).expect("tls");
    reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .no_proxy()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client")
}

/// Calls `f` until it returns `Some`, every 50ms, failing the test after [`DEADLINE`].
pub async fn poll<T, F, Fut>(what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let end = Instant::now() + DEADLINE;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < end, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A free port on 127.0.0.1 (released before use: a small race, retried by callers).
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// A `prometheus-alertmanager` process with gossip off and a null receiver.
pub struct Alertmanager {
    child: Child,
    /// `127.0.0.1:PORT`.
    pub addr: String,
    dir: tempfile::TempDir,
}

impl Alertmanager {
    /// Starts one and waits until it is ready.
    pub async fn start() -> Alertmanager {
        for _attempt in 0..3 {
            let dir = tempfile::tempdir().expect("tempdir");
            let cfg = dir.path().join("alertmanager.yml");
            std::fs::write(
                &cfg,
                "route:\n  receiver: \"null\"\nreceivers:\n  - name: \"null\"\n",
            )
            .expect("write config");
            let addr = format!("127.0.0.1:{}", free_port());
            let log = std::fs::File::create(dir.path().join("log")).expect("log file");
            let child = Command::new("prometheus-alertmanager")
                .arg(format!("--config.file={}", cfg.display()))
                .arg(format!(
                    "--storage.path={}",
                    dir.path().join("data").display()
                ))
                .arg(format!("--web.listen-address={addr}"))
                .arg("--cluster.listen-address=")
                .arg("--log.level=warn")
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .expect("prometheus-alertmanager runs (Debian package prometheus-alertmanager)");
            let mut am = Alertmanager { child, addr, dir };
            if am.wait_ready().await {
                return am;
            }
            // Most likely the port was taken meanwhile; `am` is killed on drop.
        }
        panic!("Alertmanager did not start in three attempts");
    }

    async fn wait_ready(&mut self) -> bool {
        let client = http();
        let end = Instant::now() + DEADLINE;
        while Instant::now() < end {
            if let Ok(Some(_)) = self.child.try_wait() {
                let log = std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default();
                eprintln!("alertmanager exited: {log}");
                return false;
            }
            let ready = client
                .get(format!("http://{}/-/ready", self.addr))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ready {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }

    /// The URL the notifier posts to.
    pub fn push_url(&self) -> String {
        format!("http://{}/api/v2/alerts", self.addr)
    }

    /// `GET /api/v2/alerts`: the alerts it holds (active, not yet ended).
    pub async fn alerts(&self) -> Vec<Value> {
        let r = http()
            .get(format!("http://{}/api/v2/alerts", self.addr))
            .send()
            .await
            .expect("GET alerts");
        assert!(r.status().is_success(), "GET alerts: {}", r.status());
        let v: Value = serde_json::from_slice(&r.bytes().await.expect("body")).expect("JSON");
        v.as_array().cloned().unwrap_or_default()
    }

    /// The alert named `name`, if Alertmanager holds it.
    pub async fn alert(&self, name: &str) -> Option<Value> {
        self.alerts()
            .await
            .into_iter()
            .find(|a| a["labels"]["alertname"] == name)
    }
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One request a [`FakeAlertmanager`] received.
#[derive(Debug, Clone)]
pub struct Received {
    /// The request path.
    pub path: String,
    /// Its headers.
    pub headers: HeaderMap,
    /// The JSON body.
    pub body: Value,
}

/// An HTTP server that records pushes and answers with a chosen status.
pub struct FakeAlertmanager {
    /// `127.0.0.1:PORT`.
    pub addr: String,
    /// What it received, in order.
    pub received: Arc<Mutex<Vec<Received>>>,
    /// The status it answers with.
    pub status: Arc<Mutex<StatusCode>>,
    task: tokio::task::JoinHandle<()>,
}

impl FakeAlertmanager {
    /// Starts one on a free port.
    pub async fn start() -> FakeAlertmanager {
        let received = Arc::new(Mutex::new(Vec::new()));
        let status = Arc::new(Mutex::new(StatusCode::OK));
        let (rec, st) = (received.clone(), status.clone());
        let app = axum::Router::new().fallback(
            move |uri: axum::http::Uri, headers: HeaderMap, body: axum::body::Bytes| {
                let (rec, st) = (rec.clone(), st.clone());
                async move {
                    let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
                    rec.lock().expect("lock").push(Received {
                        path: uri.path().to_string(),
                        headers,
                        body,
                    });
                    *st.lock().expect("lock")
                }
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr").to_string();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeAlertmanager {
            addr,
            received,
            status,
            task,
        }
    }

    /// Requests so far.
    pub fn requests(&self) -> Vec<Received> {
        self.received.lock().expect("lock").clone()
    }

    /// Alerts received so far, over every request.
    pub fn alert_count(&self) -> usize {
        self.requests()
            .iter()
            .map(|r| r.body.as_array().map_or(0, Vec::len))
            .sum()
    }
}

impl Drop for FakeAlertmanager {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Loads a configuration text (relative paths against `dir`).
pub fn load(text: &str, dir: &Path) -> config::Config {
    config::Config::load_str(text, "prom.yml", dir)
        .expect("configuration loads")
        .config
}

/// A running notifier configured from `text`, and the switch that stops it.
pub struct Running {
    /// The notifier.
    pub notifier: Arc<Notifier>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Applies `text` to a new notifier and starts it.
    pub fn start(text: &str, opts: NotifierOptions) -> Running {
        let n = Notifier::new(opts);
        apply(&n, text);
        Running::run(n)
    }

    /// Starts an already configured notifier.
    pub fn run(notifier: Arc<Notifier>) -> Running {
        let (stop, rx) = watch::channel(false);
        let task = tokio::spawn(notifier.clone().run(rx));
        Running {
            notifier,
            stop,
            task,
        }
    }

    /// Stops it and waits (bounded) for `run` to return.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        tokio::time::timeout(DEADLINE, self.task)
            .await
            .expect("run returns after shutdown")
            .expect("run does not panic");
    }
}

/// Applies configuration `text` to `n`.
pub fn apply(n: &Notifier, text: &str) {
    let c = load(text, Path::new("/"));
    n.apply_config(&c.alerting, &c.global.external_labels)
        .expect("configuration applies");
}

/// The value of the sample `series` (name and labels exactly as rendered) in `text`.
pub fn metric(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| {
        let rest = l.strip_prefix(series)?.strip_prefix(' ')?;
        rest.parse().ok()
    })
}

/// `name{alertmanager="url"}`.
pub fn am_series(name: &str, url: &str) -> String {
    format!("prometheus_notifications_{name}{{alertmanager=\"{url}\"}}")
}
