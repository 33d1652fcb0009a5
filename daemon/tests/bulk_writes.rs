//! `alloc::BulkWrites` against jemalloc itself, in a process of its own: no other test holds a
//! hold here, so what jemalloc says after each step is exactly what the holds call for.

use std::sync::Barrier;

use leadline_daemon::alloc::{BULK_DECAY_MS, BulkWrites};

/// Arena 0's decay and that of arenas made from now on, which every hold sets alike.
fn dirty_decay_ms() -> Option<isize> {
    let (first, new) =
        (leadline_daemon::alloc::dirty_decay_ms(Some(0)), leadline_daemon::alloc::dirty_decay_ms(None));
    assert_eq!(first, new, "arena 0 and the arenas made from now on differ");
    first
}

// jemalloc with the daemon's options, as in `leadlined`.
leadline_daemon::global_allocator!();

/// One test, so that nothing else in this process holds a hold while it reads.
#[test]
fn holds_keep_freed_pages_until_the_last_one_ends_across_threads() {
    assert_eq!(dirty_decay_ms(), Some(0), "at rest, freed pages go back at once");

    let hold = BulkWrites::begin();
    assert_eq!(dirty_decay_ms(), Some(BULK_DECAY_MS));
    let nested = BulkWrites::begin();
    drop(hold);
    assert_eq!(dirty_decay_ms(), Some(BULK_DECAY_MS), "one hold is still held");
    drop(nested);
    assert_eq!(dirty_decay_ms(), Some(0), "the last hold gives everything back");

    // Holds begun and ended on many threads at once, overlapping in every order (as a pull, a
    // rescore and an import do): while any is held the pages are kept, and once all have
    // ended they go back.
    let threads = 8;
    let barrier = Barrier::new(threads);
    std::thread::scope(|scope| {
        for t in 0..threads {
            let barrier = &barrier;
            scope.spawn(move || {
                barrier.wait();
                for i in 0..500 {
                    let hold = BulkWrites::begin();
                    assert_eq!(dirty_decay_ms(), Some(BULK_DECAY_MS), "thread {t}, round {i}");
                    // Allocations made under a hold, as a bulk write's are.
                    let page = vec![t as u8; 64 << 10];
                    drop(page);
                    drop(hold);
                }
            });
        }
    });
    assert_eq!(dirty_decay_ms(), Some(0), "every hold ended");
}
