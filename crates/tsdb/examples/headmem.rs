//! Heap bytes per head series, measured with a counting allocator:
//! `cargo run --release -p tsdb --example headmem`.
use std::time::Duration;

use model::Labels;
use storage::{Appendable, WriteIdentity};
use tsdb::{Db, FsyncPolicy, Options};

#[path = "common/counting.rs"]
mod counting;

#[global_allocator]
static A: counting::Counting = counting::Counting;

fn labels(i: usize) -> Labels {
    let node = i / 200;
    let pod = i / 10;
    Labels::from_pairs([
        ("__name__", format!("metric_{}", i % 25)),
        ("cluster", format!("cluster-{:02}", node % 10)),
        ("instance", format!("node-{node:04}:9100")),
        ("job", "kube-state-metrics".to_string()),
        ("namespace", format!("ns-{}", pod % 8)),
        ("pod", format!("pod-{pod:06}-abcdef")),
        ("container", format!("c{}", i % 3)),
    ])
}

fn main() {
    let n = 20_000;
    let samples = 120;
    let dir = tempfile::tempdir().expect("tempdir");
    let opts = Options {
        fsync: FsyncPolicy::Interval(Duration::from_secs(10)),
        maintenance_interval: None,
        ..Options::default()
    };
    let db = Db::open(dir.path(), opts).expect("open");
    let all: Vec<Labels> = (0..n).map(labels).collect();
    let base = counting::live();
    for k in 0..samples {
        let mut app = db.appender(&WriteIdentity::Anonymous);
        for (i, l) in all.iter().enumerate() {
            let v = (k * 7 + i % 13) as f64 * 1.5;
            app.append(l, k as i64 * 15_000 + (i % 1000) as i64, v)
                .expect("append");
        }
        app.commit().expect("commit");
        if k == 0 {
            let now = counting::live();
            println!(
                "after 1 sample:    {:>6} B/series",
                (now - base) / n as isize
            );
        }
    }
    let now = counting::live();
    println!(
        "after {samples} samples: {:>6} B/series",
        (now - base) / n as isize
    );
    drop(all);
    let now = counting::live();
    println!(
        "labels dropped:    {:>6} B/series",
        (now - base) / n as isize
    );
}
