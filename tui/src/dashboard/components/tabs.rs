//! The tabs along the top: the queues, with how many leads each holds, and the follow-ups
//! screen, with how many actions need the agent.

use leadline_shared::protocol::QueueName;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Tabs};

use crate::dashboard::app::App;

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

/// Draws the tabs, choosing full or short names and whether the brand fits.
pub fn draw(app: &App, frame: &mut Frame, area: Rect) {
    let titles = |short: bool| -> Vec<String> {
        let title = |i: usize, name: &str, count: Option<String>| match count {
            Some(count) => format!("{} {name} {count}", i + 1),
            None => format!("{} {name}", i + 1),
        };
        let mut titles: Vec<String> = app
            .views
            .iter()
            .enumerate()
            .map(|(i, v)| {
                title(i, &if short { short_label(&v.name) } else { label(&v.name) }, v.count_label())
            })
            .collect();
        // The follow-ups screen comes after the queues; its count is what needs the agent.
        let name = if short { FOLLOWUPS_SHORT } else { FOLLOWUPS };
        titles.push(title(app.views.len(), name, app.followups().count_label()));
        titles
    };
    // Each title is padded by one space each side and divided by one column.
    let width_of = |t: &[String]| t.iter().map(|s| s.chars().count() + 3).sum::<usize>().saturating_sub(1);
    let full = titles(false);
    let available = usize::from(area.width);
    let (titles, brand) = if width_of(&full) + BRAND.len() <= available {
        (full, true)
    } else if width_of(&full) <= available {
        (full, false)
    } else {
        let short = titles(true);
        let brand = width_of(&short) + BRAND.len() <= available;
        (short, brand)
    };
    let mut tabs_area = area;
    if brand {
        let brand_width = BRAND.len() as u16;
        let brand_area = Rect { width: brand_width.min(area.width), ..area };
        frame.render_widget(Paragraph::new(Span::from(BRAND).bold().fg(Color::Cyan)), brand_area);
        tabs_area.x += brand_width;
        tabs_area.width = tabs_area.width.saturating_sub(brand_width);
    }
    let tabs = Tabs::new(titles.into_iter().map(Line::from))
        .select(app.tab_index())
        .style(Style::new().fg(Color::Gray))
        .highlight_style(Style::new().fg(Color::Black).bg(Color::Cyan).add_modifier(Modifier::BOLD))
        .divider("│");
    frame.render_widget(tabs, tabs_area);
}
