use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::time::lenient;
use super::{CustomFieldValue, null_default};

/// A GHL opportunity (a deal in a pipeline), as returned by `GET /opportunities/search`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Opportunity {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub monetary_value: Option<f64>,
    #[serde(deserialize_with = "null_default")]
    pub pipeline_id: String,
    #[serde(deserialize_with = "null_default")]
    pub pipeline_stage_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assigned_to: Option<String>,
    #[serde(deserialize_with = "null_default")]
    pub status: OpportunityStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(with = "lenient")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_status_change_at: Option<Timestamp>,
    #[serde(with = "lenient")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_stage_change_at: Option<Timestamp>,
    #[serde(with = "lenient")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<Timestamp>,
    #[serde(with = "lenient")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<Timestamp>,
    #[serde(deserialize_with = "null_default")]
    pub contact_id: String,
    #[serde(deserialize_with = "null_default")]
    pub location_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lost_reason_id: Option<String>,
    #[serde(deserialize_with = "null_default")]
    pub custom_fields: Vec<CustomFieldValue>,
}

/// An opportunity's status. Values GHL adds later parse as [`OpportunityStatus::Other`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OpportunityStatus {
    #[default]
    Open,
    Won,
    Lost,
    Abandoned,
    #[serde(other)]
    Other,
}

/// A pipeline with its ordered stages, from `GET /opportunities/pipelines`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Pipeline {
    pub id: String,
    #[serde(deserialize_with = "null_default")]
    pub name: String,
    #[serde(deserialize_with = "null_default")]
    pub stages: Vec<Stage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location_id: Option<String>,
}

/// One stage of a pipeline. The spec leaves the stage object undocumented; these are the
/// fields every known payload carries.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Stage {
    pub id: String,
    #[serde(deserialize_with = "null_default")]
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<i64>,
}

impl Pipeline {
    /// The name of a stage of this pipeline.
    pub fn stage_name(&self, stage_id: &str) -> Option<&str> {
        self.stages.iter().find(|s| s.id == stage_id).map(|s| s.name.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_search_result_with_unknown_status_and_extra_fields() {
        let o: Opportunity = serde_json::from_str(
            r#"{"id":"yWQobCRIhRguQtD2llvk","name":"testing","monetaryValue":500,
                "pipelineId":"VDm7RPYC2GLUvdpKmBfC","pipelineStageId":"e93ba61a-53b3-45e7-985a-c7732dbcdb69",
                "assignedTo":"zT46WSCPbudrq4zhWMk6","status":"pending_review","source":"",
                "lastStatusChangeAt":"2021-08-03T04:55:17.355Z","createdAt":"2021-08-03T04:55:17.355Z",
                "updatedAt":"2021-08-03T04:55:17.355Z","contactId":"zT46WSCPbudrq4zhWMk6",
                "locationId":"zT46WSCPbudrq4zhWMk6","indexVersion":1,
                "contact":{"id":"byMEV0NQinDhq8ZfiOi2","name":"John Deo","tags":["string"]},
                "notes":[],"tasks":[],"calendarEvents":[],
                "customFields":[{"id":"MgobCB14YMVKuE4Ka8p1","fieldValue":"name"}],"followers":[]}"#,
        )
        .expect("parses");
        assert_eq!(o.status, OpportunityStatus::Other);
        assert_eq!(o.monetary_value, Some(500.0));
        assert_eq!(o.custom_fields[0].value, serde_json::json!("name"));
    }

    #[test]
    fn pipeline_stage_names() {
        let p: Pipeline = serde_json::from_str(
            r#"{"id":"p","name":"Buyer","stages":[{"id":"s1","name":"New Lead","position":0}],"showInFunnel":true}"#,
        )
        .expect("parses");
        assert_eq!(p.stage_name("s1"), Some("New Lead"));
        assert_eq!(p.stage_name("nope"), None);
    }
}
