//! The bottom of the screen: the offline banner, the status line (daemon, sync, pending
//! work, counts) and the footer of key hints generated from the live keymap.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::dashboard::app::App;
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

/// The status line's segments, most important first.
fn segments(app: &App) -> Vec<Vec<Span<'static>>> {
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
    let state = if sync.state.is_empty() { "unknown" } else { sync.state.as_str() };
    let color = match state {
        "idle" | "seeded" => Color::Green,
        "syncing" => Color::Cyan,
        _ => Color::Yellow,
    };
    let mut sync_spans = vec![Span::raw("sync "), Span::styled(state.to_owned(), Style::new().fg(color))];
    if let Some(last) = sync.last_success {
        sync_spans.push(Span::raw(format!(" · ok {}", format::relative(Some(last), app.now))));
    }
    if sync.last_error.is_some() && state != "idle" {
        sync_spans.push(Span::styled(" · error", Style::new().fg(Color::Red)));
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
    for (i, segment) in segments(app).into_iter().enumerate() {
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

/// Draws the footer: the last error if there is one, else the key hints.
pub fn draw_footer(app: &App, frame: &mut Frame, area: Rect) {
    let line = match &app.last_error {
        Some(error) => {
            let close =
                app.keymap.keys_for(crate::dashboard::action::Action::Close).first().map(|k| k.to_string());
            let mut spans = vec![Span::styled(format!(" ⚠ {error}"), Style::new().fg(Color::Yellow))];
            if let Some(k) = close {
                spans.push(Span::styled(format!("  ({k} dismisses)"), Style::new().fg(Color::DarkGray)));
            }
            Line::from(spans)
        }
        None => {
            let mut spans = vec![Span::raw(" ")];
            for (i, (keys, label)) in app.keymap.footer_hints().into_iter().enumerate() {
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
