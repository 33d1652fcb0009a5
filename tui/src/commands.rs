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

/// `leadline draft ID [--json]`.
pub async fn draft(socket: &Path, id: &str, json: bool) -> Result<(), CommandError> {
    let report = Client::connect(socket).await?.assist(id).await?;
    if json { print_json(&report) } else { print(&output::draft(&report)) }
}

/// `leadline model status` and `leadline model train`.
pub async fn model(socket: &Path, train: bool, json: bool) -> Result<(), CommandError> {
    let status = Client::connect(socket).await?.model(train).await?;
    if json { print_json(&status) } else { print(&output::model_status(&status)) }
}

/// `leadline listings import FILE [--replace] [--json]`. The path goes to the daemon made
/// absolute, since the daemon runs in a directory of its own.
pub async fn import_listings(
    socket: &Path,
    file: &Path,
    replace: bool,
    json: bool,
) -> Result<(), CommandError> {
    let path = std::path::absolute(file)
        .map_err(|e| CommandError::Usage(format!("cannot resolve {}: {e}", file.display())))?;
    let done = Client::connect(socket).await?.import_listings(&path.display().to_string(), replace).await?;
    if json {
        print_json(&done)
    } else {
        let removed = if replace { format!(", {} removed", done.removed) } else { String::new() };
        print(&format!(
            "{}: {} listings read, {} added, {} updated{removed}; {} in the store\n",
            done.file, done.read, done.added, done.updated, done.total
        ))
    }
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

/// What `leadline send` was asked to send.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Message {
    pub sms: bool,
    pub email: bool,
    pub template: Option<String>,
    pub body: Option<String>,
    pub subject: Option<String>,
}

/// `sms` or `email`, as asked; and that a text was asked for, before the daemon is.
fn channel_of(message: &Message) -> Result<&'static str, CommandError> {
    if message.template.is_none() && message.body.is_none() {
        return Err(CommandError::Usage("say what: --template NAME or --body TEXT".into()));
    }
    match (message.sms, message.email) {
        (true, false) => Ok("sms"),
        (false, true) => Ok("email"),
        _ => Err(CommandError::Usage("say how: --sms or --email".into())),
    }
}

/// The text and subject to send: a template's, rendered for the lead by the daemon, or the
/// agent's own. Checks what the daemon's answer already tells (a refusal, a template that
/// cannot be rendered for this lead) so the agent hears why before anything is queued.
pub fn outgoing(
    info: &leadline_shared::protocol::ComposeInfo,
    message: &Message,
) -> Result<(&'static str, String, Option<String>), CommandError> {
    let channel = channel_of(message)?;
    if let Some(blocked) = info.channel(channel).and_then(|c| c.blocked.as_deref()) {
        return Err(CommandError::Usage(format!("not sent: {blocked}")));
    }
    let (body, subject) = match (&message.template, &message.body) {
        (Some(id), None) => {
            let Some(t) = info.templates_for(channel).find(|t| &t.id == id) else {
                let ids: Vec<&str> = info.templates_for(channel).map(|t| t.id.as_str()).collect();
                return Err(CommandError::Usage(format!(
                    "no {channel} template {id:?}; the {channel} templates are: {}",
                    if ids.is_empty() {
                        "none (is the follow-up engine running?)".to_owned()
                    } else {
                        ids.join(", ")
                    }
                )));
            };
            match (&t.body, &t.error) {
                (Some(body), _) => (body.clone(), t.subject.clone()),
                (None, error) => {
                    return Err(CommandError::Usage(format!(
                        "template {id:?} cannot be written for this lead: {}; send your own text with --body",
                        error.as_deref().unwrap_or("the daemon did not render it")
                    )));
                }
            }
        }
        (None, Some(body)) if !body.trim().is_empty() => (body.clone(), None),
        (None, Some(_)) => return Err(CommandError::Usage("--body is empty: write the message".into())),
        _ => return Err(CommandError::Usage("say what: --template NAME or --body TEXT".into())),
    };
    let subject = message.subject.clone().or(subject);
    if channel == "email" && subject.as_deref().is_none_or(|s| s.trim().is_empty()) {
        return Err(CommandError::Usage("an email needs a subject: add --subject".into()));
    }
    Ok((channel, body, if channel == "email" { subject } else { None }))
}

/// `leadline send ID --sms|--email [--template NAME | --body TEXT] [--subject S]`.
pub async fn send(socket: &Path, id: &str, message: Message) -> Result<(), CommandError> {
    channel_of(&message)?;
    let mut client = Client::connect(socket).await?;
    let info = client.compose(id).await?;
    let (channel, body, subject) = outgoing(&info, &message)?;
    let stop_missing = channel == "sms" && info.first_touch && !body.contains("STOP");
    let op = leadline_shared::domain::OpKind::SendMessage { channel: channel.into(), body, subject };
    let seq = client.edit(id, op).await?;
    let mut text = format!(
        "{channel} to {} queued as edit #{seq}; it goes with the next sync (`leadline lead {id}` follows it)\n",
        if info.lead_name.is_empty() { id } else { &info.lead_name }
    );
    if let Some(hold) = info.channel(channel).and_then(|c| c.hold.as_ref()) {
        text.push_str(&format!("{}\n", hold.reason));
    }
    if stop_missing {
        text.push_str(&format!(
            "note: this is the first text to this lead and it does not say how to opt out ({:?})\n",
            info.sms_optout_text
        ));
    }
    print(&text)
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

#[cfg(test)]
mod tests {
    use super::*;
    use leadline_shared::protocol::{ChannelCheck, ComposeInfo, TemplateChoice};

    fn info() -> ComposeInfo {
        ComposeInfo {
            channels: vec![
                ChannelCheck {
                    channel: "sms".into(),
                    blocked: Some("SMS DND in GHL".into()),
                    ..ChannelCheck::default()
                },
                ChannelCheck { channel: "email".into(), ..ChannelCheck::default() },
            ],
            templates: vec![
                TemplateChoice {
                    id: "welcome_email".into(),
                    channel: "email".into(),
                    subject: Some("Welcome".into()),
                    body: Some("Hi Dana".into()),
                    ..TemplateChoice::default()
                },
                TemplateChoice {
                    id: "winback_email".into(),
                    channel: "email".into(),
                    error: Some("set [messages] agent_phone".into()),
                    ..TemplateChoice::default()
                },
            ],
            ..ComposeInfo::default()
        }
    }

    fn usage(r: Result<(&'static str, String, Option<String>), CommandError>) -> String {
        match r {
            Err(CommandError::Usage(m)) => m,
            other => panic!("a usage error: {other:?}"),
        }
    }

    #[test]
    fn what_leadline_send_sends_or_why_not() {
        let email = |template: Option<&str>, body: Option<&str>, subject: Option<&str>| Message {
            email: true,
            template: template.map(str::to_owned),
            body: body.map(str::to_owned),
            subject: subject.map(str::to_owned),
            ..Message::default()
        };
        let sent = outgoing(&info(), &email(Some("welcome_email"), None, None)).expect("rendered");
        assert_eq!(sent, ("email", "Hi Dana".to_owned(), Some("Welcome".to_owned())));
        let sent = outgoing(&info(), &email(Some("welcome_email"), None, Some("Elm St"))).expect("rendered");
        assert_eq!(sent.2.as_deref(), Some("Elm St"), "the agent's subject wins");
        assert!(usage(outgoing(&info(), &email(Some("winback_email"), None, None))).contains("agent_phone"));
        assert!(
            usage(outgoing(&info(), &email(Some("nope"), None, None)))
                .contains("welcome_email, winback_email")
        );
        assert!(usage(outgoing(&info(), &email(None, Some("Hi"), None))).contains("--subject"));
        assert!(usage(outgoing(&info(), &email(None, Some(" "), Some("x")))).contains("empty"));
        let sms = Message { sms: true, body: Some("Hi".into()), ..Message::default() };
        assert_eq!(usage(outgoing(&info(), &sms)), "not sent: SMS DND in GHL");
        assert!(channel_of(&Message { body: Some("x".into()), ..Message::default() }).is_err());
        assert!(channel_of(&Message { sms: true, ..Message::default() }).is_err());
    }
}
