//! A lead's feature row for the conversion model, derived from what ingest already holds for
//! the lead (its contact, messages, deals and qualification), as of one instant.
//!
//! Scoring derives the row as of now, for the leads a page touches (`ingest::rescore_into`);
//! training derives it as of each closed deal's close, from the messages before it
//! ([`crate::intel`]), so the model learns from what was known before the outcome.
//!
//! The row is handed to [`crate::model::features::Encoder`] as text cells under
//! [`HEADER`]; a number that does not exist (no reply yet) is an empty cell, which the encoder
//! reads as missing.

use jiff::Timestamp;
use leadline_shared::domain::{
    Contact, Direction, Message, Opportunity, OpportunityStatus, Pipeline, Qualification, QualificationItem,
};

/// The columns of a feature row, in [`FeatureRow::cells`] order.
pub const HEADER: [&str; 27] = [
    "answered",
    "q_budget",
    "q_location",
    "q_timeline",
    "q_property",
    "q_financing",
    "q_motivation",
    "q_home_condition",
    "inbound",
    "outbound",
    "inbound_questions",
    "reply_rate",
    "reply_minutes",
    "days_since_reply",
    "days_since_contact",
    "sms_share",
    "email_share",
    "calls",
    "connected_calls",
    "opted_out",
    "days_since_arrival",
    "tags",
    "source",
    "lead_type",
    "pipeline",
    "deal_value",
    "stage_position",
];

/// Columns the model is never trained on: a closed deal's stage is the stage it closed at (a
/// won deal sits at the last one), so history says nothing about an open deal's stage without
/// leaking the outcome. They stay in the row for people and for the rules.
pub const LEAKS_OUTCOME: [&str; 1] = ["stage_position"];

/// What the row is derived from.
pub struct FeatureInputs<'a> {
    pub contact: &'a Contact,
    /// The lead's messages, any order; those after `as_of` are ignored.
    pub messages: &'a [Message],
    /// The deal the row describes (the open main deal when scoring, the closed deal when
    /// training), if any.
    pub deal: Option<&'a Opportunity>,
    pub pipelines: &'a [Pipeline],
    pub qualification: &'a Qualification,
    /// Buyer or seller, when known.
    pub lead_type: Option<&'a str>,
    /// The instant the row describes.
    pub as_of: Timestamp,
}

/// One lead's features. `NaN` is "not known" (e.g. no reply yet, so no reply speed).
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureRow {
    /// Qualifying questions answered (0–7), and each one as 0/1.
    pub answered: f64,
    pub questions: [f64; 7],
    /// Conversational messages from the lead, and to the lead.
    pub inbound: f64,
    pub outbound: f64,
    /// Inbound messages that ask something (hold a `?`).
    pub inbound_questions: f64,
    /// Replies per outbound message: the lead's answers (a message of the lead's ending a wait
    /// that one or more outbound messages began) over all outbound messages; `NaN` before the
    /// first outbound.
    pub reply_rate: f64,
    /// The median minutes from an answered outbound message to the lead's answer.
    pub reply_minutes: f64,
    /// Whole days from the lead's last message to `as_of`.
    pub days_since_reply: f64,
    /// Whole days from the last conversational message either way to `as_of`.
    pub days_since_contact: f64,
    /// Shares of the conversational messages that are texts and emails (the channel mix).
    pub sms_share: f64,
    pub email_share: f64,
    /// Calls either way, and those that reached a person.
    pub calls: f64,
    pub connected_calls: f64,
    /// The lead texted an opt-out (STOP and kin).
    pub opted_out: f64,
    /// Whole days from the contact's arrival to `as_of`.
    pub days_since_arrival: f64,
    /// How many tags the contact carries.
    pub tags: f64,
    pub source: Option<String>,
    pub lead_type: Option<String>,
    /// The deal's pipeline name.
    pub pipeline: Option<String>,
    pub deal_value: f64,
    /// The deal's stage as a share of its pipeline (0 = first stage, 1 = last).
    pub stage_position: f64,
}

const MINUTE: f64 = 60.0;
const DAY: f64 = 86_400.0;

/// The lead's features as of `inputs.as_of`.
pub fn derive(inputs: &FeatureInputs<'_>) -> FeatureRow {
    derive_timed(inputs).row
}

/// A feature row with the instants its day counts are measured from, so that it can be read
/// as of any later time ([`TimedFeatures::at`]) without the records it came from: what a full
/// rescore evaluates.
#[derive(Debug, Clone, PartialEq)]
pub struct TimedFeatures {
    /// The row as of the time it was derived.
    pub row: FeatureRow,
    /// The lead's last message (`days_since_reply`).
    pub last_inbound: Option<Timestamp>,
    /// The last conversational message either way (`days_since_contact`).
    pub last_any: Option<Timestamp>,
    /// The contact's arrival (`days_since_arrival`).
    pub arrival: Option<Timestamp>,
    /// The first conversational message dated after the derivation (a clock ahead of ours, a
    /// scheduled send), which the row leaves out until then.
    pub next_message: Option<Timestamp>,
}

impl TimedFeatures {
    /// Whether [`TimedFeatures::at`] gives what [`derive`] would at `as_of`: no message the row
    /// left out is dated by then.
    pub fn holds_at(&self, as_of: Timestamp) -> bool {
        self.next_message.is_none_or(|t| t > as_of)
    }

    /// The row as of `as_of`: the day counts measured again, the rest as derived. Equal to
    /// [`derive`] at `as_of` while [`TimedFeatures::holds_at`] it.
    pub fn at(&self, as_of: Timestamp) -> FeatureRow {
        FeatureRow {
            days_since_reply: days_to(self.last_inbound, as_of),
            days_since_contact: days_to(self.last_any, as_of),
            days_since_arrival: days_to(self.arrival, as_of),
            ..self.row.clone()
        }
    }
}

/// Whole days from `t` to `as_of`, `NaN` without `t`. Whole days: a score moves once a day as
/// time passes, not at every rescore (a lead whose score is unchanged costs no write).
fn days_to(t: Option<Timestamp>, as_of: Timestamp) -> f64 {
    t.map_or(f64::NAN, |t| (seconds(t, as_of) / DAY).floor())
}

/// [`derive`], with the instants of its day counts.
pub fn derive_timed(inputs: &FeatureInputs<'_>) -> TimedFeatures {
    let as_of = inputs.as_of;
    let mut talk: Vec<&Message> = inputs
        .messages
        .iter()
        .filter(|m| m.is_conversational() && m.date_added.is_none_or(|t| t <= as_of))
        .collect();
    talk.sort_by_key(|m| m.date_added);

    let q = inputs.qualification;
    let mut questions = [0.0; 7];
    for (slot, item) in questions.iter_mut().zip(QualificationItem::ALL) {
        *slot = if q.get(item).is_some() { 1.0 } else { 0.0 };
    }

    let (mut inbound, mut outbound, mut asking, mut sms, mut email) =
        (0usize, 0usize, 0usize, 0usize, 0usize);
    let (mut calls, mut connected) = (0usize, 0usize);
    let mut opted_out = false;
    // Reply speed: each outbound message starts a wait that the lead's next message ends.
    let mut waiting_since: Option<Option<Timestamp>> = None;
    let mut answered_outbound = 0usize;
    let mut waits: Vec<f64> = Vec::new();
    for m in &talk {
        match m.channel() {
            "sms" => sms += 1,
            "email" => email += 1,
            "call" => {
                calls += 1;
                if m.call().is_some_and(|c| c.call_connected()) {
                    connected += 1;
                }
            }
            _ => {}
        }
        match m.direction {
            Direction::Inbound => {
                inbound += 1;
                let body = m.body.as_deref().unwrap_or("");
                if body.contains('?') {
                    asking += 1;
                }
                if crate::engine::compliance::opt_out(body).is_some() {
                    opted_out = true;
                }
                if let Some(since) = waiting_since.take() {
                    answered_outbound += 1;
                    if let (Some(from), Some(to)) = (since, m.date_added) {
                        waits.push(seconds(from, to) / MINUTE);
                    }
                }
            }
            Direction::Outbound => {
                outbound += 1;
                // Two texts in a row are one wait, from the first.
                if waiting_since.is_none() {
                    waiting_since = Some(m.date_added);
                }
            }
            Direction::Unknown => {}
        }
    }
    let last_inbound =
        talk.iter().rev().find(|m| m.direction == Direction::Inbound).and_then(|m| m.date_added);
    let last_any = talk.iter().rev().find_map(|m| m.date_added);
    let share = |n: usize| if talk.is_empty() { f64::NAN } else { n as f64 / talk.len() as f64 };

    let deal = inputs.deal;
    let pipeline = deal.and_then(|d| inputs.pipelines.iter().find(|p| p.id == d.pipeline_id));
    let stage_position = match (deal, pipeline) {
        (Some(d), _) if d.status == OpportunityStatus::Won => 1.0,
        (Some(d), Some(p)) if p.stages.len() > 1 => p
            .stages
            .iter()
            .position(|s| s.id == d.pipeline_stage_id)
            .map_or(f64::NAN, |i| i as f64 / (p.stages.len() - 1) as f64),
        (Some(_), Some(_)) => 0.0,
        _ => f64::NAN,
    };
    let text = |s: Option<&str>| s.map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    let row = FeatureRow {
        answered: questions.iter().sum(),
        questions,
        inbound: inbound as f64,
        outbound: outbound as f64,
        inbound_questions: asking as f64,
        reply_rate: if outbound == 0 { f64::NAN } else { answered_outbound as f64 / outbound as f64 },
        reply_minutes: median(&mut waits),
        days_since_reply: days_to(last_inbound, as_of),
        days_since_contact: days_to(last_any, as_of),
        sms_share: share(sms),
        email_share: share(email),
        calls: calls as f64,
        connected_calls: connected as f64,
        opted_out: if opted_out { 1.0 } else { 0.0 },
        days_since_arrival: days_to(inputs.contact.date_added, as_of),
        tags: inputs.contact.tags.len() as f64,
        source: text(inputs.contact.source.as_deref()),
        lead_type: text(inputs.lead_type),
        pipeline: text(pipeline.map(|p| p.name.as_str())),
        deal_value: deal.and_then(|d| d.monetary_value).unwrap_or(f64::NAN),
        stage_position,
    };
    let next_message = inputs
        .messages
        .iter()
        .filter(|m| m.is_conversational())
        .filter_map(|m| m.date_added)
        .filter(|t| *t > as_of)
        .min();
    TimedFeatures { row, last_inbound, last_any, arrival: inputs.contact.date_added, next_message }
}

impl FeatureRow {
    /// The row as text cells under [`HEADER`]: numbers with up to 4 decimals, an unknown
    /// value empty.
    pub fn cells(&self) -> Vec<String> {
        let num = |v: f64| if v.is_finite() { format!("{}", (v * 1e4).round() / 1e4) } else { String::new() };
        let mut out = Vec::with_capacity(HEADER.len());
        out.push(num(self.answered));
        out.extend(self.questions.iter().map(|&v| num(v)));
        for v in [
            self.inbound,
            self.outbound,
            self.inbound_questions,
            self.reply_rate,
            self.reply_minutes,
            self.days_since_reply,
            self.days_since_contact,
            self.sms_share,
            self.email_share,
            self.calls,
            self.connected_calls,
            self.opted_out,
            self.days_since_arrival,
            self.tags,
        ] {
            out.push(num(v));
        }
        for s in [&self.source, &self.lead_type, &self.pipeline] {
            out.push(s.clone().unwrap_or_default());
        }
        out.push(num(self.deal_value));
        out.push(num(self.stage_position));
        out
    }
}

/// The deal a lead's row describes when scoring: its newest open deal, else its newest deal.
/// Training rows always have a deal (the closed one), so a lead is never scored with a deal
/// value and pipeline the model never saw missing; the stage, which a closed deal would leak,
/// is not trained on ([`LEAKS_OUTCOME`]).
pub fn scoring_deal(opportunities: &[Opportunity]) -> Option<&Opportunity> {
    let recency = |o: &&Opportunity| o.updated_at.or(o.created_at);
    opportunities
        .iter()
        .filter(|o| o.status == OpportunityStatus::Open)
        .max_by_key(recency)
        .or_else(|| opportunities.iter().max_by_key(recency))
}

fn seconds(from: Timestamp, to: Timestamp) -> f64 {
    (to.as_millisecond() - from.as_millisecond()) as f64 / 1000.0
}

/// The median, `NaN` of nothing.
fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    if v.len() % 2 == 1 { v[mid] } else { (v[mid - 1] + v[mid]) / 2.0 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use leadline_shared::domain::Stage;

    fn at(s: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + s).expect("ts")
    }

    fn msg(id: &str, dir: Direction, kind: &str, s: i64, body: &str) -> Message {
        Message {
            id: id.into(),
            contact_id: "c".into(),
            direction: dir,
            message_type: Some(kind.into()),
            date_added: Some(at(s)),
            body: Some(body.into()),
            ..Default::default()
        }
    }

    fn pipelines() -> Vec<Pipeline> {
        let stage = |id: &str| Stage { id: id.into(), name: id.into(), position: None };
        vec![Pipeline {
            id: "p".into(),
            name: "Buyer".into(),
            stages: vec![stage("s0"), stage("s1"), stage("s2")],
            ..Default::default()
        }]
    }

    fn row(messages: &[Message], deal: Option<&Opportunity>, as_of: Timestamp) -> FeatureRow {
        let contact = Contact {
            id: "c".into(),
            date_added: Some(at(0)),
            source: Some("Zillow".into()),
            tags: vec!["buyer".into(), "pre-approved".into()],
            ..Default::default()
        };
        let mut q = Qualification::default();
        q.answer(QualificationItem::Budget, "$500k");
        q.answer(QualificationItem::Timeline, "soon");
        derive(&FeatureInputs {
            contact: &contact,
            messages,
            deal,
            pipelines: &pipelines(),
            qualification: &q,
            lead_type: Some("buyer"),
            as_of,
        })
    }

    #[test]
    fn engagement_is_counted_by_hand() {
        let messages = [
            msg("1", Direction::Outbound, "TYPE_SMS", 0, "Hi, still looking?"),
            msg("2", Direction::Outbound, "TYPE_SMS", 60, "Any questions?"),
            // Answered 10 minutes after the first unanswered text.
            msg("3", Direction::Inbound, "TYPE_SMS", 600, "Yes! Is the Elm St house open Sunday?"),
            msg("4", Direction::Outbound, "TYPE_EMAIL", 3_600, "Yes, 1-3pm"),
            // Answered 30 minutes later.
            msg("5", Direction::Inbound, "TYPE_EMAIL", 3_600 + 1_800, "Great"),
            msg("6", Direction::Outbound, "TYPE_SMS", 7_200, "See you there"),
            // An activity entry is not conversation; a message after as_of is not known yet.
            msg("7", Direction::Inbound, "TYPE_ACTIVITY_OPPORTUNITY", 7_300, "stage moved"),
            msg("8", Direction::Inbound, "TYPE_SMS", 300_000, "what about tomorrow?"),
        ];
        let r = row(&messages, None, at(3 * 86_400 + 100));
        assert_eq!((r.inbound, r.outbound, r.inbound_questions), (2.0, 4.0, 1.0));
        // Three waits began (texts 1, 4, 6), two were answered: 2 of 4 outbound counted as answered.
        assert_eq!(r.reply_rate, 0.5);
        assert_eq!(r.reply_minutes, 20.0, "median of 10 and 30 minutes");
        // 2.94 and 2.92 days: whole days.
        assert_eq!((r.days_since_reply, r.days_since_contact), (2.0, 2.0));
        assert_eq!((r.sms_share, r.email_share), (4.0 / 6.0, 2.0 / 6.0));
        assert_eq!((r.answered, r.questions[0], r.questions[1], r.questions[2]), (2.0, 1.0, 0.0, 1.0));
        assert_eq!(r.days_since_arrival, 3.0);
        assert_eq!(r.tags, 2.0);
        assert_eq!(r.opted_out, 0.0);
        assert!(r.deal_value.is_nan() && r.stage_position.is_nan() && r.pipeline.is_none());
    }

    /// Read again later, a row equals the derivation then, until a message it left out (dated
    /// after it was derived) is due.
    #[test]
    fn a_timed_row_read_later_equals_deriving_it_then_until_a_left_out_message() {
        let messages = [
            msg("1", Direction::Outbound, "TYPE_SMS", 0, "Hi, still looking?"),
            msg("2", Direction::Inbound, "TYPE_SMS", 600, "Yes"),
            msg("3", Direction::Inbound, "TYPE_SMS", 300_000, "what about tomorrow?"),
        ];
        let contact = Contact { id: "c".into(), date_added: Some(at(0)), ..Default::default() };
        let q = Qualification::default();
        let inputs = |as_of| FeatureInputs {
            contact: &contact,
            messages: &messages,
            deal: None,
            pipelines: &[],
            qualification: &q,
            lead_type: None,
            as_of,
        };
        let timed = derive_timed(&inputs(at(100_000)));
        assert_eq!(timed.next_message, Some(at(300_000)));
        let later = at(299_000);
        assert!(timed.holds_at(later));
        assert_eq!(timed.at(later).cells(), derive(&inputs(later)).cells());
        assert_eq!(timed.at(later).days_since_reply, 3.0);
        let due = at(300_000);
        assert!(!timed.holds_at(due), "the third message counts from then");
        assert_ne!(timed.at(due).cells(), derive(&inputs(due)).cells());
    }

    #[test]
    fn a_silent_lead_has_unknown_speeds_and_an_opt_out_is_seen() {
        let r = row(&[], None, at(10 * 86_400));
        assert!(r.reply_rate.is_nan() && r.reply_minutes.is_nan() && r.days_since_reply.is_nan());
        assert!(r.sms_share.is_nan());
        let stop = [
            msg("1", Direction::Outbound, "TYPE_SMS", 0, "Hi Ana"),
            msg("2", Direction::Inbound, "TYPE_SMS", 60, "STOP"),
        ];
        let r = row(&stop, None, at(120));
        assert_eq!((r.opted_out, r.reply_rate, r.reply_minutes), (1.0, 1.0, 1.0));
    }

    #[test]
    fn the_deal_gives_pipeline_value_and_stage() {
        let deal = Opportunity {
            id: "o".into(),
            contact_id: "c".into(),
            pipeline_id: "p".into(),
            pipeline_stage_id: "s1".into(),
            monetary_value: Some(450_000.0),
            ..Default::default()
        };
        let r = row(&[], Some(&deal), at(0));
        assert_eq!((r.pipeline.as_deref(), r.deal_value, r.stage_position), (Some("Buyer"), 450_000.0, 0.5));
        let cells = r.cells();
        assert_eq!(cells.len(), HEADER.len());
        let cell = |name: &str| cells[HEADER.iter().position(|h| *h == name).expect("column")].as_str();
        assert_eq!((cell("answered"), cell("source"), cell("pipeline")), ("2", "Zillow", "Buyer"));
        assert_eq!((cell("deal_value"), cell("stage_position"), cell("reply_rate")), ("450000", "0.5", ""));
    }

    #[test]
    fn the_scored_deal_is_the_newest_open_one_else_the_newest() {
        let deal = |id: &str, status, s| Opportunity {
            id: id.into(),
            status,
            updated_at: Some(at(s)),
            ..Default::default()
        };
        let deals = [
            deal("old", OpportunityStatus::Open, 1),
            deal("new", OpportunityStatus::Open, 5),
            deal("won", OpportunityStatus::Won, 9),
        ];
        assert_eq!(scoring_deal(&deals).map(|d| d.id.as_str()), Some("new"));
        assert_eq!(scoring_deal(&deals[2..]).map(|d| d.id.as_str()), Some("won"));
        assert!(scoring_deal(&[]).is_none());
    }
}
