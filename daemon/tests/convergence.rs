//! Property: random local edits, interleaved with remote changes in GHL and syncs, converge
//! with no lost edit. The daemon's real sync code runs against the real simulator over HTTP.
//!
//! The model: GHL's state `R`, and the queue `P` of local edits not pushed yet. A local edit
//! appends to `P` (and shows locally at once); a remote edit changes `R`; a sync pushes `P`
//! onto `R` in order, then pulls. After the final sync, GHL and the store must both equal `R`.

#![allow(clippy::unwrap_used)]

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use leadline_daemon::clock::SystemClock;
use leadline_daemon::ghl::{ClientConfig, GhlClient, RateLimits};
use leadline_daemon::ipc::edits;
use leadline_daemon::state::State;
use leadline_daemon::store::{Db, MemoryStore};
use leadline_daemon::sync::{full, pull, push};
use leadline_shared::config::Config;
use leadline_shared::domain::OpKind;
use leadline_shared::protocol::DaemonInfo;
use proptest::prelude::*;

const TAGS: [&str; 3] = ["alpha", "beta", "gamma"];
const CONTACTS: usize = 3;

#[derive(Debug, Clone)]
enum Action {
    Local { contact: usize, tag: usize, add: bool },
    Remote { contact: usize, tag: usize, add: bool },
    Sync,
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        3 => (0..CONTACTS, 0..TAGS.len(), any::<bool>()).prop_map(|(contact, tag, add)| Action::Local { contact, tag, add }),
        3 => (0..CONTACTS, 0..TAGS.len(), any::<bool>()).prop_map(|(contact, tag, add)| Action::Remote { contact, tag, add }),
        1 => Just(Action::Sync),
    ]
}

fn client(sim: &ghl_sim::SimHandle) -> GhlClient {
    // No rate limit here: the property runs many short syncs.
    let limits = RateLimits {
        burst: 100_000,
        window: Duration::from_secs(1),
        daily: u32::MAX,
        ..RateLimits::default()
    };
    GhlClient::new(ClientConfig { limits, ..support::client_config(sim) }).unwrap()
}

/// Only our test tags, sorted, for comparison.
fn ours(tags: &[String]) -> BTreeSet<String> {
    tags.iter().filter(|t| TAGS.contains(&t.as_str())).cloned().collect()
}

async fn sync(state: &State, ghl: &GhlClient) {
    let pushed = push::push(state, ghl).await.unwrap();
    assert_eq!(pushed.kept, 0, "every edit is accepted: nothing conflicts in this model");
    pull::incremental(state, ghl).await.unwrap();
}

/// What a push does in the model: the pending local edits land on GHL's state, in order.
fn push_model(model: &mut BTreeMap<usize, BTreeSet<String>>, pending: &mut Vec<(usize, String, bool)>) {
    for (contact, tag, add) in pending.drain(..) {
        let set = model.get_mut(&contact).unwrap();
        if add {
            set.insert(tag);
        } else {
            set.remove(&tag);
        }
    }
}

/// How far GHL's search lags behind its writes here (each write draws its own lag up to this,
/// so changes surface out of order, as they do in GHL).
const SEARCH_LAG_MS: u64 = 300;

async fn run(actions: Vec<Action>) {
    let sim = ghl_sim::spawn(ghl_sim::SimConfig {
        contacts: 12,
        rate_limit: None,
        seed: 5,
        search_lag_ms: SEARCH_LAG_MS,
        ..Default::default()
    })
    .await
    .unwrap();
    let ghl = client(&sim);
    let remote = client(&sim);
    let db = Db::open(Arc::new(MemoryStore::new())).unwrap();
    let state = State::new(
        db.clone(),
        Config::default(),
        Arc::new(SystemClock),
        DaemonInfo::default(),
        String::new(),
    );
    full::full(&state, &ghl).await.unwrap();

    let ids: Vec<String> = sim.snapshot().contacts.iter().take(CONTACTS).map(|c| c.id.clone()).collect();
    let mut model: BTreeMap<usize, BTreeSet<String>> =
        (0..CONTACTS).map(|i| (i, ours(&db.contact(&ids[i]).unwrap().unwrap().tags))).collect();
    let mut pending: Vec<(usize, String, bool)> = Vec::new();

    for action in actions {
        match action {
            Action::Local { contact, tag, add } => {
                let tag = TAGS[tag].to_owned();
                let op = if add {
                    OpKind::AddTag { tag: tag.clone() }
                } else {
                    OpKind::RemoveTag { tag: tag.clone() }
                };
                edits::edit(&state, &ids[contact], op).await.unwrap();
                pending.push((contact, tag.clone(), add));
                // The edit shows locally at once.
                let local = ours(&db.contact(&ids[contact]).unwrap().unwrap().tags);
                assert_eq!(local.contains(&tag), add, "a local edit shows at once");
            }
            Action::Remote { contact, tag, add } => {
                let tag = TAGS[tag].to_owned();
                if add {
                    remote.add_tags(&ids[contact], std::slice::from_ref(&tag)).await.unwrap();
                    model.get_mut(&contact).unwrap().insert(tag);
                } else {
                    remote.remove_tags(&ids[contact], std::slice::from_ref(&tag)).await.unwrap();
                    model.get_mut(&contact).unwrap().remove(&tag);
                }
            }
            Action::Sync => {
                push_model(&mut model, &mut pending);
                sync(&state, &ghl).await;
            }
        }
    }
    push_model(&mut model, &mut pending);
    sync(&state, &ghl).await;
    // Once every write has reached GHL's search index, one more poll sees them all: a change
    // indexed after a later one is not skipped.
    tokio::time::sleep(Duration::from_millis(SEARCH_LAG_MS + 100)).await;
    pull::incremental(&state, &ghl).await.unwrap();

    let truth = sim.snapshot();
    for (i, id) in ids.iter().enumerate() {
        let in_ghl = ours(&truth.contacts.iter().find(|c| &c.id == id).unwrap().tags);
        let local = ours(&db.contact(id).unwrap().unwrap().tags);
        assert_eq!(in_ghl, model[&i], "GHL has every edit for contact {i}");
        assert_eq!(local, model[&i], "the store converged for contact {i}");
    }
    assert!(db.pending_ops().unwrap().is_empty(), "no edit left behind");
    sim.shutdown().await;
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn local_and_remote_edits_converge_with_no_lost_edit(actions in proptest::collection::vec(action(), 1..14)) {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        runtime.block_on(run(actions));
    }
}
