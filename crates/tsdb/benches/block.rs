//! Matcher resolution over a persisted block: 100 K series with one chunk each, selected
//! the way a dashboard query does (metric name and job, a regex, a single pod).

use criterion::{Criterion, criterion_group, criterion_main};
use model::{Labels, MatchOp, Matcher};
use tsdb::block::{Block, BlockWriter, ChunkInput, ENCODING_XOR};
use tsdb::chunk::XorAppender;

const SERIES: usize = 100_000;

fn block() -> (tempfile::TempDir, Block) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut app = XorAppender::new();
    for i in 0..120 {
        app.push(i * 15_000, (i * 7) as f64).expect("push");
    }
    let chunk = app.finish();
    let input = ChunkInput {
        encoding: ENCODING_XOR,
        min_t: chunk.min_t(),
        max_t: chunk.max_t(),
        samples: chunk.len() as u32,
        data: chunk.bytes(),
    };
    let mut labels: Vec<Labels> = (0..SERIES)
        .map(|i| {
            Labels::from_pairs([
                ("__name__", format!("metric_{}", i % 50)),
                ("job", format!("job_{}", i % 10)),
                ("instance", format!("10.0.{}.{}:9100", i / 250 % 4, i % 250)),
                ("pod", format!("pod-{i}")),
            ])
        })
        .collect();
    labels.sort();
    let mut w = BlockWriter::create(dir.path(), 1, Vec::new()).expect("create");
    for l in &labels {
        w.add_series(l, &[input]).expect("add");
    }
    let meta = w.finish().expect("finish").expect("block");
    let block = Block::open(&dir.path().join(meta.id)).expect("open");
    (dir, block)
}

fn m(op: MatchOp, name: &str, value: &str) -> Matcher {
    Matcher::new(op, name, value).expect("valid matcher")
}

fn bench(c: &mut Criterion) {
    let (_dir, block) = block();
    let cases: Vec<(&str, Vec<Matcher>)> = vec![
        (
            "name_and_job",
            vec![
                Matcher::equal("__name__", "metric_7"),
                Matcher::equal("job", "job_7"),
            ],
        ),
        (
            "name_and_job_regex",
            vec![
                Matcher::equal("__name__", "metric_3"),
                m(MatchOp::Regex, "job", "job_(3|4)"),
            ],
        ),
        ("one_pod", vec![Matcher::equal("pod", "pod-4242")]),
    ];
    let mut g = c.benchmark_group("block_select");
    g.sample_size(20);
    for (name, matchers) in &cases {
        let n = block.select(matchers).expect("select").len();
        assert!(n > 0, "{name} selects something");
        g.bench_function(*name, |b| {
            b.iter(|| block.select(matchers).expect("select").len())
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
