//! What the model is asked and how its answers are read. Pure: tested without a network.

use leadline_shared::domain::{Direction, Qualification, QualificationItem};

use super::{AssistError, Conversation};

/// The longest draft accepted: two SMS segments, as the sender allows.
pub const MAX_DRAFT_CHARS: usize = 320;

/// The system prompt for a draft: the predecessor's tone rules (business-rules.md §1d–1e).
pub const DRAFT_SYSTEM: &str = "You are a real-estate agent's assistant drafting one SMS reply to a lead. \
Write as the agent, warm and brief: at most 2 sentences and 300 characters, no emojis, no links, \
no promises about prices or availability, and ask at most one question that moves toward a call or \
a showing. Never mention that you are an AI. Answer with the text of the SMS only.";

/// The system prompt for reading preferences.
pub const EXTRACT_SYSTEM: &str = "You read a real-estate lead's messages and note what the lead said \
about seven things: budget, location, timeline, property, financing, motivation, home_condition. \
Answer with one JSON object with exactly those keys; each value is a short quote or summary of what \
the lead said, or null when the lead said nothing about it. Do not guess.";

/// The conversation as the user turn: who wrote what, oldest first.
pub fn transcript(c: &Conversation) -> String {
    let mut out = String::new();
    if let Some(name) = &c.first_name {
        out.push_str(&format!("Lead's first name: {name}\n"));
    }
    if let Some(agent) = &c.agent_name {
        out.push_str(&format!("Agent's first name: {agent}\n"));
    }
    out.push_str("Messages, oldest first:\n");
    for (direction, text) in &c.messages {
        let who = if *direction == Direction::Inbound { "Lead" } else { "Agent" };
        out.push_str(&format!("{who}: {}\n", text.trim()));
    }
    out
}

/// A draft as the model wrote it, made usable: trimmed, unquoted, within the SMS limit.
pub fn read_draft(answer: &str) -> Result<String, AssistError> {
    let text = answer.trim().trim_matches('"').trim();
    if text.is_empty() {
        return Err(AssistError::BadAnswer("the draft is empty".into()));
    }
    if text.chars().count() > MAX_DRAFT_CHARS {
        return Err(AssistError::BadAnswer(format!(
            "the draft has {} characters, more than a text's {MAX_DRAFT_CHARS}",
            text.chars().count()
        )));
    }
    Ok(text.to_owned())
}

/// The preferences the model read: its JSON object (a code fence around it is allowed), each
/// known key a string or null. Anything else is an error: a wrong answer is not stored.
pub fn read_preferences(answer: &str) -> Result<Qualification, AssistError> {
    let body = answer.trim();
    let body = body.strip_prefix("```json").or_else(|| body.strip_prefix("```")).unwrap_or(body);
    let body = body.strip_suffix("```").unwrap_or(body).trim();
    let value: serde_json::Value =
        serde_json::from_str(body).map_err(|e| AssistError::BadAnswer(format!("not JSON: {e}")))?;
    let object = value.as_object().ok_or_else(|| AssistError::BadAnswer("not a JSON object".into()))?;
    let mut q = Qualification::default();
    for item in QualificationItem::ALL {
        match object.get(item.as_str()) {
            None | Some(serde_json::Value::Null) => {}
            Some(serde_json::Value::String(s)) if !s.trim().is_empty() => q.answer(item, s.trim()),
            Some(serde_json::Value::String(_)) => {}
            Some(other) => {
                return Err(AssistError::BadAnswer(format!("{} is {other}, not text", item.as_str())));
            }
        }
    }
    Ok(q)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn convo() -> Conversation {
        Conversation {
            first_name: Some("Maria".into()),
            agent_name: Some("Dana".into()),
            messages: vec![
                (Direction::Outbound, "Hi Maria, this is Dana. Still looking in Doral?".into()),
                (Direction::Inbound, " Yes! Pre-approved up to 500k, need 3 beds. ".into()),
            ],
        }
    }

    #[test]
    fn the_transcript_names_who_wrote_what_in_order() {
        assert_eq!(
            transcript(&convo()),
            "Lead's first name: Maria\nAgent's first name: Dana\nMessages, oldest first:\n\
             Agent: Hi Maria, this is Dana. Still looking in Doral?\nLead: Yes! Pre-approved up to 500k, need 3 beds.\n"
        );
        assert_eq!(convo().last_inbound(), Some(" Yes! Pre-approved up to 500k, need 3 beds. "));
    }

    #[test]
    fn drafts_are_trimmed_and_kept_to_a_text() {
        assert_eq!(
            read_draft("  \"Great news, Maria! Free Saturday at 10?\"\n").expect("ok"),
            "Great news, Maria! Free Saturday at 10?"
        );
        assert!(matches!(read_draft("   "), Err(AssistError::BadAnswer(_))));
        assert!(matches!(read_draft(&"x".repeat(321)), Err(AssistError::BadAnswer(_))));
    }

    #[test]
    fn preferences_are_read_from_json_and_nothing_else() {
        let q = read_preferences(
            "```json\n{\"budget\": \"up to $500k\", \"location\": \"Doral\", \"timeline\": null, \"property\": \"3 beds\", \
             \"financing\": \"pre-approved\", \"motivation\": \"\", \"home_condition\": null}\n```",
        )
        .expect("ok");
        assert_eq!(q.budget.as_deref(), Some("up to $500k"));
        assert_eq!(q.location.as_deref(), Some("Doral"));
        assert_eq!(q.property.as_deref(), Some("3 beds"));
        assert_eq!(q.financing.as_deref(), Some("pre-approved"));
        assert_eq!((q.timeline, q.motivation), (None, None));
        assert!(read_preferences("I think they want 3 beds").is_err());
        assert!(read_preferences("[1, 2]").is_err());
        assert!(read_preferences("{\"budget\": 500000}").is_err(), "a number where text belongs is refused");
    }
}
