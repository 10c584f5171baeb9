//! Turning one scraped page into appended samples: labels, limits, staleness markers,
//! metadata and the `up`/`scrape_*` report series, as Prometheus's scrape loop does.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use exposition::{Entry, Format, Mode, Parser};
use model::{Labels, MetricMetadata, Timestamp, stale_nan};
use relabel::RelabelConfig;
use storage::{Appender, StorageError};

use crate::client::Fetched;
use crate::cluster::ClusterLabel;
use crate::error::ScrapeError;
use crate::series::{report_labels, sample_labels};

/// Names of the series written after every scrape.
pub const REPORT_METRICS: [&str; 5] = [
    "up",
    "scrape_duration_seconds",
    "scrape_samples_scraped",
    "scrape_samples_post_metric_relabeling",
    "scrape_series_added",
];

/// What a job's samples go through between page and store.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SampleRules {
    /// Scraped labels win over target labels.
    pub honor_labels: bool,
    /// Use exposed timestamps.
    pub honor_timestamps: bool,
    /// Also mark series with exposed timestamps stale when they go away.
    pub track_timestamps_staleness: bool,
    /// `metric_relabel_configs`.
    pub metric_relabel: Vec<RelabelConfig>,
    /// Samples per scrape after relabelling (0 = none).
    pub sample_limit: u64,
    /// Labels per series (0 = none).
    pub label_limit: u64,
    /// Label name length (0 = none).
    pub label_name_length_limit: u64,
    /// Label value length (0 = none).
    pub label_value_length_limit: u64,
    /// The cluster stamp.
    pub cluster: ClusterLabel,
}

/// What a target's loop remembers between scrapes.
#[derive(Debug, Default)]
pub struct ScrapeCache {
    /// Series of the previous scrape that get a stale marker when they go away.
    tracked: HashSet<Labels>,
    /// Every series of the previous scrape (for `scrape_series_added`).
    seen: HashSet<Labels>,
    /// Metadata last handed to the store, per family.
    metadata: HashMap<String, MetricMetadata>,
}

/// Counts of one scrape for the report series.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Samples on the page.
    pub scraped: u64,
    /// Samples left after metric relabelling.
    pub post_relabel: u64,
    /// Series not seen in the previous scrape.
    pub series_added: u64,
}

/// Appends the samples of `page` at scrape time `ts`. On error nothing of the page should
/// be committed: the caller rolls back and calls [`append_failure`]. The counts are filled
/// either way, as Prometheus reports them.
pub fn append_page(
    app: &mut dyn Appender,
    cache: &mut ScrapeCache,
    rules: &SampleRules,
    target: &Labels,
    page: &Fetched,
    ts: Timestamp,
    counts: &mut Counts,
) -> Result<(), ScrapeError> {
    let format = Format::from_content_type(page.content_type.as_deref());
    let mut parser = Parser::new(&page.body, format, Mode::Scrape);
    let mut tracked = HashSet::new();
    let mut seen = HashSet::new();
    let mut metadata: HashMap<String, MetricMetadata> = HashMap::new();
    let mut limit_hit = false;
    while let Some(entry) = parser.next() {
        match entry? {
            Entry::Help { name, help } => {
                metadata.entry(name.into_owned()).or_default().help = help.into_owned();
            }
            Entry::Type { name, metric_type } => {
                metadata.entry(name.into_owned()).or_default().metric_type = metric_type;
            }
            Entry::Unit { name, unit } => {
                metadata.entry(name.into_owned()).or_default().unit = unit.into_owned();
            }
            Entry::Comment(_) | Entry::Eof => {}
            Entry::Sample(s) => {
                counts.scraped += 1;
                let t = match s.timestamp {
                    Some(t) if rules.honor_timestamps => t,
                    _ => ts,
                };
                let explicit = rules.honor_timestamps && s.timestamp.is_some();
                let Some(lset) = sample_labels(
                    s.to_labels(),
                    target,
                    rules.honor_labels,
                    &rules.metric_relabel,
                    &rules.cluster,
                ) else {
                    continue;
                };
                check_labels(&lset, rules)?;
                counts.post_relabel += 1;
                if rules.sample_limit > 0 && counts.post_relabel > rules.sample_limit {
                    // Keep parsing so that the report counts every sample on the page.
                    limit_hit = true;
                    continue;
                }
                if limit_hit {
                    continue;
                }
                match app.append(&lset, t, s.value) {
                    Ok(_) => {}
                    // One bad sample (out of order, duplicate) does not fail the scrape.
                    Err(e) if e.is_sample_error() => {
                        tracing::debug!(series = %lset, error = %e, "sample refused");
                        continue;
                    }
                    Err(e) => return Err(ScrapeError::Storage(e.to_string())),
                }
                if !explicit || rules.track_timestamps_staleness {
                    tracked.insert(lset.clone());
                }
                if !cache.seen.contains(&lset) && !seen.contains(&lset) {
                    counts.series_added += 1;
                }
                seen.insert(lset);
            }
        }
    }
    if limit_hit {
        return Err(ScrapeError::SampleLimit(rules.sample_limit));
    }
    for (name, meta) in metadata {
        if cache.metadata.get(&name) != Some(&meta) {
            app.update_metadata(&name, &meta)
                .map_err(|e| ScrapeError::Storage(e.to_string()))?;
            cache.metadata.insert(name, meta);
        }
    }
    mark_stale(app, &cache.tracked, Some(&tracked), ts)?;
    cache.tracked = tracked;
    cache.seen = seen;
    Ok(())
}

/// After a failed scrape: every series of the previous scrape gets a stale marker.
pub fn append_failure(
    app: &mut dyn Appender,
    cache: &mut ScrapeCache,
    ts: Timestamp,
) -> Result<(), ScrapeError> {
    mark_stale(app, &cache.tracked, None, ts)?;
    cache.tracked.clear();
    cache.seen.clear();
    Ok(())
}

fn mark_stale(
    app: &mut dyn Appender,
    prev: &HashSet<Labels>,
    cur: Option<&HashSet<Labels>>,
    ts: Timestamp,
) -> Result<(), ScrapeError> {
    for lset in prev {
        if cur.is_some_and(|c| c.contains(lset)) {
            continue;
        }
        match app.append(lset, ts, stale_nan()) {
            Ok(_) => {}
            Err(e) if e.is_sample_error() => {}
            Err(e) => return Err(ScrapeError::Storage(e.to_string())),
        }
    }
    Ok(())
}

fn check_labels(lset: &Labels, rules: &SampleRules) -> Result<(), ScrapeError> {
    let Some(metric) = lset.metric_name() else {
        return Err(ScrapeError::NameMissing);
    };
    if rules.label_limit > 0 && lset.len() as u64 > rules.label_limit {
        return Err(ScrapeError::LabelLimit {
            metric: metric.to_string(),
            count: lset.len(),
            limit: rules.label_limit,
        });
    }
    for l in lset {
        if rules.label_name_length_limit > 0 && l.name.len() as u64 > rules.label_name_length_limit
        {
            return Err(ScrapeError::LabelNameLength {
                metric: metric.to_string(),
                name: l.name.clone(),
                len: l.name.len(),
                limit: rules.label_name_length_limit,
            });
        }
        if rules.label_value_length_limit > 0
            && l.value.len() as u64 > rules.label_value_length_limit
        {
            return Err(ScrapeError::LabelValueLength {
                metric: metric.to_string(),
                name: l.name.clone(),
                value: l.value.clone(),
                len: l.value.len(),
                limit: rules.label_value_length_limit,
            });
        }
    }
    Ok(())
}

/// Appends `up` and the `scrape_*` series for one scrape.
pub fn append_report(
    app: &mut dyn Appender,
    target: &Labels,
    cluster: &ClusterLabel,
    ts: Timestamp,
    up: bool,
    duration: Duration,
    counts: Counts,
) -> Result<(), StorageError> {
    let values = [
        if up { 1.0 } else { 0.0 },
        duration.as_secs_f64(),
        counts.scraped as f64,
        counts.post_relabel as f64,
        counts.series_added as f64,
    ];
    for (name, v) in REPORT_METRICS.iter().zip(values) {
        report_sample(app, name, target, cluster, ts, v)?;
    }
    Ok(())
}

/// Stale markers for the report series of a target that goes away.
pub fn append_report_stale(
    app: &mut dyn Appender,
    target: &Labels,
    cluster: &ClusterLabel,
    ts: Timestamp,
) -> Result<(), StorageError> {
    for name in REPORT_METRICS {
        report_sample(app, name, target, cluster, ts, stale_nan())?;
    }
    Ok(())
}

fn report_sample(
    app: &mut dyn Appender,
    name: &str,
    target: &Labels,
    cluster: &ClusterLabel,
    ts: Timestamp,
    v: f64,
) -> Result<(), StorageError> {
    match app.append(&report_labels(name, target, cluster), ts, v) {
        Ok(_) => Ok(()),
        Err(e) if e.is_sample_error() => Ok(()),
        Err(e) => Err(e),
    }
}
