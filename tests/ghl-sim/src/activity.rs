//! `--activity`: a live location. New leads arrive, leads reply to the team's texts with
//! qualifying answers, a few text STOP, and deals move. Every change fires its webhook.

use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use rand::seq::IndexedRandom;
use serde_json::Value;

use crate::ops;
use crate::seed::script::{self, LeadType, Profile};
use crate::seed::words;
use crate::server::Shared;

/// Runs until aborted.
pub async fn run(sh: Arc<Shared>) {
    let mut rng = crate::seed::stream_rng(sh.cfg.seed, 50);
    let mean = sh.cfg.activity_interval_ms.max(10) as f64;
    loop {
        let wait = (mean * rng.random_range(0.5..1.5)) as u64;
        tokio::time::sleep(Duration::from_millis(wait)).await;
        let roll: f64 = rng.random();
        let result = if roll < 0.3 {
            ops::inject_lead(&sh, &Value::Null).map(|_| ())
        } else if roll < 0.85 {
            reply(&sh, &mut rng, false)
        } else if roll < 0.9 {
            reply(&sh, &mut rng, true)
        } else {
            move_deal(&sh, &mut rng);
            Ok(())
        };
        if let Err(e) = result {
            tracing::debug!("activity step skipped: {:?}", e.message);
        }
    }
}

/// A contact waiting on the lead (last message outbound, SMS allowed) answers, or says STOP.
fn reply(sh: &Shared, rng: &mut impl Rng, stop: bool) -> Result<(), crate::error::ApiError> {
    let pick = {
        let store = sh.read();
        let n = store.contact_count();
        if n == 0 {
            return Ok(());
        }
        // Try a few random contacts; new leads are the likeliest to answer.
        let mut found = None;
        for _ in 0..20 {
            let k = if rng.random_bool(0.5) {
                n - 1 - rng.random_range(0..n.min(50))
            } else {
                rng.random_range(0..n)
            };
            let Some(c) = store.contacts_in_order().nth(k) else {
                continue;
            };
            if c.dnd_blocks("SMS") || c.phone.is_none() {
                continue;
            }
            let waiting = store
                .conversation_of(&c.id)
                .is_none_or(|conv| conv.last_message_direction.as_deref() != Some("inbound"));
            if waiting {
                found = Some(c.clone());
                break;
            }
        }
        found
    };
    let Some(c) = pick else {
        return Ok(());
    };
    let body = if stop {
        "STOP".to_string()
    } else {
        let region = c.phone.as_deref().and_then(words::region_of_phone).unwrap_or(&words::REGIONS[0]);
        let lead_type =
            if c.tags.iter().any(|t| t == "Seller-Lead") { LeadType::Seller } else { LeadType::Buyer };
        let profile = Profile::draw(rng, lead_type, region);
        let topic = profile.topics().choose(rng).copied().unwrap_or(script::Topic::Timeline);
        script::answer(rng, topic, &profile)
    };
    ops::inbound(sh, &c.id, &body).map(|_| ())
}

/// An open deal advances a stage, or is won or lost.
fn move_deal(sh: &Shared, rng: &mut impl Rng) {
    let now = sh.now_ms();
    let (before, after) = {
        let mut store = sh.write();
        let n = store.opportunity_count();
        if n == 0 {
            return;
        }
        let k = rng.random_range(0..n);
        let Some(o) = store.opportunities_in_order().nth(k).cloned() else {
            return;
        };
        if o.status != "open" {
            return;
        }
        let Some(p) = store.pipelines.iter().find(|p| p.id == o.pipeline_id).cloned() else {
            return;
        };
        let pos = p.stages.iter().position(|s| s.id == o.pipeline_stage_id).unwrap_or(0);
        let roll: f64 = rng.random();
        let iso = crate::time::iso_from_ms(now);
        let after = store.update_opportunity(&o.id, now, |op| {
            if roll < 0.15 {
                op.status = "lost".into();
                op.last_status_change_at = Some(iso.clone());
            } else if pos + 2 >= p.stages.len() {
                op.status = "won".into();
                op.last_status_change_at = Some(iso.clone());
                if let Some(last) = p.stages.last() {
                    op.pipeline_stage_id = last.id.clone();
                }
                op.last_stage_change_at = Some(iso.clone());
            } else if let Some(next) = p.stages.get(pos + 1) {
                op.pipeline_stage_id = next.id.clone();
                op.last_stage_change_at = Some(iso.clone());
            }
        });
        (o, after)
    };
    if let Some(a) = after {
        if a.status != before.status {
            sh.webhooks.opportunity_event("OpportunityStatusUpdate", &a, now);
        }
        if a.pipeline_stage_id != before.pipeline_stage_id {
            sh.webhooks.opportunity_event("OpportunityStageUpdate", &a, now);
        }
    }
}
