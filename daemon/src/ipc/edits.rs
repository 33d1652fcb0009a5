//! Local edits: validated, applied to the local view and queued for GHL in one transaction,
//! flushed before they are acknowledged.

use leadline_shared::domain::{ItemState, OpKind, OpState, PendingOp};
use leadline_shared::protocol::{ErrorKind, Event, RemoteError};

use crate::state::State;
use crate::store::{Batch, StoreError};
use crate::sync::SyncCommand;

fn bad(message: impl Into<String>) -> RemoteError {
    RemoteError::new(ErrorKind::BadRequest, message)
}

fn internal(e: impl std::fmt::Display) -> RemoteError {
    RemoteError::new(ErrorKind::Internal, e.to_string())
}

/// The longest text GHL's carriers take (10 segments of 160).
pub const MAX_SMS_CHARS: usize = 1_600;

/// Checks an edit's own fields.
pub fn validate(op: &OpKind) -> Result<(), RemoteError> {
    let blank = |s: &str| s.trim().is_empty();
    match op {
        OpKind::AddTag { tag } | OpKind::RemoveTag { tag } if blank(tag) => Err(bad("a tag cannot be empty")),
        OpKind::AddNote { body } if blank(body) => Err(bad("a note needs some text")),
        OpKind::AddTask { title, .. } if blank(title) => Err(bad("a task needs a title")),
        OpKind::EnrollWorkflow { workflow_id } if blank(workflow_id) => {
            Err(bad("a workflow id is needed: its id in GHL, or a name from [ghl.workflows] in the config"))
        }
        OpKind::Assign { user_id } if blank(user_id) => {
            Err(bad("assign to which user? the user id is empty"))
        }
        OpKind::SendMessage { channel, .. } if !matches!(channel.as_str(), "sms" | "email") => {
            Err(bad(format!("cannot send on {channel:?}: use sms or email")))
        }
        OpKind::SendMessage { body, .. } if blank(body) => Err(bad("a message needs some text")),
        OpKind::SendMessage { channel, subject, .. }
            if channel == "email" && subject.as_deref().is_none_or(blank) =>
        {
            Err(bad("an email needs a subject: give one (--subject in `leadline send`)"))
        }
        OpKind::SendMessage { channel, body, .. }
            if channel == "sms" && body.chars().count() > MAX_SMS_CHARS =>
        {
            Err(bad(format!(
                "a text is at most {MAX_SMS_CHARS} characters and this one has {}: shorten it, or send an email",
                body.chars().count()
            )))
        }
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
pub async fn edit(state: &State, contact_id: &str, mut op: OpKind) -> Result<u64, RemoteError> {
    validate(&op)?;
    // A workflow may be named as the config names it; GHL wants its id.
    if let OpKind::EnrollWorkflow { workflow_id } = &mut op
        && let Some(id) = workflow_by_name(&state.config.ghl.workflows, workflow_id)
    {
        *workflow_id = id;
    }
    let deal = match &op {
        OpKind::SetStage { opportunity_id, .. } | OpKind::SetStatus { opportunity_id, .. } => {
            Some(opportunity_id.clone())
        }
        _ => None,
    };
    let ingest = state.ingest();
    let now = state.clock.now();
    let id = contact_id.to_owned();
    let (db, engine) = (state.db.clone(), state.followups().cloned());
    let applied = tokio::task::spawn_blocking(move || {
        // A message typed to a lead that may not have it is refused here, with why; the sender
        // checks again when it sends.
        if let OpKind::SendMessage { channel, .. } = &op {
            super::compose::refuse_blocked(&db, engine.as_deref(), &id, channel, now)?;
        }
        ingest.edit(&id, op, now).map_err(internal)
    })
    .await
    .map_err(internal)??
    .ok_or_else(|| match deal {
        Some(deal) => RemoteError::new(ErrorKind::NotFound, format!("lead {contact_id} has no deal {deal}")),
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

/// The id of the workflow the config names `name` (ignoring case and surrounding space).
fn workflow_by_name(workflows: &std::collections::BTreeMap<String, String>, name: &str) -> Option<String> {
    let name = name.trim();
    workflows.iter().find(|(n, _)| n.trim().eq_ignore_ascii_case(name)).map(|(_, id)| id.clone())
}

/// Moves the lead's open deal to the stage named `stage` (see [`crate::engine::stage_move`]):
/// an edit like [`edit`] once the deal and the stage are found.
pub async fn move_deal(state: &State, contact_id: &str, stage: &str) -> Result<u64, RemoteError> {
    let (db, id) = (state.db.clone(), contact_id.to_owned());
    let (deals, pipelines) = tokio::task::spawn_blocking(move || {
        Ok::<_, StoreError>((db.opportunities_for(&id)?, db.pipelines()?))
    })
    .await
    .map_err(internal)?
    .map_err(internal)?;
    let (opportunity_id, pipeline_stage_id) =
        crate::engine::stage_move::resolve(&deals, &pipelines, stage)
            .map_err(|e| RemoteError::new(ErrorKind::BadRequest, e.to_string()))?;
    edit(state, contact_id, OpKind::SetStage { opportunity_id, pipeline_stage_id }).await
}

/// Puts a failed or out-of-sync op back in the queue. An op push has completed meanwhile is
/// not brought back: the agent is told it went through.
pub async fn retry(state: &State, seq: u64) -> Result<(), RemoteError> {
    let db = state.db.clone();
    let (changed, resent) = tokio::task::spawn_blocking(move || {
        let mut resent = false;
        let changed = db.change_op(seq, |op| {
            if op.state == OpState::Uncertain {
                // The agent has looked at GHL and sends it again, knowingly.
                crate::sync::send::resend(op);
                resent = true;
            }
            op.state = OpState::Pending;
            op.conflicts = 0;
        });
        changed.map(|changed| (changed, resent))
    })
    .await
    .map_err(internal)?
    .map_err(internal)?;
    if let Some(op) = changed.as_ref().filter(|_| resent) {
        requeue_item(state, op).await?;
    }
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

/// The follow-up an uncertain send carries goes back to queued, so the agent's screens show
/// it on its way again rather than still uncertain. Its own write after the op's: the sender
/// takes the op whether the item says queued or uncertain, and an item the sender has moved on
/// meanwhile is left as it is.
async fn requeue_item(state: &State, op: &PendingOp) -> Result<(), RemoteError> {
    let Some(item_id) = op.followup.clone() else {
        return Ok(());
    };
    let ingest = state.ingest();
    let now = state.clock.now();
    let contact = op.contact_id.clone();
    tokio::task::spawn_blocking(move || {
        ingest.update_followups(&contact, now, |record, _, _| {
            if let Some(item) = record.item_mut(&item_id).filter(|i| i.state == ItemState::Uncertain) {
                item.state = ItemState::Queued;
                item.reason = Some("sent again by the agent".into());
                item.updated_at = now;
            }
            (Batch::new(), Vec::new())
        })
    })
    .await
    .map_err(internal)?
    .map_err(internal)?;
    state.publish(Event::LeadsChanged { ids: vec![op.contact_id.clone()] });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::sync::Arc;

    use jiff::Timestamp;
    use leadline_shared::domain::{Contact, FollowUpItem, FollowUps, Mode, StepAction};
    use leadline_shared::protocol::{FollowUpFilter, Response};

    use crate::ingest::Page;
    use crate::store::NewOp;

    fn queued(id: &str, at: Timestamp) -> FollowUpItem {
        FollowUpItem {
            id: id.into(),
            contact_id: "c1".into(),
            workflow: "nurture".into(),
            step: 1,
            action: StepAction::SendSms { template: "nurture_day1".into() },
            due_at: at,
            at,
            timezone: None,
            mode: Mode::Auto,
            state: ItemState::Queued,
            reason: None,
            template_version: None,
            body: Some("Hi".into()),
            edited: None,
            subject: None,
            op_seq: None,
            message_id: None,
            created_at: at,
            updated_at: at,
            confirmation: false,
        }
    }

    /// A daemon's state over a store in memory, its clock stopped at `now`.
    fn state_at(now: Timestamp) -> Arc<State> {
        State::in_memory(now)
    }

    fn item(state: &State, id: &str) -> FollowUpItem {
        let record = state.db.follow_up("c1").expect("read").expect("record");
        record.item(id).expect("item").clone()
    }

    async fn listed(state: &Arc<State>, states: Vec<ItemState>) -> Vec<FollowUpItem> {
        let filter = FollowUpFilter { states, ..FollowUpFilter::default() };
        match crate::ipc::followups::list(state, filter).await.expect("list") {
            Response::FollowUps(views) => views.into_iter().map(|v| v.item).collect(),
            other => panic!("{other:?}"),
        }
    }

    /// The engine queues a send with its op, the send ends uncertain, and the agent sends it
    /// again from the dashboard: by the op's number, which the item names.
    #[tokio::test]
    async fn an_uncertain_send_is_sent_again_by_the_op_its_item_names() {
        let now: Timestamp = "2025-06-02T15:00:00Z".parse().expect("ts");
        let state = state_at(now);
        let ingest = state.ingest();
        ingest
            .apply(Page::Contacts(vec![Contact { id: "c1".into(), ..Contact::default() }]), now)
            .expect("lead");
        // As the engine does: the item and the op that carries it, in one write.
        let applied = ingest
            .update_followups("c1", now, |record: &mut FollowUps, _, _| {
                record.items.push(queued("c1/nurture/1", now));
                let mut batch = Batch::new();
                batch.ops.push(NewOp {
                    contact_id: "c1".into(),
                    kind: OpKind::SendMessage { channel: "sms".into(), body: "Hi".into(), subject: None },
                    followup: Some("c1/nurture/1".into()),
                });
                (batch, Vec::new())
            })
            .expect("queue")
            .expect("the lead exists");
        let seq = applied.op_seqs[0];
        assert_eq!(item(&state, "c1/nurture/1").op_seq, Some(seq));

        // The send could not be made sure of.
        state.db.change_op(seq, |op| op.state = OpState::Uncertain).expect("op").expect("there");
        ingest
            .update_followups("c1", now, |record, _, _| {
                let i = record.item_mut("c1/nurture/1").expect("item");
                i.state = ItemState::Uncertain;
                i.reason = Some("GHL did not answer".into());
                (Batch::new(), Vec::new())
            })
            .expect("write");
        let uncertain = listed(&state, vec![ItemState::Uncertain]).await;
        assert_eq!(uncertain[0].op_seq, Some(seq), "the dashboard learns the op from the list");

        let mut events = state.subscribe();
        retry(&state, seq).await.expect("sent again");
        let op = state.db.pending_ops().expect("ops").into_iter().find(|o| o.seq == seq).expect("op");
        assert_eq!((op.state, op.attempt), (OpState::Pending, None));
        let again = item(&state, "c1/nurture/1");
        assert_eq!(again.state, ItemState::Queued);
        assert_eq!(again.reason.as_deref(), Some("sent again by the agent"));
        assert_eq!(events.try_recv().ok(), Some(Event::LeadsChanged { ids: vec!["c1".into()] }));
    }

    /// An item queued before the store linked it to its op gets the op's number in the list.
    #[tokio::test]
    async fn the_list_names_the_op_of_an_item_queued_before_the_link() {
        let now: Timestamp = "2025-06-02T15:00:00Z".parse().expect("ts");
        let state = state_at(now);
        let mut record = FollowUps::new("c1");
        record.items.push(queued("c1/nurture/1", now));
        let mut batch = Batch::new();
        batch.put(crate::store::Put::FollowUps(record));
        state.db.commit(&batch).expect("item");
        let mut batch = Batch::new();
        batch.ops.push(NewOp {
            contact_id: "c1".into(),
            kind: OpKind::SendMessage { channel: "sms".into(), body: "Hi".into(), subject: None },
            followup: Some("c1/nurture/1".into()),
        });
        let seq = state.db.commit(&batch).expect("op")[0];
        assert_eq!(item(&state, "c1/nurture/1").op_seq, None, "written apart, as before");
        assert_eq!(listed(&state, vec![ItemState::Queued]).await[0].op_seq, Some(seq));

        // What went lately, newest first when asked so (with a limit: the latest ones).
        let mut record = state.db.follow_up("c1").expect("read").expect("record");
        for (id, hours_ago) in [("c1/nurture/2", 5), ("c1/nurture/3", 1), ("c1/nurture/4", 3)] {
            let mut sent = queued(id, now - jiff::SignedDuration::from_hours(24));
            sent.state = ItemState::Sent;
            sent.updated_at = now - jiff::SignedDuration::from_hours(hours_ago);
            record.items.push(sent);
        }
        state.db.commit(Batch::new().put(crate::store::Put::FollowUps(record))).expect("sent");
        let filter = FollowUpFilter {
            states: vec![ItemState::Sent],
            limit: 2,
            latest_first: true,
            ..FollowUpFilter::default()
        };
        let Response::FollowUps(latest) = crate::ipc::followups::list(&state, filter).await.expect("list")
        else {
            panic!("a list");
        };
        let ids: Vec<&str> = latest.iter().map(|v| v.item.id.as_str()).collect();
        assert_eq!(ids, ["c1/nurture/3", "c1/nurture/4"]);
    }

    /// A typed message to a lead that may not have it is refused before it is queued, with
    /// why; one that may is queued like any edit.
    #[tokio::test]
    async fn a_typed_message_to_a_dnd_lead_is_refused_before_it_is_queued() {
        let now: Timestamp = "2025-06-02T15:00:00Z".parse().expect("ts");
        let state = state_at(now);
        let mut dnd = Contact { id: "c1".into(), phone: Some("+13125550142".into()), ..Contact::default() };
        dnd.dnd_settings.insert(
            "SMS".into(),
            leadline_shared::domain::DndSetting { status: "active".into(), ..Default::default() },
        );
        let open = Contact {
            id: "c2".into(),
            phone: Some("+13125550143".into()),
            email: Some("c2@example.com".into()),
            ..Contact::default()
        };
        state.ingest().apply(Page::Contacts(vec![dnd, open]), now).expect("leads");
        let text =
            |body: &str| OpKind::SendMessage { channel: "sms".into(), body: body.into(), subject: None };

        let refused = edit(&state, "c1", text("Hi")).await.expect_err("DND");
        assert_eq!(refused.kind, ErrorKind::BadRequest);
        assert!(refused.message.starts_with("not sent: SMS DND in GHL"), "{}", refused.message);
        assert!(state.db.pending_ops().expect("ops").is_empty(), "nothing queued");

        let seq = edit(&state, "c2", text("Hi, still looking?")).await.expect("queued");
        let ops = state.db.pending_ops().expect("ops");
        assert_eq!((ops.len(), ops[0].seq), (1, seq));

        let no_subject = OpKind::SendMessage { channel: "email".into(), body: "Hi".into(), subject: None };
        assert!(edit(&state, "c2", no_subject).await.expect_err("subject").message.contains("subject"));
        assert!(edit(&state, "c2", text(&"a".repeat(MAX_SMS_CHARS + 1))).await.is_err());
    }

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
