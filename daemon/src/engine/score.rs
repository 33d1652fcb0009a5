//! The rules scorer (`rules-v1`): the predecessor's question count (business-rules.md §1a),
//! with an explanation that adds up to the score.

use jiff::Timestamp;
use leadline_shared::config::ScoringConfig;
use leadline_shared::domain::{Contribution, Qualification, Score, Temperature};

/// The name stored with each score.
pub const MODEL: &str = "rules-v1";

/// Percent by questions answered (0..=7), as the predecessor's `get_percentage_score`.
const PERCENT: [u8; 8] = [5, 15, 30, 50, 65, 75, 85, 100];

/// Scores a lead from its qualification.
///
/// The explanation is a `baseline` of 5 plus an equal share of the rest for each answered
/// question, so the contributions always sum to the score.
pub fn score(contact_id: &str, q: Qualification, cfg: &ScoringConfig, now: Timestamp) -> Score {
    let answered = q.answered_count().min(7);
    let value = PERCENT[answered as usize];
    let temperature = if answered >= cfg.hot_min_answered {
        Temperature::Hot
    } else if answered >= cfg.warm_min_answered {
        Temperature::Warm
    } else {
        Temperature::Cold
    };
    let mut explanation =
        vec![Contribution { feature: "baseline".into(), contribution: f64::from(PERCENT[0]) }];
    if answered > 0 {
        let share = f64::from(value - PERCENT[0]) / f64::from(answered);
        explanation.extend(
            q.answered().map(|item| Contribution { feature: item.as_str().into(), contribution: share }),
        );
    }
    Score {
        contact_id: contact_id.to_owned(),
        value,
        temperature,
        qualification: q,
        explanation,
        model: MODEL.into(),
        computed_at: Some(now),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use leadline_shared::config::Config;
    use leadline_shared::domain::QualificationItem;
    use proptest::prelude::*;

    fn with(n: usize) -> Qualification {
        let mut q = Qualification::default();
        for item in QualificationItem::ALL.iter().take(n) {
            q.answer(*item, "yes");
        }
        q
    }

    #[test]
    fn follows_the_predecessors_table() {
        let cfg = Config::default().scoring;
        let expect = [
            (0, 5, Temperature::Cold),
            (1, 15, Temperature::Cold),
            (2, 30, Temperature::Warm),
            (3, 50, Temperature::Hot),
            (5, 75, Temperature::Hot),
            (7, 100, Temperature::Hot),
        ];
        for (n, value, temp) in expect {
            let s = score("c", with(n), &cfg, Timestamp::UNIX_EPOCH);
            assert_eq!((s.value, s.temperature), (value, temp), "{n} answered");
        }
    }

    proptest! {
        #[test]
        fn explanation_sums_to_the_score(n in 0usize..=7) {
            let s = score("c", with(n), &Config::default().scoring, Timestamp::UNIX_EPOCH);
            let sum: f64 = s.explanation.iter().map(|c| c.contribution).sum();
            prop_assert!((sum - f64::from(s.value)).abs() < 1e-9);
            prop_assert_eq!(s.explanation.len(), n + 1);
        }
    }
}
