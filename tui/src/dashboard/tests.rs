//! Dashboard tests: the App driven like a user (synthetic key events through the keymap, a
//! fake daemon answering the effects), snapshotted from `TestBackend` at 80×24 and 160×48.

#![allow(clippy::unwrap_used)]

use std::collections::VecDeque;

use jiff::Timestamp;
use leadline_shared::domain::{Contribution, Direction, LeadSummary, Qualification, Temperature};
use leadline_shared::protocol::{
    Counts, DaemonInfo, Event, LeadDetail, QueueName, StatusReport, SyncStatus, TimelineEntry, Welcome,
};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::app::visible_range;
use super::components::queue_table;
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
    }
}

fn leads(n: usize) -> Vec<LeadSummary> {
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
            state: "idle".into(),
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
        }
    };
    LeadDetail {
        lead: lead(index),
        explanation: vec![
            Contribution { feature: "budget_answered".into(), contribution: 20.0 },
            Contribution { feature: "timeline_answered".into(), contribution: 15.0 },
            Contribution { feature: "inbound_last_24h".into(), contribution: 12.5 },
            Contribution { feature: "no_reply_48h".into(), contribution: -5.0 },
        ],
        qualification: Qualification {
            budget: Some("$450k to $500k".into()),
            location: Some("East Austin, near the new light rail".into()),
            timeline: Some("within 3 months".into()),
            financing: None,
            ..Qualification::default()
        },
        score_model: "rules-v1".into(),
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

fn welcome() -> Welcome {
    Welcome { app_version: "0.1.0".into(), protocol: 1, pid: 4242 }
}

/// The App, a terminal, and a fake daemon that answers the App's effects in order.
struct Harness {
    app: App,
    terminal: Terminal<TestBackend>,
    /// Effects the fake daemon does not answer (timers, connects, daemon starts).
    other: Vec<Effect>,
}

impl Harness {
    fn new(width: u16, height: u16) -> Self {
        let mut app = App::new(now());
        app.resize(width, height);
        let terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        let mut h = Harness { app, terminal, other: Vec::new() };
        let effects = h.app.start();
        h.run(effects);
        h
    }

    /// Connected, with status and every queue loaded.
    fn online(width: u16, height: u16) -> Self {
        let mut h = Harness::new(width, height);
        h.update(Update::Connected { welcome: welcome() });
        h
    }

    fn update(&mut self, update: Update) {
        let effects = self.app.apply(update);
        self.run(effects);
    }

    /// Answers fetches like the daemon would; keeps the rest for the test to look at.
    fn run(&mut self, effects: Vec<Effect>) {
        let mut queue: VecDeque<Effect> = effects.into();
        while let Some(effect) = queue.pop_front() {
            let answer = match &effect {
                Effect::FetchStatus => Update::StatusLoaded(Box::new(status())),
                Effect::FetchQueue { name, .. } => {
                    Update::QueueLoaded { name: name.clone(), rows: queue_rows(name) }
                }
                Effect::FetchLead { id } => Update::LeadLoaded(Box::new(detail(id))),
                _ => {
                    self.other.push(effect);
                    continue;
                }
            };
            queue.extend(self.app.apply(answer));
        }
    }

    /// Presses keys given as keymap strings separated by spaces, e.g. "j j enter".
    fn press(&mut self, keys: &str) {
        for key in keys.split_whitespace() {
            let chord: keymap::KeyChord = key.parse().unwrap();
            let effects = self.app.handle_key(&KeyEvent::new(chord.code, chord.modifiers));
            self.run(effects);
        }
    }

    fn draw(&mut self) -> &TestBackend {
        let app = &self.app;
        self.terminal.draw(|frame| render(app, frame)).unwrap();
        self.terminal.backend()
    }

    fn screen(&mut self) -> String {
        self.draw().to_string()
    }
}

fn queue_rows(name: &QueueName) -> Vec<LeadSummary> {
    queue(name)
}

const SIZES: [(u16, u16); 2] = [(80, 24), (160, 48)];

/// Snapshots a screen under its own name (`queue_80x24.snap`), without the crate and module
/// path, so the files stay put whether the dashboard is built in the binary or a library.
fn assert_screen(name: &str, backend: &TestBackend) {
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
    t.press("pgup g");
    assert_eq!((t.app.view().selected, t.app.view().offset), (0, 0));

    // The queue shrinks under the selection: it is clamped to the new last row.
    t.press("G");
    t.update(Update::QueueLoaded { name: QueueName::All, rows: leads(5) });
    assert_eq!(t.app.view().selected, 4);
    assert_eq!(t.app.view().offset, 0);

    // The queue reorders: the same lead stays selected.
    t.press("k");
    let mut reordered = leads(5);
    reordered.reverse();
    t.update(Update::QueueLoaded { name: QueueName::All, rows: reordered });
    assert_eq!(t.app.selected_lead().unwrap().id, "c00003");

    // An empty queue has nothing to select and nothing to move.
    t.update(Update::QueueLoaded { name: QueueName::All, rows: Vec::new() });
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
    assert_eq!(t.app.current_queue(), &QueueName::All);
    t.press("] 2 [");
    assert_eq!(t.app.current_queue(), &QueueName::SpeedToLead);
    // Every tab's count arrived with the first load.
    assert_eq!(t.app.views[5].count_label().as_deref(), Some("40"));
    assert_eq!(t.app.views[3].count_label().as_deref(), Some("0"));
}

#[test]
fn a_queue_of_another_tab_does_not_replace_the_current_rows() {
    let mut t = Harness::online(80, 24);
    t.press("6");
    t.update(Update::QueueLoaded { name: QueueName::Hot, rows: leads(3) });
    assert_eq!(t.app.view().rows.len(), 40);
    assert_eq!(t.app.views[1].rows.len(), 3);
    t.update(Update::QueueLoaded { name: QueueName::Saved("mine".into()), rows: leads(3) });
    assert_eq!(t.app.view().rows.len(), 40);
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
    assert!(effects.contains(&Effect::FetchQueue { name: QueueName::All, limit: QUEUE_LIMIT }));
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
fn sync_events_update_the_status_bar() {
    let mut t = Harness::online(160, 48);
    let sync = SyncStatus { state: "syncing".into(), pending_ops: 7, ..SyncStatus::default() };
    t.update(Update::DaemonEvent(Event::Sync { status: sync }));
    let screen = t.screen();
    assert!(screen.contains("sync syncing"), "{screen}");
    assert!(screen.contains("pending 7"), "{screen}");
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
    assert!(t.screen().contains("OFFLINE"));
    assert_eq!(t.app.handle_action(Action::Refresh), [Effect::Connect]);
    t.update(Update::Connected { welcome: welcome() });
    assert!(!t.screen().contains("OFFLINE"));
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
    let q = |n: &str| Fetch::Queue { name: n.parse().unwrap(), limit: 500 };
    let l = |id: &str| Fetch::Lead { id: id.into() };
    let batch = vec![Fetch::Status, q("hot"), l("a"), q("all"), q("hot"), l("b"), Fetch::Status, l("c")];
    assert_eq!(coalesce(batch), vec![Fetch::Status, q("hot"), q("all"), l("c")]);
}
