//! State changes shared by the sim-control endpoints, the live activity and [`crate::SimHandle`].

use rand::Rng;
use serde_json::Value;

use crate::error::ApiError;
use crate::model::{Contact, DndSetting, Message, Opportunity};
use crate::seed::script::LeadType;
use crate::seed::{self, NewLead};
use crate::server::Shared;
use crate::time::iso_from_ms;

/// Words that opt a contact out of SMS, as carriers and GHL treat them.
pub const STOP_WORDS: &[&str] = &["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"];

/// Whether an inbound text is an opt-out.
pub fn is_stop(body: &str) -> bool {
    let t = body.trim().trim_end_matches(['.', '!']);
    STOP_WORDS.iter().any(|w| t.eq_ignore_ascii_case(w))
}

fn str_field(v: &Value, k: &str) -> Option<String> {
    v.get(k).and_then(Value::as_str).map(str::to_string)
}

/// Creates a new lead now, fires `ContactCreate` (and `OpportunityCreate` when a deal is made).
pub fn inject_lead(sh: &Shared, overrides: &Value) -> Result<(Contact, Option<Opportunity>), ApiError> {
    if !overrides.is_null() && !overrides.is_object() {
        return Err(ApiError::bad_request("body must be a JSON object"));
    }
    let now = sh.now_ms();
    let (NewLead { mut contact, profile }, make_opp, stage_rng_pick) = {
        let mut guard = sh.factory.lock().map_err(|_| ApiError::internal())?;
        let (factory, rng) = &mut *guard;
        let lead = factory.make(rng, now);
        let make_opp = match overrides.get("opportunity").and_then(Value::as_bool) {
            Some(b) => b,
            None => rng.random_bool(0.5),
        };
        (lead, make_opp, rng.random::<u64>())
    };
    if let Some(f) = str_field(overrides, "firstName") {
        contact.first_name = Some(f);
    }
    if let Some(l) = str_field(overrides, "lastName") {
        contact.last_name = Some(l);
    }
    if let Some(e) = str_field(overrides, "email") {
        contact.email = Some(e);
    }
    if let Some(p) = str_field(overrides, "phone") {
        contact.phone = Some(p);
    }
    if let Some(s) = str_field(overrides, "source") {
        contact.source = Some(s);
    }
    if let Some(tz) = str_field(overrides, "timezone") {
        contact.timezone = Some(tz);
    }
    let lead_type = match str_field(overrides, "leadType").as_deref() {
        Some("buyer") => LeadType::Buyer,
        Some("seller") => LeadType::Seller,
        Some(other) => {
            return Err(ApiError::invalid(format!("leadType must be buyer or seller, not {other:?}")));
        }
        None => profile.lead_type,
    };
    if lead_type != profile.lead_type {
        contact.tags.retain(|t| t != profile.lead_type.tag());
        contact.tags.insert(0, lead_type.tag().to_string());
        for f in &mut contact.custom_fields {
            if f.value.as_str() == Some(profile.lead_type.as_str()) {
                f.value = Value::from(lead_type.as_str());
            }
        }
    }
    if let Some(tags) = overrides.get("tags").and_then(Value::as_array) {
        for t in tags.iter().filter_map(Value::as_str) {
            if !contact.tags.iter().any(|x| x == t) {
                contact.tags.push(t.to_string());
            }
        }
    }
    if !contact.tags.iter().any(|t| t == "Needs Qualifying") {
        contact.tags.push("Needs Qualifying".into());
    }
    contact.refresh_derived();

    let mut store = sh.write();
    store.insert_contact(contact.clone(), now);
    let opp = if make_opp {
        let pipeline = store
            .pipelines
            .iter()
            .find(|p| {
                p.name
                    == match lead_type {
                        LeadType::Buyer => "Buyer Pipeline",
                        LeadType::Seller => "Seller Pipeline",
                    }
            })
            .or_else(|| store.pipelines.first())
            .cloned();
        pipeline.and_then(|p| {
            let stage = p.stages.first()?.id.clone();
            let iso = iso_from_ms(now);
            let id = store.new_id();
            let o = Opportunity {
                id,
                name: format!(
                    "{} - {}",
                    contact.display_name(),
                    if lead_type == LeadType::Buyer { "Buyer" } else { "Listing" }
                ),
                monetary_value: (profile.price + stage_rng_pick % 2 * 5_000) as f64,
                pipeline_id: p.id.clone(),
                pipeline_stage_id: stage,
                ..Opportunity::of_contact(&contact, iso.clone(), iso)
            };
            store.insert_opportunity(o.clone());
            Some(o)
        })
    } else {
        None
    };
    drop(store);
    sh.webhooks.contact_event("ContactCreate", &contact, now);
    if let Some(o) = &opp {
        sh.webhooks.opportunity_event("OpportunityCreate", o, now);
    }
    Ok((contact, opp))
}

/// Records an inbound SMS from `contact_id`. A STOP word sets SMS DND (as GHL does) and fires
/// `ContactDndUpdate` after `InboundMessage`.
pub fn inbound(sh: &Shared, contact_id: &str, body: &str) -> Result<Message, ApiError> {
    if body.trim().is_empty() {
        return Err(ApiError::invalid("body should not be empty"));
    }
    let now = sh.now_ms();
    let stop = is_stop(body);
    let mut store = sh.write();
    let conv =
        store.ensure_conversation(contact_id, now).ok_or_else(|| ApiError::not_found("Contact not found"))?;
    let location_id = store.location.id.clone();
    let mut msg = seed::make_message(
        &mut store.rng,
        &location_id,
        contact_id,
        &conv,
        "SMS",
        "inbound",
        Some(body.to_string()),
        now,
        None,
    );
    msg.source = None;
    store.add_message(msg.clone());
    let dnd_contact = if stop {
        store.update_contact(contact_id, now, |c| {
            c.dnd_settings.insert(
                "SMS".into(),
                DndSetting {
                    status: "active".into(),
                    message: Some("Inbound STOP received".into()),
                    code: Some(serde_json::json!(21610)),
                },
            );
        })
    } else {
        None
    };
    drop(store);
    sh.webhooks.message_event(&msg, now);
    if let Some(c) = dnd_contact {
        sh.webhooks.contact_dnd_event(&c, now);
    }
    Ok(msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_words() {
        assert!(is_stop("STOP"));
        assert!(is_stop(" stop "));
        assert!(is_stop("Unsubscribe."));
        assert!(!is_stop("please don't stop texting"));
        assert!(!is_stop("Stop by Saturday?"));
    }
}
