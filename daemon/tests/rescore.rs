//! A full rescore (`Ingest::rescore_all`, what a model promotion runs) reads only the leads'
//! records, scoring each from its compact scoring inputs, and comes out exactly as deriving
//! every lead from its contact, messages and deals (`Ingest::rescore`) would: with a model and
//! with rules-v1, days later. A lead whose record has no inputs (written before schema 8) is
//! derived from its records once, and has them from then on.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeSet;
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use leadline_daemon::engine::followup::workflow::{DEFAULTS, Workflows};
use leadline_daemon::ingest::{Ingest, META_LIVE_SINCE, Page, Planning};
use leadline_daemon::intel::{self, ActiveModel, ModelRecord, ModelSlot};
use leadline_daemon::store::{Batch, Db, MemoryStore, Put, Store, Tree};
use leadline_shared::config::Config;
use leadline_shared::domain::{Direction, FollowUps, LeadSummary, Message, Score};

/// A store holding the simulator's location (with closed deals to train on), its ingester and
/// model slot, and the location's time.
async fn location(path: &std::path::Path, now: Timestamp) -> (Arc<dyn Store>, Db, Ingest, ModelSlot) {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let db = Db::open(store.clone()).unwrap();
    let slot = ModelSlot::default();
    let ingest = Ingest::new(db.clone(), Config::default().scoring).with_model(slot.clone());
    ingest.import_file(path, now).await.unwrap();
    (store, db, ingest, slot)
}

fn dataset() -> (tempfile::TempDir, std::path::PathBuf, Timestamp) {
    let seed =
        ghl_sim::seed::SeedConfig { contacts: 300, closed_history: 400, seed: 11, ..Default::default() };
    let now = Timestamp::from_millisecond(seed.now_ms).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("location.json");
    std::fs::write(&path, serde_json::to_vec(&ghl_sim::seed::generate(&seed)).unwrap()).unwrap();
    (dir, path, now)
}

/// Every lead's row and score.
fn leads(db: &Db) -> Vec<(LeadSummary, Score)> {
    db.contact_ids()
        .unwrap()
        .iter()
        .map(|id| (db.lead(id).unwrap().expect("a row"), db.score(id).unwrap().expect("a score")))
        .collect()
}

/// Derives every lead from its records, the per-lead path.
fn derive_all(db: &Db, ingest: &Ingest, now: Timestamp) {
    let ids: Vec<String> = db.contact_ids().unwrap();
    for chunk in ids.chunks(100) {
        ingest.rescore(&chunk.iter().cloned().collect::<BTreeSet<_>>(), now).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_rescore_from_the_inputs_equals_deriving_every_lead() {
    let (_dir, path, now) = dataset();
    let (_, fast_db, fast, fast_slot) = location(&path, now).await;
    let (_, slow_db, slow, slow_slot) = location(&path, now).await;
    assert_eq!(leads(&fast_db), leads(&slow_db));
    let n = fast_db.contact_ids().unwrap().len();

    // The kept structures, built now, are moved by every commit after.
    assert_kept(&fast_db, now, "import");

    // Nothing changed: nothing is written, no lead is read from its records.
    let done = fast.rescore_all(now).unwrap();
    assert_eq!((done.leads, done.changed.len(), done.derived), (n, 0, 0));

    // A model is promoted, and both rescore every lead three days later.
    let trained = intel::train(&fast_db, &fast_slot, &Config::default().scoring, now).unwrap();
    assert!(trained.promoted.is_some(), "{:?}", trained.status);
    let record = fast_db.model::<ModelRecord>(1).unwrap().expect("stored");
    slow_slot.set(Some(ActiveModel::from_record(&record).unwrap()));
    let later = now + SignedDuration::from_hours(72);
    let done = fast.rescore_all(later).unwrap();
    derive_all(&slow_db, &slow, later);
    assert_eq!(done.derived, 0, "every lead scored from its inputs");
    assert!(done.changed.len() > n / 2, "the model changed most scores: {done:?}");
    let (got, want) = (leads(&fast_db), leads(&slow_db));
    assert!(got.iter().all(|(row, _)| row.scored_by == "gbdt-v1"));
    assert_eq!(got, want, "the same rows and scores as deriving each lead");
    assert_kept(&fast_db, later, "the model's rescore");

    // Back to the rules (a model retired), a day later still.
    fast_slot.set(None);
    slow_slot.set(None);
    let later = later + SignedDuration::from_hours(24);
    let done = fast.rescore_all(later).unwrap();
    derive_all(&slow_db, &slow, later);
    assert_eq!((done.changed.len(), done.derived), (n, 0));
    assert_eq!(leads(&fast_db), leads(&slow_db));

    // Again: nothing changed, nothing written.
    let done = fast.rescore_all(later).unwrap();
    assert_eq!((done.leads, done.changed.len(), done.derived), (n, 0, 0));

    assert_kept(&fast_db, later, "the rules' rescore");
}

/// The counters, the queue orders, the analytics aggregates and the search index, kept at
/// each commit, match a recount.
fn assert_kept(db: &Db, now: Timestamp, after: &str) {
    assert_eq!(db.counts().unwrap(), db.recount().unwrap(), "counters after {after}");
    let kept = db.with_analytics(Clone::clone).unwrap();
    assert_eq!(kept, db.analytics_recount().unwrap().0, "analytics aggregates after {after}");
    let kept = db.with_search(|i| i.contents()).unwrap();
    assert_eq!(kept, db.search_recount().unwrap().0.contents(), "search index after {after}");
    support::assert_queues_match_a_recount(db, now, after);
}

/// A lead record as schema 7 wrote it: today's sections but the inputs, in that encoding
/// (version 2, then each section behind its big-endian length).
fn as_schema_7(record: &[u8]) -> Vec<u8> {
    assert_eq!(record[0], 3, "today's encoding");
    let mut rest = &record[1..];
    let mut out = vec![2u8];
    for section in 0..4 {
        let len = u32::from_be_bytes(rest[..4].try_into().unwrap()) as usize;
        if section < 3 {
            out.extend_from_slice(&rest[..4 + len]);
        }
        rest = &rest[4 + len..];
    }
    assert!(rest.is_empty());
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leads_written_before_the_inputs_are_derived_once_then_scored_from_them() {
    let (_dir, path, now) = dataset();
    let (store, db, _, _) = location(&path, now).await;
    let n = db.contact_ids().unwrap().len();
    // As schema 7 left the store: every record without inputs, in its encoding.
    let mut records = Vec::new();
    store
        .scan(Tree::Leads, b"", None, false, &mut |k, v| {
            records.push((k.to_vec(), as_schema_7(v)));
            std::ops::ControlFlow::Continue(())
        })
        .unwrap();
    assert_eq!(records.len(), n);
    store
        .transact(&|tx| {
            records.iter().try_for_each(|(k, v)| tx.insert(Tree::Leads, k, v))?;
            tx.insert(Tree::Meta, b"schema_version", &7u32.to_be_bytes())
        })
        .unwrap();
    drop(db);

    let db = Db::open(store.clone()).unwrap();
    assert_eq!(db.schema_version().unwrap(), Some(leadline_daemon::store::CURRENT_SCHEMA));
    let ingest = Ingest::new(db.clone(), Config::default().scoring);
    let before = leads(&db);
    let done = ingest.rescore_all(now).unwrap();
    assert_eq!((done.leads, done.changed.len(), done.derived), (n, 0, n), "derived once, nothing changed");
    assert_eq!(leads(&db), before);
    // From then on, from the inputs.
    let done = ingest.rescore_all(now).unwrap();
    assert_eq!((done.leads, done.changed.len(), done.derived), (n, 0, 0));
    assert_kept(&db, now, "the rescores");
}

/// Every lead's follow-up record.
fn followups(db: &Db) -> Vec<Option<FollowUps>> {
    db.contact_ids().unwrap().iter().map(|id| db.follow_up(id).unwrap()).collect()
}

/// With follow-ups planned and live, a score that rises across a `score_above` trigger (the
/// default hot-lead fast track, at 50) is the planner's to hear: those leads are derived from
/// their records, and start the workflow exactly as deriving every lead would.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rise_across_a_score_trigger_starts_its_workflow_as_deriving_would() {
    let (_dir, path, now) = dataset();
    let planning = || Planning {
        workflows: Arc::new(Workflows::load(DEFAULTS, None, &support::Catalog).unwrap()),
        time: Arc::new(support::Anytime),
        opt_outs: Arc::new(support::NeverOptsOut),
    };
    let (_, fast_db, _, fast_slot) = location(&path, now).await;
    let (_, slow_db, _, slow_slot) = location(&path, now).await;
    let live = |db: &Db| {
        db.commit(
            Batch::new()
                .put(Put::Meta { key: META_LIVE_SINCE.into(), value: serde_json::to_value(now).unwrap() }),
        )
        .unwrap();
    };
    live(&fast_db);
    live(&slow_db);
    let scoring = Config::default().scoring;
    let fast = Ingest::new(fast_db.clone(), scoring.clone())
        .with_model(fast_slot.clone())
        .with_planning(Some(planning()));
    let slow =
        Ingest::new(slow_db.clone(), scoring).with_model(slow_slot.clone()).with_planning(Some(planning()));

    // A model scores most leads low (it gives probabilities, and few convert); back to the
    // rules, the leads with three answers or more rise to 50 and past.
    let trained = intel::train(&fast_db, &fast_slot, &Config::default().scoring, now).unwrap();
    assert!(trained.promoted.is_some(), "{:?}", trained.status);
    let record = fast_db.model::<ModelRecord>(1).unwrap().expect("stored");
    slow_slot.set(Some(ActiveModel::from_record(&record).unwrap()));
    let first = fast.rescore_all(now).unwrap();
    derive_all(&slow_db, &slow, now);
    assert_eq!(leads(&fast_db), leads(&slow_db));
    assert_eq!(followups(&fast_db), followups(&slow_db));
    let rising = leads(&fast_db).iter().filter(|(row, _)| row.score < 50).count();

    fast_slot.set(None);
    slow_slot.set(None);
    let later = now + SignedDuration::from_hours(1);
    let done = fast.rescore_all(later).unwrap();
    derive_all(&slow_db, &slow, later);
    assert!(done.derived > 0 && done.derived <= rising, "{} of {rising} rose across 50", done.derived);
    assert_eq!(leads(&fast_db), leads(&slow_db), "the same rows and scores");
    let (got, want) = (followups(&fast_db), followups(&slow_db));
    let started = got
        .iter()
        .flatten()
        .filter(|r| r.enrollments.iter().any(|e| e.workflow == "hot_lead_fast_track"))
        .count();
    // A lead that rose across 50 in both passes is enrolled once.
    assert!(started > 0 && started <= first.derived + done.derived, "{started} started the fast track");
    assert_eq!(got, want, "the same follow-ups as deriving every lead");
}

/// A promotion's rescore runs while sync keeps applying pages (new replies landing on leads
/// across every page of the walk): each page of the rescore and each sync page land whole, and
/// afterwards every lead is as deriving it from its records gives, with the kept structures
/// matching a recount.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_rescore_beside_a_sync_that_keeps_writing_leaves_every_lead_as_derived() {
    let (_dir, path, now) = dataset();
    let (_, db, ingest, slot) = location(&path, now).await;
    assert_kept(&db, now, "import");
    let trained = intel::train(&db, &slot, &Config::default().scoring, now).unwrap();
    assert!(trained.promoted.is_some(), "{:?}", trained.status);
    let ids = db.contact_ids().unwrap();
    let later = now + SignedDuration::from_hours(2);
    let done = std::thread::scope(|scope| {
        let sync = scope.spawn(|| {
            // Replies to every seventh lead, spread over the id order, in pages of ten.
            let replies: Vec<Message> = ids
                .iter()
                .step_by(7)
                .enumerate()
                .map(|(n, id)| Message {
                    id: format!("live-{n}"),
                    contact_id: id.clone(),
                    direction: Direction::Inbound,
                    message_type: Some("TYPE_SMS".into()),
                    body: Some("Yes, still looking. Budget is $450k".into()),
                    date_added: Some(now + SignedDuration::from_mins(n as i64)),
                    ..Default::default()
                })
                .collect();
            for page in replies.chunks(10) {
                ingest.apply(Page::Messages(page.to_vec()), later).unwrap();
            }
            replies.len()
        });
        let done = ingest.rescore_all(later).unwrap();
        assert!(sync.join().unwrap() > 30);
        done
    });
    assert_eq!(done.leads, ids.len());
    assert_kept(&db, later, "the rescore beside the sync");
    // Nothing is left for deriving each lead to change, and the model scored them all.
    let rescored = leads(&db);
    assert!(rescored.iter().all(|(row, _)| row.scored_by == "gbdt-v1"));
    derive_all(&db, &ingest, later);
    assert_eq!(leads(&db), rescored, "every lead as deriving it gives");
}

/// A daemon that stops (or crashes) in the middle of a promotion's rescore leaves the leads
/// after the last page with the old model's score; the next start finishes the rescore from
/// where it stopped, and the leads end as deriving each gives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rescore_cut_short_goes_on_where_it_stopped_at_the_next_start() {
    let (_dir, path, now) = dataset();
    let (store, db, ingest, slot) = location(&path, now).await;
    let (_, slow_db, slow, slow_slot) = location(&path, now).await;
    let n = db.contact_ids().unwrap().len();
    let never = || false;
    // rules-v1 scores each lead as it is derived: nothing is left to finish.
    assert_eq!(ingest.resume_rescore(now, &never).unwrap(), None);

    intel::train(&db, &slot, &Config::default().scoring, now).unwrap().promoted.expect("promoted");
    slow_slot.set(
        slot.get().map(|m| {
            ActiveModel::from_record(&db.model::<ModelRecord>(m.version).unwrap().unwrap()).unwrap()
        }),
    );
    let later = now + SignedDuration::from_hours(24);
    // Asked to stop after two pages.
    let pages = std::sync::atomic::AtomicUsize::new(0);
    let stop_after_two = || pages.fetch_add(1, std::sync::atomic::Ordering::Relaxed) >= 2;
    let cut = ingest.rescore_all_until(later, &stop_after_two).unwrap();
    assert!(cut.stopped);
    assert_eq!(cut.leads, 200, "two pages of {}", leadline_daemon::ingest::RESCORE_PAGE);
    let progress = ingest.rescore_progress().unwrap().expect("kept");
    assert_eq!((progress.scorer.as_str(), progress.done), ("gbdt-v1", false));
    let ids = db.contact_ids().unwrap();
    assert_eq!(progress.after.as_deref(), Some(ids[199].as_str()));
    let stale = leads(&db).iter().filter(|(row, _)| row.scored_by != "gbdt-v1").count();
    assert_eq!(stale, n - 200, "the leads after the cut keep rules-v1's score");
    assert_eq!(intel::rescoring(&db).unwrap().as_deref(), Some("gbdt-v1"), "the status says so");

    // The next start: the store reopened, the promoted model loaded.
    let db = Db::open(store).unwrap();
    let slot = ModelSlot::default();
    intel::load(&db, &slot).unwrap();
    let ingest = Ingest::new(db.clone(), Config::default().scoring).with_model(slot);
    let rest = ingest.resume_rescore(later, &never).unwrap().expect("unfinished");
    assert_eq!((rest.leads, rest.stopped), (n - 200, false), "only the leads after the cut");
    assert!(ingest.rescore_progress().unwrap().expect("kept").done);
    assert_eq!(intel::rescoring(&db).unwrap(), None);
    derive_all(&slow_db, &slow, later);
    assert_eq!(leads(&db), leads(&slow_db), "every lead as deriving it gives");
    assert_kept(&db, later, "the finished rescore");
    assert_eq!(ingest.resume_rescore(later, &never).unwrap(), None, "done is done");
}

/// A daemon that stops between a promotion and its rescore's first page (or a store from before
/// the progress was kept, with a model promoted) rescores every lead at the next start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_promotion_whose_rescore_never_began_rescores_every_lead_at_the_next_start() {
    let (_dir, path, now) = dataset();
    let (_, db, ingest, slot) = location(&path, now).await;
    let n = db.contact_ids().unwrap().len();
    let never = || false;
    // No progress stored (no full rescore ever ran), a model promoted: every lead.
    intel::train(&db, &slot, &Config::default().scoring, now).unwrap().promoted.expect("promoted");
    assert_eq!(ingest.rescore_progress().unwrap(), None);
    let done = ingest.resume_rescore(now, &never).unwrap().expect("a model with no progress");
    assert_eq!(done.leads, n);
    assert!(leads(&db).iter().all(|(row, _)| row.scored_by == "gbdt-v1"));
    assert_eq!(ingest.resume_rescore(now, &never).unwrap(), None);

    // A finished rescore by rules-v1 (the model retired), then the model promoted again with
    // the daemon stopping before its rescore began: the progress is another scorer's.
    let model = slot.get();
    slot.set(None);
    ingest.rescore_all(now).unwrap();
    slot.set(
        model.map(|m| {
            ActiveModel::from_record(&db.model::<ModelRecord>(m.version).unwrap().unwrap()).unwrap()
        }),
    );
    let done = ingest.resume_rescore(now, &never).unwrap().expect("the rules' progress is not the model's");
    assert_eq!((done.leads, done.changed.len()), (n, n));
    assert!(leads(&db).iter().all(|(row, _)| row.scored_by == "gbdt-v1"));
    assert_eq!(ingest.resume_rescore(now, &never).unwrap(), None);
}

/// A row handed to a write as the one it replaces (`Put::Derived`'s `was`) is used only while
/// it is still the one stored: one read before another write moved the lead is ignored, and
/// the counters, orders, aggregates and search index move from the row really stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_given_a_row_read_before_another_write_moves_from_the_stored_row() {
    let (_dir, path, now) = dataset();
    let (_store, db, _ingest, _slot) = location(&path, now).await;
    db.with_analytics(|_| ()).unwrap();
    db.with_search(|_| ()).unwrap();
    assert_kept(&db, now, "the import");
    let id = db.contact_ids().unwrap().into_iter().next().expect("a lead");
    let read = db.stored_lead(&id).unwrap().expect("a record").read_row().unwrap().expect("a row");
    let score = db.score(&id).unwrap().expect("a score");
    // Another write moves the lead after the read: hotter, better scored, renamed.
    let mut moved = read.row().clone();
    moved.score = moved.score.saturating_add(40).min(100);
    moved.priority = moved.priority.saturating_add(30).min(100);
    moved.temperature = match moved.temperature {
        leadline_shared::domain::Temperature::Hot => leadline_shared::domain::Temperature::Cold,
        _ => leadline_shared::domain::Temperature::Hot,
    };
    moved.name = format!("{} Moved", moved.name);
    let mut batch = Batch::new();
    batch.put(Put::Lead(moved.clone()));
    db.commit(&batch).unwrap();
    assert_kept(&db, now, "the other write");
    // The write that read before it.
    let mut row = read.row().clone();
    row.score = row.score.saturating_sub(3);
    let mut batch = Batch::new();
    batch.put(Put::Derived { score, row: row.clone(), inputs: None, was: Some(Box::new(read)) });
    db.commit(&batch).unwrap();
    assert_eq!(db.lead(&id).unwrap(), Some(row));
    assert_kept(&db, now, "the write given a stale row");
}
