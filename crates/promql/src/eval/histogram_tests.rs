//! Native-histogram samples through the engine: selectors, the operators that
//! pass them on, drop them or refuse them, as Prometheus does.

use crate::engine::{Engine, EngineOptions};
use crate::promqltest::MemStore;
use crate::promqltest::series::{SeqValue, parse_series_desc};
use crate::value::QueryValue;

const MIN: i64 = 60_000;

/// A store from series descriptions, one slot per minute from 0.
fn store(lines: &[&str]) -> MemStore {
    let mut s = MemStore::new();
    for line in lines {
        let d = parse_series_desc(line).unwrap_or_else(|e| panic!("{line}: {e}"));
        for (i, v) in d.values.iter().enumerate() {
            let t = i as i64 * MIN;
            match v {
                SeqValue::Float(f) => s.add(&d.labels, t, *f),
                SeqValue::Histogram(h) => s.add_histogram(&d.labels, t, &h.h),
                SeqValue::Omitted => {}
            }
        }
    }
    s
}

fn engine() -> Engine {
    Engine::new(EngineOptions::default())
}

/// An instant query at `t` as `labels value` lines (histograms as literals),
/// with the infos and warnings after them.
fn instant(s: &MemStore, q: &str, t: i64) -> Result<Vec<String>, String> {
    let r = engine()
        .instant_query(s, q, t, None)
        .map_err(|e| e.to_string())?;
    let mut out: Vec<String> = match r.value {
        QueryValue::Vector(v) => v
            .iter()
            .map(|x| match &x.h {
                Some(h) => format!("{} {}", x.labels, h.test_expression()),
                None => format!("{} {}", x.labels, x.v),
            })
            .collect(),
        QueryValue::Matrix(m) => m
            .iter()
            .map(|s| {
                let f = s.samples.iter().map(|p| format!("{}@{}", p.v, p.t / 1000));
                let h = s
                    .histograms
                    .iter()
                    .map(|p| format!("{}@{}", p.h.test_expression(), p.t / 1000));
                format!("{} {}", s.labels, f.chain(h).collect::<Vec<_>>().join(" "))
            })
            .collect(),
        QueryValue::Scalar(_, v) => vec![format!("scalar {v}")],
        other => return Err(format!("unexpected {other:?}")),
    };
    out.extend(r.annotations.warnings);
    out.extend(r.annotations.infos);
    Ok(out)
}

fn mixed() -> MemStore {
    // f: float at 0m, histogram at 1m, float at 2m; h: histograms only.
    store(&[
        "f 1 {{count:1 sum:2}} 3",
        "h {{count:1 buckets:[1]}}x2",
        "x 10 20 30",
    ])
}

#[test]
fn instant_selector_takes_the_newest_sample_of_either_kind() {
    let s = mixed();
    assert_eq!(instant(&s, "f", 30_000), Ok(vec!["f 1".into()]));
    assert_eq!(
        instant(&s, "f", MIN + 30_000),
        Ok(vec!["f {{count:1 sum:2}}".into()])
    );
    assert_eq!(instant(&s, "f", 2 * MIN), Ok(vec!["f 3".into()]));
    // The read-back hints of a TSDB chunk: the first unknown, then not_reset.
    assert_eq!(
        instant(&s, "h", 2 * MIN),
        Ok(vec![
            "h {{count:1 counter_reset_hint:not_reset buckets:[1]}}".into()
        ])
    );
    assert_eq!(
        instant(&s, "h offset 2m", 2 * MIN),
        Ok(vec!["h {{count:1 buckets:[1]}}".into()])
    );
    assert_eq!(
        instant(&s, "timestamp(f)", MIN + 1_000),
        Ok(vec!["{} 60".into()])
    );
}

#[test]
fn stale_histograms_end_the_series() {
    let s = store(&["h {{count:1}} stale"]);
    assert_eq!(instant(&s, "h", 30_000).map(|v| v.len()), Ok(1));
    assert_eq!(instant(&s, "h", MIN + 30_000), Ok(vec![]));
}

#[test]
fn range_selectors_and_subqueries_carry_histograms() {
    let s = mixed();
    assert_eq!(
        instant(&s, "f[2m]", 2 * MIN),
        Ok(vec!["f 3@120 {{count:1 sum:2}}@60".into()])
    );
    // Subquery results forget the not_reset hints.
    assert_eq!(
        instant(&s, "h[2m:1m]", 2 * MIN),
        Ok(vec![
            "h {{count:1 buckets:[1]}}@60 {{count:1 buckets:[1]}}@120".into()
        ])
    );
    assert_eq!(
        instant(&s, "last_over_time(f[90s])", MIN + 30_000),
        Ok(vec!["f {{count:1 sum:2}}".into()])
    );
    assert_eq!(
        instant(&s, "first_over_time(f[3m])", 2 * MIN),
        Ok(vec!["f 1".into()])
    );
    assert_eq!(
        instant(&s, "count_over_time(f[3m])", 2 * MIN),
        Ok(vec!["{} 3".into()])
    );
    assert_eq!(
        instant(&s, "max_over_time(f[3m])", 2 * MIN),
        Ok(vec![
            "{} 3".into(),
            "PromQL info: ignored histograms in a range containing both floats and histograms for metric name \"f\" (1:15)".into()
        ])
    );
    assert_eq!(
        instant(&s, "rate(h[3m])", 2 * MIN),
        Err("native histograms are not supported by rate() yet".into())
    );
}

#[test]
fn operators_pass_drop_or_refuse_histograms() {
    let s = mixed();
    let t = 2 * MIN;
    assert_eq!(
        instant(&s, "-h", t),
        Ok(vec![
            "{} {{count:-1 counter_reset_hint:gauge buckets:[-1]}}".into()
        ])
    );
    assert_eq!(
        instant(&s, "h * 2", t),
        Ok(vec![
            "{} {{count:2 counter_reset_hint:not_reset buckets:[2]}}".into()
        ])
    );
    assert_eq!(
        instant(&s, "h + 1", t),
        Ok(vec![
            "PromQL info: incompatible sample types encountered for binary operator \"+\": histogram + float (1:1)".into()
        ])
    );
    assert_eq!(
        instant(&s, "h + x", t),
        Err(
            "native histograms are not supported by binary operator \"+\" between vectors yet"
                .into()
        )
    );
    assert_eq!(instant(&s, "h and on() x", t).map(|v| v.len()), Ok(1));
    assert_eq!(instant(&s, "abs(h)", t), Ok(vec![]));
    assert_eq!(instant(&s, "sort(h)", t), Ok(vec![]));
    assert_eq!(
        instant(&s, r#"label_replace(h, "a", "b", "", "")"#, t),
        Ok(vec![
            "h{a=\"b\"} {{count:1 counter_reset_hint:not_reset buckets:[1]}}".into()
        ])
    );
    assert_eq!(
        instant(&s, "count({__name__=~\"h|x\"})", t),
        Ok(vec!["{} 2".into()])
    );
    assert_eq!(
        instant(&s, "max({__name__=~\"h|x\"})", t),
        Ok(vec![
            "{} 30".into(),
            "PromQL info: ignored histogram in max aggregation (1:5)".into()
        ])
    );
    assert_eq!(
        instant(&s, "sum(h)", t),
        Err("native histograms are not supported by sum() yet".into())
    );
    assert_eq!(
        instant(&s, "histogram_count(h)", t),
        Ok(vec!["{} 1".into()])
    );
    assert_eq!(
        instant(&s, "histogram_avg(f)", MIN),
        Ok(vec!["{} 2".into()])
    );
    assert_eq!(instant(&s, "absent(h)", t), Ok(vec![]));
    assert_eq!(instant(&s, "scalar(h)", t), Ok(vec!["scalar NaN".into()]));
    let s = store(&[
        r#"metric{instance="a", job="1"} 1"#,
        r#"hinfo{instance="a", job="1"} {{count:1}}"#,
    ]);
    assert_eq!(
        instant(&s, r#"info(metric, {__name__="hinfo"})"#, 0),
        Err("info sample should be float".into())
    );
}
