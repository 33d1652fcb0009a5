//! Signature verification for GHL webhooks, over the raw request body.
//!
//! GHL signs the exact bytes it POSTs. Two headers exist:
//!
//! | header | algorithm | status |
//! | --- | --- | --- |
//! | `X-GHL-Signature` | Ed25519, header = base64 of the 64-byte signature | current |
//! | `X-WH-Signature` | RSA-SHA256 (PKCS#1 v1.5), header = base64 | legacy, being retired |
//!
//! The flow follows GHL's guide and official SDK: when `X-GHL-Signature` is present, only the
//! Ed25519 signature is checked (never a fallback to RSA, so a stripped or forged Ed25519 header
//! cannot be "rescued" by the weaker legacy path). Only when it is absent is `X-WH-Signature`
//! checked. A header whose value is empty or the literal `N/A` counts as absent, as in GHL's
//! sample code. A signature header sent more than once is refused (a leading `N/A` copy must not
//! hide an `X-GHL-Signature` and so downgrade to RSA). Neither header → rejected.
//!
//! Ed25519 is verified with `ed25519-dalek` (`verify_strict`); RSA with `aws-lc-rs` (the same
//! crate rustls already builds in this workspace).

use std::fmt;

use aws_lc_rs::signature::{ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
use axum::http::HeaderMap;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use ed25519_dalek::pkcs8::DecodePublicKey;
use ed25519_dalek::{Signature, VerifyingKey};

use super::WebhookError;

/// The current header: base64 of an Ed25519 signature over the raw body.
pub const GHL_SIGNATURE_HEADER: &str = "x-ghl-signature";
/// The legacy header: base64 of an RSA-SHA256 (PKCS#1 v1.5) signature over the raw body.
pub const WH_SIGNATURE_HEADER: &str = "x-wh-signature";

/// Which signature a request was accepted with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureKind {
    /// `X-GHL-Signature`.
    Ed25519,
    /// `X-WH-Signature` (legacy).
    RsaSha256,
}

/// Why a request's signature was refused. Every variant means HTTP 401.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// Neither `X-GHL-Signature` nor `X-WH-Signature` carries a value.
    #[error("no X-GHL-Signature or X-WH-Signature header")]
    Missing,
    /// The header value is not base64 (or not even visible ASCII).
    #[error("the {header} header is not valid base64")]
    Encoding {
        /// The header name.
        header: &'static str,
    },
    /// A signature header was sent more than once (which value to check would be a guess, and a
    /// leading `N/A` could otherwise hide an `X-GHL-Signature` and downgrade to RSA).
    #[error("the {header} header was sent more than once")]
    Repeated {
        /// The header name.
        header: &'static str,
    },
    /// Only `X-WH-Signature` was sent, but no RSA key is configured.
    #[error("X-WH-Signature sent but no RSA public key is configured")]
    RsaNotConfigured,
    /// The signature does not match the body under the configured key.
    #[error("{0:?} signature does not match the body")]
    Mismatch(SignatureKind),
}

/// Verifies webhook signatures with the configured public keys. Pure; cheap to share.
pub struct Verifier {
    ed25519: VerifyingKey,
    rsa: Option<ParsedPublicKey>,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("ed25519", &STANDARD.encode(self.ed25519.as_bytes()))
            .field("rsa", &self.rsa.is_some())
            .finish()
    }
}

impl Verifier {
    /// A verifier for the Ed25519 key and, optionally, the legacy RSA key.
    ///
    /// Each key is an SPKI PEM document (`-----BEGIN PUBLIC KEY-----`); the bare base64 body
    /// (`MCowBQYDK2VwAyEA...`, as the simulator prints it) is accepted too. The RSA key may also
    /// be a PKCS#1 `RSA PUBLIC KEY`, of 2048 to 8192 bits.
    pub fn new(ed25519_pem: &str, rsa_pem: Option<&str>) -> Result<Verifier, WebhookError> {
        let key_err = |which: &'static str, reason: String| WebhookError::Key { which, reason };
        let der = pem_to_der(ed25519_pem).map_err(|r| key_err("Ed25519", r))?;
        let ed25519 =
            VerifyingKey::from_public_key_der(&der).map_err(|e| key_err("Ed25519", e.to_string()))?;
        let rsa = match rsa_pem {
            None => None,
            Some(pem) => {
                let der = pem_to_der(pem).map_err(|r| key_err("RSA", r))?;
                let key = ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, der)
                    .map_err(|e| key_err("RSA", e.to_string()))?;
                Some(key)
            }
        };
        Ok(Verifier { ed25519, rsa })
    }

    /// Whether a legacy RSA key is configured.
    pub fn has_rsa(&self) -> bool {
        self.rsa.is_some()
    }

    /// Checks the request's signature over `raw_body` (the exact received bytes).
    pub fn verify(&self, headers: &HeaderMap, raw_body: &[u8]) -> Result<SignatureKind, SignatureError> {
        let ghl = header_value(headers, GHL_SIGNATURE_HEADER, "X-GHL-Signature")?;
        let wh = header_value(headers, WH_SIGNATURE_HEADER, "X-WH-Signature")?;
        if let Some(value) = ghl {
            let sig = decode_sig(value, "X-GHL-Signature")?;
            let mismatch = SignatureError::Mismatch(SignatureKind::Ed25519);
            let sig = Signature::from_slice(&sig).map_err(|_| mismatch.clone())?;
            return match self.ed25519.verify_strict(raw_body, &sig) {
                Ok(()) => Ok(SignatureKind::Ed25519),
                Err(_) => Err(mismatch),
            };
        }
        if let Some(value) = wh {
            let sig = decode_sig(value, "X-WH-Signature")?;
            let key = self.rsa.as_ref().ok_or(SignatureError::RsaNotConfigured)?;
            return match key.verify_sig(raw_body, &sig) {
                Ok(()) => Ok(SignatureKind::RsaSha256),
                Err(_) => Err(SignatureError::Mismatch(SignatureKind::RsaSha256)),
            };
        }
        Err(SignatureError::Missing)
    }
}

/// The header's value, trimmed; `None` when absent, empty or `N/A`; an error when it was sent
/// more than once.
fn header_value<'a>(
    headers: &'a HeaderMap,
    name: &str,
    header: &'static str,
) -> Result<Option<&'a [u8]>, SignatureError> {
    let mut values = headers.get_all(name).iter();
    let Some(first) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(SignatureError::Repeated { header });
    }
    let value = first.as_bytes().trim_ascii();
    Ok(if value.is_empty() || value.eq_ignore_ascii_case(b"N/A") { None } else { Some(value) })
}

fn decode_sig(value: &[u8], header: &'static str) -> Result<Vec<u8>, SignatureError> {
    STANDARD
        .decode(value)
        .or_else(|_| STANDARD_NO_PAD.decode(value))
        .map_err(|_| SignatureError::Encoding { header })
}

/// The DER bytes of a PEM document (first block), or of a bare base64 body.
fn pem_to_der(pem: &str) -> Result<Vec<u8>, String> {
    let text = pem.trim();
    let b64: String = if text.contains("-----BEGIN") {
        let mut inside = false;
        let mut ended = false;
        let mut out = String::new();
        for line in text.lines().map(str::trim) {
            if line.starts_with("-----BEGIN") {
                inside = true;
            } else if line.starts_with("-----END") {
                ended = inside;
                break;
            } else if inside && !line.contains(':') {
                out.push_str(line);
            }
        }
        if !ended {
            return Err("PEM block has no matching END line".into());
        }
        out
    } else {
        text.split_whitespace().collect()
    };
    if b64.is_empty() {
        return Err("empty key".into());
    }
    STANDARD.decode(b64.as_bytes()).map_err(|e| format!("PEM body is not base64: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhook::WebhookConfig;
    use aws_lc_rs::encoding::AsDer;
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize};
    use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
    use axum::http::HeaderValue;
    use ed25519_dalek::pkcs8::EncodePublicKey;
    use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
    use ed25519_dalek::{Signer, SigningKey};

    const BODY: &[u8] = br#"{"type":"ContactCreate","locationId":"loc","id":"c1","webhookId":"w1"}"#;

    fn test_key() -> SigningKey {
        SigningKey::from_bytes(&[7u8; 32])
    }

    fn test_pem(key: &SigningKey) -> String {
        key.verifying_key().to_public_key_pem(LineEnding::LF).expect("pem")
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).expect("header"));
        }
        h
    }

    fn ed_sig(key: &SigningKey, body: &[u8]) -> String {
        STANDARD.encode(key.sign(body).to_bytes())
    }

    struct Rsa {
        pair: RsaKeyPair,
        pem: String,
    }

    fn rsa_key() -> Rsa {
        let pair = RsaKeyPair::generate(KeySize::Rsa2048).expect("rsa keygen");
        let der = pair.public_key().as_der().expect("spki");
        let b64 = STANDARD.encode(der.as_ref());
        let mut pem = String::from("-----BEGIN PUBLIC KEY-----\n");
        for chunk in b64.as_bytes().chunks(64) {
            pem.push_str(std::str::from_utf8(chunk).expect("ascii"));
            pem.push('\n');
        }
        pem.push_str("-----END PUBLIC KEY-----\n");
        Rsa { pair, pem }
    }

    fn rsa_sig(key: &RsaKeyPair, body: &[u8]) -> String {
        let mut sig = vec![0u8; key.public_modulus_len()];
        key.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), body, &mut sig).expect("rsa sign");
        STANDARD.encode(sig)
    }

    #[test]
    fn official_keys_parse() {
        let (ed, rsa) = WebhookConfig::ghl_default_keys();
        assert!(ed.contains("MCowBQYDK2VwAyEAi2HR1srL4o18O8BRa7gVJY7G7bupbN3H9AwJrHCDiOg="));
        let v = Verifier::new(&ed, rsa.as_deref()).expect("official keys");
        assert!(v.has_rsa());
        // Nobody but GHL can sign for the official key: a test signature must fail.
        let h = headers(&[(GHL_SIGNATURE_HEADER, &ed_sig(&test_key(), BODY))]);
        assert_eq!(v.verify(&h, BODY), Err(SignatureError::Mismatch(SignatureKind::Ed25519)));
        let h = headers(&[(WH_SIGNATURE_HEADER, &STANDARD.encode([1u8; 512]))]);
        assert_eq!(v.verify(&h, BODY), Err(SignatureError::Mismatch(SignatureKind::RsaSha256)));
    }

    #[test]
    fn ed25519_valid_signature() {
        let key = test_key();
        let v = Verifier::new(&test_pem(&key), None).expect("verifier");
        let h = headers(&[(GHL_SIGNATURE_HEADER, &ed_sig(&key, BODY))]);
        assert_eq!(v.verify(&h, BODY), Ok(SignatureKind::Ed25519));
        // Header names are case-insensitive; a bare base64 key is accepted too.
        let bare: String = test_pem(&key).lines().filter(|l| !l.starts_with("-----")).collect();
        let v2 = Verifier::new(&bare, None).expect("bare key");
        let h = headers(&[("X-GHL-Signature", &ed_sig(&key, BODY))]);
        assert_eq!(v2.verify(&h, BODY), Ok(SignatureKind::Ed25519));
    }

    #[test]
    fn ed25519_forged_or_tampered() {
        let key = test_key();
        let v = Verifier::new(&test_pem(&key), None).expect("verifier");
        let other = SigningKey::from_bytes(&[9u8; 32]);
        let mismatch = Err(SignatureError::Mismatch(SignatureKind::Ed25519));
        // Signed by another key.
        let h = headers(&[(GHL_SIGNATURE_HEADER, &ed_sig(&other, BODY))]);
        assert_eq!(v.verify(&h, BODY), mismatch);
        // The body changed by one byte.
        let mut changed = BODY.to_vec();
        changed[10] ^= 1;
        let h = headers(&[(GHL_SIGNATURE_HEADER, &ed_sig(&key, BODY))]);
        assert_eq!(v.verify(&h, &changed), mismatch);
        // A signature of the wrong length, or not base64.
        let h = headers(&[(GHL_SIGNATURE_HEADER, &STANDARD.encode([0u8; 12]))]);
        assert_eq!(v.verify(&h, BODY), mismatch);
        let h = headers(&[(GHL_SIGNATURE_HEADER, "not base64!!")]);
        assert_eq!(v.verify(&h, BODY), Err(SignatureError::Encoding { header: "X-GHL-Signature" }));
        // No header at all.
        assert_eq!(v.verify(&HeaderMap::new(), BODY), Err(SignatureError::Missing));
    }

    #[test]
    fn rsa_legacy_path() {
        let rsa = rsa_key();
        let ed = test_key();
        let v = Verifier::new(&test_pem(&ed), Some(&rsa.pem)).expect("verifier");
        let h = headers(&[(WH_SIGNATURE_HEADER, &rsa_sig(&rsa.pair, BODY))]);
        assert_eq!(v.verify(&h, BODY), Ok(SignatureKind::RsaSha256));
        // Tampered body.
        let mut changed = BODY.to_vec();
        changed[0] = b' ';
        assert_eq!(v.verify(&h, &changed), Err(SignatureError::Mismatch(SignatureKind::RsaSha256)));
        // Signed with another RSA key.
        let other = rsa_key();
        let h = headers(&[(WH_SIGNATURE_HEADER, &rsa_sig(&other.pair, BODY))]);
        assert_eq!(v.verify(&h, BODY), Err(SignatureError::Mismatch(SignatureKind::RsaSha256)));
        // No RSA key configured.
        let v_no_rsa = Verifier::new(&test_pem(&ed), None).expect("verifier");
        let h = headers(&[(WH_SIGNATURE_HEADER, &rsa_sig(&rsa.pair, BODY))]);
        assert_eq!(v_no_rsa.verify(&h, BODY), Err(SignatureError::RsaNotConfigured));
    }

    #[test]
    fn ed25519_header_wins_and_never_falls_back() {
        let rsa = rsa_key();
        let ed = test_key();
        let v = Verifier::new(&test_pem(&ed), Some(&rsa.pem)).expect("verifier");
        // A valid RSA signature does not rescue a bad Ed25519 one.
        let forged = ed_sig(&SigningKey::from_bytes(&[3u8; 32]), BODY);
        let h = headers(&[(GHL_SIGNATURE_HEADER, &forged), (WH_SIGNATURE_HEADER, &rsa_sig(&rsa.pair, BODY))]);
        assert_eq!(v.verify(&h, BODY), Err(SignatureError::Mismatch(SignatureKind::Ed25519)));
        // Both valid: Ed25519 is used.
        let h = headers(&[
            (GHL_SIGNATURE_HEADER, &ed_sig(&ed, BODY)),
            (WH_SIGNATURE_HEADER, &rsa_sig(&rsa.pair, BODY)),
        ]);
        assert_eq!(v.verify(&h, BODY), Ok(SignatureKind::Ed25519));
    }

    #[test]
    fn na_header_is_absent() {
        let rsa = rsa_key();
        let ed = test_key();
        let v = Verifier::new(&test_pem(&ed), Some(&rsa.pem)).expect("verifier");
        let h = headers(&[(GHL_SIGNATURE_HEADER, "N/A"), (WH_SIGNATURE_HEADER, &rsa_sig(&rsa.pair, BODY))]);
        assert_eq!(v.verify(&h, BODY), Ok(SignatureKind::RsaSha256));
        let h = headers(&[(GHL_SIGNATURE_HEADER, "N/A"), (WH_SIGNATURE_HEADER, "n/a")]);
        assert_eq!(v.verify(&h, BODY), Err(SignatureError::Missing));
        let h = headers(&[(GHL_SIGNATURE_HEADER, "  ")]);
        assert_eq!(v.verify(&h, BODY), Err(SignatureError::Missing));
    }

    #[test]
    fn repeated_header_is_refused() {
        let rsa = rsa_key();
        let ed = test_key();
        let v = Verifier::new(&test_pem(&ed), Some(&rsa.pem)).expect("verifier");
        // `N/A` first, then a forged Ed25519 signature, plus a valid RSA one: no downgrade.
        let mut h = headers(&[(WH_SIGNATURE_HEADER, &rsa_sig(&rsa.pair, BODY))]);
        h.append(GHL_SIGNATURE_HEADER, HeaderValue::from_static("N/A"));
        let forged = ed_sig(&SigningKey::from_bytes(&[3u8; 32]), BODY);
        h.append(GHL_SIGNATURE_HEADER, HeaderValue::from_str(&forged).expect("header"));
        assert_eq!(v.verify(&h, BODY), Err(SignatureError::Repeated { header: "X-GHL-Signature" }));
        // Even two copies of a valid signature are refused.
        let good = ed_sig(&ed, BODY);
        let mut h = headers(&[(GHL_SIGNATURE_HEADER, &good)]);
        h.append(GHL_SIGNATURE_HEADER, HeaderValue::from_str(&good).expect("header"));
        assert_eq!(v.verify(&h, BODY), Err(SignatureError::Repeated { header: "X-GHL-Signature" }));
        let sig = rsa_sig(&rsa.pair, BODY);
        let mut h = headers(&[(WH_SIGNATURE_HEADER, &sig)]);
        h.append(WH_SIGNATURE_HEADER, HeaderValue::from_str(&sig).expect("header"));
        assert_eq!(v.verify(&h, BODY), Err(SignatureError::Repeated { header: "X-WH-Signature" }));
    }

    #[test]
    fn bad_keys_are_refused() {
        assert!(matches!(Verifier::new("", None), Err(WebhookError::Key { which: "Ed25519", .. })));
        assert!(matches!(
            Verifier::new("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", None),
            Err(WebhookError::Key { which: "Ed25519", .. })
        ));
        let (ed, rsa) = WebhookConfig::ghl_default_keys();
        // The keys swapped: each is refused as the wrong algorithm.
        assert!(Verifier::new(rsa.as_deref().unwrap_or_default(), None).is_err());
        assert!(matches!(Verifier::new(&ed, Some(&ed)), Err(WebhookError::Key { which: "RSA", .. })));
        // An unterminated PEM block.
        assert!(Verifier::new("-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA", None).is_err());
    }
}
