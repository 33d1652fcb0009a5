//! Printing replies for people and for scripts.

use jiff::{Timestamp, Unit};
use leadline_shared::domain::LeadSummary;
use leadline_shared::protocol::{LeadDetail, StatusReport};

/// "3h ago", "5d ago", "now".
pub fn ago(at: Option<Timestamp>, now: Timestamp) -> String {
    let Some(at) = at else { return "-".into() };
    let secs = now.duration_since(at).as_secs();
    if secs < 60 {
        return "now".into();
    }
    let (n, unit) = match secs {
        s if s < 3_600 => (s / 60, "m"),
        s if s < 86_400 => (s / 3_600, "h"),
        s => (s / 86_400, "d"),
    };
    format!("{n}{unit} ago")
}

fn ts(at: Option<Timestamp>) -> String {
    at.map(|t| t.round(Unit::Second).map(|t| t.to_string()).unwrap_or_default()).unwrap_or_else(|| "-".into())
}

/// `leadline status` for people.
pub fn status(s: &StatusReport) -> String {
    let mut out = String::new();
    let d = &s.daemon;
    out.push_str(&format!(
        "daemon   leadlined {} (protocol {}), pid {}, socket {}\n",
        d.version, d.protocol, d.pid, d.socket
    ));
    out.push_str(&format!(
        "store    {} contacts, {} deals, {} messages; {} hot / {} warm / {} cold\n",
        s.counts.contacts,
        s.counts.opportunities,
        s.counts.messages,
        s.counts.hot,
        s.counts.warm,
        s.counts.cold
    ));
    out.push_str(&format!(
        "         {} (schema {}, {:.1} MB on disk)\n",
        s.store.path,
        s.store.schema_version,
        s.store.bytes_on_disk as f64 / 1e6
    ));
    out.push_str(&format!(
        "sync     {}, last success {}, {} pending / {} failed edits\n",
        s.sync.state,
        ts(s.sync.last_success),
        s.sync.pending_ops,
        s.sync.failed_ops
    ));
    match &s.sync.rate_limit {
        Some(r) => out.push_str(&format!(
            "budget   {}/{} requests this burst window, {}/{} today\n",
            r.burst_remaining, r.burst_max, r.daily_remaining, r.daily_max
        )),
        None => out.push_str("budget   no GHL requests made yet\n"),
    }
    if s.sync.skipped_records > 0 {
        let n = s.sync.skipped_records;
        let what = if n == 1 { "record" } else { "records" };
        out.push_str(&format!(
            "skipped  {n} {what} from GHL could not be read and {} skipped; see the log ({}/logs)\n",
            if n == 1 { "is" } else { "are" },
            d.data_dir
        ));
    }
    if let Some(e) = &s.sync.last_error {
        out.push_str(&format!("error    {e}\n"));
    }
    out
}

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        format!("{}…", s.chars().take(n - 1).collect::<String>())
    }
}

/// `leadline queue` for people.
pub fn queue(name: &str, leads: &[LeadSummary], now: Timestamp) -> String {
    if leads.is_empty() {
        return format!("The {name} queue is empty.\n");
    }
    let mut out = format!(
        "{:<4} {:<24} {:>5} {:<5} {:<14} {:<16} {:<9} {:<6} {}\n",
        "#", "NAME", "SCORE", "TEMP", "SOURCE", "STAGE", "ACTIVITY", "AGE", "ID"
    );
    for (i, l) in leads.iter().enumerate() {
        out.push_str(&format!(
            "{:<4} {:<24} {:>5} {:<5} {:<14} {:<16} {:<9} {:<6} {}\n",
            i + 1,
            clip(&l.name, 24),
            l.score,
            l.temperature.as_str(),
            clip(l.source.as_deref().unwrap_or("-"), 14),
            clip(l.stage.as_deref().unwrap_or("-"), 16),
            ago(l.last_activity, now).trim_end_matches(" ago"),
            ago(l.date_added, now).trim_end_matches(" ago"),
            l.id
        ));
    }
    out
}

/// `leadline lead` for people.
pub fn lead(d: &LeadDetail, now: Timestamp) -> String {
    let l = &d.lead;
    let mut out = format!("{} ({})\n", l.name, l.id);
    out.push_str(&format!(
        "score    {} ({}), {} of 7 questions answered, model {}\n",
        l.score,
        l.temperature.as_str(),
        l.answered,
        d.score_model
    ));
    for c in &d.explanation {
        out.push_str(&format!("         {:>6.1}  {}\n", c.contribution, c.feature));
    }
    out.push_str(&format!(
        "contact  {} · {} · {}\n",
        l.phone.as_deref().unwrap_or("-"),
        l.email.as_deref().unwrap_or("-"),
        l.timezone.as_deref().unwrap_or("-")
    ));
    out.push_str(&format!(
        "lead     source {}, {} {}, added {}, last activity {}{}\n",
        l.source.as_deref().unwrap_or("-"),
        l.pipeline.as_deref().unwrap_or("no deal"),
        l.stage.as_deref().unwrap_or(""),
        ago(l.date_added, now),
        ago(l.last_activity, now),
        if l.sms_blocked { ", SMS opted out" } else { "" }
    ));
    out.push_str("answers\n");
    for item in leadline_shared::domain::QualificationItem::ALL {
        let answer = d.qualification.get(item);
        out.push_str(&format!(
            "  [{}] {:<15} {}\n",
            if answer.is_some() { "x" } else { " " },
            item.as_str(),
            answer.unwrap_or("")
        ));
    }
    out.push_str("timeline\n");
    for e in d.timeline.iter().take(20) {
        let arrow = match e.direction {
            Some(leadline_shared::domain::Direction::Inbound) => "<-",
            Some(leadline_shared::domain::Direction::Outbound) => "->",
            _ => "  ",
        };
        out.push_str(&format!(
            "  {:<8} {} {:<5} {}\n",
            ago(e.at, now),
            arrow,
            e.channel.as_deref().unwrap_or(&e.kind),
            clip(&e.text, 100)
        ));
    }
    out
}

/// A follow-up action in a few words: "sms instant_response", "tag + Hot Lead".
pub fn action(item: &leadline_shared::domain::FollowUpItem) -> String {
    use leadline_shared::domain::StepAction as A;
    match &item.action {
        A::SendSms { template } => format!("sms {template}"),
        A::SendEmail { template } => format!("email {template}"),
        A::CreateTask { title, .. } => format!("task {}", clip(title, 40)),
        A::AddTag { tag } => format!("tag + {tag}"),
        A::RemoveTag { tag } => format!("tag - {tag}"),
        A::MoveStage { stage } => format!("stage -> {stage}"),
        A::Assign { user } => format!("assign {user}"),
        A::Notify { message } => format!("alert {}", clip(message, 40)),
    }
}

/// The zone's local time of an instant, for "queued until 08:00 local".
fn local(at: Timestamp, zone: Option<&str>) -> String {
    match zone.and_then(|z| jiff::tz::TimeZone::get(z).ok()) {
        Some(tz) => at.to_zoned(tz).strftime("%a %H:%M %Z").to_string(),
        None => format!("{} UTC", at.strftime("%a %H:%M")),
    }
}

/// `leadline followups list` for people.
pub fn followups(items: &[leadline_shared::protocol::FollowUpView], now: Timestamp) -> String {
    if items.is_empty() {
        return "nothing planned or waiting\n".into();
    }
    let mut out =
        format!("{:<19} {:<24} {:<26} {:<20} {}\n", "state", "lead", "action", "when (lead's time)", "id");
    for v in items {
        let i = &v.item;
        let when = if i.at > now {
            format!(
                "in {} · {}",
                ago(Some(now), i.at).trim_end_matches(" ago"),
                local(i.at, i.timezone.as_deref())
            )
        } else {
            format!("{} · {}", ago(Some(i.at), now), local(i.at, i.timezone.as_deref()))
        };
        out.push_str(&format!(
            "{:<19} {:<24} {:<26} {:<20} {}\n",
            i.state.as_str(),
            clip(&v.lead_name, 24),
            clip(&action(i), 26),
            when,
            i.id
        ));
        if let Some(reason) = &i.reason {
            out.push_str(&format!("{:<19} {}\n", "", clip(reason, 110)));
        }
    }
    out
}

/// `leadline followups simulate` for people.
pub fn simulation(plan: &leadline_shared::protocol::Simulation) -> String {
    let mut out = format!("{} sends planned, {} skipped\n", plan.planned.len(), plan.skipped.len());
    for s in &plan.planned {
        out.push_str(&format!(
            "  {}  {:<5} {:<22} {:<22} {}{}\n",
            s.at.strftime("%Y-%m-%d %H:%MZ"),
            s.channel,
            clip(&s.workflow, 22),
            clip(&s.template, 22),
            s.contact_id,
            if s.needs_approval { " (needs approval)" } else { "" }
        ));
    }
    if !plan.skipped.is_empty() {
        out.push_str("skipped\n");
        for s in &plan.skipped {
            out.push_str(&format!(
                "  {}  {:<5} {:<22} {}: {}\n",
                s.at.strftime("%Y-%m-%d %H:%MZ"),
                s.channel,
                clip(&s.workflow, 22),
                s.contact_id,
                s.reason.as_deref().unwrap_or("")
            ));
        }
    }
    out
}
