//! `leadline search` from the real binaries after a full sync of more than one page of
//! contacts: by name, by phone written another way than GHL writes it, and by tag, each
//! against a brute-force search over the daemon's own rows with the rules spelled out here;
//! and a lead the simulated location gains while the daemon runs is found once the fast poll
//! brings it in.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use leadline_integration::*;
use serde_json::Value;

/// A text's words as search reads them: lowercased, apostrophes dropped, split at anything
/// that is not a letter or digit.
fn words(text: &str) -> Vec<String> {
    text.replace(['\'', '’'], "")
        .to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A phone's digits without the US country code.
fn digits(phone: &str) -> String {
    let d: String = phone.chars().filter(char::is_ascii_digit).collect();
    if d.len() == 11 && d.starts_with('1') { d[1..].to_owned() } else { d }
}

/// The words a lead row is found by.
fn terms(row: &Value) -> Vec<String> {
    let s = |k: &str| row[k].as_str().unwrap_or("");
    let mut t = words(s("name"));
    t.extend(words(s("email")));
    for tag in row["tags"].as_array().unwrap() {
        t.extend(words(tag.as_str().unwrap()));
    }
    if !s("phone").is_empty() {
        t.push(digits(s("phone")));
    }
    t
}

/// The ids of the rows every query word matches: as a word, its start, or (three characters
/// and more) inside it.
fn brute_force(rows: &[Value], query: &[String]) -> BTreeSet<String> {
    rows.iter()
        .filter(|row| {
            let terms = terms(row);
            query.iter().all(|q| {
                terms.iter().any(|t| t.starts_with(q.as_str()) || (q.len() >= 3 && t.contains(q.as_str())))
            })
        })
        .map(|row| row["id"].as_str().unwrap().to_owned())
        .collect()
}

fn search(daemon: &Daemon, query: &str) -> Value {
    json(&daemon.leadline(&["search", query, "--limit", "1000", "--json"]))
}

fn ids(found: &Value) -> BTreeSet<String> {
    found["rows"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap().to_owned()).collect()
}

/// Checks one query against the brute force; returns the answer.
fn check(daemon: &Daemon, rows: &[Value], query: &str) -> Value {
    let found = search(daemon, query);
    let terms: Vec<String> =
        found["terms"].as_array().unwrap().iter().map(|t| t.as_str().unwrap().to_owned()).collect();
    let expected = brute_force(rows, &terms);
    assert_eq!(ids(&found), expected, "{query:?} (read as {terms:?})");
    assert_eq!(found["total"].as_u64().unwrap(), expected.len() as u64, "{query:?}");
    assert!(!expected.is_empty(), "{query:?} finds someone");
    found
}

#[test]
fn finds_leads_by_name_phone_and_tag_and_a_new_lead_as_it_arrives() {
    // More than one page of contacts (GHL lists 500 a page).
    let sim =
        Sim::start(ghl_sim::SimConfig { contacts: 1_100, seed: 11, search_lag_ms: 0, ..Default::default() });
    let dir = short_tempdir();
    sim.write_config_with_sync(
        dir.path(),
        "fast_poll_secs = 2\ninterval_secs = 3600\n",
        "[followups]\nenabled = false\n",
    );
    let daemon = sim.daemon(dir.path());
    sync_until_ok(&daemon, true);
    let all = json(&daemon.leadline(&["queue", "all", "--limit", "5000", "--json"]));
    let rows = all.as_array().unwrap().clone();
    assert!(rows.len() >= 1_100, "{} leads", rows.len());

    // A contact with a phone, an email and a tag, as GHL has it.
    let truth = sim.sim().snapshot();
    let c =
        truth.contacts.iter().find(|c| c.phone.is_some() && c.email.is_some() && c.tags.len() >= 2).unwrap();
    let (first, last) = (c.first_name.clone().unwrap(), c.last_name.clone().unwrap());

    // By name, in any case.
    let found = check(&daemon, &rows, &format!("{} {}", first.to_uppercase(), last.to_lowercase()));
    assert!(ids(&found).contains(&c.id), "{first} {last}");
    check(&daemon, &rows, &first[..3.min(first.len())]);

    // By phone, written as people write it: GHL has +1AAALLLLLLL.
    let phone = c.phone.clone().unwrap();
    let national = digits(&phone);
    let (area, line) = national.split_at(3);
    let written = format!("({area}) {}-{}", &line[..3], &line[3..]);
    let found = check(&daemon, &rows, &written);
    assert_eq!(found["terms"], serde_json::json!([national]));
    assert_eq!(ids(&found), BTreeSet::from([c.id.clone()]), "{written} is one lead's number");
    let found = check(&daemon, &rows, &format!("{area} {}", &line[..3]));
    assert!(ids(&found).contains(&c.id), "the start of the number");
    let found = check(&daemon, &rows, &format!("{}-{}", &line[..3], &line[3..]));
    assert!(ids(&found).contains(&c.id), "the number without its area code");

    // By tag: a tag of two words, and a word of it.
    let tag = c.tags.iter().find(|t| t.contains([' ', '-'])).unwrap_or(&c.tags[0]).clone();
    let found = check(&daemon, &rows, &tag);
    assert!(ids(&found).contains(&c.id), "{tag}");
    check(&daemon, &rows, "open house");
    check(&daemon, &rows, "pre-approved");

    // By email.
    let email = c.email.clone().unwrap();
    assert!(ids(&check(&daemon, &rows, &email)).contains(&c.id), "{email}");

    // A lead arriving in the location is found once the fast poll brings it in.
    let added = sim
        .sim()
        .inject_lead(&serde_json::json!({
            "firstName": "Zebulon",
            "lastName": "Quackenbush",
            "phone": "+17375550987",
            "tags": ["Harborview Listing"],
        }))
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if ids(&search(&daemon, "quackenbush")).contains(&added.id) {
            break;
        }
        assert!(Instant::now() < deadline, "the new lead was never found");
        std::thread::sleep(Duration::from_millis(200));
    }
    for query in ["Zebulon Quackenbush", "737-555-0987", "+1 (737) 555 0987", "harborview", "HARBOR"] {
        assert_eq!(ids(&search(&daemon, query)), BTreeSet::from([added.id.clone()]), "{query}");
    }

    // The human output; and a query with nothing to search for is a usage error.
    let out = daemon.leadline(&["search", "zebulon"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("Zebulon Quackenbush") && text.ends_with("1 lead matching \"zebulon\"\n"),
        "{text}"
    );
    let out = daemon.leadline(&["search", "--", "-()"]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("search by name, phone, email or tag"));
}
