//! Finding a running daemon, or starting one.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use leadline_daemon::cli::GlobalArgs;

use crate::client::{Client, ClientError};

/// How long a new daemon may take to answer.
pub const START_TIMEOUT: Duration = Duration::from_secs(20);
const POLL: Duration = Duration::from_millis(40);

/// Why the daemon could not be started.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error("cannot find this program's path to start the daemon: {0}")]
    Exe(std::io::Error),
    #[error("cannot start the daemon: {0}")]
    Spawn(std::io::Error),
    #[error(
        "the daemon exited ({status}) before answering on {socket}. Its log is in {logs}; `leadline daemon run` in a terminal shows the error"
    )]
    Exited { status: String, socket: String, logs: String },
    #[error("the daemon did not answer on {socket} within {timeout:?}; see its log in {logs}")]
    Timeout { socket: String, timeout: Duration, logs: String },
    #[error(transparent)]
    Client(#[from] ClientError),
}

/// The command that runs the daemon: this executable's hidden `daemon run`.
pub fn daemon_command(globals: &GlobalArgs) -> Result<Command, LaunchError> {
    let exe = std::env::current_exe().map_err(LaunchError::Exe)?;
    let mut cmd = Command::new(exe);
    if let Some(config) = &globals.config {
        cmd.arg("--config").arg(config);
    }
    if let Some(dir) = &globals.data_dir {
        cmd.arg("--data-dir").arg(dir);
    }
    if let Some(socket) = &globals.socket {
        cmd.arg("--socket").arg(socket);
    }
    cmd.args(["daemon", "run"]);
    // Its own process group: a Ctrl-C meant for the dashboard does not stop the daemon.
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
    Ok(cmd)
}

/// Waits until a daemon answers the handshake on `socket`, or `child` (if any) exits.
pub fn wait_until_ready(socket: &Path, child: Option<&mut Child>, logs: &Path) -> Result<(), LaunchError> {
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(LaunchError::Spawn)?;
    let deadline = Instant::now() + START_TIMEOUT;
    let mut child = child;
    loop {
        match runtime.block_on(Client::connect(socket)) {
            Ok(_) => return Ok(()),
            Err(e) if !e.is_unreachable() => return Err(e.into()),
            Err(_) => {}
        }
        if let Some(child) = child.as_deref_mut()
            && let Ok(Some(status)) = child.try_wait()
        {
            return Err(LaunchError::Exited {
                status: status.to_string(),
                socket: socket.display().to_string(),
                logs: logs.display().to_string(),
            });
        }
        if Instant::now() > deadline {
            return Err(LaunchError::Timeout {
                socket: socket.display().to_string(),
                timeout: START_TIMEOUT,
                logs: logs.display().to_string(),
            });
        }
        std::thread::sleep(POLL);
    }
}

/// Makes sure a daemon answers on `socket`, starting one in the background if none does.
/// Blocking; call it from outside the async runtime or through `spawn_blocking`.
pub fn ensure_daemon(globals: &GlobalArgs, socket: &Path, logs: &Path) -> Result<(), LaunchError> {
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(LaunchError::Spawn)?;
    match runtime.block_on(Client::connect(socket)) {
        Ok(_) => return Ok(()),
        Err(e) if !e.is_unreachable() => return Err(e.into()),
        Err(_) => {}
    }
    drop(runtime);
    tracing::info!(socket = %socket.display(), "no daemon answers; starting one");
    let mut child = daemon_command(globals)?.spawn().map_err(LaunchError::Spawn)?;
    let result = wait_until_ready(socket, Some(&mut child), logs);
    // The daemon outlives us on purpose; reap it in the background if it ever exits.
    std::thread::spawn(move || child.wait());
    result
}

/// The log directory shown in launch errors.
pub fn log_dir(globals: &GlobalArgs) -> PathBuf {
    globals.paths().map(|p| p.log_dir()).unwrap_or_else(|_| PathBuf::from("the data directory's logs/"))
}
