//! The sender: one message op to GHL, exactly once (the rules are
//! [`crate::engine::followup::send`]).
//!
//! Before the request goes out, the gates are applied again (the lead may have opted out or
//! gone into quiet hours since the send was planned), and the attempt is written and flushed:
//! a crash at any later moment leaves an attempt to verify, never a blind resend. An outcome
//! that might have reached GHL is settled by reading the lead's conversation for the message.
//! Each outcome is written with the follow-up it carries out, in one transaction.

use jiff::Timestamp;
use leadline_shared::domain::{
    AuditEvent, Direction, FollowUps, Hold, ItemState, Message, OpKind, OpState, PendingOp,
};

use super::{SyncError, blocking};
use crate::engine::followup::plan::{Alert, is_confirmation_id};
use crate::engine::followup::send::{self as rules, Found, Next, Outcome};
use crate::ghl::{ExportStream, GhlClient, GhlError};
use crate::ingest::Page;
use crate::state::State;
use crate::store::{Batch, Put, Remove};

/// How a send ended this round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    /// GHL has it.
    Delivered,
    /// GHL refused it.
    Failed,
    /// Not sent; a fresh attempt later (GHL unreachable).
    Later,
    /// The outcome is being made sure of; looked at again next round.
    Verifying,
    /// Could not be made sure of: shown to the agent.
    Uncertain,
    /// Moved to a later time (quiet hours, a cap) or dropped (an opt-out): the op is gone.
    NotNow,
}

/// Classifies a failed send request.
fn outcome_of(e: &GhlError) -> Outcome {
    let reason = e.to_string();
    if e.is_permanent() {
        return Outcome::Refused { reason };
    }
    match e {
        // Refused before GHL ran anything: the connection, the rate limit, the breaker, the
        // token.
        GhlError::Connect(_)
        | GhlError::RateLimited { .. }
        | GhlError::CircuitOpen { .. }
        | GhlError::Unauthorized { .. }
        | GhlError::Forbidden { .. }
        | GhlError::NotConfigured(_)
        | GhlError::Config(_) => Outcome::NotSent { reason },
        _ => Outcome::Unknown { reason },
    }
}

fn normalized(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Reads the lead's conversation for the attempt's message.
async fn look_for(client: &GhlClient, op: &PendingOp) -> Found {
    let (OpKind::SendMessage { channel, body, .. }, Some(attempt)) = (&op.kind, &op.attempt) else {
        return Found::Absent;
    };
    let stream = if channel == "email" { ExportStream::Emails } else { ExportStream::Messages };
    // A little before the attempt, for clocks that disagree.
    let since = attempt.started_at - jiff::SignedDuration::from_secs(120);
    match client.recent_messages(&op.contact_id, stream, since, 100).await {
        Ok(messages) => {
            let want = normalized(body);
            match messages.iter().find(|m| {
                m.direction == Direction::Outbound && m.body.as_deref().is_some_and(|b| normalized(b) == want)
            }) {
                Some(m) => Found::Present { message_id: m.id.clone() },
                None => Found::Absent,
            }
        }
        Err(e) => Found::Unreadable { reason: e.to_string() },
    }
}

/// What to do with the follow-up item when an op moves on.
enum ItemChange {
    None,
    Sent { message_id: String },
    State { state: ItemState, reason: Option<String> },
    Back { at: Timestamp, reason: String },
}

/// Writes the op's new state (or its removal) with the follow-up item's, in one transaction.
async fn settle(
    state: &State,
    op: PendingOp,
    remove: bool,
    change: ItemChange,
    audit: Option<String>,
) -> Result<(), SyncError> {
    let now = state.clock.now();
    let mut extra = Batch::new();
    if remove {
        extra.remove(Remove::PendingOp(op.seq));
    } else {
        extra.put(Put::Op(op.clone()));
    }
    if let Some(detail) = audit {
        extra.put(Put::Audit(AuditEvent {
            at: Some(now),
            actor: "sync".into(),
            action: "send".into(),
            contact_id: Some(op.contact_id.clone()),
            detail,
        }));
    }
    let ingest = state.ingest();
    let db = state.db.clone();
    let item = op.followup.clone();
    let contact = op.contact_id.clone();
    let contact_id = contact.clone();
    blocking(move || {
        let Some(item_id) = item else {
            return db.commit(&extra).map(drop);
        };
        let done = ingest.update_followups(&contact, now, |record: &mut FollowUps, _, _| {
            if let Some(i) = record.item_mut(&item_id) {
                match change {
                    ItemChange::None => {}
                    ItemChange::Sent { message_id } => {
                        i.state = ItemState::Sent;
                        i.message_id = Some(message_id);
                        i.reason = None;
                        i.updated_at = now;
                        let channel = if i.action.channel() == Some("email") { "email" } else { "sms" };
                        record
                            .recent_sends
                            .push(leadline_shared::domain::RecentSend { at: now, channel: channel.into() });
                        let week = now - jiff::SignedDuration::from_hours(24 * 7);
                        record.recent_sends.retain(|s| s.at >= week);
                    }
                    ItemChange::State { state, reason } => {
                        i.state = state;
                        i.reason = reason;
                        i.updated_at = now;
                    }
                    ItemChange::Back { at, reason } => {
                        i.state = ItemState::Scheduled;
                        i.at = at;
                        i.reason = Some(format!(
                            "{}: {reason}",
                            crate::engine::followup::queued_until(at, i.timezone.as_deref())
                        ));
                        i.body = None;
                        i.subject = None;
                        i.updated_at = now;
                    }
                }
            }
            (extra.clone(), Vec::new())
        });
        match done {
            Ok(Some(_)) => Ok(()),
            // The lead is gone: the op goes with it.
            Ok(None) => db.commit(&extra).map(drop),
            Err(e) => Err(store_error(e)),
        }
    })
    .await?;
    state.db.flush().await?;
    // The dashboard follows a send it made (queued, held, sent, refused) by its lead.
    state.publish(leadline_shared::protocol::Event::LeadsChanged { ids: vec![contact_id] });
    Ok(())
}

/// An ingest failure as the store failure it is at bottom (what `blocking` carries).
fn store_error(e: crate::ingest::IngestError) -> crate::store::StoreError {
    match e {
        crate::ingest::IngestError::Store(s) => s,
        other => crate::store::StoreError::Backend(other.to_string()),
    }
}

/// The message GHL accepted, as its listing will show it (the conversation and GHL's exact
/// time come with the next poll, which writes GHL's copy over this one).
fn sent_message(state: &State, op: &PendingOp, message_id: &str) -> Option<Message> {
    let OpKind::SendMessage { channel, body, .. } = &op.kind else {
        return None;
    };
    Some(Message {
        id: message_id.to_owned(),
        message_type: Some(if channel == "email" { "TYPE_EMAIL" } else { "TYPE_SMS" }.into()),
        location_id: state.config.ghl.location_id.clone(),
        contact_id: op.contact_id.clone(),
        date_added: Some(state.clock.now()),
        body: Some(body.clone()),
        direction: Direction::Outbound,
        status: Some("sent".into()),
        ..Default::default()
    })
}

/// Writes a message GHL just accepted into the store, so the lead's timeline and queues show
/// it at once: GHL's echo of it costs no request ([`crate::hints::OwnMessages`]), so without
/// this the store would learn of it only at the next poll.
async fn record_sent(state: &State, message: Message) -> Result<(), SyncError> {
    let ingest = state.ingest();
    let now = state.clock.now();
    let changed =
        blocking(move || ingest.apply(Page::Messages(vec![message]), now).map_err(store_error)).await?;
    state.db.flush().await?;
    if !changed.is_empty() {
        state.publish(leadline_shared::protocol::Event::LeadsChanged { ids: changed });
    }
    Ok(())
}

/// Sends (or verifies) one message op.
pub async fn send(state: &State, client: &GhlClient, mut op: PendingOp) -> Result<Sent, SyncError> {
    let engine = state.followups().cloned();
    let now = state.clock.now();
    let next = match rules::on_push(&op) {
        Next::Verify => {
            // An attempt from before (a crash, a lost answer): looked up, never sent blind.
            tracing::info!(seq = op.seq, contact = %op.contact_id, "verifying a send whose outcome is not known yet");
            Next::Verify
        }
        _ => {
            // The gates again, at the moment of sending.
            if let Some(stop) = gate(state, &op, now).await? {
                return stop_here(state, op, stop).await;
            }
            let attempt = format!("{:016x}", rand::random::<u64>());
            tracing::info!(seq = op.seq, contact = %op.contact_id, %attempt, "sending a message");
            op.held = None;
            rules::begin(&mut op, attempt, now);
            settle(
                state,
                op.clone(),
                false,
                ItemChange::State { state: ItemState::Sending, reason: None },
                None,
            )
            .await?;
            let OpKind::SendMessage { channel, body, subject } = &op.kind else {
                return Ok(Sent::Failed);
            };
            let result = client.send_message(&op.contact_id, channel, body, subject.as_deref()).await;
            let outcome = match result {
                Ok(sent) => Outcome::Accepted { message_id: sent.message_id },
                Err(e) => outcome_of(&e),
            };
            rules::after_request(&mut op, outcome, state.clock.now())
        }
    };
    let next = match next {
        Next::Verify => {
            let found = look_for(client, &op).await;
            let (settle_after, give_up) = engine
                .as_ref()
                .map_or((rules::DEFAULT_SETTLE, rules::DEFAULT_GIVE_UP), |e| (e.settle, e.give_up));
            rules::after_verify(&mut op, found, state.clock.now(), settle_after, give_up)
        }
        other => other,
    };
    match next {
        Next::Sent { message_id } => {
            tracing::info!(seq = op.seq, contact = %op.contact_id, %message_id, "GHL has the message");
            state.own_messages.insert(&message_id);
            if let (Some(engine), OpKind::SendMessage { channel, .. }) = (&engine, &op.kind) {
                engine.gates.sent(channel, state.clock.now());
            }
            let detail = format!("sent; GHL message {message_id}");
            let message = sent_message(state, &op, &message_id);
            settle(state, op, true, ItemChange::Sent { message_id }, Some(detail)).await?;
            if let Some(message) = message
                && let Err(e) = record_sent(state, message).await
            {
                // The send stands; the next poll brings GHL's copy of the message.
                tracing::warn!(error = %e, "could not write a sent message to the store yet");
            }
            Ok(Sent::Delivered)
        }
        Next::Failed { reason } if op.followup.as_deref().is_some_and(is_confirmation_id) => {
            // Most often GHL set DND itself on a STOP word, and the carrier's own reply confirms
            // the opt-out; either way the opt-out holds, so there is nothing for the agent to do.
            let reason = format!("GHL refused the opt-out confirmation ({reason}); the opt-out holds");
            settle(
                state,
                op,
                true,
                ItemChange::State { state: ItemState::Skipped, reason: Some(reason.clone()) },
                Some(format!("not sent: {reason}")),
            )
            .await?;
            Ok(Sent::NotNow)
        }
        Next::Failed { reason } => {
            tracing::warn!(seq = op.seq, contact = %op.contact_id, %reason, "GHL refused a message");
            alert(state, &op, &reason, false);
            settle(
                state,
                op,
                false,
                ItemChange::State { state: ItemState::Failed, reason: Some(reason.clone()) },
                Some(format!("failed: {reason}")),
            )
            .await?;
            Ok(Sent::Failed)
        }
        Next::Later { reason } => {
            settle(
                state,
                op,
                false,
                ItemChange::State { state: ItemState::Queued, reason: Some(reason) },
                None,
            )
            .await?;
            Ok(Sent::Later)
        }
        Next::VerifyLater | Next::Verify => {
            settle(state, op, false, ItemChange::None, None).await?;
            Ok(Sent::Verifying)
        }
        Next::Uncertain { reason } => {
            tracing::warn!(seq = op.seq, contact = %op.contact_id, %reason, "a send is uncertain; the agent decides");
            alert(state, &op, &reason, true);
            settle(
                state,
                op,
                false,
                ItemChange::State { state: ItemState::Uncertain, reason: Some(reason.clone()) },
                Some(format!("uncertain: {reason}")),
            )
            .await?;
            Ok(Sent::Uncertain)
        }
        Next::Begin => Ok(Sent::Later),
    }
}

fn alert(state: &State, op: &PendingOp, reason: &str, uncertain: bool) {
    if let Some(engine) = state.followups() {
        let what = if uncertain { "may not have been sent" } else { "was not sent" };
        engine.alert(&[Alert::SendProblem {
            contact_id: op.contact_id.clone(),
            text: format!("A message to a lead {what}: {reason}"),
        }]);
    }
}

/// Why a send must not go now.
enum Stop {
    /// Moved to `at`.
    Defer { at: Timestamp, reason: String },
    /// Dropped.
    Skip { reason: String },
    /// Its follow-up was cancelled since it was queued.
    Cancelled,
}

async fn stop_here(state: &State, op: PendingOp, stop: Stop) -> Result<Sent, SyncError> {
    match (stop, op.followup.is_some()) {
        (Stop::Defer { at, reason }, false) => {
            // The agent's own message stays queued and goes once the gates open; the hold is
            // written on it (once, not at every round) so the dashboard can say until when.
            let held = Hold { until: at, reason };
            if op.held.as_ref() != Some(&held) {
                tracing::info!(seq = op.seq, contact = %op.contact_id, reason = %held.reason, "the agent's message is held back");
                let audit = format!("held back: {}", held.reason);
                let mut op = op;
                op.held = Some(held);
                settle(state, op, false, ItemChange::None, Some(audit)).await?;
            }
            Ok(Sent::NotNow)
        }
        (Stop::Defer { at, reason }, true) => {
            settle(
                state,
                op,
                true,
                ItemChange::Back { at, reason: reason.clone() },
                Some(format!("held back: {reason}")),
            )
            .await?;
            Ok(Sent::NotNow)
        }
        (Stop::Skip { reason }, true) => {
            settle(
                state,
                op,
                true,
                ItemChange::State { state: ItemState::Skipped, reason: Some(reason.clone()) },
                Some(format!("not sent: {reason}")),
            )
            .await?;
            Ok(Sent::NotNow)
        }
        (Stop::Skip { reason }, false) => {
            // The agent's own message: kept as failed with the reason, for the agent to see.
            let mut op = op;
            op.state = OpState::Failed;
            op.last_error = Some(format!("not sent: {reason}"));
            op.held = None;
            settle(state, op, false, ItemChange::None, Some(format!("not sent: {reason}"))).await?;
            Ok(Sent::Failed)
        }
        (Stop::Cancelled, _) => {
            settle(state, op, true, ItemChange::None, Some("not sent: its follow-up was cancelled".into()))
                .await?;
            Ok(Sent::NotNow)
        }
    }
}

/// The gates at the moment of sending: the follow-up still wanted, no opt-out, DND, quiet
/// hours and caps. `None`: send.
async fn gate(state: &State, op: &PendingOp, now: Timestamp) -> Result<Option<Stop>, SyncError> {
    let OpKind::SendMessage { channel, .. } = &op.kind else {
        return Ok(None);
    };
    let db = state.db.clone();
    let id = op.contact_id.clone();
    let (contact, record, messages) =
        blocking(move || Ok((db.contact(&id)?, db.follow_up(&id)?, db.messages_for(&id, 50)?))).await?;
    let Some(contact) = contact else {
        return Ok(Some(Stop::Skip { reason: "the lead is no longer in GHL".into() }));
    };
    let item = match (&op.followup, &record) {
        (Some(item_id), Some(r)) => match r.item(item_id) {
            // Failed or uncertain: the agent retried it.
            Some(i)
                if matches!(
                    i.state,
                    ItemState::Queued | ItemState::Sending | ItemState::Failed | ItemState::Uncertain
                ) =>
            {
                Some(i.clone())
            }
            _ => return Ok(Some(Stop::Cancelled)),
        },
        (Some(_), None) => return Ok(Some(Stop::Cancelled)),
        (None, _) => None,
    };
    if item.is_none() {
        // The agent's own message: the rules Compose showed and the edit checked, again now.
        let (verdict, zone) = crate::followups::typed_send(
            state.followups().map(|e| e.as_ref()),
            &contact,
            record.as_ref(),
            &messages,
            channel,
            now,
        );
        return Ok(match verdict {
            crate::engine::compose::Verdict::Send => None,
            crate::engine::compose::Verdict::Refuse { reason } => Some(Stop::Skip { reason }),
            crate::engine::compose::Verdict::Hold { until, reason } => Some(Stop::Defer {
                at: until,
                reason: format!(
                    "{}: {reason}",
                    crate::engine::followup::queued_until(until, zone.as_deref())
                ),
            }),
        });
    }
    if item.as_ref().is_some_and(|i| i.confirmation) {
        // GHL sets SMS DND itself on a carrier STOP word, and the carrier confirms it.
        return Ok((!contact.channel_allowed("SMS")).then(|| Stop::Skip {
            reason: "GHL set SMS DND itself on this STOP; the carrier's own reply confirms it".into(),
        }));
    }
    if let Some(o) = record.as_ref().and_then(|r| r.opted_out.as_ref()) {
        return Ok(Some(Stop::Skip { reason: format!("the lead opted out ({:?})", o.phrase) }));
    }
    let ghl_channel = if channel == "email" { "Email" } else { "SMS" };
    if !contact.channel_allowed(ghl_channel) {
        return Ok(Some(Stop::Skip { reason: format!("{ghl_channel} DND is on in GHL") }));
    }
    if let Some(engine) = state.followups() {
        let recent = crate::followups::recent_sends(record.as_ref(), &messages, now);
        match engine.gates.check(&contact, channel, true, &recent, now) {
            Ok(()) => {}
            Err((Some(at), reason)) => return Ok(Some(Stop::Defer { at, reason })),
            Err((None, reason)) => return Ok(Some(Stop::Skip { reason })),
        }
    }
    Ok(None)
}

/// Sends an uncertain message again, at the agent's word (the agent has checked GHL).
pub fn resend(op: &mut PendingOp) {
    rules::resend(op);
}

/// Whether `op` is handled here.
pub fn is_send(op: &PendingOp) -> bool {
    rules::is_send(op) && op.state == OpState::Pending
}
