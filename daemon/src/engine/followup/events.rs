//! What happened to a lead, as the follow-up engine sees it: the difference between what the
//! store held and what a page brings. Pure.
//!
//! Only live events count. A location synced for the first time holds years of history:
//! leads added long ago, replies from last spring. None of that may start a workflow, or the
//! first sync would text thousands of people at once. An event is live when it happened after
//! `live_since` (the moment Leadline first started syncing the location) less a grace period;
//! a change seen in a record Leadline held before (a tag, a stage, a score) is live by nature.

use jiff::{SignedDuration, Timestamp};
use leadline_shared::domain::{Contact, Direction, LeadSummary, Message};

/// How far before `live_since` an event still counts: a lead that arrived while the first
/// sync ran is still new.
pub const LIVE_GRACE: SignedDuration = SignedDuration::from_secs(15 * 60);

/// Something that happened to a lead.
#[derive(Debug, Clone, PartialEq)]
pub enum LeadEvent {
    /// The lead is new to the location.
    NewLead,
    /// The lead wrote to us.
    Inbound {
        message_id: String,
        body: String,
        at: Timestamp,
    },
    /// Someone (or the engine) wrote to the lead.
    Outbound {
        message_id: String,
        at: Timestamp,
        by_engine: bool,
    },
    /// The score rose.
    ScoreRose {
        from: u8,
        to: u8,
    },
    TagAdded(String),
    TagRemoved(String),
    /// The lead's deal moved (its stage name or status label; `None`: no deal any more).
    StageChanged {
        from: Option<String>,
        to: Option<String>,
    },
}

/// The events between the stored state of a lead and the state a page brings.
///
/// `old_*` are what the store held (`None` for a lead it did not have), `new_messages` the
/// conversational messages of the page that the store did not hold yet, and `engine_sent`
/// tells whether a message is one the engine sent itself.
pub fn events(
    old_row: Option<&LeadSummary>,
    new_row: &LeadSummary,
    old_contact: Option<&Contact>,
    new_contact: &Contact,
    new_messages: &[&Message],
    live_since: Option<Timestamp>,
    engine_sent: &dyn Fn(&Message) -> bool,
) -> Vec<LeadEvent> {
    let Some(live_since) = live_since else {
        return Vec::new();
    };
    let live_from = live_since - LIVE_GRACE;
    let live = |t: Option<Timestamp>| t.is_some_and(|t| t >= live_from);
    let mut out = Vec::new();
    if old_contact.is_none() && live(new_contact.date_added) {
        out.push(LeadEvent::NewLead);
    }
    let mut messages: Vec<&&Message> =
        new_messages.iter().filter(|m| m.is_conversational() && live(m.date_added)).collect();
    messages.sort_by_key(|m| m.date_added);
    for m in messages {
        let at = m.date_added.unwrap_or(live_since);
        match m.direction {
            Direction::Inbound => out.push(LeadEvent::Inbound {
                message_id: m.id.clone(),
                body: m.body.clone().unwrap_or_default(),
                at,
            }),
            Direction::Outbound => {
                out.push(LeadEvent::Outbound { message_id: m.id.clone(), at, by_engine: engine_sent(m) })
            }
            Direction::Unknown => {}
        }
    }
    // Changes to a record held before are live: the store saw the old value.
    if let (Some(old), Some(old_c)) = (old_row, old_contact) {
        if new_row.score > old.score {
            out.push(LeadEvent::ScoreRose { from: old.score, to: new_row.score });
        }
        for tag in &new_contact.tags {
            if !old_c.tags.iter().any(|t| t.eq_ignore_ascii_case(tag)) {
                out.push(LeadEvent::TagAdded(tag.clone()));
            }
        }
        for tag in &old_c.tags {
            if !new_contact.tags.iter().any(|t| t.eq_ignore_ascii_case(tag)) {
                out.push(LeadEvent::TagRemoved(tag.clone()));
            }
        }
        if new_row.stage != old.stage {
            out.push(LeadEvent::StageChanged { from: old.stage.clone(), to: new_row.stage.clone() });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: i64) -> Timestamp {
        Timestamp::from_second(s).expect("ts")
    }

    fn contact(added: i64, tags: &[&str]) -> Contact {
        Contact {
            id: "c".into(),
            date_added: Some(ts(added)),
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            ..Default::default()
        }
    }

    fn msg(id: &str, at: i64, dir: Direction, body: &str) -> Message {
        Message {
            id: id.into(),
            contact_id: "c".into(),
            date_added: Some(ts(at)),
            direction: dir,
            message_type: Some("TYPE_SMS".into()),
            body: Some(body.into()),
            ..Default::default()
        }
    }

    const LIVE: i64 = 1_000_000;

    #[test]
    fn history_is_not_an_event() {
        let row = LeadSummary { score: 80, ..Default::default() };
        let old = msg("m", LIVE - 86_400, Direction::Inbound, "hi");
        let none = |_: &Message| false;
        let e = events(None, &row, None, &contact(LIVE - 90 * 86_400, &[]), &[&old], Some(ts(LIVE)), &none);
        assert!(e.is_empty(), "{e:?}");
        // Before the engine ever went live, nothing is.
        let fresh = msg("n", LIVE, Direction::Inbound, "hi");
        assert!(events(None, &row, None, &contact(LIVE, &[]), &[&fresh], None, &none).is_empty());
    }

    #[test]
    fn a_new_lead_and_its_messages_are() {
        let row = LeadSummary::default();
        let reply = msg("m2", LIVE + 60, Direction::Inbound, "yes please");
        let ours = msg("m1", LIVE + 30, Direction::Outbound, "Hi!");
        let react = msg("m3", LIVE + 90, Direction::Inbound, "Liked");
        let react = Message { message_type: Some("TYPE_SMS_REACTION".into()), ..react };
        let sent_by_engine = |m: &Message| m.id == "m1";
        let e = events(
            None,
            &row,
            None,
            &contact(LIVE - 60, &[]),
            &[&reply, &ours, &react],
            Some(ts(LIVE)),
            &sent_by_engine,
        );
        assert_eq!(
            e,
            [
                LeadEvent::NewLead,
                LeadEvent::Outbound { message_id: "m1".into(), at: ts(LIVE + 30), by_engine: true },
                LeadEvent::Inbound { message_id: "m2".into(), body: "yes please".into(), at: ts(LIVE + 60) },
            ]
        );
    }

    #[test]
    fn changes_to_a_known_lead_are() {
        let old_row = LeadSummary { score: 30, stage: Some("New Lead".into()), ..Default::default() };
        let new_row = LeadSummary { score: 65, stage: Some("Showing".into()), ..Default::default() };
        let none = |_: &Message| false;
        let e = events(
            Some(&old_row),
            &new_row,
            Some(&contact(1, &["Buyer-Lead", "Cold Lead"])),
            &contact(1, &["buyer-lead", "Agent Cadence"]),
            &[],
            Some(ts(LIVE)),
            &none,
        );
        assert_eq!(
            e,
            [
                LeadEvent::ScoreRose { from: 30, to: 65 },
                LeadEvent::TagAdded("Agent Cadence".into()),
                LeadEvent::TagRemoved("Cold Lead".into()),
                LeadEvent::StageChanged { from: Some("New Lead".into()), to: Some("Showing".into()) },
            ]
        );
    }
}
