//! Shared by the daemon's integration tests: a GHL client pointed at an in-process simulator.

use std::time::Duration;

use ghl_sim::SimHandle;
use leadline_daemon::ghl::{ClientConfig, Credentials, RateLimits, Secret};

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
