//! The search index: each word → the leads found by it, kept up to date as rows are written
//! ([`SearchIndex::apply`]), so that a query reads postings, never the store.
//!
//! Leads are numbered (a removed lead's number is given to the next new one), and a posting
//! is one `u32`: the lead's number when the word finds one lead (most phone numbers and
//! emails' words), else the number of a sorted list of leads. Lead ids sit back to back in
//! one string. At 100 k leads the whole index is about 10 MB (`heap_bytes`).

use std::collections::BTreeMap;
use std::hash::{BuildHasher, RandomState};

use hashbrown::HashTable;

use super::dict::{Dict, Posting};
use super::{Match, Rank, SearchEntry, substring_allowed};

/// The bit that marks a posting as a list number.
const LIST: u32 = 1 << 31;
/// No match (in the per-lead arrays of a query).
const NONE: u8 = u8::MAX;

/// One numbered lead.
#[derive(Debug, Clone, Copy, Default)]
struct Doc {
    /// Where its id is in [`SearchIndex::ids`].
    id_at: u32,
    id_len: u16,
    score: u8,
    live: bool,
}

/// The leads that match a query, best first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchHits {
    /// How many leads match.
    pub total: usize,
    /// At most the limit of them, with their ranks.
    pub hits: Vec<(String, Rank)>,
}

/// The search index. See the module's documentation.
#[derive(Debug, Default)]
pub struct SearchIndex {
    dict: Dict,
    /// The postings of words that find more than one lead, each sorted.
    lists: Vec<Vec<u32>>,
    /// Numbers of `lists` free for reuse.
    free_lists: Vec<u32>,
    docs: Vec<Doc>,
    /// Numbers of `docs` free for reuse.
    free_docs: Vec<u32>,
    /// The leads' ids, back to back.
    ids: String,
    /// Bytes of `ids` that belong to removed leads; the string is rewritten past half.
    dead_id_bytes: usize,
    /// Lead numbers, hashed by their id.
    by_id: HashTable<u32>,
    hasher: RandomState,
    live: usize,
}

fn id_of<'a>(ids: &'a str, docs: &[Doc], doc: u32) -> &'a str {
    let d = docs[doc as usize];
    let at = d.id_at as usize;
    &ids[at..at + usize::from(d.id_len)]
}

impl SearchIndex {
    /// An empty index.
    pub fn new() -> SearchIndex {
        SearchIndex::default()
    }

    /// An index of `entries`.
    pub fn from_entries<'a>(entries: impl IntoIterator<Item = &'a SearchEntry>) -> SearchIndex {
        let mut index = SearchIndex::new();
        for e in entries {
            index.apply(None, Some(e));
        }
        index
    }

    /// How many leads it holds.
    pub fn len(&self) -> usize {
        self.live
    }

    /// Whether it holds no lead.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// How many distinct words it holds.
    pub fn terms(&self) -> usize {
        self.dict.len()
    }

    fn id(&self, doc: u32) -> &str {
        id_of(&self.ids, &self.docs, doc)
    }

    fn find(&self, id: &str) -> Option<u32> {
        let hash = self.hasher.hash_one(id);
        self.by_id.find(hash, |&d| self.id(d) == id).copied()
    }

    /// Moves a lead's entry from `old` (what was indexed for it, `None` if it was not) to
    /// `new` (`None` removes it): only the words that changed are touched.
    pub fn apply(&mut self, old: Option<&SearchEntry>, new: Option<&SearchEntry>) {
        match (old, new) {
            (_, Some(new)) => {
                let doc = match self.find(&new.id) {
                    Some(doc) => doc,
                    None => self.add_doc(&new.id),
                };
                self.docs[doc as usize].score = new.score;
                let old_terms = old.map_or(&[][..], |o| &o.terms[..]);
                for gone in old_terms.iter().filter(|t| new.terms.binary_search(t).is_err()) {
                    self.remove_posting(gone, doc);
                }
                for added in new.terms.iter().filter(|t| old_terms.binary_search(t).is_err()) {
                    self.add_posting(added, doc);
                }
            }
            (Some(old), None) => {
                if let Some(doc) = self.find(&old.id) {
                    for term in &old.terms {
                        self.remove_posting(term, doc);
                    }
                    self.remove_doc(doc);
                }
            }
            (None, None) => {}
        }
    }

    fn add_doc(&mut self, id: &str) -> u32 {
        // Ids longer than a u16 are not GHL's; they are cut, and then simply not found again.
        let mut len = id.len().min(usize::from(u16::MAX));
        while !id.is_char_boundary(len) {
            len -= 1;
        }
        let doc = Doc { id_at: self.ids.len() as u32, id_len: len as u16, score: 0, live: true };
        self.ids.push_str(&id[..len]);
        let number = match self.free_docs.pop() {
            Some(n) => {
                self.docs[n as usize] = doc;
                n
            }
            None => {
                self.docs.push(doc);
                (self.docs.len() - 1) as u32
            }
        };
        let (ids, docs, hasher) = (&self.ids, &self.docs, &self.hasher);
        let hash = hasher.hash_one(id_of(ids, docs, number));
        self.by_id.insert_unique(hash, number, |&d| hasher.hash_one(id_of(ids, docs, d)));
        self.live += 1;
        number
    }

    fn remove_doc(&mut self, doc: u32) {
        let (ids, docs, hasher) = (&self.ids, &self.docs, &self.hasher);
        let hash = hasher.hash_one(id_of(ids, docs, doc));
        if let Ok(entry) = self.by_id.find_entry(hash, |&d| d == doc) {
            entry.remove();
        }
        let d = &mut self.docs[doc as usize];
        d.live = false;
        self.dead_id_bytes += usize::from(d.id_len);
        self.free_docs.push(doc);
        self.live -= 1;
        if self.dead_id_bytes > 4_096 && self.dead_id_bytes > self.ids.len() / 2 {
            self.compact_ids();
        }
    }

    /// Rewrites the id string without the removed leads' ids.
    fn compact_ids(&mut self) {
        let mut ids = String::with_capacity(self.ids.len() - self.dead_id_bytes);
        for d in self.docs.iter_mut() {
            if d.live {
                let at = d.id_at as usize;
                let id = &self.ids[at..at + usize::from(d.id_len)];
                d.id_at = ids.len() as u32;
                ids.push_str(id);
            } else {
                d.id_len = 0;
                d.id_at = 0;
            }
        }
        self.ids = ids;
        self.dead_id_bytes = 0;
    }

    fn add_posting(&mut self, term: &str, doc: u32) {
        let Some(post) = self.dict.get_mut(term) else {
            self.dict.insert(term, Posting(doc));
            return;
        };
        if post.0 & LIST == 0 {
            let one = post.0;
            if one == doc {
                return;
            }
            let list = if one < doc { vec![one, doc] } else { vec![doc, one] };
            let number = match self.free_lists.pop() {
                Some(n) => {
                    self.lists[n as usize] = list;
                    n
                }
                None => {
                    self.lists.push(list);
                    (self.lists.len() - 1) as u32
                }
            };
            *post = Posting(LIST | number);
        } else {
            let list = &mut self.lists[(post.0 & !LIST) as usize];
            // New leads have the highest numbers: most adds are a push.
            if list.last().is_some_and(|&last| last < doc) {
                list.push(doc);
            } else if let Err(at) = list.binary_search(&doc) {
                list.insert(at, doc);
            }
        }
    }

    fn remove_posting(&mut self, term: &str, doc: u32) {
        let Some(post) = self.dict.get_mut(term) else { return };
        if post.0 & LIST == 0 {
            if post.0 == doc {
                self.dict.remove(term);
            }
            return;
        }
        let number = post.0 & !LIST;
        let list = &mut self.lists[number as usize];
        if let Ok(at) = list.binary_search(&doc) {
            list.remove(at);
        }
        if list.len() <= 1 {
            let last = list.first().copied();
            self.lists[number as usize] = Vec::new();
            self.free_lists.push(number);
            match last {
                Some(one) => *post = Posting(one),
                None => {
                    self.dict.remove(term);
                }
            }
        }
    }

    /// The lead numbers of a posting.
    fn docs_of<'a>(&'a self, post: &'a Posting) -> &'a [u32] {
        if post.0 & LIST == 0 {
            std::slice::from_ref(&post.0)
        } else {
            &self.lists[(post.0 & !LIST) as usize]
        }
    }

    /// The leads that match every one of `words` (read with [`super::query_terms`]), best
    /// first, at most `limit` of them, with how many match in all. A word's matches come from
    /// the postings of the words it is (exact), starts (prefix) and, from
    /// [`super::MIN_SUBSTRING`] characters, is inside of (one scan of the dictionary's text).
    pub fn search(&self, words: &[String], limit: usize) -> SearchHits {
        if words.is_empty() || self.live == 0 {
            return SearchHits::default();
        }
        // The best match of the current word for each lead it touched (NONE for the others,
        // put back after each word), and the leads every word so far matched, with their
        // worst match and the sum: the work is the postings read, not the number of leads.
        let mut best = vec![NONE; self.docs.len()];
        let mut touched: Vec<u32> = Vec::new();
        let mut found: Vec<(u32, u8, u8)> = Vec::new();
        for (i, word) in words.iter().enumerate() {
            let mut mark = |post: &Posting, m: Match| {
                for &d in self.docs_of(post) {
                    let b = &mut best[d as usize];
                    if *b == NONE {
                        touched.push(d);
                    }
                    *b = (*b).min(m as u8);
                }
            };
            self.dict.for_prefixed(word, |term, post| {
                mark(post, if term.len() == word.len() { Match::Exact } else { Match::Prefix })
            });
            if substring_allowed(word) {
                self.dict.for_containing(word, |_, post| mark(post, Match::Substring));
            }
            if i == 0 {
                found = touched.iter().map(|&d| (d, best[d as usize], best[d as usize])).collect();
            } else {
                found.retain_mut(|(d, worst, sum)| {
                    let b = best[*d as usize];
                    *worst = (*worst).max(b);
                    *sum = sum.saturating_add(b);
                    b != NONE
                });
            }
            for d in touched.drain(..) {
                best[d as usize] = NONE;
            }
            if found.is_empty() {
                break;
            }
        }
        let as_match = |m: u8| match m {
            0 => Match::Exact,
            1 => Match::Prefix,
            _ => Match::Substring,
        };
        let mut hits: Vec<(Rank, u32)> = found
            .into_iter()
            .filter(|&(d, _, _)| self.docs[d as usize].live)
            .map(|(d, worst, sum)| {
                let inverse_score = u8::MAX - self.docs[d as usize].score;
                (Rank { worst: as_match(worst), sum, inverse_score }, d)
            })
            .collect();
        let total = hits.len();
        let order =
            |a: &(Rank, u32), b: &(Rank, u32)| a.0.cmp(&b.0).then_with(|| self.id(a.1).cmp(self.id(b.1)));
        if limit == 0 {
            hits.clear();
        } else if hits.len() > limit {
            hits.select_nth_unstable_by(limit - 1, order);
            hits.truncate(limit);
        }
        hits.sort_unstable_by(order);
        SearchHits { total, hits: hits.into_iter().map(|(rank, d)| (self.id(d).to_owned(), rank)).collect() }
    }

    /// What it holds, as plain maps: each word with its leads' ids (sorted), and each lead's
    /// score. Two indexes of the same leads have the same contents, however they were built.
    pub fn contents(&self) -> (BTreeMap<String, Vec<String>>, BTreeMap<String, u8>) {
        let mut terms = BTreeMap::new();
        self.dict.for_each(|term, post| {
            let mut ids: Vec<String> = self.docs_of(post).iter().map(|&d| self.id(d).to_owned()).collect();
            ids.sort_unstable();
            terms.insert(term.to_owned(), ids);
        });
        let scores = (0..self.docs.len() as u32)
            .filter(|&d| self.docs[d as usize].live)
            .map(|d| (self.id(d).to_owned(), self.docs[d as usize].score))
            .collect();
        (terms, scores)
    }

    /// Every lead's entry, in lead-number order: what [`SearchIndex::from_entries`] builds the
    /// same index from (the store's snapshot of it at shutdown).
    pub fn entries(&self) -> Vec<SearchEntry> {
        let mut terms: Vec<Vec<String>> = vec![Vec::new(); self.docs.len()];
        self.dict.for_each(|term, post| {
            for &d in self.docs_of(post) {
                terms[d as usize].push(term.to_owned());
            }
        });
        (0..self.docs.len())
            .filter(|&d| self.docs[d].live)
            .map(|d| SearchEntry {
                id: self.id(d as u32).to_owned(),
                score: self.docs[d].score,
                // The dictionary is walked in order, so each lead's words come sorted.
                terms: std::mem::take(&mut terms[d]),
            })
            .collect()
    }

    /// The memory it holds, in bytes (its allocations' sizes).
    pub fn heap_bytes(&self) -> usize {
        self.dict.heap_bytes()
            + self.lists.iter().map(|l| 4 * l.capacity()).sum::<usize>()
            + self.lists.capacity() * std::mem::size_of::<Vec<u32>>()
            + 4 * self.free_lists.capacity()
            + self.docs.capacity() * std::mem::size_of::<Doc>()
            + 4 * self.free_docs.capacity()
            + self.ids.capacity()
            + self.by_id.capacity() * (4 + 1)
    }

    /// Gives back the spare capacity of its growing vectors (after the first build).
    pub fn shrink_to_fit(&mut self) {
        for l in &mut self.lists {
            l.shrink_to_fit();
        }
        self.lists.shrink_to_fit();
        self.docs.shrink_to_fit();
        self.ids.shrink_to_fit();
        self.dict.shrink_to_fit();
        let (ids, docs, hasher) = (&self.ids, &self.docs, &self.hasher);
        self.by_id.shrink_to_fit(|&d| hasher.hash_one(id_of(ids, docs, d)));
    }
}
