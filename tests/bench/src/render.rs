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
