//! The daemon connection's lifecycle as a pure state machine: the driver reports what
//! happened ([`ConnEvent`]) and performs what the machine asks ([`ConnEffect`]); no IO here,
//! so every transition is tested without a daemon.

use std::time::Duration;

use jiff::Timestamp;

/// The first retry waits this long; each failure doubles it up to [`MAX_BACKOFF`].
pub const MIN_BACKOFF: Duration = Duration::from_millis(500);
/// The longest wait between retries, so a daemon that comes back is noticed quickly.
pub const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Where the connection to the daemon stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnState {
    /// A connection attempt is under way; `attempts` failed before it in this episode.
    Connecting {
        /// Failed attempts since the last time the daemon answered.
        attempts: u32,
    },
    /// Handshaken and subscribed.
    Online {
        /// When the daemon answered.
        since: Timestamp,
    },
    /// The daemon cannot be reached; a retry is scheduled.
    Offline {
        /// When the daemon stopped answering.
        since: Timestamp,
        /// Failed attempts since then.
        attempts: u32,
        /// Why the last attempt failed, shown in the banner.
        last_error: String,
        /// When the scheduled retry fires.
        retry_at: Timestamp,
        /// True while the driver is starting the daemon.
        starting_daemon: bool,
        /// No daemon answers (as opposed to one that answered and refused, say another
        /// protocol version).
        unreachable: bool,
    },
}

/// What happened, as the driver reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnEvent {
    /// Connecting (and subscribing) worked.
    Connected {
        /// The current time.
        now: Timestamp,
    },
    /// A connection attempt failed. `unreachable` is false when a daemon answered but refused
    /// (another protocol version, for one), which starting a daemon would not fix.
    ConnectFailed {
        /// What went wrong.
        error: String,
        /// No daemon answers.
        unreachable: bool,
        /// The current time.
        now: Timestamp,
    },
    /// An established connection broke (the daemon stopped, a request found it gone).
    Lost {
        /// What went wrong.
        error: String,
    },
    /// The retry scheduled with this token is due.
    RetryDue {
        /// The token of the [`ConnEffect::ScheduleRetry`] that fired.
        token: u64,
    },
    /// The user asked to retry now.
    RetryNow,
    /// Starting the daemon returned (it answers now, or it is at least started).
    DaemonStarted,
    /// Starting the daemon failed.
    DaemonStartFailed {
        /// Why, shown in the banner.
        error: String,
    },
}

/// What the driver must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnEffect {
    /// Try to connect now and report [`ConnEvent::Connected`] or [`ConnEvent::ConnectFailed`].
    Connect,
    /// Start the daemon (a blocking call) and report [`ConnEvent::DaemonStarted`] or
    /// [`ConnEvent::DaemonStartFailed`].
    StartDaemon,
    /// Report [`ConnEvent::RetryDue`] with this token after this long. Older tokens are
    /// ignored, so the driver never needs to cancel a timer.
    ScheduleRetry {
        /// Identifies this timer.
        token: u64,
        /// How long to wait.
        after: Duration,
    },
    /// Drop the current connection (requests and subscription).
    Disconnect,
}

/// The connection state machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    state: ConnState,
    retry_token: u64,
    /// The daemon is started once per outage (and again when the user retries by hand), so a
    /// daemon that dies at once is not respawned in a tight loop.
    started_this_outage: bool,
    /// When the current outage began; kept across the attempts inside it.
    outage_since: Option<Timestamp>,
}

impl Default for Connection {
    fn default() -> Self {
        Connection::new()
    }
}

/// The wait before retry number `attempts` (1-based): 0.5 s doubling to at most 5 s.
pub fn backoff(attempts: u32) -> Duration {
    let shift = attempts.saturating_sub(1).min(16);
    MIN_BACKOFF.saturating_mul(1 << shift).min(MAX_BACKOFF)
}

fn after(now: Timestamp, wait: Duration) -> Timestamp {
    now.checked_add(wait).unwrap_or(now)
}

impl Connection {
    /// A machine about to make its first attempt; call [`Connection::start`].
    pub fn new() -> Self {
        Connection {
            state: ConnState::Connecting { attempts: 0 },
            retry_token: 0,
            started_this_outage: false,
            outage_since: None,
        }
    }

    /// The first effect: connect.
    pub fn start(&mut self) -> Vec<ConnEffect> {
        self.state = ConnState::Connecting { attempts: 0 };
        vec![ConnEffect::Connect]
    }

    /// The current state.
    pub fn state(&self) -> &ConnState {
        &self.state
    }

    /// True when requests can be sent.
    pub fn is_online(&self) -> bool {
        matches!(self.state, ConnState::Online { .. })
    }

    /// Advances the machine.
    pub fn handle(&mut self, event: ConnEvent) -> Vec<ConnEffect> {
        match event {
            ConnEvent::Connected { now } => {
                self.state = ConnState::Online { since: now };
                self.started_this_outage = false;
                self.outage_since = None;
                Vec::new()
            }
            ConnEvent::ConnectFailed { error, unreachable, now } => {
                let attempts = match &self.state {
                    ConnState::Connecting { attempts } | ConnState::Offline { attempts, .. } => attempts + 1,
                    // A late failure report for an attempt that was superseded.
                    ConnState::Online { .. } => return Vec::new(),
                };
                let since = *self.outage_since.get_or_insert(now);
                let start = unreachable && !self.started_this_outage;
                self.go_offline(since, attempts, error, now, start, unreachable)
            }
            ConnEvent::Lost { error } => {
                if !self.is_online() {
                    return Vec::new();
                }
                // Reconnect at once: a daemon that restarted answers again immediately, and
                // one that is gone makes this attempt fail and the outage begin.
                tracing::info!(%error, "lost the daemon connection");
                self.state = ConnState::Connecting { attempts: 0 };
                vec![ConnEffect::Disconnect, ConnEffect::Connect]
            }
            ConnEvent::RetryDue { token } => match &self.state {
                ConnState::Offline { attempts, starting_daemon: false, .. } if token == self.retry_token => {
                    self.state = ConnState::Connecting { attempts: *attempts };
                    vec![ConnEffect::Connect]
                }
                _ => Vec::new(),
            },
            // A retry by hand may start the daemon again if it still does not answer.
            ConnEvent::RetryNow => match &self.state {
                ConnState::Offline { attempts, starting_daemon: false, .. } => {
                    self.started_this_outage = false;
                    self.state = ConnState::Connecting { attempts: *attempts };
                    vec![ConnEffect::Connect]
                }
                _ => Vec::new(),
            },
            ConnEvent::DaemonStarted => match &self.state {
                ConnState::Offline { attempts, .. } => {
                    self.state = ConnState::Connecting { attempts: *attempts };
                    vec![ConnEffect::Connect]
                }
                _ => Vec::new(),
            },
            ConnEvent::DaemonStartFailed { error } => {
                if let ConnState::Offline { last_error, starting_daemon, .. } = &mut self.state {
                    *last_error = error;
                    *starting_daemon = false;
                }
                Vec::new()
            }
        }
    }

    fn go_offline(
        &mut self,
        since: Timestamp,
        attempts: u32,
        error: String,
        now: Timestamp,
        start_daemon: bool,
        unreachable: bool,
    ) -> Vec<ConnEffect> {
        self.retry_token += 1;
        let wait = backoff(attempts);
        self.state = ConnState::Offline {
            since,
            attempts,
            last_error: error,
            retry_at: after(now, wait),
            starting_daemon: start_daemon,
            unreachable,
        };
        let mut effects = Vec::new();
        if start_daemon {
            self.started_this_outage = true;
            effects.push(ConnEffect::StartDaemon);
        }
        // While the daemon is starting, its completion triggers the next attempt; the timer
        // still runs so the banner counts down, and it is ignored if the start wins.
        effects.push(ConnEffect::ScheduleRetry { token: self.retry_token, after: wait });
        effects
    }

    /// Whole seconds until the next retry (rounded up), for the banner; `None` unless offline.
    pub fn retry_in_secs(&self, now: Timestamp) -> Option<i64> {
        match &self.state {
            ConnState::Offline { retry_at, .. } => {
                let ms = retry_at.as_millisecond() - now.as_millisecond();
                Some(((ms + 999) / 1000).max(0))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: i64) -> Timestamp {
        Timestamp::from_second(1_750_000_000 + secs).expect("valid")
    }

    fn fail(now: Timestamp) -> ConnEvent {
        ConnEvent::ConnectFailed { error: "no daemon".into(), unreachable: true, now }
    }

    fn token(effects: &[ConnEffect]) -> u64 {
        effects
            .iter()
            .find_map(|e| match e {
                ConnEffect::ScheduleRetry { token, .. } => Some(*token),
                _ => None,
            })
            .expect("a retry is scheduled")
    }

    #[test]
    fn backoff_doubles_and_caps() {
        let waits: Vec<u128> = (1..=7).map(|n| backoff(n).as_millis()).collect();
        assert_eq!(waits, [500, 1000, 2000, 4000, 5000, 5000, 5000]);
        assert_eq!(backoff(u32::MAX), MAX_BACKOFF);
        assert_eq!(backoff(0), MIN_BACKOFF);
    }

    #[test]
    fn connects_first() {
        let mut c = Connection::new();
        assert_eq!(c.start(), [ConnEffect::Connect]);
        assert_eq!(c.handle(ConnEvent::Connected { now: t(0) }), []);
        assert!(c.is_online());
    }

    #[test]
    fn unreachable_starts_the_daemon_once_and_retries_with_backoff() {
        let mut c = Connection::new();
        c.start();
        let effects = c.handle(fail(t(0)));
        assert_eq!(effects[0], ConnEffect::StartDaemon);
        assert!(matches!(effects[1], ConnEffect::ScheduleRetry { after, .. } if after == MIN_BACKOFF));
        assert_eq!(c.retry_in_secs(t(0)), Some(1));

        // The start fails: the error is shown and the timer drives the next attempt.
        assert_eq!(c.handle(ConnEvent::DaemonStartFailed { error: "no leadlined binary".into() }), []);
        assert!(
            matches!(c.state(), ConnState::Offline { last_error, .. } if last_error == "no leadlined binary")
        );
        assert_eq!(c.handle(ConnEvent::RetryDue { token: token(&effects) }), [ConnEffect::Connect]);

        // Second failure: no second daemon start, a longer wait, same outage start.
        let effects = c.handle(fail(t(1)));
        assert_eq!(effects.len(), 1);
        assert!(
            matches!(effects[0], ConnEffect::ScheduleRetry { after, .. } if after == Duration::from_secs(1))
        );
        assert!(matches!(c.state(), ConnState::Offline { since, attempts: 2, .. } if *since == t(0)));

        // The daemon comes back.
        assert_eq!(c.handle(ConnEvent::RetryDue { token: token(&effects) }), [ConnEffect::Connect]);
        assert_eq!(c.handle(ConnEvent::Connected { now: t(3) }), []);
        assert_eq!(c.state(), &ConnState::Online { since: t(3) });
    }

    #[test]
    fn a_started_daemon_is_tried_at_once_and_stale_timers_are_ignored() {
        let mut c = Connection::new();
        c.start();
        let effects = c.handle(fail(t(0)));
        let stale = token(&effects);
        // The timer fires while the daemon is still starting: wait for the start.
        assert_eq!(c.handle(ConnEvent::RetryDue { token: stale }), []);
        assert_eq!(c.handle(ConnEvent::DaemonStarted), [ConnEffect::Connect]);
        assert_eq!(c.handle(ConnEvent::RetryDue { token: stale }), [], "not offline any more");
        let effects = c.handle(fail(t(1)));
        assert_eq!(c.handle(ConnEvent::RetryDue { token: stale }), [], "superseded timer");
        assert_eq!(c.handle(ConnEvent::RetryDue { token: token(&effects) }), [ConnEffect::Connect]);
    }

    #[test]
    fn a_refusing_daemon_is_not_restarted() {
        let mut c = Connection::new();
        c.start();
        let effects = c.handle(ConnEvent::ConnectFailed {
            error: "protocol 2, we speak 1".into(),
            unreachable: false,
            now: t(0),
        });
        assert!(!effects.contains(&ConnEffect::StartDaemon));
        assert!(matches!(c.state(), ConnState::Offline { starting_daemon: false, .. }));
    }

    #[test]
    fn a_lost_connection_reconnects_then_goes_offline() {
        let mut c = Connection::new();
        c.start();
        c.handle(ConnEvent::Connected { now: t(0) });
        assert_eq!(
            c.handle(ConnEvent::Lost { error: "closed".into() }),
            [ConnEffect::Disconnect, ConnEffect::Connect]
        );
        // The second task to notice reports it too; nothing more happens.
        assert_eq!(c.handle(ConnEvent::Lost { error: "closed".into() }), []);
        let effects = c.handle(fail(t(5)));
        assert_eq!(effects[0], ConnEffect::StartDaemon, "a new outage may start the daemon again");
        assert!(matches!(c.state(), ConnState::Offline { since, attempts: 1, .. } if *since == t(5)));
    }

    #[test]
    fn retry_now_connects_and_may_start_the_daemon_again() {
        let mut c = Connection::new();
        c.start();
        c.handle(fail(t(0)));
        assert_eq!(c.handle(ConnEvent::RetryNow), [], "the daemon is starting");
        c.handle(ConnEvent::DaemonStartFailed { error: "boom".into() });
        assert_eq!(c.handle(ConnEvent::RetryNow), [ConnEffect::Connect]);
        let effects = c.handle(fail(t(2)));
        assert_eq!(effects[0], ConnEffect::StartDaemon);
        assert!(
            matches!(c.state(), ConnState::Offline { since, attempts: 2, starting_daemon: true, .. } if *since == t(0))
        );
        assert_eq!(c.handle(ConnEvent::DaemonStarted), [ConnEffect::Connect]);
    }

    #[test]
    fn countdown_rounds_up_and_never_goes_negative() {
        let mut c = Connection::new();
        c.start();
        assert_eq!(c.retry_in_secs(t(0)), None);
        c.handle(fail(t(0)));
        c.handle(ConnEvent::DaemonStartFailed { error: "x".into() });
        c.handle(ConnEvent::RetryDue { token: 1 });
        c.handle(fail(t(0)));
        c.handle(ConnEvent::RetryDue { token: 2 });
        c.handle(fail(t(0)));
        // Third attempt: 2 s.
        assert_eq!(c.retry_in_secs(t(0)), Some(2));
        assert_eq!(c.retry_in_secs(t(1)), Some(1));
        assert_eq!(c.retry_in_secs(t(9)), Some(0));
    }
}
