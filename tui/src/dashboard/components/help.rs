//! The help overlay: every bound action with its keys, read from the live keymap.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use crate::dashboard::action::Action;
use crate::dashboard::app::App;

/// Draws the overlay centred over `area`.
pub fn draw(app: &App, frame: &mut Frame, area: Rect) {
    let entries = app.keymap.help_entries();
    let key_width = entries.iter().map(|(k, _)| k.chars().count()).max().unwrap_or(0);
    let desc_width = entries.iter().map(|(_, d)| d.chars().count()).max().unwrap_or(0);
    let width = (key_width + desc_width + 7) as u16;
    let height = entries.len() as u16 + 4;
    let popup =
        area.centered(Constraint::Length(width.min(area.width)), Constraint::Length(height.min(area.height)));

    let mut lines: Vec<Line> = entries
        .into_iter()
        .map(|(keys, desc)| {
            Line::from(vec![
                Span::styled(format!(" {keys:>key_width$}  "), Style::new().fg(Color::Cyan).bold()),
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
    lines.push(Line::from(format!(" {} closes this help", close.join(" or "))).dark_gray());

    frame.render_widget(Clear, popup);
    let block = Block::bordered().title(" Keys ").border_style(Style::new().fg(Color::Cyan));
    frame.render_widget(Paragraph::new(lines).block(block), popup);
}
