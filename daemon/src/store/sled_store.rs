//! The sled backend.
//!
//! Every [`Tree`] lives in one sled tree, its keys prefixed by the tree's number (the trees
//! keyed by contact id are interleaved, see [`BY_CONTACT`]). sled makes a batch on one tree
//! atomic, crash recovery included, but across trees it offers only its optimistic
//! transactions, and their `insert` reads the old value of every key it writes: half of
//! ingest's store time went to those hidden reads. So the daemon's writes go through one
//! writer lock, stage in memory (reads see the staged writes), and land as one batch.
//! Readers never see half a batch: sled applies a batch under its write barrier.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::ops::{Bound, ControlFlow};
use std::path::Path;
use std::sync::Mutex;

use super::{BoxFuture, KvTx, Store, StoreError, Tree, TxBody, TxError, Visit};

/// The one sled tree that holds every [`Tree`].
const STORE_TREE: &str = "leadline";
/// Keys copied per batch when an older store is brought into [`STORE_TREE`].
const LAYOUT_CHUNK: usize = 2000;
/// What sled's cache holds in memory for each byte of its nominal `cache_capacity`. sled counts
/// a node's size on disk, but a paged-in node lives as a Rust structure with its keys and values
/// in separate allocations, about twice as big: heaptrack showed 120 MB of paged-in nodes under
/// a 64 MB capacity. So the configured figure, which users read as memory, is divided by this.
pub const CACHE_RESIDENT_PER_NOMINAL_BYTE: u64 = 2;

/// The store on disk.
pub struct SledStore {
    db: sled::Db,
    /// sled's directory; side files live in it ([`SledStore::side_path`]).
    dir: std::path::PathBuf,
    tree: sled::Tree,
    /// Serialises transactions, so that staged writes never conflict.
    writer: Mutex<()>,
}

impl SledStore {
    /// Opens (or creates) the store in `dir`, with a page cache taking about `cache_bytes` of
    /// memory (`[store] cache_capacity_mb`; see [`SledStore::sled_cache_capacity`]).
    ///
    /// sled's default cache is 1 GiB of on-disk pages, far too much for a laptop daemon, so
    /// the capacity is always explicit. sled also fsyncs in the background every 500 ms, but
    /// we never rely on that: every acknowledged write is followed by [`Store::flush`].
    pub fn open(dir: &Path, cache_bytes: u64) -> Result<SledStore, StoreError> {
        let open_err =
            |e: sled::Error| StoreError::Open { path: dir.display().to_string(), message: e.to_string() };
        let db = sled::Config::new()
            .path(dir)
            .cache_capacity(Self::sled_cache_capacity(cache_bytes))
            .mode(sled::Mode::LowSpace)
            .open()
            .map_err(open_err)?;
        let tree = db.open_tree(STORE_TREE).map_err(open_err)?;
        let store = SledStore { db, dir: dir.to_path_buf(), tree, writer: Mutex::new(()) };
        store.adopt_tree_per_entity_layout().map_err(|e| StoreError::Open {
            path: dir.display().to_string(),
            message: format!("moving an older store into the current layout failed: {e}"),
        })?;
        Ok(store)
    }

    /// Stores written before the one-tree layout kept one sled tree per [`Tree`]. Their keys
    /// are copied in, then the old tree is dropped; an interrupted run copies again.
    fn adopt_tree_per_entity_layout(&self) -> Result<(), StoreError> {
        let names = self.db.tree_names();
        for tree in Tree::ALL {
            if !names.iter().any(|n| n.as_ref() == tree.name().as_bytes()) {
                continue;
            }
            let old = self.db.open_tree(tree.name()).map_err(backend)?;
            let mut moved = 0usize;
            let mut batch = sled::Batch::default();
            let mut staged = 0;
            for item in old.iter() {
                let (k, v) = item.map_err(backend)?;
                batch.insert(prefixed(tree, &k), v);
                staged += 1;
                if staged == LAYOUT_CHUNK {
                    self.tree.apply_batch(std::mem::take(&mut batch)).map_err(backend)?;
                    moved += staged;
                    staged = 0;
                }
            }
            self.tree.apply_batch(batch).map_err(backend)?;
            moved += staged;
            self.db.flush().map_err(backend)?;
            self.db.drop_tree(tree.name()).map_err(backend)?;
            tracing::info!(tree = tree.name(), keys = moved, "moved a tree into the one-tree layout");
        }
        Ok(())
    }

    /// sled's nominal `cache_capacity` for a cache that should hold about `cache_bytes` in
    /// memory (for benchmarks that open sled directly with the same cache).
    pub fn sled_cache_capacity(cache_bytes: u64) -> u64 {
        cache_bytes / CACHE_RESIDENT_PER_NOMINAL_BYTE
    }

    /// Where a tree's key lives in the one sled tree (for benchmarks that write sled directly).
    pub fn key_on_disk(tree: Tree, key: &[u8]) -> Vec<u8> {
        prefixed(tree, key)
    }

    /// A side file's path: in sled's directory, named apart from sled's own files (`db`,
    /// `conf`, `snap.*`, `blobs/`), which sled may list and prune.
    fn side_path(&self, name: &str) -> std::path::PathBuf {
        self.dir.join(format!("leadline-{name}.side"))
    }

    fn lock_writer(&self) -> std::sync::MutexGuard<'_, ()> {
        // The guard protects no data, only the order of writers: a poisoned lock is still good.
        self.writer.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The trees keyed by contact id. Their records for one contact sit side by side on disk
/// (key: group byte, id, NUL, tree number), so a lead's record and its follow-up share a leaf
/// (schema 3's separate contact, score and row records shared one the same way).
const BY_CONTACT: [Tree; 4] = [Tree::Leads, Tree::RetiredScores, Tree::RetiredLeadRows, Tree::FollowUps];
/// The first byte of every [`BY_CONTACT`] key (tree numbers are far below it).
const BY_CONTACT_GROUP: u8 = 0xFF;

fn by_contact(tree: Tree) -> bool {
    BY_CONTACT.contains(&tree)
}

/// A tree's key in the one sled tree. Contact ids hold no NUL byte, so the NUL after the id
/// keeps each tree's keys in their own byte order.
fn prefixed(tree: Tree, key: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(key.len() + 3);
    if by_contact(tree) {
        out.push(BY_CONTACT_GROUP);
        out.extend_from_slice(key);
        out.push(0);
        out.push(tree.tag());
    } else {
        out.push(tree.tag());
        out.extend_from_slice(key);
    }
    out
}

/// The tree's own key of a key on disk, if it belongs to `tree`.
fn unprefixed(tree: Tree, key: &[u8]) -> Option<&[u8]> {
    if by_contact(tree) {
        match key {
            [BY_CONTACT_GROUP, id @ .., 0, t] if *t == tree.tag() => Some(id),
            _ => None,
        }
    } else {
        key.get(1..)
    }
}

/// The key range on disk of a scan: the group's for [`BY_CONTACT`] trees, whose entries
/// are then filtered by [`unprefixed`].
fn disk_scan_bounds(
    tree: Tree,
    prefix: &[u8],
    from: Option<&[u8]>,
    reverse: bool,
) -> (Bound<Vec<u8>>, Bound<Vec<u8>>) {
    if !by_contact(tree) {
        let from = from.map(|f| prefixed(tree, f));
        return scan_bounds(&prefixed(tree, prefix), from.as_deref(), reverse);
    }
    let group = |k: &[u8]| [&[BY_CONTACT_GROUP][..], k].concat();
    // A reverse scan from `from` must include `from`'s own entry, which sorts after `from`.
    let from = from.map(|f| if reverse { prefixed(tree, f) } else { group(f) });
    scan_bounds(&group(prefix), from.as_deref(), reverse)
}

fn io(e: std::io::Error) -> StoreError {
    StoreError::Backend(format!("a side file: {e}"))
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
    let (start, stop) = match (from, reverse) {
        (None, _) => (prefix_start, prefix_stop),
        (Some(from), false) => (Bound::Included(from.max(prefix).to_vec()), prefix_stop),
        (Some(from), true) => match &prefix_stop {
            Bound::Excluded(end) if from >= end.as_slice() => (prefix_start, prefix_stop),
            _ => (prefix_start, Bound::Included(from.to_vec())),
        },
    };
    // A starting point outside the prefix leaves nothing to visit; ordered maps panic on a
    // range whose start is past its end, so say "empty" in a form they accept.
    let inverted = match (&start, &stop) {
        (Bound::Included(lo), Bound::Excluded(hi)) => lo >= hi,
        (Bound::Included(lo), Bound::Included(hi)) => lo > hi,
        _ => false,
    };
    match start {
        Bound::Included(lo) if inverted => (Bound::Included(lo.clone()), Bound::Excluded(lo)),
        start => (start, stop),
    }
}

impl Store for SledStore {
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.tree.get(prefixed(tree, key)).map_err(backend)?.map(|v| v.to_vec()))
    }

    fn scan(
        &self,
        tree: Tree,
        prefix: &[u8],
        from: Option<&[u8]>,
        reverse: bool,
        visit: Visit<'_>,
    ) -> Result<(), StoreError> {
        let range = self.tree.range::<Vec<u8>, _>(disk_scan_bounds(tree, prefix, from, reverse));
        let iter: Box<dyn Iterator<Item = sled::Result<(sled::IVec, sled::IVec)>>> =
            if reverse { Box::new(range.rev()) } else { Box::new(range) };
        for item in iter {
            let (k, v) = item.map_err(backend)?;
            let Some(key) = unprefixed(tree, &k) else { continue };
            if let ControlFlow::Break(()) = visit(key, &v) {
                break;
            }
        }
        Ok(())
    }

    fn transact(&self, body: TxBody<'_>) -> Result<(), StoreError> {
        let _writer = self.lock_writer();
        loop {
            let tx = StagedTx { tree: &self.tree, staged: RefCell::new(BTreeMap::new()) };
            match body(&tx) {
                Ok(()) => {
                    let mut batch = sled::Batch::default();
                    for (key, value) in tx.staged.into_inner() {
                        match value {
                            Some(value) => batch.insert(key, value),
                            None => batch.remove(key),
                        }
                    }
                    return self.tree.apply_batch(batch).map_err(backend);
                }
                // Nothing else writes while the lock is held, so a conflict can only come
                // from the body itself: run it again, as the contract allows.
                Err(TxError::Conflict) => continue,
                Err(TxError::Abort(e)) => return Err(e),
            }
        }
    }

    fn flush(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            self.db.flush_async().await.map_err(backend)?;
            Ok(())
        })
    }

    fn size_on_disk(&self) -> Result<u64, StoreError> {
        let mut bytes = self.db.size_on_disk().map_err(backend)?;
        for entry in std::fs::read_dir(&self.dir).map_err(io)? {
            let entry = entry.map_err(io)?;
            if entry.file_name().to_string_lossy().ends_with(".side") {
                bytes += entry.metadata().map_err(io)?.len();
            }
        }
        Ok(bytes)
    }

    fn read_side(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        super::check_side_name(name)?;
        match std::fs::read(self.side_path(name)) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(e)),
        }
    }

    fn write_side(&self, name: &str, bytes: Option<&[u8]>) -> Result<(), StoreError> {
        use std::io::Write;
        super::check_side_name(name)?;
        let path = self.side_path(name);
        match bytes {
            Some(bytes) => {
                use std::os::unix::fs::OpenOptionsExt;
                // Written aside, made durable, then renamed over: a crash leaves one or the other.
                // Private whatever the umask: a snapshot holds the leads' names, emails and phones.
                let fresh = path.with_extension("side-new");
                // A leftover of a crash keeps its mode through a truncate: start afresh.
                let _ = std::fs::remove_file(&fresh);
                let mut file = std::fs::OpenOptions::new()
                    .write(true)
                    .create(true)
                    .truncate(true)
                    .mode(0o600)
                    .open(&fresh)
                    .map_err(io)?;
                file.write_all(bytes).map_err(io)?;
                file.sync_all().map_err(io)?;
                std::fs::rename(&fresh, &path).map_err(io)?;
            }
            None => match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
                Err(e) => return Err(io(e)),
            },
        }
        // The rename or removal itself made durable.
        std::fs::File::open(&self.dir).and_then(|d| d.sync_all()).map_err(io)
    }

    fn len(&self, tree: Tree) -> Result<u64, StoreError> {
        let mut n = 0;
        self.scan(tree, b"", None, false, &mut |_, _| {
            n += 1;
            ControlFlow::Continue(())
        })?;
        Ok(n)
    }
}

/// A transaction's writes, staged until the body returns.
struct StagedTx<'a> {
    tree: &'a sled::Tree,
    staged: RefCell<BTreeMap<Vec<u8>, Option<Vec<u8>>>>,
}

impl KvTx for StagedTx<'_> {
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, TxError> {
        let key = prefixed(tree, key);
        if let Some(staged) = self.staged.borrow().get(&key) {
            return Ok(staged.clone());
        }
        Ok(self.tree.get(key).map_err(backend)?.map(|v| v.to_vec()))
    }

    fn insert(&self, tree: Tree, key: &[u8], value: &[u8]) -> Result<(), TxError> {
        self.staged.borrow_mut().insert(prefixed(tree, key), Some(value.to_vec()));
        Ok(())
    }

    fn remove(&self, tree: Tree, key: &[u8]) -> Result<(), TxError> {
        self.staged.borrow_mut().insert(prefixed(tree, key), None);
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

    /// Opens the store at `path` again. sled releases its file lock from a background thread a
    /// moment after the last handle is dropped, so a reopen in the same process may have to
    /// wait for it.
    fn reopen(path: &Path) -> SledStore {
        for _ in 0..200 {
            if let Ok(store) = SledStore::open(path, 8 << 20) {
                return store;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        SledStore::open(path, 8 << 20).expect("open")
    }

    /// A side file is private whatever the umask, survives a reopen, counts in the store's
    /// size, and a leftover of a write cut short is neither read nor in the way.
    #[test]
    fn side_files_are_private_files_beside_sleds_own() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("store");
        let store = SledStore::open(&path, 8 << 20).expect("open");
        let before = store.size_on_disk().expect("size");
        std::fs::write(path.join("leadline-derived-snapshot.side-new"), b"cut short").expect("leftover");
        std::fs::set_permissions(
            path.join("leadline-derived-snapshot.side-new"),
            std::fs::Permissions::from_mode(0o644),
        )
        .expect("mode");
        assert_eq!(store.read_side("derived-snapshot").expect("read"), None);
        store.write_side("derived-snapshot", Some(&[1u8; 4096])).expect("write");
        let file = path.join("leadline-derived-snapshot.side");
        let mode = std::fs::metadata(&file).expect("file").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(!path.join("leadline-derived-snapshot.side-new").exists());
        assert!(store.size_on_disk().expect("size") >= before + 4096);
        drop(store);
        let reopened = reopen(&path);
        assert_eq!(reopened.read_side("derived-snapshot").expect("read"), Some(vec![1u8; 4096]));
    }

    #[test]
    fn a_store_with_a_tree_per_entity_is_adopted() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("store");
        {
            let db = sled::open(&path).expect("old layout");
            let contacts = db.open_tree(Tree::Leads.name()).expect("tree");
            for i in 0..(LAYOUT_CHUNK + 10) {
                contacts.insert(format!("c{i:05}"), b"x".to_vec()).expect("insert");
            }
            db.open_tree(Tree::PendingOps.name())
                .expect("tree")
                .insert(1u64.to_be_bytes(), b"op".to_vec())
                .expect("op");
            db.flush().expect("flush");
        }
        let store = reopen(&path);
        assert_eq!(store.get(Tree::Leads, b"c00007").expect("get"), Some(b"x".to_vec()));
        assert_eq!(store.len(Tree::Leads).expect("len"), (LAYOUT_CHUNK + 10) as u64);
        assert_eq!(store.get(Tree::PendingOps, &1u64.to_be_bytes()).expect("get"), Some(b"op".to_vec()));
        assert!(!store.db.tree_names().iter().any(|n| n.as_ref() == Tree::Leads.name().as_bytes()));
        drop(store);
        let again = reopen(&path);
        assert_eq!(again.len(Tree::Leads).expect("len"), (LAYOUT_CHUNK + 10) as u64);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]

        /// The interleaved contact-keyed trees scan exactly like separate trees.
        #[test]
        fn interleaved_trees_scan_like_separate_ones(
            keys in proptest::collection::vec(("[a-c]{0,3}", 0usize..3), 0..40),
            prefix in "[a-c]{0,2}",
            from in proptest::option::of("[a-c]{0,3}"),
            reverse in proptest::bool::ANY,
        ) {
            let dir = tempfile::tempdir().expect("tempdir");
            let sled = SledStore::open(&dir.path().join("s"), 1 << 20).expect("open");
            let memory = crate::store::MemoryStore::new();
            let trees = [Tree::Leads, Tree::RetiredScores, Tree::FollowUps];
            for store in [&sled as &dyn Store, &memory] {
                store
                    .transact(&|tx| {
                        for (k, t) in &keys {
                            tx.insert(trees[*t], k.as_bytes(), k.as_bytes())?;
                        }
                        Ok(())
                    })
                    .expect("insert");
            }
            for tree in trees {
                let scan = |store: &dyn Store| {
                    let mut out = Vec::new();
                    store
                        .scan(tree, prefix.as_bytes(), from.as_deref().map(str::as_bytes), reverse, &mut |k, v| {
                            out.push((k.to_vec(), v.to_vec()));
                            ControlFlow::Continue(())
                        })
                        .expect("scan");
                    out
                };
                proptest::prop_assert_eq!(scan(&sled), scan(&memory));
                proptest::prop_assert_eq!(sled.len(tree).expect("len"), memory.len(tree).expect("len"));
            }
        }
    }
}
