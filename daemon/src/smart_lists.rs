//! Saved smart lists (`[[queues.lists]]`, `leadline_shared::lists`) as queue windows.
//!
//! A list's membership depends on the clock (`older_than`, `newer_than`, `followup_due`) and on
//! any field of the row, so it is not kept as an order at write time: a first request reads
//! every lead's row, the records front to back, keeps the ids that pass and
//! orders them (by the list's key, then the queue order); every request reads only the rows of
//! the window asked for. Reading every row is the cost (docs/intel.md, "Smart lists", has the
//! measurement), so the members are kept ([`MemberCache`]): through the minute (the finest step
//! of a time condition) for a list with one, for good for a list without. A commit since moves
//! only the leads it changed, which the store logs ([`Db::leads_changed_since`]), and whose rows
//! are read again.

use std::collections::{BTreeSet, HashMap};
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

/// A list's members in its order: by the list's own key, then in the queue order (the score
/// index's key, which the row gives and which ends with the lead's id).
#[derive(Debug, Clone, Default)]
pub struct Members {
    order: BTreeSet<(i64, Box<[u8]>)>,
    /// Each member's place in `order`, to move it when its row changes.
    at: HashMap<Box<str>, (i64, Box<[u8]>)>,
}

impl Members {
    /// The members of `list` at `now`, from every lead's row.
    pub fn of(db: &Db, list: &SmartList, now: Timestamp) -> Result<Members, StoreError> {
        let mut keyed: Vec<(i64, Box<[u8]>)> = Vec::new();
        // The records front to back, not in the queue order: each lead's record looked up
        // from the index would page the store's nodes in at random.
        db.rows(&mut |lead| {
            if list.filter.matches(&lead, now) {
                keyed.push(Members::place(list, &lead));
            }
            ControlFlow::Continue(())
        })?;
        let at = keyed.iter().filter_map(|p| Some((Box::from(Members::id(&p.1)?), p.clone()))).collect();
        Ok(Members { order: keyed.into_iter().collect(), at })
    }

    fn place(list: &SmartList, lead: &LeadSummary) -> (i64, Box<[u8]>) {
        (sort_key(list.order, lead), keys::queue_key(lead).into_boxed_slice())
    }

    fn id(queue_key: &[u8]) -> Option<&str> {
        keys::id_after(queue_key, keys::SCORE_FIXED)
    }

    /// Puts `id` where its row `lead` (read now) places it, or out of the list when the row
    /// is gone or no longer passes.
    fn update(&mut self, list: &SmartList, now: Timestamp, id: &str, lead: Option<&LeadSummary>) {
        if let Some(old) = self.at.remove(id) {
            self.order.remove(&old);
        }
        if let Some(lead) = lead.filter(|l| l.id == id && list.filter.matches(l, now)) {
            let place = Members::place(list, lead);
            self.order.insert(place.clone());
            self.at.insert(id.into(), place);
        }
    }

    /// How many leads the list holds.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether the list holds no lead.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// The members' ids, in the list's order.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.order.iter().filter_map(|(_, key)| Members::id(key))
    }
}

/// The members of the lists read lately, each with the store generation and the minute it
/// holds for.
#[derive(Debug, Default)]
pub struct MemberCache {
    lists: Mutex<HashMap<String, Read>>,
    /// How many times a list was read from every row (not moved by a commit's leads).
    full_reads: std::sync::atomic::AtomicU64,
}

#[derive(Debug)]
struct Read {
    generation: u64,
    minute: i64,
    members: Arc<Members>,
}

impl MemberCache {
    /// [`Members::of`] `list` at `now`. Kept while the minute lasts (the finest step of a time
    /// condition), or for good when the list's filter reads no clock: a commit since moves
    /// only the leads it changed, whose rows are read again; a new minute, or commits further
    /// back than the store's log reaches, read every row.
    pub fn members(&self, db: &Db, list: &SmartList, now: Timestamp) -> Result<Arc<Members>, StoreError> {
        let generation = db.generation()?;
        // A list whose filter reads no clock changes only with its leads' rows.
        let minute = if list.filter.reads_the_clock() { now.as_second().div_euclid(60) } else { 0 };
        let lock = || self.lists.lock().unwrap_or_else(|p| p.into_inner());
        let kept = {
            let mut cache = lock();
            match cache.get(&list.name) {
                Some(r) if r.minute == minute && r.generation == generation => return Ok(r.members.clone()),
                // Taken out, so that moving its leads does not copy it.
                Some(r) if r.minute == minute => cache.remove(&list.name),
                _ => None,
            }
        };
        let moved = match kept.map(|r| (db.leads_changed_since(r.generation), r.members)) {
            Some((Some((reached, ids)), mut members)) => {
                let m = Arc::make_mut(&mut members);
                for id in &ids {
                    m.update(list, now, id, db.lead(id)?.as_ref());
                }
                Some((reached, members))
            }
            _ => None,
        };
        let (generation, members) = match moved {
            Some(moved) => moved,
            None => {
                self.full_reads.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                (generation, Arc::new(Members::of(db, list, now)?))
            }
        };
        lock().insert(list.name.clone(), Read { generation, minute, members: members.clone() });
        Ok(members)
    }

    /// How many times a list was read from every row since the daemon started.
    pub fn full_reads(&self) -> u64 {
        self.full_reads.load(std::sync::atomic::Ordering::Relaxed)
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
    let members = cache.members(db, list, now)?;
    let anchor_at = anchor.and_then(|(id, _)| members.ids().position(|m| m == id)).map(|at| at as u64);
    let offset = match (anchor_at, anchor) {
        (Some(at), Some((_, before))) => at.saturating_sub(u64::from(before)),
        _ => offset,
    };
    let first = usize::try_from(offset).unwrap_or(usize::MAX);
    let mut rows = Vec::with_capacity(limit.min(members.len()));
    for id in members.ids().skip(first).take(limit) {
        // A lead removed since the walk is left out; the next read has it right.
        if let Some(row) = db.lead(id)? {
            rows.push(row);
        }
    }
    Ok(SliceWindow { total: members.len() as u64, offset, rows, anchor_at })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use leadline_shared::lists::{SmartListConfig, compile};

    use super::*;
    use crate::store::{Batch, MemoryStore, Put, Remove};

    fn at(s: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + s).expect("ts")
    }

    /// The members' ids, read from every row.
    fn ids(db: &Db, list: &SmartList, now: Timestamp) -> Vec<String> {
        Members::of(db, list, now).expect("members").ids().map(str::to_owned).collect()
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
                let ids = ids(&db, &list, at(1000));
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
        let ids = super::tests::ids(&db, &list, at(100));
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
        let ids = super::tests::ids(&db, &by_priority, at(100));
        assert_eq!(ids.first().map(String::as_str), Some("c10"), "highest priority first");
    }

    #[test]
    fn a_read_is_kept_and_moved_by_each_commit_and_the_clock_read_again_each_minute() {
        let db = Db::open(Arc::new(MemoryStore::new())).expect("open");
        let lead = |id: &str| LeadSummary { id: id.into(), score: 80, ..LeadSummary::default() };
        let mut batch = Batch::new();
        batch.put(Put::Lead(lead("a")));
        db.commit(&batch).expect("write");
        let cfg: SmartListConfig = toml::from_str("name = \"top\"\nall = [\"score >= 50\"]").expect("toml");
        let list = compile(&cfg).expect("list");
        let cache = MemberCache::default();
        let first = cache.members(&db, &list, at(0)).expect("read");
        assert!(
            Arc::ptr_eq(&first, &cache.members(&db, &list, at(30)).expect("kept")),
            "same minute, same store"
        );
        let mut batch = Batch::new();
        batch.put(Put::Lead(lead("b")));
        db.commit(&batch).expect("write");
        assert_eq!(
            cache.members(&db, &list, at(31)).expect("after a commit").ids().collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert_eq!(cache.full_reads(), 1, "the commit's lead was read, not every row");
        cache.members(&db, &list, at(60)).expect("again");
        assert_eq!(cache.full_reads(), 1, "a list that reads no clock is kept past the minute");
        let cfg: SmartListConfig =
            toml::from_str("name = \"recent\"\nall = [\"score >= 50\", \"date_added newer_than '1d'\"]")
                .expect("toml");
        let recent = compile(&cfg).expect("list");
        cache.members(&db, &recent, at(60)).expect("read");
        cache.members(&db, &recent, at(90)).expect("kept");
        assert_eq!(cache.full_reads(), 2, "the same minute");
        cache.members(&db, &recent, at(120)).expect("again");
        assert_eq!(cache.full_reads(), 3, "a new minute reads every row of a list that reads the clock");
    }

    /// Within a minute, commits that add, change, move and remove leads (in and out of the
    /// list, up and down its order) leave the kept members equal to a read of every row, and
    /// none of them reads every row.
    #[test]
    fn commits_move_the_kept_members_as_a_full_read_would() {
        let db = Db::open(Arc::new(MemoryStore::new())).expect("open");
        let row = |i: u32, round: u32| LeadSummary {
            id: format!("c{i:03}"),
            score: ((i * 37 + round * 11) % 100) as u8,
            priority: ((i * 13 + round * 7) % 90) as u8,
            tags: if (i + round).is_multiple_of(3) { vec!["buyer".into()] } else { vec![] },
            date_added: Some(at(i64::from(i))),
            ..LeadSummary::default()
        };
        let mut batch = Batch::new();
        for i in 0..300 {
            batch.put(Put::Lead(row(i, 0)));
        }
        db.commit(&batch).expect("write");
        let cache = MemberCache::default();
        let lists: Vec<SmartList> = ["score", "newest", "priority"]
            .iter()
            .map(|order| {
                let cfg: SmartListConfig = toml::from_str(&format!(
                    "name = \"{order}\"\norder = \"{order}\"\nany = [\"score >= 60\", \"tags contains 'buyer'\"]"
                ))
                .expect("toml");
                compile(&cfg).expect("list")
            })
            .collect();
        for list in &lists {
            cache.members(&db, list, at(0)).expect("read");
        }
        for round in 1..12u32 {
            let mut batch = Batch::new();
            for i in (round..300).step_by(7 + round as usize) {
                batch.put(Put::Lead(row(i, round)));
            }
            batch.remove(Remove::Lead(format!("c{:03}", round * 17 % 300)));
            batch.put(Put::Lead(row(300 + round, round)));
            db.commit(&batch).expect("write");
            for list in &lists {
                let kept: Vec<String> = cache
                    .members(&db, list, at(i64::from(round)))
                    .expect("moved")
                    .ids()
                    .map(str::to_owned)
                    .collect();
                assert_eq!(kept, ids(&db, list, at(i64::from(round))), "round {round}, {}", list.name);
            }
        }
        assert_eq!(cache.full_reads(), 3, "one read of every row per list, then only the changed leads");
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
        // A page of a sync (500 leads changed), then the list again in the same minute.
        let cache = MemberCache::default();
        window(&db, &cache, &list, at(0), 0, 50, None).expect("window");
        for round in 0..3u32 {
            let mut batch = Batch::new();
            for i in (round * 500..(round + 1) * 500).map(|i| i * 37 % n) {
                batch.put(Put::Lead(LeadSummary {
                    id: format!("c{i:06}"),
                    name: format!("Lead {i}"),
                    score: ((i + round + 1) % 101) as u8,
                    priority: ((i + round + 1) % 97) as u8,
                    tags: vec!["buyer".into()],
                    date_added: Some(at(-i64::from(i) * 60)),
                    last_activity: Some(at(-1)),
                    ..LeadSummary::default()
                }));
            }
            db.commit(&batch).expect("write");
            let started = std::time::Instant::now();
            let w = window(&db, &cache, &list, at(1), 0, 50, None).expect("window");
            eprintln!(
                "after a commit of 500 leads: {} members, {} ms",
                w.total,
                started.elapsed().as_millis()
            );
        }
        assert_eq!(cache.full_reads(), 1);
    }
}
