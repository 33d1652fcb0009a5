//! Every gate in order, for one planned send: the decision and its reason, to record and show.

use std::fmt;

use jiff::Timestamp;
use jiff::civil::Weekday;
use leadline_shared::domain::Contact;
use serde::{Deserialize, Serialize};

use super::caps::{ChannelLimiter, LoopLock, RecentSend, cap_allows};
use super::locate::{StateCode, Whereabouts, zone_name};
use super::opt_out::Language;
use super::rules::Rules;
use super::window::{is_allowed, next_allowed};

/// A way of reaching a contact, named as GHL names it (`SMS`, `Email`, `Call`, `WhatsApp`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Channel {
    #[serde(rename = "SMS")]
    Sms,
    Email,
    Call,
    WhatsApp,
}

impl Channel {
    /// The key of GHL's `dndSettings` for this channel.
    pub fn ghl_name(self) -> &'static str {
        match self {
            Channel::Sms => "SMS",
            Channel::Email => "Email",
            Channel::Call => "Call",
            Channel::WhatsApp => "WhatsApp",
        }
    }

    /// Whether quiet hours and the state caps apply: every channel that reaches a phone.
    /// Email has no quiet hours in law (CAN-SPAM has none); WhatsApp is treated like a text
    /// to be safe.
    pub fn is_telephone(self) -> bool {
        !matches!(self, Channel::Email)
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.ghl_name())
    }
}

/// Why a send was skipped or deferred. `Display` is a short sentence for the CLI and logs; the
/// fields are stored (serde) so the reason can be shown later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    /// The contact opted out by a reply.
    OptedOut { phrase: String, language: Language, at: Option<Timestamp> },
    /// GHL's DND: `channel` None is the contact-wide switch.
    Dnd { channel: Option<Channel>, code: Option<String> },
    /// No phone number (SMS, call, WhatsApp) or email address for the channel.
    NoAddress { channel: Channel },
    /// Outside the window in one of the recipient's zones.
    QuietHours { zone: String, rule: String, day: Option<String>, window: Option<String> },
    /// No time is inside the window in all of the recipient's zones, or no zone is known.
    NoWindow { zones: Vec<String> },
    /// A state's cap on calls and texts.
    StateCap { state: StateCode, sends: u32, hours: u32 },
    /// The per-contact loop lock's count.
    LoopLock { sends: u32, hours: u32 },
    /// The per-contact loop lock's gap.
    MinGap { minutes: u32 },
    /// A global limit across all contacts.
    ChannelLimit { channel: Channel, sends: u32, per: String },
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::OptedOut { phrase, at, .. } => {
                write!(f, "opted out by text '{phrase}'")?;
                match at {
                    Some(at) => write!(f, " on {}", at.strftime("%Y-%m-%d %H:%M UTC")),
                    None => Ok(()),
                }
            }
            Reason::Dnd { channel, code } => {
                match channel {
                    Some(c) => write!(f, "{c} DND in GHL")?,
                    None => f.write_str("DND on all channels in GHL")?,
                }
                match code {
                    Some(code) => write!(f, " (code {code})"),
                    None => Ok(()),
                }
            }
            Reason::NoAddress { channel: Channel::Email } => f.write_str("no email address"),
            Reason::NoAddress { channel } => write!(f, "no phone number for {channel}"),
            Reason::QuietHours { zone, rule, day, window } => {
                write!(f, "quiet hours in {zone} ({rule}: ")?;
                match (day, window) {
                    (Some(day), Some(w)) => write!(f, "{day} {w})"),
                    (None, Some(w)) => write!(f, "{w})"),
                    (Some(day), None) => write!(f, "no sends on {day})"),
                    (None, None) => f.write_str("closed)"),
                }
            }
            Reason::NoWindow { zones } if zones.is_empty() => {
                f.write_str("no time zone known for this contact")
            }
            Reason::NoWindow { zones } => {
                write!(f, "no time is inside the window in all of {}", zones.join(", "))
            }
            Reason::StateCap { state, sends, hours } => {
                write!(f, "{sends} calls and texts in {hours} h ({state} cap)")
            }
            Reason::LoopLock { sends, hours } => write!(f, "loop lock: {sends} automated sends in {hours} h"),
            Reason::MinGap { minutes } if minutes % 60 == 0 => {
                write!(f, "loop lock: under {} h since the last send", minutes / 60)
            }
            Reason::MinGap { minutes } => write!(f, "loop lock: under {minutes} min since the last send"),
            Reason::ChannelLimit { channel, sends, per } => {
                write!(f, "{channel} limit: {sends} per {per} (all contacts)")
            }
        }
    }
}

/// What to do with a planned send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// Every gate is open at the planned time.
    Send,
    /// Not before `until`, when every time gate is open (unless more sends are made meanwhile:
    /// check again then).
    Defer { until: Timestamp, reason: Reason },
    /// Not at all, until something about the contact changes.
    Skip { reason: Reason },
}

/// A send the planner wants to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedSend {
    pub channel: Channel,
    /// When it would go.
    pub at: Timestamp,
    /// Sent by a sequence rather than by the agent.
    pub automated: bool,
}

/// A recorded opt-out: what the contact wrote and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptOutRecord {
    pub at: Timestamp,
    pub phrase: String,
    pub language: Language,
}

/// What the gates know about the contact.
#[derive(Debug, Clone, Copy)]
pub struct GateContext<'a> {
    pub contact: &'a Contact,
    /// From [`super::locate`].
    pub whereabouts: &'a Whereabouts,
    /// The contact's sends over at least [`super::history_needed`].
    pub recent_sends: &'a [RecentSend],
    /// The contact's opt-out, if it stands (an opt-in since clears it).
    pub opted_out: Option<&'a OptOutRecord>,
    pub lock: &'a LoopLock,
    /// The global limits, if the caller wants them in the verdict; the sender still takes
    /// its slot with [`ChannelLimiter::try_take`] at the moment of sending.
    pub limiter: Option<&'a ChannelLimiter>,
}

/// Why GHL's DND blocks a channel, if it does: the contact-wide `dnd`, or the channel's
/// `dndSettings` entry (active or permanent).
pub fn channel_blocked(contact: &Contact, channel: Channel) -> Option<Reason> {
    if contact.dnd {
        return Some(Reason::Dnd { channel: None, code: None });
    }
    if contact.channel_allowed(channel.ghl_name()) {
        return None;
    }
    let code = contact
        .dnd_settings
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(channel.ghl_name()))
        .and_then(|(_, s)| s.code.clone());
    Some(Reason::Dnd { channel: Some(channel), code })
}

/// The quiet-hours reason at `at`, naming the first zone that is closed and the rule closing
/// it (the state's when both do).
fn quiet_reason(at: Timestamp, who: &Whereabouts, rules: &Rules) -> Reason {
    let week = rules.week_for(who.state);
    for zone in &who.zones {
        if week.allows(at, zone) {
            continue;
        }
        let closing = rules.closing(at, zone, who.state);
        let (rule, day, window) = match closing {
            Some((regime, day, window)) => {
                let day = (!regime.week.is_uniform()).then(|| weekday_name(day).to_owned());
                (regime.label.clone(), day, window.map(|w| w.to_string()))
            }
            None => ("combined rules".to_owned(), None, None),
        };
        return Reason::QuietHours { zone: zone_name(zone), rule, day, window };
    }
    Reason::NoWindow { zones: who.zone_names() }
}

fn weekday_name(day: Weekday) -> &'static str {
    match day {
        Weekday::Monday => "Monday",
        Weekday::Tuesday => "Tuesday",
        Weekday::Wednesday => "Wednesday",
        Weekday::Thursday => "Thursday",
        Weekday::Friday => "Friday",
        Weekday::Saturday => "Saturday",
        Weekday::Sunday => "Sunday",
    }
}

/// Applies every gate to a planned send, in order:
///
/// 1. opt-out: skips automated sends on every channel, and sends the agent types on phone
///    channels (email the agent writes is left to its own unsubscribe);
/// 2. GHL's DND for the channel: skip;
/// 3. an address for the channel: skip without one;
/// 4. the time gates, together: quiet hours (phone channels), the state cap, the loop lock
///    and the global limit. If any is closed at `send.at`, the verdict defers to the earliest
///    time all of them are open, with the reason of the first one closed at `send.at`. Quiet
///    hours that never open (no zone known, zones too far apart) skip.
pub fn check(send: &PlannedSend, ctx: &GateContext<'_>, rules: &Rules) -> Verdict {
    if let Some(o) = ctx.opted_out
        && (send.automated || send.channel.is_telephone())
    {
        return Verdict::Skip {
            reason: Reason::OptedOut { phrase: o.phrase.clone(), language: o.language, at: Some(o.at) },
        };
    }
    if let Some(reason) = channel_blocked(ctx.contact, send.channel) {
        return Verdict::Skip { reason };
    }
    let address = match send.channel {
        Channel::Email => ctx.contact.email.as_deref(),
        _ => ctx.contact.phone.as_deref(),
    };
    if address.is_none_or(|a| a.trim().is_empty()) {
        return Verdict::Skip { reason: Reason::NoAddress { channel: send.channel } };
    }

    let who = ctx.whereabouts;
    let mut t = send.at;
    let mut first: Option<Reason> = None;
    // Each gate only ever moves `t` later; a few rounds settle it (a cap can push past the
    // window's close, the window then to the next morning, and so on).
    for _ in 0..32 {
        let start = t;
        if send.channel.is_telephone() && !is_allowed(t, who, rules) {
            let next = next_allowed(t, who, rules);
            if next == Timestamp::MAX {
                return Verdict::Skip { reason: Reason::NoWindow { zones: who.zone_names() } };
            }
            first.get_or_insert_with(|| quiet_reason(t, who, rules));
            t = next;
        }
        if let Err(d) = cap_allows(ctx.recent_sends, &PlannedSend { at: t, ..*send }, who, rules, ctx.lock) {
            first.get_or_insert(d.reason);
            t = d.until;
        }
        if let Some(limiter) = ctx.limiter {
            let free = limiter.next_free(send.channel, t);
            if free > t {
                if first.is_none() {
                    let (sends, per) = limiter.binding(send.channel, t).unwrap_or((0, "minute"));
                    first = Some(Reason::ChannelLimit { channel: send.channel, sends, per: per.to_owned() });
                }
                t = free;
            }
        }
        if t == Timestamp::MAX {
            break;
        }
        if t == start {
            return match first {
                None => Verdict::Send,
                Some(reason) => Verdict::Defer { until: t, reason },
            };
        }
    }
    // Unreachable with real tables; if the gates never agree, do not send.
    Verdict::Skip { reason: first.unwrap_or(Reason::NoWindow { zones: who.zone_names() }) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::compliance::{ChannelLimits, LocatedBy, Tables, locate};
    use jiff::SignedDuration;
    use jiff::tz::TimeZone;
    use leadline_shared::domain::DndSetting;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    fn rules() -> &'static Rules {
        Rules::embedded().expect("rules")
    }

    fn contact() -> Contact {
        Contact {
            id: "c1".into(),
            phone: Some("+1 512 555 0100".into()),
            email: Some("lead@example.com".into()),
            state: Some("TX".into()),
            ..Default::default()
        }
    }

    struct Fixture {
        contact: Contact,
        who: Whereabouts,
        recent: Vec<RecentSend>,
        opted_out: Option<OptOutRecord>,
        lock: LoopLock,
        limiter: Option<ChannelLimiter>,
    }

    impl Fixture {
        fn new(contact: Contact) -> Fixture {
            let tables = Tables::embedded().expect("tables");
            let who = locate(&contact, "America/New_York", tables);
            Fixture {
                contact,
                who,
                recent: vec![],
                opted_out: None,
                lock: LoopLock::default(),
                limiter: None,
            }
        }

        fn check(&self, channel: Channel, at: &str, automated: bool) -> Verdict {
            let ctx = GateContext {
                contact: &self.contact,
                whereabouts: &self.who,
                recent_sends: &self.recent,
                opted_out: self.opted_out.as_ref(),
                lock: &self.lock,
                limiter: self.limiter.as_ref(),
            };
            check(&PlannedSend { channel, at: ts(at), automated }, &ctx, rules())
        }
    }

    #[test]
    fn an_open_time_sends() {
        let f = Fixture::new(contact());
        // Wednesday 2026-06-10 10:00 CDT.
        assert_eq!(f.check(Channel::Sms, "2026-06-10T15:00:00Z", true), Verdict::Send);
    }

    #[test]
    fn quiet_hours_defer_with_the_rule_named() {
        let f = Fixture::new(contact());
        // Sunday 2026-06-14 10:00 CDT in Texas.
        let v = f.check(Channel::Sms, "2026-06-14T15:00:00Z", true);
        let Verdict::Defer { until, reason } = v else { panic!("deferred: {v:?}") };
        assert_eq!(until, ts("2026-06-14T17:00:00Z"));
        assert_eq!(reason.to_string(), "quiet hours in America/Chicago (TX: Sunday 12:00–21:00)");
        // The federal window is the same every day, so no day is named.
        let mut ga = contact();
        ga.state = Some("Georgia".into());
        ga.phone = Some("404-555-0100".into());
        let f = Fixture::new(ga);
        let Verdict::Defer { reason, .. } = f.check(Channel::Sms, "2026-06-10T02:00:00Z", true) else {
            panic!("deferred")
        };
        assert_eq!(reason.to_string(), "quiet hours in America/New_York (TCPA: 08:00–21:00)");
        // Email has no quiet hours.
        assert_eq!(f.check(Channel::Email, "2026-06-10T02:00:00Z", true), Verdict::Send);
    }

    #[test]
    fn opt_out_skips_automated_sends_and_typed_texts() {
        let mut f = Fixture::new(contact());
        f.opted_out = Some(OptOutRecord {
            at: ts("2026-03-02T14:05:00Z"),
            phrase: "stop texting".into(),
            language: Language::English,
        });
        for (channel, automated) in
            [(Channel::Sms, true), (Channel::Email, true), (Channel::Sms, false), (Channel::Call, false)]
        {
            let v = f.check(channel, "2026-06-10T15:00:00Z", automated);
            let Verdict::Skip { reason } = v else { panic!("skipped: {v:?}") };
            assert_eq!(reason.to_string(), "opted out by text 'stop texting' on 2026-03-02 14:05 UTC");
        }
        assert_eq!(f.check(Channel::Email, "2026-06-10T15:00:00Z", false), Verdict::Send);
    }

    #[test]
    fn dnd_skips() {
        let mut c = contact();
        c.dnd_settings.insert(
            "SMS".into(),
            DndSetting { status: "active".into(), code: Some("21610".into()), ..Default::default() },
        );
        let f = Fixture::new(c.clone());
        let Verdict::Skip { reason } = f.check(Channel::Sms, "2026-06-10T15:00:00Z", true) else {
            panic!("skipped")
        };
        assert_eq!(reason.to_string(), "SMS DND in GHL (code 21610)");
        assert_eq!(f.check(Channel::Email, "2026-06-10T15:00:00Z", true), Verdict::Send);
        assert_eq!(
            channel_blocked(&c, Channel::Sms).map(|r| r.to_string()).as_deref(),
            Some("SMS DND in GHL (code 21610)")
        );
        c.dnd = true;
        assert_eq!(
            channel_blocked(&c, Channel::Email).map(|r| r.to_string()).as_deref(),
            Some("DND on all channels in GHL")
        );
        c.dnd = false;
        c.dnd_settings
            .insert("Email".into(), DndSetting { status: "permanent".into(), ..Default::default() });
        assert_eq!(
            channel_blocked(&c, Channel::Email).map(|r| r.to_string()).as_deref(),
            Some("Email DND in GHL")
        );
        c.dnd_settings.insert("Call".into(), DndSetting { status: "inactive".into(), ..Default::default() });
        assert_eq!(channel_blocked(&c, Channel::Call), None);
    }

    #[test]
    fn no_address_skips() {
        let mut c = contact();
        c.email = None;
        c.phone = Some("  ".into());
        let f = Fixture::new(c);
        let Verdict::Skip { reason } = f.check(Channel::Email, "2026-06-10T15:00:00Z", true) else {
            panic!("skipped")
        };
        assert_eq!(reason.to_string(), "no email address");
        let Verdict::Skip { reason } = f.check(Channel::Sms, "2026-06-10T15:00:00Z", true) else {
            panic!("skipped")
        };
        assert_eq!(reason.to_string(), "no phone number for SMS");
    }

    #[test]
    fn a_cap_pushing_past_the_window_defers_to_the_next_morning() {
        // Florida, Miami number. Three texts on Saturday 2026-03-07 from 19:00 EST; the clocks go
        // forward that night, so 24 h after the first is Sunday 20:00 EDT, when Florida's
        // window has closed: the fourth waits for Monday 08:00 EDT.
        let mut c = contact();
        c.state = Some("FL".into());
        c.phone = Some("305-555-0100".into());
        let mut f = Fixture::new(c);
        assert_eq!(f.who.source, LocatedBy::ContactState);
        f.lock = LoopLock { max_sends: 10, window_hours: 24, min_gap_minutes: 0 };
        f.recent = ["2026-03-08T00:00:00Z", "2026-03-08T00:15:00Z", "2026-03-08T00:30:00Z"]
            .iter()
            .map(|t| RecentSend { at: ts(t), channel: Channel::Sms, automated: false })
            .collect();
        // Sunday 19:00 EDT: inside the window, but capped.
        let v = f.check(Channel::Sms, "2026-03-08T23:00:00Z", true);
        assert_eq!(
            v,
            Verdict::Defer {
                until: ts("2026-03-09T12:00:00Z"),
                reason: Reason::StateCap {
                    state: StateCode::from_code("FL").expect("FL"),
                    sends: 3,
                    hours: 24
                },
            }
        );
    }

    #[test]
    fn the_global_limit_defers() {
        let mut f = Fixture::new(contact());
        let mut limiter = ChannelLimiter::new(&BTreeMap::from([(
            Channel::Sms,
            ChannelLimits { per_minute: Some(1), per_hour: None },
        )]));
        assert_eq!(limiter.try_take(Channel::Sms, ts("2026-06-10T15:00:00Z")), Ok(()));
        f.limiter = Some(limiter);
        let v = f.check(Channel::Sms, "2026-06-10T15:00:30Z", true);
        let Verdict::Defer { until, reason } = v else { panic!("deferred: {v:?}") };
        assert_eq!(
            (until, reason.to_string()),
            (ts("2026-06-10T15:01:00Z"), "SMS limit: 1 per minute (all contacts)".to_owned())
        );
    }

    #[test]
    fn an_unknown_zone_skips() {
        let c = Contact { id: "c".into(), phone: Some("+44 20 7946 0958".into()), ..Default::default() };
        let who = locate(&c, "Not/AZone", Tables::embedded().expect("tables"));
        let f = Fixture { who, ..Fixture::new(c) };
        let Verdict::Skip { reason } = f.check(Channel::Sms, "2026-06-10T15:00:00Z", true) else {
            panic!("skipped")
        };
        assert_eq!(reason.to_string(), "no time zone known for this contact");
    }

    #[test]
    fn verdicts_and_reasons_round_trip_through_json() {
        let v = Verdict::Defer {
            until: ts("2026-06-14T17:00:00Z"),
            reason: Reason::QuietHours {
                zone: "America/Chicago".into(),
                rule: "TX".into(),
                day: Some("Sunday".into()),
                window: Some("12:00–21:00".into()),
            },
        };
        let json = serde_json::to_string(&v).expect("serialises");
        assert!(json.contains(r#""verdict":"defer""#) && json.contains(r#""kind":"quiet_hours""#), "{json}");
        assert_eq!(serde_json::from_str::<Verdict>(&json).expect("deserialises"), v);
        let skip = Verdict::Skip {
            reason: Reason::StateCap { state: StateCode::from_code("OK").expect("OK"), sends: 3, hours: 24 },
        };
        let json = serde_json::to_string(&skip).expect("serialises");
        assert!(json.contains(r#""state":"OK""#), "{json}");
        assert_eq!(serde_json::from_str::<Verdict>(&json).expect("deserialises"), skip);
        assert_eq!(serde_json::to_string(&Channel::Sms).expect("json"), r#""SMS""#);
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        /// No planned send on a phone channel falls outside its window: a Send is inside it,
        /// and a Defer is to a time inside it, in every zone the recipient may be in, for
        /// numbers from every area code of the table.
        #[test]
        fn no_send_falls_outside_its_window(at in crate::engine::compliance::window::tests::instant(), pick in 0usize..1000,
                                            state in 0usize..12, automated in any::<bool>(),
                                            sent in proptest::collection::vec(0i64..(48 * 3600), 0..6)) {
            let tables = Tables::embedded().expect("tables");
            let mut codes: Vec<u16> = tables.area_codes().map(|a| a.code).collect();
            codes.sort_unstable();
            let code = codes[pick % codes.len()];
            let states = ["", "FL", "TX", "RI", "CT", "OK", "WA", "AZ", "HI", "AK", "CA", "NY"];
            let c = Contact {
                id: "c".into(),
                phone: Some(format!("+1 {code} 555 0100")),
                state: Some(states[state % states.len()].into()),
                ..Default::default()
            };
            let mut f = Fixture::new(c);
            f.recent = sent.iter().map(|s| RecentSend {
                at: at - SignedDuration::from_secs(*s), channel: Channel::Sms, automated: true,
            }).collect();
            let ctx = GateContext {
                contact: &f.contact, whereabouts: &f.who, recent_sends: &f.recent,
                opted_out: None, lock: &f.lock, limiter: None,
            };
            match check(&PlannedSend { channel: Channel::Sms, at, automated }, &ctx, rules()) {
                Verdict::Send => prop_assert!(is_allowed(at, &f.who, rules())),
                Verdict::Defer { until, .. } => {
                    prop_assert!(until > at);
                    prop_assert!(is_allowed(until, &f.who, rules()));
                    let send = PlannedSend { channel: Channel::Sms, at: until, automated };
                    prop_assert!(cap_allows(&f.recent, &send, &f.who, rules(), &f.lock).is_ok());
                    for zone in &f.who.zones {
                        let local = until.to_zoned(zone.clone());
                        prop_assert!(local.hour() >= 8 && local.hour() < 21, "{} in {}", local, zone_name(zone));
                    }
                }
                Verdict::Skip { reason } => {
                    // Only zones that never share a window skip here.
                    prop_assert!(matches!(reason, Reason::NoWindow { .. }), "{}", reason);
                    let names = f.who.zone_names();
                    prop_assert!(f.who.zones.len() > 1, "{:?}", names);
                }
            }
        }
    }

    #[test]
    fn every_zone_of_the_table_is_a_real_zone() {
        for zone in Tables::embedded().expect("tables").zones() {
            assert!(zone.iana_name().is_some_and(|n| TimeZone::get(n).is_ok()));
        }
    }
}
