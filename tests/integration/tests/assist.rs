//! The AI assist end to end: the real daemon asks a local fake of the Anthropic Messages API
//! (its headers, its JSON, its errors) for a draft and the lead's preferences; the draft joins
//! the approval queue and is sent only once approved. With the API failing, or the assist
//! off, the local rules answer, and say why.

#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use leadline_integration::*;
use serde_json::{Value, json};

/// What the fake API saw, and whether it fails.
#[derive(Default)]
struct Fake {
    requests: Mutex<Vec<(HeaderMap, Value)>>,
    fail: Mutex<bool>,
}

async fn messages(
    State(fake): State<Arc<Fake>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    fake.requests.lock().unwrap().push((headers.clone(), body.clone()));
    if headers.get("x-api-key").and_then(|v| v.to_str().ok()) != Some("test-key") {
        let e = json!({"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}});
        return (StatusCode::UNAUTHORIZED, Json(e));
    }
    if *fake.fail.lock().unwrap() {
        let e = json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}});
        return (StatusCode::from_u16(529).unwrap(), Json(e));
    }
    let system = body["system"].as_str().unwrap_or_default();
    let text = if system.contains("JSON object") {
        r#"{"budget": "up to $500k", "location": "Doral", "timeline": null, "property": "3 beds", "financing": null, "motivation": null, "home_condition": null}"#
    } else {
        "Great to hear from you! Are you free Saturday at 10 to see a few 3-bed homes in Doral?"
    };
    let answer = json!({
        "id": "msg_01", "type": "message", "role": "assistant", "model": body["model"],
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn", "usage": {"input_tokens": 120, "output_tokens": 30}
    });
    (StatusCode::OK, Json(answer))
}

#[test]
fn a_draft_from_the_api_waits_for_approval_and_the_local_rules_stand_in_when_it_fails() {
    let sim = Sim::start(ghl_sim::SimConfig {
        contacts: 30,
        seed: 9,
        search_lag_ms: 0,
        ..ghl_sim::SimConfig::default()
    });
    let fake = Arc::new(Fake::default());
    let app = axum::Router::new().route("/v1/messages", post(messages)).with_state(fake.clone());
    let listener = sim.runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let api = format!("http://{}", listener.local_addr().unwrap());
    sim.runtime.spawn(async move { axum::serve(listener, app).await });

    let dir = short_tempdir();
    let assist = format!(
        "[assist]\nenabled = true\nbase_url = \"{api}\"\napi_key_env = \"LEADLINE_TEST_ANTHROPIC_KEY\"\nmodel = \"claude-test\"\n\n\
         [messages]\nagent_name = \"Sarah Mitchell\"\n"
    );
    sim.write_config(dir.path(), &assist);
    let mut cmd = Daemon::command(dir.path());
    cmd.env("GHL_API_KEY", sim.sim().token()).env("GHL_LOCATION_ID", sim.sim().location_id());
    cmd.env("LEADLINE_TEST_ANTHROPIC_KEY", "test-key");
    let daemon = Daemon::spawn(dir.path(), cmd);
    sync_until_ok(&daemon, true);
    let all = json(&daemon.leadline(&["queue", "all", "--limit", "5", "--json"]));
    let lead = all[0]["id"].as_str().unwrap().to_owned();

    // From the API: the draft waits for approval, with what the model read.
    let out = daemon.leadline(&["draft", &lead, "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report = json(&out);
    assert_eq!(report["source"], "anthropic:claude-test");
    assert_eq!(report["draft"]["state"], "awaiting_approval", "{report}");
    assert!(report["draft"]["edited"].as_str().unwrap().starts_with("Great to hear from you!"));
    assert_eq!(report["preferences"]["location"], "Doral");
    assert!(sim.sim().sent().iter().all(|s| s.contact_id != lead), "nothing is sent before approval");
    let requests = fake.requests.lock().unwrap().clone();
    assert_eq!(requests.len(), 2, "a draft and the preferences");
    for (headers, body) in &requests {
        assert_eq!(headers["anthropic-version"], "2023-06-01");
        assert_eq!(body["model"], "claude-test");
        assert_eq!(body["messages"][0]["role"], "user");
        assert!(body["messages"][0]["content"].as_str().unwrap().contains("Agent's first name: Sarah"));
    }
    let listed = json(&daemon.leadline(&["followups", "list", "--lead", &lead, "--json"]));
    let id = report["draft"]["id"].as_str().unwrap();
    assert!(listed.as_array().unwrap().iter().any(|v| v["id"] == id), "{listed}");

    // The API fails: the local rules draft, and say why.
    *fake.fail.lock().unwrap() = true;
    let report = json(&daemon.leadline(&["draft", &lead, "--json"]));
    assert_eq!(report["source"], "local");
    assert!(report["fallback_reason"].as_str().unwrap().contains("busy or rate limited (529)"), "{report}");
    assert!(report["draft"]["edited"].as_str().unwrap().contains("Sarah here"));
    assert_ne!(report["draft"]["id"], id, "a second draft is its own item");
    let text = String::from_utf8_lossy(&daemon.leadline(&["draft", &lead]).stdout).into_owned();
    assert!(text.contains("waits for approval: `leadline followups approve"), "{text}");
    let log = std::fs::read_dir(dir.path().join("data/logs"))
        .map(|d| {
            d.flatten().map(|e| std::fs::read_to_string(e.path()).unwrap_or_default()).collect::<String>()
        })
        .unwrap_or_default();
    assert!(!log.contains("test-key"), "the key never reaches the log");
}
