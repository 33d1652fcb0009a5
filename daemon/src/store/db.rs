//! The typed store: records, secondary indexes and counters, kept in step in one transaction.

use std::collections::{BTreeMap, HashSet};
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use leadline_shared::domain::{
    AuditEvent, Contact, FollowUps, LeadSummary, Message, Note, OpKind, Opportunity, PendingOp, Pipeline,
    Score, Task, Temperature, User,
};
use leadline_shared::protocol::Counts;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::engine::analytics::{self, Aggregates, DealFacts, LeadFacts, StepFact};
use crate::engine::search::{SearchEntry, SearchIndex};

use super::codec::{LeadRecord, Section, decode, decode_section, encode, has_section, section_bytes};
use super::keys;
use super::ranks::{IndexKeys, LeadEntries, LeadRanks, Ranking};
use super::schema::{self, CURRENT_SCHEMA, MIGRATIONS, Migration};
use super::sections::SectionValue;
use super::snapshot::{META_GENERATION, SNAPSHOT_SIDE, Snapshot};
use super::{KvTx, Store, StoreError, Tree, TxError};

/// A record to write.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant, reason = "batches are short-lived; boxing every record costs more")]
pub enum Put {
    Contact(Contact),
    Opportunity(Opportunity),
    Pipeline(Pipeline),
    Message(Message),
    User(User),
    Task(Task),
    Note(Note),
    Score(Score),
    Lead(LeadSummary),
    /// A lead's new score and row, with its scoring inputs when they changed: one write of its
    /// record where [`Put::Score`], [`Put::Lead`] and [`Put::ScoringInputs`] would be three.
    Derived {
        score: Score,
        row: LeadSummary,
        inputs: Option<Vec<u8>>,
        /// The row the new one was derived from, as read: saves decoding the stored row again
        /// when it is still the one stored (it is ignored otherwise).
        was: Option<Box<ReadRow>>,
    },
    /// A lead's scoring inputs (`ingest::inputs`), as encoded.
    ScoringInputs {
        contact_id: String,
        bytes: Vec<u8>,
    },
    FollowUps(FollowUps),
    /// A pending op as it stands after an attempt, written only if the op is still there (an
    /// op that was done and removed meanwhile is never brought back).
    Op(PendingOp),
    /// A small named value: cursors, custom-field definitions, sync state.
    Meta {
        key: String,
        value: serde_json::Value,
    },
    Audit(AuditEvent),
}

/// A deal's move from one stage to another, as the store saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageChange {
    /// When GHL says the stage changed (or the local edit was made).
    pub at: jiff::Timestamp,
    pub opportunity_id: String,
    pub pipeline_id: String,
    /// The stage before, when the deal stayed in the same pipeline.
    pub from_stage: Option<String>,
    pub to_stage: String,
}

/// A record to delete, by id.
#[derive(Debug, Clone)]
pub enum Remove {
    Contact(String),
    Opportunity(String),
    Message(String),
    Task(String),
    Note(String),
    User(String),
    Lead(String),
    Score(String),
    FollowUps(String),
    PendingOp(u64),
    /// A stage change, by its key in the stage-change tree.
    StageChange(Vec<u8>),
}

/// Writes that land together or not at all.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    pub puts: Vec<Put>,
    pub removes: Vec<Remove>,
    /// Local edits to push to GHL, written with the edit itself.
    pub ops: Vec<NewOp>,
}

/// An op to queue for GHL with a batch.
#[derive(Debug, Clone, PartialEq)]
pub struct NewOp {
    pub contact_id: String,
    pub kind: OpKind,
    /// The follow-up item it carries out, when the engine made it.
    pub followup: Option<String>,
}

impl NewOp {
    /// An agent's edit.
    pub fn edit(contact_id: impl Into<String>, kind: OpKind) -> NewOp {
        NewOp { contact_id: contact_id.into(), kind, followup: None }
    }
}

impl Batch {
    /// An empty batch.
    pub fn new() -> Batch {
        Batch::default()
    }

    /// Adds a write.
    pub fn put(&mut self, put: Put) -> &mut Batch {
        self.puts.push(put);
        self
    }

    /// Adds a delete.
    pub fn remove(&mut self, remove: Remove) -> &mut Batch {
        self.removes.push(remove);
        self
    }

    /// True when there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.puts.is_empty() && self.removes.is_empty() && self.ops.is_empty()
    }
}

/// A lead's row as read from its record: the bytes stored and what they decode to.
#[derive(Debug, Clone)]
pub struct ReadRow {
    bytes: Vec<u8>,
    row: LeadSummary,
}

impl ReadRow {
    /// The row.
    pub fn row(&self) -> &LeadSummary {
        &self.row
    }
}

/// A lead's record as stored: one read, each part decoded only when asked for.
#[derive(Debug, Clone)]
pub struct StoredLead(Vec<u8>);

impl StoredLead {
    /// The GHL contact.
    pub fn contact(&self) -> Result<Option<Contact>, StoreError> {
        decode_section(&self.0, Section::Contact)
    }

    /// The score with its explanation.
    pub fn score(&self) -> Result<Option<Score>, StoreError> {
        decode_section(&self.0, Section::Score)
    }

    /// The dashboard row.
    pub fn row(&self) -> Result<Option<LeadSummary>, StoreError> {
        decode_section(&self.0, Section::Row)
    }

    /// The dashboard row with the bytes it was decoded from, for [`Put::Derived`]'s `was`.
    pub fn read_row(&self) -> Result<Option<ReadRow>, StoreError> {
        let Some(bytes) = section_bytes(&self.0, Section::Row)? else { return Ok(None) };
        Ok(Some(ReadRow { row: LeadSummary::from_section(bytes)?, bytes: bytes.to_vec() }))
    }

    /// The scoring inputs' bytes (`ingest::inputs`), absent until the lead is derived by a
    /// Leadline that writes them.
    pub fn inputs(&self) -> Result<Option<&[u8]>, StoreError> {
        section_bytes(&self.0, Section::Inputs)
    }
}

/// The orders in which leads can be walked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeadOrder {
    /// Best score first (ties: most recent activity first).
    Score,
    /// Soonest follow-up first (only leads with one).
    DueSoonest,
    /// Longest waiting for a reply first (only leads waiting).
    AwaitingLongest,
    /// Newest uncontacted lead first (only leads nobody reached out to): speed-to-lead, where
    /// the freshest lead is the one still worth the most.
    UncontactedNewest,
}

/// Meta key of the contacts GHL deleted lately: id → when they were removed here.
pub const META_DELETED_CONTACTS: &str = "ghl/deleted_contacts";
/// How long a contact GHL deleted is kept out of listings. GHL's search lags its writes by
/// seconds, so a poll just after a deletion can still list the contact; an export cursor is a
/// point-in-time view, so a long export can still serve its messages. A day covers both, and
/// the longest full sync, with the map bounded by a day's deletions. A contact read by id
/// (the record itself, not the index) is current and is taken whatever this says.
pub const DELETED_CONTACT_TTL: jiff::SignedDuration = jiff::SignedDuration::from_hours(24);

const META_SCHEMA: &[u8] = b"schema_version";
const COUNT_PREFIX: &str = "count/";
const SEQ_OPS: &[u8] = b"seq/pending_ops";
const SEQ_AUDIT: &[u8] = b"seq/audit";

/// A stretch of one of the lead orders: a queue, as the engine plans it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slice {
    pub ranking: Ranking,
    /// Only leads whose key time (due, waiting since, added) is at or after this.
    pub since: Option<jiff::Timestamp>,
    /// Only leads whose key time is at or before this.
    pub through: Option<jiff::Timestamp>,
    /// Read from the last key back (newest first for the time orders).
    pub reverse: bool,
}

impl Slice {
    /// All of an order, first key first.
    pub fn all(ranking: Ranking) -> Slice {
        Slice { ranking, since: None, through: None, reverse: false }
    }
}

/// The leads that match a search, best first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchResults {
    /// How many leads match.
    pub total: u64,
    /// At most the limit asked for, best match first.
    pub rows: Vec<LeadSummary>,
}

/// What one walk of the lead records builds (see [`Db::warm_up`]).
struct Built {
    aggregates: Option<Aggregates>,
    search: Option<SearchIndex>,
    /// Records that could not be read, left out.
    unreadable: usize,
}

/// Rows of a [`Slice`], with where they sit.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SliceWindow {
    /// How many leads the slice holds.
    pub total: u64,
    /// The row number of `rows[0]`.
    pub offset: u64,
    pub rows: Vec<LeadSummary>,
    /// The anchor's row number, when it is in the slice.
    pub anchor_at: Option<u64>,
}

/// The row changes of one commit, for the in-memory orders.
type RowChanges = Mutex<Vec<(Option<LeadEntries>, Option<LeadEntries>)>>;

/// One record's change, as the analytics aggregates see it.
#[derive(Debug)]
enum FactChange {
    Lead(Option<LeadFacts>, Option<LeadFacts>),
    Deal(Option<DealFacts>, Option<DealFacts>),
    Steps(Vec<StepFact>, Vec<StepFact>),
}

/// The analytics changes of one commit.
type FactChanges = Mutex<Vec<FactChange>>;

/// The search entries one commit changes: (as indexed, as now), `None` for no row.
type SearchChanges = Mutex<Vec<(Option<SearchEntry>, Option<SearchEntry>)>>;

/// What a commit collects for the in-memory structures, each only once it is built.
#[derive(Clone, Copy)]
struct Hooks<'a> {
    rows: Option<&'a RowChanges>,
    facts: Option<&'a FactChanges>,
    search: Option<&'a SearchChanges>,
    /// The ids of the leads whose rows the commit changed, for [`ChangeLog`].
    leads: &'a Mutex<Vec<String>>,
}

/// The leads each recent commit changed, by the generation it gave the store: what lets a
/// reader of every row (a saved smart list) read again only the rows changed since.
#[derive(Debug, Default)]
struct ChangeLog {
    /// Every commit after this generation that changed a lead is in `commits` (`None` before
    /// this process's first commit).
    from: Option<u64>,
    /// The last commit's generation.
    latest: u64,
    /// The commits that changed leads, oldest first: a commit that changed none (messages,
    /// ops, follow-ups alone) takes no place, so the log's size is bounded by its ids.
    commits: std::collections::VecDeque<(u64, Vec<String>)>,
    ids: usize,
}

/// The most lead ids the change log holds; past it the oldest commits are forgotten (a reader
/// further behind reads every row again).
const CHANGE_LOG_IDS: usize = 20_000;

impl ChangeLog {
    fn push(&mut self, generation: u64, ids: Vec<String>) {
        self.from.get_or_insert(generation.saturating_sub(1));
        self.latest = generation;
        if ids.is_empty() {
            return;
        }
        self.ids += ids.len();
        self.commits.push_back((generation, ids));
        while self.ids > CHANGE_LOG_IDS && self.commits.len() > 1 {
            if let Some((gone_at, gone)) = self.commits.pop_front() {
                self.ids -= gone.len();
                self.from = Some(gone_at);
            }
        }
    }

    /// The leads changed after `generation`, and the generation they bring a reader to; `None`
    /// when the log no longer (or does not yet) reach back to it.
    fn since(&self, generation: u64) -> Option<(u64, std::collections::BTreeSet<String>)> {
        if generation < self.from? {
            return None;
        }
        let latest = self.latest.max(generation);
        let ids =
            self.commits.iter().filter(|(g, _)| *g > generation).flat_map(|(_, ids)| ids.iter().cloned());
        Some((latest, ids.collect()))
    }
}

impl Hooks<'_> {
    fn fact(&self, change: FactChange) {
        if let Some(facts) = self.facts {
            lock(facts).push(change);
        }
    }
}

/// The typed store over any [`Store`] backend.
#[derive(Clone)]
pub struct Db {
    store: Arc<dyn Store>,
    writer: Arc<Mutex<()>>,
    /// Held by each commit from its transaction to its change of `ranks`, so the orders in
    /// memory move in the order the rows were written.
    commits: Arc<Mutex<()>>,
    /// The lead orders with ranks, built on first use (`None` until then).
    ranks: Arc<Mutex<Option<LeadRanks>>>,
    /// The analytics aggregates, built on first use (`None` until then) and then moved by
    /// each commit under `commits`, like `ranks`.
    analytics: Arc<Mutex<Option<Aggregates>>>,
    /// The search index over the rows' names, phones, emails and tags, built on first use
    /// and then moved by each commit under `commits`, like `ranks`.
    search: Arc<Mutex<Option<SearchIndex>>>,
    /// The leads each recent commit changed, appended under `commits`.
    changed: Arc<Mutex<ChangeLog>>,
}

impl Db {
    /// Opens the typed layer, bringing the schema up to date.
    pub fn open(store: Arc<dyn Store>) -> Result<Db, StoreError> {
        Db::open_with(store, CURRENT_SCHEMA, MIGRATIONS)
    }

    /// [`Db::open`] with explicit migrations (the hook tests use it).
    pub fn open_with(store: Arc<dyn Store>, target: u32, migrations: &[Migration]) -> Result<Db, StoreError> {
        let db = Db {
            store,
            writer: Arc::new(Mutex::new(())),
            commits: Arc::new(Mutex::new(())),
            ranks: Arc::new(Mutex::new(None)),
            analytics: Arc::new(Mutex::new(None)),
            search: Arc::new(Mutex::new(None)),
            changed: Arc::new(Mutex::new(ChangeLog::default())),
        };
        match db.schema_version()? {
            None => db.set_schema_version(target)?,
            Some(found) => schema::migrate(&db, found, target, migrations)?,
        }
        Ok(db)
    }

    /// Serialises the writers that read what they write from (ingest deriving a lead, a local
    /// edit laid over the stored contact, removing a lead): each holds it from its first read
    /// to its commit, so no writer commits over another's newer write with a stale copy.
    /// Readers never take it. Held on a blocking thread, never across an `await`.
    pub fn write_lock(&self) -> MutexGuard<'_, ()> {
        self.writer.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The backend.
    pub fn backend(&self) -> &dyn Store {
        self.store.as_ref()
    }

    /// The schema version on disk, `None` for a new store.
    pub fn schema_version(&self) -> Result<Option<u32>, StoreError> {
        Ok(self.store.get(Tree::Meta, META_SCHEMA)?.and_then(|b| b.try_into().ok()).map(u32::from_be_bytes))
    }

    pub(super) fn set_schema_version(&self, version: u32) -> Result<(), StoreError> {
        self.store.transact(&|tx| tx.insert(Tree::Meta, META_SCHEMA, &version.to_be_bytes()))
    }

    /// Applies a batch atomically: records, index entries and counters. Returns the sequence
    /// numbers given to the batch's pending ops. Call [`Db::flush`] before acknowledging it.
    pub fn commit(&self, batch: &Batch) -> Result<Vec<u64>, StoreError> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let seqs = std::sync::Mutex::new(Vec::new());
        // Timestamps for new ops are taken once, outside the transaction body, which may rerun.
        let now = jiff::Timestamp::now();
        let _order = lock(&self.commits);
        // Only once the orders are built is there anything to keep up to date (they are
        // built under `commits`, so this cannot change before the commit ends).
        let changes: Option<RowChanges> = lock(&self.ranks).is_some().then(RowChanges::default);
        let facts: Option<FactChanges> = lock(&self.analytics).is_some().then(FactChanges::default);
        let searches: Option<SearchChanges> = lock(&self.search).is_some().then(SearchChanges::default);
        let leads: Mutex<Vec<String>> = Mutex::default();
        let generation = Mutex::new(0u64);
        self.store.transact(&|tx| {
            lock(&leads).clear();
            // The body may run again after a conflict: start the lists afresh each time.
            if let Some(changes) = &changes {
                lock(changes).clear();
            }
            if let Some(facts) = &facts {
                lock(facts).clear();
            }
            if let Some(searches) = &searches {
                lock(searches).clear();
            }
            // Any write makes a snapshot of the derived structures stale.
            *lock(&generation) = next_seq(tx, META_GENERATION)?;
            let mut given = Vec::with_capacity(batch.ops.len());
            for _ in &batch.ops {
                given.push(next_seq(tx, SEQ_OPS)?);
            }
            let changes = Hooks {
                rows: changes.as_ref(),
                facts: facts.as_ref(),
                search: searches.as_ref(),
                leads: &leads,
            };
            for remove in &batch.removes {
                apply_remove(tx, remove, changes)?;
            }
            for put in &batch.puts {
                match put {
                    // A follow-up item carried by an op of this batch names it, in the same
                    // write: "send again" on an uncertain message is a retry of that op.
                    Put::FollowUps(record) if carries(batch, record) => {
                        apply_put(tx, &Put::FollowUps(link_ops(record, &batch.ops, &given)), changes)?;
                    }
                    _ => apply_put(tx, put, changes)?,
                }
            }
            for (new, &seq) in batch.ops.iter().zip(&given) {
                let op = PendingOp {
                    followup: new.followup.clone(),
                    ..PendingOp::new(seq, new.contact_id.clone(), new.kind.clone(), now)
                };
                tx.insert(Tree::PendingOps, &seq.to_be_bytes(), &encode(&op)?)?;
            }
            *seqs.lock().unwrap_or_else(|p| p.into_inner()) = given;
            Ok(())
        })?;
        let generation = generation.into_inner().unwrap_or_else(|p| p.into_inner());
        lock(&self.changed).push(generation, leads.into_inner().unwrap_or_else(|p| p.into_inner()));
        if let Some(changes) = changes
            && let Some(ranks) = lock(&self.ranks).as_mut()
        {
            for (old, new) in changes.into_inner().unwrap_or_else(|p| p.into_inner()) {
                ranks.apply(old, new);
            }
        }
        if let Some(facts) = facts
            && let Some(aggregates) = lock(&self.analytics).as_mut()
        {
            for change in facts.into_inner().unwrap_or_else(|p| p.into_inner()) {
                match change {
                    FactChange::Lead(old, new) => aggregates.change_lead(old.as_ref(), new.as_ref()),
                    FactChange::Deal(old, new) => aggregates.change_deal(old.as_ref(), new.as_ref()),
                    FactChange::Steps(old, new) => aggregates.change_steps(&old, &new),
                }
            }
        }
        if let Some(searches) = searches
            && let Some(index) = lock(&self.search).as_mut()
        {
            for (old, new) in searches.into_inner().unwrap_or_else(|p| p.into_inner()) {
                index.apply(old.as_ref(), new.as_ref());
            }
        }
        Ok(seqs.into_inner().unwrap_or_else(|p| p.into_inner()))
    }

    /// The lead orders, built from the rows on first use.
    fn ranks(&self) -> Result<MutexGuard<'_, Option<LeadRanks>>, StoreError> {
        {
            let ranks = lock(&self.ranks);
            if ranks.is_some() {
                return Ok(ranks);
            }
        }
        // No commit may land between the walk and the first change it would have to apply.
        let _order = lock(&self.commits);
        let mut ranks = lock(&self.ranks);
        if ranks.is_none() {
            // From the queue places and the time indexes alone (small keys and values):
            // walking the records instead would pull every lead's pages through sled's cache.
            let mut index = IndexKeys::default();
            let mut unplaced = 0usize;
            self.store.scan(Tree::QueuePlaces, b"", None, false, &mut |id, place| {
                match keys::read_queue_place(id, place) {
                    Some((key, value)) => index.score.push((key.into(), value.into())),
                    None => unplaced += 1,
                }
                ControlFlow::Continue(())
            })?;
            for (tree, keys) in [
                (Tree::IdxDue, &mut index.due),
                (Tree::IdxAwaiting, &mut index.awaiting),
                (Tree::IdxUncontacted, &mut index.uncontacted),
            ] {
                self.store.scan(tree, b"", None, false, &mut |k, _| {
                    keys.push(k.into());
                    ControlFlow::Continue(())
                })?;
            }
            let (built, unreadable) = LeadRanks::from_index(index, jiff::Timestamp::MIN);
            let unreadable = unreadable + unplaced;
            if unreadable > 0 {
                tracing::warn!(
                    unreadable,
                    "queue places in no known shape were left out of the queues; each lead is back with its next change"
                );
            }
            *ranks = Some(built);
        }
        Ok(ranks)
    }

    /// Runs `f` over the analytics aggregates, building them first if this is their first use
    /// (one walk of the rows, deals and follow-up records; after that each commit moves them).
    pub fn with_analytics<T>(&self, f: impl FnOnce(&Aggregates) -> T) -> Result<T, StoreError> {
        {
            let aggregates = lock(&self.analytics);
            if let Some(aggregates) = aggregates.as_ref() {
                return Ok(f(aggregates));
            }
        }
        self.build_missing(true, false)?;
        Ok(f(lock(&self.analytics).as_ref().unwrap_or(&Aggregates::default())))
    }

    /// Runs `f` over the search index, building it first if this is its first use (one walk
    /// of the rows; after that each commit moves it).
    pub fn with_search<T>(&self, f: impl FnOnce(&SearchIndex) -> T) -> Result<T, StoreError> {
        {
            let index = lock(&self.search);
            if let Some(index) = index.as_ref() {
                return Ok(f(index));
            }
        }
        self.build_missing(false, true)?;
        Ok(f(lock(&self.search).as_ref().unwrap_or(&SearchIndex::default())))
    }

    /// Builds the analytics aggregates and the search index if they are not built yet, in
    /// one walk of the lead records (the daemon calls it at start, so that no request pays
    /// for it). They are read from the snapshot the daemon saved as it last stopped, when
    /// nothing was written since; returns whether they were.
    pub fn warm_up(&self) -> Result<bool, StoreError> {
        self.build_missing(true, true)
    }

    /// Builds those of the aggregates (`analytics`) and the search index (`search`) that are
    /// wanted and not built yet; returns whether they came from the snapshot.
    fn build_missing(&self, analytics: bool, search: bool) -> Result<bool, StoreError> {
        // No commit may land between the walk and the first change it would have to apply.
        let _order = lock(&self.commits);
        let analytics = analytics && lock(&self.analytics).is_none();
        let search = search && lock(&self.search).is_none();
        if !analytics && !search {
            return Ok(false);
        }
        if let Some(snapshot) = self.read_snapshot()? {
            if lock(&self.analytics).is_none() {
                *lock(&self.analytics) = Some(snapshot.aggregates);
            }
            if lock(&self.search).is_none() {
                *lock(&self.search) = Some(snapshot.search);
            }
            return Ok(true);
        }
        let built = self.build(analytics, search)?;
        if built.unreadable > 0 {
            tracing::warn!(
                unreadable = built.unreadable,
                "records that could not be read were left out of the analytics and search; each is back with its next change"
            );
        }
        if let Some(aggregates) = built.aggregates {
            *lock(&self.analytics) = Some(aggregates);
        }
        if let Some(index) = built.search {
            *lock(&self.search) = Some(index);
        }
        Ok(false)
    }

    /// The leads whose rows changed after the store's `generation`, with the generation that
    /// brings a reader to; `None` when this process's log of commits does not reach back to it
    /// (then read every row).
    pub fn leads_changed_since(&self, generation: u64) -> Option<(u64, std::collections::BTreeSet<String>)> {
        lock(&self.changed).since(generation)
    }

    /// The store's generation: how many commits it has had.
    pub fn generation(&self) -> Result<u64, StoreError> {
        Ok(self
            .store
            .get(Tree::Meta, META_GENERATION)?
            .and_then(|b| b.try_into().ok())
            .map(u64::from_be_bytes)
            .unwrap_or(0))
    }

    /// The saved snapshot of the derived structures, if there is one and it holds the store as
    /// it is now (see [`super::snapshot`]). Call under `commits`.
    fn read_snapshot(&self) -> Result<Option<Snapshot>, StoreError> {
        let Some(bytes) = self.store.read_side(SNAPSHOT_SIDE)? else { return Ok(None) };
        let schema = self.schema_version()?.unwrap_or(CURRENT_SCHEMA);
        match Snapshot::read(&bytes, schema, self.generation()?) {
            Ok(snapshot) => {
                tracing::info!(
                    generation = snapshot.generation,
                    "analytics and search read from their snapshot"
                );
                Ok(Some(snapshot))
            }
            Err(stale) => {
                tracing::info!(%stale, "the snapshot of the analytics and search is not used: they are built from the records");
                Ok(None)
            }
        }
    }

    /// Saves the analytics aggregates and the search index, when both are built, so that the
    /// next start reads them instead of walking every record (see [`super::snapshot`]). The
    /// daemon calls it as it stops, once nothing writes any more; a commit after it only
    /// makes it stale. Returns whether it saved one.
    pub fn save_snapshot(&self) -> Result<bool, StoreError> {
        let _order = lock(&self.commits);
        let Some(aggregates) = lock(&self.analytics).clone() else { return Ok(false) };
        let Some(search) = lock(&self.search).take() else { return Ok(false) };
        let schema = self.schema_version()?.unwrap_or(CURRENT_SCHEMA);
        let snapshot = Snapshot::new(schema, self.generation()?, aggregates, search);
        let encoded = snapshot.encode();
        // Lent to the snapshot for its encoding, and given back: the daemon may still serve.
        *lock(&self.search) = Some(snapshot.search);
        let bytes =
            encoded.map_err(|e| StoreError::Backend(format!("could not encode the snapshot: {e}")))?;
        self.store.write_side(SNAPSHOT_SIDE, Some(&bytes))?;
        Ok(true)
    }

    /// The analytics aggregates (`analytics`) and the search index (`search`) counted afresh
    /// from every stored record, in one walk of the leads.
    fn build(&self, analytics: bool, search: bool) -> Result<Built, StoreError> {
        let mut agg = analytics.then(Aggregates::default);
        let mut index = search.then(SearchIndex::new);
        let mut unreadable = 0;
        if analytics || search {
            self.store.scan(Tree::Leads, b"", None, false, &mut |_, v| {
                match decode_section::<LeadSummary>(v, Section::Row) {
                    Ok(Some(row)) => {
                        if let Some(agg) = agg.as_mut() {
                            agg.lead(&LeadFacts::of(&row), 1);
                        }
                        if let Some(index) = index.as_mut() {
                            index.apply(None, Some(&SearchEntry::of(&row)));
                        }
                    }
                    Ok(None) => {}
                    Err(_) => unreadable += 1,
                }
                ControlFlow::Continue(())
            })?;
        }
        if let Some(agg) = agg.as_mut() {
            self.store.scan(Tree::Opportunities, b"", None, false, &mut |_, v| {
                match decode::<Opportunity>(Tree::Opportunities, v) {
                    Ok(o) => agg.deal(&DealFacts::of(&o), 1),
                    Err(_) => unreadable += 1,
                }
                ControlFlow::Continue(())
            })?;
            self.store.scan(Tree::FollowUps, b"", None, false, &mut |_, v| {
                match decode::<FollowUps>(Tree::FollowUps, v) {
                    Ok(f) => analytics::step_facts(&f).iter().for_each(|s| agg.step(s, 1)),
                    Err(_) => unreadable += 1,
                }
                ControlFlow::Continue(())
            })?;
        }
        if let Some(index) = index.as_mut() {
            index.shrink_to_fit();
        }
        Ok(Built { aggregates: agg, search: index, unreadable })
    }

    /// The analytics aggregates counted afresh from every stored row, deal and follow-up
    /// record, with how many records could not be read. What the store keeps at write time
    /// must always equal this.
    pub fn analytics_recount(&self) -> Result<(Aggregates, usize), StoreError> {
        let built = self.build(true, false)?;
        Ok((built.aggregates.unwrap_or_default(), built.unreadable))
    }

    /// The search index built afresh from every stored row, with how many rows could not be
    /// read. What the store keeps at write time must always hold the same
    /// ([`SearchIndex::contents`]).
    pub fn search_recount(&self) -> Result<(SearchIndex, usize), StoreError> {
        let built = self.build(false, true)?;
        Ok((built.search.unwrap_or_default(), built.unreadable))
    }

    /// The leads whose words match every one of `words` (read with
    /// [`crate::engine::search::query_terms`]), best match first, at most `limit`, from the
    /// search index (built on first use), with how many match in all.
    pub fn search(&self, words: &[String], limit: usize) -> Result<SearchResults, StoreError> {
        let hits = self.with_search(|index| index.search(words, limit))?;
        let mut rows = Vec::with_capacity(hits.hits.len());
        for (id, _) in &hits.hits {
            // A lead removed since the index was read is left out; the next search has it right.
            if let Some(row) = self.lead(id)? {
                rows.push(row);
            }
        }
        Ok(SearchResults { total: hits.total as u64, rows })
    }

    /// How many leads a slice holds now.
    pub fn slice_len(&self, slice: &Slice) -> Result<u64, StoreError> {
        let mut ranks = self.ranks()?;
        let Some(ranks) = ranks.as_mut() else { return Ok(0) };
        let range = slice_range(ranks, slice);
        Ok((range.end - range.start) as u64)
    }

    /// At most `limit` rows of a slice from row `offset`, or, when `anchor` (a lead id and how
    /// many rows to show above it) is in the slice, from that many rows above it.
    pub fn slice_window(
        &self,
        slice: &Slice,
        offset: u64,
        limit: usize,
        anchor: Option<(&str, u32)>,
    ) -> Result<SliceWindow, StoreError> {
        let anchor_entries = match anchor {
            Some((id, before)) => self.lead(id)?.map(|row| (LeadEntries::of(&row), before)),
            None => None,
        };
        let fixed = match slice.ranking {
            Ranking::Due | Ranking::Awaiting | Ranking::Uncontacted => keys::TIME_FIXED,
            Ranking::QuietBefore(_) => keys::RECOVERY_FIXED,
            Ranking::Score | Ranking::Hot => keys::SCORE_FIXED,
        };
        let (mut window, ids) = {
            let mut ranks = self.ranks()?;
            let Some(ranks) = ranks.as_mut() else { return Ok(SliceWindow::default()) };
            let range = slice_range(ranks, slice);
            let set = ranks.get(slice.ranking);
            let total = range.end - range.start;
            let anchor_at = anchor_entries.as_ref().and_then(|(entries, before)| {
                let key = entries.key(slice.ranking)?;
                let rank = set.rank(key);
                let here = set.get(rank).is_some_and(|k| k == &key[..]) && range.contains(&rank);
                here.then(|| {
                    let at = if slice.reverse { range.end - 1 - rank } else { rank - range.start };
                    (at as u64, *before)
                })
            });
            let offset = anchor_at.map_or(offset, |(at, before)| at.saturating_sub(u64::from(before)));
            let first = usize::try_from(offset).unwrap_or(usize::MAX);
            let count = total.saturating_sub(first).min(limit);
            let in_window: Vec<&[u8]> = if count == 0 {
                Vec::new()
            } else if slice.reverse {
                set.iter_back_from(range.end - 1 - first).take(count).collect()
            } else {
                set.iter_from(range.start + first).take(count).collect()
            };
            let ids: Vec<String> =
                in_window.into_iter().filter_map(|k| keys::id_after(k, fixed)).map(str::to_owned).collect();
            let window = SliceWindow {
                total: total as u64,
                offset,
                rows: Vec::with_capacity(ids.len()),
                anchor_at: anchor_at.map(|(at, _)| at),
            };
            (window, ids)
        };
        for id in ids {
            // A lead removed since the keys were read is left out; the next read has it right.
            if let Some(row) = self.lead(&id)? {
                window.rows.push(row);
            }
        }
        Ok(window)
    }

    /// Makes every committed write durable.
    pub async fn flush(&self) -> Result<(), StoreError> {
        self.store.flush().await
    }

    /// Replaces a pending op (after a push attempt, or a retry), only if it is still there:
    /// an op that push just completed (and removed) is never brought back. Returns whether it
    /// was replaced.
    pub fn update_op(&self, op: &PendingOp) -> Result<bool, StoreError> {
        let bytes = encode(op)?;
        let replaced = AtomicBool::new(false);
        self.store.transact(&|tx| {
            let key = op.seq.to_be_bytes();
            let present = tx.get(Tree::PendingOps, &key)?.is_some();
            replaced.store(present, Ordering::Relaxed);
            if present { tx.insert(Tree::PendingOps, &key, &bytes) } else { Ok(()) }
        })?;
        Ok(replaced.load(Ordering::Relaxed))
    }

    /// Changes a pending op in place if it is still there (see [`Db::update_op`]); `None` when
    /// it is gone (done, or never was).
    pub fn change_op(
        &self,
        seq: u64,
        change: impl FnOnce(&mut PendingOp),
    ) -> Result<Option<PendingOp>, StoreError> {
        let _w = self.write_lock();
        let Some(mut op) = self.get::<PendingOp>(Tree::PendingOps, &seq.to_be_bytes())? else {
            return Ok(None);
        };
        change(&mut op);
        Ok(self.update_op(&op)?.then_some(op))
    }

    /// Removes leads wholly: the contact, its score and row (with their index entries and
    /// counters), its messages, deals, notes, tasks and follow-up, and its pending edits
    /// (recorded in the audit log). Every path that deletes a contact comes here, so the
    /// counters always match the records. Returns how many of the leads were stored.
    pub fn remove_leads(&self, ids: &[String], now: jiff::Timestamp) -> Result<usize, StoreError> {
        if ids.is_empty() {
            return Ok(0);
        }
        let _w = self.write_lock();
        let wanted: HashSet<&str> = ids.iter().map(String::as_str).collect();
        let of_wanted =
            |tree: Tree| -> Result<Vec<String>, StoreError> {
                let mut out = Vec::new();
                let mut err = None;
                self.store.scan(tree, b"", None, false, &mut |_, v| match decode::<serde_json::Value>(
                    tree, v,
                ) {
                    Ok(item) => {
                        let contact = item.get("contactId").and_then(|c| c.as_str()).unwrap_or_default();
                        if wanted.contains(contact)
                            && let Some(id) = item.get("id").and_then(|i| i.as_str())
                        {
                            out.push(id.to_owned());
                        }
                        ControlFlow::Continue(())
                    }
                    Err(e) => {
                        err = Some(e);
                        ControlFlow::Break(())
                    }
                })?;
                err.map_or(Ok(out), Err)
            };
        let mut batch = Batch::new();
        // Remembered with the removal itself, so that no listing read before it (a lagging
        // search, an export view) brings the lead back once it is gone.
        let mut deleted = self.deleted_contacts(now)?;
        deleted.extend(ids.iter().map(|id| (id.clone(), now)));
        batch.put(deleted_contacts_put(&deleted));
        for id in of_wanted(Tree::Notes)? {
            batch.remove(Remove::Note(id));
        }
        for id in of_wanted(Tree::Tasks)? {
            batch.remove(Remove::Task(id));
        }
        for op in self.pending_ops()?.into_iter().filter(|o| wanted.contains(o.contact_id.as_str())) {
            batch.remove(Remove::PendingOp(op.seq));
            batch.put(Put::Audit(AuditEvent {
                at: Some(now),
                actor: "sync".into(),
                action: "dropped".into(),
                contact_id: Some(op.contact_id.clone()),
                detail: format!(
                    "the contact was deleted in GHL, so this edit cannot reach it: {}",
                    serde_json::to_string(&op.kind).unwrap_or_default()
                ),
            }));
        }
        self.commit(&batch)?;
        let mut removed = 0;
        // A few hundred leads a transaction: a lead with a long conversation is many removes.
        for chunk in ids.chunks(200) {
            let mut batch = Batch::new();
            for id in chunk {
                if self.store.get(Tree::Leads, id.as_bytes())?.is_some() {
                    removed += 1;
                }
                for message in self.message_ids_for(id)? {
                    batch.remove(Remove::Message(message));
                }
                for deal in self.opportunity_ids_for(id)? {
                    batch.remove(Remove::Opportunity(deal));
                }
                let prefix = keys::contact_prefix(id);
                self.store.scan(Tree::StageChanges, &prefix, None, false, &mut |k, _| {
                    batch.remove(Remove::StageChange(k.to_vec()));
                    ControlFlow::Continue(())
                })?;
                batch
                    .remove(Remove::Lead(id.clone()))
                    .remove(Remove::Score(id.clone()))
                    .remove(Remove::Contact(id.clone()))
                    .remove(Remove::FollowUps(id.clone()));
            }
            self.commit(&batch)?;
        }
        Ok(removed)
    }

    /// The contacts GHL deleted within [`DELETED_CONTACT_TTL`] of `now`, with when they were
    /// removed here. A listing's copy of one is stale: [`crate::ingest::Ingest`] drops it.
    pub fn deleted_contacts(
        &self,
        now: jiff::Timestamp,
    ) -> Result<BTreeMap<String, jiff::Timestamp>, StoreError> {
        let mut deleted: BTreeMap<String, jiff::Timestamp> =
            self.meta(META_DELETED_CONTACTS)?.unwrap_or_default();
        deleted.retain(|_, at| now.duration_since(*at) < DELETED_CONTACT_TTL);
        Ok(deleted)
    }

    /// The ids of a contact's messages, read from the index keys (no record decoded).
    fn message_ids_for(&self, contact_id: &str) -> Result<Vec<String>, StoreError> {
        let prefix = keys::contact_prefix(contact_id);
        let mut out = Vec::new();
        self.store.scan(Tree::MessagesByContact, &prefix, None, false, &mut |k, _| {
            if let Some(id) = keys::id_after(k, prefix.len() + 8) {
                out.push(id.to_owned());
            }
            ControlFlow::Continue(())
        })?;
        Ok(out)
    }

    /// The ids of a contact's deals.
    fn opportunity_ids_for(&self, contact_id: &str) -> Result<Vec<String>, StoreError> {
        let prefix = keys::contact_prefix(contact_id);
        let mut ids = Vec::new();
        self.store.scan(Tree::IdxOpportunitiesByContact, &prefix, None, false, &mut |k, _| {
            if let Some(id) = keys::id_after(k, prefix.len()) {
                ids.push(id.to_owned());
            }
            ControlFlow::Continue(())
        })?;
        Ok(ids)
    }

    /// The counts as the records stand, by walking every tree: what [`Db::counts`] keeps as
    /// counters. Slow at 100 k leads; for tests and `leadline doctor`.
    pub fn recount(&self) -> Result<Counts, StoreError> {
        let mut counts = Counts {
            contacts: self.contact_ids()?.len() as u64,
            opportunities: self.store.len(Tree::Opportunities)?,
            messages: self.store.len(Tree::MessageIds)?,
            ..Counts::default()
        };
        let mut err = None;
        self.store.scan(Tree::Leads, b"", None, false, &mut |_, v| {
            match decode_section::<LeadSummary>(v, Section::Row) {
                Ok(Some(row)) => match row.temperature {
                    Temperature::Hot => counts.hot += 1,
                    Temperature::Warm => counts.warm += 1,
                    Temperature::Cold => counts.cold += 1,
                },
                Ok(None) => {}
                Err(e) => err = Some(e),
            }
            ControlFlow::Continue(())
        })?;
        err.map_or(Ok(counts), Err)
    }

    fn get<T: DeserializeOwned>(&self, tree: Tree, key: &[u8]) -> Result<Option<T>, StoreError> {
        self.store.get(tree, key)?.map(|b| decode(tree, &b)).transpose()
    }

    fn lead_section<T: SectionValue>(&self, id: &str, section: Section) -> Result<Option<T>, StoreError> {
        match self.store.get(Tree::Leads, id.as_bytes())? {
            Some(bytes) => decode_section(&bytes, section),
            None => Ok(None),
        }
    }

    /// A contact by GHL id.
    pub fn contact(&self, id: &str) -> Result<Option<Contact>, StoreError> {
        self.lead_section(id, Section::Contact)
    }

    /// A lead's derived summary.
    pub fn lead(&self, id: &str) -> Result<Option<LeadSummary>, StoreError> {
        self.lead_section(id, Section::Row)
    }

    /// A lead's score with its explanation.
    pub fn score(&self, id: &str) -> Result<Option<Score>, StoreError> {
        self.lead_section(id, Section::Score)
    }

    /// A lead's whole record, read once, its parts decoded on demand.
    pub fn stored_lead(&self, id: &str) -> Result<Option<StoredLead>, StoreError> {
        Ok(self.store.get(Tree::Leads, id.as_bytes())?.map(StoredLead))
    }

    /// Up to `limit` lead records in id order, from the first id after `after` (from the first
    /// when `None`): a walk of every lead in pages, as a full rescore reads them.
    pub fn stored_leads_after(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, StoredLead)>, StoreError> {
        let mut out = Vec::with_capacity(limit.min(4_096));
        if limit == 0 {
            return Ok(out);
        }
        let after = after.map(str::as_bytes);
        self.store.scan(Tree::Leads, b"", after, false, &mut |k, v| {
            if after == Some(k) {
                return ControlFlow::Continue(());
            }
            if let Ok(id) = std::str::from_utf8(k) {
                out.push((id.to_owned(), StoredLead(v.to_vec())));
            }
            if out.len() >= limit { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
        })?;
        Ok(out)
    }

    /// A lead's planned follow-up.
    pub fn follow_up(&self, id: &str) -> Result<Option<FollowUps>, StoreError> {
        self.get(Tree::FollowUps, id.as_bytes())
    }

    /// Every lead's follow-up record (only leads the engine has planned for have one).
    pub fn all_follow_ups(&self) -> Result<Vec<FollowUps>, StoreError> {
        self.all(Tree::FollowUps)
    }

    /// An opportunity by id.
    pub fn opportunity(&self, id: &str) -> Result<Option<Opportunity>, StoreError> {
        self.get(Tree::Opportunities, id.as_bytes())
    }

    /// A message by id.
    pub fn message(&self, id: &str) -> Result<Option<Message>, StoreError> {
        match self.store.get(Tree::MessageIds, id.as_bytes())? {
            Some(key) => self.get(Tree::MessagesByContact, &key),
            None => Ok(None),
        }
    }

    /// Every pipeline.
    pub fn pipelines(&self) -> Result<Vec<Pipeline>, StoreError> {
        self.all(Tree::Pipelines)
    }

    /// Every user.
    pub fn users(&self) -> Result<Vec<User>, StoreError> {
        self.all(Tree::Users)
    }

    /// Saves a model record under its version with a meta value (the model status) in one
    /// transaction, so the status never names a model that is not stored.
    pub fn put_model<T: Serialize>(
        &self,
        version: u32,
        record: &T,
        meta: (&str, &serde_json::Value),
    ) -> Result<(), StoreError> {
        let bytes = encode(record)?;
        let key = meta_key(meta.0);
        let status = encode(meta.1)?;
        self.store.transact(&|tx| {
            tx.insert(Tree::Models, &version.to_be_bytes(), &bytes)?;
            tx.insert(Tree::Meta, key.as_bytes(), &status)
        })
    }

    /// One model record by version.
    pub fn model<T: DeserializeOwned>(&self, version: u32) -> Result<Option<T>, StoreError> {
        self.get(Tree::Models, &version.to_be_bytes())
    }

    /// Every model record, oldest version first.
    pub fn models<T: DeserializeOwned>(&self) -> Result<Vec<T>, StoreError> {
        self.all(Tree::Models)
    }

    /// The newest model version stored (0 when none is).
    pub fn latest_model_version(&self) -> Result<u32, StoreError> {
        let mut latest = 0;
        self.store.scan(Tree::Models, b"", None, true, &mut |k, _| {
            if let Ok(bytes) = <[u8; 4]>::try_from(k) {
                latest = u32::from_be_bytes(bytes);
            }
            ControlFlow::Break(())
        })?;
        Ok(latest)
    }

    /// A small named value.
    pub fn meta<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, StoreError> {
        let Some(value) = self.get::<serde_json::Value>(Tree::Meta, meta_key(key).as_bytes())? else {
            return Ok(None);
        };
        serde_json::from_value(value)
            .map(Some)
            .map_err(|e| StoreError::Corrupt { tree: "meta", reason: e.to_string() })
    }

    fn all<T: DeserializeOwned>(&self, tree: Tree) -> Result<Vec<T>, StoreError> {
        let mut out = Vec::new();
        let mut err = None;
        self.store.scan(tree, b"", None, false, &mut |_, v| match decode(tree, v) {
            Ok(item) => {
                out.push(item);
                ControlFlow::Continue(())
            }
            Err(e) => {
                err = Some(e);
                ControlFlow::Break(())
            }
        })?;
        err.map_or(Ok(out), Err)
    }

    /// Every stored contact's id, without decoding the records.
    pub fn contact_ids(&self) -> Result<Vec<String>, StoreError> {
        let mut err = None;
        let ids = self.ids(Tree::Leads, |v| match has_section(v, Section::Contact) {
            Ok(has) => has,
            Err(e) => {
                err = Some(e);
                false
            }
        })?;
        err.map_or(Ok(ids), Err)
    }

    /// Every stored opportunity's id, without reading the records.
    pub fn opportunity_ids(&self) -> Result<Vec<String>, StoreError> {
        self.ids(Tree::Opportunities, |_| true)
    }

    /// The ids (keys) of a record tree whose value passes `keep`, in key order.
    fn ids(&self, tree: Tree, mut keep: impl FnMut(&[u8]) -> bool) -> Result<Vec<String>, StoreError> {
        let mut out = Vec::new();
        self.store.scan(tree, b"", None, false, &mut |k, v| {
            if let Ok(id) = std::str::from_utf8(k)
                && keep(v)
            {
                out.push(id.to_owned());
            }
            ControlFlow::Continue(())
        })?;
        Ok(out)
    }

    /// A contact's opportunities.
    pub fn opportunities_for(&self, contact_id: &str) -> Result<Vec<Opportunity>, StoreError> {
        self.opportunity_ids_for(contact_id)?
            .iter()
            .filter_map(|id| self.opportunity(id).transpose())
            .collect()
    }

    /// The records of a per-contact index (`IdxNotesByContact`, `IdxTasksByContact`), read
    /// from `tree`: one range scan and one read per record.
    fn by_contact<T: DeserializeOwned>(
        &self,
        index: Tree,
        tree: Tree,
        contact_id: &str,
    ) -> Result<Vec<T>, StoreError> {
        let prefix = keys::contact_prefix(contact_id);
        let mut ids = Vec::new();
        self.store.scan(index, &prefix, None, false, &mut |k, _| {
            if let Some(id) = keys::id_after(k, prefix.len()) {
                ids.push(id.to_owned());
            }
            ControlFlow::Continue(())
        })?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(v) = self.store.get(tree, id.as_bytes())? {
                out.push(decode(tree, &v)?);
            }
        }
        Ok(out)
    }

    /// A contact's notes, in id order.
    pub fn notes_for(&self, contact_id: &str) -> Result<Vec<Note>, StoreError> {
        self.by_contact(Tree::IdxNotesByContact, Tree::Notes, contact_id)
    }

    /// A contact's tasks, open and done, in id order.
    pub fn tasks_for(&self, contact_id: &str) -> Result<Vec<Task>, StoreError> {
        self.by_contact(Tree::IdxTasksByContact, Tree::Tasks, contact_id)
    }

    /// A task by id.
    pub fn task(&self, id: &str) -> Result<Option<Task>, StoreError> {
        self.store.get(Tree::Tasks, id.as_bytes())?.map(|v| decode(Tree::Tasks, &v)).transpose()
    }

    /// The open tasks of every lead, soonest due first (those without a due time last), at
    /// most `limit` of them, with how many are open in all. Reads the open-task index, never
    /// the task records it does not return.
    pub fn open_tasks(&self, limit: usize) -> Result<(Vec<Task>, u64), StoreError> {
        let mut ids = Vec::new();
        let mut total = 0u64;
        self.store.scan(Tree::IdxOpenTasks, b"", None, false, &mut |k, _| {
            total += 1;
            if ids.len() < limit
                && let Some(id) = keys::id_after(k, keys::TIME_FIXED)
            {
                ids.push(id.to_owned());
            }
            ControlFlow::Continue(())
        })?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(t) = self.task(&id)? {
                out.push(t);
            }
        }
        Ok((out, total))
    }

    /// A contact's deal stage changes, oldest first, at most `limit` of the newest.
    pub fn stage_changes_for(&self, contact_id: &str, limit: usize) -> Result<Vec<StageChange>, StoreError> {
        self.newest_of_contact(Tree::StageChanges, contact_id, limit)
    }

    /// A contact's messages, oldest first, at most `limit` of the newest.
    pub fn messages_for(&self, contact_id: &str, limit: usize) -> Result<Vec<Message>, StoreError> {
        self.newest_of_contact(Tree::MessagesByContact, contact_id, limit)
    }

    /// The newest `limit` records of a tree keyed by contact then time, oldest first.
    fn newest_of_contact<T: DeserializeOwned>(
        &self,
        tree: Tree,
        contact_id: &str,
        limit: usize,
    ) -> Result<Vec<T>, StoreError> {
        let prefix = keys::contact_prefix(contact_id);
        let mut out = Vec::new();
        let mut err = None;
        self.store.scan(tree, &prefix, None, true, &mut |_, v| {
            match decode(tree, v) {
                Ok(r) => out.push(r),
                Err(e) => err = Some(e),
            }
            if err.is_some() || out.len() >= limit {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })?;
        if let Some(e) = err {
            return Err(e);
        }
        out.reverse();
        Ok(out)
    }

    /// Every lead's row, in id order (the records' own order, read front to back), until
    /// `visit` breaks: the cheapest way to read them all, against [`Db::leads_by`]'s lookup of
    /// each record from an index, in no order the records are kept in.
    pub fn rows(&self, visit: &mut dyn FnMut(LeadSummary) -> ControlFlow<()>) -> Result<(), StoreError> {
        let mut err = None;
        self.store.scan(Tree::Leads, b"", None, false, &mut |_, v| {
            hand_row(decode_section(v, Section::Row), &mut err, visit)
        })?;
        err.map_or(Ok(()), Err)
    }

    /// Walks leads in an order until `visit` breaks.
    pub fn leads_by(
        &self,
        order: LeadOrder,
        visit: &mut dyn FnMut(LeadSummary) -> ControlFlow<()>,
    ) -> Result<(), StoreError> {
        let (tree, fixed) = match order {
            LeadOrder::Score => return self.leads_in_score_order(visit),
            LeadOrder::DueSoonest => (Tree::IdxDue, keys::TIME_FIXED),
            LeadOrder::AwaitingLongest => (Tree::IdxAwaiting, keys::TIME_FIXED),
            LeadOrder::UncontactedNewest => (Tree::IdxUncontacted, keys::TIME_FIXED),
        };
        let reverse = order == LeadOrder::UncontactedNewest;
        let mut err = None;
        self.store.scan(tree, b"", None, reverse, &mut |k, _| {
            let Some(id) = keys::id_after(k, fixed) else {
                return ControlFlow::Continue(());
            };
            hand_row(self.lead(id), &mut err, visit)
        })?;
        err.map_or(Ok(()), Err)
    }

    /// The score order lives in memory ([`Db::ranks`], built from [`Tree::QueuePlaces`]): its
    /// ids are taken at once, then their rows read one by one.
    fn leads_in_score_order(
        &self,
        visit: &mut dyn FnMut(LeadSummary) -> ControlFlow<()>,
    ) -> Result<(), StoreError> {
        let ids: Vec<String> = {
            let mut ranks = self.ranks()?;
            let Some(ranks) = ranks.as_mut() else { return Ok(()) };
            ranks
                .get(Ranking::Score)
                .iter_from(0)
                .filter_map(|k| keys::id_after(k, keys::SCORE_FIXED))
                .map(str::to_owned)
                .collect()
        };
        let mut err = None;
        for id in &ids {
            if hand_row(self.lead(id), &mut err, visit).is_break() {
                break;
            }
        }
        err.map_or(Ok(()), Err)
    }

    /// Local edits not yet accepted by GHL, oldest first (failed and out-of-sync included).
    pub fn pending_ops(&self) -> Result<Vec<PendingOp>, StoreError> {
        self.all(Tree::PendingOps)
    }

    /// The audit log, oldest first.
    pub fn audit_log(&self) -> Result<Vec<AuditEvent>, StoreError> {
        self.all(Tree::Audit)
    }

    /// Record counts, kept as counters (no tree walk).
    pub fn counts(&self) -> Result<Counts, StoreError> {
        let c = |name: &str| -> Result<u64, StoreError> {
            Ok(self
                .store
                .get(Tree::Meta, format!("{COUNT_PREFIX}{name}").as_bytes())?
                .and_then(|b| b.try_into().ok())
                .map(u64::from_be_bytes)
                .unwrap_or(0))
        };
        Ok(Counts {
            contacts: c("contacts")?,
            opportunities: c("opportunities")?,
            messages: c("messages")?,
            hot: c("hot")?,
            warm: c("warm")?,
            cold: c("cold")?,
        })
    }
}

/// The write that saves the map of deleted contacts.
pub(crate) fn deleted_contacts_put(deleted: &BTreeMap<String, jiff::Timestamp>) -> Put {
    let value = serde_json::to_value(deleted).unwrap_or_default();
    Put::Meta { key: META_DELETED_CONTACTS.into(), value }
}

fn meta_key(key: &str) -> String {
    format!("m/{key}")
}

fn bump(tx: &dyn KvTx, name: &str, delta: i64) -> Result<(), TxError> {
    let key = format!("{COUNT_PREFIX}{name}");
    let old = tx
        .get(Tree::Meta, key.as_bytes())?
        .and_then(|b| b.try_into().ok())
        .map(u64::from_be_bytes)
        .unwrap_or(0);
    let new = old.saturating_add_signed(delta);
    tx.insert(Tree::Meta, key.as_bytes(), &new.to_be_bytes())
}

/// Hands a row read during a walk to `visit`, passes over a lead without one, and stops the
/// walk at an error, kept in `err`.
fn hand_row(
    read: Result<Option<LeadSummary>, StoreError>,
    err: &mut Option<StoreError>,
    visit: &mut dyn FnMut(LeadSummary) -> ControlFlow<()>,
) -> ControlFlow<()> {
    match read {
        Ok(Some(row)) => visit(row),
        Ok(None) => ControlFlow::Continue(()),
        Err(e) => {
            *err = Some(e);
            ControlFlow::Break(())
        }
    }
}

fn next_seq(tx: &dyn KvTx, key: &[u8]) -> Result<u64, TxError> {
    let next =
        tx.get(Tree::Meta, key)?.and_then(|b| b.try_into().ok()).map(u64::from_be_bytes).unwrap_or(0) + 1;
    tx.insert(Tree::Meta, key, &next.to_be_bytes())?;
    Ok(next)
}

fn read<T: DeserializeOwned>(tx: &dyn KvTx, tree: Tree, key: &[u8]) -> Result<Option<T>, TxError> {
    Ok(tx.get(tree, key)?.map(|b| decode(tree, &b)).transpose()?)
}

fn write<T: Serialize>(tx: &dyn KvTx, tree: Tree, key: &[u8], value: &T) -> Result<(), TxError> {
    tx.insert(tree, key, &encode(value)?)
}

/// A lead's record as the transaction sees it (empty when there is none).
fn read_lead_record(tx: &dyn KvTx, id: &str) -> Result<LeadRecord, TxError> {
    Ok(tx.get(Tree::Leads, id.as_bytes())?.map(|b| LeadRecord::decode(&b)).transpose()?.unwrap_or_default())
}

/// Writes a lead's record, or removes it once no section is left.
fn write_lead_record(tx: &dyn KvTx, id: &str, record: &LeadRecord) -> Result<(), TxError> {
    if record.is_empty() {
        tx.remove(Tree::Leads, id.as_bytes())
    } else {
        tx.insert(Tree::Leads, id.as_bytes(), &record.encode())
    }
}

/// Replaces one section of a lead's record; returns the record as it was.
fn set_lead_section(
    tx: &dyn KvTx,
    id: &str,
    section: Section,
    body: Option<Vec<u8>>,
) -> Result<LeadRecord, TxError> {
    set_lead_sections(tx, id, vec![(section, body)])
}

/// Replaces sections of a lead's record in one write; returns the record as it was.
fn set_lead_sections(
    tx: &dyn KvTx,
    id: &str,
    sections: Vec<(Section, Option<Vec<u8>>)>,
) -> Result<LeadRecord, TxError> {
    let old = read_lead_record(tx, id)?;
    let mut new = old.clone();
    let mut changed = false;
    for (section, body) in sections {
        changed |= new.set(section, body);
    }
    // Re-listed records GHL did not change cost no write.
    if changed {
        write_lead_record(tx, id, &new)?;
    }
    Ok(old)
}

/// Writes a lead's row and moves its index entries and temperature counter with it (`None`
/// removes the row), with the record's `other` sections in the same write. `was` is the row
/// the caller read, used for the stored one when its bytes are still those stored.
fn set_lead_row(
    tx: &dyn KvTx,
    id: &str,
    lead: Option<&LeadSummary>,
    mut other: Vec<(Section, Option<Vec<u8>>)>,
    was: Option<&ReadRow>,
    changes: Hooks<'_>,
) -> Result<(), TxError> {
    let body = lead.map(LeadSummary::to_section).transpose()?;
    other.push((Section::Row, body.clone()));
    let old = set_lead_sections(tx, id, other)?;
    if old.get(Section::Row) == body.as_deref() {
        return Ok(());
    }
    let old: Option<LeadSummary> = match was {
        Some(was) if old.get(Section::Row) == Some(&was.bytes[..]) => Some(was.row.clone()),
        _ => old.section(Section::Row)?,
    };
    if let Some(rows) = changes.rows {
        lock(rows).push((old.as_ref().map(LeadEntries::of), lead.map(LeadEntries::of)));
    }
    lock(changes.leads).push(id.to_owned());
    changes.fact(FactChange::Lead(old.as_ref().map(LeadFacts::of), lead.map(LeadFacts::of)));
    // Most row changes (a new message, a rescore) leave the words alone.
    if let Some(search) = changes.search
        && let Some(change) = SearchEntry::change(old.as_ref(), lead)
    {
        lock(search).push(change);
    }
    // Only the entries that moved are written: a rescore moves a lead's place in the queue
    // orders and rarely its time entries, and sled pays for every write, even of what it holds.
    let old_entries = old.as_ref().map(keys::lead_index_entries).unwrap_or_default();
    let new_entries = lead.map(keys::lead_index_entries).unwrap_or_default();
    for entry in &old_entries {
        if !new_entries.contains(entry) {
            tx.remove(entry.0, &entry.1)?;
        }
    }
    for entry in &new_entries {
        if !old_entries.contains(entry) {
            tx.insert(entry.0, &entry.1, &[])?;
        }
    }
    let place = lead.map(keys::queue_place);
    if place != old.as_ref().map(keys::queue_place) {
        match &place {
            Some(place) => tx.insert(Tree::QueuePlaces, id.as_bytes(), place)?,
            None => tx.remove(Tree::QueuePlaces, id.as_bytes())?,
        }
    }
    // The counters move only with the temperature: each bump is a read and a write.
    let (was, is) = (old.as_ref().map(|o| o.temperature), lead.map(|l| l.temperature));
    if was != is {
        if let Some(was) = was {
            bump(tx, temperature_counter(was), -1)?;
        }
        if let Some(is) = is {
            bump(tx, temperature_counter(is), 1)?;
        }
    }
    Ok(())
}

/// Which keys of `ranks`'s order a slice covers, first to last in key order.
fn slice_range(ranks: &mut LeadRanks, slice: &Slice) -> std::ops::Range<usize> {
    let set = ranks.get(slice.ranking);
    // The time orders' keys start with the time; a bound compares those 8 bytes.
    let start = slice.since.map_or(0, |t| {
        let since = keys::ts(t);
        set.rank_by(|k| k[..8.min(k.len())].cmp(&since[..]))
    });
    let end = slice.through.map_or(set.len(), |t| {
        let after = keys::ms(t.as_millisecond().saturating_add(1));
        set.rank_by(|k| k[..8.min(k.len())].cmp(&after[..]))
    });
    start..end.max(start)
}

/// A lock, whether or not a holder panicked (what it guards is rebuilt or overwritten whole).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn temperature_counter(t: Temperature) -> &'static str {
    t.as_str()
}

/// Whether an op of the batch carries out an item of this lead's follow-up record.
fn carries(batch: &Batch, record: &FollowUps) -> bool {
    batch.ops.iter().any(|o| o.followup.is_some() && o.contact_id == record.contact_id)
}

/// The record with each item carried by one of `ops` pointing at its op's sequence number
/// (`seqs[i]` is `ops[i]`'s).
fn link_ops(record: &FollowUps, ops: &[NewOp], seqs: &[u64]) -> FollowUps {
    let mut record = record.clone();
    for (op, &seq) in ops.iter().zip(seqs) {
        let Some(item_id) = op.followup.as_deref().filter(|_| op.contact_id == record.contact_id) else {
            continue;
        };
        if let Some(item) = record.item_mut(item_id) {
            item.op_seq = Some(seq);
        }
    }
    record
}

/// A task's index entries: by contact always, by due time while it is open.
pub(super) fn index_task(tx: &dyn KvTx, t: &Task) -> Result<(), TxError> {
    tx.insert(Tree::IdxTasksByContact, &keys::record_by_contact(&t.contact_id, &t.id), &[])?;
    if !t.completed {
        tx.insert(Tree::IdxOpenTasks, &keys::open_task(t.due_date, &t.id), t.contact_id.as_bytes())?;
    }
    Ok(())
}

fn unindex_task(tx: &dyn KvTx, t: &Task) -> Result<(), TxError> {
    tx.remove(Tree::IdxTasksByContact, &keys::record_by_contact(&t.contact_id, &t.id))?;
    tx.remove(Tree::IdxOpenTasks, &keys::open_task(t.due_date, &t.id))
}

/// Records that a deal moved from `old`'s stage to `new`'s, at the time GHL gives for the
/// change (a local edit sets it to the edit's time), else the deal's last update.
fn record_stage_change(tx: &dyn KvTx, old: &Opportunity, new: &Opportunity) -> Result<(), TxError> {
    let Some(at) = new.last_stage_change_at.or(new.updated_at) else {
        return Ok(());
    };
    let change = StageChange {
        at,
        opportunity_id: new.id.clone(),
        pipeline_id: new.pipeline_id.clone(),
        from_stage: (old.pipeline_id == new.pipeline_id).then(|| old.pipeline_stage_id.clone()),
        to_stage: new.pipeline_stage_id.clone(),
    };
    write(tx, Tree::StageChanges, &keys::stage_change(&new.contact_id, at, &new.id), &change)
}

fn apply_put(tx: &dyn KvTx, put: &Put, changes: Hooks<'_>) -> Result<(), TxError> {
    match put {
        Put::Contact(c) => {
            let old = set_lead_section(tx, &c.id, Section::Contact, Some(c.to_section()?))?;
            if old.get(Section::Contact).is_none() {
                bump(tx, "contacts", 1)?;
            }
            Ok(())
        }
        Put::Opportunity(o) => {
            let old = read::<Opportunity>(tx, Tree::Opportunities, o.id.as_bytes())?;
            // Deals are re-listed whole (GHL has no updated-since filter for them): an
            // unchanged one costs no write.
            if old.as_ref() == Some(o) {
                return Ok(());
            }
            match &old {
                None => bump(tx, "opportunities", 1)?,
                Some(old) if old.contact_id != o.contact_id => tx.remove(
                    Tree::IdxOpportunitiesByContact,
                    &keys::opportunity_by_contact(&old.contact_id, &old.id),
                )?,
                Some(_) => {}
            }
            changes.fact(FactChange::Deal(old.as_ref().map(DealFacts::of), Some(DealFacts::of(o))));
            if let Some(old) = old.as_ref().filter(|old| old.pipeline_stage_id != o.pipeline_stage_id) {
                record_stage_change(tx, old, o)?;
            }
            if old.is_none_or(|old| old.contact_id != o.contact_id) {
                tx.insert(
                    Tree::IdxOpportunitiesByContact,
                    &keys::opportunity_by_contact(&o.contact_id, &o.id),
                    &[],
                )?;
            }
            write(tx, Tree::Opportunities, o.id.as_bytes(), o)
        }
        Put::Message(m) => {
            let key = keys::message_by_contact(&m.contact_id, m.date_added, &m.id);
            match tx.get(Tree::MessageIds, m.id.as_bytes())? {
                Some(old) if old != key => tx.remove(Tree::MessagesByContact, &old)?,
                Some(_) => {}
                None => bump(tx, "messages", 1)?,
            }
            write(tx, Tree::MessagesByContact, &key, m)?;
            tx.insert(Tree::MessageIds, m.id.as_bytes(), &key)
        }
        Put::Lead(lead) => set_lead_row(tx, &lead.id, Some(lead), Vec::new(), None, changes),
        Put::Derived { score, row, inputs, was } => {
            let mut other = vec![(Section::Score, Some(score.to_section()?))];
            if let Some(bytes) = inputs {
                other.push((Section::Inputs, Some(bytes.clone())));
            }
            set_lead_row(tx, &row.id, Some(row), other, was.as_deref(), changes)
        }
        Put::Pipeline(p) => write(tx, Tree::Pipelines, p.id.as_bytes(), p),
        Put::User(u) => write(tx, Tree::Users, u.id.as_bytes(), u),
        Put::Task(t) => {
            let old = read::<Task>(tx, Tree::Tasks, t.id.as_bytes())?;
            if old.as_ref() == Some(t) {
                return Ok(());
            }
            if let Some(old) = &old {
                unindex_task(tx, old)?;
            }
            index_task(tx, t)?;
            write(tx, Tree::Tasks, t.id.as_bytes(), t)
        }
        Put::Note(n) => {
            if let Some(old) = read::<Note>(tx, Tree::Notes, n.id.as_bytes())?
                && old.contact_id != n.contact_id
            {
                tx.remove(Tree::IdxNotesByContact, &keys::record_by_contact(&old.contact_id, &old.id))?;
            }
            tx.insert(Tree::IdxNotesByContact, &keys::record_by_contact(&n.contact_id, &n.id), &[])?;
            write(tx, Tree::Notes, n.id.as_bytes(), n)
        }
        Put::Score(s) => set_lead_section(tx, &s.contact_id, Section::Score, Some(s.to_section()?)).map(drop),
        Put::ScoringInputs { contact_id, bytes } => {
            set_lead_section(tx, contact_id, Section::Inputs, Some(bytes.clone())).map(drop)
        }
        Put::FollowUps(f) => {
            if changes.facts.is_some() {
                let old = read::<FollowUps>(tx, Tree::FollowUps, f.contact_id.as_bytes())?;
                changes.fact(FactChange::Steps(
                    old.as_ref().map(analytics::step_facts).unwrap_or_default(),
                    analytics::step_facts(f),
                ));
            }
            write(tx, Tree::FollowUps, f.contact_id.as_bytes(), f)
        }
        Put::Op(op) => {
            let key = op.seq.to_be_bytes();
            if tx.get(Tree::PendingOps, &key)?.is_some() {
                write(tx, Tree::PendingOps, &key, op)
            } else {
                Ok(())
            }
        }
        Put::Meta { key, value } => write(tx, Tree::Meta, meta_key(key).as_bytes(), value),
        Put::Audit(event) => {
            let seq = next_seq(tx, SEQ_AUDIT)?;
            let at = event.at.map(keys::ts).unwrap_or_else(|| keys::ms(0));
            write(tx, Tree::Audit, &keys::join(&[&at, &seq.to_be_bytes()]), event)
        }
    }
}

fn apply_remove(tx: &dyn KvTx, remove: &Remove, changes: Hooks<'_>) -> Result<(), TxError> {
    match remove {
        Remove::Contact(id) => {
            if set_lead_section(tx, id, Section::Contact, None)?.get(Section::Contact).is_some() {
                bump(tx, "contacts", -1)?;
            }
            Ok(())
        }
        Remove::Opportunity(id) => {
            if let Some(old) = read::<Opportunity>(tx, Tree::Opportunities, id.as_bytes())? {
                tx.remove(
                    Tree::IdxOpportunitiesByContact,
                    &keys::opportunity_by_contact(&old.contact_id, id),
                )?;
                bump(tx, "opportunities", -1)?;
                tx.remove(Tree::Opportunities, id.as_bytes())?;
                changes.fact(FactChange::Deal(Some(DealFacts::of(&old)), None));
            }
            Ok(())
        }
        Remove::Message(id) => {
            if let Some(key) = tx.get(Tree::MessageIds, id.as_bytes())? {
                tx.remove(Tree::MessagesByContact, &key)?;
                bump(tx, "messages", -1)?;
                tx.remove(Tree::MessageIds, id.as_bytes())?;
            }
            Ok(())
        }
        // The inputs are what the row was derived from: they go with it.
        Remove::Lead(id) => set_lead_row(tx, id, None, vec![(Section::Inputs, None)], None, changes),
        Remove::Task(id) => {
            if let Some(old) = read::<Task>(tx, Tree::Tasks, id.as_bytes())? {
                unindex_task(tx, &old)?;
            }
            tx.remove(Tree::Tasks, id.as_bytes())
        }
        Remove::Note(id) => {
            if let Some(old) = read::<Note>(tx, Tree::Notes, id.as_bytes())? {
                tx.remove(Tree::IdxNotesByContact, &keys::record_by_contact(&old.contact_id, &old.id))?;
            }
            tx.remove(Tree::Notes, id.as_bytes())
        }
        Remove::User(id) => tx.remove(Tree::Users, id.as_bytes()),
        Remove::Score(id) => set_lead_section(tx, id, Section::Score, None).map(drop),
        Remove::FollowUps(id) => {
            if changes.facts.is_some()
                && let Some(old) = read::<FollowUps>(tx, Tree::FollowUps, id.as_bytes())?
            {
                changes.fact(FactChange::Steps(analytics::step_facts(&old), Vec::new()));
            }
            tx.remove(Tree::FollowUps, id.as_bytes())
        }
        Remove::PendingOp(seq) => tx.remove(Tree::PendingOps, &seq.to_be_bytes()),
        Remove::StageChange(key) => tx.remove(Tree::StageChanges, key),
    }
}

#[cfg(test)]
mod change_log_tests {
    use super::{CHANGE_LOG_IDS, ChangeLog};

    /// Past its size the log forgets its oldest commits, and says so to a reader that far
    /// behind rather than give it part of what changed; it always keeps the last commit.
    #[test]
    fn the_log_forgets_its_oldest_commits_and_says_so() {
        let mut log = ChangeLog::default();
        assert_eq!(log.since(0), None, "an empty log reaches back to nothing");
        log.push(1, vec!["a".into()]);
        log.push(2, vec!["b".into(), "a".into()]);
        let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect();
        assert_eq!(log.since(0), Some((2, ids(&["a", "b"]))));
        assert_eq!(log.since(1), Some((2, ids(&["a", "b"]))));
        assert_eq!(log.since(2), Some((2, ids(&[]))));
        // Three ids so far: this fills the log to its size exactly.
        log.push(3, (0..CHANGE_LOG_IDS - 3).map(|i| i.to_string()).collect());
        assert_eq!(log.since(0).map(|(g, ids)| (g, ids.len())), Some((3, CHANGE_LOG_IDS - 3 + 2)));
        log.push(4, vec!["c".into()]);
        assert_eq!(log.since(0), None, "the first commit is gone");
        assert_eq!(log.since(1).map(|(g, ids)| (g, ids.len())), Some((4, CHANGE_LOG_IDS - 3 + 3)));
        log.push(5, (0..CHANGE_LOG_IDS + 1).map(|i| format!("x{i}")).collect());
        assert_eq!(log.since(3), None);
        assert_eq!(
            log.since(4).map(|(g, ids)| (g, ids.len())),
            Some((5, CHANGE_LOG_IDS + 1)),
            "the last is kept"
        );
        // Commits that change no lead move the generation on and take no place.
        for g in 6..10_000 {
            log.push(g, Vec::new());
        }
        assert_eq!(log.commits.len(), 1);
        assert_eq!(log.since(5), Some((9_999, ids(&[]))));
        assert_eq!(log.since(4).map(|(g, ids)| (g, ids.len())), Some((9_999, CHANGE_LOG_IDS + 1)));
    }
}
