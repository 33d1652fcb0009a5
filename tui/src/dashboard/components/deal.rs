//! The Deal screen: the lead's deal (pipeline, stage, value, status, how long in its stage, a
//! stage change waiting for GHL), the commission and ROI calculator, and the stage picker.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Modifier, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear};

use super::ellipsize;
use crate::dashboard::action::Action;
use crate::dashboard::app::App;
use crate::dashboard::commission;
use crate::dashboard::deal::{DealView, Field, money};
use crate::dashboard::format;
use crate::dashboard::theme::{Theme, Tone};

const MAX_WIDTH: u16 = 84;
const MAX_HEIGHT: u16 = 30;

fn kv(th: Theme, label: &str, value: impl Into<String>) -> Line<'static> {
    Line::from(vec![Span::styled(format!("  {label:<13}"), th.label()), Span::raw(value.into())])
}

/// The title's hints, from the keymap in use: ` S stage · enter edit · esc close `.
fn title_hints(app: &App) -> String {
    let key = |a: Action, fallback: &str| {
        app.keymap.hint_key(a).map_or_else(|| fallback.to_owned(), |k| k.to_string())
    };
    format!(
        " {} stage · {} edit · {} close ",
        key(Action::MoveStage, "S"),
        key(Action::ToggleDetail, "enter"),
        key(Action::Close, "esc")
    )
}

/// Draws the Deal screen when it is open.
pub fn draw(app: &App, frame: &mut Frame, area: Rect) {
    let Some(view) = app.deal() else {
        return;
    };
    let popup = area.centered(
        Constraint::Length(area.width.min(MAX_WIDTH)),
        Constraint::Length(area.height.min(MAX_HEIGHT)),
    );
    frame.render_widget(Clear, popup);
    let block = Block::bordered()
        .title(Line::from(vec![" Deal · ".into(), view.lead_name.clone().bold(), " ".into()]))
        .title(Line::from(title_hints(app)).right_aligned().style(app.theme.muted()));
    let width = usize::from(popup.width.saturating_sub(4));
    let lines = lines(app, view, width);
    super::paint::paragraph(frame.buffer_mut(), popup, &lines, Style::default(), Some(&block));
}

fn lines(app: &App, view: &DealView, width: usize) -> Vec<Line<'static>> {
    let th = app.theme;
    let Some(detail) = app.deal_detail.as_ref().filter(|d| d.lead.id == view.contact_id) else {
        return vec![Line::from("  Loading the deal…").style(th.muted())];
    };
    let Some(deal) = view.deal(detail) else {
        return vec![
            Line::default(),
            Line::from("  This lead has no deal in GHL yet.").style(th.muted()),
            Line::from("  Create one in GHL; it shows here after the next sync.").style(th.muted()),
        ];
    };
    let pipeline = view.pipeline(detail);
    let stage_name =
        |id: &str| pipeline.and_then(|p| p.stage_name(id)).map_or_else(|| id.to_owned(), str::to_owned);
    let mut out = Vec::new();
    let count = detail.opportunities.len();
    let name = deal.name.clone().unwrap_or_else(|| "deal".to_owned());
    let which =
        if count > 1 { format!("  ({} of {count}; [ ] switch)", view.index + 1) } else { String::new() };
    out.push(Line::from(vec![
        Span::raw("  "),
        Span::styled(ellipsize(&name, width.saturating_sub(20)), Style::new().add_modifier(Modifier::BOLD)),
        Span::styled(which, th.muted()),
    ]));
    out.push(kv(th, "Pipeline", pipeline.map_or_else(|| deal.pipeline_id.clone(), |p| p.name.clone())));
    let mut stage = vec![
        Span::styled(format!("  {:<13}", "Stage"), th.label()),
        Span::raw(stage_name(&deal.pipeline_stage_id)),
    ];
    if let Some(to) = view.pending_stage(detail).filter(|to| *to != deal.pipeline_stage_id) {
        stage.push(Span::styled(format!("  → {} (waiting for GHL)", stage_name(to)), th.fg(Tone::Warn)));
    } else if view.pending_stage(detail).is_some() {
        stage.push(Span::styled("  (waiting for GHL)", th.fg(Tone::Warn)));
    }
    out.push(Line::from(stage));
    out.push(kv(th, "Value", deal.monetary_value.map_or_else(|| "—".to_owned(), money)));
    out.push(kv(th, "Status", format!("{:?}", deal.status).to_lowercase()));
    let since = deal.last_stage_change_at.or(deal.created_at);
    out.push(kv(
        th,
        "In stage",
        since.map_or_else(|| "—".to_owned(), |_| format::relative(since, app.now).replace(" ago", "")),
    ));
    if let Some(picker) = &view.picker {
        out.push(Line::default());
        out.push(Line::from("  Move to stage (enter moves it, esc cancels)").bold().underlined());
        for (i, (id, name)) in view.pipeline_stages(detail).unwrap_or_default().into_iter().enumerate() {
            let current = id == deal.pipeline_stage_id;
            let text = format!(
                "  {} {name}{}",
                if i == picker.selected { "▶" } else { " " },
                if current { "  (now)" } else { "" }
            );
            let style = if i == picker.selected { th.selected() } else { Style::new() };
            out.push(Line::from(Span::styled(text, style)));
        }
        return out;
    }
    out.push(Line::default());
    out.push(Line::from("  Commission & ROI").bold().underlined());
    for (i, field) in Field::ALL.into_iter().enumerate() {
        let selected = i == view.field;
        let value = match (&view.editing, selected) {
            (Some(input), true) => format!("{}▏", input.value()),
            _ => view.field_text(field),
        };
        let style = if selected { th.selected() } else { Style::new() };
        out.push(Line::from(vec![
            Span::styled(format!("  {} {:<11}", if selected { "▶" } else { " " }, field.label()), th.label()),
            Span::styled(format!(" {value} "), style),
        ]));
    }
    if let Some(error) = &view.error {
        out.push(Line::from(format!("  {error}")).style(th.fg(Tone::Bad)));
    }
    out.push(Line::default());
    match view.inputs.as_ref().map(commission::compute) {
        Some(Ok(o)) => {
            out.push(kv(th, "Gross", money(o.gross)));
            out.push(kv(th, "Brokerage", money(o.brokerage)));
            out.push(kv(th, "Net to you", money(o.net)).bold());
            out.push(kv(th, "Effective", format!("{:.2} % of the price", o.effective_rate_pct)));
            let roi = o.roi.map_or_else(
                || "— (no costs entered)".to_owned(),
                |r| format!("{:.0} % ({:.1}×)", r * 100.0, r),
            );
            out.push(kv(th, "Profit", format!("{}   ROI {roi}", money(o.profit))));
        }
        Some(Err(e)) => out.push(Line::from(format!("  {e}")).style(th.muted())),
        None => {}
    }
    out
}
