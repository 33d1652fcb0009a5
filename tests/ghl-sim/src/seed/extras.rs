//! What a real location holds besides the conversations a team has with its leads.
//!
//! GHL's export carries activity records (a deal created, an appointment booked), form
//! submissions, internal comments between team members, SMS reactions ("Liked …"), and
//! messages with no body (a photo texted in). Custom fields come in every data type GHL has,
//! with values that are lists, numbers, dates in epoch milliseconds and file objects, and DND
//! codes arrive as numbers as well as strings. A client that reads only the tidy part of this
//! breaks on a real location; [`enrich`] adds it to a generated data set.
//!
//! It draws from its own random stream, so the conversations, leads and deals of a seed are
//! the same with or without it.

use std::collections::HashMap;

use rand::Rng;
use rand::seq::IndexedRandom;
use serde_json::{Value, json};

use super::{Dataset, ghl_id, stream_rng};
use crate::model::{CustomFieldDef, CustomFieldValue, Message};
use crate::time::{iso_from_ms, ms_from_iso};

/// `(name, field key, GHL data type, options)` of the extra custom fields.
const EXTRA_FIELDS: &[(&str, &str, &str, &[&str])] = &[
    ("Preferred Contact Method", "contact.preferred_contact_method", "RADIO", &["Call", "Text", "Email"]),
    (
        "Amenities",
        "contact.amenities",
        "CHECKBOX",
        &["Pool", "Garage", "Big yard", "Basement", "Home office"],
    ),
    (
        "Neighborhoods",
        "contact.neighborhoods",
        "MULTIPLE_OPTIONS",
        &["Downtown", "Uptown", "Lakeside", "Old Town"],
    ),
    ("Target Move Date", "contact.move_date", "DATE", &[]),
    ("Pre-Approval Letter", "contact.pre_approval_letter", "FILE_UPLOAD", &[]),
    ("Showing Feedback", "contact.showing_feedback", "TEXTBOX_LIST", &[]),
    ("Down Payment Percent", "contact.down_payment_percent", "FLOAT", &[]),
    ("Best Time To Call", "contact.best_time_to_call", "TIME", &[]),
    ("Spouse Phone", "contact.spouse_phone", "PHONE", &[]),
    ("Buyer Agreement Signature", "contact.buyer_agreement_signature", "SIGNATURE", &[]),
];

/// The odd-but-legitimate message types, with their numeric `type` (a guess: GHL documents
/// the names, not the numbers), direction and a body maker.
const ACTIVITY: &[(&str, u32, &str)] = &[
    ("TYPE_ACTIVITY_CONTACT", 25, "outbound"),
    ("TYPE_ACTIVITY_OPPORTUNITY", 28, "outbound"),
    ("TYPE_ACTIVITY_APPOINTMENT", 31, "outbound"),
    ("TYPE_FORM_SUBMISSION", 40, "inbound"),
    ("TYPE_INTERNAL_COMMENT", 35, "outbound"),
    ("TYPE_SMS_REACTION", 41, "inbound"),
];

/// Adds extra custom fields (every data type), their values on some contacts, numeric DND
/// codes, and activity, form, comment, reaction and empty messages inside some conversations.
pub fn enrich(ds: &mut Dataset, seed: u64) {
    let mut rng = stream_rng(seed, 12);
    add_fields(ds, &mut rng);
    add_messages(ds, &mut rng);
    for c in &mut ds.contacts {
        for s in c.dnd_settings.values_mut() {
            // Carriers' codes (21610 is Twilio's STOP) come as numbers as often as strings.
            if let Some(Value::String(code)) = &s.code
                && let Ok(n) = code.parse::<u64>()
                && rng.random_bool(0.5)
            {
                s.code = Some(Value::from(n));
            }
        }
    }
}

fn add_fields(ds: &mut Dataset, rng: &mut impl Rng) {
    let location_id = ds.location.id.clone();
    let base = ds.custom_fields.len() as u32;
    let defs: Vec<CustomFieldDef> = EXTRA_FIELDS
        .iter()
        .enumerate()
        .map(|(i, (name, key, ty, opts))| CustomFieldDef {
            id: ghl_id(rng),
            name: (*name).into(),
            field_key: (*key).into(),
            placeholder: String::new(),
            data_type: (*ty).into(),
            position: (base + i as u32) * 50,
            picklist_options: opts.iter().map(|s| (*s).to_string()).collect(),
            location_id: location_id.clone(),
            model: "contact".into(),
        })
        .collect();
    for c in &mut ds.contacts {
        if !rng.random_bool(0.3) {
            continue;
        }
        let added = ms_from_iso(&c.date_added).unwrap_or(0);
        for def in &defs {
            if rng.random_bool(0.5) {
                let value = value_of(rng, def, added, &c.id);
                c.custom_fields.push(CustomFieldValue { id: def.id.clone(), value });
            }
        }
    }
    ds.custom_fields.extend(defs);
}

/// A value of a data type, in the shape GHL returns it.
fn value_of(rng: &mut impl Rng, def: &CustomFieldDef, added_ms: i64, contact_id: &str) -> Value {
    let options = &def.picklist_options;
    match def.data_type.as_str() {
        "RADIO" => Value::from(options.choose(rng).cloned().unwrap_or_default()),
        "CHECKBOX" | "MULTIPLE_OPTIONS" => {
            let n = rng.random_range(1..=options.len().max(1));
            Value::from(options.iter().take(n).cloned().collect::<Vec<_>>())
        }
        "DATE" => Value::from(added_ms + rng.random_range(30..180_i64) * 86_400_000),
        "FILE_UPLOAD" => {
            let doc = ghl_id(rng);
            json!({ doc.clone(): {
                "meta": {"fieldname": def.id, "originalname": "pre-approval.pdf", "mimetype": "application/pdf", "size": rng.random_range(40_000..900_000)},
                "url": format!("https://assets.example.invalid/{contact_id}/{doc}.pdf"),
                "documentId": doc,
            }})
        }
        "TEXTBOX_LIST" => json!({"0": "Loved the kitchen", "1": "Too close to the highway"}),
        "FLOAT" => Value::from(f64::from(rng.random_range(30..250_u32)) / 10.0),
        "TIME" => Value::from(format!(
            "{:02}:{:02}",
            rng.random_range(8..19),
            [0, 15, 30, 45][rng.random_range(0..4)]
        )),
        "PHONE" => Value::from(format!("+1214555{:04}", rng.random_range(0..10_000))),
        "SIGNATURE" => Value::from(format!("https://assets.example.invalid/{contact_id}/signature.png")),
        _ => Value::from(options.choose(rng).cloned().unwrap_or_default()),
    }
}

/// A conversation's first and last message time, its contact and its location.
type Span<'a> = (i64, i64, &'a str, &'a str);

fn add_messages(ds: &mut Dataset, rng: &mut impl Rng) {
    // Each conversation's first and last message time: extras go strictly between, so every
    // conversation's last message (and so every lead's state) stays what the seed made it.
    let mut span: HashMap<&str, Span<'_>> = HashMap::new();
    for m in &ds.messages {
        let at = ms_from_iso(&m.date_added).unwrap_or(0);
        let e = span.entry(m.conversation_id.as_str()).or_insert((
            at,
            at,
            m.contact_id.as_str(),
            m.location_id.as_str(),
        ));
        e.0 = e.0.min(at);
        e.1 = e.1.max(at);
    }
    let mut convs: Vec<(&str, Span<'_>)> = span.into_iter().collect();
    convs.sort_unstable_by_key(|(id, _)| *id);
    let users: Vec<String> = ds.users.iter().map(|u| u.id.clone()).collect();
    let mut extra = Vec::new();
    for (conversation_id, (first, last, contact_id, location_id)) in convs {
        if last - first < 2 {
            continue;
        }
        for (message_type, type_code, direction) in ACTIVITY {
            if !rng.random_bool(0.06) {
                continue;
            }
            let at = rng.random_range(first + 1..last);
            let body = match *message_type {
                "TYPE_ACTIVITY_CONTACT" => Some("Contact created".to_string()),
                "TYPE_ACTIVITY_OPPORTUNITY" => Some("Opportunity moved to Contacted".to_string()),
                "TYPE_ACTIVITY_APPOINTMENT" => Some("Appointment booked: Buyer consultation".to_string()),
                "TYPE_FORM_SUBMISSION" => Some("Form submitted: What's my home worth?".to_string()),
                "TYPE_INTERNAL_COMMENT" => Some("Called twice, no answer. Try after 5pm.".to_string()),
                _ => Some("Liked \u{201c}Sounds good, talk soon\u{201d}".to_string()),
            };
            extra.push(message(
                rng,
                (message_type, *type_code, direction),
                conversation_id,
                contact_id,
                location_id,
                at,
                body,
                &users,
            ));
        }
        if rng.random_bool(0.04) {
            // A photo texted in: no body, one attachment.
            let at = rng.random_range(first + 1..last);
            let mut m = message(
                rng,
                ("TYPE_SMS", 2, "inbound"),
                conversation_id,
                contact_id,
                location_id,
                at,
                None,
                &users,
            );
            m.attachments = vec![format!("https://assets.example.invalid/mms/{}.jpg", m.id)];
            m.content_type = "image/jpeg".into();
            extra.push(m);
        }
    }
    ds.messages.extend(extra);
}

#[allow(clippy::too_many_arguments)]
fn message(
    rng: &mut impl Rng,
    (message_type, type_code, direction): (&str, u32, &str),
    conversation_id: &str,
    contact_id: &str,
    location_id: &str,
    at_ms: i64,
    body: Option<String>,
    users: &[String],
) -> Message {
    let user_id = (direction == "outbound").then(|| users.choose(rng).cloned()).flatten();
    Message {
        id: ghl_id(rng),
        type_code,
        message_type: message_type.into(),
        location_id: location_id.into(),
        contact_id: contact_id.into(),
        conversation_id: conversation_id.into(),
        date_added: iso_from_ms(at_ms),
        body,
        direction: direction.into(),
        status: Some("delivered".into()),
        content_type: "text/plain".into(),
        attachments: Vec::new(),
        meta: None,
        source: (direction == "outbound").then(|| "app".to_string()),
        user_id,
        subject: None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::{SeedConfig, generate};

    #[test]
    fn a_location_holds_every_kind_of_record() {
        let d = generate(&SeedConfig { contacts: 600, seed: 5, ..SeedConfig::default() });
        for t in [
            "TYPE_ACTIVITY_OPPORTUNITY",
            "TYPE_FORM_SUBMISSION",
            "TYPE_INTERNAL_COMMENT",
            "TYPE_SMS_REACTION",
        ] {
            assert!(d.messages.iter().any(|m| m.message_type == t), "{t}");
        }
        assert!(d.messages.iter().any(|m| m.body.is_none() && !m.attachments.is_empty()));
        for ty in ["CHECKBOX", "DATE", "FILE_UPLOAD", "FLOAT", "TEXTBOX_LIST", "SIGNATURE"] {
            let def = d.custom_fields.iter().find(|f| f.data_type == ty && f.model == "contact").expect(ty);
            assert!(d.contacts.iter().any(|c| c.custom_fields.iter().any(|v| v.id == def.id)), "{ty}");
        }
        let codes: Vec<&serde_json::Value> =
            d.contacts.iter().flat_map(|c| c.dnd_settings.values()).filter_map(|s| s.code.as_ref()).collect();
        assert!(codes.iter().any(|c| c.is_number()) && codes.iter().any(|c| c.is_string()));
    }
}
