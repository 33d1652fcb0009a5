//! The IPC protocol between the dashboard (and CLI) and the daemon.
//!
//! Transport: a Unix stream socket carrying length-delimited frames (a 4-byte big-endian
//! length, then that many bytes of JSON), at most [`MAX_FRAME_BYTES`] each; see [`codec`].
//!
//! Session: the client's first frame is [`ClientMessage::Hello`]. The daemon answers
//! [`ServerMessage::Welcome`], or [`ServerMessage::Incompatible`] and closes. After that the
//! client sends [`ClientMessage::Request`]s with ids of its choosing; each gets exactly one
//! [`ServerMessage::Response`] with the same id. After [`Request::Subscribe`] the daemon also
//! pushes [`ServerMessage::Event`]s. A frame that is not valid JSON for this protocol, or is
//! too large, ends the connection after a [`ServerMessage::Error`]; other clients never notice.
//!
//! Compatibility: new fields are `#[serde(default)]`, so older peers ignore them. Anything
//! else is a new [`PROTOCOL_VERSION`].

mod analytics;
mod assist;
pub mod codec;
mod compose;
mod intel;
mod messages;
mod model;
mod queue;
mod system;

pub use analytics::*;
pub use assist::AssistReport;
pub use codec::{FrameError, MAX_FRAME_BYTES, decode, encode, framing};
pub use compose::{ChannelCheck, ComposeInfo, TemplateChoice};
pub use intel::*;
pub use messages::*;
pub use model::{ModelStatus, ModelSummary};
pub use queue::{QueueName, UnknownQueue};
pub use system::*;

/// The protocol version, defined once for both binaries. Peers must match exactly.
pub const PROTOCOL_VERSION: u16 = 9;

#[cfg(test)]
mod tests;
