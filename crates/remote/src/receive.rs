//! The receiving side of remote write: check headers and sizes, decode, validate labels,
//! append through one appender and commit before answering.
//!
//! Series with invalid labels and samples the store refuses (out of bounds, duplicate with
//! a different value) do not stop the rest of the request: everything valid is committed,
//! then the request is answered 400 naming how many were refused and why, as the
//! remote-write 1.0 specification asks (a 4xx so senders do not retry them forever).

use std::fmt::Write as _;

use model::{Label, Labels, METRIC_NAME_LABEL, is_valid_label_name, is_valid_metric_name};
use storage::{Appendable, StorageError, WriteIdentity};

use crate::codec::{self, DecodeError, TimeSeries};

pub mod scratch;
pub mod wire;

pub use wire::{WireError, WriteRequestRef};

/// Size bounds on one request body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceiveLimits {
    /// Largest accepted body as sent (snappy-compressed), bytes.
    pub max_compressed_bytes: usize,
    /// Largest accepted body once decompressed, bytes.
    pub max_decompressed_bytes: usize,
}

impl Default for ReceiveLimits {
    fn default() -> Self {
        ReceiveLimits {
            max_compressed_bytes: 32 << 20,
            max_decompressed_bytes: 128 << 20,
        }
    }
}

/// What one request wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteStats {
    /// Samples appended and committed.
    pub samples: usize,
    /// Series with valid labels.
    pub series: usize,
    /// Metadata entries recorded.
    pub metadata: usize,
    /// Samples refused (invalid series labels or refused by the store).
    pub rejected_samples: usize,
}

/// Why a write request was not (fully) accepted.
#[derive(Debug, thiserror::Error)]
pub enum ReceiveError {
    /// The body or its decompressed form exceeds a limit.
    #[error("request too large: {0}")]
    TooLarge(String),
    /// The body is malformed (bad snappy, bad protobuf).
    #[error("bad request: {0}")]
    BadRequest(String),
    /// Content-Type or Content-Encoding this receiver does not speak.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// Some series or samples were refused; the valid rest was committed.
    #[error("{rejected} of {total} samples rejected: {reasons}", rejected = stats.rejected_samples, total = stats.rejected_samples + stats.samples)]
    Rejected {
        /// What was written and how much was refused.
        stats: WriteStats,
        /// The first few reasons, each naming its series.
        reasons: String,
    },
    /// The store failed; nothing of this request was committed.
    #[error("storage: {0}")]
    Storage(#[from] StorageError),
}

impl ReceiveError {
    /// The HTTP status to answer with.
    pub fn status(&self) -> u16 {
        match self {
            ReceiveError::TooLarge(_) => 413,
            ReceiveError::BadRequest(_) | ReceiveError::Rejected { .. } => 400,
            ReceiveError::Unsupported(_) => 415,
            ReceiveError::Storage(StorageError::Closed) => 503,
            ReceiveError::Storage(e) if e.is_sample_error() => 400,
            ReceiveError::Storage(_) => 500,
        }
    }
}

/// The content type of remote write 1.0.
pub const CONTENT_TYPE_V1: &str = "application/x-protobuf";
/// The protobuf message named by remote write 1.0's `proto=` parameter.
pub const PROTO_V1: &str = "prometheus.WriteRequest";
/// The protobuf message named by remote write 2.0's `proto=` parameter.
pub const PROTO_V2: &str = "io.prometheus.write.v2.Request";

/// How many refusal reasons an error message carries, so it stays short.
const MAX_REASONS: usize = 3;

/// Checks the headers, decodes `body` and writes it through one appender of `app`.
pub fn handle_write(
    body: &[u8],
    content_encoding: Option<&str>,
    content_type: Option<&str>,
    app: &dyn Appendable,
    identity: &WriteIdentity,
    limits: &ReceiveLimits,
) -> Result<WriteStats, ReceiveError> {
    check_content_type(content_type)?;
    check_content_encoding(content_encoding)?;
    let mut scratch = scratch::take();
    let result = decode_and_append(body, app, identity, limits, &mut scratch);
    scratch::give(scratch);
    result
}

/// Decompresses into and decodes with pooled buffers, then appends and commits.
fn decode_and_append(
    body: &[u8],
    app: &dyn Appendable,
    identity: &WriteIdentity,
    limits: &ReceiveLimits,
    scratch: &mut scratch::Scratch,
) -> Result<WriteStats, ReceiveError> {
    let too_large_or_bad = |e| match e {
        e @ (DecodeError::CompressedTooLarge { .. } | DecodeError::DecompressedTooLarge { .. }) => {
            ReceiveError::TooLarge(e.to_string())
        }
        e => ReceiveError::BadRequest(e.to_string()),
    };
    let size = codec::snappy_checked_len(
        body,
        limits.max_compressed_bytes,
        limits.max_decompressed_bytes,
    )
    .map_err(too_large_or_bad)?;
    // Moved out for the request, so the body can be borrowed while `scratch` takes the
    // decode vectors back.
    let mut raw = std::mem::take(&mut scratch.raw);
    let result = decode_into(body, size, &mut raw, app, identity, scratch);
    scratch.raw = raw;
    result
}

fn decode_into(
    body: &[u8],
    size: usize,
    raw: &mut Vec<u8>,
    app: &dyn Appendable,
    identity: &WriteIdentity,
    scratch: &mut scratch::Scratch,
) -> Result<WriteStats, ReceiveError> {
    let n = codec::snappy_decompress_into(body, size, raw)
        .map_err(|e| ReceiveError::BadRequest(e.to_string()))?;
    let raw = raw.get(..n).unwrap_or_default();
    // The whole body is checked before anything is appended, as with prost's decode;
    // only labels are left for later, and they too are checked before any append.
    let labels = scratch.take_labels();
    let samples = std::mem::take(&mut scratch.samples);
    let mut req = WriteRequestRef::decode_lazy(raw, labels, samples).map_err(bad_protobuf)?;
    let result = append(&mut req, app, identity);
    let (labels, samples) = req.into_buffers();
    scratch.put_labels(labels);
    scratch.samples = samples;
    result
}

fn bad_protobuf(e: WireError) -> ReceiveError {
    ReceiveError::BadRequest(format!("protobuf decode: {e}"))
}

/// Appends a decoded request's series and metadata through one appender and commits.
fn append(
    req: &mut WriteRequestRef<'_>,
    app: &dyn Appendable,
    identity: &WriteIdentity,
) -> Result<WriteStats, ReceiveError> {
    let mut appender = app.appender(identity);
    appender.reserve(req.len());
    let mut stats = WriteStats::default();
    let mut reasons = Reasons::default();
    // Series the store already holds with exactly these labels are found from their
    // bytes as sent, the whole request at once; they need neither decoding into strings
    // nor validation (they passed it when created). Only the others are decoded.
    let sets: Vec<&[u8]> = req.series().map(|ts| ts.encoded_labels).collect();
    let mut found = Vec::with_capacity(sets.len());
    appender.find_encoded(&sets, &mut found);
    if let Err(e) = req.decode_labels(|i| found.get(i).copied().flatten().is_none()) {
        appender.rollback();
        return Err(bad_protobuf(e));
    }
    let mut labels: Vec<(&str, &str)> = Vec::new();
    for (i, ts) in req.series().enumerate() {
        let known = found.get(i).copied().flatten();
        if known.is_none()
            && let Err(why) = validate_pairs(ts.labels, &mut labels)
        {
            stats.rejected_samples += ts.samples.len();
            reasons.push(format!("series {}: {why}", raw_pairs_string(ts.labels)));
            continue;
        }
        stats.series += 1;
        for s in ts.samples {
            let r = match known {
                Some(series) => appender.append_found(series, s.timestamp, s.value),
                None => appender.append_pairs(&labels, s.timestamp, s.value),
            };
            match r {
                Ok(_) => stats.samples += 1,
                Err(e) if e.is_sample_error() => {
                    stats.rejected_samples += 1;
                    reasons.push(e.to_string());
                }
                Err(e) => {
                    appender.rollback();
                    return Err(ReceiveError::Storage(e));
                }
            }
        }
    }
    for m in &req.metadata {
        if m.metric_family_name.is_empty() {
            continue;
        }
        match appender.update_metadata(m.metric_family_name, &m.to_model()) {
            Ok(()) => stats.metadata += 1,
            Err(e) if e.is_sample_error() => {
                reasons.push(format!("metadata for {:?}: {e}", m.metric_family_name))
            }
            Err(e) => {
                appender.rollback();
                return Err(ReceiveError::Storage(e));
            }
        }
    }
    appender.commit()?;
    if reasons.count > 0 {
        return Err(ReceiveError::Rejected {
            stats,
            reasons: reasons.render(),
        });
    }
    Ok(stats)
}

/// Accepts remote write 1.0's content type; a missing header means 1.0, as in Prometheus.
fn check_content_type(content_type: Option<&str>) -> Result<(), ReceiveError> {
    let Some(ct) = content_type.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(());
    };
    let mut parts = ct.split(';');
    let media = parts.next().unwrap_or("").trim();
    if !media.eq_ignore_ascii_case(CONTENT_TYPE_V1) {
        return Err(ReceiveError::Unsupported(format!(
            "content type {ct:?}: expected {CONTENT_TYPE_V1:?}"
        )));
    }
    for p in parts {
        let Some((k, v)) = p.split_once('=') else {
            continue;
        };
        if k.trim().eq_ignore_ascii_case("proto") {
            let v = v.trim().trim_matches('"');
            if v != PROTO_V1 {
                return Err(ReceiveError::Unsupported(format!(
                    "content type {ct:?}: protobuf message {v:?} is not supported, only {PROTO_V1:?} (remote write 1.0)"
                )));
            }
        }
    }
    Ok(())
}

/// Accepts snappy; a missing header means snappy, as Prometheus assumes for 1.0 clients.
fn check_content_encoding(enc: Option<&str>) -> Result<(), ReceiveError> {
    match enc.map(str::trim) {
        None | Some("") => Ok(()),
        Some(e) if e.eq_ignore_ascii_case("snappy") => Ok(()),
        Some(e) => Err(ReceiveError::Unsupported(format!(
            "content encoding {e:?}: only \"snappy\" is supported"
        ))),
    }
}

/// The series' labels, validated as Prometheus's write handler does: a valid metric name,
/// valid label names, no name twice. Empty values mean absent and are dropped.
pub fn series_labels(ts: &TimeSeries) -> Result<Labels, String> {
    let raw: Vec<(&str, &str)> = ts
        .labels
        .iter()
        .map(|l| (l.name.as_str(), l.value.as_str()))
        .collect();
    let mut out = Vec::with_capacity(raw.len());
    validate_pairs(&raw, &mut out)?;
    Ok(Labels::from_sorted(
        out.into_iter().map(|(n, v)| Label::new(n, v)).collect(),
    ))
}

/// [`series_labels`] over borrowed pairs as sent: on success `out` holds the valid
/// label set, sorted by name, empty values dropped. Senders usually sort, so the pairs
/// are only sorted when they are not already.
pub fn validate_pairs<'a>(
    raw: &[(&'a str, &'a str)],
    out: &mut Vec<(&'a str, &'a str)>,
) -> Result<(), String> {
    out.clear();
    out.extend_from_slice(raw);
    // The usual request has names strictly ascending, so none can repeat: only otherwise
    // sort (stable, as the owned path's sort was: equal names keep their wire order) and
    // look for duplicates.
    if !out.windows(2).all(|w| name_before(w[0].0, w[1].0)) {
        out.sort_by(|a, b| a.0.cmp(b.0));
        if let Some(w) = out.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(format!("duplicate label name {:?}", w[0].0));
        }
    }
    let mut has_name = false;
    let mut has_empty = false;
    for &(name, value) in out.iter() {
        if name == METRIC_NAME_LABEL {
            if !is_valid_metric_name(value) {
                return Err(format!("invalid metric name {value:?}"));
            }
            has_name = true;
        } else if !is_valid_label_name(name) {
            return Err(format!("invalid label name {name:?}"));
        }
        has_empty |= value.is_empty();
    }
    if !has_name {
        return Err("no metric name (__name__ label)".to_string());
    }
    if has_empty {
        out.retain(|(_, v)| !v.is_empty());
    }
    Ok(())
}

/// `a < b` as strings; names of a series usually differ in their first byte, which is
/// compared inline before falling back to a full comparison.
#[inline]
fn name_before(a: &str, b: &str) -> bool {
    match (a.as_bytes().first(), b.as_bytes().first()) {
        (Some(x), Some(y)) if x != y => x < y,
        _ => a < b,
    }
}

/// The series as sent, in Prometheus's `{a="b", ...}` form, duplicates and all.
fn raw_pairs_string(labels: &[(&str, &str)]) -> String {
    let mut s = String::from("{");
    for (i, (name, value)) in labels.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        let _ = write!(s, "{name}={value:?}");
    }
    s.push('}');
    s
}

/// The first few refusal reasons and how many there were in all.
#[derive(Default)]
struct Reasons {
    first: Vec<String>,
    count: usize,
}

impl Reasons {
    fn push(&mut self, r: String) {
        self.count += 1;
        if self.first.len() < MAX_REASONS {
            self.first.push(r);
        }
    }

    fn render(&self) -> String {
        let mut s = self.first.join("; ");
        if self.count > self.first.len() {
            let _ = write!(s, "; and {} more", self.count - self.first.len());
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types() {
        assert!(check_content_type(None).is_ok());
        assert!(check_content_type(Some("application/x-protobuf")).is_ok());
        assert!(
            check_content_type(Some("application/x-protobuf;proto=prometheus.WriteRequest"))
                .is_ok()
        );
        let e = check_content_type(Some(
            "application/x-protobuf;proto=io.prometheus.write.v2.Request",
        ))
        .expect_err("v2");
        assert_eq!(e.status(), 415);
        assert_eq!(
            check_content_type(Some("text/plain"))
                .expect_err("text")
                .status(),
            415
        );
        assert_eq!(
            check_content_encoding(Some("zstd"))
                .expect_err("zstd")
                .status(),
            415
        );
        assert!(check_content_encoding(Some("snappy")).is_ok());
    }

    fn ts(pairs: &[(&str, &str)]) -> TimeSeries {
        TimeSeries {
            labels: pairs
                .iter()
                .map(|(n, v)| codec::Label {
                    name: n.to_string(),
                    value: v.to_string(),
                })
                .collect(),
            samples: vec![],
            exemplars: vec![],
        }
    }

    #[test]
    fn label_validation() {
        let l = series_labels(&ts(&[("job", "a"), ("__name__", "up"), ("x", "")])).expect("ok");
        assert_eq!(l.to_string(), r#"up{job="a"}"#);
        let e = series_labels(&ts(&[("__name__", "up"), ("x", "1"), ("x", "2")])).expect_err("dup");
        assert_eq!(e, r#"duplicate label name "x""#);
        assert!(series_labels(&ts(&[])).is_err());
        assert!(series_labels(&ts(&[("job", "a")])).is_err());
        assert!(series_labels(&ts(&[("__name__", "")])).is_err());
        assert!(series_labels(&ts(&[("__name__", "1up")])).is_err());
        assert!(series_labels(&ts(&[("__name__", "up"), ("a-b", "1")])).is_err());
    }
}
