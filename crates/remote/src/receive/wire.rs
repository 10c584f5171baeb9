//! A borrowing decoder for `prometheus.WriteRequest`, for the receiver's hot path.
//!
//! It accepts exactly what prost's generated decoding of [`crate::codec::WriteRequest`]
//! accepts (unknown fields skipped by wire type with prost's nesting limit, fields in any
//! order, the last occurrence of a singular field winning, exemplars checked then
//! dropped, histograms skipped) and refuses the rest with a [`WireError`]. Label names
//! and values are `&str` into the decompressed body: a request costs a few vectors,
//! reused across its series, not a `String` per label. A lazy decode only steps over
//! labels, keeping each series' label bytes, and decodes the labels of the series the
//! store did not recognise from those bytes.

use crate::codec::Sample;

/// Prost's limit on nested messages and groups.
const RECURSION_LIMIT: u32 = 100;

const VARINT: u8 = 0;
const FIXED64: u8 = 1;
const LEN: u8 = 2;
const START_GROUP: u8 = 3;
const END_GROUP: u8 = 4;
const FIXED32: u8 = 5;

/// Why a body is not a valid `WriteRequest`; offsets are into the decompressed bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// A varint runs into the end of its message.
    #[error("truncated varint at byte {at}")]
    TruncatedVarint {
        /// Offset of the varint's first byte.
        at: usize,
    },
    /// A varint's tenth byte carries bits past 64.
    #[error("varint longer than 64 bits at byte {at}")]
    VarintOverflow {
        /// Offset of the varint's first byte.
        at: usize,
    },
    /// A field key above `u32::MAX`.
    #[error("invalid field key {key} at byte {at}")]
    InvalidKey {
        /// The key.
        key: u64,
        /// Its offset.
        at: usize,
    },
    /// Field number 0.
    #[error("invalid field number 0 at byte {at}")]
    ZeroField {
        /// The key's offset.
        at: usize,
    },
    /// Wire type 6 or 7.
    #[error("invalid wire type {wire_type} at byte {at}")]
    InvalidWireType {
        /// The wire type.
        wire_type: u8,
        /// The key's offset.
        at: usize,
    },
    /// A known field sent with a wire type its type does not use.
    #[error("{message} field {field} has wire type {got}, expected {expected} (byte {at})")]
    WrongWireType {
        /// The message being decoded.
        message: &'static str,
        /// The field number.
        field: u32,
        /// The wire type sent.
        got: u8,
        /// The wire type of the field's type.
        expected: u8,
        /// The key's offset.
        at: usize,
    },
    /// A length or fixed-size value reaches past the end of its message.
    #[error("{len} bytes at byte {at} run past the end of the enclosing message ({left} left)")]
    PastEnd {
        /// Bytes needed.
        len: u64,
        /// Where they start.
        at: usize,
        /// Bytes left in the enclosing message.
        left: usize,
    },
    /// A string field is not UTF-8.
    #[error("invalid UTF-8 in {what} at byte {at}")]
    InvalidUtf8 {
        /// Which field.
        what: &'static str,
        /// The string's offset.
        at: usize,
    },
    /// An end-group key without its start, or closing another group.
    #[error("unexpected end-group key at byte {at}")]
    UnexpectedEndGroup {
        /// The key's offset.
        at: usize,
    },
    /// Groups nested deeper than prost allows.
    #[error("message nested deeper than {RECURSION_LIMIT} levels at byte {at}")]
    RecursionLimit {
        /// Where the limit was hit.
        at: usize,
    },
}

/// One series of a decoded request: labels as sent (order, duplicates, empty values and
/// all) and its samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SeriesRef<'r, 'a> {
    /// (name, value) pairs in wire order; empty when decoding them was skipped (see
    /// [`WriteRequestRef::decode_labels`]).
    pub labels: &'r [(&'a str, &'a str)],
    /// The bytes of the series' label fields, as sent, when they come one after another
    /// (as every encoder writes them); else empty.
    pub encoded_labels: &'a [u8],
    /// Samples in wire order.
    pub samples: &'r [Sample],
}

/// One `MetricMetadata` entry, borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetadataRef<'a> {
    /// The `MetricType` number as sent.
    pub r#type: i32,
    /// The metric family name.
    pub metric_family_name: &'a str,
    /// HELP text.
    pub help: &'a str,
    /// UNIT text.
    pub unit: &'a str,
}

impl MetadataRef<'_> {
    /// Model metadata; unknown type numbers map to `Unknown`, as
    /// [`crate::codec::MetricMetadata::to_model`] does.
    pub fn to_model(&self) -> model::MetricMetadata {
        let t = crate::codec::MetricTypeProto::try_from(self.r#type)
            .unwrap_or(crate::codec::MetricTypeProto::Unknown);
        model::MetricMetadata {
            metric_type: t.into(),
            help: self.help.to_string(),
            unit: self.unit.to_string(),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Span {
    labels_end: usize,
    samples_end: usize,
    /// The `TimeSeries` message's contents, for labels a lazy decode left undecoded.
    message: StrSpan,
    /// The label fields' bytes, `start..end` of the body (empty when not contiguous).
    encoded: StrSpan,
}

/// A decoded `WriteRequest` borrowing from its bytes: all labels and samples in two flat
/// vectors, with one span per series.
#[derive(Debug, Default, Clone)]
pub struct WriteRequestRef<'a> {
    labels: Vec<(&'a str, &'a str)>,
    samples: Vec<Sample>,
    spans: Vec<Span>,
    /// Metadata entries in wire order.
    pub metadata: Vec<MetadataRef<'a>>,
    // The current series' labels as byte ranges of the body, before UTF-8 checks.
    pending: Vec<(StrSpan, StrSpan)>,
    buf: &'a [u8],
    lazy: bool,
}

/// A string field's bytes: `start..end` of the body.
#[derive(Debug, Clone, Copy, Default)]
struct StrSpan {
    start: usize,
    end: usize,
}

impl<'a> WriteRequestRef<'a> {
    /// Decodes a whole (decompressed) `WriteRequest`.
    pub fn decode(buf: &'a [u8]) -> Result<Self, WireError> {
        Self::decode_reusing(buf, Vec::new(), Vec::new())
    }

    /// As [`WriteRequestRef::decode_reusing`], except that `Label` messages are only
    /// delimited: [`WriteRequestRef::decode_labels`] decodes (and checks) those wanted.
    /// A receiver that finds most series from their encoded labels skips their decoding.
    pub fn decode_lazy(
        buf: &'a [u8],
        labels: Vec<(&'a str, &'a str)>,
        samples: Vec<Sample>,
    ) -> Result<Self, WireError> {
        Self::decode_with(buf, labels, samples, true)
    }

    /// After [`WriteRequestRef::decode_lazy`], decodes the labels of the series `want`
    /// names by index, checking them as a full decode does; the others' stay empty.
    /// Their bytes are not checked at all: `want` must hold for every series whose
    /// `encoded_labels` were not verified otherwise (the store matched them exactly).
    /// After a full decode every series' labels are there already, and this does nothing.
    pub fn decode_labels(&mut self, want: impl Fn(usize) -> bool) -> Result<(), WireError> {
        if !self.lazy {
            return Ok(());
        }
        self.labels.clear();
        for (i, span) in self.spans.iter_mut().enumerate() {
            if want(i) {
                self.pending.clear();
                let m = span.message;
                let mut r = Reader {
                    buf: self.buf.get(..m.end).unwrap_or_default(),
                    pos: m.start,
                    end: m.end,
                };
                // The series' other fields passed the first pass; only labels are read.
                // Nested as in a full decode: request, series, label.
                let depth = RECURSION_LIMIT - 1;
                while r.pos < r.end {
                    let (at, field, wt) = r.key()?;
                    if field != 1 {
                        r.skip(field, wt, at, depth)?;
                        continue;
                    }
                    let mut m = r.message("TimeSeries", field, wt, at, depth)?;
                    self.pending.push(label_spans(&mut m, depth - 1)?);
                }
                push_checked(&mut self.labels, self.buf, span.encoded, &self.pending)?;
            }
            span.labels_end = self.labels.len();
        }
        Ok(())
    }

    /// As [`WriteRequestRef::decode`], filling the given vectors (emptied first) so
    /// that their allocations serve request after request; see [`Self::into_buffers`].
    pub fn decode_reusing(
        buf: &'a [u8],
        labels: Vec<(&'a str, &'a str)>,
        samples: Vec<Sample>,
    ) -> Result<Self, WireError> {
        Self::decode_with(buf, labels, samples, false)
    }

    fn decode_with(
        buf: &'a [u8],
        mut labels: Vec<(&'a str, &'a str)>,
        mut samples: Vec<Sample>,
        lazy: bool,
    ) -> Result<Self, WireError> {
        labels.clear();
        samples.clear();
        // Room for a typical request up front: a label takes at least 6 bytes on the wire,
        // a sample 13; kept within the body's own size. A lazy decode fills labels later,
        // for the few series that need them.
        if !lazy {
            labels.reserve(buf.len() / 32);
        }
        samples.reserve(buf.len() / 32);
        let mut req = WriteRequestRef {
            labels,
            samples,
            spans: Vec::new(),
            metadata: Vec::new(),
            pending: Vec::new(),
            buf,
            lazy,
        };
        let mut r = Reader {
            buf,
            pos: 0,
            end: buf.len(),
        };
        let depth = RECURSION_LIMIT;
        while r.pos < r.end {
            let (at, field, wt) = r.key()?;
            match field {
                1 => {
                    let mut m = r.message("WriteRequest", field, wt, at, depth)?;
                    req.time_series(&mut m, depth - 1)?;
                }
                3 => {
                    let mut m = r.message("WriteRequest", field, wt, at, depth)?;
                    let md = metadata(&mut m, depth - 1)?;
                    req.metadata.push(md);
                }
                _ => r.skip(field, wt, at, depth)?,
            }
        }
        Ok(req)
    }

    /// The label and sample vectors back, for the next request's decode.
    pub fn into_buffers(self) -> (Vec<(&'a str, &'a str)>, Vec<Sample>) {
        (self.labels, self.samples)
    }

    /// How many series the request holds.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// True when the request holds no series.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Total samples over all series.
    pub fn num_samples(&self) -> usize {
        self.samples.len()
    }

    /// The series in wire order.
    pub fn series(&self) -> impl ExactSizeIterator<Item = SeriesRef<'_, 'a>> + '_ {
        let mut l0 = 0;
        let mut s0 = 0;
        self.spans.iter().map(move |sp| {
            let labels = self.labels.get(l0..sp.labels_end).unwrap_or(&[]);
            let samples = self.samples.get(s0..sp.samples_end).unwrap_or(&[]);
            l0 = sp.labels_end;
            s0 = sp.samples_end;
            let encoded_labels = self
                .buf
                .get(sp.encoded.start..sp.encoded.end)
                .unwrap_or_default();
            SeriesRef {
                labels,
                encoded_labels,
                samples,
            }
        })
    }

    fn time_series(&mut self, r: &mut Reader<'a>, depth: u32) -> Result<(), WireError> {
        let lazy = self.lazy;
        self.pending.clear();
        let message = StrSpan {
            start: r.pos,
            end: r.end,
        };
        // The bytes of the label fields, while they come one after another (as every
        // encoder writes them): one UTF-8 check covers them all.
        let mut region: Option<(usize, usize)> = None;
        let mut contiguous = true;
        if lazy && depth > 0 {
            // Encoders write the labels first, each with a one-byte key and length: step
            // over those without decoding them.
            let start = r.pos;
            while let Some(&[0x0a, len, ..]) = r.buf.get(r.pos..r.end)
                && len < 0x80
                && r.pos + 2 + usize::from(len) <= r.end
            {
                r.pos += 2 + usize::from(len);
            }
            if r.pos > start {
                region = Some((start, r.pos));
            }
        }
        while r.pos < r.end {
            let (at, field, wt) = r.key()?;
            match field {
                1 => {
                    let mut m = r.message("TimeSeries", field, wt, at, depth)?;
                    match region {
                        None => region = Some((at, m.end)),
                        Some((start, end)) if end == at => region = Some((start, m.end)),
                        Some(_) => contiguous = false,
                    }
                    if !lazy {
                        let l = label_spans(&mut m, depth - 1)?;
                        self.pending.push(l);
                    }
                }
                2 => {
                    let mut m = r.message("TimeSeries", field, wt, at, depth)?;
                    let s = sample(&mut m, depth - 1)?;
                    self.samples.push(s);
                }
                3 => {
                    let mut m = r.message("TimeSeries", field, wt, at, depth)?;
                    exemplar(&mut m, depth - 1)?;
                }
                _ => r.skip(field, wt, at, depth)?,
            }
        }
        let encoded = match region {
            Some((start, end)) if contiguous => StrSpan { start, end },
            _ => StrSpan::default(),
        };
        if !lazy {
            push_checked(&mut self.labels, r.buf, encoded, &self.pending)?;
        }
        self.spans.push(Span {
            labels_end: self.labels.len(),
            samples_end: self.samples.len(),
            message,
            encoded,
        });
        Ok(())
    }
}

/// Checks one series' label strings (`spans`, its label bytes `encoded` if contiguous)
/// as UTF-8 and adds them to `labels`.
fn push_checked<'a>(
    labels: &mut Vec<(&'a str, &'a str)>,
    buf: &'a [u8],
    encoded: StrSpan,
    spans: &[(StrSpan, StrSpan)],
) -> Result<(), WireError> {
    let checked = checked_region(buf, encoded);
    for &(n, v) in spans {
        let name = checked_str(buf, checked, n, "label name")?;
        let value = checked_str(buf, checked, v, "label value")?;
        labels.push((name, value));
    }
    Ok(())
}

/// The label fields' bytes of a series as one string with its offset, when they are
/// contiguous and valid UTF-8 (see [`checked_str`]).
fn checked_region(buf: &[u8], encoded: StrSpan) -> Option<(usize, &str)> {
    if encoded.start == encoded.end {
        return None;
    }
    buf.get(encoded.start..encoded.end)
        .and_then(|b| simdutf8::basic::from_utf8(b).ok())
        .map(|text| (encoded.start, text))
}

/// The string at `span`: sliced out of the already-checked label region when it lies
/// on character boundaries there, else checked on its own (which then names the error).
/// A slice of valid UTF-8 on character boundaries is exactly the string's own bytes, so
/// both ways accept the same strings.
#[inline]
fn checked_str<'a>(
    buf: &'a [u8],
    checked: Option<(usize, &'a str)>,
    span: StrSpan,
    what: &'static str,
) -> Result<&'a str, WireError> {
    // An absent field's span is empty (and not inside the region).
    if span.start == span.end {
        return Ok("");
    }
    if let Some((base, text)) = checked
        && let (Some(a), Some(b)) = (span.start.checked_sub(base), span.end.checked_sub(base))
        && let Some(s) = text.get(a..b)
    {
        return Ok(s);
    }
    let bytes = buf.get(span.start..span.end).unwrap_or_default();
    simdutf8::basic::from_utf8(bytes).map_err(|_| WireError::InvalidUtf8 {
        what,
        at: span.start,
    })
}

/// A `Label`'s name and value as byte ranges, not yet checked as UTF-8. Encoders write
/// `name` then `value` with one-byte lengths; that shape is read directly, anything
/// else field by field as prost would.
#[inline]
fn label_spans(r: &mut Reader<'_>, depth: u32) -> Result<(StrSpan, StrSpan), WireError> {
    let start = r.pos;
    if let Some(&[0x0a, n, ref rest @ ..]) = r.buf.get(start..r.end)
        && n < 0x80
        && let Some(&[0x12, m, ref value @ ..]) = rest.get(usize::from(n)..)
        && m < 0x80
        && value.len() == usize::from(m)
    {
        let name = StrSpan {
            start: start + 2,
            end: start + 2 + usize::from(n),
        };
        let value = StrSpan {
            start: name.end + 2,
            end: r.end,
        };
        r.pos = r.end;
        return Ok((name, value));
    }
    let mut name = StrSpan::default();
    let mut value = StrSpan::default();
    while r.pos < r.end {
        let (at, field, wt) = r.key()?;
        match field {
            // Each occurrence is checked, as prost checks every string it merges.
            1 => {
                name = r.string_span("Label", field, wt, at)?;
                checked_str(r.buf, None, name, "label name")?;
            }
            2 => {
                value = r.string_span("Label", field, wt, at)?;
                checked_str(r.buf, None, value, "label value")?;
            }
            _ => r.skip(field, wt, at, depth)?,
        }
    }
    Ok((name, value))
}

fn sample(r: &mut Reader<'_>, depth: u32) -> Result<Sample, WireError> {
    // Encoders write `value` (fixed64) then `timestamp` (varint): read that shape
    // directly, anything else field by field.
    let start = r.pos;
    if let Some(&[0x09, ref rest @ ..]) = r.buf.get(start..r.end)
        && let Some((value, &[0x10, ..])) = rest.split_first_chunk::<8>()
    {
        r.pos = start + 10;
        if let Ok(ts) = r.varint()
            && r.pos == r.end
        {
            return Ok(Sample {
                value: f64::from_le_bytes(*value),
                timestamp: ts as i64,
            });
        }
        r.pos = start;
    }
    let mut s = Sample {
        value: 0.0,
        timestamp: 0,
    };
    while r.pos < r.end {
        let (at, field, wt) = r.key()?;
        match field {
            1 => s.value = r.double("Sample", field, wt, at)?,
            2 => s.timestamp = r.int("Sample", field, wt, at)? as i64,
            _ => r.skip(field, wt, at, depth)?,
        }
    }
    Ok(s)
}

/// Checks an exemplar as prost would decode it; the receiver does not store exemplars.
fn exemplar(r: &mut Reader<'_>, depth: u32) -> Result<(), WireError> {
    while r.pos < r.end {
        let (at, field, wt) = r.key()?;
        match field {
            1 => {
                let mut m = r.message("Exemplar", field, wt, at, depth)?;
                let (name, value) = label_spans(&mut m, depth - 1)?;
                checked_str(m.buf, None, name, "label name")?;
                checked_str(m.buf, None, value, "label value")?;
            }
            2 => {
                r.double("Exemplar", field, wt, at)?;
            }
            3 => {
                r.int("Exemplar", field, wt, at)?;
            }
            _ => r.skip(field, wt, at, depth)?,
        }
    }
    Ok(())
}

fn metadata<'a>(r: &mut Reader<'a>, depth: u32) -> Result<MetadataRef<'a>, WireError> {
    let mut m = MetadataRef {
        r#type: 0,
        metric_family_name: "",
        help: "",
        unit: "",
    };
    while r.pos < r.end {
        let (at, field, wt) = r.key()?;
        match field {
            1 => m.r#type = r.int("MetricMetadata", field, wt, at)? as i32,
            2 => m.metric_family_name = r.string("MetricMetadata", field, wt, at, "family name")?,
            4 => m.help = r.string("MetricMetadata", field, wt, at, "help")?,
            5 => m.unit = r.string("MetricMetadata", field, wt, at, "unit")?,
            _ => r.skip(field, wt, at, depth)?,
        }
    }
    Ok(m)
}

/// A cursor over `buf[pos..end]`; `end` is the end of the message being decoded and
/// `buf` ends there too (offsets stay those of the whole body).
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    end: usize,
}

impl<'a> Reader<'a> {
    /// A varint, accepted exactly when prost's `decode_varint` accepts it.
    #[inline]
    fn varint(&mut self) -> Result<u64, WireError> {
        let at = self.pos;
        let mut v = 0u64;
        for i in 0..10 {
            let Some(&b) = self.buf.get(self.pos) else {
                return Err(WireError::TruncatedVarint { at });
            };
            self.pos += 1;
            if i == 9 && b >= 0x02 {
                return Err(WireError::VarintOverflow { at });
            }
            v |= u64::from(b & 0x7f) << (7 * i);
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(WireError::VarintOverflow { at })
    }

    /// A field key as prost's `decode_key` reads it: (offset, field number, wire type).
    #[inline]
    fn key(&mut self) -> Result<(usize, u32, u8), WireError> {
        let at = self.pos;
        let key = self.varint()?;
        if key > u64::from(u32::MAX) {
            return Err(WireError::InvalidKey { key, at });
        }
        let wire_type = (key & 7) as u8;
        if wire_type > FIXED32 {
            return Err(WireError::InvalidWireType { wire_type, at });
        }
        let field = (key as u32) >> 3;
        if field == 0 {
            return Err(WireError::ZeroField { at });
        }
        Ok((at, field, wire_type))
    }

    fn expect(
        message: &'static str,
        field: u32,
        got: u8,
        expected: u8,
        at: usize,
    ) -> Result<(), WireError> {
        if got == expected {
            Ok(())
        } else {
            Err(WireError::WrongWireType {
                message,
                field,
                got,
                expected,
                at,
            })
        }
    }

    /// Advances past `len` bytes, returning where they start.
    #[inline]
    fn advance(&mut self, len: u64) -> Result<usize, WireError> {
        let at = self.pos;
        let left = self.end.saturating_sub(self.pos);
        if len > left as u64 {
            return Err(WireError::PastEnd { len, at, left });
        }
        self.pos += len as usize;
        Ok(at)
    }

    #[inline]
    fn bytes(&mut self) -> Result<&'a [u8], WireError> {
        let len = self.varint()?;
        let at = self.advance(len)?;
        self.buf
            .get(at..self.pos)
            .ok_or(WireError::PastEnd { len, at, left: 0 })
    }

    /// A string field's byte range, not yet checked as UTF-8.
    #[inline]
    fn string_span(
        &mut self,
        message: &'static str,
        field: u32,
        wt: u8,
        key_at: usize,
    ) -> Result<StrSpan, WireError> {
        Self::expect(message, field, wt, LEN, key_at)?;
        let len = self.varint()?;
        let start = self.advance(len)?;
        Ok(StrSpan {
            start,
            end: self.pos,
        })
    }

    #[inline]
    fn string(
        &mut self,
        message: &'static str,
        field: u32,
        wt: u8,
        key_at: usize,
        what: &'static str,
    ) -> Result<&'a str, WireError> {
        Self::expect(message, field, wt, LEN, key_at)?;
        let at = self.pos;
        let b = self.bytes()?;
        // Label bytes are most of a request: a vectorised check pays (a tenth of the
        // receiver's CPU went to std's validation).
        simdutf8::basic::from_utf8(b).map_err(|_| WireError::InvalidUtf8 { what, at })
    }

    #[inline]
    fn double(
        &mut self,
        message: &'static str,
        field: u32,
        wt: u8,
        key_at: usize,
    ) -> Result<f64, WireError> {
        Self::expect(message, field, wt, FIXED64, key_at)?;
        let at = self.advance(8)?;
        let mut w = [0u8; 8];
        let b = self.buf.get(at..self.pos).ok_or(WireError::PastEnd {
            len: 8,
            at,
            left: 0,
        })?;
        w.copy_from_slice(b);
        Ok(f64::from_le_bytes(w))
    }

    #[inline]
    fn int(
        &mut self,
        message: &'static str,
        field: u32,
        wt: u8,
        key_at: usize,
    ) -> Result<u64, WireError> {
        Self::expect(message, field, wt, VARINT, key_at)?;
        self.varint()
    }

    /// A length-delimited sub-message at nesting `depth` (prost checks the limit before
    /// entering); the returned reader ends where the sub-message does.
    #[inline]
    fn message(
        &mut self,
        message: &'static str,
        field: u32,
        wt: u8,
        key_at: usize,
        depth: u32,
    ) -> Result<Reader<'a>, WireError> {
        Self::expect(message, field, wt, LEN, key_at)?;
        if depth == 0 {
            return Err(WireError::RecursionLimit { at: key_at });
        }
        let len = self.varint()?;
        let start = self.advance(len)?;
        Ok(Reader {
            // Cut at the sub-message's end, so reads need one bounds check.
            buf: self.buf.get(..self.pos).unwrap_or_default(),
            pos: start,
            end: self.pos,
        })
    }

    /// Skips an unknown field as prost's `skip_field` does, groups included.
    fn skip(&mut self, field: u32, wt: u8, key_at: usize, depth: u32) -> Result<(), WireError> {
        if depth == 0 {
            return Err(WireError::RecursionLimit { at: key_at });
        }
        let len = match wt {
            VARINT => {
                self.varint()?;
                0
            }
            FIXED32 => 4,
            FIXED64 => 8,
            LEN => self.varint()?,
            START_GROUP => loop {
                let (at, inner, inner_wt) = self.key()?;
                if inner_wt == END_GROUP {
                    if inner != field {
                        return Err(WireError::UnexpectedEndGroup { at });
                    }
                    break 0;
                }
                self.skip(inner, inner_wt, at, depth - 1)?;
            },
            _ => return Err(WireError::UnexpectedEndGroup { at: key_at }),
        };
        self.advance(len)?;
        Ok(())
    }
}
