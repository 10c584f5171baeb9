//! Encode, and decode + receive, of a 2000-sample remote-write request.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use model::{Labels, MetricMetadata, SeriesRef, Timestamp};
use remote::codec::{self, Label, Sample, TimeSeries, WriteRequest};
use remote::{ReceiveLimits, handle_write};
use storage::{Appendable, Appender, StorageError, WriteIdentity};

/// 200 series of 10 samples, with labels shaped like a node-exporter scrape.
fn request() -> WriteRequest {
    let timeseries = (0..200)
        .map(|i| TimeSeries {
            labels: [
                ("__name__", format!("node_cpu_seconds_total_{}", i % 20)),
                ("cluster", "prod-eu-1".to_string()),
                ("cpu", (i % 16).to_string()),
                ("instance", format!("10.0.{}.{}:9100", i / 50, i % 50)),
                ("job", "node-exporter".to_string()),
                ("mode", "idle".to_string()),
            ]
            .into_iter()
            .map(|(n, v)| Label {
                name: n.to_string(),
                value: v,
            })
            .collect(),
            samples: (0..10)
                .map(|t| Sample {
                    value: (i * t) as f64 * 0.5,
                    timestamp: 1_700_000_000_000 + t * 15_000,
                })
                .collect(),
            exemplars: vec![],
        })
        .collect();
    WriteRequest {
        timeseries,
        metadata: vec![],
    }
}

/// Counts appended samples and keeps nothing.
struct Discard;
struct DiscardAppender(usize);

impl Appendable for Discard {
    fn appender(&self, _: &WriteIdentity) -> Box<dyn Appender> {
        Box::new(DiscardAppender(0))
    }
}

impl Appender for DiscardAppender {
    fn append(&mut self, _: &Labels, _: Timestamp, _: f64) -> Result<SeriesRef, StorageError> {
        self.0 += 1;
        Ok(SeriesRef(0))
    }
    fn append_pairs(
        &mut self,
        _: &[(&str, &str)],
        _: Timestamp,
        _: f64,
    ) -> Result<SeriesRef, StorageError> {
        self.0 += 1;
        Ok(SeriesRef(0))
    }
    fn update_metadata(&mut self, _: &str, _: &MetricMetadata) -> Result<(), StorageError> {
        Ok(())
    }
    fn commit(self: Box<Self>) -> Result<(), StorageError> {
        Ok(())
    }
    fn rollback(self: Box<Self>) {}
}

fn bench(c: &mut Criterion) {
    let req = request();
    let body = codec::encode(&req);
    let mut g = c.benchmark_group("remote_write_2000_samples");
    g.throughput(Throughput::Elements(2000));
    g.bench_function("encode", |b| b.iter(|| codec::encode(&req)));
    let raw = codec::snappy_decompress(&body, usize::MAX, usize::MAX).expect("snappy");
    g.bench_function("decode_prost", |b| {
        b.iter(|| <WriteRequest as prost::Message>::decode(raw.as_slice()).expect("decode"))
    });
    g.bench_function("decode_borrowed", |b| {
        b.iter(|| remote::receive::WriteRequestRef::decode(&raw).expect("decode"))
    });
    let limits = ReceiveLimits::default();
    g.bench_function("decode_and_receive", |b| {
        b.iter(|| {
            handle_write(
                &body,
                Some("snappy"),
                Some("application/x-protobuf"),
                &Discard,
                &WriteIdentity::Anonymous,
                &limits,
            )
            .expect("receive")
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
