use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::null_default;
use super::time::lenient;

/// A GHL conversation (one thread with a contact), from `GET /conversations/search`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Conversation {
    pub id: String,
    #[serde(deserialize_with = "null_default")]
    pub contact_id: String,
    #[serde(deserialize_with = "null_default")]
    pub location_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_message_body: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_message_type: Option<String>,
    #[serde(with = "lenient")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_message_date: Option<Timestamp>,
    #[serde(rename = "type")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conversation_type: Option<serde_json::Value>,
    #[serde(deserialize_with = "null_default")]
    pub unread_count: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub full_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assigned_to: Option<String>,
}

/// A message in a conversation, in the shape of the message list and the location-wide export.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Message {
    pub id: String,
    /// GHL's numeric message type.
    #[serde(rename = "type")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub type_code: Option<i64>,
    /// `TYPE_SMS`, `TYPE_EMAIL`, `TYPE_CALL`, ... (some payloads say `SMS`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_type: Option<String>,
    #[serde(deserialize_with = "null_default")]
    pub location_id: String,
    #[serde(deserialize_with = "null_default")]
    pub contact_id: String,
    #[serde(deserialize_with = "null_default")]
    pub conversation_id: String,
    #[serde(with = "lenient")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date_added: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(deserialize_with = "null_default")]
    pub direction: Direction,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// Call details (`callStatus`, `callDuration`) for call messages; email thread ids for
    /// emails (not kept).
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "lenient_meta")]
    pub meta: Option<MessageMeta>,
}

/// The part of GHL's `MessageMeta` Leadline reads: a call's outcome and length.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct MessageMeta {
    /// `completed`, `answered`, `busy`, `no-answer`, `failed`, `canceled`, `voicemail`,
    /// `pending`.
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "lenient_string")]
    pub call_status: Option<String>,
    /// Seconds. GHL's schema says a string and its example is a number: both are read.
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "lenient_seconds")]
    pub call_duration: Option<u64>,
}

impl MessageMeta {
    /// Whether the call reached a person: GHL's `completed` or `answered` with some talk time
    /// (a voicemail, a busy line, no answer or a failed call did not).
    pub fn call_connected(&self) -> bool {
        matches!(self.call_status.as_deref(), Some("completed" | "answered"))
            && self.call_duration.unwrap_or(0) > 0
    }
}

/// A meta object of a shape Leadline does not know is dropped, not an error: one odd message
/// must not make a whole page unreadable.
fn lenient_meta<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<MessageMeta>, D::Error> {
    let value = Option::<serde_json::Value>::deserialize(d)?;
    Ok(value.and_then(|v| serde_json::from_value(v).ok()))
}

fn lenient_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let value = Option::<serde_json::Value>::deserialize(d)?;
    Ok(match value {
        Some(serde_json::Value::String(s)) if !s.is_empty() => Some(s.to_ascii_lowercase()),
        _ => None,
    })
}

fn lenient_seconds<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    let value = Option::<serde_json::Value>::deserialize(d)?;
    Ok(match value {
        Some(serde_json::Value::Number(n)) => {
            n.as_u64().or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
        }
        Some(serde_json::Value::String(s)) => {
            s.trim().parse::<f64>().ok().filter(|f| *f >= 0.0).map(|f| f as u64)
        }
        _ => None,
    })
}

impl Message {
    /// The channel in Leadline's terms (`sms`, `email`, `call`, ...), from `messageType`.
    pub fn channel(&self) -> &'static str {
        let t = self.message_type.as_deref().unwrap_or("").to_ascii_uppercase();
        let t = t.strip_prefix("TYPE_").unwrap_or(&t);
        match t {
            "SMS" => "sms",
            "EMAIL" => "email",
            "CALL" => "call",
            "WHATSAPP" => "whatsapp",
            _ if t.starts_with("ACTIVITY") => "activity",
            _ => "other",
        }
    }

    /// The call's details, when this is a call message with GHL's call meta.
    pub fn call(&self) -> Option<&MessageMeta> {
        (self.channel() == "call").then_some(self.meta.as_ref()).flatten()
    }

    /// Whether this message passed between the lead and the team: what scoring reads and what
    /// "needs reply" waits on. Activity entries (a deal moved, an appointment booked), internal
    /// comments between team members, form submissions, reactions ("Liked …"), public comments,
    /// reviews and chat-widget notices are not: a lead who reacted to a text is not waiting
    /// for an answer, and a comment between agents is not a reply to the lead. A message with
    /// no body (a photo texted in, a call) is. An unknown type counts, so a new GHL channel is
    /// not silently ignored.
    pub fn is_conversational(&self) -> bool {
        let t = self.message_type.as_deref().unwrap_or("").to_ascii_uppercase();
        let t = t.strip_prefix("TYPE_").unwrap_or(&t);
        !(t.starts_with("ACTIVITY")
            || t.ends_with("_COMMENT")
            || matches!(
                t,
                "INTERNAL_COMMENT" | "FORM_SUBMISSION" | "SMS_REACTION" | "LIVE_CHAT_INFO_MESSAGE" | "REVIEW"
            ))
    }
}

/// Which way a message went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Inbound,
    Outbound,
    #[default]
    #[serde(other)]
    Unknown,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_an_export_item() {
        let m: Message = serde_json::from_str(
            r#"{"id":"ve9EPM428h8vShlRW1KT","type":1,"messageType":"TYPE_SMS","locationId":"l",
                "contactId":"c","conversationId":"cv","dateAdded":"2024-02-01T10:00:00.000Z",
                "body":"We're pre-approved up to $450k","direction":"inbound","status":"delivered",
                "contentType":"text/plain","attachments":[],"meta":{"callDuration":null}}"#,
        )
        .expect("parses");
        assert_eq!(m.direction, Direction::Inbound);
        assert_eq!(m.channel(), "sms");
        assert!(m.is_conversational());
    }

    #[test]
    fn unknown_direction_and_activity_types() {
        let m: Message = serde_json::from_str(
            r#"{"id":"x","direction":"sideways","messageType":"TYPE_ACTIVITY_CONTACT"}"#,
        )
        .expect("parses");
        assert_eq!(m.direction, Direction::Unknown);
        assert!(!m.is_conversational());
    }

    #[test]
    fn only_messages_between_lead_and_team_are_conversational() {
        let of = |t: &str| Message { message_type: Some(t.into()), ..Message::default() };
        for t in [
            "TYPE_SMS",
            "TYPE_EMAIL",
            "TYPE_CALL",
            "TYPE_WHATSAPP",
            "TYPE_CAMPAIGN_SMS",
            "TYPE_LIVE_CHAT",
            "SMS",
        ] {
            assert!(of(t).is_conversational(), "{t}");
        }
        for t in [
            "TYPE_ACTIVITY_OPPORTUNITY",
            "TYPE_ACTIVITY_APPOINTMENT",
            "TYPE_INTERNAL_COMMENT",
            "TYPE_FORM_SUBMISSION",
            "TYPE_SMS_REACTION",
            "TYPE_FACEBOOK_COMMENT",
            "TYPE_LIVE_CHAT_INFO_MESSAGE",
            "TYPE_REVIEW",
        ] {
            assert!(!of(t).is_conversational(), "{t}");
        }
        assert!(Message::default().is_conversational(), "an untyped message counts");
    }
}
