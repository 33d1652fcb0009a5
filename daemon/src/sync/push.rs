//! Pushing local edits to GHL, oldest first, through the conflict policy.

use std::collections::BTreeSet;

use leadline_shared::domain::{AuditEvent, OpKind, OpState, PendingOp};

use super::conflict::{Attempt, Next, after_attempt};
use super::{SyncError, blocking};
use crate::ghl::{GhlClient, GhlError};
use crate::state::State;
use crate::store::{Batch, Put, Remove};

/// Counts of one push round.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pushed {
    pub accepted: usize,
    pub kept: usize,
    /// Contacts to pull again because GHL refused an edit on them.
    pub refetch: BTreeSet<String>,
}

async fn perform(client: &GhlClient, op: &PendingOp) -> Result<(), GhlError> {
    let id = op.contact_id.as_str();
    match &op.kind {
        OpKind::AddTag { tag } => client.add_tags(id, std::slice::from_ref(tag)).await,
        OpKind::RemoveTag { tag } => client.remove_tags(id, std::slice::from_ref(tag)).await,
        OpKind::SetStage { opportunity_id, pipeline_stage_id } => {
            client.set_opportunity_stage(opportunity_id, pipeline_stage_id).await.map(drop)
        }
        OpKind::SetStatus { opportunity_id, status } => {
            client.set_opportunity_status(opportunity_id, status).await
        }
        OpKind::AddNote { body } => client.add_note(id, body).await.map(drop),
        OpKind::AddTask { title, due_at } => client.add_task(id, title, *due_at).await.map(drop),
        OpKind::Assign { user_id } => client.assign_contact(id, user_id).await.map(drop),
        OpKind::SetDnd { channel, on } => client.set_dnd(id, channel, *on).await.map(drop),
        OpKind::SendMessage { .. } => Err(GhlError::InvalidRequest(
            "a message goes through the exactly-once sender, not the edit path (a bug)".into(),
        )),
    }
}

/// Classifies a failed attempt of an edit (messages are [`super::send`]'s).
fn classify(err: &GhlError) -> Attempt {
    if err.is_permanent() {
        return Attempt::Refused(err.to_string());
    }
    Attempt::Transient(err.to_string())
}

/// Pushes pending ops in order. Stops at the first passing failure, so edits reach GHL in the
/// order they were made.
///
/// Its store work runs on the blocking pool ([`blocking`]): the ops are read while edits and
/// retries write, and each outcome is a write that waits its turn behind theirs.
pub async fn push(state: &State, client: &GhlClient) -> Result<Pushed, SyncError> {
    let mut pushed = Pushed::default();
    let db = state.db.clone();
    let ops = blocking(move || db.pending_ops()).await?;
    for op in ops.into_iter().filter(|o| o.state == OpState::Pending) {
        if super::send::is_send(&op) {
            // Messages go through the exactly-once sender; one that waits (quiet hours, a
            // check still running) does not hold back the edits behind it.
            match super::send::send(state, client, op).await? {
                super::send::Sent::Delivered => pushed.accepted += 1,
                super::send::Sent::Later => {
                    pushed.kept += 1;
                    break;
                }
                _ => pushed.kept += 1,
            }
            continue;
        }
        let attempt = match perform(client, &op).await {
            Ok(()) => Attempt::Accepted,
            Err(e) => classify(&e),
        };
        let transient = matches!(attempt, Attempt::Transient(_));
        let (seq, contact_id, kind) = (op.seq, op.contact_id.clone(), op.kind.clone());
        match after_attempt(op, attempt) {
            Next::Done => {
                let mut batch = Batch::new();
                batch.remove(Remove::PendingOp(seq));
                batch.put(Put::Audit(AuditEvent {
                    at: Some(state.clock.now()),
                    actor: "sync".into(),
                    action: "pushed".into(),
                    contact_id: Some(contact_id),
                    detail: serde_json::to_string(&kind).unwrap_or_default(),
                }));
                let db = state.db.clone();
                blocking(move || db.commit(&batch)).await?;
                pushed.accepted += 1;
            }
            Next::Keep { op, refetch } => {
                if op.state == OpState::OutOfSync {
                    tracing::warn!(seq = op.seq, "an edit is out of sync with GHL; the agent must settle it");
                }
                if refetch {
                    pushed.refetch.insert(op.contact_id.clone());
                }
                // Only if the op is still there: a retry never raced it back, and this never
                // brings back an op that is gone.
                let db = state.db.clone();
                blocking(move || db.update_op(&op)).await?;
                pushed.kept += 1;
            }
        }
        state.db.flush().await?;
        if transient {
            break;
        }
    }
    Ok(pushed)
}
