//! How pulled records and pending local edits combine: pure rules, used by ingest (every
//! pulled record) and by local edits (the edited record), neither of which needs the sync.
//!
//! 1. **GHL wins on every field that has no pending local op.** A record pulled from GHL
//!    replaces the local one.
//! 2. **Intent ops are applied again** on top of the pulled record while they are pending
//!    (add/remove a tag, assign, DND, stage, status), so the agent keeps seeing the edit until
//!    GHL has it. They are intents ("add tag X"), not snapshots, so re-applying them is safe.
//!
//! What happens to an op once GHL answered it is [`crate::sync::conflict`].

use leadline_shared::domain::{Contact, DndSetting, OpKind, OpState, Opportunity, PendingOp, Task};

/// Lays the pending ops of one contact over its record fresh from GHL.
pub fn rebase_contact(mut remote: Contact, pending: &[&PendingOp]) -> Contact {
    for op in pending.iter().filter(|o| o.contact_id == remote.id && o.state != OpState::OutOfSync) {
        match &op.kind {
            OpKind::AddTag { tag } => {
                if !remote.tags.iter().any(|t| t.eq_ignore_ascii_case(tag)) {
                    remote.tags.push(tag.clone());
                }
            }
            OpKind::RemoveTag { tag } => remote.tags.retain(|t| !t.eq_ignore_ascii_case(tag)),
            OpKind::Assign { user_id } => remote.assigned_to = Some(user_id.clone()),
            OpKind::SetDnd { channel, on } => {
                let status = if *on { "active" } else { "inactive" };
                remote
                    .dnd_settings
                    .insert(channel.clone(), DndSetting { status: status.into(), ..Default::default() });
            }
            OpKind::SetStage { .. }
            | OpKind::SetStatus { .. }
            | OpKind::AddNote { .. }
            | OpKind::AddTask { .. }
            | OpKind::CompleteTask { .. }
            | OpKind::EnrollWorkflow { .. }
            | OpKind::SendMessage { .. } => {}
        }
    }
    remote
}

/// Lays pending stage and status ops over an opportunity fresh from GHL.
pub fn rebase_opportunity(mut remote: Opportunity, pending: &[&PendingOp]) -> Opportunity {
    for op in pending.iter().filter(|o| o.state != OpState::OutOfSync) {
        match &op.kind {
            OpKind::SetStage { opportunity_id, pipeline_stage_id } if *opportunity_id == remote.id => {
                remote.pipeline_stage_id = pipeline_stage_id.clone();
            }
            OpKind::SetStatus { opportunity_id, status } if *opportunity_id == remote.id => {
                if let Ok(s) = serde_json::from_value(serde_json::Value::String(status.clone())) {
                    remote.status = s;
                }
            }
            _ => {}
        }
    }
    remote
}

/// Lays a pending "mark done" over a task fresh from GHL: it stays done until GHL has it.
pub fn rebase_task(mut remote: Task, pending: &[&PendingOp]) -> Task {
    let done = pending.iter().any(|o| {
        o.state != OpState::OutOfSync
            && matches!(&o.kind, OpKind::CompleteTask { task_id } if *task_id == remote.id)
    });
    if done {
        remote.completed = true;
    }
    remote
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::Timestamp;
    use proptest::prelude::*;

    fn op(seq: u64, kind: OpKind) -> PendingOp {
        PendingOp::new(seq, "c", kind, Timestamp::UNIX_EPOCH)
    }

    #[test]
    fn ghl_wins_where_nothing_is_pending_and_intents_are_reapplied() {
        let remote = Contact {
            id: "c".into(),
            tags: vec!["From GHL".into(), "Old".into()],
            assigned_to: Some("u1".into()),
            first_name: Some("Remote".into()),
            ..Default::default()
        };
        let ops = [
            op(1, OpKind::AddTag { tag: "Hot Lead".into() }),
            op(2, OpKind::RemoveTag { tag: "old".into() }),
            op(3, OpKind::SetDnd { channel: "SMS".into(), on: true }),
        ];
        let refs: Vec<&PendingOp> = ops.iter().collect();
        let merged = rebase_contact(remote, &refs);
        assert_eq!(merged.tags, ["From GHL", "Hot Lead"]);
        assert_eq!(merged.assigned_to.as_deref(), Some("u1"), "no pending assign: GHL wins");
        assert_eq!(merged.first_name.as_deref(), Some("Remote"));
        assert!(!merged.channel_allowed("SMS"));
    }

    #[test]
    fn out_of_sync_ops_are_not_reapplied() {
        let mut stuck = op(1, OpKind::AddTag { tag: "X".into() });
        stuck.state = OpState::OutOfSync;
        let merged = rebase_contact(Contact { id: "c".into(), ..Default::default() }, &[&stuck]);
        assert!(merged.tags.is_empty());
    }

    #[test]
    fn stage_and_status_ops_apply_to_their_deal_only() {
        let ops = [
            op(1, OpKind::SetStage { opportunity_id: "o1".into(), pipeline_stage_id: "s2".into() }),
            op(2, OpKind::SetStatus { opportunity_id: "o1".into(), status: "won".into() }),
        ];
        let refs: Vec<&PendingOp> = ops.iter().collect();
        let o1 = rebase_opportunity(Opportunity { id: "o1".into(), ..Default::default() }, &refs);
        assert_eq!(
            (o1.pipeline_stage_id.as_str(), o1.status),
            ("s2", leadline_shared::domain::OpportunityStatus::Won)
        );
        let o2 = rebase_opportunity(Opportunity { id: "o2".into(), ..Default::default() }, &refs);
        assert_eq!(o2, Opportunity { id: "o2".into(), ..Default::default() });
    }

    proptest! {
        /// Re-applying the same pending ops is idempotent: a second pull changes nothing.
        #[test]
        fn rebasing_is_idempotent(
            tags in proptest::collection::vec("[a-c]", 0..4),
            adds in proptest::collection::vec("[a-d]", 0..4),
            removes in proptest::collection::vec("[a-d]", 0..3),
        ) {
            let mut ops = Vec::new();
            for (i, t) in adds.iter().enumerate() {
                ops.push(op(i as u64, OpKind::AddTag { tag: t.clone() }));
            }
            for (i, t) in removes.iter().enumerate() {
                ops.push(op(100 + i as u64, OpKind::RemoveTag { tag: t.clone() }));
            }
            let refs: Vec<&PendingOp> = ops.iter().collect();
            let once = rebase_contact(Contact { id: "c".into(), tags, ..Default::default() }, &refs);
            let twice = rebase_contact(once.clone(), &refs);
            prop_assert_eq!(once, twice);
        }
    }
}
