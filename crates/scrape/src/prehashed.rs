//! Hash maps keyed by values that already are good 64-bit hashes (label-set hashes):
//! hashing them again with SipHash cost a seventh of the agent's CPU.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Passes a `u64` key through, mixed once so every bit position is usable.
#[derive(Default, Clone, Copy)]
pub struct PreHashed(u64);

impl Hasher for PreHashed {
    fn finish(&self) -> u64 {
        // One multiply and shift (from splitmix64): cheap, and spreads FNV's output
        // across both the bucket index (low bits) and hashbrown's tag (high bits).
        let z = self.0.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        z ^ (z >> 31)
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only u64 keys are used; fold anything else in so the hasher stays correct.
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

/// A map from a label-set hash.
pub type HashMapU64<V> = HashMap<u64, V, BuildHasherDefault<PreHashed>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip() {
        let mut m: HashMapU64<u32> = HashMapU64::default();
        for i in 0..10_000u64 {
            m.insert(i.wrapping_mul(0x0000_0100_0000_01b3), i as u32);
        }
        assert_eq!(m.len(), 10_000);
        assert_eq!(m.get(&(7u64.wrapping_mul(0x0000_0100_0000_01b3))), Some(&7));
    }
}
