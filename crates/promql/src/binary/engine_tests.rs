//! Binary operators through the engine, with and without delayed name
//! removal, in instant and range queries.

use model::Labels;

use crate::engine::{Engine, EngineOptions};
use crate::promqltest::MemStore;
use crate::value::QueryValue;

const MIN: i64 = 60_000;

/// A store from `(series, values every minute from 0; None = a staleness
/// marker, so the series is absent at that minute)`.
pub(crate) fn store(series: &[(&str, &[Option<f64>])]) -> MemStore {
    let mut s = MemStore::new();
    for (text, values) in series {
        let labels = parse_labels(text);
        for (i, v) in values.iter().enumerate() {
            s.add(&labels, i as i64 * MIN, v.unwrap_or_else(model::stale_nan));
        }
    }
    s
}

/// `name{a="b",c="d"}` (no escapes) to labels.
fn parse_labels(text: &str) -> Labels {
    let (name, rest) = text.split_once('{').unwrap_or((text, "}"));
    let mut pairs: Vec<(String, String)> = Vec::new();
    if !name.is_empty() {
        pairs.push(("__name__".into(), name.into()));
    }
    for kv in rest
        .trim_end_matches('}')
        .split(',')
        .filter(|s| !s.is_empty())
    {
        let (k, v) = kv.split_once('=').expect("label pair");
        pairs.push((k.trim().into(), v.trim().trim_matches('"').into()));
    }
    Labels::from_pairs(pairs)
}

pub(crate) fn engine(delayed: bool) -> Engine {
    Engine::new(EngineOptions {
        delayed_name_removal: delayed,
        ..EngineOptions::default()
    })
}

/// An instant query's result as `labels value` lines, in result order.
pub(crate) fn instant(e: &Engine, s: &MemStore, q: &str, t: i64) -> Result<Vec<String>, String> {
    let r = e.instant_query(s, q, t, None).map_err(|e| e.to_string())?;
    match r.value {
        QueryValue::Vector(v) => Ok(v.iter().map(|x| format!("{} {}", x.labels, x.v)).collect()),
        QueryValue::Scalar(_, v) => Ok(vec![format!("scalar {v}")]),
        other => Err(format!("unexpected {other:?}")),
    }
}

/// A range query's result as `labels v@minute ...` lines, sorted by labels.
pub(crate) fn range(
    e: &Engine,
    s: &MemStore,
    q: &str,
    end_min: i64,
) -> Result<Vec<String>, String> {
    let r = e
        .range_query(s, q, 0, end_min * MIN, MIN, None)
        .map_err(|e| e.to_string())?;
    let QueryValue::Matrix(m) = r.value else {
        return Err("not a matrix".into());
    };
    Ok(m.iter()
        .map(|s| {
            let pts: Vec<String> = s
                .samples
                .iter()
                .map(|p| format!("{}@{}", p.v, p.t / MIN))
                .collect();
            format!("{} {}", s.labels, pts.join(" "))
        })
        .collect())
}

fn data() -> MemStore {
    store(&[
        (r#"a{x="1"}"#, &[Some(1.0), Some(2.0), None]),
        (r#"a{x="2"}"#, &[Some(10.0), None, Some(30.0)]),
        (r#"b{x="1"}"#, &[None, Some(5.0), Some(6.0)]),
        (r#"b{x="2"}"#, &[Some(7.0), Some(8.0), None]),
        (r#"one{}"#, &[Some(1.0), Some(1.0), Some(1.0)]),
        (r#"dup{x="1",y="a"}"#, &[Some(1.0), None, None]),
        (r#"dup{x="1",y="b"}"#, &[Some(2.0), None, None]),
    ])
}

#[test]
fn name_dropping_in_both_modes() {
    let s = data();
    for delayed in [false, true] {
        let e = engine(delayed);
        let q = |q: &str| instant(&e, &s, q, 0).expect("evaluates");
        assert_eq!(q(r#"a{x="1"} > 0"#), [r#"a{x="1"} 1"#]);
        assert_eq!(q(r#"a{x="1"} + 1"#), [r#"{x="1"} 2"#]);
        assert_eq!(q(r#"a{x="1"} == bool 1"#), [r#"{x="1"} 1"#]);
        assert_eq!(q(r#"0 < a{x="1"}"#), [r#"a{x="1"} 1"#]);
        assert_eq!(q(r#"a > b"#), [r#"a{x="2"} 10"#]);
        assert_eq!(q(r#"a + b"#), [r#"{x="2"} 17"#]);
        assert_eq!(q(r#"a < bool b"#), [r#"{x="2"} 0"#]);
    }
}

#[test]
fn range_matching_follows_each_step() {
    let s = data();
    let e = engine(true);
    let r = |q: &str| range(&e, &s, q, 2).expect("evaluates");
    assert_eq!(r("a + b"), [r#"{x="1"} 7@1"#, r#"{x="2"} 17@0"#]);
    assert_eq!(r("a and b"), [r#"a{x="1"} 2@1"#, r#"a{x="2"} 10@0"#]);
    assert_eq!(
        r("a unless b"),
        [r#"a{x="2"} 30@2"#, r#"a{x="1"} 1@0"#]
            .iter()
            .rev()
            .copied()
            .collect::<Vec<_>>()
    );
    assert_eq!(
        r("a or b"),
        [
            r#"a{x="1"} 1@0 2@1"#,
            r#"a{x="2"} 10@0 30@2"#,
            r#"b{x="1"} 6@2"#,
            r#"b{x="2"} 8@1"#
        ]
    );
    assert_eq!(
        r("a + fill(0) b"),
        [r#"{x="1"} 1@0 7@1 6@2"#, r#"{x="2"} 17@0 8@1 30@2"#]
    );
    assert_eq!(
        r("-a or -b"),
        [r#"{x="1"} -1@0 -2@1 -6@2"#, r#"{x="2"} -10@0 -8@1 -30@2"#]
    );
}

#[test]
fn group_left_copies_labels_and_errors_on_duplicates() {
    let s = data();
    let e = engine(false);
    let q = |q: &str| instant(&e, &s, q, 0);
    assert_eq!(
        q(r#"a * on() group_left(y) dup{y="a"}"#).expect("evaluates"),
        [r#"{x="1", y="a"} 1"#, r#"{x="2", y="a"} 10"#]
    );
    assert_eq!(
        q("a + on() dup").expect_err("fails"),
        r#"found duplicate series for the match group {} on the right hand-side of the operation: [{__name__="dup", x="1", y="a"}, {__name__="dup", x="1", y="b"}];many-to-many matching not allowed: matching labels must be unique on one side"#
    );
    assert_eq!(
        q("dup + on() group_right a").expect_err("fails"),
        r#"found duplicate series for the match group {} on the left hand-side of the operation: [{__name__="dup", x="1", y="a"}, {__name__="dup", x="1", y="b"}];many-to-many matching not allowed: matching labels must be unique on one side"#
    );
    assert_eq!(
        q("dup + on() one").expect_err("fails"),
        "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)"
    );
    assert_eq!(
        q("dup * on() group_left(y) one").expect_err("fails"),
        "multiple matches for labels: grouping labels must ensure unique matches"
    );
    // The comparison filters, but the matching is still checked.
    assert!(q("dup > on() one").is_err());
    // No error at a step where the duplicated side has no partner.
    assert_eq!(instant(&e, &s, "one + on() dup", 60_000).ok(), Some(vec![]));
}

#[test]
fn scalars() {
    let s = data();
    let e = engine(false);
    let q = |q: &str| instant(&e, &s, q, 0).expect("evaluates");
    assert_eq!(q("1 + 2 * 3"), ["scalar 7"]);
    assert_eq!(q("2 ^ 3 ^ 2"), ["scalar 512"]);
    assert_eq!(q("1 == bool 1"), ["scalar 1"]);
    assert_eq!(q("5 % -3"), ["scalar 2"]);
}
