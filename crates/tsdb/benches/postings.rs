//! Matcher resolution over the head's postings: the intersections and regex scans a
//! dashboard query makes, over 100 K series, through the public querier.

use criterion::{Criterion, criterion_group, criterion_main};
use model::{Labels, MatchOp, Matcher};
use storage::{Appendable, Queryable, SelectHints, WriteIdentity};

const SERIES: usize = 100_000;

fn db() -> (tempfile::TempDir, tsdb::Db) {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = tsdb::Db::open(dir.path(), tsdb::Options::default()).expect("open");
    let mut app = db.appender(&WriteIdentity::Local);
    for i in 0..SERIES {
        let l = Labels::from_pairs([
            ("__name__", format!("metric_{}", i % 50)),
            ("job", format!("job_{}", i % 10)),
            ("instance", format!("10.0.{}.{}:9100", i / 250 % 4, i % 250)),
            ("cluster", format!("cluster-{}", i % 10)),
            ("pod", format!("pod-{i}")),
        ]);
        app.append(&l, 1_000, 1.0).expect("append");
        if i % 10_000 == 9_999 {
            app.commit().expect("commit");
            app = db.appender(&WriteIdentity::Local);
        }
    }
    app.commit().expect("commit");
    (dir, db)
}

fn m(op: MatchOp, name: &str, value: &str) -> Matcher {
    Matcher::new(op, name, value).expect("valid matcher")
}

fn bench(c: &mut Criterion) {
    let (_dir, db) = db();
    let q = db.querier(0, 2_000).expect("querier");
    let hints = SelectHints {
        start: 0,
        end: 2_000,
        limit: 0,
    };
    let cases: Vec<(&str, Vec<Matcher>)> = vec![
        (
            "name_and_job",
            vec![
                Matcher::equal("__name__", "metric_7"),
                Matcher::equal("job", "job_7"),
            ],
        ),
        (
            "name_job_cluster",
            vec![
                Matcher::equal("__name__", "metric_3"),
                Matcher::equal("job", "job_3"),
                Matcher::equal("cluster", "cluster-3"),
            ],
        ),
        (
            "name_and_regex_alternation",
            vec![
                Matcher::equal("__name__", "metric_1"),
                m(MatchOp::Regex, "cluster", "cluster-1|cluster-3|cluster-5"),
            ],
        ),
        (
            "name_and_regex_scan",
            vec![
                Matcher::equal("__name__", "metric_2"),
                m(MatchOp::Regex, "instance", "10\\.0\\.1\\..*"),
            ],
        ),
        (
            "name_and_not_equal",
            vec![
                Matcher::equal("__name__", "metric_4"),
                m(MatchOp::NotEqual, "job", "job_4"),
            ],
        ),
    ];
    let mut g = c.benchmark_group("postings");
    for (name, matchers) in &cases {
        g.bench_function(*name, |b| {
            b.iter(|| q.series(&hints, matchers).expect("series").len());
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
