//! The index's dictionary: every word some lead is found by, in byte order, each with its
//! [`Posting`].
//!
//! The words sit back to back in blocks of at most [`BLOCK_TERMS`], each followed by a NUL.
//! A word then costs its bytes and nine more (the NUL, where it starts, its posting), where a
//! `BTreeMap<String, _>` spends a heap allocation and a map slot on each, about three times
//! as much at 100 k leads. Adding or removing a word moves the bytes of one block only. The
//! NULs let one scan of a block's text find a word inside any of its words: no word holds a
//! NUL, so no hit spans two.

use std::cmp::Ordering;

/// The most words a block holds before it is split in two.
const BLOCK_TERMS: usize = 128;

/// Which leads a word finds, as [`super::SearchIndex`] encodes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Posting(pub u32);

#[derive(Debug, Default)]
struct Block {
    /// The words, each followed by a NUL, in order.
    text: String,
    /// Where each word starts in `text`.
    starts: Vec<u32>,
    /// Each word's posting.
    posts: Vec<Posting>,
}

impl Block {
    fn len(&self) -> usize {
        self.starts.len()
    }

    /// Where word `i` starts and where its NUL is.
    fn span(&self, i: usize) -> (usize, usize) {
        let start = self.starts[i] as usize;
        let next = self.starts.get(i + 1).map_or(self.text.len(), |&s| s as usize);
        (start, next - 1)
    }

    fn term(&self, i: usize) -> &str {
        let (start, end) = self.span(i);
        &self.text[start..end]
    }

    /// The word's position, or where it would go.
    fn search(&self, term: &str) -> Result<usize, usize> {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.term(mid).cmp(term) {
                Ordering::Less => lo = mid + 1,
                Ordering::Greater => hi = mid,
                Ordering::Equal => return Ok(mid),
            }
        }
        Err(lo)
    }

    fn insert(&mut self, i: usize, term: &str, post: Posting) {
        // In steps of an eighth: doubling would leave a block up to half empty, and the
        // dictionary is most of the index's memory; growing by one word at a time would
        // reallocate at every insert of a first sync's hundreds of thousands of words.
        let spare = |len: usize, need: usize| need.max(len / 8);
        if self.text.capacity() - self.text.len() < term.len() + 1 {
            self.text.reserve_exact(spare(self.text.len(), term.len() + 1));
        }
        if self.starts.capacity() == self.starts.len() {
            self.starts.reserve_exact(spare(self.starts.len(), 1));
        }
        if self.posts.capacity() == self.posts.len() {
            self.posts.reserve_exact(spare(self.posts.len(), 1));
        }
        let at = self.starts.get(i).map_or(self.text.len(), |&s| s as usize);
        self.text.insert_str(at, term);
        self.text.insert(at + term.len(), '\0');
        let added = term.len() as u32 + 1;
        for s in &mut self.starts[i..] {
            *s += added;
        }
        self.starts.insert(i, at as u32);
        self.posts.insert(i, post);
    }

    fn remove(&mut self, i: usize) -> Posting {
        let (start, nul) = self.span(i);
        self.text.replace_range(start..=nul, "");
        self.starts.remove(i);
        let removed = (nul + 1 - start) as u32;
        for s in &mut self.starts[i..] {
            *s -= removed;
        }
        self.posts.remove(i)
    }

    /// Moves the words from `at` on into a new block.
    fn split_off(&mut self, at: usize) -> Block {
        let cut = self.starts[at];
        let text = self.text.split_off(cut as usize);
        let starts = self.starts.split_off(at).into_iter().map(|s| s - cut).collect();
        let posts = self.posts.split_off(at);
        self.text.shrink_to_fit();
        self.starts.shrink_to_fit();
        self.posts.shrink_to_fit();
        Block { text, starts, posts }
    }

    fn heap_bytes(&self) -> usize {
        self.text.capacity() + 4 * self.starts.capacity() + 4 * self.posts.capacity()
    }
}

/// The words, in byte order, with their postings.
#[derive(Debug, Default)]
pub struct Dict {
    /// Never an empty block.
    blocks: Vec<Block>,
    /// Each block's first word's [`head`], beside the blocks: finding a word's block reads
    /// this one array and not a block's text at each step of the search.
    heads: Vec<u64>,
    len: usize,
}

/// A word's first eight bytes, big-endian, padded with zeros: heads compare as their words
/// do, except that words equal in their first eight bytes have equal heads.
fn head(term: &str) -> u64 {
    let mut bytes = [0u8; 8];
    let n = term.len().min(8);
    bytes[..n].copy_from_slice(&term.as_bytes()[..n]);
    u64::from_be_bytes(bytes)
}

impl Dict {
    /// How many words it holds.
    pub fn len(&self) -> usize {
        self.len
    }

    /// The block a word is in, or would go in: the last whose first word is not after it.
    fn block_of(&self, term: &str) -> usize {
        let h = head(term);
        let mut at = self.heads.partition_point(|&first| first < h);
        while at < self.blocks.len() && self.heads[at] == h && self.blocks[at].term(0) <= term {
            at += 1;
        }
        at.saturating_sub(1)
    }

    /// Sets block `b`'s head after its first word changed.
    fn new_head(&mut self, b: usize) {
        self.heads[b] = head(self.blocks[b].term(0));
    }

    /// Where a word is: its block and position.
    fn find(&self, term: &str) -> Option<(usize, usize)> {
        let b = self.block_of(term);
        let i = self.blocks.get(b)?.search(term).ok()?;
        Some((b, i))
    }

    /// A word's posting.
    #[cfg(test)]
    pub fn get(&self, term: &str) -> Option<Posting> {
        self.find(term).map(|(b, i)| self.blocks[b].posts[i])
    }

    /// A word's posting, to change.
    pub fn get_mut(&mut self, term: &str) -> Option<&mut Posting> {
        let (b, i) = self.find(term)?;
        Some(&mut self.blocks[b].posts[i])
    }

    /// Adds a word, or replaces its posting.
    pub fn insert(&mut self, term: &str, post: Posting) {
        if self.blocks.is_empty() {
            let mut first = Block::default();
            first.insert(0, term, post);
            self.blocks.push(first);
            self.heads.push(head(term));
            self.len = 1;
            return;
        }
        let b = self.block_of(term);
        let block = &mut self.blocks[b];
        match block.search(term) {
            Ok(i) => block.posts[i] = post,
            Err(i) => {
                block.insert(i, term, post);
                self.len += 1;
                if block.len() > BLOCK_TERMS {
                    let upper = block.split_off(block.len() / 2);
                    self.heads.insert(b + 1, head(upper.term(0)));
                    self.blocks.insert(b + 1, upper);
                }
                if i == 0 {
                    self.new_head(b);
                }
            }
        }
    }

    /// Removes a word; returns its posting.
    pub fn remove(&mut self, term: &str) -> Option<Posting> {
        let (b, i) = self.find(term)?;
        let post = self.blocks[b].remove(i);
        self.len -= 1;
        if self.blocks[b].len() == 0 {
            self.blocks.remove(b);
            self.heads.remove(b);
        } else if i == 0 {
            self.new_head(b);
        }
        Some(post)
    }

    /// Calls `visit` with each word that starts with `prefix` (itself included), in order.
    pub fn for_prefixed<'a>(&'a self, prefix: &str, mut visit: impl FnMut(&'a str, &'a Posting)) {
        let b = self.block_of(prefix);
        let Some(first) = self.blocks.get(b) else { return };
        let mut i = first.search(prefix).unwrap_or_else(|i| i);
        for block in &self.blocks[b..] {
            while i < block.len() {
                let term = block.term(i);
                if !term.starts_with(prefix) {
                    return;
                }
                visit(term, &block.posts[i]);
                i += 1;
            }
            i = 0;
        }
    }

    /// Calls `visit` with each word that holds `word` somewhere after its first character.
    /// One scan of each block's text.
    pub fn for_containing<'a>(&'a self, word: &str, mut visit: impl FnMut(&'a str, &'a Posting)) {
        if word.is_empty() {
            return;
        }
        let finder = memchr::memmem::Finder::new(word.as_bytes());
        for block in &self.blocks {
            let mut last = usize::MAX;
            for hit in finder.find_iter(block.text.as_bytes()) {
                let i = block.starts.partition_point(|&s| s as usize <= hit) - 1;
                if i == last {
                    continue;
                }
                last = i;
                if block.starts[i] as usize == hit {
                    // The word starts with it: that is a prefix (`for_prefixed`).
                    continue;
                }
                visit(block.term(i), &block.posts[i]);
            }
        }
    }

    /// Calls `visit` with every word, in order.
    pub fn for_each<'a>(&'a self, mut visit: impl FnMut(&'a str, &'a Posting)) {
        for block in &self.blocks {
            for i in 0..block.len() {
                visit(block.term(i), &block.posts[i]);
            }
        }
    }

    /// Gives back spare capacity.
    pub fn shrink_to_fit(&mut self) {
        self.blocks.shrink_to_fit();
        self.heads.shrink_to_fit();
    }

    /// The memory it holds, in bytes (its allocations' sizes).
    pub fn heap_bytes(&self) -> usize {
        self.blocks.iter().map(Block::heap_bytes).sum::<usize>()
            + self.blocks.capacity() * std::mem::size_of::<Block>()
            + 8 * self.heads.capacity()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn collect(d: &Dict) -> Vec<(String, u32)> {
        let mut out = Vec::new();
        d.for_each(|t, p| out.push((t.to_owned(), p.0)));
        out
    }

    #[test]
    fn keeps_words_in_order_across_splits_and_removals() {
        let mut d = Dict::default();
        let mut model = BTreeMap::new();
        // Enough words for several blocks, inserted out of order.
        for i in 0..1_000u32 {
            let term = format!("w{:04}", (i * 7_919) % 1_000);
            d.insert(&term, Posting(i));
            model.insert(term, i);
        }
        assert!(d.blocks.len() > 7, "split into blocks: {}", d.blocks.len());
        for i in (0..1_000u32).step_by(3) {
            let term = format!("w{i:04}");
            assert_eq!(d.remove(&term).map(|p| p.0), model.remove(&term));
        }
        assert_eq!(d.remove("absent"), None);
        let expected: Vec<(String, u32)> = model.iter().map(|(t, p)| (t.clone(), *p)).collect();
        assert_eq!(collect(&d), expected);
        assert_eq!(d.len(), model.len());
        assert_eq!(d.get("w0001"), Some(Posting(model["w0001"])));
        *d.get_mut("w0001").expect("there") = Posting(7);
        assert_eq!(d.get("w0001"), Some(Posting(7)));
        // Emptied blocks go.
        for t in model.keys() {
            d.remove(t);
        }
        assert_eq!((d.len(), d.blocks.len()), (0, 0));
        d.for_prefixed("w", |_, _| panic!("empty"));
    }

    proptest::proptest! {
        /// Words that share their first eight bytes (equal heads) across many blocks, of
        /// every length around eight, added and removed in any order: the dictionary holds
        /// what a map does, and finds each word.
        #[test]
        fn words_with_equal_heads_are_found_across_blocks(
            ops in proptest::collection::vec((proptest::bool::weighted(0.7), 0u32..600), 1..1_500),
        ) {
            let word = |n: u32| match n % 4 {
                0 => format!("samehead{n}"),
                1 => format!("samehea{}", n % 7),
                2 => format!("samehead{}z", n % 50),
                _ => format!("sam{n}"),
            };
            let mut d = Dict::default();
            let mut model = BTreeMap::new();
            for (add, n) in ops {
                let term = word(n);
                if add {
                    d.insert(&term, Posting(n));
                    model.insert(term, n);
                } else {
                    proptest::prop_assert_eq!(d.remove(&term).map(|p| p.0), model.remove(&term));
                }
            }
            let expected: Vec<(String, u32)> = model.iter().map(|(t, p)| (t.clone(), *p)).collect();
            proptest::prop_assert_eq!(collect(&d), expected);
            for (t, p) in &model {
                proptest::prop_assert_eq!(d.get(t), Some(Posting(*p)));
            }
            proptest::prop_assert_eq!(d.heads.len(), d.blocks.len());
        }
    }

    #[test]
    fn prefixes_and_insides() {
        let mut d = Dict::default();
        for (i, t) in ["smith", "smithson", "goldsmith", "sm", "mitchell", "aaaa", "baaa"].iter().enumerate()
        {
            d.insert(t, Posting(i as u32));
        }
        let mut prefixed = Vec::new();
        d.for_prefixed("smith", |t, _| prefixed.push(t.to_owned()));
        assert_eq!(prefixed, ["smith", "smithson"]);
        let mut inside = Vec::new();
        d.for_containing("mit", |t, _| inside.push(t.to_owned()));
        assert_eq!(inside, ["goldsmith", "smith", "smithson"], "not mitchell: it starts with it");
        let mut repeated = Vec::new();
        d.for_containing("aa", |t, _| repeated.push(t.to_owned()));
        assert_eq!(repeated, ["baaa"], "aaaa starts with it; baaa once");
        let mut none = Vec::new();
        d.for_prefixed("zz", |t, _| none.push(t.to_owned()));
        d.for_prefixed("", |t, _| none.push(t.to_owned()));
        assert_eq!(none.len(), 7, "every word starts with nothing");
    }
}
