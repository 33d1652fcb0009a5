//! Routing suggestions for teams (business-rules.md §3, routing; crm-landscape.md: a "why
//! routed here" trace). Pure: the agents with their load and record, and what the lead needs,
//! in; one suggestion with its trace out.
//!
//! The predecessor ran four analyzers (expertise, performance, availability, workload) and a
//! consensus; here they are three terms of one score over the agents that may take the lead:
//!
//! - **candidates:** not paused, inside their working hours now, and with room: the lead keeps
//!   their load at or under `max_load` of their capacity (80 %);
//! - **specialty** (0.4): the agent has a specialty the lead needs (luxury from the budget,
//!   first-time buyer, relocation, investment, ... from its answers and tags);
//! - **performance** (0.3): the agent's win rate against the best candidate's;
//! - **room** (0.3): 1 − load ratio, the predecessor's workload analyzer.
//!
//! Ties go by turn (the lead's place in a rotation of the candidates). When no agent may take
//! the lead, round robin over the available agents (or all of them) is the fallback.

use leadline_shared::protocol::RoutingSuggestion;

const W_SPECIALTY: f64 = 0.4;
const W_PERFORMANCE: f64 = 0.3;
const W_ROOM: f64 = 0.3;

/// An agent as routing sees it now.
#[derive(Debug, Clone, PartialEq)]
pub struct Agent {
    pub user_id: String,
    pub name: String,
    pub capacity: u32,
    pub specialties: Vec<String>,
    /// `Ok(hours)` when the agent can take a lead now (hours in words, for the trace), or why
    /// not.
    pub available: Result<String, String>,
    /// Open leads now.
    pub load: u32,
    /// Leads ever assigned, and of them won.
    pub leads: u64,
    pub won: u64,
}

impl Agent {
    fn ratio(&self, extra: u32) -> f64 {
        f64::from(self.load + extra) / f64::from(self.capacity.max(1))
    }

    fn win_rate(&self) -> f64 {
        if self.leads == 0 { 0.0 } else { self.won as f64 / self.leads as f64 }
    }
}

/// What a lead needs from its agent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Needs {
    /// The specialties it calls for, each with why ("luxury: budget $1.2M").
    pub specialties: Vec<(String, String)>,
    /// The agent it is assigned to now, if any.
    pub current: Option<String>,
    /// Its turn in a rotation (a stable hash of its id), for ties and the round robin.
    pub turn: u64,
}

/// The specialties a lead's words call for: its tags and qualification answers, lowercase,
/// and its budget against `luxury_budget`.
pub fn specialties_of(text: &str, budget: Option<f64>, luxury_budget: f64) -> Vec<(String, String)> {
    let lower = text.to_lowercase();
    let mut out = Vec::new();
    if let Some(b) = budget.filter(|b| *b >= luxury_budget) {
        out.push(("luxury".to_owned(), format!("budget {}", super::matching::money(b))));
    }
    const CUES: &[(&str, &[&str])] = &[
        ("first_time_buyers", &["first time", "first-time", "first home"]),
        ("relocation", &["relocat", "transfer", "moving from", "new job"]),
        ("investment", &["invest", "rental", "flip", "cash flow"]),
        ("commercial", &["commercial", "retail space", "office space"]),
        ("distressed", &["foreclos", "short sale", "distress", "behind on payments"]),
        ("new_construction", &["new construction", "new build", "builder"]),
        ("senior_housing", &["55+", "senior", "retire", "downsiz"]),
    ];
    for (specialty, cues) in CUES {
        if let Some(cue) = cues.iter().find(|c| lower.contains(*c)) {
            out.push(((*specialty).to_owned(), format!("mentions \"{}\"", cue.trim_end_matches(' '))));
        }
    }
    out
}

/// A stable turn for a lead id (FNV-1a), so the same lead gets the same fallback agent.
pub fn turn_of(id: &str) -> u64 {
    id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3))
}

fn percent(r: f64) -> String {
    format!("{:.0}%", r * 100.0)
}

/// The agent to route the lead to, with the trace of why; `None` with no agents.
pub fn suggest(agents: &[Agent], needs: &Needs, max_load: f64) -> Option<RoutingSuggestion> {
    if agents.is_empty() {
        return None;
    }
    let mut trace = Vec::new();
    if needs.specialties.is_empty() {
        trace.push("the lead needs no specialty".to_owned());
    } else {
        let list: Vec<String> = needs.specialties.iter().map(|(s, why)| format!("{s} ({why})")).collect();
        trace.push(format!("the lead needs: {}", list.join(", ")));
    }
    let mut left_out = Vec::new();
    let candidates: Vec<&Agent> = agents
        .iter()
        .filter(|a| match &a.available {
            Err(why) => {
                left_out.push(format!("{}: {why}", a.name));
                false
            }
            Ok(_) if a.ratio(1) > max_load + 1e-9 => {
                left_out.push(format!(
                    "{}: load {} of {} ({}); one more would pass {}",
                    a.name,
                    a.load,
                    a.capacity,
                    percent(a.ratio(0)),
                    percent(max_load)
                ));
                false
            }
            Ok(_) => true,
        })
        .collect();
    let best_rate = candidates.iter().map(|a| a.win_rate()).fold(0.0, f64::max);
    let wanted = |a: &Agent| needs.specialties.iter().find(|(s, _)| a.specialties.iter().any(|h| h == s));
    let score = |a: &Agent| {
        let specialty = if wanted(a).is_some() { 1.0 } else { 0.0 };
        let performance = if best_rate > 0.0 { a.win_rate() / best_rate } else { 0.0 };
        W_SPECIALTY * specialty + W_PERFORMANCE * performance + W_ROOM * (1.0 - a.ratio(0)).max(0.0)
    };
    // The rotation: candidates ordered from the lead's turn on, so ties go round.
    let rotated = |list: &[&Agent]| -> Vec<usize> {
        let n = list.len().max(1);
        let start = (needs.turn % n as u64) as usize;
        (0..list.len()).map(|i| (start + i) % n).collect()
    };
    let (chosen, method) = if candidates.is_empty() {
        let available: Vec<&Agent> = agents.iter().filter(|a| a.available.is_ok()).collect();
        let pool = if available.is_empty() { agents.iter().collect() } else { available };
        let pick = pool[rotated(&pool)[0]];
        let which = if pool.iter().all(|a| a.available.is_ok()) { "available" } else { "all" };
        trace.push(format!(
            "no agent is available with room under {} load: round robin over the {} {which} agents",
            percent(max_load),
            pool.len(),
        ));
        (pick, "round_robin")
    } else {
        let mut best: Option<(f64, &Agent)> = None;
        for i in rotated(&candidates) {
            let a = candidates[i];
            let s = score(a);
            if best.is_none_or(|(b, _)| s > b + 1e-9) {
                best = Some((s, a));
            }
        }
        let (s, a) = best?;
        if let Ok(hours) = &a.available {
            trace.push(format!("{} is available ({hours})", a.name));
        }
        trace.push(format!(
            "load {} of {} ({}), {} with this lead, under {}",
            a.load,
            a.capacity,
            percent(a.ratio(0)),
            percent(a.ratio(1)),
            percent(max_load)
        ));
        match wanted(a) {
            Some((s, _)) => trace.push(format!("specialty {s}")),
            None if !needs.specialties.is_empty() => trace.push("no candidate has the specialty".to_owned()),
            None => {}
        }
        trace.push(format!("won {} of {} leads ({})", a.won, a.leads, percent(a.win_rate())));
        let mut others: Vec<(f64, &&Agent)> =
            candidates.iter().filter(|b| b.user_id != a.user_id).map(|b| (score(b), b)).collect();
        others.sort_by(|x, y| y.0.total_cmp(&x.0));
        let runners: Vec<String> =
            others.iter().take(3).map(|(sb, b)| format!("{} {sb:.2}", b.name)).collect();
        trace.push(if runners.is_empty() {
            format!("best fit {s:.2}: the only agent with room")
        } else {
            format!("best fit {s:.2} (specialty .4, win rate .3, room .3) over {}", runners.join(", "))
        });
        (a, "best_fit")
    };
    for line in left_out {
        trace.push(format!("left out: {line}"));
    }
    let current = needs.current.as_deref() == Some(chosen.user_id.as_str());
    if current {
        trace.push("the lead is already assigned to this agent".to_owned());
    }
    Some(RoutingSuggestion {
        user_id: chosen.user_id.clone(),
        name: chosen.name.clone(),
        method: method.to_owned(),
        load: chosen.load,
        capacity: chosen.capacity,
        current,
        trace,
    })
}

/// Whether an agent works at this local weekday (0 = Monday) and hour, by its days and hours.
pub fn works_at(days: &[String], start: Option<u8>, end: Option<u8>, weekday: u8, hour: u8) -> bool {
    const NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let day_ok = days.is_empty()
        || days
            .iter()
            .any(|d| d.trim().to_ascii_lowercase().get(..3) == NAMES.get(usize::from(weekday)).copied());
    let hour_ok = match (start, end) {
        (Some(s), Some(e)) if s < e => (s..e).contains(&hour),
        // Overnight hours (22 to 6).
        (Some(s), Some(e)) if s > e => hour >= s || hour < e,
        (Some(s), None) => hour >= s,
        (None, Some(e)) => hour < e,
        _ => true,
    };
    day_ok && hour_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(id: &str, load: u32, cap: u32, specs: &[&str], won: u64, leads: u64) -> Agent {
        Agent {
            user_id: id.into(),
            name: id.to_uppercase(),
            capacity: cap,
            specialties: specs.iter().map(|s| (*s).to_owned()).collect(),
            available: Ok("always".into()),
            load,
            leads,
            won,
        }
    }

    #[test]
    fn the_specialist_with_room_wins_and_the_trace_says_why() {
        let agents = [
            agent("a", 2, 10, &[], 5, 20),
            agent("b", 5, 10, &["luxury"], 2, 20),
            agent("c", 8, 10, &["luxury"], 9, 20),
        ];
        let needs =
            Needs { specialties: specialties_of("", Some(1_500_000.0), 1_000_000.0), ..Needs::default() };
        let s = suggest(&agents, &needs, 0.8).expect("a suggestion");
        // c would be at 90 %: left out. b has the specialty: .4 + .3 × (2/5)/(5/20) ... beats a.
        assert_eq!(s.user_id, "b");
        assert_eq!(s.method, "best_fit");
        assert_eq!(s.trace[0], "the lead needs: luxury (budget $1.5M)");
        assert!(s.trace.contains(&"specialty luxury".to_owned()), "{:?}", s.trace);
        assert!(
            s.trace.contains(&"load 5 of 10 (50%), 60% with this lead, under 80%".to_owned()),
            "{:?}",
            s.trace
        );
        assert!(
            s.trace.iter().any(|l| l == "left out: C: load 8 of 10 (80%); one more would pass 80%"),
            "{:?}",
            s.trace
        );
    }

    #[test]
    fn room_and_record_decide_without_a_specialty() {
        let agents = [agent("busy", 6, 10, &[], 3, 30), agent("free", 1, 10, &[], 3, 30)];
        let s = suggest(&agents, &Needs::default(), 0.8).expect("a suggestion");
        assert_eq!(s.user_id, "free");
        let agents = [agent("x", 2, 10, &[], 0, 30), agent("y", 2, 10, &[], 9, 30)];
        assert_eq!(suggest(&agents, &Needs::default(), 0.8).map(|s| s.user_id).as_deref(), Some("y"));
    }

    #[test]
    fn with_nobody_free_it_is_round_robin_by_the_leads_turn() {
        let mut off = agent("off", 0, 10, &[], 0, 0);
        off.available = Err("outside hours (mon–fri 8–18 America/Chicago)".into());
        let agents = [agent("full1", 8, 10, &[], 0, 0), agent("full2", 9, 10, &[], 0, 0), off];
        let picks: Vec<String> = (0..4)
            .map(|turn| suggest(&agents, &Needs { turn, ..Needs::default() }, 0.8).expect("s").user_id)
            .collect();
        assert_eq!(picks, ["full1", "full2", "full1", "full2"], "round robin over the available agents");
        let s = suggest(&agents, &Needs { turn: 0, ..Needs::default() }, 0.8).expect("s");
        assert_eq!(s.method, "round_robin");
        assert!(s.trace.iter().any(|l| l.starts_with("left out: OFF: outside hours")), "{:?}", s.trace);
        assert!(suggest(&[], &Needs::default(), 0.8).is_none());
    }

    #[test]
    fn equal_agents_take_turns_and_the_current_one_is_named() {
        let agents = [agent("a", 1, 10, &[], 0, 0), agent("b", 1, 10, &[], 0, 0)];
        let first = suggest(&agents, &Needs { turn: 0, ..Needs::default() }, 0.8).expect("s").user_id;
        let second = suggest(&agents, &Needs { turn: 1, ..Needs::default() }, 0.8).expect("s").user_id;
        assert_ne!(first, second);
        let s = suggest(&agents, &Needs { turn: 0, current: Some(first.clone()), ..Needs::default() }, 0.8)
            .expect("s");
        assert!(s.current);
    }

    #[test]
    fn specialties_and_hours_are_read() {
        let s = specialties_of("First-time buyer, relocating for a new job", Some(300_000.0), 1_000_000.0);
        let names: Vec<&str> = s.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["first_time_buyers", "relocation"]);
        let days = vec!["mon".to_owned(), "Friday".to_owned()];
        assert!(works_at(&days, Some(8), Some(18), 0, 8));
        assert!(!works_at(&days, Some(8), Some(18), 0, 18));
        assert!(!works_at(&days, Some(8), Some(18), 2, 10));
        assert!(works_at(&days, Some(8), Some(18), 4, 17));
        assert!(works_at(&[], Some(22), Some(6), 6, 23) && works_at(&[], Some(22), Some(6), 6, 2));
        assert!(works_at(&[], None, None, 3, 3));
        assert_eq!(turn_of("abc"), turn_of("abc"));
    }
}
