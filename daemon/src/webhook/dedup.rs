//! A bounded set of recently seen `webhookId`s (oldest evicted first).
//!
//! Ids are kept as their SHA-256 digests, so memory is bounded by the capacity alone (32 bytes
//! per id, twice), whatever length of id a sender uses.

use std::collections::{HashSet, VecDeque};

use aws_lc_rs::digest::{SHA256, digest};

type Key = [u8; 32];

fn key(id: &str) -> Key {
    let mut k = [0u8; 32];
    k.copy_from_slice(digest(&SHA256, id.as_bytes()).as_ref());
    k
}

#[derive(Debug)]
pub(crate) struct Dedup {
    capacity: usize,
    seen: HashSet<Key>,
    order: VecDeque<Key>,
}

impl Dedup {
    /// A set holding at most `capacity` ids (at least 1).
    pub(crate) fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Self {
            capacity,
            seen: HashSet::with_capacity(capacity.min(4096)),
            order: VecDeque::with_capacity(capacity.min(4096)),
        }
    }

    /// Records `id`; `false` when it was already present (a duplicate).
    pub(crate) fn insert(&mut self, id: &str) -> bool {
        let id = key(id);
        if self.seen.contains(&id) {
            return false;
        }
        while self.order.len() >= self.capacity {
            if let Some(old) = self.order.pop_front() {
                self.seen.remove(&old);
            }
        }
        self.seen.insert(id);
        self.order.push_back(id);
        true
    }

    /// Forgets `id` (so a retry of an event we could not hand over is accepted again).
    pub(crate) fn remove(&mut self, id: &str) {
        let id = key(id);
        if self.seen.remove(&id) {
            self.order.retain(|x| *x != id);
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.seen.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_and_eviction() {
        let mut d = Dedup::new(3);
        assert!(d.insert("a"));
        assert!(!d.insert("a"));
        assert!(d.insert("b"));
        assert!(d.insert("c"));
        assert!(d.insert("d")); // evicts "a"
        assert_eq!(d.len(), 3);
        assert!(!d.insert("d"));
        assert!(d.insert("a")); // forgotten, so new again (evicts "b")
        assert!(!d.insert("c"));
        d.remove("c");
        assert!(d.insert("c"));
        assert_eq!(d.len(), 3);
        assert!(Dedup::new(0).insert("x"));
        // Long ids cost no more than short ones, and stay distinct.
        let mut d = Dedup::new(2);
        let long = "x".repeat(100_000);
        assert!(d.insert(&long));
        assert!(!d.insert(&long));
        assert!(d.insert(&long[1..]));
    }
}
