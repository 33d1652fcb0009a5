//! Two-way sync with one GHL location.
//!
//! One task owns it ([`run`]): a full sync at start (resuming an unfinished one), then the fast
//! poll (a push of pending edits, then changed contacts and new messages) every
//! `sync.fast_poll_secs`, deals and reference data every `sync.interval_secs`, stretched for
//! big pipelines (see [`budget`]), and a listing of every contact to reconcile deletions on
//! `sync.reconcile_cron` (see [`schedule`], [`reconcile`]). Commands ([`SyncCommand`]) and
//! webhook hints wake it early. Failures are recorded in the sync status and retried on the
//! next tick; the GHL client's circuit breaker keeps an outage from turning into a retry storm.

pub mod budget;
mod chain;
pub mod conflict;
pub mod cursors;
mod export;
pub mod full;
pub mod health;
pub mod pull;
pub mod push;
pub mod reconcile;
pub mod schedule;
pub mod send;
pub mod skipped;
pub mod windows;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use leadline_shared::protocol::{Event, SyncState};
use tokio::sync::{mpsc, oneshot};
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

use crate::ghl::{GhlClient, GhlError};
use crate::ingest::IngestError;
use crate::state::State;
use crate::store::StoreError;

/// Why a sync step failed.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Ghl(#[from] GhlError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error("sync failed: {0}")]
    Internal(String),
}

/// Runs store work on the blocking pool. The store's writes wait for each other (one writer
/// at a time, and a page holds the writer lock while it is derived and committed), and sled's
/// reads wait while a batch is being applied: on an async worker, either would stall every
/// task that worker serves, the socket's included, for as long as a big page takes.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, SyncError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| SyncError::Internal(format!("a store task failed unexpectedly: {e}")))?
        .map_err(SyncError::from)
}

/// Asks the sync task to do something now.
#[derive(Debug)]
pub enum SyncCommand {
    /// Sync now; `done` hears the outcome.
    Now { full: bool, done: Option<oneshot::Sender<Result<(), String>>> },
    /// Push pending edits now (a new edit was made).
    Push,
    /// Re-fetch these contacts (webhook hints), their tasks too.
    Refetch(BTreeSet<String>),
    /// Fetch these contacts' tasks (a lead opened in the dashboard).
    Tasks(BTreeSet<String>),
    /// List every contact and remove those GHL no longer has (the nightly schedule).
    Reconcile,
    /// Carry out the follow-up actions due now (the engine's tick).
    FollowUps,
}

/// Runs sync until `shutdown`.
pub async fn run(
    state: Arc<State>,
    client: GhlClient,
    mut commands: mpsc::Receiver<SyncCommand>,
    shutdown: CancellationToken,
) {
    let fast = Duration::from_secs(state.config.sync.fast_poll_secs.max(1));
    let slow = Duration::from_secs(state.config.sync.interval_secs.max(1));
    let mut fast_tick = tokio::time::interval_at(tokio::time::Instant::now() + fast, fast);
    let mut slow_tick = tokio::time::interval_at(tokio::time::Instant::now() + slow, slow);
    fast_tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
    slow_tick.set_missed_tick_behavior(MissedTickBehavior::Skip);

    let first = tokio::select! {
        _ = shutdown.cancelled() => return,
        r = step(&state, &client, Step::Full) => r,
    };
    if let Err(e) = first {
        tracing::warn!(error = %e, "the first full sync failed; it resumes on the next tick");
    }
    let mut next_deals = tokio::time::Instant::now();
    loop {
        let outcome = tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = fast_tick.tick() => step(&state, &client, Step::Fast).await,
            _ = slow_tick.tick() => {
                if tokio::time::Instant::now() < next_deals {
                    continue;
                }
                let r = step(&state, &client, Step::Deals).await;
                // A failed pass is tried again on the next tick, not a stretched interval later.
                if r.is_ok() {
                    next_deals = tokio::time::Instant::now() + deals_every(&state, &client, slow);
                }
                r
            }
            cmd = commands.recv() => match cmd {
                None => return,
                Some(SyncCommand::Now { full, done }) => {
                    let r = step(&state, &client, if full { Step::Full } else { Step::Fast }).await;
                    if let Some(done) = done {
                        let _ = done.send(r.as_ref().map(drop).map_err(|e| e.to_string()));
                    }
                    r
                }
                Some(SyncCommand::Push) => step(&state, &client, Step::Push).await,
                Some(SyncCommand::Refetch(ids)) => step(&state, &client, Step::Refetch(ids)).await,
                Some(SyncCommand::Tasks(ids)) => tasks_step(&state, &client, &ids).await,
                Some(SyncCommand::Reconcile) => step(&state, &client, Step::Reconcile).await,
                Some(SyncCommand::FollowUps) => {
                    follow_up(&state, &client).await.map(drop)
                }
            },
        };
        if let Err(e) = outcome {
            tracing::warn!(error = %e, "sync step failed; retrying on the next tick");
        }
    }
}

/// When the next deal re-listing may run: see [`budget`].
fn deals_every(state: &State, client: &GhlClient, configured: Duration) -> Duration {
    // A point read on the async worker: the sync task is between steps, so no page of its own
    // is being applied; the only batch it could wait for is an edit's, which is small.
    let deals = state.db.counts().map(|c| c.opportunities).unwrap_or(0);
    let daily = client.budget().map(|b| b.daily_max).filter(|d| *d > 0).unwrap_or(budget::GHL_DAILY_BUDGET);
    let cost = budget::deals_pass_requests(deals, pull::OPPORTUNITY_PAGE);
    let every = budget::deals_interval(configured, cost, daily, budget::DEALS_SHARE);
    if every > configured {
        tracing::info!(
            deals,
            requests_per_pass = cost,
            every_secs = every.as_secs(),
            "deals are re-listed less often, to stay within their share of the daily request budget"
        );
    }
    every
}

enum Step {
    Full,
    Fast,
    Deals,
    Push,
    Refetch(BTreeSet<String>),
    Reconcile,
}

/// Carries out the follow-up actions due now and pushes what they queued. It works from the
/// store alone, so it runs even when GHL is away (the sends then wait in the op log). Returns
/// the leads whose rows changed.
async fn follow_up(state: &State, client: &GhlClient) -> Result<Vec<String>, SyncError> {
    let Some(engine) = state.followups().cloned() else {
        return Ok(Vec::new());
    };
    let (db, ingest, now) = (state.db.clone(), state.ingest(), state.clock.now());
    let (ran, waiting) = tokio::task::spawn_blocking(move || {
        let ran = crate::followups::run::run_due(&db, &ingest, &engine, now, 500)?;
        let waiting = crate::followups::run::speed_to_lead(&db, now, &engine.told_speed_to_lead)?;
        Ok::<_, SyncError>((ran, waiting))
    })
    .await
    .map_err(|e| SyncError::Internal(format!("carrying out follow-ups failed unexpectedly: {e}")))??;
    state.db.flush().await?;
    if let Some(engine) = state.followups() {
        engine.alert(&ran.alerts);
        engine.alert(&waiting);
    }
    if ran.queued + ran.done > 0 {
        tracing::info!(
            queued = ran.queued,
            done = ran.done,
            deferred = ran.deferred,
            skipped = ran.skipped,
            "follow-ups carried out"
        );
        push::push(state, client).await?;
    }
    if !ran.changed.is_empty() {
        state.publish(Event::LeadsChanged { ids: ran.changed.clone() });
    }
    Ok(ran.changed)
}

impl Step {
    /// The phase's name in `status` and on the System screen.
    fn phase(&self) -> &'static str {
        match self {
            Step::Full => "full",
            Step::Fast => "poll",
            Step::Deals => "deals",
            Step::Push => "push",
            Step::Refetch(_) => "refetch",
            Step::Reconcile => "reconcile",
        }
    }
}

/// Fetches a few leads' tasks (see [`pull::tasks_of`]) and tells the dashboard of those that
/// changed.
async fn tasks_step(state: &State, client: &GhlClient, ids: &BTreeSet<String>) -> Result<(), SyncError> {
    let changed = pull::tasks_of(state, client, ids).await?;
    if !changed.is_empty() {
        state.publish(Event::LeadsChanged { ids: changed });
    }
    Ok(())
}

async fn step(state: &State, client: &GhlClient, step: Step) -> Result<(), SyncError> {
    let phase = step.phase();
    let started = state.clock.now();
    state.set_sync_status(|s| {
        s.state = SyncState::Syncing;
        health::phase_started(s, phase, started);
    });
    let result = async {
        let mut changed = pull::ChangedLeads::default();
        let mut refetch = BTreeSet::new();
        let poll = matches!(step, Step::Fast);
        match step {
            Step::Full => changed.absorb(full::full(state, client).await?.changed_leads),
            Step::Deals => changed.absorb(pull::deals(state, client).await?.changed_leads),
            Step::Reconcile => changed.absorb(pull::reconcile_contacts(state, client).await?.changed_leads),
            Step::Refetch(ids) => refetch = ids,
            Step::Fast | Step::Push => {}
        }
        // Local edits go out before the poll, so the poll already sees them in GHL.
        let pushed = push::push(state, client).await?;
        refetch.extend(pushed.refetch);
        if poll {
            changed.absorb(pull::incremental(state, client).await?.changed_leads);
        }
        // Tasks are listed one contact per request: fetched only for the few leads that just
        // changed (webhook hints, a quiet poll), never for a whole sync's worth.
        let mut task_ids: BTreeSet<String> = refetch.clone();
        if let Some(few) = changed.few(pull::MAX_TASK_FETCH) {
            task_ids.extend(few.iter().cloned());
        }
        if !refetch.is_empty() {
            changed.absorb(pull::contacts_by_id(state, client, &refetch).await?.changed_leads);
        }
        if !task_ids.is_empty() {
            changed.extend(pull::tasks_of(state, client, &task_ids).await?);
        }
        Ok::<_, SyncError>(changed)
    }
    .await;
    // What the pull brought may be due at once (a new lead's instant response): the engine
    // runs after every step, whether or not GHL answered.
    let result = match (result, follow_up(state, client).await) {
        (Ok(mut changed), Ok(more)) => {
            changed.extend(more);
            Ok(changed)
        }
        (Err(e), Err(f)) => {
            tracing::warn!(error = %f, "carrying out follow-ups failed");
            Err(e)
        }
        (Ok(_), Err(f)) => Err(f),
        (Err(e), Ok(_)) => Err(e),
    };
    let budget = client.budget();
    // A point read on the async worker, between steps (see `deals_every`).
    let skipped = state
        .db
        .meta::<skipped::SkippedRecords>(skipped::META_SKIPPED)
        .ok()
        .flatten()
        .map_or(0, |r| r.len() as u64);
    match &result {
        Ok(changed) => {
            let now = state.clock.now();
            state.set_sync_status(|s| {
                s.state = SyncState::Idle;
                s.skipped_records = skipped;
                s.last_success = Some(now);
                s.last_error = None;
                s.progress = None;
                s.rate_limit = budget.clone().or(s.rate_limit.take());
                health::step_ended(s, phase, Ok(()), now);
            });
            if !changed.is_empty() {
                state.publish(Event::LeadsChanged { ids: changed.clone().into_event_ids() });
            }
        }
        Err(e) => {
            let offline = matches!(e, SyncError::Ghl(g) if g.is_retryable());
            let message = e.to_string();
            let failure = health::classify(e);
            let now = state.clock.now();
            state.set_sync_status(|s| {
                health::step_ended(s, phase, Err((failure, message.clone())), now);
                s.state = if offline { SyncState::Offline } else { SyncState::Error };
                s.skipped_records = skipped;
                s.last_error = Some(message);
                s.progress = None;
                s.rate_limit = budget.clone().or(s.rate_limit.take());
            });
        }
    }
    result.map(drop)
}
