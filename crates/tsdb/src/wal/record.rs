//! WAL record payloads: series, samples and metadata, encoded and decoded.
//! The byte layout is described in FORMAT.md.

use model::{Label, Labels, MetricMetadata, MetricType, Timestamp};

/// Record type byte of a series record.
const TYPE_SERIES: u8 = 1;
/// Record type byte of a samples record.
const TYPE_SAMPLES: u8 = 2;
/// Record type byte of a metadata record.
const TYPE_METADATA: u8 = 3;

/// Samples per samples record, so that one record stays small (24 bytes each: ~1.5 MiB).
pub(crate) const SAMPLES_PER_RECORD: usize = 64 * 1024;
/// A series or metadata record is closed once its payload passes this many bytes.
pub(crate) const SOFT_RECORD_BYTES: usize = 1 << 20;

/// One series: its id in this database and its labels.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SeriesRecord {
    pub id: u64,
    pub labels: Labels,
}

/// One sample of a series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct SampleRecord {
    pub id: u64,
    pub t: Timestamp,
    pub v: f64,
}

/// A decoded record.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Record {
    Series(Vec<SeriesRecord>),
    Samples(Vec<SampleRecord>),
    Metadata(Vec<(String, MetricMetadata)>),
}

/// A payload that does not decode; `offset` is inside the payload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad record payload at byte {offset}: {reason}")]
pub(crate) struct DecodeError {
    pub offset: usize,
    pub reason: &'static str,
}

/// Appends a series record payload (type byte included) to `out`.
pub(crate) fn encode_series<'a>(
    out: &mut Vec<u8>,
    series: impl IntoIterator<Item = (u64, &'a [(std::sync::Arc<str>, std::sync::Arc<str>)])>,
) {
    out.push(TYPE_SERIES);
    for (id, labels) in series {
        out.extend_from_slice(&id.to_le_bytes());
        put_u32(out, labels.len());
        for (n, v) in labels {
            put_str(out, n);
            put_str(out, v);
        }
    }
}

/// Appends a samples record payload to `out`.
pub(crate) fn encode_samples(out: &mut Vec<u8>, samples: impl IntoIterator<Item = SampleRecord>) {
    out.push(TYPE_SAMPLES);
    for s in samples {
        out.extend_from_slice(&s.id.to_le_bytes());
        out.extend_from_slice(&s.t.to_le_bytes());
        out.extend_from_slice(&s.v.to_bits().to_le_bytes());
    }
}

/// Appends a metadata record payload to `out`.
pub(crate) fn encode_metadata<'a>(
    out: &mut Vec<u8>,
    entries: impl IntoIterator<Item = &'a (String, MetricMetadata)>,
) {
    out.push(TYPE_METADATA);
    for (metric, meta) in entries {
        put_str(out, metric);
        out.push(type_code(meta.metric_type));
        put_str(out, &meta.help);
        put_str(out, &meta.unit);
    }
}

/// Decodes one payload.
pub(crate) fn decode(payload: &[u8]) -> Result<Record, DecodeError> {
    let mut r = Reader {
        buf: payload,
        pos: 0,
    };
    match r.u8()? {
        TYPE_SERIES => {
            let mut out = Vec::new();
            while !r.done() {
                let id = r.u64()?;
                let n = r.u32()? as usize;
                // Each label needs at least 8 bytes of lengths: bound n before allocating.
                if n > r.remaining() / 8 {
                    return Err(r.err("label count exceeds the record"));
                }
                let mut labels = Vec::with_capacity(n);
                for _ in 0..n {
                    let name = r.string()?;
                    let value = r.string()?;
                    labels.push(Label { name, value });
                }
                if labels.windows(2).any(|w| w[0].name >= w[1].name) {
                    return Err(r.err("labels not sorted or not unique"));
                }
                if labels.iter().any(|l| l.value.is_empty()) {
                    return Err(r.err("empty label value"));
                }
                out.push(SeriesRecord {
                    id,
                    labels: Labels::from_sorted(labels),
                });
            }
            Ok(Record::Series(out))
        }
        TYPE_SAMPLES => {
            if !r.remaining().is_multiple_of(24) {
                return Err(r.err("samples payload is not a multiple of 24 bytes"));
            }
            let mut out = Vec::with_capacity(r.remaining() / 24);
            while !r.done() {
                let id = r.u64()?;
                let t = r.u64()? as i64;
                let v = f64::from_bits(r.u64()?);
                out.push(SampleRecord { id, t, v });
            }
            Ok(Record::Samples(out))
        }
        TYPE_METADATA => {
            let mut out = Vec::new();
            while !r.done() {
                let metric = r.string()?;
                let metric_type =
                    type_from_code(r.u8()?).ok_or_else(|| r.err("unknown metric type code"))?;
                let help = r.string()?;
                let unit = r.string()?;
                out.push((
                    metric,
                    MetricMetadata {
                        metric_type,
                        help,
                        unit,
                    },
                ));
            }
            Ok(Record::Metadata(out))
        }
        _ => Err(DecodeError {
            offset: 0,
            reason: "unknown record type",
        }),
    }
}

fn put_u32(out: &mut Vec<u8>, n: usize) {
    // Lengths are bounded well below 4 GiB by the appender's label size limit.
    out.extend_from_slice(&(n as u32).to_le_bytes());
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_u32(out, s.len());
    out.extend_from_slice(s.as_bytes());
}

fn type_code(t: MetricType) -> u8 {
    match t {
        MetricType::Unknown => 0,
        MetricType::Counter => 1,
        MetricType::Gauge => 2,
        MetricType::Histogram => 3,
        MetricType::GaugeHistogram => 4,
        MetricType::Summary => 5,
        MetricType::Info => 6,
        MetricType::StateSet => 7,
    }
}

fn type_from_code(c: u8) -> Option<MetricType> {
    Some(match c {
        0 => MetricType::Unknown,
        1 => MetricType::Counter,
        2 => MetricType::Gauge,
        3 => MetricType::Histogram,
        4 => MetricType::GaugeHistogram,
        5 => MetricType::Summary,
        6 => MetricType::Info,
        7 => MetricType::StateSet,
        _ => return None,
    })
}

/// A bounds-checked cursor over a payload.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn done(&self) -> bool {
        self.pos >= self.buf.len()
    }

    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn err(&self, reason: &'static str) -> DecodeError {
        DecodeError {
            offset: self.pos,
            reason,
        }
    }

    fn take(&mut self, n: usize) -> Result<&[u8], DecodeError> {
        if self.remaining() < n {
            return Err(self.err("truncated field"));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<u32, DecodeError> {
        let mut b = [0u8; 4];
        b.copy_from_slice(self.take(4)?);
        Ok(u32::from_le_bytes(b))
    }

    fn u64(&mut self) -> Result<u64, DecodeError> {
        let mut b = [0u8; 8];
        b.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(b))
    }

    fn string(&mut self) -> Result<String, DecodeError> {
        let n = self.u32()? as usize;
        let start = self.pos;
        let bytes = self.take(n)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| DecodeError {
            offset: start,
            reason: "string is not UTF-8",
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[test]
    fn series_round_trip() {
        let labels: Vec<(Arc<str>, Arc<str>)> =
            vec![("__name__".into(), "up".into()), ("job".into(), "a".into())];
        let mut buf = Vec::new();
        encode_series(&mut buf, [(7u64, labels.as_slice())]);
        let Record::Series(s) = decode(&buf).expect("decodes") else {
            panic!("wrong kind")
        };
        assert_eq!(
            s,
            vec![SeriesRecord {
                id: 7,
                labels: Labels::from_pairs([("__name__", "up"), ("job", "a")])
            }]
        );
    }

    #[test]
    fn samples_round_trip_keeps_nan_bits() {
        let mut buf = Vec::new();
        let samples = [
            SampleRecord {
                id: 1,
                t: -5,
                v: model::stale_nan(),
            },
            SampleRecord {
                id: 2,
                t: 9,
                v: 1.5,
            },
        ];
        encode_samples(&mut buf, samples);
        let Record::Samples(s) = decode(&buf).expect("decodes") else {
            panic!("wrong kind")
        };
        assert!(model::is_stale_nan(s[0].v));
        assert_eq!(s[0].t, -5);
        assert_eq!(s[1], samples[1]);
    }

    #[test]
    fn metadata_round_trip() {
        let entries = vec![(
            "http_requests_total".to_string(),
            MetricMetadata {
                metric_type: MetricType::Counter,
                help: "Requests.".into(),
                unit: "".into(),
            },
        )];
        let mut buf = Vec::new();
        encode_metadata(&mut buf, &entries);
        assert_eq!(decode(&buf).expect("decodes"), Record::Metadata(entries));
    }

    #[test]
    fn malformed_payloads_are_errors_not_panics() {
        assert!(decode(&[]).is_err());
        assert!(decode(&[9]).is_err());
        assert!(decode(&[TYPE_SAMPLES, 1, 2, 3]).is_err());
        // A series claiming a huge label count.
        let mut buf = vec![TYPE_SERIES];
        buf.extend_from_slice(&1u64.to_le_bytes());
        buf.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(decode(&buf).is_err());
        // Unsorted labels.
        let mut buf = vec![TYPE_SERIES];
        buf.extend_from_slice(&1u64.to_le_bytes());
        put_u32(&mut buf, 2);
        for s in ["b", "1", "a", "2"] {
            put_str(&mut buf, s);
        }
        assert!(decode(&buf).is_err());
    }
}
