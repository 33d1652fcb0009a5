//! GHL's rate limits: a burst window (100 requests / 10 s) and a daily cap (200 000), with the
//! `X-RateLimit-*` headers GHL sends on every response.
//!
//! The burst window is a sliding log: a request is refused when `max` requests were accepted in
//! the last `interval_ms`. Traffic that never exceeds `max` in any window therefore also passes a
//! fixed-window or token-bucket server, so a client tuned against the simulator is safe on GHL.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use serde::Serialize;

use crate::config::RateLimit;

/// The limiter's answer for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RateStatus {
    /// Whether the request may proceed.
    pub allowed: bool,
    /// Burst limit (`X-RateLimit-Max`), if enabled.
    pub max: Option<u32>,
    /// Requests left in the current window (`X-RateLimit-Remaining`).
    pub remaining: Option<u32>,
    /// Window length (`X-RateLimit-Interval-Milliseconds`).
    pub interval_ms: Option<u64>,
    /// Daily cap (`X-RateLimit-Limit-Daily`), if enabled.
    pub daily_limit: Option<u64>,
    /// Requests left today (`X-RateLimit-Daily-Remaining`).
    pub daily_remaining: Option<u64>,
}

impl RateStatus {
    /// Writes the `X-RateLimit-*` headers.
    pub fn apply(&self, headers: &mut HeaderMap) {
        let mut put = |name: &'static str, v: Option<u64>| {
            if let Some(v) = v
                && let Ok(val) = HeaderValue::from_str(&v.to_string())
            {
                headers.insert(HeaderName::from_static(name), val);
            }
        };
        put("x-ratelimit-limit-daily", self.daily_limit);
        put("x-ratelimit-daily-remaining", self.daily_remaining);
        put("x-ratelimit-interval-milliseconds", self.interval_ms);
        put("x-ratelimit-max", self.max.map(u64::from));
        put("x-ratelimit-remaining", self.remaining.map(u64::from));
    }
}

/// The limiter state.
#[derive(Debug)]
pub struct RateLimiter {
    burst: Option<RateLimit>,
    daily: Option<u64>,
    window: VecDeque<Instant>,
    day: i64,
    used_today: u64,
    /// Requests refused with 429 by the limiter (not counting injected faults).
    pub limited: u64,
}

impl RateLimiter {
    /// A limiter with the given burst and daily limits (`None` = unlimited).
    pub fn new(burst: Option<RateLimit>, daily: Option<u64>) -> Self {
        Self { burst, daily, window: VecDeque::new(), day: i64::MIN, used_today: 0, limited: 0 }
    }

    fn prune(&mut self, now: Instant) {
        if let Some(b) = self.burst {
            let span = Duration::from_millis(b.interval_ms);
            while let Some(front) = self.window.front() {
                if now.saturating_duration_since(*front) >= span {
                    self.window.pop_front();
                } else {
                    break;
                }
            }
        }
    }

    fn status(&self, allowed: bool) -> RateStatus {
        RateStatus {
            allowed,
            max: self.burst.map(|b| b.max),
            remaining: self.burst.map(|b| b.max.saturating_sub(self.window.len() as u32)),
            interval_ms: self.burst.map(|b| b.interval_ms),
            daily_limit: self.daily,
            daily_remaining: self.daily.map(|d| d.saturating_sub(self.used_today)),
        }
    }

    /// Counts one request at `now` on simulated UTC day `day`, or refuses it.
    pub fn check(&mut self, now: Instant, day: i64) -> RateStatus {
        if day != self.day {
            self.day = day;
            self.used_today = 0;
        }
        self.prune(now);
        let burst_full = self.burst.is_some_and(|b| self.window.len() >= b.max as usize);
        let daily_full = self.daily.is_some_and(|d| self.used_today >= d);
        if burst_full || daily_full {
            self.limited += 1;
            return self.status(false);
        }
        if self.burst.is_some() {
            self.window.push_back(now);
        }
        self.used_today += 1;
        self.status(true)
    }

    /// The current status without counting a request.
    pub fn peek(&mut self, now: Instant) -> RateStatus {
        self.prune(now);
        self.status(true)
    }

    /// Forgets the burst window and today's count (test helper).
    pub fn reset(&mut self) {
        self.window.clear();
        self.used_today = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refill() {
        let mut rl = RateLimiter::new(Some(RateLimit { max: 3, interval_ms: 1000 }), Some(5));
        let t0 = Instant::now();
        for i in 0..3 {
            let s = rl.check(t0, 0);
            assert!(s.allowed);
            assert_eq!(s.remaining, Some(2 - i));
        }
        let s = rl.check(t0 + Duration::from_millis(999), 0);
        assert!(!s.allowed);
        assert_eq!(rl.limited, 1);
        let s = rl.check(t0 + Duration::from_millis(1000), 0);
        assert!(s.allowed);
        assert_eq!(s.daily_remaining, Some(1));
        assert!(rl.check(t0 + Duration::from_millis(3000), 0).allowed);
        // Daily cap reached.
        assert!(!rl.check(t0 + Duration::from_millis(6000), 0).allowed);
        // A new day resets it.
        assert!(rl.check(t0 + Duration::from_millis(6000), 1).allowed);
    }

    #[test]
    fn headers() {
        let mut rl = RateLimiter::new(Some(RateLimit::default()), Some(200_000));
        let s = rl.check(Instant::now(), 0);
        let mut h = HeaderMap::new();
        s.apply(&mut h);
        assert_eq!(h["x-ratelimit-max"], "100");
        assert_eq!(h["x-ratelimit-remaining"], "99");
        assert_eq!(h["x-ratelimit-interval-milliseconds"], "10000");
        assert_eq!(h["x-ratelimit-limit-daily"], "200000");
        assert_eq!(h["x-ratelimit-daily-remaining"], "199999");
    }
}
