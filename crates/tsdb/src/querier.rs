//! The read path: select series by matchers over a time range, label names and values,
//! metadata. Samples are copied out per series so ingestion is held up only briefly.

use std::collections::BTreeSet;
use std::sync::Arc;

use model::{Matcher, MetricMetadata, Timestamp};
use storage::{Querier, Queryable, SelectHints, Series, StorageError};

use crate::db::{Db, Inner};

impl Queryable for Db {
    fn querier(&self, mint: Timestamp, maxt: Timestamp) -> Result<Box<dyn Querier>, StorageError> {
        Ok(Box::new(DbQuerier {
            inner: Arc::clone(&self.inner),
            mint,
            maxt,
        }))
    }

    fn status(&self, limit: usize) -> Option<storage::TsdbStatus> {
        Some(self.inner.head.status(limit))
    }
}

/// A view of the head over `[mint, maxt]`.
struct DbQuerier {
    inner: Arc<Inner>,
    mint: Timestamp,
    maxt: Timestamp,
}

impl DbQuerier {
    /// The querier's range narrowed by the hints; all-zero hints (the default) mean none.
    fn range(&self, hints: &SelectHints) -> (Timestamp, Timestamp) {
        if hints.start == 0 && hints.end == 0 {
            (self.mint, self.maxt)
        } else {
            (self.mint.max(hints.start), self.maxt.min(hints.end))
        }
    }
}

/// Keeps at most `limit` items (0 = all).
fn cap<T>(mut v: Vec<T>, limit: usize) -> Vec<T> {
    if limit > 0 {
        v.truncate(limit);
    }
    v
}

impl Querier for DbQuerier {
    fn select(
        &self,
        hints: &SelectHints,
        matchers: &[Matcher],
    ) -> Result<Vec<Series>, StorageError> {
        let (mint, maxt) = self.range(hints);
        let mut out: Vec<Series> = self
            .inner
            .head
            .select(matchers)
            .into_iter()
            .filter_map(|s| {
                let samples = s.range(mint, maxt);
                (!samples.is_empty()).then(|| Series {
                    labels: s.to_labels(),
                    samples,
                })
            })
            .collect();
        out.sort_by(|a, b| a.labels.cmp(&b.labels));
        Ok(cap(out, hints.limit))
    }

    fn series(
        &self,
        hints: &SelectHints,
        matchers: &[Matcher],
    ) -> Result<Vec<model::Labels>, StorageError> {
        let (mint, maxt) = self.range(hints);
        let mut out: Vec<model::Labels> = self
            .inner
            .head
            .select(matchers)
            .into_iter()
            .filter(|s| s.has_range(mint, maxt))
            .map(|s| s.to_labels())
            .collect();
        out.sort();
        Ok(cap(out, hints.limit))
    }

    fn label_names(
        &self,
        hints: &SelectHints,
        matchers: &[Matcher],
    ) -> Result<Vec<String>, StorageError> {
        let (mint, maxt) = self.range(hints);
        let head = &self.inner.head;
        let out: Vec<String> = if matchers.is_empty() {
            head.names_where(|s| s.has_range(mint, maxt))
        } else {
            let mut names = BTreeSet::new();
            for s in head.select(matchers) {
                if s.has_range(mint, maxt) {
                    names.extend(s.labels.iter().map(|(n, _)| Arc::clone(n)));
                }
            }
            names.into_iter().map(|n| n.to_string()).collect()
        };
        Ok(cap(out, hints.limit))
    }

    fn label_values(
        &self,
        hints: &SelectHints,
        name: &str,
        matchers: &[Matcher],
    ) -> Result<Vec<String>, StorageError> {
        let (mint, maxt) = self.range(hints);
        let head = &self.inner.head;
        let out: Vec<String> = if matchers.is_empty() {
            head.values_where(name, |s| s.has_range(mint, maxt))
        } else {
            let mut values = BTreeSet::new();
            for s in head.select(matchers) {
                if let Some(v) = s.label(name)
                    && s.has_range(mint, maxt)
                {
                    values.insert(Arc::clone(v));
                }
            }
            values.into_iter().map(|v| v.to_string()).collect()
        };
        Ok(cap(out, hints.limit))
    }

    fn metadata(&self, metric: Option<&str>, limit: usize) -> Vec<(String, MetricMetadata)> {
        self.inner.head.metadata(metric, limit)
    }
}
