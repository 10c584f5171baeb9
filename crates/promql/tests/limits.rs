//! The engine's limits, with Prometheus's errors: `--query.max-samples`,
//! `--query.timeout` and `--query.max-concurrency`.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use model::{Labels, Timestamp};
use promql::promqltest::MemStore;
use promql::{Engine, EngineOptions, EvalError};
use storage::{Querier, Queryable, StorageError};

fn store(samples: i64) -> MemStore {
    let mut s = MemStore::new();
    let l = Labels::from_pairs([("__name__", "x")]);
    for i in 0..samples {
        s.add(&l, i * 1_000, i as f64);
    }
    s
}

#[test]
fn max_samples_is_refused_with_prometheus_error() {
    let s = store(100);
    let small = Engine::new(EngineOptions {
        max_samples: 50,
        ..EngineOptions::default()
    });
    let err = small
        .instant_query(&s, "x[1h]", 99_000, None)
        .expect_err("100 samples > 50");
    assert_eq!(err, EvalError::TooManySamples("query execution"));
    assert_eq!(
        err.to_string(),
        "query processing would load too many samples into memory in query execution"
    );
    assert_eq!(err.error_type(), "execution");
    // Within the limit the same query answers.
    let big = Engine::new(EngineOptions {
        max_samples: 100,
        ..EngineOptions::default()
    });
    assert!(big.instant_query(&s, "x[1h]", 99_000, None).is_ok());
}

#[test]
fn timeout_is_refused_with_prometheus_error() {
    let s = store(10);
    let e = Engine::new(EngineOptions::default());
    let err = e
        .instant_query(&s, "sum(rate(x[5m]))", 9_000, Some(Duration::ZERO))
        .expect_err("no time at all");
    assert_eq!(err.to_string(), "query timed out in expression evaluation");
    assert_eq!(err.error_type(), "timeout");
}

/// A store whose querier blocks until released, telling the test when a query is inside.
struct Gate {
    inside: Mutex<Option<mpsc::Sender<()>>>,
    release: Mutex<mpsc::Receiver<()>>,
    data: MemStore,
}

impl Queryable for Gate {
    fn querier(&self, mint: Timestamp, maxt: Timestamp) -> Result<Box<dyn Querier>, StorageError> {
        if let Some(tx) = self.inside.lock().expect("lock").take() {
            let _ = tx.send(());
            // Bounded: the test releases within its own deadline, or this gives up.
            let _ = self
                .release
                .lock()
                .expect("lock")
                .recv_timeout(Duration::from_secs(30));
        }
        self.data.querier(mint, maxt)
    }
}

#[test]
fn max_concurrency_queues_then_times_out_in_the_queue() {
    let (inside_tx, inside_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel();
    let gate = Arc::new(Gate {
        inside: Mutex::new(Some(inside_tx)),
        release: Mutex::new(release_rx),
        data: store(10),
    });
    let engine = Arc::new(Engine::new(EngineOptions {
        max_concurrency: 1,
        ..EngineOptions::default()
    }));
    let (g, e) = (Arc::clone(&gate), Arc::clone(&engine));
    let first = std::thread::spawn(move || e.instant_query(g.as_ref(), "x", 9_000, None));
    inside_rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the first query reaches the store");
    // The only slot is taken: a second query waits, then gives up in the queue.
    let err = engine
        .instant_query(gate.as_ref(), "x", 9_000, Some(Duration::from_millis(100)))
        .expect_err("no free slot");
    assert_eq!(err.to_string(), "query timed out in query queue");
    release_tx.send(()).expect("release");
    assert!(first.join().expect("joins").is_ok());
    // The slot is free again.
    assert!(
        engine
            .instant_query(gate.as_ref(), "x", 9_000, None)
            .is_ok()
    );
}
