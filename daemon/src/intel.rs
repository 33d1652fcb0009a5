//! The conversion model inside the daemon: trained on the location's own history (won deals
//! against lost and abandoned ones), measured against `rules-v1` on held-out deals, versioned
//! in the store, and, once promoted, scoring every lead ingest rescores.
//!
//! The model is used only through [`Scorer`] and [`Encoder`]; the features are
//! [`crate::engine::features`]'s, the promotion rule [`crate::engine::promotion`]'s.

use std::sync::{Arc, RwLock};

use jiff::Timestamp;
use leadline_shared::config::ScoringConfig;
use leadline_shared::domain::{
    Contribution, CustomFieldDef, Message, OpportunityStatus, Qualification, Score,
};
use leadline_shared::protocol::{ModelStatus, ModelSummary};
use serde::{Deserialize, Serialize};

use crate::engine::features::{FeatureInputs, FeatureRow, HEADER, LEAKS_OUTCOME, derive};
use crate::engine::promotion::{History, Thresholds, Trial, Verdict, history_gate, judge};
use crate::engine::qualify::{FieldMap, qualify};
use crate::engine::score::{MODEL as RULES, score as rules_score};
use crate::model::features::{Encoder, Encoding};
use crate::model::gbdt::{Gbdt, GbdtConfig};
use crate::model::logistic::Logistic;
use crate::model::metrics::{auc, sigmoid};
use crate::model::{ModelError, Scorer};
use crate::store::{Batch, Db, Put, StoreError};

/// The GBDT's budget for the location's model (see `train`).
const DAEMON_BUDGET: f32 = 1.0;

/// Meta key of the [`ModelStatus`] (without its list of models, which is the models tree).
pub const META_MODEL_STATUS: &str = "model/status";

/// The most messages per lead read to derive a training row (as ingest reads for scoring).
const MESSAGES_PER_LEAD: usize = 200;

/// Why training or loading a model failed.
#[derive(Debug, thiserror::Error)]
pub enum IntelError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("training the conversion model failed: {0}. Leads keep their current scorer; see the daemon log")]
    Model(#[from] ModelError),
    #[error(
        "stored model v{version} was trained on other features ({reason}); it is not used. Run `leadline model train` to train one on the current features"
    )]
    Stale { version: u32, reason: String },
}

/// A model record in the store: its summary, the encoder of its features and the scorer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelRecord {
    #[serde(flatten)]
    pub summary: ModelSummary,
    /// The feature columns it was trained on ([`HEADER`] at the time).
    pub header: Vec<String>,
    pub encoder: Encoder,
    /// [`Scorer::to_json`].
    pub scorer: String,
}

/// A promoted model, ready to score.
pub struct ActiveModel {
    pub version: u32,
    /// `gbdt-vN`.
    pub name: String,
    encoder: Encoder,
    scorer: Box<dyn Scorer + Send + Sync>,
}

impl std::fmt::Debug for ActiveModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActiveModel").field("name", &self.name).finish()
    }
}

impl ActiveModel {
    /// The model a record holds, refused when it was trained on other feature columns.
    pub fn from_record(r: &ModelRecord) -> Result<ActiveModel, IntelError> {
        if r.header.iter().map(String::as_str).ne(HEADER) {
            return Err(IntelError::Stale {
                version: r.summary.version,
                reason: format!("{} columns then, {} now", r.header.len(), HEADER.len()),
            });
        }
        let scorer: Box<dyn Scorer + Send + Sync> = match r.summary.kind.as_str() {
            "logistic" => Box::new(Logistic::from_json(&r.scorer)?),
            _ => Box::new(Gbdt::from_json(&r.scorer)?),
        };
        Ok(ActiveModel {
            version: r.summary.version,
            name: r.summary.name.clone(),
            encoder: r.encoder.clone(),
            scorer,
        })
    }

    /// The lead's score by this model: the probability of winning, in percent. The
    /// explanation is left empty: scoring a page of leads walks each tree once per lead, an
    /// explanation walks every path of every tree, so it is computed on demand, when the lead
    /// is opened ([`ActiveModel::explain`], from the features as of the score's time). The
    /// temperature stays the qualification rule's (business-rules.md §1a), which users know.
    pub fn score(
        &self,
        contact_id: &str,
        q: Qualification,
        row: &FeatureRow,
        cfg: &ScoringConfig,
        now: Timestamp,
    ) -> Score {
        let log_odds = self.scorer.raw(&self.encode(row));
        let mut s = rules_score(contact_id, q, cfg, now);
        s.value = (100.0 * sigmoid(log_odds)).round().clamp(0.0, 100.0) as u8;
        s.explanation = Vec::new();
        s.model = self.name.clone();
        s
    }

    /// Why this model gives `row` its score, in log-odds: `base` first, then each feature's
    /// exact contribution (those of zero left out), largest first; they add up to the
    /// model's log-odds, whose probability in percent is the score.
    pub fn explain(&self, row: &FeatureRow) -> Vec<Contribution> {
        let why = self.scorer.explain(&self.encode(row));
        let mut contributions: Vec<(String, f64)> =
            why.contributions.into_iter().filter(|(_, c)| *c != 0.0).collect();
        contributions.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
        let mut explanation = Vec::with_capacity(contributions.len() + 1);
        explanation.push(Contribution { feature: "base".into(), contribution: why.base });
        explanation.extend(
            contributions.into_iter().map(|(feature, contribution)| Contribution { feature, contribution }),
        );
        explanation
    }

    fn encode(&self, row: &FeatureRow) -> Vec<f64> {
        let mut encoded = Vec::with_capacity(self.encoder.columns.len() + 4);
        self.encoder.encode_row(&row.cells(), &mut encoded);
        encoded
    }
}

/// The model ingest scores with: shared by every ingester of a daemon, replaced on promotion.
#[derive(Clone, Default)]
pub struct ModelSlot(Arc<RwLock<Option<Arc<ActiveModel>>>>);

impl ModelSlot {
    /// The promoted model, if any.
    pub fn get(&self) -> Option<Arc<ActiveModel>> {
        self.0.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Puts a model in use (or the rules, with `None`).
    pub fn set(&self, model: Option<ActiveModel>) {
        *self.0.write().unwrap_or_else(|p| p.into_inner()) = model.map(Arc::new);
    }
}

/// The stored status, with the thresholds of `cfg` and the model records' summaries.
pub fn status(db: &Db, cfg: &ScoringConfig) -> Result<ModelStatus, StoreError> {
    let mut status = stored_status(db)?;
    status.min_closed_deals = cfg.model_min_closed_deals;
    status.min_per_class = cfg.model_min_per_class;
    status.models = db.models::<ModelRecord>()?.into_iter().map(|r| r.summary).collect();
    Ok(status)
}

/// The stored status alone (no model records): what the lead view reads for its note.
pub fn stored_status(db: &Db) -> Result<ModelStatus, StoreError> {
    Ok(db.meta::<ModelStatus>(META_MODEL_STATUS)?.unwrap_or_else(|| ModelStatus {
        active: RULES.into(),
        reason: Some("no model trained yet: training runs after the first sync and every night".into()),
        ..ModelStatus::default()
    }))
}

/// Loads the promoted model the status names into `slot`. A model that cannot be used (saved
/// by another feature set, unreadable) leaves the rules in place, with a warning.
pub fn load(db: &Db, slot: &ModelSlot) -> Result<(), StoreError> {
    let status = stored_status(db)?;
    let Some(version) = version_of(&status.active).filter(|_| status.active != RULES) else {
        slot.set(None);
        return Ok(());
    };
    let active = db.model::<ModelRecord>(version)?.map(|r| ActiveModel::from_record(&r));
    match active {
        Some(Ok(model)) => {
            tracing::info!(model = %model.name, "the conversion model scores the leads");
            slot.set(Some(model));
        }
        Some(Err(e)) => {
            tracing::warn!(error = %e, "the stored conversion model is not used; leads are scored by rules-v1");
            slot.set(None);
        }
        None => {
            tracing::warn!(version, "the active model's record is missing; leads are scored by rules-v1");
            slot.set(None);
        }
    }
    Ok(())
}

/// `gbdt-v3` → 3.
fn version_of(name: &str) -> Option<u32> {
    name.rsplit_once("-v").and_then(|(_, v)| v.parse().ok())
}

/// One closed deal as training sees it: the lead's features as of the close.
struct Example {
    closed_at: Timestamp,
    cells: Vec<String>,
    won: bool,
    /// `rules-v1`'s score as of the close.
    rules: f64,
}

/// Every closed deal of the store, with its lead's features as of its close.
fn examples(db: &Db, cfg: &ScoringConfig, now: Timestamp) -> Result<Vec<Example>, StoreError> {
    let pipelines = db.pipelines()?;
    let fields = FieldMap::new(
        &db.meta::<Vec<CustomFieldDef>>(crate::ingest::META_CUSTOM_FIELDS)?.unwrap_or_default(),
    );
    let mut out = Vec::new();
    for id in db.opportunity_ids()? {
        let Some(deal) = db.opportunity(&id)? else { continue };
        let won = match deal.status {
            OpportunityStatus::Won => true,
            OpportunityStatus::Lost | OpportunityStatus::Abandoned => false,
            OpportunityStatus::Open | OpportunityStatus::Other => continue,
        };
        let Some(contact) = db.contact(&deal.contact_id)? else { continue };
        let closed_at = deal.last_status_change_at.or(deal.updated_at).or(deal.created_at).unwrap_or(now);
        let before: Vec<Message> = db
            .messages_for(&contact.id, MESSAGES_PER_LEAD)?
            .into_iter()
            .filter(|m| m.date_added.is_none_or(|t| t <= closed_at))
            .collect();
        let q = qualify(&contact, &before, &fields);
        let lead_type = fields.lead_type(&contact);
        let row = derive(&FeatureInputs {
            contact: &contact,
            messages: &before,
            deal: Some(&deal),
            pipelines: &pipelines,
            qualification: &q,
            lead_type: lead_type.as_deref(),
            as_of: closed_at,
        });
        let rules = f64::from(rules_score(&contact.id, q, cfg, closed_at).value);
        out.push(Example { closed_at, cells: row.cells(), won, rules });
    }
    // Oldest first, so the held-out deals are the newest; ties in a fixed order.
    out.sort_by(|a, b| a.closed_at.cmp(&b.closed_at).then_with(|| a.cells.cmp(&b.cells)));
    Ok(out)
}

/// What a training run did.
#[derive(Debug, Clone)]
pub struct Trained {
    pub status: ModelStatus,
    /// The model promoted by this run, if one was: every lead is to be rescored.
    pub promoted: Option<String>,
}

/// Trains a model on the store's closed deals, measures it against `rules-v1` (and the active
/// model) on the newest `model_holdout_share` of them, stores it as the next version, and puts
/// it in `slot` when [`judge`] promotes it. With too little history nothing is trained and the
/// status says why. Blocking: seconds at most on a few thousand deals.
pub fn train(db: &Db, slot: &ModelSlot, cfg: &ScoringConfig, now: Timestamp) -> Result<Trained, IntelError> {
    let examples = examples(db, cfg, now)?;
    let history = History {
        won: examples.iter().filter(|e| e.won).count(),
        lost: examples.iter().filter(|e| !e.won).count(),
    };
    let current = slot.get();
    let mut status = ModelStatus {
        active: current.as_ref().map_or_else(|| RULES.to_owned(), |m| m.name.clone()),
        last_run_at: Some(now),
        won: history.won,
        lost: history.lost,
        ..stored_status(db)?
    };
    let thresholds =
        Thresholds { min_closed: cfg.model_min_closed_deals, min_per_class: cfg.model_min_per_class };
    if let Some(why) = history_gate(history, thresholds) {
        tracing::info!(won = history.won, lost = history.lost, "not training the conversion model: {why}");
        status.reason = Some(why);
        let value = serde_json::to_value(&status).unwrap_or_default();
        db.commit(Batch::new().put(Put::Meta { key: META_MODEL_STATUS.into(), value }))?;
        return Ok(Trained { status, promoted: None });
    }

    let n = examples.len();
    let held_out = ((n as f64 * cfg.model_holdout_share.clamp(0.05, 0.5)).round() as usize).clamp(1, n - 1);
    let train: Vec<usize> = (0..n - held_out).collect();
    let test: Vec<usize> = (n - held_out..n).collect();
    let header: Vec<String> = HEADER.iter().map(|h| (*h).to_owned()).collect();
    let labels: Vec<bool> = examples.iter().map(|e| e.won).collect();
    let rules_scores: Vec<f64> = examples.iter().map(|e| e.rules).collect();
    // The cells moved, not copied: on a big location they are megabytes of small strings.
    let rows: Vec<Vec<String>> = examples.into_iter().map(|e| e.cells).collect();
    let skip: Vec<usize> = LEAKS_OUTCOME.iter().filter_map(|c| HEADER.iter().position(|h| h == c)).collect();

    // Budget 1.0, not model eval's 2.0: a location's few hundred deals gain little from more
    // trees, and every lead's score and on-demand explanation walk them all.
    let encoder = Encoder::fit(&header, &rows, &train, &skip, Encoding::Codes, Some(&labels));
    let y_train: Vec<bool> = train.iter().map(|&i| labels[i]).collect();
    let y_test: Vec<bool> = test.iter().map(|&i| labels[i]).collect();
    let config = GbdtConfig { threads: Some(1), budget: DAEMON_BUDGET, ..GbdtConfig::default() };
    let (scorer, tries) = Gbdt::fit_within(
        config,
        &training_memory_plan(train.len(), HEADER.len()),
        &encoder.encode(&rows, &train),
        &y_train,
    )?;
    debug_assert_eq!(scorer.encoding(), encoder.encoding);
    if tries > 1 {
        tracing::info!(tries, "a tree outgrew the first try's memory; trained again with more");
    }
    let model_auc = auc(&scorer.predict_proba(&encoder.encode(&rows, &test)), &y_test);
    let rules: Vec<f64> = test.iter().map(|&i| rules_scores[i]).collect();
    let rules_auc = auc(&rules, &y_test);
    let previous = current.as_ref().map(|m| {
        let p = m.scorer.predict_proba(&m.encoder.encode(&rows, &test));
        (m.version, auc(&p, &y_test))
    });

    let version = db.latest_model_version()? + 1;
    let verdict = judge(&Trial { version, model_auc, rules_auc, current: previous });
    let name = format!("{}-v{version}", scorer.kind());
    let promoted = verdict == Verdict::Promote;
    let summary = ModelSummary {
        version,
        name: name.clone(),
        kind: scorer.kind().into(),
        trained_at: Some(now),
        train_rows: train.len(),
        held_out_rows: test.len(),
        held_out_auc: model_auc,
        rules_auc,
        previous_auc: previous.and_then(|(_, a)| a),
        promoted,
        verdict: match &verdict {
            Verdict::Promote => match previous {
                Some((v, _)) => format!("promoted over model v{v}"),
                None => "promoted over rules-v1".into(),
            },
            Verdict::Reject(why) => why.clone(),
        },
    };
    let record = ModelRecord { summary: summary.clone(), header, encoder, scorer: scorer.to_json()? };
    let active = if promoted { Some(ActiveModel::from_record(&record)?) } else { None };
    match &verdict {
        Verdict::Promote => {
            status.active = name.clone();
            status.reason = None;
        }
        Verdict::Reject(why) => status.reason = Some(why.clone()),
    }
    db.put_model(version, &record, (META_MODEL_STATUS, &serde_json::to_value(&status).unwrap_or_default()))?;
    tracing::info!(
        model = %name,
        train = train.len(),
        held_out = test.len(),
        auc = ?model_auc,
        rules_auc = ?rules_auc,
        promoted,
        "trained the conversion model"
    );
    if let Some(model) = active {
        slot.set(Some(model));
    }
    status.models.push(summary);
    Ok(Trained { status, promoted: promoted.then_some(name) })
}

/// What the crate may plan a training run for (GB), beside 64 bytes for each training cell
/// (the crate counts its copies of the data against the limit): room for trees of several
/// hundred nodes (the benchmark location's model is the same with and without it), where the
/// machine's free memory let it fill 630 MB of histograms for a second on 100 k leads' deals
/// (docs/model.md, "In the daemon").
const TRAINING_MEMORY_GB: f32 = 0.1;

/// What the first try at a training plans for (GB), beside the cells' share. On the
/// benchmark's 100 k-lead location (5,796 training deals, its largest tree 185 nodes) the
/// crate's histograms take 15.7 MB with it against 40.8 MB with [`TRAINING_MEMORY_GB`], and it
/// trains the same trees in one try; with 0.04 a tree reaches the limit and the training runs
/// again.
const FIRST_TRY_MEMORY_GB: f32 = 0.06;

/// The memory limits a training tries, in order, for `rows` × `cols` cells. The crate makes
/// and fills a histogram for every node its planned memory holds before it grows the first
/// tree, and a tree stops growing at that many nodes; a try in which a tree stopped there is
/// trained again with the next, larger limit, so the model is the one [`TRAINING_MEMORY_GB`]
/// gives, while most trainings hold the smaller one's histograms only.
fn training_memory_plan(rows: usize, cols: usize) -> [Option<f32>; 2] {
    let cells = (rows * cols) as f32 * 64.0 / 1e9;
    [Some(FIRST_TRY_MEMORY_GB + cells), Some(TRAINING_MEMORY_GB + cells)]
}

/// Trains now (unless a run is under way, which this waits for), and after a promotion
/// rescores every lead with the new model and tells the clients. Returns the status after.
pub async fn retrain(state: &Arc<crate::state::State>) -> Result<ModelStatus, IntelError> {
    let _one_at_a_time = state.training.lock().await;
    let (db, slot, cfg, now) =
        (state.db.clone(), state.model.clone(), state.config.scoring.clone(), state.clock.now());
    let ingest = state.ingest();
    let stopping = state.clone();
    let trained = tokio::task::spawn_blocking(move || {
        let trained = train(&db, &slot, &cfg, now)?;
        if trained.promoted.is_some() {
            let stop = || stopping.is_stopping();
            let started = std::time::Instant::now();
            let done = ingest.rescore_all_until(now, &stop).map_err(rescore_failed)?;
            log_rescore(&ingest, &done, started, "rescored every lead with the promoted model");
        }
        Ok::<_, IntelError>(trained)
    })
    .await
    .map_err(|e| {
        IntelError::Model(ModelError::Train(format!("the training task stopped unexpectedly: {e}")))
    })??;
    if trained.promoted.is_some() {
        state.db.flush().await?;
        state.publish(leadline_shared::protocol::Event::LeadsChanged { ids: Vec::new() });
    }
    Ok(status(&state.db, &state.config.scoring)?)
}

/// The scorer of the full rescore under way or left unfinished, from its stored progress.
pub fn rescoring(db: &Db) -> Result<Option<String>, StoreError> {
    let progress = crate::ingest::RescoreProgress::stored(db)?;
    Ok(progress.filter(|p| !p.done).map(|p| p.scorer))
}

/// Finishes the full rescore a promotion started and the last run did not end (the daemon
/// crashed or stopped between two of its pages), so that no lead keeps the old model's score
/// until it next changes. Runs at start, before any training can.
pub async fn finish_rescore(state: Arc<crate::state::State>) {
    let _one_at_a_time = state.training.lock().await;
    let (ingest, now, stopping) = (state.ingest(), state.clock.now(), state.clone());
    let finished = tokio::task::spawn_blocking(move || {
        let stop = || stopping.is_stopping();
        let started = std::time::Instant::now();
        let done = ingest.resume_rescore(now, &stop)?;
        if let Some(done) = &done {
            log_rescore(&ingest, done, started, "finished the rescore the last run left unfinished");
        }
        Ok::<_, crate::ingest::IngestError>(done.is_some())
    })
    .await;
    match finished {
        Ok(Ok(false)) => {}
        Ok(Ok(true)) => {
            if let Err(e) = state.db.flush().await {
                tracing::warn!(error = %e, "could not flush the store after the rescore");
            }
            state.publish(leadline_shared::protocol::Event::LeadsChanged { ids: Vec::new() });
        }
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "could not finish the unfinished rescore; the next start tries again")
        }
        Err(e) => {
            tracing::warn!(error = %e, "the rescore task stopped unexpectedly; the next start tries again")
        }
    }
}

fn rescore_failed(e: crate::ingest::IngestError) -> IntelError {
    match e {
        crate::ingest::IngestError::Store(e) => IntelError::Store(e),
        other => IntelError::Model(ModelError::Train(other.to_string())),
    }
}

fn log_rescore(
    ingest: &crate::ingest::Ingest,
    done: &crate::ingest::RescoredAll,
    started: std::time::Instant,
    what: &str,
) {
    tracing::info!(
        scorer = %ingest.scorer_name(),
        leads = done.leads,
        changed = done.changed.len(),
        from_records = done.derived,
        stopped = done.stopped,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "{what}"
    );
}

/// Trains once the store holds the location (the first sync done, or the import), if no
/// training ever ran, so a new install or the demo gets its model without waiting a night.
pub async fn first_training(state: Arc<crate::state::State>, shutdown: tokio_util::sync::CancellationToken) {
    match state.db.meta::<serde_json::Value>(META_MODEL_STATUS) {
        Ok(Some(_)) => return,
        Ok(None) => {}
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the model status; training waits for the nightly run");
            return;
        }
    }
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        if state.sync_status().last_success.is_some() {
            break;
        }
    }
    if let Err(e) = retrain(&state).await {
        tracing::warn!(error = %e, "the first training of the conversion model failed");
    }
}

/// Starts the nightly retraining (`[scoring] model_retrain_cron`, UTC). Keep the returned
/// scheduler alive for as long as it should run.
pub async fn schedule(
    state: Arc<crate::state::State>,
) -> Result<tokio_cron_scheduler::JobScheduler, crate::sync::schedule::ScheduleError> {
    use crate::sync::schedule::ScheduleError;
    use tokio_cron_scheduler::{Job, JobScheduler};
    let cron = state.config.scoring.model_retrain_cron.clone();
    let scheduler = JobScheduler::new().await.map_err(|e| ScheduleError::Start(e.to_string()))?;
    let job = Job::new_async(cron.as_str(), move |_, _| {
        let state = state.clone();
        Box::pin(async move {
            if let Err(e) = retrain(&state).await {
                tracing::warn!(error = %e, "the nightly training of the conversion model failed");
            }
        })
    })
    .map_err(|e| ScheduleError::BadCron {
        setting: "[scoring] model_retrain_cron",
        cron: cron.clone(),
        reason: e.to_string(),
    })?;
    scheduler.add(job).await.map_err(|e| ScheduleError::Start(e.to_string()))?;
    scheduler.start().await.map_err(|e| ScheduleError::Start(e.to_string()))?;
    Ok(scheduler)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_read_from_model_names() {
        assert_eq!(version_of("gbdt-v12"), Some(12));
        assert_eq!(version_of("rules-v1"), Some(1), "`load` checks that the status names a model");
        assert_eq!(version_of("rules"), None);
    }
}
