//! The agent side of the write path: an `Appendable` whose commit relabels, encodes the
//! batch as a remote-write request and writes it to the on-disk queue before returning.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use model::{Labels, MetricMetadata, SeriesRef, Timestamp};
use parking_lot::Mutex;
use relabel::RelabelConfig;
use storage::{Appendable, Appender, StorageError, WriteIdentity};

use crate::codec;
use crate::metrics::SenderMetrics;
use crate::queue::{DiskQueue, QueueError};

/// Most samples one queue record holds; larger commits are split so records stay small.
const MAX_SAMPLES_PER_RECORD: usize = 5000;

/// Metric metadata seen by appenders, sent periodically by the sender.
pub type MetadataStore = Arc<Mutex<HashMap<String, MetricMetadata>>>;

/// Hands out appenders that write into a [`DiskQueue`].
pub struct QueueAppendable {
    queue: Arc<DiskQueue>,
    metrics: Arc<SenderMetrics>,
    metadata: MetadataStore,
    relabel: Arc<Vec<RelabelConfig>>,
}

impl QueueAppendable {
    /// Appendable over `queue`; `write_relabel_configs` are applied before queueing.
    pub fn new(
        queue: Arc<DiskQueue>,
        metrics: Arc<SenderMetrics>,
        metadata: MetadataStore,
        write_relabel_configs: Vec<RelabelConfig>,
    ) -> Self {
        QueueAppendable {
            queue,
            metrics,
            metadata,
            relabel: Arc::new(write_relabel_configs),
        }
    }
}

impl Appendable for QueueAppendable {
    fn appender(&self, _identity: &WriteIdentity) -> Box<dyn Appender> {
        Box::new(QueueAppender {
            queue: self.queue.clone(),
            metrics: self.metrics.clone(),
            metadata: self.metadata.clone(),
            relabel: self.relabel.clone(),
            chunks: Vec::new(),
            current: Chunk::default(),
            shard_key: None,
            pending_metadata: Vec::new(),
        })
    }
}

/// Samples encoded so far for one queue record.
#[derive(Default)]
struct Chunk {
    /// `WriteRequest.timeseries` entries, one per sample, in append order.
    raw: Vec<u8>,
    samples: usize,
    max_t: Option<Timestamp>,
}

/// One batch on its way into the queue.
///
/// Samples are encoded as they arrive, one `TimeSeries` per sample: no per-series map, no
/// intermediate structs. A series appended twice in one batch appears twice, in order,
/// which remote write allows.
struct QueueAppender {
    queue: Arc<DiskQueue>,
    metrics: Arc<SenderMetrics>,
    metadata: MetadataStore,
    relabel: Arc<Vec<RelabelConfig>>,
    chunks: Vec<Chunk>,
    current: Chunk,
    /// Which sender shard this batch goes to; see [`record::shard_key`].
    shard_key: Option<u64>,
    pending_metadata: Vec<(String, MetricMetadata)>,
}

impl Appender for QueueAppender {
    fn append(&mut self, labels: &Labels, t: Timestamp, v: f64) -> Result<SeriesRef, StorageError> {
        let relabelled;
        let out = if self.relabel.is_empty() {
            labels
        } else {
            match relabel::process(labels, &self.relabel) {
                Some(l) if !l.is_empty() => {
                    relabelled = l;
                    &relabelled
                }
                _ => return Ok(SeriesRef(u64::MAX)),
            }
        };
        if self.shard_key.is_none() {
            self.shard_key = Some(record::shard_key(
                out.get_or_empty("job"),
                out.get_or_empty("instance"),
            ));
        }
        codec::encode_series_sample(&mut self.current.raw, out, t, v);
        self.added(t);
        Ok(SeriesRef(0))
    }

    fn append_pairs(
        &mut self,
        labels: &[(&str, &str)],
        t: Timestamp,
        v: f64,
    ) -> Result<SeriesRef, StorageError> {
        if !self.relabel.is_empty() {
            let owned = labels
                .iter()
                .map(|(n, v)| model::Label::new(*n, *v))
                .collect();
            return self.append(&Labels::from_sorted(owned), t, v);
        }
        if self.shard_key.is_none() {
            let get = |name: &str| {
                labels
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map_or("", |(_, v)| *v)
            };
            self.shard_key = Some(record::shard_key(get("job"), get("instance")));
        }
        codec::encode_pairs_sample(&mut self.current.raw, labels.iter().copied(), t, v);
        self.added(t);
        Ok(SeriesRef(0))
    }

    fn update_metadata(&mut self, metric: &str, meta: &MetricMetadata) -> Result<(), StorageError> {
        self.pending_metadata
            .push((metric.to_string(), meta.clone()));
        Ok(())
    }

    fn commit(self: Box<Self>) -> Result<(), StorageError> {
        let mut me = *self;
        if !me.pending_metadata.is_empty() {
            me.metadata.lock().extend(me.pending_metadata);
        }
        if me.current.samples > 0 {
            me.chunks.push(std::mem::take(&mut me.current));
        }
        let key = me.shard_key.unwrap_or(0);
        for chunk in me.chunks {
            let n = chunk.samples;
            let body = record::encode(key, chunk.max_t.unwrap_or(0), &chunk.raw);
            match me.queue.append(&body, n as u32) {
                Ok(()) => {
                    me.metrics
                        .samples_queued
                        .fetch_add(n as u64, Ordering::Relaxed);
                }
                Err(QueueError::RecordTooLarge { size, limit }) => {
                    // Cannot fit even in an empty queue: counted, not an appender failure.
                    tracing::warn!(
                        size,
                        limit,
                        samples = n,
                        "remote-write batch larger than the queue, dropped"
                    );
                    me.metrics
                        .dropped_other
                        .fetch_add(n as u64, Ordering::Relaxed);
                }
                Err(QueueError::Io { source, .. }) => return Err(StorageError::Io(source)),
            }
        }
        Ok(())
    }

    fn rollback(self: Box<Self>) {}
}

impl QueueAppender {
    /// Counts a sample just encoded into the current chunk, closing the chunk when full.
    fn added(&mut self, t: Timestamp) {
        self.current.samples += 1;
        self.current.max_t = self.current.max_t.max(Some(t));
        if self.current.samples >= MAX_SAMPLES_PER_RECORD {
            self.chunks.push(std::mem::take(&mut self.current));
        }
    }
}

/// The payload of a queue record: which shard sends it, its newest timestamp, and the
/// snappy-compressed `WriteRequest.timeseries` entries.
pub mod record {
    use crate::codec;

    /// Bytes before the compressed body: shard key (u64 LE), newest timestamp (i64 LE).
    pub const HEADER_LEN: usize = 16;

    /// The shard of a batch: a hash of the `job` and `instance` of its first series.
    /// Every batch of one scrape target carries the same pair, so one target's batches
    /// go through one shard in queue order, and each series stays in time order.
    pub fn shard_key(job: &str, instance: &str) -> u64 {
        model::hash_label_pairs([("job", job), ("instance", instance)])
    }

    /// Builds a record payload.
    pub fn encode(shard_key: u64, max_t: i64, raw: &[u8]) -> Vec<u8> {
        let compressed = codec::snappy_compress(raw);
        let mut out = Vec::with_capacity(HEADER_LEN + compressed.len());
        out.extend_from_slice(&shard_key.to_le_bytes());
        out.extend_from_slice(&max_t.to_le_bytes());
        out.extend_from_slice(&compressed);
        out
    }

    /// Splits a record payload into (shard key, newest timestamp, compressed body).
    pub fn decode(payload: &[u8]) -> Option<(u64, i64, &[u8])> {
        let key = u64::from_le_bytes(payload.get(..8)?.try_into().ok()?);
        let max_t = i64::from_le_bytes(payload.get(8..16)?.try_into().ok()?);
        Some((key, max_t, &payload[HEADER_LEN..]))
    }
}

#[cfg(test)]
mod tests {
    use prost::Message as _;

    use super::*;
    use crate::queue::QueueOptions;

    fn queue_and_appendable() -> (tempfile::TempDir, Arc<DiskQueue>, QueueAppendable) {
        let dir = tempfile::tempdir().expect("tempdir");
        let queue = Arc::new(
            DiskQueue::open(dir.path(), QueueOptions::with_max_bytes(1 << 30)).expect("open"),
        );
        let app = QueueAppendable::new(
            queue.clone(),
            Arc::new(SenderMetrics::default()),
            Arc::new(Mutex::new(HashMap::new())),
            Vec::new(),
        );
        (dir, queue, app)
    }

    #[test]
    fn pairs_and_labels_queue_the_same_bytes() {
        let l = Labels::from_pairs([("__name__", "up"), ("instance", "i:1"), ("job", "j")]);
        let pairs: Vec<(&str, &str)> = l
            .iter()
            .map(|l| (l.name.as_str(), l.value.as_str()))
            .collect();
        let (_d1, q1, a1) = queue_and_appendable();
        let mut app = a1.appender(&WriteIdentity::Local);
        app.append(&l, 5, 1.0).expect("append");
        app.commit().expect("commit");
        let (_d2, q2, a2) = queue_and_appendable();
        let mut app = a2.appender(&WriteIdentity::Local);
        app.append_pairs(&pairs, 5, 1.0).expect("append");
        app.commit().expect("commit");
        let r1 = q1.read(1, 1 << 20).expect("read");
        let r2 = q2.read(1, 1 << 20).expect("read");
        assert_eq!(r1[0].payload, r2[0].payload);
        assert_eq!(
            record::decode(&r1[0].payload).map(|r| r.0),
            Some(record::shard_key("j", "i:1"))
        );
    }

    #[test]
    fn large_batches_split_into_records_that_decode_in_order() {
        let dir = tempfile::tempdir().expect("tempdir");
        let queue = Arc::new(
            DiskQueue::open(dir.path(), QueueOptions::with_max_bytes(1 << 30)).expect("open"),
        );
        let app = QueueAppendable::new(
            queue.clone(),
            Arc::new(SenderMetrics::default()),
            Arc::new(Mutex::new(HashMap::new())),
            Vec::new(),
        );
        let mut a = app.appender(&WriteIdentity::Local);
        let n = MAX_SAMPLES_PER_RECORD + 7;
        for i in 0..n {
            let l = Labels::from_pairs([("__name__", "m"), ("job", "j"), ("i", &*i.to_string())]);
            a.append(&l, i as i64, i as f64).expect("append");
        }
        a.commit().expect("commit");
        let records = queue.read(10, 64 << 20).expect("read");
        assert_eq!(
            records
                .iter()
                .map(|r| r.samples as usize)
                .collect::<Vec<_>>(),
            [MAX_SAMPLES_PER_RECORD, 7]
        );
        let mut next = 0;
        let mut keys = Vec::new();
        for r in &records {
            let (key, max_t, body) = record::decode(&r.payload).expect("header");
            keys.push(key);
            let raw = codec::snappy_decompress(body, usize::MAX, usize::MAX).expect("snappy");
            let req = codec::WriteRequest::decode(raw.as_slice()).expect("protobuf");
            for ts in &req.timeseries {
                assert_eq!(ts.samples[0].timestamp, next);
                next += 1;
            }
            assert_eq!(max_t, next - 1);
        }
        assert_eq!(next as usize, n);
        assert_eq!(keys[0], keys[1], "one batch, one shard");
    }
}
