//! Queries, pages and small result types of the GHL client.

use leadline_shared::domain::{Contact, Message, Opportunity};

/// A page request for `POST /contacts/search`.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactQuery {
    /// Contacts per page, 1..=500 (clamped).
    pub page_limit: u32,
    /// The cursor from the previous page's [`ContactPage::next`]; `None` for the first page.
    pub search_after: Option<Vec<serde_json::Value>>,
    /// Only contacts updated strictly after this (a `dateUpdated` range filter), sorted by
    /// `dateUpdated` ascending. `None`: every contact, in GHL's default order.
    pub updated_after: Option<jiff::Timestamp>,
}

impl Default for ContactQuery {
    /// The first page of everything, 500 per page.
    fn default() -> Self {
        ContactQuery { page_limit: 500, search_after: None, updated_after: None }
    }
}

/// One page of contacts.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactPage {
    /// The contacts of this page.
    pub contacts: Vec<Contact>,
    /// GHL's count of all matching contacts.
    pub total: Option<u64>,
    /// The cursor for the next page (the last contact's `searchAfter`); `None` at the end.
    pub next: Option<Vec<serde_json::Value>>,
}

/// A page request for the v2 `GET /opportunities/search`.
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
    /// The opportunities of this page.
    pub opportunities: Vec<Opportunity>,
    /// `meta.total`.
    pub total: Option<u64>,
    /// `(meta.startAfter, meta.startAfterId)` when there is a next page; `None` at the end.
    pub next: Option<(String, String)>,
}

/// A page request for `GET /conversations/messages/export`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageQuery {
    /// Messages per page, 10..=500 (clamped).
    pub limit: u32,
    /// The previous page's [`MessagePage::next_cursor`].
    pub cursor: Option<String>,
    /// GHL's `channel` (`Call`, `SMS`, `Email`, `WhatsApp`, `Instagram`, `Facebook`). `None` is
    /// GHL's default: every *non-email* type, so export `Email` in a second pass.
    pub channel: Option<String>,
}

impl Default for MessageQuery {
    /// The first page, 500 per page, GHL's default channels.
    fn default() -> Self {
        MessageQuery { limit: 500, cursor: None, channel: None }
    }
}

/// One page of exported messages.
#[derive(Debug, Clone, PartialEq)]
pub struct MessagePage {
    /// The messages of this page.
    pub messages: Vec<Message>,
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
