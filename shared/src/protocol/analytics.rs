//! The analytics figures, as `Request::Analytics` answers them and `leadline analytics --json`
//! prints them. Definitions are in the daemon's `engine/analytics.rs` and
//! `docs/architecture.md`.

use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// Which leads the figures cover, by arrival date: the last 7, 30 or 90 days (UTC, today
/// included), or all of them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AnalyticsRange {
    #[serde(rename = "7d")]
    Days7,
    #[default]
    #[serde(rename = "30d")]
    Days30,
    #[serde(rename = "90d")]
    Days90,
    #[serde(rename = "all")]
    All,
}

impl AnalyticsRange {
    /// Every range, shortest first.
    pub const ALL: [AnalyticsRange; 4] =
        [AnalyticsRange::Days7, AnalyticsRange::Days30, AnalyticsRange::Days90, AnalyticsRange::All];

    /// The number of days, `None` for all.
    pub fn days(self) -> Option<u32> {
        match self {
            AnalyticsRange::Days7 => Some(7),
            AnalyticsRange::Days30 => Some(30),
            AnalyticsRange::Days90 => Some(90),
            AnalyticsRange::All => None,
        }
    }

    /// The name on the command line and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            AnalyticsRange::Days7 => "7d",
            AnalyticsRange::Days30 => "30d",
            AnalyticsRange::Days90 => "90d",
            AnalyticsRange::All => "all",
        }
    }

    /// The next longer range (all stays all).
    pub fn longer(self) -> AnalyticsRange {
        let i = AnalyticsRange::ALL.iter().position(|r| *r == self).unwrap_or(0);
        AnalyticsRange::ALL[(i + 1).min(AnalyticsRange::ALL.len() - 1)]
    }

    /// The next shorter range (7d stays 7d).
    pub fn shorter(self) -> AnalyticsRange {
        let i = AnalyticsRange::ALL.iter().position(|r| *r == self).unwrap_or(0);
        AnalyticsRange::ALL[i.saturating_sub(1)]
    }
}

impl fmt::Display for AnalyticsRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A range name that is not one of 7d, 30d, 90d, all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown range {0:?}: use 7d, 30d, 90d or all")]
pub struct UnknownRange(pub String);

impl FromStr for AnalyticsRange {
    type Err = UnknownRange;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AnalyticsRange::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownRange(s.to_owned()))
    }
}

/// Every figure for one range.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AnalyticsReport {
    pub range: AnalyticsRange,
    /// The first arrival date counted (midnight UTC), `None` for all.
    pub since: Option<Timestamp>,
    pub generated_at: Timestamp,
    /// new → contacted → qualified → appointment → won.
    pub funnel: Vec<FunnelStage>,
    /// Most leads first.
    pub sources: Vec<SourceRow>,
    pub speed_to_lead: SpeedToLead,
    /// Open pipeline by stage, with each stage's win probability from its history.
    pub forecast: Vec<ForecastStage>,
    /// Σ open value × win probability, over the stages with a probability.
    pub forecast_total: f64,
    /// Σ open value.
    pub pipeline_value: f64,
    /// Reply rates by sequence and step.
    pub followups: Vec<FollowUpStepRow>,
    /// Most won value first.
    pub leaderboard: Vec<AgentRow>,
    /// By month of arrival, oldest first.
    pub cohorts: Vec<CohortRow>,
    pub calls: CallFigures,
    /// New leads per day over the range (the last 90 days for all), oldest first.
    pub daily_leads: Vec<u64>,
}

/// One stage of the funnel.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FunnelStage {
    pub stage: String,
    /// Leads that reached this stage (or a later one).
    pub count: u64,
    /// count ÷ the previous stage's count; `None` for the first stage or after zero.
    pub conversion: Option<f64>,
    /// count ÷ new leads.
    pub of_new: Option<f64>,
}

/// Leads of one source (GHL's contact `source`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SourceRow {
    pub source: String,
    pub leads: u64,
    pub contacted: u64,
    pub qualified: u64,
    pub won: u64,
    /// won ÷ leads.
    pub conversion: Option<f64>,
    /// Σ value of the won deals.
    pub won_value: f64,
    /// won value × the commission rate: what the agent earned.
    pub revenue: f64,
    /// leads × the source's cost per lead, when configured.
    pub cost: Option<f64>,
    /// (revenue − cost) ÷ cost, when the cost is known.
    pub roi: Option<f64>,
}

/// How fast new leads were first contacted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SpeedToLead {
    /// New leads in the range.
    pub leads: u64,
    /// Of them, contacted.
    pub contacted: u64,
    /// Median seconds from arrival to the first outbound message, over the contacted.
    pub median_secs: Option<u64>,
    pub p90_secs: Option<u64>,
    /// Leads contacted within 5 minutes.
    pub within_5m: u64,
    /// within_5m ÷ new leads.
    pub within_5m_share: Option<f64>,
    /// Contacted leads by first-response band (≤1m, ≤5m, ≤15m, ≤1h, ≤1d, >1d).
    pub histogram: Vec<(String, u64)>,
}

/// One pipeline stage's open deals and forecast.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ForecastStage {
    pub pipeline: String,
    pub stage: String,
    pub open_deals: u64,
    pub open_value: f64,
    /// Closed deals that passed through this stage (GHL left them here or later): won, lost.
    pub won_before: u64,
    pub lost_before: u64,
    /// won ÷ (won + lost) of those; `None` with no history.
    pub win_probability: Option<f64>,
    /// open value × win probability.
    pub forecast: Option<f64>,
}

/// Replies to one step of a follow-up sequence.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FollowUpStepRow {
    pub workflow: String,
    pub step: u32,
    pub sent: u64,
    pub replied: u64,
    pub reply_rate: Option<f64>,
}

/// One assigned user's leads.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentRow {
    /// The GHL user id (empty: unassigned).
    pub user_id: String,
    pub name: String,
    pub leads: u64,
    pub contacted: u64,
    pub won: u64,
    pub won_value: f64,
}

/// Leads that arrived in one month, and how far they got.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CohortRow {
    /// `YYYY-MM`.
    pub month: String,
    pub leads: u64,
    pub contacted: u64,
    pub qualified: u64,
    pub won: u64,
    /// won ÷ leads.
    pub conversion: Option<f64>,
}

/// Calls with the range's leads, from GHL's call messages.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CallFigures {
    pub calls: u64,
    pub connected: u64,
    /// connected ÷ calls.
    pub connect_rate: Option<f64>,
    pub talk_seconds: u64,
    /// talk seconds ÷ connected calls.
    pub avg_talk_seconds: Option<f64>,
}
