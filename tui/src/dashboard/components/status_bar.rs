//! The bottom of the screen: the offline banner, the status line (daemon, sync with its
//! progress or error, pending work, counts) and the footer: a flash message (an edit saved or
//! refused), the last error, or the key hints generated from the live keymap.

use leadline_shared::protocol::SyncState;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::ellipsize;
use crate::dashboard::app::{App, FlashKind, Screen};
use crate::dashboard::connection::ConnState;
use crate::dashboard::format;

fn sep() -> Span<'static> {
    Span::styled(" │ ", Style::new().fg(Color::DarkGray))
}

/// The banner's text while the daemon cannot be reached; `None` otherwise.
pub fn banner_text(app: &App) -> Option<String> {
    let ConnState::Offline { attempts, last_error, starting_daemon, .. } = app.connection() else {
        return None;
    };
    let what = if *starting_daemon {
        "starting the daemon…".to_owned()
    } else {
        let secs = app.conn.retry_in_secs(app.now).unwrap_or(0);
        format!("retrying in {secs}s (attempt {})", attempts + 1)
    };
    let retry_key =
        app.keymap.keys_for(crate::dashboard::action::Action::Refresh).first().map(|k| k.to_string());
    let hint = retry_key.map(|k| format!(" · {k} retries now")).unwrap_or_default();
    Some(format!(" OFFLINE — {what}{hint} · {last_error}"))
}

/// Draws the offline banner.
pub fn draw_banner(app: &App, frame: &mut Frame, area: Rect) {
    if let Some(text) = banner_text(app) {
        let style = Style::new().fg(Color::White).bg(Color::Red).add_modifier(Modifier::BOLD);
        frame.render_widget(Paragraph::new(text).style(style), area);
    }
}

/// The status line's segments, most important first, for a line `width` wide. Free text
/// (sync progress, the sync error) is cut so that the sync segment still fits beside the
/// first one.
fn segments(app: &App, width: usize) -> Vec<Vec<Span<'static>>> {
    let mut segments = Vec::new();
    segments.push(match app.connection() {
        ConnState::Online { .. } => {
            let (version, pid) = match (&app.status, &app.welcome) {
                (Some(s), _) if !s.daemon.version.is_empty() => (s.daemon.version.clone(), s.daemon.pid),
                (_, Some(w)) => (w.app_version.clone(), w.pid),
                _ => (String::new(), 0),
            };
            vec![
                Span::styled("● ", Style::new().fg(Color::Green)),
                Span::raw(format!("leadlined {version} pid {pid}")),
            ]
        }
        ConnState::Connecting { .. } => vec![Span::styled("◌ connecting…", Style::new().fg(Color::Yellow))],
        ConnState::Offline { since, .. } => vec![Span::styled(
            format!("✕ offline since {}", format::relative(Some(*since), app.now)),
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        )],
    });
    let Some(status) = &app.status else {
        return segments;
    };

    let sync = &status.sync;
    let state = sync.state;
    let failing = state.is_failing();
    let color = match state {
        _ if state.is_settled() => Color::Green,
        SyncState::Syncing => Color::Cyan,
        _ if failing => Color::Red,
        _ => Color::Yellow,
    };
    let mut sync_spans = vec![Span::raw("sync "), Span::styled(state.as_str(), Style::new().fg(color))];
    let progress = sync.progress.as_deref().filter(|p| state == SyncState::Syncing && !p.trim().is_empty());
    if progress.is_none()
        && let Some(last) = sync.last_success
    {
        sync_spans.push(Span::raw(format!(" · ok {}", format::relative(Some(last), app.now))));
    }
    // What is left of the line for the free text, after the first segment, the separator,
    // this segment so far and " · ".
    let used = segments.iter().flatten().chain(&sync_spans).map(Span::width).sum::<usize>() + 3 + 3;
    let room = width.saturating_sub(used);
    let error = sync.last_error.as_deref().filter(|e| !e.trim().is_empty());
    let free_text = match (progress, error) {
        (Some(progress), _) => Some((progress, Color::Cyan)),
        (None, Some(error)) if failing => Some((error, Color::Red)),
        _ => None,
    };
    match free_text {
        Some((text, color)) if room >= 8 => {
            sync_spans.push(Span::styled(format!(" · {}", ellipsize(text, room)), Style::new().fg(color)));
        }
        _ if error.is_some() && state != SyncState::Idle => {
            sync_spans.push(Span::styled(" · error", Style::new().fg(Color::Red)));
        }
        _ => {}
    }
    segments.push(sync_spans);

    let failed = Span::raw(format!(" · failed {}", sync.failed_ops));
    segments.push(vec![
        Span::raw(format!("pending {}", sync.pending_ops)),
        if sync.failed_ops > 0 { failed.red().bold() } else { failed },
    ]);

    let c = &status.counts;
    segments.push(vec![
        Span::raw(format!("{} contacts · ", format::thousands(c.contacts))),
        Span::styled(format!("{} hot", format::thousands(c.hot)), Style::new().fg(Color::Red)),
        Span::raw(format!(" · {} warm", format::thousands(c.warm))),
    ]);
    segments
}

/// Draws the status line: as many whole segments as fit, in order of importance.
pub fn draw_status(app: &App, frame: &mut Frame, area: Rect) {
    let mut spans: Vec<Span> = Vec::new();
    let mut used = 0;
    for (i, segment) in segments(app, usize::from(area.width)).into_iter().enumerate() {
        let width: usize = segment.iter().map(Span::width).sum::<usize>() + if i > 0 { 3 } else { 0 };
        // The first segment (connection) is always drawn, truncated if need be.
        if i > 0 && used + width > usize::from(area.width) {
            break;
        }
        if i > 0 {
            spans.push(sep());
        }
        spans.extend(segment);
        used += width;
    }
    frame.render_widget(Paragraph::new(Line::from(spans)).style(Style::new().bg(Color::Black)), area);
}

/// The order in which key hints are left out when the footer is too narrow for all of them
/// (the labels of every screen's hints in one list). Search and compose outlast sync and note,
/// so an 80-column queue footer keeps both `/` and `c`.
const DROP_FIRST: [&str; 16] = [
    "refresh",
    "queue",
    "resume",
    "sync",
    "note",
    "search",
    "compose",
    "back",
    "pause",
    "tag",
    "detail",
    "move",
    "send again",
    "edit",
    "skip",
    "approve",
];

/// The key hints that fit in `width` columns (each drawn as `keys label`, two spaces apart,
/// after one leading space), leaving out the least needed ones first.
pub fn fitting_hints(mut hints: Vec<(String, &'static str)>, width: usize) -> Vec<(String, &'static str)> {
    let used = |hints: &[(String, &str)]| {
        hints
            .iter()
            .map(|(k, l)| k.chars().count() + 1 + l.chars().count() + 2)
            .sum::<usize>()
            .saturating_sub(1)
    };
    for label in DROP_FIRST {
        if used(&hints) <= width {
            break;
        }
        hints.retain(|(_, l)| *l != label);
    }
    hints
}

/// Draws the footer: a flash message if there is one, else the last error, else the key
/// hints.
pub fn draw_footer(app: &App, frame: &mut Frame, area: Rect) {
    let dismiss = || {
        app.keymap
            .keys_for(crate::dashboard::action::Action::Close)
            .first()
            .map(|k| Span::styled(format!("  ({k} dismisses)"), Style::new().fg(Color::DarkGray)))
    };
    let line = match (&app.flash, &app.last_error) {
        (Some(flash), _) => {
            let (mark, color) = match flash.kind {
                FlashKind::Info => ("…", Color::Gray),
                FlashKind::Success => ("✓", Color::Green),
                FlashKind::Error => ("✕", Color::Red),
            };
            let mut spans = vec![Span::styled(format!(" {mark} {}", flash.text), Style::new().fg(color))];
            if flash.kind == FlashKind::Error {
                spans.extend(dismiss());
            }
            Line::from(spans)
        }
        (None, Some(error)) => {
            let mut spans = vec![Span::styled(format!(" ⚠ {error}"), Style::new().fg(Color::Yellow))];
            spans.extend(dismiss());
            Line::from(spans)
        }
        (None, None) => {
            let mut spans = vec![Span::raw(" ")];
            let hints = match app.screen() {
                Screen::Queue => app.keymap.footer_hints(),
                Screen::FollowUps => app.keymap.followup_hints(),
                Screen::Analytics => app.keymap.analytics_hints(),
                Screen::Tasks => app.keymap.tasks_hints(),
                Screen::Search => app.keymap.search_hints(app.search().editing),
            };
            let hints = fitting_hints(hints, usize::from(area.width));
            for (i, (keys, label)) in hints.into_iter().enumerate() {
                if i > 0 {
                    spans.push(Span::raw("  "));
                }
                spans.push(Span::styled(keys, Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD)));
                spans.push(Span::styled(format!(" {label}"), Style::new().fg(Color::Gray)));
            }
            Line::from(spans)
        }
    };
    frame.render_widget(Paragraph::new(line), area);
}
