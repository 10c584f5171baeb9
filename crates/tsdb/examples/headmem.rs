//! Heap bytes per head series, measured with a counting allocator:
//! `cargo run --release -p tsdb --example headmem`.
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::Duration;

use model::Labels;
use storage::{Appendable, WriteIdentity};
use tsdb::{Db, FsyncPolicy, Options};

struct Counting;
static LIVE: AtomicIsize = AtomicIsize::new(0);
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        LIVE.fetch_add(n as isize - l.size() as isize, Ordering::Relaxed);
        unsafe { System.realloc(p, l, n) }
    }
}
#[global_allocator]
static A: Counting = Counting;

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
    let base = LIVE.load(Ordering::Relaxed);
    for k in 0..samples {
        let mut app = db.appender(&WriteIdentity::Anonymous);
        for (i, l) in all.iter().enumerate() {
            let v = (k * 7 + i % 13) as f64 * 1.5;
            app.append(l, k as i64 * 15_000 + (i % 1000) as i64, v)
                .expect("append");
        }
        app.commit().expect("commit");
        if k == 0 {
            let now = LIVE.load(Ordering::Relaxed);
            println!(
                "after 1 sample:    {:>6} B/series",
                (now - base) / n as isize
            );
        }
    }
    let now = LIVE.load(Ordering::Relaxed);
    println!(
        "after {samples} samples: {:>6} B/series",
        (now - base) / n as isize
    );
    drop(all);
    let now = LIVE.load(Ordering::Relaxed);
    println!(
        "labels dropped:    {:>6} B/series",
        (now - base) / n as isize
    );
}
