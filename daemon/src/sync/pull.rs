//! Pulling from GHL: the full sync, the incremental sync and re-fetches.
//!
//! Every page is applied in one store transaction together with the cursor that points past
//! it, then flushed; so a crash resumes from the last durable page, never past it.

use std::collections::BTreeSet;

use leadline_shared::domain::Contact;
use serde::{Deserialize, Serialize};

use super::SyncError;
use crate::ghl::{
    ContactPage, ContactQuery, GhlClient, GhlError, MessagePage, MessageQuery, OpportunityPage,
    OpportunityQuery,
};
use crate::ingest::{Ingest, META_LOCATION, Page};
use crate::state::State;
use crate::store::{Batch, Put, Remove};
use tokio::sync::mpsc;

/// Contacts per search page (GHL's maximum).
pub const CONTACT_PAGE: u32 = 500;
/// Opportunities per search page (GHL's maximum).
pub const OPPORTUNITY_PAGE: u32 = 100;
/// Messages per export page (GHL's maximum).
pub const MESSAGE_PAGE: u32 = 500;

/// Where sync stands, saved in the store's meta tree with each page.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Cursors {
    /// The contact search position of an unfinished full sync.
    pub contacts_after: Option<Vec<serde_json::Value>>,
    /// The opportunity search position of an unfinished full sync.
    pub opportunities_after: Option<(String, String)>,
    /// The messages export position (kept after the end, to pick up new messages).
    pub messages_cursor: Option<String>,
    /// The email pass of the export.
    pub email_cursor: Option<String>,
    /// Which phase an unfinished full sync is in.
    pub phase: Phase,
    /// Contacts changed after this time (epoch ms) are pulled by the incremental sync.
    pub contacts_updated_after: Option<i64>,
}

/// The phases of a full sync, in order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    #[default]
    Start,
    Opportunities,
    Messages,
    Emails,
    Contacts,
    Done,
}

/// Meta key of [`Cursors`].
pub const META_CURSORS: &str = "sync/cursors";

/// Counts of one pull.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pulled {
    pub contacts: usize,
    pub opportunities: usize,
    pub messages: usize,
    pub deleted: usize,
    pub changed_leads: Vec<String>,
}

struct Puller<'a> {
    state: &'a State,
    client: &'a GhlClient,
    ingest: Ingest,
    cursors: Cursors,
    pulled: Pulled,
    /// Ids seen by a full pass that ran from its start in this process: only then is the
    /// deletion pass safe (a resumed pass has not seen the earlier pages' ids).
    seen: Option<(BTreeSet<String>, BTreeSet<String>)>,
    timing: PhaseTiming,
}

/// Where a phase's time went: waiting for pages (rate limit, network, the server) or applying
/// them (store and scoring). Logged at the end of each phase, for tuning the sync.
#[derive(Debug, Default)]
struct PhaseTiming {
    started: Option<std::time::Instant>,
    waiting: std::time::Duration,
    applying: std::time::Duration,
    pages: usize,
}

impl PhaseTiming {
    fn start(&mut self) {
        *self = PhaseTiming { started: Some(std::time::Instant::now()), ..Default::default() };
    }

    fn log(&self, phase: &str) {
        let ms = |d: std::time::Duration| d.as_millis() as u64;
        tracing::info!(
            phase,
            pages = self.pages,
            elapsed_ms = self.started.map(|s| ms(s.elapsed())).unwrap_or(0),
            waiting_ms = ms(self.waiting),
            applying_ms = ms(self.applying),
            resident_mb = resident_mb(),
            "sync phase done"
        );
    }
}

/// The daemon's resident memory in MB, where the OS tells it (Linux), for the phase log: the
/// sync's memory is one of the figures we hold ourselves to.
fn resident_mb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb = status.lines().find_map(|l| l.strip_prefix("VmRSS:"))?.trim().strip_suffix("kB")?.trim();
    kb.parse::<u64>().ok().map(|kb| kb / 1024)
}

/// The next page of a chain, counting the wait.
async fn next_page<P>(
    pages: &mut Chain<P>,
    timing: &mut PhaseTiming,
) -> Option<Result<(P, Option<P::Cursor>), GhlError>>
where
    P: Paged,
{
    let waited = std::time::Instant::now();
    let page = pages.recv().await;
    timing.waiting += waited.elapsed();
    timing.pages += 1;
    page
}

impl<'a> Puller<'a> {
    fn new(state: &'a State, client: &'a GhlClient) -> Result<Self, SyncError> {
        Ok(Puller {
            state,
            client,
            ingest: Ingest::new(state.db.clone(), state.config.scoring.clone()),
            cursors: state.db.meta::<Cursors>(META_CURSORS)?.unwrap_or_default(),
            pulled: Pulled::default(),
            seen: None,
            timing: PhaseTiming::default(),
        })
    }

    /// Applies a page with the cursors as they stand after it, then flushes.
    async fn commit(&mut self, page: Page) -> Result<(), SyncError> {
        let cursors = serde_json::to_value(&self.cursors).map_err(|e| SyncError::Internal(e.to_string()))?;
        let mut extra = Batch::new();
        extra.put(Put::Meta { key: META_CURSORS.into(), value: cursors });
        let applying = std::time::Instant::now();
        let changed = self.ingest.apply_with(page, extra, self.state.clock.now())?.changed;
        self.state.db.flush().await?;
        self.timing.applying += applying.elapsed();
        self.pulled.changed_leads.extend(changed);
        Ok(())
    }

    async fn save_cursors(&mut self) -> Result<(), SyncError> {
        self.commit(Page::Contacts(Vec::new())).await
    }

    fn progress(&self, phase: &str) {
        let p = &self.pulled;
        let detail =
            format!("{phase}: {} contacts, {} deals, {} messages", p.contacts, p.opportunities, p.messages);
        self.state.set_sync_status(|s| {
            s.state = "syncing".into();
            s.progress = Some(detail);
        });
    }

    fn note_contacts(&mut self, contacts: &[Contact]) {
        let newest = contacts.iter().filter_map(|c| c.date_updated.map(|t| t.as_millisecond())).max();
        if let Some(newest) = newest {
            let old = self.cursors.contacts_updated_after.unwrap_or(i64::MIN);
            self.cursors.contacts_updated_after = Some(old.max(newest));
        }
    }

    /// Location, users, custom fields, pipelines: small, pulled whole.
    async fn reference_data(&mut self) -> Result<(), SyncError> {
        let location = self.client.location().await?;
        let company = location.get("companyId").and_then(|v| v.as_str()).unwrap_or_default().to_owned();
        self.state.db.commit(Batch::new().put(Put::Meta { key: META_LOCATION.into(), value: location }))?;
        if !company.is_empty() {
            let users = self.client.users(&company).await?;
            self.commit(Page::Users(users)).await?;
        }
        let fields = self.client.custom_fields().await?;
        self.commit(Page::CustomFields(fields)).await?;
        let pipelines = self.client.pipelines().await?;
        self.commit(Page::Pipelines(pipelines)).await?;
        Ok(())
    }

    async fn all_contacts(&mut self, mut pages: Chain<ContactPage>) -> Result<(), SyncError> {
        self.timing.start();
        while let Some(fetched) = next_page(&mut pages, &mut self.timing).await {
            let (page, next) = fetched?;
            self.pulled.contacts += page.contacts.len();
            if let Some((seen, _)) = &mut self.seen {
                seen.extend(page.contacts.iter().map(|c| c.id.clone()));
            }
            self.note_contacts(&page.contacts);
            let done = next.is_none();
            self.cursors.contacts_after = next;
            if done {
                self.cursors.phase = Phase::Done;
            }
            self.commit(Page::Contacts(page.contacts)).await?;
            self.progress("contacts");
            if done {
                self.timing.log("contacts");
                return Ok(());
            }
        }
        Err(SyncError::Internal("the contact pages stopped before the last one".into()))
    }

    async fn all_opportunities(&mut self, mut pages: Chain<OpportunityPage>) -> Result<(), SyncError> {
        self.timing.start();
        while let Some(fetched) = next_page(&mut pages, &mut self.timing).await {
            let (page, next) = fetched?;
            self.pulled.opportunities += page.opportunities.len();
            if let Some((_, seen)) = &mut self.seen {
                seen.extend(page.opportunities.iter().map(|o| o.id.clone()));
            }
            let done = next.is_none();
            self.cursors.opportunities_after = next;
            if done {
                self.cursors.phase = Phase::Messages;
            }
            self.commit(Page::Opportunities(page.opportunities)).await?;
            self.progress("deals");
            if done {
                self.timing.log("deals");
                return Ok(());
            }
        }
        Err(SyncError::Internal("the deal pages stopped before the last one".into()))
    }

    /// Applies the export's pages; the last cursor is kept, so the next pull starts where this
    /// one ended.
    async fn messages(&mut self, email: bool, mut pages: Chain<MessagePage>) -> Result<(), SyncError> {
        self.timing.start();
        while let Some(fetched) = next_page(&mut pages, &mut self.timing).await {
            let (page, next) = fetched?;
            self.pulled.messages += page.messages.len();
            let done = next.is_none();
            if let Some(cursor) = next {
                if email {
                    self.cursors.email_cursor = Some(cursor);
                } else {
                    self.cursors.messages_cursor = Some(cursor);
                }
            }
            self.commit(Page::Messages(page.messages)).await?;
            if done {
                self.timing.log(if email { "emails" } else { "messages" });
                return Ok(());
            }
            self.progress(if email { "emails" } else { "messages" });
        }
        Err(SyncError::Internal("the message pages stopped before the last one".into()))
    }

    /// Deletes local records GHL no longer has (only after a complete pass saw every id).
    fn reconcile_deletions(&mut self) -> Result<(), SyncError> {
        let Some((seen, seen_opps)) = self.seen.take() else {
            tracing::info!("resumed full sync: deletions are reconciled by the next complete pass");
            return Ok(());
        };
        // Every record the pass saw, it stored, and only this task removes contacts and deals:
        // when the store holds as many as the pass saw, it holds exactly those, and the walk
        // over every record (at 100 k leads, a sled cache's worth of pages) is skipped.
        let counts = self.state.db.counts()?;
        let gone_contacts: Vec<String> = if counts.contacts == seen.len() as u64 {
            Vec::new()
        } else {
            // Ids only: a complete pass over 100 k leads must not decode every record.
            self.state.db.contact_ids()?.into_iter().filter(|id| !seen.contains(id)).collect()
        };
        let mut batch = Batch::new();
        for id in &gone_contacts {
            for m in self.state.db.messages_for(id, usize::MAX)? {
                batch.remove(Remove::Message(m.id));
            }
            batch
                .remove(Remove::Contact(id.clone()))
                .remove(Remove::Lead(id.clone()))
                .remove(Remove::Score(id.clone()))
                .remove(Remove::FollowUp(id.clone()));
        }
        // Deals GHL no longer lists, whether or not their contact is gone.
        let listed_opps = if counts.opportunities == seen_opps.len() as u64 {
            Vec::new()
        } else {
            self.state.db.opportunity_ids()?
        };
        let gone_opps = listed_opps
            .into_iter()
            .filter(|id| !seen_opps.contains(id))
            .inspect(|id| {
                batch.remove(Remove::Opportunity(id.clone()));
            })
            .count();
        self.pulled.deleted = gone_contacts.len() + gone_opps;
        if !batch.is_empty() {
            tracing::info!(
                contacts = gone_contacts.len(),
                deals = gone_opps,
                "removing records deleted in GHL"
            );
            self.state.db.commit(&batch)?;
        }
        Ok(())
    }
}

/// Pages fetched ahead of the store, with the cursor after each (`None` after the last).
type Chain<P> = mpsc::Receiver<Result<(P, Option<Cursor<P>>), GhlError>>;

/// The cursor type of each kind of page.
type Cursor<P> = <P as Paged>::Cursor;

/// A page of a cursor-chained listing.
trait Paged: Send + 'static {
    type Cursor: Clone + Send + 'static;
    /// The cursor of the next page, `None` at the end.
    fn next(&self) -> Option<Self::Cursor>;
}

impl Paged for ContactPage {
    type Cursor = Vec<serde_json::Value>;
    fn next(&self) -> Option<Self::Cursor> {
        self.next.clone().filter(|_| !self.contacts.is_empty())
    }
}

impl Paged for OpportunityPage {
    type Cursor = (String, String);
    fn next(&self) -> Option<Self::Cursor> {
        self.next.clone().filter(|_| !self.opportunities.is_empty())
    }
}

impl Paged for MessagePage {
    type Cursor = String;
    fn next(&self) -> Option<Self::Cursor> {
        self.next_cursor.clone().filter(|_| !self.messages.is_empty())
    }
}

/// Pages fetched ahead of the store. A cursor chain cannot be fetched in parallel, but it can
/// run ahead of ingest: a task follows the cursors as fast as the rate limiter allows and
/// hands the pages over in order. The store applies them one by one, each with its cursor, so
/// a crash still resumes from the last durable page. Dropping the receiver stops the task.
fn chain<P, F, Fut>(start: Option<P::Cursor>, fetch: F) -> Chain<P>
where
    P: Paged,
    F: Fn(Option<P::Cursor>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<P, GhlError>> + Send,
{
    let (tx, rx) = mpsc::channel(FETCH_AHEAD);
    tokio::spawn(async move {
        let mut cursor = start;
        loop {
            let fetched = fetch(cursor.take()).await.map(|page| {
                let next = page.next();
                (page, next)
            });
            let next = fetched.as_ref().ok().and_then(|(_, next)| next.clone());
            let last = next.is_none();
            if tx.send(fetched).await.is_err() || last {
                return;
            }
            cursor = next;
        }
    });
    rx
}

/// Pages a chain may fetch ahead of the store. A full sync runs four chains, and 4 × 25 is
/// GHL's burst of 100: the whole burst goes out at the start instead of being spread over the
/// first window, which is worth ten seconds of a rate-bound sync. The store drains deal and
/// message pages far faster than they arrive, so the buffers empty within seconds.
const FETCH_AHEAD: usize = 25;

fn contact_chain(client: &GhlClient, start: Option<Vec<serde_json::Value>>) -> Chain<ContactPage> {
    let client = client.clone();
    chain(start, move |search_after| {
        let client = client.clone();
        async move {
            client
                .search_contacts(&ContactQuery {
                    page_limit: CONTACT_PAGE,
                    search_after,
                    updated_after: None,
                })
                .await
        }
    })
}

fn opportunity_chain(client: &GhlClient, start: Option<(String, String)>) -> Chain<OpportunityPage> {
    let client = client.clone();
    chain(start, move |start_after| {
        let client = client.clone();
        async move {
            client.search_opportunities(&OpportunityQuery { limit: OPPORTUNITY_PAGE, start_after }).await
        }
    })
}

fn message_chain(client: &GhlClient, start: Option<String>, email: bool) -> Chain<MessagePage> {
    let client = client.clone();
    chain(start, move |cursor| {
        let client = client.clone();
        async move {
            let q = MessageQuery { limit: MESSAGE_PAGE, cursor, channel: email.then(|| "Email".to_owned()) };
            client.export_messages(&q).await
        }
    })
}

/// A full sync, resuming an unfinished one where its last durable page left it.
///
/// Deals and messages come before contacts: a message or deal whose contact is not stored yet
/// is kept without scoring, and each lead is then scored once, when its contact arrives with
/// everything it needs already in the store.
pub async fn full(state: &State, client: &GhlClient) -> Result<Pulled, SyncError> {
    let mut p = Puller::new(state, client)?;
    if matches!(p.cursors.phase, Phase::Start | Phase::Done) {
        p.cursors.phase = Phase::Opportunities;
        p.cursors.contacts_after = None;
        p.cursors.opportunities_after = None;
        p.seen = Some(Default::default());
        p.reference_data().await?;
    } else {
        tracing::info!(phase = ?p.cursors.phase, "resuming an unfinished full sync");
    }
    // Every chain still to run starts fetching now, so the rate limit's burst is used at once
    // while the store works through the pages in phase order.
    let phase = p.cursors.phase;
    let c = &p.cursors;
    let opps =
        (phase <= Phase::Opportunities).then(|| opportunity_chain(client, c.opportunities_after.clone()));
    let msgs = (phase <= Phase::Messages).then(|| message_chain(client, c.messages_cursor.clone(), false));
    let emails = (phase <= Phase::Emails).then(|| message_chain(client, c.email_cursor.clone(), true));
    let contacts = (phase <= Phase::Contacts).then(|| contact_chain(client, c.contacts_after.clone()));
    if let Some(pages) = opps {
        p.all_opportunities(pages).await?;
    }
    if let Some(pages) = msgs {
        p.messages(false, pages).await?;
        p.cursors.phase = Phase::Emails;
        p.save_cursors().await?;
    }
    if let Some(pages) = emails {
        p.messages(true, pages).await?;
        p.cursors.phase = Phase::Contacts;
        p.save_cursors().await?;
    }
    if let Some(pages) = contacts {
        p.all_contacts(pages).await?;
    }
    p.reconcile_deletions()?;
    p.cursors.phase = Phase::Done;
    p.save_cursors().await?;
    Ok(p.pulled)
}

/// The cheap poll: contacts changed since the last pull, and new messages. Three requests
/// when nothing happened.
pub async fn incremental(state: &State, client: &GhlClient) -> Result<Pulled, SyncError> {
    let mut p = Puller::new(state, client)?;
    if p.cursors.phase != Phase::Done {
        return full(state, client).await;
    }
    let mut after = None;
    loop {
        let q = ContactQuery {
            page_limit: CONTACT_PAGE,
            search_after: after.take(),
            updated_after: p
                .cursors
                .contacts_updated_after
                .and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok()),
        };
        let page = client.search_contacts(&q).await?;
        p.pulled.contacts += page.contacts.len();
        p.note_contacts(&page.contacts);
        let done = page.next.is_none() || page.contacts.is_empty();
        after = page.next;
        p.commit(Page::Contacts(page.contacts)).await?;
        if done {
            break;
        }
    }
    let pages = message_chain(client, p.cursors.messages_cursor.clone(), false);
    p.messages(false, pages).await?;
    let pages = message_chain(client, p.cursors.email_cursor.clone(), true);
    p.messages(true, pages).await?;
    Ok(p.pulled)
}

/// Deals and reference data: re-listed on the slower schedule.
pub async fn deals(state: &State, client: &GhlClient) -> Result<Pulled, SyncError> {
    let mut p = Puller::new(state, client)?;
    p.reference_data().await?;
    let mut after = None;
    loop {
        let page = client
            .search_opportunities(&OpportunityQuery { limit: OPPORTUNITY_PAGE, start_after: after })
            .await?;
        p.pulled.opportunities += page.opportunities.len();
        let done = page.next.is_none() || page.opportunities.is_empty();
        after = page.next;
        p.commit(Page::Opportunities(page.opportunities)).await?;
        if done {
            return Ok(p.pulled);
        }
    }
}

/// Re-fetches single contacts (webhook hints, refused edits). A contact GHL no longer has is
/// removed.
pub async fn contacts_by_id(
    state: &State,
    client: &GhlClient,
    ids: &BTreeSet<String>,
) -> Result<Pulled, SyncError> {
    let mut p = Puller::new(state, client)?;
    let mut found = Vec::new();
    let mut batch = Batch::new();
    for id in ids {
        match client.get_contact(id).await? {
            Some(c) => found.push(c),
            None => {
                batch
                    .remove(Remove::Contact(id.clone()))
                    .remove(Remove::Lead(id.clone()))
                    .remove(Remove::Score(id.clone()));
                p.pulled.deleted += 1;
            }
        }
    }
    p.pulled.contacts = found.len();
    state.db.commit(&batch)?;
    p.commit(Page::Contacts(found)).await?;
    Ok(p.pulled)
}

#[cfg(test)]
mod tests {
    #[test]
    #[cfg(target_os = "linux")]
    fn resident_memory_is_read_on_linux() {
        assert!(super::resident_mb().is_some_and(|mb| mb > 0));
    }
}
