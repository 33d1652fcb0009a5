//! Sync on a live location, as a user has it: an export of many pages, leads replying and
//! arriving while the daemon runs, GHL's search lagging behind its writes, export cursors that
//! expire, records in shapes we cannot read, contacts deleted in GHL.

#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use leadline_integration::*;
use serde_json::{Value, json};

/// The fast poll of these tests.
const POLL_SECS: u64 = 2;
/// How far the simulator's search lags behind writes.
const LAG_MS: u64 = 500;

/// A contact the test can text from: a phone, no DND.
fn reachable(sim: &ghl_sim::SimHandle, skip: usize) -> Vec<String> {
    sim.snapshot()
        .contacts
        .into_iter()
        .filter(|c| c.phone.is_some() && !c.dnd && c.dnd_settings.values().all(|s| !s.blocks()))
        .skip(skip)
        .map(|c| c.id)
        .collect()
}

/// Whether the lead's timeline in the store holds a message with `text`.
fn stored(daemon: &Daemon, contact: &str, text: &str) -> bool {
    let out = daemon.leadline(&["lead", contact, "--json"]);
    out.status.success()
        && json(&out)["timeline"].as_array().is_some_and(|t| t.iter().any(|e| e["text"] == text))
}

#[test]
fn every_new_message_reaches_the_store_within_two_fast_polls() {
    let sim = Sim::start(ghl_sim::SimConfig {
        contacts: 400,
        seed: 21,
        // The location lives on its own too: leads arrive and reply every quarter second.
        activity: true,
        activity_interval_ms: 250,
        search_lag_ms: LAG_MS,
        // A cursor idle for 1.5 s expires: a sync that kept one would be refused.
        export_cursor_ttl_ms: 1_500,
        ..ghl_sim::SimConfig::default()
    });
    let exported = sim.sim().counts().messages;
    assert!(exported > 2 * 500, "the export must span several pages: {exported} messages");
    let dir = short_tempdir();
    sim.write_config_with_sync(
        dir.path(),
        &format!("fast_poll_secs = {POLL_SECS}\ninterval_secs = 3600\n"),
        "",
    );
    let daemon = sim.daemon(dir.path());
    sync_until_ok(&daemon, true);

    // Replies from the test, among the location's own activity, each with a text to find.
    let contacts = reachable(sim.sim(), 3);
    let mut probes = Vec::new();
    for k in 0..10 {
        let contact = contacts[k * 7 % contacts.len()].clone();
        let text = format!("Probe {k}: is the house on Elm still available?");
        sim.sim().inbound(&contact, &text).unwrap();
        probes.push((contact, text, Instant::now()));
        std::thread::sleep(Duration::from_millis(700));
    }
    // Two polls after a reply (plus GHL's lag and this machine's slack), it is in the store.
    let within = Duration::from_secs(2 * POLL_SECS) + Duration::from_millis(LAG_MS) + Duration::from_secs(2);
    for (contact, text, sent) in &probes {
        loop {
            if stored(&daemon, contact, text) {
                break;
            }
            assert!(sent.elapsed() < within, "{text:?} did not reach the store within {within:?}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    // Everything the location held two polls ago is in the store, the activity included.
    let before = sim.sim().counts();
    std::thread::sleep(within);
    let status = json(&daemon.leadline(&["status", "--json"]));
    assert!(status["counts"]["messages"].as_u64().unwrap() >= before.messages as u64, "{status}");
    assert!(status["counts"]["contacts"].as_u64().unwrap() >= before.contacts as u64, "{status}");
}

#[test]
fn the_demo_keeps_up_with_its_live_location() {
    let dir = short_tempdir();
    let socket = dir.path().join("demo.sock");
    let mut demo = Command::new(bin("leadline"))
        .arg("--socket")
        .arg(&socket)
        .args(["demo", "--headless", "--contacts", "300", "--activity-ms", "300"])
        .env_remove("LEADLINE_CONFIG")
        .env("LEADLINE_DATA_DIR", dir.path().join("unused"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(demo.stdout.take().unwrap()).lines();
    assert_eq!(lines.next().unwrap().unwrap(), socket.to_str().unwrap());
    let second = lines.next().unwrap().unwrap();
    let url = second.split_whitespace().find(|w| w.starts_with("http://")).unwrap().to_owned();
    let sim_counts = || -> Value {
        let body = http_get(&format!("{url}/__sim/state?summary=1"));
        serde_json::from_str::<Value>(&body).unwrap()["counts"].clone()
    };
    let ours = || -> Value {
        let out = Command::new(bin("leadline"))
            .arg("--socket")
            .arg(&socket)
            .args(["status", "--json"])
            .output()
            .unwrap();
        json(&out)["counts"].clone()
    };
    // The demo polls every 3 s and its simulator's search lags up to 3 s: whatever the location
    // held 2 polls and the lag ago is in the store, at every look, for as long as it runs.
    let behind = Duration::from_secs(2 * 3 + 3 + 2);
    let mut history: Vec<(Instant, Value)> = Vec::new();
    let started = Instant::now();
    let mut checked = 0;
    while started.elapsed() < Duration::from_secs(24) {
        history.push((Instant::now(), sim_counts()));
        let now = ours();
        if let Some((_, then)) = history.iter().rev().find(|(at, _)| at.elapsed() >= behind) {
            for key in ["contacts", "messages"] {
                assert!(
                    now[key].as_u64().unwrap() >= then[key].as_u64().unwrap(),
                    "the store fell behind on {key}: ours {now}, the location's {behind:?} ago {then}"
                );
            }
            checked += 1;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    assert!(checked >= 15, "looked {checked} times");
    let last = sim_counts();
    assert!(last["messages"].as_u64().unwrap() > history[0].1["messages"].as_u64().unwrap(), "activity ran");
    rustix::process::kill_process(rustix::process::Pid::from_child(&demo), rustix::process::Signal::TERM)
        .unwrap();
    let _ = demo.wait();
}

/// A plain HTTP GET on loopback (the simulator's control routes), with no client library.
fn http_get(url: &str) -> String {
    runtime().block_on(async { reqwest::get(url).await.unwrap().text().await.unwrap() })
}

#[test]
fn an_unreadable_record_is_skipped_counted_and_read_once_fixed() {
    let sim = Sim::start(ghl_sim::SimConfig {
        contacts: 60,
        seed: 4,
        search_lag_ms: 0,
        ..ghl_sim::SimConfig::default()
    });
    let truth = sim.sim().snapshot();
    let odd_contact = truth.contacts[10].id.clone();
    let odd_message = truth.messages[5].id.clone();
    let fields = |v: Value| v.as_object().unwrap().clone();
    // A list where a string belongs, and a body that is an object.
    sim.sim().set_odd(ghl_sim::store::RecordKind::Contact, &odd_contact, fields(json!({"tags": "VIP"})));
    sim.sim().set_odd(
        ghl_sim::store::RecordKind::Message,
        &odd_message,
        fields(json!({"body": {"text": "hi"}})),
    );
    let dir = short_tempdir();
    sim.write_config(dir.path(), "");
    let daemon = sim.daemon(dir.path());
    sync_until_ok(&daemon, true);
    let status = json(&daemon.leadline(&["status", "--json"]));
    assert_eq!(status["sync"]["skipped_records"], 2, "{status}");
    assert_eq!(status["sync"]["state"], "idle");
    assert_eq!(
        status["counts"]["contacts"],
        truth.contacts.len() as u64 - 1,
        "the rest of the page is stored"
    );
    assert_eq!(status["counts"]["messages"], truth.messages.len() as u64 - 1);
    let text = String::from_utf8_lossy(&daemon.leadline(&["status"]).stdout).into_owned();
    assert!(text.contains("2 records from GHL could not be read"), "{text}");
    let log = std::fs::read_dir(daemon.data_dir.join("logs"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap_or_default())
        .collect::<String>();
    assert!(log.contains(&odd_contact) && log.contains("could not be read"), "the log names the record");

    // Fixed in GHL: the next full listing reads it, and it is no longer counted.
    sim.sim().set_odd(ghl_sim::store::RecordKind::Contact, &odd_contact, Default::default());
    sim.sim().set_odd(ghl_sim::store::RecordKind::Message, &odd_message, Default::default());
    sync_until_ok(&daemon, true);
    let status = json(&daemon.leadline(&["status", "--json"]));
    assert_eq!(status["sync"]["skipped_records"], 0, "{status}");
    assert_eq!(status["counts"]["contacts"], truth.contacts.len() as u64);
    assert_eq!(status["counts"]["messages"], truth.messages.len() as u64);
}

#[test]
fn contacts_deleted_in_ghl_are_reconciled_on_the_schedule() {
    let sim = Sim::start(ghl_sim::SimConfig {
        contacts: 80,
        seed: 6,
        search_lag_ms: 0,
        ..ghl_sim::SimConfig::default()
    });
    let dir = short_tempdir();
    // Every two seconds instead of nightly.
    sim.write_config_with_sync(
        dir.path(),
        "fast_poll_secs = 3600\ninterval_secs = 3600\nreconcile_cron = \"*/2 * * * * *\"\n",
        "",
    );
    let daemon = sim.daemon(dir.path());
    sync_until_ok(&daemon, true);
    let gone = sim.sim().snapshot().contacts[17].id.clone();
    // Deleted in GHL with no webhook and no poll: only the scheduled listing can notice.
    let status = sim.call(reqwest::Method::DELETE, &format!("/contacts/{gone}"), None);
    assert!((200..300).contains(&status), "{status}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while daemon.leadline(&["lead", &gone, "--json"]).status.success() {
        assert!(Instant::now() < deadline, "the scheduled reconcile never removed the contact");
        std::thread::sleep(Duration::from_millis(200));
    }
    let truth = sim.sim().snapshot();
    let status = json(&daemon.leadline(&["status", "--json"]));
    assert_eq!(status["counts"]["contacts"], truth.contacts.len() as u64);
    assert_eq!(status["counts"]["messages"], truth.messages.len() as u64, "its messages went with it");
    assert_eq!(status["counts"]["opportunities"], truth.opportunities.len() as u64, "and its deals");
}
