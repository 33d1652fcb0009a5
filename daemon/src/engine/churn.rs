//! Churn risk (business-rules.md §3, churn and dormancy): how likely a lead is to go quiet for
//! good, from its engagement, with the predecessor's rule-based score and tiers. Pure: the
//! engagement figures in, the risk with its parts out.
//!
//! Out of 100:
//!
//! - **silence:** days since the last contact ÷ 30, capped at 1, × 30;
//! - **low activity:** the shortfall of interactions against an expected 7, 14 and 21 over the
//!   last 7, 14 and 30 days, weighted .5/.3/.2, × 25;
//! - **non-response:** (1 − reply rate) × 20, once the lead has been written to;
//! - **declining engagement:** how far the last 7 days fell below the 7 before (0–1) × 15;
//! - **stagnation:** days in the deal's stage ÷ 30, capped at 1, × 10.
//!
//! Tiers: critical from 80 (intervene now), high from 60 (urgent follow-up), medium from 30
//! (nurture), low below.

use jiff::Timestamp;
use leadline_shared::domain::{Direction, Message};
use leadline_shared::protocol::{ChurnFactor, ChurnRisk};

/// A lead's engagement, as churn reads it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Engagement {
    /// Days since the last message either way (none: never in touch).
    pub days_silent: Option<f64>,
    /// Messages either way in the last 7, 14 and 30 days.
    pub last_7d: u32,
    pub last_14d: u32,
    pub last_30d: u32,
    /// Messages either way in the 7 days before the last 7.
    pub prior_7d: u32,
    /// Messages to the lead, and from it.
    pub outbound: u32,
    pub inbound: u32,
    /// Days the open deal has sat in its stage (none: no open deal).
    pub days_in_stage: Option<f64>,
}

const DAY: f64 = 86_400.0;

impl Engagement {
    /// Reads the engagement from a lead's conversational messages and its open deal's last
    /// stage change, at `now`.
    pub fn of(messages: &[Message], stage_since: Option<Timestamp>, now: Timestamp) -> Engagement {
        let days = |t: Timestamp| (now.as_second() - t.as_second()).max(0) as f64 / DAY;
        let mut e = Engagement { days_in_stage: stage_since.map(days), ..Engagement::default() };
        for m in messages.iter().filter(|m| m.is_conversational()) {
            match m.direction {
                Direction::Inbound => e.inbound += 1,
                Direction::Outbound => e.outbound += 1,
                _ => {}
            }
            let Some(at) = m.date_added else { continue };
            let d = days(at);
            e.days_silent = Some(e.days_silent.map_or(d, |s: f64| s.min(d)));
            e.last_7d += u32::from(d < 7.0);
            e.prior_7d += u32::from((7.0..14.0).contains(&d));
            e.last_14d += u32::from(d < 14.0);
            e.last_30d += u32::from(d < 30.0);
        }
        e
    }
}

/// The risk tier of a score.
pub fn tier(score: f64) -> &'static str {
    leadline_shared::domain::churn_tier(score)
}

/// What the agent should do at a tier.
fn action(tier: &str) -> &'static str {
    match tier {
        "critical" => "intervene now",
        "high" => "urgent follow-up",
        "medium" => "nurture",
        _ => "keep going",
    }
}

/// The churn risk of a lead, with each part's points and why. `value` is what a win would
/// bring (the open deal's value, else the budget) and `probability` the chance of winning it
/// (the score ÷ 100): the value at risk is their product times the risk.
pub fn risk(e: &Engagement, value: Option<f64>, probability: f64) -> ChurnRisk {
    let mut factors = Vec::new();
    let mut add = |name: &str, points: f64, text: String| {
        factors.push(ChurnFactor { factor: name.to_owned(), points: (points * 10.0).round() / 10.0, text });
    };
    match e.days_silent {
        Some(d) => add("silence", (d / 30.0).min(1.0) * 30.0, format!("{d:.0} days since the last message")),
        None => add("silence", 30.0, "never in touch".to_owned()),
    }
    let shortfall = |n: u32, expected: f64| (1.0 - f64::from(n) / expected).max(0.0);
    let low = 0.5 * shortfall(e.last_7d, 7.0)
        + 0.3 * shortfall(e.last_14d, 14.0)
        + 0.2 * shortfall(e.last_30d, 21.0);
    add("low_activity", low * 25.0, format!("{} messages in 7 days, {} in 30", e.last_7d, e.last_30d));
    if e.outbound > 0 {
        let rate = (f64::from(e.inbound) / f64::from(e.outbound)).min(1.0);
        add(
            "non_response",
            (1.0 - rate) * 20.0,
            format!("replied {} times to {} messages", e.inbound, e.outbound),
        );
    }
    if e.prior_7d > e.last_7d {
        let fall = f64::from(e.prior_7d - e.last_7d) / f64::from(e.prior_7d);
        add(
            "declining",
            fall * 15.0,
            format!("{} messages this week, {} the week before", e.last_7d, e.prior_7d),
        );
    }
    if let Some(d) = e.days_in_stage {
        add("stagnation", (d / 30.0).min(1.0) * 10.0, format!("{d:.0} days in the deal's stage"));
    }
    let score = factors.iter().map(|f| f.points).sum::<f64>().clamp(0.0, 100.0);
    let tier = tier(score);
    let value_at_risk = value.map(|v| (v * probability.clamp(0.0, 1.0) * score / 100.0).round());
    ChurnRisk {
        score: score.round() as u8,
        tier: tier.to_owned(),
        action: action(tier).to_owned(),
        value_at_risk,
        factors,
    }
}

/// The churn risk a lead has once dormant, from its row: the silence and the activity
/// shortfall full (a lead quiet for 30 days has both), no decline (nothing in the last two
/// weeks), its reply rate as it stands, and a stagnant open deal counted in full (it has sat in
/// its stage at least as long as the lead has been quiet, unless it moved without any activity).
/// Nothing in it moves with the clock, so the recovery order can be kept at write time.
pub fn as_dormant(lead: &leadline_shared::domain::LeadSummary, value: f64) -> ChurnRisk {
    let e = Engagement {
        days_silent: Some(30.0),
        last_7d: 0,
        last_14d: 0,
        last_30d: 0,
        prior_7d: 0,
        outbound: lead.message_count.saturating_sub(lead.inbound_count),
        inbound: lead.inbound_count,
        days_in_stage: lead.stage_since.map(|_| 30.0),
    };
    risk(&e, Some(value), f64::from(lead.score.min(100)) / 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Worked by hand from the rules in the module's doc.
    #[test]
    fn the_rules_add_up_as_written() {
        // Silent 15 days: 15/30 × 30 = 15. Activity 0/7, 2/14, 9/21 → shortfalls 1, 6/7, 12/21:
        // (.5 + .3 × 6/7 + .2 × 12/21) × 25 = (.5 + .2571 + .1143) × 25 = 21.79. Replied 2 of 4:
        // .5 × 20 = 10. Declining 2 → 0: 15. In stage 45 days: 10. Total 71.8: high.
        let e = Engagement {
            days_silent: Some(15.0),
            last_7d: 0,
            last_14d: 2,
            last_30d: 9,
            prior_7d: 2,
            outbound: 4,
            inbound: 2,
            days_in_stage: Some(45.0),
        };
        let r = risk(&e, Some(400_000.0), 0.5);
        let points: Vec<(&str, f64)> = r.factors.iter().map(|f| (f.factor.as_str(), f.points)).collect();
        assert_eq!(
            points,
            [
                ("silence", 15.0),
                ("low_activity", 21.8),
                ("non_response", 10.0),
                ("declining", 15.0),
                ("stagnation", 10.0)
            ]
        );
        assert_eq!((r.score, r.tier.as_str(), r.action.as_str()), (72, "high", "urgent follow-up"));
        // The score is the sum of the points as shown (71.8): 400k × .5 × .718.
        assert_eq!(r.value_at_risk, Some(143_600.0));
    }

    /// A dormant lead's risk: silence 30 + activity 25, plus the replies it never gave and a
    /// stuck deal; its value at risk orders the recovery queue.
    #[test]
    fn a_dormant_lead_is_judged_by_its_replies_and_its_deal() {
        use leadline_shared::domain::LeadSummary;
        let lead = LeadSummary { score: 50, message_count: 4, inbound_count: 1, ..LeadSummary::default() };
        // Replied 1 of 3: (1 − 1/3) × 20 = 13.3 → 68.3: high.
        let r = as_dormant(&lead, 400_000.0);
        assert_eq!((r.score, r.tier.as_str()), (68, "high"));
        assert_eq!(r.value_at_risk, Some(136_600.0));
        let stuck = LeadSummary { stage_since: Some(Timestamp::UNIX_EPOCH), ..lead.clone() };
        assert_eq!(as_dormant(&stuck, 400_000.0).tier, "high");
        assert_eq!(as_dormant(&stuck, 400_000.0).score, 78);
        let never_written = LeadSummary { score: 50, ..LeadSummary::default() };
        assert_eq!(as_dormant(&never_written, 400_000.0).tier, "medium");
    }

    #[test]
    fn tiers_and_a_busy_lead() {
        assert_eq!(
            [tier(80.0), tier(79.9), tier(60.0), tier(30.0), tier(29.9)],
            ["critical", "high", "high", "medium", "low"]
        );
        let busy = Engagement {
            days_silent: Some(0.5),
            last_7d: 9,
            last_14d: 15,
            last_30d: 25,
            prior_7d: 6,
            outbound: 12,
            inbound: 13,
            days_in_stage: None,
        };
        let r = risk(&busy, None, 0.9);
        assert_eq!((r.score, r.tier.as_str()), (1, "low"));
        assert_eq!(r.value_at_risk, None);
        // Never in touch: silence and the whole activity shortfall, 30 + 25.
        assert_eq!(risk(&Engagement::default(), None, 0.0).score, 55);
    }
}
