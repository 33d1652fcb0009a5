//! The planner: events and time turn a lead's workflows into planned actions. Pure: the caller
//! brings the record, the events, the lead as it stands, the workflows, the time rules and the
//! time, and gets the record back changed, with the effects to carry out (ops for GHL, alerts).
//!
//! The rules, in order, for each event:
//! - **An opt-out** (a reply a reasonable person means as one) ends every workflow, cancels
//!   every planned action, and plans exactly one confirmation, to go within 5 minutes; DND is
//!   set in GHL when the confirmation has gone or will not (GHL refuses a text to a lead with
//!   DND on). Nothing automated reaches the lead again.
//! - **A reply** ends the workflows that end on a reply, pauses the others that pause on one
//!   (their planned actions are cancelled), and starts those its words trigger.
//! - **A message from the team** starts the "no reply" workflows (silence re-engagement),
//!   counted from that message.
//! - **A new lead**, **a score rising past a threshold**, **a tag added or removed** start the
//!   workflows with that trigger whose conditions hold.
//! - **A stage change** ends the workflows whose exit stages it reaches, pauses the others
//!   that pause on one, and starts those it triggers.
//!
//! Then each active workflow with nothing planned gets its next step planned: its time is the
//! enrollment's anchor plus the step's offset, moved into business hours when the step says so,
//! and a send's time is moved into the recipient's allowed hours at once, so the plan shows
//! "queued until 08:00 local" rather than a time the send could never go.

use jiff::Timestamp;
use leadline_shared::domain::{
    Contact, Enrollment, EnrollmentState, FollowUpItem, FollowUps, ItemState, LeadSummary, Mode,
    OptOutRecord, StepAction,
};

use super::events::LeadEvent;
use super::workflow::{Conditions, Trigger, Workflow, Workflows};

/// The template of the one message sent after an opt-out.
pub const OPT_OUT_CONFIRMATION: &str = "optout_confirmation";
/// A confirmation later than this after the opt-out is not sent (the FCC allows one within 5
/// minutes).
pub const CONFIRM_WITHIN: jiff::SignedDuration = jiff::SignedDuration::from_secs(5 * 60);
/// Finished actions kept per lead (the newest), for the lead view and the audit.
pub const KEEP_FINISHED: usize = 50;

/// The time rules the planner needs; the caller implements them over the compliance tables and
/// the configured business hours.
pub trait TimeRules {
    /// The earliest time at or after `due` a send on `channel` may reach this lead, and the
    /// zone that was checked (for the plan to show).
    fn send_time(&self, contact: &Contact, channel: &str, due: Timestamp) -> (Timestamp, Option<String>);
    /// `due` moved into the agent's business hours.
    fn business_time(&self, due: Timestamp) -> Timestamp;
}

/// Recognises opt-outs in what a lead wrote (the compliance rules).
pub trait OptOuts {
    /// The phrase that makes `text` an opt-out, if it is one.
    fn opt_out(&self, text: &str) -> Option<String>;
}

/// An alert for the agent's desktop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Alert {
    HotLeadArrived {
        contact_id: String,
        name: String,
    },
    HotLeadReplied {
        contact_id: String,
        name: String,
        body: String,
    },
    OptedOut {
        contact_id: String,
        name: String,
        phrase: String,
    },
    /// A workflow's notify step.
    Notify {
        contact_id: String,
        text: String,
    },
    /// A new lead has waited this long with nobody writing to it.
    SpeedToLead {
        contact_id: String,
        name: String,
        minutes: u32,
    },
    /// A send failed or may not have gone.
    SendProblem {
        contact_id: String,
        text: String,
    },
}

/// What the caller carries out after it stores the record: audit lines (in the same
/// transaction as the record) and alerts (after it). Actions for GHL are not planned here but
/// carried out when due ([`crate::followups`]), so they keep the order they must go in.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Effects {
    pub alerts: Vec<Alert>,
    /// Lines for the audit log.
    pub audit: Vec<String>,
}

/// The lead as it stands, for conditions.
pub struct Lead<'a> {
    pub contact: &'a Contact,
    pub row: &'a LeadSummary,
}

fn conditions_hold(c: &Conditions, lead: &Lead<'_>) -> bool {
    let has = |tags: &[String], t: &str| tags.iter().any(|x| x.eq_ignore_ascii_case(t));
    let tags = &lead.contact.tags;
    c.lead_type
        .as_deref()
        .is_none_or(|t| lead.row.lead_type.as_deref().is_some_and(|l| l.eq_ignore_ascii_case(t)))
        && (c.sources.is_empty()
            || lead
                .contact
                .source
                .as_deref()
                .is_some_and(|s| c.sources.iter().any(|x| x.eq_ignore_ascii_case(s))))
        && (c.tags_any.is_empty() || c.tags_any.iter().any(|t| has(tags, t)))
        && !c.tags_none.iter().any(|t| has(tags, t))
        && c.min_score.is_none_or(|m| lead.row.score >= m)
        && c.max_score.is_none_or(|m| lead.row.score <= m)
        && c.has_phone
            .is_none_or(|want| lead.contact.phone.as_deref().is_some_and(|p| !p.trim().is_empty()) == want)
        && c.has_email
            .is_none_or(|want| lead.contact.email.as_deref().is_some_and(|e| !e.trim().is_empty()) == want)
}

fn stage_matches(list: &[String], stage: Option<&str>) -> bool {
    stage.is_some_and(|s| list.iter().any(|x| x.eq_ignore_ascii_case(s)))
}

fn words_match(words: &[String], body: &str) -> bool {
    let text = body.to_lowercase();
    words.iter().any(|w| {
        text.match_indices(w.as_str()).any(|(i, _)| {
            let before = text[..i].chars().next_back();
            let after = text[i + w.len()..].chars().next();
            before.is_none_or(|c| !c.is_alphanumeric()) && after.is_none_or(|c| !c.is_alphanumeric())
        })
    })
}

/// Reacts to a lead's events; then plans what is due next. `now` is the caller's clock.
#[allow(clippy::too_many_arguments)]
pub fn react(
    record: &mut FollowUps,
    events: &[LeadEvent],
    lead: &Lead<'_>,
    workflows: &Workflows,
    time: &dyn TimeRules,
    opt_outs: &dyn OptOuts,
    now: Timestamp,
) -> Effects {
    let mut fx = Effects::default();
    let name = lead.row.name.clone();
    for event in events {
        match event {
            LeadEvent::NewLead => {
                if lead.row.temperature == leadline_shared::domain::Temperature::Hot {
                    fx.alerts.push(Alert::HotLeadArrived {
                        contact_id: record.contact_id.clone(),
                        name: name.clone(),
                    });
                }
                start(record, workflows, lead, now, now, &mut fx, |t| matches!(t, Trigger::NewLead));
            }
            LeadEvent::Inbound { message_id, body, at } => {
                if let Some(phrase) = opt_outs.opt_out(body) {
                    opt_out(record, message_id, &phrase, *at, now, &name, &mut fx);
                    continue;
                }
                for e in record.enrollments.iter_mut().filter(|e| e.state.is_current()) {
                    let Some(w) = workflows.get(&e.workflow) else { continue };
                    if w.exit.on_reply {
                        e.state = EnrollmentState::Ended { reason: "the lead replied".into(), at: now };
                    } else if w.pause_on_reply && e.state == EnrollmentState::Active {
                        e.state = EnrollmentState::Paused { reason: "the lead replied".into(), at: now };
                    }
                }
                cancel_where(record, "the lead replied", now, |e| {
                    !matches!(e.state, EnrollmentState::Active)
                });
                if lead.row.temperature == leadline_shared::domain::Temperature::Hot {
                    fx.alerts.push(Alert::HotLeadReplied {
                        contact_id: record.contact_id.clone(),
                        name: name.clone(),
                        body: body.clone(),
                    });
                }
                start(
                    record,
                    workflows,
                    lead,
                    now,
                    *at,
                    &mut fx,
                    |t| matches!(t, Trigger::Keyword { words } if words_match(words, body)),
                );
            }
            LeadEvent::Outbound { at, by_engine, .. } => {
                if !by_engine {
                    start(record, workflows, lead, now, *at, &mut fx, |t| {
                        matches!(t, Trigger::NoReply { .. })
                    });
                }
            }
            LeadEvent::ScoreRose { from, to } => {
                start(record, workflows, lead, now, now, &mut fx, |t| rise_fires(t, *from, *to));
            }
            LeadEvent::TagAdded(tag) => {
                for e in record.enrollments.iter_mut().filter(|e| e.state.is_current()) {
                    if workflows
                        .get(&e.workflow)
                        .is_some_and(|w| w.exit.tags.iter().any(|t| t.eq_ignore_ascii_case(tag)))
                    {
                        e.state = EnrollmentState::Ended { reason: format!("tagged {tag:?}"), at: now };
                    }
                }
                cancel_where(record, &format!("tagged {tag:?}"), now, |e| !e.state.is_current());
                start(
                    record,
                    workflows,
                    lead,
                    now,
                    now,
                    &mut fx,
                    |t| matches!(t, Trigger::TagAdded { tag: want } if want.eq_ignore_ascii_case(tag)),
                );
            }
            LeadEvent::TagRemoved(tag) => {
                start(
                    record,
                    workflows,
                    lead,
                    now,
                    now,
                    &mut fx,
                    |t| matches!(t, Trigger::TagRemoved { tag: want } if want.eq_ignore_ascii_case(tag)),
                );
            }
            LeadEvent::StageChanged { from, to } => {
                let stage = to.as_deref();
                let reason = format!("the deal moved to {}", stage.unwrap_or("no stage"));
                // A lead's first deal is GHL filing the lead (a form or an ad opens one in the
                // pipeline's first stage), not the agent moving it: it ends what exits there,
                // and pauses nothing.
                let first_deal = from.is_none();
                for e in record.enrollments.iter_mut().filter(|e| e.state.is_current()) {
                    let Some(w) = workflows.get(&e.workflow) else { continue };
                    if stage_matches(&w.exit.stages, stage) {
                        e.state = EnrollmentState::Ended { reason: reason.clone(), at: now };
                    } else if w.pause_on_stage_change && !first_deal && e.state == EnrollmentState::Active {
                        e.state = EnrollmentState::Paused { reason: reason.clone(), at: now };
                    }
                }
                cancel_where(record, &reason, now, |e| !matches!(e.state, EnrollmentState::Active));
                start(
                    record,
                    workflows,
                    lead,
                    now,
                    now,
                    &mut fx,
                    |t| matches!(t, Trigger::StageChanged { stage: want } if want.as_deref().is_none_or(|w| stage.is_some_and(|s| s.eq_ignore_ascii_case(w)))),
                );
            }
        }
    }
    plan_next(record, workflows, lead.contact, time, now);
    fx
}

/// Starts `record` on every workflow whose trigger `fires` and whose conditions hold, unless
/// the lead is in it already or opted out. `anchor` is what the steps count from.
/// Whether a score rising from `from` to `to` fires `trigger` (a `score_above` crossed).
fn rise_fires(trigger: &Trigger, from: u8, to: u8) -> bool {
    matches!(trigger, Trigger::ScoreAbove { score } if from < *score && to >= *score)
}

/// Whether a score rising from `from` to `to` may start a workflow: only then does the planner
/// need to hear of a rescore (`ScoreRose` is the one event a rescore alone can raise).
pub fn score_rise_may_start(workflows: &Workflows, from: u8, to: u8) -> bool {
    from < to && workflows.iter().any(|w| rise_fires(&w.trigger, from, to))
}

fn start(
    record: &mut FollowUps,
    workflows: &Workflows,
    lead: &Lead<'_>,
    now: Timestamp,
    anchor: Timestamp,
    fx: &mut Effects,
    fires: impl Fn(&Trigger) -> bool,
) {
    if record.opted_out.is_some() {
        return;
    }
    for w in workflows.iter().filter(|w| fires(&w.trigger)) {
        if record.enrollments.iter().any(|e| e.workflow == w.id && e.state.is_current()) {
            continue;
        }
        if !conditions_hold(&w.when, lead) {
            continue;
        }
        let anchor = match w.trigger {
            // A "no reply for N hours" workflow counts its steps from the message left
            // unanswered.
            Trigger::NoReply { .. } => anchor,
            _ => now.max(anchor),
        };
        record.enrollments.push(Enrollment {
            workflow: w.id.clone(),
            version: w.version,
            enrolled_at: now,
            anchor,
            next_step: 0,
            repeats: 0,
            state: EnrollmentState::Active,
        });
        fx.audit.push(format!("entered workflow {}", w.id));
    }
}

/// Cancels the open items of the enrollments `ended` picks.
/// Cancels the open items of the enrollments that `stopped` says stopped. A paused
/// enrollment is wound back to the step it had planned, so that resuming it plans that step
/// again rather than the one after.
fn cancel_where(record: &mut FollowUps, reason: &str, now: Timestamp, stopped: impl Fn(&Enrollment) -> bool) {
    let contact = record.contact_id.clone();
    for e in record.enrollments.iter_mut().filter(|e| stopped(e)) {
        let prefix = item_prefix(&contact, e);
        let paused = matches!(e.state, EnrollmentState::Paused { .. });
        for item in record.items.iter_mut().filter(|i| i.state.is_open() && !i.confirmation) {
            if item.id.starts_with(prefix.as_str()) {
                item.state = ItemState::Cancelled;
                item.reason = Some(reason.to_owned());
                item.updated_at = now;
                if paused {
                    rewind(e, &item.id[prefix.len()..]);
                }
            }
        }
    }
}

/// Winds an enrollment back to the step whose item id ends in `step_id` (`3`, or `9/r2` for
/// the second repeat after the last step).
fn rewind(e: &mut Enrollment, step_id: &str) {
    match step_id.split_once("/r") {
        Some((_, repeat)) => {
            if let Ok(n) = repeat.parse::<u32>() {
                e.repeats = e.repeats.min(n.saturating_sub(1));
            }
        }
        None => {
            if let Ok(step) = step_id.parse::<u32>() {
                e.next_step = e.next_step.min(step);
            }
        }
    }
}

fn opt_out(
    record: &mut FollowUps,
    message_id: &str,
    phrase: &str,
    at: Timestamp,
    now: Timestamp,
    name: &str,
    fx: &mut Effects,
) {
    if record.opted_out.is_some() {
        // One confirmation, ever, for one opt-out: a second STOP changes nothing.
        return;
    }
    record.opted_out =
        Some(OptOutRecord { at, phrase: phrase.to_owned(), message_id: message_id.to_owned() });
    let reason = format!("the lead opted out ({phrase:?})");
    for e in record.enrollments.iter_mut().filter(|e| e.state.is_current()) {
        e.state = EnrollmentState::Ended { reason: reason.clone(), at: now };
    }
    for item in record.items.iter_mut().filter(|i| i.state.is_open()) {
        item.state = ItemState::Cancelled;
        item.reason = Some(reason.clone());
        item.updated_at = now;
    }
    let action = StepAction::SendSms { template: OPT_OUT_CONFIRMATION.into() };
    let id = confirmation_id(&record.contact_id, message_id);
    let item = FollowUpItem::new(id, record.contact_id.clone(), "opt_out".into(), 0, action, now, now);
    record.items.push(FollowUpItem { confirmation: true, ..item });
    fx.audit.push(format!(
        "opted out by {phrase:?}: every workflow ended, one confirmation planned, then DND for SMS"
    ));
    fx.alerts.push(Alert::OptedOut {
        contact_id: record.contact_id.clone(),
        name: name.to_owned(),
        phrase: phrase.to_owned(),
    });
}

/// The id of the confirmation of the opt-out made by message `message_id`.
pub fn confirmation_id(contact_id: &str, message_id: &str) -> String {
    format!("{contact_id}/opt-out/{message_id}")
}

/// Whether a follow-up id is an opt-out's confirmation (ops carry only the id).
pub fn is_confirmation_id(id: &str) -> bool {
    id.split('/').nth(1) == Some("opt-out")
}

/// What the ids of an enrollment's items start with: one enrollment's plan never mixes with
/// another's, even in the same workflow.
pub fn item_prefix(contact_id: &str, e: &Enrollment) -> String {
    format!("{contact_id}/{}/{}/", e.workflow, e.enrolled_at.as_millisecond())
}

/// Plans the next step of each active workflow that has nothing open, and marks finished
/// workflows completed. Does nothing while the agent has the lead paused.
pub fn plan_next(
    record: &mut FollowUps,
    workflows: &Workflows,
    contact: &Contact,
    time: &dyn TimeRules,
    now: Timestamp,
) {
    if record.paused.is_some() || record.opted_out.is_some() {
        return;
    }
    for i in 0..record.enrollments.len() {
        let e = &record.enrollments[i];
        if e.state != EnrollmentState::Active {
            continue;
        }
        let Some(w) = workflows.get(&e.workflow) else {
            record.enrollments[i].state =
                EnrollmentState::Ended { reason: "the workflow no longer exists".into(), at: now };
            continue;
        };
        let prefix = item_prefix(&record.contact_id, e);
        if record.items.iter().any(|it| it.state.is_open() && it.id.starts_with(&prefix)) {
            continue;
        }
        let Some((action, offset)) = w.action_at(e.next_step, e.repeats) else {
            record.enrollments[i].state = EnrollmentState::Completed { at: now };
            continue;
        };
        let step_no = e.next_step;
        let id = if (step_no as usize) < w.steps.len() {
            format!("{prefix}{step_no}")
        } else {
            format!("{prefix}{step_no}/r{}", e.repeats + 1)
        };
        let business = w.steps.get(step_no as usize).is_some_and(|s| s.business_hours);
        let mut due = e.anchor + offset;
        if business {
            due = time.business_time(due);
        }
        let (at, timezone) = match action.channel() {
            Some(channel) => time.send_time(contact, channel, due.max(now)),
            None => (due.max(now), None),
        };
        let held = (at > due.max(now)).then(|| {
            format!("{}: outside the lead's allowed hours", super::queued_until(at, timezone.as_deref()))
        });
        let state = if w.mode == Mode::Approval && action.channel().is_some() {
            ItemState::AwaitingApproval
        } else {
            ItemState::Scheduled
        };
        let item = FollowUpItem {
            due_at: due,
            timezone,
            mode: w.mode,
            state,
            reason: held,
            ..FollowUpItem::new(id, record.contact_id.clone(), w.id.clone(), step_no, action.clone(), at, now)
        };
        let e = &mut record.enrollments[i];
        if (step_no as usize) < w.steps.len() {
            e.next_step += 1;
        } else {
            e.repeats += 1;
        }
        match record.items.iter_mut().find(|it| it.id == item.id) {
            // The same step again after a pause: it was cancelled, never sent, so it is planned
            // anew in its place.
            Some(old) if old.state == ItemState::Cancelled => *old = item,
            Some(_) => {}
            None => record.items.push(item),
        }
    }
    prune(record);
}

/// Keeps the newest finished items and drops the rest; sends older than a week are dropped
/// from the cap window.
fn prune(record: &mut FollowUps) {
    let finished = record.items.iter().filter(|i| i.state.is_final()).count();
    if finished > KEEP_FINISHED {
        let mut drop = finished - KEEP_FINISHED;
        record.items.retain(|i| {
            if drop > 0 && i.state.is_final() {
                drop -= 1;
                false
            } else {
                true
            }
        });
    }
}

/// The agent pauses every automated action for a lead: open actions are cancelled.
pub fn pause(record: &mut FollowUps, now: Timestamp) {
    if record.paused.is_some() {
        return;
    }
    let reason = "paused by the agent";
    record.paused = Some(leadline_shared::domain::Pause { at: now, reason: reason.into() });
    for e in record.enrollments.iter_mut().filter(|e| e.state == EnrollmentState::Active) {
        e.state = EnrollmentState::Paused { reason: reason.into(), at: now };
    }
    cancel_where(record, reason, now, |e| matches!(e.state, EnrollmentState::Paused { .. }));
}

/// The agent resumes a lead: its paused workflows run again from where they stood, counted
/// from now.
pub fn resume(
    record: &mut FollowUps,
    workflows: &Workflows,
    contact: &Contact,
    time: &dyn TimeRules,
    now: Timestamp,
) {
    record.paused = None;
    for e in record.enrollments.iter_mut() {
        if let EnrollmentState::Paused { at, .. } = e.state {
            // The steps keep their spacing: what was left is counted from now.
            e.anchor += now.duration_since(at);
            e.state = EnrollmentState::Active;
        }
    }
    plan_next(record, workflows, contact, time, now);
}

/// Whether `workflow` sends of its own (auto) rather than waiting for approval.
pub fn is_auto(workflows: &Workflows, workflow: &str) -> bool {
    workflows.get(workflow).is_some_and(|w: &Workflow| w.mode == Mode::Auto)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::followup::workflow::{DEFAULTS, TemplateCatalog};
    use leadline_shared::domain::{LeadSummary, Temperature};

    struct Any;
    impl TemplateCatalog for Any {
        fn channel_of(&self, id: &str) -> Option<&'static str> {
            Some(if id.ends_with("email") { "email" } else { "sms" })
        }
    }

    /// Sends may go at any time, except before 08:00 UTC (a stand-in for quiet hours).
    struct Hours;
    impl TimeRules for Hours {
        fn send_time(&self, _: &Contact, _: &str, due: Timestamp) -> (Timestamp, Option<String>) {
            let day = due.as_second().div_euclid(86_400) * 86_400;
            let opens = Timestamp::from_second(day + 8 * 3_600).expect("ts");
            (due.max(opens), Some("UTC".into()))
        }
        fn business_time(&self, due: Timestamp) -> Timestamp {
            due
        }
    }

    struct Stop;
    impl OptOuts for Stop {
        fn opt_out(&self, text: &str) -> Option<String> {
            text.trim().eq_ignore_ascii_case("stop").then(|| "STOP".to_owned())
        }
    }

    fn t(h: i64) -> Timestamp {
        // Hours after 2026-01-05 00:00 UTC (a Monday).
        Timestamp::from_second(1_767_571_200 + h * 3_600).expect("ts")
    }

    fn workflows() -> Workflows {
        Workflows::load(DEFAULTS, None, &Any).expect("defaults")
    }

    fn contact() -> Contact {
        Contact {
            id: "c".into(),
            phone: Some("+12145550100".into()),
            email: Some("a@b.c".into()),
            ..Default::default()
        }
    }

    fn react_at(record: &mut FollowUps, events: &[LeadEvent], row: &LeadSummary, now: Timestamp) -> Effects {
        let c = contact();
        react(record, events, &Lead { contact: &c, row }, &workflows(), &Hours, &Stop, now)
    }

    fn open(record: &FollowUps) -> Vec<(&str, ItemState, Timestamp)> {
        record
            .items
            .iter()
            .filter(|i| i.state.is_open())
            .map(|i| (i.workflow.as_str(), i.state, i.at))
            .collect()
    }

    #[test]
    fn a_new_lead_gets_its_instant_response_in_its_allowed_hours() {
        let mut r = FollowUps::new("c");
        let row = LeadSummary::default();
        react_at(&mut r, &[LeadEvent::NewLead], &row, t(10));
        let instant = r.items.iter().find(|i| i.workflow == "instant_response").expect("planned");
        assert_eq!((instant.state, instant.at, instant.mode), (ItemState::Scheduled, t(10), Mode::Auto));
        // The nurture waits for approval.
        let nurture = r.items.iter().find(|i| i.workflow == "new_lead_nurture").expect("planned");
        assert_eq!((nurture.state, nurture.due_at), (ItemState::AwaitingApproval, t(11)));
        // At 02:00 the same lead's text waits for 08:00.
        let mut night = FollowUps::new("c");
        react_at(&mut night, &[LeadEvent::NewLead], &row, t(2));
        let instant = night.items.iter().find(|i| i.workflow == "instant_response").expect("planned");
        assert_eq!((instant.due_at, instant.at), (t(2), t(8)));
        let reason = instant.reason.as_deref().unwrap_or_default();
        assert!(
            reason.starts_with("queued until ") && reason.ends_with("outside the lead's allowed hours"),
            "{reason}"
        );
        // Planning again changes nothing: one plan, one id.
        let before = night.clone();
        react_at(&mut night, &[], &row, t(3));
        assert_eq!(night, before);
    }

    #[test]
    fn a_stop_ends_everything_and_plans_one_confirmation() {
        let mut r = FollowUps::new("c");
        let row = LeadSummary::default();
        react_at(&mut r, &[LeadEvent::NewLead], &row, t(10));
        let stop = LeadEvent::Inbound { message_id: "m9".into(), body: "Stop".into(), at: t(11) };
        let fx = react_at(&mut r, std::slice::from_ref(&stop), &row, t(11));
        assert!(matches!(fx.alerts.as_slice(), [Alert::OptedOut { .. }]));
        assert!(r.enrollments.iter().all(|e| !e.state.is_current()));
        let open = open(&r);
        assert_eq!(open, [("opt_out", ItemState::Scheduled, t(11))], "only the confirmation is left");
        // A second STOP plans nothing more; a new lead event starts nothing.
        react_at(&mut r, &[stop, LeadEvent::NewLead], &row, t(12));
        assert_eq!(r.items.iter().filter(|i| i.confirmation).count(), 1);
        assert_eq!(self::open(&r).len(), 1);
        let confirmation = r.items.iter().find(|i| i.confirmation).expect("planned");
        assert!(is_confirmation_id(&confirmation.id));
        assert!(r.items.iter().filter(|i| !i.confirmation).all(|i| !is_confirmation_id(&i.id)));
    }

    #[test]
    fn a_new_leads_first_deal_pauses_nothing_but_a_move_does() {
        let mut r = FollowUps::new("c");
        let row = LeadSummary::default();
        react_at(&mut r, &[LeadEvent::NewLead], &row, t(10));
        let state_of = |r: &FollowUps| state_of_after(r, "new_lead_nurture");
        // GHL files the new lead in the pipeline's first stage: the nurture goes on.
        let filed = LeadEvent::StageChanged { from: None, to: Some("New Lead".into()) };
        react_at(&mut r, &[filed], &row, t(10));
        assert!(matches!(state_of(&r), Some(EnrollmentState::Active)));
        assert!(r.items.iter().any(|i| i.workflow == "new_lead_nurture" && i.state.is_open()));
        // The agent moves the deal on: the nurture pauses.
        let moved = LeadEvent::StageChanged { from: Some("New Lead".into()), to: Some("Contacted".into()) };
        react_at(&mut r, &[moved], &row, t(11));
        assert!(matches!(state_of(&r), Some(EnrollmentState::Paused { .. })));
        assert!(!r.items.iter().any(|i| i.workflow == "new_lead_nurture" && i.state.is_open()));
    }

    #[test]
    fn a_reply_pauses_sequences_and_ends_silence_reengagement() {
        let mut r = FollowUps::new("c");
        let row = LeadSummary::default();
        react_at(&mut r, &[LeadEvent::NewLead], &row, t(10));
        // The agent texted; the lead goes quiet: re-engagement counts from that message.
        react_at(
            &mut r,
            &[LeadEvent::Outbound { message_id: "m1".into(), at: t(12), by_engine: false }],
            &row,
            t(12),
        );
        let silence = r.items.iter().find(|i| i.workflow == "silence_reengagement").expect("planned");
        assert_eq!(silence.due_at, t(12 + 24));
        // The engine's own texts do not restart it.
        let n = r.enrollments.len();
        react_at(
            &mut r,
            &[LeadEvent::Outbound { message_id: "m2".into(), at: t(13), by_engine: true }],
            &row,
            t(13),
        );
        assert_eq!(r.enrollments.len(), n);
        // The lead replies.
        react_at(
            &mut r,
            &[LeadEvent::Inbound { message_id: "m3".into(), body: "Yes still looking".into(), at: t(14) }],
            &row,
            t(14),
        );
        let state_of = |w: &str| r.enrollments.iter().find(|e| e.workflow == w).map(|e| e.state.clone());
        assert!(matches!(state_of("silence_reengagement"), Some(EnrollmentState::Ended { .. })));
        assert!(matches!(state_of("new_lead_nurture"), Some(EnrollmentState::Paused { .. })));
        assert!(open(&r).is_empty(), "nothing left planned: {:?}", open(&r));
        // The agent resumes: the nurture's remaining steps keep their spacing from now.
        let c = contact();
        resume(&mut r, &workflows(), &c, &Hours, t(20));
        assert!(matches!(state_of_after(&r, "new_lead_nurture"), Some(EnrollmentState::Active)));
        assert!(!open(&r).is_empty());
    }

    fn state_of_after(r: &FollowUps, w: &str) -> Option<EnrollmentState> {
        r.enrollments.iter().find(|e| e.workflow == w).map(|e| e.state.clone())
    }

    /// A rescore asks the planner only about a rise across a `score_above` (the default
    /// workflows' hot-lead fast track, at 50); `react` starts it on exactly those rises.
    #[test]
    fn only_a_rise_across_a_score_above_may_start_a_workflow() {
        let w = workflows();
        for (from, to, starts) in
            [(30, 65, true), (49, 50, true), (50, 90, false), (10, 49, false), (65, 30, false)]
        {
            assert_eq!(score_rise_may_start(&w, from, to), starts, "{from} → {to}");
            let mut r = FollowUps::new("c");
            let row = LeadSummary { score: to, ..LeadSummary::default() };
            react_at(&mut r, &[LeadEvent::ScoreRose { from, to }], &row, t(10));
            assert_eq!(!r.enrollments.is_empty(), starts, "{from} → {to} as react sees it");
        }
    }

    #[test]
    fn score_tag_stage_and_keyword_triggers() {
        let mut r = FollowUps::new("c");
        let hot = LeadSummary { score: 65, temperature: Temperature::Hot, ..LeadSummary::default() };
        react_at(&mut r, &[LeadEvent::ScoreRose { from: 30, to: 65 }], &hot, t(10));
        assert!(r.enrollments.iter().any(|e| e.workflow == "hot_lead_fast_track"));
        react_at(&mut r, &[LeadEvent::TagAdded("agent cadence".into())], &hot, t(10));
        let cadence = r.items.iter().find(|i| i.workflow == "agent_cadence").expect("planned");
        assert_eq!(cadence.due_at, t(10 + 48));
        let fx = react_at(
            &mut r,
            &[LeadEvent::Inbound {
                message_id: "m".into(),
                body: "Can we tour it Saturday?".into(),
                at: t(11),
            }],
            &hot,
            t(11),
        );
        assert!(r.enrollments.iter().any(|e| e.workflow == "showing_request"));
        assert!(matches!(fx.alerts.as_slice(), [Alert::HotLeadReplied { .. }]));
        react_at(
            &mut r,
            &[LeadEvent::StageChanged { from: None, to: Some("Under Contract".into()) }],
            &hot,
            t(12),
        );
        for w in ["agent_cadence", "hot_lead_fast_track"] {
            assert!(matches!(state_of_after(&r, w), Some(EnrollmentState::Ended { .. })), "{w}");
        }
    }

    #[test]
    fn the_cadence_runs_its_steps_then_its_repeats() {
        let w = workflows();
        let c = contact();
        let mut r = FollowUps::new("c");
        let row = LeadSummary::default();
        react_at(&mut r, &[LeadEvent::TagAdded("Agent Cadence".into())], &row, t(0));
        let mut days = Vec::new();
        for _ in 0..40 {
            let Some(item) = r.items.iter_mut().find(|i| i.state.is_open()) else { break };
            days.push(item.due_at.duration_since(t(0)).as_secs() / 86_400);
            item.state = ItemState::Sent;
            plan_next(&mut r, &w, &c, &Hours, t(0));
        }
        assert_eq!(days.len(), 20, "10 steps and 10 repeats: {days:?}");
        assert_eq!(&days[..10], [2, 5, 8, 11, 14, 17, 20, 23, 26, 29]);
        assert_eq!(days[10..], [43, 57, 71, 85, 99, 113, 127, 141, 155, 169]);
        assert!(matches!(state_of_after(&r, "agent_cadence"), Some(EnrollmentState::Completed { .. })));
    }

    #[test]
    fn a_paused_lead_has_nothing_planned_and_keeps_few_finished_items() {
        let w = workflows();
        let c = contact();
        let mut r = FollowUps::new("c");
        let row = LeadSummary::default();
        react_at(&mut r, &[LeadEvent::NewLead], &row, t(10));
        pause(&mut r, t(10));
        assert!(open(&r).is_empty());
        plan_next(&mut r, &w, &c, &Hours, t(11));
        assert!(open(&r).is_empty(), "nothing is planned while paused");
        for n in 0..(KEEP_FINISHED + 20) {
            let mut done = r.items[0].clone();
            done.id = format!("old/{n}");
            done.state = ItemState::Sent;
            r.items.push(done);
        }
        prune(&mut r);
        assert_eq!(r.items.iter().filter(|i| i.state.is_final()).count(), KEEP_FINISHED);
    }

    #[test]
    fn resuming_plans_again_the_step_the_pause_cancelled_counted_from_the_resume() {
        let w = workflows();
        let c = contact();
        let mut r = FollowUps::new("c");
        let row = LeadSummary::default();
        react_at(&mut r, &[LeadEvent::NewLead], &row, t(10));
        let nurture = |r: &FollowUps| {
            r.items
                .iter()
                .filter(|i| i.workflow == "new_lead_nurture")
                .map(|i| (i.id.clone(), i.state, i.due_at))
                .collect::<Vec<_>>()
        };
        let planned = nurture(&r);
        let [(first_id, ItemState::AwaitingApproval, first_due)] = planned.as_slice() else {
            panic!("one nurture step planned: {planned:?}")
        };
        let (first_id, first_due) = (first_id.clone(), *first_due);
        pause(&mut r, t(10));
        assert!(open(&r).is_empty());
        // Resumed 5 hours later: the same step, 5 hours later, in the same item.
        resume(&mut r, &w, &c, &Hours, t(15));
        let planned = nurture(&r);
        assert_eq!(planned.len(), 1, "the step is planned in its old item's place: {planned:?}");
        assert_eq!(planned[0].0, first_id);
        assert_eq!(planned[0].1, ItemState::AwaitingApproval);
        assert_eq!(planned[0].2, first_due + jiff::SignedDuration::from_hours(5));
        // A reply pauses it the same way; the agent's resume brings the step back too.
        let reply =
            LeadEvent::Inbound { message_id: "m3".into(), body: "Yes still looking".into(), at: t(16) };
        react_at(&mut r, &[reply], &row, t(16));
        assert!(nurture(&r).iter().all(|(_, s, _)| *s == ItemState::Cancelled));
        resume(&mut r, &w, &c, &Hours, t(17));
        assert_eq!(nurture(&r).iter().filter(|(_, s, _)| s.is_open()).count(), 1);
        assert_eq!(nurture(&r)[0].0, first_id);
    }
}
