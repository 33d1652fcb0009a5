//! Timestamps as GHL writes them (`2021-07-02T05:18:26.704Z`) and the simulator's clock.

use std::time::Instant;

/// Formats epoch milliseconds the way GHL does: RFC 3339 in UTC with milliseconds and `Z`.
pub fn iso_from_ms(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z", rem / 3600, (rem % 3600) / 60, rem % 60)
}

/// Parses an RFC 3339 / ISO-8601 timestamp (with offset or `Z`) into epoch milliseconds.
pub fn ms_from_iso(s: &str) -> Option<i64> {
    let ts: jiff::Timestamp = s.trim().parse().ok()?;
    Some(ts.as_millisecond())
}

/// Parses a date filter value as GHL accepts it: epoch milliseconds (number or digits) or ISO-8601.
pub fn ms_from_value(v: &serde_json::Value) -> Option<i64> {
    match v {
        serde_json::Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        serde_json::Value::String(s) => {
            let t = s.trim();
            if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
                t.parse().ok()
            } else {
                ms_from_iso(t).or_else(|| {
                    // A bare date (YYYY-MM-DD) means midnight UTC.
                    let d: jiff::civil::Date = t.parse().ok()?;
                    Some(d.to_zoned(jiff::tz::TimeZone::UTC).ok()?.timestamp().as_millisecond())
                })
            }
        }
        _ => None,
    }
}

/// Parses `mm-dd-yyyy` (the opportunities search `date`/`endDate` format) into epoch ms at UTC midnight.
pub fn ms_from_mdy(s: &str) -> Option<i64> {
    let mut it = s.trim().split(['-', '/']);
    let m: i8 = it.next()?.parse().ok()?;
    let d: i8 = it.next()?.parse().ok()?;
    let y: i16 = it.next()?.parse().ok()?;
    if it.next().is_some() {
        return None;
    }
    let date = jiff::civil::Date::new(y, m, d).ok()?;
    Some(date.to_zoned(jiff::tz::TimeZone::UTC).ok()?.timestamp().as_millisecond())
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day) (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// The simulator's clock: the `--now` anchor plus real time elapsed since start, so events that
/// happen while it runs are always later than the seeded history.
#[derive(Debug, Clone)]
pub struct Clock {
    anchor_ms: i64,
    started: Instant,
}

impl Clock {
    /// A clock that reads `anchor_ms` now and advances in real time.
    pub fn new(anchor_ms: i64) -> Self {
        Self { anchor_ms, started: Instant::now() }
    }

    /// The current simulated time in epoch milliseconds.
    pub fn now_ms(&self) -> i64 {
        self.anchor_ms + self.started.elapsed().as_millis() as i64
    }

    /// The anchor the seeded data was generated against.
    pub fn anchor_ms(&self) -> i64 {
        self.anchor_ms
    }
}

/// The real current time in epoch milliseconds.
pub fn real_now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_ghl() {
        assert_eq!(iso_from_ms(1_625_203_106_704), "2021-07-02T05:18:26.704Z");
        assert_eq!(iso_from_ms(0), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn round_trips() {
        for ms in [0_i64, 951_782_400_000, 1_709_251_199_999, 4_102_444_800_123] {
            assert_eq!(ms_from_iso(&iso_from_ms(ms)), Some(ms));
        }
    }

    #[test]
    fn parses_filter_values() {
        assert_eq!(ms_from_value(&serde_json::json!(1234)), Some(1234));
        assert_eq!(ms_from_value(&serde_json::json!("1234")), Some(1234));
        assert_eq!(ms_from_value(&serde_json::json!("2021-07-02T05:18:26.704Z")), Some(1_625_203_106_704));
        assert_eq!(ms_from_value(&serde_json::json!("1970-01-02")), Some(86_400_000));
        assert_eq!(ms_from_value(&serde_json::json!("soon")), None);
        assert_eq!(ms_from_mdy("01-02-1970"), Some(86_400_000));
        assert_eq!(ms_from_mdy("13-02-1970"), None);
    }
}
