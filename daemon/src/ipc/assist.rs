//! `Request::Assist`: a reply drafted to the lead's last message (the AI assist when it is on,
//! else the local rules) joins the follow-up engine's approval queue, checked now under the
//! template's rules; the preferences read come back with it.

use std::sync::Arc;

use leadline_shared::domain::{Direction, FollowUpItem, ItemState, Mode, StepAction};
use leadline_shared::protocol::{AssistReport, ErrorKind, Event, FollowUpView, RemoteError, Response};

use crate::assist::{self, Conversation};
use crate::state::State;
use crate::store::{Batch, StoreError};
use crate::sync::SyncCommand;

/// The messages the assist reads: the newest, enough for the thread of a reply.
const MESSAGES: usize = 20;

/// The workflow name a draft's item carries (no workflow plans it; opt-outs cancel it).
pub const WORKFLOW: &str = "assist";

fn internal(e: impl std::fmt::Display) -> RemoteError {
    RemoteError::new(ErrorKind::Internal, e.to_string())
}

/// Drafts a reply for `contact_id` and queues it for approval.
pub async fn assist(state: &Arc<State>, contact_id: String) -> Result<Response, RemoteError> {
    let engine = state.followups().cloned().ok_or_else(|| {
        RemoteError::new(
            ErrorKind::BadRequest,
            "drafts wait in the follow-up engine's approval queue, and it is not running in this daemon (set [followups] enabled = true with a GHL location)",
        )
    })?;
    let (db, id) = (state.db.clone(), contact_id.clone());
    let read = tokio::task::spawn_blocking(move || {
        Ok::<_, StoreError>((db.contact(&id)?, db.messages_for(&id, MESSAGES)?, db.score(&id)?))
    })
    .await
    .map_err(internal)?
    .map_err(internal)?;
    let (Some(contact), messages, score) = read else {
        return Err(RemoteError::new(
            ErrorKind::NotFound,
            format!("no lead with id {contact_id:?}; `leadline queue all --json` lists the ids"),
        ));
    };
    let conversation = Conversation {
        first_name: contact.first_name.clone(),
        agent_name: state.config.messages.agent_name.split_whitespace().next().map(str::to_owned),
        messages: messages
            .iter()
            .filter(|m| matches!(m.direction, Direction::Inbound | Direction::Outbound))
            .filter_map(|m| m.body.clone().filter(|b| !b.trim().is_empty()).map(|b| (m.direction, b)))
            .collect(),
    };
    let local = score.map(|s| s.qualification).unwrap_or_default();
    let assisted =
        assist::assist(&state.config.assist, |k| std::env::var(k).ok(), &conversation, local).await;

    let now = state.clock.now();
    let cfg = state.config.assist.clone();
    let source = assisted.source.clone();
    let draft = assisted.draft.clone();
    let view = {
        let state = state.clone();
        tokio::task::spawn_blocking(move || {
            let ctx = crate::followups::run::Context::load(&state.db).map_err(internal)?;
            let mut outcome: Result<FollowUpView, String> = Err("no lead".into());
            let applied = state
                .ingest()
                .update_followups(&contact_id, now, |record, contact, row| {
                    if let Some(o) = &record.opted_out {
                        outcome =
                            Err(format!("the lead opted out ({:?}): nothing may be sent to it", o.phrase));
                        return (Batch::new(), Vec::new());
                    }
                    // Checked now under the template's rules, so a draft that cannot go is told,
                    // not found at sending time.
                    let first_touch = row.first_outbound_at.is_none();
                    if let Err(why) = engine.renderer.render_edited(
                        &cfg.sms_template,
                        &draft,
                        &ctx.inputs(contact, row),
                        first_touch,
                    ) {
                        outcome = Err(format!("the draft cannot be sent as it is: {why}"));
                        return (Batch::new(), Vec::new());
                    }
                    let n = record.items.iter().filter(|i| i.workflow == WORKFLOW).count() + 1;
                    let action = StepAction::SendSms { template: cfg.sms_template.clone() };
                    let id = format!("{contact_id}/{WORKFLOW}/{n}");
                    let mut item =
                        FollowUpItem::new(id, contact_id.clone(), WORKFLOW.into(), 0, action, now, now);
                    item.edited = Some(draft.clone());
                    item.timezone = contact.timezone.clone();
                    if cfg.send_without_approval {
                        item.reason = Some(format!(
                            "drafted by {source}; sent without approval ([assist] send_without_approval)"
                        ));
                    } else {
                        item.mode = Mode::Approval;
                        item.state = ItemState::AwaitingApproval;
                        item.reason = Some(format!("drafted by {source}: approve, edit or skip it"));
                    }
                    outcome = Ok(FollowUpView { item: item.clone(), lead_name: row.name.clone() });
                    record.items.push(item);
                    (Batch::new(), Vec::new())
                })
                .map_err(internal)?;
            if applied.is_none() {
                return Err(RemoteError::new(ErrorKind::NotFound, format!("no lead {contact_id:?}")));
            }
            outcome.map_err(|why| RemoteError::new(ErrorKind::BadRequest, why))
        })
        .await
        .map_err(internal)??
    };
    state.db.flush().await.map_err(internal)?;
    state.publish(Event::LeadsChanged { ids: vec![view.item.contact_id.clone()] });
    if let Some(tx) = state.sync_commands() {
        let _ = tx.try_send(SyncCommand::FollowUps);
    }
    Ok(Response::Assisted(Box::new(AssistReport {
        draft: view,
        preferences: assisted.preferences,
        source: assisted.source,
        fallback_reason: assisted.fallback_reason,
    })))
}
