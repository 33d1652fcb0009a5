//! Importing a data set file (the `ghl-sim --dump` format) without holding it in memory.
//!
//! A 100 k-lead data set is a 290 MB JSON object; read whole and decoded it took the daemon to
//! 705 MB. So the file is streamed: a serde visitor walks the top-level object and hands each
//! big array over in pages of [`PAGE`] records as it decodes them, and a page is applied before
//! the next is read. Two passes keep the rule that a lead is scored once, with its messages and
//! deals in place: the first applies everything but the contacts, the second only the
//! contacts (the OS keeps the file cached between them; it is not in the daemon's memory).
//!
//! The walk is pure: [`walk`] reads any `serde_json` deserializer and gives its pages to a
//! sink, so it is tested on a byte slice.

use std::fmt;
use std::io::BufReader;
use std::path::Path;

use leadline_shared::domain::{Contact, CustomFieldDef, Message, Note, Opportunity, Pipeline, Task, User};
use serde::de::{self, DeserializeOwned, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::{IngestError, PAGE, Page};

/// Which records a pass over the file applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    /// Everything but the contacts: the location, reference data, messages, deals, notes, tasks.
    Records,
    /// The contacts alone.
    Contacts,
}

/// What a pass hands over: the location record, or a page.
#[derive(Debug)]
pub enum Item {
    Location(serde_json::Value),
    Page(Page),
}

/// The reader's buffer: big enough that reading is a few syscalls per megabyte, small beside
/// one page of decoded records.
const READ_BUFFER: usize = 256 << 10;

/// One pass over a data set file.
pub fn read_file(
    path: &Path,
    pass: Pass,
    sink: &mut dyn FnMut(Item) -> Result<(), IngestError>,
) -> Result<(), IngestError> {
    let err = |message: String| IngestError::Snapshot { path: path.display().to_string(), message };
    let file = std::fs::File::open(path).map_err(|e| err(e.to_string()))?;
    let mut de = serde_json::Deserializer::from_reader(BufReader::with_capacity(READ_BUFFER, file));
    walk(&mut de, pass, sink).map_err(|e| match e {
        Walk::Sink(e) => e,
        Walk::Json(e) => err(format!("not a GHL data set: {e}")),
    })?;
    de.end().map_err(|e| err(format!("not a GHL data set: {e}")))
}

/// Why a walk stopped.
#[derive(Debug)]
pub enum Walk {
    /// The sink failed (the store); the walk stopped there.
    Sink(IngestError),
    /// The JSON is not a data set.
    Json(serde_json::Error),
}

/// Walks one data set object, giving the sink the items of `pass` in file order.
pub fn walk<'de, D>(
    de: D,
    pass: Pass,
    sink: &mut dyn FnMut(Item) -> Result<(), IngestError>,
) -> Result<(), Walk>
where
    D: de::Deserializer<'de, Error = serde_json::Error>,
{
    // serde's errors carry text only, so the sink's own error waits here while serde unwinds.
    let mut failed: Option<IngestError> = None;
    let result = de.deserialize_map(DataSet { pass, sink: &mut Sink { give: sink, failed: &mut failed } });
    match (failed, result) {
        (Some(e), _) => Err(Walk::Sink(e)),
        (None, Err(e)) => Err(Walk::Json(e)),
        (None, Ok(())) => Ok(()),
    }
}

struct Sink<'s> {
    give: &'s mut dyn FnMut(Item) -> Result<(), IngestError>,
    failed: &'s mut Option<IngestError>,
}

impl Sink<'_> {
    fn give<E: de::Error>(&mut self, item: Item) -> Result<(), E> {
        (self.give)(item).map_err(|e| {
            *self.failed = Some(e);
            E::custom("the import stopped")
        })
    }
}

struct DataSet<'a, 's> {
    pass: Pass,
    sink: &'a mut Sink<'s>,
}

impl<'de> Visitor<'de> for DataSet<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a GHL data set object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let records = self.pass == Pass::Records;
        while let Some(key) = map.next_key::<String>()? {
            let sink = &mut *self.sink;
            match key.as_str() {
                "location" if records => {
                    let location = map.next_value::<serde_json::Value>()?;
                    sink.give(Item::Location(location))?;
                }
                // Small: whole, as one page each.
                "users" if records => {
                    let users = map.next_value::<Vec<User>>()?;
                    sink.give(Item::Page(Page::Users(users)))?;
                }
                "customFields" if records => {
                    let defs = map.next_value::<Vec<CustomFieldDef>>()?;
                    sink.give(Item::Page(Page::CustomFields(defs)))?;
                }
                "pipelines" if records => {
                    let pipelines = map.next_value::<Vec<Pipeline>>()?;
                    sink.give(Item::Page(Page::Pipelines(pipelines)))?;
                }
                "messages" if records => map.next_value_seed(Pages::<Message>::new(sink, Page::Messages))?,
                "opportunities" if records => {
                    map.next_value_seed(Pages::<Opportunity>::new(sink, Page::Opportunities))?
                }
                "notes" if records => map.next_value_seed(Pages::<Note>::new(sink, Page::Notes))?,
                "tasks" if records => map.next_value_seed(Pages::<Task>::new(sink, Page::Tasks))?,
                "contacts" if !records => map.next_value_seed(Pages::<Contact>::new(sink, Page::Contacts))?,
                // The other pass's records, and what Leadline does not import (tags,
                // conversations): read past without keeping anything.
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// An array of `T`, handed to the sink in pages of [`PAGE`] as it is read.
struct Pages<'a, 's, T> {
    sink: &'a mut Sink<'s>,
    page: fn(Vec<T>) -> Page,
}

impl<'a, 's, T> Pages<'a, 's, T> {
    fn new(sink: &'a mut Sink<'s>, page: fn(Vec<T>) -> Page) -> Self {
        Pages { sink, page }
    }
}

impl<'de, T: DeserializeOwned> DeserializeSeed<'de> for Pages<'_, '_, T> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        // `any`, not `seq`: a `null` array (read as empty before) reaches `visit_unit`.
        de.deserialize_any(self)
    }
}

impl<'de, T: DeserializeOwned> Visitor<'de> for Pages<'_, '_, T> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of records")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut page = Vec::with_capacity(PAGE);
        while let Some(record) = seq.next_element::<T>()? {
            page.push(record);
            if page.len() == PAGE {
                let full = std::mem::replace(&mut page, Vec::with_capacity(PAGE));
                self.sink.give(Item::Page((self.page)(full)))?;
            }
        }
        if !page.is_empty() {
            self.sink.give(Item::Page((self.page)(page)))?;
        }
        Ok(())
    }

    /// `null` stands for an empty array, as `#[serde(default)]` read it before.
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pages(data: &serde_json::Value, pass: Pass) -> Result<Vec<String>, Walk> {
        let text = serde_json::to_vec(data).expect("json");
        let mut seen = Vec::new();
        let mut sink = |item: Item| {
            seen.push(match item {
                Item::Location(_) => "location".to_owned(),
                Item::Page(Page::Contacts(c)) => format!("contacts {}", c.len()),
                Item::Page(Page::Messages(m)) => format!("messages {}", m.len()),
                Item::Page(Page::Opportunities(o)) => format!("deals {}", o.len()),
                Item::Page(Page::Pipelines(p)) => format!("pipelines {}", p.len()),
                Item::Page(Page::Users(u)) => format!("users {}", u.len()),
                Item::Page(Page::CustomFields(f)) => format!("fields {}", f.len()),
                Item::Page(Page::Notes(n)) => format!("notes {}", n.len()),
                Item::Page(Page::Tasks(t)) => format!("tasks {}", t.len()),
                Item::Page(other) => panic!("a data set holds no such page: {other:?}"),
            });
            Ok(())
        };
        walk(&mut serde_json::Deserializer::from_slice(&text), pass, &mut sink)?;
        Ok(seen)
    }

    fn records(prefix: &str, n: usize, contact: bool) -> serde_json::Value {
        (0..n)
            .map(|i| {
                if contact {
                    json!({"id": format!("{prefix}{i}")})
                } else {
                    json!({"id": format!("{prefix}{i}"), "contactId": format!("c{i}")})
                }
            })
            .collect()
    }

    #[test]
    fn records_come_in_pages_and_contacts_in_their_own_pass() {
        let data = json!({
            "location": {"id": "L"},
            "users": [],
            "contacts": records("c", PAGE + 3, true),
            "tags": [{"name": "buyer"}],
            "messages": records("m", 2 * PAGE, false),
            "opportunities": records("o", 2, false),
            "unknown": {"deep": [1, 2, {"x": null}]},
            "notes": null,
        });
        let first = pages(&data, Pass::Records).expect("records");
        // In file order (`json!` writes keys sorted); `notes: null` is no page.
        assert_eq!(
            first,
            ["location", &format!("messages {PAGE}"), &format!("messages {PAGE}"), "deals 2", "users 0"]
        );
        let second = pages(&data, Pass::Contacts).expect("contacts");
        assert_eq!(second, [format!("contacts {PAGE}"), "contacts 3".to_owned()]);
    }

    #[test]
    fn a_sink_error_stops_the_walk_and_is_returned_as_itself() {
        let data = json!({"messages": records("m", 3 * PAGE, false)});
        let text = serde_json::to_vec(&data).expect("json");
        let mut given = 0;
        let mut sink = |_: Item| {
            given += 1;
            Err(IngestError::Panicked)
        };
        let r = walk(&mut serde_json::Deserializer::from_slice(&text), Pass::Records, &mut sink);
        assert!(matches!(r, Err(Walk::Sink(IngestError::Panicked))), "{r:?}");
        assert_eq!(given, 1, "no page is read after a failed one");
    }

    #[test]
    fn a_bad_record_is_a_json_error() {
        let data = json!({"contacts": [{"id": 5}]});
        assert!(matches!(pages(&data, Pass::Contacts), Err(Walk::Json(_))));
        assert!(matches!(pages(&json!([1, 2]), Pass::Records), Err(Walk::Json(_))));
    }
}
