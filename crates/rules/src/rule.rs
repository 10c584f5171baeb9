//! What recording and alerting rules share: the parsed query, health and timing of the last
//! evaluation, and running the query through the engine.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use model::{FloatHistogram, Labels, Timestamp};
use promql::{Engine, ParsedQuery, QueryValue};
use storage::Queryable;

/// Health of a rule after its last evaluation (Prometheus's `health` field).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RuleHealth {
    /// Not evaluated yet.
    #[default]
    Unknown,
    /// The last evaluation succeeded.
    Good,
    /// The last evaluation failed.
    Bad,
}

impl RuleHealth {
    /// `unknown`, `ok` or `err`, as the HTTP API writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleHealth::Unknown => "unknown",
            RuleHealth::Good => "ok",
            RuleHealth::Bad => "err",
        }
    }
}

/// The outcome of a rule's last evaluation, kept for the API.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EvalRecord {
    /// Health.
    pub health: RuleHealth,
    /// The last error, when unhealthy.
    pub last_error: Option<String>,
    /// How long the last evaluation took.
    pub duration: Duration,
    /// When (wall clock) the last evaluation started; `None` before the first.
    pub timestamp: Option<SystemTime>,
}

impl EvalRecord {
    /// Marks the rule healthy.
    pub(crate) fn ok(&mut self) {
        self.health = RuleHealth::Good;
        self.last_error = None;
    }

    /// Marks the rule failed with `err`.
    pub(crate) fn fail(&mut self, err: impl Into<String>) {
        self.health = RuleHealth::Bad;
        self.last_error = Some(err.into());
    }
}

/// One element of a rule's result: a series and its value at the evaluation time.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultSample {
    /// Labels.
    pub labels: Labels,
    /// Timestamp, ms.
    pub t: Timestamp,
    /// Value (0 for a histogram sample, which is what an alert's `$value` then is,
    /// as in Prometheus).
    pub v: f64,
    /// The histogram of a histogram sample (a recording rule records it as one).
    pub h: Option<Arc<FloatHistogram>>,
}

/// A rule's query, parsed once.
#[derive(Debug, Clone)]
pub(crate) struct RuleQuery {
    /// The AST and text.
    pub parsed: Arc<ParsedQuery>,
    /// The expression as Prometheus prints it (the API's `query`, the generator URL).
    pub text: String,
}

impl RuleQuery {
    /// Parses `expr` (validated rule files always parse).
    pub fn new(expr: &str) -> Result<Self, String> {
        let parsed = promql::parse_shared(expr).map_err(|e| e.to_string())?;
        let text = parsed.expr.to_string();
        Ok(RuleQuery { parsed, text })
    }

    /// Evaluates the query at `t`: a vector, or a scalar as one sample without labels.
    pub fn run(
        &self,
        engine: &Engine,
        queryable: &dyn Queryable,
        t: Timestamp,
    ) -> Result<Vec<ResultSample>, String> {
        run_query(engine, queryable, &self.parsed, t)
    }
}

/// Evaluates an instant query for a rule (Prometheus's `EngineQueryFunc`).
pub(crate) fn run_query(
    engine: &Engine,
    queryable: &dyn Queryable,
    parsed: &ParsedQuery,
    t: Timestamp,
) -> Result<Vec<ResultSample>, String> {
    let res = engine
        .instant_parsed(queryable, parsed, t, None)
        .map_err(|e| e.to_string())?;
    match res.value {
        QueryValue::Vector(v) => Ok(v
            .into_iter()
            .map(|s| ResultSample {
                labels: s.labels,
                t: s.t,
                v: s.v,
                h: s.h,
            })
            .collect()),
        QueryValue::Scalar(t, v) => Ok(vec![ResultSample {
            labels: Labels::empty(),
            t,
            v,
            h: None,
        }]),
        _ => Err("rule result is not a vector or scalar".to_string()),
    }
}

/// Rule labels as a label set (empty values dropped, as a label builder does).
pub(crate) fn labels_of(map: &std::collections::BTreeMap<String, String>) -> Labels {
    Labels::from_pairs(map.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_print_as_prometheus_prints_them() {
        for (written, printed) in [
            (
                "sum without(instance) (count_over_time(test[1m]))",
                "sum without (instance) (count_over_time(test[1m]))",
            ),
            ("up{job=\"a\"}   ==   0", "up{job=\"a\"} == 0"),
            (
                "histogram_quantile(0.99, sum by(le) (rate(x_bucket[5m])))",
                "histogram_quantile(0.99, sum by (le) (rate(x_bucket[5m])))",
            ),
            ("count_over_time(up[5m:])", "count_over_time(up[5m:])"),
        ] {
            let q = RuleQuery::new(written).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(q.text, printed);
        }
    }
}
