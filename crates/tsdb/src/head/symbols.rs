//! The head's string table: every distinct label name and value once, numbered by a
//! `u32` symbol id, so a series holds 8 bytes per label pair instead of two fat `Arc`s.
//!
//! Ids are handed out under the head's table lock (`&mut` access through the index);
//! reading a symbol needs no lock: slots live in segments that never move once
//! allocated, each slot set once.

use std::sync::{Arc, OnceLock};

/// Slots in the first segment; segment `k` holds `FIRST << k`.
const FIRST: usize = 1024;
/// Segments: enough for every `u32` id.
const SEGMENTS: usize = 23;

/// One segment: slots that never move once allocated, each set once.
type Segment = Box<[OnceLock<Arc<str>>]>;

/// Append-only, lock-free-to-read table of interned strings.
pub(crate) struct Symbols {
    segments: [OnceLock<Segment>; SEGMENTS],
}

impl Default for Symbols {
    fn default() -> Self {
        Symbols {
            segments: std::array::from_fn(|_| OnceLock::new()),
        }
    }
}

/// Segment and offset of `id`.
fn locate(id: u32) -> (usize, usize) {
    let n = id as usize + FIRST;
    let k = (usize::BITS - 1 - n.leading_zeros()) as usize - FIRST.trailing_zeros() as usize;
    (k, n - (FIRST << k))
}

impl Symbols {
    /// The string of a symbol set by [`Symbols::set`].
    ///
    /// # Panics
    /// When `id` was never set: ids only come from `set`, so that is a bug.
    pub(crate) fn get(&self, id: u32) -> &Arc<str> {
        let (k, i) = locate(id);
        self.segments[k]
            .get()
            .and_then(|s| s[i].get())
            .expect("symbol id was set before use")
    }

    /// Stores `s` as symbol `id`; ids are set once each, by the one writer.
    pub(crate) fn set(&self, id: u32, s: Arc<str>) {
        let (k, i) = locate(id);
        let seg = self.segments[k].get_or_init(|| {
            (0..FIRST << k)
                .map(|_| OnceLock::new())
                .collect::<Vec<_>>()
                .into_boxed_slice()
        });
        let fresh = seg[i].set(s).is_ok();
        debug_assert!(fresh, "symbol {id} set twice");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locate_covers_ids_without_gaps() {
        assert_eq!(locate(0), (0, 0));
        assert_eq!(locate(1023), (0, 1023));
        assert_eq!(locate(1024), (1, 0));
        assert_eq!(locate(3071), (1, 2047));
        assert_eq!(locate(3072), (2, 0));
        let (k, i) = locate(u32::MAX);
        assert!(k < SEGMENTS && i < FIRST << k);
    }

    #[test]
    fn set_then_get() {
        let s = Symbols::default();
        for id in [0u32, 5, 1024, 5000] {
            s.set(id, Arc::from(id.to_string()));
        }
        assert_eq!(&**s.get(5000), "5000");
        assert_eq!(&**s.get(0), "0");
    }
}
