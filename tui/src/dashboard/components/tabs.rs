//! The tabs along the top: the queues, with how many leads each holds (exactly; in short form
//! on tabs not shown when the terminal is too narrow for every figure), and the follow-ups
//! screen, with how many actions need the agent, then the analytics screen and the System
//! screen, with how many edits GHL refused.

use leadline_shared::protocol::QueueName;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Stylize;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Tabs};

use ratatui::crossterm::event::KeyCode;

use crate::dashboard::action::Action;
use crate::dashboard::app::App;
use crate::dashboard::format;
use crate::dashboard::theme::Tone;

/// A queue's name as a tab shows it.
pub fn label(name: &QueueName) -> String {
    match name {
        QueueName::SpeedToLead => "Speed-to-lead".to_owned(),
        QueueName::Hot => "Hot".to_owned(),
        QueueName::NeedsReply => "Needs reply".to_owned(),
        QueueName::Due => "Due".to_owned(),
        QueueName::Dormant => "Dormant".to_owned(),
        QueueName::All => "All".to_owned(),
        QueueName::Saved(name) => name.clone(),
    }
}

/// The shorter name used when the full names do not fit.
fn short_label(name: &QueueName) -> String {
    match name {
        QueueName::SpeedToLead => "New".to_owned(),
        QueueName::NeedsReply => "Reply".to_owned(),
        other => label(other),
    }
}

const BRAND: &str = " leadline ";

/// The follow-ups tab's name, and its short form ("F/U" is the trade's own shorthand).
const FOLLOWUPS: &str = "Follow-ups";
const FOLLOWUPS_SHORT: &str = "F/U";
/// The analytics tab's name, and its short form.
const ANALYTICS: &str = "Analytics";
const ANALYTICS_SHORT: &str = "Stats";
/// The System tab's name, and its short form.
const SYSTEM: &str = "System";
const SYSTEM_SHORT: &str = "Sys";

/// How the tab titles are written, from the roomiest to the tightest.
#[derive(Clone, Copy)]
struct Fit {
    /// Short queue names (`New`, `Reply`, `F/U`).
    short: bool,
    /// Counts of the tabs not shown rounded to four characters (`12k`); the shown one stays
    /// exact, as in the table's title.
    rounded: bool,
    /// A space each side of each title.
    padded: bool,
}

const FITS: [Fit; 4] = [
    Fit { short: false, rounded: false, padded: true },
    Fit { short: true, rounded: false, padded: true },
    Fit { short: true, rounded: true, padded: true },
    Fit { short: true, rounded: true, padded: false },
];

/// The tab titles in the roomiest [`Fit`] the width allows, and whether the brand fits too.
fn arrange(app: &App, area: Rect) -> Option<(Vec<String>, Fit, bool)> {
    // Each tab is numbered by the key that opens it (a saved list past the sixth queue has
    // none), so the number never names another tab's key. Looked up once a frame, not once a
    // fit tried.
    let key = |action: Action| -> String {
        let chars: Vec<char> = app
            .keymap
            .keys_for(action)
            .into_iter()
            .filter_map(|k| k.as_single())
            .filter(|c| c.modifiers.is_empty())
            .filter_map(|c| match c.code {
                KeyCode::Char(ch) => Some(ch),
                _ => None,
            })
            .collect();
        let key = chars.iter().copied().find(char::is_ascii_digit).or(chars.first().copied());
        key.map(|k| format!("{k} ")).unwrap_or_default()
    };
    let queue_keys: Vec<String> =
        (0..app.views.len()).map(|i| key(Action::Queue(u8::try_from(i).unwrap_or(u8::MAX)))).collect();
    let [followups_key, analytics_key, system_key] =
        [Action::FollowUps, Action::Analytics, Action::System].map(key);
    let titles = |fit: Fit| -> Vec<String> {
        let title = |key: &str, name: &str, count: Option<String>| match count {
            Some(count) => format!("{key}{name} {count}"),
            None => format!("{key}{name}"),
        };
        let mut titles: Vec<String> = app
            .views
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let count = app.queue_total(i).map(|n| {
                    if fit.rounded && Some(i) != app.highlighted_tab() {
                        format::rounded(n)
                    } else {
                        format::thousands(n)
                    }
                });
                title(&queue_keys[i], &if fit.short { short_label(&v.name) } else { label(&v.name) }, count)
            })
            .collect();
        // The follow-ups screen comes after the queues; its count is what needs the agent.
        let name = if fit.short { FOLLOWUPS_SHORT } else { FOLLOWUPS };
        titles.push(title(&followups_key, name, app.followups().count_label()));
        titles.push(title(&analytics_key, if fit.short { ANALYTICS_SHORT } else { ANALYTICS }, None));
        // The System tab counts the edits that need the agent (failed, out of sync, uncertain).
        let failed = app.status().map(|s| s.sync.failed_ops).filter(|n| *n > 0).map(format::thousands);
        titles.push(title(&system_key, if fit.short { SYSTEM_SHORT } else { SYSTEM }, failed));
        titles
    };
    // Titles are divided by one column, and padded by a space each side unless too tight.
    let width_of = |t: &[String], fit: Fit| {
        let pad = if fit.padded { 2 } else { 0 };
        t.iter().map(|s| s.chars().count() + pad + 1).sum::<usize>().saturating_sub(1)
    };
    let available = usize::from(area.width);
    // The roomiest that fits; the tightest (cut at the edge) when none does.
    let mut chosen = None;
    for fit in FITS {
        let t = titles(fit);
        let width = width_of(&t, fit);
        chosen = Some((t, fit, width));
        if width <= available {
            break;
        }
    }
    let (titles, fit, width) = chosen?;
    let brand = width + BRAND.len() <= available;
    Some((titles, fit, brand))
}

/// The tab under column `x` of a tab bar drawn in `area`, for a click.
pub fn tab_at(app: &App, area: Rect, x: u16) -> Option<usize> {
    let (titles, fit, brand) = arrange(app, area)?;
    let mut left = area.x + if brand { BRAND.len() as u16 } else { 0 };
    let pad = if fit.padded { 2 } else { 0 };
    for (i, title) in titles.iter().enumerate() {
        let right = left.saturating_add((title.chars().count() + pad) as u16);
        if (left..right).contains(&x) {
            return Some(i);
        }
        // The divider between two titles belongs to neither.
        left = right.saturating_add(1);
    }
    None
}

/// Draws the tabs in the roomiest [`Fit`] the width allows, with the brand if it fits too.
pub fn draw(app: &App, frame: &mut Frame, area: Rect) {
    let th = app.theme;
    let Some((titles, fit, brand)) = arrange(app, area) else { return };
    let mut tabs_area = area;
    if brand {
        let brand_width = BRAND.len() as u16;
        let brand_area = Rect { width: brand_width.min(area.width), ..area };
        frame.render_widget(Paragraph::new(Span::from(BRAND).bold().fg(th.color(Tone::Accent))), brand_area);
        tabs_area.x += brand_width;
        tabs_area.width = tabs_area.width.saturating_sub(brand_width);
    }
    let (left, right) = if fit.padded { (" ", " ") } else { ("", "") };
    let tabs = Tabs::new(titles.into_iter().map(Line::from))
        .padding(left, right)
        .select(app.highlighted_tab())
        .style(th.fg(Tone::Label))
        .highlight_style(th.on_accent())
        .divider("│");
    frame.render_widget(tabs, tabs_area);
}
