//! Marks and bulk actions: rows marked with `space`/`v` (or all on screen), and one action
//! (tag, remove a tag, assign, approve) applied to each marked row as its own request, the
//! same one the single-row action sends, so each lead's edit goes through the op log alone.
//! The requests go out together and their answers come back one by one; the footer counts
//! them ("tagging 12/40…") and then tells the outcome, with any failures.

use std::collections::BTreeMap;

use leadline_shared::domain::OpKind;

use super::app::describe_op;
use super::components::ellipsize;

/// What one item of a bulk action does.
#[derive(Debug, Clone, PartialEq)]
pub enum BulkCommand {
    /// `Request::Edit` of the lead (the op log).
    Edit(OpKind),
    /// Approve the follow-up action with this id, as it is.
    Approve {
        /// The follow-up action's id.
        id: String,
    },
    /// `Request::MoveDeal`: the lead's open deal to the stage of this name.
    MoveDeal { stage: String },
}

/// One marked row's part of a bulk action.
#[derive(Debug, Clone, PartialEq)]
pub struct BulkItem {
    /// The mark it came from (a lead id, or a follow-up action's id), unmarked once it worked.
    pub mark: String,
    /// The lead it concerns.
    pub contact_id: String,
    /// How the footer names it when it fails.
    pub name: String,
    /// What to do.
    pub command: BulkCommand,
}

/// A marked row: the lead it concerns and how to name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marked {
    /// The lead.
    pub contact_id: String,
    /// The lead's name, or the follow-up's description.
    pub name: String,
}

/// The marked rows of one kind, by id (a lead's, or a follow-up action's).
pub type Marks = BTreeMap<String, Marked>;

/// A bulk action under way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bulk {
    /// Its number: answers to another bulk action are not counted in this one.
    pub job: u64,
    /// What every item does, as the footer says it: `tag 'VIP'`, `approve`.
    pub what: String,
    /// The progressive verb: `tagging`.
    pub verb: &'static str,
    /// How many items.
    pub total: usize,
    /// How many were answered.
    pub done: usize,
    /// Follow-ups rather than leads.
    pub followups: bool,
    /// The items that failed: the row's name and why.
    pub failed: Vec<(String, String)>,
}

/// How many failures the footer names (the rest are counted).
const NAMED_FAILURES: usize = 3;

impl Bulk {
    /// A bulk action of `total` items doing `command`.
    pub fn new(job: u64, command: &BulkCommand, total: usize) -> Self {
        let (what, verb) = match command {
            BulkCommand::Edit(op @ OpKind::AddTag { .. }) => (describe_op(op, &[]), "tagging"),
            BulkCommand::Edit(op @ OpKind::RemoveTag { .. }) => (describe_op(op, &[]), "untagging"),
            BulkCommand::Edit(op @ OpKind::Assign { .. }) => (describe_op(op, &[]), "assigning"),
            BulkCommand::Edit(op @ OpKind::EnrollWorkflow { .. }) => (describe_op(op, &[]), "enrolling"),
            BulkCommand::MoveDeal { stage } => (format!("deal moved to {stage}"), "moving"),
            BulkCommand::Edit(op) => (describe_op(op, &[]), "saving"),
            BulkCommand::Approve { .. } => ("approved".to_owned(), "approving"),
        };
        let followups = matches!(command, BulkCommand::Approve { .. });
        Bulk { job, what, verb, total, done: 0, followups, failed: Vec::new() }
    }

    /// Whether every item was answered.
    pub fn finished(&self) -> bool {
        self.done >= self.total
    }

    /// The footer while it runs: `tagging 12/40…`.
    pub fn progress(&self) -> String {
        let failed = match self.failed.len() {
            0 => String::new(),
            n => format!(" ({n} failed)"),
        };
        format!("{} {}/{}…{failed}", self.verb, self.done, self.total)
    }

    /// The footer once done: all saved, or how many failed and why (the first few named).
    pub fn outcome(&self) -> String {
        let ok = self.total - self.failed.len().min(self.total);
        let noun = match (self.followups, self.total) {
            (true, 1) => "follow-up",
            (true, _) => "follow-ups",
            (false, 1) => "lead",
            (false, _) => "leads",
        };
        if self.failed.is_empty() && self.followups {
            return format!("Done: {} marked {noun} approved.", self.total);
        }
        if self.failed.is_empty() {
            return format!("Done: {} on {} marked {noun}.", self.what, self.total);
        }
        let named: Vec<String> = self
            .failed
            .iter()
            .take(NAMED_FAILURES)
            .map(|(name, error)| format!("{}: {}", ellipsize(name, 30), error))
            .collect();
        let more = self.failed.len().saturating_sub(NAMED_FAILURES);
        let more = if more > 0 { format!("; {more} more") } else { String::new() };
        format!(
            "{}: {ok} of {} done, {} failed (still marked): {}{more}",
            self.what,
            self.total,
            self.failed.len(),
            named.join("; ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_and_outcome_read_well() {
        let mut bulk = Bulk::new(1, &BulkCommand::Edit(OpKind::AddTag { tag: "VIP".into() }), 40);
        bulk.done = 12;
        assert_eq!(bulk.progress(), "tagging 12/40…");
        bulk.failed.push(("Maria Gonzalez".into(), "no lead".into()));
        assert_eq!(bulk.progress(), "tagging 12/40… (1 failed)");
        bulk.done = 40;
        assert!(bulk.finished());
        assert_eq!(
            bulk.outcome(),
            "tag 'VIP': 39 of 40 done, 1 failed (still marked): Maria Gonzalez: no lead"
        );
        let all = Bulk::new(2, &BulkCommand::Approve { id: "f1".into() }, 3);
        assert_eq!(all.outcome(), "Done: 3 marked follow-ups approved.");
    }
}
