//! `leadline`: the terminal dashboard and command-line client of the Leadline daemon.
//!
//! Everything here speaks the IPC protocol only; the store belongs to the daemon. The one
//! exception is [`launch`], which starts the daemon (this same executable, `leadline daemon run`)
//! when none answers, so that a fresh `cargo run --bin leadline` works without `leadlined`.

pub mod cli;
pub mod client;
pub mod commands;
pub mod dashboard;
pub mod demo;
pub mod launch;
pub mod output;
