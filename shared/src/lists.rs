//! Smart lists: saved lead queues defined in the config (`[[queues.lists]]`), each a filter on
//! the queue row's fields combined with `all` / `any` / `not` groups, and an order. This module
//! reads the TOML form into a typed [`Filter`] with errors that say how to fix it, and
//! evaluates it; both are pure.
//!
//! A condition is one string: `FIELD OP VALUE` (`score >= 70`, `tags contains "buyer"`,
//! `source = "Zillow"`, `stage in ["New Lead", "Contacted"]`, `last_activity older_than "3d"`,
//! `open_value is set`) or a bare flag (`uncontacted`, `awaiting_reply`, `hot`, …).

use std::fmt;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::domain::{LeadSummary, Temperature};

/// One `[[queues.lists]]` block as written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmartListConfig {
    /// The name `leadline queue NAME` and the dashboard's tab use.
    pub name: String,
    /// What the list is for, shown nowhere yet but kept with it.
    #[serde(default)]
    pub description: String,
    /// `priority` (the default), `score`, `newest`, `oldest`, `last_activity`,
    /// `value_at_risk` or `waiting_longest`.
    #[serde(default = "default_order")]
    pub order: String,
    /// Every one of these must hold.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub all: Vec<FilterItem>,
    /// At least one of these must hold (when there are any).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub any: Vec<FilterItem>,
    /// None of these may hold.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not: Vec<FilterItem>,
}

fn default_order() -> String {
    "priority".to_owned()
}

/// A condition string, or a nested group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FilterItem {
    Condition(String),
    Group(FilterGroup),
}

/// `{ all = [...], any = [...], not = [...] }`: the same three as a list's own.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FilterGroup {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub all: Vec<FilterItem>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub any: Vec<FilterItem>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not: Vec<FilterItem>,
}

/// A typed filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// Every one holds (true when empty).
    All(Vec<Filter>),
    /// At least one holds (false when empty).
    Any(Vec<Filter>),
    Not(Box<Filter>),
    Cond(Cond),
}

/// The order of a smart list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListOrder {
    /// As `all`: priority, then score, then recent activity.
    Priority,
    Score,
    /// Newest lead first.
    Newest,
    Oldest,
    /// Most recent activity first.
    LastActivity,
    /// Most dollars at risk first (the recovery order).
    ValueAtRisk,
    /// Longest waiting for a reply first (leads not waiting last).
    WaitingLongest,
}

impl ListOrder {
    const NAMES: &'static str =
        "priority, score, newest, oldest, last_activity, value_at_risk, waiting_longest";

    fn parse(s: &str) -> Option<ListOrder> {
        Some(match s.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "priority" => ListOrder::Priority,
            "score" => ListOrder::Score,
            "newest" => ListOrder::Newest,
            "oldest" => ListOrder::Oldest,
            "last_activity" => ListOrder::LastActivity,
            "value_at_risk" => ListOrder::ValueAtRisk,
            "waiting_longest" => ListOrder::WaitingLongest,
            _ => return None,
        })
    }
}

/// A smart list ready to evaluate.
#[derive(Debug, Clone, PartialEq)]
pub struct SmartList {
    pub name: String,
    pub order: ListOrder,
    pub filter: Filter,
}

/// A field of the queue row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Num(NumField),
    Text(TextField),
    Tags,
    Time(TimeField),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumField {
    Score,
    Priority,
    Answered,
    MessageCount,
    InboundCount,
    Calls,
    ConnectedCalls,
    ChurnRisk,
    ValueAtRisk,
    OpenValue,
    WonValue,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextField {
    Id,
    Name,
    Source,
    LeadType,
    Pipeline,
    Stage,
    Phone,
    Email,
    Timezone,
    AssignedTo,
    ScoredBy,
    Temperature,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeField {
    DateAdded,
    LastActivity,
    AwaitingReplySince,
    FirstOutboundAt,
    NextFollowupAt,
    StageSince,
}

/// The flags a bare condition names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flag {
    Uncontacted,
    Contacted,
    AwaitingReply,
    FollowupDue,
    HasFollowup,
    Appointment,
    SmsBlocked,
    Hot,
    Warm,
    Cold,
    NeverCalled,
}

/// A comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

/// One condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    Flag(Flag),
    /// The field has a value (`is set`; a list: not empty; a number: not zero).
    IsSet(Field),
    Num(NumField, Cmp, f64),
    /// Case-insensitive equality with one of the values (`=` is one value, `in` many).
    TextIn(TextField, Vec<String>),
    TextContains(TextField, String),
    TextStartsWith(TextField, String),
    /// The lead has one of these tags (case-insensitive).
    TagIn(Vec<String>),
    /// Set, and longer ago than this.
    OlderThan(TimeField, SignedDuration),
    /// Set, and no longer ago than this.
    NewerThan(TimeField, SignedDuration),
}

const FIELDS: &[(&str, Field)] = &[
    ("score", Field::Num(NumField::Score)),
    ("priority", Field::Num(NumField::Priority)),
    ("answered", Field::Num(NumField::Answered)),
    ("message_count", Field::Num(NumField::MessageCount)),
    ("inbound_count", Field::Num(NumField::InboundCount)),
    ("calls", Field::Num(NumField::Calls)),
    ("connected_calls", Field::Num(NumField::ConnectedCalls)),
    ("churn_risk", Field::Num(NumField::ChurnRisk)),
    ("value_at_risk", Field::Num(NumField::ValueAtRisk)),
    ("open_value", Field::Num(NumField::OpenValue)),
    ("won_value", Field::Num(NumField::WonValue)),
    ("id", Field::Text(TextField::Id)),
    ("name", Field::Text(TextField::Name)),
    ("source", Field::Text(TextField::Source)),
    ("lead_type", Field::Text(TextField::LeadType)),
    ("pipeline", Field::Text(TextField::Pipeline)),
    ("stage", Field::Text(TextField::Stage)),
    ("phone", Field::Text(TextField::Phone)),
    ("email", Field::Text(TextField::Email)),
    ("timezone", Field::Text(TextField::Timezone)),
    ("assigned_to", Field::Text(TextField::AssignedTo)),
    ("scored_by", Field::Text(TextField::ScoredBy)),
    ("temperature", Field::Text(TextField::Temperature)),
    ("tags", Field::Tags),
    ("date_added", Field::Time(TimeField::DateAdded)),
    ("last_activity", Field::Time(TimeField::LastActivity)),
    ("awaiting_reply_since", Field::Time(TimeField::AwaitingReplySince)),
    ("first_outbound_at", Field::Time(TimeField::FirstOutboundAt)),
    ("next_followup_at", Field::Time(TimeField::NextFollowupAt)),
    ("stage_since", Field::Time(TimeField::StageSince)),
];

const FLAGS: &[(&str, Flag)] = &[
    ("uncontacted", Flag::Uncontacted),
    ("contacted", Flag::Contacted),
    ("awaiting_reply", Flag::AwaitingReply),
    ("followup_due", Flag::FollowupDue),
    ("has_followup", Flag::HasFollowup),
    ("appointment", Flag::Appointment),
    ("sms_blocked", Flag::SmsBlocked),
    ("hot", Flag::Hot),
    ("warm", Flag::Warm),
    ("cold", Flag::Cold),
    ("never_called", Flag::NeverCalled),
];

/// Why a smart list could not be read, with how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ListError {
    #[error(
        "a [[queues.lists]] block has no name; give it `name = \"call-today\"` (letters, digits, - and _)"
    )]
    NoName,
    #[error(
        "smart list name {0:?} is not allowed: use at most 64 letters, digits, - or _, and not a built-in queue's name (speed-to-lead, hot, needs-reply, due, dormant, all)"
    )]
    BadName(String),
    #[error("two [[queues.lists]] blocks are named {0:?}; rename one")]
    Duplicate(String),
    #[error("smart list {list:?}: order {order:?} is not known; use one of {}", ListOrder::NAMES)]
    BadOrder { list: String, order: String },
    #[error("smart list {list:?}, condition {condition:?}: {problem}")]
    BadCondition { list: String, condition: String, problem: String },
}

impl ListError {
    /// The condition (or order, or name) the error is about, to find its line.
    pub fn culprit(&self) -> Option<&str> {
        match self {
            ListError::BadCondition { condition, .. } => Some(condition),
            ListError::BadOrder { order, .. } => Some(order),
            ListError::BadName(name) | ListError::Duplicate(name) => Some(name),
            ListError::NoName => None,
        }
    }
}

/// Reads every list, checking the names are unique and not the built-in queues'.
pub fn compile_all(lists: &[SmartListConfig]) -> Result<Vec<SmartList>, ListError> {
    let mut out: Vec<SmartList> = Vec::with_capacity(lists.len());
    for cfg in lists {
        let list = compile(cfg)?;
        if out.iter().any(|l| l.name == list.name) {
            return Err(ListError::Duplicate(list.name));
        }
        out.push(list);
    }
    Ok(out)
}

/// Reads one list.
pub fn compile(cfg: &SmartListConfig) -> Result<SmartList, ListError> {
    let name = cfg.name.trim();
    if name.is_empty() {
        return Err(ListError::NoName);
    }
    let builtin = ["speed-to-lead", "hot", "needs-reply", "due", "dormant", "all"];
    let good_chars = name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !good_chars || name.len() > 64 || builtin.contains(&name) {
        return Err(ListError::BadName(name.to_owned()));
    }
    let order = ListOrder::parse(&cfg.order)
        .ok_or_else(|| ListError::BadOrder { list: name.to_owned(), order: cfg.order.clone() })?;
    let group = FilterGroup { all: cfg.all.clone(), any: cfg.any.clone(), not: cfg.not.clone() };
    let filter = group_filter(&group, name)?;
    Ok(SmartList { name: name.to_owned(), order, filter })
}

fn group_filter(g: &FilterGroup, list: &str) -> Result<Filter, ListError> {
    let items = |items: &[FilterItem]| -> Result<Vec<Filter>, ListError> {
        items
            .iter()
            .map(|i| match i {
                FilterItem::Condition(c) => parse_condition(c).map(Filter::Cond).map_err(|problem| {
                    ListError::BadCondition { list: list.to_owned(), condition: c.clone(), problem }
                }),
                FilterItem::Group(g) => group_filter(g, list),
            })
            .collect()
    };
    let mut parts = items(&g.all)?;
    if !g.any.is_empty() {
        parts.push(Filter::Any(items(&g.any)?));
    }
    if !g.not.is_empty() {
        parts.push(Filter::Not(Box::new(Filter::Any(items(&g.not)?))));
    }
    Ok(if parts.len() == 1 { parts.remove(0) } else { Filter::All(parts) })
}

fn field_names() -> String {
    FIELDS.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
}

fn flag_names() -> String {
    FLAGS.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
}

/// Reads one condition string; the error says what is wrong and what would be right.
pub fn parse_condition(text: &str) -> Result<Cond, String> {
    let text = text.trim();
    let (head, rest) = split_word(text);
    if rest.is_empty()
        && let Some((_, flag)) = FLAGS.iter().find(|(n, _)| *n == head)
    {
        return Ok(Cond::Flag(*flag));
    }
    let Some((_, field)) = FIELDS.iter().find(|(n, _)| *n == head) else {
        return Err(if rest.is_empty() {
            format!("{head:?} is not a flag; flags are: {}; or write FIELD OP VALUE", flag_names())
        } else {
            format!("unknown field {head:?}; fields are: {}", field_names())
        });
    };
    let field = *field;
    let (op, value) = split_op(rest);
    if op.is_empty() {
        return Err(format!("{head} needs an operator and a value, e.g. `{}`", example(field)));
    }
    if op == "is" {
        return match value.trim() {
            "set" => Ok(Cond::IsSet(field)),
            "unset" | "not set" => Err(format!("write `not = [\"{head} is set\"]` for \"{head} is unset\"")),
            other => Err(format!("`is` takes `set`, not {other:?}")),
        };
    }
    let bad_op = |ops: &str| format!("{head} does not take {op:?}; use {ops}, e.g. `{}`", example(field));
    match field {
        Field::Num(f) => {
            let cmp = match op {
                "=" | "==" => Cmp::Eq,
                "!=" => Cmp::Ne,
                ">" => Cmp::Gt,
                ">=" => Cmp::Ge,
                "<" => Cmp::Lt,
                "<=" => Cmp::Le,
                _ => return Err(bad_op("= != > >= < <= or `is set`")),
            };
            let v = value.trim().replace('_', "");
            let n: f64 =
                v.parse().map_err(|_| format!("{value:?} is not a number (write `{head} {op} 70`)"))?;
            if !n.is_finite() {
                return Err(format!("{value:?} is not a finite number"));
            }
            Ok(Cond::Num(f, cmp, n))
        }
        Field::Text(f) => match op {
            "=" | "==" => Ok(Cond::TextIn(f, vec![string(value, head)?])),
            "in" => Ok(Cond::TextIn(f, strings(value, head)?)),
            "contains" => Ok(Cond::TextContains(f, string(value, head)?.to_lowercase())),
            "starts_with" => Ok(Cond::TextStartsWith(f, string(value, head)?.to_lowercase())),
            _ => Err(bad_op("= in contains starts_with or `is set` (for \"not equal\", a `not` group)")),
        },
        Field::Tags => match op {
            "contains" | "=" => Ok(Cond::TagIn(vec![string(value, head)?])),
            "in" => Ok(Cond::TagIn(strings(value, head)?)),
            _ => Err(bad_op("contains, in or `is set`")),
        },
        Field::Time(f) => {
            let d = duration(&string(value, head)?)?;
            match op {
                "older_than" => Ok(Cond::OlderThan(f, d)),
                "newer_than" | "within" => Ok(Cond::NewerThan(f, d)),
                _ => Err(bad_op("older_than, newer_than or `is set`")),
            }
        }
    }
}

fn example(field: Field) -> &'static str {
    match field {
        Field::Num(_) => "score >= 70",
        Field::Text(_) => "source = \"Zillow\"",
        Field::Tags => "tags contains \"buyer\"",
        Field::Time(_) => "last_activity older_than \"3d\"",
    }
}

fn split_word(s: &str) -> (&str, &str) {
    let s = s.trim();
    match s.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
        Some(i) => (&s[..i], s[i..].trim_start()),
        None => (s, ""),
    }
}

fn split_op(s: &str) -> (&str, &str) {
    let s = s.trim_start();
    for sym in ["==", "!=", ">=", "<=", "=", ">", "<"] {
        if let Some(rest) = s.strip_prefix(sym) {
            return (sym, rest.trim());
        }
    }
    match split_word(s) {
        // A symbol that is no operator: the run of it, to name in the error.
        ("", _) => {
            let end = s.find(char::is_whitespace).unwrap_or(s.len());
            (&s[..end], s[end..].trim())
        }
        word => word,
    }
}

/// A quoted string (or a bare word).
fn string(value: &str, field: &str) -> Result<String, String> {
    let v = value.trim();
    if let Some(inner) = v.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
        return Ok(inner.to_owned());
    }
    if let Some(inner) = v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')) {
        return Ok(inner.to_owned());
    }
    if v.is_empty() || v.contains(['"', '[', ']', ',']) {
        return Err(format!("{field} needs a value in quotes, e.g. `{field} = \"Zillow\"`, not {v:?}"));
    }
    Ok(v.to_owned())
}

/// `["a", "b"]`.
fn strings(value: &str, field: &str) -> Result<Vec<String>, String> {
    let v = value.trim();
    let Some(inner) = v.strip_prefix('[').and_then(|v| v.strip_suffix(']')) else {
        return Err(format!(
            "`{field} in` takes a list in brackets, e.g. `{field} in [\"New Lead\", \"Contacted\"]`"
        ));
    };
    let items: Vec<String> = inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| string(s, field))
        .collect::<Result<_, _>>()?;
    if items.is_empty() {
        return Err(format!("`{field} in []` matches nothing; name at least one value"));
    }
    Ok(items)
}

/// `30m`, `12h`, `3d`, `2w`.
pub fn duration(s: &str) -> Result<SignedDuration, String> {
    let s = s.trim();
    let bad = || format!("{s:?} is not a duration; write a whole number and m, h, d or w, e.g. \"3d\"");
    let unit = s.chars().last().ok_or_else(bad)?;
    let n: i64 = s[..s.len() - unit.len_utf8()].trim().parse().map_err(|_| bad())?;
    if !(0..=100 * 365 * 24 * 60).contains(&n) {
        return Err(bad());
    }
    let minutes = match unit {
        'm' => n,
        'h' => n * 60,
        'd' => n * 24 * 60,
        'w' => n * 7 * 24 * 60,
        _ => return Err(bad()),
    };
    Ok(SignedDuration::from_mins(minutes))
}

impl Filter {
    /// Whether a lead can come in or go out with the clock alone (a time condition, or
    /// `followup_due`): without one, a list changes only when a lead's row does.
    pub fn reads_the_clock(&self) -> bool {
        match self {
            Filter::All(fs) | Filter::Any(fs) => fs.iter().any(Filter::reads_the_clock),
            Filter::Not(f) => f.reads_the_clock(),
            Filter::Cond(c) => {
                matches!(c, Cond::OlderThan(..) | Cond::NewerThan(..) | Cond::Flag(Flag::FollowupDue))
            }
        }
    }

    /// Whether the lead passes, at `now` (for the time conditions).
    pub fn matches(&self, lead: &LeadSummary, now: Timestamp) -> bool {
        match self {
            Filter::All(fs) => fs.iter().all(|f| f.matches(lead, now)),
            Filter::Any(fs) => fs.iter().any(|f| f.matches(lead, now)),
            Filter::Not(f) => !f.matches(lead, now),
            Filter::Cond(c) => c.matches(lead, now),
        }
    }
}

fn num(lead: &LeadSummary, f: NumField) -> f64 {
    match f {
        NumField::Score => f64::from(lead.score),
        NumField::Priority => f64::from(lead.priority),
        NumField::Answered => f64::from(lead.answered),
        NumField::MessageCount => f64::from(lead.message_count),
        NumField::InboundCount => f64::from(lead.inbound_count),
        NumField::Calls => f64::from(lead.calls.calls),
        NumField::ConnectedCalls => f64::from(lead.calls.connected),
        NumField::ChurnRisk => f64::from(lead.churn_risk),
        NumField::ValueAtRisk => lead.value_at_risk,
        NumField::OpenValue => lead.open_value.unwrap_or(0.0),
        NumField::WonValue => lead.won_value.unwrap_or(0.0),
    }
}

fn text(lead: &LeadSummary, f: TextField) -> Option<&str> {
    let s = match f {
        TextField::Id => Some(lead.id.as_str()),
        TextField::Name => Some(lead.name.as_str()),
        TextField::Source => lead.source.as_deref(),
        TextField::LeadType => lead.lead_type.as_deref(),
        TextField::Pipeline => lead.pipeline.as_deref(),
        TextField::Stage => lead.stage.as_deref(),
        TextField::Phone => lead.phone.as_deref(),
        TextField::Email => lead.email.as_deref(),
        TextField::Timezone => lead.timezone.as_deref(),
        TextField::AssignedTo => lead.assigned_to.as_deref(),
        TextField::ScoredBy => Some(lead.scored_by.as_str()),
        TextField::Temperature => Some(lead.temperature.as_str()),
    };
    s.filter(|s| !s.is_empty())
}

fn time(lead: &LeadSummary, f: TimeField) -> Option<Timestamp> {
    match f {
        TimeField::DateAdded => lead.date_added,
        TimeField::LastActivity => lead.last_activity,
        TimeField::AwaitingReplySince => lead.awaiting_reply_since,
        TimeField::FirstOutboundAt => lead.first_outbound_at,
        TimeField::NextFollowupAt => lead.next_followup_at,
        TimeField::StageSince => lead.stage_since,
    }
}

impl Cond {
    /// Whether the lead passes, at `now`.
    pub fn matches(&self, lead: &LeadSummary, now: Timestamp) -> bool {
        match self {
            Cond::Flag(flag) => match flag {
                Flag::Uncontacted => lead.first_outbound_at.is_none(),
                Flag::Contacted => lead.first_outbound_at.is_some(),
                Flag::AwaitingReply => lead.awaiting_reply_since.is_some(),
                Flag::FollowupDue => lead.next_followup_at.is_some_and(|t| t <= now),
                Flag::HasFollowup => lead.next_followup_at.is_some(),
                Flag::Appointment => lead.appointment,
                Flag::SmsBlocked => lead.sms_blocked,
                Flag::Hot => lead.temperature == Temperature::Hot,
                Flag::Warm => lead.temperature == Temperature::Warm,
                Flag::Cold => lead.temperature == Temperature::Cold,
                Flag::NeverCalled => lead.calls.calls == 0,
            },
            Cond::IsSet(field) => match *field {
                Field::Num(f) => num(lead, f) != 0.0,
                Field::Text(f) => text(lead, f).is_some(),
                Field::Tags => !lead.tags.is_empty(),
                Field::Time(f) => time(lead, f).is_some(),
            },
            Cond::Num(f, cmp, v) => {
                let n = num(lead, *f);
                match cmp {
                    Cmp::Eq => n == *v,
                    Cmp::Ne => n != *v,
                    Cmp::Gt => n > *v,
                    Cmp::Ge => n >= *v,
                    Cmp::Lt => n < *v,
                    Cmp::Le => n <= *v,
                }
            }
            Cond::TextIn(f, values) => {
                text(lead, *f).is_some_and(|t| values.iter().any(|v| v.eq_ignore_ascii_case(t)))
            }
            Cond::TextContains(f, part) => {
                text(lead, *f).is_some_and(|t| t.to_lowercase().contains(part.as_str()))
            }
            Cond::TextStartsWith(f, part) => {
                text(lead, *f).is_some_and(|t| t.to_lowercase().starts_with(part.as_str()))
            }
            Cond::TagIn(values) => lead.tags.iter().any(|t| values.iter().any(|v| v.eq_ignore_ascii_case(t))),
            Cond::OlderThan(f, d) => time(lead, *f).is_some_and(|t| now.duration_since(t) > *d),
            Cond::NewerThan(f, d) => time(lead, *f).is_some_and(|t| now.duration_since(t) <= *d),
        }
    }
}

impl fmt::Display for ListOrder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            ListOrder::Priority => "priority",
            ListOrder::Score => "score",
            ListOrder::Newest => "newest",
            ListOrder::Oldest => "oldest",
            ListOrder::LastActivity => "last_activity",
            ListOrder::ValueAtRisk => "value_at_risk",
            ListOrder::WaitingLongest => "waiting_longest",
        };
        f.write_str(s)
    }
}

/// The 1-based line of the first place `needle` appears quoted in `text`, to point an error at
/// the TOML that caused it.
pub fn line_of(text: &str, needle: &str) -> Option<usize> {
    let at = text.find(&format!("\"{needle}\"")).or_else(|| text.find(&format!("'{needle}'")))?;
    Some(text[..at].matches('\n').count() + 1)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn at(s: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + s).expect("ts")
    }

    fn cond(s: &str) -> Cond {
        parse_condition(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn conditions_read_as_written() {
        assert_eq!(cond("score >= 70"), Cond::Num(NumField::Score, Cmp::Ge, 70.0));
        assert_eq!(cond("tags contains \"buyer\""), Cond::TagIn(vec!["buyer".into()]));
        assert_eq!(cond("source = \"Zillow\""), Cond::TextIn(TextField::Source, vec!["Zillow".into()]));
        assert_eq!(
            cond("stage in [\"New Lead\", \"Contacted\"]"),
            Cond::TextIn(TextField::Stage, vec!["New Lead".into(), "Contacted".into()])
        );
        assert_eq!(
            cond("last_activity older_than \"3d\""),
            Cond::OlderThan(TimeField::LastActivity, SignedDuration::from_hours(72))
        );
        assert_eq!(cond("uncontacted"), Cond::Flag(Flag::Uncontacted));
        assert_eq!(cond("open_value is set"), Cond::IsSet(Field::Num(NumField::OpenValue)));
        assert_eq!(cond("value_at_risk > 100_000"), Cond::Num(NumField::ValueAtRisk, Cmp::Gt, 100_000.0));
    }

    #[test]
    fn bad_conditions_say_how_to_fix_them() {
        let err = |s: &str| parse_condition(s).expect_err(s);
        assert!(err("scroe >= 70").contains("unknown field \"scroe\"; fields are: score, priority"));
        assert!(err("uncontactd").contains("is not a flag; flags are: uncontacted"));
        assert!(err("score ~ 70").contains("use = != > >= < <="));
        assert!(err("score >= high").contains("\"high\" is not a number"));
        assert!(err("stage in \"New\"").contains("takes a list in brackets"));
        assert!(err("last_activity older_than \"3 days\"").contains("m, h, d or w"));
        assert!(err("tags > 3").contains("tags does not take \">\""));
        let list = SmartListConfig {
            name: "x".into(),
            description: String::new(),
            order: "sideways".into(),
            all: vec![],
            any: vec![],
            not: vec![],
        };
        assert!(compile(&list).expect_err("order").to_string().contains("use one of priority, score"));
        let hot = SmartListConfig { name: "hot".into(), order: "priority".into(), ..list };
        assert!(matches!(compile(&hot), Err(ListError::BadName(_))));
        let text = "a = 1\n[[queues.lists]]\nall = [\"scroe >= 70\"]\n";
        assert_eq!(line_of(text, "scroe >= 70"), Some(3));
    }

    #[test]
    fn a_list_reads_its_groups_and_matches() {
        let toml_text = r#"
            name = "mine"
            order = "newest"
            all = ["score >= 50"]
            any = ["uncontacted", { all = ["awaiting_reply", "tags contains 'buyer'"] }]
            not = ["sms_blocked"]
        "#;
        let cfg: SmartListConfig = toml::from_str(toml_text).expect("toml");
        let list = compile(&cfg).expect("compiles");
        assert_eq!(list.order, ListOrder::Newest);
        let now = at(0);
        let base = LeadSummary { score: 60, first_outbound_at: Some(at(-10)), ..LeadSummary::default() };
        assert!(!list.filter.matches(&base, now), "neither any");
        let fresh = LeadSummary { first_outbound_at: None, ..base.clone() };
        assert!(list.filter.matches(&fresh, now));
        let buyer =
            LeadSummary { awaiting_reply_since: Some(at(-5)), tags: vec!["Buyer".into()], ..base.clone() };
        assert!(list.filter.matches(&buyer, now));
        assert!(!list.filter.matches(&LeadSummary { sms_blocked: true, ..buyer.clone() }, now));
        assert!(!list.filter.matches(&LeadSummary { score: 40, ..buyer }, now));
    }

    #[test]
    fn time_conditions_are_relative_to_now() {
        let lead = LeadSummary { last_activity: Some(at(0)), ..LeadSummary::default() };
        let older = cond("last_activity older_than \"1d\"");
        let newer = cond("last_activity newer_than \"1d\"");
        assert!(!older.matches(&lead, at(86_400)) && newer.matches(&lead, at(86_400)));
        assert!(older.matches(&lead, at(86_401)) && !newer.matches(&lead, at(86_401)));
        let never = LeadSummary::default();
        assert!(!older.matches(&never, at(0)) && !newer.matches(&never, at(0)), "unset is neither");
    }

    fn arb_lead() -> impl Strategy<Value = LeadSummary> {
        (0u8..=100, any::<bool>(), proptest::option::of(-200_000i64..0), any::<bool>(), 0usize..3).prop_map(
            |(score, contacted, activity, blocked, tags)| LeadSummary {
                score,
                first_outbound_at: contacted.then(|| at(-1)),
                last_activity: activity.map(at),
                // Some in the past, some to come: a clock moved on finds them due.
                next_followup_at: activity.map(|a| at(a / 2 + 100_000)),
                date_added: activity.map(|a| at(a * 2)),
                sms_blocked: blocked,
                tags: ["buyer", "seller", "vip"][..tags].iter().map(|t| t.to_string()).collect(),
                source: Some(if score % 2 == 0 { "Zillow" } else { "Referral" }.into()),
                ..LeadSummary::default()
            },
        )
    }

    fn arb_cond() -> impl Strategy<Value = Filter> {
        prop_oneof![
            Just("score >= 50"),
            Just("uncontacted"),
            Just("sms_blocked"),
            Just("tags contains \"buyer\""),
            Just("source = \"zillow\""),
            Just("last_activity older_than \"1d\""),
            Just("tags in [\"vip\", \"seller\"]"),
            Just("followup_due"),
            Just("date_added newer_than \"2h\""),
        ]
        .prop_map(|s| Filter::Cond(cond(s)))
    }

    fn arb_filter() -> impl Strategy<Value = Filter> {
        arb_cond().prop_recursive(3, 16, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Filter::All),
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Filter::Any),
                inner.prop_map(|f| Filter::Not(Box::new(f))),
            ]
        })
    }

    proptest! {
        /// `any` of one and `all` of one are that one; De Morgan: not(any(a, b)) is
        /// all(not a, not b) and not(all(a, b)) is any(not a, not b); not(not a) is a.
        #[test]
        fn groups_obey_the_identities(a in arb_filter(), b in arb_filter(), lead in arb_lead()) {
            let now = at(0);
            let m = |f: &Filter| f.matches(&lead, now);
            let not = |f: &Filter| Filter::Not(Box::new(f.clone()));
            prop_assert_eq!(m(&Filter::Any(vec![a.clone()])), m(&a));
            prop_assert_eq!(m(&Filter::All(vec![a.clone()])), m(&a));
            prop_assert_eq!(m(&not(&Filter::Any(vec![a.clone(), b.clone()]))), m(&Filter::All(vec![not(&a), not(&b)])));
            prop_assert_eq!(m(&not(&Filter::All(vec![a.clone(), b.clone()]))), m(&Filter::Any(vec![not(&a), not(&b)])));
            prop_assert_eq!(m(&not(&not(&a))), m(&a));
            prop_assert!(m(&Filter::All(vec![])) && !m(&Filter::Any(vec![])));
        }

        /// A filter that does not read the clock gives the same answer at any time.
        #[test]
        fn a_filter_without_the_clock_answers_alike_at_any_time(
            f in arb_filter(),
            lead in arb_lead(),
            later in 0i64..10_000_000,
        ) {
            if !f.reads_the_clock() {
                prop_assert_eq!(f.matches(&lead, at(0)), f.matches(&lead, at(later)));
            }
        }
    }

    #[test]
    fn time_conditions_and_followup_due_read_the_clock() {
        for (text, clock) in [
            ("last_activity older_than \"3d\"", true),
            ("date_added newer_than \"1h\"", true),
            ("followup_due", true),
            ("has_followup", false),
            ("score >= 70", false),
            ("next_followup_at is set", false),
        ] {
            assert_eq!(Filter::Cond(cond(text)).reads_the_clock(), clock, "{text}");
        }
        let due = Filter::Any(vec![Filter::Cond(cond("followup_due"))]);
        let nested = Filter::All(vec![Filter::Cond(cond("score >= 70")), Filter::Not(Box::new(due))]);
        assert!(nested.reads_the_clock());
    }
}
