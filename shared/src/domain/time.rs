//! Lenient timestamps.
//!
//! GHL sends ISO-8601 strings almost everywhere, epoch milliseconds in a few places, and
//! sometimes `null` or `""`. One bad date must not make a whole record unreadable, so
//! anything unparseable becomes `None`.

use jiff::Timestamp;
use serde::{Deserialize, Deserializer, Serializer};

/// Parses a GHL timestamp value: an RFC 3339 string, or epoch milliseconds.
pub fn parse_ghl_timestamp(value: &serde_json::Value) -> Option<Timestamp> {
    match value {
        serde_json::Value::String(s) => parse_str(s),
        serde_json::Value::Number(n) => n.as_i64().and_then(|ms| Timestamp::from_millisecond(ms).ok()),
        _ => None,
    }
}

fn parse_str(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Ok(ts) = s.parse::<Timestamp>() {
        return Some(ts);
    }
    // Epoch milliseconds sent as a string.
    if let Ok(ms) = s.parse::<i64>() {
        return Timestamp::from_millisecond(ms).ok();
    }
    // A date with no time (e.g. task due dates typed by hand): midnight UTC.
    s.parse::<jiff::civil::Date>()
        .ok()
        .and_then(|d| d.to_zoned(jiff::tz::TimeZone::UTC).ok())
        .map(|z| z.timestamp())
}

/// Serde adapter for `Option<Timestamp>` fields: lenient on input, RFC 3339 on output.
pub mod lenient {
    use super::*;

    /// Deserializes any GHL timestamp shape, mapping unparseable values to `None`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
        let value = serde_json::Value::deserialize(d)?;
        Ok(parse_ghl_timestamp(&value))
    }

    /// Serializes as an RFC 3339 string, or `null`.
    pub fn serialize<S: Serializer>(ts: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
        match ts {
            Some(ts) => s.collect_str(ts),
            None => s.serialize_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_every_shape_ghl_sends() {
        let iso = parse_ghl_timestamp(&json!("2021-07-02T05:18:26.704Z")).map(|t| t.as_millisecond());
        assert_eq!(iso, Some(1_625_203_106_704));
        assert_eq!(
            parse_ghl_timestamp(&json!(1_625_203_106_704_i64)).map(|t| t.as_millisecond()),
            Some(1_625_203_106_704)
        );
        assert_eq!(
            parse_ghl_timestamp(&json!("1625203106704")).map(|t| t.as_millisecond()),
            Some(1_625_203_106_704)
        );
        assert!(parse_ghl_timestamp(&json!("2024-03-01")).is_some());
        assert_eq!(parse_ghl_timestamp(&json!("")), None);
        assert_eq!(parse_ghl_timestamp(&json!("Date format YYYY-MM-DD")), None);
        assert_eq!(parse_ghl_timestamp(&json!(null)), None);
    }
}
