//! `leadline demo`: a throwaway daemon synced with a live, simulated GHL location.
//!
//! The GHL simulator (`ghl-sim`, the same one the tests use) runs inside this process on
//! loopback with live activity: new leads arrive, leads reply, some text STOP. A daemon with a
//! temporary data directory syncs from it over real HTTP, exactly as it would from GHL, on the
//! default socket, so `leadline queue hot` from another shell talks to it. Everything is
//! removed on exit.

use std::path::PathBuf;
use std::process::Child;

use leadline_daemon::cli::GlobalArgs;

use crate::client::Client;
use crate::launch::{self, LaunchError};

/// Who the demo's follow-ups come from: the simulated location's new leads get their first
/// text from the engine (inside their allowed hours, else queued until 08:00 their time).
const DEMO_MESSAGES: &str = "[messages]\nbusiness_name = \"Summit Realty Group\"\nagent_name = \"Sarah Mitchell\"\n\
                             agent_phone = \"(512) 555-0142\"\npostal_address = \"500 Congress Ave, Suite 200\\nAustin, TX 78701\"\n";

/// The demo's property listings (`scripts/demo-listings.py` writes them): where the simulated
/// leads look, at their budgets, so the lead view shows matches.
const DEMO_LISTINGS: &str = include_str!("../../assets/demo/listings.csv");

/// Why the demo could not run.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(
        "a Leadline daemon already answers on {0}. The demo needs its own: stop that daemon, or give the demo another socket with --socket PATH"
    )]
    SocketBusy(String),
    #[error("cannot prepare the demo: {0}")]
    Setup(std::io::Error),
    #[error("cannot start the simulated GHL location: {0}")]
    Simulator(String),
    #[error("the first sync with the simulated location failed: {0}")]
    FirstSync(String),
    #[error("loading the demo's listings failed: {0}")]
    Listings(String),
    #[error(transparent)]
    Launch(#[from] LaunchError),
    #[error(transparent)]
    Path(#[from] leadline_shared::paths::PathError),
}

/// A running demo; dropping it stops the daemon and the simulator and deletes the data.
pub struct Demo {
    pub socket: PathBuf,
    pub data_dir: PathBuf,
    /// The simulator's address, e.g. `http://127.0.0.1:41234`.
    pub ghl_url: String,
    child: Child,
    sim: Option<ghl_sim::SimHandle>,
    runtime: tokio::runtime::Runtime,
    _temp: tempfile::TempDir,
}

impl Demo {
    /// Starts the simulated location with `contacts` leads, a live event every `activity_ms` on
    /// average, and a daemon synced with it.
    pub fn start(globals: &GlobalArgs, contacts: usize, activity_ms: u64) -> Result<Demo, DemoError> {
        let socket = globals.paths()?.socket;
        // The simulator lives on this runtime's threads for as long as the demo runs.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("ghl-sim")
            .enable_all()
            .build()
            .map_err(DemoError::Setup)?;
        if runtime.block_on(Client::connect(&socket)).is_ok() {
            return Err(DemoError::SocketBusy(socket.display().to_string()));
        }
        let sim_config = ghl_sim::SimConfig {
            port: 0,
            contacts,
            // Enough closed deals for the conversion model to train on and be measured
            // against rules-v1 (`[scoring] model_min_closed_deals`, 200 by default).
            closed_history: (contacts * 3 / 2).max(400),
            activity: true,
            activity_interval_ms: activity_ms,
            ..ghl_sim::SimConfig::default()
        };
        let sim =
            runtime.block_on(ghl_sim::spawn(sim_config)).map_err(|e| DemoError::Simulator(e.to_string()))?;
        let ghl_url = sim.base_url();

        let temp = tempfile::Builder::new().prefix("leadline-demo-").tempdir().map_err(DemoError::Setup)?;
        let data_dir = temp.path().join("data");
        let config = temp.path().join("config.toml");
        // The demo's four agents share hundreds of leads a month: at the default 15 open leads
        // each every one is over 80 % and routing could only show its round-robin fallback.
        let config_text = format!(
            "[ghl]\nbase_url = \"{ghl_url}\"\nlocation_id = \"{}\"\n\n[sync]\nfast_poll_secs = 3\ninterval_secs = 30\n\n[routing]\nmax_load = 0.8\ndefault_capacity = 60\nload_window_days = 30\nluxury_budget = 1000000\n\n{DEMO_MESSAGES}",
            sim.location_id()
        );
        std::fs::write(&config, config_text).map_err(DemoError::Setup)?;
        let listings = temp.path().join("listings.csv");
        std::fs::write(&listings, DEMO_LISTINGS).map_err(DemoError::Setup)?;

        let demo_globals = GlobalArgs {
            config: Some(config),
            data_dir: Some(data_dir.clone()),
            socket: Some(socket.clone()),
        };
        let mut cmd = launch::daemon_command(&demo_globals)?;
        cmd.arg("--exit-with-parent")
            .env("GHL_API_KEY", sim.token())
            .env("GHL_LOCATION_ID", sim.location_id());
        let child = cmd.spawn().map_err(LaunchError::Spawn)?;
        // From here on, dropping `demo` stops the daemon and the simulator on any error.
        let mut demo = Demo { socket, data_dir, ghl_url, child, sim: Some(sim), runtime, _temp: temp };
        launch::wait_until_ready(&demo.socket, Some(&mut demo.child), &demo.data_dir.join("logs"))?;
        let synced = demo.runtime.block_on(async {
            let mut client = Client::connect(&demo.socket).await.map_err(|e| e.to_string())?;
            client.sync(true, false).await.map_err(|e| e.to_string())
        });
        synced.map_err(DemoError::FirstSync)?;
        let imported = demo.runtime.block_on(async {
            let mut client = Client::connect(&demo.socket).await.map_err(|e| e.to_string())?;
            client.import_listings(&listings.display().to_string(), false).await.map_err(|e| e.to_string())
        });
        imported.map_err(DemoError::Listings)?;
        Ok(demo)
    }

    /// True while the daemon runs.
    pub fn daemon_alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        // SIGTERM first, so the daemon flushes and removes its socket.
        let pid = rustix::process::Pid::from_child(&self.child);
        let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
        for _ in 0..50 {
            if !self.daemon_alive() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        if self.daemon_alive() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if let Some(sim) = self.sim.take() {
            self.runtime.block_on(sim.shutdown());
        }
    }
}
