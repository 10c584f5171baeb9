//! The agent side of the write path: an `Appendable` whose commit relabels, encodes the
//! batch as a remote-write request and writes it to the on-disk queue before returning.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use model::{Labels, MetricMetadata, SeriesRef, Timestamp};
use parking_lot::Mutex;
use relabel::RelabelConfig;
use storage::{Appendable, Appender, StorageError, WriteIdentity};

use crate::codec::{self, WriteRequest};
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
            series: Vec::new(),
            index: HashMap::new(),
            samples: 0,
            pending_metadata: Vec::new(),
        })
    }
}

/// One batch on its way into the queue.
struct QueueAppender {
    queue: Arc<DiskQueue>,
    metrics: Arc<SenderMetrics>,
    metadata: MetadataStore,
    relabel: Arc<Vec<RelabelConfig>>,
    /// Series in first-append order with their samples.
    series: Vec<codec::TimeSeries>,
    /// Original label set to its slot in `series` (None: dropped by relabelling).
    index: HashMap<Labels, Option<usize>>,
    samples: usize,
    pending_metadata: Vec<(String, MetricMetadata)>,
}

impl Appender for QueueAppender {
    fn append(&mut self, labels: &Labels, t: Timestamp, v: f64) -> Result<SeriesRef, StorageError> {
        let slot = match self.index.get(labels) {
            Some(s) => *s,
            None => {
                let out = if self.relabel.is_empty() {
                    Some(labels.clone())
                } else {
                    relabel::process(labels, &self.relabel)
                };
                let slot = out.filter(|l| !l.is_empty()).map(|l| {
                    self.series.push(codec::TimeSeries {
                        labels: l
                            .iter()
                            .map(|l| codec::Label {
                                name: l.name.clone(),
                                value: l.value.clone(),
                            })
                            .collect(),
                        samples: Vec::new(),
                        exemplars: Vec::new(),
                    });
                    self.series.len() - 1
                });
                self.index.insert(labels.clone(), slot);
                slot
            }
        };
        if let Some(i) = slot {
            self.series[i].samples.push(codec::Sample {
                value: v,
                timestamp: t,
            });
            self.samples += 1;
        }
        Ok(SeriesRef(slot.map_or(u64::MAX, |i| i as u64)))
    }

    fn update_metadata(&mut self, metric: &str, meta: &MetricMetadata) -> Result<(), StorageError> {
        self.pending_metadata
            .push((metric.to_string(), meta.clone()));
        Ok(())
    }

    fn commit(self: Box<Self>) -> Result<(), StorageError> {
        let me = *self;
        if !me.pending_metadata.is_empty() {
            me.metadata.lock().extend(me.pending_metadata);
        }
        for chunk in split(me.series, MAX_SAMPLES_PER_RECORD) {
            let n: usize = chunk.iter().map(|s| s.samples.len()).sum();
            let body = codec::encode(&WriteRequest {
                timeseries: chunk,
                metadata: Vec::new(),
            });
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

/// Splits series into groups of at most `max` samples, splitting a long series if needed.
fn split(series: Vec<codec::TimeSeries>, max: usize) -> Vec<Vec<codec::TimeSeries>> {
    let mut out = vec![];
    let mut cur: Vec<codec::TimeSeries> = vec![];
    let mut n = 0;
    for mut s in series {
        if s.samples.is_empty() {
            continue;
        }
        while !s.samples.is_empty() {
            let room = max - n;
            let take = room.min(s.samples.len());
            let rest = s.samples.split_off(take);
            n += take;
            cur.push(codec::TimeSeries {
                labels: s.labels.clone(),
                samples: std::mem::replace(&mut s.samples, rest),
                exemplars: Vec::new(),
            });
            if n == max {
                out.push(std::mem::take(&mut cur));
                n = 0;
            }
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(n: usize) -> codec::TimeSeries {
        codec::TimeSeries {
            labels: vec![],
            samples: vec![codec::Sample::default(); n],
            exemplars: vec![],
        }
    }

    #[test]
    fn split_bounds_each_group() {
        let groups = split(vec![ts(3), ts(0), ts(8), ts(1)], 5);
        let sizes: Vec<usize> = groups
            .iter()
            .map(|g| g.iter().map(|s| s.samples.len()).sum())
            .collect();
        assert_eq!(sizes, vec![5, 5, 2]);
    }
}
