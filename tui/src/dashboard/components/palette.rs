//! The command palette overlay: the query on top, then the matching actions, each with its
//! description and its keys in the live keymap; the chosen one highlighted.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use super::ellipsize;
use super::prompt::draw_input;
use crate::dashboard::app::{App, visible_range};

/// The popup's widest size.
const MAX_WIDTH: u16 = 76;
/// The most actions listed at once.
const MAX_ROWS: u16 = 16;

/// Draws the open palette, if any, in the upper middle of `area`.
pub fn draw(app: &App, frame: &mut Frame, area: Rect) {
    let Some(palette) = app.palette() else {
        return;
    };
    let theme = app.theme;
    let width = area.width.min(MAX_WIDTH);
    // Border, query, rule, rows, hint.
    let rows = MAX_ROWS.min(area.height.saturating_sub(5)).max(1);
    let height = (rows + 5).min(area.height);
    let popup = area.centered_horizontally(Constraint::Length(width));
    let popup = Rect { y: area.y + area.height.saturating_sub(height) / 3, height, ..popup };
    let count = format!(" {} ", palette.matches.len());
    let block = Block::bordered()
        .title(Line::from(vec![Span::raw(" "), Span::styled("Commands", theme.title()), Span::raw(" ")]))
        .title(Line::from(count).right_aligned())
        .border_style(theme.accent());
    let inner = block.inner(popup);
    frame.render_widget(Clear, popup);
    frame.render_widget(block, popup);
    let [query, rule, list, hint_line] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(1),
    ])
    .areas(inner);
    draw_input(theme, frame, query, &palette.input, true);
    frame.render_widget(Paragraph::new("─".repeat(usize::from(rule.width))).style(theme.muted()), rule);

    let inner_width = usize::from(list.width);
    if palette.matches.is_empty() {
        let text = format!("No action matches \"{}\".", palette.input.value());
        frame.render_widget(Paragraph::new(ellipsize(&text, inner_width)).style(theme.muted()), list);
    } else {
        // Keys on the right, in a column as wide as the widest shown (at most a third).
        let range =
            visible_range(palette.matches.len(), 0, palette.selected, usize::from(list.height)).start..;
        let shown: Vec<_> = palette.matches[range].iter().take(usize::from(list.height)).collect();
        let keys: Vec<String> = shown.iter().map(|a| app.keymap.keys_text(**a)).collect();
        let key_width = keys.iter().map(|k| k.chars().count()).max().unwrap_or(0).min(inner_width / 3);
        let name_width = shown.iter().map(|a| a.name().chars().count()).max().unwrap_or(0).min(20);
        let lines: Vec<Line> = shown
            .iter()
            .zip(keys)
            .map(|(action, keys)| {
                let chosen = palette.matches.get(palette.selected) == Some(action);
                let desc_width = inner_width.saturating_sub(name_width + key_width + 6);
                let name = format!("{:<name_width$}", ellipsize(&action.name(), name_width));
                let desc = format!("{:<desc_width$}", ellipsize(&action.description(), desc_width));
                let keys = format!("{:>key_width$}", ellipsize(&keys, key_width));
                let marker = if chosen { "▶ " } else { "  " };
                let line = Line::from(vec![
                    Span::raw(marker),
                    Span::styled(name, theme.key()),
                    Span::raw("  "),
                    Span::raw(desc),
                    Span::raw("  "),
                    Span::styled(keys, theme.muted()),
                ]);
                if chosen { line.style(theme.selected()) } else { line }
            })
            .collect();
        super::paint::paragraph(frame.buffer_mut(), list, &lines, ratatui::style::Style::default(), None);
    }
    let hint = "↑/↓ choose · enter runs · esc closes";
    frame.render_widget(Paragraph::new(ellipsize(hint, inner_width)).style(theme.muted()), hint_line);
}
