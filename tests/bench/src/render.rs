//! One dashboard frame with every lead loaded, into `TestBackend` at 160×48.
//!
//! The frames are timed in a process of their own ([`in_child`]) that holds only the rows, as
//! a dashboard does, with the allocator returning freed memory on its usual schedule. Timed in
//! the run's own process, right after the ingest and under the daemon's allocator options
//! (freed pages returned to the system at once, which suits a daemon's memory), every frame's
//! short-lived allocations faulted pages back in: at the same load the medians were 1.6–1.8×
//! those under mimalloc, the dashboard's allocator, and with freed pages kept ten seconds (as
//! jemalloc does by default) they matched those under mimalloc.

use std::time::{Duration, Instant};

use leadline_shared::domain::LeadSummary;
use leadline_shared::protocol::QueuePage;
use leadline_tui::dashboard::{App, Effect, Update, render};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::stats::{Summary, summarize};

/// Every frame figure over `rows`, each under its name in the benchmark's JSON (`frame` is the
/// queue screen's, then `frame_followups`, `frame_analytics` and `frame_SCREEN` for each of
/// [`SCREENS`]).
pub fn all_frames(rows: &[LeadSummary], samples: usize) -> Vec<(String, Summary)> {
    let mut all = vec![
        ("frame".to_owned(), frames(rows, samples)),
        ("frame_followups".to_owned(), followup_frames(rows, samples)),
        ("frame_analytics".to_owned(), analytics_frames(rows, samples)),
    ];
    all.extend(screen_frames(rows, samples).into_iter().map(|(name, s)| (format!("frame_{name}"), s)));
    all
}

/// Times every frame over `rows` in a child process (this benchmark re-executed as `frames
/// ROWS SAMPLES`): the rows go through a file in `work`, and the figures come back as one
/// JSON object keyed as the benchmark's JSON. The child's jemalloc keeps freed pages ten
/// seconds (the environment's options are read after the daemon's built-in ones).
pub fn in_child(
    work: &std::path::Path,
    rows: &[LeadSummary],
    samples: usize,
) -> anyhow::Result<serde_json::Map<String, serde_json::Value>> {
    let path = work.join("rows.json");
    std::fs::write(&path, serde_json::to_vec(rows)?)?;
    let out = std::process::Command::new(std::env::current_exe()?)
        .arg("frames")
        .arg(&path)
        .arg(samples.to_string())
        .env("_RJEM_MALLOC_CONF", DASHBOARD_MALLOC_CONF)
        .stderr(std::process::Stdio::inherit())
        .output()?;
    anyhow::ensure!(out.status.success(), "timing the frames failed ({})", out.status);
    Ok(serde_json::from_slice(&out.stdout)?)
}

/// jemalloc's default decay, where the daemon's options return freed pages at once.
const DASHBOARD_MALLOC_CONF: &str = "dirty_decay_ms:10000,muzzy_decay_ms:10000";

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
pub const SCREENS: &[(&str, &str)] = &[
    ("lead", "\n"),
    ("search", "/mar"),
    ("compose", "c"),
    ("help", "?"),
    ("deal", "d"),
    ("tasks", "w"),
    ("system", "9"),
    ("palette", ":ad"),
];

/// Times `samples` frames of each of [`SCREENS`] at 160×48 over `rows`: the dashboard is
/// driven by its keys, and its requests are answered from `rows` as the daemon would (a lead's
/// detail with a timeline of 200 entries, search pages of the first rows, Compose's facts).
pub fn screen_frames(rows: &[LeadSummary], samples: usize) -> Vec<(&'static str, Summary)> {
    SCREENS
        .iter()
        .map(|&(name, keys)| {
            let app = screen_app(rows, keys);
            (name, time_still_frames(&app, samples))
        })
        .collect()
}

/// A connected dashboard over `rows`, driven to a screen by `keys` at 160×48, its requests
/// answered as the daemon would.
fn screen_app(rows: &[LeadSummary], keys: &str) -> App {
    let page = QueuePage { total: rows.len() as u64, offset: 0, rows: rows.to_vec(), anchor_at: None };
    let mut app = App::with_page(jiff::Timestamp::now(), page);
    app.resize(160, 48);
    for c in keys.chars() {
        let code = if c == '\n' { KeyCode::Enter } else { KeyCode::Char(c) };
        let effects = app.handle_key(&KeyEvent::new(code, KeyModifiers::NONE));
        answer(&mut app, rows, effects);
    }
    app
}

/// Answers the dashboard's requests from `rows`, as the daemon would, until it asks for
/// nothing more.
fn answer(app: &mut App, rows: &[LeadSummary], effects: Vec<Effect>) {
    use leadline_shared::domain::{OpKind, OpState, Opportunity, PendingOp, Pipeline, Stage, Task};
    use leadline_shared::protocol::{
        ComposeInfo, LeadDetail, LogTail, OpView, SearchPage, SystemReport, TaskList, TaskView, TimelineEntry,
    };

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
                let stages = ["New lead", "Contacted", "Showing", "Offer made", "Under contract", "Closed"];
                let pipeline = Pipeline {
                    id: "p1".into(),
                    name: "Buyers".into(),
                    stages: stages
                        .iter()
                        .enumerate()
                        .map(|(i, name)| Stage {
                            id: format!("s{i}"),
                            name: (*name).into(),
                            ..Stage::default()
                        })
                        .collect(),
                    ..Pipeline::default()
                };
                let deal = Opportunity {
                    id: format!("o-{id}"),
                    contact_id: id.clone(),
                    pipeline_id: "p1".into(),
                    pipeline_stage_id: "s2".into(),
                    monetary_value: Some(425_000.0),
                    ..Opportunity::default()
                };
                Update::LeadLoaded(Box::new(LeadDetail {
                    lead,
                    timeline,
                    opportunities: vec![deal],
                    pipelines: vec![pipeline],
                    ..LeadDetail::default()
                }))
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
            // A day's worth of open tasks and a busy op log: more than a screen of each.
            Effect::FetchTasks => {
                let now = jiff::Timestamp::now();
                let tasks = rows
                    .iter()
                    .take(500)
                    .enumerate()
                    .map(|(i, r)| TaskView {
                        task: Task {
                            id: format!("t{i}"),
                            title: Some("Call back about the Elm St showing".into()),
                            due_date: Some(now + jiff::SignedDuration::from_mins(i as i64 * 13 - 600)),
                            contact_id: r.id.clone(),
                            ..Task::default()
                        },
                        lead_name: r.name.clone(),
                        timezone: Some("America/Chicago".into()),
                        ..TaskView::default()
                    })
                    .collect();
                Update::TasksLoaded(Box::new(TaskList { total: 500, tasks }))
            }
            Effect::FetchSystem => {
                let now = jiff::Timestamp::now();
                let ops = rows
                    .iter()
                    .take(200)
                    .enumerate()
                    .map(|(i, r)| OpView {
                        op: PendingOp {
                            seq: i as u64,
                            contact_id: r.id.clone(),
                            kind: OpKind::AddTag { tag: "VIP".into() },
                            created_at: now,
                            attempts: 3,
                            state: if i % 3 == 0 { OpState::Failed } else { OpState::Pending },
                            last_error: Some("GHL refused the request as invalid (422)".into()),
                            conflicts: 0,
                            followup: None,
                            attempt: None,
                            held: None,
                        },
                        lead_name: r.name.clone(),
                    })
                    .collect();
                let report = SystemReport { ops, ops_total: 200, ..SystemReport::default() };
                let lines = (0..50)
                    .map(|i| format!("2026-12-01T09:{:02}:00Z  INFO sync: poll done, 3 changed", i))
                    .collect();
                let log = LogTail { file: Some("leadlined.log".into()), lines, truncated: true };
                Update::SystemLoaded { report: Box::new(report), log: Box::new(log) }
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Each timed screen is the screen it names, drawn with its data: a figure of an empty or
    /// wrong screen would say nothing.
    #[test]
    fn every_timed_screen_shows_what_it_names() {
        let rows: Vec<LeadSummary> = (0..300)
            .map(|i| LeadSummary {
                id: format!("c{i:05}"),
                name: format!("Maria Lead{i}"),
                ..LeadSummary::default()
            })
            .collect();
        let want = [
            ("lead", "Yes, we are pre-approved"),
            ("search", "Maria Lead0"),
            ("compose", "Send"),
            ("help", "Keys"),
            ("deal", "Commission"),
            ("tasks", "Call back about the Elm St showing"),
            ("system", "INFO sync: poll done"),
            ("palette", "add-tag"),
        ];
        assert_eq!(want.len(), SCREENS.len());
        for ((name, keys), (want_name, text)) in SCREENS.iter().zip(want) {
            assert_eq!(*name, want_name);
            let app = screen_app(&rows, keys);
            let Ok(mut terminal) = Terminal::new(TestBackend::new(160, 48));
            let _ = terminal.draw(|f| render(&app, f));
            let screen: String = terminal
                .backend()
                .buffer()
                .content()
                .chunks(160)
                .map(|line| line.iter().map(|c| c.symbol()).collect::<String>() + "\n")
                .collect();
            assert!(screen.contains(text), "{name}: {text:?} not on screen:\n{screen}");
        }
    }
}
