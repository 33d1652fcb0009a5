//! Carrying out due actions: the walk over the `due` index, one lead at a time, each lead's
//! record read and written under the store's writer lock with the ops it queues.
//!
//! For each action due now the pure rules decide ([`decide`]); here the answer is carried out:
//! a send is rendered and queued in the op log (sync sends it, exactly once), a tag, task,
//! stage or assignment becomes an op, a notify step an alert, a deferral moves the action, a
//! skip is written down with its reason. Then the lead's next steps are planned.

use jiff::Timestamp;
use leadline_shared::domain::{
    AuditEvent, Contact, FollowUps, ItemState, LeadSummary, OpKind, Opportunity, OpportunityStatus, Pipeline,
    StepAction, User,
};

use super::{Engine, MergeInputs};
use crate::engine::followup::decide::{Decision, decide};
use crate::engine::followup::plan::{Alert, plan_next};
use crate::engine::followup::queued_until;
use crate::ingest::{Ingest, IngestError, META_CUSTOM_FIELDS};
use crate::store::{Batch, Db, LeadOrder, NewOp, Put};

/// What one run did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Ran {
    /// Sends rendered and queued for GHL.
    pub queued: usize,
    /// Other actions handed to GHL or the agent.
    pub done: usize,
    pub deferred: usize,
    pub skipped: usize,
    /// Leads whose rows changed.
    pub changed: Vec<String>,
    pub alerts: Vec<Alert>,
}

/// The leads with an action to carry out at or before `now`, soonest first (at most
/// `limit`). The `due` index also holds leads whose due action waits for the agent's approval
/// (the agent's `due` queue shows them); they are passed over here, not counted, so that many
/// unapproved actions never hold back the ones that may go.
pub fn due_leads(db: &Db, now: Timestamp, limit: usize) -> Result<Vec<String>, crate::store::StoreError> {
    let mut ids = Vec::new();
    let mut failed = None;
    db.leads_by(LeadOrder::DueSoonest, &mut |lead| {
        if ids.len() >= limit || lead.next_followup_at.is_none_or(|t| t > now) {
            return std::ops::ControlFlow::Break(());
        }
        match db.follow_up(&lead.id) {
            Ok(Some(r)) if r.items.iter().any(|i| i.state == ItemState::Scheduled && i.at <= now) => {
                ids.push(lead.id);
            }
            Ok(_) => {}
            Err(e) => {
                failed = Some(e);
                return std::ops::ControlFlow::Break(());
            }
        }
        std::ops::ControlFlow::Continue(())
    })?;
    match failed {
        Some(e) => Err(e),
        None => Ok(ids),
    }
}

/// What the actions of a run may need besides the lead itself.
pub(crate) struct Context {
    users: Vec<User>,
    defs: Vec<leadline_shared::domain::CustomFieldDef>,
    pipelines: Vec<Pipeline>,
}

impl Context {
    pub(crate) fn load(db: &Db) -> Result<Context, crate::store::StoreError> {
        Ok(Context {
            users: db.users()?,
            defs: db.meta(META_CUSTOM_FIELDS)?.unwrap_or_default(),
            pipelines: db.pipelines()?,
        })
    }

    fn agent_of(&self, contact: &Contact) -> Option<&User> {
        let id = contact.assigned_to.as_deref()?;
        self.users.iter().find(|u| u.id == id)
    }

    /// The merge inputs for one lead.
    pub(crate) fn inputs<'a>(&'a self, contact: &'a Contact, row: &'a LeadSummary) -> MergeInputs<'a> {
        MergeInputs { contact, row, defs: &self.defs, agent: self.agent_of(contact) }
    }
}

/// Carries out every action due at `now` (blocking: run it on a blocking thread). Each lead is
/// one transaction: its record, its ops and its row.
pub fn run_due(
    db: &Db,
    ingest: &Ingest,
    engine: &Engine,
    now: Timestamp,
    limit: usize,
) -> Result<Ran, IngestError> {
    let ids = due_leads(db, now, limit)?;
    if ids.is_empty() {
        return Ok(Ran::default());
    }
    let ctx = Context::load(db)?;
    let mut ran = Ran::default();
    for id in ids {
        let deals = db.opportunities_for(&id)?;
        let messages = db.messages_for(&id, 50)?;
        let applied = ingest.update_followups(&id, now, |record, contact, row| {
            let mut batch = Batch::new();
            let mut alerts = Vec::new();
            let recent = super::recent_sends(Some(record), &messages, now);
            carry_out(
                record,
                contact,
                row,
                &deals,
                &recent,
                &ctx,
                engine,
                now,
                &mut batch,
                &mut alerts,
                &mut ran,
            );
            plan_next(record, &engine.workflows, contact, engine.time.as_ref(), now);
            (batch, alerts)
        })?;
        if let Some(applied) = applied {
            ran.changed.extend(applied.changed);
            ran.alerts.extend(applied.alerts);
        }
    }
    Ok(ran)
}

#[allow(clippy::too_many_arguments)]
fn carry_out(
    record: &mut FollowUps,
    contact: &Contact,
    row: &LeadSummary,
    deals: &[Opportunity],
    recent: &[crate::engine::followup::decide::Sent],
    ctx: &Context,
    engine: &Engine,
    now: Timestamp,
    batch: &mut Batch,
    alerts: &mut Vec<Alert>,
    ran: &mut Ran,
) {
    let inputs = ctx.inputs(contact, row);
    let due: Vec<String> = record
        .items
        .iter()
        .filter(|i| i.state == ItemState::Scheduled && i.at <= now)
        .map(|i| i.id.clone())
        .collect();
    for item_id in due {
        let Some(item) = record.item(&item_id).cloned() else { continue };
        let decision = decide(&item, record, contact, &engine.workflows, engine.gates.as_ref(), recent, now);
        let audit = |batch: &mut Batch, line: String| {
            batch.put(Put::Audit(AuditEvent {
                at: Some(now),
                actor: "engine".into(),
                action: "followup".into(),
                contact_id: Some(contact.id.clone()),
                detail: format!("{item_id}: {line}"),
            }));
        };
        let outcome: Result<(ItemState, Option<String>), String> = match decision {
            Decision::Wait => continue,
            Decision::Defer { until, reason } => {
                if let Some(i) = record.item_mut(&item_id) {
                    i.at = until;
                    i.reason = Some(format!("{}: {reason}", queued_until(until, i.timezone.as_deref())));
                    i.updated_at = now;
                }
                ran.deferred += 1;
                continue;
            }
            Decision::Skip { reason } => Err(reason),
            Decision::Send => {
                let (channel, template) = match (item.action.channel(), item.action.template()) {
                    (Some(c), Some(t)) => (c, t.to_owned()),
                    _ => continue,
                };
                // An opt-out's confirmation answers the lead's own STOP: it introduces nobody
                // and offers no opt-out, even to a lead never written to before.
                let first_touch = row.first_outbound_at.is_none() && !item.confirmation;
                let rendered = match &item.edited {
                    Some(text) => engine.renderer.render_edited(&template, text, &inputs, first_touch),
                    None => engine.renderer.render(&template, &inputs, first_touch),
                };
                match rendered {
                    Ok(r) => {
                        batch.ops.push(NewOp {
                            contact_id: contact.id.clone(),
                            kind: OpKind::SendMessage {
                                channel: channel.into(),
                                body: r.body.clone(),
                                subject: r.subject.clone(),
                            },
                            followup: Some(item_id.clone()),
                        });
                        if let Some(i) = record.item_mut(&item_id) {
                            i.body = Some(r.body);
                            i.subject = r.subject;
                            i.template_version = Some(r.version);
                        }
                        ran.queued += 1;
                        audit(batch, format!("queued an {channel} from template {template}"));
                        Ok((ItemState::Queued, None))
                    }
                    Err(reason) => Err(format!("not rendered: {reason}")),
                }
            }
            Decision::Execute => match execute(&item.action, contact, deals, ctx, engine, &inputs, now) {
                Ok(Done::Op(kind)) => {
                    batch.ops.push(NewOp {
                        contact_id: contact.id.clone(),
                        kind,
                        followup: Some(item_id.clone()),
                    });
                    ran.done += 1;
                    Ok((ItemState::Done, None))
                }
                Ok(Done::Alert(alert)) => {
                    alerts.push(alert);
                    ran.done += 1;
                    Ok((ItemState::Done, None))
                }
                Err(reason) => Err(reason),
            },
        };
        let (state, reason) = match outcome {
            Ok(done) => done,
            Err(reason) => {
                ran.skipped += 1;
                audit(batch, format!("skipped: {reason}"));
                (ItemState::Skipped, Some(reason))
            }
        };
        if item.confirmation && contact.channel_allowed("SMS") {
            // After the confirmation, never before it: GHL refuses a text to a lead with DND on.
            batch.ops.push(NewOp {
                contact_id: contact.id.clone(),
                kind: OpKind::SetDnd { channel: "SMS".into(), on: true },
                followup: None,
            });
        }
        if let Some(i) = record.item_mut(&item_id) {
            i.state = state;
            i.reason = reason;
            i.updated_at = now;
        }
    }
}

/// What a non-send action became.
enum Done {
    Op(OpKind),
    Alert(Alert),
}

fn execute(
    action: &StepAction,
    contact: &Contact,
    deals: &[Opportunity],
    ctx: &Context,
    engine: &Engine,
    inputs: &MergeInputs<'_>,
    now: Timestamp,
) -> Result<Done, String> {
    match action {
        StepAction::AddTag { tag } => Ok(Done::Op(OpKind::AddTag { tag: tag.clone() })),
        StepAction::RemoveTag { tag } => Ok(Done::Op(OpKind::RemoveTag { tag: tag.clone() })),
        StepAction::CreateTask { title, due_in_hours } => Ok(Done::Op(OpKind::AddTask {
            title: engine.renderer.merge(title, inputs),
            due_at: now + jiff::SignedDuration::from_hours(i64::from(*due_in_hours)),
        })),
        StepAction::Assign { user } if user.trim().is_empty() => {
            Err("the step assigns to nobody: give a GHL user id in the workflow".into())
        }
        StepAction::Assign { user } => Ok(Done::Op(OpKind::Assign { user_id: user.clone() })),
        StepAction::MoveStage { stage } => {
            let deal = deals
                .iter()
                .filter(|d| d.status == OpportunityStatus::Open)
                .max_by_key(|d| d.updated_at.or(d.created_at))
                .ok_or_else(|| "the lead has no open deal to move".to_owned())?;
            let pipeline = ctx.pipelines.iter().find(|p| p.id == deal.pipeline_id);
            let target = pipeline
                .and_then(|p| p.stages.iter().find(|s| s.name.eq_ignore_ascii_case(stage)))
                .ok_or_else(|| format!("the deal's pipeline has no stage named {stage:?}"))?;
            Ok(Done::Op(OpKind::SetStage {
                opportunity_id: deal.id.clone(),
                pipeline_stage_id: target.id.clone(),
            }))
        }
        StepAction::Notify { message } => Ok(Done::Alert(Alert::Notify {
            contact_id: contact.id.clone(),
            text: engine.renderer.merge(message, inputs),
        })),
        StepAction::SendSms { .. } | StepAction::SendEmail { .. } => {
            Err("a send is not an action to execute (a bug: it should have been rendered)".into())
        }
    }
}

/// How long a new lead may wait for anyone to write before the agent is told.
pub const SPEED_TO_LEAD_ALERT: jiff::SignedDuration = jiff::SignedDuration::from_secs(5 * 60);

/// Alerts for new leads (of the last hour) that have waited more than 5 minutes with nobody
/// writing to them, once per lead: `told` remembers who was alerted.
pub fn speed_to_lead(
    db: &Db,
    now: Timestamp,
    told: &std::sync::Mutex<std::collections::HashSet<String>>,
) -> Result<Vec<Alert>, crate::store::StoreError> {
    let hour = now - jiff::SignedDuration::from_hours(1);
    let mut waiting = Vec::new();
    db.leads_by(LeadOrder::UncontactedNewest, &mut |lead| match lead.date_added {
        Some(added) if added >= hour => {
            if now.duration_since(added) >= SPEED_TO_LEAD_ALERT {
                waiting.push(lead);
            }
            std::ops::ControlFlow::Continue(())
        }
        _ => std::ops::ControlFlow::Break(()),
    })?;
    let mut told = told.lock().unwrap_or_else(|e| e.into_inner());
    Ok(waiting
        .into_iter()
        .filter(|l| told.insert(l.id.clone()))
        .map(|l| Alert::SpeedToLead {
            minutes: l.date_added.map_or(5, |a| (now.duration_since(a).as_secs() / 60) as u32),
            contact_id: l.id,
            name: l.name,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use leadline_shared::config::Config;
    use leadline_shared::domain::{FollowUpItem, StepAction};

    use super::*;
    use crate::ingest::Page;
    use crate::store::MemoryStore;

    #[test]
    fn actions_waiting_for_approval_never_hold_back_those_that_may_go() {
        let db = Db::open(Arc::new(MemoryStore::new())).expect("db");
        let ingest = Ingest::new(db.clone(), Config::default().scoring);
        let t = |h: i64| Timestamp::from_second(1_780_000_000 + h * 3600).expect("ts");
        let now = t(10);
        let mut contacts = Vec::new();
        for id in ["waits", "goes", "later"] {
            contacts.push(Contact { id: id.into(), first_name: Some(id.into()), ..Default::default() });
        }
        ingest.apply(Page::Contacts(contacts), now).expect("contacts");
        let plan = |id: &str, at: Timestamp, state: ItemState| {
            let action = StepAction::SendSms { template: "t".into() };
            let item = FollowUpItem::new(format!("{id}/w/0/0"), id.into(), "w".into(), 0, action, at, now);
            let item = FollowUpItem { state, ..item };
            ingest
                .update_followups(id, now, |r, _, _| {
                    r.items.push(item);
                    (Batch::new(), Vec::new())
                })
                .expect("planned")
                .expect("lead");
        };
        // The oldest due action waits for the agent; the next may go; the last is not due.
        plan("waits", t(7), ItemState::AwaitingApproval);
        plan("goes", t(8), ItemState::Scheduled);
        plan("later", t(12), ItemState::Scheduled);
        assert_eq!(due_leads(&db, now, 1).expect("walk"), ["goes"]);
        assert_eq!(due_leads(&db, now, 10).expect("walk"), ["goes"]);
        // The agent's `due` queue shows both that are due.
        let slice = crate::engine::queues::plan(
            &leadline_shared::protocol::QueueName::Due,
            now,
            &Config::default().queues,
        )
        .expect("plan");
        let due = db.slice_window(&slice, 0, 10, None).expect("queue").rows;
        assert_eq!(due.iter().map(|l| l.id.as_str()).collect::<Vec<_>>(), ["waits", "goes"]);
    }
}
