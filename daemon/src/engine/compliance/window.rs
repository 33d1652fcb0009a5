//! Sending windows in local time, across time zones and DST.
//!
//! A window is a range of wall-clock minutes per weekday. An instant is inside it in a zone
//! when the zone's wall clock at that instant reads a minute inside the window of that day.
//! The earliest instant at or after a wall-clock time is found with the zone's own
//! transitions, so a window opening inside a spring-forward gap opens at the jump, and one
//! opening inside a fall-back fold opens at its first occurrence.

use std::fmt;

use jiff::civil::{Date, DateTime, Weekday};
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::{SignedDuration, Timestamp};

use super::Rules;
use super::locate::Whereabouts;

/// How far ahead a window is looked for before giving up. A week is enough for any table
/// with an open day; the margin covers DST shifts and zones several hours apart.
const HORIZON: SignedDuration = SignedDuration::from_hours(24 * 15);

/// One day's window: wall-clock minutes since midnight, start included, end excluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayWindow {
    start: u16,
    end: u16,
}

impl DayWindow {
    /// The window `[start, end)` in minutes since midnight, if `start < end <= 24:00`.
    pub fn new(start_minute: u16, end_minute: u16) -> Option<DayWindow> {
        (start_minute < end_minute && end_minute <= 24 * 60)
            .then_some(DayWindow { start: start_minute, end: end_minute })
    }

    /// Whole hours: `DayWindow::hours(8, 21)` is 08:00-21:00.
    pub fn hours(start_hour: u8, end_hour: u8) -> Option<DayWindow> {
        DayWindow::new(u16::from(start_hour) * 60, u16::from(end_hour) * 60)
    }

    /// Minutes since midnight at which the window opens.
    pub fn start_minute(&self) -> u16 {
        self.start
    }

    /// Minutes since midnight at which the window closes (excluded).
    pub fn end_minute(&self) -> u16 {
        self.end
    }

    /// Whether a wall-clock minute of the day is inside.
    pub fn contains(&self, minute: u16) -> bool {
        self.start <= minute && minute < self.end
    }

    /// The overlap of two windows, if any.
    pub fn intersect(&self, other: &DayWindow) -> Option<DayWindow> {
        DayWindow::new(self.start.max(other.start), self.end.min(other.end))
    }
}

impl fmt::Display for DayWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hm = |m: u16| format!("{:02}:{:02}", m / 60, m % 60);
        write!(f, "{}–{}", hm(self.start), hm(self.end))
    }
}

/// A window per weekday (None: closed all day).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WeekWindows([Option<DayWindow>; 7]);

impl WeekWindows {
    /// The same window every day.
    pub fn daily(window: DayWindow) -> WeekWindows {
        WeekWindows([Some(window); 7])
    }

    /// `window` on the given weekdays, closed on the others.
    pub fn on(window: DayWindow, weekdays: &[Weekday]) -> WeekWindows {
        let mut week = WeekWindows::default();
        for day in weekdays {
            week.set(*day, Some(window));
        }
        week
    }

    /// The window of a weekday.
    pub fn day(&self, weekday: Weekday) -> Option<DayWindow> {
        self.0[day_index(weekday)]
    }

    /// Sets the window of a weekday.
    pub fn set(&mut self, weekday: Weekday, window: Option<DayWindow>) {
        self.0[day_index(weekday)] = window;
    }

    /// Day by day, the overlap of two weeks: the most restrictive of both.
    pub fn intersect(&self, other: &WeekWindows) -> WeekWindows {
        let mut out = WeekWindows::default();
        for (i, slot) in out.0.iter_mut().enumerate() {
            *slot = match (self.0[i], other.0[i]) {
                (Some(a), Some(b)) => a.intersect(&b),
                _ => None,
            };
        }
        out
    }

    /// Whether every day has the same window.
    pub fn is_uniform(&self) -> bool {
        self.0.iter().all(|d| *d == self.0[0])
    }

    /// Whether some day is open.
    pub fn is_open_some_day(&self) -> bool {
        self.0.iter().any(Option::is_some)
    }

    /// Whether `at` is inside the window in `zone`.
    pub fn allows(&self, at: Timestamp, zone: &TimeZone) -> bool {
        let dt = zone.to_datetime(at);
        self.day(dt.weekday()).is_some_and(|w| w.contains(minute_of_day(dt)))
    }

    /// The earliest instant at or after `at` inside the window in `zone`, within the horizon.
    pub fn next_in(&self, at: Timestamp, zone: &TimeZone) -> Option<Timestamp> {
        let mut day = zone.to_datetime(at).date();
        for _ in 0..=HORIZON.as_hours() / 24 {
            if let Some(w) = self.day(day.weekday()) {
                let opens = first_instant_at_or_after(zone, wall(day, w.start)?)?;
                let candidate = opens.max(at);
                if self.allows(candidate, zone) {
                    return Some(candidate);
                }
            }
            day = day.tomorrow().ok()?;
        }
        None
    }

    /// The earliest instant at or after `at` inside the window in every one of `zones`, or
    /// None if there is none within the horizon (or no zone).
    pub fn next_in_all(&self, at: Timestamp, zones: &[TimeZone]) -> Option<Timestamp> {
        if zones.is_empty() {
            return None;
        }
        // Each zone's earliest allowed instant from `t` is a lower bound for all of them; move
        // to the latest bound until every zone agrees. It only moves forward, and stops at the
        // horizon.
        let mut t = at;
        loop {
            let mut latest = t;
            for zone in zones {
                latest = latest.max(self.next_in(t, zone)?);
            }
            if latest == t {
                return Some(t);
            }
            if latest.duration_since(at) > HORIZON {
                return None;
            }
            t = latest;
        }
    }
}

fn day_index(weekday: Weekday) -> usize {
    weekday.to_monday_zero_offset().unsigned_abs() as usize
}

fn minute_of_day(dt: DateTime) -> u16 {
    dt.hour().unsigned_abs() as u16 * 60 + dt.minute().unsigned_abs() as u16
}

/// The civil datetime `minute` minutes after midnight on `day` (24:00 is the next midnight).
fn wall(day: Date, minute: u16) -> Option<DateTime> {
    let midnight = day.to_datetime(jiff::civil::Time::midnight());
    midnight.checked_add(SignedDuration::from_mins(i64::from(minute))).ok()
}

/// The earliest instant whose wall clock in `zone` reads `dt` or later: `dt` itself when it
/// exists once, its first occurrence in a fold, the moment of the jump when it falls in a gap.
fn first_instant_at_or_after(zone: &TimeZone, dt: DateTime) -> Option<Timestamp> {
    let amb = zone.to_ambiguous_timestamp(dt);
    match amb.offset() {
        AmbiguousOffset::Unambiguous { offset } => offset.to_timestamp(dt).ok(),
        AmbiguousOffset::Fold { before, after } => {
            let a = before.to_timestamp(dt).ok()?;
            let b = after.to_timestamp(dt).ok()?;
            Some(a.min(b))
        }
        AmbiguousOffset::Gap { before, after } => {
            // Read with either offset, `dt` lands on each side of the jump; the jump is the
            // first transition after the earlier of the two.
            let a = before.to_timestamp(dt).ok()?;
            let b = after.to_timestamp(dt).ok()?;
            let earlier = a.min(b);
            let jump = zone.following(earlier).next().map(|t| t.timestamp())?;
            Some(jump)
        }
    }
}

/// Whether a send at `at` is inside the most restrictive window (federal and the recipient's
/// state) in every zone the recipient may be in. False when no zone is known.
pub fn is_allowed(at: Timestamp, who: &Whereabouts, rules: &Rules) -> bool {
    let week = rules.week_for(who.state);
    !who.zones.is_empty() && who.zones.iter().all(|z| week.allows(at, z))
}

/// The earliest instant at or after `at` that is inside the most restrictive window in every
/// zone of `who`: `at` itself when it is allowed.
///
/// Returns [`Timestamp::MAX`] ("never") when no such instant exists within 15 days: no zone
/// is known, or the zones are too far apart for their windows to overlap. [`super::check`]
/// turns that into a skip.
pub fn next_allowed(at: Timestamp, who: &Whereabouts, rules: &Rules) -> Timestamp {
    rules.week_for(who.state).next_in_all(at, &who.zones).unwrap_or(Timestamp::MAX)
}

/// Business hours for "delay within business hours" steps: the earliest instant at or after
/// `at` between `start_hour` and `end_hour` (excluded, at most 24) on one of `weekdays`, in
/// `zone`. None when those hours are empty (no weekday, or `start_hour >= end_hour`).
pub fn next_in_hours(
    at: Timestamp,
    zone: &TimeZone,
    start_hour: u8,
    end_hour: u8,
    weekdays: &[Weekday],
) -> Option<Timestamp> {
    let window = DayWindow::hours(start_hour, end_hour)?;
    WeekWindows::on(window, weekdays).next_in(at, zone)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::engine::compliance::{StateCode, Tables};
    use proptest::prelude::*;

    fn rules() -> &'static Rules {
        Rules::embedded().expect("the embedded quiet-hours table parses")
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    fn who(zone: &str, state: Option<&str>) -> Whereabouts {
        Whereabouts::at(zone, state.and_then(StateCode::from_code)).expect("valid zone")
    }

    fn local(t: Timestamp, zone: &str) -> String {
        t.to_zoned(TimeZone::get(zone).expect("zone")).strftime("%a %F %H:%M").to_string()
    }

    #[test]
    fn federal_window_is_8_to_21_local() {
        let ny = who("America/New_York", Some("NY"));
        // 2026-06-10 is a Wednesday; New York is UTC-4 in June.
        assert!(!is_allowed(ts("2026-06-10T11:59:59Z"), &ny, rules()));
        assert!(is_allowed(ts("2026-06-10T12:00:00Z"), &ny, rules()));
        assert!(is_allowed(ts("2026-06-11T00:59:59Z"), &ny, rules()));
        assert!(!is_allowed(ts("2026-06-11T01:00:00Z"), &ny, rules()));
        assert_eq!(
            local(next_allowed(ts("2026-06-11T01:00:00Z"), &ny, rules()), "America/New_York"),
            "Thu 2026-06-11 08:00"
        );
        let at = ts("2026-06-10T15:00:00Z");
        assert_eq!(next_allowed(at, &ny, rules()), at);
    }

    #[test]
    fn state_windows_from_the_table() {
        let zone = "America/Chicago";
        // Sunday 2026-06-14 and Saturday 2026-06-13, 11:00 and 20:30 local (UTC-5).
        let sun_11 = ts("2026-06-14T16:00:00Z");
        let sat_11 = ts("2026-06-13T16:00:00Z");
        let wed_2030 = ts("2026-06-11T01:30:00Z");
        assert!(!is_allowed(sun_11, &who(zone, Some("TX")), rules()), "TX: Sunday from noon");
        assert!(is_allowed(sat_11, &who(zone, Some("TX")), rules()));
        assert_eq!(
            local(next_allowed(sun_11, &who(zone, Some("TX")), rules()), zone),
            "Sun 2026-06-14 12:00"
        );
        assert!(is_allowed(sun_11, &who(zone, Some("IL")), rules()));
        for state in ["FL", "OK", "WA", "MD", "MS", "NJ", "CT", "RI"] {
            assert!(
                !is_allowed(wed_2030, &who(zone, Some(state)), rules()),
                "{state} closes at 20:00 or before"
            );
        }
        assert!(is_allowed(wed_2030, &who(zone, Some("TX")), rules()));
        assert!(is_allowed(wed_2030, &who(zone, None), rules()));
        // CT opens at 9, RI at 10 on weekends and closes at 17.
        let wed_0830 = ts("2026-06-10T13:30:00Z");
        assert!(!is_allowed(wed_0830, &who(zone, Some("CT")), rules()));
        assert!(is_allowed(wed_0830, &who(zone, Some("FL")), rules()));
        let sat_1700 = ts("2026-06-13T22:00:00Z");
        assert!(!is_allowed(sat_1700, &who(zone, Some("RI")), rules()));
        assert_eq!(
            local(next_allowed(sat_1700, &who(zone, Some("RI")), rules()), zone),
            "Sun 2026-06-14 10:00"
        );
        let fri_1759 = ts("2026-06-12T22:59:00Z");
        assert!(is_allowed(fri_1759, &who(zone, Some("RI")), rules()));
        assert_eq!(
            local(next_allowed(ts("2026-06-12T23:00:00Z"), &who(zone, Some("RI")), rules()), zone),
            "Sat 2026-06-13 10:00"
        );
    }

    #[test]
    fn two_zones_at_once_need_both_open() {
        // Idaho's 208: Mountain and Pacific. 8:00 Pacific is 9:00 Mountain; 21:00 Mountain is
        // 20:00 Pacific.
        let tables = Tables::embedded().expect("area codes");
        let zones = tables.area_code(208).expect("208").zones.clone();
        let w = Whereabouts {
            zones,
            state: StateCode::from_code("ID"),
            source: super::super::LocatedBy::AreaCode,
        };
        let pt = "America/Los_Angeles";
        let at = ts("2026-01-14T15:30:00Z"); // 07:30 PT, 08:30 MT
        assert!(!is_allowed(at, &w, rules()));
        assert_eq!(local(next_allowed(at, &w, rules()), pt), "Wed 2026-01-14 08:00");
        let at = ts("2026-01-15T04:00:00Z"); // 20:00 PT, 21:00 MT
        assert!(!is_allowed(at, &w, rules()));
        assert_eq!(local(next_allowed(at, &w, rules()), pt), "Thu 2026-01-15 08:00");
        assert!(is_allowed(ts("2026-01-15T03:59:00Z"), &w, rules()));
    }

    #[test]
    fn zones_whose_windows_never_meet_give_never() {
        // Two 13 h federal windows always overlap somewhere in a day, whatever the offsets; Rhode
        // Island's 9 h and 7 h windows, 14 h apart (Guam and New York), never do.
        let w = Whereabouts {
            zones: vec![
                TimeZone::get("Pacific/Guam").expect("tz"),
                TimeZone::get("America/New_York").expect("tz"),
            ],
            state: StateCode::from_code("RI"),
            source: super::super::LocatedBy::AreaCode,
        };
        assert_eq!(next_allowed(ts("2026-06-10T12:00:00Z"), &w, rules()), Timestamp::MAX);
        let federal_only = Whereabouts { state: None, ..w };
        assert!(next_allowed(ts("2026-06-10T12:00:00Z"), &federal_only, rules()) < Timestamp::MAX);
        let none =
            Whereabouts { zones: vec![], state: None, source: super::super::LocatedBy::LocationDefault };
        assert!(!is_allowed(ts("2026-06-10T16:00:00Z"), &none, rules()));
        assert_eq!(next_allowed(ts("2026-06-10T16:00:00Z"), &none, rules()), Timestamp::MAX);
    }

    #[test]
    fn dst_changes_in_us_zones() {
        let ny = who("America/New_York", None);
        // Spring forward 2026-03-08 02:00 EST -> 03:00 EDT. Saturday 21:30 EST waits for Sunday
        // 08:00 EDT, which is 12:00 UTC (not 13:00).
        let at = ts("2026-03-08T02:30:00Z");
        assert_eq!(next_allowed(at, &ny, rules()), ts("2026-03-08T12:00:00Z"));
        // Fall back 2026-11-01: 08:00 EST is 13:00 UTC.
        assert_eq!(next_allowed(ts("2026-11-01T05:30:00Z"), &ny, rules()), ts("2026-11-01T13:00:00Z"));
        // Arizona keeps MST all year, the Navajo Nation (America/Denver) does not.
        let phx = who("America/Phoenix", Some("AZ"));
        assert_eq!(next_allowed(ts("2026-07-01T10:00:00Z"), &phx, rules()), ts("2026-07-01T15:00:00Z"));
        assert_eq!(next_allowed(ts("2026-01-01T10:00:00Z"), &phx, rules()), ts("2026-01-01T15:00:00Z"));
        let hi = who("Pacific/Honolulu", Some("HI"));
        assert_eq!(next_allowed(ts("2026-07-01T10:00:00Z"), &hi, rules()), ts("2026-07-01T18:00:00Z"));
    }

    #[test]
    fn a_window_opening_in_a_gap_or_fold() {
        // Windows that open at 02:30 exercise the DST edges directly.
        let ny = TimeZone::get("America/New_York").expect("tz");
        let week = WeekWindows::daily(DayWindow::new(150, 240).expect("02:30-04:00"));
        // 02:30 does not exist on 2026-03-08: the window opens at the jump, 03:00 EDT.
        assert_eq!(week.next_in(ts("2026-03-08T05:00:00Z"), &ny), Some(ts("2026-03-08T07:00:00Z")));
        // 01:30 happens twice on 2026-11-01: a 01:30-04:00 window opens at the first.
        let week = WeekWindows::daily(DayWindow::new(90, 240).expect("01:30-04:00"));
        assert_eq!(week.next_in(ts("2026-11-01T04:00:00Z"), &ny), Some(ts("2026-11-01T05:30:00Z")));
        // Inside the second 01:00-02:00 it is still allowed.
        assert!(week.allows(ts("2026-11-01T06:45:00Z"), &ny));
    }

    #[test]
    fn business_hours() {
        use Weekday::*;
        let chi = TimeZone::get("America/Chicago").expect("tz");
        let weekdays = [Monday, Tuesday, Wednesday, Thursday, Friday];
        // Friday 2026-06-12 18:00 CDT -> Monday 09:00 CDT.
        let at = ts("2026-06-12T23:00:00Z");
        assert_eq!(next_in_hours(at, &chi, 9, 17, &weekdays), Some(ts("2026-06-15T14:00:00Z")));
        assert_eq!(
            next_in_hours(ts("2026-06-15T15:00:00Z"), &chi, 9, 17, &weekdays),
            Some(ts("2026-06-15T15:00:00Z"))
        );
        assert_eq!(next_in_hours(at, &chi, 17, 9, &weekdays), None);
        assert_eq!(next_in_hours(at, &chi, 9, 17, &[]), None);
        assert_eq!(next_in_hours(at, &chi, 0, 24, &[Saturday]), Some(ts("2026-06-13T05:00:00Z")));
    }

    /// Every zone of the area-code table, with a state, and the states of the quiet-hours table.
    fn zones_and_states() -> (Vec<TimeZone>, Vec<Option<StateCode>>) {
        let zones = Tables::embedded().expect("area codes").zones();
        let mut states: Vec<Option<StateCode>> = rules().states().map(Some).collect();
        states.extend([
            None,
            StateCode::from_code("AZ"),
            StateCode::from_code("HI"),
            StateCode::from_code("AK"),
        ]);
        (zones, states)
    }

    /// Any second from 2024-01-01 to 2030-12-31, or one within three days of a US DST change
    /// (random seconds alone would rarely land near one).
    pub(in crate::engine::compliance) fn instant() -> impl Strategy<Value = Timestamp> {
        let anytime =
            (1_704_067_200i64..1_924_991_999).prop_map(|s| Timestamp::from_second(s).expect("in range"));
        let near_dst =
            (2024i16..=2030, any::<bool>(), -3 * 86_400i64..3 * 86_400).prop_map(|(year, spring, off)| {
                // Second Sunday of March, first Sunday of November; 07:00 UTC is 02:00-03:00 in
                // the east, and within hours of the change in every other US zone.
                let (month, nth) = if spring { (3, 2) } else { (11, 1) };
                let day = jiff::civil::date(year, month, 1)
                    .nth_weekday_of_month(nth, Weekday::Sunday)
                    .expect("exists");
                let change = day.at(7, 0, 0, 0).to_zoned(TimeZone::UTC).expect("in range").timestamp();
                change + SignedDuration::from_secs(off)
            });
        prop_oneof![anytime, near_dst]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        /// next_allowed gives an allowed instant, not before the input, and nothing allowed
        /// lies between: the minute before it is closed, unless it is the input itself.
        #[test]
        fn next_allowed_is_the_earliest_allowed(at in instant(), z1 in 0usize..64, z2 in 0usize..64,
                                                two in any::<bool>(), s in 0usize..16) {
            let (zones, states) = zones_and_states();
            let mut picked = vec![zones[z1 % zones.len()].clone()];
            if two {
                picked.push(zones[z2 % zones.len()].clone());
            }
            let w = Whereabouts { zones: picked, state: states[s % states.len()], source: super::super::LocatedBy::AreaCode };
            let next = next_allowed(at, &w, rules());
            if two && next == Timestamp::MAX {
                // Two zones far apart (Guam and New York) may share no window under a short
                // state window: then nothing in the next week is allowed.
                for h in 0..(24 * 8) {
                    prop_assert!(!is_allowed(at + SignedDuration::from_hours(h), &w, rules()));
                }
                return Ok(());
            }
            prop_assert!(next >= at);
            prop_assert!(is_allowed(next, &w, rules()), "{} not allowed for {:?}", next, w.zone_names());
            if next != at {
                let before = next - SignedDuration::from_mins(1);
                prop_assert!(before < at || !is_allowed(before, &w, rules()));
                // And a few points in between.
                let span = next.duration_since(at).as_secs();
                for k in 1..8i64 {
                    let t = at + SignedDuration::from_secs(span * k / 8);
                    prop_assert!(!is_allowed(t, &w, rules()), "{} allowed before {}", t, next);
                }
            }
        }

        /// A brute-force check: walking minute by minute finds the same first allowed minute.
        #[test]
        fn next_allowed_matches_a_minute_walk(at in instant(), z in 0usize..64, s in 0usize..16) {
            let (zones, states) = zones_and_states();
            let w = Whereabouts { zones: vec![zones[z % zones.len()].clone()], state: states[s % states.len()],
                                  source: super::super::LocatedBy::AreaCode };
            let at = Timestamp::from_second(at.as_second() / 60 * 60).expect("whole minute");
            let next = next_allowed(at, &w, rules());
            let mut t = at;
            while !is_allowed(t, &w, rules()) {
                t += SignedDuration::from_mins(1);
                prop_assert!(t <= next, "walked past {} to {}", next, t);
            }
            prop_assert_eq!(t, next);
        }
    }
}
