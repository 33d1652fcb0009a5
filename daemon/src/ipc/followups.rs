//! The follow-up requests: the list and approval queue, approve, skip, pause, resume and the
//! simulated plan. Store work runs on the blocking pool; changes go through
//! [`crate::ingest::Ingest::update_followups`], under the writer lock, with the lead's row.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use leadline_shared::domain::{Contact, FollowUpItem, FollowUps, ItemState, LeadSummary};
use leadline_shared::protocol::{ErrorKind, FollowUpFilter, FollowUpView, RemoteError, Response, Simulation};

use crate::engine::followup::plan;
use crate::engine::followup::simulate::simulate;
use crate::state::State;
use crate::store::Batch;
use crate::sync::SyncCommand;

fn internal(e: impl std::fmt::Display) -> RemoteError {
    RemoteError::new(ErrorKind::Internal, e.to_string())
}

fn no_engine() -> RemoteError {
    RemoteError::new(
        ErrorKind::BadRequest,
        "the follow-up engine is not running in this daemon (no GHL location is configured, or it serves a frozen data set)",
    )
}

async fn blocking<T: Send + 'static>(
    state: &Arc<State>,
    f: impl FnOnce(&State) -> Result<T, RemoteError> + Send + 'static,
) -> Result<T, RemoteError> {
    let state = state.clone();
    tokio::task::spawn_blocking(move || f(&state)).await.map_err(internal)?
}

/// The states listed when none are asked for: what is still to happen or needs the agent.
const OPEN: [ItemState; 6] = [
    ItemState::AwaitingApproval,
    ItemState::Scheduled,
    ItemState::Queued,
    ItemState::Sending,
    ItemState::Failed,
    ItemState::Uncertain,
];

/// `followups list`.
pub async fn list(state: &Arc<State>, filter: FollowUpFilter) -> Result<Response, RemoteError> {
    blocking(state, move |state| {
        let records: Vec<FollowUps> = match &filter.contact_id {
            Some(id) => state.db.follow_up(id).map_err(internal)?.into_iter().collect(),
            None => state.db.all_follow_ups().map_err(internal)?,
        };
        let states: &[ItemState] = if filter.states.is_empty() { &OPEN } else { &filter.states };
        let mut out = Vec::new();
        for r in records {
            let name = state.db.lead(&r.contact_id).map_err(internal)?.map(|l| l.name).unwrap_or_default();
            for item in r.items.into_iter().filter(|i| states.contains(&i.state)) {
                out.push(FollowUpView { item, lead_name: name.clone() });
            }
        }
        link_ops(state, &mut out)?;
        if filter.latest_first {
            out.sort_by(|a, b| (b.item.updated_at, &a.item.id).cmp(&(a.item.updated_at, &b.item.id)));
        } else {
            out.sort_by(|a, b| (a.item.at, &a.item.id).cmp(&(b.item.at, &b.item.id)));
        }
        if filter.limit > 0 {
            out.truncate(filter.limit as usize);
        }
        Ok(Response::FollowUps(out))
    })
    .await
}

/// Fills in the op that carries an item to GHL where the record does not name it (items
/// queued before the store linked them): the agent's "send again" of an uncertain message is a
/// retry of that op, so the dashboard needs its number.
fn link_ops(state: &State, views: &mut [FollowUpView]) -> Result<(), RemoteError> {
    let carried = |s: ItemState| {
        matches!(s, ItemState::Queued | ItemState::Sending | ItemState::Failed | ItemState::Uncertain)
    };
    if !views.iter().any(|v| v.item.op_seq.is_none() && carried(v.item.state)) {
        return Ok(());
    }
    let ops = state.db.pending_ops().map_err(internal)?;
    for view in views.iter_mut().filter(|v| v.item.op_seq.is_none() && carried(v.item.state)) {
        view.item.op_seq =
            ops.iter().find(|o| o.followup.as_deref() == Some(view.item.id.as_str())).map(|o| o.seq);
    }
    Ok(())
}

/// The lead an item id belongs to (`contact/workflow/...`).
fn lead_of(id: &str) -> Result<String, RemoteError> {
    id.split('/').next().filter(|c| !c.is_empty()).map(str::to_owned).ok_or_else(|| {
        RemoteError::new(
            ErrorKind::BadRequest,
            format!("{id:?} is not a follow-up id; `leadline followups list` shows them"),
        )
    })
}

/// What a change to one item sees: the item, and the lead it belongs to.
type Change = dyn FnOnce(&mut FollowUpItem, &Contact, &LeadSummary, Timestamp) -> Result<(), String> + Send;

/// Changes one item (approve or skip) and wakes the engine.
async fn change_item(state: &Arc<State>, id: String, change: Box<Change>) -> Result<Response, RemoteError> {
    state.followups().ok_or_else(no_engine)?;
    let contact = lead_of(&id)?;
    let now = state.clock.now();
    let view = blocking(state, move |state| {
        let mut outcome: Result<Option<FollowUpView>, String> = Ok(None);
        let applied = state
            .ingest()
            .update_followups(&contact, now, |record, c, row| {
                outcome = match record.item_mut(&id) {
                    None => Ok(None),
                    Some(item) => change(item, c, row, now)
                        .map(|()| Some(FollowUpView { item: item.clone(), lead_name: row.name.clone() })),
                };
                (Batch::new(), Vec::new())
            })
            .map_err(internal)?;
        if applied.is_none() {
            return Err(RemoteError::new(ErrorKind::NotFound, format!("no lead {contact:?}")));
        }
        match outcome {
            Ok(Some(view)) => Ok(view),
            Ok(None) => Err(RemoteError::new(
                ErrorKind::NotFound,
                format!("no follow-up {id:?}; `leadline followups list` shows them"),
            )),
            Err(why) => Err(RemoteError::new(ErrorKind::BadRequest, why)),
        }
    })
    .await?;
    state.db.flush().await.map_err(internal)?;
    state.publish(leadline_shared::protocol::Event::LeadsChanged { ids: vec![view.item.contact_id.clone()] });
    if let Some(tx) = state.sync_commands() {
        let _ = tx.try_send(SyncCommand::FollowUps);
    }
    Ok(Response::FollowUp(Box::new(view)))
}

/// `followups approve ID [--text TEXT]`: the action goes when due (at once if it is
/// overdue); a send with the agent's text, when given, which must render under the template's
/// rules now (so a mistake is told to the agent, not found at sending time).
pub async fn approve(state: &Arc<State>, id: String, text: Option<String>) -> Result<Response, RemoteError> {
    let engine = state.followups().cloned().ok_or_else(no_engine)?;
    let ctx = match &text {
        Some(_) => {
            let db = state.db.clone();
            Some(blocking(state, move |_| crate::followups::run::Context::load(&db).map_err(internal)).await?)
        }
        None => None,
    };
    let change = move |item: &mut FollowUpItem, contact: &Contact, row: &LeadSummary, now: Timestamp| {
        if item.state != ItemState::AwaitingApproval {
            return Err(format!("it is {}, not waiting for approval", item.state));
        }
        if let (Some(text), Some(ctx)) = (text, ctx) {
            let template = item
                .action
                .template()
                .ok_or_else(|| "only a send has a text to edit; approve it without one".to_owned())?;
            let first_touch = row.first_outbound_at.is_none();
            engine.renderer.render_edited(template, &text, &ctx.inputs(contact, row), first_touch)?;
            item.edited = Some(text);
        }
        item.state = ItemState::Scheduled;
        item.reason = Some(
            if item.edited.is_some() {
                "approved by the agent, with the agent's text"
            } else {
                "approved by the agent"
            }
            .into(),
        );
        item.updated_at = now;
        Ok(())
    };
    change_item(state, id, Box::new(change)).await
}

/// `followups skip ID`: the action is dropped, with the agent as the reason.
pub async fn skip(state: &Arc<State>, id: String) -> Result<Response, RemoteError> {
    change_item(
        state,
        id,
        Box::new(|item: &mut FollowUpItem, _: &Contact, _: &LeadSummary, now| {
            if item.state.is_open() {
                item.state = ItemState::Skipped;
                item.reason = Some("skipped by the agent".into());
                item.updated_at = now;
                Ok(())
            } else {
                Err(format!("it is {}, nothing left to skip", item.state))
            }
        }),
    )
    .await
}

/// `followups pause|resume LEAD`.
pub async fn pause(state: &Arc<State>, contact: String, on: bool) -> Result<Response, RemoteError> {
    let engine = state.followups().cloned().ok_or_else(no_engine)?;
    let now = state.clock.now();
    let id = contact.clone();
    let found = blocking(state, move |state| {
        state
            .ingest()
            .update_followups(&id, now, |record, c, _| {
                if on {
                    plan::pause(record, now);
                } else {
                    plan::resume(record, &engine.workflows, c, engine.time.as_ref(), now);
                }
                (Batch::new(), Vec::new())
            })
            .map_err(internal)
    })
    .await?;
    if found.is_none() {
        return Err(RemoteError::new(ErrorKind::NotFound, format!("no lead with id {contact:?}")));
    }
    state.db.flush().await.map_err(internal)?;
    state.publish(leadline_shared::protocol::Event::LeadsChanged { ids: vec![contact] });
    Ok(Response::Done)
}

/// `followups simulate`.
pub async fn simulate_plan(
    state: &Arc<State>,
    days: u32,
    from: Option<Timestamp>,
) -> Result<Response, RemoteError> {
    if !(1..=366).contains(&days) {
        return Err(RemoteError::new(
            ErrorKind::BadRequest,
            format!("--days {days}: simulate 1 to 366 days"),
        ));
    }
    let engine = state.followups().cloned().ok_or_else(no_engine)?;
    let from = from.unwrap_or_else(|| state.clock.now());
    blocking(state, move |state| {
        let mut leads = Vec::new();
        for record in state.db.all_follow_ups().map_err(internal)? {
            if let Some(contact) = state.db.contact(&record.contact_id).map_err(internal)? {
                leads.push((contact, record));
            }
        }
        let span = SignedDuration::from_hours(24 * i64::from(days));
        let plan =
            simulate(leads, &engine.workflows, engine.gates.as_ref(), engine.time.as_ref(), from, span);
        Ok(Response::Simulation(Box::new(Simulation {
            from: Some(from),
            until: Some(from + span),
            planned: plan.planned,
            skipped: plan.skipped,
        })))
    })
    .await
}
