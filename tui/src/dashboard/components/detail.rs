//! The selected lead in full: contact, its edits not yet in GHL (failed ones in red with the
//! reason), score with its explanation, the seven qualifying questions, and the timeline,
//! newest first. Until the detail arrives the pane shows what the
//! queue row already knows, so moving through leads never shows an empty pane.

use leadline_shared::domain::{
    Direction, FollowUpItem, ItemState, LeadSummary, OpState, PendingOp, QualificationItem,
};
use leadline_shared::protocol::{LeadDetail, TimelineEntry};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use super::{ellipsize, followups, one_line, wrap};
use crate::dashboard::action::Action;
use crate::dashboard::app::{App, Screen, describe_op};
use crate::dashboard::connection::ConnState;
use crate::dashboard::format;
use crate::dashboard::theme::{Theme, Tone};
use crate::output;

/// Width of the label column of the key/value lines.
const LABEL: usize = 9;

/// Draws the detail pane of the selected lead.
pub fn draw(app: &App, frame: &mut Frame, area: Rect) {
    let th = app.theme;
    let Some(lead) = app.selected_lead() else {
        // After a jump the selected row's window may still be on its way.
        let view = app.view();
        let loading = app.screen() != Screen::Search && view.selected < view.total;
        let text = if loading { "Loading…" } else { "No lead selected." };
        let empty = Paragraph::new(text).fg(th.color(Tone::Muted)).block(Block::bordered().title(" Lead "));
        frame.render_widget(empty, area);
        return;
    };
    let inner = usize::from(area.height.saturating_sub(2));
    let lines = pane_lines(app, lead, area, usize::from(app.detail_scroll()) + inner);
    let inner_height = usize::from(area.height.saturating_sub(2));
    let max = lines.len().saturating_sub(inner_height);
    let scroll = usize::from(app.detail_scroll()).min(max);
    let focus = if app.detail_focused() { " scrolling · esc " } else { " esc closes " };
    let mut block = Block::bordered()
        .title(Line::from(vec![" ".into(), lead.name.clone().bold(), " ".into()]))
        .title(Line::from(focus).right_aligned().fg(th.color(Tone::Muted)));
    if app.detail_focused() {
        block = block.border_style(th.fg(Tone::Accent));
    }
    if scroll < max {
        block = block.title_bottom(
            Line::from(format!(" more ↓ ({} lines) ", max - scroll))
                .right_aligned()
                .fg(th.color(Tone::Accent)),
        );
    }
    if scroll > 0 {
        block = block.title_bottom(Line::from(" ↑ more ").left_aligned().fg(th.color(Tone::Accent)));
    }
    let lines: Vec<Line<'static>> = lines.into_iter().skip(scroll).take(inner_height).collect();
    super::paint::paragraph(frame.buffer_mut(), area, &lines, Style::default(), Some(&block));
}

/// How far the lead pane in `area` can scroll: its lines past the pane's height.
pub fn max_scroll(app: &App, area: Rect) -> u16 {
    let Some(lead) = app.selected_lead() else {
        return 0;
    };
    // Only the count matters here: no line is built in full.
    let lines = pane_lines(app, lead, area, 0).len();
    u16::try_from(lines.saturating_sub(usize::from(area.height.saturating_sub(2)))).unwrap_or(u16::MAX)
}

/// Every line of the pane, before scrolling. The timeline's entries (200 of them) are built in
/// full only down to line `shown` (the pane's bottom at its scroll); below it they are counted
/// with empty lines, which is what keeps a frame under a millisecond.
fn pane_lines(app: &App, lead: &LeadSummary, area: Rect, shown: usize) -> Vec<Line<'static>> {
    let th = app.theme;
    let inner_width = usize::from(area.width.saturating_sub(2));
    let detail = app.selected_detail();
    let mut lines = summary_lines(lead, detail, app);
    match detail {
        Some(detail) => {
            let accept = app.keymap.hint_key(Action::AcceptRouting).map(|k| k.to_string());
            lines.extend(super::intel::priority_line(th, detail));
            lines.extend(super::intel::churn_line(th, detail));
            lines.extend(super::intel::route_line(th, detail, accept));
            // Edits come first: a failed one needs the agent, and must not scroll off. Then
            // what the follow-ups will do next, or failed to do.
            lines.extend(edit_lines(detail, app, inner_width));
            lines.extend(followup_lines(detail, app, inner_width));
            lines.extend(explanation_lines(th, detail, inner_width));
            lines.extend(super::intel::match_lines(th, detail, inner_width));
            lines.extend(super::intel::trace_lines(th, detail, inner_width));
            lines.extend(qualification_lines(th, detail, inner_width));
            let built = shown.saturating_sub(lines.len());
            lines.extend(timeline_lines(&detail.timeline, app, inner_width, built));
        }
        None => {
            lines.push(Line::default());
            let note = match app.connection() {
                ConnState::Online { .. } => "Loading details…",
                _ => "Details load when the daemon answers.",
            };
            lines.push(Line::from(note).fg(th.color(Tone::Muted)));
        }
    }
    lines
}

fn kv(th: Theme, label: &str, value: impl Into<String>) -> Line<'static> {
    Line::from(vec![Span::styled(format!("{label:<LABEL$}"), th.fg(Tone::Label)), Span::raw(value.into())])
}

fn or_dash(v: &Option<String>) -> String {
    v.clone().unwrap_or_else(|| "—".to_owned())
}

fn summary_lines(lead: &LeadSummary, detail: Option<&LeadDetail>, app: &App) -> Vec<Line<'static>> {
    let th = app.theme;
    let mut score = vec![
        Span::styled(format!("{:<LABEL$}", "Score"), th.fg(Tone::Label)),
        Span::styled(format!("{} ", lead.score), Style::new().add_modifier(Modifier::BOLD)),
        Span::styled(lead.temperature.as_str().to_uppercase(), th.temperature(lead.temperature)),
        Span::raw(format!("  {}/7 answered", lead.answered)),
    ];
    if let Some(model) = detail.map(|d| d.score_model.as_str()).filter(|m| !m.is_empty()) {
        score.push(Span::styled(format!("  ({model})"), th.fg(Tone::Muted)));
    }
    let mut lines = vec![
        Line::from(score),
        kv(th, "Phone", or_dash(&lead.phone)),
        kv(th, "Email", or_dash(&lead.email)),
        kv(th, "Timezone", or_dash(&lead.timezone)),
        kv(
            th,
            "Source",
            match &lead.lead_type {
                Some(kind) => format!("{} · {kind}", or_dash(&lead.source)),
                None => or_dash(&lead.source),
            },
        ),
        kv(
            th,
            "Stage",
            match (&lead.pipeline, &lead.stage) {
                (Some(p), Some(s)) => format!("{p} / {s}"),
                (Some(one), None) | (None, Some(one)) => one.clone(),
                (None, None) => "—".to_owned(),
            },
        ),
    ];
    if !lead.tags.is_empty() {
        lines.push(kv(th, "Tags", lead.tags.join(", ")));
    }
    lines.push(kv(
        th,
        "Added",
        format!(
            "{}   last activity {}",
            format::relative(lead.date_added, app.now),
            format::relative(lead.last_activity, app.now)
        ),
    ));
    let mut contact = Vec::new();
    if let Some(since) = lead.awaiting_reply_since {
        contact.push(format!("awaiting your reply since {}", format::relative(Some(since), app.now)));
    }
    if lead.first_outbound_at.is_none() {
        contact.push("never contacted".to_owned());
    }
    if let Some(next) = lead.next_followup_at {
        contact.push(format!("follow-up {}", format::relative(Some(next), app.now)));
    }
    if !contact.is_empty() {
        lines.push(kv(th, "Contact", contact.join(" · ")));
    }
    if lead.sms_blocked {
        lines.push(Line::from(vec![
            Span::styled(format!("{:<LABEL$}", "SMS"), th.fg(Tone::Label)),
            Span::styled("blocked (do not disturb)", th.fg(Tone::Bad)),
        ]));
    }
    lines
}

fn section(title: &str) -> [Line<'static>; 2] {
    [Line::default(), Line::from(title.to_owned()).bold().underlined()]
}

/// The lead's edits not yet in GHL: pending ones dim, failed and out-of-sync ones in red
/// with the reason, and the key that retries them.
fn edit_lines(detail: &LeadDetail, app: &App, width: usize) -> Vec<Line<'static>> {
    let th = app.theme;
    let ops = &detail.pending_ops;
    if ops.is_empty() {
        return Vec::new();
    }
    let failed = ops.iter().filter(|op| op.state != OpState::Pending).count();
    let waiting = ops.len() - failed;
    let mut counts = Vec::new();
    if failed > 0 {
        counts.push(format!("{failed} failed"));
    }
    if waiting > 0 {
        counts.push(format!("{waiting} waiting"));
    }
    let mut lines = Vec::from(section(&format!("Edits not yet in GHL ({})", counts.join(", "))));
    for op in ops {
        lines.extend(op_lines(th, op, detail, width));
    }
    if failed > 0 {
        let hint = match app.keymap.hint_key(Action::RetryEdits) {
            Some(key) => format!("  {key} to retry the failed edits"),
            None => "  bind retry-edits in the keymap to retry them".to_owned(),
        };
        lines.push(Line::from(hint).fg(th.color(Tone::Muted)));
    }
    lines
}

fn op_lines(th: Theme, op: &PendingOp, detail: &LeadDetail, width: usize) -> Vec<Line<'static>> {
    let what = describe_op(&op.kind, &detail.opportunities);
    let head = format!("#{} {what}", op.seq);
    let (mark, state, style) = match op.state {
        OpState::Pending if op.held.is_some() => ("  ◷ ", "held", th.fg(Tone::Warn)),
        OpState::Pending => ("  · ", "waiting for GHL", th.fg(Tone::Muted)),
        OpState::Failed => ("  ✕ ", "failed", th.fg(Tone::Bad)),
        OpState::OutOfSync => ("  ✕ ", "out of sync", th.fg(Tone::Bad)),
        OpState::Uncertain => ("  ? ", "uncertain: may have reached GHL", th.fg(Tone::Warn)),
    };
    let tail = format!(" — {state}");
    let room = width.saturating_sub(mark.chars().count() + tail.chars().count());
    let mut lines = vec![Line::from(vec![
        Span::styled(mark, style),
        Span::styled(ellipsize(&head, room), style),
        Span::styled(tail, style.add_modifier(Modifier::BOLD)),
    ])];
    if let Some(hold) = op.held.as_ref().filter(|_| op.state == OpState::Pending) {
        // A message the agent typed, waiting for the lead's allowed hours: until when.
        for line in wrap(&one_line(&hold.reason), width.saturating_sub(6), 2) {
            lines.push(Line::from(Span::styled(format!("      {line}"), th.fg(Tone::Warn))));
        }
    }
    if op.state != OpState::Pending {
        let reason = op.last_error.as_deref().unwrap_or("no reason recorded");
        let attempts = match op.attempts {
            0 | 1 => String::new(),
            n => format!(" ({n} attempts)"),
        };
        for line in wrap(&format!("{}{attempts}", one_line(reason)), width.saturating_sub(6), 3) {
            lines.push(Line::from(Span::styled(format!("      {line}"), th.fg(Tone::Bad))));
        }
    }
    lines
}

/// How many of a lead's follow-up actions its pane lists; the rest are on the follow-ups
/// screen.
const FOLLOWUPS_SHOWN: usize = 4;

/// The lead's follow-ups in brief: whether they are paused or the lead opted out, what is still
/// to happen (soonest first), then what happened (newest first), a failure's reason under it.
fn followup_lines(detail: &LeadDetail, app: &App, width: usize) -> Vec<Line<'static>> {
    let th = app.theme;
    let Some(f) = &detail.followups else {
        return Vec::new();
    };
    if f.items.is_empty() && f.paused.is_none() && f.opted_out.is_none() {
        return Vec::new();
    }
    let mut upcoming: Vec<&FollowUpItem> = f.items.iter().filter(|i| output::is_upcoming(i.state)).collect();
    upcoming.sort_by_key(|i| i.at);
    let mut past: Vec<&FollowUpItem> = f.items.iter().filter(|i| !output::is_upcoming(i.state)).collect();
    past.sort_by_key(|i| std::cmp::Reverse(i.updated_at));
    let mut lines =
        Vec::from(section(&format!("Follow-ups ({} upcoming, {} past)", upcoming.len(), past.len())));
    if f.paused.is_some() {
        let resume = app
            .keymap
            .keys_for(Action::ResumeLead)
            .first()
            .map(|k| format!("; {k} resumes"))
            .unwrap_or_default();
        lines.push(Line::from(format!("  paused by the agent{resume}")).fg(th.color(Tone::Warn)));
    }
    if let Some(o) = &f.opted_out {
        let text = format!("  opted out ({}): nothing automated is sent", one_line(&o.phrase));
        lines.push(Line::from(ellipsize(&text, width)).fg(th.color(Tone::Bad)));
    }
    let shown = upcoming.iter().chain(&past).take(FOLLOWUPS_SHOWN);
    for item in shown {
        let at = output::when_at(item);
        let when = format!(
            "{}{} · {}",
            if output::is_held(item) { "until " } else { "" },
            output::local(at, item.timezone.as_deref()),
            format::relative(Some(at), app.now)
        );
        let label = format!("  {:<10} ", followups::state_label(item.state));
        let room = width.saturating_sub(label.chars().count() + when.chars().count() + 2);
        lines.push(Line::from(vec![
            Span::styled(label, followups::state_style(th, item.state)),
            Span::raw(format!("{:<room$}  ", ellipsize(&output::action(item), room))),
            Span::styled(when, th.fg(Tone::Label)),
        ]));
        if matches!(item.state, ItemState::Failed | ItemState::Uncertain)
            && let Some(reason) = &item.reason
        {
            let style = followups::state_style(th, item.state).remove_modifier(Modifier::BOLD);
            lines.push(Line::from(Span::styled(
                format!("             {}", ellipsize(&one_line(reason), width.saturating_sub(13))),
                style,
            )));
        }
    }
    let more = f.items.len().saturating_sub(FOLLOWUPS_SHOWN);
    if more > 0 {
        let text = format!("  {more} more: `leadline lead {}` lists them", detail.lead.id);
        lines.push(Line::from(ellipsize(&text, width)).fg(th.color(Tone::Muted)));
    }
    lines
}

fn explanation_lines(th: Theme, detail: &LeadDetail, width: usize) -> Vec<Line<'static>> {
    let mut lines = Vec::from(section("Why this score"));
    if detail.explanation.is_empty() {
        // A model's is worked out when the lead is opened; none comes while a newer model
        // rescores every lead, and the note says so.
        let why = detail.score_note.as_deref().unwrap_or("no explanation recorded");
        for line in wrap(why, width, 3) {
            lines.push(Line::from(line).fg(th.color(Tone::Muted)));
        }
        return lines;
    }
    let log_odds = detail.score_unit == "log_odds";
    // Which scorer, and the unit: the contributions below add up to the scorer's output.
    let unit = if log_odds { "log-odds of winning" } else { "points" };
    let heading = format!(
        "by {}, in {unit}: {:+.2} in all",
        if detail.score_model.is_empty() { "rules-v1" } else { detail.score_model.as_str() },
        detail.score_output
    );
    lines.push(Line::from(ellipsize(&heading, width)).fg(th.color(Tone::Muted)));
    if let Some(note) = &detail.score_note {
        lines.push(Line::from(ellipsize(&format!("no model yet: {note}"), width)).fg(th.color(Tone::Muted)));
    }
    let name_width =
        detail.explanation.iter().map(|c| c.feature.chars().count()).max().unwrap_or(0).clamp(8, 22);
    let bar_width = width.saturating_sub(name_width + 10).min(30);
    let max = detail.explanation.iter().map(|c| c.contribution.abs()).fold(0.0_f64, f64::max);
    for c in &detail.explanation {
        let filled = if max > 0.0 && c.contribution.is_finite() {
            ((c.contribution.abs() / max) * bar_width as f64).round() as usize
        } else {
            0
        };
        let color = if c.contribution < 0.0 { th.color(Tone::Bad) } else { th.color(Tone::Good) };
        lines.push(Line::from(vec![
            Span::raw(format!("  {:<name_width$} ", ellipsize(&c.feature, name_width))),
            Span::styled(
                if log_odds {
                    format!("{:>+6.2} ", c.contribution)
                } else {
                    format!("{:>+6.1} ", c.contribution)
                },
                Style::new().fg(color),
            ),
            Span::styled("█".repeat(filled.min(bar_width)), Style::new().fg(color)),
        ]));
    }
    lines
}

fn qualification_lines(th: Theme, detail: &LeadDetail, width: usize) -> Vec<Line<'static>> {
    let q = &detail.qualification;
    let mut lines = Vec::from(section(&format!("Qualification {}/7", q.answered_count())));
    for item in QualificationItem::ALL {
        let label = match item {
            QualificationItem::HomeCondition => "Home condition",
            QualificationItem::Budget => "Budget",
            QualificationItem::Location => "Location",
            QualificationItem::Timeline => "Timeline",
            QualificationItem::Property => "Property",
            QualificationItem::Financing => "Financing",
            QualificationItem::Motivation => "Motivation",
        };
        let line = match q.get(item) {
            Some(answer) => Line::from(vec![
                Span::styled("  ✓ ", th.fg(Tone::Good)),
                Span::raw(format!("{label:<15}")),
                Span::raw(ellipsize(&one_line(answer), width.saturating_sub(21))),
            ]),
            None => Line::from(vec![
                Span::styled("  · ", th.fg(Tone::Muted)),
                Span::styled(label, th.fg(Tone::Muted)),
            ]),
        };
        lines.push(line);
    }
    lines
}

/// The timeline section: its title, then an entry a line, newest first; entries past the
/// first `built` lines of the section are empty lines (counted, not drawn).
fn timeline_lines(timeline: &[TimelineEntry], app: &App, width: usize, built: usize) -> Vec<Line<'static>> {
    let th = app.theme;
    let mut lines = Vec::from(section("Timeline"));
    if timeline.is_empty() {
        lines.push(Line::from("nothing yet").fg(th.color(Tone::Muted)));
        return lines;
    }
    // The daemon sends newest first; sorting again keeps the promise if it ever does not.
    let mut entries: Vec<&TimelineEntry> = timeline.iter().collect();
    entries.sort_by_key(|e| std::cmp::Reverse(e.at));
    for e in entries {
        if lines.len() >= built {
            lines.push(Line::default());
            continue;
        }
        let (arrow, color) = match (e.kind.as_str(), e.direction) {
            (_, Some(Direction::Inbound)) => ("←", th.color(Tone::Accent)),
            (_, Some(Direction::Outbound)) => ("→", th.color(Tone::Special)),
            ("note", _) => ("✎", th.color(Tone::Warn)),
            ("task", _) => ("☐", th.color(Tone::Good)),
            ("stage", _) => ("⇢", th.color(Tone::Cold)),
            _ => ("·", th.color(Tone::Label)),
        };
        let kind = e.channel.clone().unwrap_or_else(|| e.kind.clone());
        let text =
            if e.pending { format!("{} (waiting for GHL)", one_line(&e.text)) } else { one_line(&e.text) };
        let text_style = if e.pending { th.fg(Tone::Muted) } else { Style::new() };
        let when = format!("  {:>9} ", format::relative(e.at, app.now));
        let prefix_width = when.chars().count() + 2 + 7;
        lines.push(Line::from(vec![
            Span::styled(when, th.fg(Tone::Label)),
            Span::styled(format!("{arrow} "), Style::new().fg(color)),
            Span::styled(format!("{:<6} ", ellipsize(&kind, 6)), th.fg(Tone::Muted)),
            Span::styled(ellipsize(&text, width.saturating_sub(prefix_width)), text_style),
        ]));
    }
    lines
}
