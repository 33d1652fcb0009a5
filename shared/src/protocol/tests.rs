//! Codec round trips and hostile frames.

use bytes::BytesMut;
use proptest::prelude::*;
use tokio_util::codec::{Decoder, Encoder};

use super::*;
use crate::domain::{LeadSummary, Temperature};

fn arb_queue() -> impl Strategy<Value = QueueName> {
    prop_oneof![
        proptest::sample::select(QueueName::BUILT_IN.to_vec()),
        "[a-z][a-z0-9 ]{0,20}".prop_map(|s| s.parse().unwrap_or(QueueName::All)),
    ]
}

fn arb_request() -> impl Strategy<Value = Request> {
    prop_oneof![
        Just(Request::Ping),
        Just(Request::Status),
        Just(Request::Subscribe),
        (arb_queue(), any::<u32>(), any::<u64>(), proptest::option::of((".{0,20}", any::<u32>()))).prop_map(
            |(name, limit, offset, anchor)| Request::Queue {
                name,
                limit,
                offset,
                anchor: anchor.map(|(id, before)| QueueAnchor { id, before }),
            }
        ),
        ".{0,40}".prop_map(|id| Request::Lead { id }),
        ".{0,40}".prop_map(|contact_id| Request::Compose { contact_id }),
        (".{0,40}", any::<u32>()).prop_map(|(query, limit)| Request::Search { query, limit }),
        any::<u32>().prop_map(|limit| Request::System { limit }),
        any::<u32>().prop_map(|lines| Request::LogTail { lines }),
        any::<u32>().prop_map(|limit| Request::Tasks { limit }),
        ("[a-z0-9]{1,8}", ".{0,20}").prop_map(|(contact_id, stage)| Request::MoveDeal { contact_id, stage }),
        "[a-z0-9]{1,8}".prop_map(|contact_id| Request::Assist { contact_id }),
        Just(Request::ModelStatus),
        Just(Request::TrainModel),
        (".{0,40}", any::<bool>()).prop_map(|(path, replace)| Request::ImportListings { path, replace }),
    ]
}

fn arb_client() -> impl Strategy<Value = ClientMessage> {
    prop_oneof![
        (any::<u16>(), ".{0,20}")
            .prop_map(|(protocol, app_version)| ClientMessage::Hello { protocol, app_version }),
        (any::<u64>(), arb_request()).prop_map(|(id, body)| ClientMessage::Request { id, body }),
    ]
}

fn arb_lead() -> impl Strategy<Value = LeadSummary> {
    (
        ".{0,30}",
        ".{0,30}",
        0u8..=100,
        proptest::sample::select(vec![Temperature::Hot, Temperature::Warm, Temperature::Cold]),
    )
        .prop_map(|(id, name, score, temperature)| LeadSummary {
            id,
            name,
            score,
            temperature,
            ..Default::default()
        })
}

fn arb_server() -> impl Strategy<Value = ServerMessage> {
    prop_oneof![
        (".{0,10}", any::<u16>(), any::<u32>()).prop_map(|(app_version, protocol, pid)| {
            ServerMessage::Welcome(Welcome { app_version, protocol, pid })
        }),
        (any::<u16>(), any::<u16>(), ".{0,40}")
            .prop_map(|(expected, got, message)| ServerMessage::Incompatible { expected, got, message }),
        (any::<u64>(), proptest::collection::vec(arb_lead(), 0..8), any::<u64>(), any::<u64>()).prop_map(
            |(id, rows, total, offset)| ServerMessage::Response {
                id,
                result: Ok(Response::Queue(Box::new(QueuePage { total, offset, rows, anchor_at: None }))),
            }
        ),
        (
            any::<u64>(),
            proptest::collection::vec(arb_lead(), 0..8),
            any::<u64>(),
            proptest::collection::vec("[a-z0-9]{1,8}", 0..3)
        )
            .prop_map(|(id, rows, total, terms)| ServerMessage::Response {
                id,
                result: Ok(Response::Search(Box::new(SearchPage { terms, total, rows }))),
            }),
        (any::<u64>(), ".{0,40}").prop_map(|(id, m)| ServerMessage::Response {
            id,
            result: Err(RemoteError::new(ErrorKind::NotFound, m))
        }),
        proptest::collection::vec(".{0,12}", 0..5)
            .prop_map(|ids| ServerMessage::Event { event: Event::LeadsChanged { ids } }),
    ]
}

/// Encodes through the real framing and decodes back.
fn through_the_wire<T: serde::Serialize + serde::de::DeserializeOwned>(msg: &T) -> T {
    let mut codec = framing();
    let mut buf = BytesMut::new();
    codec.encode(encode(msg).expect("encodes"), &mut buf).expect("frames");
    let frame = codec.decode(&mut buf).expect("reads").expect("a whole frame");
    assert!(buf.is_empty());
    decode(&frame).expect("decodes")
}

proptest! {
    #[test]
    fn client_messages_round_trip(msg in arb_client()) {
        prop_assert_eq!(through_the_wire(&msg), msg);
    }

    #[test]
    fn server_messages_round_trip(msg in arb_server()) {
        prop_assert_eq!(through_the_wire(&msg), msg);
    }

    #[test]
    fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        // Whatever arrives, decoding gives a message or an error, never a panic.
        let _ = decode::<ClientMessage>(&bytes);
        let mut codec = framing();
        let mut buf = BytesMut::from(&bytes[..]);
        while let Ok(Some(frame)) = codec.decode(&mut buf) {
            let _ = decode::<ClientMessage>(&frame);
        }
    }
}

#[test]
fn an_oversize_length_prefix_is_an_error_before_any_allocation() {
    let mut codec = framing();
    let mut buf = BytesMut::new();
    buf.extend_from_slice(&((MAX_FRAME_BYTES as u32) + 1).to_be_bytes());
    buf.extend_from_slice(b"{}");
    let err = codec.decode(&mut buf).expect_err("oversize refused");
    assert!(matches!(codec::classify_io(err), FrameError::Oversize { .. }));
}

#[test]
fn a_search_without_a_limit_asks_for_the_default() {
    let request: Request = serde_json::from_str(r#"{"type":"search","query":"maria"}"#).expect("decodes");
    assert_eq!(request, Request::Search { query: "maria".into(), limit: DEFAULT_SEARCH_LIMIT });
}

#[test]
fn malformed_json_is_a_typed_error() {
    assert!(matches!(decode::<ClientMessage>(b"{\"t\":\"hello\""), Err(FrameError::Malformed(_))));
    assert!(matches!(decode::<ClientMessage>(b"{\"t\":\"launch_missiles\"}"), Err(FrameError::Malformed(_))));
    assert!(matches!(decode::<ClientMessage>(&[0xff, 0xfe]), Err(FrameError::Malformed(_))));
}

#[test]
fn newer_peers_may_add_fields() {
    let hello = br#"{"t":"hello","protocol":1,"app_version":"9.9","features":["x"]}"#;
    assert_eq!(
        decode::<ClientMessage>(hello).expect("extra field ignored"),
        ClientMessage::Hello { protocol: 1, app_version: "9.9".into() }
    );
}

#[test]
fn the_hello_frame_is_stable() {
    // Old daemons must understand a new client's Hello to refuse it cleanly: its shape is fixed.
    let hello = ClientMessage::Hello { protocol: PROTOCOL_VERSION, app_version: "1.0".into() };
    assert_eq!(
        String::from_utf8(encode(&hello).expect("encodes").to_vec()).expect("utf8"),
        format!(r#"{{"t":"hello","protocol":{PROTOCOL_VERSION},"app_version":"1.0"}}"#)
    );
}

#[test]
fn compose_answers_and_held_sends_round_trip() {
    use crate::domain::{Hold, OpKind, PendingOp};
    let until: jiff::Timestamp = "2026-03-05T14:00:00Z".parse().expect("timestamp");
    let hold = Hold { until, reason: "It is 21:40 for this lead (America/Chicago): quiet hours".into() };
    let info = ComposeInfo {
        contact_id: "c1".into(),
        lead_name: "Maria Gonzalez".into(),
        timezone: Some("America/Chicago".into()),
        channels: vec![
            ChannelCheck { channel: "sms".into(), blocked: None, hold: Some(hold.clone()) },
            ChannelCheck { channel: "email".into(), blocked: Some("Email DND in GHL".into()), hold: None },
        ],
        templates: vec![TemplateChoice {
            id: "welcome_email".into(),
            channel: "email".into(),
            subject: Some("Welcome".into()),
            body: Some("Hi Maria".into()),
            ..TemplateChoice::default()
        }],
        ..ComposeInfo::default()
    };
    let msg = ServerMessage::Response { id: 7, result: Ok(Response::Compose(Box::new(info.clone()))) };
    assert_eq!(through_the_wire(&msg), msg);
    assert_eq!(info.channel("sms").and_then(|c| c.hold.as_ref()), Some(&hold));
    assert_eq!(info.templates_for("email").count(), 1);
    assert_eq!(info.templates_for("sms").count(), 0);

    let op = PendingOp {
        held: Some(hold),
        ..PendingOp::new(
            3,
            "c1",
            OpKind::SendMessage { channel: "sms".into(), body: "Hi".into(), subject: None },
            until,
        )
    };
    let json = serde_json::to_value(&op).expect("json");
    assert_eq!(serde_json::from_value::<PendingOp>(json).expect("back"), op);
    // An op stored before holds existed reads as not held.
    let mut old = serde_json::to_value(&op).expect("json");
    old.as_object_mut().expect("object").remove("held");
    assert_eq!(serde_json::from_value::<PendingOp>(old).expect("old op").held, None);
}

#[test]
fn model_status_and_scored_leads_round_trip_and_old_leads_still_read() {
    use crate::domain::Contribution;
    let at: jiff::Timestamp = "2026-12-01T09:30:00Z".parse().expect("timestamp");
    let status = ModelStatus {
        active: "gbdt-v2".into(),
        reason: Some("model v3's held-out AUC 0.61 did not beat rules-v1's 0.66".into()),
        last_run_at: Some(at),
        won: 120,
        lost: 260,
        min_closed_deals: 200,
        min_per_class: 20,
        models: vec![ModelSummary {
            version: 2,
            name: "gbdt-v2".into(),
            kind: "gbdt".into(),
            trained_at: Some(at),
            train_rows: 285,
            held_out_rows: 95,
            held_out_auc: Some(0.71),
            rules_auc: Some(0.64),
            previous_auc: None,
            promoted: true,
            verdict: "promoted over rules-v1".into(),
        }],
        training: true,
        rescoring: Some("gbdt-v2".into()),
    };
    let msg = ServerMessage::Response { id: 3, result: Ok(Response::Model(Box::new(status))) };
    assert_eq!(through_the_wire(&msg), msg);

    let detail = LeadDetail {
        lead: LeadSummary {
            id: "c1".into(),
            score: 62,
            scored_by: "gbdt-v2".into(),
            ..LeadSummary::default()
        },
        explanation: vec![
            Contribution { feature: "base".into(), contribution: -0.5 },
            Contribution { feature: "reply_minutes".into(), contribution: 1.0 },
        ],
        score_model: "gbdt-v2".into(),
        score_unit: "log_odds".into(),
        score_output: 0.5,
        ..LeadDetail::default()
    };
    let msg = ServerMessage::Response { id: 4, result: Ok(Response::Lead(Box::new(detail))) };
    assert_eq!(through_the_wire(&msg), msg);

    // A lead as protocol 7 sent it: no unit, output or note; the row without its model.
    let old = serde_json::json!({"id": "c1", "score": 50, "explanation": [], "score_model": "rules-v1"});
    let read: LeadDetail = serde_json::from_value(old).expect("old detail");
    assert_eq!((read.score_unit.as_str(), read.score_note, read.lead.scored_by.as_str()), ("", None, ""));
}

#[test]
fn system_answers_log_tails_and_sync_failures_round_trip() {
    use crate::domain::{OpKind, OpState, PendingOp};
    let at: jiff::Timestamp = "2026-12-01T09:30:00Z".parse().expect("timestamp");
    let op = PendingOp {
        attempts: 3,
        state: OpState::Failed,
        last_error: Some("GHL refused the request as invalid (422: tag too long)".into()),
        ..PendingOp::new(12, "c1", OpKind::AddTag { tag: "VIP".into() }, at)
    };
    let report = SystemReport {
        ops: vec![OpView { op, lead_name: "Maria Gonzalez".into() }],
        ops_total: 1,
        skipped: vec![SkippedView {
            kind: "contact".into(),
            id: Some("x9".into()),
            reason: "invalid type: string, expected a sequence".into(),
            first_seen: at,
            last_seen: at,
        }],
        skipped_total: 1,
    };
    let msg = ServerMessage::Response { id: 1, result: Ok(Response::System(Box::new(report))) };
    assert_eq!(through_the_wire(&msg), msg);

    let tail = LogTail {
        file: Some("/data/logs/leadlined.2026-12-01.log".into()),
        lines: vec!["2026-12-01T09:30:00Z  INFO daemon ready".into()],
        truncated: true,
    };
    let msg = ServerMessage::Response { id: 2, result: Ok(Response::LogTail(Box::new(tail))) };
    assert_eq!(through_the_wire(&msg), msg);

    let status = SyncStatus {
        state: SyncState::Offline,
        failure: Some(SyncFailure::Unreachable),
        unreachable_since: Some(at),
        phases: vec![SyncPhase {
            name: "poll".into(),
            running: false,
            last_started: Some(at),
            last_success: None,
            last_error: Some("GHL did not answer in time".into()),
        }],
        ..SyncStatus::default()
    };
    let msg = ServerMessage::Event { event: Event::Sync { status } };
    assert_eq!(through_the_wire(&msg), msg);
}

#[test]
fn older_sync_statuses_and_unknown_failures_still_read() {
    // A daemon before the System screen sends no failure, phases or outage start.
    let status: SyncStatus = serde_json::from_str(r#"{"state":"offline","pending_ops":2}"#).expect("decodes");
    assert_eq!(status.failure, None);
    assert!(status.phases.is_empty() && status.unreachable_since.is_none());
    let status: SyncStatus = serde_json::from_str(r#"{"failure":"solar_flare"}"#).expect("decodes");
    assert_eq!(status.failure, Some(SyncFailure::Other));
    let request: Request = serde_json::from_str(r#"{"type":"system"}"#).expect("decodes");
    assert_eq!(request, Request::System { limit: MAX_SYSTEM_SKIPPED });
}

/// The Tasks answer, a lead's tasks and pipelines, a pending timeline entry and the
/// mark-done op survive the wire; a detail from a daemon before them still reads.
#[test]
fn tasks_and_deal_parts_round_trip() {
    use crate::domain::{OpKind, Pipeline, Stage, Task};
    let task = Task {
        id: "t1".into(),
        title: Some("Call back".into()),
        due_date: Some("2026-12-02T15:00:00Z".parse().expect("ts")),
        contact_id: "c1".into(),
        ..Task::default()
    };
    let list = TaskList {
        total: 3,
        tasks: vec![TaskView {
            task: task.clone(),
            lead_name: "Maria".into(),
            timezone: Some("America/Chicago".into()),
            op_seq: Some(4),
            pending: true,
        }],
    };
    let msg = ServerMessage::Response { id: 9, result: Ok(Response::Tasks(Box::new(list))) };
    assert_eq!(through_the_wire(&msg), msg);
    let detail = LeadDetail {
        tasks: vec![task],
        pipelines: vec![Pipeline {
            id: "p1".into(),
            name: "Buyers".into(),
            stages: vec![Stage { id: "s1".into(), name: "New".into(), ..Stage::default() }],
            ..Pipeline::default()
        }],
        timeline: vec![TimelineEntry {
            kind: "stage".into(),
            text: "New → Showing".into(),
            pending: true,
            ..TimelineEntry::default()
        }],
        ..LeadDetail::default()
    };
    let msg = ServerMessage::Response { id: 10, result: Ok(Response::Lead(Box::new(detail))) };
    assert_eq!(through_the_wire(&msg), msg);
    let req = ClientMessage::Request {
        id: 1,
        body: Request::Edit { contact_id: "c1".into(), op: OpKind::CompleteTask { task_id: "t1".into() } },
    };
    assert_eq!(through_the_wire(&req), req);
    // An older daemon's detail has no tasks or pipelines, and its entries no `pending`.
    let old: LeadDetail =
        serde_json::from_str(r#"{"id":"c1","timeline":[{"kind":"note","text":"x"}]}"#).expect("reads");
    assert!(old.tasks.is_empty() && old.pipelines.is_empty() && !old.timeline[0].pending);
    let asked: Request = serde_json::from_str(r#"{"type":"tasks"}"#).expect("reads");
    assert_eq!(asked, Request::Tasks { limit: DEFAULT_TASKS_LIMIT });
}

/// A lead's matches, routing suggestion and churn risk, and a listings import's answer, go
/// through the codec unchanged; a lead detail from a daemon before them still reads.
#[test]
fn lead_intelligence_round_trips_and_older_details_still_read() {
    let listing = Listing {
        listing_id: "DEMO-00001".into(),
        list_price: Some(410_000.0),
        bedrooms: Some(3),
        bathrooms: Some(2),
        living_area: Some(1_850.0),
        street: Some("12 Elm St".into()),
        city: Some("Plano".into()),
        state: Some("TX".into()),
        postal_code: Some("75024".into()),
        subdivision: Some("Willow Bend".into()),
        property_type: Some("Single Family Residence".into()),
        status: Some("Active".into()),
    };
    let detail = LeadDetail {
        matches: vec![ListingMatch {
            listing,
            score: 88,
            reasons: vec![MatchReason {
                factor: "budget".into(),
                points: 33.3,
                weight: 33.3,
                asked: true,
                met: true,
                text: "$410k within budget $450k".into(),
            }],
        }],
        routing: Some(RoutingSuggestion {
            user_id: "u1".into(),
            name: "Sarah Mitchell".into(),
            method: "best_fit".into(),
            load: 6,
            capacity: 15,
            current: false,
            trace: vec!["specialty luxury".into()],
        }),
        churn: Some(ChurnRisk {
            score: 64,
            tier: "high".into(),
            action: "urgent follow-up".into(),
            value_at_risk: Some(172_800.0),
            factors: vec![ChurnFactor { factor: "silence".into(), points: 30.0, text: "31 days".into() }],
        }),
        ..LeadDetail::default()
    };
    let msg = ServerMessage::Response { id: 3, result: Ok(Response::Lead(Box::new(detail))) };
    assert_eq!(through_the_wire(&msg), msg);
    let done =
        ListingsImported { file: "/tmp/mls.csv".into(), read: 4, added: 3, updated: 1, removed: 0, total: 9 };
    let msg = ServerMessage::Response { id: 4, result: Ok(Response::ListingsImported(Box::new(done))) };
    assert_eq!(through_the_wire(&msg), msg);
    let request = ClientMessage::Request {
        id: 5,
        body: Request::ImportListings { path: "/tmp/x.json".into(), replace: true },
    };
    assert_eq!(through_the_wire(&request), request);

    let old: LeadDetail = serde_json::from_str(r#"{"id":"c1","score":40}"#).expect("decodes");
    assert!(old.matches.is_empty() && old.routing.is_none() && old.churn.is_none());
}

/// A lead's priority (with its parts) and a row's priority, churn tier and open value go
/// through the codec unchanged; rows and details from a daemon before them still read.
#[test]
fn priorities_round_trip_and_older_rows_still_read() {
    let detail = LeadDetail {
        lead: LeadSummary {
            id: "c1".into(),
            priority: 72,
            open_value: Some(410_000.0),
            ..LeadSummary::default()
        },
        priority_breakdown: Some(PriorityBreakdown {
            priority: 72,
            probability: 0.65,
            value: 410_000.0,
            value_from: "open deals".into(),
            expected: 0.454,
            urgency: 0.4,
            urgency_reasons: vec!["awaiting a reply".into()],
            speed: 0.0,
            uncontacted_minutes: None,
        }),
        ..LeadDetail::default()
    };
    let msg = ServerMessage::Response { id: 3, result: Ok(Response::Lead(Box::new(detail))) };
    assert_eq!(through_the_wire(&msg), msg);
    let old: LeadSummary = serde_json::from_str(r#"{"id":"c1","score":40}"#).expect("decodes");
    assert_eq!((old.priority, old.open_value), (0, None));
    let old: LeadDetail = serde_json::from_str(r#"{"id":"c1","score":40}"#).expect("decodes");
    assert!(old.priority_breakdown.is_none());
}
