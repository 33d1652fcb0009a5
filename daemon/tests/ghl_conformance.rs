//! Every GHL client method, checked against GHL's own OpenAPI files.
//!
//! The client runs against the simulator with its request log on; each logged request is then
//! matched to an operation of GHL's official spec and checked: the method and path template
//! exist, `Version` is the spec's value for that operation, required query parameters are
//! present and every query parameter sent is declared, required body fields are present and
//! every body field sent is declared, at every depth the spec names a schema for. The contacts
//! search body is not in the spec; it is checked against `ghl-api.md` (`locationId` and
//! `pageLimit` required).
//!
//! The spec is read from `tests/fixtures/ghl-api-facts.json`: what the checks need of every
//! operation in GHL's `apps/*.json`, extracted by `examples/ghl_api_facts.rs` and committed, so
//! a plain clone runs this test with nothing beside it. When `GHL_OPENAPI_DIR` names the
//! official files' `apps/` directory, they are converted
//! to the same model by the same code: the requests are checked against them too, and the
//! committed facts must equal what they give (docs/ghl-sim.md says how to regenerate).

mod ghl_facts;
mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use ghl_facts::{Api, FactsFile, Operation, REGENERATE};
use ghl_sim::{SimConfig, SimHandle};
use leadline_daemon::ghl::{
    ClientConfig, ContactOrder, ContactQuery, ExportStream, GhlClient, MessageQuery, OpportunityQuery,
    SortOrder,
};
use serde_json::{Map, Value, json};

/// Required body fields the spec lists but the docs show to be wrong, with the reason.
const KNOWN_SPEC_CONTRADICTIONS: &[(&str, &str, &str)] = &[
    (
        "SendMessageBodyDto",
        "subType",
        "required only since the 2026-05 spec; every earlier version required type and contactId (ghl-api.md §7.3)",
    ),
    (
        "SendMessageBodyDto",
        "status",
        "same 2026-05 change; `status` is a delivery status, not an input (ghl-api.md §7.3)",
    ),
];

/// The committed facts; compiled in, so the test reads nothing at run time.
const COMMITTED: &str = include_str!("fixtures/ghl-api-facts.json");

fn committed_file() -> FactsFile {
    FactsFile::parse(COMMITTED)
        .unwrap_or_else(|e| panic!("daemon/{}: {e}. Regenerate it: {REGENERATE}", ghl_facts::FACTS_FILE))
}

fn committed() -> Api {
    committed_file().api()
}

/// The official files converted to the checker's model, when they are present.
fn official() -> Option<(PathBuf, Api)> {
    let dir = ghl_facts::official_dir().unwrap_or_else(|e| panic!("{e}"));
    let Some(dir) = dir else {
        eprintln!(
            "note: GHL's official OpenAPI files are not here (set GHL_OPENAPI_DIR to their apps/ \
             directory); checked against the committed facts only"
        );
        return None;
    };
    let api = ghl_facts::extract(&dir)
        .unwrap_or_else(|e| panic!("cannot convert GHL's official OpenAPI files in {}: {e}", dir.display()));
    Some((dir, api))
}

/// The operation for `method path`: the template with the same number of segments whose
/// literal segments all match, preferring the most literal segments.
fn find_op<'a>(api: &'a Api, method: &str, path: &str) -> Option<&'a Operation> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let mut best: Option<(usize, &Operation)> = None;
    for op in api.operations.iter().filter(|op| op.method.eq_ignore_ascii_case(method)) {
        let tsegs: Vec<&str> = op.path.trim_matches('/').split('/').collect();
        if tsegs.len() != segs.len() {
            continue;
        }
        let mut literal = 0;
        let ok = tsegs.iter().zip(&segs).all(|(t, s)| {
            if t.starts_with('{') && t.ends_with('}') {
                !s.is_empty()
            } else {
                literal += 1;
                t == s
            }
        });
        if ok && best.as_ref().is_none_or(|b| literal > b.0) {
            best = Some((literal, op));
        }
    }
    best.map(|(_, op)| op)
}

fn query_pairs(q: &Value) -> Vec<(String, String)> {
    let Some(q) = q.as_str() else { return Vec::new() };
    q.split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (k.to_owned(), v.to_owned())
        })
        .collect()
}

/// What the logged requests did, by the spec `api`.
#[derive(Default)]
struct Checked {
    problems: Vec<String>,
    covered: BTreeSet<String>,
    per_op: BTreeMap<String, usize>,
}

/// Checks every logged request against `api`. The checks that do not depend on the spec
/// (status, token, `Accept`) are in `check_transport`.
fn check(api: &Api, entries: &[Value]) -> Checked {
    let mut out = Checked::default();
    for e in entries {
        let method = e["method"].as_str().expect("method");
        let path = e["path"].as_str().expect("path");
        let headers = &e["headers"];
        let what = format!("{method} {path}");
        let Some(op) = find_op(api, method, path) else {
            out.problems.push(format!("{what}: no such operation in the spec"));
            continue;
        };
        let key = format!("{method} {}", op.path);
        out.covered.insert(key.clone());
        *out.per_op.entry(key.clone()).or_default() += 1;
        let problems = &mut out.problems;

        // Version header.
        match &op.version {
            None => problems.push(format!("{key} ({}): the spec declares no Version header", op.file)),
            Some(allowed) => {
                let sent = headers["version"].as_str().unwrap_or("(none)");
                if !allowed.iter().any(|a| a == sent) {
                    problems.push(format!("{key}: Version {sent}, the spec wants {allowed:?}"));
                }
            }
        }

        // Query parameters: required ones present, none undeclared.
        let sent: Vec<(String, String)> = query_pairs(&e["query"]);
        for (name, _) in op.query.iter().filter(|(_, required)| **required) {
            if !sent.iter().any(|(k, v)| k == name && !v.is_empty()) {
                problems.push(format!("{key}: required query parameter {name} is missing"));
            }
        }
        for (k, _) in &sent {
            if !op.query.contains_key(k) {
                problems.push(format!("{key}: query parameter {k} is not in the spec ({})", op.file));
            }
        }

        // Body.
        let body = &e["body"];
        if !body.is_null() && headers["content-type"] != "application/json" {
            problems.push(format!("{key}: a body without Content-Type: application/json"));
        }
        if key == "POST /contacts/search" {
            // Not in the spec (SearchBodyV2DTO is empty): ghl-api.md §2 and issue #31.
            for field in ["locationId", "pageLimit"] {
                if body.get(field).is_none_or(Value::is_null) {
                    problems.push(format!("{key}: body lacks {field} (required per ghl-api.md)"));
                }
            }
            if body.get("page").is_some() && body.get("searchAfter").is_some() {
                problems.push(format!("{key}: page and searchAfter together"));
            }
            continue;
        }
        let Some(spec_body) = &op.body else {
            if !body.is_null() {
                problems.push(format!("{key}: sends a body the spec does not declare"));
            }
            continue;
        };
        if body.is_null() {
            if spec_body.required {
                problems.push(format!("{key}: sends no body; the spec requires one"));
            }
            continue;
        }
        if !spec_body.content_types.iter().any(|c| c == "application/json") {
            problems.push(format!("{key}: sends JSON; the spec takes {:?}", spec_body.content_types));
        }
        match (&spec_body.schema, body.as_object()) {
            (Some(schema), Some(obj)) => check_object(api, &op.file, schema, obj, &key, "body", problems),
            (Some(schema), None) => problems.push(format!("{key}: the body is not an object ({schema} is)")),
            (None, _) => {}
        }
    }
    out
}

/// `obj` against the schema `name` of `file`: required fields present, every field declared,
/// and the same for each nested object the schema names a schema for. `at` names `obj`.
fn check_object(
    api: &Api,
    file: &str,
    name: &str,
    obj: &Map<String, Value>,
    key: &str,
    at: &str,
    problems: &mut Vec<String>,
) {
    let Some(schema) = api.schema(file, name) else {
        problems.push(format!(
            "{key}: the facts name schema {name} of {file} but lack it; regenerate: {REGENERATE}"
        ));
        return;
    };
    for req in &schema.required {
        if obj.get(req).is_some_and(|v| !v.is_null()) {
            continue;
        }
        if KNOWN_SPEC_CONTRADICTIONS.iter().any(|(s, f, _)| *s == name && f == req) {
            continue;
        }
        problems.push(format!("{key}: {at} lacks {req}, required by {name}"));
    }
    for (k, v) in obj {
        let Some(field) = schema.fields.get(k) else {
            if !schema.open {
                problems.push(format!("{key}: {at}.{k} is not in {name} ({file})"));
            }
            continue;
        };
        match (&field.object, &field.items, v) {
            (Some(child), _, Value::Object(o)) => {
                check_object(api, file, child, o, key, &format!("{at}.{k}"), problems)
            }
            (_, Some(child), Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    if let Some(o) = item.as_object() {
                        check_object(api, file, child, o, key, &format!("{at}.{k}[{i}]"), problems);
                    }
                }
            }
            _ => {}
        }
    }
}

/// The checks that hold for every request whatever the spec says.
fn check_transport(entries: &[Value]) -> Vec<String> {
    let mut problems = Vec::new();
    for e in entries {
        let headers = &e["headers"];
        let what = format!("{} {}", e["method"].as_str().unwrap_or("?"), e["path"].as_str().unwrap_or("?"));
        let status = e["status"].as_u64().unwrap_or(0);
        if !(200..300).contains(&status) {
            problems.push(format!("{what}: the simulator answered {status}"));
        }
        if headers["authorization"] != "Bearer ***" {
            problems.push(format!("{what}: no bearer token"));
        }
        if headers["accept"] != "application/json" {
            problems.push(format!("{what}: Accept is {}", headers["accept"]));
        }
    }
    problems
}

fn client(sim: &SimHandle) -> GhlClient {
    GhlClient::new(ClientConfig { max_attempts: 3, ..support::client_config(sim) }).expect("client")
}

/// Calls every client method at least once (and each paging form).
async fn exercise(c: &GhlClient, sim: &SimHandle) {
    let truth = sim.snapshot();
    let page = c
        .search_contacts(&ContactQuery { page_limit: 50, ..ContactQuery::default() })
        .await
        .expect("contacts");
    let next = page.next.expect("a second page");
    c.search_contacts(&ContactQuery { page_limit: 50, search_after: Some(next), ..ContactQuery::default() })
        .await
        .expect("contacts page 2");
    let since: jiff::Timestamp = "2020-01-01T00:00:00Z".parse().expect("timestamp");
    let changed =
        ContactQuery { page_limit: 20, search_after: None, order: ContactOrder::UpdatedSince(since) };
    c.search_contacts(&changed).await.expect("incremental contacts");
    let id = truth.contacts[0].id.clone();
    c.get_contact(&id).await.expect("contact").expect("exists");
    let opp_page =
        c.search_opportunities(&OpportunityQuery { limit: 10, start_after: None }).await.expect("opps");
    c.search_opportunities(&OpportunityQuery { limit: 10, start_after: opp_page.next })
        .await
        .expect("opps 2");
    c.pipelines().await.expect("pipelines");
    let first = MessageQuery { limit: 50, ..MessageQuery::oldest_first(ExportStream::Messages) };
    let msgs = c.export_messages(&first).await.expect("export");
    c.export_messages(&MessageQuery { cursor: msgs.next_cursor, ..first.clone() }).await.expect("export 2");
    let window = MessageQuery {
        order: SortOrder::Desc,
        start: Some("2020-01-01T00:00:00Z".parse().expect("timestamp")),
        end: Some("2040-01-01T00:00:00Z".parse().expect("timestamp")),
        ..first.clone()
    };
    c.export_messages(&window).await.expect("export over a window");
    c.export_messages(&MessageQuery { limit: 50, ..MessageQuery::oldest_first(ExportStream::Emails) })
        .await
        .expect("export email");
    let location = c.location().await.expect("location");
    c.users(location["companyId"].as_str().expect("companyId")).await.expect("users");
    c.custom_fields().await.expect("custom fields");
    c.tags().await.expect("tags");

    let reachable = truth
        .contacts
        .iter()
        .find(|k| {
            k.phone.is_some()
                && k.email.is_some()
                && !k.dnd
                && k.dnd_settings.values().all(|s| s.status != "active" && s.status != "permanent")
        })
        .expect("a reachable contact");
    let cid = reachable.id.clone();
    c.add_tags(&cid, &["Conformance".into()]).await.expect("add tags");
    c.remove_tags(&cid, &["Conformance".into()]).await.expect("remove tags");
    c.add_note(&cid, "conformance note").await.expect("note");
    let due: jiff::Timestamp = "2031-05-01T16:00:00Z".parse().expect("timestamp");
    c.add_task(&cid, "conformance task", due).await.expect("task");
    c.assign_contact(&cid, &truth.users[0].id).await.expect("assign");
    c.set_dnd(&cid, "Email", false).await.expect("dnd off");
    c.set_dnd(&cid, "Call", true).await.expect("dnd on");
    let opp = truth.opportunities.iter().find(|o| o.status == "open").expect("open deal");
    let pipeline = truth.pipelines.iter().find(|p| p.id == opp.pipeline_id).expect("its pipeline");
    let stage = pipeline.stages.iter().find(|s| s.id != opp.pipeline_stage_id).expect("another stage");
    c.set_opportunity_stage(&opp.id, &stage.id).await.expect("stage");
    c.set_opportunity_value(&opp.id, 425_000.0).await.expect("value");
    c.set_opportunity_status(&opp.id, "lost").await.expect("status");
    c.send_message(&cid, "sms", "conformance sms", None).await.expect("sms");
    c.send_message(&cid, "email", "conformance email", Some("Hello")).await.expect("email");
}

#[tokio::test]
async fn every_request_conforms_to_the_openapi_spec() {
    let facts = committed();
    let official = official();
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("requests.jsonl");
    let sim =
        ghl_sim::spawn(SimConfig { contacts: 120, request_log: Some(log.clone()), ..SimConfig::default() })
            .await
            .expect("simulator");
    let c = client(&sim);
    exercise(&c, &sim).await;
    sim.shutdown().await;

    let text = std::fs::read_to_string(&log).expect("request log");
    let entries: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).expect("log line")).collect();
    assert!(entries.len() >= 20, "only {} requests logged", entries.len());

    let mut problems = check_transport(&entries);
    let Checked { problems: by_facts, covered, per_op } = check(&facts, &entries);
    problems.extend(by_facts);
    if let Some((dir, api)) = &official {
        // The same checks against the full files: they differ from the above only when the
        // committed facts are stale, which `the_committed_facts_match_the_official_files` explains.
        for p in check(api, &entries).problems {
            problems.push(format!("by the official files in {}: {p}", dir.display()));
        }
    }

    let expected = [
        "GET /locations/{locationId}",
        "POST /contacts/search",
        "GET /contacts/{contactId}",
        "GET /opportunities/search",
        "GET /opportunities/pipelines",
        "GET /conversations/messages/export",
        "GET /users/search",
        "GET /locations/{locationId}/customFields",
        "GET /locations/{locationId}/tags",
        "POST /contacts/{contactId}/tags",
        "DELETE /contacts/{contactId}/tags",
        "POST /contacts/{contactId}/notes",
        "POST /contacts/{contactId}/tasks",
        "PUT /contacts/{contactId}",
        "PUT /opportunities/{id}",
        "PUT /opportunities/{id}/status",
        "POST /conversations/messages",
    ];
    for op in expected {
        if !covered.contains(op) {
            problems.push(format!("{op}: never called (covered: {covered:?})"));
        }
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}\n(per operation: {per_op:?})",
        problems.len(),
        problems.join("\n")
    );
    for (s, f, why) in KNOWN_SPEC_CONTRADICTIONS {
        eprintln!("note: not sending {s}.{f}: {why}");
    }
}

/// With the official files present, the committed facts must be exactly what they give.
#[test]
fn the_committed_facts_match_the_official_files() {
    let Some((dir, api)) = official() else { return };
    let file = committed_file();
    let stale = |what: String| {
        panic!(
            "daemon/{} is stale: {what}\nIt must be what GHL's official files in {dir} give. Regenerate it \
             from them and commit it:\n  cargo run -p leadline-daemon --example ghl_api_facts -- {dir}\n\
             (docs/ghl-sim.md, \"Conformance with GHL's OpenAPI files\")",
            ghl_facts::FACTS_FILE,
            dir = dir.display()
        )
    };
    let mut changes = Vec::new();
    let ops = |ops: &[Operation]| -> BTreeMap<String, Operation> {
        ops.iter().map(|o| (format!("{} {} ({})", o.method, o.path, o.file), o.clone())).collect()
    };
    let (before, now) = (ops(&file.operations), ops(&api.operations));
    for (k, op) in &now {
        match before.get(k) {
            None => changes.push(format!("new operation {k}")),
            Some(old) if old != op => changes.push(format!("changed operation {k}: {}", difference(old, op))),
            Some(_) => {}
        }
    }
    changes.extend(before.keys().filter(|k| !now.contains_key(*k)).map(|k| format!("removed operation {k}")));
    for (spec_file, schemas) in &api.schemas {
        for (name, schema) in schemas {
            if file.schemas.get(spec_file).and_then(|s| s.get(name)) != Some(schema) {
                changes.push(format!("new or changed schema {name} ({spec_file})"));
            }
        }
    }
    for (spec_file, schemas) in &file.schemas {
        for name in schemas.keys() {
            if api.schema(spec_file, name).is_none() {
                changes.push(format!("removed schema {name} ({spec_file})"));
            }
        }
    }
    if !changes.is_empty() {
        let n = changes.len();
        changes.truncate(30);
        stale(format!("{n} difference(s) from the official files, first:\n  {}", changes.join("\n  ")));
    }
    // The operations agree; the recorded provenance must still name these very files.
    let inputs = ghl_facts::inputs(&dir).unwrap_or_else(|e| panic!("{e}"));
    if inputs != file.inputs {
        let recorded: BTreeSet<(&str, &str)> =
            file.inputs.iter().map(|i| (i.path.as_str(), i.sha256.as_str())).collect();
        let differ: Vec<&str> = inputs
            .iter()
            .filter(|i| !recorded.contains(&(i.path.as_str(), i.sha256.as_str())))
            .map(|i| i.path.as_str())
            .chain(
                file.inputs
                    .iter()
                    .filter(|r| !inputs.iter().any(|i| i.path == r.path))
                    .map(|r| r.path.as_str()),
            )
            .collect();
        stale(format!(
            "{differ:?} differ from the files it records (by SHA-256), though not in what the checks use"
        ));
    }
}

/// What differs between the committed and the official version of an operation, field by
/// field, e.g. `query: status false -> (none)`.
fn show(v: Option<&Value>) -> String {
    v.map_or_else(|| "(none)".to_owned(), Value::to_string)
}

fn difference(old: &Operation, new: &Operation) -> String {
    let (Ok(Value::Object(old)), Ok(Value::Object(new))) =
        (serde_json::to_value(old), serde_json::to_value(new))
    else {
        return "(not comparable)".into();
    };
    let keys: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    let parts: Vec<String> = keys
        .into_iter()
        .filter(|k| old.get(*k) != new.get(*k))
        .map(|k| match (old.get(k), new.get(k)) {
            // Parameter maps: only the names that differ.
            (Some(Value::Object(a)), Some(Value::Object(b))) => {
                let names: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
                let diff: Vec<String> = names
                    .into_iter()
                    .filter(|n| a.get(*n) != b.get(*n))
                    .map(|n| format!("{n} {} -> {}", show(a.get(n)), show(b.get(n))))
                    .collect();
                format!("{k}: {}", diff.join(", "))
            }
            (a, b) => format!("{k}: {} -> {}", show(a), show(b)),
        })
        .collect();
    parts.join("; ")
}

/// The committed file is in the form the generator writes, not edited by hand.
#[test]
fn the_committed_facts_are_as_generated() {
    let file = committed_file();
    let rendered = file.render().expect("render");
    assert!(
        rendered == COMMITTED,
        "daemon/{} is not in the form the generator writes: it was edited by hand. Regenerate it: {REGENERATE}",
        ghl_facts::FACTS_FILE
    );
    assert_eq!(file.generated, ghl_facts::GENERATED, "the header note; regenerate: {REGENERATE}");
    // Every operation of the official apps/*.json, not only those the client calls today.
    assert!(file.operations.len() >= 150, "only {} operations", file.operations.len());
    for op in &file.operations {
        if let Some(name) = op.body.as_ref().and_then(|b| b.schema.as_ref()) {
            assert!(
                file.schemas.get(&op.file).is_some_and(|s| s.contains_key(name)),
                "{name} of {}",
                op.file
            );
        }
    }
}

#[test]
fn the_matcher_prefers_literal_segments() {
    let api = committed();
    let op = find_op(&api, "GET", "/conversations/messages/export").expect("export");
    assert_eq!(op.path, "/conversations/messages/export");
    let op = find_op(&api, "POST", "/contacts/search").expect("search");
    assert_eq!(op.path, "/contacts/search");
    let op = find_op(&api, "PUT", "/contacts/abc").expect("update");
    assert_eq!(op.path, "/contacts/{contactId}");
    assert!(find_op(&api, "GET", "/nowhere/at/all").is_none());
}

/// The checker descends into the nested objects the spec names: a misspelt DND channel and a
/// DND setting without its required `status` are caught.
#[test]
fn nested_body_fields_are_checked() {
    let api = committed();
    let entry = |body: Value| {
        json!({"method": "PUT", "path": "/contacts/abc", "query": "", "status": 200,
               "headers": {"version": "2021-07-28", "content-type": "application/json"}, "body": body})
    };
    let good = entry(json!({"assignedTo": "u1", "dndSettings": {"Email": {"status": "inactive"}}}));
    assert_eq!(check(&api, &[good]).problems, Vec::<String>::new());
    let bad = entry(json!({"dndSettings": {"email": {"status": "inactive"}, "SMS": {"message": "x"}}}));
    let problems = check(&api, &[bad]).problems;
    assert_eq!(
        problems,
        [
            "PUT /contacts/{contactId}: body.dndSettings.SMS lacks status, required by DndSettingSchema",
            "PUT /contacts/{contactId}: body.dndSettings.email is not in DndSettingsSchema (contacts.json)",
        ],
    );
}
