//! The domain model.
//!
//! GHL entities ([`Contact`], [`Opportunity`], [`Pipeline`], [`Conversation`], [`Message`],
//! [`Task`], [`Note`], [`User`]) parse GHL's JSON as the API returns it: camelCase names,
//! unknown fields ignored, `null` accepted wherever GHL is known to send it.
//! Stored and sent, a GHL entity leaves out its empty (`None`) fields: most contacts have most
//! of them empty, and the store and every frame are smaller for it.
//! Local types ([`Score`], [`FollowUps`], [`PendingOp`], [`AuditEvent`], [`LeadSummary`]) are
//! Leadline's own and never leave the machine.

mod contact;
mod conversation;
mod followup;
mod lead;
mod local;
mod opportunity;
mod people;
pub mod time;

pub use contact::{Contact, CustomFieldDef, CustomFieldValue, DndSetting};
pub use conversation::{Conversation, Direction, Message, MessageMeta};
pub use followup::{
    Enrollment, EnrollmentState, FollowUpItem, FollowUps, ItemState, Mode, OptOutRecord, Pause, RecentSend,
    StepAction,
};
pub use lead::{CallStats, LeadSummary, Qualification, QualificationItem, Temperature, churn_tier};
pub use local::{AuditEvent, Channel, Contribution, Hold, OpKind, OpState, PendingOp, Score, SendAttempt};
pub use opportunity::{Opportunity, OpportunityStatus, Pipeline, Stage};
pub use people::{Note, Task, User};

/// Deserializes a string, or a number or boolean as its text (`null` as `None`), for GHL fields
/// the spec types as strings that real payloads fill with numbers (DND codes).
pub(crate) fn text_or_number<'de, D>(d: D) -> Result<Option<String>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    use serde::Deserialize;
    use serde::de::Error;
    match Option::<serde_json::Value>::deserialize(d)? {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) => Ok(Some(s)),
        Some(v @ (serde_json::Value::Number(_) | serde_json::Value::Bool(_))) => Ok(Some(v.to_string())),
        Some(other) => Err(D::Error::custom(format!("expected a string or a number, found {other}"))),
    }
}

/// Deserializes `null` as the type's default, for GHL fields that are sometimes `null`.
pub(crate) fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + serde::Deserialize<'de>,
{
    use serde::Deserialize;
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}
