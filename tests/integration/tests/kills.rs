//! The kill harness: the daemon is killed with SIGKILL at random moments while it sends, and
//! started again, round after round, against a simulated GHL that fails requests, hangs, cuts
//! bodies and accepts sends whose responses it then loses. After it, the simulator's sent log
//! holds no duplicate, and no planned send is lost: each one was sent once or is shown to the
//! agent as uncertain.
//!
//! `LEADLINE_KILL_ROUNDS` sets the number of kills (default 10, for CI; the closing runs use
//! 60 or more).

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use leadline_integration::*;
use serde_json::{Value, json};

/// Wednesday 4 March 2026, 19:00 UTC: 13:00 in Chicago, inside the allowed hours.
const AFTERNOON: &str = "2026-03-04T19:00:00Z";

const CONFIG: &str = "[messages]\nbusiness_name = \"Summit Realty Group\"\nagent_name = \"Sarah Mitchell\"\n\n\
                      [followups]\nsend_settle_secs = 2\nsend_give_up_secs = 20\n";

fn rounds() -> usize {
    std::env::var("LEADLINE_KILL_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(10)
}

/// A small seeded generator: the kill moments differ from round to round but not from run to
/// run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// The daemon's clock must not run back at a restart: it starts where the simulator's is.
fn start(sim: &Sim, dir: &std::path::Path) -> Daemon {
    let now = jiff::Timestamp::from_millisecond(sim.sim().shared().now_ms()).unwrap();
    sim.daemon_with(dir, &["--clock-at", &now.to_string()])
}

/// Every follow-up of the location's injected leads, by lead.
fn instant_items(daemon: &Daemon, leads: &[String]) -> BTreeMap<String, Vec<Value>> {
    let out = daemon.leadline(&[
        "followups",
        "list",
        "--json",
        "--limit",
        "0",
        "--state",
        "scheduled,awaiting_approval,queued,sending,sent,done,failed,uncertain,skipped,cancelled",
    ]);
    let all = json(&out);
    let mut by_lead: BTreeMap<String, Vec<Value>> = leads.iter().map(|l| (l.clone(), Vec::new())).collect();
    for item in all.as_array().unwrap() {
        if item["workflow"] != "instant_response" {
            continue;
        }
        if let Some(v) = by_lead.get_mut(item["contact_id"].as_str().unwrap()) {
            v.push(item.clone());
        }
    }
    by_lead
}

#[test]
fn sigkill_during_sends_never_sends_twice_and_never_loses_a_send() {
    let now: jiff::Timestamp = AFTERNOON.parse().unwrap();
    let sim = Sim::start(ghl_sim::SimConfig {
        contacts: 40,
        seed: 5,
        now_ms: Some(now.as_millisecond()),
        search_lag_ms: 200,
        fault_rate: 0.12,
        fault_kinds: ghl_sim::FaultKind::ALL.to_vec(),
        // Longer than the daemon's 2 s timeout: a hung send is a send whose outcome is unknown.
        hang_ms: 2_500,
        // Each request takes a while, as GHL's do: a kill lands inside sends, not only between.
        latency_ms: 250,
        ..ghl_sim::SimConfig::default()
    });
    let dir = short_tempdir();
    sim.write_config_with_sync(dir.path(), "fast_poll_secs = 1\ninterval_secs = 3600\n", CONFIG);
    let mut daemon = start(&sim, dir.path());
    sync_until_ok(&daemon, true);

    let rounds = rounds();
    let began = Instant::now();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut leads = Vec::new();
    for round in 0..rounds {
        // New leads arrive; each is owed exactly one first text, which the daemon starts
        // sending within a second or two.
        for k in 0..2 {
            let n = leads.len();
            let c = sim
                .sim()
                .inject_lead(&json!({
                    "firstName": format!("Lead{n}"), "lastName": "Kill", "phone": format!("+1312555{n:04}"),
                    "timezone": "America/Chicago", "source": "Zillow", "opportunity": false,
                }))
                .unwrap();
            leads.push(c.id);
            if k == 0 {
                std::thread::sleep(Duration::from_millis(rng.below(400)));
            }
        }
        std::thread::sleep(Duration::from_millis(300 + rng.below(2_200)));
        daemon.signal(rustix::process::Signal::KILL);
        daemon.wait_exit(Duration::from_secs(10));
        eprintln!(
            "round {round} ({:?}): killed; {} texts sent so far",
            began.elapsed(),
            sim.sim().sent().len()
        );
        daemon = start(&sim, dir.path());
    }

    // The location calms down; the daemon finishes what it had.
    sim.sim().set_fault_rate(0.0);
    let deadline = Instant::now() + Duration::from_secs(90);
    let settled = loop {
        let items = instant_items(&daemon, &leads);
        let open = items
            .values()
            .flatten()
            .filter(|i| {
                !["sent", "uncertain", "failed", "skipped", "cancelled"]
                    .contains(&i["state"].as_str().unwrap())
            })
            .count();
        if open == 0 && items.values().all(|v| !v.is_empty()) {
            break items;
        }
        assert!(Instant::now() < deadline, "sends still open after the harness: {items:#?}");
        std::thread::sleep(Duration::from_millis(300));
    };

    let sent = sim.sim().sent();
    let mut per_lead: BTreeMap<&str, Vec<&ghl_sim::SentRecord>> = BTreeMap::new();
    for s in &sent {
        per_lead.entry(s.contact_id.as_str()).or_default().push(s);
    }
    let (mut delivered, mut uncertain) = (0, 0);
    for lead in &leads {
        let texts = per_lead.get(lead.as_str()).cloned().unwrap_or_default();
        assert!(texts.len() <= 1, "lead {lead} got {} texts: {texts:#?}", texts.len());
        let items = &settled[lead];
        assert_eq!(items.len(), 1, "one first text planned for {lead}: {items:#?}");
        let item = &items[0];
        match item["state"].as_str().unwrap() {
            "sent" => {
                delivered += 1;
                assert_eq!(texts.len(), 1, "{lead}: sent, so GHL has it: {item:#}");
                assert_eq!(item["message_id"], texts[0].message_id.as_str(), "{item:#}");
            }
            // Shown to the agent, with the means to send it again: not lost.
            "uncertain" => uncertain += 1,
            other => panic!("{lead}: the first text ended {other}, so it was lost: {item:#}"),
        }
    }
    // How many attempts a kill (or a lost answer) left to verify: the daemon logs each.
    let logs = std::fs::read_dir(daemon.data_dir.join("logs")).unwrap();
    let verified: usize = logs
        .filter_map(|f| std::fs::read_to_string(f.unwrap().path()).ok())
        .map(|text| text.matches("verifying a send whose outcome is not known yet").count())
        .sum();
    eprintln!(
        "{rounds} kills, {} leads: {delivered} sent once, {uncertain} uncertain, 0 duplicates; {verified} attempts verified after a kill or a lost answer; {} faults injected, {} requests",
        leads.len(),
        sim.sim().faults_injected(),
        sim.sim().requests()
    );
    assert!(delivered >= leads.len() / 2, "most sends went: {delivered} of {}", leads.len());
}
