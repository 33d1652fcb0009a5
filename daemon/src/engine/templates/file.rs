//! One template file: TOML read with spans, so that every problem points at its line and
//! column; each `[[template]]` checked key by key.

use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::fields::{self, Piece};
use super::render::MessageRules;
use super::sms::{self, Footer};
use super::{Channel, Origin, Problem, Template, TemplateError, Text};

/// The keys a template may have.
const KEYS: &[&str] = &["id", "version", "channel", "subject", "body", "description", "optout_footer"];

/// The templates of one file, checked.
pub fn parse(origin: &Origin, text: &str, rules: &MessageRules) -> Result<Vec<Template>, TemplateError> {
    let at = |offset: usize, problem: Problem| {
        let (line, column) = line_col(text, offset);
        TemplateError::Invalid { file: origin.to_string(), line, column, problem }
    };
    let doc = DeTable::parse(text).map_err(|e| {
        let offset = e.span().map_or(0, |s| s.start);
        at(offset, Problem::Syntax(e.message().trim_end_matches('\n').to_owned()))
    })?;
    let mut templates: Vec<Template> = Vec::new();
    for (key, value) in doc.get_ref() {
        if key.get_ref() != "template" {
            return Err(at(key.span().start, Problem::NotTemplate(key.get_ref().to_string())));
        }
        let DeValue::Array(items) = value.get_ref() else {
            return Err(at(key.span().start, Problem::NotArray));
        };
        for item in items.iter() {
            let DeValue::Table(table) = item.get_ref() else {
                return Err(at(item.span().start, Problem::NotArray));
            };
            let template = one(origin, text, table, item.span(), rules)?;
            if let Some(first) = templates.iter().find(|t| t.id == template.id) {
                return Err(
                    template.error(Problem::DuplicateId { id: template.id.clone(), line: first.line })
                );
            }
            templates.push(template);
        }
    }
    Ok(templates)
}

/// One `[[template]]` table.
fn one(
    origin: &Origin,
    text: &str,
    table: &DeTable<'_>,
    span: Range<usize>,
    rules: &MessageRules,
) -> Result<Template, TemplateError> {
    let at = |offset: usize, problem: Problem| {
        let (line, column) = line_col(text, offset);
        TemplateError::Invalid { file: origin.to_string(), line, column, problem }
    };
    for (key, _) in table {
        if !KEYS.contains(&key.get_ref().as_ref()) {
            return Err(at(key.span().start, Problem::UnknownKey(key.get_ref().to_string())));
        }
    }
    let get = |name: &str| table.iter().find(|(k, _)| k.get_ref() == name).map(|(_, v)| v);
    let required = |name: &'static str| get(name).ok_or_else(|| at(span.start, Problem::MissingKey(name)));
    let string = |name: &'static str, v: &Spanned<DeValue<'_>>| match v.get_ref() {
        DeValue::String(s) => Ok(s.to_string()),
        _ => Err(at(v.span().start, Problem::WrongType { key: name, expected: "a string in quotes" })),
    };

    let id_value = required("id")?;
    let id = string("id", id_value)?;
    let id_ok = id.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !id_ok {
        return Err(at(id_value.span().start, Problem::BadId(id)));
    }

    let version_value = required("version")?;
    let version = match version_value.get_ref() {
        DeValue::Integer(i) => {
            let digits = i.as_str().replace('_', "");
            u32::from_str_radix(digits.trim_start_matches('+'), i.radix())
                .ok()
                .filter(|v| *v >= 1)
                .ok_or_else(|| at(version_value.span().start, Problem::BadVersion(i.as_str().to_owned())))?
        }
        _ => {
            return Err(at(
                version_value.span().start,
                Problem::WrongType {
                    key: "version",
                    expected: "a whole number, without quotes (version = 1)",
                },
            ));
        }
    };

    let channel_value = required("channel")?;
    let channel = match string("channel", channel_value)?.as_str() {
        "sms" => Channel::Sms,
        "email" => Channel::Email,
        other => return Err(at(channel_value.span().start, Problem::BadChannel(other.to_owned()))),
    };

    let description = get("description").map(|v| string("description", v)).transpose()?;

    let optout_footer = match get("optout_footer") {
        None => true,
        Some(v) if channel == Channel::Email => return Err(at(v.span().start, Problem::FooterOnEmail)),
        Some(v) => match v.get_ref() {
            DeValue::Boolean(b) => *b,
            _ => {
                return Err(at(
                    v.span().start,
                    Problem::WrongType { key: "optout_footer", expected: "true or false" },
                ));
            }
        },
    };

    let text_of = |name: &'static str, v: &Spanned<DeValue<'_>>| -> Result<Text, TemplateError> {
        let source = string(name, v)?;
        if source.trim().is_empty() {
            return Err(at(v.span().start, Problem::Empty(name)));
        }
        let pieces = fields::parse(&source).map_err(|e| {
            let offset = locate(text, v.span(), &source, e.offset, &e.token);
            at(offset, Problem::Field(e.problem))
        })?;
        Ok(Text { source, pieces })
    };

    let subject = match (get("subject"), channel) {
        (Some(v), Channel::Sms) => return Err(at(v.span().start, Problem::SubjectOnSms)),
        (None, Channel::Email) => return Err(at(span.start, Problem::NoSubject)),
        (None, Channel::Sms) => None,
        (Some(v), Channel::Email) => Some(text_of("subject", v)?),
    };
    let body_value = required("body")?;
    let body = text_of("body", body_value)?;

    if channel == Channel::Sms {
        let needed = shortest_fit(&body.pieces, optout_footer, rules);
        if let Some(needed) = needed {
            return Err(at(
                body_value.span().start,
                Problem::NeverFits { needed, limit: rules.sms_max_chars },
            ));
        }
    }

    let (line, column) = line_col(text, id_value.span().start);
    Ok(Template {
        id,
        version,
        channel,
        description,
        optout_footer,
        origin: origin.clone(),
        line,
        column,
        subject,
        body,
    })
}

/// `Some(needed)` when an SMS cannot fit the limit even with every field at its shortest (its
/// fallback, else empty) and everything before the closing sentence cut: the closing sentence
/// and, as on a first text, the opt-out text.
fn shortest_fit(pieces: &[Piece], optout_footer: bool, rules: &MessageRules) -> Option<usize> {
    let shortest: String = pieces
        .iter()
        .map(|p| match p {
            Piece::Text(t) => t.as_str(),
            Piece::Slot(s) => s.fallback.as_deref().unwrap_or(""),
        })
        .collect();
    let (body, _) = sms::plain(&shortest);
    let mode = if optout_footer && !sms::has_optout_language(&body) { Footer::Always } else { Footer::Never };
    let (footer, _) = sms::plain(&rules.sms_optout_text);
    sms::fit("", &body, &footer, mode, rules.sms_max_chars).err()
}

/// The byte offset in the file of a problem at `offset` of a string value: the same token is
/// looked for in the value's source text (the n-th time it occurs there, as in the value); if
/// escapes hide it, the value's start.
fn locate(file: &str, span: Range<usize>, value: &str, offset: usize, token: &str) -> usize {
    let nth = value.get(..offset).map_or(0, |before| before.matches(token).count());
    file.get(span.clone())
        .and_then(|raw| raw.match_indices(token).nth(nth))
        .map_or(span.start, |(i, _)| span.start + i)
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let before = &text[..end];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}
