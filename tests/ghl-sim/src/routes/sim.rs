//! The simulator's own control routes under `/__sim` (no token, not rate limited).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;
use serde_json::{Value, json};

use super::{JsonBody, Q};
use crate::error::ApiError;
use crate::model::{Contact, Message, Opportunity};
use crate::ops;
use crate::server::Shared;
use crate::store::{Counts, RecordKind, SentRecord};

/// The `/__sim` routes.
pub fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/__sim/state", get(state))
        .route("/__sim/leads", post(leads))
        .route("/__sim/inbound", post(inbound))
        .route("/__sim/webhook-public-key", get(public_key))
        .route("/__sim/webhooks", get(webhooks))
        .route("/__sim/rate-limit/reset", post(reset_rate_limit))
        .route("/__sim/dump", get(dump))
        .route("/__sim/odd", post(odd))
}

#[derive(Serialize)]
struct StateView<'a> {
    counts: Counts,
    sent: &'a [SentRecord],
    #[serde(skip_serializing_if = "Option::is_none")]
    contacts: Option<Vec<&'a Contact>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    opportunities: Option<Vec<&'a Opportunity>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    messages: Option<Vec<&'a Message>>,
    rate_limit: Value,
    faults: Value,
    webhooks: Value,
    requests: u64,
    now: String,
}

fn json_bytes(bytes: Vec<u8>) -> Response {
    (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], bytes).into_response()
}

/// `GET /__sim/state[?summary=1]`: counts, sent messages, rate-limit and fault counters and
/// (unless `summary`) the full contact, opportunity and message lists.
async fn state(State(sh): State<Arc<Shared>>, q: Q) -> Response {
    let summary = matches!(q.get("summary"), Some("1" | "true"));
    let rate = match sh.limiter.lock() {
        Ok(mut l) => {
            let s = l.peek(Instant::now());
            json!({
                "max": s.max, "remaining": s.remaining, "interval_ms": s.interval_ms,
                "daily_limit": s.daily_limit, "daily_remaining": s.daily_remaining,
                "limited": l.limited,
            })
        }
        Err(_) => Value::Null,
    };
    let faults = match sh.faults.lock() {
        Ok(f) => json!({"total": f.total(), "by_kind": f.counts, "rate": sh.cfg.fault_rate}),
        Err(_) => Value::Null,
    };
    let webhooks = match sh.webhooks.stats.lock() {
        Ok(w) => json!({"emitted": w.emitted, "delivered": w.delivered, "failed": w.failed}),
        Err(_) => Value::Null,
    };
    let store = sh.read();
    let view = StateView {
        counts: store.counts(),
        sent: &store.sent,
        contacts: (!summary).then(|| store.contacts_in_order().collect()),
        opportunities: (!summary).then(|| store.opportunities_in_order().collect()),
        messages: (!summary).then(|| store.messages_in_order().collect()),
        rate_limit: rate,
        faults,
        webhooks,
        requests: sh.requests.load(Ordering::Relaxed),
        now: crate::time::iso_from_ms(sh.now_ms()),
    };
    match serde_json::to_vec(&view) {
        Ok(b) => json_bytes(b),
        Err(_) => ApiError::internal().into_response(),
    }
}

/// `POST /__sim/leads` (optional overrides) → 201 `{contact, opportunity}`; fires `ContactCreate`.
async fn leads(State(sh): State<Arc<Shared>>, body: JsonBody) -> Result<Response, ApiError> {
    let (contact, opp) = ops::inject_lead(&sh, &body.0)?;
    Ok((StatusCode::CREATED, Json(json!({"contact": contact, "opportunity": opp}))).into_response())
}

/// `POST /__sim/inbound` `{contactId, body}` → 201 `{message}`; `STOP` sets SMS DND.
async fn inbound(State(sh): State<Arc<Shared>>, body: JsonBody) -> Result<Response, ApiError> {
    let o = body.object(&["contactId", "body"])?;
    let cid = o.get("contactId").and_then(Value::as_str).unwrap_or("");
    let text =
        o.get("body").and_then(Value::as_str).ok_or_else(|| ApiError::invalid("body must be a string"))?;
    let m = ops::inbound(&sh, cid, text)?;
    Ok((StatusCode::CREATED, Json(json!({"message": m}))).into_response())
}

/// `GET /__sim/webhook-public-key` → the Ed25519 public key as PEM text.
async fn public_key(State(sh): State<Arc<Shared>>) -> Response {
    ([(header::CONTENT_TYPE, "application/x-pem-file")], sh.key.public_key_pem()).into_response()
}

/// `GET /__sim/webhooks` → delivery counts and the most recent events.
async fn webhooks(State(sh): State<Arc<Shared>>) -> Response {
    match sh.webhooks.stats.lock() {
        Ok(s) => Json(json!(*s)).into_response(),
        Err(_) => ApiError::internal().into_response(),
    }
}

/// `POST /__sim/rate-limit/reset` → 204.
async fn reset_rate_limit(State(sh): State<Arc<Shared>>) -> StatusCode {
    if let Ok(mut l) = sh.limiter.lock() {
        l.reset();
    }
    StatusCode::NO_CONTENT
}

/// `POST /__sim/odd` `{kind: contact|opportunity|message, id, fields: {...}}` → 204: the record
/// is served with these fields in place of its own from now on (`null` removes a field, empty
/// `fields` restores the record). See [`crate::store::Store::set_odd`].
async fn odd(State(sh): State<Arc<Shared>>, body: JsonBody) -> Result<StatusCode, ApiError> {
    let o = body.object(&["kind", "id"])?;
    let kind: RecordKind = serde_json::from_value(o.get("kind").cloned().unwrap_or(Value::Null))
        .map_err(|_| ApiError::invalid("kind must be one of contact, opportunity, message"))?;
    let id = o.get("id").and_then(Value::as_str).ok_or_else(|| ApiError::invalid("id must be a string"))?;
    let fields = match o.get("fields") {
        None | Some(Value::Null) => serde_json::Map::new(),
        Some(Value::Object(f)) => f.clone(),
        Some(_) => return Err(ApiError::invalid("fields must be an object")),
    };
    sh.write().set_odd(kind, id, fields);
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /__sim/dump` → the current data in the `--dump` format.
async fn dump(State(sh): State<Arc<Shared>>) -> Response {
    let ds = sh.read().dataset();
    match serde_json::to_vec(&ds) {
        Ok(b) => json_bytes(b),
        Err(_) => ApiError::internal().into_response(),
    }
}
