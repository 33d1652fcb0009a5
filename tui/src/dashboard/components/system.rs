//! The System screen: sync's health (its state, the last success and error, each phase, the
//! GHL request budget), the edits waiting for GHL or refused by it (retried by key), the
//! records sync could not read, and the end of the daemon's log. Everything comes from the
//! daemon's status, its `System` and `LogTail` answers; only the visible rows are built.

use leadline_shared::domain::OpState;
use leadline_shared::protocol::{OpView, StatusReport, SyncFailure, SyncState};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use super::{ListRow, draw_list, ellipsize, one_line};
use crate::dashboard::WIDE;
use crate::dashboard::action::Action;
use crate::dashboard::app::{App, describe_op, visible_range};
use crate::dashboard::connection::ConnState;
use crate::dashboard::format;
use crate::dashboard::theme::{Theme, Tone};

/// Rows of the sync box: its four lines and the borders.
const SYNC_ROWS: u16 = 6;
/// The most rows of the skipped-records box, borders included.
const SKIPPED_ROWS: u16 = 6;
/// Width of the labels in the sync box.
const LABEL: usize = 8;

fn title<'a>(name: &'a str, rest: String) -> Line<'a> {
    Line::from(vec![" ".into(), name.bold(), Span::raw(rest)])
}

/// Draws the screen into `area` (everything between the tabs and the status line).
pub fn draw(app: &App, frame: &mut Frame, area: Rect) {
    let skipped = app.system().report.as_ref().map_or(0, |r| r.skipped.len());
    let skipped_rows = (skipped as u16 + 2).clamp(3, SKIPPED_ROWS);
    if area.width >= WIDE {
        let [left, right] =
            Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(area);
        let [sync, ops, skipped] = Layout::vertical([
            Constraint::Length(SYNC_ROWS),
            Constraint::Fill(1),
            Constraint::Length(skipped_rows),
        ])
        .areas(left);
        draw_sync(app, frame, sync);
        draw_ops(app, frame, ops);
        draw_skipped(app, frame, skipped);
        draw_log(app, frame, right);
    } else {
        let [sync, ops, skipped, log] = Layout::vertical([
            Constraint::Length(SYNC_ROWS),
            Constraint::Fill(3),
            Constraint::Length(skipped_rows.min(4)),
            Constraint::Fill(2),
        ])
        .areas(area);
        draw_sync(app, frame, sync);
        draw_ops(app, frame, ops);
        draw_skipped(app, frame, skipped);
        draw_log(app, frame, log);
    }
}

fn label(th: Theme, text: &str) -> Span<'static> {
    Span::styled(format!("{text:<LABEL$}"), th.fg(Tone::Label))
}

fn state_color(th: Theme, state: SyncState) -> Color {
    match state {
        _ if state.is_settled() => th.color(Tone::Good),
        SyncState::Syncing => th.color(Tone::Accent),
        _ if state.is_failing() => th.color(Tone::Bad),
        _ => th.color(Tone::Warn),
    }
}

/// The sync box's lines: state, error, phases, budget.
fn sync_lines(status: &StatusReport, app: &App, width: usize) -> Vec<Line<'static>> {
    let th = app.theme;
    let sync = &status.sync;
    let now = app.now;
    let mut state = vec![
        label(th, "Sync"),
        Span::styled(
            sync.state.as_str(),
            Style::new().fg(state_color(th, sync.state)).add_modifier(Modifier::BOLD),
        ),
    ];
    if let Some(failure) = sync.failure.filter(|_| sync.state.is_failing()) {
        let mut words = SyncFailure::describe(failure).to_owned();
        if let Some(since) = sync.unreachable_since.filter(|_| failure == SyncFailure::Unreachable) {
            let secs = u64::try_from(now.as_second() - since.as_second()).unwrap_or(0);
            words.push_str(&format!(" for {}", format::duration(Some(secs))));
        }
        state.push(Span::styled(format!(" · {words}"), th.fg(Tone::Bad)));
    }
    state.push(Span::raw(format!(" · last success {}", format::relative(sync.last_success, now))));
    if let Some(progress) = sync.progress.as_deref().filter(|_| sync.state == SyncState::Syncing) {
        state.push(Span::styled(format!(" · {progress}"), th.fg(Tone::Accent)));
    }
    let room = width.saturating_sub(LABEL);
    let error = match sync.last_error.as_deref() {
        Some(e) => Span::styled(ellipsize(&one_line(e), room), th.fg(Tone::Bad)),
        None => Span::styled("none", th.fg(Tone::Muted)),
    };
    let mut phases = vec![label(th, "Phases")];
    if sync.phases.is_empty() {
        phases.push(Span::styled("none has run yet", th.fg(Tone::Muted)));
    }
    for (i, p) in sync.phases.iter().enumerate() {
        if i > 0 {
            phases.push(Span::raw(" · "));
        }
        let (mark, color, when) = if p.running {
            ("⟳", th.color(Tone::Accent), format!("since {}", format::relative(p.last_started, now)))
        } else if p.last_error.is_some() {
            ("✕", th.color(Tone::Bad), format::relative(p.last_started, now))
        } else {
            ("✓", th.color(Tone::Good), format::relative(p.last_success, now))
        };
        phases.push(Span::raw(format!("{} ", p.name)));
        phases.push(Span::styled(mark, Style::new().fg(color)));
        phases.push(Span::styled(format!(" {when}"), th.fg(Tone::Label)));
    }
    let budget = match &sync.rate_limit {
        Some(b) => Span::raw(format!(
            "burst {}/{} · today {}/{} requests left",
            b.burst_remaining,
            b.burst_max,
            format::thousands(u64::from(b.daily_remaining)),
            format::thousands(u64::from(b.daily_max)),
        )),
        None => Span::styled("unknown until GHL answers", th.fg(Tone::Muted)),
    };
    vec![
        Line::from(state),
        Line::from(vec![label(th, "Error"), error]),
        Line::from(phases),
        Line::from(vec![label(th, "Budget"), budget]),
    ]
}

fn draw_sync(app: &App, frame: &mut Frame, area: Rect) {
    let th = app.theme;
    let online = matches!(app.connection(), ConnState::Online { .. });
    let as_of = if online { String::new() } else { " (as last heard; the daemon is down)".to_owned() };
    let block = Block::bordered().title(title("Sync", format!("{as_of} ")));
    let text = match app.status() {
        Some(status) => sync_lines(status, app, usize::from(area.width.saturating_sub(2))),
        None => vec![Line::from(waiting(app)).style(th.muted())],
    };
    super::paint::paragraph(frame.buffer_mut(), area, &text, Style::default(), Some(&block));
}

fn waiting(app: &App) -> &'static str {
    match app.connection() {
        ConnState::Online { .. } => "Loading…",
        _ => "Not connected to the daemon.",
    }
}

fn op_state(th: Theme, state: OpState) -> (&'static str, Style) {
    match state {
        OpState::Pending => ("waiting", th.fg(Tone::Label)),
        OpState::Failed => ("failed", th.fg(Tone::Bad).add_modifier(Modifier::BOLD)),
        OpState::OutOfSync => ("out of sync", th.fg(Tone::Bad)),
        OpState::Uncertain => ("uncertain", th.fg(Tone::Warn)),
    }
}

fn op_row(th: Theme, view: &OpView) -> ListRow<'static> {
    let op = &view.op;
    let lead = if view.lead_name.is_empty() { op.contact_id.clone() } else { view.lead_name.clone() };
    let (state, style) = op_state(th, op.state);
    let error = op.last_error.as_deref().map(one_line).unwrap_or_else(|| "—".to_owned());
    ListRow::new([
        Line::from(format!("#{}", op.seq)),
        Line::from(lead),
        Line::from(describe_op(&op.kind, &[])),
        Line::from(Span::styled(state, style)),
        Line::from(op.attempts.to_string()),
        Line::from(error),
    ])
}

fn draw_ops(app: &App, frame: &mut Frame, area: Rect) {
    let th = app.theme;
    let view = app.system();
    let key = |a: Action| app.keymap.keys_for(a).first().map(|k| k.to_string());
    let (pending, failed) = view.counts();
    let mut rest = String::new();
    if let Some(report) = &view.report {
        rest = format!(": {pending} waiting · {failed} need you");
        if report.ops_total > report.ops.len() as u64 {
            rest.push_str(&format!(" (first {} of {})", report.ops.len(), report.ops_total));
        }
    }
    let keys = match (key(Action::RetryEdits), key(Action::RetryAllFailed)) {
        (Some(one), Some(all)) => format!(" · {one} retry · {all} retry all failed"),
        (Some(one), None) => format!(" · {one} retry"),
        (None, Some(all)) => format!(" · {all} retry all failed"),
        (None, None) => String::new(),
    };
    let room = usize::from(area.width).saturating_sub(" Edits for GHL ".len() + 4);
    let block = Block::bordered().title(title("Edits for GHL", ellipsize(&format!("{rest}{keys} "), room)));
    let ops = view.ops();
    if ops.is_empty() {
        let text =
            if view.report.is_some() { "No edit is waiting: GHL has every one." } else { waiting(app) };
        frame.render_widget(Paragraph::new(text).style(th.muted()).block(block), area);
        return;
    }
    let height = usize::from(area.height.saturating_sub(3));
    let range = visible_range(ops.len(), 0, view.selected, height);
    let selected = view.selected.checked_sub(range.start);
    let rows = ops[range].iter().map(|v| op_row(th, v));
    let header = ListRow::new(["Edit", "Lead", "What", "State", "Tries", "Last error"]);
    let widths = [
        Constraint::Length(5),
        Constraint::Fill(2),
        Constraint::Fill(3),
        Constraint::Length(11),
        Constraint::Length(5),
        Constraint::Fill(4),
    ];
    draw_list(app.theme, frame, area, rows, widths, header, block, selected);
}

fn draw_skipped(app: &App, frame: &mut Frame, area: Rect) {
    let th = app.theme;
    let report = app.system().report.as_ref();
    let total = report.map_or(0, |r| r.skipped_total);
    let rest = if report.is_some() {
        format!(": {total} (GHL sent them unreadable; sync goes on) ")
    } else {
        " ".into()
    };
    let block = Block::bordered().title(title("Skipped records", rest));
    let width = usize::from(area.width.saturating_sub(2));
    let lines: Vec<Line> = match report {
        Some(r) if !r.skipped.is_empty() => r
            .skipped
            .iter()
            .take(usize::from(area.height.saturating_sub(2)))
            .map(|s| {
                let what = format!("{} {}", s.kind, s.id.as_deref().unwrap_or("(no id)"));
                let when = format!(" · {}", format::relative(Some(s.last_seen), app.now));
                let room = width.saturating_sub(what.chars().count() + when.chars().count() + 3);
                Line::from(vec![
                    Span::styled(what, Style::new().bold()),
                    Span::raw(" · "),
                    Span::styled(ellipsize(&one_line(&s.reason), room), th.fg(Tone::Warn)),
                    Span::styled(when, th.fg(Tone::Label)),
                ])
            })
            .collect(),
        Some(_) => vec![Line::from("None: every record GHL sent could be read.").style(th.muted())],
        None => vec![Line::from(waiting(app)).style(th.muted())],
    };
    super::paint::paragraph(frame.buffer_mut(), area, &lines, Style::default(), Some(&block));
}

fn draw_log(app: &App, frame: &mut Frame, area: Rect) {
    let th = app.theme;
    let log = app.system().log.as_ref();
    let file = log.and_then(|l| l.file.as_deref()).map(|f| f.rsplit('/').next().unwrap_or(f).to_owned());
    let rest = match &file {
        Some(name) => format!(": {name} "),
        None => " ".to_owned(),
    };
    let block = Block::bordered().title(title("Daemon log", rest));
    let width = usize::from(area.width.saturating_sub(2));
    let height = usize::from(area.height.saturating_sub(2));
    let lines: Vec<Line> = match log {
        Some(log) if !log.lines.is_empty() => {
            let start = log.lines.len().saturating_sub(height);
            log.lines[start..]
                .iter()
                .map(|l| {
                    let style = if l.contains(" ERROR ") {
                        th.fg(Tone::Bad)
                    } else if l.contains(" WARN ") {
                        th.fg(Tone::Warn)
                    } else {
                        th.fg(Tone::Label)
                    };
                    Line::from(Span::styled(ellipsize(l, width), style))
                })
                .collect()
        }
        Some(_) => vec![Line::from("The daemon has not written a log file yet.").style(th.muted())],
        None => vec![Line::from(waiting(app)).style(th.muted())],
    };
    super::paint::paragraph(frame.buffer_mut(), area, &lines, Style::default(), Some(&block));
}
