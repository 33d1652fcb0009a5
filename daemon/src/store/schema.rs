//! The schema version and its migrations.

use std::ops::ControlFlow;

use leadline_shared::domain::{LeadSummary, Message, Score};

use super::codec::{LeadRecord, RECORD_V1, Section, decode, decode_section};
use super::sections::SectionValue;
use super::snapshot::RETIRED_META_SNAPSHOT;
use super::{Db, KvTx, Store, StoreError, Tree, TxError, keys};

/// The schema this Leadline writes. Bump it with a migration whenever a tree's layout, a
/// key encoding or an index changes meaning.
pub const CURRENT_SCHEMA: u32 = 11;

/// One step from `from` to `from + 1`. It runs in the daemon before anything else touches
/// the store, and the version is bumped only after it succeeded.
pub struct Migration {
    pub from: u32,
    pub describe: &'static str,
    pub run: fn(&Db) -> Result<(), StoreError>,
}

/// The migrations of this release, oldest first.
pub const MIGRATIONS: &[Migration] = &[
    Migration { from: 1, describe: "cluster message records by contact", run: cluster_messages },
    Migration { from: 2, describe: "drop the unused lead-activity index", run: drop_activity_index },
    Migration { from: 3, describe: "one record per lead", run: merge_lead_records },
    Migration { from: 4, describe: "hot and last activity beside each score index entry", run: score_values },
    Migration {
        from: 5,
        describe: "index notes and tasks by contact, open tasks by due time",
        run: index_notes_tasks,
    },
    Migration { from: 6, describe: "order hot and all by the composite priority", run: priority_keys },
    Migration { from: 7, describe: "lead records may carry their scoring inputs", run: inputs_section },
    Migration {
        from: 8,
        describe: "each lead's place in the queue orders kept by its id",
        run: queue_places,
    },
    Migration { from: 9, describe: "lead rows and scores in a binary encoding", run: binary_sections },
    Migration {
        from: 10,
        describe: "the derived structures' snapshot beside the trees",
        run: snapshot_aside,
    },
];

/// Schema 10 → 11. The snapshot of the analytics and the search index (15 MB at 100 k leads)
/// was a meta key, and sled caches a value with its leaf: every meta read (each commit makes
/// one) kept it resident. It is a side file now ([`super::Store::write_side`]), written as the
/// daemon stops. A snapshot holds for the schema it was taken at only, so the old key is
/// dropped, not moved: the first start after this migration builds the structures from the
/// records, as after any migration.
fn snapshot_aside(db: &Db) -> Result<(), StoreError> {
    let store = db.backend();
    store.transact(&|tx| tx.remove(Tree::Meta, RETIRED_META_SNAPSHOT))
}

/// Schema 9 → 10. A lead's row and score sections were JSON; reading a row's named fields
/// was a tenth of a full rescore and most of a restart's walk over the rows. They are now
/// binary ([`super::sections`]). JSON sections still read, so this only spares every later read
/// the slower path: each record whose row or score is still JSON is written again, in chunks,
/// each its own transaction. A record already converted is not written again, so a rerun after
/// an interruption writes only what is left; one whose sections do not read is left as it is,
/// and counted.
fn binary_sections(db: &Db) -> Result<(), StoreError> {
    let store = db.backend();
    let mut after: Option<Vec<u8>> = None;
    let mut unreadable = 0usize;
    loop {
        let chunk = next_chunk(store, Tree::Leads, after.as_deref(), |_| true)?;
        let mut writes = Vec::with_capacity(chunk.keys.len());
        for id in &chunk.keys {
            let Some(bytes) = store.get(Tree::Leads, id)? else { continue };
            let Ok(mut record) = LeadRecord::decode(&bytes) else {
                unreadable += 1;
                continue;
            };
            match encode_sections_anew(&mut record) {
                Ok(true) => writes.push((id.clone(), record.encode())),
                Ok(false) => {}
                Err(_) => unreadable += 1,
            }
        }
        if !writes.is_empty() {
            store.transact(&|tx| {
                writes.iter().try_for_each(|(id, record)| tx.insert(Tree::Leads, id, record))
            })?;
        }
        match chunk.last {
            Some(last) => after = Some(last),
            None => break,
        }
    }
    if unreadable > 0 {
        tracing::warn!(unreadable, "lead records that did not read were left as they were");
    }
    Ok(())
}

/// Writes a record's row and score sections again in today's encoding; whether that changed
/// them.
fn encode_sections_anew(record: &mut LeadRecord) -> Result<bool, StoreError> {
    let mut changed = false;
    if let Some(row) = record.section::<LeadSummary>(Section::Row)? {
        changed |= record.set(Section::Row, Some(row.to_section()?));
    }
    if let Some(score) = record.section::<Score>(Section::Score)? {
        changed |= record.set(Section::Score, Some(score.to_section()?));
    }
    Ok(changed)
}

/// Schema 8 → 9. The score order was a tree keyed by the order itself (priority, score,
/// recency, id), so every new score removed the lead's entry and inserted one at a random place:
/// half of a 100 k-lead model upgrade's time. Each entry is now kept under the lead's id
/// ([`Tree::QueuePlaces`], [`keys::queue_place`]), the key's fixed part moved into the value.
/// Each chunk writes its places and removes their old entries in one transaction, so an
/// interrupted run goes on with the entries left.
fn queue_places(db: &Db) -> Result<(), StoreError> {
    let store = db.backend();
    let mut unreadable = 0usize;
    loop {
        let mut chunk: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
        store.scan(Tree::RetiredIdxScore, b"", None, false, &mut |k, v| {
            chunk.push((k.to_vec(), v.to_vec()));
            if chunk.len() >= MIGRATION_CHUNK { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
        })?;
        if chunk.is_empty() {
            break;
        }
        let places: Vec<_> = chunk.iter().map(|(k, v)| keys::place_of_score_entry(k, v)).collect();
        unreadable += places.iter().filter(|p| p.is_none()).count();
        store.transact(&|tx| {
            for ((key, _), place) in chunk.iter().zip(&places) {
                tx.remove(Tree::RetiredIdxScore, key)?;
                if let Some((id, place)) = place {
                    tx.insert(Tree::QueuePlaces, id, place)?;
                }
            }
            Ok(())
        })?;
    }
    if unreadable > 0 {
        tracing::warn!(
            unreadable,
            "score index entries in no known shape were dropped; each lead is back in the queues with its next change"
        );
    }
    Ok(())
}

/// Schema 7 → 8. A lead record gains a fourth section, the lead's scoring inputs
/// (`ingest::inputs`), in a new record encoding (`codec::RECORD_LEAD`). Nothing is rewritten:
/// the older records still read, and each gets its inputs when it is next derived (a full
/// rescore derives a lead without them from its records). The version marks the store, so
/// that an older Leadline refuses it whole rather than tripping on the first new record.
fn inputs_section(_: &Db) -> Result<(), StoreError> {
    Ok(())
}

/// Schema 6 → 7. The score index was ordered by score; now by the composite priority
/// (`engine::priority`), which each row stores. Every row gets its priority as of now, with
/// the default `[scoring.priority]` (the daemon's refresh at start re-derives them when the
/// configuration differs), and the index is written afresh. Clearing first makes a rerun of an
/// interrupted migration start over, so it is safe to run again.
fn priority_keys(db: &Db) -> Result<(), StoreError> {
    use leadline_shared::config::PriorityConfig;
    clear(db, Tree::RetiredIdxScore)?;
    let store = db.backend();
    let now = jiff::Timestamp::now();
    let cfg = PriorityConfig::default();
    let mut after: Option<Vec<u8>> = None;
    loop {
        let chunk = next_chunk(store, Tree::Leads, after.as_deref(), |_| true)?;
        let mut writes = Vec::with_capacity(chunk.keys.len());
        for id in &chunk.keys {
            let Some(bytes) = store.get(Tree::Leads, id)? else { continue };
            let mut record = LeadRecord::decode(&bytes)?;
            let Some(mut lead) = record.section::<LeadSummary>(Section::Row)? else { continue };
            crate::engine::priority::stamp(&mut lead, now, &cfg);
            record.set(Section::Row, Some(lead.to_section()?));
            writes.push((id.clone(), record.encode(), keys::queue_key(&lead), keys::score_value(&lead)));
        }
        store.transact(&|tx| {
            for (id, record, key, value) in &writes {
                tx.insert(Tree::Leads, id, record)?;
                tx.insert(Tree::RetiredIdxScore, key, value)?;
            }
            Ok(())
        })?;
        match chunk.last {
            Some(last) => after = Some(last),
            None => return Ok(()),
        }
    }
}

/// Schema 5 → 6. Notes and tasks were kept by id alone, so a lead's could only be found by
/// walking them all; now each has an entry by contact, and open tasks one by due time. Safe to
/// run again (an entry is written whole or not at all).
fn index_notes_tasks(db: &Db) -> Result<(), StoreError> {
    use leadline_shared::domain::{Note, Task};
    let store = db.backend();
    for tree in [Tree::Notes, Tree::Tasks] {
        let mut after: Option<Vec<u8>> = None;
        loop {
            let mut chunk: Vec<(Vec<u8>, Vec<u8>)> = Vec::with_capacity(MIGRATION_CHUNK);
            store.scan(tree, b"", after.as_deref(), false, &mut |k, v| {
                if after.as_deref() != Some(k) {
                    chunk.push((k.to_vec(), v.to_vec()));
                }
                if chunk.len() >= MIGRATION_CHUNK {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            })?;
            let Some((last, _)) = chunk.last() else { break };
            after = Some(last.clone());
            store.transact(&|tx| {
                for (_, value) in &chunk {
                    if tree == Tree::Notes {
                        let n: Note = decode(tree, value)?;
                        tx.insert(
                            Tree::IdxNotesByContact,
                            &keys::record_by_contact(&n.contact_id, &n.id),
                            &[],
                        )?;
                    } else {
                        let t: Task = decode(tree, value)?;
                        super::db::index_task(tx, &t)?;
                    }
                }
                Ok(())
            })?;
        }
    }
    Ok(())
}

/// Records moved per transaction while migrating.
const MIGRATION_CHUNK: usize = 1000;

/// Schema 1 → 2. Schema 1 kept message records by id and an empty index entry by contact and
/// time, so scoring a lead cost one read per message. Now the records live under the index
/// key and the id tree keeps only that key. An interrupted run resumes: a moved message is
/// recognised because its id now maps to a key, not to a versioned record.
fn cluster_messages(db: &Db) -> Result<(), StoreError> {
    let store = db.backend();
    let mut after: Option<Vec<u8>> = None;
    loop {
        let mut chunk: Vec<(Vec<u8>, Vec<u8>)> = Vec::with_capacity(MIGRATION_CHUNK);
        store.scan(Tree::MessageIds, b"", after.as_deref(), false, &mut |k, v| {
            if after.as_deref() != Some(k) {
                chunk.push((k.to_vec(), v.to_vec()));
            }
            if chunk.len() >= MIGRATION_CHUNK { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
        })?;
        let Some((last, _)) = chunk.last() else { return Ok(()) };
        after = Some(last.clone());
        store.transact(&|tx| {
            for (id, value) in &chunk {
                if value.first() != Some(&RECORD_V1) {
                    continue;
                }
                let m: Message = decode(Tree::MessageIds, value)?;
                let key = keys::message_by_contact(&m.contact_id, m.date_added, &m.id);
                tx.insert(Tree::MessagesByContact, &key, value)?;
                tx.insert(Tree::MessageIds, id, &key)?;
            }
            Ok(())
        })?;
    }
}

/// Schema 2 → 3. No queue walked the activity index, yet every lead write paid for it.
fn drop_activity_index(db: &Db) -> Result<(), StoreError> {
    clear(db, Tree::RetiredIdxActivity)
}

/// Schema 3 → 4. Schema 3 kept a lead's contact, score and row as three records, three random
/// sled inserts per rescored lead; now they are one record's sections. The contact records
/// are converted where they lie (a converted one is recognised by its encoding, so an
/// interrupted run resumes), then any score or row left without a contact is moved too.
fn merge_lead_records(db: &Db) -> Result<(), StoreError> {
    let store = db.backend();
    let body = |tree: Tree, value: Vec<u8>| match value.split_first() {
        Some((&RECORD_V1, body)) => Ok(body.to_vec()),
        _ => Err(TxError::Abort(StoreError::Corrupt {
            tree: tree.name(),
            reason: "not a schema 3 record".into(),
        })),
    };
    let retired = |tx: &dyn KvTx, tree: Tree, id: &[u8]| -> Result<Option<Vec<u8>>, TxError> {
        let value = tx.get(tree, id)?;
        if value.is_some() {
            tx.remove(tree, id)?;
        }
        value.map(|v| body(tree, v)).transpose()
    };
    let merge = |tx: &dyn KvTx, id: &[u8]| -> Result<(), TxError> {
        let mut record = match tx.get(Tree::Leads, id)? {
            Some(v) if v.first() == Some(&RECORD_V1) => {
                let mut record = LeadRecord::default();
                record.set(Section::Contact, Some(body(Tree::Leads, v)?));
                record
            }
            Some(v) => LeadRecord::decode(&v)?,
            None => LeadRecord::default(),
        };
        for (tree, section) in [(Tree::RetiredScores, Section::Score), (Tree::RetiredLeadRows, Section::Row)]
        {
            if let Some(part) = retired(tx, tree, id)? {
                record.set(section, Some(part));
            }
        }
        tx.insert(Tree::Leads, id, &record.encode())
    };
    let mut after: Option<Vec<u8>> = None;
    loop {
        let chunk = next_chunk(store, Tree::Leads, after.as_deref(), |v| v.first() == Some(&RECORD_V1))?;
        store.transact(&|tx| chunk.keys.iter().try_for_each(|id| merge(tx, id)))?;
        match chunk.last {
            Some(last) => after = Some(last),
            None => break,
        }
    }
    // Scores and rows whose contact was never synced (or already removed): each pass moves
    // what it finds out of the retired tree.
    for tree in [Tree::RetiredScores, Tree::RetiredLeadRows] {
        drain(store, tree, merge)?;
    }
    Ok(())
}

/// Schema 4 → 5. The queue orders are built from the index trees alone, and `hot` and
/// `dormant` need each lead's temperature and last activity: the score index entry carries
/// them as its value (`keys::score_value`), written here from each lead's row. Rewriting a
/// value is idempotent, so an interrupted run starts over.
fn score_values(db: &Db) -> Result<(), StoreError> {
    let store = db.backend();
    let mut after: Option<Vec<u8>> = None;
    loop {
        let chunk = next_chunk(store, Tree::Leads, after.as_deref(), |_| true)?;
        let mut entries = Vec::with_capacity(chunk.keys.len());
        for id in &chunk.keys {
            let Some(row) = store.get(Tree::Leads, id)? else { continue };
            if let Some(lead) = decode_section::<LeadSummary>(&row, Section::Row)? {
                entries.push((keys::queue_key(&lead), keys::score_value(&lead)));
            }
        }
        store.transact(&|tx| {
            entries.iter().try_for_each(|(key, value)| tx.insert(Tree::RetiredIdxScore, key, value))
        })?;
        match chunk.last {
            Some(last) => after = Some(last),
            None => return Ok(()),
        }
    }
}

/// Empties a tree, one transaction per chunk (an interrupted run just carries on).
fn clear(db: &Db, tree: Tree) -> Result<(), StoreError> {
    drain(db.backend(), tree, |tx, k| tx.remove(tree, k))
}

/// Applies `take` to every key of `tree`, a chunk per transaction, until the tree is empty:
/// `take` must remove the key it is given.
fn drain(
    store: &dyn Store,
    tree: Tree,
    take: impl Fn(&dyn KvTx, &[u8]) -> Result<(), TxError>,
) -> Result<(), StoreError> {
    loop {
        let chunk = next_chunk(store, tree, None, |_| true)?.keys;
        if chunk.is_empty() {
            return Ok(());
        }
        store.transact(&|tx| chunk.iter().try_for_each(|k| take(tx, k)))?;
    }
}

/// Keys picked from a tree, a chunk at a time.
struct Chunk {
    keys: Vec<Vec<u8>>,
    /// The last key looked at, `None` once the tree is walked to its end.
    last: Option<Vec<u8>>,
}

/// Up to a chunk of the keys of `tree` after `after` whose value passes `pick`.
fn next_chunk(
    store: &dyn Store,
    tree: Tree,
    after: Option<&[u8]>,
    pick: impl Fn(&[u8]) -> bool,
) -> Result<Chunk, StoreError> {
    let mut chunk = Vec::new();
    let mut last = None;
    store.scan(tree, b"", after, false, &mut |k, v| {
        if after == Some(k) {
            return ControlFlow::Continue(());
        }
        if pick(v) {
            chunk.push(k.to_vec());
        }
        last = Some(k.to_vec());
        if chunk.len() >= MIGRATION_CHUNK { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
    })?;
    Ok(Chunk { keys: chunk, last })
}

/// Brings the store to `target`, running each migration in order.
pub(super) fn migrate(db: &Db, found: u32, target: u32, migrations: &[Migration]) -> Result<(), StoreError> {
    if found > target {
        return Err(StoreError::NewerSchema { found, supported: target });
    }
    for version in found..target {
        let step = migrations.iter().find(|m| m.from == version).ok_or_else(|| StoreError::Migration {
            from: version,
            message: format!("no migration from schema {version} is known to this Leadline"),
        })?;
        tracing::info!(from = version, what = step.describe, "migrating the store");
        (step.run)(db).map_err(|e| StoreError::Migration { from: version, message: e.to_string() })?;
        db.set_schema_version(version + 1)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::store::codec::encode;
    use crate::store::{MemoryStore, Store};

    #[test]
    fn schema_1_messages_are_clustered_by_contact() {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let at = |s| Some(jiff::Timestamp::from_second(s).expect("ts"));
        let messages: Vec<Message> = (0..2500)
            .map(|i| Message {
                id: format!("m{i:05}"),
                contact_id: format!("c{}", i % 7),
                date_added: at(1_700_000_000 + i),
                body: Some(format!("hello {i}")),
                ..Default::default()
            })
            .collect();
        // A schema 1 store, written the way schema 1 wrote it.
        store
            .transact(&|tx| {
                tx.insert(Tree::Meta, b"schema_version", &1u32.to_be_bytes())?;
                for m in &messages {
                    tx.insert(Tree::MessageIds, m.id.as_bytes(), &encode(m)?)?;
                    let key = keys::message_by_contact(&m.contact_id, m.date_added, &m.id);
                    tx.insert(Tree::MessagesByContact, &key, &[])?;
                }
                Ok(())
            })
            .expect("schema 1 store");
        let db = Db::open(store.clone()).expect("migrates");
        assert_eq!(db.schema_version().expect("version"), Some(CURRENT_SCHEMA));
        assert_eq!(db.message("m00042").expect("read").as_ref(), Some(&messages[42]));
        let of_c3: Vec<Message> = messages.iter().filter(|m| m.contact_id == "c3").cloned().collect();
        assert_eq!(db.messages_for("c3", usize::MAX).expect("read"), of_c3);
        // Running it again (an interrupted migration resumed) changes nothing.
        cluster_messages(&db).expect("rerun");
        assert_eq!(db.messages_for("c3", usize::MAX).expect("read"), of_c3);
    }

    /// Lead `i` of a varied set: every third hot, every fourth never active, the others active
    /// `i` seconds after the tests' epoch.
    fn scored_lead(i: usize) -> LeadSummary {
        use leadline_shared::domain::Temperature;
        let at = |s: i64| jiff::Timestamp::from_second(1_700_000_000 + s).ok();
        LeadSummary {
            id: format!("c{i:05}"),
            score: (i % 90) as u8,
            temperature: if i.is_multiple_of(3) { Temperature::Hot } else { Temperature::Cold },
            last_activity: if i.is_multiple_of(4) { None } else { at(i as i64) },
            date_added: at(0),
            ..LeadSummary::default()
        }
    }

    #[test]
    fn schema_4_gets_the_values_its_queue_orders_are_built_from() {
        use crate::store::{Batch, Put, Ranking, Slice};
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let db = Db::open(store.clone()).expect("open");
        let at = |s: i64| jiff::Timestamp::from_second(1_700_000_000 + s).ok();
        let n = MIGRATION_CHUNK * 2 + 3;
        let mut batch = Batch::new();
        for i in 0..n {
            batch.put(Put::Lead(scored_lead(i)));
        }
        db.commit(&batch).expect("leads");
        // As schema 4 left them: score entries without a value.
        let keys: Vec<Vec<u8>> = as_schema_8_index(&*store).into_iter().map(|(k, _)| k).collect();
        store
            .transact(&|tx| {
                keys.iter().try_for_each(|k| tx.insert(Tree::RetiredIdxScore, k, &[]))?;
                tx.insert(Tree::Meta, b"schema_version", &4u32.to_be_bytes())
            })
            .expect("schema 4 store");
        let db = Db::open(store.clone()).expect("migrates");
        assert_eq!(db.schema_version().expect("version"), Some(CURRENT_SCHEMA));
        let hot = (0..n).filter(|i| i % 3 == 0).count() as u64;
        assert_eq!(db.slice_len(&Slice::all(Ranking::Hot)).expect("hot"), hot);
        let quiet_before = at(1_000).expect("ts");
        let quiet = (0..n).filter(|i| i % 4 == 0 || *i < 1_000).count() as u64;
        assert_eq!(db.slice_len(&Slice::all(Ranking::QuietBefore(quiet_before))).expect("quiet"), quiet);
        assert_eq!(db.slice_len(&Slice::all(Ranking::Score)).expect("all"), n as u64);
    }

    /// A schema 6 store (rows without a priority, the score index keyed by score) comes out
    /// with every row's priority and `all` in priority order, the index byte for byte what the
    /// rows give.
    #[test]
    fn schema_6_is_ordered_by_priority() {
        use crate::store::{Batch, Put, Ranking, Slice};
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let db = Db::open(store.clone()).expect("open");
        let at = |s: i64| jiff::Timestamp::from_second(1_700_000_000 + s).ok();
        let n = MIGRATION_CHUNK + 5;
        // Contacted leads, so their priority does not move with the time.
        let lead = |i: usize| LeadSummary {
            id: format!("c{i:05}"),
            score: (i % 90) as u8,
            awaiting_reply_since: if i.is_multiple_of(7) { at(5) } else { None },
            open_value: if i.is_multiple_of(3) { Some(1_000_000.0) } else { None },
            last_activity: at(i as i64),
            date_added: at(0),
            first_outbound_at: at(1),
            ..LeadSummary::default()
        };
        let mut batch = Batch::new();
        for i in 0..n {
            batch.put(Put::Lead(lead(i)));
        }
        db.commit(&batch).expect("leads");
        as_schema_8_index(&*store);
        clear(&db, Tree::RetiredIdxScore).expect("clear");
        drop(db);
        // As schema 6 left them: keyed by 255 − score, then recency, then id.
        let mut old = Vec::new();
        for i in 0..n {
            let l = lead(i);
            let recency = (!u64::from_be_bytes(keys::ts(l.last_activity.expect("ts")))).to_be_bytes();
            old.push((keys::join(&[&[u8::MAX - l.score], &recency, l.id.as_bytes()]), keys::score_value(&l)));
        }
        store
            .transact(&|tx| {
                old.iter().try_for_each(|(k, v)| tx.insert(Tree::RetiredIdxScore, k, v))?;
                tx.insert(Tree::Meta, b"schema_version", &6u32.to_be_bytes())
            })
            .expect("schema 6 store");
        let db = Db::open(store.clone()).expect("migrates");
        assert_eq!(db.schema_version().expect("version"), Some(CURRENT_SCHEMA));
        let cfg = leadline_shared::config::PriorityConfig::default();
        let now = jiff::Timestamp::now();
        let mut want: Vec<LeadSummary> = (0..n)
            .map(|i| {
                let mut l = lead(i);
                crate::engine::priority::stamp(&mut l, now, &cfg);
                l
            })
            .collect();
        assert!(want.iter().any(|l| l.priority > 0));
        want.sort_by(|a, b| {
            (b.priority, b.score, b.last_activity, &a.id).cmp(&(a.priority, a.score, a.last_activity, &b.id))
        });
        let got = db.slice_window(&Slice::all(Ranking::Score), 0, n, None).expect("all");
        assert_eq!(got.total, n as u64);
        let ids = |rows: &[LeadSummary]| rows.iter().map(|l| l.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&got.rows), ids(&want));
        assert_eq!(got.rows, want);
        assert_eq!(store.len(Tree::QueuePlaces).expect("len"), n as u64);
        assert_eq!(store.len(Tree::RetiredIdxScore).expect("len"), 0);
    }

    /// Turns the queue places the current schema wrote into schema 8's score index (the key
    /// holding the order, the value the rest), as a schema 8 store held them; returns them.
    fn as_schema_8_index(store: &dyn Store) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut entries = Vec::new();
        store
            .scan(Tree::QueuePlaces, b"", None, false, &mut |id, place| {
                let (key, value) = keys::read_queue_place(id, place).expect("a place");
                entries.push((id.to_vec(), key, value.to_vec()));
                ControlFlow::Continue(())
            })
            .expect("scan");
        store
            .transact(&|tx| {
                for (id, key, value) in &entries {
                    tx.remove(Tree::QueuePlaces, id)?;
                    tx.insert(Tree::RetiredIdxScore, key, value)?;
                }
                Ok(())
            })
            .expect("schema 8 index");
        entries.into_iter().map(|(_, k, v)| (k, v)).collect()
    }

    /// A schema 8 store (the score order kept as keys) comes out with each lead's place under
    /// its id, the same orders read from them, and the old index empty; a run that stopped
    /// before the version was bumped runs again to the same result.
    #[test]
    fn schema_8_keeps_each_leads_queue_place_by_id() {
        use crate::store::{Batch, Put, Ranking, Slice};
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let db = Db::open(store.clone()).expect("open");
        let at = |s: i64| jiff::Timestamp::from_second(1_700_000_000 + s).ok();
        let n = MIGRATION_CHUNK * 2 + 7;
        let mut batch = Batch::new();
        for i in 0..n {
            batch.put(Put::Lead(LeadSummary {
                id: format!("c{:05}", (i * 7919) % n),
                priority: (i % 7) as u8 * 10,
                value_at_risk: (i % 5) as f64 * 1000.0,
                ..scored_lead(i)
            }));
        }
        db.commit(&batch).expect("leads");
        let places = |store: &dyn Store| {
            let mut all = Vec::new();
            store
                .scan(Tree::QueuePlaces, b"", None, false, &mut |k, v| {
                    all.push((k.to_vec(), v.to_vec()));
                    ControlFlow::Continue(())
                })
                .expect("scan");
            all
        };
        let want = places(&*store);
        let orders = |db: &Db| {
            [Ranking::Score, Ranking::Hot, Ranking::QuietBefore(at(500).expect("ts"))]
                .map(|r| db.slice_window(&Slice::all(r), 0, n, None).expect("window").rows)
        };
        let before = orders(&db);
        drop(db);
        as_schema_8_index(&*store);
        store
            .transact(&|tx| tx.insert(Tree::Meta, b"schema_version", &8u32.to_be_bytes()))
            .expect("schema 8");
        // The migration's work done, the daemon stopped before the version was bumped.
        let db = Db::open_with(store.clone(), 8, &[]).expect("open at 8");
        queue_places(&db).expect("first run");
        assert_eq!(places(&*store), want);
        drop(db);
        let db = Db::open(store.clone()).expect("migrates");
        assert_eq!(db.schema_version().expect("version"), Some(CURRENT_SCHEMA));
        assert_eq!(places(&*store), want, "every place, byte for byte");
        assert_eq!(store.len(Tree::RetiredIdxScore).expect("len"), 0);
        assert_eq!(orders(&db), before);
    }

    /// A schema 9 store (rows and scores as JSON) comes out with every row and score binary
    /// and reading the same; a record whose row does not read is left as it was; a second run
    /// (the daemon stopped before the version was bumped) writes nothing.
    #[test]
    fn schema_9_rows_and_scores_become_binary() {
        use leadline_shared::domain::{Contribution, Score};

        use crate::store::{Batch, Put};
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let db = Db::open(store.clone()).expect("open");
        let n = MIGRATION_CHUNK * 2 + 7;
        let mut batch = Batch::new();
        for i in 0..n {
            let row = LeadSummary { tags: vec![format!("t{i}")], ..scored_lead(i) };
            let score = Score {
                contact_id: row.id.clone(),
                value: row.score,
                explanation: vec![Contribution { feature: "budget".into(), contribution: i as f64 }],
                model: "rules-v1".into(),
                ..Score::default()
            };
            batch.put(Put::Derived { score, row, inputs: Some(vec![1, 2, 3]), was: None });
        }
        db.commit(&batch).expect("leads");
        let want: Vec<(Option<LeadSummary>, Option<Score>)> = (0..n)
            .map(|i| {
                let id = format!("c{i:05}");
                (db.lead(&id).expect("row"), db.score(&id).expect("score"))
            })
            .collect();
        drop(db);
        // Schema 9's records: the same sections, the row and the score as JSON; one row broken.
        let records = |store: &dyn Store| {
            let mut all = Vec::new();
            store
                .scan(Tree::Leads, b"", None, false, &mut |k, v| {
                    all.push((k.to_vec(), LeadRecord::decode(v).expect("record")));
                    ControlFlow::Continue(())
                })
                .expect("scan");
            all
        };
        let broken = b"c00003".to_vec();
        for (id, mut record) in records(&*store) {
            let row: Option<LeadSummary> = record.section(Section::Row).expect("row");
            let score: Option<Score> = record.section(Section::Score).expect("score");
            let row =
                if id == broken { b"{\"id\":".to_vec() } else { serde_json::to_vec(&row).expect("json") };
            record.set(Section::Row, Some(row));
            record.set(Section::Score, Some(serde_json::to_vec(&score).expect("json")));
            store.transact(&|tx| tx.insert(Tree::Leads, &id, &record.encode())).expect("schema 9 record");
        }
        store
            .transact(&|tx| tx.insert(Tree::Meta, b"schema_version", &9u32.to_be_bytes()))
            .expect("schema 9");
        let before = records(&*store);

        let db = Db::open(store.clone()).expect("migrates");
        assert_eq!(db.schema_version().expect("version"), Some(CURRENT_SCHEMA));
        for (i, (row, score)) in want.iter().enumerate() {
            let id = format!("c{i:05}");
            assert_eq!(&db.score(&id).expect("score"), score, "{id}");
            if id.as_bytes() == broken {
                assert!(db.lead(&id).is_err(), "the broken row is still reported");
                continue;
            }
            assert_eq!(&db.lead(&id).expect("row"), row, "{id}");
        }
        let after = records(&*store);
        for ((id, old), (_, new)) in before.iter().zip(&after) {
            let first = |r: &LeadRecord, s| r.get(s).and_then(|b| b.first().copied());
            if *id == broken {
                assert_eq!(new, old, "left as it was");
            } else {
                assert_eq!(first(new, Section::Row), Some(1), "binary row");
                assert_eq!(first(new, Section::Score), Some(1), "binary score");
            }
            assert_eq!(new.get(Section::Contact), old.get(Section::Contact));
            assert_eq!(new.get(Section::Inputs), Some(&[1u8, 2, 3][..]));
        }
        // Run again: nothing left to convert, nothing written.
        binary_sections(&db).expect("again");
        assert_eq!(records(&*store), after);
    }

    /// A schema 10 store's snapshot key is dropped (a snapshot holds for its schema only), the
    /// other meta keys stay, and a store without one migrates as well.
    #[test]
    fn schema_10_drops_the_snapshot_key() {
        for with_snapshot in [true, false] {
            let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
            store
                .transact(&|tx| {
                    if with_snapshot {
                        tx.insert(Tree::Meta, RETIRED_META_SNAPSHOT, &[b'{'; 1000])?;
                    }
                    tx.insert(Tree::Meta, b"other", b"kept")?;
                    tx.insert(Tree::Meta, b"schema_version", &10u32.to_be_bytes())
                })
                .expect("schema 10");
            let db = Db::open(store.clone()).expect("migrates");
            assert_eq!(db.schema_version().expect("version"), Some(CURRENT_SCHEMA));
            assert_eq!(store.get(Tree::Meta, RETIRED_META_SNAPSHOT).expect("get"), None);
            assert_eq!(store.get(Tree::Meta, b"other").expect("get").as_deref(), Some(&b"kept"[..]));
            assert_eq!(store.read_side("derived-snapshot").expect("side"), None);
        }
    }

    #[test]
    fn schema_2_loses_its_activity_index() {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        store
            .transact(&|tx| {
                tx.insert(Tree::Meta, b"schema_version", &2u32.to_be_bytes())?;
                for i in 0..(MIGRATION_CHUNK * 2 + 7) {
                    tx.insert(Tree::RetiredIdxActivity, format!("k{i:05}").as_bytes(), &[])?;
                }
                tx.insert(Tree::RetiredIdxScore, b"kept", &[])
            })
            .expect("schema 2 store");
        let db = Db::open(store.clone()).expect("migrates");
        assert_eq!(db.schema_version().expect("version"), Some(CURRENT_SCHEMA));
        assert_eq!(store.len(Tree::RetiredIdxActivity).expect("len"), 0);
        // Schema 7 writes the score index afresh from the rows, and this store has none.
        assert_eq!(store.len(Tree::RetiredIdxScore).expect("len"), 0);
        assert_eq!(store.len(Tree::QueuePlaces).expect("len"), 0);
    }

    #[test]
    fn schema_3_keeps_one_record_per_lead() {
        schema_3_merges_into(Arc::new(MemoryStore::new()));
    }

    /// On sled the retired trees are interleaved with the lead records: the migration must
    /// still find each of them.
    #[test]
    fn schema_3_keeps_one_record_per_lead_on_sled() {
        let dir = tempfile::tempdir().expect("tempdir");
        schema_3_merges_into(Arc::new(
            crate::store::SledStore::open(&dir.path().join("s"), 8 << 20).expect("open"),
        ));
    }

    /// A row as schema 3 wrote it: schema 7 gave it a priority and a value at risk.
    fn unprioritized(row: LeadSummary) -> LeadSummary {
        LeadSummary { priority: 0, churn_risk: 0, value_at_risk: 0.0, ..row }
    }

    fn schema_3_merges_into(store: Arc<dyn Store>) {
        use leadline_shared::domain::{Contact, LeadSummary, Score};
        let n = MIGRATION_CHUNK + 3;
        let contact = |i: usize| Contact {
            id: format!("c{i:05}"),
            first_name: Some(format!("N{i}")),
            ..Default::default()
        };
        let score =
            |i: usize| Score { contact_id: format!("c{i:05}"), value: (i % 100) as u8, ..Default::default() };
        let row =
            |i: usize| LeadSummary { id: format!("c{i:05}"), score: (i % 100) as u8, ..Default::default() };
        // A schema 3 store, written the way schema 3 wrote it; the last lead's row has no
        // contact (its contact was removed).
        store
            .transact(&|tx| {
                tx.insert(Tree::Meta, b"schema_version", &3u32.to_be_bytes())?;
                for i in 0..n {
                    let id = format!("c{i:05}");
                    if i + 1 < n {
                        tx.insert(Tree::Leads, id.as_bytes(), &encode(&contact(i))?)?;
                    }
                    tx.insert(Tree::RetiredScores, id.as_bytes(), &encode(&score(i))?)?;
                    tx.insert(Tree::RetiredLeadRows, id.as_bytes(), &encode(&row(i))?)?;
                }
                Ok(())
            })
            .expect("schema 3 store");
        let db = Db::open(store.clone()).expect("migrates");
        assert_eq!(db.schema_version().expect("version"), Some(CURRENT_SCHEMA));
        for i in [0, 7, MIGRATION_CHUNK, n - 2] {
            let id = format!("c{i:05}");
            assert_eq!(db.contact(&id).expect("contact"), Some(contact(i)));
            assert_eq!(db.score(&id).expect("score"), Some(score(i)));
            assert_eq!(db.lead(&id).expect("row").map(unprioritized), Some(row(i)));
        }
        let last = format!("c{:05}", n - 1);
        assert_eq!(db.contact(&last).expect("contact"), None);
        assert_eq!(db.lead(&last).expect("row").map(unprioritized), Some(row(n - 1)));
        assert_eq!(db.contact_ids().expect("ids").len(), n - 1);
        assert_eq!(
            store.len(Tree::RetiredScores).expect("len") + store.len(Tree::RetiredLeadRows).expect("len"),
            0
        );
        // Running it again (an interrupted migration resumed) changes nothing.
        merge_lead_records(&db).expect("rerun");
        assert_eq!(db.contact(&format!("c{:05}", 7)).expect("contact"), Some(contact(7)));
        assert_eq!(store.len(Tree::Leads).expect("len"), n as u64);
    }
}
