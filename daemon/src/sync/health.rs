//! What `status` and the dashboard's banner say of sync's health: why it fails
//! ([`SyncFailure`]), since when GHL has been unreachable, and how each phase last ran. Pure
//! functions over the [`SyncStatus`], so the rules are tested without a GHL.

use jiff::Timestamp;
use leadline_shared::protocol::{SyncFailure, SyncPhase, SyncStatus};

use super::SyncError;
use crate::ghl::GhlError;

/// Why a step failed, as the banner tells it; `None` for a failure of Leadline's own (the
/// store), which says nothing of GHL.
pub fn classify(error: &SyncError) -> Option<SyncFailure> {
    let SyncError::Ghl(e) = error else {
        return None;
    };
    Some(match e {
        GhlError::Unauthorized { .. } => SyncFailure::Unauthorized,
        GhlError::RateLimited { .. } => SyncFailure::RateLimited,
        GhlError::Server { .. }
        | GhlError::Timeout
        | GhlError::Connect(_)
        | GhlError::Network(_)
        | GhlError::CircuitOpen { .. } => SyncFailure::Unreachable,
        GhlError::UnexpectedStatus { status: 408, .. } => SyncFailure::Unreachable,
        _ => SyncFailure::Refused,
    })
}

/// Marks `phase` as running from `now`.
pub fn phase_started(status: &mut SyncStatus, phase: &str, now: Timestamp) {
    let p = phase_mut(status, phase);
    p.running = true;
    p.last_started = Some(now);
}

/// Records how a step ended: its phase's outcome, and for the whole of sync why it fails and
/// since when GHL is unreachable. A success ends the outage; a refusal from GHL (a 401, a
/// 429, a 4xx) shows GHL answers, so it ends it too; a store failure says nothing of GHL.
pub fn step_ended(
    status: &mut SyncStatus,
    phase: &str,
    outcome: Result<(), (Option<SyncFailure>, String)>,
    now: Timestamp,
) {
    let p = phase_mut(status, phase);
    p.running = false;
    match outcome {
        Ok(()) => {
            p.last_success = Some(now);
            p.last_error = None;
            status.failure = None;
            status.unreachable_since = None;
        }
        Err((failure, message)) => {
            p.last_error = Some(message);
            status.failure = failure;
            match failure {
                Some(SyncFailure::Unreachable) => {
                    status.unreachable_since.get_or_insert(now);
                }
                Some(_) => status.unreachable_since = None,
                None => {}
            }
        }
    }
}

fn phase_mut<'a>(status: &'a mut SyncStatus, phase: &str) -> &'a mut SyncPhase {
    let index = match status.phases.iter().position(|p| p.name == phase) {
        Some(i) => i,
        None => {
            status.phases.push(SyncPhase { name: phase.to_owned(), ..SyncPhase::default() });
            status.phases.len() - 1
        }
    };
    &mut status.phases[index]
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn t(secs: i64) -> Timestamp {
        Timestamp::from_second(1_790_000_000 + secs).expect("valid")
    }

    fn ghl(e: GhlError) -> Option<SyncFailure> {
        classify(&SyncError::Ghl(e))
    }

    #[test]
    fn network_timeouts_and_5xx_are_unreachable_but_a_401_is_not() {
        assert_eq!(ghl(GhlError::Timeout), Some(SyncFailure::Unreachable));
        assert_eq!(ghl(GhlError::Connect("refused".into())), Some(SyncFailure::Unreachable));
        assert_eq!(ghl(GhlError::Network("reset".into())), Some(SyncFailure::Unreachable));
        assert_eq!(
            ghl(GhlError::Server { status: 503, message: "down".into() }),
            Some(SyncFailure::Unreachable)
        );
        assert_eq!(
            ghl(GhlError::CircuitOpen { retry_in: Duration::from_secs(30) }),
            Some(SyncFailure::Unreachable)
        );
        assert_eq!(
            ghl(GhlError::Unauthorized { message: "Invalid JWT".into() }),
            Some(SyncFailure::Unauthorized)
        );
        assert_eq!(
            ghl(GhlError::RateLimited { retry_in: None, daily: false }),
            Some(SyncFailure::RateLimited)
        );
        assert_eq!(ghl(GhlError::Forbidden { message: "no".into() }), Some(SyncFailure::Refused));
        assert_eq!(classify(&SyncError::Internal("disk".into())), None);
    }

    #[test]
    fn the_outage_starts_at_the_first_failure_and_ends_with_a_success() {
        let mut s = SyncStatus::default();
        phase_started(&mut s, "poll", t(0));
        assert!(s.phases[0].running);
        let down = || Err((Some(SyncFailure::Unreachable), "GHL did not answer in time".to_owned()));
        step_ended(&mut s, "poll", down(), t(1));
        phase_started(&mut s, "push", t(60));
        step_ended(&mut s, "push", down(), t(61));
        assert_eq!(s.unreachable_since, Some(t(1)), "kept from the first failure");
        assert_eq!(s.failure, Some(SyncFailure::Unreachable));
        assert_eq!(s.phases.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["poll", "push"]);
        assert!(s.phases.iter().all(|p| !p.running && p.last_error.is_some()));

        // A store failure says nothing of GHL: the outage goes on.
        step_ended(&mut s, "poll", Err((None, "store".into())), t(90));
        assert_eq!(s.unreachable_since, Some(t(1)));

        step_ended(&mut s, "poll", Ok(()), t(120));
        assert_eq!((s.failure, s.unreachable_since), (None, None));
        assert_eq!(s.phases[0].last_success, Some(t(120)));
        assert_eq!(s.phases[0].last_error, None);
        assert!(s.phases[1].last_error.is_some(), "the push has not run since");
    }

    #[test]
    fn a_refused_token_is_not_an_outage() {
        let mut s = SyncStatus::default();
        step_ended(&mut s, "poll", Err((Some(SyncFailure::Unreachable), "down".into())), t(0));
        step_ended(&mut s, "poll", Err((Some(SyncFailure::Unauthorized), "401".into())), t(5));
        assert_eq!(s.failure, Some(SyncFailure::Unauthorized));
        assert_eq!(s.unreachable_since, None, "GHL answered");
    }
}
