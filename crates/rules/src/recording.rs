//! Recording rules: evaluate, rename to `record`, add the rule's labels.

use std::collections::BTreeMap;

use model::{LabelsBuilder, METRIC_NAME_LABEL, Timestamp};
use promql::Engine;
use storage::Queryable;

use crate::rule::{EvalRecord, ResultSample, RuleQuery};

/// A recording rule and the outcome of its last evaluation.
#[derive(Debug, Clone)]
pub struct RecordingRule {
    pub(crate) name: String,
    pub(crate) query: RuleQuery,
    pub(crate) labels: BTreeMap<String, String>,
    pub(crate) record: EvalRecord,
}

impl RecordingRule {
    /// A rule recording `expr` as `name` with `labels` added.
    pub fn new(name: &str, expr: &str, labels: BTreeMap<String, String>) -> Result<Self, String> {
        Ok(RecordingRule {
            name: name.to_string(),
            query: RuleQuery::new(expr)?,
            labels,
            record: EvalRecord::default(),
        })
    }

    /// The metric name written.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The expression as Prometheus prints it.
    pub fn query(&self) -> &str {
        &self.query.text
    }

    /// The rule's labels.
    pub fn labels(&self) -> &BTreeMap<String, String> {
        &self.labels
    }

    /// Health and timing of the last evaluation.
    pub fn eval_record(&self) -> &EvalRecord {
        &self.record
    }

    /// Evaluates at `t` (already shifted by the query offset): the series to write, or why not.
    pub(crate) fn eval(
        &self,
        engine: &Engine,
        queryable: &dyn Queryable,
        t: Timestamp,
        limit: usize,
    ) -> Result<Vec<ResultSample>, String> {
        let mut out = self.query.run(engine, queryable, t)?;
        for s in &mut out {
            let mut b = LabelsBuilder::new(std::mem::take(&mut s.labels));
            b.set(METRIC_NAME_LABEL, self.name.as_str());
            // An empty value removes the label, as in Prometheus's label builder.
            for (k, v) in &self.labels {
                b.set(k.as_str(), v.as_str());
            }
            s.labels = b.build();
        }
        let mut seen = std::collections::HashSet::with_capacity(out.len());
        if !out.iter().all(|s| seen.insert(&s.labels)) {
            return Err(
                "vector contains metrics with the same labelset after applying rule labels"
                    .to_string(),
            );
        }
        if limit > 0 && out.len() > limit {
            return Err(format!(
                "exceeded limit of {limit} with {} series",
                out.len()
            ));
        }
        Ok(out)
    }
}
