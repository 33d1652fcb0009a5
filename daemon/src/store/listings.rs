//! The property listings (`Tree::Listings`, one record per listing id). They are few (an
//! MLS area's active listings: thousands, not the leads' hundred thousand) and change only by
//! an import, so the daemon keeps them prepared in memory too (`crate::listings::ListingBook`)
//! and reads this tree only at start and after an import.

use std::collections::BTreeSet;

use leadline_shared::protocol::Listing;

use super::codec::{decode, encode};
use super::{Db, StoreError, Tree, TxError};

/// What an import changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListingChanges {
    pub added: u64,
    pub updated: u64,
    pub removed: u64,
    pub total: u64,
}

impl Db {
    /// Every stored listing, by id.
    pub fn listings(&self) -> Result<Vec<Listing>, StoreError> {
        let mut out = Vec::new();
        let mut err = None;
        self.backend().scan(
            Tree::Listings,
            b"",
            None,
            false,
            &mut |_, v| match decode(Tree::Listings, v) {
                Ok(l) => {
                    out.push(l);
                    std::ops::ControlFlow::Continue(())
                }
                Err(e) => {
                    err = Some(e);
                    std::ops::ControlFlow::Break(())
                }
            },
        )?;
        match err {
            Some(e) => Err(e),
            None => Ok(out),
        }
    }

    /// Writes `listings` (kept by id; a listing already stored is replaced) in one
    /// transaction, and with `replace` removes the stored listings the file does not have.
    /// The caller flushes before it acknowledges.
    pub fn import_listings(&self, listings: &[Listing], replace: bool) -> Result<ListingChanges, StoreError> {
        let mut stored = BTreeSet::new();
        self.backend().scan(Tree::Listings, b"", None, false, &mut |k, _| {
            stored.insert(k.to_vec());
            std::ops::ControlFlow::Continue(())
        })?;
        let encoded: Vec<(Vec<u8>, Vec<u8>)> = listings
            .iter()
            .map(|l| Ok((l.listing_id.as_bytes().to_vec(), encode(l)?)))
            .collect::<Result<_, StoreError>>()?;
        let incoming: BTreeSet<&[u8]> = encoded.iter().map(|(k, _)| k.as_slice()).collect();
        let gone: Vec<&Vec<u8>> = if replace {
            stored.iter().filter(|k| !incoming.contains(k.as_slice())).collect()
        } else {
            Vec::new()
        };
        let counts = std::sync::Mutex::new(ListingChanges::default());
        self.backend().transact(&|tx| {
            let mut c = ListingChanges::default();
            for (key, value) in &encoded {
                match tx.get(Tree::Listings, key)? {
                    None => c.added += 1,
                    Some(old) if old != *value => c.updated += 1,
                    Some(_) => continue,
                }
                tx.insert(Tree::Listings, key, value)?;
            }
            for key in &gone {
                tx.remove(Tree::Listings, key)?;
                c.removed += 1;
            }
            *counts
                .lock()
                .map_err(|_| TxError::Abort(StoreError::Backend("a lock was poisoned".into())))? = c;
            Ok(())
        })?;
        let mut c = counts.into_inner().unwrap_or_else(|p| p.into_inner());
        c.total = (stored.len() as u64 + c.added).saturating_sub(c.removed);
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::store::MemoryStore;

    fn listing(id: &str, price: f64) -> Listing {
        Listing { listing_id: id.into(), list_price: Some(price), ..Listing::default() }
    }

    #[test]
    fn an_import_adds_updates_keeps_and_with_replace_removes() {
        let db = Db::open(Arc::new(MemoryStore::new())).expect("db");
        let c = db.import_listings(&[listing("a", 1.0), listing("b", 2.0)], false).expect("import");
        assert_eq!(c, ListingChanges { added: 2, updated: 0, removed: 0, total: 2 });
        let c = db.import_listings(&[listing("b", 3.0), listing("c", 4.0)], false).expect("import");
        assert_eq!(c, ListingChanges { added: 1, updated: 1, removed: 0, total: 3 });
        let c = db.import_listings(&[listing("c", 4.0)], true).expect("import");
        assert_eq!(c, ListingChanges { added: 0, updated: 0, removed: 2, total: 1 });
        assert_eq!(db.listings().expect("read"), [listing("c", 4.0)]);
    }
}
