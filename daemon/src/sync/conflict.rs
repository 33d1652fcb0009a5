//! What happens to a local edit after GHL answered it, as one pure, documented policy.
//!
//! How pulled records and pending edits combine is [`crate::engine::rebase`]; this is the
//! other half of the conflict policy:
//!
//! 3. **A refused op gets one second chance**: GHL refusing it as invalid (400/404/422) is
//!    taken as a conflict with a change made in GHL. The record is re-pulled and the op
//!    retried once. **The same conflict twice marks the op out of sync**: it stays visible with
//!    GHL's reason, for the agent to retry or drop. Nothing is dropped silently.
//! 4. **A send whose outcome is unknown is never retried on its own** (a lead must not get the
//!    same text twice): it is marked failed for the agent to check.

use leadline_shared::domain::{OpState, PendingOp};

/// How a push attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// GHL accepted it.
    Accepted,
    /// A passing failure (network, 429, 5xx, timeout): try again later.
    Transient(String),
    /// GHL refused it as invalid.
    Refused(String),
    /// It may or may not have taken effect (a send that timed out): never retried on its own,
    /// shown to the agent as failed.
    Uncertain(String),
}

/// What to do with the op after an attempt.
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant, reason = "lives for one push attempt; boxing would allocate per op")]
pub enum Next {
    /// Remove it: GHL has the edit.
    Done,
    /// Keep it, as updated; `refetch` asks for the record to be pulled again first.
    Keep { op: PendingOp, refetch: bool },
}

/// Decides an op's fate after a push attempt.
pub fn after_attempt(mut op: PendingOp, attempt: Attempt) -> Next {
    match attempt {
        Attempt::Accepted => Next::Done,
        Attempt::Transient(reason) => {
            op.attempts += 1;
            op.last_error = Some(reason);
            Next::Keep { op, refetch: false }
        }
        Attempt::Uncertain(reason) => {
            op.attempts += 1;
            op.state = OpState::Failed;
            op.last_error = Some(reason);
            Next::Keep { op, refetch: false }
        }
        Attempt::Refused(reason) => {
            op.attempts += 1;
            op.conflicts += 1;
            if op.conflicts >= 2 {
                op.state = OpState::OutOfSync;
                op.last_error = Some(format!("GHL refused this edit twice: {reason}"));
                Next::Keep { op, refetch: false }
            } else {
                op.last_error = Some(format!("GHL refused this edit; retrying after a refresh: {reason}"));
                Next::Keep { op, refetch: true }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::Timestamp;
    use leadline_shared::domain::OpKind;

    fn op(seq: u64, kind: OpKind) -> PendingOp {
        PendingOp::new(seq, "c", kind, Timestamp::UNIX_EPOCH)
    }

    #[test]
    fn the_same_conflict_twice_is_out_of_sync() {
        let first =
            after_attempt(op(1, OpKind::AddNote { body: "x".into() }), Attempt::Refused("422".into()));
        let Next::Keep { op: again, refetch: true } = first else {
            panic!("first refusal retries after a refresh")
        };
        assert_eq!(again.state, OpState::Pending);
        let Next::Keep { op: stuck, refetch: false } = after_attempt(again, Attempt::Refused("422".into()))
        else {
            panic!("second refusal keeps it")
        };
        assert_eq!(stuck.state, OpState::OutOfSync);
        assert!(stuck.last_error.as_deref().is_some_and(|e| e.contains("twice")));
        assert_eq!(after_attempt(stuck, Attempt::Accepted), Next::Done);
    }

    #[test]
    fn an_uncertain_send_fails_without_retrying() {
        let o = op(1, OpKind::SendMessage { channel: "sms".into(), body: "hi".into(), subject: None });
        let Next::Keep { op, refetch: false } = after_attempt(o, Attempt::Uncertain("timeout".into())) else {
            panic!("kept")
        };
        assert_eq!(op.state, OpState::Failed);
    }

    #[test]
    fn transient_failures_never_give_up() {
        let mut o = op(1, OpKind::AddTag { tag: "t".into() });
        for _ in 0..50 {
            let Next::Keep { op, .. } = after_attempt(o, Attempt::Transient("502".into())) else {
                panic!("kept")
            };
            o = op;
        }
        assert_eq!((o.state, o.attempts), (OpState::Pending, 50));
    }
}
