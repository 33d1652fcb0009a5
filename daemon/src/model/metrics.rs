//! Ranking and probability metrics, as pure functions of scores and 0/1 labels.

/// Indices of `scores` from the highest score down (NaN last).
fn order_desc(scores: &[f64]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    idx
}

/// Area under the ROC curve: the chance that a random positive scores above a random
/// negative, ties counting one half (the Mann-Whitney statistic with mid-ranks).
///
/// `None` when there is no positive or no negative, where the area means nothing.
pub fn auc(scores: &[f64], labels: &[bool]) -> Option<f64> {
    let pos = labels.iter().filter(|&&l| l).count() as f64;
    let neg = labels.len() as f64 - pos;
    if pos == 0.0 || neg == 0.0 {
        return None;
    }
    let idx = order_desc(scores);
    // Walk tie groups from the top: each positive in a group beats every negative below the
    // group and half of the negatives inside it.
    let mut negatives_below = neg;
    let mut wins = 0.0;
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        let (mut p, mut n) = (0.0, 0.0);
        while j < idx.len() && scores[idx[j]].total_cmp(&scores[idx[i]]).is_eq() {
            if labels[idx[j]] {
                p += 1.0
            } else {
                n += 1.0
            }
            j += 1;
        }
        negatives_below -= n;
        wins += p * (negatives_below + n / 2.0);
        i = j;
    }
    Some(wins / (pos * neg))
}

/// Average precision: the precision at each distinct score threshold, weighted by the recall
/// it adds (scikit-learn's `average_precision_score`). `None` without a positive.
pub fn average_precision(scores: &[f64], labels: &[bool]) -> Option<f64> {
    let pos = labels.iter().filter(|&&l| l).count() as f64;
    if pos == 0.0 {
        return None;
    }
    let idx = order_desc(scores);
    let (mut tp, mut seen, mut ap) = (0.0, 0.0, 0.0);
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        let mut group_tp = 0.0;
        while j < idx.len() && scores[idx[j]].total_cmp(&scores[idx[i]]).is_eq() {
            if labels[idx[j]] {
                group_tp += 1.0;
            }
            j += 1;
        }
        tp += group_tp;
        seen += (j - i) as f64;
        ap += (group_tp / pos) * (tp / seen);
        i = j;
    }
    Some(ap)
}

/// Probabilities are clipped to [EPS, 1 − EPS] so one confident miss costs a finite amount.
pub const LOGLOSS_EPS: f64 = 1e-15;

/// Mean negative log-likelihood of the labels under the probabilities. `None` when empty.
pub fn logloss(probs: &[f64], labels: &[bool]) -> Option<f64> {
    if probs.is_empty() {
        return None;
    }
    let sum: f64 = probs
        .iter()
        .zip(labels)
        .map(|(&p, &l)| {
            let p = p.clamp(LOGLOSS_EPS, 1.0 - LOGLOSS_EPS);
            if l { -p.ln() } else { -(1.0 - p).ln() }
        })
        .sum();
    Some(sum / probs.len() as f64)
}

/// The logistic function, stable at both ends.
pub fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: Option<f64>, b: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() < 1e-12)
    }

    #[test]
    fn auc_by_hand() {
        // Positives 0.9 and 0.4; negatives 0.8, 0.3, 0.1. Pairs won: 0.9 beats all 3,
        // 0.4 beats 0.3 and 0.1: 5 of 6.
        let s = [0.9, 0.8, 0.4, 0.3, 0.1];
        let l = [true, false, true, false, false];
        assert!(close(auc(&s, &l), 5.0 / 6.0));
        assert!(close(auc(&[0.1, 0.9], &[false, true]), 1.0));
        assert!(close(auc(&[0.9, 0.1], &[false, true]), 0.0));
    }

    #[test]
    fn auc_ties_count_half() {
        // Positive 0.5 ties one negative (0.5) and beats one (0.2): (1 + 0.5) / 2.
        assert!(close(auc(&[0.5, 0.5, 0.2], &[true, false, false]), 0.75));
        // Every score equal: a coin toss.
        assert!(close(auc(&[0.3; 4], &[true, false, true, false]), 0.5));
    }

    #[test]
    fn auc_needs_both_classes() {
        assert_eq!(auc(&[0.1, 0.2], &[true, true]), None);
        assert_eq!(auc(&[], &[]), None);
    }

    #[test]
    fn average_precision_by_hand() {
        // Ranked: +, -, +, -, -. Precision at each positive: 1/1 and 2/3; mean 5/6.
        let s = [0.9, 0.8, 0.4, 0.3, 0.1];
        let l = [true, false, true, false, false];
        assert!(close(average_precision(&s, &l), (1.0 + 2.0 / 3.0) / 2.0));
        // A tie between the top positive and a negative: one threshold holding both, precision
        // 1/2 for half the recall; then 2/3 for the other half.
        let s = [0.9, 0.9, 0.4, 0.1];
        let l = [true, false, true, false];
        assert!(close(average_precision(&s, &l), 0.5 * 0.5 + 0.5 * (2.0 / 3.0)));
        assert_eq!(average_precision(&[0.3], &[false]), None);
    }

    #[test]
    fn logloss_by_hand_and_clipped() {
        let ll = logloss(&[0.8, 0.25], &[true, false]).expect("two rows");
        assert!((ll - (-(0.8f64.ln()) - 0.75f64.ln()) / 2.0).abs() < 1e-12);
        let worst = logloss(&[0.0], &[true]).expect("one row");
        assert!((worst - -(LOGLOSS_EPS.ln())).abs() < 1e-9, "{worst}");
        assert_eq!(logloss(&[], &[]), None);
    }

    #[test]
    fn sigmoid_is_stable() {
        assert_eq!(sigmoid(0.0), 0.5);
        assert!(sigmoid(-800.0) >= 0.0 && sigmoid(800.0) <= 1.0);
        assert!((sigmoid(2.0) + sigmoid(-2.0) - 1.0).abs() < 1e-15);
    }
}
