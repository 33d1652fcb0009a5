//! The follow-ups screen's state: its rows (each worked out once when it arrives, so a frame
//! looks up no time zone), their order and counts, the selection, and what the agent asks of
//! an action. Pure, like the rest of [`super::app`]; drawn by `components/followups.rs`.

use std::collections::HashSet;
use std::fmt::Write as _;

use leadline_shared::domain::{FollowUpItem, ItemState};
use leadline_shared::protocol::FollowUpView;

use super::app::visible_range;
use crate::output;

/// What the agent asks of a follow-up action, or of a lead's follow-ups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FollowUpCommand {
    /// `Request::ApproveFollowUp`: the action goes when due; a send with the agent's own text
    /// when `body` is given.
    Approve {
        /// The action.
        id: String,
        /// The agent's text, instead of the template's.
        body: Option<String>,
    },
    /// `Request::SkipFollowUp`.
    Skip {
        /// The action.
        id: String,
    },
    /// `Request::RetryOp` on the op of an uncertain send: sent again, knowingly.
    SendAgain {
        /// The action.
        id: String,
        /// The op that carries it.
        seq: u64,
    },
    /// `Request::PauseLead`.
    Pause,
    /// `Request::ResumeLead`.
    Resume,
}

impl FollowUpCommand {
    /// What the footer says while it is under way, once it is done, and before the error when
    /// it failed.
    pub(super) fn wording(&self, what: &str) -> [String; 3] {
        match self {
            FollowUpCommand::Approve { body: None, .. } => {
                [format!("Approving {what}…"), format!("Approved: {what}."), format!("Not approved: {what}")]
            }
            FollowUpCommand::Approve { body: Some(_), .. } => [
                format!("Approving {what} with your text…"),
                format!("Approved with your text: {what}."),
                format!("Not approved: {what}"),
            ],
            FollowUpCommand::Skip { .. } => {
                [format!("Skipping {what}…"), format!("Skipped: {what}."), format!("Not skipped: {what}")]
            }
            FollowUpCommand::SendAgain { .. } => [
                format!("Sending {what} again…"),
                format!("Sending again with the next sync: {what}."),
                format!("Not sent again: {what}"),
            ],
            FollowUpCommand::Pause => [
                format!("Pausing {what}'s follow-ups…"),
                format!("Paused {what}: no automated follow-ups until resumed."),
                format!("Could not pause {what}"),
            ],
            FollowUpCommand::Resume => [
                format!("Resuming {what}'s follow-ups…"),
                format!("Resumed {what}'s follow-ups."),
                format!("Could not resume {what}"),
            ],
        }
    }
}

/// The part of the follow-ups screen an action belongs to, in screen order: the approval
/// queue, then what is planned, then what failed or is uncertain, then what finished lately.
pub fn followup_group(state: ItemState) -> u8 {
    match state {
        ItemState::AwaitingApproval => 0,
        ItemState::Scheduled | ItemState::Queued | ItemState::Sending => 1,
        ItemState::Failed | ItemState::Uncertain => 2,
        ItemState::Sent | ItemState::Done | ItemState::Skipped | ItemState::Cancelled => 3,
    }
}

/// One row of the follow-ups screen: the action, with the text its row shows worked out once
/// when it arrives, so that drawing a frame looks up no time zone.
#[derive(Debug, Clone, PartialEq)]
pub struct FollowUpRow {
    /// The action and its lead's name.
    pub view: FollowUpView,
    /// The action in a few words: `sms nurture_day3`.
    pub action: String,
    /// When it goes or went, in the lead's zone: `Tue 08:00 CDT` (see [`output::when_at`]).
    pub local: String,
}

impl FollowUpRow {
    /// A row for an action.
    pub fn new(view: FollowUpView) -> Self {
        let action = output::action(&view.item);
        let local = output::local(output::when_at(&view.item), view.item.timezone.as_deref());
        FollowUpRow { view, action, local }
    }

    /// The action.
    pub fn item(&self) -> &FollowUpItem {
        &self.view.item
    }

    /// How the footer names it: `sms nurture_day3 for Maria Gonzalez`.
    pub fn what(&self) -> String {
        let mut what = self.action.clone();
        if !self.view.lead_name.is_empty() {
            let _ = write!(what, " for {}", self.view.lead_name);
        }
        what
    }
}

/// How many rows of each kind the follow-ups screen holds, counted when they arrive.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FollowUpCounts {
    /// Waiting for the agent's approval.
    pub approval: usize,
    /// Scheduled, queued or being sent.
    pub planned: usize,
    /// Refused by GHL.
    pub failed: usize,
    /// May or may not have reached GHL.
    pub uncertain: usize,
    /// Sent, done, skipped or cancelled lately.
    pub recent: usize,
}

impl FollowUpCounts {
    /// Actions that need the agent: to approve, failed or uncertain.
    pub fn needing_agent(&self) -> usize {
        self.approval + self.failed + self.uncertain
    }
}

/// The follow-ups screen's rows and where the user is in them.
#[derive(Debug, Clone, PartialEq)]
pub struct FollowUpsView {
    /// In screen order (see [`followup_group`]).
    pub rows: Vec<FollowUpRow>,
    /// How many of each kind.
    pub counts: FollowUpCounts,
    /// True once the daemon answered.
    pub loaded: bool,
    /// The selected row (0 when empty).
    pub selected: usize,
    /// The first row on screen.
    pub offset: usize,
    /// Whether the selected action's pane is shown (it is unless the agent closes it).
    pub pane_open: bool,
}

impl FollowUpsView {
    pub(super) fn new() -> Self {
        FollowUpsView {
            rows: Vec::new(),
            counts: FollowUpCounts::default(),
            loaded: false,
            selected: 0,
            offset: 0,
            pane_open: true,
        }
    }

    /// The selected action, if any.
    pub fn selected_row(&self) -> Option<&FollowUpRow> {
        self.rows.get(self.selected)
    }

    /// The tab's count: the actions that need the agent; `None` before the first load.
    pub fn count_label(&self) -> Option<String> {
        self.loaded.then(|| self.counts.needing_agent().to_string())
    }

    /// The rows a table `page` rows tall shows.
    pub fn visible(&self, page: usize) -> std::ops::Range<usize> {
        visible_range(self.rows.len(), self.offset, self.selected, page)
    }

    pub(super) fn select(&mut self, index: usize, page: usize) {
        self.selected = index.min(self.rows.len().saturating_sub(1));
        self.offset = visible_range(self.rows.len(), self.offset, self.selected, page).start;
    }

    /// Takes in the actions, sorted into screen order once here rather than at every frame;
    /// the selected action stays selected.
    pub(super) fn load(&mut self, views: Vec<FollowUpView>, page: usize) {
        let selected_id = self.selected_row().map(|r| r.item().id.clone());
        let mut seen = HashSet::with_capacity(views.len());
        // The parts are asked for one after another, so an action that moved between two of
        // them meanwhile can arrive twice.
        let mut rows: Vec<FollowUpRow> =
            views.into_iter().filter(|v| seen.insert(v.item.id.clone())).map(FollowUpRow::new).collect();
        rows.sort_by(|a, b| {
            let (a, b) = (a.item(), b.item());
            let group = followup_group(a.state);
            group.cmp(&followup_group(b.state)).then_with(|| {
                // What is still to happen, soonest first; what happened, newest first.
                let order = if group < 2 { a.at.cmp(&b.at) } else { b.updated_at.cmp(&a.updated_at) };
                order.then_with(|| a.id.cmp(&b.id))
            })
        });
        let mut counts = FollowUpCounts::default();
        for row in &rows {
            match row.item().state {
                ItemState::AwaitingApproval => counts.approval += 1,
                ItemState::Scheduled | ItemState::Queued | ItemState::Sending => counts.planned += 1,
                ItemState::Failed => counts.failed += 1,
                ItemState::Uncertain => counts.uncertain += 1,
                ItemState::Sent | ItemState::Done | ItemState::Skipped | ItemState::Cancelled => {
                    counts.recent += 1;
                }
            }
        }
        self.rows = rows;
        self.counts = counts;
        self.loaded = true;
        let index = selected_id.and_then(|id| self.rows.iter().position(|r| r.item().id == id));
        self.select(index.unwrap_or(self.selected), page);
    }
}
