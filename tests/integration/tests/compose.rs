//! Writing to a lead by hand (the dashboard's Compose, `leadline send`) end to end: the real
//! daemon synced with the simulated GHL over loopback. A typed message goes through the op log
//! and the sender's gates like every send: it reaches GHL, waits for the lead's own morning, or
//! is refused with why when DND is on. The simulator and the daemon keep one afternoon's time.

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
fn location() -> (Sim, tempfile::TempDir, Daemon) {
    let now: jiff::Timestamp = AFTERNOON.parse().unwrap();
    let sim = Sim::start(ghl_sim::SimConfig {
        contacts: 40,
        seed: 11,
        now_ms: Some(now.as_millisecond()),
        search_lag_ms: 300,
        ..ghl_sim::SimConfig::default()
    });
    let dir = short_tempdir();
    sim.write_config_with_sync(dir.path(), "fast_poll_secs = 1\ninterval_secs = 3600\n", MESSAGES);
    let daemon = sim.daemon_with(dir.path(), &["--clock-at", AFTERNOON]);
    sync_until_ok(&daemon, true);
    (sim, dir, daemon)
}

/// A new lead, as a web form makes it, once the daemon has it.
fn new_lead(sim: &Sim, daemon: &Daemon, first: &str, phone: &str, zone: &str) -> String {
    let c = sim
        .sim()
        .inject_lead(&json!({
            "firstName": first, "lastName": "Tester", "phone": phone, "timezone": zone,
            "email": format!("{}@example.com", first.to_lowercase()),
            "source": "Zillow", "opportunity": false,
        }))
        .unwrap();
    wait_for("the daemon to have the lead", Duration::from_secs(20), || {
        daemon.leadline(&["lead", &c.id, "--json"]).status.success()
    });
    c.id
}

/// What the simulator has sent to `contact`.
fn sent_to(sim: &Sim, contact: &str) -> Vec<ghl_sim::SentRecord> {
    sim.sim().sent().into_iter().filter(|s| s.contact_id == contact).collect()
}

/// Waits until `cond` holds, or fails saying `what`.
fn wait_for(what: &str, within: Duration, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < within, "{what} did not happen within {within:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn stdout(out: &std::process::Output) -> String {
    assert!(out.status.success(), "failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The lead's pending edits, as `leadline lead --json` lists them.
fn pending(daemon: &Daemon, contact: &str) -> Vec<Value> {
    json(&daemon.leadline(&["lead", contact, "--json"]))["pending_ops"].as_array().unwrap().clone()
}

#[test]
fn a_reply_composed_by_hand_reaches_the_lead_and_a_dnd_lead_is_refused() {
    let (sim, _dir, daemon) = location();
    let dana = new_lead(&sim, &daemon, "Dana", "+13125550142", "America/Chicago");
    // The engine's first text goes at once; the agent's reply is not held by the loop lock's
    // gap after it (that is for sequences).
    wait_for("the first text", Duration::from_secs(20), || sent_to(&sim, &dana).len() == 1);

    // What Compose shows: the lead's time, its templates rendered for it, nothing in the way.
    let rt = runtime();
    let mut conn = rt.block_on(handshake(&daemon.socket)).unwrap();
    let info = rt.block_on(async {
        send(
            &mut conn,
            &leadline_shared::protocol::ClientMessage::Request {
                id: 1,
                body: leadline_shared::protocol::Request::Compose { contact_id: dana.clone() },
            },
        )
        .await;
        recv(&mut conn).await
    });
    let Some(leadline_shared::protocol::ServerMessage::Response {
        result: Ok(leadline_shared::protocol::Response::Compose(info)),
        ..
    }) = info
    else {
        panic!("a compose answer: {info:?}");
    };
    assert_eq!(
        (info.timezone.as_deref(), info.local_time.as_deref()),
        (Some("America/Chicago"), Some("13:00"))
    );
    assert!(info.channels.iter().all(|c| c.blocked.is_none() && c.hold.is_none()), "{:?}", info.channels);
    let reengage = info.templates.iter().find(|t| t.id == "reengage_24h").unwrap();
    assert!(reengage.body.as_deref().unwrap().contains("Dana"), "{reengage:?}");

    // A typed text: queued as an edit, sent by the sender, in the lead's timeline.
    let typed = "Hi Dana, Saturday at 10 works for the Elm St showing. See you there?";
    let out = stdout(&daemon.leadline(&["send", &dana, "--sms", "--body", typed]));
    assert!(out.starts_with("sms to Dana Tester queued as edit #"), "{out}");
    wait_for("the typed text", Duration::from_secs(20), || {
        sent_to(&sim, &dana).iter().any(|s| s.body == typed)
    });
    wait_for("the edit to leave the op log", Duration::from_secs(20), || pending(&daemon, &dana).is_empty());
    let detail = json(&daemon.leadline(&["lead", &dana, "--json"]));
    let timeline = detail["timeline"].as_array().unwrap();
    assert!(timeline.iter().any(|e| e["direction"] == "outbound" && e["text"] == typed), "{timeline:#?}");

    // A template, rendered for the lead, by email with its own subject.
    let out = stdout(&daemon.leadline(&["send", &dana, "--email", "--template", "nurture_day1_email"]));
    assert!(out.starts_with("email to Dana Tester queued"), "{out}");
    wait_for("the email", Duration::from_secs(20), || {
        sent_to(&sim, &dana).iter().any(|s| s.channel == "email")
    });
    let email = sent_to(&sim, &dana).into_iter().find(|s| s.channel == "email").unwrap();
    assert_eq!(email.subject.as_deref(), Some("A few quick next steps"));
    assert!(email.body.contains("Hi Dana") && email.body.contains("500 Congress Ave"), "{:?}", email.body);
    assert!(!email.body.contains("{{"), "{:?}", email.body);

    // Wrong asks are refused plainly.
    let bad = daemon.leadline(&["send", &dana, "--sms", "--template", "no_such_one"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("the sms templates are"), "{bad:?}");
    let bad = daemon.leadline(&["send", &dana, "--email", "--body", "Hi"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--subject"), "{bad:?}");

    // SMS DND on in GHL: the send is refused before anything is queued, saying why.
    let pat = new_lead(&sim, &daemon, "Pat", "+13125550143", "America/Chicago");
    // The engine's first text goes before DND is turned on: one sent in between would be
    // refused by GHL and left in the lead's op log as a failed op.
    wait_for("Pat's first text", Duration::from_secs(20), || sent_to(&sim, &pat).len() == 1);
    wait_for("it to leave the op log", Duration::from_secs(20), || pending(&daemon, &pat).is_empty());
    let status = sim.call(
        reqwest::Method::PUT,
        &format!("/contacts/{pat}"),
        Some(json!({ "dndSettings": { "SMS": { "status": "active" } } })),
    );
    assert!((200..300).contains(&status), "{status}");
    sim.settle();
    wait_for("the daemon to see the DND", Duration::from_secs(20), || {
        let detail = json(&daemon.leadline(&["lead", &pat, "--json"]));
        detail["contact"]["dndSettings"]["SMS"]["status"] == "active"
    });
    let before = sent_to(&sim, &pat).len();
    let refused = daemon.leadline(&["send", &pat, "--sms", "--body", "Hi Pat, still looking?"]);
    assert_eq!(refused.status.code(), Some(2), "{refused:?}");
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("not sent: SMS DND in GHL"), "{err}");
    // The daemon itself refuses it too (the dashboard's path: an edit).
    let answer = rt.block_on(async {
        let op = leadline_shared::domain::OpKind::SendMessage {
            channel: "sms".into(),
            body: "Hi Pat".into(),
            subject: None,
        };
        send(
            &mut conn,
            &leadline_shared::protocol::ClientMessage::Request {
                id: 2,
                body: leadline_shared::protocol::Request::Edit { contact_id: pat.clone(), op },
            },
        )
        .await;
        recv(&mut conn).await
    });
    let Some(leadline_shared::protocol::ServerMessage::Response { result: Err(e), .. }) = answer else {
        panic!("refused: {answer:?}");
    };
    assert!(e.message.starts_with("not sent: SMS DND in GHL"), "{e:?}");
    assert!(pending(&daemon, &pat).is_empty(), "nothing queued");
    // An email by hand may still go.
    stdout(&daemon.leadline(&[
        "send",
        &pat,
        "--email",
        "--subject",
        "Elm St",
        "--body",
        "Hi Pat, the listing you asked for.",
    ]));
    wait_for("the email to Pat", Duration::from_secs(20), || {
        sent_to(&sim, &pat).iter().any(|s| s.channel == "email")
    });
    sync_until_ok(&daemon, false);
    assert!(
        sent_to(&sim, &pat).iter().skip(before).all(|s| s.channel == "email"),
        "no text went to the DND lead: {:#?}",
        sent_to(&sim, &pat)
    );
}

#[test]
fn a_text_typed_at_night_for_the_lead_waits_for_its_morning() {
    let (sim, _dir, daemon) = location();
    // 05:00 on Thursday in Guam.
    let kai = new_lead(&sim, &daemon, "Kai", "+16715550123", "Pacific/Guam");
    let out = stdout(&daemon.leadline(&["send", &kai, "--sms", "--body", "Hi Kai, call me when you're up?"]));
    // The window is the federal 08:00–21:00, or a stricter one of the state in the lead's
    // address (the simulator picks it), always in the lead's own zone.
    assert!(
        out.contains("It is 05:00 for this lead (Pacific/Guam): quiet hours (")
            && out.contains("the text will wait until 0"),
        "{out}"
    );
    // Queued, then held by the sender with the same rule, saying until when.
    wait_for("the hold on the edit", Duration::from_secs(20), || {
        pending(&daemon, &kai).iter().any(|op| !op["held"].is_null())
    });
    let ops = pending(&daemon, &kai);
    assert_eq!(ops.len(), 1, "{ops:#?}");
    let reason = ops[0]["held"]["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("queued until 0")
            && reason.contains(" local (Thu, Pacific/Guam): quiet hours in Pacific/Guam"),
        "{reason}"
    );
    let until: jiff::Timestamp = ops[0]["held"]["until"].as_str().unwrap().parse().unwrap();
    let local = until.to_zoned(jiff::tz::TimeZone::get("Pacific/Guam").unwrap());
    assert!((8..=9).contains(&local.hour()) && local.minute() == 0, "the morning in Guam: {local}");
    assert_eq!(ops[0]["state"], "pending", "it goes by itself when the hour comes");
    let human = stdout(&daemon.leadline(&["lead", &kai]));
    assert!(human.contains("held: queued until 0"), "{human}");
    sync_until_ok(&daemon, false);
    std::thread::sleep(Duration::from_secs(1));
    assert!(sent_to(&sim, &kai).is_empty(), "nothing goes at 05:00 local");
}
