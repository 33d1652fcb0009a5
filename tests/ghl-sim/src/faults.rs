//! Fault injection: with probability `fault_rate` an API request gets a fault instead of (or, for
//! slow bodies, on top of) its normal response. Faults are drawn from a ChaCha RNG seeded from
//! `--seed`, in request order, before the request reaches its handler, so an error fault never
//! mutates state.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::config::FaultKind;
use crate::error::ApiError;

/// Draws faults and counts them.
#[derive(Debug)]
pub struct FaultInjector {
    rate: f64,
    kinds: Vec<FaultKind>,
    rng: ChaCha8Rng,
    /// Injected faults by kind name.
    pub counts: BTreeMap<&'static str, u64>,
}

impl FaultInjector {
    /// An injector firing with probability `rate`, choosing uniformly among `kinds`.
    pub fn new(rate: f64, kinds: Vec<FaultKind>, seed: u64) -> Self {
        Self { rate, kinds, rng: crate::seed::stream_rng(seed, 20), counts: BTreeMap::new() }
    }

    /// The fault for the next request, if any.
    pub fn draw(&mut self) -> Option<FaultKind> {
        if self.rate <= 0.0 || self.kinds.is_empty() {
            return None;
        }
        if self.rng.random::<f64>() >= self.rate {
            return None;
        }
        let k = self.kinds[self.rng.random_range(0..self.kinds.len())];
        *self.counts.entry(k.name()).or_default() += 1;
        Some(k)
    }

    /// Changes the probability from the next request on (a test calms the location down).
    pub fn set_rate(&mut self, rate: f64) {
        self.rate = rate;
    }

    /// Total faults injected.
    pub fn total(&self) -> u64 {
        self.counts.values().sum()
    }
}

/// The response for an error fault that replaces the handler (429, 500, 502, malformed).
pub fn error_response(kind: FaultKind) -> Option<Response> {
    match kind {
        FaultKind::TooManyRequests => Some(ApiError::too_many_requests().into_response()),
        FaultKind::ServerError => Some(ApiError::internal().into_response()),
        FaultKind::BadGateway => Some(
            (
                StatusCode::BAD_GATEWAY,
                [(header::CONTENT_TYPE, HeaderValue::from_static("text/html"))],
                "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n",
            )
                .into_response(),
        ),
        FaultKind::MalformedJson => Some(
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"))],
                "{\"contacts\":[{\"id\":\"x\",,\"name\":}]",
            )
                .into_response(),
        ),
        _ => None,
    }
}

/// The 504 a hung request finally gets, if the client is still waiting.
pub fn hang_response() -> Response {
    (
        StatusCode::GATEWAY_TIMEOUT,
        axum::Json(serde_json::json!({"statusCode": 504, "message": "Gateway Timeout"})),
    )
        .into_response()
}

/// Cuts a body roughly in half (at least one byte short of valid JSON).
pub fn truncate(body: &Bytes) -> Bytes {
    let cut = (body.len() / 2).max(1).min(body.len().saturating_sub(1));
    body.slice(0..cut)
}

/// A body delivered in about 20 chunks, 100 ms apart.
pub fn slow_body(body: Bytes) -> Body {
    let chunk = (body.len() / 20).max(1);
    let stream = futures::stream::unfold((body, true), move |(rest, first)| async move {
        if rest.is_empty() {
            return None;
        }
        if !first {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let n = chunk.min(rest.len());
        let head = rest.slice(0..n);
        let tail = rest.slice(n..);
        Some((Ok::<Bytes, std::io::Error>(head), (tail, false)))
    });
    Body::from_stream(stream)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_is_respected_and_deterministic() {
        let mut a = FaultInjector::new(0.25, FaultKind::ALL.to_vec(), 7);
        let mut b = FaultInjector::new(0.25, FaultKind::ALL.to_vec(), 7);
        let da: Vec<_> = (0..2000).map(|_| a.draw()).collect();
        let db: Vec<_> = (0..2000).map(|_| b.draw()).collect();
        assert_eq!(da, db);
        let n = da.iter().filter(|d| d.is_some()).count();
        assert!((400..600).contains(&n), "{n}");
        assert_eq!(a.total(), n as u64);
        let mut none = FaultInjector::new(0.0, FaultKind::ALL.to_vec(), 7);
        assert!((0..100).all(|_| none.draw().is_none()));
    }

    #[test]
    fn truncation_breaks_json() {
        let b = Bytes::from_static(br#"{"a":[1,2,3]}"#);
        let t = truncate(&b);
        assert!(t.len() < b.len());
        assert!(serde_json::from_slice::<serde_json::Value>(&t).is_err());
    }
}
