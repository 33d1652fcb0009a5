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
