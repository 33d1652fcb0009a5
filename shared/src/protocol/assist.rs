//! The AI assist's answer (`Request::Assist`).

use serde::{Deserialize, Serialize};

use crate::domain::Qualification;

/// A reply drafted for a lead, waiting in the approval queue, and the preferences read from
/// the lead's messages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssistReport {
    /// The draft, as an action of the approval queue (approve, edit or skip it there).
    pub draft: super::FollowUpView,
    /// The seven qualifying answers read from the conversation.
    pub preferences: Qualification,
    /// `local`, or `anthropic:MODEL`.
    pub source: String,
    /// Why the local rules answered although the API is on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback_reason: Option<String>,
}
