//! What the dashboard's System screen and `Request::LogTail` carry: the op log with each edit's
//! lead, the records sync skipped, and the end of the daemon's log.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::domain::PendingOp;

/// The most ops a [`super::Request::System`] answer lists.
pub const MAX_SYSTEM_OPS: u32 = 500;
/// The most skipped records a [`super::Request::System`] answer lists (the daemon keeps more;
/// `skipped_total` says how many).
pub const MAX_SYSTEM_SKIPPED: u32 = 100;
/// The most log lines one [`super::Request::LogTail`] returns.
pub const MAX_LOG_LINES: u32 = 500;
/// The most bytes of the log file one [`super::Request::LogTail`] reads, from its end.
pub const MAX_LOG_BYTES: u64 = 256 * 1024;
/// A log line longer than this many characters is cut (with `…`).
pub const MAX_LOG_LINE_CHARS: usize = 1_000;

/// The answer to [`super::Request::System`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SystemReport {
    /// The edits waiting for GHL and those it refused, oldest first, at most the limit.
    pub ops: Vec<OpView>,
    /// How many ops the op log holds in all.
    pub ops_total: u64,
    /// The records sync could not read, most recently seen first, at most the limit.
    pub skipped: Vec<SkippedView>,
    /// How many such records the daemon keeps in all.
    pub skipped_total: u64,
}

/// An op of the op log, with its lead's name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpView {
    /// The op.
    #[serde(flatten)]
    pub op: PendingOp,
    /// The lead's name (empty when the lead is not in the store any more).
    #[serde(default)]
    pub lead_name: String,
}

/// A record GHL sent that sync could not read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedView {
    /// `contact`, `message`, `opportunity`…
    pub kind: String,
    /// GHL's id of it, when it had one.
    #[serde(default)]
    pub id: Option<String>,
    /// Why it could not be read.
    pub reason: String,
    /// When sync first met it.
    pub first_seen: Timestamp,
    /// When sync last met it.
    pub last_seen: Timestamp,
}

/// The answer to [`super::Request::LogTail`]: the last lines of the daemon's newest log file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LogTail {
    /// The file read; `None` when there is no log file (yet).
    pub file: Option<String>,
    /// The last lines, oldest first, without their line ends.
    pub lines: Vec<String>,
    /// More of the file came before the lines returned.
    pub truncated: bool,
}

/// Why sync is failing, for the dashboard's banner (see [`super::SyncStatus::failure`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncFailure {
    /// GHL cannot be reached: the network, timeouts, 5xx, the circuit breaker open.
    Unreachable,
    /// GHL refused the token (401): the user must fix `GHL_API_KEY`.
    Unauthorized,
    /// GHL's rate limit (429) or the daily budget: it waits and goes on.
    RateLimited,
    /// GHL refused a step otherwise (403, a bad answer): see `last_error`.
    Refused,
    /// A kind this client does not know (a newer daemon).
    #[serde(other)]
    Other,
}

impl SyncFailure {
    /// What it means, in a few words, with the fix where the user has one.
    pub fn describe(self) -> &'static str {
        match self {
            SyncFailure::Unreachable => "GHL unreachable",
            SyncFailure::Unauthorized => "GHL refused the token: check GHL_API_KEY",
            SyncFailure::RateLimited => "GHL rate limit: waiting",
            SyncFailure::Refused | SyncFailure::Other => "GHL refused a request",
        }
    }
}

/// One phase of sync (a full sync, the fast poll, the deals pass…) as it last ran.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SyncPhase {
    /// `full`, `poll`, `deals`, `push`, `refetch`, `reconcile`.
    pub name: String,
    /// It is running now.
    pub running: bool,
    /// When it last started.
    pub last_started: Option<Timestamp>,
    /// When it last succeeded.
    pub last_success: Option<Timestamp>,
    /// Why it last failed, if its last run failed.
    pub last_error: Option<String>,
}
