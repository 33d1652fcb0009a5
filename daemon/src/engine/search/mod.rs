//! Lead search: the words a lead is found by, how a query is read, and how a match ranks.
//!
//! A lead is found by the words of its name, email and tags and by its phone's digits
//! ([`lead_terms`]). A query is read the same way ([`query_terms`]), except that a query that
//! looks like a phone number ("555 123", "(555) 123-4567", "+1 555-123-4567") is one run of
//! digits. A lead matches when every query word matches one of its words, exactly, as the
//! start of it, or (from [`MIN_SUBSTRING`] characters) anywhere in it ([`classify`]). Leads
//! rank by their worst word's match, then by all their words' matches, then best score first
//! ([`Rank`]).
//!
//! [`SearchIndex`] answers queries from postings kept up to date as rows are written; the
//! rules here are also the brute-force reference it is tested against ([`rank`]).

mod dict;
mod index;

pub use index::{SearchHits, SearchIndex};

use leadline_shared::domain::LeadSummary;
use serde::{Deserialize, Serialize};

/// The longest word kept, in bytes: a longer word is cut at a character boundary, in leads
/// and queries alike, so it still matches itself.
pub const MAX_TERM_BYTES: usize = 32;
/// The most words of a query that are searched for; the rest are ignored.
pub const MAX_QUERY_TERMS: usize = 8;
/// A query word of fewer characters matches only at the start of a lead's word: two letters
/// found anywhere match most of a location.
pub const MIN_SUBSTRING: usize = 3;
/// A run of fewer digits is not read as a phone number.
const MIN_PHONE_DIGITS: usize = 3;

/// How a query word matches a lead's word, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Match {
    /// The same word.
    Exact = 0,
    /// The start of the word.
    Prefix = 1,
    /// Inside the word.
    Substring = 2,
}

/// How a query word matches a lead's word, if at all.
pub fn classify(term: &str, word: &str) -> Option<Match> {
    if term == word {
        Some(Match::Exact)
    } else if term.starts_with(word) {
        Some(Match::Prefix)
    } else if substring_allowed(word) && term.contains(word) {
        Some(Match::Substring)
    } else {
        None
    }
}

/// Whether a query word may match inside a lead's word.
pub fn substring_allowed(word: &str) -> bool {
    word.chars().nth(MIN_SUBSTRING - 1).is_some()
}

/// Where a matching lead ranks: compare with `Ord`, smaller first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Rank {
    /// The worst match among the query's words.
    pub worst: Match,
    /// The query's words' matches added up (`Exact` 0, `Prefix` 1, `Substring` 2).
    pub sum: u8,
    /// The lead's score, inverted so that the best score sorts first.
    pub inverse_score: u8,
}

impl Rank {
    /// A rank from the best match of each query word and the lead's score.
    pub fn new(matches: impl IntoIterator<Item = Match>, score: u8) -> Option<Rank> {
        let mut worst = None;
        let mut sum = 0u8;
        for m in matches {
            worst = worst.max(Some(m));
            sum = sum.saturating_add(m as u8);
        }
        Some(Rank { worst: worst?, sum, inverse_score: u8::MAX - score })
    }
}

/// How a lead with `terms` ranks for a query's `words`, by trying every pair: the reference
/// the index is checked against. `None` when some word matches none of the terms (or there
/// are no words).
pub fn rank(terms: &[String], score: u8, words: &[String]) -> Option<Rank> {
    let best: Option<Vec<Match>> =
        words.iter().map(|w| terms.iter().filter_map(|t| classify(t, w)).min()).collect();
    Rank::new(best?, score)
}

/// A lead as the index holds it: its id, its score and the words it is found by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchEntry {
    pub id: String,
    pub score: u8,
    /// Sorted, without repeats.
    pub terms: Vec<String>,
}

impl SearchEntry {
    /// A lead's entry from its row.
    pub fn of(lead: &LeadSummary) -> SearchEntry {
        SearchEntry {
            id: lead.id.clone(),
            score: lead.score,
            terms: lead_terms(&lead.name, lead.email.as_deref(), lead.phone.as_deref(), &lead.tags),
        }
    }

    /// What the index must hear of a change of a lead's row, as the `(old, new)` of
    /// [`SearchIndex::apply`]: nothing when neither its words nor its score moved; when only
    /// its score moved (a rescore, a new message), two entries without words, which move the
    /// score and touch no word, so the words are not worked out twice for nothing.
    pub fn change(
        old: Option<&LeadSummary>,
        new: Option<&LeadSummary>,
    ) -> Option<(Option<SearchEntry>, Option<SearchEntry>)> {
        if let (Some(o), Some(n)) = (old, new)
            && o.id == n.id
            && o.name == n.name
            && o.email == n.email
            && o.phone == n.phone
            && o.tags == n.tags
        {
            let bare = |l: &LeadSummary| SearchEntry { id: l.id.clone(), score: l.score, terms: Vec::new() };
            return (o.score != n.score).then(|| (Some(bare(o)), Some(bare(n))));
        }
        let (was, now) = (old.map(SearchEntry::of), new.map(SearchEntry::of));
        (was != now).then_some((was, now))
    }
}

/// The words a lead is found by, sorted and without repeats: the words of its name, email
/// and tags, and its phone's digits (without the US country code, so that the number as
/// people write it at home matches from its start).
pub fn lead_terms(name: &str, email: Option<&str>, phone: Option<&str>, tags: &[String]) -> Vec<String> {
    let mut terms: Vec<String> = words(name).collect();
    terms.extend(email.into_iter().flat_map(words));
    terms.extend(tags.iter().flat_map(|t| words(t)));
    terms.extend(phone.and_then(phone_digits));
    terms.sort_unstable();
    terms.dedup();
    terms
}

/// The words a query searches for, in order, without repeats, at most [`MAX_QUERY_TERMS`].
/// A query made only of digits and the marks phone numbers are written with is one run of
/// digits; otherwise the query's words, read like a lead's.
pub fn query_terms(query: &str) -> Vec<String> {
    let query = query.trim();
    if let Some(digits) = phone_query(query) {
        return vec![digits];
    }
    let mut out: Vec<String> = Vec::new();
    for w in words(query) {
        if !out.contains(&w) {
            out.push(w);
        }
        if out.len() == MAX_QUERY_TERMS {
            break;
        }
    }
    out
}

/// A query that is a phone number as people write it, as its digits.
fn phone_query(query: &str) -> Option<String> {
    let phone_like = query.chars().all(|c| c.is_ascii_digit() || " ()-.+/".contains(c));
    if !phone_like {
        return None;
    }
    phone_digits(query)
}

/// The digits of a phone number, without the US country code (`+1 512 555 0100` and
/// `(512) 555-0100` are both `5125550100`): the code is dropped when there are eleven digits
/// starting with 1, or when the number is written `+1…` (a query may be the start of one).
/// `None` for fewer than [`MIN_PHONE_DIGITS`] digits.
pub fn phone_digits(phone: &str) -> Option<String> {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    let national = match digits.strip_prefix('1') {
        Some(rest) if digits.len() == 11 || phone.trim_start().starts_with("+1") => rest,
        _ => &digits,
    };
    (national.len() >= MIN_PHONE_DIGITS).then(|| cut(national.to_owned()))
}

/// The words of a text, lowercased: letters and digits, split at anything else, except that
/// apostrophes join ("O'Brien" is "obrien"). Each is cut to [`MAX_TERM_BYTES`].
pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !(c.is_alphanumeric() || is_apostrophe(c)))
        .map(|w| {
            // Most words are plain ASCII letters and digits: lowercased in one copy.
            if w.bytes().all(|b| b.is_ascii_alphanumeric()) {
                w.to_ascii_lowercase()
            } else {
                w.chars().filter(|c| !is_apostrophe(*c)).flat_map(char::to_lowercase).collect::<String>()
            }
        })
        .filter(|w| !w.is_empty())
        .map(cut)
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '’' | '`')
}

/// `word` cut to at most [`MAX_TERM_BYTES`], at a character boundary.
fn cut(mut word: String) -> String {
    if word.len() > MAX_TERM_BYTES {
        let mut end = MAX_TERM_BYTES;
        while !word.is_char_boundary(end) {
            end -= 1;
        }
        word.truncate(end);
    }
    word
}

#[cfg(test)]
mod tests;
