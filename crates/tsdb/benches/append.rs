//! Append + commit throughput: 10k series x 100 samples, committed in batches of 1000.

use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use model::Labels;
use storage::{Appendable, WriteIdentity};
use tsdb::{Db, FsyncPolicy, Options};

const SERIES: usize = 10_000;
const SAMPLES: usize = 100;
const BATCH: usize = 1_000;

fn series() -> Vec<Labels> {
    (0..SERIES)
        .map(|i| {
            Labels::from_pairs([
                ("__name__", format!("metric_{}", i % 100)),
                ("instance", format!("10.0.{}.{}:9100", i / 250, i % 250)),
                ("job", "node".to_string()),
                ("cluster", "bench".to_string()),
            ])
        })
        .collect()
}

/// Writes every series' samples, `BATCH` samples per commit, in time order.
fn write_all(db: &Db, labels: &[Labels]) {
    for k in 0..SAMPLES {
        let t = k as i64 * 15_000;
        for chunk in labels.chunks(BATCH) {
            let mut app = db.appender(&WriteIdentity::Anonymous);
            for l in chunk {
                app.append(l, t, k as f64).expect("append");
            }
            app.commit().expect("commit");
        }
    }
}

fn bench(c: &mut Criterion) {
    let labels = series();
    let mut g = c.benchmark_group("append_commit");
    g.throughput(Throughput::Elements((SERIES * SAMPLES) as u64));
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(10));
    for (name, fsync) in [
        ("interval_1s", FsyncPolicy::Interval(Duration::from_secs(1))),
        ("always", FsyncPolicy::Always),
    ] {
        g.bench_function(format!("10k_series_x_100_batch_1000/{name}"), |b| {
            b.iter_batched(
                || {
                    let dir = tempfile::tempdir().expect("tempdir");
                    let db = Db::open(
                        dir.path(),
                        Options {
                            fsync,
                            ..Options::default()
                        },
                    )
                    .expect("open");
                    (dir, db)
                },
                |(dir, db)| {
                    write_all(&db, &labels);
                    (dir, db)
                },
                BatchSize::PerIteration,
            );
        });
    }
    // Four writers over disjoint quarters of the series: with Always, their commits share
    // fsyncs (group commit) instead of queueing one flush each.
    g.bench_function("10k_series_x_100_batch_1000/always_4_writers", |b| {
        b.iter_batched(
            || {
                let dir = tempfile::tempdir().expect("tempdir");
                let opts = Options {
                    fsync: FsyncPolicy::Always,
                    ..Options::default()
                };
                let db = Db::open(dir.path(), opts).expect("open");
                (dir, db)
            },
            |(dir, db)| {
                std::thread::scope(|s| {
                    for part in labels.chunks(SERIES / 4) {
                        let db = &db;
                        s.spawn(move || write_all(db, part));
                    }
                });
                (dir, db)
            },
            BatchSize::PerIteration,
        );
    });
    g.finish();
}

/// Opening a database replays its WAL: the restart time after an outage.
fn replay(c: &mut Criterion) {
    let labels = series();
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let db = Db::open(dir.path(), Options::default()).expect("open");
        write_all(&db, &labels);
        db.close().expect("close");
    }
    let mut g = c.benchmark_group("replay");
    g.throughput(Throughput::Elements((SERIES * SAMPLES) as u64));
    g.sample_size(10);
    g.bench_function("10k_series_x_100", |b| {
        b.iter(|| {
            let db = Db::open(dir.path(), Options::default()).expect("reopen");
            assert_eq!(db.stats().samples, (SERIES * SAMPLES) as u64);
        });
    });
    g.finish();
}

criterion_group!(benches, bench, replay);
criterion_main!(benches);
