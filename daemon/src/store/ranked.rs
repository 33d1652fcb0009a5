//! An ordered set of byte keys that also answers "how many keys come before this one" and
//! "which key is the n-th", both in about √n steps, for the exact queue counts and pages at
//! any offset.
//!
//! The keys are kept in sorted blocks of at most [`MAX_BLOCK`] keys. Finding a key's block
//! is a binary search over the blocks' last keys, and a rank adds up the lengths of the blocks
//! before it: at 100 k keys that is a few hundred additions, a few hundred nanoseconds. An
//! insert moves at most a block's worth of bytes.
//!
//! A block packs its keys end to end in one buffer, with where each ends. As a vector of boxed
//! keys the orders of 100 k leads took 14 MB at the sync's peak (heaptrack): a 29-byte key
//! cost a 32-byte allocation, a 16-byte pointer, and the vector's spare capacity.

use std::cmp::Ordering;

/// The most keys a block holds before it is split in two.
const MAX_BLOCK: usize = 512;
/// A block this small is merged into its neighbour, so removals cannot leave many tiny blocks.
const MIN_BLOCK: usize = MAX_BLOCK / 8;

/// Sorted keys packed end to end.
#[derive(Debug, Clone, Default)]
struct Block {
    bytes: Vec<u8>,
    /// Where each key ends in `bytes`.
    ends: Vec<u32>,
}

impl Block {
    fn from_sorted<K: AsRef<[u8]>>(keys: &[K]) -> Block {
        let mut block = Block {
            bytes: Vec::with_capacity(keys.iter().map(|k| k.as_ref().len()).sum()),
            ends: Vec::with_capacity(keys.len()),
        };
        for k in keys {
            block.bytes.extend_from_slice(k.as_ref());
            block.ends.push(block.bytes.len() as u32);
        }
        block
    }

    fn len(&self) -> usize {
        self.ends.len()
    }

    fn start(&self, i: usize) -> usize {
        if i == 0 { 0 } else { self.ends[i - 1] as usize }
    }

    fn key(&self, i: usize) -> &[u8] {
        &self.bytes[self.start(i)..self.ends[i] as usize]
    }

    fn last(&self) -> Option<&[u8]> {
        self.len().checked_sub(1).map(|i| self.key(i))
    }

    fn keys(&self, from: usize, to: usize) -> impl DoubleEndedIterator<Item = &[u8]> {
        (from..to).map(|i| self.key(i))
    }

    /// The first index whose key `cmp` does not put before the target.
    fn partition_point(&self, mut cmp: impl FnMut(&[u8]) -> Ordering) -> usize {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if cmp(self.key(mid)) == Ordering::Less { lo = mid + 1 } else { hi = mid }
        }
        lo
    }

    /// Grows in small steps, not by doubling: a block is rewritten at each insert anyway,
    /// and doubling left a third of the memory spare.
    fn reserve(&mut self, key: usize) {
        if self.bytes.len() + key > self.bytes.capacity() {
            self.bytes.reserve_exact(key.max(self.bytes.len() / 8));
        }
        if self.ends.len() == self.ends.capacity() {
            self.ends.reserve_exact((self.ends.len() / 8).max(1));
        }
    }

    fn insert(&mut self, at: usize, key: &[u8]) {
        self.reserve(key.len());
        let start = self.start(at);
        self.bytes.splice(start..start, key.iter().copied());
        let n = key.len() as u32;
        self.ends.insert(at, start as u32 + n);
        self.ends[at + 1..].iter_mut().for_each(|e| *e += n);
    }

    fn remove(&mut self, at: usize) {
        let (start, end) = (self.start(at), self.ends[at] as usize);
        self.bytes.drain(start..end);
        self.ends.remove(at);
        let n = (end - start) as u32;
        self.ends[at..].iter_mut().for_each(|e| *e -= n);
    }

    /// Moves the keys from `at` on into a new block.
    fn split_off(&mut self, at: usize) -> Block {
        let cut = self.start(at);
        let upper = Block {
            bytes: self.bytes[cut..].to_vec(),
            ends: self.ends[at..].iter().map(|e| e - cut as u32).collect(),
        };
        self.bytes.truncate(cut);
        self.ends.truncate(at);
        self.bytes.shrink_to_fit();
        self.ends.shrink_to_fit();
        upper
    }

    fn append(&mut self, other: Block) {
        let base = self.bytes.len() as u32;
        self.bytes.extend_from_slice(&other.bytes);
        self.ends.extend(other.ends.iter().map(|e| e + base));
    }
}

/// A sorted set of byte keys with rank and select.
#[derive(Debug, Clone, Default)]
pub struct RankedSet {
    blocks: Vec<Block>,
    len: usize,
}

impl RankedSet {
    /// A set of these keys (in any order; duplicates kept once).
    pub fn from_unsorted<K: AsRef<[u8]> + Ord>(mut keys: Vec<K>) -> Self {
        keys.sort_unstable();
        keys.dedup();
        let len = keys.len();
        // Half-full blocks leave room to insert without splitting at once.
        let blocks = keys.chunks(MAX_BLOCK / 2).map(Block::from_sorted).collect();
        RankedSet { blocks, len }
    }

    /// Removes the keys of `gone` and adds those of `new` (each ascending, no key in both) in
    /// one pass over the set, into freshly packed blocks. Once the changes are a fair share of
    /// the set this is far cheaper than making them one at a time, each of which searches for
    /// its block and shifts half of it, with the caches cold after the store's writes. A key
    /// of `gone` that is not in the set is passed over, and one of `new` already in it is kept
    /// once.
    pub fn change_many(&mut self, gone: &[&[u8]], new: &[&[u8]]) {
        let old = std::mem::take(&mut self.blocks);
        let (mut gone, mut new) = (gone.iter().peekable(), new.iter().peekable());
        let mut keys: Vec<&[u8]> = Vec::with_capacity(self.len + new.len());
        for key in old.iter().flat_map(|b| b.keys(0, b.len())) {
            while let Some(n) = new.next_if(|n| **n < key) {
                keys.push(n);
            }
            new.next_if(|n| **n == key);
            while gone.next_if(|g| **g < key).is_some() {}
            if gone.next_if(|g| **g == key).is_none() {
                keys.push(key);
            }
        }
        keys.extend(new.copied());
        self.len = keys.len();
        // Half-full, as a build leaves them.
        self.blocks = keys.chunks(MAX_BLOCK / 2).map(Block::from_sorted).collect();
    }

    /// How many keys.
    pub fn len(&self) -> usize {
        self.len
    }

    /// The block that holds `key` or would: the first whose last key is not below it (the
    /// last block when every key is below).
    fn block_for(&self, key: &[u8]) -> usize {
        let i = self.blocks.partition_point(|b| b.last().is_some_and(|last| last < key));
        i.min(self.blocks.len().saturating_sub(1))
    }

    /// Adds a key; false when it was there already.
    pub fn insert(&mut self, key: &[u8]) -> bool {
        if self.blocks.is_empty() {
            self.blocks.push(Block::from_sorted(&[key]));
            self.len = 1;
            return true;
        }
        let b = self.block_for(key);
        let block = &mut self.blocks[b];
        let at = block.partition_point(|k| k.cmp(key));
        if at < block.len() && block.key(at) == key {
            return false;
        }
        block.insert(at, key);
        self.len += 1;
        if block.len() > MAX_BLOCK {
            let upper = block.split_off(block.len() / 2);
            self.blocks.insert(b + 1, upper);
        }
        true
    }

    /// Removes a key; false when it was not there.
    pub fn remove(&mut self, key: &[u8]) -> bool {
        if self.blocks.is_empty() {
            return false;
        }
        let b = self.block_for(key);
        let block = &mut self.blocks[b];
        let at = block.partition_point(|k| k.cmp(key));
        if at == block.len() || block.key(at) != key {
            return false;
        }
        block.remove(at);
        self.len -= 1;
        if block.len() == 0 {
            self.blocks.remove(b);
        } else if block.len() < MIN_BLOCK && self.blocks.len() > 1 {
            // Into the neighbour (the previous one when there is one), split again if too big.
            let (into, from) = if b > 0 { (b - 1, b) } else { (b, b + 1) };
            let moved = self.blocks.remove(from);
            let merged = &mut self.blocks[into];
            merged.append(moved);
            if merged.len() > MAX_BLOCK {
                let upper = merged.split_off(merged.len() / 2);
                self.blocks.insert(into + 1, upper);
            }
        }
        true
    }

    /// How many keys are below `key` (where it is, or would be, in the order).
    pub fn rank(&self, key: &[u8]) -> usize {
        self.rank_by(|k| k.cmp(key))
    }

    /// How many keys `cmp` puts before the target: `cmp` says how a key compares with it, and
    /// must be monotone over the order (`Less` for a prefix of the keys).
    pub fn rank_by(&self, mut cmp: impl FnMut(&[u8]) -> Ordering) -> usize {
        let mut before = 0;
        for block in &self.blocks {
            match block.last().map(&mut cmp) {
                Some(Ordering::Less) => before += block.len(),
                _ => return before + block.partition_point(&mut cmp),
            }
        }
        before
    }

    /// The key at `index` in the order.
    pub fn get(&self, index: usize) -> Option<&[u8]> {
        let (b, at) = self.locate(index)?;
        Some(self.blocks[b].key(at))
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
    pub fn iter_from(&self, index: usize) -> impl Iterator<Item = &[u8]> {
        let (b, at) = self.locate(index).unwrap_or((self.blocks.len(), 0));
        self.blocks.iter().skip(b).enumerate().flat_map(move |(i, block)| {
            let from = if i == 0 { at } else { 0 };
            block.keys(from, block.len())
        })
    }

    /// The key at `index` and those before it, towards the first (from the last key when
    /// `index` is past the end).
    pub fn iter_back_from(&self, index: usize) -> impl Iterator<Item = &[u8]> {
        let start = index.min(self.len.saturating_sub(1));
        let (b, at) = self.locate(start).map_or((0, None), |(b, at)| (b, Some(at)));
        let blocks = if at.is_some() { &self.blocks[..=b] } else { &self.blocks[..0] };
        let end_of_last = at.map_or(0, |a| a + 1);
        let last = blocks.len().saturating_sub(1);
        blocks.iter().enumerate().rev().flat_map(move |(i, block)| {
            let end = if i == last { end_of_last } else { block.len() };
            block.keys(0, end).rev()
        })
    }

    /// Whether the key is in the set.
    #[cfg(test)]
    pub fn contains(&self, key: &[u8]) -> bool {
        self.get(self.rank(key)).is_some_and(|k| k == key)
    }

    /// The bytes the blocks hold, spare capacity included (for the memory tests).
    #[cfg(test)]
    fn allocated(&self) -> usize {
        self.blocks.iter().map(|b| b.bytes.capacity() + 4 * b.ends.capacity()).sum()
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

    /// A key of varying length whose byte order is the number's: big-endian, then as many
    /// filler bytes as the number's last digit, as index keys end in ids of any length.
    fn key(n: u16) -> Vec<u8> {
        let mut k = n.to_be_bytes().to_vec();
        k.extend(std::iter::repeat_n(b'x', usize::from(n % 10)));
        k
    }

    fn keys<'a>(it: impl Iterator<Item = &'a [u8]>) -> Vec<Vec<u8>> {
        it.map(<[u8]>::to_vec).collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Whatever the inserts and removals, rank, get and the iterators agree with a
        /// `BTreeSet` of the same keys.
        #[test]
        fn agrees_with_a_btreeset(start in proptest::collection::vec(0u16..3000, 0..2000), ops in ops(), probe in 0u16..3001) {
            let mut set = RankedSet::from_unsorted(start.iter().map(|&n| key(n)).collect());
            let mut oracle: BTreeSet<Vec<u8>> = start.into_iter().map(key).collect();
            for op in ops {
                match op {
                    Op::Insert(k) => prop_assert_eq!(set.insert(&key(k)), oracle.insert(key(k))),
                    Op::Remove(k) => prop_assert_eq!(set.remove(&key(k)), oracle.remove(&key(k))),
                }
            }
            prop_assert_eq!(set.len(), oracle.len());
            let sorted: Vec<Vec<u8>> = oracle.iter().cloned().collect();
            prop_assert_eq!(keys(set.iter_from(0)), sorted.clone());
            let probe = key(probe);
            prop_assert_eq!(set.rank(&probe), oracle.range(..probe.clone()).count());
            prop_assert_eq!(set.contains(&probe), oracle.contains(&probe));
            let at = usize::from(probe[1]) * 7 % (sorted.len() + 1);
            prop_assert_eq!(set.get(at).map(<[u8]>::to_vec), sorted.get(at).cloned());
            prop_assert_eq!(keys(set.iter_from(at)), sorted[at..].to_vec());
            let back = keys(set.iter_back_from(at));
            let want: Vec<Vec<u8>> = sorted[..(at + 1).min(sorted.len())].iter().rev().cloned().collect();
            prop_assert_eq!(back, want);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Many changes at once leave the set as the same changes made one at a time, and
        /// the set takes single changes as before afterwards.
        #[test]
        fn many_changes_at_once_agree_with_one_at_a_time(
            start in proptest::collection::vec(0u16..3000, 0..2000),
            gone in proptest::collection::btree_set(0u16..3000, 0..600),
            new in proptest::collection::btree_set(0u16..3000, 0..600),
            then in ops(),
        ) {
            let mut set = RankedSet::from_unsorted(start.iter().map(|&n| key(n)).collect());
            let mut oracle: BTreeSet<Vec<u8>> = start.into_iter().map(key).collect();
            let new: Vec<Vec<u8>> = new.difference(&gone).map(|&n| key(n)).collect();
            let gone: Vec<Vec<u8>> = gone.into_iter().map(key).collect();
            set.change_many(&gone.iter().map(Vec::as_slice).collect::<Vec<_>>(), &new.iter().map(Vec::as_slice).collect::<Vec<_>>());
            for k in &gone {
                oracle.remove(k);
            }
            oracle.extend(new);
            prop_assert_eq!(set.len(), oracle.len());
            prop_assert_eq!(keys(set.iter_from(0)), oracle.iter().cloned().collect::<Vec<_>>());
            prop_assert!(set.blocks.iter().all(|b| b.len() > 0 && b.len() <= MAX_BLOCK));
            for op in then {
                match op {
                    Op::Insert(k) => prop_assert_eq!(set.insert(&key(k)), oracle.insert(key(k))),
                    Op::Remove(k) => prop_assert_eq!(set.remove(&key(k)), oracle.remove(&key(k))),
                }
            }
            prop_assert_eq!(keys(set.iter_from(0)), oracle.iter().cloned().collect::<Vec<_>>());
            prop_assert_eq!(set.rank(&key(1500)), oracle.range(..key(1500)).count());
        }
    }

    #[test]
    fn blocks_stay_bounded() {
        let mut set = RankedSet::default();
        for k in 0..10_000u32 {
            set.insert(&k.to_be_bytes());
        }
        assert!(set.blocks.iter().all(|b| b.len() <= MAX_BLOCK));
        for k in (0..10_000u32).filter(|k| k % 10 != 0) {
            set.remove(&k.to_be_bytes());
        }
        assert_eq!(set.len(), 1_000);
        assert!(set.blocks.len() <= 1_000 / MIN_BLOCK + 1, "{} blocks", set.blocks.len());
        assert_eq!(set.get(999), Some(&9_990u32.to_be_bytes()[..]));
        assert_eq!(set.rank(&5_000u32.to_be_bytes()), 500);
    }

    /// Keys inserted one by one (as a first sync files every lead) take little more than
    /// their bytes and a 4-byte end each.
    #[test]
    fn keys_inserted_one_by_one_cost_little_more_than_their_bytes() {
        let mut set = RankedSet::default();
        let n = 20_000u32;
        // Spread over the order, as score keys arrive.
        for i in 0..n {
            let k = i.wrapping_mul(2_654_435_761);
            let mut key = k.to_be_bytes().to_vec();
            key.extend_from_slice(&[7; 25]);
            set.insert(&key);
        }
        let payload = n as usize * (29 + 4);
        assert!(set.allocated() < payload * 5 / 4, "{} bytes for {payload}", set.allocated());
    }
}
