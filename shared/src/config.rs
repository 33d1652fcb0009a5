//! Configuration: the embedded defaults (`config/default.toml`), then the user's file, then the
//! environment. Unknown keys are rejected so that typos surface as errors.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The commented default configuration, embedded in both binaries.
pub const DEFAULT_TOML: &str = include_str!("../../config/default.toml");

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub ghl: GhlConfig,
    pub sync: SyncConfig,
    pub store: StoreConfig,
    pub scoring: ScoringConfig,
    pub queues: QueuesConfig,
    pub analytics: AnalyticsConfig,
    pub logging: LoggingConfig,
    pub webhooks: WebhooksConfig,
    pub messages: MessagesConfig,
    pub followups: FollowupsConfig,
    pub dashboard: DashboardConfig,
    #[serde(default)]
    pub assist: AssistConfig,
    pub routing: RoutingConfig,
}

/// `[routing]`: routing suggestions for teams. See `docs/intel.md`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingConfig {
    /// An agent's load is kept under this share of its capacity (0.8 is 80 %).
    pub max_load: f64,
    /// Open leads an agent may hold when its block does not say.
    pub default_capacity: u32,
    /// A lead counts towards its agent's load for this many days after it arrives (unless won).
    pub load_window_days: u32,
    /// From this budget, in dollars, a lead needs the `luxury` specialty.
    pub luxury_budget: f64,
    /// The agents; none means every user of the location, always available.
    #[serde(default)]
    pub agents: Vec<AgentConfig>,
}

/// One `[[routing.agents]]` block.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AgentConfig {
    /// The agent's GHL user id.
    pub user_id: String,
    /// A name to show (default: the GHL user's).
    pub name: Option<String>,
    /// Open leads the agent may hold (default: `default_capacity`).
    pub capacity: Option<u32>,
    /// first_time_buyers, luxury, commercial, investment, relocation, distressed,
    /// new_construction, senior_housing.
    pub specialties: Vec<String>,
    /// Working days: mon … sun (none: every day).
    pub days: Vec<String>,
    /// Working hours in `timezone`, from and to (none: all day).
    pub start_hour: Option<u8>,
    pub end_hour: Option<u8>,
    /// The agent's IANA zone (default: UTC).
    pub timezone: Option<String>,
    /// Out of routing (vacation, leave).
    pub paused: bool,
}

/// `[assist]`: the optional AI assist (drafted replies, preferences read from messages), off
/// by default. The local rules stay the default and the fallback.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AssistConfig {
    /// Ask the Anthropic Messages API. Off: drafts and preferences come from the local rules.
    pub enabled: bool,
    /// The API's address; tests point it at a local fake.
    pub base_url: String,
    /// The model asked.
    pub model: String,
    /// The environment variable holding the API key (never put the key in this file).
    pub api_key_env: String,
    /// Per-request timeout.
    pub timeout_secs: u64,
    /// The longest answer asked for, in tokens.
    pub max_tokens: u32,
    /// A draft goes to the approval queue; on, an approved-by-default draft goes when the
    /// gates open, without the agent. Leave off unless you review every draft another way.
    pub send_without_approval: bool,
    /// The SMS template whose rules (opt-out text, length) a drafted text is sent under.
    pub sms_template: String,
}

impl Default for AssistConfig {
    fn default() -> Self {
        AssistConfig {
            enabled: false,
            base_url: "https://api.anthropic.com".into(),
            model: "claude-sonnet-4-5".into(),
            api_key_env: "ANTHROPIC_API_KEY".into(),
            timeout_secs: 30,
            max_tokens: 400,
            send_without_approval: false,
            sms_template: "cadence_checkin".into(),
        }
    }
}

/// `[dashboard]`: how the terminal dashboard looks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DashboardConfig {
    /// `dark`, `light` or `high-contrast` (checked by the dashboard, which owns the themes);
    /// `leadline --theme` overrides it, and `NO_COLOR` turns colours off whatever it says.
    pub theme: String,
}

/// `[followups]`: the follow-up engine. See `docs/followups.md`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FollowupsConfig {
    /// Run the engine (planning, approval queue, sends).
    pub enabled: bool,
    /// When due actions are carried out: cron with seconds, in UTC.
    pub tick_cron: String,
    /// The zone of the agent's business hours and of leads Leadline cannot place (empty: the
    /// GHL location's).
    pub timezone: String,
    /// Business hours for steps that say `business_hours = true`: hour of day, from and to.
    pub business_start_hour: u8,
    pub business_end_hour: u8,
    /// The business days: mon, tue, wed, thu, fri, sat, sun.
    pub business_days: Vec<String>,
    /// The most automated sends per lead in `loop_window_hours`, and the least gap between two
    /// sends to a lead.
    pub loop_max_sends: u32,
    pub loop_window_hours: u32,
    pub loop_min_gap_minutes: u32,
    /// How long after a send attempt GHL is trusted to show the message (an absent one then
    /// never arrived and may go again).
    pub send_settle_secs: u64,
    /// How long a send's check may fail before it is shown to the agent as uncertain.
    pub send_give_up_secs: u64,
    /// The most automated texts to all leads in any minute (0: none at all).
    pub sms_per_minute: u32,
}

/// `[messages]`: who the texts and emails come from, and the rules every message keeps
/// (business-rules.md §1e for SMS, crm-landscape.md §4 for CAN-SPAM). See `docs/templates.md`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessagesConfig {
    /// The business as leads know it: named in the first message to a lead and in every email.
    pub business_name: String,
    /// `{{business_phone}}`.
    pub business_phone: String,
    /// The agent when a lead has no assigned user, or the user has no name.
    pub agent_name: String,
    /// The agent's phone when the assigned user has none.
    pub agent_phone: String,
    /// The agent's email when the assigned user has none.
    pub agent_email: String,
    /// The postal address at the foot of every email (CAN-SPAM). No email is rendered without it.
    pub postal_address: String,
    /// The longest text message, in characters as the lead sees them.
    pub sms_max_chars: usize,
    /// Opt-out language added to a text when it fits, and always to the first text to a lead.
    pub sms_optout_text: String,
    /// The opt-out line at the foot of every email (CAN-SPAM).
    pub email_unsubscribe_text: String,
}

/// `[webhooks]`: the optional signed-webhook receiver.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhooksConfig {
    pub enabled: bool,
    pub listen: String,
    pub public_key_file: String,
}

/// `[ghl]`: which location, and how to reach it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GhlConfig {
    pub base_url: String,
    pub location_id: String,
    pub token_file: String,
    pub timeout_secs: u64,
    /// How GHL's burst limit (100 requests per 10 s) is counted; see [`RateLimitModel`].
    pub rate_limit: RateLimitModel,
    /// GHL workflows by the names the agent types when enrolling leads (`[ghl.workflows]`,
    /// name = workflow id). An id works without a name.
    #[serde(default)]
    pub workflows: std::collections::BTreeMap<String, String>,
}

/// How the client reads GHL's "100 requests per 10 seconds" burst limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RateLimitModel {
    /// A bucket of 100 that refills at 10 a second: a burst, then a steady 10/s. A 429 from GHL
    /// switches the running daemon to `window` for good.
    Bucket,
    /// At most 100 in any 10 s, the strictest reading: a burst of 100 every 10 s.
    Window,
}

/// `[sync]`: how often to pull.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncConfig {
    pub interval_secs: u64,
    pub fast_poll_secs: u64,
    /// When contacts are listed whole to remove those deleted in GHL: a cron expression with
    /// seconds (`sec min hour day month weekday`), in UTC.
    pub reconcile_cron: String,
}

/// `[store]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// Memory (RSS) the store's page cache may take; sled is given half of it as its nominal
    /// capacity, which it overshoots about twofold.
    pub cache_capacity_mb: u64,
}

/// `[scoring]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoringConfig {
    pub hot_min_answered: u8,
    pub warm_min_answered: u8,
    /// The conversion model is trained only on at least this many closed deals (won, lost
    /// and abandoned); until then leads are scored by `rules-v1`.
    pub model_min_closed_deals: usize,
    /// ... and at least this many won deals, and this many lost or abandoned ones.
    pub model_min_per_class: usize,
    /// The newest share of the closed deals (by close time) held out to measure the model
    /// against `rules-v1`.
    pub model_holdout_share: f64,
    /// When the model is retrained (six-field cron, with seconds, UTC).
    pub model_retrain_cron: String,
    /// The composite priority that orders `hot` and `all`.
    #[serde(default)]
    pub priority: PriorityConfig,
}

/// `[scoring.priority]`: the value a lead's priority assumes when it has no open deal with a
/// value. See `docs/intel.md`, "Priority".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PriorityConfig {
    /// Dollars assumed for a buyer with no valued open deal.
    pub buyer_value: f64,
    /// Dollars assumed for a seller with no valued open deal.
    pub seller_value: f64,
    /// Dollars assumed for a lead of unknown type with no valued open deal.
    pub default_value: f64,
    /// The value that counts as half of the value part: v ÷ (v + this).
    pub reference_value: f64,
}

impl Default for PriorityConfig {
    fn default() -> Self {
        PriorityConfig {
            buyer_value: 350_000.0,
            seller_value: 400_000.0,
            default_value: 300_000.0,
            reference_value: 400_000.0,
        }
    }
}

/// `[queues]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueuesConfig {
    pub speed_to_lead_window_hours: u64,
    pub dormant_after_days: u64,
    /// The saved smart lists (`[[queues.lists]]`), after the built-in queues. A config file's
    /// lists come after the default ones (`call-today`); one named like a default replaces it.
    #[serde(default)]
    pub lists: Vec<crate::lists::SmartListConfig>,
}

/// `[analytics]`: what the figures need beyond the store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnalyticsConfig {
    /// The agent's share of a won deal's value (0.025 is 2.5 %).
    pub commission_rate: f64,
    /// Source (GHL's contact `source`) → cost of one lead from it. A source not named has no
    /// cost and no ROI.
    #[serde(default)]
    pub cost_per_lead: std::collections::BTreeMap<String, f64>,
}

/// `[logging]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoggingConfig {
    pub filter: String,
    pub keep_days: usize,
}

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}. Check the path given by --config or LEADLINE_CONFIG")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("config file {path} is not valid: {message}. Compare it with `config/default.toml`")]
    Invalid { path: PathBuf, message: String },
}

impl Default for Config {
    fn default() -> Self {
        // The embedded default is checked by a unit test, so this cannot fail in a release.
        #[allow(clippy::expect_used)]
        toml::from_str(DEFAULT_TOML).expect("embedded config/default.toml is valid")
    }
}

impl Config {
    /// Loads the defaults, overlaid with the file at `path` if it exists. A missing file
    /// at the default location is fine; a missing file the user named is an error.
    pub fn load(path: &Path, must_exist: bool) -> Result<Config, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !must_exist => {
                return Ok(Config::default());
            }
            Err(source) => {
                return Err(ConfigError::Read { path: path.to_owned(), source });
            }
        };
        Config::from_overlay(&text).map_err(|message| ConfigError::Invalid { path: path.to_owned(), message })
    }

    /// The defaults overlaid with a TOML document (tables merge key by key).
    pub fn from_overlay(text: &str) -> Result<Config, String> {
        let mut base: toml::Table = toml::from_str(DEFAULT_TOML).map_err(|e| e.to_string())?;
        let mut overlay: toml::Table = toml::from_str(text).map_err(|e| e.message().to_owned())?;
        merge_lists(&base, &mut overlay);
        merge(&mut base, overlay);
        let config = Config::deserialize(toml::Value::Table(base)).map_err(|e| e.message().to_owned())?;
        // The smart lists' conditions are strings to serde: read them now, so that a typo is
        // an error at start, pointed at its line, not an empty queue later.
        if let Err(e) = crate::lists::compile_all(&config.queues.lists) {
            let line = e.culprit().and_then(|c| crate::lists::line_of(text, c));
            return Err(match line {
                Some(line) => format!("line {line}: {e}"),
                None => e.to_string(),
            });
        }
        Ok(config)
    }

    /// The saved smart lists, read (the config was checked when loaded, so none fails here;
    /// one that does is left out).
    pub fn smart_lists(&self) -> Vec<crate::lists::SmartList> {
        self.queues.lists.iter().filter_map(|l| crate::lists::compile(l).ok()).collect()
    }
}

/// The file's `[[queues.lists]]` are added to the default lists rather than replacing them
/// (an array would): a list named like a default one replaces it, the others come after.
fn merge_lists(base: &toml::Table, overlay: &mut toml::Table) {
    let lists = |t: &toml::Table| -> Option<Vec<toml::Value>> {
        t.get("queues")?.as_table()?.get("lists")?.as_array().cloned()
    };
    let (Some(defaults), Some(mine)) = (lists(base), lists(overlay)) else { return };
    let name = |v: &toml::Value| v.get("name").and_then(|n| n.as_str()).map(str::to_owned);
    let mut merged: Vec<toml::Value> = defaults
        .into_iter()
        .filter(|d| !mine.iter().any(|m| name(m).is_some() && name(m) == name(d)))
        .collect();
    merged.extend(mine);
    if let Some(queues) = overlay.get_mut("queues").and_then(|q| q.as_table_mut()) {
        queues.insert("lists".into(), toml::Value::Array(merged));
    }
}

fn merge(base: &mut toml::Table, overlay: toml::Table) {
    for (key, value) in overlay {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_call_today_list_reads_and_a_typo_in_a_list_names_its_line() {
        let cfg = Config::default();
        let lists = cfg.smart_lists();
        assert_eq!(lists.iter().map(|l| l.name.as_str()).collect::<Vec<_>>(), ["call-today"]);
        let text = "[queues]\ndormant_after_days = 30\n\n[[queues.lists]]\nname = \"mine\"\nall = [\"scroe >= 70\"]\n";
        let err = Config::from_overlay(text).expect_err("typo");
        assert!(
            err.starts_with("line 6: smart list \"mine\", condition \"scroe >= 70\": unknown field"),
            "{err}"
        );
        let ok =
            Config::from_overlay("[[queues.lists]]\nname = \"mine\"\nall = [\"score >= 70\"]\n").expect("ok");
        let names: Vec<String> = ok.smart_lists().into_iter().map(|l| l.name).collect();
        assert_eq!(names, ["call-today", "mine"], "a file's lists come after the default ones");
        let replaced =
            Config::from_overlay("[[queues.lists]]\nname = \"call-today\"\nall = [\"hot\"]\n").expect("ok");
        assert_eq!(replaced.smart_lists().len(), 1, "a list named like a default one replaces it");
    }

    #[test]
    fn embedded_default_parses() {
        let c = Config::default();
        assert_eq!(c.ghl.base_url, "https://services.leadconnectorhq.com");
        assert_eq!(c.scoring.hot_min_answered, 3);
        assert_eq!(c.messages.sms_max_chars, 160);
        assert_eq!(c.messages.sms_optout_text, "Reply STOP to opt out");
        assert_eq!((c.analytics.commission_rate, c.analytics.cost_per_lead.len()), (0.025, 0));
        let costs = Config::from_overlay("[analytics.cost_per_lead]\nZillow = 35.0\n").expect("costs");
        assert_eq!(costs.analytics.cost_per_lead.get("Zillow"), Some(&35.0));
    }

    #[test]
    fn overlay_changes_only_what_it_names() {
        let c = Config::from_overlay("[sync]\ninterval_secs = 5\n").expect("valid overlay");
        assert_eq!(c.sync.interval_secs, 5);
        assert_eq!(c.sync.fast_poll_secs, Config::default().sync.fast_poll_secs);
    }

    #[test]
    fn unknown_keys_and_wrong_types_are_errors() {
        let err = Config::from_overlay("[sync]\nintervall_secs = 5\n").expect_err("typo rejected");
        assert!(err.contains("intervall_secs"), "{err}");
        assert!(Config::from_overlay("[sync]\ninterval_secs = \"soon\"\n").is_err());
        assert!(Config::from_overlay("not toml at all [").is_err());
    }

    #[test]
    fn named_file_must_exist() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = dir.path().join("nope.toml");
        assert!(Config::load(&missing, false).is_ok());
        let err = Config::load(&missing, true).expect_err("named file missing");
        assert!(err.to_string().contains("nope.toml"));
    }
}
