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

/// Performs an op in GHL. A note or task GHL created, or a task it changed, comes back to be
/// stored, so the lead's timeline and the Tasks screen have GHL's record at once.
async fn perform(client: &GhlClient, op: &PendingOp) -> Result<Option<Put>, GhlError> {
    let id = op.contact_id.as_str();
    let owned = |mut contact_id: String| {
        if contact_id.is_empty() {
            contact_id = id.to_owned();
        }
        contact_id
    };
    match &op.kind {
        OpKind::AddTag { tag } => client.add_tags(id, std::slice::from_ref(tag)).await.map(|()| None),
        OpKind::RemoveTag { tag } => client.remove_tags(id, std::slice::from_ref(tag)).await.map(|()| None),
        OpKind::SetStage { opportunity_id, pipeline_stage_id } => {
            client.set_opportunity_stage(opportunity_id, pipeline_stage_id).await.map(|_| None)
        }
        OpKind::SetStatus { opportunity_id, status } => {
            client.set_opportunity_status(opportunity_id, status).await.map(|()| None)
        }
        OpKind::AddNote { body } => {
            let mut note = client.add_note(id, body).await?;
            note.contact_id = owned(note.contact_id);
            Ok(Some(Put::Note(note)))
        }
        OpKind::AddTask { title, due_at } => {
            let mut task = client.add_task(id, title, *due_at).await?;
            task.contact_id = owned(task.contact_id);
            Ok(Some(Put::Task(task)))
        }
        OpKind::CompleteTask { task_id } => {
            let mut task = client.complete_task(id, task_id).await?;
            task.contact_id = owned(task.contact_id);
            Ok(Some(Put::Task(task)))
        }
        OpKind::Assign { user_id } => client.assign_contact(id, user_id).await.map(|_| None),
        OpKind::EnrollWorkflow { workflow_id } => {
            client.enroll_in_workflow(id, workflow_id).await.map(|()| None)
        }
        OpKind::SetDnd { channel, on } => client.set_dnd(id, channel, *on).await.map(|_| None),
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
        let mut created = None;
        let attempt = match perform(client, &op).await {
            Ok(record) => {
                created = record;
                Attempt::Accepted
            }
            Err(e) => classify(&e),
        };
        let transient = matches!(attempt, Attempt::Transient(_));
        let (seq, contact_id, kind) = (op.seq, op.contact_id.clone(), op.kind.clone());
        match after_attempt(op, attempt) {
            Next::Done => {
                let who = contact_id.clone();
                let mut batch = Batch::new();
                batch.remove(Remove::PendingOp(seq));
                batch.put(Put::Audit(AuditEvent {
                    at: Some(state.clock.now()),
                    actor: "sync".into(),
                    action: "pushed".into(),
                    contact_id: Some(contact_id),
                    detail: serde_json::to_string(&kind).unwrap_or_default(),
                }));
                let stored = created.is_some();
                if let Some(record) = created {
                    batch.put(record);
                }
                let db = state.db.clone();
                blocking(move || db.commit(&batch)).await?;
                pushed.accepted += 1;
                if stored {
                    // The lead's timeline and the Tasks screen now show GHL's record.
                    state.publish(leadline_shared::protocol::Event::LeadsChanged { ids: vec![who] });
                }
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
