//! The initial sync of a whole location against the simulator enforcing GHL's rate limit,
//! as a fraction of the rate-limit-bound optimum, with the count of 429s.

use std::path::Path;
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use leadline_shared::protocol::{self, ClientMessage, Request, Response, ServerMessage};

/// How long the daemon idles after the sync, its first training and the rescore after it,
/// before its settled RSS is read.
const SETTLE: Duration = Duration::from_secs(5);

/// What the sync run measured.
pub struct SyncFigures {
    pub seconds: f64,
    pub optimum_seconds: f64,
    pub requests: u64,
    pub responses_429: u64,
    /// The syncing daemon's peak RSS (`VmHWM`) over the sync.
    pub daemon_peak_rss_mb: f64,
    /// Its RSS once the sync is done and the allocator has had time to give memory back.
    pub daemon_settled_rss_mb: f64,
    pub contacts: usize,
    pub opportunities: usize,
    pub messages: usize,
}

impl SyncFigures {
    /// The sync figures under their JSON keys.
    pub fn figures(&self) -> serde_json::Value {
        serde_json::json!({
            "sync_efficiency": ((self.optimum_seconds / self.seconds).min(1.0) * 1000.0).round() / 1000.0,
            "sync_429s": self.responses_429,
            "sync_rate_limit_counting": "bucket",
            "sync_seconds": (self.seconds * 10.0).round() / 10.0,
            "sync_optimum_seconds": self.optimum_seconds,
            "sync_requests": self.requests,
            "daemon_rss_mb": self.daemon_peak_rss_mb.round(),
            "daemon_rss_settled_mb": self.daemon_settled_rss_mb.round(),
            // The key this figure had before `daemon_rss_mb` became the syncing daemon's peak.
            "sync_daemon_rss_mb": self.daemon_peak_rss_mb.round(),
            "sync_records": { "contacts": self.contacts, "opportunities": self.opportunities, "messages": self.messages },
        })
    }
}

/// The optimum of product.md: R requests, a burst of 100, then 10 per second.
pub fn optimum_seconds(contacts: usize, opportunities: usize, messages: usize, fixed: usize) -> (usize, f64) {
    let r = contacts.div_ceil(500) + opportunities.div_ceil(100) + messages.div_ceil(500) + fixed;
    (r, r.saturating_sub(100) as f64 / 10.0)
}

/// Starts a rate-limited simulator with `dataset`, a daemon synced with it, and times the
/// daemon's first full sync.
pub fn measure(
    work: &Path,
    dataset: std::sync::Arc<ghl_sim::Dataset>,
    plan: &crate::Plan,
) -> anyhow::Result<SyncFigures> {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()?;
    let (contacts, opportunities, messages) =
        (dataset.contacts.len(), dataset.opportunities.len(), dataset.messages.len());
    let sim = runtime.block_on(ghl_sim::spawn(ghl_sim::SimConfig {
        port: 0,
        contacts,
        dataset: Some(dataset),
        // A burst of 100, then 10 a second: the reading product.md's optimum is built on.
        rate_limit: Some(ghl_sim::RateLimit::new(100, 10_000)),
        ..ghl_sim::SimConfig::default()
    }))?;
    let dir = work.join("sync");
    std::fs::create_dir_all(&dir)?;
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[ghl]\nbase_url = \"{}\"\nlocation_id = \"{}\"\n[sync]\nfast_poll_secs = 3600\ninterval_secs = 3600\n{}{}",
            sim.base_url(),
            sim.location_id(),
            crate::store::cache_section(plan.store_cache_mb),
            plan.sync_log_filter
                .as_ref()
                .map(|f| format!("[logging]\nfilter = {}\n", serde_json::Value::from(f.as_str())))
                .unwrap_or_default(),
        ),
    )?;
    let socket = dir.join("s.sock");
    let started = Instant::now();
    let mut child = crate::ipc::daemon_command(&config, &dir.join("data"), &socket)?
        .arg("run")
        .env("GHL_API_KEY", sim.token())
        .env("GHL_LOCATION_ID", sim.location_id())
        .spawn()?;
    // The daemon starts a full sync by itself; a waited sync request queues behind it, so its
    // answer comes when the first full sync is done (plus one cheap incremental pass).
    let result = runtime.block_on(async {
        let mut conn = loop {
            if let Ok(conn) = crate::ipc::hello(&socket).await {
                break conn;
            }
            anyhow::ensure!(started.elapsed() < Duration::from_secs(60), "the daemon did not start");
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let request = ClientMessage::Request { id: 1, body: Request::SyncNow { wait: true, full: false } };
        conn.send(protocol::encode(&request)?).await?;
        let frame = conn.next().await.ok_or_else(|| anyhow::anyhow!("daemon closed"))??;
        let seconds = match protocol::decode::<ServerMessage>(&frame)? {
            ServerMessage::Response { result: Ok(Response::Synced(_)), .. } => {
                started.elapsed().as_secs_f64()
            }
            other => anyhow::bail!("sync failed: {other:?}"),
        };
        // The first training starts once the contacts are in, and a promotion rescores every
        // lead after it: the daemon is idle only once both are over.
        crate::ipc::wait_until_trained(&mut conn).await?;
        Ok(seconds)
    });
    // Settled: the allocator returns freed memory at once, sled after its
    // background flush; a few seconds of idling show what the daemon keeps.
    if result.is_ok() {
        std::thread::sleep(SETTLE);
    }
    let peak_rss_kb = crate::ipc::status_kb(child.id(), "VmHWM:");
    let settled_rss_kb = crate::ipc::status_kb(child.id(), "VmRSS:");
    let _ = child.kill();
    let _ = child.wait();
    let seconds = result?;
    // Fixed calls: location, users, custom fields, pipelines (our client sends no tags call in sync).
    let (_, optimum_seconds) = optimum_seconds(contacts, opportunities, messages, 4);
    let figures = SyncFigures {
        seconds,
        optimum_seconds,
        requests: sim.requests(),
        responses_429: sim.rate_limited(),
        daemon_peak_rss_mb: peak_rss_kb as f64 / 1024.0,
        daemon_settled_rss_mb: settled_rss_kb as f64 / 1024.0,
        contacts,
        opportunities,
        messages,
    };
    runtime.block_on(sim.shutdown());
    Ok(figures)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_optimum_of_product_md() {
        let (r, secs) = optimum_seconds(100_000, 20_000, 300_000, 5);
        assert_eq!(r, 1_005);
        assert!((secs - 90.5).abs() < 1e-9);
    }
}
