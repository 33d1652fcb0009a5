//! The lead queue table. Only the rows inside the visible window are built (ratatui's `Table`
//! lays out every row it is given, which costs ~200 ms a frame at 100 k rows). Rows not
//! arrived yet (right after a jump) are drawn as a dimmed `loading…`.

use std::ops::Range;

use jiff::Timestamp;
use leadline_shared::domain::LeadSummary;
use leadline_shared::protocol::QueueName;
use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Rect};
use ratatui::style::{Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use crate::dashboard::app::{App, visible_range};
use crate::dashboard::connection::ConnState;
use crate::dashboard::format;
use crate::dashboard::theme::{Theme, Tone};

use super::ListRow;

/// Rows taken by the border and the header.
pub const CHROME_ROWS: u16 = 3;

/// The rows of the current queue (row numbers in the queue) that a table drawn in `area`
/// shows.
pub fn window(app: &App, area: Rect) -> Range<usize> {
    let view = app.view();
    let height = usize::from(area.height.saturating_sub(CHROME_ROWS));
    visible_range(view.total, view.offset, view.selected, height)
}

/// What a row not held yet shows until its window arrives.
pub const LOADING: &str = "loading…";

/// The table's column widths: name, source and stage share what the fixed columns leave;
/// with `marking`, the mark column first.
fn widths(marking: bool, time: TimeColumn) -> Vec<Constraint> {
    let time = if time == TimeColumn::Recovery { 15 } else { 13 };
    let mark = marking.then_some(Constraint::Length(super::MARK_WIDTH));
    mark.into_iter()
        .chain([
            Constraint::Fill(3),
            Constraint::Length(8),
            Constraint::Fill(2),
            Constraint::Fill(2),
            Constraint::Length(time),
            Constraint::Length(4),
        ])
        .collect()
}

/// What a queue's time column shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TimeColumn {
    /// When the lead was last active.
    LastActivity,
    /// When its next follow-up is due (what the `due` queue is ordered by).
    FollowUp,
    /// How long a new lead has waited for a first contact, to the second: the speed-to-lead
    /// timer, which moves on with every tick, with no request.
    Waiting,
    /// The churn tier and the value at risk (what the `dormant` recovery queue is ordered by).
    Recovery,
}

impl TimeColumn {
    fn of(name: &QueueName) -> Self {
        match name {
            QueueName::Due => TimeColumn::FollowUp,
            QueueName::SpeedToLead => TimeColumn::Waiting,
            QueueName::Dormant => TimeColumn::Recovery,
            _ => TimeColumn::LastActivity,
        }
    }

    fn header(self) -> &'static str {
        match self {
            TimeColumn::LastActivity => "Last activity",
            TimeColumn::FollowUp => "Follow-up",
            TimeColumn::Waiting => "Waiting",
            TimeColumn::Recovery => "Churn · at risk",
        }
    }
}

/// How long since `at`, to the second under an hour (`3m 05s`); `—` when unknown.
pub fn waiting(at: Option<Timestamp>, now: Timestamp) -> String {
    match at {
        Some(at) => format::duration(Some(u64::try_from(now.as_second() - at.as_second()).unwrap_or(0))),
        None => "—".to_owned(),
    }
}

/// One lead as a table row, its time column as the queue wants it. With `mark`, a mark column
/// comes first.
fn row_with(
    th: Theme,
    lead: &LeadSummary,
    now: Timestamp,
    time: TimeColumn,
    mark: Option<bool>,
) -> ListRow<'static> {
    let dash = || "—".to_owned();
    let time_cell = match time {
        TimeColumn::LastActivity => Line::from(format::relative(lead.last_activity, now)),
        TimeColumn::FollowUp => Line::from(format::relative(lead.next_followup_at, now)),
        TimeColumn::Waiting => Line::from(waiting(lead.date_added, now)),
        TimeColumn::Recovery => {
            let tier = lead.churn_tier();
            let tone = match tier {
                "critical" => Tone::Bad,
                "high" => Tone::Warn,
                "medium" => Tone::Accent,
                _ => Tone::Good,
            };
            Line::from(vec![
                Span::styled(format!("{tier:<8} "), th.fg(tone)),
                Span::raw(super::intel::money(lead.value_at_risk)),
            ])
        }
    };
    let score = Line::from(vec![
        Span::raw(format!("{:>3} ", lead.score)),
        Span::styled(lead.temperature.as_str(), th.temperature(lead.temperature)),
    ]);
    let cells = [
        Line::from(lead.name.clone()),
        score,
        Line::from(lead.source.clone().unwrap_or_else(dash)),
        Line::from(lead.stage.clone().unwrap_or_else(dash)),
        time_cell,
        Line::from(format::age(lead.date_added, now)).alignment(Alignment::Right),
    ];
    ListRow::new(mark.map(|m| super::mark_cell(th, m)).into_iter().chain(cells))
}

/// Draws the current queue.
pub fn draw(app: &App, frame: &mut Frame, area: Rect) {
    let th = app.theme;
    let view = app.view();
    let marks = app.lead_marks();
    let marking = !marks.is_empty();
    let mut title = vec![" ".into(), super::tabs::label(&view.name).bold(), " ".into()];
    if marking {
        title.push(Span::styled(format!("· {} marked ", format::thousands(marks.len() as u64)), th.mark()));
    }
    let title = Line::from(title);
    let mut block = Block::bordered().title(title);
    let empty = !view.loaded || view.total == 0;
    if !empty {
        let position = format!(
            " {} of {} ",
            format::thousands(view.selected as u64 + 1),
            format::thousands(view.total as u64)
        );
        block = block.title(Line::from(position).right_aligned());
    }
    if empty {
        let message = empty_message(app);
        let text = Paragraph::new(message)
            .alignment(Alignment::Center)
            .wrap(Wrap { trim: true })
            .block(block)
            .fg(th.color(Tone::Muted));
        frame.render_widget(text, area);
        return;
    }

    let range = window(app, area);
    let selected_in_window = view.selected.checked_sub(range.start);
    let time = TimeColumn::of(&view.name);
    let rows = range.map(|i| match view.lead_at(i) {
        Some(lead) => row_with(th, lead, app.now, time, marking.then(|| marks.contains_key(&lead.id))),
        None => ListRow::new([LOADING]).style(Style::new().fg(th.color(Tone::Muted))),
    });
    let age = Line::from("Age").alignment(Alignment::Right);
    let mark = marking.then(|| Line::from(""));
    let header = ListRow::new(
        mark.into_iter()
            .chain(["Name", "Score", "Source", "Stage", time.header()].map(Line::from))
            .chain([age]),
    );
    super::draw_list(th, frame, area, rows, widths(marking, time), header, block, selected_in_window);
}

fn empty_message(app: &App) -> String {
    let view = app.view();
    if !view.loaded {
        return match app.connection() {
            ConnState::Online { .. } => "Loading…".to_owned(),
            ConnState::Connecting { .. } => "Connecting to the daemon…".to_owned(),
            ConnState::Offline { .. } => "Waiting for the daemon…".to_owned(),
        };
    }
    let why = match view.name.as_str() {
        "speed-to-lead" => "Nobody new is waiting for a first contact.",
        "hot" => "No hot leads right now.",
        "needs-reply" => "Every conversation has your reply.",
        "due" => "No follow-ups are due.",
        "dormant" => "No dormant leads.",
        _ => "No leads yet. They appear as the daemon syncs.",
    };
    format!("No leads in this queue. {why}")
}
