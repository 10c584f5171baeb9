//! The read path: select series by matchers over a time range, label names and values,
//! metadata. The head is read first, then the blocks and the chunks in flight to a block
//! (a sample moves head -> in flight -> block, so reading in that order never misses
//! it); samples found in several places are kept once. Samples are copied out so
//! ingestion is held up only briefly, and a select that would copy more than
//! `max_samples_per_select` fails instead.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use model::{Labels, Matcher, MetricMetadata, Sample, Timestamp};
use storage::{Querier, Queryable, SelectHints, Series, StorageError};

use crate::block::{Block, BlockSeries};
use crate::compact::encode;
use crate::db::{Db, Inner};
use crate::head::series::MemSeries;
use crate::persisted::Persisted;

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

/// A view of the database over `[mint, maxt]`.
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

/// Counts samples against the per-select budget.
struct Budget {
    left: usize,
    max: usize,
}

impl Budget {
    fn take(&mut self, n: usize) -> Result<(), StorageError> {
        match self.left.checked_sub(n) {
            Some(rest) => {
                self.left = rest;
                Ok(())
            }
            None => Err(StorageError::Other(format!(
                "query processing would load too many samples into memory: more than {} in one select",
                self.max
            ))),
        }
    }
}

/// Samples of a block series in `[mint, maxt]`, decoding only overlapping chunks.
fn block_samples(
    block: &Block,
    series: &BlockSeries,
    mint: Timestamp,
    maxt: Timestamp,
    budget: &mut Budget,
) -> Result<Vec<Sample>, StorageError> {
    let mut out = Vec::new();
    for c in series
        .chunks
        .iter()
        .filter(|c| c.min_t <= maxt && c.max_t >= mint)
    {
        budget.take(c.samples as usize)?;
        let from = out.len();
        block.decode_chunk(c, &mut out)?;
        // Keep only the part in range (chunks are sorted, so trim at both ends).
        let keep_from = from + out[from..].partition_point(|s| s.t < mint);
        let keep_to = from + out[from..].partition_point(|s| s.t <= maxt);
        out.truncate(keep_to);
        out.drain(from..keep_from);
    }
    Ok(out)
}

/// Whether a head series has samples in `[mint, maxt]`, in the head or in flight to a block.
fn head_in_range(
    persisted: &Persisted,
    mint: Timestamp,
    maxt: Timestamp,
) -> impl Fn(&MemSeries) -> bool + '_ {
    let pending = persisted.pending.as_deref();
    move |s| s.has_range(mint, maxt) || pending.is_some_and(|p| p.has_range(s.id, mint, maxt))
}

impl DbQuerier {
    /// Calls `visit` with every label pair of every series matching `matchers`: head
    /// series with samples in `[mint, maxt]`, and series of blocks overlapping it.
    fn each_matching(
        &self,
        mint: Timestamp,
        maxt: Timestamp,
        matchers: &[Matcher],
        mut visit: impl FnMut(&str, &str),
    ) -> Result<(), StorageError> {
        let persisted = self.inner.persisted();
        let in_range = head_in_range(&persisted, mint, maxt);
        for s in self.inner.head.select(matchers) {
            if in_range(&s) {
                for (n, v) in s.labels.iter(self.inner.head.symbols()) {
                    visit(n, v);
                }
            }
        }
        for b in persisted.overlapping(mint, maxt) {
            for s in b.select(matchers)? {
                for l in s.labels.iter() {
                    visit(&l.name, &l.value);
                }
            }
        }
        Ok(())
    }
}

impl Querier for DbQuerier {
    fn select(
        &self,
        hints: &SelectHints,
        matchers: &[Matcher],
    ) -> Result<Vec<Series>, StorageError> {
        let (mint, maxt) = self.range(hints);
        let max = self.inner.opts.max_samples_per_select;
        let mut budget = Budget { left: max, max };
        let head_series = self.inner.head.select(matchers);
        let mut head_runs = Vec::with_capacity(head_series.len());
        for (i, s) in head_series.iter().enumerate() {
            let samples = s.range(mint, maxt);
            if !samples.is_empty() {
                budget.take(samples.len())?;
                head_runs.push((i, samples));
            }
        }
        // After the head, so that a sample moving out of it meanwhile is found here.
        let persisted: Arc<Persisted> = self.inner.persisted();
        let limit = if hints.limit == 0 {
            usize::MAX
        } else {
            hints.limit
        };
        if persisted.pending.is_none() && persisted.overlapping(mint, maxt).next().is_none() {
            // Only the head holds the range (recent data, what dashboards
            // read): one run per series, nothing to merge.
            let mut out: Vec<Series> = head_runs
                .into_iter()
                .map(|(i, samples)| {
                    Series::floats(head_series[i].to_labels(self.inner.head.symbols()), samples)
                })
                .collect();
            out.sort_unstable_by(|a, b| a.labels.cmp(&b.labels));
            out.truncate(limit);
            return Ok(out);
        }
        let mut runs: BTreeMap<Labels, Vec<Vec<Sample>>> = BTreeMap::new();
        for (i, samples) in head_runs {
            runs.entry(head_series[i].to_labels(self.inner.head.symbols()))
                .or_default()
                .push(samples);
        }
        if let Some(p) = &persisted.pending {
            for s in &head_series {
                let samples = p.samples(s.id, mint, maxt);
                if !samples.is_empty() {
                    budget.take(samples.len())?;
                    runs.entry(s.to_labels(self.inner.head.symbols()))
                        .or_default()
                        .push(samples);
                }
            }
        }
        for b in persisted.overlapping(mint, maxt) {
            for s in b.select(matchers)? {
                let samples = block_samples(b, &s, mint, maxt, &mut budget)?;
                if !samples.is_empty() {
                    runs.entry(s.labels).or_default().push(samples);
                }
            }
        }
        Ok(runs
            .into_iter()
            .take(limit)
            .map(|(labels, runs)| Series::floats(labels, encode::merge(runs)))
            .collect())
    }

    fn series(
        &self,
        hints: &SelectHints,
        matchers: &[Matcher],
    ) -> Result<Vec<model::Labels>, StorageError> {
        let (mint, maxt) = self.range(hints);
        let head_series = self.inner.head.select(matchers);
        let persisted = self.inner.persisted();
        let in_range = head_in_range(&persisted, mint, maxt);
        let mut out: BTreeSet<Labels> = head_series
            .iter()
            .filter(|s| in_range(s))
            .map(|s| s.to_labels(self.inner.head.symbols()))
            .collect();
        for b in persisted.overlapping(mint, maxt) {
            for s in b.select(matchers)? {
                if s.chunks.iter().any(|c| c.min_t <= maxt && c.max_t >= mint) {
                    out.insert(s.labels);
                }
            }
        }
        Ok(cap(out.into_iter().collect(), hints.limit))
    }

    fn label_names(
        &self,
        hints: &SelectHints,
        matchers: &[Matcher],
    ) -> Result<Vec<String>, StorageError> {
        let (mint, maxt) = self.range(hints);
        let mut names: BTreeSet<String> = BTreeSet::new();
        if matchers.is_empty() {
            let persisted = self.inner.persisted();
            names.extend(
                self.inner
                    .head
                    .names_where(head_in_range(&persisted, mint, maxt)),
            );
            for b in persisted.overlapping(mint, maxt) {
                names.extend(b.label_names());
            }
        } else {
            self.each_matching(mint, maxt, matchers, |n, _| {
                names.insert(n.to_string());
            })?;
        }
        Ok(cap(names.into_iter().collect(), hints.limit))
    }

    fn label_values(
        &self,
        hints: &SelectHints,
        name: &str,
        matchers: &[Matcher],
    ) -> Result<Vec<String>, StorageError> {
        let (mint, maxt) = self.range(hints);
        let mut values: BTreeSet<String> = BTreeSet::new();
        if matchers.is_empty() {
            let persisted = self.inner.persisted();
            values.extend(
                self.inner
                    .head
                    .values_where(name, head_in_range(&persisted, mint, maxt)),
            );
            for b in persisted.overlapping(mint, maxt) {
                values.extend(b.label_values(name));
            }
        } else {
            self.each_matching(mint, maxt, matchers, |n, v| {
                if n == name {
                    values.insert(v.to_string());
                }
            })?;
        }
        Ok(cap(values.into_iter().collect(), hints.limit))
    }

    fn metadata(&self, metric: Option<&str>, limit: usize) -> Vec<(String, MetricMetadata)> {
        self.inner.head.metadata(metric, limit)
    }
}
