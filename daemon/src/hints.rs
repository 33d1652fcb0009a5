//! Turns webhook hints into sync work: the records they name are re-fetched from GHL, in
//! small batches, so a burst of events costs a few requests, not one each.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::state::State;
use crate::sync::SyncCommand;
use crate::webhook::Hint;

/// How long hints are gathered before they are acted on.
const GATHER: Duration = Duration::from_millis(200);

/// What a batch of hints asks for.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// Contacts to re-fetch.
    pub contacts: BTreeSet<String>,
    /// Whether a poll (new messages, changed contacts) is needed too.
    pub poll: bool,
}

/// Plans the work for a batch of hints (pure).
pub fn plan(hints: &[Hint]) -> Plan {
    let mut plan = Plan::default();
    for hint in hints {
        if matches!(hint, Hint::Message { .. }) {
            plan.poll = true;
        }
        if let Some(id) = hint.contact_id() {
            plan.contacts.insert(id.to_owned());
        }
    }
    plan
}

/// Forwards hints to the sync task until `shutdown`.
pub async fn forward(state: Arc<State>, mut hints: mpsc::Receiver<Hint>, shutdown: CancellationToken) {
    loop {
        let first = tokio::select! {
            _ = shutdown.cancelled() => return,
            h = hints.recv() => match h { Some(h) => h, None => return },
        };
        let mut batch = vec![first];
        let deadline = tokio::time::Instant::now() + GATHER;
        while let Ok(Some(h)) = tokio::time::timeout_at(deadline, hints.recv()).await {
            batch.push(h);
        }
        let plan = plan(&batch);
        let Some(tx) = state.sync_commands() else { continue };
        if !plan.contacts.is_empty() {
            let _ = tx.send(SyncCommand::Refetch(plan.contacts)).await;
        }
        if plan.poll {
            let _ = tx.send(SyncCommand::Now { full: false, done: None }).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_become_refetches_and_polls() {
        let hints = [
            Hint::Contact { id: "a".into() },
            Hint::Contact { id: "a".into() },
            Hint::Message { contact_id: "b".into(), conversation_id: None, message_id: None, inbound: true },
            Hint::Other { event: "InvoicePaid".into() },
        ];
        let p = plan(&hints);
        assert_eq!(p.contacts.into_iter().collect::<Vec<_>>(), ["a", "b"]);
        assert!(p.poll);
        assert_eq!(plan(&[Hint::Other { event: "x".into() }]), Plan::default());
    }
}
