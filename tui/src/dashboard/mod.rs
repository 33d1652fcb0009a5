//! The terminal dashboard (`leadline` with no subcommand).
//!
//! - [`app`]: the state and its transitions ([`App`], [`Effect`], [`Update`]); no IO.
//! - [`queue_window`]: each queue tab's window of rows, and which window to ask for next.
//! - [`search`]: the search screen's query, its debounced answers and the selection.
//! - [`system`]: the System screen's op log, skipped records, log tail and selection.
//! - [`action`] and [`keymap`]: keys resolve to one [`Action`] enum, with defaults in code.
//! - [`connection`]: the daemon connection's lifecycle as a pure state machine.
//! - [`input`]: the one-line text input of the tag and note prompts.
//! - [`palette`]: the command palette (`:`) and its fuzzy matcher.
//! - [`bulk`]: marked rows and the bulk actions applied to each of them.
//! - [`compose`] and [`editor`]: the Compose overlay (writing to a lead) and its multi-line
//!   editor.
//! - [`theme`]: the colours (dark, light, high-contrast, or none with `NO_COLOR`).
//! - [`components`]: what draws each part of the screen, from a read-only `App`.
//! - [`tui`]: the terminal and the event task.
//! - this module: [`render`], and [`run`], the driver that performs the `App`'s effects over
//!   the IPC client.

pub mod action;
pub mod app;
pub mod bulk;
pub mod commission;
pub mod components;
pub mod compose;
pub mod connection;
pub mod deal;
pub mod editor;
pub mod followups;
pub mod format;
pub mod input;
pub mod keymap;
pub mod palette;
pub mod queue_window;
pub mod search;
pub mod system;
pub mod task_input;
pub mod tasks;
pub mod theme;
pub mod tui;

#[cfg(test)]
mod driver_tests;
#[cfg(test)]
mod intel_tests;
#[cfg(test)]
mod keys_tests;
#[cfg(test)]
mod system_tests;
#[cfg(test)]
mod tests;

use std::path::PathBuf;
use std::sync::Arc;

use jiff::Timestamp;
use leadline_shared::domain::{ItemState, OpKind};
use leadline_shared::protocol::{AnalyticsRange, FollowUpFilter, FollowUpView, QueueName};
use ratatui::Frame;
use ratatui::crossterm::event::{KeyEvent, MouseEvent};
use ratatui::layout::{Constraint, Layout, Rect};
use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};
use tokio::task::JoinHandle;

#[allow(unused_imports, reason = "re-exported for the benchmark and the lead's main")]
pub use action::Action;
#[allow(unused_imports, reason = "re-exported for the benchmark and the lead's main")]
pub use app::{App, Effect, FOLLOWUP_LIMIT, RECENT_FOLLOWUPS, Screen, Update};
pub use keymap::Keymap;
#[allow(unused_imports, reason = "re-exported for the benchmark")]
pub use queue_window::{WindowRequest, page_of};

use crate::client::{Client, ClientError, EventStream};
use app::FollowUpCommand;
use components::queue_table::CHROME_ROWS;

/// From this width the detail pane opens beside the table instead of over it.
pub const WIDE: u16 = 120;

/// Starts the daemon; blocking (it may wait for the socket to answer). `Err` carries a message
/// for the offline banner.
pub type StartDaemon = Arc<dyn Fn() -> Result<(), String> + Send + Sync>;

/// The height of the follow-ups screen's pane below its table, on terminals narrower than
/// [`WIDE`]: the action, when, the reason and two lines of its text.
pub const FOLLOWUP_PANE_ROWS: u16 = 9;

/// Where each part of the screen goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    /// The queue tabs.
    pub tabs: Rect,
    /// The offline banner (zero height when online).
    pub banner: Rect,
    /// The queue (or follow-ups, or search results) table, unless the detail pane covers it.
    pub table: Option<Rect>,
    /// The search screen's query, above its results (unless the detail pane covers them).
    pub search_bar: Option<Rect>,
    /// The detail pane (the selected follow-up's on the follow-ups screen), when open.
    pub detail: Option<Rect>,
    /// The status line.
    pub status: Rect,
    /// The key hints.
    pub footer: Rect,
    /// Lead rows the table shows (also when covered, so paging keeps its size).
    pub table_rows: u16,
}

/// The height of the search screen's query box.
pub const SEARCH_BAR_ROWS: u16 = 3;

/// Splits the screen. Narrower than [`WIDE`], an open detail pane replaces the table.
pub fn layout(area: Rect, app: &App) -> Areas {
    let banner = u16::from(components::status_bar::has_banner(app));
    let [tabs, banner, main, status, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(banner),
        Constraint::Fill(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    let mut search_bar = None;
    let (table, detail) = if app.screen() == Screen::Search {
        // The query box over the results; the lead pane beside them, or over both when narrow.
        let (left, detail) = if !app.detail_open() {
            (main, None)
        } else if main.width >= WIDE {
            let [left, right] =
                Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(main);
            (left, Some(right))
        } else {
            (main, Some(main))
        };
        let [bar, results] =
            Layout::vertical([Constraint::Length(SEARCH_BAR_ROWS.min(left.height)), Constraint::Fill(1)])
                .areas(left);
        let covered = detail == Some(left);
        search_bar = (!covered).then_some(bar);
        let table_rows = results.height.saturating_sub(CHROME_ROWS);
        let table = (!covered).then_some(results);
        return Areas { tabs, banner, table, search_bar, detail, status, footer, table_rows };
    } else if app.screen() == Screen::FollowUps {
        // The list stays in sight: the pane goes beside it, or below it when narrow.
        if !app.followups().pane_open || app.followups().rows.is_empty() {
            (Some(main), None)
        } else if main.width >= WIDE {
            let [left, right] =
                Layout::horizontal([Constraint::Percentage(58), Constraint::Percentage(42)]).areas(main);
            (Some(left), Some(right))
        } else {
            let pane = FOLLOWUP_PANE_ROWS.min(main.height / 2);
            let [top, bottom] = Layout::vertical([Constraint::Fill(1), Constraint::Length(pane)]).areas(main);
            (Some(top), Some(bottom))
        }
    } else if matches!(app.screen(), Screen::Analytics | Screen::System | Screen::Tasks) || !app.detail_open()
    {
        (Some(main), None)
    } else if main.width >= WIDE {
        let [left, right] =
            Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(main);
        (Some(left), Some(right))
    } else {
        (None, Some(main))
    };
    let table_rows = table.unwrap_or(main).height.saturating_sub(CHROME_ROWS);
    Areas { tabs, banner, table, search_bar, detail, status, footer, table_rows }
}

/// Draws one frame. Cost depends on the screen size, not on how many leads the queue holds.
pub fn render(app: &App, frame: &mut Frame) {
    let area = frame.area();
    let areas = layout(area, app);
    components::tabs::draw(app, frame, areas.tabs);
    components::status_bar::draw_banner(app, frame, areas.banner);
    if app.help_visible() {
        // The keys cover the screen: the rows beneath would cost most of the frame and show
        // only at its edges, so the help is drawn over an empty main area.
        components::status_bar::draw_status(app, frame, areas.status);
        components::status_bar::draw_footer(app, frame, areas.footer);
        components::help::draw(app, frame, area);
        return;
    }
    match app.screen() {
        Screen::Queue => {
            if let Some(table) = areas.table {
                components::queue_table::draw(app, frame, table);
            }
            if let Some(detail) = areas.detail {
                components::detail::draw(app, frame, detail);
            }
        }
        Screen::FollowUps => {
            if let Some(table) = areas.table {
                components::followups::draw_table(app, frame, table);
            }
            if let Some(pane) = areas.detail {
                components::followups::draw_pane(app, frame, pane);
            }
        }
        Screen::Analytics => {
            if let Some(main) = areas.table {
                components::analytics::draw(app, frame, main);
            }
        }
        Screen::System => {
            if let Some(main) = areas.table {
                components::system::draw(app, frame, main);
            }
        }
        Screen::Tasks => {
            if let Some(main) = areas.table {
                components::tasks::draw(app, frame, main);
            }
        }
        Screen::Search => {
            if let Some(bar) = areas.search_bar {
                components::search::draw_bar(app, frame, bar);
            }
            if let Some(table) = areas.table {
                components::search::draw_results(app, frame, table);
            }
            if let Some(detail) = areas.detail {
                components::detail::draw(app, frame, detail);
            }
        }
    }
    components::status_bar::draw_status(app, frame, areas.status);
    components::status_bar::draw_footer(app, frame, areas.footer);
    if app.help_visible() {
        components::help::draw(app, frame, area);
    }
    components::prompt::draw(app, frame, area);
    components::compose::draw(app, frame, area);
    components::palette::draw(app, frame, area);
    components::deal::draw(app, frame, area);
}

/// What the driver's tasks report.
pub enum Input {
    /// A key press (or repeat).
    Key(KeyEvent),
    /// A wheel notch or a click (other mouse events are not forwarded).
    Mouse(MouseEvent),
    /// The terminal was resized.
    Resize(u16, u16),
    /// A second passed.
    Tick,
    /// The terminal's input failed or ended: quit.
    TerminalGone(String),
    /// Data or an outcome for the [`App`].
    Update(Update),
    /// A connection attempt succeeded: a request connection and a subscribed one.
    Connected {
        /// Which attempt.
        generation: u64,
        /// For requests.
        client: Box<Client>,
        /// For pushed events.
        events: Box<EventStream>,
    },
    /// A connection attempt failed.
    ConnectFailed {
        /// Which attempt.
        generation: u64,
        /// Why.
        error: ClientError,
    },
    /// A task of the session found the daemon gone.
    Lost {
        /// Which session.
        generation: u64,
        /// Why.
        error: String,
    },
}

/// What the dashboard starts with: the keys, the colours, and the commission rate the Deal
/// screen's calculator starts from.
#[derive(Debug, Clone)]
pub struct Settings {
    pub keymap: Keymap,
    pub theme: theme::Theme,
    /// `[analytics] commission_rate`, a fraction.
    pub commission_rate: f64,
    /// The saved smart lists' names, shown as tabs after the built-in queues.
    pub saved_lists: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            keymap: Keymap::defaults(),
            theme: theme::Theme::default(),
            commission_rate: commission::DEFAULT_RATE_PCT / 100.0,
            saved_lists: Vec::new(),
        }
    }
}

/// Opens the dashboard with the default settings, and runs it until the user quits.
pub async fn run(socket: PathBuf, start_daemon: StartDaemon) -> anyhow::Result<()> {
    run_with_settings(socket, start_daemon, Settings::default()).await
}

/// Opens the dashboard with its settings (the keymap from [`Keymap::from_file`], the theme,
/// the commission rate), and runs it until the user quits. The terminal is restored on return,
/// on error and on panic.
pub async fn run_with_settings(
    socket: PathBuf,
    start_daemon: StartDaemon,
    settings: Settings,
) -> anyhow::Result<()> {
    let (mut terminal, _guard) = tui::enter()?;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let events = tui::spawn_events(tx.clone());
    let mut app = App::new(Timestamp::now());
    app.set_keymap(settings.keymap);
    app.set_theme(settings.theme);
    app.set_commission_rate(settings.commission_rate);
    app.set_saved_lists(settings.saved_lists);
    let size = terminal.size()?;
    // Not connected yet: nothing to fetch.
    let _ = app.resize(size.width, size.height);
    let mut driver = Driver::new(socket, start_daemon, tx);

    let mut result = Ok(());
    let mut quit = driver.perform(app.start());
    while !quit {
        if let Err(error) = terminal.draw(|frame| render(&app, frame)) {
            result = Err(error.into());
            break;
        }
        let Some(input) = rx.recv().await else { break };
        quit = driver.handle(&mut app, input);
        // Take everything already waiting before drawing again, so a burst (a held key, a
        // flurry of events) costs one frame.
        while !quit {
            match rx.try_recv() {
                Ok(input) => quit = driver.handle(&mut app, input),
                Err(_) => break,
            }
        }
    }
    events.abort();
    driver.shutdown();
    result
}

/// The requests of the follow-ups screen, one per part, each capped on its own so that no part
/// crowds out another: what needs the agent (to approve, failed, uncertain) and what is
/// planned, soonest first; what finished lately, newest first.
pub fn followup_filters() -> [FollowUpFilter; 3] {
    let filter = |states: Vec<ItemState>, limit: u32, latest_first: bool| FollowUpFilter {
        states,
        contact_id: None,
        limit,
        latest_first,
    };
    [
        filter(
            vec![ItemState::AwaitingApproval, ItemState::Failed, ItemState::Uncertain],
            FOLLOWUP_LIMIT,
            false,
        ),
        filter(vec![ItemState::Scheduled, ItemState::Queued, ItemState::Sending], FOLLOWUP_LIMIT, false),
        filter(
            vec![ItemState::Sent, ItemState::Done, ItemState::Skipped, ItemState::Cancelled],
            RECENT_FOLLOWUPS,
            true,
        ),
    ]
}

/// One request for the session's worker: a fetch, or a command (an edit, a sync, a retry, a
/// follow-up decision).
#[derive(Debug, Clone, PartialEq)]
enum Fetch {
    Status,
    Queue { name: QueueName, window: WindowRequest },
    Lead { id: String },
    FollowUps,
    Analytics { range: AnalyticsRange },
    System,
    Compose { contact_id: String },
    Tasks,
    Search { seq: u64, query: String, limit: u32 },
    Edit { contact_id: String, op: OpKind },
    Sync,
    Draft { contact_id: String },
    Retry { seq: u64 },
    FollowUp { contact_id: String, command: FollowUpCommand, what: String },
    Bulk { job: u64, item: bulk::BulkItem },
}

impl Fetch {
    /// Commands change something, so they are never coalesced away, and their failure is
    /// reported even when the daemon went away.
    fn is_command(&self) -> bool {
        matches!(
            self,
            Fetch::Edit { .. }
                | Fetch::Sync
                | Fetch::Draft { .. }
                | Fetch::Retry { .. }
                | Fetch::FollowUp { .. }
                | Fetch::Bulk { .. }
        )
    }

    /// What the [`App`] hears when this request fails.
    fn failed(self, error: String) -> Update {
        match self {
            Fetch::Queue { name, window } => Update::QueueFailed { name, window, error },
            Fetch::Status
            | Fetch::Lead { .. }
            | Fetch::FollowUps
            | Fetch::Analytics { .. }
            | Fetch::System
            | Fetch::Tasks => Update::RequestFailed { error },
            Fetch::Compose { contact_id } => Update::ComposeFailed { contact_id, error },
            Fetch::Search { seq, .. } => Update::SearchFailed { seq, error },
            Fetch::Edit { contact_id, op } => Update::EditFailed { contact_id, op, error },
            Fetch::Sync => Update::SyncFailed { error },
            Fetch::Draft { .. } => Update::RequestFailed { error: format!("No draft: {error}") },
            Fetch::Retry { seq } => Update::RetryFailed { seq, error },
            Fetch::FollowUp { contact_id, command, what } => {
                Update::FollowUpFailed { contact_id, command, what, error }
            }
            Fetch::Bulk { job, item } => Update::BulkItemDone { job, item, error: Some(error) },
        }
    }
}

/// The follow-ups screen's actions, all parts together.
async fn load_followups(client: &mut Client) -> Result<Vec<FollowUpView>, ClientError> {
    let mut all = Vec::new();
    for filter in followup_filters() {
        all.extend(client.followups(filter).await?);
    }
    Ok(all)
}

/// The System screen's lists and the end of the daemon's log, in one update.
async fn load_system(client: &mut Client) -> Result<Update, ClientError> {
    let report = client.system(app::SYSTEM_LIMIT).await?;
    let log = client.log_tail(app::LOG_LINES).await?;
    Ok(Update::SystemLoaded { report: Box::new(report), log: Box::new(log) })
}

/// Performs a follow-up command.
async fn follow_up(
    client: &mut Client,
    contact_id: &str,
    command: &FollowUpCommand,
) -> Result<(), ClientError> {
    match command {
        FollowUpCommand::Approve { id, body } => {
            client.decide_followup(id, true, body.clone()).await.map(drop)
        }
        FollowUpCommand::Skip { id } => client.decide_followup(id, false, None).await.map(drop),
        FollowUpCommand::SendAgain { seq, .. } => client.retry(*seq).await,
        FollowUpCommand::Pause => client.pause_lead(contact_id, true).await,
        FollowUpCommand::Resume => client.pause_lead(contact_id, false).await,
    }
}

/// Drops requests made redundant by later ones in the same batch: a repeated status request
/// is sent once, and only the last lead and the last window of each queue asked for are
/// fetched (the user has moved on from the others, and the dashboard drops their answers).
/// Commands are all sent, in order.
fn coalesce(batch: Vec<Fetch>) -> Vec<Fetch> {
    let mut out: Vec<Fetch> = Vec::with_capacity(batch.len());
    for fetch in batch {
        if matches!(fetch, Fetch::Lead { .. }) {
            out.retain(|f| !matches!(f, Fetch::Lead { .. }));
            out.push(fetch);
        } else if matches!(fetch, Fetch::Analytics { .. }) {
            // Only the range asked for last matters.
            out.retain(|f| !matches!(f, Fetch::Analytics { .. }));
            out.push(fetch);
        } else if matches!(fetch, Fetch::Search { .. }) {
            // Only the latest query is shown; the dashboard drops answers to the others.
            out.retain(|f| !matches!(f, Fetch::Search { .. }));
            out.push(fetch);
        } else if let Fetch::Queue { name, .. } = &fetch {
            out.retain(|f| !matches!(f, Fetch::Queue { name: other, .. } if other == name));
            out.push(fetch);
        } else if fetch.is_command() || !out.contains(&fetch) {
            out.push(fetch);
        }
    }
    out
}

/// A live connection: the worker serving requests and the task forwarding events. Dropping
/// it ends both.
struct Session {
    requests: UnboundedSender<Fetch>,
    tasks: [JoinHandle<()>; 2],
}

impl Drop for Session {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

struct Driver {
    socket: PathBuf,
    start_daemon: StartDaemon,
    tx: UnboundedSender<Input>,
    session: Option<Session>,
    /// Counts connection attempts, so reports from an abandoned attempt or session are
    /// recognised and ignored.
    generation: u64,
    timers: Vec<JoinHandle<()>>,
}

impl Driver {
    fn new(socket: PathBuf, start_daemon: StartDaemon, tx: UnboundedSender<Input>) -> Self {
        Driver { socket, start_daemon, tx, session: None, generation: 0, timers: Vec::new() }
    }

    /// Handles one input; true when the dashboard should quit.
    fn handle(&mut self, app: &mut App, input: Input) -> bool {
        app.set_now(Timestamp::now());
        let effects = match input {
            Input::Key(key) => app.handle_key(&key),
            Input::Mouse(mouse) => app.handle_mouse(&mouse),
            Input::Resize(width, height) => app.resize(width, height),
            Input::Tick => {
                self.timers.retain(|t| !t.is_finished());
                app.apply(Update::Tick { now: Timestamp::now() })
            }
            Input::TerminalGone(error) => {
                tracing::error!(%error, "terminal input failed; quitting");
                return true;
            }
            Input::Update(update) => app.apply(update),
            Input::Connected { generation, client, events } => {
                if generation != self.generation {
                    return false;
                }
                let welcome = client.welcome().clone();
                tracing::info!(version = %welcome.app_version, pid = welcome.pid, "connected to the daemon");
                self.session = Some(self.open_session(*client, *events));
                app.apply(Update::Connected { welcome })
            }
            Input::ConnectFailed { generation, error } => {
                if generation != self.generation {
                    return false;
                }
                app.apply(Update::ConnectFailed {
                    error: error.to_string(),
                    unreachable: error.is_unreachable(),
                })
            }
            Input::Lost { generation, error } => {
                if generation != self.generation || self.session.is_none() {
                    return false;
                }
                self.session = None;
                app.apply(Update::Disconnected { error })
            }
        };
        self.perform(effects)
    }

    /// Performs effects; true when one of them is [`Effect::Quit`].
    fn perform(&mut self, effects: Vec<Effect>) -> bool {
        for effect in effects {
            match effect {
                Effect::Quit => return true,
                Effect::Connect => self.connect(),
                Effect::Disconnect => self.session = None,
                Effect::StartDaemon => {
                    let start = Arc::clone(&self.start_daemon);
                    let tx = self.tx.clone();
                    tokio::spawn(async move {
                        let update = match tokio::task::spawn_blocking(move || start()).await {
                            Ok(Ok(())) => Update::DaemonStarted,
                            Ok(Err(error)) => Update::DaemonStartFailed { error },
                            Err(error) => Update::DaemonStartFailed {
                                error: format!("starting the daemon failed: {error}"),
                            },
                        };
                        let _ = tx.send(Input::Update(update));
                    });
                }
                Effect::ScheduleRetry { token, after } => self.after(after, Update::RetryDue { token }),
                Effect::ScheduleRefresh { after } => self.after(after, Update::RefreshDue),
                Effect::FetchStatus => self.fetch(Fetch::Status),
                Effect::FetchQueue { name, window } => self.fetch(Fetch::Queue { name, window }),
                Effect::FetchLead { id } => self.fetch(Fetch::Lead { id }),
                Effect::Edit { contact_id, op } => self.command(Fetch::Edit { contact_id, op }),
                Effect::SyncNow => self.command(Fetch::Sync),
                Effect::Draft { contact_id } => self.command(Fetch::Draft { contact_id }),
                Effect::Retry { seq } => self.command(Fetch::Retry { seq }),
                Effect::FetchFollowUps => self.fetch(Fetch::FollowUps),
                Effect::FetchAnalytics { range } => self.fetch(Fetch::Analytics { range }),
                Effect::FetchSystem => self.fetch(Fetch::System),
                Effect::FetchCompose { contact_id } => self.fetch(Fetch::Compose { contact_id }),
                Effect::FetchTasks => self.fetch(Fetch::Tasks),
                Effect::ScheduleSearch { seq, after } => self.after(after, Update::SearchDue { seq }),
                Effect::Search { seq, query, limit } => self.fetch(Fetch::Search { seq, query, limit }),
                Effect::FollowUp { contact_id, command, what } => {
                    self.command(Fetch::FollowUp { contact_id, command, what });
                }
                Effect::Bulk { job, item } => self.command(Fetch::Bulk { job, item }),
            }
        }
        false
    }

    fn after(&mut self, wait: std::time::Duration, update: Update) {
        let tx = self.tx.clone();
        self.timers.push(tokio::spawn(async move {
            tokio::time::sleep(wait).await;
            let _ = tx.send(Input::Update(update));
        }));
    }

    /// Requests wait for a session; without one they are dropped, since connecting re-fetches
    /// everything on screen.
    fn fetch(&mut self, fetch: Fetch) {
        if let Some(session) = &self.session {
            let _ = session.requests.send(fetch);
        }
    }

    /// Commands go to the session's worker too; without a session they fail at once, so the
    /// user learns the edit was not saved.
    fn command(&mut self, command: Fetch) {
        let command = match &self.session {
            Some(session) => match session.requests.send(command) {
                Ok(()) => return,
                Err(mpsc::error::SendError(command)) => command,
            },
            None => command,
        };
        let _ = self.tx.send(Input::Update(command.failed("not connected to the daemon".to_owned())));
    }

    fn connect(&mut self) {
        self.session = None;
        self.generation += 1;
        let generation = self.generation;
        let socket = self.socket.clone();
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let attempt = async {
                let client = Client::connect(&socket).await?;
                let events = Client::connect(&socket).await?.subscribe().await?;
                Ok::<_, ClientError>((client, events))
            };
            let input = match attempt.await {
                Ok((client, events)) => {
                    Input::Connected { generation, client: Box::new(client), events: Box::new(events) }
                }
                Err(error) => Input::ConnectFailed { generation, error },
            };
            let _ = tx.send(input);
        });
    }

    fn open_session(&self, client: Client, events: EventStream) -> Session {
        let (requests, rx) = mpsc::unbounded_channel();
        let worker = tokio::spawn(serve(client, rx, self.tx.clone(), self.generation));
        let forwarder = tokio::spawn(forward(events, self.tx.clone(), self.generation));
        Session { requests, tasks: [worker, forwarder] }
    }

    fn shutdown(&mut self) {
        self.session = None;
        for timer in self.timers.drain(..) {
            timer.abort();
        }
    }
}

/// Serves requests one at a time on the request connection.
async fn serve(
    mut client: Client,
    mut rx: UnboundedReceiver<Fetch>,
    tx: UnboundedSender<Input>,
    generation: u64,
) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while let Ok(more) = rx.try_recv() {
            batch.push(more);
        }
        let mut batch = coalesce(batch).into_iter();
        while let Some(fetch) = batch.next() {
            let result = match fetch.clone() {
                Fetch::Status => client.status().await.map(|s| Update::StatusLoaded(Box::new(s))),
                Fetch::Queue { name, window } => client
                    .queue(name.clone(), window.limit, window.offset, window.anchor.clone())
                    .await
                    .map(|page| Update::QueueLoaded { name, window, page: Box::new(page) }),
                Fetch::Lead { id } => client.lead(&id).await.map(|d| Update::LeadLoaded(Box::new(d))),
                Fetch::Edit { contact_id, op } => client
                    .edit(&contact_id, op.clone())
                    .await
                    .map(|seq| Update::EditAccepted { contact_id, op, seq }),
                Fetch::Sync => client.sync(false, false).await.map(|s| Update::SyncStarted(Box::new(s))),
                Fetch::Draft { contact_id } => {
                    client.assist(&contact_id).await.map(|r| Update::Drafted(Box::new(r)))
                }
                Fetch::Retry { seq } => client.retry(seq).await.map(|()| Update::RetryAccepted { seq }),
                Fetch::FollowUps => load_followups(&mut client).await.map(Update::FollowUpsLoaded),
                Fetch::Analytics { range } => {
                    client.analytics(range).await.map(|r| Update::AnalyticsLoaded(Box::new(r)))
                }
                Fetch::System => load_system(&mut client).await,
                Fetch::Compose { contact_id } => {
                    client.compose(&contact_id).await.map(|i| Update::ComposeLoaded(Box::new(i)))
                }
                Fetch::Tasks => client
                    .tasks(leadline_shared::protocol::DEFAULT_TASKS_LIMIT)
                    .await
                    .map(|l| Update::TasksLoaded(Box::new(l))),
                Fetch::Search { seq, query, limit } => client
                    .search(&query, limit)
                    .await
                    .map(|page| Update::SearchLoaded { seq, query, page: Box::new(page) }),
                Fetch::Bulk { job, item } => {
                    let sent = match &item.command {
                        bulk::BulkCommand::Edit(op) => {
                            client.edit(&item.contact_id, op.clone()).await.map(drop)
                        }
                        bulk::BulkCommand::Approve { id } => {
                            client.decide_followup(id, true, None).await.map(drop)
                        }
                        bulk::BulkCommand::MoveDeal { stage } => {
                            client.move_deal(&item.contact_id, stage).await.map(drop)
                        }
                    };
                    sent.map(|()| Update::BulkItemDone { job, item, error: None })
                }
                Fetch::FollowUp { contact_id, command, what } => {
                    follow_up(&mut client, &contact_id, &command).await.map(|()| Update::FollowUpDone {
                        contact_id,
                        command,
                        what,
                    })
                }
            };
            let input = match result {
                Ok(update) => Input::Update(update),
                Err(error) if error.is_unreachable() => {
                    // The session is over: every command not yet answered (this one, the rest
                    // of the batch, the ones waiting) is reported as failed, never dropped.
                    let error = error.to_string();
                    rx.close();
                    let waiting = std::iter::from_fn(|| rx.try_recv().ok());
                    for command in std::iter::once(fetch).chain(batch).chain(waiting) {
                        if command.is_command() {
                            let _ = tx.send(Input::Update(command.failed(error.clone())));
                        }
                    }
                    let _ = tx.send(Input::Lost { generation, error });
                    return;
                }
                Err(error) => Input::Update(fetch.failed(error.to_string())),
            };
            if tx.send(input).is_err() {
                return;
            }
        }
    }
}

/// Forwards pushed events until the subscription ends.
async fn forward(mut events: EventStream, tx: UnboundedSender<Input>, generation: u64) {
    loop {
        let input = match events.next().await {
            Ok(event) => Input::Update(Update::DaemonEvent(event)),
            Err(error) => {
                let _ = tx.send(Input::Lost { generation, error: error.to_string() });
                return;
            }
        };
        if tx.send(input).is_err() {
            return;
        }
    }
}
