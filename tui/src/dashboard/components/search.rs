//! The search screen: the query in a box (the prompt's input line), and under it the leads
//! that match, best first, with what a lead is found by: its phone, email and tags. Only the
//! visible rows are built.

use leadline_shared::domain::LeadSummary;
use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Rect};
use ratatui::style::{Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use super::queue_table::CHROME_ROWS;
use super::{ListRow, prompt};
use crate::dashboard::app::App;
use crate::dashboard::connection::ConnState;
use crate::dashboard::format;
use crate::dashboard::theme::Tone;

/// From this width the results show when each lead was last active.
const WITH_ACTIVITY: u16 = 100;

/// What the box's title says of the answer: how many leads match, or that one is on its way.
fn count_label(app: &App) -> Option<String> {
    let s = app.search();
    if s.pending {
        return Some("searching…".to_owned());
    }
    s.answered.as_ref()?;
    let shown = s.rows.len() as u64;
    Some(match s.total {
        0 => "no match".to_owned(),
        1 => "1 match".to_owned(),
        n if shown < n => format!("best {} of {}", format::thousands(shown), format::thousands(n)),
        n => format!("{} matches", format::thousands(n)),
    })
}

/// Draws the query's box; while it has the keys, with the terminal's cursor in it.
pub fn draw_bar(app: &App, frame: &mut Frame, area: Rect) {
    let th = app.theme;
    let s = app.search();
    let border = if s.editing { th.color(Tone::Accent) } else { th.color(Tone::Muted) };
    let mut block = Block::bordered()
        .title(Line::from(vec![" ".into(), "Search".bold(), " ".into()]))
        .border_style(Style::new().fg(border));
    if let Some(count) = count_label(app) {
        block = block.title(Line::from(format!(" {count} ")).right_aligned().fg(th.color(Tone::Muted)));
    }
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if s.input.value().is_empty() && !s.editing {
        let hint = Line::from(vec![Span::raw("  "), "press / to search".fg(th.color(Tone::Muted))]);
        frame.render_widget(Paragraph::new(hint), inner);
        return;
    }
    prompt::draw_input(th, frame, inner, &s.input, s.editing);
}

fn widths(wide: bool, marking: bool) -> Vec<Constraint> {
    let mut w: Vec<Constraint> =
        marking.then_some(Constraint::Length(super::MARK_WIDTH)).into_iter().collect();
    w.extend([
        Constraint::Fill(3),
        Constraint::Length(8),
        // "+1 512 555 0100" as people write it; GHL's "+15125550100" is shorter.
        Constraint::Length(15),
        Constraint::Fill(3),
        Constraint::Fill(2),
    ]);
    if wide {
        w.push(Constraint::Length(13));
    }
    w
}

/// One matching lead as a table row.
fn row(lead: &LeadSummary, app: &App, wide: bool, marking: bool) -> ListRow<'static> {
    let th = app.theme;
    let dash = || "—".to_owned();
    let score = Line::from(vec![
        Span::raw(format!("{:>3} ", lead.score)),
        Span::styled(lead.temperature.as_str(), th.temperature(lead.temperature)),
    ]);
    let mark = marking.then(|| super::mark_cell(th, app.lead_marks().contains_key(&lead.id)));
    let mut cells: Vec<Line> = mark.into_iter().collect();
    cells.extend([
        Line::from(lead.name.clone()),
        score,
        Line::from(lead.phone.clone().unwrap_or_else(dash)),
        Line::from(lead.email.clone().unwrap_or_else(dash)),
        Line::from(if lead.tags.is_empty() { dash() } else { lead.tags.join(", ") }),
    ]);
    if wide {
        cells.push(Line::from(format::relative(lead.last_activity, app.now)));
    }
    ListRow::new(cells)
}

/// What the results say when there is no row to show.
fn empty_message(app: &App) -> (String, ratatui::style::Color) {
    let th = app.theme;
    let s = app.search();
    if let Some(error) = &s.error {
        return (error.clone(), th.color(Tone::Warn));
    }
    let text = if !matches!(app.connection(), ConnState::Online { .. }) {
        "Search needs the daemon: waiting for it…".to_owned()
    } else if s.query().is_empty() {
        "Type a name, phone number, email or tag. ↑/↓ select a lead, enter opens it, esc closes the search."
            .to_owned()
    } else if s.pending {
        "Searching…".to_owned()
    } else {
        format!(
            "No lead matches \"{}\". Search looks at names, phone numbers, emails and tags.",
            s.answered.as_deref().unwrap_or(s.query())
        )
    };
    (text, th.color(Tone::Muted))
}

/// Draws the matching leads, best first.
pub fn draw_results(app: &App, frame: &mut Frame, area: Rect) {
    let th = app.theme;
    let s = app.search();
    let marking = !app.lead_marks().is_empty();
    let mut block = Block::bordered().title(Line::from(vec![" ".into(), "Leads".bold(), " ".into()]));
    if s.rows.is_empty() {
        let (text, color) = empty_message(app);
        let text = Paragraph::new(text)
            .alignment(Alignment::Center)
            .wrap(Wrap { trim: true })
            .block(block)
            .style(Style::new().fg(color));
        frame.render_widget(text, area);
        return;
    }
    let position = format!(
        " {} of {} ",
        format::thousands(s.selected as u64 + 1),
        format::thousands(s.rows.len() as u64)
    );
    block = block.title(Line::from(position).right_aligned());
    let wide = area.width >= WITH_ACTIVITY;
    let range = s.visible(usize::from(area.height.saturating_sub(CHROME_ROWS)));
    let selected = s.selected.checked_sub(range.start);
    let rows = s.rows[range].iter().map(|lead| row(lead, app, wide, marking));
    let mut header = if marking { vec![""] } else { Vec::new() };
    header.extend(["Name", "Score", "Phone", "Email", "Tags"]);
    if wide {
        header.push("Last activity");
    }
    let header = ListRow::new(header);
    super::draw_list(th, frame, area, rows, widths(wide, marking), header, block, selected);
}
