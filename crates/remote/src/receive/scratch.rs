//! Buffers for decoding requests, reused from one request to the next.
//!
//! A typical request needs a few hundred kilobytes for its decompressed body and as much
//! again for its decoded labels. Allocated per request, buffers that size get their own
//! mappings: every request then paid page faults to fill them and, when they were
//! unmapped, TLB shootdowns on every core (about a tenth of the receiver's CPU). Kept in
//! a small pool they are mapped once. The pool gives memory back on its own terms: a
//! buffer larger than [`KEEP_BYTES`] is not kept, and [`release_idle`] drops buffers no
//! request has used for a while, so an idle receiver holds nothing.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::codec::Sample;

/// Buffers above this many bytes go back to the allocator after their request.
pub const KEEP_BYTES: usize = 8 << 20;

/// At most this many idle buffer sets are pooled (one per concurrent request is enough).
const MAX_POOLED: usize = 16;

/// One request's buffers, empty, with their capacity.
#[derive(Debug, Default)]
pub struct Scratch {
    /// The decompressed body (its length is kept: decompression overwrites it).
    pub raw: Vec<u8>,
    /// Label pairs' storage (always empty here; see [`Scratch::labels`]).
    labels: Vec<(&'static str, &'static str)>,
    /// Samples' storage.
    pub samples: Vec<Sample>,
    last_used: Option<Instant>,
}

impl Scratch {
    /// The label-pair storage, retyped for borrows of a new body: the vector is empty,
    /// so re-collecting it moves no element and keeps the allocation.
    pub fn take_labels<'a>(&mut self) -> Vec<(&'a str, &'a str)> {
        retype(std::mem::take(&mut self.labels))
    }

    /// Returns label-pair storage to the set, emptied.
    pub fn put_labels(&mut self, labels: Vec<(&str, &str)>) {
        self.labels = retype(labels);
    }

    fn bytes(&self) -> usize {
        self.raw.capacity()
            + self.labels.capacity() * std::mem::size_of::<(&str, &str)>()
            + self.samples.capacity() * std::mem::size_of::<Sample>()
    }
}

/// An emptied vector of pairs with other lifetimes, in the same allocation (the standard
/// library collects a `Vec` into one of the same layout in place).
fn retype<'a, 'b>(mut v: Vec<(&'a str, &'a str)>) -> Vec<(&'b str, &'b str)> {
    v.clear();
    v.into_iter().map(|_| ("", "")).collect()
}

static POOL: Mutex<Vec<Scratch>> = Mutex::new(Vec::new());

/// A buffer set for one request: a pooled one if any, else a new empty one.
pub fn take() -> Scratch {
    let mut pool = POOL.lock().unwrap_or_else(|e| e.into_inner());
    pool.pop().unwrap_or_default()
}

/// Gives a request's buffers back for the next request, unless they grew too large.
pub fn give(mut s: Scratch) {
    if s.bytes() > KEEP_BYTES {
        return;
    }
    s.samples.clear();
    s.last_used = Some(Instant::now());
    let mut pool = POOL.lock().unwrap_or_else(|e| e.into_inner());
    if pool.len() < MAX_POOLED {
        pool.push(s);
    }
}

/// Frees pooled buffers no request has used for `idle`; returns how many bytes.
pub fn release_idle(idle: Duration) -> usize {
    let mut pool = POOL.lock().unwrap_or_else(|e| e.into_inner());
    let now = Instant::now();
    let mut freed = 0;
    pool.retain(|s| {
        let keep = s
            .last_used
            .is_some_and(|t| now.saturating_duration_since(t) < idle);
        if !keep {
            freed += s.bytes();
        }
        keep
    });
    freed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retyping_keeps_the_allocation() {
        let mut v: Vec<(&str, &str)> = Vec::with_capacity(1000);
        v.push(("a", "b"));
        let ptr = v.as_ptr() as usize;
        let w: Vec<(&'static str, &'static str)> = retype(v);
        assert!(w.is_empty());
        assert_eq!(w.capacity(), 1000);
        assert_eq!(w.as_ptr() as usize, ptr);
    }

    #[test]
    fn buffers_are_reused_then_released_when_idle() {
        // Other tests in this process may use the pool too: count only our own bytes.
        let mut s = take();
        s.raw = vec![0; 4096];
        let raw_ptr = s.raw.as_ptr() as usize;
        give(s);
        let again = take();
        // LIFO: the set just given back is the one handed out next (unless a concurrent
        // test took it first; then ours is still pooled and released below).
        let reused = again.raw.as_ptr() as usize == raw_ptr;
        give(again);
        assert!(release_idle(Duration::from_secs(3600)) == 0 || !reused);
        assert!(release_idle(Duration::ZERO) >= 4096);
    }

    #[test]
    fn oversized_buffers_are_not_kept() {
        let mut s = take();
        s.raw = Vec::with_capacity(KEEP_BYTES + 1);
        give(s);
        let pooled: usize = POOL
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(Scratch::bytes)
            .max()
            .unwrap_or(0);
        assert!(pooled <= KEEP_BYTES);
    }
}
