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

/// `leadline queue NAME [--limit N] [--offset N]`. `--json` prints the leads only (a JSON
/// array, as before paging existed); people also get where the page sits in the queue.
pub async fn queue(
    socket: &Path,
    name: &str,
    limit: u32,
    offset: u64,
    json: bool,
) -> Result<(), CommandError> {
    let queue: QueueName = name
        .parse()
        .map_err(|e: leadline_shared::protocol::UnknownQueue| CommandError::Usage(e.to_string()))?;
    let page = Client::connect(socket).await?.queue(queue, limit, offset, None).await?;
    if json { print_json(&page.rows) } else { print(&output::queue(name, &page, jiff::Timestamp::now())) }
}

/// `leadline search QUERY [--limit N] [--json]`.
pub async fn search(socket: &Path, query: &str, limit: u32, json: bool) -> Result<(), CommandError> {
    let page = Client::connect(socket).await?.search(query, limit).await?;
    if json { print_json(&page) } else { print(&output::search(query, &page, jiff::Timestamp::now())) }
}

/// `leadline analytics [--range 7d|30d|90d|all] [--json]`.
pub async fn analytics(socket: &Path, range: &str, json: bool) -> Result<(), CommandError> {
    let range: leadline_shared::protocol::AnalyticsRange = range
        .parse()
        .map_err(|e: leadline_shared::protocol::UnknownRange| CommandError::Usage(e.to_string()))?;
    let report = Client::connect(socket).await?.analytics(range).await?;
    if json { print_json(&report) } else { print(&output::analytics(&report)) }
}

/// `leadline lead ID`.
pub async fn lead(socket: &Path, id: &str, json: bool) -> Result<(), CommandError> {
    let detail = Client::connect(socket).await?.lead(id).await?;
    if json { print_json(&detail) } else { print(&output::lead(&detail, jiff::Timestamp::now())) }
}

/// `leadline sync [--wait] [--full]`.
pub async fn sync(socket: &Path, wait: bool, full: bool) -> Result<(), CommandError> {
    let status = Client::connect(socket).await?.sync(wait, full).await?;
    let when = status.last_success.map(|t| t.to_string()).unwrap_or_else(|| "never".into());
    if wait {
        print(&format!("sync done: {}, last success {when}\n", status.state))
    } else {
        print(&format!("sync started (state {}, last success {when})\n", status.state))
    }
}

/// `leadline tag` and `leadline note`: one local edit.
pub async fn edit(socket: &Path, id: &str, op: leadline_shared::domain::OpKind) -> Result<(), CommandError> {
    let seq = Client::connect(socket).await?.edit(id, op).await?;
    print(&format!("saved as edit #{seq}; it goes to GHL with the next sync\n"))
}

/// `leadline retry SEQ`.
pub async fn retry(socket: &Path, seq: u64) -> Result<(), CommandError> {
    Client::connect(socket).await?.retry(seq).await?;
    print(&format!("edit #{seq} queued again\n"))
}

/// `leadline followups list`.
pub async fn followups_list(
    socket: &Path,
    lead: Option<String>,
    states: &[String],
    limit: u32,
    json: bool,
) -> Result<(), CommandError> {
    let states = states
        .iter()
        .map(|s| {
            serde_json::from_value(serde_json::Value::String(s.trim().to_owned())).map_err(|_| {
                CommandError::Usage(format!(
                    "--state {s:?} is not a state: use awaiting_approval, scheduled, queued, sending, sent, done, failed, uncertain, skipped or cancelled"
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let filter =
        leadline_shared::protocol::FollowUpFilter { states, contact_id: lead, limit, ..Default::default() };
    let items = Client::connect(socket).await?.followups(filter).await?;
    if json { print_json(&items) } else { print(&output::followups(&items, jiff::Timestamp::now())) }
}

/// `leadline followups approve [--text TEXT]|skip ID`.
pub async fn followups_decide(
    socket: &Path,
    id: &str,
    approve: bool,
    text: Option<String>,
) -> Result<(), CommandError> {
    let view = Client::connect(socket).await?.decide_followup(id, approve, text).await?;
    let what = if approve { "approved" } else { "skipped" };
    print(&format!("{what}: {} for {} ({})\n", output::action(&view.item), view.lead_name, view.item.state))
}

/// `leadline followups pause|resume LEAD`.
pub async fn followups_pause(socket: &Path, lead: &str, pause: bool) -> Result<(), CommandError> {
    Client::connect(socket).await?.pause_lead(lead, pause).await?;
    let what =
        if pause { "paused: no automated action until `leadline followups resume`" } else { "resumed" };
    print(&format!("{lead} {what}\n"))
}

/// `leadline followups simulate`.
pub async fn followups_simulate(
    socket: &Path,
    days: u32,
    from: Option<jiff::Timestamp>,
    json: bool,
) -> Result<(), CommandError> {
    let plan = Client::connect(socket).await?.simulate(days, from).await?;
    if json { print_json(&plan) } else { print(&output::simulation(&plan)) }
}
