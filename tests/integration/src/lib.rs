//! Fixtures for the workspace integration tests: the real `leadline` and `leadlined` binaries,
//! started in private temp directories, spoken to over their real socket.

#![allow(clippy::unwrap_used, clippy::missing_panics_doc)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use leadline_shared::protocol::{self, ClientMessage, PROTOCOL_VERSION, ServerMessage};
use tokio::net::UnixStream;
use tokio_util::codec::{Framed, LengthDelimitedCodec};

/// The JSON a successful command printed (the test fails, with the command's stderr, if it
/// failed).
pub fn json(out: &Output) -> serde_json::Value {
    assert!(out.status.success(), "failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Runs `leadline sync --wait` (with `--full`) until one succeeds (faults may fail a few).
pub fn sync_until_ok(daemon: &Daemon, full: bool) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let mut args = vec!["sync", "--wait"];
        if full {
            args.push("--full");
        }
        let out = daemon.leadline(&args);
        if out.status.success() {
            return;
        }
        assert!(Instant::now() < deadline, "sync never succeeded: {}", String::from_utf8_lossy(&out.stderr));
    }
}

/// The path of a workspace binary, built once per test process with the same profile as the
/// tests, so the tests always run the current code.
pub fn bin(name: &str) -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    let dir = BUILT.get_or_init(|| {
        // target/<profile>/deps/<test binary>
        let exe = std::env::current_exe().expect("test executable path");
        let profile_dir = exe.parent().and_then(Path::parent).expect("target/<profile>").to_path_buf();
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.args(["build", "--quiet", "-p", "leadline-tui", "-p", "leadline-daemon", "--bins"]);
        if profile_dir.file_name().is_some_and(|n| n == "release") {
            cmd.arg("--release");
        }
        let status = cmd.status().expect("run cargo build");
        assert!(status.success(), "building the binaries failed");
        profile_dir
    });
    dir.join(name)
}

/// A private, short temp dir (socket paths must stay under 108 bytes).
pub fn short_tempdir() -> tempfile::TempDir {
    tempfile::Builder::new().prefix("ll-").tempdir_in("/tmp").expect("tempdir")
}

/// Writes a seeded GHL data set (the simulator's generator) and returns its path.
pub fn write_dataset(dir: &Path, contacts: usize) -> PathBuf {
    let seed = ghl_sim::seed::SeedConfig {
        contacts,
        now_ms: 1_767_225_600_000, // 2026-01-01: fixed so the data set is the same every run
        ..ghl_sim::seed::SeedConfig::default()
    };
    let path = dir.join("location.json");
    std::fs::write(&path, serde_json::to_vec(&ghl_sim::seed::generate(&seed)).unwrap()).unwrap();
    path
}

/// A daemon process under test.
pub struct Daemon {
    pub child: Child,
    pub socket: PathBuf,
    pub data_dir: PathBuf,
    pub config: PathBuf,
}

impl Daemon {
    /// The `leadlined run` command for a data dir and socket in `dir`.
    pub fn command(dir: &Path) -> Command {
        let config = dir.join("config.toml");
        if !config.exists() {
            std::fs::write(&config, "").unwrap();
        }
        let mut cmd = Command::new(bin("leadlined"));
        cmd.arg("--config")
            .arg(&config)
            .arg("--data-dir")
            .arg(dir.join("data"))
            .arg("--socket")
            .arg(dir.join("s.sock"));
        cmd.env_remove("LEADLINE_CONFIG").env_remove("LEADLINE_DATA_DIR").env_remove("LEADLINE_SOCKET");
        cmd.arg("run").stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        cmd
    }

    /// Starts `leadlined run` (with extra args) and waits until it answers.
    pub fn start(dir: &Path, extra: &[&str]) -> Daemon {
        let mut cmd = Daemon::command(dir);
        cmd.args(extra);
        Daemon::spawn(dir, cmd)
    }

    /// Spawns a prepared `leadlined` command for `dir` and waits until it answers.
    pub fn spawn(dir: &Path, mut cmd: Command) -> Daemon {
        let mut daemon = Daemon {
            child: cmd.spawn().expect("spawn leadlined"),
            socket: dir.join("s.sock"),
            data_dir: dir.join("data"),
            config: dir.join("config.toml"),
        };
        daemon.wait_ready();
        daemon
    }

    /// Waits until the handshake succeeds.
    pub fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let rt = runtime();
        loop {
            if rt.block_on(handshake(&self.socket)).is_ok() {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                let out = self.child.wait_with_output_ref();
                panic!("leadlined exited early ({status}): {out}");
            }
            assert!(Instant::now() < deadline, "leadlined did not answer in time");
            std::thread::sleep(Duration::from_millis(30));
        }
    }

    /// Sends a signal.
    pub fn signal(&self, sig: rustix::process::Signal) {
        rustix::process::kill_process(rustix::process::Pid::from_child(&self.child), sig).unwrap();
    }

    /// Waits for the process to exit, with a timeout.
    pub fn wait_exit(&mut self, within: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "process did not exit in time");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Runs `leadline` against this daemon.
    pub fn leadline(&self, args: &[&str]) -> Output {
        Command::new(bin("leadline"))
            .arg("--config")
            .arg(&self.config)
            .arg("--data-dir")
            .arg(&self.data_dir)
            .arg("--socket")
            .arg(&self.socket)
            .args(args)
            .env_remove("LEADLINE_CONFIG")
            .env_remove("LEADLINE_DATA_DIR")
            .env_remove("LEADLINE_SOCKET")
            .output()
            .expect("run leadline")
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

trait OutputOf {
    fn wait_with_output_ref(&mut self) -> String;
}

impl OutputOf for Child {
    fn wait_with_output_ref(&mut self) -> String {
        use std::io::Read;
        let mut err = String::new();
        if let Some(mut stderr) = self.stderr.take() {
            let _ = stderr.read_to_string(&mut err);
        }
        err
    }
}

/// A current-thread runtime for the tests' async bits.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

/// A raw framed connection.
pub type Conn = Framed<UnixStream, LengthDelimitedCodec>;

/// Connects without saying anything.
pub async fn raw(socket: &Path) -> std::io::Result<Conn> {
    Ok(Framed::new(UnixStream::connect(socket).await?, protocol::framing()))
}

/// Sends one message.
pub async fn send(conn: &mut Conn, msg: &ClientMessage) {
    conn.send(protocol::encode(msg).unwrap()).await.unwrap();
}

/// Reads one message (`None` when the daemon closed the connection).
pub async fn recv(conn: &mut Conn) -> Option<ServerMessage> {
    let frame = tokio::time::timeout(Duration::from_secs(10), conn.next()).await.expect("reply in time")?;
    Some(protocol::decode(&frame.ok()?).unwrap())
}

/// Connects and completes the handshake.
pub async fn handshake(socket: &Path) -> Result<Conn, String> {
    let mut conn = raw(socket).await.map_err(|e| e.to_string())?;
    send(&mut conn, &ClientMessage::Hello { protocol: PROTOCOL_VERSION, app_version: "test".into() }).await;
    match recv(&mut conn).await {
        Some(ServerMessage::Welcome(_)) => Ok(conn),
        other => Err(format!("{other:?}")),
    }
}

/// A GHL simulator running in this test process, on its own runtime.
pub struct Sim {
    pub handle: Option<ghl_sim::SimHandle>,
    pub runtime: tokio::runtime::Runtime,
}

impl Sim {
    /// Starts a simulator.
    pub fn start(cfg: ghl_sim::SimConfig) -> Sim {
        let runtime =
            tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let handle = runtime.block_on(ghl_sim::spawn(cfg)).expect("simulator starts");
        Sim { handle: Some(handle), runtime }
    }

    /// The running simulator.
    pub fn sim(&self) -> &ghl_sim::SimHandle {
        self.handle.as_ref().unwrap()
    }

    /// Waits until every write so far has reached the simulator's search index (it lags behind
    /// writes as GHL's does), so that a sync now sees them all.
    pub fn settle(&self) {
        let lag = self.sim().shared().cfg.search_lag_ms;
        std::thread::sleep(std::time::Duration::from_millis(lag + 100));
    }

    /// Writes a daemon config pointing at this simulator, polling only when asked, with
    /// `extra` TOML appended.
    pub fn write_config(&self, dir: &Path, extra: &str) {
        self.write_config_with_sync(dir, "fast_poll_secs = 3600\ninterval_secs = 3600\n", extra);
    }

    /// [`Sim::write_config`] with the body of its `[sync]` table given.
    pub fn write_config_with_sync(&self, dir: &Path, sync: &str, extra: &str) {
        let text = format!(
            "[ghl]\nbase_url = \"{}\"\nlocation_id = \"{}\"\ntimeout_secs = 2\n\n[sync]\n{sync}\n{extra}",
            self.sim().base_url(),
            self.sim().location_id()
        );
        std::fs::write(dir.join("config.toml"), text).unwrap();
    }

    /// Calls the simulated GHL API as another client would (the agent in GHL's own app, a
    /// Zapier): `method` on `path` (`/contacts/ID/tags`) with an optional JSON body. Returns
    /// the status.
    pub fn call(&self, method: reqwest::Method, path: &str, body: Option<serde_json::Value>) -> u16 {
        let mut req = reqwest::Client::new()
            .request(method, format!("{}{path}", self.sim().base_url()))
            .bearer_auth(self.sim().token())
            .header("Version", "2021-07-28");
        if let Some(body) = body {
            req = req.json(&body);
        }
        self.runtime.block_on(async { req.send().await.unwrap().status().as_u16() })
    }

    /// Starts a daemon synced with this simulator (credentials through the environment).
    pub fn daemon(&self, dir: &Path) -> Daemon {
        self.daemon_with(dir, &[])
    }

    /// [`Sim::daemon`] with extra `leadlined run` arguments.
    pub fn daemon_with(&self, dir: &Path, extra: &[&str]) -> Daemon {
        let mut cmd = Daemon::command(dir);
        cmd.args(extra);
        cmd.env("GHL_API_KEY", self.sim().token()).env("GHL_LOCATION_ID", self.sim().location_id());
        Daemon::spawn(dir, cmd)
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        if let Some(h) = self.handle.take() {
            self.runtime.block_on(h.shutdown());
        }
    }
}
