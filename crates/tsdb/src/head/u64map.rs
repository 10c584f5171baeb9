//! A hasher for maps keyed by u64 ids and hashes: one multiply instead of SipHash.
//! Keys are not attacker-chosen (ids are ours; label hashes are keyed by a random seed).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Spreads a u64 key with a Fibonacci multiply: a bijection on the low bits (where a
/// table indexes) that also fills the high bits (its per-slot tags).
#[inline]
pub(crate) fn spread(n: u64) -> u64 {
    n.wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// Mixes a u64 key with [`spread`] so the map's high bits vary.
#[derive(Default, Clone, Copy)]
pub(crate) struct U64Hasher(u64);

impl Hasher for U64Hasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only u64 keys use this hasher; fold anything else in byte by byte anyway.
        for &b in bytes {
            self.0 = spread(self.0 ^ u64::from(b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = spread(n);
    }
}

/// A map keyed by u64 with [`U64Hasher`].
pub(crate) type U64Map<V> = HashMap<u64, V, BuildHasherDefault<U64Hasher>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequential_keys_spread_over_high_bits() {
        let top = |k: u64| {
            let mut h = U64Hasher::default();
            h.write_u64(k);
            h.finish() >> 57
        };
        let distinct: std::collections::HashSet<u64> = (0..128).map(top).collect();
        assert!(distinct.len() > 64, "{}", distinct.len());
        let mut m: U64Map<u64> = U64Map::default();
        m.insert(3, 4);
        assert_eq!(m.get(&3), Some(&4));
    }
}
