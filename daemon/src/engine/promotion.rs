//! When a model trained on the location's history may score its leads: the history must be
//! big enough, and the model must beat `rules-v1` (and the model in use, if any) on held-out
//! deals. Pure: [`crate::intel`] measures, this decides.

use std::fmt::Write as _;

/// How much history training needs (`[scoring] model_min_closed_deals`, `model_min_per_class`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    /// Closed deals (won, lost and abandoned) at least.
    pub min_closed: usize,
    /// Won deals, and lost or abandoned ones, at least this many each.
    pub min_per_class: usize,
}

/// The location's closed deals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct History {
    pub won: usize,
    /// Lost and abandoned.
    pub lost: usize,
}

impl History {
    /// Every closed deal.
    pub fn closed(&self) -> usize {
        self.won + self.lost
    }
}

/// Why training is not even tried, in words for the lead view (`None`: enough history).
pub fn history_gate(h: History, t: Thresholds) -> Option<String> {
    if h.closed() < t.min_closed {
        return Some(format!("{} closed deals; the model needs {}", h.closed(), t.min_closed));
    }
    if h.won < t.min_per_class || h.lost < t.min_per_class {
        return Some(format!(
            "{} won and {} lost or abandoned deals; the model needs {} of each",
            h.won, h.lost, t.min_per_class
        ));
    }
    None
}

/// A newly trained model's held-out figures, all on the same held-out deals.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Trial {
    /// The new model's version (`gbdt-vN`).
    pub version: u32,
    /// The new model's AUC; `None` when the held-out deals hold one outcome only.
    pub model_auc: Option<f64>,
    /// `rules-v1`'s AUC on the same deals.
    pub rules_auc: Option<f64>,
    /// The model in use (its version and its AUC on the same deals), if one is.
    pub current: Option<(u32, Option<f64>)>,
}

/// What to do with a trained model.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// It scores the leads from now on.
    Promote,
    /// It is kept on record only; the reason says why.
    Reject(String),
}

/// Promotes a model that beats `rules-v1` and is no worse than the model in use, both on the
/// same held-out deals. A tie with `rules-v1` is not a win: the rule is the simpler scorer.
pub fn judge(t: &Trial) -> Verdict {
    let (Some(model), Some(rules)) = (t.model_auc, t.rules_auc) else {
        return Verdict::Reject(format!(
            "model v{}'s held-out deals hold one outcome only, so no AUC could be measured",
            t.version
        ));
    };
    if model <= rules {
        return Verdict::Reject(format!(
            "model v{}'s held-out AUC {model:.2} did not beat rules-v1's {rules:.2}",
            t.version
        ));
    }
    if let Some((current, Some(current_auc))) = t.current
        && model < current_auc
    {
        let mut why = format!(
            "model v{}'s held-out AUC {model:.2} is below model v{current}'s {current_auc:.2} on the same deals",
            t.version
        );
        let _ = write!(why, "; v{current} stays");
        return Verdict::Reject(why);
    }
    Verdict::Promote
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Thresholds = Thresholds { min_closed: 200, min_per_class: 20 };

    #[test]
    fn too_little_history_says_how_much_is_needed() {
        assert_eq!(
            history_gate(History { won: 12, lost: 30 }, T).as_deref(),
            Some("42 closed deals; the model needs 200")
        );
        assert_eq!(
            history_gate(History { won: 15, lost: 300 }, T).as_deref(),
            Some("15 won and 300 lost or abandoned deals; the model needs 20 of each")
        );
        assert_eq!(history_gate(History { won: 20, lost: 180 }, T), None);
    }

    #[test]
    fn a_model_must_beat_the_rules_on_the_held_out_deals() {
        let trial = Trial { version: 3, model_auc: Some(0.61), rules_auc: Some(0.66), current: None };
        assert_eq!(
            judge(&trial),
            Verdict::Reject("model v3's held-out AUC 0.61 did not beat rules-v1's 0.66".into())
        );
        let tie = Trial { model_auc: Some(0.66), ..trial };
        assert!(matches!(judge(&tie), Verdict::Reject(_)), "a tie keeps the rules");
        let better = Trial { model_auc: Some(0.71), ..trial };
        assert_eq!(judge(&better), Verdict::Promote);
    }

    #[test]
    fn a_model_worse_than_the_current_one_is_not_promoted() {
        let trial = Trial {
            version: 4,
            model_auc: Some(0.70),
            rules_auc: Some(0.60),
            current: Some((3, Some(0.72))),
        };
        assert_eq!(
            judge(&trial),
            Verdict::Reject(
                "model v4's held-out AUC 0.70 is below model v3's 0.72 on the same deals; v3 stays".into()
            )
        );
        assert_eq!(
            judge(&Trial { model_auc: Some(0.72), ..trial }),
            Verdict::Promote,
            "as good is promoted (newer data)"
        );
        assert_eq!(judge(&Trial { current: Some((3, None)), ..trial }), Verdict::Promote);
    }

    #[test]
    fn no_auc_no_promotion() {
        let trial = Trial { version: 2, model_auc: None, rules_auc: None, current: None };
        assert!(matches!(judge(&trial), Verdict::Reject(why) if why.contains("one outcome only")));
    }
}
