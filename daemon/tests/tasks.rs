//! Tasks end to end against the simulator: a task created from a lead is in the lead's detail
//! and the Tasks list at once (pending), reaches GHL through the op log and is stored as GHL
//! made it; marked done it leaves the list at once and GHL has it completed; a task made in
//! GHL arrives when the lead's tasks are fetched, and one deleted there goes; the lead's
//! timeline shows notes and stage changes made here.

#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeSet;
use std::sync::Arc;

use leadline_daemon::ipc::{edits, handler};
use leadline_daemon::state::State;
use leadline_daemon::sync::{pull, push};
use leadline_shared::config::Config;
use leadline_shared::domain::OpKind;
use leadline_shared::protocol::{LeadDetail, Request, Response, TaskList};

async fn lead(state: &Arc<State>, id: &str) -> LeadDetail {
    match handler::handle(state, Request::Lead { id: id.into() }).await.unwrap() {
        Response::Lead(d) => *d,
        other => panic!("{other:?}"),
    }
}

async fn tasks(state: &Arc<State>) -> TaskList {
    match handler::handle(state, Request::Tasks { limit: 100 }).await.unwrap() {
        Response::Tasks(l) => *l,
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_are_created_listed_completed_and_synced() {
    let dir = tempfile::tempdir().unwrap();
    let (sim, ghl, state) = support::synced_location(dir.path(), 10, Config::default()).await;
    let contact = state.db.contact_ids().unwrap().remove(0);
    // Whatever the seed gave the contact, fetched first so the counts below are its own.
    pull::tasks_of(&state, &ghl, &BTreeSet::from([contact.clone()])).await.unwrap();
    let before = state.db.tasks_for(&contact).unwrap().len();
    let open_before = tasks(&state).await.tasks.len();

    // Created here: pending at once, in the lead's timeline and the Tasks list.
    let due: jiff::Timestamp =
        (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(20)).round(jiff::Unit::Second).unwrap();
    edits::edit(&state, &contact, OpKind::AddTask { title: "Call back".into(), due_at: due }).await.unwrap();
    let detail = lead(&state, &contact).await;
    assert!(detail.timeline.iter().any(|e| e.kind == "task" && e.pending && e.text.starts_with("Call back")));
    let list = tasks(&state).await;
    assert!(list.tasks.iter().any(|t| t.pending && t.task.title.as_deref() == Some("Call back")));

    // Pushed: GHL has it, and the store has GHL's record (with its id), no longer pending.
    assert_eq!(push::push(&state, &ghl).await.unwrap().accepted, 1);
    let in_ghl =
        sim.with_store(|s| s.tasks(&contact).iter().find(|t| t.title == "Call back").cloned()).unwrap();
    assert!(!in_ghl.completed);
    let stored = state.db.tasks_for(&contact).unwrap();
    assert_eq!(stored.len(), before + 1);
    let task = stored.iter().find(|t| t.id == in_ghl.id).unwrap();
    assert_eq!(task.due_date, Some(due));
    let list = tasks(&state).await;
    assert_eq!(list.tasks.len(), open_before + 1);
    assert!(list.tasks.iter().any(|t| !t.pending && t.task.id == in_ghl.id && !t.lead_name.is_empty()));

    // Marked done: off the list at once, done locally, and completed in GHL once pushed.
    edits::edit(&state, &contact, OpKind::CompleteTask { task_id: in_ghl.id.clone() }).await.unwrap();
    assert!(tasks(&state).await.tasks.iter().all(|t| t.task.id != in_ghl.id));
    assert!(state.db.task(&in_ghl.id).unwrap().unwrap().completed);
    // A fetch while the op waits keeps it done (GHL still says open).
    pull::tasks_of(&state, &ghl, &BTreeSet::from([contact.clone()])).await.unwrap();
    assert!(state.db.task(&in_ghl.id).unwrap().unwrap().completed, "the pending op is laid over GHL's copy");
    assert_eq!(push::push(&state, &ghl).await.unwrap().accepted, 1);
    assert!(sim.with_store(|s| s.tasks(&contact).iter().find(|t| t.id == in_ghl.id).unwrap().completed));

    // A task made in GHL arrives with the next fetch of the lead's tasks; one deleted goes.
    let user = support::GhlUser::of(&sim);
    let resp = reqwest::Client::new()
        .post(format!("{}/contacts/{contact}/tasks", user.base_url))
        .bearer_auth(&user.token)
        .header("Version", "2021-07-28")
        .json(&serde_json::json!({"title": "Made in GHL", "dueDate": "2020-01-01T10:00:00Z", "completed": false}))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
    user.delete(&format!("/contacts/{contact}/tasks/{}", in_ghl.id)).await;
    let changed = pull::tasks_of(&state, &ghl, &BTreeSet::from([contact.clone()])).await.unwrap();
    assert_eq!(changed, vec![contact.clone()]);
    let stored = state.db.tasks_for(&contact).unwrap();
    assert!(stored.iter().any(|t| t.title.as_deref() == Some("Made in GHL")));
    assert!(stored.iter().all(|t| t.id != in_ghl.id), "deleted in GHL, gone here");
    let list = tasks(&state).await;
    assert_eq!(list.tasks[0].task.title.as_deref(), Some("Made in GHL"), "overdue first");

    // A note made here is in the timeline once GHL has it, not pending any more.
    edits::edit(&state, &contact, OpKind::AddNote { body: "Prefers texts".into() }).await.unwrap();
    assert!(lead(&state, &contact).await.timeline.iter().any(|e| e.kind == "note" && e.pending));
    push::push(&state, &ghl).await.unwrap();
    let detail = lead(&state, &contact).await;
    assert!(detail.timeline.iter().any(|e| e.kind == "note" && !e.pending && e.text == "Prefers texts"));
    sim.shutdown().await;
}

/// A stage changed here shows in the timeline at once as pending, then as GHL has it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stage_change_is_in_the_timeline() {
    let dir = tempfile::tempdir().unwrap();
    let (sim, ghl, state) = support::synced_location(dir.path(), 30, Config::default()).await;
    let pipelines = state.db.pipelines().unwrap();
    let deal = state
        .db
        .opportunity_ids()
        .unwrap()
        .into_iter()
        .filter_map(|id| state.db.opportunity(&id).unwrap())
        .find(|o| pipelines.iter().any(|p| p.id == o.pipeline_id && p.stages.len() > 1))
        .expect("a deal in a pipeline of several stages");
    let pipeline = pipelines.iter().find(|p| p.id == deal.pipeline_id).unwrap();
    let to = pipeline.stages.iter().find(|s| s.id != deal.pipeline_stage_id).unwrap();
    let op = OpKind::SetStage { opportunity_id: deal.id.clone(), pipeline_stage_id: to.id.clone() };
    edits::edit(&state, &deal.contact_id, op).await.unwrap();
    let detail = lead(&state, &deal.contact_id).await;
    let entry = detail.timeline.iter().find(|e| e.kind == "stage").expect("a stage entry");
    assert!(entry.pending && entry.text.ends_with(&to.name), "{entry:?}");
    assert!(detail.pipelines.iter().any(|p| p.id == pipeline.id));
    push::push(&state, &ghl).await.unwrap();
    let detail = lead(&state, &deal.contact_id).await;
    assert!(detail.timeline.iter().any(|e| e.kind == "stage" && !e.pending && e.text.ends_with(&to.name)));
    sim.shutdown().await;
}
