//! The Tasks screen's list, and fetching a lead's tasks from GHL when it is opened.

use std::collections::BTreeSet;
use std::sync::Arc;

use jiff::SignedDuration;
use leadline_shared::domain::{OpKind, OpState, Task};
use leadline_shared::protocol::{ErrorKind, RemoteError, Response, TaskList, TaskView};

use crate::state::State;
use crate::sync::SyncCommand;

/// The most tasks one request may ask for.
pub const MAX_TASKS_LIMIT: u32 = 2_000;

/// How long a lead's tasks fetched on opening it stay fresh: moving up and down a queue must
/// not cost a GHL request per keypress.
pub const TASKS_FRESH_FOR: SignedDuration = SignedDuration::from_mins(5);

/// How many leads' fetch times are remembered; past it the oldest are forgotten.
const REMEMBERED: usize = 2_000;

/// Asks sync for the lead's tasks unless they were fetched lately (or sync is off).
pub fn fetch_on_open(state: &State, contact_id: &str) {
    let Some(tx) = state.sync_commands() else {
        return;
    };
    let now = state.clock.now();
    {
        let Ok(mut seen) = state.task_fetches.lock() else {
            return;
        };
        if seen.get(contact_id).is_some_and(|at| now.duration_since(*at) < TASKS_FRESH_FOR) {
            return;
        }
        if seen.len() >= REMEMBERED {
            seen.retain(|_, at| now.duration_since(*at) < TASKS_FRESH_FOR);
        }
        seen.insert(contact_id.to_owned(), now);
    }
    // A full command queue means sync is busy: the tasks come with a later open.
    let _ = tx.try_send(SyncCommand::Tasks(BTreeSet::from([contact_id.to_owned()])));
}

/// The open tasks, soonest due first, with the tasks created here and not yet in GHL among
/// them, and a task being marked done left out.
pub async fn list(state: &Arc<State>, limit: u32) -> Result<Response, RemoteError> {
    if limit == 0 || limit > MAX_TASKS_LIMIT {
        return Err(RemoteError::new(
            ErrorKind::BadRequest,
            format!(
                "--limit {limit} is not between 1 and {MAX_TASKS_LIMIT}; ask for that many tasks at most"
            ),
        ));
    }
    let state = state.clone();
    tokio::task::spawn_blocking(move || {
        let internal = |e: crate::store::StoreError| RemoteError::new(ErrorKind::Internal, e.to_string());
        let (open, total) = state.db.open_tasks(limit as usize).map_err(internal)?;
        let ops = state.db.pending_ops().map_err(internal)?;
        let views = assemble(open, &ops, limit as usize, |id| {
            state.db.lead(id).ok().flatten().map(|l| (l.name, l.timezone))
        });
        Ok(Response::Tasks(Box::new(TaskList { total, tasks: views })))
    })
    .await
    .map_err(|e| RemoteError::new(ErrorKind::Internal, format!("listing tasks failed unexpectedly: {e}")))?
}

/// The Tasks list from the stored open tasks and the pending ops: a task being marked done is
/// left out, one being created is put in by its due time (marked pending), at most `limit`.
/// `lead` names a lead and its zone.
pub fn assemble(
    open: Vec<Task>,
    ops: &[leadline_shared::domain::PendingOp],
    limit: usize,
    lead: impl Fn(&str) -> Option<(String, Option<String>)>,
) -> Vec<TaskView> {
    let live = |o: &&leadline_shared::domain::PendingOp| o.state != OpState::OutOfSync;
    let done: BTreeSet<&str> = ops
        .iter()
        .filter(live)
        .filter_map(|o| match &o.kind {
            OpKind::CompleteTask { task_id } => Some(task_id.as_str()),
            _ => None,
        })
        .collect();
    let mut views: Vec<TaskView> = open
        .into_iter()
        .filter(|t| !done.contains(t.id.as_str()))
        .map(|task| TaskView { task, ..TaskView::default() })
        .collect();
    for op in ops.iter().filter(live) {
        if let OpKind::AddTask { title, due_at } = &op.kind {
            views.push(TaskView {
                task: Task {
                    title: Some(title.clone()),
                    due_date: Some(*due_at),
                    contact_id: op.contact_id.clone(),
                    ..Task::default()
                },
                op_seq: Some(op.seq),
                pending: true,
                ..TaskView::default()
            });
        }
    }
    // Stable: the index's order (due, then id) is kept among equal due times.
    views.sort_by_key(|v| (v.task.due_date.is_none(), v.task.due_date));
    views.truncate(limit);
    for v in &mut views {
        if let Some((name, zone)) = lead(&v.task.contact_id) {
            v.lead_name = name;
            v.timezone = zone;
        }
    }
    views
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::Timestamp;
    use leadline_shared::domain::PendingOp;

    fn task(id: &str, due: Option<&str>) -> Task {
        Task {
            id: id.into(),
            title: Some(id.into()),
            due_date: due.map(|d| d.parse().expect("ts")),
            contact_id: "c1".into(),
            ..Task::default()
        }
    }

    fn op(seq: u64, kind: OpKind) -> PendingOp {
        PendingOp::new(seq, "c1", kind, Timestamp::UNIX_EPOCH)
    }

    #[test]
    fn pending_tasks_join_by_due_time_and_tasks_being_done_leave() {
        let open = vec![
            task("a", Some("2026-12-01T09:00:00Z")),
            task("b", Some("2026-12-03T09:00:00Z")),
            task("c", None),
            task("d", Some("2026-12-04T09:00:00Z")),
        ];
        let ops = vec![
            op(
                1,
                OpKind::AddTask { title: "new".into(), due_at: "2026-12-02T09:00:00Z".parse().expect("ts") },
            ),
            op(2, OpKind::CompleteTask { task_id: "d".into() }),
            op(3, OpKind::AddTag { tag: "x".into() }),
        ];
        let views = assemble(open, &ops, 10, |_| Some(("Maria".into(), Some("America/Chicago".into()))));
        let titles: Vec<(&str, bool)> =
            views.iter().map(|v| (v.task.title.as_deref().unwrap_or(""), v.pending)).collect();
        assert_eq!(titles, [("a", false), ("new", true), ("b", false), ("c", false)]);
        assert_eq!(views[1].op_seq, Some(1));
        assert_eq!(views[0].lead_name, "Maria");
        assert_eq!(assemble(vec![task("a", None)], &ops, 1, |_| None).len(), 1);
    }
}
