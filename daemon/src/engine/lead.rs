//! Derives a lead's queue row from its records. Pure: the caller gathers the inputs.

use jiff::Timestamp;
use leadline_shared::domain::{
    CallStats, Contact, Direction, FollowUps, LeadSummary, Message, Opportunity, OpportunityStatus, Pipeline,
    Score, Temperature,
};

/// Everything a lead's row is derived from.
pub struct LeadInputs<'a> {
    pub contact: &'a Contact,
    /// The contact's messages, oldest first.
    pub messages: &'a [Message],
    pub opportunities: &'a [Opportunity],
    pub pipelines: &'a [Pipeline],
    pub score: &'a Score,
    pub follow_up: Option<&'a FollowUps>,
    /// Buyer or seller, from a custom field.
    pub lead_type: Option<String>,
}

/// Builds the queue row.
pub fn summarize(inputs: &LeadInputs<'_>) -> LeadSummary {
    let c = inputs.contact;
    let talk: Vec<&Message> = inputs.messages.iter().filter(|m| m.is_conversational()).collect();
    let last_message_at = talk.iter().filter_map(|m| m.date_added).max();
    let first_outbound_at =
        talk.iter().filter(|m| m.direction == Direction::Outbound).filter_map(|m| m.date_added).min();
    let last_activity = [c.last_activity, last_message_at, c.date_added].into_iter().flatten().max();
    let deal = main_deal(inputs.opportunities);
    let pipeline = deal.and_then(|d| inputs.pipelines.iter().find(|p| p.id == d.pipeline_id));
    let stage = match (deal, pipeline) {
        (Some(d), _) if d.status != OpportunityStatus::Open => Some(status_label(d.status).to_owned()),
        (Some(d), Some(p)) => p.stage_name(&d.pipeline_stage_id).map(str::to_owned),
        _ => None,
    };
    let mut row = LeadSummary {
        id: c.id.clone(),
        name: c.display_name(),
        // Set below from the score.
        score: 0,
        scored_by: String::new(),
        temperature: Temperature::Cold,
        answered: 0,
        source: c.source.clone().filter(|s| !s.is_empty()),
        lead_type: inputs.lead_type.clone().or_else(|| lead_type_from_tags(&c.tags)),
        pipeline: pipeline.map(|p| p.name.clone()),
        stage,
        phone: c.phone.clone(),
        email: c.email.clone(),
        timezone: c.timezone.clone(),
        tags: c.tags.clone(),
        date_added: c.date_added,
        last_activity,
        awaiting_reply_since: awaiting_reply_since(&talk),
        first_outbound_at,
        next_followup_at: inputs.follow_up.and_then(FollowUps::next_due),
        sms_blocked: !c.channel_allowed("SMS"),
        message_count: talk.len() as u32,
        assigned_to: c.assigned_to.clone().filter(|s| !s.is_empty()),
        appointment: inputs.messages.iter().any(is_appointment_activity)
            || inputs.opportunities.iter().any(|o| past_appointment(o, inputs.pipelines)),
        won_value: won_value(inputs.opportunities),
        calls: call_stats(inputs.messages),
        open_value: open_value(inputs.opportunities),
        inbound_count: talk.iter().filter(|m| m.direction == Direction::Inbound).count() as u32,
        stage_since: deal
            .filter(|d| d.status == OpportunityStatus::Open)
            .and_then(|d| d.last_stage_change_at.or(d.created_at)),
        // Set by the writer, which knows the time and the configuration
        // (`engine::priority::stamp`).
        priority: 0,
        churn_risk: 0,
        value_at_risk: 0.0,
    };
    show_score(&mut row, inputs.score);
    row
}

/// Sets what a row shows of its score: the only fields of a row that depend on it, so a full
/// rescore gives a stored row a new score without its records (`Ingest::rescore_all`).
pub fn show_score(row: &mut LeadSummary, score: &Score) {
    row.score = score.value;
    row.scored_by = score.model.clone();
    row.temperature = score.temperature;
    row.answered = score.qualification.answered_count();
}

/// GHL logs a booked appointment in the conversation as an activity entry.
fn is_appointment_activity(m: &Message) -> bool {
    m.message_type.as_deref().is_some_and(|t| t.eq_ignore_ascii_case("TYPE_ACTIVITY_APPOINTMENT"))
}

/// Whether a stage name is the pipeline's appointment step (real-estate pipelines call it
/// "Appointment Set" for sellers and "Showing" for buyers).
pub fn is_appointment_stage(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.contains("appointment") || n.contains("showing")
}

/// Whether a deal sits at or past its pipeline's appointment stage. A won deal went through
/// every stage; a lost or abandoned one is judged by the stage GHL left it at.
fn past_appointment(o: &Opportunity, pipelines: &[Pipeline]) -> bool {
    if o.status == OpportunityStatus::Won {
        return true;
    }
    let Some(p) = pipelines.iter().find(|p| p.id == o.pipeline_id) else { return false };
    let position = |id: &str| {
        p.stages.iter().enumerate().find(|(_, s)| s.id == id).map(|(i, s)| s.position.unwrap_or(i as i64))
    };
    let Some(at) = position(&o.pipeline_stage_id) else { return false };
    p.stages
        .iter()
        .enumerate()
        .filter(|(_, s)| is_appointment_stage(&s.name))
        .map(|(i, s)| s.position.unwrap_or(i as i64))
        .min()
        .is_some_and(|first| at >= first)
}

/// The summed value of the won deals, `None` when no deal is won.
fn won_value(opps: &[Opportunity]) -> Option<f64> {
    let won: Vec<&Opportunity> = opps.iter().filter(|o| o.status == OpportunityStatus::Won).collect();
    (!won.is_empty()).then(|| won.iter().filter_map(|o| o.monetary_value).filter(|v| v.is_finite()).sum())
}

/// The summed value of the open deals that have one (a deal valued 0 is "not valued yet").
fn open_value(opps: &[Opportunity]) -> Option<f64> {
    let values: Vec<f64> = opps
        .iter()
        .filter(|o| o.status == OpportunityStatus::Open)
        .filter_map(|o| o.monetary_value)
        .filter(|v| v.is_finite() && *v > 0.0)
        .collect();
    (!values.is_empty()).then(|| values.iter().sum())
}

/// Calls either way, the connected ones and their talk time.
fn call_stats(messages: &[Message]) -> CallStats {
    let mut stats = CallStats::default();
    for m in messages.iter().filter(|m| m.channel() == "call") {
        stats.calls += 1;
        if let Some(meta) = m.meta.as_ref().filter(|meta| meta.call_connected()) {
            stats.connected += 1;
            stats.talk_seconds += meta.call_duration.unwrap_or(0);
        }
    }
    stats
}

/// The open deal changed most recently, else the most recent deal of any status.
fn main_deal(opps: &[Opportunity]) -> Option<&Opportunity> {
    let recency = |o: &&Opportunity| o.updated_at.or(o.created_at);
    opps.iter()
        .filter(|o| o.status == OpportunityStatus::Open)
        .max_by_key(recency)
        .or_else(|| opps.iter().max_by_key(recency))
}

fn status_label(status: OpportunityStatus) -> &'static str {
    match status {
        OpportunityStatus::Won => "Won",
        OpportunityStatus::Lost => "Lost",
        OpportunityStatus::Abandoned => "Abandoned",
        OpportunityStatus::Open | OpportunityStatus::Other => "Open",
    }
}

fn lead_type_from_tags(tags: &[String]) -> Option<String> {
    tags.iter().find_map(|t| {
        let t = t.to_ascii_lowercase();
        if t.contains("seller") {
            Some("seller".to_owned())
        } else if t.contains("buyer") {
            Some("buyer".to_owned())
        } else {
            None
        }
    })
}

/// When the lead started waiting: the first inbound message after our last outbound one,
/// if the conversation ends on their side.
fn awaiting_reply_since(talk: &[&Message]) -> Option<Timestamp> {
    let last_outbound = talk.iter().rposition(|m| m.direction == Direction::Outbound);
    let waiting = match last_outbound {
        Some(i) => &talk[i + 1..],
        None => talk,
    };
    waiting.iter().filter(|m| m.direction == Direction::Inbound).filter_map(|m| m.date_added).min()
}

#[cfg(test)]
mod tests {
    use super::*;
    use leadline_shared::domain::{Stage, Temperature};

    fn msg(s: i64, dir: Direction) -> Message {
        Message {
            id: s.to_string(),
            date_added: Timestamp::from_second(s).ok(),
            direction: dir,
            message_type: Some("TYPE_SMS".into()),
            ..Default::default()
        }
    }

    fn summarize_with(messages: &[Message], opps: &[Opportunity]) -> LeadSummary {
        let contact = Contact {
            id: "c".into(),
            first_name: Some("Ana".into()),
            date_added: Timestamp::from_second(1).ok(),
            tags: vec!["Buyer-Lead".into()],
            ..Default::default()
        };
        let pipelines = [Pipeline {
            id: "p".into(),
            name: "Buyer".into(),
            stages: vec![Stage { id: "s".into(), name: "Showing".into(), position: Some(3) }],
            ..Default::default()
        }];
        let score = Score { value: 50, temperature: Temperature::Hot, ..Default::default() };
        summarize(&LeadInputs {
            contact: &contact,
            messages,
            opportunities: opps,
            pipelines: &pipelines,
            score: &score,
            follow_up: None,
            lead_type: None,
        })
    }

    #[test]
    fn a_new_lead_is_uncontacted_and_not_waiting() {
        let l = summarize_with(&[], &[]);
        assert_eq!((l.name.as_str(), l.score, l.lead_type.as_deref()), ("Ana", 50, Some("buyer")));
        assert_eq!((l.first_outbound_at, l.awaiting_reply_since), (None, None));
        assert_eq!(l.last_activity, Timestamp::from_second(1).ok());
    }

    #[test]
    fn waiting_starts_at_the_first_unanswered_inbound() {
        let talk = [
            msg(10, Direction::Inbound),
            msg(20, Direction::Outbound),
            msg(30, Direction::Inbound),
            msg(40, Direction::Inbound),
        ];
        let l = summarize_with(&talk, &[]);
        assert_eq!(l.awaiting_reply_since, Timestamp::from_second(30).ok());
        assert_eq!(l.first_outbound_at, Timestamp::from_second(20).ok());
        assert_eq!(l.last_activity, Timestamp::from_second(40).ok());
        let answered = summarize_with(&talk[..2], &[]);
        assert_eq!(answered.awaiting_reply_since, None);
    }

    #[test]
    fn only_messages_between_lead_and_team_count() {
        let typed = |s: i64, dir: Direction, t: &str| Message { message_type: Some(t.into()), ..msg(s, dir) };
        let talk = [
            msg(10, Direction::Outbound),
            // A reaction to our text, an internal note between agents, a deal moving, a form:
            // none is the lead waiting for us, nor us reaching the lead.
            typed(20, Direction::Inbound, "TYPE_SMS_REACTION"),
            typed(30, Direction::Outbound, "TYPE_INTERNAL_COMMENT"),
            typed(40, Direction::Outbound, "TYPE_ACTIVITY_OPPORTUNITY"),
            typed(50, Direction::Inbound, "TYPE_FORM_SUBMISSION"),
        ];
        let l = summarize_with(&talk, &[]);
        assert_eq!(l.awaiting_reply_since, None);
        assert_eq!(l.message_count, 1);
        assert_eq!(l.last_activity, Timestamp::from_second(10).ok());
        let internal_only = summarize_with(&talk[2..4], &[]);
        assert_eq!(internal_only.first_outbound_at, None, "an internal comment is no contact with the lead");
        // A photo texted in, with no body, is a reply that waits for us.
        let photo = Message { body: None, ..msg(60, Direction::Inbound) };
        let l = summarize_with(&[msg(10, Direction::Outbound), photo], &[]);
        assert_eq!(l.awaiting_reply_since, Timestamp::from_second(60).ok());
    }

    #[test]
    fn stage_comes_from_the_open_deal() {
        let open = Opportunity {
            id: "o1".into(),
            pipeline_id: "p".into(),
            pipeline_stage_id: "s".into(),
            ..Default::default()
        };
        let won = Opportunity {
            id: "o2".into(),
            status: OpportunityStatus::Won,
            updated_at: Timestamp::from_second(99).ok(),
            ..Default::default()
        };
        let l = summarize_with(&[], &[won.clone(), open]);
        assert_eq!((l.pipeline.as_deref(), l.stage.as_deref()), (Some("Buyer"), Some("Showing")));
        assert_eq!(summarize_with(&[], &[won]).stage.as_deref(), Some("Won"));
    }

    #[test]
    fn calls_appointments_and_won_value_come_from_messages_and_deals() {
        use leadline_shared::domain::MessageMeta;
        let call = |s: i64, status: &str, secs: u64| Message {
            message_type: Some("TYPE_CALL".into()),
            meta: Some(MessageMeta { call_status: Some(status.into()), call_duration: Some(secs) }),
            ..msg(s, Direction::Outbound)
        };
        // Three calls: one talked 120 s, one voicemail of 30 s (not a person), one no-answer.
        let talk = [call(10, "completed", 120), call(20, "voicemail", 30), call(30, "no-answer", 0)];
        let l = summarize_with(&talk, &[]);
        assert_eq!(l.calls, CallStats { calls: 3, connected: 1, talk_seconds: 120 });
        assert!(!l.appointment);
        assert_eq!(l.won_value, None);
        let booked = Message {
            message_type: Some("TYPE_ACTIVITY_APPOINTMENT".into()),
            ..msg(40, Direction::Outbound)
        };
        assert!(summarize_with(&[booked], &[]).appointment);
        // The deal at "Showing" (the only stage, so the appointment stage) is past it.
        let at_showing = Opportunity {
            id: "o".into(),
            pipeline_id: "p".into(),
            pipeline_stage_id: "s".into(),
            ..Default::default()
        };
        assert!(summarize_with(&[], &[at_showing]).appointment);
        let won = |v: f64| Opportunity {
            id: format!("w{v}"),
            status: OpportunityStatus::Won,
            monetary_value: Some(v),
            ..Default::default()
        };
        assert_eq!(summarize_with(&[], &[won(100.0), won(250.0)]).won_value, Some(350.0));
    }
}
