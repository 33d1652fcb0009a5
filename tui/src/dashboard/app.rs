//! The dashboard's state and its transitions. No IO: keys and arriving data go in, and
//! [`Effect`]s come out for the driver in `mod.rs` to perform, so every behaviour can be
//! tested, and snapshotted, without a terminal or a daemon.

use std::collections::HashSet;
use std::ops::Range;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use leadline_shared::domain::{ItemState, LeadSummary, OpKind, OpState, Opportunity};
use leadline_shared::protocol::{
    AnalyticsRange, AnalyticsReport, ComposeInfo, Event, FollowUpView, LeadDetail, LogTail, QueueName,
    QueuePage, SearchPage, StatusReport, SyncState, SyncStatus, SystemReport, TaskList, Welcome,
};
use ratatui::crossterm::event::{
    KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use ratatui::layout::Rect;

use super::action::{Action, Target};
pub use super::bulk::{Bulk, BulkCommand, BulkItem, Marked, Marks};
use super::components::ellipsize;
use super::compose::{Compose, ComposeOutcome};
use super::connection::{ConnEffect, ConnEvent, ConnState, Connection};
use super::deal::{DealOutcome, DealView};
pub use super::followups::{FollowUpCommand, FollowUpCounts, FollowUpRow, FollowUpsView, followup_group};
use super::input::{InputOutcome, TextInput};
use super::keymap::{KeyChord, Keymap, SEQUENCE_TIMEOUT, Step};
use super::palette::Palette;
pub use super::queue_window::{QueueView, WindowRequest};
pub use super::search::{SEARCH_DEBOUNCE, SEARCH_LIMIT, SearchView};
pub use super::system::{LOG_LINES, SYSTEM_LIMIT, SystemView};
pub use super::tasks::TasksView;
use super::theme::Theme;
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

/// How far page up and page down move the palette's choice.
pub const PALETTE_PAGE: usize = 8;

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
    /// `Request::Assist` for the lead: a reply drafted into the approval queue; report
    /// [`Update::Drafted`] or [`Update::RequestFailed`].
    Draft { contact_id: String },
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
    /// `Request::System` and `Request::LogTail`; report [`Update::SystemLoaded`].
    FetchSystem,
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
    /// One item of a bulk action (an edit through the op log, or a follow-up approval);
    /// report [`Update::BulkItemDone`].
    Bulk {
        /// The bulk action's number.
        job: u64,
        /// What to do, to which lead.
        item: BulkItem,
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
    /// A reply was drafted into the approval queue.
    Drafted(Box<leadline_shared::protocol::AssistReport>),
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
    /// The System screen's op log, skipped records and log tail arrived.
    SystemLoaded {
        /// The op log and the skipped records.
        report: Box<SystemReport>,
        /// The end of the daemon's log.
        log: Box<LogTail>,
    },
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
    /// An item of a bulk action was answered.
    BulkItemDone {
        /// The bulk action's number.
        job: u64,
        /// The item.
        item: BulkItem,
        /// Why it failed, in the daemon's words; `None` when it worked.
        error: Option<String>,
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
    /// Sync's health, the op log, skipped records and the daemon's log.
    System,
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
    /// The GHL user id to assign the lead to.
    Assign,
    /// A task: its title, then when it is due.
    AddTask,
    /// The stage to move the lead's (or every marked lead's) open deal to, by name.
    MoveStage,
    /// The GHL workflow to enroll the lead(s) in: its id, or its name in `[ghl.workflows]`.
    Enroll,
}

impl PromptKind {
    /// The popup's title.
    pub fn title(self) -> &'static str {
        match self {
            PromptKind::AddTag => "Add tag",
            PromptKind::RemoveTag => "Remove tag",
            PromptKind::AddNote => "Add note",
            PromptKind::EditFollowUp => "Edit and approve",
            PromptKind::Assign => "Assign to user",
            PromptKind::MoveStage => "Move the deal to stage",
            PromptKind::Enroll => "Enroll in GHL workflow",
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
    /// The marked leads the edit goes to, one edit each, instead of `contact_id` (empty: the
    /// one lead).
    pub bulk: Vec<(String, Marked)>,
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
        OpKind::EnrollWorkflow { workflow_id } => format!("enrolled in workflow {workflow_id}"),
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
    /// The help overlay's entries, made from the keymap when it is set (not at every frame).
    help_entries: Vec<(String, String)>,
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
    /// The System screen.
    pub(super) system: SystemView,
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
    /// The keys of a sequence started (`g` of `g h`), waiting for the next.
    pub(super) pending_keys: Vec<KeyChord>,
    /// When the sequence was started (it is dropped after [`SEQUENCE_TIMEOUT`]).
    pending_since: Timestamp,
    /// The command palette, when open.
    pub(super) palette: Option<Palette>,
    /// Marked leads (queues and search share them: a lead is a lead).
    pub(super) lead_marks: Marks,
    /// Marked follow-up actions, by their id.
    pub(super) followup_marks: Marks,
    /// The bulk action under way.
    pub(super) bulk: Option<Bulk>,
    next_bulk: u64,
    /// How everything is coloured.
    pub(super) theme: Theme,
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
            help_entries: Keymap::defaults().help_entries(),
            views: QueueName::BUILT_IN.into_iter().map(QueueView::new).collect(),
            current: 0,
            screen: Screen::Queue,
            followups: FollowUpsView::new(),
            analytics: None,
            analytics_range: AnalyticsRange::Days30,
            search: SearchView::new(),
            system: SystemView::default(),
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
            pending_keys: Vec::new(),
            pending_since: now,
            palette: None,
            lead_marks: Marks::new(),
            followup_marks: Marks::new(),
            bulk: None,
            next_bulk: 0,
            theme: Theme::default(),
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
    /// Adds the saved smart lists (`[[queues.lists]]`) as tabs after the built-in queues, in
    /// the config's order; call before [`App::start`]. Tab and shift-Tab reach them (the
    /// digits stay on the built-in queues).
    pub fn set_saved_lists(&mut self, names: impl IntoIterator<Item = String>) {
        for name in names {
            let name = QueueName::Saved(name);
            if !self.views.iter().any(|v| v.name == name) {
                self.views.push(QueueView::new(name));
            }
        }
    }

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
        self.help_entries = keymap.help_entries();
        self.keymap = keymap;
    }

    /// The help overlay's entries: each bound action with its keys.
    pub fn help_entries(&self) -> &[(String, String)] {
        &self.help_entries
    }

    /// Replaces the theme (the config's, or `--theme`'s, with `NO_COLOR` applied).
    pub fn set_theme(&mut self, theme: Theme) {
        self.theme = theme;
    }

    /// The theme in use.
    pub fn theme(&self) -> Theme {
        self.theme
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
            Screen::Analytics | Screen::System | Screen::Tasks => Vec::new(),
            Screen::Search => {
                self.search.select(self.search.selected, page);
                Vec::new()
            }
        }
    }

    /// The System screen's data and selection.
    pub fn system(&self) -> &SystemView {
        &self.system
    }

    /// The daemon's last status, if any.
    pub fn status(&self) -> Option<&StatusReport> {
        self.status.as_ref()
    }

    /// A connected dashboard on the System screen holding `status`, `report` and `log` (for
    /// tests).
    #[allow(dead_code, reason = "API for tests; the binary alone does not call it")]
    pub fn with_system(now: Timestamp, status: StatusReport, report: SystemReport, log: LogTail) -> Self {
        let mut app = App::new(now);
        app.conn.handle(ConnEvent::Connected { now });
        app.screen = Screen::System;
        app.status = Some(status);
        app.apply(Update::SystemLoaded { report: Box::new(report), log: Box::new(log) });
        app
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
            Screen::System => self.views.len() + 2,
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
        super::components::help::max_scroll(&self.help_entries, self.size.0, self.size.1)
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
        if self.palette.is_some() {
            return self.palette_key(key);
        }
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
            self.pending_keys.clear();
            return self.search_key(key);
        }
        if !self.pending_keys.is_empty() && self.sequence_expired() {
            self.pending_keys.clear();
        }
        if !self.pending_keys.is_empty() && key.code == KeyCode::Esc && key.kind == KeyEventKind::Press {
            // Esc abandons the sequence and nothing else.
            self.pending_keys.clear();
            return Vec::new();
        }
        match self.keymap.feed(&self.pending_keys, key) {
            Step::Run(action) => {
                self.pending_keys.clear();
                self.handle_action(action)
            }
            Step::Pending(keys) => {
                self.pending_keys = keys;
                self.pending_since = self.now;
                Vec::new()
            }
            Step::Unbound => {
                if key.kind == KeyEventKind::Press {
                    self.pending_keys.clear();
                }
                Vec::new()
            }
        }
    }

    /// The keys of a sequence started and waiting for its next key (`g`), if any.
    pub fn pending_keys(&self) -> &[KeyChord] {
        &self.pending_keys
    }

    /// Whether the started sequence waited too long for its next key.
    fn sequence_expired(&self) -> bool {
        let timeout = SignedDuration::try_from(SEQUENCE_TIMEOUT).unwrap_or(SignedDuration::ZERO);
        self.pending_since.checked_add(timeout).is_ok_and(|until| until <= self.now)
    }

    /// The command palette, if open.
    pub fn palette(&self) -> Option<&Palette> {
        self.palette.as_ref()
    }

    /// A key while the palette is open: up/down (and ctrl-p/ctrl-n) choose, Enter runs the
    /// chosen action, Esc closes, the rest edit the query.
    fn palette_key(&mut self, key: &KeyEvent) -> Vec<Effect> {
        let Some(palette) = &mut self.palette else {
            return Vec::new();
        };
        if key.kind == KeyEventKind::Release {
            return Vec::new();
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Up => palette.step(-1),
            KeyCode::Down => palette.step(1),
            KeyCode::PageUp => palette.step(-(PALETTE_PAGE as isize)),
            KeyCode::PageDown => palette.step(PALETTE_PAGE as isize),
            KeyCode::Char('p' | 'k') if ctrl => palette.step(-1),
            KeyCode::Char('n' | 'j') if ctrl => palette.step(1),
            _ => {
                let before = palette.input.value().to_owned();
                match palette.input.handle_key(key) {
                    InputOutcome::Consumed => {
                        if palette.input.value() != before {
                            palette.refilter();
                        }
                    }
                    InputOutcome::Cancel => self.palette = None,
                    InputOutcome::Submit => return self.run_from_palette(),
                }
            }
        }
        Vec::new()
    }

    /// Enter in the palette: it closes and the chosen action runs as its key would, unless it
    /// needs a row that is not there, which the footer then says.
    fn run_from_palette(&mut self) -> Vec<Effect> {
        let Some(action) = self.palette.take().and_then(|p| p.chosen()) else {
            return Vec::new();
        };
        if let Some(why) = self.missing_target(action) {
            self.flash_error(why);
            return Vec::new();
        }
        self.handle_action(action)
    }

    /// Why `action` cannot run here for want of a selected row; `None` when it can (or when its
    /// own handler explains better, e.g. a lead action on the analytics screen).
    fn missing_target(&self, action: Action) -> Option<String> {
        let name = action.name();
        match action.target()? {
            Target::Lead
                if matches!(self.screen, Screen::Queue | Screen::Search)
                    && self.selected_lead().is_none()
                    && (self.lead_marks.is_empty() || action == Action::ToggleMark) =>
            {
                Some(format!("{name} needs a lead: select one in a queue or a search first."))
            }
            Target::FollowUp
                if self.screen == Screen::FollowUps && self.followups.selected_row().is_none() =>
            {
                Some(format!("{name} needs a follow-up: select one on the follow-ups screen first."))
            }
            _ => None,
        }
    }

    /// A mouse event, doing only what keys do: a click on a tab shows it (as its number key);
    /// over a table (a queue, the search results, the follow-ups) the wheel moves the selection
    /// (fetching rows as the keys do) and a click selects the row under the pointer; over the
    /// help overlay the wheel scrolls it. Anything else, and everything while a prompt,
    /// Compose or the palette is open, is ignored.
    pub fn handle_mouse(&mut self, mouse: &MouseEvent) -> Vec<Effect> {
        if self.prompt.is_some() || self.compose.is_some() || self.palette.is_some() {
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
        let (w, h) = self.size;
        let areas = super::layout(Rect::new(0, 0, w, h), self);
        let inside = |r: Rect| {
            mouse.column >= r.x && mouse.column < r.right() && mouse.row >= r.y && mouse.row < r.bottom()
        };
        if mouse.kind == MouseEventKind::Down(MouseButton::Left) && inside(areas.tabs) {
            self.pending_keys.clear();
            return match super::components::tabs::tab_at(self, areas.tabs, mouse.column) {
                Some(index) if self.screen == Screen::Search && index == self.tab_index() => {
                    self.close_search()
                }
                Some(index) => self.switch_tab(index),
                None => Vec::new(),
            };
        }
        if self.screen == Screen::Analytics {
            return Vec::new();
        }
        let Some(table) = areas.table.filter(|t| inside(*t)) else {
            return Vec::new();
        };
        let page = self.page_rows();
        match mouse.kind {
            MouseEventKind::ScrollDown => self.move_selection(WHEEL_ROWS, page),
            MouseEventKind::ScrollUp => self.move_selection(-WHEEL_ROWS, page),
            MouseEventKind::Down(MouseButton::Left) => {
                // Rows start below the top border and the header.
                let first_row = table.y + super::components::queue_table::CHROME_ROWS - 1;
                let Some(line) = mouse.row.checked_sub(first_row) else {
                    return Vec::new();
                };
                let (visible, selected) = match self.screen {
                    Screen::Search => (self.search.visible(page), self.search.selected),
                    Screen::FollowUps => (self.followups.visible(page), self.followups.selected),
                    _ => (self.view().visible(page), self.view().selected),
                };
                let row = visible.start + usize::from(line);
                if !visible.contains(&row) {
                    return Vec::new();
                }
                let delta = row as isize - selected as isize;
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
                } else if !message && self.clear_marks() {
                    // The marks were what was on top (a message is dismissed first).
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
            Action::System => return self.switch_tab(self.views.len() + 2),
            Action::RetryEdits | Action::RetryAllFailed if self.screen == Screen::System => {
                return self.retry_system(action == Action::RetryAllFailed);
            }
            Action::RetryAllFailed => {
                let hint = self.keys_hint(Action::System).unwrap_or_default();
                self.flash_error(format!(
                    "That key retries every failed edit: open the System screen{hint}, which lists them."
                ));
            }
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
                        Screen::System => vec![Effect::FetchStatus, Effect::FetchSystem],
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
            Action::CommandPalette => {
                self.pending_keys.clear();
                self.palette = Some(Palette::new());
            }
            Action::ToggleMark => self.toggle_mark(),
            Action::MarkAll => self.mark_all(),
            Action::ClearMarks => {
                self.clear_marks();
            }
            Action::Assign if !matches!(self.screen, Screen::Queue | Screen::Search) => {
                let queues = self.keys_hint(Action::Queue(0)).unwrap_or_default();
                self.flash_error(format!("Assigning acts on leads of a queue{queues} or of a search."));
            }
            Action::Assign => self.open_prompt(PromptKind::Assign),
            Action::MoveStage => self.open_prompt(PromptKind::MoveStage),
            Action::Enroll => self.open_prompt(PromptKind::Enroll),
            // Compose's own (it takes the keys while open); elsewhere it says where it works.
            Action::Send => self.flash_info("send works in Compose: c writes to the lead".to_owned()),
            Action::AcceptRouting => return self.accept_routing(),
            Action::ApproveFollowUp
                if self.screen == Screen::FollowUps && !self.followup_marks.is_empty() =>
            {
                return self.bulk_approve();
            }
            Action::AddTag => self.open_prompt(PromptKind::AddTag),
            Action::RemoveTag => self.open_prompt(PromptKind::RemoveTag),
            Action::AddNote => self.open_prompt(PromptKind::AddNote),
            Action::RetryEdits => return self.retry_edits(),
            Action::ApproveFollowUp | Action::EditFollowUp | Action::SkipFollowUp | Action::SendAgain => {
                return self.followup_action(action);
            }
            Action::PauseLead => return self.pause_lead(true),
            Action::ResumeLead => return self.pause_lead(false),
            Action::Draft => {
                let Some(lead) = self.selected_lead() else {
                    self.flash_error("No lead selected.".to_owned());
                    return Vec::new();
                };
                let contact_id = lead.id.clone();
                if !self.conn.is_online() {
                    self.flash_error("Not connected to the daemon: drafts need it running.".to_owned());
                    return Vec::new();
                }
                self.flash_info("Drafting a reply…".to_owned());
                return vec![Effect::Draft { contact_id }];
            }
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
        let action = self.keymap.resolve(key);
        match deal.handle_key(key, action, self.deal_detail.as_ref()) {
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
        let key = self.keymap.hint_key(action)?;
        Some(match action {
            Action::Queue(_) => " (switch with 1–6)".to_owned(),
            _ => format!(" (press {key})"),
        })
    }

    /// The number of tabs: the queues, the follow-ups, analytics and System screens.
    fn tab_count(&self) -> usize {
        self.views.len() + 3
    }

    /// Shows tab `index`: a queue, or the follow-ups screen after the queues.
    fn switch_tab(&mut self, index: usize) -> Vec<Effect> {
        if index < self.views.len() {
            return self.switch_queue(index);
        }
        if index > self.views.len() + 1 {
            if self.screen == Screen::System {
                return Vec::new();
            }
            self.screen = Screen::System;
            self.retry_when_loaded = None;
            // Visiting asks afresh: the op log and the log move on while the screen is away.
            return if self.conn.is_online() {
                vec![Effect::FetchStatus, Effect::FetchSystem]
            } else {
                Vec::new()
            };
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
                    bulk: Vec::new(),
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
            Screen::Analytics | Screen::System => None,
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
        if !self.lead_marks.is_empty()
            && matches!(
                kind,
                PromptKind::AddTag
                    | PromptKind::RemoveTag
                    | PromptKind::Assign
                    | PromptKind::AddTask
                    | PromptKind::MoveStage
                    | PromptKind::Enroll
            )
        {
            if !self.conn.is_online() {
                self.flash_error("Not connected to the daemon: edits need it running.".to_owned());
                return;
            }
            if let Some(bulk) = &self.bulk {
                let progress = bulk.progress();
                self.flash_error(format!(
                    "A bulk action is still running ({progress}); wait for it to finish."
                ));
                return;
            }
            let bulk: Vec<(String, Marked)> =
                self.lead_marks.iter().map(|(k, m)| (k.clone(), m.clone())).collect();
            let n = bulk.len();
            let lead_name = format!("{n} marked lead{}", if n == 1 { "" } else { "s" });
            self.prompt = Some(Prompt {
                kind,
                contact_id: String::new(),
                lead_name,
                tags: Vec::new(),
                followup: None,
                bulk,
                input: TextInput::new(),
            });
            return;
        }
        let Some(lead) = self.selected_lead() else {
            self.flash_error("No lead selected.".to_owned());
            return;
        };
        let (contact_id, lead_name, tags) = (lead.id.clone(), lead.name.clone(), lead.tags.clone());
        if !self.conn.is_online() {
            self.flash_error("Not connected to the daemon: edits need it running.".to_owned());
            return;
        }
        self.prompt = Some(Prompt {
            kind,
            contact_id,
            lead_name,
            tags,
            followup: None,
            bulk: Vec::new(),
            input: TextInput::new(),
        });
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
        let action = self.keymap.resolve(key);
        match compose.handle_key(key, action) {
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

    /// Assigns the open lead to the agent of its routing suggestion: the same `assign` edit as
    /// `u` with the suggestion's user id.
    fn accept_routing(&mut self) -> Vec<Effect> {
        let Some(detail) = self.selected_detail() else {
            let open = self.keys_hint(Action::ToggleDetail).unwrap_or_default();
            self.flash_error(format!("Open a lead{open} to see and accept its routing suggestion."));
            return Vec::new();
        };
        let Some(routing) = detail.routing.clone() else {
            self.flash_error(
                "No routing suggestion for this lead: the location has no users yet.".to_owned(),
            );
            return Vec::new();
        };
        if routing.current {
            self.flash_info(format!("{} already has this lead.", routing.name));
            return Vec::new();
        }
        if !self.conn.is_online() {
            self.flash_error(format!("Not assigned to {} (not connected to the daemon).", routing.name));
            return Vec::new();
        }
        let contact_id = detail.lead.id.clone();
        self.flash_info(format!("Assigning to {}…", routing.name));
        vec![Effect::Edit { contact_id, op: OpKind::Assign { user_id: routing.user_id } }]
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
        if prompt.kind == PromptKind::MoveStage {
            // The daemon finds each lead's deal and the stage by its name: one request a lead,
            // counted in the footer like any bulk action, even for a single lead.
            if !self.conn.is_online() {
                self.flash_error(format!("Not moved to {text} (not connected to the daemon)."));
                return Vec::new();
            }
            let leads = if prompt.bulk.is_empty() {
                vec![(
                    prompt.contact_id.clone(),
                    Marked { contact_id: prompt.contact_id, name: prompt.lead_name },
                )]
            } else {
                prompt.bulk
            };
            let items = leads
                .into_iter()
                .map(|(mark, m)| BulkItem {
                    mark,
                    contact_id: m.contact_id,
                    name: m.name,
                    command: BulkCommand::MoveDeal { stage: text.clone() },
                })
                .collect();
            return self.start_bulk(items);
        }
        let op = match prompt.kind {
            PromptKind::AddTag => OpKind::AddTag { tag: text },
            PromptKind::RemoveTag => OpKind::RemoveTag { tag: text },
            PromptKind::AddNote => OpKind::AddNote { body: text },
            PromptKind::Assign => OpKind::Assign { user_id: text },
            PromptKind::Enroll => OpKind::EnrollWorkflow { workflow_id: text },
            PromptKind::MoveStage => return Vec::new(),
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
        if !prompt.bulk.is_empty() {
            let items = prompt
                .bulk
                .into_iter()
                .map(|(mark, m)| BulkItem {
                    mark,
                    contact_id: m.contact_id,
                    name: m.name,
                    command: BulkCommand::Edit(op.clone()),
                })
                .collect();
            return self.start_bulk(items);
        }
        self.flash_info(format!("Saving {}…", describe_op(&op, &[])));
        vec![Effect::Edit { contact_id: prompt.contact_id, op }]
    }

    /// Marks or unmarks the selected row: a lead on a queue or the search, a follow-up action
    /// on the follow-ups screen.
    fn toggle_mark(&mut self) {
        let (leads, id, marked) = match self.screen {
            Screen::Queue | Screen::Search => {
                let Some(lead) = self.selected_lead() else {
                    self.flash_error("No lead selected.".to_owned());
                    return;
                };
                (true, lead.id.clone(), Marked { contact_id: lead.id.clone(), name: lead.name.clone() })
            }
            Screen::FollowUps => {
                let Some(row) = self.followups.selected_row() else {
                    self.flash_error("No follow-up selected.".to_owned());
                    return;
                };
                let item = row.item();
                (false, item.id.clone(), Marked { contact_id: item.contact_id.clone(), name: row.what() })
            }
            Screen::Analytics | Screen::System | Screen::Tasks => {
                self.flash_error("Marks are for the rows of a queue, a search or the follow-ups.".to_owned());
                return;
            }
        };
        let marks = if leads { &mut self.lead_marks } else { &mut self.followup_marks };
        if marks.remove(&id).is_none() {
            marks.insert(id, marked);
        }
    }

    /// Marks every row on screen (only the rows drawn: a queue may hold 100 000 leads).
    fn mark_all(&mut self) {
        let page = self.page_rows();
        match self.screen {
            Screen::Queue => {
                let view = &self.views[self.current];
                for lead in view.visible(page).filter_map(|i| view.lead_at(i)) {
                    let m = Marked { contact_id: lead.id.clone(), name: lead.name.clone() };
                    self.lead_marks.insert(lead.id.clone(), m);
                }
            }
            Screen::Search => {
                let range = self.search.visible(page);
                for lead in self.search.rows.get(range).unwrap_or_default() {
                    let m = Marked { contact_id: lead.id.clone(), name: lead.name.clone() };
                    self.lead_marks.insert(lead.id.clone(), m);
                }
            }
            Screen::FollowUps => {
                let range = self.followups.visible(page);
                for row in self.followups.rows.get(range).unwrap_or_default() {
                    let item = row.item();
                    let m = Marked { contact_id: item.contact_id.clone(), name: row.what() };
                    self.followup_marks.insert(item.id.clone(), m);
                }
            }
            Screen::Analytics | Screen::System | Screen::Tasks => {
                self.flash_error("Marks are for the rows of a queue, a search or the follow-ups.".to_owned());
            }
        }
    }

    /// Unmarks every row of the screen on; true when there were marks.
    fn clear_marks(&mut self) -> bool {
        let marks = match self.screen {
            Screen::Queue | Screen::Search => &mut self.lead_marks,
            Screen::FollowUps => &mut self.followup_marks,
            Screen::Analytics | Screen::System | Screen::Tasks => return false,
        };
        let had = !marks.is_empty();
        marks.clear();
        had
    }

    /// The marked leads.
    pub fn lead_marks(&self) -> &Marks {
        &self.lead_marks
    }

    /// The marked follow-up actions.
    pub fn followup_marks(&self) -> &Marks {
        &self.followup_marks
    }

    /// The bulk action under way, if any.
    pub fn bulk(&self) -> Option<&Bulk> {
        self.bulk.as_ref()
    }

    /// Approves every marked follow-up action, each with its own request.
    fn bulk_approve(&mut self) -> Vec<Effect> {
        if !self.conn.is_online() {
            self.flash_error("Not connected to the daemon: follow-ups need it running.".to_owned());
            return Vec::new();
        }
        let items = self
            .followup_marks
            .iter()
            .map(|(id, m)| BulkItem {
                mark: id.clone(),
                contact_id: m.contact_id.clone(),
                name: m.name.clone(),
                command: BulkCommand::Approve { id: id.clone() },
            })
            .collect();
        self.start_bulk(items)
    }

    /// Sends every item of a bulk action at once; the driver's worker sends them in turn while
    /// the dashboard goes on, and each answer moves the count in the footer.
    fn start_bulk(&mut self, items: Vec<BulkItem>) -> Vec<Effect> {
        let Some(first) = items.first() else {
            return Vec::new();
        };
        if let Some(bulk) = &self.bulk {
            let progress = bulk.progress();
            self.flash_error(format!("A bulk action is still running ({progress}); wait for it to finish."));
            return Vec::new();
        }
        self.next_bulk += 1;
        let job = self.next_bulk;
        let bulk = Bulk::new(job, &first.command, items.len());
        self.flash_info(bulk.progress());
        self.bulk = Some(bulk);
        items.into_iter().map(|item| Effect::Bulk { job, item }).collect()
    }

    /// An answer to an item of the bulk action: counted, its mark dropped when it worked; the
    /// last one tells the outcome and re-reads what the edits changed, once.
    fn bulk_item_done(&mut self, job: u64, item: BulkItem, error: Option<String>) -> Vec<Effect> {
        let Some(bulk) = self.bulk.as_mut().filter(|b| b.job == job) else {
            return Vec::new();
        };
        bulk.done += 1;
        let approving = matches!(item.command, BulkCommand::Approve { .. });
        let marks = if approving { &mut self.followup_marks } else { &mut self.lead_marks };
        match error {
            Some(error) => {
                tracing::warn!(%error, contact_id = %item.contact_id, "bulk item failed");
                bulk.failed.push((item.name, error));
            }
            None => {
                marks.remove(&item.mark);
            }
        }
        if !bulk.finished() {
            let progress = bulk.progress();
            self.flash_info(progress);
            return Vec::new();
        }
        let (outcome, failed) = (bulk.outcome(), !bulk.failed.is_empty());
        self.bulk = None;
        if failed {
            self.flash_error(outcome);
        } else {
            self.flash_success(outcome);
        }
        if !self.conn.is_online() {
            return Vec::new();
        }
        let mut effects = vec![Effect::FetchStatus];
        if approving || self.screen == Screen::FollowUps {
            effects.push(Effect::FetchFollowUps);
        }
        effects.extend(self.refresh_current());
        if self.screen == Screen::Search {
            effects.extend(self.search_again());
        }
        effects.extend(self.fetch_detail(true));
        effects
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

    /// On the System screen: retries the selected op (any but one still pending), or every op
    /// GHL refused.
    fn retry_system(&mut self, all: bool) -> Vec<Effect> {
        if !self.conn.is_online() {
            self.flash_error("Not connected to the daemon, so nothing can be retried now.".to_owned());
            return Vec::new();
        }
        let seqs = if all {
            let seqs = self.system.failed_seqs();
            if seqs.is_empty() {
                self.flash_info("Nothing to retry: no edit has failed.".to_owned());
                return Vec::new();
            }
            self.flash_info(format!("Retrying {} failed edit(s)…", seqs.len()));
            seqs
        } else {
            let Some(op) = self.system.selected_op() else {
                self.flash_error("No edit selected.".to_owned());
                return Vec::new();
            };
            let seq = op.op.seq;
            if op.op.state == OpState::Pending {
                self.flash_info(format!("Edit #{seq} has not failed: it goes to GHL with the next sync."));
                return Vec::new();
            }
            self.flash_info(format!("Retrying edit #{seq}…"));
            vec![seq]
        };
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
                if !self.pending_keys.is_empty() && self.sequence_expired() {
                    self.pending_keys.clear();
                }
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
                    Screen::System => {
                        let mut effects = vec![Effect::FetchSystem, Effect::FetchStatus];
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
                if self.screen == Screen::System {
                    return [Effect::FetchSystem, Effect::FetchStatus].into_iter().chain(following).collect();
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
            Update::Drafted(report) => {
                let by = match &report.fallback_reason {
                    Some(why) => format!("by the local rules ({why})"),
                    None => format!("by {}", report.source),
                };
                self.flash_success(format!(
                    "Draft for {} {by} waits for your approval on the Follow-ups screen: \"{}\"",
                    report.draft.lead_name,
                    report.draft.item.edited.as_deref().unwrap_or_default()
                ));
            }
            Update::SyncFailed { error } => {
                tracing::warn!(%error, "sync request failed");
                self.flash_error(format!("Could not start a sync: {error}"));
            }
            Update::RetryAccepted { seq } => {
                self.flash_success(format!("Edit #{seq} will be retried with the next sync."));
                if self.screen == Screen::System {
                    return if self.conn.is_online() {
                        vec![Effect::FetchStatus, Effect::FetchSystem]
                    } else {
                        Vec::new()
                    };
                }
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
            Update::SystemLoaded { report, log } => self.system.load(*report, *log, self.now),
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
            Update::BulkItemDone { job, item, error } => return self.bulk_item_done(job, item, error),
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
                let report = self.status.get_or_insert_with(StatusReport::default);
                let before = &report.sync;
                // The daemon's own record of sync has no op counts (`status` counts the op
                // log): they are kept until the status asked for below brings them.
                let moved = before.state != status.state || before.failure != status.failure;
                let (pending, failed) = (before.pending_ops, before.failed_ops);
                report.sync = status;
                report.sync.pending_ops = pending;
                report.sync.failed_ops = failed;
                // A step ended or began to fail: the counts (edits pushed, queues moved) and
                // the System screen's lists are asked for again. Progress alone asks nothing.
                if !moved || !self.conn.is_online() {
                    return Vec::new();
                }
                let mut effects = vec![Effect::FetchStatus];
                if self.screen == Screen::System {
                    effects.push(Effect::FetchSystem);
                }
                effects
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
        if self.screen == Screen::System {
            self.system.move_by(delta);
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
            Screen::System => self.views.len() + 2,
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
