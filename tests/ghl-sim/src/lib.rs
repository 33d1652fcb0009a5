//! `ghl-sim`: a faithful, deterministic simulator of the GoHighLevel (LeadConnector) API v2.
//!
//! It serves the endpoints a lead-management client needs (contacts search, opportunities,
//! pipelines, conversations and the messages export, location, users, tags, custom fields), with
//! GHL's paths, `Version` headers, field names, pagination cursors, error bodies and rate-limit
//! headers. It can inject faults, simulate a live location and deliver Ed25519-signed webhooks.
//!
//! Run it in-process with [`spawn`], or as the `ghl-sim` binary. See `docs/ghl-sim.md`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), ghl_sim::SimError> {
//! let sim = ghl_sim::spawn(ghl_sim::SimConfig { contacts: 1_000, ..Default::default() }).await?;
//! println!("GHL at {} with token {}", sim.base_url(), sim.token());
//! sim.shutdown().await;
//! # Ok(()) }
//! ```

pub mod activity;
pub mod cli;
pub mod config;
pub mod error;
pub mod export_cursor;
pub mod faults;
pub mod model;
pub mod ops;
pub mod rate_limit;
pub mod request_log;
pub mod routes;
pub mod search_index;
pub mod seed;
pub mod server;
pub mod store;
pub mod time;
pub mod webhook;

pub use config::{Counting, FaultKind, RateLimit, SimConfig};
pub use error::ApiError;
pub use seed::{Dataset, SeedConfig};
pub use server::{SimError, SimHandle, spawn};
pub use store::{Counts, SentRecord};
