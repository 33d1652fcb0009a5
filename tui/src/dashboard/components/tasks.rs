//! The Tasks screen: the agent's open tasks, soonest due first (overdue in red at the top),
//! with the lead, and those still on their way to GHL marked.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Modifier, Style, Stylize};
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph};

use super::{ListRow, draw_plain_list, ellipsize};
use crate::dashboard::app::{App, visible_range};
use crate::dashboard::format;
use crate::dashboard::theme::Tone;
use crate::output;

/// Draws the Tasks screen.
pub fn draw(app: &App, frame: &mut Frame, area: Rect) {
    let th = app.theme;
    let view = app.tasks();
    let overdue = view.rows.iter().filter(|r| r.task.due_date.is_some_and(|d| d < app.now)).count();
    let title = format!(" Tasks · {} open · {overdue} overdue ", view.total.max(view.rows.len() as u64));
    let block = Block::bordered().title(Line::from(title).bold());
    if view.rows.is_empty() {
        let text =
            if view.loaded { "No open tasks. o adds one to the selected lead." } else { "Loading tasks…" };
        frame.render_widget(Paragraph::new(format!("\n  {text}")).style(th.muted()).block(block), area);
        return;
    }
    let height = usize::from(area.height.saturating_sub(3));
    let range = visible_range(view.rows.len(), 0, view.selected, height);
    let wide = area.width >= 120;
    let rows = view.rows[range.clone()].iter().enumerate().map(|(i, r)| {
        let at = r.task.due_date;
        let late = at.is_some_and(|d| d < app.now);
        let when = match at {
            Some(d) if wide => format!(
                "{} · {}",
                format::relative(Some(d), app.now),
                output::local(d, r.timezone.as_deref())
            ),
            Some(d) => format::relative(Some(d), app.now),
            None => "no due time".to_owned(),
        };
        let state = if r.pending {
            "waiting for GHL"
        } else if late {
            "overdue"
        } else {
            "open"
        };
        let mut style = if late { th.fg(Tone::Bad) } else { Style::new() };
        if r.pending {
            style = th.muted();
        }
        if range.start + i == view.selected {
            style = style.add_modifier(Modifier::REVERSED);
        }
        let title = r.task.title.clone().unwrap_or_else(|| "task".to_owned());
        ListRow::new([when, ellipsize(&r.lead_name, 24), title, state.to_owned()]).style(style)
    });
    let due_width = if wide { 34 } else { 12 };
    let widths =
        [Constraint::Length(due_width), Constraint::Length(20), Constraint::Fill(1), Constraint::Length(15)];
    let header = ListRow::new(["Due", "Lead", "Task", "State"]).style(th.header());
    draw_plain_list(frame, area, rows, widths, header, block);
}
