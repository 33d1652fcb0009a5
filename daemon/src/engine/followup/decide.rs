//! What to do with a planned action now. Pure: the caller walks the due actions, asks here,
//! and carries out the answer (renders and queues a send, queues an op, raises an alert,
//! defers or skips with the reason written down).

use jiff::Timestamp;
use leadline_shared::domain::{Contact, FollowUpItem, FollowUps, ItemState};

use super::plan::CONFIRM_WITHIN;
use super::workflow::Workflows;

/// A message recently sent to the lead, as the caps count it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub at: Timestamp,
    /// `sms` or `email`.
    pub channel: String,
    /// By the engine (the loop lock counts these), not typed by the agent.
    pub automated: bool,
}

/// The engine's own recent sends, from its record.
pub fn engine_sends(record: &FollowUps) -> Vec<Sent> {
    record
        .recent_sends
        .iter()
        .map(|s| Sent { at: s.at, channel: s.channel.clone(), automated: true })
        .collect()
}

/// The compliance gates for one send at one moment (the caller implements them over the
/// compliance rules: quiet hours in every zone the recipient may be in, state caps, the loop
/// lock, DND).
pub trait Gates {
    /// `Ok` to send now, else when it may go (`Some`) or that it may not (`None`), and why.
    /// `recent` is what was sent to the lead lately. `automated`: a sequence's send, which the
    /// loop lock also holds back; the agent's own message is held only by the law's gates.
    fn check(
        &self,
        contact: &Contact,
        channel: &str,
        automated: bool,
        recent: &[Sent],
        now: Timestamp,
    ) -> Result<(), (Option<Timestamp>, String)>;
    /// A send went out (the global per-channel limits count it).
    fn sent(&self, _channel: &str, _at: Timestamp) {}
}

/// The answer for one action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Not now: not due, waiting for approval, or the lead is paused.
    Wait,
    /// Render and queue the send.
    Send,
    /// Carry out the action (an op for GHL, an alert).
    Execute,
    /// Move it to `until`, for `reason` (quiet hours, a cap).
    Defer { until: Timestamp, reason: String },
    /// Drop it, for `reason`.
    Skip { reason: String },
}

/// Decides what happens to `item` at `now`; `recent` is what was sent to the lead lately (the
/// engine's and the agent's).
pub fn decide(
    item: &FollowUpItem,
    record: &FollowUps,
    contact: &Contact,
    workflows: &Workflows,
    gates: &dyn Gates,
    recent: &[Sent],
    now: Timestamp,
) -> Decision {
    if item.state != ItemState::Scheduled || item.at > now {
        return Decision::Wait;
    }
    if item.confirmation {
        // The one text allowed after an opt-out: no quiet hours, no DND (both are the opt-out
        // itself), but only within the minutes the FCC allows.
        let late = record.opted_out.as_ref().is_none_or(|o| now.duration_since(o.at) > CONFIRM_WITHIN);
        return if late {
            Decision::Skip { reason: "the opt-out is more than 5 minutes old: too late to confirm it".into() }
        } else {
            Decision::Send
        };
    }
    if record.paused.is_some() {
        return Decision::Wait;
    }
    if let Some(o) = &record.opted_out {
        return Decision::Skip { reason: format!("the lead opted out ({:?})", o.phrase) };
    }
    if let Some(w) = workflows.get(&item.workflow)
        && now.duration_since(item.at) > w.stale_after
    {
        return Decision::Skip {
            reason: format!(
                "stale: it was due at {}, {} ago (Leadline was not running); not sent late",
                item.at,
                crate::engine::followup::human_duration(now.duration_since(item.at))
            ),
        };
    }
    let Some(channel) = item.action.channel() else {
        return Decision::Execute;
    };
    match gates.check(contact, channel, true, recent, now) {
        Ok(()) => Decision::Send,
        Err((Some(until), reason)) => Decision::Defer { until: until.max(now), reason },
        Err((None, reason)) => Decision::Skip { reason },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::followup::workflow::TemplateCatalog;
    use leadline_shared::domain::{OptOutRecord, StepAction};

    struct Open;
    impl Gates for Open {
        fn check(
            &self,
            _: &Contact,
            _: &str,
            _: bool,
            _: &[Sent],
            _: Timestamp,
        ) -> Result<(), (Option<Timestamp>, String)> {
            Ok(())
        }
    }

    struct Night(Timestamp);
    impl Gates for Night {
        fn check(
            &self,
            _: &Contact,
            _: &str,
            _: bool,
            _: &[Sent],
            _: Timestamp,
        ) -> Result<(), (Option<Timestamp>, String)> {
            Err((Some(self.0), "quiet hours".into()))
        }
    }

    struct Any;
    impl TemplateCatalog for Any {
        fn channel_of(&self, id: &str) -> Option<&'static str> {
            Some(if id.ends_with("email") { "email" } else { "sms" })
        }
    }

    fn t(s: i64) -> Timestamp {
        Timestamp::from_second(s).expect("ts")
    }

    fn item(at: i64) -> FollowUpItem {
        let action = StepAction::SendSms { template: "instant_response".into() };
        let id = "c/instant_response/0/0".into();
        FollowUpItem::new(id, "c".into(), "instant_response".into(), 0, action, t(at), t(at))
    }

    fn wf() -> Workflows {
        Workflows::load(crate::engine::followup::workflow::DEFAULTS, None, &Any).expect("defaults")
    }

    #[test]
    fn a_due_send_goes_through_the_gates() {
        let (c, r, w) = (Contact::default(), FollowUps::new("c"), wf());
        assert_eq!(decide(&item(100), &r, &c, &w, &Open, &[], t(99)), Decision::Wait);
        assert_eq!(decide(&item(100), &r, &c, &w, &Open, &[], t(100)), Decision::Send);
        assert_eq!(
            decide(&item(100), &r, &c, &w, &Night(t(5_000)), &[], t(100)),
            Decision::Defer { until: t(5_000), reason: "quiet hours".into() }
        );
        let mut waiting = item(100);
        waiting.state = ItemState::AwaitingApproval;
        assert_eq!(decide(&waiting, &r, &c, &w, &Open, &[], t(200)), Decision::Wait);
    }

    #[test]
    fn a_stale_send_after_downtime_is_skipped_not_sent() {
        let (c, r, w) = (Contact::default(), FollowUps::new("c"), wf());
        // The instant response goes stale after 2 hours.
        assert_eq!(decide(&item(0), &r, &c, &w, &Open, &[], t(3_600)), Decision::Send);
        assert!(
            matches!(decide(&item(0), &r, &c, &w, &Open, &[], t(3 * 3_600)), Decision::Skip { reason } if reason.starts_with("stale"))
        );
    }

    #[test]
    fn after_an_opt_out_only_the_confirmation_goes_and_only_in_time() {
        let (c, w) = (Contact::default(), wf());
        let mut r = FollowUps::new("c");
        r.opted_out = Some(OptOutRecord { at: t(1_000), phrase: "stop".into(), message_id: "m".into() });
        assert!(matches!(decide(&item(1_000), &r, &c, &w, &Open, &[], t(1_001)), Decision::Skip { .. }));
        let mut confirm = item(1_000);
        confirm.confirmation = true;
        assert_eq!(
            decide(&confirm, &r, &c, &w, &Night(t(9_999)), &[], t(1_001)),
            Decision::Send,
            "quiet hours do not hold it back"
        );
        assert!(matches!(decide(&confirm, &r, &c, &w, &Open, &[], t(1_000 + 301)), Decision::Skip { .. }));
    }
}
