//! The queries dashboards for many clusters run, over a TSDB holding a fleet:
//! 10 clusters x 40 instances, request counters by code and method, a latency
//! histogram of 12 buckets, an info series per instance to join on; one
//! hour at a 15 s interval, and five filesystems per instance (about 13,000
//! series, 3.1 M samples).
//!
//! `cargo bench -p promql --bench dashboards`

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use model::Labels;
use promql::{Engine, EngineOptions};
use storage::{Appendable, WriteIdentity};
use tsdb::{Db, FsyncPolicy, Options};

const CLUSTERS: usize = 10;
const INSTANCES: usize = 40;
const SAMPLES: i64 = 240;
const INTERVAL: i64 = 15_000;
const BUCKETS: [&str; 12] = [
    "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf",
];

fn fleet() -> Vec<(Labels, f64)> {
    let mut out = Vec::new();
    for c in 0..CLUSTERS {
        for i in 0..INSTANCES {
            let cluster = format!("cluster-{c}");
            let instance = format!("10.0.{c}.{i}:8080");
            for code in ["200", "404", "500"] {
                for method in ["GET", "POST"] {
                    let rate = 1.0 + (c * 7 + i * 3 + code.len()) as f64 % 5.0;
                    out.push((
                        Labels::from_pairs([
                            ("__name__", "http_requests_total"),
                            ("cluster", &cluster),
                            ("instance", &instance),
                            ("job", "api"),
                            ("code", code),
                            ("method", method),
                        ]),
                        rate,
                    ));
                }
            }
            for (k, le) in BUCKETS.iter().enumerate() {
                out.push((
                    Labels::from_pairs([
                        ("__name__", "http_request_duration_seconds_bucket"),
                        ("cluster", &cluster),
                        ("instance", &instance),
                        ("job", "api"),
                        ("le", le),
                    ]),
                    (k + 1) as f64,
                ));
            }
            for (k, (fstype, mount)) in [
                ("ext4", "/"),
                ("ext4", "/var"),
                ("xfs", "/data"),
                ("tmpfs", "/run"),
                ("overlay", "/var/lib/containers"),
            ]
            .iter()
            .enumerate()
            {
                for (name, base) in [
                    ("node_filesystem_avail_bytes", 1.0e9),
                    ("node_filesystem_size_bytes", 4.0e9),
                ] {
                    out.push((
                        Labels::from_pairs([
                            ("__name__", name),
                            ("cluster", &cluster),
                            ("instance", &instance),
                            ("job", "node"),
                            ("device", &format!("sd{k}")),
                            ("fstype", fstype),
                            ("mountpoint", mount),
                        ]),
                        base * (k + 1) as f64,
                    ));
                }
            }
            out.push((
                Labels::from_pairs([
                    ("__name__", "node_info"),
                    ("cluster", &cluster),
                    ("instance", &instance),
                    ("node", &format!("node-{c}-{}", i % 8)),
                ]),
                0.0,
            ));
        }
    }
    out
}

fn fill(db: &Db) {
    let series = fleet();
    for k in 0..SAMPLES {
        let mut app = db.appender(&WriteIdentity::Anonymous);
        for (labels, slope) in &series {
            let v = if *slope == 0.0 {
                1.0
            } else {
                (k as f64 * slope).floor()
            };
            app.append(labels, k * INTERVAL, v).expect("append");
        }
        app.commit().expect("commit");
    }
}

const QUERIES: [(&str, &str); 7] = [
    (
        "sum_rate_by_cluster",
        "sum by (cluster) (rate(http_requests_total[5m]))",
    ),
    (
        "error_ratio",
        "sum by (cluster) (rate(http_requests_total{code=~\"5..\"}[5m])) / sum by (cluster) (rate(http_requests_total[5m]))",
    ),
    (
        "histogram_quantile",
        "histogram_quantile(0.99, sum by (cluster, le) (rate(http_request_duration_seconds_bucket[5m])))",
    ),
    (
        "group_left_join",
        "sum by (cluster, instance) (rate(http_requests_total[5m])) * on (cluster, instance) group_left (node) node_info",
    ),
    (
        "topk",
        "topk(5, sum by (cluster, instance) (rate(http_requests_total[5m])))",
    ),
    (
        "one_to_one_ratio",
        "min by (cluster, instance) (node_filesystem_avail_bytes{fstype!~\"tmpfs|overlay\"} / node_filesystem_size_bytes{fstype!~\"tmpfs|overlay\"})",
    ),
    (
        "max_over_time_subquery",
        "max_over_time(sum by (cluster) (rate(http_requests_total[1m]))[15m:1m])",
    ),
];

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let opts = Options {
        fsync: FsyncPolicy::Interval(Duration::from_secs(10)),
        maintenance_interval: None,
        ..Options::default()
    };
    let db = Db::open(dir.path(), opts).expect("open");
    fill(&db);
    let engine = Engine::new(EngineOptions::default());
    let end = (SAMPLES - 1) * INTERVAL;
    let mut g = c.benchmark_group("dashboards");
    g.sample_size(10);
    for (name, q) in QUERIES {
        // Fail loudly rather than time an error.
        engine
            .range_query(&db, q, end - 3_600_000 + 600_000, end, 30_000, None)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        g.bench_function(format!("range_50m_step30s/{name}"), |b| {
            b.iter(|| engine.range_query(&db, q, end - 3_000_000, end, 30_000, None))
        });
        g.bench_function(format!("instant/{name}"), |b| {
            b.iter(|| engine.instant_query(&db, q, end, None))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
