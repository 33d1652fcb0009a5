//! The follow-up engine's IO edge: it holds the loaded workflows, templates and compliance
//! rules, walks the due actions over the store and carries them out (a rendered send queued
//! in the op log, an op for GHL, an alert), and simulates a plan on a virtual clock.
//!
//! The rules themselves are pure and live in [`crate::engine::followup`]; this module only
//! binds them to the store, the clock and the op log. Sending is the sync task's
//! ([`crate::sync::send`]): every action reaches GHL through the op log, like the dashboard's
//! edits.

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

/// What a message is rendered from: the lead, its agent and the business.
pub struct MergeInputs<'a> {
    pub contact: &'a Contact,
    pub row: &'a LeadSummary,
    /// The assigned user's name, phone and email, when known.
    pub agent: Option<(String, Option<String>, Option<String>)>,
    /// The location's custom field definitions (short key by id).
    pub custom_keys: &'a [(String, String)],
}

/// Renders templates and merge fields (the template rules).
pub trait Renderer: Send + Sync {
    /// Renders template `id` for a lead; `first_touch` when nobody has written to the lead
    /// yet (the message must name the agent and the business). An error says why it cannot
    /// be sent (a missing field, an unknown template).
    fn render(&self, id: &str, inputs: &MergeInputs<'_>, first_touch: bool) -> Result<Rendered, String>;
    /// Fills the merge fields of a free text (a task title, a notification).
    fn merge(&self, text: &str, inputs: &MergeInputs<'_>) -> String;
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

    /// Tells the agent, best effort.
    pub fn alert(&self, alerts: &[Alert]) {
        for a in alerts {
            self.notifier.notify(a);
        }
    }
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
