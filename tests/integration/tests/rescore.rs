//! A model promotion's rescore that a crash cut short is finished by the daemon's next start:
//! the real daemon, its store written in between as the crash would have left it.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use leadline_daemon::ingest::{Ingest, META_RESCORE};
use leadline_daemon::store::{Batch, Db, Put, SledStore};
use leadline_integration::*;
use leadline_shared::config::Config;
use rustix::process::Signal;
use serde_json::Value;

/// Every lead's scorer, as `leadline queue all` shows it.
fn scorers(daemon: &Daemon) -> Vec<String> {
    let out = daemon.leadline(&["queue", "all", "--limit", "1000", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    rows.iter().map(|r| r["scored_by"].as_str().unwrap_or_default().to_owned()).collect()
}

/// Polls `f` until it holds, for at most a minute.
fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !f() {
        assert!(Instant::now() < deadline, "{what} did not happen within a minute");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn the_next_start_finishes_a_rescore_a_crash_cut_short() {
    let dir = short_tempdir();
    // A location with closed deals enough for a model to be promoted over rules-v1.
    let seed = ghl_sim::seed::SeedConfig {
        contacts: 300,
        closed_history: 400,
        seed: 11,
        now_ms: 1_767_225_600_000,
        ..Default::default()
    };
    let dataset = dir.path().join("location.json");
    std::fs::write(&dataset, serde_json::to_vec(&ghl_sim::seed::generate(&seed)).unwrap()).unwrap();
    let mut daemon = Daemon::start(dir.path(), &["--import", dataset.to_str().unwrap()]);
    eventually("the first training and its rescore", || {
        let status = json(&daemon.leadline(&["model", "status", "--json"]));
        status["active"] == "gbdt-v1" && status["training"] != true
    });
    assert!(scorers(&daemon).iter().all(|s| s == "gbdt-v1"));
    daemon.signal(Signal::TERM);
    assert!(daemon.wait_exit(Duration::from_secs(20)).success());
    drop(daemon);

    // As a crash after the first page would have left the store: the leads after it scored
    // by rules-v1 still, the progress stored up to it.
    {
        let store = SledStore::open(&dir.path().join("data").join("store"), 8 << 20).unwrap();
        let db = Db::open(Arc::new(store)).unwrap();
        let ids = db.contact_ids().unwrap();
        assert_eq!(ids.len(), 300);
        let rules = Ingest::new(db.clone(), Config::default().scoring);
        let after_cut: BTreeSet<String> = ids[100..].iter().cloned().collect();
        rules.rescore(&after_cut, jiff::Timestamp::now()).unwrap();
        let progress = serde_json::json!({ "scorer": "gbdt-v1", "after": ids[99], "done": false });
        db.commit(Batch::new().put(Put::Meta { key: META_RESCORE.into(), value: progress })).unwrap();
        runtime().block_on(db.flush()).unwrap();
        assert_eq!(db.lead(&ids[150]).unwrap().unwrap().scored_by, "rules-v1");
    }

    let daemon = Daemon::start(dir.path(), &[]);
    eventually("every lead scored by the promoted model again", || {
        let by = scorers(&daemon);
        by.len() == 300 && by.iter().all(|s| s == "gbdt-v1")
    });
    // Once finished, the status says no rescore is under way.
    eventually("the status to say the rescore is over", || {
        json(&daemon.leadline(&["model", "status", "--json"])).get("rescoring").is_none()
    });
}
