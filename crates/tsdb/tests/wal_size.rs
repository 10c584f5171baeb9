//! The WAL's on-disk size on a realistic remote-write workload, and that it replays
//! bit for bit.

use std::time::{Duration, Instant};

use model::{Labels, Matcher, Sample};
use storage::{Appendable, Queryable, SelectHints, WriteIdentity};
use tsdb::{Db, FsyncPolicy, Options};

const SERIES: usize = 100;
const SAMPLES: usize = 1000;
const TARGETS: usize = 4;
/// Scrape rounds per commit: 3 x 100 = 300 samples, a remote-write batch.
const ROUNDS_PER_COMMIT: usize = 3;

/// A small deterministic generator (xorshift64*), so the workload is the same every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// What kind of metric a series is; the mix is that of a node/process exporter.
#[derive(Clone, Copy)]
enum Kind {
    /// Requests, bytes: integer counters.
    IntCounter,
    /// CPU seconds: counters with two decimals.
    CentCounter,
    /// Memory bytes, goroutines: integer gauges that change now and then.
    IntGauge,
    /// Load average: gauges with two decimals.
    CentGauge,
    /// Ratios computed by the exporter: arbitrary floats.
    RatioGauge,
}

fn kind(i: usize) -> Kind {
    match i % 10 {
        0..=3 => Kind::IntCounter,
        4 | 5 => Kind::CentCounter,
        6 | 7 => Kind::IntGauge,
        8 => Kind::CentGauge,
        _ => Kind::RatioGauge,
    }
}

fn labels(i: usize) -> Labels {
    let name = match kind(i) {
        Kind::IntCounter => "http_requests_total",
        Kind::CentCounter => "process_cpu_seconds_total",
        Kind::IntGauge => "process_resident_memory_bytes",
        Kind::CentGauge => "node_load1",
        Kind::RatioGauge => "cache_hit_ratio",
    };
    Labels::from_pairs([
        ("__name__", name.to_string()),
        ("instance", format!("10.1.2.{}:9100", i % TARGETS)),
        ("job", "node".to_string()),
        ("series", format!("{i}")),
    ])
}

/// Scrape rounds: for each of `SAMPLES` rounds, one sample of every series.
fn workload() -> Vec<Vec<Sample>> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut out = Vec::with_capacity(SAMPLES);
    let mut state: Vec<f64> = (0..SERIES)
        .map(|i| match kind(i) {
            Kind::IntCounter => rng.below(1_000_000) as f64,
            Kind::CentCounter => rng.below(10_000_000) as f64 / 100.0,
            Kind::IntGauge => (rng.below(1 << 20) * 4096) as f64,
            Kind::CentGauge => rng.below(400) as f64 / 100.0,
            Kind::RatioGauge => 0.5,
        })
        .collect();
    // Cents of the counters with two decimals, kept exact as integers.
    let mut cents: Vec<u64> = state.iter().map(|v| (v * 100.0).round() as u64).collect();
    let base = 1_700_000_000_000i64;
    for k in 0..SAMPLES {
        let mut round = Vec::with_capacity(SERIES);
        // Each target is scraped at its own phase with a few ms of jitter; all the series
        // of one scrape share its timestamp.
        let scrape_t: Vec<i64> = (0..TARGETS)
            .map(|g| base + k as i64 * 15_000 + g as i64 * 3_700 + rng.below(11) as i64 - 5)
            .collect();
        for i in 0..SERIES {
            let v = match kind(i) {
                Kind::IntCounter => {
                    state[i] += rng.below(120) as f64;
                    state[i]
                }
                Kind::CentCounter => {
                    cents[i] += rng.below(150);
                    cents[i] as f64 / 100.0
                }
                Kind::IntGauge => {
                    if rng.below(4) == 0 {
                        let d = rng.below(64) as f64 * 4096.0;
                        state[i] = (state[i] + d - 32.0 * 4096.0).max(0.0);
                    }
                    state[i]
                }
                Kind::CentGauge => (rng.below(400) as f64) / 100.0,
                Kind::RatioGauge => {
                    let hits = rng.below(10_000) as f64;
                    hits / (hits + 1.0 + rng.below(500) as f64)
                }
            };
            round.push(Sample::new(scrape_t[i % TARGETS], v));
        }
        out.push(round);
    }
    out
}

fn dump(db: &Db) -> Vec<(Labels, Vec<Sample>)> {
    let q = db.querier(i64::MIN, i64::MAX).expect("querier");
    let m = Matcher::new(model::MatchOp::Regex, "__name__", ".+").expect("matcher");
    q.select(&SelectHints::default(), &[m])
        .expect("select")
        .into_iter()
        .map(|s| (s.labels, s.samples))
        .collect()
}

fn wal_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir.join("wal"))
        .expect("wal dir")
        .map(|e| e.expect("entry").metadata().expect("metadata").len())
        .sum()
}

#[test]
fn realistic_remote_write_workload_takes_under_6_bytes_per_sample() {
    let data = workload();
    let lbls: Vec<Labels> = (0..SERIES).map(labels).collect();
    let dir = tempfile::tempdir().expect("tempdir");
    let opts = Options {
        fsync: FsyncPolicy::Interval(Duration::from_secs(1)),
        ..Options::default()
    };
    {
        let db = Db::open(dir.path(), opts.clone()).expect("open");
        for batch in data.chunks(ROUNDS_PER_COMMIT) {
            // A remote-write batch: a few scrape rounds of every series, in arrival order.
            let mut app = db.appender(&WriteIdentity::Anonymous);
            for round in batch {
                for (l, s) in lbls.iter().zip(round) {
                    app.append(l, s.t, s.v).expect("append");
                }
            }
            app.commit().expect("commit");
        }
        db.close().expect("close");
    }
    let bytes = wal_bytes(dir.path());
    let total = (SERIES * SAMPLES) as f64;
    let per_sample = bytes as f64 / total;
    let started = Instant::now();
    let db = Db::open(dir.path(), opts).expect("reopen");
    let replay = started.elapsed();
    eprintln!(
        "WAL: {bytes} bytes for {total} samples = {per_sample:.2} bytes/sample; \
         replay {:.1} ms ({:.0} samples/s, unoptimized build)",
        replay.as_secs_f64() * 1e3,
        total / replay.as_secs_f64()
    );
    // Everything comes back bit for bit.
    let got = dump(&db);
    assert_eq!(got.len(), SERIES);
    for (l, samples) in &got {
        let i = lbls.iter().position(|x| x == l).expect("known series");
        assert_eq!(samples.len(), SAMPLES);
        for (a, round) in samples.iter().zip(&data) {
            let b = &round[i];
            assert!(a.bit_eq(b), "series {i}: {a:?} != {b:?}");
        }
    }
    assert!(
        per_sample < 6.0,
        "WAL takes {per_sample:.2} bytes per sample"
    );
}
