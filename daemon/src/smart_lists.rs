//! Saved smart lists (`[[queues.lists]]`, `leadline_shared::lists`) as queue windows.
//!
//! A list's membership depends on the clock (`older_than`, `newer_than`, `followup_due`) and on
//! any field of the row, so it is not kept as an order at write time: a request reads every
//! lead's row, the records front to back, keeps the ids that pass, orders them (by the list's
//! key, then the queue order), and reads only the rows of the window asked for. Reading every
//! row is the cost:
//! docs/intel.md, "Smart lists", has the measurement. So a walk's members are kept
//! ([`MemberCache`]) for as long as they hold: until the store's next commit, or the next
//! minute (the finest step of a time condition), so that paging through a list, or coming
//! back to its tab, walks once.

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::sync::{Arc, Mutex};

use jiff::Timestamp;
use leadline_shared::domain::LeadSummary;
use leadline_shared::lists::{ListOrder, SmartList};

use crate::store::{Db, SliceWindow, StoreError, keys};

/// What a lead is sorted by in a list, after the walk's own (priority) order.
fn sort_key(order: ListOrder, lead: &LeadSummary) -> i64 {
    let ms = |t: Option<Timestamp>| t.map(|t| t.as_millisecond());
    match order {
        ListOrder::Priority => 0,
        ListOrder::Score => -i64::from(lead.score),
        ListOrder::Newest => -ms(lead.date_added).unwrap_or(i64::MIN + 1),
        ListOrder::Oldest => ms(lead.date_added).unwrap_or(i64::MAX),
        ListOrder::LastActivity => -ms(lead.last_activity).unwrap_or(i64::MIN + 1),
        ListOrder::ValueAtRisk => -(lead.value_at_risk.max(0.0).round() as i64),
        ListOrder::WaitingLongest => ms(lead.awaiting_reply_since).unwrap_or(i64::MAX),
    }
}

/// The ids of the leads in `list` at `now`, in its order: by the list's own key, then in the
/// queue order (the score index's key, which the row gives).
pub fn members(db: &Db, list: &SmartList, now: Timestamp) -> Result<Vec<String>, StoreError> {
    let mut keyed: Vec<(i64, Vec<u8>, String)> = Vec::new();
    // The records front to back, not in the queue order: each lead's record looked up from
    // the index would page the store's nodes in at random.
    db.rows(&mut |lead| {
        if list.filter.matches(&lead, now) {
            keyed.push((sort_key(list.order, &lead), keys::queue_key(&lead), lead.id));
        }
        ControlFlow::Continue(())
    })?;
    keyed.sort_unstable();
    Ok(keyed.into_iter().map(|(_, _, id)| id).collect())
}

/// The members of the lists walked lately, each with the store generation and the minute it
/// holds for.
#[derive(Debug, Default)]
pub struct MemberCache(Mutex<HashMap<String, Walked>>);

#[derive(Debug)]
struct Walked {
    generation: u64,
    minute: i64,
    ids: Arc<Vec<String>>,
}

impl MemberCache {
    /// [`members`] of `list` at `now`, walked again only when the store has changed or the
    /// minute has since the last walk.
    pub fn members(&self, db: &Db, list: &SmartList, now: Timestamp) -> Result<Arc<Vec<String>>, StoreError> {
        let generation = db.generation()?;
        let minute = now.as_second().div_euclid(60);
        let lock = || self.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(w) = lock().get(&list.name)
            && w.generation == generation
            && w.minute == minute
        {
            return Ok(w.ids.clone());
        }
        let ids = Arc::new(members(db, list, now)?);
        lock().insert(list.name.clone(), Walked { generation, minute, ids: ids.clone() });
        Ok(ids)
    }
}

/// At most `limit` rows of `list` from row `offset`, or from `before` rows above `anchor`'s
/// lead when it is in the list, with the list's length.
pub fn window(
    db: &Db,
    cache: &MemberCache,
    list: &SmartList,
    now: Timestamp,
    offset: u64,
    limit: usize,
    anchor: Option<(&str, u32)>,
) -> Result<SliceWindow, StoreError> {
    let ids = cache.members(db, list, now)?;
    let anchor_at = anchor.and_then(|(id, _)| ids.iter().position(|m| m == id)).map(|at| at as u64);
    let offset = match (anchor_at, anchor) {
        (Some(at), Some((_, before))) => at.saturating_sub(u64::from(before)),
        _ => offset,
    };
    let first = usize::try_from(offset).unwrap_or(usize::MAX);
    let mut rows = Vec::with_capacity(limit.min(ids.len()));
    for id in ids.iter().skip(first).take(limit) {
        // A lead removed since the walk is left out; the next read has it right.
        if let Some(row) = db.lead(id)? {
            rows.push(row);
        }
    }
    Ok(SliceWindow { total: ids.len() as u64, offset, rows, anchor_at })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use leadline_shared::lists::{SmartListConfig, compile};

    use super::*;
    use crate::store::{Batch, MemoryStore, Put};

    fn at(s: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + s).expect("ts")
    }

    /// The members by the walk this replaced: every lead in the queue order (looked up from
    /// the score index), the list's key sorted stably after it.
    fn walked_members(db: &Db, list: &SmartList, now: Timestamp) -> Vec<String> {
        let mut keyed: Vec<(i64, String)> = Vec::new();
        db.leads_by(crate::store::LeadOrder::Score, &mut |lead| {
            if list.filter.matches(&lead, now) {
                keyed.push((sort_key(list.order, &lead), lead.id));
            }
            ControlFlow::Continue(())
        })
        .expect("walk");
        keyed.sort_by_key(|(key, _)| *key);
        keyed.into_iter().map(|(_, id)| id).collect()
    }

    /// Read front to back, the members come in the order the walk in the queue order gave,
    /// for every list order, with many ties on the list's key and on priority.
    #[test]
    fn members_read_front_to_back_come_in_the_queue_walks_order() {
        let db = Db::open(Arc::new(MemoryStore::new())).expect("open");
        let mut batch = Batch::new();
        for i in 0..400u32 {
            batch.put(Put::Lead(LeadSummary {
                id: format!("c{:03}", (i * 7919) % 400),
                score: (i % 5) as u8 * 20,
                priority: (i % 3) as u8 * 30,
                tags: if i % 4 == 0 { vec!["buyer".into()] } else { vec![] },
                date_added: (i % 6 != 0).then(|| at(i64::from(i % 9) * 60)),
                last_activity: (i % 5 != 0).then(|| at(i64::from(i % 7) * 30)),
                value_at_risk: f64::from(i % 4) * 1000.0,
                awaiting_reply_since: (i % 3 == 0).then(|| at(i64::from(i % 4))),
                ..LeadSummary::default()
            }));
        }
        db.commit(&batch).expect("write");
        for order in
            ["priority", "score", "newest", "oldest", "last_activity", "value_at_risk", "waiting_longest"]
        {
            for filter in ["all = [\"score >= 20\"]", "any = [\"tags contains 'buyer'\", \"priority >= 60\"]"]
            {
                let cfg: SmartListConfig =
                    toml::from_str(&format!("name = \"l\"\norder = \"{order}\"\n{filter}")).expect("toml");
                let list = compile(&cfg).expect("list");
                let ids = members(&db, &list, at(1000)).expect("members");
                assert!(ids.len() > 50, "{order}, {filter}: {} members", ids.len());
                assert_eq!(ids, walked_members(&db, &list, at(1000)), "{order}, {filter}");
            }
        }
    }

    #[test]
    fn a_list_pages_its_members_in_its_order() {
        let db = Db::open(Arc::new(MemoryStore::new())).expect("open");
        let mut batch = Batch::new();
        for i in 0..30u8 {
            batch.put(Put::Lead(LeadSummary {
                id: format!("c{i:02}"),
                score: i * 3,
                priority: 100 - i,
                tags: if i.is_multiple_of(2) { vec!["buyer".into()] } else { vec![] },
                date_added: Some(at(i64::from(i))),
                ..LeadSummary::default()
            }));
        }
        db.commit(&batch).expect("write");
        let cfg: SmartListConfig = toml::from_str(
            "name = \"b\"\norder = \"newest\"\nall = [\"tags contains 'buyer'\", \"score >= 30\"]",
        )
        .expect("toml");
        let list = compile(&cfg).expect("list");
        let ids = members(&db, &list, at(100)).expect("members");
        let want: Vec<String> = (10..30u8).rev().filter(|i| i % 2 == 0).map(|i| format!("c{i:02}")).collect();
        assert_eq!(ids, want);
        let w = window(&db, &MemberCache::default(), &list, at(100), 3, 4, None).expect("window");
        assert_eq!((w.total, w.offset), (10, 3));
        assert_eq!(w.rows.iter().map(|r| r.id.clone()).collect::<Vec<_>>(), want[3..7]);
        let w =
            window(&db, &MemberCache::default(), &list, at(100), 0, 2, Some(("c12", 1))).expect("anchored");
        assert_eq!((w.anchor_at, w.offset), (Some(8), 7));
        assert_eq!(w.rows[1].id, "c12");
        let by_priority = compile(&SmartListConfig { order: "priority".into(), ..cfg }).expect("list");
        let ids = members(&db, &by_priority, at(100)).expect("members");
        assert_eq!(ids.first().map(String::as_str), Some("c10"), "highest priority first");
    }

    #[test]
    fn a_walk_is_kept_until_the_store_changes_or_the_minute_does() {
        let db = Db::open(Arc::new(MemoryStore::new())).expect("open");
        let lead = |id: &str| LeadSummary { id: id.into(), score: 80, ..LeadSummary::default() };
        let mut batch = Batch::new();
        batch.put(Put::Lead(lead("a")));
        db.commit(&batch).expect("write");
        let cfg: SmartListConfig = toml::from_str("name = \"top\"\nall = [\"score >= 50\"]").expect("toml");
        let list = compile(&cfg).expect("list");
        let cache = MemberCache::default();
        let first = cache.members(&db, &list, at(0)).expect("walk");
        assert!(
            Arc::ptr_eq(&first, &cache.members(&db, &list, at(30)).expect("kept")),
            "same minute, same store"
        );
        assert!(!Arc::ptr_eq(&first, &cache.members(&db, &list, at(60)).expect("again")), "the next minute");
        let mut batch = Batch::new();
        batch.put(Put::Lead(lead("b")));
        db.commit(&batch).expect("write");
        assert_eq!(*cache.members(&db, &list, at(61)).expect("after a commit"), ["a", "b"]);
    }

    /// How long a saved list's walk takes on sled at 100 k leads (docs/intel.md, "Smart
    /// lists"). Slow to set up, so run by hand:
    /// `cargo test -p leadline-daemon --lib smart_lists::tests::walk_cost -- --ignored --nocapture`
    #[test]
    #[ignore]
    fn walk_cost_at_100k_leads() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = crate::store::SledStore::open(&dir.path().join("s"), 32 << 20).expect("open");
        let db = Db::open(Arc::new(store)).expect("db");
        let n = 100_000u32;
        for chunk in (0..n).collect::<Vec<_>>().chunks(5_000) {
            let mut batch = Batch::new();
            for &i in chunk {
                // About the 3 KB of JSON a GHL contact has (the benchmark's 3,168 bytes a lead).
                batch.put(Put::Contact(leadline_shared::domain::Contact {
                    id: format!("c{i:06}"),
                    tags: (0..100).map(|t| format!("tag number {t} of lead {i}")).collect(),
                    ..Default::default()
                }));
                batch.put(Put::Lead(LeadSummary {
                    id: format!("c{i:06}"),
                    name: format!("Lead {i}"),
                    score: (i % 101) as u8,
                    priority: (i % 97) as u8,
                    source: Some(["Zillow", "Referral", "Website"][(i % 3) as usize].into()),
                    tags: vec!["buyer".into()],
                    date_added: Some(at(-i64::from(i) * 60)),
                    last_activity: Some(at(-i64::from(i) * 30)),
                    first_outbound_at: (!i.is_multiple_of(4)).then(|| at(-1)),
                    ..LeadSummary::default()
                }));
            }
            db.commit(&batch).expect("write");
        }
        let list = leadline_shared::config::Config::default().smart_lists().remove(0);
        for round in 0..3 {
            let started = std::time::Instant::now();
            let w = window(&db, &MemberCache::default(), &list, at(0), 0, 50, None).expect("window");
            eprintln!("round {round}: {} members, {} ms", w.total, started.elapsed().as_millis());
            let started = std::time::Instant::now();
            let walked = walked_members(&db, &list, at(0));
            eprintln!(
                "  the walk in the queue order: {} members, {} ms",
                walked.len(),
                started.elapsed().as_millis()
            );
        }
    }
}
