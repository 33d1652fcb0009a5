use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::null_default;
use super::time::lenient;

/// A GHL contact, as returned by `GET /contacts/{id}` and `POST /contacts/search`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Contact {
    pub id: String,
    #[serde(deserialize_with = "null_default")]
    pub location_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// The contact's IANA time zone, used for quiet hours.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company_name: Option<String>,
    #[serde(deserialize_with = "null_default")]
    pub dnd: bool,
    /// Per-channel DND, keyed by GHL's channel names (`SMS`, `Email`, `Call`, ...).
    #[serde(deserialize_with = "null_default")]
    pub dnd_settings: BTreeMap<String, DndSetting>,
    #[serde(rename = "type")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assigned_to: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address1: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    #[serde(deserialize_with = "null_default")]
    pub tags: Vec<String>,
    #[serde(with = "lenient")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date_added: Option<Timestamp>,
    #[serde(with = "lenient")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date_updated: Option<Timestamp>,
    #[serde(with = "lenient")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_activity: Option<Timestamp>,
    #[serde(deserialize_with = "null_default")]
    pub custom_fields: Vec<CustomFieldValue>,
}

impl Contact {
    /// The name to show: GHL's `name`, else first and last name, else email or phone.
    pub fn display_name(&self) -> String {
        if let Some(name) = self.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
            return name.to_owned();
        }
        let joined = [self.first_name.as_deref(), self.last_name.as_deref()]
            .into_iter()
            .flatten()
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        if !joined.is_empty() {
            return joined;
        }
        self.email.clone().or_else(|| self.phone.clone()).unwrap_or_else(|| format!("(no name) {}", self.id))
    }

    /// Whether a channel (`SMS`, `Email`, ...) may be used: false under global DND or an
    /// active or permanent per-channel DND.
    pub fn channel_allowed(&self, channel: &str) -> bool {
        if self.dnd {
            return false;
        }
        self.dnd_settings
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(channel))
            .is_none_or(|(_, s)| !s.is_active())
    }

    /// The value of a custom field by its id.
    pub fn custom_field(&self, id: &str) -> Option<&serde_json::Value> {
        self.custom_fields.iter().find(|f| f.id == id).map(|f| &f.value)
    }
}

/// A custom field value. Contacts call the value `value`; opportunities call it `fieldValue`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CustomFieldValue {
    #[serde(deserialize_with = "null_default")]
    pub id: String,
    #[serde(alias = "fieldValue", alias = "field_value")]
    pub value: serde_json::Value,
}

/// A custom field's definition, from `GET /locations/{id}/customFields`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CustomFieldDef {
    pub id: String,
    #[serde(deserialize_with = "null_default")]
    pub name: String,
    /// e.g. `contact.budget`.
    #[serde(deserialize_with = "null_default")]
    pub field_key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

impl CustomFieldDef {
    /// The key without its model prefix, lowercased: `contact.Budget` gives `budget`.
    pub fn short_key(&self) -> String {
        let key = self.field_key.rsplit('.').next().unwrap_or(&self.field_key);
        let key = if key.is_empty() { self.name.as_str() } else { key };
        key.trim().to_ascii_lowercase().replace([' ', '-'], "_")
    }
}

/// One channel's DND setting.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DndSetting {
    /// `active`, `inactive` or `permanent`.
    #[serde(deserialize_with = "null_default")]
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// A carrier's or GHL's code (`21610` for a carrier STOP). The spec says string; real
    /// payloads carry numbers too, kept here as their text.
    #[serde(deserialize_with = "super::text_or_number", skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

impl DndSetting {
    /// Whether this setting blocks the channel.
    pub fn is_active(&self) -> bool {
        matches!(self.status.as_str(), "active" | "permanent")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example from the official `GetContectByIdSchema`, plus fields GHL added later.
    const SPEC_EXAMPLE: &str = r#"{
        "id": "seD4PfOuKoVMLkEZqohJ", "name": "rubika deo", "locationId": "ve9EPM428h8vShlRW1KT",
        "firstName": "rubika", "lastName": "Deo", "email": "rubika@deos.com",
        "emailLowerCase": "rubika@deos.com", "timezone": "Asia/Calcutta", "companyName": "DGS VolMAX",
        "phone": "+18832327657", "dnd": true,
        "dndSettings": {"Call": {"status": "active", "message": "string", "code": "string"},
                        "RCS": {"status": "inactive"}},
        "type": "read", "source": "public api", "assignedTo": "ve9EPM428h8vShlRW1KT",
        "address1": "3535 1st St N", "city": "ruDolomitebika", "state": "AL", "country": "US",
        "postalCode": "35061", "website": "https://www.tesla.com",
        "tags": ["nisi sint commodo amet", "consequat"], "dateOfBirth": "Date format YYYY-MM-DD",
        "dateAdded": "2021-07-02T05:18:26.704Z", "dateUpdated": "2021-07-02T05:18:26.704Z",
        "attachments": "", "ssn": "", "keyword": "test", "lastActivity": "2021-07-16T11:39:30.564Z",
        "customFields": [{"id": "MgobCB14YMVKuE4Ka8p1", "value": "name"}, {"id": "n", "value": ["a", "b"]}],
        "businessId": "641c094001436dbc2081e642",
        "attributionSource": {"sessionSource": "CRM UI", "medium": "manual"},
        "searchAfter": [1234, "102goXVW3lIExEQPOnd3"], "additionalEmails": [{"email": "x@y.z"}]
    }"#;

    #[test]
    fn parses_the_spec_example_and_ignores_unknown_fields() {
        let c: Contact = serde_json::from_str(SPEC_EXAMPLE).expect("spec example parses");
        assert_eq!(c.id, "seD4PfOuKoVMLkEZqohJ");
        assert_eq!(c.display_name(), "rubika deo");
        assert_eq!(c.tags.len(), 2);
        assert_eq!(c.custom_fields.len(), 2);
        assert!(c.dnd);
        assert!(!c.channel_allowed("SMS"));
        assert_eq!(c.date_added.map(|t| t.as_millisecond()), Some(1_625_203_106_704));
    }

    #[test]
    fn tolerates_nulls_and_missing_fields() {
        let c: Contact = serde_json::from_str(
            r#"{"id":"a","tags":null,"dnd":null,"customFields":null,"dndSettings":null,"dateAdded":null}"#,
        )
        .expect("nulls are tolerated");
        assert!(c.tags.is_empty());
        assert!(c.channel_allowed("SMS"));
        assert_eq!(c.display_name(), "(no name) a");
    }

    #[test]
    fn dnd_codes_may_be_numbers() {
        let c: Contact = serde_json::from_str(
            r#"{"id":"a","dndSettings":{"SMS":{"status":"active","code":21610},"Call":{"status":"inactive","code":"101"},"Email":{"status":"inactive","code":null}}}"#,
        )
        .expect("a numeric code is read");
        assert_eq!(c.dnd_settings["SMS"].code.as_deref(), Some("21610"));
        assert_eq!(c.dnd_settings["Call"].code.as_deref(), Some("101"));
        assert_eq!(c.dnd_settings["Email"].code, None);
        assert!(serde_json::from_str::<Contact>(r#"{"id":"a","dndSettings":{"SMS":{"code":[1]}}}"#).is_err());
    }

    #[test]
    fn per_channel_dnd_blocks_only_that_channel() {
        let c: Contact = serde_json::from_str(
            r#"{"id":"a","dndSettings":{"SMS":{"status":"active"},"Email":{"status":"inactive"}}}"#,
        )
        .expect("parses");
        assert!(!c.channel_allowed("sms"));
        assert!(c.channel_allowed("Email"));
        assert!(c.channel_allowed("Call"));
    }
}
