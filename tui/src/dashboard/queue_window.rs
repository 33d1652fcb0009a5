//! One queue tab's window onto its queue. A queue may hold 100 000 leads; the tab keeps only
//! the rows around the screen (a few pages), knows the queue's exact length, and asks the
//! daemon for the next window as the agent scrolls toward the edge of the rows it holds.
//!
//! Pure: [`QueueView::fetch`] says which window to ask for and [`QueueView::place`] takes the
//! answer in; the [`super::app::App`] turns the first into an effect and feeds it the second.

use std::ops::Range;

use leadline_shared::domain::LeadSummary;
use leadline_shared::protocol::{QueueAnchor, QueueName, QueuePage};

use super::app::visible_range;

/// The most leads one window asks for, whatever the terminal's height: the tab's memory is
/// bounded by this, not by the queue's length.
pub const MAX_WINDOW: usize = 1_000;

/// The daemon refuses a larger `limit` (its `MAX_QUEUE_LIMIT`); only a terminal taller than
/// this could ask for more, and then it gets what the daemon allows.
const DAEMON_LIMIT: usize = 5_000;

/// Margins are counted in pages of at least this many rows, so that a tiny terminal does not
/// ask the daemon again every few key presses.
const MIN_PAGE: usize = 10;

/// What a queue fetch asks for: the `Request::Queue` fields besides the name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowRequest {
    /// The first row wanted (0 is the top); the daemon ignores it when the anchor lead is in
    /// the queue.
    pub offset: u64,
    /// How many rows.
    pub limit: u32,
    /// The selected lead, to be kept where the agent sees it if the queue moved.
    pub anchor: Option<QueueAnchor>,
}

impl WindowRequest {
    /// The rows asked for, as if the queue had not moved.
    pub fn rows(&self) -> Range<usize> {
        let start = to_usize(self.offset);
        start..start.saturating_add(self.limit as usize)
    }

    /// The row the anchor lead was on when this was asked.
    fn anchor_row(&self) -> Option<usize> {
        self.anchor.as_ref().map(|a| to_usize(self.offset).saturating_add(a.before as usize))
    }
}

/// How many rows a window holds for a table `page` rows tall: the page and two pages each
/// side, at most [`MAX_WINDOW`] (unless the page alone is taller).
pub fn window_len(page: usize) -> usize {
    let page = page.max(1);
    let margins = 4 * page.max(MIN_PAGE);
    (page + margins).min(MAX_WINDOW).max(page).min(DAEMON_LIMIT)
}

/// How close (in rows) the screen may come to the edge of the rows held before the next
/// window is asked for: half the margin, so one fetch serves about a page of scrolling.
fn spare(page: usize) -> usize {
    (window_len(page).saturating_sub(page.max(1))) / 4
}

/// The rows to ask for so that the screen showing `visible` sits in the middle of the window,
/// or, near the end of a queue of `total` rows (when known), the window ends with the queue.
pub fn wanted(visible: Range<usize>, total: Option<usize>, page: usize) -> Range<usize> {
    let len = window_len(page);
    let margin = (len.saturating_sub(visible.len())) / 2;
    let mut start = visible.start.saturating_sub(margin);
    if let Some(total) = total {
        start = start.min(total.saturating_sub(len));
    }
    start..start.saturating_add(len)
}

/// Whether rows `held` of a queue of `total` rows serve a screen showing `visible`: they
/// contain it, with [`spare`] rows beyond each side where the queue goes on.
pub fn covers(held: &Range<usize>, visible: &Range<usize>, total: usize, page: usize) -> bool {
    if visible.is_empty() {
        return true;
    }
    if visible.start < held.start || held.end < visible.end {
        return false;
    }
    let spare = spare(page);
    let room_above = held.start == 0 || visible.start - held.start >= spare;
    let room_below = held.end >= total || held.end - visible.end >= spare;
    room_above && room_below
}

/// One queue tab: the queue's length, where the agent is in it, and the window of rows held.
/// Row numbers (`selected`, `offset`) are absolute: row 0 is the top of the queue.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueView {
    /// The queue.
    pub name: QueueName,
    /// How many leads the queue holds, exactly, as of the last page (0 before it).
    pub total: usize,
    /// True once the daemon answered for this queue.
    pub loaded: bool,
    /// The selected row (0 when empty).
    pub selected: usize,
    /// The first row on screen.
    pub offset: usize,
    /// The row number of `rows[0]`.
    start: usize,
    /// The rows held: a window around the screen, never the whole queue.
    rows: Vec<LeadSummary>,
    /// The window asked for and not answered yet; an answer to any other is stale.
    pending: Option<WindowRequest>,
}

impl QueueView {
    /// A tab with nothing loaded yet.
    pub fn new(name: QueueName) -> Self {
        QueueView {
            name,
            total: 0,
            loaded: false,
            selected: 0,
            offset: 0,
            start: 0,
            rows: Vec::new(),
            pending: None,
        }
    }

    /// The lead on row `row`, when that row is held.
    pub fn lead_at(&self, row: usize) -> Option<&LeadSummary> {
        self.rows.get(row.checked_sub(self.start)?)
    }

    /// The selected lead, when its row is held (right after a jump it may still be on its
    /// way).
    pub fn selected_lead(&self) -> Option<&LeadSummary> {
        self.lead_at(self.selected)
    }

    /// The rows held, by row number.
    pub fn held(&self) -> Range<usize> {
        self.start..self.start.saturating_add(self.rows.len())
    }

    /// The window asked for and not answered yet.
    pub fn pending(&self) -> Option<&WindowRequest> {
        self.pending.as_ref()
    }

    /// The rows on screen in a table `page` rows tall.
    pub fn visible(&self, page: usize) -> Range<usize> {
        visible_range(self.total, self.offset, self.selected, page)
    }

    /// Selects row `index` (clamped to the queue) and scrolls just enough to show it.
    pub fn select(&mut self, index: usize, page: usize) {
        self.selected = index.min(self.total.saturating_sub(1));
        self.offset = self.visible(page).start;
    }

    /// The window to ask for, if the screen needs one: when the rows held (or those already
    /// asked for) do not cover the screen with room to scroll, or always when `refresh`ing.
    /// The selected lead, when held, anchors the request so that it stays put if the queue
    /// moved. The request is remembered as pending; an answer to any earlier one is then stale.
    pub fn fetch(&mut self, page: usize, refresh: bool) -> Option<WindowRequest> {
        let page = page.max(1);
        let visible = if self.loaded { self.visible(page) } else { self.offset..self.offset + page };
        let total = if self.loaded { self.total } else { usize::MAX };
        if !refresh {
            if self.loaded && covers(&self.held(), &visible, total, page) {
                return None;
            }
            if self.pending.as_ref().is_some_and(|p| covers(&p.rows(), &visible, total, page)) {
                return None;
            }
        }
        let want = wanted(visible, self.loaded.then_some(self.total), page);
        let anchor = self.selected_lead().and_then(|lead| {
            let before = u32::try_from(self.selected.checked_sub(want.start)?).ok()?;
            Some(QueueAnchor { id: lead.id.clone(), before })
        });
        let request = WindowRequest {
            offset: want.start as u64,
            limit: u32::try_from(want.len()).unwrap_or(u32::MAX),
            anchor,
        };
        self.pending = Some(request.clone());
        Some(request)
    }

    /// Forgets the request in flight (it failed, or the connection went), so that the next
    /// move asks again.
    pub fn clear_pending(&mut self) {
        self.pending = None;
    }

    /// Forgets `request` if it is the one in flight (it failed).
    pub fn fail(&mut self, request: &WindowRequest) {
        if self.pending.as_ref() == Some(request) {
            self.pending = None;
        }
    }

    /// Takes in the answer to `request`, for a table `page` rows tall. The rows held become the
    /// page's, placed by the page's own offset. The selected lead stays selected and on the
    /// same screen row when it is still in the queue (found in the page, or at the anchor's
    /// new row); otherwise the selection keeps its row number, clamped to the queue's length.
    ///
    /// Returns false, changing nothing, when a later request is in flight: this answer is
    /// stale. An answer nobody is waiting for (a test's, the benchmark's) is taken.
    pub fn place(&mut self, request: &WindowRequest, page: QueuePage, height: usize) -> bool {
        match &self.pending {
            Some(pending) if pending != request => return false,
            _ => self.pending = None,
        }
        let screen_row = self.selected.saturating_sub(self.offset);
        let selected_id = self.selected_lead().map(|l| l.id.clone());
        // How far the anchor lead moved since the request: the selection moves with it.
        let shift = match (request.anchor_row(), page.anchor_at) {
            (Some(was), Some(now)) => Some((was, to_usize(now))),
            _ => None,
        };
        self.total = to_usize(page.total);
        self.start = to_usize(page.offset);
        self.rows = page.rows;
        self.loaded = true;
        let found = selected_id
            .and_then(|id| self.rows.iter().position(|l| l.id == id))
            .map(|i| self.start.saturating_add(i));
        let selected = found.unwrap_or_else(|| match shift {
            Some((was, now)) if now >= was => self.selected.saturating_add(now - was),
            Some((was, now)) => self.selected.saturating_sub(was - now),
            None => self.selected,
        });
        self.selected = selected.min(self.total.saturating_sub(1));
        self.offset =
            visible_range(self.total, self.selected.saturating_sub(screen_row), self.selected, height).start;
        true
    }
}

/// A row number from the protocol as an index. No queue comes near the cap, which only keeps
/// a corrupt answer (a total of `u64::MAX`) from overflowing the screen arithmetic.
fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX).min(usize::MAX / 2)
}

/// Answers a window request over a whole queue held in memory, as the daemon does: the anchor
/// lead, when in the queue, has `before` rows above it in the window (and `offset` is
/// ignored); an offset past the end gives no rows; `total` is the queue's length. For fake
/// daemons in tests and the benchmark.
pub fn page_of(queue: &[LeadSummary], offset: u64, limit: u32, anchor: Option<&QueueAnchor>) -> QueuePage {
    let total = queue.len();
    let anchor_at = anchor.and_then(|a| queue.iter().position(|l| l.id == a.id).map(|at| (at, a.before)));
    let start = match anchor_at {
        Some((at, before)) => at.saturating_sub(before as usize),
        None => to_usize(offset).min(total),
    };
    let end = start.saturating_add(limit as usize).min(total);
    QueuePage {
        total: total as u64,
        offset: start as u64,
        rows: queue[start..end].to_vec(),
        anchor_at: anchor_at.map(|(at, _)| at as u64),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn lead(i: usize) -> LeadSummary {
        LeadSummary { id: format!("c{i:05}"), name: format!("Lead {i}"), ..LeadSummary::default() }
    }

    fn queue(n: usize) -> Vec<LeadSummary> {
        (0..n).map(lead).collect()
    }

    /// Answers `view`'s request from `queue`, like the daemon.
    fn answer(view: &mut QueueView, queue: &[LeadSummary], request: &WindowRequest, page: usize) -> bool {
        let answer = page_of(queue, request.offset, request.limit, request.anchor.as_ref());
        view.place(request, answer, page)
    }

    /// A tab on a queue of `n` rows with the first window loaded.
    fn loaded(queue: &[LeadSummary], page: usize) -> QueueView {
        let mut view = QueueView::new(QueueName::All);
        let request = view.fetch(page, false).unwrap();
        assert!(answer(&mut view, queue, &request, page));
        view
    }

    #[test]
    fn a_window_is_the_page_and_two_pages_each_side_bounded() {
        assert_eq!(window_len(18), 90);
        assert_eq!(window_len(42), 210);
        assert_eq!(window_len(3), 43, "margins count pages of at least ten rows");
        assert_eq!(window_len(300), MAX_WINDOW);
        assert_eq!(window_len(1_200), 1_200, "never less than the screen");
        assert_eq!(window_len(60_000), DAEMON_LIMIT);
    }

    #[test]
    fn the_wanted_window_centres_the_screen_and_ends_with_the_queue() {
        assert_eq!(wanted(0..18, None, 18), 0..90);
        assert_eq!(wanted(500..518, Some(3_000), 18), 464..554);
        assert_eq!(wanted(2_982..3_000, Some(3_000), 18), 2_910..3_000, "ends with the queue");
        assert_eq!(wanted(0..5, Some(5), 18), 0..90, "a short queue: asked from the top");
    }

    #[test]
    fn the_window_held_covers_the_screen_until_a_page_from_its_edge() {
        let held = 464..554;
        assert!(covers(&held, &(500..518), 3_000, 18));
        assert!(covers(&held, &(482..500), 3_000, 18), "18 rows to spare above");
        assert!(!covers(&held, &(481..499), 3_000, 18));
        assert!(!covers(&held, &(519..537), 3_000, 18), "17 rows to spare below");
        assert!(!covers(&held, &(600..618), 3_000, 18), "outside");
        assert!(covers(&(0..90), &(0..18), 3_000, 18), "nothing above the top");
        assert!(covers(&(2_910..3_000), &(2_982..3_000), 3_000, 18), "nothing below the end");
        assert!(covers(&(0..0), &(0..0), 0, 18), "an empty queue needs nothing");
    }

    #[test]
    fn a_page_is_placed_by_its_own_offset() {
        let queue = queue(3_000);
        let mut view = loaded(&queue, 18);
        assert_eq!((view.total, view.held()), (3_000, 0..90));
        view.select(2_999, 18);
        let request = view.fetch(18, false).unwrap();
        assert_eq!((request.offset, request.limit, request.anchor.is_none()), (2_910, 90, true));
        // The daemon answered from elsewhere (clamped): rows go where it says.
        let page = QueuePage { total: 3_000, offset: 2_950, rows: queue[2_950..].to_vec(), anchor_at: None };
        assert!(view.place(&request, page, 18));
        assert_eq!(view.held(), 2_950..3_000);
        assert_eq!(view.lead_at(2_999).unwrap().id, "c02999");
        assert_eq!(view.lead_at(2_949), None);
        assert_eq!(view.selected_lead().unwrap().id, "c02999");
    }

    #[test]
    fn moving_inside_the_window_asks_for_nothing_and_near_its_edge_asks_once() {
        let queue = queue(3_000);
        let mut view = loaded(&queue, 18);
        for row in 1..=71 {
            view.select(row, 18);
            assert_eq!(view.fetch(18, false), None, "row {row}: {:?}", view.visible(18));
        }
        view.select(72, 18);
        let request = view.fetch(18, false).expect("17 rows left below the screen");
        assert_eq!(request.rows(), 19..109, "centred on the screen 55..73");
        assert_eq!(request.anchor, Some(QueueAnchor { id: "c00072".into(), before: 53 }));
        view.select(73, 18);
        assert_eq!(view.fetch(18, false), None, "already asked for");
        assert!(answer(&mut view, &queue, &request, 18));
        assert_eq!(view.held(), 19..109);
        assert_eq!((view.selected, view.offset), (73, 56), "the move made while waiting is kept");
    }

    #[test]
    fn a_stale_answer_is_dropped() {
        let queue = queue(3_000);
        let mut view = loaded(&queue, 18);
        view.select(1_000, 18);
        let first = view.fetch(18, false).unwrap();
        view.select(2_000, 18);
        let second = view.fetch(18, false).unwrap();
        assert_ne!(first, second);
        assert!(!answer(&mut view, &queue, &first, 18), "a later request is in flight");
        assert_eq!(view.held(), 0..90);
        assert!(answer(&mut view, &queue, &second, 18));
        assert!(view.held().contains(&2_000));
        // A failed request no longer blocks the next.
        view.select(100, 18);
        let third = view.fetch(18, false).unwrap();
        view.fail(&third);
        assert_eq!(view.fetch(18, false), Some(third));
    }

    #[test]
    fn new_leads_at_the_top_keep_the_selected_lead_on_its_screen_row() {
        let mut queue = queue(3_000);
        let mut view = loaded(&queue, 18);
        view.select(40, 18);
        assert_eq!(view.offset, 23);
        let lead = view.selected_lead().unwrap().id.clone();
        // Five leads arrive at the top.
        for i in 0..5 {
            queue.insert(0, LeadSummary { id: format!("new{i}"), ..LeadSummary::default() });
        }
        let request = view.fetch(18, true).unwrap();
        assert_eq!(request.anchor, Some(QueueAnchor { id: lead.clone(), before: 40 }));
        assert!(answer(&mut view, &queue, &request, 18));
        assert_eq!(view.selected_lead().unwrap().id, lead);
        assert_eq!((view.selected, view.offset, view.total), (45, 28, 3_005));
    }

    #[test]
    fn the_anchor_moves_the_selection_even_when_the_lead_is_not_held_after() {
        let queue = queue(3_000);
        let mut view = loaded(&queue, 18);
        view.select(40, 18);
        let request = view.fetch(18, true).unwrap();
        // The daemon found the anchor ten rows up, in a page that stops short of it.
        let page = QueuePage { total: 3_000, offset: 0, rows: queue[..20].to_vec(), anchor_at: Some(30) };
        assert!(view.place(&request, page, 18));
        assert_eq!((view.selected, view.offset), (30, 13), "same screen row (17)");
    }

    #[test]
    fn a_lead_that_left_the_queue_leaves_the_selection_on_its_row_clamped() {
        let queue = queue(3_000);
        let mut view = loaded(&queue, 18);
        view.select(40, 18);
        let request = view.fetch(18, true).unwrap();
        let short: Vec<LeadSummary> = queue[..30].iter().filter(|l| l.id != "c00040").cloned().collect();
        assert!(answer(&mut view, &short, &request, 18));
        assert_eq!((view.total, view.selected, view.offset), (30, 29, 12));
        let remaining: Vec<LeadSummary> = queue[41..].to_vec();
        view.select(10, 18);
        let request = view.fetch(18, true).unwrap();
        assert!(answer(&mut view, &remaining, &request, 18));
        assert_eq!(view.selected, 10, "lead c00010 is gone: row 10 stays selected");
    }

    #[test]
    fn the_rows_held_stay_bounded_across_the_whole_queue() {
        let queue = queue(3_000);
        let mut view = loaded(&queue, 18);
        let mut fetches = 0;
        for row in (0..3_000).step_by(7).chain((0..3_000).rev().step_by(11)) {
            view.select(row, 18);
            if let Some(request) = view.fetch(18, false) {
                fetches += 1;
                assert!(answer(&mut view, &queue, &request, 18));
            }
            assert!(view.held().len() <= window_len(18));
            let visible = view.visible(18);
            assert!(visible.clone().all(|r| view.lead_at(r).is_some()), "{visible:?} held {:?}", view.held());
        }
        // About one fetch per page scrolled (18 rows), each way.
        assert!((250..340).contains(&fetches), "{fetches} fetches");
    }

    #[test]
    fn a_corrupt_answer_does_not_panic() {
        let mut view = QueueView::new(QueueName::All);
        let request = view.fetch(18, false).unwrap();
        let page = QueuePage { total: u64::MAX, offset: u64::MAX, rows: queue(3), anchor_at: Some(u64::MAX) };
        assert!(view.place(&request, page, 18));
        view.select(usize::MAX, 18);
        let _ = view.visible(18);
        assert!(view.fetch(18, false).is_some());
        assert_eq!(view.selected_lead(), None);
    }

    #[test]
    fn page_of_answers_like_the_daemon() {
        let queue = queue(100);
        let page = page_of(&queue, 95, 10, None);
        assert_eq!((page.total, page.offset, page.rows.len(), page.anchor_at), (100, 95, 5, None));
        let page = page_of(&queue, 500, 10, None);
        assert_eq!((page.total, page.rows.len()), (100, 0));
        let anchor = QueueAnchor { id: "c00050".into(), before: 3 };
        let page = page_of(&queue, 0, 10, Some(&anchor));
        assert_eq!((page.offset, page.anchor_at, page.rows[3].id.as_str()), (47, Some(50), "c00050"));
        let gone = QueueAnchor { id: "nobody".into(), before: 3 };
        assert_eq!(page_of(&queue, 20, 10, Some(&gone)).offset, 20);
    }
}
