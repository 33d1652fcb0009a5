//! Saved smart lists (issue #10): `leadline queue call-today --json` (the default config's
//! kvCORE-style daily calls) and a list from the test's config page out exactly the leads their
//! filters pass, in their order, over more than one page.

#![allow(clippy::unwrap_used)]

use jiff::Timestamp;
use leadline_integration::*;
use leadline_shared::config::Config;
use leadline_shared::domain::LeadSummary;
use leadline_shared::lists::SmartList;

/// Rows per `leadline queue` call: small, so each list takes several pages.
const PAGE: usize = 40;

const MINE: &str = r#"
[[queues.lists]]
name = "zillow-or-referral"
order = "newest"
any = ["source = \"Zillow\"", "source = 'Referral'"]
not = ["sms_blocked"]
"#;

/// Every lead of a queue, page by page, as rows.
fn page_through(daemon: &Daemon, queue: &str) -> Vec<LeadSummary> {
    let mut rows: Vec<LeadSummary> = Vec::new();
    loop {
        let offset = rows.len().to_string();
        let limit = PAGE.to_string();
        let out = daemon.leadline(&["queue", queue, "--json", "--offset", &offset, "--limit", &limit]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let page: Vec<LeadSummary> = serde_json::from_value(json(&out)).unwrap();
        let n = page.len();
        rows.extend(page);
        if n < PAGE {
            return rows;
        }
    }
}

/// What the list holds, worked out from `all` (priority order) with the list's own filter.
fn expected(all: &[LeadSummary], list: &SmartList, now: Timestamp) -> Vec<String> {
    let mut rows: Vec<&LeadSummary> = all.iter().filter(|l| list.filter.matches(l, now)).collect();
    if list.name == "zillow-or-referral" {
        // Newest first; a stable sort keeps the priority order among leads added together.
        rows.sort_by_key(|l| std::cmp::Reverse(l.date_added));
    }
    rows.into_iter().map(|l| l.id.clone()).collect()
}

/// Pages through `list` and checks it holds what its filter passes in `all`, in its order,
/// over more than one page.
fn assert_pages_match_the_filter(daemon: &Daemon, list: &SmartList) {
    // The time conditions move with the clock: a lead crossing one between the reads is
    // read again (a wrong list stays wrong).
    let mut last = String::new();
    let mut matched = false;
    for _ in 0..3 {
        let now = Timestamp::now();
        let all = page_through(daemon, "all");
        let want = expected(&all, list, now);
        let got: Vec<String> = page_through(daemon, &list.name).into_iter().map(|l| l.id).collect();
        assert!(want.len() > PAGE, "{} holds {} leads: too few to page", list.name, want.len());
        assert!(want.len() < all.len(), "{} filters nothing out", list.name);
        if got == want {
            matched = true;
            break;
        }
        last = format!("{} paged {} leads, the filter passes {}", list.name, got.len(), want.len());
    }
    assert!(matched, "{last}");
}

/// A live location: leads arrive and reply while the daemon syncs. A list read before a sync
/// (its members kept by the daemon) is read afresh after it, with the new leads in place.
#[test]
fn saved_lists_follow_a_location_that_keeps_changing() {
    let sim = Sim::start(ghl_sim::SimConfig {
        contacts: 400,
        seed: 53,
        activity: true,
        activity_interval_ms: 100,
        ..ghl_sim::SimConfig::default()
    });
    let dir = short_tempdir();
    sim.write_config(dir.path(), &format!("[followups]\nenabled = false\n{MINE}"));
    let daemon = sim.daemon(dir.path());
    sync_until_ok(&daemon, true);
    let list = Config::from_overlay(MINE).unwrap().smart_lists().pop().unwrap();
    assert_eq!(list.name, "zillow-or-referral");
    let before = page_through(&daemon, "all").len();
    assert_pages_match_the_filter(&daemon, &list);
    for round in 0..2 {
        std::thread::sleep(std::time::Duration::from_millis(800));
        sync_until_ok(&daemon, round == 1);
        assert_pages_match_the_filter(&daemon, &list);
    }
    let after = page_through(&daemon, "all").len();
    assert!(after > before, "new leads arrived while the lists were read: {before} then {after}");
}

#[test]
fn saved_lists_page_out_the_leads_their_filters_pass() {
    let sim = Sim::start(ghl_sim::SimConfig { contacts: 400, seed: 47, ..ghl_sim::SimConfig::default() });
    let dir = short_tempdir();
    sim.write_config(dir.path(), &format!("[followups]\nenabled = false\n{MINE}"));
    let daemon = sim.daemon(dir.path());
    sync_until_ok(&daemon, true);
    let config = Config::from_overlay(MINE).unwrap();
    let lists = config.smart_lists();
    assert_eq!(
        lists.iter().map(|l| l.name.as_str()).collect::<Vec<_>>(),
        ["call-today", "zillow-or-referral"]
    );
    for list in &lists {
        assert_pages_match_the_filter(&daemon, list);
    }
    let out = daemon.leadline(&["queue", "nope", "--json"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("call-today, zillow-or-referral"), "the error names the saved lists: {err}");
}
