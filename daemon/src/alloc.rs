//! Memory settings for the daemon's process: mimalloc (the global allocator of every binary
//! that runs the daemon) and the kernel's huge pages.
//!
//! Measured on a 100 k-lead sync against the simulator (`leadline-bench --sync-only`), peak
//! RSS: 319 MB with mimalloc's defaults; 259 MB with transparent huge pages off; with freed
//! memory also given back at once, 20–25 MB less again (see `docs/benchmarks.md`).

/// Applies the settings; call it first thing in `main` (the benchmark calls it too, so that its
/// in-process ingest runs with the daemon's allocator settings).
pub fn tune() {
    no_transparent_huge_pages();
    purge_freed_memory_at_once();
}

/// Turns transparent huge pages off for the process.
///
/// mimalloc asks the kernel for huge pages on its arenas (`madvise(MADV_HUGEPAGE)`), so a
/// partly used 2 MB region is resident whole: while syncing 100 k leads, 60–115 MB of the
/// daemon's RSS was `AnonHugePages`, and its peak dropped from 319 to 259 MB with them off
/// (`MIMALLOC_ALLOW_THP=0`, same run otherwise). The daemon's allocations are small records
/// and sled nodes, which gain little from huge TLB entries. The flag is the process's (all
/// threads, later mappings included), so setting it first thing covers every arena that matters.
fn no_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    if let Err(e) = rustix::thread::disable_transparent_huge_pages(true) {
        // Only costs memory. Logging is not set up yet; stderr is the service's log.
        eprintln!("leadlined: could not turn transparent huge pages off ({e}); memory use will be higher");
    }
}

/// mimalloc's index of its `purge_delay` option (`mi_option_e` in `mimalloc.h`; mimalloc keeps
/// retired options in place so the numbers hold across versions, 15 in both v2 and v3).
/// libmimalloc-sys names no constant for it.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Gives freed memory back to the OS when it is freed, not a delay later.
///
/// mimalloc purges free pages `purge_delay` after they empty (1 s in v3), and only when the
/// allocator runs again: an idle daemon keeps what it freed last. The sync frees a page of
/// records every few tens of milliseconds, so with the delay a second's worth of them stays
/// resident on top of what is live: with `MIMALLOC_PURGE_DELAY=0` the sync's peak was 169–181
/// MB against 187–207 MB, and the settled RSS 159–166 against 169–179 (same builds otherwise).
/// Set here rather than by environment so that a service unit need not know of it; an explicit
/// `MIMALLOC_PURGE_DELAY` still wins.
#[allow(unsafe_code, reason = "mimalloc's option API is C; the call takes and keeps no pointer")]
fn purge_freed_memory_at_once() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
        return;
    }
    // SAFETY: `mi_option_set` stores an integer in mimalloc's option table; any option index
    // below `_mi_option_last` is valid, and it is safe to call at any time from any thread.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0) }
}

#[cfg(test)]
mod tests {
    #[test]
    #[allow(unsafe_code, reason = "reads mimalloc's option table")]
    fn the_option_index_is_mimallocs_purge_delay() {
        // Before anything sets it, the option holds mimalloc's default purge delay (1000 ms in
        // v3, 10 in v2): a wrong index would read another option.
        // SAFETY: reads an integer from mimalloc's option table.
        let before = unsafe { libmimalloc_sys::mi_option_get(super::MI_OPTION_PURGE_DELAY) };
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
            assert!(before == 1000 || before == 10, "purge_delay read as {before}");
        }
        super::purge_freed_memory_at_once();
        // SAFETY: as above.
        let after = unsafe { libmimalloc_sys::mi_option_get(super::MI_OPTION_PURGE_DELAY) };
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
            assert_eq!(after, 0);
        }
    }
}
