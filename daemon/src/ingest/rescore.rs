//! A full rescore, as after a scoring model is promoted: every lead scored again from its
//! record's scoring inputs, in pages, with its progress kept in the store so that a rescore cut
//! short (a crash, a stop) goes on where it stopped when the daemon starts again.

use std::collections::BTreeSet;

use jiff::Timestamp;
use leadline_shared::domain::{LeadSummary, Score};
use serde::{Deserialize, Serialize};

use super::inputs::ScoringInputs;
use super::{Ingest, IngestError, META_LIVE_SINCE, Overlay, RESCORE_PAGE};
use crate::engine::followup::plan::score_rise_may_start;
use crate::engine::lead::show_score;
use crate::engine::score::{MODEL as RULES, score};
use crate::store::{Batch, Db, Put, ReadRow, StoreError, StoredLead};

/// Meta key of the full rescore's progress ([`RescoreProgress`]).
pub const META_RESCORE: &str = "scoring/rescore";

/// How far the last full rescore got: written with each page it commits, so a rescore cut
/// short goes on after the last lead it wrote ([`Ingest::resume_rescore`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RescoreProgress {
    /// The scorer every lead is being given (`rules-v1`, `gbdt-v3`).
    pub scorer: String,
    /// The last lead rescored, in id order; `None` before the first page lands.
    pub after: Option<String>,
    /// Every lead has been rescored by `scorer`.
    pub done: bool,
}

impl RescoreProgress {
    /// The progress the store holds, if a full rescore ever ran.
    pub fn stored(db: &Db) -> Result<Option<RescoreProgress>, StoreError> {
        db.meta::<RescoreProgress>(META_RESCORE)
    }
}

/// What a full rescore ([`Ingest::rescore_all`]) did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RescoredAll {
    /// The leads looked at.
    pub leads: usize,
    /// Those whose score or row changed (written), in no particular order.
    pub changed: Vec<String>,
    /// Those derived from their records rather than their scoring inputs.
    pub derived: usize,
    /// The rescore stopped before its end, when asked to ([`Ingest::rescore_all_until`]); the
    /// next [`Ingest::resume_rescore`] goes on from there.
    pub stopped: bool,
}

/// What a full rescore makes of one lead from its record alone.
enum Fast {
    /// Its score and row stand.
    Same,
    /// Its new score and row, with the row it had.
    Write(Box<(Score, LeadSummary, ReadRow)>),
    /// It is to be derived from its records.
    Derive,
}

impl Ingest {
    /// The name of the scorer this ingester gives leads: the promoted model's, or `rules-v1`.
    pub fn scorer_name(&self) -> String {
        self.model.get().map_or_else(|| RULES.to_owned(), |m| m.name.clone())
    }

    /// The stored progress of the last full rescore, if one ever ran.
    pub fn rescore_progress(&self) -> Result<Option<RescoreProgress>, IngestError> {
        Ok(RescoreProgress::stored(&self.db)?)
    }

    /// Rescores every lead from the first, as after a scoring model is promoted.
    pub fn rescore_all(&self, now: Timestamp) -> Result<RescoredAll, IngestError> {
        self.rescore_all_until(now, &|| false)
    }

    /// [`Ingest::rescore_all`], stopping between two pages once `stop` says so (the daemon
    /// stopping); the progress stored says where [`Ingest::resume_rescore`] goes on.
    pub fn rescore_all_until(
        &self,
        now: Timestamp,
        stop: &dyn Fn() -> bool,
    ) -> Result<RescoredAll, IngestError> {
        self.rescore_from(None, now, stop)
    }

    /// Finishes a full rescore cut short: when the stored progress is for the scorer in use and
    /// not done, it goes on after the last lead written; when it is for another scorer (the
    /// daemon stopped between a promotion and its rescore's first page), or there is none while
    /// a model scores (a store from before the progress was kept), every lead is rescored.
    /// `None` when the leads are already scored by the scorer in use.
    pub fn resume_rescore(
        &self,
        now: Timestamp,
        stop: &dyn Fn() -> bool,
    ) -> Result<Option<RescoredAll>, IngestError> {
        let scorer = self.scorer_name();
        let after = match self.rescore_progress()? {
            Some(p) if p.scorer == scorer && p.done => return Ok(None),
            Some(p) if p.scorer == scorer => p.after,
            Some(_) => None,
            // rules-v1 scores every lead as it is derived: nothing was left half done.
            None if scorer == RULES => return Ok(None),
            None => None,
        };
        self.rescore_from(after, now, stop).map(Some)
    }

    /// The leads after `after` (all when `None`), in pages of [`RESCORE_PAGE`], each page one
    /// transaction under the writer lock (sync's pages wait at most one page) that also moves
    /// the stored progress past it.
    ///
    /// A lead is scored from its record's scoring inputs ([`super::inputs`]) and its row takes
    /// the new score and priority (nothing else in a row depends on the score), so no contact,
    /// message or deal is read. Only the leads whose score or row changed are written. A lead
    /// is derived from its records instead, as [`Ingest::rescore`] does, when its record has no
    /// usable inputs (a store from before schema 8), when a message dated after its inputs
    /// were derived is due by now (a clock ahead of ours), or when its score rises across a
    /// `score_above` trigger while follow-ups are planned (the planner must hear of it).
    fn rescore_from(
        &self,
        mut after: Option<String>,
        now: Timestamp,
        stop: &dyn Fn() -> bool,
    ) -> Result<RescoredAll, IngestError> {
        let scorer = self.scorer_name();
        let mut done = RescoredAll::default();
        let _bulk = crate::alloc::BulkWrites::begin();
        loop {
            if stop() {
                done.stopped = true;
                break;
            }
            let _writer = self.db.write_lock();
            let page = self.db.stored_leads_after(after.as_deref(), RESCORE_PAGE)?;
            let last = page.last().map(|(id, _)| id.clone());
            let mut batch = Batch::new();
            if !page.is_empty() {
                done.leads += page.len();
                let page_done = self.rescore_page(&mut batch, page, now)?;
                done.changed.extend(page_done.changed);
                done.derived += page_done.derived;
            }
            let progress =
                RescoreProgress { scorer: scorer.clone(), after: last.clone(), done: last.is_none() };
            // Strings and a flag: nothing that fails to serialize.
            let value = serde_json::to_value(&progress).unwrap_or_default();
            batch.put(Put::Meta { key: META_RESCORE.into(), value });
            self.db.commit(&batch)?;
            match last {
                Some(last) => after = Some(last),
                None => break,
            }
        }
        Ok(done)
    }

    /// One page of a full rescore, its writes added to `batch`; under the writer lock.
    fn rescore_page(
        &self,
        batch: &mut Batch,
        page: Vec<(String, StoredLead)>,
        now: Timestamp,
    ) -> Result<RescoredAll, IngestError> {
        let model = self.model.get();
        // The planner hears only of live changes; without a `score_above` crossed, a rescore
        // gives it nothing to do.
        let workflows = match &self.planning {
            Some(planning) if self.db.meta::<Timestamp>(META_LIVE_SINCE)?.is_some() => {
                Some(&planning.workflows)
            }
            _ => None,
        };
        let rescore_one = |(id, stored): &(String, StoredLead)| -> Fast {
            let (Ok(Some(bytes)), Ok(Some(was))) = (stored.inputs(), stored.read_row()) else {
                return Fast::Derive;
            };
            let inputs = match ScoringInputs::decode(bytes) {
                Ok(inputs) => inputs,
                Err(e) => {
                    tracing::debug!(contact_id = %id, error = %e, "scoring inputs not used");
                    return Fast::Derive;
                }
            };
            // A message the inputs left out (dated after they were derived) is due by now.
            if !inputs.features.holds_at(now) {
                return Fast::Derive;
            }
            let q = inputs.qualification;
            let s = match &model {
                Some(model) => model.score(id, q, &inputs.features.at(now), &self.scoring, now),
                None => score(id, q, &self.scoring, now),
            };
            let mut row = was.row().clone();
            show_score(&mut row, &s);
            crate::engine::priority::stamp(&mut row, now, &self.scoring.priority);
            if workflows.is_some_and(|w| score_rise_may_start(w, was.row().score, row.score)) {
                return Fast::Derive;
            }
            // The stored score is decoded only when the row gives no change away (a model
            // upgrade changes every row's scorer).
            if &row != was.row() {
                return Fast::Write(Box::new((s, row, was)));
            }
            match stored.score() {
                Ok(Some(old)) if old.same_result(&s) => Fast::Same,
                Ok(_) => Fast::Write(Box::new((s, row, was))),
                Err(_) => Fast::Derive,
            }
        };
        // On one thread: a page scores in well under a millisecond, less than two threads
        // cost to start, and sled's log writers want the other core meanwhile (100 k leads:
        // 0.78-0.88 s scoring on one thread against 1.33-1.60 s on two, `rescore_profile`).
        let outcomes: Vec<Fast> = page.iter().map(rescore_one).collect();
        let mut done = RescoredAll::default();
        let mut slow = BTreeSet::new();
        for ((id, _), outcome) in page.into_iter().zip(outcomes) {
            match outcome {
                Fast::Same => {}
                Fast::Derive => {
                    slow.insert(id);
                }
                Fast::Write(written) => {
                    let (score, row, was) = *written;
                    done.changed.push(id);
                    batch.put(Put::Derived { score, row, inputs: None, was: Some(Box::new(was)) });
                }
            }
        }
        done.derived = slow.len();
        if !slow.is_empty() {
            // As `rescore`: what the planner plans is written, its alerts are not raised.
            let (more, _) = self.rescore_into(batch, &slow, &Overlay::default(), now)?;
            done.changed.extend(more);
        }
        Ok(done)
    }
}
