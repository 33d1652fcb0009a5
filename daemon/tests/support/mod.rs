//! Shared by the daemon's integration tests: a GHL client pointed at an in-process simulator.

use std::time::Duration;

use ghl_sim::SimHandle;
use leadline_daemon::ghl::{ClientConfig, Credentials, GhlClient, RateLimits, Secret};

/// Client settings for `sim`: its URL and token, a 5 s timeout, GHL's default limits.
pub fn client_config(sim: &SimHandle) -> ClientConfig {
    ClientConfig {
        base_url: sim.base_url(),
        credentials: Credentials {
            token: Secret::new(sim.token()),
            location_id: sim.location_id().to_owned(),
        },
        timeout: Duration::from_secs(5),
        limits: RateLimits::default(),
        max_attempts: 5,
    }
}

/// A client for `sim` with no rate limit of its own: for tests that run many short syncs.
#[allow(dead_code, reason = "not every test binary needs it")]
pub fn unlimited_client(sim: &SimHandle) -> GhlClient {
    let limits = RateLimits {
        burst: 100_000,
        window: Duration::from_secs(1),
        daily: u32::MAX,
        ..RateLimits::default()
    };
    GhlClient::new(ClientConfig { limits, ..client_config(sim) }).expect("client")
}

/// Where to reach the simulator's HTTP API as someone working in GHL: its URL and token.
#[allow(dead_code, reason = "not every test binary changes GHL over HTTP")]
#[derive(Debug, Clone)]
pub struct GhlUser {
    pub base_url: String,
    pub token: String,
}

#[allow(dead_code, reason = "not every test binary changes GHL over HTTP")]
impl GhlUser {
    pub fn of(sim: &SimHandle) -> GhlUser {
        GhlUser { base_url: sim.base_url(), token: sim.token().to_owned() }
    }

    /// Deletes a record in GHL (`/contacts/ID`, `/opportunities/ID`), as a person would in
    /// GHL's own app: the daemon learns of it only through its sync.
    pub async fn delete(&self, path: &str) {
        let resp = reqwest::Client::new()
            .delete(format!("{}{path}", self.base_url))
            .bearer_auth(&self.token)
            .header("Version", "2021-07-28")
            .send()
            .await
            .expect("DELETE reaches the simulator");
        assert!(resp.status().is_success(), "DELETE {path} answered {}", resp.status());
    }
}

/// Each built-in queue's exact length and every row, as the daemon answers them (ranks kept at
/// write time), against a recount: a walk of the index tree on disk with the queue's rule
/// spelled out here, independently of `engine::queues`.
#[allow(dead_code, reason = "not every test binary checks the queues")]
pub fn assert_queues_match_a_recount(db: &leadline_daemon::store::Db, now: jiff::Timestamp, after: &str) {
    use std::ops::ControlFlow;

    use leadline_daemon::engine::queues;
    use leadline_daemon::store::LeadOrder;
    use leadline_shared::config::Config;
    use leadline_shared::domain::{LeadSummary, Temperature};
    use leadline_shared::protocol::QueueName;

    let cfg = Config::default().queues;
    let window = jiff::SignedDuration::from_hours(cfg.speed_to_lead_window_hours as i64);
    let quiet = jiff::SignedDuration::from_hours(cfg.dormant_after_days as i64 * 24);
    type Rule = Box<dyn Fn(&LeadSummary) -> bool>;
    let rules: [(QueueName, LeadOrder, Rule); 6] = [
        (
            QueueName::SpeedToLead,
            LeadOrder::UncontactedNewest,
            Box::new(move |l| l.date_added.is_some_and(|d| d >= now - window)),
        ),
        (QueueName::Hot, LeadOrder::Score, Box::new(|l| l.temperature == Temperature::Hot)),
        (QueueName::NeedsReply, LeadOrder::AwaitingLongest, Box::new(|_| true)),
        (
            QueueName::Due,
            LeadOrder::DueSoonest,
            Box::new(move |l| l.next_followup_at.is_some_and(|d| d <= now)),
        ),
        (
            QueueName::Dormant,
            LeadOrder::Score,
            Box::new(move |l| l.last_activity.is_none_or(|a| a < now - quiet)),
        ),
        (QueueName::All, LeadOrder::Score, Box::new(|_| true)),
    ];
    for (name, order, rule) in rules {
        let mut rows = Vec::new();
        db.leads_by(order, &mut |l| {
            if rule(&l) {
                rows.push(l);
            }
            ControlFlow::Continue(())
        })
        .expect("walk");
        // The recovery order (dormant) is no tree of its own: the quiet leads by value at risk.
        if name == QueueName::Dormant {
            rows.sort_by_key(leadline_daemon::store::keys::recovery);
        }
        let want: Vec<String> = rows.into_iter().map(|l| l.id).collect();
        let slice = queues::plan(&name, now, &cfg).expect("built-in queue");
        let total = db.slice_len(&slice).expect("length");
        let mut got = Vec::new();
        while (got.len() as u64) < total {
            let page = db.slice_window(&slice, got.len() as u64, 97, None).expect("window");
            assert_eq!(page.total, total, "{name} after {after}: the length moved while nothing was written");
            if page.rows.is_empty() {
                break;
            }
            got.extend(page.rows.into_iter().map(|l| l.id));
        }
        assert_eq!(total, want.len() as u64, "{name} after {after}: its length against a recount");
        assert_eq!(got, want, "{name} after {after}: its rows, page by page, against a recount");
    }
}

/// A simulated location of `contacts` (no rate limits, no search lag), a daemon state over a
/// sled store in `dir` with `config`, and a client; the state is fully synced once.
#[allow(dead_code, reason = "not every test binary uses every helper")]
pub async fn synced_location(
    dir: &std::path::Path,
    contacts: usize,
    config: leadline_shared::config::Config,
) -> (SimHandle, GhlClient, std::sync::Arc<leadline_daemon::state::State>) {
    use std::sync::Arc;
    let sim = ghl_sim::spawn(ghl_sim::SimConfig {
        contacts,
        rate_limit: None,
        daily_limit: None,
        search_lag_ms: 0,
        ..Default::default()
    })
    .await
    .expect("simulator starts");
    let ghl = unlimited_client(&sim);
    let store = leadline_daemon::store::SledStore::open(&dir.join("store"), 8 << 20).expect("store opens");
    let db = leadline_daemon::store::Db::open(Arc::new(store)).expect("db opens");
    let state = Arc::new(leadline_daemon::state::State::new(
        db,
        config,
        Arc::new(leadline_daemon::clock::SystemClock),
        leadline_shared::protocol::DaemonInfo::default(),
        String::new(),
    ));
    leadline_daemon::sync::full::full(&state, &ghl).await.expect("first sync");
    (sim, ghl, state)
}

/// Templates by name, for loading workflows: `*email` are emails, the rest texts.
#[allow(dead_code, reason = "not every test binary plans follow-ups")]
pub struct Catalog;

impl leadline_daemon::engine::followup::workflow::TemplateCatalog for Catalog {
    fn channel_of(&self, id: &str) -> Option<&'static str> {
        Some(if id.ends_with("email") { "email" } else { "sms" })
    }
}

/// No text is an opt-out.
#[allow(dead_code, reason = "not every test binary plans follow-ups")]
pub struct NeverOptsOut;

impl leadline_daemon::engine::followup::plan::OptOuts for NeverOptsOut {
    fn opt_out(&self, _: &str) -> Option<String> {
        None
    }
}

/// Time rules with no quiet hours and no business hours: a send goes when it is due.
#[allow(dead_code, reason = "not every test binary plans follow-ups")]
pub struct Anytime;

impl leadline_daemon::engine::followup::plan::TimeRules for Anytime {
    fn send_time(
        &self,
        _: &leadline_shared::domain::Contact,
        _: &str,
        due: jiff::Timestamp,
    ) -> (jiff::Timestamp, Option<String>) {
        (due, None)
    }

    fn business_time(&self, due: jiff::Timestamp) -> jiff::Timestamp {
        due
    }
}
