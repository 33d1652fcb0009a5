//! Lead intelligence in the protocol: the listings that fit a lead (property matching), who
//! should work it (routing), and how likely it is to go quiet (churn risk).
//!
//! Kept apart from `messages.rs` so that these types grow without touching the lead detail's
//! other fields.

use serde::{Deserialize, Serialize};

/// A property listing as the daemon keeps it. Import files use the RESO Data Dictionary
/// names (`ListingId`, `ListPrice`, ...); this is the same listing in the protocol's
/// snake_case.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Listing {
    /// `ListingId` (or `ListingKey` when there is no id): unique within the store.
    pub listing_id: String,
    /// `ListPrice`, in dollars.
    pub list_price: Option<f64>,
    /// `BedroomsTotal`.
    pub bedrooms: Option<u32>,
    /// `BathroomsTotalInteger`.
    pub bathrooms: Option<u32>,
    /// `LivingArea`, in square feet.
    pub living_area: Option<f64>,
    /// `UnparsedAddress`, or `StreetNumber StreetName StreetSuffix`.
    pub street: Option<String>,
    /// `City`.
    pub city: Option<String>,
    /// `StateOrProvince`.
    pub state: Option<String>,
    /// `PostalCode`.
    pub postal_code: Option<String>,
    /// `SubdivisionName`: the neighbourhood leads ask for.
    pub subdivision: Option<String>,
    /// `PropertyType` (RESO: `Residential`, `Residential Income`, `Land`, ...), or the more
    /// telling `PropertySubType` (`Single Family Residence`, `Condominium`, ...) when given.
    pub property_type: Option<String>,
    /// `StandardStatus` (`Active`, `Pending`, `Closed`, ...).
    pub status: Option<String>,
}

impl Listing {
    /// One line for people: `1234 Elm St, Plano TX 75024`, with what is known of it.
    pub fn address(&self) -> String {
        let mut place = Vec::new();
        if let Some(city) = self.city.as_deref().filter(|s| !s.is_empty()) {
            place.push(city.to_owned());
        }
        if let Some(state) = self.state.as_deref().filter(|s| !s.is_empty()) {
            place.push(state.to_owned());
        }
        if let Some(zip) = self.postal_code.as_deref().filter(|s| !s.is_empty()) {
            place.push(zip.to_owned());
        }
        let place = place.join(" ");
        match self.street.as_deref().filter(|s| !s.is_empty()) {
            Some(street) if place.is_empty() => street.to_owned(),
            Some(street) => format!("{street}, {place}"),
            None if place.is_empty() => self.listing_id.clone(),
            None => place,
        }
    }
}

/// One factor of a match: how much of its weight the listing earned, and why, in words.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MatchReason {
    /// `budget`, `location`, `bedrooms`, `bathrooms`, `property_type` or `living_area`.
    pub factor: String,
    /// The points earned, out of `weight` (the points of all factors add up to the score).
    pub points: f64,
    /// The factor's weight, in points out of 100.
    pub weight: f64,
    /// Whether the lead said what it wants here (when not, the factor earns half its weight).
    pub asked: bool,
    /// Whether the listing meets the lead's wish fully.
    pub met: bool,
    /// For the agent: "3 bd meets 3+", "$410k within budget $450k", "budget not given".
    pub text: String,
}

/// A listing that fits a lead, with its score and the reasons for it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ListingMatch {
    pub listing: Listing,
    /// 0–100: the sum of the reasons' points.
    pub score: u8,
    /// One per factor, in the order of their weights.
    pub reasons: Vec<MatchReason>,
}

/// The answer to [`super::Request::ImportListings`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ListingsImported {
    /// The file read, as the daemon opened it.
    pub file: String,
    /// Listings in the file.
    pub read: u64,
    /// Of them, listings the store did not have.
    pub added: u64,
    /// Of them, listings the store had and that changed.
    pub updated: u64,
    /// Listings removed because the file did not have them (with `replace`).
    pub removed: u64,
    /// Listings in the store now.
    pub total: u64,
}

/// Who should work a lead, and why (see `docs/intel.md`). Accepting it is an ordinary
/// [`crate::domain::OpKind::Assign`] edit.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RoutingSuggestion {
    /// The GHL user id to assign the lead to.
    pub user_id: String,
    /// The user's name, as GHL has it (or as the config names the agent).
    pub name: String,
    /// `best_fit` (specialty, performance and room to take it) or `round_robin` (no agent was
    /// available with room under the load limit).
    pub method: String,
    /// The agent's open leads now, and how many it may hold.
    pub load: u32,
    pub capacity: u32,
    /// The lead is already assigned to this agent.
    pub current: bool,
    /// Why routed here, one step per line: what the lead needs, why this agent, who was left
    /// out and why.
    pub trace: Vec<String>,
}

/// A lead's churn risk (business-rules.md §3): the predecessor's rule-based score from its
/// engagement, its tier, and what a loss would cost.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ChurnRisk {
    /// 0–100: the sum of the factors' points.
    pub score: u8,
    /// `critical` (80+), `high` (60+), `medium` (30+) or `low`.
    pub tier: String,
    /// What the tier calls for: intervene now, urgent follow-up, nurture, keep going.
    pub action: String,
    /// Dollars: what a win would bring (the open deal's value, else the budget) × the win
    /// probability (score ÷ 100) × the risk; none when no value is known.
    pub value_at_risk: Option<f64>,
    /// The parts of the score, each with why.
    pub factors: Vec<ChurnFactor>,
}

/// A lead's composite priority (docs/intel.md, "Priority"), as of the answer, with its
/// parts: `priority = 100 × (1 − (1 − expected)(1 − urgency)(1 − speed))`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PriorityBreakdown {
    /// 0–100.
    pub priority: u8,
    /// The win probability read from the score (score ÷ 100), 0–1.
    pub probability: f64,
    /// Dollars: the open deals' value, else the configured default for the lead's type.
    pub value: f64,
    /// Where `value` comes from: `open deals`, `default for buyers`, `default for sellers`
    /// or `default`.
    pub value_from: String,
    /// probability × (½ + ½ × value ÷ (value + reference)), 0–1.
    pub expected: f64,
    /// 0–1: awaiting a reply, a follow-up due, an appointment booked.
    pub urgency: f64,
    /// Why the lead is urgent, in words.
    pub urgency_reasons: Vec<String>,
    /// 0–1: how fresh an uncontacted lead is (1 in its first 5 minutes).
    pub speed: f64,
    /// Minutes since an uncontacted lead arrived (none once contacted).
    pub uncontacted_minutes: Option<i64>,
}

/// One part of a churn risk.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ChurnFactor {
    /// `silence`, `low_activity`, `non_response`, `declining` or `stagnation`.
    pub factor: String,
    pub points: f64,
    pub text: String,
}
