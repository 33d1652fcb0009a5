//! GHL's rate limits: a burst limit (100 requests / 10 s) and a daily cap (200 000), with the
//! `X-RateLimit-*` headers GHL sends on every response.
//!
//! The burst limit counts in one of two ways ([`Counting`]), both at the request's arrival:
//! - a bucket of `max` tokens that refills at `max / interval` continuously (the default: "a
//!   burst of 100 and then 10 requests/s", as product.md reads GHL's documentation);
//! - a sliding log: a request is refused when `max` requests were accepted in the last
//!   `interval_ms`, the strictest reading. Traffic that never exceeds `max` in any window also
//!   passes a fixed-window or bucket server.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use serde::Serialize;

use crate::config::{Counting, RateLimit};

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
    /// The bucket's tokens at `filled_at` (`None`: full).
    tokens: f64,
    filled_at: Option<Instant>,
    day: i64,
    used_today: u64,
    /// Requests refused with 429 by the limiter (not counting injected faults).
    pub limited: u64,
}

impl RateLimiter {
    /// A limiter with the given burst and daily limits (`None` = unlimited).
    pub fn new(burst: Option<RateLimit>, daily: Option<u64>) -> Self {
        let tokens = burst.map_or(0.0, |b| f64::from(b.max));
        Self {
            burst,
            daily,
            window: VecDeque::new(),
            tokens,
            filled_at: None,
            day: i64::MIN,
            used_today: 0,
            limited: 0,
        }
    }

    fn prune(&mut self, now: Instant) {
        if let Some(b) = self.burst
            && b.counting == Counting::Bucket
        {
            let max = f64::from(b.max);
            if let Some(at) = self.filled_at {
                let rate = max / (b.interval_ms as f64 / 1000.0);
                self.tokens = (self.tokens + rate * now.saturating_duration_since(at).as_secs_f64()).min(max);
            }
            self.filled_at = Some(now);
        } else if let Some(b) = self.burst {
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
            remaining: self.burst.map(|b| match b.counting {
                Counting::Bucket => self.tokens.max(0.0).floor() as u32,
                Counting::Window => b.max.saturating_sub(self.window.len() as u32),
            }),
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
        let burst_full = self.burst.is_some_and(|b| match b.counting {
            Counting::Bucket => self.tokens < 1.0,
            Counting::Window => self.window.len() >= b.max as usize,
        });
        let daily_full = self.daily.is_some_and(|d| self.used_today >= d);
        if burst_full || daily_full {
            self.limited += 1;
            return self.status(false);
        }
        match self.burst.map(|b| b.counting) {
            Some(Counting::Bucket) => self.tokens -= 1.0,
            Some(Counting::Window) => self.window.push_back(now),
            None => {}
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
        self.tokens = self.burst.map_or(0.0, |b| f64::from(b.max));
        self.filled_at = None;
        self.used_today = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_burst_then_refill() {
        let window = RateLimit { counting: Counting::Window, ..RateLimit::new(3, 1000) };
        let mut rl = RateLimiter::new(Some(window), Some(5));
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
    fn bucket_burst_then_a_steady_rate() {
        let mut rl = RateLimiter::new(Some(RateLimit::new(10, 1000)), None);
        let t0 = Instant::now();
        for i in 0..10 {
            let s = rl.check(t0, 0);
            assert!(s.allowed);
            assert_eq!(s.remaining, Some(9 - i));
        }
        assert!(!rl.check(t0, 0).allowed);
        // 10 a second: one token every 100 ms, where a window would wait the whole second.
        assert!(!rl.check(t0 + Duration::from_millis(99), 0).allowed);
        let s = rl.check(t0 + Duration::from_millis(100), 0);
        assert!(s.allowed);
        assert_eq!(s.remaining, Some(0));
        assert!(!rl.check(t0 + Duration::from_millis(150), 0).allowed);
        assert!(rl.check(t0 + Duration::from_millis(200), 0).allowed);
        // Idle, it fills up to the burst and no further.
        for _ in 0..10 {
            assert!(rl.check(t0 + Duration::from_secs(60), 0).allowed);
        }
        assert!(!rl.check(t0 + Duration::from_secs(60), 0).allowed);
        assert_eq!(rl.limited, 4);
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
