//! Date windows over GHL's message export: pure planning, splitting and watermark rules.
//!
//! The export is read oldest first (`sortBy=createdAt`, `sortOrder=asc`) over date windows
//! (`startDate`/`endDate`), never with a cursor kept from one read to the next: GHL's cursor
//! is a point-in-time handle that shows nothing created after it and expires when idle.
//!
//! - **Steady state.** Each stream (non-email, email) has a watermark: the newest `createdAt`
//!   read. A poll reads from the watermark minus an overlap to the end, so a message that
//!   becomes visible late (GHL's index lags its writes) is still read; messages read twice are
//!   dropped by id.
//! - **Full sync.** The history is split into windows read by several chains at once, so the
//!   export is bound by the rate limit, not by one chain's round trip. When a chain finishes,
//!   the window with the most pages left is split in two and the idle chain takes the second
//!   half ([`WindowTable::split_largest`]), so no single long window is left running alone at
//!   the end. Each window's progress is saved with every page it gives, and a resumed sync
//!   starts each unfinished window from there.
//!
//! Windows are closed intervals of epoch milliseconds: a boundary millisecond belongs to both
//! neighbours, so nothing falls between two windows (duplicates are dropped by id).

use serde::{Deserialize, Serialize};

use crate::ghl::ExportStream;

/// How far back each poll re-reads: GHL's search and export lag a few seconds behind writes,
/// and a message read twice costs nothing (it is dropped by id).
pub const OVERLAP_MS: i64 = 60_000;

/// Split a window only if it is expected to hold at least this many pages more: each half
/// costs a request for its last, partial page.
pub const MIN_SPLIT_PAGES: f64 = 6.0;

/// One window of a full sync's export, as saved with each page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub id: u32,
    pub stream: ExportStream,
    /// The first millisecond of the window.
    pub start_ms: i64,
    /// The last millisecond of the window (inclusive); it moves down when the window is split.
    pub end_ms: i64,
    /// The newest `createdAt` applied to the store (the window resumes here).
    #[serde(default)]
    pub through_ms: Option<i64>,
    /// Every message of the window is applied.
    #[serde(default)]
    pub done: bool,
}

impl Window {
    /// Where reading resumes (inclusive: the messages of that millisecond are read again and
    /// dropped by id).
    pub fn resume_ms(&self) -> i64 {
        self.through_ms.map_or(self.start_ms, |t| t.max(self.start_ms))
    }
}

/// Splits `[start_ms, end_ms]` into `parts` windows of equal span (at least 1 ms each).
pub fn plan(stream: ExportStream, start_ms: i64, end_ms: i64, parts: u32, first_id: u32) -> Vec<Window> {
    if end_ms < start_ms {
        return Vec::new();
    }
    let span = (end_ms - start_ms) as i128 + 1;
    let parts = (parts.max(1) as i128).min(span);
    (0..parts)
        .map(|i| {
            let lo = start_ms as i128 + span * i / parts;
            let hi = start_ms as i128 + span * (i + 1) / parts - 1;
            Window {
                id: first_id + i as u32,
                stream,
                start_ms: lo as i64,
                end_ms: hi as i64,
                through_ms: None,
                done: false,
            }
        })
        .collect()
}

/// Where a poll of a stream starts: the watermark minus the overlap, or the beginning of
/// the history when nothing was read yet.
pub fn poll_start(watermark_ms: Option<i64>) -> Option<i64> {
    watermark_ms.map(|w| w.saturating_sub(OVERLAP_MS))
}

/// A window as the chains reading it see it.
#[derive(Debug, Clone, PartialEq)]
struct Live {
    window: Window,
    /// Being read by a chain now.
    running: bool,
    /// The newest `createdAt` fetched (ahead of what is applied).
    fetched_ms: Option<i64>,
    /// Pages fetched so far, for the density estimate.
    pages: u32,
    /// Every page of the window is fetched.
    fetched_all: bool,
}

impl Live {
    /// Pages expected before the window's end, from its own density so far (or `fallback`
    /// pages per millisecond before its first page).
    fn pages_left(&self, fallback: f64) -> f64 {
        let from = self.fetched_ms.unwrap_or(self.window.start_ms).max(self.window.start_ms);
        let left = (self.window.end_ms - from).max(0) as f64;
        let covered = (from - self.window.start_ms).max(0) as f64;
        let density = if self.pages > 0 && covered > 0.0 { self.pages as f64 / covered } else { fallback };
        left * density
    }
}

/// The windows of a full sync, shared by the chains reading them and the loop applying their
/// pages.
#[derive(Debug, Default)]
pub struct WindowTable {
    live: Vec<Live>,
    next_id: u32,
    /// Pages per millisecond assumed for a window nothing is known of yet.
    density: f64,
}

impl WindowTable {
    /// A table over saved windows (a new plan, or those of a resumed sync). `density` is the
    /// pages per millisecond to assume before a window's first page.
    pub fn new(windows: Vec<Window>, density: f64) -> WindowTable {
        let next_id = windows.iter().map(|w| w.id + 1).max().unwrap_or(0);
        let live = windows
            .into_iter()
            .map(|w| Live {
                fetched_ms: w.through_ms,
                fetched_all: w.done,
                window: w,
                running: false,
                pages: 0,
            })
            .collect();
        WindowTable { live, next_id, density }
    }

    /// The windows as they are to be saved.
    pub fn snapshot(&self) -> Vec<Window> {
        self.live.iter().map(|l| l.window.clone()).collect()
    }

    /// True when every window is applied to its end.
    pub fn all_done(&self) -> bool {
        self.live.iter().all(|l| l.window.done)
    }

    /// A window waiting for a chain, now marked running.
    pub fn take_idle(&mut self) -> Option<Window> {
        let l = self.live.iter_mut().find(|l| !l.running && !l.fetched_all)?;
        l.running = true;
        Some(l.window.clone())
    }

    /// The window's current end (it moves down when the window is split).
    pub fn end_ms(&self, id: u32) -> Option<i64> {
        self.find(id).map(|l| l.window.end_ms)
    }

    /// A chain fetched a page of window `id` reaching `newest_ms`; `all` when it was the last.
    pub fn fetched(&mut self, id: u32, newest_ms: Option<i64>, all: bool) {
        if let Some(l) = self.find_mut(id) {
            l.pages += 1;
            if newest_ms.is_some() {
                l.fetched_ms = l.fetched_ms.max(newest_ms);
            }
            if all {
                l.fetched_all = true;
                l.running = false;
            }
        }
    }

    /// A chain stopped reading window `id` before its end (an error): another may take it.
    pub fn release(&mut self, id: u32) {
        if let Some(l) = self.find_mut(id) {
            l.running = false;
        }
    }

    /// A page of window `id` reaching `newest_ms` is applied; `done` when it was the last.
    pub fn applied(&mut self, id: u32, newest_ms: Option<i64>, done: bool) {
        if let Some(l) = self.find_mut(id) {
            if newest_ms.is_some() {
                l.window.through_ms = l.window.through_ms.max(newest_ms);
            }
            l.window.done |= done;
        }
    }

    /// Splits the window with the most pages left, if it has enough to share: its end moves to
    /// the middle of what is left, and the new second half waits for a chain. Returns the new
    /// window's id.
    pub fn split_largest(&mut self) -> Option<u32> {
        let density = self.density;
        let (i, _) = self
            .live
            .iter()
            .enumerate()
            .filter(|(_, l)| !l.fetched_all)
            .map(|(i, l)| (i, l.pages_left(density)))
            .filter(|(_, pages)| *pages >= MIN_SPLIT_PAGES)
            .max_by(|a, b| a.1.total_cmp(&b.1))?;
        let l = &mut self.live[i];
        let from = l.fetched_ms.unwrap_or(l.window.start_ms).max(l.window.start_ms);
        if l.window.end_ms - from < 2 {
            return None;
        }
        let mid = from + (l.window.end_ms - from) / 2;
        let second = Window {
            id: self.next_id,
            stream: l.window.stream,
            start_ms: mid,
            end_ms: l.window.end_ms,
            through_ms: None,
            done: false,
        };
        l.window.end_ms = mid;
        self.next_id += 1;
        let id = second.id;
        self.live.push(Live {
            window: second,
            running: false,
            fetched_ms: None,
            pages: 0,
            fetched_all: false,
        });
        Some(id)
    }

    fn find(&self, id: u32) -> Option<&Live> {
        self.live.iter().find(|l| l.window.id == id)
    }

    fn find_mut(&mut self, id: u32) -> Option<&mut Live> {
        self.live.iter_mut().find(|l| l.window.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const S: ExportStream = ExportStream::Messages;

    /// The milliseconds of `[lo, hi]` not covered by any window's `[resume, end]` (unfinished)
    /// or `[start, end]` (finished).
    fn gaps(windows: &[Window], lo: i64, hi: i64) -> Vec<(i64, i64)> {
        let mut spans: Vec<(i64, i64)> = windows.iter().map(|w| (w.start_ms, w.end_ms)).collect();
        spans.sort_unstable();
        let mut out = Vec::new();
        let mut at = lo;
        for (a, b) in spans {
            if a > at {
                out.push((at, a - 1));
            }
            at = at.max(b.saturating_add(1));
        }
        if at <= hi {
            out.push((at, hi));
        }
        out
    }

    #[test]
    fn a_plan_covers_its_range_in_equal_parts() {
        let w = plan(S, 1_000, 1_999, 4, 0);
        assert_eq!(w.len(), 4);
        assert_eq!((w[0].start_ms, w[0].end_ms), (1_000, 1_249));
        assert_eq!((w[3].start_ms, w[3].end_ms), (1_750, 1_999));
        assert!(gaps(&w, 1_000, 1_999).is_empty());
        assert_eq!(plan(S, 5, 6, 8, 0).len(), 2, "never a window of no millisecond");
        assert!(plan(S, 6, 5, 3, 0).is_empty());
    }

    #[test]
    fn polls_overlap_the_watermark() {
        assert_eq!(poll_start(None), None);
        assert_eq!(poll_start(Some(1_000_000)), Some(1_000_000 - OVERLAP_MS));
    }

    #[test]
    fn the_window_with_the_most_left_is_split_where_its_chain_stands() {
        let mut t = WindowTable::new(plan(S, 0, 999_999, 2, 0), 0.0);
        let a = t.take_idle().expect("first");
        let b = t.take_idle().expect("second");
        assert!(t.take_idle().is_none());
        // Window a is dense (10 pages in its first 10 %); b finished.
        for i in 1..=10 {
            t.fetched(a.id, Some(i * 5_000), false);
        }
        t.fetched(b.id, Some(999_999), true);
        let new = t.split_largest().expect("split");
        let ends: Vec<i64> = t.snapshot().iter().map(|w| w.end_ms).collect();
        assert_eq!(t.end_ms(a.id), Some(50_000 + (499_999 - 50_000) / 2));
        assert_eq!(
            t.snapshot().iter().find(|w| w.id == new).map(|w| (w.start_ms, w.end_ms)),
            Some((t.end_ms(a.id).unwrap_or(0), 499_999))
        );
        assert_eq!(ends.len(), 3);
        assert_eq!(t.take_idle().map(|w| w.id), Some(new));
    }

    #[test]
    fn a_window_with_little_left_is_not_split() {
        let mut t = WindowTable::new(plan(S, 0, 99, 1, 0), 0.0);
        let w = t.take_idle().expect("window");
        t.fetched(w.id, Some(50), false);
        assert_eq!(t.split_largest(), None, "one page so far over half the span: about one page left");
    }

    #[test]
    fn progress_is_saved_and_resumed() {
        let mut t = WindowTable::new(plan(S, 0, 999, 2, 0), 0.0);
        t.applied(0, Some(300), false);
        t.applied(1, Some(999), true);
        let saved = t.snapshot();
        assert_eq!(saved[0].resume_ms(), 300);
        assert!(!t.all_done());
        let mut resumed = WindowTable::new(saved, 0.0);
        assert_eq!(resumed.take_idle().map(|w| (w.id, w.resume_ms())), Some((0, 300)));
        assert!(resumed.take_idle().is_none(), "the finished window is not read again");
        resumed.applied(0, Some(499), true);
        assert!(resumed.all_done());
    }

    proptest! {
        /// However chains progress and windows split, the windows cover the planned range with
        /// no gap, and each unfinished window resumes inside itself.
        #[test]
        fn splitting_never_leaves_a_gap(
            parts in 1u32..6,
            steps in proptest::collection::vec((0usize..8, 1i64..50_000, any::<bool>()), 0..60),
        ) {
            let (lo, hi) = (1_000_000i64, 1_999_999i64);
            let mut t = WindowTable::new(plan(S, lo, hi, parts, 0), 1e-4);
            let mut running: Vec<u32> = Vec::new();
            for (pick, advance, finish) in steps {
                while let Some(w) = t.take_idle() {
                    running.push(w.id);
                }
                if running.is_empty() {
                    if t.split_largest().is_none() {
                        break;
                    }
                    continue;
                }
                let id = running[pick % running.len()];
                let end = t.end_ms(id).unwrap_or(hi);
                let snap = t.snapshot();
                let w = snap.iter().find(|w| w.id == id).cloned().unwrap_or_else(|| snap[0].clone());
                let at = (w.through_ms.unwrap_or(w.start_ms) + advance).min(end);
                let last = finish || at >= end;
                t.fetched(id, Some(at), last);
                t.applied(id, Some(at), last);
                if last {
                    running.retain(|r| *r != id);
                    t.split_largest();
                }
            }
            let windows = t.snapshot();
            prop_assert!(gaps(&windows, lo, hi).is_empty(), "gaps in {:?}", windows);
            for w in &windows {
                prop_assert!(w.start_ms <= w.end_ms + 1);
                prop_assert!(w.resume_ms() >= w.start_ms);
            }
        }
    }
}
