//! Workflows: what the follow-up engine does for which lead, as TOML files.
//!
//! A workflow has one trigger, conditions, steps at offsets from the moment the lead enters it,
//! an optional repeat after the last step, and exit rules. The shipped defaults live in
//! `config/workflows/` (embedded); a file in the user's `workflows/` directory beside the
//! config replaces the default with the same `id`, and `enabled = false` turns one off. A file
//! that is not a valid workflow is refused at load, naming the file, the line and the reason.
//!
//! ```toml
//! id = "instant_response"
//! name = "Instant response to a new lead"
//! version = 1
//! mode = "auto"                    # auto | approval (the default)
//!
//! [trigger]
//! on = "new_lead"                  # new_lead | no_reply | score_above | tag_added | tag_removed
//!                                  # | stage_changed | keyword
//!
//! [when]                           # every condition must hold when the lead enters
//! has_phone = true
//!
//! [[step]]
//! after = "0m"                     # from entering the workflow: 30m, 24h, 2d, 1w
//! send_sms = "instant_response"    # one action: send_sms, send_email, create_task, add_tag,
//!                                  # remove_tag, move_stage, assign, notify
//!
//! [exit]                           # end the workflow when one holds
//! stages = ["Under Contract", "Closed"]
//! ```

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;

use leadline_shared::domain::{Mode, StepAction};
use serde::Deserialize;
use toml::Spanned;

/// The shipped workflows, embedded: `(file name, text)`.
pub const DEFAULTS: &[(&str, &str)] = &[
    ("instant-response.toml", include_str!("../../../../config/workflows/instant-response.toml")),
    ("new-lead-nurture.toml", include_str!("../../../../config/workflows/new-lead-nurture.toml")),
    ("silence-reengagement.toml", include_str!("../../../../config/workflows/silence-reengagement.toml")),
    ("agent-cadence.toml", include_str!("../../../../config/workflows/agent-cadence.toml")),
    ("cold-winback.toml", include_str!("../../../../config/workflows/cold-winback.toml")),
    ("hot-lead-fast-track.toml", include_str!("../../../../config/workflows/hot-lead-fast-track.toml")),
    ("showing-request.toml", include_str!("../../../../config/workflows/showing-request.toml")),
];

/// Why a workflow file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {reason}")]
pub struct WorkflowError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub reason: String,
}

/// What starts a lead on a workflow.
#[derive(Debug, Clone, PartialEq)]
pub enum Trigger {
    /// A lead new to the location (it arrived while Leadline runs).
    NewLead,
    /// Someone on the team texted or emailed the lead, and the lead has not answered for
    /// `hours` (the steps' offsets count from that message).
    NoReply {
        hours: u32,
    },
    /// The lead's score rose to `score` or more.
    ScoreAbove {
        score: u8,
    },
    TagAdded {
        tag: String,
    },
    TagRemoved {
        tag: String,
    },
    /// The lead's deal moved to `stage` (any stage when `None`).
    StageChanged {
        stage: Option<String>,
    },
    /// An inbound message holds one of the words or phrases.
    Keyword {
        words: Vec<String>,
    },
}

/// What must hold of a lead for it to enter a workflow.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Conditions {
    pub lead_type: Option<String>,
    pub sources: Vec<String>,
    pub tags_any: Vec<String>,
    pub tags_none: Vec<String>,
    pub min_score: Option<u8>,
    pub max_score: Option<u8>,
    pub has_phone: Option<bool>,
    pub has_email: Option<bool>,
}

/// One step of a workflow.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// From the moment the lead entered the workflow.
    pub after: jiff::SignedDuration,
    /// Moved into the agent's business hours.
    pub business_hours: bool,
    pub action: StepAction,
}

/// Steps repeated after the last one.
#[derive(Debug, Clone, PartialEq)]
pub struct Repeat {
    pub every: jiff::SignedDuration,
    pub times: u32,
    pub action: StepAction,
}

/// When a workflow ends for a lead.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Exit {
    /// A reply ends it (the default pauses it).
    pub on_reply: bool,
    /// The lead's deal reaching one of these stages (or statuses: `Won`, `Lost`, `Abandoned`).
    pub stages: Vec<String>,
    /// The lead getting one of these tags.
    pub tags: Vec<String>,
}

/// A loaded, checked workflow.
#[derive(Debug, Clone, PartialEq)]
pub struct Workflow {
    pub id: String,
    pub name: String,
    pub version: u32,
    pub mode: Mode,
    pub trigger: Trigger,
    pub when: Conditions,
    pub steps: Vec<Step>,
    pub repeat: Option<Repeat>,
    pub exit: Exit,
    /// A reply pauses the lead in this workflow (unless it ends it).
    pub pause_on_reply: bool,
    /// A stage change pauses the lead in this workflow (unless it triggered it or ends it).
    pub pause_on_stage_change: bool,
    /// A send this late (the daemon was down) is skipped, not sent.
    pub stale_after: jiff::SignedDuration,
    /// Where it came from, for messages.
    pub file: String,
}

impl Workflow {
    /// The action of step `n` (past the last step: the repeat, while repeats are left).
    pub fn action_at(&self, n: u32, repeats_done: u32) -> Option<(&StepAction, jiff::SignedDuration)> {
        if let Some(step) = self.steps.get(n as usize) {
            return Some((&step.action, step.after));
        }
        let repeat = self.repeat.as_ref()?;
        if repeats_done >= repeat.times {
            return None;
        }
        let last = self.steps.last().map_or(jiff::SignedDuration::ZERO, |s| s.after);
        Some((&repeat.action, last + repeat.every * (repeats_done as i32 + 1)))
    }
}

/// What workflows need to know of the templates: whether one exists, and its channel.
pub trait TemplateCatalog {
    /// `Some("sms")` or `Some("email")` for a known template.
    fn channel_of(&self, id: &str) -> Option<&'static str>;
}

/// Every workflow, by id.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Workflows {
    pub by_id: BTreeMap<String, Workflow>,
}

impl Workflows {
    /// Loads the defaults, then the user's directory over them (same id: the user's wins;
    /// `enabled = false`: removed). Every file is checked against `templates`.
    pub fn load(
        defaults: &[(&str, &str)],
        user_dir: Option<&Path>,
        templates: &dyn TemplateCatalog,
    ) -> Result<Workflows, WorkflowError> {
        let mut by_id = BTreeMap::new();
        for (name, text) in defaults {
            if let Some(w) = parse(&format!("(built in) config/workflows/{name}"), text, templates)? {
                by_id.insert(w.id.clone(), w);
            }
        }
        if let Some(dir) = user_dir.filter(|d| d.is_dir()) {
            let mut files: Vec<_> = std::fs::read_dir(dir)
                .map_err(|e| io_error(dir, &e))?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "toml"))
                .collect();
            files.sort();
            for path in files {
                let text = std::fs::read_to_string(&path).map_err(|e| io_error(&path, &e))?;
                let file = path.display().to_string();
                match parse_raw(&file, &text)? {
                    raw if raw.enabled.as_ref().is_some_and(|e| !*e.get_ref()) => {
                        let id = raw.id.as_ref().map(|i| i.get_ref().clone()).unwrap_or_default();
                        by_id.remove(&id);
                    }
                    _ => {
                        if let Some(w) = parse(&file, &text, templates)? {
                            by_id.insert(w.id.clone(), w);
                        }
                    }
                }
            }
        }
        Ok(Workflows { by_id })
    }

    /// The workflows a trigger of this kind may start.
    pub fn iter(&self) -> impl Iterator<Item = &Workflow> {
        self.by_id.values()
    }

    /// A workflow by id.
    pub fn get(&self, id: &str) -> Option<&Workflow> {
        self.by_id.get(id)
    }
}

fn io_error(path: &Path, e: &std::io::Error) -> WorkflowError {
    WorkflowError {
        file: path.display().to_string(),
        line: 0,
        column: 0,
        reason: format!("cannot read it ({e}); check that it exists and is readable"),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWorkflow {
    id: Option<Spanned<String>>,
    name: Option<String>,
    version: Option<Spanned<i64>>,
    mode: Option<Spanned<String>>,
    description: Option<String>,
    enabled: Option<Spanned<bool>>,
    stale_after: Option<Spanned<String>>,
    trigger: Option<Spanned<RawTrigger>>,
    #[serde(default)]
    when: RawConditions,
    #[serde(default)]
    step: Vec<Spanned<RawStep>>,
    repeat: Option<Spanned<RawRepeat>>,
    #[serde(default)]
    exit: RawExit,
    pause_on_reply: Option<bool>,
    pause_on_stage_change: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTrigger {
    on: Spanned<String>,
    hours: Option<Spanned<i64>>,
    score: Option<Spanned<i64>>,
    tag: Option<String>,
    stage: Option<String>,
    words: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConditions {
    lead_type: Option<Spanned<String>>,
    #[serde(default)]
    sources: Vec<String>,
    #[serde(default)]
    tags_any: Vec<String>,
    #[serde(default)]
    tags_none: Vec<String>,
    min_score: Option<Spanned<i64>>,
    max_score: Option<Spanned<i64>>,
    has_phone: Option<bool>,
    has_email: Option<bool>,
}

/// The actions a step or repeat may name; exactly one of them.
#[derive(Debug, Default)]
struct RawAction {
    send_sms: Option<Spanned<String>>,
    send_email: Option<Spanned<String>>,
    create_task: Option<String>,
    task_due_hours: Option<Spanned<i64>>,
    add_tag: Option<String>,
    remove_tag: Option<String>,
    move_stage: Option<String>,
    assign: Option<String>,
    notify: Option<String>,
}

/// A step and a repeat hold the action's keys themselves (`serde(flatten)` would lose the
/// spans that error messages point at).
macro_rules! with_action {
    ($(#[$m:meta])* struct $name:ident { $($(#[$fm:meta])* $field:ident: $ty:ty,)* }) => {
        $(#[$m])*
        struct $name {
            $($(#[$fm])* $field: $ty,)*
            send_sms: Option<Spanned<String>>,
            send_email: Option<Spanned<String>>,
            create_task: Option<String>,
            task_due_hours: Option<Spanned<i64>>,
            add_tag: Option<String>,
            remove_tag: Option<String>,
            move_stage: Option<String>,
            assign: Option<String>,
            notify: Option<String>,
        }

        impl $name {
            fn action(&mut self) -> RawAction {
                RawAction {
                    send_sms: self.send_sms.take(),
                    send_email: self.send_email.take(),
                    create_task: self.create_task.take(),
                    task_due_hours: self.task_due_hours.take(),
                    add_tag: self.add_tag.take(),
                    remove_tag: self.remove_tag.take(),
                    move_stage: self.move_stage.take(),
                    assign: self.assign.take(),
                    notify: self.notify.take(),
                }
            }
        }
    };
}

with_action! {
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct RawStep {
        after: Spanned<String>,
        #[serde(default)]
        business_hours: bool,
    }
}

with_action! {
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct RawRepeat {
        every: Spanned<String>,
        times: Spanned<i64>,
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExit {
    #[serde(default)]
    on_reply: bool,
    #[serde(default)]
    stages: Vec<String>,
    #[serde(default)]
    tags: Vec<String>,
}

/// Line and column (1-based) of a byte offset.
fn position(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

struct Ctx<'a> {
    file: &'a str,
    text: &'a str,
}

impl Ctx<'_> {
    fn err(&self, span: Range<usize>, reason: impl Into<String>) -> WorkflowError {
        let (line, column) = position(self.text, span.start);
        WorkflowError { file: self.file.to_owned(), line, column, reason: reason.into() }
    }
}

fn parse_raw(file: &str, text: &str) -> Result<RawWorkflow, WorkflowError> {
    toml::from_str::<RawWorkflow>(text).map_err(|e| {
        let (line, column) = e.span().map_or((0, 0), |s| position(text, s.start));
        WorkflowError {
            file: file.to_owned(),
            line,
            column,
            reason: format!("{} (see docs/followups.md for the format)", e.message()),
        }
    })
}

/// Parses `30m`, `24h`, `2d`, `1w` (and `0`): a whole number and a unit.
pub fn parse_duration(s: &str) -> Result<jiff::SignedDuration, String> {
    let t = s.trim();
    if t == "0" {
        return Ok(jiff::SignedDuration::ZERO);
    }
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (n, unit) = t.split_at(split);
    let n: i64 = n
        .parse()
        .map_err(|_| format!("{s:?} is not a duration: use a whole number and m, h, d or w, e.g. 24h"))?;
    let secs = match unit.trim() {
        "m" | "min" => 60,
        "h" => 3_600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        other => {
            return Err(format!(
                "{s:?}: unknown unit {other:?}; use m (minutes), h (hours), d (days) or w (weeks)"
            ));
        }
    };
    n.checked_mul(secs)
        .filter(|v| *v <= 400 * 86_400)
        .map(jiff::SignedDuration::from_secs)
        .ok_or_else(|| format!("{s:?} is too long: at most 400 days"))
}

fn action(
    ctx: &Ctx<'_>,
    at: Range<usize>,
    raw: RawAction,
    templates: &dyn TemplateCatalog,
) -> Result<StepAction, WorkflowError> {
    let mut found: Vec<StepAction> = Vec::new();
    let template = |t: &Spanned<String>, want: &str| -> Result<String, WorkflowError> {
        match templates.channel_of(t.get_ref()) {
            Some(channel) if channel == want => Ok(t.get_ref().clone()),
            Some(channel) => Err(ctx.err(
                t.span(),
                format!(
                    "template {:?} is an {channel} template; use send_{channel} or an {want} template",
                    t.get_ref()
                ),
            )),
            None => Err(ctx.err(
                t.span(),
                format!(
                    "no template {:?}: use the id of a shipped template (config/templates/) or of one in templates/ beside the config file (docs/templates.md)",
                    t.get_ref()
                ),
            )),
        }
    };
    if let Some(t) = &raw.send_sms {
        found.push(StepAction::SendSms { template: template(t, "sms")? });
    }
    if let Some(t) = &raw.send_email {
        found.push(StepAction::SendEmail { template: template(t, "email")? });
    }
    if let Some(title) = raw.create_task {
        let hours = match raw.task_due_hours {
            Some(h) if (0..=24 * 90).contains(h.get_ref()) => *h.get_ref() as u32,
            Some(h) => return Err(ctx.err(h.span(), "task_due_hours must be between 0 and 2160")),
            None => 24,
        };
        found.push(StepAction::CreateTask { title, due_in_hours: hours });
    } else if let Some(h) = raw.task_due_hours {
        return Err(ctx.err(h.span(), "task_due_hours goes with create_task"));
    }
    if let Some(tag) = raw.add_tag {
        found.push(StepAction::AddTag { tag });
    }
    if let Some(tag) = raw.remove_tag {
        found.push(StepAction::RemoveTag { tag });
    }
    if let Some(stage) = raw.move_stage {
        found.push(StepAction::MoveStage { stage });
    }
    if let Some(user) = raw.assign {
        found.push(StepAction::Assign { user });
    }
    if let Some(message) = raw.notify {
        found.push(StepAction::Notify { message });
    }
    let n = found.len();
    match found.pop() {
        Some(a) if n == 1 => Ok(a),
        Some(_) => Err(ctx.err(at, "a step does one thing: give one of send_sms, send_email, create_task, add_tag, remove_tag, move_stage, assign, notify")),
        None => Err(ctx.err(at, "the step does nothing: give one of send_sms, send_email, create_task, add_tag, remove_tag, move_stage, assign, notify")),
    }
}

/// Parses and checks one workflow file; `None` for a disabled one.
pub fn parse(
    file: &str,
    text: &str,
    templates: &dyn TemplateCatalog,
) -> Result<Option<Workflow>, WorkflowError> {
    let ctx = Ctx { file, text };
    let raw = parse_raw(file, text)?;
    if raw.enabled.as_ref().is_some_and(|e| !*e.get_ref()) {
        return Ok(None);
    }
    let start = 0..0;
    let id = raw.id.ok_or_else(|| {
        ctx.err(start.clone(), "the workflow has no `id`; add e.g. id = \"instant_response\"")
    })?;
    if id.get_ref().is_empty()
        || !id.get_ref().chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(ctx.err(id.span(), "an id is letters, digits, _ and -"));
    }
    let version = match &raw.version {
        Some(v) if *v.get_ref() >= 1 && *v.get_ref() <= i64::from(u32::MAX) => *v.get_ref() as u32,
        Some(v) => {
            return Err(
                ctx.err(v.span(), "version is a whole number from 1; raise it when you change the workflow")
            );
        }
        None => 1,
    };
    let mode = match raw.mode.as_ref().map(|m| (m.get_ref().as_str(), m.span())) {
        None | Some(("approval", _)) => Mode::Approval,
        Some(("auto", _)) => Mode::Auto,
        Some((other, span)) => {
            return Err(ctx.err(span, format!("mode {other:?} is not known; use \"auto\" or \"approval\"")));
        }
    };
    let trigger = {
        let t = raw.trigger.ok_or_else(|| {
            ctx.err(id.span(), "the workflow has no [trigger]; add one, e.g. [trigger] on = \"new_lead\"")
        })?;
        let span = t.span();
        let t = t.into_inner();
        let need = |what: &str| ctx.err(span.clone(), format!("trigger {:?} needs `{what}`", t.on.get_ref()));
        match t.on.get_ref().as_str() {
            "new_lead" => Trigger::NewLead,
            "no_reply" => {
                let h = t.hours.ok_or_else(|| need("hours"))?;
                if !(1..=24 * 365).contains(h.get_ref()) {
                    return Err(ctx.err(h.span(), "hours must be between 1 and 8760"));
                }
                Trigger::NoReply { hours: *h.get_ref() as u32 }
            }
            "score_above" => {
                let s = t.score.ok_or_else(|| need("score"))?;
                if !(0..=100).contains(s.get_ref()) {
                    return Err(ctx.err(s.span(), "score is from 0 to 100"));
                }
                Trigger::ScoreAbove { score: *s.get_ref() as u8 }
            }
            "tag_added" => Trigger::TagAdded { tag: t.tag.ok_or_else(|| need("tag"))? },
            "tag_removed" => Trigger::TagRemoved { tag: t.tag.ok_or_else(|| need("tag"))? },
            "stage_changed" => Trigger::StageChanged { stage: t.stage },
            "keyword" => {
                let words: Vec<String> = t
                    .words
                    .ok_or_else(|| need("words"))?
                    .into_iter()
                    .map(|w| w.trim().to_lowercase())
                    .filter(|w| !w.is_empty())
                    .collect();
                if words.is_empty() {
                    return Err(need("words (at least one)"));
                }
                Trigger::Keyword { words }
            }
            other => {
                return Err(ctx.err(
                    t.on.span(),
                    format!("trigger {other:?} is not known; use new_lead, no_reply, score_above, tag_added, tag_removed, stage_changed or keyword"),
                ));
            }
        }
    };
    let when = {
        let w = raw.when;
        let score = |s: Option<Spanned<i64>>| -> Result<Option<u8>, WorkflowError> {
            match s {
                Some(s) if (0..=100).contains(s.get_ref()) => Ok(Some(*s.get_ref() as u8)),
                Some(s) => Err(ctx.err(s.span(), "a score is from 0 to 100")),
                None => Ok(None),
            }
        };
        let lead_type = match w.lead_type {
            Some(t) if matches!(t.get_ref().as_str(), "buyer" | "seller") => Some(t.into_inner()),
            Some(t) => return Err(ctx.err(t.span(), "lead_type is \"buyer\" or \"seller\"")),
            None => None,
        };
        Conditions {
            lead_type,
            sources: w.sources,
            tags_any: w.tags_any,
            tags_none: w.tags_none,
            min_score: score(w.min_score)?,
            max_score: score(w.max_score)?,
            has_phone: w.has_phone,
            has_email: w.has_email,
        }
    };
    let mut steps = Vec::with_capacity(raw.step.len());
    let mut last = jiff::SignedDuration::ZERO;
    for s in raw.step {
        let span = s.span();
        let mut s = s.into_inner();
        let after = parse_duration(s.after.get_ref()).map_err(|e| ctx.err(s.after.span(), e))?;
        if after < last {
            return Err(ctx.err(s.after.span(), "steps go in order: this one comes before the one above it"));
        }
        last = after;
        let raw_action = s.action();
        steps.push(Step {
            after,
            business_hours: s.business_hours,
            action: action(&ctx, span, raw_action, templates)?,
        });
    }
    if steps.is_empty() {
        return Err(ctx.err(id.span(), "the workflow has no steps; add at least one [[step]]"));
    }
    let repeat = match raw.repeat {
        Some(r) => {
            let span = r.span();
            let mut r = r.into_inner();
            let every = parse_duration(r.every.get_ref()).map_err(|e| ctx.err(r.every.span(), e))?;
            if every < jiff::SignedDuration::from_hours(1) {
                return Err(ctx.err(r.every.span(), "repeat every at least 1h"));
            }
            if !(1..=100).contains(r.times.get_ref()) {
                return Err(ctx.err(r.times.span(), "times is from 1 to 100"));
            }
            let raw_action = r.action();
            Some(Repeat {
                every,
                times: *r.times.get_ref() as u32,
                action: action(&ctx, span, raw_action, templates)?,
            })
        }
        None => None,
    };
    let stale_after = match raw.stale_after {
        Some(s) => parse_duration(s.get_ref()).map_err(|e| ctx.err(s.span(), e))?,
        None => jiff::SignedDuration::from_hours(12),
    };
    let _ = raw.description;
    Ok(Some(Workflow {
        name: raw.name.unwrap_or_else(|| id.get_ref().clone()),
        id: id.into_inner(),
        version,
        mode,
        trigger,
        when,
        steps,
        repeat,
        exit: Exit { on_reply: raw.exit.on_reply, stages: raw.exit.stages, tags: raw.exit.tags },
        pause_on_reply: raw.pause_on_reply.unwrap_or(true),
        pause_on_stage_change: raw.pause_on_stage_change.unwrap_or(true),
        stale_after,
        file: file.to_owned(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Templates by id: `*_email` ids are email, the rest SMS.
    struct Known;
    impl TemplateCatalog for Known {
        fn channel_of(&self, id: &str) -> Option<&'static str> {
            match id {
                "missing" => None,
                id if id.ends_with("email") => Some("email"),
                _ => Some("sms"),
            }
        }
    }

    fn err(text: &str) -> WorkflowError {
        parse("w.toml", text, &Known).expect_err("refused")
    }

    const OK: &str = r#"
id = "demo"
mode = "auto"
[trigger]
on = "no_reply"
hours = 24
[[step]]
after = "24h"
send_sms = "reengage"
[[step]]
after = "2d"
send_email = "nurture_email"
[repeat]
every = "14d"
times = 2
send_sms = "checkin"
"#;

    #[test]
    fn the_shipped_workflows_load() {
        let w = Workflows::load(DEFAULTS, None, &Known).expect("defaults load");
        assert!(
            w.get("instant_response").is_some_and(|w| w.mode == Mode::Auto && w.trigger == Trigger::NewLead)
        );
        for id in [
            "new_lead_nurture",
            "silence_reengagement",
            "agent_cadence",
            "cold_winback",
            "hot_lead_fast_track",
        ] {
            let wf = w.get(id).unwrap_or_else(|| panic!("{id} ships"));
            assert_eq!(wf.mode, Mode::Approval, "{id} waits for approval by default");
        }
        let cadence = w.get("agent_cadence").expect("cadence");
        let days: Vec<i64> = cadence.steps.iter().map(|s| s.after.as_secs() / 86_400).collect();
        assert_eq!(days, [2, 5, 8, 11, 14, 17, 20, 23, 26, 29]);
        assert_eq!(cadence.repeat.as_ref().map(|r| (r.every.as_secs() / 86_400, r.times)), Some((14, 10)));
    }

    #[test]
    fn a_workflow_parses_with_its_repeat() {
        let w = parse("w.toml", OK, &Known).expect("parses").expect("enabled");
        assert_eq!(w.trigger, Trigger::NoReply { hours: 24 });
        assert_eq!(w.steps.len(), 2);
        assert_eq!(w.action_at(1, 0).map(|(_, at)| at.as_secs()), Some(2 * 86_400));
        assert_eq!(
            w.action_at(2, 0).map(|(a, at)| (a.clone(), at.as_secs())),
            Some((StepAction::SendSms { template: "checkin".into() }, 16 * 86_400))
        );
        assert_eq!(w.action_at(2, 1).map(|(_, at)| at.as_secs()), Some(30 * 86_400));
        assert_eq!(w.action_at(2, 2), None, "two repeats, then done");
    }

    #[test]
    fn bad_files_are_refused_with_file_line_and_reason() {
        let cases: &[(&str, usize, &str)] = &[
            ("id = \"x\"\n[trigger]\non = \"sometimes\"\n", 3, "trigger \"sometimes\" is not known"),
            (
                "id = \"x\"\n[trigger]\non = \"new_lead\"\n[[step]]\nafter = \"2 fortnights\"\nsend_sms = \"a\"\n",
                5,
                "unknown unit",
            ),
            (
                "id = \"x\"\n[trigger]\non = \"new_lead\"\n[[step]]\nafter = \"1h\"\nsend_sms = \"missing\"\n",
                6,
                "no template \"missing\"",
            ),
            (
                "id = \"x\"\n[trigger]\non = \"new_lead\"\n[[step]]\nafter = \"1h\"\nsend_sms = \"welcome_email\"\n",
                6,
                "is an email template",
            ),
            (
                "id = \"x\"\n[trigger]\non = \"new_lead\"\n[[step]]\nafter = \"1h\"\nsend_sms = \"a\"\nadd_tag = \"b\"\n",
                4,
                "a step does one thing",
            ),
            (
                "id = \"x\"\n[trigger]\non = \"new_lead\"\n[[step]]\nafter = \"1h\"\n",
                4,
                "the step does nothing",
            ),
            (
                "id = \"x\"\n[trigger]\non = \"no_reply\"\n[[step]]\nafter = \"1h\"\nsend_sms = \"a\"\n",
                2,
                "needs `hours`",
            ),
            ("id = \"x\"\nmode = \"yolo\"\n", 2, "mode \"yolo\" is not known"),
            ("id = \"x\"\ncolour = \"blue\"\n", 2, "unknown field `colour`"),
            (
                "id = \"x\"\n[trigger]\non = \"new_lead\"\n[[step]]\nafter = \"2h\"\nsend_sms = \"a\"\n[[step]]\nafter = \"1h\"\nsend_sms = \"a\"\n",
                8,
                "steps go in order",
            ),
            ("id = \"x\"\n[trigger]\non = \"new_lead\"\n", 1, "no steps"),
            ("[trigger\n", 1, ""),
        ];
        for (text, line, reason) in cases {
            let e = err(text);
            assert_eq!((e.file.as_str(), e.line), ("w.toml", *line), "{text:?}: {e}");
            assert!(e.reason.contains(reason), "{text:?}: {e}");
        }
    }

    #[test]
    fn a_user_file_replaces_or_disables_a_default() {
        let dir = tempfile::tempdir().expect("dir");
        std::fs::write(dir.path().join("mine.toml"), OK.replace("\"demo\"", "\"instant_response\""))
            .expect("write");
        std::fs::write(dir.path().join("off.toml"), "id = \"cold_winback\"\nenabled = false\n")
            .expect("write");
        std::fs::write(dir.path().join("notes.txt"), "not a workflow").expect("write");
        let w = Workflows::load(DEFAULTS, Some(dir.path()), &Known).expect("loads");
        assert_eq!(
            w.get("instant_response").map(|w| w.trigger.clone()),
            Some(Trigger::NoReply { hours: 24 })
        );
        assert!(w.get("cold_winback").is_none());
        std::fs::write(dir.path().join("broken.toml"), "id = \"b\"\n[trigger]\non = \"never\"\n")
            .expect("write");
        let e = Workflows::load(DEFAULTS, Some(dir.path()), &Known).expect_err("refused");
        assert!(e.file.ends_with("broken.toml") && e.line == 3, "{e}");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("0").map(|d| d.as_secs()), Ok(0));
        assert_eq!(parse_duration("30m").map(|d| d.as_secs()), Ok(1_800));
        assert_eq!(parse_duration("2d").map(|d| d.as_secs()), Ok(172_800));
        assert_eq!(parse_duration("1w").map(|d| d.as_secs()), Ok(604_800));
        assert!(parse_duration("5y").is_err());
        assert!(parse_duration("h").is_err());
        assert!(parse_duration("500d").is_err());
    }
}
