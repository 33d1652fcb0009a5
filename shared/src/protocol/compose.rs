//! Compose: what the dashboard (and `leadline send`) needs to write to one lead by hand, as
//! `Request::Compose` answers it. The message itself goes as an edit
//! (`OpKind::SendMessage`), through the op log and the same gates as every send; this is the
//! look before it: the lead's templates rendered for them, and what the gates would say now.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::domain::Hold;

/// Everything to write one lead by hand, as the daemon sees it now.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ComposeInfo {
    pub contact_id: String,
    pub lead_name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// The lead's IANA zone, as the quiet-hours rules place the lead (the contact's zone,
    /// else its state's, else its phone's area code's, else the location's).
    pub timezone: Option<String>,
    /// The daemon's clock when it answered.
    pub now: Option<Timestamp>,
    /// The lead's wall-clock time then ("21:40"), when the zone is known.
    pub local_time: Option<String>,
    /// What the gates say of a message sent now, per channel (`sms`, `email`).
    pub channels: Vec<ChannelCheck>,
    /// The templates, rendered for this lead (both channels).
    pub templates: Vec<TemplateChoice>,
    /// Nobody has written to the lead yet: a first text must name the agent and the business
    /// and carry the opt-out text (the templates do both).
    pub first_touch: bool,
    /// `[messages] sms_max_chars`: the length the templates keep a text to.
    pub sms_max_chars: u32,
    /// `[messages] sms_optout_text`, for a first text typed by hand.
    pub sms_optout_text: String,
}

impl ComposeInfo {
    /// The check of one channel (`sms` or `email`).
    pub fn channel(&self, channel: &str) -> Option<&ChannelCheck> {
        self.channels.iter().find(|c| c.channel == channel)
    }

    /// The templates of one channel, in the daemon's order.
    pub fn templates_for<'a>(&'a self, channel: &'a str) -> impl Iterator<Item = &'a TemplateChoice> + 'a {
        self.templates.iter().filter(move |t| t.channel == channel)
    }
}

/// What the gates say of a message on one channel, sent now.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ChannelCheck {
    /// `sms` or `email`.
    pub channel: String,
    /// Why it may not be sent at all (DND in GHL, an opt-out, no phone or address): the
    /// dashboard refuses the send key with this, and so does the daemon.
    pub blocked: Option<String>,
    /// Sent now, it would wait (quiet hours in the lead's zone, a state's cap): until when,
    /// and the sentence to show ("It is 21:40 for this lead (America/Chicago): quiet hours;
    /// the text will wait until 08:00").
    pub hold: Option<Hold>,
}

/// A template rendered for the lead.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TemplateChoice {
    pub id: String,
    /// `sms` or `email`.
    pub channel: String,
    pub description: Option<String>,
    /// Emails only.
    pub subject: Option<String>,
    /// The text with the lead's fields filled and the channel's rules applied; `None` when it
    /// cannot be rendered for this lead (see `error`).
    pub body: Option<String>,
    /// Why it cannot be rendered for this lead (a field the lead lacks, a setting to fill).
    pub error: Option<String>,
}
