//! Finds the answers to the seven qualifying questions (business-rules.md §1a) in a lead's
//! custom fields and in what the lead wrote. Pure: no store, no clock.

use std::collections::HashMap;

use leadline_shared::domain::{
    Contact, CustomFieldDef, Direction, Message, Qualification, QualificationItem,
};

/// Maps custom-field ids to the question they answer, from the location's field definitions.
#[derive(Debug, Clone, Default)]
pub struct FieldMap {
    /// Field id to the question it answers and the field's label.
    by_id: HashMap<String, (QualificationItem, String)>,
    lead_type_ids: Vec<String>,
}

impl FieldMap {
    /// Builds the map from the location's custom field definitions.
    pub fn new(defs: &[CustomFieldDef]) -> FieldMap {
        let mut map = FieldMap::default();
        for def in defs {
            let key = def.short_key();
            if key == "lead_type" {
                map.lead_type_ids.push(def.id.clone());
            }
            if let Some(item) = item_for_field(&key) {
                let label = if def.name.trim().is_empty() {
                    key.replace('_', " ")
                } else {
                    def.name.trim().to_owned()
                };
                map.by_id.insert(def.id.clone(), (item, label));
            }
        }
        map
    }

    /// The lead type (buyer or seller) from a custom field, if set.
    pub fn lead_type(&self, contact: &Contact) -> Option<String> {
        self.lead_type_ids
            .iter()
            .find_map(|id| value_text(contact.custom_field(id)?))
            .map(|v| v.to_ascii_lowercase())
    }
}

/// The question a custom field answers, by its key (the predecessor's field names).
fn item_for_field(key: &str) -> Option<QualificationItem> {
    use QualificationItem::*;
    Some(match key {
        "budget" | "budget_confirmed" | "budget_max" | "price_expectation" | "expected_price" => Budget,
        "location" | "preferred_location" | "area" | "neighborhood" => Location,
        "timeline" | "timeline_urgency" | "timeline_acceptable" | "move_timeline" => Timeline,
        "bedrooms" | "bathrooms" | "must_haves" | "property_type" => Property,
        "financing" | "pre_approved" | "preapproval" => Financing,
        "motivation" | "property_address" | "relocation_destination" => Motivation,
        "home_condition" | "property_condition" => HomeCondition,
        _ => return None,
    })
}

fn value_text(value: &serde_json::Value) -> Option<String> {
    let text = match value {
        serde_json::Value::Null => return None,
        serde_json::Value::String(s) => s.trim().to_owned(),
        serde_json::Value::Array(items) => items.iter().filter_map(value_text).collect::<Vec<_>>().join(", "),
        // A boolean answer counts too ("timeline acceptable: false" is an answer).
        other => other.to_string(),
    };
    (!text.is_empty()).then_some(text)
}

/// Phrases that show an answer in free text, per question. Lowercase; matched on word starts.
const CUES: &[(QualificationItem, &[&str])] = &[
    (
        QualificationItem::Budget,
        &["budget", "price range", "afford", "up to $", "under $", "around $", "max $"],
    ),
    (
        QualificationItem::Location,
        &[
            "looking in",
            "homes in",
            "area",
            "neighborhood",
            "school district",
            "close to",
            "near ",
            "downtown",
            "suburb",
            "move to",
        ],
    ),
    (
        QualificationItem::Timeline,
        &[
            "asap",
            "immediately",
            "right away",
            "this month",
            "next month",
            "this week",
            "next week",
            "within",
            "months",
            "weeks",
            "by summer",
            "by spring",
            "by fall",
            "by winter",
            "next year",
            "timeline",
            "lease is up",
            "lease ends",
        ],
    ),
    (
        QualificationItem::Property,
        &[
            "bed",
            "bath",
            "sqft",
            "square feet",
            "sq ft",
            "garage",
            "pool",
            "yard",
            "acre",
            "single family",
            "condo",
            "townhouse",
            "townhome",
        ],
    ),
    (
        QualificationItem::Financing,
        &[
            "pre-approved",
            "preapproved",
            "pre approved",
            "pre-qualified",
            "prequalified",
            "cash",
            "lender",
            "mortgage",
            "fha",
            "va loan",
            "conventional loan",
        ],
    ),
    (
        QualificationItem::Motivation,
        &[
            "because",
            "relocat",
            "new job",
            "transfer",
            "growing family",
            "baby",
            "divorce",
            "inherit",
            "downsiz",
            "upsiz",
            "retir",
            "closer to",
            "tired of renting",
            "outgrown",
            "estate",
        ],
    ),
    (
        QualificationItem::HomeCondition,
        &[
            "move-in ready",
            "move in ready",
            "needs work",
            "needs some work",
            "fixer",
            "renovated",
            "updated",
            "roof",
            "repairs",
            "as-is",
            "as is",
            "good shape",
            "condition",
        ],
    ),
];

/// The longest answer kept, in characters.
const MAX_ANSWER_CHARS: usize = 140;

/// Reads a lead's answers: custom fields first, then inbound messages oldest first (the first
/// answer found for a question is kept).
pub fn qualify(contact: &Contact, messages: &[Message], fields: &FieldMap) -> Qualification {
    let mut q = Qualification::default();
    for field in &contact.custom_fields {
        if let (Some((item, label)), Some(text)) = (fields.by_id.get(&field.id), value_text(&field.value)) {
            q.answer(*item, clip(&format!("{label}: {text}")));
        }
    }
    for message in messages.iter().filter(|m| m.direction == Direction::Inbound && m.is_conversational()) {
        if let Some(body) = &message.body {
            answers_in_text(body, &mut q);
        }
    }
    q
}

/// Records every question a piece of free text answers, sentence by sentence.
pub fn answers_in_text(text: &str, q: &mut Qualification) {
    for sentence in text.split(['.', '!', '?', '\n']).map(str::trim).filter(|s| !s.is_empty()) {
        let lower = sentence.to_lowercase();
        for (item, cues) in CUES {
            if q.get(*item).is_none()
                && (cues.iter().any(|c| has_cue(&lower, c))
                    || (*item == QualificationItem::Budget && has_money(&lower)))
            {
                q.answer(*item, clip(sentence));
            }
        }
    }
}

/// True when `cue` occurs at the start of a word.
fn has_cue(text: &str, cue: &str) -> bool {
    text.match_indices(cue).any(|(i, _)| i == 0 || !text.as_bytes()[i - 1].is_ascii_alphanumeric())
}

/// A dollar amount (`$450k`, `$300,000`) or a bare `450k`.
fn has_money(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.iter().enumerate().any(|(i, b)| {
        let digit_after = |j: usize| bytes.get(j).is_some_and(u8::is_ascii_digit);
        (*b == b'$' && digit_after(i + 1))
            || ((*b == b'k' || *b == b'm')
                && i > 0
                && bytes[i - 1].is_ascii_digit()
                && !bytes.get(i + 1).is_some_and(u8::is_ascii_alphabetic))
    })
}

fn clip(text: &str) -> String {
    if text.chars().count() <= MAX_ANSWER_CHARS {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(MAX_ANSWER_CHARS - 1).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use leadline_shared::domain::CustomFieldValue;
    use serde_json::json;

    fn inbound(body: &str) -> Message {
        Message {
            id: body.into(),
            body: Some(body.into()),
            direction: Direction::Inbound,
            message_type: Some("TYPE_SMS".into()),
            ..Default::default()
        }
    }

    #[test]
    fn reads_answers_from_messages() {
        let msgs = [
            inbound("Hi! We're pre-approved up to $450k. Looking in Plano or Frisco."),
            inbound("Need 3 bed 2 bath, hoping to move within 60 days because of a new job"),
        ];
        let q = qualify(&Contact::default(), &msgs, &FieldMap::default());
        assert_eq!(q.budget.as_deref(), Some("We're pre-approved up to $450k"));
        assert_eq!(q.financing.as_deref(), Some("We're pre-approved up to $450k"));
        assert_eq!(q.location.as_deref(), Some("Looking in Plano or Frisco"));
        assert!(q.property.is_some() && q.timeline.is_some() && q.motivation.is_some());
        assert_eq!(q.home_condition, None);
        assert_eq!(q.answered_count(), 6);
    }

    #[test]
    fn outbound_messages_are_not_answers() {
        let mut m = inbound("What's your budget and timeline?");
        m.direction = Direction::Outbound;
        assert_eq!(qualify(&Contact::default(), &[m], &FieldMap::default()).answered_count(), 0);
    }

    #[test]
    fn custom_fields_win_over_messages() {
        let defs = [
            CustomFieldDef {
                id: "f1".into(),
                name: "Budget".into(),
                field_key: "contact.budget".into(),
                ..Default::default()
            },
            CustomFieldDef { id: "f2".into(), field_key: "contact.lead_type".into(), ..Default::default() },
            CustomFieldDef {
                id: "f3".into(),
                field_key: "contact.timeline_acceptable".into(),
                ..Default::default()
            },
        ];
        let contact = Contact {
            custom_fields: vec![
                CustomFieldValue { id: "f1".into(), value: json!("$600,000") },
                CustomFieldValue { id: "f2".into(), value: json!("Seller") },
                CustomFieldValue { id: "f3".into(), value: json!(false) },
                CustomFieldValue { id: "unknown".into(), value: json!("x") },
            ],
            ..Default::default()
        };
        let map = FieldMap::new(&defs);
        let q = qualify(&contact, &[inbound("budget is 300k")], &map);
        assert_eq!(q.budget.as_deref(), Some("Budget: $600,000"));
        assert_eq!(q.timeline.as_deref(), Some("timeline acceptable: false"), "a 'no' is still an answer");
        assert_eq!(map.lead_type(&contact).as_deref(), Some("seller"));
    }

    #[test]
    fn cues_match_word_starts_only() {
        let mut q = Qualification::default();
        answers_in_text("I love my bathtub", &mut q); // "bath" at a word start: counts
        assert!(q.property.is_some());
        let mut q = Qualification::default();
        answers_in_text("the cashier was nice, a 2k deposit", &mut q);
        assert!(q.financing.is_some(), "cash at a word start");
        let mut q = Qualification::default();
        answers_in_text("ok thanks", &mut q);
        assert_eq!(q.answered_count(), 0);
        assert!(has_money("about $350,000") && has_money("450k max") && !has_money("3 kids"));
    }
}
