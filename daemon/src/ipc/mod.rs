//! The IPC server: the Unix socket, one task per client, and the request handler.

pub mod assist;
mod compose;
mod connection;
pub mod edits;
pub mod followups;
pub mod handler;
mod intel;
pub mod socket;
mod tasks;
pub mod timeline;

pub use connection::serve_connection;
pub use socket::{IpcError, bind};
