//! Simulator configuration.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

use crate::seed::Dataset;

/// The burst limit: `max` requests per `interval_ms`, counted as `counting` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests allowed per window (GHL: 100).
    pub max: u32,
    /// Window length in milliseconds (GHL: 10 000).
    pub interval_ms: u64,
    /// How the requests are counted.
    pub counting: Counting,
}

/// How a burst limit of `max` per `interval_ms` is counted. GHL documents "Burst: 100 requests
/// per 10 seconds" and not how it counts them; product.md reads it as a burst of 100 and then
/// 10 a second, which is the bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Counting {
    /// A bucket of `max` tokens refilled at `max / interval` continuously: a burst, then a
    /// steady rate.
    #[default]
    Bucket,
    /// A sliding log: at most `max` requests in any `interval`, the strictest reading.
    Window,
}

impl FromStr for Counting {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "bucket" => Ok(Counting::Bucket),
            "window" => Ok(Counting::Window),
            _ => Err(format!("invalid rate-limit counting {s:?}: expected bucket or window")),
        }
    }
}

impl RateLimit {
    /// `max` requests per `interval_ms`, counted the default way (a bucket).
    pub fn new(max: u32, interval_ms: u64) -> Self {
        Self { max, interval_ms, counting: Counting::default() }
    }
}

impl Default for RateLimit {
    /// GHL's documented burst limit: 100 requests per 10 seconds.
    fn default() -> Self {
        Self::new(100, 10_000)
    }
}

impl fmt::Display for RateLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}ms", self.max, self.interval_ms)
    }
}

impl FromStr for RateLimit {
    type Err = String;

    /// Parses `100/10s`, `100/10000ms`, `600/1m` or `100/10` (seconds).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("invalid rate limit {s:?}: expected N/DURATION like 100/10s");
        let (n, d) = s.trim().split_once('/').ok_or_else(bad)?;
        let max: u32 = n.trim().parse().map_err(|_| bad())?;
        let d = d.trim();
        let (num, mult) = if let Some(v) = d.strip_suffix("ms") {
            (v, 1)
        } else if let Some(v) = d.strip_suffix('s') {
            (v, 1000)
        } else if let Some(v) = d.strip_suffix('m') {
            (v, 60_000)
        } else if let Some(v) = d.strip_suffix('h') {
            (v, 3_600_000)
        } else {
            (d, 1000)
        };
        let num: u64 = if num.is_empty() { 1 } else { num.parse().map_err(|_| bad())? };
        if max == 0 || num == 0 {
            return Err(bad());
        }
        Ok(Self::new(max, num * mult))
    }
}

/// One kind of injected fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FaultKind {
    /// 429 with GHL's body, as if rate limited.
    TooManyRequests,
    /// 500 Internal Server Error.
    ServerError,
    /// 502 Bad Gateway (an HTML body, as a load balancer sends).
    BadGateway,
    /// Hold the request (`hang_ms`, default 30 s) or until the client gives up, then 504.
    Hang,
    /// 200 with the body cut off half way.
    TruncatedJson,
    /// 200 with a body that is not JSON.
    MalformedJson,
    /// A correct response whose body arrives in slow chunks. The request takes effect.
    SlowBody,
    /// The request takes effect, then its response is lost: a 504 from the gateway, as when
    /// GHL accepts a send and the answer never makes it back. A client that resends on this
    /// sends twice.
    LostResponse,
}

impl FaultKind {
    /// Every kind, in the order the injector draws from.
    pub const ALL: [FaultKind; 8] = [
        Self::TooManyRequests,
        Self::ServerError,
        Self::BadGateway,
        Self::Hang,
        Self::TruncatedJson,
        Self::MalformedJson,
        Self::SlowBody,
        Self::LostResponse,
    ];

    /// A stable name (`429`, `500`, `502`, `hang`, `truncated`, `malformed`, `slow`).
    pub fn name(self) -> &'static str {
        match self {
            Self::TooManyRequests => "429",
            Self::ServerError => "500",
            Self::BadGateway => "502",
            Self::Hang => "hang",
            Self::TruncatedJson => "truncated",
            Self::MalformedJson => "malformed",
            Self::SlowBody => "slow",
            Self::LostResponse => "lost",
        }
    }
}

impl FromStr for FaultKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|k| k.name().eq_ignore_ascii_case(s.trim())).ok_or_else(|| {
            format!(
                "unknown fault {s:?}: expected one of 429, 500, 502, hang, truncated, malformed, slow, lost"
            )
        })
    }
}

/// The default most a contact write lags behind in search ("a few seconds", GHL's guide says).
pub const DEFAULT_SEARCH_LAG_MS: u64 = 3_000;
/// The default life of an export cursor after its last use.
pub const DEFAULT_EXPORT_CURSOR_TTL_MS: u64 = 60_000;

/// Everything the simulator needs to start. [`Default`] is a small realistic location.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// TCP port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// The location (sub-account) id.
    pub location_id: String,
    /// Seeded contacts.
    pub contacts: usize,
    /// Seeded opportunities (default: contacts / 5).
    pub opportunities: Option<usize>,
    /// Extra past deals, closed, that a conversion model learns from ([`crate::seed::SeedConfig::closed_history`]).
    pub closed_history: usize,
    /// Average seeded messages per contact.
    pub messages_per_contact: usize,
    /// The seed for data, faults, activity and the webhook key pair.
    pub seed: u64,
    /// The "now" the seeded data is relative to, in epoch ms (default: the real time at start).
    pub now_ms: Option<i64>,
    /// Burst limit; `None` disables it.
    pub rate_limit: Option<RateLimit>,
    /// Requests per (simulated UTC) day; `None` disables it.
    pub daily_limit: Option<u64>,
    /// Probability (0..=1) that an API request gets a fault instead of its normal response.
    pub fault_rate: f64,
    /// Which faults to draw from (default: all).
    pub fault_kinds: Vec<FaultKind>,
    /// How long a `Hang` fault holds the request before answering 504.
    pub hang_ms: u64,
    /// Extra latency added to every API request.
    pub latency_ms: u64,
    /// Simulate a live location (new leads, replies, STOPs).
    pub activity: bool,
    /// Mean time between live events when `activity` is on.
    pub activity_interval_ms: u64,
    /// Append every request as a JSON line to this file.
    pub request_log: Option<PathBuf>,
    /// Deliver webhooks to this URL.
    pub webhook_url: Option<String>,
    /// The only bearer token accepted.
    pub token: String,
    /// The most a contact write takes to reach the search index (each write draws its own lag
    /// in `0..=search_lag_ms`), as GHL's search lags a few seconds behind writes. 0: at once.
    pub search_lag_ms: u64,
    /// How long an export cursor (a point-in-time handle) lives after its last use.
    pub export_cursor_ttl_ms: u64,
    /// Serve this data set instead of generating one (the seed still drives everything else).
    pub dataset: Option<Arc<Dataset>>,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            port: 0,
            location_id: "ve9EPM428h8vShlRW1KT".into(),
            contacts: 200,
            opportunities: None,
            closed_history: 0,
            messages_per_contact: 3,
            seed: 42,
            now_ms: None,
            rate_limit: Some(RateLimit::default()),
            daily_limit: Some(200_000),
            fault_rate: 0.0,
            fault_kinds: FaultKind::ALL.to_vec(),
            hang_ms: 30_000,
            latency_ms: 0,
            activity: false,
            activity_interval_ms: 4_000,
            request_log: None,
            webhook_url: None,
            token: "sim-token".into(),
            search_lag_ms: DEFAULT_SEARCH_LAG_MS,
            export_cursor_ttl_ms: DEFAULT_EXPORT_CURSOR_TTL_MS,
            dataset: None,
        }
    }
}

impl SimConfig {
    /// Checks ranges; returns a message naming the bad value.
    pub fn validate(&self) -> Result<(), String> {
        if !(0.0..=1.0).contains(&self.fault_rate) || self.fault_rate.is_nan() {
            return Err(format!("fault rate {} is out of range: use a number from 0 to 1", self.fault_rate));
        }
        if self.fault_rate > 0.0 && self.fault_kinds.is_empty() {
            return Err("fault rate is set but no fault kinds are enabled".into());
        }
        if self.location_id.trim().is_empty() {
            return Err("location id is empty".into());
        }
        if self.token.is_empty() {
            return Err("token is empty".into());
        }
        if let Some(url) = &self.webhook_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(format!("webhook url {url:?} must start with http:// or https://"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rate_limits() {
        assert_eq!("100/10s".parse(), Ok(RateLimit::new(100, 10_000)));
        assert_eq!("5/250ms".parse(), Ok(RateLimit::new(5, 250)));
        assert_eq!("600/1m".parse(), Ok(RateLimit::new(600, 60_000)));
        assert_eq!("10/s".parse(), Ok(RateLimit::new(10, 1_000)));
        assert!("100".parse::<RateLimit>().is_err());
        assert!("0/10s".parse::<RateLimit>().is_err());
        assert!("x/10s".parse::<RateLimit>().is_err());
    }

    #[test]
    fn parses_faults_and_validates() {
        assert_eq!("hang".parse(), Ok(FaultKind::Hang));
        assert_eq!("502".parse(), Ok(FaultKind::BadGateway));
        assert!("boom".parse::<FaultKind>().is_err());
        assert!(SimConfig::default().validate().is_ok());
        let bad = SimConfig { fault_rate: 1.5, ..SimConfig::default() };
        assert!(bad.validate().is_err());
    }
}
