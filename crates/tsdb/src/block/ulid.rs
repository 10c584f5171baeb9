//! Block ids: ULIDs (48-bit milliseconds since the Unix epoch, then 80 random bits, in
//! Crockford base32, 26 characters), so block directory names sort by creation time.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;

/// Crockford's base32 alphabet (no I, L, O, U).
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Length of a ULID's text form.
pub(crate) const LEN: usize = 26;

const RANDOM_BITS: u32 = 80;
const RANDOM_MASK: u128 = (1 << RANDOM_BITS) - 1;

/// The last id handed out in this process: ids made within one millisecond increase
/// instead of being random, so several blocks cut in a burst still sort by creation.
static LAST: Mutex<u128> = Mutex::new(0);

/// A new id, greater than every id this process made before.
pub(crate) fn new() -> String {
    // The clock is read under the lock: read before it, a thread could take the lock
    // after a later reader and go backwards.
    let mut last = LAST.lock();
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
        & ((1 << 48) - 1);
    let mut id = (u128::from(ms) << RANDOM_BITS) | (random_u128() & RANDOM_MASK);
    if id <= *last {
        // Same millisecond (or the clock went back): one more than the last id.
        id = last.wrapping_add(1);
    }
    *last = id;
    encode(id)
}

/// 128 unpredictable bits without a dependency: `RandomState` keys come from the OS's
/// random source; hashing the time, the pid and a counter with two fresh states gives
/// bits that differ across processes and calls, which is all an id needs.
fn random_u128() -> u128 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let half = |salt: u64| {
        let mut h = RandomState::new().build_hasher();
        h.write_u128(nanos);
        h.write_u32(std::process::id());
        h.write_u64(n);
        h.write_u64(salt);
        h.finish()
    };
    (u128::from(half(1)) << 64) | u128::from(half(2))
}

/// The 26-character text form of a 128-bit id.
fn encode(id: u128) -> String {
    (0..LEN)
        .map(|i| ALPHABET[((id >> (5 * (LEN - 1 - i))) & 31) as usize] as char)
        .collect()
}

/// The id of a text form, if it is one (case-insensitive, as Crockford allows).
pub(crate) fn parse(s: &str) -> Option<u128> {
    if s.len() != LEN {
        return None;
    }
    let mut id = 0u128;
    for (i, c) in s.bytes().enumerate() {
        let d = ALPHABET.iter().position(|&a| a == c.to_ascii_uppercase())? as u128;
        // The first character carries only the top 3 of 130 bits; 8 and up overflow.
        if i == 0 && d > 7 {
            return None;
        }
        id = (id << 5) | d;
    }
    Some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_26_crockford_chars_and_increase() {
        let mut prev = String::new();
        for _ in 0..1000 {
            let id = new();
            assert_eq!(id.len(), LEN);
            assert!(id.bytes().all(|c| ALPHABET.contains(&c)), "{id}");
            assert!(id > prev, "{id} after {prev}");
            assert_eq!(parse(&id).map(encode), Some(id.clone()));
            prev = id;
        }
    }

    #[test]
    fn time_is_the_prefix() {
        let ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock after 1970")
            .as_millis();
        let id = parse(&new()).expect("valid id");
        let t = id >> RANDOM_BITS;
        assert!(t >= ms && t < ms + 60_000, "{t} vs {ms}");
        assert_eq!(encode(0), "0".repeat(LEN));
        assert_eq!(encode(u128::MAX), format!("7{}", "Z".repeat(LEN - 1)));
        assert!(parse("8ZZZZZZZZZZZZZZZZZZZZZZZZZ").is_none());
        assert!(parse("0000000000000000000000000I").is_none());
    }
}
