//! Record encoding: one version byte, then the record as JSON; a lead's record holds four
//! sections, each encoded as [`super::sections`] says.
//!
//! The version byte lets a later Leadline change the encoding record by record; a record
//! with an unknown version is reported, never guessed at.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::sections::SectionValue;
use super::{StoreError, Tree};

/// The encoding written today.
pub const RECORD_V1: u8 = 1;

/// Encodes a record.
pub fn encode<T: Serialize>(record: &T) -> Result<Vec<u8>, StoreError> {
    let mut out = Vec::with_capacity(256);
    out.push(RECORD_V1);
    serde_json::to_writer(&mut out, record)
        .map_err(|e| StoreError::Backend(format!("cannot encode a record: {e}")))?;
    Ok(out)
}

/// Decodes a record read from `tree`.
pub fn decode<T: DeserializeOwned>(tree: Tree, bytes: &[u8]) -> Result<T, StoreError> {
    match bytes.split_first() {
        Some((&RECORD_V1, body)) => serde_json::from_slice(body)
            .map_err(|e| StoreError::Corrupt { tree: tree.name(), reason: e.to_string() }),
        Some((version, _)) => Err(StoreError::Corrupt {
            tree: tree.name(),
            reason: format!("record encoding v{version} is newer than this Leadline understands"),
        }),
        None => Err(StoreError::Corrupt { tree: tree.name(), reason: "empty record".into() }),
    }
}

/// The encoding of a lead's one record ([`Tree::Leads`]) before schema 8: its GHL contact,
/// its score and its row, each a JSON section behind its own length, so reading the row (every
/// queue does) never parses the contact. Still read: such a record has no scoring inputs.
pub const RECORD_LEAD_3: u8 = 2;

/// The encoding written today: [`RECORD_LEAD_3`]'s sections, then the lead's scoring inputs
/// (`ingest::inputs`, binary), each behind its own length. Since schema 10 the row and the score
/// sections are binary too ([`super::sections`]).
pub const RECORD_LEAD: u8 = 3;

/// How many sections a record of today's encoding holds.
const SECTIONS: usize = 4;

/// The sections of a lead record, as bytes ([`super::sections`]), indexed by [`Section`];
/// `None` is an absent section.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LeadRecord([Option<Vec<u8>>; SECTIONS]);

/// Which section of a [`LeadRecord`], in their order on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Contact = 0,
    Score = 1,
    Row = 2,
    /// What scoring reads of the lead, so that a full rescore reads no contact, message or deal.
    Inputs = 3,
}

impl LeadRecord {
    /// Parses a stored record.
    pub fn decode(bytes: &[u8]) -> Result<LeadRecord, StoreError> {
        Ok(LeadRecord(sections(bytes)?.map(|part| part.map(<[u8]>::to_vec))))
    }

    /// The stored bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out =
            Vec::with_capacity(1 + self.0.iter().map(|p| 4 + p.as_ref().map_or(0, Vec::len)).sum::<usize>());
        out.push(RECORD_LEAD);
        for part in &self.0 {
            let body = part.as_deref().unwrap_or_default();
            // No section is ever empty (a JSON value, the inputs' version byte), so length 0 is
            // free to mean "absent".
            out.extend_from_slice(&(body.len() as u32).to_be_bytes());
            out.extend_from_slice(body);
        }
        out
    }

    /// A section's JSON bytes.
    pub fn get(&self, section: Section) -> Option<&[u8]> {
        self.0[section as usize].as_deref()
    }

    /// Replaces a section; returns whether that changed the record.
    pub fn set(&mut self, section: Section, body: Option<Vec<u8>>) -> bool {
        let slot = &mut self.0[section as usize];
        let changed = *slot != body;
        *slot = body;
        changed
    }

    /// Decodes one section.
    pub fn section<T: SectionValue>(&self, section: Section) -> Result<Option<T>, StoreError> {
        self.get(section).map(T::from_section).transpose()
    }

    /// True when no section is left.
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(Option::is_none)
    }
}

/// Whether a stored lead record has a section, without decoding it.
pub fn has_section(bytes: &[u8], section: Section) -> Result<bool, StoreError> {
    Ok(sections(bytes)?[section as usize].is_some())
}

/// Decodes one section of a stored lead record without copying the others.
pub fn decode_section<T: SectionValue>(bytes: &[u8], section: Section) -> Result<Option<T>, StoreError> {
    sections(bytes)?[section as usize].map(T::from_section).transpose()
}

/// One section's bytes of a stored lead record, without copying them.
pub fn section_bytes(bytes: &[u8], section: Section) -> Result<Option<&[u8]>, StoreError> {
    Ok(sections(bytes)?[section as usize])
}

fn sections(bytes: &[u8]) -> Result<[Option<&[u8]>; SECTIONS], StoreError> {
    let corrupt = |reason: String| StoreError::Corrupt { tree: Tree::Leads.name(), reason };
    let (count, mut rest) = match bytes.split_first() {
        Some((&RECORD_LEAD, rest)) => (SECTIONS, rest),
        Some((&RECORD_LEAD_3, rest)) => (3, rest),
        Some((version, _)) => {
            return Err(corrupt(format!(
                "lead record encoding v{version} is not one this Leadline understands"
            )));
        }
        None => return Err(corrupt("empty record".into())),
    };
    let mut out = [None; SECTIONS];
    for slot in &mut out[..count] {
        let (len, tail) =
            rest.split_first_chunk::<4>().ok_or_else(|| corrupt("truncated lead record".into()))?;
        let len = u32::from_be_bytes(*len) as usize;
        let (body, tail) =
            tail.split_at_checked(len).ok_or_else(|| corrupt("truncated lead record".into()))?;
        *slot = (len > 0).then_some(body);
        rest = tail;
    }
    if !rest.is_empty() {
        return Err(corrupt("trailing bytes after a lead record".into()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use leadline_shared::domain::{Contact, LeadSummary};

    #[test]
    fn round_trips_and_rejects_unknown_versions() {
        let c = Contact { id: "x".into(), tags: vec!["a".into()], ..Default::default() };
        let bytes = encode(&c).expect("encodes");
        assert_eq!(decode::<Contact>(Tree::Users, &bytes).expect("decodes"), c);
        let mut newer = bytes.clone();
        newer[0] = 9;
        let err = decode::<Contact>(Tree::Users, &newer).expect_err("unknown version");
        assert!(err.to_string().contains("v9"));
        assert!(decode::<Contact>(Tree::Users, &[]).is_err());
        assert!(decode::<Contact>(Tree::Users, &[RECORD_V1, b'{']).is_err());
    }

    proptest::proptest! {
        #[test]
        fn lead_records_round_trip(
            contact in proptest::option::of(proptest::collection::vec(proptest::num::u8::ANY, 1..40)),
            score in proptest::option::of(proptest::collection::vec(proptest::num::u8::ANY, 1..40)),
            row in proptest::option::of(proptest::collection::vec(proptest::num::u8::ANY, 1..40)),
            inputs in proptest::option::of(proptest::collection::vec(proptest::num::u8::ANY, 1..40)),
        ) {
            let record = LeadRecord([contact, score, row, inputs]);
            proptest::prop_assert_eq!(LeadRecord::decode(&record.encode()).expect("decodes"), record);
        }

        /// Garbage is an error, never a panic.
        #[test]
        fn lead_records_reject_garbage(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
            let _ = LeadRecord::decode(&bytes);
            let _ = decode_section::<LeadSummary>(&bytes, Section::Row);
        }
    }

    #[test]
    fn a_lead_record_reads_one_section() {
        let c = Contact { id: "c".into(), ..Default::default() };
        let record = LeadRecord([Some(c.to_section().expect("json")), None, Some(b"{".to_vec()), None]);
        let bytes = record.encode();
        assert_eq!(decode_section::<Contact>(&bytes, Section::Contact).expect("contact"), Some(c));
        assert_eq!(decode_section::<Contact>(&bytes, Section::Score).expect("absent"), None);
        assert!(decode_section::<LeadSummary>(&bytes, Section::Row).is_err(), "a broken row is reported");
        assert!(LeadRecord::decode(&bytes[..bytes.len() - 1]).is_err(), "truncated");
        assert!(LeadRecord::decode(&[RECORD_V1]).is_err(), "not a lead record");
    }

    #[test]
    fn a_record_from_before_the_inputs_reads_without_them() {
        let c = Contact { id: "c".into(), ..Default::default() };
        let contact = c.to_section().expect("json");
        // Schema 7's encoding: three sections.
        let mut old = vec![RECORD_LEAD_3];
        for body in [&contact[..], b"", b"{}"] {
            old.extend_from_slice(&(body.len() as u32).to_be_bytes());
            old.extend_from_slice(body);
        }
        let record = LeadRecord::decode(&old).expect("an older record reads");
        assert_eq!(record.get(Section::Contact), Some(&contact[..]));
        assert_eq!(record.get(Section::Row), Some(&b"{}"[..]));
        assert_eq!(record.get(Section::Inputs), None);
        // Written again, it takes today's encoding, with room for the inputs.
        let again = record.encode();
        assert_eq!(again[0], RECORD_LEAD);
        assert_eq!(LeadRecord::decode(&again).expect("decodes"), record);
        let mut truncated = old.clone();
        truncated.pop();
        assert!(LeadRecord::decode(&truncated).is_err());
    }
}
