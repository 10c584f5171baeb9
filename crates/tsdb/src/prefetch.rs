//! A hint to start fetching memory the code will read soon. Ingestion touches a
//! different series at every step, so its loads are mostly cache misses; fetches started
//! for many series before any is read overlap instead of stalling one after another.

/// Starts fetching the cache line at `p` into every cache level; a no-op elsewhere than
/// x86-64. Never reads `p` as far as the program can tell, so any address is fine.
#[inline(always)]
pub fn prefetch<T: ?Sized>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is only a hint: it never faults, whatever the address, and
    // changes no memory or register the program can observe.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p.cast::<i8>())
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}
