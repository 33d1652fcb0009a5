//! The one-shot commands: connect, ask, print, exit.

use std::io::Write;
use std::path::Path;

use leadline_shared::protocol::QueueName;

use crate::client::{Client, ClientError};
use crate::output;

/// A command's failure, with the exit code it maps to.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error("cannot write the output: {0}")]
    Output(#[from] std::io::Error),
}

impl CommandError {
    /// 2 for bad usage or input, 1 for operational failures.
    pub fn exit_code(&self) -> i32 {
        match self {
            CommandError::Usage(_) => 2,
            CommandError::Client(e) => e.exit_code(),
            CommandError::Output(_) => 1,
        }
    }
}

fn print(text: &str) -> Result<(), CommandError> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

fn print_json<T: serde::Serialize>(value: &T) -> Result<(), CommandError> {
    let text = serde_json::to_string_pretty(value).map_err(std::io::Error::other)?;
    print(&format!("{text}\n"))
}

/// `leadline status`.
pub async fn status(socket: &Path, json: bool) -> Result<(), CommandError> {
    let report = Client::connect(socket).await?.status().await?;
    if json { print_json(&report) } else { print(&output::status(&report)) }
}

/// `leadline queue NAME`.
pub async fn queue(socket: &Path, name: &str, limit: u32, json: bool) -> Result<(), CommandError> {
    let queue: QueueName = name
        .parse()
        .map_err(|e: leadline_shared::protocol::UnknownQueue| CommandError::Usage(e.to_string()))?;
    let leads = Client::connect(socket).await?.queue(queue, limit).await?;
    if json { print_json(&leads) } else { print(&output::queue(name, &leads, jiff::Timestamp::now())) }
}

/// `leadline lead ID`.
pub async fn lead(socket: &Path, id: &str, json: bool) -> Result<(), CommandError> {
    let detail = Client::connect(socket).await?.lead(id).await?;
    if json { print_json(&detail) } else { print(&output::lead(&detail, jiff::Timestamp::now())) }
}
