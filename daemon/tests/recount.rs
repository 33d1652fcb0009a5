//! The counters against a recount after every path that deletes (issue #8, item 5): a contact
//! GHL answers 404 for, the reconcile of contacts deleted in GHL, a deal deleted in GHL, and a
//! full sync over deletions. `Db::counts` are counters kept in each transaction; `Db::recount`
//! walks the records. They must agree after each, and the deleted records must be gone with
//! everything of theirs.

#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeSet;
use std::sync::Arc;

use leadline_daemon::clock::SystemClock;
use leadline_daemon::ghl::GhlClient;
use leadline_daemon::ingest::{Ingest, Page};
use leadline_daemon::ipc::edits;
use leadline_daemon::state::State;
use leadline_daemon::store::{Batch, Db, Put, SledStore, Tree};
use leadline_shared::config::Config;
use leadline_shared::domain::{FollowUpItem, FollowUps, Mode, Note, OpKind, StepAction, Task};
use leadline_shared::protocol::DaemonInfo;
use support::GhlUser;

struct Setup {
    sim: ghl_sim::SimHandle,
    state: Arc<State>,
    ghl: GhlClient,
    user: GhlUser,
    _dir: tempfile::TempDir,
}

impl Setup {
    fn db(&self) -> &Db {
        &self.state.db
    }

    /// The counters agree with the records.
    fn assert_counts(&self, after: &str) {
        assert_eq!(self.db().counts().unwrap(), self.db().recount().unwrap(), "counters after {after}");
        // The analytics aggregates, built on the first check and moved by every write after.
        let kept = self.db().with_analytics(Clone::clone).unwrap();
        assert_eq!(kept, self.db().analytics_recount().unwrap().0, "analytics aggregates after {after}");
        // Likewise the search index.
        let kept = self.db().with_search(|i| i.contents()).unwrap();
        assert_eq!(kept, self.db().search_recount().unwrap().0.contents(), "search index after {after}");
        support::assert_queues_match_a_recount(self.db(), jiff::Timestamp::now(), after);
    }

    /// Contacts with at least one deal and one message, in id order.
    fn busy_contacts(&self) -> Vec<String> {
        let db = self.db();
        db.contact_ids()
            .unwrap()
            .into_iter()
            .filter(|id| {
                !db.opportunities_for(id).unwrap().is_empty() && !db.messages_for(id, 1).unwrap().is_empty()
            })
            .collect()
    }

    /// Asserts that nothing of the contact is left.
    fn assert_gone(&self, id: &str) {
        let db = self.db();
        assert!(db.contact(id).unwrap().is_none(), "{id}: contact");
        assert!(db.lead(id).unwrap().is_none(), "{id}: row");
        assert!(db.score(id).unwrap().is_none(), "{id}: score");
        assert!(db.messages_for(id, 10_000).unwrap().is_empty(), "{id}: messages");
        assert!(db.opportunities_for(id).unwrap().is_empty(), "{id}: deals");
        assert!(db.follow_up(id).unwrap().is_none(), "{id}: follow-up");
        assert!(db.pending_ops().unwrap().iter().all(|o| o.contact_id != id), "{id}: pending edits");
    }
}

/// A location of 40 contacts whose search shows writes at once (so listings are exact), synced
/// in full into a sled store.
async fn setup() -> Setup {
    let sim = ghl_sim::spawn(ghl_sim::SimConfig {
        contacts: 40,
        rate_limit: None,
        daily_limit: None,
        search_lag_ms: 0,
        seed: 11,
        ..Default::default()
    })
    .await
    .unwrap();
    let ghl = support::unlimited_client(&sim);
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(Arc::new(SledStore::open(&dir.path().join("store"), 8 << 20).unwrap())).unwrap();
    let state = Arc::new(State::new(
        db,
        Config::default(),
        Arc::new(SystemClock),
        DaemonInfo::default(),
        String::new(),
    ));
    leadline_daemon::sync::full::full(&state, &ghl).await.unwrap();
    let user = GhlUser::of(&sim);
    let setup = Setup { sim, state, ghl, user, _dir: dir };
    setup.assert_counts("the first full sync");
    assert_eq!(setup.db().counts().unwrap().contacts, 40);
    setup
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_contact_ghl_deleted_is_removed_wholly_when_fetched_by_id() {
    let s = setup().await;
    let db = s.db();
    let now = s.state.clock.now();
    let id = s.busy_contacts().remove(0);
    // Everything a lead can have locally: a note and a task, a follow-up, edits not pushed yet.
    let ingest = Ingest::new(db.clone(), Config::default().scoring);
    let note = Note {
        id: "local-note".into(),
        contact_id: id.clone(),
        body: Some("n".into()),
        ..Default::default()
    };
    let task = Task {
        id: "local-task".into(),
        contact_id: id.clone(),
        title: Some("t".into()),
        ..Default::default()
    };
    ingest.apply(Page::Notes(vec![note]), now).unwrap();
    ingest.apply(Page::Tasks(vec![task]), now).unwrap();
    let due = now + jiff::SignedDuration::from_hours(24);
    let mut follow_up = FollowUps::new(id.clone());
    let action = StepAction::SendSms { template: "t".into() };
    let item = FollowUpItem::new(format!("{id}/w/0/0"), id.clone(), "w".into(), 0, action, due, now);
    follow_up.items.push(FollowUpItem { mode: Mode::Approval, ..item });
    db.commit(Batch::new().put(Put::FollowUps(follow_up))).unwrap();
    ingest.rescore(&BTreeSet::from([id.clone()]), now).unwrap();
    assert!(db.lead(&id).unwrap().unwrap().next_followup_at.is_some());
    edits::edit(&s.state, &id, OpKind::AddTag { tag: "never-sent".into() }).await.unwrap();
    edits::edit(&s.state, &id, OpKind::AddNote { body: "never sent".into() }).await.unwrap();
    s.assert_counts("the local records");
    let before = db.counts().unwrap();
    let messages = db.messages_for(&id, 10_000).unwrap().len() as u64;
    let deals = db.opportunities_for(&id).unwrap().len() as u64;

    s.user.delete(&format!("/contacts/{id}")).await;
    let pulled = leadline_daemon::sync::pull::contacts_by_id(&s.state, &s.ghl, &BTreeSet::from([id.clone()]))
        .await
        .unwrap();

    assert_eq!(pulled.deleted, 1);
    s.assert_gone(&id);
    assert!(db.backend().get(Tree::Notes, b"local-note").unwrap().is_none(), "its note");
    assert!(db.backend().get(Tree::Tasks, b"local-task").unwrap().is_none(), "its task");
    let dropped = db.audit_log().unwrap().into_iter().filter(|e| e.action == "dropped").count();
    assert_eq!(dropped, 2, "each edit that can no longer reach GHL is in the audit log");
    let after = db.counts().unwrap();
    assert_eq!(after.contacts, before.contacts - 1);
    assert_eq!(after.messages, before.messages - messages);
    assert_eq!(after.opportunities, before.opportunities - deals);
    assert_eq!(after.hot + after.warm + after.cold, before.hot + before.warm + before.cold - 1);
    s.assert_counts("a contact GHL answered 404 for");
    s.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reconcile_removes_contacts_ghl_deleted() {
    let s = setup().await;
    let db = s.db();
    let gone: Vec<String> = s.busy_contacts().into_iter().take(3).collect();
    assert_eq!(gone.len(), 3);
    let before = db.counts().unwrap();
    for id in &gone {
        s.user.delete(&format!("/contacts/{id}")).await;
    }

    let pulled = leadline_daemon::sync::pull::reconcile_contacts(&s.state, &s.ghl).await.unwrap();

    assert_eq!(pulled.deleted, 3);
    for id in &gone {
        s.assert_gone(id);
    }
    assert_eq!(db.counts().unwrap().contacts, before.contacts - 3);
    s.assert_counts("the reconcile");
    s.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deal_ghl_deleted_goes_at_the_next_relisting_and_leaves_the_row() {
    let s = setup().await;
    let db = s.db();
    // A lead whose only deal shows on its row.
    let (id, deal) = db
        .contact_ids()
        .unwrap()
        .into_iter()
        .find_map(|id| {
            let deals = db.opportunities_for(&id).unwrap();
            let row = db.lead(&id).unwrap()?;
            (deals.len() == 1 && row.pipeline.is_some()).then(|| (id, deals[0].id.clone()))
        })
        .unwrap();
    let before = db.counts().unwrap();

    s.user.delete(&format!("/opportunities/{deal}")).await;
    let pulled = leadline_daemon::sync::pull::deals(&s.state, &s.ghl).await.unwrap();

    assert_eq!(pulled.deleted, 1);
    assert!(db.opportunity(&deal).unwrap().is_none());
    assert!(db.opportunities_for(&id).unwrap().is_empty());
    assert_eq!(db.counts().unwrap().opportunities, before.opportunities - 1);
    let row = db.lead(&id).unwrap().unwrap();
    assert_eq!((row.pipeline, row.stage), (None, None), "the row no longer shows the deleted deal");
    s.assert_counts("a deal GHL deleted");
    s.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_sync_over_deletions_keeps_the_counters() {
    let s = setup().await;
    let db = s.db();
    let busy = s.busy_contacts();
    let (gone, kept) = (&busy[..2], &busy[2]);
    for id in gone {
        s.user.delete(&format!("/contacts/{id}")).await;
    }
    // A deal of another lead, a text, a new lead.
    let other_deal = db
        .opportunity_ids()
        .unwrap()
        .into_iter()
        .find(|d| !gone.contains(&db.opportunity(d).unwrap().unwrap().contact_id))
        .unwrap();
    s.user.delete(&format!("/opportunities/{other_deal}")).await;
    let text = s.sim.inbound(kept, "still interested").unwrap();
    let new = s.sim.inject_lead(&serde_json::json!({ "opportunity": true })).unwrap();

    leadline_daemon::sync::full::full(&s.state, &s.ghl).await.unwrap();

    for id in gone {
        s.assert_gone(id);
    }
    assert!(db.opportunity(&other_deal).unwrap().is_none());
    assert!(db.message(&text.id).unwrap().is_some());
    assert!(db.contact(&new.id).unwrap().is_some());
    let in_ghl = s.sim.counts();
    let counts = db.counts().unwrap();
    assert_eq!(counts.contacts, in_ghl.contacts as u64);
    assert_eq!(counts.opportunities, in_ghl.opportunities as u64);
    s.assert_counts("a full sync over deletions");
    s.sim.shutdown().await;
}
