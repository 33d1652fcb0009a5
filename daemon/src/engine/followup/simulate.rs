//! What the engine would send over the next days, on a virtual clock: every planned send and
//! every skip with its reason, nothing sent. Pure: it runs the same rules as the live engine
//! ([`decide`], [`plan_next`]) on copies of the leads' records.
//!
//! Actions waiting for approval are played as if approved, and flagged: the plan shows what
//! would go if the agent approved it. Non-send actions (tags, tasks, alerts) are carried out on
//! the copies so the workflows move on, but are not listed.

use jiff::{SignedDuration, Timestamp};
use leadline_shared::domain::{Contact, FollowUps, ItemState};
use leadline_shared::protocol::SimulatedSend;

use super::decide::{Decision, Gates, decide};
use super::plan::{TimeRules, plan_next};
use super::workflow::Workflows;

/// The plan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub planned: Vec<SimulatedSend>,
    pub skipped: Vec<SimulatedSend>,
}

/// The most actions one lead may take in a simulation (a guard against a workflow that would
/// plan without end).
const MAX_STEPS_PER_LEAD: usize = 500;

/// Plays each lead's follow-ups from `from` for `span`.
pub fn simulate(
    leads: Vec<(Contact, FollowUps)>,
    workflows: &Workflows,
    gates: &dyn Gates,
    time: &dyn TimeRules,
    from: Timestamp,
    span: SignedDuration,
) -> Plan {
    let until = from + span;
    let mut plan = Plan::default();
    for (contact, mut record) in leads {
        let mut now = from;
        for _ in 0..MAX_STEPS_PER_LEAD {
            plan_next(&mut record, workflows, &contact, time, now);
            let Some(next) = record.items.iter().filter(|i| i.state.is_open()).min_by_key(|i| i.at).cloned()
            else {
                break;
            };
            if next.at > until {
                break;
            }
            now = now.max(next.at);
            let needs_approval = next.state == ItemState::AwaitingApproval;
            let mut item = next.clone();
            item.state = ItemState::Scheduled;
            let entry = |reason: Option<String>, at: Timestamp| {
                next.action.channel().zip(next.action.template()).map(|(channel, template)| SimulatedSend {
                    contact_id: contact.id.clone(),
                    channel: channel.to_owned(),
                    at,
                    timezone: next.timezone.clone(),
                    workflow: next.workflow.clone(),
                    step: next.step,
                    template: template.to_owned(),
                    needs_approval,
                    reason,
                })
            };
            let recent = super::decide::engine_sends(&record);
            let (state, at) = match decide(&item, &record, &contact, workflows, gates, &recent, now) {
                Decision::Wait => break,
                Decision::Send => {
                    plan.planned.extend(entry(None, now));
                    let channel = next.action.channel().unwrap_or("sms").to_owned();
                    record.recent_sends.push(leadline_shared::domain::RecentSend { at: now, channel });
                    (ItemState::Sent, now)
                }
                Decision::Execute => (ItemState::Done, now),
                Decision::Defer { until: later, reason: _ } => {
                    let waiting =
                        if needs_approval { ItemState::AwaitingApproval } else { ItemState::Scheduled };
                    (waiting, later.max(now + SignedDuration::from_secs(1)))
                }
                Decision::Skip { reason } => {
                    plan.skipped.extend(entry(Some(reason), now));
                    (ItemState::Skipped, now)
                }
            };
            if let Some(i) = record.item_mut(&next.id) {
                i.state = state;
                i.at = at;
                i.updated_at = now;
            }
        }
    }
    plan.planned.sort_by(|a, b| (a.at, &a.contact_id).cmp(&(b.at, &b.contact_id)));
    plan.skipped.sort_by(|a, b| (a.at, &a.contact_id).cmp(&(b.at, &b.contact_id)));
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::followup::events::LeadEvent;
    use crate::engine::followup::plan::{Lead, OptOuts, react};
    use crate::engine::followup::workflow::{DEFAULTS, TemplateCatalog};
    use leadline_shared::domain::LeadSummary;

    struct Any;
    impl TemplateCatalog for Any {
        fn channel_of(&self, id: &str) -> Option<&'static str> {
            Some(if id.ends_with("email") { "email" } else { "sms" })
        }
    }
    struct Never;
    impl OptOuts for Never {
        fn opt_out(&self, _: &str) -> Option<String> {
            None
        }
    }
    /// Allowed 08:00–21:00 UTC; a cap of one send per 20 hours.
    struct Day;
    fn opens(at: Timestamp) -> Timestamp {
        let day = at.as_second().div_euclid(86_400) * 86_400;
        let h = at.as_second() - day;
        let t = if h < 8 * 3_600 {
            day + 8 * 3_600
        } else if h >= 21 * 3_600 {
            day + 86_400 + 8 * 3_600
        } else {
            at.as_second()
        };
        Timestamp::from_second(t).expect("ts")
    }
    impl TimeRules for Day {
        fn send_time(&self, _: &Contact, _: &str, due: Timestamp) -> (Timestamp, Option<String>) {
            (opens(due), Some("UTC".into()))
        }
        fn business_time(&self, due: Timestamp) -> Timestamp {
            due
        }
    }
    impl Gates for Day {
        fn check(
            &self,
            _: &Contact,
            _: &str,
            _: bool,
            recent: &[super::super::decide::Sent],
            now: Timestamp,
        ) -> Result<(), (Option<Timestamp>, String)> {
            if opens(now) != now {
                return Err((Some(opens(now)), "quiet hours".into()));
            }
            match recent.last() {
                Some(last) if now.duration_since(last.at) < SignedDuration::from_hours(20) => {
                    Err((Some(last.at + SignedDuration::from_hours(20)), "cap".into()))
                }
                _ => Ok(()),
            }
        }
    }

    fn t(h: i64) -> Timestamp {
        Timestamp::from_second(1_767_571_200 + h * 3_600).expect("ts")
    }

    #[test]
    fn the_plan_lists_every_send_inside_its_hours_and_nothing_is_sent() {
        let workflows = Workflows::load(DEFAULTS, None, &Any).expect("defaults");
        let contact = Contact { id: "c".into(), phone: Some("+1".into()), ..Default::default() };
        let mut record = FollowUps::new("c");
        let row = LeadSummary::default();
        react(
            &mut record,
            &[LeadEvent::NewLead],
            &Lead { contact: &contact, row: &row },
            &workflows,
            &Day,
            &Never,
            t(22),
        );
        let before = record.clone();
        let plan = simulate(
            vec![(contact, record.clone())],
            &workflows,
            &Day,
            &Day,
            t(22),
            SignedDuration::from_hours(24 * 10),
        );
        assert_eq!(record, before, "the live record is untouched");
        assert!(!plan.planned.is_empty());
        for s in &plan.planned {
            assert_eq!(opens(s.at), s.at, "{s:?} is outside its hours");
        }
        // The new lead at 22:00 gets its first text at 08:00 the next morning, then the
        // nurture one at a time (the cap).
        assert_eq!((plan.planned[0].workflow.as_str(), plan.planned[0].at), ("instant_response", t(24 + 8)));
        assert!(plan.planned.iter().skip(1).all(|s| s.needs_approval));
        for w in plan.planned.windows(2) {
            assert!(w[1].at.duration_since(w[0].at) >= SignedDuration::from_hours(20), "{w:?}");
        }
    }
}
