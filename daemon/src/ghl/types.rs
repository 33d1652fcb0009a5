//! Queries, pages and small result types of the GHL client.
//!
//! Every query states what it wants in full (order, statuses, windows): nothing is left to
//! GHL's undocumented defaults. Every page says which records it could not read
//! ([`Skipped`]) instead of failing whole, and whether the listing ended early.

use jiff::Timestamp;
use leadline_shared::domain::{Contact, Message, Opportunity};

/// A record a page held but that could not be read; the rest of the page is used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// `contact`, `opportunity` or `message`.
    pub kind: &'static str,
    /// The record's id, when it had a readable one.
    pub id: Option<String>,
    /// What was wrong with it.
    pub reason: String,
}

/// The order and filter of a contacts search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactOrder {
    /// Every contact, oldest first by `dateAdded` (a full listing: contacts added while it
    /// runs come last, so the listing still sees them).
    AddedAsc,
    /// Contacts whose `dateUpdated` is at or after this instant, oldest change first.
    UpdatedSince(Timestamp),
}

/// A page request for `POST /contacts/search`.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactQuery {
    /// Contacts per page, 1..=500 (clamped).
    pub page_limit: u32,
    /// The cursor from the previous page's [`ContactPage::next`]; `None` for the first page.
    pub search_after: Option<Vec<serde_json::Value>>,
    /// What to list, in which order (sent explicitly as `sort` and `filters`).
    pub order: ContactOrder,
}

impl Default for ContactQuery {
    /// The first page of everything, 500 per page, oldest first.
    fn default() -> Self {
        ContactQuery { page_limit: 500, search_after: None, order: ContactOrder::AddedAsc }
    }
}

/// One page of contacts.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactPage {
    /// The contacts of this page that could be read.
    pub contacts: Vec<Contact>,
    /// The records of this page that could not.
    pub skipped: Vec<Skipped>,
    /// GHL's count of all matching contacts.
    pub total: Option<u64>,
    /// The cursor for the next page (the last contact's `searchAfter`); `None` at the end.
    pub next: Option<Vec<serde_json::Value>>,
    /// A full page came without a cursor to go on: the listing stopped early, so it cannot
    /// prove that a contact it did not show is gone.
    pub cut_short: bool,
}

/// A page request for the v2 `GET /opportunities/search` (every status, oldest first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpportunityQuery {
    /// Opportunities per page, 1..=100 (clamped).
    pub limit: u32,
    /// `(startAfter, startAfterId)` from the previous page's [`OpportunityPage::next`].
    pub start_after: Option<(String, String)>,
}

impl Default for OpportunityQuery {
    /// The first page, 100 per page.
    fn default() -> Self {
        OpportunityQuery { limit: 100, start_after: None }
    }
}

/// One page of opportunities.
#[derive(Debug, Clone, PartialEq)]
pub struct OpportunityPage {
    /// The opportunities of this page that could be read.
    pub opportunities: Vec<Opportunity>,
    /// The records of this page that could not.
    pub skipped: Vec<Skipped>,
    /// `meta.total`.
    pub total: Option<u64>,
    /// `(meta.startAfter, meta.startAfterId)` when there is a next page; `None` at the end.
    pub next: Option<(String, String)>,
}

/// Which part of the message export: GHL leaves email out unless asked for it alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportStream {
    /// No `channel`: every non-email type, activity entries included.
    Messages,
    /// `channel=Email`.
    Emails,
}

impl ExportStream {
    /// Both streams, in the order a sync reads them.
    pub const ALL: [ExportStream; 2] = [ExportStream::Messages, ExportStream::Emails];
}

/// The export's order by `createdAt`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortOrder {
    /// Oldest first: a window read to its end has seen everything in it.
    Asc,
    /// Newest first.
    Desc,
}

/// A page request for `GET /conversations/messages/export`, sorted by `createdAt`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageQuery {
    /// Messages per page, 10..=500 (clamped).
    pub limit: u32,
    /// The previous page's [`MessagePage::next_cursor`].
    pub cursor: Option<String>,
    /// Email, or everything else.
    pub stream: ExportStream,
    /// Oldest or newest first.
    pub order: SortOrder,
    /// Only messages created at or after this instant (`startDate`).
    pub start: Option<Timestamp>,
    /// Only messages created at or before this instant (`endDate`).
    pub end: Option<Timestamp>,
}

impl MessageQuery {
    /// The first page of a stream, oldest first, 500 per page, over the whole history.
    pub fn oldest_first(stream: ExportStream) -> MessageQuery {
        MessageQuery { limit: 500, cursor: None, stream, order: SortOrder::Asc, start: None, end: None }
    }
}

/// One page of exported messages.
#[derive(Debug, Clone, PartialEq)]
pub struct MessagePage {
    /// The messages of this page that could be read.
    pub messages: Vec<Message>,
    /// The records of this page that could not.
    pub skipped: Vec<Skipped>,
    /// `nextCursor`; `None` at the end.
    pub next_cursor: Option<String>,
    /// GHL's count of all matching messages.
    pub total: Option<u64>,
}

/// What `POST /conversations/messages` returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentMessage {
    /// The new message's id.
    pub message_id: String,
    /// The conversation it went to.
    pub conversation_id: String,
}

/// Counters of one client, since it was made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// HTTP requests sent (every attempt).
    pub requests: u64,
    /// 429 responses received.
    pub responses_429: u64,
    /// Attempts that were retries.
    pub retries: u64,
    /// Whether the circuit breaker is refusing calls right now.
    pub breaker_open: bool,
}
