//! The GHL API routes, one module per service, plus the simulator's own `/__sim` routes.

pub mod contacts;
pub mod conversations;
pub mod locations;
pub mod opportunities;
pub mod sim;
pub mod users;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::routing::{get, post, put};
use bytes::Bytes;
use serde_json::Value;

use crate::error::ApiError;
use crate::server::Shared;

/// Every GHL API route (the gate middleware is added by the server).
pub fn api_routes() -> Router<Arc<Shared>> {
    Router::new()
        // contacts (Version 2021-07-28)
        .route("/contacts/search", post(contacts::search))
        .route("/contacts/", post(contacts::create))
        .route("/contacts", post(contacts::create))
        .route("/contacts/{contactId}", get(contacts::get_one).put(contacts::update).delete(contacts::delete))
        .route("/contacts/{contactId}/tags", post(contacts::add_tags).delete(contacts::remove_tags))
        .route("/contacts/{contactId}/notes", get(contacts::list_notes).post(contacts::create_note))
        .route(
            "/contacts/{contactId}/notes/{id}",
            get(contacts::get_note).put(contacts::update_note).delete(contacts::delete_note),
        )
        .route("/contacts/{contactId}/tasks", get(contacts::list_tasks).post(contacts::create_task))
        .route("/contacts/{contactId}/workflow/{workflowId}", post(contacts::add_to_workflow))
        .route(
            "/contacts/{contactId}/tasks/{taskId}",
            get(contacts::get_task).put(contacts::update_task).delete(contacts::delete_task),
        )
        .route("/contacts/{contactId}/tasks/{taskId}/completed", put(contacts::complete_task))
        // opportunities (Version 2021-07-28)
        .route("/opportunities/search", get(opportunities::search))
        .route("/opportunities/pipelines", get(opportunities::pipelines))
        .route("/opportunities/", post(opportunities::create))
        .route("/opportunities", post(opportunities::create))
        .route(
            "/opportunities/{id}",
            get(opportunities::get_one).put(opportunities::update).delete(opportunities::delete),
        )
        .route("/opportunities/{id}/status", put(opportunities::update_status))
        // conversations (Version 2021-04-15)
        .route("/conversations/search", get(conversations::search))
        .route("/conversations/messages", post(conversations::send))
        .route("/conversations/messages/export", get(conversations::export))
        .route("/conversations/messages/{id}", get(conversations::get_message))
        .route("/conversations/{conversationId}", get(conversations::get_one))
        .route("/conversations/{conversationId}/messages", get(conversations::list_messages))
        // locations and users (Version 2021-07-28)
        .route("/locations/{locationId}", get(locations::get_location))
        .route("/locations/{locationId}/tags", get(locations::tags))
        .route("/locations/{locationId}/customFields", get(locations::custom_fields))
        .route("/users/search", get(users::search))
        .route("/users/", get(users::list))
        .route("/users", get(users::list))
        .route("/users/{userId}", get(users::get_one))
}

/// Query parameters as a map (the last value wins). Bad encoding is a 422, as GHL answers.
#[derive(Debug, Clone, Default)]
pub struct Q(pub HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for Q {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Query::<Vec<(String, String)>>::try_from_uri(&parts.uri)
            .map(|q| Q(q.0.into_iter().collect()))
            .map_err(|_| ApiError::invalid("the query string could not be parsed"))
    }
}

impl Q {
    /// A parameter, if present and not empty.
    pub fn get(&self, k: &str) -> Option<&str> {
        self.0.get(k).map(String::as_str).filter(|s| !s.is_empty())
    }

    /// An integer parameter within `min..=max`, or `default` when absent.
    pub fn int(&self, k: &str, default: i64, min: i64, max: i64) -> Result<i64, ApiError> {
        let Some(raw) = self.get(k) else {
            return Ok(default);
        };
        let v: i64 = raw
            .parse::<i64>()
            .ok()
            .or_else(|| raw.parse::<f64>().ok().filter(|f| f.fract() == 0.0).map(|f| f as i64))
            .ok_or_else(|| {
                ApiError::invalid(format!("{k} must be a number conforming to the specified constraints"))
            })?;
        if v < min {
            return Err(ApiError::invalid(format!("{k} must not be less than {min}")));
        }
        if v > max {
            return Err(ApiError::invalid(format!("{k} must not be greater than {max}")));
        }
        Ok(v)
    }

    /// Rejects parameters outside `allowed` the way GHL's validation does.
    pub fn only(&self, allowed: &[&str]) -> Result<(), ApiError> {
        reject_unknown(self.0.keys(), allowed)
    }
}

/// A JSON request body (`Null` when empty). Invalid JSON is a 400.
#[derive(Debug, Clone)]
pub struct JsonBody(pub Value);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|_| ApiError::bad_request("the request body could not be read"))?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self(Value::Null));
        }
        serde_json::from_slice(&bytes)
            .map(Self)
            .map_err(|e| ApiError::bad_request(format!("Unexpected token in JSON body: {e}")))
    }
}

impl JsonBody {
    /// The body as an object, or a 422 naming what is required.
    pub fn object(&self, required: &[&str]) -> Result<&serde_json::Map<String, Value>, ApiError> {
        match &self.0 {
            Value::Object(o) => {
                let missing: Vec<String> = required
                    .iter()
                    .filter(|k| o.get(**k).is_none_or(|v| v.is_null() || v == ""))
                    .map(|k| format!("{k} should not be empty"))
                    .collect();
                if missing.is_empty() {
                    Ok(o)
                } else {
                    let refs: Vec<&str> = missing.iter().map(String::as_str).collect();
                    Err(ApiError::unprocessable(&refs))
                }
            }
            _ => {
                let msgs: Vec<String> = required.iter().map(|k| format!("{k} should not be empty")).collect();
                let mut refs: Vec<&str> = msgs.iter().map(String::as_str).collect();
                if refs.is_empty() {
                    refs.push("the body must be a JSON object");
                }
                Err(ApiError::unprocessable(&refs))
            }
        }
    }
}

/// Rejects body properties outside `allowed` (GHL validates with `forbidNonWhitelisted`).
pub fn only_props(o: &serde_json::Map<String, Value>, allowed: &[&str]) -> Result<(), ApiError> {
    reject_unknown(o.keys(), allowed)
}

/// The 422 GHL gives for names outside `allowed`, one message per name, sorted.
fn reject_unknown<'a>(names: impl Iterator<Item = &'a String>, allowed: &[&str]) -> Result<(), ApiError> {
    let mut bad: Vec<String> = names
        .filter(|k| !allowed.contains(&k.as_str()))
        .map(|k| format!("property {k} should not exist"))
        .collect();
    if bad.is_empty() {
        return Ok(());
    }
    bad.sort();
    let refs: Vec<&str> = bad.iter().map(String::as_str).collect();
    Err(ApiError::unprocessable(&refs))
}

/// An optional string property; a non-string is a 422.
pub fn opt_str(o: &serde_json::Map<String, Value>, k: &str) -> Result<Option<String>, ApiError> {
    match o.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::invalid(format!("{k} must be a string"))),
    }
}

/// An optional list of strings; anything else is a 422.
pub fn opt_str_list(o: &serde_json::Map<String, Value>, k: &str) -> Result<Option<Vec<String>>, ApiError> {
    match o.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| ApiError::invalid(format!("each value in {k} must be a string")))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(ApiError::invalid(format!("{k} must be an array"))),
    }
}

static TRACE: AtomicU64 = AtomicU64::new(1);

/// A UUID-looking trace id (GHL returns one with each search).
pub fn trace_id() -> String {
    let mut x = TRACE.fetch_add(1, Ordering::Relaxed).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^= x >> 31;
    let y = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    format!(
        "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
        (x >> 32) as u32,
        (x >> 16) as u16,
        x as u16 & 0xfff,
        (y >> 48) as u16 & 0xfff,
        y & 0xffff_ffff_ffff
    )
}
