//! Applies GHL records to the store, one page per transaction, rescoring every lead the page
//! touches in the same transaction. Sync and the demo import both come through here.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use jiff::Timestamp;
use leadline_shared::config::ScoringConfig;
use leadline_shared::domain::{
    Contact, CustomFieldDef, LeadSummary, Message, Note, OpKind, Opportunity, PendingOp, Pipeline, Score,
    Task, User,
};
use serde::Deserialize;

use crate::engine::lead::{LeadInputs, summarize};
use crate::engine::qualify::{FieldMap, qualify};
use crate::engine::rebase::{rebase_contact, rebase_opportunity};
use crate::engine::score::score;
use crate::store::{Batch, Db, Put, StoreError};

pub mod import;

/// The most messages per contact read to derive its row.
const MESSAGES_PER_LEAD: usize = 200;
/// Records per transaction for imports.
pub const PAGE: usize = 500;
/// Records per store transaction when a big page is applied in parts
/// ([`Ingest::apply_in_parts`]). sled copies a leaf on every insert and frees the old copy only
/// once the batch that replaced it is done, so a batch's garbage grows with its inserts: a page
/// of 500 contacts (about 1,500 inserts) held some 24 MB of old leaves at once (heaptrack, at the
/// sync's peak). Fifty records keep that to a few MB for a few more commits per page.
pub const PART: usize = 50;
/// Leads in one page from which deriving their rows is spread over threads.
const PARALLEL_FROM: usize = 64;
/// The most threads one page's derivation uses.
const MAX_WORKERS: usize = 4;

/// Meta key of the location's custom field definitions.
pub const META_CUSTOM_FIELDS: &str = "ghl/custom_fields";
/// Meta key of the location record.
pub const META_LOCATION: &str = "ghl/location";

/// One page of GHL records.
#[derive(Debug, Clone)]
pub enum Page {
    Contacts(Vec<Contact>),
    Opportunities(Vec<Opportunity>),
    Messages(Vec<Message>),
    Pipelines(Vec<Pipeline>),
    Users(Vec<User>),
    CustomFields(Vec<CustomFieldDef>),
    Notes(Vec<Note>),
    Tasks(Vec<Task>),
}

impl Page {
    /// The records it holds.
    pub fn len(&self) -> usize {
        match self {
            Page::Contacts(v) => v.len(),
            Page::Opportunities(v) => v.len(),
            Page::Messages(v) => v.len(),
            Page::Pipelines(v) => v.len(),
            Page::Users(v) => v.len(),
            Page::CustomFields(v) => v.len(),
            Page::Notes(v) => v.len(),
            Page::Tasks(v) => v.len(),
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
}

/// What applying a page did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    /// The leads whose rows changed.
    pub changed: Vec<String>,
    /// The sequence numbers given to the batch's new pending ops, in order.
    pub op_seqs: Vec<u64>,
}

impl Ingest {
    /// An ingester writing to `db`.
    pub fn new(db: Db, scoring: ScoringConfig) -> Ingest {
        Ingest { db, scoring }
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
            let a = self.apply_locked(part, Batch::new(), now)?;
            applied.changed.extend(a.changed);
        }
        if let Some(part) = last {
            let a = self.apply_locked(part, extra, now)?;
            applied.changed.extend(a.changed);
            applied.op_seqs = a.op_seqs;
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
            OpKind::SetStage { opportunity_id, .. } | OpKind::SetStatus { opportunity_id, .. } => {
                match self.db.opportunity(opportunity_id)?.filter(|o| o.contact_id == contact_id) {
                    Some(deal) => Page::Opportunities(vec![deal]),
                    None => return Ok(None),
                }
            }
            _ => Page::Contacts(vec![contact]),
        };
        let mut extra = Batch::new();
        extra.ops.push((contact_id.to_owned(), op));
        self.apply_locked(page, extra, now).map(Some)
    }

    fn apply_locked(&self, page: Page, extra: Batch, now: Timestamp) -> Result<Applied, IngestError> {
        let mut batch = extra;
        let mut pending = match &page {
            Page::Contacts(_) | Page::Opportunities(_) => self.db.pending_ops()?,
            _ => Vec::new(),
        };
        // The batch's own new ops come after every stored one: an edit made now must win
        // over an older pending edit of the same field.
        pending.extend(batch.ops.iter().map(|(contact_id, kind)| PendingOp {
            seq: u64::MAX,
            contact_id: contact_id.clone(),
            kind: kind.clone(),
            created_at: now,
            attempts: 0,
            state: leadline_shared::domain::OpState::Pending,
            last_error: None,
            conflicts: 0,
        }));
        let pending: Vec<&PendingOp> = pending.iter().collect();
        let mut overlay = Overlay::default();
        let mut touched = BTreeSet::new();
        match page {
            Page::Contacts(items) => {
                for c in items {
                    let c = if pending.is_empty() { c } else { rebase_contact(c, &pending) };
                    touched.insert(c.id.clone());
                    batch.put(Put::Contact(c.clone()));
                    overlay.contacts.insert(c.id.clone(), c);
                }
            }
            Page::Messages(items) => {
                for m in items {
                    if self.db.message(&m.id)?.as_ref() == Some(&m) {
                        continue;
                    }
                    touched.insert(m.contact_id.clone());
                    batch.put(Put::Message(m.clone()));
                    overlay.messages.entry(m.contact_id.clone()).or_default().push(m);
                }
            }
            Page::Opportunities(items) => {
                for o in items {
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
            Page::Tasks(items) => items.into_iter().for_each(|t| {
                batch.put(Put::Task(t));
            }),
        }
        let changed = self.rescore_into(&mut batch, &touched, &overlay, now)?;
        let op_seqs = self.db.commit(&batch)?;
        Ok(Applied { changed, op_seqs })
    }

    /// Rescores the given leads from what the store holds.
    pub fn rescore(&self, ids: &BTreeSet<String>, now: Timestamp) -> Result<Vec<String>, IngestError> {
        let _writer = self.db.write_lock();
        let mut batch = Batch::new();
        let changed = self.rescore_into(&mut batch, ids, &Overlay::default(), now)?;
        self.db.commit(&batch)?;
        Ok(changed)
    }

    fn rescore_into(
        &self,
        batch: &mut Batch,
        ids: &BTreeSet<String>,
        overlay: &Overlay,
        now: Timestamp,
    ) -> Result<Vec<String>, IngestError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let pipelines = self.db.pipelines()?;
        let fields =
            FieldMap::new(&self.db.meta::<Vec<CustomFieldDef>>(META_CUSTOM_FIELDS)?.unwrap_or_default());
        let ids: Vec<&String> = ids.iter().collect();
        let derive = |ids: &[&String]| -> Result<Vec<(Score, LeadSummary)>, IngestError> {
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                if let Some(Derived::Changed(score, lead)) =
                    self.derive(id, overlay, &pipelines, &fields, now)?
                {
                    out.push((score, lead));
                }
            }
            Ok(out)
        };
        // Deriving a lead is reads and arithmetic, independent per lead: a big page is split
        // over the cores, and the rows come back in id order for one commit.
        let workers = if ids.len() < PARALLEL_FROM {
            1
        } else {
            std::thread::available_parallelism().map_or(1, |n| n.get()).min(MAX_WORKERS)
        };
        let derived: Vec<(Score, LeadSummary)> = if workers == 1 {
            derive(&ids)?
        } else {
            let per = ids.len().div_ceil(workers);
            std::thread::scope(|scope| {
                let handles: Vec<_> =
                    ids.chunks(per).map(|chunk| scope.spawn(move || derive(chunk))).collect();
                let mut all = Vec::with_capacity(ids.len());
                for handle in handles {
                    let part = handle.join().map_err(|_| IngestError::Panicked)??;
                    all.extend(part);
                }
                Ok::<_, IngestError>(all)
            })?
        };
        let mut changed = Vec::with_capacity(derived.len());
        for (score, lead) in derived {
            changed.push(lead.id.clone());
            batch.put(Put::Score(score));
            batch.put(Put::Lead(lead));
        }
        Ok(changed)
    }

    /// A lead's score and row from its contact, messages and deals, `None` while the contact
    /// itself is not synced (its row is derived when it arrives).
    fn derive(
        &self,
        id: &str,
        overlay: &Overlay,
        pipelines: &[Pipeline],
        fields: &FieldMap,
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
        let opportunities = merged(
            self.db.opportunities_for(id)?,
            overlay.opportunities.get(id),
            |o| &o.id,
            |o| o.created_at,
        );
        let follow_up = self.db.follow_up(id)?;
        let s = score(id, qualify(&contact, &messages, fields), &self.scoring, now);
        let lead = summarize(&LeadInputs {
            contact: &contact,
            messages: &messages,
            opportunities: &opportunities,
            pipelines,
            score: &s,
            follow_up: follow_up.as_ref(),
            lead_type: fields.lead_type(&contact),
        });
        // Most rescores (a deal re-listed, a contact fetched again) change nothing: those
        // leads cost no write and are not reported as changed.
        if let Some(stored) = &stored
            && stored.row()?.as_ref() == Some(&lead)
            && stored.score()?.is_some_and(|old| old.same_result(&s))
        {
            return Ok(Some(Derived::Unchanged));
        }
        Ok(Some(Derived::Changed(s, lead)))
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

/// What deriving a lead found.
#[allow(
    clippy::large_enum_variant,
    reason = "lives for one lead's derivation; boxing would allocate per lead"
)]
enum Derived {
    /// The score and row differ from the stored ones.
    Changed(Score, LeadSummary),
    /// The stored score and row stand.
    Unchanged,
}

/// Records of the page being applied, which the store does not hold yet.
#[derive(Default)]
struct Overlay {
    contacts: HashMap<String, Contact>,
    messages: HashMap<String, Vec<Message>>,
    opportunities: HashMap<String, Vec<Opportunity>>,
}

/// Stored records with the page's records laid over them (same id: the page wins), in time order.
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
