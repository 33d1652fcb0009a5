//! The GHL webhook receiver over real HTTP on 127.0.0.1: valid, forged, replayed, malformed and
//! oversize requests, both envelopes, the legacy RSA header, events for other locations, slow
//! clients, the connection cap, and deliveries from the simulator.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::pkcs8::EncodePublicKey;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::{Signer, SigningKey};
use leadline_daemon::webhook::{
    GHL_SIGNATURE_HEADER, Hint, WEBHOOK_PATH, WH_SIGNATURE_HEADER, WebhookConfig, WebhookError,
    WebhookHandle, WebhookStatsSnapshot, serve,
};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

const LOOPBACK: &str = "127.0.0.1:0";
/// The location the test receivers mirror (also the simulator's default).
const LOCATION: &str = "ve9EPM428h8vShlRW1KT";

fn loopback() -> SocketAddr {
    LOOPBACK.parse().expect("loopback address")
}

/// A fresh random Ed25519 key pair for this test run.
fn fresh_key() -> SigningKey {
    SigningKey::from_bytes(&rand::random::<[u8; 32]>())
}

fn public_pem(key: &SigningKey) -> String {
    key.verifying_key().to_public_key_pem(LineEnding::LF).expect("public key PEM")
}

fn ed_sig(key: &SigningKey, body: &[u8]) -> String {
    STANDARD.encode(key.sign(body).to_bytes())
}

/// A receiver with a test key, its hint channel and an HTTP client.
struct Rig {
    handle: WebhookHandle,
    hints: mpsc::Receiver<Hint>,
    key: SigningKey,
    http: reqwest::Client,
    shutdown: CancellationToken,
}

impl Rig {
    async fn start() -> Rig {
        Rig::start_with(|_| {}, 64).await
    }

    async fn start_with(tune: impl FnOnce(&mut WebhookConfig), channel: usize) -> Rig {
        let key = fresh_key();
        let mut cfg = WebhookConfig::with_ed25519_key(loopback(), LOCATION, public_pem(&key));
        tune(&mut cfg);
        let (tx, hints) = mpsc::channel(channel);
        let shutdown = CancellationToken::new();
        let handle = serve(cfg, tx, shutdown.clone()).await.expect("receiver starts");
        assert!(handle.local_addr.ip().is_loopback());
        assert_ne!(handle.local_addr.port(), 0);
        let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("client");
        Rig { handle, hints, key, http, shutdown }
    }

    /// POSTs `body` with `headers` to the webhook URL; returns the status and the JSON answer.
    async fn post(&self, body: impl Into<Vec<u8>>, headers: &[(&str, &str)]) -> (StatusCode, Value) {
        let mut req =
            self.http.post(self.handle.url()).header("content-type", "application/json").body(body.into());
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = req.send().await.expect("request answered");
        let status = resp.status();
        let text = resp.text().await.expect("response body");
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    /// POSTs `body` signed with the rig's key.
    async fn post_signed(&self, body: &[u8]) -> (StatusCode, Value) {
        let sig = ed_sig(&self.key, body);
        self.post(body.to_vec(), &[(GHL_SIGNATURE_HEADER, &sig)]).await
    }

    /// The hints queued so far. The receiver queues a hint before it answers, so once a
    /// response is in, its hint (if any) is already here: no sleeping needed.
    fn drain(&mut self) -> Vec<Hint> {
        let mut out = Vec::new();
        while let Ok(h) = self.hints.try_recv() {
            out.push(h);
        }
        out
    }

    fn stats(&self) -> WebhookStatsSnapshot {
        self.handle.stats.snapshot()
    }
}

fn contact_event(id: &str, webhook_id: &str) -> Vec<u8> {
    json!({
        "type": "ContactCreate",
        "locationId": LOCATION,
        "id": id,
        "firstName": "Dana",
        "phone": "+12145550100",
        "tags": ["Buyer-Lead"],
        "webhookId": webhook_id,
        "timestamp": jiff::Timestamp::now().to_string(),
    })
    .to_string()
    .into_bytes()
}

#[tokio::test]
async fn valid_signature_is_accepted_and_hinted() {
    let mut rig = Rig::start().await;
    let body = contact_event("c-valid", "wh-valid");
    let (status, answer) = rig.post_signed(&body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["ok"], true);
    assert_eq!(rig.drain(), vec![Hint::Contact { id: "c-valid".into() }]);
    assert_eq!(rig.stats(), WebhookStatsSnapshot { accepted: 1, ..Default::default() });

    // `/` is an alias of the webhook path; other paths and methods are refused.
    let root_body = contact_event("c-root", "wh-root");
    let sig = ed_sig(&rig.key, &root_body);
    let root = format!("http://{}/", rig.handle.local_addr);
    let resp = rig
        .http
        .post(&root)
        .header(GHL_SIGNATURE_HEADER, &sig)
        .body(root_body)
        .send()
        .await
        .expect("answered");
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(rig.drain(), vec![Hint::Contact { id: "c-root".into() }]);
    let resp = rig.http.get(rig.handle.url()).send().await.expect("answered");
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
    let other = format!("http://{}/elsewhere", rig.handle.local_addr);
    let resp = rig.http.post(other).body("{}").send().await.expect("answered");
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert!(rig.handle.url().ends_with(WEBHOOK_PATH));
    assert!(rig.drain().is_empty());
}

#[tokio::test]
async fn forged_signatures_are_401() {
    let mut rig = Rig::start().await;
    let body = contact_event("c-forged", "wh-forged");
    // Signed by someone else's key.
    let forged = ed_sig(&fresh_key(), &body);
    let (status, answer) = rig.post(body.clone(), &[(GHL_SIGNATURE_HEADER, &forged)]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer, json!({"error": "invalid signature"}));
    // Not base64, the wrong length, all zeroes.
    let zeros = STANDARD.encode([0u8; 64]);
    let short = STANDARD.encode([1u8; 32]);
    for sig in ["not base64!!", short.as_str(), zeros.as_str()] {
        let (status, _) = rig.post(body.clone(), &[(GHL_SIGNATURE_HEADER, sig)]).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{sig}");
    }
    // A valid signature of another body.
    let other = ed_sig(&rig.key, &contact_event("c-other", "wh-other"));
    let (status, _) = rig.post(body.clone(), &[(GHL_SIGNATURE_HEADER, &other)]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // A valid signature sent twice with a forged one: refused, whatever the order.
    let good = ed_sig(&rig.key, &body);
    let resp = rig
        .http
        .post(rig.handle.url())
        .header(GHL_SIGNATURE_HEADER, "N/A")
        .header(GHL_SIGNATURE_HEADER, &good)
        .body(body.clone())
        .send()
        .await
        .expect("answered");
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);

    assert!(rig.drain().is_empty());
    assert_eq!(rig.stats(), WebhookStatsSnapshot { unauthorized: 6, ..Default::default() });
    // The key still works for the genuine article (the failures left no state behind).
    assert_eq!(rig.post_signed(&body).await.0, StatusCode::OK);
    assert_eq!(rig.drain(), vec![Hint::Contact { id: "c-forged".into() }]);
}

#[tokio::test]
async fn body_changed_after_signing_is_401() {
    let mut rig = Rig::start().await;
    let body = contact_event("c-tamper", "wh-tamper");
    let sig = ed_sig(&rig.key, &body);
    // Another contact id, same length.
    let tampered =
        String::from_utf8(body.clone()).expect("utf8").replace("c-tamper", "c-evil!!").into_bytes();
    assert_eq!(tampered.len(), body.len());
    assert_eq!(rig.post(tampered, &[(GHL_SIGNATURE_HEADER, &sig)]).await.0, StatusCode::UNAUTHORIZED);
    // Semantically the same JSON, re-serialised (pretty-printed): the bytes differ, so 401.
    let value: Value = serde_json::from_slice(&body).expect("json");
    let pretty = serde_json::to_vec_pretty(&value).expect("json");
    assert_eq!(rig.post(pretty, &[(GHL_SIGNATURE_HEADER, &sig)]).await.0, StatusCode::UNAUTHORIZED);
    // One trailing byte added, or the last one removed.
    let mut longer = body.clone();
    longer.push(b' ');
    assert_eq!(rig.post(longer, &[(GHL_SIGNATURE_HEADER, &sig)]).await.0, StatusCode::UNAUTHORIZED);
    let shorter = body[..body.len() - 1].to_vec();
    assert_eq!(rig.post(shorter, &[(GHL_SIGNATURE_HEADER, &sig)]).await.0, StatusCode::UNAUTHORIZED);
    assert!(rig.drain().is_empty());
    assert_eq!(rig.stats().unauthorized, 4);
}

#[tokio::test]
async fn missing_signature_is_401() {
    let mut rig = Rig::start().await;
    let body = contact_event("c-unsigned", "wh-unsigned");
    assert_eq!(rig.post(body.clone(), &[]).await.0, StatusCode::UNAUTHORIZED);
    // `N/A` and empty values count as absent.
    assert_eq!(rig.post(body.clone(), &[(GHL_SIGNATURE_HEADER, "N/A")]).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(rig.post(body.clone(), &[(GHL_SIGNATURE_HEADER, "")]).await.0, StatusCode::UNAUTHORIZED);
    // A legacy header without a configured RSA key is refused too.
    let fake_rsa = STANDARD.encode([7u8; 256]);
    assert_eq!(rig.post(body.clone(), &[(WH_SIGNATURE_HEADER, &fake_rsa)]).await.0, StatusCode::UNAUTHORIZED);
    // Signature is checked before the JSON: an unsigned malformed body is 401, not 400.
    assert_eq!(rig.post(b"{not json".to_vec(), &[]).await.0, StatusCode::UNAUTHORIZED);
    assert!(rig.drain().is_empty());
    assert_eq!(rig.stats(), WebhookStatsSnapshot { unauthorized: 5, ..Default::default() });
}

#[tokio::test]
async fn replayed_webhook_id_is_200_but_hinted_once() {
    let mut rig = Rig::start().await;
    let body = contact_event("c-replay", "wh-replay");
    let first = rig.post_signed(&body).await;
    let second = rig.post_signed(&body).await;
    assert_eq!(first.0, StatusCode::OK);
    assert_eq!(second.0, StatusCode::OK, "a replay must not make GHL retry");
    assert_eq!(second.1, json!({"ok": true, "duplicate": true}));
    assert_eq!(rig.drain(), vec![Hint::Contact { id: "c-replay".into() }]);

    // The same webhookId in a different (signed) payload is still a duplicate.
    let other = contact_event("c-replay-2", "wh-replay");
    assert_eq!(rig.post_signed(&other).await.0, StatusCode::OK);
    assert!(rig.drain().is_empty());
    // A new webhookId for the same record is a new event.
    let fresh = contact_event("c-replay", "wh-replay-2");
    assert_eq!(rig.post_signed(&fresh).await.0, StatusCode::OK);
    assert_eq!(rig.drain(), vec![Hint::Contact { id: "c-replay".into() }]);
    // An old timestamp is accepted (GHL retries late; dedup is by webhookId).
    let old = json!({"type": "ContactUpdate", "locationId": LOCATION, "id": "c-old", "webhookId": "wh-old",
                     "timestamp": "2020-01-01T00:00:00Z"})
    .to_string();
    assert_eq!(rig.post_signed(old.as_bytes()).await.0, StatusCode::OK);
    assert_eq!(rig.drain(), vec![Hint::Contact { id: "c-old".into() }]);
    assert_eq!(rig.stats(), WebhookStatsSnapshot { accepted: 3, duplicates: 2, ..Default::default() });
}

#[tokio::test]
async fn dedup_memory_is_bounded() {
    let mut rig = Rig::start_with(|c| c.dedup_capacity = 2, 64).await;
    for id in ["a", "b", "c"] {
        assert_eq!(rig.post_signed(&contact_event(id, &format!("wh-{id}"))).await.0, StatusCode::OK);
    }
    // "wh-a" was evicted by "wh-c", so it counts as new again; "wh-c" is still remembered.
    assert_eq!(rig.post_signed(&contact_event("a", "wh-a")).await.0, StatusCode::OK);
    assert_eq!(rig.post_signed(&contact_event("c", "wh-c")).await.0, StatusCode::OK);
    let ids: Vec<_> = rig.drain().iter().filter_map(|h| h.contact_id().map(str::to_string)).collect();
    assert_eq!(ids, ["a", "b", "c", "a"]);
    assert_eq!(rig.stats().duplicates, 1);
}

#[tokio::test]
async fn signed_malformed_json_is_400() {
    let mut rig = Rig::start().await;
    let cases: [&[u8]; 6] =
        [b"{not json", b"", b"[1,2,3]", b"\"ContactCreate\"", br#"{"id":"c1"}"#, br#"{"type":42,"id":"c1"}"#];
    for body in cases {
        let (status, answer) = rig.post_signed(body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{:?}", String::from_utf8_lossy(body));
        assert_eq!(answer, json!({"error": "malformed event"}));
    }
    // Invalid UTF-8 inside a string.
    let mut bad_utf8 = br#"{"type":"ContactCreate","id":""#.to_vec();
    bad_utf8.extend_from_slice(&[0xff, 0xfe]);
    bad_utf8.extend_from_slice(br#""}"#);
    assert_eq!(rig.post_signed(&bad_utf8).await.0, StatusCode::BAD_REQUEST);
    assert!(rig.drain().is_empty());
    assert_eq!(rig.stats(), WebhookStatsSnapshot { malformed: 7, ..Default::default() });
}

#[tokio::test]
async fn other_locations_are_ignored_and_counted() {
    let mut rig = Rig::start().await;
    let ignored = json!({"ok": true, "ignored": true});
    // Genuinely signed (GHL signs every location's events with one key), for someone else.
    let foreign = json!({"type": "ContactCreate", "locationId": "someoneElsesLocation", "id": "c-foreign",
                         "webhookId": "wh-shared"})
    .to_string();
    let (status, answer) = rig.post_signed(foreign.as_bytes()).await;
    assert_eq!(
        (status, &answer),
        (StatusCode::OK, &ignored),
        "200 so GHL neither retries nor pauses the URL"
    );
    // The wrapped form: the id inside `data` decides the same way.
    let wrapped = json!({"type": "ContactUpdate", "webhookId": "wh-wrapped",
                         "data": {"id": "c-foreign", "locationId": "someoneElsesLocation"}})
    .to_string();
    assert_eq!(rig.post_signed(wrapped.as_bytes()).await, (StatusCode::OK, ignored.clone()));
    // Ours at the top, another inside `data`: not ours.
    let mixed = json!({"type": "ContactUpdate", "locationId": LOCATION, "webhookId": "wh-mixed",
                       "data": {"id": "c-foreign", "locationId": "someoneElsesLocation"}})
    .to_string();
    assert_eq!(rig.post_signed(mixed.as_bytes()).await, (StatusCode::OK, ignored.clone()));
    // No locationId where the event type carries one.
    let missing = json!({"type": "OpportunityStatusUpdate", "id": "o1", "contactId": "c1", "status": "won"})
        .to_string();
    assert_eq!(rig.post_signed(missing.as_bytes()).await, (StatusCode::OK, ignored.clone()));
    assert!(rig.drain().is_empty(), "no hint for another location");
    assert_eq!(rig.stats(), WebhookStatsSnapshot { foreign_location: 4, ..Default::default() });

    // The signature still comes first: an unsigned foreign event is 401, not 200.
    assert_eq!(rig.post(foreign.clone().into_bytes(), &[]).await.0, StatusCode::UNAUTHORIZED);
    // A foreign event's webhookId was not remembered: ours with the same id is new.
    let ours = contact_event("c-ours", "wh-shared");
    assert_eq!(rig.post_signed(&ours).await.1, json!({"ok": true, "accepted": true}));
    // An agency-level UNINSTALL carries only companyId; it is let through (nothing to re-fetch).
    let uninstall =
        json!({"type": "UNINSTALL", "appId": "app1", "companyId": "co1", "webhookId": "wh-un"}).to_string();
    assert_eq!(rig.post_signed(uninstall.as_bytes()).await.0, StatusCode::OK);
    assert_eq!(
        rig.drain(),
        vec![Hint::Contact { id: "c-ours".into() }, Hint::Other { event: "UNINSTALL".into() }]
    );
    assert_eq!(
        rig.stats(),
        WebhookStatsSnapshot { accepted: 2, foreign_location: 4, unauthorized: 1, ..Default::default() }
    );
}

#[tokio::test]
async fn oversize_body_is_413() {
    const LIMIT: usize = 4096;
    let mut rig = Rig::start_with(|c| c.max_body_bytes = LIMIT, 64).await;
    // Exactly at the limit: accepted (padding in a field the parser ignores).
    let at_limit = |webhook_id: &str, extra: usize| {
        let base = contact_event("c-big", webhook_id);
        let skeleton = String::from_utf8(base).expect("utf8");
        let pad_len = LIMIT + extra - skeleton.len() - r#","pad":"""#.len();
        let body = format!(r#"{},"pad":"{}"}}"#, &skeleton[..skeleton.len() - 1], "x".repeat(pad_len));
        assert_eq!(body.len(), LIMIT + extra);
        body.into_bytes()
    };
    let ok = at_limit("wh-big-ok", 0);
    assert_eq!(rig.post_signed(&ok).await.0, StatusCode::OK);
    assert_eq!(rig.drain(), vec![Hint::Contact { id: "c-big".into() }]);
    // One byte over: 413, even though it is validly signed.
    let over = at_limit("wh-big-over", 1);
    let (status, answer) = rig.post_signed(&over).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(answer, json!({"error": "body too large"}));
    // Size is checked before the signature: unsigned and far over is 413 as well.
    assert_eq!(rig.post(vec![b'{'; 64 * 1024], &[]).await.0, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(rig.drain().is_empty());
    assert_eq!(rig.stats(), WebhookStatsSnapshot { accepted: 1, too_large: 2, ..Default::default() });
}

#[tokio::test]
async fn default_limit_refuses_over_one_mib() {
    let mut rig = Rig::start().await;
    let body = vec![b' '; leadline_daemon::webhook::DEFAULT_MAX_BODY_BYTES + 1];
    let sig = ed_sig(&rig.key, &body);
    assert_eq!(rig.post(body, &[(GHL_SIGNATURE_HEADER, &sig)]).await.0, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(rig.drain().is_empty());
}

#[tokio::test]
async fn data_wrapped_envelope_is_hinted() {
    let mut rig = Rig::start().await;
    let wrapped = json!({
        "type": "ContactUpdate",
        "timestamp": "2025-01-28T14:35:00Z",
        "webhookId": "abc123xyz",
        "data": {"id": "c-wrapped", "locationId": LOCATION, "firstName": "Lee"},
    })
    .to_string();
    assert_eq!(rig.post_signed(wrapped.as_bytes()).await.0, StatusCode::OK);
    // Type and ids inside `data` only.
    let inner = json!({"webhookId": "w-inner", "data": {"type": "InboundMessage", "locationId": LOCATION,
                       "contactId": "c-msg", "conversationId": "conv1", "messageId": "m1", "body": "hi"}})
    .to_string();
    assert_eq!(rig.post_signed(inner.as_bytes()).await.0, StatusCode::OK);
    // The flat form of an opportunity event, for contrast.
    let flat = json!({"type": "OpportunityStatusUpdate", "locationId": LOCATION, "id": "o1",
                      "contactId": "c-wrapped", "status": "won", "webhookId": "w-flat"})
    .to_string();
    assert_eq!(rig.post_signed(flat.as_bytes()).await.0, StatusCode::OK);
    assert_eq!(
        rig.drain(),
        vec![
            Hint::Contact { id: "c-wrapped".into() },
            Hint::Message {
                contact_id: "c-msg".into(),
                conversation_id: Some("conv1".into()),
                message_id: Some("m1".into()),
                inbound: true,
            },
            Hint::Opportunity { id: "o1".into(), contact_id: Some("c-wrapped".into()) },
        ]
    );
    // A replay of the wrapped event (its webhookId is at the top level) is deduplicated.
    assert_eq!(rig.post_signed(wrapped.as_bytes()).await.0, StatusCode::OK);
    assert!(rig.drain().is_empty());
}

/// An RSA key pair and its SPKI PEM.
fn rsa_key() -> (RsaKeyPair, String) {
    let pair = RsaKeyPair::generate(KeySize::Rsa2048).expect("rsa keygen");
    let der = pair.public_key().as_der().expect("spki");
    let b64 = STANDARD.encode(der.as_ref());
    let mut pem = String::from("-----BEGIN PUBLIC KEY-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(chunk).expect("ascii"));
        pem.push('\n');
    }
    pem.push_str("-----END PUBLIC KEY-----\n");
    (pair, pem)
}

fn rsa_sig(key: &RsaKeyPair, body: &[u8]) -> String {
    let mut sig = vec![0u8; key.public_modulus_len()];
    key.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), body, &mut sig).expect("rsa sign");
    STANDARD.encode(sig)
}

#[tokio::test]
async fn legacy_rsa_header_and_no_downgrade() {
    let (rsa, rsa_pem) = rsa_key();
    let mut rig = Rig::start_with(move |c| c.rsa_public_key_pem = Some(rsa_pem), 64).await;
    let body = contact_event("c-rsa", "wh-rsa");
    let good_rsa = rsa_sig(&rsa, &body);
    // Only the legacy header, valid: accepted.
    assert_eq!(rig.post(body.clone(), &[(WH_SIGNATURE_HEADER, &good_rsa)]).await.0, StatusCode::OK);
    // `X-GHL-Signature: N/A` counts as absent, so the legacy header decides.
    let body2 = contact_event("c-rsa", "wh-rsa-2");
    let sig2 = rsa_sig(&rsa, &body2);
    let (status, _) = rig.post(body2, &[(GHL_SIGNATURE_HEADER, "N/A"), (WH_SIGNATURE_HEADER, &sig2)]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(rig.drain(), vec![Hint::Contact { id: "c-rsa".into() }, Hint::Contact { id: "c-rsa".into() }]);
    // A forged Ed25519 header is not rescued by a valid RSA one.
    let body3 = contact_event("c-rsa", "wh-rsa-3");
    let forged = ed_sig(&fresh_key(), &body3);
    let sig3 = rsa_sig(&rsa, &body3);
    let (status, _) =
        rig.post(body3.clone(), &[(GHL_SIGNATURE_HEADER, &forged), (WH_SIGNATURE_HEADER, &sig3)]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // A tampered body under the legacy header.
    let tampered = contact_event("c-rsa", "wh-rsa-4");
    assert_eq!(rig.post(tampered, &[(WH_SIGNATURE_HEADER, &sig3)]).await.0, StatusCode::UNAUTHORIZED);
    assert!(rig.drain().is_empty());
}

#[tokio::test]
async fn official_ghl_keys_reject_test_signatures() {
    let listen = loopback();
    let (tx, mut rx) = mpsc::channel(8);
    let shutdown = CancellationToken::new();
    let handle =
        serve(WebhookConfig::with_ghl_keys(listen, LOCATION), tx, shutdown.clone()).await.expect("starts");
    let body = contact_event("c-official", "wh-official");
    let sig = ed_sig(&fresh_key(), &body);
    let resp = reqwest::Client::new()
        .post(handle.url())
        .header(GHL_SIGNATURE_HEADER, sig)
        .body(body)
        .send()
        .await
        .expect("answered");
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert!(rx.try_recv().is_err());
    shutdown.cancel();
    handle.stopped().await;
}

#[tokio::test]
async fn non_loopback_listen_is_refused() {
    for addr in ["0.0.0.0:0", "[::]:0", "192.0.2.10:8787", "10.0.0.1:0", "[2001:db8::1]:0"] {
        let addr: SocketAddr = addr.parse().expect("address");
        let (tx, _rx) = mpsc::channel(1);
        let cfg = WebhookConfig::with_ed25519_key(addr, LOCATION, public_pem(&fresh_key()));
        match serve(cfg, tx, CancellationToken::new()).await {
            Err(WebhookError::NotLoopback(a)) => assert_eq!(a, addr),
            other => panic!("{addr} should be refused, got {other:?}"),
        }
    }
    // Bad keys and limits are refused before binding.
    let (tx, _rx) = mpsc::channel(1);
    let bad_key = WebhookConfig::with_ed25519_key(loopback(), LOCATION, "not a key");
    assert!(matches!(
        serve(bad_key, tx.clone(), CancellationToken::new()).await,
        Err(WebhookError::Key { .. })
    ));
    let mut zero = WebhookConfig::with_ed25519_key(loopback(), LOCATION, public_pem(&fresh_key()));
    zero.max_body_bytes = 0;
    assert!(matches!(serve(zero, tx.clone(), CancellationToken::new()).await, Err(WebhookError::Config(_))));
    // Zero timeouts or no connections at all would refuse everything.
    for tune in [
        (|c: &mut WebhookConfig| c.header_read_timeout = Duration::ZERO) as fn(&mut WebhookConfig),
        |c| c.body_read_timeout = Duration::ZERO,
        |c| c.max_connections = 0,
    ] {
        let mut cfg = WebhookConfig::with_ed25519_key(loopback(), LOCATION, public_pem(&fresh_key()));
        tune(&mut cfg);
        assert!(matches!(
            serve(cfg, tx.clone(), CancellationToken::new()).await,
            Err(WebhookError::Config(_))
        ));
    }
    // Without a location the receiver could not tell our events from anyone else's.
    let blank = WebhookConfig::with_ed25519_key(loopback(), " ", public_pem(&fresh_key()));
    match serve(blank, tx, CancellationToken::new()).await {
        Err(e @ WebhookError::Config(_)) => assert!(e.to_string().contains("location_id"), "{e}"),
        other => panic!("a blank location should be refused, got {other:?}"),
    }
}

#[tokio::test]
async fn full_channel_still_answers_200_and_closed_channel_503() {
    let mut rig = Rig::start_with(|_| {}, 1).await;
    // Nobody reads: the first hint fills the channel, the second is dropped, both answer at once.
    let started = Instant::now();
    assert_eq!(rig.post_signed(&contact_event("c1", "wh-1")).await.0, StatusCode::OK);
    let (status, answer) = rig.post_signed(&contact_event("c2", "wh-2")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(answer, json!({"ok": true, "dropped": true}));
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(rig.stats(), WebhookStatsSnapshot { accepted: 1, dropped: 1, ..Default::default() });
    assert_eq!(rig.drain(), vec![Hint::Contact { id: "c1".into() }]);

    // The consumer is gone (daemon shutting down): 503 so GHL retries, and the webhookId is
    // not remembered (the retry must not be taken for a duplicate).
    let Rig { handle, hints, key, http, shutdown } = rig;
    drop(hints);
    let body = contact_event("c3", "wh-3");
    let sig = ed_sig(&key, &body);
    for _ in 0..2 {
        let resp = http
            .post(handle.url())
            .header(GHL_SIGNATURE_HEADER, &sig)
            .body(body.clone())
            .send()
            .await
            .expect("answered");
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    }
    assert_eq!(handle.stats.snapshot().duplicates, 0);

    // Cancelling the token stops the server.
    let url = handle.url();
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(5), handle.stopped()).await.expect("stops promptly");
    let fresh = reqwest::Client::new();
    assert!(fresh.post(url).body("{}").send().await.is_err(), "nothing listens after shutdown");
}

#[tokio::test]
async fn simulator_deliveries_become_hints() {
    let started = Instant::now();
    // The simulator needs the receiver's URL and the receiver the simulator's public key. The
    // key pair is derived from the seed, so a first simulator with the same seed tells us the key.
    let probe =
        ghl_sim::spawn(ghl_sim::SimConfig { contacts: 5, seed: 7, ..Default::default() }).await.expect("sim");
    let pem = probe.webhook_public_key_pem();
    probe.shutdown().await;

    let (tx, mut hints) = mpsc::channel(256);
    let shutdown = CancellationToken::new();
    let handle = serve(WebhookConfig::with_ed25519_key(loopback(), LOCATION, &pem), tx, shutdown.clone())
        .await
        .expect("receiver");
    let sim = ghl_sim::spawn(ghl_sim::SimConfig {
        contacts: 5,
        seed: 7,
        webhook_url: Some(handle.url()),
        ..Default::default()
    })
    .await
    .expect("sim with webhooks");
    assert!(pem.contains("-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA"), "{pem}");
    assert_eq!(sim.webhook_public_key_pem(), pem);

    let lead = sim.inject_lead(&json!({"firstName": "Dana", "leadType": "buyer"})).expect("lead injected");
    sim.inbound(&lead.id, "STOP").expect("inbound STOP");

    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    // ContactCreate, then InboundMessage and ContactDndUpdate after STOP.
    let (mut contact_hints, mut message) = (0, false);
    while !(contact_hints >= 2 && message) {
        let hint = tokio::time::timeout_at(deadline, hints.recv())
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "timed out: {contact_hints} contact hints, message={message}; sim: {:?}",
                    sim.webhooks()
                )
            })
            .expect("channel open");
        match &hint {
            Hint::Contact { id } if *id == lead.id => contact_hints += 1,
            Hint::Message { contact_id, inbound: true, message_id, .. } if *contact_id == lead.id => {
                assert!(message_id.is_some());
                message = true;
            }
            _ => {}
        }
    }
    // Everything the simulator emitted was delivered and answered 2xx.
    let wait = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let s = sim.webhooks();
        if s.delivered == s.emitted || tokio::time::Instant::now() > wait {
            assert_eq!((s.delivered, s.failed), (s.emitted, 0), "{s:?}");
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let stats = handle.stats.snapshot();
    assert_eq!(stats.unauthorized, 0);
    assert_eq!(stats.malformed, 0);
    assert!(stats.accepted >= 3, "{stats:?}");
    assert!(started.elapsed() < Duration::from_secs(30));

    sim.shutdown().await;
    shutdown.cancel();
    handle.stopped().await;
}

#[tokio::test]
async fn simulator_for_another_location_is_ignored() {
    // The simulator signs with the key the receiver trusts, but mirrors another location, as
    // another GHL customer's deliveries would: every delivery succeeds (200), none is hinted.
    let probe =
        ghl_sim::spawn(ghl_sim::SimConfig { contacts: 5, seed: 9, ..Default::default() }).await.expect("sim");
    let pem = probe.webhook_public_key_pem();
    probe.shutdown().await;
    let (tx, mut hints) = mpsc::channel(64);
    let shutdown = CancellationToken::new();
    let handle = serve(WebhookConfig::with_ed25519_key(loopback(), LOCATION, &pem), tx, shutdown.clone())
        .await
        .expect("receiver");
    let sim = ghl_sim::spawn(ghl_sim::SimConfig {
        contacts: 5,
        seed: 9,
        location_id: "anotherCustomersLoc1".into(),
        webhook_url: Some(handle.url()),
        ..Default::default()
    })
    .await
    .expect("sim");
    sim.inject_lead(&json!({"firstName": "Mallory"})).expect("lead injected");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let s = sim.webhooks();
        if (s.emitted > 0 && s.delivered + s.failed == s.emitted) || Instant::now() > deadline {
            assert!(s.emitted > 0 && (s.delivered, s.failed) == (s.emitted, 0), "{s:?}");
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(hints.try_recv().is_err());
    let stats = handle.stats.snapshot();
    assert_eq!((stats.accepted, stats.unauthorized), (0, 0), "{stats:?}");
    assert!(stats.foreign_location >= 1, "{stats:?}");
    sim.shutdown().await;
    shutdown.cancel();
    handle.stopped().await;
}

#[tokio::test]
async fn simulator_key_mismatch_is_refused() {
    // A receiver configured with another key refuses every simulator delivery.
    let (tx, mut hints) = mpsc::channel(64);
    let shutdown = CancellationToken::new();
    let handle = serve(
        WebhookConfig::with_ed25519_key(loopback(), LOCATION, public_pem(&fresh_key())),
        tx,
        shutdown.clone(),
    )
    .await
    .expect("receiver");
    let sim = ghl_sim::spawn(ghl_sim::SimConfig {
        contacts: 5,
        seed: 8,
        webhook_url: Some(handle.url()),
        ..Default::default()
    })
    .await
    .expect("sim");
    sim.inject_lead(&json!({"firstName": "Eve"})).expect("lead injected");
    let deadline = Instant::now() + Duration::from_secs(10);
    while sim.webhooks().failed == 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let s = sim.webhooks();
    assert!(s.failed >= 1 && s.delivered == 0, "{s:?}");
    assert!(s.recent.iter().all(|r| r.status.is_none_or(|st| st == 401)), "{:?}", s.recent);
    assert!(hints.try_recv().is_err());
    assert!(handle.stats.snapshot().unauthorized >= 1);
    sim.shutdown().await;
    shutdown.cancel();
    handle.stopped().await;
}

/// A raw HTTP/1.1 POST of `body` to the webhook path, signed with `key`.
fn raw_signed_post(key: &SigningKey, body: &[u8]) -> Vec<u8> {
    let mut req = format!(
        "POST {WEBHOOK_PATH} HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\n\
         content-length: {}\r\n{GHL_SIGNATURE_HEADER}: {}\r\n\r\n",
        body.len(),
        ed_sig(key, body)
    )
    .into_bytes();
    req.extend_from_slice(body);
    req
}

/// Reads one response (head, then a `content-length` body); returns the status code and the body.
async fn read_response(conn: &mut TcpStream) -> (u16, String) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_string();
            let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("a status line");
            let length: usize = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned())
                })
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + length {
                return (status, String::from_utf8_lossy(&buf[end + 4..end + 4 + length]).to_string());
            }
        }
        let n = conn.read(&mut chunk).await.expect("read");
        assert_ne!(n, 0, "connection closed mid-response: {:?}", String::from_utf8_lossy(&buf));
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Sends `next(i)` every 50 ms (while it gives bytes) until the server closes the connection;
/// returns whatever the server sent before closing. Panics if it is still open after 10 s.
async fn trickle_until_closed(conn: &mut TcpStream, next: impl Fn(usize) -> Option<Vec<u8>>) -> Vec<u8> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut received = Vec::new();
    let mut chunk = [0u8; 4096];
    for i in 0.. {
        assert!(
            Instant::now() < deadline,
            "still open after 10 s; received {:?}",
            String::from_utf8_lossy(&received)
        );
        if let Some(bytes) = next(i)
            && conn.write_all(&bytes).await.is_err()
        {
            // Written into a closed connection: anything the server sent is still readable.
            while let Ok(Ok(n @ 1..)) =
                tokio::time::timeout(Duration::from_secs(1), conn.read(&mut chunk)).await
            {
                received.extend_from_slice(&chunk[..n]);
            }
            return received;
        }
        match tokio::time::timeout(Duration::from_millis(50), conn.read(&mut chunk)).await {
            Err(_) => {}
            Ok(Ok(0) | Err(_)) => return received,
            Ok(Ok(n)) => received.extend_from_slice(&chunk[..n]),
        }
    }
    unreachable!("the loop above only ends by returning")
}

#[tokio::test]
async fn slow_headers_are_cut_off_without_an_answer() {
    const TIMEOUT: Duration = Duration::from_millis(300);
    let mut rig = Rig::start_with(|c| c.header_read_timeout = TIMEOUT, 64).await;
    // A request head that grows by one header line every 50 ms and never ends.
    let started = Instant::now();
    let mut conn = TcpStream::connect(rig.handle.local_addr).await.expect("connects");
    conn.write_all(format!("POST {WEBHOOK_PATH} HTTP/1.1\r\nhost: localhost\r\n").as_bytes())
        .await
        .expect("writes");
    let received = trickle_until_closed(&mut conn, |i| Some(format!("x-slow-{i}: 1\r\n").into_bytes())).await;
    // The timer starts after the connection is accepted, so never before TIMEOUT from connect.
    assert!(started.elapsed() >= TIMEOUT, "cut off after {:?}", started.elapsed());
    assert!(received.is_empty(), "hyper closes without an answer: {:?}", String::from_utf8_lossy(&received));

    // A client that connects and sends nothing at all is cut off the same way.
    let started = Instant::now();
    let mut idle = TcpStream::connect(rig.handle.local_addr).await.expect("connects");
    assert!(trickle_until_closed(&mut idle, |_| None).await.is_empty());
    assert!(started.elapsed() >= TIMEOUT);

    // The timeout is per connection: a prompt client is served as usual.
    assert_eq!(rig.post_signed(&contact_event("c-prompt", "wh-prompt")).await.0, StatusCode::OK);
    assert_eq!(rig.drain(), vec![Hint::Contact { id: "c-prompt".into() }]);
    assert_eq!(rig.stats(), WebhookStatsSnapshot { accepted: 1, ..Default::default() });
}

#[tokio::test]
async fn slow_body_is_cut_off_with_408() {
    const TIMEOUT: Duration = Duration::from_millis(300);
    let mut rig = Rig::start_with(|c| c.body_read_timeout = TIMEOUT, 64).await;
    let body = contact_event("c-slow", "wh-slow");
    let request = raw_signed_post(&rig.key, &body);
    let head_len = request.len() - body.len();
    let mut conn = TcpStream::connect(rig.handle.local_addr).await.expect("connects");
    conn.write_all(&request[..head_len]).await.expect("writes the head");
    let started = Instant::now();
    // One body byte every 50 ms: the body would take over 10 s, and each byte arrives well within
    // any per-read timeout. The whole-body timeout still cuts it off.
    let received = trickle_until_closed(&mut conn, |i| body.get(i).map(|b| vec![*b])).await;
    let elapsed = started.elapsed();
    assert!(elapsed >= TIMEOUT, "cut off after {elapsed:?}");
    let text = String::from_utf8_lossy(&received);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains(r#"{"error":"body read timed out"}"#), "{text}");
    assert!(rig.drain().is_empty());
    assert_eq!(rig.stats(), WebhookStatsSnapshot { timed_out: 1, ..Default::default() });

    // The same request sent at once is accepted.
    let mut conn = TcpStream::connect(rig.handle.local_addr).await.expect("connects");
    conn.write_all(&request).await.expect("writes");
    assert_eq!(read_response(&mut conn).await, (200, r#"{"ok":true,"accepted":true}"#.to_owned()));
    assert_eq!(rig.drain(), vec![Hint::Contact { id: "c-slow".into() }]);
}

#[tokio::test]
async fn connections_beyond_the_cap_wait_for_a_free_slot() {
    const CAP: usize = 2;
    let mut rig = Rig::start_with(
        |c| {
            c.max_connections = CAP;
            // Long enough that the held connections stay open for the whole test.
            c.header_read_timeout = Duration::from_secs(60);
        },
        64,
    )
    .await;
    let addr = rig.handle.local_addr;
    // CAP connections, each shown to be served (a request and its answer), then held open idle.
    let mut held = Vec::new();
    for _ in 0..CAP {
        let mut conn = TcpStream::connect(addr).await.expect("connects");
        conn.write_all(format!("GET {WEBHOOK_PATH} HTTP/1.1\r\nhost: localhost\r\n\r\n").as_bytes())
            .await
            .expect("writes");
        assert_eq!(read_response(&mut conn).await.0, 405);
        held.push(conn);
    }
    // One more: the kernel completes its handshake, but its request is not answered while the
    // others are open. (Waiting less than forever can only miss a bug, never invent one.)
    let mut extra = TcpStream::connect(addr).await.expect("connects (listen backlog)");
    extra
        .write_all(&raw_signed_post(&rig.key, &contact_event("c-waiting", "wh-waiting")))
        .await
        .expect("writes");
    let mut probe = [0u8; 1];
    let early = tokio::time::timeout(Duration::from_millis(500), extra.read(&mut probe)).await;
    assert!(early.is_err(), "a connection beyond the cap was served: {early:?}");
    assert!(rig.drain().is_empty());
    // The accept loop tried for a slot right after accepting the CAP-th connection, and waits.
    assert_eq!(rig.stats().connection_waits, 1);

    // Once one of the held connections closes, the waiting one is served.
    drop(held.remove(0));
    let answer = tokio::time::timeout(Duration::from_secs(10), read_response(&mut extra))
        .await
        .expect("served once a slot is free");
    assert_eq!(answer, (200, r#"{"ok":true,"accepted":true}"#.to_owned()));
    assert_eq!(rig.drain(), vec![Hint::Contact { id: "c-waiting".into() }]);
    assert_eq!(rig.stats().accepted, 1);
    drop(held);
    rig.shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(5), rig.handle.stopped()).await.expect("stops promptly");
}
