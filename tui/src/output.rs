//! Printing replies for people and for scripts.

use jiff::{Timestamp, Unit};
use leadline_shared::domain::{FollowUpItem, FollowUps, ItemState, OpKind, OpState, PendingOp};
use leadline_shared::protocol::{LeadDetail, QueuePage, StatusReport};

use crate::dashboard::app::describe_op;
use crate::dashboard::compose::SendState;
use crate::dashboard::format::thousands;

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
    if !s.queues.is_empty() {
        let lengths: Vec<String> =
            s.queues.iter().map(|q| format!("{} {}", q.name, thousands(q.total))).collect();
        out.push_str(&format!("queues   {}\n", lengths.join(" · ")));
    }
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
    if let Some(failure) = s.sync.failure.filter(|_| s.sync.state.is_failing()) {
        let since = match s.sync.unreachable_since {
            Some(at) => format!(" since {}", ts(Some(at))),
            None => String::new(),
        };
        out.push_str(&format!(
            "failing  {}{since}; reads, edits and drafts go on, edits wait for GHL\n",
            failure.describe()
        ));
    }
    if let Some(e) = &s.sync.last_error {
        out.push_str(&format!("error    {e}\n"));
    }
    // Each phase as it last ran: which one fails, and since when each last worked.
    for p in &s.sync.phases {
        let state = match (&p.last_error, p.running) {
            (_, true) => "running".to_owned(),
            (Some(e), false) => format!("failed: {}", clip(e, 80)),
            (None, false) => "ok".to_owned(),
        };
        out.push_str(&format!("phase    {:<10} {state}, last success {}\n", p.name, ts(p.last_success)));
    }
    out
}

/// `leadline draft` for people: the draft, where it waits, and the preferences read.
pub fn draft(r: &leadline_shared::protocol::AssistReport) -> String {
    let item = &r.draft.item;
    let mut out = format!("draft    {}\n", item.edited.as_deref().unwrap_or_default());
    out.push_str(&format!("by       {}\n", r.source));
    if let Some(why) = &r.fallback_reason {
        out.push_str(&format!("because  {why}\n"));
    }
    let next = if item.state == leadline_shared::domain::ItemState::AwaitingApproval {
        format!("waits for approval: `leadline followups approve {}` (or skip)", item.id)
    } else {
        "goes when the gates open (quiet hours, DND, caps)".to_owned()
    };
    out.push_str(&format!("next     {next}\n"));
    let answers: Vec<String> = leadline_shared::domain::QualificationItem::ALL
        .iter()
        .filter_map(|q| r.preferences.get(*q).map(|a| format!("{}: {a}", q.as_str())))
        .collect();
    let prefs = if answers.is_empty() { "none stated yet".to_owned() } else { answers.join(" · ") };
    out.push_str(&format!("wants    {prefs}\n"));
    out
}

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        format!("{}…", s.chars().take(n - 1).collect::<String>())
    }
}

/// `leadline queue` for people: the page's rows numbered by their place in the queue, then
/// where the page sits (`rows 51–100 of 2,345 (next: --offset 100)`) or, when it holds the whole
/// queue, how many leads there are.
pub fn queue(name: &str, page: &QueuePage, now: Timestamp) -> String {
    if page.total == 0 {
        return format!("The {name} queue is empty.\n");
    }
    if page.rows.is_empty() {
        return format!(
            "No leads from row {}: the {name} queue has {}.\n",
            thousands(page.offset.saturating_add(1)),
            leads_count(page.total)
        );
    }
    let first = page.offset.saturating_add(1);
    let last = page.offset.saturating_add(page.rows.len() as u64);
    // The number column widens for deep pages (row 100,000 is 6 digits).
    let width = last.to_string().len().max(4);
    // The recovery queue says why each lead is there: its churn tier and the dollars at risk.
    let recovery = name == "dormant";
    let mut out = format!(
        "{:<width$} {:<24} {:>5} {:<5} {:<14} {:<16} {:<9} {:<6} {}{}\n",
        "#",
        "NAME",
        "SCORE",
        "TEMP",
        "SOURCE",
        "STAGE",
        "ACTIVITY",
        "AGE",
        if recovery { format!("{:<9} {:>9} ", "CHURN", "AT RISK") } else { String::new() },
        "ID"
    );
    for (n, l) in (first..).zip(&page.rows) {
        out.push_str(&format!(
            "{:<width$} {:<24} {:>5} {:<5} {:<14} {:<16} {:<9} {:<6} {}{}\n",
            n,
            clip(&l.name, 24),
            l.score,
            l.temperature.as_str(),
            clip(l.source.as_deref().unwrap_or("-"), 14),
            clip(l.stage.as_deref().unwrap_or("-"), 16),
            ago(l.last_activity, now).trim_end_matches(" ago"),
            ago(l.date_added, now).trim_end_matches(" ago"),
            if recovery {
                format!(
                    "{:<9} {:>9} ",
                    l.churn_tier(),
                    format!("${}", thousands(l.value_at_risk.max(0.0).round() as u64))
                )
            } else {
                String::new()
            },
            l.id
        ));
    }
    let range = format!("rows {}–{} of {}", thousands(first), thousands(last), thousands(page.total));
    if last < page.total {
        out.push_str(&format!("{range} (next: --offset {last})\n"));
    } else if first > 1 {
        out.push_str(&format!("{range}\n"));
    } else {
        out.push_str(&format!("{}\n", leads_count(page.total)));
    }
    out
}

/// `1 lead`, `2,345 leads`.
fn leads_count(n: u64) -> String {
    format!("{} lead{}", thousands(n), if n == 1 { "" } else { "s" })
}

/// `leadline search` for people: the leads best match first, with what they are found by
/// (phone, email, tags), then how many match in all.
pub fn search(query: &str, page: &leadline_shared::protocol::SearchPage, now: Timestamp) -> String {
    let query = query.trim();
    if page.rows.is_empty() {
        return format!("No lead matches \"{query}\" (searched for: {}).\n", page.terms.join(" "));
    }
    let mut out = format!(
        "{:<3} {:<22} {:>5} {:<4} {:<12} {:<26} {:<18} {:<9} {}\n",
        "#", "NAME", "SCORE", "TEMP", "PHONE", "EMAIL", "TAGS", "ACTIVITY", "ID"
    );
    for (n, l) in (1..).zip(&page.rows) {
        out.push_str(&format!(
            "{:<3} {:<22} {:>5} {:<4} {:<12} {:<26} {:<18} {:<9} {}\n",
            n,
            clip(&l.name, 22),
            l.score,
            l.temperature.as_str(),
            clip(l.phone.as_deref().unwrap_or("-"), 12),
            clip(l.email.as_deref().unwrap_or("-"), 26),
            clip(&if l.tags.is_empty() { "-".to_owned() } else { l.tags.join(", ") }, 18),
            ago(l.last_activity, now).trim_end_matches(" ago"),
            l.id
        ));
    }
    let shown = page.rows.len() as u64;
    if shown < page.total {
        out.push_str(&format!(
            "the best {} of {} matching \"{query}\" (more with --limit)\n",
            thousands(shown),
            leads_count(page.total)
        ));
    } else {
        out.push_str(&format!("{} matching \"{query}\"\n", leads_count(page.total)));
    }
    out
}

/// A score unit in words.
pub fn unit_words(unit: &str) -> &'static str {
    match unit {
        "log_odds" => "log-odds of winning",
        _ => "points of the 0-100 score",
    }
}

/// `leadline model status` for people.
pub fn model_status(s: &leadline_shared::protocol::ModelStatus) -> String {
    let mut out = format!("scoring  {}\n", s.active);
    if let Some(reason) = &s.reason {
        out.push_str(&format!("why      {reason}\n"));
    }
    out.push_str(&format!(
        "history  {} won, {} lost or abandoned (training needs {} closed, {} of each)\n",
        s.won, s.lost, s.min_closed_deals, s.min_per_class
    ));
    let last = s.last_run_at.map(|t| t.to_string()).unwrap_or_else(|| "never".into());
    out.push_str(&format!("trained  last run {last}\n"));
    match (&s.rescoring, s.training) {
        (Some(scorer), true) => out.push_str(&format!("         rescoring every lead with {scorer} now\n")),
        (None, true) => out.push_str("         training now (a promotion then rescores every lead)\n"),
        (Some(scorer), false) => out.push_str(&format!(
            "         the rescore of every lead with {scorer} is unfinished: the daemon finishes it when it next starts\n"
        )),
        (None, false) => {}
    }
    let auc = |a: Option<f64>| a.map_or_else(|| "-".to_owned(), |a| format!("{a:.3}"));
    for m in &s.models {
        out.push_str(&format!(
            "  {:<10} {} train {} held out {}  auc {} vs rules-v1 {}  {}: {}\n",
            m.name,
            m.trained_at.map(|t| t.to_string()).unwrap_or_default(),
            m.train_rows,
            m.held_out_rows,
            auc(m.held_out_auc),
            auc(m.rules_auc),
            if m.promoted { "promoted" } else { "not promoted" },
            m.verdict
        ));
    }
    out
}

/// `leadline lead` for people.
/// A lead's matches (and, as they come, its routing and churn risk) for `leadline lead ID`.
fn intel(d: &LeadDetail) -> String {
    let mut out = String::new();
    if let Some(c) = &d.churn {
        let at_risk = c.value_at_risk.map(|v| format!(", ${v:.0} at risk")).unwrap_or_default();
        out.push_str(&format!("churn    {} {} ({}){at_risk}\n", c.tier, c.score, c.action));
        for f in &c.factors {
            out.push_str(&format!("         {:>5.1}  {} ({})\n", f.points, f.factor, f.text));
        }
    }
    if let Some(r) = &d.routing {
        let method = if r.method == "round_robin" { "round robin" } else { "best fit" };
        let current = if r.current { ", already assigned" } else { "" };
        out.push_str(&format!(
            "routing  {} ({}), {method}, load {}/{}{current}\n",
            r.name, r.user_id, r.load, r.capacity
        ));
        for step in &r.trace {
            out.push_str(&format!("         {step}\n"));
        }
    }
    if !d.matches.is_empty() {
        out.push_str("matches\n");
        for m in &d.matches {
            let l = &m.listing;
            out.push_str(&format!(
                "  {:>3}  {:<12} {:>10}  {}\n",
                m.score,
                l.listing_id,
                l.list_price.map(|p| format!("${p:.0}")).unwrap_or_else(|| "-".into()),
                l.address()
            ));
            let reasons: Vec<String> = m
                .reasons
                .iter()
                .filter(|r| r.asked)
                .map(|r| format!("{} {}", if r.met { "+" } else { "-" }, r.text))
                .collect();
            if !reasons.is_empty() {
                out.push_str(&format!("       {}\n", reasons.join(", ")));
            }
        }
    }
    out
}

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
    if let Some(note) = &d.score_note {
        out.push_str(&format!("         scored by rules-v1: {note}\n"));
    }
    out.push_str(&format!(
        "         why, in {}: the contributions add up to {:.3}\n",
        unit_words(&d.score_unit),
        d.score_output
    ));
    let decimals = if d.score_unit == "log_odds" { 3 } else { 1 };
    for c in &d.explanation {
        out.push_str(&format!("         {:>+8.decimals$}  {}\n", c.contribution, c.feature));
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
    out.push_str(&intel(d));
    if let Some(f) = &d.followups {
        out.push_str(&lead_followups(f, &l.id, now));
    }
    if !d.pending_ops.is_empty() {
        out.push_str("edits not in GHL yet (`leadline retry SEQ` retries a failed one)\n");
        for op in &d.pending_ops {
            out.push_str(&format!(
                "  #{:<5} {:<40} {}\n",
                op.seq,
                clip(&describe_op(&op.kind, &d.opportunities), 40),
                op_state(op)
            ));
        }
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

/// Where a pending edit stands: a message as Compose follows it (queued, held, sending,
/// refused), another edit as sync sees it.
pub fn op_state(op: &PendingOp) -> String {
    if matches!(op.kind, OpKind::SendMessage { .. }) {
        return SendState::of(op).label();
    }
    let why = op.last_error.as_deref().unwrap_or("");
    match op.state {
        OpState::Pending => "waiting for GHL".to_owned(),
        OpState::Failed => format!("failed: {why}"),
        OpState::OutOfSync => format!("out of sync: {why}"),
        OpState::Uncertain => format!("uncertain: {why}"),
    }
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

/// The zone's local time of an instant, for "queued until 08:00 local": `Tue 08:00 CDT`, or
/// `Tue 13:00 UTC` when the zone is unknown (so the reader is never left guessing which time it
/// is).
pub fn local(at: Timestamp, zone: Option<&str>) -> String {
    match zone.and_then(|z| jiff::tz::TimeZone::get(z).ok()) {
        Some(tz) => at.to_zoned(tz).strftime("%a %H:%M %Z").to_string(),
        None => format!("{} UTC", at.strftime("%a %H:%M")),
    }
}

/// Follow-up actions shown with a lead; the rest are counted, with the command that lists them.
pub const LEAD_FOLLOWUPS_SHOWN: usize = 8;

/// Still to happen (as opposed to finished, or needing the agent after an attempt).
pub fn is_upcoming(state: ItemState) -> bool {
    matches!(
        state,
        ItemState::AwaitingApproval | ItemState::Scheduled | ItemState::Queued | ItemState::Sending
    )
}

/// The instant that says when an action goes or went: when it may go while it is still to
/// happen, when it last changed (was sent, failed, was skipped) after that.
pub fn when_at(item: &FollowUpItem) -> Timestamp {
    if is_upcoming(item.state) { item.at } else { item.updated_at }
}

/// A send moved past its due time (quiet hours, a cap) that still waits: it is "held until"
/// its new time rather than simply due then.
pub fn is_held(item: &FollowUpItem) -> bool {
    is_upcoming(item.state) && item.at > item.due_at
}

/// When an action goes or went, in the lead's local time: `held until Tue 08:00 CDT, in 9h`,
/// `Mon 14:02 CDT, 3h ago`.
pub fn followup_when(item: &FollowUpItem, now: Timestamp) -> String {
    let at = when_at(item);
    let local = local(at, item.timezone.as_deref());
    let relative = if at > now {
        format!("in {}", ago(Some(now), at).trim_end_matches(" ago"))
    } else {
        ago(Some(at), now)
    };
    if is_held(item) { format!("held until {local}, {relative}") } else { format!("{local}, {relative}") }
}

/// The "follow-ups" section of `leadline lead`: upcoming actions soonest first, then past ones
/// newest first with their reasons, at most [`LEAD_FOLLOWUPS_SHOWN`].
fn lead_followups(f: &FollowUps, id: &str, now: Timestamp) -> String {
    let mut upcoming: Vec<&FollowUpItem> = f.items.iter().filter(|i| is_upcoming(i.state)).collect();
    upcoming.sort_by_key(|i| (i.at, i.id.clone()));
    let mut past: Vec<&FollowUpItem> = f.items.iter().filter(|i| !is_upcoming(i.state)).collect();
    past.sort_by_key(|i| std::cmp::Reverse(i.updated_at));
    let mut out = format!("follow-ups ({} upcoming, {} past)\n", upcoming.len(), past.len());
    if let Some(p) = &f.paused {
        out.push_str(&format!(
            "  paused {}: {} (`leadline followups resume {id}`)\n",
            ago(Some(p.at), now),
            p.reason
        ));
    }
    if let Some(o) = &f.opted_out {
        out.push_str(&format!(
            "  opted out {}: {:?}; nothing automated is sent\n",
            ago(Some(o.at), now),
            o.phrase
        ));
    }
    if f.items.is_empty() {
        out.push_str("  none planned\n");
        return out;
    }
    // Upcoming first: the agent acts on those; past ones fill what room is left.
    let shown_upcoming = upcoming.len().min(LEAD_FOLLOWUPS_SHOWN);
    let shown_past = past.len().min(LEAD_FOLLOWUPS_SHOWN - shown_upcoming);
    for (title, items) in [("upcoming", &upcoming[..shown_upcoming]), ("past", &past[..shown_past])] {
        if items.is_empty() {
            continue;
        }
        out.push_str(&format!("  {title}\n"));
        for i in items {
            out.push_str(&format!(
                "    {:<17} {:<26} {}\n",
                i.state.as_str(),
                clip(&action(i), 26),
                followup_when(i, now)
            ));
            if let Some(reason) = i.reason.as_deref().filter(|r| !r.trim().is_empty()) {
                out.push_str(&format!("    {:<17} {}\n", "", clip(reason, 100)));
            }
        }
    }
    let hidden: Vec<ItemState> =
        upcoming[shown_upcoming..].iter().chain(&past[shown_past..]).map(|i| i.state).collect();
    if !hidden.is_empty() {
        // `followups list` shows only what is still to happen or failed unless told the states.
        let listed_by_default = [
            ItemState::AwaitingApproval,
            ItemState::Scheduled,
            ItemState::Queued,
            ItemState::Sending,
            ItemState::Failed,
            ItemState::Uncertain,
        ];
        let mut states: Vec<&str> = Vec::new();
        for s in &hidden {
            if !states.contains(&s.as_str()) {
                states.push(s.as_str());
            }
        }
        let filter = if hidden.iter().all(|s| listed_by_default.contains(s)) {
            String::new()
        } else {
            format!(" --state {}", states.join(","))
        };
        out.push_str(&format!("  {} more: leadline followups list --lead {id}{filter}\n", hidden.len()));
    }
    out
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

/// `leadline analytics` for people: every figure, in sections, within 80 columns.
pub fn analytics(r: &leadline_shared::protocol::AnalyticsReport) -> String {
    use crate::dashboard::format::{duration, money, percent};
    use std::fmt::Write as _;
    let mut out = String::new();
    let since = r
        .since
        .map(|t| format!("leads that arrived since {}", t.strftime("%Y-%m-%d")))
        .unwrap_or_else(|| "all leads".into());
    let _ = writeln!(out, "Analytics · {} · {since}", r.range);
    let _ = writeln!(out, "\nFunnel                    leads   from previous   of new");
    for s in &r.funnel {
        let _ = writeln!(
            out,
            "  {:<22} {:>7}   {:>13}   {:>6}",
            s.stage,
            thousands(s.count),
            if s.conversion.is_some() { percent(s.conversion) } else { String::new() },
            percent(s.of_new)
        );
    }
    let s = &r.speed_to_lead;
    let _ = writeln!(
        out,
        "\nSpeed to lead  median {} · p90 {}\n               within 5 min {} ({} of {} leads)",
        duration(s.median_secs),
        duration(s.p90_secs),
        percent(s.within_5m_share),
        thousands(s.within_5m),
        thousands(s.leads)
    );
    let c = &r.calls;
    let _ = writeln!(
        out,
        "Calls          {} calls · {} connected ({})\n               talk {} (avg {} a connected call)",
        thousands(c.calls),
        thousands(c.connected),
        percent(c.connect_rate),
        duration(Some(c.talk_seconds)),
        duration(c.avg_talk_seconds.map(|a| a.round() as u64))
    );
    let _ = writeln!(out, "\nSources               leads  contacted    won  conv.    won value      ROI");
    for row in &r.sources {
        let _ = writeln!(
            out,
            "  {:<18} {:>7} {:>10} {:>6} {:>6} {:>12} {:>8}",
            clip(&row.source, 18),
            thousands(row.leads),
            thousands(row.contacted),
            thousands(row.won),
            percent(row.conversion),
            money(Some(row.won_value)),
            percent(row.roi)
        );
    }
    let _ = writeln!(
        out,
        "\nForecast  open pipeline {} · forecast {}",
        money(Some(r.pipeline_value)),
        money(Some(r.forecast_total))
    );
    let _ = writeln!(
        out,
        "  {:<30} {:>5} {:>10} {:>8} {:>10}",
        "pipeline · stage", "open", "value", "win p.", "forecast"
    );
    for f in &r.forecast {
        let _ = writeln!(
            out,
            "  {:<30} {:>5} {:>10} {:>8} {:>10}",
            clip(&format!("{} · {}", f.pipeline, f.stage), 30),
            thousands(f.open_deals),
            money(Some(f.open_value)),
            percent(f.win_probability),
            money(f.forecast)
        );
    }
    if !r.followups.is_empty() {
        let _ = writeln!(out, "\nFollow-ups                          step     sent  replied   reply rate");
        for f in &r.followups {
            let _ = writeln!(
                out,
                "  {:<33} {:>5} {:>8} {:>8} {:>12}",
                clip(&f.workflow, 33),
                f.step,
                thousands(f.sent),
                thousands(f.replied),
                percent(f.reply_rate)
            );
        }
    }
    let _ = writeln!(out, "\nAgents                      leads  contacted      won    won value");
    for a in &r.leaderboard {
        let _ = writeln!(
            out,
            "  {:<24} {:>7} {:>10} {:>8} {:>12}",
            clip(&a.name, 24),
            thousands(a.leads),
            thousands(a.contacted),
            thousands(a.won),
            money(Some(a.won_value))
        );
    }
    let _ = writeln!(out, "\nCohorts (month of arrival)  leads  contacted  qualified    won   conv.");
    for c in &r.cohorts {
        let _ = writeln!(
            out,
            "  {:<24} {:>7} {:>10} {:>10} {:>6} {:>7}",
            c.month,
            thousands(c.leads),
            thousands(c.contacted),
            thousands(c.qualified),
            thousands(c.won),
            percent(c.conversion)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use leadline_shared::domain::{LeadSummary, Mode, OptOutRecord, Pause, StepAction};

    use super::*;

    fn now() -> Timestamp {
        "2025-06-02T15:00:00Z".parse().expect("valid")
    }

    fn at(secs_from_now: i64) -> Timestamp {
        Timestamp::from_second(now().as_second() + secs_from_now).expect("valid")
    }

    fn item(step: u32, action: StepAction, state: ItemState, at_secs: i64) -> FollowUpItem {
        FollowUpItem {
            id: format!("c1/nurture/{step}"),
            contact_id: "c1".into(),
            workflow: "nurture".into(),
            step,
            action,
            due_at: at(at_secs),
            at: at(at_secs),
            timezone: Some("America/Chicago".into()),
            mode: Mode::Auto,
            state,
            reason: None,
            template_version: None,
            body: None,
            edited: None,
            subject: None,
            op_seq: None,
            message_id: None,
            created_at: at(-86_400 * 3),
            updated_at: at(at_secs.min(0)),
            confirmation: false,
        }
    }

    fn sms(template: &str) -> StepAction {
        StepAction::SendSms { template: template.into() }
    }

    fn detail(items: Vec<FollowUpItem>) -> LeadDetail {
        let mut record = FollowUps::new("c1");
        record.items = items;
        LeadDetail {
            lead: LeadSummary { id: "c1".into(), name: "Maria Gonzalez".into(), ..LeadSummary::default() },
            followups: Some(record),
            ..LeadDetail::default()
        }
    }

    /// The follow-ups section of `leadline lead`, without the rest of the lead.
    fn section(d: &LeadDetail) -> String {
        let text = lead(d, now());
        let start = text.find("follow-ups").expect("a follow-ups section");
        let end = text.find("timeline\n").expect("the timeline after it");
        text[start..end].to_owned()
    }

    #[test]
    fn status_gives_each_queues_exact_length() {
        use leadline_shared::protocol::{QueueCount, QueueName};
        let report = StatusReport {
            queues: vec![
                QueueCount { name: QueueName::SpeedToLead, total: 12 },
                QueueCount { name: QueueName::All, total: 100_000 },
            ],
            ..StatusReport::default()
        };
        let text = status(&report);
        assert!(text.contains("queues   speed-to-lead 12 · all 100,000\n"), "{text}");
        assert!(!status(&StatusReport::default()).contains("queues"), "an older daemon's status has none");
    }

    #[test]
    fn status_says_why_sync_fails_and_how_each_phase_last_ran() {
        use leadline_shared::protocol::{SyncFailure, SyncPhase, SyncState};
        let at: Timestamp = "2026-12-01T09:30:00Z".parse().expect("timestamp");
        let mut report = StatusReport::default();
        report.sync.state = SyncState::Offline;
        report.sync.failure = Some(SyncFailure::Unreachable);
        report.sync.unreachable_since = Some(at);
        report.sync.phases = vec![
            SyncPhase { name: "full".into(), last_success: Some(at), ..SyncPhase::default() },
            SyncPhase {
                name: "poll".into(),
                last_error: Some("GHL did not answer in time".into()),
                ..SyncPhase::default()
            },
        ];
        let text = status(&report);
        assert!(
            text.contains(
                "failing  GHL unreachable since 2026-12-01T09:30:00Z; reads, edits and drafts go on"
            ),
            "{text}"
        );
        assert!(text.contains("phase    full       ok, last success 2026-12-01T09:30:00Z\n"), "{text}");
        assert!(
            text.contains("phase    poll       failed: GHL did not answer in time, last success -\n"),
            "{text}"
        );
        // A sync that works says nothing of failures.
        report.sync.state = SyncState::Idle;
        assert!(!status(&report).contains("failing"));
    }

    #[test]
    fn a_leads_follow_ups_upcoming_first_then_past_with_reasons() {
        let mut held = item(2, sms("check_in"), ItemState::Scheduled, 23 * 3_600);
        held.due_at = at(12 * 3_600);
        held.reason = Some("quiet hours in America/Chicago (TCPA: 08:00–21:00)".into());
        let mut failed = item(1, sms("nurture_day1"), ItemState::Failed, -2 * 3_600);
        failed.reason = Some("GHL refused the request (422): the number cannot receive texts".into());
        let mut uncertain = item(0, sms("instant_response"), ItemState::Uncertain, -600);
        uncertain.reason = Some("GHL did not answer within 30s".into());
        let d = detail(vec![
            failed,
            held,
            item(3, sms("nurture_day3"), ItemState::AwaitingApproval, 2 * 3_600),
            uncertain,
            item(4, StepAction::AddTag { tag: "Nurture".into() }, ItemState::Done, -86_400),
        ]);
        assert_eq!(
            section(&d),
            "\
follow-ups (2 upcoming, 3 past)
  upcoming
    awaiting_approval sms nurture_day3           Mon 12:00 CDT, in 2h
    scheduled         sms check_in               held until Tue 09:00 CDT, in 23h
                      quiet hours in America/Chicago (TCPA: 08:00–21:00)
  past
    uncertain         sms instant_response       Mon 09:50 CDT, 10m ago
                      GHL did not answer within 30s
    failed            sms nurture_day1           Mon 08:00 CDT, 2h ago
                      GHL refused the request (422): the number cannot receive texts
    done              tag + Nurture              Sun 10:00 CDT, 1d ago
"
        );
    }

    #[test]
    fn many_follow_ups_are_capped_with_the_command_that_lists_the_rest() {
        let mut items: Vec<FollowUpItem> = (0..6)
            .map(|i| item(i, sms("nurture"), ItemState::Scheduled, 3_600 * (i64::from(i) + 1)))
            .collect();
        items.extend((6..11).map(|i| item(i, sms("nurture"), ItemState::Sent, -3_600 * i64::from(i))));
        let text = section(&detail(items));
        assert_eq!(text.matches("    scheduled ").count(), 6, "{text}");
        assert_eq!(text.matches("    sent ").count(), LEAD_FOLLOWUPS_SHOWN - 6, "{text}");
        assert!(text.ends_with("  3 more: leadline followups list --lead c1 --state sent\n"), "{text}");

        // Only upcoming ones left out: the default list shows them.
        let upcoming: Vec<FollowUpItem> = (0..10)
            .map(|i| item(i, sms("nurture"), ItemState::Scheduled, 3_600 * (i64::from(i) + 1)))
            .collect();
        let text = section(&detail(upcoming));
        assert!(text.ends_with("  2 more: leadline followups list --lead c1\n"), "{text}");
    }

    #[test]
    fn a_paused_or_opted_out_lead_says_so() {
        let mut d = detail(Vec::new());
        let record = d.followups.as_mut().expect("record");
        record.paused = Some(Pause { at: at(-3_600), reason: "paused by the agent".into() });
        record.opted_out =
            Some(OptOutRecord { at: at(-7_200), phrase: "stop texting me".into(), message_id: "m1".into() });
        assert_eq!(
            section(&d),
            "\
follow-ups (0 upcoming, 0 past)
  paused 1h ago: paused by the agent (`leadline followups resume c1`)
  opted out 2h ago: \"stop texting me\"; nothing automated is sent
  none planned
"
        );
        // No record at all: no section.
        d.followups = None;
        assert!(!lead(&d, now()).contains("follow-ups"));
    }

    #[test]
    fn the_json_of_a_lead_carries_its_follow_ups() {
        let d = detail(vec![item(3, sms("nurture_day3"), ItemState::AwaitingApproval, 7_200)]);
        let json = serde_json::to_value(&d).expect("json");
        assert_eq!(json["followups"]["items"][0]["state"], "awaiting_approval");
        assert_eq!(json["followups"]["items"][0]["timezone"], "America/Chicago");
    }

    fn page(offset: u64, n: u64, total: u64) -> QueuePage {
        let rows = (offset..offset + n)
            .map(|i| LeadSummary {
                id: format!("c{i}"),
                name: format!("Lead {i}"),
                score: 50,
                ..LeadSummary::default()
            })
            .collect();
        QueuePage { total, offset, rows, anchor_at: None }
    }

    #[test]
    fn a_queue_page_numbers_rows_from_its_offset_and_says_how_to_get_the_next() {
        let text = queue("hot", &page(50, 50, 2_345), now());
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("#    NAME"), "{text}");
        assert!(lines[1].starts_with("51   Lead 50 "), "{text}");
        assert!(lines[50].starts_with("100  Lead 99 "), "{text}");
        assert_eq!(lines[51], "rows 51–100 of 2,345 (next: --offset 100)");
        assert_eq!(lines.len(), 52);
    }

    #[test]
    fn the_recovery_queue_shows_each_leads_churn_tier_and_value_at_risk() {
        let mut p = page(0, 2, 2);
        p.rows[0].churn_risk = 68;
        p.rows[0].value_at_risk = 136_600.0;
        let text = queue("dormant", &p, now());
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].contains("CHURN       AT RISK ID"), "{text}");
        assert!(lines[1].contains("high       $136,600 c0"), "{text}");
        assert!(lines[2].contains("low              $0 c1"), "{text}");
        assert!(!queue("hot", &p, now()).contains("CHURN"));
    }

    #[test]
    fn a_whole_queue_ends_with_its_count_and_a_last_page_with_its_rows() {
        let text = queue("hot", &page(0, 3, 3), now());
        assert!(text.ends_with("c2\n3 leads\n"), "{text}");
        assert!(queue("hot", &page(0, 1, 1), now()).ends_with("\n1 lead\n"));
        let text = queue("all", &page(2_300, 45, 2_345), now());
        assert!(text.ends_with("\nrows 2,301–2,345 of 2,345\n"), "{text}");
    }

    #[test]
    fn deep_row_numbers_widen_their_column() {
        let text = queue("all", &page(99_998, 2, 100_000), now());
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("#      NAME"), "{text}");
        assert!(lines[1].starts_with("99999  Lead 99998 "), "{text}");
        assert!(lines[2].starts_with("100000 Lead 99999 "), "{text}");
        assert_eq!(lines[3], "rows 99,999–100,000 of 100,000");
    }

    #[test]
    fn an_empty_queue_or_an_offset_past_the_end_says_so() {
        assert_eq!(queue("due", &page(0, 0, 0), now()), "The due queue is empty.\n");
        assert_eq!(
            queue("hot", &page(5_000, 0, 2_345), now()),
            "No leads from row 5,001: the hot queue has 2,345 leads.\n"
        );
    }

    #[test]
    fn search_lists_what_leads_are_found_by_and_how_many_match() {
        use leadline_shared::protocol::SearchPage;
        let maria = LeadSummary {
            id: "c1".into(),
            name: "Maria Gonzalez".into(),
            score: 85,
            phone: Some("+15125550100".into()),
            email: Some("maria@example.com".into()),
            tags: vec!["Buyer".into(), "VIP".into()],
            ..LeadSummary::default()
        };
        let page = SearchPage { terms: vec!["maria".into()], total: 3, rows: vec![maria] };
        let text = search(" maria ", &page, now());
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("#   NAME"), "{text}");
        assert!(
            lines[1].contains("+15125550100 maria@example.com") && lines[1].contains("Buyer, VIP"),
            "{text}"
        );
        assert_eq!(lines[2], "the best 1 of 3 leads matching \"maria\" (more with --limit)");
        let all = SearchPage { total: 1, ..page.clone() };
        assert!(search("maria", &all, now()).ends_with("\n1 lead matching \"maria\"\n"));
        let none = SearchPage { terms: vec!["5125550100".into()], total: 0, rows: vec![] };
        assert_eq!(
            search("(512) 555-0100", &none, now()),
            "No lead matches \"(512) 555-0100\" (searched for: 5125550100).\n"
        );
    }

    #[test]
    fn the_model_status_says_when_a_training_run_or_a_rescore_is_under_way() {
        use leadline_shared::protocol::ModelStatus;
        let idle = ModelStatus { active: "rules-v1".into(), ..ModelStatus::default() };
        assert!(!model_status(&idle).contains("training now"));
        let busy = ModelStatus { training: true, ..idle.clone() };
        assert!(model_status(&busy).contains("training now"), "{}", model_status(&busy));
        let rescoring = ModelStatus { rescoring: Some("gbdt-v2".into()), ..busy };
        assert!(model_status(&rescoring).contains("rescoring every lead with gbdt-v2 now"));
        let cut_short = ModelStatus { rescoring: Some("gbdt-v2".into()), ..idle };
        assert!(model_status(&cut_short).contains("gbdt-v2 is unfinished"), "{}", model_status(&cut_short));
    }
}
