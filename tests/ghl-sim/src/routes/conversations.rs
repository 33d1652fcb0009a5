//! Conversations and messages (`Version: 2021-04-15`): search, the nested message list, the
//! location-wide messages export with its cursor, and sending.

use std::collections::BTreeSet;
use std::ops::Bound;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Value, json};

use super::{JsonBody, Q, opt_str};
use crate::error::ApiError;
use crate::export_cursor::Cursor;
use crate::model::{Conversation, Message};
use crate::server::Shared;
use crate::store::{Key, RecordKind, SentRecord};
use crate::time::{iso_from_ms, ms_from_value};

/// `GET /conversations/search` → `{conversations, total}`; items carry `sort: [lastMessageDate]`.
pub async fn search(State(sh): State<Arc<Shared>>, q: Q) -> Result<Json<Value>, ApiError> {
    sh.check_location(q.get("locationId"), "locationId")?;
    let limit = q.int("limit", 20, 1, 100)? as usize;
    let asc = match q.get("sort") {
        None | Some("desc") => false,
        Some("asc") => true,
        Some(_) => {
            return Err(ApiError::invalid("sort must be one of the following values: asc, desc"));
        }
    };
    let by_added = match q.get("sortBy") {
        None | Some("last_message_date") | Some("last_manual_message_date") => false,
        Some("date_added") | Some("date_updated") => true,
        Some(other) => {
            return Err(ApiError::invalid(format!("sortBy {other} is not supported")));
        }
    };
    let after = match q.get("startAfterDate") {
        Some(s) => Some(s.parse::<i64>().map_err(|_| {
            ApiError::invalid("startAfterDate must be the sort value (epoch ms) of the last conversation")
        })?),
        None => None,
    };
    let start = q.get("startDate").map(|s| ms_from_value(&json!(s)));
    let end = q.get("endDate").map(|s| ms_from_value(&json!(s)));
    if matches!(start, Some(None)) || matches!(end, Some(None)) {
        return Err(ApiError::invalid("startDate and endDate must be epoch milliseconds"));
    }
    let (start, end) = (start.flatten(), end.flatten());
    let text = q.get("query").map(str::to_lowercase);
    let store = sh.read();
    let sort_of = |c: &Conversation| {
        if by_added { c.date_added } else { c.last_message_date }
    };
    let pass = |c: &Conversation| {
        q.get("contactId").is_none_or(|id| c.contact_id == id)
            && q.get("assignedTo").is_none_or(|a| c.assigned_to.as_deref() == Some(a))
            && match q.get("status") {
                Some("unread") => c.unread_count > 0,
                Some("read") => c.unread_count == 0,
                Some("starred") => c.starred,
                _ => true,
            }
            && q.get("lastMessageType").is_none_or(|t| c.last_message_type == t)
            && q.get("lastMessageDirection").is_none_or(|d| c.last_message_direction.as_deref() == Some(d))
            && start.is_none_or(|s| c.date_added >= s)
            && end.is_none_or(|e| c.date_added <= e)
            && text.as_deref().is_none_or(|t| {
                c.full_name.to_lowercase().contains(t)
                    || c.email.as_deref().is_some_and(|e| e.contains(t))
                    || c.phone.as_deref().is_some_and(|p| p.contains(t))
            })
    };
    let mut all: Vec<&Conversation> = match q.get("contactId") {
        Some(id) => store.conversation_of(id).into_iter().filter(|c| pass(c)).collect(),
        None => store.conversations().filter(|c| pass(c)).collect(),
    };
    let total = all.len();
    all.retain(|c| after.is_none_or(|a| if asc { sort_of(c) > a } else { sort_of(c) < a }));
    let key = |c: &&Conversation| (sort_of(c), c.id.clone());
    if asc {
        all.sort_by_key(key);
    } else {
        all.sort_by_key(|c| std::cmp::Reverse(key(c)));
    }
    let items: Vec<Value> = all
        .into_iter()
        .take(limit)
        .map(|c| {
            let mut v = serde_json::to_value(c).unwrap_or(Value::Null);
            if let Some(o) = v.as_object_mut() {
                o.insert("sort".into(), json!([sort_of(c)]));
            }
            v
        })
        .collect();
    Ok(Json(json!({"conversations": items, "total": total})))
}

/// `GET /conversations/{conversationId}` (`GetConversationByIdResponse`).
pub async fn get_one(State(sh): State<Arc<Shared>>, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let store = sh.read();
    let c = store.conversation(&id).ok_or_else(|| ApiError::not_found("Conversation not found"))?;
    Ok(Json(json!({
        "id": c.id,
        "contactId": c.contact_id,
        "locationId": c.location_id,
        "deleted": c.deleted,
        "inbox": c.inbox,
        "type": 1,
        "unreadCount": c.unread_count,
        "assignedTo": c.assigned_to,
        "starred": c.starred,
        "fullName": c.full_name,
        "contactName": c.contact_name,
        "email": c.email,
        "phone": c.phone,
        "lastMessageBody": c.last_message_body,
        "lastMessageType": c.last_message_type,
        "lastMessageDirection": c.last_message_direction,
        "lastMessageDate": c.last_message_date,
        "dateAdded": c.date_added,
        "dateUpdated": c.date_updated,
    })))
}

/// `GET /conversations/{conversationId}/messages` → the real nested shape
/// `{"messages": {"lastMessageId", "nextPage", "messages": [...]}}`, newest first.
pub async fn list_messages(
    State(sh): State<Arc<Shared>>,
    Path(id): Path<String>,
    q: Q,
) -> Result<Json<Value>, ApiError> {
    let limit = q.int("limit", 20, 1, 100)? as usize;
    let types: Option<Vec<String>> =
        q.get("type").map(|t| t.split(',').map(|s| s.trim().to_string()).collect());
    let store = sh.read();
    store.conversation(&id).ok_or_else(|| ApiError::not_found("Conversation not found"))?;
    let empty = BTreeSet::new();
    let idx = store.conversation_message_index(&id).unwrap_or(&empty);
    let end: Bound<Key> = match q.get("lastMessageId") {
        Some(mid) => {
            let m = store
                .message(mid)
                .filter(|m| m.conversation_id == id)
                .ok_or_else(|| ApiError::bad_request("lastMessageId does not belong to this conversation"))?;
            Bound::Excluded((crate::time::ms_from_iso(&m.date_added).unwrap_or(0), m.id.clone()))
        }
        None => Bound::Unbounded,
    };
    let mut page: Vec<&Message> = idx
        .range((Bound::Unbounded, end))
        .rev()
        .filter_map(|k| store.message(&k.1))
        .filter(|m| types.as_ref().is_none_or(|t| t.contains(&m.message_type)))
        .take(limit + 1)
        .collect();
    let next = page.len() > limit;
    page.truncate(limit);
    Ok(Json(json!({
        "messages": {
            "lastMessageId": page.last().map(|m| m.id.clone()),
            "nextPage": next,
            "messages": page.iter().map(|m| store.render(RecordKind::Message, &m.id, m)).collect::<Vec<_>>(),
        }
    })))
}

/// `GET /conversations/messages/{id}` → the message (`GetMessageResponseDto`).
pub async fn get_message(
    State(sh): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let store = sh.read();
    let m = store.message(&id).ok_or_else(|| ApiError::not_found("Message not found"))?;
    Ok(Json(store.render(RecordKind::Message, &id, m)))
}

const CHANNELS: &[&str] = &["Call", "SMS", "Email", "WhatsApp", "Instagram", "Facebook"];

/// `GET /conversations/messages/export` → `{messages, nextCursor, total}`.
///
/// Newest first unless `sortOrder=asc` (the spec's default is `desc`). The first page opens a
/// point-in-time view ([`crate::export_cursor`]): its cursor shows only the messages that
/// existed when the export started, and expires when unused for `export_cursor_ttl_ms`.
/// Without `channel`, email messages are left out, as GHL documents.
pub async fn export(State(sh): State<Arc<Shared>>, q: Q) -> Result<Json<Value>, ApiError> {
    q.only(&[
        "locationId",
        "limit",
        "cursor",
        "sortBy",
        "sortOrder",
        "conversationId",
        "contactId",
        "channel",
        "startDate",
        "endDate",
    ])?;
    sh.check_location(q.get("locationId"), "locationId")?;
    let limit = q.int("limit", 100, 10, 500)? as usize;
    match q.get("sortBy") {
        None | Some("createdAt") | Some("updatedAt") => {}
        Some(_) => {
            return Err(ApiError::invalid(
                "sortBy must be one of the following values: createdAt, updatedAt",
            ));
        }
    }
    let asc = match q.get("sortOrder") {
        None | Some("desc") => false,
        Some("asc") => true,
        Some(_) => {
            return Err(ApiError::invalid("sortOrder must be one of the following values: asc, desc"));
        }
    };
    let channel = match q.get("channel") {
        None => None,
        Some(c) => Some(*CHANNELS.iter().find(|x| **x == c).ok_or_else(|| {
            ApiError::invalid("channel must be one of the following values: Call, SMS, Email, WhatsApp, Instagram, Facebook")
        })?),
    };
    let cursor = match q.get("cursor") {
        Some(c) => Some(Cursor::decode(c).ok_or_else(|| ApiError::bad_request("Invalid cursor"))?),
        None => None,
    };
    let date = |k: &str| -> Result<Option<i64>, ApiError> {
        match q.get(k) {
            None => Ok(None),
            Some(s) => ms_from_value(&json!(s))
                .map(Some)
                .ok_or_else(|| ApiError::invalid(format!("{k} must be an ISO date or epoch milliseconds"))),
        }
    };
    let (start, end) = (date("startDate")?, date("endDate")?);
    let store = sh.read();
    let now = sh.now_ms();
    let (pit_id, horizon) = {
        let mut views = sh.export_views.lock().map_err(|_| ApiError::internal())?;
        match &cursor {
            Some(c) => {
                let seq = views.touch(&c.pit_id, now).ok_or_else(|| {
                    ApiError::bad_request("The cursor has expired or is invalid; start the export again")
                })?;
                (c.pit_id.clone(), seq)
            }
            None => {
                let seq = store.newest_message_seq();
                (views.open(seq, now), seq)
            }
        }
    };
    let cursor = cursor.map(|c| c.last);
    let conv_filter: Option<String> = match (q.get("conversationId"), q.get("contactId")) {
        (Some(c), _) => Some(c.to_string()),
        (None, Some(contact)) => {
            Some(store.conversation_of(contact).map(|c| c.id.clone()).unwrap_or_default())
        }
        (None, None) => None,
    };
    let empty = BTreeSet::new();
    let idx = match &conv_filter {
        Some(c) => store.conversation_message_index(c).unwrap_or(&empty),
        None => store.message_index(),
    };
    let lo: Bound<Key> = start.map_or(Bound::Unbounded, |s| Bound::Included((s, String::new())));
    let hi: Bound<Key> =
        end.map_or(Bound::Unbounded, |e| Bound::Excluded((e.saturating_add(1), String::new())));
    let (mut lo_c, mut hi_c) = (lo.clone(), hi.clone());
    if let Some(c) = &cursor {
        if asc {
            lo_c = match &lo {
                Bound::Included(k) if k > c => lo.clone(),
                _ => Bound::Excluded(c.clone()),
            };
        } else {
            hi_c = match &hi {
                Bound::Excluded(k) if k <= c => hi.clone(),
                _ => Bound::Excluded(c.clone()),
            };
        }
    }
    let valid = |a: &Bound<Key>, b: &Bound<Key>| match (a, b) {
        (Bound::Included(x) | Bound::Excluded(x), Bound::Included(y) | Bound::Excluded(y)) => x < y,
        _ => true,
    };
    let wanted = |m: &Message| {
        let on_channel = match channel {
            Some(ch) => m.channel() == ch,
            None => m.channel() != "Email",
        };
        on_channel && store.message_seq(&m.id).is_some_and(|s| s <= horizon)
    };
    let mut page: Vec<&Message> = Vec::with_capacity(limit + 1);
    if valid(&lo_c, &hi_c) {
        let r = idx.range((lo_c, hi_c));
        let it: Box<dyn Iterator<Item = &Key>> = if asc { Box::new(r) } else { Box::new(r.rev()) };
        page = it.filter_map(|k| store.message(&k.1)).filter(|m| wanted(m)).take(limit + 1).collect();
    }
    let more = page.len() > limit;
    page.truncate(limit);
    let total = if conv_filter.is_none() && start.is_none() && end.is_none() {
        match channel {
            Some(ch) => store.message_count_on(ch),
            None => store.message_count() - store.message_count_on("Email"),
        }
    } else if valid(&lo, &hi) {
        idx.range((lo, hi)).filter_map(|k| store.message(&k.1)).filter(|m| wanted(m)).count()
    } else {
        0
    };
    let next = if more {
        page.last().map(|m| {
            let last = (crate::time::ms_from_iso(&m.date_added).unwrap_or(0), m.id.clone());
            Cursor { pit_id: pit_id.clone(), last }.encode()
        })
    } else {
        None
    };
    let page: Vec<Value> = page.iter().map(|m| store.render(RecordKind::Message, &m.id, m)).collect();
    Ok(Json(json!({"messages": page, "nextCursor": next, "total": total})))
}

const SEND_TYPES: &[&str] = &["SMS", "RCS", "Email", "WhatsApp", "IG", "FB", "Custom", "Live_Chat", "TIKTOK"];

/// `POST /conversations/messages` → `{conversationId, messageId, msg, status}`. Records the send
/// in `sent`, creates the outbound message, and refuses a contact with DND on that channel.
pub async fn send(State(sh): State<Arc<Shared>>, body: JsonBody) -> Result<Json<Value>, ApiError> {
    let o = body.object(&["type", "contactId"])?;
    let kind = opt_str(o, "type")?.unwrap_or_default();
    if !SEND_TYPES.contains(&kind.as_str()) {
        return Err(ApiError::invalid(
            "type must be one of the following values: SMS, RCS, Email, WhatsApp, IG, FB, Custom, Live_Chat, TIKTOK",
        ));
    }
    let contact_id = opt_str(o, "contactId")?.unwrap_or_default();
    let message = opt_str(o, "message")?;
    let html = opt_str(o, "html")?;
    let subject = opt_str(o, "subject")?;
    let has_attachments = o.get("attachments").and_then(Value::as_array).is_some_and(|a| !a.is_empty());
    let text = match kind.as_str() {
        "Email" => {
            if html.as_deref().is_none_or(str::is_empty) && message.as_deref().is_none_or(str::is_empty) {
                return Err(ApiError::invalid("html or message should not be empty for an Email"));
            }
            html.clone().or(message.clone()).unwrap_or_default()
        }
        _ => {
            if message.as_deref().is_none_or(str::is_empty) && !has_attachments {
                return Err(ApiError::invalid("message should not be empty"));
            }
            message.clone().unwrap_or_default()
        }
    };
    let dnd_channel = match kind.as_str() {
        "Email" => "Email",
        "WhatsApp" => "WhatsApp",
        "FB" => "FB",
        "RCS" => "RCS",
        _ => "SMS",
    };
    let now = sh.now_ms();
    let mut store = sh.write();
    let contact =
        store.contact(&contact_id).cloned().ok_or_else(|| ApiError::bad_request("Contact not found"))?;
    if contact.dnd_blocks(dnd_channel) {
        return Err(ApiError::bad_request(format!(
            "Cannot send message as DND is active for {dnd_channel}."
        )));
    }
    match kind.as_str() {
        "Email" if contact.email.is_none() => {
            return Err(ApiError::bad_request("Contact does not have an email address"));
        }
        "SMS" | "RCS" | "WhatsApp" if contact.phone.is_none() => {
            return Err(ApiError::bad_request("Contact does not have a phone number"));
        }
        _ => {}
    }
    let conv = store
        .ensure_conversation(&contact_id, now)
        .ok_or_else(|| ApiError::bad_request("Contact not found"))?;
    let location_id = store.location.id.clone();
    let mut msg = crate::seed::make_message(
        &mut store.rng,
        &location_id,
        &contact_id,
        &conv,
        if kind == "Email" { "Email" } else { "SMS" },
        "outbound",
        Some(text.clone()),
        now,
        None,
    );
    if kind == "WhatsApp" {
        msg.message_type = "TYPE_WHATSAPP".into();
        msg.type_code = 19;
    }
    msg.source = Some("api".into());
    msg.subject = subject.clone();
    store.add_message(msg.clone());
    store.sent.push(SentRecord {
        contact_id: contact_id.clone(),
        channel: kind.to_ascii_lowercase(),
        body: text,
        at: iso_from_ms(now),
        message_id: msg.id.clone(),
        conversation_id: conv.clone(),
        subject,
    });
    drop(store);
    sh.webhooks.message_event(&msg, now);
    let mut resp = json!({
        "conversationId": conv,
        "messageId": msg.id,
        "msg": "Message queued successfully.",
        "status": "delivered",
    });
    if kind == "Email"
        && let Some(o) = resp.as_object_mut()
    {
        o.insert("emailMessageId".into(), json!(msg.id));
    }
    Ok(Json(resp))
}
