//! The two races of issue #8, item 8, each pinned on its own (the stress test meets them only
//! by chance):
//! - a retry of an op that push has just completed must not bring it back (it would be pushed
//!   again: a second note, a second text);
//! - a local edit made while a page is applied must not leave the contact older than the page.

#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};

use jiff::Timestamp;
use leadline_daemon::clock::SystemClock;
use leadline_daemon::ingest::{Ingest, Page};
use leadline_daemon::ipc::edits;
use leadline_daemon::state::State;
use leadline_daemon::store::{Db, SledStore};
use leadline_daemon::sync::{full, push};
use leadline_shared::config::Config;
use leadline_shared::domain::{Contact, OpKind, OpState};
use leadline_shared::protocol::{DaemonInfo, ErrorKind};

fn sled_db(dir: &tempfile::TempDir) -> Db {
    Db::open(Arc::new(SledStore::open(&dir.path().join("store"), 8 << 20).unwrap())).unwrap()
}

async fn synced(
    dir: &tempfile::TempDir,
) -> (ghl_sim::SimHandle, Arc<State>, leadline_daemon::ghl::GhlClient) {
    let sim = ghl_sim::spawn(ghl_sim::SimConfig {
        contacts: 20,
        rate_limit: None,
        daily_limit: None,
        search_lag_ms: 0,
        ..Default::default()
    })
    .await
    .unwrap();
    let ghl = support::unlimited_client(&sim);
    let state = Arc::new(State::new(
        sled_db(dir),
        Config::default(),
        Arc::new(SystemClock),
        DaemonInfo::default(),
        String::new(),
    ));
    full::full(&state, &ghl).await.unwrap();
    (sim, state, ghl)
}

/// How many notes with this body GHL holds for the contact.
fn notes_in_ghl(sim: &ghl_sim::SimHandle, contact: &str, body: &str) -> usize {
    sim.with_store(|s| s.notes(contact).iter().filter(|n| n.body == body).count())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_push_completed_the_op_does_not_bring_it_back() {
    let dir = tempfile::tempdir().unwrap();
    let (sim, state, ghl) = synced(&dir).await;
    let db = &state.db;
    let contact = db.contact_ids().unwrap().remove(0);
    let seq = edits::edit(&state, &contact, OpKind::AddNote { body: "once".into() }).await.unwrap();
    // The copy a retry (or a push attempt) read before push completed the op.
    let stale = db.pending_ops().unwrap().into_iter().find(|o| o.seq == seq).unwrap();

    assert_eq!(push::push(&state, &ghl).await.unwrap().accepted, 1);
    assert!(db.pending_ops().unwrap().is_empty());

    assert!(!db.update_op(&stale).unwrap(), "writing back a stale copy of a done op is refused");
    assert!(db.change_op(seq, |op| op.state = OpState::Pending).unwrap().is_none());
    let retried = edits::retry(&state, seq).await.unwrap_err();
    assert_eq!(retried.kind, ErrorKind::NotFound, "the agent is told the edit went through: {retried:?}");
    assert!(db.pending_ops().unwrap().is_empty(), "the done op is not back");

    assert_eq!(push::push(&state, &ghl).await.unwrap().accepted, 0, "nothing is pushed again");
    assert_eq!(notes_in_ghl(&sim, &contact, "once"), 1);
    sim.shutdown().await;
}

/// Push completes notes while a blocking thread retries the same op in a tight loop, as an
/// agent pressing retry over and over would; the retries hit the moment the op is removed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_racing_push_never_resurrect_an_op() {
    const ROUNDS: usize = 30;
    let dir = tempfile::tempdir().unwrap();
    let (sim, state, ghl) = synced(&dir).await;
    let contact = state.db.contact_ids().unwrap().remove(0);
    for round in 0..ROUNDS {
        let body = format!("race {round}");
        let seq = edits::edit(&state, &contact, OpKind::AddNote { body: body.clone() }).await.unwrap();
        let pushed = Arc::new(AtomicBool::new(false));
        let retrier = tokio::task::spawn_blocking({
            let (db, pushed) = (state.db.clone(), pushed.clone());
            move || {
                // Until the op is gone; and if it keeps coming back after push is done, long
                // enough to be sure it is back for good.
                let mut after_push = 0;
                while db.change_op(seq, |op| op.state = OpState::Pending).unwrap().is_some() {
                    if pushed.load(Ordering::Acquire) {
                        after_push += 1;
                        if after_push > 200 {
                            break;
                        }
                    }
                }
            }
        });
        let accepted = push::push(&state, &ghl).await.unwrap().accepted;
        pushed.store(true, Ordering::Release);
        retrier.await.unwrap();
        assert_eq!(accepted, 1, "round {round}: push completed the note");
        let left = state.db.pending_ops().unwrap();
        assert!(left.is_empty(), "round {round}: a retry brought back op #{seq}: {left:?}");
        push::push(&state, &ghl).await.unwrap();
        assert_eq!(notes_in_ghl(&sim, &contact, &body), 1, "round {round}: the note was posted once");
    }
    sim.shutdown().await;
}

/// A page with a newer copy of a contact is applied on one thread while a local edit of the
/// same contact runs on another, started together, many times. Whichever goes first, the
/// stored contact is the page's, with the edit laid over it.
#[test]
fn an_edit_racing_a_page_never_leaves_the_contact_older_than_the_page() {
    const ROUNDS: usize = 300;
    let dir = tempfile::tempdir().unwrap();
    let db = sled_db(&dir);
    let ingest = Ingest::new(db.clone(), Config::default().scoring);
    let t0 = Timestamp::from_second(1_700_000_000).unwrap();
    let version = |i: usize| Contact {
        id: "c1".into(),
        first_name: Some(format!("v{i}")),
        tags: vec![format!("page-{i}"), format!("drop-{i}")],
        date_updated: Some(t0 + jiff::SignedDuration::from_secs(i as i64)),
        ..Default::default()
    };
    ingest.apply(Page::Contacts(vec![version(0)]), t0).unwrap();
    let barrier = Barrier::new(2);
    for i in 1..=ROUNDS {
        // Odd rounds add a tag, even rounds remove one the page brings.
        let (op, tag) = if i % 2 == 1 {
            (OpKind::AddTag { tag: format!("edit-{i}") }, format!("edit-{i}"))
        } else {
            (OpKind::RemoveTag { tag: format!("drop-{i}") }, format!("drop-{i}"))
        };
        let add = i % 2 == 1;
        std::thread::scope(|s| {
            s.spawn(|| {
                barrier.wait();
                ingest.apply(Page::Contacts(vec![version(i)]), t0).unwrap();
            });
            s.spawn(|| {
                barrier.wait();
                ingest.edit("c1", op, t0).unwrap().unwrap();
            });
        });
        let stored = db.contact("c1").unwrap().unwrap();
        assert_eq!(
            stored.first_name.as_deref(),
            Some(format!("v{i}").as_str()),
            "round {i}: the page's copy"
        );
        assert!(stored.tags.contains(&format!("page-{i}")), "round {i}: the page's tags: {:?}", stored.tags);
        assert_eq!(stored.tags.contains(&tag), add, "round {i}: the edit shows: {:?}", stored.tags);
        assert_eq!(
            db.lead("c1").unwrap().unwrap().name,
            format!("v{i}"),
            "round {i}: the row is derived from the same copy"
        );
    }
    // Every edit is queued once.
    let seqs: BTreeSet<u64> = db.pending_ops().unwrap().iter().map(|o| o.seq).collect();
    assert_eq!(seqs.len(), ROUNDS);
    assert_eq!(db.counts().unwrap(), db.recount().unwrap());
}
