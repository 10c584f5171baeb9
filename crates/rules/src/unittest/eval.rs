//! One test group, as promtool runs it: the input series loaded lazily, every rule group
//! evaluated at each `evaluation_interval` from the start up to the largest `eval_time`,
//! alerts checked right after the evaluation that covers their `eval_time`, and the
//! expression tests queried once the loop is done.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use gofmt::quote;
use model::{ALERT_NAME_LABEL, Labels, Timestamp};
use promql::promqltest::series::{SeqValue, parse_metric, parse_series_desc};
use promql::{Engine, EngineOptions, QueryValue};

use crate::alerting::{AlertContext, AlertState};
use crate::file::RuleFile;
use crate::group::{EvalDeps, Group, GroupSettings};
use crate::unittest::compare::{
    AlertView, SampleView, alert_mismatch, expr_error, expr_mismatch, pairs_of, prom_duration,
    rule_error, samples_equal,
};
use crate::unittest::file::{TestFile, TestGroup};
use crate::unittest::store::{LazyInput, TestStore, Value};

/// What every test group of a file shares.
pub(crate) struct FileContext<'a> {
    /// The test file's name, for messages.
    pub name: &'a str,
    /// The file.
    pub file: &'a TestFile,
    /// The rule files, or why they do not load.
    pub rules: &'a Result<Vec<RuleFile>, Vec<String>>,
    /// Position of each group named in `group_eval_order`.
    pub group_order: &'a HashMap<String, usize>,
}

/// Most samples one query may load (promtool's test engine).
const MAX_SAMPLES: usize = 10_000;

/// Runs one test group; returns its failures in promtool's wording (empty: it passed).
pub(crate) fn run_test_group(ctx: &FileContext<'_>, tg: &TestGroup) -> Vec<String> {
    let eval_interval = ctx.file.evaluation_interval_ms;
    let interval = if tg.interval_ms > 0 {
        tg.interval_ms
    } else {
        eval_interval
    };
    let start = tg.start_timestamp_ms.unwrap_or(0);
    let mut input = match load_input(ctx.name, tg, start, interval) {
        Ok(i) => i,
        Err(e) => return vec![e],
    };
    let rule_files = match ctx.rules {
        Ok(f) => f,
        Err(errs) => return errs.clone(),
    };
    let settings = GroupSettings {
        default_interval: Duration::from_millis(interval.unsigned_abs()),
        context: AlertContext {
            external_labels: tg.external_labels.clone(),
            external_url: tg.external_url.clone(),
        },
        ..GroupSettings::default()
    };
    let mut groups = Vec::new();
    for rf in rule_files {
        for desc in &rf.groups {
            match Group::new(&rf.file, desc, &settings) {
                Ok(g) => groups.push(g),
                Err(e) => return vec![format!("{}: group {:?}: {e}", rf.file, desc.name)],
            }
        }
    }
    // Groups named in `group_eval_order` run in that order; the others count as the first.
    groups.sort_by_key(|g| ctx.group_order.get(g.name()).copied().unwrap_or(0));

    let in_group = if tg.name.is_empty() {
        String::new()
    } else {
        format!(" (in TestGroup {})", tg.name)
    };
    if let Some(a) = tg.alert_rule_tests.iter().find(|a| a.alertname.is_empty()) {
        return vec![format!(
            "an item under alert_rule_test misses required attribute alertname at eval_time {}{in_group}",
            prom_duration(a.eval_time_ms)
        )];
    }
    let mut alert_tests: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
    for (i, a) in tg.alert_rule_tests.iter().enumerate() {
        alert_tests.entry(a.eval_time_ms).or_default().push(i);
    }
    let alert_times: Vec<i64> = alert_tests.keys().copied().collect();
    let max_eval = tg
        .alert_rule_tests
        .iter()
        .map(|a| a.eval_time_ms)
        .chain(tg.promql_expr_tests.iter().map(|e| e.eval_time_ms))
        .max()
        .unwrap_or(0);
    let maxt = start.saturating_add(max_eval);

    let engine = Engine::new(EngineOptions {
        lookback_delta_ms: 5 * 60 * 1000,
        max_samples: MAX_SAMPLES,
        timeout: Duration::from_secs(100),
        default_subquery_step_ms: eval_interval,
        delayed_name_removal: false,
        ..EngineOptions::default()
    });
    let store = TestStore::new();
    let deps = EvalDeps {
        engine: &engine,
        queryable: &store,
        appendable: &store,
        notify: None,
        resend_delay: Duration::from_secs(60),
        stop: None,
    };

    let mut errs = Vec::new();
    let mut curr = 0;
    let mut ts = start;
    while ts <= maxt {
        match input.load_till(&store, ts) {
            Err(e) => errs.push(e.to_string()),
            Ok(()) => {
                let mut eval_errs = Vec::new();
                for g in groups.iter_mut() {
                    g.eval(&deps, ts);
                    for r in g.rules() {
                        if let Some(e) = &r.eval_record().last_error {
                            eval_errs.push(rule_error(r.name(), ts, e));
                        }
                    }
                }
                if !eval_errs.is_empty() {
                    errs.extend(eval_errs);
                    return errs;
                }
            }
        }
        let next = ts.checked_add(eval_interval);
        // The alerts due at `eval_time` are those of the evaluation at or just before it.
        while curr < alert_times.len()
            && ts - start <= alert_times[curr]
            && next.is_none_or(|n| alert_times[curr] < n - start)
        {
            let t = alert_times[curr];
            let cases = &alert_tests[&t];
            let names: HashSet<&str> = cases
                .iter()
                .map(|&i| tg.alert_rule_tests[i].alertname.as_str())
                .collect();
            let got = firing_alerts(&groups, &names);
            for &i in cases {
                let case = &tg.alert_rule_tests[i];
                let mut got_alerts = got
                    .get(case.alertname.as_str())
                    .cloned()
                    .unwrap_or_default();
                let mut exp_alerts: Vec<AlertView> = case
                    .exp_alerts
                    .iter()
                    .map(|a| {
                        let mut labels: BTreeMap<String, String> =
                            a.labels.iter().cloned().collect();
                        labels.insert(ALERT_NAME_LABEL.to_string(), case.alertname.clone());
                        AlertView {
                            labels: labels.into_iter().collect(),
                            annotations: a.annotations.clone(),
                        }
                    })
                    .collect();
                got_alerts.sort();
                exp_alerts.sort();
                if exp_alerts != got_alerts {
                    errs.push(alert_mismatch(
                        &tg.name,
                        &case.alertname,
                        case.eval_time_ms,
                        &exp_alerts,
                        &got_alerts,
                    ));
                }
            }
            curr += 1;
        }
        match next {
            Some(n) => ts = n,
            None => break,
        }
    }

    for case in &tg.promql_expr_tests {
        let t = start.saturating_add(case.eval_time_ms);
        let mut got = match query(&engine, &store, &case.expr, t) {
            Ok(g) => g,
            Err(e) => {
                errs.push(expr_error(&case.expr, case.eval_time_ms, &e));
                continue;
            }
        };
        let mut exp = Vec::with_capacity(case.exp_samples.len());
        let mut bad = None;
        for s in &case.exp_samples {
            match expected_sample(&s.labels, s.value, &s.histogram) {
                Ok(v) => exp.push(v),
                Err(e) => {
                    bad = Some(format!("labels {}: {e}", quote(&s.labels)));
                    break;
                }
            }
        }
        if let Some(e) = bad {
            errs.push(expr_error(&case.expr, case.eval_time_ms, &e));
            continue;
        }
        if !samples_equal(&mut exp, &mut got, ctx.file.fuzzy_compare) {
            errs.push(expr_mismatch(&case.expr, case.eval_time_ms, &exp, &got));
        }
    }
    errs
}

/// Parses the input series (promtool's `load` block) into samples from `start`, one slot per
/// `interval`.
fn load_input(
    file: &str,
    tg: &TestGroup,
    start: Timestamp,
    interval: i64,
) -> Result<LazyInput, String> {
    let mut input = LazyInput::default();
    for s in &tg.input_series {
        let desc = parse_series_desc(&format!("{} {}", s.series, s.values)).map_err(|e| {
            format!(
                "{file}:{}: input series {} with values {}: {e}",
                s.line,
                quote(&s.series),
                quote(&s.values)
            )
        })?;
        let mut samples = Vec::with_capacity(desc.values.len());
        for (i, v) in desc.values.into_iter().enumerate() {
            let t = i64::try_from(i)
                .ok()
                .and_then(|i| i.checked_mul(interval))
                .and_then(|o| start.checked_add(o))
                .ok_or_else(|| {
                    format!("{file}:{}: input series run past the end of time", s.line)
                })?;
            match v {
                SeqValue::Omitted => {}
                SeqValue::Float(f) => samples.push((t, Value::Float(f))),
                SeqValue::Histogram(h) => samples.push((t, Value::Histogram(h.h))),
            }
        }
        input.define(desc.labels, samples);
    }
    Ok(input)
}

/// The firing alerts of every alerting rule named in `names`, by name, over all groups.
fn firing_alerts<'a>(
    groups: &'a [Group],
    names: &HashSet<&str>,
) -> HashMap<&'a str, Vec<AlertView>> {
    let mut got: HashMap<&str, Vec<AlertView>> = HashMap::new();
    for g in groups {
        for r in g.alerting_rules() {
            if !names.contains(r.name()) {
                continue;
            }
            got.entry(r.name()).or_default().extend(
                r.active_alerts()
                    .filter(|a| a.state == AlertState::Firing)
                    .map(|a| AlertView {
                        labels: pairs_of(&a.labels),
                        annotations: pairs_of(&a.annotations),
                    }),
            );
        }
    }
    got
}

/// An instant query at `t`: a vector, or a scalar as one sample without labels.
fn query(
    engine: &Engine,
    store: &TestStore,
    expr: &str,
    t: Timestamp,
) -> Result<Vec<SampleView>, String> {
    let res = engine
        .instant_query(store, expr, t, None)
        .map_err(|e| e.to_string())?;
    match res.value {
        QueryValue::Vector(v) => Ok(v
            .into_iter()
            .map(|s| SampleView {
                labels: pairs_of(&s.labels),
                value: s.v,
                // promtool compares the histogram's TestExpression.
                histogram: s.h.map(|h| h.test_expression()).unwrap_or_default(),
            })
            .collect()),
        QueryValue::Scalar(_, v) => Ok(vec![SampleView {
            labels: Vec::new(),
            value: v,
            histogram: String::new(),
        }]),
        _ => Err("rule result is not a vector or scalar".to_string()),
    }
}

/// An `exp_samples` entry: labels in series notation (empty for none).
fn expected_sample(labels: &str, value: f64, histogram: &str) -> Result<SampleView, String> {
    let text = labels.trim();
    let parsed = if text.is_empty() {
        Labels::empty()
    } else {
        let (l, rest) = parse_metric(text)?;
        if !rest.trim().is_empty() {
            return Err(format!("unexpected {:?} after the labels", rest.trim()));
        }
        l
    };
    let histogram = if histogram.is_empty() {
        String::new()
    } else {
        expected_histogram(histogram)?
    };
    // promtool compares `value` too (a histogram sample's is 0), so it stays as written.
    Ok(SampleView {
        labels: pairs_of(&parsed),
        value,
        histogram,
    })
}

/// An `exp_samples` `histogram:`: one histogram in the series notation (promtool parses
/// `{} <histogram>`), as its TestExpression.
fn expected_histogram(text: &str) -> Result<String, String> {
    let desc = parse_series_desc(&format!("{{}} {text}"))?;
    match desc.values.as_slice() {
        [SeqValue::Histogram(h)] => Ok(h.h.test_expression()),
        [other] => Err(format!(
            "expected histogram, got {}",
            seq_value_string(other)
        )),
        values => Err(format!("expected 1 value, got {}", values.len())),
    }
}

/// A non-histogram sequence value as Go's `%v` prints promtool's `SequenceValue`.
fn seq_value_string(v: &SeqValue) -> String {
    match v {
        SeqValue::Float(f) => gofmt::go_f(*f),
        _ => "_".to_string(),
    }
}
