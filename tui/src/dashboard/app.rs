//! The dashboard's state and its transitions. No IO: keys and arriving data go in, and
//! [`Effect`]s come out for the driver in `mod.rs` to perform, so every behaviour can be
//! tested, and snapshotted, without a terminal or a daemon.

use std::collections::HashSet;
use std::ops::Range;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use leadline_shared::domain::{ItemState, LeadSummary, OpKind, OpState, Opportunity};
use leadline_shared::protocol::{
    AnalyticsRange, AnalyticsReport, ComposeInfo, Event, FollowUpView, LeadDetail, QueueName, QueuePage,
    SearchPage, StatusReport, SyncState, SyncStatus, TaskList, Welcome,
};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::Rect;

use super::action::Action;
use super::components::ellipsize;
use super::compose::{Compose, ComposeOutcome};
use super::connection::{ConnEffect, ConnEvent, ConnState, Connection};
use super::deal::{DealOutcome, DealView};
pub use super::followups::{FollowUpCommand, FollowUpCounts, FollowUpRow, FollowUpsView, followup_group};
use super::input::{InputOutcome, TextInput};
use super::keymap::Keymap;
pub use super::queue_window::{QueueView, WindowRequest};
pub use super::search::{SEARCH_DEBOUNCE, SEARCH_LIMIT, SearchView};
pub use super::tasks::TasksView;
use jiff::tz::TimeZone;

/// How many actions the follow-ups screen asks for in each of its requests (those needing the
/// agent; those planned), soonest first: enough for a day's work, and one frame's worth of JSON.
pub const FOLLOWUP_LIMIT: u32 = 500;

/// How many finished actions (sent, done, skipped, cancelled) the follow-ups screen shows,
/// newest first.
pub const RECENT_FOLLOWUPS: u32 = 50;

/// How long pushed change events are collected before the visible queue is re-fetched, so a
/// burst of changes (a sync page, a rescore) costs one query.
pub const REFRESH_DEBOUNCE: Duration = Duration::from_millis(300);

/// How many rows one notch of the mouse wheel moves the selection, as terminals scroll text.
pub const WHEEL_ROWS: isize = 3;

/// How long a confirmation or progress message stays in the footer. Errors stay until
/// dismissed or replaced.
pub const FLASH_TTL: SignedDuration = SignedDuration::from_secs(8);

/// IO the driver performs for the [`App`].
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Connect (two connections: requests and events); report [`Update::Connected`] or
    /// [`Update::ConnectFailed`].
    Connect,
    /// Drop the connection.
    Disconnect,
    /// Start the daemon; report [`Update::DaemonStarted`] or [`Update::DaemonStartFailed`].
    StartDaemon,
    /// Report [`Update::RetryDue`] with this token after this long.
    ScheduleRetry {
        /// Passed back in [`Update::RetryDue`].
        token: u64,
        /// How long to wait.
        after: Duration,
    },
    /// Report [`Update::RefreshDue`] after this long.
    ScheduleRefresh {
        /// How long to wait.
        after: Duration,
    },
    /// `Request::Status`; report [`Update::StatusLoaded`].
    FetchStatus,
    /// `Request::Queue`; report [`Update::QueueLoaded`] with the same `window`, or
    /// [`Update::QueueFailed`].
    FetchQueue {
        /// Which queue.
        name: QueueName,
        /// Which rows.
        window: WindowRequest,
    },
    /// `Request::Lead`; report [`Update::LeadLoaded`].
    FetchLead {
        /// The contact id.
        id: String,
    },
    /// `Request::Edit`; report [`Update::EditAccepted`] or [`Update::EditFailed`].
    Edit {
        /// The lead.
        contact_id: String,
        /// The edit.
        op: OpKind,
    },
    /// `Request::SyncNow { wait: false, full: false }`; report [`Update::SyncStarted`] or
    /// [`Update::SyncFailed`].
    SyncNow,
    /// `Request::RetryOp`; report [`Update::RetryAccepted`] or [`Update::RetryFailed`].
    Retry {
        /// The pending op.
        seq: u64,
    },
    /// `Request::FollowUps` for each part of the follow-ups screen (see
    /// [`super::followup_filters`]); report [`Update::FollowUpsLoaded`].
    FetchFollowUps,
    /// `Request::Analytics` for the range shown; report [`Update::AnalyticsLoaded`].
    FetchAnalytics {
        /// Which arrivals the figures cover.
        range: AnalyticsRange,
    },
    /// Report [`Update::SearchDue`] with this number after this long (the query's debounce).
    ScheduleSearch {
        /// The query's number.
        seq: u64,
        /// How long to wait.
        after: Duration,
    },
    /// `Request::Search`; report [`Update::SearchLoaded`] or [`Update::SearchFailed`] with the
    /// same number.
    Search {
        /// The query's number.
        seq: u64,
        /// What to look for.
        query: String,
        /// How many leads at most.
        limit: u32,
    },
    /// A follow-up command; report [`Update::FollowUpDone`] or [`Update::FollowUpFailed`].
    FollowUp {
        /// The lead it concerns.
        contact_id: String,
        /// What to do.
        command: FollowUpCommand,
        /// How the footer names it: `sms nurture_day3 for Maria Gonzalez`, or the lead's name
        /// for a pause.
        what: String,
    },
    /// `Request::Compose` for a lead; report [`Update::ComposeLoaded`] or
    /// [`Update::ComposeFailed`].
    FetchCompose {
        /// The lead.
        contact_id: String,
    },
    /// `Request::Tasks`; report [`Update::TasksLoaded`].
    FetchTasks,
    /// Leave the dashboard.
    Quit,
}

/// Data and outcomes arriving from the driver.
#[derive(Debug, Clone, PartialEq)]
pub enum Update {
    /// Time passed (once a second): relative times and the retry countdown move on.
    Tick {
        /// The current time.
        now: Timestamp,
    },
    /// Both connections are up.
    Connected {
        /// The daemon's handshake.
        welcome: Welcome,
    },
    /// Connecting failed.
    ConnectFailed {
        /// What went wrong, shown in the banner.
        error: String,
        /// No daemon answers (see `ClientError::is_unreachable`).
        unreachable: bool,
    },
    /// An established connection broke.
    Disconnected {
        /// What went wrong.
        error: String,
    },
    /// A scheduled retry is due.
    RetryDue {
        /// The token from [`Effect::ScheduleRetry`].
        token: u64,
    },
    /// Starting the daemon returned successfully.
    DaemonStarted,
    /// Starting the daemon failed.
    DaemonStartFailed {
        /// Why.
        error: String,
    },
    /// The scheduled refresh is due.
    RefreshDue,
    /// The daemon's status.
    StatusLoaded(Box<StatusReport>),
    /// A window of a queue, with the queue's length.
    QueueLoaded {
        /// Which queue.
        name: QueueName,
        /// What [`Effect::FetchQueue`] asked for (an answer to an earlier request than the
        /// last one is dropped).
        window: WindowRequest,
        /// The daemon's answer.
        page: Box<QueuePage>,
    },
    /// A queue request the daemon refused or could not answer (the connection is fine).
    QueueFailed {
        /// Which queue.
        name: QueueName,
        /// What was asked.
        window: WindowRequest,
        /// The daemon's message.
        error: String,
    },
    /// One lead in full.
    LeadLoaded(Box<LeadDetail>),
    /// An event pushed by the daemon.
    DaemonEvent(Event),
    /// A request the daemon answered with an error (the connection is fine).
    RequestFailed {
        /// The daemon's message.
        error: String,
    },
    /// The daemon applied an edit locally and queued it for GHL.
    EditAccepted {
        /// The lead.
        contact_id: String,
        /// The edit.
        op: OpKind,
        /// Its pending op's sequence number.
        seq: u64,
    },
    /// An edit was not saved.
    EditFailed {
        /// The lead.
        contact_id: String,
        /// The edit.
        op: OpKind,
        /// Why.
        error: String,
    },
    /// The daemon started a sync (or said why not, in the state).
    SyncStarted(Box<SyncStatus>),
    /// Asking for a sync failed.
    SyncFailed {
        /// Why.
        error: String,
    },
    /// A failed edit goes back in the queue for the next sync.
    RetryAccepted {
        /// The pending op.
        seq: u64,
    },
    /// Retrying an edit failed.
    RetryFailed {
        /// The pending op.
        seq: u64,
        /// Why.
        error: String,
    },
    /// The follow-up actions of the screen's parts, in any order (the screen sorts them).
    FollowUpsLoaded(Vec<FollowUpView>),
    /// The analytics figures arrived.
    AnalyticsLoaded(Box<AnalyticsReport>),
    /// What Compose needs of a lead arrived.
    ComposeLoaded(Box<ComposeInfo>),
    /// Compose could not learn of the lead.
    ComposeFailed {
        /// The lead.
        contact_id: String,
        /// Why.
        error: String,
    },
    /// The debounce of query `seq` is over: ask for it if it is still the latest.
    SearchDue {
        /// The number from [`Effect::ScheduleSearch`].
        seq: u64,
    },
    /// The leads that match query `seq`.
    SearchLoaded {
        /// The number from [`Effect::Search`].
        seq: u64,
        /// The query as it was sent.
        query: String,
        /// The daemon's answer.
        page: Box<SearchPage>,
    },
    /// Query `seq` got no answer.
    SearchFailed {
        /// The number from [`Effect::Search`].
        seq: u64,
        /// Why, in the daemon's words.
        error: String,
    },
    /// The open tasks arrived.
    TasksLoaded(Box<TaskList>),
    /// The daemon did a follow-up command.
    FollowUpDone {
        /// The lead it concerns.
        contact_id: String,
        /// What was done.
        command: FollowUpCommand,
        /// Its name in the footer.
        what: String,
    },
    /// The daemon refused a follow-up command (or could not be asked).
    FollowUpFailed {
        /// The lead it concerns.
        contact_id: String,
        /// What was asked.
        command: FollowUpCommand,
        /// Its name in the footer.
        what: String,
        /// Why, in the daemon's words (which say what to do).
        error: String,
    },
}

/// Which screen is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    /// A lead queue (the one at `App::current`).
    Queue,
    /// The follow-ups screen.
    FollowUps,
    /// The analytics screen.
    Analytics,
    /// Leads found by name, phone, email or tag (over the screen it was opened from).
    Search,
    /// The agent's open tasks, overdue first.
    Tasks,
}

/// What a text prompt asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptKind {
    /// A tag to add.
    AddTag,
    /// A tag to remove.
    RemoveTag,
    /// A note's text.
    AddNote,
    /// A follow-up message's text, approved on Enter.
    EditFollowUp,
    /// A task: its title, then when it is due.
    AddTask,
}

impl PromptKind {
    /// The popup's title.
    pub fn title(self) -> &'static str {
        match self {
            PromptKind::AddTag => "Add tag",
            PromptKind::RemoveTag => "Remove tag",
            PromptKind::AddNote => "Add note",
            PromptKind::EditFollowUp => "Edit and approve",
            PromptKind::AddTask => "Add task (title, then when: \"Call back tomorrow 10am\")",
        }
    }
}

/// The follow-up action an edit prompt approves (fixed when the prompt opens, even if the list
/// reloads under it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromptFollowUp {
    /// The action's id.
    pub id: String,
    /// Its name in the footer.
    pub what: String,
}

/// The open text prompt: what it asks, for which lead, and the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    /// What it asks for.
    pub kind: PromptKind,
    /// The lead the edit goes to (fixed when the prompt opens, even if the queue reorders).
    pub contact_id: String,
    /// The lead's name, for the title.
    pub lead_name: String,
    /// The lead's tags when the prompt opened (shown when removing one).
    pub tags: Vec<String>,
    /// The follow-up action an edit prompt approves; `None` for the lead edits.
    pub followup: Option<PromptFollowUp>,
    /// The text.
    pub input: TextInput,
}

/// How a footer message looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlashKind {
    /// Something is under way.
    Info,
    /// Something worked.
    Success,
    /// Something failed; stays until dismissed or replaced.
    Error,
}

/// A short message in the footer, e.g. that an edit was saved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flash {
    /// The text.
    pub text: String,
    /// How it looks.
    pub kind: FlashKind,
    /// When it goes away by itself (`None`: when dismissed).
    pub until: Option<Timestamp>,
}

/// An edit as the footer and the detail pane name it: `tag 'VIP'`, `note "Called…"`.
pub fn describe_op(op: &OpKind, opportunities: &[Opportunity]) -> String {
    let deal = |id: &str| {
        opportunities
            .iter()
            .find(|o| o.id == id)
            .and_then(|o| o.name.clone())
            .map_or_else(|| "deal".to_owned(), |name| format!("deal '{}'", ellipsize(&name, 30)))
    };
    let quote = |body: &str| {
        let one_line = body.split_whitespace().collect::<Vec<_>>().join(" ");
        format!("\"{}\"", ellipsize(&one_line, 40))
    };
    match op {
        OpKind::AddTag { tag } => format!("tag '{tag}'"),
        OpKind::RemoveTag { tag } => format!("tag '{tag}' removed"),
        OpKind::AddNote { body } => format!("note {}", quote(body)),
        OpKind::SetStage { opportunity_id, pipeline_stage_id } => {
            format!("{} moved to stage {pipeline_stage_id}", deal(opportunity_id))
        }
        OpKind::SetStatus { opportunity_id, status } => format!("{} marked {status}", deal(opportunity_id)),
        OpKind::AddTask { title, .. } => format!("task '{}'", ellipsize(title, 40)),
        OpKind::CompleteTask { .. } => "task marked done".to_owned(),
        OpKind::Assign { user_id } => format!("assigned to {user_id}"),
        OpKind::SetDnd { channel, on } => {
            format!("do not disturb ({channel}) {}", if *on { "on" } else { "off" })
        }
        OpKind::SendMessage { channel, body, .. } => format!("{channel} message {}", quote(body)),
    }
}

/// The rows of a table `height` rows tall to draw, given the previous first row and the
/// selection: the window moves only as far as needed to keep the selection visible, and never
/// leaves blank rows at the bottom while rows are above. Only this range is ever turned into
/// table rows, so a frame costs the same at 100 rows or 100 000.
pub fn visible_range(len: usize, offset: usize, selected: usize, height: usize) -> Range<usize> {
    if len == 0 || height == 0 {
        return 0..0;
    }
    let selected = selected.min(len - 1);
    let mut start = offset;
    if selected < start {
        start = selected;
    }
    if selected >= start + height {
        start = selected + 1 - height;
    }
    start = start.min(len.saturating_sub(height));
    start..(start + height).min(len)
}

/// The dashboard's state.
#[derive(Debug, Clone)]
pub struct App {
    pub(super) now: Timestamp,
    pub(super) keymap: Keymap,
    pub(super) views: Vec<QueueView>,
    pub(super) current: usize,
    pub(super) screen: Screen,
    pub(super) followups: FollowUpsView,
    /// The analytics figures last received (for `analytics_range`, or the range before it
    /// while a new one loads).
    pub(super) analytics: Option<AnalyticsReport>,
    /// The range the analytics screen shows.
    pub(super) analytics_range: AnalyticsRange,
    /// The search screen.
    pub(super) search: SearchView,
    /// How far the help overlay is scrolled (it is taller than a small terminal).
    pub(super) help_scroll: u16,
    pub(super) detail_open: bool,
    pub(super) detail: Option<LeadDetail>,
    /// How far the lead pane is scrolled, and for which lead (another lead starts at the top).
    pub(super) detail_scroll: (Option<String>, u16),
    /// The movement keys scroll the lead pane instead of moving through the list.
    pub(super) detail_focus: bool,
    /// The Deal screen, when open.
    pub(super) deal: Option<DealView>,
    /// The lead the Deal screen shows, as last loaded.
    pub(super) deal_detail: Option<LeadDetail>,
    /// The Tasks screen.
    pub(super) tasks: TasksView,
    /// The agent's zone: typed task times are read in it.
    pub(super) tz: TimeZone,
    /// The commission rate the Deal screen's calculator starts from, in percent.
    pub(super) commission_rate_pct: f64,
    requested_lead: Option<String>,
    pub(super) status: Option<StatusReport>,
    pub(super) welcome: Option<Welcome>,
    pub(super) conn: Connection,
    pub(super) help: bool,
    pub(super) last_error: Option<String>,
    pub(super) prompt: Option<Prompt>,
    /// The Compose overlay, when open.
    pub(super) compose: Option<Compose>,
    pub(super) flash: Option<Flash>,
    /// `R` was pressed before the lead's edits were loaded: retry them when they arrive.
    retry_when_loaded: Option<String>,
    refresh_scheduled: bool,
    changed: HashSet<String>,
    /// An event named no lead: everything on screen is read again, the open lead too.
    all_changed: bool,
    size: (u16, u16),
}

impl App {
    /// A dashboard with no data yet, on the first queue, with the default keymap.
    pub fn new(now: Timestamp) -> Self {
        App {
            now,
            keymap: Keymap::defaults(),
            views: QueueName::BUILT_IN.into_iter().map(QueueView::new).collect(),
            current: 0,
            screen: Screen::Queue,
            followups: FollowUpsView::new(),
            analytics: None,
            analytics_range: AnalyticsRange::Days30,
            search: SearchView::new(),
            help_scroll: 0,
            detail_open: false,
            detail: None,
            detail_scroll: (None, 0),
            detail_focus: false,
            deal: None,
            deal_detail: None,
            tasks: TasksView::default(),
            tz: TimeZone::system(),
            commission_rate_pct: super::commission::DEFAULT_RATE_PCT,
            requested_lead: None,
            status: None,
            welcome: None,
            conn: Connection::new(),
            help: false,
            last_error: None,
            prompt: None,
            compose: None,
            flash: None,
            retry_when_loaded: None,
            refresh_scheduled: false,
            changed: HashSet::new(),
            all_changed: false,
            size: (0, 0),
        }
    }

    /// An offline dashboard whose current queue is `rows`, all held (for benchmarks and tests
    /// of drawing).
    #[allow(dead_code, reason = "API for the benchmark and keymap loading; the binary alone may not call it")]
    pub fn with_rows(now: Timestamp, rows: Vec<LeadSummary>) -> Self {
        let total = rows.len() as u64;
        let page = QueuePage { total, offset: 0, rows, anchor_at: None };
        let mut app = App::new(now);
        app.load_page(page);
        app
    }

    /// A dashboard connected to the daemon whose current queue holds `page` (the queue's
    /// length is `page.total`; the rows sit at `page.offset`). Being online, it asks for the
    /// rows it lacks as the selection moves: each action returns an [`Effect::FetchQueue`],
    /// to be answered with [`Update::QueueLoaded`] (see [`super::queue_window::page_of`]). For
    /// benchmarks and tests of paging.
    #[allow(dead_code, reason = "API for the benchmark; the binary alone may not call it")]
    pub fn with_page(now: Timestamp, page: QueuePage) -> Self {
        let mut app = App::new(now);
        app.conn.handle(ConnEvent::Connected { now });
        app.load_page(page);
        app
    }

    /// Takes `page` in as the current queue's, answering no request.
    fn load_page(&mut self, page: QueuePage) {
        let name = self.current_queue().clone();
        let limit = u32::try_from(page.rows.len()).unwrap_or(u32::MAX);
        let window = WindowRequest { offset: page.offset, limit, anchor: None };
        self.apply(Update::QueueLoaded { name, window, page: Box::new(page) });
    }

    /// How many leads the dashboard holds, all tabs together: a few windows, whatever the
    /// queues' lengths.
    #[allow(dead_code, reason = "API for the benchmark; the binary alone may not call it")]
    pub fn rows_held(&self) -> usize {
        self.views.iter().map(|v| v.held().len()).sum()
    }

    /// The exact length of the queue of tab `index`, if known: the current tab's from its
    /// last page; another's from the daemon's status (fresher than a page fetched when the
    /// tab was last shown), or from its last page when the status does not list it.
    pub fn queue_total(&self, index: usize) -> Option<u64> {
        let view = self.views.get(index)?;
        let from_page = view.loaded.then_some(view.total as u64);
        let from_status = || {
            let counts = &self.status.as_ref()?.queues;
            counts.iter().find(|c| c.name == view.name).map(|c| c.total)
        };
        if index == self.current { from_page.or_else(from_status) } else { from_status().or(from_page) }
    }

    /// A dashboard on the follow-ups screen holding `views` (for benchmarks and tests).
    #[allow(dead_code, reason = "API for the benchmark and keymap loading; the binary alone may not call it")]
    pub fn with_followups(now: Timestamp, views: Vec<FollowUpView>) -> Self {
        let mut app = App::new(now);
        app.screen = Screen::FollowUps;
        app.apply(Update::FollowUpsLoaded(views));
        app
    }

    /// The zone typed task times are read in (the system's by default).
    pub fn set_time_zone(&mut self, tz: TimeZone) {
        self.tz = tz;
    }

    /// The commission rate the Deal screen starts from, as a fraction (`[analytics]
    /// commission_rate`, 0.025 for 2.5 %).
    #[allow(dead_code, reason = "called by the binary's startup with the config")]
    pub fn set_commission_rate(&mut self, rate: f64) {
        self.commission_rate_pct = rate * 100.0;
    }

    /// The Deal screen, if open.
    pub fn deal(&self) -> Option<&DealView> {
        self.deal.as_ref()
    }

    /// The Tasks screen's rows and selection.
    pub fn tasks(&self) -> &TasksView {
        &self.tasks
    }

    /// How far the lead pane is scrolled (0 for a lead other than the one scrolled).
    pub fn detail_scroll(&self) -> u16 {
        match (&self.detail_scroll.0, self.selected_lead()) {
            (Some(id), Some(lead)) if *id == lead.id => self.detail_scroll.1,
            _ => 0,
        }
    }

    /// Whether the lead pane has the movement keys.
    pub fn detail_focused(&self) -> bool {
        self.detail_focus && self.detail_open
    }

    /// Scrolls the lead pane by `delta` lines (kept within its text).
    fn scroll_detail(&mut self, delta: isize) {
        let Some(id) = self.selected_lead().map(|l| l.id.clone()) else {
            return;
        };
        let max = {
            let (w, h) = self.size;
            super::layout(Rect::new(0, 0, w, h), self)
                .detail
                .map_or(0, |area| super::components::detail::max_scroll(self, area))
        };
        let now = self.detail_scroll();
        let next = (now as isize).saturating_add(delta).clamp(0, isize::try_from(max).unwrap_or(isize::MAX));
        self.detail_scroll = (Some(id), next as u16);
    }

    /// Replaces the keymap (the defaults with the user's keymap file applied).
    pub fn set_keymap(&mut self, keymap: Keymap) {
        self.keymap = keymap;
    }

    /// The live keymap.
    #[allow(dead_code, reason = "API for the benchmark and keymap loading; the binary alone may not call it")]
    pub fn keymap(&self) -> &Keymap {
        &self.keymap
    }

    /// Sets the clock. The driver calls it before each update so that banners and timers use
    /// the real time; tests leave it fixed.
    pub fn set_now(&mut self, now: Timestamp) {
        self.now = now;
    }

    /// The terminal's size, which decides how far a page moves and keeps the selection on
    /// screen. A taller table may need rows not held yet: the effect asks for them.
    pub fn resize(&mut self, width: u16, height: u16) -> Vec<Effect> {
        self.size = (width, height);
        self.help_scroll = self.help_scroll.min(self.help_max_scroll());
        let compose_width = self.compose_width();
        if let Some(compose) = &mut self.compose {
            compose.body.set_width(compose_width);
        }
        let page = self.page_rows();
        match self.screen {
            Screen::Queue => {
                let view = &mut self.views[self.current];
                view.select(view.selected, page);
                self.fetch_queue(self.current, false).into_iter().collect()
            }
            Screen::FollowUps => {
                self.followups.select(self.followups.selected, page);
                Vec::new()
            }
            Screen::Analytics | Screen::Tasks => Vec::new(),
            Screen::Search => {
                self.search.select(self.search.selected, page);
                Vec::new()
            }
        }
    }

    /// The search screen's query, results and selection.
    pub fn search(&self) -> &SearchView {
        &self.search
    }

    /// The analytics figures on hand and the range the screen shows.
    pub fn analytics(&self) -> (Option<&AnalyticsReport>, AnalyticsRange) {
        (self.analytics.as_ref(), self.analytics_range)
    }

    /// A dashboard on the analytics screen holding `report` (for benchmarks and tests).
    #[allow(dead_code, reason = "API for the benchmark and tests; the binary alone does not call it")]
    pub fn with_analytics(now: Timestamp, report: AnalyticsReport) -> Self {
        let mut app = App::new(now);
        app.screen = Screen::Analytics;
        app.analytics_range = report.range;
        app.apply(Update::AnalyticsLoaded(Box::new(report)));
        app
    }

    /// The effects to perform first: connect.
    pub fn start(&mut self) -> Vec<Effect> {
        conn_effects(self.conn.start())
    }

    /// The queue on screen.
    pub fn current_queue(&self) -> &QueueName {
        &self.views[self.current].name
    }

    /// The screen on: a queue, or the follow-ups.
    pub fn screen(&self) -> Screen {
        self.screen
    }

    /// The follow-ups screen's rows and selection.
    pub fn followups(&self) -> &FollowUpsView {
        &self.followups
    }

    /// The tab on: a queue's index, the follow-ups tab after the queues, then analytics; on
    /// the search screen, the tab it was opened from (the tab keys move on from there).
    pub fn tab_index(&self) -> usize {
        let screen = if self.screen == Screen::Search { self.search.back_to } else { self.screen };
        match screen {
            Screen::Queue | Screen::Search | Screen::Tasks => self.current,
            Screen::FollowUps => self.views.len(),
            Screen::Analytics => self.views.len() + 1,
        }
    }

    /// The tab highlighted in the tab bar: none while searching or on the Tasks screen.
    pub fn highlighted_tab(&self) -> Option<usize> {
        (!matches!(self.screen, Screen::Search | Screen::Tasks)).then(|| self.tab_index())
    }

    /// How far the help overlay is scrolled.
    pub fn help_scroll(&self) -> u16 {
        self.help_scroll
    }

    fn help_max_scroll(&self) -> u16 {
        super::components::help::max_scroll(&self.keymap, self.size.1)
    }

    /// The queue tab last shown (also while the follow-ups screen is on).
    pub fn view(&self) -> &QueueView {
        &self.views[self.current]
    }

    /// The selected lead, if any: the search's on the search screen, else the queue's.
    pub fn selected_lead(&self) -> Option<&LeadSummary> {
        if self.screen == Screen::Search { self.search.selected_lead() } else { self.view().selected_lead() }
    }

    /// The loaded detail of the selected lead, if it has arrived.
    pub fn selected_detail(&self) -> Option<&LeadDetail> {
        let id = &self.selected_lead()?.id;
        self.detail.as_ref().filter(|d| &d.lead.id == id)
    }

    /// The connection state.
    pub fn connection(&self) -> &ConnState {
        self.conn.state()
    }

    /// Whether the detail pane is open.
    pub fn detail_open(&self) -> bool {
        self.detail_open
    }

    /// Whether the help overlay is shown.
    pub fn help_visible(&self) -> bool {
        self.help
    }

    /// The open text prompt, if any.
    pub fn prompt(&self) -> Option<&Prompt> {
        self.prompt.as_ref()
    }

    /// The Compose overlay, if open.
    pub fn compose(&self) -> Option<&Compose> {
        self.compose.as_ref()
    }

    /// The footer message, if any.
    pub fn flash(&self) -> Option<&Flash> {
        self.flash.as_ref()
    }

    /// Table rows that fit on screen, from the terminal size given to [`App::resize`].
    pub fn page_rows(&self) -> usize {
        let (w, h) = self.size;
        usize::from(super::layout(Rect::new(0, 0, w, h), self).table_rows).max(1)
    }

    /// A key press: given to the open prompt if there is one (it swallows every key), else
    /// resolved through the keymap and handled.
    pub fn handle_key(&mut self, key: &KeyEvent) -> Vec<Effect> {
        if self.compose.is_some() {
            return self.compose_key(key);
        }
        if self.deal.is_some() && self.prompt.is_none() && !self.help {
            return self.deal_key(key);
        }
        if let Some(prompt) = &mut self.prompt {
            return match prompt.input.handle_key(key) {
                InputOutcome::Consumed => Vec::new(),
                InputOutcome::Cancel => {
                    self.prompt = None;
                    Vec::new()
                }
                InputOutcome::Submit => self.submit_prompt(),
            };
        }
        if self.screen == Screen::Search && self.search.editing && !self.help {
            return self.search_key(key);
        }
        match self.keymap.resolve(key) {
            Some(action) => self.handle_action(action),
            None => Vec::new(),
        }
    }

    /// A mouse event: over the queue table, the wheel moves the selection (fetching rows as
    /// the keys do) and a click selects the row under the pointer; over the help overlay the
    /// wheel scrolls it. Anything else, and everything while a prompt is open, is ignored.
    pub fn handle_mouse(&mut self, mouse: &MouseEvent) -> Vec<Effect> {
        if self.prompt.is_some() || self.compose.is_some() {
            return Vec::new();
        }
        if self.help {
            match mouse.kind {
                MouseEventKind::ScrollDown => self.scroll_help(Action::NextRow),
                MouseEventKind::ScrollUp => self.scroll_help(Action::PrevRow),
                _ => {}
            }
            return Vec::new();
        }
        if self.screen != Screen::Queue {
            return Vec::new();
        }
        let (w, h) = self.size;
        let Some(table) = super::layout(Rect::new(0, 0, w, h), self).table else {
            return Vec::new();
        };
        let inside = mouse.column >= table.x
            && mouse.column < table.right()
            && mouse.row >= table.y
            && mouse.row < table.bottom();
        if !inside {
            return Vec::new();
        }
        let page = self.page_rows();
        match mouse.kind {
            MouseEventKind::ScrollDown => self.move_selection(WHEEL_ROWS, page),
            MouseEventKind::ScrollUp => self.move_selection(-WHEEL_ROWS, page),
            MouseEventKind::Down(MouseButton::Left) => {
                // Lead rows start below the top border and the header.
                let first_row = table.y + super::components::queue_table::CHROME_ROWS - 1;
                let Some(line) = mouse.row.checked_sub(first_row) else {
                    return Vec::new();
                };
                let visible = self.view().visible(page);
                let row = visible.start + usize::from(line);
                if !visible.contains(&row) {
                    return Vec::new();
                }
                let delta = row as isize - self.view().selected as isize;
                self.move_selection(delta, page)
            }
            _ => Vec::new(),
        }
    }

    /// Executes an action.
    pub fn handle_action(&mut self, action: Action) -> Vec<Effect> {
        // An open prompt or Compose takes keys as text (see `handle_key`); actions wait until
        // it closes.
        if self.prompt.is_some() || self.compose.is_some() || self.deal.is_some() {
            return Vec::new();
        }
        // The help overlay is modal: it swallows every key except those that close it, scroll
        // it or quit.
        if self.help && !matches!(action, Action::Help | Action::Close | Action::Quit) {
            self.scroll_help(action);
            return Vec::new();
        }
        let page = self.page_rows();
        // A focused lead pane takes the movement keys.
        if self.detail_focused() && matches!(self.screen, Screen::Queue | Screen::Search) {
            let lines = isize::try_from(self.size.1.saturating_sub(6).max(1)).unwrap_or(1);
            let delta = match action {
                Action::NextRow => Some(1),
                Action::PrevRow => Some(-1),
                Action::PageDown => Some(lines),
                Action::PageUp => Some(-lines),
                Action::FirstRow => Some(isize::MIN / 2),
                Action::LastRow => Some(isize::MAX / 2),
                _ => None,
            };
            if let Some(delta) = delta {
                self.scroll_detail(delta);
                return Vec::new();
            }
        }
        match action {
            Action::ScrollDetailDown | Action::ScrollDetailUp => {
                if !self.detail_open || !matches!(self.screen, Screen::Queue | Screen::Search) {
                    let hint = self.keys_hint(Action::ToggleDetail).unwrap_or_default();
                    self.flash_error(format!("That key scrolls the lead pane: open it first{hint}."));
                } else {
                    self.scroll_detail(if action == Action::ScrollDetailDown { 1 } else { -1 });
                }
            }
            Action::FocusDetail => {
                if matches!(self.screen, Screen::Queue | Screen::Search) {
                    self.detail_focus = !self.detail_focused();
                    if self.detail_focus && !self.detail_open {
                        self.detail_open = true;
                        return self.fetch_detail_if_needed();
                    }
                }
            }
            Action::OpenDeal => return self.open_deal(),
            Action::AddTask if matches!(self.screen, Screen::Queue | Screen::Search) => {
                self.open_prompt(PromptKind::AddTask);
            }
            Action::AddTask => {
                let queues = self.keys_hint(Action::Queue(0)).unwrap_or_default();
                self.flash_error(format!(
                    "A task is added to a lead of a queue{queues}: select the lead first."
                ));
            }
            Action::Tasks => return self.open_tasks(),
            Action::CompleteTask => return self.complete_task(),
            Action::Quit => return vec![Effect::Quit],
            Action::Help => {
                self.help = !self.help;
                self.help_scroll = 0;
            }
            Action::Close => {
                let message = self.flash.is_some() || self.last_error.is_some();
                if self.help {
                    self.help = false;
                } else if self.detail_focused() && matches!(self.screen, Screen::Queue | Screen::Search) {
                    self.detail_focus = false;
                } else if self.screen == Screen::Tasks && !message {
                    let back = self.tasks.back_to;
                    return self.switch_tab(match back {
                        Screen::FollowUps => self.views.len(),
                        Screen::Analytics => self.views.len() + 1,
                        _ => self.current,
                    });
                } else if matches!(self.screen, Screen::Queue | Screen::Search) && self.detail_open {
                    self.detail_open = false;
                } else if self.screen == Screen::FollowUps && self.followups.pane_open && !message {
                    // The pane is open by default there, so a message is dismissed first.
                    self.followups.pane_open = false;
                } else if self.screen == Screen::Search && !message {
                    return self.close_search();
                } else {
                    self.last_error = None;
                    self.flash = None;
                }
            }
            Action::NextRow => return self.move_selection(1, page),
            Action::PrevRow => return self.move_selection(-1, page),
            Action::PageDown => return self.move_selection(page as isize, page),
            Action::PageUp => return self.move_selection(-(page as isize), page),
            Action::FirstRow => return self.move_selection(isize::MIN, page),
            Action::LastRow => return self.move_selection(isize::MAX, page),
            Action::NextQueue => return self.switch_tab((self.tab_index() + 1) % self.tab_count()),
            Action::PrevQueue => {
                return self.switch_tab((self.tab_index() + self.tab_count() - 1) % self.tab_count());
            }
            Action::Queue(i) => {
                if usize::from(i) < self.views.len() {
                    return self.switch_tab(usize::from(i));
                }
            }
            Action::FollowUps => return self.switch_tab(self.views.len()),
            Action::Search => return self.open_search(),
            Action::Analytics => return self.switch_tab(self.views.len() + 1),
            Action::RangeLonger | Action::RangeShorter => {
                if self.screen != Screen::Analytics {
                    let hint = self.keys_hint(Action::Analytics).unwrap_or_default();
                    self.flash_error(format!("That key changes the analytics range: open analytics{hint}."));
                    return Vec::new();
                }
                let range = if action == Action::RangeLonger {
                    self.analytics_range.longer()
                } else {
                    self.analytics_range.shorter()
                };
                if range == self.analytics_range {
                    return Vec::new();
                }
                self.analytics_range = range;
                return if self.conn.is_online() {
                    vec![Effect::FetchAnalytics { range }]
                } else {
                    Vec::new()
                };
            }
            Action::OpenDetail | Action::ToggleDetail if self.screen == Screen::FollowUps => {
                self.followups.pane_open = action == Action::OpenDetail || !self.followups.pane_open;
            }
            Action::OpenDetail => {
                self.detail_open = true;
                return self.fetch_detail_if_needed();
            }
            Action::ToggleDetail => {
                self.detail_open = !self.detail_open;
                return self.fetch_detail_if_needed();
            }
            Action::Refresh => {
                if self.conn.is_online() {
                    self.last_error = None;
                    return match self.screen {
                        Screen::FollowUps => vec![Effect::FetchStatus, Effect::FetchFollowUps],
                        Screen::Tasks => vec![Effect::FetchStatus, Effect::FetchTasks],
                        Screen::Analytics => {
                            vec![Effect::FetchStatus, Effect::FetchAnalytics { range: self.analytics_range }]
                        }
                        Screen::Queue => {
                            let mut effects = vec![Effect::FetchStatus];
                            effects.extend(self.refresh_current());
                            effects.extend(self.fetch_detail(true));
                            effects
                        }
                        Screen::Search => {
                            let mut effects = vec![Effect::FetchStatus];
                            effects.extend(self.search_again());
                            effects.extend(self.fetch_detail(true));
                            effects
                        }
                    };
                }
                return conn_effects(self.conn.handle(ConnEvent::RetryNow));
            }
            Action::AddTag | Action::RemoveTag | Action::AddNote | Action::RetryEdits
                if !matches!(self.screen, Screen::Queue | Screen::Search) =>
            {
                let queues = self.keys_hint(Action::Queue(0)).unwrap_or_default();
                self.flash_error(format!(
                    "Tags, notes and edit retries act on a lead of a queue{queues}; the follow-ups screen acts on follow-ups."
                ));
            }
            Action::Compose if !matches!(self.screen, Screen::Queue | Screen::Search) => {
                let queues = self.keys_hint(Action::Queue(0)).unwrap_or_default();
                let search = self.keys_hint(Action::Search).unwrap_or_default();
                self.flash_error(format!(
                    "Compose writes to a lead of a queue{queues} or of a search{search}: select the lead, or open it, then press the key again."
                ));
            }
            Action::Compose => return self.open_compose(),
            Action::AddTag => self.open_prompt(PromptKind::AddTag),
            Action::RemoveTag => self.open_prompt(PromptKind::RemoveTag),
            Action::AddNote => self.open_prompt(PromptKind::AddNote),
            Action::RetryEdits => return self.retry_edits(),
            Action::ApproveFollowUp | Action::EditFollowUp | Action::SkipFollowUp | Action::SendAgain => {
                return self.followup_action(action);
            }
            Action::PauseLead => return self.pause_lead(true),
            Action::ResumeLead => return self.pause_lead(false),
            Action::SyncNow => {
                if !self.conn.is_online() {
                    self.flash_error("Not connected to the daemon, so it cannot sync now.".to_owned());
                    return Vec::new();
                }
                self.flash_info("Asking the daemon to sync with GHL…".to_owned());
                return vec![Effect::SyncNow];
            }
        }
        Vec::new()
    }

    /// `d`: the selected lead's deal, over the screen. Its detail is asked for again, so the
    /// stages and any pending stage change are current.
    fn open_deal(&mut self) -> Vec<Effect> {
        if !matches!(self.screen, Screen::Queue | Screen::Search) {
            let queues = self.keys_hint(Action::Queue(0)).unwrap_or_default();
            self.flash_error(format!("The Deal screen opens from a lead of a queue{queues} or a search."));
            return Vec::new();
        }
        let Some(lead) = self.selected_lead() else {
            self.flash_error("No lead selected.".to_owned());
            return Vec::new();
        };
        let (id, name) = (lead.id.clone(), lead.name.clone());
        let mut deal = DealView::new(&id, &name, self.commission_rate_pct);
        self.deal_detail = self.selected_detail().cloned();
        if let Some(detail) = &self.deal_detail {
            deal.loaded(detail);
        }
        self.deal = Some(deal);
        if self.conn.is_online() { vec![Effect::FetchLead { id }] } else { Vec::new() }
    }

    /// A key for the Deal screen, which takes them all while open.
    fn deal_key(&mut self, key: &KeyEvent) -> Vec<Effect> {
        let Some(deal) = &mut self.deal else {
            return Vec::new();
        };
        match deal.handle_key(key, self.deal_detail.as_ref()) {
            DealOutcome::None => Vec::new(),
            DealOutcome::Close => {
                self.deal = None;
                self.deal_detail = None;
                Vec::new()
            }
            DealOutcome::Refused(why) => {
                self.flash_error(why);
                Vec::new()
            }
            DealOutcome::Edit(op) => {
                let contact_id = deal.contact_id.clone();
                let opportunities =
                    self.deal_detail.as_ref().map(|d| d.opportunities.clone()).unwrap_or_default();
                if !self.conn.is_online() {
                    self.flash_error(format!(
                        "Not saved: {} (not connected to the daemon).",
                        describe_op(&op, &opportunities)
                    ));
                    return Vec::new();
                }
                self.flash_info(format!("Saving {}…", describe_op(&op, &opportunities)));
                vec![Effect::Edit { contact_id, op }]
            }
        }
    }

    /// The Tasks screen: the open tasks, asked for afresh.
    fn open_tasks(&mut self) -> Vec<Effect> {
        if self.screen != Screen::Tasks {
            self.tasks.back_to = if self.screen == Screen::Search { Screen::Queue } else { self.screen };
            self.screen = Screen::Tasks;
            self.retry_when_loaded = None;
        }
        if self.conn.is_online() { vec![Effect::FetchTasks] } else { Vec::new() }
    }

    /// Marks the selected task done, through the op log.
    fn complete_task(&mut self) -> Vec<Effect> {
        if self.screen != Screen::Tasks {
            let hint = self.keys_hint(Action::Tasks).unwrap_or_default();
            self.flash_error(format!("That key marks a task done: open the Tasks screen{hint}."));
            return Vec::new();
        }
        let Some(row) = self.tasks.selected_row() else {
            self.flash_error("No task selected.".to_owned());
            return Vec::new();
        };
        let title = row.task.title.clone().unwrap_or_else(|| "task".to_owned());
        if row.pending {
            self.flash_error(format!(
                "'{title}' is not in GHL yet, so it cannot be marked done there: wait for the next sync."
            ));
            return Vec::new();
        }
        let (contact_id, task_id) = (row.task.contact_id.clone(), row.task.id.clone());
        if !self.conn.is_online() {
            self.flash_error("Not connected to the daemon: edits need it running.".to_owned());
            return Vec::new();
        }
        self.flash_info(format!("Marking '{}' done…", ellipsize(&title, 40)));
        vec![Effect::Edit { contact_id, op: OpKind::CompleteTask { task_id } }]
    }

    /// Scrolls the help overlay with the movement keys (it may be taller than the terminal).
    fn scroll_help(&mut self, action: Action) {
        let page = self.size.1.saturating_sub(6).max(1);
        let max = self.help_max_scroll();
        self.help_scroll = match action {
            Action::NextRow => self.help_scroll.saturating_add(1),
            Action::PrevRow => self.help_scroll.saturating_sub(1),
            Action::PageDown => self.help_scroll.saturating_add(page),
            Action::PageUp => self.help_scroll.saturating_sub(page),
            Action::FirstRow => 0,
            Action::LastRow => max,
            _ => self.help_scroll,
        }
        .min(max);
    }

    /// ` (press 7)`: the first key of an action, to tell the agent where to go; `None` when
    /// the action is not bound.
    fn keys_hint(&self, action: Action) -> Option<String> {
        let key = self.keymap.keys_for(action).into_iter().next()?;
        Some(match action {
            Action::Queue(_) => " (switch with 1–6)".to_owned(),
            _ => format!(" (press {key})"),
        })
    }

    /// The number of tabs: the queues, the follow-ups screen and the analytics screen.
    fn tab_count(&self) -> usize {
        self.views.len() + 2
    }

    /// Shows tab `index`: a queue, or the follow-ups screen after the queues.
    fn switch_tab(&mut self, index: usize) -> Vec<Effect> {
        if index < self.views.len() {
            return self.switch_queue(index);
        }
        if index > self.views.len() {
            if self.screen == Screen::Analytics {
                return Vec::new();
            }
            self.screen = Screen::Analytics;
            self.retry_when_loaded = None;
            let range = self.analytics_range;
            return if self.conn.is_online() { vec![Effect::FetchAnalytics { range }] } else { Vec::new() };
        }
        if self.screen == Screen::FollowUps {
            return Vec::new();
        }
        self.screen = Screen::FollowUps;
        self.retry_when_loaded = None;
        let page = self.page_rows();
        self.followups.select(self.followups.selected, page);
        if self.conn.is_online() { vec![Effect::FetchFollowUps] } else { Vec::new() }
    }

    /// Approve, edit, skip or send again the selected follow-up action. The state is checked
    /// here too (the daemon checks it again), so a key pressed on the wrong row says why at
    /// once.
    fn followup_action(&mut self, action: Action) -> Vec<Effect> {
        if self.screen != Screen::FollowUps {
            let hint = self.keys_hint(Action::FollowUps).unwrap_or_default();
            self.flash_error(format!("That key acts on a follow-up: open the follow-ups screen{hint}."));
            return Vec::new();
        }
        let Some(row) = self.followups.selected_row() else {
            self.flash_error("No follow-up selected.".to_owned());
            return Vec::new();
        };
        let item = row.item();
        let (id, contact_id, what) = (item.id.clone(), item.contact_id.clone(), row.what());
        let state = item.state.as_str().replace('_', " ");
        let refused = match action {
            Action::ApproveFollowUp | Action::EditFollowUp if item.state != ItemState::AwaitingApproval => {
                Some(format!("Only an action waiting for approval can be approved; {what} is {state}."))
            }
            Action::EditFollowUp if item.action.channel().is_none() => {
                let key = self.keys_hint(Action::ApproveFollowUp).unwrap_or_default();
                Some(format!("Only a message has a text to edit; approve {what} as it is{key}."))
            }
            Action::SkipFollowUp if !item.state.is_open() => {
                Some(format!("Only a planned action can be skipped; {what} is {state}."))
            }
            Action::SendAgain if item.state != ItemState::Uncertain => {
                Some(format!("Only an uncertain send can be sent again; {what} is {state}."))
            }
            Action::SendAgain if item.op_seq.is_none() => Some(format!(
                "Cannot send {what} again: the daemon did not say which edit carries it. `leadline lead {contact_id}` lists the lead's edits; `leadline retry SEQ` sends it again."
            )),
            _ => None,
        };
        if let Some(refused) = refused {
            self.flash_error(refused);
            return Vec::new();
        }
        if !self.conn.is_online() {
            self.flash_error("Not connected to the daemon: follow-ups need it running.".to_owned());
            return Vec::new();
        }
        let command = match action {
            Action::EditFollowUp => {
                // The input is one line: a message's line breaks become spaces.
                let text =
                    item.edited.as_deref().or(item.body.as_deref()).unwrap_or("").replace(['\r', '\n'], " ");
                self.prompt = Some(Prompt {
                    kind: PromptKind::EditFollowUp,
                    contact_id,
                    lead_name: row.view.lead_name.clone(),
                    tags: Vec::new(),
                    followup: Some(PromptFollowUp { id, what }),
                    input: TextInput::with_text(&text),
                });
                return Vec::new();
            }
            Action::SkipFollowUp => FollowUpCommand::Skip { id },
            Action::SendAgain => FollowUpCommand::SendAgain { id, seq: item.op_seq.unwrap_or_default() },
            _ => FollowUpCommand::Approve { id, body: None },
        };
        self.followup_effect(contact_id, command, what)
    }

    /// Pauses or resumes the selected lead's follow-ups: the lead of the selected follow-up on
    /// the follow-ups screen, the selected lead on a queue.
    fn pause_lead(&mut self, pause: bool) -> Vec<Effect> {
        let target = match self.screen {
            Screen::FollowUps => {
                self.followups.selected_row().map(|r| (r.item().contact_id.clone(), r.view.lead_name.clone()))
            }
            Screen::Queue | Screen::Search => self.selected_lead().map(|l| (l.id.clone(), l.name.clone())),
            Screen::Tasks => {
                self.tasks.selected_row().map(|r| (r.task.contact_id.clone(), r.lead_name.clone()))
            }
            Screen::Analytics => None,
        };
        let Some((contact_id, name)) = target else {
            self.flash_error("No lead selected.".to_owned());
            return Vec::new();
        };
        if !self.conn.is_online() {
            self.flash_error("Not connected to the daemon: follow-ups need it running.".to_owned());
            return Vec::new();
        }
        let name = if name.is_empty() { contact_id.clone() } else { name };
        let command = if pause { FollowUpCommand::Pause } else { FollowUpCommand::Resume };
        self.followup_effect(contact_id, command, name)
    }

    fn followup_effect(&mut self, contact_id: String, command: FollowUpCommand, what: String) -> Vec<Effect> {
        let [progress, _, _] = command.wording(&what);
        self.flash_info(progress);
        vec![Effect::FollowUp { contact_id, command, what }]
    }

    /// After a follow-up command (done or refused, since a refusal often means the action
    /// moved on): the follow-ups, and what an edit re-fetches (the `due` queue and the lead
    /// follow the follow-ups).
    fn refresh_after_followup(&mut self, contact_id: &str) -> Vec<Effect> {
        if !self.conn.is_online() {
            return Vec::new();
        }
        let mut effects = vec![Effect::FetchFollowUps];
        effects.extend(self.refresh_after_edit(contact_id));
        effects
    }

    fn set_flash(&mut self, kind: FlashKind, text: String) {
        let until = match kind {
            FlashKind::Error => None,
            FlashKind::Info | FlashKind::Success => self.now.checked_add(FLASH_TTL).ok(),
        };
        self.flash = Some(Flash { text, kind, until });
    }

    fn flash_info(&mut self, text: String) {
        self.set_flash(FlashKind::Info, text);
    }

    fn flash_success(&mut self, text: String) {
        self.set_flash(FlashKind::Success, text);
    }

    fn flash_error(&mut self, text: String) {
        self.set_flash(FlashKind::Error, text);
    }

    /// Opens a text prompt for the selected lead. Edits need the daemon, so offline the
    /// prompt does not open (the typing would be lost).
    fn open_prompt(&mut self, kind: PromptKind) {
        let Some(lead) = self.selected_lead() else {
            self.flash_error("No lead selected.".to_owned());
            return;
        };
        let (contact_id, lead_name, tags) = (lead.id.clone(), lead.name.clone(), lead.tags.clone());
        if !self.conn.is_online() {
            self.flash_error("Not connected to the daemon: edits need it running.".to_owned());
            return;
        }
        self.prompt =
            Some(Prompt { kind, contact_id, lead_name, tags, followup: None, input: TextInput::new() });
    }

    /// Opens Compose for the selected lead and asks the daemon what it needs (the lead's
    /// templates, what the gates say). Offline it does not open: nothing could be sent.
    fn open_compose(&mut self) -> Vec<Effect> {
        let Some(lead) = self.selected_lead() else {
            self.flash_error("No lead selected.".to_owned());
            return Vec::new();
        };
        let (id, name, phone) = (lead.id.clone(), lead.name.clone(), lead.phone.is_some());
        if !self.conn.is_online() {
            self.flash_error("Not connected to the daemon: messages need it running.".to_owned());
            return Vec::new();
        }
        let mut compose = Compose::new(&id, &name, phone);
        compose.body.set_width(self.compose_width());
        self.compose = Some(compose);
        vec![Effect::FetchCompose { contact_id: id }]
    }

    /// The columns Compose's editor has at the terminal's size.
    fn compose_width(&self) -> usize {
        let (w, h) = self.size;
        super::components::compose::editor_width(Rect::new(0, 0, w, h))
    }

    /// A key for Compose, which takes them all while open.
    fn compose_key(&mut self, key: &KeyEvent) -> Vec<Effect> {
        let Some(compose) = &mut self.compose else {
            return Vec::new();
        };
        match compose.handle_key(key) {
            ComposeOutcome::None => Vec::new(),
            ComposeOutcome::Close => {
                self.compose = None;
                Vec::new()
            }
            ComposeOutcome::Send(op) => {
                let contact_id = compose.contact_id.clone();
                if !self.conn.is_online() {
                    compose.refused("not connected to the daemon; nothing was sent");
                    return Vec::new();
                }
                vec![Effect::Edit { contact_id, op }]
            }
        }
    }

    /// Compose, when it is open for `contact_id`.
    fn compose_for(&mut self, contact_id: &str) -> Option<&mut Compose> {
        self.compose.as_mut().filter(|c| c.contact_id == contact_id)
    }

    /// Enter in the prompt: sends the edit unless the text is blank.
    fn submit_prompt(&mut self) -> Vec<Effect> {
        let Some(prompt) = self.prompt.take() else {
            return Vec::new();
        };
        let text = prompt.input.value().trim().to_owned();
        if text.is_empty() {
            return Vec::new();
        }
        let op = match prompt.kind {
            PromptKind::AddTag => OpKind::AddTag { tag: text },
            PromptKind::RemoveTag => OpKind::RemoveTag { tag: text },
            PromptKind::AddNote => OpKind::AddNote { body: text },
            PromptKind::AddTask => match super::task_input::parse_task(&text, self.now, &self.tz) {
                Ok((title, due_at)) => OpKind::AddTask { title, due_at },
                Err(why) => {
                    // The prompt stays open with the text, to fix.
                    self.flash_error(format!("Task not saved: {why}."));
                    self.prompt = Some(prompt);
                    return Vec::new();
                }
            },
            PromptKind::EditFollowUp => {
                let Some(PromptFollowUp { id, what }) = prompt.followup else {
                    return Vec::new();
                };
                if !self.conn.is_online() {
                    self.flash_error(format!("Not approved: {what} (not connected to the daemon)."));
                    return Vec::new();
                }
                let command = FollowUpCommand::Approve { id, body: Some(text) };
                return self.followup_effect(prompt.contact_id, command, what);
            }
        };
        if !self.conn.is_online() {
            self.flash_error(format!("Not saved: {} (not connected to the daemon).", describe_op(&op, &[])));
            return Vec::new();
        }
        self.flash_info(format!("Saving {}…", describe_op(&op, &[])));
        vec![Effect::Edit { contact_id: prompt.contact_id, op }]
    }

    /// Retries the selected lead's failed and out-of-sync edits. When its detail (which lists
    /// them) is not loaded yet, opens the pane and retries once it arrives.
    fn retry_edits(&mut self) -> Vec<Effect> {
        let Some(lead) = self.selected_lead() else {
            self.flash_error("No lead selected.".to_owned());
            return Vec::new();
        };
        let (id, name) = (lead.id.clone(), lead.name.clone());
        if !self.conn.is_online() {
            self.flash_error("Not connected to the daemon, so nothing can be retried now.".to_owned());
            return Vec::new();
        }
        let Some(detail) = self.selected_detail() else {
            self.retry_when_loaded = Some(id);
            self.detail_open = true;
            self.flash_info(format!("Loading {name}'s edits to retry…"));
            return self.fetch_detail(false);
        };
        let seqs: Vec<u64> =
            detail.pending_ops.iter().filter(|op| op.state != OpState::Pending).map(|op| op.seq).collect();
        if seqs.is_empty() {
            self.flash_info(format!("Nothing to retry: {name} has no failed edits."));
            return Vec::new();
        }
        self.flash_info(format!("Retrying {} failed edit(s) of {name}…", seqs.len()));
        seqs.into_iter().map(|seq| Effect::Retry { seq }).collect()
    }

    /// After an edit to `contact_id`: re-fetch the status (pending count), the queue and, when
    /// it is on screen, the lead; a cached detail that is not re-fetched is dropped as stale.
    fn refresh_after_edit(&mut self, contact_id: &str) -> Vec<Effect> {
        if !self.conn.is_online() {
            return Vec::new();
        }
        let mut effects = vec![Effect::FetchStatus];
        effects.extend(self.refresh_current());
        if self.screen == Screen::Search {
            // A tag added or removed may change what the lead is found by.
            effects.extend(self.search_again());
        }
        let selected = self.selected_lead().is_some_and(|l| l.id == contact_id);
        let fetched = if selected { self.fetch_detail(true) } else { Vec::new() };
        if fetched.is_empty() && self.detail.as_ref().is_some_and(|d| d.lead.id == contact_id) {
            self.detail = None;
        }
        effects.extend(fetched);
        effects
    }

    /// Takes in arriving data.
    pub fn apply(&mut self, update: Update) -> Vec<Effect> {
        match update {
            Update::Tick { now } => {
                self.now = now;
                if self.flash.as_ref().and_then(|f| f.until).is_some_and(|until| until <= now) {
                    self.flash = None;
                }
            }
            Update::Connected { welcome } => {
                self.welcome = Some(welcome);
                self.conn.handle(ConnEvent::Connected { now: self.now });
                self.requested_lead = None;
                // The screen on first, so it shows before the other tabs' counts arrive. Each
                // tab asks for the window it shows, anchored on its selected lead, so a
                // reconnect finds the agent where they were.
                let mut effects = match self.screen {
                    Screen::Queue => {
                        self.refresh_current().into_iter().chain([Effect::FetchStatus]).collect()
                    }
                    Screen::FollowUps => {
                        let mut effects = vec![Effect::FetchFollowUps, Effect::FetchStatus];
                        effects.extend(self.refresh_current());
                        effects
                    }
                    Screen::Tasks => {
                        let mut effects = vec![Effect::FetchTasks, Effect::FetchStatus];
                        effects.extend(self.refresh_current());
                        effects
                    }
                    Screen::Analytics => {
                        let mut effects =
                            vec![Effect::FetchAnalytics { range: self.analytics_range }, Effect::FetchStatus];
                        effects.extend(self.refresh_current());
                        effects
                    }
                    Screen::Search => {
                        let mut effects = self.search_again();
                        effects.push(Effect::FetchStatus);
                        effects.extend(self.refresh_current());
                        effects
                    }
                };
                let current = self.current;
                for i in (0..self.views.len()).filter(|i| *i != current) {
                    effects.extend(self.fetch_queue(i, true));
                }
                if matches!(self.screen, Screen::Queue | Screen::Search) {
                    effects.push(Effect::FetchFollowUps);
                    effects.extend(self.fetch_detail_if_needed());
                }
                return effects;
            }
            Update::ConnectFailed { error, unreachable } => {
                tracing::debug!(%error, unreachable, "connect failed");
                return conn_effects(self.conn.handle(ConnEvent::ConnectFailed {
                    error,
                    unreachable,
                    now: self.now,
                }));
            }
            Update::Disconnected { error } => {
                self.requested_lead = None;
                self.retry_when_loaded = None;
                // Answers of the old session never come: the next session asks again.
                self.views.iter_mut().for_each(QueueView::clear_pending);
                self.search.drop_pending();
                return conn_effects(self.conn.handle(ConnEvent::Lost { error }));
            }
            Update::RetryDue { token } => {
                return conn_effects(self.conn.handle(ConnEvent::RetryDue { token }));
            }
            Update::DaemonStarted => {
                return conn_effects(self.conn.handle(ConnEvent::DaemonStarted));
            }
            Update::DaemonStartFailed { error } => {
                tracing::warn!(%error, "could not start the daemon");
                return conn_effects(self.conn.handle(ConnEvent::DaemonStartFailed { error }));
            }
            Update::RefreshDue => {
                self.refresh_scheduled = false;
                let changed = std::mem::take(&mut self.changed);
                let all_changed = std::mem::take(&mut self.all_changed);
                if !self.conn.is_online() {
                    return Vec::new();
                }
                // A message sent from Compose is followed as its lead changes (the sender
                // tells of every step), whatever the screen.
                let following = self
                    .compose
                    .as_ref()
                    .filter(|c| c.following() && (all_changed || changed.contains(&c.contact_id)))
                    .map(|c| Effect::FetchLead { id: c.contact_id.clone() });
                // Only the screen on is re-fetched: the follow-ups list reads every lead's
                // record, too much to ask for at each burst of changes nobody is looking at.
                if self.screen == Screen::FollowUps {
                    return [Effect::FetchFollowUps, Effect::FetchStatus]
                        .into_iter()
                        .chain(following)
                        .collect();
                }
                // The figures follow the leads live: one request sums the day buckets kept at
                // write time, whatever the store's size.
                if self.screen == Screen::Analytics {
                    return [Effect::FetchAnalytics { range: self.analytics_range }, Effect::FetchStatus]
                        .into_iter()
                        .chain(following)
                        .collect();
                }
                // A task made, done or fetched changes the list: one request for it.
                if self.screen == Screen::Tasks {
                    return [Effect::FetchTasks, Effect::FetchStatus].into_iter().chain(following).collect();
                }
                // The queue shown is fetched again; on the search screen the query is asked
                // again, so a lead renamed, tagged or new is found as it is now.
                let mut effects: Vec<Effect> = if self.screen == Screen::Search {
                    self.search_again()
                } else {
                    self.refresh_current().into_iter().collect()
                };
                effects.push(Effect::FetchStatus);
                let mut detail = Vec::new();
                if self.selected_lead().is_some_and(|l| all_changed || changed.contains(&l.id)) {
                    detail = self.fetch_detail(true);
                }
                match following {
                    // One request answers both when they are the same lead.
                    Some(Effect::FetchLead { id })
                        if detail.iter().any(|e| e == &Effect::FetchLead { id: id.clone() }) => {}
                    Some(fetch) => effects.push(fetch),
                    None => {}
                }
                effects.extend(detail);
                return effects;
            }
            Update::StatusLoaded(status) => self.status = Some(*status),
            Update::QueueLoaded { name, window, page } => return self.load_queue(&name, &window, *page),
            Update::QueueFailed { name, window, error } => {
                tracing::warn!(%error, %name, "queue request failed");
                self.views.iter_mut().filter(|v| v.name == name).for_each(|v| v.fail(&window));
                self.last_error = Some(error);
            }
            Update::TasksLoaded(list) => self.tasks.load(*list),
            Update::LeadLoaded(detail) => {
                if let Some(compose) = self.compose_for(&detail.lead.id) {
                    compose.observe(&detail.pending_ops);
                }
                if let Some(deal) = self.deal.as_mut().filter(|d| d.contact_id == detail.lead.id) {
                    deal.loaded(&detail);
                    self.deal_detail = Some((*detail).clone());
                }
                if self.requested_lead.as_deref() == Some(detail.lead.id.as_str()) {
                    self.requested_lead = None;
                }
                // A detail for a lead no longer selected is dropped: the pane shows the
                // selection only.
                let id = detail.lead.id.clone();
                if self.selected_lead().is_some_and(|l| l.id == id) {
                    self.detail = Some(*detail);
                }
                if self.retry_when_loaded.as_ref() == Some(&id) {
                    self.retry_when_loaded = None;
                    if self.selected_detail().is_some() {
                        return self.retry_edits();
                    }
                }
            }
            Update::DaemonEvent(event) => return self.on_event(event),
            Update::RequestFailed { error } => {
                tracing::warn!(%error, "request failed");
                self.requested_lead = None;
                self.retry_when_loaded = None;
                self.last_error = Some(error);
            }
            Update::EditAccepted { contact_id, op, seq } => {
                let mut following = false;
                if matches!(op, OpKind::SendMessage { .. })
                    && let Some(compose) = self.compose_for(&contact_id)
                {
                    // Compose follows the message from here, by its op.
                    compose.accepted(seq);
                    following = true;
                }
                // The Deal screen shows the stage change waiting for GHL: its lead is read again.
                following |= self.deal.as_ref().is_some_and(|d| d.contact_id == contact_id);
                let what = describe_op(&op, self.opportunities_of(&contact_id));
                self.flash_success(format!("Saved: {what} (edit #{seq}, goes to GHL with the next sync)"));
                let mut effects = self.refresh_after_edit(&contact_id);
                let fetch = Effect::FetchLead { id: contact_id };
                if following && self.conn.is_online() && !effects.contains(&fetch) {
                    effects.push(fetch);
                }
                return effects;
            }
            Update::EditFailed { contact_id, op, error } => {
                if matches!(op, OpKind::SendMessage { .. })
                    && let Some(compose) = self.compose_for(&contact_id)
                {
                    compose.refused(&error);
                }
                let what = describe_op(&op, self.opportunities_of(&contact_id));
                tracing::warn!(%error, %contact_id, "edit failed");
                self.flash_error(format!("Not saved: {what}: {error}"));
            }
            Update::SyncStarted(sync) => {
                let text = match sync.state {
                    SyncState::Syncing => "Sync started.".to_owned(),
                    SyncState::Unknown => "Sync requested.".to_owned(),
                    state => format!("Sync requested; sync is {state}."),
                };
                self.status.get_or_insert_with(StatusReport::default).sync = *sync;
                self.flash_success(text);
            }
            Update::SyncFailed { error } => {
                tracing::warn!(%error, "sync request failed");
                self.flash_error(format!("Could not start a sync: {error}"));
            }
            Update::RetryAccepted { seq } => {
                self.flash_success(format!("Edit #{seq} will be retried with the next sync."));
                let id = self.selected_lead().map(|l| l.id.clone());
                return id.map(|id| self.refresh_after_edit(&id)).unwrap_or_default();
            }
            Update::RetryFailed { seq, error } => {
                tracing::warn!(%error, seq, "retry failed");
                self.flash_error(format!("Could not retry edit #{seq}: {error}"));
            }
            Update::ComposeLoaded(info) => {
                if let Some(compose) = self.compose_for(&info.contact_id) {
                    compose.load(*info);
                }
            }
            Update::ComposeFailed { contact_id, error } => {
                tracing::warn!(%error, %contact_id, "compose request failed");
                if let Some(compose) = self.compose_for(&contact_id) {
                    compose.load_error = Some(error);
                }
            }
            Update::AnalyticsLoaded(report) => {
                // An answer for a range left meanwhile is still shown until the new one comes
                // (the title says which range it is).
                self.analytics = Some(*report);
            }
            Update::SearchDue { seq } => {
                if seq == self.search.seq && self.search.pending && self.conn.is_online() {
                    let query = self.search.query().to_owned();
                    return vec![Effect::Search { seq, query, limit: SEARCH_LIMIT }];
                }
            }
            Update::SearchLoaded { seq, query, page } => {
                let rows = self.page_rows();
                if !self.search.load(seq, &query, *page, rows) {
                    return Vec::new();
                }
                if std::mem::take(&mut self.search.open_when_loaded) && self.search.selected_lead().is_some()
                {
                    self.search.editing = false;
                    self.detail_open = true;
                }
                if self.screen == Screen::Search {
                    return self.fetch_detail_if_needed();
                }
            }
            Update::SearchFailed { seq, error } => {
                if self.search.fail(seq, error.clone()) {
                    tracing::warn!(%error, "search failed");
                }
            }
            Update::FollowUpsLoaded(views) => {
                let page = if self.screen == Screen::FollowUps { self.page_rows() } else { 1 };
                self.followups.load(views, page);
            }
            Update::FollowUpDone { contact_id, command, what } => {
                let [_, done, _] = command.wording(&what);
                self.flash_success(done);
                return self.refresh_after_followup(&contact_id);
            }
            Update::FollowUpFailed { contact_id, command, what, error } => {
                // The agent's text stays out of the log: the footer shows what was refused.
                tracing::warn!(%error, %contact_id, %what, "follow-up command failed");
                let [_, _, failed] = command.wording(&what);
                self.flash_error(format!("{failed}: {error}"));
                return self.refresh_after_followup(&contact_id);
            }
        }
        Vec::new()
    }

    /// The opportunities of a lead whose detail is loaded, to name deals in messages.
    fn opportunities_of(&self, contact_id: &str) -> &[Opportunity] {
        self.detail.as_ref().filter(|d| d.lead.id == contact_id).map_or(&[], |d| &d.opportunities)
    }

    fn on_event(&mut self, event: Event) -> Vec<Effect> {
        match event {
            Event::LeadsChanged { ids } => {
                // No ids: many leads changed (a full sync, or events this client missed).
                self.all_changed |= ids.is_empty();
                self.changed.extend(ids);
                if self.refresh_scheduled {
                    return Vec::new();
                }
                self.refresh_scheduled = true;
                vec![Effect::ScheduleRefresh { after: REFRESH_DEBOUNCE }]
            }
            Event::Sync { status } => {
                self.status.get_or_insert_with(StatusReport::default).sync = status;
                Vec::new()
            }
            Event::ShuttingDown => {
                self.requested_lead = None;
                conn_effects(
                    self.conn.handle(ConnEvent::Lost { error: "the daemon is shutting down".into() }),
                )
            }
        }
    }

    /// Places a window of a queue. When it is the queue on screen, the selection may have
    /// landed on a lead whose detail the open pane needs, and the screen may need more rows
    /// (the page was placed elsewhere than asked, or the agent moved on meanwhile).
    fn load_queue(&mut self, name: &QueueName, window: &WindowRequest, page: QueuePage) -> Vec<Effect> {
        let height = self.page_rows();
        let Some(index) = self.views.iter().position(|v| &v.name == name) else {
            return Vec::new();
        };
        if !self.views[index].place(window, page, height) {
            return Vec::new();
        }
        if index != self.current || self.screen != Screen::Queue {
            return Vec::new();
        }
        let mut effects = Vec::new();
        match self.fetch_queue(index, false) {
            // The same request again would get the same answer (a daemon giving fewer rows
            // than asked): asking would loop, so the next move asks instead.
            Some(Effect::FetchQueue { window: again, .. }) if &again == window => {
                self.views[index].clear_pending();
            }
            fetch => effects.extend(fetch),
        }
        effects.extend(self.fetch_detail_if_needed());
        effects
    }

    fn move_selection(&mut self, delta: isize, page: usize) -> Vec<Effect> {
        if self.screen == Screen::Analytics {
            return Vec::new();
        }
        if self.screen == Screen::Tasks {
            self.tasks.move_by(delta);
            return Vec::new();
        }
        if self.screen == Screen::Search {
            self.retry_when_loaded = None;
            let target = self.search.selected.saturating_add_signed(delta);
            self.search.select(target, page);
            return self.fetch_detail_if_needed();
        }
        if self.screen == Screen::FollowUps {
            let view = &mut self.followups;
            view.select(view.selected.saturating_add_signed(delta), page);
            return Vec::new();
        }
        self.retry_when_loaded = None;
        let view = &mut self.views[self.current];
        let target = view.selected.saturating_add_signed(delta);
        view.select(target, page);
        let mut effects: Vec<Effect> = self.fetch_queue(self.current, false).into_iter().collect();
        effects.extend(self.fetch_detail_if_needed());
        effects
    }

    fn switch_queue(&mut self, index: usize) -> Vec<Effect> {
        if index == self.current && self.screen == Screen::Queue {
            return Vec::new();
        }
        self.current = index;
        self.screen = Screen::Queue;
        self.retry_when_loaded = None;
        let page = self.page_rows();
        let view = &mut self.views[index];
        view.select(view.selected, page);
        if !self.conn.is_online() {
            return Vec::new();
        }
        let mut effects: Vec<Effect> = self.refresh_current().into_iter().collect();
        effects.extend(self.fetch_detail_if_needed());
        effects
    }

    /// `/`: shows the search screen with the query taking the keys. Opened again, it keeps
    /// the last query and its results, and asks for them afresh.
    fn open_search(&mut self) -> Vec<Effect> {
        if self.screen != Screen::Search {
            self.search.back_to = self.screen;
            self.screen = Screen::Search;
            self.retry_when_loaded = None;
            let page = self.page_rows();
            self.search.select(self.search.selected, page);
        }
        self.search.editing = true;
        let mut effects = self.search_again();
        effects.extend(self.fetch_detail_if_needed());
        effects
    }

    /// Leaves the search for the screen it was opened from, which asks for its data again.
    fn close_search(&mut self) -> Vec<Effect> {
        self.search.editing = false;
        let index = match self.search.back_to {
            Screen::Queue | Screen::Search | Screen::Tasks => self.current,
            Screen::FollowUps => self.views.len(),
            Screen::Analytics => self.views.len() + 1,
        };
        self.switch_tab(index)
    }

    /// A key while the query has the keys: the movement keys that type nothing move through
    /// the results, Enter opens the selected lead, Esc closes the search, the rest edit the
    /// query (a changed query is asked for once it rests for [`SEARCH_DEBOUNCE`]).
    fn search_key(&mut self, key: &KeyEvent) -> Vec<Effect> {
        let types = matches!(key.code, KeyCode::Char(_))
            && !key.modifiers.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT);
        // Home and End stay the query's (the cursor).
        if !types
            && let Some(
                action @ (Action::NextRow
                | Action::PrevRow
                | Action::PageDown
                | Action::PageUp
                | Action::Help),
            ) = self.keymap.resolve(key)
        {
            return self.handle_action(action);
        }
        let before = self.search.input.value().to_owned();
        match self.search.input.handle_key(key) {
            InputOutcome::Consumed if self.search.input.value() != before => self.query_changed(),
            InputOutcome::Consumed => Vec::new(),
            // Esc steps back one thing at a time: the open lead first, then the search.
            InputOutcome::Cancel if self.detail_open => {
                self.detail_open = false;
                self.search.editing = false;
                Vec::new()
            }
            InputOutcome::Cancel => self.close_search(),
            InputOutcome::Submit => self.submit_search(),
        }
    }

    /// The query was edited: its results are asked for after the debounce.
    fn query_changed(&mut self) -> Vec<Effect> {
        let Some(seq) = self.search.changed() else {
            return Vec::new();
        };
        if !self.conn.is_online() {
            self.search.fail(seq, "Not connected to the daemon: search needs it running.".to_owned());
            return Vec::new();
        }
        vec![Effect::ScheduleSearch { seq, after: SEARCH_DEBOUNCE }]
    }

    /// The same query asked again now (reopened, the leads changed, reconnected).
    fn search_again(&mut self) -> Vec<Effect> {
        if !self.conn.is_online() {
            return Vec::new();
        }
        let Some(seq) = self.search.again() else {
            return Vec::new();
        };
        vec![Effect::Search { seq, query: self.search.query().to_owned(), limit: SEARCH_LIMIT }]
    }

    /// Enter in the query: the selected lead's detail opens and the keys go to the results
    /// (`/` types in the query again). Before the answer has come, it asks now and opens the
    /// best match when it does.
    fn submit_search(&mut self) -> Vec<Effect> {
        if self.search.query().is_empty() {
            return Vec::new();
        }
        if self.search.pending {
            // Asked now under a new number, so the debounce's timer asks nothing more.
            let effects = self.search_again();
            self.search.open_when_loaded = !effects.is_empty();
            return effects;
        }
        if self.search.selected_lead().is_none() {
            let query = self.search.query().to_owned();
            self.flash_error(format!("No lead matches \"{query}\"."));
            return Vec::new();
        }
        self.search.editing = false;
        self.detail_open = true;
        self.fetch_detail_if_needed()
    }

    /// Re-fetches the window of the queue on screen (its leads may have changed), anchored on
    /// the selected lead.
    fn refresh_current(&mut self) -> Option<Effect> {
        self.fetch_queue(self.current, true)
    }

    /// Asks for the window tab `index` needs, when online: always when `refresh`ing, else
    /// only when the rows held (or asked for) do not cover its screen.
    fn fetch_queue(&mut self, index: usize, refresh: bool) -> Option<Effect> {
        if !self.conn.is_online() {
            return None;
        }
        let page = self.page_rows();
        let view = self.views.get_mut(index)?;
        let window = view.fetch(page, refresh)?;
        Some(Effect::FetchQueue { name: view.name.clone(), window })
    }

    /// Asks for the selected lead's detail when the pane is open and neither has it nor is
    /// waiting for it, so holding `j` does not queue a request per row already asked for.
    fn fetch_detail_if_needed(&mut self) -> Vec<Effect> {
        self.fetch_detail(false)
    }

    /// Asks for the selected lead's detail when the pane is open; unless `force`d (the lead
    /// changed), only if it is neither shown nor already asked for.
    fn fetch_detail(&mut self, force: bool) -> Vec<Effect> {
        if !self.detail_open || !self.conn.is_online() {
            return Vec::new();
        }
        let Some(id) = self.selected_lead().map(|l| l.id.clone()) else {
            return Vec::new();
        };
        if !force && (self.selected_detail().is_some() || self.requested_lead.as_ref() == Some(&id)) {
            return Vec::new();
        }
        self.requested_lead = Some(id.clone());
        vec![Effect::FetchLead { id }]
    }
}

fn conn_effects(effects: Vec<ConnEffect>) -> Vec<Effect> {
    effects
        .into_iter()
        .map(|e| match e {
            ConnEffect::Connect => Effect::Connect,
            ConnEffect::StartDaemon => Effect::StartDaemon,
            ConnEffect::ScheduleRetry { token, after } => Effect::ScheduleRetry { token, after },
            ConnEffect::Disconnect => Effect::Disconnect,
        })
        .collect()
}
