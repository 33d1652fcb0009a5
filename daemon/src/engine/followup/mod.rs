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

#[cfg(test)]
mod tests {
    use super::human_duration;
    use jiff::SignedDuration;

    #[test]
    fn durations_read_like_speech() {
        assert_eq!(human_duration(SignedDuration::from_secs(59)), "0 min");
        assert_eq!(human_duration(SignedDuration::from_secs(3 * 3600 + 1200)), "3 h 20 min");
        assert_eq!(human_duration(SignedDuration::from_hours(2)), "2 h");
        assert_eq!(human_duration(SignedDuration::from_hours(72)), "3 days");
    }
}
