//! Replays recorded remote-write requests through the hub's receive path into a real
//! TSDB, in-process, and prints samples per CPU-second: the hub's ingestion loop
//! without HTTP, for `perf record` and quick before/after comparisons.
//!
//! Input: files of length-prefixed (u32 little-endian) snappy-compressed
//! `WriteRequest` bodies, one file per connection (replayed on its own thread, in
//! order), e.g. dumped from `../shared/bench/workload.py`'s `encode_shards`.
//!
//! ```sh
//! cargo run --release -p fleetwatch --example replay -- /tmp/reqs/shard*.bin
//! ```

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

/// Counts live heap bytes (requested sizes), to report bytes per series after the replay.
#[path = "../../tsdb/examples/common/counting.rs"]
mod counting;

#[global_allocator]
static A: counting::Counting = counting::Counting;

/// The hub's allocator settings (the trimming thread is not used here).
#[path = "../src/memtrim.rs"]
#[allow(dead_code)]
mod memtrim;

use remote::{ReceiveLimits, handle_write};
use storage::WriteIdentity;

fn read_requests(path: &PathBuf) -> Vec<Vec<u8>> {
    let data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = Vec::new();
    let mut at = 0;
    while at + 4 <= data.len() {
        let mut len = [0u8; 4];
        len.copy_from_slice(&data[at..at + 4]);
        let n = u32::from_le_bytes(len) as usize;
        at += 4;
        out.push(data[at..at + n].to_vec());
        at += n;
    }
    out
}

fn cpu_seconds() -> f64 {
    // SAFETY: getrusage writes one `rusage` we own; a zeroed rusage is a valid value.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: RUSAGE_SELF with a valid pointer; the call only fills `ru`.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

fn main() {
    // The allocator set up as the hub's binary sets it.
    memtrim::configure();
    let files: Vec<PathBuf> = std::env::args().skip(1).map(PathBuf::from).collect();
    assert!(!files.is_empty(), "usage: replay SHARD_FILE...");
    let shards: Vec<Vec<Vec<u8>>> = files.iter().map(read_requests).collect();
    let dir = tempfile::tempdir().expect("temp dir");
    let opts = tsdb::Options {
        fsync: tsdb::FsyncPolicy::Interval(std::time::Duration::from_secs(1)),
        maintenance_interval: None,
        ..tsdb::Options::default()
    };
    let db = Arc::new(tsdb::Db::open(dir.path(), opts).expect("open db"));
    let limits = ReceiveLimits::default();

    let live0 = counting::live();
    let cpu0 = cpu_seconds();
    let wall = Instant::now();
    let samples: usize = std::thread::scope(|s| {
        let handles: Vec<_> = shards
            .iter()
            .map(|reqs| {
                let db = Arc::clone(&db);
                let limits = &limits;
                s.spawn(move || {
                    let mut n = 0;
                    for body in reqs {
                        let st = handle_write(
                            body,
                            Some("snappy"),
                            Some("application/x-protobuf"),
                            db.as_ref(),
                            &WriteIdentity::Anonymous,
                            limits,
                        )
                        .expect("write accepted");
                        n += st.samples;
                    }
                    n
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("thread")).sum()
    });
    let cpu = cpu_seconds() - cpu0;
    let wall = wall.elapsed().as_secs_f64();
    remote::receive::scratch::release_idle(std::time::Duration::ZERO);
    let live = counting::live() - live0;
    let series = db.stats().series.max(1);
    println!(
        "{samples} samples in {wall:.2} s wall, {cpu:.2} CPU-s: {:.0} samples per CPU-s; \
         live heap {} B per series ({series} series)",
        samples as f64 / cpu,
        live / series as isize
    );
}
