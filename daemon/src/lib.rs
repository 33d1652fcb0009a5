//! The Leadline daemon as a library: the store, the engine, ingest and the IPC server.
//!
//! `leadlined run` (and `leadline`'s hidden `daemon` subcommand) call [`cli::main`].

pub mod alloc;
pub mod assist;
pub mod binary;
pub mod cli;
pub mod clock;
pub mod daemon;
pub mod engine;
pub mod followups;
pub mod ghl;
pub mod hints;
pub mod ingest;
pub mod intel;
pub mod ipc;
pub mod listings;
pub mod lock;
pub mod logtail;
pub mod model;
pub mod priority_refresh;
pub mod smart_lists;
pub mod state;
pub mod store;
pub mod sync;
pub mod webhook;
