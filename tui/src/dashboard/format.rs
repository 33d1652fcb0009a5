//! Relative times as the table and detail pane show them. `now` is always passed in, so the
//! same data renders the same way in snapshots.

use jiff::Timestamp;

/// A duration in seconds as one compact unit: `now`, `12m`, `3h`, `5d`, `2y`. At most four
/// characters, so table columns stay narrow.
pub fn compact(secs: i64) -> String {
    let secs = secs.max(0);
    match secs {
        s if s < 60 => "now".to_owned(),
        s if s < 3_600 => format!("{}m", s / 60),
        s if s < 86_400 => format!("{}h", s / 3_600),
        s if s < 1_000 * 86_400 => format!("{}d", s / 86_400),
        s => format!("{}y", s / (365 * 86_400)),
    }
}

/// How long ago `at` was: `just now`, `5m ago`, `3h ago`, `2d ago`; `in 5m` for the future;
/// `—` when unknown.
pub fn relative(at: Option<Timestamp>, now: Timestamp) -> String {
    let Some(at) = at else {
        return "—".to_owned();
    };
    let secs = now.as_second() - at.as_second();
    if secs.abs() < 60 {
        "just now".to_owned()
    } else if secs > 0 {
        format!("{} ago", compact(secs))
    } else {
        format!("in {}", compact(-secs))
    }
}

/// The age of something created at `at`: `5d`, `3h`; `—` when unknown.
pub fn age(at: Option<Timestamp>, now: Timestamp) -> String {
    match at {
        Some(at) => compact(now.as_second() - at.as_second()),
        None => "—".to_owned(),
    }
}

/// A count with thousands separators: `12,345`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A count in at most four characters, for where the exact figure does not fit: `950`,
/// `1.8k`, `12k`, `340k`, `1.2M`. Rounded down, so it never claims more than there is.
pub fn rounded(n: u64) -> String {
    let tenths = |n: u64, unit: u64| {
        let t = n * 10 / unit;
        if t.is_multiple_of(10) { format!("{}", t / 10) } else { format!("{}.{}", t / 10, t % 10) }
    };
    match n {
        0..1_000 => n.to_string(),
        1_000..10_000 => format!("{}k", tenths(n, 1_000)),
        10_000..1_000_000 => format!("{}k", n / 1_000),
        1_000_000..10_000_000 => format!("{}M", tenths(n, 1_000_000)),
        _ => format!("{}M", n / 1_000_000),
    }
}

/// A share as a percentage with one decimal (`41.7%`), `–` when there is none (nothing to
/// divide by).
pub fn percent(share: Option<f64>) -> String {
    match share {
        Some(s) if s.is_finite() => format!("{:.1}%", s * 100.0),
        _ => "–".to_owned(),
    }
}

/// Money in at most six characters: `$950`, `$12.3k`, `$1.25M`; `–` for none.
pub fn money(value: Option<f64>) -> String {
    let Some(v) = value.filter(|v| v.is_finite()) else { return "–".to_owned() };
    let sign = if v < 0.0 { "-" } else { "" };
    let a = v.abs();
    if a >= 1e6 {
        format!("{sign}${:.2}M", a / 1e6)
    } else if a >= 1e4 {
        format!("{sign}${:.0}k", a / 1e3)
    } else if a >= 1e3 {
        format!("{sign}${:.1}k", a / 1e3)
    } else {
        format!("{sign}${a:.0}")
    }
}

/// Seconds as `45s`, `2m 05s`, `1h 20m`, `3d 4h`; `–` for none.
pub fn duration(secs: Option<u64>) -> String {
    match secs {
        None => "–".to_owned(),
        Some(s) if s < 60 => format!("{s}s"),
        Some(s) if s < 3_600 => format!("{}m {:02}s", s / 60, s % 60),
        Some(s) if s < 86_400 => format!("{}h {:02}m", s / 3_600, s % 3_600 / 60),
        Some(s) => format!("{}d {}h", s / 86_400, s % 86_400 / 3_600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2025-06-02T15:00:00Z".parse().expect("valid")
    }

    fn ago(secs: i64) -> Option<Timestamp> {
        Some(Timestamp::from_second(now().as_second() - secs).expect("valid"))
    }

    #[test]
    fn compact_units() {
        let cases = [
            (0, "now"),
            (59, "now"),
            (60, "1m"),
            (3_599, "59m"),
            (3_600, "1h"),
            (86_399, "23h"),
            (86_400, "1d"),
            (999 * 86_400, "999d"),
            (1_000 * 86_400, "2y"),
            (-5, "now"),
        ];
        for (secs, want) in cases {
            assert_eq!(compact(secs), want, "{secs}");
            assert!(compact(secs).chars().count() <= 4);
        }
    }

    #[test]
    fn relative_times() {
        assert_eq!(relative(None, now()), "—");
        assert_eq!(relative(ago(10), now()), "just now");
        assert_eq!(relative(ago(-10), now()), "just now");
        assert_eq!(relative(ago(3 * 3_600 + 59), now()), "3h ago");
        assert_eq!(relative(ago(2 * 86_400), now()), "2d ago");
        assert_eq!(relative(ago(-300), now()), "in 5m");
    }

    #[test]
    fn ages() {
        assert_eq!(age(None, now()), "—");
        assert_eq!(age(ago(5 * 86_400 + 7), now()), "5d");
        assert_eq!(age(ago(-86_400), now()), "now", "clock skew shows as new, not negative");
    }

    #[test]
    fn rounded_counts_fit_four_characters() {
        assert_eq!(rounded(0), "0");
        assert_eq!(rounded(999), "999");
        assert_eq!(rounded(1_000), "1k");
        assert_eq!(rounded(1_877), "1.8k");
        assert_eq!(rounded(12_480), "12k");
        assert_eq!(rounded(999_999), "999k");
        assert_eq!(rounded(1_250_000), "1.2M");
        assert_eq!(rounded(12_480_000), "12M");
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(100_000), "100,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}

#[cfg(test)]
mod analytics_format_tests {
    use super::*;

    #[test]
    fn shares_money_and_durations_are_short() {
        assert_eq!((percent(Some(0.41666)), percent(None)), ("41.7%".to_owned(), "–".to_owned()));
        assert_eq!(money(Some(950.0)), "$950");
        assert_eq!(money(Some(1_250.0)), "$1.2k");
        assert_eq!(money(Some(12_300.0)), "$12k");
        assert_eq!(money(Some(1_250_000.0)), "$1.25M");
        assert_eq!(money(Some(-300.0)), "-$300");
        assert_eq!(duration(Some(125)), "2m 05s");
        assert_eq!(duration(Some(4_800)), "1h 20m");
        assert_eq!(duration(None), "–");
    }
}
