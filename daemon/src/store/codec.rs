//! Record encoding: one version byte, then the record as JSON.
//!
//! The version byte lets a later Leadline change the encoding record by record; a record
//! with an unknown version is reported, never guessed at.

use serde::Serialize;
use serde::de::DeserializeOwned;

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

#[cfg(test)]
mod tests {
    use super::*;
    use leadline_shared::domain::Contact;

    #[test]
    fn round_trips_and_rejects_unknown_versions() {
        let c = Contact { id: "x".into(), tags: vec!["a".into()], ..Default::default() };
        let bytes = encode(&c).expect("encodes");
        assert_eq!(decode::<Contact>(Tree::Contacts, &bytes).expect("decodes"), c);
        let mut newer = bytes.clone();
        newer[0] = 9;
        let err = decode::<Contact>(Tree::Contacts, &newer).expect_err("unknown version");
        assert!(err.to_string().contains("v9"));
        assert!(decode::<Contact>(Tree::Contacts, &[]).is_err());
        assert!(decode::<Contact>(Tree::Contacts, &[RECORD_V1, b'{']).is_err());
    }
}
