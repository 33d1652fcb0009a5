//! The help overlay: every bound action with its keys, read from the live keymap. Taller than
//! a small terminal, it scrolls with the movement keys.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Stylize;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear};

use crate::dashboard::action::Action;
use crate::dashboard::app::App;
use crate::dashboard::theme::Tone;

/// Lines under the entries: a blank one and the one saying how to close.
const TAIL: u16 = 2;

/// The entries' layout in a terminal `width` columns wide: the widths of a column's keys and
/// descriptions, and how many columns (two when they fit side by side, so a big terminal shows
/// every key at once).
fn layout(entries: &[(String, String)], width: u16) -> (usize, usize, usize) {
    let key_width = entries.iter().map(|(k, _)| k.chars().count()).max().unwrap_or(0);
    let desc_width = entries.iter().map(|(_, d)| d.chars().count()).max().unwrap_or(0);
    let column = key_width + desc_width + 5;
    let columns = if 2 * column + 3 <= usize::from(width) { 2 } else { 1 };
    (key_width, desc_width, columns)
}

/// The overlay's text lines (the entries' rows, then the tail) in a terminal `width` wide.
fn line_count(entries: &[(String, String)], width: u16) -> u16 {
    let (_, _, columns) = layout(entries, width);
    u16::try_from(entries.len().div_ceil(columns)).unwrap_or(u16::MAX).saturating_add(TAIL)
}

/// How far the overlay of `entries` can scroll in a terminal `width` × `height`: 0 when it
/// all fits.
pub fn max_scroll(entries: &[(String, String)], width: u16, height: u16) -> u16 {
    let lines = line_count(entries, width);
    // The popup's border takes two of its rows.
    let shown = (lines + 2).min(height).saturating_sub(2);
    lines.saturating_sub(shown)
}

/// Draws the overlay centred over `area`.
pub fn draw(app: &App, frame: &mut Frame, area: Rect) {
    let th = app.theme;
    let entries = app.help_entries();
    let (key_width, desc_width, columns) = layout(entries, area.width);
    let column = key_width + desc_width + 5;
    let width = (column * columns + 2 + (columns - 1)) as u16;
    let height = line_count(entries, area.width) + 2;
    let popup =
        area.centered(Constraint::Length(width.min(area.width)), Constraint::Length(height.min(area.height)));

    let cell = |(keys, desc): &(String, String)| {
        vec![
            Span::styled(format!(" {keys:>key_width$}  "), th.fg(Tone::Accent).bold()),
            Span::raw(format!("{desc:<desc_width$}  ")),
        ]
    };
    let rows = entries.len().div_ceil(columns);
    let mut lines: Vec<Line> = (0..rows)
        .map(|row| {
            let mut spans = cell(&entries[row]);
            if let Some(right) = entries.get(row + rows).filter(|_| columns == 2) {
                spans.push(Span::raw(" "));
                spans.extend(cell(right));
            }
            Line::from(spans)
        })
        .collect();
    lines.push(Line::default());
    let close: Vec<String> = [Action::Help, Action::Close]
        .iter()
        .flat_map(|a| app.keymap.keys_for(*a))
        .map(|k| k.to_string())
        .collect();
    lines.push(Line::from(format!(" {} closes this help", close.join(" or "))).fg(th.color(Tone::Muted)));

    frame.render_widget(Clear, popup);
    let max = max_scroll(entries, area.width, area.height);
    let scroll = app.help_scroll().min(max);
    let mut block = Block::bordered().title(" Keys ").border_style(th.fg(Tone::Accent));
    if max > 0 {
        // Say there is more, and which way, from the keys that scroll it.
        let keys = [Action::NextRow, Action::PrevRow]
            .iter()
            .filter_map(|a| app.keymap.hint_key(*a).map(|k| k.to_string()))
            .collect::<Vec<_>>()
            .join("/");
        let more = match (scroll > 0, scroll < max) {
            (true, true) => "↑↓",
            (false, _) => "↓",
            (true, false) => "↑",
        };
        block = block.title_bottom(Line::from(format!(" {more} more: {keys} ")).right_aligned());
    }
    // The lines are laid straight into the buffer, the visible ones only: a paragraph would
    // lay out every grapheme of the two columns, more than the frame's budget at 160×48.
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    let buffer = frame.buffer_mut();
    for (row, line) in lines.iter().skip(usize::from(scroll)).take(usize::from(inner.height)).enumerate() {
        super::paint::set_line(buffer, inner.x, inner.y + row as u16, line, inner.width);
    }
}
