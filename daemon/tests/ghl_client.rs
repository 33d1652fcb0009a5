//! The GHL client against the in-process simulator: paging, every push method, errors,
//! retries under faults, the rate limiter and the circuit breaker.

mod support;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use ghl_sim::{Counting, RateLimit, SimConfig, SimHandle};
use leadline_daemon::ghl::{
    ClientConfig, ContactOrder, ContactQuery, Credentials, ExportStream, GhlClient, GhlError, MessageQuery,
    OpportunityQuery, RateLimitModel, RateLimits, Secret,
};
use leadline_shared::domain::{Contact, CustomFieldDef, Message, Opportunity, Pipeline, User};
use serde_json::json;

/// A fixed "now" so that two simulators with the same seed serve the same data.
const NOW_MS: i64 = 1_790_000_000_000;

fn sim_config() -> SimConfig {
    SimConfig { contacts: 300, seed: 7, now_ms: Some(NOW_MS), ..SimConfig::default() }
}

async fn sim(cfg: SimConfig) -> SimHandle {
    ghl_sim::spawn(cfg).await.expect("simulator starts")
}

fn client(sim: &SimHandle) -> GhlClient {
    GhlClient::new(support::client_config(sim))
        .expect("client")
        .with_backoff(Duration::from_millis(20), Duration::from_millis(400))
}

async fn all_contacts(c: &GhlClient, page_limit: u32) -> Vec<Contact> {
    let mut q = ContactQuery { page_limit, ..ContactQuery::default() };
    let mut out = Vec::new();
    loop {
        let page = c.search_contacts(&q).await.expect("contacts page");
        assert!(page.contacts.len() <= page_limit as usize);
        out.extend(page.contacts);
        match page.next {
            Some(next) => q.search_after = Some(next),
            None => return out,
        }
    }
}

async fn all_opportunities(c: &GhlClient, limit: u32) -> Vec<Opportunity> {
    let mut q = OpportunityQuery { limit, start_after: None };
    let mut out = Vec::new();
    loop {
        let page = c.search_opportunities(&q).await.expect("opportunities page");
        out.extend(page.opportunities);
        match page.next {
            Some(next) => q.start_after = Some(next),
            None => return out,
        }
    }
}

async fn all_messages(c: &GhlClient, stream: ExportStream, limit: u32) -> Vec<Message> {
    let mut q = MessageQuery { limit, ..MessageQuery::oldest_first(stream) };
    let mut out = Vec::new();
    loop {
        let page = c.export_messages(&q).await.expect("messages page");
        out.extend(page.messages);
        match page.next_cursor {
            Some(next) => q.cursor = Some(next),
            None => return out,
        }
    }
}

fn ids<'a>(it: impl Iterator<Item = &'a str>) -> BTreeSet<String> {
    it.map(str::to_owned).collect()
}

#[tokio::test]
async fn contacts_paging_visits_every_contact_exactly_once() {
    let sim = sim(sim_config()).await;
    let c = client(&sim);
    let contacts = all_contacts(&c, 70).await;
    let truth = sim.snapshot();
    assert_eq!(contacts.len(), truth.contacts.len());
    let got = ids(contacts.iter().map(|c| c.id.as_str()));
    assert_eq!(got.len(), contacts.len(), "a contact was visited twice");
    assert_eq!(got, ids(truth.contacts.iter().map(|c| c.id.as_str())));
    let first =
        c.search_contacts(&ContactQuery { page_limit: 10, ..ContactQuery::default() }).await.expect("page");
    assert_eq!(first.total, Some(300));

    // Incremental: only contacts updated at or after a point, oldest update first.
    let mut updated: Vec<_> = contacts.iter().filter_map(|c| c.date_updated).collect();
    updated.sort();
    let cut = updated[updated.len() / 2];
    let mut q = ContactQuery { page_limit: 40, search_after: None, order: ContactOrder::UpdatedSince(cut) };
    let mut newer = Vec::new();
    loop {
        let page = c.search_contacts(&q).await.expect("page");
        newer.extend(page.contacts);
        match page.next {
            Some(n) => q.search_after = Some(n),
            None => break,
        }
    }
    let expected = contacts.iter().filter(|c| c.date_updated.is_some_and(|d| d >= cut)).count();
    assert_eq!(newer.len(), expected);
    assert!(newer.windows(2).all(|w| w[0].date_updated <= w[1].date_updated), "sorted by dateUpdated asc");
    assert!(c.budget().is_some_and(|b| b.burst_max == 100 && b.daily_max == 200_000));
    sim.shutdown().await;
}

#[tokio::test]
async fn opportunities_messages_and_location_data() {
    let sim = sim(sim_config()).await;
    let c = client(&sim);
    let truth = sim.snapshot();

    let opps = all_opportunities(&c, 25).await;
    assert_eq!(opps.len(), truth.opportunities.len());
    assert_eq!(
        ids(opps.iter().map(|o| o.id.as_str())),
        ids(truth.opportunities.iter().map(|o| o.id.as_str()))
    );
    let first =
        c.search_opportunities(&OpportunityQuery { limit: 5, start_after: None }).await.expect("page");
    assert_eq!(first.total, Some(truth.opportunities.len() as u64));

    let default = all_messages(&c, ExportStream::Messages, 100).await;
    let email = all_messages(&c, ExportStream::Emails, 100).await;
    assert!(!email.is_empty(), "the seeded data has emails");
    assert!(email.iter().all(|m| m.channel() == "email"));
    assert!(default.iter().all(|m| m.channel() != "email"), "the default export leaves email out");
    let mut got = ids(default.iter().map(|m| m.id.as_str()));
    got.extend(email.iter().map(|m| m.id.clone()));
    assert_eq!(got.len(), default.len() + email.len(), "no message twice");
    assert_eq!(got, ids(truth.messages.iter().map(|m| m.id.as_str())));

    let location = c.location().await.expect("location");
    assert_eq!(location["id"], json!(sim.location_id()));
    let company = location["companyId"].as_str().expect("companyId").to_owned();
    let users: Vec<User> = c.users(&company).await.expect("users");
    assert_eq!(ids(users.iter().map(|u| u.id.as_str())), ids(truth.users.iter().map(|u| u.id.as_str())));
    let fields: Vec<CustomFieldDef> = c.custom_fields().await.expect("custom fields");
    assert_eq!(fields.len(), truth.custom_fields.len());
    assert!(fields.iter().any(|f| f.field_key == "contact.budget"));
    let tags = c.tags().await.expect("tags");
    assert_eq!(ids(tags.iter().map(String::as_str)), ids(truth.tags.iter().map(|t| t.name.as_str())));
    let pipelines: Vec<Pipeline> = c.pipelines().await.expect("pipelines");
    assert_eq!(pipelines.len(), truth.pipelines.len());
    assert!(pipelines.iter().all(|p| !p.stages.is_empty()));
    sim.shutdown().await;
}

#[tokio::test]
async fn every_push_method_changes_the_simulator() {
    let sim = sim(sim_config()).await;
    let c = client(&sim);
    let truth = sim.snapshot();
    let sms_ok = |k: &ghl_sim::model::Contact, ch: &str| {
        !k.dnd && k.dnd_settings.get(ch).is_none_or(|s| s.status != "active" && s.status != "permanent")
    };
    let target = truth
        .contacts
        .iter()
        .find(|k| k.phone.is_some() && k.email.is_some() && sms_ok(k, "SMS") && sms_ok(k, "Email"))
        .expect("a contact reachable by SMS and email");
    let id = target.id.clone();

    // get_contact, and None for a missing one.
    let got = c.get_contact(&id).await.expect("get").expect("exists");
    assert_eq!(got.id, id);
    assert_eq!(c.get_contact("doesNotExist0000000").await.expect("404 is Ok"), None);

    let find = |sim: &SimHandle| sim.snapshot().contacts.into_iter().find(|k| k.id == id).expect("contact");
    c.add_tags(&id, &["Leadline-Test".into(), "Hot Lead".into()]).await.expect("add tags");
    assert!(find(&sim).tags.iter().any(|t| t == "Leadline-Test"));
    c.remove_tags(&id, &["Leadline-Test".into()]).await.expect("remove tags");
    assert!(!find(&sim).tags.iter().any(|t| t == "Leadline-Test"));

    let note = c.add_note(&id, "Called, wants 3 bed in Frisco").await.expect("note");
    assert_eq!(note.contact_id, id);
    assert!(
        sim.snapshot().notes.iter().any(|n| n.id == note.id && n.body == "Called, wants 3 bed in Frisco")
    );

    let due: jiff::Timestamp = "2030-01-02T15:00:00Z".parse().expect("timestamp");
    let task = c.add_task(&id, "Follow up on financing", due).await.expect("task");
    assert_eq!(task.due_date, Some(due));
    assert!(sim.snapshot().tasks.iter().any(|t| t.id == task.id && t.title == "Follow up on financing"));

    let user = truth.users[0].id.clone();
    let updated = c.assign_contact(&id, &user).await.expect("assign contact");
    assert_eq!(updated.assigned_to.as_deref(), Some(user.as_str()));
    assert_eq!(find(&sim).assigned_to.as_deref(), Some(user.as_str()));

    let opp = truth.opportunities.iter().find(|o| o.status == "open").expect("an open deal");
    let pipeline = truth.pipelines.iter().find(|p| p.id == opp.pipeline_id).expect("its pipeline");
    let stage = pipeline.stages.iter().find(|s| s.id != opp.pipeline_stage_id).expect("another stage");
    let moved = c.set_opportunity_stage(&opp.id, &stage.id).await.expect("move the deal");
    assert_eq!(moved.pipeline_stage_id, stage.id);
    c.set_opportunity_status(&opp.id, "won").await.expect("status");
    let now = sim.snapshot().opportunities.into_iter().find(|o| o.id == opp.id).expect("deal");
    assert_eq!((now.status.as_str(), now.pipeline_stage_id.as_str()), ("won", stage.id.as_str()));

    let sms = c.send_message(&id, "sms", "Hi! Still looking in Plano?", None).await.expect("sms");
    let mail =
        c.send_message(&id, "email", "<p>Listings attached</p>", Some("New listings")).await.expect("email");
    let sent = sim.sent();
    assert!(sent.iter().any(|s| s.message_id == sms.message_id && s.channel == "sms" && s.contact_id == id));
    assert!(sent.iter().any(|s| s.message_id == mail.message_id && s.channel == "email"));
    assert_eq!(sms.conversation_id, mail.conversation_id);
    assert!(matches!(c.send_message(&id, "fax", "x", None).await, Err(GhlError::InvalidRequest(_))));

    // GHL refusals are typed and permanent; they are not retried.
    let before = c.stats().requests;
    let err = c.set_opportunity_status(&opp.id, "sideways").await.expect_err("invalid status");
    assert!(err.is_permanent(), "{err}");
    let err = c.add_note("doesNotExist0000000", "x").await.expect_err("no contact");
    assert!(matches!(err, GhlError::NotFound { .. }), "{err}");
    assert_eq!(c.stats().requests, before + 2);
    assert_eq!(c.stats().retries, 0);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_bad_token_is_unauthorized_and_not_retried() {
    let sim = sim(sim_config()).await;
    let mut cfg = support::client_config(&sim);
    cfg.credentials.token = Secret::new("wrong-token");
    let c = GhlClient::new(cfg).expect("client");
    let err = c.tags().await.expect_err("refused");
    assert!(matches!(err, GhlError::Unauthorized { .. }), "{err}");
    assert!(err.to_string().contains("GHL_API_KEY"));
    assert!(!err.to_string().contains("wrong-token"));
    assert_eq!(c.stats().requests, 1);
    assert!(!c.stats().breaker_open);
    sim.shutdown().await;
}

#[tokio::test]
async fn reads_survive_faults_and_match_the_fault_free_results() {
    let clean = sim(sim_config()).await;
    let faulty = sim(SimConfig { fault_rate: 0.3, hang_ms: 300, ..sim_config() }).await;
    let a = client(&clean);
    let b = GhlClient::new(ClientConfig { max_attempts: 10, ..support::client_config(&faulty) })
        .expect("client")
        .with_backoff(Duration::from_millis(10), Duration::from_millis(200));

    let sorted = |mut v: Vec<Contact>| {
        v.sort_by(|x, y| x.id.cmp(&y.id));
        v
    };
    assert_eq!(sorted(all_contacts(&b, 100).await), sorted(all_contacts(&a, 100).await));
    let opp_ids = |v: Vec<Opportunity>| ids(v.iter().map(|o| o.id.as_str()));
    assert_eq!(opp_ids(all_opportunities(&b, 100).await), opp_ids(all_opportunities(&a, 100).await));
    let msg_ids = |v: Vec<Message>| ids(v.iter().map(|m| m.id.as_str()));
    assert_eq!(
        msg_ids(all_messages(&b, ExportStream::Messages, 500).await),
        msg_ids(all_messages(&a, ExportStream::Messages, 500).await)
    );
    assert_eq!(
        msg_ids(all_messages(&b, ExportStream::Emails, 500).await),
        msg_ids(all_messages(&a, ExportStream::Emails, 500).await)
    );
    assert_eq!(b.pipelines().await.expect("pipelines"), a.pipelines().await.expect("pipelines"));
    assert_eq!(b.custom_fields().await.expect("fields"), a.custom_fields().await.expect("fields"));
    assert_eq!(b.tags().await.expect("tags"), a.tags().await.expect("tags"));
    let loc = b.location().await.expect("location");
    assert_eq!(loc, a.location().await.expect("location"));
    let company = loc["companyId"].as_str().expect("companyId");
    assert_eq!(b.users(company).await.expect("users"), a.users(company).await.expect("users"));

    assert!(faulty.faults_injected() > 0, "faults were injected");
    let stats = b.stats();
    assert!(stats.retries > 0, "{stats:?}");
    assert!(!stats.breaker_open);
    clean.shutdown().await;
    faulty.shutdown().await;
}

/// A client reading the burst limit as `model` against a simulator counting it as `counting`,
/// 20 a second: 30 requests one after another, then 30 from 6 concurrent tasks sharing the
/// client. Returns the time the 60 took.
async fn sixty_requests_at_20_a_second(sim: &SimHandle, model: RateLimitModel) -> (GhlClient, Duration) {
    let c = GhlClient::new(ClientConfig {
        limits: RateLimits { burst: 20, window: Duration::from_secs(1), daily: 200_000, model },
        ..support::client_config(sim)
    })
    .expect("client");
    let start = Instant::now();
    sixty(&c).await;
    (c, start.elapsed())
}

async fn sixty(c: &GhlClient) {
    for _ in 0..30 {
        c.tags().await.expect("tags");
    }
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let c = c.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..5 {
                c.pipelines().await.expect("pipelines");
            }
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
}

#[tokio::test]
async fn a_small_rate_limit_is_kept_exactly_in_both_readings() {
    for (counting, model) in
        [(Counting::Window, RateLimitModel::Window), (Counting::Bucket, RateLimitModel::Bucket)]
    {
        let limit = RateLimit { counting, ..RateLimit::new(20, 1000) };
        let sim = sim(SimConfig { rate_limit: Some(limit), ..sim_config() }).await;
        let (c, took) = sixty_requests_at_20_a_second(&sim, model).await;
        let stats = c.stats();
        assert_eq!(stats.requests, 60);
        assert_eq!(stats.responses_429, 0, "{counting:?}: {stats:?}");
        assert_eq!(sim.rate_limited(), 0);
        // 60 requests at 20/s: a burst of 20, then the last 40 take 2 s in a window (20 every
        // second) and in a bucket (one every 50 ms) alike. The limiter should not be much
        // slower than that.
        assert!(took >= Duration::from_millis(1900), "{counting:?}: {took:?}");
        assert!(took < Duration::from_millis(3500), "{counting:?}: {took:?}");
        assert_eq!(c.budget().map(|b| b.burst_max), Some(20));
        sim.shutdown().await;
    }
}

#[tokio::test]
async fn a_bucket_reading_refused_by_a_window_server_keeps_the_window_after() {
    let limit = RateLimit { counting: Counting::Window, ..RateLimit::new(20, 1000) };
    let sim = sim(SimConfig { rate_limit: Some(limit), ..sim_config() }).await;
    let (c, _) = sixty_requests_at_20_a_second(&sim, RateLimitModel::Bucket).await;
    // Every call succeeded (the refused ones were asked again), after a few refusals: those
    // already on their way when the first came back.
    let refused = sim.rate_limited();
    assert!((1..=7).contains(&refused), "{refused} refused");
    assert_eq!(c.stats().responses_429, refused);
    // From then on the window is kept.
    sixty(&c).await;
    assert_eq!(sim.rate_limited(), refused);
    sim.shutdown().await;
}

#[tokio::test]
async fn the_breaker_opens_against_a_dead_port_and_fails_fast() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let c = GhlClient::new(ClientConfig {
        base_url: format!("http://127.0.0.1:{port}"),
        credentials: Credentials { token: Secret::new("t"), location_id: "loc".into() },
        timeout: Duration::from_secs(2),
        limits: RateLimits::default(),
        max_attempts: 3,
    })
    .expect("client")
    .with_backoff(Duration::from_millis(10), Duration::from_millis(50));
    let start = Instant::now();
    for _ in 0..5 {
        let err = c.tags().await.expect_err("nothing listens");
        assert!(matches!(err, GhlError::Connect(_)), "{err}");
        assert!(err.is_retryable());
    }
    assert!(c.stats().breaker_open);
    let requests = c.stats().requests;
    assert_eq!(requests, 15);
    for _ in 0..50 {
        let err = c.tags().await.expect_err("breaker open");
        assert!(
            matches!(err, GhlError::CircuitOpen { retry_in } if retry_in > Duration::from_secs(20)),
            "{err}"
        );
    }
    assert_eq!(c.stats().requests, requests, "an open breaker sends nothing");
    assert!(start.elapsed() < Duration::from_secs(3), "{:?}", start.elapsed());
}

/// Measures a 300-request run at GHL's default 100 / 10 s (about 20 s; run with `--ignored`).
#[tokio::test]
#[ignore]
async fn measure_300_requests_at_the_default_limit() {
    let sim = sim(sim_config()).await;
    let c = client(&sim);
    let start = Instant::now();
    for _ in 0..300 {
        c.tags().await.expect("tags");
    }
    let took = start.elapsed();
    eprintln!(
        "300 requests at 100/10s: {took:?}, 429s: {}, sim refused: {}",
        c.stats().responses_429,
        sim.rate_limited()
    );
    assert_eq!(sim.rate_limited(), 0);
    sim.shutdown().await;
}
