//! The conformance suite every [`Store`] implementation must pass.
//!
//! Each check takes a fresh, empty store. `store_conformance_tests!(factory)` expands to one
//! `#[test]` per check, where `factory()` returns `(store, guard)` and the guard (e.g. a temp
//! dir) lives as long as the store.

use std::ops::ControlFlow;
use std::sync::Arc;

use jiff::Timestamp;
use leadline_shared::domain::{
    Contact, FollowUpItem, FollowUps, ItemState, LeadSummary, Message, Mode, OpKind, Opportunity, StepAction,
    Temperature,
};

use super::{
    Batch, Db, LeadOrder, Migration, NewOp, Put, Ranking, Remove, Slice, Store, StoreError, Tree, TxError,
};

/// Expands to the conformance tests for a store factory.
#[macro_export]
macro_rules! store_conformance_tests {
    ($factory:expr) => {
        $crate::store_conformance_tests!(@each $factory,
            basic_get_insert_remove, scans_are_ordered_and_bounded, aborted_transactions_leave_nothing,
            transactions_read_their_own_writes, lead_indexes_follow_their_lead,
            queue_windows_match_the_index_walks, counters_track_records,
            messages_and_opportunities_by_contact, pending_ops_are_sequenced,
            followup_items_name_their_ops, schema_version_and_migrations, flush_succeeds,
            commits_log_the_leads_they_change, side_files_are_replaced_whole);
    };
    (@each $factory:expr, $($check:ident),+) => {
        $(
            #[test]
            fn $check() {
                let (store, _guard) = ($factory)();
                $crate::store::conformance::$check(store);
            }
        )+
    };
}

fn ts(s: i64) -> Option<Timestamp> {
    Timestamp::from_second(s).ok()
}

fn keys(store: &dyn Store, tree: Tree, prefix: &[u8], from: Option<&[u8]>, reverse: bool) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    store
        .scan(tree, prefix, from, reverse, &mut |k, _| {
            out.push(k.to_vec());
            ControlFlow::Continue(())
        })
        .expect("scan");
    out
}

fn db<S: Store>(store: S) -> Db {
    Db::open(Arc::new(store)).expect("open db")
}

/// Single keys can be written, read back and removed.
pub fn basic_get_insert_remove<S: Store>(store: S) {
    store.transact(&|tx| tx.insert(Tree::Leads, b"a", b"1")).expect("insert");
    assert_eq!(store.get(Tree::Leads, b"a").expect("get"), Some(b"1".to_vec()));
    assert_eq!(store.get(Tree::FollowUps, b"a").expect("get"), None, "trees are separate");
    store.transact(&|tx| tx.remove(Tree::Leads, b"a")).expect("remove");
    assert_eq!(store.get(Tree::Leads, b"a").expect("get"), None);
    assert_eq!(store.len(Tree::Leads).expect("len"), 0);
}

/// Scans honour byte order, prefixes, starting points and direction, and stop on Break.
pub fn scans_are_ordered_and_bounded<S: Store>(store: S) {
    store
        .transact(&|tx| {
            for k in [&b"b2"[..], b"a1", b"b1", b"b3", b"c1", b"b\xff"] {
                tx.insert(Tree::MessagesByContact, k, b"")?;
            }
            Ok(())
        })
        .expect("insert");
    let all = keys(&store, Tree::MessagesByContact, b"", None, false);
    assert_eq!(all, [&b"a1"[..], b"b1", b"b2", b"b3", b"b\xff", b"c1"]);
    assert_eq!(
        keys(&store, Tree::MessagesByContact, b"b", None, false),
        [&b"b1"[..], b"b2", b"b3", b"b\xff"]
    );
    assert_eq!(keys(&store, Tree::MessagesByContact, b"b", None, true), [&b"b\xff"[..], b"b3", b"b2", b"b1"]);
    assert_eq!(
        keys(&store, Tree::MessagesByContact, b"b", Some(b"b2"), false),
        [&b"b2"[..], b"b3", b"b\xff"]
    );
    assert_eq!(keys(&store, Tree::MessagesByContact, b"b", Some(b"b2"), true), [&b"b2"[..], b"b1"]);
    let mut first = Vec::new();
    store
        .scan(Tree::MessagesByContact, b"", None, false, &mut |k, _| {
            first.push(k.to_vec());
            ControlFlow::Break(())
        })
        .expect("scan");
    assert_eq!(first, [b"a1".to_vec()]);
}

/// A transaction that fails writes nothing, in any tree.
pub fn aborted_transactions_leave_nothing<S: Store>(store: S) {
    let result = store.transact(&|tx| {
        tx.insert(Tree::Leads, b"x", b"1")?;
        tx.insert(Tree::QueuePlaces, b"x", b"")?;
        Err(TxError::Abort(StoreError::Backend("deliberate".into())))
    });
    assert!(matches!(result, Err(StoreError::Backend(m)) if m == "deliberate"));
    assert_eq!(store.get(Tree::Leads, b"x").expect("get"), None);
    assert_eq!(store.get(Tree::QueuePlaces, b"x").expect("get"), None);
}

/// Reads inside a transaction see its earlier writes and removes.
pub fn transactions_read_their_own_writes<S: Store>(store: S) {
    store.transact(&|tx| tx.insert(Tree::Meta, b"k", b"old")).expect("seed");
    store
        .transact(&|tx| {
            tx.insert(Tree::Meta, b"k", b"new")?;
            assert_eq!(tx.get(Tree::Meta, b"k")?, Some(b"new".to_vec()));
            tx.remove(Tree::Meta, b"k")?;
            assert_eq!(tx.get(Tree::Meta, b"k")?, None);
            tx.insert(Tree::Meta, b"k", b"last")?;
            Ok(())
        })
        .expect("tx");
    assert_eq!(store.get(Tree::Meta, b"k").expect("get"), Some(b"last".to_vec()));
}

fn lead(id: &str, score: u8, t: Temperature) -> LeadSummary {
    LeadSummary {
        id: id.into(),
        name: id.into(),
        score,
        temperature: t,
        date_added: ts(100),
        ..Default::default()
    }
}

fn order(db: &Db, order: LeadOrder) -> Vec<String> {
    let mut ids = Vec::new();
    db.leads_by(order, &mut |l| {
        ids.push(l.id);
        ControlFlow::Continue(())
    })
    .expect("walk");
    ids
}

/// Rewriting a lead moves its index entries; removing it removes them.
pub fn lead_indexes_follow_their_lead<S: Store>(store: S) {
    let db = db(store);
    let mut batch = Batch::new();
    batch.put(Put::Lead(lead("a", 30, Temperature::Cold)));
    batch.put(Put::Lead(lead("b", 90, Temperature::Hot)));
    batch.put(Put::Lead(lead("c", 60, Temperature::Warm)));
    db.commit(&batch).expect("commit");
    assert_eq!(order(&db, LeadOrder::Score), ["b", "c", "a"]);
    assert_eq!(order(&db, LeadOrder::UncontactedNewest).len(), 3);

    let mut a = lead("a", 95, Temperature::Hot);
    a.first_outbound_at = ts(200);
    a.awaiting_reply_since = ts(300);
    a.last_activity = ts(300);
    db.commit(Batch::new().put(Put::Lead(a))).expect("rescore");
    assert_eq!(order(&db, LeadOrder::Score), ["a", "b", "c"]);
    assert_eq!(order(&db, LeadOrder::UncontactedNewest), ["c", "b"]);
    assert_eq!(order(&db, LeadOrder::AwaitingLongest), ["a"]);

    db.commit(Batch::new().remove(Remove::Lead("b".into()))).expect("remove");
    assert_eq!(order(&db, LeadOrder::Score), ["a", "c"]);
    assert_eq!(db.backend().len(Tree::QueuePlaces).expect("len"), 2);
    assert_eq!(db.backend().len(Tree::IdxUncontacted).expect("len"), 1);
}

/// A varied lead: its fields spread out from `i`, so that every order has many members.
fn varied_lead(i: u32, round: u32) -> LeadSummary {
    let spread = |k: u32| i64::from(i.wrapping_mul(2_654_435_761).rotate_left(k) % 1_000);
    let hot = (i + round).is_multiple_of(4);
    LeadSummary {
        score: ((i * 37 + round * 11) % 101) as u8,
        temperature: if hot { Temperature::Hot } else { Temperature::Cold },
        next_followup_at: i.is_multiple_of(3).then(|| ts(spread(3) + i64::from(round))).flatten(),
        awaiting_reply_since: (i % 5 < 2).then(|| ts(spread(7))).flatten(),
        first_outbound_at: i.is_multiple_of(2).then(|| ts(50)).flatten(),
        last_activity: (!i.is_multiple_of(7)).then(|| ts(spread(11) + i64::from(round) * 100)).flatten(),
        date_added: ts(spread(13)),
        value_at_risk: (spread(17) * 100 + i64::from(round)) as f64,
        priority: (spread(19) % 101) as u8,
        ..lead(&format!("c{i:05}"), 0, Temperature::Cold)
    }
}

/// Every queue window (any offset, either direction, bounded by time, anchored on a lead)
/// holds exactly the rows a walk of the index tree on disk gives, before and after rows move
/// and leave, across many blocks of the in-memory orders.
pub fn queue_windows_match_the_index_walks<S: Store>(store: S) {
    let db = db(store);
    let commit_all = |round: u32, range: std::ops::Range<u32>| {
        let mut batch = Batch::new();
        for i in range {
            batch.put(Put::Lead(varied_lead(i, round)));
        }
        db.commit(&batch).expect("commit");
    };
    commit_all(0, 0..1_500);
    let walk = |order: LeadOrder, keep: &dyn Fn(&LeadSummary) -> bool| -> Vec<String> {
        let mut ids = Vec::new();
        db.leads_by(order, &mut |l| {
            if keep(&l) {
                ids.push(l.id);
            }
            ControlFlow::Continue(())
        })
        .expect("walk");
        ids
    };
    // The recovery order is not a tree of its own: the quiet leads, by value at risk.
    let recovery = |quiet: jiff::Timestamp| -> Vec<String> {
        let mut leads = Vec::new();
        db.leads_by(LeadOrder::Score, &mut |l| {
            if l.last_activity.is_none_or(|a| a < quiet) {
                leads.push(l);
            }
            ControlFlow::Continue(())
        })
        .expect("walk");
        leads.sort_by_key(super::keys::recovery);
        leads.into_iter().map(|l| l.id).collect()
    };
    let window_ids = |slice: &Slice, offset: u64, limit: usize| -> (u64, Vec<String>) {
        let w = db.slice_window(slice, offset, limit, None).expect("window");
        (w.total, w.rows.into_iter().map(|l| l.id).collect())
    };
    let check = |round: u32| {
        let quiet = ts(400 + i64::from(round) * 37).expect("ts");
        let cases: Vec<(Slice, Vec<String>)> = vec![
            (Slice::all(Ranking::Score), walk(LeadOrder::Score, &|_| true)),
            (Slice::all(Ranking::Hot), walk(LeadOrder::Score, &|l| l.temperature == Temperature::Hot)),
            (Slice::all(Ranking::QuietBefore(quiet)), recovery(quiet)),
            (Slice::all(Ranking::Awaiting), walk(LeadOrder::AwaitingLongest, &|_| true)),
            (
                Slice { through: ts(500), ..Slice::all(Ranking::Due) },
                walk(LeadOrder::DueSoonest, &|l| {
                    l.next_followup_at.is_some_and(|d| d <= ts(500).expect("ts"))
                }),
            ),
            (
                Slice { since: ts(300), reverse: true, ..Slice::all(Ranking::Uncontacted) },
                walk(LeadOrder::UncontactedNewest, &|l| {
                    l.date_added.is_some_and(|d| d >= ts(300).expect("ts"))
                }),
            ),
        ];
        for (slice, want) in cases {
            assert!(want.len() > 100, "{slice:?} has {} leads: too few to test paging", want.len());
            assert_eq!(db.slice_len(&slice).expect("len"), want.len() as u64, "{slice:?}");
            for (offset, limit) in [(0, 50), (37, 600), (want.len() - 3, 50), (want.len() + 10, 5)] {
                let (total, ids) = window_ids(&slice, offset as u64, limit);
                assert_eq!(total, want.len() as u64);
                let end = (offset + limit).min(want.len());
                assert_eq!(ids, want.get(offset..end).unwrap_or_default(), "{slice:?} at {offset}");
            }
            // An anchor puts its lead `before` rows into the window, wherever it is.
            let target = &want[want.len() * 2 / 3];
            let w = db.slice_window(&slice, 0, 20, Some((target, 5))).expect("anchored");
            let at = want.iter().position(|id| id == target).expect("in queue") as u64;
            assert_eq!((w.anchor_at, w.offset), (Some(at), at - 5));
            assert_eq!(&w.rows[5].id, target);
            // A lead not in the queue leaves the offset as asked.
            let w = db.slice_window(&slice, 7, 3, Some(("nobody", 5))).expect("unanchored");
            assert_eq!((w.anchor_at, w.offset), (None, 7));
        }
    };
    check(0);
    // Rows move (new scores, times, temperatures) and some leave; the orders follow.
    commit_all(1, 200..1_300);
    let mut batch = Batch::new();
    for i in (0..1_500).step_by(9) {
        batch.remove(Remove::Lead(format!("c{i:05}")));
    }
    db.commit(&batch).expect("remove");
    check(1);
    check(3);
}

/// Counters match what is stored, across inserts, rewrites and removes.
pub fn counters_track_records<S: Store>(store: S) {
    let db = db(store);
    let mut batch = Batch::new();
    for i in 0..5 {
        batch.put(Put::Contact(Contact { id: format!("c{i}"), ..Default::default() }));
    }
    batch.put(Put::Lead(lead("c0", 90, Temperature::Hot)));
    batch.put(Put::Lead(lead("c1", 50, Temperature::Warm)));
    db.commit(&batch).expect("commit");
    db.commit(Batch::new().put(Put::Contact(Contact { id: "c0".into(), ..Default::default() })))
        .expect("rewrite is not new");
    db.commit(Batch::new().put(Put::Lead(lead("c1", 95, Temperature::Hot)))).expect("warm to hot");
    db.commit(Batch::new().remove(Remove::Contact("c4".into())).remove(Remove::Contact("nope".into())))
        .expect("remove");
    let counts = db.counts().expect("counts");
    assert_eq!((counts.contacts, counts.hot, counts.warm, counts.cold), (4, 2, 0, 0));
}

/// Messages come back per contact in time order; opportunities per contact; both re-index
/// when a record moves.
pub fn messages_and_opportunities_by_contact<S: Store>(store: S) {
    let db = db(store);
    let msg = |id: &str, contact: &str, s: i64| Message {
        id: id.into(),
        contact_id: contact.into(),
        date_added: ts(s),
        ..Default::default()
    };
    let mut batch = Batch::new();
    batch.put(Put::Message(msg("m3", "c1", 30)));
    batch.put(Put::Message(msg("m1", "c1", 10)));
    batch.put(Put::Message(msg("m2", "c1", 20)));
    batch.put(Put::Message(msg("x", "c10", 5)));
    batch.put(Put::Opportunity(Opportunity {
        id: "o1".into(),
        contact_id: "c1".into(),
        ..Default::default()
    }));
    db.commit(&batch).expect("commit");
    let ids = |v: Vec<Message>| v.into_iter().map(|m| m.id).collect::<Vec<_>>();
    assert_eq!(ids(db.messages_for("c1", 10).expect("msgs")), ["m1", "m2", "m3"]);
    assert_eq!(ids(db.messages_for("c1", 2).expect("msgs")), ["m2", "m3"], "the newest, oldest first");
    db.commit(Batch::new().put(Put::Message(msg("m1", "c1", 40)))).expect("edit");
    assert_eq!(ids(db.messages_for("c1", 10).expect("msgs")), ["m2", "m3", "m1"]);
    assert_eq!(db.counts().expect("counts").messages, 4);

    db.commit(Batch::new().put(Put::Opportunity(Opportunity {
        id: "o1".into(),
        contact_id: "c2".into(),
        ..Default::default()
    })))
    .expect("move");
    assert!(db.opportunities_for("c1").expect("opps").is_empty());
    assert_eq!(db.opportunities_for("c2").expect("opps").len(), 1);
    db.commit(Batch::new().remove(Remove::Message("m2".into()))).expect("remove");
    assert_eq!(ids(db.messages_for("c1", 10).expect("msgs")), ["m3", "m1"]);
}

/// Pending ops get increasing sequence numbers and come back in order.
pub fn pending_ops_are_sequenced<S: Store>(store: S) {
    let db = db(store);
    let mut batch = Batch::new();
    batch.ops.push(NewOp::edit("c1", OpKind::AddTag { tag: "Hot Lead".into() }));
    batch.ops.push(NewOp::edit("c1", OpKind::AddNote { body: "called".into() }));
    db.commit(&batch).expect("commit");
    let mut batch = Batch::new();
    batch.ops.push(NewOp::edit("c2", OpKind::RemoveTag { tag: "x".into() }));
    db.commit(&batch).expect("commit");
    let ops = db.pending_ops().expect("ops");
    let seqs: Vec<u64> = ops.iter().map(|o| o.seq).collect();
    assert_eq!(seqs, [1, 2, 3]);
    assert_eq!(ops[2].contact_id, "c2");
    db.commit(Batch::new().remove(Remove::PendingOp(1))).expect("ack");
    assert_eq!(db.pending_ops().expect("ops").len(), 2);
}

/// A follow-up item queued with its op in one batch names the op's sequence number.
pub fn followup_items_name_their_ops<S: Store>(store: S) {
    let db = db(store);
    let at = Timestamp::UNIX_EPOCH;
    let item = |id: &str| FollowUpItem {
        id: id.into(),
        contact_id: "c1".into(),
        workflow: "w".into(),
        step: 0,
        action: StepAction::SendSms { template: "t".into() },
        due_at: at,
        at,
        timezone: None,
        mode: Mode::Auto,
        state: ItemState::Queued,
        reason: None,
        template_version: None,
        body: None,
        edited: None,
        subject: None,
        op_seq: None,
        message_id: None,
        created_at: at,
        updated_at: at,
        confirmation: false,
    };
    let mut record = FollowUps::new("c1");
    record.items = vec![item("c1/w/0"), item("c1/w/1")];
    let send = || OpKind::SendMessage { channel: "sms".into(), body: "Hi".into(), subject: None };
    let mut batch = Batch::new();
    batch.put(Put::FollowUps(record));
    batch.ops.push(NewOp::edit("c1", OpKind::AddNote { body: "an edit first".into() }));
    batch.ops.push(NewOp { contact_id: "c1".into(), kind: send(), followup: Some("c1/w/1".into()) });
    batch.ops.push(NewOp { contact_id: "c2".into(), kind: send(), followup: Some("c1/w/0".into()) });
    assert_eq!(db.commit(&batch).expect("commit"), [1, 2, 3]);
    let stored = db.follow_up("c1").expect("read").expect("stored");
    let seqs: Vec<Option<u64>> = stored.items.iter().map(|i| i.op_seq).collect();
    assert_eq!(seqs, [None, Some(2)], "only an op of the same lead links its item");
}

fn bump_marker(db: &Db) -> Result<(), StoreError> {
    db.commit(Batch::new().put(Put::Meta { key: "migrated".into(), value: serde_json::json!(true) }))
        .map(drop)
}

/// A new store gets the current schema; an old one is migrated step by step; a newer one
/// is refused.
pub fn schema_version_and_migrations<S: Store>(store: S) {
    let store: Arc<dyn Store> = Arc::new(store);
    let db = Db::open_with(store.clone(), 1, &[]).expect("fresh");
    assert_eq!(db.schema_version().expect("version"), Some(1));
    let steps = [Migration { from: 1, describe: "test step", run: bump_marker }];
    let db = Db::open_with(store.clone(), 2, &steps).expect("migrates");
    assert_eq!(db.schema_version().expect("version"), Some(2));
    assert_eq!(db.meta::<bool>("migrated").expect("meta"), Some(true));
    let err = Db::open_with(store.clone(), 1, &[]).err().expect("newer schema refused");
    assert!(matches!(err, StoreError::NewerSchema { found: 2, supported: 1 }));
    let err = Db::open_with(store, 3, &[]).err().expect("missing step");
    assert!(matches!(err, StoreError::Migration { from: 2, .. }));
}

/// Flushing works, on an empty and on a written store.
pub fn flush_succeeds<S: Store>(store: S) {
    let db = db(store);
    let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    rt.block_on(db.flush()).expect("flush empty");
    db.commit(Batch::new().put(Put::Contact(Contact { id: "a".into(), ..Default::default() })))
        .expect("commit");
    rt.block_on(db.flush()).expect("flush");
    assert!(db.contact("a").expect("get").is_some());
}

/// Each commit logs the leads whose rows it changed, under the generation it gave the store: a
/// reader at an older generation learns exactly the leads to read again.
pub fn commits_log_the_leads_they_change<S: Store>(store: S) {
    let db = db(store);
    let start = db.generation().expect("generation");
    assert_eq!(db.leads_changed_since(start), None, "nothing logged yet");
    db.commit(Batch::new().put(Put::Lead(lead("a", 10, Temperature::Cold))).put(Put::Lead(lead(
        "b",
        20,
        Temperature::Cold,
    ))))
    .expect("commit");
    let after_ab = db.generation().expect("generation");
    // A contact alone changes no row; rewriting a row as it is changes nothing either.
    db.commit(Batch::new().put(Put::Contact(Contact { id: "z".into(), ..Default::default() })))
        .expect("commit");
    db.commit(Batch::new().put(Put::Lead(lead("a", 10, Temperature::Cold)))).expect("commit");
    db.commit(Batch::new().put(Put::Lead(lead("b", 30, Temperature::Hot))).remove(Remove::Lead("a".into())))
        .expect("commit");
    let now = db.generation().expect("generation");
    let set = |ids: &[&str]| ids.iter().map(|s| s.to_string()).collect::<std::collections::BTreeSet<_>>();
    assert_eq!(db.leads_changed_since(start), Some((now, set(&["a", "b"]))));
    assert_eq!(db.leads_changed_since(after_ab), Some((now, set(&["a", "b"]))));
    assert_eq!(db.leads_changed_since(now - 1), Some((now, set(&["a", "b"]))));
    assert_eq!(db.leads_changed_since(now), Some((now, set(&[]))));
}

/// A side file reads back whole, is replaced whole, is gone once removed, stays out of the
/// trees, and refuses a name that could reach outside the store.
pub fn side_files_are_replaced_whole<S: Store>(store: S) {
    assert_eq!(store.read_side("derived-snapshot").expect("read"), None);
    store.write_side("derived-snapshot", Some(b"first")).expect("write");
    store.write_side("derived-snapshot", Some(&[7u8; 100_000])).expect("replace");
    assert_eq!(store.read_side("derived-snapshot").expect("read"), Some(vec![7u8; 100_000]));
    store.write_side("other-2", Some(b"")).expect("an empty one");
    assert_eq!(store.read_side("other-2").expect("read"), Some(Vec::new()));
    for tree in Tree::ALL {
        assert_eq!(store.len(tree).expect("len"), 0, "{} holds nothing", tree.name());
    }
    store.write_side("derived-snapshot", None).expect("remove");
    store.write_side("derived-snapshot", None).expect("removing what is gone");
    assert_eq!(store.read_side("derived-snapshot").expect("read"), None);
    for bad in ["", "../escape", "a/b", "Upper", "dot.ted", &"x".repeat(65)] {
        assert!(store.write_side(bad, Some(b"x")).is_err(), "{bad:?}");
        assert!(store.read_side(bad).is_err(), "{bad:?}");
    }
}
