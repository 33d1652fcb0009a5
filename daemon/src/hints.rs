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

/// After a hint, how long a quiet spell must last before the batch is acted on: GHL sends an
/// event's companions (a new contact's deal, its first message) within milliseconds, so they
/// join the batch, while a lone new lead waits no longer than this.
const QUIET: Duration = Duration::from_millis(10);
/// The longest a batch gathers in a steady stream of hints: a burst still costs a few
/// requests, and its first lead waits no longer than this.
const GATHER: Duration = Duration::from_millis(200);

/// What a batch of hints asks for.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// Contacts to re-fetch.
    pub contacts: BTreeSet<String>,
    /// Whether a poll (new messages, changed contacts) is needed too.
    pub poll: bool,
}

/// The ids of the messages Leadline itself sent lately, as GHL named them in its answers. GHL
/// echoes each send back as an `OutboundMessage` event; that echo tells nothing new, so it
/// costs no request (the message reaches the store with the next poll).
#[derive(Debug, Default)]
pub struct OwnMessages {
    ids: std::sync::Mutex<std::collections::VecDeque<String>>,
}

impl OwnMessages {
    /// Enough for the echoes of every send of a busy minute.
    const KEEP: usize = 512;

    /// Remembers a message GHL accepted from us.
    pub fn insert(&self, id: &str) {
        let mut ids = self.ids.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if ids.len() == Self::KEEP {
            ids.pop_front();
        }
        ids.push_back(id.to_owned());
    }

    /// Whether `id` is one of ours.
    pub fn contains(&self, id: &str) -> bool {
        self.ids.lock().unwrap_or_else(std::sync::PoisonError::into_inner).iter().any(|m| m == id)
    }
}

/// Plans the work for a batch of hints (pure): `own` says whether a message id is one Leadline
/// sent, whose echo is passed over.
pub fn plan(hints: &[Hint], own: impl Fn(&str) -> bool) -> Plan {
    let mut plan = Plan::default();
    for hint in hints {
        if let Hint::Message { message_id: Some(id), inbound: false, .. } = hint
            && own(id)
        {
            continue;
        }
        if matches!(hint, Hint::Message { .. }) {
            plan.poll = true;
        }
        if let Some(id) = hint.contact_id() {
            plan.contacts.insert(id.to_owned());
        }
    }
    plan
}

/// The batch that starts with `first`: the hints that follow it with no quiet spell of
/// [`QUIET`] between them, for at most [`GATHER`].
async fn gather(first: Hint, hints: &mut mpsc::Receiver<Hint>) -> Vec<Hint> {
    let mut batch = vec![first];
    let deadline = tokio::time::Instant::now() + GATHER;
    loop {
        let quiet_until = (tokio::time::Instant::now() + QUIET).min(deadline);
        match tokio::time::timeout_at(quiet_until, hints.recv()).await {
            Ok(Some(h)) => batch.push(h),
            Ok(None) | Err(_) => return batch,
        }
    }
}

/// Forwards hints to the sync task until `shutdown`.
pub async fn forward(state: Arc<State>, mut hints: mpsc::Receiver<Hint>, shutdown: CancellationToken) {
    loop {
        let first = tokio::select! {
            _ = shutdown.cancelled() => return,
            h = hints.recv() => match h { Some(h) => h, None => return },
        };
        let batch = gather(first, &mut hints).await;
        let plan = plan(&batch, |id| state.own_messages.contains(id));
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

    fn contact(id: &str) -> Hint {
        Hint::Contact { id: id.into() }
    }

    #[tokio::test(start_paused = true)]
    async fn a_lone_hint_waits_only_for_a_quiet_spell() {
        let (_tx, mut rx) = mpsc::channel(8);
        let started = tokio::time::Instant::now();
        assert_eq!(gather(contact("a"), &mut rx).await, [contact("a")]);
        assert_eq!(started.elapsed(), QUIET);
    }

    #[tokio::test(start_paused = true)]
    async fn companions_join_the_batch_and_a_stream_is_cut_at_the_cap() {
        let (tx, mut rx) = mpsc::channel(1024);
        tokio::spawn(async move {
            for i in 0.. {
                tokio::time::sleep(QUIET / 2).await;
                if tx.send(contact(&format!("c{i}"))).await.is_err() {
                    return;
                }
            }
        });
        let started = tokio::time::Instant::now();
        let batch = gather(contact("first"), &mut rx).await;
        assert_eq!(started.elapsed(), GATHER);
        assert!(batch.len() > 30, "the stream's hints joined: {}", batch.len());
    }

    #[test]
    fn hints_become_refetches_and_polls() {
        let hints = [
            Hint::Contact { id: "a".into() },
            Hint::Contact { id: "a".into() },
            Hint::Message { contact_id: "b".into(), conversation_id: None, message_id: None, inbound: true },
            Hint::Other { event: "InvoicePaid".into() },
        ];
        let p = plan(&hints, |_| false);
        assert_eq!(p.contacts.into_iter().collect::<Vec<_>>(), ["a", "b"]);
        assert!(p.poll);
        assert_eq!(plan(&[Hint::Other { event: "x".into() }], |_| false), Plan::default());
    }

    #[test]
    fn the_echo_of_our_own_send_costs_nothing() {
        let message = |id: &str, inbound: bool| Hint::Message {
            contact_id: "c".into(),
            conversation_id: None,
            message_id: Some(id.into()),
            inbound,
        };
        let own = OwnMessages::default();
        own.insert("ours");
        let is_own = |id: &str| own.contains(id);
        assert_eq!(plan(&[message("ours", false)], is_own), Plan::default());
        // A reply, or a text the agent sent from their phone, is read as ever.
        assert!(plan(&[message("ours", true)], is_own).poll);
        assert!(plan(&[message("theirs", false)], is_own).poll);
    }

    #[test]
    fn own_messages_are_bounded() {
        let own = OwnMessages::default();
        for i in 0..OwnMessages::KEEP + 1 {
            own.insert(&format!("m{i}"));
        }
        assert!(!own.contains("m0"));
        assert!(own.contains("m1") && own.contains(&format!("m{}", OwnMessages::KEEP)));
    }
}
