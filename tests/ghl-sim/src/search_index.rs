//! The contacts search index, which lags behind writes as GHL's does.
//!
//! GHL serves `POST /contacts/search` from a search index that is updated a few seconds after a
//! write ("updates may take a few seconds to appear in search results"), while
//! `GET /contacts/{id}` reads the record itself. A client that pages changed contacts with a
//! `dateUpdated` watermark and no overlap skips a contact whose update is indexed after a later
//! one. The simulator reproduces that: every write reaches the index after its own random lag
//! (uniform in `0..=max_lag_ms`, from a seeded RNG), so two writes can become visible out of
//! order, and until then a search returns the contact as it was.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::model::Contact;
use crate::store::{ContactSort, Key};
use crate::time::ms_from_iso;

/// A write waiting to reach the index.
#[derive(Debug)]
enum Change {
    Upsert(Arc<Contact>),
    Delete,
}

/// The index as searches see it.
#[derive(Debug)]
pub struct SearchIndex {
    /// The contacts as indexed, with the sequence number of the write that put them there;
    /// `None` marks a deletion, so that an older write still pending cannot bring it back.
    docs: HashMap<String, (u64, Option<Arc<Contact>>)>,
    live: usize,
    by_added: BTreeSet<Key>,
    by_updated: BTreeSet<Key>,
    /// Writes not yet visible, by `(visible at ms, write sequence)`.
    pending: BTreeMap<(i64, u64), (String, Change)>,
    /// The last write sequence given; a write older than the one indexed is dropped.
    next_seq: u64,
    max_lag_ms: u64,
    rng: ChaCha8Rng,
}

fn keys_of(c: &Contact) -> (Key, Key) {
    let ms = |s: &str| ms_from_iso(s).unwrap_or(0);
    ((ms(&c.date_added), c.id.clone()), (ms(&c.date_updated), c.id.clone()))
}

impl SearchIndex {
    /// An empty index whose writes become visible after up to `max_lag_ms`.
    pub fn new(max_lag_ms: u64, rng: ChaCha8Rng) -> Self {
        Self {
            docs: HashMap::new(),
            live: 0,
            by_added: BTreeSet::new(),
            by_updated: BTreeSet::new(),
            pending: BTreeMap::new(),
            next_seq: 0,
            max_lag_ms,
            rng,
        }
    }

    /// Indexes a contact at once (seeded data: it was written long ago).
    pub fn load(&mut self, c: Arc<Contact>) {
        self.next_seq += 1;
        let seq = self.next_seq;
        self.apply(seq, c.id.clone(), Change::Upsert(c));
    }

    /// A contact was written at `now_ms`: it reaches the index after its lag.
    pub fn upsert(&mut self, c: Arc<Contact>, now_ms: i64) {
        self.enqueue(c.id.clone(), Change::Upsert(c), now_ms);
    }

    /// A contact was deleted at `now_ms`.
    pub fn delete(&mut self, id: &str, now_ms: i64) {
        self.enqueue(id.to_string(), Change::Delete, now_ms);
    }

    fn enqueue(&mut self, id: String, change: Change, now_ms: i64) {
        self.next_seq += 1;
        let seq = self.next_seq;
        if self.max_lag_ms == 0 {
            self.apply(seq, id, change);
            return;
        }
        let lag = self.rng.random_range(0..=self.max_lag_ms) as i64;
        self.pending.insert((now_ms.saturating_add(lag), seq), (id, change));
    }

    /// Makes every write whose lag has passed visible.
    pub fn refresh(&mut self, now_ms: i64) {
        while let Some(entry) = self.pending.first_entry() {
            if entry.key().0 > now_ms {
                break;
            }
            let ((_, seq), (id, change)) = entry.remove_entry();
            self.apply(seq, id, change);
        }
    }

    fn apply(&mut self, seq: u64, id: String, change: Change) {
        if let Some((indexed, old)) = self.docs.get(&id) {
            if *indexed > seq {
                // A later write of this contact is already visible.
                return;
            }
            if let Some(old) = old {
                let (a, u) = keys_of(old);
                self.by_added.remove(&a);
                self.by_updated.remove(&u);
                self.live -= 1;
            }
        }
        match change {
            Change::Upsert(c) => {
                let (a, u) = keys_of(&c);
                self.by_added.insert(a);
                self.by_updated.insert(u);
                self.live += 1;
                self.docs.insert(id, (seq, Some(c)));
            }
            Change::Delete => {
                self.docs.insert(id, (seq, None));
            }
        }
    }

    /// The sort index for `sort`, as visible now.
    pub fn by(&self, sort: ContactSort) -> &BTreeSet<Key> {
        match sort {
            ContactSort::DateAdded => &self.by_added,
            ContactSort::DateUpdated => &self.by_updated,
        }
    }

    /// A contact as indexed.
    pub fn contact(&self, id: &str) -> Option<&Contact> {
        self.docs.get(id).and_then(|(_, c)| c.as_deref())
    }

    /// How many contacts are indexed.
    pub fn len(&self) -> usize {
        self.live
    }

    /// Whether nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Writes not yet visible.
    pub fn lagging(&self) -> usize {
        self.pending.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::iso_from_ms;

    fn contact(id: &str, updated: i64) -> Arc<Contact> {
        let mut c: Contact = serde_json::from_value(serde_json::json!({
            "id": id, "locationId": "l", "dateAdded": iso_from_ms(1_000), "dateUpdated": iso_from_ms(updated),
        }))
        .expect("contact");
        c.first_name = Some(format!("v{updated}"));
        Arc::new(c)
    }

    fn rng() -> ChaCha8Rng {
        crate::seed::stream_rng(7, 70)
    }

    #[test]
    fn without_lag_writes_are_visible_at_once() {
        let mut idx = SearchIndex::new(0, rng());
        idx.upsert(contact("a", 2_000), 2_000);
        assert_eq!(idx.len(), 1);
        idx.delete("a", 2_001);
        assert!(idx.is_empty());
    }

    #[test]
    fn a_deleted_contact_is_not_brought_back_by_an_older_write() {
        let mut idx = SearchIndex::new(0, rng());
        idx.apply(1, "a".into(), Change::Upsert(contact("a", 1_000)));
        idx.apply(3, "a".into(), Change::Delete);
        idx.apply(2, "a".into(), Change::Upsert(contact("a", 2_000)));
        assert!(idx.contact("a").is_none());
        assert!(idx.is_empty());
        assert!(idx.by(ContactSort::DateAdded).is_empty());
    }

    #[test]
    fn a_write_becomes_visible_only_after_its_lag() {
        let mut idx = SearchIndex::new(5_000, rng());
        idx.load(contact("a", 1_000));
        idx.upsert(contact("a", 10_000), 10_000);
        assert_eq!(idx.contact("a").and_then(|c| c.first_name.clone()).as_deref(), Some("v1000"));
        idx.refresh(15_000);
        assert_eq!(idx.contact("a").and_then(|c| c.first_name.clone()).as_deref(), Some("v10000"));
        assert_eq!(idx.by(ContactSort::DateUpdated).len(), 1);
        assert_eq!(idx.lagging(), 0);
    }

    #[test]
    fn writes_surface_out_of_order_but_each_contact_ends_at_its_last_write() {
        let mut idx = SearchIndex::new(3_000, rng());
        // 200 writes 10 ms apart over 5 contacts, then watch what becomes visible when.
        for i in 0..200_i64 {
            let at = 100_000 + i * 10;
            idx.upsert(contact(&format!("c{}", i % 5), at), at);
        }
        let mut surfaced = Vec::new();
        for t in (100_000..106_000).step_by(5) {
            idx.refresh(t);
            for i in 0..5 {
                if let Some(v) = idx.contact(&format!("c{i}")).and_then(|c| c.first_name.clone())
                    && surfaced.last() != Some(&v)
                    && !surfaced.contains(&v)
                {
                    surfaced.push(v);
                }
            }
        }
        let written: Vec<i64> = surfaced.iter().filter_map(|v| v[1..].parse().ok()).collect();
        let mut sorted = written.clone();
        sorted.sort_unstable();
        assert_ne!(written, sorted, "the lag must let some later write surface first");
        for i in 0..5 {
            let last = (0..200_i64).filter(|j| j % 5 == i).map(|j| 100_000 + j * 10).max().expect("writes");
            let shown = idx.contact(&format!("c{i}")).and_then(|c| c.first_name.clone());
            assert_eq!(shown, Some(format!("v{last}")), "c{i} shows its last write");
        }
        assert_eq!(idx.lagging(), 0);
    }
}
