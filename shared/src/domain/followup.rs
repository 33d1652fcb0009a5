//! The follow-up engine's records: which workflows a lead is enrolled in, and every action
//! planned for it, from scheduled to sent or skipped, with the reason.
//!
//! One [`FollowUps`] record per lead, stored beside the lead. Everything the engine decides is
//! written down here (and in the audit log): a send that did not go says why.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// Everything the follow-up engine holds for one lead.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FollowUps {
    pub contact_id: String,
    /// The lead's workflows, current and past.
    pub enrollments: Vec<Enrollment>,
    /// Actions planned, waiting, done or dropped (newest last; old finished ones are pruned).
    pub items: Vec<FollowUpItem>,
    /// The agent paused every automated action for this lead.
    pub paused: Option<Pause>,
    /// The lead opted out of automated messaging.
    pub opted_out: Option<OptOutRecord>,
    /// The engine's sends, newest last (for the per-lead caps; pruned to a week).
    pub recent_sends: Vec<RecentSend>,
}

/// A send the engine made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecentSend {
    pub at: Timestamp,
    /// `sms` or `email`.
    pub channel: String,
}

impl FollowUps {
    /// An empty record for a lead.
    pub fn new(contact_id: impl Into<String>) -> FollowUps {
        FollowUps { contact_id: contact_id.into(), ..FollowUps::default() }
    }

    /// The earliest time an open item comes due: what the `due` queue orders by.
    pub fn next_due(&self) -> Option<Timestamp> {
        self.items.iter().filter(|i| i.state.is_open()).map(|i| i.at).min()
    }

    /// An item by id.
    pub fn item(&self, id: &str) -> Option<&FollowUpItem> {
        self.items.iter().find(|i| i.id == id)
    }

    /// An item by id, to change it.
    pub fn item_mut(&mut self, id: &str) -> Option<&mut FollowUpItem> {
        self.items.iter_mut().find(|i| i.id == id)
    }
}

/// A lead's place in one workflow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Enrollment {
    pub workflow: String,
    pub version: u32,
    pub enrolled_at: Timestamp,
    /// The instant the steps' offsets count from.
    pub anchor: Timestamp,
    /// The index of the next step to plan (past the last: the repeats).
    pub next_step: u32,
    /// Repeats planned after the last step.
    pub repeats: u32,
    pub state: EnrollmentState,
}

/// Where an enrollment stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum EnrollmentState {
    /// Steps are planned as they come due.
    Active,
    /// Nothing is planned until the agent resumes it.
    Paused { reason: String, at: Timestamp },
    /// Every step was planned.
    Completed { at: Timestamp },
    /// An exit condition, an opt-out or the agent ended it.
    Ended { reason: String, at: Timestamp },
}

impl EnrollmentState {
    /// Active or paused: the lead is still in the workflow.
    pub fn is_current(&self) -> bool {
        matches!(self, EnrollmentState::Active | EnrollmentState::Paused { .. })
    }
}

/// The agent paused a lead's automation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pause {
    pub at: Timestamp,
    pub reason: String,
}

/// The lead opted out of automated messages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OptOutRecord {
    pub at: Timestamp,
    /// What they wrote, as matched ("stop texting me").
    pub phrase: String,
    /// The message that carried it.
    pub message_id: String,
}

/// Whether an action goes by itself or waits for the agent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Sent when due, inside the allowed hours.
    Auto,
    /// Waits in the approval queue.
    #[default]
    Approval,
}

/// What a step does. Every one of them goes to GHL through the op log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum StepAction {
    SendSms {
        template: String,
    },
    SendEmail {
        template: String,
    },
    CreateTask {
        title: String,
        due_in_hours: u32,
    },
    AddTag {
        tag: String,
    },
    RemoveTag {
        tag: String,
    },
    /// A stage of the lead's open deal, by name.
    MoveStage {
        stage: String,
    },
    /// A GHL user id; empty: the user the routing picks (the lead's current owner for now).
    Assign {
        user: String,
    },
    /// A desktop alert for the agent.
    Notify {
        message: String,
    },
}

impl StepAction {
    /// `sms` or `email` for a send, `None` for anything else.
    pub fn channel(&self) -> Option<&'static str> {
        match self {
            StepAction::SendSms { .. } => Some("sms"),
            StepAction::SendEmail { .. } => Some("email"),
            _ => None,
        }
    }

    /// The template a send uses.
    pub fn template(&self) -> Option<&str> {
        match self {
            StepAction::SendSms { template } | StepAction::SendEmail { template } => Some(template),
            _ => None,
        }
    }
}

/// One planned action and its life.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FollowUpItem {
    /// `contact/workflow/step[/repeat]`: the same plan always gets the same id, so an action
    /// is never planned twice.
    pub id: String,
    pub contact_id: String,
    pub workflow: String,
    pub step: u32,
    pub action: StepAction,
    /// When the workflow schedules it.
    pub due_at: Timestamp,
    /// When it may go: the due time moved into the recipient's allowed hours.
    pub at: Timestamp,
    /// The recipient's zone the allowed hours were checked in.
    pub timezone: Option<String>,
    pub mode: Mode,
    pub state: ItemState,
    /// Why it was skipped, deferred, failed or is uncertain.
    #[serde(default)]
    pub reason: Option<String>,
    /// The template version a send was rendered from.
    #[serde(default)]
    pub template_version: Option<u32>,
    /// The text that was (or is being) sent.
    #[serde(default)]
    pub body: Option<String>,
    /// The agent's own wording, given at approval: sent instead of the template's body, under
    /// the same rules (merge fields, length, opt-out text, footer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited: Option<String>,
    #[serde(default)]
    pub subject: Option<String>,
    /// The op that carries it to GHL.
    #[serde(default)]
    pub op_seq: Option<u64>,
    /// GHL's id of the sent message.
    #[serde(default)]
    pub message_id: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// A confirmation of an opt-out: the one message allowed after it.
    #[serde(default)]
    pub confirmation: bool,
}

impl FollowUpItem {
    /// A new action of `contact_id`'s, due and allowed at `at`, to be sent on its own
    /// (scheduled, auto); the caller sets what differs.
    pub fn new(
        id: String,
        contact_id: String,
        workflow: String,
        step: u32,
        action: StepAction,
        at: Timestamp,
        now: Timestamp,
    ) -> FollowUpItem {
        FollowUpItem {
            id,
            contact_id,
            workflow,
            step,
            action,
            due_at: at,
            at,
            timezone: None,
            mode: Mode::Auto,
            state: ItemState::Scheduled,
            reason: None,
            template_version: None,
            body: None,
            edited: None,
            subject: None,
            op_seq: None,
            message_id: None,
            created_at: now,
            updated_at: now,
            confirmation: false,
        }
    }
}

/// Where a planned action stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemState {
    /// Waits for its time.
    Scheduled,
    /// Waits for the agent's approval (then for its time).
    AwaitingApproval,
    /// Handed to the op log; sync sends it.
    Queued,
    /// A send attempt is under way (its outcome is being made sure of).
    Sending,
    /// GHL has it.
    Sent,
    /// A non-send action went to the op log.
    Done,
    /// GHL refused it (the reason says why).
    Failed,
    /// It may or may not have reached GHL: shown to the agent, never resent on its own.
    Uncertain,
    /// Not sent, for the reason given (a gate, the agent).
    Skipped,
    /// Dropped before it was due (a reply, an opt-out, a pause).
    Cancelled,
}

impl ItemState {
    /// Still to happen: the `due` queue holds the lead.
    pub fn is_open(self) -> bool {
        matches!(self, ItemState::Scheduled | ItemState::AwaitingApproval)
    }

    /// Finished, one way or another.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            ItemState::Sent | ItemState::Done | ItemState::Failed | ItemState::Skipped | ItemState::Cancelled
        )
    }

    /// The name the CLI prints.
    pub fn as_str(self) -> &'static str {
        match self {
            ItemState::Scheduled => "scheduled",
            ItemState::AwaitingApproval => "awaiting_approval",
            ItemState::Queued => "queued",
            ItemState::Sending => "sending",
            ItemState::Sent => "sent",
            ItemState::Done => "done",
            ItemState::Failed => "failed",
            ItemState::Uncertain => "uncertain",
            ItemState::Skipped => "skipped",
            ItemState::Cancelled => "cancelled",
        }
    }
}

impl std::fmt::Display for ItemState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str, at: i64, state: ItemState) -> FollowUpItem {
        let t = Timestamp::from_second(at).expect("ts");
        let action = StepAction::SendSms { template: "t".into() };
        FollowUpItem { state, ..FollowUpItem::new(id.into(), "c".into(), "w".into(), 0, action, t, t) }
    }

    #[test]
    fn the_next_due_item_is_the_earliest_open_one() {
        let mut f = FollowUps::new("c");
        f.items = vec![
            item("a", 30, ItemState::Scheduled),
            item("b", 10, ItemState::Sent),
            item("c", 20, ItemState::AwaitingApproval),
        ];
        assert_eq!(f.next_due(), Timestamp::from_second(20).ok());
        f.items[2].state = ItemState::Cancelled;
        assert_eq!(f.next_due(), Timestamp::from_second(30).ok());
    }

    #[test]
    fn records_round_trip() {
        let mut f = FollowUps::new("c");
        f.items.push(item("a", 1, ItemState::Uncertain));
        f.enrollments.push(Enrollment {
            workflow: "w".into(),
            version: 2,
            enrolled_at: Timestamp::UNIX_EPOCH,
            anchor: Timestamp::UNIX_EPOCH,
            next_step: 1,
            repeats: 0,
            state: EnrollmentState::Paused { reason: "the lead replied".into(), at: Timestamp::UNIX_EPOCH },
        });
        let back: FollowUps = serde_json::from_str(&serde_json::to_string(&f).expect("json")).expect("read");
        assert_eq!(back, f);
    }
}
