//! The lead orders the queues read, held in memory with their ranks: a queue's exact length,
//! and its rows at any offset, cost about √n steps at any store size, never a walk.
//!
//! The keys of the time orders are the store's own index keys ([`keys::lead_index_entries`]),
//! so such an order here is byte for byte the order of its index tree on disk; the score order's
//! keys ([`keys::queue_key`]) come from each lead's [`Tree::QueuePlaces`] entry. They are kept up
//! to date as rows are written ([`LeadRanks::apply`], from the commit that wrote them) and built
//! once from those trees when first needed.

use jiff::Timestamp;
use leadline_shared::domain::{LeadSummary, Temperature};

use super::Tree;
use super::keys;
use super::ranked::RankedSet;

/// An index key, as on disk.
pub type Key = Box<[u8]>;

/// An order the queues read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ranking {
    /// Every lead, best score first (the score index).
    Score,
    /// Hot leads, best score first.
    Hot,
    /// Leads with a follow-up planned, soonest first.
    Due,
    /// Leads waiting for a reply, longest first.
    Awaiting,
    /// Leads nobody has contacted, oldest first.
    Uncontacted,
    /// Leads with no activity since before this time (or none ever), most value at risk
    /// first (the recovery order, [`keys::recovery`]).
    QuietBefore(Timestamp),
}

/// Where one lead is in each order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeadEntries {
    score: Key,
    hot: bool,
    /// The key in the recovery order, which the quiet leads are filed under.
    recovery: Key,
    due: Option<Key>,
    awaiting: Option<Key>,
    uncontacted: Option<Key>,
    /// The last activity's time then the recovery key: walking it finds the leads that went
    /// quiet between two times, with the key to file them under.
    activity: Option<Key>,
}

impl LeadEntries {
    /// A lead's entries, from the same keys the store's index trees hold.
    pub fn of(lead: &LeadSummary) -> LeadEntries {
        let mut entries = LeadEntries {
            score: keys::queue_key(lead).into(),
            hot: lead.temperature == Temperature::Hot,
            recovery: keys::recovery(lead).into(),
            due: None,
            awaiting: None,
            uncontacted: None,
            activity: None,
        };
        for (tree, key) in keys::lead_index_entries(lead) {
            let key = key.into_boxed_slice();
            match tree {
                Tree::IdxDue => entries.due = Some(key),
                Tree::IdxAwaiting => entries.awaiting = Some(key),
                Tree::IdxUncontacted => entries.uncontacted = Some(key),
                _ => {}
            }
        }
        entries.activity =
            lead.last_activity.map(|at| keys::join(&[&keys::ts(at), &entries.recovery]).into());
        entries
    }

    /// The lead's key in `ranking`, when it is in it.
    pub fn key(&self, ranking: Ranking) -> Option<&Key> {
        match ranking {
            Ranking::Score => Some(&self.score),
            Ranking::Hot => self.hot.then_some(&self.score),
            Ranking::Due => self.due.as_ref(),
            Ranking::Awaiting => self.awaiting.as_ref(),
            Ranking::Uncontacted => self.uncontacted.as_ref(),
            Ranking::QuietBefore(before) => self.quiet_before(keys::ts(before)).then_some(&self.recovery),
        }
    }

    /// The lead's key in each order of [`LeadRanks::sets`], in the same order (`None`: not in
    /// it), with the quiet ones counted from `before`; the keys themselves, to wait in the
    /// moves without a copy.
    fn into_keys(self, before: [u8; 8]) -> [Option<Key>; 7] {
        let quiet = self.quiet_before(before);
        let hot = self.hot.then(|| self.score.clone());
        [
            Some(self.score),
            hot,
            quiet.then_some(self.recovery),
            self.due,
            self.awaiting,
            self.uncontacted,
            self.activity,
        ]
    }

    fn quiet_before(&self, before: [u8; 8]) -> bool {
        self.activity.as_ref().is_none_or(|a| a[..8] < before[..])
    }
}

/// The orders, with ranks.
#[derive(Debug, Default)]
pub struct LeadRanks {
    score: RankedSet,
    hot: RankedSet,
    due: RankedSet,
    awaiting: RankedSet,
    uncontacted: RankedSet,
    activity: RankedSet,
    /// The recovery keys of the leads quiet since before `quiet_before`.
    quiet: RankedSet,
    quiet_before: [u8; 8],
    /// The moves written and not made yet, one list per order of [`LeadRanks::sets`], each
    /// in the order written; made before any order is read ([`LeadRanks::settle`]).
    pending: [Vec<Move>; 7],
    /// Leads moved since the last settle.
    pending_leads: usize,
}

/// A key's move in one order: out of `.0`, into `.1` (`None`: not in it before, or after).
type Move = (Option<Key>, Option<Key>);

/// Leads moved before their moves are made, read or not: a full rescore moves every lead, and
/// its moves made in passes take about half the time they take one by one between the store's
/// writes (0.27-0.38 s against 0.62-0.66 s at 100 k leads); this bounds what waits (a few
/// hundred bytes a lead).
const SETTLE_EVERY: usize = 8_192;

/// An order takes its waiting moves in one pass ([`RankedSet::change_many`]) once they are at
/// least its size divided by this: a pass costs about one key copy per key of the order, a move
/// made alone the search and the shift of a block, with the caches cold.
const BULK_SHARE: usize = 32;

/// Makes one order's waiting moves, in the order written: one at a time when they are few,
/// else all in one pass, where a key's moves in and out add up (a lead moved twice leaves
/// its first key and takes its last).
fn make_moves(set: &mut RankedSet, moves: &[Move]) {
    if moves.len() * BULK_SHARE < set.len() {
        for (old, new) in moves {
            if let Some(old) = old {
                set.remove(old);
            }
            if let Some(new) = new {
                set.insert(new);
            }
        }
        return;
    }
    // Sorted by the keys' first 8 bytes as a number first: every order's keys begin with a
    // time or a rank, so whole keys are compared only where those tie.
    let prefix = |k: &[u8]| {
        let mut head = [0; 8];
        let n = k.len().min(8);
        head[..n].copy_from_slice(&k[..n]);
        u64::from_be_bytes(head)
    };
    let mut deltas: Vec<(u64, &[u8], i32)> = Vec::with_capacity(2 * moves.len());
    for (old, new) in moves {
        deltas.extend(old.as_deref().map(|k| (prefix(k), k, -1)));
        deltas.extend(new.as_deref().map(|k| (prefix(k), k, 1)));
    }
    deltas.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)));
    let (mut gone, mut added) = (Vec::new(), Vec::new());
    for same in deltas.chunk_by(|a, b| a.1 == b.1) {
        match same.iter().map(|d| d.2).sum::<i32>().cmp(&0) {
            std::cmp::Ordering::Less => gone.push(same[0].1),
            std::cmp::Ordering::Greater => added.push(same[0].1),
            std::cmp::Ordering::Equal => {}
        }
    }
    set.change_many(&gone, &added);
}

/// The store's index trees, as the first build reads them: no record is read.
#[derive(Debug, Default)]
pub struct IndexKeys {
    /// The score order's keys with their values ([`keys::score_value`]), from
    /// [`Tree::QueuePlaces`] ([`keys::read_queue_place`]).
    pub score: Vec<(Key, Box<[u8]>)>,
    pub due: Vec<Key>,
    pub awaiting: Vec<Key>,
    pub uncontacted: Vec<Key>,
}

impl LeadRanks {
    /// The orders from the index trees, with the quiet leads counted from `quiet_before`,
    /// and how many score entries were left out for a value in no known shape (none in a
    /// store this Leadline wrote or migrated; the lead is back with its next write).
    pub fn from_index(index: IndexKeys, quiet_before: Timestamp) -> (LeadRanks, usize) {
        let before = keys::ts(quiet_before);
        let (mut score, mut hot, mut quiet, mut activity) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut unreadable = 0;
        for (key, value) in index.score {
            let (Some((is_hot, last, rank)), Some(id)) =
                (keys::read_score_value(&value), key.get(keys::SCORE_FIXED..))
            else {
                unreadable += 1;
                continue;
            };
            if is_hot {
                hot.push(key.clone());
            }
            let recovery: Key = keys::join(&[&rank, id]).into();
            if last.is_none_or(|at| at < before) {
                quiet.push(recovery.clone());
            }
            if let Some(at) = last {
                activity.push(keys::join(&[&at, &recovery]).into());
            }
            score.push(key);
        }
        let set = RankedSet::from_unsorted;
        let ranks = LeadRanks {
            score: set(score),
            hot: set(hot),
            due: set(index.due),
            awaiting: set(index.awaiting),
            uncontacted: set(index.uncontacted),
            activity: set(activity),
            quiet: set(quiet),
            quiet_before: before,
            ..LeadRanks::default()
        };
        (ranks, unreadable)
    }

    /// The orders of these leads, with the quiet ones counted from `quiet_before` (the tests'
    /// reference for [`LeadRanks::from_index`] and [`LeadRanks::apply`]).
    #[cfg(test)]
    pub fn build(leads: impl IntoIterator<Item = LeadEntries>, quiet_before: Timestamp) -> LeadRanks {
        let before = keys::ts(quiet_before);
        let mut lists: [Vec<Key>; 7] = Default::default();
        for e in leads {
            if e.quiet_before(before) {
                lists[6].push(e.recovery.clone());
            }
            if e.hot {
                lists[1].push(e.score.clone());
            }
            lists[0].push(e.score);
            let optional = [e.due, e.awaiting, e.uncontacted, e.activity];
            for (list, key) in lists[2..6].iter_mut().zip(optional) {
                list.extend(key);
            }
        }
        let [score, hot, due, awaiting, uncontacted, activity, quiet] = lists.map(RankedSet::from_unsorted);
        LeadRanks {
            score,
            hot,
            due,
            awaiting,
            uncontacted,
            activity,
            quiet,
            quiet_before: before,
            ..LeadRanks::default()
        }
    }

    /// Moves a lead from where it was (`old`) to where it is (`new`); `None` is "not stored".
    /// The move is made before the next read of any order.
    pub fn apply(&mut self, old: Option<LeadEntries>, new: Option<LeadEntries>) {
        if old == new {
            return;
        }
        // The quiet time moves only in `get`, which settles first: every waiting move was
        // worked out against this one.
        let before = self.quiet_before;
        // Each order moves only where the lead's key in it changed: a rescore moves the score
        // keys and leaves the time orders alone.
        let was = old.map(|e| e.into_keys(before)).unwrap_or_default();
        let is = new.map(|e| e.into_keys(before)).unwrap_or_default();
        for ((pending, was), is) in self.pending.iter_mut().zip(was).zip(is) {
            if was != is {
                pending.push((was, is));
            }
        }
        self.pending_leads += 1;
        if self.pending_leads >= SETTLE_EVERY {
            self.settle();
        }
    }

    /// Makes the waiting moves.
    fn settle(&mut self) {
        let pending = std::mem::take(&mut self.pending);
        for (set, moves) in self.sets().into_iter().zip(&pending) {
            if !moves.is_empty() {
                make_moves(set, moves);
            }
        }
        // The lists keep their room for the next moves.
        self.pending = pending.map(|mut moves| {
            moves.clear();
            moves
        });
        self.pending_leads = 0;
    }

    /// Every order, as [`LeadEntries::into_keys`] lists a lead's keys in them.
    fn sets(&mut self) -> [&mut RankedSet; 7] {
        [
            &mut self.score,
            &mut self.hot,
            &mut self.quiet,
            &mut self.due,
            &mut self.awaiting,
            &mut self.uncontacted,
            &mut self.activity,
        ]
    }

    /// An order, with the waiting moves made and the quiet leads brought up to its time first.
    pub fn get(&mut self, ranking: Ranking) -> &RankedSet {
        if self.pending_leads > 0 {
            self.settle();
        }
        match ranking {
            Ranking::Score => &self.score,
            Ranking::Hot => &self.hot,
            Ranking::Due => &self.due,
            Ranking::Awaiting => &self.awaiting,
            Ranking::Uncontacted => &self.uncontacted,
            Ranking::QuietBefore(before) => {
                self.move_quiet_before(keys::ts(before));
                &self.quiet
            }
        }
    }

    /// Files the leads whose last activity lies between the old and the new time in or out
    /// of the quiet set: only those, so a query a second after the last costs nothing.
    fn move_quiet_before(&mut self, before: [u8; 8]) {
        let old = self.quiet_before;
        if before == old {
            return;
        }
        let (low, high) = if before > old { (old, before) } else { (before, old) };
        let start = self.activity.rank_by(|k| k[..8].cmp(&low[..]));
        let crossing: Vec<Key> =
            self.activity.iter_from(start).take_while(|k| k[..8] < high[..]).map(|k| k[8..].into()).collect();
        for recovery in crossing {
            if before > old {
                self.quiet.insert(&recovery);
            } else {
                self.quiet.remove(&recovery);
            }
        }
        self.quiet_before = before;
    }
}

#[cfg(test)]
mod tests {
    use jiff::SignedDuration;
    use proptest::prelude::*;

    use super::*;

    fn at(s: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + s).expect("in range")
    }

    fn arb_lead() -> impl Strategy<Value = LeadSummary> {
        (
            0u8..30,
            0u8..=100,
            any::<bool>(),
            proptest::option::of(0i64..100),
            proptest::option::of(0i64..100),
            proptest::option::of(0i64..100),
            any::<bool>(),
            0u8..=100,
            0u32..20,
        )
            .prop_map(|(id, score, hot, due, awaiting, activity, contacted, priority, at_risk)| {
                LeadSummary {
                    id: format!("c{id}"),
                    score,
                    priority,
                    value_at_risk: f64::from(at_risk) * 1_000.0,
                    temperature: if hot { Temperature::Hot } else { Temperature::Cold },
                    next_followup_at: due.map(at),
                    awaiting_reply_since: awaiting.map(at),
                    last_activity: activity.map(at),
                    date_added: Some(at(0)),
                    first_outbound_at: contacted.then(|| at(1)),
                    ..Default::default()
                }
            })
    }

    /// What each order holds, worked out from the leads themselves.
    fn oracle(leads: &std::collections::BTreeMap<String, LeadSummary>, ranking: Ranking) -> Vec<Key> {
        let mut keys: Vec<Key> =
            leads.values().filter_map(|l| LeadEntries::of(l).key(ranking).cloned()).collect();
        keys.sort();
        keys
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        /// After any sequence of writes and removals, read after each or after several (the
        /// moves waiting made one at a time or in one pass, by how many wait against the
        /// orders' sizes), and with the quiet time moving both ways, every order holds exactly
        /// the keys a fresh build from the rows would.
        #[test]
        fn orders_follow_the_rows(
            base in proptest::collection::vec(arb_lead(), 0..200),
            writes in proptest::collection::vec((arb_lead(), any::<bool>(), proptest::option::weighted(0.3, 0i64..120)), 0..200),
        ) {
            // Leads already filed, under ids the writes never use, so that the orders are
            // sometimes big enough for a few moves to be made one at a time.
            let mut stored: std::collections::BTreeMap<String, LeadSummary> = base
                .into_iter()
                .enumerate()
                .map(|(i, lead)| (format!("base{i}"), LeadSummary { id: format!("base{i}"), ..lead }))
                .collect();
            let mut ranks = LeadRanks::build(stored.values().map(LeadEntries::of), at(50));
            for (lead, remove, read) in writes {
                let old = stored.get(&lead.id).map(LeadEntries::of);
                let new = (!remove).then(|| LeadEntries::of(&lead));
                ranks.apply(old, new);
                if remove { stored.remove(&lead.id); } else { stored.insert(lead.id.clone(), lead); }
                if let Some(quiet) = read {
                    let quiet = Ranking::QuietBefore(at(quiet));
                    let got: Vec<Key> = ranks.get(quiet).iter_from(0).map(Key::from).collect();
                    prop_assert_eq!(got, oracle(&stored, quiet));
                }
            }
            for ranking in [Ranking::Score, Ranking::Hot, Ranking::Due, Ranking::Awaiting, Ranking::Uncontacted] {
                let got: Vec<Key> = ranks.get(ranking).iter_from(0).map(Key::from).collect();
                prop_assert_eq!(got, oracle(&stored, ranking));
            }
            let rebuilt = LeadRanks::build(stored.values().map(LeadEntries::of), at(50));
            prop_assert_eq!(rebuilt.score.len(), ranks.score.len());
        }
    }

    proptest! {
        /// The orders built from the index trees' keys and values are those built from the
        /// rows themselves.
        #[test]
        fn the_index_alone_builds_the_rows_orders(leads in proptest::collection::vec(arb_lead(), 0..60), quiet in 0i64..120) {
            let leads: std::collections::BTreeMap<String, LeadSummary> = leads.into_iter().map(|l| (l.id.clone(), l)).collect();
            let mut index = IndexKeys::default();
            for lead in leads.values() {
                let place = keys::queue_place(lead);
                let (key, value) = keys::read_queue_place(lead.id.as_bytes(), &place).expect("a place");
                index.score.push((key.into(), value.into()));
                for (tree, key) in keys::lead_index_entries(lead) {
                    let key: Key = key.into();
                    match tree {
                        Tree::IdxDue => index.due.push(key),
                        Tree::IdxAwaiting => index.awaiting.push(key),
                        Tree::IdxUncontacted => index.uncontacted.push(key),
                        _ => {}
                    }
                }
            }
            let (mut built, unreadable) = LeadRanks::from_index(index, at(quiet));
            prop_assert_eq!(unreadable, 0);
            let mut rows = LeadRanks::build(leads.values().map(LeadEntries::of), at(quiet));
            for ranking in [Ranking::Score, Ranking::Hot, Ranking::Due, Ranking::Awaiting, Ranking::Uncontacted, Ranking::QuietBefore(at(quiet)), Ranking::QuietBefore(at(quiet / 2))] {
                let a: Vec<Key> = built.get(ranking).iter_from(0).map(Key::from).collect();
                let b: Vec<Key> = rows.get(ranking).iter_from(0).map(Key::from).collect();
                prop_assert_eq!(a, b, "{:?}", ranking);
            }
        }
    }

    /// Moves that nobody reads are made once enough wait, so that a full rescore with no
    /// reader holds a bounded list; and what was made is right.
    #[test]
    fn moves_nobody_reads_do_not_pile_up() {
        let lead = |i: usize, score: u8| LeadSummary {
            id: format!("c{i}"),
            score,
            last_activity: Some(at(i as i64 % 100)),
            date_added: Some(at(0)),
            ..Default::default()
        };
        let n = SETTLE_EVERY + 10;
        let mut ranks = LeadRanks::build((0..n).map(|i| LeadEntries::of(&lead(i, 1))), at(50));
        for i in 0..n {
            ranks.apply(Some(LeadEntries::of(&lead(i, 1))), Some(LeadEntries::of(&lead(i, 2))));
            assert!(ranks.pending_leads < SETTLE_EVERY);
        }
        assert_eq!(ranks.pending_leads, 10);
        let stored: std::collections::BTreeMap<String, LeadSummary> =
            (0..n).map(|i| (format!("c{i}"), lead(i, 2))).collect();
        for ranking in [Ranking::Score, Ranking::QuietBefore(at(50)), Ranking::Uncontacted] {
            let got: Vec<Key> = ranks.get(ranking).iter_from(0).map(Key::from).collect();
            assert_eq!(got, oracle(&stored, ranking), "{ranking:?}");
        }
        assert_eq!(ranks.pending_leads, 0);
    }

    #[test]
    fn a_lead_with_no_activity_is_always_quiet() {
        let lead = LeadSummary { id: "a".into(), date_added: Some(at(0)), ..Default::default() };
        let mut ranks = LeadRanks::build([LeadEntries::of(&lead)], at(0));
        assert_eq!(ranks.get(Ranking::QuietBefore(at(-1000))).len(), 1);
        let active = LeadSummary { last_activity: Some(at(10)), ..lead.clone() };
        ranks.apply(Some(LeadEntries::of(&lead)), Some(LeadEntries::of(&active)));
        assert_eq!(ranks.get(Ranking::QuietBefore(at(10))).len(), 0);
        assert_eq!(ranks.get(Ranking::QuietBefore(at(10) + SignedDuration::from_millis(1))).len(), 1);
    }
}
