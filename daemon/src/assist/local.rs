//! The local rules: a draft and the preferences without any network. The default, and the
//! fallback whenever the API is off or fails. Pure.

use super::Conversation;

/// A short, safe reply to the lead's last message: it thanks the lead, answers a question
/// with a promise to check, and asks for a good time to talk.
pub fn draft(c: &Conversation) -> String {
    let hi = match c.first_name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        Some(name) => format!("Hi {name}"),
        None => "Hi there".to_owned(),
    };
    let me = c.agent_name.as_deref().map(str::trim).filter(|n| !n.is_empty());
    let sign = me.map(|n| format!(", {n} here")).unwrap_or_default();
    match c.last_inbound() {
        Some(text) if text.contains('?') => {
            format!(
                "{hi}{sign}. Good question, let me check and get right back to you. Is this a good number to call?"
            )
        }
        Some(_) => {
            format!("{hi}{sign}, thanks for getting back to me! When is a good time for a quick call?")
        }
        None => format!(
            "{hi}{sign}, just checking in. Is there anything I can help you with on your home search?"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use leadline_shared::domain::Direction;

    #[test]
    fn the_draft_answers_a_question_thanks_a_reply_and_checks_in_otherwise() {
        let mut c = Conversation {
            first_name: Some("Maria".into()),
            agent_name: Some("Dana".into()),
            messages: vec![],
        };
        assert_eq!(
            draft(&c),
            "Hi Maria, Dana here, just checking in. Is there anything I can help you with on your home search?"
        );
        c.messages.push((Direction::Inbound, "Is the Elm St house still available?".into()));
        assert_eq!(
            draft(&c),
            "Hi Maria, Dana here. Good question, let me check and get right back to you. Is this a good number to call?"
        );
        c.messages.push((Direction::Inbound, "We are pre-approved.".into()));
        c.first_name = None;
        c.agent_name = None;
        assert_eq!(
            draft(&c),
            "Hi there, thanks for getting back to me! When is a good time for a quick call?"
        );
        assert!(draft(&c).chars().count() <= super::super::prompt::MAX_DRAFT_CHARS);
    }
}
