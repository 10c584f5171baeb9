//! A cache prefetch hint, for the ingestion path's known next misses.

/// Asks the CPU to start loading the cache line holding `p` into every cache level.
/// Only a hint: a no-op off x86_64.
#[inline(always)]
pub(crate) fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch never faults, whatever the address, and changes no memory or
    // register the program can observe; `p` is never dereferenced.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p.cast::<i8>())
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}
