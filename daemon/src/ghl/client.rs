//! [`GhlClient`]: the HTTP client, with the shared rate limiter, retries and the breaker.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use leadline_shared::config::GhlConfig;
use leadline_shared::domain::{Contact, CustomFieldDef, Note, Opportunity, Pipeline, Task, User};
use leadline_shared::protocol::RateBudget;
use rand::Rng;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue};
use reqwest::{Method, Url};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::breaker::{Breaker, BreakerConfig, Permit};
use super::credentials::Credentials;
use super::error::GhlError;
use super::limiter::{RateLimiter, RateLimits, ServerBudget};
use super::types::{
    ClientStats, ContactOrder, ContactPage, ContactQuery, ExportStream, MessagePage, MessageQuery,
    OpportunityPage, OpportunityQuery, SentMessage, Skipped, SortOrder,
};

/// `Version` for contacts, opportunities, users and locations (and their sub-resources).
pub const VERSION_2021_07_28: &str = "2021-07-28";
/// `Version` for conversations and messages.
pub const VERSION_2021_04_15: &str = "2021-04-15";

/// The `Version` header GHL's spec pins for a path, by service.
pub fn version_for(path: &str) -> &'static str {
    match path.trim_start_matches('/').split('/').next().unwrap_or("") {
        "conversations" | "calendars" => VERSION_2021_04_15,
        _ => VERSION_2021_07_28,
    }
}

/// Everything a [`GhlClient`] needs.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// e.g. `https://services.leadconnectorhq.com` (or the simulator's `http://127.0.0.1:PORT`).
    pub base_url: String,
    /// Token and location.
    pub credentials: Credentials,
    /// Per-request timeout (connect + response). Connecting alone may take at most 10 s.
    pub timeout: Duration,
    /// The rate limits to keep to.
    pub limits: RateLimits,
    /// Attempts per call, including the first (default 5). Non-idempotent calls get one
    /// attempt unless the request surely never reached GHL.
    pub max_attempts: u32,
}

impl ClientConfig {
    /// A configuration from `[ghl]` and resolved credentials, with GHL's default limits and 5
    /// attempts.
    pub fn from_config(cfg: &GhlConfig, credentials: Credentials) -> ClientConfig {
        ClientConfig {
            base_url: cfg.base_url.clone(),
            credentials,
            timeout: Duration::from_secs(cfg.timeout_secs.max(1)),
            limits: RateLimits::default(),
            max_attempts: 5,
        }
    }
}

/// Whether a request may be repeated without doing its effect twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Idempotency {
    /// GETs, the search POST, PUTs, tag add/remove: retried on 429, 5xx, timeouts, network
    /// errors and unreadable bodies.
    Safe,
    /// Creating notes and tasks, sending messages: retried only when the request surely did
    /// not reach GHL (connection refused, 429).
    Unsafe,
}

/// Retry delays: `base · 2^(retry-1)`, capped, with equal jitter.
#[derive(Debug, Clone, Copy)]
struct Backoff {
    base: Duration,
    max: Duration,
}

impl Backoff {
    /// The delay before retry number `retry` (1-based); `jitter` in `0..=1`.
    fn delay(&self, retry: u32, jitter: f64) -> Duration {
        let exp = self.base.saturating_mul(1u32 << retry.saturating_sub(1).min(16));
        let d = exp.min(self.max);
        d / 2 + d.mul_f64(jitter.clamp(0.0, 1.0) / 2.0)
    }
}

#[derive(Debug)]
struct Inner {
    http: reqwest::Client,
    base: String,
    credentials: Credentials,
    /// `Bearer <token>`, marked sensitive (its `Debug` is redacted).
    auth: HeaderValue,
    max_attempts: u32,
    limiter: RateLimiter,
    breaker: Mutex<Breaker>,
    backoff: Backoff,
    budget: Mutex<Option<RateBudget>>,
    requests: AtomicU64,
    responses_429: AtomicU64,
    retries: AtomicU64,
}

/// The GHL API v2 client for one location. Cheap to clone: clones share the connection pool,
/// the rate limiter, the breaker and the stats.
///
/// Every call goes through one shared rate limiter (never more than `burst` requests in any
/// `window`, within the daily budget, following the `X-RateLimit-*` headers), retries with
/// jittered exponential backoff where it is safe, and a circuit breaker that fails fast during
/// an outage. Requests are logged at debug level (method, path, status, duration); the token
/// and bodies never are.
#[derive(Debug, Clone)]
pub struct GhlClient {
    inner: Arc<Inner>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Why a body could not be read.
enum Parse {
    /// Not JSON: the answer was broken on the way; another attempt may do.
    Retry(String),
    /// JSON, but not what the endpoint answers: no attempt will do better.
    Final(String),
}

/// One attempt's failure: the error, whether the request surely never reached GHL (or was
/// refused unprocessed), and `Retry-After`.
struct Failure {
    error: GhlError,
    not_sent: bool,
    retry_after: Option<Duration>,
}

impl GhlClient {
    /// Builds the client (no request is made).
    pub fn new(cfg: ClientConfig) -> Result<GhlClient, GhlError> {
        let base = cfg.base_url.trim().trim_end_matches('/').to_owned();
        super::base_url::check_base_url(&base).map_err(|e| GhlError::Config(e.to_string()))?;
        if cfg.credentials.location_id.trim().is_empty() {
            return Err(GhlError::NotConfigured(
                "no GHL location: set GHL_LOCATION_ID or location_id under [ghl]".into(),
            ));
        }
        let mut auth = HeaderValue::from_str(&format!("Bearer {}", cfg.credentials.token.expose())).map_err(|_| {
            GhlError::NotConfigured(
                "the GHL token contains characters that cannot be sent in a header; copy it again from GHL".into(),
            )
        })?;
        auth.set_sensitive(true);
        let timeout = if cfg.timeout.is_zero() { Duration::from_secs(30) } else { cfg.timeout };
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("leadline/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| GhlError::Config(format!("cannot set up the HTTP client: {e}")))?;
        let breaker = Breaker::new(BreakerConfig {
            probe_timeout: timeout + Duration::from_secs(5),
            ..BreakerConfig::default()
        });
        Ok(GhlClient {
            inner: Arc::new(Inner {
                http,
                base,
                credentials: cfg.credentials,
                auth,
                max_attempts: cfg.max_attempts.max(1),
                limiter: RateLimiter::new(cfg.limits),
                breaker: Mutex::new(breaker),
                backoff: Backoff { base: Duration::from_millis(250), max: Duration::from_secs(10) },
                budget: Mutex::new(None),
                requests: AtomicU64::new(0),
                responses_429: AtomicU64::new(0),
                retries: AtomicU64::new(0),
            }),
        })
    }

    /// The same client with other breaker settings (threshold, cool-downs). Clones share the
    /// breaker, so this affects them too.
    pub fn with_breaker(self, cfg: BreakerConfig) -> GhlClient {
        *lock(&self.inner.breaker) = Breaker::new(cfg);
        self
    }

    /// The same client with other retry delays: `base · 2^n`, capped at `max`, jittered
    /// (default 250 ms … 10 s). For tests and tools; call it right after [`GhlClient::new`],
    /// before the client is cloned (it does nothing on a shared client).
    pub fn with_backoff(mut self, base: Duration, max: Duration) -> GhlClient {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.backoff = Backoff { base, max };
        }
        self
    }

    /// The location this client mirrors.
    pub fn location_id(&self) -> &str {
        &self.inner.credentials.location_id
    }

    /// The budget the latest response's `X-RateLimit-*` headers reported.
    pub fn budget(&self) -> Option<RateBudget> {
        lock(&self.inner.budget).clone()
    }

    /// Counters since the client was made.
    pub fn stats(&self) -> ClientStats {
        ClientStats {
            requests: self.inner.requests.load(Ordering::Relaxed),
            responses_429: self.inner.responses_429.load(Ordering::Relaxed),
            retries: self.inner.retries.load(Ordering::Relaxed),
            breaker_open: lock(&self.inner.breaker).is_open(),
        }
    }

    // ---- pull ----

    /// `GET /locations/{id}` → the `location` object (has `companyId`, `timezone`, `name`).
    pub async fn location(&self) -> Result<Value, GhlError> {
        let path = format!("/locations/{}", seg(self.location_id()));
        let v = self.get(&path, &[]).await?;
        field(v, "location", &path)
    }

    /// `POST /contacts/search`: one page, in the query's explicit order. Pass the returned
    /// `next` as the next query's `search_after`; it is `None` after the last page. A contact
    /// that cannot be read is skipped ([`ContactPage::skipped`]), not the page.
    pub async fn search_contacts(&self, q: &ContactQuery) -> Result<ContactPage, GhlError> {
        let limit = q.page_limit.clamp(1, 500);
        let mut body = json!({"locationId": self.location_id(), "pageLimit": limit});
        if let Some(after) = q.search_after.as_ref().filter(|a| !a.is_empty()) {
            body["searchAfter"] = Value::Array(after.clone());
        }
        match q.order {
            ContactOrder::AddedAsc => {
                body["sort"] = json!([{"field": "dateAdded", "direction": "asc"}]);
            }
            ContactOrder::UpdatedSince(t) => {
                body["filters"] = json!([{"field": "dateUpdated", "operator": "range", "value": {"gte": t.as_millisecond()}}]);
                body["sort"] = json!([{"field": "dateUpdated", "direction": "asc"}]);
            }
        }
        let path = "/contacts/search";
        let l = self.listing::<Contact>(Method::POST, path, &[], Some(&body), "contacts", "contact").await?;
        let full = l.listed >= limit as usize;
        let next = if full {
            l.last_search_after
                .as_ref()
                .or_else(|| l.rest.get("meta").and_then(|m| m.get("searchAfter")))
                .and_then(Value::as_array)
                .filter(|a| !a.is_empty())
                .cloned()
        } else {
            None
        };
        Ok(ContactPage {
            contacts: l.records,
            skipped: l.skipped,
            total: l.rest.get("total").and_then(Value::as_u64),
            cut_short: full && next.is_none(),
            next,
        })
    }

    /// `GET /contacts/{id}`; `Ok(None)` when GHL answers 404.
    pub async fn get_contact(&self, id: &str) -> Result<Option<Contact>, GhlError> {
        let path = format!("/contacts/{}", seg(id));
        match self.get(&path, &[]).await {
            Ok(v) => decode_field(&v, "contact", &path).map(Some),
            Err(GhlError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The v2 `GET /opportunities/search` (snake_case `location_id`): one page of every
    /// status (`status=all`), oldest first (`order=added_asc`), paged with `meta.startAfter` /
    /// `meta.startAfterId`. A deal that cannot be read is skipped, not the page.
    pub async fn search_opportunities(&self, q: &OpportunityQuery) -> Result<OpportunityPage, GhlError> {
        let path = "/opportunities/search";
        let mut query = vec![
            ("location_id", self.location_id().to_owned()),
            ("limit", q.limit.clamp(1, 100).to_string()),
            ("status", "all".to_owned()),
            ("order", "added_asc".to_owned()),
        ];
        if let Some((after, after_id)) = &q.start_after {
            query.push(("startAfter", after.clone()));
            query.push(("startAfterId", after_id.clone()));
        }
        let l = self
            .listing::<Opportunity>(Method::GET, path, &query, None, "opportunities", "opportunity")
            .await?;
        let listed = l.listed;
        let (opportunities, skipped) = (l.records, l.skipped);
        let meta = l.rest.get("meta").cloned().unwrap_or(Value::Null);
        let more = listed > 0
            && (meta.get("nextPageUrl").is_some_and(|u| u.as_str().is_some_and(|s| !s.is_empty()))
                || meta.get("nextPage").is_some_and(|p| !p.is_null()));
        let next = if more {
            let after = match meta.get("startAfter") {
                Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
                Some(Value::Number(n)) => Some(n.to_string()),
                _ => None,
            };
            let after_id = meta.get("startAfterId").and_then(Value::as_str).filter(|s| !s.is_empty());
            after.zip(after_id.map(str::to_owned))
        } else {
            None
        };
        Ok(OpportunityPage { opportunities, skipped, total: meta.get("total").and_then(Value::as_u64), next })
    }

    /// `GET /opportunities/pipelines?locationId=`.
    pub async fn pipelines(&self) -> Result<Vec<Pipeline>, GhlError> {
        let path = "/opportunities/pipelines";
        let v = self.get(path, &[("locationId", self.location_id().to_owned())]).await?;
        decode_field(&v, "pipelines", path)
    }

    /// `GET /conversations/messages/export`: one page of the location-wide message export,
    /// sorted by `createdAt` in the query's order, within its `startDate`/`endDate` window
    /// (sent as RFC 3339). Without a channel GHL leaves email out, so email is its own stream.
    /// A message that cannot be read is skipped, not the page.
    ///
    /// The cursor is a point-in-time handle: it shows only messages that existed when the
    /// export began, and expires when idle. A refused cursor is a [`GhlError::Validation`]
    /// (400): start the window again without one.
    pub async fn export_messages(&self, q: &MessageQuery) -> Result<MessagePage, GhlError> {
        let path = "/conversations/messages/export";
        let mut query = vec![
            ("locationId", self.location_id().to_owned()),
            ("limit", q.limit.clamp(10, 500).to_string()),
            ("sortBy", "createdAt".to_owned()),
            (
                "sortOrder",
                match q.order {
                    SortOrder::Asc => "asc",
                    SortOrder::Desc => "desc",
                }
                .to_owned(),
            ),
        ];
        if let Some(c) = q.cursor.as_ref().filter(|c| !c.is_empty()) {
            query.push(("cursor", c.clone()));
        }
        if q.stream == ExportStream::Emails {
            query.push(("channel", "Email".to_owned()));
        }
        let instant = |t: jiff::Timestamp| t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
        if let Some(t) = q.start {
            query.push(("startDate", instant(t)));
        }
        if let Some(t) = q.end {
            query.push(("endDate", instant(t)));
        }
        let l = self.listing(Method::GET, path, &query, None, "messages", "message").await?;
        let next_cursor =
            l.rest.get("nextCursor").and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned);
        Ok(MessagePage {
            messages: l.records,
            skipped: l.skipped,
            next_cursor,
            total: l.rest.get("total").and_then(Value::as_u64),
        })
    }

    /// A lead's messages of one export stream created at or after `since`, newest first (at
    /// most `limit`, 10..=100): what a send's verification reads to learn whether the message
    /// it may have sent is in the conversation.
    pub async fn recent_messages(
        &self,
        contact_id: &str,
        stream: ExportStream,
        since: jiff::Timestamp,
        limit: u32,
    ) -> Result<Vec<leadline_shared::domain::Message>, GhlError> {
        let path = "/conversations/messages/export";
        let mut query = vec![
            ("locationId", self.location_id().to_owned()),
            ("contactId", contact_id.to_owned()),
            ("limit", limit.clamp(10, 100).to_string()),
            ("sortBy", "createdAt".to_owned()),
            ("sortOrder", "desc".to_owned()),
            ("startDate", since.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()),
        ];
        if stream == ExportStream::Emails {
            query.push(("channel", "Email".to_owned()));
        }
        let v = self.get(path, &query).await?;
        let raw: Vec<Value> = decode_field(&v, "messages", path)?;
        Ok(decode_records(raw, "message").0)
    }

    /// `GET /users/search?companyId=&locationId=`, every page (`skip`/`limit` 100). The
    /// `companyId` is [`GhlClient::location`]'s `companyId`.
    pub async fn users(&self, company_id: &str) -> Result<Vec<User>, GhlError> {
        const PAGE: usize = 100;
        let path = "/users/search";
        let mut out: Vec<User> = Vec::new();
        loop {
            let query = [
                ("companyId", company_id.to_owned()),
                ("locationId", self.location_id().to_owned()),
                ("skip", out.len().to_string()),
                ("limit", PAGE.to_string()),
            ];
            let v = self.get(path, &query).await?;
            let page: Vec<User> = decode_field(&v, "users", path)?;
            let count = v.get("count").and_then(Value::as_u64);
            let n = page.len();
            out.extend(page);
            if n < PAGE || count.is_some_and(|c| out.len() as u64 >= c) || out.len() >= 100_000 {
                return Ok(out);
            }
        }
    }

    /// `GET /locations/{id}/customFields?model=all` (contact and opportunity fields). A
    /// definition that cannot be read is left out (and logged).
    pub async fn custom_fields(&self) -> Result<Vec<CustomFieldDef>, GhlError> {
        let path = format!("/locations/{}/customFields", seg(self.location_id()));
        let v = self.get(&path, &[("model", "all".to_owned())]).await?;
        let raw: Vec<Value> = decode_field(&v, "customFields", &path)?;
        let (fields, skipped) = decode_records(raw, "custom field");
        for s in skipped {
            tracing::warn!(id = ?s.id, reason = %s.reason, "a custom field definition could not be read; skipped");
        }
        Ok(fields)
    }

    /// `GET /locations/{id}/tags` → the tag names.
    pub async fn tags(&self) -> Result<Vec<String>, GhlError> {
        let path = format!("/locations/{}/tags", seg(self.location_id()));
        let v = self.get(&path, &[]).await?;
        let tags: Vec<Value> = decode_field(&v, "tags", &path)?;
        Ok(tags
            .iter()
            .filter_map(|t| t.get("name").and_then(Value::as_str).or_else(|| t.as_str()))
            .map(str::to_owned)
            .collect())
    }

    // ---- push ----

    /// `POST /contacts/{id}/tags` (retried: adding a tag twice is harmless).
    pub async fn add_tags(&self, contact_id: &str, tags: &[String]) -> Result<(), GhlError> {
        let path = format!("/contacts/{}/tags", seg(contact_id));
        self.call(Method::POST, &path, &[], Some(&json!({"tags": tags})), Idempotency::Safe).await.map(drop)
    }

    /// `DELETE /contacts/{id}/tags` with a `{tags}` body (retried: idempotent).
    pub async fn remove_tags(&self, contact_id: &str, tags: &[String]) -> Result<(), GhlError> {
        let path = format!("/contacts/{}/tags", seg(contact_id));
        self.call(Method::DELETE, &path, &[], Some(&json!({"tags": tags})), Idempotency::Safe).await.map(drop)
    }

    /// `POST /contacts/{id}/notes`.
    ///
    /// Not idempotent: retried only when the request surely did not reach GHL (connection
    /// refused, 429). After a timeout, 5xx or unreadable answer the note may or may not exist;
    /// the error is returned and the caller decides (e.g. re-read the notes before trying
    /// again).
    pub async fn add_note(&self, contact_id: &str, body: &str) -> Result<Note, GhlError> {
        let path = format!("/contacts/{}/notes", seg(contact_id));
        let v =
            self.call(Method::POST, &path, &[], Some(&json!({"body": body})), Idempotency::Unsafe).await?;
        decode_field(&v, "note", &path)
    }

    /// Adds the contact to a workflow: `POST /contacts/{contactId}/workflow/{workflowId}`
    /// (add-contact-to-workflow; the workflow starts now). Not idempotent (a workflow may let
    /// a contact in twice): retried only when the request surely did not reach GHL.
    pub async fn enroll_in_workflow(&self, contact_id: &str, workflow_id: &str) -> Result<(), GhlError> {
        let path = format!("/contacts/{}/workflow/{}", seg(contact_id), seg(workflow_id));
        self.call(Method::POST, &path, &[], Some(&json!({})), Idempotency::Unsafe).await.map(drop)
    }

    /// `POST /contacts/{id}/tasks` (`completed: false`). Not idempotent: retried only when the
    /// request surely did not reach GHL, as [`GhlClient::add_note`].
    pub async fn add_task(
        &self,
        contact_id: &str,
        title: &str,
        due: jiff::Timestamp,
    ) -> Result<Task, GhlError> {
        let path = format!("/contacts/{}/tasks", seg(contact_id));
        let body = json!({"title": title, "dueDate": due.to_string(), "completed": false});
        let v = self.call(Method::POST, &path, &[], Some(&body), Idempotency::Unsafe).await?;
        decode_field(&v, "task", &path)
    }

    /// Marks a task done: `PUT /contacts/{contactId}/tasks/{taskId}` (update-task) with
    /// `{completed: true}`. Retried (a PUT: doing it twice is harmless).
    pub async fn complete_task(&self, contact_id: &str, task_id: &str) -> Result<Task, GhlError> {
        let path = format!("/contacts/{}/tasks/{}", seg(contact_id), seg(task_id));
        let v =
            self.call(Method::PUT, &path, &[], Some(&json!({"completed": true})), Idempotency::Safe).await?;
        decode_field(&v, "task", &path)
    }

    /// `GET /contacts/{contactId}/tasks` (get-all-tasks): every task of one contact, open and
    /// done (GHL does not page this list).
    pub async fn contact_tasks(&self, contact_id: &str) -> Result<Vec<Task>, GhlError> {
        let path = format!("/contacts/{}/tasks", seg(contact_id));
        let v = self.get(&path, &[]).await?;
        let mut tasks: Vec<Task> = decode_field(&v, "tasks", &path)?;
        for t in &mut tasks {
            if t.contact_id.is_empty() {
                t.contact_id = contact_id.to_owned();
            }
        }
        Ok(tasks)
    }

    /// Assigns a contact to a user (`PUT /contacts/{id}` with `assignedTo`). Retried (a PUT).
    pub async fn assign_contact(&self, contact_id: &str, user_id: &str) -> Result<Contact, GhlError> {
        self.update_contact(contact_id, &json!({ "assignedTo": user_id })).await
    }

    /// Turns one channel's DND on or off (`PUT /contacts/{id}` with `dndSettings.{channel}`;
    /// `channel` is GHL's name: `SMS`, `Email`, `Call`, `WhatsApp`, `GMB`, `FB`). Retried.
    pub async fn set_dnd(&self, contact_id: &str, channel: &str, on: bool) -> Result<Contact, GhlError> {
        let status = if on { "active" } else { "inactive" };
        self.update_contact(contact_id, &json!({ "dndSettings": { channel: { "status": status } } })).await
    }

    /// Moves a deal to a stage of its pipeline (`PUT /opportunities/{id}` with
    /// `pipelineStageId`). Retried (a PUT).
    pub async fn set_opportunity_stage(&self, id: &str, stage_id: &str) -> Result<Opportunity, GhlError> {
        self.update_opportunity(id, &json!({ "pipelineStageId": stage_id })).await
    }

    /// Sets a deal's value (`PUT /opportunities/{id}` with `monetaryValue`). Retried.
    pub async fn set_opportunity_value(&self, id: &str, value: f64) -> Result<Opportunity, GhlError> {
        self.update_opportunity(id, &json!({ "monetaryValue": value })).await
    }

    /// `PUT /contacts/{id}` with a partial `UpdateContactDto`. Never with `tags`: that replaces
    /// all of them; tags go through [`GhlClient::add_tags`] / [`GhlClient::remove_tags`].
    async fn update_contact(&self, contact_id: &str, patch: &Value) -> Result<Contact, GhlError> {
        let path = format!("/contacts/{}", seg(contact_id));
        let v = self.call(Method::PUT, &path, &[], Some(patch), Idempotency::Safe).await?;
        decode_field(&v, "contact", &path)
    }

    /// `PUT /opportunities/{id}` with a partial `UpdateOpportunityDto`.
    async fn update_opportunity(&self, id: &str, patch: &Value) -> Result<Opportunity, GhlError> {
        let path = format!("/opportunities/{}", seg(id));
        let v = self.call(Method::PUT, &path, &[], Some(patch), Idempotency::Safe).await?;
        decode_field(&v, "opportunity", &path)
    }

    /// `PUT /opportunities/{id}/status` (`open`, `won`, `lost`, `abandoned`). Retried (a PUT).
    pub async fn set_opportunity_status(&self, id: &str, status: &str) -> Result<(), GhlError> {
        let path = format!("/opportunities/{}/status", seg(id));
        self.call(Method::PUT, &path, &[], Some(&json!({"status": status})), Idempotency::Safe)
            .await
            .map(drop)
    }

    /// `POST /conversations/messages`: sends an SMS (`channel` `"sms"`) or an email
    /// (`"email"`, with `subject`).
    ///
    /// Not idempotent: retried only when the request surely did not reach GHL (connection
    /// refused, 429). After a timeout, 5xx or an unreadable answer the message may have gone
    /// out; the error is returned and must not be blindly retried (the lead would get it
    /// twice). A contact under DND gives [`GhlError::Validation`] (400).
    pub async fn send_message(
        &self,
        contact_id: &str,
        channel: &str,
        body: &str,
        subject: Option<&str>,
    ) -> Result<SentMessage, GhlError> {
        let kind = match channel.to_ascii_lowercase().as_str() {
            "sms" => "SMS",
            "email" => "Email",
            other => {
                return Err(GhlError::InvalidRequest(format!(
                    "cannot send on channel {other:?}: use \"sms\" or \"email\""
                )));
            }
        };
        let mut payload = json!({"type": kind, "contactId": contact_id, "message": body});
        if kind == "Email" {
            payload["subject"] = json!(subject.unwrap_or(""));
        }
        let path = "/conversations/messages";
        let v = self.call(Method::POST, path, &[], Some(&payload), Idempotency::Unsafe).await?;
        let id = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        match (id("messageId"), id("conversationId")) {
            (Some(message_id), Some(conversation_id)) => Ok(SentMessage { message_id, conversation_id }),
            _ => Err(GhlError::Decode {
                what: format!("POST {path}"),
                message: "messageId or conversationId missing".into(),
            }),
        }
    }

    // ---- machinery ----

    async fn get(&self, path: &str, query: &[(&str, String)]) -> Result<Value, GhlError> {
        self.call(Method::GET, path, query, None, Idempotency::Safe).await
    }

    /// A call answered by a JSON document, read whole.
    async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
        idem: Idempotency,
    ) -> Result<Value, GhlError> {
        let parse = |bytes: &[u8]| {
            if bytes.iter().all(u8::is_ascii_whitespace) {
                return Ok(Value::Null);
            }
            serde_json::from_slice::<Value>(bytes).map_err(|e| Parse::Retry(e.to_string()))
        };
        self.call_parsed(method, path, query, body, idem, &parse).await
    }

    /// A listing call (safe to retry): its records at `key` read one by one
    /// ([`super::listing`]), never the page as one `Value` tree.
    async fn listing<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
        key: &str,
        kind: &'static str,
    ) -> Result<super::listing::Listing<T>, GhlError> {
        use super::listing::ListingError;
        let parse = |bytes: &[u8]| match super::listing::decode::<T>(bytes, key, kind) {
            Ok(l) => Ok(l),
            Err(ListingError::Json(e)) => Err(Parse::Retry(e.to_string())),
            Err(ListingError::Shape(message)) => Err(Parse::Final(message)),
        };
        self.call_parsed(method, path, query, body, Idempotency::Safe, &parse).await
    }

    /// One logical call: the breaker, then attempts (limiter slot, request, classification,
    /// reading the body with `parse`, backoff).
    async fn call_parsed<T>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
        idem: Idempotency,
        parse: &(dyn Fn(&[u8]) -> Result<T, Parse> + Sync),
    ) -> Result<T, GhlError> {
        let mut url = Url::parse(&format!("{}{}", self.inner.base, path))
            .map_err(|e| GhlError::InvalidRequest(format!("bad path {path}: {e}")))?;
        if !query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in query {
                pairs.append_pair(k, v);
            }
        }
        let permit = lock(&self.inner.breaker).allow(Instant::now());
        let permit = match permit {
            Ok(p) => p,
            Err(retry_in) => return Err(GhlError::CircuitOpen { retry_in }),
        };
        let attempts = if permit == Permit::Probe { 1 } else { self.inner.max_attempts };
        let mut attempt = 1;
        loop {
            let parsed =
                self.attempt(&method, &url, path, body).await.and_then(|bytes| match parse(&bytes) {
                    Ok(v) => Ok(Ok(v)),
                    // A body that is not JSON (truncated, broken) is asked for again, like a 5xx.
                    Err(Parse::Retry(message)) => Err(Failure {
                        error: GhlError::Decode { what: format!("{method} {path}"), message },
                        not_sent: false,
                        retry_after: None,
                    }),
                    // JSON of the wrong shape will not change on asking again.
                    Err(Parse::Final(message)) => {
                        Ok(Err(GhlError::Decode { what: path.to_owned(), message }))
                    }
                });
            let f = match parsed {
                Ok(v) => {
                    lock(&self.inner.breaker).on_success();
                    return v;
                }
                Err(f) => f,
            };
            let retryable = f.error.is_retryable()
                && !matches!(f.error, GhlError::RateLimited { daily: true, .. })
                && (idem == Idempotency::Safe || f.not_sent);
            if retryable && attempt < attempts {
                let jitter = rand::rng().random::<f64>();
                let mut delay = self.inner.backoff.delay(attempt, jitter);
                if let GhlError::RateLimited { .. } = f.error {
                    // Retry-After if the server gave one, and never sooner than the backoff.
                    delay = delay.max(f.retry_after.unwrap_or_default());
                }
                tracing::debug!(
                    method = %method, path, attempt, delay_ms = delay.as_millis() as u64,
                    error = %f.error, "GHL request failed; retrying"
                );
                self.inner.retries.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(delay).await;
                attempt += 1;
                continue;
            }
            let mut breaker = lock(&self.inner.breaker);
            if f.error.is_outage() {
                breaker.on_failure(Instant::now());
            } else if !matches!(f.error, GhlError::RateLimited { .. }) || permit == Permit::Probe {
                // GHL answered: even a refusal shows it is up. A 429 in the closed state
                // leaves the failure count as it is.
                breaker.on_success();
            }
            return Err(f.error);
        }
    }

    /// One HTTP request, under a limiter slot: the body of a 2xx answer.
    async fn attempt(
        &self,
        method: &Method,
        url: &Url,
        path: &str,
        body: Option<&Value>,
    ) -> Result<bytes::Bytes, Failure> {
        let slot = self.inner.limiter.acquire().await.map_err(|error| Failure {
            error,
            not_sent: true,
            retry_after: None,
        })?;
        let mut req = self
            .inner
            .http
            .request(method.clone(), url.clone())
            .header(AUTHORIZATION, self.inner.auth.clone())
            .header("Version", version_for(path))
            .header(ACCEPT, "application/json");
        if let Some(b) = body {
            let bytes = serde_json::to_vec(b).map_err(|e| Failure {
                error: GhlError::InvalidRequest(format!("cannot encode the body: {e}")),
                not_sent: true,
                retry_after: None,
            })?;
            req = req.header(CONTENT_TYPE, "application/json").body(bytes);
        }
        self.inner.requests.fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) => {
                slot.complete(None);
                let f = transport_failure(&e);
                tracing::debug!(
                    method = %method, path, ms = started.elapsed().as_millis() as u64, error = %f.error,
                    "GHL request"
                );
                return Err(f);
            }
        };
        let status = resp.status().as_u16();
        let server = server_budget(resp.headers());
        let retry_after = retry_after(resp.headers());
        // The server counted the request when it arrived, before it answered: the slot's
        // window can start at the answer's head. Reading a big body (a page of 500 contacts)
        // would otherwise add its transfer to every slot's hold, once per 10 s cycle.
        let headers = server.is_present().then_some(&server);
        if status == 429 && server.daily_remaining != Some(0) {
            slot.refused(headers);
        } else {
            slot.complete(headers);
        }
        let bytes = resp.bytes().await;
        if server.is_present() {
            self.record_budget(&server);
        }
        tracing::debug!(method = %method, path, status, ms = started.elapsed().as_millis() as u64, "GHL request");
        if status == 429 {
            self.inner.responses_429.fetch_add(1, Ordering::Relaxed);
            let daily = server.daily_remaining == Some(0);
            return Err(Failure {
                error: GhlError::RateLimited { retry_in: retry_after, daily },
                not_sent: true,
                retry_after,
            });
        }
        let bytes = match bytes {
            Ok(b) => b,
            Err(e) => return Err(transport_failure(&e)),
        };
        if !(200..300).contains(&status) {
            return Err(Failure {
                error: GhlError::from_response(status, &bytes, retry_after),
                not_sent: false,
                retry_after,
            });
        }
        Ok(bytes)
    }

    fn record_budget(&self, s: &ServerBudget) {
        let clamp = |v: u64| v.min(u64::from(u32::MAX)) as u32;
        let mut b = lock(&self.inner.budget);
        let prev = b.clone().unwrap_or_default();
        *b = Some(RateBudget {
            burst_remaining: s.remaining.unwrap_or(prev.burst_remaining),
            burst_max: s.max.unwrap_or(prev.burst_max),
            daily_remaining: s.daily_remaining.map_or(prev.daily_remaining, clamp),
            daily_max: s.daily_max.map_or(prev.daily_max, clamp),
        });
    }
}

fn transport_failure(e: &reqwest::Error) -> Failure {
    let error = if e.is_timeout() {
        GhlError::Timeout
    } else if e.is_connect() {
        GhlError::Connect(error_chain(e))
    } else {
        GhlError::Network(error_chain(e))
    };
    Failure { not_sent: matches!(error, GhlError::Connect(_)), error, retry_after: None }
}

/// The error with its sources, the URL shortened to its path (the query can carry values).
fn error_chain(e: &reqwest::Error) -> String {
    let mut first = e.to_string();
    if let Some(u) = e.url() {
        first = first.replace(u.as_str(), u.path());
    }
    let mut parts = vec![first];
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        let text = s.to_string();
        if !parts.contains(&text) {
            parts.push(text);
        }
        src = s.source();
    }
    parts.join(": ")
}

fn server_budget(h: &HeaderMap) -> ServerBudget {
    let num =
        |name: &str| h.get(name).and_then(|v| v.to_str().ok()).and_then(|s| s.trim().parse::<u64>().ok());
    let small = |v: u64| v.min(u64::from(u32::MAX)) as u32;
    ServerBudget {
        max: num("x-ratelimit-max").map(small),
        remaining: num("x-ratelimit-remaining").map(small),
        interval_ms: num("x-ratelimit-interval-milliseconds"),
        daily_remaining: num("x-ratelimit-daily-remaining"),
        daily_max: num("x-ratelimit-limit-daily"),
    }
}

fn retry_after(h: &HeaderMap) -> Option<Duration> {
    let s = h.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim();
    s.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)
        .map(|v| Duration::from_secs_f64(v.min(3600.0)))
}

/// Percent-encodes one path segment (GHL ids are alphanumeric; this guards the rest).
fn seg(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes a listing record by record: one record in a shape we cannot read is reported as
/// [`Skipped`] (with its id when it has a readable one) and the rest of the page is kept.
fn decode_records<T: DeserializeOwned>(raw: Vec<Value>, kind: &'static str) -> (Vec<T>, Vec<Skipped>) {
    let mut ok = Vec::with_capacity(raw.len());
    let mut skipped = Vec::new();
    for item in raw {
        let id = item.get("id").and_then(Value::as_str).map(str::to_owned);
        match T::deserialize(&item) {
            Ok(record) => ok.push(record),
            Err(e) => skipped.push(Skipped { kind, id, reason: e.to_string() }),
        }
    }
    (ok, skipped)
}

/// `v[key]` decoded as `T`; a missing key is a decode error.
fn decode_field<T: DeserializeOwned>(v: &Value, key: &str, path: &str) -> Result<T, GhlError> {
    let f = v.get(key).ok_or_else(|| GhlError::Decode {
        what: path.to_owned(),
        message: format!("the response has no `{key}`"),
    })?;
    T::deserialize(f).map_err(|e| GhlError::Decode { what: path.to_owned(), message: e.to_string() })
}

fn field(mut v: Value, key: &str, path: &str) -> Result<Value, GhlError> {
    match v.get_mut(key).map(Value::take) {
        Some(f) if !f.is_null() => Ok(f),
        _ => Err(GhlError::Decode { what: path.to_owned(), message: format!("the response has no `{key}`") }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ghl::Secret;

    #[test]
    fn versions_per_service() {
        assert_eq!(version_for("/contacts/search"), "2021-07-28");
        assert_eq!(version_for("/opportunities/search"), "2021-07-28");
        assert_eq!(version_for("/users/search"), "2021-07-28");
        assert_eq!(version_for("/locations/x/tags"), "2021-07-28");
        assert_eq!(version_for("/conversations/messages/export"), "2021-04-15");
        assert_eq!(version_for("/conversations/messages"), "2021-04-15");
    }

    #[test]
    fn backoff_grows_is_capped_and_jittered() {
        let b = Backoff { base: Duration::from_millis(100), max: Duration::from_secs(1) };
        assert_eq!(b.delay(1, 0.0), Duration::from_millis(50));
        assert_eq!(b.delay(1, 1.0), Duration::from_millis(100));
        assert_eq!(b.delay(3, 1.0), Duration::from_millis(400));
        assert_eq!(b.delay(10, 1.0), Duration::from_secs(1));
        assert_eq!(b.delay(40, 0.5), Duration::from_millis(750));
    }

    #[test]
    fn headers_are_read() {
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-max", HeaderValue::from_static("100"));
        h.insert("x-ratelimit-remaining", HeaderValue::from_static("42"));
        h.insert("x-ratelimit-interval-milliseconds", HeaderValue::from_static("10000"));
        h.insert("x-ratelimit-daily-remaining", HeaderValue::from_static("199000"));
        h.insert("x-ratelimit-limit-daily", HeaderValue::from_static("200000"));
        h.insert("retry-after", HeaderValue::from_static("2"));
        let s = server_budget(&h);
        assert_eq!(s.max, Some(100));
        assert_eq!(s.remaining, Some(42));
        assert_eq!(s.interval_ms, Some(10_000));
        assert_eq!(s.daily_remaining, Some(199_000));
        assert_eq!(s.daily_max, Some(200_000));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
        assert!(!server_budget(&HeaderMap::new()).is_present());
    }

    #[test]
    fn segments_are_encoded() {
        assert_eq!(seg("abc123XYZ"), "abc123XYZ");
        assert_eq!(seg("a/b c"), "a%2Fb%20c");
    }

    #[test]
    fn config_is_checked_and_debug_hides_the_token() {
        let creds = Credentials { token: Secret::new("pit-secret-value"), location_id: "loc".into() };
        let cfg = ClientConfig {
            base_url: "not a url".into(),
            credentials: creds.clone(),
            timeout: Duration::from_secs(5),
            limits: RateLimits::default(),
            max_attempts: 5,
        };
        assert!(matches!(GhlClient::new(cfg.clone()), Err(GhlError::Config(_))));
        let ok = GhlClient::new(ClientConfig { base_url: "http://127.0.0.1:9/".into(), ..cfg.clone() })
            .expect("valid config");
        assert_eq!(ok.location_id(), "loc");
        let dbg = format!("{ok:?} {cfg:?}");
        assert!(!dbg.contains("pit-secret-value"), "{dbg}");
        let no_loc = ClientConfig {
            base_url: "http://127.0.0.1:9".into(),
            credentials: Credentials { location_id: " ".into(), ..creds },
            ..cfg
        };
        assert!(matches!(GhlClient::new(no_loc), Err(GhlError::NotConfigured(_))));
    }
}
