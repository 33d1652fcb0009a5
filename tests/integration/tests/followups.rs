//! The follow-up engine end to end: the real daemon, synced with the simulated GHL over
//! loopback, sending through GHL's conversations API. The simulator and the daemon both keep
//! one afternoon's time (whatever the hour of the machine), so the allowed hours are the same
//! at every run.

#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use leadline_integration::*;
use serde_json::{Value, json};

/// Wednesday 4 March 2026, 19:00 UTC: 13:00 in Chicago, 05:00 on Thursday in Guam.
const AFTERNOON: &str = "2026-03-04T19:00:00Z";

const MESSAGES: &str = "[messages]\nbusiness_name = \"Summit Realty Group\"\nagent_name = \"Sarah Mitchell\"\n\
                        postal_address = \"500 Congress Ave\\nAustin, TX 78701\"\n\n\
                        [followups]\nsend_settle_secs = 2\n";

/// A simulated location at [`AFTERNOON`] and a daemon synced with it that polls every second.
fn location(contacts: usize) -> (Sim, tempfile::TempDir, Daemon) {
    location_polling(contacts, 1)
}

/// [`location`] with the daemon polling every `secs`.
fn location_polling(contacts: usize, secs: u64) -> (Sim, tempfile::TempDir, Daemon) {
    let now: jiff::Timestamp = AFTERNOON.parse().unwrap();
    let sim = Sim::start(ghl_sim::SimConfig {
        contacts,
        seed: 9,
        now_ms: Some(now.as_millisecond()),
        search_lag_ms: 300,
        ..ghl_sim::SimConfig::default()
    });
    let dir = short_tempdir();
    let sync = format!("fast_poll_secs = {secs}\ninterval_secs = 3600\n");
    sim.write_config_with_sync(dir.path(), &sync, MESSAGES);
    let daemon = sim.daemon_with(dir.path(), &["--clock-at", AFTERNOON]);
    sync_until_ok(&daemon, true);
    (sim, dir, daemon)
}

/// A new lead, as a web form makes it: a name, a mobile number, a zone.
fn new_lead(sim: &Sim, first: &str, phone: &str, zone: &str) -> String {
    let c = sim
        .sim()
        .inject_lead(&json!({
            "firstName": first, "lastName": "Tester", "phone": phone, "timezone": zone,
            "source": "Zillow", "opportunity": false,
        }))
        .unwrap();
    c.id
}

/// What the simulator has sent to `contact`.
fn sent_to(sim: &Sim, contact: &str) -> Vec<ghl_sim::SentRecord> {
    sim.sim().sent().into_iter().filter(|s| s.contact_id == contact).collect()
}

/// Waits until `cond` holds, or fails saying `what`.
fn wait_for(what: &str, within: Duration, mut cond: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < within, "{what} did not happen within {within:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
    start.elapsed()
}

/// The lead's follow-ups, in every state.
fn items(daemon: &Daemon, contact: &str) -> Vec<Value> {
    let out = daemon.leadline(&[
        "followups",
        "list",
        "--lead",
        contact,
        "--json",
        "--state",
        "scheduled,awaiting_approval,queued,sending,sent,done,failed,uncertain,skipped,cancelled",
    ]);
    json(&out).as_array().unwrap().clone()
}

fn of_workflow<'a>(items: &'a [Value], workflow: &str) -> Vec<&'a Value> {
    items.iter().filter(|i| i["workflow"] == workflow).collect()
}

#[test]
fn a_new_lead_gets_its_first_text_in_seconds_exactly_once_and_the_agent_steers_the_rest() {
    let (sim, _dir, daemon) = location(150);
    assert!(sim.sim().counts().messages > 500, "the messages export spans pages");
    let lead = new_lead(&sim, "Dana", "+13125550142", "America/Chicago");

    // The first text goes within seconds: the next fast poll brings the lead in, and it goes.
    let took = wait_for("the first text", Duration::from_secs(20), || !sent_to(&sim, &lead).is_empty());
    eprintln!("first text {took:?} after the lead arrived");
    let first = &sent_to(&sim, &lead)[0];
    assert_eq!(first.channel, "sms");
    // The lead's assigned user is the agent it names.
    let agent = sim.sim().with_store(|s| {
        let user = s.contact(&lead).and_then(|c| c.assigned_to.clone());
        s.users.iter().find(|u| Some(&u.id) == user.as_ref()).map(|u| u.first_name.clone())
    });
    let agent = agent.unwrap_or_else(|| "Sarah".into());
    for needed in ["Dana", agent.as_str(), "Summit Realty Group", "STOP"] {
        assert!(first.body.contains(needed), "the first text names {needed}: {:?}", first.body);
    }
    assert!(first.body.chars().count() <= 160, "{:?}", first.body);
    assert!(!first.body.contains("{{"), "{:?}", first.body);

    // More syncs, a full one too: still exactly one.
    sync_until_ok(&daemon, false);
    sync_until_ok(&daemon, true);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(sent_to(&sim, &lead).len(), 1, "sent once, whatever runs after");
    let all = items(&daemon, &lead);
    let instant = of_workflow(&all, "instant_response");
    assert_eq!(instant.len(), 1, "{all:#?}");
    assert_eq!(instant[0]["state"], "sent");
    assert_eq!(instant[0]["message_id"], first.message_id.as_str(), "the item holds GHL's message id");

    // The nurture waits for the agent. A text the rules refuse is refused at approval, saying
    // why; the agent's own text is taken.
    let nurture = of_workflow(&all, "new_lead_nurture");
    let waiting: Vec<&&Value> = nurture.iter().filter(|i| i["state"] == "awaiting_approval").collect();
    assert_eq!(waiting.len(), 1, "{nurture:#?}");
    let id = waiting[0]["id"].as_str().unwrap().to_owned();
    let bad = daemon.leadline(&["followups", "approve", &id, "--text", "Hi {first_name}!"]);
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("cannot be used") && err.contains("{{"), "says why and how to fix: {err}");
    let ok =
        daemon.leadline(&["followups", "approve", &id, "--text", "Hi {{first_name}}, any questions so far?"]);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let approved = items(&daemon, &lead).into_iter().find(|i| i["id"] == id.as_str()).unwrap();
    assert_eq!(approved["state"], "scheduled");
    assert_eq!(approved["edited"], "Hi {{first_name}}, any questions so far?");
    // Approving twice is refused plainly.
    let again = daemon.leadline(&["followups", "approve", &id]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("not waiting for approval"));

    // Pause: nothing open; resume: the same step is back, waiting for its time.
    assert!(daemon.leadline(&["followups", "pause", &lead]).status.success());
    let open = |daemon: &Daemon| {
        items(daemon, &lead)
            .into_iter()
            .filter(|i| i["state"] == "scheduled" || i["state"] == "awaiting_approval")
            .count()
    };
    assert_eq!(open(&daemon), 0);
    assert!(daemon.leadline(&["followups", "resume", &lead]).status.success());
    assert_eq!(open(&daemon), 1);
    let back = items(&daemon, &lead).into_iter().find(|i| i["id"] == id.as_str()).unwrap();
    assert_eq!(back["state"], "awaiting_approval", "resumed steps wait for the agent again");
    // Skip it: the reason is the agent.
    assert!(daemon.leadline(&["followups", "skip", &id]).status.success());
    let skipped = items(&daemon, &lead).into_iter().find(|i| i["id"] == id.as_str()).unwrap();
    assert_eq!(
        (skipped["state"].as_str(), skipped["reason"].as_str()),
        (Some("skipped"), Some("skipped by the agent"))
    );
    // A follow-up that does not exist, or an id that is not one, gets a plain error.
    let missing = daemon.leadline(&["followups", "skip", &format!("{lead}/nope/1/0")]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("followups list"));

    // The simulated plan: the contract's shape, and nothing sent by asking.
    let before = sim.sim().sent().len();
    let plan = json(&daemon.leadline(&["followups", "simulate", "--days", "30", "--json"]));
    let planned = plan["planned"].as_array().unwrap();
    assert!(plan["skipped"].is_array());
    assert!(!planned.is_empty(), "{plan:#}");
    for send in planned {
        for key in ["contact_id", "channel", "at", "timezone", "workflow", "step", "template"] {
            assert!(send.get(key).is_some(), "planned sends carry {key}: {send}");
        }
        assert!(send["channel"] == "sms" || send["channel"] == "email", "{send}");
        assert!(send["at"].as_str().unwrap().ends_with('Z'), "UTC: {send}");
    }
    assert_eq!(sim.sim().sent().len(), before, "simulating sends nothing");

    // The agent tags the lead "Cold Lead" in GHL: the win-back starts, its first text due now
    // and waiting for approval, so the lead is in the `due` queue.
    let status = sim.call(
        reqwest::Method::POST,
        &format!("/contacts/{lead}/tags"),
        Some(json!({ "tags": ["Cold Lead"] })),
    );
    assert!((200..300).contains(&status), "{status}");
    let winback = || {
        items(&daemon, &lead)
            .into_iter()
            .find(|i| i["workflow"] == "cold_winback" && i["state"] == "awaiting_approval")
    };
    wait_for("the win-back to start", Duration::from_secs(20), || winback().is_some());
    let due = json(&daemon.leadline(&["queue", "due", "--json"]));
    assert!(due.as_array().unwrap().iter().any(|l| l["id"] == lead.as_str()), "in the due queue: {due:#}");
    // Approved, it still keeps the gap after the first text (4 h): held, saying until when.
    let id = winback().unwrap()["id"].as_str().unwrap().to_owned();
    assert!(daemon.leadline(&["followups", "approve", &id]).status.success());
    let held = || items(&daemon, &lead).into_iter().find(|i| i["id"] == id.as_str()).unwrap();
    wait_for("the approved text to be held", Duration::from_secs(20), || {
        held()["reason"].as_str().is_some_and(|r| r.starts_with("queued until 17:"))
    });
    let held = held();
    assert_eq!(held["state"], "scheduled", "{held:#}");
    assert!(held["reason"].as_str().unwrap().contains("(Wed, America/Chicago)"), "{held:#}");
    assert_eq!(sent_to(&sim, &lead).len(), 1, "nothing more went");
}

#[test]
fn at_night_the_first_text_waits_for_08_00_in_the_leads_own_time() {
    let (sim, _dir, daemon) = location(60);
    // 05:00 on Thursday in Guam (a US territory, UTC+10, no DST).
    let lead = new_lead(&sim, "Kai", "+16715550123", "Pacific/Guam");
    wait_for("the lead to be planned", Duration::from_secs(20), || {
        !of_workflow(&items(&daemon, &lead), "instant_response").is_empty()
    });
    let all = items(&daemon, &lead);
    let instant = of_workflow(&all, "instant_response")[0];
    assert_eq!(instant["state"], "scheduled", "{instant:#}");
    assert_eq!(instant["at"], "2026-03-04T22:00:00Z", "08:00 in Guam");
    assert_eq!(instant["timezone"], "Pacific/Guam");
    let reason = instant["reason"].as_str().unwrap();
    assert!(reason.starts_with("queued until 08:00 local (Thu, Pacific/Guam)"), "{reason}");
    // The dashboard's words are the CLI's.
    let human = daemon.leadline(&["followups", "list", "--lead", &lead]);
    assert!(String::from_utf8_lossy(&human.stdout).contains("queued until 08:00 local"));
    // Several ticks later, still nothing sent.
    sync_until_ok(&daemon, false);
    std::thread::sleep(Duration::from_secs(2));
    assert!(sent_to(&sim, &lead).is_empty(), "nothing goes at 05:00 local");
}

#[test]
fn stop_in_english_or_spanish_ends_all_messaging_with_one_confirmation() {
    let (sim, _dir, daemon) = location(60);
    let english = new_lead(&sim, "Ann", "+13125550101", "America/Chicago");
    let spanish = new_lead(&sim, "Luis", "+13125550102", "America/Chicago");
    // It is night in Guam: this lead's first text waits for 08:00, and it writes first.
    let unwritten = new_lead(&sim, "Mele", "+16715550103", "Pacific/Guam");
    wait_for("both first texts", Duration::from_secs(20), || {
        sent_to(&sim, &english).len() == 1 && sent_to(&sim, &spanish).len() == 1
    });
    wait_for("the Guam lead's held text", Duration::from_secs(20), || {
        items(&daemon, &unwritten).iter().any(|i| i["workflow"] == "instant_response")
    });
    assert!(sent_to(&sim, &unwritten).is_empty());

    // A carrier STOP word: GHL sets SMS DND itself and the carrier confirms, so GHL refuses
    // ours; the opt-out holds and nothing else goes.
    sim.sim().inbound(&english, "STOP").unwrap();
    // A phrase GHL does not know: Leadline confirms once, then sets DND in GHL.
    sim.sim().inbound(&spanish, "No más mensajes, por favor").unwrap();

    // A lead never written to: its confirmation is still sent, at night too, and is no
    // introduction.
    sim.sim().inbound(&unwritten, "Wrong number").unwrap();

    wait_for("the Spanish confirmation", Duration::from_secs(20), || sent_to(&sim, &spanish).len() == 2);
    wait_for("the unwritten lead's confirmation", Duration::from_secs(20), || {
        sent_to(&sim, &unwritten).len() == 1
    });
    let only = &sent_to(&sim, &unwritten)[0];
    assert!(only.body.to_lowercase().contains("unsubscribed"), "{:?}", only.body);
    let confirmation = &sent_to(&sim, &spanish)[1];
    assert!(confirmation.body.to_lowercase().contains("unsubscribed"), "{:?}", confirmation.body);
    wait_for("DND pushed to GHL", Duration::from_secs(20), || {
        sim.sim().with_store(|s| s.contact(&spanish).unwrap().dnd_blocks("SMS"))
    });
    wait_for("the English opt-out to settle", Duration::from_secs(20), || {
        items(&daemon, &english).iter().any(|i| i["confirmation"] == true && i["state"] == "skipped")
    });

    // Every workflow of both ended: nothing open, nothing more sent, whatever they write next.
    sim.sim().inbound(&spanish, "hola?").unwrap();
    sim.sim().inbound(&english, "Is the house still available?").unwrap();
    sim.settle();
    sync_until_ok(&daemon, false);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(sent_to(&sim, &english).len(), 1, "{:#?}", sent_to(&sim, &english));
    assert_eq!(sent_to(&sim, &spanish).len(), 2, "{:#?}", sent_to(&sim, &spanish));
    assert_eq!(sent_to(&sim, &unwritten).len(), 1, "{:#?}", sent_to(&sim, &unwritten));
    for lead in [&english, &spanish, &unwritten] {
        let all = items(&daemon, lead);
        let open: Vec<&Value> =
            all.iter().filter(|i| i["state"] == "scheduled" || i["state"] == "awaiting_approval").collect();
        assert!(open.is_empty(), "nothing planned after an opt-out: {open:#?}");
        assert_eq!(all.iter().filter(|i| i["confirmation"] == true).count(), 1, "one confirmation");
    }
    // The simulated plan leaves them out.
    let plan = json(&daemon.leadline(&["followups", "simulate", "--days", "60", "--json"]));
    for send in plan["planned"].as_array().unwrap() {
        let to = send["contact_id"].as_str().unwrap_or_default();
        assert!(![&english, &spanish, &unwritten].contains(&&to.to_owned()), "{send}");
    }
}

#[test]
fn a_sent_text_is_in_the_leads_timeline_at_once() {
    // No polling: only the sync asked for here brings the lead, and the text goes at its end.
    let (sim, _dir, daemon) = location_polling(40, 3600);
    let lead = new_lead(&sim, "Rosa", "+13125550177", "America/Chicago");
    // GHL's search lists the lead a moment after it is made: sync until a sync brings it.
    wait_for("the first text", Duration::from_secs(20), || {
        sync_until_ok(&daemon, false);
        !sent_to(&sim, &lead).is_empty()
    });
    let body = sent_to(&sim, &lead)[0].body.clone();

    // No poll ran since the send, yet the store has it: the timeline shows it, and the lead
    // has left the speed-to-lead queue, since someone has written to it.
    let detail = json(&daemon.leadline(&["lead", &lead, "--json"]));
    assert!(!detail["first_outbound_at"].is_null(), "{detail:#}");
    let timeline = detail["timeline"].as_array().unwrap();
    assert!(
        timeline.iter().any(|e| e["direction"] == "outbound" && e["text"] == body.as_str()),
        "{timeline:#?}"
    );
    let queue = json(&daemon.leadline(&["queue", "speed-to-lead", "--json"]));
    let ids: Vec<&str> = queue.as_array().unwrap().iter().filter_map(|l| l["id"].as_str()).collect();
    assert!(!ids.contains(&lead.as_str()), "{ids:?}");
    // GHL's own copy, when a poll brings it, takes its place: still one message.
    sync_until_ok(&daemon, false);
    let detail = json(&daemon.leadline(&["lead", &lead, "--json"]));
    let outbound =
        detail["timeline"].as_array().unwrap().iter().filter(|e| e["direction"] == "outbound").count();
    assert_eq!(outbound, 1);
}
