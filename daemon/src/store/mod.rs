//! The local store.
//!
//! Two layers:
//! - [`Store`]: an ordered key-value backend with one tree per entity and atomic multi-tree
//!   transactions. [`SledStore`] is the real one; [`MemoryStore`] serves tests and tools. Both
//!   pass the same [`conformance`] suite.
//! - [`Db`]: the typed layer on top. It encodes records with a version byte, keeps every
//!   secondary index and counter in the same transaction as its record, owns the schema
//!   version and its migrations, and answers the queries the engine and the IPC need.

mod codec;
#[cfg(any(test, feature = "test-support"))]
pub mod conformance;
mod db;
pub mod keys;
mod listings;
pub use listings::ListingChanges;
mod memory;
mod ranked;
mod ranks;
mod schema;
mod sections;
mod sled_store;
mod snapshot;

use std::future::Future;
use std::ops::ControlFlow;
use std::pin::Pin;

pub(crate) use db::deleted_contacts_put;
pub use db::{
    Batch, DELETED_CONTACT_TTL, Db, LeadOrder, META_DELETED_CONTACTS, NewOp, Put, ReadRow, Remove,
    SearchResults, Slice, SliceWindow, StageChange, StoredLead,
};
pub use memory::MemoryStore;
pub use ranks::Ranking;
pub use schema::{CURRENT_SCHEMA, Migration};
pub use sled_store::SledStore;

/// The trees of the store, one per entity plus the secondary indexes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tree {
    Meta,
    /// One record per lead: its GHL contact, its score and its row, each a JSON section (`codec.rs`).
    /// At 100 k leads each random insert costs sled about 10 µs, so a lead is one write.
    Leads,
    Opportunities,
    Pipelines,
    /// Message id → the message's key in [`Tree::MessagesByContact`].
    MessageIds,
    Users,
    Tasks,
    Notes,
    /// Schema 3's scores, merged into [`Tree::Leads`] by the migration to schema 4; kept so
    /// that its tag is never reused.
    RetiredScores,
    /// Schema 3's lead rows, merged into [`Tree::Leads`] like [`Tree::RetiredScores`].
    RetiredLeadRows,
    FollowUps,
    PendingOps,
    Audit,
    /// Schema 8's queue order on disk (priority, score, recency, id), which every rescore moved
    /// at a random place; replaced by [`Tree::QueuePlaces`] and emptied by the migration to
    /// schema 9. Kept so that its tag is never reused.
    RetiredIdxScore,
    /// Schema 2's index of leads by last activity, which no queue walked. Emptied by the
    /// migration to schema 3; kept so that its tag is never reused.
    RetiredIdxActivity,
    /// Leads by next follow-up due, soonest first.
    IdxDue,
    /// Leads waiting for a reply, longest-waiting first.
    IdxAwaiting,
    /// Leads nobody has contacted yet, oldest first.
    IdxUncontacted,
    /// The message records, clustered by contact and time: a lead's conversation is one
    /// range scan, which scoring does for every lead it touches.
    MessagesByContact,
    /// Opportunities by contact.
    IdxOpportunitiesByContact,
    /// Notes by contact: contact, NUL, note id (the lead's timeline reads one range).
    IdxNotesByContact,
    /// Tasks by contact: contact, NUL, task id.
    IdxTasksByContact,
    /// Open (not completed) tasks by due time: due, task id (the Tasks screen reads the first
    /// of them, never the whole tree).
    IdxOpenTasks,
    /// Deal stage changes seen by the store (sync or a local edit), by contact and time: the
    /// lead's timeline. Contact, NUL, time, opportunity id → a [`crate::store::StageChange`].
    StageChanges,
    /// Conversion models trained on the location's history, by version (big-endian `u32`),
    /// each with its held-out figures and whether it was promoted ([`crate::intel`]).
    Models,
    /// Property listings by listing id (`leadline listings import`).
    Listings,
    /// Each lead's place in the queue orders, by contact id ([`keys::queue_place`]): what the
    /// in-memory orders (`ranks.rs`) are built from at start. Keyed by id, a new score
    /// overwrites the lead's entry in place, in the id order a full rescore walks, where a key
    /// holding the order itself moved to a random place with every score.
    QueuePlaces,
}

impl Tree {
    /// Every tree, in a fixed order (the backends index their trees by it).
    pub const ALL: [Tree; 27] = [
        Tree::Meta,
        Tree::Leads,
        Tree::Opportunities,
        Tree::Pipelines,
        Tree::MessageIds,
        Tree::Users,
        Tree::Tasks,
        Tree::Notes,
        Tree::RetiredScores,
        Tree::RetiredLeadRows,
        Tree::FollowUps,
        Tree::PendingOps,
        Tree::Audit,
        Tree::RetiredIdxScore,
        Tree::RetiredIdxActivity,
        Tree::IdxDue,
        Tree::IdxAwaiting,
        Tree::IdxUncontacted,
        Tree::MessagesByContact,
        Tree::IdxOpportunitiesByContact,
        Tree::IdxNotesByContact,
        Tree::IdxTasksByContact,
        Tree::IdxOpenTasks,
        Tree::StageChanges,
        Tree::Models,
        Tree::Listings,
        Tree::QueuePlaces,
    ];

    /// The tree's name on disk.
    pub fn name(self) -> &'static str {
        match self {
            Tree::Meta => "meta",
            // The names are those of the layout with one sled tree per entity, which
            // `SledStore` adopts: schema 3 kept the contact records here.
            Tree::Leads => "contacts",
            Tree::Opportunities => "opportunities",
            Tree::Pipelines => "pipelines",
            // Schema 1 kept the records here; the name stays so that stores migrate in place.
            Tree::MessageIds => "messages",
            Tree::Users => "users",
            Tree::Tasks => "tasks",
            Tree::Notes => "notes",
            Tree::RetiredScores => "scores",
            Tree::RetiredLeadRows => "leads",
            Tree::FollowUps => "followups",
            Tree::PendingOps => "pending_ops",
            Tree::Audit => "audit",
            Tree::RetiredIdxScore => "idx_score",
            Tree::RetiredIdxActivity => "idx_activity",
            Tree::IdxDue => "idx_due",
            Tree::IdxAwaiting => "idx_awaiting",
            Tree::IdxUncontacted => "idx_uncontacted",
            Tree::MessagesByContact => "idx_messages_by_contact",
            Tree::IdxOpportunitiesByContact => "idx_opportunities_by_contact",
            Tree::IdxNotesByContact => "idx_notes_by_contact",
            Tree::IdxTasksByContact => "idx_tasks_by_contact",
            Tree::IdxOpenTasks => "idx_open_tasks",
            Tree::StageChanges => "stage_changes",
            Tree::Models => "models",
            Tree::Listings => "listings",
            Tree::QueuePlaces => "queue_places",
        }
    }

    fn index(self) -> usize {
        self as usize
    }

    /// The byte that prefixes the tree's keys when the backend keeps every tree in one.
    /// Fixed by the on-disk format: never renumber a tree.
    fn tag(self) -> u8 {
        self as u8
    }
}

/// Why the store failed. Messages say what to do.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "cannot open the store at {path}: {message}. If it is damaged, stop leadlined, move the directory aside and start again: the store is rebuilt from GHL by a full sync"
    )]
    Open { path: String, message: String },
    #[error("store I/O failed: {0}. Check free disk space and permissions of the data directory")]
    Backend(String),
    #[error(
        "a record in {tree} is unreadable ({reason}). Run `leadline doctor`; if it persists, move the store aside and re-sync"
    )]
    Corrupt { tree: &'static str, reason: String },
    #[error(
        "the store was written by a newer Leadline (schema {found}, this one knows up to {supported}). Upgrade Leadline, or move the data directory aside to re-sync"
    )]
    NewerSchema { found: u32, supported: u32 },
    #[error("migrating the store from schema {from} failed: {message}")]
    Migration { from: u32, message: String },
}

/// Refuses a side file name that could leave the store's directory or clash with its files.
fn check_side_name(name: &str) -> Result<(), StoreError> {
    let fine = !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if fine {
        Ok(())
    } else {
        Err(StoreError::Backend(format!(
            "{name:?} is not a side file name (lowercase ASCII letters, digits and `-`): a bug in Leadline, please report it"
        )))
    }
}

/// A transaction's view of the store. Reads see the transaction's own writes.
pub trait KvTx {
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, TxError>;
    fn insert(&self, tree: Tree, key: &[u8], value: &[u8]) -> Result<(), TxError>;
    fn remove(&self, tree: Tree, key: &[u8]) -> Result<(), TxError>;
}

/// An error inside a transaction. `Conflict` makes the backend retry the transaction.
#[derive(Debug)]
pub enum TxError {
    Conflict,
    Abort(StoreError),
}

impl From<StoreError> for TxError {
    fn from(e: StoreError) -> Self {
        TxError::Abort(e)
    }
}

/// The body of a transaction. It may run more than once, so it must do no IO of its own.
pub type TxBody<'a> = &'a dyn Fn(&dyn KvTx) -> Result<(), TxError>;

/// A visitor over a range scan: return `Break` to stop.
pub type Visit<'a> = &'a mut dyn FnMut(&[u8], &[u8]) -> ControlFlow<()>;

/// A boxed future, so that [`Store`] stays object-safe.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// An ordered key-value backend: one tree per entity, atomic multi-tree transactions, and an
/// explicit durability point.
pub trait Store: Send + Sync + 'static {
    /// Reads one key.
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;

    /// Visits keys starting at `from` (inclusive) upwards, or from the end downwards when
    /// `reverse`, in byte order, while they start with `prefix`.
    fn scan(
        &self,
        tree: Tree,
        prefix: &[u8],
        from: Option<&[u8]>,
        reverse: bool,
        visit: Visit<'_>,
    ) -> Result<(), StoreError>;

    /// Runs `body` atomically across trees: all of its writes land, or none.
    fn transact(&self, body: TxBody<'_>) -> Result<(), StoreError>;

    /// Makes every write so far durable. A write is acknowledged only after this returns.
    fn flush(&self) -> BoxFuture<'_, Result<(), StoreError>>;

    /// Bytes the store takes on disk, side files included (0 for memory).
    fn size_on_disk(&self) -> Result<u64, StoreError>;

    /// A side file's bytes (`None`: there is none). A side file is a value kept beside the
    /// trees, read and replaced whole, in no transaction ([`Store::write_side`]).
    fn read_side(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError>;

    /// Replaces a side file whole, durably (`None` removes it): after a crash it holds the old
    /// bytes or the new, never a mix. For a big value read once: sled keeps a value in its
    /// leaf, and caches the leaf whenever a key beside it is read, so the 15 MB snapshot of the
    /// derived structures kept among the meta keys stayed resident (about 59 MB of cache)
    /// while any meta key was read, which every commit does. `name` is lowercase ASCII
    /// letters, digits and `-`.
    fn write_side(&self, name: &str, bytes: Option<&[u8]>) -> Result<(), StoreError>;

    /// The number of keys in a tree (may walk the tree: not for hot paths).
    fn len(&self, tree: Tree) -> Result<u64, StoreError>;
}
