//! The HTTP server: shared state, the API gate (token, rate limit, `Version`, faults, latency),
//! the request log, and [`spawn`] / [`SimHandle`].

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::config::{FaultKind, SimConfig};
use crate::error::ApiError;
use crate::export_cursor::ExportViews;
use crate::faults::{self, FaultInjector};
use crate::model::{Contact, Message};
use crate::rate_limit::RateLimiter;
use crate::request_log::{self, RequestLog};
use crate::seed::{self, Catalog, LeadFactory, SeedConfig};
use crate::store::{Counts, SentRecord, Store};
use crate::time::Clock;
use crate::webhook::{WebhookKey, WebhookStats, Webhooks};
use crate::{ops, routes};

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// A configuration value is out of range.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The port could not be bound.
    #[error("could not listen on 127.0.0.1:{port}: {source} (pick another --port, or 0 for any free port)")]
    Bind {
        /// The port asked for.
        port: u16,
        /// The OS error.
        source: std::io::Error,
    },
    /// The request log could not be opened.
    #[error("could not open the request log {path}: {source}")]
    RequestLog {
        /// The path given.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// Data generation failed (a panic in a worker thread).
    #[error("could not generate the data set: {0}")]
    Generate(String),
}

/// State shared by every handler.
#[derive(Debug)]
pub struct Shared {
    /// The configuration the simulator was started with.
    pub cfg: SimConfig,
    /// The database.
    pub store: RwLock<Store>,
    /// Simulated time.
    pub clock: Clock,
    /// Burst and daily limits.
    pub limiter: Mutex<RateLimiter>,
    /// Fault injection.
    pub faults: Mutex<FaultInjector>,
    /// API requests received (every request to a non-`/__sim` path).
    pub requests: AtomicU64,
    /// The request log, if enabled.
    pub log: Option<RequestLog>,
    /// Webhook emitter.
    pub webhooks: Webhooks,
    /// The messages export's open point-in-time views.
    pub export_views: Mutex<ExportViews>,
    /// Webhook signing key.
    pub key: WebhookKey,
    /// Makes new leads (sim control and activity).
    pub factory: Mutex<(LeadFactory, ChaCha8Rng)>,
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
}

impl Shared {
    /// A read lock on the store (recovering from poisoning: the data stays usable).
    pub fn read(&self) -> RwLockReadGuard<'_, Store> {
        self.store.read().unwrap_or_else(|e| e.into_inner())
    }

    /// A write lock on the store.
    pub fn write(&self) -> RwLockWriteGuard<'_, Store> {
        self.store.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The current simulated time (epoch ms).
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Rejects a `locationId` other than the simulated location, as GHL does for a token
    /// without access to it.
    pub fn check_location(&self, location_id: Option<&str>, name: &str) -> Result<(), ApiError> {
        match location_id {
            None | Some("") => Err(ApiError::invalid(format!("{name} should not be empty"))),
            Some(l) if l == self.cfg.location_id => Ok(()),
            Some(_) => Err(ApiError::forbidden_location()),
        }
    }
}

/// The `Version` header each service requires.
pub fn required_version(path: &str) -> Option<&'static str> {
    let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
    match first {
        "contacts" | "opportunities" | "users" | "locations" => Some("2021-07-28"),
        "conversations" => Some("2021-04-15"),
        _ => None,
    }
}

fn check_version(headers: &HeaderMap, path: &str) -> Result<(), ApiError> {
    let Some(want) = required_version(path) else {
        return Ok(());
    };
    match headers.get("version").and_then(|v| v.to_str().ok()) {
        None => Err(ApiError::bad_request("version header was not found")),
        Some(v) if v.trim() == want => Ok(()),
        Some(v) => Err(ApiError::bad_request(format!(
            "Invalid version header {v:?}. This endpoint expects Version: {want}"
        ))),
    }
}

fn authorized(headers: &HeaderMap, token: &str) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .is_some_and(|t| t.trim() == token)
}

/// Token, rate limit, `Version`, faults and latency for every GHL API route.
async fn api_gate(State(sh): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    sh.requests.fetch_add(1, Ordering::Relaxed);
    if !authorized(req.headers(), &sh.cfg.token) {
        return ApiError::unauthorized().into_response();
    }
    let day = sh.now_ms().div_euclid(86_400_000);
    let rate = match sh.limiter.lock() {
        Ok(mut l) => l.check(Instant::now(), day),
        Err(_) => return ApiError::internal().into_response(),
    };
    if !rate.allowed {
        let mut resp = ApiError::too_many_requests().into_response();
        rate.apply(resp.headers_mut());
        return resp;
    }
    let mut resp = gated(&sh, req, next).await;
    rate.apply(resp.headers_mut());
    resp
}

async fn gated(sh: &Arc<Shared>, req: Request, next: Next) -> Response {
    if let Err(e) = check_version(req.headers(), req.uri().path()) {
        return e.into_response();
    }
    let fault = sh.faults.lock().ok().and_then(|mut f| f.draw());
    if sh.cfg.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(sh.cfg.latency_ms)).await;
    }
    let Some(kind) = fault else {
        return next.run(req).await;
    };
    if let Some(resp) = faults::error_response(kind) {
        return resp;
    }
    match kind {
        FaultKind::Hang => {
            tokio::time::sleep(Duration::from_millis(sh.cfg.hang_ms)).await;
            faults::hang_response()
        }
        FaultKind::TruncatedJson => {
            // Reads get their real body cut short; writes do not run at all.
            let body = if req.method() == axum::http::Method::GET {
                let resp = next.run(req).await;
                to_bytes(resp.into_body(), usize::MAX).await.unwrap_or_default()
            } else {
                bytes::Bytes::from_static(br#"{"succeded":true,"contact":{"id":"x","name":"trunc"#)
            };
            let cut = faults::truncate(&body);
            (StatusCode::OK, [(header::CONTENT_TYPE, "application/json; charset=utf-8")], cut).into_response()
        }
        FaultKind::LostResponse => {
            // The handler runs: whatever it did stays done. Only the answer is lost.
            drop(next.run(req).await);
            faults::hang_response()
        }
        FaultKind::SlowBody => {
            let resp = next.run(req).await;
            let (parts, body) = resp.into_parts();
            let bytes = to_bytes(body, usize::MAX).await.unwrap_or_default();
            let mut parts = parts;
            parts.headers.remove(header::CONTENT_LENGTH);
            Response::from_parts(parts, faults::slow_body(bytes))
        }
        _ => ApiError::internal().into_response(),
    }
}

/// Logs every request (`--request-log`).
async fn log_requests(State(sh): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let Some(log) = &sh.log else {
        return next.run(req).await;
    };
    let (parts, body) = req.into_parts();
    let bytes = match to_bytes(body, 64 * 1024 * 1024).await {
        Ok(b) => b,
        Err(_) => {
            return ApiError::bad_request("request body too large or unreadable").into_response();
        }
    };
    let mut entry = json!({
        "method": parts.method.as_str(),
        "path": parts.uri.path(),
        "query": parts.uri.query(),
        "headers": request_log::redacted_headers(&parts.headers),
        "body": request_log::body_value(&bytes),
    });
    let req = Request::from_parts(parts, Body::from(bytes));
    let resp = next.run(req).await;
    if let Some(o) = entry.as_object_mut() {
        o.insert("status".into(), json!(resp.status().as_u16()));
    }
    log.write(&entry);
    resp
}

async fn not_found(req: Request) -> Response {
    ApiError::not_found(format!("Cannot {} {}", req.method(), req.uri().path())).into_response()
}

fn router(sh: Arc<Shared>) -> Router {
    let api = routes::api_routes().layer(middleware::from_fn_with_state(sh.clone(), api_gate));
    Router::new()
        .merge(api)
        .merge(routes::sim::routes())
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(sh.clone(), log_requests))
        .with_state(sh)
}

/// A running simulator. Dropping it leaves the server running until the runtime stops; call
/// [`SimHandle::shutdown`] to stop it.
#[derive(Debug)]
pub struct SimHandle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
    activity: Option<JoinHandle<()>>,
}

impl SimHandle {
    /// `http://127.0.0.1:PORT`, the base URL to give a GHL client.
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The webhook verification key as PEM.
    pub fn webhook_public_key_pem(&self) -> String {
        self.shared.key.public_key_pem()
    }

    /// The webhook public key's SPKI DER in base64 (the PEM body).
    pub fn webhook_public_key_b64(&self) -> String {
        self.shared.key.public_key_spki_b64()
    }

    /// The location id served.
    pub fn location_id(&self) -> &str {
        &self.shared.cfg.location_id
    }

    /// The accepted bearer token.
    pub fn token(&self) -> &str {
        &self.shared.cfg.token
    }

    /// Object counts right now.
    pub fn counts(&self) -> Counts {
        self.shared.read().counts()
    }

    /// Every message sent through `POST /conversations/messages`, oldest first.
    pub fn sent(&self) -> Vec<SentRecord> {
        self.shared.read().sent.clone()
    }

    /// API requests received so far.
    pub fn requests(&self) -> u64 {
        self.shared.requests.load(Ordering::Relaxed)
    }

    /// Requests refused with 429 by the rate limiter (not counting injected 429 faults).
    pub fn rate_limited(&self) -> u64 {
        self.shared.limiter.lock().map(|l| l.limited).unwrap_or(0)
    }

    /// Faults injected so far.
    pub fn faults_injected(&self) -> u64 {
        self.shared.faults.lock().map(|f| f.total()).unwrap_or(0)
    }

    /// Webhook statistics and the most recent events.
    pub fn webhooks(&self) -> WebhookStats {
        self.shared.webhooks.stats.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// A full copy of the current data (the same shape as `--dump`).
    pub fn snapshot(&self) -> seed::Dataset {
        self.shared.read().dataset()
    }

    /// Runs `f` with read access to the store.
    pub fn with_store<R>(&self, f: impl FnOnce(&Store) -> R) -> R {
        f(&self.shared.read())
    }

    /// Injects a new lead now (fires `ContactCreate`), as `POST /__sim/leads` does.
    /// `overrides` may set `firstName`, `lastName`, `email`, `phone`, `source`, `tags`,
    /// `timezone`, `leadType` and `opportunity` (bool).
    pub fn inject_lead(&self, overrides: &Value) -> Result<Contact, ApiError> {
        ops::inject_lead(&self.shared, overrides).map(|(c, _)| c)
    }

    /// Records an inbound SMS from a contact (fires `InboundMessage`; `STOP` sets SMS DND).
    pub fn inbound(&self, contact_id: &str, body: &str) -> Result<Message, ApiError> {
        ops::inbound(&self.shared, contact_id, body)
    }

    /// Serves a record with `fields` in place of its own, as `POST /__sim/odd` does (see
    /// [`Store::set_odd`]).
    pub fn set_odd(&self, kind: crate::store::RecordKind, id: &str, fields: serde_json::Map<String, Value>) {
        self.shared.write().set_odd(kind, id, fields);
    }

    /// Changes the fault rate from the next request on.
    pub fn set_fault_rate(&self, rate: f64) {
        if let Ok(mut f) = self.shared.faults.lock() {
            f.set_rate(rate);
        }
    }

    /// Clears the rate-limit window and the daily count.
    pub fn reset_rate_limit(&self) {
        if let Ok(mut l) = self.shared.limiter.lock() {
            l.reset();
        }
    }

    /// The shared state (for advanced tests).
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Stops serving and waits (up to 2 s) for open requests to finish.
    pub async fn shutdown(mut self) {
        if let Some(a) = self.activity.take() {
            a.abort();
        }
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(s) = self.server.take() {
            let abort = s.abort_handle();
            if tokio::time::timeout(Duration::from_secs(2), s).await.is_err() {
                abort.abort();
            }
        }
    }
}

/// Generates (or loads) the data set, binds 127.0.0.1:`cfg.port` and starts serving on a tokio
/// task. Returns as soon as the socket is bound.
pub async fn spawn(cfg: SimConfig) -> Result<SimHandle, SimError> {
    cfg.validate().map_err(SimError::Config)?;
    let now_ms = cfg.now_ms.unwrap_or_else(crate::time::real_now_ms);
    let seed_cfg = SeedConfig {
        location_id: cfg.location_id.clone(),
        contacts: cfg.contacts,
        opportunities: cfg.opportunities,
        messages_per_contact: cfg.messages_per_contact,
        seed: cfg.seed,
        now_ms,
        closed_history: cfg.closed_history,
    };
    let given = cfg.dataset.clone();
    let seed_value = cfg.seed;
    let search_lag_ms = cfg.search_lag_ms;
    let store = tokio::task::spawn_blocking(move || {
        let ds = match given {
            Some(d) => (*d).clone(),
            None => seed::generate(&seed_cfg),
        };
        Store::from_dataset(ds, seed_value, search_lag_ms)
    })
    .await
    .map_err(|e| SimError::Generate(e.to_string()))?;

    let listener = TcpListener::bind(("127.0.0.1", cfg.port))
        .await
        .map_err(|source| SimError::Bind { port: cfg.port, source })?;
    let addr = listener.local_addr().map_err(|source| SimError::Bind { port: cfg.port, source })?;
    let log = match &cfg.request_log {
        Some(p) => Some(
            RequestLog::open(p)
                .map_err(|source| SimError::RequestLog { path: p.display().to_string(), source })?,
        ),
        None => None,
    };
    let key = WebhookKey::from_seed(cfg.seed);
    let webhooks = Webhooks::start(&cfg.location_id, cfg.webhook_url.clone(), key.clone(), cfg.seed);
    let catalog = Catalog::from_store(&store);
    let mut factory = LeadFactory::new(catalog, cfg.seed);
    factory.reserve(store.all_contacts(), store.contact_count() as u64);
    let shared = Arc::new(Shared {
        store: RwLock::new(store),
        clock: Clock::new(now_ms),
        limiter: Mutex::new(RateLimiter::new(cfg.rate_limit, cfg.daily_limit)),
        export_views: Mutex::new(ExportViews::new(cfg.export_cursor_ttl_ms)),
        faults: Mutex::new(FaultInjector::new(cfg.fault_rate, cfg.fault_kinds.clone(), cfg.seed)),
        requests: AtomicU64::new(0),
        log,
        webhooks,
        key,
        factory: Mutex::new((factory, seed::stream_rng(cfg.seed, 40))),
        base_url: format!("http://{addr}"),
        cfg,
    });
    let app = router(shared.clone());
    let (tx, rx) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
            let _ = rx.await;
        });
        if let Err(e) = serve.await {
            tracing::error!("ghl-sim server stopped: {e}");
        }
    });
    let activity = shared.cfg.activity.then(|| tokio::spawn(crate::activity::run(shared.clone())));
    Ok(SimHandle { addr, shared, stop: Some(tx), server: Some(server), activity })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_by_service() {
        assert_eq!(required_version("/contacts/search"), Some("2021-07-28"));
        assert_eq!(required_version("/conversations/messages/export"), Some("2021-04-15"));
        assert_eq!(required_version("/locations/x/tags"), Some("2021-07-28"));
        assert_eq!(required_version("/__sim/state"), None);
        let mut h = HeaderMap::new();
        assert!(check_version(&h, "/contacts/x").is_err());
        h.insert("version", "2021-04-15".parse().expect("valid"));
        assert!(check_version(&h, "/contacts/x").is_err());
        assert!(check_version(&h, "/conversations/x").is_ok());
    }

    #[test]
    fn bearer_only() {
        let mut h = HeaderMap::new();
        assert!(!authorized(&h, "t"));
        h.insert(header::AUTHORIZATION, "Bearer t".parse().expect("valid"));
        assert!(authorized(&h, "t"));
        h.insert(header::AUTHORIZATION, "Bearer u".parse().expect("valid"));
        assert!(!authorized(&h, "t"));
        h.insert(header::AUTHORIZATION, "t".parse().expect("valid"));
        assert!(!authorized(&h, "t"));
    }
}
