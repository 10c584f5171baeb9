//! Parsing throughput over a generated ~10 MB node_exporter-like page.

use std::fmt::Write;
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use exposition::{Entry, Format, Mode, Parser};

/// A node_exporter-like page: per-CPU counters, per-device gauges, histograms.
fn node_page(target_bytes: usize) -> (String, usize) {
    let mut out = String::with_capacity(target_bytes + 4096);
    let mut samples = 0;
    let modes = [
        "idle", "iowait", "irq", "nice", "softirq", "steal", "system", "user",
    ];
    let mut family = 0;
    while out.len() < target_bytes {
        let f = format!("node_cpu_seconds_{family}");
        let _ = writeln!(out, "# HELP {f}_total Seconds the CPUs spent in each mode.");
        let _ = writeln!(out, "# TYPE {f}_total counter");
        for cpu in 0..32 {
            for m in modes {
                let _ = writeln!(
                    out,
                    "{f}_total{{cpu=\"{cpu}\",mode=\"{m}\"}} {}.{}",
                    cpu * 1000 + 17,
                    family % 97
                );
                samples += 1;
            }
        }
        let g = format!("node_filesystem_avail_bytes_{family}");
        let _ = writeln!(
            out,
            "# HELP {g} Filesystem space available to non-root users in bytes."
        );
        let _ = writeln!(out, "# TYPE {g} gauge");
        for dev in 0..16 {
            let _ = writeln!(
                out,
                "{g}{{device=\"/dev/nvme0n1p{dev}\",fstype=\"ext4\",mountpoint=\"/var/lib/data{dev}\"}} {}",
                1.234_567_89e11 + f64::from(dev)
            );
            samples += 1;
        }
        let h = format!("node_disk_io_time_seconds_{family}");
        let _ = writeln!(out, "# HELP {h} Disk I/O latency.");
        let _ = writeln!(out, "# TYPE {h} histogram");
        for dev in ["sda", "sdb", "nvme0n1"] {
            let mut cum = 0;
            for le in [
                "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10",
                "+Inf",
            ] {
                cum += 3;
                let _ = writeln!(out, "{h}_bucket{{device=\"{dev}\",le=\"{le}\"}} {cum}");
                samples += 1;
            }
            let _ = writeln!(out, "{h}_sum{{device=\"{dev}\"}} 123.456");
            let _ = writeln!(out, "{h}_count{{device=\"{dev}\"}} {cum}");
            samples += 2;
        }
        family += 1;
    }
    (out, samples)
}

fn count_samples(body: &[u8]) -> usize {
    let mut p = Parser::new(body, Format::PrometheusText, Mode::Scrape);
    let mut n = 0;
    while let Some(e) = p.next() {
        if let Ok(Entry::Sample(s)) = e {
            black_box(s.value);
            n += 1;
        }
    }
    n
}

fn bench(c: &mut Criterion) {
    let (page, samples) = node_page(10 << 20);
    assert_eq!(
        count_samples(page.as_bytes()),
        samples,
        "page must parse fully"
    );
    let mut g = c.benchmark_group("parse");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(page.len() as u64));
    g.bench_function("text_10MB_bytes", |b| {
        b.iter(|| count_samples(black_box(page.as_bytes())))
    });
    g.throughput(Throughput::Elements(samples as u64));
    g.bench_function("text_10MB_samples", |b| {
        b.iter(|| count_samples(black_box(page.as_bytes())))
    });
    g.bench_function("text_10MB_samples_to_labels", |b| {
        b.iter(|| {
            let mut p = Parser::new(
                black_box(page.as_bytes()),
                Format::PrometheusText,
                Mode::Scrape,
            );
            let mut n = 0;
            while let Some(e) = p.next() {
                if let Ok(Entry::Sample(s)) = e {
                    n += s.to_labels().len();
                }
            }
            n
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
