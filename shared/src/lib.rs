//! Types and rules shared by the Leadline daemon (`leadlined`) and dashboard (`leadline`).
//!
//! - [`domain`]: GHL entities with GHL's own field names, plus Leadline's local types.
//! - [`protocol`]: the framed IPC protocol spoken over the Unix socket.
//! - [`config`]: the layered configuration (embedded defaults, file, environment).
//! - [`paths`]: where the data, socket, logs and config live, with permission checks.
//! - [`sms`]: how a text message is counted and billed (GSM-7 or UCS-2, segments).

pub mod config;
pub mod domain;
pub mod lists;
pub mod logging;
pub mod paths;
pub mod protocol;
pub mod sms;

/// The version of the Leadline binaries, shown in handshakes and `status`.
pub const APP_VERSION: &str = env!("CARGO_PKG_VERSION");
