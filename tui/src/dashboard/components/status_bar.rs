//! The bottom of the screen: the offline banner, the status line (daemon, sync with its
//! progress or error, pending work, counts) and the footer: a flash message (an edit saved or
//! refused), the last error, or the key hints generated from the live keymap.

use leadline_shared::protocol::{SyncFailure, SyncState};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::ellipsize;
use crate::dashboard::app::{App, FlashKind, Screen};
use crate::dashboard::connection::ConnState;
use crate::dashboard::format;
use crate::dashboard::theme::{Theme, Tone};

fn sep(th: Theme) -> Span<'static> {
    Span::styled(" │ ", th.fg(Tone::Muted))
}

/// Why the banner is up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BannerKind {
    /// The daemon cannot be reached: nothing works until it is back.
    DaemonDown,
    /// The daemon runs but cannot reach GHL (or GHL refuses its token): the dashboard works,
    /// edits wait.
    GhlDown,
}

/// Whether a banner is up (the layout gives it a row).
pub fn has_banner(app: &App) -> bool {
    banner_text(app, u16::MAX).is_some()
}

/// The banner's text for a line `width` wide: while the daemon cannot be reached, or while it
/// cannot reach GHL; `None` otherwise.
pub fn banner_text(app: &App, width: u16) -> Option<(String, BannerKind)> {
    if let Some(text) = daemon_banner(app) {
        return Some((text, BannerKind::DaemonDown));
    }
    ghl_banner(app, usize::from(width)).map(|t| (t, BannerKind::GhlDown))
}

fn daemon_banner(app: &App) -> Option<String> {
    let ConnState::Offline { attempts, last_error, starting_daemon, unreachable, .. } = app.connection()
    else {
        return None;
    };
    let what = if *unreachable { "Daemon not running" } else { "Daemon refused the connection" };
    if *starting_daemon {
        return Some(format!(" {what}; starting it… · {last_error}"));
    }
    let secs = app.conn.retry_in_secs(app.now).unwrap_or(0);
    let retry_key = app.keymap.hint_key(crate::dashboard::action::Action::Refresh).map(|k| k.to_string());
    let hint = retry_key.map(|k| format!(" · {k} retries now")).unwrap_or_default();
    Some(format!(" {what}; retrying in {secs} s (attempt {}){hint} · {last_error}", attempts + 1))
}

/// While sync fails because GHL cannot be reached (or refuses the token): what still works,
/// how many edits wait, and since when. The longest wording that fits `width` is chosen.
fn ghl_banner(app: &App, width: usize) -> Option<String> {
    if !app.conn.is_online() {
        return None;
    }
    let sync = &app.status.as_ref()?.sync;
    if !sync.state.is_failing() {
        return None;
    }
    let waiting = sync.pending_ops;
    let edits = match waiting {
        0 => "no edit waiting".to_owned(),
        1 => "1 edit waiting".to_owned(),
        n => format!("{n} edits waiting"),
    };
    let (long, short) = match sync.failure? {
        SyncFailure::Unreachable => {
            let since = sync.unreachable_since.map(|t| {
                let secs = u64::try_from(app.now.as_second() - t.as_second()).unwrap_or(0);
                format!(" for {}", format::duration(Some(secs)))
            });
            let since = since.unwrap_or_default();
            (
                format!(" GHL unreachable{since} — reads, edits and drafts still work · {edits} for GHL"),
                format!(" GHL unreachable{since} — reads, edits, drafts work · {edits}"),
            )
        }
        SyncFailure::Unauthorized => (
            format!(
                " GHL refused the token: check GHL_API_KEY — reads, edits and drafts still work · {edits}"
            ),
            format!(" GHL refused the token: check GHL_API_KEY · {edits}"),
        ),
        _ => return None,
    };
    Some(if long.chars().count() <= width { long } else { short })
}

/// Draws the banner: red while the daemon is down, yellow while GHL is.
pub fn draw_banner(app: &App, frame: &mut Frame, area: Rect) {
    let th = app.theme;
    if let Some((text, kind)) = banner_text(app, area.width) {
        let style = match kind {
            BannerKind::DaemonDown => th.banner(),
            BannerKind::GhlDown => th.filled(Tone::Warn).add_modifier(Modifier::BOLD),
        };
        frame.render_widget(Paragraph::new(text).style(style), area);
    }
}

/// The status line's segments, most important first, for a line `width` wide. Free text
/// (sync progress, the sync error) is cut so that the sync segment still fits beside the
/// first one.
fn segments(app: &App, width: usize) -> Vec<Vec<Span<'static>>> {
    let th = app.theme;
    let mut segments = Vec::new();
    segments.push(match app.connection() {
        ConnState::Online { .. } => {
            let (version, pid) = match (&app.status, &app.welcome) {
                (Some(s), _) if !s.daemon.version.is_empty() => (s.daemon.version.clone(), s.daemon.pid),
                (_, Some(w)) => (w.app_version.clone(), w.pid),
                _ => (String::new(), 0),
            };
            vec![Span::styled("● ", th.fg(Tone::Good)), Span::raw(format!("leadlined {version} pid {pid}"))]
        }
        ConnState::Connecting { .. } => vec![Span::styled("◌ connecting…", th.fg(Tone::Warn))],
        ConnState::Offline { since, .. } => vec![Span::styled(
            format!("✕ daemon down since {}", format::relative(Some(*since), app.now)),
            th.fg(Tone::Bad).add_modifier(Modifier::BOLD),
        )],
    });
    let Some(status) = &app.status else {
        return segments;
    };

    let sync = &status.sync;
    let state = sync.state;
    let failing = state.is_failing();
    let color = match state {
        _ if state.is_settled() => th.color(Tone::Good),
        SyncState::Syncing => th.color(Tone::Accent),
        _ if failing => th.color(Tone::Bad),
        _ => th.color(Tone::Warn),
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
        (Some(progress), _) => Some((progress, th.color(Tone::Accent))),
        (None, Some(error)) if failing => Some((error, th.color(Tone::Bad))),
        _ => None,
    };
    match free_text {
        Some((text, color)) if room >= 8 => {
            sync_spans.push(Span::styled(format!(" · {}", ellipsize(text, room)), Style::new().fg(color)));
        }
        _ if error.is_some() && state != SyncState::Idle => {
            sync_spans.push(Span::styled(" · error", th.fg(Tone::Bad)));
        }
        _ => {}
    }
    segments.push(sync_spans);

    let failed = Span::raw(format!(" · failed {}", sync.failed_ops));
    segments.push(vec![
        Span::raw(format!("pending {}", sync.pending_ops)),
        if sync.failed_ops > 0 { failed.fg(th.color(Tone::Bad)).bold() } else { failed },
    ]);

    let c = &status.counts;
    segments.push(vec![
        Span::raw(format!("{} contacts · ", format::thousands(c.contacts))),
        Span::styled(format!("{} hot", format::thousands(c.hot)), th.fg(Tone::Bad)),
        Span::raw(format!(" · {} warm", format::thousands(c.warm))),
    ]);
    segments
}

/// Draws the status line: as many whole segments as fit, in order of importance.
pub fn draw_status(app: &App, frame: &mut Frame, area: Rect) {
    let th = app.theme;
    let mut spans: Vec<Span> = Vec::new();
    let mut used = 0;
    for (i, segment) in segments(app, usize::from(area.width)).into_iter().enumerate() {
        let width: usize = segment.iter().map(Span::width).sum::<usize>() + if i > 0 { 3 } else { 0 };
        // The first segment (connection) is always drawn, truncated if need be.
        if i > 0 && used + width > usize::from(area.width) {
            break;
        }
        if i > 0 {
            spans.push(sep(th));
        }
        spans.extend(segment);
        used += width;
    }
    super::paint::paragraph(frame.buffer_mut(), area, &[Line::from(spans)], th.status_line(), None);
}

/// The order in which key hints are left out when the footer is too narrow for all of them
/// (the labels of every screen's hints in one list). Search and compose outlast sync and note,
/// so an 80-column queue footer keeps both `/` and `c`.
const DROP_FIRST: [&str; 19] = [
    "refresh",
    "queue",
    "resume",
    "sync",
    "commands",
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
    "retry",
    "retry all",
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

/// The footer while a sequence waits for its next key: `g…` and what may follow
/// (`h queue 2: hot`), as many as fit, then how to cancel.
pub fn pending_line(app: &App, width: usize) -> Line<'static> {
    let th = app.theme;
    let started = app.pending_keys().iter().map(ToString::to_string).collect::<Vec<_>>().join(" ");
    let mut spans = vec![Span::styled(format!(" {started}…"), th.on_accent())];
    let cancel = "  esc cancels";
    let mut used = started.chars().count() + 2 + cancel.len();
    for (keys, action) in app.keymap.continuations(app.pending_keys()) {
        let label = action.description();
        let needed = 2 + keys.chars().count() + 1 + label.chars().count();
        if used + needed > width {
            break;
        }
        used += needed;
        spans.push(Span::raw("  "));
        spans.push(Span::styled(keys, th.key()));
        spans.push(Span::styled(format!(" {label}"), th.label()));
    }
    spans.push(Span::styled(cancel, th.muted()));
    Line::from(spans)
}

/// Draws the footer: a flash message if there is one, else the last error, else the key
/// hints.
pub fn draw_footer(app: &App, frame: &mut Frame, area: Rect) {
    let th = app.theme;
    let dismiss = || {
        app.keymap
            .keys_for(crate::dashboard::action::Action::Close)
            .first()
            .map(|k| Span::styled(format!("  ({k} dismisses)"), th.fg(Tone::Muted)))
    };
    if !app.pending_keys().is_empty() {
        let line = pending_line(app, usize::from(area.width));
        super::paint::paragraph(frame.buffer_mut(), area, &[line], Style::default(), None);
        return;
    }
    let line = match (&app.flash, &app.last_error) {
        (Some(flash), _) => {
            let (mark, color) = match flash.kind {
                FlashKind::Info => ("…", th.color(Tone::Label)),
                FlashKind::Success => ("✓", th.color(Tone::Good)),
                FlashKind::Error => ("✕", th.color(Tone::Bad)),
            };
            let mut spans = vec![Span::styled(format!(" {mark} {}", flash.text), Style::new().fg(color))];
            if flash.kind == FlashKind::Error {
                spans.extend(dismiss());
            }
            Line::from(spans)
        }
        (None, Some(error)) => {
            let mut spans = vec![Span::styled(format!(" ⚠ {error}"), th.fg(Tone::Warn))];
            spans.extend(dismiss());
            Line::from(spans)
        }
        (None, None) => {
            let mut spans = vec![Span::raw(" ")];
            let hints = match app.screen() {
                Screen::Queue => app.keymap.footer_hints(),
                Screen::FollowUps => app.keymap.followup_hints(),
                Screen::Analytics => app.keymap.analytics_hints(),
                Screen::System => app.keymap.system_hints(),
                Screen::Tasks => app.keymap.tasks_hints(),
                Screen::Search => app.keymap.search_hints(app.search().editing),
            };
            let hints = fitting_hints(hints, usize::from(area.width));
            for (i, (keys, label)) in hints.into_iter().enumerate() {
                if i > 0 {
                    spans.push(Span::raw("  "));
                }
                spans.push(Span::styled(keys, th.fg(Tone::Accent).add_modifier(Modifier::BOLD)));
                spans.push(Span::styled(format!(" {label}"), th.fg(Tone::Label)));
            }
            Line::from(spans)
        }
    };
    super::paint::paragraph(frame.buffer_mut(), area, &[line], Style::default(), None);
}
