//! The command palette (`:`): every action of the keymap, found by typing part of its name or
//! description, run by Enter exactly as its key would run it.
//!
//! The matcher is a small subsequence scorer of our own ([`score`]): the list is a few dozen
//! short strings, so a dynamic program over each one costs microseconds and needs no crate.

use super::action::Action;
use super::input::TextInput;

/// Points for each query character matched.
const MATCH: i32 = 16;
/// Extra points when a character follows the previous match directly ("tag" in "add-tag").
const CONSECUTIVE: i32 = 24;
/// Extra points when a character starts a word ("at" in "add-tag" via a…t).
const WORD_START: i32 = 20;
/// Extra points when the first query character is the candidate's first.
const FIRST_CHAR: i32 = 12;
/// Points lost per candidate character skipped between two matches (capped per gap).
const GAP: i32 = 1;
const MAX_GAP_PENALTY: i32 = 8;

/// How well `query` matches `candidate` as a subsequence, ignoring case: `None` when some query
/// character cannot be matched in order; otherwise higher is better. Consecutive runs and
/// matches at word starts (after a space, `-`, `:`, `(`, or at the start) rank first, so
/// "at" finds "add tag" before "analytics". An empty query matches everything with 0.
pub fn score(query: &str, candidate: &str) -> Option<i32> {
    let query: Vec<char> =
        query.chars().filter(|c| !c.is_whitespace()).flat_map(char::to_lowercase).collect();
    if query.is_empty() {
        return Some(0);
    }
    let cand: Vec<char> = candidate.chars().flat_map(char::to_lowercase).collect();
    if query.len() > cand.len() {
        return None;
    }
    let word_start = |j: usize| j == 0 || !cand[j - 1].is_alphanumeric();
    // best[j]: the best score with the current query character matched at candidate position j.
    let mut best: Vec<Option<i32>> = vec![None; cand.len()];
    for (i, &q) in query.iter().enumerate() {
        let mut next: Vec<Option<i32>> = vec![None; cand.len()];
        // The best score of the previous character matched at some position before j, with
        // the gap penalty already taken from it as j moves right.
        let mut carried: Option<(i32, usize)> = None;
        for j in 0..cand.len() {
            if i > 0
                && j > 0
                && let Some(prev) = best[j - 1]
                && carried.is_none_or(|(s, at)| prev > s - gap(at, j))
            {
                carried = Some((prev, j - 1));
            }
            if cand[j] != q {
                continue;
            }
            let mut bonus = MATCH;
            if word_start(j) {
                bonus += WORD_START;
            }
            if i == 0 {
                if j == 0 {
                    bonus += FIRST_CHAR;
                }
                next[j] = Some(bonus);
                continue;
            }
            let consecutive = (j > 0).then(|| best[j - 1]).flatten().map(|s| s + bonus + CONSECUTIVE);
            let gapped = carried.map(|(s, at)| s - gap(at, j) + bonus);
            next[j] = consecutive.max(gapped);
        }
        best = next;
    }
    best.into_iter().flatten().max()
}

/// The penalty for the characters skipped between a match at `from` and one at `to`.
fn gap(from: usize, to: usize) -> i32 {
    let skipped = to.saturating_sub(from + 1);
    (i32::try_from(skipped).unwrap_or(i32::MAX).saturating_mul(GAP)).min(MAX_GAP_PENALTY)
}

/// How well `query` matches an action: by its name (`add-tag`) or, slightly behind, by its
/// description (`add a tag to the lead`).
pub fn action_score(query: &str, action: Action) -> Option<i32> {
    let by_name = score(query, &action.name());
    let by_desc = score(query, &action.description()).map(|s| s - MATCH);
    by_name.max(by_desc)
}

/// The actions matching `query`, best first; ties keep the help's order. The palette itself is
/// left out (running it from itself would only reopen it).
pub fn matches(query: &str) -> Vec<Action> {
    let mut scored: Vec<(i32, usize, Action)> = Action::all()
        .into_iter()
        .filter(|a| *a != Action::CommandPalette)
        .enumerate()
        .filter_map(|(i, a)| action_score(query, a).map(|s| (s, i, a)))
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    scored.into_iter().map(|(_, _, a)| a).collect()
}

/// The open palette: the query, the actions it matches and the one chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Palette {
    /// What was typed.
    pub input: TextInput,
    /// The matching actions, best first.
    pub matches: Vec<Action>,
    /// The chosen one's index in `matches`.
    pub selected: usize,
}

impl Default for Palette {
    fn default() -> Self {
        Palette::new()
    }
}

impl Palette {
    /// An empty query, listing every action.
    pub fn new() -> Self {
        Palette { input: TextInput::new(), matches: matches(""), selected: 0 }
    }

    /// The query changed: match again, choosing the best.
    pub fn refilter(&mut self) {
        self.matches = matches(self.input.value());
        self.selected = 0;
    }

    /// Moves the choice by `delta`, stopping at the ends.
    pub fn step(&mut self, delta: isize) {
        let last = self.matches.len().saturating_sub(1);
        self.selected = self.selected.saturating_add_signed(delta).min(last);
    }

    /// The chosen action, if any matches.
    pub fn chosen(&self) -> Option<Action> {
        self.matches.get(self.selected).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subsequences_match_and_others_do_not() {
        assert!(score("adtg", "add-tag").is_some());
        assert!(score("ADD", "add-tag").is_some(), "case is ignored");
        assert!(score("", "anything") == Some(0));
        assert_eq!(score("tga", "add-tag"), None, "order matters");
        assert_eq!(score("xyz", "add-tag"), None);
        assert_eq!(score("add-tags", "add-tag"), None, "longer than the candidate");
    }

    #[test]
    fn consecutive_and_word_start_matches_rank_first() {
        // "tag" as a run beats t…a…g spread out.
        assert!(score("tag", "add-tag") > score("tag", "the analytics graph"));
        // Word starts: "at" as a(dd)-t(ag) beats a run inside a word ("dat" has "at").
        assert!(score("at", "add-tag").expect("matches") > score("at", "update").expect("matches"));
        // A prefix beats the same letters later on.
        assert!(score("sync", "sync-now") > score("sync", "resync-now"));
        // Closer letters beat distant ones.
        assert!(score("rn", "run") > score("rn", "rxxxxn"));
    }

    #[test]
    fn the_palette_ranks_actions_by_name_then_description() {
        assert_eq!(matches("add tag").first(), Some(&Action::AddTag));
        assert_eq!(matches("sync").first(), Some(&Action::SyncNow));
        assert_eq!(matches("follow").first(), Some(&Action::FollowUps));
        assert_eq!(matches("hot").first(), Some(&Action::Queue(1)), "found by the queue's name");
        assert!(!matches("").contains(&Action::CommandPalette));
        assert_eq!(matches("").len(), Action::all().len() - 1, "an empty query lists everything");
        assert!(matches("qqqqzz").is_empty());
    }

    #[test]
    fn the_choice_stays_in_the_list() {
        let mut p = Palette::new();
        p.step(-1);
        assert_eq!(p.selected, 0);
        p.step(1_000);
        assert_eq!(p.selected, p.matches.len() - 1);
        p.input = TextInput::with_text("sync");
        p.refilter();
        assert_eq!((p.selected, p.chosen()), (0, Some(Action::SyncNow)));
    }
}
