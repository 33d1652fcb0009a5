//! Tests of the lead pane's intelligence: churn risk, the routing suggestion (and the key that
//! accepts it) and the best listings, driven by keys over fixture data and snapshotted at
//! 80×24 and 160×48.

#![allow(clippy::unwrap_used)]

use leadline_shared::domain::OpKind;
use leadline_shared::protocol::{
    ChurnFactor, ChurnRisk, LeadDetail, Listing, ListingMatch, MatchReason, RoutingSuggestion,
};

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::tests::{Harness, SIZES, assert_screen, detail};
use super::*;

fn reason(factor: &str, points: f64, weight: f64, asked: bool, met: bool, text: &str) -> MatchReason {
    MatchReason { factor: factor.into(), points, weight, asked, met, text: text.into() }
}

/// A listing in Austin: id, price, bedrooms, bathrooms, square feet, street, neighbourhood.
fn listing(id: &str, (price, bd, ba, sqft): (f64, u32, u32, f64), street: &str, sub: &str) -> Listing {
    Listing {
        listing_id: id.into(),
        list_price: Some(price),
        bedrooms: Some(bd),
        bathrooms: Some(ba),
        living_area: Some(sqft),
        street: Some(street.into()),
        city: Some("Austin".into()),
        state: Some("TX".into()),
        postal_code: Some("75024".into()),
        subdivision: Some(sub.into()),
        property_type: Some("Single Family Residence".into()),
        status: Some("Active".into()),
    }
}

/// The fixture lead with matches, a routing suggestion and its churn risk, as the daemon
/// sends them.
pub(super) fn detail_with_intel(id: &str) -> LeadDetail {
    let good = |price: &str, place: &str, beds: &str| {
        vec![
            reason("budget", 33.3, 33.3, true, true, price),
            reason("location", 25.0, 25.0, true, true, place),
            reason("bedrooms", 16.7, 16.7, true, true, beds),
            reason("bathrooms", 4.2, 8.3, false, false, "2 ba, none asked"),
            reason("property_type", 4.2, 8.3, false, false, "house, no type asked"),
            reason("living_area", 4.2, 8.3, false, false, "1,850 sqft, no size asked"),
        ]
    };
    let mut over = good("$480k is 7% over budget $450k", "in Mueller", "4 bd meets 3+");
    over[0] = reason("budget", 16.7, 33.3, true, false, "$480k is 7% over budget $450k");
    LeadDetail {
        matches: vec![
            ListingMatch {
                listing: listing("A1", (410_000.0, 3, 2, 1_850.0), "2210 Pecan St", "East Austin"),
                score: 88,
                reasons: good("$410k within budget $450k", "in East Austin", "3 bd meets 3+"),
            },
            ListingMatch {
                listing: listing("A2", (435_000.0, 3, 2, 1_720.0), "918 Willow Ln", "East Austin"),
                score: 88,
                reasons: good("$435k within budget $450k", "in East Austin", "3 bd meets 3+"),
            },
            ListingMatch {
                listing: listing("A3", (480_000.0, 4, 3, 2_300.0), "4410 Aldrich St", "Mueller"),
                score: 71,
                reasons: over,
            },
        ],
        routing: Some(RoutingSuggestion {
            user_id: "u-dana".into(),
            name: "Dana Reyes".into(),
            method: "best_fit".into(),
            load: 6,
            capacity: 15,
            current: false,
            trace: vec![
                "the lead needs: first_time_buyers (mentions \"first time\")".into(),
                "Dana Reyes is available (mon/tue/wed/thu/fri 8–18 America/Chicago)".into(),
                "load 6 of 15 (40%), 47% with this lead, under 80%".into(),
                "specialty first_time_buyers".into(),
                "won 9 of 60 leads (15%)".into(),
            ],
        }),
        churn: Some(ChurnRisk {
            score: 64,
            tier: "high".into(),
            action: "urgent follow-up".into(),
            value_at_risk: Some(172_800.0),
            factors: vec![ChurnFactor {
                factor: "silence".into(),
                points: 30.0,
                text: "31 days since the last message".into(),
            }],
        }),
        ..detail(id)
    }
}

/// Opens the third lead of needs-reply and answers its detail with the intelligence.
fn open_with_intel(t: &mut Harness) -> String {
    t.press("3 j enter");
    let id = t.app.selected_lead().unwrap().id.clone();
    t.update(Update::LeadLoaded(Box::new(detail_with_intel(&id))));
    id
}

#[test]
fn snapshot_lead_intel() {
    for (w, h) in SIZES {
        let mut t = Harness::online(w, h);
        open_with_intel(&mut t);
        if h < 48 {
            // The small pane scrolls to the matches, below the score's explanation.
            t.press("J J J J J J J J");
        }
        assert_screen(&format!("lead_intel_{w}x{h}"), t.draw());
    }
}

#[test]
fn the_pane_shows_churn_routing_and_the_best_matches_with_reasons() {
    let mut t = Harness::online(160, 48);
    open_with_intel(&mut t);
    let screen = t.screen();
    for text in [
        "Churn    high 64 · urgent follow-up · $173k at risk",
        "Route    Dana Reyes · best fit · load 6/15 · U assigns",
        "Why routed to Dana Reyes",
        "· specialty first_time_buyers",
        "Best matches (3 listings)",
        "88 $410k  3bd/2ba  1,850 sqft",
        "✓ $410k within budget $450k  ✓ in East Austin  ✓ 3 bd meets 3+",
        "✗ $480k is 7% over budget $450k",
    ] {
        assert!(screen.contains(text), "{text:?} missing:\n{screen}");
    }
    assert!(!screen.contains("none asked"), "reasons the lead did not ask about stay out of the pane");
}

#[test]
fn accepting_the_suggestion_is_an_assign_edit_and_is_in_the_help() {
    let mut t = Harness::online(160, 48);
    let id = open_with_intel(&mut t);
    let effects = t.app.handle_key(&KeyEvent::new(KeyCode::Char('U'), KeyModifiers::NONE));
    assert_eq!(
        effects,
        [Effect::Edit { contact_id: id.clone(), op: OpKind::Assign { user_id: "u-dana".into() } }]
    );
    assert_eq!(t.app.flash().unwrap().text, "Assigning to Dana Reyes…");

    // Already assigned there: nothing to do, and it says so.
    let mut assigned = detail_with_intel(&id);
    if let Some(r) = assigned.routing.as_mut() {
        r.current = true;
    }
    t.update(Update::LeadLoaded(Box::new(assigned)));
    let effects = t.app.handle_key(&KeyEvent::new(KeyCode::Char('U'), KeyModifiers::NONE));
    assert!(effects.is_empty());
    assert_eq!(t.app.flash().unwrap().text, "Dana Reyes already has this lead.");

    t.press("?");
    let help = t.screen();
    assert!(help.contains("assign to the suggested agent"), "{help}");
}
