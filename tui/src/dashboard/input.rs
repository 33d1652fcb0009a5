//! A one-line text input: printable characters, Backspace/Delete, Left/Right, Home/End; Enter
//! submits and Esc cancels. It is pure state, drawn by `components::prompt`.
//!
//! While an input is open the [`super::app::App`] gives it every key before the keymap sees
//! any (gitui's `EventState::Consumed` rule): a `q` typed into a note is a `q`, not quit.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// What a key did to the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputOutcome {
    /// The input took the key (edited, moved, or ignored it); nothing else may see it.
    Consumed,
    /// Enter: the user is done; read [`TextInput::value`].
    Submit,
    /// Esc (or ctrl-c): the user gave up.
    Cancel,
}

/// The text and the cursor, which sits before the character at `cursor` (a char index, so
/// multi-byte text edits by character).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextInput {
    value: String,
    cursor: usize,
}

impl TextInput {
    /// An empty input.
    pub fn new() -> Self {
        TextInput::default()
    }

    /// An input holding `text`, the cursor after it (to edit a text that exists already).
    pub fn with_text(text: &str) -> Self {
        TextInput { value: text.to_owned(), cursor: text.chars().count() }
    }

    /// The text typed so far.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// The cursor, in characters from the start.
    pub fn cursor(&self) -> usize {
        self.cursor
    }

    fn len(&self) -> usize {
        self.value.chars().count()
    }

    /// The byte offset of the character at char index `i` (the end when past it).
    fn byte_at(&self, i: usize) -> usize {
        self.value.char_indices().nth(i).map_or(self.value.len(), |(b, _)| b)
    }

    /// Handles one key. Every key is consumed; only Enter and Esc end the input.
    pub fn handle_key(&mut self, key: &KeyEvent) -> InputOutcome {
        if key.kind == KeyEventKind::Release {
            return InputOutcome::Consumed;
        }
        let ctrl_or_alt = key.modifiers.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT);
        match key.code {
            KeyCode::Enter => return InputOutcome::Submit,
            KeyCode::Esc => return InputOutcome::Cancel,
            KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                return InputOutcome::Cancel;
            }
            KeyCode::Char(c) if !ctrl_or_alt && !c.is_control() => {
                let at = self.byte_at(self.cursor);
                self.value.insert(at, c);
                self.cursor += 1;
            }
            KeyCode::Backspace if self.cursor > 0 => {
                self.cursor -= 1;
                let at = self.byte_at(self.cursor);
                self.value.remove(at);
            }
            KeyCode::Delete if self.cursor < self.len() => {
                let at = self.byte_at(self.cursor);
                self.value.remove(at);
            }
            KeyCode::Left => self.cursor = self.cursor.saturating_sub(1),
            KeyCode::Right => self.cursor = (self.cursor + 1).min(self.len()),
            KeyCode::Home => self.cursor = 0,
            KeyCode::End => self.cursor = self.len(),
            _ => {}
        }
        InputOutcome::Consumed
    }

    /// The part of the text a field `width` characters wide shows, and the cursor's column in
    /// it: the text scrolls so the cursor (which may sit after the last character) stays
    /// visible.
    pub fn window(&self, width: usize) -> (String, usize) {
        if width == 0 {
            return (String::new(), 0);
        }
        let start = (self.cursor + 1).saturating_sub(width);
        let shown: String = self.value.chars().skip(start).take(width).collect();
        (shown, self.cursor - start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn typed(s: &str) -> TextInput {
        let mut input = TextInput::new();
        for c in s.chars() {
            assert_eq!(input.handle_key(&key(KeyCode::Char(c))), InputOutcome::Consumed);
        }
        input
    }

    #[test]
    fn types_and_edits_at_the_cursor() {
        let mut input = typed("VIP");
        assert_eq!((input.value(), input.cursor()), ("VIP", 3));
        input.handle_key(&key(KeyCode::Left));
        input.handle_key(&key(KeyCode::Backspace));
        assert_eq!((input.value(), input.cursor()), ("VP", 1));
        input.handle_key(&key(KeyCode::Char('I')));
        assert_eq!((input.value(), input.cursor()), ("VIP", 2));
        input.handle_key(&key(KeyCode::Home));
        input.handle_key(&key(KeyCode::Backspace));
        assert_eq!((input.value(), input.cursor()), ("VIP", 0), "backspace at the start does nothing");
        input.handle_key(&key(KeyCode::Delete));
        assert_eq!(input.value(), "IP");
        input.handle_key(&key(KeyCode::End));
        input.handle_key(&key(KeyCode::Right));
        assert_eq!(input.cursor(), 2, "right stops at the end");
        input.handle_key(&key(KeyCode::Home));
        input.handle_key(&key(KeyCode::Left));
        assert_eq!(input.cursor(), 0, "left stops at the start");
    }

    #[test]
    fn edits_multibyte_text_by_character() {
        let mut input = typed("café ☕");
        input.handle_key(&key(KeyCode::Backspace));
        input.handle_key(&key(KeyCode::Left));
        input.handle_key(&key(KeyCode::Backspace));
        assert_eq!(input.value(), "caf ");
        input.handle_key(&key(KeyCode::Char('é')));
        assert_eq!(input.value(), "café ");
    }

    #[test]
    fn enter_submits_esc_cancels_and_everything_else_is_consumed() {
        let mut input = typed("q?");
        assert_eq!(input.value(), "q?", "keymap keys are text here");
        assert_eq!(input.handle_key(&key(KeyCode::Enter)), InputOutcome::Submit);
        assert_eq!(input.handle_key(&key(KeyCode::Esc)), InputOutcome::Cancel);
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(input.handle_key(&ctrl_c), InputOutcome::Cancel);
        for other in [
            key(KeyCode::Tab),
            key(KeyCode::F(1)),
            key(KeyCode::PageDown),
            KeyEvent::new(KeyCode::Char('d'), KeyModifiers::CONTROL),
            KeyEvent::new(KeyCode::Char('x'), KeyModifiers::ALT),
        ] {
            assert_eq!(input.handle_key(&other), InputOutcome::Consumed, "{other:?}");
        }
        assert_eq!(input.value(), "q?", "modified and named keys insert nothing");
        // Shifted characters are text.
        input.handle_key(&KeyEvent::new(KeyCode::Char('Q'), KeyModifiers::SHIFT));
        assert_eq!(input.value(), "q?Q");
        // Releases (kitty protocol) are swallowed without effect.
        let mut release = key(KeyCode::Enter);
        release.kind = KeyEventKind::Release;
        assert_eq!(input.handle_key(&release), InputOutcome::Consumed);
    }

    #[test]
    fn a_prefilled_input_edits_at_its_end() {
        let mut input = TextInput::with_text("Hi ☕");
        assert_eq!((input.value(), input.cursor()), ("Hi ☕", 4));
        input.handle_key(&key(KeyCode::Backspace));
        input.handle_key(&key(KeyCode::Char('!')));
        assert_eq!(input.value(), "Hi !");
        assert_eq!(TextInput::with_text(""), TextInput::new());
    }

    #[test]
    fn the_window_scrolls_to_keep_the_cursor_visible() {
        let mut input = typed("abcdefghij");
        assert_eq!(input.window(20), ("abcdefghij".to_owned(), 10));
        assert_eq!(input.window(5), ("ghij".to_owned(), 4), "room for the cursor after the text");
        input.handle_key(&key(KeyCode::Home));
        assert_eq!(input.window(5), ("abcde".to_owned(), 0));
        assert_eq!(input.window(0), (String::new(), 0));
    }
}
