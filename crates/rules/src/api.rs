//! The `data` of `/api/v1/rules` and `/api/v1/alerts`, shaped and named as Prometheus's
//! `web/api/v1` serialises them, with the rules endpoint's filters and pagination.

use std::collections::{BTreeMap, HashSet};

use gofmt::{format_float, rfc3339_millis, rfc3339_nano};
use model::{Labels, Matcher};
use serde::Serialize;
use serde::ser::SerializeMap;

use crate::alerting::Alert;
use crate::status::{GroupStatus, RuleStatus, RuleStatusKind};

/// `/api/v1/rules` data.
#[derive(Debug, Clone, Serialize)]
pub struct RuleDiscovery {
    /// Groups, ordered by file then name.
    pub groups: Vec<RuleGroupJson>,
    /// Token of the next page, when `group_limit` cut the list.
    #[serde(rename = "groupNextToken", skip_serializing_if = "Option::is_none")]
    pub group_next_token: Option<String>,
}

/// One group in `/api/v1/rules`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleGroupJson {
    /// Name.
    pub name: String,
    /// File.
    pub file: String,
    /// Rules, in order, both kinds.
    pub rules: Vec<RuleJson>,
    /// Interval, seconds.
    #[serde(serialize_with = "go_float")]
    pub interval: f64,
    /// `limit`.
    pub limit: usize,
    /// Last evaluation's duration, seconds.
    #[serde(serialize_with = "go_float")]
    pub evaluation_time: f64,
    /// Last evaluation's wall-clock start (RFC 3339).
    pub last_evaluation: String,
}

/// A rule in `/api/v1/rules`.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum RuleJson {
    /// `type: alerting`.
    Alerting(AlertingRuleJson),
    /// `type: recording`.
    Recording(RecordingRuleJson),
}

/// An alerting rule in `/api/v1/rules`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertingRuleJson {
    /// `pending`, `firing`, `inactive` (or `unknown` before the first evaluation).
    pub state: String,
    /// Alert name.
    pub name: String,
    /// Expression.
    pub query: String,
    /// `for`, seconds.
    #[serde(serialize_with = "go_float")]
    pub duration: f64,
    /// `keep_firing_for`, seconds.
    #[serde(serialize_with = "go_float")]
    pub keep_firing_for: f64,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Annotations.
    pub annotations: BTreeMap<String, String>,
    /// Active alerts; `null` when excluded.
    pub alerts: Option<Vec<AlertJson>>,
    /// `ok`, `err`, `unknown`.
    pub health: String,
    /// The last error.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub last_error: String,
    /// Last evaluation's duration, seconds.
    #[serde(serialize_with = "go_float")]
    pub evaluation_time: f64,
    /// Last evaluation's start.
    pub last_evaluation: String,
    /// Always `alerting`.
    #[serde(rename = "type")]
    pub kind: &'static str,
}

/// A recording rule in `/api/v1/rules`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordingRuleJson {
    /// Record name.
    pub name: String,
    /// Expression.
    pub query: String,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// `ok`, `err`, `unknown`.
    pub health: String,
    /// The last error.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub last_error: String,
    /// Last evaluation's duration, seconds.
    #[serde(serialize_with = "go_float")]
    pub evaluation_time: f64,
    /// Last evaluation's start.
    pub last_evaluation: String,
    /// Always `recording`.
    #[serde(rename = "type")]
    pub kind: &'static str,
}

/// An alert in `/api/v1/alerts` and in alerting rules.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertJson {
    /// Labels.
    #[serde(serialize_with = "labels_map")]
    pub labels: Labels,
    /// Annotations.
    #[serde(serialize_with = "labels_map")]
    pub annotations: Labels,
    /// `pending` or `firing`.
    pub state: String,
    /// When the condition started to hold (RFC 3339).
    pub active_at: String,
    /// When `keep_firing_for` took over, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keep_firing_since: Option<String>,
    /// The value, as Go's `%e` shortest form.
    pub value: String,
}

/// `/api/v1/alerts` data.
#[derive(Debug, Clone, Serialize)]
pub struct AlertDiscovery {
    /// Every pending and firing alert.
    pub alerts: Vec<AlertJson>,
}

/// Whole-second floats as JSON integers, as Go writes them (`60`, not `60.0`).
fn go_float<S: serde::Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e15 {
        s.serialize_i64(*v as i64)
    } else {
        s.serialize_f64(*v)
    }
}

fn labels_map<S: serde::Serializer>(l: &Labels, s: S) -> Result<S::Ok, S::Error> {
    let mut out = s.serialize_map(Some(l.len()))?;
    for x in l {
        out.serialize_entry(x.name.as_str(), x.value.as_str())?;
    }
    out.end()
}

/// An alert for the API.
pub fn alert_json(a: &Alert) -> AlertJson {
    AlertJson {
        labels: a.labels.clone(),
        annotations: a.annotations.clone(),
        state: a.state.as_str().to_string(),
        active_at: rfc3339_millis(a.active_at),
        keep_firing_since: a.keep_firing_since.map(rfc3339_millis),
        // Go's strconv.FormatFloat(v, 'e', -1, 64), as Prometheus writes alert values.
        value: format_float(a.value, b'e', -1),
    }
}

/// Which rules `/api/v1/rules` returns.
#[derive(Debug, Clone, Default)]
pub struct RulesQuery {
    /// `rule_name[]`: only these names.
    pub rule_names: HashSet<String>,
    /// `rule_group[]`: only these groups.
    pub rule_groups: HashSet<String>,
    /// `file[]`: only these files.
    pub files: HashSet<String>,
    /// `match[]`: only rules whose labels match one of the sets.
    pub matcher_sets: Vec<Vec<Matcher>>,
    /// `type=alert|record`: only one kind.
    pub only: Option<RuleType>,
    /// `exclude_alerts=true`: alerting rules without their alerts.
    pub exclude_alerts: bool,
    /// `group_limit`: most groups per page.
    pub group_limit: Option<usize>,
    /// `group_next_token`: where the page starts.
    pub group_next_token: Option<String>,
}

/// The kinds of rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleType {
    /// `alert`.
    Alert,
    /// `record`.
    Record,
}

/// A request parameter Prometheus would refuse (`bad_data`), worded as Prometheus words it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid parameter {param:?}: {message}")]
pub struct ParamError {
    /// The parameter.
    pub param: &'static str,
    /// Why.
    pub message: String,
}

fn param_err(param: &'static str, message: impl Into<String>) -> ParamError {
    ParamError {
        param,
        message: message.into(),
    }
}

/// Go's `strconv.ParseBool`.
fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

impl RulesQuery {
    /// Reads the request's parameters (query string and form, in any order).
    pub fn from_params<'a>(
        params: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<RulesQuery, ParamError> {
        let mut q = RulesQuery::default();
        let mut typ = None;
        let mut exclude = None;
        let mut limit = None;
        for (k, v) in params {
            match k {
                "rule_name[]" => {
                    q.rule_names.insert(v.to_string());
                }
                "rule_group[]" => {
                    q.rule_groups.insert(v.to_string());
                }
                "file[]" => {
                    q.files.insert(v.to_string());
                }
                "match[]" => {
                    let set = promql::parse_metric_selector(v)
                        .map_err(|e| param_err("match[]", e.to_string()))?;
                    q.matcher_sets.push(set);
                }
                "type" => typ = typ.or(Some(v.to_lowercase())),
                "exclude_alerts" => exclude = exclude.or(Some(v.to_lowercase())),
                "group_limit" => limit = limit.or(Some(v.to_string())),
                "group_next_token" if q.group_next_token.is_none() => {
                    q.group_next_token = Some(v.to_string()).filter(|t| !t.is_empty());
                }
                _ => {}
            }
        }
        q.only = match typ.as_deref() {
            None | Some("") => None,
            Some("alert") => Some(RuleType::Alert),
            Some("record") => Some(RuleType::Record),
            Some(other) => {
                return Err(param_err("type", format!("not supported value {other:?}")));
            }
        };
        if let Some(e) = exclude.filter(|e| !e.is_empty()) {
            q.exclude_alerts = parse_bool(&e).ok_or_else(|| {
                param_err(
                    "exclude_alerts",
                    format!(
                        "error converting exclude_alerts: strconv.ParseBool: parsing {e:?}: invalid syntax"
                    ),
                )
            })?;
        }
        match limit.filter(|l| !l.is_empty()) {
            None if q.group_next_token.is_some() => {
                return Err(param_err(
                    "group_next_token",
                    "group_limit needs to be present in order to paginate over the groups",
                ));
            }
            None => {}
            Some(l) => {
                let n: i64 = l.parse().map_err(|_| {
                    param_err(
                        "group_limit",
                        format!(
                            "group_limit needs to be a valid number: strconv.ParseInt: parsing {l:?}: invalid syntax"
                        ),
                    )
                })?;
                if n <= 0 {
                    return Err(param_err(
                        "group_limit",
                        "group_limit needs to be greater than 0",
                    ));
                }
                q.group_limit = Some(usize::try_from(n).unwrap_or(usize::MAX));
            }
        }
        Ok(q)
    }

    fn rule_matches(&self, r: &RuleStatus) -> bool {
        if !self.rule_names.is_empty() && !self.rule_names.contains(&r.name) {
            return false;
        }
        let is_alert = matches!(r.kind, RuleStatusKind::Alerting { .. });
        match self.only {
            Some(RuleType::Alert) if !is_alert => return false,
            Some(RuleType::Record) if is_alert => return false,
            _ => {}
        }
        self.matcher_sets.is_empty()
            || self.matcher_sets.iter().any(|set| {
                set.iter()
                    .all(|m| m.matches(r.labels.get(&m.name).map(String::as_str).unwrap_or("")))
            })
    }
}

/// The opaque page token of a group.
pub fn group_token(file: &str, group: &str) -> String {
    format!(
        "{:016x}",
        model::hash_label_pairs([("file", file), ("group", group)])
    )
}

fn rule_json(r: &RuleStatus, exclude_alerts: bool) -> RuleJson {
    let health = r.record.health.as_str().to_string();
    let last_error = r.record.last_error.clone().unwrap_or_default();
    let evaluation_time = r.record.duration.as_secs_f64();
    let last_evaluation = rfc3339_nano(r.record.timestamp);
    match &r.kind {
        RuleStatusKind::Recording => RuleJson::Recording(RecordingRuleJson {
            name: r.name.clone(),
            query: r.query.clone(),
            labels: r.labels.clone(),
            health,
            last_error,
            evaluation_time,
            last_evaluation,
            kind: "recording",
        }),
        RuleStatusKind::Alerting {
            state,
            hold,
            keep_firing_for,
            annotations,
            alerts,
        } => RuleJson::Alerting(AlertingRuleJson {
            state: state.as_str().to_string(),
            name: r.name.clone(),
            query: r.query.clone(),
            duration: hold.as_secs_f64(),
            keep_firing_for: keep_firing_for.as_secs_f64(),
            labels: r.labels.clone(),
            annotations: annotations.clone(),
            alerts: (!exclude_alerts).then(|| alerts.iter().map(alert_json).collect()),
            health,
            last_error,
            evaluation_time,
            last_evaluation,
            kind: "alerting",
        }),
    }
}

/// `/api/v1/rules` data for `groups` (any order; sorted here by file then name).
pub fn rules_data(groups: &[&GroupStatus], q: &RulesQuery) -> Result<RuleDiscovery, ParamError> {
    let mut sorted: Vec<&GroupStatus> = groups.to_vec();
    sorted.sort_by(|a, b| (&a.file, &a.name).cmp(&(&b.file, &b.name)));
    let mut out = RuleDiscovery {
        groups: Vec::new(),
        group_next_token: None,
    };
    let mut found_token = false;
    for g in sorted {
        if let (Some(_), Some(token)) = (q.group_limit, &q.group_next_token)
            && !found_token
        {
            if *token != group_token(&g.file, &g.name) {
                continue;
            }
            found_token = true;
        }
        if !q.rule_groups.is_empty() && !q.rule_groups.contains(&g.name) {
            continue;
        }
        if !q.files.is_empty() && !q.files.contains(&g.file) {
            continue;
        }
        let rules: Vec<RuleJson> = g
            .rules
            .iter()
            .filter(|r| q.rule_matches(r))
            .map(|r| rule_json(r, q.exclude_alerts))
            .collect();
        // A group whose rules were all filtered out is not shown.
        if rules.is_empty() {
            continue;
        }
        if q.group_limit.is_some_and(|l| out.groups.len() == l) {
            out.group_next_token = Some(group_token(&g.file, &g.name));
            break;
        }
        out.groups.push(RuleGroupJson {
            name: g.name.clone(),
            file: g.file.clone(),
            rules,
            interval: g.interval.as_secs_f64(),
            limit: g.limit,
            evaluation_time: g.evaluation_time.as_secs_f64(),
            last_evaluation: rfc3339_nano(g.last_evaluation),
        });
    }
    if let (Some(_), Some(token)) = (q.group_limit, &q.group_next_token)
        && !found_token
    {
        return Err(param_err(
            "group_next_token",
            format!("invalid group_next_token '{token}'. were rule groups changed?"),
        ));
    }
    Ok(out)
}

/// `/api/v1/alerts` data: the pending and firing alerts of every alerting rule.
pub fn alerts_data(groups: &[&GroupStatus]) -> AlertDiscovery {
    let mut sorted: Vec<&GroupStatus> = groups.to_vec();
    sorted.sort_by(|a, b| (&a.file, &a.name).cmp(&(&b.file, &b.name)));
    let alerts = sorted
        .iter()
        .flat_map(|g| &g.rules)
        .filter_map(|r| match &r.kind {
            RuleStatusKind::Alerting { alerts, .. } => Some(alerts),
            RuleStatusKind::Recording => None,
        })
        .flatten()
        .map(alert_json)
        .collect();
    AlertDiscovery { alerts }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;
    use crate::alerting::AlertState;
    use crate::rule::{EvalRecord, RuleHealth};

    fn status() -> GroupStatus {
        let alert = Alert {
            state: AlertState::Firing,
            labels: Labels::from_pairs([("alertname", "Down"), ("job", "x")]),
            annotations: Labels::from_pairs([("summary", "x is down")]),
            value: 0.0,
            active_at: 1_700_000_000_500,
            fired_at: Some(1_700_000_060_000),
            resolved_at: None,
            last_sent_at: None,
            valid_until: None,
            keep_firing_since: None,
        };
        let record = EvalRecord {
            health: RuleHealth::Good,
            last_error: None,
            duration: Duration::from_millis(2),
            timestamp: Some(UNIX_EPOCH + Duration::from_secs(1_700_000_060)),
        };
        GroupStatus {
            name: "g".into(),
            file: "r.yml".into(),
            interval: Duration::from_secs(60),
            limit: 0,
            evaluation_time: Duration::from_millis(3),
            last_evaluation: Some(UNIX_EPOCH + Duration::from_secs(1_700_000_060)),
            rules: vec![
                RuleStatus {
                    name: "Down".into(),
                    query: "up == 0".into(),
                    labels: BTreeMap::from([("severity".to_string(), "page".to_string())]),
                    record: record.clone(),
                    kind: RuleStatusKind::Alerting {
                        state: AlertState::Firing,
                        hold: Duration::from_secs(300),
                        keep_firing_for: Duration::ZERO,
                        annotations: BTreeMap::from([(
                            "summary".to_string(),
                            "{{ $labels.job }} is down".to_string(),
                        )]),
                        alerts: vec![alert],
                    },
                },
                RuleStatus {
                    name: "job:up:sum".into(),
                    query: "sum by (job) (up)".into(),
                    labels: BTreeMap::new(),
                    record: EvalRecord {
                        health: RuleHealth::Bad,
                        last_error: Some("boom".into()),
                        ..record
                    },
                    kind: RuleStatusKind::Recording,
                },
            ],
        }
    }

    #[test]
    fn rules_serialise_as_prometheus_does() {
        let s = status();
        let data = rules_data(&[&s], &RulesQuery::default()).expect("valid");
        let json = serde_json::to_string(&data).expect("serialises");
        assert_eq!(
            json,
            concat!(
                r#"{"groups":[{"name":"g","file":"r.yml","rules":["#,
                r#"{"state":"firing","name":"Down","query":"up == 0","duration":300,"keepFiringFor":0,"#,
                r#""labels":{"severity":"page"},"annotations":{"summary":"{{ $labels.job }} is down"},"#,
                r#""alerts":[{"labels":{"alertname":"Down","job":"x"},"annotations":{"summary":"x is down"},"#,
                r#""state":"firing","activeAt":"2023-11-14T22:13:20.5Z","value":"0e+00"}],"#,
                r#""health":"ok","evaluationTime":0.002,"lastEvaluation":"2023-11-14T22:14:20Z","type":"alerting"},"#,
                r#"{"name":"job:up:sum","query":"sum by (job) (up)","labels":{},"health":"err","lastError":"boom","#,
                r#""evaluationTime":0.002,"lastEvaluation":"2023-11-14T22:14:20Z","type":"recording"}],"#,
                r#""interval":60,"limit":0,"evaluationTime":0.003,"lastEvaluation":"2023-11-14T22:14:20Z"}]}"#
            )
        );
        let alerts = serde_json::to_string(&alerts_data(&[&s])).expect("serialises");
        assert_eq!(
            alerts,
            r#"{"alerts":[{"labels":{"alertname":"Down","job":"x"},"annotations":{"summary":"x is down"},"state":"firing","activeAt":"2023-11-14T22:13:20.5Z","value":"0e+00"}]}"#
        );
    }

    #[test]
    fn filters_and_pages() {
        let s = status();
        let q = |params: &[(&str, &str)]| RulesQuery::from_params(params.iter().copied());
        let only_rec = q(&[("type", "record")]).expect("valid");
        let d = rules_data(&[&s], &only_rec).expect("valid");
        assert_eq!(d.groups[0].rules.len(), 1);
        let excl = q(&[("exclude_alerts", "true")]).expect("valid");
        let json = serde_json::to_value(rules_data(&[&s], &excl).expect("valid")).expect("json");
        assert!(json["groups"][0]["rules"][0]["alerts"].is_null());
        let by_label = q(&[("match[]", "{severity=\"page\"}")]).expect("valid");
        assert_eq!(
            rules_data(&[&s], &by_label).expect("valid").groups[0]
                .rules
                .len(),
            1
        );
        let none = q(&[("rule_group[]", "other")]).expect("valid");
        assert!(rules_data(&[&s], &none).expect("valid").groups.is_empty());

        let mut other = status();
        other.name = "h".into();
        let page = q(&[("group_limit", "1")]).expect("valid");
        let d = rules_data(&[&other, &s], &page).expect("valid");
        assert_eq!(d.groups[0].name, "g");
        let token = d.group_next_token.expect("a next page");
        let next = q(&[("group_limit", "1"), ("group_next_token", token.as_str())]).expect("valid");
        let d = rules_data(&[&other, &s], &next).expect("valid");
        assert_eq!((d.groups[0].name.as_str(), d.group_next_token), ("h", None));

        assert_eq!(
            q(&[("type", "x")]).expect_err("bad type").to_string(),
            "invalid parameter \"type\": not supported value \"x\""
        );
        assert_eq!(
            q(&[("group_next_token", "abc")])
                .expect_err("token alone")
                .to_string(),
            "invalid parameter \"group_next_token\": group_limit needs to be present in order to paginate over the groups"
        );
        let bad_token = q(&[("group_limit", "1"), ("group_next_token", "abc")]).expect("valid");
        assert!(rules_data(&[&s], &bad_token).is_err());
    }
}
