//! What the daemon's tasks share.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock, RwLock};

use leadline_shared::config::Config;
use leadline_shared::protocol::{DaemonInfo, Event, SyncStatus};
use tokio::sync::broadcast;

use crate::clock::Clock;
use crate::store::Db;

/// Events buffered per subscriber before it counts as lagging.
const EVENT_BUFFER: usize = 256;

/// The daemon's shared state. Cheap to share behind an `Arc`.
pub struct State {
    pub db: Db,
    pub config: Config,
    pub clock: Arc<dyn Clock>,
    pub info: DaemonInfo,
    pub store_path: String,
    events: broadcast::Sender<Event>,
    sync: RwLock<SyncStatus>,
    sync_commands: OnceLock<tokio::sync::mpsc::Sender<crate::sync::SyncCommand>>,
    followups: OnceLock<Arc<crate::followups::Engine>>,
    /// Where the daemon's log files go, for `Request::LogTail` (unset in tests without logs).
    log_dir: OnceLock<PathBuf>,
    /// Messages GHL accepted from the sender lately: their webhook echoes are passed over.
    pub own_messages: crate::hints::OwnMessages,
    /// When each lead's tasks were last fetched on opening it (see `ipc::tasks`).
    pub task_fetches: std::sync::Mutex<std::collections::HashMap<String, jiff::Timestamp>>,
    /// The promoted conversion model every ingester scores with (none: `rules-v1`).
    pub model: crate::intel::ModelSlot,
    /// Held by a training run, so the nightly one and one asked for never overlap.
    pub training: tokio::sync::Mutex<()>,
    /// Set once the daemon is stopping ([`State::stop`]): long store walks (a full rescore)
    /// stop between two pages and go on at the next start.
    stopping: std::sync::atomic::AtomicBool,
    /// The property listings, prepared for matching.
    pub listings: crate::listings::ListingBook,
    /// The saved smart lists' members, kept while they hold (see `smart_lists`).
    pub smart_lists: crate::smart_lists::MemberCache,
}

impl State {
    /// A daemon's state over a store in memory, its clock stopped at `now`: for tests.
    #[cfg(test)]
    pub fn in_memory(now: jiff::Timestamp) -> Arc<State> {
        let db = Db::open(Arc::new(crate::store::MemoryStore::new())).expect("an in-memory store opens");
        Arc::new(State::new(
            db,
            Config::default(),
            Arc::new(crate::clock::FixedClock::new(now)),
            DaemonInfo::default(),
            String::new(),
        ))
    }

    /// Builds the state.
    pub fn new(db: Db, config: Config, clock: Arc<dyn Clock>, info: DaemonInfo, store_path: String) -> State {
        let (events, _) = broadcast::channel(EVENT_BUFFER);
        State {
            db,
            config,
            clock,
            info,
            store_path,
            events,
            sync: RwLock::new(SyncStatus::default()),
            sync_commands: OnceLock::new(),
            followups: OnceLock::new(),
            log_dir: OnceLock::new(),
            own_messages: crate::hints::OwnMessages::default(),
            task_fetches: std::sync::Mutex::default(),
            model: crate::intel::ModelSlot::default(),
            training: tokio::sync::Mutex::new(()),
            stopping: std::sync::atomic::AtomicBool::new(false),
            listings: crate::listings::ListingBook::default(),
            smart_lists: crate::smart_lists::MemberCache::default(),
        }
    }

    /// Marks the daemon as stopping, for the long walks that check [`State::is_stopping`].
    pub fn stop(&self) {
        self.stopping.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether the daemon is stopping.
    pub fn is_stopping(&self) -> bool {
        self.stopping.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Tells every subscribed client. Nobody listening is fine.
    pub fn publish(&self, event: Event) {
        let _ = self.events.send(event);
    }

    /// A new subscription to [`State::publish`]ed events.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    /// Connects the sync task (once, at start).
    pub fn attach_sync(&self, tx: tokio::sync::mpsc::Sender<crate::sync::SyncCommand>) {
        let _ = self.sync_commands.set(tx);
    }

    /// The sync task's command channel, when sync runs.
    pub fn sync_commands(&self) -> Option<&tokio::sync::mpsc::Sender<crate::sync::SyncCommand>> {
        self.sync_commands.get()
    }

    /// Connects the follow-up engine (once, at start).
    pub fn attach_followups(&self, engine: Arc<crate::followups::Engine>) {
        let _ = self.followups.set(engine);
    }

    /// The follow-up engine, when it runs.
    pub fn followups(&self) -> Option<&Arc<crate::followups::Engine>> {
        self.followups.get()
    }

    /// Says where the daemon's log files are (once, at start).
    pub fn set_log_dir(&self, dir: PathBuf) {
        let _ = self.log_dir.set(dir);
    }

    /// Where the daemon's log files are, when known.
    pub fn log_dir(&self) -> Option<&Path> {
        self.log_dir.get().map(PathBuf::as_path)
    }

    /// An ingester for this daemon's store, planning follow-ups when the engine runs.
    pub fn ingest(&self) -> crate::ingest::Ingest {
        crate::ingest::Ingest::new(self.db.clone(), self.config.scoring.clone())
            .with_planning(self.followups().map(|e| e.planning()))
            .with_model(self.model.clone())
    }

    /// The current sync status.
    pub fn sync_status(&self) -> SyncStatus {
        self.sync.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Changes the sync status and tells subscribers.
    pub fn set_sync_status(&self, change: impl FnOnce(&mut SyncStatus)) {
        let status = {
            let mut guard = self.sync.write().unwrap_or_else(|p| p.into_inner());
            change(&mut guard);
            guard.clone()
        };
        self.publish(Event::Sync { status });
    }
}
