//! The words of leads and queries, the ranking, and the index against a brute-force search.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

fn lead(
    id: &str,
    name: &str,
    email: Option<&str>,
    phone: Option<&str>,
    tags: &[&str],
    score: u8,
) -> LeadSummary {
    LeadSummary {
        id: id.into(),
        name: name.into(),
        email: email.map(Into::into),
        phone: phone.map(Into::into),
        tags: strings(tags),
        score,
        ..LeadSummary::default()
    }
}

#[test]
fn words_are_lowercased_split_at_marks_and_joined_at_apostrophes() {
    let w: Vec<String> = words("Mary-Jane O'Brien  ÉLODIE d’Arc").collect();
    assert_eq!(w, ["mary", "jane", "obrien", "élodie", "darc"]);
    let w: Vec<String> = words("maria.gonzalez42@Gmail.com").collect();
    assert_eq!(w, ["maria", "gonzalez42", "gmail", "com"]);
    assert_eq!(words("  -- ").count(), 0);
    let long = "x".repeat(40) + "é";
    assert_eq!(words(&long).next().unwrap().len(), MAX_TERM_BYTES);
    // A cut never splits a character.
    let accents = "é".repeat(20);
    let cut = words(&accents).next().unwrap();
    assert_eq!(cut, "é".repeat(16));
}

#[test]
fn phones_are_their_digits_without_the_us_country_code() {
    for written in ["+1 (512) 555-0100", "+15125550100", "15125550100", "(512) 555-0100", "512.555.0100"] {
        assert_eq!(phone_digits(written).as_deref(), Some("5125550100"), "{written}");
    }
    assert_eq!(phone_digits("+44 20 7946 0958").as_deref(), Some("442079460958"));
    assert_eq!(phone_digits("12").as_deref(), None);
    assert_eq!(phone_digits("+1 512").as_deref(), Some("512"), "the start of a +1 number");
}

#[test]
fn a_query_is_a_phone_number_or_words() {
    assert_eq!(query_terms("555 123"), ["555123"]);
    assert_eq!(query_terms(" (512) 555-0100 "), ["5125550100"]);
    assert_eq!(query_terms("+1 512-555"), ["512555"]);
    assert_eq!(query_terms("1-512-555-0100"), ["5125550100"]);
    assert_eq!(query_terms("Maria  GONZALEZ maria"), ["maria", "gonzalez"], "repeats dropped");
    assert_eq!(query_terms("12"), ["12"], "too short for a phone: a word");
    assert_eq!(query_terms("first-time buyer"), ["first", "time", "buyer"]);
    assert!(query_terms("  ()- ").is_empty());
    assert_eq!(query_terms("a b c d e f g h i j").len(), MAX_QUERY_TERMS);
}

#[test]
fn a_lead_is_found_by_its_name_email_tags_and_phone() {
    let l = lead(
        "c1",
        "Maria Gonzalez",
        Some("maria.g@example.com"),
        Some("+1 512 555 0100"),
        &["Pre-Approved", "first-time buyer"],
        50,
    );
    let mut expected = strings(&[
        "maria",
        "gonzalez",
        "g",
        "example",
        "com",
        "pre",
        "approved",
        "first",
        "time",
        "buyer",
        "5125550100",
    ]);
    expected.sort();
    assert_eq!(SearchEntry::of(&l).terms, expected);
}

#[test]
fn matches_are_exact_prefix_or_inside_from_three_characters() {
    assert_eq!(classify("smith", "smith"), Some(Match::Exact));
    assert_eq!(classify("smithson", "smith"), Some(Match::Prefix));
    assert_eq!(classify("goldsmith", "smith"), Some(Match::Substring));
    assert_eq!(classify("goldsmith", "it"), None, "two letters only at the start");
    assert_eq!(classify("5125550100", "5550100"), Some(Match::Substring), "a number without its area code");
    assert_eq!(classify("smith", "smithson"), None);
}

#[test]
fn exact_beats_prefix_beats_inside_then_the_better_score() {
    let terms = |s: &[&str]| strings(s);
    let q = strings(&["smith"]);
    let exact_low = rank(&terms(&["smith"]), 10, &q).unwrap();
    let prefix_high = rank(&terms(&["smithson"]), 99, &q).unwrap();
    let inside_high = rank(&terms(&["goldsmith"]), 99, &q).unwrap();
    let exact_high = rank(&terms(&["smith"]), 90, &q).unwrap();
    assert!(exact_high < exact_low && exact_low < prefix_high && prefix_high < inside_high);
    // Every word must match.
    assert_eq!(rank(&terms(&["maria", "smith"]), 50, &strings(&["maria", "jones"])), None);
    // The worst word decides first, then the sum.
    let both_prefix = rank(&terms(&["mariah", "smithson"]), 50, &strings(&["maria", "smith"])).unwrap();
    let exact_and_inside = rank(&terms(&["maria", "goldsmith"]), 50, &strings(&["maria", "smith"])).unwrap();
    assert!(both_prefix < exact_and_inside);
    assert_eq!(rank(&terms(&["maria"]), 50, &[]), None);
}

#[test]
fn the_index_finds_by_name_phone_email_and_tag_and_ranks() {
    let leads = [
        lead("a", "Maria Gonzalez", Some("maria@example.com"), Some("+15125550100"), &["Buyer"], 40),
        lead("b", "Mariah Smith", Some("ms@gmail.com"), Some("+15125550199"), &["Seller", "Open House"], 80),
        lead("c", "Tom Goldsmith", None, Some("(737) 555-0100"), &["Buyer", "pre-approved"], 60),
        lead("d", "Maria Lopez", Some("lopez@example.com"), None, &[], 90),
    ];
    let entries: Vec<SearchEntry> = leads.iter().map(SearchEntry::of).collect();
    let index = SearchIndex::from_entries(&entries);
    let ids = |q: &str| -> Vec<String> {
        index.search(&query_terms(q), 10).hits.into_iter().map(|(id, _)| id).collect()
    };
    assert_eq!(ids("maria"), ["d", "a", "b"], "exact by score, then the prefix");
    assert_eq!(ids("(512) 555-0100"), ["a"]);
    assert_eq!(ids("512 555"), ["b", "a"], "both numbers start so; the better score first");
    assert_eq!(ids("555-0100"), ["c", "a"], "inside the number, by score");
    assert_eq!(ids("smith"), ["b", "c"], "exact, then inside goldsmith");
    assert_eq!(ids("open house"), ["b"]);
    assert_eq!(ids("pre-approved"), ["c"]);
    assert_eq!(ids("BUYER maria"), ["a"]);
    assert_eq!(ids("gmail"), ["b"]);
    assert!(ids("zebra").is_empty());
    let hits = index.search(&query_terms("maria"), 1);
    assert_eq!((hits.total, hits.hits.len()), (3, 1), "the total counts past the limit");
    assert_eq!(index.search(&query_terms("maria"), 0).total, 3);
}

#[test]
fn the_index_follows_edits_and_removals() {
    let mut index = SearchIndex::new();
    let before = SearchEntry::of(&lead("a", "Maria Gonzalez", None, Some("+15125550100"), &["Buyer"], 40));
    index.apply(None, Some(&before));
    let after = SearchEntry::of(&lead("a", "Maria Lopez", None, Some("+17375550100"), &["Seller"], 70));
    index.apply(Some(&before), Some(&after));
    let found = |index: &SearchIndex, q: &str| index.search(&query_terms(q), 5).total;
    assert_eq!(found(&index, "gonzalez"), 0);
    assert_eq!(found(&index, "buyer"), 0);
    assert_eq!(found(&index, "lopez"), 1);
    assert_eq!(found(&index, "737 555"), 1);
    assert_eq!(index.search(&query_terms("maria"), 5).hits[0].1.inverse_score, 255 - 70);
    index.apply(Some(&after), None);
    assert_eq!((index.len(), index.terms()), (0, 0));
    assert_eq!(found(&index, "maria"), 0);
}

/// A small vocabulary, so that random leads share words, prefixes and insides.
const NAMES: [&str; 12] = [
    "Ann",
    "Anna",
    "Annabel",
    "Joann",
    "Smith",
    "Goldsmith",
    "Smithers",
    "Lee",
    "Leeann",
    "Bo",
    "Boone",
    "O'Neil",
];
const TAGS: [&str; 6] = ["Buyer", "Seller", "Open House", "pre-approved", "VIP", "buyers"];
const QUERY_WORDS: [&str; 14] =
    ["ann", "an", "anna", "smith", "mit", "lee", "bo", "oneil", "buyer", "house", "vip", "555", "0100", "12"];

#[derive(Debug, Clone)]
enum Op {
    Put {
        id: u8,
        first: u8,
        last: u8,
        phone: Option<u16>,
        email: bool,
        tags: Vec<u8>,
        score: u8,
    },
    /// The lead's row again with another score (a rescore), when it is there.
    Rescore {
        id: u8,
        score: u8,
    },
    Remove(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (
            0u8..40,
            0u8..12,
            0u8..12,
            proptest::option::of(0u16..300),
            any::<bool>(),
            proptest::collection::vec(0u8..6, 0..3),
            0u8..=100,
        )
            .prop_map(|(id, first, last, phone, email, tags, score)| Op::Put {
                id, first, last, phone, email, tags, score
            }),
        2 => (0u8..40, 0u8..=100).prop_map(|(id, score)| Op::Rescore { id, score }),
        1 => (0u8..40).prop_map(Op::Remove),
    ]
}

fn lead_of(op: &Op) -> Option<LeadSummary> {
    let Op::Put { id, first, last, phone, email, tags, score } = op else { return None };
    let (first, last) = (NAMES[*first as usize], NAMES[*last as usize]);
    Some(LeadSummary {
        id: format!("c{id:02}"),
        name: format!("{first} {last}"),
        phone: phone.map(|p| format!("+1 512 5{:02} {:04}", p % 100, 100 + p)),
        email: email.then(|| format!("{}.{}@example.com", first.to_lowercase(), last.to_lowercase())),
        tags: tags.iter().map(|t| TAGS[*t as usize].to_owned()).collect(),
        score: *score,
        ..LeadSummary::default()
    })
}

/// The reference: every lead against every query word, sorted by rank then id.
fn brute_force(leads: &BTreeMap<String, SearchEntry>, words: &[String], limit: usize) -> SearchHits {
    let mut hits: Vec<(String, Rank)> =
        leads.values().filter_map(|e| rank(&e.terms, e.score, words).map(|r| (e.id.clone(), r))).collect();
    hits.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
    let total = hits.len();
    hits.truncate(limit);
    SearchHits { total, hits }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn the_index_answers_as_a_brute_force_search_after_any_edits(
        ops in proptest::collection::vec(op(), 1..80),
        queries in proptest::collection::vec(
            (proptest::collection::vec(0usize..QUERY_WORDS.len(), 1..3), 1usize..8),
            1..12,
        ),
    ) {
        // The index hears of each row change as the store tells it (`SearchEntry::change`);
        // the reference is every row's full entry.
        let mut index = SearchIndex::new();
        let mut rows: BTreeMap<String, LeadSummary> = BTreeMap::new();
        for op in &ops {
            let (id, new) = match op {
                Op::Remove(id) => (format!("c{id:02}"), None),
                Op::Rescore { id, score } => {
                    let id = format!("c{id:02}");
                    let new = rows.get(&id).map(|l| LeadSummary { score: *score, ..l.clone() });
                    (id, new)
                }
                put => {
                    let l = lead_of(put).expect("a put");
                    (l.id.clone(), Some(l))
                }
            };
            if let Some((was, now)) = SearchEntry::change(rows.get(&id), new.as_ref()) {
                index.apply(was.as_ref(), now.as_ref());
            }
            match new {
                Some(new) => rows.insert(id, new),
                None => rows.remove(&id),
            };
        }
        let model: BTreeMap<String, SearchEntry> =
            rows.iter().map(|(id, l)| (id.clone(), SearchEntry::of(l))).collect();
        prop_assert_eq!(index.len(), model.len());
        let fresh = SearchIndex::from_entries(model.values());
        prop_assert_eq!(index.contents(), fresh.contents(), "kept = built afresh");
        for (picked, limit) in &queries {
            let text: Vec<&str> = picked.iter().map(|&i| QUERY_WORDS[i]).collect();
            let words = query_terms(&text.join(" "));
            prop_assert_eq!(index.search(&words, *limit), brute_force(&model, &words, *limit), "query {:?}", words);
        }
    }
}

#[test]
fn stays_compact_at_100k_leads() {
    // Names from a vocabulary as a location has them, one phone and one email each, a few tags.
    const FIRST: [&str; 8] = ["Maria", "James", "Aisha", "Robert", "Linh", "Carlos", "Emily", "Darnell"];
    let mut index = SearchIndex::new();
    let n = 100_000u32;
    let lead = |i: u32| {
        let first = FIRST[(i % 8) as usize];
        let last = format!("Surname{}", i % 3_000);
        let l = LeadSummary {
            id: format!("{:020x}", u64::from(i).wrapping_mul(0x9E37_79B9_7F4A_7C15)),
            name: format!("{first} {last}"),
            email: Some(format!("{}.{}{}@gmail.com", first.to_lowercase(), last.to_lowercase(), i % 97)),
            phone: Some(format!("+1{}", 2_000_000_000u64 + u64::from(i) * 7_919)),
            tags: vec![["Buyer", "Seller"][(i % 2) as usize].into(), "Zillow".into()],
            score: (i % 101) as u8,
            ..LeadSummary::default()
        };
        SearchEntry::of(&l)
    };
    for i in 0..n {
        index.apply(None, Some(&lead(i)));
    }
    index.shrink_to_fit();
    let bytes = index.heap_bytes();
    // About 10 MB here: 4.3 the dictionary (200 k words), 2.6 the lists, 2 the ids, 1.4 the rest.
    assert!(bytes < 12 << 20, "{} MB for {} words", bytes >> 20, index.terms());
    let words = query_terms("maria surname12");
    let expected = (0..n).filter(|&i| {
        let e = lead(i);
        rank(&e.terms, e.score, &words).is_some()
    });
    let hits = index.search(&words, 5);
    assert_eq!(hits.total, expected.count());
    assert!(
        hits.total > 5 && hits.hits.iter().all(|(_, r)| r.worst == Match::Exact || r.worst == Match::Prefix)
    );
}

#[test]
fn the_entries_build_the_same_index_again() {
    let entries: Vec<SearchEntry> = (0..300)
        .map(|i| SearchEntry {
            id: format!("c{i}"),
            score: (i % 100) as u8,
            terms: lead_terms(&format!("Lead {} Name{}", i % 7, i % 13), None, Some("+15125550100"), &[]),
        })
        .collect();
    let mut index = SearchIndex::from_entries(&entries);
    // Removed leads' numbers are given again, so the numbers are not the ids' order.
    for e in entries.iter().step_by(3) {
        index.apply(Some(e), None);
    }
    index.apply(None, Some(&entries[0]));
    let again = SearchIndex::from_entries(&index.entries());
    assert_eq!(again.contents(), index.contents());
    assert_eq!(again.len(), index.len());
}
