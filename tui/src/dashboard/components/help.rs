//! The help overlay: every bound action with its keys, read from the live keymap. Taller than
//! a small terminal, it scrolls with the movement keys.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Stylize;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use crate::dashboard::action::Action;
use crate::dashboard::app::App;
use crate::dashboard::keymap::Keymap;
use crate::dashboard::theme::Tone;

/// Lines under the entries: a blank one and the one saying how to close.
const TAIL: u16 = 2;

/// How far the overlay can scroll in a terminal `height` rows tall: 0 when it all fits.
pub fn max_scroll(keymap: &Keymap, height: u16) -> u16 {
    let lines = keymap.help_entries().len() as u16 + TAIL;
    // The popup's border takes two of its rows.
    let shown = (lines + 2).min(height).saturating_sub(2);
    lines.saturating_sub(shown)
}

/// Draws the overlay centred over `area`.
pub fn draw(app: &App, frame: &mut Frame, area: Rect) {
    let th = app.theme;
    let entries = app.keymap.help_entries();
    let key_width = entries.iter().map(|(k, _)| k.chars().count()).max().unwrap_or(0);
    let desc_width = entries.iter().map(|(_, d)| d.chars().count()).max().unwrap_or(0);
    let width = (key_width + desc_width + 7) as u16;
    let height = entries.len() as u16 + TAIL + 2;
    let popup =
        area.centered(Constraint::Length(width.min(area.width)), Constraint::Length(height.min(area.height)));

    let mut lines: Vec<Line> = entries
        .into_iter()
        .map(|(keys, desc)| {
            Line::from(vec![
                Span::styled(format!(" {keys:>key_width$}  "), th.fg(Tone::Accent).bold()),
                Span::raw(desc),
            ])
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
    let max = max_scroll(&app.keymap, area.height);
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
    frame.render_widget(Paragraph::new(lines).scroll((scroll, 0)).block(block), popup);
}
