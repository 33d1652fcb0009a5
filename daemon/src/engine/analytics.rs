//! Analytics: the figures of the Analytics screen and `leadline analytics`, from aggregates the
//! store keeps at write time. Pure: no store, no IO, no clock.
//!
//! The store turns each written record into small *facts* ([`LeadFacts`] from a lead's row,
//! [`DealFacts`] from a deal, [`StepFact`]s from a follow-up record), and keeps
//! [`Aggregates`]: the facts summed per UTC day (of the lead's arrival, the deal's creation, the
//! follow-up step's send). A write subtracts the old facts and adds the new ones, so a request
//! sums at most one bucket per day in its range and never walks the leads.
//!
//! Definitions (each a lead's state now, counted in the funnel as "reached at least"):
//! - **new**: the lead arrived (its contact's `dateAdded`) in the range;
//! - **contacted**: someone reached out: the lead has an outbound conversational message;
//! - **qualified**: the lead is hot (enough qualifying questions answered, `[scoring]`);
//! - **appointment**: an appointment was booked (GHL's appointment activity, or a deal at or
//!   past the "Appointment…"/"Showing…" stage);
//! - **won**: a deal of the lead is won.
//!
//! A lead counts at the furthest stage it reached and at every stage before it, so the funnel
//! never widens (a lead who booked by phone before any text counts as contacted).

use std::collections::BTreeMap;

use jiff::Timestamp;
use leadline_shared::domain::{
    FollowUps, ItemState, LeadSummary, Opportunity, OpportunityStatus, Pipeline, Temperature,
};
use leadline_shared::protocol::{
    AgentRow, AnalyticsRange, AnalyticsReport, CallFigures, CohortRow, FollowUpStepRow, ForecastStage,
    FunnelStage, SourceRow, SpeedToLead,
};
use serde::{Deserialize, Serialize};

/// Seconds in a day.
const DAY: i64 = 86_400;
/// The day bucket of leads with no arrival date: counted under `all` only.
pub const NO_DAY: i32 = i32::MIN;
/// The funnel's stages, in order.
pub const FUNNEL: [&str; 5] = ["new", "contacted", "qualified", "appointment", "won"];
/// "Contacted within 5 minutes".
const FAST_SECS: u64 = 300;

/// The UTC day number of a time (days since 1970-01-01).
pub fn day_of(t: Timestamp) -> i32 {
    t.as_second().div_euclid(DAY).clamp(i64::from(i32::MIN + 1), i64::from(i32::MAX)) as i32
}

/// Money in whole cents, so that adding and then subtracting a deal leaves exactly zero.
fn cents(value: Option<f64>) -> i64 {
    value.filter(|v| v.is_finite()).map_or(0, |v| (v * 100.0).round() as i64)
}

/// What one lead adds to the aggregates, from its row alone (so the store can subtract the old
/// row's facts without reading anything else).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeadFacts {
    pub day: i32,
    pub source: String,
    pub user: String,
    /// The furthest funnel stage reached: an index into [`FUNNEL`].
    pub level: u8,
    /// Seconds from arrival to the first outbound message.
    pub first_response_secs: Option<u64>,
    pub won_cents: i64,
    pub calls: u64,
    pub connected: u64,
    pub talk_seconds: u64,
}

impl LeadFacts {
    /// The facts of a stored row.
    pub fn of(row: &LeadSummary) -> LeadFacts {
        let contacted = row.first_outbound_at.is_some();
        let qualified = row.temperature == Temperature::Hot;
        let won = row.won_value.is_some();
        let level = if won {
            4
        } else if row.appointment {
            3
        } else if qualified {
            2
        } else if contacted {
            1
        } else {
            0
        };
        let first_response_secs = match (row.date_added, row.first_outbound_at) {
            // An outbound message dated before the lead's arrival (an import, a re-created
            // contact) counts as an instant answer rather than a negative one.
            (Some(added), Some(first)) => {
                Some(first.as_second().saturating_sub(added.as_second()).max(0) as u64)
            }
            _ => None,
        };
        LeadFacts {
            day: row.date_added.map_or(NO_DAY, day_of),
            source: row.source.clone().unwrap_or_default(),
            user: row.assigned_to.clone().unwrap_or_default(),
            level,
            first_response_secs,
            won_cents: cents(row.won_value),
            calls: u64::from(row.calls.calls),
            connected: u64::from(row.calls.connected),
            talk_seconds: row.calls.talk_seconds,
        }
    }
}

/// A deal's status, as the forecast groups it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum DealState {
    Open,
    Won,
    /// Lost or abandoned: both are deals that died.
    Lost,
}

/// What one deal adds to the aggregates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DealFacts {
    pub day: i32,
    pub pipeline: String,
    pub stage: String,
    pub state: DealState,
    pub value_cents: i64,
}

impl DealFacts {
    /// The facts of a stored deal.
    pub fn of(o: &Opportunity) -> DealFacts {
        let state = match o.status {
            OpportunityStatus::Won => DealState::Won,
            OpportunityStatus::Lost | OpportunityStatus::Abandoned => DealState::Lost,
            OpportunityStatus::Open | OpportunityStatus::Other => DealState::Open,
        };
        DealFacts {
            day: o.created_at.map_or(NO_DAY, day_of),
            pipeline: o.pipeline_id.clone(),
            stage: o.pipeline_stage_id.clone(),
            state,
            value_cents: cents(o.monetary_value),
        }
    }
}

/// One automated message a follow-up sequence sent, and whether the lead answered it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct StepFact {
    /// The day it was sent.
    pub day: i32,
    pub workflow: String,
    pub step: u32,
    pub replied: bool,
}

/// The follow-up record's sent messages. A sent step is *replied* when the lead's reply ended
/// or paused its sequence (the engine stops a sequence on a reply) and it is the last step of
/// that sequence sent before the reply: the message the lead answered.
pub fn step_facts(record: &FollowUps) -> Vec<StepFact> {
    use leadline_shared::domain::EnrollmentState;
    let sent = |i: &&leadline_shared::domain::FollowUpItem| {
        matches!(i.state, ItemState::Sent | ItemState::Done) && i.action.channel().is_some()
    };
    let replies: Vec<(&str, Timestamp)> = record
        .enrollments
        .iter()
        .filter_map(|e| match &e.state {
            EnrollmentState::Paused { reason, at } | EnrollmentState::Ended { reason, at }
                if reason.contains("replied") =>
            {
                Some((e.workflow.as_str(), *at))
            }
            _ => None,
        })
        .collect();
    let mut answered: Vec<&str> = Vec::new();
    for (workflow, at) in &replies {
        let last = record
            .items
            .iter()
            .filter(sent)
            .filter(|i| i.workflow == *workflow && i.at <= *at)
            .max_by_key(|i| (i.at, i.step));
        if let Some(item) = last {
            answered.push(item.id.as_str());
        }
    }
    let mut out: Vec<StepFact> = record
        .items
        .iter()
        .filter(sent)
        .map(|i| StepFact {
            day: day_of(i.at),
            workflow: i.workflow.clone(),
            step: i.step,
            replied: answered.contains(&i.id.as_str()),
        })
        .collect();
    out.sort();
    out
}

/// Counts of leads by how far they got, and what the won ones were worth.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    pub leads: i64,
    pub contacted: i64,
    pub qualified: i64,
    pub appointment: i64,
    pub won: i64,
    pub won_cents: i64,
}

impl Tally {
    fn add(&mut self, f: &LeadFacts, sign: i64) {
        self.leads += sign;
        self.contacted += sign * i64::from(f.level >= 1);
        self.qualified += sign * i64::from(f.level >= 2);
        self.appointment += sign * i64::from(f.level >= 3);
        self.won += sign * i64::from(f.level >= 4);
        self.won_cents += sign * f.won_cents;
    }

    fn merge(&mut self, o: &Tally) {
        self.leads += o.leads;
        self.contacted += o.contacted;
        self.qualified += o.qualified;
        self.appointment += o.appointment;
        self.won += o.won;
        self.won_cents += o.won_cents;
    }

    fn is_zero(&self) -> bool {
        *self == Tally::default()
    }
}

/// One day's sums.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayBucket {
    pub leads: Tally,
    pub sources: BTreeMap<String, Tally>,
    pub users: BTreeMap<String, Tally>,
    /// First-response times ([`response_bucket`]) → leads.
    pub response: BTreeMap<u64, i64>,
    pub calls: i64,
    pub connected: i64,
    pub talk_seconds: i64,
    /// (pipeline, stage, state) → (deals, value in cents).
    #[serde(with = "pairs")]
    pub deals: BTreeMap<(String, String, DealState), (i64, i64)>,
    /// (workflow, step) → (sent, replied).
    #[serde(with = "pairs")]
    pub steps: BTreeMap<(String, u32), (i64, i64)>,
}

impl DayBucket {
    fn is_empty(&self) -> bool {
        self.leads.is_zero()
            && self.sources.is_empty()
            && self.users.is_empty()
            && self.response.is_empty()
            && self.calls == 0
            && self.connected == 0
            && self.talk_seconds == 0
            && self.deals.is_empty()
            && self.steps.is_empty()
    }
}

/// First-response times are kept to the second up to 5 minutes (the speed-to-lead goal), to
/// 10 s up to an hour, to the minute up to a day, then to the hour: the median and p90 are
/// exact below 5 minutes and within that step above.
pub fn response_bucket(secs: u64) -> u64 {
    let step = match secs {
        0..=300 => 1,
        301..=3_600 => 10,
        3_601..=86_400 => 60,
        _ => 3_600,
    };
    secs - secs % step
}

fn bump<K: Ord>(map: &mut BTreeMap<K, i64>, key: K, delta: i64) {
    let v = map.entry(key).or_insert(0);
    *v += delta;
    if *v == 0 {
        map.retain(|_, v| *v != 0);
    }
}

fn bump_pair<K: Ord>(map: &mut BTreeMap<K, (i64, i64)>, key: K, a: i64, b: i64) {
    let v = map.entry(key).or_insert((0, 0));
    v.0 += a;
    v.1 += b;
    if *v == (0, 0) {
        map.retain(|_, v| *v != (0, 0));
    }
}

fn bump_tally(map: &mut BTreeMap<String, Tally>, key: &str, f: &LeadFacts, sign: i64) {
    let t = map.entry(key.to_owned()).or_default();
    t.add(f, sign);
    if t.is_zero() {
        map.remove(key);
    }
}

/// The analytics aggregates: the facts of every lead, deal and sent follow-up, summed per day.
/// Zero entries are dropped, so two aggregates of the same records are equal (`==`), which is
/// what the recount tests check.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Aggregates {
    pub days: BTreeMap<i32, DayBucket>,
    /// Every day summed: the `all` range reads it instead of summing every day's maps.
    pub total: DayBucket,
}

/// A map with keys JSON cannot name (tuples) as a list of pairs.
mod pairs {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<K: Serialize, V: Serialize, S: Serializer>(
        map: &BTreeMap<K, V>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_seq(map.iter())
    }

    pub fn deserialize<'de, K, V, D>(d: D) -> Result<BTreeMap<K, V>, D::Error>
    where
        K: Deserialize<'de> + Ord,
        V: Deserialize<'de>,
        D: Deserializer<'de>,
    {
        Ok(Vec::<(K, V)>::deserialize(d)?.into_iter().collect())
    }
}

impl DayBucket {
    fn lead(&mut self, f: &LeadFacts, sign: i64) {
        self.leads.add(f, sign);
        bump_tally(&mut self.sources, &f.source, f, sign);
        bump_tally(&mut self.users, &f.user, f, sign);
        if let Some(secs) = f.first_response_secs {
            bump(&mut self.response, response_bucket(secs), sign);
        }
        self.calls += sign * f.calls as i64;
        self.connected += sign * f.connected as i64;
        self.talk_seconds += sign * f.talk_seconds as i64;
    }

    fn deal(&mut self, f: &DealFacts, sign: i64) {
        bump_pair(
            &mut self.deals,
            (f.pipeline.clone(), f.stage.clone(), f.state),
            sign,
            sign * f.value_cents,
        );
    }

    fn step(&mut self, f: &StepFact, sign: i64) {
        bump_pair(&mut self.steps, (f.workflow.clone(), f.step), sign, sign * i64::from(f.replied));
    }
}

impl Aggregates {
    /// Applies `change` to the bucket of `day` and to the total, and drops the day's bucket
    /// once it is empty.
    fn on_day(&mut self, day: i32, change: impl Fn(&mut DayBucket)) {
        change(&mut self.total);
        let b = self.days.entry(day).or_default();
        change(b);
        if b.is_empty() {
            self.days.remove(&day);
        }
    }

    /// Adds (`sign` 1) or takes away (`sign` −1) one lead.
    pub fn lead(&mut self, f: &LeadFacts, sign: i64) {
        self.on_day(f.day, |b| b.lead(f, sign));
    }

    /// Adds or takes away one deal.
    pub fn deal(&mut self, f: &DealFacts, sign: i64) {
        self.on_day(f.day, |b| b.deal(f, sign));
    }

    /// Adds or takes away one sent follow-up step.
    pub fn step(&mut self, f: &StepFact, sign: i64) {
        self.on_day(f.day, |b| b.step(f, sign));
    }

    /// Moves a lead from its old facts to its new ones.
    pub fn change_lead(&mut self, old: Option<&LeadFacts>, new: Option<&LeadFacts>) {
        if old == new {
            return;
        }
        if let Some(old) = old {
            self.lead(old, -1);
        }
        if let Some(new) = new {
            self.lead(new, 1);
        }
    }

    /// Moves a deal from its old facts to its new ones.
    pub fn change_deal(&mut self, old: Option<&DealFacts>, new: Option<&DealFacts>) {
        if old == new {
            return;
        }
        if let Some(old) = old {
            self.deal(old, -1);
        }
        if let Some(new) = new {
            self.deal(new, 1);
        }
    }

    /// Moves a follow-up record from its old sent steps to its new ones.
    pub fn change_steps(&mut self, old: &[StepFact], new: &[StepFact]) {
        if old == new {
            return;
        }
        for f in old {
            self.step(f, -1);
        }
        for f in new {
            self.step(f, 1);
        }
    }
}

/// The first day of a range, given today's: 7d is today and the six days before it.
pub fn range_start(range: AnalyticsRange, today: i32) -> Option<i32> {
    range.days().map(|n| today - (n as i32 - 1))
}

/// What the report needs beyond the aggregates: reference data and settings.
#[derive(Debug, Clone)]
pub struct ReportInputs<'a> {
    pub range: AnalyticsRange,
    pub now: Timestamp,
    pub pipelines: &'a [Pipeline],
    /// User id → name.
    pub users: &'a BTreeMap<String, String>,
    /// Source → cost per lead (`[analytics.cost_per_lead]`).
    pub cost_per_lead: &'a BTreeMap<String, f64>,
    /// The agent's share of a won deal's value (`[analytics] commission_rate`).
    pub commission_rate: f64,
}

fn ratio(a: i64, b: i64) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

fn money(c: i64) -> f64 {
    c as f64 / 100.0
}

/// The nearest-rank percentile of a histogram (value → count), `p` in (0, 1].
fn percentile(hist: &BTreeMap<u64, i64>, total: i64, p: f64) -> Option<u64> {
    if total <= 0 {
        return None;
    }
    let rank = ((p * total as f64).ceil() as i64).clamp(1, total);
    let mut seen = 0;
    for (&v, &n) in hist {
        seen += n;
        if seen >= rank {
            return Some(v);
        }
    }
    hist.keys().next_back().copied()
}

/// The month (`YYYY-MM`) of a day number.
fn month_of(day: i32) -> String {
    Timestamp::from_second(i64::from(day) * DAY)
        .map(|t| t.to_zoned(jiff::tz::TimeZone::UTC).strftime("%Y-%m").to_string())
        .unwrap_or_else(|_| "unknown".into())
}

/// The figures for a range, from the aggregates: the days of the range summed, or for `all`
/// the running total (plus one light pass over the days for the cohorts).
pub fn report(agg: &Aggregates, inputs: &ReportInputs<'_>) -> AnalyticsReport {
    let today = day_of(inputs.now);
    let start = range_start(inputs.range, today);

    let mut total = Tally::default();
    let mut sources: BTreeMap<&str, Tally> = BTreeMap::new();
    let mut users: BTreeMap<&str, Tally> = BTreeMap::new();
    let mut response: BTreeMap<u64, i64> = BTreeMap::new();
    let (mut calls, mut connected, mut talk) = (0i64, 0i64, 0i64);
    let mut steps: BTreeMap<(&str, u32), (i64, i64)> = BTreeMap::new();
    let mut cohorts: BTreeMap<String, Tally> = BTreeMap::new();
    // Open deals in range by (pipeline, stage); closed deals of all time by (pipeline, stage).
    let mut open: BTreeMap<(&str, &str), (i64, i64)> = BTreeMap::new();
    let mut closed: BTreeMap<(&str, &str), (i64, i64)> = BTreeMap::new();
    let mut daily_leads: BTreeMap<i32, i64> = BTreeMap::new();

    // Closed deals count over all time, whatever the range.
    for ((pipeline, stage, state), &(n, _)) in &agg.total.deals {
        match state {
            DealState::Open => {}
            DealState::Won => closed.entry((pipeline, stage)).or_default().0 += n,
            DealState::Lost => closed.entry((pipeline, stage)).or_default().1 += n,
        }
    }
    // `all` is the total; a range sums its days.
    let buckets: Vec<&DayBucket> = match start {
        None => vec![&agg.total],
        Some(first) => agg.days.range(first..).map(|(_, b)| b).collect(),
    };
    for b in buckets {
        for ((pipeline, stage, state), &(n, value)) in &b.deals {
            if matches!(state, DealState::Open) {
                let e = open.entry((pipeline, stage)).or_default();
                e.0 += n;
                e.1 += value;
            }
        }
        total.merge(&b.leads);
        for (k, t) in &b.sources {
            sources.entry(k).or_default().merge(t);
        }
        for (k, t) in &b.users {
            users.entry(k).or_default().merge(t);
        }
        for (&k, &n) in &b.response {
            *response.entry(k).or_default() += n;
        }
        calls += b.calls;
        connected += b.connected;
        talk += b.talk_seconds;
        for ((w, s), &(sent, replied)) in &b.steps {
            let e = steps.entry((w, *s)).or_default();
            e.0 += sent;
            e.1 += replied;
        }
    }
    for (&day, b) in agg.days.range(start.unwrap_or(NO_DAY)..) {
        // A day with deals or follow-ups but no arrivals has no cohort.
        if day != NO_DAY && !b.leads.is_zero() {
            cohorts.entry(month_of(day)).or_default().merge(&b.leads);
            daily_leads.insert(day, b.leads.leads);
        }
    }

    let counts = [total.leads, total.contacted, total.qualified, total.appointment, total.won];
    let funnel = FUNNEL
        .iter()
        .enumerate()
        .map(|(i, stage)| FunnelStage {
            stage: (*stage).into(),
            count: counts[i].max(0) as u64,
            conversion: if i == 0 { None } else { ratio(counts[i], counts[i - 1]) },
            of_new: ratio(counts[i], counts[0]),
        })
        .collect();

    let mut source_rows: Vec<SourceRow> = sources
        .iter()
        .map(|(name, t)| {
            let cost = inputs.cost_per_lead.get(*name).map(|per_lead| per_lead * t.leads as f64);
            let revenue = money(t.won_cents) * inputs.commission_rate;
            SourceRow {
                source: if name.is_empty() { "(none)".into() } else { (*name).into() },
                leads: t.leads.max(0) as u64,
                contacted: t.contacted.max(0) as u64,
                qualified: t.qualified.max(0) as u64,
                won: t.won.max(0) as u64,
                conversion: ratio(t.won, t.leads),
                won_value: money(t.won_cents),
                revenue,
                cost,
                roi: cost.filter(|c| *c > 0.0).map(|c| (revenue - c) / c),
            }
        })
        .collect();
    source_rows.sort_by(|a, b| b.leads.cmp(&a.leads).then_with(|| a.source.cmp(&b.source)));

    let answered: i64 = response.values().sum();
    let within: i64 = response.range(..=FAST_SECS).map(|(_, n)| n).sum();
    let speed_to_lead = SpeedToLead {
        leads: total.leads.max(0) as u64,
        contacted: answered.max(0) as u64,
        median_secs: percentile(&response, answered, 0.5),
        p90_secs: percentile(&response, answered, 0.9),
        within_5m: within.max(0) as u64,
        within_5m_share: ratio(within, total.leads),
        histogram: speed_histogram(&response),
    };

    let mut forecast = Vec::new();
    for p in inputs.pipelines {
        let positions: Vec<(usize, &leadline_shared::domain::Stage)> = p.stages.iter().enumerate().collect();
        let pos = |i: usize, s: &leadline_shared::domain::Stage| s.position.unwrap_or(i as i64);
        for &(i, stage) in &positions {
            let here = pos(i, stage);
            // Deals that passed through this stage: closed ones GHL left at it or a later one.
            let (mut won, mut lost) = (0, 0);
            for &(j, later) in &positions {
                if pos(j, later) >= here
                    && let Some((w, l)) = closed.get(&(p.id.as_str(), later.id.as_str()))
                {
                    won += w;
                    lost += l;
                }
            }
            let (n, value) = open.remove(&(p.id.as_str(), stage.id.as_str())).unwrap_or_default();
            let win_probability = ratio(won, won + lost);
            forecast.push(ForecastStage {
                pipeline: p.name.clone(),
                stage: stage.name.clone(),
                open_deals: n.max(0) as u64,
                open_value: money(value),
                won_before: won.max(0) as u64,
                lost_before: lost.max(0) as u64,
                win_probability,
                forecast: win_probability.map(|w| money(value) * w),
            });
        }
    }
    // Open deals in a pipeline or stage the store does not know (reference data not synced
    // yet, a stage deleted in GHL): shown, with no probability.
    for ((_, _), (n, value)) in open {
        if n == 0 {
            continue;
        }
        if let Some(other) = forecast.iter_mut().find(|f| f.pipeline == "(unknown)") {
            other.open_deals += n.max(0) as u64;
            other.open_value += money(value);
        } else {
            forecast.push(ForecastStage {
                pipeline: "(unknown)".into(),
                stage: "(unknown)".into(),
                open_deals: n.max(0) as u64,
                open_value: money(value),
                won_before: 0,
                lost_before: 0,
                win_probability: None,
                forecast: None,
            });
        }
    }

    let mut leaderboard: Vec<AgentRow> = users
        .iter()
        .map(|(id, t)| AgentRow {
            user_id: (*id).into(),
            name: if id.is_empty() {
                "(unassigned)".into()
            } else {
                inputs.users.get(*id).cloned().unwrap_or_else(|| (*id).into())
            },
            leads: t.leads.max(0) as u64,
            contacted: t.contacted.max(0) as u64,
            won: t.won.max(0) as u64,
            won_value: money(t.won_cents),
        })
        .collect();
    leaderboard.sort_by(|a, b| {
        b.won_value.total_cmp(&a.won_value).then(b.won.cmp(&a.won)).then(b.leads.cmp(&a.leads))
    });

    let followups = steps
        .iter()
        .map(|((w, s), &(sent, replied))| FollowUpStepRow {
            workflow: (*w).into(),
            step: *s,
            sent: sent.max(0) as u64,
            replied: replied.max(0) as u64,
            reply_rate: ratio(replied, sent),
        })
        .collect();

    let cohorts = cohorts
        .into_iter()
        .map(|(month, t)| CohortRow {
            month,
            leads: t.leads.max(0) as u64,
            contacted: t.contacted.max(0) as u64,
            qualified: t.qualified.max(0) as u64,
            won: t.won.max(0) as u64,
            conversion: ratio(t.won, t.leads),
        })
        .collect();

    // Leads per day over the range (at most the last 90 days for `all`), oldest first, zero
    // days included: the sparkline's data.
    let days = inputs.range.days().unwrap_or(90) as i32;
    let daily =
        (today - days + 1..=today).map(|d| daily_leads.get(&d).copied().unwrap_or(0).max(0) as u64).collect();

    AnalyticsReport {
        range: inputs.range,
        since: start.and_then(|d| Timestamp::from_second(i64::from(d) * DAY).ok()),
        generated_at: inputs.now,
        funnel,
        sources: source_rows,
        speed_to_lead,
        forecast_total: forecast.iter().filter_map(|f| f.forecast).sum(),
        pipeline_value: forecast.iter().map(|f| f.open_value).sum(),
        forecast,
        followups,
        leaderboard,
        cohorts,
        calls: CallFigures {
            calls: calls.max(0) as u64,
            connected: connected.max(0) as u64,
            connect_rate: ratio(connected, calls),
            talk_seconds: talk.max(0) as u64,
            avg_talk_seconds: ratio(talk, connected),
        },
        daily_leads: daily,
    }
}

/// The first-response times in coarse bands for a chart: ≤1 m, ≤5 m, ≤15 m, ≤1 h, ≤1 d, more.
fn speed_histogram(response: &BTreeMap<u64, i64>) -> Vec<(String, u64)> {
    let bands: [(&str, u64); 6] =
        [("≤1m", 60), ("≤5m", 300), ("≤15m", 900), ("≤1h", 3_600), ("≤1d", 86_400), (">1d", u64::MAX)];
    let mut out: Vec<(String, u64)> = bands.iter().map(|(l, _)| ((*l).to_owned(), 0)).collect();
    for (&secs, &n) in response {
        if let Some(i) = bands.iter().position(|(_, upto)| secs <= *upto) {
            out[i].1 += n.max(0) as u64;
        }
    }
    out
}

#[cfg(test)]
#[path = "analytics_tests.rs"]
mod tests;
