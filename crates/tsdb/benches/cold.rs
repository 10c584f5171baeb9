//! Cold chunk size and speed against XOR on a node_exporter / kube-state-metrics like
//! workload: jittered counters with 0, 2 or 6 decimals, gauges in pages of 4096 or
//! with 2 decimals, integer histogram buckets with 6-decimal sums, constants; every
//! series on exact 15 s scrapes with its target's own phase.
//!
//! Prints bytes per sample for XOR (one chunk per series, as a block would hold it) and
//! for cold chunks of several sizes, the same for day-long series (to choose
//! `COLD_CHUNK_SAMPLES`), then times encode and decode.
//!
//! `COLD_WORKLOAD=<file>` replaces the synthetic series with dumped ones: u64 LE series
//! count, then per series u64 LE n, n i64 LE timestamps, n f64 LE values.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use model::Sample;
use tsdb::chunk::{COLD_CHUNK_SAMPLES, XorAppender, cold};

/// The main workload: 12 nodes' series (2124) with 340 samples each (85 min at 15 s).
const SAMPLES: usize = 340;
const NODES: usize = 12;
/// For choosing the chunk size: 2 nodes' series over a day (5760 samples).
const LONG_SAMPLES: usize = 5760;
const LONG_NODES: usize = 2;

/// A small deterministic generator (PCG-style LCG), so the bench needs no RNG crate.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 11
    }

    /// Uniform in [0, 1).
    fn f(&mut self) -> f64 {
        self.next() as f64 / (1u64 << 53) as f64
    }

    fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.f()
    }

    /// Standard normal (Box-Muller).
    fn gauss(&mut self) -> f64 {
        let u = self.f().max(1e-300);
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * self.f()).cos()
    }
}

fn round_to(v: f64, decimals: i32) -> f64 {
    let p = 10f64.powi(decimals);
    (v * p).round() / p
}

/// Counter growing `rate` per second with +-40% jitter per scrape.
fn counter(r: &mut Rng, n: usize, rate: f64, start: f64, decimals: i32) -> Vec<f64> {
    let mut v = start;
    (0..n)
        .map(|_| {
            v += rate * 15.0 * (0.6 + 0.8 * r.f());
            round_to(v, decimals)
        })
        .collect()
}

/// Bounded random walk around `center`, quantized to `quantum`.
fn gauge(r: &mut Rng, n: usize, center: f64, spread: f64, quantum: f64) -> Vec<f64> {
    let mut x = r.uniform(-0.5, 0.5);
    (0..n)
        .map(|_| {
            x = (x + 0.08 * r.gauss()).clamp(-1.0, 1.0);
            ((center + spread * x) / quantum).round() * quantum
        })
        .collect()
}

/// Cumulative bucket counters (11 buckets and +Inf), then _sum (6 decimals) and _count.
fn histogram(r: &mut Rng, n: usize) -> Vec<Vec<f64>> {
    let mu = r.uniform(1.0, 50.0) * 15.0;
    let per: Vec<f64> = (0..n)
        .map(|_| (mu + mu.sqrt() * r.gauss()).round().max(0.0))
        .collect();
    let start = r.uniform(1e4, 5e6).round();
    let mut out: Vec<Vec<f64>> = [
        0.02, 0.05, 0.1, 0.2, 0.35, 0.5, 0.65, 0.8, 0.9, 0.97, 0.99, 1.0,
    ]
    .iter()
    .map(|f| {
        let mut v = (start * f).round();
        per.iter()
            .map(|k| {
                v += (k * f).round();
                v
            })
            .collect()
    })
    .collect();
    let mean = r.uniform(0.02, 0.3);
    let mut sum = start * mean;
    out.push(
        per.iter()
            .map(|k| {
                sum += k * mean * r.uniform(0.8, 1.2);
                round_to(sum, 6)
            })
            .collect(),
    );
    out.push(out[11].clone());
    out
}

fn synthetic(nodes: usize, n: usize) -> Vec<Vec<Sample>> {
    let mut r = Rng(1);
    let mut series = Vec::new();
    let end = 1_760_000_000_000i64;
    for _ in 0..nodes {
        let phase = (r.next() % 15_000) as i64;
        let mut values = Vec::new();
        let uptime = r.uniform(1e5, 3e6);
        for _ in 0..4 {
            let busy = r.uniform(0.05, 0.6);
            values.push(counter(&mut r, n, 1.0 - busy, uptime * (1.0 - busy), 2));
            for share in [0.65, 0.2, 0.05, 0.01, 0.04, 0.02, 0.03] {
                values.push(counter(&mut r, n, busy * share, uptime * busy * share, 2));
            }
        }
        let mem = 32.0 * (1u64 << 30) as f64;
        values.push(vec![mem; n]);
        for share in [0.4, 0.2, 0.02] {
            values.push(gauge(&mut r, n, mem * share, mem * share / 3.0, 4096.0));
        }
        for (lo, hi) in [(1e5, 5e7), (1e3, 1e5), (1e4, 1e7), (1e5, 3e7)] {
            let rate = r.uniform(lo, hi);
            values.push(counter(&mut r, n, rate, rate * uptime, 0));
        }
        values.push(gauge(&mut r, n, 2.0, 1.0, 0.01));
        for pod in 0..8 {
            for k in 0..8 {
                values.push(vec![f64::from(u8::from(k == 2)); n]);
            }
            let cores = r.uniform(0.01, 1.5);
            values.push(counter(&mut r, n, cores, cores * 1e5, 6));
            let m = r.uniform(50e6, 2e9);
            values.push(gauge(&mut r, n, m, m * 0.1, 4096.0));
            if pod % 2 == 0 {
                values.extend(histogram(&mut r, n));
            }
        }
        for v in values {
            series.push(
                v.into_iter()
                    .enumerate()
                    .map(|(i, v)| {
                        let t = end - (n - 1 - i) as i64 * 15_000 - phase;
                        Sample::new(t, v)
                    })
                    .collect(),
            );
        }
    }
    series
}

/// Reads the dump format described at the top of the file.
fn load(path: &str) -> Vec<Vec<Sample>> {
    let data = std::fs::read(path).expect("read COLD_WORKLOAD");
    let mut words = data
        .chunks_exact(8)
        .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")));
    let mut next = || words.next().expect("dump ends early");
    let count = next();
    (0..count)
        .map(|_| {
            let n = next() as usize;
            let ts: Vec<i64> = (0..n).map(|_| next() as i64).collect();
            ts.into_iter()
                .map(|t| Sample::new(t, f64::from_bits(next())))
                .collect()
        })
        .collect()
}

fn encode_cold(series: &[Vec<Sample>], per_chunk: usize) -> Vec<Vec<u8>> {
    series
        .iter()
        .flat_map(|s| s.chunks(per_chunk))
        .map(|part| {
            let mut buf = Vec::new();
            cold::encode(part, &mut buf);
            buf
        })
        .collect()
}

fn encode_xor(series: &[Vec<Sample>]) -> Vec<Vec<u8>> {
    series
        .iter()
        .flat_map(|s| s.chunks(u16::MAX as usize))
        .map(|part| {
            let mut a = XorAppender::new();
            for s in part {
                a.push(s.t, s.v).expect("in order");
            }
            a.bytes().to_vec()
        })
        .collect()
}

fn decode_cold(chunks: &[Vec<u8>], out: &mut Vec<Sample>) -> usize {
    let mut n = 0;
    for c in chunks {
        out.clear();
        cold::decode(c, out).expect("valid chunk");
        n += out.len();
    }
    n
}

fn bench(c: &mut Criterion) {
    let series = match std::env::var("COLD_WORKLOAD") {
        Ok(path) => load(&path),
        Err(_) => synthetic(NODES, SAMPLES),
    };
    let total: usize = series.iter().map(Vec::len).sum();
    let per_sample =
        |chunks: &[Vec<u8>]| chunks.iter().map(Vec::len).sum::<usize>() as f64 / total as f64;
    println!(
        "{} series, {total} samples; XOR: {:.3} bytes/sample",
        series.len(),
        per_sample(&encode_xor(&series))
    );
    for per_chunk in [120, 240, 480, 1024, 4096] {
        println!(
            "cold, chunks of {per_chunk}: {:.3} bytes/sample",
            per_sample(&encode_cold(&series, per_chunk))
        );
    }
    // Longer series than a 2 h block, as merged blocks hold: what the chunk size costs
    // in size and in decoding one chunk (a query touching one sample of it).
    let long = synthetic(LONG_NODES, LONG_SAMPLES);
    let long_total: usize = long.iter().map(Vec::len).sum();
    let mut out = Vec::new();
    for per_chunk in [120, 480, 1024, 2048, LONG_SAMPLES] {
        let chunks = encode_cold(&long, per_chunk);
        let bytes: usize = chunks.iter().map(Vec::len).sum();
        let start = std::time::Instant::now();
        decode_cold(&chunks, &mut out);
        let took = start.elapsed().as_secs_f64();
        println!(
            "day-long series, chunks of {per_chunk}: {:.3} bytes/sample, {:.1} us to decode a chunk",
            bytes as f64 / long_total as f64,
            took * 1e6 / chunks.len() as f64
        );
    }

    // Every decoded sample must equal the input bit for bit before timing anything.
    let chunks = encode_cold(&series, COLD_CHUNK_SAMPLES);
    let decoded: Vec<Sample> = chunks
        .iter()
        .flat_map(|c| {
            out.clear();
            cold::decode(c, &mut out).expect("valid chunk");
            out.clone()
        })
        .collect();
    assert!(
        decoded
            .iter()
            .zip(series.iter().flatten())
            .all(|(a, b)| a.bit_eq(b))
    );
    assert_eq!(decoded.len(), total);

    let mut g = c.benchmark_group("cold");
    g.throughput(Throughput::Elements(total as u64));
    g.sample_size(10);
    g.bench_function("encode", |b| {
        b.iter(|| encode_cold(black_box(&series), COLD_CHUNK_SAMPLES))
    });
    g.bench_function("decode", |b| {
        b.iter(|| decode_cold(black_box(&chunks), &mut out))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
