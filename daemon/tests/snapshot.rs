//! The analytics aggregates and the search index a daemon saves as it stops are read back at
//! its next start instead of being built by a walk over every record, but only when nothing
//! was written since; either way they equal what a recount of the records gives.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::sync::Arc;

use leadline_daemon::clock::SystemClock;
use leadline_daemon::ingest::Page;
use leadline_daemon::state::State;
use leadline_daemon::store::{Db, SledStore, Tree};
use leadline_shared::config::Config;
use leadline_shared::domain::Contact;
use leadline_shared::protocol::DaemonInfo;

fn contact(id: &str, first: &str, last: &str, tags: &[&str]) -> Contact {
    Contact {
        id: id.into(),
        first_name: Some(first.into()),
        last_name: Some(last.into()),
        email: Some(format!("{}@example.com", first.to_lowercase())),
        phone: Some("+15125550100".into()),
        source: Some("Zillow".into()),
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        date_added: Some(jiff::Timestamp::now()),
        ..Contact::default()
    }
}

fn open(dir: &Path) -> Arc<State> {
    let db = Db::open(Arc::new(SledStore::open(&dir.join("store"), 8 << 20).unwrap())).unwrap();
    Arc::new(State::new(db, Config::default(), Arc::new(SystemClock), DaemonInfo::default(), String::new()))
}

fn apply(state: &State, contacts: Vec<Contact>) {
    state.ingest().apply(Page::Contacts(contacts), jiff::Timestamp::now()).unwrap();
}

/// The kept structures equal a recount from the records.
fn assert_recounted(db: &Db) {
    let (aggregates, unreadable) = db.analytics_recount().unwrap();
    assert_eq!(unreadable, 0);
    assert_eq!(db.with_analytics(Clone::clone).unwrap(), aggregates);
    let kept = db.with_search(|i| i.contents()).unwrap();
    assert_eq!(kept, db.search_recount().unwrap().0.contents());
}

async fn stop(state: Arc<State>, save: bool) {
    if save {
        assert!(state.db.save_snapshot().unwrap(), "both are built, so a snapshot is saved");
        // Beside the trees, not among the meta keys, where sled would cache it with their leaf.
        let store = state.db.backend();
        assert!(store.read_side("derived-snapshot").unwrap().is_some_and(|b| b.len() > 100));
        assert_eq!(store.get(Tree::Meta, b"derived/snapshot").unwrap(), None);
    }
    state.db.flush().await.unwrap();
    drop(state);
}

#[tokio::test]
async fn a_restart_reads_the_snapshot_unless_the_store_changed_since() {
    let dir = tempfile::tempdir().unwrap();
    let state = open(dir.path());
    apply(
        &state,
        vec![contact("c1", "Maria", "Gonzalez", &["Buyer"]), contact("c2", "James", "Whitaker", &[])],
    );
    assert!(!state.db.warm_up().unwrap(), "no snapshot yet: built from the records");
    stop(state, true).await;

    // Nothing written since: read back, and equal to a recount.
    let state = open(dir.path());
    assert!(state.db.warm_up().unwrap(), "read from the snapshot");
    assert_recounted(&state.db);
    // Kept up to date from there, as if built.
    apply(&state, vec![contact("c3", "Aisha", "Okafor", &["Seller"])]);
    assert_recounted(&state.db);
    stop(state, false).await;

    // Written to after the snapshot (and stopped without a new one, as a crash would):
    // built from the records, which hold c3.
    let state = open(dir.path());
    assert!(!state.db.warm_up().unwrap(), "a stale snapshot is not read");
    assert_recounted(&state.db);
    assert_eq!(state.db.with_search(|i| i.len()).unwrap(), 3);
}
