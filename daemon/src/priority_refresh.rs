//! Keeps each row's stored priority (and so its place in `hot` and `all`) right as time
//! passes. A priority moves without a write only when a speed-to-lead step passes or a
//! follow-up comes due (`engine::priority::changes_after`), so a pass looks at two short
//! stretches of the orders, never at every lead: the uncontacted leads that arrived in the
//! last day, and the leads whose follow-up came due since the last pass. The leads whose
//! priority moved are rescored through the ingester (under the store's writer lock, so a pass
//! never overwrites a newer row), and the clients are told.
//!
//! At start, a full pass (every lead) runs once when `[scoring.priority]` differs from what the
//! stored priorities were computed with.

use std::collections::BTreeSet;
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use leadline_shared::config::PriorityConfig;
use leadline_shared::protocol::Event;
use tokio_util::sync::CancellationToken;

use crate::engine::priority::{self, SPEED_HORIZON};
use crate::state::State;
use crate::store::{Batch, Db, Put, Ranking, Slice, StoreError};

/// How often the pass runs. The first speed-to-lead step is 5 minutes, so a lead is at most
/// this late to move down.
pub const PERIOD: std::time::Duration = std::time::Duration::from_secs(30);

/// The `meta` key of the `[scoring.priority]` the stored priorities were computed with.
pub const META_PRIORITY_CONFIG: &str = "priority/config";

/// Rows read per window while a pass walks an order.
const PAGE: usize = 1_000;

/// Which stretches of the orders a pass looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Every lead (the configuration changed).
    All,
    /// The uncontacted leads still within a day of arriving, and the follow-ups that came due
    /// since `since` (all that are due when `None`: the first pass after a start).
    Moving { since: Option<Timestamp> },
}

/// The leads whose stored priority is not their priority at `now`.
pub fn stale(
    db: &Db,
    now: Timestamp,
    scope: Scope,
    cfg: &PriorityConfig,
) -> Result<BTreeSet<String>, StoreError> {
    let mut out = BTreeSet::new();
    let slices = match scope {
        Scope::All => vec![Slice::all(Ranking::Score)],
        Scope::Moving { since } => {
            // A lead that crossed the day's end since the last pass must be seen once more.
            let margin = since.map_or(SignedDuration::from_hours(24 * 365 * 100), |s| now.duration_since(s));
            let arrived = now.checked_sub(SPEED_HORIZON + margin.max(SignedDuration::ZERO)).ok();
            vec![
                Slice { since: arrived, ..Slice::all(Ranking::Uncontacted) },
                Slice { since, through: Some(now), ..Slice::all(Ranking::Due) },
            ]
        }
    };
    for slice in slices {
        let mut offset = 0u64;
        loop {
            let window = db.slice_window(&slice, offset, PAGE, None)?;
            for row in &window.rows {
                let mut fresh = row.clone();
                priority::stamp(&mut fresh, now, cfg);
                if fresh != *row {
                    out.insert(row.id.clone());
                }
            }
            offset += PAGE as u64;
            if window.rows.is_empty() || offset >= window.total {
                break;
            }
        }
    }
    Ok(out)
}

/// One pass: finds the stale rows and rescores them; returns the leads whose rows changed.
pub fn pass(state: &State, now: Timestamp, scope: Scope) -> Result<Vec<String>, crate::ingest::IngestError> {
    let ids = stale(&state.db, now, scope, &state.config.scoring.priority)?;
    let mut changed = Vec::new();
    let ingest = state.ingest();
    let ids: Vec<String> = ids.into_iter().collect();
    for chunk in ids.chunks(PAGE) {
        let chunk: BTreeSet<String> = chunk.iter().cloned().collect();
        changed.extend(ingest.rescore(&chunk, now)?);
    }
    Ok(changed)
}

/// Runs the passes until `shutdown`: a full one first if the configuration changed, then the
/// short ones every [`PERIOD`].
pub async fn run(state: Arc<State>, shutdown: CancellationToken) {
    let cfg = state.config.scoring.priority.clone();
    let stored = state.db.meta::<PriorityConfig>(META_PRIORITY_CONFIG);
    // A store migrated to schema 7 computed its priorities with the defaults.
    let differs = match &stored {
        Ok(Some(old)) => *old != cfg,
        Ok(None) => cfg != PriorityConfig::default(),
        Err(_) => true,
    };
    let mut scope = if differs { Scope::All } else { Scope::Moving { since: None } };
    let mut tick = tokio::time::interval(PERIOD);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        let now = state.clock.now();
        let run_state = state.clone();
        let result = tokio::task::spawn_blocking(move || pass(&run_state, now, scope)).await;
        match result {
            Ok(Ok(changed)) => {
                if scope == Scope::All {
                    tracing::info!(
                        leads = changed.len(),
                        "priorities recomputed for the new [scoring.priority]"
                    );
                    let value = serde_json::to_value(&cfg).unwrap_or_default();
                    let mut save = Batch::new();
                    save.put(Put::Meta { key: META_PRIORITY_CONFIG.into(), value });
                    if let Err(e) = state.db.commit(&save) {
                        tracing::warn!(error = %e, "cannot record the priority settings; the next start recomputes again");
                    }
                }
                if !changed.is_empty() {
                    tracing::debug!(leads = changed.len(), "priorities moved with the time");
                    state.publish(Event::LeadsChanged { ids: changed });
                }
                scope = Scope::Moving { since: Some(now) };
            }
            Ok(Err(e)) => tracing::warn!(error = %e, "the priority refresh failed; it runs again shortly"),
            Err(e) => {
                tracing::warn!(error = %e, "the priority refresh stopped unexpectedly; it runs again shortly")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use leadline_shared::domain::LeadSummary;

    use super::*;
    use crate::store::MemoryStore;

    fn at(s: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + s).expect("ts")
    }

    #[test]
    fn a_pass_finds_only_the_rows_whose_priority_moved() {
        let db = Db::open(Arc::new(MemoryStore::new())).expect("open");
        let cfg = PriorityConfig::default();
        let written = at(0);
        let rows = [
            // Arrived at 0, uncontacted: moves at 5 min.
            LeadSummary { id: "fresh".into(), date_added: Some(at(0)), ..LeadSummary::default() },
            // Contacted: never moves.
            LeadSummary {
                id: "calm".into(),
                score: 50,
                date_added: Some(at(-100_000)),
                first_outbound_at: Some(at(-90_000)),
                ..LeadSummary::default()
            },
            // A follow-up due at 10 min.
            LeadSummary {
                id: "due".into(),
                date_added: Some(at(-100_000)),
                first_outbound_at: Some(at(-90_000)),
                next_followup_at: Some(at(600)),
                ..LeadSummary::default()
            },
        ];
        let mut batch = Batch::new();
        for mut row in rows {
            priority::stamp(&mut row, written, &cfg);
            batch.put(Put::Lead(row));
        }
        db.commit(&batch).expect("write");
        let moving = |now, since| stale(&db, now, Scope::Moving { since }, &cfg).expect("stale");
        assert!(moving(at(60), Some(at(30))).is_empty());
        assert_eq!(moving(at(400), Some(at(370))), BTreeSet::from(["fresh".to_owned()]));
        assert_eq!(moving(at(700), Some(at(400))), BTreeSet::from(["due".to_owned(), "fresh".to_owned()]));
        assert_eq!(stale(&db, at(700), Scope::All, &cfg).expect("all").len(), 2);
    }
}
