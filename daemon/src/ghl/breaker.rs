//! A circuit breaker, so that an outage never becomes a retry storm.
//!
//! Closed: calls go through; `threshold` consecutive failed *calls* (each after its own
//! retries) open it. Open: calls fail fast with [`GhlError::CircuitOpen`](super::GhlError)
//! for a cool-down (30 s, doubling on each failed probe up to 5 min). Half-open: one call goes
//! through as a probe, with a single attempt; success closes the breaker and resets the
//! cool-down, failure opens it again.
//!
//! [`Breaker`] is pure and clock-injected.

use std::time::{Duration, Instant};

/// Breaker settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerConfig {
    /// Consecutive failed calls that open the breaker.
    pub threshold: u32,
    /// The first cool-down.
    pub cooldown: Duration,
    /// The longest cool-down.
    pub max_cooldown: Duration,
    /// After this long without an answer, a probe is presumed lost and another is allowed.
    pub probe_timeout: Duration,
}

impl Default for BreakerConfig {
    /// 5 failures; 30 s doubling to 5 min; a probe is presumed lost after 2 min.
    fn default() -> Self {
        BreakerConfig {
            threshold: 5,
            cooldown: Duration::from_secs(30),
            max_cooldown: Duration::from_secs(300),
            probe_timeout: Duration::from_secs(120),
        }
    }
}

/// The breaker's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Calls go through; `failures` consecutive calls have failed.
    Closed {
        /// Consecutive failed calls.
        failures: u32,
    },
    /// Calls fail fast until `until`.
    Open {
        /// When the next probe may go.
        until: Instant,
    },
    /// One probe is out (since `since`); other calls fail fast.
    HalfOpen {
        /// When the probe was let through.
        since: Instant,
    },
}

/// What [`Breaker::allow`] grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permit {
    /// A normal call, with its retries.
    Normal,
    /// The single probe of a half-open breaker: make one attempt only.
    Probe,
}

/// The pure breaker.
#[derive(Debug, Clone)]
pub struct Breaker {
    cfg: BreakerConfig,
    state: BreakerState,
    /// The cool-down the next opening uses.
    next_cooldown: Duration,
}

impl Breaker {
    /// A closed breaker.
    pub fn new(cfg: BreakerConfig) -> Breaker {
        Breaker { cfg, state: BreakerState::Closed { failures: 0 }, next_cooldown: cfg.cooldown }
    }

    /// The current state.
    pub fn state(&self) -> BreakerState {
        self.state
    }

    /// Whether calls are currently refused (open, or half-open with its probe out).
    pub fn is_open(&self) -> bool {
        !matches!(self.state, BreakerState::Closed { .. })
    }

    /// May a call go at `now`? `Err(wait)` means fail fast; try again after `wait`.
    pub fn allow(&mut self, now: Instant) -> Result<Permit, Duration> {
        match self.state {
            BreakerState::Closed { .. } => Ok(Permit::Normal),
            BreakerState::Open { until } if now >= until => {
                self.state = BreakerState::HalfOpen { since: now };
                Ok(Permit::Probe)
            }
            BreakerState::Open { until } => Err(until - now),
            BreakerState::HalfOpen { since } => {
                if now.saturating_duration_since(since) >= self.cfg.probe_timeout {
                    self.state = BreakerState::HalfOpen { since: now };
                    Ok(Permit::Probe)
                } else {
                    Err(Duration::from_secs(1))
                }
            }
        }
    }

    /// A call got an answer that shows GHL is up (a success, or a refusal such as 4xx).
    pub fn on_success(&mut self) {
        self.state = BreakerState::Closed { failures: 0 };
        self.next_cooldown = self.cfg.cooldown;
    }

    /// A call failed in a way that suggests an outage (5xx, timeout, network, bad body),
    /// after its retries.
    pub fn on_failure(&mut self, now: Instant) {
        match self.state {
            BreakerState::Closed { failures } => {
                let failures = failures + 1;
                if failures >= self.cfg.threshold.max(1) {
                    self.open(now);
                } else {
                    self.state = BreakerState::Closed { failures };
                }
            }
            BreakerState::HalfOpen { .. } => self.open(now),
            // A call let through before the breaker opened: it stays open as it is.
            BreakerState::Open { .. } => {}
        }
    }

    fn open(&mut self, now: Instant) {
        let cooldown = self.next_cooldown;
        self.state = BreakerState::Open { until: now + cooldown };
        self.next_cooldown = (cooldown * 2).min(self.cfg.max_cooldown);
        tracing::warn!(cooldown_secs = cooldown.as_secs(), "GHL circuit breaker open: pausing calls");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> BreakerConfig {
        BreakerConfig {
            threshold: 3,
            cooldown: Duration::from_secs(30),
            max_cooldown: Duration::from_secs(300),
            probe_timeout: Duration::from_secs(60),
        }
    }

    /// A breaker just opened at `t` by `cfg().threshold` failures in a row.
    fn opened_at(t: Instant) -> Breaker {
        let mut b = Breaker::new(cfg());
        for _ in 0..cfg().threshold {
            b.on_failure(t);
        }
        b
    }

    #[test]
    fn opens_after_consecutive_failures_only() {
        let t = Instant::now();
        let mut b = Breaker::new(cfg());
        b.on_failure(t);
        b.on_failure(t);
        b.on_success();
        b.on_failure(t);
        b.on_failure(t);
        assert_eq!(b.allow(t), Ok(Permit::Normal));
        b.on_failure(t);
        assert!(b.is_open());
        assert_eq!(b.allow(t + Duration::from_secs(10)), Err(Duration::from_secs(20)));
    }

    #[test]
    fn half_open_probe_then_close_or_reopen_with_doubling() {
        let t = Instant::now();
        let mut b = opened_at(t);
        let t1 = t + Duration::from_secs(30);
        assert_eq!(b.allow(t1), Ok(Permit::Probe));
        // Only one probe at a time.
        assert_eq!(b.allow(t1), Err(Duration::from_secs(1)));
        b.on_failure(t1);
        // Re-opened for 60 s.
        assert_eq!(b.allow(t1 + Duration::from_secs(59)), Err(Duration::from_secs(1)));
        let t2 = t1 + Duration::from_secs(60);
        assert_eq!(b.allow(t2), Ok(Permit::Probe));
        b.on_failure(t2);
        let t3 = t2 + Duration::from_secs(120);
        assert!(b.allow(t3 - Duration::from_secs(1)).is_err());
        assert_eq!(b.allow(t3), Ok(Permit::Probe));
        b.on_failure(t3);
        let t4 = t3 + Duration::from_secs(240);
        assert_eq!(b.allow(t4), Ok(Permit::Probe));
        b.on_failure(t4);
        // Capped at 5 min.
        let t5 = t4 + Duration::from_secs(300);
        assert!(b.allow(t5 - Duration::from_secs(1)).is_err());
        assert_eq!(b.allow(t5), Ok(Permit::Probe));
        b.on_success();
        assert_eq!(b.state(), BreakerState::Closed { failures: 0 });
        assert!(!b.is_open());
        // The cool-down is back to 30 s.
        for _ in 0..3 {
            b.on_failure(t5);
        }
        assert_eq!(b.allow(t5 + Duration::from_secs(30)), Ok(Permit::Probe));
    }

    #[test]
    fn a_lost_probe_is_replaced() {
        let t = Instant::now();
        let mut b = opened_at(t);
        let t1 = t + Duration::from_secs(30);
        assert_eq!(b.allow(t1), Ok(Permit::Probe));
        assert!(b.allow(t1 + Duration::from_secs(59)).is_err());
        assert_eq!(b.allow(t1 + Duration::from_secs(60)), Ok(Permit::Probe));
    }
}
