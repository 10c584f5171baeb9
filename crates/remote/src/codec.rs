//! Remote-write 1.0 wire types (`prometheus.WriteRequest`) and their snappy-block codec.
//!
//! The message structs are written by hand from the protocol's field numbers so the
//! build needs no `.proto` files. Histograms (field 4 of `TimeSeries`) are not modelled:
//! prost skips them as unknown fields.

use prost::Message;

/// `prometheus.WriteRequest`: the body of a remote-write 1.0 request.
#[derive(Clone, PartialEq, prost::Message)]
pub struct WriteRequest {
    /// The series and their samples.
    #[prost(message, repeated, tag = "1")]
    pub timeseries: Vec<TimeSeries>,
    /// Metric family metadata.
    #[prost(message, repeated, tag = "3")]
    pub metadata: Vec<MetricMetadata>,
}

/// `prometheus.TimeSeries`: one label set with samples and exemplars.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TimeSeries {
    /// The series' labels, sorted by name by well-behaved senders.
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<Label>,
    /// Float samples, oldest first.
    #[prost(message, repeated, tag = "2")]
    pub samples: Vec<Sample>,
    /// Exemplars attached to the series.
    #[prost(message, repeated, tag = "3")]
    pub exemplars: Vec<Exemplar>,
}

/// `prometheus.Label`.
#[derive(Clone, PartialEq, Eq, Hash, prost::Message)]
pub struct Label {
    /// Label name.
    #[prost(string, tag = "1")]
    pub name: String,
    /// Label value.
    #[prost(string, tag = "2")]
    pub value: String,
}

/// `prometheus.Sample`.
#[derive(Clone, Copy, PartialEq, prost::Message)]
pub struct Sample {
    /// The value.
    #[prost(double, tag = "1")]
    pub value: f64,
    /// Milliseconds since the epoch.
    #[prost(int64, tag = "2")]
    pub timestamp: i64,
}

/// `prometheus.Exemplar`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Exemplar {
    /// The exemplar's own labels (for example a trace id).
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<Label>,
    /// The value.
    #[prost(double, tag = "2")]
    pub value: f64,
    /// Milliseconds since the epoch.
    #[prost(int64, tag = "3")]
    pub timestamp: i64,
}

/// `prometheus.MetricMetadata`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct MetricMetadata {
    /// The family's type, a [`MetricTypeProto`] number.
    #[prost(enumeration = "MetricTypeProto", tag = "1")]
    pub r#type: i32,
    /// The metric family name.
    #[prost(string, tag = "2")]
    pub metric_family_name: String,
    /// HELP text.
    #[prost(string, tag = "4")]
    pub help: String,
    /// UNIT text.
    #[prost(string, tag = "5")]
    pub unit: String,
}

/// `prometheus.MetricMetadata.MetricType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum MetricTypeProto {
    /// UNKNOWN.
    Unknown = 0,
    /// COUNTER.
    Counter = 1,
    /// GAUGE.
    Gauge = 2,
    /// HISTOGRAM.
    Histogram = 3,
    /// GAUGEHISTOGRAM.
    GaugeHistogram = 4,
    /// SUMMARY.
    Summary = 5,
    /// INFO.
    Info = 6,
    /// STATESET.
    StateSet = 7,
}

impl From<model::MetricType> for MetricTypeProto {
    fn from(t: model::MetricType) -> Self {
        use model::MetricType as M;
        match t {
            M::Unknown => Self::Unknown,
            M::Counter => Self::Counter,
            M::Gauge => Self::Gauge,
            M::Histogram => Self::Histogram,
            M::GaugeHistogram => Self::GaugeHistogram,
            M::Summary => Self::Summary,
            M::Info => Self::Info,
            M::StateSet => Self::StateSet,
        }
    }
}

impl From<MetricTypeProto> for model::MetricType {
    fn from(t: MetricTypeProto) -> Self {
        use model::MetricType as M;
        match t {
            MetricTypeProto::Unknown => M::Unknown,
            MetricTypeProto::Counter => M::Counter,
            MetricTypeProto::Gauge => M::Gauge,
            MetricTypeProto::Histogram => M::Histogram,
            MetricTypeProto::GaugeHistogram => M::GaugeHistogram,
            MetricTypeProto::Summary => M::Summary,
            MetricTypeProto::Info => M::Info,
            MetricTypeProto::StateSet => M::StateSet,
        }
    }
}

impl MetricMetadata {
    /// Wire metadata from a family name and model metadata.
    pub fn from_model(family: &str, meta: &model::MetricMetadata) -> Self {
        MetricMetadata {
            r#type: MetricTypeProto::from(meta.metric_type) as i32,
            metric_family_name: family.to_string(),
            help: meta.help.clone(),
            unit: meta.unit.clone(),
        }
    }

    /// Model metadata; unknown type numbers (from newer senders) map to `Unknown`.
    pub fn to_model(&self) -> model::MetricMetadata {
        let t = MetricTypeProto::try_from(self.r#type).unwrap_or(MetricTypeProto::Unknown);
        model::MetricMetadata {
            metric_type: t.into(),
            help: self.help.clone(),
            unit: self.unit.clone(),
        }
    }
}

/// Why a body could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The compressed body exceeds the limit.
    #[error("compressed body of {size} bytes exceeds the limit of {limit} bytes")]
    CompressedTooLarge {
        /// Body size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The snappy header announces more bytes than allowed.
    #[error("decompressed body of {size} bytes exceeds the limit of {limit} bytes")]
    DecompressedTooLarge {
        /// Size from the snappy header.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The body is not valid snappy block format.
    #[error("snappy decode: {0}")]
    Snappy(#[from] snap::Error),
    /// The decompressed bytes are not a valid `WriteRequest`.
    #[error("protobuf decode: {0}")]
    Protobuf(#[from] prost::DecodeError),
}

impl DecodeError {
    /// True when the error is about size (HTTP 413) rather than malformed content.
    pub fn is_too_large(&self) -> bool {
        matches!(
            self,
            DecodeError::CompressedTooLarge { .. } | DecodeError::DecompressedTooLarge { .. }
        )
    }
}

/// Encodes a request as protobuf then snappy block format, ready to POST.
pub fn encode(req: &WriteRequest) -> Vec<u8> {
    let raw = req.encode_to_vec();
    snappy_compress(&raw)
}

/// Appends one `TimeSeries` with a single sample to `buf` as a `WriteRequest.timeseries`
/// entry (field 1), straight from `model::Labels` with no intermediate structs.
///
/// Protobuf concatenates repeated fields, so any run of such entries is itself a valid
/// `WriteRequest` body: the agent's queue records and the requests it sends are built
/// by concatenation alone.
pub fn encode_series_sample(buf: &mut Vec<u8>, labels: &model::Labels, t: i64, v: f64) {
    encode_pairs_sample(
        buf,
        labels.iter().map(|l| (l.name.as_str(), l.value.as_str())),
        t,
        v,
    );
}

/// As [`encode_series_sample`], from (name, value) pairs already sorted by name.
pub fn encode_pairs_sample<'a>(
    buf: &mut Vec<u8>,
    labels: impl Iterator<Item = (&'a str, &'a str)> + Clone,
    t: i64,
    v: f64,
) {
    use prost::encoding::{encode_varint, encoded_len_varint};
    fn field_len(tag_and_len_of: usize) -> usize {
        1 + encoded_len_varint(tag_and_len_of as u64) + tag_and_len_of
    }
    // Sample: field 1 double (tag + 8 bytes), field 2 int64 varint.
    let sample_len = 9 + 1 + encoded_len_varint(t as u64);
    let series_len = model::encoded_label_pairs_len(labels.clone()) + field_len(sample_len);
    buf.reserve(field_len(series_len));
    buf.push(0x0a); // WriteRequest.timeseries, length-delimited
    encode_varint(series_len as u64, buf);
    // TimeSeries.labels, exactly as the hub's store recognises them.
    model::encode_label_pairs(labels, buf);
    buf.push(0x12); // TimeSeries.samples
    encode_varint(sample_len as u64, buf);
    buf.push(0x09); // Sample.value, fixed64
    buf.extend_from_slice(&v.to_le_bytes());
    buf.push(0x10); // Sample.timestamp, varint (int64: two's complement as u64)
    encode_varint(t as u64, buf);
}

/// Snappy block-format compression.
pub fn snappy_compress(raw: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; snap::raw::max_compress_len(raw.len())];
    // Compression into a buffer of max_compress_len cannot fail except for inputs over
    // 4 GiB, which the caller's batching never produces; fall back to an empty body then.
    match snap::raw::Encoder::new().compress(raw, &mut out) {
        Ok(n) => {
            out.truncate(n);
            out
        }
        Err(_) => Vec::new(),
    }
}

/// Joins snappy blocks into one block that decompresses to the concatenation of theirs,
/// without decompressing: a block is its uncompressed length (varint) then elements whose
/// back-references never reach before the block's own start, so the element streams can
/// follow each other under one new length header.
pub fn snappy_concat(blocks: &[&[u8]]) -> Result<Vec<u8>, snap::Error> {
    let mut total: u64 = 0;
    let mut bodies = Vec::with_capacity(blocks.len());
    for b in blocks {
        let len = snap::raw::decompress_len(b)? as u64;
        // The header is the varint of `len`; its size follows from the value.
        let header = prost::encoding::encoded_len_varint(len);
        let body = b.get(header..).ok_or(snap::Error::Header)?;
        total += len;
        bodies.push(body);
    }
    if total > u64::from(u32::MAX) {
        return Err(snap::Error::TooBig {
            given: total,
            max: u64::from(u32::MAX),
        });
    }
    let mut out = Vec::with_capacity(5 + bodies.iter().map(|b| b.len()).sum::<usize>());
    prost::encoding::encode_varint(total, &mut out);
    for b in bodies {
        out.extend_from_slice(b);
    }
    Ok(out)
}

/// Snappy-decompresses `body`, refusing bodies or announced outputs over the limits
/// before allocating the output.
pub fn snappy_decompress(
    body: &[u8],
    max_compressed: usize,
    max_decompressed: usize,
) -> Result<Vec<u8>, DecodeError> {
    let size = snappy_checked_len(body, max_compressed, max_decompressed)?;
    let mut out = Vec::new();
    let n = snappy_decompress_into(body, size, &mut out)?;
    out.truncate(n);
    Ok(out)
}

/// Decompresses `body`, whose decompressed length `size` is already known and within
/// bounds, into the front of `out`; returns the length written. `out` only grows: bytes
/// past its old length are zeroed once, earlier ones are simply overwritten.
pub fn snappy_decompress_into(
    body: &[u8],
    size: usize,
    out: &mut Vec<u8>,
) -> Result<usize, DecodeError> {
    if out.len() < size {
        out.resize(size, 0);
    }
    let dst = out.get_mut(..size).unwrap_or_default();
    Ok(snap::raw::Decoder::new().decompress(body, dst)?)
}

/// The decompressed length a snappy body announces, checked against both limits.
pub fn snappy_checked_len(
    body: &[u8],
    max_compressed: usize,
    max_decompressed: usize,
) -> Result<usize, DecodeError> {
    if body.len() > max_compressed {
        return Err(DecodeError::CompressedTooLarge {
            size: body.len(),
            limit: max_compressed,
        });
    }
    let size = snap::raw::decompress_len(body)?;
    if size > max_decompressed {
        return Err(DecodeError::DecompressedTooLarge {
            size,
            limit: max_decompressed,
        });
    }
    Ok(size)
}

/// Decodes a snappy-compressed `WriteRequest` within the given limits.
pub fn decode(
    body: &[u8],
    max_compressed: usize,
    max_decompressed: usize,
) -> Result<WriteRequest, DecodeError> {
    let raw = snappy_decompress(body, max_compressed, max_decompressed)?;
    Ok(WriteRequest::decode(raw.as_slice())?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concatenated_snappy_blocks_decompress_to_the_concatenation() {
        // Sizes around snappy's 64 KiB fragment and with repeats that make back-references.
        let a: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let b = b"short block".repeat(3);
        let c: Vec<u8> = (0..70_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
            .collect();
        let parts = [
            snappy_compress(&a),
            snappy_compress(&b),
            snappy_compress(&[]),
            snappy_compress(&c),
        ];
        let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
        let joined = snappy_concat(&refs).expect("valid blocks");
        let out = snappy_decompress(&joined, usize::MAX, usize::MAX).expect("valid snappy");
        assert_eq!(out, [a.as_slice(), b.as_slice(), c.as_slice()].concat());
        assert!(snappy_concat(&[b"\xff\xff\xff\xff\xff\xff".as_slice()]).is_err());
    }

    #[test]
    fn hand_encoded_series_decode_as_prost_would() {
        let a = model::Labels::from_pairs([
            ("__name__", "up"),
            ("job", "näme"),
            ("x", &*"v".repeat(300)),
        ]);
        let b = model::Labels::from_pairs([("__name__", "b")]);
        let mut buf = Vec::new();
        encode_series_sample(&mut buf, &a, 1_700_000_000_123, 1.5);
        encode_series_sample(&mut buf, &b, -5, f64::from_bits(model::STALE_NAN_BITS));
        let req = WriteRequest::decode(buf.as_slice()).expect("valid protobuf");
        assert_eq!(req.timeseries.len(), 2);
        let names: Vec<&str> = req.timeseries[0]
            .labels
            .iter()
            .map(|l| l.name.as_str())
            .collect();
        assert_eq!(names, ["__name__", "job", "x"]);
        assert_eq!(req.timeseries[0].labels[1].value, "näme");
        assert_eq!(req.timeseries[0].samples[0].timestamp, 1_700_000_000_123);
        assert_eq!(req.timeseries[0].samples[0].value, 1.5);
        assert_eq!(req.timeseries[1].samples[0].timestamp, -5);
        assert_eq!(
            req.timeseries[1].samples[0].value.to_bits(),
            model::STALE_NAN_BITS
        );
        // Identical to prost's own encoding of the same request.
        assert_eq!(req.encode_to_vec(), buf);
    }

    fn sample_request() -> WriteRequest {
        WriteRequest {
            timeseries: vec![TimeSeries {
                labels: vec![
                    Label {
                        name: "__name__".into(),
                        value: "up".into(),
                    },
                    Label {
                        name: "job".into(),
                        value: "node".into(),
                    },
                ],
                samples: vec![
                    Sample {
                        value: 1.0,
                        timestamp: 1000,
                    },
                    Sample {
                        value: f64::from_bits(model::STALE_NAN_BITS),
                        timestamp: 2000,
                    },
                ],
                exemplars: vec![Exemplar {
                    labels: vec![Label {
                        name: "trace_id".into(),
                        value: "abc".into(),
                    }],
                    value: 0.5,
                    timestamp: 1500,
                }],
            }],
            metadata: vec![MetricMetadata::from_model(
                "up",
                &model::MetricMetadata {
                    metric_type: model::MetricType::Gauge,
                    help: "Target up.".into(),
                    unit: String::new(),
                },
            )],
        }
    }

    #[test]
    fn round_trip_keeps_everything_including_stale_bits() {
        let req = sample_request();
        let body = encode(&req);
        let back = decode(&body, 1 << 20, 1 << 20).expect("decode");
        assert_eq!(back.timeseries[0].labels, req.timeseries[0].labels);
        assert_eq!(back.timeseries[0].exemplars, req.timeseries[0].exemplars);
        assert!(model::is_stale_nan(back.timeseries[0].samples[1].value));
        assert_eq!(back.metadata, req.metadata);
        assert_eq!(
            back.metadata[0].to_model().metric_type,
            model::MetricType::Gauge
        );
    }

    #[test]
    fn field_numbers_match_the_protocol() {
        // A Sample{value=1.0, timestamp=1}: tag 1 fixed64 (0x09), tag 2 varint (0x10).
        let s = Sample {
            value: 1.0,
            timestamp: 1,
        };
        let mut expected = vec![0x09];
        expected.extend_from_slice(&1.0f64.to_le_bytes());
        expected.extend_from_slice(&[0x10, 0x01]);
        assert_eq!(s.encode_to_vec(), expected);
        // MetricMetadata help is field 4 (0x22), unit field 5 (0x2a).
        let m = MetricMetadata {
            r#type: 0,
            metric_family_name: String::new(),
            help: "h".into(),
            unit: "u".into(),
        };
        assert_eq!(m.encode_to_vec(), vec![0x22, 1, b'h', 0x2a, 1, b'u']);
    }

    #[test]
    fn histograms_are_skipped_as_unknown_fields() {
        // TimeSeries with field 4 (length-delimited, 2 bytes) and one label.
        let mut raw = vec![0x22, 0x02, 0x08, 0x01];
        raw.extend_from_slice(&[0x0a, 0x05, 0x0a, 0x01, b'a', 0x12, 0x00]);
        let ts = TimeSeries::decode(raw.as_slice()).expect("decode");
        assert_eq!(ts.labels.len(), 1);
    }

    #[test]
    fn limits_are_checked_before_allocating() {
        let body = encode(&sample_request());
        let e = decode(&body, 4, 1 << 20).expect_err("too large");
        assert!(e.is_too_large());
        let e = decode(&body, 1 << 20, 4).expect_err("too large decoded");
        assert!(matches!(e, DecodeError::DecompressedTooLarge { .. }));
        // A header announcing 4 GiB-ish output is refused without allocating it.
        let huge = [0xff, 0xff, 0xff, 0xff, 0x0f, 0x00];
        let e = decode(&huge, 1 << 20, 1 << 20).expect_err("huge");
        assert!(e.is_too_large(), "{e}");
    }

    #[test]
    fn garbage_is_a_decode_error() {
        let e = decode(b"\x05not snappy", 1 << 20, 1 << 20).expect_err("bad");
        assert!(!e.is_too_large());
        let body = snappy_compress(b"\xff\xff\xff");
        let e = decode(&body, 1 << 20, 1 << 20).expect_err("bad proto");
        assert!(matches!(e, DecodeError::Protobuf(_)), "{e}");
    }
}
