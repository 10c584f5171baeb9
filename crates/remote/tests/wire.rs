//! The borrowing `WriteRequest` decoder against prost: same result on valid requests,
//! both refuse malformed ones.

use proptest::prelude::*;
use prost::Message;
use remote::codec::{Exemplar, Label, MetricMetadata, Sample, TimeSeries, WriteRequest};
use remote::receive::{WireError, WriteRequestRef};

/// What prost decoded, in the borrowed decoder's shape.
type Flat = (
    Vec<(Vec<(String, String)>, Vec<(i64, u64)>)>,
    Vec<(i32, String, String, String)>,
);

fn from_prost(req: &WriteRequest) -> Flat {
    (
        req.timeseries
            .iter()
            .map(|ts| {
                (
                    ts.labels
                        .iter()
                        .map(|l| (l.name.clone(), l.value.clone()))
                        .collect(),
                    ts.samples
                        .iter()
                        .map(|s| (s.timestamp, s.value.to_bits()))
                        .collect(),
                )
            })
            .collect(),
        req.metadata
            .iter()
            .map(|m| {
                (
                    m.r#type,
                    m.metric_family_name.clone(),
                    m.help.clone(),
                    m.unit.clone(),
                )
            })
            .collect(),
    )
}

fn from_borrowed(req: &WriteRequestRef<'_>) -> Flat {
    (
        req.series()
            .map(|ts| {
                (
                    ts.labels
                        .iter()
                        .map(|(n, v)| (n.to_string(), v.to_string()))
                        .collect(),
                    ts.samples
                        .iter()
                        .map(|s| (s.timestamp, s.value.to_bits()))
                        .collect(),
                )
            })
            .collect(),
        req.metadata
            .iter()
            .map(|m| {
                (
                    m.r#type,
                    m.metric_family_name.to_string(),
                    m.help.to_string(),
                    m.unit.to_string(),
                )
            })
            .collect(),
    )
}

/// A lazy decode, then the labels of the series `want` names.
fn decode_lazy(raw: &[u8], want: impl Fn(usize) -> bool) -> Result<WriteRequestRef<'_>, WireError> {
    let mut req = WriteRequestRef::decode_lazy(raw, Vec::new(), Vec::new())?;
    req.decode_labels(want)?;
    Ok(req)
}

/// Decodes with both, fully and lazily; they must agree on acceptance and, when
/// accepted, on content. A series' encoded labels are its label fields.
fn check(raw: &[u8]) -> Result<bool, TestCaseError> {
    let p = WriteRequest::decode(raw);
    let b = WriteRequestRef::decode(raw);
    let lazy = decode_lazy(raw, |_| true);
    prop_assert_eq!(
        b.is_ok(),
        lazy.is_ok(),
        "lazy decode disagrees on {:02x?}",
        raw
    );
    match (p, b) {
        (Ok(p), Ok(b)) => {
            prop_assert_eq!(from_prost(&p), from_borrowed(&b));
            let lazy = lazy.map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(from_borrowed(&b), from_borrowed(&lazy));
            for ts in b.series() {
                if !ts.encoded_labels.is_empty() {
                    let alone = TimeSeries::decode(ts.encoded_labels)
                        .map_err(|e| TestCaseError::fail(e.to_string()))?;
                    let got: Vec<(&str, &str)> = alone
                        .labels
                        .iter()
                        .map(|l| (l.name.as_str(), l.value.as_str()))
                        .collect();
                    prop_assert_eq!(got.as_slice(), ts.labels);
                    prop_assert!(alone.samples.is_empty());
                }
            }
            // Labels left undecoded stay empty; the rest are as in a full decode.
            let some =
                decode_lazy(raw, |i| i % 2 == 0).map_err(|e| TestCaseError::fail(e.to_string()))?;
            for (i, (full, part)) in b.series().zip(some.series()).enumerate() {
                let want: &[(&str, &str)] = if i % 2 == 0 { full.labels } else { &[] };
                prop_assert_eq!(part.labels, want);
                let bits = |s: &[Sample]| -> Vec<(i64, u64)> {
                    s.iter().map(|s| (s.timestamp, s.value.to_bits())).collect()
                };
                prop_assert_eq!(bits(part.samples), bits(full.samples));
                prop_assert_eq!(part.encoded_labels, full.encoded_labels);
            }
            Ok(true)
        }
        (Err(_), Err(_)) => Ok(false),
        (p, b) => Err(TestCaseError::fail(format!(
            "disagree on {raw:02x?}: prost {p:?}, borrowed {b:?}"
        ))),
    }
}

fn label() -> impl Strategy<Value = Label> {
    (
        prop_oneof!["__name__", "job", "a", "[a-z_]{0,6}", "\\PC{0,4}"],
        // Long values give labels of 128 bytes or more: multi-byte lengths.
        prop_oneof![4 => "\\PC{0,8}", 1 => "[a-z]{118,140}"],
    )
        .prop_map(|(name, value)| Label {
            name: name.to_string(),
            value,
        })
}

fn series() -> impl Strategy<Value = TimeSeries> {
    (
        prop::collection::vec(label(), 0..5),
        prop::collection::vec((any::<i64>(), any::<u64>()), 0..4),
        prop::collection::vec(
            (
                prop::collection::vec(label(), 0..2),
                any::<f64>(),
                any::<i64>(),
            ),
            0..2,
        ),
    )
        .prop_map(|(labels, samples, exemplars)| TimeSeries {
            labels,
            samples: samples
                .into_iter()
                .map(|(timestamp, bits)| Sample {
                    value: f64::from_bits(bits),
                    timestamp,
                })
                .collect(),
            exemplars: exemplars
                .into_iter()
                .map(|(labels, value, timestamp)| Exemplar {
                    labels,
                    value,
                    timestamp,
                })
                .collect(),
        })
}

fn request() -> impl Strategy<Value = WriteRequest> {
    (
        prop::collection::vec(series(), 0..5),
        prop::collection::vec((-2i32..10, "\\PC{0,6}", "\\PC{0,6}", "\\PC{0,3}"), 0..3),
    )
        .prop_map(|(timeseries, metadata)| WriteRequest {
            timeseries,
            metadata: metadata
                .into_iter()
                .map(|(t, name, help, unit)| MetricMetadata {
                    r#type: t,
                    metric_family_name: name,
                    help,
                    unit,
                })
                .collect(),
        })
}

/// A field with `key` then `body` (a varint key; `body` already encoded).
fn field(out: &mut Vec<u8>, key: u64, body: &[u8]) {
    prost::encoding::encode_varint(key, out);
    out.extend_from_slice(body);
}

fn len_field(out: &mut Vec<u8>, num: u64, body: &[u8]) {
    let mut b = Vec::new();
    prost::encoding::encode_varint(body.len() as u64, &mut b);
    b.extend_from_slice(body);
    field(out, num << 3 | 2, &b);
}

/// Unknown fields of every wire type, groups included, inserted inside messages.
fn unknown_fields() -> Vec<u8> {
    let mut u = Vec::new();
    field(&mut u, 9 << 3, &[0x96, 0x01]); // varint
    field(&mut u, 10 << 3 | 1, &[1; 8]); // fixed64
    field(&mut u, 11 << 3 | 5, &[2; 4]); // fixed32
    len_field(&mut u, 12, b"skip me");
    // A group holding a varint and a nested group.
    field(&mut u, 13 << 3 | 3, &[]);
    field(&mut u, 1 << 3, &[5]);
    field(&mut u, 2 << 3 | 3, &[]);
    field(&mut u, 2 << 3 | 4, &[]);
    field(&mut u, 13 << 3 | 4, &[]);
    u
}

/// Re-encodes a request by hand with unknown fields sprinkled in, fields in reverse order
/// and singular fields repeated (the last wins), histograms as field 4.
fn scrambled(req: &WriteRequest) -> Vec<u8> {
    let unk = unknown_fields();
    let label = |l: &Label| {
        let mut b = Vec::new();
        len_field(&mut b, 2, b"overwritten");
        len_field(&mut b, 2, l.value.as_bytes());
        b.extend_from_slice(&unk);
        len_field(&mut b, 1, l.name.as_bytes());
        b
    };
    let mut out = Vec::new();
    out.extend_from_slice(&unk);
    for m in req.metadata.iter().rev() {
        let mut b = m.encode_to_vec();
        b.extend_from_slice(&unk);
        len_field(&mut out, 3, &b);
    }
    for ts in &req.timeseries {
        let mut b = Vec::new();
        len_field(&mut b, 4, b"\x08\x01"); // a histogram, unknown to both
        for (i, l) in ts.labels.iter().enumerate() {
            len_field(&mut b, 1, &label(l));
            if let Some(s) = ts.samples.get(i) {
                let mut sb = Vec::new();
                field(&mut sb, 2 << 3, &[7]);
                sb.extend_from_slice(&s.encode_to_vec());
                len_field(&mut b, 2, &sb);
            }
        }
        for s in ts.samples.iter().skip(ts.labels.len()) {
            len_field(&mut b, 2, &s.encode_to_vec());
        }
        for e in &ts.exemplars {
            len_field(&mut b, 3, &e.encode_to_vec());
        }
        b.extend_from_slice(&unk);
        len_field(&mut out, 1, &b);
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn agrees_with_prost_on_valid_requests(req in request()) {
        prop_assert!(check(&req.encode_to_vec())?);
        prop_assert!(check(&scrambled(&req))?);
    }

    #[test]
    fn agrees_with_prost_on_corrupted_requests(
        req in request(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        cut in any::<prop::sample::Index>(),
    ) {
        let raw = scrambled(&req);
        if raw.is_empty() {
            return Ok(());
        }
        let mut flipped = raw.clone();
        for (i, b) in &edits {
            let at = i.index(flipped.len());
            flipped[at] = *b;
        }
        check(&flipped)?;
        check(&raw[..cut.index(raw.len())])?;
    }

    /// A sorted, valid label set encodes with prost (as Prometheus and every client
    /// send it) exactly as the store hashes and matches it.
    #[test]
    fn prost_encodes_label_sets_as_the_store_expects(
        set in prop::collection::btree_map(
            prop_oneof!["[a-zA-Z_][a-zA-Z0-9_]{0,12}", "[a-z]{125,140}"],
            prop_oneof!["\\PC{1,8}", "[a-z]{118,300}"],
            0..8,
        ),
    ) {
        let ts = TimeSeries {
            labels: set
                .iter()
                .map(|(n, v)| Label { name: n.clone(), value: v.clone() })
                .collect(),
            samples: vec![],
            exemplars: vec![],
        };
        let pairs = || set.iter().map(|(n, v)| (n.as_str(), v.as_str()));
        let mut enc = Vec::new();
        model::encode_label_pairs(pairs(), &mut enc);
        prop_assert_eq!(ts.encode_to_vec(), enc.clone());
        prop_assert_eq!(model::encoded_label_pairs_len(pairs()), enc.len());
        let bytes: Vec<(&[u8], &[u8])> = set.iter().map(|(n, v)| (n.as_bytes(), v.as_bytes())).collect();
        prop_assert!(model::matches_label_pairs(&enc, bytes.iter().copied()));
        // The lazy decode sees exactly these bytes as the series' labels.
        let req = WriteRequest { timeseries: vec![ts], metadata: vec![] }.encode_to_vec();
        let lazy = WriteRequestRef::decode_lazy(&req, Vec::new(), Vec::new())
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let got = lazy.series().next().map(|s| s.encoded_labels.to_vec());
        prop_assert_eq!(got, Some(enc));
    }

    #[test]
    fn agrees_with_prost_on_random_bytes(raw in prop::collection::vec(any::<u8>(), 0..64)) {
        check(&raw)?;
    }
}

#[test]
fn malformed_inputs_are_refused_by_both() {
    let mut deep_group = Vec::new();
    for _ in 0..101 {
        field(&mut deep_group, 5 << 3 | 3, &[]);
    }
    for _ in 0..101 {
        field(&mut deep_group, 5 << 3 | 4, &[]);
    }
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("truncated varint key", vec![0x8a]),
        (
            "varint past 64 bits",
            vec![
                0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02,
            ],
        ),
        ("length past the end", vec![0x0a, 0x05, 0x0a]),
        ("bad wire type 7", vec![0x0f]),
        ("field number 0", vec![0x02, 0x00]),
        ("timeseries as varint", vec![0x08, 0x01]),
        (
            "label name invalid UTF-8",
            vec![0x0a, 0x05, 0x0a, 0x03, 0x0a, 0x01, 0xff],
        ),
        (
            "sample value as varint",
            vec![0x0a, 0x04, 0x12, 0x02, 0x08, 0x01],
        ),
        (
            "truncated double",
            vec![0x0a, 0x05, 0x12, 0x03, 0x09, 0x00, 0x00],
        ),
        (
            "exemplar label invalid UTF-8",
            vec![0x0a, 0x07, 0x1a, 0x05, 0x0a, 0x03, 0x12, 0x01, 0xc3],
        ),
        (
            "metadata help invalid UTF-8",
            vec![0x1a, 0x03, 0x22, 0x01, 0x80],
        ),
        ("stray end group", vec![0x0c]),
        ("mismatched end group", vec![0x2b, 0x34]),
        ("unterminated group", vec![0x2b, 0x08, 0x01]),
        ("groups nested too deep", deep_group),
    ];
    for (what, raw) in cases {
        let p = WriteRequest::decode(raw.as_slice());
        let b = WriteRequestRef::decode(&raw);
        assert!(p.is_err(), "{what}: prost accepted");
        let e = b.expect_err(what);
        assert!(!e.to_string().is_empty(), "{what}");
    }
    // Around the nesting limit, both draw the line at the same depth.
    for depth in 97..=102 {
        let mut g = Vec::new();
        for _ in 0..depth {
            field(&mut g, 5 << 3 | 3, &[]);
        }
        for _ in 0..depth {
            field(&mut g, 5 << 3 | 4, &[]);
        }
        assert!(check(&g).is_ok(), "depth {depth}");
        // The same inside a label, three messages down.
        let mut l = Vec::new();
        len_field(&mut l, 1, &g);
        let mut ts = Vec::new();
        len_field(&mut ts, 1, &l);
        let mut req = Vec::new();
        len_field(&mut req, 1, &ts);
        assert!(check(&req).is_ok(), "label depth {depth}");
    }
}
