//! Aggregations through the engine, in instant and range queries.

use crate::binary::engine_tests::{engine, instant, range, store};
use crate::promqltest::MemStore;

fn data() -> MemStore {
    store(&[
        (r#"m{g="b",i="1"}"#, &[Some(1.0), Some(5.0), Some(2.0)]),
        (r#"m{g="a",i="2"}"#, &[Some(3.0), Some(4.0), None]),
        (r#"m{g="b",i="3"}"#, &[Some(2.0), Some(f64::NAN), Some(9.0)]),
        (r#"m{g="a",i="4"}"#, &[Some(8.0), None, Some(1.0)]),
    ])
}

#[test]
fn grouping_labels() {
    let s = data();
    for delayed in [false, true] {
        let e = engine(delayed);
        let q = |q: &str| {
            let mut v = instant(&e, &s, q, 0).expect("evaluates");
            v.sort();
            v
        };
        assert_eq!(q("sum by (g) (m)"), [r#"{g="a"} 11"#, r#"{g="b"} 3"#]);
        assert_eq!(q("max without (i) (m)"), [r#"{g="a"} 8"#, r#"{g="b"} 2"#]);
        assert_eq!(q("count by (__name__) (m)"), ["m 4"]);
        assert_eq!(q("group(m)"), ["{} 1"]);
        assert_eq!(
            q("stdvar by (g) (m)"),
            [r#"{g="a"} 6.25"#, r#"{g="b"} 0.25"#]
        );
        assert_eq!(q("avg by (nope) (m)"), ["{} 3.5"]);
    }
}

#[test]
fn topk_orders_instant_results_and_selects_per_step() {
    let s = data();
    let e = engine(false);
    // Groups in order of first appearance (storage gives a, then b), each
    // largest first.
    assert_eq!(
        instant(&e, &s, "topk by (g) (2, m)", 0).expect("evaluates"),
        [
            r#"m{g="a", i="4"} 8"#,
            r#"m{g="a", i="2"} 3"#,
            r#"m{g="b", i="3"} 2"#,
            r#"m{g="b", i="1"} 1"#
        ]
    );
    assert_eq!(
        instant(&e, &s, "bottomk(2, m)", 0).expect("evaluates"),
        [r#"m{g="b", i="1"} 1"#, r#"m{g="b", i="3"} 2"#]
    );
    // NaN is never preferred.
    assert_eq!(
        range(&e, &s, "topk(1, m)", 2).expect("evaluates"),
        [
            r#"m{g="a", i="4"} 8@0"#,
            r#"m{g="b", i="1"} 5@1"#,
            r#"m{g="b", i="3"} 9@2"#
        ]
    );
    assert_eq!(
        range(&e, &s, "count(limitk(2, m))", 2).expect("evaluates"),
        ["{} 2@0 2@1 2@2"]
    );
    assert_eq!(
        range(
            &e,
            &s,
            "count(limit_ratio(0.3, m) or limit_ratio(-0.7, m))",
            2
        )
        .expect("evaluates"),
        ["{} 4@0 3@1 3@2"]
    );
    assert_eq!(
        range(
            &e,
            &s,
            "count(limit_ratio(0.3, m) and limit_ratio(-0.7, m))",
            2
        )
        .expect("evaluates"),
        Vec::<String>::new()
    );
}

#[test]
fn parameter_errors_and_warnings() {
    let s = data();
    let e = engine(false);
    let err = |q: &str| instant(&e, &s, q, 0).expect_err("fails");
    assert_eq!(err("topk(NaN, m)"), "Parameter value is NaN");
    assert_eq!(err("limit_ratio(NaN, m)"), "Ratio value is NaN");
    assert_eq!(err("topk(1e19, m)"), "Scalar value 1e+19 overflows int64");
    assert_eq!(err(r#"count_values("", m)"#), r#"invalid label name """#);
    assert!(
        instant(&e, &s, "topk(0, m)", 0)
            .expect("evaluates")
            .is_empty()
    );
    let r = e
        .instant_query(&s, "quantile(2, m)", 0, None)
        .expect("evaluates");
    assert_eq!(
        r.annotations.warnings.iter().collect::<Vec<_>>(),
        ["PromQL warning: quantile value should be between 0 and 1, got 2 (1:10)"]
    );
}

#[test]
fn count_values_over_steps() {
    let s = store(&[
        (r#"v{i="1"}"#, &[Some(1.0), Some(2.0)]),
        (r#"v{i="2"}"#, &[Some(1.0), Some(1.0)]),
    ]);
    let e = engine(false);
    assert_eq!(
        range(&e, &s, r#"count_values("val", v)"#, 1).expect("evaluates"),
        [r#"{val="1"} 2@0 1@1"#, r#"{val="2"} 1@1"#]
    );
    assert_eq!(
        range(&e, &s, r#"count_values without (val) ("val", v)"#, 1).expect("evaluates"),
        [r#"{i="1"} 1@0 1@1"#, r#"{i="2"} 1@0 1@1"#]
    );
}
