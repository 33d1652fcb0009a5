use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::QueueName;
use crate::domain::{
    Contact, Contribution, Direction, FollowUpItem, FollowUps, ItemState, LeadSummary, Opportunity,
    PendingOp, Pipeline, Qualification, Score, Task,
};

/// A frame from a client to the daemon.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum ClientMessage {
    /// Always the first frame.
    Hello { protocol: u16, app_version: String },
    /// A request; the response carries the same id.
    Request { id: u64, body: Request },
}

/// What a client can ask.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Request {
    Ping,
    /// Daemon, store and sync state.
    Status,
    /// A window of a queue: at most `limit` leads from row `offset` (0 is the top), with the
    /// queue's exact length.
    Queue {
        name: QueueName,
        limit: u32,
        #[serde(default)]
        offset: u64,
        /// Keep this lead where the client shows it: when it is in the queue, the window
        /// starts `before` rows above it and `offset` is ignored.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        anchor: Option<QueueAnchor>,
    },
    /// One lead with its score explanation and timeline.
    Lead {
        id: String,
    },
    /// Start receiving [`Event`]s on this connection.
    Subscribe,
    /// Sync with GHL now; with `wait`, answer when it is done.
    SyncNow {
        wait: bool,
        full: bool,
    },
    /// A local edit: applied at once, pushed to GHL when it answers.
    Edit {
        contact_id: String,
        op: crate::domain::OpKind,
    },
    /// Move the lead's open deal (the one changed last) to the stage named `stage` in its
    /// pipeline: the daemon finds the deal and the stage, then makes it an
    /// [`crate::domain::OpKind::SetStage`] edit like any other. Answered with
    /// [`Response::Accepted`]; a lead with no open deal, or a name no stage has, is refused
    /// with why.
    MoveDeal {
        contact_id: String,
        stage: String,
    },
    /// Draft a reply to the lead's last message and read the lead's preferences (the AI
    /// assist, or the local rules): the draft joins the approval queue. Answered with
    /// [`Response::Assisted`].
    Assist {
        contact_id: String,
    },
    /// Retry a failed or out-of-sync edit (or send an uncertain message again).
    RetryOp {
        seq: u64,
    },
    /// Follow-up actions, by state and lead.
    FollowUps {
        filter: FollowUpFilter,
    },
    /// Approve an action waiting in the approval queue.
    ApproveFollowUp {
        id: String,
        /// The agent's own text for a send, instead of the template's body.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        body: Option<String>,
    },
    /// Skip a planned action.
    SkipFollowUp {
        id: String,
    },
    /// Pause every automated action for a lead.
    PauseLead {
        contact_id: String,
    },
    /// Resume a paused lead.
    ResumeLead {
        contact_id: String,
    },
    /// What the engine would send over the next `days`, from `from` (default: now); sends
    /// nothing.
    SimulateFollowUps {
        days: u32,
        from: Option<Timestamp>,
    },
    /// The analytics figures for the leads that arrived in `range`.
    Analytics {
        #[serde(default)]
        range: super::AnalyticsRange,
    },
    /// What writing to a lead by hand needs: its templates rendered for it, and what the
    /// gates (DND, opt-out, quiet hours in its zone) say of a message sent now. The message
    /// itself is an [`Request::Edit`] with [`crate::domain::OpKind::SendMessage`].
    Compose {
        contact_id: String,
    },
    /// The leads whose name, phone, email or tags match `query`, best match first, at most
    /// `limit` of them (see [`SearchPage`]).
    Search {
        query: String,
        #[serde(default = "default_search_limit")]
        limit: u32,
    },
    /// What the System screen lists: the op log (pending and failed edits, each with its
    /// lead) and the records sync could not read, at most `limit` of each (capped by
    /// [`super::MAX_SYSTEM_OPS`] and [`super::MAX_SYSTEM_SKIPPED`]).
    System {
        #[serde(default = "default_system_limit")]
        limit: u32,
    },
    /// The last `lines` lines of the daemon's log (at most [`super::MAX_LOG_LINES`], read from
    /// at most the last [`super::MAX_LOG_BYTES`] of the file).
    LogTail {
        lines: u32,
    },
    /// The open tasks of every lead, soonest due first (overdue ones first of all), at most
    /// `limit` of them, with the tasks still on their way to GHL.
    Tasks {
        #[serde(default = "default_tasks_limit")]
        limit: u32,
    },
    /// Which model scores the leads, why, and every model trained.
    ModelStatus,
    /// Train the conversion model on the location's history now (as the nightly run does),
    /// promote it if it earns it, and answer with the status afterwards.
    TrainModel,
    /// Import property listings from a CSV or JSON file with the RESO Data Dictionary names
    /// (see `docs/intel.md`). All or nothing: a bad row refuses the whole file, naming its
    /// line. Listings are kept by `ListingId`; with `replace`, those not in the file go.
    ImportListings {
        /// The file, as an absolute path (the daemon may run in another directory).
        path: String,
        #[serde(default)]
        replace: bool,
    },
}

fn default_system_limit() -> u32 {
    super::MAX_SYSTEM_SKIPPED
}

/// How many tasks a Tasks request without a limit returns.
pub const DEFAULT_TASKS_LIMIT: u32 = 200;

fn default_tasks_limit() -> u32 {
    DEFAULT_TASKS_LIMIT
}

/// The answer to [`Request::Tasks`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TaskList {
    /// How many tasks are open in GHL's records in all (those not returned included).
    pub total: u64,
    /// Soonest due first; tasks not yet in GHL (`pending`) among them by their due time.
    pub tasks: Vec<TaskView>,
}

/// A task with what the Tasks screen shows of its lead.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TaskView {
    pub task: Task,
    pub lead_name: String,
    /// The lead's IANA zone, for showing the due time as the lead sees it.
    pub timezone: Option<String>,
    /// The pending op creating it (the task is not in GHL yet) or marking it done.
    pub op_seq: Option<u64>,
    /// Still on its way to GHL: created here, GHL has not acknowledged it yet.
    pub pending: bool,
}

/// How many leads a search without a limit returns.
pub const DEFAULT_SEARCH_LIMIT: u32 = 20;

fn default_search_limit() -> u32 {
    DEFAULT_SEARCH_LIMIT
}

/// The answer to [`Request::Search`]. A lead matches when every word of the query matches
/// one of its words (name, email and tag words, phone digits): exactly, as its start, or from
/// three characters anywhere in it. Exact matches come first, then starts, then insides; the
/// better score first within each.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SearchPage {
    /// The words searched for, as the daemon read the query (a phone number is its digits
    /// without the US country code).
    pub terms: Vec<String>,
    /// How many leads match in all.
    pub total: u64,
    /// At most the limit of them, best match first, as queue rows.
    pub rows: Vec<LeadSummary>,
}

/// A lead a queue window is placed around (see [`Request::Queue`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueAnchor {
    /// The lead's contact id.
    pub id: String,
    /// How many rows of the window come before it.
    pub before: u32,
}

/// A window of a queue, with where it sits.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct QueuePage {
    /// How many leads the queue holds now (exact).
    pub total: u64,
    /// The row number of `rows[0]` in the queue (0 is the top).
    pub offset: u64,
    /// The leads, in the queue's order.
    pub rows: Vec<LeadSummary>,
    /// The anchor's row number, when the request had one and the lead is in the queue.
    pub anchor_at: Option<u64>,
}

/// A queue's exact length.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueCount {
    pub name: QueueName,
    pub total: u64,
}

/// Which follow-up actions to list.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FollowUpFilter {
    /// Only these states (none: everything still to happen or needing the agent: awaiting
    /// approval, scheduled, queued, sending, failed, uncertain).
    pub states: Vec<ItemState>,
    /// Only this lead's.
    pub contact_id: Option<String>,
    /// At most this many (0: no limit), soonest first.
    pub limit: u32,
    /// Ordered by last change, newest first, instead of soonest first: with `limit`, the
    /// latest actions (what was sent or skipped lately) rather than the oldest ones kept.
    pub latest_first: bool,
}

/// A follow-up action with the lead's name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FollowUpView {
    #[serde(flatten)]
    pub item: FollowUpItem,
    pub lead_name: String,
}

/// One send of a simulated plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimulatedSend {
    pub contact_id: String,
    /// `sms` or `email`.
    pub channel: String,
    /// When it goes, in UTC.
    pub at: Timestamp,
    /// The recipient's IANA zone, as used for the quiet-hours check.
    pub timezone: Option<String>,
    pub workflow: String,
    pub step: u32,
    pub template: String,
    /// It waits for the agent's approval in the live engine.
    #[serde(default)]
    pub needs_approval: bool,
    /// Why it would not go (skipped sends only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `followups simulate`: every planned send and every skip, with its reason.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Simulation {
    pub from: Option<Timestamp>,
    pub until: Option<Timestamp>,
    pub planned: Vec<SimulatedSend>,
    pub skipped: Vec<SimulatedSend>,
}

/// A frame from the daemon to a client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum ServerMessage {
    Welcome(Welcome),
    /// The client speaks another protocol version; the daemon closes the connection.
    Incompatible {
        expected: u16,
        got: u16,
        message: String,
    },
    Response {
        id: u64,
        result: Result<Response, RemoteError>,
    },
    Event {
        event: Event,
    },
    /// A connection-level failure (a bad frame); the daemon closes the connection after it.
    Error {
        error: RemoteError,
    },
}

/// The daemon's answer to a compatible Hello.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Welcome {
    pub app_version: String,
    pub protocol: u16,
    pub pid: u32,
}

/// A successful answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
pub enum Response {
    Pong,
    Status(Box<StatusReport>),
    Queue(Box<QueuePage>),
    Lead(Box<LeadDetail>),
    Subscribed,
    /// A sync finished (with `wait`) or was started.
    Synced(Box<SyncStatus>),
    /// The edit is durable locally and queued for GHL as op `seq`.
    Accepted {
        seq: u64,
    },
    FollowUps(Vec<FollowUpView>),
    FollowUp(Box<FollowUpView>),
    /// A lead paused or resumed.
    Done,
    Simulation(Box<Simulation>),
    Analytics(Box<super::AnalyticsReport>),
    Compose(Box<super::ComposeInfo>),
    Search(Box<SearchPage>),
    System(Box<super::SystemReport>),
    LogTail(Box<super::LogTail>),
    Tasks(Box<TaskList>),
    Assisted(Box<super::AssistReport>),
    Model(Box<super::ModelStatus>),
    ListingsImported(Box<super::ListingsImported>),
}

/// Something that happened in the daemon, pushed to subscribed clients.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// These leads changed (new, rescored, new message...): re-query what is on screen. No
    /// ids means many leads changed (a full sync, or events a slow client missed): re-query
    /// everything shown, the open lead too.
    LeadsChanged { ids: Vec<String> },
    /// Sync state moved on.
    Sync { status: SyncStatus },
    /// The daemon is stopping; reconnect later.
    ShuttingDown,
}

/// A typed error from the daemon.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct RemoteError {
    pub kind: ErrorKind,
    /// What went wrong and what to do about it.
    pub message: String,
}

impl RemoteError {
    /// Builds an error of a kind.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        RemoteError { kind, message: message.into() }
    }
}

/// The class of a [`RemoteError`]; decides the CLI's exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The request was wrong (exit code 2).
    BadRequest,
    /// No such lead or list (exit code 2).
    NotFound,
    /// The frame could not be read.
    BadFrame,
    /// The daemon failed (exit code 1).
    Internal,
    #[serde(other)]
    Other,
}

/// `leadline status`: the daemon, the store and sync.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct StatusReport {
    pub daemon: DaemonInfo,
    pub counts: Counts,
    /// Each built-in queue's length now, in the dashboard's tab order.
    pub queues: Vec<QueueCount>,
    pub sync: SyncStatus,
    pub store: StoreInfo,
}

/// Who is answering.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DaemonInfo {
    pub version: String,
    pub protocol: u16,
    pub pid: u32,
    pub started_at: Option<Timestamp>,
    pub socket: String,
    pub data_dir: String,
}

/// How much is stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Counts {
    pub contacts: u64,
    pub opportunities: u64,
    pub messages: u64,
    pub hot: u64,
    pub warm: u64,
    pub cold: u64,
}

/// What sync is doing, as `status --json` spells it (snake_case).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncState {
    /// The daemon has not reported yet.
    #[default]
    Unknown,
    /// Connected, about to sync for the first time.
    Starting,
    /// A sync step is running.
    Syncing,
    /// The last step succeeded; the next runs on schedule.
    Idle,
    /// GHL cannot be reached (network, outage, rate limit): retried on its own.
    Offline,
    /// GHL refused a step (token, scope, a bad answer): see `last_error`.
    Error,
    /// A frozen data set (the demo's `--import`); nothing syncs.
    Seeded,
    /// No GHL token or location: nothing syncs until one is set.
    NotConfigured,
    /// A state this client does not know (a newer daemon).
    #[serde(other)]
    Other,
}

impl SyncState {
    /// The name `status` prints.
    pub fn as_str(self) -> &'static str {
        match self {
            SyncState::Unknown => "unknown",
            SyncState::Starting => "starting",
            SyncState::Syncing => "syncing",
            SyncState::Idle => "idle",
            SyncState::Offline => "offline",
            SyncState::Error => "error",
            SyncState::Seeded => "seeded",
            SyncState::NotConfigured => "not_configured",
            SyncState::Other => "other",
        }
    }

    /// Whether sync is failing (the status bar shows the error).
    pub fn is_failing(self) -> bool {
        matches!(self, SyncState::Offline | SyncState::Error)
    }

    /// Whether sync is in a good, settled state.
    pub fn is_settled(self) -> bool {
        matches!(self, SyncState::Idle | SyncState::Seeded)
    }
}

impl std::fmt::Display for SyncState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where sync stands.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SyncStatus {
    pub state: SyncState,
    pub last_success: Option<Timestamp>,
    pub pending_ops: u64,
    pub failed_ops: u64,
    pub last_error: Option<String>,
    /// What a running sync is doing, with counts.
    pub progress: Option<String>,
    /// GHL requests left in the current burst window and today, when known.
    pub rate_limit: Option<RateBudget>,
    /// Records GHL sent that could not be read (each is in the daemon log with its id and
    /// why); sync skips them and goes on.
    pub skipped_records: u64,
    /// Why sync is failing, when it is (`state` is `offline` or `error`).
    pub failure: Option<super::SyncFailure>,
    /// Since when GHL has been unreachable without a sync succeeding in between; `None` once
    /// one does.
    pub unreachable_since: Option<Timestamp>,
    /// Each phase of sync as it last ran, in the order they first ran.
    pub phases: Vec<super::SyncPhase>,
}

/// The GHL request budget as the last response reported it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RateBudget {
    pub burst_remaining: u32,
    pub burst_max: u32,
    pub daily_remaining: u32,
    pub daily_max: u32,
}

/// The store on disk.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct StoreInfo {
    pub path: String,
    pub schema_version: u32,
    pub bytes_on_disk: u64,
}

/// `leadline lead ID`: one lead in full.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LeadDetail {
    #[serde(flatten)]
    pub lead: LeadSummary,
    /// The score's explanation: the contributions, base first, add up to `score_output`.
    pub explanation: Vec<Contribution>,
    pub qualification: Qualification,
    /// The scorer: `rules-v1` or `gbdt-vN`.
    pub score_model: String,
    /// The unit of `explanation` and `score_output`: `points` (of the 0–100 score, for
    /// `rules-v1`) or `log_odds` (of converting, for a model; the score is its probability
    /// in percent).
    pub score_unit: String,
    /// The scorer's output, in `score_unit`: the sum of the explanation.
    pub score_output: f64,
    /// Why the lead is scored by `rules-v1` rather than a model trained on the location's
    /// history (e.g. "42 closed deals; the model needs 200").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score_note: Option<String>,
    pub timeline: Vec<TimelineEntry>,
    pub opportunities: Vec<Opportunity>,
    pub pending_ops: Vec<PendingOp>,
    pub contact: Contact,
    /// The follow-up engine's record for the lead: its workflows and every action, upcoming
    /// and past.
    pub followups: Option<FollowUps>,
    /// The lead's tasks, open and done, as the daemon knows them (GHL's, and those created
    /// here once GHL acknowledged them; the others are in `pending_ops`).
    pub tasks: Vec<Task>,
    /// The pipelines of the lead's deals, with their stages (the Deal screen's stage picker).
    pub pipelines: Vec<Pipeline>,
    /// The listings that fit the lead best (at most five), best first; empty for sellers,
    /// leads with no wishes known and stores without listings.
    pub matches: Vec<super::ListingMatch>,
    /// Who should work the lead, with the trace of why; none when the location has no users.
    pub routing: Option<super::RoutingSuggestion>,
    /// How likely the lead is to go quiet for good, from its engagement.
    pub churn: Option<super::ChurnRisk>,
    /// The composite priority that orders `hot` and `all`, with its parts, as of the answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority_breakdown: Option<super::PriorityBreakdown>,
}

impl LeadDetail {
    /// Assembles the detail view from its parts.
    pub fn new(lead: LeadSummary, score: Score, contact: Contact) -> Self {
        LeadDetail {
            lead,
            score_unit: score.unit().into(),
            score_output: score.explanation.iter().map(|c| c.contribution).sum(),
            explanation: score.explanation,
            qualification: score.qualification,
            score_model: score.model,
            contact,
            ..LeadDetail::default()
        }
    }
}

/// One entry of a lead's timeline, newest first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TimelineEntry {
    pub at: Option<Timestamp>,
    /// `message`, `note`, `task`, `stage` (a deal moved to another stage) or `deal`.
    pub kind: String,
    pub direction: Option<Direction>,
    pub channel: Option<String>,
    pub text: String,
    /// A local edit GHL has not acknowledged yet (a note, task or stage change made here).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub pending: bool,
}
