//! Deletions made in GHL: when a listing may remove local records, and removing them.
//!
//! GHL sends no reliable deletion feed to a Private Integration, so a record is known to be
//! gone only when a complete listing did not show it. A listing is complete only when it ran
//! from its start to its end, was never cut short (a full page with no cursor to go on), saw
//! at least as many records as its first page said exist, and could name every record it
//! could not read. Anything less removes nothing: a local record is never deleted on the
//! strength of a listing that may have stopped early.
//!
//! Contacts are listed for this on a schedule (nightly by default, `[sync] reconcile_cron`) and
//! by every full sync; deals at each re-listing. A contact GHL answers 404 for is removed at
//! once. However it goes, a lead is removed wholly by one function, [`remove_leads`].

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};

use super::{SyncError, blocking};
use crate::ghl::Skipped;
use crate::state::State;

/// What a listing showed, to decide whether it proves anything about what it did not show.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Listing {
    /// A 64-bit hash of each id seen, not the id: at 100 k contacts the ids as strings held
    /// some 6 MB through the sync's memory peak, the hashes about 1 MB. A collision can only
    /// make a record look seen (kept) or the listing look short (nothing removed): never a
    /// wrong deletion.
    seen: HashSet<u64>,
    first_total: Option<u64>,
    pages: usize,
    from_start: bool,
    reached_end: bool,
    cut_short: bool,
    unnamed_skipped: bool,
}

impl Listing {
    /// A listing that starts at the beginning.
    pub fn from_start() -> Listing {
        Listing { from_start: true, ..Listing::default() }
    }

    /// A listing resumed midway: it proves nothing, whatever it sees.
    pub fn resumed() -> Listing {
        Listing::default()
    }

    /// A page showed these ids (and skipped these records); `total` is the listing's count as
    /// the page gave it; `cut_short` says the page was full but came with no cursor.
    pub fn saw<'a>(
        &mut self,
        ids: impl Iterator<Item = &'a str>,
        skipped: &[Skipped],
        total: Option<u64>,
        cut_short: bool,
    ) {
        if self.pages == 0 {
            self.first_total = total;
        }
        self.pages += 1;
        self.seen.extend(ids.map(id_hash));
        for s in skipped {
            match &s.id {
                // A record we cannot read is not a record GHL deleted.
                Some(id) => {
                    self.seen.insert(id_hash(id));
                }
                None => self.unnamed_skipped = true,
            }
        }
        self.cut_short |= cut_short;
    }

    /// The last page came.
    pub fn reached_end(&mut self) {
        self.reached_end = true;
    }

    /// Whether the listing saw every record that existed when it began.
    pub fn is_complete(&self) -> bool {
        self.from_start
            && self.reached_end
            && !self.cut_short
            && !self.unnamed_skipped
            && self.first_total.is_none_or(|t| self.seen.len() as u64 >= t)
    }

    /// How many distinct ids it saw.
    pub fn seen_count(&self) -> u64 {
        self.seen.len() as u64
    }

    /// Which of `stored` the listing proves gone: none unless it is complete.
    pub fn gone<'a>(&self, stored: impl Iterator<Item = &'a String>) -> Vec<String> {
        if !self.is_complete() {
            return Vec::new();
        }
        stored.filter(|id| !self.seen.contains(&id_hash(id))).cloned().collect()
    }

    fn explain(&self) -> String {
        format!(
            "from start: {}, reached end: {}, cut short: {}, unnamed unreadable records: {}, seen {} of {:?}",
            self.from_start,
            self.reached_end,
            self.cut_short,
            self.unnamed_skipped,
            self.seen.len(),
            self.first_total
        )
    }
}

/// The hash a listing keeps of an id: SipHash with fixed keys, so the same in every run.
fn id_hash(id: &str) -> u64 {
    let mut h = DefaultHasher::new();
    id.hash(&mut h);
    h.finish()
}

/// Removes leads wholly (see [`crate::store::Db::remove_leads`]) and flushes; returns how many there were.
pub async fn remove_leads(state: &State, ids: Vec<String>) -> Result<usize, SyncError> {
    if ids.is_empty() {
        return Ok(0);
    }
    let db = state.db.clone();
    let now = state.clock.now();
    let removed = blocking(move || db.remove_leads(&ids, now)).await?;
    state.db.flush().await?;
    Ok(removed)
}

/// After a contact listing: removes the leads it proves gone.
pub async fn remove_missing_contacts(state: &State, listing: &Listing) -> Result<usize, SyncError> {
    if !listing.is_complete() {
        tracing::warn!(listing = %listing.explain(), "the contact listing was incomplete; no contact is removed");
        return Ok(0);
    }
    let db = state.db.clone();
    let seen = listing.seen_count();
    // The counters are a few point reads, here on the async worker: the sync task applies its
    // own pages and is not applying one now, so the only batch they could wait for is an
    // edit's, which is small.
    // Only sync adds contacts: a store holding as many as the listing saw holds exactly those,
    // and the walk over every record (at 100 k leads, a sled cache's worth of pages) is skipped.
    if db.counts()?.contacts == seen {
        return Ok(0);
    }
    let stored = blocking(move || db.contact_ids()).await?;
    let gone = listing.gone(stored.iter());
    if !gone.is_empty() {
        tracing::info!(contacts = gone.len(), "removing contacts deleted in GHL");
    }
    remove_leads(state, gone).await
}

/// Deals removed after a listing, and the leads whose rows changed with them.
#[derive(Debug, Default)]
pub struct RemovedDeals {
    pub count: usize,
    pub changed_leads: Vec<String>,
}

/// After a deal listing: removes the deals it proves gone (their leads' rows derived again).
pub async fn remove_missing_deals(state: &State, listing: &Listing) -> Result<RemovedDeals, SyncError> {
    if !listing.is_complete() {
        tracing::warn!(listing = %listing.explain(), "the deal listing was incomplete; no deal is removed");
        return Ok(RemovedDeals::default());
    }
    let db = state.db.clone();
    // A few point reads on the async worker, as in `remove_missing_contacts`.
    if db.counts()?.opportunities == listing.seen_count() {
        return Ok(RemovedDeals::default());
    }
    let stored = blocking({
        let db = db.clone();
        move || db.opportunity_ids()
    })
    .await?;
    let gone = listing.gone(stored.iter());
    if gone.is_empty() {
        return Ok(RemovedDeals::default());
    }
    tracing::info!(deals = gone.len(), "removing deals deleted in GHL");
    let now = state.clock.now();
    let ingest = state.ingest();
    let (count, changed_leads) = tokio::task::spawn_blocking(move || ingest.remove_deals(&gone, now))
        .await
        .map_err(|e| SyncError::Internal(format!("a store task failed unexpectedly: {e}")))??;
    state.db.flush().await?;
    Ok(RemovedDeals { count, changed_leads })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn a_complete_listing_proves_what_is_gone() {
        let mut l = Listing::from_start();
        l.saw(["a", "b"].into_iter(), &[], Some(3), false);
        l.saw(["c"].into_iter(), &[], Some(3), false);
        l.reached_end();
        assert!(l.is_complete());
        assert_eq!(l.gone(ids(&["a", "x", "c"]).iter()), ["x"]);
    }

    #[test]
    fn an_incomplete_listing_removes_nothing() {
        let stored = ids(&["a", "x"]);
        // Fewer than the first page's total.
        let mut short = Listing::from_start();
        short.saw(["a"].into_iter(), &[], Some(2), false);
        short.reached_end();
        assert!(short.gone(stored.iter()).is_empty());
        // A full page without a cursor.
        let mut cut = Listing::from_start();
        cut.saw(["a"].into_iter(), &[], Some(1), true);
        cut.reached_end();
        assert!(cut.gone(stored.iter()).is_empty());
        // Never reached the end.
        let mut open = Listing::from_start();
        open.saw(["a"].into_iter(), &[], Some(1), false);
        assert!(open.gone(stored.iter()).is_empty());
        // Resumed midway.
        let mut resumed = Listing::resumed();
        resumed.saw(["a"].into_iter(), &[], Some(1), false);
        resumed.reached_end();
        assert!(resumed.gone(stored.iter()).is_empty());
    }

    #[test]
    fn an_unreadable_record_is_not_a_deleted_one() {
        let mut l = Listing::from_start();
        let odd = Skipped { kind: "contact", id: Some("x".into()), reason: "bad".into() };
        l.saw(["a"].into_iter(), &[odd], Some(2), false);
        l.reached_end();
        assert!(l.gone(ids(&["a", "x"]).iter()).is_empty());
        let mut nameless = Listing::from_start();
        let odd = Skipped { kind: "contact", id: None, reason: "no id".into() };
        nameless.saw(["a"].into_iter(), &[odd], Some(2), false);
        nameless.reached_end();
        assert!(!nameless.is_complete(), "an unreadable record without an id could be any of ours");
    }
}
