//! The engine's rules bound to the loaded tables: the compliance rules behind the planner's
//! and the runner's traits, the templates behind the renderer, and the loading of it all at
//! start, where a broken workflow, template or table refuses to start with its file and line.

use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};

use jiff::civil::Weekday;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use leadline_shared::config::{Config, FollowupsConfig};
use leadline_shared::domain::Contact;

use super::{Engine, MergeInputs, Notifier, Rendered, Renderer};
use crate::engine::compliance::{
    self, Channel, ChannelLimiter, GateContext, LoopLock, OptWords, PlannedSend, RecentSend, Rules, Tables,
    Verdict,
};
use crate::engine::followup::decide::{Gates, Sent};
use crate::engine::followup::plan::{OptOuts, TimeRules};
use crate::engine::followup::workflow::{self, TemplateCatalog, Workflows};
use crate::engine::templates::{self, MergeContext, MessageRules, TemplateSet};

/// Why the engine could not be set up: what to fix, where.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("a workflow is invalid: {0}")]
    Workflow(#[from] workflow::WorkflowError),
    #[error("a message template is invalid: {0}")]
    Template(#[from] templates::TemplateError),
    #[error("the compliance tables built into Leadline are broken (a bug): {0}")]
    Tables(#[from] compliance::TableError),
    #[error("[followups] {0}")]
    Config(String),
}

fn channel(name: &str) -> Channel {
    if name.eq_ignore_ascii_case("email") { Channel::Email } else { Channel::Sms }
}

/// The compliance rules over the embedded tables.
pub struct Compliance {
    tables: &'static Tables,
    rules: &'static Rules,
    words: &'static OptWords,
    lock: LoopLock,
    limiter: Mutex<ChannelLimiter>,
    /// The zone for leads nothing places, and for business hours.
    zone: RwLock<String>,
    business: (u8, u8, Vec<Weekday>),
}

impl Compliance {
    /// The rules with the config's loop lock and business hours; `zone` until the location's
    /// own is known.
    pub fn new(cfg: &FollowupsConfig, zone: &str) -> Result<Compliance, SetupError> {
        let (tables, rules, words) = compliance::embedded_tables()?;
        let lock = LoopLock {
            max_sends: cfg.loop_max_sends,
            window_hours: cfg.loop_window_hours,
            min_gap_minutes: cfg.loop_min_gap_minutes,
        };
        lock.validate().map_err(SetupError::Config)?;
        if cfg.business_start_hour >= cfg.business_end_hour || cfg.business_end_hour > 24 {
            return Err(SetupError::Config(format!(
                "business_start_hour = {} and business_end_hour = {}: the day's hours run from start to end, 0 to 24",
                cfg.business_start_hour, cfg.business_end_hour
            )));
        }
        let days = cfg
            .business_days
            .iter()
            .map(|d| match d.to_ascii_lowercase().as_str() {
                "mon" => Ok(Weekday::Monday),
                "tue" => Ok(Weekday::Tuesday),
                "wed" => Ok(Weekday::Wednesday),
                "thu" => Ok(Weekday::Thursday),
                "fri" => Ok(Weekday::Friday),
                "sat" => Ok(Weekday::Saturday),
                "sun" => Ok(Weekday::Sunday),
                other => Err(SetupError::Config(format!(
                    "business_days: {other:?} is not a day; use mon, tue, wed, thu, fri, sat, sun"
                ))),
            })
            .collect::<Result<Vec<_>, _>>()?;
        if days.is_empty() {
            return Err(SetupError::Config("business_days is empty: name at least one day".into()));
        }
        let zone =
            if cfg.timezone.trim().is_empty() { zone.to_owned() } else { cfg.timezone.trim().to_owned() };
        TimeZone::get(&zone).map_err(|e| {
            SetupError::Config(format!(
                "timezone {zone:?} is not a zone ({e}); use an IANA name like America/Chicago"
            ))
        })?;
        Ok(Compliance {
            tables,
            rules,
            words,
            lock,
            limiter: Mutex::new(ChannelLimiter::sms_per_minute(cfg.sms_per_minute)),
            zone: RwLock::new(zone),
            business: (cfg.business_start_hour, cfg.business_end_hour, days),
        })
    }

    /// The location's zone, learnt from GHL (unless the config names one).
    pub fn set_location_zone(&self, zone: &str, configured: bool) {
        if !configured && TimeZone::get(zone).is_ok() {
            *self.zone.write().unwrap_or_else(|e| e.into_inner()) = zone.to_owned();
        }
    }

    fn zone(&self) -> String {
        self.zone.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl TimeRules for Compliance {
    fn send_time(
        &self,
        contact: &Contact,
        channel_name: &str,
        due: Timestamp,
    ) -> (Timestamp, Option<String>) {
        let who = compliance::locate(contact, &self.zone(), self.tables);
        let zone = who.zone_names().into_iter().next();
        if !channel(channel_name).is_telephone() {
            return (due, zone);
        }
        // A recipient whose zones never share an open hour is skipped when due, with the
        // reason; planning keeps the due time.
        let at = compliance::next_allowed(due, &who, self.rules);
        if at == Timestamp::MAX { (due, zone) } else { (at, zone) }
    }

    fn business_time(&self, due: Timestamp) -> Timestamp {
        let zone = TimeZone::get(&self.zone()).unwrap_or(TimeZone::UTC);
        let (start, end, days) = &self.business;
        compliance::next_in_hours(due, &zone, *start, *end, days).unwrap_or(due)
    }
}

impl OptOuts for Compliance {
    fn opt_out(&self, text: &str) -> Option<String> {
        self.words.opt_out(text).map(|o| o.phrase)
    }
}

impl Gates for Compliance {
    fn check(
        &self,
        contact: &Contact,
        channel_name: &str,
        automated: bool,
        recent: &[Sent],
        now: Timestamp,
    ) -> Result<(), (Option<Timestamp>, String)> {
        let who = compliance::locate(contact, &self.zone(), self.tables);
        let recent: Vec<RecentSend> = recent
            .iter()
            .map(|s| RecentSend { at: s.at, channel: channel(&s.channel), automated: s.automated })
            .collect();
        let limiter = self.limiter.lock().unwrap_or_else(|e| e.into_inner());
        let ctx = GateContext {
            contact,
            whereabouts: &who,
            recent_sends: &recent,
            opted_out: None,
            lock: &self.lock,
            limiter: Some(&limiter),
        };
        match compliance::check(
            &PlannedSend { channel: channel(channel_name), at: now, automated },
            &ctx,
            self.rules,
        ) {
            Verdict::Send => Ok(()),
            Verdict::Defer { until, reason } => Err((Some(until), reason.to_string())),
            Verdict::Skip { reason } => Err((None, reason.to_string())),
        }
    }

    fn sent(&self, channel_name: &str, at: Timestamp) {
        let _ = self.limiter.lock().unwrap_or_else(|e| e.into_inner()).try_take(channel(channel_name), at);
    }
}

/// The templates and the message rules.
pub struct Templates {
    pub set: TemplateSet,
    pub rules: MessageRules,
}

impl TemplateCatalog for TemplateSet {
    fn channel_of(&self, id: &str) -> Option<&'static str> {
        self.get(id).map(|t| t.channel.as_str())
    }
}

impl Templates {
    fn context(inputs: &MergeInputs<'_>) -> MergeContext {
        MergeContext::from_contact(inputs.contact, inputs.defs, inputs.agent)
    }
}

impl Renderer for Templates {
    fn render(&self, id: &str, inputs: &MergeInputs<'_>, first_touch: bool) -> Result<Rendered, String> {
        self.set
            .render(id, &Templates::context(inputs), &self.rules, first_touch)
            .map(|r| Rendered { body: r.body, subject: r.subject, version: r.version })
            .map_err(|e| e.to_string())
    }

    fn render_edited(
        &self,
        id: &str,
        body: &str,
        inputs: &MergeInputs<'_>,
        first_touch: bool,
    ) -> Result<Rendered, String> {
        self.set
            .render_edited(id, body, &Templates::context(inputs), &self.rules, first_touch)
            .map(|r| Rendered { body: r.body, subject: r.subject, version: r.version })
            .map_err(|e| e.to_string())
    }

    fn merge(&self, text: &str, inputs: &MergeInputs<'_>) -> String {
        templates::merge_text(text, &Templates::context(inputs), &self.rules)
    }

    fn templates(&self) -> Vec<templates::TemplateInfo> {
        self.set.list()
    }
}

/// The user's directory `name` beside the config file, if there is one.
fn beside(config_file: &Path, name: &str) -> Option<std::path::PathBuf> {
    config_file.parent().map(|d| d.join(name)).filter(|d| d.is_dir())
}

/// Loads templates, workflows and the compliance tables, and builds the engine. Refuses a
/// broken file with its name, line and reason. `location_zone` is the GHL location's zone when
/// known (it is learnt again at every sync).
pub fn build(
    config: &Config,
    config_file: &Path,
    location_zone: Option<&str>,
    notifier: Arc<dyn Notifier>,
) -> Result<(Engine, Arc<Compliance>), SetupError> {
    let rules = MessageRules::from_config(&config.messages);
    let set = templates::load(templates::DEFAULTS, beside(config_file, "templates").as_deref(), &rules)?;
    let workflows = Workflows::load(workflow::DEFAULTS, beside(config_file, "workflows").as_deref(), &set)?;
    let compliance =
        Arc::new(Compliance::new(&config.followups, location_zone.unwrap_or("America/New_York"))?);
    let cfg = &config.followups;
    let engine = Engine {
        workflows: Arc::new(workflows),
        time: compliance.clone(),
        opt_outs: compliance.clone(),
        gates: compliance.clone(),
        renderer: Arc::new(Templates { set, rules }),
        notifier,
        settle: SignedDuration::from_secs(cfg.send_settle_secs.clamp(1, 3_600) as i64),
        give_up: SignedDuration::from_secs(cfg.send_give_up_secs.clamp(60, 7 * 86_400) as i64),
        told_speed_to_lead: Default::default(),
        compliance: Some(compliance.clone()),
        zone_configured: !cfg.timezone.trim().is_empty(),
    };
    Ok((engine, compliance))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_engine_loads() {
        let config = Config::default();
        let (engine, _) = build(
            &config,
            Path::new("/nonexistent/config.toml"),
            Some("America/Chicago"),
            Arc::new(super::super::LogNotifier),
        )
        .expect("the shipped workflows, templates and tables load");
        assert!(engine.workflows.get("instant_response").is_some());
    }

    #[test]
    fn a_broken_user_workflow_refuses_to_start_naming_its_file_and_line() {
        let dir = tempfile::tempdir().expect("dir");
        std::fs::create_dir(dir.path().join("workflows")).expect("dir");
        std::fs::write(dir.path().join("workflows/mine.toml"), "id = \"x\"\n[trigger]\non = \"new_lead\"\n[[step]]\nafter = \"1h\"\nsend_sms = \"no_such_template\"\n")
            .expect("write");
        let err = build(
            &Config::default(),
            &dir.path().join("config.toml"),
            None,
            Arc::new(super::super::LogNotifier),
        )
        .err()
        .expect("refused")
        .to_string();
        assert!(err.contains("mine.toml:6:") && err.contains("no template \"no_such_template\""), "{err}");
    }

    #[test]
    fn quiet_hours_hold_a_text_until_morning_in_the_leads_zone() {
        let c = Compliance::new(&Config::default().followups, "America/Chicago").expect("rules");
        let lead = Contact {
            id: "c".into(),
            phone: Some("+13035550100".into()),
            timezone: Some("America/Denver".into()),
            ..Default::default()
        };
        // 23:30 in Denver.
        let late: Timestamp = "2026-03-04T06:30:00Z".parse().expect("ts");
        let (at, zone) = c.send_time(&lead, "sms", late);
        assert_eq!(zone.as_deref(), Some("America/Denver"));
        assert_eq!(at.to_zoned(TimeZone::get("America/Denver").expect("tz")).hour(), 8);
        assert!(c.check(&lead, "sms", true, &[], late).is_err());
        assert!(c.check(&lead, "sms", true, &[], at).is_ok());
        // The agent's own text waits for the morning too: the law's gates hold every send.
        assert!(c.check(&lead, "sms", false, &[], late).is_err());
        // The loop lock's gap after a text holds the engine, not the agent.
        let just_now =
            [Sent { at: at - SignedDuration::from_mins(5), channel: "sms".into(), automated: false }];
        assert!(c.check(&lead, "sms", true, &just_now, at).is_err());
        assert!(c.check(&lead, "sms", false, &just_now, at).is_ok());
    }
}
