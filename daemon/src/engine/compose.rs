//! The rules of a message the agent writes to a lead by hand (the dashboard's Compose,
//! `leadline send`): may it go now, must it wait, or may it not go at all, and how that reads
//! to the agent.
//!
//! The gates are the follow-up engine's ([`Gates`], the compliance rules), asked for a send
//! that is not automated: the law's gates (DND, quiet hours in every zone the lead may be in,
//! the state caps) hold it, the loop lock meant for runaway sequences does not. The daemon asks
//! here when Compose opens, when the agent sends (a message that may not go is not queued), and
//! again at the moment of sending, so the three can never disagree. Pure: the time is an
//! argument.

use jiff::tz::TimeZone;
use jiff::{Timestamp, Zoned};
use leadline_shared::domain::{Contact, OptOutRecord};

use super::compliance::{self, Channel};
use super::followup::decide::{Gates, Sent};

/// What happens to a message the agent sends now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// It goes at once.
    Send,
    /// It is queued and waits until `until` (quiet hours, a state's cap), then goes by itself.
    Hold { until: Timestamp, reason: String },
    /// It may not go: the send is refused, with why.
    Refuse { reason: String },
}

/// Decides a typed message on `channel` (`sms` or `email`) to `contact` at `now`. `opted_out`
/// is the lead's standing opt-out; `recent` what was sent to the lead lately; `gates` the
/// compliance rules, when the follow-up engine runs (without them only the opt-out, DND and
/// the address are checked, as the sender does).
pub fn check(
    contact: &Contact,
    opted_out: Option<&OptOutRecord>,
    channel: &str,
    gates: Option<&dyn Gates>,
    recent: &[Sent],
    now: Timestamp,
) -> Verdict {
    let email = channel == "email";
    // An opt-out by text stops texts, typed ones included; an email the agent writes by hand is
    // left to the email's own unsubscribe line (docs/compliance.md, gate 1).
    if let Some(o) = opted_out.filter(|_| !email) {
        return Verdict::Refuse {
            reason: format!(
                "the lead opted out by text ({:?}, {}): no texts, not even by hand; an email written by hand may still go",
                o.phrase,
                o.at.strftime("%Y-%m-%d %H:%M UTC")
            ),
        };
    }
    let gate_channel = if email { Channel::Email } else { Channel::Sms };
    if let Some(dnd) = compliance::channel_blocked(contact, gate_channel) {
        let what = if email { "emails" } else { "texts" };
        return Verdict::Refuse {
            reason: format!(
                "{dnd}: GHL refuses {what} to this lead. It lifts when the lead opts back in (a reply of START), or when you turn DND off in GHL at the lead's request"
            ),
        };
    }
    let address = if email { contact.email.as_deref() } else { contact.phone.as_deref() };
    if address.is_none_or(|a| a.trim().is_empty()) {
        let missing = if email { "no email address" } else { "no phone number" };
        let other = if email { "send a text" } else { "send an email" };
        return Verdict::Refuse {
            reason: format!("the lead has {missing}: add one in GHL, or {other} instead"),
        };
    }
    let Some(gates) = gates else {
        return Verdict::Send;
    };
    match gates.check(contact, channel, false, recent, now) {
        Ok(()) => Verdict::Send,
        Err((Some(until), reason)) => Verdict::Hold { until: until.max(now), reason },
        Err((None, reason)) => Verdict::Refuse { reason },
    }
}

/// The sentence Compose shows for a held message, in the lead's own time: "It is 21:40 for
/// this lead (America/Chicago): quiet hours (TCPA: 08:00–21:00); the text will wait until
/// 08:00". `zone` is the lead's, as the quiet-hours rules place it; `reason` the gates'.
pub fn hold_sentence(
    now: Timestamp,
    until: Timestamp,
    zone: Option<&str>,
    reason: &str,
    channel: &str,
) -> String {
    let what = if channel == "email" { "the email" } else { "the text" };
    let Some((name, tz)) = zone.and_then(|z| TimeZone::get(z).ok().map(|tz| (z, tz))) else {
        return format!("{reason}; {what} will wait until {} UTC", until.strftime("%a %H:%M"));
    };
    // The gates name the zone already shown before the colon: said once is enough.
    let reason = reason
        .strip_prefix(&format!("quiet hours in {name} "))
        .map_or_else(|| reason.to_owned(), |rest| format!("quiet hours {rest}"));
    let (here, then) = (now.to_zoned(tz.clone()), until.to_zoned(tz));
    format!(
        "It is {} for this lead ({name}): {reason}; {what} will wait until {}",
        here.strftime("%H:%M"),
        when(&here, &then)
    )
}

/// `08:00` today, `08:00 tomorrow`, else `Thu 08:00`, as the lead's wall clock reads.
fn when(now: &Zoned, then: &Zoned) -> String {
    let time = then.strftime("%H:%M").to_string();
    let (today, day) = (now.date(), then.date());
    if day == today {
        time
    } else if today.tomorrow().is_ok_and(|t| t == day) {
        format!("{time} tomorrow")
    } else {
        format!("{} {time}", then.strftime("%a"))
    }
}

/// The lead's wall-clock time ("21:40") in `zone`, when it is a zone.
pub fn local_time(now: Timestamp, zone: Option<&str>) -> Option<String> {
    let tz = TimeZone::get(zone?).ok()?;
    Some(now.to_zoned(tz).strftime("%H:%M").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::followups::adapters::Compliance;
    use jiff::SignedDuration;
    use leadline_shared::domain::DndSetting;

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    fn lead() -> Contact {
        Contact {
            id: "c1".into(),
            phone: Some("+13125550142".into()),
            email: Some("dana@example.com".into()),
            timezone: Some("America/Chicago".into()),
            ..Contact::default()
        }
    }

    fn rules() -> Compliance {
        Compliance::new(&leadline_shared::config::Config::default().followups, "America/Chicago")
            .expect("the shipped rules")
    }

    /// 21:40 in Chicago on a Wednesday in March (CST, UTC−6).
    const LATE: &str = "2026-03-05T03:40:00Z";

    #[test]
    fn a_text_at_night_waits_for_the_morning_in_the_leads_zone() {
        let rules = rules();
        let now = ts(LATE);
        let Verdict::Hold { until, reason } = check(&lead(), None, "sms", Some(&rules), &[], now) else {
            panic!("held");
        };
        assert_eq!(until, ts("2026-03-05T14:00:00Z"), "08:00 in Chicago");
        assert_eq!(
            hold_sentence(now, until, Some("America/Chicago"), &reason, "sms"),
            "It is 21:40 for this lead (America/Chicago): quiet hours (TCPA: 08:00–21:00); the text will wait until 08:00 tomorrow"
        );
        // Email has no quiet hours in law.
        assert_eq!(check(&lead(), None, "email", Some(&rules), &[], now), Verdict::Send);
        // In the afternoon it goes.
        assert_eq!(check(&lead(), None, "sms", Some(&rules), &[], ts("2026-03-04T19:00:00Z")), Verdict::Send);
    }

    #[test]
    fn the_leads_own_zone_decides_not_the_agents() {
        // 21:40 in Chicago is 19:40 in Los Angeles: a Californian lead may be texted.
        let west = Contact {
            timezone: Some("America/Los_Angeles".into()),
            phone: Some("+14155550100".into()),
            ..lead()
        };
        assert_eq!(check(&west, None, "sms", Some(&rules()), &[], ts(LATE)), Verdict::Send);
    }

    #[test]
    fn the_loop_lock_holds_sequences_not_the_agent() {
        let now = ts("2026-03-04T19:00:00Z");
        let just_texted =
            [Sent { at: now - SignedDuration::from_mins(3), channel: "sms".into(), automated: true }];
        assert_eq!(check(&lead(), None, "sms", Some(&rules()), &just_texted, now), Verdict::Send);
    }

    #[test]
    fn dnd_an_opt_out_or_no_address_refuse_with_why() {
        let rules = rules();
        let now = ts("2026-03-04T19:00:00Z");
        let mut dnd = lead();
        dnd.dnd_settings
            .insert("SMS".into(), DndSetting { status: "active".into(), ..DndSetting::default() });
        let Verdict::Refuse { reason } = check(&dnd, None, "sms", Some(&rules), &[], now) else {
            panic!("refused");
        };
        assert!(reason.starts_with("SMS DND in GHL") && reason.contains("START"), "{reason}");
        assert_eq!(
            check(&dnd, None, "email", Some(&rules), &[], now),
            Verdict::Send,
            "only the channel's DND"
        );
        // The same without the engine's gates: DND is the contact's own.
        assert!(matches!(check(&dnd, None, "sms", None, &[], now), Verdict::Refuse { .. }));
        let all = Contact { dnd: true, ..lead() };
        assert!(matches!(check(&all, None, "email", None, &[], now), Verdict::Refuse { .. }));

        let stop = OptOutRecord {
            at: ts("2026-03-02T14:05:00Z"),
            phrase: "stop texting me".into(),
            message_id: "m1".into(),
        };
        let Verdict::Refuse { reason } = check(&lead(), Some(&stop), "sms", Some(&rules), &[], now) else {
            panic!("refused");
        };
        assert!(reason.contains("\"stop texting me\", 2026-03-02 14:05 UTC"), "{reason}");
        assert_eq!(check(&lead(), Some(&stop), "email", Some(&rules), &[], now), Verdict::Send);

        let no_phone = Contact { phone: None, ..lead() };
        let Verdict::Refuse { reason } = check(&no_phone, None, "sms", Some(&rules), &[], now) else {
            panic!("refused");
        };
        assert_eq!(reason, "the lead has no phone number: add one in GHL, or send an email instead");
    }

    #[test]
    fn a_hold_reads_in_the_leads_days() {
        let tz = "America/Chicago";
        let now = ts("2026-03-04T15:00:00Z"); // Wed 09:00
        let reason = "3 calls and texts in 24 h (FL cap)";
        assert_eq!(
            hold_sentence(now, ts("2026-03-04T20:30:00Z"), Some(tz), reason, "sms"),
            "It is 09:00 for this lead (America/Chicago): 3 calls and texts in 24 h (FL cap); the text will wait until 14:30"
        );
        assert!(
            hold_sentence(now, ts("2026-03-06T15:00:00Z"), Some(tz), reason, "email")
                .ends_with("the email will wait until Fri 09:00")
        );
        assert_eq!(
            hold_sentence(now, ts("2026-03-05T14:00:00Z"), None, "quiet hours", "sms"),
            "quiet hours; the text will wait until Thu 14:00 UTC"
        );
        assert_eq!(local_time(now, Some(tz)).as_deref(), Some("09:00"));
        assert_eq!(local_time(now, Some("Not/AZone")), None);
    }
}
