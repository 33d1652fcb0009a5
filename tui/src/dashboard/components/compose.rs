//! The Compose overlay: the channel, the template, the subject of an email, the message in a
//! multi-line editor, the live SMS count, the gates' word (refused: DND, an opt-out; held: the
//! lead's quiet hours, in the lead's own time) and, once sent, where the message stands.

use leadline_shared::sms::Encoding;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::style::{Modifier, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::{ellipsize, paint, wrap};
use crate::dashboard::app::App;
use leadline_shared::domain::Channel;

use crate::dashboard::compose::{Compose, Field, SendState};
use crate::dashboard::theme::{Theme, Tone};

/// The overlay's widest and tallest; smaller terminals get all of theirs.
const MAX_WIDTH: u16 = 110;
const MAX_HEIGHT: u16 = 30;
/// The width of the field labels ("Template  ").
const LABEL: usize = 10;
/// Rows for the gates' word (a hold's sentence runs to two lines on 80 columns).
const WARNING_ROWS: u16 = 2;

/// Where each part of the overlay goes.
struct Areas {
    popup: Rect,
    to: Rect,
    template: Rect,
    subject: Option<Rect>,
    body_title: Rect,
    body: Rect,
    count: Rect,
    warning: Rect,
    status: Rect,
}

fn popup(area: Rect) -> Rect {
    area.centered(
        Constraint::Length(area.width.min(MAX_WIDTH)),
        Constraint::Length(area.height.min(MAX_HEIGHT)),
    )
}

fn areas(area: Rect, email: bool) -> Areas {
    let popup = popup(area);
    let inner = Block::bordered().inner(popup);
    // A column of margin on each side, so text does not touch the border.
    let inner = Rect { x: inner.x.saturating_add(1), width: inner.width.saturating_sub(2), ..inner };
    let [to, template, subject, body_title, body, count, warning, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(u16::from(email)),
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(1),
        Constraint::Length(WARNING_ROWS),
        Constraint::Length(1),
    ])
    .areas(inner);
    Areas { popup, to, template, subject: email.then_some(subject), body_title, body, count, warning, status }
}

/// The columns the editor has on a terminal of `area`'s size (it wraps the text there).
pub fn editor_width(area: Rect) -> usize {
    usize::from(areas(area, false).body.width)
}

fn label(th: Theme, text: &str, focused: bool) -> Span<'static> {
    let style = if focused { th.fg(Tone::Accent).add_modifier(Modifier::BOLD) } else { th.fg(Tone::Label) };
    let mark = if focused { "›" } else { " " };
    Span::styled(format!("{mark}{text:<width$}", width = LABEL - 1), style)
}

fn choice(th: Theme, text: &str, chosen: bool, focused: bool) -> Span<'static> {
    if chosen {
        let style = Style::new().add_modifier(Modifier::BOLD);
        let style =
            if focused { style.add_modifier(Modifier::REVERSED) } else { style.fg(th.color(Tone::Strong)) };
        Span::styled(format!("[{text}]"), style)
    } else {
        Span::styled(format!(" {text} "), th.fg(Tone::Muted))
    }
}

fn to_line(th: Theme, c: &Compose, width: usize) -> Line<'static> {
    let focused = c.focus == Field::Channel;
    let mut spans = vec![
        label(th, "To", focused),
        choice(th, "SMS", c.channel == Channel::Sms, focused),
        Span::raw(" "),
        choice(th, "email", c.channel == Channel::Email, focused),
        Span::raw("   "),
    ];
    let Some(info) = &c.info else {
        return Line::from(spans);
    };
    let address = match c.channel {
        Channel::Sms => info.phone.as_deref(),
        Channel::Email => info.email.as_deref(),
    };
    let used: usize = spans.iter().map(|s| s.content.chars().count()).sum();
    let mut rest = match address {
        Some(a) => a.to_owned(),
        None if c.channel == Channel::Sms => "no phone number".to_owned(),
        None => "no email address".to_owned(),
    };
    if let (Some(time), Some(zone)) = (&info.local_time, &info.timezone) {
        rest.push_str(&format!(" · {time} in {zone}"));
    }
    let style = if address.is_some() { th.fg(Tone::Label) } else { th.fg(Tone::Bad) };
    spans.push(Span::styled(ellipsize(&rest, width.saturating_sub(used)), style));
    Line::from(spans)
}

fn template_line(th: Theme, c: &Compose, width: usize) -> Line<'static> {
    let focused = c.focus == Field::Template;
    let mut spans = vec![label(th, "Template", focused)];
    let room = width.saturating_sub(LABEL);
    let templates = c.templates();
    match c.chosen() {
        None => {
            spans.push(Span::styled(
                "free text".to_owned(),
                if focused {
                    Style::new().bold().add_modifier(Modifier::REVERSED)
                } else {
                    Style::new().bold()
                },
            ));
            let hint = if c.info.is_none() {
                String::new()
            } else if templates.is_empty() {
                format!("  (no {} templates)", c.channel.as_str())
            } else {
                format!("  ↑/↓ {} {} templates, rendered for this lead", templates.len(), c.channel.as_str())
            };
            spans.push(Span::styled(ellipsize(&hint, room.saturating_sub(9)), th.fg(Tone::Muted)));
        }
        Some(t) => {
            let name = format!("{} {}/{}", t.id, c.template, templates.len());
            let name_len = name.chars().count();
            spans.push(Span::styled(
                name,
                if focused {
                    Style::new().bold().add_modifier(Modifier::REVERSED)
                } else {
                    Style::new().bold()
                },
            ));
            let (text, color) = match (&t.error, &t.description) {
                (Some(e), _) => (format!("  cannot be written for this lead: {e}"), th.color(Tone::Bad)),
                (None, Some(d)) => (format!("  {d}"), th.color(Tone::Muted)),
                (None, None) => (String::new(), th.color(Tone::Muted)),
            };
            spans.push(Span::styled(ellipsize(&text, room.saturating_sub(name_len)), Style::new().fg(color)));
        }
    }
    Line::from(spans)
}

fn count_line(th: Theme, c: &Compose, width: usize) -> Line<'static> {
    let mut left = String::new();
    let right = match c.count() {
        Some(n) => {
            let mut text = n.to_string();
            if n.encoding == Encoding::Ucs2 {
                let why = n.first_non_gsm.map(|ch| format!(" by {ch:?}")).unwrap_or_default();
                text.push_str(&format!(" · UCS-2{why}"));
            }
            let first_touch = c.info.as_ref().is_some_and(|i| i.first_touch);
            if first_touch && !c.body.text().contains("STOP") {
                let optout =
                    c.info.as_ref().map(|i| i.sms_optout_text.as_str()).unwrap_or("Reply STOP to opt out");
                left =
                    format!("First text to this lead: name yourself and the business, and add \"{optout}\"");
            }
            let color = if n.segments > 1 || n.encoding == Encoding::Ucs2 {
                th.color(Tone::Warn)
            } else {
                th.color(Tone::Good)
            };
            Span::styled(text, Style::new().fg(color))
        }
        None => Span::styled(format!("{} characters", c.body.text().chars().count()), th.fg(Tone::Label)),
    };
    let right_len = right.content.chars().count();
    let left = ellipsize(&left, width.saturating_sub(right_len + 2));
    let pad = width.saturating_sub(left.chars().count() + right_len);
    Line::from(vec![Span::styled(left, th.fg(Tone::Warn)), Span::raw(" ".repeat(pad)), right])
}

fn warning_lines(th: Theme, c: &Compose, width: usize) -> Vec<Line<'static>> {
    let (text, style) = if let Some(e) = &c.load_error {
        (format!("✕ Could not ask the daemon about this lead: {e}"), th.fg(Tone::Bad))
    } else if c.info.is_none() {
        ("Asking the daemon about this lead…".to_owned(), th.fg(Tone::Muted))
    } else if let Some(blocked) = c.check().and_then(|k| k.blocked.as_ref()) {
        (format!("✕ Cannot be sent: {blocked}"), th.fg(Tone::Bad))
    } else if let Some(hold) = c.check().and_then(|k| k.hold.as_ref()) {
        (format!("⚠ {}", hold.reason), th.fg(Tone::Warn))
    } else {
        return Vec::new();
    };
    wrap(&text, width, usize::from(WARNING_ROWS)).into_iter().map(|l| Line::styled(l, style)).collect()
}

fn status_line(th: Theme, c: &Compose, width: usize) -> Line<'static> {
    let focused = c.focus == Field::Send;
    let button = Span::styled(
        " Send ",
        if focused { th.on_accent() } else { th.fg(Tone::Accent).add_modifier(Modifier::BOLD) },
    );
    let room = width.saturating_sub(8);
    let (text, style) = if let Some(notice) = &c.notice {
        (format!("✕ {notice}"), th.fg(Tone::Bad))
    } else if let Some(sent) = &c.sent {
        let color = match sent.state {
            SendState::Sent => th.color(Tone::Good),
            SendState::Held(_) => th.color(Tone::Warn),
            SendState::Refused(_) | SendState::Uncertain(_) => th.color(Tone::Bad),
            SendState::Saving | SendState::Queued | SendState::Sending => th.color(Tone::Label),
        };
        let what = match sent.seq {
            Some(seq) => format!("Message #{seq} {}", sent.state.label()),
            None => format!("Message {}", sent.state.label()),
        };
        (what, Style::new().fg(color).add_modifier(Modifier::BOLD))
    } else {
        ("ctrl-s send · tab next field · esc close".to_owned(), th.fg(Tone::Muted))
    };
    Line::from(vec![button, Span::raw("  "), Span::styled(ellipsize(&text, room), style)])
}

/// Draws Compose, if open, over `area`, and puts the terminal cursor in the field it edits.
pub fn draw(app: &App, frame: &mut Frame, area: Rect) {
    let th = app.theme;
    let Some(c) = app.compose() else {
        return;
    };
    let a = areas(area, c.channel == Channel::Email);
    let width = usize::from(a.to.width);
    let name = if c.lead_name.is_empty() { c.contact_id.as_str() } else { c.lead_name.as_str() };
    let title = Line::from(vec![
        Span::raw(" "),
        Span::raw("Compose").bold(),
        Span::raw(format!(" · {} ", ellipsize(name, usize::from(a.popup.width).saturating_sub(16)))),
    ]);
    frame.render_widget(Clear, a.popup);
    frame.render_widget(Block::bordered().title(title).border_style(th.fg(Tone::Accent)), a.popup);
    let buf = frame.buffer_mut();
    paint::paragraph(buf, a.to, &[to_line(th, c, width)], Style::default(), None);
    paint::paragraph(buf, a.template, &[template_line(th, c, width)], Style::default(), None);
    let mut cursor = None;
    if let Some(subject) = a.subject {
        let focused = c.focus == Field::Subject;
        let field = width.saturating_sub(LABEL);
        let (shown, col) = c.subject.window(field);
        frame.render_widget(
            Paragraph::new(Line::from(vec![label(th, "Subject", focused), Span::raw(shown)])),
            subject,
        );
        if focused {
            cursor = Some(Position::new(subject.x + (LABEL + col) as u16, subject.y));
        }
    }
    let body_focused = c.focus == Field::Body;
    let body_title =
        Block::new().borders(Borders::TOP).title(label(th, "Message", body_focused)).border_style(
            Style::new().fg(if body_focused { th.color(Tone::Accent) } else { th.color(Tone::Muted) }),
        );
    frame.render_widget(body_title, a.body_title);
    let (rows, (row, col)) = c.body.view(usize::from(a.body.height));
    if c.body.is_empty() && !body_focused {
        frame.render_widget(
            Paragraph::new("(empty: tab here and type, or choose a template)").fg(th.color(Tone::Muted)),
            a.body,
        );
    } else {
        let rows: Vec<Line> = rows.into_iter().map(Line::from).collect();
        paint::paragraph(frame.buffer_mut(), a.body, &rows, Style::default(), None);
    }
    if body_focused && a.body.height > 0 {
        cursor = Some(Position::new(a.body.x + col as u16, a.body.y + row as u16));
    }
    let buf = frame.buffer_mut();
    paint::paragraph(buf, a.count, &[count_line(th, c, width)], Style::default(), None);
    paint::paragraph(buf, a.warning, &warning_lines(th, c, width), Style::default(), None);
    paint::paragraph(buf, a.status, &[status_line(th, c, width)], Style::default(), None);
    if let Some(at) = cursor.filter(|p| a.popup.contains(*p)) {
        frame.set_cursor_position(at);
    }
}
