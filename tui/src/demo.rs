//! `leadline demo`: a throwaway daemon on a seeded, simulated GHL location.
//!
//! The data set comes from the GHL simulator's seed generator (the same one `ghl-sim` serves),
//! dated against now, and enters the store through the daemon's ingest path. The daemon gets a
//! temporary data directory and the default socket, so `leadline queue hot` from another
//! shell talks to it. Everything is removed on exit.

use std::path::{Path, PathBuf};
use std::process::Child;

use leadline_daemon::cli::GlobalArgs;

use crate::client::Client;
use crate::launch::{self, LaunchError};

/// Why the demo could not run.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(
        "a Leadline daemon already answers on {0}. The demo needs its own: stop that daemon, or give the demo another socket with --socket PATH"
    )]
    SocketBusy(String),
    #[error("cannot prepare the demo's temporary directory: {0}")]
    TempDir(std::io::Error),
    #[error("cannot write the demo data set: {0}")]
    Dataset(String),
    #[error(transparent)]
    Launch(#[from] LaunchError),
    #[error(transparent)]
    Path(#[from] leadline_shared::paths::PathError),
}

/// A running demo; dropping it stops the daemon and deletes its data.
pub struct Demo {
    pub socket: PathBuf,
    pub data_dir: PathBuf,
    child: Child,
    _temp: tempfile::TempDir,
}

impl Demo {
    /// Seeds a location with `contacts` leads and starts a daemon on it.
    pub fn start(globals: &GlobalArgs, contacts: usize) -> Result<Demo, DemoError> {
        let socket = globals.paths()?.socket;
        let runtime =
            tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(DemoError::TempDir)?;
        if runtime.block_on(Client::connect(&socket)).is_ok() {
            return Err(DemoError::SocketBusy(socket.display().to_string()));
        }
        let temp = tempfile::Builder::new().prefix("leadline-demo-").tempdir().map_err(DemoError::TempDir)?;
        let data_dir = temp.path().join("data");
        let dataset = temp.path().join("location.json");
        write_dataset(&dataset, contacts)?;
        // An empty config: the demo runs on the built-in defaults, whatever the user's file says.
        let config = temp.path().join("config.toml");
        std::fs::write(&config, "").map_err(DemoError::TempDir)?;

        let demo_globals = GlobalArgs {
            config: Some(config),
            data_dir: Some(data_dir.clone()),
            socket: Some(socket.clone()),
        };
        let mut cmd = launch::daemon_command(&demo_globals)?;
        cmd.arg("--import").arg(&dataset).arg("--exit-with-parent");
        let mut child = cmd.spawn().map_err(LaunchError::Spawn)?;
        if let Err(e) = launch::wait_until_ready(&socket, Some(&mut child), &data_dir.join("logs")) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(e.into());
        }
        Ok(Demo { socket, data_dir, child, _temp: temp })
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
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn write_dataset(path: &Path, contacts: usize) -> Result<(), DemoError> {
    let seed = ghl_sim::seed::SeedConfig {
        contacts,
        now_ms: jiff::Timestamp::now().as_millisecond(),
        ..ghl_sim::seed::SeedConfig::default()
    };
    let dataset = ghl_sim::seed::generate(&seed);
    let file = std::fs::File::create(path).map_err(|e| DemoError::Dataset(e.to_string()))?;
    serde_json::to_writer(std::io::BufWriter::new(file), &dataset)
        .map_err(|e| DemoError::Dataset(e.to_string()))
}
