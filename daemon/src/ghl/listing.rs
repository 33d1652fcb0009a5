//! Reading a listing response (contacts, deals, the message export) record by record.
//!
//! A page of 500 contacts is about 1.5 MB of JSON. Parsed whole into a `serde_json::Value`
//! tree, then copied out of it as a `Vec<Value>`, it took about ten times that while several
//! chains decoded pages at once during a sync. Here the top-level object is walked by a serde
//! visitor: each record is parsed on its own into a small `Value` (so that one record in a
//! shape we cannot read is skipped with its id, not the page) and moved into its type, and the
//! other top-level fields (cursors, totals, `meta`) are kept as they are. Pure: tested on bytes.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeOwned, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::types::Skipped;

/// A listing page, decoded.
#[derive(Debug)]
pub struct Listing<T> {
    /// The records that could be read, in order.
    pub records: Vec<T>,
    /// The records that could not.
    pub skipped: Vec<Skipped>,
    /// Records listed (read or skipped).
    pub listed: usize,
    /// The last record's `searchAfter` (the contact search's cursor), if it had one.
    pub last_search_after: Option<Value>,
    /// The other top-level fields.
    pub rest: Map<String, Value>,
}

/// Why a listing could not be read.
#[derive(Debug)]
pub enum ListingError {
    /// The body is not JSON (truncated, malformed): worth asking again.
    Json(serde_json::Error),
    /// JSON, but not a listing (no `key`, or not an array there).
    Shape(String),
}

/// Decodes a listing whose records are the array at `key`; `kind` names them in
/// [`Skipped`].
pub fn decode<T: DeserializeOwned>(
    bytes: &[u8],
    key: &str,
    kind: &'static str,
) -> Result<Listing<T>, ListingError> {
    let mut listing = Listing {
        records: Vec::new(),
        skipped: Vec::new(),
        listed: 0,
        last_search_after: None,
        rest: Map::new(),
    };
    let mut found = false;
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let walked = de::Deserializer::deserialize_map(
        &mut de,
        Top { key, kind, listing: &mut listing, found: &mut found, _t: PhantomData },
    )
    .and_then(|()| de.end());
    match walked {
        Ok(()) if found => Ok(listing),
        Ok(()) => Err(ListingError::Shape(format!("the response has no `{key}`"))),
        Err(e) if e.classify() == serde_json::error::Category::Data => {
            Err(ListingError::Shape(e.to_string()))
        }
        Err(e) => Err(ListingError::Json(e)),
    }
}

struct Top<'a, T> {
    key: &'a str,
    kind: &'static str,
    listing: &'a mut Listing<T>,
    found: &'a mut bool,
    _t: PhantomData<T>,
}

impl<'de, T: DeserializeOwned> Visitor<'de> for Top<'_, T> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            if key == self.key {
                map.next_value_seed(Records { kind: self.kind, listing: &mut *self.listing })?;
                *self.found = true;
            } else {
                let value = map.next_value::<Value>()?;
                self.listing.rest.insert(key, value);
            }
        }
        Ok(())
    }
}

struct Records<'a, T> {
    kind: &'static str,
    listing: &'a mut Listing<T>,
}

impl<'de, T: DeserializeOwned> DeserializeSeed<'de> for Records<'_, T> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_seq(self)
    }
}

impl<'de, T: DeserializeOwned> Visitor<'de> for Records<'_, T> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of records")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let l = self.listing;
        if let Some(n) = seq.size_hint() {
            l.records.reserve(n);
        }
        while let Some(item) = seq.next_element::<Value>()? {
            l.listed += 1;
            l.last_search_after = item.get("searchAfter").cloned();
            let id = item.get("id").and_then(Value::as_str).map(str::to_owned);
            // By value: the record's strings move into it instead of being copied.
            match serde_json::from_value::<T>(item) {
                Ok(record) => l.records.push(record),
                Err(e) => l.skipped.push(Skipped { kind: self.kind, id, reason: e.to_string() }),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use leadline_shared::domain::Contact;

    #[test]
    fn records_are_read_one_by_one_and_the_rest_is_kept() {
        let body = br#"{"total": 3, "contacts": [
            {"id": "a", "searchAfter": [1, "a"]},
            {"id": 7},
            {"id": "c", "firstName": "Cy", "searchAfter": [3, "c"]}
        ], "meta": {"next": null}}"#;
        let l = decode::<Contact>(body, "contacts", "contact").expect("listing");
        assert_eq!(l.records.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), ["a", "c"]);
        assert_eq!(l.records[1].first_name.as_deref(), Some("Cy"));
        assert_eq!(l.listed, 3);
        assert_eq!(l.skipped.len(), 1);
        assert_eq!((l.skipped[0].kind, l.skipped[0].id.as_deref()), ("contact", None));
        assert_eq!(l.last_search_after, Some(serde_json::json!([3, "c"])));
        assert_eq!(l.rest.get("total"), Some(&serde_json::json!(3)));
        assert!(l.rest.contains_key("meta"));
    }

    #[test]
    fn a_skipped_record_keeps_its_id() {
        let l = decode::<Contact>(br#"{"contacts": [{"id": "x", "tags": 5}]}"#, "contacts", "contact")
            .expect("listing");
        assert_eq!(l.skipped.first().and_then(|s| s.id.as_deref()), Some("x"));
    }

    #[test]
    fn broken_bodies_and_wrong_shapes_are_told_apart() {
        let truncated = decode::<Contact>(br#"{"contacts": [{"id": "a"}"#, "contacts", "contact");
        assert!(matches!(truncated, Err(ListingError::Json(_))), "{truncated:?}");
        let missing = decode::<Contact>(br#"{"total": 0}"#, "contacts", "contact");
        assert!(matches!(missing, Err(ListingError::Shape(m)) if m.contains("no `contacts`")));
        let not_array = decode::<Contact>(br#"{"contacts": null}"#, "contacts", "contact");
        assert!(matches!(not_array, Err(ListingError::Shape(_))), "{not_array:?}");
        let not_object = decode::<Contact>(b"[1]", "contacts", "contact");
        assert!(matches!(not_object, Err(ListingError::Shape(_))), "{not_object:?}");
        let trailing = decode::<Contact>(br#"{"contacts": []} x"#, "contacts", "contact");
        assert!(matches!(trailing, Err(ListingError::Json(_))), "{trailing:?}");
    }
}
