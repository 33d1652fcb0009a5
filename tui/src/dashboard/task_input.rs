//! Reads a task typed in one line: its title, then when it is due, simply.
//! `Call back tomorrow 10am`, `Send comps fri 3pm`, `Chase lender in 2h`, `Pay visit 2026-12-24`;
//! with no time given the task is due at 9:00, with nothing given tomorrow at 9:00, in the
//! agent's own zone.

use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan, Zoned};

/// When a task with a day and no time is due.
const DEFAULT_HOUR: i8 = 9;

/// A time of day: `10am`, `10:30am`, `3pm`, `15:00`, `noon`.
fn time_of_day(word: &str) -> Option<Time> {
    let w = word.to_ascii_lowercase();
    if w == "noon" {
        return Time::new(12, 0, 0, 0).ok();
    }
    let (digits, pm) = match (w.strip_suffix("am"), w.strip_suffix("pm")) {
        (Some(d), _) => (d, Some(false)),
        (_, Some(d)) => (d, Some(true)),
        _ => (w.as_str(), None),
    };
    let (h, m) = match digits.split_once(':') {
        Some((h, m)) => (h.parse::<i8>().ok()?, m.parse::<i8>().ok()?),
        // A bare number is a time only with am/pm ("call 3 times" is not 3:00).
        None if pm.is_some() => (digits.parse::<i8>().ok()?, 0),
        None => return None,
    };
    let h = match pm {
        Some(_) if !(1..=12).contains(&h) => return None,
        Some(true) if h != 12 => h + 12,
        Some(false) if h == 12 => 0,
        _ => h,
    };
    Time::new(h, m, 0, 0).ok()
}

fn weekday(word: &str) -> Option<Weekday> {
    let w = word.to_ascii_lowercase();
    let days = [
        ("mon", Weekday::Monday),
        ("tue", Weekday::Tuesday),
        ("wed", Weekday::Wednesday),
        ("thu", Weekday::Thursday),
        ("fri", Weekday::Friday),
        ("sat", Weekday::Saturday),
        ("sun", Weekday::Sunday),
    ];
    days.iter().find(|(p, _)| w.starts_with(p) && w.len() <= 9).map(|(_, d)| *d)
}

/// An offset from now: `2h`, `30m`, `3d` (after `in`).
fn offset(word: &str) -> Option<SignedDuration> {
    let w = word.to_ascii_lowercase();
    let (n, unit) = w.split_at(w.find(|c: char| !c.is_ascii_digit())?);
    let n: i64 = n.parse().ok()?;
    match unit {
        "m" | "min" | "mins" => Some(SignedDuration::from_mins(n)),
        "h" | "hr" | "hrs" | "hour" | "hours" => Some(SignedDuration::from_hours(n)),
        "d" | "day" | "days" => Some(SignedDuration::from_hours(n * 24)),
        _ => None,
    }
}

/// The title and due time of a typed task, or why it cannot be read.
pub fn parse_task(text: &str, now: Timestamp, tz: &TimeZone) -> Result<(String, Timestamp), String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let today: Zoned = now.to_zoned(tz.clone());
    let mut end = words.len();
    let mut day: Option<Date> = None;
    let mut time: Option<Time> = None;
    // When is read from the end: the title is what is left before it.
    while end > 0 {
        let w = words[end - 1];
        let lower = w.to_ascii_lowercase();
        if time.is_none()
            && let Some(t) = time_of_day(w)
        {
            time = Some(t);
        } else if day.is_none() && lower == "today" {
            day = Some(today.date());
        } else if day.is_none() && matches!(lower.as_str(), "tomorrow" | "tmrw" | "tmr") {
            day = today.date().tomorrow().ok();
        } else if day.is_none()
            && let Some(d) = weekday(w)
        {
            // The next such day, a week on when it is today.
            let mut date = today.date().tomorrow().map_err(|e| e.to_string())?;
            while date.weekday() != d {
                date = date.tomorrow().map_err(|e| e.to_string())?;
            }
            day = Some(date);
        } else if day.is_none()
            && let Ok(date) = lower.parse::<Date>()
        {
            day = Some(date);
        } else if day.is_none()
            && time.is_none()
            && end >= 2
            && words[end - 2].eq_ignore_ascii_case("in")
            && let Some(d) = offset(w)
        {
            let title = words[..end - 2].join(" ");
            if title.is_empty() {
                return Err("give the task a title before when it is due, e.g. \"Call back in 2h\"".into());
            }
            return Ok((title, now.checked_add(d).map_err(|e| e.to_string())?));
        } else if matches!(lower.as_str(), "at" | "on" | "by" | "due") && (day.is_some() || time.is_some()) {
            // A joining word before the when: part of it.
        } else {
            break;
        }
        end -= 1;
    }
    let title = words[..end].join(" ");
    if title.is_empty() {
        return Err("give the task a title, then when it is due, e.g. \"Call back tomorrow 10am\"".into());
    }
    let at_time = time.unwrap_or_else(|| Time::constant(DEFAULT_HOUR, 0, 0, 0));
    let date = match (day, time) {
        (Some(d), _) => d,
        // A time alone: today if it is still ahead, else tomorrow.
        (None, Some(t)) if today.time() < t => today.date(),
        (None, _) => today.date().tomorrow().map_err(|e| e.to_string())?,
    };
    let due = date.to_datetime(at_time).to_zoned(tz.clone()).map_err(|e| e.to_string())?;
    if due.timestamp() < now.checked_sub(1.hour()).unwrap_or(now) {
        return Err(format!("{} is in the past: give a day to come", due.strftime("%a %b %-d %H:%M")));
    }
    Ok((title, due.timestamp()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tuesday 1 December 2026, 14:00 in Chicago (20:00 UTC).
    fn now() -> Timestamp {
        "2026-12-01T20:00:00Z".parse().expect("ts")
    }

    fn chicago() -> TimeZone {
        TimeZone::get("America/Chicago").expect("zone")
    }

    fn due(text: &str) -> (String, String) {
        let (title, at) = parse_task(text, now(), &chicago()).expect(text);
        (title, at.to_zoned(chicago()).strftime("%a %Y-%m-%d %H:%M").to_string())
    }

    #[test]
    fn reads_title_then_when() {
        assert_eq!(due("Call back tomorrow 10am"), ("Call back".into(), "Wed 2026-12-02 10:00".into()));
        assert_eq!(due("Call back tomorrow at 10:30am"), ("Call back".into(), "Wed 2026-12-02 10:30".into()));
        assert_eq!(due("Send comps fri 3pm"), ("Send comps".into(), "Fri 2026-12-04 15:00".into()));
        assert_eq!(due("Send comps on Tuesday"), ("Send comps".into(), "Tue 2026-12-08 09:00".into()));
        assert_eq!(due("Showing 16:00"), ("Showing".into(), "Tue 2026-12-01 16:00".into()));
        assert_eq!(
            due("Showing 9am"),
            ("Showing".into(), "Wed 2026-12-02 09:00".into()),
            "9am has passed today"
        );
        assert_eq!(due("Call 3 times"), ("Call 3 times".into(), "Wed 2026-12-02 09:00".into()));
        assert_eq!(due("Chase lender in 2h"), ("Chase lender".into(), "Tue 2026-12-01 16:00".into()));
        assert_eq!(due("Visit 2026-12-24 noon"), ("Visit".into(), "Thu 2026-12-24 12:00".into()));
    }

    #[test]
    fn refuses_what_it_cannot_use() {
        assert!(parse_task("tomorrow 10am", now(), &chicago()).is_err(), "no title");
        assert!(parse_task("   ", now(), &chicago()).is_err());
        assert!(parse_task("Visit 2026-11-01", now(), &chicago()).expect_err("past").contains("past"));
    }
}
