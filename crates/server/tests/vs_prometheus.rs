//! Byte-for-byte comparison with a real Prometheus holding the same data.
//!
//! It backfills a TSDB with promtool and starts Debian's `prometheus` (installed by
//! `scripts/install-peers`; the test fails when it is missing). Queries avoid the
//! exact window edges, where Prometheus 2 (closed) and 3 (left-open) differ.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use common::{MemStore, enc, send, series, state};

/// Kills the Prometheus it holds when dropped, so a failed assertion does not leak it.
struct Prom(Child);

impl Drop for Prom {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One series: labels and `(offset seconds, value)` samples.
type SeriesData = (Vec<(&'static str, &'static str)>, Vec<(f64, f64)>);

/// The data, relative to a base time in seconds.
fn data() -> Vec<SeriesData> {
    vec![
        (
            vec![("__name__", "up"), ("instance", "a:9100"), ("job", "node")],
            vec![(100.0, 1.0), (115.0, 1.0), (130.0, 0.0)],
        ),
        (
            vec![("__name__", "up"), ("instance", "b:9100"), ("job", "node")],
            vec![(100.0, 1.0), (115.5, 0.30000000000000004)],
        ),
        (
            vec![
                ("__name__", "http_requests_total"),
                ("code", "200"),
                ("job", "api"),
            ],
            vec![(60.0, 10.0), (90.0, 20.5), (120.0, 1e21), (125.25, -0.0)],
        ),
        (
            vec![("__name__", "odd"), ("v", "a<b>&\"q\"\\ é")],
            vec![
                (100.0, 1.5e-7),
                (110.0, f64::INFINITY),
                (120.0, f64::NEG_INFINITY),
            ],
        ),
    ]
}

fn openmetrics(base: i64) -> String {
    let mut out = String::new();
    for (labels, samples) in data() {
        let name = labels[0].1;
        let rest: Vec<String> = labels[1..]
            .iter()
            .map(|(k, v)| format!("{k}=\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\"")))
            .collect();
        for (t, v) in samples {
            let value = if v == f64::INFINITY {
                "+Inf".to_string()
            } else if v == f64::NEG_INFINITY {
                "-Inf".to_string()
            } else {
                format!("{v:e}")
            };
            out.push_str(&format!(
                "{name}{{{}}} {value} {}\n",
                rest.join(","),
                base as f64 + t
            ));
        }
    }
    out.push_str("# EOF\n");
    out
}

fn store(base: i64) -> MemStore {
    MemStore::new(
        data()
            .into_iter()
            .map(|(l, s)| {
                let shifted: Vec<(f64, f64)> =
                    s.iter().map(|(t, v)| (base as f64 + t, *v)).collect();
                series(&l, &shifted)
            })
            .collect(),
    )
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn http_get(port: u16, path: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").ok()?;
    let mut buf = String::new();
    s.read_to_string(&mut buf).ok()?;
    let (head, body) = buf.split_once("\r\n\r\n")?;
    Some(format!(
        "{} {body}",
        head.lines().next()?.split(' ').nth(1)?
    ))
}

#[tokio::test]
async fn same_json_as_prometheus() {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    let base = now - 3 * 3600;
    let dir = tempfile::tempdir().expect("tempdir");
    let om = dir.path().join("data.om");
    std::fs::write(&om, openmetrics(base)).expect("write data");
    let tsdb = dir.path().join("tsdb");
    let status = Command::new("promtool")
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(&om)
        .arg(&tsdb)
        .stdout(Stdio::null())
        .status()
        .expect("promtool runs");
    assert!(status.success());
    let cfg = dir.path().join("prometheus.yml");
    std::fs::write(&cfg, "global: {}\n").expect("write config");
    let port = free_port();
    let _prom = Prom(
        Command::new("prometheus")
            .arg(format!("--config.file={}", cfg.display()))
            .arg(format!("--storage.tsdb.path={}", tsdb.display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("prometheus starts"),
    );
    let mut ready = false;
    for _ in 0..100 {
        if http_get(port, "/-/ready").is_some_and(|r| r.starts_with("200")) {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ready, "prometheus did not become ready");

    let t = |off: f64| format!("{}", base as f64 + off);
    let queries = vec![
        format!("/api/v1/query?query=up&time={}", t(120.0)),
        format!("/api/v1/query?query=up&time={}", t(117.123)),
        format!(
            "/api/v1/query?query={}&time={}",
            enc("up offset 10s"),
            t(121.0)
        ),
        format!(
            "/api/v1/query?query={}&time={}",
            enc(&format!("up @ {}", t(101.0))),
            t(500.0)
        ),
        format!("/api/v1/query?query=odd&time={}", t(101.0)),
        format!("/api/v1/query?query=odd&time={}", t(111.0)),
        format!(
            "/api/v1/query?query={}&time={}",
            enc("{__name__=~\"odd|http.*\"}"),
            t(121.0)
        ),
        format!(
            "/api/v1/query?query={}&time={}",
            enc("http_requests_total[45s]"),
            t(126.0)
        ),
        format!("/api/v1/query?query={}&time={}", enc("odd[1m]"), t(121.0)),
        format!(
            "/api/v1/query?query={}&time={}",
            enc("(up[1m] offset 1s)"),
            t(131.0)
        ),
        format!(
            "/api/v1/query_range?query=up&start={}&end={}&step=7",
            t(95.0),
            t(140.0)
        ),
        format!(
            "/api/v1/query_range?query=odd&start={}&end={}&step=2.5",
            t(99.0),
            t(125.0)
        ),
        format!(
            "/api/v1/series?match[]=up&match[]=odd&start={}&end={}",
            t(0.0),
            t(200.0)
        ),
        format!(
            "/api/v1/series?match[]={}&start={}&end={}",
            enc("{job=~\".+\"}"),
            t(0.0),
            t(200.0)
        ),
        format!("/api/v1/labels?start={}&end={}", t(0.0), t(200.0)),
        format!("/api/v1/label/job/values?start={}&end={}", t(0.0), t(200.0)),
        format!(
            "/api/v1/label/v/values?match[]=odd&start={}&end={}",
            t(0.0),
            t(200.0)
        ),
        "/api/v1/series".to_string(),
        "/api/v1/query_range?query=up&start=10&end=5&step=1".to_string(),
        "/api/v1/query_range?query=up&start=0&end=11001&step=1".to_string(),
        "/api/v1/query_range?query=up&start=0&end=10&step=0".to_string(),
    ];
    let app = server::router(state(store(base), true));
    for q in queries {
        let theirs = tokio::task::spawn_blocking({
            let q = q.clone();
            move || http_get(port, &q)
        })
        .await
        .expect("join")
        .expect("prometheus answers");
        let r = send(
            app.clone(),
            Request::get(&q).body(Body::empty()).expect("request"),
        )
        .await;
        let ours = format!("{} {}", r.status.as_u16(), r.body);
        assert_eq!(ours, theirs, "{q}");
    }
}
