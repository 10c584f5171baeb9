//! How long `Db::open` takes after a crash (WAL replay), after a checkpoint, and after a
//! graceful close (head persisted in blocks), and after a crash when the WAL past the last
//! checkpoint is as long as the checkpoint policy lets it grow; reported per million
//! series and samples.
//!
//! `cargo bench -p tsdb --bench restart` (`RESTART_SERIES`, default 200,000, and
//! `RESTART_SAMPLES`, default 120, size the head).

use std::time::{Duration, Instant};

use model::Labels;
use storage::{Appendable, WriteIdentity};
use tsdb::{Db, FsyncPolicy, Options};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn opts() -> Options {
    Options {
        fsync: FsyncPolicy::Interval(Duration::from_secs(10)),
        maintenance_interval: None,
        ..Options::default()
    }
}

fn labels(i: usize) -> Labels {
    Labels::from_pairs([
        ("__name__", format!("metric_{}", i % 100)),
        (
            "instance",
            format!("10.0.{}.{}:9100", i / 250 % 256, i % 250),
        ),
        ("job", format!("job_{}", i % 7)),
        ("cluster", format!("c{}", i % 10)),
        ("series", i.to_string()),
    ])
}

/// Writes the workload the way remote write does: every series' next sample per commit
/// of 2,000 samples, for sample rounds `rounds`.
fn fill(db: &Db, series: usize, rounds: std::ops::Range<usize>) {
    let all: Vec<Labels> = (0..series).map(labels).collect();
    for k in rounds {
        let t = k as i64 * 15_000;
        for part in all.chunks(2_000) {
            let mut app = db.appender(&WriteIdentity::Anonymous);
            for (j, l) in part.iter().enumerate() {
                let v = (k as f64 * 1.25 + j as f64).round();
                app.append(l, t, v).expect("append");
            }
            app.commit().expect("commit");
        }
    }
}

fn timed_open(dir: &std::path::Path) -> (Db, Duration) {
    let started = Instant::now();
    let db = Db::open(dir, opts()).expect("open");
    (db, started.elapsed())
}

fn report(what: &str, d: Duration, series: usize, samples: usize) {
    let s = d.as_secs_f64();
    println!(
        "{what:<34} {s:>7.3} s   {:>7.3} s per million series   {:>7.4} s per million samples",
        s / (series as f64 / 1e6),
        s / ((series * samples) as f64 / 1e6),
    );
}

fn main() {
    let series = env("RESTART_SERIES", 200_000);
    let samples = env("RESTART_SAMPLES", 120);
    let dir = tempfile::tempdir().expect("tempdir");
    println!("{series} series x {samples} samples");
    {
        let db = Db::open(dir.path(), opts()).expect("open");
        fill(&db, series, 0..samples);
        // A crash: no close, no checkpoint; the whole WAL is replayed.
    }
    let (db, d) = timed_open(dir.path());
    assert_eq!(db.stats().samples as usize, series * samples);
    report("open after a crash (WAL replay)", d, series, samples);
    // A checkpoint of the head replaces the segments (persisting nothing before i64::MIN).
    let started = Instant::now();
    db.persist_head_before(i64::MIN).expect("checkpoint");
    report(
        "checkpoint (+ empty compaction)",
        started.elapsed(),
        series,
        samples,
    );
    drop(db);
    let (db, d) = timed_open(dir.path());
    assert_eq!(db.stats().samples as usize, series * samples);
    report("open after a checkpoint", d, series, samples);
    let started = Instant::now();
    db.close().expect("close");
    report(
        "graceful close (head to blocks)",
        started.elapsed(),
        series,
        samples,
    );
    drop(db);
    let (db, d) = timed_open(dir.path());
    assert_eq!(db.stats().samples, 0);
    report("open after a graceful close", d, series, samples);
    drop(db);

    // The worst case under the hub's checkpoint policy: a checkpoint, then a tail of a
    // quarter of the head's samples or 64 per series, whichever is less, but at least the
    // policy's floor (the most the policy lets build up, give or take the 2 s between its
    // checks and what is logged while a checkpoint is written), then a crash.
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let db = Db::open(dir.path(), opts()).expect("open");
        let floor = (tsdb::DEFAULT_CHECKPOINT_MIN_TAIL as usize).div_ceil(series);
        let at = samples - (samples / 4).min(64).max(floor).min(samples);
        fill(&db, series, 0..at);
        db.persist_head_before(i64::MIN).expect("checkpoint");
        fill(&db, series, at..samples);
    }
    let (db, d) = timed_open(dir.path());
    assert_eq!(db.stats().samples as usize, series * samples);
    report("open after a crash, policy's worst", d, series, samples);
    drop(db);
}
