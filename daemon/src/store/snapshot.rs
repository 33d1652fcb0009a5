//! The in-memory structures derived from the records (the analytics aggregates and the search
//! index), saved when the daemon stops and read back when it starts.
//!
//! Building them means one walk over every lead record, and sled keeps much of what a walk
//! reads: a daemon restarted on a 100 k-lead store went from 25 to 250 MB building them, and
//! stayed at 224 MB, where the same daemon after its sync holds 120. Read from a snapshot, they
//! cost their own size.
//!
//! The snapshot is a side file of the store, not a key: sled caches a value with its leaf, and
//! a daemon that read its 15 MB snapshot from among the meta keys kept about 59 MB of cache for
//! it as long as it ran (every commit reads a meta key), 174–181 MB idle after a restart.
//!
//! A snapshot is used only if nothing was written since it was taken: every commit moves the
//! store's generation ([`META_GENERATION`]), and a snapshot records the generation it was
//! taken at. It also records the schema and the daemon's version and the snapshot's format,
//! so that a daemon whose rules derive other figures builds them afresh.

use serde::{Deserialize, Serialize};

use crate::engine::analytics::Aggregates;
use crate::engine::search::{SearchEntry, SearchIndex};

/// Meta key of the store's generation: a counter every commit moves.
pub(super) const META_GENERATION: &[u8] = b"seq/generation";
/// The side file that holds the snapshot ([`super::Store::write_side`]): kept beside the
/// trees, so that sled never caches it (schema 11).
pub(super) const SNAPSHOT_SIDE: &str = "derived-snapshot";
/// Meta key of the snapshot until schema 11, which drops it for [`SNAPSHOT_SIDE`].
pub(super) const RETIRED_META_SNAPSHOT: &[u8] = b"derived/snapshot";
/// Bumped whenever what a snapshot holds changes meaning.
const FORMAT: u32 = 1;

/// The derived structures at one generation of the store.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Snapshot {
    format: u32,
    version: String,
    schema: u32,
    pub generation: u64,
    pub aggregates: Aggregates,
    /// Saved as its leads' entries, and read back into an index one entry at a time, so that
    /// the entries are never all in memory beside it.
    #[serde(serialize_with = "entries", deserialize_with = "index_of_entries")]
    pub search: SearchIndex,
}

fn entries<S: serde::Serializer>(index: &SearchIndex, s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(index.entries())
}

fn index_of_entries<'de, D: serde::Deserializer<'de>>(d: D) -> Result<SearchIndex, D::Error> {
    struct Entries;
    impl<'de> serde::de::Visitor<'de> for Entries {
        type Value = SearchIndex;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a list of search entries")
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<SearchIndex, A::Error> {
            let mut index = SearchIndex::new();
            while let Some(entry) = seq.next_element::<SearchEntry>()? {
                index.apply(None, Some(&entry));
            }
            index.shrink_to_fit();
            Ok(index)
        }
    }
    d.deserialize_seq(Entries)
}

/// Why a snapshot was not used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Stale {
    Unreadable(String),
    OtherFormat,
    OtherVersion(String),
    OtherSchema(u32),
    /// Written to since (the snapshot's generation, the store's).
    WrittenSince(u64, u64),
}

impl std::fmt::Display for Stale {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stale::Unreadable(e) => write!(f, "it could not be read ({e})"),
            Stale::OtherFormat => write!(f, "it is in another format"),
            Stale::OtherVersion(v) => write!(f, "it was taken by leadlined {v}"),
            Stale::OtherSchema(s) => write!(f, "it was taken at schema {s}"),
            Stale::WrittenSince(at, now) => {
                write!(f, "the store was written to since (generation {at}, now {now})")
            }
        }
    }
}

impl Snapshot {
    pub fn new(schema: u32, generation: u64, aggregates: Aggregates, search: SearchIndex) -> Snapshot {
        Snapshot {
            format: FORMAT,
            version: env!("CARGO_PKG_VERSION").to_owned(),
            schema,
            generation,
            aggregates,
            search,
        }
    }

    pub fn encode(&self) -> Result<Vec<u8>, serde_json::Error> {
        serde_json::to_vec(self)
    }

    /// The snapshot in `bytes`, if it holds the store as it is now (`schema`, `generation`).
    pub fn read(bytes: &[u8], schema: u32, generation: u64) -> Result<Snapshot, Stale> {
        let snap: Snapshot = serde_json::from_slice(bytes).map_err(|e| Stale::Unreadable(e.to_string()))?;
        if snap.format != FORMAT {
            return Err(Stale::OtherFormat);
        }
        if snap.version != env!("CARGO_PKG_VERSION") {
            return Err(Stale::OtherVersion(snap.version));
        }
        if snap.schema != schema {
            return Err(Stale::OtherSchema(snap.schema));
        }
        if snap.generation != generation {
            return Err(Stale::WrittenSince(snap.generation, generation));
        }
        Ok(snap)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn only_a_snapshot_of_the_store_as_it_is_is_read() {
        let entry = SearchEntry { id: "c1".into(), score: 40, terms: vec!["maria".into()] };
        let index = SearchIndex::from_entries([&entry]);
        let bytes = Snapshot::new(7, 12, Aggregates::default(), index).encode().unwrap();
        let snap = Snapshot::read(&bytes, 7, 12).unwrap();
        assert_eq!(snap.search.contents(), SearchIndex::from_entries([&entry]).contents());
        assert_eq!(snap.aggregates, Aggregates::default());
        assert_eq!(Snapshot::read(&bytes, 7, 13).unwrap_err(), Stale::WrittenSince(12, 13));
        assert_eq!(Snapshot::read(&bytes, 8, 12).unwrap_err(), Stale::OtherSchema(7));
        assert!(matches!(Snapshot::read(b"{", 7, 12), Err(Stale::Unreadable(_))));
    }
}
