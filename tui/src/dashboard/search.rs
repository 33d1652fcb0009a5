//! The search screen's state: the query being typed, the leads that match it as the daemon
//! last answered, and which one is selected. Pure: the [`super::app::App`] asks for answers
//! through effects (debounced, numbered) and hands them in; an answer to anything but the
//! latest query is dropped.

use std::ops::Range;
use std::time::Duration;

use leadline_shared::domain::LeadSummary;
use leadline_shared::protocol::SearchPage;

use super::app::{Screen, visible_range};
use super::input::TextInput;

/// How long the query must rest before it is sent: a word typed at speed costs one request.
pub const SEARCH_DEBOUNCE: Duration = Duration::from_millis(150);

/// How many leads the screen asks for: more than a screen holds, few enough for one frame.
pub const SEARCH_LIMIT: u32 = 100;

/// The search screen's state.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchView {
    /// The query.
    pub input: TextInput,
    /// Keys go to the query (typing, arrows move the selection); otherwise to the keymap.
    pub editing: bool,
    /// The query the rows answer (`None` before the first answer, or after the query was
    /// cleared).
    pub answered: Option<String>,
    /// The words the daemon searched for.
    pub terms: Vec<String>,
    /// How many leads match in all.
    pub total: u64,
    /// The best of them, best first.
    pub rows: Vec<LeadSummary>,
    /// The selected row.
    pub selected: usize,
    /// The first row drawn.
    pub offset: usize,
    /// The number of the latest query (typed, or asked again); answers to others are dropped.
    pub seq: u64,
    /// The latest query has no answer yet.
    pub pending: bool,
    /// Enter was pressed before the answer came: open its first lead when it does.
    pub open_when_loaded: bool,
    /// Why the latest query got no answer.
    pub error: Option<String>,
    /// Where closing the search goes back to.
    pub back_to: Screen,
}

impl Default for SearchView {
    fn default() -> Self {
        SearchView::new()
    }
}

impl SearchView {
    /// No query yet.
    pub fn new() -> Self {
        SearchView {
            input: TextInput::new(),
            editing: false,
            answered: None,
            terms: Vec::new(),
            total: 0,
            rows: Vec::new(),
            selected: 0,
            offset: 0,
            seq: 0,
            pending: false,
            open_when_loaded: false,
            error: None,
            back_to: Screen::Queue,
        }
    }

    /// The query as sent: the input without surrounding blanks.
    pub fn query(&self) -> &str {
        self.input.value().trim()
    }

    /// The selected lead, if any.
    pub fn selected_lead(&self) -> Option<&LeadSummary> {
        self.rows.get(self.selected)
    }

    /// The rows a table `page` rows tall shows.
    pub fn visible(&self, page: usize) -> Range<usize> {
        visible_range(self.rows.len(), self.offset, self.selected, page)
    }

    /// Selects row `target` (clamped), scrolling a table `page` rows tall as little as needed.
    pub fn select(&mut self, target: usize, page: usize) {
        self.selected = target.min(self.rows.len().saturating_sub(1));
        self.offset = self.visible(page).start;
    }

    /// The query was edited. Returns the new query's number to ask with (after the
    /// debounce), or `None` when it is blank: the results are cleared and nothing is asked.
    pub fn changed(&mut self) -> Option<u64> {
        self.seq += 1;
        self.error = None;
        self.open_when_loaded = false;
        if self.query().is_empty() {
            self.pending = false;
            self.answered = None;
            self.terms.clear();
            self.total = 0;
            self.rows.clear();
            self.selected = 0;
            self.offset = 0;
            return None;
        }
        self.pending = true;
        Some(self.seq)
    }

    /// The same query is to be asked again now (the leads changed, a reconnect): its new
    /// number, or `None` when there is no query.
    pub fn again(&mut self) -> Option<u64> {
        if self.query().is_empty() {
            return None;
        }
        self.seq += 1;
        self.pending = true;
        Some(self.seq)
    }

    /// Takes the answer to query `seq` (`query` as it was sent) in; false when it answers an
    /// older query and was dropped. The selection stays on its lead when the same query was
    /// answered again, else goes to the best match.
    pub fn load(&mut self, seq: u64, query: &str, page: SearchPage, page_rows: usize) -> bool {
        if seq != self.seq {
            return false;
        }
        let same = self.answered.as_deref() == Some(query);
        let kept = self.selected_lead().map(|l| l.id.clone()).filter(|_| same);
        self.answered = Some(query.to_owned());
        self.terms = page.terms;
        self.total = page.total;
        self.rows = page.rows;
        self.pending = false;
        self.error = None;
        let target = kept.and_then(|id| self.rows.iter().position(|l| l.id == id));
        if target.is_none() && !same {
            self.offset = 0;
        }
        self.select(target.unwrap_or(if same { self.selected } else { 0 }), page_rows);
        true
    }

    /// The daemon could not answer query `seq`; false when it is an older one.
    pub fn fail(&mut self, seq: u64, error: String) -> bool {
        if seq != self.seq {
            return false;
        }
        self.pending = false;
        self.open_when_loaded = false;
        self.error = Some(error);
        true
    }

    /// A request in flight will not be answered (the connection broke): it is asked again
    /// on reconnecting.
    pub fn drop_pending(&mut self) {
        self.pending = false;
        self.open_when_loaded = false;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    use super::*;

    fn typed(text: &str) -> TextInput {
        let mut input = TextInput::new();
        for c in text.chars() {
            input.handle_key(&KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
        }
        input
    }

    fn row(id: &str) -> LeadSummary {
        LeadSummary { id: id.into(), name: id.to_uppercase(), ..LeadSummary::default() }
    }

    fn page(ids: &[&str]) -> SearchPage {
        SearchPage {
            terms: vec!["x".into()],
            total: ids.len() as u64,
            rows: ids.iter().map(|i| row(i)).collect(),
        }
    }

    #[test]
    fn only_the_latest_query_is_answered() {
        let mut s = SearchView::new();
        s.input = typed("mar");
        let first = s.changed().unwrap();
        s.input = typed("maria");
        let second = s.changed().unwrap();
        assert!(s.pending);
        assert!(!s.load(first, "mar", page(&["a", "b"]), 10), "an older answer is dropped");
        assert!(s.rows.is_empty());
        assert!(s.load(second, "maria", page(&["b"]), 10));
        assert_eq!((s.rows.len(), s.pending, s.answered.as_deref()), (1, false, Some("maria")));
        assert!(!s.fail(first, "late".into()));
        assert_eq!(s.error, None);
    }

    #[test]
    fn the_selection_stays_on_its_lead_when_the_same_query_is_answered_again() {
        let mut s = SearchView::new();
        s.input = typed("ann");
        let seq = s.changed().unwrap();
        s.load(seq, "ann", page(&["a", "b", "c"]), 10);
        s.select(1, 10);
        let seq = s.again().unwrap();
        s.load(seq, "ann", page(&["z", "a", "b", "c"]), 10);
        assert_eq!(s.selected_lead().map(|l| l.id.as_str()), Some("b"), "a new match above moves it down");
        // A new query starts at its best match.
        s.input = typed("anna");
        let seq = s.changed().unwrap();
        s.load(seq, "anna", page(&["c", "b"]), 10);
        assert_eq!(s.selected, 0);
    }

    #[test]
    fn a_blank_query_clears_the_results_and_asks_nothing() {
        let mut s = SearchView::new();
        s.input = typed("bo");
        let seq = s.changed().unwrap();
        s.load(seq, "bo", page(&["a"]), 10);
        s.input = typed("  ");
        assert_eq!(s.changed(), None);
        assert!(s.rows.is_empty() && s.answered.is_none() && !s.pending);
        assert_eq!(s.again(), None);
    }

    #[test]
    fn selection_is_clamped_and_scrolls_by_the_page() {
        let mut s = SearchView::new();
        s.input = typed("x");
        let seq = s.changed().unwrap();
        let ids: Vec<String> = (0..30).map(|i| format!("c{i}")).collect();
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        s.load(seq, "x", page(&refs), 10);
        s.select(25, 10);
        assert_eq!((s.selected, s.visible(10)), (25, 16..26));
        s.select(usize::MAX, 10);
        assert_eq!(s.selected, 29);
        s.select(0, 10);
        assert_eq!(s.visible(10), 0..10);
    }
}
