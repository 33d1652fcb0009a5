//! Exactly-once sending: the life of one message send, as pure transitions.
//!
//! GHL's send API has no idempotency key, so a message must never be sent again on a guess.
//!
//! ```text
//!   pending ──begin (attempt written and flushed first)──► sending
//!   sending ──GHL accepted──────────────────────────────► sent (message id)
//!   sending ──GHL refused (4xx: DND, invalid)───────────► failed (reason)
//!   sending ──surely never reached GHL (refused connection, 429, breaker)──► pending
//!   sending ──may have reached GHL (timeout, 5xx, lost connection, unreadable answer,
//!             or a crash while sending)──────────────────► verifying
//!   verifying ──the message is in the lead's conversation──► sent
//!   verifying ──absent, and the attempt is old enough that GHL would show it──► pending
//!   verifying ──GHL cannot be read for too long──────────► uncertain (the agent decides)
//! ```
//!
//! An attempt is written to the store (and flushed) before its request goes out, so a crash
//! at any moment leaves either no attempt (nothing was sent) or an attempt to verify.

use jiff::{SignedDuration, Timestamp};
use leadline_shared::domain::{OpKind, OpState, PendingOp, SendAttempt};

/// How long after an attempt began GHL is trusted to show the message if it took it: an
/// attempt older than this whose message is absent never reached GHL.
pub const DEFAULT_SETTLE: SignedDuration = SignedDuration::from_secs(30);
/// How long verification may fail before the send is shown to the agent as uncertain.
pub const DEFAULT_GIVE_UP: SignedDuration = SignedDuration::from_secs(15 * 60);

/// What one request told us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// GHL took it.
    Accepted { message_id: String },
    /// GHL answered no (4xx): it did nothing.
    Refused { reason: String },
    /// The request surely never reached GHL (the connection was refused, a 429, the breaker
    /// was open).
    NotSent { reason: String },
    /// It may have reached GHL: a timeout, a 5xx, a lost connection, an answer we could not
    /// read.
    Unknown { reason: String },
}

/// What reading the lead's conversation found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// The message is there.
    Present { message_id: String },
    /// It is not.
    Absent,
    /// The conversation could not be read.
    Unreadable { reason: String },
}

/// What to do next with a send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Start an attempt (write it, flush, then send).
    Begin,
    /// Ask GHL whether the message is there.
    Verify,
    /// Sent: remove the op, record the id.
    Sent { message_id: String },
    /// GHL refused it: keep the op as failed with the reason.
    Failed { reason: String },
    /// Not sent; try again later with a fresh attempt.
    Later { reason: String },
    /// Could not be made sure of: shown to the agent, never resent on its own.
    Uncertain { reason: String },
    /// Verify again later (GHL may not show it yet, or could not be read).
    VerifyLater,
}

/// Whether an op is a message send.
pub fn is_send(op: &PendingOp) -> bool {
    matches!(op.kind, OpKind::SendMessage { .. })
}

/// What push does first with a pending send: begin, or (an attempt was under way: a crash or
/// an unknown outcome) verify it.
pub fn on_push(op: &PendingOp) -> Next {
    match &op.attempt {
        None => Next::Begin,
        Some(_) => Next::Verify,
    }
}

/// A fresh attempt, to write before the request goes out.
pub fn begin(op: &mut PendingOp, attempt_id: String, now: Timestamp) {
    op.attempt = Some(SendAttempt { id: attempt_id, started_at: now, verifying_since: None });
    op.attempts += 1;
}

/// After the request: what its outcome means.
pub fn after_request(op: &mut PendingOp, outcome: Outcome, now: Timestamp) -> Next {
    match outcome {
        Outcome::Accepted { message_id } => Next::Sent { message_id },
        Outcome::Refused { reason } => {
            op.attempt = None;
            op.state = OpState::Failed;
            op.last_error = Some(reason.clone());
            Next::Failed { reason }
        }
        Outcome::NotSent { reason } => {
            op.attempt = None;
            op.last_error = Some(reason.clone());
            Next::Later { reason }
        }
        Outcome::Unknown { reason } => {
            if let Some(a) = &mut op.attempt {
                a.verifying_since.get_or_insert(now);
            }
            op.last_error = Some(format!(
                "the send may or may not have reached GHL ({reason}); checking the conversation"
            ));
            Next::Verify
        }
    }
}

/// After reading the conversation for the attempt's message.
pub fn after_verify(
    op: &mut PendingOp,
    found: Found,
    now: Timestamp,
    settle: SignedDuration,
    give_up: SignedDuration,
) -> Next {
    let Some(attempt) = op.attempt.as_mut() else {
        return Next::Begin;
    };
    let since = *attempt.verifying_since.get_or_insert(now);
    match found {
        Found::Present { message_id } => Next::Sent { message_id },
        Found::Absent if now.duration_since(attempt.started_at) >= settle => {
            op.attempt = None;
            op.last_error =
                Some("the last attempt never reached GHL (its conversation does not have it)".into());
            Next::Later { reason: "not in the conversation: it never reached GHL".into() }
        }
        Found::Absent => Next::VerifyLater,
        Found::Unreadable { reason } if now.duration_since(since) >= give_up => {
            op.state = OpState::Uncertain;
            let why = format!(
                "could not make sure whether the send reached GHL ({reason}); check the conversation in GHL, then send it again from the follow-ups or drop it"
            );
            op.last_error = Some(why.clone());
            Next::Uncertain { reason: why }
        }
        Found::Unreadable { .. } => Next::VerifyLater,
    }
}

/// The agent sends an uncertain message again: a fresh attempt, knowingly.
pub fn resend(op: &mut PendingOp) {
    op.attempt = None;
    op.state = OpState::Pending;
    op.last_error = None;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op() -> PendingOp {
        let kind = OpKind::SendMessage { channel: "sms".into(), body: "Hi".into(), subject: None };
        PendingOp::new(1, "c", kind, Timestamp::UNIX_EPOCH)
    }

    fn at(s: i64) -> Timestamp {
        Timestamp::from_second(s).expect("ts")
    }

    const SETTLE: SignedDuration = SignedDuration::from_secs(30);
    const GIVE_UP: SignedDuration = SignedDuration::from_secs(600);

    #[test]
    fn a_send_is_begun_then_accepted() {
        let mut o = op();
        assert_eq!(on_push(&o), Next::Begin);
        begin(&mut o, "a1".into(), at(0));
        assert_eq!(on_push(&o), Next::Verify, "a crash after begin means: verify, never resend");
        assert_eq!(
            after_request(&mut o, Outcome::Accepted { message_id: "m".into() }, at(1)),
            Next::Sent { message_id: "m".into() }
        );
    }

    #[test]
    fn an_unknown_outcome_is_verified_not_resent() {
        let mut o = op();
        begin(&mut o, "a1".into(), at(0));
        assert_eq!(
            after_request(&mut o, Outcome::Unknown { reason: "timeout".into() }, at(10)),
            Next::Verify
        );
        assert_eq!(on_push(&o), Next::Verify);
        // Present: it was sent.
        let mut found = o.clone();
        assert_eq!(
            after_verify(&mut found, Found::Present { message_id: "m".into() }, at(11), SETTLE, GIVE_UP),
            Next::Sent { message_id: "m".into() }
        );
        // Absent too soon: look again later.
        let mut early = o.clone();
        assert_eq!(after_verify(&mut early, Found::Absent, at(12), SETTLE, GIVE_UP), Next::VerifyLater);
        assert!(early.attempt.is_some());
        // Absent once GHL would show it: it never arrived; a fresh attempt later.
        let mut late = o.clone();
        assert!(matches!(
            after_verify(&mut late, Found::Absent, at(31), SETTLE, GIVE_UP),
            Next::Later { .. }
        ));
        assert_eq!(on_push(&late), Next::Begin);
        // Unreadable for too long: uncertain, shown, never resent.
        let mut stuck = o.clone();
        assert_eq!(
            after_verify(&mut stuck, Found::Unreadable { reason: "502".into() }, at(100), SETTLE, GIVE_UP),
            Next::VerifyLater
        );
        assert!(matches!(
            after_verify(&mut stuck, Found::Unreadable { reason: "502".into() }, at(700), SETTLE, GIVE_UP),
            Next::Uncertain { .. }
        ));
        assert_eq!(stuck.state, OpState::Uncertain);
        resend(&mut stuck);
        assert_eq!((on_push(&stuck), stuck.state), (Next::Begin, OpState::Pending));
    }

    #[test]
    fn refusals_fail_and_unsent_ones_retry() {
        let mut o = op();
        begin(&mut o, "a1".into(), at(0));
        assert!(matches!(
            after_request(&mut o.clone(), Outcome::Refused { reason: "DND".into() }, at(1)),
            Next::Failed { .. }
        ));
        assert!(matches!(
            after_request(&mut o, Outcome::NotSent { reason: "refused".into() }, at(1)),
            Next::Later { .. }
        ));
        assert_eq!(on_push(&o), Next::Begin, "surely not sent: a fresh attempt");
    }
}
