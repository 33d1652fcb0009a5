//! The GHL webhook receiver (optional, off by default).
//!
//! An HTTP/1.1 server on a **loopback** address (put a tunnel or reverse proxy in front of it to
//! receive GHL's deliveries). Per connection: at most [`WebhookConfig::max_connections`] at once,
//! and the request head must arrive within [`WebhookConfig::header_read_timeout`] (see *Slow
//! clients and the connection cap* below). Per request, in this order:
//!
//! 1. The body is read as raw bytes, up to [`WebhookConfig::max_body_bytes`] (axum's body limit
//!    stops reading past it) → **413** when larger, and within
//!    [`WebhookConfig::body_read_timeout`] → **408** (and the connection closed) when slower.
//! 2. The signature is checked over those exact bytes ([`Verifier`]: `X-GHL-Signature` Ed25519,
//!    else legacy `X-WH-Signature` RSA-SHA256; `N/A` or empty counts as absent; a signature header
//!    sent twice is refused) → **401** when missing or wrong. Nothing is parsed before this.
//! 3. The JSON is parsed ([`parse_event`], flat or `data`-wrapped) → **400** when malformed.
//! 4. The event's `locationId` is compared with [`WebhookConfig::location_id`]: an event for
//!    another location, or without one, gets **200** and is dropped (counted in
//!    [`WebhookStats::foreign_location`], logged at warn with the foreign id, never the body).
//!    See *Other locations* below.
//! 5. Dedup on `webhookId` in a bounded set ([`WebhookConfig::dedup_capacity`] ids, kept as
//!    SHA-256 digests, oldest evicted first): a duplicate gets **200** and is not forwarded again.
//! 6. The [`Hint`] is queued with `try_send` and the answer is **200** at once. When the channel is
//!    full the hint is dropped (counted in [`WebhookStats::dropped`], logged at warn) and the
//!    answer is still 200: the periodic sync catches up, and GHL must not retry or pause the URL.
//!    When the receiver is gone (daemon shutting down) the answer is **503**, so GHL retries later.
//!
//! Other methods get **405**, other paths **404**. Error bodies are short JSON
//! (`{"error":"..."}`). Bodies are never logged (they carry personal data); accepted events are
//! logged at info with their type only.
//!
//! # Other locations
//!
//! GHL signs every Marketplace app's webhooks, for every location, with the same published key.
//! A valid signature therefore proves only that GHL sent the body, not that it concerns the
//! location this daemon mirrors: another GHL customer's events, or a replay of them, verify just
//! as well. So every event must name our `locationId` (at the top level, or inside `data` in the
//! wrapped form; if it names two, both must be ours). The only exceptions are `INSTALL` and
//! `UNINSTALL`, which GHL sends with just a `companyId` for agency-level installs; they carry
//! nothing to re-fetch anyway.
//!
//! Such an event is answered **200** (`{"ok":true,"ignored":true}`), not 4xx, on purpose:
//!
//! - A third party replaying captured events learns nothing from the status and gains nothing
//!   from it either way; the event is dropped in both cases.
//! - When GHL itself delivers another location's events here (the app installed on more
//!   sub-accounts than this one, all pointing at one URL), a 4xx is a failed delivery to GHL: it
//!   may be retried, and it lowers the URL's delivery success rate, which GHL watches and for
//!   which it pauses URLs, which would also stop *our* location's events. A 200 keeps the URL
//!   healthy; the warn log and the counter surface the misconfiguration on our side.
//!
//! The check runs after the signature (an unsigned body is not worth parsing) and before dedup
//! (so foreign `webhookId`s cannot evict ours from the bounded dedup set).
//!
//! # Slow clients and the connection cap
//!
//! Without limits a client could hold a connection open forever by sending a byte now and then
//! (slow loris), and enough such connections would exhaust the daemon's file descriptors.
//!
//! - **Header timeout** ([`DEFAULT_HEADER_READ_TIMEOUT`], 10 s): hyper's `header_read_timeout`.
//!   A connection without a complete request head by then is closed without an answer (there is
//!   no request to answer). The timer restarts after each response, so an idle keep-alive
//!   connection is closed after the same time. Not counted in [`WebhookStats`]: hyper reports
//!   that idle case exactly like a slow client.
//! - **Body timeout** ([`DEFAULT_BODY_READ_TIMEOUT`], 30 s): the whole body, from the end of the
//!   head, not the gap between reads, so trickling does not extend it → **408** with
//!   `Connection: close`, counted in [`WebhookStats::timed_out`]. GHL's bodies are a few KiB and
//!   arrive in one go; 30 s leaves room for a slow tunnel.
//! - **Connection cap** ([`DEFAULT_MAX_CONNECTIONS`], 64): beyond it the accept loop stops
//!   accepting, so new connections **wait** in the kernel's listen backlog rather than being
//!   closed. A burst of genuine deliveries is then served a little late instead of failed (a
//!   failed delivery counts against the URL with GHL), and the wait is bounded: the two timeouts
//!   keep any one request from holding a slot past 40 s (a client making request after slow
//!   request on one keep-alive connection can hold it longer, but only its one slot). Each wait is counted in [`WebhookStats::connection_waits`]; the
//!   first of a run is logged at warn. A determined flood can still keep our deliveries waiting;
//!   that costs only latency, as the periodic sync fetches everything anyway.
//!
//! Only HTTP/1.1 is served: GHL and reverse proxies deliver over HTTP/1.1, and the header timeout
//! exists only there. These limits are not in `[webhooks]`: a proxy in front has its own, and
//! these defaults fit any single location's traffic.
//!
//! # Replay
//!
//! GHL's docs suggest rejecting timestamps outside a window "(e.g., 5 minutes)" *and* duplicate
//! `webhookId`s. But GHL retries failed deliveries up to 12 times with backoff, and a manual
//! resend "re-sends the original payload", so a strict window would reject legitimate late
//! deliveries. This receiver therefore **accepts any timestamp** and relies on `webhookId` dedup
//! (the documented idempotency key) plus the signature; an event whose `timestamp` is more than
//! 5 minutes away from now is only logged at debug. A replay is harmless anyway: every event is
//! merely a hint to re-fetch the record from the API. Events without a `webhookId` are forwarded
//! every time.

mod dedup;
mod event;
mod server;
mod verify;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use tokio::sync::mpsc::{self, error::TrySendError};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use event::{Hint, ParseError, parse_event};
pub use verify::{GHL_SIGNATURE_HEADER, SignatureError, SignatureKind, Verifier, WH_SIGNATURE_HEADER};

use dedup::Dedup;
use event::Owner;

/// The path GHL should deliver to (`/` is an alias).
pub const WEBHOOK_PATH: &str = "/webhooks/ghl";
/// The default body limit: 1 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;
/// The default number of remembered `webhookId`s.
pub const DEFAULT_DEDUP_CAPACITY: usize = 10_000;
/// The default time a client has to send its request line and headers.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// The default time a client has to send the whole body, once its headers are in.
pub const DEFAULT_BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// The default cap on connections served at once.
pub const DEFAULT_MAX_CONNECTIONS: usize = 64;
/// Timestamps further than this from now are logged at debug (never rejected, see the module docs).
pub const REPLAY_LOG_WINDOW_SECS: i64 = 5 * 60;

/// GHL's published Ed25519 key for `X-GHL-Signature` (copied from `shared/ghl-openapi/`; source
/// in `shared/ghl-openapi/SOURCE.md`).
const GHL_ED25519_PEM: &str = include_str!("../../../config/ghl-webhook-keys/webhook-public-key-ed25519.pem");
/// GHL's published RSA-4096 key for the legacy `X-WH-Signature`.
const GHL_RSA_PEM: &str = include_str!("../../../config/ghl-webhook-keys/webhook-public-key-rsa.pem");

/// The receiver's settings.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    /// Where to listen. Must be a loopback address (`127.0.0.0/8` or `::1`); port 0 picks one.
    pub listen: SocketAddr,
    /// The location (sub-account) this daemon mirrors. Events naming another one are ignored
    /// (see the module docs, *Other locations*). Must not be blank.
    pub location_id: String,
    /// The Ed25519 public key for `X-GHL-Signature` (SPKI PEM, or its bare base64 body).
    pub ed25519_public_key_pem: String,
    /// The RSA public key for the legacy `X-WH-Signature`; `None` refuses that header.
    pub rsa_public_key_pem: Option<String>,
    /// Larger bodies get 413 (default [`DEFAULT_MAX_BODY_BYTES`]).
    pub max_body_bytes: usize,
    /// How many `webhookId`s to remember for dedup (default [`DEFAULT_DEDUP_CAPACITY`]).
    pub dedup_capacity: usize,
    /// A connection that has not sent a complete request head this long after connecting (or
    /// after its previous response, for keep-alive) is closed without an answer (default
    /// [`DEFAULT_HEADER_READ_TIMEOUT`]).
    pub header_read_timeout: Duration,
    /// A request whose body is not complete this long after its headers gets 408 and its
    /// connection is closed (default [`DEFAULT_BODY_READ_TIMEOUT`]). The whole body counts, not
    /// the gap between reads, so trickling bytes does not extend it.
    pub body_read_timeout: Duration,
    /// At most this many connections are served at once; further ones wait, unaccepted, until
    /// one closes (default [`DEFAULT_MAX_CONNECTIONS`]).
    pub max_connections: usize,
}

impl WebhookConfig {
    /// GHL's official public keys: `(ed25519_pem, Some(rsa_pem))`, embedded from
    /// `config/ghl-webhook-keys/`.
    pub fn ghl_default_keys() -> (String, Option<String>) {
        (GHL_ED25519_PEM.to_string(), Some(GHL_RSA_PEM.to_string()))
    }

    /// A config for `location_id` listening on `listen` that accepts only `X-GHL-Signature` under
    /// `ed25519_pem` (e.g. the simulator's `SimHandle::webhook_public_key_pem()`), with the
    /// default limits.
    pub fn with_ed25519_key(
        listen: SocketAddr,
        location_id: impl Into<String>,
        ed25519_pem: impl Into<String>,
    ) -> Self {
        Self {
            listen,
            location_id: location_id.into(),
            ed25519_public_key_pem: ed25519_pem.into(),
            rsa_public_key_pem: None,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            dedup_capacity: DEFAULT_DEDUP_CAPACITY,
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            body_read_timeout: DEFAULT_BODY_READ_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }

    /// A config for `location_id` listening on `listen` with GHL's official keys and the default
    /// limits.
    pub fn with_ghl_keys(listen: SocketAddr, location_id: impl Into<String>) -> Self {
        let (ed25519_public_key_pem, rsa_public_key_pem) = Self::ghl_default_keys();
        Self {
            listen,
            location_id: location_id.into(),
            ed25519_public_key_pem,
            rsa_public_key_pem,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            dedup_capacity: DEFAULT_DEDUP_CAPACITY,
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            body_read_timeout: DEFAULT_BODY_READ_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}

/// Why the receiver could not start.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// The listen address is not loopback.
    #[error(
        "webhook listen address {0} is not a loopback address: the receiver only binds 127.0.0.1 or ::1 \
         (expose it through a tunnel or reverse proxy)"
    )]
    NotLoopback(SocketAddr),
    /// A public key could not be parsed.
    #[error("invalid {which} webhook public key: {reason}")]
    Key {
        /// `Ed25519` or `RSA`.
        which: &'static str,
        /// The parser's complaint.
        reason: String,
    },
    /// Another setting is unusable.
    #[error("invalid webhook config: {0}")]
    Config(String),
    /// The address could not be bound.
    #[error("cannot listen for webhooks on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
}

/// Request counters (monotonic).
#[derive(Debug, Default)]
pub struct WebhookStats {
    /// Events verified, parsed, new, and queued as hints.
    pub accepted: AtomicU64,
    /// Events answered 200 but not forwarded: their `webhookId` was seen before.
    pub duplicates: AtomicU64,
    /// Events answered 200 whose hint was dropped because the channel was full.
    pub dropped: AtomicU64,
    /// Signed events answered 200 but not forwarded because they name another location, or no
    /// location at all (see the module docs, *Other locations*).
    pub foreign_location: AtomicU64,
    /// 401s.
    pub unauthorized: AtomicU64,
    /// 400s.
    pub malformed: AtomicU64,
    /// 413s.
    pub too_large: AtomicU64,
    /// 408s: bodies not complete within [`WebhookConfig::body_read_timeout`]. (Connections
    /// closed by the header timeout are not counted: hyper reports an idle keep-alive connection
    /// closing on that timer the same way as a slow client.)
    pub timed_out: AtomicU64,
    /// Times the accept loop found every connection slot taken and had to wait for one
    /// ([`WebhookConfig::max_connections`]).
    pub connection_waits: AtomicU64,
}

/// A plain copy of [`WebhookStats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WebhookStatsSnapshot {
    /// See [`WebhookStats::accepted`].
    pub accepted: u64,
    /// See [`WebhookStats::duplicates`].
    pub duplicates: u64,
    /// See [`WebhookStats::dropped`].
    pub dropped: u64,
    /// See [`WebhookStats::foreign_location`].
    pub foreign_location: u64,
    /// See [`WebhookStats::unauthorized`].
    pub unauthorized: u64,
    /// See [`WebhookStats::malformed`].
    pub malformed: u64,
    /// See [`WebhookStats::too_large`].
    pub too_large: u64,
    /// See [`WebhookStats::timed_out`].
    pub timed_out: u64,
    /// See [`WebhookStats::connection_waits`].
    pub connection_waits: u64,
}

impl WebhookStats {
    /// The current counts.
    pub fn snapshot(&self) -> WebhookStatsSnapshot {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        WebhookStatsSnapshot {
            accepted: get(&self.accepted),
            duplicates: get(&self.duplicates),
            dropped: get(&self.dropped),
            foreign_location: get(&self.foreign_location),
            unauthorized: get(&self.unauthorized),
            malformed: get(&self.malformed),
            too_large: get(&self.too_large),
            timed_out: get(&self.timed_out),
            connection_waits: get(&self.connection_waits),
        }
    }
}

fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

/// At most 64 characters of an id from a body, for the log (GHL ids are 20).
fn shorten(id: &str) -> &str {
    id.char_indices().nth(64).map_or(id, |(end, _)| &id[..end])
}

/// A running receiver. It stops when the `shutdown` token given to [`serve`] is cancelled.
#[derive(Debug)]
pub struct WebhookHandle {
    /// The bound address (the real port when the config said 0).
    pub local_addr: SocketAddr,
    /// Request counters.
    pub stats: Arc<WebhookStats>,
    task: JoinHandle<()>,
}

impl WebhookHandle {
    /// `http://{local_addr}/webhooks/ghl`.
    pub fn url(&self) -> String {
        format!("http://{}{}", self.local_addr, WEBHOOK_PATH)
    }

    /// Waits until the server has stopped (after the shutdown token is cancelled and in-flight
    /// requests finished).
    pub async fn stopped(self) {
        if let Err(e) = self.task.await {
            tracing::warn!("webhook server task failed: {e}");
        }
    }
}

struct AppState {
    verifier: Verifier,
    location_id: String,
    hints: mpsc::Sender<Hint>,
    dedup: Mutex<Dedup>,
    stats: Arc<WebhookStats>,
    body_read_timeout: Duration,
}

/// Binds `cfg.listen`, spawns the server and returns once it is listening. Hints go to `hints`;
/// the server stops gracefully when `shutdown` is cancelled.
pub async fn serve(
    cfg: WebhookConfig,
    hints: mpsc::Sender<Hint>,
    shutdown: CancellationToken,
) -> Result<WebhookHandle, WebhookError> {
    if !cfg.listen.ip().to_canonical().is_loopback() {
        return Err(WebhookError::NotLoopback(cfg.listen));
    }
    if cfg.max_body_bytes == 0 {
        return Err(WebhookError::Config("max_body_bytes must be at least 1".into()));
    }
    for (name, value) in
        [("header_read_timeout", cfg.header_read_timeout), ("body_read_timeout", cfg.body_read_timeout)]
    {
        if value.is_zero() {
            return Err(WebhookError::Config(format!("{name} must be above zero")));
        }
    }
    if cfg.max_connections == 0 {
        return Err(WebhookError::Config("max_connections must be at least 1".into()));
    }
    let location_id = cfg.location_id.trim();
    if location_id.is_empty() {
        return Err(WebhookError::Config(
            "no location id: set location_id under [ghl] (or GHL_LOCATION_ID); the receiver ignores \
             events for any other location"
                .into(),
        ));
    }
    let verifier = Verifier::new(&cfg.ed25519_public_key_pem, cfg.rsa_public_key_pem.as_deref())?;
    let listener = tokio::net::TcpListener::bind(cfg.listen)
        .await
        .map_err(|source| WebhookError::Bind { addr: cfg.listen, source })?;
    let local_addr =
        listener.local_addr().map_err(|source| WebhookError::Bind { addr: cfg.listen, source })?;
    let stats = Arc::new(WebhookStats::default());
    let stats_for_server = stats.clone();
    let state = Arc::new(AppState {
        verifier,
        location_id: location_id.to_owned(),
        hints,
        dedup: Mutex::new(Dedup::new(cfg.dedup_capacity)),
        stats: stats.clone(),
        body_read_timeout: cfg.body_read_timeout,
    });
    let app = router(state, cfg.max_body_bytes);
    let limits =
        server::Limits { max_connections: cfg.max_connections, header_read_timeout: cfg.header_read_timeout };
    tracing::info!(%local_addr, rsa = cfg.rsa_public_key_pem.is_some(), "webhook receiver listening");
    let task = tokio::spawn(async move {
        server::run(listener, app, limits, stats_for_server, shutdown).await;
        tracing::debug!("webhook receiver stopped");
    });
    Ok(WebhookHandle { local_addr, stats, task })
}

fn router(state: Arc<AppState>, max_body_bytes: usize) -> Router {
    let ingest = post(receive).fallback(method_not_allowed);
    Router::new()
        .route(WEBHOOK_PATH, ingest.clone())
        .route("/", ingest)
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .with_state(state)
}

fn json_error(status: StatusCode, message: &'static str) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], format!("{{\"error\":\"{message}\"}}"))
        .into_response()
}

fn json_ok(note: &'static str) -> Response {
    (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], format!("{{\"ok\":true,\"{note}\":true}}"))
        .into_response()
}

async fn method_not_allowed() -> Response {
    let mut r = json_error(StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
    r.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST"));
    r
}

async fn not_found() -> Response {
    json_error(StatusCode::NOT_FOUND, "not found")
}

async fn receive(State(st): State<Arc<AppState>>, headers: HeaderMap, request: Request) -> Response {
    // Read here rather than through a `Bytes` argument so that the timeout covers the read.
    let body = tokio::time::timeout(st.body_read_timeout, Bytes::from_request(request, &())).await;
    let body = match body {
        Err(_elapsed) => {
            bump(&st.stats.timed_out);
            tracing::debug!("webhook refused: body not complete within {:?}", st.body_read_timeout);
            let mut r = json_error(StatusCode::REQUEST_TIMEOUT, "body read timed out");
            // The rest of the body is still on its way: the connection cannot carry another request.
            r.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
            return r;
        }
        Ok(Ok(b)) => b,
        Ok(Err(rejection)) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            bump(&st.stats.too_large);
            tracing::debug!("webhook refused: body over the limit");
            return json_error(StatusCode::PAYLOAD_TOO_LARGE, "body too large");
        }
        Ok(Err(rejection)) => {
            bump(&st.stats.malformed);
            tracing::debug!("webhook refused: body unreadable: {rejection}");
            return json_error(StatusCode::BAD_REQUEST, "unreadable body");
        }
    };

    let kind = match st.verifier.verify(&headers, &body) {
        Ok(kind) => kind,
        Err(e) => {
            bump(&st.stats.unauthorized);
            tracing::debug!("webhook refused: {e}");
            return json_error(StatusCode::UNAUTHORIZED, "invalid signature");
        }
    };

    let event = match event::parse(&body) {
        Ok(e) => e,
        Err(e) => {
            bump(&st.stats.malformed);
            tracing::debug!("webhook refused: {e}");
            return json_error(StatusCode::BAD_REQUEST, "malformed event");
        }
    };

    // Before dedup, so that other locations' events cannot evict ours from the dedup set.
    match event.owner(&st.location_id) {
        Owner::Ours | Owner::NoLocation => {}
        Owner::Foreign(other) => {
            bump(&st.stats.foreign_location);
            tracing::warn!(
                event = %event.event_type,
                location_id = ?shorten(&other),
                "webhook for another location ignored (answered 200): GHL signs every app's events \
                 with one key; check which locations the Marketplace app delivers to this URL"
            );
            return json_ok("ignored");
        }
        Owner::Missing => {
            bump(&st.stats.foreign_location);
            tracing::warn!(event = %event.event_type, "webhook without a locationId ignored (answered 200)");
            return json_ok("ignored");
        }
    }

    if let Some(ts) = event.timestamp {
        let skew = jiff::Timestamp::now().as_second() - ts.as_second();
        if skew.abs() > REPLAY_LOG_WINDOW_SECS {
            tracing::debug!(event = %event.event_type, skew_secs = skew, "webhook timestamp outside the 5 min window (accepted; dedup by webhookId)");
        }
    }

    if let Some(id) = &event.webhook_id {
        let new = st.dedup.lock().unwrap_or_else(PoisonError::into_inner).insert(id);
        if !new {
            bump(&st.stats.duplicates);
            tracing::debug!(event = %event.event_type, "duplicate webhookId, not forwarded");
            return json_ok("duplicate");
        }
    }

    tracing::debug!(hint = ?event.hint, "webhook hint");
    match st.hints.try_send(event.hint) {
        Ok(()) => {
            bump(&st.stats.accepted);
            tracing::info!(event = %event.event_type, signature = ?kind, "webhook accepted");
            json_ok("accepted")
        }
        Err(TrySendError::Full(_)) => {
            bump(&st.stats.dropped);
            tracing::warn!(event = %event.event_type, "webhook hint dropped: the sync engine is busy (periodic sync will catch up)");
            json_ok("dropped")
        }
        Err(TrySendError::Closed(_)) => {
            if let Some(id) = &event.webhook_id {
                st.dedup.lock().unwrap_or_else(PoisonError::into_inner).remove(id);
            }
            tracing::debug!(event = %event.event_type, "webhook refused: daemon shutting down");
            json_error(StatusCode::SERVICE_UNAVAILABLE, "shutting down")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logged_ids_are_shortened_on_char_boundaries() {
        assert_eq!(shorten("ve9EPM428h8vShlRW1KT"), "ve9EPM428h8vShlRW1KT");
        let long = "é".repeat(100);
        assert_eq!(shorten(&long).chars().count(), 64);
        assert_eq!(shorten(""), "");
    }
}
