//! The read path through the storage traits: matchers, time ranges, label names and
//! values, limits, append errors, and concurrent writers with a reader.

use std::sync::Arc;
use std::time::Duration;

use model::{Labels, MatchOp, Matcher};
use storage::{Appendable, Queryable, SelectHints, StorageError, WriteIdentity};
use tsdb::{Db, FsyncPolicy, Options};

fn m(op: MatchOp, n: &str, v: &str) -> Matcher {
    Matcher::new(op, n, v).expect("valid matcher")
}

fn all() -> SelectHints {
    SelectHints::default()
}

/// up{job=a} at 10..=30, up{job=b,env=prod} at 100, down{env=dev} at 200.
fn fixture() -> (tempfile::TempDir, Db) {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = Db::open(dir.path(), Options::default()).expect("open");
    let mut app = db.appender(&WriteIdentity::Anonymous);
    let a = Labels::from_pairs([("__name__", "up"), ("job", "a")]);
    let b = Labels::from_pairs([("__name__", "up"), ("job", "b"), ("env", "prod")]);
    let c = Labels::from_pairs([("__name__", "down"), ("env", "dev")]);
    for t in [10, 20, 30] {
        app.append(&a, t, t as f64).expect("append");
    }
    app.append(&b, 100, 1.0).expect("append");
    app.append(&c, 200, 2.0).expect("append");
    app.commit().expect("commit");
    (dir, db)
}

#[test]
fn select_filters_by_matchers_and_time_and_sorts_by_labels() {
    let (_d, db) = fixture();
    let q = db.querier(0, 1000).expect("querier");
    let up = q
        .select(&all(), &[m(MatchOp::Equal, "__name__", "up")])
        .expect("select");
    assert_eq!(up.len(), 2);
    // Prometheus order: label by label, names before values, so `env` sorts before `job`.
    assert_eq!(up[0].labels.get("job"), Some("b"));
    assert_eq!(up[1].labels.get("job"), Some("a"));
    assert_eq!(up[1].samples.len(), 3);
    let narrow = SelectHints {
        start: 15,
        end: 25,
        limit: 0,
    };
    let s = q
        .select(&narrow, &[m(MatchOp::Equal, "__name__", "up")])
        .expect("select");
    assert_eq!(s.len(), 1, "series without samples in range are left out");
    assert_eq!(
        s[0].samples.iter().map(|x| x.t).collect::<Vec<_>>(),
        vec![20]
    );
    let no_env = q
        .select(&all(), &[m(MatchOp::Equal, "env", "")])
        .expect("select");
    assert_eq!(no_env.len(), 1);
    assert_eq!(no_env[0].labels.get("job"), Some("a"));
    let limited = SelectHints {
        start: 0,
        end: 1000,
        limit: 1,
    };
    assert_eq!(
        q.select(&limited, &[m(MatchOp::Regex, "__name__", ".+")])
            .expect("select")
            .len(),
        1
    );
    // The querier's own range bounds what hints can ask for.
    let q = db.querier(0, 50).expect("querier");
    let s = q
        .select(&all(), &[m(MatchOp::Regex, "__name__", "up|down")])
        .expect("select");
    assert_eq!(s.len(), 1);
}

#[test]
fn series_label_names_and_values_respect_matchers_and_time() {
    let (_d, db) = fixture();
    let q = db.querier(0, 1000).expect("querier");
    assert_eq!(
        q.label_names(&all(), &[]).expect("names"),
        vec!["__name__", "env", "job"]
    );
    assert_eq!(
        q.label_names(&all(), &[m(MatchOp::Equal, "job", "a")])
            .expect("names"),
        vec!["__name__", "job"]
    );
    assert_eq!(
        q.label_values(&all(), "env", &[]).expect("values"),
        vec!["dev", "prod"]
    );
    assert_eq!(
        q.label_values(&all(), "env", &[m(MatchOp::Equal, "__name__", "up")])
            .expect("values"),
        vec!["prod"]
    );
    assert_eq!(
        q.label_values(&all(), "nope", &[]).expect("values"),
        Vec::<String>::new()
    );
    let early = db.querier(0, 50).expect("querier");
    assert_eq!(
        early.label_names(&all(), &[]).expect("names"),
        vec!["__name__", "job"]
    );
    assert_eq!(
        early.label_values(&all(), "__name__", &[]).expect("values"),
        vec!["up"]
    );
    let series = q
        .series(&all(), &[m(MatchOp::NotEqual, "env", "dev")])
        .expect("series");
    assert_eq!(series.len(), 2);
    assert!(series[0] < series[1]);
}

#[test]
fn out_of_window_and_conflicting_samples_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = Db::open(
        dir.path(),
        Options {
            out_of_order_window_ms: 1000,
            ..Options::default()
        },
    )
    .expect("open");
    let l = Labels::from_pairs([("__name__", "x")]);
    let mut app = db.appender(&WriteIdentity::Anonymous);
    app.append(&l, 10_000, 1.0).expect("append");
    app.commit().expect("commit");
    let mut app = db.appender(&WriteIdentity::Anonymous);
    app.append(&l, 9_000, 1.0)
        .expect("inside the window, out of order");
    app.append(&l, 10_000, 1.0)
        .expect("exact duplicate is idempotent");
    let e = app.append(&l, 10_000, 2.0).expect_err("conflict");
    assert!(
        matches!(
            e,
            StorageError::DuplicateSampleForTimestamp { t: 10_000, .. }
        ),
        "{e}"
    );
    let e = app.append(&l, 8_999, 1.0).expect_err("too old");
    assert!(
        matches!(e, StorageError::OutOfBounds { t: 8_999, .. }),
        "{e}"
    );
    assert!(e.is_sample_error());
    let e = app
        .append(&Labels::from_pairs([("__name__", "new")]), 1, 1.0)
        .expect_err("too old for a new series too");
    assert!(matches!(e, StorageError::OutOfBounds { .. }), "{e}");
    assert_eq!(db.stats().series, 1, "a refused sample creates no series");
    app.commit().expect("the rest of the batch commits");
    let q = db.querier(0, 20_000).expect("querier");
    let s = q
        .select(&all(), &[m(MatchOp::Equal, "__name__", "x")])
        .expect("select");
    assert_eq!(
        s[0].samples.iter().map(|x| x.t).collect::<Vec<_>>(),
        vec![9_000, 10_000]
    );
    let e = db
        .appender(&WriteIdentity::Anonymous)
        .append(&Labels::empty(), 10_000, 1.0)
        .expect_err("empty labels");
    assert!(matches!(e, StorageError::InvalidSeries { .. }));
}

#[test]
fn concurrent_writers_and_a_reader_lose_nothing() {
    concurrent_writers(FsyncPolicy::Interval(Duration::from_millis(5)));
}

#[test]
fn concurrent_group_committed_writers_lose_nothing() {
    concurrent_writers(FsyncPolicy::Always);
}

fn concurrent_writers(fsync: FsyncPolicy) {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = Arc::new(
        Db::open(
            dir.path(),
            Options {
                fsync,
                wal_segment_size: 64 * 1024,
                ..Options::default()
            },
        )
        .expect("open"),
    );
    const WRITERS: usize = 4;
    const COMMITS: usize = 50;
    const SERIES: usize = 20;
    let handles: Vec<_> = (0..WRITERS)
        .map(|w| {
            let db = Arc::clone(&db);
            std::thread::spawn(move || {
                for c in 0..COMMITS {
                    let mut app = db.appender(&WriteIdentity::Cluster(format!("c{w}")));
                    for s in 0..SERIES {
                        // Every writer also writes the shared series, at its own timestamps.
                        let own = Labels::from_pairs([
                            ("__name__", "w".to_string()),
                            ("w", w.to_string()),
                            ("s", s.to_string()),
                        ]);
                        app.append(&own, c as i64, s as f64).expect("append own");
                    }
                    let shared = Labels::from_pairs([("__name__", "shared")]);
                    app.append(&shared, (c * WRITERS + w) as i64, w as f64)
                        .expect("append shared");
                    app.commit().expect("commit");
                }
            })
        })
        .collect();
    let reader = {
        let db = Arc::clone(&db);
        std::thread::spawn(move || {
            for _ in 0..50 {
                let q = db.querier(i64::MIN, i64::MAX).expect("querier");
                let s = q
                    .select(&all(), &[m(MatchOp::Equal, "__name__", "w")])
                    .expect("select");
                assert!(s.len() <= WRITERS * SERIES);
            }
        })
    };
    for h in handles {
        h.join().expect("writer");
    }
    reader.join().expect("reader");
    let expect_samples = (WRITERS * COMMITS * (SERIES + 1)) as u64;
    assert_eq!(db.stats().samples, expect_samples);
    db.close().expect("close");
    drop(db);
    let db = Db::open(dir.path(), Options::default()).expect("reopen");
    // The close wrote the head into a block: count through a query.
    let q = db.querier(i64::MIN, i64::MAX).expect("querier");
    let all_series = q
        .select(&all(), &[m(MatchOp::Regex, "__name__", ".+")])
        .expect("select");
    assert_eq!(all_series.len(), WRITERS * SERIES + 1);
    let samples: usize = all_series.iter().map(|s| s.samples.len()).sum();
    assert_eq!(samples as u64, expect_samples);
}
