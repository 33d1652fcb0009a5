//! The GHL objects the simulator stores, with GHL's own JSON field names.
//!
//! Each struct serialises to exactly the shape GHL returns for it (field names from the official
//! OpenAPI files in `shared/ghl-openapi/apps/`). Optional fields that GHL leaves out when empty
//! are skipped when `None`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One channel's do-not-disturb setting (`DndSettingSchema`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DndSetting {
    /// `active`, `inactive` or `permanent`.
    pub status: String,
    /// Free text, e.g. why DND was set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// A code, e.g. a carrier's `21610` for an inbound STOP. The spec types it as a string;
    /// real payloads carry numbers too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<Value>,
}

impl DndSetting {
    /// Whether this setting blocks sending (`active` or `permanent`).
    pub fn blocks(&self) -> bool {
        self.status == "active" || self.status == "permanent"
    }
}

/// A contact custom field value in the read shape `{id, value}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomFieldValue {
    /// The custom field definition id.
    pub id: String,
    /// The value (string, number or array, by data type).
    pub value: Value,
}

/// A contact, as `GET /contacts/{contactId}` returns it under `contact` (`GetContectByIdSchema`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Contact {
    pub id: String,
    pub location_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name_lower_case: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name_lower_case: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_name_lower_case: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_lower_case: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_name: Option<String>,
    #[serde(default)]
    pub dnd: bool,
    #[serde(default)]
    pub dnd_settings: BTreeMap<String, DndSetting>,
    /// `lead` or `customer`.
    #[serde(rename = "type", default = "default_contact_type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assigned_to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address1: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_of_birth: Option<String>,
    pub date_added: String,
    pub date_updated: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_activity: Option<String>,
    #[serde(default)]
    pub custom_fields: Vec<CustomFieldValue>,
    #[serde(default)]
    pub additional_emails: Vec<Value>,
    #[serde(default)]
    pub attachments: Vec<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribution_source: Option<Value>,
}

fn default_contact_type() -> String {
    "lead".to_string()
}

impl Contact {
    /// Whether sending on `channel` (`SMS`, `Email`, `Call`, `WhatsApp`, ...) is blocked by DND.
    pub fn dnd_blocks(&self, channel: &str) -> bool {
        self.dnd || self.dnd_settings.get(channel).is_some_and(DndSetting::blocks)
    }

    /// The display name GHL shows.
    pub fn display_name(&self) -> String {
        if let Some(n) = &self.name {
            return n.clone();
        }
        let parts: Vec<&str> =
            [self.first_name.as_deref(), self.last_name.as_deref()].into_iter().flatten().collect();
        parts.join(" ")
    }

    /// Recomputes the derived lower-case fields after a name or email change.
    pub fn refresh_derived(&mut self) {
        self.first_name_lower_case = self.first_name.as_ref().map(|s| s.to_lowercase());
        self.last_name_lower_case = self.last_name.as_ref().map(|s| s.to_lowercase());
        let parts: Vec<&str> = [self.first_name.as_deref(), self.last_name.as_deref()]
            .into_iter()
            .flatten()
            .filter(|s| !s.is_empty())
            .collect();
        if !parts.is_empty() {
            self.name = Some(parts.join(" "));
        }
        self.full_name_lower_case = self.name.as_ref().filter(|n| !n.is_empty()).map(|n| n.to_lowercase());
        self.email_lower_case = self.email.as_ref().map(|s| s.to_lowercase());
    }
}

/// An opportunity's custom field value (`{id, fieldValue}`, unlike contacts).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OpportunityCustomField {
    pub id: String,
    pub field_value: Value,
}

/// The contact summary embedded in an opportunity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OpportunityContact {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
}

impl Opportunity {
    /// A deal of `contact` as GHL stores a new one: the contact's summary, source, owner and
    /// location, the timestamps (`updated` also as last status, stage and action change), and
    /// nothing attached yet. The caller fills in id, name, value, pipeline, stage and status.
    pub fn of_contact(contact: &Contact, created: String, updated: String) -> Opportunity {
        Opportunity {
            id: String::new(),
            name: String::new(),
            monetary_value: 0.0,
            pipeline_id: String::new(),
            pipeline_stage_id: String::new(),
            assigned_to: contact.assigned_to.clone(),
            status: "open".into(),
            source: contact.source.clone(),
            last_status_change_at: Some(updated.clone()),
            last_stage_change_at: Some(updated.clone()),
            last_action_date: Some(updated.clone()),
            index_version: Some(1),
            created_at: created,
            updated_at: updated,
            contact_id: contact.id.clone(),
            location_id: contact.location_id.clone(),
            contact: Some(OpportunityContact::of(contact)),
            notes: Vec::new(),
            tasks: Vec::new(),
            calendar_events: Vec::new(),
            lost_reason_id: None,
            custom_fields: Vec::new(),
            followers: Vec::new(),
        }
    }
}

impl OpportunityContact {
    /// The summary of `c` as GHL embeds it.
    pub fn of(c: &Contact) -> Self {
        Self {
            id: c.id.clone(),
            name: Some(c.display_name()),
            company_name: c.company_name.clone(),
            email: c.email.clone(),
            phone: c.phone.clone(),
            tags: c.tags.clone(),
        }
    }
}

/// An opportunity (`SearchOpportunitiesResponseSchema`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Opportunity {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub monetary_value: f64,
    pub pipeline_id: String,
    pub pipeline_stage_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assigned_to: Option<String>,
    /// `open`, `won`, `lost` or `abandoned`.
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_status_change_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_stage_change_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_action_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index_version: Option<i64>,
    pub created_at: String,
    pub updated_at: String,
    pub contact_id: String,
    pub location_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<OpportunityContact>,
    #[serde(default)]
    pub notes: Vec<Value>,
    #[serde(default)]
    pub tasks: Vec<Value>,
    #[serde(default)]
    pub calendar_events: Vec<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lost_reason_id: Option<String>,
    #[serde(default)]
    pub custom_fields: Vec<OpportunityCustomField>,
    #[serde(default)]
    pub followers: Vec<String>,
}

/// Call details on a call message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageMeta {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_duration: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<Value>,
}

/// A message (`GetMessageResponseDto`), as the export and the conversation message list return it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    pub id: String,
    /// Numeric type: 1 call, 2 SMS, 3 email.
    #[serde(rename = "type")]
    pub type_code: u32,
    /// `TYPE_SMS`, `TYPE_EMAIL`, `TYPE_CALL`, ...
    pub message_type: String,
    pub location_id: String,
    pub contact_id: String,
    pub conversation_id: String,
    pub date_added: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// `inbound` or `outbound`.
    pub direction: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    pub content_type: String,
    #[serde(default)]
    pub attachments: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<MessageMeta>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// Email only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
}

impl Message {
    /// The export `channel` this message belongs to (`SMS`, `Email`, `Call`, ...).
    pub fn channel(&self) -> &'static str {
        match self.message_type.as_str() {
            "TYPE_SMS" | "TYPE_CUSTOM_SMS" | "TYPE_CUSTOM_PROVIDER_SMS" => "SMS",
            "TYPE_EMAIL" | "TYPE_CUSTOM_EMAIL" | "TYPE_CUSTOM_PROVIDER_EMAIL" => "Email",
            "TYPE_CALL" | "TYPE_IVR_CALL" | "TYPE_CUSTOM_CALL" => "Call",
            "TYPE_WHATSAPP" => "WhatsApp",
            "TYPE_INSTAGRAM" => "Instagram",
            "TYPE_FACEBOOK" => "Facebook",
            _ => "Other",
        }
    }
}

/// A conversation, in the `GET /conversations/search` item shape plus the fields real responses add.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Conversation {
    pub id: String,
    pub contact_id: String,
    pub location_id: String,
    #[serde(default)]
    pub last_message_body: String,
    #[serde(default)]
    pub last_message_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_message_direction: Option<String>,
    /// Epoch milliseconds of the last message (also the search sort value).
    #[serde(default)]
    pub last_message_date: i64,
    /// `TYPE_PHONE`, `TYPE_EMAIL`, ...
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub unread_count: u32,
    #[serde(default)]
    pub full_name: String,
    #[serde(default)]
    pub contact_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Epoch milliseconds.
    #[serde(default)]
    pub date_added: i64,
    /// Epoch milliseconds.
    #[serde(default)]
    pub date_updated: i64,
    #[serde(default)]
    pub inbox: bool,
    #[serde(default)]
    pub starred: bool,
    #[serde(default)]
    pub deleted: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assigned_to: Option<String>,
}

/// A contact note (`GetNoteSchema`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Note {
    pub id: String,
    pub body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    pub date_added: String,
    pub contact_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    #[serde(default)]
    pub pinned: bool,
}

/// A contact task (`TaskSchema`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Task {
    pub id: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assigned_to: Option<String>,
    pub due_date: String,
    #[serde(default)]
    pub completed: bool,
    pub contact_id: String,
}

/// A pipeline stage (the stage item is untyped in the spec; this is what GHL returns).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PipelineStage {
    pub id: String,
    pub name: String,
    pub position: u32,
    #[serde(default)]
    pub show_in_funnel: bool,
    #[serde(default)]
    pub show_in_pie_chart: bool,
}

/// A pipeline (`PipelinesResponseSchema`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Pipeline {
    pub id: String,
    pub name: String,
    pub stages: Vec<PipelineStage>,
    #[serde(default)]
    pub show_in_funnel: bool,
    #[serde(default)]
    pub show_in_pie_chart: bool,
    pub location_id: String,
}

/// A location tag (`LocationTagsSchema`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tag {
    pub id: String,
    pub name: String,
    pub location_id: String,
}

/// A custom field definition (`CustomFieldSchema`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomFieldDef {
    pub id: String,
    pub name: String,
    pub field_key: String,
    #[serde(default)]
    pub placeholder: String,
    pub data_type: String,
    pub position: u32,
    #[serde(default)]
    pub picklist_options: Vec<String>,
    pub location_id: String,
    /// `contact` or `opportunity`.
    pub model: String,
}

/// A user's role (`RoleSchema`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserRole {
    #[serde(rename = "type")]
    pub kind: String,
    pub role: String,
    pub location_ids: Vec<String>,
    pub restrict_sub_account: bool,
}

/// A user (`UserSchema`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: String,
    pub name: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub phone: String,
    #[serde(default)]
    pub extension: String,
    pub roles: UserRole,
    #[serde(default)]
    pub deleted: bool,
    #[serde(default)]
    pub platform_language: String,
}

/// The location (sub-account) (`GetLocationByIdSchema`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Location {
    pub id: String,
    pub company_id: String,
    pub name: String,
    #[serde(default)]
    pub domain: String,
    pub address: String,
    pub city: String,
    pub state: String,
    pub country: String,
    pub postal_code: String,
    #[serde(default)]
    pub website: String,
    pub timezone: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub phone: String,
    #[serde(default)]
    pub business: Value,
    #[serde(default)]
    pub settings: Value,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dnd_blocks_by_channel() {
        let mut c: Contact = serde_json::from_value(serde_json::json!({
            "id": "c1", "locationId": "L", "dateAdded": "2024-01-01T00:00:00.000Z",
            "dateUpdated": "2024-01-01T00:00:00.000Z"
        }))
        .expect("minimal contact parses");
        assert!(!c.dnd_blocks("SMS"));
        c.dnd_settings
            .insert("SMS".into(), DndSetting { status: "active".into(), message: None, code: None });
        assert!(c.dnd_blocks("SMS"));
        assert!(!c.dnd_blocks("Email"));
        c.dnd = true;
        assert!(c.dnd_blocks("Email"));
        assert_eq!(c.kind, "lead");
    }
}
