//! Location helpers (`Version: 2021-07-28`): the location, its tags and custom fields.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Value, json};

use super::Q;
use crate::error::ApiError;
use crate::server::Shared;

fn check(sh: &Shared, id: &str) -> Result<(), ApiError> {
    if id == sh.cfg.location_id { Ok(()) } else { Err(ApiError::forbidden_location()) }
}

/// `GET /locations/{locationId}` → `{location}`.
pub async fn get_location(
    State(sh): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    check(&sh, &id)?;
    Ok(Json(json!({"location": sh.read().location})))
}

/// `GET /locations/{locationId}/tags` → `{tags}`.
pub async fn tags(State(sh): State<Arc<Shared>>, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    check(&sh, &id)?;
    Ok(Json(json!({"tags": sh.read().tags})))
}

/// `GET /locations/{locationId}/customFields?model=contact|opportunity|all` → `{customFields}`.
pub async fn custom_fields(
    State(sh): State<Arc<Shared>>,
    Path(id): Path<String>,
    q: Q,
) -> Result<Json<Value>, ApiError> {
    check(&sh, &id)?;
    // An absent `model` is taken narrowly (contact fields only): GHL does not document it, and
    // a client that wants opportunity fields too must ask for `all`.
    let model = match q.get("model") {
        None => Some("contact".to_string()),
        Some("all") => None,
        Some(m @ ("contact" | "opportunity")) => Some(m.to_string()),
        Some(_) => {
            return Err(ApiError::invalid(
                "model must be one of the following values: contact, opportunity, all",
            ));
        }
    };
    let store = sh.read();
    let fields: Vec<_> =
        store.custom_fields.iter().filter(|f| model.as_deref().is_none_or(|m| f.model == m)).collect();
    Ok(Json(json!({"customFields": fields})))
}
