//! The real daemon binary at full size: import time, peak RSS, store size, and the IPC round
//! trip of `queue hot --limit 50` beside a bare Unix-socket echo of the same request.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use leadline_shared::protocol::{
    self, ClientMessage, PROTOCOL_VERSION, QueueName, Request, Response, ServerMessage,
};
use tokio::net::{UnixListener, UnixStream};
use tokio_util::codec::Framed;

use crate::Plan;
use crate::stats::{Summary, summarize};

/// What the daemon run measured.
pub struct IpcFigures {
    /// Once the daemon is settled: its first model trained and, after a promotion, every lead
    /// rescored.
    pub queue: Summary,
    /// The same request while the daemon trains its first model and rescores every lead with
    /// it (what a model upgrade costs the dashboard); `None` when it was over before the first.
    pub queue_training: Option<Summary>,
    /// The last 120 rows of `all`: what the dashboard asks for on `G`.
    pub queue_last: Summary,
    /// `Analytics { range: all }`: every figure of the analytics screen.
    pub analytics: Summary,
    /// The first 50 rows of the saved list `call-today` (every lead's row read, once a minute
    /// for a list with time conditions), the first request for it.
    pub list_first: Duration,
    /// The same request again, the list's members kept by the daemon.
    pub list: Summary,
    /// The real dashboard against this daemon (`None` without tmux).
    pub dashboard: Option<crate::dashboard::DashboardFigures>,
    pub echo: Summary,
    /// The importing daemon's peak RSS (reading and applying the data set file).
    pub import_peak_rss_kb: u64,
    /// RSS after the import and the queries, when only the store and caches remain.
    pub daemon_rss_after_kb: u64,
    pub import_s: f64,
    pub store_bytes: u64,
}

/// A `/proc/<pid>/status` field in kB (`VmHWM:` is the peak RSS, `VmRSS:` the current one).
pub fn status_kb(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with(field)).and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn dir_size(path: &Path) -> u64 {
    std::fs::read_dir(path)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_size(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

/// The benchmark re-executed as the daemon (the same code as `leadlined`), its output quiet
/// but for errors; the caller adds the subcommand.
///
/// `LEADLINE_BENCH_DAEMON_WRAPPER` (e.g. `heaptrack`) runs the daemon under a profiler; the RSS
/// figures are then the wrapper's, not the daemon's.
pub fn daemon_command(config: &Path, data: &Path, socket: &Path) -> anyhow::Result<Command> {
    let exe = std::env::current_exe()?;
    let mut command = match std::env::var_os("LEADLINE_BENCH_DAEMON_WRAPPER") {
        Some(wrapper) => {
            let mut c = Command::new(wrapper);
            c.arg(exe);
            c
        }
        None => Command::new(exe),
    };
    command
        .arg("daemon")
        .arg("--config")
        .arg(config)
        .arg("--data-dir")
        .arg(data)
        .arg("--socket")
        .arg(socket)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    Ok(command)
}

/// Runs the daemon on the data set and measures it.
pub fn measure(work: &Path, dataset: &Path, plan: &Plan) -> anyhow::Result<IpcFigures> {
    let socket = work.join("d.sock");
    let data = work.join("daemon-data");
    let config = work.join("config.toml");
    std::fs::write(&config, crate::store::cache_section(plan.store_cache_mb))?;
    let started = Instant::now();
    let mut child =
        daemon_command(&config, &data, &socket)?.args(["run", "--import"]).arg(dataset).spawn()?;
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let result = runtime.block_on(async {
        let mut conn = loop {
            if let Ok(conn) = hello(&socket).await {
                break conn;
            }
            anyhow::ensure!(child.try_wait()?.is_none(), "leadlined exited during import");
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let import_s = started.elapsed().as_secs_f64();
        let hot = Request::Queue { name: QueueName::Hot, limit: 50, offset: 0, anchor: None };
        let queue_training = time_while_training(&mut conn, &hot).await?;
        let queue = time_requests(&mut conn, &hot, plan.ipc_samples).await?;
        let last = Request::Queue {
            name: QueueName::All,
            limit: 120,
            offset: (plan.leads as u64).saturating_sub(120),
            anchor: None,
        };
        let queue_last = time_requests(&mut conn, &last, plan.ipc_samples).await?;
        // The warm-up requests also wait for the aggregates' build at start, if still running.
        let all = Request::Analytics { range: leadline_shared::protocol::AnalyticsRange::All };
        let analytics = time_requests(&mut conn, &all, plan.ipc_samples).await?;
        let saved = Request::Queue {
            name: QueueName::Saved("call-today".into()),
            limit: 50,
            offset: 0,
            anchor: None,
        };
        let list_first = time_once(&mut conn, &saved).await?;
        let list = time_requests(&mut conn, &saved, plan.ipc_samples).await?;
        let echo = echo(work, plan.ipc_samples).await?;
        Ok::<_, anyhow::Error>((
            import_s,
            queue,
            queue_training,
            queue_last,
            analytics,
            (list_first, list),
            echo,
        ))
    });
    // The dashboard is measured against the daemon still running with the whole data set.
    let dashboard = match &result {
        Ok(_) => crate::dashboard::measure(&socket, plan.leads as u64, plan.jump_samples)?,
        Err(_) => None,
    };
    let (peak, now) = (status_kb(child.id(), "VmHWM:"), status_kb(child.id(), "VmRSS:"));
    let _ = child.kill();
    let _ = child.wait();
    let (import_s, queue, queue_training, queue_last, analytics, (list_first, list), echo) = result?;
    Ok(IpcFigures {
        queue,
        queue_training,
        queue_last,
        analytics,
        list_first,
        list,
        dashboard,
        echo,
        import_peak_rss_kb: peak,
        daemon_rss_after_kb: now,
        import_s,
        store_bytes: dir_size(&data.join("store")),
    })
}

type Conn = Framed<UnixStream, tokio_util::codec::LengthDelimitedCodec>;

/// Connects and completes the handshake.
pub async fn hello(socket: &Path) -> anyhow::Result<Conn> {
    let mut conn = Framed::new(UnixStream::connect(socket).await?, protocol::framing());
    let hello = ClientMessage::Hello { protocol: PROTOCOL_VERSION, app_version: "bench".into() };
    conn.send(protocol::encode(&hello)?).await?;
    match conn.next().await {
        Some(Ok(frame)) => match protocol::decode::<ServerMessage>(&frame)? {
            ServerMessage::Welcome(_) => Ok(conn),
            other => anyhow::bail!("unexpected {other:?}"),
        },
        _ => anyhow::bail!("no welcome"),
    }
}

fn queue_request(id: u64, body: &Request) -> anyhow::Result<Bytes> {
    let msg = ClientMessage::Request { id, body: body.clone() };
    Ok(protocol::encode(&msg)?)
}

/// Whether the daemon's first training run, and the rescore of a promotion after it, are over
/// (its model status, asked once).
async fn trained(conn: &mut Conn, id: u64) -> anyhow::Result<bool> {
    let status = ClientMessage::Request { id, body: Request::ModelStatus };
    conn.send(protocol::encode(&status)?).await?;
    let frame = conn.next().await.ok_or_else(|| anyhow::anyhow!("daemon closed"))??;
    match protocol::decode::<ServerMessage>(&frame)? {
        ServerMessage::Response { result: Ok(Response::Model(s)), .. } => {
            Ok(s.last_run_at.is_some() && !s.training)
        }
        other => anyhow::bail!("bad reply {other:?}"),
    }
}

/// Waits until [`trained`] (asked every 100 ms); at most two minutes, and then says on stderr
/// that what is measured next is taken while the training or its rescore still runs.
pub async fn wait_until_trained(conn: &mut Conn) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(120);
    for id in 2_000_000u64.. {
        if trained(conn, id).await? {
            break;
        }
        if Instant::now() > deadline {
            eprintln!(
                "the daemon's first training and its rescore were not over after 120 s; measuring anyway"
            );
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

/// Times `body`, one at a time, until the daemon's first training run is over (asking for the
/// model's status between requests, untimed); at most two minutes.
async fn time_while_training(conn: &mut Conn, body: &Request) -> anyhow::Result<Option<Summary>> {
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut times = Vec::new();
    for id in 1_000_000u64.. {
        if trained(conn, id).await? || Instant::now() > deadline {
            break;
        }
        let started = Instant::now();
        conn.send(queue_request(id, body)?).await?;
        let frame = conn.next().await.ok_or_else(|| anyhow::anyhow!("daemon closed"))??;
        let elapsed = started.elapsed();
        let ServerMessage::Response { result: Ok(_), .. } = protocol::decode(&frame)? else {
            anyhow::bail!("bad reply to a queue request while training")
        };
        times.push(elapsed);
    }
    Ok((!times.is_empty()).then(|| summarize(&mut times)))
}

/// A queue request, one at a time, as the CLI and dashboard send it.
/// Times one request.
async fn time_once(conn: &mut Conn, body: &Request) -> anyhow::Result<Duration> {
    let started = Instant::now();
    conn.send(queue_request(u64::MAX, body)?).await?;
    let frame = conn.next().await.ok_or_else(|| anyhow::anyhow!("daemon closed"))??;
    let elapsed = started.elapsed();
    let reply: ServerMessage = protocol::decode(&frame)?;
    let ServerMessage::Response { result: Ok(_), .. } = reply else { anyhow::bail!("bad reply {reply:?}") };
    Ok(elapsed)
}

async fn time_requests(conn: &mut Conn, body: &Request, samples: usize) -> anyhow::Result<Summary> {
    let mut times = Vec::with_capacity(samples);
    for id in 0..(samples + 50) as u64 {
        let started = Instant::now();
        conn.send(queue_request(id, body)?).await?;
        let frame = conn.next().await.ok_or_else(|| anyhow::anyhow!("daemon closed"))??;
        let reply: ServerMessage = protocol::decode(&frame)?;
        let elapsed = started.elapsed();
        let ServerMessage::Response { result: Ok(_), .. } = reply else {
            anyhow::bail!("bad reply {reply:?}")
        };
        if id >= 50 {
            times.push(elapsed);
        }
    }
    Ok(summarize(&mut times))
}

/// The reference: the same request bytes through a framed echo server in another process,
/// so both round trips cross the same process boundary.
async fn echo(work: &Path, samples: usize) -> anyhow::Result<Summary> {
    let path = work.join("echo.sock");
    let mut server =
        Command::new(std::env::current_exe()?).arg("echo").arg(&path).stdin(Stdio::null()).spawn()?;
    let mut conn = loop {
        match UnixStream::connect(&path).await {
            Ok(stream) => break Framed::new(stream, protocol::framing()),
            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    };
    let mut times = Vec::with_capacity(samples);
    let hot = Request::Queue { name: QueueName::Hot, limit: 50, offset: 0, anchor: None };
    for id in 0..(samples + 50) as u64 {
        let request = queue_request(id, &hot)?;
        let started = Instant::now();
        conn.send(request).await?;
        conn.next().await.ok_or_else(|| anyhow::anyhow!("echo closed"))??;
        if id >= 50 {
            times.push(started.elapsed());
        }
    }
    drop(conn);
    let _ = server.kill();
    let _ = server.wait();
    Ok(summarize(&mut times))
}

/// Serves one echo client (the `echo` child process).
pub fn echo_server(path: &Path) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    runtime.block_on(async {
        let listener = UnixListener::bind(path)?;
        let (stream, _) = listener.accept().await?;
        let mut conn = Framed::new(stream, protocol::framing());
        while let Some(Ok(frame)) = conn.next().await {
            if conn.send(frame.freeze()).await.is_err() {
                break;
            }
        }
        Ok(())
    })
}
