//! An ordered set that also answers "how many keys come before this one" and "which key is
//! the n-th", both in about √n steps, for the exact queue counts and pages at any offset.
//!
//! The keys are kept in sorted blocks of at most [`MAX_BLOCK`] keys. Finding a key's block
//! is a binary search over the blocks' last keys, and a rank adds up the lengths of the blocks
//! before it: at 100 k keys that is a few hundred additions, a few hundred nanoseconds. An
//! insert moves at most a block's worth of keys.

use std::cmp::Ordering;

/// The most keys a block holds before it is split in two.
const MAX_BLOCK: usize = 512;
/// A block this small is merged into its neighbour, so removals cannot leave many tiny blocks.
const MIN_BLOCK: usize = MAX_BLOCK / 8;

/// A sorted set of keys with rank and select.
#[derive(Debug, Clone, Default)]
pub struct RankedSet<K> {
    blocks: Vec<Vec<K>>,
    len: usize,
}

impl<K: Ord> RankedSet<K> {
    /// A set of these keys (in any order; duplicates kept once).
    pub fn from_unsorted(mut keys: Vec<K>) -> Self {
        keys.sort_unstable();
        keys.dedup();
        let len = keys.len();
        let mut blocks = Vec::with_capacity(len.div_ceil(MAX_BLOCK / 2));
        let mut rest = keys.into_iter().peekable();
        while rest.peek().is_some() {
            // Half-full blocks leave room to insert without splitting at once.
            blocks.push(rest.by_ref().take(MAX_BLOCK / 2).collect());
        }
        RankedSet { blocks, len }
    }

    /// How many keys.
    pub fn len(&self) -> usize {
        self.len
    }

    /// The block that holds `key` or would: the first whose last key is not below it (the
    /// last block when every key is below).
    fn block_for(&self, key: &K) -> usize {
        let i = self.blocks.partition_point(|b| b.last().is_some_and(|last| last < key));
        i.min(self.blocks.len().saturating_sub(1))
    }

    /// Adds a key; false when it was there already.
    pub fn insert(&mut self, key: K) -> bool {
        if self.blocks.is_empty() {
            self.blocks.push(vec![key]);
            self.len = 1;
            return true;
        }
        let b = self.block_for(&key);
        let block = &mut self.blocks[b];
        match block.binary_search(&key) {
            Ok(_) => return false,
            Err(at) => block.insert(at, key),
        }
        self.len += 1;
        if block.len() > MAX_BLOCK {
            let upper = block.split_off(block.len() / 2);
            self.blocks.insert(b + 1, upper);
        }
        true
    }

    /// Removes a key; false when it was not there.
    pub fn remove(&mut self, key: &K) -> bool {
        if self.blocks.is_empty() {
            return false;
        }
        let b = self.block_for(key);
        let block = &mut self.blocks[b];
        let Ok(at) = block.binary_search(key) else {
            return false;
        };
        block.remove(at);
        self.len -= 1;
        if block.is_empty() {
            self.blocks.remove(b);
        } else if block.len() < MIN_BLOCK && self.blocks.len() > 1 {
            // Into the neighbour (the previous one when there is one), split again if too big.
            let (into, from) = if b > 0 { (b - 1, b) } else { (b, b + 1) };
            let moved = self.blocks.remove(from);
            let merged = &mut self.blocks[into];
            merged.extend(moved);
            if merged.len() > MAX_BLOCK {
                let upper = merged.split_off(merged.len() / 2);
                self.blocks.insert(into + 1, upper);
            }
        }
        true
    }

    /// How many keys are below `key` (where it is, or would be, in the order).
    pub fn rank(&self, key: &K) -> usize {
        self.rank_by(|k| k.cmp(key))
    }

    /// How many keys `cmp` puts before the target: `cmp` says how a key compares with it, and
    /// must be monotone over the order (`Less` for a prefix of the keys).
    pub fn rank_by(&self, mut cmp: impl FnMut(&K) -> Ordering) -> usize {
        let mut before = 0;
        for block in &self.blocks {
            match block.last().map(&mut cmp) {
                Some(Ordering::Less) => before += block.len(),
                _ => return before + block.partition_point(|k| cmp(k) == Ordering::Less),
            }
        }
        before
    }

    /// The key at `index` in the order.
    pub fn get(&self, index: usize) -> Option<&K> {
        let (b, at) = self.locate(index)?;
        self.blocks[b].get(at)
    }

    /// Which block, and where in it, the key at `index` is.
    fn locate(&self, mut index: usize) -> Option<(usize, usize)> {
        if index >= self.len {
            return None;
        }
        for (b, block) in self.blocks.iter().enumerate() {
            if index < block.len() {
                return Some((b, index));
            }
            index -= block.len();
        }
        None
    }

    /// The keys from `index` on, in order.
    pub fn iter_from(&self, index: usize) -> impl Iterator<Item = &K> {
        let (b, at) = self.locate(index).unwrap_or((self.blocks.len(), 0));
        self.blocks.iter().skip(b).enumerate().flat_map(move |(i, block)| {
            let from = if i == 0 { at } else { 0 };
            block[from..].iter()
        })
    }

    /// The key at `index` and those before it, towards the first (from the last key when
    /// `index` is past the end).
    pub fn iter_back_from(&self, index: usize) -> impl Iterator<Item = &K> {
        let start = index.min(self.len.saturating_sub(1));
        let (b, at) = self.locate(start).map_or((0, None), |(b, at)| (b, Some(at)));
        let blocks = if at.is_some() { &self.blocks[..=b] } else { &self.blocks[..0] };
        let end_of_last = at.map_or(0, |a| a + 1);
        let last = blocks.len().saturating_sub(1);
        blocks.iter().enumerate().rev().flat_map(move |(i, block)| {
            let end = if i == last { end_of_last } else { block.len() };
            block[..end].iter().rev()
        })
    }

    /// Whether the key is in the set.
    #[cfg(test)]
    pub fn contains(&self, key: &K) -> bool {
        self.get(self.rank(key)).is_some_and(|k| k == key)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use proptest::prelude::*;

    use super::*;

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u16),
        Remove(u16),
    }

    fn ops() -> impl Strategy<Value = Vec<Op>> {
        proptest::collection::vec(
            prop_oneof![(0u16..3000).prop_map(Op::Insert), (0u16..3000).prop_map(Op::Remove)],
            0..4000,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Whatever the inserts and removals, rank, get and the iterators agree with a
        /// `BTreeSet` of the same keys.
        #[test]
        fn agrees_with_a_btreeset(start in proptest::collection::vec(0u16..3000, 0..2000), ops in ops(), probe in 0u16..3001) {
            let mut set = RankedSet::from_unsorted(start.clone());
            let mut oracle: BTreeSet<u16> = start.into_iter().collect();
            for op in ops {
                match op {
                    Op::Insert(k) => prop_assert_eq!(set.insert(k), oracle.insert(k)),
                    Op::Remove(k) => prop_assert_eq!(set.remove(&k), oracle.remove(&k)),
                }
            }
            prop_assert_eq!(set.len(), oracle.len());
            let sorted: Vec<u16> = oracle.iter().copied().collect();
            prop_assert_eq!(set.iter_from(0).copied().collect::<Vec<_>>(), sorted.clone());
            prop_assert_eq!(set.rank(&probe), oracle.range(..probe).count());
            prop_assert_eq!(set.contains(&probe), oracle.contains(&probe));
            let at = (probe as usize) % (sorted.len() + 1);
            prop_assert_eq!(set.get(at), sorted.get(at));
            prop_assert_eq!(set.iter_from(at).copied().collect::<Vec<_>>(), sorted[at..].to_vec());
            let back: Vec<u16> = set.iter_back_from(at).copied().collect();
            let want: Vec<u16> = sorted[..(at + 1).min(sorted.len())].iter().rev().copied().collect();
            prop_assert_eq!(back, want);
        }
    }

    #[test]
    fn blocks_stay_bounded() {
        let mut set = RankedSet::default();
        for k in 0..10_000u32 {
            set.insert(k);
        }
        assert!(set.blocks.iter().all(|b| b.len() <= MAX_BLOCK));
        for k in (0..10_000u32).filter(|k| k % 10 != 0) {
            set.remove(&k);
        }
        assert_eq!(set.len(), 1_000);
        assert!(set.blocks.len() <= 1_000 / MIN_BLOCK + 1, "{} blocks", set.blocks.len());
        assert_eq!(set.get(999), Some(&9_990));
        assert_eq!(set.rank(&5_000), 500);
    }
}
