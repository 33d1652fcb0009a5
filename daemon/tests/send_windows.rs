//! Property tests: no planned or actual send falls outside its window, in any US zone and
//! state, across DST changes.
//!
//! The engine runs through its public API with the real compliance rules (the adapter the
//! daemon uses): the planner's send times, `decide` at the moment of sending, and the
//! virtual-clock plan. What "inside the window" means is worked out here by [`oracle`], from the
//! data of `config/compliance/quiet-hours.toml` and `us-area-codes.csv`, with none of the
//! engine's code: a mistake in the engine's windows, zones or DST handling cannot hide behind
//! the same mistake in the check.
//!
//! Texts only: email has no quiet hours in law (CAN-SPAM has none), and the one confirmation
//! after an opt-out is exempt by design (it answers the lead's own STOP, within 5 minutes).

mod support;

use jiff::civil::Weekday;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use leadline_daemon::engine::followup::decide::{Decision, Sent, decide};
use leadline_daemon::engine::followup::events::LeadEvent;
use leadline_daemon::engine::followup::plan::{Lead, TimeRules, plan_next, react};
use leadline_daemon::engine::followup::simulate::simulate;
use leadline_daemon::engine::followup::workflow::{self, DEFAULTS, Workflows};
use leadline_daemon::followups::adapters::Compliance;
use leadline_shared::config::Config;
use leadline_shared::domain::{Contact, FollowUpItem, FollowUps, ItemState, LeadSummary};
use proptest::prelude::*;
use support::{Anytime, Catalog, NeverOptsOut};

/// Every zone a place in the US uses (the tz database's zones for the US and its inhabited
/// territories), by hand rather than from the engine's table, so the contact's own `timezone`
/// reaches zones the area codes never name (Indiana's, Kentucky's, Detroit).
const US_ZONES: &[&str] = &[
    "America/New_York",
    "America/Detroit",
    "America/Kentucky/Louisville",
    "America/Kentucky/Monticello",
    "America/Indiana/Indianapolis",
    "America/Indiana/Vincennes",
    "America/Indiana/Winamac",
    "America/Indiana/Marengo",
    "America/Indiana/Petersburg",
    "America/Indiana/Vevay",
    "America/Indiana/Tell_City",
    "America/Indiana/Knox",
    "America/Chicago",
    "America/Menominee",
    "America/North_Dakota/Center",
    "America/North_Dakota/New_Salem",
    "America/North_Dakota/Beulah",
    "America/Denver",
    "America/Boise",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "America/Juneau",
    "America/Sitka",
    "America/Metlakatla",
    "America/Yakutat",
    "America/Nome",
    "America/Adak",
    "Pacific/Honolulu",
    "America/Puerto_Rico",
    "America/St_Thomas",
    "Pacific/Guam",
    "Pacific/Saipan",
    "Pacific/Pago_Pago",
];

/// The states with rules of their own, then others with none (a few with zones of note), then
/// unknown (`""`). The special ones come first so a plain index picks them often.
const STATES: &[&str] = &[
    "FL", "OK", "WA", "TX", "RI", "CT", "MD", "MS", "NJ", "AZ", "HI", "AK", "IN", "CA", "NY", "ID", "ND",
    "PR", "GU", "",
];

/// The US DST changes of 2026 and 2027 (second Sunday of March, first Sunday of November), at
/// 08:00 UTC: 02:00 local falls within 5 hours of it in every US zone that changes.
const DST_CHANGES: &[&str] =
    &["2026-03-08T08:00:00Z", "2026-11-01T08:00:00Z", "2027-03-14T08:00:00Z", "2027-11-07T08:00:00Z"];

/// The window, worked out from the tables' data alone.
mod oracle {
    use std::collections::{BTreeMap, BTreeSet};
    use std::sync::OnceLock;

    use jiff::tz::TimeZone;
    use jiff::{SignedDuration, Timestamp};

    const QUIET_HOURS: &str = include_str!("../../config/compliance/quiet-hours.toml");
    const AREA_CODES: &str = include_str!("../../config/compliance/us-area-codes.csv");
    const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

    /// Open minutes `[start, end)` per weekday from Monday; None: closed that day.
    type Week = [Option<(u16, u16)>; 7];

    pub struct Tables {
        federal: Week,
        states: BTreeMap<String, Week>,
        /// Area code: (region, zones), US rows only.
        area_codes: BTreeMap<u16, (String, Vec<String>)>,
    }

    pub fn tables() -> &'static Tables {
        static T: OnceLock<Tables> = OnceLock::new();
        T.get_or_init(|| {
            let toml: toml::Table = QUIET_HOURS.parse().expect("quiet-hours.toml is TOML");
            let federal = week(&toml["federal"]["hours"]);
            let states = toml
                .get("states")
                .and_then(|s| s.as_table())
                .map(|s| s.iter().map(|(code, r)| (code.clone(), week(&r["hours"]))).collect())
                .unwrap_or_default();
            let mut area_codes = BTreeMap::new();
            for line in AREA_CODES.lines().filter(|l| !l.starts_with('#') && !l.starts_with("area_code")) {
                let f: Vec<&str> = line.split(',').collect();
                if f.len() == 4 && f[1] == "US" {
                    let zones = f[3].split_whitespace().map(str::to_owned).collect();
                    area_codes.insert(f[0].parse().expect("an area code"), (f[2].to_owned(), zones));
                }
            }
            Tables { federal, states, area_codes }
        })
    }

    fn week(hours: &toml::Value) -> Week {
        let mut w: Week = [None; 7];
        for (days, window) in hours.as_table().expect("hours is a table") {
            let window = window.as_str().expect("a window is a string");
            let open = (window != "closed").then(|| {
                let (a, b) = window.split_once('-').expect("HH:MM-HH:MM");
                (minute(a), minute(b))
            });
            let day = |d: &str| DAYS.iter().position(|x| *x == d).expect("a day");
            let (first, last) = match days.split_once('-') {
                _ if days == "daily" => (0, 6),
                Some((a, b)) => (day(a), day(b)),
                None => (day(days), day(days)),
            };
            let mut d = first;
            loop {
                w[d] = open;
                if d == last {
                    break;
                }
                d = (d + 1) % 7;
            }
        }
        w
    }

    fn minute(hm: &str) -> u16 {
        let (h, m) = hm.split_once(':').expect("HH:MM");
        h.parse::<u16>().expect("hour") * 60 + m.parse::<u16>().expect("minute")
    }

    impl Tables {
        /// The window of a weekday (0 = Monday) in a state: the federal one narrowed by the
        /// state's.
        pub fn window(&self, state: &str, day: usize) -> Option<(u16, u16)> {
            let federal = self.federal[day]?;
            match self.states.get(state) {
                None => Some(federal),
                Some(w) => {
                    let s = w[day]?;
                    let (a, b) = (federal.0.max(s.0), federal.1.min(s.1));
                    (a < b).then_some((a, b))
                }
            }
        }

        /// Whether `at` is inside the window on the wall clock of `zone`.
        pub fn open_in(&self, at: Timestamp, zone: &str, state: &str) -> bool {
            let local = at.to_zoned(TimeZone::get(zone).expect("a zone"));
            let day = local.weekday().to_monday_zero_offset() as usize;
            let minute = local.hour() as u16 * 60 + local.minute() as u16;
            self.window(state, day).is_some_and(|(a, b)| a <= minute && minute < b)
        }

        /// Whether `at` is inside the window in every one of `zones`.
        pub fn open(&self, at: Timestamp, zones: &[String], state: &str) -> bool {
            zones.iter().all(|z| self.open_in(at, z, state))
        }

        /// Whether some minute of the next 8 days is open in every zone at once.
        pub fn ever_open(&self, from: Timestamp, zones: &[String], state: &str) -> bool {
            (0..8 * 24 * 60).any(|m| self.open(from + SignedDuration::from_mins(m), zones, state))
        }

        /// An area code's state and zones.
        pub fn area_code(&self, code: u16) -> Option<&(String, Vec<String>)> {
            self.area_codes.get(&code)
        }

        /// The US area codes, in order.
        pub fn codes(&self) -> Vec<u16> {
            self.area_codes.keys().copied().collect()
        }

        /// Every zone of a state's area codes: where a lead known only by the state may be.
        pub fn state_zones(&self, state: &str) -> Vec<String> {
            let zones: BTreeSet<&String> = self
                .area_codes
                .values()
                .filter(|(region, _)| region.split('/').any(|r| r == state))
                .flat_map(|(_, zones)| zones)
                .collect();
            zones.into_iter().cloned().collect()
        }
    }
}

/// A lead to write to, and where the check says they are.
#[derive(Debug, Clone)]
struct Recipient {
    contact: Contact,
    /// Every zone they may be in: a send must be open in all of them.
    zones: Vec<String>,
    /// The state whose rules apply ("" when none is known).
    state: String,
}

/// A phone number that places nobody: 800 is toll-free, in no area-code row.
const TOLL_FREE: &str = "+1 800 555 0100";

/// A lead placed one of three ways: its own `timezone` and `state`; only a phone number (the
/// area code's zones and state); only a state in its address (every zone of that state).
fn recipient() -> impl Strategy<Value = Recipient> {
    let own_zone = (0..US_ZONES.len(), 0..STATES.len()).prop_map(|(z, s)| {
        let (zone, state) = (US_ZONES[z], STATES[s]);
        Recipient {
            contact: Contact {
                phone: Some(TOLL_FREE.into()),
                timezone: Some(zone.into()),
                state: (!state.is_empty()).then(|| state.into()),
                ..lead()
            },
            zones: vec![zone.into()],
            state: state.into(),
        }
    });
    let codes = oracle::tables().codes();
    let by_phone = proptest::sample::select(codes).prop_map(|code| {
        let (state, zones) = oracle::tables().area_code(code).cloned().expect("a listed code");
        Recipient {
            contact: Contact { phone: Some(format!("+1 ({code}) 555-0142")), ..lead() },
            zones,
            state,
        }
    });
    let by_state = (0..STATES.len() - 1).prop_map(|s| {
        let state = STATES[s];
        Recipient {
            contact: Contact { phone: Some(TOLL_FREE.into()), state: Some(state.into()), ..lead() },
            zones: oracle::tables().state_zones(state),
            state: state.into(),
        }
    });
    prop_oneof![2 => own_zone, 2 => by_phone, 1 => by_state]
}

fn lead() -> Contact {
    Contact { id: "lead".into(), email: Some("lead@example.com".into()), ..Contact::default() }
}

/// Any second of 2026-2028, often one within 36 hours of a DST change, and often exactly on
/// the hour or a second before it, where windows open and close (every US zone is a whole
/// number of hours from UTC).
fn instant() -> impl Strategy<Value = Timestamp> {
    let uniform =
        (1_767_225_600i64..1_861_920_000).prop_map(|s| Timestamp::from_second(s).expect("in range"));
    let changes: Vec<Timestamp> = DST_CHANGES.iter().map(|s| s.parse().expect("a timestamp")).collect();
    let near_dst = (proptest::sample::select(changes), -36 * 3_600i64..=36 * 3_600)
        .prop_map(|(change, off)| change + SignedDuration::from_secs(off));
    let any = prop_oneof![1 => uniform, 3 => near_dst];
    (any, 0..4u8).prop_map(|(t, edge)| {
        let hour = Timestamp::from_second(t.as_second().div_euclid(3_600) * 3_600).expect("in range");
        match edge {
            0 => hour,
            1 => hour - SignedDuration::from_secs(1),
            _ => t,
        }
    })
}

/// The shipped workflows, and one more that sends a text at each of `delays` (minutes after
/// the lead arrives; steps flagged `true` wait for business hours).
fn workflows(delays: &[(u32, bool)]) -> Workflows {
    let mut w = Workflows::load(DEFAULTS, None, &Catalog).expect("the shipped workflows load");
    let mut text =
        String::from("id = \"random_texts\"\nversion = 1\nmode = \"auto\"\n[trigger]\non = \"new_lead\"\n");
    let mut at = 0;
    for (delay, business) in delays {
        at += delay;
        text +=
            &format!("[[step]]\nafter = \"{at}m\"\nbusiness_hours = {business}\nsend_sms = \"step_sms\"\n");
    }
    let random = workflow::parse("random.toml", &text, &Catalog).expect("parses").expect("enabled");
    w.by_id.insert(random.id.clone(), random);
    w
}

/// Step delays: up to six steps, each from nothing to ten days after the one before.
fn delays() -> impl Strategy<Value = Vec<(u32, bool)>> {
    proptest::collection::vec((prop_oneof![0u32..180, 0u32..14_400], any::<bool>()), 1..6)
}

/// The compliance rules the daemon runs, with the config's loop lock and business hours, and
/// `zone` for the location.
fn compliance(zone: usize) -> Compliance {
    Compliance::new(&Config::default().followups, US_ZONES[zone % US_ZONES.len()]).expect("the shipped rules")
}

fn is_text(item: &FollowUpItem) -> bool {
    item.action.channel() == Some("sms")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// (a) The planner's time for a text is inside the window in every zone the lead may be in,
    /// never before it is due, and the earliest such time (no open minute is skipped).
    #[test]
    fn the_planned_time_of_a_text_is_the_first_open_one_at_or_after_it_is_due(
        who in recipient(), due in instant(), location in 0..US_ZONES.len(),
    ) {
        let t = oracle::tables();
        let (at, zone) = compliance(location).send_time(&who.contact, "sms", due);
        prop_assert!(at >= due, "planned at {at}, before it is due at {due}");
        prop_assert!(zone.as_ref().is_some_and(|z| who.zones.contains(z)), "reported zone {zone:?}, lead in {:?}", who.zones);
        if !t.open(at, &who.zones, &who.state) {
            // Planning keeps the due time only for a lead whose zones never share an open hour
            // (sending then skips it).
            prop_assert!(!t.ever_open(due, &who.zones, &who.state), "{at} is outside the window in {:?} ({})", who.zones, who.state);
            return Ok(());
        }
        let mut minute = Timestamp::from_second(due.as_second().div_euclid(60) * 60).expect("in range");
        while minute < at {
            prop_assert!(minute < due || !t.open(minute, &who.zones, &who.state),
                "{minute} is open but the text was planned for {at}");
            minute += SignedDuration::from_mins(1);
        }
    }

    /// (a) Every text a workflow plans, step after step with random delays and business-hours
    /// steps, is planned inside its window and not before it is due.
    #[test]
    fn every_step_of_a_workflow_is_planned_inside_its_window(
        who in recipient(), arrives in instant(), steps in delays(), location in 0..US_ZONES.len(),
    ) {
        let t = oracle::tables();
        let rules = compliance(location);
        let flows = workflows(&steps);
        let mut record = FollowUps::new("lead");
        let row = LeadSummary::default();
        let lead = Lead { contact: &who.contact, row: &row };
        react(&mut record, &[LeadEvent::NewLead], &lead, &flows, &rules, &NeverOptsOut, arrives);
        let mut now = arrives;
        let mut checked = 0;
        // Bounded: the shipped workflows end, and repeat at most 100 times.
        for _ in 0..1_000 {
            let Some(item) = record.items.iter_mut().filter(|i| i.state.is_open()).min_by_key(|i| i.at) else {
                break;
            };
            prop_assert!(item.at >= item.due_at && item.at >= now, "{} planned at {}, due {}", item.id, item.at, item.due_at);
            if is_text(item) {
                prop_assert!(t.open(item.at, &who.zones, &who.state) || !t.ever_open(item.due_at, &who.zones, &who.state),
                    "{} planned at {}, outside the window in {:?} ({})", item.id, item.at, who.zones, who.state);
                prop_assert!(item.timezone.as_ref().is_some_and(|z| who.zones.contains(z)));
                checked += 1;
            }
            now = item.at;
            item.state = ItemState::Sent;
            plan_next(&mut record, &flows, &who.contact, &rules, now);
        }
        prop_assert!(checked >= steps.len(), "{checked} texts planned for {} steps", steps.len());
    }

    /// (b) At any instant, a due text is sent only inside its window; otherwise it waits for a
    /// time inside it, at which it is then sent. Recent texts (the engine's and the agent's) and
    /// emails bring in the state caps and the loop lock, which may push a text past the
    /// window's close.
    #[test]
    fn a_text_is_sent_only_inside_its_window_else_deferred_into_it(
        who in recipient(), now in instant(), location in 0..US_ZONES.len(),
        ago in proptest::collection::vec((1i64..48 * 3_600, any::<bool>(), prop_oneof![3 => Just("sms"), 1 => Just("email")]), 0..5),
    ) {
        let t = oracle::tables();
        let rules = compliance(location);
        let flows = workflows(&[(0, false)]);
        let record = FollowUps::new("lead");
        let mut recent: Vec<Sent> = ago.iter()
            .map(|(s, automated, channel)| Sent { at: now - SignedDuration::from_secs(*s), channel: (*channel).into(), automated: *automated })
            .collect();
        recent.sort_by_key(|s| s.at);
        let item = due_text(now);
        match decide(&item, &record, &who.contact, &flows, &rules, &recent, now) {
            Decision::Send => prop_assert!(t.open(now, &who.zones, &who.state), "sent at {now}, outside the window in {:?} ({})", who.zones, who.state),
            Decision::Defer { until, reason } => {
                prop_assert!(until > now, "deferred to {until}, not after {now}: {reason}");
                prop_assert!(t.open(until, &who.zones, &who.state), "deferred to {until} ({reason}), outside the window in {:?} ({})", who.zones, who.state);
                let then = decide(&due_text(until), &record, &who.contact, &flows, &rules, &recent, until);
                prop_assert_eq!(then, Decision::Send, "deferred to {} ({}), which is not open either", until, reason);
            }
            Decision::Skip { reason } => {
                prop_assert!(!t.ever_open(now, &who.zones, &who.state), "skipped ({reason}) though the window opens in {:?}", who.zones);
            }
            Decision::Wait | Decision::Execute => prop_assert!(false, "a due text neither sent, deferred nor skipped"),
        }
    }
}

/// A text of the random workflow due at `at`.
fn due_text(at: Timestamp) -> FollowUpItem {
    let mut record = FollowUps::new("lead");
    let flows = workflows(&[(0, false)]);
    let contact = Contact { phone: Some(TOLL_FREE.into()), ..lead() };
    react(
        &mut record,
        &[LeadEvent::NewLead],
        &Lead { contact: &contact, row: &LeadSummary::default() },
        &flows,
        &Anytime,
        &NeverOptsOut,
        at,
    );
    let mut item = record.items.into_iter().find(|i| i.workflow == "random_texts").expect("planned");
    item.at = at;
    item
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// (c) The plan over the next days, for a few leads anywhere in the US, lists no text outside
    /// its window in the zone it reports (nor in any other zone the lead may be in).
    #[test]
    fn the_simulated_plan_has_no_text_outside_its_window(
        people in proptest::collection::vec(recipient(), 1..4), from in instant(),
        steps in delays(), days in 1i64..10, location in 0..US_ZONES.len(),
    ) {
        let t = oracle::tables();
        let rules = compliance(location);
        let flows = workflows(&steps);
        let row = LeadSummary::default();
        let mut leads = Vec::new();
        for (n, who) in people.iter().enumerate() {
            let contact = Contact { id: format!("lead-{n}"), ..who.contact.clone() };
            let mut record = FollowUps::new(&contact.id);
            react(&mut record, &[LeadEvent::NewLead], &Lead { contact: &contact, row: &row }, &flows, &rules, &NeverOptsOut, from);
            leads.push((contact, record));
        }
        let plan = simulate(leads, &flows, &rules, &rules, from, SignedDuration::from_hours(24 * days));
        for send in plan.planned.iter().filter(|s| s.channel == "sms") {
            let n: usize = send.contact_id.trim_start_matches("lead-").parse().expect("our id");
            let who = &people[n];
            let zone = send.timezone.as_deref().unwrap_or("(none)");
            prop_assert!(who.zones.iter().any(|z| z == zone), "{:?} reports zone {zone}; the lead is in {:?}", send, who.zones);
            prop_assert!(t.open_in(send.at, zone, &who.state), "{:?} is outside the window in its zone {zone} ({})", send, who.state);
            prop_assert!(t.open(send.at, &who.zones, &who.state), "{:?} is outside the window in {:?}", send, who.zones);
        }
    }
}

#[test]
fn the_oracle_reads_the_table_as_the_law_summaries_say() {
    // A hand check of the check itself, on a few well-known rules.
    let t = oracle::tables();
    let (mon, sun) =
        (Weekday::Monday.to_monday_zero_offset() as usize, Weekday::Sunday.to_monday_zero_offset() as usize);
    assert_eq!(t.window("", mon), Some((8 * 60, 21 * 60)));
    assert_eq!(t.window("FL", mon), Some((8 * 60, 20 * 60)));
    assert_eq!(t.window("TX", sun), Some((12 * 60, 21 * 60)));
    assert_eq!(t.window("RI", sun), Some((10 * 60, 17 * 60)));
    assert_eq!(t.area_code(787).map(|a| a.1.clone()), Some(vec!["America/Puerto_Rico".to_owned()]));
    assert!(t.state_zones("FL").len() == 2 && t.area_code(800).is_none());
    // 2026-03-08 is the spring change: 08:00 EDT is 12:00 UTC that day, not 13:00.
    let ts = |s: &str| s.parse::<Timestamp>().expect("timestamp");
    assert!(!t.open_in(ts("2026-03-08T11:59:59Z"), "America/New_York", ""));
    assert!(t.open_in(ts("2026-03-08T12:00:00Z"), "America/New_York", ""));
    assert!(t.open_in(ts("2026-03-08T15:00:00Z"), "America/Phoenix", ""));
    assert!(!t.open_in(ts("2026-03-08T14:59:59Z"), "America/Phoenix", ""));
    let _ = TimeZone::get("America/Indiana/Knox").expect("the tz database has Indiana's zones");
}
