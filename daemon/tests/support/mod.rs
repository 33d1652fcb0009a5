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
    let limits = RateLimits { burst: 100_000, window: Duration::from_secs(1), daily: u32::MAX };
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
