//! The edits the dashboard sends for many marked leads at once, against the simulator: a deal
//! moved by its stage's name (the daemon finds each lead's open deal and the stage in its
//! pipeline) and a lead enrolled in a GHL workflow (by id, or by a name from the config), each
//! through the op log to GHL; a name no stage has, or a lead with no open deal, is refused
//! with why, and nothing is queued.

#![allow(clippy::unwrap_used)]

mod support;

use leadline_daemon::ipc::handler;
use leadline_daemon::sync::push;
use leadline_shared::config::Config;
use leadline_shared::domain::{OpKind, OpportunityStatus};
use leadline_shared::protocol::{ErrorKind, Request, Response};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deals_move_by_stage_name_and_leads_enroll_in_workflows() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    config.ghl.workflows.insert("Buyer nurture".into(), "wf_buyer_123".into());
    let (sim, ghl, state) = support::synced_location(dir.path(), 30, config).await;

    // A lead with one open deal in a pipeline of several stages.
    let pipelines = state.db.pipelines().unwrap();
    let deals: Vec<_> = state
        .db
        .opportunity_ids()
        .unwrap()
        .into_iter()
        .filter_map(|id| state.db.opportunity(&id).unwrap())
        .collect();
    let deal = deals
        .iter()
        .find(|o| {
            o.status == OpportunityStatus::Open
                && deals.iter().filter(|d| d.contact_id == o.contact_id).count() == 1
                && pipelines.iter().any(|p| p.id == o.pipeline_id && p.stages.len() > 1)
        })
        .expect("a lead with one open deal");
    let pipeline = pipelines.iter().find(|p| p.id == deal.pipeline_id).unwrap();
    let to = pipeline.stages.iter().find(|s| s.id != deal.pipeline_stage_id).unwrap();

    // Moved by the stage's name, typed loosely: the deal moves here at once, and in GHL once
    // pushed.
    let request = Request::MoveDeal {
        contact_id: deal.contact_id.clone(),
        stage: format!("  {} ", to.name.to_uppercase()),
    };
    let answer = handler::handle(&state, request).await.unwrap();
    assert!(matches!(answer, Response::Accepted { .. }), "{answer:?}");
    assert_eq!(state.db.opportunity(&deal.id).unwrap().unwrap().pipeline_stage_id, to.id);

    // A name no stage has is refused with the stages there are, and queues nothing.
    let pending = state.db.pending_ops().unwrap().len();
    let refused = handler::handle(
        &state,
        Request::MoveDeal { contact_id: deal.contact_id.clone(), stage: "Moon landing".into() },
    )
    .await
    .unwrap_err();
    assert_eq!(refused.kind, ErrorKind::BadRequest);
    assert!(refused.message.contains("has no stage \"Moon landing\"") && refused.message.contains(&to.name));
    // A lead without any deal is told so.
    let no_deal = state
        .db
        .contact_ids()
        .unwrap()
        .into_iter()
        .find(|c| deals.iter().all(|d| d.contact_id != *c))
        .expect("a lead without a deal");
    let refused =
        handler::handle(&state, Request::MoveDeal { contact_id: no_deal.clone(), stage: to.name.clone() })
            .await
            .unwrap_err();
    assert!(refused.message.contains("no deal"), "{}", refused.message);
    assert_eq!(state.db.pending_ops().unwrap().len(), pending);

    // Enrolled by the config's name and by an id; a blank one is refused.
    for (lead, workflow) in [(&deal.contact_id, "buyer NURTURE"), (&no_deal, "wf_seller_9")] {
        let op = OpKind::EnrollWorkflow { workflow_id: workflow.into() };
        let answer = handler::handle(&state, Request::Edit { contact_id: lead.clone(), op }).await.unwrap();
        assert!(matches!(answer, Response::Accepted { .. }), "{answer:?}");
    }
    let blank = OpKind::EnrollWorkflow { workflow_id: " ".into() };
    let refused =
        handler::handle(&state, Request::Edit { contact_id: no_deal.clone(), op: blank }).await.unwrap_err();
    assert_eq!(refused.kind, ErrorKind::BadRequest);

    assert_eq!(push::push(&state, &ghl).await.unwrap().accepted, 3);
    assert_eq!(sim.with_store(|s| s.opportunity(&deal.id).unwrap().pipeline_stage_id.clone()), to.id);
    let enrolled: Vec<(String, String)> = sim.with_store(|s| {
        s.enrollments.iter().map(|e| (e.contact_id.clone(), e.workflow_id.clone())).collect()
    });
    assert_eq!(
        enrolled,
        vec![
            (deal.contact_id.clone(), "wf_buyer_123".to_owned()),
            (no_deal.clone(), "wf_seller_9".to_owned())
        ]
    );
    assert!(state.db.pending_ops().unwrap().is_empty());
    sim.shutdown().await;
}
