use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::null_default;
use super::time::lenient;

/// A task on a contact (`GET /contacts/{id}/tasks`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Task {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assigned_to: Option<String>,
    #[serde(with = "lenient")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_date: Option<Timestamp>,
    #[serde(deserialize_with = "null_default")]
    pub completed: bool,
    #[serde(deserialize_with = "null_default")]
    pub contact_id: String,
}

/// A note on a contact (`GET /contacts/{id}/notes`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Note {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(with = "lenient")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date_added: Option<Timestamp>,
    #[serde(deserialize_with = "null_default")]
    pub contact_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// A user of the location (an agent or team member), from `GET /users/search`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct User {
    pub id: String,
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
    #[serde(deserialize_with = "null_default")]
    pub deleted: bool,
}

impl User {
    /// The name to show: `name`, else first and last name, else the email, else the id.
    pub fn display_name(&self) -> String {
        if let Some(n) = self.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
            return n.to_owned();
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
        self.email.clone().unwrap_or_else(|| self.id.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_spec_examples() {
        let t: Task = serde_json::from_str(
            r#"{"id":"t","title":"Call","body":"Ask about budget","assignedTo":"u",
                "dueDate":"2020-10-25T11:00:00Z","completed":false,"contactId":"c"}"#,
        )
        .expect("task parses");
        assert!(t.due_date.is_some());
        let n: Note = serde_json::from_str(
            r#"{"id":"n","body":"lorem","userId":"u","dateAdded":"2021-07-08T12:02:11.285Z","contactId":"c","pinned":true}"#,
        )
        .expect("note parses");
        assert_eq!(n.contact_id, "c");
        let u: User = serde_json::from_str(
            r#"{"id":"u","name":"John Deo","firstName":"John","lastName":"Deo","email":"john@deo.com",
                "permissions":{"campaignsEnabled":true},"roles":{"type":"agency","role":"admin"}}"#,
        )
        .expect("user parses");
        assert_eq!(u.first_name.as_deref(), Some("John"));
    }
}
