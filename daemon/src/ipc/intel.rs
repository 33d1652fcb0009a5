//! Lead intelligence in the daemon's answers: a lead's best listings (and, as the lead view
//! grows, its routing suggestion and churn risk), and the listings import.

use std::sync::Arc;

use leadline_shared::config::AgentConfig;
use leadline_shared::domain::{CustomFieldDef, OpportunityStatus};
use leadline_shared::protocol::{
    ErrorKind, LeadDetail, ListingsImported, RemoteError, Response, RoutingSuggestion,
};

use crate::engine::analytics::day_of;
use crate::engine::churn::{self, Engagement};
use crate::engine::matching::{self, PreferenceFields, Preferences};
use crate::engine::routing::{self, Agent, Needs};
use crate::ingest::META_CUSTOM_FIELDS;
use crate::state::State;
use crate::store::StoreError;

/// Adds what the engine knows of the lead beyond its score: the listings that fit it best
/// (sellers get none: their "budget" is an asking price, not a wish) and who should work it.
pub fn fill(state: &State, detail: &mut LeadDetail) -> Result<(), StoreError> {
    let defs = state.db.meta::<Vec<CustomFieldDef>>(META_CUSTOM_FIELDS)?.unwrap_or_default();
    let prefs = Preferences::of(&detail.contact, &PreferenceFields::new(&defs), &detail.qualification);
    let seller = detail.lead.lead_type.as_deref().is_some_and(|t| t.eq_ignore_ascii_case("seller"));
    if !seller {
        let set = state.listings.get(&state.db)?;
        if !set.is_empty() {
            detail.matches = matching::best_matches(&prefs, &set, matching::BEST);
        }
    }
    detail.routing = routing_for(state, detail, prefs.budget)?;
    let open = detail.opportunities.iter().find(|o| o.status == OpportunityStatus::Open);
    let stage_since = open.and_then(|o| o.last_stage_change_at.or(o.created_at));
    let value = open.and_then(|o| o.monetary_value).filter(|v| *v > 0.0).or(prefs.budget);
    let messages = state.db.messages_for(&detail.lead.id, CHURN_MESSAGES)?;
    let engagement = Engagement::of(&messages, stage_since, state.clock.now());
    detail.churn = Some(churn::risk(&engagement, value, f64::from(detail.lead.score) / 100.0));
    detail.priority_breakdown = Some(crate::engine::priority::breakdown(
        &detail.lead,
        state.clock.now(),
        &state.config.scoring.priority,
    ));
    Ok(())
}

/// The newest messages churn reads: more than 30 days of any lead's conversation.
const CHURN_MESSAGES: usize = 500;

/// The routing suggestion: the configured agents (or the location's users), their open leads
/// from the analytics aggregates (no walk of the leads), and what the lead's words ask for.
fn routing_for(
    state: &State,
    detail: &LeadDetail,
    budget: Option<f64>,
) -> Result<Option<RoutingSuggestion>, StoreError> {
    let cfg = &state.config.routing;
    let users = state.db.users()?;
    let now = state.clock.now();
    let blocks: Vec<AgentConfig> = if cfg.agents.is_empty() {
        users.iter().map(|u| AgentConfig { user_id: u.id.clone(), ..AgentConfig::default() }).collect()
    } else {
        cfg.agents.clone()
    };
    if blocks.is_empty() {
        return Ok(None);
    }
    let today = day_of(now);
    let since = today - i32::try_from(cfg.load_window_days).unwrap_or(i32::MAX);
    let records = state.db.with_analytics(|agg| {
        blocks
            .iter()
            .map(|b| {
                let open: i64 = agg
                    .days
                    .range(since..=today)
                    .filter_map(|(_, day)| day.users.get(&b.user_id))
                    .map(|t| t.leads - t.won)
                    .sum();
                let all = agg.total.users.get(&b.user_id);
                (open, all.map_or(0, |t| t.leads), all.map_or(0, |t| t.won))
            })
            .collect::<Vec<_>>()
    })?;
    let agents: Vec<Agent> = blocks
        .iter()
        .zip(records)
        .map(|(b, (open, leads, won))| {
            let name = b.name.clone().unwrap_or_else(|| {
                users
                    .iter()
                    .find(|u| u.id == b.user_id)
                    .map(|u| u.display_name())
                    .unwrap_or_else(|| b.user_id.clone())
            });
            Agent {
                user_id: b.user_id.clone(),
                name,
                capacity: b.capacity.unwrap_or(cfg.default_capacity).max(1),
                specialties: b.specialties.iter().map(|s| s.trim().to_ascii_lowercase()).collect(),
                available: availability(b, now),
                load: u32::try_from(open.max(0)).unwrap_or(u32::MAX),
                leads: u64::try_from(leads.max(0)).unwrap_or(0),
                won: u64::try_from(won.max(0)).unwrap_or(0),
            }
        })
        .collect();
    let q = &detail.qualification;
    let words: Vec<&str> = detail
        .lead
        .tags
        .iter()
        .map(String::as_str)
        .chain(
            [&q.budget, &q.location, &q.timeline, &q.property, &q.financing, &q.motivation]
                .into_iter()
                .flatten()
                .map(String::as_str),
        )
        .collect();
    let needs = Needs {
        specialties: routing::specialties_of(&words.join(" · "), budget, cfg.luxury_budget),
        current: detail.contact.assigned_to.clone(),
        turn: routing::turn_of(&detail.lead.id),
    };
    Ok(routing::suggest(&agents, &needs, cfg.max_load))
}

/// Whether an agent can take a lead now, by its block: paused, or its days and hours in its
/// zone.
fn availability(b: &AgentConfig, now: jiff::Timestamp) -> Result<String, String> {
    if b.paused {
        return Err("paused".to_owned());
    }
    if b.days.is_empty() && b.start_hour.is_none() && b.end_hour.is_none() {
        return Ok("no set hours".to_owned());
    }
    let zone = b.timezone.as_deref().unwrap_or("UTC");
    let tz = jiff::tz::TimeZone::get(zone).unwrap_or(jiff::tz::TimeZone::UTC);
    let local = now.to_zoned(tz);
    let weekday = u8::try_from(local.weekday().to_monday_zero_offset()).unwrap_or(0);
    let hour = u8::try_from(local.hour()).unwrap_or(0);
    let days = if b.days.is_empty() { "every day".to_owned() } else { b.days.join("/") };
    let hours = match (b.start_hour, b.end_hour) {
        (Some(s), Some(e)) => format!("{s}–{e}"),
        (Some(s), None) => format!("from {s}"),
        (None, Some(e)) => format!("until {e}"),
        (None, None) => "all day".to_owned(),
    };
    let when = format!("{days} {hours} {zone}");
    if routing::works_at(&b.days, b.start_hour, b.end_hour, weekday, hour) {
        Ok(when)
    } else {
        Err(format!("outside hours ({when})"))
    }
}

/// `leadline listings import FILE`: reads the file (on the blocking pool), writes the
/// listings in one transaction, flushes, and prepares them for matching.
pub async fn import_listings(
    state: &Arc<State>,
    path: String,
    replace: bool,
) -> Result<Response, RemoteError> {
    if !std::path::Path::new(&path).is_absolute() {
        return Err(RemoteError::new(
            ErrorKind::BadRequest,
            format!(
                "{path:?} is not an absolute path; the daemon runs in another directory, so give the full path"
            ),
        ));
    }
    let st = state.clone();
    let file = path.clone();
    let changes = tokio::task::spawn_blocking(move || {
        let listings = crate::listings::read(std::path::Path::new(&file)).map_err(|e| {
            let kind = if e.is_bad_input() { ErrorKind::BadRequest } else { ErrorKind::Internal };
            RemoteError::new(kind, e.to_string())
        })?;
        let read = listings.len() as u64;
        let changes = st.db.import_listings(&listings, replace).map_err(store_error)?;
        Ok::<_, RemoteError>((read, changes))
    })
    .await
    .map_err(|e| {
        RemoteError::new(ErrorKind::Internal, format!("the listings import failed unexpectedly: {e}"))
    })??;
    state.db.backend().flush().await.map_err(store_error)?;
    let st = state.clone();
    tokio::task::spawn_blocking(move || st.listings.reload(&st.db))
        .await
        .map_err(|e| RemoteError::new(ErrorKind::Internal, format!("reading the listings back failed: {e}")))?
        .map_err(store_error)?;
    let (read, c) = changes;
    tracing::info!(file = %path, read, added = c.added, updated = c.updated, removed = c.removed, "listings imported");
    Ok(Response::ListingsImported(Box::new(ListingsImported {
        file: path,
        read,
        added: c.added,
        updated: c.updated,
        removed: c.removed,
        total: c.total,
    })))
}

fn store_error(e: StoreError) -> RemoteError {
    tracing::error!(error = %e, "store error in a listings request");
    RemoteError::new(ErrorKind::Internal, e.to_string())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use jiff::Timestamp;
    use leadline_shared::domain::{Contact, CustomFieldValue, User};
    use leadline_shared::protocol::Request;

    use super::*;

    use crate::ingest::Page;
    use crate::ipc::handler::handle;

    fn state(now: Timestamp) -> Arc<State> {
        State::in_memory(now)
    }

    const LISTINGS: &str = "ListingId,ListPrice,BedroomsTotal,BathroomsTotalInteger,City,StateOrProvince,PostalCode,SubdivisionName,PropertySubType,StandardStatus\n\
        P1,420000,3,2,Dallas,TX,75201,Plano,Single Family Residence,Active\n\
        P2,480000,4,3,Dallas,TX,75201,Frisco,Single Family Residence,Active\n\
        P3,300000,3,2,Houston,TX,77001,Katy,Single Family Residence,Active\n\
        P4,400000,3,2,Dallas,TX,75201,Plano,Single Family Residence,Closed\n";

    async fn lead(state: &Arc<State>, id: &str) -> LeadDetail {
        match handle(state, Request::Lead { id: id.into() }).await.expect("lead") {
            Response::Lead(d) => *d,
            other => panic!("{other:?}"),
        }
    }

    /// Listings imported through IPC, a buyer's wishes in custom fields: the lead's answer
    /// carries its best matches with reasons, a routing suggestion among the location's users,
    /// and its churn risk.
    #[tokio::test]
    async fn an_imported_listing_set_gives_a_lead_its_matches_routing_and_churn() {
        let now: Timestamp = "2026-12-01T15:00:00Z".parse().expect("ts");
        let state = state(now);
        let defs: Vec<CustomFieldDef> =
            [("fb", "contact.budget"), ("fl", "contact.location"), ("fr", "contact.bedrooms")]
                .into_iter()
                .map(|(id, key)| CustomFieldDef {
                    id: id.into(),
                    field_key: key.into(),
                    ..CustomFieldDef::default()
                })
                .collect();
        let users = ["Sarah Mitchell", "James Lee"]
            .iter()
            .enumerate()
            .map(|(i, n)| User { id: format!("u{i}"), name: Some((*n).into()), ..User::default() })
            .collect();
        let buyer = Contact {
            id: "c1".into(),
            first_name: Some("Maria".into()),
            custom_fields: vec![
                CustomFieldValue { id: "fb".into(), value: serde_json::json!(450_000) },
                CustomFieldValue { id: "fl".into(), value: serde_json::json!("Plano, Frisco") },
                CustomFieldValue { id: "fr".into(), value: serde_json::json!(3) },
            ],
            ..Contact::default()
        };
        let ingest = state.ingest();
        ingest.apply(Page::CustomFields(defs), now).expect("fields");
        ingest.apply(Page::Users(users), now).expect("users");
        ingest.apply(Page::Contacts(vec![buyer]), now).expect("lead");

        let before = lead(&state, "c1").await;
        assert!(before.matches.is_empty(), "no listings yet");

        let dir = tempfile::tempdir().expect("dir");
        let file = dir.path().join("mls.csv");
        std::fs::write(&file, LISTINGS).expect("write");
        let path = file.display().to_string();
        let done = match handle(&state, Request::ImportListings { path: path.clone(), replace: false }).await
        {
            Ok(Response::ListingsImported(done)) => *done,
            other => panic!("{other:?}"),
        };
        assert_eq!((done.read, done.added, done.total), (4, 4, 4));

        let detail = lead(&state, "c1").await;
        let ids: Vec<&str> = detail.matches.iter().map(|m| m.listing.listing_id.as_str()).collect();
        // P1 meets every wish; P2 is 7 % over budget (half the budget's points); P3 would score
        // 62 but is in Houston, not an area the lead named; P4 is sold.
        assert_eq!(ids, ["P1", "P2"], "{:#?}", detail.matches);
        let scores: Vec<u8> = detail.matches.iter().map(|m| m.score).collect();
        assert_eq!(scores, [88, 71]);
        let reasons: Vec<&str> =
            detail.matches[0].reasons.iter().filter(|r| r.asked).map(|r| r.text.as_str()).collect();
        assert_eq!(reasons, ["$420k within budget $450k", "in Plano", "3 bd meets 3+"]);

        let routing = detail.routing.as_ref().expect("a suggestion");
        assert!(["u0", "u1"].contains(&routing.user_id.as_str()));
        assert_eq!(routing.method, "best_fit");
        assert!(!routing.trace.is_empty());
        let churn = detail.churn.as_ref().expect("churn");
        assert_eq!(churn.tier, "medium", "never in touch: silence 30 + activity 25 = {churn:?}");

        // A bad file is refused whole, naming its line, and the store keeps what it had.
        std::fs::write(&file, "ListingId,ListPrice\nP9,100000\nP10,cheap\n").expect("write");
        let err = handle(&state, Request::ImportListings { path, replace: true }).await.expect_err("bad row");
        assert_eq!(err.kind, ErrorKind::BadRequest);
        assert!(err.message.contains("line 3: ListPrice \"cheap\" is not a number"), "{}", err.message);
        assert_eq!(state.db.listings().expect("listings").len(), 4);
        let err = handle(&state, Request::ImportListings { path: "mls.csv".into(), replace: false })
            .await
            .expect_err("relative");
        assert!(err.message.contains("not an absolute path"), "{}", err.message);
    }
}
