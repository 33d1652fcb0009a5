//! Starting, running and stopping the daemon.

use std::path::PathBuf;
use std::sync::Arc;

use leadline_shared::APP_VERSION;
use leadline_shared::config::Config;
use leadline_shared::paths::{Paths, current_uid, ensure_private_dir, tighten_tree};
use leadline_shared::protocol::{DaemonInfo, Event, PROTOCOL_VERSION};
use tokio::net::UnixListener;
use tokio::signal::unix::{SignalKind, signal};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::clock::{Clock, SystemClock};
use crate::ingest::IngestError;
use crate::ipc::{self, IpcError};
use crate::lock::{DataDirLock, LockError};
use crate::state::State;
use crate::store::{Db, SledStore, StoreError};

/// Why the daemon could not start or stopped badly.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error(transparent)]
    Path(#[from] leadline_shared::paths::PathError),
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Ipc(#[from] IpcError),
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error(transparent)]
    Ghl(#[from] crate::ghl::GhlError),
    #[error("{0}")]
    Config(String),
    #[error("cannot listen for signals: {0}")]
    Signals(std::io::Error),
}

/// How to run.
pub struct RunOptions {
    pub paths: Paths,
    pub config: Config,
    /// A data set to import at start (the offline demo), in the `ghl-sim --dump` format.
    pub import: Option<PathBuf>,
    pub clock: Arc<dyn Clock>,
    /// Stop when the parent process exits, so a killed demo leaves no daemon behind.
    pub exit_with_parent: bool,
}

impl RunOptions {
    /// Options with the system clock and no import.
    pub fn new(paths: Paths, config: Config) -> RunOptions {
        RunOptions { paths, config, import: None, clock: Arc::new(SystemClock), exit_with_parent: false }
    }
}

/// A started daemon: its state and the pieces [`Daemon::serve`] needs.
pub struct Daemon {
    pub state: Arc<State>,
    sync: Option<(crate::ghl::GhlClient, tokio::sync::mpsc::Receiver<crate::sync::SyncCommand>)>,
    listener: UnixListener,
    socket: PathBuf,
    _lock: DataDirLock,
}

impl Daemon {
    /// Takes the data directory's lock, opens the store, imports any data set, and binds the
    /// socket. On success clients can connect as soon as [`Daemon::serve`] runs.
    pub async fn start(opts: RunOptions) -> Result<Daemon, DaemonError> {
        let RunOptions { paths, config, import, clock, exit_with_parent: _ } = opts;
        // A bad schedule is refused before anything starts, naming the setting.
        crate::sync::schedule::check_cron("[sync] reconcile_cron", &config.sync.reconcile_cron)
            .map_err(|e| DaemonError::Config(e.to_string()))?;
        crate::sync::schedule::check_cron("[followups] tick_cron", &config.followups.tick_cron)
            .map_err(|e| DaemonError::Config(e.to_string()))?;
        crate::sync::schedule::check_cron("[scoring] model_retrain_cron", &config.scoring.model_retrain_cron)
            .map_err(|e| DaemonError::Config(e.to_string()))?;
        let uid = current_uid();
        if let Some(loose) = ensure_private_dir(&paths.data_dir, uid, paths.data_dir_is_default)? {
            tracing::warn!("{loose}");
        }
        let lock = DataDirLock::acquire(&paths.lock_file())?;

        let store_dir = paths.store_dir();
        // The store is Leadline's own directory even inside a data directory the user shares:
        // 0700 before sled writes in it, and files left by an older version (or written
        // without the binaries' umask, as in-process tests do) made 0600 once sled has opened.
        ensure_private_dir(&store_dir, uid, true)?;
        let cache = config.store.cache_capacity_mb.saturating_mul(1 << 20);
        let dir = store_dir.clone();
        let store = tokio::task::spawn_blocking(move || SledStore::open(&dir, cache))
            .await
            .map_err(|e| StoreError::Backend(e.to_string()))??;
        tighten_tree(&store_dir, uid)?;
        let db = Db::open(Arc::new(store))?;
        let info = DaemonInfo {
            version: APP_VERSION.into(),
            protocol: PROTOCOL_VERSION,
            pid: std::process::id(),
            started_at: Some(clock.now()),
            socket: paths.socket.display().to_string(),
            data_dir: paths.data_dir.display().to_string(),
        };
        let state = Arc::new(State::new(
            db.clone(),
            config.clone(),
            clock.clone(),
            info,
            store_dir.display().to_string(),
        ));
        state.set_log_dir(paths.log_dir());
        // The promoted model, if any, scores from the first page on.
        crate::intel::load(&state.db, &state.model)?;

        // An imported data set is a frozen location: no sync on top of it.
        let sync = if let Some(path) = import {
            let ingest = state.ingest();
            let n = ingest.import_file(&path, clock.now()).await?;
            tracing::info!(contacts = n, path = %path.display(), "imported the data set");
            state.set_sync_status(|s| {
                s.state = leadline_shared::protocol::SyncState::Seeded;
                s.last_success = Some(clock.now());
            });
            None
        } else {
            let sync = connect_ghl(&state)?;
            if sync.is_some() && config.followups.enabled {
                start_followups(&state, &paths.config_file)?;
            }
            sync
        };

        let listener = ipc::bind(&paths.socket, uid, paths.socket_is_default).await?;
        tracing::info!(socket = %paths.socket.display(), pid = std::process::id(), "daemon ready");
        Ok(Daemon { state, sync, listener, socket: paths.socket, _lock: lock })
    }

    /// Serves clients until `shutdown` is cancelled, then tells them, flushes the store and
    /// removes the socket.
    pub async fn serve(mut self, shutdown: CancellationToken) -> Result<(), DaemonError> {
        let tasks = TaskTracker::new();
        // The queue orders are built from the rows once, now, rather than on the first
        // dashboard's first request (a few hundred ms at 100 k leads).
        let state = self.state.clone();
        tasks.spawn_blocking(move || {
            match crate::ipc::handler::queue_counts(&state) {
                Ok(counts) => tracing::info!(?counts, "queue orders ready"),
                Err(e) => tracing::warn!(error = %e, "could not build the queue orders; the first request will try again"),
            }
            // Likewise the analytics aggregates and the search index (one walk of the rows,
            // then the deals and follow-ups).
            let ready = state.db.warm_up().and_then(|_| {
                let days = state.db.with_analytics(|agg| agg.days.len())?;
                let (leads, words, bytes) = state.db.with_search(|i| (i.len(), i.terms(), i.heap_bytes()))?;
                Ok((days, leads, words, bytes))
            });
            match ready {
                Ok((days, leads, words, bytes)) => {
                    tracing::info!(days, leads, words, bytes, "analytics aggregates and search index ready");
                }
                Err(e) => tracing::warn!(error = %e, "could not build the analytics aggregates and search index; the first request will try again"),
            }
        });
        // The conversion model: trained once the first sync (or the import) is in, if it never
        // was, then nightly.
        tasks.spawn(crate::intel::first_training(self.state.clone(), shutdown.clone()));
        // A full rescore the last run left unfinished (a crash or a stop mid-promotion).
        tasks.spawn(crate::intel::finish_rescore(self.state.clone()));
        // Stored priorities move as speed-to-lead steps pass and follow-ups come due.
        tasks.spawn(crate::priority_refresh::run(self.state.clone(), shutdown.clone()));
        let retrain = crate::intel::schedule(self.state.clone())
            .await
            .map_err(|e| DaemonError::Config(e.to_string()))?;
        let stop = shutdown.clone();
        let state = self.state.clone();
        tasks.spawn(async move {
            stop.cancelled().await;
            state.stop();
            let mut retrain = retrain;
            let _ = retrain.shutdown().await;
        });
        if let Some((client, commands)) = self.sync.take() {
            // The resolved location (GHL_LOCATION_ID wins over the config file), so that the
            // receiver refuses exactly what the sync does not mirror.
            let location_id = client.location_id().to_owned();
            tasks.spawn(crate::sync::run(self.state.clone(), client, commands, shutdown.clone()));
            if let Some(tx) = self.state.sync_commands() {
                use crate::sync::SyncCommand;
                use crate::sync::schedule::{Schedule, start};
                let cfg = &self.state.config;
                let mut schedules = vec![Schedule {
                    setting: "[sync] reconcile_cron",
                    cron: cfg.sync.reconcile_cron.clone(),
                    command: || SyncCommand::Reconcile,
                }];
                if self.state.followups().is_some() {
                    schedules.push(Schedule {
                        setting: "[followups] tick_cron",
                        cron: cfg.followups.tick_cron.clone(),
                        command: || SyncCommand::FollowUps,
                    });
                }
                let scheduler =
                    start(schedules, tx.clone()).await.map_err(|e| DaemonError::Config(e.to_string()))?;
                tracing::info!(
                    reconcile = %cfg.sync.reconcile_cron,
                    followups = %cfg.followups.tick_cron,
                    "fixed schedules started (UTC)"
                );
                let stop = shutdown.clone();
                tasks.spawn(async move {
                    stop.cancelled().await;
                    let mut scheduler = scheduler;
                    let _ = scheduler.shutdown().await;
                });
            }
            if self.state.config.webhooks.enabled {
                start_webhooks(&self.state, &location_id, &tasks, &shutdown).await?;
            }
        }
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                accepted = self.listener.accept() => match accepted {
                    Ok((stream, _)) => {
                        tasks.spawn(ipc::serve_connection(stream, self.state.clone(), shutdown.clone()));
                    }
                    Err(e) => {
                        // Out of file descriptors and the like: wait, do not spin.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    }
                },
            }
        }
        tracing::info!("shutting down");
        self.state.publish(Event::ShuttingDown);
        drop(self.listener);
        let _ = std::fs::remove_file(&self.socket);
        tasks.close();
        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), tasks.wait()).await;
        // The next start reads the analytics and the search index from here, rather than
        // walking every record (which costs a 100 k-lead daemon about 100 MB for good).
        let db = self.state.db.clone();
        match tokio::task::spawn_blocking(move || db.save_snapshot()).await {
            Ok(Ok(true)) => tracing::info!("analytics and search saved for the next start"),
            Ok(Ok(false)) => {}
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "could not save the analytics and search; the next start builds them")
            }
            Err(e) => {
                tracing::warn!(error = %e, "saving the analytics and search failed unexpectedly; the next start builds them")
            }
        }
        self.state.db.flush().await?;
        tracing::info!("store flushed; bye");
        Ok(())
    }
}

/// Loads the follow-up engine (workflows, templates, compliance tables) and connects it. A
/// broken workflow or template refuses to start, naming its file and line.
fn start_followups(state: &State, config_file: &std::path::Path) -> Result<(), DaemonError> {
    let zone = state
        .db
        .meta::<serde_json::Value>(crate::ingest::META_LOCATION)?
        .and_then(|l| l.get("timezone").and_then(|z| z.as_str()).map(str::to_owned));
    let notifier = crate::followups::alerts::desktop();
    let (engine, _) =
        crate::followups::adapters::build(&state.config, config_file, zone.as_deref(), notifier)
            .map_err(|e| DaemonError::Config(e.to_string()))?;
    tracing::info!(workflows = engine.workflows.by_id.len(), "the follow-up engine is ready");
    state.attach_followups(Arc::new(engine));
    Ok(())
}

/// Sets up the GHL client and the sync command channel, or records why sync is off.
fn connect_ghl(
    state: &State,
) -> Result<Option<(crate::ghl::GhlClient, tokio::sync::mpsc::Receiver<crate::sync::SyncCommand>)>, DaemonError>
{
    use crate::ghl::{ClientConfig, Credentials, GhlClient, GhlError, RateLimits};
    let cfg = &state.config.ghl;
    let credentials = match Credentials::resolve(cfg, &|k| std::env::var(k).ok()) {
        Ok(c) => c,
        Err(GhlError::NotConfigured(why)) => {
            tracing::info!("GHL sync is off: {why}");
            state.set_sync_status(|s| {
                s.state = leadline_shared::protocol::SyncState::NotConfigured;
                s.last_error = Some(why);
            });
            return Ok(None);
        }
        Err(e) => return Err(DaemonError::Ghl(e)),
    };
    let client = GhlClient::new(ClientConfig {
        base_url: cfg.base_url.clone(),
        credentials,
        timeout: std::time::Duration::from_secs(cfg.timeout_secs.max(1)),
        limits: RateLimits { model: cfg.rate_limit, ..RateLimits::default() },
        max_attempts: 5,
    })
    .map_err(DaemonError::Ghl)?;
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    state.attach_sync(tx);
    state.set_sync_status(|s| s.state = leadline_shared::protocol::SyncState::Starting);
    Ok(Some((client, rx)))
}

/// Starts the webhook receiver and the task that turns its hints into sync work.
async fn start_webhooks(
    state: &Arc<State>,
    location_id: &str,
    tasks: &TaskTracker,
    shutdown: &CancellationToken,
) -> Result<(), DaemonError> {
    use crate::webhook::{WebhookConfig, serve};
    let cfg = &state.config.webhooks;
    let listen = cfg.listen.parse().map_err(|e| {
        DaemonError::Config(format!(
            "[webhooks] listen = {:?} is not an address ({e}); use e.g. 127.0.0.1:8787",
            cfg.listen
        ))
    })?;
    let mut wh = WebhookConfig::with_ghl_keys(listen, location_id);
    if !cfg.public_key_file.is_empty() {
        wh.ed25519_public_key_pem = std::fs::read_to_string(&cfg.public_key_file).map_err(|e| {
            DaemonError::Config(format!(
                "cannot read [webhooks] public_key_file {}: {e}",
                cfg.public_key_file
            ))
        })?;
        wh.rsa_public_key_pem = None;
    }
    let (tx, rx) = tokio::sync::mpsc::channel(1024);
    let handle = serve(wh, tx, shutdown.clone()).await.map_err(|e| DaemonError::Config(e.to_string()))?;
    tracing::info!(url = %handle.url(), "receiving GHL webhooks");
    tasks.spawn(crate::hints::forward(state.clone(), rx, shutdown.clone()));
    Ok(())
}

/// Runs the daemon until SIGTERM or SIGINT.
pub async fn run(opts: RunOptions) -> Result<(), DaemonError> {
    let exit_with_parent = opts.exit_with_parent;
    let daemon = Daemon::start(opts).await?;
    let shutdown = CancellationToken::new();
    if exit_with_parent {
        tokio::spawn(watch_parent(shutdown.clone()));
    }
    let mut term = signal(SignalKind::terminate()).map_err(DaemonError::Signals)?;
    let mut int = signal(SignalKind::interrupt()).map_err(DaemonError::Signals)?;
    let trigger = shutdown.clone();
    tokio::spawn(async move {
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM received"),
            _ = int.recv() => tracing::info!("SIGINT received"),
        }
        trigger.cancel();
    });
    daemon.serve(shutdown).await
}

/// Cancels `shutdown` once this process is re-parented, i.e. its parent has exited.
async fn watch_parent(shutdown: CancellationToken) {
    let parent = std::os::unix::process::parent_id();
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(500));
    loop {
        tick.tick().await;
        if std::os::unix::process::parent_id() != parent {
            tracing::info!(parent, "the parent process exited; stopping");
            shutdown.cancel();
            return;
        }
    }
}
