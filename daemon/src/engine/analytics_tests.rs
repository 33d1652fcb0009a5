//! Every figure against a small fixture worked out by hand (the sums are in the comments).

use super::*;
use leadline_shared::domain::{
    CallStats, Enrollment, EnrollmentState, FollowUpItem, Stage, StepAction, Temperature,
};

fn ts(s: &str) -> Timestamp {
    s.parse().expect("a fixture time")
}

/// "Now" for every test: 2026-12-01 12:00 UTC. 7d starts 11-25, 30d starts 11-02, 90d 09-03.
fn now() -> Timestamp {
    ts("2026-12-01T12:00:00Z")
}

#[allow(clippy::too_many_arguments)]
fn lead(
    id: &str,
    added: Option<&str>,
    source: &str,
    user: &str,
    first_response_secs: Option<i64>,
    hot: bool,
    appointment: bool,
    won: Option<f64>,
    calls: CallStats,
) -> LeadSummary {
    let added = added.map(ts);
    LeadSummary {
        id: id.into(),
        source: (!source.is_empty()).then(|| source.into()),
        assigned_to: (!user.is_empty()).then(|| user.into()),
        date_added: added,
        first_outbound_at: first_response_secs
            .and_then(|s| added.and_then(|a| a.checked_add(jiff::SignedDuration::from_secs(s)).ok())),
        temperature: if hot { Temperature::Hot } else { Temperature::Cold },
        appointment,
        won_value: won,
        calls,
        ..LeadSummary::default()
    }
}

/// Six leads:
///
/// | lead | arrived    | source   | user | first reply | hot | appt | won     | calls (conn, talk) |
/// | L1   | 12-01 10:00| Zillow   | u1   | 120 s       | yes | yes  | 400,000 | 2 (1, 300 s)       |
/// | L2   | 11-30      | Zillow   | u1   | 600 s       | yes |      |         |                    |
/// | L3   | 11-29      | Facebook | u2   | 60 s        |     |      |         | 1 (0, 0)           |
/// | L4   | 11-10      | Facebook |      | –           |     |      |         |                    |
/// | L5   | 10-15      | Zillow   | u2   | 4,000 s     |     | yes  |         |                    |
/// | L6   | (none)     |          |      | –           |     |      |         |                    |
fn leads() -> Vec<LeadSummary> {
    let none = CallStats::default();
    vec![
        lead(
            "L1",
            Some("2026-12-01T10:00:00Z"),
            "Zillow",
            "u1",
            Some(120),
            true,
            true,
            Some(400_000.0),
            CallStats { calls: 2, connected: 1, talk_seconds: 300 },
        ),
        lead("L2", Some("2026-11-30T09:00:00Z"), "Zillow", "u1", Some(600), true, false, None, none),
        lead(
            "L3",
            Some("2026-11-29T09:00:00Z"),
            "Facebook",
            "u2",
            Some(60),
            false,
            false,
            None,
            CallStats { calls: 1, connected: 0, talk_seconds: 0 },
        ),
        lead("L4", Some("2026-11-10T09:00:00Z"), "Facebook", "", None, false, false, None, none),
        lead("L5", Some("2026-10-15T09:00:00Z"), "Zillow", "u2", Some(4_000), false, true, None, none),
        lead("L6", None, "", "", None, false, false, None, none),
    ]
}

/// One pipeline, stages New(0) → Contacted(1) → Showing(2) → Closed(3).
fn pipelines() -> Vec<Pipeline> {
    let stage =
        |id: &str, name: &str, pos: i64| Stage { id: id.into(), name: name.into(), position: Some(pos) };
    vec![Pipeline {
        id: "P".into(),
        name: "Buyer".into(),
        stages: vec![
            stage("s0", "New", 0),
            stage("s1", "Contacted", 1),
            stage("s2", "Showing", 2),
            stage("s3", "Closed", 3),
        ],
        ..Pipeline::default()
    }]
}

/// Six deals: D1 won at s3 (12-01), D2 lost at s1 (11-20), D3 lost at s2 (10-20), and open
/// D4 at s1 200,000 (11-30), D5 at s2 300,000 (11-29), D6 at s0 100,000 (09-01, before 90d).
fn deals() -> Vec<Opportunity> {
    let deal = |id: &str, stage: &str, status: OpportunityStatus, value: f64, created: &str| Opportunity {
        id: id.into(),
        pipeline_id: "P".into(),
        pipeline_stage_id: stage.into(),
        status,
        monetary_value: Some(value),
        created_at: Some(ts(created)),
        ..Opportunity::default()
    };
    vec![
        deal("D1", "s3", OpportunityStatus::Won, 400_000.0, "2026-12-01T10:30:00Z"),
        deal("D2", "s1", OpportunityStatus::Lost, 150_000.0, "2026-11-20T10:00:00Z"),
        deal("D3", "s2", OpportunityStatus::Abandoned, 250_000.0, "2026-10-20T10:00:00Z"),
        deal("D4", "s1", OpportunityStatus::Open, 200_000.0, "2026-11-30T10:00:00Z"),
        deal("D5", "s2", OpportunityStatus::Open, 300_000.0, "2026-11-29T10:00:00Z"),
        deal("D6", "s0", OpportunityStatus::Open, 100_000.0, "2026-09-01T10:00:00Z"),
    ]
}

fn item(id: &str, workflow: &str, step: u32, at: &str, state: ItemState) -> FollowUpItem {
    let action = StepAction::SendSms { template: "t".into() };
    FollowUpItem {
        state,
        ..FollowUpItem::new(id.into(), "L1".into(), workflow.into(), step, action, ts(at), ts(at))
    }
}

/// `new-lead` sent steps 0 (11-30 10:00) and 1 (11-30 12:00), step 2 cancelled; the lead
/// replied at 13:00, which paused the sequence: step 1 is the one answered. `nurture` sent
/// step 0 and is still running: no reply.
fn followups() -> FollowUps {
    let mut f = FollowUps::new("L1");
    f.items = vec![
        item("a", "new-lead", 0, "2026-11-30T10:00:00Z", ItemState::Sent),
        item("b", "new-lead", 1, "2026-11-30T12:00:00Z", ItemState::Done),
        item("c", "new-lead", 2, "2026-12-01T12:00:00Z", ItemState::Cancelled),
        item("d", "nurture", 0, "2026-11-30T11:00:00Z", ItemState::Sent),
    ];
    let enrollment = |w: &str, state: EnrollmentState| Enrollment {
        workflow: w.into(),
        version: 1,
        enrolled_at: ts("2026-11-30T09:00:00Z"),
        anchor: ts("2026-11-30T09:00:00Z"),
        next_step: 2,
        repeats: 0,
        state,
    };
    f.enrollments = vec![
        enrollment(
            "new-lead",
            EnrollmentState::Paused { reason: "the lead replied".into(), at: ts("2026-11-30T13:00:00Z") },
        ),
        enrollment("nurture", EnrollmentState::Active),
    ];
    f
}

fn aggregates() -> Aggregates {
    let mut agg = Aggregates::default();
    for l in leads() {
        agg.change_lead(None, Some(&LeadFacts::of(&l)));
    }
    for d in deals() {
        agg.change_deal(None, Some(&DealFacts::of(&d)));
    }
    agg.change_steps(&[], &step_facts(&followups()));
    agg
}

fn run(range: AnalyticsRange) -> AnalyticsReport {
    let users: BTreeMap<String, String> = [("u1".into(), "Ana".into()), ("u2".into(), "Ben".into())].into();
    let costs: BTreeMap<String, f64> = [("Zillow".into(), 100.0)].into();
    let pipelines = pipelines();
    report(
        &aggregates(),
        &ReportInputs {
            range,
            now: now(),
            pipelines: &pipelines,
            users: &users,
            cost_per_lead: &costs,
            commission_rate: 0.025,
        },
    )
}

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-6)
}

#[test]
fn the_funnel_counts_each_lead_at_every_stage_it_reached() {
    // all: new 6; contacted L1 L2 L3 L5 = 4; qualified (hot, or further) L1 L2 L5 = 3;
    // appointment L1 L5 = 2; won L1 = 1. Conversions 4/6, 3/4, 2/3, 1/2.
    let r = run(AnalyticsRange::All);
    let counts: Vec<u64> = r.funnel.iter().map(|s| s.count).collect();
    assert_eq!(counts, [6, 4, 3, 2, 1]);
    let names: Vec<&str> = r.funnel.iter().map(|s| s.stage.as_str()).collect();
    assert_eq!(names, FUNNEL);
    assert_eq!(r.funnel[0].conversion, None);
    for (i, want) in [(1, 4.0 / 6.0), (2, 0.75), (3, 2.0 / 3.0), (4, 0.5)] {
        assert!(close(r.funnel[i].conversion, want), "stage {i}: {:?}", r.funnel[i].conversion);
    }
    assert!(close(r.funnel[4].of_new, 1.0 / 6.0));
    // 7d (from 11-25): L1 L2 L3 → new 3, contacted 3, qualified 2, appointment 1, won 1.
    let week: Vec<u64> = run(AnalyticsRange::Days7).funnel.iter().map(|s| s.count).collect();
    assert_eq!(week, [3, 3, 2, 1, 1]);
    // 30d (from 11-02) adds L4; 90d (from 09-03) adds L5; only all has L6 (no date).
    assert_eq!(run(AnalyticsRange::Days30).funnel[0].count, 4);
    assert_eq!(run(AnalyticsRange::Days90).funnel[0].count, 5);
}

#[test]
fn sources_have_conversion_and_roi_when_a_cost_is_configured() {
    // Zillow: L1 L2 L5 → 3 leads, 3 contacted, 3 qualified, 1 won worth 400,000. Revenue
    // 400,000 × 2.5 % = 10,000; cost 3 × 100 = 300; ROI (10,000 − 300) / 300 = 32.33.
    // Facebook: L3 L4, 1 contacted, no cost → no ROI. (none): L6.
    let r = run(AnalyticsRange::All);
    let names: Vec<&str> = r.sources.iter().map(|s| s.source.as_str()).collect();
    assert_eq!(names, ["Zillow", "Facebook", "(none)"]);
    let z = &r.sources[0];
    assert_eq!((z.leads, z.contacted, z.qualified, z.won), (3, 3, 3, 1));
    assert!(close(z.conversion, 1.0 / 3.0));
    assert!(close(Some(z.revenue), 10_000.0));
    assert!(close(z.cost, 300.0));
    assert!(close(z.roi, 9_700.0 / 300.0));
    let f = &r.sources[1];
    assert_eq!((f.leads, f.contacted, f.won, f.cost, f.roi), (2, 1, 0, None, None));
    assert!(close(f.conversion, 0.0));
}

#[test]
fn speed_to_lead_has_the_median_the_p90_and_the_five_minute_share() {
    // all: first replies 60, 120, 600, 4,000 s (4,000 is kept to the minute: 3,960).
    // Median: rank ⌈0.5 × 4⌉ = 2 → 120 s. p90: rank ⌈0.9 × 4⌉ = 4 → 3,960 s.
    // Within 5 minutes: 60 and 120 → 2 of 6 new leads.
    let s = run(AnalyticsRange::All).speed_to_lead;
    assert_eq!(
        (s.leads, s.contacted, s.median_secs, s.p90_secs, s.within_5m),
        (6, 4, Some(120), Some(3_960), 2)
    );
    assert!(close(s.within_5m_share, 2.0 / 6.0));
    let bands: Vec<u64> = s.histogram.iter().map(|(_, n)| *n).collect();
    // ≤1m: 60; ≤5m: 120; ≤15m: 600; ≤1h: none; ≤1d: 3,960.
    assert_eq!(bands, [1, 1, 1, 0, 1, 0]);
    // 7d: 60, 120, 600 → median 120, p90 rank 3 → 600; 2 of 3 within 5 minutes.
    let w = run(AnalyticsRange::Days7).speed_to_lead;
    assert_eq!((w.median_secs, w.p90_secs, w.within_5m), (Some(120), Some(600), 2));
}

#[test]
fn the_forecast_weights_open_value_by_each_stages_history() {
    // Closed deals that passed through each stage (left at it or later):
    // s0, s1: D1 won, D2 lost, D3 abandoned → 1/3; s2: D1 won, D3 → 1/2; s3: D1 → 1.
    // all: s0 100,000 × 1/3 + s1 200,000 × 1/3 + s2 300,000 × 1/2 = 250,000 of 600,000.
    let r = run(AnalyticsRange::All);
    let probs: Vec<Option<f64>> = r.forecast.iter().map(|f| f.win_probability).collect();
    for (p, want) in probs.iter().zip([1.0 / 3.0, 1.0 / 3.0, 0.5, 1.0]) {
        assert!(close(*p, want), "{probs:?}");
    }
    let open: Vec<u64> = r.forecast.iter().map(|f| f.open_deals).collect();
    assert_eq!(open, [1, 1, 1, 0]);
    assert!(close(Some(r.pipeline_value), 600_000.0));
    assert!(close(Some(r.forecast_total), 250_000.0));
    assert!(close(r.forecast[2].forecast, 150_000.0));
    // 7d: open deals created from 11-25 only (D4, D5): 200,000/3 + 150,000; the history is
    // still all of it.
    let w = run(AnalyticsRange::Days7);
    assert!(close(Some(w.pipeline_value), 500_000.0));
    assert!(close(Some(w.forecast_total), 200_000.0 / 3.0 + 150_000.0));
}

#[test]
fn follow_up_reply_rates_are_by_sequence_and_step() {
    let facts = step_facts(&followups());
    let replied: Vec<(&str, u32, bool)> =
        facts.iter().map(|f| (f.workflow.as_str(), f.step, f.replied)).collect();
    assert_eq!(replied, [("new-lead", 0, false), ("new-lead", 1, true), ("nurture", 0, false)]);
    let r = run(AnalyticsRange::All);
    let rows: Vec<(&str, u32, u64, u64)> =
        r.followups.iter().map(|f| (f.workflow.as_str(), f.step, f.sent, f.replied)).collect();
    assert_eq!(rows, [("new-lead", 0, 1, 0), ("new-lead", 1, 1, 1), ("nurture", 0, 1, 0)]);
    assert!(close(r.followups[1].reply_rate, 1.0));
}

#[test]
fn the_leaderboard_ranks_agents_by_won_value() {
    // u1 Ana: L1 L2, both contacted, L1 won 400,000. u2 Ben: L3 L5, both contacted.
    // Unassigned: L4 L6.
    let r = run(AnalyticsRange::All);
    let a = &r.leaderboard[0];
    assert_eq!((a.name.as_str(), a.leads, a.contacted, a.won), ("Ana", 2, 2, 1));
    assert!(close(Some(a.won_value), 400_000.0));
    let ben = r.leaderboard.iter().find(|a| a.user_id == "u2").expect("Ben");
    assert_eq!((ben.leads, ben.contacted, ben.won), (2, 2, 0));
    let nobody = r.leaderboard.iter().find(|a| a.user_id.is_empty()).expect("unassigned");
    assert_eq!((nobody.name.as_str(), nobody.leads, nobody.contacted), ("(unassigned)", 2, 0));
}

#[test]
fn cohorts_are_by_month_of_arrival() {
    // 2026-10: L5 (contacted, qualified by its appointment). 2026-11: L2 L3 L4 → 2 contacted,
    // 1 qualified. 2026-12: L1, won. L6 has no date and no cohort.
    let r = run(AnalyticsRange::All);
    let rows: Vec<(&str, u64, u64, u64, u64)> =
        r.cohorts.iter().map(|c| (c.month.as_str(), c.leads, c.contacted, c.qualified, c.won)).collect();
    assert_eq!(rows, [("2026-10", 1, 1, 1, 0), ("2026-11", 3, 2, 1, 0), ("2026-12", 1, 1, 1, 1)]);
    assert!(close(r.cohorts[2].conversion, 1.0));
}

#[test]
fn calls_have_a_connect_rate_and_talk_time() {
    // L1: 2 calls, 1 connected, 300 s; L3: 1 call, not connected → 3 calls, 1/3, 300 s.
    let c = run(AnalyticsRange::All).calls;
    assert_eq!((c.calls, c.connected, c.talk_seconds), (3, 1, 300));
    assert!(close(c.connect_rate, 1.0 / 3.0));
    assert!(close(c.avg_talk_seconds, 300.0));
}

#[test]
fn daily_leads_cover_the_range_oldest_first() {
    // 7d: 11-25 … 12-01; L3 on 11-29, L2 on 11-30, L1 on 12-01.
    assert_eq!(run(AnalyticsRange::Days7).daily_leads, [0, 0, 0, 0, 1, 1, 1]);
    assert_eq!(run(AnalyticsRange::All).daily_leads.len(), 90);
}

#[test]
fn taking_away_what_was_added_leaves_nothing() {
    let mut agg = aggregates();
    for l in leads() {
        agg.change_lead(Some(&LeadFacts::of(&l)), None);
    }
    for d in deals() {
        agg.change_deal(Some(&DealFacts::of(&d)), None);
    }
    agg.change_steps(&step_facts(&followups()), &[]);
    assert_eq!(agg, Aggregates::default());
}

#[test]
fn an_empty_store_has_no_rates() {
    let pipelines = pipelines();
    let r = report(
        &Aggregates::default(),
        &ReportInputs {
            range: AnalyticsRange::All,
            now: now(),
            pipelines: &pipelines,
            users: &BTreeMap::new(),
            cost_per_lead: &BTreeMap::new(),
            commission_rate: 0.025,
        },
    );
    assert!(r.funnel.iter().all(|s| s.count == 0 && s.conversion.is_none()));
    assert_eq!((r.speed_to_lead.median_secs, r.calls.connect_rate), (None, None));
    assert!(r.forecast.iter().all(|f| f.win_probability.is_none()));
}

#[test]
fn response_times_keep_the_resolution_documented() {
    assert_eq!(response_bucket(299), 299);
    assert_eq!(response_bucket(305), 300);
    assert_eq!(response_bucket(3_599), 3_590);
    assert_eq!(response_bucket(4_000), 3_960);
    assert_eq!(response_bucket(90_061), 90_000);
}
