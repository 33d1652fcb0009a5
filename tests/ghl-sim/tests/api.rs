//! End-to-end tests: spawn the simulator in-process and talk to it over HTTP.

use std::collections::HashSet;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ghl_sim::{FaultKind, RateLimit, SimConfig, SimHandle};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

const CONTACTS_V: &str = "2021-07-28";
const CONV_V: &str = "2021-04-15";

fn cfg(contacts: usize) -> SimConfig {
    SimConfig {
        contacts,
        seed: 7,
        now_ms: Some(1_772_377_200_000), // 2026-03-01T15:00:00Z
        rate_limit: None,
        ..SimConfig::default()
    }
}

async fn call(
    sim: &SimHandle,
    method: Method,
    path: &str,
    version: &str,
    body: Option<Value>,
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let client = Client::new();
    let mut req = client
        .request(method, format!("{}{path}", sim.base_url()))
        .bearer_auth(sim.token())
        .header("Version", version);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.expect("request reaches the simulator");
    let status = resp.status();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap_or_default();
    let v = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, headers, v)
}

async fn state(sim: &SimHandle, summary: bool) -> Value {
    let url = format!("{}/__sim/state{}", sim.base_url(), if summary { "?summary=1" } else { "" });
    reqwest::get(url).await.expect("state").json().await.expect("state json")
}

#[tokio::test]
async fn contacts_search_after_visits_every_contact_once() {
    let sim = ghl_sim::spawn(cfg(537)).await.expect("spawns");
    let loc = sim.location_id().to_string();
    for sort in [json!(null), json!([{"field": "dateUpdated", "direction": "asc"}])] {
        let mut seen = HashSet::new();
        let mut after: Option<Value> = None;
        let mut pages = 0;
        loop {
            let mut body = json!({"locationId": loc, "pageLimit": 100});
            if !sort.is_null() {
                body["sort"] = sort.clone();
            }
            if let Some(a) = &after {
                body["searchAfter"] = a.clone();
            }
            let (st, _, v) = call(&sim, Method::POST, "/contacts/search", CONTACTS_V, Some(body)).await;
            assert_eq!(st, StatusCode::OK, "{v}");
            assert_eq!(v["total"], 537);
            assert!(v["traceId"].is_string());
            let contacts = v["contacts"].as_array().expect("contacts array");
            if contacts.is_empty() {
                break;
            }
            for c in contacts {
                let id = c["id"].as_str().expect("id").to_string();
                assert!(seen.insert(id.clone()), "{id} seen twice");
                assert_eq!(c["searchAfter"][1], c["id"]);
            }
            after = Some(contacts.last().expect("non-empty")["searchAfter"].clone());
            pages += 1;
            assert!(pages < 20);
        }
        assert_eq!(seen.len(), 537);
    }
    // Missing pageLimit → 422 in GHL's shape; over 500 → 422.
    let (st, _, v) =
        call(&sim, Method::POST, "/contacts/search", CONTACTS_V, Some(json!({"locationId": loc}))).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["statusCode"], 422);
    assert!(v["message"].is_array());
    let (st, _, _) = call(
        &sim,
        Method::POST,
        "/contacts/search",
        CONTACTS_V,
        Some(json!({"locationId": loc, "pageLimit": 501})),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    sim.shutdown().await;
}

#[tokio::test]
async fn incremental_search_by_date_updated_sees_writes() {
    let sim = ghl_sim::spawn(SimConfig { search_lag_ms: 0, ..cfg(50) }).await.expect("spawns");
    let loc = sim.location_id().to_string();
    let since = 1_772_377_200_000_i64;
    let body = json!({"locationId": loc, "pageLimit": 100,
        "filters": [{"field": "dateUpdated", "operator": "range", "value": {"gt": since}}],
        "sort": [{"field": "dateUpdated", "direction": "asc"}]});
    let (_, _, v) = call(&sim, Method::POST, "/contacts/search", CONTACTS_V, Some(body.clone())).await;
    assert_eq!(v["total"], 0);
    let id = sim.snapshot().contacts[3].id.clone();
    let (st, _, v) =
        call(&sim, Method::PUT, &format!("/contacts/{id}"), CONTACTS_V, Some(json!({"tags": ["Hot Lead"]})))
            .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["succeded"], true);
    assert_eq!(v["contact"]["tags"], json!(["Hot Lead"]));
    let (_, _, v) = call(&sim, Method::POST, "/contacts/search", CONTACTS_V, Some(body)).await;
    assert_eq!(v["total"], 1);
    assert_eq!(v["contacts"][0]["id"], id);
    // Unknown property → 422 like GHL's validation.
    let (st, _, _) =
        call(&sim, Method::PUT, &format!("/contacts/{id}"), CONTACTS_V, Some(json!({"locationId": loc})))
            .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    sim.shutdown().await;
}

#[tokio::test]
async fn search_lags_behind_writes_while_reads_do_not() {
    let lag = 800;
    let sim = ghl_sim::spawn(SimConfig { search_lag_ms: lag, ..cfg(50) }).await.expect("spawns");
    let loc = sim.location_id().to_string();
    let id = sim.snapshot().contacts[7].id.clone();
    let body = json!({"locationId": loc, "pageLimit": 10,
        "filters": [{"field": "tags", "operator": "eq", "value": "Lag Probe"}]});
    let (st, _, _) = call(
        &sim,
        Method::POST,
        &format!("/contacts/{id}/tags"),
        CONTACTS_V,
        Some(json!({"tags": ["Lag Probe"]})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED);
    // The record itself has the tag at once.
    let (_, _, v) = call(&sim, Method::GET, &format!("/contacts/{id}"), CONTACTS_V, None).await;
    assert!(v["contact"]["tags"].as_array().expect("tags").iter().any(|t| t == "Lag Probe"));
    // Search finds it once the write is indexed, and never later than the lag allows.
    let started = std::time::Instant::now();
    loop {
        let (_, _, v) = call(&sim, Method::POST, "/contacts/search", CONTACTS_V, Some(body.clone())).await;
        if v["total"] == 1 {
            break;
        }
        assert!(started.elapsed() < Duration::from_millis(lag + 500), "search never saw the write");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn export_cursor_is_a_view_that_expires() {
    let sim = ghl_sim::spawn(SimConfig { export_cursor_ttl_ms: 300, ..cfg(300) }).await.expect("spawns");
    let loc = sim.location_id().to_string();
    let first = format!("/conversations/messages/export?locationId={loc}&limit=10&sortOrder=asc");
    let (st, _, v) = call(&sim, Method::GET, &first, CONV_V, None).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let cursor = v["nextCursor"].as_str().expect("more pages").to_string();
    let next = format!("{first}&cursor={}", urlencode(&cursor));
    let (st, _, _) = call(&sim, Method::GET, &next, CONV_V, None).await;
    assert_eq!(st, StatusCode::OK, "a cursor in use lives on");
    tokio::time::sleep(Duration::from_millis(450)).await;
    let (st, _, v) = call(&sim, Method::GET, &next, CONV_V, None).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "an idle cursor expires: {v}");
    assert!(v["message"].as_str().expect("message").contains("expired"));
    sim.shutdown().await;
}

#[tokio::test]
async fn export_is_newest_first_unless_asked() {
    let sim = ghl_sim::spawn(cfg(100)).await.expect("spawns");
    let loc = sim.location_id().to_string();
    let dates = |v: &Value| -> Vec<String> {
        v["messages"]
            .as_array()
            .expect("messages")
            .iter()
            .map(|m| m["dateAdded"].as_str().expect("date").to_string())
            .collect()
    };
    let base = format!("/conversations/messages/export?locationId={loc}&limit=50");
    let (_, _, v) = call(&sim, Method::GET, &base, CONV_V, None).await;
    let d = dates(&v);
    assert!(d.windows(2).all(|w| w[0] >= w[1]), "the spec's default order is desc");
    let (_, _, v) =
        call(&sim, Method::GET, &format!("{base}&sortBy=createdAt&sortOrder=asc"), CONV_V, None).await;
    let d = dates(&v);
    assert!(d.windows(2).all(|w| w[0] <= w[1]));
    sim.shutdown().await;
}

#[tokio::test]
async fn export_cursor_visits_every_message_once() {
    let sim = ghl_sim::spawn(cfg(300)).await.expect("spawns");
    let loc = sim.location_id().to_string();
    let snap = sim.snapshot();
    let emails = snap.messages.iter().filter(|m| m.message_type == "TYPE_EMAIL").count();
    let mut seen = HashSet::new();
    for channel in ["", "&channel=Email"] {
        let mut cursor: Option<String> = None;
        loop {
            let mut path = format!("/conversations/messages/export?locationId={loc}&limit=100{channel}");
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={}", urlencode(c)));
            }
            let (st, _, v) = call(&sim, Method::GET, &path, CONV_V, None).await;
            assert_eq!(st, StatusCode::OK, "{v}");
            for m in v["messages"].as_array().expect("messages") {
                assert!(seen.insert(m["id"].as_str().expect("id").to_string()));
                assert!(m["type"].is_number());
            }
            if cursor.is_none() && channel.is_empty() {
                assert_eq!(v["total"], snap.messages.len() - emails);
            } else if channel.is_empty() {
                assert!(v["total"].as_u64().expect("total") > (snap.messages.len() - emails) as u64);
            } else {
                assert_eq!(v["total"], emails);
            }
            match v["nextCursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => break,
            }
            // New messages arriving mid-export do not disturb the cursor, and its view does
            // not show them: they are for the next export.
            let cid = &snap.contacts[0].id;
            sim.inbound(cid, "Are there any open houses this weekend?").expect("inbound");
        }
    }
    let original: HashSet<String> = snap.messages.iter().map(|m| m.id.clone()).collect();
    assert_eq!(original, seen, "every message of the view once, none added after it");
    // Limits as documented.
    let (st, _, _) = call(
        &sim,
        Method::GET,
        &format!("/conversations/messages/export?locationId={loc}&limit=5"),
        CONV_V,
        None,
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    sim.shutdown().await;
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn conversation_messages_are_nested_and_paged() {
    let sim = ghl_sim::spawn(cfg(100)).await.expect("spawns");
    let snap = sim.snapshot();
    let conv = snap
        .conversations
        .iter()
        .max_by_key(|c| snap.messages.iter().filter(|m| m.conversation_id == c.id).count())
        .expect("a conversation");
    let n = snap.messages.iter().filter(|m| m.conversation_id == conv.id).count();
    let mut got = Vec::new();
    let mut last: Option<String> = None;
    loop {
        let mut path = format!("/conversations/{}/messages?limit=2", conv.id);
        if let Some(l) = &last {
            path.push_str(&format!("&lastMessageId={l}"));
        }
        let (st, _, v) = call(&sim, Method::GET, &path, CONV_V, None).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        let inner = &v["messages"];
        for m in inner["messages"].as_array().expect("nested messages") {
            got.push(m["dateAdded"].as_str().expect("date").to_string());
        }
        if inner["nextPage"] != true {
            break;
        }
        last = inner["lastMessageId"].as_str().map(str::to_string);
    }
    assert_eq!(got.len(), n);
    assert!(got.windows(2).all(|w| w[0] >= w[1]), "newest first");
    sim.shutdown().await;
}

#[tokio::test]
async fn token_and_version_are_checked() {
    let sim = ghl_sim::spawn(cfg(10)).await.expect("spawns");
    let loc = sim.location_id().to_string();
    let client = Client::new();
    let r = client
        .get(format!("{}/locations/{loc}", sim.base_url()))
        .header("Version", CONTACTS_V)
        .send()
        .await
        .expect("sends");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(r.json::<Value>().await.expect("json"), json!({"statusCode": 401, "message": "Invalid JWT"}));
    let r = client
        .get(format!("{}/locations/{loc}", sim.base_url()))
        .bearer_auth("wrong")
        .header("Version", CONTACTS_V)
        .send()
        .await
        .expect("sends");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = client
        .get(format!("{}/locations/{loc}", sim.base_url()))
        .bearer_auth(sim.token())
        .send()
        .await
        .expect("sends");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(r.json::<Value>().await.expect("json")["statusCode"], 400);
    // Conversations want 2021-04-15.
    let (st, _, _) =
        call(&sim, Method::GET, &format!("/conversations/search?locationId={loc}"), CONTACTS_V, None).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, _, v) = call(&sim, Method::GET, &format!("/locations/{loc}"), CONTACTS_V, None).await;
    assert_eq!(st, StatusCode::OK);
    let company = v["location"]["companyId"].as_str().expect("companyId").to_string();
    assert_eq!(v["location"]["timezone"], "America/Chicago");
    // Users need companyId.
    let (st, _, _) = call(&sim, Method::GET, "/users/search", CONTACTS_V, None).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    let (st, _, v) = call(
        &sim,
        Method::GET,
        &format!("/users/search?companyId={company}&locationId={loc}"),
        CONTACTS_V,
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["count"], 4);
    let (_, _, v) =
        call(&sim, Method::GET, &format!("/locations/{loc}/customFields?model=contact"), CONTACTS_V, None)
            .await;
    let keys: Vec<&str> =
        v["customFields"].as_array().expect("fields").iter().filter_map(|f| f["fieldKey"].as_str()).collect();
    assert!(keys.contains(&"contact.budget") && keys.contains(&"contact.home_condition"));
    let (_, _, v) = call(&sim, Method::GET, &format!("/locations/{loc}/tags"), CONTACTS_V, None).await;
    assert!(v["tags"].as_array().expect("tags").iter().any(|t| t["name"] == "Buyer-Lead"));
    // Another location → 403.
    let (st, _, _) = call(&sim, Method::GET, "/locations/someoneElse", CONTACTS_V, None).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    sim.shutdown().await;
}

#[tokio::test]
async fn burst_limit_gives_429_with_headers() {
    let sim = ghl_sim::spawn(SimConfig { rate_limit: Some(RateLimit::new(5, 60_000)), ..cfg(10) })
        .await
        .expect("spawns");
    let path = format!("/locations/{}", sim.location_id());
    for i in 0..5 {
        let (st, h, _) = call(&sim, Method::GET, &path, CONTACTS_V, None).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(h["x-ratelimit-max"], "5");
        assert_eq!(h["x-ratelimit-remaining"], (4 - i).to_string().as_str());
        assert_eq!(h["x-ratelimit-interval-milliseconds"], "60000");
        assert_eq!(h["x-ratelimit-limit-daily"], "200000");
        assert!(h.contains_key("x-ratelimit-daily-remaining"));
    }
    let (st, h, v) = call(&sim, Method::GET, &path, CONTACTS_V, None).await;
    assert_eq!(st, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(v, json!({"statusCode": 429, "message": "Too Many Requests"}));
    assert_eq!(h["x-ratelimit-remaining"], "0");
    assert_eq!(sim.rate_limited(), 1);
    // Sim control is not limited, and reports the 429.
    let s = state(&sim, true).await;
    assert_eq!(s["rate_limit"]["limited"], 1);
    assert_eq!(s["requests"], 6);
    sim.shutdown().await;
}

#[tokio::test]
async fn faults_never_mutate_state() {
    let sim = ghl_sim::spawn(SimConfig {
        fault_rate: 1.0,
        fault_kinds: vec![
            FaultKind::TooManyRequests,
            FaultKind::ServerError,
            FaultKind::BadGateway,
            FaultKind::TruncatedJson,
            FaultKind::MalformedJson,
        ],
        ..cfg(20)
    })
    .await
    .expect("spawns");
    let before = sim.snapshot();
    let id = before.contacts[0].id.clone();
    let mut kinds = HashSet::new();
    for i in 0..40 {
        let (st, _, v) = call(
            &sim,
            Method::PUT,
            &format!("/contacts/{id}"),
            CONTACTS_V,
            Some(json!({"firstName": format!("Changed{i}")})),
        )
        .await;
        // Every answer is an error or an unparseable 200.
        assert!(st != StatusCode::OK || v.is_string(), "{st} {v}");
        kinds.insert(st.as_u16());
        let sent = call(
            &sim,
            Method::POST,
            "/conversations/messages",
            CONV_V,
            Some(json!({"type": "SMS", "contactId": id, "message": "hi"})),
        )
        .await;
        assert!(sent.0 != StatusCode::OK || sent.2.is_string());
    }
    assert!(kinds.len() >= 3, "{kinds:?}");
    assert_eq!(sim.snapshot(), before);
    assert!(sim.sent().is_empty());
    assert_eq!(sim.faults_injected(), 80);
    sim.shutdown().await;
}

#[tokio::test]
async fn opportunities_search_pages_and_pipelines() {
    let sim = ghl_sim::spawn(cfg(400)).await.expect("spawns");
    let loc = sim.location_id().to_string();
    let (st, _, v) =
        call(&sim, Method::GET, &format!("/opportunities/pipelines?locationId={loc}"), CONTACTS_V, None)
            .await;
    assert_eq!(st, StatusCode::OK);
    let names: Vec<&str> =
        v["pipelines"].as_array().expect("pipelines").iter().filter_map(|p| p["name"].as_str()).collect();
    assert_eq!(names, vec!["Buyer Pipeline", "Seller Pipeline"]);
    assert_eq!(v["pipelines"][0]["stages"][6]["name"], "Closed");
    let mut seen = HashSet::new();
    let mut next: Option<(i64, String)> = None;
    loop {
        let mut path = format!("/opportunities/search?location_id={loc}&limit=100&status=all");
        if let Some((sa, id)) = &next {
            path.push_str(&format!("&startAfter={sa}&startAfterId={id}"));
        }
        let (st, _, v) = call(&sim, Method::GET, &path, CONTACTS_V, None).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["meta"]["total"], 80);
        for o in v["opportunities"].as_array().expect("opps") {
            assert!(seen.insert(o["id"].as_str().expect("id").to_string()));
        }
        if v["meta"]["nextPageUrl"].is_null() {
            break;
        }
        next = Some((
            v["meta"]["startAfter"].as_i64().expect("startAfter"),
            v["meta"]["startAfterId"].as_str().expect("id").to_string(),
        ));
    }
    assert_eq!(seen.len(), 80);
    // Without `status` only open deals come back: a client must ask for `all`.
    let (_, _, v) = call(
        &sim,
        Method::GET,
        &format!("/opportunities/search?location_id={loc}&limit=100"),
        CONTACTS_V,
        None,
    )
    .await;
    let open = sim.snapshot().opportunities.iter().filter(|o| o.status == "open").count();
    assert!(open < 80);
    assert_eq!(v["meta"]["total"], open);
    // v2 wants snake_case; camelCase is refused.
    let (st, _, _) =
        call(&sim, Method::GET, &format!("/opportunities/search?locationId={loc}"), CONTACTS_V, None).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    let (st, _, _) = call(
        &sim,
        Method::GET,
        &format!("/opportunities/search?location_id={loc}&limit=101"),
        CONTACTS_V,
        None,
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    sim.shutdown().await;
}

#[tokio::test]
async fn send_records_and_respects_stop() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("requests.jsonl");
    let sim = ghl_sim::spawn(SimConfig { request_log: Some(log.clone()), ..cfg(30) }).await.expect("spawns");
    let lead = sim.inject_lead(&json!({"firstName": "Dana", "phone": "+12145550188"})).expect("lead");
    let (st, _, v) = call(
        &sim,
        Method::POST,
        "/conversations/messages",
        CONV_V,
        Some(
            json!({"type": "SMS", "contactId": lead.id, "message": "Hi Dana, when are you hoping to move?"}),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert!(v["conversationId"].is_string() && v["messageId"].is_string());
    let s = state(&sim, true).await;
    assert_eq!(s["sent"][0]["contact_id"], lead.id.as_str());
    assert_eq!(s["sent"][0]["channel"], "sms");
    assert!(s["sent"][0]["at"].as_str().expect("at").ends_with('Z'));
    assert_eq!(s["counts"]["contacts"], 31);
    // STOP sets SMS DND; the next send is refused, email still allowed.
    sim.inbound(&lead.id, "STOP").expect("inbound");
    let (st, _, v) = call(
        &sim,
        Method::POST,
        "/conversations/messages",
        CONV_V,
        Some(json!({"type": "SMS", "contactId": lead.id, "message": "still there?"})),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(sim.sent().len(), 1);
    let (_, _, v) = call(&sim, Method::GET, &format!("/contacts/{}", lead.id), CONTACTS_V, None).await;
    assert_eq!(v["contact"]["dndSettings"]["SMS"]["status"], "active");
    let full = state(&sim, false).await;
    assert_eq!(
        full["contacts"].as_array().expect("contacts").len(),
        full["counts"]["contacts"].as_u64().expect("count") as usize
    );
    assert_eq!(
        full["messages"].as_array().expect("messages").len(),
        full["counts"]["messages"].as_u64().expect("count") as usize
    );
    sim.shutdown().await;
    let lines: Vec<Value> = std::fs::read_to_string(&log)
        .expect("log")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    let send = lines.iter().find(|l| l["path"] == "/conversations/messages").expect("logged send");
    assert_eq!(send["method"], "POST");
    assert_eq!(send["headers"]["authorization"], "Bearer ***");
    assert_eq!(send["body"]["type"], "SMS");
    assert_eq!(send["status"], 200);
    assert!(!std::fs::read_to_string(&log).expect("log").contains("sim-token"));
}

#[tokio::test]
async fn webhooks_are_signed_with_the_published_key() {
    use axum::body::Bytes;
    use axum::http::HeaderMap;
    use ed25519_dalek::{Signature, Verifier, VerifyingKey};
    use tokio::sync::mpsc;

    let (tx, mut rx) = mpsc::unbounded_channel::<(HeaderMap, Bytes)>();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |h: HeaderMap, b: Bytes| {
            let tx = tx.clone();
            async move {
                let _ = tx.send((h, b));
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("binds");
    let hook = format!("http://{}/hook", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let sim = ghl_sim::spawn(SimConfig { webhook_url: Some(hook), ..cfg(10) }).await.expect("spawns");
    let pem = reqwest::get(format!("{}/__sim/webhook-public-key", sim.base_url()))
        .await
        .expect("key")
        .text()
        .await
        .expect("pem");
    assert_eq!(pem, sim.webhook_public_key_pem());
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = B64.decode(b64).expect("base64");
    let key: [u8; 32] = der[der.len() - 32..].try_into().expect("32 bytes");
    let vk = VerifyingKey::from_bytes(&key).expect("key");

    let r = Client::new()
        .post(format!("{}/__sim/leads", sim.base_url()))
        .json(&json!({"opportunity": false}))
        .send()
        .await
        .expect("lead");
    assert_eq!(r.status(), StatusCode::CREATED);
    let lead: Value = r.json().await.expect("json");
    let (headers, body) = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("webhook in time")
        .expect("webhook");
    let sig = B64.decode(headers["x-ghl-signature"].to_str().expect("ascii")).expect("base64 sig");
    let sig = Signature::from_slice(&sig).expect("64 bytes");
    assert!(vk.verify(&body, &sig).is_ok());
    let mut tampered = body.to_vec();
    tampered[0] = b' ';
    assert!(vk.verify(&tampered, &sig).is_err());
    let event: Value = serde_json::from_slice(&body).expect("flat json");
    assert_eq!(event["type"], "ContactCreate");
    assert_eq!(event["id"], lead["contact"]["id"]);
    assert_eq!(event["locationId"], sim.location_id());
    assert!(event["webhookId"].as_str().is_some_and(|s| s.len() == 36));
    assert!(event["timestamp"].as_str().is_some_and(|s| s.ends_with('Z')));
    // Inbound STOP → InboundMessage then ContactDndUpdate.
    let id = lead["contact"]["id"].as_str().expect("id");
    sim.inbound(id, "stop").expect("inbound");
    let mut types = Vec::new();
    for _ in 0..2 {
        let (h, b) =
            tokio::time::timeout(Duration::from_secs(5), rx.recv()).await.expect("in time").expect("event");
        let s =
            Signature::from_slice(&B64.decode(h["x-ghl-signature"].to_str().expect("ascii")).expect("b64"))
                .expect("sig");
        assert!(vk.verify(&b, &s).is_ok());
        let v: Value = serde_json::from_slice(&b).expect("json");
        types.push(v["type"].as_str().expect("type").to_string());
    }
    assert_eq!(types, vec!["InboundMessage", "ContactDndUpdate"]);
    sim.shutdown().await;
}
