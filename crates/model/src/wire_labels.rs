//! A label set as remote write 1.0 puts it on the wire: the `labels` fields of a
//! `prometheus.TimeSeries`, one length-delimited `prometheus.Label` per pair.
//!
//! Every encoder writes a valid label set the same way (pairs sorted by name, `name`
//! then `value`, lengths as shortest varints, no empty strings), so those bytes identify
//! the set. A store can then hash and compare a request's label bytes as sent, without
//! decoding them into strings first; bytes written any other way simply do not match,
//! and the receiver decodes those.

/// Appends the encoding of `pairs` (sorted by name, names unique, values non-empty).
pub fn encode_label_pairs<'a>(
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    out: &mut Vec<u8>,
) {
    for (name, value) in pairs {
        let (n, v) = (name.as_bytes(), value.as_bytes());
        out.push(0x0a);
        put_varint(out, label_len(n.len(), v.len()) as u64);
        out.push(0x0a);
        put_varint(out, n.len() as u64);
        out.extend_from_slice(n);
        out.push(0x12);
        put_varint(out, v.len() as u64);
        out.extend_from_slice(v);
    }
}

/// The number of bytes [`encode_label_pairs`] writes for `pairs`.
pub fn encoded_label_pairs_len<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> usize {
    pairs
        .into_iter()
        .map(|(n, v)| {
            let len = label_len(n.len(), v.len());
            1 + varint_len(len as u64) + len
        })
        .sum()
}

/// True when `encoded` is exactly [`encode_label_pairs`] of `pairs`, compared in place.
#[inline]
pub fn matches_label_pairs<'p>(
    encoded: &[u8],
    pairs: impl IntoIterator<Item = (&'p [u8], &'p [u8])>,
) -> bool {
    let mut rest = encoded;
    for (n, v) in pairs {
        let len = label_len(n.len(), v.len());
        let next = if len < 0x80 {
            // Every length fits one byte: the name's header is one word, the value's two
            // bytes.
            short_label(rest, len as u8, n, v)
        } else {
            expect_byte(rest, 0x0a)
                .and_then(|r| expect_varint(r, len))
                .and_then(|r| expect_string(r, 0x0a, n))
                .and_then(|r| expect_string(r, 0x12, v))
        };
        match next {
            Some(r) => rest = r,
            None => return false,
        }
    }
    rest.is_empty()
}

/// The rest after a label of fewer than 128 bytes (`len`) with name `n` and value `v`.
#[inline(always)]
fn short_label<'b>(b: &'b [u8], len: u8, n: &[u8], v: &[u8]) -> Option<&'b [u8]> {
    let head = [0x0a, len, 0x0a, n.len() as u8];
    let (got, b) = b.split_first_chunk::<4>()?;
    let (name, b) = b.split_at_checked(n.len())?;
    let (vhead, b) = b.split_first_chunk::<2>()?;
    let (value, b) = b.split_at_checked(v.len())?;
    (*got == head
        && *vhead == [0x12, v.len() as u8]
        && short_bytes_eq(name, n)
        && short_bytes_eq(value, v))
    .then_some(b)
}

/// Bytes of a `Label` message with a name and a value of these lengths (both present).
#[inline]
fn label_len(name: usize, value: usize) -> usize {
    2 + varint_len(name as u64) + name + varint_len(value as u64) + value
}

#[inline]
fn varint_len(x: u64) -> usize {
    (64 - (x | 1).leading_zeros() as usize).div_ceil(7)
}

fn put_varint(out: &mut Vec<u8>, mut x: u64) {
    while x >= 0x80 {
        out.push((x as u8) | 0x80);
        x >>= 7;
    }
    out.push(x as u8);
}

#[inline]
fn expect_byte(b: &[u8], want: u8) -> Option<&[u8]> {
    match b.split_first() {
        Some((&x, rest)) if x == want => Some(rest),
        _ => None,
    }
}

/// The rest after the shortest varint of `x`, if `b` starts with it.
#[inline]
fn expect_varint(b: &[u8], x: usize) -> Option<&[u8]> {
    // Labels are short: a one-byte length is the common case.
    if x < 0x80 {
        return expect_byte(b, x as u8);
    }
    let mut x = x as u64;
    let mut b = b;
    while x >= 0x80 {
        b = expect_byte(b, (x as u8) | 0x80)?;
        x >>= 7;
    }
    expect_byte(b, x as u8)
}

/// The rest after field key `key`, the length of `s` and `s` itself.
#[inline]
fn expect_string<'b>(b: &'b [u8], key: u8, s: &[u8]) -> Option<&'b [u8]> {
    let b = expect_varint(expect_byte(b, key)?, s.len())?;
    let (head, rest) = b.split_at_checked(s.len())?;
    short_bytes_eq(head, s).then_some(rest)
}

/// Byte equality for the short strings labels are, inline: a `memcmp` call per string
/// costs more than the comparison when every appended series checks a dozen pairs.
/// Strings compare as 8-byte words (the last one overlapping), short ones as two halves.
#[inline(always)]
pub fn short_bytes_eq(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    /// The first and last `N` bytes agree (compared as one word each).
    #[inline(always)]
    fn ends<const N: usize>(a: &[u8], b: &[u8]) -> bool {
        a.first_chunk::<N>() == b.first_chunk::<N>() && a.last_chunk::<N>() == b.last_chunk::<N>()
    }
    match n {
        0 => true,
        1..=3 => a.iter().zip(b).all(|(x, y)| x == y),
        4..=7 => ends::<4>(a, b),
        8..=16 => ends::<8>(a, b),
        // Longer ones (metric names, pod names) word by word; the last word overlaps.
        _ => {
            a.chunks_exact(8)
                .zip(b.chunks_exact(8))
                .all(|(x, y)| x.first_chunk::<8>() == y.first_chunk::<8>())
                && a.last_chunk::<8>() == b.last_chunk::<8>()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_bytes_eq_agrees_with_slice_equality() {
        for n in 0..40usize {
            let a: Vec<u8> = (0..n as u8).map(|i| i.wrapping_mul(37)).collect();
            assert!(short_bytes_eq(&a, &a.clone()));
            for i in 0..n {
                let mut b = a.clone();
                b[i] ^= 1;
                assert!(!short_bytes_eq(&a, &b), "byte {i} of {n}");
            }
            assert!(!short_bytes_eq(&a, &a[..n.saturating_sub(1)]) || n == 0);
        }
    }

    fn bytes<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Iterator<Item = (&'a [u8], &'a [u8])> {
        pairs.iter().map(|(n, v)| (n.as_bytes(), v.as_bytes()))
    }

    #[test]
    fn encodes_as_protobuf_does_and_matches_only_itself() {
        let pairs = [("__name__", "up"), ("job", "node")];
        let mut enc = Vec::new();
        encode_label_pairs(pairs, &mut enc);
        // Hand-encoded protobuf: field 1 (Label) of 14 bytes, then of 11 bytes.
        let want: Vec<u8> = [
            &[0x0a, 14, 0x0a, 8][..],
            b"__name__",
            &[0x12, 2],
            b"up",
            &[0x0a, 11, 0x0a, 3],
            b"job",
            &[0x12, 4],
            b"node",
        ]
        .concat();
        assert_eq!(enc, want);
        assert_eq!(encoded_label_pairs_len(pairs), enc.len());
        assert!(matches_label_pairs(&enc, bytes(&pairs)));
        assert!(!matches_label_pairs(&enc, bytes(&pairs[..1])));
        assert!(!matches_label_pairs(&enc[..enc.len() - 1], bytes(&pairs)));
        assert!(!matches_label_pairs(
            &enc,
            bytes(&[("__name__", "up"), ("job", "nodf")])
        ));
        assert!(matches_label_pairs(&[], bytes(&[])));
    }

    #[test]
    fn long_strings_take_multi_byte_lengths() {
        let long = "x".repeat(300);
        let pairs = [("a", long.as_str())];
        let mut enc = Vec::new();
        encode_label_pairs(pairs, &mut enc);
        // Label length 2 + 1 + 1 + 2 + 300 = 306 = 0xb2 0x02; value length 300 = 0xac 0x02.
        assert_eq!(&enc[..3], &[0x0a, 0xb2, 0x02]);
        assert_eq!(&enc[6..9], &[0x12, 0xac, 0x02]);
        assert_eq!(enc.len(), 3 + 306);
        assert_eq!(encoded_label_pairs_len(pairs), enc.len());
        assert!(matches_label_pairs(&enc, bytes(&pairs)));
        // A longer-than-needed varint is valid protobuf but not this encoding.
        let mut padded = vec![0x0a, 0xb2, 0x82, 0x00];
        padded.extend_from_slice(&enc[3..]);
        assert!(!matches_label_pairs(&padded, bytes(&pairs)));
        assert_eq!((varint_len(0), varint_len(127), varint_len(128)), (1, 1, 2));
        assert_eq!(varint_len(u64::MAX), 10);
    }
}
