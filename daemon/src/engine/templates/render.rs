//! Filling a template for one lead, and the rules of each channel.

use leadline_shared::config::{Config, MessagesConfig};
use serde::Serialize;

use super::fields::{Field, MergeContext, Piece, Value};
use super::sms::{self, Encoding, Footer};
use super::{Channel, Template};

/// The rules every message keeps, from the config's `[messages]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRules {
    pub business_name: String,
    pub business_phone: String,
    /// The agent when the lead's assigned user has no name.
    pub agent_name: String,
    pub agent_phone: String,
    pub agent_email: String,
    /// Printed at the foot of every email (CAN-SPAM).
    pub postal_address: String,
    /// The longest SMS, in characters as the lead sees them.
    pub sms_max_chars: usize,
    /// Added to a text when it fits, always to the first text to a lead.
    pub sms_optout_text: String,
    /// The opt-out line at the foot of every email.
    pub email_unsubscribe_text: String,
}

impl MessageRules {
    /// The rules of a config's `[messages]` section.
    pub fn from_config(c: &MessagesConfig) -> MessageRules {
        MessageRules {
            business_name: c.business_name.trim().to_owned(),
            business_phone: c.business_phone.trim().to_owned(),
            agent_name: c.agent_name.trim().to_owned(),
            agent_phone: c.agent_phone.trim().to_owned(),
            agent_email: c.agent_email.trim().to_owned(),
            postal_address: c.postal_address.trim().to_owned(),
            sms_max_chars: c.sms_max_chars,
            sms_optout_text: c.sms_optout_text.trim().to_owned(),
            email_unsubscribe_text: c.email_unsubscribe_text.trim().to_owned(),
        }
    }

    /// The limits that make no sense whatever the template. The business, agent and postal
    /// address are checked when a message needs them, so that a config without them still
    /// loads (no sequence may be turned on yet).
    pub fn check(&self) -> Result<(), RulesError> {
        if !(MIN_SMS_CHARS..=MAX_SMS_CHARS).contains(&self.sms_max_chars) {
            return Err(RulesError {
                key: "sms_max_chars",
                reason: format!(
                    "= {} is out of range: use {MIN_SMS_CHARS} to {MAX_SMS_CHARS} (160 is one SMS segment)",
                    self.sms_max_chars
                ),
            });
        }
        if !sms::has_optout_language(&self.sms_optout_text) {
            return Err(RulesError {
                key: "sms_optout_text",
                reason: format!(
                    "= {:?} does not name the STOP keyword: carriers require it on the first text (e.g. \"Reply STOP to opt out\")",
                    self.sms_optout_text
                ),
            });
        }
        if sms::char_len(&self.sms_optout_text) > self.sms_max_chars / 2 {
            return Err(RulesError {
                key: "sms_optout_text",
                reason: format!(
                    "is longer than half of sms_max_chars ({}): it would leave too little room for the message",
                    self.sms_max_chars
                ),
            });
        }
        Ok(())
    }
}

impl Default for MessageRules {
    /// The rules of the built-in config (no business, agent or postal address set).
    fn default() -> Self {
        MessageRules::from_config(&Config::default().messages)
    }
}

/// Below this an SMS limit leaves no room for a question and the opt-out text.
const MIN_SMS_CHARS: usize = 60;
/// The most a carrier accepts in one (concatenated) text.
const MAX_SMS_CHARS: usize = 1600;

/// A `[messages]` value that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("config [messages] {key} {reason}")]
pub struct RulesError {
    pub key: &'static str,
    pub reason: String,
}

/// A message ready to send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rendered {
    /// The template's id and version, to record with the send.
    pub id: String,
    pub version: u32,
    pub channel: Channel,
    /// Emails only.
    pub subject: Option<String>,
    pub body: String,
    /// The body's length in characters as the lead sees them (what `sms_max_chars` limits).
    pub chars: usize,
    /// SMS segments the body costs (GSM-7: 160, or 153 each when split; UCS-2: 70, or 67).
    /// 0 for an email.
    pub segments: u32,
    /// Whether the SMS was cut to fit (its closing sentence kept).
    pub truncated: bool,
    /// What the rules changed or noticed, in words, for the preview and the log.
    pub notes: Vec<String>,
}

/// Why a message could not be rendered. It must not be sent; each says what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error(
        "no template `{id}`: fix the template id in the workflow, or add the template under templates/ beside the config file"
    )]
    UnknownTemplate { id: String },
    #[error("template `{template}` needs {{{{{field}}}}}, which has no value here: {}", missing_hint(field))]
    MissingField { template: String, field: String },
    #[error(
        "template `{template}` uses {{{{custom.{key}}}}}, but this location has no custom field with the key `{key}`: check the key (GHL's fieldKey without `contact.`), or add a fallback ({{{{custom.{key}|...}}}})"
    )]
    UnknownCustomField { template: String, key: String },
    #[error("template `{template}` needs [messages] {key} in the config: {why}")]
    MissingConfig { template: String, key: &'static str, why: &'static str },
    #[error("template `{template}` cannot fit [messages] sms_max_chars = {limit} for this lead: the parts that must stay (the closing sentence{}) take {needed} characters. Shorten its last sentence", if *.first_touch { ", the introduction and the opt-out text" } else { "" })]
    DoesNotFit { template: String, needed: usize, limit: usize, first_touch: bool },
    #[error(
        "template `{template}` has optout_footer = false, so it cannot be a lead's first text (that must carry opt-out language): send another template first"
    )]
    NotForFirstText { template: String },
    #[error(
        "template `{template}` renders an empty {part} for this lead: give its merge fields non-empty fallbacks"
    )]
    Empty { template: String, part: &'static str },
    #[error("the edited text of template `{template}` cannot be used: {problem}")]
    BadEdit { template: String, problem: String },
    #[error(
        "template `{template}` rendered with `{{{{` or `}}}}` in it (from a field's value?): not sent. Fix the value in GHL"
    )]
    Leftover { template: String },
    #[error(transparent)]
    Rules(#[from] RulesError),
}

fn missing_hint(field: &str) -> &'static str {
    match field {
        "agent_name" | "agent_first_name" => {
            "assign the lead to a user with a name, or set [messages] agent_name in the config"
        }
        "agent_phone" => "give the assigned user a phone, or set [messages] agent_phone in the config",
        "agent_email" => "give the assigned user an email, or set [messages] agent_email in the config",
        "business_name" => "set [messages] business_name in the config",
        "business_phone" => "set [messages] business_phone in the config",
        _ => "add a fallback to the template, as in {{first_name|there}}, or fill the field in GHL",
    }
}

/// Fills `template` and applies its channel's rules.
pub fn render(
    template: &Template,
    ctx: &MergeContext,
    rules: &MessageRules,
    first_touch: bool,
) -> Result<Rendered, RenderError> {
    rules.check()?;
    let rendered = match template.channel {
        Channel::Sms => render_sms(template, ctx, rules, first_touch)?,
        Channel::Email => render_email(template, ctx, rules, first_touch)?,
    };
    // The last guard: whatever happened above, a merge field is never sent.
    let texts = [Some(rendered.body.as_str()), rendered.subject.as_deref()];
    if texts.into_iter().flatten().any(|t| t.contains("{{") || t.contains("}}")) {
        return Err(RenderError::Leftover { template: template.id.clone() });
    }
    if template.channel == Channel::Sms && rendered.chars > rules.sms_max_chars {
        return Err(RenderError::DoesNotFit {
            template: template.id.clone(),
            needed: rendered.chars,
            limit: rules.sms_max_chars,
            first_touch,
        });
    }
    Ok(rendered)
}

/// The merge fields filled in.
fn merge(
    template: &Template,
    pieces: &[Piece],
    ctx: &MergeContext,
    rules: &MessageRules,
    notes: &mut Vec<String>,
) -> Result<String, RenderError> {
    let mut out = String::new();
    for piece in pieces {
        let slot = match piece {
            Piece::Text(t) => {
                out.push_str(t);
                continue;
            }
            Piece::Slot(slot) => slot,
        };
        match (ctx.value(&slot.field, rules), &slot.fallback) {
            (Value::Text(v), _) => out.push_str(&v),
            (Value::Missing, Some(fallback)) => out.push_str(fallback),
            (Value::NoSuchCustomKey, Some(fallback)) => {
                notes.push(format!(
                    "this location has no custom field {}: used the fallback \"{fallback}\"",
                    slot.field.name()
                ));
                out.push_str(fallback);
            }
            (Value::Missing, None) => {
                return Err(match slot.field {
                    Field::BusinessName => missing_business(template),
                    _ => {
                        RenderError::MissingField { template: template.id.clone(), field: slot.field.name() }
                    }
                });
            }
            (Value::NoSuchCustomKey, None) => {
                let key = match &slot.field {
                    Field::Custom(key) => key.clone(),
                    other => other.name(),
                };
                return Err(RenderError::UnknownCustomField { template: template.id.clone(), key });
            }
        }
    }
    Ok(out)
}

fn missing_business(template: &Template) -> RenderError {
    RenderError::MissingConfig {
        template: template.id.clone(),
        key: "business_name",
        why: "the template, a first message or an email names the business",
    }
}

/// The agent and the business, which a first message must name.
fn sender(
    template: &Template,
    ctx: &MergeContext,
    rules: &MessageRules,
) -> Result<(String, String), RenderError> {
    let business = rules.business_name.trim();
    if business.is_empty() {
        return Err(missing_business(template));
    }
    let agent = ctx.agent(rules).ok_or_else(|| RenderError::MissingConfig {
        template: template.id.clone(),
        key: "agent_name",
        why: "a first message names the agent; set it, or assign the lead to a user with a name",
    })?;
    Ok((agent, business.to_owned()))
}

/// Whether `text` names the business and the agent.
fn names_sender(text: &str, agent: &str, business: &str) -> bool {
    text.to_lowercase().contains(&business.to_lowercase()) && names_agent(text, agent)
}

/// Whether `text` names the agent, by full name or first name.
fn names_agent(text: &str, agent: &str) -> bool {
    let text = text.to_lowercase();
    let agent = agent.to_lowercase();
    let agent_first = agent.split_whitespace().next().unwrap_or(&agent);
    text.contains(&agent) || text.contains(agent_first)
}

fn render_sms(
    template: &Template,
    ctx: &MergeContext,
    rules: &MessageRules,
    first_touch: bool,
) -> Result<Rendered, RenderError> {
    if first_touch && !template.optout_footer {
        return Err(RenderError::NotForFirstText { template: template.id.clone() });
    }
    let mut notes = Vec::new();
    let merged = merge(template, &template.body.pieces, ctx, rules, &mut notes)?;
    let (plain, swapped) = sms::plain(&merged);
    if swapped {
        notes.push(
            "typographic quotes, dashes or ellipses replaced by plain ones (they would make it UCS-2)".into(),
        );
    }
    let agent = ctx.agent(rules).unwrap_or_default();
    let guarded = sms::spam_guard(&plain, &[rules.business_name.as_str(), agent.as_str()]);
    for word in &guarded.lowercased {
        notes.push(format!("spam guard: {word} lowercased"));
    }
    if let Some(percent) = guarded.sentence_cased {
        notes.push(format!("spam guard: {percent} % capitals, toned down to sentence case"));
    }
    let body = guarded.text;
    if body.is_empty() {
        return Err(RenderError::Empty { template: template.id.clone(), part: "body" });
    }
    if let Some(s) = sms::shortener(&body) {
        notes.push(format!("link shortener {s} in the text: carriers filter these, use your own domain"));
    }

    let (footer, _) = sms::plain(&rules.sms_optout_text);
    let mut mode = if !template.optout_footer || sms::has_optout_language(&body) {
        Footer::Never
    } else if first_touch {
        Footer::Always
    } else {
        Footer::IfFits
    };
    let sender = if first_touch { Some(sender(template, ctx, rules)?) } else { None };
    let limit = rules.sms_max_chars;
    let does_not_fit =
        |needed| RenderError::DoesNotFit { template: template.id.clone(), needed, limit, first_touch };
    let mut introduced = matches!(&sender, Some((agent, business)) if !names_sender(&body, agent, business));
    let mut fitted = fit_introduced(sender.as_ref().filter(|_| introduced), &body, &footer, mode, limit)
        .map_err(does_not_fit)?;
    if let Some((agent, business)) = &sender {
        // The cut may have taken the names, or the body's own opt-out words, out of the text:
        // then the introduction and the footer go in, and the body is cut again around them.
        let mut again = false;
        if !introduced && !names_sender(&fitted.0.text, agent, business) {
            introduced = true;
            again = true;
        }
        if !sms::has_optout_language(&fitted.0.text) {
            mode = Footer::Always;
            again = true;
        }
        if again {
            fitted = fit_introduced(sender.as_ref().filter(|_| introduced), &body, &footer, mode, limit)
                .map_err(does_not_fit)?;
        }
    }
    let (fitted, prefix) = fitted;
    if !prefix.is_empty() {
        notes.push(format!("first message: introduced as \"{}\"", prefix.trim_end()));
    }
    if fitted.truncated {
        notes.push(format!(
            "cut to {limit} characters: {} characters before the closing sentence left out",
            fitted.removed
        ));
    }
    if mode == Footer::IfFits && !fitted.footer {
        notes.push("opt-out text left out: no room for it".into());
    }
    if sms::encoding(&fitted.text) == Encoding::Ucs2
        && let Some(c) = sms::first_non_gsm(&fitted.text)
    {
        notes.push(format!("sent as UCS-2 (70 characters a segment) because of {c:?}"));
    }
    Ok(Rendered {
        id: template.id.clone(),
        version: template.version,
        channel: Channel::Sms,
        subject: None,
        chars: sms::char_len(&fitted.text),
        segments: sms::segments(&fitted.text),
        body: fitted.text,
        truncated: fitted.truncated,
        notes,
    })
}

/// An email body as paragraphs: blank lines separate them; the lines of one paragraph, wrapped
/// to fit the template file, are joined with spaces, except list items (`- ` or `* `), which keep
/// their own lines. So a template reads well in TOML and the sender can turn each line into a
/// paragraph or list item without odd breaks.
fn reflow(text: &str) -> String {
    let mut paragraphs: Vec<String> = Vec::new();
    let mut current: Vec<String> = Vec::new();
    let flush = |current: &mut Vec<String>, paragraphs: &mut Vec<String>| {
        if !current.is_empty() {
            paragraphs.push(current.join("\n"));
            current.clear();
        }
    };
    for line in text.lines().map(str::trim) {
        if line.is_empty() {
            flush(&mut current, &mut paragraphs);
        } else if line.starts_with("- ") || line.starts_with("* ") {
            current.push(line.to_owned());
        } else if let Some(last) = current.last_mut().filter(|l| !l.starts_with("- ") && !l.starts_with("* "))
        {
            last.push(' ');
            last.push_str(line);
        } else {
            current.push(line.to_owned());
        }
    }
    flush(&mut current, &mut paragraphs);
    paragraphs.join("\n\n")
}

/// [`sms::fit`] with, when `sender` is given, the introduction "Agent Name with Business: "
/// in front; when that cannot fit, the agent's first name only.
fn fit_introduced(
    sender: Option<&(String, String)>,
    body: &str,
    footer: &str,
    mode: Footer,
    limit: usize,
) -> Result<(sms::Fitted, String), usize> {
    let Some((agent, business)) = sender else {
        return sms::fit("", body, footer, mode, limit).map(|f| (f, String::new()));
    };
    let intro = |agent: &str| format!("{} with {}: ", sms::plain(agent).0, sms::plain(business).0);
    let full = intro(agent);
    match sms::fit(&full, body, footer, mode, limit) {
        Ok(f) => Ok((f, full)),
        Err(needed) => {
            let first = agent.split_whitespace().next().unwrap_or(agent);
            let short = intro(first);
            if short == full {
                return Err(needed);
            }
            sms::fit(&short, body, footer, mode, limit).map(|f| (f, short))
        }
    }
}

fn render_email(
    template: &Template,
    ctx: &MergeContext,
    rules: &MessageRules,
    first_touch: bool,
) -> Result<Rendered, RenderError> {
    let mut notes = Vec::new();
    let subject_pieces = template.subject.as_ref().map(|s| s.pieces.as_slice()).unwrap_or_default();
    let subject = merge(template, subject_pieces, ctx, rules, &mut notes)?;
    // A subject is one line.
    let subject = subject.split_whitespace().collect::<Vec<_>>().join(" ");
    if subject.is_empty() {
        return Err(RenderError::Empty { template: template.id.clone(), part: "subject" });
    }
    let merged = merge(template, &template.body.pieces, ctx, rules, &mut notes)?;
    let mut body = reflow(&merged);
    if body.is_empty() {
        return Err(RenderError::Empty { template: template.id.clone(), part: "body" });
    }

    // CAN-SPAM: the sender, a valid postal address and a clear opt-out in every email.
    if rules.business_name.is_empty() {
        return Err(missing_business(template));
    }
    if rules.postal_address.is_empty() {
        return Err(RenderError::MissingConfig {
            template: template.id.clone(),
            key: "postal_address",
            why: "every email carries the sender's postal address (CAN-SPAM)",
        });
    }
    if rules.email_unsubscribe_text.is_empty() {
        return Err(RenderError::MissingConfig {
            template: template.id.clone(),
            key: "email_unsubscribe_text",
            why: "every email says how to opt out (CAN-SPAM)",
        });
    }
    if first_touch {
        // The business is named at the foot; the agent must be named too.
        let (agent, business) = sender(template, ctx, rules)?;
        if !names_agent(&body, &agent) {
            body.push_str(&format!("\n\n{agent}, {business}"));
            notes.push("first message: signed with the agent and the business".into());
        }
    }
    body.push_str(&format!(
        "\n\n{}\n{}\n\n{}",
        rules.business_name, rules.postal_address, rules.email_unsubscribe_text
    ));
    Ok(Rendered {
        id: template.id.clone(),
        version: template.version,
        channel: Channel::Email,
        subject: Some(subject),
        chars: sms::char_len(&body),
        segments: 0,
        body,
        truncated: false,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::{MessageRules, reflow};

    #[test]
    fn rules_limits() {
        let at = |n: usize, footer: &str| {
            MessageRules { sms_max_chars: n, sms_optout_text: footer.into(), ..MessageRules::default() }
                .check()
        };
        assert!(at(160, "Reply STOP to opt out").is_ok());
        assert!(at(60, "Reply STOP to opt out").is_ok());
        assert!(at(1600, "Reply STOP to opt out").is_ok());
        assert_eq!(at(59, "Reply STOP to opt out").map_err(|e| e.key), Err("sms_max_chars"));
        assert_eq!(at(1601, "Reply STOP to opt out").map_err(|e| e.key), Err("sms_max_chars"));
        assert_eq!(at(160, "Reply stop to opt out").map_err(|e| e.key), Err("sms_optout_text"));
        let long = format!("Reply STOP to opt out{}", ".".repeat(60));
        assert_eq!(at(160, &long).map_err(|e| e.key), Err("sms_optout_text"));
    }

    #[test]
    fn email_paragraphs_are_reflowed_and_lists_kept() {
        let text = "  Hi Jordan,\n\nThanks for\nreaching out.  \n\n\nThree things:\n- price\n- area\nand timing.\n\nSarah\n";
        assert_eq!(
            reflow(text),
            "Hi Jordan,\n\nThanks for reaching out.\n\nThree things:\n- price\n- area\nand timing.\n\nSarah"
        );
    }
}
