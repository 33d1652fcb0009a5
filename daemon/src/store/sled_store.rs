//! The sled backend.

use std::ops::{Bound, ControlFlow};
use std::path::Path;

use sled::transaction::{ConflictableTransactionError, TransactionError, Transactional, TransactionalTree};

use super::{BoxFuture, KvTx, Store, StoreError, Tree, TxBody, TxError, Visit};

/// The store on disk: one sled tree per [`Tree`].
pub struct SledStore {
    db: sled::Db,
    trees: Vec<sled::Tree>,
}

impl SledStore {
    /// Opens (or creates) the store in `dir`, with a page cache of `cache_capacity_bytes`.
    ///
    /// sled's default cache is 1 GiB of on-disk pages, far too much for a laptop daemon, so
    /// the capacity is always explicit. sled also fsyncs in the background every 500 ms, but
    /// we never rely on that: every acknowledged write is followed by [`Store::flush`].
    pub fn open(dir: &Path, cache_capacity_bytes: u64) -> Result<SledStore, StoreError> {
        let open_err =
            |e: sled::Error| StoreError::Open { path: dir.display().to_string(), message: e.to_string() };
        let db = sled::Config::new()
            .path(dir)
            .cache_capacity(cache_capacity_bytes)
            .mode(sled::Mode::LowSpace)
            .open()
            .map_err(open_err)?;
        let trees = Tree::ALL
            .iter()
            .map(|t| db.open_tree(t.name()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(open_err)?;
        Ok(SledStore { db, trees })
    }

    fn tree(&self, tree: Tree) -> &sled::Tree {
        &self.trees[tree.index()]
    }
}

fn backend(e: sled::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// The key range of a scan, as bounds.
pub(super) fn scan_bounds(
    prefix: &[u8],
    from: Option<&[u8]>,
    reverse: bool,
) -> (Bound<Vec<u8>>, Bound<Vec<u8>>) {
    let prefix_start = Bound::Included(prefix.to_vec());
    let prefix_stop = match prefix_end(prefix) {
        Some(end) => Bound::Excluded(end),
        None => Bound::Unbounded,
    };
    match (from, reverse) {
        (None, _) => (prefix_start, prefix_stop),
        (Some(from), false) => (Bound::Included(from.max(prefix).to_vec()), prefix_stop),
        (Some(from), true) => match &prefix_stop {
            Bound::Excluded(end) if from >= end.as_slice() => (prefix_start, prefix_stop),
            _ => (prefix_start, Bound::Included(from.to_vec())),
        },
    }
}

impl Store for SledStore {
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.tree(tree).get(key).map_err(backend)?.map(|v| v.to_vec()))
    }

    fn scan(
        &self,
        tree: Tree,
        prefix: &[u8],
        from: Option<&[u8]>,
        reverse: bool,
        visit: Visit<'_>,
    ) -> Result<(), StoreError> {
        let range = self.tree(tree).range::<Vec<u8>, _>(scan_bounds(prefix, from, reverse));
        let iter: Box<dyn Iterator<Item = sled::Result<(sled::IVec, sled::IVec)>>> =
            if reverse { Box::new(range.rev()) } else { Box::new(range) };
        for item in iter {
            let (k, v) = item.map_err(backend)?;
            if let ControlFlow::Break(()) = visit(&k, &v) {
                break;
            }
        }
        Ok(())
    }

    fn transact(&self, body: TxBody<'_>) -> Result<(), StoreError> {
        let result =
            self.trees.as_slice().transaction(|txs: &Vec<TransactionalTree>| match body(&SledTx(txs)) {
                Ok(()) => Ok(()),
                Err(TxError::Conflict) => Err(ConflictableTransactionError::Conflict),
                Err(TxError::Abort(e)) => Err(ConflictableTransactionError::Abort(e)),
            });
        match result {
            Ok(()) => Ok(()),
            Err(TransactionError::Abort(e)) => Err(e),
            Err(TransactionError::Storage(e)) => Err(backend(e)),
        }
    }

    fn flush(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            self.db.flush_async().await.map_err(backend)?;
            Ok(())
        })
    }

    fn size_on_disk(&self) -> Result<u64, StoreError> {
        self.db.size_on_disk().map_err(backend)
    }

    fn len(&self, tree: Tree) -> Result<u64, StoreError> {
        Ok(self.tree(tree).len() as u64)
    }
}

struct SledTx<'a>(&'a Vec<TransactionalTree>);

fn tx_err(e: sled::transaction::UnabortableTransactionError) -> TxError {
    match e {
        sled::transaction::UnabortableTransactionError::Conflict => TxError::Conflict,
        sled::transaction::UnabortableTransactionError::Storage(e) => TxError::Abort(backend(e)),
    }
}

impl KvTx for SledTx<'_> {
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, TxError> {
        Ok(self.0[tree.index()].get(key).map_err(tx_err)?.map(|v| v.to_vec()))
    }

    fn insert(&self, tree: Tree, key: &[u8], value: &[u8]) -> Result<(), TxError> {
        self.0[tree.index()].insert(key, value).map_err(tx_err)?;
        Ok(())
    }

    fn remove(&self, tree: Tree, key: &[u8]) -> Result<(), TxError> {
        self.0[tree.index()].remove(key).map_err(tx_err)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::store_conformance_tests!(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SledStore::open(&dir.path().join("store"), 8 << 20).expect("open");
        (store, dir)
    });
}
