//! The AI assist: a reply drafted to a lead's last message, and the lead's preferences (the
//! seven qualifying answers) read from the conversation. Off by default (`[assist] enabled`).
//!
//! One job per file:
//! - [`prompt`]: what the model is asked, and how its answers are read (pure, no IO);
//! - [`local`]: the local rules, the default and the fallback (pure);
//! - [`anthropic`]: the Anthropic Messages API client (HTTP).
//!
//! A draft never goes by itself: it waits in the follow-up engine's approval queue, under the
//! same gates as every send, unless `[assist] send_without_approval` says otherwise
//! (`crate::ipc::assist`).

pub mod anthropic;
pub mod local;
pub mod prompt;

use leadline_shared::domain::{Direction, Qualification};

/// What the assist needs of a lead: who it is and what was said, oldest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Conversation {
    /// The lead's first name, if known.
    pub first_name: Option<String>,
    /// The agent's first name, if known (signs the draft).
    pub agent_name: Option<String>,
    /// The messages, oldest first: who wrote and what.
    pub messages: Vec<(Direction, String)>,
}

impl Conversation {
    /// The lead's last message, if the lead wrote last or at all.
    pub fn last_inbound(&self) -> Option<&str> {
        self.messages.iter().rev().find(|(d, _)| *d == Direction::Inbound).map(|(_, t)| t.as_str())
    }
}

/// What the assist produced, and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Assisted {
    /// The drafted text.
    pub draft: String,
    /// The preferences read from the conversation.
    pub preferences: Qualification,
    /// `local`, or `anthropic:MODEL`.
    pub source: String,
    /// Why the local rules answered although the API is on (it failed, or said nothing usable).
    pub fallback_reason: Option<String>,
}

/// Errors of the API client; each says what to do. None carries the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssistError {
    #[error(
        "the AI assist is on but {0} is not set: export the Anthropic API key in it, or set [assist] enabled = false"
    )]
    NoKey(String),
    #[error(
        "the Anthropic API refused the key (401): check the key in the variable [assist] api_key_env names"
    )]
    Unauthorized,
    #[error("the Anthropic API is busy or rate limited ({0}); the local draft is used meanwhile")]
    Busy(u16),
    #[error("the Anthropic API could not be reached ({0}); check the network and [assist] base_url")]
    Unreachable(String),
    #[error("the Anthropic API answered {status}: {message}")]
    Refused { status: u16, message: String },
    #[error("the model's answer could not be used: {0}")]
    BadAnswer(String),
}

/// A draft and the preferences for `conversation`: from the API when `[assist]` is on and it
/// answers, else from the local rules (`local_preferences` are what the local extractor read),
/// with the reason the API was not used.
pub async fn assist(
    cfg: &leadline_shared::config::AssistConfig,
    env: impl Fn(&str) -> Option<String>,
    conversation: &Conversation,
    local_preferences: Qualification,
) -> Assisted {
    let local = |reason: Option<String>, preferences: Qualification| Assisted {
        draft: local::draft(conversation),
        preferences,
        source: "local".into(),
        fallback_reason: reason,
    };
    if !cfg.enabled {
        return local(None, local_preferences);
    }
    let client = match anthropic::AnthropicClient::from_config(cfg, env) {
        Ok(client) => client,
        Err(e) => return local(Some(e.to_string()), local_preferences),
    };
    let (draft, preferences) = tokio::join!(client.draft(conversation), client.preferences(conversation));
    match (draft, preferences) {
        (Ok(draft), Ok(mut preferences)) => {
            // What the local rules found and the model did not say stays: the model adds.
            for item in leadline_shared::domain::QualificationItem::ALL {
                if let Some(answer) = local_preferences.get(item) {
                    preferences.answer(item, answer);
                }
            }
            Assisted {
                draft,
                preferences,
                source: format!("anthropic:{}", client.model()),
                fallback_reason: None,
            }
        }
        (Err(e), _) | (_, Err(e)) => {
            tracing::warn!(error = %e, "the AI assist failed; the local rules answered");
            local(Some(e.to_string()), local_preferences)
        }
    }
}
