//! The `ghl-sim` command line.

use std::path::PathBuf;

use clap::Parser;

use crate::config::{FaultKind, RateLimit, SimConfig};

/// A faithful GoHighLevel API v2 simulator for tests, benchmarks and demos.
#[derive(Debug, Clone, Parser)]
#[command(name = "ghl-sim", version, about)]
pub struct Cli {
    /// Port on 127.0.0.1 (0 = any free port).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// The location (sub-account) id to serve.
    #[arg(long, default_value = "ve9EPM428h8vShlRW1KT")]
    pub location_id: String,
    /// Number of seeded contacts.
    #[arg(long, default_value_t = 200)]
    pub contacts: usize,
    /// Number of seeded opportunities (default: contacts / 5).
    #[arg(long)]
    pub opportunities: Option<usize>,
    /// Extra past deals, closed (won, lost, abandoned), for a conversion model to learn from
    #[arg(long, default_value_t = 0)]
    pub closed_history: usize,
    /// Average seeded messages per contact.
    #[arg(long, default_value_t = 3)]
    pub messages_per_contact: usize,
    /// Seed for data, faults, activity and the webhook key pair.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// The "now" the seeded data is relative to (RFC 3339; default: the current time).
    #[arg(long)]
    pub now: Option<String>,
    /// Burst limit as N/DURATION (e.g. 100/10s), or "off".
    #[arg(long, default_value = "100/10s")]
    pub rate_limit: String,
    /// How the burst limit counts: "bucket" (a burst, then a steady rate) or "window" (at most
    /// N in any DURATION, the strictest reading).
    #[arg(long, default_value = "bucket")]
    pub rate_limit_counting: String,
    /// Daily request cap (0 = off).
    #[arg(long, default_value_t = 200_000)]
    pub daily_limit: u64,
    /// Probability (0..1) that an API request gets a fault.
    #[arg(long, default_value_t = 0.0)]
    pub fault_rate: f64,
    /// Comma-separated faults to draw from: 429,500,502,hang,truncated,malformed,slow,lost (default: all).
    #[arg(long)]
    pub faults: Option<String>,
    /// Milliseconds a "hang" fault holds the request before answering 504.
    #[arg(long, default_value_t = 30_000)]
    pub hang_ms: u64,
    /// Latency added to every API request, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Simulate a live location: new leads, replies, STOPs, deals moving.
    #[arg(long)]
    pub activity: bool,
    /// Mean milliseconds between live events with --activity.
    #[arg(long, default_value_t = 4_000)]
    pub activity_interval_ms: u64,
    /// Append every request to FILE as JSON lines.
    #[arg(long, value_name = "FILE")]
    pub request_log: Option<PathBuf>,
    /// Deliver signed webhooks to URL.
    #[arg(long, value_name = "URL")]
    pub webhook_url: Option<String>,
    /// The only bearer token accepted.
    #[arg(long, default_value = "sim-token", env = "GHL_SIM_TOKEN")]
    pub token: String,
    /// The most milliseconds a contact write takes to reach search (each write draws its own
    /// lag up to this), as GHL's search index lags behind writes. 0: at once.
    #[arg(long, default_value_t = crate::config::DEFAULT_SEARCH_LAG_MS)]
    pub search_lag_ms: u64,
    /// Milliseconds an export cursor lives after its last use.
    #[arg(long, default_value_t = crate::config::DEFAULT_EXPORT_CURSOR_TTL_MS)]
    pub export_cursor_ttl_ms: u64,
    /// Write the seeded data set as one JSON file and exit.
    #[arg(long, value_name = "FILE")]
    pub dump: Option<PathBuf>,
}

impl Cli {
    /// The simulator configuration these flags describe.
    pub fn to_config(&self) -> Result<SimConfig, String> {
        let rate_limit = if self.rate_limit.eq_ignore_ascii_case("off") {
            None
        } else {
            let counting = self.rate_limit_counting.parse()?;
            Some(RateLimit { counting, ..self.rate_limit.parse::<RateLimit>()? })
        };
        let fault_kinds = match &self.faults {
            None => FaultKind::ALL.to_vec(),
            Some(list) => list
                .split(',')
                .filter(|s| !s.trim().is_empty())
                .map(str::parse)
                .collect::<Result<Vec<_>, _>>()?,
        };
        let now_ms = match &self.now {
            None => None,
            Some(s) => Some(crate::time::ms_from_iso(s).ok_or_else(|| {
                format!("--now {s:?} is not an RFC 3339 timestamp (e.g. 2026-03-01T15:00:00Z)")
            })?),
        };
        let cfg = SimConfig {
            port: self.port,
            location_id: self.location_id.clone(),
            contacts: self.contacts,
            opportunities: self.opportunities,
            closed_history: self.closed_history,
            messages_per_contact: self.messages_per_contact,
            seed: self.seed,
            now_ms,
            rate_limit,
            daily_limit: (self.daily_limit > 0).then_some(self.daily_limit),
            fault_rate: self.fault_rate,
            fault_kinds,
            hang_ms: self.hang_ms,
            latency_ms: self.latency_ms,
            activity: self.activity,
            activity_interval_ms: self.activity_interval_ms,
            request_log: self.request_log.clone(),
            webhook_url: self.webhook_url.clone(),
            token: self.token.clone(),
            search_lag_ms: self.search_lag_ms,
            export_cursor_ttl_ms: self.export_cursor_ttl_ms,
            dataset: None,
        };
        cfg.validate()?;
        Ok(cfg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_map_to_config() {
        let cli = Cli::parse_from([
            "ghl-sim",
            "--port",
            "0",
            "--contacts",
            "10",
            "--rate-limit",
            "off",
            "--daily-limit",
            "0",
            "--faults",
            "500,hang",
            "--now",
            "2026-01-01T00:00:00Z",
        ]);
        let cfg = cli.to_config().expect("valid flags");
        assert_eq!(cfg.contacts, 10);
        assert!(cfg.rate_limit.is_none());
        assert!(cfg.daily_limit.is_none());
        assert_eq!(cfg.fault_kinds, vec![FaultKind::ServerError, FaultKind::Hang]);
        assert_eq!(cfg.now_ms, Some(1_767_225_600_000));
        assert_eq!(cfg.token, "sim-token");
        let bad = Cli::parse_from(["ghl-sim", "--fault-rate", "2"]);
        assert!(bad.to_config().is_err());
        let bad = Cli::parse_from(["ghl-sim", "--now", "yesterday"]);
        assert!(bad.to_config().is_err());
    }
}
