use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// How warm a lead is. Hot leads get worked first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Temperature {
    #[default]
    Cold,
    Warm,
    Hot,
}

impl Temperature {
    /// The lowercase name used in JSON and on screen.
    pub fn as_str(self) -> &'static str {
        match self {
            Temperature::Cold => "cold",
            Temperature::Warm => "warm",
            Temperature::Hot => "hot",
        }
    }
}

/// The seven qualifying questions of the predecessor's lead scorer
/// (business-rules.md §1a), in the order the agent asks them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QualificationItem {
    Budget,
    Location,
    Timeline,
    Property,
    Financing,
    Motivation,
    HomeCondition,
}

impl QualificationItem {
    /// Every question, in order.
    pub const ALL: [QualificationItem; 7] = [
        QualificationItem::Budget,
        QualificationItem::Location,
        QualificationItem::Timeline,
        QualificationItem::Property,
        QualificationItem::Financing,
        QualificationItem::Motivation,
        QualificationItem::HomeCondition,
    ];

    /// The snake_case name, as in JSON and in score explanations.
    pub fn as_str(self) -> &'static str {
        match self {
            QualificationItem::Budget => "budget",
            QualificationItem::Location => "location",
            QualificationItem::Timeline => "timeline",
            QualificationItem::Property => "property",
            QualificationItem::Financing => "financing",
            QualificationItem::Motivation => "motivation",
            QualificationItem::HomeCondition => "home_condition",
        }
    }
}

/// Which qualifying questions a lead has answered, with the answer as found (a custom field
/// value or the sentence of a message).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Qualification {
    pub budget: Option<String>,
    pub location: Option<String>,
    pub timeline: Option<String>,
    pub property: Option<String>,
    pub financing: Option<String>,
    pub motivation: Option<String>,
    pub home_condition: Option<String>,
}

impl Qualification {
    /// The answer to one question.
    pub fn get(&self, item: QualificationItem) -> Option<&str> {
        self.slot(item).as_deref()
    }

    /// Records an answer unless the question is already answered (the first answer found
    /// wins, and custom fields are read before messages).
    pub fn answer(&mut self, item: QualificationItem, value: impl Into<String>) {
        let slot = self.slot_mut(item);
        if slot.is_none() {
            *slot = Some(value.into());
        }
    }

    /// How many questions are answered (0–7).
    pub fn answered_count(&self) -> u8 {
        QualificationItem::ALL.iter().filter(|i| self.get(**i).is_some()).count() as u8
    }

    /// The questions answered, in order.
    pub fn answered(&self) -> impl Iterator<Item = QualificationItem> + '_ {
        QualificationItem::ALL.into_iter().filter(|i| self.get(*i).is_some())
    }

    fn slot(&self, item: QualificationItem) -> &Option<String> {
        match item {
            QualificationItem::Budget => &self.budget,
            QualificationItem::Location => &self.location,
            QualificationItem::Timeline => &self.timeline,
            QualificationItem::Property => &self.property,
            QualificationItem::Financing => &self.financing,
            QualificationItem::Motivation => &self.motivation,
            QualificationItem::HomeCondition => &self.home_condition,
        }
    }

    fn slot_mut(&mut self, item: QualificationItem) -> &mut Option<String> {
        match item {
            QualificationItem::Budget => &mut self.budget,
            QualificationItem::Location => &mut self.location,
            QualificationItem::Timeline => &mut self.timeline,
            QualificationItem::Property => &mut self.property,
            QualificationItem::Financing => &mut self.financing,
            QualificationItem::Motivation => &mut self.motivation,
            QualificationItem::HomeCondition => &mut self.home_condition,
        }
    }
}

/// One row of a lead queue: everything the dashboard's table and the queue JSON show.
///
/// The daemon derives it from the contact, its messages, its opportunities and its score, and
/// stores it, so a queue query is an index scan plus one read per visible row.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LeadSummary {
    /// The GHL contact id.
    pub id: String,
    pub name: String,
    /// 0–100.
    pub score: u8,
    /// The scorer that gave `score`: `rules-v1` or `gbdt-vN` (a model trained on the
    /// location's history).
    pub scored_by: String,
    pub temperature: Temperature,
    /// Qualifying questions answered (0–7).
    pub answered: u8,
    pub source: Option<String>,
    /// Buyer or seller, when known.
    pub lead_type: Option<String>,
    pub pipeline: Option<String>,
    pub stage: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub timezone: Option<String>,
    pub tags: Vec<String>,
    pub date_added: Option<Timestamp>,
    pub last_activity: Option<Timestamp>,
    /// Set while the newest conversational message is inbound.
    pub awaiting_reply_since: Option<Timestamp>,
    /// When the agent (or the engine) first reached out, if ever.
    pub first_outbound_at: Option<Timestamp>,
    pub next_followup_at: Option<Timestamp>,
    /// True when SMS may not be sent (global or SMS DND).
    pub sms_blocked: bool,
    pub message_count: u32,
    /// The GHL user the contact is assigned to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assigned_to: Option<String>,
    /// An appointment was booked: GHL logged one (`TYPE_ACTIVITY_APPOINTMENT`), or a deal of
    /// the lead sits at or past its pipeline's appointment stage (a stage named "Appointment…"
    /// or "Showing…").
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub appointment: bool,
    /// The summed value of the lead's won deals, when one is won.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub won_value: Option<f64>,
    /// The lead's calls, from GHL's call messages.
    #[serde(skip_serializing_if = "CallStats::is_empty")]
    pub calls: CallStats,
    /// The summed value of the lead's open deals, when one has a value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub open_value: Option<f64>,
    /// The composite priority (0–100) that orders `hot` and `all`, as of the row's last write
    /// or the daemon's last refresh of it (docs/intel.md, "Priority").
    pub priority: u8,
    /// Conversational messages from the lead (of `message_count`).
    #[serde(skip_serializing_if = "is_zero")]
    pub inbound_count: u32,
    /// When the open deal entered its stage (none: no open deal).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage_since: Option<Timestamp>,
    /// The churn risk (0–100) the lead has once dormant: business-rules.md §3's score with the
    /// silence and the activity shortfall full, which a lead quiet for 30 days has
    /// (docs/intel.md, "Recovery queue").
    pub churn_risk: u8,
    /// Dollars at risk once dormant: value × win probability × `churn_risk` ÷ 100; orders the
    /// `dormant` (recovery) queue.
    pub value_at_risk: f64,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// The churn tier of a churn risk score (business-rules.md §3): `critical` from 80, `high` from
/// 60, `medium` from 30, else `low`.
pub fn churn_tier(score: f64) -> &'static str {
    match score {
        s if s >= 80.0 => "critical",
        s if s >= 60.0 => "high",
        s if s >= 30.0 => "medium",
        _ => "low",
    }
}

impl LeadSummary {
    /// The churn tier of [`LeadSummary::churn_risk`].
    pub fn churn_tier(&self) -> &'static str {
        churn_tier(f64::from(self.churn_risk))
    }
}

/// A lead's calls, from GHL's call messages (`TYPE_CALL` and kin) and their `meta`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CallStats {
    /// Calls either way.
    pub calls: u32,
    /// Calls that reached a person ([`crate::domain::MessageMeta::call_connected`]).
    pub connected: u32,
    /// Seconds talked on the connected calls.
    pub talk_seconds: u64,
}

impl CallStats {
    /// No calls.
    pub fn is_empty(&self) -> bool {
        *self == CallStats::default()
    }
}
