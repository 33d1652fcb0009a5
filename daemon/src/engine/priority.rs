//! The composite priority that orders `hot` and `all` (docs/intel.md, "Priority"). Pure: a
//! lead's row, the time and the configuration in, the priority with its parts out.
//!
//! Three parts, each 0–1, combined as "any one reason is enough to call now":
//!
//! - **expected value:** the win probability (score ÷ 100, from the rules or the model) ×
//!   (½ + ½ × value ÷ (value + reference)), so value moves a lead by at most half of what its
//!   probability is worth, and a lead worth nothing still counts by its probability;
//! - **urgency:** awaiting a reply .40, a follow-up due .25, an appointment booked .15,
//!   combined the same way;
//! - **speed to lead:** for a lead nobody has contacted, by its age: 1 in its first 5 minutes,
//!   .6 to 30 minutes, .3 to an hour, .1 to a day, then 0 (the MIT/InsideSales study:
//!   the odds of reaching a web lead fall 100× from 5 to 30 minutes and more than 10× in the
//!   first hour; crm-landscape.md §2).
//!
//! `priority = 100 × (1 − (1 − expected)(1 − urgency)(1 − speed))`, rounded.
//!
//! Only the age and "a follow-up is due" depend on the time, and both change at known moments
//! ([`changes_after`]); the daemon rewrites a row's stored priority when one passes
//! (`crate::priority_refresh`), so the index key written with the row stays right.

use jiff::{SignedDuration, Timestamp};
use leadline_shared::config::PriorityConfig;
use leadline_shared::domain::LeadSummary;
use leadline_shared::protocol::PriorityBreakdown;

/// Weights of the urgency reasons.
const AWAITING: f64 = 0.40;
const DUE: f64 = 0.25;
const APPOINTMENT: f64 = 0.15;

/// The speed-to-lead steps: up to this many minutes old, this much.
const SPEED_STEPS: [(i64, f64); 4] = [(5, 1.0), (30, 0.6), (60, 0.3), (24 * 60, 0.1)];

/// What the priority is computed from.
#[derive(Debug, Clone, PartialEq)]
pub struct Inputs {
    /// 0–1.
    pub probability: f64,
    /// Dollars, ≥ 0.
    pub value: f64,
    pub awaiting_reply: bool,
    pub followup_due: bool,
    pub appointment: bool,
    /// How long an uncontacted lead has waited; `None` once contacted (or never dated).
    pub uncontacted_for: Option<SignedDuration>,
}

/// A lead's value in dollars (its open deals', else the default for its type) and where it
/// comes from.
pub fn value_of(lead: &LeadSummary, cfg: &PriorityConfig) -> (f64, &'static str) {
    if let Some(v) = lead.open_value.filter(|v| v.is_finite() && *v > 0.0) {
        return (v, "open deals");
    }
    if won_and_done(lead) {
        return (0.0, "won, no open deal");
    }
    match lead.lead_type.as_deref().map(str::to_ascii_lowercase).as_deref() {
        Some("buyer") => (cfg.buyer_value, "default for buyers"),
        Some("seller") => (cfg.seller_value, "default for sellers"),
        _ => (cfg.default_value, "default"),
    }
}

/// A lead whose deal is won and that has no open one: nothing is left to win, so its
/// probability and value count for nothing (a message from it still makes it urgent).
fn won_and_done(lead: &LeadSummary) -> bool {
    lead.won_value.is_some() && lead.open_value.is_none()
}

/// The inputs of a lead's priority at `now`.
pub fn inputs(lead: &LeadSummary, now: Timestamp, cfg: &PriorityConfig) -> Inputs {
    Inputs {
        probability: if won_and_done(lead) { 0.0 } else { f64::from(lead.score.min(100)) / 100.0 },
        value: value_of(lead, cfg).0,
        awaiting_reply: lead.awaiting_reply_since.is_some(),
        followup_due: lead.next_followup_at.is_some_and(|at| at <= now),
        appointment: lead.appointment,
        uncontacted_for: match (lead.first_outbound_at, lead.date_added) {
            (None, Some(added)) => Some(now.duration_since(added).max(SignedDuration::ZERO)),
            _ => None,
        },
    }
}

/// Speed to lead, 0–1, from how long an uncontacted lead has waited.
pub fn speed(uncontacted_for: Option<SignedDuration>) -> f64 {
    let Some(age) = uncontacted_for else { return 0.0 };
    // "Up to 5 minutes" includes 5:00 itself.
    SPEED_STEPS.iter().find(|(upto, _)| age <= SignedDuration::from_mins(*upto)).map_or(0.0, |(_, s)| *s)
}

/// The parts and the priority.
pub fn compute(i: &Inputs, cfg: &PriorityConfig) -> (u8, f64, f64, f64) {
    let p = if i.probability.is_finite() { i.probability.clamp(0.0, 1.0) } else { 0.0 };
    let value = if i.value.is_finite() { i.value.max(0.0) } else { 0.0 };
    let reference = if cfg.reference_value.is_finite() && cfg.reference_value > 0.0 {
        cfg.reference_value
    } else {
        PriorityConfig::default().reference_value
    };
    let expected = p * (0.5 + 0.5 * value / (value + reference));
    let mut calm = 1.0;
    for (on, w) in [(i.awaiting_reply, AWAITING), (i.followup_due, DUE), (i.appointment, APPOINTMENT)] {
        if on {
            calm *= 1.0 - w;
        }
    }
    let urgency = 1.0 - calm;
    let speed = speed(i.uncontacted_for);
    let combined = 1.0 - (1.0 - expected) * (1.0 - urgency) * (1.0 - speed);
    ((combined * 100.0).round().clamp(0.0, 100.0) as u8, expected, urgency, speed)
}

/// A lead's priority at `now`, 0–100.
pub fn of(lead: &LeadSummary, now: Timestamp, cfg: &PriorityConfig) -> u8 {
    compute(&inputs(lead, now, cfg), cfg).0
}

/// Sets what a row stores for its orders: its priority at `now`, and its churn risk and value
/// at risk once dormant (`engine::churn::as_dormant`). Every writer of a row calls it.
pub fn stamp(lead: &mut LeadSummary, now: Timestamp, cfg: &PriorityConfig) {
    lead.priority = of(lead, now, cfg);
    let dormant = crate::engine::churn::as_dormant(lead, value_of(lead, cfg).0);
    lead.churn_risk = dormant.score;
    lead.value_at_risk = dormant.value_at_risk.unwrap_or(0.0);
}

/// A lead's priority at `now` with its parts, for `leadline lead` and the lead pane.
pub fn breakdown(lead: &LeadSummary, now: Timestamp, cfg: &PriorityConfig) -> PriorityBreakdown {
    let i = inputs(lead, now, cfg);
    let (priority, expected, urgency, speed) = compute(&i, cfg);
    let mut reasons = Vec::new();
    if i.awaiting_reply {
        reasons.push("awaiting a reply".to_owned());
    }
    if i.followup_due {
        reasons.push("follow-up due".to_owned());
    }
    if i.appointment {
        reasons.push("appointment booked".to_owned());
    }
    let round = |x: f64| (x * 1000.0).round() / 1000.0;
    PriorityBreakdown {
        priority,
        probability: round(i.probability),
        value: i.value,
        value_from: value_of(lead, cfg).1.to_owned(),
        expected: round(expected),
        urgency: round(urgency),
        urgency_reasons: reasons,
        speed: round(speed),
        uncontacted_minutes: i.uncontacted_for.map(|d| d.as_secs() / 60),
    }
}

/// The next moment after `now` at which the lead's priority may change with no write to it
/// (a speed-to-lead step passes, a follow-up comes due); `None` when none will.
pub fn changes_after(lead: &LeadSummary, now: Timestamp) -> Option<Timestamp> {
    let mut next: Option<Timestamp> = None;
    let mut consider = |t: Timestamp| {
        if t > now && next.is_none_or(|n| t < n) {
            next = Some(t);
        }
    };
    if let (None, Some(added)) = (lead.first_outbound_at, lead.date_added) {
        for (minutes, _) in SPEED_STEPS {
            // The step ends just after its last minute.
            if let Ok(t) =
                added.checked_add(SignedDuration::from_mins(minutes) + SignedDuration::from_millis(1))
            {
                consider(t);
            }
        }
    }
    if let Some(due) = lead.next_followup_at {
        consider(due);
    }
    next
}

/// How long after a lead arrives its priority stops moving with its age.
pub const SPEED_HORIZON: SignedDuration = SignedDuration::from_hours(24);

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn cfg() -> PriorityConfig {
        PriorityConfig::default()
    }

    fn at(s: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + s).expect("ts")
    }

    fn calm(p: f64, value: f64) -> Inputs {
        Inputs {
            probability: p,
            value,
            awaiting_reply: false,
            followup_due: false,
            appointment: false,
            uncontacted_for: None,
        }
    }

    /// Worked by hand from the module's doc.
    #[test]
    fn the_formula_as_written() {
        // p .5, value = reference: expected .5 × (.5 + .25) = .375 → 38 (37.5 rounds up).
        assert_eq!(compute(&calm(0.5, 400_000.0), &cfg()).0, 38);
        // Plus awaiting a reply (.4): 1 − .625 × .6 = .625 → 63 (62.5).
        let awaiting = Inputs { awaiting_reply: true, ..calm(0.5, 400_000.0) };
        assert_eq!(compute(&awaiting, &cfg()).0, 63);
        // A brand-new lead is on top whatever its score.
        let fresh = Inputs { uncontacted_for: Some(SignedDuration::from_mins(3)), ..calm(0.05, 0.0) };
        assert_eq!(compute(&fresh, &cfg()).0, 100);
        // Nothing: 0.
        assert_eq!(compute(&calm(0.0, 0.0), &cfg()).0, 0);
    }

    #[test]
    fn speed_to_lead_steps() {
        let m = |m: i64| speed(Some(SignedDuration::from_mins(m)));
        assert_eq!(
            [m(0), m(5), m(6), m(30), m(31), m(60), m(61), m(1440), m(1441)],
            [1.0, 1.0, 0.6, 0.6, 0.3, 0.3, 0.1, 0.1, 0.0]
        );
        assert_eq!(speed(Some(SignedDuration::from_secs(5 * 60 + 1))), 0.6);
        assert_eq!(speed(None), 0.0);
    }

    #[test]
    fn value_defaults_by_type_and_the_breakdown() {
        let now = at(3_600);
        let lead = LeadSummary {
            id: "c1".into(),
            score: 65,
            lead_type: Some("Seller".into()),
            date_added: Some(at(0)),
            next_followup_at: Some(at(100)),
            ..LeadSummary::default()
        };
        let b = breakdown(&lead, now, &cfg());
        assert_eq!((b.value, b.value_from.as_str()), (400_000.0, "default for sellers"));
        assert_eq!(b.urgency_reasons, ["follow-up due"]);
        assert_eq!((b.speed, b.uncontacted_minutes), (0.3, Some(60)));
        assert_eq!(b.priority, of(&lead, now, &cfg()));
        let valued = LeadSummary { open_value: Some(1_000_000.0), ..lead };
        assert_eq!(breakdown(&valued, now, &cfg()).value_from, "open deals");
    }

    /// A client whose deal is won, with no open one, is not a prospect: its score and value
    /// count for nothing, while a message from it still makes it urgent; a new open deal
    /// makes it a prospect again.
    #[test]
    fn a_won_client_with_no_open_deal_counts_only_its_urgency() {
        let now = at(3_600);
        let won = LeadSummary {
            id: "c1".into(),
            score: 90,
            lead_type: Some("Buyer".into()),
            won_value: Some(976_000.0),
            first_outbound_at: Some(at(0)),
            ..LeadSummary::default()
        };
        let b = breakdown(&won, now, &cfg());
        assert_eq!((b.probability, b.value, b.value_from.as_str()), (0.0, 0.0, "won, no open deal"));
        assert_eq!(b.priority, 0);
        let mut stamped = won.clone();
        stamp(&mut stamped, now, &cfg());
        assert_eq!(stamped.value_at_risk, 0.0, "nothing to win, nothing at risk");
        let texted = LeadSummary { awaiting_reply_since: Some(at(10)), ..won.clone() };
        assert_eq!(of(&texted, now, &cfg()), 40, "awaiting a reply alone");
        let again = LeadSummary { open_value: Some(500_000.0), ..won };
        assert!(of(&again, now, &cfg()) > 40, "an open deal again: a prospect");
    }

    #[test]
    fn the_moments_a_priority_moves() {
        let lead = LeadSummary {
            date_added: Some(at(0)),
            next_followup_at: Some(at(600)),
            ..LeadSummary::default()
        };
        let ms = SignedDuration::from_millis(1);
        assert_eq!(changes_after(&lead, at(0)), Some(at(300) + ms));
        assert_eq!(changes_after(&lead, at(301)), Some(at(600)));
        assert_eq!(changes_after(&lead, at(600)), Some(at(1800) + ms));
        assert_eq!(changes_after(&lead, at(86_401)), None);
        // Between two moments the priority stays put; across one it may move.
        let now = at(400);
        assert_eq!(of(&lead, now, &cfg()), of(&lead, at(599), &cfg()));
        assert!(of(&lead, at(600), &cfg()) > of(&lead, at(599), &cfg()));
    }

    fn arb_inputs() -> impl Strategy<Value = Inputs> {
        (
            0.0f64..=1.0,
            0.0f64..5_000_000.0,
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            proptest::option::of(0i64..200_000),
        )
            .prop_map(|(probability, value, awaiting_reply, followup_due, appointment, age)| {
                Inputs {
                    probability,
                    value,
                    awaiting_reply,
                    followup_due,
                    appointment,
                    uncontacted_for: age.map(SignedDuration::from_secs),
                }
            })
    }

    proptest! {
        /// More probability, more value, any urgency reason, or a fresher uncontacted lead
        /// never lowers the priority.
        #[test]
        fn monotone_in_each_input(i in arb_inputs(), dp in 0.0f64..1.0, dv in 0.0f64..1_000_000.0, older in 0i64..100_000) {
            let c = cfg();
            let base = compute(&i, &c).0;
            let more_p = Inputs { probability: (i.probability + dp).min(1.0), ..i.clone() };
            prop_assert!(compute(&more_p, &c).0 >= base);
            let more_v = Inputs { value: i.value + dv, ..i.clone() };
            prop_assert!(compute(&more_v, &c).0 >= base);
            for flag in 0..3 {
                let mut more = i.clone();
                match flag { 0 => more.awaiting_reply = true, 1 => more.followup_due = true, _ => more.appointment = true }
                prop_assert!(compute(&more, &c).0 >= base);
            }
            if let Some(age) = i.uncontacted_for {
                let aged = Inputs { uncontacted_for: Some(age + SignedDuration::from_secs(older)), ..i.clone() };
                prop_assert!(compute(&aged, &c).0 <= base);
                let contacted = Inputs { uncontacted_for: None, ..i.clone() };
                prop_assert!(compute(&contacted, &c).0 <= base);
            }
            prop_assert!(base <= 100);
        }

        /// Between the moments `changes_after` names, the priority does not move, so a key
        /// refreshed at those moments is never stale.
        #[test]
        fn nothing_moves_between_the_named_moments(added in 0i64..100_000, due in proptest::option::of(0i64..100_000), contacted in any::<bool>(), t in 0i64..200_000, dt in 0i64..100_000) {
            let lead = LeadSummary {
                date_added: Some(at(added)),
                next_followup_at: due.map(at),
                first_outbound_at: contacted.then(|| at(added)),
                score: 40,
                ..LeadSummary::default()
            };
            let now = at(t);
            let later = at(t + dt);
            if changes_after(&lead, now).is_none_or(|next| later < next) {
                prop_assert_eq!(of(&lead, now, &cfg()), of(&lead, later, &cfg()));
            }
        }
    }
}
