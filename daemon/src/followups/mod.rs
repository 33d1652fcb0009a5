//! The follow-up engine's IO edge: it holds the loaded workflows, templates and compliance
//! rules, walks the due actions over the store and carries them out (a rendered send queued
//! in the op log, an op for GHL, an alert), and simulates a plan on a virtual clock.
//!
//! The rules themselves are pure and live in [`crate::engine::followup`]; this module only
//! binds them to the store, the clock and the op log. Sending is the sync task's
//! ([`crate::sync::send`]): every action reaches GHL through the op log, like the dashboard's
//! edits.

pub mod adapters;
pub mod alerts;
pub mod run;

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use leadline_shared::domain::{Contact, LeadSummary};

use crate::engine::followup::decide::Gates;
use crate::engine::followup::plan::{Alert, OptOuts, TimeRules};
use crate::engine::followup::workflow::Workflows;
use crate::ingest::Planning;

/// A send rendered from a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub body: String,
    pub subject: Option<String>,
    pub version: u32,
}

/// What a message is rendered from: the lead, its agent and the location's custom fields
/// (the business is in the message rules).
pub struct MergeInputs<'a> {
    pub contact: &'a Contact,
    pub row: &'a LeadSummary,
    pub defs: &'a [leadline_shared::domain::CustomFieldDef],
    /// The assigned user, when known.
    pub agent: Option<&'a leadline_shared::domain::User>,
}

/// Renders templates and merge fields (the template rules).
pub trait Renderer: Send + Sync {
    /// Renders template `id` for a lead; `first_touch` when nobody has written to the lead
    /// yet (the message must name the agent and the business). An error says why it cannot
    /// be sent (a missing field, an unknown template).
    fn render(&self, id: &str, inputs: &MergeInputs<'_>, first_touch: bool) -> Result<Rendered, String>;
    /// Renders the agent's edit of template `id`'s body under the template's rules.
    fn render_edited(
        &self,
        id: &str,
        body: &str,
        inputs: &MergeInputs<'_>,
        first_touch: bool,
    ) -> Result<Rendered, String>;
    /// Fills the merge fields of a free text (a task title, a notification).
    fn merge(&self, text: &str, inputs: &MergeInputs<'_>) -> String;
    /// Every template, by id: what Compose offers the agent.
    fn templates(&self) -> Vec<crate::engine::templates::TemplateInfo> {
        Vec::new()
    }
}

/// Desktop alerts; best effort, never fatal.
pub trait Notifier: Send + Sync {
    fn notify(&self, alert: &Alert);
}

/// A notifier that only logs (headless machines, tests).
pub struct LogNotifier;

impl Notifier for LogNotifier {
    fn notify(&self, alert: &Alert) {
        tracing::info!(?alert, "alert");
    }
}

/// The loaded engine: workflows, the rules it leans on, and its settings.
pub struct Engine {
    pub workflows: Arc<Workflows>,
    pub time: Arc<dyn TimeRules + Send + Sync>,
    pub opt_outs: Arc<dyn OptOuts + Send + Sync>,
    pub gates: Arc<dyn Gates + Send + Sync>,
    pub renderer: Arc<dyn Renderer>,
    pub notifier: Arc<dyn Notifier>,
    /// How long after a send attempt GHL is trusted to show the message.
    pub settle: SignedDuration,
    /// How long a send's verification may fail before it is shown as uncertain.
    pub give_up: SignedDuration,
    /// New leads the agent was told are waiting (once per lead while the daemon runs).
    pub told_speed_to_lead: std::sync::Mutex<std::collections::HashSet<String>>,
    /// The compliance rules, to tell them the location's zone when sync learns it.
    pub compliance: Option<Arc<adapters::Compliance>>,
    /// The config names a zone, which wins over the location's.
    pub zone_configured: bool,
}

impl Engine {
    /// What ingest needs to plan as leads change.
    pub fn planning(&self) -> Planning {
        Planning {
            workflows: self.workflows.clone(),
            time: self.time.clone(),
            opt_outs: self.opt_outs.clone(),
        }
    }

    /// The GHL location's zone, learnt by sync: the zone of leads nothing else places.
    pub fn learn_location_zone(&self, zone: &str) {
        if let Some(c) = &self.compliance {
            c.set_location_zone(zone, self.zone_configured);
        }
    }

    /// Tells the agent, best effort.
    pub fn alert(&self, alerts: &[Alert]) {
        for a in alerts {
            self.notifier.notify(a);
        }
    }
}

/// What was sent to the lead lately: the engine's sends (its record) and the team's outbound
/// messages from the store, a week back (the state caps count every text, the gap the agent's
/// too). A message the engine sent is counted once.
pub fn recent_sends(
    record: Option<&leadline_shared::domain::FollowUps>,
    messages: &[leadline_shared::domain::Message],
    now: Timestamp,
) -> Vec<crate::engine::followup::decide::Sent> {
    use leadline_shared::domain::Direction;
    let week = now - SignedDuration::from_hours(24 * 7);
    let mut out = record.map(crate::engine::followup::decide::engine_sends).unwrap_or_default();
    let ours: std::collections::HashSet<&str> =
        record.map(|r| r.items.iter().filter_map(|i| i.message_id.as_deref()).collect()).unwrap_or_default();
    for m in messages {
        if m.direction == Direction::Outbound
            && m.is_conversational()
            && !ours.contains(m.id.as_str())
            && m.date_added.is_some_and(|t| t >= week)
            && let Some(at) = m.date_added
        {
            out.push(crate::engine::followup::decide::Sent {
                at,
                channel: m.channel().to_owned(),
                automated: false,
            });
        }
    }
    out.sort_by_key(|s| s.at);
    out
}

/// The verdict on a message the agent types to a lead now ([`crate::engine::compose::check`]
/// with the engine's gates, the lead's standing opt-out and what was sent to it lately), and
/// the lead's zone as the quiet-hours rules place it. One function for Compose, the edit that
/// queues the message and the sender, so the three never disagree.
pub fn typed_send(
    engine: Option<&Engine>,
    contact: &Contact,
    record: Option<&leadline_shared::domain::FollowUps>,
    messages: &[leadline_shared::domain::Message],
    channel: &str,
    now: Timestamp,
) -> (crate::engine::compose::Verdict, Option<String>) {
    let recent = recent_sends(record, messages, now);
    let opted_out = record.and_then(|r| r.opted_out.as_ref());
    let gates = engine.map(|e| e.gates.as_ref() as &dyn crate::engine::followup::decide::Gates);
    let verdict = crate::engine::compose::check(contact, opted_out, channel, gates, &recent, now);
    let zone =
        engine.and_then(|e| e.time.send_time(contact, "sms", now).1).or_else(|| contact.timezone.clone());
    (verdict, zone)
}

/// The instant the engine went live for this location, set once (at the first full sync):
/// what happened before it is history, not a reason to write to anyone.
pub fn go_live(db: &crate::store::Db, now: Timestamp) -> Result<Timestamp, crate::store::StoreError> {
    if let Some(t) = db.meta::<Timestamp>(crate::ingest::META_LIVE_SINCE)? {
        return Ok(t);
    }
    let value = serde_json::to_value(now).map_err(|e| crate::store::StoreError::Backend(e.to_string()))?;
    db.commit(
        crate::store::Batch::new()
            .put(crate::store::Put::Meta { key: crate::ingest::META_LIVE_SINCE.into(), value }),
    )?;
    Ok(now)
}
