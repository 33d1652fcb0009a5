//! The IPC server: the Unix socket, one task per client, and the request handler.

mod compose;
mod connection;
pub mod edits;
pub mod followups;
pub mod handler;
mod intel;
pub mod socket;

pub use connection::serve_connection;
pub use socket::{IpcError, bind};
