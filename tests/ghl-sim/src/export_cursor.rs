//! The messages export's cursor: a point-in-time handle that expires.
//!
//! GHL's export cursor (the spec's example decodes to `{"pitId", "lastSort", "lastId"}`) names
//! a point-in-time view of the index: the pages that follow it show the messages as they were
//! when the export started, and messages added since appear only in a new export. The view
//! lives for a while after each use and then expires; a cursor that names an expired or
//! unknown view is refused. A client that keeps a cursor across polls to pick up new messages
//! therefore gets nothing new, and then an error: it must start a new export over a date window.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};

use crate::store::Key;

/// The most views kept at once; the least recently used goes first beyond it.
const MAX_VIEWS: usize = 10_000;

/// A decoded cursor: the view and the last message returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// The point-in-time view.
    pub pit_id: String,
    /// `(dateAdded ms, id)` of the last message of the previous page.
    pub last: Key,
}

impl Cursor {
    /// base64 of `{"pitId", "lastSort": [ms], "lastId"}`, as GHL's example.
    pub fn encode(&self) -> String {
        B64.encode(
            json!({"pitId": self.pit_id, "lastSort": [self.last.0], "lastId": self.last.1}).to_string(),
        )
    }

    /// `None` when `s` is not a cursor this simulator made.
    pub fn decode(s: &str) -> Option<Cursor> {
        let raw = B64.decode(s.trim()).ok()?;
        let v: Value = serde_json::from_slice(&raw).ok()?;
        let pit_id = v.get("pitId")?.as_str()?.to_string();
        let ms = v.get("lastSort")?.get(0)?.as_i64()?;
        let id = v.get("lastId")?.as_str()?.to_string();
        Some(Cursor { pit_id, last: (ms, id) })
    }
}

/// A point-in-time view: the messages inserted up to `seq`.
#[derive(Debug, Clone, Copy)]
struct View {
    seq: u64,
    expires_ms: i64,
}

/// The open views.
#[derive(Debug)]
pub struct ExportViews {
    views: HashMap<String, View>,
    ttl_ms: i64,
    opened: u64,
}

impl ExportViews {
    /// Views that live `ttl_ms` after their last use.
    pub fn new(ttl_ms: u64) -> Self {
        Self { views: HashMap::new(), ttl_ms: ttl_ms.min(i64::MAX as u64) as i64, opened: 0 }
    }

    /// Opens a view of the messages inserted up to `seq`; returns its id.
    pub fn open(&mut self, seq: u64, now_ms: i64) -> String {
        self.views.retain(|_, v| v.expires_ms > now_ms);
        if self.views.len() >= MAX_VIEWS
            && let Some(oldest) = self.views.iter().min_by_key(|(_, v)| v.expires_ms).map(|(k, _)| k.clone())
        {
            self.views.remove(&oldest);
        }
        self.opened += 1;
        let id = format!("pit-{:08x}-{now_ms:x}", self.opened);
        self.views.insert(id.clone(), View { seq, expires_ms: now_ms.saturating_add(self.ttl_ms) });
        id
    }

    /// The view's message horizon, extending its life; `None` when it expired or never was.
    pub fn touch(&mut self, pit_id: &str, now_ms: i64) -> Option<u64> {
        let ttl = self.ttl_ms;
        match self.views.get_mut(pit_id) {
            Some(v) if v.expires_ms > now_ms => {
                v.expires_ms = now_ms.saturating_add(ttl);
                Some(v.seq)
            }
            Some(_) => {
                self.views.remove(pit_id);
                None
            }
            None => None,
        }
    }

    /// Views open now.
    pub fn len(&self) -> usize {
        self.views.len()
    }

    /// Whether no view is open.
    pub fn is_empty(&self) -> bool {
        self.views.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let c = Cursor { pit_id: "pit-1".into(), last: (1_700_000_000_000, "abc".into()) };
        assert_eq!(Cursor::decode(&c.encode()), Some(c));
        assert_eq!(Cursor::decode("not base64!"), None);
        // The cursor of the old simulator, with no view: refused.
        let old = B64.encode(r#"{"lastSort":[1],"lastId":"x"}"#);
        assert_eq!(Cursor::decode(&old), None);
    }

    #[test]
    fn a_view_lives_while_it_is_used_and_then_expires() {
        let mut views = ExportViews::new(1_000);
        let id = views.open(42, 0);
        assert_eq!(views.touch(&id, 900), Some(42));
        assert_eq!(views.touch(&id, 1_800), Some(42), "each use extends the view");
        assert_eq!(views.touch(&id, 2_801), None);
        assert_eq!(views.touch(&id, 2_802), None);
        assert_eq!(views.touch("pit-unknown", 0), None);
        assert!(views.is_empty());
    }
}
