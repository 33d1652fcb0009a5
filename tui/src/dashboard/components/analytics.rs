//! The analytics screen: the funnel as bars, speed-to-lead, the forecast by stage, sources,
//! cohorts and new leads per day. At 80×24 it shows the funnel, the key figures, the forecast
//! and a sparkline of arrivals; from 120 columns and 30 rows it adds the speed-to-lead bands,
//! the sources, the cohorts' chart and the agents. Everything comes from one `Analytics`
//! answer; nothing here computes a figure.

use leadline_shared::protocol::AnalyticsReport;
use ratatui::Frame;
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::style::{Color, Modifier, Style, Stylize};
use ratatui::symbols;
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Axis, Bar, BarChart, BarGroup, Block, Borders, Chart, Dataset, GraphType, Paragraph, Sparkline,
};

use super::{ListRow, draw_plain_list, ellipsize, paint};
use crate::dashboard::action::Action;
use crate::dashboard::app::App;
use crate::dashboard::format::{duration, money, percent, thousands};
use crate::dashboard::theme::{Theme, Tone};

/// From this size on, the richer layout.
const RICH_WIDTH: u16 = 120;
const RICH_HEIGHT: u16 = 30;

fn block(th: Theme, title: &str) -> Block<'_> {
    Block::new()
        .borders(Borders::TOP)
        .title(Span::styled(format!(" {title} "), th.fg(Tone::Accent).add_modifier(Modifier::BOLD)))
}

/// Draws the screen into `area` (everything between the tabs and the status line).
pub fn draw(app: &App, frame: &mut Frame, area: Rect) {
    let th = app.theme;
    let (report, range) = app.analytics();
    let keys = |a: Action| app.keymap.hint_key(a).map(|k| k.to_string()).unwrap_or_default();
    let mut title = vec![Span::styled(" Analytics ", Style::new().bold()), Span::raw(format!("· {range} "))];
    if let Some(r) = report {
        let since = r
            .since
            .map(|t| format!("arrived since {}", t.strftime("%Y-%m-%d")))
            .unwrap_or("all leads".into());
        title.push(Span::styled(format!("· {since} "), th.fg(Tone::Label)));
        if r.range != range {
            title.push(Span::styled(format!("· loading {range}… "), th.fg(Tone::Warn)));
        }
    }
    title.push(Span::styled(
        format!("· {}/{} range ", keys(Action::RangeShorter), keys(Action::RangeLonger)),
        th.fg(Tone::Muted),
    ));
    let [head, body] = Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(area);
    frame.render_widget(Paragraph::new(Line::from(title)), head);
    let Some(r) = report else {
        let online = matches!(app.connection(), crate::dashboard::connection::ConnState::Online { .. });
        let text = if online { "Loading the figures…" } else { "Not connected to the daemon." };
        frame.render_widget(Paragraph::new(text).fg(th.color(Tone::Label)), body);
        return;
    };
    if body.width >= RICH_WIDTH && body.height >= RICH_HEIGHT - 5 {
        draw_rich(th, r, frame, body);
    } else {
        draw_compact(th, r, frame, body);
    }
}

/// 80×24: funnel and figures on top, the forecast below, arrivals along the bottom.
fn draw_compact(th: Theme, r: &AnalyticsReport, frame: &mut Frame, area: Rect) {
    let [top, middle, bottom] =
        Layout::vertical([Constraint::Length(9), Constraint::Fill(1), Constraint::Length(3)]).areas(area);
    let [funnel, figures] = Layout::horizontal([Constraint::Length(40), Constraint::Fill(1)]).areas(top);
    draw_funnel(th, r, frame, funnel);
    draw_figures(th, r, frame, figures);
    draw_forecast(th, r, frame, middle);
    draw_arrivals(th, r, frame, bottom);
}

/// 160×48: three rows of panels.
fn draw_rich(th: Theme, r: &AnalyticsReport, frame: &mut Frame, area: Rect) {
    let [top, middle, bottom] =
        Layout::vertical([Constraint::Length(11), Constraint::Length(12), Constraint::Fill(1)]).areas(area);
    let [funnel, speed, figures] =
        Layout::horizontal([Constraint::Length(44), Constraint::Length(50), Constraint::Fill(1)]).areas(top);
    draw_funnel(th, r, frame, funnel);
    draw_speed(th, r, frame, speed);
    draw_figures(th, r, frame, figures);
    let [forecast, sources] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(middle);
    draw_forecast(th, r, frame, forecast);
    draw_sources(th, r, frame, sources);
    let [cohorts, agents] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(bottom);
    let [chart, arrivals] = Layout::vertical([Constraint::Fill(1), Constraint::Length(3)]).areas(cohorts);
    draw_cohorts(th, r, frame, chart);
    draw_arrivals(th, r, frame, arrivals);
    let agent_rows = r.leaderboard.len().min(8) as u16 + 2;
    let [agents, followups] =
        Layout::vertical([Constraint::Length(agent_rows), Constraint::Fill(1)]).areas(agents);
    draw_agents(th, r, frame, agents);
    draw_followups(th, r, frame, followups);
}

/// Reply rates by sequence and step.
fn draw_followups(th: Theme, r: &AnalyticsReport, frame: &mut Frame, area: Rect) {
    let rows = r.followups.iter().map(|f| {
        ListRow::new([
            Line::from(f.workflow.clone()),
            Line::from(f.step.to_string()),
            Line::from(thousands(f.sent)),
            Line::from(thousands(f.replied)),
            Line::from(percent(f.reply_rate)),
        ])
    });
    let header = ListRow::new(["sequence", "step", "sent", "replied", "rate"])
        .style(Style::new().bold().fg(th.color(Tone::Label)));
    let widths = [
        Constraint::Fill(1),
        Constraint::Length(5),
        Constraint::Length(7),
        Constraint::Length(8),
        Constraint::Length(7),
    ];
    draw_plain_list(frame, area, rows, widths, header, block(th, "Follow-up replies"));
}

/// The funnel as vertical bars, each labelled with its stage and count.
fn draw_funnel(th: Theme, r: &AnalyticsReport, frame: &mut Frame, area: Rect) {
    let short = |s: &str| -> String {
        match s {
            "contacted" => "cont.",
            "qualified" => "qual.",
            "appointment" => "appt",
            other => other,
        }
        .to_owned()
    };
    let bars: Vec<Bar> = r
        .funnel
        .iter()
        .map(|s| {
            Bar::default()
                .value(s.count)
                .label(Line::from(short(&s.stage)))
                .text_value(thousands(s.count))
                .style(th.fg(Tone::Accent))
                .value_style(th.filled(Tone::Accent))
        })
        .collect();
    let won = r.funnel.last().and_then(|s| s.of_new);
    let title = format!("Funnel · won {}", percent(won));
    let chart = BarChart::default()
        .block(block(th, &title))
        .data(BarGroup::default().bars(&bars))
        .bar_width(6)
        .bar_gap(1);
    frame.render_widget(chart, area);
}

/// The key figures as text: conversions, speed-to-lead, calls, pipeline.
fn draw_figures(th: Theme, r: &AnalyticsReport, frame: &mut Frame, area: Rect) {
    let s = &r.speed_to_lead;
    let c = &r.calls;
    let conv: Vec<String> = r.funnel.iter().skip(1).map(|f| percent(f.conversion)).collect();
    let label = |t: &str| Span::styled(format!("{t:<10}"), th.fg(Tone::Label));
    let lines = vec![
        Line::from(vec![label("steps"), Span::raw(conv.join(" → "))]),
        Line::from(vec![
            label("reply"),
            Span::raw(format!("median {} · p90 {}", duration(s.median_secs), duration(s.p90_secs))),
        ]),
        Line::from(vec![
            label("≤ 5 min"),
            Span::styled(percent(s.within_5m_share), Style::new().bold()),
            Span::raw(format!(" ({} of {})", thousands(s.within_5m), thousands(s.leads))),
        ]),
        Line::from(vec![
            label("calls"),
            Span::raw(format!("{} · {} connected", thousands(c.calls), percent(c.connect_rate))),
        ]),
        Line::from(vec![
            label("talk"),
            Span::raw(format!(
                "{} · avg {}",
                duration(Some(c.talk_seconds)),
                duration(c.avg_talk_seconds.map(|a| a.round() as u64))
            )),
        ]),
        Line::from(vec![
            label("pipeline"),
            Span::raw(money(Some(r.pipeline_value))),
            Span::raw(" · forecast "),
            Span::styled(money(Some(r.forecast_total)), th.fg(Tone::Good).bold()),
        ]),
    ];
    paint::paragraph(frame.buffer_mut(), area, &lines, Style::default(), Some(&block(th, "Figures")));
}

/// First replies by band, as bars.
fn draw_speed(th: Theme, r: &AnalyticsReport, frame: &mut Frame, area: Rect) {
    let bars: Vec<Bar> = r
        .speed_to_lead
        .histogram
        .iter()
        .map(|(band, n)| {
            let fast = band == "≤1m" || band == "≤5m";
            let tone = if fast { Tone::Good } else { Tone::Warn };
            Bar::default()
                .value(*n)
                .label(Line::from(band.clone()))
                .text_value(thousands(*n))
                .style(th.fg(tone))
                .value_style(th.filled(tone))
        })
        .collect();
    let title = format!("Speed to lead · median {}", duration(r.speed_to_lead.median_secs));
    let chart = BarChart::default()
        .block(block(th, &title))
        .data(BarGroup::default().bars(&bars))
        .bar_width(6)
        .bar_gap(2);
    frame.render_widget(chart, area);
}

/// The forecast of each stage with open deals, as horizontal bars (most first), labelled with
/// the open value, the win probability and the forecast.
fn draw_forecast(th: Theme, r: &AnalyticsReport, frame: &mut Frame, area: Rect) {
    let mut stages: Vec<_> = r.forecast.iter().filter(|f| f.open_deals > 0).collect();
    stages.sort_by(|a, b| b.forecast.unwrap_or(0.0).total_cmp(&a.forecast.unwrap_or(0.0)));
    // One row per stage, a gap between them when there is room for all.
    let rows = usize::from(area.height.saturating_sub(1));
    let gap = u16::from(stages.len() * 2 <= rows + 1);
    let room = if gap == 1 { rows.div_ceil(2) } else { rows };
    let label_width = usize::from(area.width / 3).clamp(10, 28);
    let bars: Vec<Bar> = stages
        .iter()
        .take(room)
        .map(|f| {
            let name = ellipsize(&format!("{} · {}", pipeline_short(&f.pipeline), f.stage), label_width);
            let value = f.forecast.unwrap_or(0.0);
            Bar::default()
                .value(value.max(0.0).round() as u64)
                .label(Line::from(format!("{name:<label_width$}")))
                .text_value(format!(
                    "{} of {} ({})",
                    money(f.forecast),
                    money(Some(f.open_value)),
                    percent(f.win_probability)
                ))
                .style(th.fg(Tone::Good))
                .value_style(th.fg(Tone::Strong).add_modifier(Modifier::BOLD))
        })
        .collect();
    let title = format!(
        "Forecast by stage · {} of {} open",
        money(Some(r.forecast_total)),
        money(Some(r.pipeline_value))
    );
    let chart = BarChart::default()
        .block(block(th, &title))
        .direction(Direction::Horizontal)
        .data(BarGroup::default().bars(&bars))
        .bar_width(1)
        .bar_gap(gap);
    frame.render_widget(chart, area);
}

fn pipeline_short(name: &str) -> &str {
    name.strip_suffix(" Pipeline").unwrap_or(name)
}

/// New leads per day over the range, as a sparkline.
fn draw_arrivals(th: Theme, r: &AnalyticsReport, frame: &mut Frame, area: Rect) {
    let days = r.daily_leads.len();
    let data: Vec<u64> =
        r.daily_leads.iter().skip(days.saturating_sub(usize::from(area.width))).copied().collect();
    let total: u64 = r.daily_leads.iter().sum();
    let title = format!("New leads per day · {} in {days} days", thousands(total));
    let spark = Sparkline::default().block(block(th, &title)).data(&data).style(th.fg(Tone::Accent));
    frame.render_widget(spark, area);
}

/// Leads by source, with conversion and ROI.
fn draw_sources(th: Theme, r: &AnalyticsReport, frame: &mut Frame, area: Rect) {
    let rows = r.sources.iter().map(|s| {
        ListRow::new([
            Line::from(s.source.clone()),
            Line::from(thousands(s.leads)),
            Line::from(thousands(s.won)),
            Line::from(percent(s.conversion)),
            Line::from(money(Some(s.won_value))),
            Line::from(percent(s.roi)),
        ])
    });
    let header = ListRow::new(["source", "leads", "won", "conv.", "won value", "ROI"])
        .style(Style::new().bold().fg(th.color(Tone::Label)));
    let widths = [
        Constraint::Fill(1),
        Constraint::Length(6),
        Constraint::Length(4),
        Constraint::Length(6),
        Constraint::Length(9),
        Constraint::Length(7),
    ];
    draw_plain_list(frame, area, rows, widths, header, block(th, "Sources"));
}

/// The agents, most won value first.
fn draw_agents(th: Theme, r: &AnalyticsReport, frame: &mut Frame, area: Rect) {
    let rows = r.leaderboard.iter().map(|a| {
        ListRow::new([
            Line::from(a.name.clone()),
            Line::from(thousands(a.leads)),
            Line::from(thousands(a.contacted)),
            Line::from(thousands(a.won)),
            Line::from(money(Some(a.won_value))),
        ])
    });
    let header = ListRow::new(["agent", "leads", "contacted", "won", "won value"])
        .style(Style::new().bold().fg(th.color(Tone::Label)));
    let widths = [
        Constraint::Fill(1),
        Constraint::Length(6),
        Constraint::Length(9),
        Constraint::Length(4),
        Constraint::Length(9),
    ];
    draw_plain_list(frame, area, rows, widths, header, block(th, "Agents"));
}

/// Each month's arrivals and how many of them were contacted and won, as lines.
fn draw_cohorts(th: Theme, r: &AnalyticsReport, frame: &mut Frame, area: Rect) {
    let series = |f: fn(&leadline_shared::protocol::CohortRow) -> u64| -> Vec<(f64, f64)> {
        r.cohorts.iter().enumerate().map(|(i, c)| (i as f64, f(c) as f64)).collect()
    };
    let leads = series(|c| c.leads);
    let contacted = series(|c| c.contacted);
    let won = series(|c| c.won);
    let top = r.cohorts.iter().map(|c| c.leads).max().unwrap_or(0).max(1) as f64;
    let n = r.cohorts.len().max(2) as f64 - 1.0;
    fn dataset<'a>(name: &'static str, data: &'a [(f64, f64)], color: Color) -> Dataset<'a> {
        Dataset::default()
            .name(name)
            .marker(symbols::Marker::Braille)
            .graph_type(GraphType::Line)
            .style(Style::new().fg(color))
            .data(data)
    }
    let first = r.cohorts.first().map(|c| c.month.clone()).unwrap_or_default();
    let last = r.cohorts.last().map(|c| c.month.clone()).unwrap_or_default();
    let chart = Chart::new(vec![
        dataset("leads", &leads, th.color(Tone::Accent)),
        dataset("contacted", &contacted, th.color(Tone::Warn)),
        dataset("won", &won, th.color(Tone::Good)),
    ])
    .block(block(th, "Cohorts by month of arrival"))
    .x_axis(
        Axis::default()
            .bounds([0.0, n])
            .labels(vec![Line::from(first), Line::from(last)])
            .style(th.fg(Tone::Label)),
    )
    .y_axis(
        Axis::default()
            .bounds([0.0, top])
            .labels(vec![Line::from("0"), Line::from(thousands(top as u64))])
            .style(th.fg(Tone::Label)),
    );
    frame.render_widget(chart, area);
}
