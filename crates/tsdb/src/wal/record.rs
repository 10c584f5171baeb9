//! WAL record payloads: series, samples and metadata, encoded and decoded.
//! The byte layout is described in FORMAT.md ("Payloads").
//!
//! Everything is varint-coded and each record is self-contained (it can be decoded without
//! any other record). Samples are coded in runs of one series: timestamps as deltas of
//! deltas, values as the XOR with the previous value or as a scaled-decimal delta, so that
//! a realistic sample takes 2-5 bytes instead of 24.

#[cfg(test)]
use model::Labels;
use model::{MetricMetadata, MetricType, Timestamp};

use crate::chunk::XorChunk;

/// Record type byte of a series record.
const TYPE_SERIES: u8 = 1;
/// Record type byte of a samples record.
const TYPE_SAMPLES: u8 = 2;
/// Record type byte of a metadata record.
const TYPE_METADATA: u8 = 3;
/// Record type byte of a chunks record without time ranges (checkpoints written before
/// type 5; still read).
const TYPE_CHUNKS: u8 = 4;
/// Record type byte of a chunks record with each chunk's time range (checkpoints only).
const TYPE_CHUNKS_RANGED: u8 = 5;
/// Record types reserved for optional data a later build may log (exemplars, start
/// timestamps): a build that does not know one skips it, so adding one needs no new
/// format version, and an older build still replays every sample.
pub(crate) const OPTIONAL_TYPES: std::ops::RangeInclusive<u8> = 16..=31;
/// Flag in the type byte: the rest of the payload is snappy-compressed (raw format).
const FLAG_SNAPPY: u8 = 0x80;
/// Payloads up to this size are never compressed: snappy would gain little there.
const COMPRESS_MIN_BYTES: usize = 256;
/// Largest decompressed payload a reader accepts; anything larger is corruption.
const MAX_DECOMPRESSED_BYTES: usize = 256 << 20;

/// Samples per samples record, so that one record stays small (at most ~29 bytes each
/// when values are incompressible: under 2 MiB).
pub(crate) const SAMPLES_PER_RECORD: usize = 64 * 1024;
/// A series or metadata record is closed once its payload passes this many bytes.
pub(crate) const SOFT_RECORD_BYTES: usize = 1 << 20;

/// Value header byte of the XOR coding that means "same bits as the previous value".
const VALUE_SAME: u8 = 0x80;
/// Value header bytes `0xD0 | k`: a scaled decimal `m / 10^k`, `k <= MAX_SCALE`.
const VALUE_DECIMAL: u8 = 0xD0;
/// Largest decimal scale tried by the writer and accepted by the reader.
const MAX_SCALE: usize = 9;
/// Powers of ten, exact as f64.
const POW10: [f64; MAX_SCALE + 1] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];
/// Decimal mantissas are bounded by 2^53 so that they and their f64 are exact.
const MAX_MANTISSA: i64 = 1 << 53;

/// The series of one record: ids and label pairs, with every string in one buffer (one
/// allocation per record instead of two per string: replay creates millions of series).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct SeriesBatch {
    text: String,
    /// Where each string ends in `text`; a series' strings are name, value, name, ...
    ends: Vec<u32>,
    /// Each series' id and where its strings end in `ends`.
    series: Vec<(u64, u32)>,
}

impl SeriesBatch {
    /// Calls `f` with each series' id and (name, value) pairs, in record order.
    pub(crate) fn for_each(&self, mut f: impl FnMut(u64, &[(&str, &str)])) {
        let mut pairs: Vec<(&str, &str)> = Vec::new();
        let (mut at, mut from) = (0usize, 0usize);
        let next_str = |at: &mut usize, i: usize| {
            let end = self.ends[i] as usize;
            let s = &self.text[*at..end];
            *at = end;
            s
        };
        for &(id, to) in &self.series {
            pairs.clear();
            let mut i = from;
            while i + 1 < to as usize {
                let name = next_str(&mut at, i);
                let value = next_str(&mut at, i + 1);
                pairs.push((name, value));
                i += 2;
            }
            from = to as usize;
            f(id, &pairs);
        }
    }

    /// Each series' id and labels.
    #[cfg(test)]
    pub(crate) fn to_labels(&self) -> Vec<(u64, Labels)> {
        let mut out = Vec::new();
        self.for_each(|id, pairs| out.push((id, Labels::from_sorted_pairs(pairs))));
        out
    }

    /// Number of series.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.series.len()
    }
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
    Series(SeriesBatch),
    Samples(Vec<SampleRecord>),
    Metadata(Vec<(String, MetricMetadata)>),
    /// A series id and its head chunks, oldest first (checkpoints only).
    Chunks(Vec<(u64, Vec<LoggedChunk>)>),
    /// A record of an optional type ([`OPTIONAL_TYPES`]) this build does not read.
    Optional(u8),
}

/// A head chunk read from a checkpoint.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LoggedChunk {
    /// Oldest and newest timestamp, when the record stores them (type 5): the chunk need
    /// not be decoded to learn them.
    pub range: Option<(Timestamp, Timestamp)>,
    /// The encoded chunk.
    pub bytes: Vec<u8>,
}

/// A payload that does not decode; `offset` is inside the payload (after decompression
/// when the record is compressed).
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
    let mut prev = 0u64;
    for (id, labels) in series {
        put_varint(out, id.wrapping_sub(prev) as i64);
        prev = id;
        put_uvarint(out, labels.len() as u64);
        for (n, v) in labels {
            put_str(out, n);
            put_str(out, v);
        }
    }
}

/// Appends a samples record payload to `out`. The samples keep their order; consecutive
/// samples of one series form a run.
pub(crate) fn encode_samples(out: &mut Vec<u8>, samples: impl IntoIterator<Item = SampleRecord>) {
    out.push(TYPE_SAMPLES);
    let mut enc = SampleEncoder::default();
    let mut run: Vec<SampleRecord> = Vec::new();
    for s in samples {
        if run.first().is_some_and(|f| f.id != s.id) {
            enc.run(out, &run);
            run.clear();
        }
        run.push(s);
    }
    if !run.is_empty() {
        enc.run(out, &run);
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

/// Appends a chunks record payload to `out`: each series id with its encoded chunks.
pub(crate) fn encode_chunks<'a>(
    out: &mut Vec<u8>,
    series: impl IntoIterator<Item = (u64, &'a [XorChunk])>,
) {
    out.push(TYPE_CHUNKS_RANGED);
    let mut prev = 0u64;
    for (id, chunks) in series {
        put_varint(out, id.wrapping_sub(prev) as i64);
        prev = id;
        put_uvarint(out, chunks.len() as u64);
        for c in chunks {
            put_varint(out, c.min_t());
            put_uvarint(out, c.max_t().wrapping_sub(c.min_t()) as u64);
            put_uvarint(out, c.byte_size() as u64);
            out.extend_from_slice(c.bytes());
        }
    }
}

/// Compresses the payload that starts at `out[start]` (type byte first) in place when it
/// is large enough and snappy makes it smaller; sets `FLAG_SNAPPY` in the type byte then.
pub(crate) fn compress_payload(out: &mut Vec<u8>, start: usize) {
    let Some(body) = out.get(start + 1..) else {
        return;
    };
    if body.len() < COMPRESS_MIN_BYTES {
        return;
    }
    let Ok(packed) = snap::raw::Encoder::new().compress_vec(body) else {
        return;
    };
    if packed.len() < body.len() {
        out.truncate(start + 1);
        out.extend_from_slice(&packed);
        out[start] |= FLAG_SNAPPY;
    }
}

/// Decodes one payload.
pub(crate) fn decode(payload: &[u8]) -> Result<Record, DecodeError> {
    let Some((&kind, body)) = payload.split_first() else {
        return Err(DecodeError {
            offset: 0,
            reason: "empty payload",
        });
    };
    if OPTIONAL_TYPES.contains(&(kind & !FLAG_SNAPPY)) {
        // Its frame's CRC held, so the type byte is as written: skipped, not damage.
        return Ok(Record::Optional(kind & !FLAG_SNAPPY));
    }
    if kind & FLAG_SNAPPY != 0 {
        let n = snap::raw::decompress_len(body).map_err(|_| DecodeError {
            offset: 1,
            reason: "bad snappy header",
        })?;
        if n > MAX_DECOMPRESSED_BYTES {
            return Err(DecodeError {
                offset: 1,
                reason: "decompressed size too large",
            });
        }
        let plain = snap::raw::Decoder::new()
            .decompress_vec(body)
            .map_err(|_| DecodeError {
                offset: 1,
                reason: "bad snappy data",
            })?;
        decode_body(kind & !FLAG_SNAPPY, &plain)
    } else {
        decode_body(kind, body)
    }
}

fn decode_body(kind: u8, body: &[u8]) -> Result<Record, DecodeError> {
    // Offsets count the type byte, as in the stored payload.
    let mut r = Reader { buf: body, pos: 0 };
    match kind {
        TYPE_SERIES => {
            let mut out = SeriesBatch {
                text: String::with_capacity(body.len()),
                ..SeriesBatch::default()
            };
            let mut prev = 0u64;
            while !r.done() {
                let id = prev.wrapping_add(r.varint()? as u64);
                prev = id;
                let n = r.uvarint()?;
                // Each label needs at least 3 bytes (two lengths, a non-empty value).
                if n > (r.remaining() / 3) as u64 {
                    return Err(r.err("label count exceeds the record"));
                }
                let mut last_name: Option<&str> = None;
                for _ in 0..n {
                    let name = r.str()?;
                    if last_name.is_some_and(|l| l >= name) {
                        return Err(r.err("labels not sorted or not unique"));
                    }
                    last_name = Some(name);
                    let value = r.str()?;
                    if value.is_empty() {
                        return Err(r.err("empty label value"));
                    }
                    for part in [name, value] {
                        out.text.push_str(part);
                        // Under the decompressed payload bound (256 MiB): fits.
                        out.ends.push(out.text.len() as u32);
                    }
                }
                out.series.push((id, out.ends.len() as u32));
            }
            Ok(Record::Series(out))
        }
        TYPE_SAMPLES => {
            let mut out = Vec::new();
            let mut dec = SampleDecoder::default();
            while !r.done() {
                dec.run(&mut r, &mut out)?;
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
        TYPE_CHUNKS | TYPE_CHUNKS_RANGED => {
            let ranged = kind == TYPE_CHUNKS_RANGED;
            let mut out = Vec::new();
            let mut prev = 0u64;
            while !r.done() {
                let id = prev.wrapping_add(r.varint()? as u64);
                prev = id;
                let n = r.uvarint()?;
                // Each chunk needs at least its length byte: bound n before allocating.
                if n > r.remaining() as u64 {
                    return Err(r.err("chunk count exceeds the record"));
                }
                let mut chunks = Vec::with_capacity(n as usize);
                for _ in 0..n {
                    let range = if ranged {
                        let min_t = r.varint()?;
                        // Written as `max_t - min_t` wrapped to u64 (a chunk may span
                        // more than i64::MAX); replay refuses a range that ends first.
                        let span = r.uvarint()?;
                        Some((min_t, min_t.wrapping_add(span as i64)))
                    } else {
                        None
                    };
                    let len = r.uvarint()?;
                    if len > r.remaining() as u64 {
                        return Err(r.err("chunk length exceeds the record"));
                    }
                    let bytes = r.take(len as usize)?.to_vec();
                    chunks.push(LoggedChunk { range, bytes });
                }
                out.push((id, chunks));
            }
            Ok(Record::Chunks(out))
        }
        _ => Err(DecodeError {
            offset: 0,
            reason: "unknown record type",
        }),
    }
}

/// The state a samples record is coded against; the decoder mirrors it exactly.
#[derive(Default)]
struct SampleEncoder {
    /// Series id of the previous run (0 before the first).
    prev_id: u64,
    /// Timestamp of the first sample of the previous run (0 before the first).
    prev_run_t: i64,
    /// The last delta between two samples of one run (0 before the first).
    prev_delta: i64,
    /// Bits of the previous sample's value (0.0 before the first).
    prev_v: u64,
}

impl SampleEncoder {
    fn run(&mut self, out: &mut Vec<u8>, run: &[SampleRecord]) {
        let Some(first) = run.first() else { return };
        put_varint(out, first.id.wrapping_sub(self.prev_id) as i64);
        self.prev_id = first.id;
        put_uvarint(out, run.len() as u64);
        put_varint(out, first.t.wrapping_sub(self.prev_run_t));
        self.prev_run_t = first.t;
        self.value(out, first.v);
        let mut prev_t = first.t;
        for s in &run[1..] {
            let delta = s.t.wrapping_sub(prev_t);
            put_varint(out, delta.wrapping_sub(self.prev_delta));
            self.prev_delta = delta;
            prev_t = s.t;
            self.value(out, s.v);
        }
    }

    fn value(&mut self, out: &mut Vec<u8>, v: f64) {
        let bits = v.to_bits();
        let x = bits ^ self.prev_v;
        let prev = f64::from_bits(self.prev_v);
        self.prev_v = bits;
        if x == 0 {
            out.push(VALUE_SAME);
            return;
        }
        let lead = (x.leading_zeros() / 8) as usize;
        let trail = (x.trailing_zeros() / 8) as usize;
        let xor_cost = 1 + 8 - lead - trail;
        // A decimal costs at least 2 bytes: only worth trying when XOR costs more.
        if xor_cost > 2
            && let Some((k, delta)) = decimal_delta(prev, v)
            && 1 + uvarint_len(zigzag(delta)) < xor_cost
        {
            out.push(VALUE_DECIMAL | k as u8);
            put_varint(out, delta);
            return;
        }
        out.push(((lead as u8) << 4) | trail as u8);
        let middle = x >> (8 * trail);
        let n = 8 - lead - trail;
        out.extend_from_slice(&middle.to_be_bytes()[8 - n..]);
    }
}

/// The smallest scale `k` at which `v` is a decimal `m / 10^k`, and `m` minus the previous
/// value's mantissa at that scale (0 when it has none).
fn decimal_delta(prev: f64, v: f64) -> Option<(usize, i64)> {
    (0..=MAX_SCALE).find_map(|k| {
        let m = mantissa(v, k)?;
        Some((k, m - mantissa(prev, k).unwrap_or(0)))
    })
}

/// `m` such that `m as f64 / 10^k` has exactly the bits of `v`, if there is one with
/// `|m| <= 2^53`. Deterministic (IEEE arithmetic only), so reader and writer agree.
fn mantissa(v: f64, k: usize) -> Option<i64> {
    let p = POW10[k];
    let scaled = v * p;
    // Also rejects ±Inf.
    if scaled.is_nan() || scaled.abs() > MAX_MANTISSA as f64 {
        return None;
    }
    let m = scaled.round() as i64;
    ((m as f64 / p).to_bits() == v.to_bits()).then_some(m)
}

#[derive(Default)]
struct SampleDecoder {
    prev_id: u64,
    prev_run_t: i64,
    prev_delta: i64,
    prev_v: u64,
}

impl SampleDecoder {
    fn run(&mut self, r: &mut Reader, out: &mut Vec<SampleRecord>) -> Result<(), DecodeError> {
        let id = self.prev_id.wrapping_add(r.varint()? as u64);
        self.prev_id = id;
        let n = r.uvarint()?;
        // Each sample takes at least 2 bytes: bound n before allocating.
        if n == 0 || n > (r.remaining() / 2) as u64 {
            return Err(r.err("bad sample count in a run"));
        }
        out.reserve(n as usize);
        let t = self.prev_run_t.wrapping_add(r.varint()?);
        self.prev_run_t = t;
        let v = self.value(r)?;
        out.push(SampleRecord { id, t, v });
        let mut prev_t = t;
        for _ in 1..n {
            let delta = self.prev_delta.wrapping_add(r.varint()?);
            self.prev_delta = delta;
            prev_t = prev_t.wrapping_add(delta);
            let v = self.value(r)?;
            out.push(SampleRecord { id, t: prev_t, v });
        }
        Ok(())
    }

    fn value(&mut self, r: &mut Reader) -> Result<f64, DecodeError> {
        let h = r.u8()?;
        let bits = if h & 0xF0 == VALUE_DECIMAL {
            let k = (h & 0x0F) as usize;
            if k > MAX_SCALE {
                return Err(r.err("bad decimal scale"));
            }
            let base = mantissa(f64::from_bits(self.prev_v), k).unwrap_or(0);
            let m = base
                .checked_add(r.varint()?)
                .filter(|m| m.abs() <= MAX_MANTISSA)
                .ok_or_else(|| r.err("decimal mantissa out of range"))?;
            (m as f64 / POW10[k]).to_bits()
        } else {
            let lead = (h >> 4) as usize;
            let trail = (h & 0x0F) as usize;
            if lead + trail > 8 {
                return Err(r.err("bad value header"));
            }
            let n = 8 - lead - trail;
            let mut b = [0u8; 8];
            b[8 - n..].copy_from_slice(r.take(n)?);
            let middle = u64::from_be_bytes(b);
            // n == 0 means x == 0; a shift by 64 would overflow.
            let x = if n == 0 { 0 } else { middle << (8 * trail) };
            self.prev_v ^ x
        };
        self.prev_v = bits;
        Ok(f64::from_bits(bits))
    }
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(u: u64) -> i64 {
    ((u >> 1) as i64) ^ -((u & 1) as i64)
}

fn uvarint_len(mut u: u64) -> usize {
    let mut n = 1;
    while u >= 0x80 {
        u >>= 7;
        n += 1;
    }
    n
}

fn put_uvarint(out: &mut Vec<u8>, mut u: u64) {
    while u >= 0x80 {
        out.push((u as u8) | 0x80);
        u >>= 7;
    }
    out.push(u as u8);
}

fn put_varint(out: &mut Vec<u8>, v: i64) {
    put_uvarint(out, zigzag(v));
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_uvarint(out, s.len() as u64);
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

/// A bounds-checked cursor over a payload body (the bytes after the type byte).
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn done(&self) -> bool {
        self.pos >= self.buf.len()
    }

    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn err(&self, reason: &'static str) -> DecodeError {
        DecodeError {
            offset: self.pos + 1,
            reason,
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
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

    fn uvarint(&mut self) -> Result<u64, DecodeError> {
        let mut u = 0u64;
        for i in 0..10 {
            let b = self.u8()?;
            // The tenth byte holds only the top bit of a u64.
            if i == 9 && b > 1 {
                return Err(self.err("varint overflows 64 bits"));
            }
            u |= u64::from(b & 0x7f) << (7 * i);
            if b < 0x80 {
                return Ok(u);
            }
        }
        Err(self.err("varint overflows 64 bits"))
    }

    fn varint(&mut self) -> Result<i64, DecodeError> {
        Ok(unzigzag(self.uvarint()?))
    }

    fn string(&mut self) -> Result<String, DecodeError> {
        self.str().map(str::to_owned)
    }

    fn str(&mut self) -> Result<&'a str, DecodeError> {
        let n = self.uvarint()?;
        if n > self.remaining() as u64 {
            return Err(self.err("string exceeds the record"));
        }
        let start = self.pos + 1;
        let bytes = self.take(n as usize)?;
        std::str::from_utf8(bytes).map_err(|_| DecodeError {
            offset: start,
            reason: "string is not UTF-8",
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn samples_round_trip(samples: &[SampleRecord]) -> Vec<u8> {
        let mut buf = Vec::new();
        encode_samples(&mut buf, samples.iter().copied());
        // Plain and compressed, it decodes to the same samples, bit for bit.
        let mut packed = buf.clone();
        compress_payload(&mut packed, 0);
        for payload in [&buf, &packed] {
            let Record::Samples(got) = decode(payload).expect("decodes") else {
                panic!("wrong kind")
            };
            assert_eq!(got.len(), samples.len());
            for (a, b) in got.iter().zip(samples) {
                assert_eq!(a.id, b.id);
                assert_eq!(a.t, b.t);
                assert_eq!(a.v.to_bits(), b.v.to_bits(), "{} vs {}", a.v, b.v);
            }
        }
        buf
    }

    #[test]
    fn chunks_round_trip_with_their_time_ranges() {
        let mut app = crate::chunk::XorAppender::new();
        for t in [5, 10, 20] {
            app.push(t, 1.5).expect("in order");
        }
        let one = app.finish();
        // The last spans more than i64::MAX, as an XOR chunk may.
        let a = [
            one.clone(),
            XorChunk::from_trusted(&[9u8], -3, 7),
            XorChunk::from_trusted(&[8u8], -10, i64::MAX),
        ];
        let mut out = Vec::new();
        encode_chunks(&mut out, [(7u64, &a[..]), (3u64, &[][..])]);
        let want = Record::Chunks(vec![
            (
                7,
                vec![
                    LoggedChunk {
                        range: Some((5, 20)),
                        bytes: one.bytes().to_vec(),
                    },
                    LoggedChunk {
                        range: Some((-3, 7)),
                        bytes: vec![9],
                    },
                    LoggedChunk {
                        range: Some((-10, i64::MAX)),
                        bytes: vec![8],
                    },
                ],
            ),
            (3, vec![]),
        ]);
        assert_eq!(decode(&out), Ok(want));
        // Every truncation is an error, never a panic or a longer chunk.
        for cut in 1..out.len() {
            if let Ok(Record::Chunks(c)) = decode(&out[..cut]) {
                assert!(c.len() <= 2);
                assert!(
                    c.iter()
                        .flat_map(|(_, x)| x)
                        .all(|x| x.bytes.len() <= one.byte_size())
                );
            }
        }
    }

    #[test]
    fn chunks_without_ranges_are_still_read() {
        // Type 4, as checkpoints were written before ranges: id delta, count, (len, bytes).
        let out = [TYPE_CHUNKS, 14, 2, 3, 1, 2, 3, 1, 9];
        let want = Record::Chunks(vec![(
            7,
            vec![
                LoggedChunk {
                    range: None,
                    bytes: vec![1, 2, 3],
                },
                LoggedChunk {
                    range: None,
                    bytes: vec![9],
                },
            ],
        )]);
        assert_eq!(decode(&out), Ok(want));
    }

    #[test]
    fn series_round_trip() {
        let labels: Vec<(Arc<str>, Arc<str>)> =
            vec![("__name__".into(), "up".into()), ("job".into(), "a".into())];
        let mut buf = Vec::new();
        encode_series(
            &mut buf,
            [
                (7u64, labels.as_slice()),
                (3, &labels[..1]),
                (u64::MAX, &[]),
            ],
        );
        let Record::Series(s) = decode(&buf).expect("decodes") else {
            panic!("wrong kind")
        };
        assert_eq!(
            s.to_labels(),
            vec![
                (7, Labels::from_pairs([("__name__", "up"), ("job", "a")])),
                (3, Labels::from_pairs([("__name__", "up")])),
                (u64::MAX, Labels::from_sorted(Vec::new())),
            ]
        );
        assert_eq!(s.len(), 3);
    }

    #[test]
    fn tricky_values_and_timestamps_round_trip_bit_for_bit() {
        let values = [
            model::stale_nan(),
            f64::NAN,
            f64::from_bits(0x7ff8_dead_beef_0001),
            f64::from_bits(0xfff0_0000_0000_0001),
            f64::INFINITY,
            f64::NEG_INFINITY,
            -0.0,
            0.0,
            f64::MIN_POSITIVE,
            f64::from_bits(1),
            f64::MAX,
            f64::MIN,
            9_007_199_254_740_993.0,
            9_007_199_254_740_992.0,
            -9_007_199_254_740_992.0,
            0.1,
            0.30000000000000004,
            1234.56,
            -1e-9,
            1e300,
            1e8 / 3.0,
        ];
        let times = [
            i64::MIN,
            i64::MAX,
            -1,
            0,
            1_700_000_000_000,
            -62_135_596_800_000,
            i64::MIN + 1,
        ];
        let ids = [0u64, 1, u64::MAX, 5, 1 << 40, 2, u64::MAX - 1];
        let mut samples = Vec::new();
        for (i, v) in values.iter().enumerate() {
            for (j, t) in times.iter().enumerate() {
                samples.push(SampleRecord {
                    id: ids[(i + j) % ids.len()],
                    t: *t,
                    v: *v,
                });
            }
        }
        // Runs of one series with jumps in time and value, some the same as the last.
        for v in values {
            for (k, t) in times.iter().enumerate() {
                let v = if k % 3 == 0 { v } else { values[k] };
                samples.push(SampleRecord { id: 9, t: *t, v });
            }
        }
        samples_round_trip(&samples);
        for v in values {
            samples_round_trip(&[SampleRecord { id: 1, t: 0, v }]);
        }
        let buf = samples_round_trip(&[]);
        assert_eq!(buf, vec![TYPE_SAMPLES]);
    }

    #[test]
    fn decimal_mantissas_reject_what_they_cannot_restore() {
        assert_eq!(mantissa(1234.56, 2), Some(123_456));
        assert_eq!(mantissa(0.1, 0), None);
        assert_eq!(mantissa(0.1, 1), Some(1));
        assert_eq!(mantissa(-0.0, 0), None);
        assert_eq!(mantissa(f64::NAN, 3), None);
        assert_eq!(mantissa(f64::INFINITY, 0), None);
        assert_eq!(mantissa(1e300, 0), None);
        assert_eq!(mantissa(0.30000000000000004, 9), None);
    }

    #[test]
    fn a_regular_run_is_compact() {
        // A counter scraped every 15 s with a few ms of jitter, growing by integers.
        let mut samples = Vec::new();
        let mut v = 1_234_567.0;
        for k in 0..100i64 {
            v += (k % 7 * 13) as f64;
            samples.push(SampleRecord {
                id: 42,
                t: 1_700_000_000_000 + k * 15_000 + (k * 7919) % 11 - 5,
                v,
            });
        }
        let buf = samples_round_trip(&samples);
        assert!(buf.len() < 100 * 4, "{} bytes", buf.len());
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
    fn large_series_records_are_compressed_and_round_trip() {
        let labels: Vec<Vec<(Arc<str>, Arc<str>)>> = (0..50)
            .map(|i| {
                vec![
                    ("__name__".into(), "node_network_receive_bytes_total".into()),
                    ("device".into(), format!("eth{i}").into()),
                    ("instance".into(), "10.0.0.1:9100".into()),
                    ("job".into(), "node".into()),
                ]
            })
            .collect();
        let mut buf = Vec::new();
        encode_series(
            &mut buf,
            labels
                .iter()
                .enumerate()
                .map(|(i, l)| (i as u64, l.as_slice())),
        );
        let plain = decode(&buf).expect("decodes");
        let len = buf.len();
        compress_payload(&mut buf, 0);
        assert!(buf[0] & FLAG_SNAPPY != 0);
        assert!(buf.len() < len / 2, "{} of {len}", buf.len());
        assert_eq!(decode(&buf).expect("decodes"), plain);
    }

    #[test]
    fn malformed_payloads_are_errors_not_panics() {
        assert!(decode(&[]).is_err());
        assert!(decode(&[9]).is_err());
        assert!(decode(&[TYPE_SAMPLES, 1, 2, 3]).is_err());
        assert!(decode(&[TYPE_SAMPLES | FLAG_SNAPPY, 1, 2, 3]).is_err());
        // A run claiming more samples than the record holds, and an empty run.
        assert!(decode(&[TYPE_SAMPLES, 0, 100, 0, VALUE_SAME]).is_err());
        assert!(decode(&[TYPE_SAMPLES, 0, 0]).is_err());
        // A bad value header, a bad decimal scale, an overlong varint.
        assert!(decode(&[TYPE_SAMPLES, 0, 1, 0, 0x90]).is_err());
        assert!(decode(&[TYPE_SAMPLES, 0, 1, 0, 0xDA, 0]).is_err());
        let mut buf = vec![TYPE_SAMPLES];
        buf.extend_from_slice(&[0xff; 11]);
        assert!(decode(&buf).is_err());
        // A series claiming a huge label count.
        let mut buf = vec![TYPE_SERIES, 2];
        put_uvarint(&mut buf, u64::MAX);
        assert!(decode(&buf).is_err());
        // Unsorted labels.
        let mut buf = vec![TYPE_SERIES, 2];
        put_uvarint(&mut buf, 2);
        for s in ["b", "1", "a", "2"] {
            put_str(&mut buf, s);
        }
        assert!(decode(&buf).is_err());
        // Every truncation of a valid record is an error or a shorter valid record, never
        // a panic.
        let mut buf = Vec::new();
        let samples: Vec<SampleRecord> = (0..20)
            .map(|k| SampleRecord {
                id: k / 4,
                t: k as i64 * 15_000,
                v: k as f64 * 0.37,
            })
            .collect();
        encode_samples(&mut buf, samples);
        for cut in 0..buf.len() {
            let _ = decode(&buf[..cut]);
        }
    }

    #[test]
    fn optional_types_decode_as_skipped_and_others_stay_errors() {
        assert!(matches!(decode(&[16, 1, 2]), Ok(Record::Optional(16))));
        // Compressed or not, the body is not read.
        assert!(matches!(
            decode(&[31 | 0x80, 0xff]),
            Ok(Record::Optional(31))
        ));
        for t in [6u8, 15, 32, 127] {
            assert!(decode(&[t, 0]).is_err(), "type {t}");
        }
    }
}
