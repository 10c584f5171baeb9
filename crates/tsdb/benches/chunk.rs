//! XOR chunk encode and decode throughput, in chunks of 120 samples as the head cuts them,
//! for a counter and a slowly changing gauge scraped every 15 s with +-5 ms jitter.
//! Prints bytes per sample for each.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use model::Sample;
use tsdb::chunk::{XorAppender, XorChunk};

const SAMPLES: usize = 12_000;
const CHUNK: usize = 120;

fn times() -> Vec<i64> {
    let mut rng = 7u64;
    (0..SAMPLES as i64)
        .map(|i| {
            rng = rng
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            1_700_000_000_000 + i * 15_000 + ((rng >> 33) % 11) as i64 - 5
        })
        .collect()
}

fn counter() -> Vec<Sample> {
    let mut total = 0.0;
    times()
        .into_iter()
        .enumerate()
        .map(|(i, t)| {
            total += (40 + (i * 7919) % 23) as f64;
            Sample::new(t, total)
        })
        .collect()
}

fn gauge() -> Vec<Sample> {
    times()
        .into_iter()
        .enumerate()
        .map(|(i, t)| Sample::new(t, (50_000 + (i / 4) * 3 % 97) as f64 * 4096.0))
        .collect()
}

fn encode(samples: &[Sample]) -> Vec<XorChunk> {
    samples
        .chunks(CHUNK)
        .map(|part| {
            let mut a = XorAppender::new();
            for s in part {
                a.push(s.t, s.v).expect("in order");
            }
            a.finish()
        })
        .collect()
}

fn decode(chunks: &[XorChunk]) -> (usize, u64) {
    let mut n = 0;
    let mut acc = 0u64;
    for c in chunks {
        for s in c.iter() {
            let s = s.expect("valid");
            n += 1;
            acc = acc.wrapping_add(s.v.to_bits() ^ s.t as u64);
        }
    }
    (n, acc)
}

fn bench(c: &mut Criterion) {
    for (name, samples) in [("counter", counter()), ("gauge", gauge())] {
        let chunks = encode(&samples);
        let bytes: usize = chunks.iter().map(XorChunk::byte_size).sum();
        println!(
            "{name}: {:.3} bytes/sample ({bytes} bytes for {} samples)",
            bytes as f64 / samples.len() as f64,
            samples.len()
        );
        let mut g = c.benchmark_group(format!("chunk/{name}"));
        g.throughput(Throughput::Elements(samples.len() as u64));
        g.bench_function("encode", |b| {
            b.iter(|| encode(std::hint::black_box(&samples)))
        });
        g.bench_function("decode", |b| {
            b.iter(|| decode(std::hint::black_box(&chunks)))
        });
        g.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(2))
        .sample_size(20);
    targets = bench
}
criterion_main!(benches);
