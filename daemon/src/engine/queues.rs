//! The lead queues: which leads, in which order. Each queue walks one index and stops as
//! soon as it has `limit` rows, so a query costs about `limit` reads whatever the store size.

use std::ops::ControlFlow;

use jiff::{SignedDuration, Timestamp};
use leadline_shared::config::QueuesConfig;
use leadline_shared::domain::{LeadSummary, Temperature};
use leadline_shared::protocol::QueueName;

use crate::store::{Db, LeadOrder, StoreError};

/// Why a queue could not be listed.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error(
        "there is no saved smart list named {0:?} yet; use speed-to-lead, hot, needs-reply, due, dormant or all"
    )]
    UnknownList(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The index a queue walks, and which rows of it belong to the queue at `now`.
pub fn plan(name: &QueueName, now: Timestamp, cfg: &QueuesConfig) -> Result<(LeadOrder, Filter), QueueError> {
    let hours = |h: u64| SignedDuration::from_hours(h.min(1_000_000) as i64);
    Ok(match name {
        QueueName::All => (LeadOrder::Score, Filter::Any),
        QueueName::Hot => (LeadOrder::Score, Filter::Hot),
        QueueName::SpeedToLead => {
            (LeadOrder::UncontactedNewest, Filter::AddedSince(now - hours(cfg.speed_to_lead_window_hours)))
        }
        QueueName::NeedsReply => (LeadOrder::AwaitingLongest, Filter::Any),
        QueueName::Due => (LeadOrder::DueSoonest, Filter::DueBy(now)),
        QueueName::Dormant => {
            (LeadOrder::Score, Filter::QuietSince(now - hours(cfg.dormant_after_days * 24)))
        }
        QueueName::Saved(name) => return Err(QueueError::UnknownList(name.clone())),
    })
}

/// Which rows of an index walk belong to a queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    Any,
    Hot,
    /// Added at or after this time; the walk is newest first, so it stops at the first older.
    AddedSince(Timestamp),
    /// A follow-up due at or before this time; the walk is in due order, so it stops at the
    /// first one later.
    DueBy(Timestamp),
    /// No activity since this time.
    QuietSince(Timestamp),
}

/// What to do with one row of the walk.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Take,
    Skip,
    Stop,
}

impl Filter {
    /// Judges one row.
    pub fn judge(&self, lead: &LeadSummary) -> Verdict {
        let keep = |b: bool| if b { Verdict::Take } else { Verdict::Skip };
        match *self {
            Filter::Any => Verdict::Take,
            Filter::Hot => keep(lead.temperature == Temperature::Hot),
            Filter::AddedSince(t) => match lead.date_added {
                Some(d) if d >= t => Verdict::Take,
                _ => Verdict::Stop,
            },
            Filter::DueBy(t) => match lead.next_followup_at {
                Some(due) if due <= t => Verdict::Take,
                _ => Verdict::Stop,
            },
            Filter::QuietSince(t) => keep(lead.last_activity.is_none_or(|a| a < t)),
        }
    }
}

/// Lists the best `limit` leads of a queue at `now`.
pub fn list(
    db: &Db,
    name: &QueueName,
    limit: usize,
    now: Timestamp,
    cfg: &QueuesConfig,
) -> Result<Vec<LeadSummary>, QueueError> {
    let (order, filter) = plan(name, now, cfg)?;
    let mut out = Vec::with_capacity(limit.min(1024));
    if limit == 0 {
        return Ok(out);
    }
    db.leads_by(order, &mut |lead| match filter.judge(&lead) {
        Verdict::Take => {
            out.push(lead);
            if out.len() >= limit { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
        }
        Verdict::Skip => ControlFlow::Continue(()),
        Verdict::Stop => ControlFlow::Break(()),
    })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use leadline_shared::config::Config;

    #[test]
    fn filters_judge_rows() {
        let now = Timestamp::from_second(1_000_000).expect("ts");
        let cfg = Config::default().queues;
        let lead = LeadSummary {
            date_added: Some(now - SignedDuration::from_hours(1)),
            last_activity: Some(now - SignedDuration::from_hours(24 * 40)),
            ..Default::default()
        };
        let (_, f) = plan(&QueueName::SpeedToLead, now, &cfg).expect("plan");
        assert_eq!(f.judge(&lead), Verdict::Take);
        let (_, f) = plan(&QueueName::Dormant, now, &cfg).expect("plan");
        assert_eq!(f.judge(&lead), Verdict::Take);
        let (_, f) = plan(&QueueName::Due, now, &cfg).expect("plan");
        assert_eq!(f.judge(&lead), Verdict::Stop);
        let (_, f) = plan(&QueueName::Hot, now, &cfg).expect("plan");
        assert_eq!(f.judge(&lead), Verdict::Skip);
        assert!(matches!(plan(&QueueName::Saved("x".into()), now, &cfg), Err(QueueError::UnknownList(_))));
    }
}
