//! The head's keyed hash of a label set, computed once per appended series.
//!
//! A label set is hashed as remote write encodes it ([`model::encode_label_pairs`]), so a
//! receiver looks a series up straight from a request's label bytes, with no decoding
//! into strings: [`hash_encoded`] of those bytes equals [`hash_pairs`] of the pairs.
//! Sixteen bytes at a time go through one folded 64x64->128 multiply (as wyhash and
//! foldhash do), the length mixed in first. The seed is random per process: label sets
//! chosen to collide cannot be planned from outside, and the hash is never persisted.

use std::cell::RefCell;

/// Two odd constants with well-spread bits (from the digits of pi), one per role.
const K0: u64 = 0x243f_6a88_85a3_08d3;
const K1: u64 = 0x1319_8a2e_0370_7344 | 1;

/// The 128-bit product of `a` and `b`, folded to 64 bits.
#[inline(always)]
fn fold_mul(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ ((p >> 64) as u64)
}

/// One string's digest, for the string tables' hasher: a string of up to 8 bytes is one
/// multiply, a longer one one per 8-byte word (the last word overlapping). The length is
/// an operand, so zero bytes are not padding.
#[inline(always)]
fn digest(seed: u64, s: &[u8]) -> u64 {
    let n = s.len();
    if n <= 8 {
        let w = match s.first_chunk::<8>() {
            Some(b) => u64::from_le_bytes(*b),
            None if n == 0 => 0,
            None => read_short(s),
        };
        return fold_mul(w ^ seed, K0 ^ n as u64);
    }
    let mut d = seed ^ n as u64;
    for w in s.chunks_exact(8) {
        let mut b = [0u8; 8];
        b.copy_from_slice(w);
        d = fold_mul(d ^ u64::from_le_bytes(b), K0);
    }
    let last = s.last_chunk::<8>().map_or(0, |b| u64::from_le_bytes(*b));
    fold_mul(d ^ last, K1)
}

/// 1 to 7 bytes as one word without a copy loop (a variable-length copy compiles to a
/// `memcpy` call). The reads may overlap: with the length already mixed in, the word
/// still determines every byte.
#[inline(always)]
fn read_short(s: &[u8]) -> u64 {
    let n = s.len();
    if n >= 4 {
        let lo = s.first_chunk::<4>().map_or(0, |b| u32::from_le_bytes(*b));
        let hi = s.last_chunk::<4>().map_or(0, |b| u32::from_le_bytes(*b));
        u64::from(lo) | (u64::from(hi) << 32)
    } else {
        let at = |i: usize| u64::from(s.get(i).copied().unwrap_or(0));
        at(0) | (at(n / 2) << 8) | (at(n.saturating_sub(1)) << 16)
    }
}

/// The hash of a label set's wire encoding, keyed by `seed`.
#[inline]
pub(crate) fn hash_encoded(seed: u64, b: &[u8]) -> u64 {
    let n = b.len();
    let mut h = fold_mul(seed ^ n as u64, K0);
    let mut words = b.chunks_exact(16);
    for w in &mut words {
        let (lo, hi) = w.split_at(8);
        h = fold_mul(word(lo) ^ seed ^ K1, word(hi) ^ h);
    }
    let rest = words.remainder();
    if !rest.is_empty() {
        // The last sixteen bytes, overlapping what came before (the length is already
        // in), or a short input read without a copy loop.
        let (lo, hi) = match b.last_chunk::<16>() {
            Some(last) => (word(&last[..8]), word(&last[8..])),
            None if rest.len() > 8 => (word(&rest[..8]), read_short(&rest[8..])),
            None => (read_short(rest), 0),
        };
        h = fold_mul(lo ^ seed ^ K1, hi ^ h);
    }
    // A last round so every input bit reaches the high bits maps index by.
    fold_mul(h ^ K1, seed ^ K0)
}

/// Eight bytes, little-endian (`b` has at least eight).
#[inline(always)]
fn word(b: &[u8]) -> u64 {
    b.first_chunk::<8>().map_or(0, |w| u64::from_le_bytes(*w))
}

thread_local! {
    /// Encoding buffer for [`hash_pairs`], kept per thread.
    static ENCODED: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// The hash of (name, value) pairs in order, keyed by `seed`: [`hash_encoded`] of their
/// wire encoding.
pub(crate) fn hash_pairs<'a>(seed: u64, pairs: impl Iterator<Item = (&'a str, &'a str)>) -> u64 {
    let hash = |buf: &mut Vec<u8>| {
        buf.clear();
        model::encode_label_pairs(pairs, buf);
        hash_encoded(seed, buf)
    };
    ENCODED.with(|buf| match buf.try_borrow_mut() {
        Ok(mut buf) => hash(&mut buf),
        // Not reentrant in practice; a fresh buffer keeps it correct if it ever were.
        Err(_) => hash(&mut Vec::new()),
    })
}

/// Hasher state for the head's string tables: [`digest`] with a random seed per table
/// (SipHash was a fifth of creating a series).
#[derive(Clone)]
pub(crate) struct StrHashState(u64);

impl Default for StrHashState {
    fn default() -> Self {
        StrHashState(super::random_seed())
    }
}

impl std::hash::BuildHasher for StrHashState {
    type Hasher = StrHasher;

    fn build_hasher(&self) -> StrHasher {
        StrHasher(self.0)
    }
}

/// Digests each byte string written into it, chained through the seed.
pub(crate) struct StrHasher(u64);

impl std::hash::Hasher for StrHasher {
    fn finish(&self) -> u64 {
        fold_mul(self.0 ^ K0, K1)
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0 = digest(self.0, bytes);
    }

    fn write_u8(&mut self, b: u8) {
        // `str` ends its hash with a 0xff marker: folded in by `finish`'s multiply.
        self.0 = self.0.rotate_left(8) ^ u64::from(b);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn h(seed: u64, pairs: &[(&str, &str)]) -> u64 {
        hash_pairs(seed, pairs.iter().copied())
    }

    #[test]
    fn moving_bytes_between_strings_changes_the_hash() {
        let s = 0x1234_5678;
        let base = h(s, &[("ab", "c")]);
        assert_ne!(base, h(s, &[("a", "bc")]));
        assert_ne!(base, h(s, &[("abc", "")]));
        assert_ne!(
            h(s, &[("a", "b"), ("c", "d")]),
            h(s, &[("a", "bc"), ("", "d")])
        );
        // Short tails: every byte counts, and zero bytes are not padding.
        assert_ne!(h(s, &[("a", "b")]), h(s, &[("a", "b\0")]));
        assert_ne!(h(s, &[("a", "b")]), h(s, &[("c", "d")]));
        for len in 1..=15 {
            let base: Vec<u8> = (0..len as u8).map(|i| b'a' + i).collect();
            let one = |b: &[u8]| h(s, &[("n", std::str::from_utf8(b).unwrap_or(""))]);
            for i in 0..len {
                let mut changed = base.clone();
                changed[i] = b'Z';
                assert_ne!(one(&base), one(&changed), "byte {i} of {len}");
            }
        }
    }

    #[test]
    fn pairs_hash_as_their_encoding_does() {
        let seed = 0xfeed;
        let long = "v".repeat(300);
        for pairs in [
            vec![],
            vec![("a", "b")],
            vec![("__name__", "up"), ("job", "node")],
            vec![
                ("__name__", "node_cpu_seconds_total"),
                ("cpu", "7"),
                ("x", &long),
            ],
        ] {
            let mut enc = Vec::new();
            model::encode_label_pairs(pairs.iter().copied(), &mut enc);
            assert_eq!(hash_encoded(seed, &enc), h(seed, &pairs), "{pairs:?}");
        }
        // Every length up to two words and a bit, and every byte of each, counts.
        let base: Vec<u8> = (0..40u8).collect();
        let mut seen = HashSet::new();
        for len in 0..=base.len() {
            assert!(
                seen.insert(hash_encoded(seed, &base[..len])),
                "length {len}"
            );
            for i in 0..len {
                let mut changed = base[..len].to_vec();
                changed[i] ^= 0x40;
                assert_ne!(
                    hash_encoded(seed, &changed),
                    hash_encoded(seed, &base[..len]),
                    "byte {i} of {len}"
                );
            }
        }
    }

    #[test]
    fn the_seed_changes_the_hash() {
        let p = [("__name__", "up"), ("job", "node")];
        assert_ne!(h(1, &p), h(2, &p));
        assert_eq!(h(7, &p), h(7, &p));
    }

    #[test]
    fn similar_label_sets_do_not_collide() {
        // 200,000 label sets differing in one short value (the common case: instance,
        // pod, cpu) give 200,000 distinct hashes, in the top bits too.
        let seed = 0x5eed;
        let mut all = HashSet::new();
        let mut top = HashSet::new();
        for i in 0..200_000u32 {
            let inst = format!("10.0.{}.{}:9100", i / 256, i % 256);
            let x = h(
                seed,
                &[("__name__", "node_cpu_seconds_total"), ("instance", &inst)],
            );
            all.insert(x);
            top.insert(x >> 46);
        }
        assert_eq!(all.len(), 200_000);
        // 2^18 buckets for 200,000 keys: a uniform hash fills about 54% of them.
        assert!(
            top.len() > 100_000,
            "{} of 262,144 top-bit buckets",
            top.len()
        );
    }
}
