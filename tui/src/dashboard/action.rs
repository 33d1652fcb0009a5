//! Everything a key can ask the dashboard to do.
//!
//! Keys resolve to an [`Action`] first (see [`super::keymap`]) and the [`super::app::App`]
//! executes it second, so bindings can change without touching behaviour and the help overlay
//! can describe every action from one table.

use std::fmt;
use std::str::FromStr;

use leadline_shared::protocol::QueueName;

/// One user intent. The kebab-case names (see [`Action::name`]) are what the keymap file uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Leave the dashboard.
    Quit,
    /// Show or hide the help overlay.
    Help,
    /// Select the next lead.
    NextRow,
    /// Select the previous lead.
    PrevRow,
    /// Move the selection down one screen.
    PageDown,
    /// Move the selection up one screen.
    PageUp,
    /// Select the first lead.
    FirstRow,
    /// Select the last lead.
    LastRow,
    /// Show the next queue tab.
    NextQueue,
    /// Show the previous queue tab.
    PrevQueue,
    /// Jump to the queue tab at this index (0-based; `queue-1` is 0).
    Queue(u8),
    /// Open the detail pane of the selected lead.
    OpenDetail,
    /// Open the detail pane, or close it when open.
    ToggleDetail,
    /// Close whatever is on top: the help overlay, then the detail pane, then the marks.
    Close,
    /// Reload status, queue and detail now; when offline, retry the connection now.
    Refresh,
    /// Add a tag to the selected lead (opens a text input).
    AddTag,
    /// Remove a tag from the selected lead (opens a text input).
    RemoveTag,
    /// Add a note to the selected lead (opens a text input).
    AddNote,
    /// Retry the selected lead's failed and out-of-sync edits.
    RetryEdits,
    /// Ask the daemon to sync with GHL now.
    SyncNow,
    /// Show the follow-ups screen: the approval queue, what is planned, failed or uncertain,
    /// and what went lately.
    FollowUps,
    /// Approve the selected follow-up waiting for approval.
    ApproveFollowUp,
    /// Edit the selected follow-up's message (opens a text input), then approve it.
    EditFollowUp,
    /// Skip the selected follow-up.
    SkipFollowUp,
    /// Send the selected uncertain message again (the agent has checked GHL).
    SendAgain,
    /// Pause every automated follow-up of the selected lead.
    PauseLead,
    /// Resume the selected lead's follow-ups.
    ResumeLead,
    /// Show the analytics screen: funnel, speed-to-lead, forecast, sources, cohorts.
    Analytics,
    /// On the analytics screen, cover a longer range of arrivals (7d → 30d → 90d → all).
    RangeLonger,
    /// On the analytics screen, cover a shorter range of arrivals.
    RangeShorter,
    /// Write to the selected lead: a text or an email, typed or from a template.
    Compose,
    /// Search leads by name, phone, email or tag (opens the search prompt, or goes back to
    /// typing in it).
    Search,
    /// Show the System screen: sync's health, the edits waiting for GHL or refused by it, the
    /// records sync skipped, the daemon's log.
    System,
    /// On the System screen, retry every edit GHL refused (failed or out of sync).
    RetryAllFailed,
    /// Assign the selected (or every marked) lead to a GHL user (opens a text input for the
    /// user id).
    Assign,
    /// Assign the open lead to the agent its routing suggestion names (an `assign` edit).
    AcceptRouting,
    /// Mark or unmark the selected row, for the bulk actions.
    ToggleMark,
    /// Mark every row on screen.
    MarkAll,
    /// Unmark every row.
    ClearMarks,
    /// Open the command palette: every action, found by typing part of its name.
    CommandPalette,
    /// Scroll the lead pane down a line.
    ScrollDetailDown,
    /// Scroll the lead pane up a line.
    ScrollDetailUp,
    /// Give the lead pane the movement keys (or give them back to the list).
    FocusDetail,
    /// Open the lead's deal: stage, value, commission calculator.
    OpenDeal,
    /// Create a task for the lead.
    AddTask,
    /// The Tasks screen.
    Tasks,
    /// Mark the selected task done.
    CompleteTask,
    /// Move the lead's (or every marked lead's) open deal to a stage, typed by name.
    MoveStage,
    /// Enroll the lead (or every marked lead) in a GHL workflow.
    Enroll,
    /// In Compose: send the message.
    Send,
    /// Draft a reply to the lead's last message into the approval queue (the AI assist, or the
    /// local rules).
    Draft,
}

/// What an action acts on, when it needs something selected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A lead of a queue or of the search.
    Lead,
    /// A row of the follow-ups screen.
    FollowUp,
}

/// How many queue tabs `queue-N` can address.
pub const QUEUE_SLOTS: u8 = 6;

impl Action {
    /// Every action, in the order the help overlay lists them.
    pub fn all() -> Vec<Action> {
        let mut all = vec![
            Action::NextRow,
            Action::PrevRow,
            Action::PageDown,
            Action::PageUp,
            Action::FirstRow,
            Action::LastRow,
            Action::NextQueue,
            Action::PrevQueue,
        ];
        all.extend((0..QUEUE_SLOTS).map(Action::Queue));
        all.extend([
            Action::FollowUps,
            Action::Analytics,
            Action::System,
            Action::Tasks,
            Action::RangeShorter,
            Action::RangeLonger,
            Action::Search,
            Action::OpenDetail,
            Action::ToggleDetail,
            Action::ScrollDetailDown,
            Action::ScrollDetailUp,
            Action::FocusDetail,
            Action::OpenDeal,
            Action::Close,
            Action::Refresh,
            Action::AddTag,
            Action::RemoveTag,
            Action::AddNote,
            Action::AddTask,
            Action::CompleteTask,
            Action::Compose,
            Action::Assign,
            Action::MoveStage,
            Action::Enroll,
            Action::Send,
            Action::Draft,
            Action::AcceptRouting,
            Action::ToggleMark,
            Action::MarkAll,
            Action::ClearMarks,
            Action::RetryEdits,
            Action::RetryAllFailed,
            Action::SyncNow,
            Action::ApproveFollowUp,
            Action::EditFollowUp,
            Action::SkipFollowUp,
            Action::SendAgain,
            Action::PauseLead,
            Action::ResumeLead,
            Action::CommandPalette,
            Action::Help,
            Action::Quit,
        ]);
        all
    }

    /// The kebab-case name used in the keymap file.
    pub fn name(self) -> String {
        match self {
            Action::Quit => "quit".into(),
            Action::Help => "help".into(),
            Action::NextRow => "next-row".into(),
            Action::PrevRow => "prev-row".into(),
            Action::PageDown => "page-down".into(),
            Action::PageUp => "page-up".into(),
            Action::FirstRow => "first-row".into(),
            Action::LastRow => "last-row".into(),
            Action::NextQueue => "next-queue".into(),
            Action::PrevQueue => "prev-queue".into(),
            Action::Queue(i) => format!("queue-{}", u16::from(i) + 1),
            Action::OpenDetail => "open-detail".into(),
            Action::ToggleDetail => "toggle-detail".into(),
            Action::Close => "close".into(),
            Action::Refresh => "refresh".into(),
            Action::AddTag => "add-tag".into(),
            Action::RemoveTag => "remove-tag".into(),
            Action::AddNote => "add-note".into(),
            Action::RetryEdits => "retry-edits".into(),
            Action::SyncNow => "sync-now".into(),
            Action::FollowUps => "follow-ups".into(),
            Action::ApproveFollowUp => "approve".into(),
            Action::EditFollowUp => "edit-and-approve".into(),
            Action::SkipFollowUp => "skip".into(),
            Action::SendAgain => "send-again".into(),
            Action::PauseLead => "pause-lead".into(),
            Action::ResumeLead => "resume-lead".into(),
            Action::Analytics => "analytics".into(),
            Action::RangeLonger => "range-longer".into(),
            Action::RangeShorter => "range-shorter".into(),
            Action::Compose => "compose".into(),
            Action::Search => "search".into(),
            Action::System => "system".into(),
            Action::RetryAllFailed => "retry-all-failed".into(),
            Action::Assign => "assign".into(),
            Action::AcceptRouting => "accept-routing".into(),
            Action::ToggleMark => "toggle-mark".into(),
            Action::MarkAll => "mark-all".into(),
            Action::ClearMarks => "clear-marks".into(),
            Action::CommandPalette => "command-palette".into(),
            Action::ScrollDetailDown => "scroll-detail-down".into(),
            Action::ScrollDetailUp => "scroll-detail-up".into(),
            Action::FocusDetail => "focus-detail".into(),
            Action::OpenDeal => "deal".into(),
            Action::AddTask => "add-task".into(),
            Action::Tasks => "tasks".into(),
            Action::CompleteTask => "complete-task".into(),
            Action::MoveStage => "move-stage".into(),
            Action::Enroll => "enroll".into(),
            Action::Send => "send".into(),
            Action::Draft => "draft".into(),
        }
    }

    /// What the action acts on, when it needs a selected row: the palette says so rather
    /// than run it on nothing.
    pub fn target(self) -> Option<Target> {
        match self {
            Action::OpenDetail
            | Action::AddTag
            | Action::RemoveTag
            | Action::AddNote
            | Action::RetryEdits
            | Action::Compose
            | Action::Assign
            | Action::MoveStage
            | Action::Enroll
            | Action::Draft
            | Action::AddTask
            | Action::OpenDeal
            | Action::AcceptRouting
            | Action::ToggleMark => Some(Target::Lead),
            Action::ApproveFollowUp | Action::EditFollowUp | Action::SkipFollowUp | Action::SendAgain => {
                Some(Target::FollowUp)
            }
            _ => None,
        }
    }

    /// What the action does, as the help overlay says it.
    pub fn description(self) -> String {
        match self {
            Action::Quit => "quit".into(),
            Action::Help => "show or hide this help".into(),
            Action::NextRow => "next lead".into(),
            Action::PrevRow => "previous lead".into(),
            Action::PageDown => "page down".into(),
            Action::PageUp => "page up".into(),
            Action::FirstRow => "first lead".into(),
            Action::LastRow => "last lead".into(),
            Action::NextQueue => "next queue".into(),
            Action::PrevQueue => "previous queue".into(),
            Action::Queue(i) => match QueueName::BUILT_IN.get(usize::from(i)) {
                Some(name) => format!("queue {}: {name}", u16::from(i) + 1),
                None => format!("queue {}", u16::from(i) + 1),
            },
            Action::OpenDetail => "open lead detail".into(),
            Action::ToggleDetail => "open or close lead detail".into(),
            Action::Close => "close help or detail, clear marks".into(),
            Action::Refresh => "refresh now / retry the daemon".into(),
            Action::AddTag => "add a tag to the lead".into(),
            Action::RemoveTag => "remove a tag from the lead".into(),
            Action::AddNote => "add a note to the lead".into(),
            Action::RetryEdits => "retry the lead's failed edits".into(),
            Action::SyncNow => "sync with GHL now".into(),
            Action::FollowUps => "follow-ups screen".into(),
            Action::ApproveFollowUp => "approve the follow-up".into(),
            Action::EditFollowUp => "edit its text, then approve".into(),
            Action::SkipFollowUp => "skip the follow-up".into(),
            Action::SendAgain => "send an uncertain message again".into(),
            Action::PauseLead => "pause the lead's follow-ups".into(),
            Action::ResumeLead => "resume the lead's follow-ups".into(),
            Action::Analytics => "analytics screen".into(),
            Action::RangeLonger => "analytics: longer range".into(),
            Action::RangeShorter => "analytics: shorter range".into(),
            Action::Compose => "write to the lead (text or email)".into(),
            Action::Search => "search by name, phone, email, tag".into(),
            Action::System => "system: sync, edits, skipped, log".into(),
            Action::RetryAllFailed => "system: retry all failed edits".into(),
            Action::Assign => "assign the lead(s) to a user".into(),
            Action::AcceptRouting => "assign to the suggested agent".into(),
            Action::ToggleMark => "mark or unmark the row".into(),
            Action::MarkAll => "mark every row on screen".into(),
            Action::ClearMarks => "clear the marks".into(),
            Action::CommandPalette => "command palette: run any action".into(),
            Action::ScrollDetailDown => "scroll the lead pane down".into(),
            Action::ScrollDetailUp => "scroll the lead pane up".into(),
            Action::FocusDetail => "movement keys scroll the lead pane (again: the list)".into(),
            Action::OpenDeal => "the lead's deal: stage, commission".into(),
            Action::AddTask => "add a task to the lead (title, when)".into(),
            Action::Tasks => "tasks screen (open tasks, overdue first)".into(),
            Action::CompleteTask => "mark the selected task done".into(),
            Action::MoveStage => "move the deal(s) to a stage, by name".into(),
            Action::Enroll => "enroll the lead(s) in a GHL workflow".into(),
            Action::Send => "compose: send the message".into(),
            Action::Draft => "draft a reply for approval (AI assist)".into(),
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// A name in the keymap file that is no action.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a dashboard action; known actions: {known}", known = known_actions())]
pub struct UnknownAction(pub String);

fn known_actions() -> String {
    Action::all().iter().map(|a| a.name()).collect::<Vec<_>>().join(", ")
}

impl FromStr for Action {
    type Err = UnknownAction;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase();
        Action::all().into_iter().find(|a| a.name() == wanted).ok_or_else(|| UnknownAction(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for action in Action::all() {
            assert_eq!(action.name().parse::<Action>(), Ok(action));
        }
        assert_eq!("queue-6".parse::<Action>(), Ok(Action::Queue(5)));
        assert_eq!(" Next-Row ".parse::<Action>(), Ok(Action::NextRow));
    }

    #[test]
    fn unknown_names_are_rejected_with_the_list() {
        let err = "queue-7".parse::<Action>().expect_err("only six queues");
        assert!(err.to_string().contains("next-row"), "{err}");
        assert!("".parse::<Action>().is_err());
    }
}
