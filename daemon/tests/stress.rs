//! Stress (issue #8, item 8): local edits, retries, syncs and changes made in GHL, all at once,
//! on a real sled store, with the daemon's own sync code talking to the simulator over HTTP.
//!
//! For a few seconds:
//! - **editors** add and remove tags on a few contacts, add notes, and move deals to a stage
//!   that does not exist (GHL refuses it; twice makes the edit out of sync);
//! - a **retrier** puts failed and out-of-sync edits back in the queue, and pending ones too,
//!   which push may be completing at that very moment;
//! - the **sync** pushes, polls, and re-fetches the contacts of refused edits, in a loop;
//! - **GHL** changes under it, through a second client: tags, inbound texts, and contacts
//!   deleted and then re-fetched through `contacts_by_id` (as a webhook hint does).
//!
//! Then the writers stop, GHL's search index catches up, and sync runs until nothing that can
//! go is left. The interleaving differs on every run, so only end states are asserted: every
//! tag edit reached GHL in the order it was made, no change made in GHL is missing from the
//! store, no edit was done twice (nor came back after it was done), the refused edits are out
//! of sync and still there, and the counters match a recount of the records.

#![allow(clippy::unwrap_used)]

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use leadline_daemon::clock::SystemClock;
use leadline_daemon::engine::queues;
use leadline_daemon::ghl::GhlClient;
use leadline_daemon::ipc::edits;
use leadline_daemon::state::State;
use leadline_daemon::store::{Db, SledStore};
use leadline_daemon::sync::{SyncError, full, pull, push};
use leadline_shared::config::Config;
use leadline_shared::domain::{OpKind, OpState};
use leadline_shared::protocol::{DaemonInfo, ErrorKind, QueueName};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use support::GhlUser;

/// How long the writers run.
const RUN: Duration = Duration::from_secs(4);
/// How far GHL's search index lags behind its writes.
const SEARCH_LAG_MS: u64 = 200;
/// Contacts the editors work on (each has a deal, for the refused stage changes).
const TARGETS: usize = 6;
/// Contacts deleted in GHL during the run.
const DELETIONS: usize = 3;
const EDITORS: u64 = 3;
/// Refused stage changes per editor, at most: each costs four refusals per retry.
const BAD_STAGES_PER_EDITOR: usize = 2;
const LOCAL_TAGS: [&str; 4] = ["stress-l0", "stress-l1", "stress-l2", "stress-l3"];
const REMOTE_TAGS: [&str; 3] = ["stress-r0", "stress-r1", "stress-r2"];
const NOTE_PREFIX: &str = "stress-note";
const NO_SUCH_STAGE: &str = "no-such-stage";

/// A contact the editors work on, with one of its deals.
#[derive(Debug, Clone)]
struct Target {
    contact: String,
    deal: String,
}

/// A local edit as made, by the op sequence number it was given.
#[derive(Debug, Clone)]
enum Made {
    Tag { target: usize, tag: String, add: bool },
    Note { target: usize, body: String },
    BadStage { target: usize },
}

/// What GHL's side did during the run.
#[derive(Debug, Default)]
struct Remote {
    /// The remote test tags each target has in GHL, as the remote task left them.
    tags: BTreeMap<usize, BTreeSet<String>>,
    /// Inbound messages, by id, with their contact.
    inbound: Vec<(String, String)>,
    deleted: Vec<String>,
}

fn only<'a>(tags: &'a [String], ours: &'a [&str]) -> BTreeSet<String> {
    tags.iter().filter(|t| ours.contains(&t.as_str())).cloned().collect()
}

/// One sync step as the daemon's sync task runs it: push, poll, re-fetch what push asks for.
/// Returns (accepted, kept).
async fn sync_round(state: &State, ghl: &GhlClient) -> Result<(usize, usize), SyncError> {
    let pushed = push::push(state, ghl).await?;
    pull::incremental(state, ghl).await?;
    if !pushed.refetch.is_empty() {
        pull::contacts_by_id(state, ghl, &pushed.refetch).await?;
    }
    Ok((pushed.accepted, pushed.kept))
}

async fn editor(state: Arc<State>, targets: Arc<Vec<Target>>, n: u64, until: Instant) -> Vec<(u64, Made)> {
    let mut rng = StdRng::seed_from_u64(100 + n);
    let mut made = Vec::new();
    let mut bad = 0;
    let mut notes = 0;
    while Instant::now() < until {
        let target = rng.random_range(0..targets.len());
        let roll = rng.random_range(0..20);
        let (op, what) = if roll == 19 && bad < BAD_STAGES_PER_EDITOR {
            bad += 1;
            let op = OpKind::SetStage {
                opportunity_id: targets[target].deal.clone(),
                pipeline_stage_id: NO_SUCH_STAGE.into(),
            };
            (op, Made::BadStage { target })
        } else if roll >= 15 {
            notes += 1;
            let body = format!("{NOTE_PREFIX}-{n}-{notes}");
            (OpKind::AddNote { body: body.clone() }, Made::Note { target, body })
        } else {
            let tag = LOCAL_TAGS[rng.random_range(0..LOCAL_TAGS.len())].to_owned();
            let add = rng.random_bool(0.6);
            let op = if add {
                OpKind::AddTag { tag: tag.clone() }
            } else {
                OpKind::RemoveTag { tag: tag.clone() }
            };
            (op, Made::Tag { target, tag, add })
        };
        let seq = edits::edit(&state, &targets[target].contact, op).await.expect("a local edit is accepted");
        made.push((seq, what));
        tokio::time::sleep(Duration::from_millis(rng.random_range(10..30))).await;
    }
    made
}

/// Retries ops until `until`: every failed or out-of-sync one, and most of the pending ones
/// (which push may be completing). Returns (retried, already gone).
async fn retrier(state: Arc<State>, until: Instant) -> (usize, usize) {
    let mut rng = StdRng::seed_from_u64(7);
    let (mut retried, mut gone) = (0, 0);
    while Instant::now() < until {
        for op in state.db.pending_ops().unwrap() {
            if op.state == OpState::Pending && !rng.random_bool(0.8) {
                continue;
            }
            match edits::retry(&state, op.seq).await {
                Ok(()) => retried += 1,
                Err(e) if e.kind == ErrorKind::NotFound => gone += 1,
                Err(e) => panic!("retry #{} failed: {e:?}", op.seq),
            }
        }
        tokio::time::sleep(Duration::from_millis(rng.random_range(5..20))).await;
    }
    (retried, gone)
}

/// Changes GHL while the rest runs: remote tags on the targets, inbound texts, and deletions
/// (each followed by the re-fetch a webhook hint would ask for).
/// What the GHL side works with.
struct GhlSide {
    state: Arc<State>,
    /// The daemon's client, for the re-fetch after a deletion.
    ghl: GhlClient,
    /// A second client: someone working in GHL.
    remote: GhlClient,
    user: GhlUser,
    sim: Arc<ghl_sim::server::Shared>,
    targets: Arc<Vec<Target>>,
    victims: Vec<String>,
}

async fn ghl_side(side: GhlSide, until: Instant) -> Remote {
    let GhlSide { state, ghl, remote, user, sim, targets, victims } = side;
    let mut rng = StdRng::seed_from_u64(9);
    let mut out =
        Remote { tags: (0..targets.len()).map(|i| (i, BTreeSet::new())).collect(), ..Remote::default() };
    let started = Instant::now();
    let mut texts = 0;
    let mut text = |sim: &ghl_sim::server::Shared, contact: &str, out: &mut Remote| {
        texts += 1;
        let m = ghl_sim::ops::inbound(sim, contact, &format!("stress text {texts}")).unwrap();
        out.inbound.push((m.id, contact.to_owned()));
    };
    while Instant::now() < until {
        // Deletions are spread over the run, so some land while edits and pages are in flight.
        let due = out.deleted.len() < victims.len()
            && started.elapsed() > RUN.mul_f64((out.deleted.len() + 1) as f64 / (victims.len() + 1) as f64);
        if due {
            let victim = victims[out.deleted.len()].clone();
            // A text first, so the contact is among those the poll reads as it is deleted.
            text(&sim, &victim, &mut out);
            tokio::time::sleep(Duration::from_millis(rng.random_range(0..SEARCH_LAG_MS))).await;
            user.delete(&format!("/contacts/{victim}")).await;
            pull::contacts_by_id(&state, &ghl, &BTreeSet::from([victim.clone()])).await.unwrap();
            out.deleted.push(victim);
        } else if rng.random_bool(0.6) {
            let target = rng.random_range(0..targets.len());
            let tag = REMOTE_TAGS[rng.random_range(0..REMOTE_TAGS.len())].to_owned();
            let id = &targets[target].contact;
            let set = out.tags.get_mut(&target).unwrap();
            if rng.random_bool(0.5) {
                remote.add_tags(id, std::slice::from_ref(&tag)).await.unwrap();
                set.insert(tag);
            } else {
                remote.remove_tags(id, std::slice::from_ref(&tag)).await.unwrap();
                set.remove(&tag);
            }
        } else {
            let target = rng.random_range(0..targets.len());
            text(&sim, &targets[target].contact, &mut out);
        }
        tokio::time::sleep(Duration::from_millis(rng.random_range(20..50))).await;
    }
    out
}

#[test]
fn edits_retries_syncs_and_ghl_changes_at_once_lose_nothing() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(stress());
}

async fn stress() {
    let begun = Instant::now();
    let sim = ghl_sim::spawn(ghl_sim::SimConfig {
        contacts: 300,
        rate_limit: None,
        daily_limit: None,
        seed: 8,
        search_lag_ms: SEARCH_LAG_MS,
        ..Default::default()
    })
    .await
    .unwrap();
    let ghl = support::unlimited_client(&sim);
    let remote = support::unlimited_client(&sim);
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(Arc::new(SledStore::open(&dir.path().join("store"), 16 << 20).unwrap())).unwrap();
    let state = Arc::new(State::new(
        db.clone(),
        Config::default(),
        Arc::new(SystemClock),
        DaemonInfo::default(),
        String::new(),
    ));
    full::full(&state, &ghl).await.unwrap();
    assert_eq!(db.counts().unwrap(), db.recount().unwrap(), "counters after the full sync");

    // Targets: contacts with a deal. Victims: others, none of them a target.
    let mut targets = Vec::new();
    for deal in db.opportunity_ids().unwrap() {
        let contact = db.opportunity(&deal).unwrap().unwrap().contact_id;
        if db.contact(&contact).unwrap().is_some() && !targets.iter().any(|t: &Target| t.contact == contact) {
            targets.push(Target { contact, deal });
        }
        if targets.len() == TARGETS {
            break;
        }
    }
    assert_eq!(targets.len(), TARGETS, "the location has enough contacts with a deal");
    let victims: Vec<String> = db
        .contact_ids()
        .unwrap()
        .into_iter()
        .filter(|id| !targets.iter().any(|t| &t.contact == id))
        .take(DELETIONS)
        .collect();
    let targets = Arc::new(targets);

    // The run.
    let until = Instant::now() + RUN;
    let stop_sync = Arc::new(AtomicBool::new(false));
    let sync = tokio::spawn({
        let (state, ghl, stop) = (state.clone(), ghl.clone(), stop_sync.clone());
        async move {
            let mut rounds = 0;
            while !stop.load(Ordering::Relaxed) {
                sync_round(&state, &ghl).await.unwrap();
                rounds += 1;
            }
            rounds
        }
    });
    let editors: Vec<_> =
        (0..EDITORS).map(|n| tokio::spawn(editor(state.clone(), targets.clone(), n, until))).collect();
    let retrier = tokio::spawn(retrier(state.clone(), until));
    let side = GhlSide {
        state: state.clone(),
        ghl: ghl.clone(),
        remote,
        user: GhlUser::of(&sim),
        sim: sim.shared().clone(),
        targets: targets.clone(),
        victims: victims.clone(),
    };
    let ghl_side = tokio::spawn(ghl_side(side, until));
    // A dashboard reading queue windows all along, as rows move under it.
    let reader = tokio::task::spawn_blocking({
        let db = db.clone();
        move || {
            let cfg = Config::default().queues;
            let mut reads = 0u32;
            while Instant::now() < until {
                for name in QueueName::BUILT_IN {
                    let slice = queues::plan(&name, jiff::Timestamp::now(), &cfg).unwrap();
                    let total = db.slice_len(&slice).unwrap();
                    let page = db.slice_window(&slice, total / 2, 40, None).unwrap();
                    assert!(page.rows.len() <= 40);
                    reads += 1;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            reads
        }
    });
    let mut made: Vec<(u64, Made)> = Vec::new();
    for e in editors {
        made.extend(e.await.unwrap());
    }
    let (retried, already_gone) = retrier.await.unwrap();
    let remote = ghl_side.await.unwrap();
    let reads = reader.await.unwrap();
    assert!(reads > 0, "the reader read queues during the run");
    stop_sync.store(true, Ordering::Relaxed);
    let rounds = sync.await.unwrap();
    made.sort_by_key(|(seq, _)| *seq);
    eprintln!(
        "stress: {} edits, {retried} retries ({already_gone} found the op done), {rounds} sync rounds, {} texts, {} deletions",
        made.len(),
        remote.inbound.len(),
        remote.deleted.len()
    );
    assert_eq!(remote.deleted.len(), DELETIONS, "every deletion ran");
    assert_eq!(
        made.iter().map(|(seq, _)| *seq).collect::<BTreeSet<_>>().len(),
        made.len(),
        "every edit got its own op"
    );

    // Settle: sync until nothing that can go is pending, then once more after the search index
    // has caught up with every write.
    let mut settled = false;
    for _ in 0..60 {
        let (accepted, _) = sync_round(&state, &ghl).await.unwrap();
        let pending = db.pending_ops().unwrap().iter().any(|o| o.state == OpState::Pending);
        if accepted == 0 && !pending {
            settled = true;
            break;
        }
    }
    assert!(settled, "sync settles: {:?}", db.pending_ops().unwrap());
    tokio::time::sleep(Duration::from_millis(SEARCH_LAG_MS + 300)).await;
    pull::incremental(&state, &ghl).await.unwrap();

    let truth = sim.snapshot();
    let in_ghl = |id: &str| truth.contacts.iter().find(|c| c.id == id);

    // Every tag edit reached GHL, in the order it was made, and the store agrees.
    for (i, target) in targets.iter().enumerate() {
        let mut local: BTreeSet<String> = BTreeSet::new();
        for (_, m) in &made {
            if let Made::Tag { target: t, tag, add } = m
                && *t == i
            {
                if *add {
                    local.insert(tag.clone());
                } else {
                    local.remove(tag);
                }
            }
        }
        let ghl_tags = &in_ghl(&target.contact).unwrap().tags;
        let stored = db.contact(&target.contact).unwrap().unwrap().tags;
        assert_eq!(only(ghl_tags, &LOCAL_TAGS), local, "GHL has target {i}'s local tag edits, in order");
        assert_eq!(only(&stored, &LOCAL_TAGS), local, "the store has target {i}'s local tag edits");
        // No change made in GHL is lost to a local edit laid over a stale copy.
        assert_eq!(only(ghl_tags, &REMOTE_TAGS), remote.tags[&i], "GHL has target {i}'s remote tags");
        assert_eq!(only(&stored, &REMOTE_TAGS), remote.tags[&i], "the store has target {i}'s remote tags");
    }

    // Each note reached GHL exactly once: a note op retried back after push completed it
    // would have posted it twice.
    for (i, target) in targets.iter().enumerate() {
        let mut local: Vec<String> = made
            .iter()
            .filter_map(|(_, m)| match m {
                Made::Note { target: t, body } if *t == i => Some(body.clone()),
                _ => None,
            })
            .collect();
        local.sort();
        let mut posted: Vec<String> = sim.with_store(|s| {
            s.notes(&target.contact)
                .iter()
                .filter(|n| n.body.starts_with(NOTE_PREFIX))
                .map(|n| n.body.clone())
                .collect()
        });
        posted.sort();
        assert_eq!(posted, local, "GHL has each of target {i}'s notes once");
    }
    // Every edit GHL accepted was pushed once: push audits each op it completes.
    let accepted = made.iter().filter(|(_, m)| !matches!(m, Made::BadStage { .. })).count();
    let pushed = db.audit_log().unwrap().iter().filter(|e| e.action == "pushed").count();
    assert_eq!(pushed, accepted, "each accepted edit was pushed exactly once");

    // The refused edits are out of sync, each still there once; nothing else is left.
    let refused: BTreeMap<u64, usize> = made
        .iter()
        .filter_map(|(seq, m)| match m {
            Made::BadStage { target } => Some((*seq, *target)),
            _ => None,
        })
        .collect();
    let left = db.pending_ops().unwrap();
    assert_eq!(
        left.iter().map(|o| o.seq).collect::<Vec<_>>(),
        refused.keys().copied().collect::<Vec<_>>(),
        "the refused edits are left, each once, and nothing else"
    );
    for op in &left {
        let target = &targets[refused[&op.seq]];
        assert_eq!(op.state, OpState::OutOfSync, "op #{} was refused twice", op.seq);
        assert!(op.last_error.as_deref().is_some_and(|e| e.contains("twice")), "{op:?}");
        assert_eq!(op.contact_id, target.contact);
        assert_eq!(
            op.kind,
            OpKind::SetStage { opportunity_id: target.deal.clone(), pipeline_stage_id: NO_SUCH_STAGE.into() }
        );
    }

    // Changes made in GHL: every text of a live contact is stored; the deleted contacts are
    // gone with everything of theirs, and no poll brought them back.
    for (message, contact) in &remote.inbound {
        let stored = db.message(message).unwrap();
        if remote.deleted.contains(contact) {
            assert!(stored.is_none(), "a deleted contact's text {message} is gone");
        } else {
            assert!(stored.is_some(), "text {message} to {contact} is stored");
        }
    }
    for id in &remote.deleted {
        assert!(db.contact(id).unwrap().is_none(), "deleted contact {id} stays deleted");
        assert!(db.lead(id).unwrap().is_none(), "deleted contact {id} has no row");
        assert!(db.messages_for(id, 1000).unwrap().is_empty(), "deleted contact {id} has no messages");
        assert!(db.opportunities_for(id).unwrap().is_empty(), "deleted contact {id} has no deals");
    }
    let stored: BTreeSet<String> = db.contact_ids().unwrap().into_iter().collect();
    let ghl_ids: BTreeSet<String> = truth.contacts.iter().map(|c| c.id.clone()).collect();
    assert_eq!(stored, ghl_ids, "the store holds exactly GHL's contacts");

    assert_eq!(db.counts().unwrap(), db.recount().unwrap(), "the counters match a recount");
    support::assert_queues_match_a_recount(&db, jiff::Timestamp::now(), "the stress run");
    sim.shutdown().await;
    eprintln!("stress: done in {:.1} s", begun.elapsed().as_secs_f64());
}
