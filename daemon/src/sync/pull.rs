//! Pulling from GHL into the store: the poll, the deal re-listing and re-fetches; the full
//! sync is [`super::full`].
//!
//! Every page is applied in one store transaction together with the cursors that point past
//! it, then flushed; so a crash resumes from the last durable page, never past it. Store work
//! runs on the blocking pool, so a big page never stalls the async workers (and the socket).

use std::collections::BTreeSet;

use jiff::Timestamp;
use leadline_shared::domain::Contact;
use tokio::sync::mpsc;

use super::SyncError;
use super::cursors::{Cursors, META_CURSORS, Phase};
use super::export::{ExportPage, Progress, Span, read_window};
use super::reconcile::Listing;
use super::skipped::{META_SKIPPED, SkippedRecords};
use super::windows::{self, OVERLAP_MS, WindowTable};
use crate::ghl::{
    ContactOrder, ContactPage, ContactQuery, ExportStream, GhlClient, OpportunityPage, OpportunityQuery,
    Skipped,
};
use crate::ingest::{Ingest, META_LOCATION, Page};
use crate::state::State;
use crate::store::{Batch, Put};

/// Contacts per search page (GHL's maximum).
pub const CONTACT_PAGE: u32 = 500;
/// Opportunities per search page (GHL's maximum).
pub const OPPORTUNITY_PAGE: u32 = 100;

/// Counts of one pull.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pulled {
    pub contacts: usize,
    pub opportunities: usize,
    pub messages: usize,
    pub deleted: usize,
    pub skipped: usize,
    pub changed_leads: ChangedLeads,
}

/// The leads a pull changed, as the dashboard is told of them: their ids while they are few,
/// else only that many changed. A full sync of 100 k leads kept every id (some 5 MB through
/// its memory peak) to send them all in one event, where "re-read what is on screen" says
/// the same.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChangedLeads {
    ids: Vec<String>,
    many: bool,
}

impl ChangedLeads {
    /// The most ids kept; past it, only "many".
    pub const MAX_IDS: usize = 1_000;

    /// Adds changed leads.
    pub fn extend(&mut self, ids: impl IntoIterator<Item = String>) {
        if self.many {
            return;
        }
        for id in ids {
            if self.ids.len() == Self::MAX_IDS {
                self.ids = Vec::new();
                self.many = true;
                return;
            }
            self.ids.push(id);
        }
    }

    /// The ids, when there are at most `max` of them (and not "many").
    pub fn few(&self, max: usize) -> Option<&[String]> {
        (!self.many && self.ids.len() <= max).then_some(self.ids.as_slice())
    }

    /// Adds what another pull changed.
    pub fn absorb(&mut self, other: ChangedLeads) {
        if other.many {
            self.ids = Vec::new();
            self.many = true;
        } else {
            self.extend(other.ids);
        }
    }

    /// True when nothing changed.
    pub fn is_empty(&self) -> bool {
        !self.many && self.ids.is_empty()
    }

    /// The ids for [`leadline_shared::protocol::Event::LeadsChanged`], sorted and without
    /// repeats: empty when many changed, which clients read as "re-read everything".
    pub fn into_event_ids(self) -> Vec<String> {
        let mut ids = self.ids;
        ids.sort();
        ids.dedup();
        ids
    }
}

/// One pull's state: the cursors as they stand, what it read, and where its time went.
pub(super) struct Puller<'a> {
    pub state: &'a State,
    pub client: &'a GhlClient,
    pub ingest: Ingest,
    pub cursors: Cursors,
    pub pulled: Pulled,
    pub skipped: SkippedRecords,
    skipped_dirty: bool,
    pub timing: PhaseTiming,
    /// A pull writes in bulk from its first page to its last (a first sync: 100 k leads).
    _bulk: crate::alloc::BulkWrites,
}

/// Where a phase's time went: waiting for pages (rate limit, network, the server) or applying
/// them (store and scoring). Logged at the end of each phase, for tuning the sync.
#[derive(Debug, Default)]
pub(super) struct PhaseTiming {
    started: Option<std::time::Instant>,
    pub waiting: std::time::Duration,
    pub applying: std::time::Duration,
    pub pages: usize,
}

impl PhaseTiming {
    pub fn start(&mut self) {
        *self = PhaseTiming { started: Some(std::time::Instant::now()), ..Default::default() };
    }

    pub fn log(&self, phase: &str) {
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
pub fn resident_mb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb = status.lines().find_map(|l| l.strip_prefix("VmRSS:"))?.trim().strip_suffix("kB")?.trim();
    kb.parse::<u64>().ok().map(|kb| kb / 1024)
}

fn newest_updated(contacts: &[Contact]) -> Option<i64> {
    contacts.iter().filter_map(|c| c.date_updated.map(Timestamp::as_millisecond)).max()
}

impl<'a> Puller<'a> {
    pub fn new(state: &'a State, client: &'a GhlClient) -> Result<Self, SyncError> {
        // Two point reads (the cursors, the skipped records) on the async worker: a pull
        // starts between the sync task's own pages, so the only batch they could wait for is
        // an edit's, which is small.
        Ok(Puller {
            state,
            client,
            ingest: state.ingest(),
            cursors: state.db.meta::<Cursors>(META_CURSORS)?.unwrap_or_default(),
            pulled: Pulled::default(),
            skipped: state.db.meta::<SkippedRecords>(META_SKIPPED)?.unwrap_or_default(),
            skipped_dirty: false,
            timing: PhaseTiming::default(),
            _bulk: crate::alloc::BulkWrites::begin(),
        })
    }

    /// Applies a page with the cursors (and skipped records) as they stand after it, then
    /// flushes. The store work runs on the blocking pool.
    pub async fn commit(&mut self, page: Page) -> Result<(), SyncError> {
        let mut extra = Batch::new();
        let cursors = serde_json::to_value(&self.cursors).map_err(|e| SyncError::Internal(e.to_string()))?;
        extra.put(Put::Meta { key: META_CURSORS.into(), value: cursors });
        if std::mem::take(&mut self.skipped_dirty) {
            let skipped =
                serde_json::to_value(&self.skipped).map_err(|e| SyncError::Internal(e.to_string()))?;
            extra.put(Put::Meta { key: META_SKIPPED.into(), value: skipped });
        }
        let applying = std::time::Instant::now();
        let ingest = self.ingest.clone();
        let now = self.state.clock.now();
        let applied =
            tokio::task::spawn_blocking(move || ingest.apply_in_parts(page, extra, now))
                .await
                .map_err(|e| SyncError::Internal(format!("applying a page failed unexpectedly: {e}")))??;
        self.state.db.flush().await?;
        self.timing.applying += applying.elapsed();
        if let Some(engine) = self.state.followups() {
            engine.alert(&applied.alerts);
        }
        self.pulled.changed_leads.extend(applied.changed);
        Ok(())
    }

    /// Saves the cursors alone.
    pub async fn save_cursors(&mut self) -> Result<(), SyncError> {
        self.commit(Page::Contacts(Vec::new())).await
    }

    /// Records a page's unreadable records, and forgets those of `kind` that read fine now.
    pub fn note_skipped<'i>(&mut self, skipped: &[Skipped], kind: &str, read: impl Iterator<Item = &'i str>) {
        let now = self.state.clock.now();
        self.pulled.skipped += skipped.len();
        self.skipped_dirty |= self.skipped.note(skipped, now);
        self.skipped_dirty |= self.skipped.read_fine(kind, read);
    }

    pub fn progress(&self, phase: &str) {
        let p = &self.pulled;
        let detail =
            format!("{phase}: {} contacts, {} deals, {} messages", p.contacts, p.opportunities, p.messages);
        self.state.set_sync_status(|s| {
            s.state = leadline_shared::protocol::SyncState::Syncing;
            s.progress = Some(detail);
        });
    }

    /// Location, users, custom fields, pipelines: small, pulled whole.
    pub async fn reference_data(&mut self) -> Result<(), SyncError> {
        let data = fetch_reference_data(self.client).await?;
        self.apply_reference_data(data).await
    }

    /// Applies what [`fetch_reference_data`] read.
    pub async fn apply_reference_data(&mut self, data: ReferenceData) -> Result<(), SyncError> {
        let ReferenceData { location, users, fields, pipelines } = data;
        if let (Some(engine), Some(zone)) =
            (self.state.followups(), location.get("timezone").and_then(|z| z.as_str()))
        {
            engine.learn_location_zone(zone);
        }
        let db = self.state.db.clone();
        super::blocking(move || {
            db.commit(Batch::new().put(Put::Meta { key: META_LOCATION.into(), value: location }))
        })
        .await?;
        if let Some(users) = users {
            self.commit(Page::Users(users)).await?;
        }
        self.commit(Page::CustomFields(fields)).await?;
        self.commit(Page::Pipelines(pipelines)).await?;
        Ok(())
    }

    /// Applies a page of contacts; `listing` hears of it when the page is part of a listing
    /// that may reconcile deletions.
    pub async fn apply_contacts(
        &mut self,
        page: ContactPage,
        listing: Option<&mut Listing>,
    ) -> Result<(), SyncError> {
        self.pulled.contacts += page.contacts.len();
        self.note_skipped(&page.skipped, "contact", page.contacts.iter().map(|c| c.id.as_str()));
        if let Some(l) = listing {
            l.saw(page.contacts.iter().map(|c| c.id.as_str()), &page.skipped, page.total, page.cut_short);
        }
        self.commit(Page::Contacts(page.contacts)).await
    }

    /// Applies a page of deals.
    pub async fn apply_deals(
        &mut self,
        page: OpportunityPage,
        listing: Option<&mut Listing>,
    ) -> Result<(), SyncError> {
        self.pulled.opportunities += page.opportunities.len();
        self.note_skipped(&page.skipped, "opportunity", page.opportunities.iter().map(|o| o.id.as_str()));
        if let Some(l) = listing {
            l.saw(page.opportunities.iter().map(|o| o.id.as_str()), &page.skipped, page.total, false);
        }
        self.commit(Page::Opportunities(page.opportunities)).await
    }

    /// Applies a page of the export, moving its window or watermark on.
    pub async fn apply_export(
        &mut self,
        page: ExportPage,
        table: Option<&std::sync::Mutex<WindowTable>>,
    ) -> Result<(), SyncError> {
        match page.progress {
            Progress::Window(id) => {
                if let Some(table) = table {
                    let mut t = table.lock().unwrap_or_else(|e| e.into_inner());
                    t.applied(id, page.newest_ms, page.last);
                    self.cursors.windows = t.snapshot();
                }
            }
            Progress::Watermark(stream) => {
                if let Some(newest) = page.newest_ms {
                    let w = self.cursors.exported_through.entry(stream).or_insert(newest);
                    *w = (*w).max(newest);
                }
            }
        }
        self.pulled.messages += page.messages.len();
        self.note_skipped(&page.skipped, "message", page.messages.iter().map(|m| m.id.as_str()));
        self.commit(Page::Messages(page.messages)).await
    }

    /// Reads a stream's new messages: from its watermark less the overlap to the end.
    async fn poll_stream(&mut self, stream: ExportStream) -> Result<(), SyncError> {
        let span = Span {
            stream,
            progress: Progress::Watermark(stream),
            start_ms: windows::poll_start(self.cursors.exported_through.get(&stream).copied()),
        };
        let (tx, mut rx) = mpsc::channel(4);
        let client = self.client.clone();
        let reader = tokio::spawn(async move { read_window(&client, span, &|| None, &|_, _| {}, &tx).await });
        while let Some(page) = rx.recv().await {
            self.apply_export(page?, None).await?;
        }
        reader
            .await
            .map_err(|e| SyncError::Internal(format!("reading the export failed unexpectedly: {e}")))?
    }

    /// Reads the contacts changed since the watermark less the overlap: GHL's search index
    /// lags behind writes, so a contact indexed late is still read.
    async fn poll_contacts(&mut self) -> Result<(), SyncError> {
        let order = match self.cursors.contacts_updated_since {
            Some(ms) => ContactOrder::UpdatedSince(
                Timestamp::from_millisecond(ms.saturating_sub(OVERLAP_MS)).unwrap_or(Timestamp::UNIX_EPOCH),
            ),
            None => ContactOrder::AddedAsc,
        };
        let mut after = None;
        loop {
            let q = ContactQuery { page_limit: CONTACT_PAGE, search_after: after.take(), order };
            let page = self.client.search_contacts(&q).await?;
            self.note_contacts_updated(&page.contacts);
            let done = page.next.is_none() || (page.contacts.is_empty() && page.skipped.is_empty());
            after = page.next.clone();
            self.apply_contacts(page, None).await?;
            if done {
                return Ok(());
            }
        }
    }

    /// Moves the contact watermark to the newest change a listing showed.
    pub fn note_contacts_updated(&mut self, contacts: &[Contact]) {
        if let Some(newest) = newest_updated(contacts) {
            let w = self.cursors.contacts_updated_since.get_or_insert(newest);
            *w = (*w).max(newest);
        }
    }
}

/// A location's reference data, as read.
pub(super) struct ReferenceData {
    location: serde_json::Value,
    users: Option<Vec<leadline_shared::domain::User>>,
    fields: Vec<leadline_shared::domain::CustomFieldDef>,
    pipelines: Vec<leadline_shared::domain::Pipeline>,
}

/// Reads the location, users, custom fields and pipelines, the calls at once (users wait for
/// the location, which names the company). At the start of a full sync every request sent
/// later than it could be delays the end: the rate limit's window makes the last requests wait
/// for the first ones.
pub(super) async fn fetch_reference_data(client: &GhlClient) -> Result<ReferenceData, SyncError> {
    let location_then_users = async {
        let location = client.location().await?;
        let company = location.get("companyId").and_then(|v| v.as_str()).unwrap_or_default().to_owned();
        let users = if company.is_empty() { None } else { Some(client.users(&company).await?) };
        Ok::<_, crate::ghl::GhlError>((location, users))
    };
    let (first, fields, pipelines) =
        tokio::join!(location_then_users, client.custom_fields(), client.pipelines());
    let (location, users) = first?;
    Ok(ReferenceData { location, users, fields: fields?, pipelines: pipelines? })
}

/// The poll: contacts changed since the last one, and new messages of both export streams.
/// Three requests when nothing happened. Runs (or resumes) the full sync first when none has
/// finished.
pub async fn incremental(state: &State, client: &GhlClient) -> Result<Pulled, SyncError> {
    let mut p = Puller::new(state, client)?;
    if p.cursors.phase != Phase::Done {
        return super::full::full(state, client).await;
    }
    p.poll_contacts().await?;
    for stream in ExportStream::ALL {
        p.poll_stream(stream).await?;
    }
    Ok(p.pulled)
}

/// Deals and reference data, re-listed on the slower schedule (GHL's deal search has no
/// updated-since filter). A complete listing also removes the deals GHL no longer has.
pub async fn deals(state: &State, client: &GhlClient) -> Result<Pulled, SyncError> {
    let mut p = Puller::new(state, client)?;
    p.reference_data().await?;
    let mut listing = Listing::from_start();
    let mut after = None;
    loop {
        let page = client
            .search_opportunities(&OpportunityQuery { limit: OPPORTUNITY_PAGE, start_after: after })
            .await?;
        let done = page.next.is_none() || (page.opportunities.is_empty() && page.skipped.is_empty());
        after = page.next.clone();
        p.apply_deals(page, Some(&mut listing)).await?;
        if done {
            listing.reached_end();
            break;
        }
    }
    let removed = super::reconcile::remove_missing_deals(state, &listing).await?;
    p.pulled.deleted += removed.count;
    p.pulled.changed_leads.extend(removed.changed_leads);
    Ok(p.pulled)
}

/// Lists every contact and removes the leads GHL no longer has: the scheduled (nightly)
/// reconcile of deletions made in GHL while the daemon runs. The contacts read are applied
/// like any page; the poll's watermark is left alone.
pub async fn reconcile_contacts(state: &State, client: &GhlClient) -> Result<Pulled, SyncError> {
    let mut p = Puller::new(state, client)?;
    if p.cursors.phase != Phase::Done {
        // A full sync reconciles on its own when it completes.
        return Ok(p.pulled);
    }
    let mut listing = Listing::from_start();
    let mut after = None;
    loop {
        let q = ContactQuery {
            page_limit: CONTACT_PAGE,
            search_after: after.take(),
            order: ContactOrder::AddedAsc,
        };
        let page = client.search_contacts(&q).await?;
        let done = page.next.is_none() || (page.contacts.is_empty() && page.skipped.is_empty());
        after = page.next.clone();
        p.apply_contacts(page, Some(&mut listing)).await?;
        if done {
            listing.reached_end();
            break;
        }
    }
    p.pulled.deleted += super::reconcile::remove_missing_contacts(state, &listing).await?;
    Ok(p.pulled)
}

/// Re-fetches single contacts (webhook hints, refused edits). A contact GHL no longer has is
/// removed wholly.
pub async fn contacts_by_id(
    state: &State,
    client: &GhlClient,
    ids: &BTreeSet<String>,
) -> Result<Pulled, SyncError> {
    let mut p = Puller::new(state, client)?;
    let mut found = Vec::new();
    let mut gone = Vec::new();
    for id in ids {
        match client.get_contact(id).await {
            Ok(Some(c)) => found.push(c),
            Ok(None) => gone.push(id.clone()),
            Err(crate::ghl::GhlError::Decode { message, .. }) => {
                let skipped = Skipped { kind: "contact", id: Some(id.clone()), reason: message };
                p.note_skipped(std::slice::from_ref(&skipped), "contact", std::iter::empty());
            }
            Err(e) => return Err(e.into()),
        }
    }
    p.pulled.contacts = found.len();
    p.note_skipped(&[], "contact", found.iter().map(|c| c.id.as_str()));
    // Read by id, not from the lagging search: current, even for a contact deleted lately.
    p.commit(Page::ContactsById(found)).await?;
    if !gone.is_empty() {
        p.pulled.deleted += super::reconcile::remove_leads(state, gone).await?;
    }
    Ok(p.pulled)
}

/// The most contacts whose tasks one sync step fetches: GHL lists tasks one contact per
/// request, so fetching them for every lead would cost 100 k requests a sync.
pub const MAX_TASK_FETCH: usize = 20;

/// Fetches the tasks of a few contacts (`GET /contacts/{id}/tasks`, at most
/// [`MAX_TASK_FETCH`] of them, the others are left for later) and stores them; a task GHL no
/// longer lists is removed. Returns the contacts whose tasks changed.
pub async fn tasks_of(
    state: &State,
    client: &GhlClient,
    ids: &BTreeSet<String>,
) -> Result<Vec<String>, SyncError> {
    let mut changed = Vec::new();
    for id in ids.iter().take(MAX_TASK_FETCH) {
        let tasks = match client.contact_tasks(id).await {
            Ok(tasks) => tasks,
            // A contact gone from GHL is the contact sync's to remove.
            Err(crate::ghl::GhlError::NotFound { .. }) => continue,
            Err(crate::ghl::GhlError::Decode { message, .. }) => {
                tracing::warn!(contact_id = %id, %message, "could not read a contact's tasks; skipped");
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        let (db, ingest, now, contact) = (state.db.clone(), state.ingest(), state.clock.now(), id.clone());
        let moved = tokio::task::spawn_blocking(move || -> Result<bool, SyncError> {
            let stored = db.tasks_for(&contact)?;
            let listed: BTreeSet<&str> = tasks.iter().map(|t| t.id.as_str()).collect();
            let gone: Vec<String> =
                stored.iter().filter(|t| !listed.contains(t.id.as_str())).map(|t| t.id.clone()).collect();
            let fresh = tasks.iter().any(|t| !stored.contains(t));
            if !fresh && gone.is_empty() {
                return Ok(false);
            }
            ingest.apply(Page::Tasks(tasks), now)?;
            if !gone.is_empty() {
                let mut batch = Batch::new();
                for t in gone {
                    batch.remove(crate::store::Remove::Task(t));
                }
                db.commit(&batch)?;
            }
            Ok(true)
        })
        .await
        .map_err(|e| SyncError::Internal(format!("storing tasks failed unexpectedly: {e}")))??;
        if moved {
            changed.push(id.clone());
        }
    }
    if !changed.is_empty() {
        state.db.flush().await?;
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    #[test]
    #[cfg(target_os = "linux")]
    fn resident_memory_is_read_on_linux() {
        assert!(super::resident_mb().is_some_and(|mb| mb > 0));
    }

    #[test]
    fn changed_leads_past_the_cap_become_many() {
        use super::ChangedLeads;
        let mut few = ChangedLeads::default();
        few.extend(["b".to_owned(), "a".to_owned(), "b".to_owned()]);
        assert_eq!(few.clone().into_event_ids(), ["a", "b"]);
        let mut many = ChangedLeads::default();
        many.extend((0..=ChangedLeads::MAX_IDS).map(|i| i.to_string()));
        assert!(!many.is_empty());
        assert!(many.clone().into_event_ids().is_empty(), "many: no ids, re-read everything");
        few.absorb(many);
        few.extend(["c".to_owned()]);
        assert!(!few.is_empty());
        assert!(few.into_event_ids().is_empty());
        assert!(ChangedLeads::default().is_empty());
    }
}
