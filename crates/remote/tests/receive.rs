//! Behaviour of `handle_write` against a small in-memory store.

use std::sync::Arc;

use model::{Labels, MetricMetadata, SeriesRef, Timestamp};
use parking_lot::Mutex;
use prost::Message;
use remote::codec::{self, Label, Sample, TimeSeries, WriteRequest};
use remote::{ReceiveError, ReceiveLimits, handle_write};
use storage::{Appendable, Appender, StorageError, WriteIdentity};

/// A store that refuses samples older than `min_t` and keeps what is committed.
#[derive(Default)]
struct MemStore {
    min_t: Timestamp,
    committed: Mutex<Vec<(Labels, Timestamp, f64)>>,
    metadata: Mutex<Vec<(String, MetricMetadata)>>,
    identities: Mutex<Vec<WriteIdentity>>,
    // Series found by `find_encoded` (decoding and validation skipped), per sample.
    existing_hits: Mutex<Vec<String>>,
}

struct MemAppender {
    store: Arc<MemStore>,
    samples: Vec<(Labels, Timestamp, f64)>,
    metadata: Vec<(String, MetricMetadata)>,
    found: Vec<Labels>,
}

/// The store as an `Appendable` (a local type, as the orphan rule wants).
struct Handle(Arc<MemStore>);

impl Appendable for Handle {
    fn appender(&self, identity: &WriteIdentity) -> Box<dyn Appender> {
        self.0.identities.lock().push(identity.clone());
        Box::new(MemAppender {
            store: self.0.clone(),
            samples: vec![],
            metadata: vec![],
            found: vec![],
        })
    }
}

impl Appender for MemAppender {
    fn append(&mut self, labels: &Labels, t: Timestamp, v: f64) -> Result<SeriesRef, StorageError> {
        if t < self.store.min_t {
            return Err(StorageError::OutOfBounds {
                series: labels.to_string(),
                t,
            });
        }
        self.samples.push((labels.clone(), t, v));
        Ok(SeriesRef(0))
    }
    /// Series are known once committed, and only from exactly their encoding (as the
    /// TSDB does): the receiver then skips decoding and validating them.
    fn find_encoded(&mut self, sets: &[&[u8]], out: &mut Vec<Option<SeriesRef>>) {
        out.clear();
        for set in sets {
            let known = self.store.committed.lock().iter().find_map(|(l, _, _)| {
                let mut enc = Vec::new();
                model::encode_label_pairs(
                    l.iter().map(|l| (l.name.as_str(), l.value.as_str())),
                    &mut enc,
                );
                (enc == *set).then(|| l.clone())
            });
            out.push(known.map(|l| {
                self.found.push(l);
                SeriesRef(self.found.len() as u64 - 1)
            }));
        }
    }
    fn append_found(
        &mut self,
        series: SeriesRef,
        t: Timestamp,
        v: f64,
    ) -> Result<SeriesRef, StorageError> {
        let known = self.found[series.0 as usize].clone();
        self.store.existing_hits.lock().push(known.to_string());
        self.append(&known, t, v)
    }
    fn update_metadata(&mut self, metric: &str, meta: &MetricMetadata) -> Result<(), StorageError> {
        self.metadata.push((metric.to_string(), meta.clone()));
        Ok(())
    }
    fn commit(self: Box<Self>) -> Result<(), StorageError> {
        self.store.committed.lock().extend(self.samples);
        self.store.metadata.lock().extend(self.metadata);
        Ok(())
    }
    fn rollback(self: Box<Self>) {}
}

fn series(pairs: &[(&str, &str)], samples: &[(i64, f64)]) -> TimeSeries {
    TimeSeries {
        labels: pairs
            .iter()
            .map(|(n, v)| Label {
                name: n.to_string(),
                value: v.to_string(),
            })
            .collect(),
        samples: samples
            .iter()
            .map(|&(timestamp, value)| Sample { value, timestamp })
            .collect(),
        exemplars: vec![],
    }
}

fn write(store: &Arc<MemStore>, body: &[u8]) -> Result<remote::WriteStats, ReceiveError> {
    handle_write(
        body,
        Some("snappy"),
        Some("application/x-protobuf;proto=prometheus.WriteRequest"),
        &Handle(store.clone()),
        &WriteIdentity::Cluster("a".into()),
        &ReceiveLimits::default(),
    )
}

#[test]
fn good_request_is_committed_with_metadata() {
    let store = Arc::new(MemStore::default());
    let req = WriteRequest {
        timeseries: vec![
            series(
                &[("__name__", "up"), ("job", "node")],
                &[(1, 1.0), (2, 0.0)],
            ),
            series(&[("job", "x"), ("__name__", "other")], &[(3, 5.0)]),
        ],
        metadata: vec![codec::MetricMetadata::from_model(
            "up",
            &MetricMetadata {
                metric_type: model::MetricType::Gauge,
                help: "h".into(),
                unit: "".into(),
            },
        )],
    };
    let stats = write(&store, &codec::encode(&req)).expect("accepted");
    assert_eq!(
        (
            stats.samples,
            stats.series,
            stats.metadata,
            stats.rejected_samples
        ),
        (3, 2, 1, 0)
    );
    let c = store.committed.lock();
    assert_eq!(c[2].0.to_string(), r#"other{job="x"}"#);
    assert_eq!(
        store.metadata.lock()[0].1.metric_type,
        model::MetricType::Gauge
    );
    assert_eq!(
        store.identities.lock()[0],
        WriteIdentity::Cluster("a".into())
    );
}

#[test]
fn bad_snappy_is_400_with_message() {
    let store = Arc::new(MemStore::default());
    let e = write(&store, b"\x0anot-snappy-at-all").expect_err("bad");
    assert_eq!(e.status(), 400);
    assert!(e.to_string().contains("snappy"), "{e}");
}

#[test]
fn bad_protobuf_is_400() {
    let store = Arc::new(MemStore::default());
    let body = codec::snappy_compress(b"\x0a\xff\xff\xff\xff\x0f");
    let e = write(&store, &body).expect_err("bad");
    assert_eq!(e.status(), 400);
    assert!(e.to_string().contains("protobuf"), "{e}");
}

#[test]
fn oversized_is_413() {
    let store = Arc::new(MemStore::default());
    let req = WriteRequest {
        timeseries: vec![series(&[("__name__", "up")], &[(1, 1.0); 100])],
        metadata: vec![],
    };
    let body = codec::encode(&req);
    let limits = ReceiveLimits {
        max_compressed_bytes: 1 << 20,
        max_decompressed_bytes: 100,
    };
    let e = handle_write(
        &body,
        None,
        None,
        &Handle(store.clone()),
        &WriteIdentity::Anonymous,
        &limits,
    )
    .expect_err("too big");
    assert_eq!(e.status(), 413);
    let limits = ReceiveLimits {
        max_compressed_bytes: 10,
        max_decompressed_bytes: 1 << 20,
    };
    let e = handle_write(
        &body,
        None,
        None,
        &Handle(store.clone()),
        &WriteIdentity::Anonymous,
        &limits,
    )
    .expect_err("too big");
    assert_eq!(e.status(), 413);
    assert!(store.committed.lock().is_empty());
}

#[test]
fn duplicate_label_names_are_400_but_valid_series_are_kept() {
    let store = Arc::new(MemStore::default());
    let req = WriteRequest {
        timeseries: vec![
            series(&[("__name__", "up"), ("x", "1"), ("x", "2")], &[(1, 1.0)]),
            series(&[("__name__", "up"), ("x", "3")], &[(1, 1.0)]),
            series(&[], &[(1, 1.0)]),
        ],
        metadata: vec![],
    };
    let e = write(&store, &codec::encode(&req)).expect_err("rejected");
    assert_eq!(e.status(), 400);
    let msg = e.to_string();
    assert!(msg.contains(r#"duplicate label name "x""#), "{msg}");
    assert!(msg.contains("2 of 3 samples rejected"), "{msg}");
    assert!(msg.contains("no metric name"), "{msg}");
    assert_eq!(store.committed.lock().len(), 1);
}

#[test]
fn out_of_bounds_samples_are_reported_after_committing_the_rest() {
    let store = Arc::new(MemStore {
        min_t: 100,
        ..Default::default()
    });
    let req = WriteRequest {
        timeseries: vec![series(&[("__name__", "up")], &[(50, 1.0), (150, 2.0)])],
        metadata: vec![],
    };
    let e = write(&store, &codec::encode(&req)).expect_err("rejected");
    assert_eq!(e.status(), 400);
    assert!(e.to_string().contains("out of bounds"), "{e}");
    match e {
        ReceiveError::Rejected { stats, .. } => {
            assert_eq!((stats.samples, stats.rejected_samples), (1, 1))
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(store.committed.lock().len(), 1);
}

#[test]
fn remote_write_v2_is_415() {
    let store = Arc::new(MemStore::default());
    let e = handle_write(
        b"",
        Some("snappy"),
        Some("application/x-protobuf;proto=io.prometheus.write.v2.Request"),
        &Handle(store.clone()),
        &WriteIdentity::Anonymous,
        &ReceiveLimits::default(),
    )
    .expect_err("v2");
    assert_eq!(e.status(), 415);
}

/// A store that holds `up{job="a"}` (one sample, at 1), written through the receiver.
fn store_holding_up_a() -> Arc<MemStore> {
    let store = Arc::new(MemStore::default());
    let first = WriteRequest {
        timeseries: vec![series(&[("__name__", "up"), ("job", "a")], &[(1, 1.0)])],
        metadata: vec![],
    };
    write(&store, &codec::encode(&first)).expect("accepted");
    store
}

#[test]
fn known_series_skip_validation_and_others_are_still_validated() {
    let store = store_holding_up_a();
    assert!(
        store.existing_hits.lock().is_empty(),
        "new series are validated"
    );
    let second = WriteRequest {
        timeseries: vec![
            // Known, as sent: found without validation, both samples.
            series(&[("__name__", "up"), ("job", "a")], &[(2, 1.0), (3, 1.0)]),
            // The same series with an empty label: not as stored, so validated (and
            // normalised to the same series).
            series(&[("__name__", "up"), ("job", "a"), ("x", "")], &[(4, 1.0)]),
            // Unknown and invalid: refused as before.
            series(&[("__name__", "up"), ("1bad", "a")], &[(5, 1.0)]),
        ],
        metadata: vec![],
    };
    let err = write(&store, &codec::encode(&second)).expect_err("one invalid series");
    let ReceiveError::Rejected { stats, reasons } = err else {
        panic!("expected a partial rejection, got {err:?}");
    };
    assert_eq!(
        (stats.samples, stats.series, stats.rejected_samples),
        (3, 2, 1)
    );
    assert!(reasons.contains("invalid label name"), "{reasons}");
    assert_eq!(*store.existing_hits.lock(), vec![r#"up{job="a"}"#; 2]);
    let times: Vec<i64> = store.committed.lock().iter().map(|c| c.1).collect();
    assert_eq!(times, vec![1, 2, 3, 4]);
}

#[test]
fn a_malformed_label_in_an_unknown_series_refuses_the_request_before_any_append() {
    let store = store_holding_up_a();
    // A known series (found from its bytes, never decoded), then an unknown one whose
    // metric name is not UTF-8: prost refuses the whole body, and so must we.
    let mut raw = WriteRequest {
        timeseries: vec![series(&[("__name__", "up"), ("job", "a")], &[(2, 1.0)])],
        metadata: vec![],
    }
    .encode_to_vec();
    let mut label = vec![0x0a, 8];
    label.extend_from_slice(b"__name__");
    label.extend_from_slice(&[0x12, 1, 0xff]);
    let mut ts = vec![0x0a, label.len() as u8];
    ts.extend_from_slice(&label);
    ts.extend_from_slice(&[0x12, 11, 0x09]);
    ts.extend_from_slice(&1.0f64.to_le_bytes());
    ts.extend_from_slice(&[0x10, 3]);
    raw.extend_from_slice(&[0x0a, ts.len() as u8]);
    raw.extend_from_slice(&ts);
    assert!(
        WriteRequest::decode(raw.as_slice()).is_err(),
        "prost refuses it"
    );
    let err = write(&store, &codec::snappy_compress(&raw)).expect_err("malformed");
    assert!(matches!(err, ReceiveError::BadRequest(_)), "{err:?}");
    assert_eq!(err.status(), 400);
    assert!(err.to_string().contains("UTF-8"), "{err}");
    // The known series was looked up, but nothing of the request was appended.
    assert!(store.existing_hits.lock().is_empty());
    let times: Vec<i64> = store.committed.lock().iter().map(|c| c.1).collect();
    assert_eq!(times, vec![1]);
}
