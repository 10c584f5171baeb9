//! Range functions through the whole engine: naming, annotations, errors,
//! `@`, subqueries, and range queries, on a small in-memory store.

use model::{Labels, METRIC_NAME_LABEL};

use crate::engine::{Engine, EngineOptions};
use crate::error::EvalError;
use crate::promqltest::run::{Outcome, RunOptions, run_script};
use crate::promqltest::store::MemStore;
use crate::value::QueryValue;

/// Runs a promqltest script and fails with every case that did not pass.
fn script(text: &str) {
    let r = run_script("range_functions.test", text, RunOptions::default());
    assert_eq!(r.error, None);
    let failed: Vec<String> = r
        .cases
        .iter()
        .filter(|c| c.outcome != Outcome::Pass)
        .map(|c| format!("line {}: {}: {:?}", c.line, c.query, c.outcome))
        .collect();
    assert!(failed.is_empty(), "{failed:#?}");
    assert!(!r.cases.is_empty());
}

#[test]
fn rate_family_and_counter_info() {
    script(
        r#"
load 1m
  req_total{a="1"} 0+10x10
  gauge{a="1"} 0 5 3 8 2 2 2

eval instant at 5m rate(req_total[5m])
  {a="1"} 0.16666666666666666

eval instant at 5m increase(req_total[5m])
  {a="1"} 50

eval_info instant at 5m rate(gauge[5m])
  {a="1"} 0.041666666666666664

eval instant at 5m irate(req_total[5m])
  {a="1"} 0.16666666666666666

eval instant at 4m idelta(gauge[5m])
  {a="1"} -6

eval instant at 4m irate(gauge[5m])
  {a="1"} 0.03333333333333333

eval instant at 4m delta(gauge[3m])
  {a="1"} -1.5
"#,
    );
}

#[test]
fn over_time_names_and_absent() {
    script(
        r#"
load 1m
  m{a="1"} 1 2 3 _ _ _ _ _ _ _ 9
  m{a="2"} 5 5 5 5 5 5 5 5 5 5 5

eval instant at 3m last_over_time(m[2m])
  m{a="1"} 3
  m{a="2"} 5

eval instant at 3m sum_over_time(m[3m])
  {a="1"} 5
  {a="2"} 15

eval instant at 3m ts_of_max_over_time(m[5m])
  {a="1"} 120
  {a="2"} 180

eval range from 0 to 12m step 2m absent_over_time(m{a="1"}[1m])
  {a="1"} _ _ 1 1 1 _ 1

eval range from 0 to 4m step 1m absent_over_time(nothing{job="j"}[1m])
  {job="j"} 1 1 1 1 1

eval instant at 3m absent_over_time(m[5m])

eval_warn instant at 3m quantile_over_time(2, m[5m])
  {a="1"} +Inf
  {a="2"} +Inf

eval range from 0 to 2m step 1m quantile_over_time(0.5, m[5m] @ 2m)
  {a="1"} 2 2 2
  {a="2"} 5 5 5

eval instant at 10m changes(m[10m])
  {a="1"} 2
  {a="2"} 0

eval instant at 10m count_over_time(rate(m[2m])[10m:1m])
  {a="1"} 2
  {a="2"} 10
"#,
    );
}

#[test]
fn smoothing_factor_errors_only_with_samples() {
    script(
        r#"
load 1m
  g 0 10 20 30

eval instant at 3m double_exponential_smoothing(g[5m], 0.5, 0.5)
  {} 30

eval instant at 3m double_exponential_smoothing(g[5m], 1, 0.5)
  expect fail msg: invalid smoothing factor. Expected: 0 < sf < 1, got: 1.000000

eval instant at 3m double_exponential_smoothing(g[5m], 0.5, 0)
  expect fail msg: invalid trend factor. Expected: 0 < tf < 1, got: 0.000000

eval instant at 3m double_exponential_smoothing(absent_metric[5m], 1, 0)
"#,
    );
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    Labels::from_pairs(pairs.iter().copied())
}

#[test]
fn names_dropped_now_without_delayed_removal() {
    let mut store = MemStore::new();
    for t in 0..5 {
        let v = t as f64;
        store.add(
            &labels(&[(METRIC_NAME_LABEL, "a"), ("x", "1")]),
            t * 60_000,
            v,
        );
        // `b` has the same labels as `a` but samples only late.
        if t >= 3 {
            store.add(
                &labels(&[(METRIC_NAME_LABEL, "b"), ("x", "1")]),
                t * 60_000,
                v,
            );
        }
    }
    let engine = Engine::new(EngineOptions::default());
    let r = engine
        .instant_query(&store, "max_over_time(a[5m])", 240_000, None)
        .expect("evaluates");
    let QueryValue::Vector(v) = r.value else {
        panic!("vector")
    };
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].labels, labels(&[("x", "1")]));
    assert_eq!(v[0].v, 4.0);

    let r = engine
        .instant_query(&store, "first_over_time(a[5m])", 240_000, None)
        .expect("evaluates");
    let QueryValue::Vector(v) = r.value else {
        panic!("vector")
    };
    assert_eq!(v[0].labels.metric_name(), Some("a"));

    // Two series whose labels collide once the name goes: Prometheus refuses
    // this for range functions even at steps where only one has samples.
    let err = engine
        .range_query(
            &store,
            r#"count_over_time({__name__=~"a|b"}[1m])"#,
            0,
            240_000,
            60_000,
            None,
        )
        .expect_err("collides");
    assert_eq!(
        err,
        EvalError::exec("vector cannot contain metrics with the same labelset")
    );
}

#[test]
fn rate_info_is_per_query_and_quoted() {
    let mut store = MemStore::new();
    for t in 0..5 {
        store.add(&labels(&[(METRIC_NAME_LABEL, "up")]), t * 60_000, t as f64);
    }
    let engine = Engine::new(EngineOptions::default());
    let r = engine
        .instant_query(&store, "increase(up[5m])", 240_000, None)
        .expect("evaluates");
    let infos: Vec<&String> = r.annotations.infos.iter().collect();
    assert_eq!(
        infos,
        [
            "PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: \"up\" (1:10)"
        ]
    );
    // No output, no info.
    let r = engine
        .instant_query(&store, "rate(up[5m])", 3_600_000, None)
        .expect("evaluates");
    assert!(r.annotations.is_empty());
}
