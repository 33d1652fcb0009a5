//! Answers one request. Every store read runs on the blocking pool ([`read`]); edits and
//! retries are [`super::edits`], whose store work runs there too.

use std::sync::Arc;

use leadline_shared::domain::OpState;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use leadline_shared::protocol::{
    AnalyticsRange, ErrorKind, LeadDetail, MAX_LOG_BYTES, MAX_SYSTEM_OPS, MAX_SYSTEM_SKIPPED, ModelStatus,
    OpView, QueueCount, QueueName, QueuePage, RemoteError, Request, Response, SearchPage, SkippedView,
    StatusReport, StoreInfo, SystemReport,
};

use crate::engine;
use crate::engine::analytics::ReportInputs;
use crate::engine::queues::{self, QueueError};
use crate::state::State;
use crate::store::{CURRENT_SCHEMA, SliceWindow, StoreError};
use crate::sync::skipped::{META_SKIPPED, SkippedRecords};

/// The largest queue one request may ask for (it must fit in one frame).
pub const MAX_QUEUE_LIMIT: u32 = 5_000;
/// The most leads one search may ask for.
pub const MAX_SEARCH_LIMIT: u32 = 1_000;
/// Timeline entries returned with a lead.
const TIMELINE_LEN: usize = 100;

fn internal(e: StoreError) -> RemoteError {
    tracing::error!(error = %e, "store error while answering a request");
    RemoteError::new(ErrorKind::Internal, e.to_string())
}

/// Runs a store read on the blocking pool. sled's readers wait while a batch is being
/// applied (its concurrency control takes a write lock for the batch), so a read on an async
/// worker would stall it, and every connection it serves, for as long as a big page takes to
/// land; a queue of thousands of leads is itself a long read.
async fn read<T: Send + 'static>(
    state: &Arc<State>,
    f: impl FnOnce(&State) -> Result<T, RemoteError> + Send + 'static,
) -> Result<T, RemoteError> {
    let state = state.clone();
    tokio::task::spawn_blocking(move || f(&state)).await.map_err(|e| {
        RemoteError::new(ErrorKind::Internal, format!("a store read failed unexpectedly: {e}"))
    })?
}

/// Answers a request. `Subscribe` is handled by the connection.
pub async fn handle(state: &Arc<State>, request: Request) -> Result<Response, RemoteError> {
    match request {
        Request::Edit { contact_id, op } => {
            super::edits::edit(state, &contact_id, op).await.map(|seq| Response::Accepted { seq })
        }
        Request::MoveDeal { contact_id, stage } => {
            super::edits::move_deal(state, &contact_id, &stage).await.map(|seq| Response::Accepted { seq })
        }
        Request::Assist { contact_id } => super::assist::assist(state, contact_id).await,
        Request::RetryOp { seq } => {
            super::edits::retry(state, seq).await.map(|()| Response::Accepted { seq })
        }
        Request::SyncNow { wait, full } => sync_now(state, wait, full).await,
        Request::FollowUps { filter } => super::followups::list(state, filter).await,
        Request::ApproveFollowUp { id, body } => super::followups::approve(state, id, body).await,
        Request::SkipFollowUp { id } => super::followups::skip(state, id).await,
        Request::PauseLead { contact_id } => super::followups::pause(state, contact_id, true).await,
        Request::ResumeLead { contact_id } => super::followups::pause(state, contact_id, false).await,
        Request::SimulateFollowUps { days, from } => super::followups::simulate_plan(state, days, from).await,
        Request::Compose { contact_id } => super::compose::compose(state, contact_id).await,
        Request::Analytics { range } => {
            let now = state.clock.now();
            read(state, move |state| analytics(state, range, now).map_err(internal)).await
        }
        Request::Search { query, limit } => search(state, query, limit).await,
        Request::System { limit } => {
            read(state, move |state| {
                system(state, limit).map(|r| Response::System(Box::new(r))).map_err(internal)
            })
            .await
        }
        Request::LogTail { lines } => log_tail(state, lines).await,
        Request::ModelStatus => {
            let training = state.training.try_lock().is_err();
            read(state, move |state| {
                crate::intel::status(&state.db, &state.config.scoring)
                    .and_then(|s| {
                        Ok(ModelStatus { training, rescoring: crate::intel::rescoring(&state.db)?, ..s })
                    })
                    .map(|s| Response::Model(Box::new(s)))
                    .map_err(internal)
            })
            .await
        }
        Request::TrainModel => crate::intel::retrain(state)
            .await
            .map(|s| Response::Model(Box::new(s)))
            .map_err(|e| RemoteError::new(ErrorKind::Internal, e.to_string())),
        Request::ImportListings { path, replace } => {
            super::intel::import_listings(state, path, replace).await
        }
        Request::Ping => Ok(Response::Pong),
        Request::Subscribe => Ok(Response::Subscribed),
        Request::Status => {
            read(state, |state| status(state).map(|s| Response::Status(Box::new(s))).map_err(internal)).await
        }
        Request::Queue { name, limit, offset, anchor } => {
            if limit > MAX_QUEUE_LIMIT {
                return Err(RemoteError::new(
                    ErrorKind::BadRequest,
                    format!("--limit {limit} is over the maximum of {MAX_QUEUE_LIMIT}; ask for fewer"),
                ));
            }
            let now = state.clock.now();
            read(state, move |state| {
                let anchor = anchor.as_ref().map(|a| (a.id.as_str(), a.before));
                let saved = match &name {
                    QueueName::Saved(n) => state.config.smart_lists().into_iter().find(|l| &l.name == n),
                    _ => None,
                };
                let window = match saved {
                    Some(list) => crate::smart_lists::window(
                        &state.db,
                        &state.smart_lists,
                        &list,
                        now,
                        offset,
                        limit as usize,
                        anchor,
                    )
                    .map_err(internal)?,
                    None => {
                        let slice = queues::plan(&name, now, &state.config.queues).map_err(|e| match e {
                            QueueError::UnknownList(..) => {
                                RemoteError::new(ErrorKind::NotFound, e.to_string())
                            }
                            QueueError::Store(e) => internal(e),
                        })?;
                        state.db.slice_window(&slice, offset, limit as usize, anchor).map_err(internal)?
                    }
                };
                let SliceWindow { total, offset, rows, anchor_at } = window;
                Ok(Response::Queue(Box::new(QueuePage { total, offset, rows, anchor_at })))
            })
            .await
        }
        Request::Tasks { limit } => super::tasks::list(state, limit).await,
        Request::Lead { id } => {
            // GHL's tasks of a lead are not in the regular sync (one request per contact):
            // opening the lead fetches them, at most once every few minutes per lead.
            super::tasks::fetch_on_open(state, &id);
            read(state, move |state| match lead(state, &id).map_err(internal)? {
                Some(detail) => Ok(Response::Lead(Box::new(detail))),
                None => Err(RemoteError::new(
                    ErrorKind::NotFound,
                    format!("no lead with id {id:?}; `leadline queue all --json` lists the ids"),
                )),
            })
            .await
        }
    }
}

/// The leads that match a query, from the search index the store keeps at write time (no
/// walk of the leads); only the rows returned are read.
async fn search(state: &Arc<State>, query: String, limit: u32) -> Result<Response, RemoteError> {
    if limit == 0 || limit > MAX_SEARCH_LIMIT {
        return Err(RemoteError::new(
            ErrorKind::BadRequest,
            format!(
                "--limit {limit} is not between 1 and {MAX_SEARCH_LIMIT}; ask for that many leads at most"
            ),
        ));
    }
    let terms = engine::search::query_terms(&query);
    if terms.is_empty() {
        return Err(RemoteError::new(
            ErrorKind::BadRequest,
            format!(
                "{query:?} has no letter or digit to search for; search by name, phone, email or tag (e.g. `leadline search maria` or `leadline search 512 555`)"
            ),
        ));
    }
    read(state, move |state| {
        let found = state.db.search(&terms, limit as usize).map_err(internal)?;
        Ok(Response::Search(Box::new(SearchPage { terms, total: found.total, rows: found.rows })))
    })
    .await
}

/// The analytics figures: the aggregates the store keeps at write time, summed over the
/// range's days, with the pipelines and users (a few records each) read for names.
fn analytics(state: &State, range: AnalyticsRange, now: jiff::Timestamp) -> Result<Response, StoreError> {
    let pipelines = state.db.pipelines()?;
    let users: BTreeMap<String, String> = state
        .db
        .users()?
        .into_iter()
        .map(|u| {
            let name = u.display_name();
            (u.id, name)
        })
        .collect();
    let config = &state.config.analytics;
    let inputs = ReportInputs {
        range,
        now,
        pipelines: &pipelines,
        users: &users,
        cost_per_lead: &config.cost_per_lead,
        commission_rate: config.commission_rate,
    };
    let report = state.db.with_analytics(|agg| engine::analytics::report(agg, &inputs))?;
    Ok(Response::Analytics(Box::new(report)))
}

/// The op log (oldest first, each op with its lead's name) and the records sync skipped
/// (most recently seen first), at most `limit` of each.
pub fn system(state: &State, limit: u32) -> Result<SystemReport, StoreError> {
    let ops = state.db.pending_ops()?;
    let ops_total = ops.len() as u64;
    let mut names: HashMap<String, String> = HashMap::new();
    let mut views = Vec::new();
    for op in ops.into_iter().take(limit.min(MAX_SYSTEM_OPS) as usize) {
        let lead_name = match names.get(&op.contact_id) {
            Some(name) => name.clone(),
            None => {
                let name = state.db.lead(&op.contact_id)?.map(|l| l.name).unwrap_or_default();
                names.insert(op.contact_id.clone(), name.clone());
                name
            }
        };
        views.push(OpView { op, lead_name });
    }
    let kept = state.db.meta::<SkippedRecords>(META_SKIPPED)?.unwrap_or_default();
    let skipped_total = kept.len() as u64;
    let mut skipped: Vec<SkippedView> = kept
        .records
        .into_values()
        .map(|r| SkippedView {
            kind: r.kind,
            id: r.id,
            reason: r.reason,
            first_seen: r.first_seen,
            last_seen: r.last_seen,
        })
        .collect();
    skipped.sort_by(|a, b| b.last_seen.cmp(&a.last_seen).then_with(|| a.id.cmp(&b.id)));
    skipped.truncate(limit.min(MAX_SYSTEM_SKIPPED) as usize);
    Ok(SystemReport { ops: views, ops_total, skipped, skipped_total })
}

/// The end of the daemon's newest log file, read on the blocking pool (a file read).
async fn log_tail(state: &Arc<State>, lines: u32) -> Result<Response, RemoteError> {
    let Some(dir) = state.log_dir().map(Path::to_path_buf) else {
        return Ok(Response::LogTail(Box::default()));
    };
    let shown = dir.display().to_string();
    tokio::task::spawn_blocking(move || {
        crate::logtail::tail(&dir, crate::logtail::LOG_PREFIX, lines, MAX_LOG_BYTES)
    })
    .await
    .map_err(|e| RemoteError::new(ErrorKind::Internal, format!("reading the log failed unexpectedly: {e}")))?
    .map(|tail| Response::LogTail(Box::new(tail)))
    .map_err(|e| {
        RemoteError::new(
            ErrorKind::Internal,
            format!(
                "cannot read the daemon's log in {shown}: {e}; check the permissions of the logs directory"
            ),
        )
    })
}

fn status(state: &State) -> Result<StatusReport, StoreError> {
    let mut sync = state.sync_status();
    let ops = state.db.pending_ops()?;
    sync.pending_ops = ops.iter().filter(|o| o.state == OpState::Pending).count() as u64;
    sync.failed_ops = ops.len() as u64 - sync.pending_ops;
    Ok(StatusReport {
        daemon: state.info.clone(),
        counts: state.db.counts()?,
        queues: queue_counts(state)?,
        sync,
        store: StoreInfo {
            path: state.store_path.clone(),
            schema_version: state.db.schema_version()?.unwrap_or(CURRENT_SCHEMA),
            bytes_on_disk: state.db.backend().size_on_disk()?,
        },
    })
}

/// Each built-in queue's exact length now.
pub fn queue_counts(state: &State) -> Result<Vec<QueueCount>, StoreError> {
    let now = state.clock.now();
    QueueName::BUILT_IN
        .into_iter()
        .filter_map(|name| {
            let slice = queues::plan(&name, now, &state.config.queues).ok()?;
            Some(state.db.slice_len(&slice).map(|total| QueueCount { name, total }))
        })
        .collect()
}

fn lead(state: &State, id: &str) -> Result<Option<LeadDetail>, StoreError> {
    let (Some(summary), Some(contact)) = (state.db.lead(id)?, state.db.contact(id)?) else {
        return Ok(None);
    };
    let mut score = state.db.score(id)?.unwrap_or_default();
    // A model's explanation is not stored with its score: it is worked out now, exactly, from
    // the features the score was computed from.
    let model_scored = score.model != crate::engine::score::MODEL && !score.model.is_empty();
    let mut rescoring = false;
    if model_scored && score.explanation.is_empty() {
        match state.ingest().explain(&score)? {
            Some(explanation) => score.explanation = explanation,
            None => rescoring = true,
        }
    }
    let by = score.model.clone();
    let mut detail = LeadDetail::new(summary, score, contact);
    // Why the rules score this lead is the location's story, not the lead's: read now, so it
    // is never stale in a lead's record.
    if detail.score_model == crate::engine::score::MODEL {
        detail.score_note = crate::intel::stored_status(&state.db)?.reason;
    } else if rescoring {
        detail.score_note = Some(format!(
            "scored by {by}, which a newer model replaced: every lead is being rescored, and the explanation shows once this lead is"
        ));
    }
    let pipelines = state.db.pipelines()?;
    detail.opportunities = state.db.opportunities_for(id)?;
    detail.pending_ops = state.db.pending_ops()?.into_iter().filter(|o| o.contact_id == id).collect();
    detail.tasks = state.db.tasks_for(id)?;
    let notes = state.db.notes_for(id)?;
    let stage_changes = state.db.stage_changes_for(id, TIMELINE_LEN)?;
    detail.timeline = super::timeline::merge(
        super::timeline::Parts {
            messages: state.db.messages_for(id, TIMELINE_LEN)?,
            notes: &notes,
            tasks: &detail.tasks,
            stage_changes: &stage_changes,
            opportunities: &detail.opportunities,
            pipelines: &pipelines,
            pending: &detail.pending_ops,
        },
        TIMELINE_LEN,
    );
    detail.pipelines = pipelines
        .into_iter()
        .filter(|p| detail.opportunities.iter().any(|o| o.pipeline_id == p.id))
        .collect();
    detail.followups = state.db.follow_up(id)?;
    super::intel::fill(state, &mut detail)?;
    Ok(Some(detail))
}

async fn sync_now(state: &State, wait: bool, full: bool) -> Result<Response, RemoteError> {
    let Some(tx) = state.sync_commands() else {
        return Err(RemoteError::new(
            ErrorKind::BadRequest,
            "sync is not configured: set GHL_API_KEY and GHL_LOCATION_ID (or [ghl] token_file and location_id), then restart the daemon",
        ));
    };
    let (done_tx, done_rx) = tokio::sync::oneshot::channel();
    let command = crate::sync::SyncCommand::Now { full, done: wait.then_some(done_tx) };
    tx.send(command).await.map_err(|_| RemoteError::new(ErrorKind::Internal, "the sync task has stopped"))?;
    if wait {
        match done_rx.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(RemoteError::new(ErrorKind::Internal, format!("sync failed: {e}"))),
            Err(_) => {
                return Err(RemoteError::new(ErrorKind::Internal, "the sync task stopped before finishing"));
            }
        }
    }
    Ok(Response::Synced(Box::new(state.sync_status())))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use jiff::Timestamp;
    use leadline_shared::domain::{Contact, OpKind};

    use super::*;

    use crate::ghl::Skipped;
    use crate::ingest::Page;
    use crate::store::{Batch, NewOp, Put};

    fn state(now: Timestamp) -> Arc<State> {
        State::in_memory(now)
    }

    /// The model's status says a training run is under way while one holds the training lock
    /// (the bench waits on it before timing the settled daemon), and not otherwise.
    #[tokio::test]
    async fn the_model_status_says_when_a_training_run_is_under_way() {
        let state = state("2026-12-01T09:00:00Z".parse().expect("ts"));
        let training = |response| match response {
            Ok(Response::Model(status)) => status.training,
            other => panic!("not a model status: {other:?}"),
        };
        assert!(!training(handle(&state, Request::ModelStatus).await));
        let run = state.training.lock().await;
        assert!(training(handle(&state, Request::ModelStatus).await));
        drop(run);
        assert!(!training(handle(&state, Request::ModelStatus).await));
    }

    /// The System answer lists the op log with each op's lead, and the skipped records the
    /// store keeps, seen last first, both bounded by the limit.
    #[tokio::test]
    async fn system_lists_the_ops_with_their_leads_and_the_kept_skipped_records() {
        let now: Timestamp = "2026-12-01T09:00:00Z".parse().expect("ts");
        let state = state(now);
        let maria = Contact { id: "c1".into(), first_name: Some("Maria".into()), ..Contact::default() };
        state.ingest().apply(Page::Contacts(vec![maria]), now).expect("lead");
        let mut batch = Batch::new();
        for (contact, tag) in [("c1", "VIP"), ("gone", "x"), ("c1", "buyer")] {
            batch.ops.push(NewOp {
                contact_id: contact.into(),
                kind: OpKind::AddTag { tag: tag.into() },
                followup: None,
            });
        }
        let mut kept = SkippedRecords::default();
        for i in 0..150i64 {
            let at = now.checked_add(jiff::SignedDuration::from_secs(i)).expect("ts");
            let skipped =
                Skipped { kind: "contact", id: Some(format!("x{i:03}")), reason: "bad customFields".into() };
            kept.note(&[skipped], at);
        }
        batch.put(Put::Meta { key: META_SKIPPED.into(), value: serde_json::to_value(&kept).expect("json") });
        state.db.commit(&batch).expect("commit");

        let report = match handle(&state, Request::System { limit: 2 }).await.expect("answer") {
            Response::System(report) => *report,
            other => panic!("{other:?}"),
        };
        assert_eq!(report.ops_total, 3);
        let ops: Vec<(&str, &str)> =
            report.ops.iter().map(|o| (o.op.contact_id.as_str(), o.lead_name.as_str())).collect();
        assert_eq!(ops, [("c1", "Maria"), ("gone", "")], "oldest first, at most the limit");
        assert_eq!(report.skipped_total, 150);
        let ids: Vec<&str> = report.skipped.iter().filter_map(|s| s.id.as_deref()).collect();
        assert_eq!(ids, ["x149", "x148"], "seen last first");

        // Whatever the limit asked, the answer stays bounded.
        let report = match handle(&state, Request::System { limit: u32::MAX }).await.expect("answer") {
            Response::System(report) => *report,
            other => panic!("{other:?}"),
        };
        assert_eq!(report.skipped.len(), MAX_SYSTEM_SKIPPED as usize);
        assert_eq!(report.ops.len(), 3);
    }

    /// Without a log directory (a daemon in a test) the tail is empty; with one, it is the
    /// newest file's end.
    #[tokio::test]
    async fn log_tail_reads_the_daemons_newest_log() {
        let now: Timestamp = "2026-12-01T09:00:00Z".parse().expect("ts");
        let state = state(now);
        match handle(&state, Request::LogTail { lines: 10 }).await.expect("answer") {
            Response::LogTail(tail) => assert_eq!(*tail, leadline_shared::protocol::LogTail::default()),
            other => panic!("{other:?}"),
        }
        let dir = tempfile::tempdir().expect("dir");
        std::fs::write(dir.path().join("leadlined.2026-12-01.log"), "a\nb\nc\n").expect("write");
        state.set_log_dir(dir.path().to_path_buf());
        match handle(&state, Request::LogTail { lines: 2 }).await.expect("answer") {
            Response::LogTail(tail) => assert_eq!(tail.lines, ["b", "c"]),
            other => panic!("{other:?}"),
        }
    }
}
