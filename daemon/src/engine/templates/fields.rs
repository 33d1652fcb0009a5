//! Merge fields: `{{first_name}}`, `{{custom.budget}}`, `{{first_name|there}}` (a fallback used
//! when the lead has no value). Parsing at load time, values at render time.

use std::collections::{BTreeMap, BTreeSet};

use leadline_shared::domain::{Contact, CustomFieldDef, User};

use super::MessageRules;

/// A merge field a template may use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    FirstName,
    LastName,
    FullName,
    AgentName,
    AgentFirstName,
    AgentPhone,
    AgentEmail,
    BusinessName,
    BusinessPhone,
    Source,
    City,
    /// A location's custom field by its short key (`contact.budget` is `custom.budget`).
    Custom(String),
}

/// The fields known at load time, by name. Custom fields are known only per location.
pub const FIELDS: &[(&str, Field)] = &[
    ("first_name", Field::FirstName),
    ("last_name", Field::LastName),
    ("full_name", Field::FullName),
    ("agent_name", Field::AgentName),
    ("agent_first_name", Field::AgentFirstName),
    ("agent_phone", Field::AgentPhone),
    ("agent_email", Field::AgentEmail),
    ("business_name", Field::BusinessName),
    ("business_phone", Field::BusinessPhone),
    ("source", Field::Source),
    ("city", Field::City),
];

/// The prefix of a custom field's name.
pub const CUSTOM_PREFIX: &str = "custom.";

impl Field {
    /// The name as written between the braces.
    pub fn name(&self) -> String {
        match self {
            Field::Custom(key) => format!("{CUSTOM_PREFIX}{key}"),
            known => {
                FIELDS.iter().find(|(_, f)| f == known).map(|(n, _)| (*n).to_owned()).unwrap_or_default()
            }
        }
    }
}

/// One `{{…}}` of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    pub field: Field,
    /// Used when the lead has no value; may be empty (`{{last_name|}}`).
    pub fallback: Option<String>,
}

/// A template text, split into literal text and merge fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Text(String),
    Slot(Slot),
}

/// Why a template text could not be split into pieces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyntaxProblem {
    /// `{{` without its `}}` (or another `{{` before it).
    Unclosed,
    /// `}}` without a `{{` before it.
    UnopenedClose,
    /// A lone `{` or `}`: merge fields take two braces, and a single one is almost always a
    /// field written the old way (`{first_name}`).
    SingleBrace(char),
    /// An unknown field; with the closest known name.
    UnknownField { name: String, suggestion: Option<String> },
    /// A field name that is not a name (`{{}}`, `{{first name}}`, `{{custom.}}`...).
    BadName { name: String },
    /// `|` twice in one field.
    BadFallback,
}

/// A [`SyntaxProblem`] at a byte offset of the text, with the text found there (to locate it
/// in the file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub problem: SyntaxProblem,
    pub offset: usize,
    pub token: String,
}

/// Splits a template text into literal text and merge fields.
pub fn parse(text: &str) -> Result<Vec<Piece>, SyntaxError> {
    let mut pieces = Vec::new();
    let mut literal = String::new();
    let mut rest = text;
    let mut offset = 0;
    while let Some(at) = rest.find(['{', '}']) {
        literal.push_str(&rest[..at]);
        let here = &rest[at..];
        let abs = offset + at;
        if here.starts_with("}}") {
            return Err(SyntaxError {
                problem: SyntaxProblem::UnopenedClose,
                offset: abs,
                token: "}}".into(),
            });
        }
        if !here.starts_with("{{") {
            let brace = if here.starts_with('{') { '{' } else { '}' };
            return Err(SyntaxError {
                problem: SyntaxProblem::SingleBrace(brace),
                offset: abs,
                token: brace.into(),
            });
        }
        let inner_start = 2;
        let close = here[inner_start..].find("}}").map(|i| i + inner_start);
        let next_open = here[inner_start..].find('{').map(|i| i + inner_start);
        let close = match (close, next_open) {
            (Some(c), Some(o)) if o < c => None,
            (c, _) => c,
        };
        let Some(close) = close else {
            return Err(SyntaxError { problem: SyntaxProblem::Unclosed, offset: abs, token: "{{".into() });
        };
        let token = &here[..close + 2];
        let inner = &here[inner_start..close];
        let slot = parse_slot(inner).map_err(|problem| SyntaxError {
            problem,
            offset: abs,
            token: token.to_owned(),
        })?;
        if !literal.is_empty() {
            pieces.push(Piece::Text(std::mem::take(&mut literal)));
        }
        pieces.push(Piece::Slot(slot));
        let consumed = at + close + 2;
        rest = &rest[consumed..];
        offset += consumed;
    }
    literal.push_str(rest);
    if !literal.is_empty() {
        pieces.push(Piece::Text(literal));
    }
    Ok(pieces)
}

fn parse_slot(inner: &str) -> Result<Slot, SyntaxProblem> {
    let (name, fallback) = match inner.split_once('|') {
        Some((name, fallback)) => {
            if fallback.contains('|') {
                return Err(SyntaxProblem::BadFallback);
            }
            (name.trim(), Some(fallback.trim().to_owned()))
        }
        None => (inner.trim(), None),
    };
    let field = if let Some(key) = name.strip_prefix(CUSTOM_PREFIX) {
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
            return Err(SyntaxProblem::BadName { name: name.to_owned() });
        }
        Field::Custom(key.to_owned())
    } else if let Some((_, f)) = FIELDS.iter().find(|(n, _)| *n == name) {
        f.clone()
    } else if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.') {
        return Err(SyntaxProblem::BadName { name: name.to_owned() });
    } else {
        return Err(SyntaxProblem::UnknownField { name: name.to_owned(), suggestion: suggest(name) });
    };
    Ok(Slot { field, fallback })
}

/// The known name closest to a mistyped one, if it is close; `contact.x` suggests `custom.x`.
fn suggest(name: &str) -> Option<String> {
    if let Some(key) = name.strip_prefix("contact.") {
        return Some(format!("{CUSTOM_PREFIX}{}", key.to_ascii_lowercase()));
    }
    let lower = name.to_ascii_lowercase();
    FIELDS
        .iter()
        .map(|(n, _)| (edit_distance(&lower, n), *n))
        .filter(|(d, _)| *d <= 3)
        .min()
        .map(|(_, n)| n.to_owned())
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// The values a template is filled with for one lead, built by the caller from the contact,
/// its assigned user and the location's custom fields ([`MergeContext::from_contact`]). The
/// business and the fallback agent come from [`MessageRules`]. An empty value counts as missing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MergeContext {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// Where the lead came from (GHL's `source`).
    pub source: Option<String>,
    pub city: Option<String>,
    /// The assigned user's name; `[messages] agent_name` when `None`.
    pub agent_name: Option<String>,
    /// The assigned user's phone; `[messages] agent_phone` when `None`.
    pub agent_phone: Option<String>,
    /// The assigned user's email; `[messages] agent_email` when `None`.
    pub agent_email: Option<String>,
    /// The lead's custom field values as text, by short key (`budget` for `contact.budget`).
    pub custom: BTreeMap<String, String>,
    /// The location's custom field short keys, when known: `{{custom.budgt}}` is then reported
    /// as a key the location does not have, rather than as a value this lead lacks.
    pub custom_keys: Option<BTreeSet<String>>,
}

/// What a field holds for one lead.
pub(crate) enum Value {
    Text(String),
    Missing,
    /// A custom key the location does not define.
    NoSuchCustomKey,
}

impl MergeContext {
    /// The context for a contact: its names (the first word of GHL's `name` when there is no
    /// first name), source and city; the assigned user's name, phone and email; custom field
    /// values by short key (lists joined with ", ").
    pub fn from_contact(contact: &Contact, defs: &[CustomFieldDef], agent: Option<&User>) -> MergeContext {
        let first_name = nonempty(contact.first_name.as_deref()).or_else(|| {
            nonempty(contact.name.as_deref()).and_then(|n| n.split_whitespace().next().map(str::to_owned))
        });
        let agent_name = agent.and_then(|u| {
            nonempty(u.name.as_deref()).or_else(|| {
                let joined = [u.first_name.as_deref(), u.last_name.as_deref()]
                    .into_iter()
                    .flatten()
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .collect::<Vec<_>>()
                    .join(" ");
                nonempty(Some(&joined))
            })
        });
        let mut custom = BTreeMap::new();
        for def in defs {
            if let Some(text) = contact.custom_field(&def.id).and_then(value_text) {
                custom.insert(def.short_key(), text);
            }
        }
        MergeContext {
            first_name,
            last_name: nonempty(contact.last_name.as_deref()),
            source: nonempty(contact.source.as_deref()),
            city: nonempty(contact.city.as_deref()),
            agent_name,
            agent_phone: agent.and_then(|u| nonempty(u.phone.as_deref())),
            agent_email: agent.and_then(|u| nonempty(u.email.as_deref())),
            custom,
            custom_keys: Some(defs.iter().map(CustomFieldDef::short_key).collect()),
        }
    }

    /// A typical lead, for previews without a lead and for tests.
    pub fn sample() -> MergeContext {
        MergeContext {
            first_name: Some("Jordan".into()),
            last_name: Some("Rivera".into()),
            source: Some("Zillow".into()),
            city: Some("Austin".into()),
            agent_name: Some("Sarah Mitchell".into()),
            agent_phone: Some("(512) 555-0142".into()),
            agent_email: Some("sarah@summitrealty.example".into()),
            custom: BTreeMap::from([
                ("budget".into(), "$450,000".into()),
                ("timeline".into(), "3 months".into()),
                ("location".into(), "Round Rock".into()),
            ]),
            custom_keys: Some(["budget", "timeline", "location"].into_iter().map(str::to_owned).collect()),
        }
    }

    /// The agent's name: the assigned user's, else the configured one.
    pub fn agent(&self, rules: &MessageRules) -> Option<String> {
        nonempty(self.agent_name.as_deref()).or_else(|| nonempty(Some(&rules.agent_name)))
    }

    /// What `field` holds for this lead.
    pub(crate) fn value(&self, field: &Field, rules: &MessageRules) -> Value {
        let text = match field {
            Field::FirstName => nonempty(self.first_name.as_deref()).map(|n| name_case(&n)),
            Field::LastName => nonempty(self.last_name.as_deref()).map(|n| name_case(&n)),
            Field::FullName => {
                let parts: Vec<String> = [self.first_name.as_deref(), self.last_name.as_deref()]
                    .into_iter()
                    .filter_map(nonempty)
                    .map(|n| name_case(&n))
                    .collect();
                (!parts.is_empty()).then(|| parts.join(" "))
            }
            Field::AgentName => self.agent(rules),
            Field::AgentFirstName => {
                self.agent(rules).and_then(|n| n.split_whitespace().next().map(str::to_owned))
            }
            Field::AgentPhone => {
                nonempty(self.agent_phone.as_deref()).or_else(|| nonempty(Some(&rules.agent_phone)))
            }
            Field::AgentEmail => {
                nonempty(self.agent_email.as_deref()).or_else(|| nonempty(Some(&rules.agent_email)))
            }
            Field::BusinessName => nonempty(Some(&rules.business_name)),
            Field::BusinessPhone => nonempty(Some(&rules.business_phone)),
            Field::Source => nonempty(self.source.as_deref()),
            Field::City => nonempty(self.city.as_deref()),
            Field::Custom(key) => {
                let value = self.custom.get(key).and_then(|v| nonempty(Some(v)));
                if value.is_none() && self.custom_keys.as_ref().is_some_and(|keys| !keys.contains(key)) {
                    return Value::NoSuchCustomKey;
                }
                value
            }
        };
        text.map_or(Value::Missing, Value::Text)
    }
}

fn nonempty(s: Option<&str>) -> Option<String> {
    s.map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

/// A custom field's value as text: lists joined, `null` and empty as nothing.
fn value_text(value: &serde_json::Value) -> Option<String> {
    let text = match value {
        serde_json::Value::Null => return None,
        serde_json::Value::String(s) => s.trim().to_owned(),
        serde_json::Value::Array(items) => items.iter().filter_map(value_text).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    };
    (!text.is_empty()).then_some(text)
}

/// A lead's name as typed into a form in all capitals or all lowercase ("JORDAN", "jordan")
/// becomes "Jordan"; a mixed-case name ("McKenzie", "DeShawn") is kept as written.
fn name_case(name: &str) -> String {
    let has_upper = name.chars().any(char::is_uppercase);
    let has_lower = name.chars().any(char::is_lowercase);
    if has_upper && has_lower {
        return name.to_owned();
    }
    let mut out = String::with_capacity(name.len());
    let mut word_start = true;
    for c in name.chars() {
        if c.is_alphabetic() {
            if word_start {
                out.extend(c.to_uppercase());
            } else {
                out.extend(c.to_lowercase());
            }
            word_start = false;
        } else {
            out.push(c);
            word_start = matches!(c, ' ' | '-' | '\'');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(field: Field, fallback: Option<&str>) -> Piece {
        Piece::Slot(Slot { field, fallback: fallback.map(str::to_owned) })
    }

    #[test]
    fn parses_fields_fallbacks_and_custom_keys() {
        let pieces =
            parse("Hi {{ first_name | there }}, budget {{custom.budget}}{{last_name|}}.").expect("valid");
        assert_eq!(
            pieces,
            vec![
                Piece::Text("Hi ".into()),
                slot(Field::FirstName, Some("there")),
                Piece::Text(", budget ".into()),
                slot(Field::Custom("budget".into()), None),
                slot(Field::LastName, Some("")),
                Piece::Text(".".into()),
            ]
        );
    }

    #[test]
    fn syntax_problems_with_their_offsets() {
        let err = |t: &str| parse(t).expect_err(t);
        let e = err("Hi {{firstname}}!");
        assert_eq!(e.offset, 3);
        assert_eq!(e.token, "{{firstname}}");
        assert_eq!(
            e.problem,
            SyntaxProblem::UnknownField { name: "firstname".into(), suggestion: Some("first_name".into()) }
        );
        assert_eq!(
            err("{{contact.Budget}}").problem,
            SyntaxProblem::UnknownField {
                name: "contact.Budget".into(),
                suggestion: Some("custom.budget".into())
            }
        );
        assert_eq!(
            err("{{zzzzzzzz}}").problem,
            SyntaxProblem::UnknownField { name: "zzzzzzzz".into(), suggestion: None }
        );
        assert_eq!(err("Hi {{first_name").problem, SyntaxProblem::Unclosed);
        assert_eq!(err("Hi {{first_name {{city}}").offset, 3);
        assert_eq!(err("Hi first_name}} x").problem, SyntaxProblem::UnopenedClose);
        assert_eq!(err("Hi {first_name}").problem, SyntaxProblem::SingleBrace('{'));
        assert_eq!(err("Hi }").problem, SyntaxProblem::SingleBrace('}'));
        assert_eq!(err("{{{first_name}}}").problem, SyntaxProblem::Unclosed);
        assert_eq!(err("{{}}").problem, SyntaxProblem::BadName { name: String::new() });
        assert_eq!(err("{{first name}}").problem, SyntaxProblem::BadName { name: "first name".into() });
        assert_eq!(err("{{custom.Budget}}").problem, SyntaxProblem::BadName { name: "custom.Budget".into() });
        assert_eq!(err("{{a|b|c}}").problem, SyntaxProblem::BadFallback);
    }

    #[test]
    fn names_in_one_case_are_recased() {
        assert_eq!(name_case("JORDAN"), "Jordan");
        assert_eq!(name_case("mary-ann o'neil"), "Mary-Ann O'Neil");
        assert_eq!(name_case("McKenzie"), "McKenzie");
    }

    #[test]
    fn context_from_a_contact() {
        let contact: Contact = serde_json::from_value(serde_json::json!({
            "id": "c1", "name": "Jordan Rivera", "lastName": "Rivera", "city": " ", "source": "Zillow",
            "customFields": [{"id": "f1", "value": "$450k"}, {"id": "f2", "value": ["Round Rock", "Cedar Park"]},
                              {"id": "f3", "value": null}]
        }))
        .expect("contact");
        let defs: Vec<CustomFieldDef> = serde_json::from_value(serde_json::json!([
            {"id": "f1", "fieldKey": "contact.budget"}, {"id": "f2", "fieldKey": "contact.Location"},
            {"id": "f3", "fieldKey": "contact.timeline"}
        ]))
        .expect("defs");
        let user: User = serde_json::from_value(
            serde_json::json!({"id": "u1", "firstName": "Sarah", "lastName": "Mitchell"}),
        )
        .expect("user");
        let ctx = MergeContext::from_contact(&contact, &defs, Some(&user));
        assert_eq!(ctx.first_name.as_deref(), Some("Jordan"));
        assert_eq!(ctx.city, None);
        assert_eq!(ctx.agent_name.as_deref(), Some("Sarah Mitchell"));
        assert_eq!(ctx.custom.get("location").map(String::as_str), Some("Round Rock, Cedar Park"));
        assert!(!ctx.custom.contains_key("timeline"));
        let rules = MessageRules::default();
        assert!(matches!(ctx.value(&Field::Custom("timeline".into()), &rules), Value::Missing));
        assert!(matches!(ctx.value(&Field::Custom("budgt".into()), &rules), Value::NoSuchCustomKey));
        assert!(matches!(ctx.value(&Field::AgentFirstName, &rules), Value::Text(t) if t == "Sarah"));
    }
}

/// Fills the merge fields of a free text that goes to the agent, not the lead (a task title,
/// an alert): a field with no value takes its fallback, else is left out; a text that does not
/// parse is returned as written.
pub fn merge_text(text: &str, ctx: &MergeContext, rules: &MessageRules) -> String {
    let Ok(pieces) = parse(text) else {
        return text.to_owned();
    };
    let mut out = String::with_capacity(text.len());
    for piece in pieces {
        match piece {
            Piece::Text(t) => out.push_str(&t),
            Piece::Slot(slot) => match ctx.value(&slot.field, rules) {
                Value::Text(v) => out.push_str(&v),
                Value::Missing | Value::NoSuchCustomKey => {
                    out.push_str(slot.fallback.as_deref().unwrap_or(""))
                }
            },
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod merge_text_tests {
    use super::*;

    #[test]
    fn free_text_takes_values_and_fallbacks() {
        let ctx = MergeContext {
            first_name: Some("ana".into()),
            last_name: Some("Ruiz".into()),
            ..MergeContext::default()
        };
        let rules = MessageRules::default();
        assert_eq!(
            merge_text("Hot lead: {{full_name}} ({{source|no source}})", &ctx, &rules),
            "Hot lead: Ana Ruiz (no source)"
        );
        assert_eq!(merge_text("Call {{first_name}} {{city}}", &ctx, &rules), "Call Ana");
        assert_eq!(merge_text("broken {{", &ctx, &rules), "broken {{");
    }
}
