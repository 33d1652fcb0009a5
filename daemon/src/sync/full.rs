//! The full sync: everything GHL holds for the location, resumable page by page.
//!
//! 1. **Reference data** (location, users, custom fields, pipelines), read at once with the
//!    export probes, while the deal and contact chains already run.
//! 2. **The export plan.** Each export stream (non-email, email) is probed from both ends: its
//!    oldest and its newest page are read (and applied), and the history between them is cut
//!    into date windows ([`super::windows`]). The newest message of the probe becomes the
//!    stream's watermark once the windows are read, so the first poll after the sync reads
//!    what arrived during it.
//! 3. **Records**: deals and the windows, read at once (several chains over the windows,
//!    splitting the biggest whenever a chain is free), each page applied as it arrives. A
//!    message or deal whose contact is not stored yet is kept without scoring.
//! 4. **Contacts**, oldest first, each lead scored once with its messages and deals in place.
//!    The contact chain starts with the rest, so the rate limit's burst is spent at once, and
//!    keeps a few pages ready for when the records are done.
//! 5. **Deletions**: a sync that ran from its start removes the records its listings prove
//!    gone ([`super::reconcile`]).
//!
//! The phase, the listing positions and every window's progress are saved with each page; a
//! crash resumes where the last durable page left it.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use jiff::Timestamp;
use leadline_shared::domain::Message;
use tokio::sync::mpsc;

use super::SyncError;
use super::chain::{Chain, chain};
use super::cursors::{Cursors, Phase};
use super::export::{MESSAGE_PAGE, read_windows};
use super::pull::{CONTACT_PAGE, OPPORTUNITY_PAGE, Pulled, Puller, fetch_reference_data};
use super::reconcile::{self, Listing};
use super::windows::{self, WindowTable};
use crate::ghl::{
    ContactOrder, ContactPage, ContactQuery, ExportStream, GhlClient, MessagePage, MessageQuery,
    OpportunityPage, OpportunityQuery, SortOrder,
};
use crate::ingest::Page;
use crate::state::State;

/// Chains reading export windows at once. With the deal and contact chains that is six
/// requests in flight: enough that no chain's round trip bounds the sync, which is then bound
/// by the rate limit alone.
const EXPORT_CHAINS: usize = 4;
/// Export pages waiting for the store at most (the memory bound of the records phase).
const EXPORT_AHEAD: usize = 16;
/// Deal pages fetched ahead of the store at most. A page of 100 deals is about 80 KB of JSON, so
/// the chain may run well ahead: at the start it is one of the few sources of the rate limit's
/// first burst, which decides how soon the sync's last requests may go.
const DEALS_AHEAD: usize = 16;
/// Contact pages fetched ahead at most: they wait while the records are applied, so they
/// are few (each is about a megabyte decoded, and the contacts phase is the sync's memory
/// peak). Two cover a page's round trip while the store applies the one before: a page is
/// applied in about 90 ms at 100 k leads, faster than the rate limit lets the next one come.
const CONTACTS_AHEAD: usize = 2;
/// Pages of a stream per planned window, roughly: more windows than chains, so the biggest
/// can be split while the others run.
const PAGES_PER_WINDOW: u64 = 60;

fn ms(m: &Message) -> Option<i64> {
    m.date_added.map(Timestamp::as_millisecond)
}

fn contact_chain(client: &GhlClient, start: Option<Vec<serde_json::Value>>) -> Chain<ContactPage> {
    let client = client.clone();
    chain(start, CONTACTS_AHEAD, move |search_after| {
        let client = client.clone();
        async move {
            let q = ContactQuery { page_limit: CONTACT_PAGE, search_after, order: ContactOrder::AddedAsc };
            client.search_contacts(&q).await
        }
    })
}

fn opportunity_chain(client: &GhlClient, start: Option<(String, String)>) -> Chain<OpportunityPage> {
    let client = client.clone();
    chain(start, DEALS_AHEAD, move |start_after| {
        let client = client.clone();
        async move {
            client.search_opportunities(&OpportunityQuery { limit: OPPORTUNITY_PAGE, start_after }).await
        }
    })
}

/// A full sync, resuming an unfinished one where its last durable page left it.
pub async fn full(state: &State, client: &GhlClient) -> Result<Pulled, SyncError> {
    if state.followups().is_some() {
        // Whatever the location holds when Leadline first syncs it is history: only what
        // happens from here on may start a workflow.
        let (db, now) = (state.db.clone(), state.clock.now());
        super::blocking(move || crate::followups::go_live(&db, now)).await?;
    }
    let mut p = Puller::new(state, client)?;
    // Deletions are reconciled only by a sync that listed everything from its start in this
    // process: a resumed one has not seen the earlier pages' ids.
    let mut contacts_listing = Listing::resumed();
    let mut deals_listing = Listing::resumed();
    let fresh = matches!(p.cursors.phase, Phase::Start | Phase::Done);
    if fresh {
        p.cursors = Cursors {
            phase: Phase::Records,
            contacts_updated_since: p.cursors.contacts_updated_since,
            exported_through: std::mem::take(&mut p.cursors.exported_through),
            ..Cursors::default()
        };
        contacts_listing = Listing::from_start();
        deals_listing = Listing::from_start();
    } else {
        tracing::info!(phase = ?p.cursors.phase, "resuming an unfinished full sync");
    }
    // The listing chains start first, with the reference data and the export probes: the
    // rate limit's window makes request k + 100 wait 10 s for request k, so the last requests
    // of the sync can go no sooner than the first burst allows. Every request of the burst
    // sent late (behind a round trip of the plan) delays the end by as much.
    let contacts =
        (p.cursors.phase <= Phase::Contacts).then(|| contact_chain(client, p.cursors.contacts_after.clone()));
    let deals = (p.cursors.phase == Phase::Records && !p.cursors.opportunities_done)
        .then(|| opportunity_chain(client, p.cursors.opportunities_after.clone()));
    if fresh {
        let (reference, probes) = tokio::join!(fetch_reference_data(client), probe_export(client));
        p.apply_reference_data(reference?).await?;
        plan_export(&mut p, probes?).await?;
    }
    if p.cursors.phase == Phase::Records {
        records(&mut p, deals, &mut deals_listing).await?;
        let planned = std::mem::take(&mut p.cursors.planned_through);
        for (stream, through) in planned {
            let w = p.cursors.exported_through.entry(stream).or_insert(through);
            *w = (*w).max(through);
        }
        p.cursors.windows.clear();
        p.cursors.phase = Phase::Contacts;
        p.save_cursors().await?;
    }
    if let Some(pages) = contacts {
        all_contacts(&mut p, pages, &mut contacts_listing).await?;
    }
    let removed = reconcile::remove_missing_deals(state, &deals_listing).await?;
    p.pulled.deleted += removed.count;
    p.pulled.changed_leads.extend(removed.changed_leads);
    p.pulled.deleted += reconcile::remove_missing_contacts(state, &contacts_listing).await?;
    p.cursors.phase = Phase::Done;
    p.save_cursors().await?;
    Ok(p.pulled)
}

/// Both ends of an export stream: its oldest page, and its newest when there is more than one.
struct Probe {
    stream: ExportStream,
    oldest: MessagePage,
    newest: Option<MessagePage>,
}

/// Probes each export stream from both ends: the oldest pages of all streams at once, then the
/// newest pages of the streams with more than one page, at once.
async fn probe_export(client: &GhlClient) -> Result<Vec<Probe>, SyncError> {
    let oldest = futures::future::join_all(
        ExportStream::ALL
            .map(|stream| async move { client.export_messages(&MessageQuery::oldest_first(stream)).await }),
    )
    .await;
    let mut probes = Vec::new();
    for (stream, page) in ExportStream::ALL.into_iter().zip(oldest) {
        probes.push(Probe { stream, oldest: page?, newest: None });
    }
    let newest =
        futures::future::join_all(probes.iter().filter(|p| p.oldest.next_cursor.is_some()).map(|p| {
            let q = MessageQuery { order: SortOrder::Desc, ..MessageQuery::oldest_first(p.stream) };
            async move { (p.stream, client.export_messages(&q).await) }
        }))
        .await;
    for (stream, page) in newest {
        if let Some(probe) = probes.iter_mut().find(|p| p.stream == stream) {
            probe.newest = Some(page?);
        }
    }
    Ok(probes)
}

/// Applies the probes' pages and plans the windows between each stream's two ends.
async fn plan_export(p: &mut Puller<'_>, probes: Vec<Probe>) -> Result<(), SyncError> {
    let mut probed: Vec<Message> = Vec::new();
    let mut windows = Vec::new();
    let mut density: BTreeMap<ExportStream, f64> = BTreeMap::new();
    for Probe { stream, oldest, newest } in probes {
        let total = oldest.total.unwrap_or(0);
        p.note_skipped(&oldest.skipped, "message", oldest.messages.iter().map(|m| m.id.as_str()));
        let oldest_reach = oldest.messages.iter().filter_map(ms).max();
        probed.extend(oldest.messages);
        let Some(newest) = newest else {
            // The whole stream fits in one page.
            if let Some(newest) = oldest_reach {
                p.cursors.planned_through.insert(stream, newest);
            }
            continue;
        };
        p.note_skipped(&newest.skipped, "message", newest.messages.iter().map(|m| m.id.as_str()));
        let newest_reach = newest.messages.iter().filter_map(ms).min();
        if let Some(top) = newest.messages.iter().filter_map(ms).max() {
            p.cursors.planned_through.insert(stream, top);
        }
        let between = newest.next_cursor.is_some();
        probed.extend(newest.messages);
        if let (true, Some(lo), Some(hi)) = (between, oldest_reach, newest_reach)
            && hi >= lo
        {
            let pages = total.div_ceil(u64::from(MESSAGE_PAGE)).saturating_sub(2);
            let parts = pages.div_ceil(PAGES_PER_WINDOW).clamp(1, 2 * EXPORT_CHAINS as u64) as u32;
            let first = windows.len() as u32;
            windows.extend(windows::plan(stream, lo, hi, parts, first));
            density.insert(stream, pages as f64 / (hi - lo + 1) as f64);
            tracing::info!(?stream, messages = total, windows = parts, "export planned");
        }
    }
    p.pulled.messages += probed.len();
    p.cursors.windows = windows;
    p.cursors.export_density = density.values().copied().fold(0.0, f64::max);
    // The probes land with the plan: a crash before this point plans again.
    p.commit(Page::Messages(probed)).await?;
    Ok(())
}

/// Deals and export windows, read at once and applied as they arrive.
async fn records(
    p: &mut Puller<'_>,
    mut deals: Option<Chain<OpportunityPage>>,
    deals_listing: &mut Listing,
) -> Result<(), SyncError> {
    p.timing.start();
    let table = Arc::new(Mutex::new(WindowTable::new(p.cursors.windows.clone(), p.cursors.export_density)));
    let (tx, mut export) = mpsc::channel(EXPORT_AHEAD);
    let reader = tokio::spawn(read_windows(p.client.clone(), table.clone(), EXPORT_CHAINS, tx));
    let mut export_open = true;
    loop {
        let waited = std::time::Instant::now();
        tokio::select! {
            fetched = next_of(&mut deals), if deals.is_some() => {
                p.timing.waiting += waited.elapsed();
                p.timing.pages += 1;
                let Some(fetched) = fetched else {
                    return Err(SyncError::Internal("the deal pages stopped before the last one".into()));
                };
                let (page, next) = fetched?;
                let last = next.is_none();
                p.cursors.opportunities_after = next;
                p.cursors.opportunities_done = last;
                p.apply_deals(page, Some(deals_listing)).await?;
                if last {
                    deals_listing.reached_end();
                    deals = None;
                }
                p.progress("deals and messages");
            }
            page = export.recv(), if export_open => {
                p.timing.waiting += waited.elapsed();
                match page {
                    None => export_open = false,
                    Some(page) => {
                        p.timing.pages += 1;
                        p.apply_export(page?, Some(&table)).await?;
                        p.progress("deals and messages");
                    }
                }
            }
            else => break,
        }
    }
    reader.await.map_err(|e| SyncError::Internal(format!("the export reader failed unexpectedly: {e}")))?;
    let done = table.lock().unwrap_or_else(|e| e.into_inner()).all_done();
    if !done || !p.cursors.opportunities_done {
        return Err(SyncError::Internal("the deal and message listings stopped before their end".into()));
    }
    p.timing.log("deals and messages");
    Ok(())
}

/// The next item of an optional receiver (`None` when the chain ended).
async fn next_of<T>(rx: &mut Option<mpsc::Receiver<T>>) -> Option<T> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

async fn all_contacts(
    p: &mut Puller<'_>,
    mut pages: Chain<ContactPage>,
    listing: &mut Listing,
) -> Result<(), SyncError> {
    p.timing.start();
    loop {
        let waited = std::time::Instant::now();
        let fetched = pages.recv().await;
        p.timing.waiting += waited.elapsed();
        p.timing.pages += 1;
        let Some(fetched) = fetched else {
            return Err(SyncError::Internal("the contact pages stopped before the last one".into()));
        };
        let (page, next) = fetched?;
        p.note_contacts_updated(&page.contacts);
        let last = next.is_none();
        p.cursors.contacts_after = next;
        p.apply_contacts(page, Some(listing)).await?;
        p.progress("contacts");
        if last {
            listing.reached_end();
            p.timing.log("contacts");
            return Ok(());
        }
    }
}
