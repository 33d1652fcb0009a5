//! Where sync stands, saved in the store's meta tree in the same transaction as each page it
//! applied: a crash resumes from the last durable page, never past it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::windows::Window;
use crate::ghl::ExportStream;

/// Meta key of [`Cursors`].
pub const META_CURSORS: &str = "sync/cursors";

/// The sync's position.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Cursors {
    /// Which phase an unfinished full sync is in.
    pub phase: Phase,
    /// The contact listing position of an unfinished full sync.
    pub contacts_after: Option<Vec<serde_json::Value>>,
    /// The deal listing position of an unfinished full sync.
    pub opportunities_after: Option<(String, String)>,
    /// The deal listing of the current full sync is complete.
    pub opportunities_done: bool,
    /// The export windows of an unfinished full sync.
    pub windows: Vec<Window>,
    /// Pages per millisecond the plan expects where a window has shown nothing yet (for
    /// deciding which window to split).
    pub export_density: f64,
    /// Where each stream's watermark goes once the full sync's windows are read: the newest
    /// `createdAt` when the sync planned them.
    pub planned_through: BTreeMap<ExportStream, i64>,
    /// The newest contact `dateUpdated` read (epoch ms): polls read from here, less the overlap.
    #[serde(alias = "contacts_updated_after")]
    pub contacts_updated_since: Option<i64>,
    /// The newest message `createdAt` read per export stream (epoch ms): polls read from here,
    /// less the overlap. A stream with none is read from its beginning (a store written before
    /// windows existed has none, and reading it again recovers what it missed).
    pub exported_through: BTreeMap<ExportStream, i64>,
}

/// The phases of a full sync, in order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    #[default]
    Start,
    /// Deals and the message export, read at once (before contacts, so each lead is scored
    /// once, when its contact arrives). Older stores name it by the three phases it replaced.
    #[serde(alias = "opportunities", alias = "messages", alias = "emails")]
    Records,
    Contacts,
    Done,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_of_an_older_store_are_read() {
        let old = serde_json::json!({
            "contacts_after": null, "opportunities_after": ["1", "o"], "messages_cursor": "abc",
            "email_cursor": null, "phase": "emails", "contacts_updated_after": 1_700_000_000_000_i64,
        });
        let c: Cursors = serde_json::from_value(old).expect("read");
        assert_eq!(c.phase, Phase::Records);
        assert_eq!(c.contacts_updated_since, Some(1_700_000_000_000));
        assert!(c.exported_through.is_empty(), "the old cursor is dropped: the export is read again");
        let done: Cursors = serde_json::from_value(serde_json::json!({"phase": "done"})).expect("read");
        assert_eq!(done.phase, Phase::Done);
    }

    #[test]
    fn cursors_round_trip() {
        let mut c = Cursors { phase: Phase::Contacts, ..Cursors::default() };
        c.exported_through.insert(ExportStream::Emails, 5);
        c.windows = super::super::windows::plan(ExportStream::Messages, 0, 99, 2, 0);
        let back: Cursors = serde_json::from_value(serde_json::to_value(&c).expect("json")).expect("read");
        assert_eq!(back, c);
    }
}
