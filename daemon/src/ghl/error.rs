//! [`GhlError`]: every way a GHL call can fail, with what to do about it.

use std::time::Duration;

use serde_json::Value;

/// Why a GHL call failed. Each message says what to do about it.
///
/// [`GhlError::is_retryable`] says whether trying the same call later may succeed;
/// [`GhlError::is_permanent`] says it never will as is (drop or fix the op).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GhlError {
    /// The token or the location is not set, or the token file is unusable.
    #[error("{0}")]
    NotConfigured(String),
    /// The client configuration is invalid (e.g. the base URL).
    #[error("invalid GHL client configuration: {0}")]
    Config(String),
    /// A request Leadline was about to make is invalid (e.g. an unknown channel).
    #[error("invalid GHL request: {0}")]
    InvalidRequest(String),
    /// 401: the token was refused.
    #[error(
        "GHL refused the token (401: {message}): check GHL_API_KEY or the token file, that the Private \
         Integration still exists (Settings → Private Integrations) and has the scopes Leadline needs \
         (contacts, opportunities, conversations, conversations/message, users, locations)"
    )]
    Unauthorized {
        /// GHL's message.
        message: String,
    },
    /// 403: the token may not access this location or resource.
    #[error(
        "GHL denied access (403: {message}): check that GHL_LOCATION_ID / location_id is the sub-account the \
         token was created in, and that the token has the scope for this call"
    )]
    Forbidden {
        /// GHL's message.
        message: String,
    },
    /// 404: the record (or the route) does not exist.
    #[error("GHL has no such record (404: {message}); it was probably deleted in GHL: re-sync to drop it")]
    NotFound {
        /// GHL's message.
        message: String,
    },
    /// 400 or 422: GHL refused the request as invalid. Sending it again will not help.
    #[error("GHL refused the request as invalid ({status}: {}); fix the value and retry", messages.join("; "))]
    Validation {
        /// 400 or 422.
        status: u16,
        /// GHL's messages (class-validator style when it sends an array).
        messages: Vec<String>,
    },
    /// 429, or our own budget is spent.
    #[error("{}", rate_limited_message(*daily, *retry_in))]
    RateLimited {
        /// How long to wait, when known.
        retry_in: Option<Duration>,
        /// True when the daily budget (200 000 requests) is spent, not just the burst window.
        daily: bool,
    },
    /// 5xx from GHL or a gateway in front of it.
    #[error(
        "GHL had a server error ({status}: {message}); it is usually temporary, Leadline retries on its own"
    )]
    Server {
        /// The HTTP status.
        status: u16,
        /// GHL's message, or the status reason.
        message: String,
    },
    /// Another unexpected HTTP status.
    #[error("GHL answered with unexpected status {status}: {message}")]
    UnexpectedStatus {
        /// The HTTP status.
        status: u16,
        /// GHL's message, or the status reason.
        message: String,
    },
    /// No answer within the configured timeout.
    #[error(
        "GHL did not answer in time; check the network, or raise timeout_secs under [ghl] if GHL is just slow"
    )]
    Timeout,
    /// The connection could not be made: the request never reached GHL.
    #[error("cannot connect to GHL: {0}; check the network and base_url under [ghl]")]
    Connect(String),
    /// The connection broke during the request or the response.
    #[error("network error talking to GHL: {0}; check the network, Leadline retries on its own")]
    Network(String),
    /// A 2xx response whose body is not the JSON expected (truncated, malformed, changed shape).
    #[error(
        "GHL sent a response Leadline cannot read ({what}: {message}); if it persists, GHL may have changed its API"
    )]
    Decode {
        /// What was being read (e.g. `POST /contacts/search`).
        what: String,
        /// The parser's message.
        message: String,
    },
    /// The circuit breaker is open after repeated failures: calls fail fast until it probes again.
    #[error(
        "GHL looks unreachable after repeated failures; not calling it for {}s (it retries on its own)",
        retry_in.as_secs().max(1)
    )]
    CircuitOpen {
        /// Time left before the next probe.
        retry_in: Duration,
    },
}

fn rate_limited_message(daily: bool, retry_in: Option<Duration>) -> String {
    let wait = retry_in.map(|d| format!(" (about {}s)", d.as_secs().max(1))).unwrap_or_default();
    if daily {
        format!(
            "the daily GHL API budget (200 000 requests per location) is spent; Leadline resumes when it resets{wait}"
        )
    } else {
        format!("GHL rate limit reached (429); Leadline slows down and retries{wait}")
    }
}

impl GhlError {
    /// Whether the same call may succeed later without any change (429, 5xx, timeouts,
    /// network trouble, unreadable bodies, an open breaker).
    pub fn is_retryable(&self) -> bool {
        match self {
            GhlError::RateLimited { .. }
            | GhlError::Server { .. }
            | GhlError::Timeout
            | GhlError::Connect(_)
            | GhlError::Network(_)
            | GhlError::Decode { .. }
            | GhlError::CircuitOpen { .. } => true,
            GhlError::UnexpectedStatus { status, .. } => *status == 408,
            _ => false,
        }
    }

    /// Whether the op will never succeed as is (400, 404, 422, or an invalid request): drop
    /// it or show it to the agent. 401/403 are neither permanent nor retryable: they need the
    /// user to fix the token.
    pub fn is_permanent(&self) -> bool {
        matches!(self, GhlError::Validation { .. } | GhlError::NotFound { .. } | GhlError::InvalidRequest(_))
    }

    /// The HTTP status this error came from, if any.
    pub fn status(&self) -> Option<u16> {
        match self {
            GhlError::Unauthorized { .. } => Some(401),
            GhlError::Forbidden { .. } => Some(403),
            GhlError::NotFound { .. } => Some(404),
            GhlError::Validation { status, .. }
            | GhlError::Server { status, .. }
            | GhlError::UnexpectedStatus { status, .. } => Some(*status),
            GhlError::RateLimited { .. } => Some(429),
            _ => None,
        }
    }

    /// Whether this failure says GHL (or the path to it) is down, for the circuit breaker.
    /// Refusals (4xx, 429) mean the server is up.
    pub(crate) fn is_outage(&self) -> bool {
        matches!(
            self,
            GhlError::Server { .. }
                | GhlError::Timeout
                | GhlError::Connect(_)
                | GhlError::Network(_)
                | GhlError::Decode { .. }
        )
    }

    /// Maps a non-2xx response (`{statusCode, message[, error]}`, `message` a string or an
    /// array) to a typed error. `retry_after` is the parsed `Retry-After` header.
    pub fn from_response(status: u16, body: &[u8], retry_after: Option<Duration>) -> GhlError {
        let messages = error_messages(body);
        let message =
            if messages.is_empty() { default_reason(status).to_owned() } else { messages.join("; ") };
        match status {
            400 | 422 => GhlError::Validation {
                status,
                messages: if messages.is_empty() { vec![message] } else { messages },
            },
            401 => GhlError::Unauthorized { message },
            403 => GhlError::Forbidden { message },
            404 => GhlError::NotFound { message },
            429 => GhlError::RateLimited { retry_in: retry_after, daily: false },
            500..=599 => GhlError::Server { status, message },
            _ => GhlError::UnexpectedStatus { status, message },
        }
    }
}

fn default_reason(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "unexpected response",
    }
}

/// GHL's error messages from a body: `message` as a string or an array, else `error`; a
/// non-JSON body (a gateway's HTML page) gives nothing, so the status reason is used.
fn error_messages(body: &[u8]) -> Vec<String> {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return Vec::new();
    };
    let from = |v: &Value| -> Vec<String> {
        match v {
            Value::String(s) if !s.trim().is_empty() => vec![s.trim().to_owned()],
            Value::Array(a) => a
                .iter()
                .filter_map(|m| match m {
                    Value::String(s) => Some(s.clone()),
                    Value::Null => None,
                    other => Some(other.to_string()),
                })
                .collect(),
            _ => Vec::new(),
        }
    };
    let msgs = from(&v["message"]);
    if msgs.is_empty() { from(&v["error"]) } else { msgs }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_ghl_error_bodies() {
        let e = GhlError::from_response(401, br#"{"statusCode":401,"message":"Invalid JWT"}"#, None);
        assert_eq!(e, GhlError::Unauthorized { message: "Invalid JWT".into() });
        assert!(e.to_string().contains("GHL_API_KEY") && e.to_string().contains("scopes"));
        assert!(!e.is_retryable() && !e.is_permanent());

        let e = GhlError::from_response(
            422,
            br#"{"statusCode":422,"message":["pageLimit must not be greater than 500","x"],"error":"Unprocessable Entity"}"#,
            None,
        );
        assert_eq!(
            e,
            GhlError::Validation {
                status: 422,
                messages: vec!["pageLimit must not be greater than 500".into(), "x".into()]
            }
        );
        assert!(e.is_permanent() && !e.is_retryable());

        let e = GhlError::from_response(
            400,
            br#"{"statusCode":400,"message":"Cannot send message as DND is active for SMS."}"#,
            None,
        );
        assert!(matches!(&e, GhlError::Validation { status: 400, messages } if messages[0].contains("DND")));

        let e = GhlError::from_response(
            404,
            br#"{"statusCode":404,"message":"Contact not found","error":"Not Found"}"#,
            None,
        );
        assert!(matches!(&e, GhlError::NotFound { message } if message == "Contact not found"));
        assert!(e.is_permanent());

        let e = GhlError::from_response(
            403,
            br#"{"statusCode":403,"message":"The token does not have access to this location."}"#,
            None,
        );
        assert!(matches!(e, GhlError::Forbidden { .. }));
    }

    #[test]
    fn gateways_and_rate_limits() {
        let e = GhlError::from_response(502, b"<html><title>502 Bad Gateway</title></html>", None);
        assert_eq!(e, GhlError::Server { status: 502, message: "Bad Gateway".into() });
        assert!(e.is_retryable() && e.is_outage() && !e.is_permanent());
        let e = GhlError::from_response(
            429,
            br#"{"statusCode":429,"message":"Too Many Requests"}"#,
            Some(Duration::from_secs(3)),
        );
        assert_eq!(e, GhlError::RateLimited { retry_in: Some(Duration::from_secs(3)), daily: false });
        assert!(e.is_retryable() && !e.is_outage());
        assert_eq!(e.status(), Some(429));
        let e = GhlError::from_response(418, b"", None);
        assert!(matches!(e, GhlError::UnexpectedStatus { status: 418, .. }));
        // `error` is used when `message` is missing.
        let e = GhlError::from_response(500, br#"{"error":"boom"}"#, None);
        assert_eq!(e, GhlError::Server { status: 500, message: "boom".into() });
    }

    #[test]
    fn classification() {
        assert!(GhlError::Timeout.is_retryable());
        assert!(GhlError::Connect("refused".into()).is_retryable());
        assert!(GhlError::CircuitOpen { retry_in: Duration::from_secs(30) }.is_retryable());
        assert!(!GhlError::CircuitOpen { retry_in: Duration::from_secs(30) }.is_outage());
        assert!(GhlError::Decode { what: "x".into(), message: "eof".into() }.is_retryable());
        assert!(!GhlError::NotConfigured("x".into()).is_retryable());
        assert!(GhlError::InvalidRequest("x".into()).is_permanent());
        let daily = GhlError::RateLimited { retry_in: None, daily: true };
        assert!(daily.to_string().contains("daily"));
    }
}
