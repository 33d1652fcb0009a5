//! Records GHL sent that could not be read, kept so `status` can say so.
//!
//! One record in an unexpected shape must never stall sync: the client decodes record by
//! record and hands the rest of the page on. Each skipped record is logged once (kind, id,
//! reason) and kept here, saved with the page that skipped it, until it reads fine again.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::ghl::Skipped;

/// Meta key of [`SkippedRecords`].
pub const META_SKIPPED: &str = "sync/skipped";

/// The most records kept; the oldest go first beyond it (the count in `status` says "at least").
const MAX_KEPT: usize = 1_000;

/// One record that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedRecord {
    pub kind: String,
    pub id: Option<String>,
    pub reason: String,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
}

/// The records skipped and not read since, by `kind:id`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SkippedRecords {
    pub records: BTreeMap<String, SkippedRecord>,
}

fn key(kind: &str, id: Option<&str>) -> String {
    format!("{kind}:{}", id.unwrap_or("(no id)"))
}

impl SkippedRecords {
    /// Notes the records a page skipped; logs the ones not seen before. True if anything changed.
    pub fn note(&mut self, skipped: &[Skipped], now: Timestamp) -> bool {
        for s in skipped {
            let k = key(s.kind, s.id.as_deref());
            match self.records.get_mut(&k) {
                Some(r) => {
                    r.last_seen = now;
                    r.reason.clone_from(&s.reason);
                }
                None => {
                    tracing::warn!(
                        kind = s.kind,
                        id = s.id.as_deref().unwrap_or("(none)"),
                        reason = %s.reason,
                        "a record from GHL could not be read; it is skipped and the rest of its page is used"
                    );
                    self.records.insert(
                        k,
                        SkippedRecord {
                            kind: s.kind.to_owned(),
                            id: s.id.clone(),
                            reason: s.reason.clone(),
                            first_seen: now,
                            last_seen: now,
                        },
                    );
                }
            }
        }
        while self.records.len() > MAX_KEPT {
            let oldest = self.records.iter().min_by_key(|(_, r)| r.last_seen).map(|(k, _)| k.clone());
            match oldest {
                Some(k) => self.records.remove(&k),
                None => break,
            };
        }
        !skipped.is_empty()
    }

    /// Forgets records of `kind` that were just read fine. True if anything changed.
    pub fn read_fine<'a>(&mut self, kind: &str, ids: impl Iterator<Item = &'a str>) -> bool {
        if self.records.is_empty() {
            return false;
        }
        let before = self.records.len();
        for id in ids {
            if self.records.remove(&key(kind, Some(id))).is_some() {
                tracing::info!(kind, id, "a record skipped before reads fine now");
            }
        }
        self.records.len() != before
    }

    /// How many records are skipped.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skipped(id: &str) -> Skipped {
        Skipped {
            kind: "contact",
            id: Some(id.into()),
            reason: "invalid type: string, expected a sequence".into(),
        }
    }

    #[test]
    fn a_skipped_record_is_kept_until_it_reads_fine() {
        let mut r = SkippedRecords::default();
        let t = Timestamp::UNIX_EPOCH;
        assert!(r.note(&[skipped("a"), skipped("b")], t));
        assert!(r.note(&[skipped("a")], t), "seen again");
        assert_eq!(r.len(), 2);
        assert!(!r.read_fine("message", ["a"].into_iter()), "another kind");
        assert!(r.read_fine("contact", ["a", "z"].into_iter()));
        assert_eq!(r.records.keys().collect::<Vec<_>>(), ["contact:b"]);
        assert!(!r.note(&[], t));
    }

    #[test]
    fn it_stays_bounded() {
        let mut r = SkippedRecords::default();
        for i in 0..(MAX_KEPT + 10) {
            let at = Timestamp::from_second(i as i64).expect("ts");
            r.note(&[skipped(&format!("c{i}"))], at);
        }
        assert_eq!(r.len(), MAX_KEPT);
        assert!(!r.records.contains_key("contact:c0"), "the oldest went first");
    }
}
