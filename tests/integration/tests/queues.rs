//! Queue lengths are exact and every row is within reach (issue #12): on a location of more
//! than a thousand leads that keeps changing, after edits and syncs, each queue's length in
//! `status` equals the rows `leadline queue NAME --offset N` pages out, and `all` holds every
//! stored contact.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;

use leadline_integration::*;
use serde_json::Value;

const QUEUES: [&str; 6] = ["speed-to-lead", "hot", "needs-reply", "due", "dormant", "all"];
/// Rows per `leadline queue` call: several pages for `all`.
const PAGE: usize = 250;

/// Each queue's length as `status` gives it.
fn lengths(daemon: &Daemon) -> Vec<(String, u64)> {
    let status = json(&daemon.leadline(&["status", "--json"]));
    let queues =
        status["queues"].as_array().unwrap_or_else(|| panic!("status has no queue lengths: {status}"));
    queues.iter().map(|q| (q["name"].as_str().unwrap().to_owned(), q["total"].as_u64().unwrap())).collect()
}

/// Every lead of a queue, page by page.
fn page_through(daemon: &Daemon, queue: &str) -> Vec<String> {
    let mut ids = Vec::new();
    loop {
        let offset = ids.len().to_string();
        let limit = PAGE.to_string();
        let out = daemon.leadline(&["queue", queue, "--json", "--offset", &offset, "--limit", &limit]);
        let page = json(&out);
        let page = page.as_array().unwrap();
        ids.extend(page.iter().map(|l| l["id"].as_str().unwrap().to_owned()));
        if page.len() < PAGE {
            return ids;
        }
    }
}

/// The recount: each queue paged out in full has exactly the length `status` gives, and no
/// lead twice; `all` holds every stored contact. The time-bound queues can gain or lose a
/// lead between the two reads, so a mismatch is read again (a wrong count stays wrong).
fn assert_lengths_match_a_recount(daemon: &Daemon, after: &str) -> u64 {
    let mut last = String::new();
    for _ in 0..3 {
        let before = lengths(daemon);
        let names: Vec<&str> = before.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, QUEUES, "status lists the built-in queues in tab order");
        let paged: Vec<(String, u64)> = QUEUES
            .iter()
            .map(|q| {
                let ids = page_through(daemon, q);
                let unique: BTreeSet<&String> = ids.iter().collect();
                assert_eq!(unique.len(), ids.len(), "{q} after {after}: a lead twice in its pages");
                (q.to_string(), ids.len() as u64)
            })
            .collect();
        let contacts = json(&daemon.leadline(&["status", "--json"]))["counts"]["contacts"].as_u64().unwrap();
        if paged == before && lengths(daemon) == before {
            let all = before[5].1;
            assert_eq!(all, contacts, "all after {after}: every stored contact");
            return all;
        }
        last = format!("status said {before:?}, the pages held {paged:?}");
    }
    panic!("after {after}: {last}");
}

#[test]
fn queue_lengths_match_a_recount_after_edits_and_syncs() {
    let sim = Sim::start(ghl_sim::SimConfig {
        contacts: 1_200,
        seed: 31,
        // Leads arrive and reply on their own while the test edits and syncs.
        activity: true,
        activity_interval_ms: 100,
        search_lag_ms: 300,
        ..ghl_sim::SimConfig::default()
    });
    let dir = short_tempdir();
    // The daemon writes only when asked to sync, so a recount reads a still store.
    sim.write_config(dir.path(), "[followups]\nenabled = false\n");
    let daemon = sim.daemon(dir.path());
    sync_until_ok(&daemon, true);
    let first = assert_lengths_match_a_recount(&daemon, "the first full sync");
    assert!(first >= 1_200, "`all` is more than a page of the CLI: {first}");

    let mut tagged = 0;
    for round in 0..3 {
        // Edits, on leads far down `all` (past the first page).
        let far = json(&daemon.leadline(&["queue", "all", "--json", "--offset", "700", "--limit", "5"]));
        for lead in far.as_array().unwrap() {
            let id = lead["id"].as_str().unwrap();
            let out = daemon.leadline(&["tag", id, &format!("round-{round}")]);
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            let out = daemon.leadline(&["note", id, "Called, left a voicemail"]);
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            tagged += 1;
        }
        assert_lengths_match_a_recount(&daemon, &format!("round {round}'s edits"));
        // The location moved on meanwhile: new leads, replies, deals.
        std::thread::sleep(std::time::Duration::from_millis(800));
        sync_until_ok(&daemon, false);
        assert_lengths_match_a_recount(&daemon, &format!("round {round}'s sync"));
    }
    assert_eq!(tagged, 15);
    sync_until_ok(&daemon, true);
    let last = assert_lengths_match_a_recount(&daemon, "a full sync over live activity");
    assert!(last > first, "new leads arrived and were counted: {first} then {last}");
    let needs_reply = lengths(&daemon)[2].1;
    assert!(needs_reply > 0, "leads replied and wait for an answer");
    let offset_past_the_end = json(&daemon.leadline(&["queue", "all", "--json", "--offset", "1000000"]));
    assert_eq!(offset_past_the_end, Value::Array(Vec::new()));
}
