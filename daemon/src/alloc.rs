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
//!
//! Giving freed pages back at once has a price while the daemon writes in bulk (a sync, a full
//! rescore, an import): sled frees a copy of a leaf at nearly every write, and each page given
//! back is faulted in again by the next one, with a TLB shootdown for each `madvise` (perf put
//! a fifth of a model upgrade's time in jemalloc's purging and the page faults after it). So a
//! bulk write holds a [`BulkWrites`], and while one is held freed pages are kept for
//! [`BULK_DECAY_MS`]; when the last is dropped they all go back at once.

/// jemalloc's options, read when it starts (as `MALLOC_CONF` would be; the environment
/// variable is still read after them, so a user's own setting wins).
/// - `dirty_decay_ms:0`, `muzzy_decay_ms:0`: freed pages go back to the OS at once, not ten
///   seconds later: an idle daemon would otherwise keep what it freed last. While a
///   [`BulkWrites`] is held, the dirty ones are kept for [`BULK_DECAY_MS`].
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

/// How long jemalloc keeps a freed page while a [`BulkWrites`] is held (ms).
pub const BULK_DECAY_MS: isize = 1_000;

/// Held while the daemon writes in bulk: jemalloc keeps freed pages for [`BULK_DECAY_MS`]
/// instead of giving them back at once (see the module's documentation). Holds nest and may
/// overlap across threads; the last one dropped gives every freed page back.
#[must_use = "the pages are kept only while it is held"]
#[derive(Debug)]
pub struct BulkWrites(());

/// How many [`BulkWrites`] are held; under its lock, so that the decay set always matches it.
static HELD: std::sync::Mutex<Holds> = std::sync::Mutex::new(Holds(0));

/// The count of holds, and the decay each change of it calls for.
#[derive(Debug)]
struct Holds(usize);

impl Holds {
    /// One more hold: the decay to set, when this is the first.
    fn take(&mut self) -> Option<isize> {
        self.0 += 1;
        (self.0 == 1).then_some(BULK_DECAY_MS)
    }

    /// One fewer: the decay to set (0: give everything back), when this was the last.
    fn give_back(&mut self) -> Option<isize> {
        self.0 = self.0.saturating_sub(1);
        (self.0 == 0).then_some(0)
    }
}

impl BulkWrites {
    /// Keeps freed pages until this and every other hold is dropped.
    pub fn begin() -> BulkWrites {
        let mut held = HELD.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(ms) = held.take() {
            set_dirty_decay(ms);
        }
        BulkWrites(())
    }
}

impl Drop for BulkWrites {
    fn drop(&mut self) {
        let mut held = HELD.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(ms) = held.give_back() {
            set_dirty_decay(ms);
        }
    }
}

/// An arena's dirty-page decay as jemalloc holds it now, or (`None`) the decay of arenas made
/// from now on; `None` when jemalloc does not answer (no such arena yet).
pub fn dirty_decay_ms(arena: Option<u32>) -> Option<isize> {
    let name = match arena {
        Some(arena) => format!("arena.{arena}.dirty_decay_ms\0"),
        None => "arenas.dirty_decay_ms\0".to_owned(),
    };
    // SAFETY: both are a `ssize_t` (jemalloc's manual), which `isize` is, and the name ends in
    // NUL as `raw::read` requires.
    #[allow(unsafe_code, reason = "jemalloc's controls are C; the type is the documented one")]
    let ms = unsafe { tikv_jemalloc_ctl::raw::read::<isize>(name.as_bytes()) };
    ms.ok()
}

/// Sets every arena's dirty-page decay, and the decay of arenas created from now on (jemalloc
/// makes an arena when a thread first allocates, and the one for huge allocations at the first
/// of them); set to 0, jemalloc purges an arena's freed pages at once. A failure only costs
/// speed or memory, so it is logged, not returned.
fn set_dirty_decay(ms: isize) {
    // SAFETY: `arenas.dirty_decay_ms` is a `ssize_t` (jemalloc's manual), which `isize` is, and
    // the name ends in NUL as `raw::write` requires.
    #[allow(unsafe_code, reason = "jemalloc's controls are C; the type is the documented one")]
    if let Err(e) = unsafe { tikv_jemalloc_ctl::raw::write(b"arenas.dirty_decay_ms\0", ms) } {
        tracing::debug!(error = %e, "jemalloc's decay for new arenas was not set");
    }
    let arenas = match tikv_jemalloc_ctl::arenas::narenas::read() {
        Ok(n) => n,
        Err(e) => {
            tracing::debug!(error = %e, "jemalloc's arenas cannot be listed; their decay is left as it is");
            return;
        }
    };
    for arena in 0..arenas {
        let name = format!("arena.{arena}.dirty_decay_ms\0");
        // SAFETY: `arena.<i>.dirty_decay_ms` is a `ssize_t` (jemalloc's manual), which `isize`
        // is, and the name ends in NUL as `raw::write` requires.
        #[allow(unsafe_code, reason = "jemalloc's controls are C; the type is the documented one")]
        let set = unsafe { tikv_jemalloc_ctl::raw::write(name.as_bytes(), ms) };
        // An arena number not in use yet has no arena behind it; it takes the default above.
        if let Err(e) = set {
            tracing::trace!(arena, error = %e, "an arena's decay was not set");
        }
    }
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
    use super::*;

    #[test]
    fn the_first_hold_keeps_pages_and_the_last_gives_them_back() {
        let mut holds = Holds(0);
        assert_eq!(holds.take(), Some(BULK_DECAY_MS));
        assert_eq!(holds.take(), None, "a second hold changes nothing");
        assert_eq!(holds.give_back(), None, "one is still held");
        assert_eq!(holds.give_back(), Some(0));
        assert_eq!(holds.give_back(), Some(0), "never below zero");
        assert_eq!(holds.take(), Some(BULK_DECAY_MS));
    }

    #[test]
    fn the_options_are_a_c_string() {
        let conf = MALLOC_CONF;
        assert_eq!(conf.last(), Some(&0));
        assert!(!conf[..conf.len() - 1].contains(&0));
    }
}
