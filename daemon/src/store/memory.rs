//! An in-memory backend: the same contract as sled, for tests and tools.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::ops::ControlFlow;
use std::sync::{Mutex, MutexGuard};

use super::sled_store::scan_bounds;
use super::{BoxFuture, KvTx, Store, StoreError, Tree, TxBody, TxError, Visit};

type Trees = Vec<BTreeMap<Vec<u8>, Vec<u8>>>;
type Staged = HashMap<(Tree, Vec<u8>), Option<Vec<u8>>>;

/// A store held in memory. Transactions stage their writes and apply them at the end, so
/// an aborted transaction leaves nothing behind, as with sled.
#[derive(Default)]
pub struct MemoryStore {
    trees: Mutex<Trees>,
    sides: Mutex<HashMap<String, Vec<u8>>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore {
            trees: Mutex::new(vec![BTreeMap::new(); Tree::ALL.len()]),
            sides: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Trees> {
        // A panic while holding the lock cannot leave a half-applied transaction (writes are
        // applied after the body returns), so a poisoned lock is still consistent.
        self.trees.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Store for MemoryStore {
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.lock()[tree.index()].get(key).cloned())
    }

    fn scan(
        &self,
        tree: Tree,
        prefix: &[u8],
        from: Option<&[u8]>,
        reverse: bool,
        visit: Visit<'_>,
    ) -> Result<(), StoreError> {
        // Copy a chunk at a time and visit it with the lock released, so that the visitor
        // may read the store (as `Db::leads_by` does) without deadlocking.
        const CHUNK: usize = 256;
        let mut cursor: Option<Vec<u8>> = from.map(<[u8]>::to_vec);
        let mut skip_cursor = false;
        loop {
            let chunk: Vec<(Vec<u8>, Vec<u8>)> = {
                let guard = self.lock();
                let range =
                    guard[tree.index()].range::<Vec<u8>, _>(scan_bounds(prefix, cursor.as_deref(), reverse));
                let iter: Box<dyn Iterator<Item = (&Vec<u8>, &Vec<u8>)>> =
                    if reverse { Box::new(range.rev()) } else { Box::new(range) };
                iter.skip(usize::from(skip_cursor)).take(CHUNK).map(|(k, v)| (k.clone(), v.clone())).collect()
            };
            let done = chunk.len() < CHUNK;
            for (k, v) in &chunk {
                if let ControlFlow::Break(()) = visit(k, v) {
                    return Ok(());
                }
            }
            match chunk.into_iter().last() {
                Some((last, _)) if !done => {
                    cursor = Some(last);
                    skip_cursor = true;
                }
                _ => return Ok(()),
            }
        }
    }

    fn transact(&self, body: TxBody<'_>) -> Result<(), StoreError> {
        let mut guard = self.lock();
        let tx = MemTx { base: &guard, staged: RefCell::new(HashMap::new()) };
        match body(&tx) {
            Ok(()) => {
                let staged = tx.staged.into_inner();
                for ((tree, key), value) in staged {
                    match value {
                        Some(v) => guard[tree.index()].insert(key, v),
                        None => guard[tree.index()].remove(&key),
                    };
                }
                Ok(())
            }
            // Nothing else writes while the lock is held, so there are no conflicts to retry.
            Err(TxError::Conflict) => Err(StoreError::Backend("unexpected transaction conflict".into())),
            Err(TxError::Abort(e)) => Err(e),
        }
    }

    fn flush(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async { Ok(()) })
    }

    fn size_on_disk(&self) -> Result<u64, StoreError> {
        Ok(0)
    }

    fn read_side(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        super::check_side_name(name)?;
        Ok(self.sides.lock().unwrap_or_else(|p| p.into_inner()).get(name).cloned())
    }

    fn write_side(&self, name: &str, bytes: Option<&[u8]>) -> Result<(), StoreError> {
        super::check_side_name(name)?;
        let mut sides = self.sides.lock().unwrap_or_else(|p| p.into_inner());
        match bytes {
            Some(bytes) => sides.insert(name.to_owned(), bytes.to_vec()),
            None => sides.remove(name),
        };
        Ok(())
    }

    fn len(&self, tree: Tree) -> Result<u64, StoreError> {
        Ok(self.lock()[tree.index()].len() as u64)
    }
}

struct MemTx<'a> {
    base: &'a Trees,
    /// Writes (`Some`) and removes (`None`) not yet applied.
    staged: RefCell<Staged>,
}

impl KvTx for MemTx<'_> {
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, TxError> {
        if let Some(staged) = self.staged.borrow().get(&(tree, key.to_vec())) {
            return Ok(staged.clone());
        }
        Ok(self.base[tree.index()].get(key).cloned())
    }

    fn insert(&self, tree: Tree, key: &[u8], value: &[u8]) -> Result<(), TxError> {
        self.staged.borrow_mut().insert((tree, key.to_vec()), Some(value.to_vec()));
        Ok(())
    }

    fn remove(&self, tree: Tree, key: &[u8]) -> Result<(), TxError> {
        self.staged.borrow_mut().insert((tree, key.to_vec()), None);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::store_conformance_tests!(|| (MemoryStore::new(), ()));
}
