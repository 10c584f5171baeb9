//! Keeps freed heap memory from staying resident.
//!
//! Ingestion allocates and frees request buffers of hundreds of kilobytes on many
//! threads. glibc raises its mmap threshold after the first such buffer is freed, so
//! later ones are carved out of the arenas, where they fragment the pages that series
//! live in; the process's resident size then stays near its peak long after the head
//! has settled (tsbench: 1,488 bytes of RSS per series against ~750 live). A fixed
//! threshold keeps large buffers in their own mappings, returned on free, and a thread
//! asks glibc every few seconds to release free pages (Go's runtime does both itself).
//! Measured: 1,002 bytes of RSS per series. Arenas are limited to one (`ARENA_MAX`).

use std::time::Duration;

/// Buffers at least this large get their own mapping (glibc's initial default).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: libc::c_int = 128 * 1024;

/// Arenas glibc may use. Its default (eight per core) gave each ingesting thread an
/// arena of its own, and every arena kept partly used pages resident after the series
/// memory in it settled: tsbench measured 711 bytes of RSS per series with the default,
/// 650 with two arenas. One arena packs the series of all threads together: 708-729
/// against 731-787 bytes per series with two at 340 samples per series (the same at 120),
/// at the same hub CPU. The hot paths allocate little (request buffers are pooled, and
/// small allocations go through glibc's per-thread caches), so one arena lock costs
/// nothing measurable.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const ARENA_MAX: libc::c_int = 1;

/// Fixes the allocator's mmap threshold and arena count; call first thing in `main`.
pub fn configure() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        for (param, value, what) in [
            (
                libc::M_MMAP_THRESHOLD,
                MMAP_THRESHOLD,
                "a fixed mmap threshold",
            ),
            (libc::M_ARENA_MAX, ARENA_MAX, "an arena limit"),
        ] {
            // SAFETY: `mallopt` only changes allocator parameters under the main arena's
            // lock; called before any other thread exists. A 0 return means the value
            // was refused, which leaves the default behaviour: nothing unsafe follows.
            let ok = unsafe { libc::mallopt(param, value) };
            if ok == 0 {
                eprintln!("warning: the allocator refused {what}");
            }
        }
    }
}

/// Starts the trimming thread once per process (a no-op where glibc's `malloc_trim`
/// does not exist): every hub started in one process (tests start many) shares it.
pub fn spawn(interval: Duration) {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| start(interval));
}

fn start(interval: Duration) {
    let started = std::thread::Builder::new()
        .name("memtrim".to_string())
        .spawn(move || {
            loop {
                std::thread::sleep(interval);
                // Request buffers the receiver pools: kept while requests come, freed
                // once none has come for an interval.
                remote::receive::scratch::release_idle(interval);
                trim();
            }
        });
    if let Err(e) = started {
        tracing::warn!("cannot start the memory trimming thread: {e}");
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn trim() {
    // SAFETY: `malloc_trim` is part of glibc's allocator API, is thread-safe (it takes
    // each arena's lock in turn) and only releases pages that hold no live allocation;
    // it reads and writes no memory of ours. The argument is the padding to keep.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim() {}
