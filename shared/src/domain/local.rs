use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{Qualification, Temperature};

/// A lead's score with the reasons for it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Score {
    pub contact_id: String,
    /// 0–100.
    pub value: u8,
    pub temperature: Temperature,
    pub qualification: Qualification,
    /// Contributions that add up to `value`.
    pub explanation: Vec<Contribution>,
    /// Which scorer produced it, e.g. `rules-v1`.
    pub model: String,
    /// When this result was computed. A rescore that reaches the same result keeps the
    /// stored score, and with it this time.
    pub computed_at: Option<Timestamp>,
}

impl Score {
    /// The unit of the explanation: `points` of the 0–100 score for the rules, `log_odds` of
    /// converting for a trained model (whose score is the probability in percent).
    pub fn unit(&self) -> &'static str {
        if self.model.is_empty() || self.model.starts_with("rules") { "points" } else { "log_odds" }
    }

    /// True when both say the same of the lead, whenever they were computed.
    pub fn same_result(&self, other: &Score) -> bool {
        self.contact_id == other.contact_id
            && self.value == other.value
            && self.temperature == other.temperature
            && self.qualification == other.qualification
            && self.explanation == other.explanation
            && self.model == other.model
    }
}

/// One feature's part of a score.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Contribution {
    pub feature: String,
    pub contribution: f64,
}

/// A local edit waiting to be pushed to GHL. It is written in the same transaction as the
/// edit itself, so an acknowledged edit is never lost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingOp {
    /// Monotonic sequence number; ops are pushed in this order.
    pub seq: u64,
    pub contact_id: String,
    pub kind: OpKind,
    pub created_at: Timestamp,
    pub attempts: u32,
    pub state: OpState,
    /// Why the last attempt failed, shown to the agent.
    pub last_error: Option<String>,
    /// How many times GHL refused it as invalid (the second time makes it out of sync).
    #[serde(default)]
    pub conflicts: u32,
    /// The follow-up item this op carries out, when the engine made it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub followup: Option<String>,
    /// The send attempt under way (a message only): written before the request goes out, so
    /// a crash leaves a trace to make sure of instead of a blind resend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempt: Option<SendAttempt>,
    /// A message the agent typed that the gates hold back for now (quiet hours in the lead's
    /// zone, a state's cap): it goes by itself once they open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held: Option<Hold>,
}

impl PendingOp {
    /// A new edit, nothing tried yet: pending, no attempt, no error, no follow-up item.
    pub fn new(seq: u64, contact_id: impl Into<String>, kind: OpKind, created_at: Timestamp) -> PendingOp {
        PendingOp {
            seq,
            contact_id: contact_id.into(),
            kind,
            created_at,
            attempts: 0,
            state: OpState::Pending,
            last_error: None,
            conflicts: 0,
            followup: None,
            attempt: None,
            held: None,
        }
    }
}

/// A send held back for now: until when, and why, in words to show the agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hold {
    /// The earliest time the gates open.
    pub until: Timestamp,
    /// Why, and until when in the lead's own time.
    pub reason: String,
}

/// One attempt to send a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendAttempt {
    /// Unique per attempt.
    pub id: String,
    pub started_at: Timestamp,
    /// Set once the outcome is unknown and GHL is being asked whether the message is there.
    #[serde(default)]
    pub verifying_since: Option<Timestamp>,
}

/// What a pending op does in GHL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum OpKind {
    AddTag {
        tag: String,
    },
    RemoveTag {
        tag: String,
    },
    SetStage {
        opportunity_id: String,
        pipeline_stage_id: String,
    },
    SetStatus {
        opportunity_id: String,
        status: String,
    },
    AddNote {
        body: String,
    },
    AddTask {
        title: String,
        due_at: Timestamp,
    },
    /// Marks a task done in GHL (`completed: true`).
    CompleteTask {
        task_id: String,
    },
    Assign {
        user_id: String,
    },
    /// Adds the contact to a GHL workflow (`POST /contacts/{id}/workflow/{workflowId}`).
    EnrollWorkflow {
        workflow_id: String,
    },
    SetDnd {
        channel: String,
        on: bool,
    },
    SendMessage {
        channel: String,
        body: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        subject: Option<String>,
    },
}

/// Where a pending op stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpState {
    #[default]
    Pending,
    /// GHL refused it; the agent can retry it.
    Failed,
    /// The same conflict happened twice: shown to the agent to settle.
    OutOfSync,
    /// A send whose outcome could not be made sure of: shown to the agent, who may send it
    /// again; never resent on its own.
    Uncertain,
}

/// A record of something Leadline did or decided, kept for compliance review.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AuditEvent {
    pub at: Option<Timestamp>,
    /// `agent`, `engine`, `sync` or `daemon`.
    pub actor: String,
    pub action: String,
    pub contact_id: Option<String>,
    pub detail: String,
}

/// How a message is sent: `sms` or `email`, as template files, follow-up steps, the protocol
/// and `OpKind::SendMessage` name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Sms,
    Email,
}

impl Channel {
    /// `sms` or `email`.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Sms => "sms",
            Channel::Email => "email",
        }
    }
}

impl std::fmt::Display for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
