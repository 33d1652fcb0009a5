//! Applies GHL records to the store, one page per transaction, rescoring every lead the page
//! touches in the same transaction. Sync and the demo import both come through here.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use jiff::Timestamp;
use leadline_shared::config::ScoringConfig;
use leadline_shared::domain::{
    AuditEvent, Contact, Contribution, CustomFieldDef, FollowUps, ItemState, LeadSummary, Message, Note,
    OpKind, Opportunity, PendingOp, Pipeline, Qualification, Score, Task, User,
};
use serde::Deserialize;

use crate::engine::features::{
    FeatureInputs, FeatureRow, derive as derive_features, derive_timed, scoring_deal,
};
use crate::engine::followup::events::events;
use crate::engine::followup::plan::{Alert, Effects, Lead as PlannedLead, OptOuts, TimeRules, react};
use crate::engine::followup::workflow::Workflows;
use crate::engine::lead::{LeadInputs, summarize};
use crate::engine::qualify::{FieldMap, qualify};
use crate::engine::rebase::{rebase_contact, rebase_opportunity, rebase_task};
use crate::engine::score::score;
use crate::intel::ModelSlot;
use crate::store::{Batch, Db, NewOp, Put, Remove, StoreError, StoredLead, deleted_contacts_put};

pub mod import;
pub mod inputs;
mod rescore;

pub use rescore::{META_RESCORE, RescoreProgress, RescoredAll};

use inputs::ScoringInputs;

/// The most messages per contact read to derive its row.
const MESSAGES_PER_LEAD: usize = 200;
/// Records per transaction for imports.
pub const PAGE: usize = 500;
/// Leads per transaction of a full rescore ([`Ingest::rescore_all`]). sled lands a batch under
/// an exclusive lock that every read waits for, and a model upgrade moves every lead's row and
/// index entries: a page of 500 held the dashboard's reads for tens of milliseconds at a time
/// (`ipc_queue_training_p99_us` 32–42 ms), where 100 take the same time in all (11.2–12.2 s
/// against 11.5–12.6 s for 100 k leads, `rescore_profile`) in waits five times shorter.
pub const RESCORE_PAGE: usize = 100;
/// Records per store transaction when a big page is applied in parts
/// ([`Ingest::apply_in_parts`]). sled copies a leaf on every insert and frees the old copy only
/// once the batch that replaced it is done, so a batch's garbage grows with its inserts: a page
/// of 500 contacts (about 1,500 inserts) held some 24 MB of old leaves at once (heaptrack, at the
/// sync's peak). Fifty records keep that to a few MB for a few more commits per page.
pub const PART: usize = 50;
/// Leads in one page from which deriving their rows is spread over threads. Below [`PART`],
/// so that a sync page applied in parts is derived on every core: at 64 each part of 50 ran on
/// one thread, and the contacts phase of a 100 k sync was bound by the store (23.4 s applying
/// 201 pages, against 19.8 s once spread, when the rate limit bounds it again).
const PARALLEL_FROM: usize = 16;
/// The most threads one page's derivation uses.
const MAX_WORKERS: usize = 4;

/// Meta key of the location's custom field definitions.
pub const META_CUSTOM_FIELDS: &str = "ghl/custom_fields";
/// Meta key of the location record.
pub const META_LOCATION: &str = "ghl/location";

/// One page of GHL records.
#[derive(Debug, Clone)]
pub enum Page {
    /// Contacts as a listing shows them (search, which lags GHL's writes by seconds): a
    /// contact GHL deleted lately is dropped ([`Db::deleted_contacts`]).
    Contacts(Vec<Contact>),
    /// Contacts read one by one (the record itself, not the search index): current, so taken
    /// even when a contact was deleted lately, and no longer counted as deleted.
    ContactsById(Vec<Contact>),
    Opportunities(Vec<Opportunity>),
    Messages(Vec<Message>),
    Pipelines(Vec<Pipeline>),
    Users(Vec<User>),
    CustomFields(Vec<CustomFieldDef>),
    Notes(Vec<Note>),
    Tasks(Vec<Task>),
    /// Follow-up records the engine changed (their leads' rows follow: the `due` queue).
    FollowUps(Vec<FollowUps>),
}

/// What ingest needs to plan follow-ups as leads change: the workflows and the rules the
/// planner leans on. Without it, pages are applied and nothing is planned (tools, tests).
#[derive(Clone)]
pub struct Planning {
    pub workflows: Arc<Workflows>,
    pub time: Arc<dyn TimeRules + Send + Sync>,
    pub opt_outs: Arc<dyn OptOuts + Send + Sync>,
}

/// Meta key of the instant the engine went live: events before it (less a grace) are history.
pub const META_LIVE_SINCE: &str = "followups/live_since";

impl Page {
    /// The records it holds.
    pub fn len(&self) -> usize {
        match self {
            Page::Contacts(v) | Page::ContactsById(v) => v.len(),
            Page::Opportunities(v) => v.len(),
            Page::Messages(v) => v.len(),
            Page::Pipelines(v) => v.len(),
            Page::Users(v) => v.len(),
            Page::CustomFields(v) => v.len(),
            Page::Notes(v) => v.len(),
            Page::Tasks(v) => v.len(),
            Page::FollowUps(v) => v.len(),
        }
    }

    /// True when it holds no record.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The page as consecutive pages of at most `n` records (one page, maybe empty, at least).
    pub fn into_parts(self, n: usize) -> Vec<Page> {
        fn split<T>(v: Vec<T>, n: usize, page: fn(Vec<T>) -> Page) -> Vec<Page> {
            if v.len() <= n {
                return vec![page(v)];
            }
            let mut out = Vec::with_capacity(v.len().div_ceil(n));
            let mut it = v.into_iter().peekable();
            while it.peek().is_some() {
                out.push(page(it.by_ref().take(n).collect()));
            }
            out
        }
        let n = n.max(1);
        match self {
            Page::Contacts(v) => split(v, n, Page::Contacts),
            Page::Opportunities(v) => split(v, n, Page::Opportunities),
            Page::Messages(v) => split(v, n, Page::Messages),
            Page::Notes(v) => split(v, n, Page::Notes),
            Page::Tasks(v) => split(v, n, Page::Tasks),
            Page::ContactsById(v) => split(v, n, Page::ContactsById),
            Page::FollowUps(v) => split(v, n, Page::FollowUps),
            // Reference data is small and replaced whole (custom fields are one record).
            other => vec![other],
        }
    }
}

/// Why a page or a snapshot could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot read the data set {path}: {message}")]
    Snapshot { path: String, message: String },
    #[error(
        "deriving lead rows failed unexpectedly (a bug; please report it with the daemon log). Nothing of the page was written; sync retries it"
    )]
    Panicked,
    #[error("the import of {path} stopped unexpectedly (a bug; please report it with the daemon log)")]
    ImportPanicked { path: String },
}

/// Applies pages to the store. Cheap to clone (the store is shared).
#[derive(Clone)]
pub struct Ingest {
    db: Db,
    scoring: ScoringConfig,
    planning: Option<Planning>,
    /// The promoted conversion model, if any (else leads are scored by `rules-v1`).
    model: ModelSlot,
}

/// What applying a page did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    /// The leads whose rows changed.
    pub changed: Vec<String>,
    /// The sequence numbers given to the batch's new pending ops, in order.
    pub op_seqs: Vec<u64>,
    /// Alerts the page raised (a hot lead replied, a lead opted out), for after the flush.
    pub alerts: Vec<Alert>,
    /// Leads with a follow-up action due now (an instant response): worth a run at once.
    pub due_now: bool,
}

impl Applied {
    /// Adds what a later part of the same page did.
    fn absorb(&mut self, part: Applied) {
        self.changed.extend(part.changed);
        self.op_seqs.extend(part.op_seqs);
        self.alerts.extend(part.alerts);
        self.due_now |= part.due_now;
    }
}

impl Ingest {
    /// An ingester writing to `db` that plans nothing.
    pub fn new(db: Db, scoring: ScoringConfig) -> Ingest {
        Ingest { db, scoring, planning: None, model: ModelSlot::default() }
    }

    /// The same ingester, scoring with the model in `slot` when one is promoted.
    pub fn with_model(mut self, slot: ModelSlot) -> Ingest {
        self.model = slot;
        self
    }

    /// The same ingester, planning follow-ups as leads change.
    pub fn with_planning(mut self, planning: Option<Planning>) -> Ingest {
        self.planning = planning;
        self
    }

    /// Applies one page atomically and returns the ids of the leads it changed. The caller
    /// flushes before telling anyone.
    pub fn apply(&self, page: Page, now: Timestamp) -> Result<Vec<String>, IngestError> {
        Ok(self.apply_with(page, Batch::new(), now)?.changed)
    }

    /// [`Ingest::apply`] with more writes in the same transaction: sync saves the page's
    /// cursor this way, so a cursor is never ahead of the data it points past; a local edit
    /// comes with its pending op this way, so an acknowledged edit is never lost.
    ///
    /// Pulled contacts and deals are rebased on the pending local edits first
    /// ([`crate::engine::rebase`]), so an edit not yet in GHL stays visible. A message equal
    /// to the stored one (read again by an overlapping window) is dropped. Blocking: call it
    /// from a blocking thread.
    pub fn apply_with(&self, page: Page, extra: Batch, now: Timestamp) -> Result<Applied, IngestError> {
        let _writer = self.db.write_lock();
        self.apply_locked(page, extra, now)
    }

    /// [`Ingest::apply_with`] for a big page, in transactions of at most [`PART`] records:
    /// each part is atomic (every lead written with its index entries and counters), and
    /// `extra` lands with the last part, so a sync's cursor is never ahead of the records it
    /// points past. A crash between parts leaves the earlier parts applied under the old
    /// cursor; the page is then applied again, which writes nothing that is already stored.
    /// The writer lock is held throughout, so no other write lands between the parts.
    pub fn apply_in_parts(&self, page: Page, extra: Batch, now: Timestamp) -> Result<Applied, IngestError> {
        let _writer = self.db.write_lock();
        let mut parts = page.into_parts(PART);
        let last = parts.pop();
        let mut applied = Applied::default();
        for part in parts {
            applied.absorb(self.apply_locked(part, Batch::new(), now)?);
        }
        if let Some(part) = last {
            applied.absorb(self.apply_locked(part, extra, now)?);
        }
        Ok(applied)
    }

    /// A local edit: `op` laid over the lead's record as stored now, queued for GHL in the
    /// same transaction. The record is read under the writer lock, so a page being applied
    /// at the same time is never overwritten with an older copy. `None` when there is no such
    /// lead (or the deal the op names is not the lead's).
    pub fn edit(&self, contact_id: &str, op: OpKind, now: Timestamp) -> Result<Option<Applied>, IngestError> {
        let _writer = self.db.write_lock();
        let Some(contact) = self.db.contact(contact_id)? else {
            return Ok(None);
        };
        let page = match &op {
            OpKind::SetStage { opportunity_id, pipeline_stage_id } => {
                match self.db.opportunity(opportunity_id)?.filter(|o| o.contact_id == contact_id) {
                    // The move is dated now, so the lead's timeline shows it at once, when made.
                    Some(mut deal) if deal.pipeline_stage_id != *pipeline_stage_id => {
                        deal.pipeline_stage_id = pipeline_stage_id.clone();
                        deal.last_stage_change_at = Some(now);
                        Page::Opportunities(vec![deal])
                    }
                    Some(deal) => Page::Opportunities(vec![deal]),
                    None => return Ok(None),
                }
            }
            OpKind::SetStatus { opportunity_id, .. } => {
                match self.db.opportunity(opportunity_id)?.filter(|o| o.contact_id == contact_id) {
                    Some(deal) => Page::Opportunities(vec![deal]),
                    None => return Ok(None),
                }
            }
            OpKind::CompleteTask { task_id } => {
                match self.db.task(task_id)?.filter(|t| t.contact_id == contact_id) {
                    Some(task) => Page::Tasks(vec![task]),
                    None => return Ok(None),
                }
            }
            _ => Page::Contacts(vec![contact]),
        };
        let mut extra = Batch::new();
        extra.ops.push(NewOp::edit(contact_id, op));
        self.apply_locked(page, extra, now).map(Some)
    }

    /// Reads a lead's follow-up record (a new one if it has none), its contact and its row,
    /// lets `change` change the record and add writes, and applies it all in one transaction
    /// under the writer lock, with the lead's row derived again (the `due` queue follows).
    /// `change` returns the extra writes and the alerts to raise. `None` when there is no such
    /// lead.
    pub fn update_followups(
        &self,
        contact_id: &str,
        now: Timestamp,
        change: impl FnOnce(&mut FollowUps, &Contact, &LeadSummary) -> (Batch, Vec<Alert>),
    ) -> Result<Option<Applied>, IngestError> {
        let _writer = self.db.write_lock();
        let Some(stored) = self.db.stored_lead(contact_id)? else {
            return Ok(None);
        };
        let (Some(contact), Some(row)) = (stored.contact()?, stored.row()?) else {
            return Ok(None);
        };
        let mut record = self.db.follow_up(contact_id)?.unwrap_or_else(|| FollowUps::new(contact_id));
        let before = record.clone();
        let (extra, alerts) = change(&mut record, &contact, &row);
        if record == before && extra.is_empty() {
            return Ok(Some(Applied { alerts, ..Applied::default() }));
        }
        let mut applied = self.apply_locked(Page::FollowUps(vec![record]), extra, now)?;
        applied.alerts.extend(alerts);
        Ok(Some(applied))
    }

    fn apply_locked(&self, page: Page, extra: Batch, now: Timestamp) -> Result<Applied, IngestError> {
        let mut batch = extra;
        let mut pending = match &page {
            Page::Contacts(_) | Page::ContactsById(_) | Page::Opportunities(_) | Page::Tasks(_) => {
                self.db.pending_ops()?
            }
            _ => Vec::new(),
        };
        // A contact GHL deleted lately may still be listed (the search lags, an export view is
        // point-in-time): its records in a listing are stale and are dropped, or the lead
        // would come back once removed. Read under the writer lock, with the removal's own
        // write, so a page being applied as a contact is removed cannot slip past it.
        let mut deleted = match &page {
            Page::Contacts(_) | Page::ContactsById(_) | Page::Opportunities(_) | Page::Messages(_) => {
                self.db.deleted_contacts(now)?
            }
            _ => BTreeMap::new(),
        };
        if let Page::ContactsById(items) = &page {
            let before = deleted.len();
            for c in items {
                deleted.remove(&c.id);
            }
            if deleted.len() != before {
                batch.put(deleted_contacts_put(&deleted));
            }
        }
        let stale = |contact_id: &str| {
            let gone = deleted.contains_key(contact_id);
            if gone {
                tracing::debug!(contact_id, "dropped a listed record of a contact GHL deleted");
            }
            gone
        };
        // The batch's own new ops come after every stored one: an edit made now must win
        // over an older pending edit of the same field.
        pending.extend(batch.ops.iter().map(|new| PendingOp {
            followup: new.followup.clone(),
            ..PendingOp::new(u64::MAX, new.contact_id.clone(), new.kind.clone(), now)
        }));
        let pending: Vec<&PendingOp> = pending.iter().collect();
        let mut overlay = Overlay::default();
        let mut touched = BTreeSet::new();
        match page {
            Page::Contacts(items) | Page::ContactsById(items) => {
                for c in items.into_iter().filter(|c| !stale(&c.id)) {
                    let c = if pending.is_empty() { c } else { rebase_contact(c, &pending) };
                    touched.insert(c.id.clone());
                    batch.put(Put::Contact(c.clone()));
                    overlay.contacts.insert(c.id.clone(), c);
                }
            }
            Page::Messages(items) => {
                for m in items.into_iter().filter(|m| !stale(&m.contact_id)) {
                    match self.db.message(&m.id)? {
                        Some(old) if old == m => continue,
                        Some(_) => {}
                        None => {
                            overlay.new_messages.insert(m.id.clone());
                        }
                    }
                    touched.insert(m.contact_id.clone());
                    batch.put(Put::Message(m.clone()));
                    overlay.messages.entry(m.contact_id.clone()).or_default().push(m);
                }
            }
            Page::Opportunities(items) => {
                for o in items.into_iter().filter(|o| !stale(&o.contact_id)) {
                    let o = if pending.is_empty() { o } else { rebase_opportunity(o, &pending) };
                    touched.insert(o.contact_id.clone());
                    batch.put(Put::Opportunity(o.clone()));
                    overlay.opportunities.entry(o.contact_id.clone()).or_default().push(o);
                }
            }
            Page::Pipelines(items) => items.into_iter().for_each(|p| {
                batch.put(Put::Pipeline(p));
            }),
            Page::Users(items) => items.into_iter().for_each(|u| {
                batch.put(Put::User(u));
            }),
            Page::CustomFields(defs) => {
                let value = serde_json::to_value(&defs).unwrap_or_default();
                batch.put(Put::Meta { key: META_CUSTOM_FIELDS.into(), value });
            }
            Page::Notes(items) => items.into_iter().for_each(|n| {
                batch.put(Put::Note(n));
            }),
            Page::Tasks(items) => {
                for t in items {
                    // Not `touched`: a task does not change the lead's score or row, and an
                    // import of many tasks must not rescore their leads.
                    let t = if pending.is_empty() { t } else { rebase_task(t, &pending) };
                    batch.put(Put::Task(t));
                }
            }
            Page::FollowUps(records) => {
                for r in records {
                    touched.insert(r.contact_id.clone());
                    batch.put(Put::FollowUps(r.clone()));
                    overlay.followups.insert(r.contact_id.clone(), r);
                }
            }
        }
        let (changed, planned) = self.rescore_into(&mut batch, &touched, &overlay, now)?;
        let op_seqs = self.db.commit(&batch)?;
        Ok(Applied { changed, op_seqs, alerts: planned.alerts, due_now: planned.due_now })
    }

    /// Removes deals GHL no longer has, and derives their leads' rows again in the same
    /// transaction: a row shows its lead's main deal, and must not go on showing a deleted
    /// one. Returns how many of the deals were stored, and the leads whose rows changed.
    pub fn remove_deals(&self, ids: &[String], now: Timestamp) -> Result<(usize, Vec<String>), IngestError> {
        let _writer = self.db.write_lock();
        let mut batch = Batch::new();
        let mut overlay = Overlay::default();
        let mut touched = BTreeSet::new();
        for id in ids {
            if let Some(deal) = self.db.opportunity(id)? {
                touched.insert(deal.contact_id);
                overlay.removed_opportunities.insert(deal.id);
                batch.remove(Remove::Opportunity(id.clone()));
            }
        }
        let (changed, _) = self.rescore_into(&mut batch, &touched, &overlay, now)?;
        self.db.commit(&batch)?;
        Ok((overlay.removed_opportunities.len(), changed))
    }

    /// Why the promoted model gave a lead its stored score: the exact contributions (base
    /// first, in log-odds), from the lead's features as of `score.computed_at`, read from the
    /// store as scoring read them (a message or deal change since would have rescored the
    /// lead). `None` when the score is not the promoted model's (the rules', or an older
    /// model's while a promotion rescores every lead) or the lead is gone.
    pub fn explain(&self, score: &Score) -> Result<Option<Vec<Contribution>>, StoreError> {
        let Some(model) = self.model.get().filter(|m| m.name == score.model) else {
            return Ok(None);
        };
        let id = score.contact_id.as_str();
        let Some(contact) = self.db.contact(id)? else {
            return Ok(None);
        };
        let messages = self.db.messages_for(id, MESSAGES_PER_LEAD)?;
        let opportunities = self.db.opportunities_for(id)?;
        let pipelines = self.db.pipelines()?;
        let fields =
            FieldMap::new(&self.db.meta::<Vec<CustomFieldDef>>(META_CUSTOM_FIELDS)?.unwrap_or_default());
        let q = qualify(&contact, &messages, &fields);
        let as_of = score.computed_at.unwrap_or_else(Timestamp::now);
        let row = feature_row(
            &contact,
            &messages,
            &opportunities,
            &pipelines,
            &q,
            fields.lead_type(&contact).as_deref(),
            as_of,
        );
        Ok(Some(model.explain(&row)))
    }

    /// Rescores the given leads from what the store holds.
    pub fn rescore(&self, ids: &BTreeSet<String>, now: Timestamp) -> Result<Vec<String>, IngestError> {
        let _writer = self.db.write_lock();
        let mut batch = Batch::new();
        let (changed, _) = self.rescore_into(&mut batch, ids, &Overlay::default(), now)?;
        self.db.commit(&batch)?;
        Ok(changed)
    }

    fn rescore_into(
        &self,
        batch: &mut Batch,
        ids: &BTreeSet<String>,
        overlay: &Overlay,
        now: Timestamp,
    ) -> Result<(Vec<String>, Planned), IngestError> {
        if ids.is_empty() {
            return Ok((Vec::new(), Planned::default()));
        }
        let pipelines = self.db.pipelines()?;
        let fields =
            FieldMap::new(&self.db.meta::<Vec<CustomFieldDef>>(META_CUSTOM_FIELDS)?.unwrap_or_default());
        let live_since = match &self.planning {
            Some(_) => self.db.meta::<Timestamp>(META_LIVE_SINCE)?,
            None => None,
        };
        let ids: Vec<&String> = ids.iter().collect();
        let derive = |ids: &[&String]| -> Result<Vec<(String, Derived)>, IngestError> {
            let mut out = Vec::with_capacity(ids.len());
            for &id in ids {
                match self.derive(id, overlay, &pipelines, &fields, live_since, now)? {
                    Some(Derived::Unchanged { inputs: None }) | None => {}
                    Some(derived) => out.push((id.clone(), derived)),
                }
            }
            Ok(out)
        };
        // Deriving a lead is reads and arithmetic, independent per lead: a big page is split
        // over the cores, and the rows come back in id order for one commit.
        let derived = if ids.len() < PARALLEL_FROM { derive(&ids)? } else { on_workers(&ids, derive)? };
        let mut changed = Vec::with_capacity(derived.len());
        let mut planned = Planned::default();
        for (id, derived) in derived {
            let c = match derived {
                Derived::Changed(c) => c,
                Derived::Unchanged { inputs } => {
                    if let Some(bytes) = inputs {
                        batch.put(Put::ScoringInputs { contact_id: id, bytes });
                    }
                    continue;
                }
            };
            if let Some(record) = c.followups {
                planned.due_now |=
                    record.items.iter().any(|i| i.state == ItemState::Scheduled && i.at <= now);
                batch.put(Put::FollowUps(record));
            }
            for line in c.effects.audit {
                batch.put(Put::Audit(AuditEvent {
                    at: Some(now),
                    actor: "engine".into(),
                    action: "followups".into(),
                    contact_id: Some(c.lead.id.clone()),
                    detail: line,
                }));
            }
            planned.alerts.extend(c.effects.alerts);
            if c.rescored {
                changed.push(c.lead.id.clone());
                batch.put(Put::Derived { score: c.score, row: c.lead, inputs: c.inputs, was: None });
            } else if let Some(bytes) = c.inputs {
                batch.put(Put::ScoringInputs { contact_id: id, bytes });
            }
        }
        Ok((changed, planned))
    }

    /// A lead's score and row from its contact, messages and deals, `None` while the contact
    /// itself is not synced (its row is derived when it arrives).
    fn derive(
        &self,
        id: &str,
        overlay: &Overlay,
        pipelines: &[Pipeline],
        fields: &FieldMap,
        live_since: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<Option<Derived>, IngestError> {
        let stored = self.db.stored_lead(id)?;
        let contact = match (overlay.contacts.get(id), &stored) {
            (Some(c), _) => c.clone(),
            (None, Some(stored)) => match stored.contact()? {
                Some(c) => c,
                None => return Ok(None),
            },
            (None, None) => return Ok(None),
        };
        let messages = merged(
            self.db.messages_for(id, MESSAGES_PER_LEAD)?,
            overlay.messages.get(id),
            |m| &m.id,
            |m| m.date_added,
        );
        let mut stored_deals = self.db.opportunities_for(id)?;
        stored_deals.retain(|o| !overlay.removed_opportunities.contains(&o.id));
        let opportunities = merged(stored_deals, overlay.opportunities.get(id), |o| &o.id, |o| o.created_at);
        let given = overlay.followups.get(id);
        let stored_follow_up = match given {
            Some(_) => None,
            None => self.db.follow_up(id)?,
        };
        let mut follow_up = given.or(stored_follow_up.as_ref()).cloned();
        let q = qualify(&contact, &messages, fields);
        let lead_type = fields.lead_type(&contact);
        // The lead's features, from what this derivation already read, as of now: scored by
        // the model if one is promoted, and kept with their instants for a full rescore.
        let features = derive_timed(&FeatureInputs {
            contact: &contact,
            messages: &messages,
            deal: scoring_deal(&opportunities),
            pipelines,
            qualification: &q,
            lead_type: lead_type.as_deref(),
            as_of: now,
        });
        let qualification = q.clone();
        let s = match self.model.get() {
            Some(model) => model.score(id, q, &features.row, &self.scoring, now),
            None => score(id, q, &self.scoring, now),
        };
        let inputs = ScoringInputs { qualification, features }.encode();
        // What a full rescore reads of the lead, written when it differs from the stored one.
        let stored_inputs = stored.as_ref().map(StoredLead::inputs).transpose()?.flatten();
        let inputs = (stored_inputs != Some(&inputs[..])).then_some(inputs);
        let row = |follow_up: Option<&FollowUps>| {
            summarize(&LeadInputs {
                contact: &contact,
                messages: &messages,
                opportunities: &opportunities,
                pipelines,
                score: &s,
                follow_up,
                lead_type: lead_type.clone(),
            })
        };
        let mut lead = row(follow_up.as_ref());
        let mut effects = Effects::default();
        // The follow-up engine hears what happened to the lead, and plans.
        let mut record_changed = given.is_some();
        if let Some(planning) = &self.planning {
            let old_row = stored.as_ref().map(StoredLead::row).transpose()?.flatten();
            let old_contact = stored.as_ref().map(StoredLead::contact).transpose()?.flatten();
            let fresh: Vec<&Message> = overlay
                .messages
                .get(id)
                .map(|ms| ms.iter().filter(|m| overlay.new_messages.contains(&m.id)).collect())
                .unwrap_or_default();
            let sent_by_engine = |m: &Message| {
                follow_up.as_ref().is_some_and(|r| {
                    r.items.iter().any(|i| {
                        i.message_id.as_deref() == Some(m.id.as_str())
                            || (matches!(i.state, ItemState::Queued | ItemState::Sending)
                                && i.body.is_some()
                                && i.body == m.body)
                    })
                })
            };
            let happened = events(
                old_row.as_ref(),
                &lead,
                old_contact.as_ref(),
                &contact,
                &fresh,
                live_since,
                &sent_by_engine,
            );
            if !happened.is_empty() {
                let mut record = follow_up.clone().unwrap_or_else(|| FollowUps::new(id));
                effects = react(
                    &mut record,
                    &happened,
                    &PlannedLead { contact: &contact, row: &lead },
                    &planning.workflows,
                    planning.time.as_ref(),
                    planning.opt_outs.as_ref(),
                    now,
                );
                // A lead with no record whose events planned nothing keeps having none.
                let planned_nothing = follow_up.is_none() && record == FollowUps::new(id);
                if follow_up.as_ref() != Some(&record) && !planned_nothing {
                    record_changed = true;
                    follow_up = Some(record);
                    lead = row(follow_up.as_ref());
                }
            }
        }
        let followups = if record_changed { follow_up } else { None };
        crate::engine::priority::stamp(&mut lead, now, &self.scoring.priority);
        // Most rescores (a deal re-listed, a contact fetched again) change nothing: those
        // leads cost no write and are not reported as changed.
        let rescored = !(stored.as_ref().is_some_and(|stored| {
            stored.row().ok().flatten().as_ref() == Some(&lead)
                && stored.score().ok().flatten().is_some_and(|old| old.same_result(&s))
        }));
        if !rescored && followups.is_none() && effects == Effects::default() {
            return Ok(Some(Derived::Unchanged { inputs }));
        }
        Ok(Some(Derived::Changed(Box::new(Changed { score: s, lead, rescored, followups, effects, inputs }))))
    }

    /// Imports a data set file (the `ghl-sim --dump` format), page by page, flushing at the
    /// end; returns the contacts imported. The file is streamed in two passes ([`import`]):
    /// everything but the contacts first, then the contacts, so each lead is scored once with
    /// its messages and deals in place. Reading and applying run on the blocking pool, as sync's
    /// pages do, so the async workers stay free.
    pub async fn import_file(&self, path: &Path, now: Timestamp) -> Result<usize, IngestError> {
        let ingest = self.clone();
        let owned = path.to_owned();
        let total = tokio::task::spawn_blocking(move || ingest.import_blocking(&owned, now))
            .await
            .map_err(|_| IngestError::ImportPanicked { path: path.display().to_string() })??;
        self.db.flush().await?;
        Ok(total)
    }

    fn import_blocking(&self, path: &Path, now: Timestamp) -> Result<usize, IngestError> {
        let _bulk = crate::alloc::BulkWrites::begin();
        let started = std::time::Instant::now();
        let mut records = 0usize;
        import::read_file(path, import::Pass::Records, &mut |item| {
            match item {
                import::Item::Location(value) => {
                    self.db.commit(Batch::new().put(Put::Meta { key: META_LOCATION.into(), value }))?;
                }
                import::Item::Page(page) => {
                    records += page.len();
                    self.apply_in_parts(page, Batch::new(), now)?;
                }
            }
            Ok(())
        })?;
        tracing::info!(
            records,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "imported messages, deals, notes, tasks and reference data"
        );
        let mut total = 0usize;
        import::read_file(path, import::Pass::Contacts, &mut |item| {
            if let import::Item::Page(page) = item {
                total += page.len();
                self.apply_in_parts(page, Batch::new(), now)?;
            }
            Ok(())
        })?;
        tracing::info!(
            contacts = total,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "imported contacts"
        );
        Ok(total)
    }
}

/// `work` over `items` split into one run per core (at most [`MAX_WORKERS`]), the results in
/// the items' order.
fn on_workers<T: Sync, R: Send>(
    items: &[T],
    work: impl Fn(&[T]) -> Result<Vec<R>, IngestError> + Sync,
) -> Result<Vec<R>, IngestError> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).min(MAX_WORKERS);
    if workers == 1 || items.len() < 2 {
        return work(items);
    }
    let per = items.len().div_ceil(workers);
    let work = &work;
    std::thread::scope(|scope| {
        let handles: Vec<_> = items.chunks(per).map(|chunk| scope.spawn(move || work(chunk))).collect();
        let mut all = Vec::with_capacity(items.len());
        for handle in handles {
            all.extend(handle.join().map_err(|_| IngestError::Panicked)??);
        }
        Ok(all)
    })
}

/// What deriving a lead found.
#[allow(
    clippy::large_enum_variant,
    reason = "lives for one lead's derivation; boxing would allocate per lead"
)]
enum Derived {
    /// Something to write: the score and row, the follow-ups, or both.
    Changed(Box<Changed>),
    /// The stored score, row and follow-ups stand; the scoring inputs, when given, are to be
    /// written (a change that moved no score or row).
    Unchanged { inputs: Option<Vec<u8>> },
}

/// A lead's new state.
struct Changed {
    score: Score,
    lead: LeadSummary,
    /// The score or row differ from the stored ones.
    rescored: bool,
    /// The follow-up record, when it changed.
    followups: Option<FollowUps>,
    effects: Effects,
    /// The scoring inputs, when they changed.
    inputs: Option<Vec<u8>>,
}

/// What the planner made of a page.
#[derive(Default)]
struct Planned {
    alerts: Vec<Alert>,
    due_now: bool,
}

/// Records of the page being applied, which the store does not hold yet (or still holds).
#[derive(Default)]
struct Overlay {
    contacts: HashMap<String, Contact>,
    messages: HashMap<String, Vec<Message>>,
    opportunities: HashMap<String, Vec<Opportunity>>,
    /// Deals being removed in the same transaction.
    removed_opportunities: HashSet<String>,
    /// Messages the store did not hold before this page.
    new_messages: HashSet<String>,
    /// Follow-up records being written with the page.
    followups: HashMap<String, FollowUps>,
}

/// Stored records with the page's records laid over them (same id: the page wins), in time order.
/// A lead's feature row as of `as_of`, from what scoring reads of it.
fn feature_row(
    contact: &Contact,
    messages: &[Message],
    opportunities: &[Opportunity],
    pipelines: &[Pipeline],
    q: &Qualification,
    lead_type: Option<&str>,
    as_of: Timestamp,
) -> FeatureRow {
    derive_features(&FeatureInputs {
        contact,
        messages,
        deal: scoring_deal(opportunities),
        pipelines,
        qualification: q,
        lead_type,
        as_of,
    })
}

fn merged<T: Clone, K: Ord + Copy>(
    mut stored: Vec<T>,
    fresh: Option<&Vec<T>>,
    id: impl Fn(&T) -> &String,
    at: impl Fn(&T) -> K,
) -> Vec<T> {
    if let Some(fresh) = fresh {
        stored.retain(|s| !fresh.iter().any(|f| id(f) == id(s)));
        stored.extend(fresh.iter().cloned());
        stored.sort_by_key(|r| at(r));
    }
    stored
}

/// A whole location's data set, as `ghl-sim --dump` writes it (GHL's own JSON shapes), read
/// whole: for tools and benchmarks. The daemon imports a file with [`Ingest::import_file`],
/// which streams it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Snapshot {
    pub location: serde_json::Value,
    pub users: Vec<User>,
    pub custom_fields: Vec<CustomFieldDef>,
    pub pipelines: Vec<Pipeline>,
    pub contacts: Vec<Contact>,
    pub opportunities: Vec<Opportunity>,
    pub messages: Vec<Message>,
    pub notes: Vec<Note>,
    pub tasks: Vec<Task>,
}

impl Snapshot {
    /// Reads a data set file.
    pub fn read(path: &Path) -> Result<Snapshot, IngestError> {
        let err = |message: String| IngestError::Snapshot { path: path.display().to_string(), message };
        let text = std::fs::read(path).map_err(|e| err(e.to_string()))?;
        serde_json::from_slice(&text).map_err(|e| err(format!("not a GHL data set: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;
    use leadline_shared::config::Config;
    use leadline_shared::domain::{Direction, Temperature};
    use std::sync::Arc;

    fn ingest() -> (Ingest, Db) {
        let db = Db::open(Arc::new(MemoryStore::new())).expect("db");
        (Ingest::new(db.clone(), Config::default().scoring), db)
    }

    #[test]
    fn a_reply_in_a_later_page_rescores_the_lead() {
        let (ingest, db) = ingest();
        let now = Timestamp::from_second(1_700_000_000).expect("ts");
        let contact = Contact { id: "c1".into(), first_name: Some("Ana".into()), ..Default::default() };
        ingest.apply(Page::Contacts(vec![contact]), now).expect("contacts");
        assert_eq!(db.lead("c1").expect("lead").map(|l| l.temperature), Some(Temperature::Cold));

        let reply = Message {
            id: "m1".into(),
            contact_id: "c1".into(),
            direction: Direction::Inbound,
            message_type: Some("TYPE_SMS".into()),
            date_added: Some(now),
            body: Some("Pre-approved for $500k, need 4 bed in Frisco area within 2 months".into()),
            ..Default::default()
        };
        let changed = ingest.apply(Page::Messages(vec![reply]), now).expect("messages");
        assert_eq!(changed, ["c1"]);
        let lead = db.lead("c1").expect("read").expect("lead");
        assert_eq!(lead.temperature, Temperature::Hot);
        assert_eq!(lead.awaiting_reply_since, Some(now));
        assert_eq!(db.score("c1").expect("read").expect("score").value, lead.score);
    }

    #[test]
    fn a_page_that_changes_nothing_reports_no_lead() {
        let (ingest, db) = ingest();
        let now = Timestamp::from_second(1_700_000_000).expect("ts");
        let later = Timestamp::from_second(1_700_086_400).expect("ts");
        let contact = Contact { id: "c1".into(), first_name: Some("Ana".into()), ..Default::default() };
        let deal = Opportunity { id: "o1".into(), contact_id: "c1".into(), ..Default::default() };
        assert_eq!(ingest.apply(Page::Contacts(vec![contact.clone()]), now).expect("first"), ["c1"]);
        ingest.apply(Page::Opportunities(vec![deal.clone()]), now).expect("deal");
        let score = db.score("c1").expect("read").expect("score");

        // The same records again, a day later: nothing to write, nothing to tell the dashboard.
        assert!(ingest.apply(Page::Contacts(vec![contact.clone()]), later).expect("again").is_empty());
        assert!(ingest.apply(Page::Opportunities(vec![deal]), later).expect("again").is_empty());
        assert_eq!(db.score("c1").expect("read"), Some(score), "the stored score stands, with its time");
        assert_eq!(db.counts().expect("counts").opportunities, 1);

        let renamed = Contact { first_name: Some("Ana Maria".into()), ..contact };
        assert_eq!(ingest.apply(Page::Contacts(vec![renamed]), later).expect("renamed"), ["c1"]);
        assert_eq!(db.lead("c1").expect("read").expect("lead").name, "Ana Maria");
    }

    #[test]
    fn a_listing_never_brings_back_a_contact_ghl_deleted() {
        let (ingest, db) = ingest();
        let now = Timestamp::from_second(1_700_000_000).expect("ts");
        let contact = Contact { id: "c1".into(), first_name: Some("Ana".into()), ..Default::default() };
        let message = Message { id: "m1".into(), contact_id: "c1".into(), ..Default::default() };
        let deal = Opportunity { id: "o1".into(), contact_id: "c1".into(), ..Default::default() };
        let listed = |at: Timestamp| {
            ingest.apply(Page::Contacts(vec![contact.clone()]), at).expect("contacts");
            ingest.apply(Page::Messages(vec![message.clone()]), at).expect("messages");
            ingest.apply(Page::Opportunities(vec![deal.clone()]), at).expect("deals");
        };
        listed(now);
        assert_eq!(db.remove_leads(&["c1".into()], now).expect("remove"), 1);

        // GHL's search still lists it for a few seconds, an export view still serves its
        // message, a deal listing still shows its deal: none of them brings it back.
        listed(now + jiff::SignedDuration::from_secs(5));
        assert!(db.contact("c1").expect("read").is_none(), "the contact stays deleted");
        assert!(db.message("m1").expect("read").is_none(), "its message stays deleted");
        assert!(db.opportunity("o1").expect("read").is_none(), "its deal stays deleted");
        assert_eq!(db.counts().expect("counts"), db.recount().expect("recount"));

        // Read by id it is current (GHL has it after all): taken, and listings count again.
        ingest.apply(Page::ContactsById(vec![contact.clone()]), now).expect("by id");
        assert!(db.contact("c1").expect("read").is_some());
        ingest.apply(Page::Messages(vec![message.clone()]), now).expect("messages");
        assert!(db.message("m1").expect("read").is_some());

        // A listing is believed again once the deletion is older than any lag or view.
        db.remove_leads(&["c1".into()], now).expect("remove");
        listed(now + crate::store::DELETED_CONTACT_TTL + jiff::SignedDuration::from_secs(1));
        assert!(db.contact("c1").expect("read").is_some());
        assert_eq!(db.counts().expect("counts"), db.recount().expect("recount"));
    }

    #[test]
    fn a_page_applied_in_parts_lands_whole_with_its_extra_writes_last() {
        let (ingest, db) = ingest();
        let now = Timestamp::from_second(1_700_000_000).expect("ts");
        let contacts: Vec<Contact> =
            (0..2 * PART + 7).map(|i| Contact { id: format!("c{i:04}"), ..Default::default() }).collect();
        let parts = Page::Contacts(contacts.clone()).into_parts(PART);
        assert_eq!(parts.iter().map(Page::len).collect::<Vec<_>>(), [PART, PART, 7]);
        assert_eq!(Page::Messages(Vec::new()).into_parts(PART).len(), 1, "an empty page is one part");
        let mut extra = Batch::new();
        extra.put(Put::Meta { key: "test/cursor".into(), value: serde_json::json!(1) });
        let applied = ingest.apply_in_parts(Page::Contacts(contacts), extra, now).expect("apply");
        assert_eq!(applied.changed.len(), 2 * PART + 7);
        assert_eq!(db.counts().expect("counts").contacts, (2 * PART + 7) as u64);
        assert_eq!(db.meta::<i64>("test/cursor").expect("meta"), Some(1));
    }

    #[test]
    fn messages_before_their_contact_wait_for_it() {
        let (ingest, db) = ingest();
        let m = Message { id: "m".into(), contact_id: "later".into(), ..Default::default() };
        assert!(ingest.apply(Page::Messages(vec![m]), Timestamp::UNIX_EPOCH).expect("apply").is_empty());
        assert_eq!(db.counts().expect("counts").messages, 1);
        assert!(db.lead("later").expect("read").is_none());
    }
}
