//! The text prompt of the edit keys (add tag, remove tag, add note, edit a follow-up's text):
//! a small popup with one input line and a hint, over whatever is on screen.

use ratatui::Frame;
use ratatui::layout::{Constraint, Position, Rect};
use ratatui::style::{Color, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use super::ellipsize;
use crate::dashboard::app::{App, PromptKind};

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
        PromptKind::EditFollowUp => {
            "enter approves this text · merge fields like {{first_name}} work · esc cancels".to_owned()
        }
    }
}

/// Draws the open prompt, if any, centred over `area`, and puts the terminal cursor in it.
pub fn draw(app: &App, frame: &mut Frame, area: Rect) {
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
    let block = Block::bordered().title(title).border_style(Style::new().fg(Color::Cyan));
    let inner = block.inner(popup);

    const PROMPT: &str = "> ";
    let field = inner_width.saturating_sub(PROMPT.len());
    let (shown, cursor) = prompt.input.window(field);
    let lines = vec![
        Line::from(vec![Span::styled(PROMPT, Style::new().fg(Color::Cyan)), Span::raw(shown)]),
        Line::from(ellipsize(&hint(prompt.kind, &prompt.tags), inner_width)).dark_gray(),
    ];
    frame.render_widget(Clear, popup);
    frame.render_widget(Paragraph::new(lines).block(block), popup);
    if inner.width > 0 && inner.height > 0 {
        let x = inner.x.saturating_add((PROMPT.len() + cursor) as u16).min(inner.right().saturating_sub(1));
        frame.set_cursor_position(Position::new(x, inner.y));
    }
}
