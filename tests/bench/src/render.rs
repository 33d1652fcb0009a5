//! One dashboard frame with every lead loaded, into `TestBackend` at 160×48.

use std::time::{Duration, Instant};

use leadline_shared::domain::LeadSummary;
use leadline_tui::dashboard::{App, Effect, Update, render};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::stats::{Summary, summarize};

/// Times `samples` frames, moving the selection so each frame differs.
pub fn frames(rows: &[LeadSummary], samples: usize) -> Summary {
    time_frames(App::with_rows(jiff::Timestamp::now(), rows.to_vec()), samples)
}

/// Times `samples` frames of `app` at 160×48 after 10 untimed ones, moving the selection
/// each frame (a page every 50) so that each frame differs.
fn time_frames(mut app: App, samples: usize) -> Summary {
    app.resize(160, 48);
    let Ok(mut terminal) = Terminal::new(TestBackend::new(160, 48));
    let mut times: Vec<Duration> = Vec::with_capacity(samples);
    for i in 0..samples + 10 {
        let _ = app.handle_action(if i % 50 == 0 {
            leadline_tui::dashboard::Action::PageDown
        } else {
            leadline_tui::dashboard::Action::NextRow
        });
        let started = Instant::now();
        let _ = terminal.draw(|f| render(&app, f));
        if i >= 10 {
            times.push(started.elapsed());
        }
    }
    summarize(&mut times)
}

/// Times `samples` frames of the follow-ups screen holding as many actions as the dashboard
/// ever asks for (both capped parts full, and the recent ones), each lead's zone its own, at
/// 160×48, moving the selection so each frame differs.
pub fn followup_frames(rows: &[LeadSummary], samples: usize) -> Summary {
    use leadline_shared::domain::{FollowUpItem, ItemState, Mode, StepAction};
    use leadline_shared::protocol::FollowUpView;
    use leadline_tui::dashboard::{FOLLOWUP_LIMIT, RECENT_FOLLOWUPS};

    let now = jiff::Timestamp::now();
    let count = (2 * FOLLOWUP_LIMIT + RECENT_FOLLOWUPS) as usize;
    let views: Vec<FollowUpView> = rows
        .iter()
        .cycle()
        .take(count)
        .enumerate()
        .map(|(i, lead)| {
            let state = match i % 6 {
                0 => ItemState::AwaitingApproval,
                1 | 2 => ItemState::Scheduled,
                3 => ItemState::Uncertain,
                4 => ItemState::Failed,
                _ => ItemState::Sent,
            };
            let at = now + jiff::SignedDuration::from_mins(i as i64 * 7 - 600);
            let action = StepAction::SendSms { template: "nurture_day3".into() };
            let item = FollowUpItem::new(
                format!("{}/nurture/{i}", lead.id),
                lead.id.clone(),
                "nurture".into(),
                i as u32,
                action,
                at,
                at,
            );
            FollowUpView {
                item: FollowUpItem {
                    timezone: lead.timezone.clone(),
                    mode: Mode::Approval,
                    state,
                    reason: Some("quiet hours in the lead's zone (TCPA: 08:00–21:00)".into()),
                    body: Some(
                        "Hi, this is Dana with Lone Star Realty. Still looking? Reply STOP to opt out".into(),
                    ),
                    op_seq: Some(i as u64),
                    ..item
                },
                lead_name: lead.name.clone(),
            }
        })
        .collect();
    time_frames(App::with_followups(now, views), samples)
}

/// Times `samples` frames of the analytics screen at 160×48, with the figures of `rows` (the
/// data set's leads, summed as the daemon sums them; only the rows, so no forecast bars: the
/// frame's cost is the screen's size, not the figures').
pub fn analytics_frames(rows: &[LeadSummary], samples: usize) -> Summary {
    use leadline_daemon::engine::analytics::{Aggregates, LeadFacts, ReportInputs, report};
    use leadline_shared::protocol::AnalyticsRange;

    let now = jiff::Timestamp::now();
    let mut agg = Aggregates::default();
    for row in rows {
        agg.lead(&LeadFacts::of(row), 1);
    }
    let empty = std::collections::BTreeMap::new();
    let costs = std::collections::BTreeMap::new();
    let figures = report(
        &agg,
        &ReportInputs {
            range: AnalyticsRange::All,
            now,
            pipelines: &[],
            users: &empty,
            cost_per_lead: &costs,
            commission_rate: 0.025,
        },
    );
    time_frames(App::with_analytics(now, figures), samples)
}

/// The screens timed by [`screen_frames`]: a name, and the keys that open it from the queue
/// screen (on `all`), as a user presses them.
pub const SCREENS: &[(&str, &str)] = &[("lead", "\n"), ("search", "/mar"), ("compose", "c"), ("help", "?")];

/// Times `samples` frames of each of [`SCREENS`] at 160×48 over `rows`: the dashboard is
/// driven by its keys, and its requests are answered from `rows` as the daemon would (a lead's
/// detail with a timeline of 200 entries, search pages of the first rows, Compose's facts).
pub fn screen_frames(rows: &[LeadSummary], samples: usize) -> Vec<(&'static str, Summary)> {
    SCREENS
        .iter()
        .map(|&(name, keys)| {
            let mut app = App::with_rows(jiff::Timestamp::now(), rows.to_vec());
            app.resize(160, 48);
            for c in keys.chars() {
                let code = if c == '\n' { KeyCode::Enter } else { KeyCode::Char(c) };
                let effects = app.handle_key(&KeyEvent::new(code, KeyModifiers::NONE));
                answer(&mut app, rows, effects);
            }
            (name, time_still_frames(&app, samples))
        })
        .collect()
}

/// Answers the dashboard's requests from `rows`, as the daemon would, until it asks for
/// nothing more.
fn answer(app: &mut App, rows: &[LeadSummary], effects: Vec<Effect>) {
    use leadline_shared::protocol::{ComposeInfo, LeadDetail, SearchPage, TimelineEntry};

    let mut queue: std::collections::VecDeque<Effect> = effects.into();
    while let Some(effect) = queue.pop_front() {
        let update = match effect {
            Effect::FetchLead { id } => {
                let lead = rows.iter().find(|r| r.id == id).cloned().unwrap_or_default();
                let now = jiff::Timestamp::now();
                let timeline = (0..200)
                    .map(|i| TimelineEntry {
                        at: Some(now - jiff::SignedDuration::from_mins(i * 37)),
                        kind: if i % 5 == 0 { "note".into() } else { "message".into() },
                        text: "Yes, we are pre-approved up to 500k. Can we see the Elm St house on Saturday?"
                            .into(),
                        ..TimelineEntry::default()
                    })
                    .collect();
                Update::LeadLoaded(Box::new(LeadDetail { lead, timeline, ..LeadDetail::default() }))
            }
            Effect::ScheduleSearch { seq, .. } => Update::SearchDue { seq },
            Effect::Search { seq, query, limit } => {
                let rows = rows.iter().take(limit as usize).cloned().collect();
                let page = SearchPage { terms: vec![query.clone()], total: 12_345, rows };
                Update::SearchLoaded { seq, query, page: Box::new(page) }
            }
            Effect::FetchCompose { contact_id } => Update::ComposeLoaded(Box::new(ComposeInfo {
                contact_id,
                lead_name: rows.first().map(|r| r.name.clone()).unwrap_or_default(),
                sms_max_chars: 320,
                ..ComposeInfo::default()
            })),
            _ => continue,
        };
        queue.extend(app.apply(update));
    }
}

/// Times `samples` frames of `app` as it is, after 10 untimed ones.
fn time_still_frames(app: &App, samples: usize) -> Summary {
    let Ok(mut terminal) = Terminal::new(TestBackend::new(160, 48));
    let mut times: Vec<Duration> = Vec::with_capacity(samples);
    for i in 0..samples + 10 {
        let started = Instant::now();
        let _ = terminal.draw(|f| render(app, f));
        if i >= 10 {
            times.push(started.elapsed());
        }
    }
    summarize(&mut times)
}
