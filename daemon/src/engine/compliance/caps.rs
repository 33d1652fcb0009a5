//! How often: the state caps (FL and OK: 3 calls and texts per 24 h), the per-contact loop lock
//! (at most N automated sends in a window, and a minimum gap), and global per-channel limits.

use std::collections::{BTreeMap, VecDeque};

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::gate::{Channel, PlannedSend, Reason};
use super::locate::Whereabouts;
use super::rules::Rules;

/// A send already made to the contact (or handed to GHL), as the cap checks count it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecentSend {
    pub at: Timestamp,
    pub channel: Channel,
    /// Sent by a sequence, not typed by the agent.
    pub automated: bool,
}

/// Not now: the earliest time the send may go, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deferral {
    pub until: Timestamp,
    pub reason: Reason,
}

/// The per-contact loop lock: a runaway sequence (or two sequences on one contact) cannot send
/// more than `max_sends` automated messages in `window_hours`, nor two sends closer than
/// `min_gap_minutes`. Defaults follow the predecessor's autonomous follow-up engine
/// (business-rules.md §3: at most 3 follow-ups per lead per day, none within 4 h of the last).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoopLock {
    /// Automated sends allowed in the window, at least 1.
    pub max_sends: u32,
    pub window_hours: u32,
    /// Least time after the last send to the contact (automated or typed by the agent: no
    /// sequence text right on top of a conversation). 0 turns it off.
    pub min_gap_minutes: u32,
}

impl Default for LoopLock {
    fn default() -> LoopLock {
        LoopLock { max_sends: 3, window_hours: 24, min_gap_minutes: 240 }
    }
}

impl LoopLock {
    /// Checks a lock read from the config file, saying how to fix it.
    pub fn validate(&self) -> Result<(), String> {
        if self.max_sends == 0 {
            return Err(
                "loop lock max_sends must be at least 1 (to stop automated sends, pause the sequences)"
                    .into(),
            );
        }
        if self.window_hours == 0 || self.window_hours > 24 * 31 {
            return Err("loop lock window_hours must be from 1 to 744 (31 days)".into());
        }
        if self.min_gap_minutes > 24 * 60 * 7 {
            return Err("loop lock min_gap_minutes must be at most 10080 (a week)".into());
        }
        Ok(())
    }

    fn window(&self) -> SignedDuration {
        SignedDuration::from_hours(i64::from(self.window_hours))
    }

    fn min_gap(&self) -> SignedDuration {
        SignedDuration::from_mins(i64::from(self.min_gap_minutes))
    }
}

/// How far back `recent_sends` must reach for [`cap_allows`] to be right: the longest of the
/// state caps' windows, the loop lock's window and its gap.
pub fn history_needed(rules: &Rules, lock: &LoopLock) -> SignedDuration {
    rules.longest_cap().max(lock.window()).max(lock.min_gap())
}

/// The earliest time at or after `at` when fewer than `max` of `sends` lie in the `window`
/// before it: once the `max`-th most recent has aged out.
fn count_free_at(sends: &mut [Timestamp], max: u32, window: SignedDuration, at: Timestamp) -> Timestamp {
    sends.sort_unstable_by(|a, b| b.cmp(a));
    match sends.get(max.saturating_sub(1) as usize) {
        Some(oldest_counted) => at.max(oldest_counted.saturating_add(window).unwrap_or(Timestamp::MAX)),
        None => at,
    }
}

/// The state cap and the loop lock for a send planned at `send.at`, given the contact's
/// recent sends (at least [`history_needed`] of them).
///
/// - The state cap (FL, OK) counts every call and text to the contact, automated or not, and
///   applies to calls and texts.
/// - The loop lock counts automated sends on every channel, and applies to automated sends;
///   its minimum gap counts every send.
pub fn cap_allows(
    recent_sends: &[RecentSend],
    send: &PlannedSend,
    who: &Whereabouts,
    rules: &Rules,
    lock: &LoopLock,
) -> Result<(), Deferral> {
    let at = send.at;
    let mut deferral: Option<Deferral> = None;
    let mut defer = |until: Timestamp, reason: Reason| {
        if until > at && deferral.as_ref().is_none_or(|d| until > d.until) {
            deferral = Some(Deferral { until, reason });
        }
    };
    if send.channel.is_telephone()
        && let Some((state, cap)) = rules.cap(who.state)
    {
        let mut sends: Vec<Timestamp> =
            recent_sends.iter().filter(|s| s.channel.is_telephone()).map(|s| s.at).collect();
        let until = count_free_at(&mut sends, cap.sends, cap.per, at);
        defer(
            until,
            Reason::StateCap { state, sends: cap.sends, hours: cap.per.as_hours().unsigned_abs() as u32 },
        );
    }
    if send.automated {
        let mut sends: Vec<Timestamp> = recent_sends.iter().filter(|s| s.automated).map(|s| s.at).collect();
        let until = count_free_at(&mut sends, lock.max_sends.max(1), lock.window(), at);
        defer(until, Reason::LoopLock { sends: lock.max_sends.max(1), hours: lock.window_hours });
        if lock.min_gap_minutes > 0
            && let Some(last) = recent_sends.iter().map(|s| s.at).max()
        {
            let until = last.saturating_add(lock.min_gap()).unwrap_or(Timestamp::MAX);
            defer(until, Reason::MinGap { minutes: lock.min_gap_minutes });
        }
    }
    deferral.map_or(Ok(()), Err)
}

/// A global limit for one channel, across all contacts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChannelLimits {
    /// None: no limit per minute.
    pub per_minute: Option<u32>,
    pub per_hour: Option<u32>,
}

/// One sliding window: at most `max` sends in any `window`. It keeps the last `max` send
/// times, so the limit is exact (a token bucket would let twice the burst through at a window
/// edge).
#[derive(Debug, Clone, PartialEq, Eq)]
struct SlidingWindow {
    max: u32,
    window: SignedDuration,
    sent: VecDeque<Timestamp>,
}

impl SlidingWindow {
    fn next_free(&self, at: Timestamp) -> Timestamp {
        if (self.sent.len() as u64) < u64::from(self.max) {
            return at;
        }
        // `sent` is in send order and holds at most `max`: its front is the one to age out.
        let front = self.sent.front().copied().unwrap_or(Timestamp::MIN);
        at.max(front.saturating_add(self.window).unwrap_or(Timestamp::MAX))
    }

    fn record(&mut self, at: Timestamp) {
        if self.max == 0 {
            return;
        }
        // A clock that stepped back still counts the send, after the later ones, so the limit
        // never loosens.
        let at = self.sent.back().map_or(at, |last| at.max(*last));
        self.sent.push_back(at);
        while self.sent.len() as u64 > u64::from(self.max) {
            self.sent.pop_front();
        }
    }
}

/// Global per-channel limits (SMS per minute and per hour across all contacts), driven by the
/// injected time: [`ChannelLimiter::next_free`] to plan, [`ChannelLimiter::try_take`] at the
/// moment of sending.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChannelLimiter {
    windows: BTreeMap<Channel, Vec<SlidingWindow>>,
}

impl ChannelLimiter {
    /// Limits per channel; channels not given are unlimited.
    pub fn new(limits: &BTreeMap<Channel, ChannelLimits>) -> ChannelLimiter {
        let mut windows = BTreeMap::new();
        for (channel, l) in limits {
            let mut ws = Vec::new();
            for (max, mins) in [(l.per_minute, 1), (l.per_hour, 60)] {
                if let Some(max) = max {
                    ws.push(SlidingWindow {
                        max,
                        window: SignedDuration::from_mins(mins),
                        sent: VecDeque::new(),
                    });
                }
            }
            windows.insert(*channel, ws);
        }
        ChannelLimiter { windows }
    }

    /// Texts at most `sms_per_minute` a minute (`[followups] sms_per_minute`; the predecessor's
    /// 100, business-rules.md §3), emails unlimited. GHL's own API limits are kept by the GHL
    /// client.
    pub fn sms_per_minute(sms_per_minute: u32) -> ChannelLimiter {
        ChannelLimiter::new(&BTreeMap::from([(
            Channel::Sms,
            ChannelLimits { per_minute: Some(sms_per_minute), per_hour: None },
        )]))
    }

    /// The earliest time at or after `at` a send on `channel` fits every limit; `at` if it
    /// fits now. [`Timestamp::MAX`] for a limit of 0.
    pub fn next_free(&self, channel: Channel, at: Timestamp) -> Timestamp {
        let Some(ws) = self.windows.get(&channel) else { return at };
        if ws.iter().any(|w| w.max == 0) {
            return Timestamp::MAX;
        }
        ws.iter().map(|w| w.next_free(at)).fold(at, Timestamp::max)
    }

    /// Counts a send at `at` if it fits; otherwise says when it would.
    pub fn try_take(&mut self, channel: Channel, at: Timestamp) -> Result<(), Timestamp> {
        let free = self.next_free(channel, at);
        if free > at {
            return Err(free);
        }
        if let Some(ws) = self.windows.get_mut(&channel) {
            ws.iter_mut().for_each(|w| w.record(at));
        }
        Ok(())
    }

    /// The limit that holds `channel` back at `at`, for a reason.
    pub(super) fn binding(&self, channel: Channel, at: Timestamp) -> Option<(u32, &'static str)> {
        self.windows
            .get(&channel)?
            .iter()
            .find(|w| w.next_free(at) > at || w.max == 0)
            .map(|w| (w.max, if w.window == SignedDuration::from_mins(1) { "minute" } else { "hour" }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::compliance::StateCode;

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    fn rules() -> &'static Rules {
        Rules::embedded().expect("rules")
    }

    fn who(state: &str) -> Whereabouts {
        Whereabouts::at("America/New_York", StateCode::from_code(state)).expect("zone")
    }

    fn sms(at: &str, automated: bool) -> RecentSend {
        RecentSend { at: ts(at), channel: Channel::Sms, automated }
    }

    fn planned(at: &str, channel: Channel, automated: bool) -> PlannedSend {
        PlannedSend { channel, at: ts(at), automated }
    }

    /// No loop lock in the way.
    const OPEN: LoopLock = LoopLock { max_sends: 100, window_hours: 24, min_gap_minutes: 0 };

    #[test]
    fn florida_caps_three_texts_in_any_24_hours() {
        let sent = [
            sms("2026-06-10T13:00:00Z", false),
            sms("2026-06-10T15:00:00Z", true),
            sms("2026-06-10T18:00:00Z", false),
        ];
        let send = planned("2026-06-10T22:00:00Z", Channel::Sms, false);
        let d = cap_allows(&sent, &send, &who("FL"), rules(), &OPEN).expect_err("fourth text in 24 h");
        // The first of the three ages out 24 h after it was sent.
        assert_eq!(d.until, ts("2026-06-11T13:00:00Z"));
        assert_eq!(d.reason.to_string(), "3 calls and texts in 24 h (FL cap)");
        // Across the 24 h boundary: exactly 24 h after the first, only two are left inside.
        assert!(
            cap_allows(
                &sent,
                &planned("2026-06-11T13:00:00Z", Channel::Sms, false),
                &who("FL"),
                rules(),
                &OPEN
            )
            .is_ok()
        );
        assert!(
            cap_allows(
                &sent,
                &planned("2026-06-11T12:59:59Z", Channel::Sms, false),
                &who("FL"),
                rules(),
                &OPEN
            )
            .is_err()
        );
        // Other states have no cap; email is not a call or text.
        assert!(cap_allows(&sent, &send, &who("GA"), rules(), &OPEN).is_ok());
        assert!(
            cap_allows(
                &sent,
                &planned("2026-06-10T22:00:00Z", Channel::Email, false),
                &who("FL"),
                rules(),
                &OPEN
            )
            .is_ok()
        );
        // Emails do not count towards it.
        let mixed = [sent[0], sent[1], RecentSend { channel: Channel::Email, ..sent[2] }];
        assert!(cap_allows(&mixed, &send, &who("OK"), rules(), &OPEN).is_ok());
    }

    #[test]
    fn the_loop_lock_counts_automated_sends() {
        let lock = LoopLock::default();
        let sent = [
            sms("2026-06-10T01:00:00Z", true),
            RecentSend { at: ts("2026-06-10T06:00:00Z"), channel: Channel::Email, automated: true },
            sms("2026-06-10T11:00:00Z", true),
        ];
        let d = cap_allows(
            &sent,
            &planned("2026-06-10T20:00:00Z", Channel::Sms, true),
            &who("GA"),
            rules(),
            &lock,
        )
        .expect_err("a fourth automated send in 24 h");
        assert_eq!(
            (d.until, d.reason.to_string()),
            (ts("2026-06-11T01:00:00Z"), "loop lock: 3 automated sends in 24 h".to_owned())
        );
        // A send the agent types is not held by the lock.
        assert!(
            cap_allows(
                &sent,
                &planned("2026-06-10T20:00:00Z", Channel::Sms, false),
                &who("GA"),
                rules(),
                &lock
            )
            .is_ok()
        );
        // Manual sends do not count towards it.
        let manual: Vec<RecentSend> = sent.iter().map(|s| RecentSend { automated: false, ..*s }).collect();
        assert!(
            cap_allows(
                &manual,
                &planned("2026-06-10T20:00:00Z", Channel::Sms, true),
                &who("GA"),
                rules(),
                &lock
            )
            .is_ok()
        );
    }

    #[test]
    fn the_minimum_gap_follows_any_send() {
        let lock = LoopLock::default();
        let sent = [sms("2026-06-10T12:00:00Z", false)];
        let d = cap_allows(
            &sent,
            &planned("2026-06-10T14:00:00Z", Channel::Email, true),
            &who("GA"),
            rules(),
            &lock,
        )
        .expect_err("2 h after the agent's text");
        assert_eq!(
            (d.until, d.reason.to_string()),
            (ts("2026-06-10T16:00:00Z"), "loop lock: under 4 h since the last send".to_owned())
        );
        assert!(
            cap_allows(
                &sent,
                &planned("2026-06-10T16:00:00Z", Channel::Email, true),
                &who("GA"),
                rules(),
                &lock
            )
            .is_ok()
        );
    }

    #[test]
    fn the_latest_bound_wins() {
        // FL cap frees at 13:00 next day; the gap frees at 22:00 today: the deferral is the cap.
        let sent = [
            sms("2026-06-10T13:00:00Z", true),
            sms("2026-06-10T15:00:00Z", true),
            sms("2026-06-10T18:00:00Z", true),
        ];
        let d = cap_allows(
            &sent,
            &planned("2026-06-10T19:00:00Z", Channel::Sms, true),
            &who("FL"),
            rules(),
            &LoopLock::default(),
        )
        .expect_err("held");
        assert_eq!(d.until, ts("2026-06-11T13:00:00Z"));
        assert_eq!(history_needed(rules(), &LoopLock::default()), SignedDuration::from_hours(24));
    }

    #[test]
    fn loop_lock_config() {
        assert!(LoopLock::default().validate().is_ok());
        assert!(LoopLock { max_sends: 0, ..LoopLock::default() }.validate().is_err());
        assert!(LoopLock { window_hours: 0, ..LoopLock::default() }.validate().is_err());
        let lock: LoopLock = toml::from_str("max_sends = 5").expect("partial config");
        assert_eq!(lock, LoopLock { max_sends: 5, ..LoopLock::default() });
    }

    #[test]
    fn channel_limits_are_sliding_windows() {
        let limits =
            BTreeMap::from([(Channel::Sms, ChannelLimits { per_minute: Some(2), per_hour: Some(3) })]);
        let mut l = ChannelLimiter::new(&limits);
        let t0 = ts("2026-06-10T12:00:00Z");
        let s = |secs: i64| t0 + SignedDuration::from_secs(secs);
        assert_eq!(l.try_take(Channel::Sms, s(0)), Ok(()));
        assert_eq!(l.try_take(Channel::Sms, s(10)), Ok(()));
        assert_eq!(l.try_take(Channel::Sms, s(20)), Err(s(60)));
        assert_eq!(l.binding(Channel::Sms, s(20)), Some((2, "minute")));
        assert_eq!(l.try_take(Channel::Sms, s(60)), Ok(()));
        // Three in the hour: the next one waits for the first to age out of the hour.
        assert_eq!(l.next_free(Channel::Sms, s(200)), s(3600));
        assert_eq!(l.binding(Channel::Sms, s(200)), Some((3, "hour")));
        // Email is unlimited here.
        assert_eq!(l.try_take(Channel::Email, s(200)), Ok(()));
        // A zero limit never frees.
        let mut zero = ChannelLimiter::new(&BTreeMap::from([(
            Channel::Sms,
            ChannelLimits { per_minute: Some(0), per_hour: None },
        )]));
        assert_eq!(zero.try_take(Channel::Sms, t0), Err(Timestamp::MAX));
        assert_eq!(ChannelLimiter::sms_per_minute(100).next_free(Channel::Sms, t0), t0);
    }

    #[test]
    fn a_clock_stepping_back_does_not_loosen_the_limit() {
        let limits = BTreeMap::from([(Channel::Sms, ChannelLimits { per_minute: Some(1), per_hour: None })]);
        let mut l = ChannelLimiter::new(&limits);
        let t0 = ts("2026-06-10T12:00:00Z");
        assert_eq!(l.try_take(Channel::Sms, t0), Ok(()));
        let back = t0 - SignedDuration::from_secs(30);
        assert_eq!(l.try_take(Channel::Sms, back), Err(t0 + SignedDuration::from_mins(1)));
    }
}
