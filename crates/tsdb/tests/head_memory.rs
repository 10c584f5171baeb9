//! Heap bytes per active series in the head, measured with a counting allocator.
//!
//! 20,000 series with realistic labels (7 labels: 50 metric names, job, 50 instances,
//! 10 clusters, and namespace/pod/container-like labels), 120 samples each, written in
//! time order through the public append path. Run with `--nocapture` to see the figure.

use storage::{Appendable, WriteIdentity};
use tsdb::{Db, FsyncPolicy, Options};

/// The counting allocator the memory examples use.
#[path = "../examples/common/counting.rs"]
mod counting;

#[global_allocator]
static ALLOC: counting::Counting = counting::Counting;

const SERIES: usize = 20_000;
const SAMPLES: usize = 120;
const BATCH: usize = 2_000;

/// Label pairs of series `i`, sorted by name.
fn labels(i: usize) -> Vec<(String, String)> {
    let mut l = vec![
        (
            "__name__".to_string(),
            format!("metric_family_{}_total", i % 50),
        ),
        ("cluster".to_string(), format!("cluster-{}", (i / 7) % 10)),
        (
            "container".to_string(),
            format!("container-{}", (i / 3) % 20),
        ),
        (
            "instance".to_string(),
            format!("10.0.{}.{}:9100", (i / 11) % 5, (i / 11) % 50),
        ),
        ("job".to_string(), format!("job-{}", (i / 13) % 5)),
        (
            "namespace".to_string(),
            format!("namespace-{}", (i / 17) % 8),
        ),
        ("pod".to_string(), format!("pod-{}-{:x}", (i / 5) % 100, i)),
    ];
    l.sort();
    l
}

/// Sample `k` of series `i`: counters with a per-series rate, some gauge-like values.
fn value(i: usize, k: usize) -> f64 {
    if i.is_multiple_of(3) {
        ((k * 7 + i) % 23) as f64 * 0.25
    } else {
        (k * (i % 17 + 1)) as f64
    }
}

#[test]
fn heap_bytes_per_series() {
    let all: Vec<Vec<(String, String)>> = (0..SERIES).map(labels).collect();
    let dir = tempfile::tempdir().expect("tempdir");
    let db = Db::open(
        dir.path(),
        Options {
            fsync: FsyncPolicy::Interval(std::time::Duration::from_secs(3600)),
            ..Options::default()
        },
    )
    .expect("open");
    let before = counting::live();
    for k in 0..SAMPLES {
        let t = 1_700_000_000_000 + k as i64 * 15_000;
        for (b, chunk) in all.chunks(BATCH).enumerate() {
            let mut app = db.appender(&WriteIdentity::Anonymous);
            for (j, l) in chunk.iter().enumerate() {
                let i = b * BATCH + j;
                let pairs: Vec<(&str, &str)> =
                    l.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
                app.append_pairs(&pairs, t + (i % 1000) as i64, value(i, k))
                    .expect("append");
            }
            app.commit().expect("commit");
        }
    }
    let after = counting::live();
    let stats = db.stats();
    assert_eq!(stats.series, SERIES as u64);
    assert_eq!(stats.samples, (SERIES * SAMPLES) as u64);
    let per_series = (after - before) as f64 / SERIES as f64;
    // The same samples XOR-encoded, to split sample data from per-series overhead.
    let mut encoded = 0usize;
    for i in 0..SERIES {
        let mut a = tsdb::chunk::XorAppender::new();
        for k in 0..SAMPLES {
            let t = 1_700_000_000_000 + k as i64 * 15_000 + (i % 1000) as i64;
            a.push(t, value(i, k)).expect("push");
        }
        encoded += a.byte_size();
    }
    println!(
        "head heap: {} bytes for {SERIES} series x {SAMPLES} samples = {per_series:.0} B/series \
         (encoded chunk bytes {:.0} B/series)",
        after - before,
        encoded as f64 / SERIES as f64
    );
    // A regression guard with room for allocator and layout noise, not a target.
    assert!(per_series < 850.0, "{per_series:.0} B/series");
    drop(db);
}
