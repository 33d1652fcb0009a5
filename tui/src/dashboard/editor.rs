//! A multi-line text editor for Compose: the text wraps at word boundaries to the width it is
//! drawn at, the cursor moves by character, word, visual row and line, and Enter starts a new
//! line. Pure state, drawn by `components::compose`; the keys it does not use (Tab, Esc,
//! ctrl-s) are left to Compose.
//!
//! Written here rather than taken from `tui-textarea`, whose releases are built on an older
//! ratatui than the dashboard's.

use std::ops::Range;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// One row of the text as drawn: the characters `start..end` (char indices), without the line
/// break that may end it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VisualRow {
    /// The first character.
    pub start: usize,
    /// One past the last character.
    pub end: usize,
    /// The last row of its line: the cursor may sit at `end` (before the line break, or at the
    /// end of the text). On a wrapped row, `end` is the next row's start.
    pub line_end: bool,
}

impl VisualRow {
    fn range(&self) -> Range<usize> {
        self.start..self.end
    }

    /// The furthest the cursor can be on this row.
    fn last_cursor(&self) -> usize {
        if self.line_end { self.end } else { self.end.saturating_sub(1).max(self.start) }
    }
}

/// The text, the cursor (a char index: it sits before that character), and the width the text
/// wraps at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Editor {
    chars: Vec<char>,
    cursor: usize,
    /// Columns the text is drawn in; 0 means no wrapping (rows are the lines).
    width: usize,
    /// The column Up and Down aim for, kept across rows shorter than it.
    goal: Option<usize>,
}

impl Editor {
    /// An empty editor.
    pub fn new() -> Self {
        Editor::default()
    }

    /// An editor holding `text`, the cursor after it.
    pub fn with_text(text: &str) -> Self {
        let mut e = Editor::new();
        e.set_text(text);
        e
    }

    /// Replaces the text; the cursor goes after it.
    pub fn set_text(&mut self, text: &str) {
        self.chars = text.chars().collect();
        self.cursor = self.chars.len();
        self.goal = None;
    }

    /// The text.
    pub fn text(&self) -> String {
        self.chars.iter().collect()
    }

    /// Whether there is no text.
    pub fn is_empty(&self) -> bool {
        self.chars.is_empty()
    }

    /// The cursor, in characters from the start.
    pub fn cursor(&self) -> usize {
        self.cursor
    }

    /// Sets the width the text wraps at (the editor's inner width on screen).
    pub fn set_width(&mut self, width: usize) {
        self.width = width;
    }

    /// The rows the text is drawn in at the editor's width: each line wrapped after the last
    /// space that fits, or cut where no space does. Always at least one row. The last row of a
    /// line keeps a column free for the cursor after its last character.
    pub fn rows(&self) -> Vec<VisualRow> {
        let width = if self.width == 0 { usize::MAX } else { self.width.max(2) };
        let mut rows = Vec::new();
        let mut line_start = 0;
        loop {
            let line_end = self.chars[line_start..]
                .iter()
                .position(|c| *c == '\n')
                .map_or(self.chars.len(), |i| line_start + i);
            let mut start = line_start;
            while line_end - start >= width {
                let fits = &self.chars[start..start + width];
                let end = match fits.iter().rposition(|c| *c == ' ') {
                    Some(space) if space > 0 => start + space + 1,
                    _ => start + width,
                };
                rows.push(VisualRow { start, end, line_end: false });
                start = end;
            }
            rows.push(VisualRow { start, end: line_end, line_end: true });
            if line_end == self.chars.len() {
                return rows;
            }
            line_start = line_end + 1;
        }
    }

    /// The cursor's row (an index into [`Editor::rows`]) and column.
    pub fn cursor_at(&self) -> (usize, usize) {
        let rows = self.rows();
        let row = rows
            .iter()
            .position(|r| r.range().contains(&self.cursor) || (r.line_end && r.end == self.cursor))
            .unwrap_or(rows.len() - 1);
        (row, self.cursor - rows[row].start)
    }

    /// The rows to draw in a box `height` rows tall, as text, and the cursor's place in them:
    /// the view keeps the cursor's row on screen, at the bottom when it is below the first
    /// screenful.
    pub fn view(&self, height: usize) -> (Vec<String>, (usize, usize)) {
        let rows = self.rows();
        let (row, col) = self.cursor_at();
        let first = (row + 1).saturating_sub(height.max(1));
        let lines = rows
            .iter()
            .skip(first)
            .take(height.max(1))
            .map(|r| self.chars[r.range()].iter().collect::<String>().trim_end_matches(' ').to_owned())
            .collect();
        (lines, (row - first, col))
    }

    fn insert(&mut self, c: char) {
        self.chars.insert(self.cursor, c);
        self.cursor += 1;
    }

    /// The start of the word before the cursor (over the spaces first).
    fn word_left(&self) -> usize {
        let mut i = self.cursor;
        while i > 0 && self.chars[i - 1].is_whitespace() {
            i -= 1;
        }
        while i > 0 && !self.chars[i - 1].is_whitespace() {
            i -= 1;
        }
        i
    }

    /// The end of the word after the cursor (over the spaces first).
    fn word_right(&self) -> usize {
        let mut i = self.cursor;
        while i < self.chars.len() && self.chars[i].is_whitespace() {
            i += 1;
        }
        while i < self.chars.len() && !self.chars[i].is_whitespace() {
            i += 1;
        }
        i
    }

    /// Moves the cursor `delta` rows up or down, aiming for the goal column.
    fn move_rows(&mut self, delta: isize) {
        let rows = self.rows();
        let (row, col) = self.cursor_at();
        let goal = *self.goal.get_or_insert(col);
        let Some(target) = row.checked_add_signed(delta).filter(|r| *r < rows.len()) else {
            // Past the first or last row: to the start or the end of the text.
            self.cursor = if delta < 0 { 0 } else { self.chars.len() };
            return;
        };
        let r = rows[target];
        self.cursor = (r.start + goal).min(r.last_cursor());
    }

    /// Handles one key; `false` when the key is not the editor's (Tab, Esc, ctrl-s, F-keys...),
    /// for the caller to use.
    pub fn handle_key(&mut self, key: &KeyEvent) -> bool {
        if key.kind == KeyEventKind::Release {
            return true;
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let alt = key.modifiers.contains(KeyModifiers::ALT);
        let vertical = matches!(key.code, KeyCode::Up | KeyCode::Down | KeyCode::PageUp | KeyCode::PageDown);
        match key.code {
            KeyCode::Char(c) if !ctrl && !alt && !c.is_control() => self.insert(c),
            KeyCode::Enter if !ctrl && !alt => self.insert('\n'),
            KeyCode::Backspace if (ctrl || alt) && self.cursor > 0 => {
                let from = self.word_left();
                self.chars.drain(from..self.cursor);
                self.cursor = from;
            }
            KeyCode::Char('w') if ctrl && self.cursor > 0 => {
                let from = self.word_left();
                self.chars.drain(from..self.cursor);
                self.cursor = from;
            }
            KeyCode::Backspace if self.cursor > 0 => {
                self.cursor -= 1;
                self.chars.remove(self.cursor);
            }
            KeyCode::Delete if self.cursor < self.chars.len() => {
                self.chars.remove(self.cursor);
            }
            KeyCode::Left if ctrl || alt => self.cursor = self.word_left(),
            KeyCode::Right if ctrl || alt => self.cursor = self.word_right(),
            KeyCode::Left => self.cursor = self.cursor.saturating_sub(1),
            KeyCode::Right => self.cursor = (self.cursor + 1).min(self.chars.len()),
            KeyCode::Home if ctrl => self.cursor = 0,
            KeyCode::End if ctrl => self.cursor = self.chars.len(),
            KeyCode::Home => {
                let (row, _) = self.cursor_at();
                self.cursor = self.rows()[row].start;
            }
            KeyCode::End => {
                let (row, _) = self.cursor_at();
                self.cursor = self.rows()[row].last_cursor();
            }
            KeyCode::Up => self.move_rows(-1),
            KeyCode::Down => self.move_rows(1),
            KeyCode::PageUp => self.move_rows(-10),
            KeyCode::PageDown => self.move_rows(10),
            // Backspace at the start, Delete at the end: nothing to do, still the editor's key.
            KeyCode::Backspace | KeyCode::Delete => {}
            _ => return false,
        }
        if !vertical {
            self.goal = None;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn ctrl(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::CONTROL)
    }

    fn typed(s: &str) -> Editor {
        let mut e = Editor::new();
        for c in s.chars() {
            let code = if c == '\n' { KeyCode::Enter } else { KeyCode::Char(c) };
            assert!(e.handle_key(&key(code)));
        }
        e
    }

    fn row_texts(e: &Editor) -> Vec<String> {
        e.rows().iter().map(|r| e.chars[r.range()].iter().collect()).collect()
    }

    #[test]
    fn types_deletes_and_breaks_lines_at_the_cursor() {
        let mut e = typed("Hi Maria,\nSee you");
        assert_eq!(e.text(), "Hi Maria,\nSee you");
        e.handle_key(&key(KeyCode::Backspace));
        e.handle_key(&key(KeyCode::Left));
        e.handle_key(&key(KeyCode::Delete));
        assert_eq!(e.text(), "Hi Maria,\nSee y");
        e.handle_key(&ctrl(KeyCode::Home));
        e.handle_key(&key(KeyCode::Backspace));
        assert_eq!((e.text().as_str(), e.cursor()), ("Hi Maria,\nSee y", 0), "nothing before the start");
        e.handle_key(&ctrl(KeyCode::End));
        e.handle_key(&key(KeyCode::Delete));
        assert_eq!(e.text(), "Hi Maria,\nSee y", "nothing after the end");
        // Backspace joins lines.
        e.handle_key(&key(KeyCode::Up));
        e.handle_key(&key(KeyCode::End));
        assert_eq!(e.cursor(), 9);
        e.handle_key(&key(KeyCode::Delete));
        assert_eq!(e.text(), "Hi Maria,See y");
        e.handle_key(&key(KeyCode::Enter));
        assert_eq!(e.text(), "Hi Maria,\nSee y");
    }

    #[test]
    fn multibyte_text_edits_by_character() {
        let mut e = typed("Olá 🏡 casa");
        for _ in 0..5 {
            e.handle_key(&key(KeyCode::Left));
        }
        e.handle_key(&key(KeyCode::Backspace));
        assert_eq!(e.text(), "Olá  casa");
        e.handle_key(&key(KeyCode::Char('€')));
        assert_eq!(e.text(), "Olá € casa");
    }

    #[test]
    fn words_jump_and_go_whole() {
        let mut e = typed("call me at noon");
        e.handle_key(&ctrl(KeyCode::Left));
        assert_eq!(e.cursor(), 11);
        e.handle_key(&ctrl(KeyCode::Left));
        e.handle_key(&ctrl(KeyCode::Right));
        assert_eq!(e.cursor(), 10);
        e.handle_key(&ctrl(KeyCode::Char('w')));
        assert_eq!(e.text(), "call me  noon");
        e.handle_key(&KeyEvent::new(KeyCode::Backspace, KeyModifiers::ALT));
        assert_eq!(e.text(), "call  noon");
    }

    #[test]
    fn long_lines_wrap_at_words_and_hard_cut_long_words() {
        let mut e = Editor::with_text("Hi Maria, the Elm St house is open Saturday\nsupercalifragilistic");
        e.set_width(12);
        assert_eq!(
            row_texts(&e),
            ["Hi Maria, ", "the Elm St ", "house is ", "open ", "Saturday", "supercalifra", "gilistic"]
        );
        // The last row of a line keeps a column for the cursor after it.
        let rows = e.rows();
        assert!(rows.iter().all(|r| r.end - r.start <= 12));
        assert!(rows.iter().filter(|r| r.line_end).all(|r| r.end - r.start < 12));
        let mut e = Editor::with_text("abcdefghijkl");
        e.set_width(12);
        assert_eq!(row_texts(&e), ["abcdefghijkl", ""]);
        assert_eq!(e.cursor_at(), (1, 0), "the cursor after a full row starts the next");
        assert_eq!(Editor::new().rows(), [VisualRow { start: 0, end: 0, line_end: true }]);
        let e = Editor::with_text("a\n\nb");
        assert_eq!(row_texts(&e), ["a", "", "b"]);
    }

    #[test]
    fn up_and_down_move_by_visual_row_keeping_the_column() {
        let mut e = Editor::with_text("Hi Maria, the Elm St house is open Saturday");
        e.set_width(12);
        // Rows: "Hi Maria, " "the Elm St " "house is " "open " "Saturday".
        e.handle_key(&ctrl(KeyCode::Home));
        for _ in 0..7 {
            e.handle_key(&key(KeyCode::Right));
        }
        assert_eq!(e.cursor_at(), (0, 7));
        e.handle_key(&key(KeyCode::Down));
        assert_eq!(e.cursor_at(), (1, 7));
        e.handle_key(&key(KeyCode::Down));
        assert_eq!(e.cursor_at(), (2, 7));
        // "open " is short: the cursor stops at its last place, then gets its column back.
        e.handle_key(&key(KeyCode::Down));
        assert_eq!(e.cursor_at(), (3, 4));
        e.handle_key(&key(KeyCode::Down));
        assert_eq!(e.cursor_at(), (4, 7));
        e.handle_key(&key(KeyCode::Down));
        assert_eq!(e.cursor(), e.text().chars().count(), "past the last row: the end");
        e.handle_key(&key(KeyCode::Home));
        assert_eq!(e.cursor_at(), (4, 0));
        e.handle_key(&key(KeyCode::Up));
        e.handle_key(&key(KeyCode::End));
        assert_eq!(e.cursor_at(), (3, 4), "end of a wrapped row stays on it");
        e.handle_key(&key(KeyCode::PageUp));
        assert_eq!(e.cursor(), 0);
    }

    #[test]
    fn the_view_follows_the_cursor() {
        let mut e = Editor::with_text("one\ntwo\nthree\nfour\nfive");
        assert_eq!(e.view(3), (vec!["three".into(), "four".into(), "five".into()], (2, 4)));
        e.handle_key(&ctrl(KeyCode::Home));
        assert_eq!(e.view(3), (vec!["one".into(), "two".into(), "three".into()], (0, 0)));
        assert_eq!(e.view(0).0, vec!["one".to_owned()], "at least one row");
    }

    #[test]
    fn keys_that_are_not_the_editors_are_left_to_compose() {
        let mut e = typed("x");
        for other in [key(KeyCode::Tab), key(KeyCode::Esc), ctrl(KeyCode::Char('s')), key(KeyCode::F(2))] {
            assert!(!e.handle_key(&other), "{other:?}");
        }
        assert_eq!(e.text(), "x");
        // Shifted characters are text.
        assert!(e.handle_key(&KeyEvent::new(KeyCode::Char('Q'), KeyModifiers::SHIFT)));
        assert_eq!(e.text(), "xQ");
    }
}
