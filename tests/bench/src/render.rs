//! One dashboard frame with every lead loaded, into `TestBackend` at 160×48.

use std::time::{Duration, Instant};

use leadline_shared::domain::LeadSummary;
use leadline_tui::dashboard::{App, render};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

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
