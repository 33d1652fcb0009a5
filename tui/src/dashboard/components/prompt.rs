//! The text prompt of the edit keys (add tag, remove tag, add note, edit a follow-up's text):
//! a small popup with one input line and a hint, over whatever is on screen. Its input line
//! ([`draw_input`]) is also the search screen's query.

use ratatui::Frame;
use ratatui::layout::{Constraint, Position, Rect};
use ratatui::style::Stylize;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use super::ellipsize;
use crate::dashboard::app::{App, PromptKind};
use crate::dashboard::input::TextInput;
use crate::dashboard::theme::{Theme, Tone};

/// The popup's widest size; narrower terminals get their full width.
const MAX_WIDTH: u16 = 64;
/// The widest the popup gets when it edits a message.
const MAX_MESSAGE_WIDTH: u16 = 110;

/// What the popup's second line says.
fn hint(kind: PromptKind, tags: &[String]) -> String {
    match kind {
        PromptKind::RemoveTag if !tags.is_empty() => {
            format!("has: {} · enter removes · esc cancels", tags.join(", "))
        }
        PromptKind::RemoveTag => "enter removes · esc cancels".to_owned(),
        PromptKind::AddTag | PromptKind::AddNote => "enter saves · esc cancels".to_owned(),
        PromptKind::Assign => "the GHL user id · enter assigns · esc cancels".to_owned(),
        PromptKind::MoveStage => {
            "the stage's name (its start is enough) · enter moves the open deal · esc cancels".to_owned()
        }
        PromptKind::Enroll => {
            "the workflow's id, or its name in [ghl.workflows] · enter enrolls · esc cancels".to_owned()
        }
        PromptKind::AddTask => "title, then when: tomorrow 10am, fri 3pm, in 2h · enter saves".to_owned(),
        PromptKind::EditFollowUp => {
            "enter approves this text · merge fields like {{first_name}} work · esc cancels".to_owned()
        }
    }
}

/// Draws the open prompt, if any, centred over `area`, and puts the terminal cursor in it.
pub fn draw(app: &App, frame: &mut Frame, area: Rect) {
    let th = app.theme;
    let Some(prompt) = app.prompt() else {
        return;
    };
    // A message is longer than a tag or a note's first words: more of it shows at once.
    let max_width = if prompt.kind == PromptKind::EditFollowUp { MAX_MESSAGE_WIDTH } else { MAX_WIDTH };
    let popup =
        area.centered(Constraint::Length(area.width.min(max_width)), Constraint::Length(4.min(area.height)));
    let inner_width = usize::from(popup.width.saturating_sub(2));
    let title_room = inner_width.saturating_sub(prompt.kind.title().chars().count() + 6);
    let title = Line::from(vec![
        Span::raw(" "),
        Span::raw(prompt.kind.title()).bold(),
        Span::raw(format!(" · {} ", ellipsize(&prompt.lead_name, title_room))),
    ]);
    let block = Block::bordered().title(title).border_style(th.fg(Tone::Accent));
    let inner = block.inner(popup);
    frame.render_widget(Clear, popup);
    frame.render_widget(block, popup);
    let [field, hint_line] = inner.layout(&ratatui::layout::Layout::vertical([Constraint::Length(1); 2]));
    draw_input(th, frame, field, &prompt.input, true);
    let hint = Line::from(ellipsize(&hint(prompt.kind, &prompt.tags), inner_width)).fg(th.color(Tone::Muted));
    frame.render_widget(Paragraph::new(hint), hint_line);
}

/// Draws a one-line input in `area` (its first row): `> ` and as much of the text as fits
/// around the cursor; with `focused`, the terminal's cursor goes there.
pub fn draw_input(th: Theme, frame: &mut Frame, area: Rect, input: &TextInput, focused: bool) {
    const PROMPT: &str = "> ";
    if area.width == 0 || area.height == 0 {
        return;
    }
    let field = usize::from(area.width).saturating_sub(PROMPT.len());
    let (shown, cursor) = input.window(field);
    let line = Line::from(vec![Span::styled(PROMPT, th.fg(Tone::Accent)), Span::raw(shown)]);
    frame.render_widget(Paragraph::new(line), Rect { height: 1, ..area });
    if focused {
        let x = area.x.saturating_add((PROMPT.len() + cursor) as u16).min(area.right().saturating_sub(1));
        frame.set_cursor_position(Position::new(x, area.y));
    }
}
