//! The clock, injected so that rules and tests can run at any time.

use std::sync::Mutex;

use jiff::Timestamp;

/// Tells the time.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Timestamp;
}

/// The system clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that starts at a given instant and runs in real time from there: a daemon (or a
/// simulated GHL) set to an afternoon keeps to it, whatever the hour of the machine, so tests
/// and demos of time rules (quiet hours) do the same at any time of day.
pub struct StartedClock {
    start: Timestamp,
    started: std::time::Instant,
}

impl StartedClock {
    /// A clock reading `start` now.
    pub fn new(start: Timestamp) -> StartedClock {
        StartedClock { start, started: std::time::Instant::now() }
    }
}

impl Clock for StartedClock {
    fn now(&self) -> Timestamp {
        let elapsed =
            jiff::SignedDuration::try_from(self.started.elapsed()).unwrap_or(jiff::SignedDuration::MAX);
        self.start.checked_add(elapsed).unwrap_or(Timestamp::MAX)
    }
}

/// A clock that says what it is told (tests, simulations).
pub struct FixedClock(Mutex<Timestamp>);

impl FixedClock {
    /// A clock stopped at `at`.
    pub fn new(at: Timestamp) -> FixedClock {
        FixedClock(Mutex::new(at))
    }

    /// Moves the clock.
    pub fn set(&self, at: Timestamp) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = at;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}
