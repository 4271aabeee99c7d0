//! Tuning for mimalloc, the allocator of the `omnigraph` and
//! `omnigraph-server` binaries.
//!
//! By default mimalloc returns memory that stayed free for one second to
//! the OS. A load frees and reuses large buffers (parsed blocks, id tables,
//! column chunks) on a scale of seconds, so memory returned early is soon
//! touched again, and each first touch is a page fault that zeroes the page
//! (2 MiB at a time with transparent huge pages). On a virtual machine
//! those faults were measured costing more than the parsing itself, and
//! the swings from run to run came from them (docs/dev/benchmarks.md).
//! Keeping free memory for ten seconds before returning it, as jemalloc's
//! default decay does, removes two thirds of a load's page faults.

/// mimalloc's `mi_option_purge_delay` (its index in `mi_option_t`, the same
/// in mimalloc 2 and 3); libmimalloc-sys does not name it.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// How long memory stays free before it goes back to the OS, in ms.
pub const PURGE_DELAY_MS: i64 = 10_000;

/// Applies the tuning, unless `MIMALLOC_PURGE_DELAY` is set (an operator's
/// own choice wins). Call it first thing in `main`. It only changes a
/// setting, so it is harmless where mimalloc is not the global allocator.
pub fn tune() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets one option; called before other threads start.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS as _) };
    }
}
