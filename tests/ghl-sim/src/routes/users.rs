//! Users (`Version: 2021-07-28`).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Value, json};

use super::Q;
use crate::error::ApiError;
use crate::model::User;
use crate::server::Shared;

/// `GET /users/search?companyId=...` → `{users, count}`.
pub async fn search(State(sh): State<Arc<Shared>>, q: Q) -> Result<Json<Value>, ApiError> {
    let company = q.get("companyId").ok_or_else(|| ApiError::invalid("companyId should not be empty"))?;
    let skip = q.int("skip", 0, 0, i64::MAX)? as usize;
    let limit = q.int("limit", 25, 1, 1000)? as usize;
    let store = sh.read();
    if company != store.location.company_id {
        return Err(ApiError::forbidden_location());
    }
    if let Some(l) = q.get("locationId")
        && l != store.location.id
    {
        return Err(ApiError::forbidden_location());
    }
    let text = q.get("query").map(str::to_lowercase);
    let ids: Option<Vec<&str>> = q.get("ids").map(|s| s.split(',').collect());
    let matched: Vec<&User> = store
        .users
        .iter()
        .filter(|u| {
            text.as_deref()
                .is_none_or(|t| u.name.to_lowercase().contains(t) || u.email.to_lowercase().contains(t))
                && q.get("role").is_none_or(|r| u.roles.role == r)
                && ids.as_ref().is_none_or(|ids| ids.contains(&u.id.as_str()))
        })
        .collect();
    let count = matched.len();
    let page: Vec<&User> = matched.into_iter().skip(skip).take(limit).collect();
    Ok(Json(json!({"users": page, "count": count})))
}

/// `GET /users/?locationId=` (deprecated) → `{users}`.
pub async fn list(State(sh): State<Arc<Shared>>, q: Q) -> Result<Json<Value>, ApiError> {
    sh.check_location(q.get("locationId"), "locationId")?;
    Ok(Json(json!({"users": sh.read().users})))
}

/// `GET /users/{userId}` → the user.
pub async fn get_one(State(sh): State<Arc<Shared>>, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let store = sh.read();
    let u = store.users.iter().find(|u| u.id == id).ok_or_else(|| ApiError::not_found("User not found"))?;
    Ok(Json(json!(u)))
}
