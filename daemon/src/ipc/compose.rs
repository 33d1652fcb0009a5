//! Compose: the look before the agent writes to a lead by hand (the lead's templates rendered
//! for it, what the gates say of a message sent now), and the check a typed message passes
//! before it is queued. The message itself is an edit (`OpKind::SendMessage`): the op log, the
//! sender and its gates, like every send.

use std::sync::Arc;

use jiff::Timestamp;
use leadline_shared::domain::{Contact, FollowUps, Hold, LeadSummary, Message};
use leadline_shared::protocol::{
    ChannelCheck, ComposeInfo, ErrorKind, RemoteError, Response, TemplateChoice,
};

use crate::engine::compose::{Verdict, hold_sentence, local_time};
use crate::followups::Engine;
use crate::followups::run::Context;
use crate::state::State;
use crate::store::Db;

fn internal(e: impl std::fmt::Display) -> RemoteError {
    RemoteError::new(ErrorKind::Internal, e.to_string())
}

fn no_lead(id: &str) -> RemoteError {
    RemoteError::new(
        ErrorKind::NotFound,
        format!("no lead with id {id:?}; `leadline queue all --json` lists the ids"),
    )
}

/// What the gates need of one lead, read together.
struct Lead {
    contact: Contact,
    row: LeadSummary,
    record: Option<FollowUps>,
    messages: Vec<Message>,
}

fn read_lead(db: &Db, id: &str) -> Result<Option<Lead>, RemoteError> {
    let (Some(contact), Some(row)) = (db.contact(id).map_err(internal)?, db.lead(id).map_err(internal)?)
    else {
        return Ok(None);
    };
    let record = db.follow_up(id).map_err(internal)?;
    let messages = db.messages_for(id, 50).map_err(internal)?;
    Ok(Some(Lead { contact, row, record, messages }))
}

fn check(engine: Option<&Engine>, lead: &Lead, channel: &str, now: Timestamp) -> (Verdict, Option<String>) {
    crate::followups::typed_send(engine, &lead.contact, lead.record.as_ref(), &lead.messages, channel, now)
}

/// `Request::Compose`.
pub async fn compose(state: &Arc<State>, contact_id: String) -> Result<Response, RemoteError> {
    let state = state.clone();
    let info = tokio::task::spawn_blocking(move || {
        let now = state.clock.now();
        let lead = read_lead(&state.db, &contact_id)?.ok_or_else(|| no_lead(&contact_id))?;
        let mut zone = None;
        let channels = ["sms", "email"]
            .into_iter()
            .map(|channel| {
                let (verdict, z) = check(state.followups().map(|e| e.as_ref()), &lead, channel, now);
                zone = z;
                let mut c = ChannelCheck { channel: channel.into(), ..ChannelCheck::default() };
                match verdict {
                    Verdict::Send => {}
                    Verdict::Refuse { reason } => c.blocked = Some(reason),
                    Verdict::Hold { until, reason } => {
                        let reason = hold_sentence(now, until, zone.as_deref(), &reason, channel);
                        c.hold = Some(Hold { until, reason });
                    }
                }
                c
            })
            .collect();
        let first_touch = lead.row.first_outbound_at.is_none();
        let templates = match state.followups() {
            Some(engine) => {
                let ctx = Context::load(&state.db).map_err(internal)?;
                let inputs = ctx.inputs(&lead.contact, &lead.row);
                engine
                    .renderer
                    .templates()
                    .into_iter()
                    .map(|t| {
                        let rendered = engine.renderer.render(&t.id, &inputs, first_touch);
                        let (subject, body, error) = match rendered {
                            Ok(r) => (r.subject, Some(r.body), None),
                            Err(e) => (None, None, Some(e)),
                        };
                        TemplateChoice {
                            id: t.id,
                            channel: t.channel.as_str().into(),
                            description: t.description,
                            subject,
                            body,
                            error,
                        }
                    })
                    .collect()
            }
            None => Vec::new(),
        };
        let messages = &state.config.messages;
        Ok::<_, RemoteError>(ComposeInfo {
            contact_id: lead.contact.id.clone(),
            lead_name: lead.row.name.clone(),
            phone: lead.contact.phone.clone(),
            email: lead.contact.email.clone(),
            local_time: local_time(now, zone.as_deref()),
            timezone: zone,
            now: Some(now),
            channels,
            templates,
            first_touch,
            sms_max_chars: u32::try_from(messages.sms_max_chars).unwrap_or(u32::MAX),
            sms_optout_text: messages.sms_optout_text.clone(),
        })
    })
    .await
    .map_err(internal)??;
    Ok(Response::Compose(Box::new(info)))
}

/// Refuses a typed message that may not go (DND, an opt-out, no address), before it is
/// queued: the agent hears why at once instead of finding a failed edit later. A message the
/// gates only hold (quiet hours) is queued and waits. The sender checks again when it sends.
/// Blocking: a store read.
pub fn refuse_blocked(
    db: &Db,
    engine: Option<&Engine>,
    contact_id: &str,
    channel: &str,
    now: Timestamp,
) -> Result<(), RemoteError> {
    // An unknown lead is the edit's own error to give.
    let Some(lead) = read_lead(db, contact_id)? else {
        return Ok(());
    };
    match check(engine, &lead, channel, now).0 {
        Verdict::Refuse { reason } => {
            tracing::info!(contact = %contact_id, %channel, %reason, "a typed message refused before it was queued");
            Err(RemoteError::new(ErrorKind::BadRequest, format!("not sent: {reason}")))
        }
        Verdict::Send | Verdict::Hold { .. } => Ok(()),
    }
}
