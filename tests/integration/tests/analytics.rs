//! `leadline analytics --json` from the real binaries after a full sync, against a recount
//! from the simulator's own records (`GET /__sim/state`): new leads, won leads, sources,
//! assigned users, calls, open pipeline value, and the 7-day range, over several pages of each
//! listing.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};

use leadline_integration::*;
use serde_json::Value;

/// The simulator's full state.
fn sim_state(sim: &Sim) -> Value {
    let url = format!("{}/__sim/state", sim.sim().base_url());
    sim.runtime.block_on(async { reqwest::get(url).await.unwrap().json::<Value>().await.unwrap() })
}

fn analytics(daemon: &Daemon, range: &str) -> Value {
    let out = daemon.leadline(&["analytics", "--range", range, "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    json(&out)
}

fn funnel(report: &Value) -> Vec<(String, u64)> {
    report["funnel"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["stage"].as_str().unwrap().to_owned(), s["count"].as_u64().unwrap()))
        .collect()
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or("")
}

#[test]
fn analytics_match_a_recount_of_the_simulated_location() {
    // More than one page of every listing (contacts come 500 a page, deals 100, messages 500).
    let sim =
        Sim::start(ghl_sim::SimConfig { contacts: 1_100, seed: 7, search_lag_ms: 0, ..Default::default() });
    let dir = short_tempdir();
    // No follow-up sends: the location stays as the simulator seeded it.
    sim.write_config(dir.path(), "[followups]\nenabled = false\n");
    let daemon = sim.daemon(dir.path());
    sync_until_ok(&daemon, true);

    let truth = sim_state(&sim);
    let contacts = truth["contacts"].as_array().unwrap();
    let opportunities = truth["opportunities"].as_array().unwrap();
    let messages = truth["messages"].as_array().unwrap();
    let report = analytics(&daemon, "all");

    // Funnel: every contact is new; won is a contact with a won deal.
    let f = funnel(&report);
    let names: Vec<&str> = f.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["new", "contacted", "qualified", "appointment", "won"]);
    assert_eq!(f[0].1, contacts.len() as u64, "new = every contact");
    let queue_all = json(&daemon.leadline(&["queue", "all", "--json", "--limit", "5000"]));
    assert_eq!(f[0].1, queue_all.as_array().unwrap().len() as u64, "new = `queue all`");
    let won: BTreeSet<&str> = opportunities
        .iter()
        .filter(|o| str_of(o, "status") == "won")
        .map(|o| str_of(o, "contactId"))
        .collect();
    assert_eq!(f[4].1, won.len() as u64, "won = contacts with a won deal");
    assert!(f[4].1 > 0, "the seeded location has won deals");
    // Contacted: an outbound message that passed between the lead and the team.
    let contacted: BTreeSet<&str> = messages
        .iter()
        .filter(|m| {
            str_of(m, "direction") == "outbound" && !str_of(m, "messageType").starts_with("TYPE_ACTIVITY")
        })
        .map(|m| str_of(m, "contactId"))
        .collect();
    // A lead counts at every stage before the furthest it reached, so a hot lead nobody has
    // written to yet (it answered the questions on a form), or one whose deal GHL moved to a
    // showing, is contacted too. (A location of one page of contacts happened to hold none.)
    let hot = json(&daemon.leadline(&["queue", "hot", "--json", "--limit", "5000"]));
    let hot: BTreeSet<&str> = hot.as_array().unwrap().iter().map(|l| str_of(l, "id")).collect();
    let booked: BTreeSet<&str> = queue_all
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["appointment"].as_bool() == Some(true))
        .map(|l| str_of(l, "id"))
        .collect();
    let reached: BTreeSet<&str> = contacted.iter().chain(&won).chain(&hot).chain(&booked).copied().collect();
    assert_eq!(f[1].1, reached.len() as u64, "contacted (or further)");
    assert_eq!(f[3].1, booked.union(&won).count() as u64, "appointment (or won)");
    assert!(f.windows(2).all(|w| w[0].1 >= w[1].1), "the funnel never widens: {f:?}");

    // Sources and agents: leads per contact source and per assigned user.
    let mut by_source: BTreeMap<String, u64> = BTreeMap::new();
    let mut by_user: BTreeMap<String, u64> = BTreeMap::new();
    for c in contacts {
        let source = str_of(c, "source");
        *by_source.entry(if source.is_empty() { "(none)".into() } else { source.into() }).or_default() += 1;
        *by_user.entry(str_of(c, "assignedTo").into()).or_default() += 1;
    }
    let sources: BTreeMap<String, u64> = report["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["source"].as_str().unwrap().to_owned(), s["leads"].as_u64().unwrap()))
        .collect();
    assert_eq!(sources, by_source);
    let agents: BTreeMap<String, u64> = report["leaderboard"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["user_id"].as_str().unwrap().to_owned(), a["leads"].as_u64().unwrap()))
        .collect();
    assert_eq!(agents, by_user);

    // Calls: GHL's call messages, connected when completed or answered with talk time.
    let calls: Vec<&Value> = messages.iter().filter(|m| str_of(m, "messageType") == "TYPE_CALL").collect();
    let connected: Vec<u64> = calls
        .iter()
        .filter(|m| matches!(str_of(&m["meta"], "callStatus"), "completed" | "answered"))
        .filter_map(|m| str_of(&m["meta"], "callDuration").parse::<u64>().ok())
        .filter(|d| *d > 0)
        .collect();
    assert!(!calls.is_empty(), "the seeded location has calls");
    assert_eq!(report["calls"]["calls"].as_u64().unwrap(), calls.len() as u64);
    assert_eq!(report["calls"]["connected"].as_u64().unwrap(), connected.len() as u64);
    assert_eq!(report["calls"]["talk_seconds"].as_u64().unwrap(), connected.iter().sum::<u64>());

    // Open pipeline value: every open deal's value.
    let open: f64 = opportunities
        .iter()
        .filter(|o| str_of(o, "status") == "open")
        .filter_map(|o| o["monetaryValue"].as_f64())
        .sum();
    let pipeline = report["pipeline_value"].as_f64().unwrap();
    assert!((pipeline - open).abs() < 0.01, "open pipeline {pipeline} vs {open}");
    assert!(report["forecast_total"].as_f64().unwrap() <= pipeline);
    assert!(report["speed_to_lead"]["median_secs"].as_u64().is_some());

    // 7d: the contacts that arrived since the range's first day.
    let week = analytics(&daemon, "7d");
    let since: jiff::Timestamp = week["since"].as_str().unwrap().parse().unwrap();
    let recent = contacts
        .iter()
        .filter(|c| str_of(c, "dateAdded").parse::<jiff::Timestamp>().is_ok_and(|t| t >= since))
        .count() as u64;
    assert_eq!(funnel(&week)[0].1, recent, "7d = contacts added since {since}");
    assert!(recent < contacts.len() as u64);

    // People get the same figures in 80 columns.
    let out = daemon.leadline(&["analytics", "--range", "all"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Funnel") && text.contains("Forecast") && text.contains("Speed to lead"), "{text}");
    assert!(text.lines().all(|l| l.chars().count() <= 80), "{text}");
    let bad = daemon.leadline(&["analytics", "--range", "2w"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("7d, 30d, 90d or all"));
}
