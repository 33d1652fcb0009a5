//! The GoHighLevel (LeadConnector) API v2 client.
//!
//! [`GhlClient`] talks to one location with a token from [`Credentials::resolve`]. It sends
//! the `Version` header each service pins in GHL's spec (`2021-07-28` for contacts,
//! opportunities, users and locations; `2021-04-15` for conversations), keeps to GHL's rate
//! limits with one shared limiter ([`limiter`]), retries what is safe to retry with jittered
//! exponential backoff, and stops calling during an outage ([`breaker`]). Errors are typed
//! ([`GhlError`]) and say what to do.
//!
//! Facts about the API are in `shared/docs/ghl-api.md`; the simulator used by the tests is
//! described in `docs/ghl-sim.md`.

mod base_url;
pub mod breaker;
mod client;
mod credentials;
mod error;
pub mod limiter;
mod listing;
mod types;

pub use base_url::{BaseUrlError, check_base_url};
pub use breaker::BreakerConfig;
pub use client::{ClientConfig, GhlClient, VERSION_2021_04_15, VERSION_2021_07_28, version_for};
pub use credentials::{Credentials, ENV_API_KEY, ENV_LOCATION_ID, Secret};
pub use error::GhlError;
pub use limiter::{RateLimitModel, RateLimits};
pub use types::{
    ClientStats, ContactOrder, ContactPage, ContactQuery, ExportStream, MessagePage, MessageQuery,
    OpportunityPage, OpportunityQuery, SentMessage, Skipped, SortOrder,
};
