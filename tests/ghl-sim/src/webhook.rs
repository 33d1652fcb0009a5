//! GHL webhooks: flat JSON events signed with Ed25519 (`X-GHL-Signature: base64(signature)` over
//! the exact body bytes), delivered best effort to `--webhook-url`.
//!
//! The key pair is derived from `--seed`, so tests can verify signatures with the public key the
//! simulator prints (and serves at `GET /__sim/webhook-public-key`).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signer, SigningKey};
use rand::RngCore;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use serde_json::{Map, Value, json};
use tokio::sync::mpsc;

use crate::model::{Contact, Message, Opportunity};
use crate::time::iso_from_ms;

/// The DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410).
const SPKI_PREFIX: [u8; 12] = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];

/// The simulator's webhook signing key (a test key derived from the seed).
#[derive(Debug, Clone)]
pub struct WebhookKey {
    signing: SigningKey,
}

impl WebhookKey {
    /// The key pair for `seed`.
    pub fn from_seed(seed: u64) -> Self {
        let mut rng = crate::seed::stream_rng(seed, 30);
        let mut secret = [0u8; 32];
        rng.fill_bytes(&mut secret);
        Self { signing: SigningKey::from_bytes(&secret) }
    }

    /// The base64 body of the SPKI PEM (like GHL's published `MCowBQYDK2VwAyEA...`).
    pub fn public_key_spki_b64(&self) -> String {
        let mut der = SPKI_PREFIX.to_vec();
        der.extend_from_slice(self.signing.verifying_key().as_bytes());
        B64.encode(der)
    }

    /// The public key as a PEM document.
    pub fn public_key_pem(&self) -> String {
        format!("-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n", self.public_key_spki_b64())
    }

    /// The raw 32-byte public key.
    pub fn public_key_bytes(&self) -> [u8; 32] {
        self.signing.verifying_key().to_bytes()
    }

    /// `base64(Ed25519 signature of body)`, the `X-GHL-Signature` value.
    pub fn sign(&self, body: &[u8]) -> String {
        B64.encode(self.signing.sign(body).to_bytes())
    }
}

/// One emitted event and what became of it.
#[derive(Debug, Clone, Serialize)]
pub struct EventRecord {
    /// The event `type`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Its `webhookId`.
    pub webhook_id: String,
    /// `pending`, `delivered`, `failed` or `not_configured`.
    pub delivery: String,
    /// The HTTP status the receiver answered, if any.
    pub status: Option<u16>,
    /// The payload.
    pub payload: Value,
}

/// Delivery statistics.
#[derive(Debug, Clone, Default, Serialize)]
pub struct WebhookStats {
    /// Events emitted.
    pub emitted: u64,
    /// Deliveries answered 2xx.
    pub delivered: u64,
    /// Deliveries that failed (non-2xx, timeout, refused).
    pub failed: u64,
    /// The most recent events (up to 500), oldest first.
    pub recent: VecDeque<EventRecord>,
}

const RECENT: usize = 500;

/// Emits events and hands them to the delivery task.
#[derive(Debug, Clone)]
pub struct Webhooks {
    location_id: String,
    tx: Option<mpsc::UnboundedSender<(usize, Vec<u8>)>>,
    rng: Arc<Mutex<ChaCha8Rng>>,
    /// Shared statistics.
    pub stats: Arc<Mutex<WebhookStats>>,
    seq: Arc<Mutex<usize>>,
}

impl Webhooks {
    /// An emitter; with `url`, starts the delivery task on the current runtime.
    pub fn start(location_id: &str, url: Option<String>, key: WebhookKey, seed: u64) -> Self {
        let stats = Arc::new(Mutex::new(WebhookStats::default()));
        let tx = url.map(|url| {
            let (tx, rx) = mpsc::unbounded_channel();
            tokio::spawn(deliver(url, key, rx, stats.clone()));
            tx
        });
        Self {
            location_id: location_id.to_string(),
            tx,
            rng: Arc::new(Mutex::new(crate::seed::stream_rng(seed, 31))),
            stats,
            seq: Arc::new(Mutex::new(0)),
        }
    }

    /// Emits an event of type `kind` with `fields` (an object) at `now_ms`.
    pub fn emit(&self, kind: &str, fields: Value, now_ms: i64) {
        let webhook_id = match self.rng.lock() {
            Ok(mut r) => crate::seed::uuid_like(&mut *r),
            Err(_) => return,
        };
        let mut m = Map::new();
        m.insert("type".into(), json!(kind));
        m.insert("locationId".into(), json!(self.location_id));
        if let Value::Object(f) = fields {
            m.extend(f);
        }
        m.insert("webhookId".into(), json!(webhook_id));
        m.insert("timestamp".into(), json!(iso_from_ms(now_ms)));
        let payload = Value::Object(m);
        let body = match serde_json::to_vec(&payload) {
            Ok(b) => b,
            Err(_) => return,
        };
        let Ok(mut stats) = self.stats.lock() else {
            return;
        };
        stats.emitted += 1;
        let seq = match self.seq.lock() {
            Ok(mut s) => {
                *s += 1;
                *s
            }
            Err(_) => 0,
        };
        stats.recent.push_back(EventRecord {
            kind: kind.to_string(),
            webhook_id,
            delivery: if self.tx.is_some() { "pending".into() } else { "not_configured".into() },
            status: None,
            payload,
        });
        while stats.recent.len() > RECENT {
            stats.recent.pop_front();
        }
        drop(stats);
        if let Some(tx) = &self.tx {
            let _ = tx.send((seq, body));
        }
    }

    /// `ContactCreate`, `ContactUpdate`, `ContactDelete`, `ContactTagUpdate` (documented fields).
    pub fn contact_event(&self, kind: &str, c: &Contact, now_ms: i64) {
        self.emit(kind, contact_fields(c, false), now_ms);
    }

    /// `ContactDndUpdate` (adds `dndSettings`).
    pub fn contact_dnd_event(&self, c: &Contact, now_ms: i64) {
        self.emit("ContactDndUpdate", contact_fields(c, true), now_ms);
    }

    /// `InboundMessage` / `OutboundMessage`.
    pub fn message_event(&self, m: &Message, now_ms: i64) {
        let kind = if m.direction == "inbound" { "InboundMessage" } else { "OutboundMessage" };
        let mut f = json!({
            "attachments": m.attachments,
            "body": m.body,
            "contactId": m.contact_id,
            "contentType": m.content_type,
            "conversationId": m.conversation_id,
            "dateAdded": m.date_added,
            "direction": m.direction,
            "messageType": match m.channel() { "Call" => "CALL", other => other },
            "messageId": m.id,
            "status": m.status,
        });
        if let Some(o) = f.as_object_mut() {
            if let Some(u) = &m.user_id {
                o.insert("userId".into(), json!(u));
            }
            if let Some(s) = &m.source {
                o.insert("source".into(), json!(s));
            }
        }
        self.emit(kind, f, now_ms);
    }

    /// `OpportunityCreate`, `OpportunityStatusUpdate`, `OpportunityStageUpdate`, ...
    pub fn opportunity_event(&self, kind: &str, o: &Opportunity, now_ms: i64) {
        self.emit(
            kind,
            json!({
                "id": o.id,
                "assignedTo": o.assigned_to,
                "contactId": o.contact_id,
                "monetaryValue": o.monetary_value,
                "name": o.name,
                "pipelineId": o.pipeline_id,
                "pipelineStageId": o.pipeline_stage_id,
                "source": o.source,
                "status": o.status,
                "dateAdded": o.created_at,
            }),
            now_ms,
        );
    }
}

fn contact_fields(c: &Contact, dnd: bool) -> Value {
    let mut v = json!({
        "id": c.id,
        "address1": c.address1,
        "city": c.city,
        "state": c.state,
        "companyName": c.company_name,
        "country": c.country,
        "source": c.source,
        "dateAdded": c.date_added,
        "dateOfBirth": c.date_of_birth,
        "dnd": c.dnd,
        "email": c.email,
        "name": c.display_name(),
        "firstName": c.first_name,
        "lastName": c.last_name,
        "phone": c.phone,
        "postalCode": c.postal_code,
        "tags": c.tags,
        "website": c.website,
        "attachments": c.attachments,
        "assignedTo": c.assigned_to,
        "customFields": c.custom_fields,
    });
    if let Some(o) = v.as_object_mut() {
        // GHL leaves out empty optional fields rather than sending null.
        o.retain(|_, val| !val.is_null());
        if dnd {
            o.insert("dndSettings".into(), json!(c.dnd_settings));
        }
    }
    v
}

async fn deliver(
    url: String,
    key: WebhookKey,
    mut rx: mpsc::UnboundedReceiver<(usize, Vec<u8>)>,
    stats: Arc<Mutex<WebhookStats>>,
) {
    let client = match reqwest::Client::builder().timeout(Duration::from_secs(5)).build() {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!("webhook client could not start: {e}");
            return;
        }
    };
    while let Some((_seq, body)) = rx.recv().await {
        let sig = key.sign(&body);
        let webhook_id = serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|v| v["webhookId"].as_str().map(str::to_string))
            .unwrap_or_default();
        let result = client
            .post(&url)
            .header("content-type", "application/json")
            .header("x-ghl-signature", sig)
            .body(body)
            .send()
            .await;
        let (ok, status) = match result {
            Ok(r) => (r.status().is_success(), Some(r.status().as_u16())),
            Err(e) => {
                tracing::debug!("webhook delivery failed: {e}");
                (false, None)
            }
        };
        if let Ok(mut s) = stats.lock() {
            if ok {
                s.delivered += 1;
            } else {
                s.failed += 1;
            }
            if let Some(rec) = s.recent.iter_mut().rev().find(|r| r.webhook_id == webhook_id) {
                rec.delivery = if ok { "delivered" } else { "failed" }.into();
                rec.status = status;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signature, Verifier, VerifyingKey};

    #[test]
    fn key_is_deterministic_and_verifies() {
        let a = WebhookKey::from_seed(5);
        let b = WebhookKey::from_seed(5);
        assert_eq!(a.public_key_pem(), b.public_key_pem());
        assert_ne!(a.public_key_pem(), WebhookKey::from_seed(6).public_key_pem());
        assert!(a.public_key_spki_b64().starts_with("MCowBQYDK2VwAyEA"));
        let body = br#"{"type":"ContactCreate"}"#;
        let sig = B64.decode(a.sign(body)).expect("base64");
        let sig = Signature::from_slice(&sig).expect("64 bytes");
        let vk = VerifyingKey::from_bytes(&a.public_key_bytes()).expect("valid key");
        assert!(vk.verify(body, &sig).is_ok());
        assert!(vk.verify(b"tampered", &sig).is_err());
    }
}
