//! The lead pane's intelligence sections: the listings that fit the lead, each with its
//! reasons. Kept out of `detail.rs` so that they grow on their own.

use leadline_shared::protocol::{LeadDetail, ListingMatch};
use ratatui::style::{Modifier, Stylize};
use ratatui::text::{Line, Span};

use super::ellipsize;
use crate::dashboard::theme::{Theme, Tone};

/// How many matches the pane lists (the daemon sends at most five).
const SHOWN: usize = 3;
/// How many steps of the routing trace the pane shows.
const TRACE_SHOWN: usize = 4;

/// "Churn  high 72 · urgent follow-up · $143k at risk", in the tier's tone.
pub fn churn_line(th: Theme, detail: &LeadDetail) -> Option<Line<'static>> {
    let c = detail.churn.as_ref()?;
    let tone = match c.tier.as_str() {
        "critical" => Tone::Bad,
        "high" => Tone::Warn,
        "medium" => Tone::Accent,
        _ => Tone::Good,
    };
    let mut spans = vec![
        Span::styled(format!("{:<9}", "Churn"), th.fg(Tone::Label)),
        Span::styled(format!("{} {}", c.tier, c.score), th.fg(tone).add_modifier(Modifier::BOLD)),
        Span::raw(format!(" · {}", c.action)),
    ];
    if let Some(v) = c.value_at_risk.filter(|v| *v >= 1.0) {
        spans.push(Span::raw(format!(" · {} at risk", money(v))));
    }
    Some(Line::from(spans))
}

/// "Priority 72 · p .65 × $400k seller default · awaiting a reply · new 12m": the composite
/// priority that orders hot and all, with its parts.
pub fn priority_line(th: Theme, detail: &LeadDetail) -> Option<Line<'static>> {
    let p = detail.priority_breakdown.as_ref()?;
    let from = match p.value_from.as_str() {
        "open deals" => "deal",
        "default for buyers" => "buyer default",
        "default for sellers" => "seller default",
        _ => "default",
    };
    let mut text = format!(" · p {:.2} × {} {from}", p.probability, money(p.value));
    for reason in &p.urgency_reasons {
        text.push_str(" · ");
        text.push_str(reason);
    }
    if let Some(m) = p.uncontacted_minutes.filter(|_| p.speed > 0.0) {
        text.push_str(&format!(" · new {m}m"));
    }
    Some(Line::from(vec![
        Span::styled(format!("{:<9}", "Priority"), th.fg(Tone::Label)),
        Span::raw(p.priority.to_string()).add_modifier(Modifier::BOLD),
        Span::raw(text),
    ]))
}

/// "Route    Dana Reyes · best fit · load 6/15 · U assigns": the suggested agent, one line
/// for the summary block.
pub fn route_line(th: Theme, detail: &LeadDetail, accept_key: Option<String>) -> Option<Line<'static>> {
    let r = detail.routing.as_ref()?;
    let method = if r.method == "round_robin" { "round robin" } else { "best fit" };
    let hint = if r.current {
        " · assigned".to_owned()
    } else {
        accept_key.map(|k| format!(" · {k} assigns")).unwrap_or_default()
    };
    Some(Line::from(vec![
        Span::styled(format!("{:<9}", "Route"), th.fg(Tone::Label)),
        Span::raw(r.name.clone()).add_modifier(Modifier::BOLD),
        Span::raw(format!(" · {method} · load {}/{}", r.load, r.capacity)),
        Span::styled(hint, th.fg(Tone::Good)),
    ]))
}

/// "Why routed here": the first steps of the routing trace.
pub fn trace_lines(th: Theme, detail: &LeadDetail, width: usize) -> Vec<Line<'static>> {
    let Some(r) = &detail.routing else { return Vec::new() };
    let mut lines =
        vec![Line::default(), Line::from(format!("Why routed to {}", r.name)).bold().underlined()];
    for step in r.trace.iter().take(TRACE_SHOWN) {
        lines.push(Line::from(Span::styled(
            format!("  · {}", ellipsize(step, width.saturating_sub(4))),
            th.fg(Tone::Muted),
        )));
    }
    lines
}

/// "Best matches": one line per listing (score, price, rooms, size, address) and one with the
/// reasons the lead asked about, met ones ticked. Nothing when the lead has no matches.
pub fn match_lines(th: Theme, detail: &LeadDetail, width: usize) -> Vec<Line<'static>> {
    if detail.matches.is_empty() {
        return Vec::new();
    }
    let mut lines = vec![
        Line::default(),
        Line::from(format!("Best matches ({} listings)", detail.matches.len())).bold().underlined(),
    ];
    for m in detail.matches.iter().take(SHOWN) {
        lines.push(head_line(th, m, width));
        lines.push(reason_line(th, m, width));
    }
    lines
}

fn head_line(th: Theme, m: &ListingMatch, width: usize) -> Line<'static> {
    let l = &m.listing;
    let mut facts = Vec::new();
    if let Some(price) = l.list_price {
        facts.push(money(price));
    }
    match (l.bedrooms, l.bathrooms) {
        (Some(bd), Some(ba)) => facts.push(format!("{bd}bd/{ba}ba")),
        (Some(bd), None) => facts.push(format!("{bd}bd")),
        (None, Some(ba)) => facts.push(format!("{ba}ba")),
        (None, None) => {}
    }
    if let Some(sqft) = l.living_area {
        facts.push(format!("{} sqft", thousands(sqft)));
    }
    let place =
        [l.subdivision.as_deref(), l.street.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" · ");
    let place =
        if place.is_empty() { l.address() } else { format!("{place}, {}", l.city.as_deref().unwrap_or("")) };
    let head = format!("{}  ", facts.join("  "));
    let room = width.saturating_sub(6 + head.chars().count());
    Line::from(vec![
        Span::styled(format!("  {:>3} ", m.score), th.fg(Tone::Good).add_modifier(Modifier::BOLD)),
        Span::raw(head),
        Span::styled(ellipsize(place.trim_end_matches([',', ' ']), room), th.fg(Tone::Muted)),
    ])
}

fn reason_line(th: Theme, m: &ListingMatch, width: usize) -> Line<'static> {
    let mut spans = vec![Span::raw("      ")];
    let mut used = 6;
    for r in m.reasons.iter().filter(|r| r.asked) {
        let (mark, tone) = if r.met { ("✓ ", Tone::Good) } else { ("✗ ", Tone::Warn) };
        let sep = if used > 6 { "  " } else { "" };
        let need = sep.len() + 2 + r.text.chars().count();
        if used + need > width {
            spans.push(Span::styled(if used + 2 <= width { " …" } else { "" }, th.fg(Tone::Muted)));
            break;
        }
        used += need;
        spans.push(Span::raw(sep));
        spans.push(Span::styled(mark, th.fg(tone)));
        spans.push(Span::raw(r.text.clone()));
    }
    Line::from(spans)
}

/// `$410k`, `$1.25M`.
pub fn money(dollars: f64) -> String {
    if dollars >= 1_000_000.0 {
        let text = format!("{:.2}", dollars / 1_000_000.0);
        format!("${}M", text.trim_end_matches('0').trim_end_matches('.'))
    } else {
        format!("${:.0}k", dollars / 1_000.0)
    }
}

fn thousands(n: f64) -> String {
    let n = n.round() as u64;
    if n >= 1_000 { format!("{},{:03}", n / 1_000, n % 1_000) } else { n.to_string() }
}
