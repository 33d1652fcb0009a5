//! Memory settings for the daemon's process: the allocator (jemalloc, in every binary that
//! runs the daemon) and the kernel's huge pages.
//!
//! The store's copy-on-write pages make a sync allocation-bound and fragment the heap: every
//! insert copies a leaf of a few kilobytes and frees the old one later. Measured on a 100 k-lead
//! sync against the simulator (`leadline-bench --sync-only`), peak / settled RSS:
//! - glibc's malloc: half of ingest's time went to malloc and free (perf);
//! - mimalloc v3 (2026-11 to 2026-12-01), with huge pages off and freed memory purged at once:
//!   153 / 150 MB; mimalloc v2, 149 / 145;
//! - jemalloc with [`MALLOC_CONF`]: 141 / 136 MB, with the same sync time.
//!
//! A binary installs it with [`global_allocator!`](crate::global_allocator).

/// jemalloc's options, read when it starts (as `MALLOC_CONF` would be; the environment
/// variable is still read after them, so a user's own setting wins).
/// - `dirty_decay_ms:0`, `muzzy_decay_ms:0`: freed pages go back to the OS at once, not ten
///   seconds later: the sync frees a page of records every few tens of milliseconds, and an
///   idle daemon would otherwise keep what it freed last.
/// - `narenas:2`: the daemon's hot threads are the store writer and the two threads a page's
///   leads are derived on; jemalloc's default of four arenas a core spreads the same records
///   over eight arenas' worth of half-empty pages.
pub const MALLOC_CONF: &[u8] = b"dirty_decay_ms:0,muzzy_decay_ms:0,narenas:2\0";

/// The global allocator the daemon's binaries use.
pub use tikv_jemallocator::Jemalloc as Allocator;

/// Installs the daemon's allocator with its options, in a binary's root module:
/// `leadline_daemon::global_allocator!();`
#[macro_export]
macro_rules! global_allocator {
    () => {
        #[global_allocator]
        static GLOBAL: $crate::alloc::Allocator = $crate::alloc::Allocator;

        /// jemalloc reads its options from this symbol (tikv-jemallocator's prefixed name).
        #[allow(unsafe_code, non_upper_case_globals, reason = "jemalloc's documented way to take options")]
        #[unsafe(export_name = "_rjem_malloc_conf")]
        static malloc_conf: &[u8] = $crate::alloc::MALLOC_CONF;
    };
}

/// Applies the process-wide settings; call it first thing in `main` (the benchmark calls it
/// too, so that its in-process ingest runs as the daemon does).
pub fn tune() {
    no_transparent_huge_pages();
}

/// Turns transparent huge pages off for the process.
///
/// An allocator that asks the kernel for huge pages on its arenas (`madvise(MADV_HUGEPAGE)`)
/// keeps a partly used 2 MB region resident whole: with mimalloc, 60–115 MB of the syncing
/// daemon's RSS was `AnonHugePages`, and its peak dropped from 319 to 259 MB with them off.
/// The daemon's allocations are small records and sled nodes, which gain little from huge TLB
/// entries. The flag is the process's (all threads, later mappings included), so setting it
/// first thing covers every arena that matters.
fn no_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    if let Err(e) = rustix::thread::disable_transparent_huge_pages(true) {
        // Only costs memory. Logging is not set up yet; stderr is the service's log.
        eprintln!("leadlined: could not turn transparent huge pages off ({e}); memory use will be higher");
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_options_are_a_c_string() {
        let conf = super::MALLOC_CONF;
        assert_eq!(conf.last(), Some(&0));
        assert!(!conf[..conf.len() - 1].contains(&0));
    }
}
