//! Tests of the System screen, the GHL banner, the daemon-down banner and the live timers:
//! the App driven by keys and daemon updates over fixture data, snapshotted at 80×24 and
//! 160×48.

#![allow(clippy::unwrap_used)]

use std::collections::{HashMap, VecDeque};

use jiff::{SignedDuration, Timestamp};
use leadline_shared::domain::{LeadSummary, OpKind, OpState, PendingOp};
use leadline_shared::protocol::{
    Event, LogTail, OpView, QueueName, RateBudget, SkippedView, StatusReport, SyncFailure, SyncPhase,
    SyncState, SystemReport, Welcome,
};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::tests::{analytics_report, detail, followup_views, now, queue, status};
use super::*;

fn ago(secs: i64) -> Timestamp {
    now() - SignedDuration::from_secs(secs)
}

fn op(
    seq: u64,
    contact: &str,
    kind: OpKind,
    state: OpState,
    attempts: u32,
    error: Option<&str>,
) -> PendingOp {
    PendingOp {
        attempts,
        state,
        last_error: error.map(str::to_owned),
        ..PendingOp::new(seq, contact, kind, ago(3_600 - seq as i64 * 60))
    }
}

/// What the fake daemon lists: two edits waiting, two GHL refused, one uncertain send; three
/// skipped records; a log tail.
fn system_report() -> SystemReport {
    let view = |op: PendingOp, name: &str| OpView { op, lead_name: name.into() };
    let timeout = "GHL did not answer in time; check the network, or raise timeout_secs under [ghl] if GHL is just slow";
    SystemReport {
        ops: vec![
            view(
                op(41, "c00001", OpKind::AddTag { tag: "VIP".into() }, OpState::Pending, 2, Some(timeout)),
                "James Whitaker",
            ),
            view(
                op(
                    42,
                    "c00002",
                    OpKind::AddNote { body: "Called, wants a showing Saturday".into() },
                    OpState::Pending,
                    0,
                    None,
                ),
                "Aisha Okafor",
            ),
            view(
                op(
                    43,
                    "c00003",
                    OpKind::AddTag { tag: "a tag far too long for GHL".into() },
                    OpState::Failed,
                    1,
                    Some(
                        "GHL refused the request as invalid (422: tag must be shorter than 20 characters); fix the value and retry",
                    ),
                ),
                "Robert Nguyen",
            ),
            view(
                op(
                    44,
                    "c00004",
                    OpKind::Assign { user_id: "u_gone".into() },
                    OpState::OutOfSync,
                    2,
                    Some("GHL has no such record (404: user not found)"),
                ),
                "Linh Brennan",
            ),
            view(
                op(
                    45,
                    "c00005",
                    OpKind::SendMessage {
                        channel: "sms".into(),
                        body: "Hi Carlos, still looking?".into(),
                        subject: None,
                    },
                    OpState::Uncertain,
                    1,
                    Some("the connection broke after the send; check GHL before sending again"),
                ),
                "Carlos Patel",
            ),
        ],
        ops_total: 5,
        skipped: vec![
            SkippedView {
                kind: "contact".into(),
                id: Some("xQ9v7TcZ".into()),
                reason: "customFields: invalid type: string \"12\", expected a sequence".into(),
                first_seen: ago(7_200),
                last_seen: ago(300),
            },
            SkippedView {
                kind: "message".into(),
                id: Some("m_77aa".into()),
                reason: "dateAdded: premature end of input".into(),
                first_seen: ago(86_400),
                last_seen: ago(3_600),
            },
            SkippedView {
                kind: "opportunity".into(),
                id: None,
                reason: "missing field `id`".into(),
                first_seen: ago(90_000),
                last_seen: ago(90_000),
            },
        ],
        skipped_total: 3,
    }
}

fn log_tail() -> LogTail {
    let line = |secs: i64, level: &str, text: &str| format!("{}  {level} {text}", ago(secs));
    let mut lines = vec![
        line(900, "INFO", "leadline_daemon::daemon: daemon ready socket=/run/user/1000/leadline/daemon.sock"),
        line(600, "INFO", "leadline_daemon::sync: sync step done contacts=12 messages=40"),
    ];
    for i in 0..30 {
        lines.push(line(
            540 - i * 15,
            "WARN",
            "leadline_daemon::sync: sync step failed; retrying on the next tick error=GHL did not answer in time",
        ));
    }
    lines.push(line(5, "ERROR", "leadline_daemon::ghl: circuit open after 5 failures retry_in=30s"));
    LogTail {
        file: Some("/home/agent/.local/share/leadline/logs/leadlined.2025-06-02.log".into()),
        lines,
        truncated: true,
    }
}

/// A daemon that cannot reach GHL for 12 minutes, with 2 edits waiting and 3 needing the agent.
fn failing_status() -> StatusReport {
    let mut s = status();
    s.sync.state = SyncState::Offline;
    s.sync.failure = Some(SyncFailure::Unreachable);
    s.sync.unreachable_since = Some(ago(12 * 60 + 5));
    s.sync.last_success = Some(ago(13 * 60));
    s.sync.last_error = Some("GHL did not answer in time; check the network, or raise timeout_secs under [ghl] if GHL is just slow".into());
    s.sync.pending_ops = 2;
    s.sync.failed_ops = 3;
    s.sync.skipped_records = 3;
    s.sync.rate_limit = Some(RateBudget {
        burst_remaining: 97,
        burst_max: 100,
        daily_remaining: 181_240,
        daily_max: 200_000,
    });
    let phase = |name: &str, running: bool, ok: Option<i64>, error: Option<&str>, started: i64| SyncPhase {
        name: name.into(),
        running,
        last_started: Some(ago(started)),
        last_success: ok.map(ago),
        last_error: error.map(str::to_owned),
    };
    s.sync.phases = vec![
        phase("full", false, Some(7_200), None, 7_300),
        phase("poll", false, Some(780), Some("GHL did not answer in time"), 30),
        phase("deals", false, Some(1_800), None, 1_810),
        phase("push", false, None, Some("GHL did not answer in time"), 60),
    ];
    s
}

/// The App and a fake daemon answering its fetches from fixtures.
struct H {
    app: App,
    terminal: Terminal<TestBackend>,
    status: StatusReport,
    queues: HashMap<QueueName, Vec<LeadSummary>>,
    /// Every effect the App asked for, in order.
    asked: Vec<Effect>,
}

impl H {
    fn new(width: u16, height: u16, status: StatusReport) -> Self {
        let mut app = App::new(now());
        let _ = app.resize(width, height);
        let queues = QueueName::BUILT_IN.into_iter().map(|n| (n.clone(), queue(&n))).collect();
        let terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        let mut h = H { app, terminal, status, queues, asked: Vec::new() };
        let effects = h.app.start();
        h.run(effects);
        h.update(Update::Connected {
            welcome: Welcome { app_version: "0.1.0".into(), protocol: 7, pid: 4242 },
        });
        h.asked.clear();
        h
    }

    fn update(&mut self, update: Update) {
        let effects = self.app.apply(update);
        self.run(effects);
    }

    fn run(&mut self, effects: Vec<Effect>) {
        let mut queue: VecDeque<Effect> = effects.into();
        while let Some(effect) = queue.pop_front() {
            self.asked.push(effect.clone());
            let answer = match &effect {
                Effect::FetchStatus => Update::StatusLoaded(Box::new(self.status.clone())),
                Effect::FetchQueue { name, window } => {
                    let rows = self.queues.get(name).map_or(&[][..], Vec::as_slice);
                    let page = page_of(rows, window.offset, window.limit, window.anchor.as_ref());
                    Update::QueueLoaded { name: name.clone(), window: window.clone(), page: Box::new(page) }
                }
                Effect::FetchLead { id } => Update::LeadLoaded(Box::new(detail(id))),
                Effect::FetchFollowUps => Update::FollowUpsLoaded(followup_views()),
                Effect::FetchAnalytics { range } => {
                    Update::AnalyticsLoaded(Box::new(analytics_report(*range)))
                }
                Effect::FetchSystem => {
                    Update::SystemLoaded { report: Box::new(system_report()), log: Box::new(log_tail()) }
                }
                _ => continue,
            };
            queue.extend(self.app.apply(answer));
        }
    }

    fn press(&mut self, keys: &str) {
        for key in keys.split_whitespace() {
            let chord: keymap::KeyChord = key.parse().unwrap();
            let effects = self.app.handle_key(&KeyEvent::new(chord.code, chord.modifiers));
            self.run(effects);
        }
    }

    fn screen(&mut self) -> String {
        self.draw().to_string()
    }

    fn draw(&mut self) -> &TestBackend {
        let app = &self.app;
        self.terminal.draw(|frame| render(app, frame)).unwrap();
        self.terminal.backend()
    }

    fn take_asked(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.asked)
    }
}

const SIZES: [(u16, u16); 2] = [(80, 24), (160, 48)];

fn assert_screen(name: &str, backend: &TestBackend) {
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!(name, backend));
}

fn retries(effects: &[Effect]) -> Vec<u64> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Retry { seq } => Some(*seq),
            _ => None,
        })
        .collect()
}

#[test]
fn snapshot_system() {
    for (w, h) in SIZES {
        let mut t = H::new(w, h, failing_status());
        t.press("9 j j");
        assert_eq!(t.app.screen(), Screen::System);
        assert_eq!(t.app.system().selected_op().map(|o| o.op.seq), Some(43));
        let screen = t.screen();
        assert!(screen.contains("Robert Nguy"), "{screen}");
        assert!(screen.contains("contact xQ9v7TcZ"), "{screen}");
        assert!(screen.contains("circuit open"), "the last log line is shown: {screen}");
        assert_screen(&format!("system_{w}x{h}"), t.draw());
    }
}

#[test]
fn the_system_screen_is_a_tab_reached_by_its_keys_and_asks_on_each_visit() {
    let mut t = H::new(80, 24, status());
    t.press("z");
    assert_eq!(t.app.screen(), Screen::System);
    let asked = t.take_asked();
    assert!(asked.contains(&Effect::FetchSystem) && asked.contains(&Effect::FetchStatus), "{asked:?}");
    // The tab after analytics; tab from it wraps to the first queue.
    t.press("8");
    t.press("tab");
    assert_eq!(t.app.screen(), Screen::System);
    t.press("tab");
    assert_eq!(t.app.screen(), Screen::Queue);
    assert_eq!(t.app.current_queue(), &QueueName::SpeedToLead);
    t.press("shift-tab");
    assert_eq!(t.app.screen(), Screen::System);
    // The keys are in the help, generated from the keymap.
    t.press("?");
    let help = t.screen();
    assert!(help.contains("system: sync, edits, skipped, log"), "{help}");
}

#[test]
fn daemon_events_refresh_the_system_screen_but_progress_alone_does_not() {
    let mut t = H::new(80, 24, status());
    t.press("9");
    t.take_asked();
    let mut syncing = status().sync;
    syncing.state = SyncState::Syncing;
    t.status.sync = syncing.clone();
    t.update(Update::DaemonEvent(Event::Sync { status: syncing.clone() }));
    assert_eq!(t.take_asked(), [Effect::FetchStatus, Effect::FetchSystem], "a step began");
    syncing.progress = Some("contacts: 200 contacts, 0 deals, 0 messages".into());
    t.update(Update::DaemonEvent(Event::Sync { status: syncing }));
    assert_eq!(t.take_asked(), [], "progress is shown from the event itself");
    // Pushed lead changes are debounced into one refresh of the screen on.
    t.update(Update::DaemonEvent(Event::LeadsChanged { ids: vec!["c00001".into()] }));
    assert!(t.take_asked().iter().any(|e| matches!(e, Effect::ScheduleRefresh { .. })));
    t.update(Update::RefreshDue);
    assert_eq!(t.take_asked(), [Effect::FetchSystem, Effect::FetchStatus]);
}

#[test]
fn retry_acts_on_the_selected_edit_and_retry_all_on_every_refused_one() {
    let mut t = H::new(80, 24, failing_status());
    t.press("9");
    // The first op still waits for a sync: nothing to retry.
    let effects = t.app.handle_key(&KeyEvent::new(KeyCode::Char('R'), KeyModifiers::NONE));
    assert_eq!(retries(&effects), Vec::<u64>::new());
    assert!(t.app.flash().unwrap().text.contains("has not failed"), "{:?}", t.app.flash());
    // The uncertain send may be sent again, one at a time.
    t.press("G");
    let effects = t.app.handle_key(&KeyEvent::new(KeyCode::Char('R'), KeyModifiers::NONE));
    assert_eq!(retries(&effects), [45]);
    // ctrl-r: the failed and the out-of-sync ones, not the uncertain send.
    let effects = t.app.handle_key(&KeyEvent::new(KeyCode::Char('r'), KeyModifiers::CONTROL));
    assert_eq!(retries(&effects), [43, 44]);
    t.take_asked();
    t.update(Update::RetryAccepted { seq: 43 });
    assert_eq!(t.take_asked(), [Effect::FetchStatus, Effect::FetchSystem], "the lists are asked again");
    // Away from the System screen, ctrl-r says where to go.
    t.press("1");
    let effects = t.app.handle_key(&KeyEvent::new(KeyCode::Char('r'), KeyModifiers::CONTROL));
    assert!(retries(&effects).is_empty());
    assert!(t.app.flash().unwrap().text.contains("System screen (press 9)"), "{:?}", t.app.flash());
}

#[test]
fn snapshot_ghl_banner_on_the_queue() {
    for (w, h) in SIZES {
        let mut t = H::new(w, h, failing_status());
        let screen = t.screen();
        assert!(screen.contains("GHL unreachable for 12m"), "{screen}");
        assert!(screen.contains("2 edits waiting"), "{screen}");
        assert_screen(&format!("ghl_banner_{w}x{h}"), t.draw());
    }
}

#[test]
fn the_ghl_banner_goes_when_a_sync_succeeds_and_names_a_refused_token() {
    let mut t = H::new(160, 48, failing_status());
    assert!(t.screen().contains("reads, edits and drafts still work"));
    let pending_before = t.app.status().unwrap().sync.pending_ops;
    // The event carries no op counts: the banner keeps the last ones.
    let mut ok = failing_status().sync;
    ok.state = SyncState::Idle;
    ok.failure = None;
    ok.unreachable_since = None;
    ok.pending_ops = 0;
    t.status.sync = ok.clone();
    t.status.sync.pending_ops = pending_before;
    t.update(Update::DaemonEvent(Event::Sync { status: ok }));
    let screen = t.screen();
    assert!(!screen.contains("GHL unreachable"), "{screen}");
    assert_eq!(t.app.status().unwrap().sync.pending_ops, pending_before);

    let mut refused = failing_status().sync;
    refused.state = SyncState::Error;
    refused.failure = Some(SyncFailure::Unauthorized);
    refused.unreachable_since = None;
    t.status.sync = refused.clone();
    t.update(Update::DaemonEvent(Event::Sync { status: refused }));
    let screen = t.screen();
    assert!(screen.contains("GHL refused the token: check GHL_API_KEY"), "{screen}");
    assert!(!screen.contains("unreachable"), "{screen}");
}

#[test]
fn snapshot_daemon_down() {
    for (w, h) in SIZES {
        let mut t = H::new(w, h, failing_status());
        t.press("9");
        t.update(Update::Disconnected { error: "the daemon closed the connection".into() });
        t.update(Update::ConnectFailed {
            error:
                "no daemon answers on /run/user/1000/leadline/daemon.sock: Connection refused (os error 111)"
                    .into(),
            unreachable: true,
        });
        t.update(Update::DaemonStartFailed { error: "could not start leadlined: permission denied".into() });
        t.update(Update::RetryDue { token: 1 });
        t.update(Update::ConnectFailed { error: "no daemon answers".into(), unreachable: true });
        let screen = t.screen();
        assert!(screen.contains("Daemon not running; retrying in 1 s (attempt 3)"), "{screen}");
        let banner = screen.lines().nth(1).unwrap_or_default();
        assert!(
            banner.contains("Daemon not running") && !banner.contains("GHL"),
            "the daemon's banner comes first: {screen}"
        );
        assert_screen(&format!("daemon_down_{w}x{h}"), t.draw());
        // The countdown moves with the tick, with no request.
        t.take_asked();
        t.update(Update::Tick { now: now() + SignedDuration::from_millis(1_500) });
        assert!(t.screen().contains("retrying in 0 s"), "{}", t.screen());
        assert_eq!(t.take_asked(), []);
    }
}

#[test]
fn every_screen_recovers_when_the_daemon_is_back() {
    let mut t = H::new(80, 24, status());
    t.press("9");
    t.update(Update::Disconnected { error: "closed".into() });
    t.update(Update::ConnectFailed { error: "no daemon answers".into(), unreachable: true });
    t.take_asked();
    t.update(Update::Connected { welcome: Welcome { app_version: "0.1.0".into(), protocol: 7, pid: 4243 } });
    let asked = t.take_asked();
    assert!(asked.contains(&Effect::FetchSystem) && asked.contains(&Effect::FetchStatus), "{asked:?}");
    let queues = asked.iter().filter(|e| matches!(e, Effect::FetchQueue { .. })).count();
    assert_eq!(queues, QueueName::BUILT_IN.len(), "every tab's window: {asked:?}");
    assert!(!t.screen().contains("Daemon not running"));
}

#[test]
fn a_tick_moves_the_speed_to_lead_timer_without_a_request() {
    let mut fresh = super::tests::lead(0);
    fresh.id = "c09999".into();
    fresh.name = "Nina Fresh".into();
    fresh.first_outbound_at = None;
    fresh.date_added = Some(ago(3 * 60));
    let mut t = H::new(80, 24, status());
    t.queues.insert(QueueName::SpeedToLead, vec![fresh]);
    t.press("2 1");
    let before = t.screen();
    assert!(before.contains("Waiting") && before.contains("3m 00s"), "{before}");
    t.take_asked();
    t.update(Update::Tick { now: now() + SignedDuration::from_secs(1) });
    assert_eq!(t.take_asked(), [], "a tick asks the daemon nothing");
    let after = t.screen();
    assert!(after.contains("3m 01s"), "{after}");
}
