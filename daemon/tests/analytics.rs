//! The analytics aggregates the store keeps at write time against a recount of the records,
//! after random inserts, updates and deletions of rows, deals and follow-up records.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use jiff::Timestamp;
use leadline_daemon::store::{Batch, Db, MemoryStore, Put, Remove};
use leadline_shared::domain::{
    CallStats, Enrollment, EnrollmentState, FollowUpItem, FollowUps, ItemState, LeadSummary, Opportunity,
    OpportunityStatus, StepAction, Temperature,
};
use proptest::prelude::*;

const DAY: i64 = 86_400;
const T0: i64 = 1_780_000_000;

#[derive(Debug, Clone)]
enum Edit {
    Row {
        id: u8,
        day: Option<u8>,
        source: u8,
        user: u8,
        reply: Option<u16>,
        hot: bool,
        appt: bool,
        won: Option<u32>,
        calls: (u8, u8, u16),
    },
    RemoveRow(u8),
    Deal {
        id: u8,
        stage: u8,
        status: u8,
        value: u32,
        day: u8,
    },
    RemoveDeal(u8),
    FollowUps {
        id: u8,
        sent: Vec<(u8, u8)>,
        replied: bool,
    },
    RemoveFollowUps(u8),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        4 => (
            0u8..12,
            proptest::option::of(0u8..120),
            0u8..3,
            0u8..3,
            proptest::option::of(0u16..5_000),
            any::<bool>(),
            any::<bool>(),
            proptest::option::of(1u32..1_000_000),
            (0u8..4, 0u8..3, 0u16..900),
        )
            .prop_map(|(id, day, source, user, reply, hot, appt, won, calls)| Edit::Row {
                id, day, source, user, reply, hot, appt, won, calls
            }),
        1 => (0u8..12).prop_map(Edit::RemoveRow),
        3 => (0u8..10, 0u8..4, 0u8..4, 0u32..1_000_000, 0u8..120)
            .prop_map(|(id, stage, status, value, day)| Edit::Deal { id, stage, status, value, day }),
        1 => (0u8..10).prop_map(Edit::RemoveDeal),
        2 => (0u8..12, proptest::collection::vec((0u8..2, 0u8..3), 0..4), any::<bool>())
            .prop_map(|(id, sent, replied)| Edit::FollowUps { id, sent, replied }),
        1 => (0u8..12).prop_map(Edit::RemoveFollowUps),
    ]
}

fn at(secs: i64) -> Timestamp {
    Timestamp::from_second(secs).unwrap()
}

fn batch(e: &Edit) -> Batch {
    let mut b = Batch::new();
    match e.clone() {
        Edit::Row { id, day, source, user, reply, hot, appt, won, calls } => {
            let added = day.map(|d| at(T0 + i64::from(d) * DAY));
            b.put(Put::Lead(LeadSummary {
                id: format!("c{id}"),
                date_added: added,
                first_outbound_at: reply.and_then(|r| added.map(|a| at(a.as_second() + i64::from(r)))),
                source: ["Zillow", "Facebook", ""][source as usize].to_owned().into(),
                assigned_to: Some(["u1", "u2", ""][user as usize].to_owned()).filter(|s| !s.is_empty()),
                temperature: if hot { Temperature::Hot } else { Temperature::Cold },
                appointment: appt,
                won_value: won.map(f64::from),
                calls: CallStats {
                    calls: u32::from(calls.0),
                    connected: u32::from(calls.1.min(calls.0)),
                    talk_seconds: u64::from(calls.2),
                },
                ..LeadSummary::default()
            }));
        }
        Edit::RemoveRow(id) => {
            b.remove(Remove::Lead(format!("c{id}")));
        }
        Edit::Deal { id, stage, status, value, day } => {
            b.put(Put::Opportunity(Opportunity {
                id: format!("o{id}"),
                contact_id: format!("c{id}"),
                pipeline_id: "P".into(),
                pipeline_stage_id: format!("s{stage}"),
                status: [
                    OpportunityStatus::Open,
                    OpportunityStatus::Won,
                    OpportunityStatus::Lost,
                    OpportunityStatus::Abandoned,
                ][status as usize],
                monetary_value: Some(f64::from(value) + 0.37),
                created_at: Some(at(T0 + i64::from(day) * DAY)),
                ..Opportunity::default()
            }));
        }
        Edit::RemoveDeal(id) => {
            b.remove(Remove::Opportunity(format!("o{id}")));
        }
        Edit::FollowUps { id, sent, replied } => {
            let mut f = FollowUps::new(format!("c{id}"));
            for (i, (workflow, step)) in sent.iter().enumerate() {
                let t = at(T0 + i as i64 * 3_600);
                let action = StepAction::SendSms { template: "t".into() };
                let workflow = ["new-lead", "nurture"][*workflow as usize];
                f.items.push(FollowUpItem {
                    state: ItemState::Sent,
                    ..FollowUpItem::new(
                        format!("i{i}"),
                        f.contact_id.clone(),
                        workflow.into(),
                        u32::from(*step),
                        action,
                        t,
                        t,
                    )
                });
            }
            if replied {
                f.enrollments.push(Enrollment {
                    workflow: "new-lead".into(),
                    version: 1,
                    enrolled_at: at(T0),
                    anchor: at(T0),
                    next_step: 1,
                    repeats: 0,
                    state: EnrollmentState::Ended {
                        reason: "the lead replied".into(),
                        at: at(T0 + 20 * 3_600),
                    },
                });
            }
            b.put(Put::FollowUps(f));
        }
        Edit::RemoveFollowUps(id) => {
            b.remove(Remove::FollowUps(format!("c{id}")));
        }
    }
    b
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn random_edits_keep_the_aggregates_equal_to_a_recount(edits in proptest::collection::vec(edit(), 1..40)) {
        let db = Db::open(Arc::new(MemoryStore::new())).unwrap();
        // Built first (empty), so that every edit below moves them at write time.
        db.with_analytics(|_| ()).unwrap();
        for (i, e) in edits.iter().enumerate() {
            db.commit(&batch(e)).unwrap();
            let kept = db.with_analytics(Clone::clone).unwrap();
            let (recount, unreadable) = db.analytics_recount().unwrap();
            prop_assert_eq!(unreadable, 0);
            prop_assert_eq!(kept, recount, "after edit {} ({:?})", i, e);
        }
    }
}

#[test]
fn several_changes_of_one_lead_in_one_batch_end_where_the_last_one_does() {
    let db = Db::open(Arc::new(MemoryStore::new())).unwrap();
    db.with_analytics(|_| ()).unwrap();
    let row = |reply: Option<u16>, won: Option<u32>| Edit::Row {
        id: 1,
        day: Some(3),
        source: 0,
        user: 0,
        reply,
        hot: false,
        appt: false,
        won,
        calls: (1, 1, 60),
    };
    let mut b = batch(&row(None, None));
    b.puts.extend(batch(&row(Some(90), None)).puts);
    b.puts.extend(batch(&row(Some(90), Some(5_000))).puts);
    db.commit(&b).unwrap();
    let kept = db.with_analytics(Clone::clone).unwrap();
    assert_eq!(kept, db.analytics_recount().unwrap().0);
    let day = kept.days.values().next().unwrap();
    assert_eq!(
        (day.leads.leads, day.leads.contacted, day.leads.won, day.leads.won_cents),
        (1, 1, 1, 500_000)
    );
}
