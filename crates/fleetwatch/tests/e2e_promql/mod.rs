//! End-to-end proof that the hub answers PromQL like Prometheus.
//!
//! - [`differential`]: a corpus of queries ([`corpus.txt`](corpus.txt)) evaluated by the
//!   hub and by Debian's Prometheus 2.42 on the same remote-written data ([`dataset`]),
//!   compared series by series ([`compare`]).
//! - [`dashboards`]: every panel and templating query of kube-prometheus's Grafana
//!   dashboards, with Grafana's variables substituted, runs against `fleetwatch demo`.
//! - [`grafana`]: the exact request sequence of Grafana's Prometheus data source,
//!   replayed against the hub and Prometheus.

mod compare;
mod dashboards;
mod dataset;
mod differential;
mod grafana;

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use crate::common::{Proc, free_port, http_get, start_hub, start_prometheus, wait_for, write_file};
use dataset::Dataset;

const DEADLINE: Duration = Duration::from_secs(60);

/// An HTTP answer: status code, the body parsed as JSON (Null when it is not JSON), and
/// the raw body for messages.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub json: Value,
    pub raw: String,
}

impl Answer {
    /// `data.result` as an array (empty when absent).
    pub fn result(&self) -> Vec<Value> {
        self.json["data"]["result"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// True when the API said `"status":"success"`.
    pub fn ok(&self) -> bool {
        self.json["status"] == "success"
    }

    /// A one-line summary of an error answer.
    pub fn error_line(&self) -> String {
        if self.json.is_null() {
            format!("HTTP {}: {}", self.status, truncate(&self.raw, 160))
        } else {
            format!(
                "HTTP {} {}: {}",
                self.status,
                self.json["errorType"].as_str().unwrap_or("-"),
                truncate(self.json["error"].as_str().unwrap_or(&self.raw), 160)
            )
        }
    }
}

/// The first `n` characters of `s`, marked when cut.
pub fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n).collect::<String>())
    }
}

/// One blocking client for a test's many requests.
pub struct Http {
    client: reqwest::blocking::Client,
}

impl Http {
    pub fn new() -> Http {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        Http {
            client: reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(30))
                .user_agent("Grafana/12.0.0")
                .build()
                .expect("an HTTP client"),
        }
    }

    fn answer(r: Result<reqwest::blocking::Response, reqwest::Error>, what: &str) -> Answer {
        match r {
            Ok(r) => {
                let status = r.status().as_u16();
                let content_type = r
                    .headers()
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                let raw = r.text().unwrap_or_default();
                let json = serde_json::from_str(&raw).unwrap_or(Value::Null);
                Answer {
                    status,
                    content_type,
                    json,
                    raw,
                }
            }
            Err(e) => Answer {
                status: 0,
                content_type: String::new(),
                json: Value::Null,
                raw: format!("{what}: transport error: {e}"),
            },
        }
    }

    /// POST `params` as an `application/x-www-form-urlencoded` body (repeated names allowed).
    pub fn post_form(&self, url: &str, params: &[(&str, &str)]) -> Answer {
        Self::answer(self.client.post(url).form(params).send(), url)
    }

    /// POST with `params` in the URL's query string and an empty form body, as Grafana's
    /// backend forwards resource calls the browser made with GET.
    pub fn post_query_string(&self, url: &str, params: &[(&str, &str)]) -> Answer {
        Self::answer(
            self.client
                .post(with_query(url, params))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body("")
                .send(),
            url,
        )
    }

    /// GET with `params` in the query string.
    pub fn get(&self, url: &str, params: &[(&str, &str)]) -> Answer {
        Self::answer(self.client.get(with_query(url, params)).send(), url)
    }
}

/// `url` with `params` appended as its query string (form-urlencoded).
fn with_query(url: &str, params: &[(&str, &str)]) -> reqwest::Url {
    reqwest::Url::parse_with_params(url, params).unwrap_or_else(|e| panic!("bad URL {url}: {e}"))
}

/// Milliseconds since the epoch, now.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as i64
}

/// Seconds with millisecond precision, as the API's time parameters take them.
pub fn secs(ms: i64) -> String {
    format!("{}.{:03}", ms.div_euclid(1000), ms.rem_euclid(1000))
}

/// A hub and a reference Prometheus, both holding the same [`Dataset`].
pub struct Peers {
    pub hub: String,
    pub prom: String,
    pub data: Dataset,
    _hub: Proc,
    _prom: Proc,
    _tmp: tempfile::TempDir,
}

/// Starts Debian's Prometheus as a remote-write receiver (exemplar storage on) on a
/// free port, with no scrape jobs: its data is only what the test writes.
fn start_reference_prometheus(dir: &Path) -> (Proc, String) {
    let port = free_port();
    let cfg = write_file(
        dir,
        "prometheus.yml",
        "global:\n  scrape_interval: 15s\n  evaluation_interval: 15s\n",
    );
    let prom = start_prometheus(
        dir,
        &cfg,
        port,
        &[
            "--web.enable-remote-write-receiver",
            // Exemplar storage stays off, Prometheus's default: the hub does not
            // store exemplars yet and answers `query_exemplars` as Prometheus does
            // then (empty data); the dataset's exemplars are dropped by both.
            "--log.level=warn",
        ],
    );
    let base = format!("http://127.0.0.1:{port}");
    wait_for("Prometheus ready", DEADLINE, || {
        http_get(&format!("{base}/-/ready"))
            .ok()
            .filter(|(s, _)| *s == 200)
    });
    (prom, base)
}

/// Starts both servers, writes the dataset into both in time order, and waits until
/// both list the same number of series.
pub fn start_peers() -> Peers {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (hub_proc, hub_addr) = start_hub(&tmp.path().join("hub"), &[]);
    let (prom_proc, prom) = start_reference_prometheus(tmp.path());
    let hub = format!("http://{hub_addr}");
    let data = Dataset::generate(now_ms());
    let http = Http::new();
    let headers = [
        ("Content-Type", "application/x-protobuf"),
        ("Content-Encoding", "snappy"),
        ("X-Prometheus-Remote-Write-Version", "0.1.0"),
    ];
    let requests = data.write_requests(20);
    for (i, req) in requests.iter().enumerate() {
        let body = remote::codec::encode(req);
        for base in [&prom, &hub] {
            let mut r = http.client.post(format!("{base}/api/v1/write"));
            for (k, v) in headers {
                r = r.header(k, v);
            }
            let resp = r.body(body.clone()).send();
            let (status, text) = match resp {
                Ok(r) => (r.status().as_u16(), r.text().unwrap_or_default()),
                Err(e) => (0, e.to_string()),
            };
            assert!(
                (200..300).contains(&status),
                "remote write {i} into {base} refused: {status} {text}"
            );
        }
    }
    // Both acknowledged every request; wait until both also list every series.
    let want = data.series.len();
    for base in [&prom, &hub] {
        wait_for(&format!("{want} series listed by {base}"), DEADLINE, || {
            let a = http.get(
                &format!("{base}/api/v1/series"),
                &[
                    ("match[]", r#"{__name__=~".+"}"#),
                    ("start", &secs(data.sample_ms(0) - 1000)),
                    ("end", &secs(data.sample_ms(dataset::LAST_STEP) + 1000)),
                ],
            );
            (a.json["data"].as_array().map(Vec::len) == Some(want)).then_some(())
        });
    }
    Peers {
        hub,
        prom,
        data,
        _hub: hub_proc,
        _prom: prom_proc,
        _tmp: tmp,
    }
}
