//! Key encodings. Numbers are big-endian so that byte order is numeric order; timestamps are
//! shifted so that negative values sort before positive ones. Ids are GHL ids (no NUL bytes),
//! and a NUL separates an id from what follows it.

use jiff::Timestamp;
use leadline_shared::domain::{LeadSummary, Temperature};

use super::Tree;

/// The sortable 8 bytes of a timestamp in milliseconds.
pub fn ts(t: Timestamp) -> [u8; 8] {
    ms(t.as_millisecond())
}

/// The sortable 8 bytes of a signed millisecond count.
pub fn ms(ms: i64) -> [u8; 8] {
    ((ms as u64) ^ (1 << 63)).to_be_bytes()
}

/// `a` then `b`.
pub fn join(parts: &[&[u8]]) -> Vec<u8> {
    let mut key = Vec::with_capacity(parts.iter().map(|p| p.len()).sum());
    for part in parts {
        key.extend_from_slice(part);
    }
    key
}

/// The id at the end of an index key whose fixed-size prefix is `fixed` bytes long.
pub fn id_after(key: &[u8], fixed: usize) -> Option<&str> {
    key.get(fixed..).and_then(|rest| std::str::from_utf8(rest).ok())
}

/// The prefix of every key of one contact in a per-contact index.
pub fn contact_prefix(contact_id: &str) -> Vec<u8> {
    join(&[contact_id.as_bytes(), &[0]])
}

/// A message's key in [`Tree::MessagesByContact`]: contact, NUL, time, message id.
pub fn message_by_contact(contact_id: &str, at: Option<Timestamp>, message_id: &str) -> Vec<u8> {
    let at = at.map(ts).unwrap_or_else(|| ms(i64::MIN));
    join(&[contact_id.as_bytes(), &[0], &at, message_id.as_bytes()])
}

/// An opportunity's key in [`Tree::IdxOpportunitiesByContact`]: contact, NUL, opportunity id.
pub fn opportunity_by_contact(contact_id: &str, opportunity_id: &str) -> Vec<u8> {
    join(&[contact_id.as_bytes(), &[0], opportunity_id.as_bytes()])
}

/// A note's or task's key in its per-contact index: contact, NUL, record id.
pub fn record_by_contact(contact_id: &str, id: &str) -> Vec<u8> {
    join(&[contact_id.as_bytes(), &[0], id.as_bytes()])
}

/// An open task's key in [`Tree::IdxOpenTasks`]: due time (none sorts last), task id.
pub fn open_task(due: Option<Timestamp>, task_id: &str) -> Vec<u8> {
    let due = due.map(ts).unwrap_or_else(|| ms(i64::MAX));
    join(&[&due, task_id.as_bytes()])
}

/// A stage change's key in [`Tree::StageChanges`]: contact, NUL, time, opportunity id.
pub fn stage_change(contact_id: &str, at: Timestamp, opportunity_id: &str) -> Vec<u8> {
    join(&[contact_id.as_bytes(), &[0], &ts(at), opportunity_id.as_bytes()])
}

/// The fixed-size prefix length of the priority-ordered lead index keys below.
pub const SCORE_FIXED: usize = 10;
/// The fixed-size prefix length of the time-ordered lead index keys.
pub const TIME_FIXED: usize = 8;

/// The entries a lead has in the time-ordered index trees, as `(tree, key)`. Whether a lead is
/// in one, and where, is decided here and nowhere else; the store diffs old against new entries
/// on each write. Its place in the queue orders is [`queue_place`].
pub fn lead_index_entries(lead: &LeadSummary) -> Vec<(Tree, Vec<u8>)> {
    let id = lead.id.as_bytes();
    let mut entries = Vec::new();
    if let Some(due) = lead.next_followup_at {
        entries.push((Tree::IdxDue, join(&[&ts(due), id])));
    }
    if let Some(since) = lead.awaiting_reply_since {
        entries.push((Tree::IdxAwaiting, join(&[&ts(since), id])));
    }
    if lead.first_outbound_at.is_none() {
        let added = lead.date_added.map(ts).unwrap_or_else(|| ms(i64::MIN));
        entries.push((Tree::IdxUncontacted, join(&[&added, id])));
    }
    entries
}

/// A lead's key in the score order, the queues' (`hot`, `all`): highest priority first (the
/// row's stored priority, engine::priority), then best score, then most recent activity, then
/// id. Its first [`SCORE_FIXED`] bytes are stored in the lead's [`queue_place`].
pub fn queue_key(lead: &LeadSummary) -> Vec<u8> {
    let activity = lead.last_activity.or(lead.date_added).map(ts).unwrap_or_else(|| ms(i64::MIN));
    let recency = (!u64::from_be_bytes(activity)).to_be_bytes();
    let rank = [u8::MAX - lead.priority, u8::MAX - lead.score];
    join(&[&rank, &recency, lead.id.as_bytes()])
}

/// The fixed-size prefix length of a recovery key ([`recovery`]).
pub const RECOVERY_FIXED: usize = 8;

/// The sortable 8 bytes of a lead's value at risk once dormant: most dollars first.
pub fn recovery_rank(lead: &LeadSummary) -> [u8; 8] {
    let dollars = if lead.value_at_risk.is_finite() { lead.value_at_risk.max(0.0).round() as u64 } else { 0 };
    (u64::MAX - dollars).to_be_bytes()
}

/// A lead's key in the recovery order (`dormant`): most value at risk first, then id. It is
/// not a tree of its own: the score entry's value carries its first 8 bytes.
pub fn recovery(lead: &LeadSummary) -> Vec<u8> {
    join(&[&recovery_rank(lead), lead.id.as_bytes()])
}

/// What places a lead in the queue orders besides its [`queue_key`] (hot, quiet since when,
/// and its place in the recovery order), so that they are built from [`Tree::QueuePlaces`]
/// alone, never from the records. One byte (the temperature, `ACTIVE` set when there
/// is a last activity), the last activity's 8 bytes, then [`recovery_rank`]'s 8.
pub fn score_value(lead: &LeadSummary) -> [u8; SCORE_VALUE] {
    let mut value = [0; SCORE_VALUE];
    value[0] = match lead.temperature {
        Temperature::Cold => 0,
        Temperature::Warm => 1,
        Temperature::Hot => 2,
    };
    if let Some(at) = lead.last_activity {
        value[0] |= ACTIVE;
        value[1..9].copy_from_slice(&ts(at));
    }
    value[9..].copy_from_slice(&recovery_rank(lead));
    value
}

/// The length of a [`score_value`].
pub const SCORE_VALUE: usize = 17;

/// The length of a [`queue_place`].
pub const QUEUE_PLACE: usize = SCORE_FIXED + SCORE_VALUE;

/// A lead's entry in [`Tree::QueuePlaces`], stored under its id: [`queue_key`]'s first
/// [`SCORE_FIXED`] bytes (the key is those and the id), then [`score_value`].
pub fn queue_place(lead: &LeadSummary) -> [u8; QUEUE_PLACE] {
    let mut place = [0; QUEUE_PLACE];
    place[..SCORE_FIXED].copy_from_slice(&queue_key(lead)[..SCORE_FIXED]);
    place[SCORE_FIXED..].copy_from_slice(&score_value(lead));
    place
}

/// The [`queue_key`] and [`score_value`] of the lead whose id is `id` and whose
/// [`queue_place`] is `place`; `None` for a place of another length.
pub fn read_queue_place<'a>(id: &[u8], place: &'a [u8]) -> Option<(Vec<u8>, &'a [u8])> {
    if place.len() != QUEUE_PLACE {
        return None;
    }
    let (fixed, value) = place.split_at(SCORE_FIXED);
    Some((join(&[fixed, id]), value))
}

/// The lead id and [`queue_place`] of an entry of schema 8's score index, whose key was the
/// [`queue_key`] and whose value the [`score_value`]; `None` for an entry of another shape.
pub fn place_of_score_entry<'a>(key: &'a [u8], value: &[u8]) -> Option<(&'a [u8], [u8; QUEUE_PLACE])> {
    let (fixed, id) = key.split_at_checked(SCORE_FIXED)?;
    if id.is_empty() || value.len() != SCORE_VALUE {
        return None;
    }
    let mut place = [0; QUEUE_PLACE];
    place[..SCORE_FIXED].copy_from_slice(fixed);
    place[SCORE_FIXED..].copy_from_slice(value);
    Some((id, place))
}

/// The flag of [`score_value`]'s first byte for "has a last activity".
const ACTIVE: u8 = 0x80;

/// What a [`score_value`] says: hot or not, the last activity's sortable bytes, and the
/// recovery rank; `None` for a value in no known shape (a store not migrated yet).
pub fn read_score_value(value: &[u8]) -> Option<(bool, Option<[u8; 8]>, [u8; 8])> {
    let (&flags, rest) = value.split_first()?;
    let hot = flags & !ACTIVE == 2;
    if rest.len() != SCORE_VALUE - 1 {
        return None;
    }
    let at = <[u8; 8]>::try_from(&rest[..8]).ok()?;
    let rank = <[u8; 8]>::try_from(&rest[8..]).ok()?;
    Some((hot, (flags & ACTIVE != 0).then_some(at), rank))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn ms_order_is_numeric_order(a in any::<i64>(), b in any::<i64>()) {
            prop_assert_eq!(a.cmp(&b), ms(a).cmp(&ms(b)));
        }

        #[test]
        fn score_index_orders_by_priority_then_score(a in 0u8..=100, b in 0u8..=100, pa in 0u8..=100, pb in 0u8..=100) {
            let lead = |id: &str, score, priority| LeadSummary { id: id.into(), score, priority, ..Default::default() };
            let ka = &queue_key(&lead("a", a, pa));
            let kb = &queue_key(&lead("b", b, pb));
            if pa > pb || (pa == pb && a > b) { prop_assert!(ka < kb); }
        }
    }

    #[test]
    fn a_score_value_says_hot_and_since_when() {
        let mut lead = LeadSummary { id: "c1".into(), temperature: Temperature::Hot, ..Default::default() };
        let nothing = (u64::MAX).to_be_bytes();
        assert_eq!(read_score_value(&score_value(&lead)), Some((true, None, nothing)));
        lead.temperature = Temperature::Warm;
        lead.last_activity = Some(Timestamp::UNIX_EPOCH);
        lead.value_at_risk = 1234.4;
        let rank = (u64::MAX - 1234).to_be_bytes();
        assert_eq!(
            read_score_value(&score_value(&lead)),
            Some((false, Some(ts(Timestamp::UNIX_EPOCH)), rank))
        );
        assert_eq!(recovery(&lead)[..8], rank);
        assert_eq!(read_score_value(&[]), None, "schema 4 kept no value");
        assert_eq!(read_score_value(&[0; 9]), None, "schema 5 and 6 kept no recovery rank");
    }

    #[test]
    fn membership_follows_the_lead() {
        let mut lead = LeadSummary { id: "c1".into(), ..Default::default() };
        let trees = |l: &LeadSummary| lead_index_entries(l).into_iter().map(|(t, _)| t).collect::<Vec<_>>();
        assert_eq!(trees(&lead), [Tree::IdxUncontacted]);
        lead.first_outbound_at = Some(Timestamp::UNIX_EPOCH);
        lead.awaiting_reply_since = Some(Timestamp::UNIX_EPOCH);
        lead.next_followup_at = Some(Timestamp::UNIX_EPOCH);
        assert_eq!(trees(&lead), [Tree::IdxDue, Tree::IdxAwaiting]);
        assert_eq!(id_after(&lead_index_entries(&lead)[0].1, TIME_FIXED), Some("c1"));
        assert_eq!(id_after(&queue_key(&lead), SCORE_FIXED), Some("c1"));
    }

    proptest! {
        /// A lead's stored place gives back its key in the score order and its score value.
        #[test]
        fn a_queue_place_gives_back_the_key_and_value(id in "[a-zA-Z0-9]{1,24}", score in 0u8..=100, priority in 0u8..=100, at in proptest::option::of(0i64..4_000_000_000), risk in 0.0f64..1e9) {
            let lead = LeadSummary {
                id,
                score,
                priority,
                temperature: Temperature::Warm,
                last_activity: at.and_then(|s| Timestamp::from_second(s).ok()),
                value_at_risk: risk,
                ..Default::default()
            };
            let place = queue_place(&lead);
            let (key, value) = read_queue_place(lead.id.as_bytes(), &place).expect("its own length");
            prop_assert_eq!(key, queue_key(&lead));
            prop_assert_eq!(value, &score_value(&lead)[..]);
            prop_assert_eq!(read_queue_place(lead.id.as_bytes(), &place[1..]), None);
            let old_key = queue_key(&lead);
            let (old_id, old_place) = place_of_score_entry(&old_key, &score_value(&lead)).expect("an entry");
            prop_assert_eq!((old_id, old_place), (lead.id.as_bytes(), place));
            prop_assert_eq!(place_of_score_entry(&old_key[..SCORE_FIXED], &score_value(&lead)), None);
            prop_assert_eq!(place_of_score_entry(&old_key, &score_value(&lead)[1..]), None);
        }
    }
}
