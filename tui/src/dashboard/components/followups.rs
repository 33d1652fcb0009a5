//! The follow-ups screen: the approval queue first, then what is planned, then what failed or
//! is uncertain, then what went lately; and the selected action's pane, with when it goes in
//! the lead's time, why, and its text. As with the queues, only the visible rows are built.

use std::ops::Range;

use leadline_shared::domain::ItemState;
use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Rect};
use ratatui::style::{Modifier, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use super::queue_table::CHROME_ROWS;
use super::{ListRow, draw_list, ellipsize, one_line, wrap};
use crate::dashboard::action::Action;
use crate::dashboard::app::{App, FollowUpRow, visible_range};
use crate::dashboard::connection::ConnState;
use crate::dashboard::format;
use crate::dashboard::theme::{Theme, Tone};
use crate::output;

/// Width of the label column of the pane.
const LABEL: usize = 9;

/// The rows of the follow-ups that a table drawn in `area` shows.
pub fn window(app: &App, area: Rect) -> Range<usize> {
    let view = app.followups();
    let height = usize::from(area.height.saturating_sub(CHROME_ROWS));
    visible_range(view.rows.len(), view.offset, view.selected, height)
}

/// A state as the screen names it: what it means for the agent, in at most 10 characters.
pub fn state_label(state: ItemState) -> &'static str {
    match state {
        ItemState::AwaitingApproval => "to approve",
        ItemState::Scheduled => "scheduled",
        ItemState::Queued => "queued",
        ItemState::Sending => "sending",
        ItemState::Sent => "sent",
        ItemState::Done => "done",
        ItemState::Failed => "failed",
        ItemState::Uncertain => "uncertain",
        ItemState::Skipped => "skipped",
        ItemState::Cancelled => "cancelled",
    }
}

/// The colour of a state: what needs the agent stands out, what is over is dim.
pub fn state_style(th: Theme, state: ItemState) -> Style {
    let bold = Style::new().add_modifier(Modifier::BOLD);
    match state {
        ItemState::AwaitingApproval => bold.fg(th.color(Tone::Warn)),
        ItemState::Failed => bold.fg(th.color(Tone::Bad)),
        ItemState::Uncertain => bold.fg(th.color(Tone::Special)),
        ItemState::Scheduled => Style::new(),
        ItemState::Queued | ItemState::Sending => th.fg(Tone::Accent),
        ItemState::Sent | ItemState::Done => th.fg(Tone::Good),
        ItemState::Skipped | ItemState::Cancelled => th.fg(Tone::Muted),
    }
}

/// When an action goes or went, in the lead's time, and how far that is from now:
/// `Tue 08:00 CDT · in 9h`, or `until Tue 08:00 CDT · in 9h` for a send quiet hours or a cap
/// held back past its due time.
pub fn when(row: &FollowUpRow, now: jiff::Timestamp) -> String {
    let item = row.item();
    let relative = format::relative(Some(output::when_at(item)), now);
    if output::is_held(item) {
        format!("until {} · {relative}", row.local)
    } else {
        format!("{} · {relative}", row.local)
    }
}

/// The table's column widths: lead and action share what state and time leave.
fn widths(marking: bool) -> Vec<Constraint> {
    let mark = marking.then_some(Constraint::Length(super::MARK_WIDTH));
    mark.into_iter()
        .chain([Constraint::Length(10), Constraint::Fill(3), Constraint::Fill(4), Constraint::Length(28)])
        .collect()
}

fn row(th: Theme, r: &FollowUpRow, now: jiff::Timestamp, mark: Option<bool>) -> ListRow<'static> {
    let state = r.item().state;
    let lead =
        if r.view.lead_name.is_empty() { r.item().contact_id.clone() } else { r.view.lead_name.clone() };
    let cells = [
        Line::from(Span::styled(state_label(state), state_style(th, state))),
        Line::from(lead),
        Line::from(r.action.clone()),
        Line::from(when(r, now)),
    ];
    ListRow::new(mark.map(|m| super::mark_cell(th, m)).into_iter().chain(cells))
}

/// The title's counts: `3 to approve · 1 uncertain`, the parts that need the agent first, as
/// many as fit in `room` characters.
fn counts(app: &App, room: usize) -> String {
    let c = app.followups().counts;
    let parts = [
        (c.approval, "to approve"),
        (c.failed, "failed"),
        (c.uncertain, "uncertain"),
        (c.planned, "planned"),
        (c.recent, "lately"),
    ];
    let mut out = String::new();
    for (n, what) in parts.iter().filter(|(n, _)| *n > 0) {
        let part = if out.is_empty() { format!("{n} {what}") } else { format!(" · {n} {what}") };
        if out.chars().count() + part.chars().count() > room {
            break;
        }
        out.push_str(&part);
    }
    out
}

/// Draws the follow-ups table.
pub fn draw_table(app: &App, frame: &mut Frame, area: Rect) {
    let th = app.theme;
    let view = app.followups();
    let position = format!(
        " {} of {} ",
        format::thousands(view.selected as u64 + 1),
        format::thousands(view.rows.len() as u64)
    );
    let mut title = vec![" ".into(), "Follow-ups".bold()];
    // Room for the counts between the name and the position, with the corners and a gap.
    let room = usize::from(area.width).saturating_sub(" Follow-ups: ".len() + position.len() + 4);
    let counts = counts(app, room);
    if !counts.is_empty() {
        title.push(Span::raw(format!(": {counts}")));
    }
    if !app.followup_marks().is_empty() {
        title.push(Span::styled(format!(" · {} marked", app.followup_marks().len()), th.mark()));
    }
    title.push(" ".into());
    let mut block = Block::bordered().title(Line::from(title));
    if view.rows.is_empty() {
        let text = Paragraph::new(empty_message(app))
            .alignment(Alignment::Center)
            .wrap(Wrap { trim: true })
            .block(block)
            .fg(th.color(Tone::Muted));
        frame.render_widget(text, area);
        return;
    }
    block = block.title(Line::from(position).right_aligned());
    let range = window(app, area);
    let selected_in_window = view.selected.checked_sub(range.start);
    let marks = app.followup_marks();
    let marking = !marks.is_empty();
    let rows = view.rows[range]
        .iter()
        .map(|r| row(th, r, app.now, marking.then(|| marks.contains_key(&r.item().id))));
    let mark = marking.then(|| Line::from(""));
    let header = ListRow::new(
        mark.into_iter().chain(["State", "Lead", "Action", "When (lead's time)"].map(Line::from)),
    );
    draw_list(th, frame, area, rows, widths(marking), header, block, selected_in_window);
}

fn empty_message(app: &App) -> String {
    if !app.followups().loaded {
        return match app.connection() {
            ConnState::Online { .. } => "Loading…".to_owned(),
            ConnState::Connecting { .. } => "Connecting to the daemon…".to_owned(),
            ConnState::Offline { .. } => "Waiting for the daemon…".to_owned(),
        };
    }
    "Nothing to approve, planned, failed or sent lately. Follow-ups appear here as the workflows \
     plan them; `leadline followups simulate --days 7` shows what they would send."
        .to_owned()
}

fn kv(th: Theme, label: &str, value: Vec<Span<'static>>) -> Line<'static> {
    let mut spans = vec![Span::styled(format!("{label:<LABEL$}"), th.fg(Tone::Label))];
    spans.extend(value);
    Line::from(spans)
}

/// Lines of wrapped text under a label (the label on the first one only).
fn paragraph(
    th: Theme,
    label: &str,
    text: &str,
    width: usize,
    max_lines: usize,
    style: Style,
) -> Vec<Line<'static>> {
    wrap(&one_line(text), width.saturating_sub(LABEL), max_lines)
        .into_iter()
        .enumerate()
        .map(|(i, line)| kv(th, if i == 0 { label } else { "" }, vec![Span::styled(line, style)]))
        .collect()
}

/// The keys that apply to an action in its state, from the live keymap:
/// `a approve · e edit · x skip · p pause`.
fn key_hints(app: &App, row: &FollowUpRow) -> String {
    let item = row.item();
    let mut actions: Vec<(Action, &str)> = Vec::new();
    match item.state {
        ItemState::AwaitingApproval => {
            actions.push((Action::ApproveFollowUp, "approve"));
            if item.action.channel().is_some() {
                actions.push((Action::EditFollowUp, "edit"));
            }
            actions.push((Action::SkipFollowUp, "skip"));
        }
        ItemState::Scheduled => actions.push((Action::SkipFollowUp, "skip")),
        ItemState::Uncertain => actions.push((Action::SendAgain, "send again")),
        _ => {}
    }
    actions.push((Action::PauseLead, "pause lead"));
    actions.push((Action::ResumeLead, "resume"));
    actions
        .into_iter()
        .filter_map(|(action, label)| app.keymap.hint_key(action).map(|k| format!("{k} {label}")))
        .collect::<Vec<_>>()
        .join(" · ")
}

/// Draws the selected action's pane: what, when in the lead's time, why, its text, the keys.
pub fn draw_pane(app: &App, frame: &mut Frame, area: Rect) {
    let th = app.theme;
    let Some(row) = app.followups().selected_row() else {
        let empty =
            Paragraph::new("No follow-up selected.").fg(th.color(Tone::Muted)).block(Block::bordered());
        frame.render_widget(empty, area);
        return;
    };
    let item = row.item();
    let width = usize::from(area.width.saturating_sub(2));
    let lead =
        if row.view.lead_name.is_empty() { item.contact_id.clone() } else { row.view.lead_name.clone() };
    let block = Block::bordered().title(Line::from(vec![" ".into(), lead.bold(), " ".into()]));

    let mut lines = vec![kv(
        th,
        "Action",
        vec![
            Span::styled(state_label(item.state), state_style(th, item.state)),
            Span::raw(format!(" · {}", ellipsize(&row.action, width.saturating_sub(LABEL + 13)))),
        ],
    )];
    let zone = item.timezone.as_deref().map(|z| format!(" ({z})")).unwrap_or_default();
    let when = format!("{}{zone}", when(row, app.now));
    lines.push(kv(th, "When", vec![Span::raw(ellipsize(&when, width.saturating_sub(LABEL)))]));
    if output::is_held(item) {
        let due = output::local(item.due_at, item.timezone.as_deref());
        lines.push(kv(
            th,
            "",
            vec![Span::styled(format!("held back; it was due {due}"), th.fg(Tone::Label))],
        ));
    }
    if let Some(reason) = item.reason.as_deref().filter(|r| !r.trim().is_empty()) {
        let style = match item.state {
            ItemState::Failed => th.fg(Tone::Bad),
            ItemState::Uncertain => th.fg(Tone::Special),
            _ => Style::new(),
        };
        lines.extend(paragraph(th, "Why", reason, width, 3, style));
    }
    if item.state == ItemState::Uncertain {
        lines.push(kv(
            th,
            "",
            vec![Span::styled("It may have arrived: check GHL's conversation first.", th.fg(Tone::Label))],
        ));
    }
    // The keys before the text, which can be long: a short pane still shows what to press.
    let keys = key_hints(app, row);
    if !keys.is_empty() {
        let keys = ellipsize(&keys, width.saturating_sub(LABEL));
        lines.push(kv(th, "Keys", vec![Span::styled(keys, th.fg(Tone::Accent))]));
    }
    match (item.edited.as_deref(), item.body.as_deref()) {
        (Some(text), _) => lines.extend(paragraph(th, "Your text", text, width, 4, Style::new())),
        (None, Some(body)) => lines.extend(paragraph(th, "Text", body, width, 4, Style::new())),
        (None, None) if item.action.channel().is_some() => lines.push(kv(
            th,
            "Text",
            vec![Span::styled("the template's, written when it goes", th.fg(Tone::Muted))],
        )),
        (None, None) => {}
    }
    lines.push(kv(
        th,
        "Workflow",
        vec![Span::styled(
            ellipsize(&format!("{} · {}", item.workflow, item.id), width.saturating_sub(LABEL)),
            th.fg(Tone::Muted),
        )],
    ));
    frame.render_widget(Paragraph::new(lines).block(block), area);
}
