//! The simulator's in-memory database, with the sorted indexes the paginated endpoints need.
//!
//! Contacts are indexed by `(dateAdded ms, id)` and `(dateUpdated ms, id)`, opportunities by
//! `(createdAt ms, id)` and messages by `(dateAdded ms, id)` location-wide and per conversation,
//! so every page is a range scan from its cursor (O(log N + page)), never a sort.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::model::{
    Contact, Conversation, CustomFieldDef, Location, Message, Note, Opportunity, OpportunityContact,
    Pipeline, Tag, Task, User,
};
use crate::search_index::SearchIndex;
use crate::seed::{self, Dataset};
use crate::time::{iso_from_ms, ms_from_iso};

/// A sort key: (epoch ms, id). Ties on the timestamp are broken by id, so order is total.
pub type Key = (i64, String);

/// One message the client asked GHL to send (`POST /conversations/messages`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SentRecord {
    /// The recipient.
    pub contact_id: String,
    /// `sms`, `email`, `whatsapp`, ...
    pub channel: String,
    /// The text (or the email's HTML/text body).
    pub body: String,
    /// When the simulator received the send request, RFC 3339 UTC.
    pub at: String,
    /// The created message id.
    pub message_id: String,
    /// The conversation it went to.
    pub conversation_id: String,
    /// Email subject, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
}

/// Object counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Contacts.
    pub contacts: usize,
    /// Opportunities.
    pub opportunities: usize,
    /// Messages (all channels).
    pub messages: usize,
    /// Conversations.
    pub conversations: usize,
    /// Notes.
    pub notes: usize,
    /// Tasks.
    pub tasks: usize,
}

/// The kinds of record a test can give an odd shape (see [`Store::set_odd`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RecordKind {
    /// A contact, wherever it is served (search, `GET /contacts/{id}`).
    Contact,
    /// An opportunity (search, `GET /opportunities/{id}`).
    Opportunity,
    /// A message (export, conversation list, `GET /conversations/messages/{id}`).
    Message,
}

/// Which contact timestamp an index is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactSort {
    /// `dateAdded`.
    DateAdded,
    /// `dateUpdated`.
    DateUpdated,
}

/// A contact added to a workflow (`POST /contacts/{contactId}/workflow/{workflowId}`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Enrollment {
    pub contact_id: String,
    pub workflow_id: String,
    /// `eventStartTime` as sent, if any.
    pub event_start_time: Option<String>,
    pub at_ms: i64,
}

/// The database.
#[derive(Debug)]
pub struct Store {
    /// The location.
    pub location: Location,
    /// Users.
    pub users: Vec<User>,
    /// Custom field definitions.
    pub custom_fields: Vec<CustomFieldDef>,
    /// Location tags.
    pub tags: Vec<Tag>,
    /// Pipelines.
    pub pipelines: Vec<Pipeline>,
    /// Shared with the search index, which may still show an older version (see
    /// [`SearchIndex`]); a write clones the contact only while the index holds the old one.
    contacts: HashMap<String, Arc<Contact>>,
    by_added: BTreeSet<Key>,
    search: Mutex<SearchIndex>,
    opportunities: HashMap<String, Opportunity>,
    opp_by_created: BTreeSet<Key>,
    conversations: HashMap<String, Conversation>,
    conv_by_contact: HashMap<String, String>,
    messages: HashMap<String, Message>,
    msg_by_added: BTreeSet<Key>,
    msg_by_conv: HashMap<String, BTreeSet<Key>>,
    /// Each message's insertion number: an export cursor sees only messages older than itself.
    msg_seq: HashMap<String, u64>,
    next_msg_seq: u64,
    channel_counts: HashMap<&'static str, usize>,
    notes: HashMap<String, Vec<Note>>,
    tasks: HashMap<String, Vec<Task>>,
    /// Every message sent through the API, oldest first.
    pub sent: Vec<SentRecord>,
    /// Every contact added to a workflow through the API, oldest first.
    pub enrollments: Vec<Enrollment>,
    /// Fields served in place of a record's own (see [`Store::set_odd`]).
    odd: HashMap<(RecordKind, String), serde_json::Map<String, serde_json::Value>>,
    /// Ids for objects created at run time.
    pub rng: ChaCha8Rng,
}

fn key_of(ms_iso: &str, id: &str) -> Key {
    (ms_from_iso(ms_iso).unwrap_or(0), id.to_string())
}

impl Store {
    /// Loads a data set and builds the indexes. Contact writes reach the search index after up
    /// to `search_lag_ms` (see [`SearchIndex`]); the seeded contacts are indexed at once.
    pub fn from_dataset(ds: Dataset, seed: u64, search_lag_ms: u64) -> Self {
        let mut s = Self {
            location: ds.location,
            users: ds.users,
            custom_fields: ds.custom_fields,
            tags: ds.tags,
            pipelines: ds.pipelines,
            contacts: HashMap::with_capacity(ds.contacts.len()),
            by_added: BTreeSet::new(),
            search: Mutex::new(SearchIndex::new(search_lag_ms, seed::stream_rng(seed, 11))),
            opportunities: HashMap::with_capacity(ds.opportunities.len()),
            opp_by_created: BTreeSet::new(),
            conversations: HashMap::with_capacity(ds.conversations.len()),
            conv_by_contact: HashMap::with_capacity(ds.conversations.len()),
            messages: HashMap::with_capacity(ds.messages.len()),
            msg_by_added: BTreeSet::new(),
            msg_by_conv: HashMap::with_capacity(ds.conversations.len()),
            msg_seq: HashMap::with_capacity(ds.messages.len()),
            next_msg_seq: 0,
            channel_counts: HashMap::new(),
            notes: HashMap::new(),
            tasks: HashMap::new(),
            sent: Vec::new(),
            enrollments: Vec::new(),
            odd: HashMap::new(),
            rng: seed::stream_rng(seed, 10),
        };
        for c in ds.contacts {
            let c = Arc::new(c);
            s.by_added.insert(key_of(&c.date_added, &c.id));
            s.search_index().load(c.clone());
            s.contacts.insert(c.id.clone(), c);
        }
        for o in ds.opportunities {
            s.insert_opportunity(o);
        }
        for c in ds.conversations {
            s.conv_by_contact.insert(c.contact_id.clone(), c.id.clone());
            s.conversations.insert(c.id.clone(), c);
        }
        for m in ds.messages {
            s.index_message(m);
        }
        for n in ds.notes {
            s.notes.entry(n.contact_id.clone()).or_default().push(n);
        }
        for t in ds.tasks {
            s.tasks.entry(t.contact_id.clone()).or_default().push(t);
        }
        s
    }

    /// The whole store as a data set (contacts, opportunities and messages oldest first).
    pub fn dataset(&self) -> Dataset {
        let mut notes: Vec<Note> = self.notes.values().flatten().cloned().collect();
        notes.sort_by(|a, b| (&a.date_added, &a.id).cmp(&(&b.date_added, &b.id)));
        let mut tasks: Vec<Task> = self.tasks.values().flatten().cloned().collect();
        tasks.sort_by(|a, b| (&a.due_date, &a.id).cmp(&(&b.due_date, &b.id)));
        let mut conversations: Vec<Conversation> = self.conversations.values().cloned().collect();
        conversations.sort_by(|a, b| (a.date_added, &a.id).cmp(&(b.date_added, &b.id)));
        Dataset {
            location: self.location.clone(),
            users: self.users.clone(),
            custom_fields: self.custom_fields.clone(),
            tags: self.tags.clone(),
            pipelines: self.pipelines.clone(),
            contacts: self.contacts_in_order().cloned().collect(),
            opportunities: self.opportunities_in_order().cloned().collect(),
            conversations,
            messages: self.messages_in_order().cloned().collect(),
            notes,
            tasks,
        }
    }

    /// Object counts.
    pub fn counts(&self) -> Counts {
        Counts {
            contacts: self.contacts.len(),
            opportunities: self.opportunities.len(),
            messages: self.messages.len(),
            conversations: self.conversations.len(),
            notes: self.notes.values().map(Vec::len).sum(),
            tasks: self.tasks.values().map(Vec::len).sum(),
        }
    }

    /// Serves `kind` record `id` with these fields in place of its own (`null` removes one),
    /// wherever it is served: the odd shapes a real location holds now and then (a number where
    /// a string belongs, a list as a string), which a client must skip without stalling.
    /// An empty map restores the record.
    pub fn set_odd(
        &mut self,
        kind: RecordKind,
        id: &str,
        fields: serde_json::Map<String, serde_json::Value>,
    ) {
        if fields.is_empty() {
            self.odd.remove(&(kind, id.to_string()));
        } else {
            self.odd.insert((kind, id.to_string()), fields);
        }
    }

    /// A record's JSON as served, odd fields included.
    pub fn render<T: Serialize>(&self, kind: RecordKind, id: &str, item: &T) -> serde_json::Value {
        let mut v = serde_json::to_value(item).unwrap_or(serde_json::Value::Null);
        if let (Some(fields), Some(o)) = (self.odd.get(&(kind, id.to_string())), v.as_object_mut()) {
            for (k, field) in fields {
                if field.is_null() {
                    o.remove(k);
                } else {
                    o.insert(k.clone(), field.clone());
                }
            }
        }
        v
    }

    /// A new 20-character id.
    pub fn new_id(&mut self) -> String {
        seed::ghl_id(&mut self.rng)
    }

    // ---- contacts ----

    /// One contact, as it is now (not as the search index shows it).
    pub fn contact(&self, id: &str) -> Option<&Contact> {
        self.contacts.get(id).map(Arc::as_ref)
    }

    /// Number of contacts.
    pub fn contact_count(&self) -> usize {
        self.contacts.len()
    }

    /// Contacts by `(dateAdded, id)` ascending.
    pub fn contacts_in_order(&self) -> impl DoubleEndedIterator<Item = &Contact> {
        self.by_added.iter().filter_map(|(_, id)| self.contact(id))
    }

    /// The search index, brought up to `now_ms`: what `POST /contacts/search` sees.
    pub fn search_view(&self, now_ms: i64) -> MutexGuard<'_, SearchIndex> {
        let mut idx = self.search_index();
        idx.refresh(now_ms);
        idx
    }

    fn search_index(&self) -> MutexGuard<'_, SearchIndex> {
        self.search.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Inserts (or replaces) a contact written at `now_ms`.
    pub fn insert_contact(&mut self, c: Contact, now_ms: i64) {
        if let Some(old) = self.contacts.get(&c.id) {
            let a = key_of(&old.date_added, &old.id);
            self.by_added.remove(&a);
        }
        self.by_added.insert(key_of(&c.date_added, &c.id));
        let c = Arc::new(c);
        self.search_index().upsert(c.clone(), now_ms);
        self.contacts.insert(c.id.clone(), c);
    }

    /// Applies `f` to a contact and sets its `dateUpdated` to `now_ms`. Returns the new contact.
    pub fn update_contact(&mut self, id: &str, now_ms: i64, f: impl FnOnce(&mut Contact)) -> Option<Contact> {
        let shared = self.contacts.get_mut(id)?;
        let old_ms = ms_from_iso(&shared.date_updated).unwrap_or(0);
        let c = Arc::make_mut(shared);
        f(c);
        c.refresh_derived();
        // dateUpdated only moves forward, even if the clock was anchored in the past.
        let new_ms = now_ms.max(old_ms + 1);
        c.date_updated = iso_from_ms(new_ms);
        let c = c.clone();
        let indexed = self.contacts.get(id).cloned();
        if let Some(indexed) = indexed {
            self.search_index().upsert(indexed, now_ms);
        }
        // Keep the embedded contact summary of its opportunities current.
        let summary = OpportunityContact::of(&c);
        for o in self.opportunities.values_mut() {
            if o.contact_id == c.id {
                o.contact = Some(summary.clone());
            }
        }
        Some(c)
    }

    /// Deletes a contact (at `now_ms`) with its notes, tasks, opportunities, conversation and
    /// messages.
    pub fn delete_contact(&mut self, id: &str, now_ms: i64) -> Option<Contact> {
        let c = Arc::unwrap_or_clone(self.contacts.remove(id)?);
        self.by_added.remove(&key_of(&c.date_added, &c.id));
        self.search_index().delete(id, now_ms);
        self.notes.remove(id);
        self.tasks.remove(id);
        let opp_ids: Vec<String> =
            self.opportunities.values().filter(|o| o.contact_id == id).map(|o| o.id.clone()).collect();
        for o in opp_ids {
            self.delete_opportunity(&o);
        }
        if let Some(conv) = self.conv_by_contact.remove(id) {
            self.conversations.remove(&conv);
            for (ms, mid) in self.msg_by_conv.remove(&conv).unwrap_or_default() {
                self.msg_seq.remove(&mid);
                if let Some(m) = self.messages.remove(&mid)
                    && let Some(n) = self.channel_counts.get_mut(m.channel())
                {
                    *n = n.saturating_sub(1);
                }
                self.msg_by_added.remove(&(ms, mid));
            }
        }
        Some(c)
    }

    // ---- opportunities ----

    /// One opportunity.
    pub fn opportunity(&self, id: &str) -> Option<&Opportunity> {
        self.opportunities.get(id)
    }

    /// Opportunities by `(createdAt, id)` ascending.
    pub fn opportunities_in_order(&self) -> impl DoubleEndedIterator<Item = &Opportunity> {
        self.opp_by_created.iter().filter_map(|(_, id)| self.opportunities.get(id))
    }

    /// The `(createdAt, id)` index.
    pub fn opportunity_index(&self) -> &BTreeSet<Key> {
        &self.opp_by_created
    }

    /// Number of opportunities.
    pub fn opportunity_count(&self) -> usize {
        self.opportunities.len()
    }

    /// Inserts (or replaces) an opportunity.
    pub fn insert_opportunity(&mut self, o: Opportunity) {
        if let Some(old) = self.opportunities.get(&o.id) {
            self.opp_by_created.remove(&key_of(&old.created_at, &old.id));
        }
        self.opp_by_created.insert(key_of(&o.created_at, &o.id));
        self.opportunities.insert(o.id.clone(), o);
    }

    /// Applies `f` to an opportunity and bumps `updatedAt`. Returns the new opportunity.
    pub fn update_opportunity(
        &mut self,
        id: &str,
        now_ms: i64,
        f: impl FnOnce(&mut Opportunity),
    ) -> Option<Opportunity> {
        let o = self.opportunities.get_mut(id)?;
        f(o);
        let now = iso_from_ms(now_ms);
        o.updated_at = now.clone();
        o.last_action_date = Some(now);
        Some(o.clone())
    }

    /// Deletes an opportunity.
    pub fn delete_opportunity(&mut self, id: &str) -> Option<Opportunity> {
        let o = self.opportunities.remove(id)?;
        self.opp_by_created.remove(&key_of(&o.created_at, &o.id));
        Some(o)
    }

    // ---- conversations and messages ----

    /// One conversation.
    pub fn conversation(&self, id: &str) -> Option<&Conversation> {
        self.conversations.get(id)
    }

    /// All conversations (unordered).
    pub fn conversations(&self) -> impl Iterator<Item = &Conversation> {
        self.conversations.values()
    }

    /// The conversation of a contact.
    pub fn conversation_of(&self, contact_id: &str) -> Option<&Conversation> {
        self.conv_by_contact.get(contact_id).and_then(|id| self.conversations.get(id))
    }

    /// The contact's conversation id, creating the conversation if it has none.
    pub fn ensure_conversation(&mut self, contact_id: &str, now_ms: i64) -> Option<String> {
        if let Some(id) = self.conv_by_contact.get(contact_id) {
            return Some(id.clone());
        }
        let c = Arc::clone(self.contacts.get(contact_id)?);
        let id = self.new_id();
        self.conversations.insert(
            id.clone(),
            Conversation {
                id: id.clone(),
                contact_id: contact_id.into(),
                location_id: c.location_id.clone(),
                last_message_body: String::new(),
                last_message_type: String::new(),
                last_message_direction: None,
                last_message_date: now_ms,
                kind: "TYPE_PHONE".into(),
                unread_count: 0,
                full_name: c.display_name(),
                contact_name: c.display_name(),
                email: c.email.clone(),
                phone: c.phone.clone(),
                date_added: now_ms,
                date_updated: now_ms,
                inbox: true,
                starred: false,
                deleted: false,
                assigned_to: c.assigned_to.clone(),
            },
        );
        self.conv_by_contact.insert(contact_id.into(), id.clone());
        Some(id)
    }

    fn index_message(&mut self, m: Message) {
        let key = key_of(&m.date_added, &m.id);
        self.msg_by_added.insert(key.clone());
        self.msg_by_conv.entry(m.conversation_id.clone()).or_default().insert(key);
        *self.channel_counts.entry(m.channel()).or_default() += 1;
        self.next_msg_seq += 1;
        self.msg_seq.insert(m.id.clone(), self.next_msg_seq);
        self.messages.insert(m.id.clone(), m);
    }

    /// Messages on one export channel (`SMS`, `Email`, `Call`, ... or `Other`).
    pub fn message_count_on(&self, channel: &str) -> usize {
        self.channel_counts.get(channel).copied().unwrap_or(0)
    }

    /// Adds a new message and updates its conversation (last message, unread count) and the
    /// contact's `lastActivity`. The contact changes, so its `dateUpdated` moves and the write
    /// reaches search after its lag, like any other.
    pub fn add_message(&mut self, m: Message) {
        let ms = ms_from_iso(&m.date_added).unwrap_or(0);
        if let Some(conv) = self.conversations.get_mut(&m.conversation_id) {
            conv.last_message_body = m.body.clone().unwrap_or_default();
            conv.last_message_type = m.message_type.clone();
            conv.last_message_direction = Some(m.direction.clone());
            conv.last_message_date = ms;
            conv.date_updated = ms;
            if m.direction == "inbound" {
                conv.unread_count += 1;
            } else {
                conv.unread_count = 0;
            }
        }
        let at = m.date_added.clone();
        self.update_contact(&m.contact_id.clone(), ms, |c| c.last_activity = Some(at));
        self.index_message(m);
    }

    /// One message.
    pub fn message(&self, id: &str) -> Option<&Message> {
        self.messages.get(id)
    }

    /// The insertion number of a message: later messages have larger ones.
    pub fn message_seq(&self, id: &str) -> Option<u64> {
        self.msg_seq.get(id).copied()
    }

    /// The insertion number of the newest message (0 when there is none).
    pub fn newest_message_seq(&self) -> u64 {
        self.next_msg_seq
    }

    /// Number of messages.
    pub fn message_count(&self) -> usize {
        self.messages.len()
    }

    /// Messages by `(dateAdded, id)` ascending.
    pub fn messages_in_order(&self) -> impl DoubleEndedIterator<Item = &Message> {
        self.msg_by_added.iter().filter_map(|(_, id)| self.messages.get(id))
    }

    /// The location-wide `(dateAdded, id)` message index.
    pub fn message_index(&self) -> &BTreeSet<Key> {
        &self.msg_by_added
    }

    /// The `(dateAdded, id)` index of one conversation's messages.
    pub fn conversation_message_index(&self, conversation_id: &str) -> Option<&BTreeSet<Key>> {
        self.msg_by_conv.get(conversation_id)
    }

    // ---- notes and tasks ----

    /// A contact's notes.
    pub fn notes(&self, contact_id: &str) -> &[Note] {
        self.notes.get(contact_id).map_or(&[], Vec::as_slice)
    }

    /// A contact's notes, mutable.
    pub fn notes_mut(&mut self, contact_id: &str) -> &mut Vec<Note> {
        self.notes.entry(contact_id.to_string()).or_default()
    }

    /// A contact's tasks.
    pub fn tasks(&self, contact_id: &str) -> &[Task] {
        self.tasks.get(contact_id).map_or(&[], Vec::as_slice)
    }

    /// A contact's tasks, mutable.
    pub fn tasks_mut(&mut self, contact_id: &str) -> &mut Vec<Task> {
        self.tasks.entry(contact_id.to_string()).or_default()
    }

    /// All contacts (unordered), for scans.
    pub fn all_contacts(&self) -> impl Iterator<Item = &Contact> {
        self.contacts.values().map(Arc::as_ref)
    }

    /// All opportunities (unordered), for scans.
    pub fn all_opportunities(&self) -> impl Iterator<Item = &Opportunity> {
        self.opportunities.values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::{SeedConfig, generate};

    fn store() -> Store {
        Store::from_dataset(generate(&SeedConfig { contacts: 120, ..SeedConfig::default() }), 1, 0)
    }

    #[test]
    fn round_trips_the_dataset() {
        let ds = generate(&SeedConfig { contacts: 120, ..SeedConfig::default() });
        let s = Store::from_dataset(ds.clone(), 1, 0);
        let back = s.dataset();
        assert_eq!(back.contacts.len(), ds.contacts.len());
        assert_eq!(back.messages.len(), ds.messages.len());
        assert_eq!(s.counts().opportunities, ds.opportunities.len());
    }

    #[test]
    fn update_moves_the_updated_index() {
        let mut s = store();
        let id = s.contacts_in_order().next().map(|c| c.id.clone()).expect("a contact");
        let far = 4_000_000_000_000;
        let c = s.update_contact(&id, far, |c| c.first_name = Some("Zed".into())).expect("exists");
        assert_eq!(c.name.as_deref().map(|n| n.starts_with("Zed")), Some(true));
        let idx = s.search_view(far);
        let last = idx.by(ContactSort::DateUpdated).iter().next_back().cloned();
        assert_eq!(last, Some((far, id.clone())));
        assert_eq!(idx.by(ContactSort::DateUpdated).len(), s.contact_count());
    }

    #[test]
    fn delete_cascades() {
        let mut s = store();
        let conv = s.conversations().next().cloned().expect("a conversation");
        let before = s.message_count();
        let n = s.conversation_message_index(&conv.id).map_or(0, BTreeSet::len);
        assert!(n > 0);
        s.delete_contact(&conv.contact_id, 0).expect("exists");
        assert_eq!(s.message_count(), before - n);
        assert_eq!(s.message_index().len(), s.message_count());
        assert!(s.conversation_of(&conv.contact_id).is_none());
    }
}
