//! The search index the store keeps at write time follows every way a lead changes: contacts
//! arriving and changing in a sync page, a local tag edit, a rescore that leaves the words
//! alone, and the removal of leads. After each step the kept index holds what one built afresh
//! from the rows holds, and `Request::Search` answers from it.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use leadline_daemon::clock::SystemClock;
use leadline_daemon::ingest::Page;
use leadline_daemon::ipc::{edits, handler};
use leadline_daemon::state::State;
use leadline_daemon::store::{Db, SledStore};
use leadline_shared::config::Config;
use leadline_shared::domain::{Contact, OpKind};
use leadline_shared::protocol::{DaemonInfo, ErrorKind, Request, Response, SearchPage};

fn contact(id: &str, first: &str, last: &str, phone: &str, tags: &[&str]) -> Contact {
    Contact {
        id: id.into(),
        first_name: Some(first.into()),
        last_name: Some(last.into()),
        email: Some(format!("{}.{}@example.com", first.to_lowercase(), last.to_lowercase())),
        phone: Some(phone.into()),
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        date_added: Some(jiff::Timestamp::now()),
        ..Contact::default()
    }
}

fn state(dir: &tempfile::TempDir) -> Arc<State> {
    let db = Db::open(Arc::new(SledStore::open(&dir.path().join("store"), 8 << 20).unwrap())).unwrap();
    Arc::new(State::new(db, Config::default(), Arc::new(SystemClock), DaemonInfo::default(), String::new()))
}

async fn search(state: &Arc<State>, query: &str) -> SearchPage {
    match handler::handle(state, Request::Search { query: query.into(), limit: 10 }).await.unwrap() {
        Response::Search(page) => *page,
        other => panic!("{other:?}"),
    }
}

async fn ids(state: &Arc<State>, query: &str) -> Vec<String> {
    search(state, query).await.rows.into_iter().map(|r| r.id).collect()
}

/// The kept index holds what one built afresh from the stored rows holds.
fn assert_kept(db: &Db, after: &str) {
    let kept = db.with_search(|i| i.contents()).unwrap();
    let (fresh, unreadable) = db.search_recount().unwrap();
    assert_eq!(unreadable, 0);
    assert_eq!(kept, fresh.contents(), "search index after {after}");
}

fn apply(state: &State, page: Page) {
    state.ingest().apply(page, jiff::Timestamp::now()).unwrap();
}

#[tokio::test]
async fn the_index_follows_syncs_edits_rescores_and_removals() {
    let dir = tempfile::tempdir().unwrap();
    let state = state(&dir);
    apply(
        &state,
        Page::Contacts(vec![
            contact("c1", "Maria", "Gonzalez", "+15125550100", &["Buyer"]),
            contact("c2", "James", "Whitaker", "+15125550199", &["Seller", "Open House"]),
        ]),
    );
    // Built from the rows on first use...
    assert_eq!(ids(&state, "maria").await, ["c1"]);
    assert_kept(&state.db, "the first build");

    // ...then moved by each commit: a new lead and a changed one in a sync page.
    apply(
        &state,
        Page::Contacts(vec![
            contact("c3", "Aisha", "Okafor", "(737) 555-0100", &["Buyer"]),
            contact("c1", "Maria", "Lopez", "+15125550111", &["Buyer", "VIP"]),
        ]),
    );
    assert_kept(&state.db, "a sync page");
    assert!(ids(&state, "gonzalez").await.is_empty(), "the old name is gone");
    assert_eq!(ids(&state, "maria lopez").await, ["c1"]);
    assert!(ids(&state, "512 555 0100").await.is_empty(), "the old number is gone");
    assert_eq!(ids(&state, "(512) 555-0111").await, ["c1"]);
    let mut buyers = ids(&state, "buyer").await;
    buyers.sort();
    assert_eq!(buyers, ["c1", "c3"]);
    let page = search(&state, "+1 737-555").await;
    assert_eq!((page.terms, page.total), (vec!["737555".to_owned()], 1));

    // A local edit: the tag is findable at once, before GHL has it.
    edits::edit(&state, "c2", OpKind::AddTag { tag: "Pre-Approved".into() }).await.unwrap();
    assert_kept(&state.db, "a tag edit");
    assert_eq!(ids(&state, "pre-approved").await, ["c2"]);
    edits::edit(&state, "c2", OpKind::RemoveTag { tag: "Open House".into() }).await.unwrap();
    assert!(ids(&state, "open house").await.is_empty());

    // A message rescoring a lead moves only its score.
    let message: leadline_shared::domain::Message = serde_json::from_value(serde_json::json!({
        "id": "m1", "contactId": "c3", "direction": "inbound", "messageType": "TYPE_SMS",
        "body": "We are pre-approved up to $500k, looking to buy in 3 months, need 3 beds",
        "dateAdded": jiff::Timestamp::now().to_string(),
    }))
    .unwrap();
    apply(&state, Page::Messages(vec![message]));
    assert_kept(&state.db, "a rescore");
    let rescored = state.db.lead("c3").unwrap().unwrap().score;
    assert!(rescored > state.db.lead("c1").unwrap().unwrap().score, "the reply raised the score");
    assert_eq!(ids(&state, "buyer").await, ["c3", "c1"], "the better score first");

    // Removed leads are not found.
    state.db.remove_leads(&["c3".to_owned()], jiff::Timestamp::now()).unwrap();
    assert_kept(&state.db, "a removal");
    assert!(ids(&state, "okafor").await.is_empty());
    assert_eq!(ids(&state, "buyer").await, ["c1"]);

    // A daemon opened again builds the same index from the store.
    drop(state);
    let again = self::state(&dir);
    assert_eq!(ids(&again, "maria").await, ["c1"]);
    assert_kept(&again.db, "a restart");
}

#[tokio::test]
async fn a_query_without_words_or_a_bad_limit_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let state = state(&dir);
    let err = handler::handle(&state, Request::Search { query: " -() ".into(), limit: 5 }).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::BadRequest);
    assert!(err.message.contains("search by name, phone, email or tag"), "{}", err.message);
    let err = handler::handle(&state, Request::Search { query: "maria".into(), limit: 0 }).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::BadRequest);
    assert!(err.message.contains("between 1 and"), "{}", err.message);
    // An empty store answers with nothing.
    assert_eq!(
        search(&state, "maria").await,
        SearchPage { terms: vec!["maria".into()], total: 0, rows: vec![] }
    );
}
