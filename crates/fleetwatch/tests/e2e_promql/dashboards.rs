//! Test 2: every query of kube-prometheus's Grafana dashboards parses and evaluates on
//! the hub of a running `fleetwatch demo`.
//!
//! The dashboards (ConfigMaps whose data values are dashboard JSON) are read from the
//! shared conformance data. For each dashboard the templating variables are resolved as
//! Grafana resolves them, against the demo's hub:
//! - `label_values(label)` → `GET /api/v1/label/<label>/values?start&end`;
//!   `label_values(selector, label)` → the same with `match[]=<selector>`;
//!   `label_names()` → `GET /api/v1/labels`; `metrics(re)` → `__name__` values filtered;
//!   `query_result(q)` → an instant query; anything else → `GET /api/v1/series?match[]=`.
//! - the selected value: the saved `current` value when it is among the options, else
//!   "All" when the variable has `includeAll`, else the first option;
//! - "All" is the variable's `allValue` when set, else the regex alternation `(a|b)` of
//!   every option; values of multi/All variables are regex-escaped, single values are
//!   not (Grafana's Prometheus formatter).
//!
//! Then Grafana's built-in variables, as Grafana's backend computes them for a panel
//! over the last 10 minutes with 1,000 data points and the data source's scrape
//! interval set to the demo's (1 s): `$__interval` = max(min step, 600 s / 1000 rounded
//! by Grafana's table) where the min step is the target's `interval` or the scrape
//! interval; `$__rate_interval` = max(`$__interval` + min step, 4 × min step) printed as
//! Go prints durations (`4m0s`); `$__range` = `600s`, `$__range_s` = `600`,
//! `$__range_ms`, `$__interval_ms`, `$__rate_interval_ms`; forms `$x`, `${x}`,
//! `${x:fmt}` and `[[x]]`.
//!
//! Every expression then runs as an instant query at now and as a range query over
//! the last 10 minutes (start and end aligned down to the step as Grafana's backend does,
//! step = interval × the target's `intervalFactor`). No query may fail; empty results are
//! fine and counted.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

use regex::Regex;
use serde_json::Value;

use super::{Answer, Http, now_ms, secs, truncate};
use crate::common::{Proc, fleetwatch_bin, instant_query, serial, wait_for};

const DASHBOARDS: &str =
    "/work/shared/conformance/kube-prometheus/manifests/grafana-dashboardDefinitions.yaml";
/// The demo's scrape interval, which is also the data source's "scrape interval" setting.
const SCRAPE_MS: i64 = 1_000;
const RANGE_MS: i64 = 600_000;
const MAX_DATA_POINTS: i64 = 1_000;

/// A panel target: where it is and what it asks.
struct Target {
    dashboard: String,
    panel: String,
    expr: String,
    interval: Option<String>,
    interval_factor: i64,
}

/// A templating variable of type `query`.
struct Variable {
    name: String,
    query: String,
    include_all: bool,
    multi: bool,
    all_value: Option<String>,
    current: Vec<String>,
    regex: Option<String>,
    sort: i64,
}

/// A variable's resolution.
#[derive(Clone)]
enum Resolved {
    Single(String),
    Multi(Vec<String>),
    Raw(String),
}

/// Loads the dashboards: (file name, dashboard JSON).
fn load_dashboards() -> Vec<(String, Value)> {
    let text =
        std::fs::read_to_string(DASHBOARDS).unwrap_or_else(|e| panic!("reading {DASHBOARDS}: {e}"));
    let list: Value = serde_saphyr::from_str(&text).expect("the dashboards file is YAML");
    let mut out = Vec::new();
    for item in list["items"].as_array().expect("a list of ConfigMaps") {
        for (file, json) in item["data"].as_object().expect("ConfigMap data") {
            let dash: Value = serde_json::from_str(json.as_str().expect("a JSON string"))
                .unwrap_or_else(|e| panic!("{file} is not JSON: {e}"));
            out.push((file.clone(), dash));
        }
    }
    out
}

/// Every target with an `expr` of the panels, rows' panels and legacy rows.
fn collect_targets(dashboard: &str, panels: &Value, out: &mut Vec<Target>) {
    for p in panels.as_array().into_iter().flatten() {
        for t in p["targets"].as_array().into_iter().flatten() {
            if let Some(expr) = t["expr"].as_str() {
                out.push(Target {
                    dashboard: dashboard.to_string(),
                    panel: p["title"].as_str().unwrap_or("(untitled)").to_string(),
                    expr: expr.to_string(),
                    interval: t["interval"]
                        .as_str()
                        .filter(|s| !s.is_empty())
                        .map(String::from),
                    interval_factor: t["intervalFactor"].as_i64().unwrap_or(1).max(1),
                });
            }
        }
        collect_targets(dashboard, &p["panels"], out);
    }
}

fn variables(dash: &Value) -> Vec<Variable> {
    let mut out = Vec::new();
    for v in dash["templating"]["list"].as_array().into_iter().flatten() {
        if v["type"] != "query" {
            continue;
        }
        let query = match &v["query"] {
            Value::String(s) => s.clone(),
            Value::Object(o) => o
                .get("query")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            _ => String::new(),
        };
        let current = match &v["current"]["value"] {
            Value::String(s) => vec![s.clone()],
            Value::Array(a) => a
                .iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect(),
            _ => vec![],
        };
        out.push(Variable {
            name: v["name"].as_str().unwrap_or("").to_string(),
            query,
            include_all: v["includeAll"].as_bool().unwrap_or(false),
            multi: v["multi"].as_bool().unwrap_or(false),
            all_value: v["allValue"]
                .as_str()
                .filter(|s| !s.is_empty())
                .map(String::from),
            current,
            regex: v["regex"]
                .as_str()
                .filter(|s| !s.is_empty())
                .map(String::from),
            sort: v["sort"].as_i64().unwrap_or(0),
        });
    }
    out
}

/// Grafana's interval rounding table (rangeutil.roundInterval), up to an hour.
fn round_interval(ms: i64) -> i64 {
    const TABLE: [(i64, i64); 19] = [
        (10, 1),
        (15, 10),
        (35, 20),
        (75, 50),
        (150, 100),
        (350, 200),
        (750, 500),
        (1_500, 1_000),
        (3_500, 2_000),
        (7_500, 5_000),
        (12_500, 10_000),
        (17_500, 15_000),
        (25_000, 20_000),
        (45_000, 30_000),
        (90_000, 60_000),
        (210_000, 120_000),
        (450_000, 300_000),
        (750_000, 600_000),
        (1_050_000, 900_000),
    ];
    TABLE
        .iter()
        .find(|(limit, _)| ms <= *limit)
        .map(|(_, r)| *r)
        .unwrap_or(1_800_000)
}

/// A Grafana/Prometheus duration (`1m`, `30s`, `1h`, `500ms`) in milliseconds.
fn parse_ms(s: &str) -> Option<i64> {
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit())?);
    let n: i64 = num.parse().ok()?;
    Some(
        n * match unit {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            _ => return None,
        },
    )
}

/// A duration as Go's `time.Duration.String` prints it (`4s`, `4m0s`, `1h0m0s`, `500ms`).
fn go_duration(ms: i64) -> String {
    if ms < 1_000 {
        return format!("{ms}ms");
    }
    let (h, m, s, frac) = (
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1_000 % 60,
        ms % 1_000,
    );
    let sec = if frac == 0 {
        format!("{s}s")
    } else {
        format!("{s}.{}s", format!("{frac:03}").trim_end_matches('0'))
    };
    if h > 0 {
        format!("{h}h{m}m{sec}")
    } else if m > 0 {
        format!("{m}m{sec}")
    } else {
        sec
    }
}

/// An interval as Grafana's gtime.FormatInterval prints it (`1s`, `2m`, `500ms`).
fn grafana_interval(ms: i64) -> String {
    for (unit, size) in [
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
    ] {
        if ms >= size && ms % size == 0 {
            return format!("{}{unit}", ms / size);
        }
    }
    format!("{ms}ms")
}

/// Grafana's built-in variables for a target with optional `interval` (min step).
fn builtins(interval: Option<&str>) -> (BTreeMap<&'static str, String>, i64) {
    let min_step = interval.and_then(parse_ms).unwrap_or(SCRAPE_MS);
    let interval_ms = round_interval(RANGE_MS / MAX_DATA_POINTS).max(min_step);
    let rate = (interval_ms + min_step).max(4 * min_step);
    let mut b = BTreeMap::new();
    b.insert("__interval", grafana_interval(interval_ms));
    b.insert("__interval_ms", interval_ms.to_string());
    b.insert("__rate_interval", go_duration(rate));
    b.insert("__rate_interval_ms", rate.to_string());
    b.insert("__range", format!("{}s", RANGE_MS / 1000));
    b.insert("__range_s", (RANGE_MS / 1000).to_string());
    b.insert("__range_ms", RANGE_MS.to_string());
    (b, interval_ms)
}

/// Escapes regex metacharacters as Grafana's Prometheus data source does for
/// multi-value and All variables (a backslash, doubled inside the PromQL string).
fn regex_escape(v: &str) -> String {
    let mut out = String::new();
    for c in v.chars() {
        if "$^*+?.()|\\{}[]".contains(c) {
            out.push_str("\\\\");
        }
        out.push(c);
    }
    out
}

/// Replaces `$x`, `${x}`, `${x:fmt}` and `[[x]]`; unknown names are left as they are
/// (as Grafana does) and reported in `unknown`.
fn interpolate(
    expr: &str,
    vars: &BTreeMap<String, Resolved>,
    builtins: &BTreeMap<&'static str, String>,
    unknown: &mut Vec<String>,
) -> String {
    let re =
        Regex::new(r"\$(\w+)|\$\{(\w+)(?::[^}]*)?\}|\[\[(\w+)(?::[^\]]*)?\]\]").expect("regex");
    re.replace_all(expr, |c: &regex::Captures| {
        let name = c
            .get(1)
            .or(c.get(2))
            .or(c.get(3))
            .map(|m| m.as_str())
            .unwrap_or("");
        if let Some(b) = builtins.get(name) {
            return b.clone();
        }
        match vars.get(name) {
            Some(Resolved::Single(v)) => v.replace('\\', "\\\\").replace('\'', "\\'"),
            Some(Resolved::Raw(v)) => v.clone(),
            Some(Resolved::Multi(vs)) => {
                let e: Vec<String> = vs.iter().map(|v| regex_escape(v)).collect();
                if e.len() == 1 {
                    e[0].clone()
                } else {
                    format!("({})", e.join("|"))
                }
            }
            None if name == "datasource" => "prometheus".to_string(),
            None => {
                unknown.push(name.to_string());
                c[0].to_string()
            }
        }
    })
    .into_owned()
}

/// Runs a templating query as Grafana translates it; Ok(options) or Err(failure).
fn run_variable_query(http: &Http, base: &str, q: &str, now: i64) -> Result<Vec<String>, Answer> {
    let start = ((now - RANGE_MS) as f64 / 1000.0).ceil().to_string();
    let end = (now as f64 / 1000.0).ceil().to_string();
    let list = |a: Answer| -> Result<Vec<String>, Answer> {
        if a.ok() {
            Ok(a.json["data"]
                .as_array()
                .map(|v| {
                    v.iter()
                        .filter_map(|x| x.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default())
        } else {
            Err(a)
        }
    };
    let label_values =
        Regex::new(r"^label_values\((?:(.+),\s*)?([a-zA-Z_][a-zA-Z0-9_]*)\)\s*$").expect("regex");
    let q = q.trim();
    if let Some(c) = label_values.captures(q) {
        let label = &c[2];
        let url = format!("{base}/api/v1/label/{label}/values");
        let mut params = vec![("start", start.as_str()), ("end", end.as_str())];
        let filter = c.get(1).map(|m| m.as_str().trim()).unwrap_or("");
        if !filter.is_empty() && filter.replace(' ', "") != "{}" {
            params.push(("match[]", filter));
        }
        return list(http.get(&url, &params));
    }
    if q.starts_with("label_names(") {
        return list(http.get(
            &format!("{base}/api/v1/labels"),
            &[("start", start.as_str()), ("end", end.as_str())],
        ));
    }
    if let Some(re) = q.strip_prefix("metrics(").and_then(|r| r.strip_suffix(')')) {
        let names = list(http.get(
            &format!("{base}/api/v1/label/__name__/values"),
            &[("start", start.as_str()), ("end", end.as_str())],
        ))?;
        let re = Regex::new(re).map_err(|e| Answer {
            status: 0,
            content_type: String::new(),
            json: Value::Null,
            raw: format!("metrics() regex: {e}"),
        })?;
        return Ok(names.into_iter().filter(|n| re.is_match(n)).collect());
    }
    if let Some(inner) = q
        .strip_prefix("query_result(")
        .and_then(|r| r.strip_suffix(')'))
    {
        let a = http.get(
            &format!("{base}/api/v1/query"),
            &[("query", inner), ("time", end.as_str())],
        );
        if !a.ok() {
            return Err(a);
        }
        return Ok(a
            .result()
            .iter()
            .map(|s| {
                format!(
                    "{} {} {}",
                    super::compare::labels_key(&s["metric"]),
                    s["value"][1].as_str().unwrap_or(""),
                    s["value"][0]
                )
            })
            .collect());
    }
    let a = http.get(
        &format!("{base}/api/v1/series"),
        &[
            ("match[]", q),
            ("start", start.as_str()),
            ("end", end.as_str()),
        ],
    );
    if !a.ok() {
        return Err(a);
    }
    Ok(a.json["data"]
        .as_array()
        .map(|v| v.iter().map(super::compare::labels_key).collect())
        .unwrap_or_default())
}

/// Picks the variable's value among `options` as Grafana does.
fn select(v: &Variable, mut options: Vec<String>) -> Resolved {
    if let Some(re) = &v.regex {
        let pattern = re.trim_start_matches('/').trim_end_matches('/');
        if let Ok(re) = Regex::new(pattern) {
            options = options
                .iter()
                .filter_map(|o| {
                    re.captures(o).map(|c| {
                        c.get(1)
                            .map(|m| m.as_str().to_string())
                            .unwrap_or_else(|| o.clone())
                    })
                })
                .collect();
        }
    }
    match v.sort {
        1 | 5 => options.sort(),
        2 | 6 => options.sort_by(|a, b| b.cmp(a)),
        _ => {}
    }
    options.dedup();
    let all = v.current.iter().any(|c| c == "$__all");
    if !v.current.is_empty() && !all && v.current.iter().all(|c| options.contains(c)) {
        return if v.multi || v.include_all {
            Resolved::Multi(v.current.clone())
        } else {
            Resolved::Single(v.current[0].clone())
        };
    }
    if v.include_all {
        return match &v.all_value {
            Some(a) => Resolved::Raw(a.clone()),
            None => Resolved::Multi(options),
        };
    }
    let first = options.into_iter().next().unwrap_or_default();
    if v.multi {
        Resolved::Multi(vec![first])
    } else {
        Resolved::Single(first)
    }
}

struct Failure {
    dashboard: String,
    panel: String,
    kind: &'static str,
    query: String,
    error: String,
}

/// Starts `fleetwatch demo` scraping every second; returns it and the hub's base URL.
fn start_demo(data: &std::path::Path) -> (Proc, String) {
    let mut cmd = Command::new(fleetwatch_bin());
    cmd.args([
        "demo",
        "--listen",
        "127.0.0.1:0",
        "--scrape-interval",
        "1s",
        "--data",
    ])
    .arg(data);
    let mut demo = Proc::start("demo", cmd);
    // The first `listening on` line is the hub's: the demo starts it first.
    let addr = demo.wait_listening(Duration::from_secs(60));
    let base = format!("http://{addr}");
    for cluster in ["demo-east", "demo-west"] {
        for job in ["node-exporter", "kube-state-metrics", "kubelet"] {
            wait_for(
                &format!("{cluster} {job} up in the demo's hub"),
                Duration::from_secs(60),
                || {
                    instant_query(&base, &format!(r#"up{{cluster="{cluster}",job="{job}"}}"#))
                        .filter(|r| !r.is_empty())
                },
            );
        }
    }
    // Enough history for 4 s rate windows everywhere: 15 scrapes of every target.
    wait_for("15 s of demo data", Duration::from_secs(60), || {
        let r = instant_query(&base, "up[1m]")?;
        (!r.is_empty()
            && r.iter()
                .all(|s| crate::common::matrix_points(s).len() >= 15))
        .then_some(())
    });
    (demo, base)
}

#[test]
fn promql_every_kube_prometheus_dashboard_query_evaluates_on_the_demo() {
    let _g = serial();
    let dashboards = load_dashboards();
    assert!(
        dashboards.len() >= 20,
        "only {} dashboards",
        dashboards.len()
    );
    let tmp = tempfile::tempdir().expect("tempdir");
    let (mut demo, base) = start_demo(tmp.path());
    let http = Http::new();
    let now = now_ms();
    let mut failures: Vec<Failure> = Vec::new();
    let mut unknown: Vec<String> = Vec::new();
    let (mut queries, mut non_empty, mut variable_queries) = (0usize, 0usize, 0usize);
    // A few queries as sent, to show the substitution at work.
    let mut samples: Vec<String> = Vec::new();
    for (file, dash) in &dashboards {
        let title = format!("{} ({file})", dash["title"].as_str().unwrap_or("?"));
        // Variables, in order: later ones may use earlier ones.
        let mut vars: BTreeMap<String, Resolved> = BTreeMap::new();
        let (plain, _) = builtins(None);
        for v in variables(dash) {
            let q = interpolate(&v.query, &vars, &plain, &mut unknown);
            variable_queries += 1;
            let options = match run_variable_query(&http, &base, &q, now) {
                Ok(o) => o,
                Err(a) => {
                    failures.push(Failure {
                        dashboard: title.clone(),
                        panel: format!("variable ${}", v.name),
                        kind: "templating",
                        query: q.clone(),
                        error: a.error_line(),
                    });
                    vec![]
                }
            };
            let r = select(&v, options);
            vars.insert(v.name.clone(), r);
        }
        let mut targets = Vec::new();
        collect_targets(&title, &dash["panels"], &mut targets);
        for row in dash["rows"].as_array().into_iter().flatten() {
            collect_targets(&title, &row["panels"], &mut targets);
        }
        for t in targets {
            let (b, interval_ms) = builtins(t.interval.as_deref());
            let expr = interpolate(&t.expr, &vars, &b, &mut unknown);
            if samples.len() < 3 && expr.contains("demo-") && t.expr.contains("$__rate_interval") {
                samples.push(expr.clone());
            }
            let step_ms = interval_ms * t.interval_factor;
            let end = now.div_euclid(step_ms) * step_ms;
            let start = (now - RANGE_MS).div_euclid(step_ms) * step_ms;
            let step = (step_ms as f64 / 1000.0).to_string();
            let instant = http.post_form(
                &format!("{base}/api/v1/query"),
                &[("query", expr.as_str()), ("time", secs(now).as_str())],
            );
            let range = http.post_form(
                &format!("{base}/api/v1/query_range"),
                &[
                    ("query", expr.as_str()),
                    ("start", secs(start).as_str()),
                    ("end", secs(end).as_str()),
                    ("step", step.as_str()),
                ],
            );
            for (kind, a) in [("instant", instant), ("range", range)] {
                queries += 1;
                if !a.ok() || a.status != 200 {
                    failures.push(Failure {
                        dashboard: t.dashboard.clone(),
                        panel: t.panel.clone(),
                        kind,
                        query: expr.clone(),
                        error: a.error_line(),
                    });
                } else if a.json["data"]["resultType"] == "scalar" || !a.result().is_empty() {
                    non_empty += 1;
                }
            }
        }
    }
    unknown.sort();
    unknown.dedup();
    for s in &samples {
        eprintln!("as sent: {}", truncate(s, 300));
    }
    eprintln!(
        "{} dashboards, {variable_queries} templating queries, {queries} panel evaluations: {non_empty} non-empty, {} failures; unknown variables: {unknown:?}",
        dashboards.len(),
        failures.len()
    );
    if !failures.is_empty() {
        eprintln!(
            "{:<44} | {:<36} | {:<10} | error | query",
            "dashboard", "panel", "kind"
        );
        for f in &failures {
            eprintln!(
                "{:<44} | {:<36} | {:<10} | {} | {}",
                truncate(&f.dashboard, 44),
                truncate(&f.panel, 36),
                f.kind,
                truncate(&f.error, 150),
                truncate(&f.query, 300)
            );
        }
        let mut causes: BTreeMap<String, usize> = BTreeMap::new();
        for f in &failures {
            *causes.entry(truncate(&f.error, 90)).or_default() += 1;
        }
        let mut causes: Vec<_> = causes.into_iter().collect();
        causes.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
        eprintln!("\nfailures by error:");
        for (c, n) in causes {
            eprintln!("  {n:>4} × {c}");
        }
    }
    assert!(queries >= 1_000, "only {queries} panel evaluations");
    assert!(unknown.is_empty(), "variables left unresolved: {unknown:?}");
    assert!(
        demo.is_running(),
        "the demo died while answering the dashboards"
    );
    assert!(
        failures.is_empty(),
        "{} of {} dashboard queries failed (listed above)",
        failures.len(),
        queries + variable_queries
    );
}

#[test]
fn promql_grafana_variable_helpers_match_grafana() {
    assert_eq!(go_duration(4_000), "4s");
    assert_eq!(go_duration(240_000), "4m0s");
    assert_eq!(go_duration(3_600_000), "1h0m0s");
    assert_eq!(round_interval(600), 500);
    let (b, i) = builtins(None);
    assert_eq!((i, b["__rate_interval"].as_str()), (1_000, "4s"));
    let (b, i) = builtins(Some("1m"));
    assert_eq!((i, b["__rate_interval"].as_str()), (60_000, "4m0s"));
    let mut vars = BTreeMap::new();
    vars.insert("cluster".to_string(), Resolved::Single("a".into()));
    vars.insert(
        "ns".to_string(),
        Resolved::Multi(vec!["x.y".into(), "z".into()]),
    );
    let mut unknown = vec![];
    assert_eq!(
        interpolate(
            r#"f{c="$cluster",n=~"${ns}",m="[[cluster]]"}[$__rate_interval]"#,
            &vars,
            &b,
            &mut unknown
        ),
        r#"f{c="a",n=~"(x\\.y|z)",m="a"}[4m0s]"#
    );
    assert!(unknown.is_empty());
}
