//! Webhook payloads → re-fetch [`Hint`]s.
//!
//! GHL's per-event pages and real deliveries are **flat**: `{type, locationId, webhookId,
//! timestamp, ...fields}`. The Webhook Integration Guide shows a **wrapped** form instead:
//! `{type, timestamp, webhookId, data: {...fields}}`. Both are accepted: `type`, `webhookId` and
//! `timestamp` are read at the top level first (then inside `data`), and the record fields inside
//! `data` first when it is an object (no flat event documents a field named `data`).
//!
//! Payloads are known to differ from the docs (`TaskCreate` without `contactId`, Note events with a
//! fixed field allowlist, DND changes that never fire), so an event is only a hint of which record
//! to re-fetch; nothing in the payload is stored as truth.
//!
//! Every documented payload names its `locationId` (top level, or inside `data` in the wrapped
//! form), except the app lifecycle events `INSTALL` and `UNINSTALL`, which carry only `companyId`
//! when the app is installed or removed at agency level. [`Event::owner`] compares those ids with
//! the configured location.

use serde_json::{Map, Value};

/// What a webhook tells the daemon to re-fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hint {
    /// `ContactCreate`, `ContactUpdate`, `ContactTagUpdate`, `ContactDndUpdate`: re-fetch the contact.
    Contact {
        /// The contact id.
        id: String,
    },
    /// `ContactDelete`.
    ContactDeleted {
        /// The contact id.
        id: String,
    },
    /// `OpportunityCreate`, `…Update`, `…StageUpdate`, `…StatusUpdate`, `…MonetaryValueUpdate`,
    /// `…AssignedToUpdate`: re-fetch the opportunity.
    Opportunity {
        /// The opportunity id.
        id: String,
        /// Its contact, when the payload names it.
        contact_id: Option<String>,
    },
    /// `OpportunityDelete`.
    OpportunityDeleted {
        /// The opportunity id.
        id: String,
    },
    /// `InboundMessage` / `OutboundMessage`: re-fetch the contact's conversation.
    Message {
        /// The contact id.
        contact_id: String,
        /// The conversation, when given.
        conversation_id: Option<String>,
        /// The message, when given (GHL's SMS examples leave it out).
        message_id: Option<String>,
        /// `true` for `InboundMessage` (decided by the event type, not by `direction`, which the
        /// docs get wrong in one example).
        inbound: bool,
    },
    /// `NoteCreate`, `NoteUpdate`, `NoteDelete`: re-fetch the contact's notes.
    Note {
        /// The contact id, when given.
        contact_id: Option<String>,
    },
    /// `TaskCreate`, `TaskComplete`, `TaskDelete`: re-fetch the contact's tasks. `TaskCreate`
    /// arrives without `contactId` in practice (GHL issue #332).
    Task {
        /// The contact id, when given.
        contact_id: Option<String>,
    },
    /// Any other event, or a known event that lacks the id needed to re-fetch one record: the
    /// sync engine may run an incremental pass.
    Other {
        /// The event `type` as sent.
        event: String,
    },
}

impl Hint {
    /// The contact this hint concerns, when known.
    pub fn contact_id(&self) -> Option<&str> {
        match self {
            Hint::Contact { id } | Hint::ContactDeleted { id } => Some(id),
            Hint::Message { contact_id, .. } => Some(contact_id),
            Hint::Opportunity { contact_id, .. } | Hint::Note { contact_id } | Hint::Task { contact_id } => {
                contact_id.as_deref()
            }
            Hint::OpportunityDeleted { .. } | Hint::Other { .. } => None,
        }
    }
}

/// Why a body is not a usable event. Every variant means HTTP 400.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// Not JSON (the message names a line and column, never the content).
    #[error("body is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// JSON, but not an object.
    #[error("body is not a JSON object")]
    NotAnObject,
    /// An object without a string `type`.
    #[error("event has no `type`")]
    MissingType,
}

/// A parsed event (internal: the handler also wants the type, the timestamp and the location).
#[derive(Debug, Clone)]
pub(crate) struct Event {
    pub webhook_id: Option<String>,
    pub timestamp: Option<jiff::Timestamp>,
    pub event_type: String,
    /// The string `locationId`s at the top level and inside `data`, without repeats. Both are
    /// kept: the wrapped form puts it inside `data`, and a body naming two locations must not
    /// pass on the strength of either one.
    pub location_ids: Vec<String>,
    pub hint: Hint,
}

/// Event types that may arrive without a `locationId` (agency-level installs and removals
/// carry only `companyId`). They become [`Hint::Other`], which makes the daemon re-fetch nothing.
const LOCATIONLESS_TYPES: [&str; 2] = ["INSTALL", "UNINSTALL"];

/// Whose event this is, compared with the configured location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Owner {
    /// It names a `locationId`, and every one it names is ours.
    Ours,
    /// An `INSTALL`/`UNINSTALL` without a `locationId`: nothing to compare.
    NoLocation,
    /// It names another location (the first foreign id).
    Foreign(String),
    /// Its type should name a `locationId` and it names none.
    Missing,
}

impl Event {
    /// Compares the event's `locationId`s with `ours` (exact, case-sensitive: GHL ids are).
    pub(crate) fn owner(&self, ours: &str) -> Owner {
        if let Some(other) = self.location_ids.iter().find(|id| *id != ours) {
            return Owner::Foreign(other.clone());
        }
        match (self.location_ids.is_empty(), LOCATIONLESS_TYPES.contains(&self.event_type.as_str())) {
            (false, _) => Owner::Ours,
            (true, true) => Owner::NoLocation,
            (true, false) => Owner::Missing,
        }
    }
}

/// Parses a webhook body (flat or `data`-wrapped) into its `webhookId` and the [`Hint`].
/// Unknown event types become [`Hint::Other`].
pub fn parse_event(raw_body: &[u8]) -> Result<(Option<String>, Hint), ParseError> {
    let event = parse(raw_body)?;
    Ok((event.webhook_id, event.hint))
}

pub(crate) fn parse(raw_body: &[u8]) -> Result<Event, ParseError> {
    let value: Value = serde_json::from_slice(raw_body)?;
    let Value::Object(top) = value else {
        return Err(ParseError::NotAnObject);
    };
    let data = top.get("data").and_then(Value::as_object);
    let meta = |key: &str| str_field(&top, key).or_else(|| data.and_then(|d| str_field(d, key)));
    let field = |key: &str| match data {
        Some(d) => str_field(d, key).or_else(|| str_field(&top, key)),
        None => str_field(&top, key),
    };
    let event_type = meta("type").ok_or(ParseError::MissingType)?;
    let timestamp =
        top.get("timestamp").or_else(|| data.and_then(|d| d.get("timestamp"))).and_then(parse_timestamp);
    let hint = hint_for(&event_type, &field);
    let mut location_ids = Vec::with_capacity(2);
    for id in
        [str_field(&top, "locationId"), data.and_then(|d| str_field(d, "locationId"))].into_iter().flatten()
    {
        if !location_ids.contains(&id) {
            location_ids.push(id);
        }
    }
    Ok(Event { webhook_id: meta("webhookId"), timestamp, event_type, location_ids, hint })
}

fn str_field(obj: &Map<String, Value>, key: &str) -> Option<String> {
    match obj.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        _ => None,
    }
}

/// ISO-8601 (documented) or epoch milliseconds (tolerated).
fn parse_timestamp(v: &Value) -> Option<jiff::Timestamp> {
    match v {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_i64().and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok()),
        _ => None,
    }
}

fn hint_for(event: &str, field: &dyn Fn(&str) -> Option<String>) -> Hint {
    let other = || Hint::Other { event: event.to_string() };
    match event {
        "ContactCreate" | "ContactUpdate" | "ContactTagUpdate" | "ContactDndUpdate" => {
            field("id").or_else(|| field("contactId")).map(|id| Hint::Contact { id }).unwrap_or_else(other)
        }
        "ContactDelete" => field("id")
            .or_else(|| field("contactId"))
            .map(|id| Hint::ContactDeleted { id })
            .unwrap_or_else(other),
        "InboundMessage" | "OutboundMessage" => match field("contactId") {
            Some(contact_id) => Hint::Message {
                contact_id,
                conversation_id: field("conversationId"),
                message_id: field("messageId"),
                inbound: event == "InboundMessage",
            },
            None => other(),
        },
        "OpportunityCreate"
        | "OpportunityUpdate"
        | "OpportunityStageUpdate"
        | "OpportunityStatusUpdate"
        | "OpportunityMonetaryValueUpdate"
        | "OpportunityAssignedToUpdate" => field("id")
            .map(|id| Hint::Opportunity { id, contact_id: field("contactId") })
            .unwrap_or_else(other),
        "OpportunityDelete" => field("id").map(|id| Hint::OpportunityDeleted { id }).unwrap_or_else(other),
        "NoteCreate" | "NoteUpdate" | "NoteDelete" => Hint::Note { contact_id: field("contactId") },
        "TaskCreate" | "TaskComplete" | "TaskDelete" => Hint::Task { contact_id: field("contactId") },
        _ => other(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hint(body: &str) -> (Option<String>, Hint) {
        parse_event(body.as_bytes()).expect("parses")
    }

    #[test]
    fn flat_contact_create() {
        let body = r#"{"type":"ContactCreate","locationId":"loc1","id":"nmFmQEsNgz6AVpgLVUJ0",
            "firstName":"Dana","email":"dana@example.com","tags":["Buyer-Lead"],
            "webhookId":"9a1c4c5e-1111-4b6f-8a55-0d0c1f0e0001","timestamp":"2026-09-01T14:35:00.000Z"}"#;
        let (id, h) = hint(body);
        assert_eq!(id.as_deref(), Some("9a1c4c5e-1111-4b6f-8a55-0d0c1f0e0001"));
        assert_eq!(h, Hint::Contact { id: "nmFmQEsNgz6AVpgLVUJ0".into() });
        assert_eq!(h.contact_id(), Some("nmFmQEsNgz6AVpgLVUJ0"));
        let e = parse(body.as_bytes()).expect("parses");
        assert_eq!(e.event_type, "ContactCreate");
        assert_eq!(e.timestamp, "2026-09-01T14:35:00Z".parse().ok());
    }

    #[test]
    fn flat_inbound_message() {
        let body = r#"{"type":"InboundMessage","locationId":"loc1","attachments":[],"body":"STOP",
            "contactId":"c1","contentType":"text/plain","conversationId":"conv1","dateAdded":"2026-09-01T14:35:00.000Z",
            "direction":"inbound","messageType":"SMS","messageId":"m1","status":"delivered","webhookId":"w2"}"#;
        assert_eq!(
            hint(body),
            (
                Some("w2".into()),
                Hint::Message {
                    contact_id: "c1".into(),
                    conversation_id: Some("conv1".into()),
                    message_id: Some("m1".into()),
                    inbound: true
                }
            )
        );
        // GHL's SMS examples leave out messageId; OutboundMessage is never inbound, whatever
        // `direction` says (one doc example has "inbound").
        let body = r#"{"type":"OutboundMessage","contactId":"c1","direction":"inbound"}"#;
        assert_eq!(
            hint(body).1,
            Hint::Message {
                contact_id: "c1".into(),
                conversation_id: None,
                message_id: None,
                inbound: false
            }
        );
        // Without contactId there is nothing to re-fetch precisely.
        assert_eq!(hint(r#"{"type":"InboundMessage"}"#).1, Hint::Other { event: "InboundMessage".into() });
    }

    #[test]
    fn flat_opportunity_status_update() {
        let body = r#"{"type":"OpportunityStatusUpdate","locationId":"loc1","id":"o1","assignedTo":"u1",
            "contactId":"c1","monetaryValue":450000,"name":"Dana - Buyer","pipelineId":"p1",
            "pipelineStageId":"s1","source":"Zillow","status":"won","dateAdded":"2026-08-01T00:00:00.000Z"}"#;
        assert_eq!(hint(body), (None, Hint::Opportunity { id: "o1".into(), contact_id: Some("c1".into()) }));
        assert_eq!(
            hint(r#"{"type":"OpportunityDelete","id":"o1"}"#).1,
            Hint::OpportunityDeleted { id: "o1".into() }
        );
        assert_eq!(hint(r#"{"type":"ContactDelete","id":"c9"}"#).1, Hint::ContactDeleted { id: "c9".into() });
    }

    #[test]
    fn task_create_without_contact_id() {
        // As GHL actually sends it (issue #332): no contactId, no body.
        let body = r#"{"type":"TaskCreate","locationId":"loc1","id":"t1","assignedTo":"u1","title":"Call back",
            "dateAdded":"2026-09-01T14:35:00.000Z","dueDate":"2026-09-02T14:35:00.000Z","webhookId":"w3"}"#;
        assert_eq!(hint(body), (Some("w3".into()), Hint::Task { contact_id: None }));
        assert_eq!(
            hint(r#"{"type":"TaskComplete","id":"t1","contactId":"c1"}"#).1,
            Hint::Task { contact_id: Some("c1".into()) }
        );
        assert_eq!(
            hint(r#"{"type":"NoteCreate","id":"n1","body":"x","contactId":"c1"}"#).1,
            Hint::Note { contact_id: Some("c1".into()) }
        );
    }

    #[test]
    fn data_wrapped_envelope() {
        let body = r#"{"type":"ContactUpdate","timestamp":"2025-01-28T14:35:00Z","webhookId":"abc123xyz",
            "data":{"id":"c7","locationId":"loc1","firstName":"Lee"}}"#;
        assert_eq!(hint(body), (Some("abc123xyz".into()), Hint::Contact { id: "c7".into() }));
        let e = parse(body.as_bytes()).expect("parses");
        assert_eq!(e.timestamp, "2025-01-28T14:35:00Z".parse().ok());
        // The type and id inside `data` only.
        let body = r#"{"webhookId":"w4","data":{"type":"InboundMessage","contactId":"c2","messageId":"m2"}}"#;
        assert_eq!(
            hint(body),
            (
                Some("w4".into()),
                Hint::Message {
                    contact_id: "c2".into(),
                    conversation_id: None,
                    message_id: Some("m2".into()),
                    inbound: true
                }
            )
        );
    }

    #[test]
    fn unknown_event_is_other() {
        assert_eq!(
            hint(r#"{"type":"AppointmentCreate","webhookId":"w5","appointment":{"id":"a1"}}"#),
            (Some("w5".into()), Hint::Other { event: "AppointmentCreate".into() })
        );
        assert_eq!(hint(r#"{"type":"UNINSTALL","appId":"x"}"#).1, Hint::Other { event: "UNINSTALL".into() });
        // A known contact event without an id degrades to Other rather than failing.
        assert_eq!(hint(r#"{"type":"ContactUpdate"}"#).1, Hint::Other { event: "ContactUpdate".into() });
    }

    fn owner(body: &str) -> Owner {
        parse(body.as_bytes()).expect("parses").owner("loc1")
    }

    #[test]
    fn location_is_compared_with_ours() {
        assert_eq!(owner(r#"{"type":"ContactCreate","locationId":"loc1","id":"c1"}"#), Owner::Ours);
        // Wrapped: the id inside `data` counts the same.
        assert_eq!(owner(r#"{"type":"ContactUpdate","data":{"id":"c1","locationId":"loc1"}}"#), Owner::Ours);
        assert_eq!(
            owner(r#"{"type":"ContactCreate","locationId":"loc2","id":"c1"}"#),
            Owner::Foreign("loc2".into())
        );
        // Ids are case-sensitive; no trimming or folding.
        assert_eq!(owner(r#"{"type":"ContactCreate","locationId":"LOC1"}"#), Owner::Foreign("LOC1".into()));
        // Two ids: both must be ours, whichever is foreign.
        assert_eq!(
            owner(r#"{"type":"ContactUpdate","locationId":"loc1","data":{"id":"c1","locationId":"loc9"}}"#),
            Owner::Foreign("loc9".into())
        );
        assert_eq!(
            owner(r#"{"type":"ContactUpdate","locationId":"loc9","data":{"id":"c1","locationId":"loc1"}}"#),
            Owner::Foreign("loc9".into())
        );
        assert_eq!(
            owner(r#"{"type":"ContactUpdate","locationId":"loc1","data":{"id":"c1","locationId":"loc1"}}"#),
            Owner::Ours
        );
    }

    #[test]
    fn missing_location() {
        // Empty, blank or non-string ids count as missing.
        for body in [
            r#"{"type":"ContactCreate","id":"c1"}"#,
            r#"{"type":"ContactCreate","id":"c1","locationId":""}"#,
            r#"{"type":"ContactCreate","id":"c1","locationId":"  "}"#,
            r#"{"type":"ContactCreate","id":"c1","locationId":42}"#,
            r#"{"type":"AppointmentCreate","appointment":{"id":"a1"}}"#,
        ] {
            assert_eq!(owner(body), Owner::Missing, "{body}");
        }
        // Agency-level app lifecycle events carry only companyId.
        assert_eq!(owner(r#"{"type":"UNINSTALL","appId":"a","companyId":"co1"}"#), Owner::NoLocation);
        assert_eq!(owner(r#"{"type":"INSTALL","appId":"a","companyId":"co1"}"#), Owner::NoLocation);
        // Location-level ones name it, and it is checked.
        assert_eq!(owner(r#"{"type":"UNINSTALL","appId":"a","locationId":"loc1"}"#), Owner::Ours);
        assert_eq!(
            owner(r#"{"type":"UNINSTALL","appId":"a","locationId":"loc2"}"#),
            Owner::Foreign("loc2".into())
        );
    }

    #[test]
    fn malformed_bodies() {
        assert!(matches!(parse_event(b"{not json"), Err(ParseError::Json(_))));
        assert!(matches!(parse_event(b""), Err(ParseError::Json(_))));
        assert!(matches!(parse_event(b"[1,2]"), Err(ParseError::NotAnObject)));
        assert!(matches!(parse_event(br#"{"id":"c1"}"#), Err(ParseError::MissingType)));
        assert!(matches!(parse_event(br#"{"type":42}"#), Err(ParseError::MissingType)));
        // Epoch-millisecond timestamps are tolerated; garbage timestamps are ignored.
        let e = parse(br#"{"type":"X","timestamp":1738074900000}"#).expect("parses");
        assert_eq!(e.timestamp.map(|t| t.as_millisecond()), Some(1_738_074_900_000));
        let e = parse(br#"{"type":"X","timestamp":"yesterday"}"#).expect("parses");
        assert_eq!(e.timestamp, None);
    }
}
