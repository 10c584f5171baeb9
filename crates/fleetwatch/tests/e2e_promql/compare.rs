//! Comparison of two Prometheus API answers, the reference's first.
//!
//! Labels must match exactly. Values match when both are NaN, when they are equal
//! (infinities included), or when they differ by at most 1e-9 relative to the larger
//! magnitude; an absolute difference up to 1e-12 is also accepted, because summation
//! order legitimately differs (Prometheus 3 uses Kahan summation, 2.42 does not) and a
//! sum that cancels to zero can come out as 0 in one and 1e-17 in the other.
//! Timestamps must match exactly. Warnings and info annotations are not compared
//! (Prometheus 2.42 emits fewer of them than Prometheus 3, which we follow).

use std::collections::BTreeMap;

use serde_json::Value;

use super::Answer;

const REL_TOLERANCE: f64 = 1e-9;
const ABS_TOLERANCE: f64 = 1e-12;

/// Parses a sample value as the API renders it.
pub fn parse_value(v: &Value) -> Option<f64> {
    match v.as_str()? {
        "NaN" => Some(f64::NAN),
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        s => s.parse().ok(),
    }
}

/// Whether two values are the same under the module's tolerance.
pub fn same_value(a: f64, b: f64) -> bool {
    if a.is_nan() || b.is_nan() {
        return a.is_nan() && b.is_nan();
    }
    if a == b {
        return true;
    }
    if a.is_infinite() || b.is_infinite() {
        return false;
    }
    let d = (a - b).abs();
    d <= ABS_TOLERANCE || d <= REL_TOLERANCE * a.abs().max(b.abs())
}

/// A label set rendered like PromQL, keys sorted.
pub fn labels_key(metric: &Value) -> String {
    let m: BTreeMap<String, String> = metric
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                .collect()
        })
        .unwrap_or_default();
    let name = m.get("__name__").cloned().unwrap_or_default();
    let rest: Vec<String> = m
        .iter()
        .filter(|(k, _)| *k != "__name__")
        .map(|(k, v)| format!("{k}={v:?}"))
        .collect();
    format!("{name}{{{}}}", rest.join(", "))
}

fn point(p: &Value) -> Result<(f64, f64), String> {
    let t = p[0].as_f64().ok_or_else(|| format!("bad point {p}"))?;
    let v = parse_value(&p[1]).ok_or_else(|| format!("bad value in {p}"))?;
    Ok((t, v))
}

fn same_point(a: &Value, b: &Value) -> Result<bool, String> {
    let (ta, va) = point(a)?;
    let (tb, vb) = point(b)?;
    Ok(ta == tb && same_value(va, vb))
}

fn by_labels(result: &[Value], what: &str) -> Result<BTreeMap<String, Value>, String> {
    let mut m = BTreeMap::new();
    for s in result {
        let k = labels_key(&s["metric"]);
        if m.insert(k.clone(), s.clone()).is_some() {
            return Err(format!("{what} returned {k} twice"));
        }
    }
    Ok(m)
}

/// Compares the hub's answer to the reference's. `ordered`: the order of a vector
/// result matters (`sort`, `sort_desc`). Returns the first difference.
pub fn compare(reference: &Answer, hub: &Answer, ordered: bool) -> Result<(), String> {
    if !reference.ok() {
        if hub.ok() {
            return Err(format!(
                "Prometheus failed ({}), hub succeeded",
                reference.error_line()
            ));
        }
        if reference.json["errorType"] != hub.json["errorType"] {
            return Err(format!(
                "errorType differs: Prometheus {} / hub {}",
                reference.error_line(),
                hub.error_line()
            ));
        }
        return Ok(());
    }
    if !hub.ok() {
        return Err(format!("hub failed: {}", hub.error_line()));
    }
    if reference.status != hub.status {
        return Err(format!(
            "HTTP status: Prometheus {} / hub {}",
            reference.status, hub.status
        ));
    }
    let (rd, hd) = (&reference.json["data"], &hub.json["data"]);
    if rd["resultType"] != hd["resultType"] {
        return Err(format!(
            "resultType: Prometheus {} / hub {}",
            rd["resultType"], hd["resultType"]
        ));
    }
    match rd["resultType"].as_str() {
        Some("scalar") | Some("string") => {
            let ok = if rd["resultType"] == "string" {
                rd["result"] == hd["result"]
            } else {
                same_point(&rd["result"], &hd["result"])?
            };
            if ok {
                Ok(())
            } else {
                Err(format!(
                    "Prometheus {} / hub {}",
                    rd["result"], hd["result"]
                ))
            }
        }
        Some("vector") => compare_series(rd, hd, ordered, false),
        Some("matrix") => compare_series(rd, hd, false, true),
        other => Err(format!("unexpected resultType {other:?} from Prometheus")),
    }
}

fn compare_series(rd: &Value, hd: &Value, ordered: bool, matrix: bool) -> Result<(), String> {
    let empty = vec![];
    let rr = rd["result"].as_array().unwrap_or(&empty);
    let hr = hd["result"]
        .as_array()
        .ok_or_else(|| format!("hub's data.result is not an array: {}", hd["result"]))?;
    let rm = by_labels(rr, "Prometheus")?;
    let hm = by_labels(hr, "hub")?;
    let sample = |s: &Value| {
        if matrix {
            let v = s["values"].as_array().cloned().unwrap_or_default();
            format!(
                "{} points, first {}",
                v.len(),
                v.first().cloned().unwrap_or(Value::Null)
            )
        } else {
            s["value"].to_string()
        }
    };
    if let Some((k, s)) = rm.iter().find(|(k, _)| !hm.contains_key(*k)) {
        return Err(format!(
            "series {k} missing in hub ({} series vs {}; Prometheus has {})",
            rm.len(),
            hm.len(),
            sample(s)
        ));
    }
    if let Some((k, s)) = hm.iter().find(|(k, _)| !rm.contains_key(*k)) {
        return Err(format!(
            "hub has extra series {k} ({} series vs {}; hub has {})",
            hm.len(),
            rm.len(),
            sample(s)
        ));
    }
    for (k, rs) in &rm {
        let hs = &hm[k];
        if matrix {
            let rp = rs["values"].as_array().unwrap_or(&empty);
            let hp = hs["values"]
                .as_array()
                .ok_or_else(|| format!("{k}: hub series has no values array: {hs}"))?;
            for (i, (a, b)) in rp.iter().zip(hp.iter()).enumerate() {
                if !same_point(a, b)? {
                    return Err(format!("{k}: point {i}: Prometheus {a} / hub {b}"));
                }
            }
            if rp.len() != hp.len() {
                let i = rp.len().min(hp.len());
                return Err(format!(
                    "{k}: {} points vs hub {}; first unmatched: Prometheus {} / hub {}",
                    rp.len(),
                    hp.len(),
                    rp.get(i).cloned().unwrap_or(Value::Null),
                    hp.get(i).cloned().unwrap_or(Value::Null)
                ));
            }
        } else if !same_point(&rs["value"], &hs["value"])? {
            return Err(format!(
                "{k}: Prometheus {} / hub {}",
                rs["value"], hs["value"]
            ));
        }
    }
    if ordered {
        let ro: Vec<String> = rr.iter().map(|s| labels_key(&s["metric"])).collect();
        let ho: Vec<String> = hr.iter().map(|s| labels_key(&s["metric"])).collect();
        if let Some(i) = (0..ro.len()).find(|i| ro[*i] != ho[*i]) {
            return Err(format!(
                "order differs at {i}: Prometheus {} / hub {}",
                ro[i], ho[i]
            ));
        }
    }
    Ok(())
}

#[test]
fn promql_compare_tolerates_only_what_it_says() {
    assert!(same_value(f64::NAN, f64::NAN));
    assert!(same_value(1.0, 1.0 + 1e-12));
    assert!(!same_value(1.0, 1.0 + 1e-6));
    assert!(same_value(0.0, 1e-17));
    assert!(!same_value(f64::INFINITY, 1e308));
    assert!(!same_value(f64::NAN, 0.0));
    let ans = |body: &str| Answer {
        status: 200,
        content_type: "application/json".into(),
        json: serde_json::from_str(body).expect("json"),
        raw: body.into(),
    };
    let a = ans(
        r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"1"},"value":[1,"2"]}]}}"#,
    );
    let b = ans(
        r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"2"},"value":[1,"2"]}]}}"#,
    );
    assert!(compare(&a, &a, true).is_ok());
    assert!(compare(&a, &b, false).is_err());
}
