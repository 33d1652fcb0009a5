//! The quiet-hours table (`config/compliance/quiet-hours.toml`): the federal window and each
//! state's windows and caps, parsed and checked once.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use jiff::civil::Weekday;
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;
use toml::Spanned;

use super::locate::StateCode;
use super::window::{DayWindow, WeekWindows};
use super::{TableError, line_of};

const QUIET_HOURS_FILE: &str = "config/compliance/quiet-hours.toml";
const QUIET_HOURS_TOML: &str = include_str!("../../../../config/compliance/quiet-hours.toml");

const DAYS: [(&str, Weekday); 7] = [
    ("mon", Weekday::Monday),
    ("tue", Weekday::Tuesday),
    ("wed", Weekday::Wednesday),
    ("thu", Weekday::Thursday),
    ("fri", Weekday::Friday),
    ("sat", Weekday::Saturday),
    ("sun", Weekday::Sunday),
];

/// A cap: at most `sends` calls and texts to one person in any `per`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cap {
    pub sends: u32,
    pub per: SignedDuration,
}

/// One law's rules: its windows per weekday and its cap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Regime {
    /// Shown in reasons: `TCPA`, `TX`.
    pub label: String,
    pub week: WeekWindows,
    pub cap: Option<Cap>,
}

/// The quiet-hours table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    /// The federal rule, everywhere.
    pub federal: Regime,
    /// The stricter states.
    pub states: BTreeMap<StateCode, Regime>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTable {
    federal: Spanned<RawRegime>,
    #[serde(default)]
    states: BTreeMap<String, Spanned<RawRegime>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRegime {
    name: Option<String>,
    hours: BTreeMap<String, Spanned<String>>,
    cap: Option<Spanned<RawCap>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCap {
    sends: u32,
    per_hours: u32,
}

impl Rules {
    /// The table compiled into the binary, parsed on first use.
    pub fn embedded() -> Result<&'static Rules, TableError> {
        static RULES: OnceLock<Result<Rules, TableError>> = OnceLock::new();
        RULES.get_or_init(|| Rules::parse(QUIET_HOURS_TOML)).as_ref().map_err(Clone::clone)
    }

    /// Parses and checks a quiet-hours table (the format is described in the file itself).
    pub fn parse(text: &str) -> Result<Rules, TableError> {
        let invalid = |offset: usize, message: String| TableError::Invalid {
            file: QUIET_HOURS_FILE,
            line: line_of(text, offset),
            message,
        };
        let raw: RawTable = toml::from_str(text).map_err(|e| {
            invalid(e.span().map_or(0, |s| s.start), e.message().trim_end_matches('.').replace('\n', " "))
        })?;
        let federal_at = raw.federal.span().start;
        let federal = regime(raw.federal.into_inner(), "TCPA", text)?;
        if !federal.week.is_open_some_day() {
            return Err(invalid(federal_at, "the federal window is closed every day".into()));
        }
        let mut states = BTreeMap::new();
        for (code, spanned) in raw.states {
            let at = spanned.span().start;
            let state = StateCode::from_code(&code).filter(|s| s.as_str() == code).ok_or_else(|| {
                invalid(
                    at,
                    format!("[states.{code}]: {code:?} is not a US state code in capitals (FL, TX, ...)"),
                )
            })?;
            let r = regime(spanned.into_inner(), state.as_str(), text)?;
            if !r.week.intersect(&federal.week).is_open_some_day() {
                return Err(invalid(
                    at,
                    format!("[states.{code}]: no time is left open in the week with the federal window"),
                ));
            }
            states.insert(state, r);
        }
        Ok(Rules { federal, states })
    }

    /// The states with rules of their own.
    pub fn states(&self) -> impl Iterator<Item = StateCode> + '_ {
        self.states.keys().copied()
    }

    /// The regimes that apply in a state: the federal one, then the state's.
    pub fn regimes(&self, state: Option<StateCode>) -> impl Iterator<Item = &Regime> {
        std::iter::once(&self.federal).chain(state.and_then(|s| self.states.get(&s)))
    }

    /// The most restrictive window per weekday in a state (the federal one when unknown).
    pub fn week_for(&self, state: Option<StateCode>) -> WeekWindows {
        self.regimes(state).fold(self.federal.week, |week, r| week.intersect(&r.week))
    }

    /// The state's cap, if it has one.
    pub fn cap(&self, state: Option<StateCode>) -> Option<(StateCode, Cap)> {
        let state = state?;
        self.states.get(&state).and_then(|r| r.cap).map(|c| (state, c))
    }

    /// The longest cap window of the table: how much send history a cap check needs.
    pub fn longest_cap(&self) -> SignedDuration {
        self.regimes(None)
            .chain(self.states.values())
            .filter_map(|r| r.cap.map(|c| c.per))
            .max()
            .unwrap_or(SignedDuration::ZERO)
    }

    /// The regime that closes `at` in `zone` for a state, with the weekday and its window
    /// there (None: closed all day): for reasons. The state's is named first when both close.
    pub fn closing(
        &self,
        at: Timestamp,
        zone: &jiff::tz::TimeZone,
        state: Option<StateCode>,
    ) -> Option<(&Regime, Weekday, Option<DayWindow>)> {
        let dt = zone.to_datetime(at);
        let minute = (dt.hour().unsigned_abs() as u16) * 60 + dt.minute().unsigned_abs() as u16;
        let mut regimes: Vec<&Regime> = self.regimes(state).collect();
        regimes.reverse();
        regimes.into_iter().find_map(|r| {
            let w = r.week.day(dt.weekday());
            (!w.is_some_and(|w| w.contains(minute))).then_some((r, dt.weekday(), w))
        })
    }
}

/// Checks and converts one regime.
fn regime(raw: RawRegime, label: &str, text: &str) -> Result<Regime, TableError> {
    let invalid = |offset: usize, message: String| TableError::Invalid {
        file: QUIET_HOURS_FILE,
        line: line_of(text, offset),
        message,
    };
    let mut week = WeekWindows::default();
    let mut given: [Option<String>; 7] = Default::default();
    let mut last_offset = 0;
    for (days, value) in &raw.hours {
        let at = value.span().start;
        last_offset = last_offset.max(at);
        let covered = parse_days(days).ok_or_else(|| {
            invalid(
                at,
                format!("{label}: {days:?} is not a day (mon..sun), a range like \"mon-fri\", or \"daily\""),
            )
        })?;
        let window = parse_window(value.get_ref()).ok_or_else(|| {
            invalid(
                at,
                format!(
                    "{label}: {:?} is not a window \"HH:MM-HH:MM\" with start before end (end at most 24:00), or \"closed\"",
                    value.get_ref()
                ),
            )
        })?;
        for day in covered {
            let i = day.to_monday_zero_offset().unsigned_abs() as usize;
            if let Some(earlier) = &given[i] {
                return Err(invalid(
                    at,
                    format!("{label}: {days:?} and {earlier:?} both give {day:?}; give each day one window"),
                ));
            }
            given[i] = Some(days.clone());
            week.set(day, window);
        }
    }
    if let Some(i) = given.iter().position(Option::is_none) {
        let day = DAYS[i].1;
        return Err(invalid(
            last_offset,
            format!("{label}: no window for {day:?}; give every day a window or \"closed\""),
        ));
    }
    let cap = match raw.cap {
        None => None,
        Some(c) => {
            let at = c.span().start;
            let c = c.into_inner();
            if c.sends == 0 || c.per_hours == 0 || c.per_hours > 24 * 31 {
                return Err(invalid(
                    at,
                    format!("{label}: a cap needs sends >= 1 and per_hours from 1 to 744"),
                ));
            }
            Some(Cap { sends: c.sends, per: SignedDuration::from_hours(i64::from(c.per_hours)) })
        }
    };
    Ok(Regime { label: raw.name.unwrap_or_else(|| label.to_owned()), week, cap })
}

/// `daily`, a day, or a range of days (wrapping: `fri-mon`).
fn parse_days(text: &str) -> Option<Vec<Weekday>> {
    let day = |s: &str| DAYS.iter().position(|(n, _)| *n == s.trim());
    if text.trim() == "daily" {
        return Some(DAYS.iter().map(|(_, d)| *d).collect());
    }
    match text.split_once('-') {
        None => day(text).map(|i| vec![DAYS[i].1]),
        Some((a, b)) => {
            let (a, b) = (day(a)?, day(b)?);
            let len = (b + 7 - a) % 7 + 1;
            Some((0..len).map(|k| DAYS[(a + k) % 7].1).collect())
        }
    }
}

/// `HH:MM-HH:MM` (Some(window)), or `closed` (Some(None)).
fn parse_window(text: &str) -> Option<Option<DayWindow>> {
    let text = text.trim();
    if text == "closed" {
        return Some(None);
    }
    let minute = |s: &str| -> Option<u16> {
        let (h, m) = s.trim().split_once(':')?;
        if h.len() != 2 || m.len() != 2 {
            return None;
        }
        let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
        (h <= 24 && m < 60 && (h < 24 || m == 0)).then_some(h * 60 + m)
    };
    let (a, b) = text.split_once('-')?;
    DayWindow::new(minute(a)?, minute(b)?).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(code: &str) -> Option<StateCode> {
        StateCode::from_code(code)
    }

    #[test]
    fn the_embedded_table_says_what_crm_landscape_says() {
        let r = Rules::embedded().expect("the embedded quiet-hours table parses");
        let win = |s: Option<StateCode>, d: Weekday| r.week_for(s).day(d).map(|w| w.to_string());
        let h = |a: &str, b: &str| Some(format!("{a}–{b}"));
        use Weekday::*;
        for d in [Monday, Wednesday, Saturday, Sunday] {
            assert_eq!(win(None, d), h("08:00", "21:00"));
            assert_eq!(win(state("CA"), d), h("08:00", "21:00"));
            for s in ["FL", "OK", "WA", "MD", "MS", "NJ"] {
                assert_eq!(win(state(s), d), h("08:00", "20:00"), "{s}");
            }
            assert_eq!(win(state("CT"), d), h("09:00", "20:00"));
        }
        assert_eq!(win(state("TX"), Saturday), h("09:00", "21:00"));
        assert_eq!(win(state("TX"), Sunday), h("12:00", "21:00"));
        assert_eq!(win(state("RI"), Friday), h("09:00", "18:00"));
        assert_eq!(win(state("RI"), Saturday), h("10:00", "17:00"));
        assert_eq!(win(state("RI"), Sunday), h("10:00", "17:00"));
        let cap = |s: &str| r.cap(state(s)).map(|(_, c)| (c.sends, c.per.as_hours()));
        assert_eq!((cap("FL"), cap("OK"), cap("TX"), cap("WA")), (Some((3, 24)), Some((3, 24)), None, None));
        assert_eq!(r.longest_cap(), SignedDuration::from_hours(24));
        assert_eq!(r.states().count(), 9);
    }

    #[test]
    fn day_specs_and_windows() {
        assert_eq!(parse_days("fri-mon").map(|d| d.len()), Some(4));
        assert_eq!(parse_days("mon-sun").map(|d| d.len()), Some(7));
        assert_eq!(parse_days("sun").map(|d| d.len()), Some(1));
        assert_eq!(parse_days("funday"), None);
        assert_eq!(
            parse_window("08:00-24:00").flatten().map(|w| (w.start_minute(), w.end_minute())),
            Some((480, 1440))
        );
        assert_eq!(parse_window("closed"), Some(None));
        for bad in
            ["8:00-21:00", "21:00-08:00", "08:00-08:00", "08:00-24:30", "08:60-21:00", "08:00", "eight-nine"]
        {
            assert_eq!(parse_window(bad), None, "{bad}");
        }
    }

    #[test]
    fn broken_tables_name_the_line() {
        let federal = "[federal]\nhours = { daily = \"08:00-21:00\" }\n";
        for (body, line, needle) in [
            ("[states.TX]\nhours = { mon-sat = \"09:00-21:00\" }\n", 4, "no window for Sunday"),
            (
                "[states.TX]\nhours = { daily = \"09:00-21:00\", sun = \"12:00-21:00\" }\n",
                4,
                "both give Sunday",
            ),
            ("[states.TX]\nhours = { daily = \"9-21\" }\n", 4, "not a window"),
            ("[states.TX]\nhours = { weekdays = \"09:00-21:00\" }\n", 4, "not a day"),
            ("\n[states.XX]\nhours = { daily = \"09:00-21:00\" }\n", 4, "not a US state code"),
            ("[states.tx]\nhours = { daily = \"09:00-21:00\" }\n", 3, "not a US state code"),
            (
                "[states.FL]\nhours = { daily = \"08:00-20:00\" }\ncap = { sends = 0, per_hours = 24 }\n",
                5,
                "sends >= 1",
            ),
            ("[states.FL]\nhours = { daily = \"06:00-07:00\" }\n", 3, "no time is left open"),
            ("[states.FL]\nhours = { daily = \"08:00-20:00\" }\ncapp = 3\n", 5, "unknown field"),
            ("[states.FL\n", 3, ""),
        ] {
            let err = Rules::parse(&format!("{federal}{body}")).expect_err(body).to_string();
            assert!(err.contains(&format!("line {line}:")) && err.contains(needle), "{body}: {err}");
            assert!(err.contains("quiet-hours.toml") && err.contains("rebuild"), "{err}");
        }
        let err = Rules::parse("[states.FL]\nhours = { daily = \"08:00-20:00\" }\n")
            .expect_err("no federal")
            .to_string();
        assert!(err.contains("federal"), "{err}");
    }
}
