//! The Anthropic Messages API client (`POST /v1/messages`): one user turn, a system prompt, the
//! text of the answer. The key is read from the environment and never logged or shown.

use std::time::Duration;

use leadline_shared::config::AssistConfig;
use leadline_shared::domain::Qualification;
use serde_json::json;

use super::prompt::{self, DRAFT_SYSTEM, EXTRACT_SYSTEM};
use super::{AssistError, Conversation};

/// The API version this client speaks.
pub const API_VERSION: &str = "2023-06-01";

/// A client of the Messages API.
pub struct AnthropicClient {
    http: reqwest::Client,
    base_url: String,
    model: String,
    max_tokens: u32,
    key: String,
}

impl std::fmt::Debug for AnthropicClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnthropicClient")
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("key", &"<redacted>")
            .finish()
    }
}

impl AnthropicClient {
    /// A client from `[assist]`, the key read through `env` (the process environment in the
    /// daemon). The key goes only to https addresses, or plain http on this machine.
    pub fn from_config(
        cfg: &AssistConfig,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, AssistError> {
        let key = env(&cfg.api_key_env)
            .filter(|k| !k.trim().is_empty())
            .ok_or_else(|| AssistError::NoKey(cfg.api_key_env.clone()))?;
        let base_url = cfg.base_url.trim_end_matches('/').to_owned();
        let local = ["http://127.0.0.1", "http://localhost", "http://[::1]"].iter().any(|p| {
            base_url.strip_prefix(p).is_some_and(|rest| rest.is_empty() || rest.starts_with([':', '/']))
        });
        if !base_url.starts_with("https://") && !local {
            return Err(AssistError::Unreachable(format!(
                "[assist] base_url {base_url:?} must be https:// (plain http only on this machine), since the key goes along"
            )));
        }
        let timeout = Duration::from_secs(cfg.timeout_secs.max(1));
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("leadline/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| AssistError::Unreachable(format!("cannot set up the HTTP client: {e}")))?;
        Ok(AnthropicClient { http, base_url, model: cfg.model.clone(), max_tokens: cfg.max_tokens, key })
    }

    /// The model's name, as the source of what it wrote.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// A reply drafted to the conversation.
    pub async fn draft(&self, c: &Conversation) -> Result<String, AssistError> {
        prompt::read_draft(&self.ask(DRAFT_SYSTEM, &prompt::transcript(c)).await?)
    }

    /// The preferences the lead stated in the conversation.
    pub async fn preferences(&self, c: &Conversation) -> Result<Qualification, AssistError> {
        prompt::read_preferences(&self.ask(EXTRACT_SYSTEM, &prompt::transcript(c)).await?)
    }

    /// One question: the answer's text blocks, joined.
    async fn ask(&self, system: &str, user: &str) -> Result<String, AssistError> {
        let body = json!({
            "model": self.model,
            "max_tokens": self.max_tokens,
            "system": system,
            "messages": [{"role": "user", "content": user}],
        });
        let response = self
            .http
            .post(format!("{}/v1/messages", self.base_url))
            .header("x-api-key", &self.key)
            .header("anthropic-version", API_VERSION)
            .json(&body)
            .send()
            .await
            .map_err(|e| AssistError::Unreachable(e.without_url().to_string()))?;
        let status = response.status().as_u16();
        let value: serde_json::Value = response.json().await.unwrap_or(serde_json::Value::Null);
        match status {
            200 => {}
            401 | 403 => return Err(AssistError::Unauthorized),
            429 | 503 | 529 => return Err(AssistError::Busy(status)),
            _ => {
                let message = value["error"]["message"].as_str().unwrap_or("no reason given").to_owned();
                return Err(AssistError::Refused { status, message });
            }
        }
        let blocks = value["content"]
            .as_array()
            .ok_or_else(|| AssistError::BadAnswer("the answer has no content".into()))?;
        let text: String = blocks
            .iter()
            .filter(|b| b["type"] == "text")
            .filter_map(|b| b["text"].as_str())
            .collect::<Vec<_>>()
            .join("");
        Ok(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_comes_from_the_variable_named_and_never_shows() {
        let cfg = AssistConfig { enabled: true, ..AssistConfig::default() };
        let missing = AnthropicClient::from_config(&cfg, |_| None).expect_err("refused");
        assert_eq!(missing, AssistError::NoKey("ANTHROPIC_API_KEY".into()));
        assert!(missing.to_string().contains("export the Anthropic API key"));
        let client = AnthropicClient::from_config(&cfg, |k| {
            (k == "ANTHROPIC_API_KEY").then(|| "sk-ant-secret".into())
        })
        .expect("ok");
        assert!(!format!("{client:?}").contains("sk-ant-secret"));
    }

    #[test]
    fn the_key_goes_to_https_or_to_this_machine_only() {
        let key = |_: &str| Some("k".to_owned());
        for (url, ok) in [
            ("https://api.anthropic.com", true),
            ("http://127.0.0.1:4010", true),
            ("http://localhost", true),
            ("http://example.com", false),
            ("http://127.0.0.1.evil.com", false),
        ] {
            let cfg = AssistConfig { base_url: url.into(), ..AssistConfig::default() };
            assert_eq!(AnthropicClient::from_config(&cfg, key).is_ok(), ok, "{url}");
        }
    }
}
