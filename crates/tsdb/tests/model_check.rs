//! Random appends (in order, out of order, duplicates, staleness markers, rollbacks,
//! crashes, graceful restarts) interleaved with head compactions into blocks and block
//! merges, checked against a naive model of Prometheus's head semantics: what a query
//! returns never depends on where the samples live (head, in flight, blocks, merged
//! blocks, checkpoint).

use std::collections::BTreeMap;
use std::time::Duration;

use model::{Labels, MatchOp, Matcher};
use proptest::prelude::*;
use storage::{Appendable, Appender, Queryable, SelectHints, StorageError, WriteIdentity};
use tsdb::{Db, FsyncPolicy, Options};

const WINDOW: i64 = 50;

#[derive(Debug, Clone)]
enum Op {
    Append {
        series: u8,
        t: i64,
        v: u8,
    },
    Commit,
    Rollback,
    /// Drop without close: like a crash.
    Reopen,
    /// Graceful close (head written to blocks, checkpoint) and open.
    Restart,
    /// Head samples before this time go to blocks.
    Persist(i64),
    /// A maintenance round: head compaction when due, merges, checkpoint.
    Compact,
}

fn value(code: u8) -> f64 {
    match code {
        0 => model::stale_nan(),
        1 => f64::NAN,
        2 => -0.0,
        n => f64::from(n),
    }
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (0u8..4, 0i64..200, 0u8..6).prop_map(|(series, t, v)| Op::Append { series, t, v }),
        2 => Just(Op::Commit),
        1 => Just(Op::Rollback),
        1 => Just(Op::Reopen),
        1 => Just(Op::Restart),
        1 => (0i64..220).prop_map(Op::Persist),
        1 => Just(Op::Compact),
    ]
}

fn labels(series: u8) -> Labels {
    Labels::from_pairs([("__name__", "m".to_string()), ("s", series.to_string())])
}

/// The model: committed samples per series as value bits, and the open batch.
#[derive(Default)]
struct Model {
    committed: BTreeMap<u8, BTreeMap<i64, u64>>,
    pending: Vec<(u8, i64, u64)>,
}

#[derive(Debug, PartialEq)]
enum Outcome {
    Ok,
    OutOfBounds,
    Duplicate,
}

impl Model {
    fn append(&mut self, series: u8, t: i64, bits: u64) -> Outcome {
        let max = self
            .committed
            .values()
            .filter_map(|m| m.keys().next_back())
            .max();
        if let Some(max) = max
            && t < max - WINDOW
        {
            return Outcome::OutOfBounds;
        }
        let prior = self
            .committed
            .get(&series)
            .and_then(|m| m.get(&t))
            .copied()
            .or_else(|| {
                self.pending
                    .iter()
                    .find(|(s, pt, _)| *s == series && *pt == t)
                    .map(|p| p.2)
            });
        match prior {
            Some(b) if b == bits => Outcome::Ok,
            Some(_) => Outcome::Duplicate,
            None => {
                self.pending.push((series, t, bits));
                Outcome::Ok
            }
        }
    }

    fn commit(&mut self) {
        for (s, t, b) in self.pending.drain(..) {
            self.committed.entry(s).or_default().insert(t, b);
        }
    }
}

fn dump(db: &Db) -> BTreeMap<u8, BTreeMap<i64, u64>> {
    let q = db.querier(i64::MIN, i64::MAX).expect("querier");
    let m = Matcher::new(MatchOp::Equal, "__name__", "m").expect("matcher");
    let mut out = BTreeMap::new();
    for s in q.select(&SelectHints::default(), &[m]).expect("select") {
        let id: u8 = s
            .labels
            .get("s")
            .and_then(|v| v.parse().ok())
            .expect("s label");
        let prev = s.samples.windows(2).all(|w| w[0].t < w[1].t);
        assert!(prev, "samples sorted and unique by time");
        out.insert(id, s.samples.iter().map(|x| (x.t, x.v.to_bits())).collect());
    }
    out
}

fn opts() -> Options {
    Options {
        fsync: FsyncPolicy::Interval(Duration::from_secs(60)),
        wal_segment_size: 4096,
        out_of_order_window_ms: WINDOW,
        // Tiny blocks, so that the op sequences cross many block and merge windows.
        block_range_ms: 20,
        retention_ms: 0,
        maintenance_interval: None,
        ..Options::default()
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn db_matches_model(ops in proptest::collection::vec(op(), 1..120)) {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut db = Db::open(dir.path(), opts()).expect("open");
        let mut app: Box<dyn Appender> = db.appender(&WriteIdentity::Anonymous);
        let mut model = Model::default();
        for op in ops {
            match op {
                Op::Append { series, t, v } => {
                    let v = value(v);
                    let want = model.append(series, t, v.to_bits());
                    let got = match app.append(&labels(series), t, v) {
                        Ok(_) => Outcome::Ok,
                        Err(StorageError::OutOfBounds { .. }) => Outcome::OutOfBounds,
                        Err(StorageError::DuplicateSampleForTimestamp { .. }) => Outcome::Duplicate,
                        Err(e) => panic!("unexpected error {e}"),
                    };
                    prop_assert_eq!(got, want, "append s{} t{} v{:?}", series, t, v);
                }
                Op::Commit => {
                    app.commit().expect("commit");
                    model.commit();
                    app = db.appender(&WriteIdentity::Anonymous);
                    prop_assert_eq!(dump(&db), model.committed.clone());
                }
                Op::Rollback => {
                    app.rollback();
                    model.pending.clear();
                    app = db.appender(&WriteIdentity::Anonymous);
                }
                Op::Persist(before) => {
                    db.persist_head_before(before).expect("persist head");
                    prop_assert_eq!(dump(&db), model.committed.clone());
                }
                Op::Compact => {
                    db.compact().expect("compact");
                    prop_assert_eq!(dump(&db), model.committed.clone());
                }
                Op::Restart => {
                    // The open batch goes with the closed appender.
                    drop(app);
                    model.pending.clear();
                    db.close().expect("close");
                    drop(db);
                    db = Db::open(dir.path(), opts()).expect("reopen");
                    app = db.appender(&WriteIdentity::Anonymous);
                    prop_assert_eq!(dump(&db), model.committed.clone());
                }
                Op::Reopen => {
                    drop(app);
                    model.pending.clear();
                    drop(db);
                    db = Db::open(dir.path(), opts()).expect("reopen");
                    app = db.appender(&WriteIdentity::Anonymous);
                    prop_assert_eq!(dump(&db), model.committed.clone());
                }
            }
        }
        app.commit().expect("final commit");
        model.commit();
        prop_assert_eq!(dump(&db), model.committed.clone());
        drop(db);
        let db = Db::open(dir.path(), opts()).expect("final reopen");
        prop_assert_eq!(dump(&db), model.committed);
    }
}
