//! The follow-up engine's rules: workflows, what events start and stop them, what is planned
//! when, what to do with a due action, and the exactly-once life of a send. Pure: no store, no
//! GHL, no clock of its own. The IO edges beside them are `crate::followups` (the walk over due
//! actions, rendering, queuing, alerts) and `crate::sync::push` (the sender).

pub mod decide;
pub mod events;
pub mod plan;
pub mod send;
pub mod simulate;
pub mod workflow;

/// A duration as a person says it: "3 h 20 min", "2 days".
pub fn human_duration(d: jiff::SignedDuration) -> String {
    let mins = d.as_secs().max(0) / 60;
    match mins {
        m if m < 60 => format!("{m} min"),
        m if m < 48 * 60 => match m % 60 {
            0 => format!("{} h", m / 60),
            r => format!("{} h {r} min", m / 60),
        },
        m => format!("{} days", m / (24 * 60)),
    }
}

/// "queued until 08:00 local (Wed, America/Chicago)": when a held send may go, in the lead's
/// own time, which is what the agent thinks in. UTC when the zone is unknown.
pub fn queued_until(at: jiff::Timestamp, zone: Option<&str>) -> String {
    match zone.and_then(|z| jiff::tz::TimeZone::get(z).ok().map(|tz| (z, tz))) {
        Some((name, tz)) => {
            let local = at.to_zoned(tz);
            format!("queued until {} local ({}, {name})", local.strftime("%H:%M"), local.strftime("%a"))
        }
        None => format!("queued until {} UTC", at.strftime("%a %H:%M")),
    }
}

#[cfg(test)]
mod tests {
    use super::{human_duration, queued_until};
    use jiff::SignedDuration;

    #[test]
    fn a_held_send_says_when_in_the_leads_time() {
        let at: jiff::Timestamp = "2026-03-05T14:00:00Z".parse().expect("timestamp");
        assert_eq!(
            queued_until(at, Some("America/Chicago")),
            "queued until 08:00 local (Thu, America/Chicago)"
        );
        assert_eq!(queued_until(at, None), "queued until Thu 14:00 UTC");
        assert_eq!(queued_until(at, Some("Not/AZone")), "queued until Thu 14:00 UTC");
    }

    #[test]
    fn durations_read_like_speech() {
        assert_eq!(human_duration(SignedDuration::from_secs(59)), "0 min");
        assert_eq!(human_duration(SignedDuration::from_secs(3 * 3600 + 1200)), "3 h 20 min");
        assert_eq!(human_duration(SignedDuration::from_hours(2)), "2 h");
        assert_eq!(human_duration(SignedDuration::from_hours(72)), "3 days");
    }
}
