//! Test 3: Grafana's Prometheus data source, request by request.
//!
//! How Grafana (11/12: the `grafana-prometheus` frontend package and the `promlib`
//! backend) talks to a Prometheus server, as read from its sources. Data queries and
//! the health check go through the backend's client; the frontend's "resource" calls
//! (metric browser, variables) go through the backend's resource proxy, which sends
//! POST (the default `httpMethod`) with the parameters it got, except for endpoints it
//! knows accept only GET (`api/v1/label/…/values`, `api/v1/metadata`, `api/v1/rules`,
//! `api/v1/status/buildinfo`, …), and retries a POST answered 400 or 405 with GET. POST
//! bodies are `application/x-www-form-urlencoded`; times are Unix seconds.
//!
//! 1. "Save & test" (backend `CheckHealth`):
//!    - `POST /api/v1/query` with `query=1+1&time=4` (an instant query over the fixed
//!      range 1 s–4 s; `time` is the range's end). Success is `status: success`; the
//!      frame is built from `data.resultType` (`scalar`) and `data.result`.
//!    - `GET /api/v1/status/buildinfo` (heuristics): `data.version` is kept; when
//!      `data.features` is non-empty the server is taken for Mimir (ruler API on), so a
//!      Prometheus-compatible server must leave it absent or empty. A 404 is tolerated.
//!      The frontend compares `version` with 2.24.0 to decide whether
//!      `/api/v1/labels` and `/api/v1/label/<n>/values` take `match[]`.
//! 2. Data source init in the browser: `GET /api/v1/rules` (recording-rule mappings;
//!    `data.groups`), and an exemplar probe `query_exemplars?query=test&start=<ms>&end=<ms>`
//!    (30 minutes back, in milliseconds), which the backend forwards as a POST with the
//!    parameters in the URL and an empty body; exemplars are on when `status` is
//!    `success`.
//! 3. Metric browser / code editor start (`LabelsApiClient` when version ≥ 2.24):
//!    `GET /api/v1/label/__name__/values?start&end&limit=40000` and
//!    `POST /api/v1/labels` with `limit=40000&start&end`, start rounded down and end
//!    rounded up to the minute (cache level "Low"); `GET /api/v1/metadata` (the frontend
//!    reads `data[metric][0].type/help`).
//! 4. Choosing a metric and a label: `GET /api/v1/label/<name>/values` with
//!    `match[]=<metric>` and `POST /api/v1/labels` with `match[]=<metric>`; the series
//!    view `POST /api/v1/series` with `match[]={__name__="…",job="…"}&start&end&limit=40000`.
//! 5. A template variable `label_values(up, cluster)`:
//!    `GET /api/v1/label/cluster/values?match[]=up&start&end` (seconds, rounded up).
//! 6. A panel: `POST /api/v1/query_range` with `query`, `start`, `end`, `step` where the
//!    step is max(scrape interval, range / max data points rounded by Grafana's table)
//!    printed as seconds (`15`), and start/end are aligned down to a multiple of the
//!    step; `$__rate_interval` = max(step + scrape interval, 4 × scrape interval). The
//!    converter reads `status`, `data.resultType` (`matrix`), `result[].metric`,
//!    `result[].values` (`[seconds, "value"]`), `warnings`, `infos`, and on failure
//!    `errorType` and `error` with the HTTP status.
//! 7. A table panel / instant query: `POST /api/v1/query` with `query` and `time` = the
//!    range's end unaligned (seconds with milliseconds); `vector` with `result[].value`.
//! 8. Exemplars of a panel with "Exemplars" on: `POST /api/v1/query_exemplars` with
//!    `query`, `start`, `end` (aligned); `data[].seriesLabels`, `data[].exemplars[]`
//!    with `labels`, `value` (string), `timestamp` (seconds).
//!
//! The test replays exactly these requests against the hub and Debian's Prometheus
//! loaded with the same data, and requires the hub to answer as Prometheus does:
//! status code, `application/json`, `status`, and the fields listed above.

use std::collections::BTreeSet;

use serde_json::Value;

use super::compare::{compare, labels_key, parse_value, same_value};
use super::dataset::LAST_STEP;
use super::{Answer, Http, secs, start_peers, truncate};
use crate::common::serial;

/// Grafana's settings for the data source in this test.
const SCRAPE_S: i64 = 15;
const LIMIT: &str = "40000";

/// One step of the sequence: what was asked and how the hub compared.
struct Step {
    name: String,
    result: Result<(), String>,
}

fn json_type(a: &Answer) -> Result<(), String> {
    if a.content_type.starts_with("application/json") {
        Ok(())
    } else {
        Err(format!("Content-Type {:?}", a.content_type))
    }
}

/// Same status code, `status`, and (for errors) `errorType`.
fn same_envelope(p: &Answer, h: &Answer) -> Result<(), String> {
    if p.status != h.status {
        return Err(format!(
            "HTTP {} from Prometheus, {} from the hub ({})",
            p.status,
            h.status,
            truncate(&h.raw, 120)
        ));
    }
    json_type(h)?;
    if p.json["status"] != h.json["status"] {
        return Err(format!(
            "status {} vs hub {}",
            p.json["status"], h.json["status"]
        ));
    }
    if !p.ok() && p.json["errorType"] != h.json["errorType"] {
        return Err(format!(
            "errorType {} vs hub {}",
            p.json["errorType"], h.json["errorType"]
        ));
    }
    if !p.ok() && !h.json["error"].is_string() {
        return Err("the hub's error has no `error` string".into());
    }
    Ok(())
}

/// `data` is the same list of strings.
fn same_string_list(p: &Answer, h: &Answer) -> Result<(), String> {
    same_envelope(p, h)?;
    let list = |a: &Answer| -> Option<Vec<String>> {
        a.json["data"].as_array().map(|v| {
            v.iter()
                .map(|x| x.as_str().unwrap_or("?").to_string())
                .collect()
        })
    };
    let (pl, hl) = (list(p), list(h).ok_or("the hub's data is not a list")?);
    let pl = pl.unwrap_or_default();
    if pl != hl {
        let missing: Vec<_> = pl.iter().filter(|x| !hl.contains(x)).take(5).collect();
        let extra: Vec<_> = hl.iter().filter(|x| !pl.contains(x)).take(5).collect();
        return Err(format!(
            "{} values vs hub {}; missing {missing:?}, extra {extra:?}{}",
            pl.len(),
            hl.len(),
            if missing.is_empty() && extra.is_empty() {
                " (order differs)"
            } else {
                ""
            }
        ));
    }
    Ok(())
}

/// `data` is the same set of label sets.
fn same_series(p: &Answer, h: &Answer) -> Result<(), String> {
    same_envelope(p, h)?;
    let set = |a: &Answer| -> Option<BTreeSet<String>> {
        a.json["data"]
            .as_array()
            .map(|v| v.iter().map(labels_key).collect())
    };
    let ps = set(p).unwrap_or_default();
    let hs = set(h).ok_or("the hub's data is not a list")?;
    if let Some(m) = ps.difference(&hs).next() {
        return Err(format!("series {m} missing in hub"));
    }
    if let Some(m) = hs.difference(&ps).next() {
        return Err(format!("hub has extra series {m}"));
    }
    Ok(())
}

/// Exemplar answers: the same series, each with the same exemplars. The
/// reference runs with exemplar storage off (its default) and so answers an
/// empty list, which is what the hub answers until it stores exemplars.
fn same_exemplars(p: &Answer, h: &Answer) -> Result<(), String> {
    same_envelope(p, h)?;
    if !p.ok() {
        return Ok(());
    }
    let flat = |a: &Answer| -> Option<BTreeSet<String>> {
        let mut out = BTreeSet::new();
        for s in a.json["data"].as_array()? {
            let series = labels_key(&s["seriesLabels"]);
            for e in s["exemplars"].as_array()? {
                let v = parse_value(&e["value"])?;
                out.insert(format!(
                    "{series} {} {v} @{}",
                    labels_key(&e["labels"]),
                    e["timestamp"].as_f64()?
                ));
            }
        }
        Some(out)
    };
    let ps = flat(p).ok_or("Prometheus's exemplars are malformed")?;
    let hs = flat(h).ok_or_else(|| {
        format!(
            "malformed exemplars from the hub: {}",
            truncate(&h.raw, 200)
        )
    })?;
    if let Some(m) = ps.difference(&hs).next() {
        return Err(format!("exemplar {m} missing in hub"));
    }
    if let Some(m) = hs.difference(&ps).next() {
        return Err(format!("hub has extra exemplar {m}"));
    }
    Ok(())
}

/// A query answer as Grafana's converter reads it.
fn same_query(p: &Answer, h: &Answer) -> Result<(), String> {
    same_envelope(p, h)?;
    json_type(h)?;
    compare(p, h, false)
}

/// What Grafana needs from buildinfo: a version it can compare, no features.
fn buildinfo_as_prometheus(p: &Answer, h: &Answer) -> Result<(), String> {
    if h.status != 200 {
        return Err(format!(
            "HTTP {} (Prometheus {}): Grafana then cannot tell the version and takes the slow /api/v1/series path for label values",
            h.status, p.status
        ));
    }
    json_type(h)?;
    let version = h.json["data"]["version"]
        .as_str()
        .ok_or("data.version missing")?;
    let parts: Vec<u64> = version
        .split(['.', '-', '+'])
        .take(3)
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    if parts.len() < 2 || (parts[0], parts[1]) < (2, 24) {
        return Err(format!(
            "data.version {version:?} is not a Prometheus version >= 2.24.0"
        ));
    }
    match &h.json["data"]["features"] {
        Value::Null => {}
        Value::Object(o) if o.is_empty() => {}
        f => {
            return Err(format!(
                "data.features = {f}: Grafana would take the hub for Mimir"
            ));
        }
    }
    for (k, v) in p.json["data"].as_object().into_iter().flatten() {
        if v.is_string() && !h.json["data"][k].is_string() {
            return Err(format!("data.{k} missing (Prometheus has {v})"));
        }
    }
    Ok(())
}

/// `data` of the rules answer has a `groups` list.
fn rules_shape(p: &Answer, h: &Answer) -> Result<(), String> {
    same_envelope(p, h)?;
    if p.ok() && !h.json["data"]["groups"].is_array() {
        return Err(format!("data.groups missing: {}", truncate(&h.raw, 120)));
    }
    Ok(())
}

/// Metadata: the same envelope; `data` an object of lists of {type, help, unit}.
/// Prometheus 2.42 keeps metadata only from its own scrapes (its answer here is `{}`),
/// so the hub's entries are checked for shape and for the types the data was sent with.
fn metadata_shape(p: &Answer, h: &Answer) -> Result<(), String> {
    same_envelope(p, h)?;
    let data = h.json["data"].as_object().ok_or("data is not an object")?;
    for (metric, entries) in data {
        let list = entries
            .as_array()
            .ok_or_else(|| format!("data.{metric} is not a list"))?;
        for e in list {
            for f in ["type", "help", "unit"] {
                if !e[f].is_string() {
                    return Err(format!("data.{metric}[].{f} missing: {e}"));
                }
            }
        }
    }
    if let Some(e) = data.get("http_requests_total")
        && e[0]["type"] != "counter"
    {
        return Err(format!("http_requests_total metadata {e}"));
    }
    Ok(())
}

/// The range in seconds, start rounded down and end up to the minute, as Grafana's
/// "Low" cache level snaps resource calls.
fn snap_minute(from_ms: i64, to_ms: i64) -> (String, String) {
    let (from, to) = (from_ms.div_euclid(1000), (to_ms + 999).div_euclid(1000));
    (
        (from.div_euclid(60) * 60).to_string(),
        ((to + 59).div_euclid(60) * 60).to_string(),
    )
}

#[test]
fn promql_grafana_data_source_sequence_answers_like_prometheus() {
    let _g = serial();
    let peers = start_peers();
    let d = &peers.data;
    let http = Http::new();
    // The dashboard's range: the last hour up to a moment just after the last sample.
    let to_ms = d.eval_ms(LAST_STEP);
    let from_ms = to_ms - 3_600_000;
    let (snap_start, snap_end) = snap_minute(from_ms, to_ms);
    let ceil_s = |ms: i64| ((ms + 999).div_euclid(1000)).to_string();
    let (start_s, end_s) = (ceil_s(from_ms), ceil_s(to_ms));
    // Panel step: max(scrape interval, 3600 s / 1000 points = 3.6 s → 5 s) = 15 s.
    let step_ms = SCRAPE_S * 1000;
    let (al_start, al_end) = (
        secs(from_ms.div_euclid(step_ms) * step_ms),
        secs(to_ms.div_euclid(step_ms) * step_ms),
    );
    let step = SCRAPE_S.to_string();
    // $__rate_interval = max(15 s + 15 s, 4 × 15 s) = 1m0s.
    let panel_expr = "sum by (cluster) (rate(http_requests_total[1m0s]))";
    let heatmap_expr = "histogram_quantile(0.9, sum by (le) (rate(http_request_duration_seconds_bucket{job=\"api\"}[1m0s])))";
    let now_ms = super::now_ms();

    let mut steps: Vec<Step> = Vec::new();
    let mut run = |name: &str,
                   ask: &dyn Fn(&str) -> Answer,
                   check: &dyn Fn(&Answer, &Answer) -> Result<(), String>| {
        let p = ask(&peers.prom);
        let h = ask(&peers.hub);
        steps.push(Step {
            name: name.to_string(),
            result: check(&p, &h),
        });
    };

    // 1. Save & test.
    run(
        "health: POST /api/v1/query 1+1 time=4",
        &|b| {
            http.post_form(
                &format!("{b}/api/v1/query"),
                &[("query", "1+1"), ("time", "4")],
            )
        },
        &same_query,
    );
    run(
        "health: GET /api/v1/status/buildinfo",
        &|b| http.get(&format!("{b}/api/v1/status/buildinfo"), &[]),
        &buildinfo_as_prometheus,
    );
    // 2. Data source init.
    run(
        "init: GET /api/v1/rules",
        &|b| http.get(&format!("{b}/api/v1/rules"), &[]),
        &rules_shape,
    );
    let probe_start = (now_ms - 1_800_000).to_string();
    let probe_end = now_ms.to_string();
    run(
        "init: POST /api/v1/query_exemplars?query=test (params in URL, ms)",
        &|b| {
            http.post_query_string(
                &format!("{b}/api/v1/query_exemplars"),
                &[
                    ("query", "test"),
                    ("start", &probe_start),
                    ("end", &probe_end),
                ],
            )
        },
        &same_envelope,
    );
    // 3. Metric browser.
    run(
        "browser: GET /api/v1/label/__name__/values",
        &|b| {
            http.get(
                &format!("{b}/api/v1/label/__name__/values"),
                &[("start", &snap_start), ("end", &snap_end), ("limit", LIMIT)],
            )
        },
        &same_string_list,
    );
    run(
        "browser: POST /api/v1/labels",
        &|b| {
            http.post_form(
                &format!("{b}/api/v1/labels"),
                &[("limit", LIMIT), ("start", &snap_start), ("end", &snap_end)],
            )
        },
        &same_string_list,
    );
    run(
        "browser: GET /api/v1/metadata",
        &|b| http.get(&format!("{b}/api/v1/metadata"), &[]),
        &metadata_shape,
    );
    // 4. A metric and a label chosen.
    run(
        "browser: GET /api/v1/label/job/values match[]=http_requests_total",
        &|b| {
            http.get(
                &format!("{b}/api/v1/label/job/values"),
                &[
                    ("limit", LIMIT),
                    ("start", &snap_start),
                    ("end", &snap_end),
                    ("match[]", "http_requests_total"),
                ],
            )
        },
        &same_string_list,
    );
    run(
        "browser: POST /api/v1/labels match[]=http_requests_total",
        &|b| {
            http.post_form(
                &format!("{b}/api/v1/labels"),
                &[
                    ("limit", LIMIT),
                    ("start", &snap_start),
                    ("end", &snap_end),
                    ("match[]", "http_requests_total"),
                ],
            )
        },
        &same_string_list,
    );
    run(
        "browser: POST /api/v1/series match[]={__name__=..,job=\"api\"}",
        &|b| {
            http.post_form(
                &format!("{b}/api/v1/series"),
                &[
                    ("start", &start_s),
                    ("end", &end_s),
                    ("match[]", r#"{__name__="http_requests_total",job="api"}"#),
                    ("limit", LIMIT),
                ],
            )
        },
        &same_series,
    );
    // 5. Template variable.
    run(
        "variable: GET /api/v1/label/cluster/values match[]=up",
        &|b| {
            http.get(
                &format!("{b}/api/v1/label/cluster/values"),
                &[("match[]", "up"), ("start", &start_s), ("end", &end_s)],
            )
        },
        &same_string_list,
    );
    // 6. Panels (range).
    for expr in [panel_expr, heatmap_expr, "up{job=\"db\"}"] {
        run(
            &format!("panel: POST /api/v1/query_range {expr}"),
            &|b| {
                http.post_form(
                    &format!("{b}/api/v1/query_range"),
                    &[
                        ("query", expr),
                        ("start", &al_start),
                        ("end", &al_end),
                        ("step", &step),
                    ],
                )
            },
            &same_query,
        );
    }
    // 7. Table panel (instant, unaligned time).
    for expr in ["up", "sum by (job) (up)"] {
        run(
            &format!("table: POST /api/v1/query {expr}"),
            &|b| {
                http.post_form(
                    &format!("{b}/api/v1/query"),
                    &[("query", expr), ("time", &secs(to_ms))],
                )
            },
            &same_query,
        );
    }
    // 8. Exemplars of the heatmap panel.
    run(
        "exemplars: POST /api/v1/query_exemplars",
        &|b| {
            http.post_form(
                &format!("{b}/api/v1/query_exemplars"),
                &[
                    ("query", heatmap_expr),
                    ("start", &al_start),
                    ("end", &al_end),
                ],
            )
        },
        &same_exemplars,
    );
    // A failing panel: Grafana shows `error` and keys on the status and `errorType`.
    run(
        "panel error: POST /api/v1/query_range with a syntax error",
        &|b| {
            http.post_form(
                &format!("{b}/api/v1/query_range"),
                &[
                    ("query", "sum(rate(http_requests_total[5m])"),
                    ("start", &al_start),
                    ("end", &al_end),
                    ("step", &step),
                ],
            )
        },
        &same_envelope,
    );
    // The answers of one step in detail: the health check's scalar is exactly 2.
    let health = http.post_form(
        &format!("{}/api/v1/query", peers.hub),
        &[("query", "1+1"), ("time", "4")],
    );
    let health_ok = health.json["data"]["resultType"] == "scalar"
        && health.json["data"]["result"][0].as_f64() == Some(4.0)
        && parse_value(&health.json["data"]["result"][1]).is_some_and(|v| same_value(v, 2.0));

    let failed: Vec<&Step> = steps.iter().filter(|s| s.result.is_err()).collect();
    eprintln!("Grafana sequence: {} requests", steps.len());
    for s in &steps {
        match &s.result {
            Ok(()) => eprintln!("  ok    {}", s.name),
            Err(e) => eprintln!("  FAIL  {} — {}", s.name, truncate(e, 220)),
        }
    }
    if !health_ok {
        eprintln!(
            "  FAIL  health check answer: {}",
            truncate(&health.raw, 200)
        );
    }
    assert!(
        failed.is_empty() && health_ok,
        "{} of {} Grafana requests answered unlike Prometheus (listed above)",
        failed.len() + usize::from(!health_ok),
        steps.len() + 1
    );
}
