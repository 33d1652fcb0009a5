//! Sync against the GHL simulator: convergence under faults, restarts, pushed edits, conflicts.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use leadline_integration::*;

/// The store, as the CLI shows it, equals the simulator's state.
fn assert_converged(daemon: &Daemon, sim: &ghl_sim::SimHandle) {
    let truth = sim.snapshot();
    let status = json(&daemon.leadline(&["status", "--json"]));
    assert_eq!(status["counts"]["contacts"], truth.contacts.len() as u64, "contacts");
    assert_eq!(status["counts"]["opportunities"], truth.opportunities.len() as u64, "deals");
    assert_eq!(status["counts"]["messages"], truth.messages.len() as u64, "messages");
    let leads = json(&daemon.leadline(&["queue", "all", "--limit", "5000", "--json"]));
    let ours: BTreeSet<String> =
        leads.as_array().unwrap().iter().map(|l| l["id"].as_str().unwrap().to_owned()).collect();
    let theirs: BTreeSet<String> = truth.contacts.iter().map(|c| c.id.clone()).collect();
    assert_eq!(ours, theirs, "the same leads");
    // Every field of every contact, as GHL has it.
    for c in &truth.contacts {
        let lead = json(&daemon.leadline(&["lead", &c.id, "--json"]));
        let ours: leadline_shared::domain::Contact = serde_json::from_value(lead["contact"].clone()).unwrap();
        let theirs: leadline_shared::domain::Contact =
            serde_json::from_value(serde_json::to_value(c).unwrap()).unwrap();
        assert_eq!(ours, theirs, "contact {}", c.id);
    }
}

#[test]
fn converges_with_the_simulator_under_20_percent_faults() {
    let sim = Sim::start(ghl_sim::SimConfig {
        contacts: 150,
        seed: 7,
        fault_rate: 0.2,
        hang_ms: 3_000,
        search_lag_ms: 500,
        ..ghl_sim::SimConfig::default()
    });
    let dir = short_tempdir();
    sim.write_config(dir.path(), "");
    let daemon = sim.daemon(dir.path());
    sync_until_ok(&daemon, true);
    // Live changes in GHL, then an incremental sync picks them up.
    let added =
        sim.sim().inject_lead(&serde_json::json!({"firstName": "Dana", "lastName": "Newlead"})).unwrap();
    let someone = sim.sim().snapshot().contacts[3].id.clone();
    sim.sim().inbound(&someone, "We are pre-approved up to $600k and need 4 beds").unwrap();
    // The fast poll brings the new lead and the reply, once GHL's search shows them...
    sim.settle();
    sync_until_ok(&daemon, false);
    let lead = json(&daemon.leadline(&["lead", &added.id, "--json"]));
    assert_eq!(lead["name"], "Dana Newlead");
    let replied = json(&daemon.leadline(&["lead", &someone, "--json"]));
    assert!(
        replied["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["text"].as_str().unwrap_or("").contains("$600k"))
    );
    // Records deleted in GHL: a contact (with its deals and conversation) and a deal of
    // someone else.
    let truth = sim.sim().snapshot();
    let gone = truth.contacts[5].id.clone();
    let gone_deal = truth.opportunities.iter().find(|o| o.contact_id != gone).map(|o| o.id.clone()).unwrap();
    let now = sim.sim().shared().now_ms();
    assert!(sim.sim().shared().write().delete_contact(&gone, now).is_some());
    assert!(sim.sim().shared().write().delete_opportunity(&gone_deal).is_some());
    // ...and a full pass (deals are re-listed on the slower schedule) makes the store equal GHL.
    sim.settle();
    sync_until_ok(&daemon, true);
    assert_converged(&daemon, sim.sim());
    assert!(!daemon.leadline(&["lead", &gone, "--json"]).status.success(), "the deleted contact is gone");
}

#[test]
fn a_daemon_killed_mid_sync_resumes_and_converges() {
    let sim = Sim::start(ghl_sim::SimConfig {
        contacts: 1_600,
        seed: 11,
        latency_ms: 40,
        ..ghl_sim::SimConfig::default()
    });
    let dir = short_tempdir();
    sim.write_config(dir.path(), "");
    let mut daemon = sim.daemon(dir.path());
    // Kill it once the first pages are durable, before the full sync is done.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        // Deals and messages come first, contacts last: kill while messages arrive.
        let status = json(&daemon.leadline(&["status", "--json"]));
        let (contacts, messages) =
            (status["counts"]["contacts"].as_u64().unwrap(), status["counts"]["messages"].as_u64().unwrap());
        if messages > 0 {
            break;
        }
        assert!(contacts == 0, "sync finished before the kill; slow the simulator down");
        assert!(Instant::now() < deadline, "no progress");
        std::thread::sleep(Duration::from_millis(20));
    }
    daemon.signal(rustix::process::Signal::KILL);
    daemon.wait_exit(Duration::from_secs(5));
    drop(daemon);

    let daemon = sim.daemon(dir.path());
    sync_until_ok(&daemon, false);
    sync_until_ok(&daemon, true);
    assert_converged(&daemon, sim.sim());
}

#[test]
fn local_edits_reach_ghl_and_refusals_end_out_of_sync() {
    let sim = Sim::start(ghl_sim::SimConfig { contacts: 40, seed: 3, ..ghl_sim::SimConfig::default() });
    let dir = short_tempdir();
    sim.write_config(dir.path(), "");
    let daemon = sim.daemon(dir.path());
    sync_until_ok(&daemon, true);
    let id = sim.sim().snapshot().contacts[0].id.clone();

    // The edit shows at once, before GHL has it...
    assert!(daemon.leadline(&["tag", &id, "VIP Buyer"]).status.success());
    let lead = json(&daemon.leadline(&["lead", &id, "--json"]));
    assert!(lead["tags"].as_array().unwrap().iter().any(|t| t == "VIP Buyer"));
    // ...and is in GHL after the next sync.
    sync_until_ok(&daemon, false);
    let remote = sim.sim().snapshot().contacts.into_iter().find(|c| c.id == id).unwrap();
    assert!(remote.tags.iter().any(|t| t == "VIP Buyer"), "pushed: {:?}", remote.tags);
    assert!(daemon.leadline(&["note", &id, "Called, wants a showing Saturday"]).status.success());
    sync_until_ok(&daemon, false);
    let status = json(&daemon.leadline(&["status", "--json"]));
    assert_eq!(
        (status["sync"]["pending_ops"].as_u64(), status["sync"]["failed_ops"].as_u64()),
        (Some(0), Some(0))
    );

    // A deal stage GHL does not know is refused twice: out of sync, visible, not dropped.
    let deal = sim.sim().snapshot().opportunities.into_iter().next().unwrap();
    let op = leadline_shared::domain::OpKind::SetStage {
        opportunity_id: deal.id.clone(),
        pipeline_stage_id: "no-such-stage".into(),
    };
    let reply = runtime().block_on(async {
        let mut conn = handshake(&daemon.socket).await.unwrap();
        let body = leadline_shared::protocol::Request::Edit { contact_id: deal.contact_id.clone(), op };
        send(&mut conn, &leadline_shared::protocol::ClientMessage::Request { id: 1, body }).await;
        recv(&mut conn).await
    });
    assert!(
        matches!(
            reply,
            Some(leadline_shared::protocol::ServerMessage::Response {
                result: Ok(leadline_shared::protocol::Response::Accepted { .. }),
                ..
            })
        ),
        "{reply:?}"
    );
    sync_until_ok(&daemon, false);
    sync_until_ok(&daemon, false);
    let status = json(&daemon.leadline(&["status", "--json"]));
    assert_eq!(status["sync"]["failed_ops"].as_u64(), Some(1));
    let lead = json(&daemon.leadline(&["lead", &deal.contact_id, "--json"]));
    let op = &lead["pending_ops"][0];
    assert_eq!(op["state"], "out_of_sync");
    assert!(op["last_error"].as_str().unwrap().contains("twice"));
}

#[test]
fn a_signed_webhook_brings_a_new_lead_without_polling() {
    // A free loopback port for the receiver, known before the simulator starts.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let sim = Sim::start(ghl_sim::SimConfig {
        contacts: 20,
        seed: 9,
        webhook_url: Some(format!("http://127.0.0.1:{port}/webhooks/ghl")),
        ..ghl_sim::SimConfig::default()
    });
    let dir = short_tempdir();
    let key = dir.path().join("sim-key.pem");
    std::fs::write(&key, sim.sim().webhook_public_key_pem()).unwrap();
    // Polling is effectively off (1 h): only the webhook can bring the lead in.
    sim.write_config(
        dir.path(),
        &format!(
            "\n[webhooks]\nenabled = true\nlisten = \"127.0.0.1:{port}\"\npublic_key_file = \"{}\"\n",
            key.display()
        ),
    );
    let daemon = sim.daemon(dir.path());
    sync_until_ok(&daemon, false);

    let lead = sim.sim().inject_lead(&serde_json::json!({"firstName": "Webby", "lastName": "Hook"})).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let out = daemon.leadline(&["lead", &lead.id, "--json"]);
        if out.status.success() {
            assert_eq!(json(&out)["name"], "Webby Hook");
            break;
        }
        assert!(Instant::now() < deadline, "the webhook did not bring the lead in");
        std::thread::sleep(Duration::from_millis(100));
    }
}
