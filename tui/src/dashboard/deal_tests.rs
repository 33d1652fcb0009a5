//! The lead pane scrolled, its timeline of notes, tasks and stage changes, the Deal screen
//! with its calculator and stage picker, tasks added from a lead, and the Tasks screen: driven
//! by keys over fixture data, snapshotted at 80×24 and 160×48.

use jiff::tz::TimeZone;
use leadline_shared::domain::{OpKind, Opportunity, PendingOp, Pipeline, Stage, Task};
use leadline_shared::protocol::{LeadDetail, TaskList, TaskView, TimelineEntry};

use super::{Harness, SIZES, assert_screen, detail, now};
use crate::dashboard::app::{Effect, Screen};

fn at(secs_ago: i64) -> jiff::Timestamp {
    jiff::Timestamp::from_second(now().as_second() - secs_ago).unwrap()
}

/// A lead with a deal in a five-stage pipeline, a stage change waiting for GHL, a note and a
/// task of its own and one on their way, and a long timeline.
fn deal_detail(id: &str) -> LeadDetail {
    let mut d = detail(id);
    d.pipelines = vec![Pipeline {
        id: "p1".into(),
        name: "Buyers".into(),
        stages: ["New lead", "Contacted", "Qualified", "Showing", "Offer made"]
            .iter()
            .enumerate()
            .map(|(i, n)| Stage { id: format!("s{i}"), name: (*n).into(), position: Some(i as i64) })
            .collect(),
        ..Pipeline::default()
    }];
    d.opportunities = vec![Opportunity {
        id: "o1".into(),
        name: Some("12 Elm St purchase".into()),
        monetary_value: Some(425_000.0),
        pipeline_id: "p1".into(),
        pipeline_stage_id: "s2".into(),
        contact_id: id.into(),
        last_stage_change_at: Some(at(86_400 * 3)),
        created_at: Some(at(86_400 * 20)),
        ..Opportunity::default()
    }];
    let entry = |secs: i64, kind: &str, text: &str, pending: bool| TimelineEntry {
        at: Some(at(secs)),
        kind: kind.into(),
        text: text.into(),
        pending,
        ..TimelineEntry::default()
    };
    d.timeline.extend([
        entry(600, "note", "Wants a yard for the dog", true),
        entry(-86_400, "task", "Call back about the inspection (due)", false),
        entry(86_400 * 3, "stage", "12 Elm St purchase: Contacted → Qualified", false),
        entry(86_400 * 5, "stage", "12 Elm St purchase: New lead → Contacted", false),
        entry(86_400 * 6, "task", "Send comps (done)", false),
    ]);
    for i in 0..12 {
        d.timeline.push(entry(86_400 * (7 + i), "note", &format!("Older note {i}"), false));
    }
    d.tasks = vec![Task {
        id: "t1".into(),
        title: Some("Call back about the inspection".into()),
        due_date: Some(at(-86_400)),
        contact_id: id.into(),
        ..Task::default()
    }];
    d
}

/// The same lead with a stage change to Showing waiting for GHL.
fn deal_detail_pending(id: &str) -> LeadDetail {
    let mut d = deal_detail(id);
    d.pending_ops.push(PendingOp::new(
        31,
        id,
        OpKind::SetStage { opportunity_id: "o1".into(), pipeline_stage_id: "s3".into() },
        at(30),
    ));
    d
}

fn harness(w: u16, h: u16) -> Harness {
    let mut t = Harness::online(w, h);
    t.details = Some(deal_detail);
    t.app.set_time_zone(TimeZone::UTC);
    t
}

#[test]
fn snapshot_lead_timeline_and_scrolled() {
    for (w, h) in SIZES {
        let mut t = harness(w, h);
        t.press("3 j enter");
        let top = t.screen();
        assert!(top.contains("more ↓"), "{top}");
        assert_screen(&format!("lead_timeline_{w}x{h}"), t.draw());
        // J scrolls a line at a time; focused, the page keys scroll by a page.
        t.press("J J");
        assert_eq!(t.app.detail_scroll(), 2);
        t.press("l pgdn pgdn G");
        assert!(t.app.detail_focused());
        let bottom = t.screen();
        assert!(bottom.contains("Older note 11") && bottom.contains("↑ more"), "{bottom}");
        assert!(!bottom.contains("more ↓"), "{bottom}");
        assert_screen(&format!("lead_scrolled_{w}x{h}"), t.draw());
        // esc gives the keys back to the list; another lead starts at the top.
        t.press("esc j");
        assert!(!t.app.detail_focused());
        assert_eq!(t.app.detail_scroll(), 0);
    }
}

#[test]
fn snapshot_deal_with_calculator() {
    for (w, h) in SIZES {
        let mut t = harness(w, h);
        t.press("3 j d");
        let screen = t.screen();
        // $425,000 × 2.5 % = $10,625 gross; 80 % of it is $8,500 net.
        assert!(screen.contains("$10,625") && screen.contains("$8,500"), "{screen}");
        // Costs of $1,500: profit $7,000, ROI 467 %.
        t.press("k enter");
        t.type_text("1500\n");
        let screen = t.screen();
        assert!(screen.contains("$7,000") && screen.contains("467 %"), "{screen}");
        // Dual agency doubles the gross.
        t.press("j j enter enter");
        assert!(t.screen().contains("$21,250"));
        assert_screen(&format!("deal_calculator_{w}x{h}"), t.draw());
        // A rate out of range is refused with why.
        t.press("j enter backspace backspace backspace");
        t.type_text("9\n");
        assert!(t.screen().contains("between 1 and 6"));
        t.press("esc");
        assert_eq!(t.app.deal().map(|d| d.inputs.map(|i| i.rate_pct)), Some(Some(2.5)));
        t.press("esc");
        assert!(t.app.deal().is_none());
    }
}

#[test]
fn snapshot_stage_picker_and_pending_stage() {
    for (w, h) in SIZES {
        let mut t = harness(w, h);
        t.press("3 j d S");
        assert_screen(&format!("deal_stage_picker_{w}x{h}"), t.draw());
        t.press("j enter");
        let edit = t.other.iter().find_map(|e| match e {
            Effect::Edit { op, .. } => Some(op.clone()),
            _ => None,
        });
        assert_eq!(
            edit,
            Some(OpKind::SetStage { opportunity_id: "o1".into(), pipeline_stage_id: "s3".into() })
        );
        // The daemon accepted it: the deal shows the move waiting for GHL.
        t.details = Some(deal_detail_pending);
        t.update(crate::dashboard::app::Update::EditAccepted {
            contact_id: "c00006".into(),
            op: edit.unwrap(),
            seq: 31,
        });
        let screen = t.screen();
        assert!(screen.contains("→ Showing (waiting for GHL)"), "{screen}");
        assert_screen(&format!("deal_stage_pending_{w}x{h}"), t.draw());
    }
}

fn task_list() -> TaskList {
    let view = |id: &str, title: &str, secs_ago: i64, lead: &str, pending: bool| TaskView {
        task: Task {
            id: id.into(),
            title: Some(title.into()),
            due_date: Some(at(secs_ago)),
            contact_id: "c00006".into(),
            ..Task::default()
        },
        lead_name: lead.into(),
        timezone: Some("America/Chicago".into()),
        op_seq: pending.then_some(40),
        pending,
    };
    TaskList {
        total: 4,
        tasks: vec![
            view("t1", "Send the disclosures", 7_200, "Emily Okafor", false),
            view("t2", "Call back about the inspection", -3_600, "Aisha Okafor", false),
            view("", "Call back", -86_400, "Aisha Okafor", true),
            view("t3", "Book the appraisal", -86_400 * 3, "Tom Nguyen", false),
        ],
    }
}

#[test]
fn snapshot_tasks_screen() {
    for (w, h) in SIZES {
        let mut t = harness(w, h);
        t.task_list = task_list();
        t.press("w");
        assert_eq!(t.app.screen(), Screen::Tasks);
        assert_screen(&format!("tasks_{w}x{h}"), t.draw());
        // X marks the selected (overdue) task done through the op log.
        t.press("X");
        assert!(t.other.iter().any(
            |e| matches!(e, Effect::Edit { op: OpKind::CompleteTask { task_id }, .. } if task_id == "t1")
        ));
        // One not yet in GHL cannot be.
        t.press("j j X");
        assert!(t.screen().contains("not in GHL yet"));
        t.press("esc esc");
        assert_eq!(t.app.screen(), Screen::Queue);
    }
}

#[test]
fn a_task_is_added_from_a_lead_with_one_key() {
    let mut t = harness(80, 24);
    t.press("3 j o");
    assert_screen("task_prompt_80x24", t.draw());
    t.type_text("Call back tomorrow 10am\n");
    let op = t.other.iter().find_map(|e| match e {
        Effect::Edit { op, .. } => Some(op.clone()),
        _ => None,
    });
    // The harness's clock is 2025-06-02 15:00 UTC.
    assert_eq!(
        op,
        Some(OpKind::AddTask { title: "Call back".into(), due_at: "2025-06-03T10:00:00Z".parse().unwrap() })
    );
    // Nothing usable as a title: the prompt stays, with why.
    t.press("o");
    t.type_text("tomorrow\n");
    assert!(t.app.prompt().is_some());
    assert!(t.screen().contains("give the task a title"));
}
