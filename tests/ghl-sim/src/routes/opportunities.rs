//! Opportunities (`Version: 2021-07-28`): the v2 snake_case search with `startAfter` /
//! `startAfterId`, pipelines, CRUD and status.

use std::ops::Bound;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::{JsonBody, Q, only_props, opt_str};
use crate::error::ApiError;
use crate::model::Opportunity;
use crate::server::Shared;
use crate::store::{Key, RecordKind, Store};
use crate::time::{iso_from_ms, ms_from_mdy};

const STATUSES: &[&str] = &["open", "won", "lost", "abandoned"];

const SEARCH_PARAMS: &[&str] = &[
    "q",
    "location_id",
    "pipeline_id",
    "pipeline_stage_id",
    "contact_id",
    "status",
    "assigned_to",
    "campaignId",
    "id",
    "order",
    "endDate",
    "startAfter",
    "startAfterId",
    "date",
    "country",
    "page",
    "limit",
    "getTasks",
    "getNotes",
    "getCalendarEvents",
];

fn created_ms(o: &Opportunity) -> i64 {
    crate::time::ms_from_iso(&o.created_at).unwrap_or(0)
}

/// `GET /opportunities/search` → `{opportunities, meta, aggregations}`.
pub async fn search(State(sh): State<Arc<Shared>>, q: Q) -> Result<Json<Value>, ApiError> {
    q.only(SEARCH_PARAMS)?;
    sh.check_location(q.get("location_id"), "location_id")?;
    let limit = q.int("limit", 20, 1, 100)? as usize;
    let page = q.int("page", 1, 1, i64::MAX)? as usize;
    // GHL does not document what an absent `status` means; the simulator takes the narrow
    // reading (open deals only), so a client that means every deal must say `all`.
    let status = match q.get("status") {
        None => Some("open"),
        Some("all") => None,
        Some(s) if STATUSES.contains(&s) => Some(s),
        Some(_) => {
            return Err(ApiError::invalid(
                "status must be one of the following values: open, won, lost, abandoned, all",
            ));
        }
    };
    let asc = match q.get("order") {
        None | Some("added_desc") => false,
        Some("added_asc") => true,
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "order {other} is not supported (use added_asc or added_desc)"
            )));
        }
    };
    let date_lo = match q.get("date") {
        Some(d) => Some(ms_from_mdy(d).ok_or_else(|| ApiError::invalid("date must be mm-dd-yyyy"))?),
        None => None,
    };
    let date_hi = match q.get("endDate") {
        Some(d) => Some(
            ms_from_mdy(d).ok_or_else(|| ApiError::invalid("endDate must be mm-dd-yyyy"))? + 86_400_000 - 1,
        ),
        None => None,
    };
    let after: Option<Key> = match (q.get("startAfter"), q.get("startAfterId")) {
        (None, None) => None,
        (Some(sa), id) => {
            let ms: i64 =
                sa.parse().map_err(|_| ApiError::invalid("startAfter must be epoch milliseconds"))?;
            // Without an id, resume after every opportunity at that timestamp.
            let id = id.map_or_else(
                || {
                    if asc { "\u{10FFFF}".into() } else { String::new() }
                },
                str::to_string,
            );
            Some((ms, id))
        }
        (None, Some(id)) => {
            let store = sh.read();
            let o = store
                .opportunity(id)
                .ok_or_else(|| ApiError::bad_request("startAfterId does not match an opportunity"))?;
            Some((created_ms(o), o.id.clone()))
        }
    };
    let text = q.get("q").map(str::to_lowercase);
    let store = sh.read();
    let pass = |o: &Opportunity| {
        status.is_none_or(|s| o.status == s)
            && q.get("pipeline_id").is_none_or(|p| o.pipeline_id == p)
            && q.get("pipeline_stage_id").is_none_or(|p| o.pipeline_stage_id == p)
            && q.get("contact_id").is_none_or(|c| o.contact_id == c)
            && q.get("assigned_to").is_none_or(|a| o.assigned_to.as_deref() == Some(a))
            && q.get("id").is_none_or(|i| o.id == i)
            && text.as_deref().is_none_or(|t| {
                o.name.to_lowercase().contains(t)
                    || o.contact.as_ref().is_some_and(|c| {
                        c.email.as_deref().is_some_and(|e| e.to_lowercase().contains(t))
                            || c.phone.as_deref().is_some_and(|p| p.contains(t))
                    })
            })
    };
    let idx = store.opportunity_index();
    let lo: Bound<Key> = date_lo.map_or(Bound::Unbounded, |l| Bound::Included((l, String::new())));
    let hi: Bound<Key> = date_hi.map_or(Bound::Unbounded, |h| Bound::Excluded((h + 1, String::new())));
    let range_ok = match (&lo, &hi) {
        (Bound::Included(a), Bound::Excluded(b)) => a < b,
        _ => true,
    };
    let in_range: Box<dyn Iterator<Item = &Key>> = if !range_ok {
        Box::new(std::iter::empty())
    } else if asc {
        Box::new(idx.range((lo, hi)))
    } else {
        Box::new(idx.range((lo, hi)).rev())
    };
    let matched = in_range
        .filter(|k| match &after {
            None => true,
            Some(a) => {
                if asc {
                    *k > a
                } else {
                    *k < a
                }
            }
        })
        .filter_map(|k| store.opportunity(&k.1))
        .filter(|o| pass(o));
    // `page` skips pages only when no cursor is given (as the meta's nextPage suggests).
    let skip = if after.is_none() { (page - 1) * limit } else { 0 };
    let mut items: Vec<&Opportunity> = matched.skip(skip).take(limit + 1).collect();
    let more = items.len() > limit;
    items.truncate(limit);
    let filtered = status.is_some()
        || date_lo.is_some()
        || date_hi.is_some()
        || text.is_some()
        || ["pipeline_id", "pipeline_stage_id", "contact_id", "assigned_to", "id"]
            .iter()
            .any(|k| q.get(k).is_some());
    let total = if filtered {
        store
            .all_opportunities()
            .filter(|o| {
                let ms = created_ms(o);
                pass(o) && date_lo.is_none_or(|l| ms >= l) && date_hi.is_none_or(|h| ms <= h)
            })
            .count()
    } else {
        store.opportunity_count()
    };
    let last = items.last().map(|o| (created_ms(o), o.id.clone()));
    let next_url = match (&last, more) {
        (Some((ms, id)), true) => {
            let mut params: Vec<(String, String)> =
                q.0.iter()
                    .filter(|(k, _)| !["startAfter", "startAfterId", "page"].contains(&k.as_str()))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
            params.sort();
            params.push(("startAfter".into(), ms.to_string()));
            params.push(("startAfterId".into(), id.clone()));
            params.push(("page".into(), (page + 1).to_string()));
            let qs: Vec<String> =
                params.iter().map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v))).collect();
            Some(format!("{}/opportunities/search?{}", sh.base_url, qs.join("&")))
        }
        _ => None,
    };
    let meta = json!({
        "total": total,
        "nextPageUrl": next_url,
        "startAfterId": last.as_ref().map(|l| l.1.clone()),
        "startAfter": last.as_ref().map(|l| l.0),
        "currentPage": page,
        "nextPage": more.then_some(page + 1),
        "prevPage": (page > 1).then(|| page - 1),
    });
    let items: Vec<Value> = items.iter().map(|o| store.render(RecordKind::Opportunity, &o.id, o)).collect();
    Ok(Json(json!({
        "opportunities": items,
        "meta": meta,
        "aggregations": {},
    })))
}

fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char);
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// `GET /opportunities/pipelines?locationId=` → `{pipelines}`.
pub async fn pipelines(State(sh): State<Arc<Shared>>, q: Q) -> Result<Json<Value>, ApiError> {
    sh.check_location(q.get("locationId"), "locationId")?;
    Ok(Json(json!({"pipelines": sh.read().pipelines})))
}

fn opp_or_404<'a>(store: &'a Store, id: &str) -> Result<&'a Opportunity, ApiError> {
    store.opportunity(id).ok_or_else(|| ApiError::not_found("Opportunity not found"))
}

/// `GET /opportunities/{id}` → `{opportunity}`.
pub async fn get_one(State(sh): State<Arc<Shared>>, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let store = sh.read();
    let o = opp_or_404(&store, &id)?;
    Ok(Json(json!({"opportunity": store.render(RecordKind::Opportunity, &id, o)})))
}

fn check_stage(store: &Store, pipeline_id: &str, stage_id: Option<&str>) -> Result<(), ApiError> {
    let p = store
        .pipelines
        .iter()
        .find(|p| p.id == pipeline_id)
        .ok_or_else(|| ApiError::bad_request("Pipeline not found"))?;
    if let Some(s) = stage_id
        && !p.stages.iter().any(|st| st.id == s)
    {
        return Err(ApiError::bad_request("Pipeline stage does not belong to the pipeline"));
    }
    Ok(())
}

fn status_of(o: &Map<String, Value>) -> Result<Option<String>, ApiError> {
    match opt_str(o, "status")? {
        Some(s) if STATUSES.contains(&s.as_str()) => Ok(Some(s)),
        Some(_) => {
            Err(ApiError::invalid("status must be one of the following values: open, won, lost, abandoned"))
        }
        None => Ok(None),
    }
}

fn money(o: &Map<String, Value>) -> Result<Option<f64>, ApiError> {
    match o.get("monetaryValue") {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_f64().map(Some).ok_or_else(|| ApiError::invalid("monetaryValue must be a number")),
    }
}

fn emit_changes(sh: &Shared, before: &Opportunity, after: &Opportunity, now: i64) {
    sh.webhooks.opportunity_event("OpportunityUpdate", after, now);
    if before.status != after.status {
        sh.webhooks.opportunity_event("OpportunityStatusUpdate", after, now);
    }
    if before.pipeline_stage_id != after.pipeline_stage_id {
        sh.webhooks.opportunity_event("OpportunityStageUpdate", after, now);
    }
    if before.monetary_value != after.monetary_value {
        sh.webhooks.opportunity_event("OpportunityMonetaryValueUpdate", after, now);
    }
    if before.assigned_to != after.assigned_to {
        sh.webhooks.opportunity_event("OpportunityAssignedToUpdate", after, now);
    }
}

/// `PUT /opportunities/{id}` → `{opportunity}`.
pub async fn update(
    State(sh): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: JsonBody,
) -> Result<Json<Value>, ApiError> {
    let o = body.object(&[])?;
    only_props(
        o,
        &["pipelineId", "name", "pipelineStageId", "status", "monetaryValue", "assignedTo", "customFields"],
    )?;
    let status = status_of(o)?;
    let value = money(o)?;
    let name = opt_str(o, "name")?;
    let pipeline = opt_str(o, "pipelineId")?;
    let stage = opt_str(o, "pipelineStageId")?;
    let assigned = opt_str(o, "assignedTo")?;
    let now = sh.now_ms();
    let mut store = sh.write();
    let before = opp_or_404(&store, &id)?.clone();
    let pid = pipeline.clone().unwrap_or_else(|| before.pipeline_id.clone());
    if pipeline.is_some() || stage.is_some() {
        check_stage(&store, &pid, stage.as_deref())?;
    }
    let iso = iso_from_ms(now);
    let after = store
        .update_opportunity(&id, now, |op| {
            if let Some(n) = name {
                op.name = n;
            }
            op.pipeline_id = pid;
            if let Some(s) = stage
                && s != op.pipeline_stage_id
            {
                op.pipeline_stage_id = s;
                op.last_stage_change_at = Some(iso.clone());
            }
            if let Some(s) = status
                && s != op.status
            {
                op.status = s;
                op.last_status_change_at = Some(iso.clone());
            }
            if let Some(v) = value {
                op.monetary_value = v;
            }
            if assigned.is_some() {
                op.assigned_to = assigned;
            }
        })
        .ok_or_else(|| ApiError::not_found("Opportunity not found"))?;
    drop(store);
    emit_changes(&sh, &before, &after, now);
    Ok(Json(json!({"opportunity": after})))
}

/// `PUT /opportunities/{id}/status` (`{status, lostReasonId?}`) → `{succeded: true}`.
pub async fn update_status(
    State(sh): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: JsonBody,
) -> Result<Json<Value>, ApiError> {
    let o = body.object(&["status"])?;
    only_props(o, &["status", "lostReasonId"])?;
    let status = status_of(o)?.ok_or_else(|| ApiError::invalid("status should not be empty"))?;
    let lost_reason = opt_str(o, "lostReasonId")?;
    let now = sh.now_ms();
    let mut store = sh.write();
    let before = opp_or_404(&store, &id)?.clone();
    let iso = iso_from_ms(now);
    let after = store
        .update_opportunity(&id, now, |op| {
            if op.status != status {
                op.last_status_change_at = Some(iso);
            }
            op.status = status;
            if op.status == "lost" {
                op.lost_reason_id = lost_reason;
            }
        })
        .ok_or_else(|| ApiError::not_found("Opportunity not found"))?;
    drop(store);
    emit_changes(&sh, &before, &after, now);
    Ok(Json(json!({"succeded": true})))
}

/// `DELETE /opportunities/{id}` → `{succeded: true}`.
pub async fn delete(State(sh): State<Arc<Shared>>, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let now = sh.now_ms();
    let o = sh.write().delete_opportunity(&id).ok_or_else(|| ApiError::not_found("Opportunity not found"))?;
    sh.webhooks.opportunity_event("OpportunityDelete", &o, now);
    Ok(Json(json!({"succeded": true})))
}

/// `POST /opportunities/` (`CreateDto`) → 201 `{opportunity}`.
pub async fn create(State(sh): State<Arc<Shared>>, body: JsonBody) -> Result<Response, ApiError> {
    let o = body.object(&["pipelineId", "locationId", "name", "status", "contactId"])?;
    only_props(
        o,
        &[
            "pipelineId",
            "locationId",
            "name",
            "pipelineStageId",
            "status",
            "contactId",
            "monetaryValue",
            "assignedTo",
            "customFields",
        ],
    )?;
    sh.check_location(o.get("locationId").and_then(Value::as_str), "locationId")?;
    let status = status_of(o)?.unwrap_or_else(|| "open".into());
    let value = money(o)?.unwrap_or(0.0);
    let pipeline_id = opt_str(o, "pipelineId")?.unwrap_or_default();
    let stage = opt_str(o, "pipelineStageId")?;
    let contact_id = opt_str(o, "contactId")?.unwrap_or_default();
    let now = sh.now_ms();
    let iso = iso_from_ms(now);
    let mut store = sh.write();
    check_stage(&store, &pipeline_id, stage.as_deref())?;
    let contact =
        store.contact(&contact_id).cloned().ok_or_else(|| ApiError::bad_request("Contact not found"))?;
    let stage_id = match stage {
        Some(s) => s,
        None => store
            .pipelines
            .iter()
            .find(|p| p.id == pipeline_id)
            .and_then(|p| p.stages.first())
            .map(|s| s.id.clone())
            .unwrap_or_default(),
    };
    let opp = Opportunity {
        id: store.new_id(),
        name: opt_str(o, "name")?.unwrap_or_default(),
        monetary_value: value,
        pipeline_id,
        pipeline_stage_id: stage_id,
        assigned_to: opt_str(o, "assignedTo")?,
        status,
        location_id: sh.cfg.location_id.clone(),
        ..Opportunity::of_contact(&contact, iso.clone(), iso)
    };
    store.insert_opportunity(opp.clone());
    drop(store);
    sh.webhooks.opportunity_event("OpportunityCreate", &opp, now);
    Ok((StatusCode::CREATED, Json(json!({"opportunity": opp}))).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_query_values() {
        assert_eq!(urlencode("a b&c"), "a%20b%26c");
        assert_eq!(urlencode("x-Y_z.~"), "x-Y_z.~");
    }
}
