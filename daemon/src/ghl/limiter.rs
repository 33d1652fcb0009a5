//! The shared request budget: GHL's burst limit (100 requests / 10 s) and daily cap
//! (200 000), plus what the `X-RateLimit-*` headers say.
//!
//! [`LimiterCore`] is the pure, clock-injected logic; [`RateLimiter`] wraps it for async use.
//!
//! # Two readings of the burst limit
//!
//! GHL documents "100 requests per 10 seconds" and not how it counts them
//! ([`RateLimitModel`]). The default reads it as product.md does: a bucket of 100 that refills
//! at 10 a second. The strict reading is a sliding window: at most 100 in any 10 s. Traffic
//! that keeps the window also keeps the bucket, never the other way round, so a 429 from a
//! server whose budget we already knew switches the limiter to the window for good.
//!
//! # Why it is exact and never early
//!
//! GHL (and the simulator) counts a request when it *arrives*; we can only see when we *send*
//! it and when its response *comes back*. Arrival lies between the two. So a request is
//! charged as late as it can have arrived: in the window, it occupies one slot from the moment
//! it is sent until `window` after its response came back (an in-flight request holds its slot
//! indefinitely); in the bucket, its token is taken at its response (an in-flight request
//! holds one), so our bucket never holds more than the server's. The cost is one round trip
//! per window (≈ 1–3 % at 10 s) in the window, and nothing in the steady state of the bucket.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

pub use leadline_shared::config::RateLimitModel;

use super::error::GhlError;

/// The limits to keep to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// Requests allowed in any `window` (GHL: 100).
    pub burst: u32,
    /// The burst window (GHL: 10 s).
    pub window: Duration,
    /// Requests allowed per day (GHL: 200 000).
    pub daily: u32,
    /// How the server counts the burst limit (as far as we know when we start).
    pub model: RateLimitModel,
}

impl Default for RateLimits {
    /// GHL's documented limits: 100 requests per 10 s, 200 000 per day, a bucket.
    fn default() -> Self {
        RateLimits {
            burst: 100,
            window: Duration::from_secs(10),
            daily: 200_000,
            model: RateLimitModel::Bucket,
        }
    }
}

/// A safety margin added to every slot's expiry, for timer granularity.
const MARGIN: Duration = Duration::from_millis(2);
/// How often to look again when every slot is held by a request still in flight.
const IN_FLIGHT_POLL: Duration = Duration::from_millis(20);
const DAY: Duration = Duration::from_secs(24 * 3600);

/// What the `X-RateLimit-*` headers of one response said. Missing headers are `None`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ServerBudget {
    /// `X-RateLimit-Max`.
    pub max: Option<u32>,
    /// `X-RateLimit-Remaining`.
    pub remaining: Option<u32>,
    /// `X-RateLimit-Interval-Milliseconds`.
    pub interval_ms: Option<u64>,
    /// `X-RateLimit-Daily-Remaining`.
    pub daily_remaining: Option<u64>,
    /// `X-RateLimit-Limit-Daily`.
    pub daily_max: Option<u64>,
}

impl ServerBudget {
    /// Whether any rate-limit header was present.
    pub fn is_present(&self) -> bool {
        self.max.is_some() || self.remaining.is_some() || self.daily_remaining.is_some()
    }
}

/// A granted slot, to be passed back to [`LimiterCore::complete`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    id: u64,
    sent: Instant,
}

impl Slot {
    /// When the slot was granted (the request's send time).
    pub fn sent_at(&self) -> Instant {
        self.sent
    }
}

/// Why no slot is free yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// A slot frees up after this long.
    For(Duration),
    /// Every slot is held by a request still in flight; look again when one completes.
    InFlight,
    /// The daily budget is spent; it resets after this long (as far as we know).
    Daily(Duration),
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    id: u64,
    sent: Instant,
    /// When the response came back; `None` while in flight.
    done: Option<Instant>,
    /// A slot used by someone else, inferred from the server's headers.
    phantom: bool,
}

/// The pure limiter: a log of the slots in use and a bucket, with no IO and no clock of its own.
#[derive(Debug)]
pub struct LimiterCore {
    limits: RateLimits,
    model: RateLimitModel,
    /// The burst and window in force: the configured ones, tightened by what the server said.
    burst: u32,
    window: Duration,
    entries: VecDeque<Entry>,
    /// The bucket's tokens just after the last response folded in, at `tokens_at` (`None`:
    /// full). Requests still in flight are not taken from it yet.
    tokens: f64,
    tokens_at: Option<Instant>,
    /// When the first response with the server's budget came back.
    informed_at: Option<Instant>,
    next_id: u64,
    day_start: Option<Instant>,
    daily_left: u64,
}

impl LimiterCore {
    /// A limiter for `limits`.
    pub fn new(limits: RateLimits) -> LimiterCore {
        LimiterCore {
            limits,
            model: limits.model,
            burst: limits.burst.max(1),
            window: limits.window,
            entries: VecDeque::new(),
            tokens: f64::from(limits.burst.max(1)),
            tokens_at: None,
            informed_at: None,
            next_id: 0,
            day_start: None,
            daily_left: u64::from(limits.daily),
        }
    }

    /// The burst limit in force (the configured one, or the server's if lower).
    pub fn burst(&self) -> u32 {
        self.burst
    }

    /// The window in force (the configured one, or the server's if longer).
    pub fn window(&self) -> Duration {
        self.window
    }

    /// How the burst limit is counted now.
    pub fn model(&self) -> RateLimitModel {
        self.model
    }

    /// Tokens refilled per second: the burst spread over the window.
    fn rate(&self) -> f64 {
        f64::from(self.burst) / self.window.as_secs_f64().max(1e-3)
    }

    /// The bucket at `now`, before requests in flight are taken from it.
    fn tokens_at(&self, now: Instant) -> f64 {
        let cap = f64::from(self.burst);
        match self.tokens_at {
            None => cap,
            Some(at) => {
                (self.tokens + self.rate() * now.saturating_duration_since(at).as_secs_f64()).min(cap)
            }
        }
    }

    fn in_flight(&self) -> usize {
        self.entries.iter().filter(|e| e.done.is_none()).count()
    }

    /// Takes one token for a response that came back at `now`.
    fn charge(&mut self, now: Instant) {
        self.tokens = self.tokens_at(now) - 1.0;
        self.tokens_at = Some(now);
    }

    /// Why no request may go at `now` under the current model, if none may.
    fn burst_wait(&self, now: Instant) -> Option<Wait> {
        match self.model {
            RateLimitModel::Window => {
                if self.live_count(now) < self.burst as usize {
                    return None;
                }
                let soonest = self.entries.iter().filter(|e| self.live(e, now)).filter_map(|e| e.done).min();
                Some(match soonest {
                    Some(d) => Wait::For((d + self.window + MARGIN).saturating_duration_since(now)),
                    None => Wait::InFlight,
                })
            }
            RateLimitModel::Bucket => {
                let held = self.in_flight() as f64;
                let short = 1.0 + held - self.tokens_at(now);
                if short <= 0.0 {
                    None
                } else if f64::from(self.burst) - held < 1.0 {
                    Some(Wait::InFlight)
                } else {
                    Some(Wait::For(Duration::from_secs_f64(short / self.rate()) + MARGIN))
                }
            }
        }
    }

    fn live(&self, e: &Entry, now: Instant) -> bool {
        e.done.is_none_or(|d| now < d + self.window + MARGIN)
    }

    fn live_count(&self, now: Instant) -> usize {
        self.entries.iter().filter(|e| self.live(e, now)).count()
    }

    /// Forgets entries two windows after they finished (one window of history is kept for
    /// comparing with the server's count).
    fn prune(&mut self, now: Instant) {
        let keep = self.window * 2 + MARGIN;
        self.entries.retain(|e| e.done.is_none_or(|d| now < d + keep));
        let start = *self.day_start.get_or_insert(now);
        if now.saturating_duration_since(start) >= DAY {
            self.day_start = Some(now);
            self.daily_left = u64::from(self.limits.daily);
        }
    }

    /// Takes a slot at `now` if one is free, else says how long to wait.
    pub fn try_acquire(&mut self, now: Instant) -> Result<Slot, Wait> {
        self.prune(now);
        if self.daily_left == 0 {
            let start = self.day_start.unwrap_or(now);
            return Err(Wait::Daily((start + DAY).saturating_duration_since(now)));
        }
        if let Some(wait) = self.burst_wait(now) {
            return Err(wait);
        }
        let id = self.next_id;
        self.next_id += 1;
        self.entries.push_back(Entry { id, sent: now, done: None, phantom: false });
        self.daily_left -= 1;
        Ok(Slot { id, sent: now })
    }

    /// Like [`LimiterCore::try_acquire`] but only reports: `None` when a request may go now
    /// (and takes the slot), else how long to wait (`Wait::InFlight` as a short poll).
    pub fn next_slot(&mut self, now: Instant) -> Option<Duration> {
        match self.try_acquire(now) {
            Ok(_) => None,
            Err(Wait::For(d) | Wait::Daily(d)) => Some(d),
            Err(Wait::InFlight) => Some(IN_FLIGHT_POLL),
        }
    }

    /// Marks the request of `slot` finished at `now` (its response, or its failure, came back)
    /// and takes in what the server's headers said.
    pub fn complete(&mut self, slot: Slot, now: Instant, server: Option<&ServerBudget>) {
        if let Some(e) = self.entries.iter_mut().find(|e| e.id == slot.id && e.done.is_none()) {
            e.done = Some(now.max(e.sent));
            self.charge(now);
        }
        if let Some(s) = server {
            self.observe(slot, now, s);
        }
    }

    /// The request of `slot` was refused with 429 for the burst limit (after
    /// [`LimiterCore::complete`]). If the server's budget was known before it was sent, the
    /// bucket was too generous a reading: from now on the window is kept.
    pub fn refused(&mut self, slot: Slot) {
        if self.model == RateLimitModel::Bucket && self.informed_at.is_some_and(|t| t <= slot.sent) {
            tracing::warn!(
                "GHL refused a request the bucket reading of its rate limit allowed; \
                 keeping at most {} requests in any {:?} from now on",
                self.burst,
                self.window
            );
            self.model = RateLimitModel::Window;
        }
    }

    /// Takes in the server's view. The burst only ever tightens. If the server counts more
    /// requests than we know of (another client on the same app and location), phantom slots
    /// are added so we slow down for one window.
    fn observe(&mut self, slot: Slot, now: Instant, s: &ServerBudget) {
        if let Some(max) = s.max.filter(|m| *m > 0) {
            self.burst = self.burst.min(max);
        }
        if let Some(ms) = s.interval_ms.filter(|ms| *ms > 0) {
            self.window = self.window.max(Duration::from_millis(ms));
        }
        self.prune(now);
        if let Some(d) = s.daily_remaining {
            // Requests we sent after this one may not be in the server's count yet.
            let later = self.entries.iter().filter(|e| !e.phantom && e.sent > slot.sent).count() as u64;
            self.daily_left = d.saturating_sub(later);
        }
        if let Some(remaining) = s.remaining {
            // The server had `remaining` left just after this request arrived, and has at least
            // that now, less what arrived since: those are in flight, and held apart.
            self.tokens = self.tokens_at(now).min(f64::from(remaining));
            self.tokens_at = Some(now);
            self.informed_at.get_or_insert(now);
        }
        if let (Some(max), Some(remaining)) = (s.max, s.remaining) {
            // The server counted, at this request's arrival, the requests that arrived in the
            // window before it. Every one of ours it can have counted finished after
            // `sent - window` (or is still in flight); counting all of those (a superset) means
            // a phantom is only added for requests we certainly did not send.
            let server_used = u64::from(max.saturating_sub(remaining));
            let since = slot.sent.checked_sub(self.window);
            let known =
                self.entries.iter().filter(|e| e.done.is_none_or(|d| since.is_none_or(|t| d > t))).count()
                    as u64;
            for _ in known..server_used.min(u64::from(self.burst)) {
                let id = self.next_id;
                self.next_id += 1;
                self.entries.push_back(Entry { id, sent: now, done: Some(now), phantom: true });
            }
        }
    }

    /// Slots in use at `now` (for tests and stats).
    pub fn in_use(&mut self, now: Instant) -> usize {
        self.prune(now);
        self.live_count(now)
    }

    /// Requests left today, as far as we know.
    pub fn daily_left(&self) -> u64 {
        self.daily_left
    }
}

/// The async limiter shared by every call of one client.
#[derive(Debug, Clone)]
pub struct RateLimiter {
    core: Arc<Mutex<LimiterCore>>,
    /// Queues waiters in arrival order (tokio's mutex is fair).
    turnstile: Arc<tokio::sync::Mutex<()>>,
}

/// A slot held by a request in flight. Call [`SlotGuard::complete`] when the response is in;
/// dropping it un-completed (a cancelled request) completes it at the time of the drop.
#[derive(Debug)]
pub struct SlotGuard {
    core: Arc<Mutex<LimiterCore>>,
    slot: Option<Slot>,
}

impl SlotGuard {
    /// Marks the request finished now and passes on the server's headers.
    pub fn complete(mut self, server: Option<&ServerBudget>) {
        if let Some(slot) = self.slot.take() {
            lock(&self.core).complete(slot, Instant::now(), server);
        }
    }

    /// Like [`SlotGuard::complete`], for a request the server refused with 429 for its burst
    /// limit (see [`LimiterCore::refused`]).
    pub fn refused(mut self, server: Option<&ServerBudget>) {
        if let Some(slot) = self.slot.take() {
            let mut core = lock(&self.core);
            core.complete(slot, Instant::now(), server);
            core.refused(slot);
        }
    }
}

impl Drop for SlotGuard {
    fn drop(&mut self) {
        if let Some(slot) = self.slot.take() {
            lock(&self.core).complete(slot, Instant::now(), None);
        }
    }
}

fn lock(core: &Mutex<LimiterCore>) -> MutexGuard<'_, LimiterCore> {
    core.lock().unwrap_or_else(|e| e.into_inner())
}

impl RateLimiter {
    /// A limiter for `limits`.
    pub fn new(limits: RateLimits) -> RateLimiter {
        RateLimiter {
            core: Arc::new(Mutex::new(LimiterCore::new(limits))),
            turnstile: Arc::new(tokio::sync::Mutex::new(())),
        }
    }

    /// Waits for a slot. Fails only when the daily budget is spent (it does not sleep for
    /// hours: the caller reports it and tries later).
    pub async fn acquire(&self) -> Result<SlotGuard, GhlError> {
        let _turn = self.turnstile.lock().await;
        loop {
            let answer = lock(&self.core).try_acquire(Instant::now());
            match answer {
                Ok(slot) => return Ok(SlotGuard { core: self.core.clone(), slot: Some(slot) }),
                Err(Wait::Daily(d)) => return Err(GhlError::RateLimited { retry_in: Some(d), daily: true }),
                Err(Wait::For(d)) => {
                    tracing::trace!(wait_ms = d.as_millis() as u64, "GHL burst budget spent; waiting");
                    tokio::time::sleep(d).await;
                }
                Err(Wait::InFlight) => tokio::time::sleep(IN_FLIGHT_POLL).await,
            }
        }
    }

    /// Runs `f` on the core (tests, stats).
    pub fn with_core<R>(&self, f: impl FnOnce(&mut LimiterCore) -> R) -> R {
        f(&mut lock(&self.core))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The strict reading, which most tests below are about.
    fn limits(burst: u32, window_ms: u64) -> RateLimits {
        RateLimits {
            burst,
            window: Duration::from_millis(window_ms),
            daily: 1_000_000,
            model: RateLimitModel::Window,
        }
    }

    fn bucket(burst: u32, window_ms: u64) -> RateLimits {
        RateLimits { model: RateLimitModel::Bucket, ..limits(burst, window_ms) }
    }

    /// A server with a bucket, counting at arrival, as the simulator does by default.
    struct BucketServer {
        max: f64,
        rate: f64,
        tokens: f64,
        at: Option<Instant>,
        refused: u32,
    }

    impl BucketServer {
        fn new(max: u32, window: Duration) -> BucketServer {
            let max = f64::from(max);
            BucketServer { max, rate: max / window.as_secs_f64(), tokens: max, at: None, refused: 0 }
        }

        fn arrive(&mut self, t: Instant) -> u32 {
            if let Some(at) = self.at {
                self.tokens =
                    (self.tokens + self.rate * t.saturating_duration_since(at).as_secs_f64()).min(self.max);
            }
            self.at = Some(t);
            if self.tokens < 1.0 {
                self.refused += 1;
            } else {
                self.tokens -= 1.0;
            }
            self.tokens.floor() as u32
        }
    }

    /// Runs `n` requests, `concurrency` at a time with latencies drawn from `seed`, against a
    /// server; returns when the last response came back.
    fn run(
        l: &mut LimiterCore,
        n: usize,
        concurrency: usize,
        seed: u64,
        mut arrive: impl FnMut(Instant) -> (u32, bool),
    ) -> (Instant, u32) {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let t0 = Instant::now();
        let (mut now, mut sent, mut refusals) = (t0, 0, 0);
        // (slot, arrival, back)
        let mut inflight: Vec<(Slot, Instant, Instant)> = Vec::new();
        while sent < n || !inflight.is_empty() {
            inflight.sort_by_key(|x| x.2);
            let mut advance_to = inflight.first().map(|x| x.2);
            if sent < n && inflight.len() < concurrency {
                match l.try_acquire(now) {
                    Ok(slot) => {
                        let at = now + Duration::from_millis(rng.random_range(1..60));
                        let back = at + Duration::from_millis(rng.random_range(1..60));
                        inflight.push((slot, at, back));
                        sent += 1;
                        continue;
                    }
                    Err(Wait::For(d)) => advance_to = Some(advance_to.map_or(now + d, |t| t.min(now + d))),
                    Err(Wait::InFlight) => {}
                    Err(Wait::Daily(_)) => panic!("daily"),
                }
            }
            now = now.max(advance_to.expect("a request in flight or a wait"));
            let mut done: Vec<_> = inflight.iter().copied().filter(|x| x.2 <= now).collect();
            inflight.retain(|x| x.2 > now);
            done.sort_by_key(|x| x.1);
            for (slot, at, back) in done {
                let (remaining, ok) = arrive(at);
                l.complete(slot, back, Some(&budget(l.burst(), remaining)));
                if !ok {
                    refusals += 1;
                    l.refused(slot);
                    // Asked again, like the client's retry.
                    sent -= 1;
                }
            }
        }
        (now, refusals)
    }

    /// A server with a sliding log, counting at arrival, as the simulator does.
    struct Server {
        max: usize,
        window: Duration,
        log: VecDeque<Instant>,
        refused: u32,
    }

    impl Server {
        fn new(max: usize, window: Duration) -> Server {
            Server { max, window, log: VecDeque::new(), refused: 0 }
        }

        fn arrive(&mut self, t: Instant) -> u32 {
            while self.log.front().is_some_and(|f| t.saturating_duration_since(*f) >= self.window) {
                self.log.pop_front();
            }
            if self.log.len() >= self.max {
                self.refused += 1;
            } else {
                self.log.push_back(t);
            }
            (self.max - self.log.len()) as u32
        }
    }

    fn budget(max: u32, remaining: u32) -> ServerBudget {
        ServerBudget { max: Some(max), remaining: Some(remaining), ..Default::default() }
    }

    #[test]
    fn burst_then_one_per_slot_expiry() {
        let t0 = Instant::now();
        let mut l = LimiterCore::new(limits(3, 1000));
        for i in 0..3 {
            let s = l.try_acquire(t0).expect("free slot");
            l.complete(s, t0 + Duration::from_millis(10 * i), None);
        }
        // Full: the first slot frees 1000 ms (+margin) after its response at t0.
        match l.try_acquire(t0 + Duration::from_millis(100)) {
            Err(Wait::For(d)) => assert_eq!(d, Duration::from_millis(900) + MARGIN),
            other => panic!("expected a wait, got {other:?}"),
        }
        assert!(l.try_acquire(t0 + Duration::from_millis(1000)).is_err());
        assert!(l.try_acquire(t0 + Duration::from_millis(1000) + MARGIN).is_ok());
        assert_eq!(l.next_slot(t0 + Duration::from_millis(1005)), Some(Duration::from_millis(5) + MARGIN));
    }

    #[test]
    fn in_flight_requests_hold_their_slot() {
        let t0 = Instant::now();
        let mut l = LimiterCore::new(limits(2, 100));
        let a = l.try_acquire(t0).expect("slot");
        let _b = l.try_acquire(t0).expect("slot");
        assert_eq!(l.try_acquire(t0 + Duration::from_secs(60)), Err(Wait::InFlight));
        l.complete(a, t0 + Duration::from_secs(60), None);
        assert!(matches!(l.try_acquire(t0 + Duration::from_secs(60)), Err(Wait::For(_))));
        assert!(l.try_acquire(t0 + Duration::from_millis(60_100) + MARGIN).is_ok());
    }

    /// A simulated sequential run with random latencies against a counting-at-arrival server:
    /// zero refusals, and close to the optimum throughput.
    #[test]
    fn never_exceeds_a_sliding_window_server_and_is_near_optimal() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let t0 = Instant::now();
        let mut l = LimiterCore::new(limits(100, 10_000));
        let mut srv = Server::new(100, Duration::from_secs(10));
        let mut now = t0;
        for _ in 0..1005 {
            let slot = loop {
                match l.try_acquire(now) {
                    Ok(s) => break s,
                    Err(Wait::For(d)) => now += d,
                    Err(other) => panic!("unexpected {other:?}"),
                }
            };
            // Uplink 0–80 ms, downlink 0–80 ms.
            let arrive = now + Duration::from_millis(rng.random_range(0..80));
            let back = arrive + Duration::from_millis(rng.random_range(0..80));
            let remaining = srv.arrive(arrive);
            now = back;
            l.complete(slot, now, Some(&budget(100, remaining)));
        }
        assert_eq!(srv.refused, 0);
        // Optimum: 100 per 10 s, so the 1005th request cannot go before 100 s. We lose about
        // one round trip (≤ 160 ms) per window.
        let took = now.duration_since(t0);
        assert!(took < Duration::from_secs(102), "took {took:?}");
    }

    #[test]
    fn concurrent_senders_stay_within_the_window() {
        let t0 = Instant::now();
        let mut l = LimiterCore::new(limits(10, 1000));
        let mut srv = Server::new(10, Duration::from_secs(1));
        // Four requests in flight at a time, each taking 50–350 ms, arriving late.
        let mut inflight: Vec<(Slot, Instant, Instant)> = Vec::new();
        let mut now = t0;
        let mut sent = 0;
        let mut i = 0u64;
        while sent < 100 || !inflight.is_empty() {
            inflight.sort_by_key(|x| x.2);
            if sent < 100 && inflight.len() < 4 {
                match l.try_acquire(now) {
                    Ok(s) => {
                        i += 1;
                        let arrive = now + Duration::from_millis(10 + (i * 37) % 200);
                        let back = arrive + Duration::from_millis(40 + (i * 53) % 150);
                        inflight.push((s, arrive, back));
                        sent += 1;
                        continue;
                    }
                    Err(Wait::For(d)) => {
                        let next_done = inflight.first().map(|x| x.2);
                        now = next_done.map_or(now + d, |nd| nd.min(now + d));
                    }
                    Err(Wait::InFlight) => now = inflight.first().map_or(now, |x| x.2),
                    Err(Wait::Daily(_)) => panic!("daily"),
                }
            } else if let Some(first) = inflight.first().copied() {
                now = now.max(first.2);
            }
            // Deliver everything that has come back by `now`, in arrival order.
            let mut done = Vec::new();
            inflight.retain(|x| {
                if x.2 <= now {
                    done.push(*x);
                    false
                } else {
                    true
                }
            });
            done.sort_by_key(|x| x.1);
            for (s, arrive, back) in done {
                let remaining = srv.arrive(arrive);
                l.complete(s, back, Some(&budget(10, remaining)));
            }
        }
        assert_eq!(srv.refused, 0);
    }

    #[test]
    fn server_headers_tighten_and_reveal_other_clients() {
        let t0 = Instant::now();
        let mut l = LimiterCore::new(limits(100, 10_000));
        let s = l.try_acquire(t0).expect("slot");
        // The server allows only 20 per 20 s, and 15 are used (14 by someone else).
        l.complete(
            s,
            t0 + Duration::from_millis(5),
            Some(&ServerBudget {
                max: Some(20),
                remaining: Some(5),
                interval_ms: Some(20_000),
                daily_remaining: Some(1000),
                daily_max: Some(200_000),
            }),
        );
        assert_eq!(l.burst(), 20);
        assert_eq!(l.window(), Duration::from_secs(20));
        assert_eq!(l.in_use(t0 + Duration::from_millis(5)), 15);
        assert_eq!(l.daily_left(), 1000);
        for _ in 0..5 {
            assert!(l.try_acquire(t0 + Duration::from_millis(6)).is_ok());
        }
        assert!(l.try_acquire(t0 + Duration::from_millis(6)).is_err());
        // A larger server max never loosens our own limit.
        let mut l = LimiterCore::new(limits(10, 1000));
        let s = l.try_acquire(t0).expect("slot");
        l.complete(s, t0, Some(&ServerBudget { interval_ms: Some(10), ..budget(100, 99) }));
        assert_eq!((l.burst(), l.window()), (10, Duration::from_secs(1)));
        // Our own requests are not mistaken for someone else's.
        assert_eq!(l.in_use(t0), 1);
    }

    #[test]
    fn daily_budget() {
        let t0 = Instant::now();
        let mut l = LimiterCore::new(RateLimits { daily: 2, ..limits(100, 10) });
        for _ in 0..2 {
            let s = l.try_acquire(t0).expect("slot");
            l.complete(s, t0, None);
        }
        assert!(matches!(l.try_acquire(t0 + Duration::from_secs(1)), Err(Wait::Daily(_))));
        assert!(l.try_acquire(t0 + DAY).is_ok());
        // The server's count wins when it reports one.
        let s = l.try_acquire(t0 + DAY).expect("slot");
        l.complete(s, t0 + DAY, Some(&ServerBudget { daily_remaining: Some(0), ..Default::default() }));
        assert!(matches!(l.try_acquire(t0 + DAY), Err(Wait::Daily(_))));
    }

    #[test]
    fn a_bucket_bursts_then_keeps_the_servers_steady_rate() {
        let mut l = LimiterCore::new(bucket(100, 10_000));
        let mut srv = BucketServer::new(100, Duration::from_secs(10));
        let t0 = Instant::now();
        let (end, refusals) = run(&mut l, 1005, 6, 11, |t| {
            let before = srv.refused;
            let remaining = srv.arrive(t);
            (remaining, srv.refused == before)
        });
        assert_eq!((refusals, srv.refused), (0, 0));
        // The optimum: 100 at once, then 10 a second, so the 1005th goes at 90.5 s.
        let took = end.duration_since(t0);
        assert!(took < Duration::from_millis(91_500), "took {took:?}");
        assert_eq!(l.model(), RateLimitModel::Bucket);
    }

    #[test]
    fn a_window_server_refuses_the_bucket_once_and_the_window_is_kept_from_then_on() {
        let mut l = LimiterCore::new(bucket(100, 10_000));
        let mut srv = Server::new(100, Duration::from_secs(10));
        let mut refused_after_switch = 0;
        let mut switched = false;
        let (_, refusals) = run(&mut l, 1005, 6, 12, |t| {
            let before = srv.refused;
            let remaining = srv.arrive(t);
            let ok = srv.refused == before;
            if switched && !ok {
                refused_after_switch += 1;
            }
            switched |= !ok;
            (remaining, ok)
        });
        assert_eq!(l.model(), RateLimitModel::Window);
        // Only the requests already on their way when the first refusal came back.
        assert!((1..=6).contains(&refusals), "{refusals} refusals");
        assert!(refused_after_switch < 6, "{refused_after_switch} refusals after the switch");
    }

    #[test]
    fn a_429_before_the_budget_was_known_keeps_the_bucket() {
        // Another process spent the budget just before we started: the first answers say so.
        let t0 = Instant::now();
        let mut l = LimiterCore::new(bucket(10, 1000));
        let slots: Vec<_> = (0..3).map(|_| l.try_acquire(t0).expect("slot")).collect();
        for s in slots {
            l.complete(s, t0 + Duration::from_millis(5), Some(&budget(10, 0)));
            l.refused(s);
        }
        assert_eq!(l.model(), RateLimitModel::Bucket);
        // The server said none were left, and the refused requests are charged too (GHL may
        // count them): the next token comes three refills (100 ms each) after the answers.
        assert!(matches!(l.try_acquire(t0 + Duration::from_millis(250)), Err(Wait::For(_))));
        assert!(l.try_acquire(t0 + Duration::from_millis(305) + MARGIN).is_ok());
    }

    #[test]
    fn the_bucket_holds_a_token_for_each_request_in_flight() {
        let t0 = Instant::now();
        let mut l = LimiterCore::new(bucket(2, 1000));
        let a = l.try_acquire(t0).expect("slot");
        let _b = l.try_acquire(t0).expect("slot");
        assert_eq!(l.try_acquire(t0 + Duration::from_secs(60)), Err(Wait::InFlight));
        // Its response takes the token at its return; the bucket is then full again a
        // refill later (500 ms a token).
        l.complete(a, t0 + Duration::from_secs(60), None);
        assert!(matches!(l.try_acquire(t0 + Duration::from_secs(60)), Err(Wait::For(_))));
        assert!(l.try_acquire(t0 + Duration::from_millis(60_500) + MARGIN).is_ok());
    }

    #[tokio::test]
    async fn async_acquire_waits_for_the_window() {
        let rl = RateLimiter::new(limits(5, 200));
        let start = Instant::now();
        for _ in 0..15 {
            rl.acquire().await.expect("slot").complete(None);
        }
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(400), "{took:?}");
        assert!(took < Duration::from_millis(1500), "{took:?}");
    }

    #[tokio::test]
    async fn dropped_guard_frees_its_slot_after_the_window() {
        let rl = RateLimiter::new(limits(1, 50));
        drop(rl.acquire().await.expect("slot"));
        let start = Instant::now();
        rl.acquire().await.expect("slot").complete(None);
        assert!(start.elapsed() >= Duration::from_millis(45));
        assert_eq!(rl.with_core(|c| c.burst()), 1);
    }
}
