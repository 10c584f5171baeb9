//! The seam between whatever produces samples (scrape, remote-write receive,
//! rules) and whatever keeps them (the TSDB, a remote-write-out sink), modelled
//! on Prometheus's `storage/interface.go`.
//!
//! - [`Appendable`] / [`Appender`]: write path, with commit/rollback.
//! - [`Queryable`] / [`Querier`]: read path, select by matchers over a time range.
//! - [`WriteIdentity`]: who is writing (anonymous until auth exists).
//! - [`fanout`]: one appender that writes to several stores.

pub mod fanout;

use model::{
    FloatHistogram, HistogramSample, Labels, Matcher, MetricMetadata, Sample, SeriesRef, Timestamp,
};

/// Errors a store reports.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The sample is older than the store accepts for this series.
    #[error("out of bounds: sample for series {series} at {t} is outside the accepted window")]
    OutOfBounds {
        /// The series, printed.
        series: String,
        /// The sample's timestamp.
        t: Timestamp,
    },
    /// Same series and timestamp, different value.
    #[error("duplicate sample for timestamp: series {series} at {t} already has a different value")]
    DuplicateSampleForTimestamp {
        /// The series, printed.
        series: String,
        /// The sample's timestamp.
        t: Timestamp,
    },
    /// A label set that a store refuses (empty, no name, duplicate names).
    #[error("invalid series {series}: {reason}")]
    InvalidSeries {
        /// The series, printed.
        series: String,
        /// Why.
        reason: String,
    },
    /// The store cannot write durably (disk full, I/O error).
    #[error("storage I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The store is closed or shutting down.
    #[error("storage is closed")]
    Closed,
    /// Any other failure, described.
    #[error("{0}")]
    Other(String),
}

impl StorageError {
    /// A handle passed to [`Appender::append_found`] that this appender's `find_encoded`
    /// did not return.
    pub fn not_found_here(series: SeriesRef) -> Self {
        StorageError::Other(format!(
            "series {} was not found by this appender",
            series.0
        ))
    }

    /// True for errors about one sample (the rest of a batch can still be written).
    pub fn is_sample_error(&self) -> bool {
        matches!(
            self,
            StorageError::OutOfBounds { .. }
                | StorageError::DuplicateSampleForTimestamp { .. }
                | StorageError::InvalidSeries { .. }
        )
    }
}

/// Who sends a write: the hub decides a writer's cluster from this, not from labels.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum WriteIdentity {
    /// No credentials (until auth exists, every remote writer).
    #[default]
    Anonymous,
    /// The hub itself (its own scrapes and rules).
    Local,
    /// An authenticated cluster.
    Cluster(String),
}

/// A batch of writes that becomes visible and durable together on `commit`.
pub trait Appender: Send {
    /// Adds one sample. A per-sample error leaves the rest of the batch intact.
    fn append(&mut self, labels: &Labels, t: Timestamp, v: f64) -> Result<SeriesRef, StorageError>;

    /// Adds one sample of a series given as borrowed (name, value) pairs, sorted by name,
    /// names unique, values non-empty. Stores that can take labels without building a
    /// `Labels` override it; this default builds one.
    fn append_pairs(
        &mut self,
        labels: &[(&str, &str)],
        t: Timestamp,
        v: f64,
    ) -> Result<SeriesRef, StorageError> {
        let owned = labels
            .iter()
            .map(|(n, v)| model::Label::new(*n, *v))
            .collect();
        self.append(&Labels::from_sorted(owned), t, v)
    }

    /// Adds one native-histogram sample (rules record histograms). Stores that
    /// keep histograms override it; by default it is refused as a sample error.
    fn append_histogram(
        &mut self,
        labels: &Labels,
        t: Timestamp,
        h: &FloatHistogram,
    ) -> Result<SeriesRef, StorageError> {
        let _ = (t, h);
        Err(StorageError::InvalidSeries {
            series: labels.to_string(),
            reason: "native histograms are not supported by this store".to_string(),
        })
    }

    /// Finds which of `sets` the store already holds: each is a label set as remote
    /// write encodes it ([`model::encode_label_pairs`]: the `labels` fields of a
    /// `TimeSeries`, as every encoder writes a valid, sorted set). `out[i]` is then a
    /// handle for [`Appender::append_found`], else `None`, and the caller decodes and
    /// validates the labels and calls `append_pairs`. A series that exists had its labels
    /// validated when it was created, so the common case needs neither; and looking a
    /// whole request up at once lets a store lock once and overlap its memory reads. By
    /// default nothing is found.
    ///
    /// Callers skip every check of a found set's bytes, so a store must return a handle
    /// only when the bytes are exactly `encode_label_pairs` of a label set it holds, and
    /// must then accept `append_found` for that handle.
    fn find_encoded(&mut self, sets: &[&[u8]], out: &mut Vec<Option<SeriesRef>>) {
        out.clear();
        out.resize(sets.len(), None);
    }

    /// Adds one sample to a series this appender's `find_encoded` returned.
    fn append_found(
        &mut self,
        series: SeriesRef,
        t: Timestamp,
        v: f64,
    ) -> Result<SeriesRef, StorageError> {
        let _ = (t, v);
        Err(StorageError::not_found_here(series))
    }

    /// A hint that about `series` distinct series follow (a remote-write request's
    /// length), so per-batch tables can be sized once. Ignoring it is correct.
    fn reserve(&mut self, series: usize) {
        let _ = series;
    }

    /// Records the metadata of a metric family (keyed by metric name).
    fn update_metadata(&mut self, metric: &str, meta: &MetricMetadata) -> Result<(), StorageError>;

    /// Makes the batch durable and visible. Returns only once it is durable.
    fn commit(self: Box<Self>) -> Result<(), StorageError>;

    /// Discards the batch.
    fn rollback(self: Box<Self>);
}

/// Something that hands out appenders.
pub trait Appendable: Send + Sync {
    /// A new appender for a writer.
    fn appender(&self, identity: &WriteIdentity) -> Box<dyn Appender>;
}

/// Hints a querier may use to do less work.
#[derive(Debug, Clone, Default)]
pub struct SelectHints {
    /// Inclusive lower time bound, ms.
    pub start: Timestamp,
    /// Inclusive upper time bound, ms.
    pub end: Timestamp,
    /// Upper bound on the number of series returned (0 = no limit).
    pub limit: usize,
}

/// One selected series and its samples in time order. A series may hold float
/// and native-histogram samples, never both at one timestamp.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Its labels.
    pub labels: Labels,
    /// Its float samples within the selected range, oldest first.
    pub samples: Vec<Sample>,
    /// Its native-histogram samples within the selected range, oldest first.
    pub histograms: Vec<HistogramSample>,
}

impl Series {
    /// A series of float samples only.
    pub fn floats(labels: Labels, samples: Vec<Sample>) -> Self {
        Series {
            labels,
            samples,
            histograms: Vec::new(),
        }
    }

    /// Samples of both kinds.
    pub fn len(&self) -> usize {
        self.samples.len() + self.histograms.len()
    }

    /// No sample of either kind.
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty() && self.histograms.is_empty()
    }
}

/// A read view over a time range.
pub trait Querier: Send + Sync {
    /// Series matching all matchers, with their samples in `[hints.start, hints.end]`,
    /// sorted by labels. Series with no sample in range are left out.
    fn select(
        &self,
        hints: &SelectHints,
        matchers: &[Matcher],
    ) -> Result<Vec<Series>, StorageError>;

    /// Label sets of series matching all matchers that have a sample in range (no samples loaded).
    fn series(
        &self,
        hints: &SelectHints,
        matchers: &[Matcher],
    ) -> Result<Vec<Labels>, StorageError>;

    /// Sorted label names of series matching the matchers (all series when none).
    fn label_names(
        &self,
        hints: &SelectHints,
        matchers: &[Matcher],
    ) -> Result<Vec<String>, StorageError>;

    /// Sorted values of `name` among series matching the matchers.
    fn label_values(
        &self,
        hints: &SelectHints,
        name: &str,
        matchers: &[Matcher],
    ) -> Result<Vec<String>, StorageError>;

    /// Metadata per metric name; `metric` narrows to one, `limit` caps families (0 = all).
    fn metadata(&self, metric: Option<&str>, limit: usize) -> Vec<(String, MetricMetadata)>;
}

/// Something that opens queriers.
pub trait Queryable: Send + Sync {
    /// A querier over `[mint, maxt]`.
    fn querier(&self, mint: Timestamp, maxt: Timestamp) -> Result<Box<dyn Querier>, StorageError>;

    /// Cardinality statistics of the store's head, top `limit` per list; `None` when the
    /// store keeps none (for `/api/v1/status/tsdb`).
    fn status(&self, limit: usize) -> Option<TsdbStatus> {
        let _ = limit;
        None
    }
}

/// Cardinality statistics, as Prometheus reports them in `/api/v1/status/tsdb`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TsdbStatus {
    /// Series in the head.
    pub num_series: u64,
    /// Distinct label name/value pairs.
    pub num_label_pairs: u64,
    /// Chunks in the head.
    pub chunk_count: u64,
    /// Oldest sample time, if any.
    pub min_time: Option<Timestamp>,
    /// Newest sample time, if any.
    pub max_time: Option<Timestamp>,
    /// Series per metric name, largest first.
    pub series_count_by_metric_name: Vec<(String, u64)>,
    /// Distinct values per label name, largest first.
    pub label_value_count_by_label_name: Vec<(String, u64)>,
    /// Bytes of label values per label name (value length times series), largest first.
    pub memory_in_bytes_by_label_name: Vec<(String, u64)>,
    /// Series per `name=value` pair, largest first.
    pub series_count_by_label_value_pair: Vec<(String, u64)>,
}
