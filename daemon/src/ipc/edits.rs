//! Local edits: validated, applied to the local view and queued for GHL in one transaction,
//! flushed before they are acknowledged.

use leadline_shared::domain::{OpKind, OpState};
use leadline_shared::protocol::{ErrorKind, Event, RemoteError};

use crate::state::State;
use crate::sync::SyncCommand;

fn bad(message: impl Into<String>) -> RemoteError {
    RemoteError::new(ErrorKind::BadRequest, message)
}

fn internal(e: impl std::fmt::Display) -> RemoteError {
    RemoteError::new(ErrorKind::Internal, e.to_string())
}

/// Checks an edit's own fields.
pub fn validate(op: &OpKind) -> Result<(), RemoteError> {
    let blank = |s: &str| s.trim().is_empty();
    match op {
        OpKind::AddTag { tag } | OpKind::RemoveTag { tag } if blank(tag) => Err(bad("a tag cannot be empty")),
        OpKind::AddNote { body } if blank(body) => Err(bad("a note needs some text")),
        OpKind::AddTask { title, .. } if blank(title) => Err(bad("a task needs a title")),
        OpKind::Assign { user_id } if blank(user_id) => {
            Err(bad("assign to which user? the user id is empty"))
        }
        OpKind::SendMessage { channel, .. } if !matches!(channel.as_str(), "sms" | "email") => {
            Err(bad(format!("cannot send on {channel:?}: use sms or email")))
        }
        OpKind::SendMessage { body, .. } if blank(body) => Err(bad("a message needs some text")),
        OpKind::SetStatus { status, .. }
            if !matches!(status.as_str(), "open" | "won" | "lost" | "abandoned") =>
        {
            Err(bad(format!("{status:?} is not a deal status: use open, won, lost or abandoned")))
        }
        _ => Ok(()),
    }
}

/// Applies an edit locally with its pending op; returns the op's sequence number. The store
/// work runs on the blocking pool, under the writer lock (see [`crate::ingest::Ingest::edit`]).
pub async fn edit(state: &State, contact_id: &str, op: OpKind) -> Result<u64, RemoteError> {
    validate(&op)?;
    let deal = match &op {
        OpKind::SetStage { opportunity_id, .. } | OpKind::SetStatus { opportunity_id, .. } => {
            Some(opportunity_id.clone())
        }
        _ => None,
    };
    let ingest = state.ingest();
    let now = state.clock.now();
    let id = contact_id.to_owned();
    let applied = tokio::task::spawn_blocking(move || ingest.edit(&id, op, now))
        .await
        .map_err(internal)?
        .map_err(internal)?
        .ok_or_else(|| match deal {
            Some(deal) => {
                RemoteError::new(ErrorKind::NotFound, format!("lead {contact_id} has no deal {deal}"))
            }
            None => RemoteError::new(
                ErrorKind::NotFound,
                format!("no lead with id {contact_id:?}; `leadline queue all --json` lists the ids"),
            ),
        })?;
    state.db.flush().await.map_err(internal)?;
    let seq = applied.op_seqs.first().copied().unwrap_or_default();
    state.publish(Event::LeadsChanged { ids: applied.changed });
    if let Some(tx) = state.sync_commands() {
        let _ = tx.try_send(SyncCommand::Push);
    }
    Ok(seq)
}

/// Puts a failed or out-of-sync op back in the queue. An op push has completed meanwhile is
/// not brought back: the agent is told it went through.
pub async fn retry(state: &State, seq: u64) -> Result<(), RemoteError> {
    let db = state.db.clone();
    let changed = tokio::task::spawn_blocking(move || {
        db.change_op(seq, |op| {
            if op.state == OpState::Uncertain {
                // The agent has looked at GHL and sends it again, knowingly.
                crate::sync::send::resend(op);
            }
            op.state = OpState::Pending;
            op.conflicts = 0;
        })
    })
    .await
    .map_err(internal)?
    .map_err(internal)?;
    if changed.is_none() {
        return Err(RemoteError::new(
            ErrorKind::NotFound,
            format!(
                "no pending edit #{seq}: it has reached GHL, or never existed (`leadline lead ID` lists a lead's edits)"
            ),
        ));
    }
    state.db.flush().await.map_err(internal)?;
    if let Some(tx) = state.sync_commands() {
        let _ = tx.try_send(SyncCommand::Push);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_are_validated() {
        assert!(validate(&OpKind::AddTag { tag: " ".into() }).is_err());
        assert!(
            validate(&OpKind::SendMessage { channel: "fax".into(), body: "x".into(), subject: None })
                .is_err()
        );
        assert!(validate(&OpKind::SetStatus { opportunity_id: "o".into(), status: "maybe".into() }).is_err());
        assert!(validate(&OpKind::AddTag { tag: "Hot Lead".into() }).is_ok());
    }
}
