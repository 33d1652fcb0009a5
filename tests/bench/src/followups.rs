//! The follow-up engine's figures against the simulator on loopback:
//! - speed to lead: a new lead's signed webhook leaving the simulator, to the daemon's first
//!   text reaching it, inside the lead's allowed hours;
//! - the drain of due follow-ups under GHL's rate limit (100 requests per 10 s): many new
//!   leads owed their first text at once, sent as fast as GHL allows.

use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use leadline_shared::protocol::{self, ClientMessage, Request, Response, ServerMessage};
use serde_json::json;

use crate::stats::{Summary, summarize};

/// Wednesday 4 March 2026, 19:00 UTC: 13:00 in Chicago, inside the allowed hours.
const AFTERNOON_MS: i64 = 1_772_650_800_000;

const MESSAGES: &str =
    "[messages]\nbusiness_name = \"Summit Realty Group\"\nagent_name = \"Sarah Mitchell\"\n";

/// What the follow-up runs measured.
pub struct FollowUpFigures {
    /// New-lead webhook to the first text reaching GHL.
    pub speed_to_lead: Summary,
    /// GHL requests per new lead (the webhook's re-fetch, the send, the polls its events ask).
    pub speed_to_lead_requests_per_lead: f64,
    /// Texts sent per second while draining the due ones.
    pub due_sends_per_s: f64,
    pub due_sends: usize,
    pub due_seconds: f64,
    /// GHL requests per text during the drain (sends, checks and the polls beside them).
    pub due_requests: u64,
    pub due_429s: u64,
}

impl FollowUpFigures {
    /// The figures under their JSON keys.
    pub fn figures(&self) -> serde_json::Value {
        json!({
            "speed_to_lead_p50_ms": (self.speed_to_lead.p50_us / 100.0).round() / 10.0,
            "speed_to_lead_p99_ms": (self.speed_to_lead.p99_us / 100.0).round() / 10.0,
            "speed_to_lead_samples": self.speed_to_lead.n,
            "speed_to_lead_requests_per_lead": (self.speed_to_lead_requests_per_lead * 10.0).round() / 10.0,
            "followups_due_sends": self.due_sends,
            "followups_due_seconds": (self.due_seconds * 10.0).round() / 10.0,
            "followups_due_sends_per_s": (self.due_sends_per_s * 100.0).round() / 100.0,
            // GHL's sustained limit is 10 requests a second: the share of it that went to texts.
            "followups_due_vs_rate_limit": (self.due_sends_per_s / 10.0 * 100.0).round() / 100.0,
            "followups_due_requests": self.due_requests,
            "followups_due_429s": self.due_429s,
        })
    }
}

/// A daemon started on `sim`, its clock at the simulator's, with `config` (TOML after the
/// `[ghl]` table), once its first full sync is done.
struct Running {
    child: Child,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(
    dir: &Path,
    sim: &ghl_sim::SimHandle,
    runtime: &tokio::runtime::Runtime,
    config: &str,
) -> anyhow::Result<Running> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join("config.toml");
    std::fs::write(
        &path,
        format!(
            "[ghl]\nbase_url = \"{}\"\nlocation_id = \"{}\"\n\n{config}\n{MESSAGES}",
            sim.base_url(),
            sim.location_id()
        ),
    )?;
    let socket = dir.join("s.sock");
    let clock = jiff::Timestamp::from_millisecond(sim.shared().now_ms())?;
    let child = crate::ipc::daemon_command(&path, &dir.join("data"), &socket)?
        .args(["run", "--clock-at", &clock.to_string()])
        .env("GHL_API_KEY", sim.token())
        .env("GHL_LOCATION_ID", sim.location_id())
        .spawn()?;
    let running = Running { child };
    runtime.block_on(sync_now(&socket))?;
    Ok(running)
}

/// Waits for the daemon to answer, then for a full sync.
async fn sync_now(socket: &Path) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut conn = loop {
        if let Ok(conn) = crate::ipc::hello(socket).await {
            break conn;
        }
        anyhow::ensure!(started.elapsed() < Duration::from_secs(60), "the daemon did not start");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let request = ClientMessage::Request { id: 1, body: Request::SyncNow { wait: true, full: true } };
    conn.send(protocol::encode(&request)?).await?;
    let frame = conn.next().await.ok_or_else(|| anyhow::anyhow!("daemon closed"))??;
    match protocol::decode::<ServerMessage>(&frame)? {
        ServerMessage::Response { result: Ok(Response::Synced(_)), .. } => Ok(()),
        other => anyhow::bail!("sync failed: {other:?}"),
    }
}

fn new_lead(sim: &ghl_sim::SimHandle, n: usize) -> anyhow::Result<String> {
    let lead = json!({
        "firstName": format!("Bench{n}"), "lastName": "Lead", "phone": format!("+1312555{:04}", n % 10_000),
        "timezone": "America/Chicago", "source": "Zillow", "opportunity": false,
    });
    Ok(sim.inject_lead(&lead).map_err(|e| anyhow::anyhow!("inject a lead: {e:?}"))?.id)
}

/// How many texts the simulator has received so far.
fn sent(sim: &ghl_sim::SimHandle) -> usize {
    sim.with_store(|s| s.sent.len())
}

/// How often a new lead arrives in the speed-to-lead run: 100 a minute, far more than any
/// agent gets, yet under GHL's 10 requests a second at the requests each one costs.
const LEAD_EVERY: Duration = Duration::from_millis(600);
/// Leads sent before the timed ones, to warm the daemon's caches and connections.
const WARM_UP: usize = 5;

/// Speed to lead: `samples` new leads, one every [`LEAD_EVERY`], each timed from its
/// webhook's start to its first text's arrival; and the GHL requests each lead cost.
fn speed_to_lead(
    work: &Path,
    runtime: &tokio::runtime::Runtime,
    samples: usize,
) -> anyhow::Result<(Summary, f64)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let sim = runtime.block_on(ghl_sim::spawn(ghl_sim::SimConfig {
        port: 0,
        contacts: 200,
        now_ms: Some(AFTERNOON_MS),
        webhook_url: Some(format!("http://127.0.0.1:{port}/webhooks/ghl")),
        ..ghl_sim::SimConfig::default()
    }))?;
    let dir = work.join("speed-to-lead");
    std::fs::create_dir_all(&dir)?;
    let key = dir.join("sim-key.pem");
    std::fs::write(&key, sim.webhook_public_key_pem())?;
    // Polling is off (1 h): the webhook alone brings each lead in, as a Marketplace app has it.
    // The leads come faster than the default 100 texts a minute; that cap is lifted, since it is
    // one lead's wait that is measured here, not a queue's.
    let config = format!(
        "[sync]\nfast_poll_secs = 3600\ninterval_secs = 3600\n\n[followups]\nsms_per_minute = 100000\n\n[webhooks]\nenabled = true\nlisten = \"127.0.0.1:{port}\"\npublic_key_file = \"{}\"\n",
        key.display()
    );
    let daemon = start(&dir, &sim, runtime, &config)?;
    let mut times = Vec::with_capacity(samples);
    let requests_before = sim.requests();
    let first = Instant::now();
    for n in 0..samples + WARM_UP {
        // Leads come on a steady beat, not back to back: back to back they would cost more
        // requests a second than GHL allows, and the wait measured would be the rate limit's.
        let slot = first + LEAD_EVERY * n as u32;
        std::thread::sleep(slot.saturating_duration_since(Instant::now()));
        let before = sent(&sim);
        let started = Instant::now();
        new_lead(&sim, n)?;
        while sent(&sim) == before {
            anyhow::ensure!(started.elapsed() < Duration::from_secs(30), "lead {n} got no text in 30 s");
            std::thread::sleep(Duration::from_micros(200));
        }
        // The first few warm the daemon's caches and connections.
        if n >= WARM_UP {
            times.push(started.elapsed());
        }
    }
    let requests = sim.requests() - requests_before;
    drop(daemon);
    runtime.block_on(sim.shutdown());
    Ok((summarize(&mut times), requests as f64 / (samples + WARM_UP) as f64))
}

/// The drain: `leads` new leads arrive while the daemon is down; when it starts, each is owed
/// its first text at once, under GHL's 100 requests per 10 s.
fn drain(
    work: &Path,
    runtime: &tokio::runtime::Runtime,
    leads: usize,
) -> anyhow::Result<(usize, f64, u64, u64)> {
    let sim = runtime.block_on(ghl_sim::spawn(ghl_sim::SimConfig {
        port: 0,
        contacts: 50,
        now_ms: Some(AFTERNOON_MS),
        rate_limit: Some(ghl_sim::RateLimit::new(100, 10_000)),
        ..ghl_sim::SimConfig::default()
    }))?;
    for n in 0..leads {
        new_lead(&sim, n)?;
    }
    // Our own cap on texts a minute is lifted, so that GHL's limit is the one that binds.
    let config = "[sync]\nfast_poll_secs = 5\ninterval_secs = 3600\n\n[followups]\nsms_per_minute = 100000\n";
    let dir = work.join("due");
    let requests_before = sim.requests();
    let daemon = start(&dir, &sim, runtime, config)?;
    let deadline = Instant::now() + Duration::from_secs(600);
    let mut first = None;
    while sent(&sim) < leads {
        anyhow::ensure!(Instant::now() < deadline, "only {} of {leads} texts in 10 minutes", sent(&sim));
        if first.is_none() && sent(&sim) > 0 {
            first = Some((Instant::now(), sent(&sim), sim.requests()));
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let (started, at_start, requests_at_start) = first.ok_or_else(|| anyhow::anyhow!("no text was sent"))?;
    let seconds = started.elapsed().as_secs_f64();
    let requests = sim.requests() - requests_at_start.max(requests_before);
    let rate_limited = sim.rate_limited();
    drop(daemon);
    runtime.block_on(sim.shutdown());
    Ok((leads - at_start, seconds, requests, rate_limited))
}

/// Runs both.
pub fn measure(work: &Path, samples: usize, due: usize) -> anyhow::Result<FollowUpFigures> {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()?;
    let (speed_to_lead, requests_per_lead) = speed_to_lead(work, &runtime, samples)?;
    let (due_sends, due_seconds, due_requests, due_429s) = drain(work, &runtime, due)?;
    Ok(FollowUpFigures {
        speed_to_lead,
        speed_to_lead_requests_per_lead: requests_per_lead,
        due_sends_per_s: due_sends as f64 / due_seconds.max(1e-9),
        due_sends,
        due_seconds,
        due_requests,
        due_429s,
    })
}
