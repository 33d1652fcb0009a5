//! Dashboard tests: the App driven like a user (synthetic key events through the keymap, a
//! fake daemon answering the effects), snapshotted from `TestBackend` at 80×24 and 160×48.

#![allow(clippy::unwrap_used)]

use std::collections::{HashMap, VecDeque};

use jiff::Timestamp;
use leadline_shared::domain::{
    Contribution, Direction, FollowUpItem, FollowUps, ItemState, LeadSummary, Mode, OpKind, OpState,
    Opportunity, Pause, PendingOp, Qualification, StepAction, Temperature,
};
use leadline_shared::protocol::{
    AnalyticsRange, AnalyticsReport, Counts, DaemonInfo, Event, FollowUpView, LeadDetail, QueueCount,
    QueueName, QueuePage, SearchPage, StatusReport, SyncState, SyncStatus, TimelineEntry, Welcome,
};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::app::{FollowUpCommand, visible_range};
use super::components::queue_table;
use super::queue_window::window_len;
use super::*;

const SOCKET: &str = "/run/user/1000/leadline/daemon.sock";

pub(super) fn now() -> Timestamp {
    "2025-06-02T15:00:00Z".parse().unwrap()
}

fn ago(secs: i64) -> Timestamp {
    Timestamp::from_second(now().as_second() - secs).unwrap()
}

const FIRST: [&str; 10] =
    ["Maria", "James", "Aisha", "Robert", "Linh", "Carlos", "Emily", "Darnell", "Priya", "Tom"];
const LAST: [&str; 7] = ["Gonzalez", "Whitaker", "Okafor", "Nguyen", "Brennan", "Patel", "Kowalski"];
const SOURCES: [&str; 6] = ["Zillow", "Realtor.com", "Facebook Ads", "Open house", "Referral", "Website"];
const STAGES: [&str; 5] = ["New lead", "Contacted", "Qualified", "Showing", "Offer made"];
const ZONES: [&str; 4] = ["America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"];

/// A deterministic lead: scores fall with `i`, times spread over hours and days.
pub(super) fn lead(i: usize) -> LeadSummary {
    let score = 98u8.saturating_sub((i * 2).min(97) as u8);
    let temperature = match score {
        70.. => Temperature::Hot,
        40..=69 => Temperature::Warm,
        _ => Temperature::Cold,
    };
    let i64i = i as i64;
    LeadSummary {
        id: format!("c{i:05}"),
        name: format!("{} {}", FIRST[i % FIRST.len()], LAST[i % LAST.len()]),
        score,
        scored_by: if i.is_multiple_of(2) { "rules-v1" } else { "gbdt-v3" }.to_owned(),
        temperature,
        answered: (score / 15).min(7),
        source: (i % 9 != 8).then(|| SOURCES[(i + i / 6) % SOURCES.len()].to_owned()),
        lead_type: Some(if i.is_multiple_of(3) { "seller" } else { "buyer" }.to_owned()),
        pipeline: Some("Buyers".to_owned()),
        stage: Some(STAGES[i % STAGES.len()].to_owned()),
        phone: Some(format!("+1 512 555 {:04}", 100 + i % 9000)),
        email: Some(format!("lead{i}@example.com")),
        timezone: Some(ZONES[i % ZONES.len()].to_owned()),
        tags: if i.is_multiple_of(4) {
            vec!["pre-approved".into(), "first-time buyer".into()]
        } else {
            vec![]
        },
        date_added: Some(ago(3_600 * (1 + i64i * 7) + 120)),
        last_activity: (i % 11 != 10).then(|| ago(60 * (2 + i64i * 37))),
        awaiting_reply_since: (i % 5 == 1).then(|| ago(60 * (5 + i64i))),
        first_outbound_at: (!i.is_multiple_of(6)).then(|| ago(3_600 * (1 + i64i))),
        next_followup_at: (i % 7 == 2).then(|| ago(-3_600 * 2)),
        sms_blocked: i == 2,
        message_count: (i % 13) as u32,
        ..LeadSummary::default()
    }
}

pub(super) fn leads(n: usize) -> Vec<LeadSummary> {
    (0..n).map(lead).collect()
}

/// What the fake daemon returns for each queue.
pub(super) fn queue(name: &QueueName) -> Vec<LeadSummary> {
    let all = leads(40);
    match name {
        QueueName::SpeedToLead => all.into_iter().filter(|l| l.first_outbound_at.is_none()).collect(),
        QueueName::Hot => all.into_iter().filter(|l| l.temperature == Temperature::Hot).collect(),
        QueueName::NeedsReply => all.into_iter().filter(|l| l.awaiting_reply_since.is_some()).collect(),
        QueueName::Due => Vec::new(),
        QueueName::Dormant => all.into_iter().filter(|l| l.last_activity.is_none()).collect(),
        QueueName::All | QueueName::Saved(_) => all,
    }
}

pub(super) fn status() -> StatusReport {
    StatusReport {
        daemon: DaemonInfo { version: "0.1.0".into(), protocol: 1, pid: 4242, ..DaemonInfo::default() },
        counts: Counts {
            contacts: 12_480,
            opportunities: 2_310,
            messages: 48_900,
            hot: 312,
            warm: 1_877,
            cold: 10_291,
        },
        sync: SyncStatus {
            state: SyncState::Idle,
            last_success: Some(ago(95)),
            pending_ops: 2,
            failed_ops: 0,
            ..SyncStatus::default()
        },
        ..StatusReport::default()
    }
}

pub(super) fn detail(id: &str) -> LeadDetail {
    let index: usize = id.trim_start_matches('c').parse().unwrap();
    let entry = |secs: i64, kind: &str, direction: Option<Direction>, channel: Option<&str>, text: &str| {
        TimelineEntry {
            at: Some(ago(secs)),
            kind: kind.into(),
            direction,
            channel: channel.map(str::to_owned),
            text: text.into(),
            pending: false,
        }
    };
    // Even leads are scored by the rules (with the location's reason), odd ones by a model
    // trained on its history, explained in log-odds.
    let (explanation, score_model, score_unit, score_note) = if index.is_multiple_of(2) {
        (
            vec![
                Contribution { feature: "baseline".into(), contribution: 5.0 },
                Contribution { feature: "budget".into(), contribution: 15.0 },
                Contribution { feature: "location".into(), contribution: 15.0 },
                Contribution { feature: "timeline".into(), contribution: 15.0 },
            ],
            "rules-v1",
            "points",
            Some("42 closed deals; the model needs 200".to_owned()),
        )
    } else {
        (
            vec![
                Contribution { feature: "base".into(), contribution: -1.25 },
                Contribution { feature: "reply_minutes".into(), contribution: 0.75 },
                Contribution { feature: "answered".into(), contribution: 0.5 },
                Contribution { feature: "days_since_reply".into(), contribution: 0.25 },
                Contribution { feature: "source".into(), contribution: -0.125 },
            ],
            "gbdt-v3",
            "log_odds",
            None,
        )
    };
    let score_output = explanation.iter().map(|c| c.contribution).sum();
    LeadDetail {
        lead: lead(index),
        explanation,
        score_unit: score_unit.into(),
        score_output,
        score_note,
        qualification: Qualification {
            budget: Some("$450k to $500k".into()),
            location: Some("East Austin, near the new light rail".into()),
            timeline: Some("within 3 months".into()),
            financing: None,
            ..Qualification::default()
        },
        score_model: score_model.into(),
        // Deliberately not newest first: the pane sorts.
        timeline: vec![
            entry(86_400 * 2, "deal", None, None, "Opportunity created: Buyers / New lead"),
            entry(
                7_200,
                "message",
                Some(Direction::Inbound),
                Some("sms"),
                "Yes! We're pre-approved\nup to 500k. Can we see the Elm St house Saturday?",
            ),
            entry(
                10_800,
                "message",
                Some(Direction::Outbound),
                Some("sms"),
                "Hi Aisha, this is Dana from Lone Star Realty. Still looking in East Austin?",
            ),
            entry(86_400, "note", None, None, "Called, left voicemail."),
        ],
        ..LeadDetail::default()
    }
}

/// A lead's detail with three edits not yet in GHL: a failed tag, a waiting note and an
/// out-of-sync deal status.
pub(super) fn detail_with_edits(id: &str) -> LeadDetail {
    let op = |seq: u64, kind: OpKind, state: OpState, attempts: u32, last_error: Option<&str>| PendingOp {
        attempts,
        state,
        last_error: last_error.map(str::to_owned),
        ..PendingOp::new(seq, id, kind, ago(600))
    };
    LeadDetail {
        opportunities: vec![Opportunity {
            id: "opp-1".into(),
            name: Some("Elm St purchase".into()),
            ..Opportunity::default()
        }],
        pending_ops: vec![
            op(
                9,
                OpKind::SetStatus { opportunity_id: "opp-1".into(), status: "won".into() },
                OpState::OutOfSync,
                2,
                Some("the opportunity was changed in GHL after this edit; settle it there or retry"),
            ),
            op(
                12,
                OpKind::AddTag { tag: "VIP".into() },
                OpState::Failed,
                1,
                Some("GHL refused the request (422): tag names may not exceed 64 characters"),
            ),
            op(
                13,
                OpKind::AddNote { body: "Called back,\nwants the Saturday 2pm showing".into() },
                OpState::Pending,
                0,
                None,
            ),
        ],
        ..detail(id)
    }
}

fn at(secs_from_now: i64) -> Timestamp {
    Timestamp::from_second(now().as_second() + secs_from_now).unwrap()
}

/// A follow-up action of lead `i` (see [`lead`]), going at `at_secs` from now, last changed
/// `changed_secs` from now.
pub(super) fn followup(
    i: usize,
    step: u32,
    action: StepAction,
    state: ItemState,
    at_secs: i64,
) -> FollowUpView {
    let l = lead(i);
    FollowUpView {
        item: FollowUpItem {
            id: format!("{}/nurture/{step}", l.id),
            contact_id: l.id.clone(),
            workflow: "nurture".into(),
            step,
            action,
            due_at: at(at_secs),
            at: at(at_secs),
            timezone: l.timezone.clone(),
            mode: Mode::Approval,
            state,
            reason: None,
            template_version: None,
            body: None,
            edited: None,
            subject: None,
            op_seq: None,
            message_id: None,
            created_at: at(-86_400),
            updated_at: at(at_secs.min(0)),
            confirmation: false,
        },
        lead_name: l.name,
    }
}

fn sms(template: &str) -> StepAction {
    StepAction::SendSms { template: template.into() }
}

/// What the fake daemon lists on the follow-ups screen: two to approve (one with a reason),
/// two planned (one held back by quiet hours), one queued, one failed, one uncertain, and
/// three finished lately. Deliberately not in screen order: the screen sorts.
pub(super) fn followup_views() -> Vec<FollowUpView> {
    let with = |mut v: FollowUpView, f: &dyn Fn(&mut FollowUpItem)| {
        f(&mut v.item);
        v
    };
    vec![
        with(followup(7, 0, sms("instant_response"), ItemState::Sent, -3 * 3_600), &|i| {
            i.body = Some("Hi Darnell, thanks for reaching out about 12 Elm St!".into());
        }),
        with(followup(6, 1, sms("nurture_day1"), ItemState::Uncertain, -20 * 60), &|i| {
            i.op_seq = Some(17);
            i.reason =
                Some("GHL did not answer within 30s and the message is not in the conversation yet".into());
            i.body = Some(
                "Hi Emily, this is Dana with Lone Star Realty. Still thinking about East Austin? Reply STOP to opt out"
                    .into(),
            );
        }),
        // Due at 22:00 in Denver, held until 08:00 there.
        with(followup(2, 2, sms("check_in"), ItemState::Scheduled, 23 * 3_600), &|i| {
            i.due_at = at(13 * 3_600);
            i.reason = Some("quiet hours in America/Denver (TCPA: 08:00–21:00)".into());
        }),
        with(followup(0, 3, sms("nurture_day3"), ItemState::AwaitingApproval, 2 * 3_600), &|i| {
            i.reason = Some("the nurture workflow asks for your approval before it texts".into());
        }),
        with(followup(5, 1, sms("nurture_day1"), ItemState::Failed, -2 * 3_600), &|i| {
            i.op_seq = Some(15);
            i.reason = Some("GHL refused the request (422): the phone number cannot receive texts".into());
        }),
        followup(3, 4, StepAction::AddTag { tag: "Nurture".into() }, ItemState::Scheduled, 86_400),
        followup(
            1,
            2,
            StepAction::SendEmail { template: "listing_alert".into() },
            ItemState::AwaitingApproval,
            -1_800,
        ),
        with(followup(4, 0, sms("instant_response"), ItemState::Queued, -60), &|i| {
            i.op_seq = Some(21);
            i.body = Some("Hi Linh, this is Dana with Lone Star Realty.".into());
        }),
        with(followup(8, 2, sms("check_in"), ItemState::Skipped, -86_400), &|i| {
            i.reason = Some("skipped by the agent".into());
        }),
        with(followup(9, 1, sms("nurture_day1"), ItemState::Cancelled, -2 * 86_400), &|i| {
            i.reason = Some("paused by the agent".into());
        }),
    ]
}

pub(super) fn welcome() -> Welcome {
    Welcome { app_version: "0.1.0".into(), protocol: 1, pid: 4242 }
}

/// The App, a terminal, and a fake daemon that answers the App's effects in order.
pub(super) struct Harness {
    pub(super) app: App,
    pub(super) terminal: Terminal<TestBackend>,
    /// Effects the fake daemon does not answer (timers, connects, daemon starts, commands).
    pub(super) other: Vec<Effect>,
    /// What the fake daemon lists on the follow-ups screen.
    pub(super) followups: Vec<FollowUpView>,
    /// Each queue as the fake daemon holds it; it answers windows of them like the daemon.
    pub(super) queues: HashMap<QueueName, Vec<LeadSummary>>,
    /// Every queue window asked for, in order.
    pub(super) fetched: Vec<(QueueName, WindowRequest)>,
    /// The search debounces running: each query's number, until [`Harness::elapse`].
    pub(super) search_timers: Vec<u64>,
    /// Every query the fake daemon was asked, in order.
    pub(super) searched: Vec<String>,
    /// The lead details the fake daemon answers with, instead of [`detail`] (see
    /// `deal_tests`).
    pub(super) details: Option<fn(&str) -> LeadDetail>,
    /// The Tasks list the fake daemon answers with.
    pub(super) task_list: leadline_shared::protocol::TaskList,
}

impl Harness {
    pub(super) fn new(width: u16, height: u16) -> Self {
        Harness::with_queues(width, height, |_| {})
    }

    /// A harness whose fake daemon's queues are first changed by `edit`.
    pub(super) fn with_queues(
        width: u16,
        height: u16,
        edit: impl FnOnce(&mut HashMap<QueueName, Vec<LeadSummary>>),
    ) -> Self {
        Harness::with_lists(width, height, &[], edit)
    }

    /// A harness with saved smart lists as tabs after the built-in queues, whose fake daemon's
    /// queues are first changed by `edit`.
    pub(super) fn with_lists(
        width: u16,
        height: u16,
        lists: &[&str],
        edit: impl FnOnce(&mut HashMap<QueueName, Vec<LeadSummary>>),
    ) -> Self {
        let mut app = App::new(now());
        app.set_saved_lists(lists.iter().map(|l| l.to_string()));
        let _ = app.resize(width, height);
        let terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        let mut queues: HashMap<QueueName, Vec<LeadSummary>> =
            QueueName::BUILT_IN.into_iter().map(|name| (name.clone(), queue(&name))).collect();
        edit(&mut queues);
        let mut h = Harness {
            app,
            terminal,
            other: Vec::new(),
            followups: followup_views(),
            queues,
            fetched: Vec::new(),
            search_timers: Vec::new(),
            searched: Vec::new(),
            details: None,
            task_list: leadline_shared::protocol::TaskList::default(),
        };
        let effects = h.app.start();
        h.run(effects);
        h
    }

    /// Connected, with status and every queue loaded.
    pub(super) fn online(width: u16, height: u16) -> Self {
        let mut h = Harness::new(width, height);
        h.update(Update::Connected { welcome: welcome() });
        h
    }

    /// Connected, on the all-leads queue, which holds `n` leads.
    pub(super) fn all_leads(width: u16, height: u16, n: usize) -> Self {
        let mut h = Harness::with_queues(width, height, |q| {
            q.insert(QueueName::All, leads(n));
        });
        h.update(Update::Connected { welcome: welcome() });
        h.press("6");
        h
    }

    pub(super) fn update(&mut self, update: Update) {
        let effects = self.app.apply(update);
        self.run(effects);
    }

    /// Answers fetches like the daemon would; keeps the rest for the test to look at.
    pub(super) fn run(&mut self, effects: Vec<Effect>) {
        let mut queue: VecDeque<Effect> = effects.into();
        while let Some(effect) = queue.pop_front() {
            let answer = match &effect {
                Effect::FetchStatus => Update::StatusLoaded(Box::new(status())),
                Effect::FetchQueue { name, window } => {
                    self.fetched.push((name.clone(), window.clone()));
                    let rows = self.queues.get(name).map_or(&[][..], Vec::as_slice);
                    let page = page_of(rows, window.offset, window.limit, window.anchor.as_ref());
                    Update::QueueLoaded { name: name.clone(), window: window.clone(), page: Box::new(page) }
                }
                Effect::FetchLead { id } => {
                    Update::LeadLoaded(Box::new(self.details.map_or_else(|| detail(id), |f| f(id))))
                }
                Effect::FetchTasks => Update::TasksLoaded(Box::new(self.task_list.clone())),
                Effect::FetchFollowUps => Update::FollowUpsLoaded(self.followups.clone()),
                Effect::ScheduleSearch { seq, .. } => {
                    self.search_timers.push(*seq);
                    continue;
                }
                Effect::Search { seq, query, limit } => {
                    self.searched.push(query.clone());
                    let page = Box::new(search_page(query, *limit));
                    Update::SearchLoaded { seq: *seq, query: query.clone(), page }
                }
                Effect::FetchAnalytics { range } => {
                    Update::AnalyticsLoaded(Box::new(analytics_report(*range)))
                }
                Effect::FetchCompose { contact_id } => {
                    Update::ComposeLoaded(Box::new(compose_info(contact_id)))
                }
                _ => {
                    self.other.push(effect);
                    continue;
                }
            };
            queue.extend(self.app.apply(answer));
        }
    }

    /// Types text into whatever has the keys (Compose, the prompts, the search query), each
    /// character a key press; a newline is Enter.
    pub(super) fn type_text(&mut self, text: &str) {
        for c in text.chars() {
            let code = if c == '\n' { KeyCode::Enter } else { KeyCode::Char(c) };
            let effects = self.app.handle_key(&KeyEvent::new(code, KeyModifiers::NONE));
            self.run(effects);
        }
    }

    /// Presses keys given as keymap strings separated by spaces, e.g. "j j enter".
    pub(super) fn press(&mut self, keys: &str) {
        for key in keys.split_whitespace() {
            let chord: keymap::KeyChord = key.parse().unwrap();
            let effects = self.app.handle_key(&KeyEvent::new(chord.code, chord.modifiers));
            self.run(effects);
        }
    }

    /// Lets the search debounces run out, in the order they started.
    pub(super) fn elapse(&mut self) {
        for seq in std::mem::take(&mut self.search_timers) {
            self.update(Update::SearchDue { seq });
        }
    }

    pub(super) fn draw(&mut self) -> &TestBackend {
        let app = &self.app;
        self.terminal.draw(|frame| render(app, frame)).unwrap();
        self.terminal.backend()
    }

    pub(super) fn screen(&mut self) -> String {
        self.draw().to_string()
    }
}

/// A whole queue arriving in one page nobody asked for (as from a fake daemon in a test).
fn whole(name: QueueName, rows: Vec<LeadSummary>) -> Update {
    let total = rows.len() as u64;
    let window = WindowRequest { offset: 0, limit: total as u32, anchor: None };
    Update::QueueLoaded {
        name,
        window,
        page: Box::new(QueuePage { total, offset: 0, rows, anchor_at: None }),
    }
}

/// A connected dashboard at 160x48 holding the first window of a queue of `all`, at its top.
fn connected_at_the_top(all: &[LeadSummary]) -> App {
    let mut app = App::with_page(now(), page_of(all, 0, 210, None));
    let _ = app.resize(160, 48);
    app
}

/// The queue windows among `effects`.
fn queue_fetches(effects: &[Effect]) -> Vec<(&QueueName, &WindowRequest)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::FetchQueue { name, window } => Some((name, window)),
            _ => None,
        })
        .collect()
}

pub(super) const SIZES: [(u16, u16); 2] = [(80, 24), (160, 48)];

/// Snapshots a screen under its own name (`queue_80x24.snap`), without the crate and module
/// path, so the files stay put whether the dashboard is built in the binary or a library.
pub(super) fn assert_screen(name: &str, backend: &TestBackend) {
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!(name, backend));
}

#[test]
fn snapshot_queue() {
    for (w, h) in SIZES {
        let mut t = Harness::online(w, h);
        t.press("j j");
        assert_screen(&format!("queue_{w}x{h}"), t.draw());
    }
}

/// A saved smart list is a tab after the built-in queues, reached with tab, with its count.
#[test]
fn snapshot_saved_list_tab() {
    for (w, h) in SIZES {
        let mut t = Harness::with_lists(w, h, &["call-today"], |q| {
            let today: Vec<LeadSummary> = leads(40)
                .into_iter()
                .filter(|l| l.awaiting_reply_since.is_some() || l.first_outbound_at.is_none())
                .collect();
            q.insert(QueueName::Saved("call-today".into()), today);
        });
        t.update(Update::Connected { welcome: welcome() });
        t.press("tab tab tab tab tab tab j");
        assert_eq!(t.app.view().name, QueueName::Saved("call-today".into()));
        assert_screen(&format!("saved_list_{w}x{h}"), t.draw());
    }
}

/// The dormant tab is the recovery queue: each lead's churn tier and the dollars at risk.
#[test]
fn snapshot_recovery_tab() {
    for (w, h) in SIZES {
        let mut t = Harness::with_queues(w, h, |q| {
            let mut quiet: Vec<LeadSummary> = leads(12);
            for (i, l) in quiet.iter_mut().enumerate() {
                l.churn_risk = [85, 72, 64, 58, 55][i % 5];
                l.value_at_risk = 180_000.0 - 14_000.0 * i as f64;
            }
            q.insert(QueueName::Dormant, quiet);
        });
        t.update(Update::Connected { welcome: welcome() });
        t.press("5");
        assert_eq!(t.app.view().name, QueueName::Dormant);
        assert_screen(&format!("recovery_{w}x{h}"), t.draw());
    }
}

#[test]
fn snapshot_detail() {
    for (w, h) in SIZES {
        let mut t = Harness::online(w, h);
        t.press("3 j enter");
        assert_eq!(t.app.selected_detail().map(|d| d.lead.id.as_str()), Some("c00006"));
        assert_screen(&format!("detail_{w}x{h}"), t.draw());
    }
}

#[test]
fn snapshot_detail_scored_by_a_model() {
    for (w, h) in SIZES {
        let mut t = Harness::online(w, h);
        t.press("3 j j enter");
        let detail = t.app.selected_detail().expect("a lead is open");
        assert_eq!(detail.score_model, "gbdt-v3", "{}", detail.lead.id);
        assert_screen(&format!("detail_model_{w}x{h}"), t.draw());
    }
}

#[test]
fn snapshot_help() {
    for (w, h) in SIZES {
        let mut t = Harness::online(w, h);
        t.press("?");
        assert_screen(&format!("help_{w}x{h}"), t.draw());
    }
}

#[test]
fn snapshot_offline() {
    for (w, h) in SIZES {
        let mut t = Harness::online(w, h);
        t.press("6 j");
        t.update(Update::Disconnected { error: "the daemon closed the connection".into() });
        t.update(Update::ConnectFailed {
            error: format!("no daemon answers on {SOCKET}: Connection refused (os error 111)"),
            unreachable: true,
        });
        assert!(t.other.contains(&Effect::StartDaemon));
        t.update(Update::DaemonStartFailed { error: "could not start leadlined: permission denied".into() });
        assert_screen(&format!("offline_{w}x{h}"), t.draw());
    }
}

#[test]
fn snapshot_empty_queue() {
    for (w, h) in SIZES {
        let mut t = Harness::online(w, h);
        t.press("4");
        assert_eq!(t.app.current_queue(), &QueueName::Due);
        assert_screen(&format!("empty_{w}x{h}"), t.draw());
    }
}

#[test]
fn tiny_and_odd_sizes_never_panic() {
    for (w, h) in [(10, 3), (0, 0), (1, 1), (3, 10), (40, 5), (119, 12), (120, 8)] {
        // Drawing is what is tested; TestBackend's Display cannot print a zero-width buffer.
        let mut t = Harness::online(w, h);
        t.draw();
        t.press("j enter");
        t.draw();
        t.press("?");
        t.draw();
        t.press("esc esc G");
        t.update(Update::Disconnected { error: "gone".into() });
        t.update(Update::ConnectFailed { error: "no daemon".into(), unreachable: true });
        t.draw();
    }
}

#[test]
fn ten_by_three_shows_the_tabs_and_footer() {
    let mut t = Harness::online(10, 3);
    let screen = t.screen();
    assert_eq!(screen.lines().count(), 3, "{screen}");
}

#[test]
fn renders_only_the_visible_window_of_100k_rows() {
    let mut app = App::with_rows(now(), leads(100_000));
    app.resize(160, 48);
    app.handle_action(Action::LastRow);
    let areas = layout(ratatui::layout::Rect::new(0, 0, 160, 48), &app);
    let table = areas.table.unwrap();
    let window = queue_table::window(&app, table);
    assert_eq!(window, 99_958..100_000);
    assert_eq!(window.len(), usize::from(areas.table_rows));

    let mut terminal = Terminal::new(TestBackend::new(160, 48)).unwrap();
    terminal.draw(|frame| render(&app, frame)).unwrap();
    let screen = terminal.backend().to_string();
    assert!(screen.contains(&lead(99_999).name), "the selected last lead is on screen");
    assert!(screen.contains("100,000 of 100,000"), "{screen}");
    assert!(!screen.contains(&format!("c{:05}", 0)));

    app.handle_action(Action::FirstRow);
    assert_eq!(queue_table::window(&app, table), 0..42);
}

#[test]
fn visible_range_keeps_the_selection_on_screen() {
    assert_eq!(visible_range(0, 0, 0, 10), 0..0);
    assert_eq!(visible_range(5, 0, 0, 0), 0..0);
    assert_eq!(visible_range(5, 0, 4, 10), 0..5, "fewer rows than lines");
    assert_eq!(visible_range(100, 0, 9, 10), 0..10);
    assert_eq!(visible_range(100, 0, 10, 10), 1..11, "scrolls by one past the bottom");
    assert_eq!(visible_range(100, 50, 55, 10), 50..60, "no scroll while visible");
    assert_eq!(visible_range(100, 50, 49, 10), 49..59, "scrolls up to the selection");
    assert_eq!(visible_range(100, 95, 99, 10), 90..100, "no blank rows at the end");
    assert_eq!(visible_range(100, 0, 500, 10), 90..100, "selection past the end is clamped");
}

#[test]
fn selection_and_scroll_are_clamped() {
    let mut t = Harness::online(80, 24);
    t.press("6");
    let page = t.app.page_rows();
    assert_eq!(page, 18);
    t.press("k k");
    assert_eq!(t.app.view().selected, 0);
    t.press("pgdn");
    assert_eq!(t.app.view().selected, page);
    assert_eq!(t.app.view().offset, 1);
    t.press("G j j");
    assert_eq!(t.app.view().selected, 39);
    assert_eq!(t.app.view().offset, 40 - page);
    t.press("pgup g g");
    assert_eq!((t.app.view().selected, t.app.view().offset), (0, 0));

    // The queue shrinks under the selection: it is clamped to the new last row.
    t.press("G");
    t.update(whole(QueueName::All, leads(5)));
    assert_eq!(t.app.view().selected, 4);
    assert_eq!(t.app.view().offset, 0);

    // The queue reorders: the same lead stays selected.
    t.press("k");
    let mut reordered = leads(5);
    reordered.reverse();
    t.update(whole(QueueName::All, reordered));
    assert_eq!(t.app.selected_lead().unwrap().id, "c00003");

    // An empty queue has nothing to select and nothing to move.
    t.update(whole(QueueName::All, Vec::new()));
    t.press("j G pgdn k");
    assert_eq!(t.app.view().selected, 0);
    assert!(t.app.selected_lead().is_none());
}

#[test]
fn queues_switch_with_tabs_numbers_and_brackets() {
    let mut t = Harness::online(80, 24);
    assert_eq!(t.app.current_queue(), &QueueName::SpeedToLead);
    t.press("tab");
    assert_eq!(t.app.current_queue(), &QueueName::Hot);
    t.press("shift-tab shift-tab");
    assert_eq!(t.app.screen(), Screen::System, "the System tab is the last");
    t.press("shift-tab");
    assert_eq!(t.app.screen(), Screen::Analytics, "the analytics tab comes before it");
    t.press("shift-tab");
    assert_eq!(t.app.screen(), Screen::FollowUps, "the follow-ups tab comes after the queues");
    t.press("shift-tab");
    assert_eq!((t.app.screen(), t.app.current_queue()), (Screen::Queue, &QueueName::All));
    t.press("] 2 [");
    assert_eq!(t.app.current_queue(), &QueueName::SpeedToLead);
    // Every tab's count arrived with the first load.
    assert_eq!(t.app.queue_total(5), Some(40));
    assert_eq!(t.app.queue_total(3), Some(0));
}

#[test]
fn a_queue_of_another_tab_does_not_replace_the_current_rows() {
    let mut t = Harness::online(80, 24);
    t.press("6");
    t.update(whole(QueueName::Hot, leads(3)));
    assert_eq!(t.app.view().total, 40);
    assert_eq!(t.app.views[1].total, 3);
    t.update(whole(QueueName::Saved("mine".into()), leads(3)));
    assert_eq!(t.app.view().total, 40);
}

// --- Paging: a queue of any length, one window at a time ---

/// The line of the screen that shows `text`.
fn line_of(screen: &str, text: &str) -> Option<usize> {
    screen.lines().position(|l| l.contains(text))
}

#[test]
fn g_reaches_the_last_of_3000_leads() {
    let mut t = Harness::all_leads(80, 24, 3_000);
    t.press("G");
    assert_eq!(t.app.selected_lead().unwrap().id, "c02999");
    let screen = t.screen();
    assert!(screen.contains("3,000 of 3,000"), "{screen}");
    assert!(screen.contains("6 All 3,000"), "{screen}");
    assert!(!screen.contains(queue_table::LOADING), "{screen}");
    assert_screen("queue_end_80x24", t.draw());
    t.press("g g");
    assert_eq!(t.app.selected_lead().unwrap().id, "c00000");
    assert!(t.screen().contains("1 of 3,000"));
}

#[test]
fn page_down_past_row_500_fetches_new_windows_not_one_per_key() {
    let mut t = Harness::all_leads(80, 24, 3_000);
    t.fetched.clear();
    for _ in 0..40 {
        t.press("pgdn");
    }
    assert_eq!(t.app.view().selected, 40 * 18);
    assert_eq!(t.app.selected_lead().unwrap().id, "c00720");
    let screen = t.screen();
    assert!(screen.contains("721 of 3,000"), "{screen}");
    assert!(!screen.contains(queue_table::LOADING), "{screen}");
    // A window holds two pages each side of the screen, so a fetch serves two page-downs.
    assert_eq!(t.fetched.len(), 19, "{:?}", t.fetched);
    assert!(t.fetched.iter().all(|(name, w)| name == &QueueName::All && w.limit == 90));
    assert!(t.fetched.windows(2).all(|w| w[0].1.offset < w[1].1.offset), "each further down");
    assert!(t.fetched.last().unwrap().1.offset > 500);
}

#[test]
fn new_leads_arriving_at_the_top_keep_the_selected_lead_on_its_screen_row() {
    let mut t = Harness::all_leads(80, 24, 3_000);
    t.press("pgdn pgdn pgdn j j");
    let before = t.screen();
    let selected_lead = t.app.selected_lead().unwrap().clone();
    let (selected, row) = (t.app.view().selected, t.app.view().selected - t.app.view().offset);
    assert_eq!((selected, row), (56, 17));

    // Three new leads rank first; the daemon pushes the change.
    let all = t.queues.get_mut(&QueueName::All).unwrap();
    for i in 0..3 {
        all.insert(0, LeadSummary { id: format!("new{i}"), name: format!("Newcomer {i}"), ..lead(0) });
    }
    let ids = vec!["new0".to_owned(), "new1".to_owned(), "new2".to_owned()];
    t.update(Update::DaemonEvent(Event::LeadsChanged { ids }));
    assert!(t.other.contains(&Effect::ScheduleRefresh { after: app::REFRESH_DEBOUNCE }));
    t.update(Update::RefreshDue);

    assert_eq!(t.app.selected_lead().unwrap().id, selected_lead.id, "the same lead is selected");
    assert_eq!(t.app.view().selected, selected + 3, "three rows further down the queue");
    assert_eq!(t.app.view().selected - t.app.view().offset, row, "on the same screen row");
    let after = t.screen();
    assert!(after.contains("60 of 3,003"), "{after}");
    // What the agent sees has not moved: the table's rows are the same, line for line.
    let body = |screen: &str| screen.lines().skip(2).take(20).map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(body(&before), body(&after));
    assert_eq!(line_of(&before, "▶"), line_of(&after, "▶"));
}

#[test]
fn the_selected_lead_leaving_the_queue_leaves_the_selection_on_its_row() {
    let mut t = Harness::all_leads(80, 24, 3_000);
    t.press("pgdn pgdn");
    let gone = t.app.selected_lead().unwrap().id.clone();
    t.queues.get_mut(&QueueName::All).unwrap().retain(|l| l.id != gone);
    t.press("r");
    assert_eq!(t.app.view().selected, 36, "same row");
    assert_eq!(t.app.selected_lead().unwrap().id, "c00037", "the lead that moved up into it");
    assert_eq!(t.app.view().total, 2_999);
}

#[test]
fn the_rows_held_stay_bounded_through_a_3000_lead_queue() {
    let mut t = Harness::all_leads(80, 24, 3_000);
    let bound = window_len(t.app.page_rows());
    assert_eq!(bound, 90);
    let mut presses = 0;
    while t.app.view().selected < 2_999 {
        t.press("pgdn");
        presses += 1;
        assert!(t.app.view().held().len() <= bound);
        assert!(t.app.rows_held() <= 6 * bound, "{} rows held", t.app.rows_held());
    }
    assert_eq!(presses, 167);
    t.press("g g");
    assert!(t.app.view().held().len() <= bound);
    assert!(!t.screen().contains(queue_table::LOADING));
}

/// The benchmark's path: 100 000 leads, a jump to the last, its window answered, a frame.
#[test]
fn a_jump_shows_loading_rows_until_its_window_arrives() {
    let mut all = leads(100_000);
    all[99_999].name = "Zed Lastrow".into();
    let mut app = connected_at_the_top(&all);
    let mut terminal = Terminal::new(TestBackend::new(160, 48)).unwrap();

    let effects = app.handle_action(Action::LastRow);
    let [Effect::FetchQueue { name, window }] = effects.as_slice() else {
        panic!("one fetch: {effects:?}");
    };
    assert_eq!((name, window.offset, window.limit), (&QueueName::SpeedToLead, 99_790, 210));
    assert_eq!(app.handle_action(Action::LastRow), [], "already asked for");
    terminal.draw(|frame| render(&app, frame)).unwrap();
    let screen = terminal.backend().to_string();
    assert!(screen.contains("100,000 of 100,000"), "{screen}");
    assert_eq!(screen.matches(queue_table::LOADING).count(), 42, "{screen}");
    assert!(app.selected_lead().is_none());

    let page = page_of(&all, window.offset, window.limit, window.anchor.as_ref());
    let effects =
        app.apply(Update::QueueLoaded { name: name.clone(), window: window.clone(), page: Box::new(page) });
    assert_eq!(effects, []);
    terminal.draw(|frame| render(&app, frame)).unwrap();
    let screen = terminal.backend().to_string();
    assert!(screen.contains("Zed Lastrow"), "{screen}");
    assert!(!screen.contains(queue_table::LOADING), "{screen}");
    assert_eq!(app.selected_lead().unwrap().id, "c99999");
    assert_eq!(app.rows_held(), 210);
}

#[test]
fn snapshot_loading_rows() {
    let mut app = App::with_page(now(), page_of(&leads(3_000), 0, 90, None));
    let _ = app.resize(80, 24);
    for _ in 0..3 {
        assert_eq!(app.handle_action(Action::PageDown), []);
    }
    // Near the edge of the rows held: the next window is asked for, once.
    assert_eq!(queue_fetches(&app.handle_action(Action::PageDown)).len(), 1);
    assert_eq!(app.handle_action(Action::PageDown), []);
    // Not answered yet: the rows past those held show as loading.
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    terminal.draw(|frame| render(&app, frame)).unwrap();
    assert_screen("queue_loading_80x24", terminal.backend());
}

#[test]
fn the_open_lead_pane_waits_for_a_jumped_to_lead_then_loads_it() {
    let all = leads(100_000);
    let mut app = connected_at_the_top(&all);
    assert_eq!(app.handle_action(Action::OpenDetail), [Effect::FetchLead { id: "c00000".into() }]);
    let effects = app.handle_action(Action::LastRow);
    let [(name, window)] = queue_fetches(&effects)[..] else { panic!("only the window: {effects:?}") };
    let mut terminal = Terminal::new(TestBackend::new(160, 48)).unwrap();
    terminal.draw(|frame| render(&app, frame)).unwrap();
    let screen = terminal.backend().to_string();
    assert!(screen.contains("Loading…") && !screen.contains("No lead selected"), "{screen}");
    let page = page_of(&all, window.offset, window.limit, window.anchor.as_ref());
    let effects =
        app.apply(Update::QueueLoaded { name: name.clone(), window: window.clone(), page: Box::new(page) });
    assert_eq!(effects, [Effect::FetchLead { id: "c99999".into() }]);
}

#[test]
fn a_window_answered_after_the_agent_moved_on_is_dropped() {
    let all = leads(100_000);
    let mut app = connected_at_the_top(&all);
    let answer = |app: &mut App, effects: &[Effect]| {
        let [(name, window)] = queue_fetches(effects)[..] else { panic!("one fetch: {effects:?}") };
        let page = page_of(&all, window.offset, window.limit, window.anchor.as_ref());
        app.apply(Update::QueueLoaded { name: name.clone(), window: window.clone(), page: Box::new(page) })
    };
    let to_end = app.handle_action(Action::LastRow);
    let mut back = Vec::new();
    for _ in 0..100 {
        back.extend(app.handle_action(Action::PageUp));
    }
    assert_eq!(app.view().selected, 99_999 - 4_200);
    let back = back.split_off(back.len() - 1);
    assert_eq!(answer(&mut app, &to_end), [], "stale: dropped");
    assert!(app.view().held().end <= 210, "the old rows are kept: {:?}", app.view().held());
    assert_eq!(answer(&mut app, &back), []);
    assert_eq!(app.selected_lead().unwrap().id, "c95799");
}

#[test]
fn a_failed_window_is_asked_again_on_the_next_move() {
    let all = leads(100_000);
    let mut app = connected_at_the_top(&all);
    let effects = app.handle_action(Action::LastRow);
    let [(name, window)] = queue_fetches(&effects)[..] else { panic!("{effects:?}") };
    let failed =
        Update::QueueFailed { name: name.clone(), window: window.clone(), error: "store busy".into() };
    assert_eq!(app.apply(failed), []);
    assert_eq!(queue_fetches(&app.handle_action(Action::PrevRow)).len(), 1);
}

#[test]
fn a_short_answer_is_not_asked_again_in_a_loop() {
    let all = leads(100_000);
    let mut app = connected_at_the_top(&all);
    let effects = app.handle_action(Action::LastRow);
    let [(name, window)] = queue_fetches(&effects)[..] else { panic!("{effects:?}") };
    // The daemon gives ten rows of the 210 asked for, far from the screen.
    let page =
        QueuePage { total: 100_000, offset: 99_790, rows: all[99_790..99_800].to_vec(), anchor_at: None };
    let effects =
        app.apply(Update::QueueLoaded { name: name.clone(), window: window.clone(), page: Box::new(page) });
    assert_eq!(effects, [], "the same request would get the same answer");
    let mut terminal = Terminal::new(TestBackend::new(160, 48)).unwrap();
    terminal.draw(|frame| render(&app, frame)).unwrap();
    assert!(terminal.backend().to_string().contains(queue_table::LOADING));
    assert_eq!(queue_fetches(&app.handle_action(Action::PrevRow)).len(), 1, "the next move asks again");
}

#[test]
fn tabs_show_exact_counts_from_the_status_and_fit_80_columns() {
    let mut t = Harness::all_leads(160, 48, 3_000);
    let counts =
        [("speed-to-lead", 1_234), ("hot", 312), ("needs-reply", 1_877), ("due", 45), ("dormant", 10_291)];
    let queues = counts
        .iter()
        .map(|(name, total)| QueueCount { name: name.parse().unwrap(), total: *total })
        .collect();
    // The status's `all` count is missing: the tab falls back to the last page's total.
    t.update(Update::StatusLoaded(Box::new(StatusReport { queues, ..status() })));
    let tabs = t.screen().lines().next().unwrap().to_owned();
    for label in [
        "1 Speed-to-lead 1,234",
        "2 Hot 312",
        "3 Needs reply 1,877",
        "4 Due 45",
        "5 Dormant 10,291",
        "6 All 3,000",
    ] {
        assert!(tabs.contains(label), "{label}: {tabs}");
    }

    let mut t = Harness::all_leads(80, 24, 3_000);
    let counts = [
        ("speed-to-lead", 1_234),
        ("hot", 312),
        ("needs-reply", 1_877),
        ("due", 45),
        ("dormant", 10_291),
        ("all", 2_000),
    ];
    let queues = counts
        .iter()
        .map(|(name, total)| QueueCount { name: name.parse().unwrap(), total: *total })
        .collect();
    t.update(Update::StatusLoaded(Box::new(StatusReport { queues, ..status() })));
    let tabs = t.screen().lines().next().unwrap().to_owned();
    assert!(tabs.contains("6 All 3,000"), "the tab shown counts its own page, exactly: {tabs}");
    assert!(tabs.contains("7 F/U 4"), "every tab fits: {tabs}");
    assert!(tabs.contains("1 New 1.2k") && tabs.contains("5 Dormant 10k"), "{tabs}");
}

pub(super) fn mouse(
    kind: ratatui::crossterm::event::MouseEventKind,
    column: u16,
    row: u16,
) -> ratatui::crossterm::event::MouseEvent {
    ratatui::crossterm::event::MouseEvent { kind, column, row, modifiers: KeyModifiers::NONE }
}

#[test]
fn the_wheel_scrolls_the_queue_and_a_click_selects_a_row() {
    use ratatui::crossterm::event::{MouseButton, MouseEventKind};
    let mut t = Harness::all_leads(80, 24, 3_000);
    let wheel = |t: &mut Harness, kind: MouseEventKind, times: usize| {
        for _ in 0..times {
            let effects = t.app.handle_mouse(&mouse(kind, 40, 10));
            t.run(effects);
        }
    };
    wheel(&mut t, MouseEventKind::ScrollDown, 2);
    assert_eq!(t.app.view().selected, 6);
    wheel(&mut t, MouseEventKind::ScrollUp, 1);
    assert_eq!(t.app.view().selected, 3);
    // Far down the queue: windows are fetched as with the keys.
    t.fetched.clear();
    wheel(&mut t, MouseEventKind::ScrollDown, 300);
    assert_eq!(t.app.view().selected, 903);
    assert!((25..=40).contains(&t.fetched.len()), "{} fetches", t.fetched.len());
    assert!(!t.screen().contains(queue_table::LOADING));

    // A click on the sixth lead row (below the tabs, the border and the header) selects it.
    let offset = t.app.view().offset;
    let effects = t.app.handle_mouse(&mouse(MouseEventKind::Down(MouseButton::Left), 20, 3 + 5));
    t.run(effects);
    assert_eq!((t.app.view().selected, t.app.view().offset), (offset + 5, offset));
    // The header, the tabs and the status line are not rows.
    // (A click on the tabs' row shows a tab: see `keys_tests`.)
    for row in [1, 2, 22, 23] {
        assert_eq!(t.app.handle_mouse(&mouse(MouseEventKind::Down(MouseButton::Left), 20, row)), []);
        assert_eq!(t.app.view().selected, offset + 5, "row {row}");
    }
}

#[test]
fn the_mouse_scrolls_the_help_and_leaves_the_prompts_alone() {
    use ratatui::crossterm::event::MouseEventKind;
    let mut t = Harness::online(80, 24);
    t.press("6 ?");
    t.app.handle_mouse(&mouse(MouseEventKind::ScrollDown, 40, 10));
    assert_eq!((t.app.help_scroll(), t.app.view().selected), (1, 0), "the wheel scrolls the help");
    t.press("esc t");
    assert!(t.app.prompt().is_some());
    t.app.handle_mouse(&mouse(MouseEventKind::ScrollDown, 40, 10));
    assert_eq!(t.app.view().selected, 0);
}

#[test]
fn help_is_modal_and_quit_always_works() {
    let mut t = Harness::online(80, 24);
    t.press("? j j");
    assert!(t.app.help_visible());
    assert_eq!(t.app.view().selected, 0, "keys under the overlay are swallowed");
    t.press("esc");
    assert!(!t.app.help_visible());
    t.press("?");
    assert_eq!(t.app.handle_key(&KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE)), [Effect::Quit]);
    assert_eq!(t.app.handle_key(&KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)), [Effect::Quit]);
}

#[test]
fn the_help_overlay_lists_the_live_keymap() {
    let mut t = Harness::online(160, 48);
    t.app.set_keymap(Keymap::defaults().with_overrides([("x", "refresh")]).unwrap());
    t.press("?");
    let screen = t.screen();
    assert!(screen.contains("r, x"), "{screen}");
    assert!(screen.contains("refresh now / retry the daemon"));
}

#[test]
fn detail_follows_the_selection_and_drops_stale_answers() {
    let mut t = Harness::online(160, 48);
    t.press("6 enter");
    assert_eq!(t.app.selected_detail().unwrap().lead.id, "c00000");
    t.press("j");
    assert_eq!(t.app.selected_detail().unwrap().lead.id, "c00001");
    // An answer for a lead no longer selected is ignored.
    t.update(Update::LeadLoaded(Box::new(detail("c00007"))));
    assert_eq!(t.app.selected_detail().unwrap().lead.id, "c00001");
    // Closed: moving asks for nothing.
    t.press("esc");
    assert!(!t.app.detail_open());
    assert!(t.app.handle_action(Action::NextRow).is_empty());
    // Asking twice for the same lead sends one request.
    let mut app = App::with_rows(now(), leads(3));
    app.apply(Update::Connected { welcome: welcome() });
    assert_eq!(app.handle_action(Action::OpenDetail), [Effect::FetchLead { id: "c00000".into() }]);
    assert_eq!(app.handle_action(Action::OpenDetail), []);
}

#[test]
fn pushed_changes_are_debounced_into_one_refresh() {
    let mut t = Harness::online(80, 24);
    t.press("6 enter");
    t.other.clear();
    let changed = |ids: &[&str]| {
        Update::DaemonEvent(Event::LeadsChanged { ids: ids.iter().map(|s| s.to_string()).collect() })
    };
    assert_eq!(t.app.apply(changed(&["c00009"])), [Effect::ScheduleRefresh { after: app::REFRESH_DEBOUNCE }]);
    assert_eq!(t.app.apply(changed(&["c00000"])), [], "already scheduled");
    let effects = t.app.apply(Update::RefreshDue);
    let fetches = queue_fetches(&effects);
    assert_eq!(fetches.len(), 1, "{effects:?}");
    assert_eq!(fetches[0].0, &QueueName::All);
    assert_eq!(
        fetches[0].1.anchor,
        Some(leadline_shared::protocol::QueueAnchor { id: "c00000".into(), before: 0 }),
        "anchored on the selected lead"
    );
    assert!(effects.contains(&Effect::FetchStatus));
    assert!(
        effects.contains(&Effect::FetchLead { id: "c00000".into() }),
        "the open lead changed: {effects:?}"
    );
    // Changes to leads not on screen do not re-fetch the detail.
    t.app.apply(changed(&["c00030"]));
    let effects = t.app.apply(Update::RefreshDue);
    assert!(!effects.iter().any(|e| matches!(e, Effect::FetchLead { .. })), "{effects:?}");
}

#[test]
fn an_event_naming_no_lead_re_reads_the_open_lead_too() {
    let mut t = Harness::online(80, 24);
    t.press("6 enter");
    t.other.clear();
    // A full sync (or a missed burst of events) says only that many leads changed.
    t.app.apply(Update::DaemonEvent(Event::LeadsChanged { ids: Vec::new() }));
    let effects = t.app.apply(Update::RefreshDue);
    assert_eq!(queue_fetches(&effects).len(), 1, "{effects:?}");
    assert!(effects.contains(&Effect::FetchLead { id: "c00000".into() }), "{effects:?}");
    // Once only: the next refresh is back to the leads named.
    t.app.apply(Update::DaemonEvent(Event::LeadsChanged { ids: vec!["c00030".into()] }));
    let effects = t.app.apply(Update::RefreshDue);
    assert!(!effects.iter().any(|e| matches!(e, Effect::FetchLead { .. })), "{effects:?}");
}

#[test]
fn sync_events_update_the_status_bar() {
    let mut t = Harness::online(160, 48);
    // The daemon's sync events carry no op counts (`status` counts the op log): the last
    // status's stay until the status asked for on the change arrives.
    let sync = SyncStatus { state: SyncState::Syncing, pending_ops: 0, ..SyncStatus::default() };
    let effects = t.app.apply(Update::DaemonEvent(Event::Sync { status: sync }));
    assert_eq!(effects, [Effect::FetchStatus], "a step began: the counts are asked for");
    let screen = t.screen();
    assert!(screen.contains("sync syncing"), "{screen}");
    assert!(screen.contains("pending 2"), "{screen}");
}

#[test]
fn refresh_retries_when_offline_and_refetches_when_online() {
    let mut t = Harness::online(80, 24);
    let effects = t.app.handle_action(Action::Refresh);
    assert!(effects.contains(&Effect::FetchStatus));
    t.update(Update::DaemonEvent(Event::ShuttingDown));
    assert!(t.other.ends_with(&[Effect::Disconnect, Effect::Connect]), "{:?}", t.other);
    t.update(Update::ConnectFailed { error: "refused".into(), unreachable: true });
    t.update(Update::DaemonStartFailed { error: "nope".into() });
    assert!(t.screen().contains("Daemon not running"));
    assert_eq!(t.app.handle_action(Action::Refresh), [Effect::Connect]);
    t.update(Update::Connected { welcome: welcome() });
    assert!(!t.screen().contains("Daemon not running"));
}

#[test]
fn request_errors_show_in_the_footer_until_dismissed() {
    let mut t = Harness::online(80, 24);
    t.update(Update::RequestFailed { error: "no lead c99999: it may have been deleted".into() });
    assert!(t.screen().contains("no lead c99999"));
    t.press("esc");
    assert!(!t.screen().contains("no lead c99999"));
}

#[test]
fn requests_are_coalesced() {
    let q = |n: &str, offset: u64| Fetch::Queue {
        name: n.parse().unwrap(),
        window: WindowRequest { offset, limit: 90, anchor: None },
    };
    let l = |id: &str| Fetch::Lead { id: id.into() };
    let batch =
        vec![Fetch::Status, q("hot", 0), l("a"), q("all", 0), q("hot", 90), l("b"), Fetch::Status, l("c")];
    // Only the last window of each queue matters: the dashboard drops answers to earlier ones.
    assert_eq!(coalesce(batch), vec![Fetch::Status, q("all", 0), q("hot", 90), l("c")]);
}

#[test]
fn commands_are_never_coalesced_away() {
    let note = || Fetch::Edit { contact_id: "a".into(), op: OpKind::AddNote { body: "again".into() } };
    let batch =
        vec![note(), Fetch::Status, Fetch::Sync, note(), Fetch::Retry { seq: 3 }, Fetch::Sync, Fetch::Status];
    assert_eq!(
        coalesce(batch),
        vec![note(), Fetch::Status, Fetch::Sync, note(), Fetch::Retry { seq: 3 }, Fetch::Sync]
    );
}

// --- Edits: the prompt, the edit keys and their effects ---

fn press_key(app: &mut App, code: KeyCode) -> Vec<Effect> {
    app.handle_key(&KeyEvent::new(code, KeyModifiers::NONE))
}

fn edits(effects: &[Effect]) -> Vec<&Effect> {
    effects
        .iter()
        .filter(|e| matches!(e, Effect::Edit { .. } | Effect::SyncNow | Effect::Retry { .. }))
        .collect()
}

#[test]
fn the_tag_prompt_swallows_every_key_and_sends_the_tag() {
    let mut t = Harness::online(80, 24);
    t.press("6 j");
    t.press("t");
    let prompt = t.app.prompt().expect("t opens the prompt");
    assert_eq!((prompt.kind, prompt.contact_id.as_str()), (app::PromptKind::AddTag, "c00001"));

    // Keys of the keymap are text while the prompt is open; nothing else moves or quits.
    t.press("q j ? tab r s");
    assert_eq!(press_key(&mut t.app, KeyCode::Char('x')), []);
    assert_eq!(t.app.handle_key(&KeyEvent::new(KeyCode::Char('d'), KeyModifiers::CONTROL)), []);
    assert_eq!(t.app.prompt().unwrap().input.value(), "qj?rsx");
    assert_eq!(t.app.view().selected, 1);
    assert!(!t.app.help_visible());
    assert_eq!(t.app.current_queue(), &QueueName::All);
    assert_eq!(t.app.handle_action(Action::Quit), [], "actions wait while the prompt is open");

    t.press("home delete delete delete delete delete delete");
    t.press("V I P");
    assert_eq!(t.app.prompt().unwrap().input.value(), "VIP");
    let effects = press_key(&mut t.app, KeyCode::Enter);
    assert_eq!(
        effects,
        [Effect::Edit { contact_id: "c00001".into(), op: OpKind::AddTag { tag: "VIP".into() } }]
    );
    assert!(t.app.prompt().is_none());
    assert_eq!(t.app.flash().unwrap().text, "Saving tag 'VIP'…");
}

#[test]
fn notes_and_tag_removal_send_their_ops_trimmed() {
    let mut t = Harness::online(80, 24);
    t.press("6");
    t.press("n space C a l l e d space b a c k space");
    assert_eq!(t.app.prompt().unwrap().kind, app::PromptKind::AddNote);
    assert_eq!(
        press_key(&mut t.app, KeyCode::Enter),
        [Effect::Edit { contact_id: "c00000".into(), op: OpKind::AddNote { body: "Called back".into() } }]
    );
    t.press("T");
    let prompt = t.app.prompt().unwrap();
    assert_eq!(prompt.kind, app::PromptKind::RemoveTag);
    assert_eq!(prompt.tags, ["pre-approved", "first-time buyer"], "shown as a reminder");
    t.press("V I P");
    assert_eq!(
        press_key(&mut t.app, KeyCode::Enter),
        [Effect::Edit { contact_id: "c00000".into(), op: OpKind::RemoveTag { tag: "VIP".into() } }]
    );
}

#[test]
fn blank_or_cancelled_input_sends_nothing() {
    let mut t = Harness::online(80, 24);
    t.press("6 t space space");
    assert_eq!(press_key(&mut t.app, KeyCode::Enter), [], "blank is not sent");
    assert!(t.app.prompt().is_none());
    t.press("n a b c");
    assert_eq!(press_key(&mut t.app, KeyCode::Esc), []);
    assert!(t.app.prompt().is_none(), "esc cancels");
    t.press("t x");
    assert_eq!(t.app.handle_key(&KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)), []);
    assert!(t.app.prompt().is_none(), "ctrl-c cancels the prompt, it does not quit");
    assert!(edits(&t.other).is_empty(), "{:?}", t.other);
}

#[test]
fn edits_need_a_lead_and_the_daemon() {
    let mut t = Harness::online(80, 24);
    t.press("4 t");
    assert!(t.app.prompt().is_none());
    assert_eq!(t.app.flash().unwrap().text, "No lead selected.");
    assert_eq!(t.app.flash().unwrap().kind, app::FlashKind::Error);

    let mut t = Harness::online(80, 24);
    t.press("6");
    t.update(Update::Disconnected { error: "gone".into() });
    t.press("n");
    assert!(t.app.prompt().is_none(), "offline, the typing would be lost");
    assert!(t.app.flash().unwrap().text.contains("Not connected"));
    assert_eq!(t.app.handle_action(Action::SyncNow), []);
    assert_eq!(t.app.handle_action(Action::RetryEdits), []);
}

#[test]
fn an_accepted_edit_flashes_and_refetches_the_queue_and_the_lead() {
    let mut t = Harness::online(160, 48);
    t.press("6 enter t V I P enter");
    let accepted = Update::EditAccepted {
        contact_id: "c00000".into(),
        op: OpKind::AddTag { tag: "VIP".into() },
        seq: 12,
    };
    let effects = t.app.apply(accepted);
    assert!(effects.contains(&Effect::FetchStatus), "{effects:?}");
    assert_eq!(queue_fetches(&effects).iter().map(|(name, _)| *name).collect::<Vec<_>>(), [&QueueName::All]);
    assert!(effects.contains(&Effect::FetchLead { id: "c00000".into() }));
    let flash = t.app.flash().unwrap();
    assert_eq!(flash.text, "Saved: tag 'VIP' (edit #12, goes to GHL with the next sync)");
    assert_eq!(flash.kind, app::FlashKind::Success);
    let screen = t.screen();
    assert!(screen.contains("✓ Saved: tag 'VIP' (edit #12, goes to GHL with the next sync)"), "{screen}");

    // The confirmation goes away by itself.
    let later = Timestamp::from_second(now().as_second() + 9).unwrap();
    t.update(Update::Tick { now: later });
    assert!(t.app.flash().is_none());
}

#[test]
fn an_edit_on_a_closed_lead_drops_its_stale_detail() {
    let mut t = Harness::online(80, 24);
    t.press("6 enter esc");
    assert!(t.app.selected_detail().is_some());
    let effects = t.app.apply(Update::EditAccepted {
        contact_id: "c00000".into(),
        op: OpKind::AddNote { body: "hi".into() },
        seq: 3,
    });
    assert!(!effects.iter().any(|e| matches!(e, Effect::FetchLead { .. })), "{effects:?}");
    assert!(t.app.selected_detail().is_none(), "reopening the pane fetches it fresh");
    assert_eq!(t.app.handle_action(Action::OpenDetail), [Effect::FetchLead { id: "c00000".into() }]);
}

#[test]
fn a_refused_edit_shows_the_error_in_red_until_dismissed() {
    let mut t = Harness::online(80, 24);
    t.update(Update::EditFailed {
        contact_id: "c00000".into(),
        op: OpKind::AddTag { tag: "VIP".into() },
        error: "tag names may not be empty".into(),
    });
    let flash = t.app.flash().unwrap();
    assert_eq!(flash.kind, app::FlashKind::Error);
    assert_eq!(flash.text, "Not saved: tag 'VIP': tag names may not be empty");
    let far_later = Timestamp::from_second(now().as_second() + 3_600).unwrap();
    t.update(Update::Tick { now: far_later });
    assert!(t.app.flash().is_some(), "errors stay");
    let red =
        t.draw().buffer().content().iter().any(|c| c.symbol() == "✕" && c.fg == ratatui::style::Color::Red);
    assert!(red, "the error is red");
    t.press("esc");
    assert!(t.app.flash().is_none());
}

#[test]
fn s_asks_for_a_sync_and_shows_the_answer() {
    let mut t = Harness::online(80, 24);
    assert_eq!(t.app.handle_action(Action::SyncNow), [Effect::SyncNow]);
    let syncing = SyncStatus { state: SyncState::Syncing, pending_ops: 3, ..SyncStatus::default() };
    t.update(Update::SyncStarted(Box::new(syncing.clone())));
    assert_eq!(t.app.flash().unwrap().text, "Sync started.");
    assert_eq!(t.app.status.as_ref().unwrap().sync, syncing);
    t.update(Update::SyncFailed { error: "GHL is not configured".into() });
    assert_eq!(t.app.flash().unwrap().text, "Could not start a sync: GHL is not configured");
    assert_eq!(t.app.flash().unwrap().kind, app::FlashKind::Error);
}

#[test]
fn r_retries_only_the_failed_and_out_of_sync_edits() {
    let mut t = Harness::online(160, 48);
    t.press("6 enter");
    t.update(Update::LeadLoaded(Box::new(detail_with_edits("c00000"))));
    assert_eq!(
        t.app.handle_action(Action::RetryEdits),
        [Effect::Retry { seq: 9 }, Effect::Retry { seq: 12 }]
    );
    assert_eq!(t.app.flash().unwrap().text, "Retrying 2 failed edit(s) of Maria Gonzalez…");
    let effects = t.app.apply(Update::RetryAccepted { seq: 9 });
    assert!(effects.contains(&Effect::FetchLead { id: "c00000".into() }), "{effects:?}");
    assert_eq!(t.app.flash().unwrap().text, "Edit #9 will be retried with the next sync.");
    t.update(Update::RetryFailed { seq: 12, error: "no pending op 12".into() });
    assert_eq!(t.app.flash().unwrap().text, "Could not retry edit #12: no pending op 12");

    // Nothing failed: nothing is sent.
    t.update(Update::LeadLoaded(Box::new(detail("c00000"))));
    assert_eq!(t.app.handle_action(Action::RetryEdits), []);
    assert_eq!(t.app.flash().unwrap().text, "Nothing to retry: Maria Gonzalez has no failed edits.");
}

#[test]
fn r_before_the_edits_are_loaded_loads_them_then_retries() {
    let mut app = App::with_rows(now(), leads(3));
    app.resize(80, 24);
    app.apply(Update::Connected { welcome: welcome() });
    assert_eq!(app.handle_action(Action::RetryEdits), [Effect::FetchLead { id: "c00000".into() }]);
    assert!(app.detail_open(), "the pane opens to show them");
    assert_eq!(
        app.apply(Update::LeadLoaded(Box::new(detail_with_edits("c00000")))),
        [Effect::Retry { seq: 9 }, Effect::Retry { seq: 12 }]
    );
    // Once only: a later load of the same lead does not retry again.
    assert_eq!(app.apply(Update::LeadLoaded(Box::new(detail_with_edits("c00000")))), []);

    // Moving on before the load arrives forgets the retry.
    app.handle_action(Action::NextRow);
    app.handle_action(Action::Close);
    app.handle_action(Action::RetryEdits);
    app.handle_action(Action::PrevRow);
    app.handle_action(Action::NextRow);
    assert!(app.apply(Update::LeadLoaded(Box::new(detail_with_edits("c00001")))).is_empty());
}

#[test]
fn the_detail_pane_lists_pending_and_failed_edits_with_their_reasons() {
    let mut t = Harness::online(160, 48);
    t.press("6 enter");
    t.update(Update::LeadLoaded(Box::new(detail_with_edits("c00000"))));
    let screen = t.screen();
    for want in [
        "Edits not yet in GHL (2 failed, 1 waiting)",
        "#12 tag 'VIP' — failed",
        "GHL refused the request (422)",
        "#9 deal 'Elm St purchase' marked won — out of sync",
        "(2 attempts)",
        "#13 note \"Called back, wants the Saturday 2pm s",
        "— waiting for GHL",
        "R to retry the failed edits",
    ] {
        assert!(screen.contains(want), "{want:?} missing:\n{screen}");
    }
    // Failed edits are red, waiting ones dim.
    let buffer = t.draw().buffer().clone();
    let color_of = |needle: &str| {
        let width = usize::from(buffer.area.width);
        let cells = buffer.content();
        (0..cells.len()).find_map(|i| {
            let row_start = i - i % width;
            let text: String =
                cells[i..(row_start + width).min(cells.len())].iter().map(|c| c.symbol()).collect();
            text.starts_with(needle).then(|| cells[i].fg)
        })
    };
    assert_eq!(color_of("#12 tag"), Some(ratatui::style::Color::Red));
    assert_eq!(color_of("#13 note"), Some(ratatui::style::Color::DarkGray));
}

#[test]
fn the_status_bar_shows_sync_progress_and_errors() {
    let mut t = Harness::online(160, 48);
    let sync = |state: SyncState, progress: Option<&str>, error: Option<&str>| {
        Update::DaemonEvent(Event::Sync {
            status: SyncStatus {
                state,
                progress: progress.map(str::to_owned),
                last_error: error.map(str::to_owned),
                last_success: Some(ago(95)),
                ..SyncStatus::default()
            },
        })
    };
    // The status fetches these events ask for are left unanswered: the fake daemon's status
    // is always idle.
    let _ = t.app.apply(sync(SyncState::Syncing, Some("contacts: page 3, 300 so far"), None));
    let screen = t.screen();
    assert!(screen.contains("sync syncing · contacts: page 3, 300 so far"), "{screen}");
    let _ = t.app.apply(sync(SyncState::Offline, None, Some("GHL unreachable: connection timed out")));
    let screen = t.screen();
    assert!(screen.contains("sync offline · ok 1m ago · GHL unreachable: connection timed out"), "{screen}");
    let _ = t.app.apply(sync(SyncState::Error, None, Some("GHL said 401: the token was revoked")));
    assert!(t.screen().contains("GHL said 401: the token was revoked"));
    let _ = t.app.apply(sync(SyncState::Idle, Some("stale progress"), Some("an old error")));
    let screen = t.screen();
    assert!(!screen.contains("stale progress") && !screen.contains("an old error"), "{screen}");

    // At 80 columns a long error is cut, and the segment still shows.
    let mut t = Harness::online(80, 24);
    let _ = t.app.apply(sync(SyncState::Error, None, Some(&"very long error ".repeat(10))));
    let screen = t.screen();
    assert!(screen.contains("sync error · ok 1m ago · very long error"), "{screen}");
}

#[test]
fn the_edit_keys_are_in_the_help_and_the_footer() {
    let mut t = Harness::online(160, 48);
    t.press("?");
    let screen = t.screen();
    for want in [
        "t  add a tag to the lead",
        "T  remove a tag from the lead",
        "n  add a note to the lead",
        "R  retry the lead's failed edits",
        "s  sync with GHL now",
    ] {
        assert!(screen.contains(want), "{want:?} missing:\n{screen}");
    }
    let mut t = Harness::online(80, 24);
    let footer = t.screen().lines().last().unwrap().to_owned();
    // At 80 columns refresh, the queue keys and sync-now give way to compose and search.
    for want in ["j/k move", "enter detail", "c compose", "/ search", "t tag", "n note", "? help", "q quit"] {
        assert!(footer.contains(want), "{want:?} missing from {footer:?}");
    }
    let footer = Harness::online(160, 48).screen().lines().last().unwrap().to_owned();
    for want in ["s sync", "r refresh", "tab queue"] {
        assert!(footer.contains(want), "wide enough for every hint: {footer:?}");
    }
}

#[test]
fn snapshot_tag_prompt() {
    for (w, h) in SIZES {
        let mut t = Harness::online(w, h);
        t.press("6 j enter t V I P");
        assert_screen(&format!("tag_prompt_{w}x{h}"), t.draw());
    }
}

#[test]
fn snapshot_failed_edit() {
    for (w, h) in SIZES {
        let mut t = Harness::online(w, h);
        t.press("3 j enter");
        t.update(Update::LeadLoaded(Box::new(detail_with_edits("c00006"))));
        let sync = SyncStatus {
            state: SyncState::Error,
            last_success: Some(ago(900)),
            pending_ops: 3,
            failed_ops: 2,
            last_error: Some("GHL said 429: rate limited, next try in 40s".into()),
            ..SyncStatus::default()
        };
        // The event moves the state; the status it asks for brings the op counts.
        let asked = t.app.apply(Update::DaemonEvent(Event::Sync { status: sync.clone() }));
        assert_eq!(asked, [Effect::FetchStatus]);
        t.update(Update::StatusLoaded(Box::new(StatusReport { sync, ..status() })));
        assert_screen(&format!("failed_edit_{w}x{h}"), t.draw());
    }
}

// --- The follow-ups screen ---

fn followup_effects(effects: &[Effect]) -> Vec<&Effect> {
    effects.iter().filter(|e| matches!(e, Effect::FollowUp { .. })).collect()
}

#[test]
fn the_follow_ups_screen_sorts_the_approval_queue_first() {
    let mut t = Harness::online(160, 48);
    t.press("7");
    assert_eq!(t.app.screen(), Screen::FollowUps);
    let states: Vec<ItemState> = t.app.followups().rows.iter().map(|r| r.item().state).collect();
    use ItemState::*;
    assert_eq!(
        states,
        [
            AwaitingApproval,
            AwaitingApproval,
            Queued,
            Scheduled,
            Scheduled,
            Uncertain,
            Failed,
            Sent,
            Skipped,
            Cancelled
        ]
    );
    // Within a part: soonest first while still to happen, newest first once it happened.
    assert_eq!(t.app.followups().rows[0].item().contact_id, "c00001", "the overdue one first");
    assert_eq!(
        t.app.followups().rows[5].item().contact_id,
        "c00006",
        "uncertain 20m ago before failed 2h ago"
    );
    let counts = t.app.followups().counts;
    assert_eq!(
        (counts.approval, counts.failed, counts.uncertain, counts.planned, counts.recent),
        (2, 1, 1, 3, 3)
    );
    assert_eq!(t.app.followups().count_label().as_deref(), Some("4"), "what needs the agent");

    // `f` and the tab keys reach it too, and leave it.
    t.press("1");
    assert_eq!(t.app.screen(), Screen::Queue);
    t.press("f");
    assert_eq!(t.app.screen(), Screen::FollowUps);
    t.press("tab");
    assert_eq!(t.app.screen(), Screen::Analytics, "analytics is the tab after the follow-ups");
    t.press("tab");
    assert_eq!(t.app.screen(), Screen::System, "the System screen is the tab after analytics");
    t.press("tab");
    assert_eq!((t.app.screen(), t.app.current_queue()), (Screen::Queue, &QueueName::SpeedToLead));
}

#[test]
fn the_follow_ups_screen_shows_times_in_the_leads_zone() {
    let mut t = Harness::online(160, 48);
    t.press("7");
    let screen = t.screen();
    for want in [
        "to approve Maria Gonzalez",
        "sms nurture_day3",
        // 17:00 UTC in New York.
        "Mon 13:00 EDT · in 2h",
        // The send quiet hours held back, in Denver's time.
        "until Tue 08:00 MDT · in 23h",
        "uncertain  Emily Kowalski",
        "Mon 08:40 MDT · 20m ago",
        "Follow-ups: 2 to approve · 1 failed · 1 uncertain · 3 planned · 3 lately",
        "1 of 10",
        "7 Follow-ups 4",
    ] {
        assert!(screen.contains(want), "{want:?} missing:\n{screen}");
    }
}

#[test]
fn the_pane_shows_the_reason_the_text_and_the_keys() {
    let mut t = Harness::online(160, 48);
    t.press("7 j");
    let screen = t.screen();
    for want in [
        "Why      the nurture workflow asks for your approval",
        "Text     the template's, written when it goes",
        "Keys     a approve · e edit · x skip · p pause lead · P resume",
        "nurture · c00000/nurture/3",
        "(America/New_York)",
    ] {
        assert!(screen.contains(want), "{want:?} missing:\n{screen}");
    }
    // The held-back send says when it was due.
    t.press("j j");
    assert_eq!(t.app.followups().selected_row().unwrap().item().contact_id, "c00002");
    assert!(t.screen().contains("held back; it was due Mon 22:00 MDT"), "{}", t.screen());
    // Enter hides the pane and brings it back.
    t.press("enter");
    assert!(!t.app.followups().pane_open);
    assert!(!t.screen().contains("held back"));
    t.press("enter");
    assert!(t.app.followups().pane_open);
}

#[test]
fn approve_skip_and_pause_send_their_commands() {
    let mut t = Harness::online(80, 24);
    t.press("7 j");
    let effects = t.app.handle_action(Action::ApproveFollowUp);
    let what = "sms nurture_day3 for Maria Gonzalez".to_owned();
    assert_eq!(
        effects,
        [Effect::FollowUp {
            contact_id: "c00000".into(),
            command: FollowUpCommand::Approve { id: "c00000/nurture/3".into(), body: None },
            what: what.clone(),
        }]
    );
    assert_eq!(t.app.flash().unwrap().text, "Approving sms nurture_day3 for Maria Gonzalez…");
    assert_eq!(
        t.app.handle_action(Action::SkipFollowUp),
        [Effect::FollowUp {
            contact_id: "c00000".into(),
            command: FollowUpCommand::Skip { id: "c00000/nurture/3".into() },
            what: what.clone(),
        }]
    );
    assert_eq!(
        t.app.handle_action(Action::PauseLead),
        [Effect::FollowUp {
            contact_id: "c00000".into(),
            command: FollowUpCommand::Pause,
            what: "Maria Gonzalez".into()
        }]
    );
    assert_eq!(
        t.app.handle_action(Action::ResumeLead),
        [Effect::FollowUp {
            contact_id: "c00000".into(),
            command: FollowUpCommand::Resume,
            what: "Maria Gonzalez".into()
        }]
    );

    // Done: said in green, and the list, the status and the queue are fetched again.
    let effects = t.app.apply(Update::FollowUpDone {
        contact_id: "c00000".into(),
        command: FollowUpCommand::Approve { id: "c00000/nurture/3".into(), body: None },
        what: what.clone(),
    });
    assert!(effects.contains(&Effect::FetchFollowUps), "{effects:?}");
    assert!(effects.contains(&Effect::FetchStatus), "{effects:?}");
    assert_eq!(t.app.flash().unwrap().text, "Approved: sms nurture_day3 for Maria Gonzalez.");
    assert_eq!(t.app.flash().unwrap().kind, app::FlashKind::Success);

    // Pause works from a queue too, on the selected lead.
    t.press("6 j");
    assert_eq!(
        t.app.handle_action(Action::PauseLead),
        [Effect::FollowUp {
            contact_id: "c00001".into(),
            command: FollowUpCommand::Pause,
            what: "James Whitaker".into()
        }]
    );
}

#[test]
fn a_key_on_the_wrong_row_says_why_and_sends_nothing() {
    let mut t = Harness::online(80, 24);
    t.press("7 j j");
    assert_eq!(t.app.followups().selected_row().unwrap().item().state, ItemState::Queued);
    for (action, want) in [
        (
            Action::ApproveFollowUp,
            "Only an action waiting for approval can be approved; sms instant_response for Linh Brennan is queued.",
        ),
        (
            Action::EditFollowUp,
            "Only an action waiting for approval can be approved; sms instant_response for Linh Brennan is queued.",
        ),
        (
            Action::SkipFollowUp,
            "Only a planned action can be skipped; sms instant_response for Linh Brennan is queued.",
        ),
        (
            Action::SendAgain,
            "Only an uncertain send can be sent again; sms instant_response for Linh Brennan is queued.",
        ),
    ] {
        assert_eq!(t.app.handle_action(action), [], "{action}");
        assert_eq!(t.app.flash().unwrap().text, want);
        assert_eq!(t.app.flash().unwrap().kind, app::FlashKind::Error);
    }
    // A tag has no text to edit.
    t.press("j j");
    assert_eq!(t.app.followups().selected_row().unwrap().action, "tag + Nurture");
    t.app.followups.rows[4].view.item.state = ItemState::AwaitingApproval;
    assert_eq!(t.app.handle_action(Action::EditFollowUp), []);
    assert_eq!(
        t.app.flash().unwrap().text,
        "Only a message has a text to edit; approve tag + Nurture for Robert Nguyen as it is (press a)."
    );
    // On a queue, the follow-up keys point at the screen; tags and notes do the reverse.
    t.press("6 a");
    assert_eq!(
        t.app.flash().unwrap().text,
        "That key acts on a follow-up: open the follow-ups screen (press 7)."
    );
    t.press("7 t");
    assert!(t.app.prompt().is_none());
    assert!(t.app.flash().unwrap().text.starts_with("Tags, notes and edit retries act on a lead of a queue"));
    // Offline, nothing is sent.
    t.press("g g");
    t.update(Update::Disconnected { error: "gone".into() });
    assert_eq!(t.app.handle_action(Action::ApproveFollowUp), []);
    assert_eq!(t.app.flash().unwrap().text, "Not connected to the daemon: follow-ups need it running.");
    assert!(followup_effects(&t.other).is_empty(), "{:?}", t.other);
}

#[test]
fn edit_opens_the_prompt_with_the_text_and_approves_with_it() {
    let mut t = Harness::online(80, 24);
    // The text is known: the prompt starts with it, on one line.
    t.followups[3].item.body = Some("Hi Maria,\nany news on the move?".into());
    t.update(Update::FollowUpsLoaded(t.followups.clone()));
    t.press("7 j e");
    let prompt = t.app.prompt().expect("e opens the prompt");
    assert_eq!(prompt.kind, app::PromptKind::EditFollowUp);
    assert_eq!(prompt.input.value(), "Hi Maria, any news on the move?");
    t.press("backspace backspace backspace backspace backspace");
    t.press("t o u r ?");
    let effects = press_key(&mut t.app, KeyCode::Enter);
    assert_eq!(
        effects,
        [Effect::FollowUp {
            contact_id: "c00000".into(),
            command: FollowUpCommand::Approve {
                id: "c00000/nurture/3".into(),
                body: Some("Hi Maria, any news on the tour?".into()),
            },
            what: "sms nurture_day3 for Maria Gonzalez".into(),
        }]
    );
    assert_eq!(t.app.flash().unwrap().text, "Approving sms nurture_day3 for Maria Gonzalez with your text…");

    // Not known: the prompt starts empty; blank sends nothing.
    t.press("g g e");
    assert_eq!(t.app.prompt().unwrap().input.value(), "");
    assert_eq!(press_key(&mut t.app, KeyCode::Enter), []);
}

#[test]
fn a_refused_edit_shows_the_daemons_reason_in_the_footer() {
    let mut t = Harness::online(80, 24);
    t.press("7 j");
    let error = "the text is 412 characters; an SMS here may be at most 320: shorten it".to_owned();
    let effects = t.app.apply(Update::FollowUpFailed {
        contact_id: "c00000".into(),
        command: FollowUpCommand::Approve { id: "c00000/nurture/3".into(), body: Some("long".into()) },
        what: "sms nurture_day3 for Maria Gonzalez".into(),
        error: error.clone(),
    });
    assert!(effects.contains(&Effect::FetchFollowUps), "the action may have moved on: {effects:?}");
    let flash = t.app.flash().unwrap();
    assert_eq!(flash.kind, app::FlashKind::Error);
    assert_eq!(flash.text, format!("Not approved: sms nurture_day3 for Maria Gonzalez: {error}"));
    let footer = t.screen().lines().last().unwrap().to_owned();
    assert!(footer.contains("Not approved: sms nurture_day3"), "{footer}");
    // Esc dismisses the message first; the pane stays.
    t.press("esc");
    assert!(t.app.flash().is_none());
    assert!(t.app.followups().pane_open);
}

#[test]
fn send_again_retries_the_op_of_an_uncertain_send() {
    let mut t = Harness::online(80, 24);
    t.press("7");
    t.press("j j j j j");
    assert_eq!(t.app.followups().selected_row().unwrap().item().state, ItemState::Uncertain);
    let what = "sms nurture_day1 for Emily Kowalski".to_owned();
    assert_eq!(
        t.app.handle_action(Action::SendAgain),
        [Effect::FollowUp {
            contact_id: "c00006".into(),
            command: FollowUpCommand::SendAgain { id: "c00006/nurture/1".into(), seq: 17 },
            what: what.clone(),
        }]
    );
    t.update(Update::FollowUpDone {
        contact_id: "c00006".into(),
        command: FollowUpCommand::SendAgain { id: "c00006/nurture/1".into(), seq: 17 },
        what,
    });
    assert_eq!(
        t.app.flash().unwrap().text,
        "Sending again with the next sync: sms nurture_day1 for Emily Kowalski."
    );

    // Without its op's number it cannot, and says where to look.
    t.followups[1].item.op_seq = None;
    t.update(Update::FollowUpsLoaded(t.followups.clone()));
    assert_eq!(t.app.handle_action(Action::SendAgain), []);
    assert!(t.app.flash().unwrap().text.contains("`leadline retry SEQ`"), "{:?}", t.app.flash());
}

#[test]
fn the_selection_follows_the_action_when_the_list_reloads() {
    let mut t = Harness::online(80, 24);
    t.press("7 j j j");
    let id = t.app.followups().selected_row().unwrap().item().id.clone();
    let mut fewer = followup_views();
    fewer.retain(|v| v.item.state != ItemState::AwaitingApproval);
    t.update(Update::FollowUpsLoaded(fewer));
    assert_eq!(t.app.followups().selected_row().unwrap().item().id, id);
    t.update(Update::FollowUpsLoaded(Vec::new()));
    assert!(t.app.followups().selected_row().is_none());
    t.press("j G k");
    assert_eq!(t.app.followups().selected, 0);
}

#[test]
fn the_follow_ups_refresh_on_pushed_changes_only_while_shown() {
    let mut t = Harness::online(80, 24);
    let changed = Update::DaemonEvent(Event::LeadsChanged { ids: vec!["c00000".into()] });
    t.update(changed.clone());
    let effects = t.app.apply(Update::RefreshDue);
    assert!(!effects.contains(&Effect::FetchFollowUps), "not on screen: {effects:?}");
    t.press("7");
    t.update(changed);
    assert_eq!(t.app.apply(Update::RefreshDue), [Effect::FetchFollowUps, Effect::FetchStatus]);
    assert_eq!(t.app.handle_action(Action::Refresh), [Effect::FetchStatus, Effect::FetchFollowUps]);
}

#[test]
fn the_due_queue_shows_when_each_follow_up_is_due() {
    let mut t = Harness::online(160, 48);
    t.press("4");
    let due: Vec<LeadSummary> = leads(40).into_iter().filter(|l| l.next_followup_at.is_some()).collect();
    t.update(whole(QueueName::Due, due));
    let screen = t.screen();
    assert!(screen.contains("Follow-up"), "{screen}");
    assert!(screen.contains("in 2h"), "{screen}");
    assert!(!screen.contains("Last activity"), "{screen}");
}

#[test]
fn the_lead_pane_lists_its_follow_ups_briefly() {
    let mut t = Harness::online(160, 48);
    t.press("6 enter");
    let mut d = detail("c00000");
    let mut record = FollowUps::new("c00000");
    record.paused = Some(Pause { at: ago(60), reason: "paused by the agent".into() });
    record.items = followup_views()
        .into_iter()
        .map(|v| FollowUpItem { contact_id: "c00000".into(), ..v.item })
        .collect();
    d.followups = Some(record);
    t.update(Update::LeadLoaded(Box::new(d)));
    let screen = t.screen();
    for want in [
        "Follow-ups (5 upcoming, 5 past)",
        "paused by the agent; P resumes",
        "to approve email listing_alert",
        "6 more: `leadline lead c00000` lists them",
    ] {
        assert!(screen.contains(want), "{want:?} missing:\n{screen}");
    }
}

#[test]
fn the_follow_up_keys_are_in_the_help_and_the_footer() {
    let mut t = Harness::online(160, 48);
    t.press("?");
    let screen = t.screen();
    for want in [
        "7, f, g f  follow-ups screen",
        "a  approve the follow-up",
        "e  edit its text, then approve",
        "x  skip the follow-up",
        "A  send an uncertain message again",
        "p  pause the lead's follow-ups",
        "P  resume the lead's follow-ups",
    ] {
        assert!(screen.contains(want), "{want:?} missing:\n{screen}");
    }
    let mut t = Harness::online(80, 24);
    t.press("7");
    let footer = t.screen().lines().last().unwrap().to_owned();
    for want in ["a approve", "e edit", "x skip", "A send again", "? help", "q quit"] {
        assert!(footer.contains(want), "{want:?} missing from {footer:?}");
    }
}

#[test]
fn the_help_scrolls_when_taller_than_the_terminal() {
    let mut t = Harness::online(80, 24);
    t.press("?");
    assert!(t.screen().contains("↓ more: j/k"), "{}", t.screen());
    assert!(!t.screen().contains("closes this help"));
    t.press("G");
    let screen = t.screen();
    assert!(screen.contains("closes this help"), "{screen}");
    assert!(screen.contains("↑ more: j/k"), "{screen}");
    t.press("g g k");
    assert_eq!(t.app.help_scroll(), 0);
    // It all fits at 160×48: nothing to scroll.
    let mut t = Harness::online(160, 48);
    t.press("? j j");
    assert_eq!(t.app.help_scroll(), 0);
    assert!(!t.screen().contains("more: j/k"));
}

#[test]
fn renders_only_the_visible_window_of_many_follow_ups() {
    let views: Vec<FollowUpView> = (0..20_000)
        .map(|i| followup(i % 40, i as u32, sms("nurture_day3"), ItemState::Scheduled, i as i64 * 60))
        .collect();
    let mut app = App::with_followups(now(), views);
    app.resize(160, 48);
    app.handle_action(Action::LastRow);
    let areas = layout(ratatui::layout::Rect::new(0, 0, 160, 48), &app);
    let window = components::followups::window(&app, areas.table.unwrap());
    assert_eq!(window.end, 20_000);
    assert_eq!(window.len(), usize::from(areas.table_rows));
    let mut terminal = Terminal::new(TestBackend::new(160, 48)).unwrap();
    terminal.draw(|frame| render(&app, frame)).unwrap();
    assert!(terminal.backend().to_string().contains("20,000 of 20,000"));
}

#[test]
fn the_follow_ups_screen_shows_the_offline_state() {
    let mut t = Harness::online(80, 24);
    t.press("7");
    t.update(Update::Disconnected { error: "the daemon closed the connection".into() });
    t.update(Update::ConnectFailed { error: "no daemon answers".into(), unreachable: true });
    let screen = t.screen();
    assert!(screen.contains("Daemon not running; "), "{screen}");
    assert!(screen.contains("Maria Gonzalez"), "the last list stays on screen: {screen}");
    assert_eq!(t.app.handle_action(Action::Refresh), [], "the daemon is starting");
    // Never loaded: it says it waits for the daemon.
    let mut t = Harness::new(80, 24);
    t.press("7");
    t.update(Update::ConnectFailed { error: "no daemon answers".into(), unreachable: true });
    assert!(t.screen().contains("Waiting for the daemon…"), "{}", t.screen());
}

#[test]
fn snapshot_followups() {
    for (w, h) in SIZES {
        let mut t = Harness::online(w, h);
        t.press("7 j");
        assert_screen(&format!("followups_{w}x{h}"), t.draw());
    }
}

#[test]
fn snapshot_followups_uncertain() {
    for (w, h) in SIZES {
        let mut t = Harness::online(w, h);
        t.press("7 j j j j j");
        assert_eq!(t.app.followups().selected_row().unwrap().item().state, ItemState::Uncertain);
        assert_screen(&format!("followups_uncertain_{w}x{h}"), t.draw());
    }
}

#[test]
fn snapshot_followups_empty() {
    for (w, h) in SIZES {
        let mut t = Harness::online(w, h);
        t.followups.clear();
        t.press("7");
        assert_screen(&format!("followups_empty_{w}x{h}"), t.draw());
    }
}

#[test]
fn snapshot_followup_edit_prompt() {
    for (w, h) in SIZES {
        let mut t = Harness::online(w, h);
        t.press("7 j e");
        t.press("H i space { { f i r s t _ n a m e } } ,");
        assert_screen(&format!("followup_edit_{w}x{h}"), t.draw());
    }
}

/// The analytics a fake daemon answers: a location of a few hundred leads, the same figures
/// for every range but the range itself (the screen draws what it is given).
pub(super) fn analytics_report(range: AnalyticsRange) -> AnalyticsReport {
    use leadline_shared::protocol::{
        AgentRow, CallFigures, CohortRow, FollowUpStepRow, ForecastStage, FunnelStage, SourceRow, SpeedToLead,
    };
    let counts = [412u64, 371, 118, 64, 19];
    let names = ["new", "contacted", "qualified", "appointment", "won"];
    let funnel = names
        .iter()
        .enumerate()
        .map(|(i, n)| FunnelStage {
            stage: (*n).into(),
            count: counts[i],
            conversion: (i > 0).then(|| counts[i] as f64 / counts[i - 1] as f64),
            of_new: Some(counts[i] as f64 / counts[0] as f64),
        })
        .collect();
    let source = |name: &str, leads: u64, won: u64, value: f64, cost: Option<f64>| {
        let revenue = value * 0.025;
        SourceRow {
            source: name.into(),
            leads,
            contacted: leads * 9 / 10,
            qualified: leads / 4,
            won,
            conversion: Some(won as f64 / leads as f64),
            won_value: value,
            revenue,
            cost,
            roi: cost.map(|c| (revenue - c) / c),
        }
    };
    let stage = |pipeline: &str, stage: &str, open: u64, value: f64, won: u64, lost: u64| {
        let p = (won + lost > 0).then(|| won as f64 / (won + lost) as f64);
        ForecastStage {
            pipeline: pipeline.into(),
            stage: stage.into(),
            open_deals: open,
            open_value: value,
            won_before: won,
            lost_before: lost,
            win_probability: p,
            forecast: p.map(|p| p * value),
        }
    };
    let forecast = vec![
        stage("Buyer Pipeline", "New Lead", 21, 9_450_000.0, 12, 30),
        stage("Buyer Pipeline", "Showing", 9, 4_320_000.0, 12, 9),
        stage("Buyer Pipeline", "Offer Made", 4, 2_100_000.0, 12, 3),
        stage("Seller Pipeline", "Appointment Set", 6, 3_600_000.0, 7, 7),
        stage("Seller Pipeline", "Listing Signed", 3, 1_950_000.0, 7, 2),
    ];
    let cohort = |month: &str, leads: u64, won: u64| CohortRow {
        month: month.into(),
        leads,
        contacted: leads * 9 / 10,
        qualified: leads / 4,
        won,
        conversion: Some(won as f64 / leads as f64),
    };
    AnalyticsReport {
        range,
        since: range.days().map(|d| {
            Timestamp::from_second(now().as_second() / 86_400 * 86_400 - i64::from(d - 1) * 86_400).unwrap()
        }),
        generated_at: now(),
        funnel,
        sources: vec![
            source("Zillow", 131, 7, 3_410_000.0, Some(35.0 * 131.0)),
            source("Facebook Ads", 97, 3, 1_250_000.0, Some(12.0 * 97.0)),
            source("Referral", 64, 5, 2_870_000.0, None),
            source("Website", 58, 2, 810_000.0, None),
            source("Open house", 37, 2, 990_000.0, None),
            source("(none)", 25, 0, 0.0, None),
        ],
        speed_to_lead: SpeedToLead {
            leads: 412,
            contacted: 371,
            median_secs: Some(262),
            p90_secs: Some(3_840),
            within_5m: 203,
            within_5m_share: Some(203.0 / 412.0),
            histogram: vec![
                ("≤1m".into(), 88),
                ("≤5m".into(), 115),
                ("≤15m".into(), 61),
                ("≤1h".into(), 58),
                ("≤1d".into(), 41),
                (">1d".into(), 8),
            ],
        },
        forecast_total: forecast.iter().filter_map(|f| f.forecast).sum(),
        pipeline_value: forecast.iter().map(|f| f.open_value).sum(),
        forecast,
        followups: vec![
            FollowUpStepRow {
                workflow: "new-lead".into(),
                step: 0,
                sent: 340,
                replied: 121,
                reply_rate: Some(121.0 / 340.0),
            },
            FollowUpStepRow {
                workflow: "new-lead".into(),
                step: 1,
                sent: 202,
                replied: 38,
                reply_rate: Some(38.0 / 202.0),
            },
        ],
        leaderboard: vec![
            AgentRow {
                user_id: "u1".into(),
                name: "Derek Chen".into(),
                leads: 104,
                contacted: 97,
                won: 6,
                won_value: 3_120_000.0,
            },
            AgentRow {
                user_id: "u2".into(),
                name: "Ashley Brooks".into(),
                leads: 99,
                contacted: 88,
                won: 5,
                won_value: 2_540_000.0,
            },
            AgentRow {
                user_id: "u3".into(),
                name: "Maria Gonzalez".into(),
                leads: 112,
                contacted: 101,
                won: 5,
                won_value: 2_010_000.0,
            },
            AgentRow {
                user_id: String::new(),
                name: "(unassigned)".into(),
                leads: 97,
                contacted: 85,
                won: 3,
                won_value: 1_660_000.0,
            },
        ],
        cohorts: vec![
            cohort("2025-02", 71, 5),
            cohort("2025-03", 88, 6),
            cohort("2025-04", 80, 4),
            cohort("2025-05", 104, 3),
            cohort("2025-06", 69, 1),
        ],
        calls: CallFigures {
            calls: 126,
            connected: 71,
            connect_rate: Some(71.0 / 126.0),
            talk_seconds: 17_530,
            avg_talk_seconds: Some(17_530.0 / 71.0),
        },
        daily_leads: (0..range.days().unwrap_or(90))
            .map(|d| u64::from((d * 7 + d * d) % 11 + d % 3))
            .collect(),
    }
}

#[test]
fn snapshot_analytics() {
    for (w, h) in SIZES {
        let mut t = Harness::online(w, h);
        t.press("8");
        assert_eq!(t.app.screen(), Screen::Analytics);
        assert_eq!(t.app.analytics().1, AnalyticsRange::Days30);
        assert_screen(&format!("analytics_{w}x{h}"), t.draw());
    }
}

#[test]
fn the_range_keys_ask_for_the_next_range_and_stop_at_the_ends() {
    let mut t = Harness::online(80, 24);
    t.press("8 >");
    assert_eq!(t.app.analytics().0.map(|r| r.range), Some(AnalyticsRange::Days90));
    assert!(t.screen().contains("· 90d"), "{}", t.screen());
    t.press("> >");
    assert_eq!(t.app.analytics().1, AnalyticsRange::All);
    // Already the longest: no request.
    let effects = t.app.handle_key(&KeyEvent::new(KeyCode::Char('>'), KeyModifiers::NONE));
    assert!(effects.is_empty(), "{effects:?}");
    t.press("< < < <");
    assert_eq!(t.app.analytics().0.map(|r| r.range), Some(AnalyticsRange::Days7));
    // On a queue the range keys say where they work.
    t.press("1 >");
    assert!(t.screen().contains("open analytics"), "{}", t.screen());
}

#[test]
fn the_analytics_screen_follows_the_leads_and_a_refresh() {
    let mut app = App::new(now());
    let _ = app.resize(80, 24);
    let _ = app.apply(Update::Connected { welcome: welcome() });
    let effects = app.handle_key(&KeyEvent::new(KeyCode::Char('8'), KeyModifiers::NONE));
    assert_eq!(effects, vec![Effect::FetchAnalytics { range: AnalyticsRange::Days30 }]);
    let effects = app.handle_key(&KeyEvent::new(KeyCode::Char('r'), KeyModifiers::NONE));
    assert!(effects.contains(&Effect::FetchAnalytics { range: AnalyticsRange::Days30 }), "{effects:?}");
    let _ = app.apply(Update::DaemonEvent(Event::LeadsChanged { ids: vec!["c1".into()] }));
    let effects = app.apply(Update::RefreshDue);
    assert!(effects.contains(&Effect::FetchAnalytics { range: AnalyticsRange::Days30 }), "{effects:?}");
}

/// What the fake daemon answers Compose for lead `id` (see [`lead`]): two SMS and two email
/// templates rendered for the lead (one that cannot be, for want of a setting); SMS DND on for
/// lead 2 (the one whose texts are blocked in the fixtures); quiet hours for lead 1, in
/// Chicago at 21:40.
pub(super) fn compose_info(id: &str) -> leadline_shared::protocol::ComposeInfo {
    use leadline_shared::domain::Hold;
    use leadline_shared::protocol::{ChannelCheck, ComposeInfo, TemplateChoice};
    let index: usize = id.trim_start_matches('c').parse().unwrap();
    let l = lead(index);
    let first = l.name.split(' ').next().unwrap_or_default().to_owned();
    let sms = |id: &str, description: &str, body: String| TemplateChoice {
        id: id.into(),
        channel: "sms".into(),
        description: Some(description.into()),
        body: Some(body),
        ..TemplateChoice::default()
    };
    let mut check_sms = ChannelCheck { channel: "sms".into(), ..ChannelCheck::default() };
    if l.sms_blocked {
        check_sms.blocked = Some(
            "SMS DND in GHL (code 21610): GHL refuses texts to this lead. It lifts when the lead opts back in (a reply of START), or when you turn DND off in GHL at the lead's request"
                .into(),
        );
    }
    let mut local_time = "10:00";
    if index == 1 {
        local_time = "21:40";
        check_sms.hold = Some(Hold {
            until: at(10 * 3_600),
            reason: "It is 21:40 for this lead (America/Chicago): quiet hours (TCPA: 08:00–21:00); the text will wait until 08:00 tomorrow".into(),
        });
    }
    ComposeInfo {
        contact_id: l.id.clone(),
        lead_name: l.name.clone(),
        phone: l.phone.clone(),
        email: l.email.clone(),
        timezone: l.timezone.clone(),
        now: Some(now()),
        local_time: Some(local_time.into()),
        channels: vec![check_sms, ChannelCheck { channel: "email".into(), ..ChannelCheck::default() }],
        templates: vec![
            sms(
                "instant_response",
                "The first text to a new lead.",
                format!(
                    "Hi {first}, this is Dana with Lone Star Realty. Thanks for reaching out! Would a quick call today or tomorrow work better for you? Reply STOP to opt out"
                ),
            ),
            sms(
                "reengage_24h",
                "24 h of silence: a curious check-in.",
                format!("Hey {first}, just checking in. Did you get a chance to look at the homes I sent?"),
            ),
            TemplateChoice {
                id: "welcome_email".into(),
                channel: "email".into(),
                description: Some("Welcome: who the agent is, how to reach them.".into()),
                subject: Some("Welcome to Lone Star Realty".into()),
                body: Some(format!(
                    "Hi {first},\n\nThanks for getting in touch. I'm Dana, and I'll be your agent at Lone Star Realty.\n\nDana Whitfield, Lone Star Realty\n500 Congress Ave, Austin, TX 78701\nTo stop getting these emails, reply UNSUBSCRIBE."
                )),
                ..TemplateChoice::default()
            },
            TemplateChoice {
                id: "winback_email".into(),
                channel: "email".into(),
                error: Some("{{agent_phone}} is empty: set [messages] agent_phone".into()),
                ..TemplateChoice::default()
            },
        ],
        first_touch: l.first_outbound_at.is_none(),
        sms_max_chars: 160,
        sms_optout_text: "Reply STOP to opt out".into(),
    }
}

#[test]
fn snapshot_compose_sms_with_a_template() {
    for (w, h) in SIZES {
        let mut t = Harness::online(w, h);
        t.press("6 c shift-tab down");
        let compose = t.app.compose().unwrap();
        assert_eq!(compose.contact_id, "c00000");
        assert_eq!(compose.chosen().map(|c| c.id.as_str()), Some("instant_response"));
        let count = leadline_shared::sms::count(&compose.body.text());
        let screen = t.screen();
        assert_eq!((count.segments, count.capacity), (1, 160));
        assert!(screen.contains(&count.to_string()), "{screen}");
        assert_screen(&format!("compose_sms_{w}x{h}"), t.draw());
    }
}

#[test]
fn snapshot_compose_email() {
    for (w, h) in SIZES {
        let mut t = Harness::online(w, h);
        // From the lead's pane: the channel, then the welcome template, then the subject.
        t.press("6 j j j enter c shift-tab shift-tab right tab down tab");
        let compose = t.app.compose().unwrap();
        assert_eq!((compose.contact_id.as_str(), compose.focus), ("c00003", compose::Field::Subject));
        t.press("end");
        t.type_text(", Robert");
        assert_eq!(t.app.compose().unwrap().subject.value(), "Welcome to Lone Star Realty, Robert");
        assert_screen(&format!("compose_email_{w}x{h}"), t.draw());
    }
}

#[test]
fn snapshot_compose_dnd_block() {
    for (w, h) in SIZES {
        let mut t = Harness::online(w, h);
        t.press("6 j j c");
        t.type_text("Hi Aisha, are you free Saturday?");
        t.press("ctrl-s");
        assert!(t.other.iter().all(|e| !matches!(e, Effect::Edit { .. })), "nothing is sent: {:?}", t.other);
        let notice = t.app.compose().unwrap().notice.clone().unwrap();
        assert!(notice.starts_with("not sent: no SMS may go to this lead"), "{notice}");
        assert!(t.screen().contains("Cannot be sent: SMS DND in GHL"), "{}", t.screen());
        assert_screen(&format!("compose_dnd_{w}x{h}"), t.draw());
    }
}

#[test]
fn snapshot_compose_quiet_hours() {
    for (w, h) in SIZES {
        let mut t = Harness::online(w, h);
        t.press("6 j c");
        t.type_text("Hi James,\nthe Elm St house is open Saturday 10–2. Want me to save you a slot?");
        let screen = t.screen();
        assert!(screen.contains("UCS-2"), "the en dash makes it UCS-2: {screen}");
        assert_screen(&format!("compose_quiet_{w}x{h}"), t.draw());
    }
}

#[test]
fn a_message_sent_from_compose_is_an_edit_followed_until_it_is_sent() {
    let mut t = Harness::online(160, 48);
    t.press("6 j c");
    t.type_text("Hi James, Saturday at 10?");
    t.press("ctrl-s");
    let op = OpKind::SendMessage {
        channel: "sms".into(),
        body: "Hi James, Saturday at 10?".into(),
        subject: None,
    };
    assert_eq!(t.other.last(), Some(&Effect::Edit { contact_id: "c00001".into(), op: op.clone() }));
    assert!(t.screen().contains("Message saving…"), "{}", t.screen());

    // Queued; the sender holds it for the lead's quiet hours, then sends it in the morning.
    let mut held = detail("c00001");
    held.pending_ops = vec![PendingOp {
        held: Some(leadline_shared::domain::Hold {
            until: at(10 * 3_600),
            reason: "queued until 08:00 local (Tue, America/Chicago): quiet hours in America/Chicago (TCPA: 08:00–21:00)".into(),
        }),
        ..PendingOp::new(31, "c00001", op.clone(), now())
    }];
    let queued = t.app.apply(Update::EditAccepted { contact_id: "c00001".into(), op, seq: 31 });
    assert!(
        queued.contains(&Effect::FetchLead { id: "c00001".into() }),
        "it asks how the message fares: {queued:?}"
    );
    t.update(Update::LeadLoaded(Box::new(held)));
    let screen = t.screen();
    assert!(screen.contains("Message #31 held: queued until 08:00 local (Tue, America/Chicago)"), "{screen}");

    // The sender tells of each step; the lead is asked for again, even with its pane closed.
    t.update(Update::DaemonEvent(Event::LeadsChanged { ids: vec!["c00001".into()] }));
    t.update(Update::RefreshDue);
    assert!(t.screen().contains("Message #31 sent"), "{}", t.screen());
    t.press("esc");
    assert!(t.app.compose().is_none());
}

#[test]
fn a_message_the_daemon_refuses_says_why_and_may_be_mended() {
    let mut t = Harness::online(80, 24);
    t.press("6 c");
    t.type_text("Hi Maria");
    t.press("ctrl-s");
    let op = OpKind::SendMessage { channel: "sms".into(), body: "Hi Maria".into(), subject: None };
    t.update(Update::EditFailed {
        contact_id: "c00000".into(),
        op,
        error: "not sent: the lead opted out by text (\"stop\", 2025-06-01 10:00 UTC)".into(),
    });
    assert!(t.screen().contains("refused: not sent: the lead opted out"), "{}", t.screen());
    t.type_text("!");
    t.press("ctrl-s");
    assert!(matches!(t.other.last(), Some(Effect::Edit { .. })), "sent again once mended");
}

#[test]
fn compose_opens_only_on_a_lead_and_online() {
    let mut t = Harness::online(80, 24);
    t.press("7 c");
    assert!(t.app.compose().is_none());
    assert!(t.screen().contains("Compose writes to a lead of a queue"), "{}", t.screen());
    t.press("4 c");
    assert!(t.app.compose().is_none(), "the due queue is empty");
    t.press("6");
    t.update(Update::Disconnected { error: "gone".into() });
    t.press("c");
    assert!(t.app.compose().is_none());
    assert!(t.screen().contains("messages need it running"), "{}", t.screen());
}

#[test]
fn compose_takes_every_key_while_open() {
    let mut t = Harness::online(80, 24);
    t.press("6 c");
    t.type_text("q?7jk");
    let compose = t.app.compose().unwrap();
    assert_eq!(compose.body.text(), "q?7jk", "keymap keys are text here");
    assert_eq!(t.app.screen(), Screen::Queue);
    assert!(!t.app.help_visible());
    // A daemon answer for another lead is not this Compose's.
    let mut other = compose_info("c00002");
    other.channels[0].blocked = None;
    t.update(Update::ComposeLoaded(Box::new(other)));
    assert!(t.app.compose().unwrap().check().unwrap().blocked.is_none());
    assert_eq!(t.app.compose().unwrap().contact_id, "c00000");
    t.update(Update::ComposeFailed { contact_id: "c00000".into(), error: "the daemon is busy".into() });
    assert!(
        t.screen().contains("Could not ask the daemon about this lead: the daemon is busy"),
        "{}",
        t.screen()
    );
}

#[test]
fn a_held_message_shows_in_the_leads_pane_with_until_when() {
    let mut t = Harness::online(160, 48);
    t.press("6 j enter");
    let mut held = detail("c00001");
    let send = OpKind::SendMessage {
        channel: "sms".into(),
        body: "Hi James, Saturday at 10?".into(),
        subject: None,
    };
    held.pending_ops = vec![PendingOp {
        held: Some(leadline_shared::domain::Hold {
            until: at(10 * 3_600),
            reason: "queued until 08:00 local (Tue, America/Chicago): quiet hours in America/Chicago".into(),
        }),
        ..PendingOp::new(31, "c00001", send, now())
    }];
    t.update(Update::LeadLoaded(Box::new(held)));
    let screen = t.screen();
    assert!(screen.contains("#31 sms message \"Hi James, Saturday at 10?\" — held"), "{screen}");
    assert!(screen.contains("queued until 08:00 local (Tue, America/Chicago)"), "{screen}");
}

/// What the fake daemon finds: the fixture's first 40 leads whose name, phone digits, email
/// or tags hold every word of the query, best score first.
pub(super) fn search_page(query: &str, limit: u32) -> SearchPage {
    let terms: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
    let found: Vec<LeadSummary> = leads(40)
        .into_iter()
        .filter(|l| {
            let digits: String =
                l.phone.iter().flat_map(|p| p.chars()).filter(char::is_ascii_digit).collect();
            let text =
                format!("{} {} {digits} {}", l.name, l.email.as_deref().unwrap_or(""), l.tags.join(" "))
                    .to_lowercase();
            !terms.is_empty() && terms.iter().all(|t| text.contains(t.as_str()))
        })
        .collect();
    let total = found.len() as u64;
    SearchPage { terms, total, rows: found.into_iter().take(limit as usize).collect() }
}

/// The search screen with `query` typed and answered.
fn searched(w: u16, h: u16, query: &str) -> Harness {
    let mut t = Harness::online(w, h);
    t.press("/");
    t.type_text(query);
    t.elapse();
    t
}

#[test]
fn snapshot_search() {
    for (w, h) in SIZES {
        let mut t = searched(w, h, "gonz");
        assert_eq!(t.app.screen(), Screen::Search);
        assert_eq!(t.app.search().rows.len(), 6, "Gonzalez is every 7th lead");
        t.press("down");
        assert_screen(&format!("search_{w}x{h}"), t.draw());
    }
}

#[test]
fn snapshot_search_detail() {
    for (w, h) in SIZES {
        let mut t = searched(w, h, "gonz");
        t.press("down enter");
        assert_eq!(t.app.selected_detail().map(|d| d.lead.id.as_str()), Some("c00007"));
        assert_screen(&format!("search_detail_{w}x{h}"), t.draw());
    }
}

#[test]
fn snapshot_search_empty() {
    for (w, h) in SIZES {
        let mut t = Harness::online(w, h);
        t.press("/");
        assert_screen(&format!("search_prompt_{w}x{h}"), t.draw());
        t.type_text("zebra");
        t.elapse();
        assert!(t.screen().contains("No lead matches \"zebra\""), "{}", t.screen());
    }
}

#[test]
fn typing_is_debounced_into_one_request_for_the_last_query() {
    let mut t = Harness::online(160, 48);
    t.press("/");
    t.type_text("gonz");
    assert_eq!(t.search_timers.len(), 4, "a debounce per key");
    assert!(t.searched.is_empty(), "nothing is asked while typing");
    assert!(t.screen().contains("searching…"));
    t.elapse();
    assert_eq!(t.searched, ["gonz"], "only the query at rest is asked for");
    // An answer to an older query is dropped.
    let stale = Update::SearchLoaded {
        seq: 1,
        query: "g".into(),
        page: Box::new(SearchPage { terms: vec!["g".into()], total: 0, rows: vec![] }),
    };
    t.update(stale);
    assert_eq!(t.app.search().rows.len(), 6);
    // Clearing the query clears the results and asks nothing.
    t.press("backspace backspace backspace backspace");
    t.elapse();
    assert_eq!((t.searched.len(), t.app.search().rows.len()), (1, 0));
}

#[test]
fn the_query_takes_every_key_but_the_arrows_enter_and_esc() {
    let mut t = Harness::online(80, 24);
    t.press("/");
    t.type_text("qj?7t/");
    assert_eq!(t.app.search().query(), "qj?7t/", "keymap keys are text here");
    assert!(!t.other.contains(&Effect::Quit));
    assert_eq!((t.app.screen(), t.app.help_visible()), (Screen::Search, false));
    t.press("esc");
    assert_eq!(t.app.screen(), Screen::Queue, "esc closes the search");
}

#[test]
fn arrows_select_enter_opens_the_lead_and_esc_steps_back() {
    let mut t = searched(160, 48, "gonz");
    t.press("down down up");
    assert_eq!(t.app.selected_lead().map(|l| l.id.as_str()), Some("c00007"));
    t.press("enter");
    assert!(!t.app.search().editing && t.app.detail_open());
    assert_eq!(t.app.selected_detail().map(|d| d.lead.id.as_str()), Some("c00007"));
    // The results now take the keymap: j moves, and the pane follows.
    t.press("j");
    assert_eq!(t.app.selected_detail().map(|d| d.lead.id.as_str()), Some("c00014"));
    // `/` types in the query again, keeping it.
    t.press("/");
    assert!(t.app.search().editing);
    t.type_text("a");
    t.elapse();
    assert_eq!(t.app.search().query(), "gonza");
    t.press("enter");
    t.press("/ esc");
    assert!(!t.app.detail_open(), "esc closes the lead first, also while typing");
    assert!(!t.app.search().editing);
    t.press("enter esc");
    assert!(!t.app.detail_open());
    assert_eq!(t.app.screen(), Screen::Search);
    t.press("esc");
    assert_eq!(t.app.screen(), Screen::Queue, "then the search");
    // Opened again, it keeps the query and asks for it afresh.
    let asked = t.searched.len();
    t.press("/");
    assert_eq!((t.app.search().query(), t.searched.len()), ("gonza", asked + 1));
}

#[test]
fn enter_before_the_answer_opens_the_best_match_when_it_comes() {
    let mut t = Harness::online(160, 48);
    t.press("/");
    t.type_text("gonz");
    t.press("enter");
    assert_eq!(t.searched, ["gonz"], "asked at once, without waiting out the debounce");
    assert_eq!(t.app.selected_detail().map(|d| d.lead.id.as_str()), Some("c00000"));
    t.elapse();
    assert_eq!(t.searched.len(), 1, "the debounce asks nothing more");
}

#[test]
fn the_results_follow_pushed_changes_and_edits_act_on_the_found_lead() {
    let mut t = searched(160, 48, "gonz");
    t.press("enter");
    t.update(Update::DaemonEvent(Event::LeadsChanged { ids: vec!["c00000".into()] }));
    assert!(t.other.contains(&Effect::ScheduleRefresh { after: app::REFRESH_DEBOUNCE }));
    t.update(Update::RefreshDue);
    assert_eq!(t.searched, ["gonz", "gonz"], "asked again");
    assert_eq!(t.app.selected_lead().map(|l| l.id.as_str()), Some("c00000"));
    t.press("t");
    t.type_text("VIP");
    t.press("enter");
    assert!(
        t.other.iter().any(|e| matches!(e, Effect::Edit { contact_id, .. } if contact_id == "c00000")),
        "{:?}",
        t.other
    );
}

#[test]
fn searching_offline_says_it_needs_the_daemon() {
    let mut t = Harness::online(80, 24);
    t.update(Update::Disconnected { error: "gone".into() });
    t.press("/");
    t.type_text("maria");
    assert!(t.search_timers.is_empty());
    assert!(t.screen().contains("search needs it running"), "{}", t.screen());
}

#[test]
fn search_is_in_the_keymap_help_and_footer() {
    let t = Harness::online(160, 48);
    let map = t.app.keymap();
    let slash = KeyEvent::new(KeyCode::Char('/'), KeyModifiers::NONE);
    assert_eq!(map.resolve(&slash), Some(Action::Search));
    assert!(
        map.help_entries().contains(&("/, g s".to_owned(), "search by name, phone, email, tag".to_owned()))
    );
    assert!(map.footer_hints().contains(&("/".to_owned(), "search")));
    assert_eq!(
        map.search_hints(true),
        [("up/down".to_owned(), "select"), ("enter".to_owned(), "open"), ("esc".to_owned(), "close")]
    );
    let remapped = map.clone().with_overrides([("/", "none"), ("ctrl-f", "search")]).unwrap();
    assert!(remapped.footer_hints().contains(&("ctrl-f".to_owned(), "search")));
}

#[test]
fn compose_writes_to_a_found_lead_and_neither_takes_the_others_key() {
    let mut t = Harness::online(80, 24);
    // In the query `c` is a letter, not Compose.
    t.press("/");
    t.type_text("c");
    assert!(t.app.compose().is_none());
    assert_eq!(t.app.search().query(), "c");
    t.press("backspace");
    t.type_text("gonz");
    t.elapse();
    t.press("down enter");
    assert_eq!(t.app.selected_lead().map(|l| l.id.as_str()), Some("c00007"));
    let footer = t.screen().lines().last().unwrap().to_owned();
    assert!(footer.contains("c compose") && footer.contains("/ search"), "{footer}");

    // On the results Compose writes to the lead found; in Compose `/` is a character.
    t.press("c");
    assert_eq!(t.app.compose().map(|c| c.contact_id.as_str()), Some("c00007"));
    assert!(t.app.compose().unwrap().info.is_some(), "the daemon was asked about the lead found");
    t.type_text("2/3 of the way: Saturday?");
    assert_eq!(t.app.compose().unwrap().body.text(), "2/3 of the way: Saturday?");
    assert_eq!((t.app.search().query(), t.app.search().editing), ("gonz", false));
    t.press("ctrl-s");
    let op = OpKind::SendMessage {
        channel: "sms".into(),
        body: "2/3 of the way: Saturday?".into(),
        subject: None,
    };
    assert_eq!(t.other.last(), Some(&Effect::Edit { contact_id: "c00007".into(), op }));

    // Esc closes Compose, then the lead, then the search.
    t.press("esc");
    assert!(t.app.compose().is_none());
    assert_eq!((t.app.screen(), t.app.detail_open()), (Screen::Search, true));
    t.press("esc esc");
    assert_eq!(t.app.screen(), Screen::Queue);
}

#[path = "deal_tests.rs"]
mod deal_tests;
