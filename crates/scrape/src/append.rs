//! Turning one scraped page into appended samples: labels, limits, staleness markers,
//! metadata and the `up`/`scrape_*` report series, as Prometheus's scrape loop does.

use std::collections::HashMap;
use std::time::Duration;

use exposition::{Entry, Format, Mode, Parser};
use model::{Labels, MetricMetadata, Timestamp, stale_nan};
use relabel::RelabelConfig;
use storage::{Appender, StorageError};

use crate::client::Fetched;
use crate::cluster::ClusterLabel;
use crate::error::ScrapeError;
use crate::prehashed::HashMapU64;
use crate::series::{fast_sample_pairs, report_labels, sample_labels};

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
    /// Format of a page without `Content-Type` (`fallback_scrape_protocol`); text when unset.
    pub fallback_format: Option<Format>,
}

/// What a target's loop remembers between scrapes.
///
/// Kept small because an agent holds one per target for every series it scrapes: one map
/// keyed by label hash; only series that can go stale keep their labels, flattened into
/// one allocation ([`CompactLabels`]). Each scrape bumps `generation` and stamps the series it
/// sees, so a series is looked up once per scrape and never moved between maps.
#[derive(Debug, Default)]
pub struct ScrapeCache {
    /// Series of the last good scrape (plus, during a scrape, those seen so far).
    series: HashMapU64<CachedSeries>,
    /// Generation of the scrape in progress (or last finished).
    generation: u32,
    /// Metadata last handed to the store, per family.
    metadata: HashMap<String, MetricMetadata>,
}

/// One series in the [`ScrapeCache`].
#[derive(Debug)]
struct CachedSeries {
    /// Its labels, when it gets a stale marker on going away (exposed timestamps don't).
    labels: Option<CompactLabels>,
    /// The scrape generation that last saw it.
    generation: u32,
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
    let format = match (page.content_type.as_deref(), rules.fallback_format) {
        (None | Some(""), Some(f)) => f,
        (ct, _) => Format::from_content_type(ct),
    };
    let mut parser = Parser::new(&page.body, format, Mode::Scrape);
    cache.generation = cache.generation.wrapping_add(1);
    let cur = cache.generation;
    // Metadata of the family being read; families whose metadata changed since the last
    // scrape are collected and stored only once the page turns out good.
    let mut family = FamilyMeta::default();
    let mut changed: Vec<(String, MetricMetadata)> = Vec::new();
    let mut limit_hit = false;
    // Series first seen in this scrape; on error they leave the cache again, so that the
    // failure path marks exactly the previous scrape's series stale.
    let mut new_series: Vec<u64> = Vec::new();
    let mut scan = || -> Result<(), ScrapeError> {
        while let Some(entry) = parser.next() {
            match entry? {
                Entry::Help { name, help } => {
                    family.switch(&name, &cache.metadata, &mut changed);
                    family.meta.help.clear();
                    family.meta.help.push_str(&help);
                }
                Entry::Type { name, metric_type } => {
                    family.switch(&name, &cache.metadata, &mut changed);
                    family.meta.metric_type = metric_type;
                }
                Entry::Unit { name, unit } => {
                    family.switch(&name, &cache.metadata, &mut changed);
                    family.meta.unit.clear();
                    family.meta.unit.push_str(&unit);
                }
                Entry::Comment(_) | Entry::Eof => {}
                Entry::Sample(s) => {
                    counts.scraped += 1;
                    let t = match s.timestamp {
                        Some(t) if rules.honor_timestamps => t,
                        _ => ts,
                    };
                    let explicit = rules.honor_timestamps && s.timestamp.is_some();
                    let fast = fast_sample_pairs(
                        &s,
                        target,
                        rules.honor_labels,
                        &rules.metric_relabel,
                        &rules.cluster,
                    );
                    let series = match fast {
                        Some(pairs) => SeriesLabels::Pairs(pairs),
                        None => match sample_labels(
                            s.to_labels(),
                            target,
                            rules.honor_labels,
                            &rules.metric_relabel,
                            &rules.cluster,
                        ) {
                            Some(l) => SeriesLabels::Owned(l),
                            None => continue,
                        },
                    };
                    series.check(rules)?;
                    counts.post_relabel += 1;
                    if rules.sample_limit > 0 && counts.post_relabel > rules.sample_limit {
                        // Keep parsing so that the report counts every sample on the page.
                        limit_hit = true;
                        continue;
                    }
                    if limit_hit {
                        continue;
                    }
                    let hash = series.hash();
                    let slot = cache.series.get_mut(&hash);
                    if !explicit && slot.as_ref().is_some_and(|e| e.generation == cur) {
                        // The same series twice on a page at the scrape time: Prometheus drops
                        // the repeat as a duplicate sample without failing the scrape.
                        tracing::debug!(series = %series.compact().to_labels(), "duplicate series on the page");
                        continue;
                    }
                    match series.append(app, t, s.value) {
                        Ok(_) => {}
                        // One bad sample (out of order, duplicate) does not fail the scrape.
                        Err(e) if e.is_sample_error() => {
                            tracing::debug!(series = %series.compact().to_labels(), error = %e, "sample refused");
                            continue;
                        }
                        Err(e) => return Err(ScrapeError::Storage(e.to_string())),
                    }
                    let stale_tracked = !explicit || rules.track_timestamps_staleness;
                    match slot {
                        Some(e) => {
                            e.generation = cur;
                            if !stale_tracked {
                                e.labels = None;
                            } else if e.labels.is_none() {
                                e.labels = Some(series.compact());
                            }
                        }
                        None => {
                            counts.series_added += 1;
                            new_series.push(hash);
                            cache.series.insert(
                                hash,
                                CachedSeries {
                                    labels: stale_tracked.then(|| series.compact()),
                                    generation: cur,
                                },
                            );
                        }
                    }
                }
            }
        }
        if limit_hit {
            return Err(ScrapeError::SampleLimit(rules.sample_limit));
        }
        family.switch("", &cache.metadata, &mut changed);
        Ok(())
    };
    if let Err(e) = scan() {
        for hash in new_series {
            cache.series.remove(&hash);
        }
        return Err(e);
    }
    for (name, meta) in changed {
        app.update_metadata(&name, &meta)
            .map_err(|e| ScrapeError::Storage(e.to_string()))?;
        cache.metadata.insert(name, meta);
    }
    // Series not stamped with this generation were not on the page: stale, and forgotten.
    let mut failed = None;
    cache.series.retain(|_, e| {
        if e.generation == cur {
            return true;
        }
        if let (Some(labels), None) = (&e.labels, &failed) {
            failed = mark_stale(app, labels, ts).err();
        }
        false
    });
    failed.map_or(Ok(()), Err)
}

/// After a failed scrape: every series of the previous scrape gets a stale marker.
pub fn append_failure(
    app: &mut dyn Appender,
    cache: &mut ScrapeCache,
    ts: Timestamp,
) -> Result<(), ScrapeError> {
    let result = cache
        .series
        .values()
        .filter_map(|e| e.labels.as_ref())
        .try_for_each(|labels| mark_stale(app, labels, ts));
    cache.series.clear();
    result
}

/// Appends a stale marker for one series; a refused sample is not an error.
fn mark_stale(
    app: &mut dyn Appender,
    labels: &CompactLabels,
    ts: Timestamp,
) -> Result<(), ScrapeError> {
    match app.append(&labels.to_labels(), ts, stale_nan()) {
        Ok(_) => Ok(()),
        Err(e) if e.is_sample_error() => Ok(()),
        Err(e) => Err(ScrapeError::Storage(e.to_string())),
    }
}

/// The metadata lines of the family being read, in buffers reused across families so a
/// page whose metadata did not change allocates nothing for it.
#[derive(Default)]
struct FamilyMeta {
    name: String,
    meta: MetricMetadata,
}

impl FamilyMeta {
    /// Moves on to family `name` (no-op if it is the current one); the finished family
    /// is queued in `changed` when it differs from what the cache last stored.
    fn switch(
        &mut self,
        name: &str,
        cache: &HashMap<String, MetricMetadata>,
        changed: &mut Vec<(String, MetricMetadata)>,
    ) {
        if self.name == name {
            return;
        }
        if !self.name.is_empty() && cache.get(self.name.as_str()) != Some(&self.meta) {
            changed.push((self.name.clone(), self.meta.clone()));
        }
        self.name.clear();
        self.name.push_str(name);
        self.meta.help.clear();
        self.meta.unit.clear();
        self.meta.metric_type = model::MetricType::Unknown;
    }
}

/// A label set flattened into one allocation: `name 0xff value 0xff ...`.
/// 0xff never occurs in UTF-8, so the separators are unambiguous.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompactLabels(Box<[u8]>);

impl CompactLabels {
    /// Flattens `lset`.
    pub fn new(lset: &Labels) -> Self {
        Self::from_pairs(lset.iter().map(|l| (l.name.as_str(), l.value.as_str())))
    }

    /// Flattens (name, value) pairs sorted by name.
    pub fn from_pairs<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> Self {
        let mut v = Vec::new();
        for (n, val) in pairs {
            v.extend_from_slice(n.as_bytes());
            v.push(0xff);
            v.extend_from_slice(val.as_bytes());
            v.push(0xff);
        }
        CompactLabels(v.into_boxed_slice())
    }

    /// The label set back.
    pub fn to_labels(&self) -> Labels {
        let mut parts = self.0.split(|b| *b == 0xff);
        let mut out = Vec::new();
        while let (Some(n), Some(v)) = (parts.next(), parts.next()) {
            // The bytes came from `&str`s and were split at separators that UTF-8 never
            // contains, so each part is valid UTF-8; lossy conversion never replaces anything.
            out.push(model::Label::new(
                String::from_utf8_lossy(n).into_owned(),
                String::from_utf8_lossy(v).into_owned(),
            ));
        }
        Labels::from_sorted(out)
    }
}

/// Iterator over either representation of [`SeriesLabels`].
enum PairsIter<'a> {
    Pairs(std::slice::Iter<'a, (&'a str, &'a str)>),
    Owned(std::slice::Iter<'a, model::Label>),
}

impl<'a> Iterator for PairsIter<'a> {
    type Item = (&'a str, &'a str);
    fn next(&mut self) -> Option<Self::Item> {
        match self {
            PairsIter::Pairs(i) => i.next().copied(),
            PairsIter::Owned(i) => i.next().map(|l| (l.name.as_str(), l.value.as_str())),
        }
    }
}

/// The labels of one scraped series: borrowed pairs on the fast path, or built.
enum SeriesLabels<'a> {
    Pairs(Vec<(&'a str, &'a str)>),
    Owned(Labels),
}

impl SeriesLabels<'_> {
    /// The labels as (name, value) pairs; no allocation, as this runs for every sample.
    fn pairs(&self) -> PairsIter<'_> {
        match self {
            SeriesLabels::Pairs(p) => PairsIter::Pairs(p.iter()),
            SeriesLabels::Owned(l) => PairsIter::Owned(l.iter()),
        }
    }

    fn len(&self) -> usize {
        match self {
            SeriesLabels::Pairs(p) => p.len(),
            SeriesLabels::Owned(l) => l.len(),
        }
    }

    fn hash(&self) -> u64 {
        match self {
            SeriesLabels::Pairs(p) => model::hash_label_pairs(p.iter().copied()),
            SeriesLabels::Owned(l) => l.stable_hash(),
        }
    }

    fn compact(&self) -> CompactLabels {
        CompactLabels::from_pairs(self.pairs())
    }

    fn append(
        &self,
        app: &mut dyn Appender,
        t: Timestamp,
        v: f64,
    ) -> Result<model::SeriesRef, StorageError> {
        match self {
            SeriesLabels::Pairs(p) => app.append_pairs(p, t, v),
            SeriesLabels::Owned(l) => app.append(l, t, v),
        }
    }

    /// Prometheus's per-series limits: a metric name, label count, name and value lengths.
    fn check(&self, rules: &SampleRules) -> Result<(), ScrapeError> {
        let Some(metric) = self
            .pairs()
            .find(|(n, _)| *n == model::METRIC_NAME_LABEL)
            .map(|(_, v)| v)
        else {
            return Err(ScrapeError::NameMissing);
        };
        if rules.label_limit > 0 && self.len() as u64 > rules.label_limit {
            return Err(ScrapeError::LabelLimit {
                metric: metric.to_string(),
                count: self.len(),
                limit: rules.label_limit,
            });
        }
        if rules.label_name_length_limit == 0 && rules.label_value_length_limit == 0 {
            return Ok(());
        }
        for (name, value) in self.pairs() {
            if rules.label_name_length_limit > 0
                && name.len() as u64 > rules.label_name_length_limit
            {
                return Err(ScrapeError::LabelNameLength {
                    metric: metric.to_string(),
                    name: name.to_string(),
                    len: name.len(),
                    limit: rules.label_name_length_limit,
                });
            }
            if rules.label_value_length_limit > 0
                && value.len() as u64 > rules.label_value_length_limit
            {
                return Err(ScrapeError::LabelValueLength {
                    metric: metric.to_string(),
                    name: name.to_string(),
                    value: value.to_string(),
                    len: value.len(),
                    limit: rules.label_value_length_limit,
                });
            }
        }
        Ok(())
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use model::{MetricMetadata, SeriesRef, is_stale_nan};

    #[derive(Default)]
    struct VecAppender {
        samples: Vec<(Labels, Timestamp, f64)>,
        metadata: Vec<String>,
    }

    impl Appender for VecAppender {
        fn append(&mut self, l: &Labels, t: Timestamp, v: f64) -> Result<SeriesRef, StorageError> {
            self.samples.push((l.clone(), t, v));
            Ok(SeriesRef(0))
        }
        fn update_metadata(&mut self, m: &str, _: &MetricMetadata) -> Result<(), StorageError> {
            self.metadata.push(m.to_string());
            Ok(())
        }
        fn commit(self: Box<Self>) -> Result<(), StorageError> {
            Ok(())
        }
        fn rollback(self: Box<Self>) {}
    }

    fn page(body: &str) -> Fetched {
        Fetched {
            body: body.as_bytes().to_vec(),
            content_type: None,
        }
    }

    fn run(
        cache: &mut ScrapeCache,
        rules: &SampleRules,
        body: &str,
        ts: Timestamp,
    ) -> (VecAppender, Counts) {
        let mut app = VecAppender::default();
        let mut counts = Counts::default();
        append_page(
            &mut app,
            cache,
            rules,
            &Labels::empty(),
            &page(body),
            ts,
            &mut counts,
        )
        .expect("page appends");
        (app, counts)
    }

    fn honoring() -> SampleRules {
        SampleRules {
            honor_timestamps: true,
            ..SampleRules::default()
        }
    }

    #[test]
    fn repeated_series_is_appended_once_but_counted() {
        let mut cache = ScrapeCache::default();
        let (app, counts) = run(&mut cache, &honoring(), "a 1\na 2\n", 1000);
        assert_eq!(app.samples.len(), 1);
        assert_eq!(counts.post_relabel, 2);
        assert_eq!(counts.series_added, 1);
    }

    #[test]
    fn exposed_timestamps_are_not_marked_stale_unless_tracked() {
        let mut cache = ScrapeCache::default();
        run(&mut cache, &honoring(), "a 1 500\nb 1\n", 1000);
        let (app, _) = run(&mut cache, &honoring(), "", 2000);
        let stale: Vec<_> = app.samples.iter().filter(|s| is_stale_nan(s.2)).collect();
        assert_eq!(stale.len(), 1);
        assert_eq!(stale[0].0.metric_name(), Some("b"));
        assert_eq!(stale[0].1, 2000);

        let tracking = SampleRules {
            track_timestamps_staleness: true,
            ..honoring()
        };
        let mut cache = ScrapeCache::default();
        run(&mut cache, &tracking, "a 1 500\n", 1000);
        let (app, _) = run(&mut cache, &tracking, "", 2000);
        assert!(is_stale_nan(app.samples[0].2));

        // Not honoring timestamps: the scrape time is used and the series is tracked.
        let mut cache = ScrapeCache::default();
        let (app, _) = run(&mut cache, &SampleRules::default(), "a 1 500\n", 1000);
        assert_eq!(app.samples[0].1, 1000);
    }

    #[test]
    fn metadata_is_passed_when_it_changes() {
        let mut cache = ScrapeCache::default();
        let (app, _) = run(&mut cache, &honoring(), "# TYPE a gauge\na 1\n", 1000);
        assert_eq!(app.metadata, ["a"]);
        let (app, _) = run(&mut cache, &honoring(), "# TYPE a gauge\na 1\n", 2000);
        assert!(app.metadata.is_empty());
        let (app, _) = run(&mut cache, &honoring(), "# TYPE a counter\na 1\n", 3000);
        assert_eq!(app.metadata, ["a"]);
    }

    #[test]
    fn page_failing_midway_marks_only_the_previous_scrapes_series_stale() {
        let mut cache = ScrapeCache::default();
        run(&mut cache, &honoring(), "a 1\nb 2\n", 1000);
        // `a` is seen again and `c` is new before the parse error.
        let mut counts = Counts::default();
        let failed = append_page(
            &mut VecAppender::default(),
            &mut cache,
            &honoring(),
            &Labels::empty(),
            &page("a 1\nc 3\nbad{ 4\n"),
            2000,
            &mut counts,
        );
        assert!(failed.is_err());
        let mut app = VecAppender::default();
        append_failure(&mut app, &mut cache, 2000).expect("stale");
        let mut names: Vec<String> = app
            .samples
            .iter()
            .map(|s| s.0.metric_name().unwrap_or("").to_string())
            .collect();
        names.sort();
        assert_eq!(names, ["a", "b"]);
    }

    #[test]
    fn metadata_is_stored_only_when_it_changes() {
        let mut cache = ScrapeCache::default();
        let page1 = "# HELP a A.\n# TYPE a counter\na 1\n# TYPE b gauge\nb 2\n";
        let (app, _) = run(&mut cache, &honoring(), page1, 1000);
        assert_eq!(app.metadata, ["a", "b"]);
        let (app, _) = run(&mut cache, &honoring(), page1, 2000);
        assert!(
            app.metadata.is_empty(),
            "unchanged metadata sent again: {:?}",
            app.metadata
        );
        let page2 = "# HELP a A changed.\n# TYPE a counter\na 1\n# TYPE b gauge\nb 2\n";
        let (app, _) = run(&mut cache, &honoring(), page2, 3000);
        assert_eq!(app.metadata, ["a"]);
        assert_eq!(cache.metadata["a"].help, "A changed.");
    }

    #[test]
    fn compact_labels_round_trip() {
        let l = Labels::from_pairs([("__name__", "x"), ("a", "ü\"q"), ("b", "")]);
        assert_eq!(CompactLabels::new(&l).to_labels(), l);
    }

    #[test]
    fn failure_marks_every_tracked_series_stale() {
        let mut cache = ScrapeCache::default();
        run(&mut cache, &honoring(), "a 1\nb 2\n", 1000);
        let mut app = VecAppender::default();
        append_failure(&mut app, &mut cache, 2000).expect("stale");
        assert_eq!(app.samples.len(), 2);
        assert!(app.samples.iter().all(|s| is_stale_nan(s.2) && s.1 == 2000));
        // After a failure every series counts as added again.
        let (_, counts) = run(&mut cache, &honoring(), "a 1\n", 3000);
        assert_eq!(counts.series_added, 1);
    }
}
