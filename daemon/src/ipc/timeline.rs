//! A lead's timeline: messages, notes, tasks, deal stage changes and the deals themselves,
//! with the edits still on their way to GHL, merged newest first. Pure: the handler reads the
//! parts, [`merge`] orders them.

use jiff::Timestamp;
use leadline_shared::domain::{Direction, Message, Note, OpKind, Opportunity, PendingOp, Pipeline, Task};
use leadline_shared::protocol::TimelineEntry;

use crate::store::StageChange;

/// What a lead's timeline is made of, as the store holds it.
#[derive(Debug, Default)]
pub struct Parts<'a> {
    pub messages: Vec<Message>,
    pub notes: &'a [Note],
    pub tasks: &'a [Task],
    pub stage_changes: &'a [StageChange],
    pub opportunities: &'a [Opportunity],
    pub pipelines: &'a [Pipeline],
    /// The lead's edits not yet in GHL: a note, task or stage change among them shows as
    /// pending at the time it was made.
    pub pending: &'a [PendingOp],
}

/// The name of a stage, `Buyers · Showing`, or its id when the pipeline is not known.
fn stage_name(pipelines: &[Pipeline], pipeline_id: &str, stage_id: &str) -> String {
    pipelines
        .iter()
        .find(|p| p.id == pipeline_id)
        .and_then(|p| p.stage_name(stage_id))
        .map_or_else(|| stage_id.to_owned(), str::to_owned)
}

fn deal_name(opportunities: &[Opportunity], id: &str) -> String {
    opportunities
        .iter()
        .find(|o| o.id == id)
        .and_then(|o| o.name.clone())
        .unwrap_or_else(|| "deal".to_owned())
}

/// Merges a lead's parts into its timeline, newest first, at most `limit` entries. Entries
/// without a time go last.
pub fn merge(parts: Parts<'_>, limit: usize) -> Vec<TimelineEntry> {
    let Parts { messages, notes, tasks, stage_changes, opportunities, pipelines, pending } = parts;
    let mut timeline: Vec<TimelineEntry> = messages
        .into_iter()
        .filter(|m| m.is_conversational())
        .map(|m| TimelineEntry {
            at: m.date_added,
            kind: "message".into(),
            direction: Some(m.direction).filter(|d| *d != Direction::Unknown),
            channel: Some(m.channel().to_owned()),
            text: m.body.unwrap_or_default(),
            pending: false,
        })
        .collect();
    let entry = |at: Option<Timestamp>, kind: &str, text: String, pending: bool| TimelineEntry {
        at,
        kind: kind.into(),
        text,
        pending,
        ..TimelineEntry::default()
    };
    for n in notes {
        timeline.push(entry(n.date_added, "note", n.body.clone().unwrap_or_default(), false));
    }
    for t in tasks {
        let mark = if t.completed { "done" } else { "due" };
        let title = t.title.clone().unwrap_or_else(|| "task".to_owned());
        timeline.push(entry(t.due_date, "task", format!("{title} ({mark})"), false));
    }
    for c in stage_changes {
        let to = stage_name(pipelines, &c.pipeline_id, &c.to_stage);
        let text = match &c.from_stage {
            Some(from) => format!(
                "{}: {} → {to}",
                deal_name(opportunities, &c.opportunity_id),
                stage_name(pipelines, &c.pipeline_id, from)
            ),
            None => format!("{}: moved to {to}", deal_name(opportunities, &c.opportunity_id)),
        };
        // A move made here is the deal's latest, to the stage a waiting op names: pending.
        let latest = !stage_changes.iter().any(|o| o.opportunity_id == c.opportunity_id && o.at > c.at);
        let waiting = latest
            && pending.iter().any(|op| {
                matches!(&op.kind, OpKind::SetStage { opportunity_id, pipeline_stage_id }
                    if *opportunity_id == c.opportunity_id && *pipeline_stage_id == c.to_stage)
            });
        timeline.push(entry(Some(c.at), "stage", text, waiting));
    }
    for o in opportunities {
        let stage = pipelines
            .iter()
            .find(|p| p.id == o.pipeline_id)
            .and_then(|p| p.stage_name(&o.pipeline_stage_id).map(|s| format!("{} · {s}", p.name)))
            .unwrap_or_default();
        let value = o.monetary_value.map(|v| format!(" · ${v:.0}")).unwrap_or_default();
        let text = format!(
            "{} ({}) {stage}{value}",
            o.name.as_deref().unwrap_or("deal"),
            format!("{:?}", o.status).to_lowercase()
        );
        timeline.push(entry(o.updated_at.or(o.created_at), "deal", text, false));
    }
    for op in pending {
        match &op.kind {
            OpKind::AddNote { body } => timeline.push(entry(Some(op.created_at), "note", body.clone(), true)),
            OpKind::AddTask { title, due_at } => {
                timeline.push(entry(Some(*due_at), "task", format!("{title} (due)"), true));
            }
            _ => {}
        }
    }
    // Newest first; the order of equal times is kept (stable), so it does not flicker.
    timeline.sort_by_key(|e| std::cmp::Reverse(e.at));
    timeline.truncate(limit);
    timeline
}

#[cfg(test)]
mod tests {
    use super::*;
    use leadline_shared::domain::Stage;

    fn at(s: &str) -> Timestamp {
        s.parse().expect("ts")
    }

    fn message(id: &str, when: &str, body: &str) -> Message {
        serde_json::from_value(serde_json::json!({
            "id": id, "contactId": "c1", "body": body, "direction": "inbound",
            "messageType": "TYPE_SMS", "dateAdded": when,
        }))
        .expect("message")
    }

    fn op(seq: u64, kind: OpKind, when: &str) -> PendingOp {
        PendingOp::new(seq, "c1", kind, at(when))
    }

    /// Every kind lands in time order, newest first, each marked by its kind; a local stage
    /// move and a note not yet in GHL are pending, GHL's own are not.
    #[test]
    fn merges_every_kind_newest_first() {
        let pipelines = vec![Pipeline {
            id: "p1".into(),
            name: "Buyers".into(),
            stages: vec![
                Stage { id: "s1".into(), name: "New".into(), ..Stage::default() },
                Stage { id: "s2".into(), name: "Showing".into(), ..Stage::default() },
            ],
            ..Pipeline::default()
        }];
        let deal = Opportunity {
            id: "o1".into(),
            name: Some("12 Elm St".into()),
            pipeline_id: "p1".into(),
            pipeline_stage_id: "s2".into(),
            contact_id: "c1".into(),
            created_at: Some(at("2026-11-01T10:00:00Z")),
            ..Opportunity::default()
        };
        let notes = vec![Note {
            id: "n1".into(),
            body: Some("Prefers texts".into()),
            date_added: Some(at("2026-11-03T10:00:00Z")),
            contact_id: "c1".into(),
            ..Note::default()
        }];
        let tasks = vec![Task {
            id: "t1".into(),
            title: Some("Send comps".into()),
            due_date: Some(at("2026-11-05T10:00:00Z")),
            completed: true,
            contact_id: "c1".into(),
            ..Task::default()
        }];
        let changes = vec![
            StageChange {
                at: at("2026-11-02T10:00:00Z"),
                opportunity_id: "o1".into(),
                pipeline_id: "p1".into(),
                from_stage: None,
                to_stage: "s1".into(),
            },
            StageChange {
                at: at("2026-11-06T10:00:00Z"),
                opportunity_id: "o1".into(),
                pipeline_id: "p1".into(),
                from_stage: Some("s1".into()),
                to_stage: "s2".into(),
            },
        ];
        let pending = vec![
            op(
                1,
                OpKind::SetStage { opportunity_id: "o1".into(), pipeline_stage_id: "s2".into() },
                "2026-11-06T10:00:00Z",
            ),
            op(2, OpKind::AddNote { body: "Called, no answer".into() }, "2026-11-07T10:00:00Z"),
            op(
                3,
                OpKind::AddTask { title: "Call back".into(), due_at: at("2026-11-08T15:00:00Z") },
                "2026-11-07T11:00:00Z",
            ),
            op(4, OpKind::AddTag { tag: "vip".into() }, "2026-11-07T12:00:00Z"),
        ];
        let parts = Parts {
            messages: vec![message("m1", "2026-11-04T10:00:00Z", "Is it still available?")],
            notes: &notes,
            tasks: &tasks,
            stage_changes: &changes,
            opportunities: std::slice::from_ref(&deal),
            pipelines: &pipelines,
            pending: &pending,
        };
        let got: Vec<(String, String, bool)> =
            merge(parts, 100).into_iter().map(|e| (e.kind, e.text, e.pending)).collect();
        let want = [
            ("task", "Call back (due)", true),
            ("note", "Called, no answer", true),
            ("stage", "12 Elm St: New → Showing", true),
            ("task", "Send comps (done)", false),
            ("message", "Is it still available?", false),
            ("note", "Prefers texts", false),
            ("stage", "12 Elm St: moved to New", false),
            ("deal", "12 Elm St (open) Buyers · Showing", false),
        ];
        let want: Vec<(String, String, bool)> =
            want.iter().map(|(k, t, p)| (k.to_string(), t.to_string(), *p)).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn keeps_the_newest_up_to_the_limit() {
        let messages = (0..5)
            .map(|i| message(&format!("m{i}"), &format!("2026-11-0{}T10:00:00Z", i + 1), &format!("m{i}")))
            .collect();
        let got = merge(Parts { messages, ..Parts::default() }, 2);
        assert_eq!(got.iter().map(|e| e.text.as_str()).collect::<Vec<_>>(), ["m4", "m3"]);
    }
}
