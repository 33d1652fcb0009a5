//! The lead queues: which leads, in which order. Each queue is a stretch of one of the
//! store's lead orders ([`Slice`]), so its exact length and its rows at any offset come from
//! ranks kept at write time, never from a walk.

use jiff::{SignedDuration, Timestamp};
use leadline_shared::config::QueuesConfig;
use leadline_shared::protocol::QueueName;

use crate::store::{Ranking, Slice, StoreError};

/// Why a queue could not be listed.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error(
        "there is no saved smart list named {0:?}; use speed-to-lead, hot, needs-reply, due, dormant, all{1}, or add a [[queues.lists]] block named so to the config"
    )]
    UnknownList(String, String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The stretch of a lead order that is the queue `name` at `now`.
pub fn plan(name: &QueueName, now: Timestamp, cfg: &QueuesConfig) -> Result<Slice, QueueError> {
    let hours = |h: u64| SignedDuration::from_hours(h.min(1_000_000) as i64);
    Ok(match name {
        QueueName::All => Slice::all(Ranking::Score),
        QueueName::Hot => Slice::all(Ranking::Hot),
        // The freshest lead is the one still worth the most: newest first.
        QueueName::SpeedToLead => Slice {
            since: Some(now - hours(cfg.speed_to_lead_window_hours)),
            reverse: true,
            ..Slice::all(Ranking::Uncontacted)
        },
        QueueName::NeedsReply => Slice::all(Ranking::Awaiting),
        QueueName::Due => Slice { through: Some(now), ..Slice::all(Ranking::Due) },
        QueueName::Dormant => {
            Slice::all(Ranking::QuietBefore(now - hours(cfg.dormant_after_days.saturating_mul(24))))
        }
        // A saved list is not a stretch of an order: `crate::smart_lists` walks it.
        QueueName::Saved(name) => {
            let saved: String = cfg.lists.iter().map(|l| format!(", {}", l.name)).collect();
            return Err(QueueError::UnknownList(name.clone(), saved));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use leadline_shared::config::Config;

    #[test]
    fn each_queue_is_a_stretch_of_an_order() {
        let now = Timestamp::from_second(1_000_000).expect("ts");
        let cfg = Config::default().queues;
        let stl = plan(&QueueName::SpeedToLead, now, &cfg).expect("plan");
        assert_eq!(stl.ranking, Ranking::Uncontacted);
        assert_eq!(stl.since, Some(now - SignedDuration::from_hours(cfg.speed_to_lead_window_hours as i64)));
        assert!(stl.reverse);
        let due = plan(&QueueName::Due, now, &cfg).expect("plan");
        assert_eq!((due.ranking, due.through), (Ranking::Due, Some(now)));
        let dormant = plan(&QueueName::Dormant, now, &cfg).expect("plan");
        let quiet = SignedDuration::from_hours(cfg.dormant_after_days as i64 * 24);
        assert_eq!(dormant.ranking, Ranking::QuietBefore(now - quiet));
        assert_eq!(plan(&QueueName::Hot, now, &cfg).expect("plan"), Slice::all(Ranking::Hot));
        assert!(matches!(plan(&QueueName::Saved("x".into()), now, &cfg), Err(QueueError::UnknownList(..))));
    }
}
